#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An X client moves while the pointer moves over it (what killed CRAK's X
# clients in 2001): xeyes in a pod on node a draws over TCP on Xvfb on
# node peer; while the peer's pointer goes back and forth over its eyes,
# crak migrate moves the pod to node b.  The same window of the same
# connection is there afterwards, and its eyes still follow the pointer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../../selftests/migrate/x11_lib.sh"

demo_dir demo-x11
ip=192.0.2.171

xvfb=$(xvfb_start "$dir") || exit 1
crakd=$(crakd_start b "$(ip4 b):7202" "$dir/key" "$dir/crakd.log") || exit 1
on a "crak run --detach --name xeyes --addr $ip/24 --link eth0 -- \
	xeyes -display $(ip4 peer):$DISPLAY_NR -geometry 160x120+0+0" || exit 1
for _ in $(seq 60); do
	win=$(window xeyes)
	[ -n "$win" ] && break
	sleep 0.5
done
[ -n "$win" ] || exit 1
follows "$win" || exit 1
say "xeyes in pod xeyes on node a, window $win on node peer's Xvfb: its eyes follow the pointer"
pointer_start "$dir" || exit 1
say "peer: the pointer goes back and forth over the eyes"
out=$(on a crak migrate xeyes --to "$(ip4 b):7202" --key "$dir/key" 2>&1) || { echo "$out"; exit 1; }
pointer_stop "$dir"
say "a: $out"
ok=0
[ "$(window xeyes)" = "$win" ] && follows "$win" && ok=1
on b "crak ps | grep -q '^xeyes:' && crak stop xeyes" > /dev/null
kill_job "$crakd" TERM
wait_job "$crakd" > /dev/null
kill_job "$xvfb" TERM
wait_job "$xvfb" > /dev/null 2>&1
if [ $ok = 1 ]; then
	echo "xeyes moved to node b under the moving pointer: the same window, and its eyes still follow the pointer."
else
	echo "xeyes did not survive the move."
	exit 1
fi
rm -rf "$dir"
