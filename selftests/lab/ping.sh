#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: kernels=6.12,6.1
#
# All nodes share one L2 segment and reach each other over IPv4 and IPv6,
# with documentation-range addresses only.
source "$(dirname "$0")/../lib.sh"

for n in $LAB_NODES; do
	for addr in $(on "$n" ip -o addr show dev eth0 scope global | awk '{ print $4 }'); do
		case "$addr" in
		192.0.2.*|198.51.100.*|203.0.113.*|2001:db8:*) ;;
		*) fail "node $n has address $addr, outside the documentation ranges" ;;
		esac
	done
	for m in $LAB_NODES; do
		[ "$n" = "$m" ] && continue
		on "$n" ping -q -c 2 -i 0.2 -W 3 "$(ip4 "$m")" > /dev/null ||
			fail "$n cannot reach $m over IPv4"
		on "$n" ping -q -c 2 -i 0.2 -W 3 "$(ip6 "$m")" > /dev/null ||
			fail "$n cannot reach $m over IPv6"
	done
	pass "$n reaches every other node over IPv4 and IPv6"
done

# One segment: a node's MAC is what its neighbours resolved.
on a "ip neigh show $(ip4 peer)" | grep -qi "$(mac peer)" ||
	fail "a did not resolve peer's MAC on the shared segment"
pass "neighbours resolve on the shared segment"
