#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A TCP conversation across a freeze.  A server lives in a pod on node a,
# behind a crakvif with a stable address; a client on node peer sends it a
# line every 100 ms and waits for the echo, like someone typing into a
# telnet session.  For 3 seconds the pod is frozen: its inbound packets are
# held, not dropped, and nothing answers.  Then it thaws.
source "$(dirname "$0")/lib.sh"

demo_dir demo
pod_create a
on_bg a "ip netns exec pod $PY $VIF_DIR/tcp_echo.py server $POD_IP4:7100" > /dev/null
wait_bound a tcp 7100
say "server: pod on node a, $POD_IP4 on crakvif pod0; client: node peer, $(ip4 peer)"
wire=$(capture_start peer eth0 "tcp and host $POD_IP4" "$dir/wire.pcap")
on peer "nstat -n" > /dev/null
client=$(on_bg peer "$PY $VIF_DIR/tcp_echo.py client $POD_IP4:7100 --sport 45001 \
	--count 70 --interval 0.1")
say "client: one line every 100 ms, each echoed before the next"
sleep 2
in_pod a crak vif freeze pod0
say "freeze pod0: its inbound packets are held from now on"
sleep 3
say "held after 3 s:"
in_pod a crak vif show pod0 | sed 's/^/          /'
in_pod a crak vif export pod0 -o "$dir/held.pcap" > /dev/null
tcpdump -nr "$dir/held.pcap" 2> /dev/null | cut -c1-110 | sed 's/^/          /' | head -8
echo "          ..."
say "thaw pod0: $(in_pod a crak vif thaw pod0 | sed 's/^pod0: thawed, //')"
out=$(wait_job "$client")
rc=$?
capture_stop "$wire" "$dir/wire.pcap"
rst=$(tcpdump -nr "$dir/wire.pcap" 'tcp[tcpflags] & tcp-rst != 0' 2> /dev/null | wc -l)
timeouts=$(on peer "nstat -z TcpExtTCPTimeouts" | awk '/TcpExtTCPTimeouts/ { print $2 }')
say "client: $out; resets on the wire: $rst; retransmission timeouts at the client: $timeouts"
if [ $rc = 0 ] && [ "$rst" = 0 ]; then
	echo "Every byte arrived, in order, with no reset: the client saw only a pause."
else
	echo "The conversation did not survive the freeze."
	exit 1
fi
rm -rf "$dir"
