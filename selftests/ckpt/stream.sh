#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# An image streams: `crak checkpoint PID -o -` on node a writes it into a
# TCP connection, `crak restart -` on node b reads it as it comes, and the
# process carries on there with nothing stored anywhere.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

prog_start a threads stream
stream_to_b 7411 "the streamed process"
pass "a process streams from a to b over TCP and carries on there"
rm -rf "$CKPT_DIR"
