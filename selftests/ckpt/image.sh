#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=900
#
# crak image show reads an image whole and says what it holds; a broken
# image is refused, by image show and by restart, with one line saying what
# is wrong.  Truncated, wrong-magic, wrong-version, corrupted, lying,
# overlapping and mismatched copies of a real image each get their own
# error; FUZZ_N (60; 20 on the debug kernel; make fuzz: 20000) fuzzed ones,
# their checks mostly made right again so that they reach the kernel's
# parser, are refused in one line or restore a process (a changed byte that
# nothing reads): either way the kernel log stays clean, and the runner's
# shutdown check finds nothing leaked once crak_ckpt unloads.  The same
# for an image of crak checkpoint --live, with defects of its own: pages
# written ahead for another process, misaligned, short, out of place.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

[ "$LAB_KERNEL" = debug ] && : "${FUZZ_N:=20}"
: "${FUZZ_N:=60}"
dir=$CKPT_DIR/image
rm -rf "$dir"
mkdir -p "$dir"

# A small process: the mutants are many.
pid=$(on a "sleep 1000 > /dev/null 2>&1 & echo \$!")
checkpoint a "$pid" "$dir/img"
out=$(build/bin/crak image show "$dir/img") || fail "image show refuses a sound image: $out"
echo "$out" | grep -q "^process $pid (sleep)" || fail "image show does not say whose image: $out"
echo "$out" | grep -q "every checksum matches" || fail "image show does not vouch for it: $out"
build/bin/crak -j image show "$dir/img" | /usr/bin/python3 -c "
import json, sys
j = json.load(sys.stdin)
assert j['valid'] and j['process']['pid'] == $pid and j['pages'] > 0, j
assert any(m['kind'] == 'vdso' for m in j['memory']), j" || fail "image show -j is wrong"
pass "image show reads and describes a sound image (text and JSON)"

# mutants IMAGE DIR WHAT [--live]: IMAGE's broken copies into DIR, each
# given to crak restart on node a and to crak image show (userspace alone,
# here on the host: a process start costs a TCG guest dearly): the named
# defects refused in one line saying what they are, the fuzzed ones refused
# in one line or restored.
mutants() {
	local img=$1 mdir=$2 what=$3 bad=0 refused=0 restored=0 want n rc
	/usr/bin/python3 "$(dirname "$0")/mutate.py" "$img" "$mdir" "$FUZZ_N" ${4:-} ||
		fail "cannot make the mutants"
	for f in "$mdir"/*.img; do
		build/bin/crak image show "$f" > /dev/null 2> "${f%.img}.show"
		echo $? > "${f%.img}.showrc"
	done
	# (The loop naps in read -t on a pipe nothing writes to: a sleep(1) is
	# a process start each time.)
	on a "cd $mdir && exec {nap}<> <(:) && for f in *.img; do
		n=\${f%.img}
		timeout -s KILL $((60 * WAIT_SCALE)) crak restart \$f --detach --pidfile \$n.pid > /dev/null 2> \$n.err
		echo \$? > \$n.rc
		if [ -s \$n.pid ]; then
			read -r p < \$n.pid
			kill -KILL \$p
			while [ -e /proc/\$p ]; do read -r -t 0.05 -u \$nap || :; done
		fi
	done" || fail "the restart loop failed"

	for want in "$mdir"/*.want; do
		n=${want%.want}
		if [ "$(cat "$n.rc")" != 1 ] || [ "$(wc -l < "$n.err")" != 1 ] ||
			! grep -qF "$(cat "$want")" "$n.err"; then
			echo "  $(basename "$n"): restart exit $(cat "$n.rc"): $(head -3 "$n.err")" \
				"(wanted: $(cat "$want"))"
			bad=1
		fi
		if [ "$(cat "$n.showrc")" != 1 ] || [ "$(wc -l < "$n.show")" != 1 ]; then
			echo "  $(basename "$n"): image show exit $(cat "$n.showrc"): $(head -3 "$n.show")"
			bad=1
		fi
	done
	[ $bad = 0 ] || fail "a broken $what was not refused as it should be"
	pass "$(ls "$mdir"/*.want | wc -l) broken ${what}s refused by restart and image show, each in one line"

	for rc in "$mdir"/fuzz-*.rc; do
		n=${rc%.rc}
		case "$(cat "$rc")" in
		0) restored=$((restored + 1)) ;;
		1)
			refused=$((refused + 1))
			if [ "$(wc -l < "$n.err")" != 1 ]; then
				echo "  $(basename "$n"): $(head -3 "$n.err")"
				bad=1
			fi
			;;
		*)
			echo "  $(basename "$n"): exit $(cat "$rc"): $(head -3 "$n.err")"
			bad=1
			;;
		esac
	done
	[ $bad = 0 ] || fail "a fuzzed $what was not handled as it should be"
	pass "$FUZZ_N fuzzed ${what}s: $refused refused in one line, $restored restored; the kernel is unhurt"
}

mutants "$dir/img" "$dir/mut" image

# The image of a process that had KSM merge all it maps (PR_SET_MEMORY_MERGE:
# the image's flag set here) restarts where the kernel has it (Linux 6.4
# on, with KSM), and has it there (checkpointed again, the flag is in its
# image); elsewhere (Linux 6.1, the debug kernel) it is refused in one line
# and nothing runs.
/usr/bin/python3 - "$(dirname "$0")" "$dir/img" "$dir/merge.img" <<'EOF' || fail "cannot make the image"
import struct, sys
sys.path.insert(0, sys.argv[1])
import mutate
secs = mutate.parse(open(sys.argv[2], "rb").read())
mm = mutate.first(secs, mutate.MM)
flags = struct.unpack_from("<I", secs[mm][2], 4)[0]
struct.pack_into("<I", secs[mm][2], 4, flags | 1 << 3)   # CRAK_MM_MERGE_ANY
open(sys.argv[3], "wb").write(mutate.build(secs))
EOF
out=$(on a "crak restart $dir/merge.img --detach --pidfile $dir/merge.pid 2>&1")
rc=$?
if merge_any_kernel a; then
	[ $rc = 0 ] || fail "a kernel that has PR_SET_MEMORY_MERGE refused an image with it: $out"
	checkpoint a "$(cat "$dir/merge.pid")" "$dir/merge2.img"
	build/bin/crak image show "$dir/merge2.img" | grep -q "^memory: PR_SET_MEMORY_MERGE$" ||
		fail "a process restarted with PR_SET_MEMORY_MERGE had it no more"
	pass "an image with PR_SET_MEMORY_MERGE restarts with it"
else
	[ $rc = 1 ] && [ "$(wc -l <<< "$out")" = 1 ] &&
		grep -qF "the process had KSM merge all its memory (PR_SET_MEMORY_MERGE), which this kernel cannot" <<< "$out" ||
		fail "an image with PR_SET_MEMORY_MERGE where the kernel has it not: exit $rc: $out"
	on a "! kill -0 $pid 2> /dev/null" || fail "a refused restart left a process"
	pass "an image with PR_SET_MEMORY_MERGE is refused in one line where the kernel has it not"
fi

# An image of crak checkpoint --live: its pages written ahead (AHEAD) as
# well, and the rest leaving them out (SKIP).
pid=$(on a "sleep 1000 > /dev/null 2>&1 & echo \$!")
checkpoint a "$pid" "$dir/live.img" --live
out=$(build/bin/crak image show "$dir/live.img") || fail "image show refuses a sound --live image: $out"
grep -q "^written ahead while it ran" <<< "$out" || fail "the --live image has nothing written ahead: $out"
mutants "$dir/live.img" "$dir/mutlive" "--live image" --live
rm -rf "$dir"
