#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: kernels=6.12,6.1
#
# The YAML spec of crak_vif (uapi/linux/crak_vif.yaml) is valid for the
# kernel's netlink schema, agrees with the uapi header on every command and
# attribute number, and is enough for the kernel's own ynl tool to drive the
# module: get, dump, freeze, thaw with its reply, set.
source "$(dirname "$0")/../lib.sh"

spec_check vif

on a "ip link add link eth0 name v0 type crakvif && ip link set v0 up" || fail "no crakvif"
ynl --do get --json '{"ifname": "v0"}' | grep -q "'frozen': 0" || fail "ynl get"
ynl --do freeze --json '{"ifname": "v0"}' || fail "ynl freeze"
ynl --dump get | grep -q "'frozen': 1" || fail "ynl dump does not show the freeze"
ynl --do thaw --json '{"ifname": "v0"}' | grep -q "'delivered': 0" || fail "ynl thaw reply"
ynl --do set --json '{"ifname": "v0", "limit-packets": 5}' || fail "ynl set"
ynl --do get --json '{"ifname": "v0"}' | grep -q "'limit-packets': 5" || fail "ynl set did not take"
pass "the kernel's ynl drives crak_vif with the spec"
