// SPDX-License-Identifier: GPL-2.0
/*
 * crak checkpoint, crak restart and crak image: the verbs' table entries,
 * their help, and the crak_ckpt family they talk to (crak_ckpt.ko).
 */
#include "ckpt.h"
#include "objects.h"

static const char *const ckpt_attr_names[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_PID] = "pid",
	[CRAK_CKPT_A_MEM_FD] = "mem-fd",
	[CRAK_CKPT_A_TIMEOUT_MS] = "timeout-ms",
	[CRAK_CKPT_A_SESSION_FD] = "session-fd",
	[CRAK_CKPT_A_NR_THREADS] = "nr-threads",
	[CRAK_CKPT_A_IMAGE_FD] = "image-fd",
	[CRAK_CKPT_A_PART] = "part",
	[CRAK_CKPT_A_SEQ] = "seq",
	[CRAK_CKPT_A_OFFSET] = "offset",
	[CRAK_CKPT_A_BUDGET] = "budget",
	[CRAK_CKPT_A_MORE] = "more",
	[CRAK_CKPT_A_PAGES] = "pages",
	[CRAK_CKPT_A_KILL] = "kill",
	[CRAK_CKPT_A_THREAD] = "thread",
	[CRAK_CKPT_A_CLOSE_FD] = "close-fd",
	[CRAK_CKPT_A_FD] = "fd",
	[CRAK_CKPT_A_PEEKED] = "peeked",
	[CRAK_CKPT_A_QUEUED] = "queued",
	[CRAK_CKPT_A_MESSAGE] = "message",
};

const struct nl_family ckpt_family = {
	.name = CRAK_CKPT_FAMILY_NAME,
	.module = "crak_ckpt",
	.version = CRAK_CKPT_FAMILY_VERSION,
	.attr_names = ckpt_attr_names,
	.attr_max = CRAK_CKPT_A_MAX,
};

static const enum mnl_attr_data_type ckpt_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_PID] = MNL_TYPE_U32,
	[CRAK_CKPT_A_SESSION_FD] = MNL_TYPE_U32,
	[CRAK_CKPT_A_NR_THREADS] = MNL_TYPE_U32,
	[CRAK_CKPT_A_SEQ] = MNL_TYPE_U32,
	[CRAK_CKPT_A_OFFSET] = MNL_TYPE_U64,
	[CRAK_CKPT_A_MORE] = MNL_TYPE_FLAG,
	[CRAK_CKPT_A_PAGES] = MNL_TYPE_U64,
	[CRAK_CKPT_A_PEEKED] = MNL_TYPE_BINARY,
	[CRAK_CKPT_A_QUEUED] = MNL_TYPE_U32,
	[CRAK_CKPT_A_MESSAGE] = MNL_TYPE_NUL_STRING,
};

int ckpt_parse(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	return nl_parse(nlh, ckpt_policy, CRAK_CKPT_A_MAX, tb);
}

int ckpt_new_fd_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_CKPT_A_MAX + 1];

	if (ckpt_parse(nlh, tb) || !tb[CRAK_CKPT_A_NEW_FD])
		return nl_malformed("crak_ckpt");
	*(int *)data = mnl_attr_get_u32(tb[CRAK_CKPT_A_NEW_FD]);
	return MNL_CB_OK;
}

const struct object checkpoint_object = {
	.name = "checkpoint",
	.summary = "a process to an image (crak_ckpt)",
	.synopsis = "PID|NAME|--tree PID -o FILE|- [--leave-running] [--live]",
	.help =
	"Stops every thread of process PID, without a signal its parent could\n"
	"see, writes its image to FILE (or standard output: -), then kills it,\n"
	"or lets it run on with --leave-running.  If anything fails the process\n"
	"runs on unharmed and no image is left.  Needs the rights ptrace would\n"
	"need over the process, and CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN.\n"
	"\n"
	"NAME, a pod of 'crak run': freezes the pod's crakvif, stops every process\n"
	"of the pod, writes the pod (name, MAC, addresses, routes), its processes\n"
	"(their tree: parents, sessions, process groups, zombies, the files they\n"
	"share) and the frames held for it meanwhile, then kills the processes\n"
	"and takes the pod down (--leave-running: thaws the crakvif, which\n"
	"delivers what it held, and the pod runs on).  'crak restart FILE' makes\n"
	"it again, here or on another node.\n"
	"\n"
	"--tree PID, outside a pod: process PID and every process under it, the\n"
	"same way (their tree, the files they share; a zombie stays one), killed\n"
	"or left running.  'crak restart FILE' makes each again with its PID,\n"
	"PID a child of crak restart.  Refused with the reason, all running on:\n"
	"a session or group whose leader is outside the tree (but PID's own), a\n"
	"session leader with a terminal, crak itself under PID.\n"
	"\n"
	"--live, of one process: its memory is written first while it runs (its\n"
	"written pages tracked by the kernel's soft-dirty bits), again what it\n"
	"wrote meanwhile while that shrinks, then it is stopped only for what it\n"
	"wrote last and the rest of its state.  The image is larger by what was\n"
	"written twice.  Needs CONFIG_MEM_SOFT_DIRTY and CAP_SYS_ADMIN.\n"
	"\n"
	"  -o, --output FILE  where the image goes (a file is written whole or not\n"
	"                     at all; - streams it, to a pipe or a socket)\n"
	"  --tree PID         PID and every process under it\n"
	"  --leave-running    the process runs on after the checkpoint\n"
	"  --live             its memory written while it runs, for a short stop\n"
	"  -j                 the summary as JSON\n",
	.run = cmd_checkpoint,
};

const struct object restart_object = {
	.name = "restart",
	.summary = "a process from its image (crak_ckpt)",
	.synopsis = "FILE|- [--detach] [--pidfile F]",
	.help =
	"Recreates the process of image FILE (or of standard input: -) with its\n"
	"PID, threads, memory, registers, signals and descriptors, on this\n"
	"terminal, and waits for it as a shell would, exiting as it exits.\n"
	"\n"
	"A pod's image ('crak checkpoint NAME') makes the pod again: its network\n"
	"namespace with a crakvif of the same MAC and addresses on the device of\n"
	"the same name, frozen until its processes run again with their PIDs,\n"
	"parents, sessions and groups; then the frames held for it are delivered\n"
	"and its addresses announced.\n"
	"\n"
	"A tree's image ('crak checkpoint --tree PID') makes every process again\n"
	"with its PID, parent, session and group, PID a child of crak restart,\n"
	"which waits for PID; if any cannot be made, none runs.\n"
	"\n"
	"  --detach        leave it running and exit once it runs\n"
	"  --pidfile F     write its PID (a pod's: its init's) to F once it runs\n",
	.run = cmd_restart,
};
