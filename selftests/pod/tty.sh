#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300 kernels=6.12,6.1
#
# A telnet session moves, the CRAK way: a pod runs busybox's telnetd, whose
# client on the peer (tty_client.py, speaking telnet) works in an
# interactive shell on one of the pod's pseudo-terminals.  crak migrate
# moves the pod (telnetd, its connection, the shell, the command it runs in
# the foreground and their terminal) to node b over crakd while the user
# types: the command goes on there and answers as the same shell (same
# PID, the variable it set before) on the same terminal (/dev/pts/0, its
# controlling one, the window size the client gave), and the line typed
# ahead and the one being typed, waiting in the terminal when the pod
# moved, are read there as typed (the latter finished after the move); the
# session ends as the user leaves it, telnetd listens on; the peer sees no
# SYN and no RST.  (busybox is static: its [vdso] lies where a dynamic
# program's libraries do, which a restart must not mind.)
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"

NAME=tty
IP=192.0.2.170
PORT=7605
CRAKD=$(ip4 b):7603
dir=$LAB_DIR/shared/pod-tty
rm -rf "$dir"
mkdir -p "$dir"
key_new "$dir/key"

# answer N: the shell's N-th answer, "pid=P tty=T size=R C x=X".
answer() {
	wait_file -s "$dir/answer$1" 60 ||
		fail "the shell gave no answer $1: $(cat "$dir/error" 2> /dev/null)"
	cat "$dir/answer$1"
}

on a "crak run --detach --name $NAME --addr $IP/24 --link eth0 -- \
	busybox telnetd -F -K -b $IP -p $PORT -l /bin/sh" ||
	fail "crak run of telnetd's pod failed"
until_on a 30 ss -N $NAME -Hltn "'sport = :$PORT'" > /dev/null || fail "nothing listens in the pod"
client=$(on_bg peer "/usr/bin/python3 $(dirname "$0")/tty_client.py --telnet $IP $PORT $dir")
one=$(answer 1)
pid=${one#pid=}
pid=${pid%% *}
boot_a=${one##* boot=}
[ "$one" = "pid=$pid tty=/dev/pts/0 size=33 101 x=kept boot=$boot_a" ] ||
	fail "the shell in the pod answered '$one'"
pass "a shell on the pod's pseudo-terminal answers the peer's user: ${one% boot=*}"

crakd=$(crakd_start b "$CRAKD" "$dir/key" "$dir/crakd.log") || fail "crakd did not start"
wire=$(capture_start peer eth0 "tcp port $PORT and $WIRE_FILTER" "$dir/wire.pcap")
touch "$dir/moving"
wait_file "$dir/sent2" 30 || fail "the user did not type: $(cat "$dir/error" 2> /dev/null)"
out=$(on a crak migrate "$NAME" --to "$CRAKD" --key "$dir/key" 2>&1) || fail "crak migrate failed: $out; crakd: $(tail -5 "$dir/crakd.log")"
echo "  $out"
# The command in the foreground ends there: the shell goes on.
on b "pkill -KILL -xf 'sleep 1000'" || fail "the shell's sleep is not running on node b"
two=$(answer 2)
boot_b=${two##* boot=}
[ "$two" = "pid=$pid tty=/dev/pts/0 size=33 101 x=kept boot=$boot_b" ] && [ "$boot_b" != "$boot_a" ] ||
	fail "after the move the shell answered '$two', not as before ('$one') from another node"
pass "the command running in the foreground during the move answers from node b, the same shell on the same terminal: ${two% boot=*}"
wait_file -s "$dir/third" 30 || fail "the line typed ahead was not run: $(cat "$dir/error" 2> /dev/null)"
wait_file -s "$dir/partial" 30 ||
	fail "the line being typed when the pod moved was not kept: $(cat "$dir/error" 2> /dev/null)"
pass "the line typed ahead and the one being typed, waiting in the terminal when the pod moved, are read there as typed"

wait_job "$client" > /dev/null || fail "the user's session broke: $(cat "$dir/error" 2> /dev/null)"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
on b "ss -N $NAME -Hltn 'sport = :$PORT'" | grep -q . || fail "telnetd no longer listens on node b"
on b crak stop "$NAME" > /dev/null || fail "crak stop $NAME failed"
pass "the session ends as the user leaves it (exit), telnetd listens on: no SYN, no RST on the wire"

kill_job "$crakd" TERM
wait_job "$crakd" > /dev/null || fail "crakd did not end cleanly: $(tail -3 "$dir/crakd.log")"
rm -rf "$dir"
