#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The YAML spec of crak_vif (uapi/linux/crak_vif.yaml) is valid for the
# kernel's netlink schema, agrees with the uapi header on every command and
# attribute number, and is enough for the kernel's own ynl tool to drive the
# module: get, dump, freeze, thaw with its reply, set.
source "$(dirname "$0")/../lib.sh"

spec=$CRAK_SRC/uapi/linux/crak_vif.yaml
ynl=$(lab source-file tools/net/ynl/cli.py) || skip "no linux-source-6.12"
schema=$(lab source-file Documentation/netlink/genetlink-legacy.yaml)

# The header's numbers, by the names the spec's prefixes give them.
hdr=$(mktemp -d)
/usr/bin/python3 - "$spec" "$schema" "$(dirname "$ynl")" > "$hdr/names.c" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from lib import SpecFamily
f = SpecFamily(sys.argv[1], sys.argv[2])
print("#include <stdio.h>\n#include <linux/crak_vif.h>\nint main(void)\n{")
for name, m in f.msgs.items():
    c = ("crak-vif-cmd-" + name).upper().replace("-", "_")
    print('\tprintf("%%s %%d %%d\\n", "%s", %s, %d);' % (c, c, m.value))
for s in f.attr_sets.values():
    for a in s.attrs.values():
        c = (s.yaml["name-prefix"] + a.name).upper().replace("-", "_")
        print('\tprintf("%%s %%d %%d\\n", "%s", %s, %d);' % (c, c, a.value))
print("\treturn 0;\n}")
PY
gcc -I "$CRAK_SRC/uapi" -o "$hdr/names" "$hdr/names.c" || fail "the spec names something the header lacks"
"$hdr/names" | awk '$2 != $3 { print "  " $1 ": header " $2 ", spec " $3; bad = 1 } END { exit bad }' ||
	fail "the header and the spec disagree"
pass "the spec is valid and agrees with the header ($("$hdr/names" | wc -l) names)"
rm -rf "$hdr"

# lab exec hands the node one shell command line: quote each word for it.
y() { on a "$(printf '%q ' /usr/bin/python3 "$ynl" --spec "$spec" --schema "$schema" "$@")"; }
on a "ip link add link eth0 name v0 type crakvif && ip link set v0 up" || fail "no crakvif"
y --do get --json '{"ifname": "v0"}' | grep -q "'frozen': 0" || fail "ynl get"
y --do freeze --json '{"ifname": "v0"}' || fail "ynl freeze"
y --dump get | grep -q "'frozen': 1" || fail "ynl dump does not show the freeze"
y --do thaw --json '{"ifname": "v0"}' | grep -q "'delivered': 0" || fail "ynl thaw reply"
y --do set --json '{"ifname": "v0", "limit-packets": 5}' || fail "ynl set"
y --do get --json '{"ifname": "v0"}' | grep -q "'limit-packets': 5" || fail "ynl set did not take"
pass "the kernel's ynl drives crak_vif with the spec"
