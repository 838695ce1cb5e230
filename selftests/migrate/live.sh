#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# crak migrate --live sends a pod's memory ahead while the pod runs, and
# stops it only for what it wrote meanwhile.  A server holding 64 MiB (16
# on the debug kernel) that it checks whole, with a few pages it writes, at
# every round of its conversation with a client on the peer (hog) moves
# to crakd on node b mid-conversation: every page was sent ahead, what it
# wrote meanwhile sent again in a later round (it writes some 170 pages a
# second, a first round takes seconds in TCG), the image sent after the
# stop is a fraction of the memory, the server finds all its memory as it
# was (else it resets the connection), the conversation completes and the
# peer saw no SYN and no RST.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/../sockmig/lib.sh"

MIB=64
[ "$LAB_KERNEL" = debug ] && MIB=16
PORT=7508
CRAKD=192.0.2.2:7602
HOG=/run/crak-selftests/hog
dir=$LAB_DIR/shared/migrate-live
rm -rf "$dir"
mkdir -p "$dir"
key_new "$dir/key"

# The pod hides a checkout under /tmp: the program at one path on both nodes.
for n in a b; do
	on $n "mkdir -p /run/crak-selftests && cp $CRAK_BUILD/selftests/migrate/hog $HOG" ||
		fail "cannot copy hog to $n"
done
crakd=$(crakd_start b "$CRAKD" "$dir/key" "$dir/crakd.log") || fail "crakd did not start"

on a "crak run --detach --name live --addr $POD_IP4/24 --link eth0 -- $HOG $MIB $POD_IP4 $PORT" ||
	fail "crak run of the server's pod failed"
until_on a 60 ss -N live -Hltn "'sport = :$PORT'" > /dev/null || fail "nothing listens in the pod"
client=$(conv_client 20 "$PORT" "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 5
wire=$(capture_start peer eth0 "tcp port $PORT and $WIRE_FILTER" "$dir/wire.pcap")
out=$(on a "crak -j migrate live --to $CRAKD --key $dir/key --live 2> $dir/migrate.err") ||
	fail "crak migrate --live failed: $(cat "$dir/migrate.err") $(tail -3 "$dir/crakd.log")"
echo "  $out"
nums=$(/usr/bin/python3 -c "import json, sys
j = json.loads(sys.argv[1])
print(j['live']['pages'], j['bytes'], j['live']['rounds'], j['live']['last_pages'])" "$out") ||
	fail "crak -j migrate --live said no pre-copy: $out"
read -r ahead image rounds last <<< "$nums"
# Every page of the memory (and more: the program's own) went ahead...
[ "$ahead" -ge $((MIB * 256)) ] || fail "only $ahead pages were sent ahead of $MIB MiB"
# ...and what it wrote during the first round, again.
[ "$rounds" -ge 2 ] && [ "$last" -gt 0 ] ||
	fail "$rounds rounds, $last pages in the last: what the server wrote during the first was not sent again"
# ...and the image after the stop left them out.
[ "$image" -lt $((MIB * 1048576 / 4)) ] ||
	fail "the image sent after the stop was $image bytes: the $MIB MiB sent ahead were not left out"
echo "  sent ahead $ahead pages in $rounds rounds (the last $last); after the stop, an image of $((image / 1024)) KiB"
on b crak ps | grep -q "^live: running " || fail "pod live is not running on b"
on a "! test -e /run/netns/live" || fail "pod live is still on node a"
out=$(conv_end "$dir/progress" "$client") ||
	fail "the conversation broke (the server checks its memory at every round): $out"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
on b crak stop live > /dev/null || fail "crak stop live on b failed"
pass "crak migrate --live: $MIB MiB sent ahead, what it wrote again, a small image after the stop, the memory as it was"

kill_job "$crakd" TERM
wait_job "$crakd" > /dev/null || fail "crakd did not end cleanly: $(tail -3 "$dir/crakd.log")"
rm -rf "$dir"
