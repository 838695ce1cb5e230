#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench-lab: --nodes a --memory 4096
#
# crak checkpoint and restart against CRIU, and against the limits of the
# destination, on node a of a lab (make bench, or: lab with --nodes a
# --memory 4096 -- tools/bench/ckpt.sh).  For processes with BENCH_SIZES
# (16 128 512 1024) MiB of touched memory, each BENCH_REPS (3) times, the
# medians of:
#   checkpoint   crak checkpoint (killing) / criu dump, into the guest's tmpfs
#   stopped      how long the process was stopped, with --leave-running /
#                criu dump --leave-running (CRIU's "frozen time"); and with
#                the memory written ahead while it runs: --leave-running
#                --live (the longest of its stops) / criu pre-dump --track-mem
#                then dump --prev-images-dir --leave-running
#   restart      crak restart --detach / criu restore -d, until it runs
#   raw          write(2) of as many bytes already in memory to the same
#                tmpfs, then read(2) of them into new memory (memhog write,
#                read: the destination's limit; dd from /dev/zero is slower
#                under TCG, clearing its buffer for every block)
#   pipe         crak checkpoint -o - into a reader that discards, next to a
#                memcpy of as many bytes
# Ratios are printed and a plot is drawn (build/bench/ckpt-KERNEL.png).
# Goals: at 16 MiB, checkpoint and restart >= 5x faster than CRIU; at 1 GiB
# within 1.2x of the raw write / read and never slower than CRIU; stopped
# <= 0.25x CRIU's.  Nothing here passes or fails on a number.
source "$(dirname "$0")/../../selftests/lib.sh"
source "$(dirname "$0")/lib.sh"

sizes=${BENCH_SIZES:-16 128 512 1024}
reps=${BENCH_REPS:-3}
out=${BENCH_OUT:-$CRAK_BUILD/bench}
mkdir -p "$out"
hog=$out/memhog
cc -O2 -o "$hog" "$(dirname "$0")/memhog.c" || exit 1
on a "modprobe crak_ckpt" || exit 1
warm "$hog" /tmp/warm "$sizes" a || exit 1

# timed CMD: runs CMD on a, timed there (no lab overhead in the number);
# prints the seconds it took, or "fail:" and the end of what it said.
timed() {
	on a "s=\$(date +%s%N); { $1; } > /tmp/timed.out 2>&1; rc=\$?; e=\$(date +%s%N)
		if [ \$rc = 0 ]; then echo \$(( (e - s) / 1000000 )) | awk '{ printf \"%.3f\", \$1 / 1000 }'
		else echo fail: \$(tail -2 /tmp/timed.out); fi"
}

# hold MIB: a memory hog on a, its memory touched; prints its PID.
hold() {
	on a "rm -f /tmp/hog.ready; setsid $hog hold $1 /tmp/hog.ready < /dev/null > /dev/null 2>&1 &
		echo \$! > /tmp/hog.pid
		while [ ! -e /tmp/hog.ready ]; do sleep 0.1; done; cat /tmp/hog.pid"
}
gone() { on a "kill -9 $1 2> /dev/null; while [ -e /proc/$1 ]; do sleep 0.05; done"; }

# stopped MIB [OPTIONS]: how long crak checkpoint --leave-running OPTIONS
# stopped a memory hog of MIB (its stopped_seconds).
stopped() {
	local pid r
	pid=$(hold "$1")
	r=$(on a "crak -j checkpoint $pid -o /tmp/crak.img --leave-running ${*:2}")
	echo "$r" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stopped_seconds"])'
	gone "$pid"
	on a "rm -f /tmp/crak.img"
}

# frozen MIB CMDS: CRIU's frozen time, of the dump CMDS make of a memory hog
# of MIB (PID in them: its PID) in /tmp/criu, --display-stats to /tmp/criu.stats.
frozen() {
	local pid
	pid=$(hold "$1")
	on a "rm -rf /tmp/criu && mkdir -p /tmp/criu && ${2//PID/$pid} > /tmp/criu.stats 2>&1" ||
		echo "  criu failed: ${2//PID/$pid}" >&2
	on a "awk '/Frozen time/ { print \$(NF - 1) / 1e6 }' /tmp/criu.stats"
	gone "$pid"
	on a "rm -rf /tmp/criu"
}

# One round for SIZE: "ck_crak ck_criu stop_crak stop_criu rs_crak rs_criu
# raw_w raw_r pipe memcpy stop_live stop_criu_pre".
round() {
	local mib=$1 pid r v ck_crak ck_criu st_crak st_criu rs_crak rs_criu raw_w raw_r pipe cp
	local st_live st_cpre
	# crak: checkpoint (kill), restart.
	pid=$(hold "$mib")
	ck_crak=$(timed "crak checkpoint $pid -o /tmp/crak.img")
	gone "$pid"
	rs_crak=$(timed "crak restart /tmp/crak.img --detach")
	gone "$pid"
	on a "rm -f /tmp/crak.img"
	# crak: stopped, left running; with --live, its memory written while it
	# runs, then stopped for the rest.
	st_crak=$(stopped "$mib")
	st_live=$(stopped "$mib" --live)
	# CRIU: dump (kill), restore; dump --leave-running's frozen time.
	pid=$(hold "$mib")
	on a "rm -rf /tmp/criu && mkdir /tmp/criu"
	ck_criu=$(timed "criu dump -t $pid -D /tmp/criu -o dump.log")
	gone "$pid"
	rs_criu=$(timed "criu restore -D /tmp/criu -d -o restore.log")
	gone "$pid"
	on a "rm -rf /tmp/criu"
	st_criu=$(frozen "$mib" "criu dump -t PID -D /tmp/criu --leave-running -o dump.log \
		--display-stats")
	# CRIU's own way of the same: a pre-dump, then a dump of what changed.
	st_cpre=$(frozen "$mib" "mkdir /tmp/criu/pre /tmp/criu/dump &&
		criu pre-dump -t PID -D /tmp/criu/pre --track-mem -o pre.log &&
		criu dump -t PID -D /tmp/criu/dump --prev-images-dir ../pre --track-mem \
		--leave-running -o dump.log --display-stats")
	# The limits: write(2) and read(2) to and from the same tmpfs; a pipe
	# next to memcpy.
	raw_w=$(on a "$hog write $mib /tmp/raw" 2>&1) || raw_w="fail: $raw_w"
	raw_r=$(on a "$hog read $mib /tmp/raw" 2>&1) || raw_r="fail: $raw_r"
	on a "rm -f /tmp/raw"
	pid=$(hold "$mib")
	pipe=$(timed "crak checkpoint $pid -o - 2> /dev/null | cat > /dev/null")
	gone "$pid"
	cp=$(on a "$hog memcpy $mib")
	for v in ck_crak ck_criu rs_crak rs_criu raw_w raw_r pipe; do
		case ${!v} in fail*) echo "  $mib MiB, $v: ${!v}" >&2; printf -v "$v" nan ;; esac
	done
	echo "$ck_crak $ck_criu $st_crak ${st_criu:-0} $rs_crak $rs_criu $raw_w $raw_r $pipe $cp" \
		"$st_live ${st_cpre:-nan}"
}


names="ck_crak ck_criu st_crak st_criu rs_crak rs_criu raw_w raw_r pipe memcpy st_live st_cpre"
table=$out/ckpt-$LAB_KERNEL.tsv
echo "mib $names" > "$table"
for mib in $sizes; do
	declare -A col=()
	for rep in $(seq "$reps"); do
		read -r -a v < <(round "$mib")
		i=0
		for n in $names; do
			col[$n]+="${v[$i]} "
			i=$((i + 1))
		done
		echo "  $mib MiB round $rep: ${v[*]}" >&2
	done
	line=$mib
	for n in $names; do
		line+=" $(echo "${col[$n]}" | median)"
	done
	echo "$line" >> "$table"
	unset col
done

{
	echo "checkpoint/restart benchmark: $LAB_KREL, node a, medians of $reps rounds (seconds)"
	printf '  %6s %8s %8s %6s %8s %8s %6s %8s %8s %6s %8s %8s %6s %8s\n' MiB \
		ck-crak ck-criu x st-crak st-criu x rs-crak rs-criu x raw-w raw-r ck/w pipe/cpy
	tail -n +2 "$table" | while read -r mib ckc ckr stc str rsc rsr rw rr pp cp _ _; do
		printf '  %6s %8s %8s %6s %8s %8s %6s %8s %8s %6s %8s %8s %6s %8s\n' "$mib" \
			"$ckc" "$ckr" "$(ratio "$ckr" "$ckc")" "$stc" "$str" "$(ratio "$stc" "$str")" \
			"$rsc" "$rsr" "$(ratio "$rsr" "$rsc")" "$rw" "$rr" "$(ratio "$ckc" "$rw")" \
			"$(ratio "$pp" "$cp")"
	done
	echo "  x: how many times faster crak is than CRIU (checkpoint, restart); st x: crak's"
	echo "  stopped time / CRIU's frozen time (goal <= 0.25); ck/w: crak's checkpoint / the raw"
	echo "  write of as many bytes (goal <= 1.2 at 1 GiB); pipe/cpy: a checkpoint into a pipe /"
	echo "  a memcpy.  Goals at 16 MiB: checkpoint and restart x >= 5."
	echo "stopped, the memory written ahead while it runs (seconds): crak --leave-running"
	echo "--live (its longest stop) / CRIU's frozen time, plain and after a pre-dump"
	printf '  %6s %8s %8s %6s %8s %6s\n' MiB st-live st-criu x st-cpre x
	tail -n +2 "$table" | while read -r mib _ _ _ str _ _ _ _ _ _ stl stp; do
		printf '  %6s %8s %8s %6s %8s %6s\n' "$mib" "$stl" "$str" "$(ratio "$stl" "$str")" \
			"$stp" "$(ratio "$stl" "$stp")"
	done
	echo "  x: crak --live's stop / CRIU's (goal <= 0.25 against plain criu dump)"
} | tee "$out/ckpt-$LAB_KERNEL.txt"

/usr/bin/python3 "$(dirname "$0")/plot.py" "$table" "$out/ckpt-$LAB_KERNEL.png" \
	"crak vs CRIU, $LAB_KREL (TCG guest)" \
	"checkpoint=ck_crak:crak,ck_criu:CRIU,raw_w:raw write" \
	"restart=rs_crak:crak,rs_criu:CRIU,raw_r:raw read" \
	"stopped (left running)=st_crak:crak,st_live:crak --live,st_criu:CRIU,st_cpre:CRIU pre-dump"
