#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=420 kernels=6.12,6.1
#
# crak checkpoint --live: a process that writes its memory all along is
# checkpointed while it runs (its memory first, then what it wrote
# meanwhile), stopped only for the rest, and its image restarts it exactly
# as it was when stopped: no page from before its last write.  With
# --leave-running it runs on unharmed; the image restarts on another node,
# from a file or streamed over TCP.  --live is refused in one line where it
# does not apply.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

# Left running: it checks itself after, and its image holds pages written
# ahead, some of them left out after.
prog_start a scribble left
out=$(on a crak -j checkpoint "$prog_pid" -o "$prog_dir/img" --leave-running --live 2>&1) ||
	fail "checkpoint --live --leave-running failed: $out"
echo "$out" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["left_running"] and j["ahead_pages"] >= 2048 and j["ahead_rounds"] >= 2, j
assert 0 < j["stopped_seconds"] < j["seconds"], j' ||
	fail "checkpoint --live's summary is wrong: $out"
show=$(build/bin/crak image show "$prog_dir/img") || fail "image show refuses a --live image: $show"
grep -q "^written ahead while it ran (crak checkpoint --live): [0-9]* pages, [1-9][0-9]* of them left out of the rest$" \
	<<< "$show" || fail "image show does not tell what went ahead: $(tail -3 <<< "$show")"
build/bin/crak -j image show "$prog_dir/img" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["valid"] and j["ahead_pages"] >= 2048 and j["skipped"] > 0, j' ||
	fail "image show -j does not tell what went ahead"
prog_verdict a "$prog_job" "scribble, left running after --live"
img=$prog_dir/img

# Restarted from that image, on the other node: its memory as it was.
job=$(restart_bg b "$img") || exit 1
prog_verdict b "$job" "scribble, restarted on b from a --live image"
pass "checkpoint --live --leave-running: it runs on, and its image restarts it on b as it was"

# Killed, the image streamed over TCP to b, restarted from the stream.
prog_start a scribble streamed
stream_to_b 7412 "scribble, streamed --live to b" --live
pass "checkpoint --live streams: the process carries on on b as it was"

# On a terminal, a line tells how much went ahead, another how much of the
# rest was written; the summary, how many pages went ahead in how many rounds.
pid=$(on a "sleep 1000 > /dev/null 2>&1 & echo \$!")
out=$(on a "script -qec 'crak checkpoint $pid -o /tmp/tty.img --live' /dev/null; rm -f /tmp/tty.img" |
	tr '\r' '\n')
grep -q "^crak: checkpoint --live: [0-9]* MiB written ahead" <<< "$out" &&
	grep -q "^crak: checkpoint $pid: [0-9]* MiB written" <<< "$out" &&
	grep -q "^  [1-9][0-9]* pages written ahead in 1 round" <<< "$out" ||
	fail "checkpoint --live on a terminal said: $out"
pass "checkpoint --live on a terminal shows its progress, then what went ahead"

# Where --live does not apply: one error line (and where to find help), nothing done.
for args in "--tree $$" "somepod"; do
	out=$(on a "crak checkpoint $args -o $CKPT_DIR/nothing.img --live 2>&1") &&
		fail "checkpoint $args --live worked"
	[ "$(grep -c "^crak: " <<< "$out")" = 1 ] && grep -q "^crak: --live takes one process's PID" <<< "$out" ||
		fail "checkpoint $args --live said: $out"
done
[ ! -e "$CKPT_DIR/nothing.img" ] || fail "a refused --live checkpoint left an image"
pass "--live of a tree or a pod is refused in one line"
rm -rf "$CKPT_DIR"
