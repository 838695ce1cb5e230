#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: kernels=6.12,6.1
#
# A pod on a crakvif is a host on the segment with its own MAC and
# addresses: the other nodes and their pods reach it over IPv4 and IPv6 and
# it reaches them; two pods on one lower device reach each other directly;
# and ip -s counts exactly the frames the device received and sent.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

pod_create a
pod_create_in b podb 02:c0:00:00:01:01 192.0.2.101 2001:db8::101
pod_create_in a podc 02:c0:00:00:01:02 192.0.2.102 2001:db8::102

# ping_ok NODE[:NETNS] ADDR
ping_ok() {
	local node=${1%%:*} ns=${1#*:} to=$2 prefix=""
	[ "$ns" != "$1" ] && prefix="ip netns exec $ns"
	on "$node" "$prefix ping -q -c 2 -i 0.2 -W 3 $to > /dev/null" ||
		fail "no answer from $to to $1"
}
for addr in $POD_IP4 $POD_IP6; do
	ping_ok peer "$addr"
	ping_ok b "$addr"
done
ping_ok a:pod "$(ip4 peer)"
ping_ok a:pod "$(ip6 peer)"
ping_ok a:pod 192.0.2.101
ping_ok a:pod 2001:db8::101
pass "nodes and pods reach the pod, and it reaches them, over IPv4 and IPv6"

ping_ok a:pod 192.0.2.102
ping_ok a:podc 2001:db8::100
pass "two pods on one lower device reach each other"

# Counters: ip -s counts exactly the frames a capture of the device saw
# between two readings.  The segment may multicast at any time (neighbour
# probes, other pods), so each reading is bracketed by the guest's clock, the
# clock the capture stamps frames with; a frame stamped while a reading ran
# could be on either side of it: then measure again.
dir=$LAB_DIR/shared/vif-ping
mkdir -p "$dir"
cat > "$dir/counters.py" <<'PY'
import json, subprocess, time
t0 = time.time()
out = subprocess.run(["ip", "-s", "-j", "link", "show", "pod0"], check=True,
                     capture_output=True).stdout
t1 = time.time()
s = json.loads(out)[0]["stats64"]
print(t0, t1, s["rx"]["packets"], s["rx"]["bytes"], s["tx"]["packets"], s["tx"]["bytes"])
PY
counters() { in_pod a $PY "$dir/counters.py"; }
# captured FILE T0 T1 T2 T3: frames in and out of the capture between the
# readings [T0, T1] and [T2, T3] with their bytes, then how many of them
# were the pod and the peer talking; "ambiguous" if one came during a reading.
captured() {
	/usr/bin/python3 -c "
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap
t0, t1, t2, t3 = $2, $3, $4, $5
n = [0, 0, 0, 0, 0]
pair = {'$POD_MAC', '$(mac peer)'}
for f in rdpcap('$1'):
    t = float(f.time)
    if t0 <= t <= t1 or t2 <= t <= t3:
        print('ambiguous', f.summary().replace(' ', '_'), 0, 0, 0); raise SystemExit
    if not t1 < t < t2:
        continue
    out = f[Ether].src == '$POD_MAC'
    n[2 * out] += 1
    n[2 * out + 1] += f.wirelen  # (the capture keeps a frame's first 2 KiB)
    n[4] += {f[Ether].src, f[Ether].dst} == pair
print(*n)"
}
in_pod a "ip neigh replace $(ip4 peer) lladdr $(mac peer) dev pod0 nud permanent"
for attempt in 1 2 3 4 5; do
	cap=$(capture_start a pod:pod0 "" "$dir/pod0.pcap")
	read -r t0 t1 rx0 rxb0 tx0 txb0 < <(counters)
	send_frames peer --dst "$POD_IP4" --dmac "$POD_MAC" --src "$(ip4 peer)" --proto udp \
		--sport 41000 --dport 9 --count 100
	in_pod a $PY -c "'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50):
    s.sendto(b\"crak %08d\" % i, (\"$(ip4 peer)\", 9))
'"
	sleep 1
	read -r t2 t3 rx1 rxb1 tx1 txb1 < <(counters)
	sleep 0.5
	capture_stop "$cap" "$dir/pod0.pcap"
	read -r in inb out outb pair < <(captured "$dir/pod0.pcap" "$t0" "$t1" "$t2" "$t3")
	[ "$in" != ambiguous ] && break
	echo "  (a frame came while the counters were read: $inb; again)"
done
[ "$in" != ambiguous ] || fail "frames kept coming while the counters were read"
[ "$pair" -ge 150 ] || fail "the capture saw $pair frames between the pod and the peer, not 150"
[ $((rx1 - rx0)) = "$in" ] || fail "rx counts $((rx1 - rx0)) frames, not $in"
[ $((rxb1 - rxb0)) = "$inb" ] || fail "rx counts $((rxb1 - rxb0)) bytes, not $inb"
[ $((tx1 - tx0)) = "$out" ] || fail "tx counts $((tx1 - tx0)) frames, not $out"
[ $((txb1 - txb0)) = "$outb" ] || fail "tx counts $((txb1 - txb0)) bytes, not $outb"
pass "ip -s counts exactly what was received ($in, $inb bytes) and sent ($out, $outb bytes)"
rm -rf "$dir"
