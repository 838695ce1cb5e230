# SPDX-License-Identifier: GPL-2.0
#
# What every part of make demo starts with: the selftests' helpers (on,
# on_bg, pods: selftests/lib.sh, selftests/vif/lib.sh), and
#   say TEXT      TEXT after the seconds since the part began
#   demo_dir NAME DIR, the part's directory, made afresh on the nodes'
#                 shared directory, with a key for crakd (DIR/key)
source "$(dirname "${BASH_SOURCE[0]}")/../../selftests/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../../selftests/vif/lib.sh"

t0=$(date +%s.%N)
say() { printf '[%5.1fs] %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$*"; }

demo_dir() {
	dir=$LAB_DIR/shared/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	key_new "$dir/key"
}
