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
#   barrier NAME COUNT     wait until COUNT parties reached NAME
#   ip4 NODE, ip6 NODE, mac NODE
#   kmemleak_check NODE    on the debug kernel: fail if kmemleak finds leaks
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

on() { lab exec "$@"; }
on_bg() { lab exec -b "$@"; }
wait_job() { lab wait "$@"; }
kill_job() { lab kill "$@"; }
barrier() { lab barrier "$@"; }

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

pass() { echo "ok - $*"; }
fail() {
	echo "FAIL - $*" >&2
	exit 1
}
skip() {
	echo "SKIP - $*"
	exit $ksft_skip
}
