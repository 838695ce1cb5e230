// SPDX-License-Identifier: GPL-2.0
/*
 * crak sock move --pid P --fd N --to-pid Q: a connection of process P
 * re-homed in process Q, which gets a new descriptor of it (printed).
 *
 * The connection is dumped (its flow held on its crakvif device, if any)
 * and restored, frozen, in the socket's network namespace, which
 * supersedes P's socket: P's descriptor stays, but its calls fail
 * (ECONNABORTED).  The new socket is thawed (it carries on and receives
 * what was held for it) while crak still holds it alone, and only then does
 * crak_ckpt's INSTALL hand it to Q (its main thread takes it where signals
 * are delivered, as a checkpoint stops it; a call it slept in is made
 * again): a frozen socket is in repair mode, where Q's first read would
 * fail.  The peer sees a pause.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ckpt.h"
#include "objects.h"
#include "sock.h"

/* Gives process PID our descriptor FD: its number there in *NEW_FD. */
static int install(pid_t pid, int fd, int *new_fd, const char *what)
{
	struct nlmsghdr *nlh;
	char path[64];
	struct nl nl;
	int mem, err;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (mem < 0) {
		pr_err("%s: process %d: %s", what, pid, errno == ENOENT ? "no such process" :
		       "cannot look inside it (it takes what ptrace would)");
		return -1;
	}
	if (nl_open(&nl, &ckpt_family)) {
		close(mem);
		return -1;
	}
	nlh = nl_request(&nl, CRAK_CKPT_CMD_INSTALL, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_PID, pid);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_MEM_FD, mem);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_FD, fd);
	err = nl_exec(&nl, what, ckpt_new_fd_cb, new_fd);
	nl_close(&nl);
	close(mem);
	return err;
}

int sock_move(struct args *args)
{
	bool has_pid = false, has_fd = false, has_to = false;
	struct sock_target t = { .kind = SOCK_TARGET_FD, .sock_fd = -1, .netns_fd = -1 };
	struct sock_hold h = { 0 };
	struct nlmsghdr *nlh;
	struct sock_cmd sc;
	char what[SOCK_WHAT_STRLEN];
	int memfd = -1, new_sock = -1, new_fd = -1, ret = 1;
	uint32_t to = 0, id = 0;
	const char *word;

	while ((word = arg_next(args))) {
		if (arg_keyword(word, "--pid", &has_pid))
			t.pid = parse_u32(arg_value(args, "number after --pid"), word, 1, INT_MAX);
		else if (arg_keyword(word, "--fd", &has_fd))
			t.fd = parse_u32(arg_value(args, "number after --fd"), word, 0, INT_MAX);
		else if (arg_keyword(word, "--to-pid", &has_to))
			to = parse_u32(arg_value(args, "number after --to-pid"), word, 1, INT_MAX);
		else
			arg_unexpected(word);
	}
	if (!has_pid || !has_fd)
		die_usage("missing --pid P --fd N");
	if (!has_to)
		die_usage("missing --to-pid Q");
	if (to == t.pid)
		die_usage("the connection is process %u's already", to);
	snprintf(t.name, sizeof(t.name), "pid %u fd %u", t.pid, t.fd);
	snprintf(what, sizeof(what), "move %s", t.name);
	snprintf(sc.what, sizeof(sc.what), "%s", what);

	if (nl_open(&sc.nl, &sock_family))
		return 1;
	if (sock_target_resolve(&t, what) || sock_hold_find(&h, &t, what) ||
	    sock_hold_freeze(&h, what))
		goto out;
	memfd = memfd_create("crak-sock", MFD_CLOEXEC);
	if (memfd < 0) {
		pr_err("%s: %s", what, strerror(errno));
		sock_hold_undo(&h, what);
		goto out;
	}
	nlh = nl_request(&sc.nl, CRAK_SOCK_CMD_DUMP, NLM_F_ACK);
	sock_target_put(nlh, &t);
	mnl_attr_put_u32(nlh, CRAK_SOCK_A_IMAGE_FD, memfd);
	if (nl_exec(&sc.nl, what, NULL, NULL)) {
		sock_hold_undo(&h, what);
		goto out;
	}

	/* A socket is restored in the caller's namespace: the socket's. */
	if (t.netns_fd >= 0 && setns(t.netns_fd, CLONE_NEWNET)) {
		pr_err("%s: cannot enter the socket's network namespace: %s", what,
		       strerror(errno));
		goto undo;
	}
	if (lseek(memfd, 0, SEEK_SET) ||
	    sock_restore_image(memfd, what, true, &new_sock, &id))
		goto undo;
	/* It carries on, and gets what was held for it, before Q sees it. */
	if (sock_thaw_id(id, what))
		goto out;
	if (install(to, new_sock, &new_fd, what)) {
		pr_err("%s: the connection is lost", what);
		goto out;
	}
	if (crak_opts.json)
		printf("{\"pid\":%u,\"fd\":%d}\n", to, new_fd);
	else
		printf("%d\n", new_fd);
	ret = 0;
	goto out;
undo:
	/* The dump is called off: P's connection carries on. */
	nlh = nl_request(&sc.nl, CRAK_SOCK_CMD_THAW, NLM_F_ACK);
	sock_target_put(nlh, &t);
	if (!nl_exec(&sc.nl, what, NULL, NULL))
		sock_hold_release(&h, what);
out:
	if (new_sock >= 0)
		close(new_sock);
	if (memfd >= 0)
		close(memfd);
	sock_hold_close(&h);
	sock_target_close(&t);
	nl_close(&sc.nl);
	return ret;
}
