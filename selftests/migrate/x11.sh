#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300 kernels=6.12,6.1
#
# What CRAK could not do in 2001: an X client moves while the pointer moves
# over it.  Xvfb runs on the peer; a pod on node a holds two clients of it,
# over TCP: xeyes (its eyes follow the pointer) and xclock (it redraws each
# second).  While the peer's pointer goes back and forth over the eyes,
# crak migrate moves the pod to crakd on node b.  Afterwards both windows
# are still there, the same windows of the same connections, and both
# clients still draw: the eyes follow the pointer, the clock ticks; the
# peer saw no SYN and no RST, and was told to wait while the pod moved.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/x11_lib.sh"

CRAKD=$LAB_B_IP4:7600
dir=$LAB_DIR/shared/migrate-x11
rm -rf "$dir"
mkdir -p "$dir"
key_new "$dir/key"

# ticks WIN: the clock in WIN changes within a few seconds (it redraws each
# second; after a move its connection may take a retransmission or two to
# catch up).
ticks() {
	local before after
	before=$(shot "$1")
	[ -n "$before" ] || return 1
	for _ in $(seq $((8 * WAIT_SCALE))); do
		sleep 0.7
		after=$(shot "$1")
		[ -n "$after" ] && [ "$before" != "$after" ] && return 0
	done
	return 1
}

# clients: the server's TCP connections to its clients, sorted.
clients() {
	on peer "ss -Htn state established '( sport = :$XPORT )'" | awk '{ print $3, $4 }' | sort
}

xvfb=$(xvfb_start "$dir") || fail "Xvfb does not listen: $(tail -3 "$dir/xvfb.log")"
crakd=$(crakd_start b "$CRAKD" "$dir/key" "$dir/crakd.log") || fail "crakd did not start"

display=$LAB_PEER_IP4:$DISPLAY_NR
on a "crak run --detach --name x --addr $POD_IP4/24 --link eth0 -- sh -c \
	'xclock -display $display -update 1 -geometry 100x100+250+0 & \
	 exec xeyes -display $display -geometry 160x120+0+0' 2> $dir/clients.log" ||
	fail "crak run of the X clients' pod failed"
for _ in $(seq 60); do
	eyes=$(window xeyes) clock=$(window xclock)
	[ -n "$eyes" ] && [ -n "$clock" ] && break
	sleep 0.5
done
[ -n "$eyes" ] && [ -n "$clock" ] || fail "the clients' windows did not appear: $(x xwininfo -root -tree)"
conns=$(clients)
[ "$(wc -l <<< "$conns")" = 2 ] || fail "the X server does not have two clients: $conns"
follows "$eyes" || fail "xeyes does not follow the pointer before the move (the check itself)"
ticks "$clock" || fail "xclock does not tick before the move (the check itself)"
pass "xeyes and xclock in a pod on node a draw on the peer's X server over TCP"

# SYNs, FINs and resets, and zero windows.
wire=$(capture_start peer eth0 "tcp port $XPORT and ($WIRE_FILTER or $ZERO_WINDOW)" "$dir/wire.pcap")
# The pointer goes back and forth over the eyes until the move is done.
pointer_start "$dir" || fail "the pointer does not move"
before=$(cat "$dir/moves")
out=$(on a crak migrate x --to "$CRAKD" --key "$dir/key" 2>&1) || fail "crak migrate failed: $out"
echo "  $out"
after=$(cat "$dir/moves")
pointer_stop "$dir" || fail "the pointer's mover failed"
echo "  the pointer went back and forth $((after - before)) times during the move"
on b crak ps | grep -q "^x: running " || fail "pod x does not run on node b: $(on b crak ps)"
on a "! test -e /run/netns/x" || fail "pod x is still on node a"
[ "$(window xeyes)" = "$eyes" ] && [ "$(window xclock)" = "$clock" ] ||
	fail "the windows are not the same ones after the move: $(x xwininfo -root -tree)"
[ "$(clients)" = "$conns" ] || fail "the X server's clients changed: $(clients), were $conns"
follows "$eyes" || fail "xeyes no longer follows the pointer after the move"
ticks "$clock" || fail "xclock no longer ticks after the move; the X server's connections:" \
	"$(on peer "ss -Htnoi '( sport = :$XPORT )'")"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
# The X server kept what it had to send meanwhile (the pointer's motion):
# the clients told it to wait (a zero window); what was on its way already
# waited for them on the frozen crakvif.
zero=$(tcpdump -nr "$dir/wire.pcap" "src $POD_IP4 and $ZERO_WINDOW" 2> /dev/null | wc -l)
[ "$zero" -ge 1 ] || fail "the X server was not told to wait during the move (no zero window)"
pass "moved to node b under a moving pointer: the same windows and connections, still drawing, no SYN, no RST"

on b crak stop x > /dev/null || fail "crak stop x on b failed"
for _ in $(seq 40); do
	[ -z "$(window xeyes)" ] && break
	sleep 0.25
done
[ -z "$(window xeyes)$(window xclock)" ] || fail "the windows outlived their pod"
kill_job "$crakd" TERM
wait_job "$crakd" > /dev/null || fail "crakd did not end cleanly on SIGTERM"
kill_job "$xvfb" TERM
wait_job "$xvfb" > /dev/null 2>&1
rm -rf "$dir"
