#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=240
#
# Freezing one connection stalls it, its peer told to wait, and thawing it
# resumes it with nothing lost or repeated.  A peer converses with a server
# in a pod on node a.  While the server's connection is frozen the peer
# keeps sending (its segments are held on the pod's crakvif), the pod sends
# nothing but a zero window, at the freeze and again every pause_refresh_ms
# (1 s here, after a first pause that ended with it at 30 s), the
# conversation stalls and the peer counts no retransmission timeout; after
# the thaw it completes every round, byte-exact, and no SYN or RST ever
# crossed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/sockmig-freeze
mkdir -p "$dir"
pod_create a
server=$(conv_server a 7300) || exit 1
client=$(conv_client 20 7300 "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 5
read -r pid fd <<< "$(server_sock a 7300)"
[ -n "$fd" ] || fail "no established server socket in the pod"

# A pause that ended leaves the refresher set for pause_refresh_ms as it
# was then (30 s): the next pause goes by the value of its own time.
out=$(in_pod a crak sock freeze --pid "$pid" --fd "$fd") &&
	out=$(in_pod a crak sock thaw --pid "$pid" --fd "$fd") || fail "a first freeze and thaw failed: $out"
refresh=/sys/module/crak_sockmig/parameters/pause_refresh_ms
on a "echo 1000 > $refresh" || fail "cannot set pause_refresh_ms"
wire=$(capture_start peer eth0 "tcp port 7300 and (src $POD_IP4 or tcp[tcpflags] & (tcp-syn|tcp-rst) != 0)" \
	"$dir/wire.pcap")
rto=$(peer_timeouts)
out=$(in_pod a crak sock freeze --pid "$pid" --fd "$fd") || fail "freeze failed: $out"
echo "$out" | sed 's/^/  /'
echo "$out" | grep -q "held on pod0" || fail "freeze did not hold the flow on pod0"
before=$(rounds "$dir/progress")
sleep 3
after=$(rounds "$dir/progress")
[ "$after" -le $((before + 1)) ] || fail "the conversation went on while frozen ($before -> $after)"
rto=$(($(peer_timeouts) - rto))
# Quiet again, or the capture never ends.
on a "echo 30000 > $refresh"
capture_stop "$wire" "$dir/wire.pcap"
# What left the pod from the first zero window on: zero windows only.
tcpdump -nr "$dir/wire.pcap" 2> /dev/null > "$dir/wire.txt"
read -r zero other < <(awk '/Flags \[\.\], ack [0-9]+, win 0, .*length 0$/ { z++; next }
	z { o++ } END { print z + 0, o + 0 }' "$dir/wire.txt")
echo "  the peer saw $zero zero windows, $other other segments after them," \
	"and counted $rto retransmission timeouts"
[ "$other" = 0 ] || fail "the frozen connection put $other segments on the wire: $(cat "$dir/wire.txt")"
[ "$zero" -ge 2 ] || fail "the peer was not told to wait, then again ($zero zero windows)"
[ "$rto" = 0 ] || fail "the peer timed out $rto times"
pass "a frozen connection stalls and sends nothing but a zero window, again each second"

wire=$(capture_start peer eth0 "tcp port 7300 and $WIRE_FILTER" "$dir/wire.pcap")
out=$(in_pod a crak sock thaw --pid "$pid" --fd "$fd") || fail "thaw failed: $out"
conv_end "$dir/progress" "$client" > /dev/null || fail "the conversation broke after the thaw"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
wait_job "$server" || fail "the server failed"
[ "$(in_pod a crak -j sock show)" = "[]" ] || fail "the module still tracks a socket after the thaw"
pass "after the thaw every round completes, byte-exact, without SYN or RST"
rm -rf "$dir"
