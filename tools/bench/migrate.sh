#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench-lab: --memory 3072
#
# Moving a whole application between nodes by its memory size, crak against
# CRIU, in the lab (make bench, or: lab with --memory 3072 --
# tools/bench/migrate.sh).  The application is memhog serve: BENCH_SIZES
# (16 128 512 1024) MiB of touched memory and one connection with a client
# on the peer (conv.py, 4 KiB each way round after round: data always in
# flight).  It moves from node a to node b mid-conversation:
#   crak   in a pod (crak run), by crak migrate to crakd on b: one command,
#          the image streamed over TCP, the address moving with the pod;
#   live   the same with crak migrate --live: the memory sent ahead while
#          the pod runs, the image after the stop leaving out what was not
#          written since;
#   CRIU   in a network namespace with a crakvif, by criu dump
#          --tcp-established into the nodes' shared directory, the namespace
#          deleted, made again on b, criu restore --tcp-established, the
#          address announced by hand.
# Measured (medians of BENCH_REPS, default 1): the downtime the peer saw
# (its longest round), the move's wall time, and the peer's retransmission
# timeouts (TcpExtTCPTimeouts); for crak also the downtime crak migrate
# reports.  Ratios are printed, a plot drawn (build/bench/migrate-KERNEL.png).
# Goals: downtime <= 0.5x CRIU's; zero retransmission timeouts; with
# --live, the 1 GiB downtime <= 1.5x the 16 MiB one.  Nothing here passes or
# fails on a number.
source "$(dirname "$0")/../../selftests/lib.sh"
source "$(dirname "$0")/../../selftests/vif/lib.sh"
source "$(dirname "$0")/../../selftests/sockmig/lib.sh"
source "$(dirname "$0")/lib.sh"

sizes=${BENCH_SIZES:-16 128 512 1024}
reps=${BENCH_REPS:-1}
rounds=${BENCH_ROUNDS:-100}
out=${BENCH_OUT:-$CRAK_BUILD/bench}
dir=$LAB_DIR/shared/bench-migrate
mkdir -p "$out" "$dir"
# The pod hides the host's /tmp (where a checkout may be): memhog in /run.
hog=/run/crak-bench/memhog
for n in a b; do
	on "$n" "modprobe crak_vif && modprobe crak_sockmig && modprobe crak_ckpt &&
		mkdir -p /run/crak-bench" || exit 1
done
cc -O2 -o "$dir/memhog" "$(dirname "$0")/memhog.c" || exit 1
# (A restart maps the program's file again: on both nodes.)
for n in a b; do
	on "$n" "cp $dir/memhog $hog" || exit 1
done
warm "$hog" /run/crak-bench/warm "$sizes" a b || exit 1
key_new "$dir/key"
crakd=$(crakd_start b "$(ip4 b):7201" "$dir/key" "$dir/crakd.log") || exit 1

timeouts() { on peer nstat -az TcpExtTCPTimeouts | awk '/TCPTimeouts/ { print $2 }'; }

# move MIB crak|live|criu: "stall move_seconds timeouts reported_downtime".
move() {
	local mib=$1 how=$2 server client pid t0 t1 to0 res down=nan live=
	[ "$how" = live ] && live=--live
	if [ "$how" != criu ]; then
		# Named pod: the lab's helpers find its namespace.
		on a "crak run --detach --name pod --addr $POD_IP4/24 --link eth0 -- \
			$hog serve $mib $POD_IP4 7601" || echo "  crak run failed" >&2
	else
		pod_create a
		# The address was on b a moment ago (crak's pods keep their MAC):
		# the peer and the bridge learn where it is now.
		on a "ip netns exec pod crak vif announce pod0" > /dev/null
		server=$(on_bg a "nsenter --net=/run/netns/pod $hog serve $mib $POD_IP4 7601 \
			< /dev/null > /dev/null 2>&1")
	fi
	wait_bound a tcp 7601
	client=$(conv_client "$rounds" 7601 "$dir/progress" --size 4096 --timeout 600)
	wait_rounds "$dir/progress" 50
	on a "rm -rf $dir/criu && mkdir -p $dir/criu"
	to0=$(timeouts)
	t0=$(now)
	if [ "$how" != criu ]; then
		res=$(on a "crak -j migrate pod --to $(ip4 b):7201 --key $dir/key $live") ||
			echo "  crak migrate failed: $res" >&2
		down=$(echo "$res" | /usr/bin/python3 -c 'import json, sys; print("%.3f" % json.load(sys.stdin)["downtime"])' 2> /dev/null || echo nan)
		# What each phase took, and the image's size after the stop.
		echo "$res" | /usr/bin/python3 -c 'import json, sys
j = json.load(sys.stdin)
print("  %s: image sent %.3f s, restored %.3f s, running %.3f s; image %.1f MiB%s" % (sys.argv[1],
      j["sent"], j["restored"], j["running"], j["bytes"] / 1048576.0,
      ", %.1f MiB ahead in %.1f s, %d rounds" % (j["live"]["bytes"] / 1048576.0,
                                               j["live"]["seconds"], j["live"]["rounds"])
      if "live" in j else ""))' "$how" >&2 2> /dev/null
	else
		read -r pid _ <<< "$(server_sock a 7601)"
		criu_move "$pid"
	fi
	t1=$(now)
	wait_rounds "$dir/progress" $(($(rounds "$dir/progress") + 20))
	conv_go "$dir/progress"
	res=$(wait_job "$client") || echo "  $how, $mib MiB: the conversation broke: $res" >&2
	if [ "$how" != criu ]; then
		on b "crak stop pod" > /dev/null
	else
		on b "pkill -f 'memhog serve'; ip netns del pod"
		wait_job "$server" > /dev/null 2>&1
	fi
	on a "rm -rf $dir/criu"
	echo "$(echo "$res" | sed -n 's/.*longest=\([0-9.]*\).*/\1/p') $(elapsed "$t0" "$t1")" \
		"$(($(timeouts) - to0)) $down"
}

table=$out/migrate-$LAB_KERNEL.data
echo "mib stall_crak stall_criu move_crak move_criu rto_crak rto_criu down_crak" \
	"stall_live move_live rto_live down_live" > "$table"
declare -A col=()
for mib in $sizes; do
	for rep in $(seq "$reps"); do
		for how in crak live criu; do
			read -r s m t d < <(move "$mib" "$how")
			echo "  $mib MiB round $rep, $how: stall ${s:-nan} s, move $m s, $t timeouts" \
				"${d/nan/}" >&2
			col[s_${how}_$mib]+="${s:-nan} "
			col[m_${how}_$mib]+="$m "
			col[t_${how}_$mib]+="$t "
			col[d_${how}_$mib]+="$d "
		done
	done
	echo "$mib $(echo "${col[s_crak_$mib]}" | median) $(echo "${col[s_criu_$mib]}" | median)" \
		"$(echo "${col[m_crak_$mib]}" | median) $(echo "${col[m_criu_$mib]}" | median)" \
		"$(echo "${col[t_crak_$mib]}" | median) $(echo "${col[t_criu_$mib]}" | median)" \
		"$(echo "${col[d_crak_$mib]}" | median)" \
		"$(echo "${col[s_live_$mib]}" | median) $(echo "${col[m_live_$mib]}" | median)" \
		"$(echo "${col[t_live_$mib]}" | median) $(echo "${col[d_live_$mib]}" | median)" \
		>> "$table"
done
kill_job "$crakd" TERM
wait_job "$crakd" > /dev/null

{
	echo "migration by memory size: $LAB_KREL, a -> b, medians of $reps round(s) (seconds)"
	printf '  %6s %9s %9s %9s %6s %6s %9s %9s %9s %5s %5s %5s %9s %9s\n' MiB stall-crak \
		stall-live stall-criu x x-live move-crak move-live move-criu rto-c rto-l rto-C \
		down-crak down-live
	tail -n +2 "$table" | while read -r mib sc sr mc mr tc tr dc sl ml tl dl; do
		printf '  %6s %9s %9s %9s %6s %6s %9s %9s %9s %5s %5s %5s %9s %9s\n' "$mib" "$sc" \
			"$sl" "$sr" "$(ratio "$sc" "$sr")" "$(ratio "$sl" "$sr")" "$mc" "$ml" "$mr" \
			"$tc" "$tl" "$tr" "$dc" "$dl"
	done
	read -r first last < <(awk 'NR == 2 { f = $2 } NR > 1 { l = $2 } END { print f, l }' "$table")
	read -r lfirst llast < <(awk 'NR == 2 { f = $9 } NR > 1 { l = $9 } END { print f, l }' \
		"$table")
	echo "  x, x-live: crak, crak --live / CRIU (goal <= 0.5 for the stall); rto-c, rto-l,"
	echo "  rto-C: the peer's retransmission timeouts with crak, --live, CRIU (goal 0);"
	echo "  down-*: what crak migrate reports.  Largest / smallest size's stall: crak" \
		"$(ratio "$last" "$first"), crak --live $(ratio "$llast" "$lfirst") (goal <= 1.5 with --live)."
} | tee "$out/migrate-$LAB_KERNEL.txt"

/usr/bin/python3 "$(dirname "$0")/plot.py" "$table" "$out/migrate-$LAB_KERNEL.png" \
	"moving an application a -> b, crak vs CRIU, $LAB_KREL (TCG guests)" \
	"downtime the peer saw=stall_crak:crak migrate,stall_live:crak migrate --live,stall_criu:CRIU" \
	"move, wall time=move_crak:crak migrate,move_live:crak migrate --live,move_criu:CRIU"
rm -rf "$dir"
