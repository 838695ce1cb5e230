// SPDX-License-Identifier: GPL-2.0
/*
 * crak sock: one TCP connection, frozen, taken out as an image and re-created
 * elsewhere, over the crak_sock generic netlink family (crak_sockmig.ko).
 *
 * This file has the table of commands, what they share, and the commands
 * that act on one socket: freeze, thaw, dump and drop.  Naming the socket
 * (TARGET), the crakvif device holding its inbound, show, and restore have
 * files of their own.
 *
 * freeze and dump freeze the connection's flow on its crakvif device before
 * the socket, so that no inbound segment reaches a frozen socket, and thaw
 * it again if the socket part fails; thaw and drop act on the socket first,
 * then thaw the flow, which delivers what the device held.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objects.h"
#include "sock.h"

static const char *const sock_attr_names[CRAK_SOCK_A_MAX + 1] = {
	[CRAK_SOCK_A_ID] = "id",
	[CRAK_SOCK_A_FD] = "fd",
	[CRAK_SOCK_A_NETNS_FD] = "netns-fd",
	[CRAK_SOCK_A_PROTO] = "proto",
	[CRAK_SOCK_A_LADDR] = "laddr",
	[CRAK_SOCK_A_LPORT] = "lport",
	[CRAK_SOCK_A_RADDR] = "raddr",
	[CRAK_SOCK_A_RPORT] = "rport",
	[CRAK_SOCK_A_FAMILY] = "family",
	[CRAK_SOCK_A_STATE] = "state",
	[CRAK_SOCK_A_FLAGS] = "flags",
	[CRAK_SOCK_A_IMAGE_FD] = "image-fd",
	[CRAK_SOCK_A_IMAGE_BYTES] = "image-bytes",
	[CRAK_SOCK_A_NEW_FD] = "new-fd",
	[CRAK_SOCK_A_FROZEN] = "frozen",
	[CRAK_SOCK_A_RECVQ_BYTES] = "recvq-bytes",
	[CRAK_SOCK_A_SENDQ_BYTES] = "sendq-bytes",
	[CRAK_SOCK_A_DROPPED] = "dropped",
};

const struct nl_family sock_family = {
	.name = CRAK_SOCK_FAMILY_NAME,
	.module = "crak_sockmig",
	.version = CRAK_SOCK_FAMILY_VERSION,
	.mcgrp = CRAK_SOCK_MCGRP_EVENTS,
	.attr_names = sock_attr_names,
	.attr_max = CRAK_SOCK_A_MAX,
};

static const enum mnl_attr_data_type sock_policy[CRAK_SOCK_A_MAX + 1] = {
	[CRAK_SOCK_A_ID] = MNL_TYPE_U32,
	[CRAK_SOCK_A_FD] = MNL_TYPE_U32,
	[CRAK_SOCK_A_NETNS_FD] = MNL_TYPE_U32,
	[CRAK_SOCK_A_PROTO] = MNL_TYPE_U8,
	[CRAK_SOCK_A_LADDR] = MNL_TYPE_BINARY,
	[CRAK_SOCK_A_LPORT] = MNL_TYPE_U16,
	[CRAK_SOCK_A_RADDR] = MNL_TYPE_BINARY,
	[CRAK_SOCK_A_RPORT] = MNL_TYPE_U16,
	[CRAK_SOCK_A_FAMILY] = MNL_TYPE_U16,
	[CRAK_SOCK_A_STATE] = MNL_TYPE_U8,
	[CRAK_SOCK_A_FLAGS] = MNL_TYPE_U32,
	[CRAK_SOCK_A_IMAGE_FD] = MNL_TYPE_U32,
	[CRAK_SOCK_A_IMAGE_BYTES] = MNL_TYPE_U64,
	[CRAK_SOCK_A_NEW_FD] = MNL_TYPE_U32,
	[CRAK_SOCK_A_FROZEN] = MNL_TYPE_FLAG,
	[CRAK_SOCK_A_RECVQ_BYTES] = MNL_TYPE_U32,
	[CRAK_SOCK_A_SENDQ_BYTES] = MNL_TYPE_U32,
	[CRAK_SOCK_A_DROPPED] = MNL_TYPE_U64,
};

/* The top-level attributes of a crak_sock message, checked. */
int sock_parse(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	return nl_parse(nlh, sock_policy, CRAK_SOCK_A_MAX, tb);
}

/* Opens the socket of a command about @name ("id 7"), or all sockets if NULL. */
int sock_cmd_open(struct sock_cmd *sc, const struct args *args, const char *name)
{
	if (name)
		snprintf(sc->what, sizeof(sc->what), "%s %s", args->cmd->name, name);
	else
		snprintf(sc->what, sizeof(sc->what), "%s", args->cmd->name);
	return nl_open(&sc->nl, &sock_family);
}

/* The socket a request of freeze, thaw, dump, drop or GET replies with. */
struct sock_reply {
	const char *what;
	bool replied;
	struct sock_info si;
};

static int sock_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sock_reply *r = data;

	if (sock_info_parse(nlh, &r->si))
		return nl_malformed(r->what);
	r->replied = true;
	return MNL_CB_OK;
}

/* --id: the connection's tuple, which only a GET tells before the command. */
static int sock_get_conn(struct sock_cmd *sc, struct sock_target *t)
{
	struct sock_reply r = { .what = sc->what };

	sock_target_put(nl_request(&sc->nl, CRAK_SOCK_CMD_GET, NLM_F_ACK), t);
	if (nl_exec(&sc->nl, sc->what, sock_reply_cb, &r))
		return -1;
	if (!r.replied || !sock_has(&r.si, CRAK_SOCK_A_LADDR)) {
		pr_err("%s: the kernel did not tell the socket's addresses", sc->what);
		return -1;
	}
	t->conn = r.si.tuple;
	t->has_conn = true;
	return 0;
}

/* Whether the module still tracks the socket: 1 if it does, 0 if not, -1 on error. */
static int sock_tracked(struct sock_cmd *sc, const struct sock_target *t)
{
	struct sock_reply r = { .what = sc->what };
	int ret;

	sock_target_put(nl_request(&sc->nl, CRAK_SOCK_CMD_GET, NLM_F_ACK), t);
	ret = nl_exec_allow(&sc->nl, sc->what, sock_reply_cb, &r, ENOENT);
	return ret < 0 ? -1 : !ret;
}

/* dump: the image file, created 0600 or truncated; -1 after saying why. */
static int image_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		pr_err("%s: %s", path, strerror(errno));
	return fd;
}

/* Once the kernel wrote the image: its size, once it is on disk. */
static int image_commit(int fd, const char *path, uint64_t *bytes)
{
	struct stat st;

	if (fstat(fd, &st) || (S_ISREG(st.st_mode) && fsync(fd))) {
		pr_err("%s: %s (the socket stays dumped: 'crak sock thaw' cancels)", path,
		       strerror(errno));
		return -1;
	}
	if (!*bytes)
		*bytes = st.st_size;
	return S_ISREG(st.st_mode) ? sync_dir(path) : 0;
}

/* Removes an image that is not one, if it is a file (not, say, /dev/null). */
static void image_discard(int fd, const char *path)
{
	struct stat st;

	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		unlink(path);
	close(fd);
}

/* Without a reply, what the command line and the target told. */
static void op_fill(struct sock_info *si, const struct sock_target *t)
{
	if (t->kind == SOCK_TARGET_ID && !sock_has(si, CRAK_SOCK_A_ID)) {
		si->id = t->id;
		si->present |= 1U << CRAK_SOCK_A_ID;
	}
	if (t->has_conn && !sock_has(si, CRAK_SOCK_A_LADDR)) {
		si->tuple = t->conn;
		si->present |= 1U << CRAK_SOCK_A_PROTO | 1U << CRAK_SOCK_A_LADDR |
			       1U << CRAK_SOCK_A_LPORT | 1U << CRAK_SOCK_A_RADDR |
			       1U << CRAK_SOCK_A_RPORT;
	}
}

static void op_print(const struct sock_info *si, const struct sock_hold *h, const char *image)
{
	struct json j;

	if (!crak_opts.json) {
		sock_info_text(si);
		sock_hold_text(h);
		if (image)
			printf("image %s: %" PRIu64 " bytes\n", image, si->image_bytes);
		return;
	}
	json_init(&j, stdout, crak_opts.pretty);
	json_open_object(&j, NULL);
	sock_info_json(&j, si);
	sock_hold_json(&j, h);
	if (image) {
		json_string(&j, "image", image);
		json_uint(&j, "image_bytes", si->image_bytes);
	}
	json_close_object(&j);
}

/*
 * freeze, thaw, dump (with an @image to write) and drop: the command @cmd on
 * the socket TARGET names, with its crakvif flow frozen before (freeze, dump)
 * or thawed after (thaw, drop).
 */
static int sock_op(struct args *args, uint8_t cmd)
{
	bool dump = cmd == CRAK_SOCK_CMD_DUMP;
	bool holds = cmd == CRAK_SOCK_CMD_FREEZE || dump;
	struct sock_reply r = { 0 };
	const char *image = NULL;
	struct sock_target t;
	struct sock_hold h;
	struct nlmsghdr *nlh;
	struct sock_cmd sc;
	int image_fd = -1;
	int ret = 1;

	sock_target_parse(args, &t, dump ? &image : NULL);
	if (dump && !image)
		die_usage("missing -o FILE");

	if (sock_cmd_open(&sc, args, t.name))
		return 1;
	memset(&h, 0, sizeof(h));
	if (sock_target_resolve(&t, sc.what) ||
	    (t.kind == SOCK_TARGET_ID && sock_get_conn(&sc, &t)) ||
	    sock_hold_find(&h, &t, sc.what))
		goto out;
	if (dump) {
		image_fd = image_create(image);
		if (image_fd < 0)
			goto out;
	}
	if (holds && sock_hold_freeze(&h, sc.what))
		goto out;

	nlh = nl_request(&sc.nl, cmd, NLM_F_ACK);
	sock_target_put(nlh, &t);
	if (dump)
		mnl_attr_put_u32(nlh, CRAK_SOCK_A_IMAGE_FD, image_fd);
	r.what = sc.what;
	if (nl_exec(&sc.nl, sc.what, sock_reply_cb, &r)) {
		if (holds)
			sock_hold_undo(&h, sc.what);
		/* A thaw may fail after letting the socket go: then so goes its flow. */
		else if (sc.nl.err != ENOENT && !sock_tracked(&sc, &t))
			sock_hold_release(&h, sc.what);
		goto out;
	}
	if (dump && image_commit(image_fd, image, &r.si.image_bytes))
		goto out;
	if (!holds && sock_hold_release(&h, sc.what))
		goto out;
	op_fill(&r.si, &t);
	op_print(&r.si, &h, image);
	ret = 0;
out:
	if (image_fd >= 0 && ret)
		image_discard(image_fd, image);
	else if (image_fd >= 0)
		close(image_fd);
	sock_hold_close(&h);
	sock_target_close(&t);
	nl_close(&sc.nl);
	return ret;
}

/*
 * THAW of the socket crak_sockmig tracks as ID in our namespace (a restore
 * left frozen), then of its flow on its crakvif device: what that held for
 * it is delivered.  0, or -1 after saying why as "WHAT: ...".
 */
int sock_thaw_id(uint32_t id, const char *what)
{
	struct sock_target t = { .kind = SOCK_TARGET_ID, .id = id, .sock_fd = -1, .netns_fd = -1 };
	struct sock_reply r = { .what = what };
	struct sock_hold h;
	struct sock_cmd sc;
	int ret = -1;

	memset(&h, 0, sizeof(h));
	snprintf(sc.what, sizeof(sc.what), "%s", what);
	if (nl_open(&sc.nl, &sock_family))
		return -1;
	if (sock_get_conn(&sc, &t) || sock_hold_find(&h, &t, sc.what))
		goto out;
	sock_target_put(nl_request(&sc.nl, CRAK_SOCK_CMD_THAW, NLM_F_ACK), &t);
	if (nl_exec(&sc.nl, sc.what, sock_reply_cb, &r))
		goto out;
	ret = sock_hold_release(&h, sc.what);
out:
	sock_hold_close(&h);
	nl_close(&sc.nl);
	return ret;
}

static int sock_freeze(struct args *args)
{
	return sock_op(args, CRAK_SOCK_CMD_FREEZE);
}

static int sock_thaw(struct args *args)
{
	return sock_op(args, CRAK_SOCK_CMD_THAW);
}

static int sock_dump(struct args *args)
{
	return sock_op(args, CRAK_SOCK_CMD_DUMP);
}

static int sock_drop(struct args *args)
{
	return sock_op(args, CRAK_SOCK_CMD_DROP);
}

#define TARGET_HELP \
"TARGET is one of:\n" \
"  --pid P --fd N     descriptor N of process P, taken with pidfd_getfd(2):\n" \
"                     crak must be allowed to ptrace P\n" \
"  --tuple tcp|udp LADDR:LPORT RADDR:RPORT [--netns NAME]\n" \
"                     the connection between these endpoints (ADDR:PORT for\n" \
"                     IPv4, [ADDR]:PORT for IPv6), in the network namespace\n" \
"                     NAME of ip-netns(8), or in this one\n" \
"  --id ID            a socket crak_sockmig tracks, as 'crak sock show' lists\n"

static const struct command sock_commands[] = {
	{
		.name = "show",
		.synopsis = "",
		.help =
"Show the sockets crak_sockmig tracks in this network namespace, one a line:\n"
"id, protocol, local and remote endpoints, TCP state, flags (frozen, dumped,\n"
"repair, restored, closed), bytes received but unread (recvq) and sent but\n"
"unacknowledged (sendq), and packets dropped while frozen.  With -j, a JSON\n"
"array of objects.\n",
		.run = sock_show,
	}, {
		.name = "freeze",
		.synopsis = "TARGET",
		.help =
"Freeze a TCP connection: it sends nothing, and the stack sees none of its\n"
"inbound packets.  Its owner sees a stalled connection, not a broken one.  If\n"
"its local address is on a crakvif device, its flow there is frozen first, so\n"
"that inbound packets are held rather than dropped (and retransmitted by the\n"
"peer).  Prints the socket, and where its inbound goes.\n"
"\n"
TARGET_HELP,
		.run = sock_freeze,
	}, {
		.name = "thaw",
		.synopsis = "TARGET",
		.help =
"Thaw a frozen connection, or cancel its dump: it carries on where it stood.\n"
"Then thaw its flow on the crakvif device that holds its inbound, which\n"
"delivers the held packets.\n"
"\n"
TARGET_HELP,
		.run = sock_thaw,
	}, {
		.name = "dump",
		.synopsis = "TARGET -o FILE",
		.help =
"Freeze a TCP connection as freeze does, put it in TCP repair mode and write\n"
"its image to FILE.  It stays frozen: its owner's reads and writes fail, and\n"
"closing it ends it silently.  thaw cancels the dump; drop ends it here.\n"
"Prints the socket, where its inbound goes, and the size of the image.\n"
"\n"
"-o FILE    the image, created with mode 0600 (or truncated); removed if the\n"
"           dump fails\n"
"\n"
TARGET_HELP,
		.run = sock_dump,
	}, {
		.name = "drop",
		.synopsis = "TARGET",
		.help =
"End a frozen or dumped connection here, silently (no FIN, no RST): its\n"
"owner's next call fails with ECONNABORTED.  Then thaw its flow on the crakvif\n"
"device that holds its inbound: packets of the connection pass again.\n"
"\n"
TARGET_HELP,
		.run = sock_drop,
	}, {
		.name = "restore",
		.synopsis = "FILE --fd N [--frozen] -- CMD [ARGS]...",
		.help =
"Re-create the connection of the image FILE in this network namespace (no\n"
"SYN, no RST: the peer sees nothing), as descriptor N, then run CMD with it.\n"
"The connection's local address must exist here.\n"
"\n"
"--fd N      the descriptor CMD finds the socket at\n"
"--frozen    keep it frozen: it takes in and acknowledges what arrives, but\n"
"            sends no data until 'crak sock thaw'\n"
"CMD         the command crak then becomes, found as execvp(3) finds it;\n"
"            crak makes sure it exists before restoring anything\n",
		.run = sock_restore,
	}, {
		.name = "move",
		.synopsis = "--pid P --fd N --to-pid Q",
		.help =
"Re-home the connection of descriptor N of process P in process Q, which\n"
"gets a new descriptor of it; its number is printed.  P's descriptor stays,\n"
"but its calls fail (ECONNABORTED).  Q takes it where signals are delivered,\n"
"without a signal (a call it slept in is made again).  The peer sees a\n"
"pause.  Needs crak_ckpt too, and the rights ptrace would need over Q.\n",
		.run = sock_move,
	},
};

const struct object sock_object = {
	.name = "sock",
	.summary = "TCP connections: freeze, dump and restore one",
	.help =
"A TCP connection can be frozen where it stands, taken out as an image and\n"
"re-created in another process, namespace or host, without its peer noticing.\n"
"Needs the crak_sockmig module.  TARGET names a socket: --pid P --fd N,\n"
"--tuple tcp|udp LADDR:LPORT RADDR:RPORT [--netns NAME], or --id ID.  A UDP\n"
"socket moves too, bound or connected, with its queued datagrams.\n",
	.commands = sock_commands,
	.n_commands = ARRAY_SIZE(sock_commands),
};
