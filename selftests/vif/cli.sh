#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: kernels=6.12,6.1
#
# crak vif, as its users meet it: --help on every command; a bad command
# line is a one-line usage error (exit 2); a request the kernel refuses is
# one line with the kernel's reason (exit 1) and changes nothing; -j output
# is JSON; crak loads the module when it is needed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/vif-cli
mkdir -p "$dir"

# expect STATUS MESSAGE CMD: CMD (in the pod on a) exits STATUS, saying MESSAGE
# on one line of stderr.
expect() {
	local status=$1 msg=$2 out rc
	shift 2
	out=$(in_pod a "$@" 2>&1 > /dev/null)
	rc=$?
	[ $rc = "$status" ] || fail "'$*' exited $rc, not $status: $out"
	echo "$out" | grep -qF -- "$msg" || fail "'$*' said '$out', not '$msg'"
	[ "$(echo "$out" | grep -c '^crak: ')" = 1 ] || fail "'$*' did not say it in one line: $out"
}

pod_create a
for cmd in "" "vif" "vif show" "vif freeze" "vif thaw" "vif set" "vif export" "vif import" \
	"vif announce" "vif monitor"; do
	out=$(in_pod a crak $cmd --help) || fail "crak $cmd --help failed"
	echo "$out" | grep -q "Usage\|usage" || fail "crak $cmd --help shows no usage"
done
pass "--help on every command"

expect 2 "" crak vif freeze
expect 2 "" crak vif freeze pod0 flow sctp $POD_IP4:1 192.0.2.3:2
expect 2 "" crak vif freeze pod0 flow tcp $POD_IP4 192.0.2.3:2
expect 2 "" crak vif freeze pod0 flow tcp $POD_IP4:1 "[2001:db8::3]:2"
expect 2 "" crak vif set pod0
expect 2 "" crak vif set pod0 limit-packets 0
expect 2 "" crak vif export pod0
expect 2 "" crak vif nonsense
expect 2 "" crak nonsense
pass "bad command lines are usage errors (exit 2)"

expect 1 "no such device" crak vif freeze nothere
expect 1 "not a crakvif device" crak vif freeze lo
in_pod a crak vif freeze pod0
expect 1 "device already frozen" crak vif freeze pod0
expect 1 "flow not frozen" crak vif thaw pod0 flow udp $POD_IP4:1 192.0.2.3:2
in_pod a crak vif thaw pod0 > /dev/null
expect 1 "device not frozen" crak vif thaw pod0
pass "refusals carry the kernel's reason (exit 1)"

# A file that cannot be imported whole is not imported at all.
in_pod a crak vif freeze pod0
send_frames peer --dst $POD_IP4 --dmac "$POD_MAC" --src "$(ip4 peer)" --proto udp \
	--sport 45000 --dport 7000 --count 20
in_pod a crak vif export pod0 -o "$dir/20.pcap" drop > /dev/null
in_pod a crak vif thaw pod0 > /dev/null
expect 1 "import needs it frozen whole" crak vif import pod0 -i "$dir/20.pcap"
in_pod a crak vif set pod0 limit-packets 10
in_pod a crak vif freeze pod0
expect 1 "" crak vif import pod0 -i "$dir/20.pcap"
[ "$(vif_field a held_packets)" = 0 ] || fail "a refused import left frames behind"
pass "an import that does not fit is refused whole"

for cmd in "vif show" "vif show pod0" "vif thaw pod0"; do
	in_pod a crak -j $cmd | /usr/bin/python3 -m json.tool > /dev/null || fail "crak -j $cmd: not JSON"
done
in_pod a crak vif freeze pod0
in_pod a crak vif export pod0 -o "$dir/x.pcap" -j | /usr/bin/python3 -m json.tool > /dev/null ||
	fail "export -j: not JSON"
pass "-j output is JSON"

# A frame far larger than a page (imports take up to 65500 bytes) is
# exported as it was imported, from a netlink socket that read nothing yet.
python3 - "$dir/big.pcap" "$POD_MAC" "$(mac peer)" "$(ip4 peer)" "$POD_IP4" << 'EOF2' ||
import socket, struct, sys
path, dmac, smac, src, dst = sys.argv[1:]
payload = bytes(range(256)) * 156
udp = struct.pack("!HHHH", 45000, 7000, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
frame = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + \
    b"\x08\x00" + ip + udp
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)
EOF2
	fail "cannot write the pcap of a large frame"
in_pod a crak vif thaw pod0 drop > /dev/null
in_pod a crak vif freeze pod0
in_pod a crak vif import pod0 -i "$dir/big.pcap" > /dev/null || fail "the large frame was not imported"
out=$(in_pod a crak vif export pod0 -o "$dir/big2.pcap" drop 2>&1) ||
	fail "the large frame was not exported: $out"
[ "$(tail -c +41 "$dir/big.pcap" | md5sum)" = "$(tail -c +41 "$dir/big2.pcap" | md5sum)" ] &&
	[ "$(stat -c %s "$dir/big2.pcap")" = "$(stat -c %s "$dir/big.pcap")" ] ||
	fail "the large frame came out of export other than it went in"
pass "a frame of 40 KB is exported as it was imported"

on a "ip -all netns delete && sleep 1 && rmmod crak_vif" || fail "cannot unload crak_vif"
on a "crak vif show && test -d /sys/module/crak_vif" ||
	fail "crak vif show did not load crak_vif (generic netlink family alias)"
pass "crak loads crak_vif when it needs it"
rm -rf "$dir"
