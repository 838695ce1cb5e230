# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the vif selftests (source after ../lib.sh).  A "pod" is a network
# namespace on a node holding a crakvif on the node's eth0, with the stable
# addresses of a migratable process.

POD_IP4=192.0.2.100
POD_IP6=2001:db8::100
POD_MAC=02:c0:00:00:01:00
VIF_DIR=$CRAK_SRC/selftests/vif

# pod_create NODE [MAC] [extra "ip link add" args]: netns "pod" with crakvif
# "pod0", addresses POD_IP4/24 and POD_IP6/64, up.
pod_create() {
	local node=$1 mac=${2:-$POD_MAC}
	shift
	[ $# -gt 0 ] && shift
	pod_create_in "$node" pod "$mac" "$POD_IP4" "$POD_IP6" "$@"
}

# pod_create_frozen NODE: pod_create, with the device frozen before it is up
# (where a moved pod arrives): the link-local traffic of coming up must not
# teach the segment's bridge the pod's MAC is here before it is ready, or
# the peer's segments reach a pod without its socket and are reset.
pod_create_frozen() {
	POD_FREEZE=1 pod_create "$@"
}

# pod_create_in NODE NETNS MAC IP4 IP6 [extra "ip link add" args]: the same,
# with another name and addresses; the device is NETNS's name with a 0.
pod_create_in() {
	local node=$1 ns=$2 mac=$3 ip4=$4 ip6=$5 freeze=true
	shift 5
	[ -n "${POD_FREEZE:-}" ] && freeze="ip netns exec $ns crak vif freeze ${ns}0"
	# No router lives on the segment: no solicitations from pods either.
	on "$node" "ip netns add $ns &&
		ip netns exec $ns sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
			net.ipv6.conf.all.router_solicitations=0 &&
		ip link add link eth0 name ${ns}0 address $mac type crakvif $* &&
		ip link set ${ns}0 netns $ns && $freeze &&
		ip -n $ns link set lo up && ip -n $ns link set ${ns}0 up &&
		ip -n $ns addr add $ip4/24 dev ${ns}0 &&
		ip -n $ns -6 addr add $ip6/64 dev ${ns}0 nodad" ||
		fail "cannot create pod $ns on $node"
}

# in_pod NODE CMD...: run CMD in the pod of NODE.
in_pod() {
	local node=$1
	shift
	on "$node" "ip netns exec pod $*"
}

# vif_json NODE: crak -j vif show pod0 (in the pod) on NODE.
vif_json() {
	in_pod "$1" crak -j vif show pod0
}

# vif_field NODE KEY: a number of crak vif show's JSON (KEY may be stats.X).
vif_field() {
	vif_json "$1" | /usr/bin/python3 -c "
import json, sys
v = json.load(sys.stdin)[0]
for k in '$2'.split('.'):
    v = v[k]
print(int(v) if isinstance(v, bool) else v)"
}

# capture_start NODE WHERE FILTER FILE [OPTIONS]: tcpdump in the background
# on NODE (WHERE: an interface, or pod:IFACE for one in the pod; OPTIONS:
# more tcpdump options, e.g. -Q in); prints a handle.
capture_start() {
	local node=$1 where=$2 filter=$3 file=$4 opts=${5:-} prefix="" h
	if [ "${where#pod:}" != "$where" ]; then
		prefix="ip netns exec pod"
		where=${where#pod:}
	fi
	rm -f "$file"
	# Each frame to the file as it comes (-U), handed over by the kernel as
	# it comes (--immediate-mode), for capture_stop to see it all written.
	# Its first 2 KiB only: in immediate mode each slot of the kernel's ring
	# is as large as a frame kept, and the ring (-B, 32 MiB) must hold a
	# burst of thousands (whole frames, 64 KiB with offloads: 512 slots).
	h=$(on_bg "$node" "echo \$\$ > $file.pid; exec $prefix tcpdump -U --immediate-mode -n \
		-s 2048 -B 32768 $opts -i $where -w $file $(printf %q "$filter") 2> $file.log")
	# tcpdump opens its file once it captures.
	for _ in $(seq $((300 * WAIT_SCALE))); do
		[ -e "$file" ] && grep -q "listening on" "$file.log" 2> /dev/null && break
		nap 0.1
	done
	[ -e "$file" ] || fail "tcpdump did not start on $node: $(cat "$file.log" 2> /dev/null)"
	echo "$h"
}

# capture_stop HANDLE FILE: stop a capture once it has written what it got:
# tcpdump leaves on SIGINT without draining its ring.  It has written every
# frame the kernel handed it before it polls for more, and in immediate mode
# the kernel wakes it for each: seen asleep in poll for half a second (what
# was still on its way has come: a reset answering the last segment, say),
# it has nothing left.  (A busy TCG guest may take a while to run it.)
capture_stop() {
	on "${1%%:*}" "pid=\$(< $2.pid) idle=0
		exec {nap}<> <(:)
		for _ in \$(seq $((600 * WAIT_SCALE))); do
			# (wchan ends without a newline: read says EOF, w is set.)
			w=
			read -r w < /proc/\$pid/wchan 2> /dev/null
			[ -n \"\$w\" ] || break
			case \$w in
			*poll*) [ \$((++idle)) -ge 10 ] && break ;;
			*) idle=0 ;;
			esac
			read -r -t 0.05 -u \$nap
		done"
	kill_job "$1" INT
	wait_job "$1" > /dev/null
}

# send NODE ARGS...: the scapy sender (send.py) on NODE.
send_frames() {
	local node=$1
	shift
	on "$node" $PY "$VIF_DIR/send.py" "$@" || fail "send.py $* failed on $node"
}

# until_held NODE N [NETNS DEV]: until the pod's pod0 (or DEV in NETNS) on
# NODE holds N frames or more: what the peer sent crosses the segment in
# its own time (seconds, on a loaded host).
until_held() {
	until_on "$1" 30 "ip netns exec ${3:-pod} crak vif show ${4:-pod0} |
		sed -n 's/.* held \\([0-9]*\\) packets .*/\\1/p' | awk '\$1 >= $2'" > /dev/null ||
		fail "${4:-pod0} on $1 holds fewer than $2 frames"
}

# wait_bound NODE PROTO PORT: until something in NODE's pod listens there
# (90 s at most, 270 on the debug kernel: a python program's start there,
# on a slow machine, once took more than 90).
wait_bound() {
	local flag
	[ "$2" = udp ] && flag=-Hlun || flag=-Hltn
	until_on "$1" 90 ss -N pod $flag "'sport = :$3'" > /dev/null ||
		fail "nothing listens on $2 port $3 in the pod of $1"
}

# pcap_check FILE ARGS...: pcap_check.py, on the host (captures are on the
# shared lab directory).
pcap_check() {
	/usr/bin/python3 "$VIF_DIR/pcap_check.py" "$@"
}
