# SPDX-License-Identifier: GPL-2.0
#
# X clients in a pod, their X server (Xvfb) on the peer: for x11.sh and
# make demo's X part.  Needs ../lib.sh.
#   xvfb_start DIR         Xvfb :1 on the peer, over TCP; its job handle, once
#                          it listens (its log in DIR/xvfb.log)
#   x CMD...               CMD on the peer, a client of that server
#   window NAME            the id of NAME's top window, from the server's list
#   shot WIN               a checksum of what window WIN shows
#   follows WIN            the eyes of xeyes in WIN move when the pointer does
#   pointer_start DIR      the pointer goes back and forth over the eyes (not
#                          in a subshell: the script's end stops it too);
#                          DIR/moves counts the rounds; returns once it moves
#   pointer_stop DIR       stops it; whether it ran without a failure

DISPLAY_NR=1
XPORT=$((6000 + DISPLAY_NR))

xvfb_start() {
	local h
	h=$(on_bg peer "exec Xvfb :$DISPLAY_NR -listen tcp -nolisten unix -ac \
		-screen 0 400x200x24 2> $1/xvfb.log")
	until_on peer 30 ss -Hltn "'sport = :$XPORT'" > /dev/null || return 1
	echo "$h"
}

x() { on peer "DISPLAY=:$DISPLAY_NR $*"; }

window() {
	x xwininfo -root -tree | awk -v n="\"$1\":" '$2 == n { print $1; exit }'
}

shot() {
	x "xwd -silent -id $1 | md5sum" | cut -d' ' -f1
}

# xeyes follows the server's raw motion events, which relative motion makes
# (looked at for a few seconds: a busy guest may redraw late).
follows() {
	local before after
	x xdotool mousemove 60 60
	sleep 0.5
	before=$(shot "$1")
	[ -n "$before" ] || return 1
	x xdotool mousemove_relative 200 150
	for _ in $(seq $((8 * WAIT_SCALE))); do
		sleep 0.5
		after=$(shot "$1")
		[ "$before" != "$after" ] && return 0
	done
	return 1
}

pointer_start() {
	x xdotool mousemove 80 60
	POINTER_JOB=$(on_bg peer "export DISPLAY=:$DISPLAY_NR; n=0
		until [ -e $1/moved ]; do
			xdotool mousemove_relative -- 30 15 mousemove_relative -- -30 -15
			n=\$((n + 1)); echo \$n > $1/moves.new && mv $1/moves.new $1/moves
		done")
	# shellcheck disable=SC2064
	trap "touch $1/moved 2> /dev/null" EXIT
	wait_file -s "$1/moves" 30
}

pointer_stop() {
	touch "$1/moved"
	wait_job "$POINTER_JOB" > /dev/null
}
