#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: kernels=6.12,6.1
#
# A module built on the host against the guest's kernel loads (by name, as
# modprobe and autoloading find it) and unloads on every node.
source "$(dirname "$0")/../lib.sh"

for n in $LAB_NODES; do
	on "$n" modprobe crak_lab_hello || fail "$n cannot load crak_lab_hello"
	on "$n" test -d /sys/module/crak_lab_hello || fail "$n: module not listed"
	on "$n" "dmesg | grep -q 'crak_lab_hello: loaded into $LAB_KREL'" ||
		fail "$n: module did not run its init"
	on "$n" modprobe -r crak_lab_hello || fail "$n cannot unload crak_lab_hello"
	on "$n" test ! -d /sys/module/crak_lab_hello || fail "$n: module still there"
	on "$n" "dmesg | grep -q 'crak_lab_hello: unloaded'" || fail "$n: module exit did not run"
	pass "$n loads and unloads a module built for $LAB_KREL"
done
