#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# A UDP socket moves with the datagrams queued for it, none lost, repeated
# or reordered.  A bound socket in a pod on node a has datagrams from the
# peer waiting unread; it is dumped (the pod frozen, so what the peer sends
# meanwhile is held), its pod moves to node b with the held frames, and a
# new process there reads every datagram in order: first those the socket
# had, then those held.  A thaw calls a dump off: the socket's owner reads
# its datagrams back.  A connected IPv6 socket moves on the same node.  A
# kernel's own UDP socket is no process's: its tuple finds nothing.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/sockmig-udp
rm -rf "$dir"
mkdir -p "$dir"

# hold NAME ARGS: a UDP holder in the pod on a; sets hpid.
hold() {
	local name=$1
	shift
	rm -f "$dir/$name.ready"
	holder=$(on_bg a "ip netns exec pod $UDP hold $* $dir/$name.ready")
	wait_file "$dir/$name.ready" 30 || fail "the UDP holder did not start: $(wait_job "$holder" 2>&1)"
	hpid=$(cat "$dir/$name.ready")
}
# fd_of PID: the holder's socket descriptor.
fd_of() { on a "ls -l /proc/$1/fd | awk '/socket:/ { print \$9; exit }'"; }

pod_create a

# Moved to b with its queue and what the peer sent meanwhile.
hold bound "$POD_IP4 7350"
udp_send $POD_IP4 7350 1 20 || fail "the peer cannot send"
sleep 1
in_pod a crak vif freeze pod0 || fail "vif freeze on a failed"
out=$(in_pod a crak sock dump --pid "$hpid" --fd "$(fd_of "$hpid")" -o "$dir/udp.img") ||
	fail "dump of the bound UDP socket failed: $out"
echo "  $out"
udp_send $POD_IP4 7350 21 30
# (What is exported is all b gets.)
until_held a 10
in_pod a crak vif export pod0 -o "$dir/held.pcap" drop > /dev/null || fail "export failed"
on a kill "$hpid"
wait_job "$holder" > /dev/null 2>&1
on a ip netns del pod
pod_create_frozen b
in_pod b crak vif import pod0 -i "$dir/held.pcap" > /dev/null || fail "import on b failed"
sink=$(on_bg b "ip netns exec pod crak sock restore $dir/udp.img --fd 3 -- $UDP sink-fd 3 1 30")
# (A datagram thawed before the socket is back would find the port closed.)
wait_bound b udp 7350
in_pod b crak vif thaw pod0 > /dev/null || fail "vif thaw on b failed"
out=$(wait_job "$sink") || fail "the datagrams did not all arrive in order on b: $out"
echo "  $out"
pass "a bound UDP socket moved from a to b: 20 queued and 10 held datagrams, in order"
on b ip netns del pod

# A thaw calls the dump off: the datagrams go back to their socket.
pod_create a
hold thaw "$POD_IP4 7351 --expect 10"
udp_send $POD_IP4 7351 1 10
sleep 1
fd=$(fd_of "$hpid")
out=$(in_pod a crak sock dump --pid "$hpid" --fd "$fd" -o "$dir/thaw.img") || fail "dump failed: $out"
echo "$out" | grep -q "recvq 0" || fail "the dump left datagrams in the socket: $out"
in_pod a crak sock thaw --pid "$hpid" --fd "$fd" > /dev/null || fail "thaw failed"
on a kill -USR1 "$hpid"
out=$(wait_job "$holder") || fail "the owner did not read its datagrams back: $out"
pass "a thaw calls a UDP dump off: the owner reads its datagrams, in order"

# A connected IPv6 socket, restored where it was dumped.
hold conn "$POD_IP6 7352 --connect [$(ip6 peer)]:7353"
udp_send $POD_IP6 7352 1 15 --bind "[$(ip6 peer)]:7353"
# (What is still on its way when the holder ends finds the port closed.)
sleep $WAIT_SCALE
udp6_in() { in_pod a awk "'/^Udp6(InDatagrams|InErrors|RcvbufErrors)/ { printf \"%s \", \$0 }'" /proc/net/snmp6; }
before=$(udp6_in)
out=$(in_pod a crak sock dump --pid "$hpid" --fd "$(fd_of "$hpid")" -o "$dir/conn.img") ||
	fail "dump of the connected IPv6 socket failed: $out"
on a kill "$hpid"
wait_job "$holder" > /dev/null 2>&1
sink=$(on_bg a "ip netns exec pod crak sock restore $dir/conn.img --fd 3 -- $UDP sink-fd 3 1 20")
# (Connected: not among ss -l's.)
until_on a 90 ss -N pod -Huan "'sport = :7352'" > /dev/null ||
	fail "the restored socket is not bound: $(wait_job "$sink" 2>&1 | tail -3)"
udp_send $POD_IP6 7352 16 20 --bind "[$(ip6 peer)]:7353"
out=$(wait_job "$sink") ||
	fail "the connected socket lost datagrams: $out (the pod's counters before the dump: $before)"
echo "$out" | grep -q "from $(ip6 peer)" || fail "the datagrams' source is wrong: $out"
pass "a connected IPv6 UDP socket restored: its queue and what came after, from its peer"

# A kernel's own UDP socket (a VXLAN device's, in a namespace) is no
# process's: a tuple does not find it (it holds no reference on its
# namespace, which could go while crak_sockmig tracked it).  Where the
# kernel has VXLAN: the debug kernel has none.
if on a "ip netns add vx && ip -n vx link add vx0 type vxlan id 42 dstport 4789 &&
	ip -n vx link set vx0 up" 2> /dev/null; then
	out=$(on a "crak sock freeze --tuple udp 192.0.2.1:4789 192.0.2.3:1 --netns vx" 2>&1) &&
		fail "a VXLAN device's socket was frozen: $out"
	grep -q "no such UDP socket" <<< "$out" ||
		fail "freezing a VXLAN device's socket did not say there is none: $out"
	on a "ip netns del vx"
	pass "a kernel's own UDP socket (VXLAN's) is not found by its tuple"
else
	on a "ip netns del vx" 2> /dev/null
	echo "# no VXLAN in this kernel: a kernel's UDP socket not tried"
fi
rm -rf "$dir"
