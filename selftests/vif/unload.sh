#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# crak_vif unloads whatever state its devices are in: frozen as a whole with
# frames held and imported, with frozen flows holding frames, flowing in
# another namespace.  The devices go, their frames are freed (kmemleak finds
# nothing on the debug kernel), the lower device is free again for another
# stacked device, and the module loads again as new.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/vif-unload
mkdir -p "$dir"
p4=$(ip4 peer)
pod_create a
pod_create_in a podf 02:c0:00:00:01:03 192.0.2.103 2001:db8::103
pod_create_in a podx 02:c0:00:00:01:04 192.0.2.104 2001:db8::104

in_pod a crak vif freeze pod0
send_frames peer --dst $POD_IP4 --dmac "$POD_MAC" --src "$p4" --proto udp \
	--sport 44000 --dport 7000 --count 50
until_held a 50
in_pod a crak vif export pod0 -o "$dir/held.pcap" > /dev/null
in_pod a crak vif import pod0 -i "$dir/held.pcap" > /dev/null
on a ip netns exec podf crak vif freeze podf0 flow udp 192.0.2.103:7000 0.0.0.0:0
send_frames peer --dst 192.0.2.103 --dmac 02:c0:00:00:01:03 --src "$p4" --proto udp \
	--sport 44001 --dport 7000 --count 30
until_held a 30 podf podf0
[ "$(vif_field a held_packets)" -ge 100 ] || fail "pod0 holds $(vif_field a held_packets), not 100"
[ "$(on a ip netns exec podf crak -j vif show podf0 | /usr/bin/python3 -c \
	'import json,sys; print(json.load(sys.stdin)[0]["held_packets"])')" = 30 ] ||
	fail "podf0 does not hold its 30 frames"

on a rmmod crak_vif || fail "crak_vif does not unload"
for ns in pod podf podx; do
	on a "! ip -n $ns link show ${ns}0 2> /dev/null" || fail "${ns}0 outlived the module"
done
kmemleak_check a
pass "unloads with frozen devices holding frames; the devices go, nothing leaks"

on a "ip link add link eth0 name mv0 type macvlan && ip link del mv0" ||
	fail "the lower device is still taken after the unload"
on a "modprobe crak_vif && ip link add link eth0 name v0 type crakvif && crak vif freeze v0 &&
	crak vif thaw v0 && ip link del v0" || fail "crak_vif does not work after a reload"
pass "the lower device is free again, and the module reloads as new"
rm -rf "$dir"
