#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# An image streams: `crak checkpoint PID -o -` on node a writes it into a
# TCP connection, `crak restart -` on node b reads it as it comes, and the
# process carries on there with nothing stored anywhere.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

port=7411
prog_start a threads stream
job=$(on_bg b "socat -u TCP-LISTEN:$port,reuseaddr STDOUT | crak restart - --pidfile $prog_dir/pid.b")
until_on b 30 ss -Hltn "'sport = :$port'" > /dev/null
out=$(on a "set -o pipefail; crak checkpoint $prog_pid -o - | socat -u STDIN TCP:$(ip4 b):$port" 2>&1) ||
	fail "the streamed checkpoint failed: $out; on b: $(wait_job "$job" 2>&1 | tail -3)"
wait_file -s "$prog_dir/pid.b" 30
[ "$(cat "$prog_dir/pid.b" 2> /dev/null)" = "$prog_pid" ] ||
	fail "no process restarted on b from the stream: $(wait_job "$job" 2>&1 | tail -3)"
wait_job "$prog_job" > /dev/null 2>&1
prog_verdict b "$job" "the streamed process"
pass "a process streams from a to b over TCP and carries on there"
rm -rf "$CKPT_DIR"
