#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A crakvif is an ordinary link for ip(8): "ip link add ... type crakvif"
# loads the module by itself; ip -d link shows its kind, its freeze state and
# limits (with the iproute2 plugin the build makes), in text and JSON; limits
# are set at creation or later; it moves into a network namespace keeping its
# state; it goes away with its lower device (in the same request too) or its
# namespace; and a bad
# request is refused with a message saying why, leaving nothing behind.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

# refused NODE MESSAGE CMD: CMD fails on NODE and says MESSAGE.
refused() {
	local node=$1 msg=$2 out
	shift 2
	out=$(on "$node" "$*" 2>&1) && fail "accepted: $*"
	echo "$out" | grep -qF "$msg" || fail "'$*' said '$out', not '$msg'"
}

# The module loads itself when ip asks for the kind.
on a "modprobe -r crak_vif && ! test -d /sys/module/crak_vif" || fail "cannot unload crak_vif"
on a "ip link add link eth0 name v0 type crakvif limit-packets 77" ||
	fail "ip link add type crakvif did not load the module"
on a test -d /sys/module/crak_vif || fail "crak_vif not loaded"
pass "ip link add ... type crakvif loads crak_vif"

out=$(on a ip -d link show v0)
echo "$out" | grep -q "crakvif flowing flows 0 held 0 packets 0 bytes limit-packets 77" ||
	fail "ip -d link does not show the kind and state: $out"
on a "ip link set v0 type crakvif limit-bytes 123456 && crak vif freeze v0"
info=$(on a ip -d -j link show v0 | /usr/bin/python3 -c '
import json, sys
i = json.load(sys.stdin)[0]["linkinfo"]
d = i["info_data"]
print(i["info_kind"], d["frozen"], d["limit_packets"], d["limit_bytes"])')
[ "$info" = "crakvif True 77 123456" ] || fail "ip -d -j link shows '$info'"
pass "ip -d link shows kind, freeze state and limits (text and JSON)"

# Into a namespace, with its state.
on a "ip netns add pod && ip link set v0 netns pod" || fail "cannot move v0 to a namespace"
[ "$(in_pod a crak -j vif show v0 | /usr/bin/python3 -c \
	'import json,sys; v=json.load(sys.stdin)[0]; print(v["frozen"], v["limit_packets"])')" \
	= "True 77" ] || fail "v0 lost its state moving to the namespace"
[ -z "$(on a crak vif show)" ] || fail "v0 still visible in the initial namespace"
on a "ip -n pod link set v0 up && ip -n pod addr add $POD_IP4/24 dev v0" ||
	fail "v0 cannot be configured in its namespace"
pass "moves into a namespace, frozen and with its limits"

# Gone with its namespace: its MAC is free again on the lower device.
mac=$(on a "ip -n pod -br link show v0" | awk '{ print $3 }')
on a ip netns del pod
for _ in $(seq 50); do
	on a "ip link add link eth0 name v1 address $mac type crakvif" 2> /dev/null && break
	sleep 0.2
done
on a ip link show v1 > /dev/null || fail "the device outlived its namespace"
on a ip link del v1
pass "goes away with its namespace"

# Gone with its lower device, even from another namespace.
on a "ip link add vl0 type veth peer name vl1 && ip netns add pod2 &&
	ip link add link vl0 name v2 type crakvif && ip link add link vl0 name v3 type crakvif &&
	ip link set v3 netns pod2 && crak vif freeze v2 && ip link del vl0" ||
	fail "cannot set up the lower-device test"
on a "! ip link show v2 2> /dev/null && ! ip -n pod2 link show v3 2> /dev/null" ||
	fail "crakvif devices outlived their lower device"
pass "goes away with its lower device, in every namespace"

# Deleted with its lower device in one request (ip link del group: the
# lower comes first in the batch): each goes once, without a kernel BUG.
on a "ip link add vg0 type veth peer name vg1 && ip link add link vg0 name v5 type crakvif &&
	ip link set vg0 group 7 && ip link set v5 group 7 && crak vif freeze v5 &&
	ip link del group 7" || fail "cannot delete a crakvif and its lower device together"
on a "! ip link show v5 2> /dev/null && ! ip link show vg0 2> /dev/null" ||
	fail "a crakvif or its lower device outlived their deletion together"
pass "goes away in the same request as its lower device"

# Refused, with a reason, leaving nothing.
on a "ip link add br0 type bridge && ip link add vb0 type veth peer name vb1 &&
	ip link set vb0 master br0 && ip link add link eth0 name v4 type crakvif"
refused a "needs a lower device" "ip link add name x0 type crakvif"
refused a "not an Ethernet device" "ip link add link lo name x0 type crakvif"
refused a "cannot sit on another crakvif" "ip link add link v4 name x0 type crakvif"
refused a "taken by a bridge" "ip link add link vb0 name x0 type crakvif"
mac=$(on a "ip -br link show v4" | awk '{ print $3 }')
refused a "address already used" "ip link add link eth0 name x0 address $mac type crakvif"
refused a "address already used" "ip link add link eth0 name x0 address $(mac a) type crakvif"
refused a "not a unicast MAC" "ip link add link eth0 name x0 address 01:00:5e:00:00:01 type crakvif"
refused a "MTU above the lower" "ip link add link eth0 name x0 mtu 9000 type crakvif"
refused a "out of range" "ip link add link eth0 name x0 type crakvif limit-packets 0"
on a "! ip link show x0 2> /dev/null" || fail "a refused device was left behind"
refused a "Address already in use" "ip link set v4 address $(mac a)"
pass "bad requests are refused with their reason and leave nothing behind"
