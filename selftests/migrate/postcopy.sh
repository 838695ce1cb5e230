#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# After crak migrate --live stops the pod, what it sent ahead is not copied
# into the restarted processes before they run: crakd leaves it missing and
# fills it while they run (post-copy), what they touch first.  A server (hog
# --churn-if, 32 MiB; 16 on the debug kernel) that, once on b, every round
# forks a child that checks its memory, moves a region with mremap, drops a
# page with madvise and maps one again, and checks all it has but a cold
# region (checked on a only: still to fill on b after rounds), moves a -> b
# mid-conversation to a crakd that fills only on demand for longer than
# the test may last (--lazy-delay): its memory is still being filled there
# (its mappings registered with a userfaultfd) while it runs those rounds,
# and it finds everything as it was.  Moved back (--live again: what is
# still to come is not sent ahead), the migration tells the pod's init on
# b to fill the rest at once, and its checkpoint there waits until it is
# whole; on a, its post-copy ends and leaves nothing registered.  The
# conversation completes, the peer saw no SYN and no RST.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/../sockmig/lib.sh"

# (On demand only for DELAY_MS: longer than the test's timeout, so only
# the migration back ends it.)
MIB=32
DELAY_MS=600000
[ "$LAB_KERNEL" = debug ] && MIB=16
PORT=7509
CRAKD_A=192.0.2.1:7603
CRAKD_B=192.0.2.2:7603
HOG=/run/crak-selftests/hog
dir=$LAB_DIR/shared/migrate-postcopy
rm -rf "$dir"
mkdir -p "$dir"
key_new "$dir/key"

# The pod hides a checkout under /tmp: the program at one path on both nodes.
for n in a b; do
	on $n "mkdir -p /run/crak-selftests && cp $CRAK_BUILD/selftests/migrate/hog $HOG" ||
		fail "cannot copy hog to $n"
done
# It churns on b only: on a, all its memory goes ahead (a page a child of
# it maps as well would not).
on a "rm -f /run/crak-selftests/churn" && on b "touch /run/crak-selftests/churn" ||
	fail "cannot say where the server churns"
# A delay that is not a number of milliseconds: one line, nothing started.
for bad in x -1 1e3 3600001; do
	out=$(on b "crakd --listen $CRAKD_B --key $dir/key --lazy-delay $bad 2>&1")
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <<< "$out")" -eq 1 ] && [[ $out == *"invalid --lazy-delay"* ]] ||
		fail "crakd --lazy-delay $bad: exit $rc, said: $out"
done
crakd_b=$(crakd_start b "$CRAKD_B" "$dir/key" "$dir/crakd-b.log" --lazy-delay $DELAY_MS) ||
	fail "crakd did not start on b"
crakd_a=$(crakd_start a "$CRAKD_A" "$dir/key" "$dir/crakd-a.log") || fail "crakd did not start on a"

# Registered with a userfaultfd: "um" among the flags of a mapping of NODE's hog.
# (The server ends at the first page that is not as it was.)
registered() {
	local pid
	pid=$(on "$1" "pgrep -o -f '^$HOG --churn-if'") ||
		fail "the server is not running on $1: it found its memory changed, or died" \
			"(crakd there: $(tail -3 "$dir/crakd-$1.log" | tr '\n' ' '))" \
			"(it said: $(on "$1" cat /run/crak-selftests/hog.err | tr '\n' ' '))"
	on "$1" "grep -c '^VmFlags:.* um' /proc/$pid/smaps"
}

# What the server (and a child of it) on b waits in, when its rounds stop.
stuck() {
	on b "for p in \$(pgrep -f '^$HOG --churn-if'); do for t in /proc/\$p/task/*; do
		echo \$t \$(cat \$t/wchan) \$(head -c 300 \$t/stack | tr '\\n' ' '); done; done
		cat /run/crak-selftests/hog.err; tail -5 $dir/crakd-b.log" >&2
}

# Its standard error, what it found changed, in a file at one path on both nodes.
for n in a b; do
	on $n ": > /run/crak-selftests/hog.err" || fail "cannot make hog's log on $n"
done
on a "crak run --detach --name pc --addr $POD_IP4/24 --link eth0 -- sh -c 'exec $HOG --churn-if /run/crak-selftests/churn $MIB $POD_IP4 $PORT 2> /run/crak-selftests/hog.err'" ||
	fail "crak run of the server's pod failed"
until_on a 60 ss -N pc -Hltn "'sport = :$PORT'" > /dev/null || fail "nothing listens in the pod"
client=$(conv_client 20 "$PORT" "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 3
wire=$(capture_start peer eth0 "tcp port $PORT and $WIRE_FILTER" "$dir/wire.pcap")

out=$(on a "crak -j migrate pc --to $CRAKD_B --key $dir/key --live 2> $dir/migrate.err") ||
	fail "crak migrate --live failed: $(cat "$dir/migrate.err") $(tail -3 "$dir/crakd-b.log")"
echo "  a -> b: $out"
n=$(registered b) && [ "$n" -gt 0 ] ||
	fail "no mapping of the server on b is registered for post-copy (${n:-none}): its memory was copied before it ran" \
		"(it said: $(on b cat /run/crak-selftests/hog.err | tr '\n' ' '))"
# Rounds while what was sent ahead is only filled on demand.
at=$(rounds "$dir/progress")
# (Each checks all the server's memory: pages come one fault at a time.)
(wait_rounds "$dir/progress" $((at + 3)) 240) || { stuck; exit 1; }
n=$(registered b) && [ "$n" -gt 0 ] ||
	fail "the post-copy ended before the rounds that churn during it"
echo "  $n mappings still being filled on b after 3 rounds"

out=$(on b "crak -j migrate pc --to $CRAKD_A --key $dir/key --live 2> $dir/back.err") ||
	fail "crak migrate --live back to a failed: $(cat "$dir/back.err") $(tail -3 "$dir/crakd-a.log")"
echo "  b -> a (filled at once, waited for): $out"
on a crak ps | grep -q "^pc: running " || fail "pod pc is not running on a"
# Filled there too, at once: then its memory is as any other's again.
pid=$(on a "pgrep -o -f '^$HOG --churn-if'") || fail "the server is not running on a"
until_on a 60 "! grep -q '^VmFlags:.* um' /proc/$pid/smaps && echo whole" > /dev/null ||
	fail "the server's memory on a is still registered for post-copy after 60 s"
at=$(rounds "$dir/progress")
wait_rounds "$dir/progress" $((at + 3))
out=$(conv_end "$dir/progress" "$client") ||
	fail "the conversation broke (the server checks its memory at every round): $out"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
on a crak stop pc > /dev/null || fail "crak stop pc on a failed"
on b "rm -f /run/crak-selftests/churn"
pass "post-copy: the server's memory filled while it ran, through fork, mremap, madvise and munmap; moved back once whole"

for j in "$crakd_a" "$crakd_b"; do
	kill_job "$j" TERM
	wait_job "$j" > /dev/null || fail "crakd did not end cleanly"
done
rm -rf "$dir"
