#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks link_crakvif.so against this host's ip (iproute2 6.1.0), without
# the crak_vif module:
#   - "ip link help crakvif" prints the plugin's usage;
#   - "ip link add/set ... type crakvif OPTIONS" put the right attributes in
#     IFLA_INFO_DATA (seen with strace), and bad options are refused before
#     anything is sent;
#   - "ip -d link show" output, text and JSON, for crafted RTM_NEWLINK
#     messages fed to "ip -d monitor file" (ip's own print_linkinfo()).
#     ip 6.1 has no JSON for monitor: a preloaded shim turns on its JSON
#     writer, and each "linkinfo" object of the output is checked.
#
# Everything that reaches the kernel runs in a private network namespace
# (unshare -n, as root) so that the host's links are never touched; those
# checks are skipped when that is not possible, and the strace ones without
# strace.
#
# Usage: test.sh PLUGIN.so

set -u

plugin=$(realpath "${1:?usage: test.sh PLUGIN.so}")
export IP_LIB_DIR=$(dirname "$plugin")
export IP=${IP:-/usr/sbin/ip}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

notok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}

skip() {
	echo "ok - $* # SKIP"
}

check() {	# check NAME COND...
	local name=$1

	shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}

[ "$(basename "$plugin")" = link_crakvif.so ] || {
	echo "$plugin: ip only loads link_crakvif.so" >&2
	exit 2
}

can_netns=false
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
	can_netns=true
fi
has_strace=false
command -v strace > /dev/null && has_strace=true

# in_netns CMD...: runs CMD in a new network namespace, holding eth0 (a
# veth) as a lower device; prints its stdout and stderr.
in_netns() {
	unshare -n sh -c '
		"$IP" link add eth0 type veth peer name eth1 || exit 99
		exec "$@"' sh "$@" 2>&1
}

# ip_cmd IP_ARGS...: runs ip, in a private namespace when that is possible.
ip_cmd() {
	if $can_netns; then
		in_netns "$IP" "$@"
	else
		"$IP" "$@" 2>&1
	fi
}

# --- help -----------------------------------------------------------------

out=$("$IP" link help crakvif 2>&1)
rc=$?
check "ip link help crakvif prints the usage" \
	[ $rc -eq 0 -a "${out%%$'\n'*}" = \
	  "Usage: ... crakvif [ limit-packets PACKETS ] [ limit-bytes BYTES ]" ]

out=$(ip_cmd link add name pod0 type crakvif help)
rc=$?
check "type crakvif help prints the usage and fails" \
	[ $rc -ne 0 -a "${out%%$'\n'*}" = \
	  "Usage: ... crakvif [ limit-packets PACKETS ] [ limit-bytes BYTES ]" ]

# --- parsing --------------------------------------------------------------

# The IFLA_INFO_DATA of the RTM_NEWLINK in strace's log $1, as strace prints.
info_data() {
	grep RTM_NEWLINK "$1" | sed -n 's/.*nla_type=IFLA_INFO_DATA}, "\([^"]*\)".*/\1/p'
}

# sent NAME EXPECTED_INFO_DATA IP_ARGS...
sent() {
	local name=$1 want=$2

	shift 2
	if ! $can_netns || ! $has_strace; then
		skip "$name (needs root, unshare -n and strace)"
		return
	fi
	in_netns strace -o "$tmp/strace" -e trace=sendmsg -s 256 -x \
		"$IP" "$@" > "$tmp/out"
	check "$name" [ "$(info_data "$tmp/strace")" = "$want" ]
}

p5='\x08\x00\x05\x00\x05\x00\x00\x00'		# LIMIT_PACKETS 5
b64k='\x08\x00\x06\x00\x00\x00\x01\x00'	# LIMIT_BYTES 65536
sent "add: limit-packets 5 limit-bytes 0x10000" "$p5$b64k" \
	link add link eth0 name pod0 type crakvif limit-packets 5 \
	limit-bytes 0x10000
sent "add: limit-bytes 65536" "$b64k" \
	link add link eth0 name pod0 type crakvif limit-bytes 65536
sent "set: limit-packets 5" "$p5" \
	link set eth0 type crakvif limit-packets 5
sent "add: largest limits" \
	'\x08\x00\x05\x00\x40\x42\x0f\x00\x08\x00\x06\x00\x00\x00\x00\x40' \
	link add link eth0 name pod0 type crakvif limit-packets 1000000 \
	limit-bytes 1073741824

# refused ARGS -- EXPECTED_FIRST_LINE_OF_STDERR: ip must fail with it
refused() {
	local args=() want

	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	want=$2
	out=$(ip_cmd link add name pod0 type crakvif "${args[@]}")
	rc=$?
	check "refused: ${args[*]}" [ $rc -ne 0 -a "${out%%$'\n'*}" = "$want" ]
}

refused limit-packets abc -- \
	'Error: argument "abc" is wrong: invalid limit-packets'
refused limit-bytes -1 -- \
	'Error: argument "-1" is wrong: invalid limit-bytes'
refused limit-bytes 4294967296 -- \
	'Error: argument "4294967296" is wrong: invalid limit-bytes'
refused limit-packets 1000001 -- \
	'Error: argument "1000001" is wrong: limit-packets is at most 1000000'
refused limit-bytes 1073741825 -- \
	'Error: argument "1073741825" is wrong: limit-bytes is at most 1073741824'
refused limit-packets 1 limit-packets 2 -- \
	'Error: duplicate "limit-packets": "2" is the second value.'
refused limit-packets -- \
	'Command line is not complete. Try option "help"'
refused frobnicate 1 -- 'crakvif: unknown option "frobnicate"'
refused limit 1 -- 'crakvif: unknown option "limit"'

# Nothing reaches the kernel when an option is refused.
if $has_strace; then
	set -- strace -o "$tmp/strace" -e trace=sendmsg "$IP" link add \
		name pod0 type crakvif limit-packets abc
	if $can_netns; then in_netns "$@"; else "$@" 2>&1; fi > /dev/null
	check "a refused option sends nothing" \
		[ "$(grep -c RTM_NEWLINK "$tmp/strace")" -eq 0 ]
else
	skip "a refused option sends nothing (needs strace)"
fi

# --- printing -------------------------------------------------------------

# RTM_NEWLINK messages of crakvif devices, as the kernel would send them.
python3 - > "$tmp/links.bin" <<'EOF'
import struct
import sys

def attr(kind, payload):
    size = 4 + len(payload)
    return (struct.pack('=HH', size, kind) + payload +
            b'\0' * ((4 - size % 4) % 4))

def u32(val):
    return struct.pack('=I', val)

def link(index, name, data):
    info = attr(1, b'crakvif\0')                # IFLA_INFO_KIND
    if data is not None:
        info += attr(2, b''.join(data))         # IFLA_INFO_DATA
    body = struct.pack('=BxHiII', 0, 1, index, 0x1003, 0)
    body += attr(3, name + b'\0')               # IFLA_IFNAME
    body += attr(4, u32(1500))                  # IFLA_MTU
    body += attr(18, info)                      # IFLA_LINKINFO
    return struct.pack('=IHHII', 16 + len(body), 16, 0, 0, 0) + body

sys.stdout.buffer.write(
    # frozen, with everything
    link(7, b'pod0', [attr(1, b'\1'), attr(2, u32(3)), attr(3, u32(12)),
                      attr(4, u32(9000)), attr(5, u32(10000)),
                      attr(6, u32(16 << 20))]) +
    # flowing, largest values
    link(8, b'pod1', [attr(1, b'\0'), attr(2, u32(0)), attr(3, u32(0)),
                      attr(4, u32(0xffffffff)), attr(5, u32(1000000)),
                      attr(6, u32(1 << 30))]) +
    # a short FLOWS, missing attributes, one past IFLA_CRAKVIF_MAX
    link(9, b'pod2', [attr(1, b'\0'), attr(2, b'\1\0'), attr(4, u32(64)),
                      attr(5, u32(77)), attr(9, u32(1))]) +
    # no IFLA_INFO_DATA at all
    link(10, b'pod3', None))
EOF

"$IP" -d monitor file "$tmp/links.bin" > "$tmp/text" 2>&1
want_text='    crakvif frozen flows 3 held 12 packets 9000 bytes limit-packets 10000 limit-bytes 16777216 
    crakvif flowing flows 0 held 0 packets 4294967295 bytes limit-packets 1000000 limit-bytes 1073741824 
    crakvif flowing held 64 bytes limit-packets 77 
    crakvif '
check "ip -d: text" [ "$(grep '^    crakvif' "$tmp/text")" = "$want_text" ]
"$IP" monitor file "$tmp/links.bin" > "$tmp/text" 2>&1
check "ip without -d prints no crakvif details" \
	[ "$(grep -c crakvif "$tmp/text")" -eq 0 ]

cat > "$tmp/jsonshim.c" <<'EOF'
/* Test only: turns on ip's JSON writer, which ip monitor leaves off. */
void new_json_obj(int json);
void delete_json_obj(void);

__attribute__((constructor)) static void json_on(void)
{
	new_json_obj(1);
}

__attribute__((destructor)) static void json_off(void)
{
	delete_json_obj();
}
EOF
if ${CC:-cc} -shared -fPIC -o "$tmp/jsonshim.so" "$tmp/jsonshim.c"; then
	LD_PRELOAD="$tmp/jsonshim.so" "$IP" -d -j monitor file \
		"$tmp/links.bin" > "$tmp/json" 2>&1
	# ip monitor opens no object per link: pick each linkinfo out.
	got=$(python3 - "$tmp/json" <<'EOF'
import json
import sys

text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
pos = 0
while True:
    pos = text.find('"linkinfo":', pos)
    if pos < 0:
        break
    obj, end = dec.raw_decode(text, pos + len('"linkinfo":'))
    print(json.dumps(obj, sort_keys=True))
    pos = end
EOF
)
	want_json='{"info_data": {"flows": 3, "frozen": true, "held_bytes": 9000, "held_packets": 12, "limit_bytes": 16777216, "limit_packets": 10000}, "info_kind": "crakvif"}
{"info_data": {"flows": 0, "frozen": false, "held_bytes": 4294967295, "held_packets": 0, "limit_bytes": 1073741824, "limit_packets": 1000000}, "info_kind": "crakvif"}
{"info_data": {"frozen": false, "held_bytes": 64, "limit_packets": 77}, "info_kind": "crakvif"}
{"info_data": {}, "info_kind": "crakvif"}'
	check "ip -d -j: linkinfo/info_data" [ "$got" = "$want_json" ]
else
	skip "ip -d -j (needs a C compiler for the shim)"
fi

echo "# $pass passed, $fail failed"
[ $fail -eq 0 ]
