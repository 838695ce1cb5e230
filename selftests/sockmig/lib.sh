# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the sockmig selftests (source after ../lib.sh and ../vif/lib.sh).
# The server of a conversation (conv.py) lives in a pod; the client on the
# peer node.

SOCK_DIR=$CRAK_SRC/selftests/sockmig
CONV="$PY $SOCK_DIR/conv.py"
# pod_conv NODE: conv.py where a pod of crak run sees it (not under /tmp,
# which a pod has of its own: a checkout under /tmp is hidden there); sets
# POD_CONV, its command line.
pod_conv() {
	on "$1" "mkdir -p /run/crak-selftests && cp $SOCK_DIR/conv.py $SOCK_DIR/../opts.py $SOCK_DIR/../socklite.py /run/crak-selftests/" ||
		fail "cannot copy conv.py on $1"
	POD_CONV="$PY /run/crak-selftests/conv.py"
}
UDP="$PY $SOCK_DIR/udp_peer.py"

# udp_send ADDR PORT FIRST LAST [OPTIONS]: the peer sends datagrams FIRST to
# LAST to ADDR (udp_peer.py send), its neighbour entry for ADDR resolved
# first if it has none: while an entry resolves, the first datagram waits in
# its queue and the next can overtake it (seen: 2 1 3 ...).
udp_send() {
	on peer "ip neigh show $1 | grep -qE 'REACHABLE|STALE|DELAY|PROBE' ||
		ping -c 1 -W 5 $1 > /dev/null 2>&1; $UDP send $*"
}

# conv_server NODE PORT: a conversation server in NODE's pod; prints a handle
# (status 1 when it does not listen: call it as "h=$(conv_server ...) || exit 1").
conv_server() {
	local h
	h=$(on_bg "$1" "ip netns exec pod $CONV server $POD_IP4 $2")
	wait_bound "$1" tcp "$2"
	echo "$h"
}

# conv_client ROUNDS PORT PROGRESS [ARGS]: the client on the peer, in the
# background; PROGRESS is the file it counts its rounds in.  It does at
# least ROUNDS rounds and goes on until conv_go PROGRESS (then 5 more): on a
# slow kernel the conversation cannot end before the test has moved it.
# A round waits for its answer as long as it must, the test's own timeout
# its bound (a move or a fuzzing campaign on the debug kernel of a slow
# machine takes minutes; in one CI run a 580 s wait ended within six).
conv_client() {
	local rounds=$1 port=$2 progress=$3
	shift 3
	rm -f "$progress" "$progress.go"
	on_bg peer "$CONV client $POD_IP4 $port --rounds $rounds --progress $progress --until $progress.go --timeout 0 $*"
}

# conv_go PROGRESS: the client of PROGRESS may end.
conv_go() {
	touch "$1.go"
}

# conv_end PROGRESS JOB: lets the client of PROGRESS (its job JOB) end and
# waits for it; prints what it printed; status 1 unless every round was
# byte-exact ("ok N ...").
conv_end() {
	local out rc=0
	conv_go "$1"
	out=$(wait_job "$2") || rc=1
	echo "$out"
	[ $rc = 0 ] && echo "$out" | grep -q "^ok [0-9]* "
}

# peer_timeouts: the peer's TCP retransmission timeouts so far.
peer_timeouts() {
	on peer "nstat -az TcpExtTCPTimeouts" | awk '/TcpExtTCPTimeouts/ { print $2 }'
}

# rounds FILE: how many rounds a client has done.
rounds() {
	local n
	n=$(cat "$1" 2> /dev/null)
	echo "${n:-0}"
}

# wait_rounds FILE N [SECS]: until a client has done N rounds (SECS, 60
# by default, at most; three times as long on the debug kernel).
wait_rounds() {
	for _ in $(seq $((${3:-60} * 10 * WAIT_SCALE))); do
		[ "$(rounds "$1")" -ge "$2" ] && return 0
		nap 0.1
	done
	fail "the conversation did not reach $2 rounds (at $(rounds "$1"))"
}

# pod_sock NODE SS-ARGS...: "PID FD" of the first TCP socket that
# ss -Htnp SS-ARGS lists in NODE's pod.
# (The sed script takes "PID FD" out of ss -p's users:(...).)
POD_SOCK_SED='s/.*pid=\([0-9]*\),fd=\([0-9]*\).*/\1 \2/p'
pod_sock() {
	local node=$1
	shift
	on "$node" ss -N pod -Htnp "$@" | sed -n "$POD_SOCK_SED" | head -1
}

# server_sock NODE PORT: "PID FD" of the pod's established socket on PORT.
server_sock() { pod_sock "$1" state established sport = :"$2"; }

# wait_established NODE PORT: until NODE's pod has an established
# connection on PORT (a restored one), 30 s at most.
wait_established() {
	until_on "$1" 30 ss -N pod -Htn state established "'sport = :$2'" > /dev/null
}

# -- endpoint.py: one end of a connection, driven step by step ---------------
# A case sets $name (for messages); start sets $ctl, $server and $client.

EP="$PY $SOCK_DIR/endpoint.py"

# step END COMMAND: END (client, server) runs COMMAND; fails unless "ok".
# The command file appears whole (a rename): an endpoint polling for it
# must never read it empty.
declare -A next=()
step() {
	local end=$1 n answer
	shift
	n=$((${next[$end]:-0} + 1))
	next[$end]=$n
	echo "$*" > "$ctl/$end/cmd.$n.tmp"
	mv "$ctl/$end/cmd.$n.tmp" "$ctl/$end/cmd.$n"
	wait_file "$ctl/$end/done.$n" 60
	answer=$(cat "$ctl/$end/done.$n" 2> /dev/null)
	[ "$answer" = ok ] || fail "$name: $end: $*: ${answer:-no answer}"
}

# server_state PORT STATE: until the pod's socket on PORT is in STATE (ss).
server_state() {
	until_on a 30 ss -N pod -Htn state "$2" "'sport = :$1'" > /dev/null && return 0
	fail "$name: the server's connection is not $2: $(in_pod a ss -Htna sport = :"$1");" \
		"the client's: $(on b ip netns exec podb ss -Htni dport = :"$1");" \
		"the server said: $(kill_job "$server" > /dev/null 2>&1; wait_job "$server" 2>&1 | tail -3)"
}

# deaf_client on|off: the client's pod drops all that comes to it (tc), and
# still sends; what it missed, the server retransmits after.
deaf_client() {
	if [ "$1" = on ]; then
		on b "ip -n podb neigh replace $POD_IP4 lladdr $POD_MAC dev podb0 nud permanent &&
			ip -n podb neigh replace $POD_IP6 lladdr $POD_MAC dev podb0 nud permanent &&
			tc -n podb qdisc add dev podb0 ingress &&
			tc -n podb filter add dev podb0 ingress protocol all u32 match u32 0 0 action drop" ||
			fail "$name: cannot make the client deaf"
	else
		on b "tc -n podb qdisc del dev podb0 ingress" || fail "$name: the client stays deaf"
	fi
}

# start PORT ADDR CADDR [SERVER_OPTS [CLIENT_OPTS]]: a server in the pod on
# a, its client in podb on b (pod_create_in b podb ... CADDR), controlled
# from $dir/$name.
start() {
	ctl=$dir/$name
	next=()
	mkdir -p "$ctl/server" "$ctl/client"
	server=$(on_bg a "ip netns exec pod $EP listen $2 $1 --ctl $ctl/server ${4:-}")
	wait_bound a tcp "$1"
	client=$(on_bg b "ip netns exec podb $EP connect $2 $1 --bind $3 --ctl $ctl/client ${5:-}")
	wait_file "$ctl/server/state" 30 || fail "$name: no connection"
}

# move PORT STATE: dump the server's connection, end its owner, restore it
# into a new server process, which must be in STATE.
move() {
	local out
	# One command on the node: find the socket, dump it, end its owner.
	out=$(on a "set -- \$(ss -N pod -Htnp 'sport = :$1' | sed -n '$POD_SOCK_SED' | head -1)
		[ -n \"\${2:-}\" ] || { echo no server socket; exit 1; }
		ip netns exec pod crak sock dump --pid \$1 --fd \$2 -o $ctl/conn.img && kill \$1" 2>&1) ||
		fail "$name: dump failed: $out"
	wait_job "$server" > /dev/null 2>&1
	server=$(on_bg a "ip netns exec pod crak sock restore $ctl/conn.img --fd 3 -- \
		$EP fd 3 --ctl $ctl/server")
	server_state "$1" "$2"
}

# finish: both ends exit; each must have done every step.
finish() {
	step client exit
	step server exit
	wait_job "$client" || fail "$name: the client failed"
	wait_job "$server" || fail "$name: the restored server failed"
}
