# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the sockmig selftests (source after ../lib.sh and ../vif/lib.sh).
# The server of a conversation (conv.py) lives in a pod; the client on the
# peer node.

SOCK_DIR=$CRAK_SRC/selftests/sockmig
CONV="/usr/bin/python3 $SOCK_DIR/conv.py"

# conv_server NODE PORT: a conversation server in NODE's pod; prints a handle.
conv_server() {
	local h
	h=$(on_bg "$1" "ip netns exec pod $CONV server $POD_IP4 $2")
	wait_bound "$1" tcp "$2"
	echo "$h"
}

# conv_client ROUNDS PORT PROGRESS [ARGS]: the client on the peer, in the
# background; PROGRESS is the file it counts its rounds in.
conv_client() {
	local rounds=$1 port=$2 progress=$3
	shift 3
	rm -f "$progress"
	on_bg peer "$CONV client $POD_IP4 $port --rounds $rounds --progress $progress $*"
}

# rounds FILE: how many rounds a client has done.
rounds() {
	local n
	n=$(cat "$1" 2> /dev/null)
	echo "${n:-0}"
}

# wait_rounds FILE N: until a client has done N rounds (60 s at most).
wait_rounds() {
	for _ in $(seq 600); do
		[ "$(rounds "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "the conversation did not reach $2 rounds (at $(rounds "$1"))"
}

# server_sock NODE PORT: "PID FD" of the pod's established socket on PORT.
server_sock() {
	in_pod "$1" ss -Htnp state established sport = :"$2" |
		sed -n 's/.*pid=\([0-9]*\),fd=\([0-9]*\).*/\1 \2/p' | head -1
}
