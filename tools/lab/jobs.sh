# SPDX-License-Identifier: GPL-2.0
#
# Jobs on lab nodes from bash, for scripts that run many: the protocol of
# crak_lab/jobs.py without a python start per command (`lab exec` costs the
# host ~0.1 s of CPU and as much time; these cost it a few milliseconds).
# A job is a bash script renamed into $LAB_DIR/nodes/NODE/jobs/ID.cmd; the
# host's lab process sees it land and kicks the node's agent, which runs it
# and writes ID.out, ID.err and, last, ID.rc.
#
#   lab_run NODE CMD...       run CMD on NODE; its stdout, stderr, status
#   lab_submit NODE CMD...    start it; prints the handle NODE:ID
#   lab_wait HANDLE           wait for the job; its stdout, stderr, status
#                             (255 when the node is down)
#   lab_kill HANDLE [SIGNAL]  signal every process of the job's session
#
# Unlike `lab exec`, the output comes back when the job has ended.

_lab_seq=0
# A file descriptor nothing is ever written to: `read -t` on it sleeps
# without starting a sleep(1).
exec {_lab_nap}<> <(:)

# _lab_jobs NODE: sets _lab_dir, NODE's jobs directory.
_lab_jobs() {
	_lab_dir=$LAB_DIR/nodes/$1/jobs
	[ -d "$_lab_dir" ] && return 0
	echo "lab: no node '$1' in this lab" >&2
	return 1
}

# The script of a job: the caller's directory when the nodes have it, the
# LAB_* and CRAK_* variables, the command's words joined as ssh joins them.
_lab_script() {
	local cwd=$PWD var
	case $cwd/ in
	"$CRAK_SRC"/* | "$LAB_DIR"/*) ;;
	*) cwd=$CRAK_SRC ;;
	esac
	printf 'cd %q || exit 1\n' "$cwd"
	for var in $(compgen -e); do
		case $var in
		LAB_NODE) ;;
		LAB_* | CRAK_*) printf 'export %s=%q\n' "$var" "${!var}" ;;
		esac
	done
	printf '%s\n' "$*"
}

lab_submit() {
	local node=$1 id
	shift
	_lab_jobs "$node" || return 255
	id=$BASHPID-$((_lab_seq++))-${EPOCHREALTIME/./}
	_lab_script "$@" > "$_lab_dir/$id.cmd.tmp" &&
		mv "$_lab_dir/$id.cmd.tmp" "$_lab_dir/$id.cmd" || return 255
	echo "$node:$id"
}

lab_wait() {
	local node=${1%%:*} base rc='' qpid qstate n=0 trace=${-//[!x]/}
	_lab_jobs "$node" || return 255
	# (A trace, LAB_XTRACE, shows the wait, not each poll.)
	{ set +x; } 2> /dev/null
	base=$_lab_dir/${1#*:}
	until [ -e "$base.rc" ]; do
		# Every second: is the node's qemu still there?  (Not a zombie:
		# one whose guest panicked stays one until the lab reaps it.)
		if [ $((++n % 100)) = 0 ] &&
			! { read -r qpid < "$LAB_DIR/nodes/$node/qemu.pid" &&
			    read -r _ _ qstate _ < "/proc/$qpid/stat" && [ "$qstate" != Z ]; } 2> /dev/null; then
			echo "lab: node $node is down" >&2
			rc=255
			break
		fi
		read -r -t 0.01 -u "$_lab_nap"
	done
	[ -n "$rc" ] || read -r rc < "$base.rc"
	cat "$base.out" 2> /dev/null
	cat "$base.err" >&2 2> /dev/null
	rm -f "$base.cmd" "$base.out" "$base.err" "$base.rc"
	[ -z "$trace" ] || set -x
	return "$rc"
}

lab_run() {
	local handle
	handle=$(lab_submit "$@") || return 255
	lab_wait "$handle"
}

lab_kill() {
	local node=${1%%:*} sig=${2:-TERM} base
	_lab_jobs "$node" || return 1
	base=$_lab_dir/${1#*:}
	case $sig in
	*[!0-9]*) sig=$(kill -l "${sig#SIG}") || return 1 ;;
	esac
	echo "$sig" > "$base.kill.tmp" && mv "$base.kill.tmp" "$base.kill"
}
