# SPDX-License-Identifier: GPL-2.0
#
# Helpers for crak's selftests.  A selftest runs on the host with the lab's
# environment (make check, or `lab up` + `export LAB_DIR=...`) and drives the
# nodes a, b and peer:
#
#   on NODE CMD...         run CMD on NODE (ssh-like: the words are joined and
#                          read by bash there), output streamed, its status
#   on_bg NODE CMD...      start CMD in the background; prints a handle for
#                          wait_job HANDLE / kill_job HANDLE [SIGNAL]
#   until_on NODE S CMD... run CMD on NODE until it prints something (which
#                          is printed), S seconds at most (then status 1;
#                          3 S on the debug kernel, as for wait_file)
#   wait_file [-s] FILE S  until FILE (in the shared directory) exists, or
#                          with -s is not empty, S seconds at most
#   barrier NAME COUNT     wait until COUNT parties reached NAME
#   nap SECONDS            sleep, without starting a sleep(1), on the host
#   ip4 NODE, ip6 NODE, mac NODE
#   kmemleak_check NODE    on the debug kernel: fail if kmemleak finds leaks
#   key_new FILE           a new key for crak migrate and crakd, mode 600
#   crakd_start NODE ADDR:PORT KEY LOG
#                          crakd on NODE, listening when this returns (its
#                          job's handle printed; its log in LOG), or status 1
#                          (call it after unloading a module)
#   pass MSG | fail MSG | skip MSG
#
# Commands run as root in the same directory as on the host (the checkout
# and $LAB_DIR are mounted at their host paths on every node); $LAB_DIR/shared
# is a directory all nodes share.

set -u

readonly ksft_skip=4
if [ -z "${LAB_DIR:-}" ] || [ ! -d "$LAB_DIR/nodes" ]; then
	echo "run this test through 'make check' or inside a 'lab up' (LAB_DIR)" >&2
	exit $ksft_skip
fi
cd "$CRAK_SRC" || exit 1

# LAB_XTRACE=1: each command the test runs, with the time since its start,
# into its log (build/check/KERNEL/AREA-NAME.log): where a test's time goes.
if [ "${LAB_XTRACE:-}" = 1 ]; then
	_lab_t0=${EPOCHREALTIME/./}
	PS4='+ $(((${EPOCHREALTIME/./} - _lab_t0) / 1000)) ms ${BASH_SOURCE[0]##*/}:$LINENO: '
	set -x
fi

# Python for our helpers that run in guests and need only its standard
# library: without site (-S), a start costs a guest ~0.25 s less.
PY="/usr/bin/python3 -S"

# Jobs from bash (tools/lab/jobs.sh), not `lab exec`: a test runs hundreds.
source "$CRAK_SRC/tools/lab/jobs.sh"
on() { lab_run "$@"; }
on_bg() { lab_submit "$@"; }
wait_job() { lab_wait "$@"; }
kill_job() { lab_kill "$@"; }
barrier() { lab barrier "$@"; }

# The waits below are bounds, never delays: on the debug kernel, several
# times slower (and slower still on a busy machine), each bound is 3 times
# as long.
WAIT_SCALE=1
[ "${LAB_KERNEL:-}" = debug ] && WAIT_SCALE=3

# nap SECONDS: a sleep without a sleep(1) (jobs.sh's pipe nothing writes to),
# for the host's polls.
nap() {
	read -r -t "$1" -u "$_lab_nap"
	return 0
}

# A node's files reach the host through 9p at once: polling them is cheap.
wait_file() {
	local test=-e
	[ "$1" = -s ] && test=-s && shift
	for _ in $(seq $(($2 * 20 * WAIT_SCALE))); do
		[ $test "$1" ] && return 0
		nap 0.05
	done
	[ $test "$1" ]
}

# Each `on` costs ~0.06 s (a job, a bash on the node): a wait polls on the
# node, in one.  A check (ss, say) costs a TCG guest a tenth of a second
# itself, taken from what the wait waits for: after five quick tries, the
# wait polls five times a second.  It naps in `read -t` on a pipe nothing
# writes to, opened at the first retry (a sleep(1) costs a start each time;
# where that fails, in a node without /dev/fd, it sleeps).
until_on() {
	local node=$1 secs=$(($2 * WAIT_SCALE))
	shift 2
	on "$node" "end=\$((SECONDS + $secs)) tries=0 nap=
		until out=\$($*) && [ -n \"\$out\" ]; do
			[ \$SECONDS -lt \$end ] || exit 1
			[ \$tries -gt 0 ] || exec {nap}<> <(:)
			tries=\$((tries + 1))
			[ \$tries -le 5 ] && t=0.05 || t=0.2
			if [ -n \"\$nap\" ]; then read -r -t \$t -u \$nap; else sleep \$t; fi
		done
		echo \"\$out\""
}

_node_var() {
	local v="LAB_$(echo "$1" | tr '[:lower:]' '[:upper:]')_$2"
	echo "${!v:?no node $1 in this lab}"
}
ip4() { _node_var "$1" IP4; }
ip6() { _node_var "$1" IP6; }
mac() { _node_var "$1" MAC; }

# kmemleak reports objects 5 s old, and right after an unload the first scan
# still finds references the second does not.  A report goes to the kernel
# log too, where the runner shows it as the test's splat.
kmemleak_check() {
	[ "$LAB_KERNEL" = debug ] || return 0
	on "$1" 'k=/sys/kernel/debug/kmemleak; sleep 6; echo scan > $k; echo scan > $k
		r=$(< $k); echo clear > $k; [ -z "$r" ] && exit 0
		echo "lab-splat: kmemleak reports leaks:" > /dev/kmsg
		while IFS= read -r l; do echo "$l" > /dev/kmsg; done <<< "$r"; exit 1' ||
		fail "kmemleak reports leaks on $1"
}

# Captures of a connection for wire_check: its SYNs, resets and FINs (the
# FINs tell TCP's own teardown; see wire_check).
WIRE_FILTER="tcp[tcpflags] & (tcp-syn|tcp-rst|tcp-fin) != 0"
# Resets and FINs only, for wire_check FILE rst (connections made meanwhile).
RST_FILTER="tcp[tcpflags] & (tcp-rst|tcp-fin) != 0"
# A zero window that tells the peer to wait: not a reset's, whose window is
# zero too (TCP's own teardown, see wire_check).
ZERO_WINDOW="(tcp[14:2] = 0 and tcp[tcpflags] & tcp-rst = 0)"

# wire_check FILE [rst]: prints the SYNs (unless "rst") and resets in the
# capture FILE, but the resets of TCP's own teardown, and fails if there is
# one.  An end whose FIN was acknowledged is gone (LAST_ACK ends at that
# ACK); when a busy host delayed that ACK past the FIN's retransmission, the
# peer acknowledges the FIN twice and the second ACK finds no socket: the
# reset answers it with the sequence number past the end's own FIN.  That
# comes after both ends closed, whatever moved or froze before.
wire_check() {
	/usr/bin/python3 - "$@" <<'PY'
import sys
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.utils import rdpcap

syn = len(sys.argv) < 3 or sys.argv[2] != "rst"
fin_end = {}
bad = []
for p in rdpcap(sys.argv[1]):
    if TCP not in p:
        continue
    ip = p[IP] if IP in p else p[IPv6]
    t = p[TCP]
    end = (ip.src, t.sport, ip.dst, t.dport)
    if t.flags.F:
        # The segment's length by its headers: the capture keeps its start only.
        data = (ip.len - ip.ihl * 4 if IP in p else ip.plen) - t.dataofs * 4
        fin_end[end] = (t.seq + data + 1) & 0xffffffff
    teardown = t.flags.R and not t.flags.A and fin_end.get(end) == t.seq
    if (t.flags.R and not teardown) or (syn and t.flags.S):
        bad.append("%s:%d > %s:%d %s seq %d" % (ip.src, t.sport, ip.dst, t.dport, t.flags, t.seq))
print("; ".join(bad[:3]))
sys.exit(1 if bad else 0)
PY
}

key_new() { (umask 077 && head -c 32 /dev/urandom | base64 > "$1"); }

crakd_start() {
	local job said
	job=$(on_bg "$1" "exec crakd --listen $2 --key $3 ${*:5} 2> $4") || return 1
	# Its first line says it listens, or why it does not.
	said=$(until_on "$1" 30 "grep -m1 '^crakd: ' $4 2> /dev/null")
	if [ "${said#crakd: listening on }" = "$said" ]; then
		echo "crakd did not start on $1: ${said:-it said nothing}" >&2
		kill_job "$job"
		return 1
	fi
	echo "$job"
}

# syslog_start NODE: what a process's datagram socket may be connected to,
# as syslog(3)'s to /dev/log: sockets bound to SYSLOG_PATH and to the
# abstract name SYSLOG_NAME on NODE, dropping what they get; prints their
# jobs, for syslog_stop.
SYSLOG_PATH=/run/crak-selftest-log
SYSLOG_NAME=crak-selftest-log
syslog_start() {
	local jobs
	jobs="$(on_bg "$1" "exec socat -u UNIX-RECV:$SYSLOG_PATH,unlink-early - > /dev/null") $(
		on_bg "$1" "exec socat -u ABSTRACT-RECV:$SYSLOG_NAME - > /dev/null")"
	until_on "$1" 10 "ss -Hxl src $SYSLOG_PATH | grep -q . && ss -Hxl src @$SYSLOG_NAME | grep -q . && echo up" > /dev/null || {
		echo "the syslog sockets are not bound on $1" >&2
		return 1
	}
	echo "$jobs"
}

# syslog_stop JOBS...: the sockets of syslog_start go.
syslog_stop() {
	local job
	for job in "$@"; do
		kill_job "$job"
		wait_job "$job" > /dev/null 2>&1
	done
}

# (With the second of the test it came at: where a test spends its time.)
pass() { echo "ok - $* [${SECONDS} s]"; }
fail() {
	echo "FAIL - $*" >&2
	exit 1
}
skip() {
	echo "SKIP - $*"
	exit $ksft_skip
}

# spec_check NAME: uapi/linux/crak_NAME.yaml is valid for the kernel's
# netlink schema and agrees with uapi/linux/crak_NAME.h on every command and
# attribute number.  Sets spec, ynl_cli and schema for ynl (below).
spec_check() {
	spec=$CRAK_SRC/uapi/linux/crak_$1.yaml
	ynl_cli=$(lab source-file tools/net/ynl/cli.py) || skip "no linux-source-6.12"
	schema=$(lab source-file Documentation/netlink/genetlink-legacy.yaml)

	# The header's numbers, by the names the spec's prefixes give them.
	local hdr
	hdr=$(mktemp -d)
	/usr/bin/python3 - "$spec" "$schema" "$(dirname "$ynl_cli")" "$1" > "$hdr/names.c" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from lib import SpecFamily
f = SpecFamily(sys.argv[1], sys.argv[2])
print("#include <stdio.h>\n#include <linux/crak_%s.h>\nint main(void)\n{" % sys.argv[4])
for name, m in f.msgs.items():
    c = ("crak-%s-cmd-" % sys.argv[4] + name).upper().replace("-", "_")
    print('\tprintf("%%s %%d %%d\\n", "%s", %s, %d);' % (c, c, m.value))
for s in f.attr_sets.values():
    for a in s.attrs.values():
        c = (s.yaml["name-prefix"] + a.name).upper().replace("-", "_")
        print('\tprintf("%%s %%d %%d\\n", "%s", %s, %d);' % (c, c, a.value))
print("\treturn 0;\n}")
PY
	gcc -I "$CRAK_SRC/uapi" -o "$hdr/names" "$hdr/names.c" || fail "the spec names something the header lacks"
	"$hdr/names" | awk '$2 != $3 { print "  " $1 ": header " $2 ", spec " $3; bad = 1 } END { exit bad }' ||
		fail "the header and the spec disagree"
	pass "the spec is valid and agrees with the header ($("$hdr/names" | wc -l) names)"
	rm -rf "$hdr"
}

# ynl ARGS...: the kernel's ynl CLI on node a with the spec spec_check set
# (lab exec hands the node one shell line: each word is quoted for it).
# spec_check validated the spec against the schema: ynl need not again.
ynl() { on a "$(printf '%q ' /usr/bin/python3 "$ynl_cli" --spec "$spec" --no-schema "$@")"; }
