#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The YAML spec of crak_sock (uapi/linux/crak_sock.yaml) is valid for the
# kernel's netlink schema, agrees with the uapi header on every command and
# attribute number, and is enough for the kernel's own ynl tool to talk to
# the module.
source "$(dirname "$0")/../lib.sh"

spec=$CRAK_SRC/uapi/linux/crak_sock.yaml
ynl=$(lab source-file tools/net/ynl/cli.py) || skip "no linux-source-6.12"
schema=$(lab source-file Documentation/netlink/genetlink-legacy.yaml)

# The header's numbers, by the names the spec's prefixes give them.
hdr=$(mktemp -d)
/usr/bin/python3 - "$spec" "$schema" "$(dirname "$ynl")" > "$hdr/names.c" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from lib import SpecFamily
f = SpecFamily(sys.argv[1], sys.argv[2])
print("#include <stdio.h>\n#include <linux/crak_sock.h>\nint main(void)\n{")
for name, m in f.msgs.items():
    c = ("crak-sock-cmd-" + name).upper().replace("-", "_")
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
# lab exec hands the node one shell command line: quote each word for it.
y() { on a "$(printf '%q ' /usr/bin/python3 "$ynl" --spec "$spec" --schema "$schema" "$@")"; }
out=$(y --do get --json '{"id": 12345}' 2>&1) && fail "ynl got a socket that does not exist"
echo "$out" | grep -q "no such socket id" || fail "ynl get does not show the extack: $out"
out=$(y --do freeze --json '{"fd": 0}' 2>&1) && fail "ynl froze stdin"
echo "$out" | grep -q "not a TCP socket\|not a socket" || fail "ynl does not show the extack: $out"
pass "the kernel's ynl talks to crak_sock with the spec"
