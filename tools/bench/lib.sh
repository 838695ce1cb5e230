# SPDX-License-Identifier: GPL-2.0
#
# What the benchmarks share; sourced after selftests/lib.sh (and, for those
# that move a pod, the vif selftests' lib.sh: pod_create), with $dir the
# benchmark's directory on the nodes' shared one where it has one.

now() { date +%s.%N; }
# elapsed T0 T1: seconds between two now()s.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# median: of the numbers on standard input, separated by spaces.
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ratio A B: A / B to two places; n/a without A or with B 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# warm HOG FILE "SIZES" NODE...: each NODE's memory touched once, as much as
# the largest of SIZES (MiB) twice over (memhog HOG's own and FILE's, then
# removed).  The guest's memory is the host's only once first touched (qemu's
# faults, which no perf in the guest sees): done before anything is timed,
# so that whatever runs first does not pay for it alone.
warm() {
	local hog=$1 file=$2 max n
	max=$(echo "$3" | tr ' ' '\n' | sort -n | tail -1)
	shift 3
	for n in "$@"; do
		on "$n" "$hog write $max $file > /dev/null; rm -f $file" || return 1
	done
}
# criu_log NODE dump|restore: the end of that CRIU log of $dir/criu.
criu_log() { on "$1" "tail -3 $dir/criu/$2.log" 2>&1 | sed 's/^/    /'; }

# criu_move PID: CRIU moves process PID of node a's pod to a pod made again
# on node b: dump --tcp-established into $dir/criu, the pod deleted, restore
# there, the address announced by hand.  Says what failed on stderr.
criu_move() {
	on a "nsenter --net=/run/netns/pod criu dump -t $1 --tcp-established -j \
		-D $dir/criu -o dump.log && ip netns del pod" ||
		{ echo "  criu dump failed:" >&2; criu_log a dump >&2; }
	pod_create b
	on b "nsenter --net=/run/netns/pod criu restore --tcp-established -j -d \
		-D $dir/criu -o restore.log && ip netns exec pod crak vif announce pod0 > /dev/null" ||
		{ echo "  criu restore failed:" >&2; criu_log b restore >&2; }
}
