#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# A server's connection moves to another node mid-conversation, and its peer
# sees nothing but a pause.  The peer converses with a server in a pod on
# node a.  On a: the connection is frozen first (the peer is told to wait,
# and from then on counts no retransmission timeout), then the pod's crakvif
# as a whole; the connection is dumped, the held frames exported, the server killed (its socket closes without a word) and
# the pod deleted.  On b: the pod reappears frozen, the frames are imported,
# the connection is restored into a new server process, and the thaw
# announces the address and delivers what the peer had sent meanwhile.  The
# conversation completes byte-exact; the peer's capture shows no SYN and no
# RST, and the zero window that told it to wait; its TCP counters, no
# retransmission timeout.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/sockmig-migrate
mkdir -p "$dir"
pod_create a
server=$(conv_server a 7301) || exit 1
client=$(conv_client 20 7301 "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 5
read -r pid fd <<< "$(server_sock a 7301)"
[ -n "$fd" ] || fail "no established server socket in the pod"
# SYNs, FINs and resets, and zero windows.
wire=$(capture_start peer eth0 "tcp port 7301 and ($WIRE_FILTER or $ZERO_WINDOW)" "$dir/wire.pcap")

rto=$(peer_timeouts)
t0=$(date +%s.%N)
in_pod a crak sock freeze --pid "$pid" --fd "$fd" > /dev/null || fail "sock freeze on a failed"
in_pod a crak vif freeze pod0 || fail "vif freeze on a failed"
out=$(in_pod a crak sock dump --pid "$pid" --fd "$fd" -o "$dir/conn.img") || fail "dump failed: $out"
echo "$out" | sed 's/^/  /'
out=$(in_pod a crak vif export pod0 -o "$dir/held.pcap" drop) || fail "export failed: $out"
id=$(in_pod a crak -j sock show | /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)[0]['id'])") ||
	fail "a does not show the dumped socket"
in_pod a crak sock drop --id "$id" > /dev/null || fail "drop on a failed"
t_drop=$(date +%s.%N)
refresh=$(on a cat /sys/module/crak_sockmig/parameters/pause_refresh_ms)
on a kill "$pid"
wait_job "$server" > /dev/null 2>&1
on a ip netns del pod

pod_create_frozen b
in_pod b crak vif import pod0 -i "$dir/held.pcap" > /dev/null || fail "import on b failed"
server=$(on_bg b "ip netns exec pod crak sock restore $dir/conn.img --fd 3 -- $CONV serve-fd 3")
wait_established b 7301 || fail "no restored connection on b: $(wait_job "$server" 2>&1)"
in_pod b crak vif thaw pod0 > /dev/null || fail "vif thaw on b failed"
t1=$(date +%s.%N)
out=$(conv_end "$dir/progress" "$client") || fail "the conversation broke: $out"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
told_wait="src $POD_IP4 and $ZERO_WINDOW"
zero=$(tcpdump -nr "$dir/wire.pcap" "$told_wait" 2> /dev/null | wc -l)
[ "$zero" -ge 1 ] || fail "the peer was not told to wait (no zero window)"
# Told once, and again each pause_refresh_ms it stayed frozen in place (a
# slow guest: the debug kernel): the dump after the freeze has nothing new
# to say.
frozen=$(echo "$t_drop - $t0" | bc)
told=$(echo "1 + $frozen * 1000 / $refresh" | bc)
[ "$zero" -le "$told" ] ||
	fail "the peer was told to wait $zero times in $frozen s frozen in place (at most $told;" \
		"frozen at $t0, dropped at $t_drop, thawed on b at $t1 by the host's clock):" \
		"$(tcpdump -nettr "$dir/wire.pcap" "$told_wait" 2> /dev/null)"
rto=$(($(peer_timeouts) - rto))
printf '  moved in %.1f s; the peer counted %s retransmission timeouts\n' "$(echo "$t1 - $t0" | bc)" "$rto"
[ "$rto" = 0 ] || fail "the peer timed out $rto times: it was not told to wait"
pass "the connection moved from a to b: every round byte-exact, no SYN, no RST"
rm -rf "$dir"
