#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# crakvif's cost on the data path, measured in the lab (run by `make bench`,
# or in a lab: lab with -- tools/bench/vif.sh).  A server on node a, the
# client on node peer; iperf3 TCP throughput (one stream) and ping round
# trips, through:
#   bare      node a's eth0 itself
#   macvlan   a macvlan (bridge mode) on eth0, in a namespace
#   crakvif   a crakvif on eth0, in a namespace, nothing frozen
#   unloaded  eth0 with crak_vif not loaded, next to "bare" (loaded, idle)
# Configurations alternate, BENCH_REPS (5) rounds of BENCH_SECONDS (10) each; the
# medians are printed with their ratios.  Goals: crakvif >= 0.95x macvlan's
# throughput; a loaded but idle crak_vif costs <= 1%.  Nothing here passes
# or fails on a number: this is a measurement.
source "$(dirname "$0")/../../selftests/lib.sh"

secs=${BENCH_SECONDS:-10}
reps=${BENCH_REPS:-5}
out=${BENCH_OUT:-$CRAK_BUILD/bench}
mkdir -p "$out"

# setup KIND: the server's address on node a for that configuration.
setup() {
	case $1 in
	bare)
		on a "modprobe crak_vif" && echo "$(ip4 a)" ;;
	unloaded)
		on a "modprobe -r crak_vif" && echo "$(ip4 a)" ;;
	macvlan|crakvif)
		local opts=""
		[ "$1" = macvlan ] && opts="mode bridge"
		on a "modprobe crak_vif && ip netns add srv &&
			ip link add link eth0 name srv0 type $1 $opts &&
			ip link set srv0 netns srv && ip -n srv link set lo up &&
			ip -n srv link set srv0 up && ip -n srv addr add 192.0.2.110/24 dev srv0" &&
			echo 192.0.2.110 ;;
	esac
}

# The next configuration's device has another MAC for the same address: the
# peer must not keep sending to the last one's.
teardown() {
	on a "ip netns pids srv 2> /dev/null | xargs -r kill; ip -n srv link del srv0 2> /dev/null;
		ip netns del srv 2> /dev/null; true"
	on peer "ip neigh flush to 192.0.2.110"
}

# run KIND: "throughput_mbps rtt_ms" for one round.
run() {
	local addr prefix="" server tput rtt
	addr=$(setup "$1") || { echo "0 0"; return; }
	[ "$1" = macvlan ] || [ "$1" = crakvif ] && prefix="ip netns exec srv"
	server=$(on_bg a "$prefix timeout $((secs + 60)) iperf3 -s -1 -B $addr")
	# The server may not listen yet: a refused client tries again.
	for _ in 1 2 3 4 5; do
		sleep 1
		tput=$(on peer "iperf3 -c $addr -t $secs --connect-timeout 5000 -J" |
			/usr/bin/python3 -c 'import json, sys
end = json.load(sys.stdin)["end"]
if "sum_received" in end:
    print("%.1f" % (end["sum_received"]["bits_per_second"] / 1e6))') && [ -n "$tput" ] && break
	done
	wait_job "$server" > /dev/null
	rtt=$(on peer "ping -q -c $((secs * 20)) -i 0.05 $addr" | awk -F/ '/^rtt/ { print $5 }')
	teardown
	echo "${tput:-0} ${rtt:-0}"
}

kinds="bare macvlan crakvif unloaded"
declare -A tputs rtts
for rep in $(seq "$reps"); do
	for kind in $kinds; do
		read -r t r < <(run "$kind")
		tputs[$kind]+="$t "
		rtts[$kind]+="$r "
		printf '  round %d %-9s %8s Mbit/s %7s ms\n' "$rep" "$kind" "$t" "$r"
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A T R
for kind in $kinds; do
	T[$kind]=$(echo "${tputs[$kind]}" | median)
	R[$kind]=$(echo "${rtts[$kind]}" | median)
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
{
	echo "crakvif benchmark: $LAB_KREL, $reps rounds of $secs s, medians"
	printf '  %-9s %10s %10s\n' "" "Mbit/s" "RTT ms"
	for kind in $kinds; do
		printf '  %-9s %10s %10s\n' "$kind" "${T[$kind]}" "${R[$kind]}"
	done
	echo "  crakvif / macvlan throughput: $(ratio "${T[crakvif]}" "${T[macvlan]}")  (goal >= 0.95)"
	echo "  crakvif / bare throughput:    $(ratio "${T[crakvif]}" "${T[bare]}")"
	echo "  crakvif / macvlan RTT:        $(ratio "${R[crakvif]}" "${R[macvlan]}")"
	echo "  loaded idle / unloaded throughput: $(ratio "${T[bare]}" "${T[unloaded]}")  (goal >= 0.99)"
	echo "  loaded idle / unloaded RTT:        $(ratio "${R[bare]}" "${R[unloaded]}")"
} | tee "$out/vif-$LAB_KERNEL.txt"
