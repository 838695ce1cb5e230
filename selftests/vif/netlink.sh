#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=600
#
# The crak_vif netlink API refuses what it cannot do, says why, and changes
# nothing.  A request that names no device, names it twice, names an unknown
# one or one that is not a crakvif; an attribute of the wrong type, size or
# range, an unknown attribute or command, a malformed flow or frame; or a
# request wrong for the device's state (freeze twice, thaw what is not
# frozen, import into a device not frozen whole or past its limits) fails
# with its own errno and an extack message that points at the attribute when
# there is one, and leaves the device exactly as it was: frozen or not, its
# flows, limits, counters and held frames.  Without CAP_NET_ADMIN over the
# device's network namespace (root of a user namespace) every operation but
# GET fails with EPERM and changes nothing, and the events cannot be heard.
#
# The checks are the kselftest program netlink.c, built by make into
# $CRAK_BUILD/selftests/vif/netlink; it runs on its own too, as root where
# crak_vif.ko is loadable: build/selftests/vif/netlink [-r FIXTURE.TEST].
source "$(dirname "$0")/../lib.sh"

prog=$CRAK_BUILD/selftests/vif/netlink
[ -x "$prog" ] || fail "$prog is missing: run make"

log=$(mktemp)
on a "$prog" | tee "$log"
rc=${PIPESTATUS[0]}
# The harness counts skipped tests as passed; the runner wants to know.
if [ "$rc" = 0 ] && grep -q '^# Totals: pass:0 fail:0 .*skip:[1-9]' "$log"; then
	rc=$ksft_skip
fi
rm -f "$log"
exit "$rc"
