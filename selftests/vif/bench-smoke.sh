#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: kernels=6.12 timeout=300
#
# The vif benchmark (make bench) works: a short run measures every
# configuration (bare, macvlan, crakvif, crak_vif unloaded) and prints its
# ratios.  It judges no number: timing belongs to make bench.
source "$(dirname "$0")/../lib.sh"

out=$(mktemp -d)
BENCH_SECONDS=1 BENCH_REPS=1 BENCH_OUT=$out "$CRAK_SRC/tools/bench/vif.sh" ||
	fail "the benchmark failed"
for kind in bare macvlan crakvif unloaded; do
	awk -v k="$kind" '$1 == k && $2 > 0 && $3 > 0 { found = 1 } END { exit !found }' \
		"$out/vif-$LAB_KERNEL.txt" || fail "no measurement for $kind"
done
grep -q "crakvif / macvlan throughput: [0-9]" "$out/vif-$LAB_KERNEL.txt" || fail "no ratio"
rm -rf "$out"
pass "the benchmark measures every configuration"
