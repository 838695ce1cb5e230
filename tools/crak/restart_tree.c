// SPDX-License-Identifier: GPL-2.0
/*
 * A pod's tree of processes, made again by its init; or a tree's image
 * (crak checkpoint --tree), by crak restart, which plays the init's part
 * for its root.
 *
 * The processes come in TREE's order, parents first, and each is made by
 * its parent's restarter (clone3 with set_tid: its PID), so that it is its
 * parent's child; the pod's init makes those whose parent it is.  A new
 * process waits for its turn, a byte on a pipe of its own from the init;
 * then it takes its session and process group, reads its own process
 * image from the image descriptor they all share (the turns keep the
 * reads in order), hands the init its restore session, and makes itself
 * (restart_child.c): the shared files it owns first, its descriptors, and
 * its children, which inherit what they share with it, before its memory.
 * The init waits until it is whole (held) before the next turn.  A zombie
 * takes its session and group at once and ends again as it ended, before
 * its parent's memory comes back (whose pending SIGCHLD from it is
 * dropped: the image has the parent's own signals).
 *
 * Every descriptor of the tree (the init's standard ones, the image, the
 * turns, the shared files) sits above every number an image uses.  A
 * failure anywhere ends the init, and with it the pod's PID namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "postcopy.h"
#include "precopy.h"
#include "restart.h"
#include "tree.h"

/* Above the highest descriptor of any process, room for the tree's. */
#define TREE_GAP	16

struct tree_hello {
	uint32_t idx;
};

/* -- reading ------------------------------------------------------------------- */

static int tree_index(const struct tree_restart *tr, pid_t pid, uint32_t before)
{
	uint32_t i;

	for (i = 0; i < before; i++)
		if ((pid_t)le32toh(tr->procs[i].pid) == pid)
			return i;
	return -1;
}

static int tree_check(const struct tree_restart *tr)
{
	unsigned int commands = 0;
	uint32_t i;

	for (i = 0; i < tr->nr; i++) {
		const struct crak_img_tree_proc *p = &tr->procs[i];
		uint32_t pid = le32toh(p->pid), ppid = le32toh(p->ppid);
		int parent = tree_index(tr, ppid, i);
		bool zombie = le32toh(p->flags) & CRAK_TREE_ZOMBIE;

		if (pid <= 1 || pid > INT_MAX || tree_index(tr, pid, i) >= 0)
			return -1;
		/* Parents first; a zombie's is a process, not the init. */
		if (ppid != tr->top &&
		    (parent < 0 || le32toh(tr->procs[parent].flags) & CRAK_TREE_ZOMBIE))
			return -1;
		if (zombie && ppid == tr->top)
			return -1;
		if (le32toh(p->flags) & CRAK_TREE_COMMAND) {
			if (zombie || ppid != tr->top)
				return -1;
			commands++;
		} else if (ppid == tr->top && !tr->top) {
			/* A tree's image has one root, its command. */
			return -1;
		}
	}
	for (i = 0; i < le32toh(tr->hdr.nr_shared); i++)
		if (le32toh(tr->owner[i]) != tr->top &&
		    tree_index(tr, le32toh(tr->owner[i]), tr->nr) < 0)
			return -1;
	return commands == 1 ? 0 : -1;
}

int tree_read(struct img *im, unsigned int minor, uint32_t top, struct tree_restart *tr)
{
	/* Before minor 2 a process's entry ends at exit_status. */
	size_t each = minor < 2 ? offsetof(struct crak_img_tree_proc, ctty) : sizeof(*tr->procs);
	uint32_t type = CRAK_IMG_TREE, nr_shared, i;
	uint64_t len, need;
	char *buf;

	memset(tr, 0, sizeof(*tr));
	tr->top = top;
	tr->set = top ? "pod" : "tree";
	if (minor < 1)
		return 0;
	buf = img_read_section(im, &type, sizeof(tr->hdr), CRAK_IMAGE_SECTION_MAX, &len);
	if (!buf)
		return -1;
	memcpy(&tr->hdr, buf, sizeof(tr->hdr));
	tr->nr = le32toh(tr->hdr.nr_procs);
	nr_shared = le32toh(tr->hdr.nr_shared);
	need = sizeof(tr->hdr) + (uint64_t)tr->nr * each + (uint64_t)nr_shared * sizeof(uint32_t);
	if (!tr->nr || tr->nr > CRAK_TREE_PROCS_MAX || nr_shared > CRAK_TREE_SHARED_MAX ||
	    len < need || le32toh(tr->hdr.max_fd) > CRAK_TREE_FD_MAX) {
		pr_err("%s: the %s image's process tree is malformed", im->name, tr->set);
		free(buf);
		return -1;
	}
	tr->procs = xmalloc(tr->nr * sizeof(*tr->procs));
	memset(tr->procs, 0, tr->nr * sizeof(*tr->procs));
	for (i = 0; i < tr->nr; i++)
		memcpy(&tr->procs[i], buf + sizeof(tr->hdr) + i * each, each);
	tr->owner = xmalloc((nr_shared ?: 1) * sizeof(*tr->owner));
	memcpy(tr->owner, buf + sizeof(tr->hdr) + tr->nr * each, nr_shared * sizeof(*tr->owner));
	free(buf);
	tr->name = im->name;
	if (tree_check(tr)) {
		pr_err("%s: the %s image's process tree is malformed", im->name, tr->set);
		return -1;
	}
	if (files_read(im, nr_shared, &tr->shared, false))
		return -1;
	return 1;
}

/* The pidfds of those that said hello closed, each killed first if KILL. */
static void pidfds_close(struct tree_restart *tr, bool kill)
{
	uint32_t i;

	for (i = 0; tr->pidfd && i < tr->nr; i++) {
		if (tr->pidfd[i] < 0)
			continue;
		if (kill)
			syscall(SYS_pidfd_send_signal, tr->pidfd[i], SIGKILL, NULL, 0);
		close(tr->pidfd[i]);
		tr->pidfd[i] = -1;
	}
}

void tree_free_restart(struct tree_restart *tr)
{
	free(tr->procs);
	free(tr->owner);
	free(tr->made);
	free(tr->turn);
	pidfds_close(tr, false);
	free(tr->pidfd);
	files_free(&tr->shared);
	memset(tr, 0, sizeof(*tr));
}

pid_t tree_command(const struct tree_restart *tr)
{
	uint32_t i;

	for (i = 0; i < tr->nr; i++)
		if (le32toh(tr->procs[i].flags) & CRAK_TREE_COMMAND)
			return le32toh(tr->procs[i].pid);
	return 0;
}

/* -- in each new process ------------------------------------------------------ */

/* Every descriptor but the tree's goes: what the parent's restarter had. */
static void keep_tree_only(struct tree_restart *tr)
{
	unsigned int i, n = 0, nr_shared = tr->shared.nr;
	int *keep = xmalloc((6 + tr->nr + 2 * nr_shared) * sizeof(*keep));

	for (i = 0; i < 3; i++)
		keep[n++] = tr->stdio[i];
	keep[n++] = tr->imgfd;
	keep[n++] = tr->ctl[1];
	if (precopy_fd() >= 0)
		keep[n++] = precopy_fd();
	for (i = 0; i < tr->nr; i++)
		keep[n++] = tr->turn[2 * i];
	for (i = 0; i < 2 * nr_shared; i++)
		if (tr->made[i] >= 0)
			keep[n++] = tr->made[i];
	close_except(0, keep, n);
	free(keep);
}

/* Its session and process group, as TREE has them (0: the init's). */
static int take_groups(const struct crak_img_tree_proc *p)
{
	pid_t pid = le32toh(p->pid), sid = le32toh(p->sid), pgid = le32toh(p->pgid);

	if (sid == pid && getsid(0) != pid && setsid() < 0) {
		pr_err("restart %d: its session: %s", pid, strerror(errno));
		return -1;
	}
	if (pgid && getpgrp() != pgid && setpgid(0, pgid)) {
		pr_err("restart %d: its process group %d: %s", pid, pgid, strerror(errno));
		return -1;
	}
	return 0;
}

/* A zombie: ends again as it ended. */
static void __noreturn end_as(uint32_t status)
{
	struct rlimit none = {};
	sigset_t set;
	int sig;

	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	sig = WTERMSIG(status);
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

static void __noreturn tree_child(struct tree_restart *tr, uint32_t idx)
{
	const struct crak_img_tree_proc *p = &tr->procs[idx];
	struct restart r = { .sessfd = -1, .tree = tr };
	struct tree_hello hello = { .idx = idx };
	char cbuf[CMSG_SPACE(3 * sizeof(int))] = {};
	uint64_t base;
	int uffd = -1;
	struct iovec iov = { .iov_base = &hello, .iov_len = sizeof(hello) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	unsigned int i;
	ssize_t n;
	char c = 0;

	keep_tree_only(tr);
	for (i = 0; i < 3; i++)
		dup2(tr->stdio[i], i);
	if (le32toh(p->flags) & CRAK_TREE_ZOMBIE) {
		if (take_groups(p))
			_exit(EXIT_FAILURE);
		end_as(le32toh(p->exit_status));
	}
	while ((n = read(tr->turn[2 * idx], &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1 || c != 't' || take_groups(p))
		_exit(EXIT_FAILURE);

	r.im.fd = fcntl(tr->imgfd, F_DUPFD_CLOEXEC, 3);
	r.im.name = tr->name;
	if (r.im.fd < 0 || restart_prepare(&r))
		_exit(EXIT_FAILURE);
	if (le32toh(r.proc.pid) != le32toh(p->pid)) {
		pr_err("%s: the image of process %u comes where %u's should", tr->name,
		       le32toh(r.proc.pid), le32toh(p->pid));
		_exit(EXIT_FAILURE);
	}
	if (r.files.max_fd > (int)le32toh(tr->hdr.max_fd)) {
		pr_err("%s: process %u's descriptors are above what the tree says", tr->name,
		       le32toh(p->pid));
		_exit(EXIT_FAILURE);
	}
	/*
	 * With pages sent ahead, a userfaultfd of its memory for the init, which
	 * fills them while it runs (postcopy.c); without one, the kernel fills
	 * them before.
	 */
	if (precopy_fill_for(getpid(), &base) >= 0)
		uffd = postcopy_uffd_new();
	r.lazy = uffd >= 0;
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN((r.lazy ? 3 : 2) * sizeof(int));
	memcpy(CMSG_DATA(cm), (int[]){ r.sessfd, r.ids[0], uffd }, (r.lazy ? 3 : 2) * sizeof(int));
	msg.msg_controllen = CMSG_SPACE((r.lazy ? 3 : 2) * sizeof(int));
	if (sendmsg(tr->ctl[1], &msg, MSG_NOSIGNAL) != sizeof(hello)) {
		pr_err("restart %u: %s", le32toh(p->pid), strerror(errno));
		_exit(EXIT_FAILURE);
	}
	if (uffd >= 0)
		close(uffd);
	restart_child(&r);
}

static void take_terminal(struct tree_restart *tr, uint32_t self);

/*
 * The handles of the shared TCP and UDP sockets made so far, handed to TO
 * (whose own are none yet), or dropped when TO is NULL.
 */
static void tree_take_sock_ids(struct tree_restart *tr, struct rfiles *to)
{
	if (to) {
		to->sock_ids = tr->shared.sock_ids;
		to->nr_sock_ids = tr->shared.nr_sock_ids;
	} else {
		free(tr->shared.sock_ids);
	}
	tr->shared.sock_ids = NULL;
	tr->shared.nr_sock_ids = 0;
}

int tree_make_shared(struct restart *r, const int *stdio)
{
	struct tree_restart *tr = r->tree;

	r->files.shared = tr->made;
	r->files.nr_shared = tr->shared.nr;
	/* The sockets its parent made are its parent's to tell. */
	tree_take_sock_ids(tr, NULL);
	if (files_make_shared(&tr->shared, tr->owner, htole32(getpid()), tr->made, stdio,
			      tr->base))
		return -1;
	/* Its own to tell with its descriptors' (restart_child()). */
	tree_take_sock_ids(tr, &r->files);
	/* Its session's terminal before its own files: /dev/tty opens it. */
	take_terminal(tr, getpid());
	return 0;
}

const struct rfile *tree_shared_file(const struct tree_restart *tr, const struct rfile *rf)
{
	uint64_t idx = le64toh(rf->f.value[0]);

	if (!tr || le32toh(rf->f.type) != CRAK_FILE_SHARED || idx >= tr->shared.nr)
		return NULL;
	return &tr->shared.v[idx];
}

/*
 * A shared unix listener this process made listen, which the process above
 * it and its clients made again, listens again from here, its descriptors
 * in place: SO_PEERCRED names this one to its clients again, not the maker.
 */
int tree_listen_again(const struct restart *r)
{
	const struct tree_restart *tr = r->tree;
	unsigned int i;

	for (i = 0; i < r->files.nr; i++) {
		const struct rfile *rf = &r->files.v[i];
		const struct rfile *l = tree_shared_file(tr, rf);
		uint64_t idx = le64toh(rf->f.value[0]);

		if (!l || le32toh(l->f.type) != CRAK_FILE_UNIX ||
		    !(le64toh(l->f.value[1]) & CRAK_UNIX_LISTENING) ||
		    !(le32toh(l->f.fd_flags) & CRAK_FILE_SOCKOPTS) ||
		    le32toh(l->uopts.listen_pid) != (uint32_t)getpid() ||
		    tr->owner[idx] == (uint32_t)getpid())
			continue;
		if (unix_listen_again(le32toh(rf->f.fd), l)) {
			pr_err("restart: descriptor %u (unix socket %s): listening: %s",
			       le32toh(rf->f.fd), l->path ?: "", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Whether process PID maps the shared memory RF (CRAK_FILE_SHMEM's data). */
static bool shmem_holder(const struct rfile *rf, uint32_t pid)
{
	const __le32 *holders = rf->data;
	uint64_t i, nr = le64toh(rf->f.data_len) / sizeof(*holders);

	for (i = 0; i < nr; i++)
		if (le32toh(holders[i]) == pid)
			return true;
	return false;
}

/*
 * Whether shared memory I is, as made, the memory of the descriptor it
 * names (value[2]): filled with that one's data then, as it was.
 */
static bool memory_of_file(const struct tree_restart *tr, unsigned int i)
{
	uint64_t file = le64toh(tr->shared.v[i].f.value[2]);
	struct stat a, b;

	return file && file <= i && tr->made[file - 1] >= 0 &&
	       tr->made[i] >= 0 &&
	       !fstat(tr->made[i], &a) && !fstat(tr->made[file - 1], &b) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int tree_shmems(const struct restart *r, struct crak_ckpt_shmem *shm, unsigned int max)
{
	const struct tree_restart *tr = r->tree;
	unsigned int i, n = 0;

	for (i = 0; tr && i < tr->shared.nr; i++) {
		const struct rfile *rf = &tr->shared.v[i];

		if (le32toh(rf->f.type) != CRAK_FILE_SHMEM ||
		    !shmem_holder(rf, le32toh(r->proc.pid)))
			continue;
		if (n == max || tr->made[i] < 0) {
			pr_err("%s: process %u maps more shared memories than it can (or one not made)",
			       tr->name, le32toh(r->proc.pid));
			return -1;
		}
		shm[n].shmid = le64toh(rf->f.value[0]);
		shm[n].fd = tr->made[i];
		shm[n++].flags = memory_of_file(tr, i) ? CRAK_CKPT_SHMEM_FILLED : 0;
	}
	return n;
}

/* Whether child PID ended with wait status STATUS (and is left unreaped). */
static bool ended_as(pid_t pid, uint32_t status)
{
	siginfo_t si = {};
	int err;

	while ((err = waitid(P_PID, pid, &si, WEXITED | WNOWAIT)) < 0 && errno == EINTR)
		;
	if (err)
		return false;
	if (WIFEXITED(status))
		return si.si_code == CLD_EXITED && si.si_status == (int)WEXITSTATUS(status);
	return (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) &&
	       si.si_status == (int)WTERMSIG(status);
}

/*
 * Its session's terminal: a session leader's controlling one again; the
 * leader of the terminal's foreground group puts it there.  (Every signal
 * is blocked: no SIGTTOU.)
 */
static void take_terminal(struct tree_restart *tr, uint32_t self)
{
	const struct crak_img_tree_proc *me = NULL, *leader = NULL;
	pid_t fg;
	uint32_t i;
	int fd;

	for (i = 0; i < tr->nr; i++) {
		if (le32toh(tr->procs[i].pid) == self)
			me = &tr->procs[i];
		if (me && le32toh(tr->procs[i].pid) == le32toh(me->sid))
			leader = &tr->procs[i];
	}
	for (i = 0; me && !leader && i < tr->nr; i++)
		if (le32toh(tr->procs[i].pid) == le32toh(me->sid))
			leader = &tr->procs[i];
	if (!me || !leader || !leader->ctty)
		return;
	if (leader == me) {
		fd = pty_open_slave(le32toh(me->ctty) - 1, O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0)) {
			pr_err("restart %u: its controlling terminal /dev/pts/%u: %s", self,
			       le32toh(me->ctty) - 1, strerror(errno));
			_exit(EXIT_FAILURE);
		}
		close(fd);
	}
	/* The foreground group's first process (in TREE's order) puts it there. */
	fg = le32toh(leader->fg_pgid);
	if (!fg || (pid_t)le32toh(me->pgid) != fg || fg == (pid_t)le32toh(leader->pid))
		return;
	for (i = 0; i < tr->nr; i++)
		if ((pid_t)le32toh(tr->procs[i].pgid) == fg &&
		    !(le32toh(tr->procs[i].flags) & CRAK_TREE_ZOMBIE))
			break;
	if (i == tr->nr || le32toh(tr->procs[i].pid) != self)
		return;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TIOCSPGRP, &fg)) {
		pr_err("restart %u: the foreground of its terminal: %s", self, strerror(errno));
		_exit(EXIT_FAILURE);
	}
	close(fd);
}

/* Its children, in their order; its zombie children ended again. */
void tree_fork_children(struct restart *r)
{
	struct tree_restart *tr = r->tree;
	uint32_t self = getpid(), i;
	struct timespec zero = {};
	sigset_t chld;
	pid_t pid;

	for (i = 0; i < tr->nr; i++) {
		const struct crak_img_tree_proc *p = &tr->procs[i];

		if (le32toh(p->ppid) != self)
			continue;
		pid = clone_with_pid(le32toh(p->pid));
		if (pid == 0)
			tree_child(tr, i);
		if (pid < 0 && errno == EEXIST)
			restart_report_taken(le32toh(p->pid));
		else if (pid < 0)
			pr_err("restart %u: its child %u: %s", self, le32toh(p->pid),
			       strerror(errno));
		if (pid < 0)
			_exit(EXIT_FAILURE);
		if (!(le32toh(p->flags) & CRAK_TREE_ZOMBIE))
			continue;
		if (!ended_as(pid, le32toh(p->exit_status))) {
			pr_err("restart %u: its zombie child %d did not end as it had", self, pid);
			_exit(EXIT_FAILURE);
		}
	}
	/* Its own pending signals are the image's. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (sigtimedwait(&chld, NULL, &zero) == SIGCHLD)
		;
}

/* -- in the init ---------------------------------------------------------------- */

static int park(struct tree_restart *tr, int fd)
{
	int high;

	if (fd < 0)
		return -1;
	high = fcntl(fd, F_DUPFD_CLOEXEC, tr->base);
	close(fd);
	return high;
}

static int tree_setup(struct tree_restart *tr, struct img *im)
{
	int p[2], fd;
	uint32_t i;

	tr->base = le32toh(tr->hdr.max_fd) + TREE_GAP;
	for (i = 0; i < 3; i++) {
		fd = fcntl(i, F_GETFD) < 0 ? open("/dev/null", O_RDWR | O_CLOEXEC) : dup(i);
		tr->stdio[i] = park(tr, fd);
		if (tr->stdio[i] < 0)
			goto fail;
	}
	tr->imgfd = park(tr, dup(im->fd));
	/* Out of the way of the descriptors the processes make. */
	precopy_park(tr->base);
	if (tr->imgfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tr->ctl))
		goto fail;
	tr->ctl[0] = park(tr, tr->ctl[0]);
	tr->ctl[1] = park(tr, tr->ctl[1]);
	if (tr->ctl[0] < 0 || tr->ctl[1] < 0)
		goto fail;
	tr->turn = xmalloc(2 * tr->nr * sizeof(*tr->turn));
	for (i = 0; i < tr->nr; i++) {
		if (pipe2(p, O_CLOEXEC))
			goto fail;
		tr->turn[2 * i] = park(tr, p[0]);
		tr->turn[2 * i + 1] = park(tr, p[1]);
		if (tr->turn[2 * i] < 0 || tr->turn[2 * i + 1] < 0)
			goto fail;
	}
	tr->made = xmalloc(2 * (tr->shared.nr ?: 1) * sizeof(*tr->made));
	for (i = 0; i < 2 * tr->shared.nr; i++)
		tr->made[i] = -1;
	tr->pidfd = xmalloc(tr->nr * sizeof(*tr->pidfd));
	for (i = 0; i < tr->nr; i++)
		tr->pidfd[i] = -1;
	return 0;
fail:
	pr_err("restart: the %s's processes: %s", tr->set, strerror(errno));
	return -1;
}

/* Its restore session, from the process whose turn it is. */
static int tree_hello(struct tree_restart *tr, uint32_t idx, struct restart *r)
{
	pid_t pid = le32toh(tr->procs[idx].pid);
	struct tree_hello hello;
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { .iov_base = &hello, .iov_len = sizeof(hello) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct pollfd pfd[2] = {
		{ .fd = tr->ctl[0], .events = POLLIN },
		{ .fd = syscall(SYS_pidfd_open, pid, 0), .events = POLLIN },
	};
	struct cmsghdr *cm;
	int fds[3];
	ssize_t n;

	if (pfd[1].fd < 0) {
		pr_err("restart %s: its process %d was not made: %s", tr->name, pid,
		       strerror(errno));
		return -1;
	}
	if (write(tr->turn[2 * idx + 1], "t", 1) != 1)
		goto gone;
	while (poll(pfd, 2, -1) < 0 && errno == EINTR)
		;
	if (!(pfd[0].revents & POLLIN))
		goto gone;
	n = recvmsg(tr->ctl[0], &msg, MSG_CMSG_CLOEXEC);
	cm = CMSG_FIRSTHDR(&msg);
	if (n != sizeof(hello) || hello.idx != idx || !cm || cm->cmsg_type != SCM_RIGHTS ||
	    (cm->cmsg_len != CMSG_LEN(2 * sizeof(int)) && cm->cmsg_len != CMSG_LEN(3 * sizeof(int))))
		goto gone;
	/* A third: the userfaultfd of a process to be filled while it runs. */
	r->have_uffd = cm->cmsg_len == CMSG_LEN(3 * sizeof(int));
	memcpy(fds, CMSG_DATA(cm), (r->have_uffd ? 3 : 2) * sizeof(int));
	/* It said hello: the pidfd is its, for tree_kill(). */
	tr->pidfd[idx] = pfd[1].fd;
	r->sessfd = fds[0];
	r->ids[0] = fds[1];
	r->ids[1] = -1;
	r->uffd = r->have_uffd ? fds[2] : -1;
	return nl_open(&r->nl, &ckpt_family);
gone:
	/* (It said why itself, as restart_child() does.)  Whatever it is, it goes. */
	syscall(SYS_pidfd_send_signal, pfd[1].fd, SIGKILL, NULL, 0);
	close(pfd[1].fd);
	return -1;
}

int tree_restart_all(struct tree_restart *tr, struct img *im, struct restart ***rsp)
{
	struct restart **rs = xmalloc(tr->nr * sizeof(*rs));
	sigset_t all, old;
	uint32_t i;
	pid_t pid;

	memset(rs, 0, tr->nr * sizeof(*rs));
	*rsp = rs;
	/* A process gone before its turn fails a write: said, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (tree_setup(tr, im) ||
	    files_make_shared(&tr->shared, tr->owner, htole32(tr->top), tr->made, tr->stdio,
			      tr->base))
		return -1;
	/* Its children: every signal blocked from the start, as restart_begin(). */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < tr->nr; i++) {
		if (le32toh(tr->procs[i].ppid) != tr->top)
			continue;
		pid = clone_with_pid(le32toh(tr->procs[i].pid));
		if (pid == 0) {
			uint32_t j;

			close(tr->ctl[0]);
			for (j = 0; j < tr->nr; j++)
				close(tr->turn[2 * j + 1]);
			tree_child(tr, i);
		}
		if (pid < 0) {
			int err = errno;

			sigprocmask(SIG_SETMASK, &old, NULL);
			if (err == EEXIST)
				restart_report_taken(le32toh(tr->procs[i].pid));
			else
				pr_err("restart %s: process %u: %s", tr->name,
				       le32toh(tr->procs[i].pid), strerror(err));
			return -1;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* The processes have what they need of the tree's; a turn at a time. */
	close(tr->ctl[1]);
	for (i = 0; i < tr->nr; i++)
		close(tr->turn[2 * i]);
	for (i = 0; i < 2 * tr->shared.nr; i++)
		if (tr->made[i] >= 0)
			close(tr->made[i]);
	close(tr->imgfd);
	for (i = 0; i < 3; i++)
		close(tr->stdio[i]);
	for (i = 0; i < tr->nr; i++) {
		if (le32toh(tr->procs[i].flags) & CRAK_TREE_ZOMBIE)
			continue;
		rs[i] = xmalloc(sizeof(*rs[i]));
		memset(rs[i], 0, sizeof(*rs[i]));
		rs[i]->sessfd = -1;
		if (tree_hello(tr, i, rs[i]) ||
		    restart_whole(rs[i], le32toh(tr->procs[i].pid)))
			return -1;
	}
	for (i = 0; i < tr->nr; i++)
		close(tr->turn[2 * i + 1]);
	close(tr->ctl[0]);
	return 0;
}

int tree_go(struct tree_restart *tr, struct restart **rs)
{
	uint32_t i;

	/*
	 * Every socket carries on before any process runs: one that several
	 * share was made by the first of them, which runs last.
	 */
	for (i = 0; i < tr->shared.nr_sock_ids; i++)
		inet_thaw(tr->shared.sock_ids[i]);
	tree_take_sock_ids(tr, NULL);
	for (i = 0; i < tr->nr; i++)
		if (rs[i])
			restart_thaw(rs[i]);
	for (i = tr->nr; i-- > 0;) {
		if (rs[i] && restart_go(rs[i], le32toh(tr->procs[i].pid)))
			return -1;
		free(rs[i]);
		rs[i] = NULL;
	}
	free(rs);
	/* All run: tree_kill() has nothing left to do. */
	pidfds_close(tr, false);
	return 0;
}

void tree_kill(struct tree_restart *tr, struct restart **rs)
{
	uint32_t i;

	pidfds_close(tr, true);
	for (i = 0; rs && i < tr->nr; i++) {
		if (rs[i] && rs[i]->sessfd >= 0)
			close(rs[i]->sessfd);
		free(rs[i]);
	}
	free(rs);
}
