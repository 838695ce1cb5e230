#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# Freezing one flow holds that flow and nothing else.  A frozen UDP flow's
# datagrams are held while another flow to the same pod is delivered at once;
# a flow with a wildcard remote end holds every sender to its port; IPv6 too.
# Of two TCP connections to one server, the frozen one stalls, silently,
# while the other talks on; thawed, it carries on with no byte lost and no
# reset.  crak vif show lists the frozen flows.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

pod_create a
p4=$(ip4 peer)
p6=$(ip6 peer)

# sink PORT ADDR COUNT: a UDP receiver in the pod, started and listening.
sink() {
	local h
	h=$(on_bg a "ip netns exec pod $PY $VIF_DIR/udp_sink.py \
		--bind [$2]:$1 --count $3 --idle 300")
	wait_bound a udp "$1"
	echo "$h"
}
udp() { # udp DST SRC SPORT DPORT COUNT
	send_frames peer --dst "$1" --dmac "$POD_MAC" --src "$2" --proto udp \
		--sport "$3" --dport "$4" --count "$5"
}

held=$(sink 7001 $POD_IP4 100)
free=$(sink 7002 $POD_IP4 100)
in_pod a crak vif freeze pod0 flow udp $POD_IP4:7001 $p4:41001 || fail "cannot freeze a flow"
in_pod a crak vif show pod0 | grep -q "flow udp $POD_IP4:7001 $p4:41001" ||
	fail "crak vif show does not list the frozen flow"
udp $POD_IP4 "$p4" 41001 7001 100
udp $POD_IP4 "$p4" 41002 7002 100
wait_job "$free" || fail "a flowing flow did not get through while another was frozen"
[ "$(vif_field a held_packets)" = 100 ] || fail "$(vif_field a held_packets) held, not 100"
pass "a frozen UDP flow is held while another flow gets through"
out=$(in_pod a crak vif thaw pod0 flow udp $POD_IP4:7001 $p4:41001) || fail "cannot thaw the flow"
echo "$out" | grep -q "100 delivered" || fail "thaw said: $out"
wait_job "$held" || fail "the thawed flow lost datagrams or their order"
pass "thawing the flow delivers its 100 datagrams in order"

# A wildcard remote: every sender to the port.
held=$(sink 7003 $POD_IP4 60)
in_pod a crak vif freeze pod0 flow udp $POD_IP4:7003 0.0.0.0:0
udp $POD_IP4 "$p4" 41003 7003 30
send_frames peer --dst $POD_IP4 --dmac "$POD_MAC" --src "$p4" --proto udp \
	--sport 41004 --dport 7003 --first 30 --count 30
until_held a 60
[ "$(vif_field a held_packets)" = 60 ] || fail "the wildcard flow held $(vif_field a held_packets)"
in_pod a crak vif thaw pod0 flow udp $POD_IP4:7003 0.0.0.0:0 > /dev/null
wait_job "$held" || fail "the wildcard flow lost datagrams or their order"
pass "a flow with any remote end holds every sender to its port"

# IPv6.
held=$(sink 7004 $POD_IP6 50)
free=$(sink 7005 $POD_IP6 50)
in_pod a crak vif freeze pod0 flow udp "[$POD_IP6]:7004" "[$p6]:41005"
udp $POD_IP6 "$p6" 41005 7004 50
udp $POD_IP6 "$p6" 41006 7005 50
wait_job "$free" || fail "IPv6: a flowing flow did not get through"
[ "$(vif_field a held_packets)" = 50 ] || fail "IPv6: $(vif_field a held_packets) held, not 50"
in_pod a crak vif thaw pod0 flow udp "[$POD_IP6]:7004" "[$p6]:41005" > /dev/null
wait_job "$held" || fail "IPv6: the thawed flow lost datagrams or their order"
pass "IPv6 flows are held and thawed alike"

# Two TCP connections; one frozen for 3 s mid-conversation.
on_bg a "ip netns exec pod $PY $VIF_DIR/tcp_echo.py server $POD_IP4:7100" > /dev/null
wait_bound a tcp 7100
dir=$LAB_DIR/shared/vif-flow
mkdir -p "$dir"
wire=$(capture_start peer eth0 "tcp and host $POD_IP4" "$dir/wire.pcap")
# (Both talk on until told, once the frozen one is thawed: a busy guest
# may take seconds to freeze it, and both must still be talking then.)
rm -f "$dir/slow.go"
slow=$(on_bg peer "$PY $VIF_DIR/tcp_echo.py client $POD_IP4:7100 --sport 45001 \
	--count 20 --interval 0.1 --until $dir/slow.go")
busy=$(on_bg peer "$PY $VIF_DIR/tcp_echo.py client $POD_IP4:7100 --sport 45002 \
	--count 20 --interval 0.1 --until $dir/slow.go")
# Mid-conversation: once both talk (python starts slowly on a busy guest).
until_on peer 60 "ss -Htn state established '( sport = :45001 or sport = :45002 )' |
	sed -n 2p" > /dev/null
sleep 1
in_pod a crak vif freeze pod0 flow tcp $POD_IP4:7100 $p4:45001 || fail "cannot freeze a TCP flow"
sleep 3
in_pod a crak vif thaw pod0 flow tcp $POD_IP4:7100 $p4:45001 > /dev/null || fail "cannot thaw"
touch "$dir/slow.go"
out=$(wait_job "$busy") || fail "the other connection suffered: $out"
echo "  other connection: $out"
out=$(wait_job "$slow") || fail "the frozen connection broke: $out"
echo "  frozen connection: $out"
echo "$out" | awk '{ exit !($(NF - 1) + 0 >= 2.5) }' || fail "the frozen connection never stalled: $out"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap" rst) || fail "resets on the wire: $out"
pass "a frozen TCP connection stalls while another talks on, and resumes with no reset"
rm -rf "$dir"
