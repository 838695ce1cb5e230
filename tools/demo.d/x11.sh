#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An X client moves while the pointer moves over it (what killed CRAK's X
# clients in 2001): xeyes in a pod on node a draws over TCP on Xvfb on
# node peer; while the peer's pointer goes back and forth over its eyes,
# crak migrate moves the pod to node b.  The same window of the same
# connection is there afterwards, and its eyes still follow the pointer.
source "$(dirname "$0")/../../selftests/lib.sh"
source "$(dirname "$0")/../../selftests/vif/lib.sh"

t0=$(date +%s.%N)
say() { printf '[%5.1fs] %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$*"; }

dir=$LAB_DIR/shared/demo-x11
rm -rf "$dir"
mkdir -p "$dir"
ip=192.0.2.171
head -c 32 /dev/urandom | base64 > "$dir/key"
chmod 600 "$dir/key"

x() { on peer "DISPLAY=:1 $*"; }
window() { x xwininfo -root -tree | awk '$2 == "\"xeyes\":" { print $1; exit }'; }
shot() { x "xwd -silent -id $1 | md5sum" | cut -d' ' -f1; }
# follows WIN: the eyes in WIN look elsewhere once the pointer moved.
follows() {
	local before
	x xdotool mousemove 60 60 sleep 0.5
	before=$(shot "$1")
	x xdotool mousemove_relative 200 150 sleep 0.5
	[ "$(shot "$1")" != "$before" ]
}

xvfb=$(on_bg peer "exec Xvfb :1 -listen tcp -nolisten unix -ac -screen 0 400x200x24 2> $dir/xvfb.log")
crakd=$(on_bg b "exec crakd --listen $(ip4 b):7202 --key $dir/key 2> $dir/crakd.log")
until_on peer 30 ss -Hltn "'sport = :6001'" > /dev/null || exit 1
until_on b 30 ss -Hltn "'sport = :7202'" > /dev/null || exit 1
on a "crak run --detach --name xeyes --addr $ip/24 --link eth0 -- \
	xeyes -display $(ip4 peer):1 -geometry 160x120+0+0" || exit 1
for _ in $(seq 60); do
	win=$(window)
	[ -n "$win" ] && break
	sleep 0.5
done
[ -n "$win" ] || exit 1
follows "$win" || exit 1
say "xeyes in pod xeyes on node a, window $win on node peer's Xvfb: its eyes follow the pointer"
x xdotool mousemove 80 60
mover=$(on_bg peer "export DISPLAY=:1; n=0
	until [ -e $dir/moved ]; do
		xdotool mousemove_relative -- 30 15 mousemove_relative -- -30 -15
		n=\$((n + 1)); echo \$n > $dir/moves.new && mv $dir/moves.new $dir/moves
	done")
trap 'touch "$dir/moved" 2> /dev/null' EXIT
wait_file -s "$dir/moves" 30 || exit 1
say "peer: the pointer goes back and forth over the eyes"
out=$(on a crak migrate xeyes --to "$(ip4 b):7202" --key "$dir/key" 2>&1) || { echo "$out"; exit 1; }
touch "$dir/moved"
wait_job "$mover" > /dev/null
say "a: $out"
ok=0
[ "$(window)" = "$win" ] && follows "$win" && ok=1
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
