#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: kernels=6.12,6.1
#
# The YAML spec of crak_sock (uapi/linux/crak_sock.yaml) is valid for the
# kernel's netlink schema, agrees with the uapi header on every command and
# attribute number, and is enough for the kernel's own ynl tool to talk to
# the module.
source "$(dirname "$0")/../lib.sh"

spec_check sock

out=$(ynl --do get --json '{"id": 12345}' 2>&1) && fail "ynl got a socket that does not exist"
echo "$out" | grep -q "no such socket id" || fail "ynl get does not show the extack: $out"
out=$(ynl --do freeze --json '{"fd": 0}' 2>&1) && fail "ynl froze stdin"
echo "$out" | grep -q "not a TCP socket\|not a socket" || fail "ynl does not show the extack: $out"
pass "the kernel's ynl talks to crak_sock with the spec"
