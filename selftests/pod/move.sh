#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300 kernels=6.12,6.1
#
# A pod moves to another node with two commands: crak checkpoint NAME on
# node a writes the pod (its name, MAC, addresses), its process and what
# its crakvif held for it into a file both nodes share, and takes the pod
# down; crak restart FILE on node b makes the pod again and its process
# with its PID, delivers what was held and announces the addresses there.
# Before, a checkpoint with --leave-running writes the pod's image and lets
# it run on, the conversation going on (a pause), and that image restarts
# the pod later.  The pod's server converses with a client on the peer all
# along: every round byte-exact, no SYN and no RST on the wire.  A checkpoint refused (no
# such pod, a pod with an orphan whose session leader is gone) says why in one line and leaves the pod
# running; a restart where the pod exists, or of a truncated image, is
# refused the same way and leaves nothing.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/../sockmig/lib.sh"

NAME=mv
PORT=7504
dir=$LAB_DIR/shared/pod-move
rm -rf "$dir"
mkdir -p "$dir"

# refused NODE MESSAGE CMD: CMD fails on NODE with one error line saying MESSAGE.
refused() {
	local node=$1 msg=$2 out
	shift 2
	out=$(on "$node" "$* 2>&1 > /dev/null") && fail "'$*' worked"
	[ "$(grep -c '^crak: ' <<< "$out")" = 1 ] || fail "'$*' said more than one error: $out"
	grep -qF -- "$msg" <<< "$out" || fail "'$*' said '$out', not '$msg'"
}

# state NODE: the pod's state and process count in crak ps -j on NODE.
state() {
	on "$1" crak -j ps | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["name"] == sys.argv[1]:
        print(p["state"], p["processes"])' "$NAME"
}

refused a "no pod 'nope'" crak checkpoint nope -o "$dir/nope.img"

# A pod with an orphan in a session whose leader is gone (which a restart
# could not make again) is refused, and runs on unfrozen.
on a "crak run --detach --name orphan --addr 198.51.100.10/24 --link eth0 -- sh -c 'setsid sh -c \"sleep 1234 & exit\"; sleep 1234'" ||
	fail "crak run of a pod with an orphan failed"
until_on a 10 "[ \$(pgrep -cf '^sleep 1234') = 2 ] && echo up" > /dev/null || fail "the orphan's pod did not start"
refused a "whose leader it does not descend from" crak checkpoint orphan -o "$dir/orphan.img"
on a "! test -e $dir/orphan.img && ! test -e $dir/orphan.img.partial" || fail "a refused checkpoint left a file"
on a crak ps | grep -q "^orphan: running" || fail "the refused pod is not running: $(on a crak ps)"
on a crak stop orphan > /dev/null || fail "crak stop orphan failed"
pass "a checkpoint of no pod, or of a pod with an orphan of a gone session leader, is refused in one line; the pod runs on"

pod_conv a
on a "crak run --detach --name $NAME --addr $POD_IP4/24,$POD_IP6/64 --link eth0 -- $POD_CONV server $POD_IP4 $PORT" ||
	fail "crak run of the server's pod failed"
until_on a 30 ss -N "$NAME" -Hltn "'sport = :$PORT'" > /dev/null || fail "nothing listens in the pod"
client=$(conv_client 20 "$PORT" "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 5
wire=$(capture_start peer eth0 "tcp port $PORT and $WIRE_FILTER" "$dir/wire.pcap")
mac=$(on a ip netns exec "$NAME" cat /sys/class/net/eth0/address)

out=$(on a crak checkpoint "$NAME" -o "$dir/snap.img" --leave-running 2>&1) ||
	fail "crak checkpoint --leave-running failed: $out"
echo "  $out"
grep -q "pod left running" <<< "$out" || fail "the checkpoint did not say the pod runs on: $out"
[ "$(state a)" = "running 2" ] || fail "after --leave-running the pod is '$(state a)', not 'running 2'"
wait_rounds "$dir/progress" $(($(rounds "$dir/progress") + 3))
pass "crak checkpoint --leave-running writes the pod's image; the pod runs on, its client too"

out=$(on a crak checkpoint "$NAME" -o "$dir/$NAME.img" 2>&1) || fail "crak checkpoint $NAME failed: $out"
echo "  $out"
grep -q "pod ended" <<< "$out" || fail "the checkpoint did not say the pod ended: $out"
# (The pod's init, reaped by the node's init, may linger a moment as a zombie.)
on a "! test -e /run/netns/$NAME && ! test -e /run/crak/pods/$NAME" &&
	until_on a 10 "pgrep -x crak-pod-init > /dev/null || echo gone" > /dev/null ||
	fail "the pod is still on node a: $(on a crak ps)"
pass "crak checkpoint of a pod writes its image and takes the pod down"

out=$(on b crak restart "$dir/$NAME.img" --detach 2>&1) || fail "crak restart of the pod failed: $out"
echo "  $out"
[ "$(state b)" = "running 2" ] || fail "the pod on b is '$(state b)', not 'running 2'"
[ "$(on b ip netns exec "$NAME" cat /sys/class/net/eth0/address)" = "$mac" ] ||
	fail "the pod's crakvif on b has another MAC than $mac"
on b "ip netns exec $NAME ip -br addr show eth0" | grep -q "$POD_IP6/64" ||
	fail "the pod on b lacks $POD_IP6/64"
pass "crak restart of the image makes the pod on node b: same MAC and addresses, its process running"

out=$(conv_end "$dir/progress" "$client") || fail "the conversation broke: $out"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
pass "the client's conversation goes on across the move: every round byte-exact, no SYN, no RST"

refused b "pod '$NAME' exists" crak restart "$dir/$NAME.img"
on b crak stop "$NAME" > /dev/null || fail "crak stop $NAME on b failed"
head -c 3000 "$dir/$NAME.img" > "$dir/cut.img"
refused a "it is truncated" crak restart "$dir/cut.img"
on a "! test -e /run/netns/$NAME && ! test -e /run/crak/pods/$NAME && ! pgrep -x crak-pod-init" ||
	fail "a refused restart left a pod behind: $(on a crak ps)"
pass "a restart where the pod exists, or of a truncated image, is refused in one line and leaves nothing"

# The image taken with --leave-running makes the pod again too.
out=$(on a crak restart "$dir/snap.img" --detach 2>&1) || fail "crak restart of the --leave-running image failed: $out"
[ "$(state a)" = "running 2" ] || fail "the pod restarted from the --leave-running image is '$(state a)'"
on a crak stop "$NAME" > /dev/null || fail "crak stop $NAME on a failed"
pass "the --leave-running image restarts the pod"
rm -rf "$dir"
