#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: every benchmark under tools/bench/, each in a lab of its own.
# Results are printed and kept in build/bench/.  Usage: tools/bench.sh [-k KERNEL]
cd "$(dirname "$0")/.." || exit 1
kernel=6.12
[ "${1:-}" = -k ] && kernel=$2
make -s all KVER="$kernel" > /dev/null || exit 1
rc=0
for b in tools/bench/*.sh; do
	[ "$b" = tools/bench/lib.sh ] && continue	# what they share
	echo "== $b"
	# A benchmark may want another lab: "# bench-lab: --nodes a --memory 4096".
	read -r -a opts < <(sed -n 's/^# bench-lab: //p' "$b" | head -1)
	tools/lab/lab with -k "$kernel" "${opts[@]}" -- "$b" || rc=1
done
exit $rc
