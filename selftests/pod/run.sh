#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300 kernels=6.12,6.1
#
# crak run makes a pod a user can rely on: it announces its addresses (a
# peer that last saw one elsewhere learns where it is), which answer from
# the segment over IPv4 and IPv6; inside, the hostname is the pod's name, the
# command sees itself as PID 2 and /tmp is its own; crak ps shows it
# running, then frozen once its crakvif is, in text and JSON; crak stop
# leaves no namespace, record, device or process.  A foreground run exits
# as its command does and leaves nothing; refused runs and stops say why in
# one line and leave nothing.
source "$(dirname "$0")/../lib.sh"

NAME=web
IP4=192.0.2.150
IP6=2001:db8::150
PORT=7700

# pods: how many pod inits run on node a.
pods() { on a "pgrep -cx crak-pod-init || true"; }

# nothing_left NAME INITS: no trace of pod NAME on node a, and INITS pod
# inits running (those of other pods).
nothing_left() {
	on a "! test -e /run/netns/$1 && ! test -e /run/crak/pods/$1 &&
		! ip netns list | grep -qw '^$1' && [ -z \"\$(ip -d link show type crakvif)\" ]" ||
		fail "pod $1 left something behind: $(on a "ls /run/netns /run/crak/pods; ip -br link")"
	[ "$(pods)" = "$2" ] || fail "$(pods) pod inits run, not $2"
}

# refused STATUS MESSAGE CMD: CMD exits STATUS on node a with one error
# line saying MESSAGE, and leaves no pod "bad" behind.
refused() {
	local want=$1 msg=$2 out rc
	shift 2
	out=$(on a "$* 2>&1 > /dev/null")
	rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, not $want: $out"
	[ "$(grep -c '^crak: ' <<< "$out")" = 1 ] || fail "'$*' said more than one error: $out"
	grep -qF -- "$msg" <<< "$out" || fail "'$*' said '$out', not '$msg'"
}

# The peer last saw the pod's address elsewhere (a pod that moved or stopped).
ELSEWHERE=02:00:5e:00:53:99
on peer "ip neigh replace $IP4 lladdr $ELSEWHERE dev eth0 nud stale" ||
	fail "cannot set the peer's neighbour entry"
# A listener in a pod of its own, which notes what it sees first in its /tmp
# (the lab's directory is under the host's /tmp, which the pod does not see).
on a "crak run --detach --name $NAME --addr $IP4/24,$IP6/64 --link eth0 -- sh -c '
	echo \$(hostname) \$\$ > /tmp/pod-$NAME
	exec socat TCP6-LISTEN:$PORT,fork,reuseaddr,ipv6only=0 EXEC:cat'" ||
	fail "crak run --detach failed"
until_on a 30 ss -N $NAME -Hltn "'sport = :$PORT'" > /dev/null ||
	fail "nothing listens in the pod"
pass "crak run --detach starts a pod and returns"

# Without a word from the peer, its cache learns where the address is now.
until_on peer 10 "ip neigh show $IP4 | grep lladdr | grep -v $ELSEWHERE" > /dev/null ||
	fail "the pod did not announce its address: the peer has $(on peer ip neigh show "$IP4")"
pass "crak run announces the pod's addresses: the peer's stale neighbour entry follows"

for addr in "$IP4" "[$IP6]"; do
	reply=$(on peer "echo hello-$PORT | socat -t $((3 * WAIT_SCALE)) -T $((5 * WAIT_SCALE)) - TCP:$addr:$PORT")
	[ "$reply" = "hello-$PORT" ] || fail "the pod did not answer on $addr: '$reply'"
done
pass "the peer reaches the pod's listener over IPv4 and IPv6"

init=$(on a "cat /run/crak/pods/$NAME" | sed -n 's/^pid=//p')
[ -n "$init" ] || fail "no init PID in the pod's record"
seen=$(on a "nsenter -t $init -m cat /tmp/pod-$NAME")
[ "$seen" = "$NAME 2" ] || fail "the pod's command saw hostname and PID '$seen', not '$NAME 2'"
on a "test ! -e /tmp/pod-$NAME" || fail "the pod's /tmp is the host's"
seen=$(on a "nsenter -t $init -m cat /proc/1/comm /proc/2/comm | tr '\n' ' '")
[ "$seen" = "crak-pod-init socat " ] || fail "the pod's /proc shows PIDs 1 and 2 as '$seen'"
pass "inside: hostname $NAME, the command is PID 2, /tmp and /proc are the pod's"

# ps_json FIELDS...: a line of the pod's fields in crak -j ps.
ps_json() {
	on a crak -j ps | /usr/bin/python3 -c "
import json, sys
p = [p for p in json.load(sys.stdin) if p['name'] == '$NAME'][0]
print(' '.join(str(p[f]) if not isinstance(p[f], list) else ','.join(p[f]) for f in sys.argv[1:]))
" "$@"
}
line=$(on a crak ps)
[ "$(wc -l <<< "$line")" = 1 ] || fail "crak ps shows more than one pod: $line"
grep -q "^$NAME: running .* 2 processes .*$IP4/24 $IP6/64" <<< "$line" ||
	fail "crak ps says: $line"
got=$(ps_json state pid addresses processes held_packets)
[ "$got" = "running $init $IP4/24,$IP6/64 2 0" ] || fail "crak -j ps says: $got"
pass "crak ps and crak -j ps show it running, with its addresses and 2 processes"

on a "ip netns exec $NAME crak vif freeze eth0" || fail "cannot freeze the pod's eth0"
on peer "ping -c 1 -W 1 $IP4 > /dev/null" && fail "a frozen pod answered"
grep -q "^$NAME: frozen " <<< "$(on a crak ps)" || fail "crak ps says: $(on a crak ps)"
got=$(ps_json state held_packets)
[ "${got% *}" = frozen ] && [ "${got#* }" -ge 1 ] || fail "crak -j ps says: $got"
pass "a freeze of the pod's eth0 shows in crak ps and crak -j ps (frozen, ${got#* } held)"

# Refused, with a reason, leaving nothing behind.
refused 1 "exists" crak run --name $NAME --addr 192.0.2.151/24 --link eth0 -- true
[ "$(ps_json state)" = frozen ] || fail "a refused duplicate changed the pod"
refused 2 "missing --addr" crak run --name bad --link eth0 -- true
refused 2 "invalid address '192.0.2.300/24'" \
	crak run --name bad --addr 192.0.2.300/24 --link eth0 -- true
refused 2 "invalid address '2001:db8::151/129'" \
	crak run --name bad --addr 192.0.2.151/24,2001:db8::151/129 --link eth0 -- true
refused 1 "no device 'nosuch0'" crak run --name bad --addr 192.0.2.151/24 --link nosuch0 -- true
refused 1 "default route via 198.51.100.1" \
	crak run --name bad --addr 192.0.2.151/24 --gw 198.51.100.1 --link eth0 -- true
refused 1 "nosuch-command: No such file" \
	crak run --name bad --addr 192.0.2.151/24 --link eth0 -- nosuch-command
refused 1 "no such pod" crak stop nosuch
nothing_left bad 1
on a "ip -d link show type crakvif | grep -q crakvif" &&
	fail "a refused run left a crakvif in the host"
pass "refused: a duplicate, a missing or bad address, an unknown link, an unreachable gateway, a missing command, an unknown pod"

mac=$(on a "cat /run/crak/pods/$NAME" | sed -n 's/^mac=//p')
on a crak stop $NAME || fail "crak stop failed"
nothing_left $NAME 0
on a "! kill -0 $init 2> /dev/null && ! pgrep -f 'TCP6-LISTEN:$PORT' > /dev/null" ||
	fail "processes of the pod outlived crak stop"
on a "ip link add link eth0 name chk0 address $mac type crakvif && ip link del chk0" ||
	fail "the pod's crakvif (MAC $mac) outlived crak stop"
[ -z "$(on a crak ps)" ] && [ "$(on a crak -j ps)" = "[]" ] || fail "crak ps still lists pods"
pass "crak stop leaves no namespace, record, crakvif or process"

on a "crak run --name fg --addr 192.0.2.151/24,2001:db8::151/64 --link eth0 -- sh -c 'exit 3'"
rc=$?
[ $rc = 3 ] || fail "a foreground pod whose command exits 3 made crak exit $rc"
nothing_left fg 0
out=$(on a "crak run --name fg --addr 192.0.2.151/24 --link eth0 -- sh -c 'hostname; echo \$\$'")
[ "$out" = "fg
2" ] || fail "a foreground pod's command said '$out'"
nothing_left fg 0
pass "a foreground run exits as its command (3) and leaves nothing"
