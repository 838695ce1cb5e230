#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# A broken image is refused with a clear error and leaves nothing behind; an
# unprivileged caller is refused; a dump can be called off.  A live
# connection is dumped; truncated, wrong-version, corrupted and lying copies
# of its image, and FUZZ_N (default 100; 20 on the debug kernel, ten times
# slower; make fuzz: 20000) fuzzed ones, are each refused by restore with
# one line saying what is wrong (the runner checks the kernel log; the debug
# kernel's kmemleak, that nothing leaked).  Then a thaw calls the dump off
# and the conversation carries on.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

[ "$LAB_KERNEL" = debug ] && : "${FUZZ_N:=20}"
: "${FUZZ_N:=100}"
dir=$LAB_DIR/shared/sockmig-image
rm -rf "$dir"
mkdir -p "$dir"
pod_create a
server=$(conv_server a 7302) || exit 1
client=$(conv_client 20 7302 "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 3
read -r pid fd <<< "$(server_sock a 7302)"
out=$(in_pod a crak sock dump --pid "$pid" --fd "$fd" -o "$dir/conn.img") || fail "dump failed: $out"

# Unprivileged callers.
nobody="setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all"
for cmd in "sock show" "sock dump --pid $pid --fd $fd -o /tmp/x.img" \
	"sock restore $dir/conn.img --fd 3 -- true" "sock thaw --pid $pid --fd $fd"; do
	out=$(in_pod a $nobody crak $cmd 2>&1)
	rc=$?
	[ "$cmd" = "sock show" ] && continue
	[ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] ||
		fail "unprivileged 'crak $cmd' was not refused in one line (exit $rc): $out"
done
out=$(in_pod a crak sock freeze --tuple tcp 192.0.2.100:7302 192.0.2.3:1 2>&1) &&
	fail "a freeze of no connection succeeded"
pass "unprivileged callers are refused"

/usr/bin/python3 "$SOCK_DIR/mutate.py" "$dir/conn.img" "$dir/mut" "$FUZZ_N" ||
	fail "cannot make the mutants"
# Restored where the connection's address does not exist: whatever gets
# past the checks stops at the bind, and nothing is left.
on a "ip netns add fz && ip -n fz link set lo up && cd $dir/mut &&
	ip netns exec fz sh -c 'for f in *.img; do
		crak sock restore \$f --fd 3 -- true > /dev/null 2> \${f%.img}.err
		echo \$? > \${f%.img}.rc
	done'" || fail "the restore loop failed"
bad=0
for want in "$dir"/mut/*.want; do
	name=$(basename "$want" .want)
	err=$(cat "$dir/mut/$name.err")
	if [ "$(cat "$dir/mut/$name.rc")" != 1 ] || [ "$(wc -l < "$dir/mut/$name.err")" != 1 ] ||
		! grep -qF "$(cat "$want")" "$dir/mut/$name.err"; then
		echo "  $name: exit $(cat "$dir/mut/$name.rc"): $err (wanted: $(cat "$want"))"
		bad=1
	fi
done
[ $bad = 0 ] || fail "a broken image was not refused as it should be"
pass "$(ls "$dir"/mut/*.want | wc -l) broken images refused, each with its own one-line error"

n=0
for rc in "$dir"/mut/fuzz-*.rc; do
	err=${rc%.rc}.err
	if [ "$(cat "$rc")" != 1 ] || [ "$(wc -l < "$err")" != 1 ]; then
		echo "  $(basename "$rc" .rc): exit $(cat "$rc"): $(head -3 "$err")"
		n=$((n + 1))
	fi
done
[ $n = 0 ] || fail "$n fuzzed images were not refused in one line"
[ "$(on a ip netns exec fz ss -Htan | wc -l)" = 0 ] || fail "a refused restore left a socket"
pass "$FUZZ_N fuzzed images refused, nothing left"

out=$(in_pod a crak sock thaw --pid "$pid" --fd "$fd") || fail "thaw of the dumped socket failed: $out"
out=$(conv_end "$dir/progress" "$client") || fail "the conversation did not survive the called-off dump: $out"
wait_job "$server" > /dev/null || fail "the server failed"
on a ip netns del fz
pass "a thaw calls a dump off: the connection carries on"
rm -rf "$dir"
