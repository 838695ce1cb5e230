// SPDX-License-Identifier: GPL-2.0
/*
 * A pod's processes, all of them, to an image (TREE, the shared files, and
 * a process image per process), from inside the pod's PID namespace; or,
 * the same way, a process and every process under it (crak checkpoint
 * --tree PID), from where crak runs.
 *
 * Every process is stopped first (a FREEZE each, the list read again until
 * nothing new turns up: a stopped process neither forks nor reaps), then
 * each is taken as alone (checkpoint.c), then what they share is sorted
 * out: an open file that more processes hold (found with kcmp(2)), and
 * both ends of a pipe or unix socket pair between them, with the data
 * queued in them, go once into the tree's shared files,
 * each to be made by the nearest process above all its holders and
 * inherited; each holder's descriptor names it (CRAK_FILE_SHARED).  A
 * pipe whose other end is nowhere in the pod leads out of it: a standard
 * descriptor (0 to 2) is then the restarter's own, any other an error.
 *
 * The order of the tree is the order in which a restart makes the
 * processes and reads their images: parents before children, and among
 * siblings process group leaders first, so that a process joining a group
 * finds it made.  What a restart could not make again is refused here
 * with the reason: a session or process group whose leader is gone, an
 * epoll interest no holder could register again (tree_epolls()).  Memory
 * they share through no name goes with
 * the shared files too (tree_find_memory()).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "checkpoint.h"
#include "pod.h"
#include "tree.h"

#define SCAN_ROUNDS	50

struct tproc {
	struct checkpoint c;		/* c.pid: the PID in the pod */
	pid_t ppid, pgid, sid;
	int parent;			/* index, -1: the init */
	unsigned int depth;
	bool zombie;
	uint32_t exit_status;
	bool frozen;
	unsigned int rank;		/* place in the tree's order */
	uint32_t ctty;			/* a session leader's: 1 + pty index */
	pid_t fg_pgid;			/* ... its foreground group */
};

struct tree {
	pid_t root;			/* --tree's process; 0: a pod's tree */
	const char *set;		/* "pod" or "tree", for messages */
	struct tproc *v;
	unsigned int nr;
	unsigned int *order;		/* indices, in the tree's order */
	pid_t init_pgid, init_sid;
	dev_t pod_pts;			/* the pod's devpts, 0 if it has none */
	struct rfiles shared;
	uint32_t *owner;
};

/* -- finding and stopping them -------------------------------------------- */

/* What read_stat() reads of stat but for the state and the IDs. */
struct stat_more {
	uint32_t exit_status;		/* field 52 */
	unsigned int tty_nr;		/* 7: the controlling terminal */
	pid_t tpgid;			/* 8: its foreground group */
};

/* Fields 3 (state), 4 (ppid), 5 (pgrp), 6 (session), and MORE's. */
static int read_stat_more(pid_t pid, char *state, pid_t *ppid, pid_t *pgid, pid_t *sid,
			  struct stat_more *more)
{
	char path[64], buf[1024], *p;
	unsigned int i;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	memset(more, 0, sizeof(*more));
	if (!p || sscanf(p + 1, " %c %d %d %d %u %d", state, ppid, pgid, sid, &more->tty_nr,
			 &more->tpgid) != 6)
		return -1;
	/* Field 3 is the state, right after ')': 49 more to the exit code. */
	for (i = 0, p += 2; *p && i < 49; p++)
		i += *p == ' ';
	if (i == 49)
		more->exit_status = strtoul(p, NULL, 10);
	return 0;
}

static int read_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgid, pid_t *sid,
		     uint32_t *exit_status)
{
	struct stat_more more;

	if (read_stat_more(pid, state, ppid, pgid, sid, &more))
		return -1;
	*exit_status = more.exit_status;
	return 0;
}

static struct tproc *tree_find(struct tree *t, pid_t pid)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++)
		if (t->v[i].c.pid == pid)
			return &t->v[i];
	return NULL;
}

/* Whether PID is in crak's own PID namespace (not one nested in it); -1: gone. */
static int in_my_pidns(pid_t pid)
{
	struct stat mine, its;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, &its))
		return -1;
	return !stat("/proc/self/ns/pid", &mine) && mine.st_dev == its.st_dev &&
	       mine.st_ino == its.st_ino;
}

/*
 * Adds PID if new and stops it (a zombie is noted, not stopped): 1 if it
 * was new (taken, or gone meanwhile: look again), 0 if not, -1.
 */
static int tree_take(struct tree *t, pid_t pid)
{
	struct tproc *tp;
	uint32_t status;
	pid_t ppid, pgid, sid;
	char state;
	int err;

	if (tree_find(t, pid))
		return 0;
	if (read_stat(pid, &state, &ppid, &pgid, &sid, &status))
		return 0;	/* gone meanwhile */
	/* An orphan zombie is the init's to reap, at once. */
	if (!t->root && state == 'Z' && ppid == 1)
		return 0;
	if (t->root && state != 'Z') {
		int same = in_my_pidns(pid);

		if (same < 0)
			return 0;	/* gone meanwhile */
		if (!same) {
			pr_err("checkpoint: process %d is in a PID namespace nested in crak's: not taken",
			       pid);
			return -1;
		}
	}
	if (!t->root && ppid == 0) {
		pr_err("checkpoint: process %d entered the pod from outside: it cannot be taken",
		       pid);
		return -1;
	}
	if (t->nr == CRAK_TREE_PROCS_MAX) {
		pr_err("checkpoint: the %s has more than %u processes", t->set,
		       CRAK_TREE_PROCS_MAX);
		return -1;
	}
	t->v = xrealloc(t->v, (t->nr + 1) * sizeof(*t->v));
	tp = &t->v[t->nr++];
	memset(tp, 0, sizeof(*tp));
	tp->c.pid = pid;
	tp->c.memfd = tp->c.pidfd = tp->c.imgfd = tp->c.sessfd = -1;
	tp->c.quiet_gone = true;
	if (state != 'Z') {
		err = ckpt_proc_freeze(&tp->c);
		if (err < 0)
			return -1;
		tp->frozen = !err;
	}
	if (tp->frozen)
		return 1;
	/* Ended meanwhile: a zombie now, or gone (then nothing to take). */
	ckpt_proc_free(&tp->c);
	if (!read_stat(pid, &state, &ppid, &pgid, &sid, &status) && state == 'Z' && ppid != 1) {
		tp->zombie = true;
		return 1;
	}
	t->nr--;
	return 1;
}

/* Whether PID is a child of a process of the tree (that is not a zombie). */
static bool tree_parent_in(struct tree *t, pid_t pid)
{
	const struct tproc *parent;
	uint32_t status;
	pid_t ppid, pgid, sid;
	char state;

	if (read_stat(pid, &state, &ppid, &pgid, &sid, &status))
		return false;
	parent = tree_find(t, ppid);
	return parent && !parent->zombie;
}

/* --tree's process itself, stopped: 0, or -1 after saying why. */
static int tree_take_root(struct tree *t)
{
	uint32_t status;
	pid_t ppid, pgid, sid, up;
	char state;

	if (t->root == 1) {
		pr_err("checkpoint: PID 1 is its PID namespace's init: a restart could not make it a child of anything");
		return -1;
	}
	/* crak stopped with the rest would never let them go. */
	for (up = getpid(); up > 1; up = ppid) {
		if (up == t->root) {
			pr_err("checkpoint: crak itself runs under process %d: run it from outside that tree",
			       t->root);
			return -1;
		}
		if (read_stat(up, &state, &ppid, &pgid, &sid, &status))
			break;
	}
	if (read_stat(t->root, &state, &ppid, &pgid, &sid, &status)) {
		pr_err("checkpoint: no process %d", t->root);
		return -1;
	}
	if (tree_take(t, t->root) < 0)
		return -1;
	if (!t->nr || t->v[0].zombie) {
		pr_err("checkpoint: process %d has ended", t->root);
		return -1;
	}
	return 0;
}

/*
 * Every process of the pod but its init and this one, stopped; or of
 * --tree, its process and every one under it.
 */
static int tree_stop_all(struct tree *t)
{
	unsigned int round;
	struct dirent *de;
	int added, n;
	pid_t self = getpid();
	DIR *d;

	if (t->root && !t->nr && tree_take_root(t))
		return -1;
	for (round = 0; round < SCAN_ROUNDS; round++) {
		d = opendir("/proc");
		if (!d) {
			pr_err("checkpoint: /proc: %s", strerror(errno));
			return -1;
		}
		added = 0;
		while ((de = readdir(d))) {
			pid_t pid;

			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid = atoi(de->d_name);
			if (pid == 1 || pid == self)
				continue;
			if (t->root && !tree_find(t, pid) && !tree_parent_in(t, pid))
				continue;
			n = tree_take(t, pid);
			if (n < 0) {
				closedir(d);
				return -1;
			}
			added += n;
		}
		closedir(d);
		if (!added)
			break;
	}
	if (round == SCAN_ROUNDS) {
		pr_err("checkpoint: the %s's processes kept forking while being stopped", t->set);
		return -1;
	}
	if (!t->nr) {
		pr_err("checkpoint: the pod has no process to checkpoint");
		return -1;
	}
	return 0;
}

/*
 * A zombie seen before its parent stopped may have been reaped since (and
 * its PID taken again): forgotten; the number forgotten.  (--tree's own
 * process is never a zombie here: it was stopped first.)
 */
static unsigned int tree_drop_reaped(struct tree *t)
{
	unsigned int i, n = 0;
	uint32_t status;
	pid_t ppid, pgid, sid;
	char state;

	for (i = 0; i < t->nr; i++) {
		if (t->v[i].zombie && (read_stat(t->v[i].c.pid, &state, &ppid, &pgid, &sid,
						 &status) || state != 'Z')) {
			t->v[i--] = t->v[--t->nr];
			n++;
		}
	}
	return n;
}

/* -- the tree and its order ---------------------------------------------------- */

/* Their parents, sessions and groups, now that they are still. */
static int tree_link(struct tree *t)
{
	uint32_t status;
	pid_t ppid;
	char state;
	unsigned int i;

	if (t->root) {
		/* What --tree's process does not lead is the restarter's. */
		const struct tproc *root = tree_find(t, t->root);

		if (read_stat(t->root, &state, &ppid, &t->init_pgid, &t->init_sid, &status)) {
			pr_err("checkpoint: process %d ended while stopped", t->root);
			return -1;
		}
		if (t->init_sid == root->c.pid)
			t->init_sid = -1;
		if (t->init_pgid == root->c.pid)
			t->init_pgid = -1;
	} else if (read_stat(1, &state, &ppid, &t->init_pgid, &t->init_sid, &status)) {
		pr_err("checkpoint: the pod's init: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < t->nr; i++) {
		struct tproc *tp = &t->v[i], *parent;
		struct stat_more more;

		if (read_stat_more(tp->c.pid, &state, &tp->ppid, &tp->pgid, &tp->sid, &more) ||
		    (state == 'Z') != tp->zombie) {
			pr_err("checkpoint: process %d ended while stopped", tp->c.pid);
			return -1;
		}
		tp->exit_status = more.exit_status;
		/* A session of the pod's own with a terminal: one of the pod's. */
		if (tp->sid == tp->c.pid && tp->sid != t->init_sid && more.tty_nr && !tp->zombie) {
			dev_t dev = makedev((more.tty_nr >> 8) & 0xfff,
					    (more.tty_nr & 0xff) | ((more.tty_nr >> 12) & 0xfff00));
			int idx = t->pod_pts ? pty_slave_index(dev) : -1;

			if (idx < 0 && t->root) {
				pr_err("checkpoint: process %d leads a session with a controlling terminal: not taken (only a pod's terminals are)",
				       tp->c.pid);
				return -1;
			}
			if (idx < 0) {
				pr_err("checkpoint: process %d's controlling terminal is not one of the pod's: not taken",
				       tp->c.pid);
				return -1;
			}
			tp->ctty = idx + 1;
			tp->fg_pgid = more.tpgid > 0 ? more.tpgid : 0;
		}
		tp->parent = -1;
		/* --tree's process comes back the restarter's child: 0. */
		if (tp->c.pid == t->root)
			tp->ppid = 0;
		if (t->root ? !tp->ppid : tp->ppid == 1)
			continue;
		parent = tree_find(t, tp->ppid);
		if (!parent || parent->zombie) {
			pr_err("checkpoint: process %d's parent %d is not in the %s", tp->c.pid,
			       tp->ppid, t->set);
			return -1;
		}
		tp->parent = parent - t->v;
	}
	return 0;
}

static struct tree *sort_tree;

/* Siblings: group leaders first, then by PID. */
static int sibling_cmp(const void *a, const void *b)
{
	const struct tproc *x = &sort_tree->v[*(const unsigned int *)a];
	const struct tproc *y = &sort_tree->v[*(const unsigned int *)b];
	bool lx = x->pgid == x->c.pid, ly = y->pgid == y->c.pid;

	if (lx != ly)
		return lx ? -1 : 1;
	return x->c.pid - y->c.pid;
}

static void tree_visit(struct tree *t, int parent, unsigned int depth, unsigned int *n)
{
	unsigned int i, nr = 0, *kids = xmalloc(t->nr * sizeof(*kids));

	for (i = 0; i < t->nr; i++)
		if (t->v[i].parent == parent)
			kids[nr++] = i;
	sort_tree = t;
	qsort(kids, nr, sizeof(*kids), sibling_cmp);
	for (i = 0; i < nr; i++) {
		t->v[kids[i]].depth = depth;
		t->v[kids[i]].rank = *n;
		t->order[(*n)++] = kids[i];
		tree_visit(t, kids[i], depth + 1, n);
	}
	free(kids);
}

/* A session or group as the tree writes it: 0 for the init's own. */
static pid_t tree_sid(const struct tree *t, pid_t sid)
{
	return sid == t->init_sid ? 0 : sid;
}

static pid_t tree_pgid(const struct tree *t, pid_t pgid)
{
	return pgid == t->init_pgid ? 0 : pgid;
}

/*
 * Whether a restart, making them in this order, can give each its session
 * and group: a process inherits its parent's, or leads its own (setsid,
 * setpgid to itself), or joins a group that a process before it leads.
 * A zombie is made, and given these, right after its parent.
 */
static int tree_check_groups(struct tree *t)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++) {
		const struct tproc *tp = &t->v[i], *parent = NULL, *leader;
		pid_t sid = tree_sid(t, tp->sid), pgid = tree_pgid(t, tp->pgid);
		pid_t psid = 0, ppgid = 0;
		unsigned int when = tp->rank;

		if (tp->parent >= 0) {
			parent = &t->v[tp->parent];
			psid = tree_sid(t, parent->sid);
			ppgid = tree_pgid(t, parent->pgid);
			if (tp->zombie)
				when = parent->rank;
		}
		if (sid != psid && sid != tp->c.pid) {
			pr_err("checkpoint: process %d is in session %d, whose leader it does not descend from: it cannot be made again",
			       tp->c.pid, tp->sid);
			return -1;
		}
		if (pgid == ppgid && sid == psid)
			continue;
		if (pgid == tp->c.pid)
			continue;
		leader = pgid ? tree_find(t, pgid) : NULL;
		if (!leader || leader->pgid != pgid || tree_sid(t, leader->sid) != sid ||
		    (leader->zombie ? t->v[leader->parent].rank : leader->rank) >= when) {
			pr_err("checkpoint: process %d is in process group %d, whose leader %s: it cannot be made again",
			       tp->c.pid, tp->pgid,
			       !leader || leader->pgid != pgid ? "is gone" : "comes after it");
			return -1;
		}
	}
	return 0;
}

/* -- what they share ---------------------------------------------------------- */

struct tfile {
	unsigned int proc;		/* index in the tree */
	unsigned int file;		/* index in its files */
	unsigned int group;		/* union-find */
};

static unsigned int uf_find(struct tfile *f, unsigned int i)
{
	while (f[i].group != i) {
		f[i].group = f[f[i].group].group;
		i = f[i].group;
	}
	return i;
}

static void uf_join(struct tfile *f, unsigned int a, unsigned int b)
{
	a = uf_find(f, a);
	b = uf_find(f, b);
	if (a != b)
		f[a > b ? a : b].group = a > b ? b : a;
}

static struct rfile *tfile_rf(struct tree *t, const struct tfile *f)
{
	return &t->v[f->proc].c.files.v[f->file];
}

/*
 * Whether process PA's descriptor X and process PB's Y are one open file:
 * 1, 0, or -1 (kcmp failed: errno).
 */
static int same_file(struct tree *t, unsigned int pa, const struct rfile *x,
		     unsigned int pb, const struct rfile *y)
{
	long r;

	if (x->f.mode != y->f.mode || x->ino != y->ino)
		return 0;
	r = syscall(SYS_kcmp, t->v[pa].c.pid, t->v[pb].c.pid, KCMP_FILE,
		    le32toh(x->f.fd), le32toh(y->f.fd));
	return r < 0 ? -1 : r == 0;
}

static int same_open_file(struct tree *t, const struct tfile *a, const struct tfile *b)
{
	return same_file(t, a->proc, tfile_rf(t, a), b->proc, tfile_rf(t, b));
}

static bool is_pipe(const struct rfile *rf)
{
	return le32toh(rf->f.type) == CRAK_FILE_PIPE && !rf->path &&
	       (le32toh(rf->f.flags) & O_ACCMODE) != O_RDWR;
}

/*
 * A pipe end whose other end no process of the pod holds leads out: as 0
 * to 2, the restarter's own (CRAK_FILE_STDIO), else an error.
 */
static int tree_outside_pipes(struct tree *t, struct tfile *f, unsigned int nr)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		struct rfile *rf = tfile_rf(t, &f[i]);
		bool other = false;

		if (!is_pipe(rf))
			continue;
		for (j = 0; j < nr && !other; j++) {
			const struct rfile *o = tfile_rf(t, &f[j]);

			other = is_pipe(o) && o->f.peer == rf->f.peer &&
				(le32toh(o->f.flags) & O_ACCMODE) != (le32toh(rf->f.flags) & O_ACCMODE);
		}
		if (other)
			continue;
		if (le32toh(rf->f.fd) > 2) {
			pr_err("checkpoint %d: descriptor %u is a pipe to outside the %s",
			       t->v[f[i].proc].c.pid, le32toh(rf->f.fd), t->set);
			return -1;
		}
		file_to_stdio(rf);
	}
	return 0;
}

/*
 * Whether A is connected to B: the two ends of one unix socket pair (or
 * connection), or A a datagram socket sending to B, which is connected to
 * none.
 */
static bool unix_pair(const struct rfile *a, const struct rfile *b)
{
	return le32toh(a->f.type) == CRAK_FILE_UNIX && le32toh(b->f.type) == CRAK_FILE_UNIX &&
	       a->f.peer && a->f.peer == b->f.value[2];
}

/*
 * A connected unix socket whose peer its process does not hold: held by
 * another process of the pod, the pair is made once (tree_find_shared());
 * else it leads out: a datagram socket to a named socket is connected to
 * that name again (unix_outside()), a standard descriptor (0 to 2) is the
 * restarter's own (CRAK_FILE_STDIO), anything else an error.
 */
static int tree_outside_unix(struct tree *t, struct tfile *f, unsigned int nr)
{
	const char *why;
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		struct rfile *rf = tfile_rf(t, &f[i]);
		int holder = -1;

		if (le32toh(rf->f.type) != CRAK_FILE_UNIX || !rf->f.peer)
			continue;
		for (j = 0; j < nr && holder < 0; j++)
			if (unix_pair(rf, tfile_rf(t, &f[j])))
				holder = j;
		why = holder >= 0 ? unix_peer_refused(rf, tfile_rf(t, &f[holder])) : NULL;
		if (why) {
			pr_err("checkpoint %d: descriptor %u %s", t->v[f[i].proc].c.pid,
			       le32toh(rf->f.fd), why);
			return -1;
		}
		if (holder >= 0 || !unix_outside(rf, t->v[f[i].proc].c.pid, &why))
			continue;
		if (le32toh(rf->f.fd) > 2) {
			if (rf->peer_len)
				pr_err("checkpoint %d: descriptor %u %s", t->v[f[i].proc].c.pid,
				       le32toh(rf->f.fd), why);
			else
				pr_err("checkpoint %d: descriptor %u is a unix socket connected to outside the %s: not taken yet",
				       t->v[f[i].proc].c.pid, le32toh(rf->f.fd), t->set);
			return -1;
		}
		file_to_stdio(rf);
	}
	return 0;
}

/* The nearest process above (or at) both A and B: -1 for the init. */
static int tree_meet(const struct tree *t, int a, int b)
{
	while (a != b) {
		if (a < 0 || b < 0)
			return -1;
		if (t->v[a].depth >= t->v[b].depth)
			a = t->v[a].parent;
		else
			b = t->v[b].parent;
	}
	return a;
}

/*
 * A TCP or UDP socket that process P holds, and a process taken before it
 * (the first DONE of t->order) holds too, was frozen and dumped with that
 * one: P's own duplicate of it is closed, not taken again.  0, or -1 after
 * saying why.
 */
static int tree_sockets_taken(struct tree *t, unsigned int p, unsigned int done)
{
	struct rfiles *fs = &t->v[p].c.files;
	unsigned int i, k, j;

	for (i = 0; i < fs->nr; i++) {
		struct rfile *rf = &fs->v[i];
		bool taken = false;

		if (rf->sock < 0)
			continue;
		for (k = 0; k < done && !taken; k++) {
			const struct tproc *o = &t->v[t->order[k]];

			if (o->zombie)
				continue;
			for (j = 0; j < o->c.files.nr && !taken; j++) {
				const struct rfile *x = &o->c.files.v[j];
				int same;

				if (le32toh(x->f.type) != CRAK_FILE_INET || !x->data)
					continue;
				same = same_file(t, t->order[k], x, p, rf);
				if (same < 0) {
					pr_err("checkpoint: comparing the %s's sockets (kcmp): %s",
					       t->set, strerror(errno));
					return -1;
				}
				taken = same;
			}
		}
		if (taken) {
			close(rf->sock);
			rf->sock = -1;
		}
	}
	return 0;
}

/*
 * Whether a process outside the tree holds one of its TCP or UDP sockets
 * too, or maps or holds memory it shares through no name.
 */
static int tree_held_outside(struct tree *t)
{
	const struct rfiles **files = xmalloc(t->nr * sizeof(*files));
	pid_t *pids = xmalloc(t->nr * sizeof(*pids));
	unsigned int i;
	int ret;

	for (i = 0; i < t->nr; i++) {
		pids[i] = t->v[i].c.pid;
		files[i] = t->v[i].zombie ? NULL : &t->v[i].c.files;
	}
	ret = inet_held_outside(pids, files, t->nr, t->set) ?:
	      files_held_outside(pids, files, t->nr, t->set);
	free(pids);
	free(files);
	return ret;
}

static bool shareable(uint32_t type)
{
	switch (type) {
	case CRAK_FILE_REG:
	case CRAK_FILE_UNLINKED:
	case CRAK_FILE_DEV:
	case CRAK_FILE_TTY:
	case CRAK_FILE_PIPE:
	case CRAK_FILE_EVENTFD:
	case CRAK_FILE_EPOLL:
	case CRAK_FILE_SIGNALFD:
	case CRAK_FILE_TIMERFD:
	case CRAK_FILE_STDIO:
	case CRAK_FILE_PTY_MASTER:
	case CRAK_FILE_PTY_SLAVE:
	case CRAK_FILE_UNIX:
	case CRAK_FILE_INET:
		return true;
	}
	return false;
}

/* A shared file, SRC's (its path and data taken), made by OWNER: its index. */
static unsigned int tree_shared_add(struct tree *t, struct rfile *src, uint32_t owner)
{
	struct rfiles *sh = &t->shared;
	unsigned int idx = sh->nr;
	struct rfile *dst;

	sh->v = xrealloc(sh->v, (idx + 1) * sizeof(*sh->v));
	t->owner = xrealloc(t->owner, (idx + 1) * sizeof(*t->owner));
	dst = &sh->v[sh->nr++];
	*dst = *src;
	dst->sock = -1;
	dst->f.id = htole64((uint64_t)(idx + 1) << 1);
	t->owner[idx] = htole32(owner);
	src->path = NULL;
	src->data = NULL;
	return idx;
}

/* A holder's descriptor RF of shared file IDX: a reference to it now. */
static void tree_shared_ref(struct rfile *rf, unsigned int idx)
{
	free(rf->path);
	free(rf->data);
	rf->path = NULL;
	rf->data = NULL;
	rf->f.type = htole32(CRAK_FILE_SHARED);
	rf->f.path_len = 0;
	rf->f.data_len = 0;
	rf->f.value[0] = htole64(idx);
}

/* One open file of group G into the shared ones; its holders name it. */
static void tree_share(struct tree *t, struct tfile *f, unsigned int nr, unsigned int first,
		       uint32_t owner)
{
	struct rfile *src = tfile_rf(t, &f[first]);
	unsigned int i, idx;

	/* Of a TCP or UDP socket, one holder's image: the one it was dumped with. */
	if (le32toh(src->f.type) == CRAK_FILE_INET && !src->data) {
		for (i = first + 1; i < nr && !src->data; i++)
			if (uf_find(f, i) == uf_find(f, first) && tfile_rf(t, &f[i])->data &&
			    same_open_file(t, &f[first], &f[i]) == 1)
				src = tfile_rf(t, &f[i]);
	}
	idx = tree_shared_add(t, src, owner);
	for (i = first; i < nr; i++) {
		struct rfile *rf = tfile_rf(t, &f[i]);

		if (i != first && (uf_find(f, i) != uf_find(f, first) ||
				   same_open_file(t, &f[first], &f[i]) != 1))
			continue;
		if (le32toh(rf->f.type) != CRAK_FILE_SHARED)
			tree_shared_ref(rf, idx);
	}
}

static int tree_find_shared(struct tree *t)
{
	struct tfile *f = NULL;
	unsigned int i, j, nr = 0;
	int ret = -1;

	for (i = 0; i < t->nr; i++) {
		const struct rfiles *fs = &t->v[i].c.files;

		if (t->v[i].zombie)
			continue;
		f = xrealloc(f, (nr + fs->nr + 1) * sizeof(*f));
		for (j = 0; j < fs->nr; j++, nr++) {
			f[nr].proc = i;
			f[nr].file = j;
			f[nr].group = nr;
		}
	}
	if (tree_outside_pipes(t, f, nr) || tree_outside_unix(t, f, nr))
		goto out;
	/* The same open file in two processes; the two ends of a pipe, or of a socket pair. */
	for (i = 0; i < nr; i++) {
		for (j = 0; j < i; j++) {
			const struct rfile *a = tfile_rf(t, &f[i]), *b = tfile_rf(t, &f[j]);
			int same;

			/*
			 * A standard descriptor is the restarter's own of its
			 * number in each process, whatever they shared (a
			 * terminal's).  (One shared with a descriptor past 2,
			 * bash's 255, still makes that one.)
			 */
			if (le32toh(a->f.type) == CRAK_FILE_STDIO &&
			    le32toh(b->f.type) == CRAK_FILE_STDIO)
				continue;
			same = f[i].proc != f[j].proc ? same_open_file(t, &f[i], &f[j]) : 0;
			if (same < 0) {
				pr_err("checkpoint: comparing the %s's descriptors (kcmp): %s", t->set,
				       strerror(errno));
				goto out;
			}
			if (same || (is_pipe(a) && is_pipe(b) && a->f.peer == b->f.peer) ||
			    unix_pair(a, b) || unix_pair(b, a) || unix_accepted(a, b) ||
			    unix_accepted(b, a))
				uf_join(f, i, j);
		}
	}
	for (i = 0; i < nr; i++) {
		unsigned int g = uf_find(f, i);
		int owner = f[i].proc;
		bool many = false;

		if (g != i)
			continue;
		for (j = i + 1; j < nr; j++) {
			if (uf_find(f, j) != g)
				continue;
			owner = tree_meet(t, owner, f[j].proc);
			many |= f[j].proc != f[i].proc;
		}
		/* Terminals' masters, shared or not, the init makes, before any slave. */
		if (le32toh(tfile_rf(t, &f[i])->f.type) == CRAK_FILE_PTY_MASTER)
			owner = -1;
		else if (!many)
			continue;
		for (j = i; j < nr; j++) {
			const struct rfile *rf = tfile_rf(t, &f[j]);

			if (uf_find(f, j) != g || shareable(le32toh(rf->f.type)))
				continue;
			pr_err("checkpoint %d: descriptor %u (%s) is shared with another process of the %s: not taken yet",
			       t->v[f[j].proc].c.pid, le32toh(rf->f.fd),
			       file_type_name(le32toh(rf->f.type)), t->set);
			goto out;
		}
		/* Each open file of the group once. */
		for (j = i; j < nr; j++)
			if (uf_find(f, j) == g &&
			    le32toh(tfile_rf(t, &f[j])->f.type) != CRAK_FILE_SHARED)
				tree_share(t, f, nr, j,
					   owner >= 0 ? (uint32_t)t->v[owner].c.pid : t->root ? 0 : 1);
	}
	ret = 0;
out:
	free(f);
	return ret;
}

/*
 * Epolls: a restart registers each interest again in a process that holds
 * the epoll, as the descriptor number it was registered as, which must
 * then be the file watched (files_epoll_check()).  One process's own
 * epoll: that process.  One the tree shares (the holders' references name
 * it): each interest goes to the first holder, in the tree's order, whose
 * descriptor of that number is the file watched (a parent's registered
 * before a fork: the parent; a child's own: the child), into the data of
 * its reference, which it adds once its descriptors are in place.  An
 * interest no holder has so is refused.
 */
static int tree_epoll_spread(struct tree *t, unsigned int idx)
{
	struct rfile *sh = &t->shared.v[idx], *rf = NULL;
	const struct crak_img_epoll_tfd *items = sh->data;
	unsigned int nr = le64toh(sh->f.data_len) / sizeof(*items);
	unsigned int i, j, k, any = 0;
	struct tproc *tp;
	uint64_t len;
	int r = 0;

	for (k = 0; k < nr; k++) {
		for (i = 0, r = 0; i < t->nr && r != 1; i++) {
			tp = &t->v[t->order[i]];
			for (j = 0; !tp->zombie && j < tp->c.files.nr; j++) {
				rf = &tp->c.files.v[j];
				if (le32toh(rf->f.type) == CRAK_FILE_SHARED &&
				    le64toh(rf->f.value[0]) == idx)
					break;
			}
			if (tp->zombie || j == tp->c.files.nr)
				continue;
			any = t->order[i];
			r = epoll_watches_at(tp->c.pid, le32toh(rf->f.fd), items, k);
			if (r < 0) {
				epoll_kcmp_error(tp->c.pid, le32toh(rf->f.fd));
				return -1;
			}
		}
		if (r != 1) {
			pr_err("checkpoint %d: an epoll it shares with another process of the %s watches a file that is no holder's descriptor %u (closed or moved since): not taken yet",
			       t->v[any].c.pid, t->set, le32toh(items[k].tfd));
			return -1;
		}
		len = le64toh(rf->f.data_len);
		rf->data = xrealloc(rf->data, len + sizeof(*items));
		memcpy((char *)rf->data + len, &items[k], sizeof(*items));
		rf->f.data_len = htole64(len + sizeof(*items));
	}
	/* (The list is its holders' now.) */
	free(sh->data);
	sh->data = NULL;
	sh->f.data_len = 0;
	return 0;
}

static int tree_epolls(struct tree *t)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++)
		if (!t->v[i].zombie && files_epoll_check(t->v[i].c.pid, &t->v[i].c.files))
			return -1;
	for (i = 0; i < t->shared.nr; i++)
		if (le32toh(t->shared.v[i].f.type) == CRAK_FILE_EPOLL && tree_epoll_spread(t, i))
			return -1;
	return 0;
}

/*
 * Memory processes share through a file no name opens any more (shared
 * anonymous memory across a fork, a memfd, a deleted /dev/shm file): each
 * process's image holds its pages, and each would come back with a memory
 * of its own.  Such memory mapped by more than one process, or whose
 * descriptor another process holds (tree_memory_files()), goes into the
 * shared files (CRAK_FILE_SHMEM, with the PIDs of those that map it), made
 * by the nearest process above (or at) them all, and each maps that one
 * again (its image's pages written into it by each: they are the same;
 * or, the memory of a descriptor, that one's data).
 * Found in /proc/PID/maps: a shared mapping of a deleted file, by device
 * and inode (the kernel's shmid).  (Memory shared with a process outside
 * the tree, as a lone process's, is refused: files_held_outside().)
 */
struct tmem {
	struct map_deleted map;		/* size: as far as the mappings reach;
					 * name: its own copy
					 */
	int owner;			/* the nearest process above all, -1: the init */
	__le32 *holders;		/* the PIDs of those that map it */
	unsigned int nr_holders;
};

/* The PID that stands for process index IDX as a shared file's owner. */
static uint32_t owner_pid(const struct tree *t, int idx)
{
	return idx >= 0 ? (uint32_t)t->v[idx].c.pid : t->root ? 0 : 1;
}

/* Whether RF is a descriptor of memory M (a memfd's or a deleted file's). */
static bool of_memory(const struct rfile *rf, const struct tmem *m)
{
	return le32toh(rf->f.type) == CRAK_FILE_UNLINKED && rf->ino == m->map.ino &&
	       rf->dev == makedev(m->map.dev_major, m->map.dev_minor);
}

/* The shared file RF refers to, if it is one. */
static struct rfile *shared_of(struct tree *t, const struct rfile *rf)
{
	uint64_t idx = le64toh(rf->f.value[0]);

	if (le32toh(rf->f.type) != CRAK_FILE_SHARED || idx >= t->shared.nr)
		return NULL;
	return &t->shared.v[idx];
}

/*
 * Memory M's descriptors that processes of the tree hold, where another
 * process than the one that maps it holds one, or more than one maps it:
 * each is made a shared file (a process's own too), marked as M's
 * (value[2]: its shmid; a deleted file's CRAK_UNLINKED_MAPPED: made again
 * as shared memory), made with M by the nearest process above all that
 * map it or hold one (M's owner now), which maps M through the first
 * (CRAK_FILE_SHMEM's value[2]).  Its index, or -1 where there is none to
 * join (or one not to: of a memfd sealed against writing, where a
 * restart could not map it writable, or an O_PATH one).
 */
static int tree_memory_files(struct tree *t, struct tmem *m)
{
	unsigned int i, j, k;
	int first = -1, owner = m->owner;
	bool any = false, others = m->nr_holders > 1;
	struct rfile *rf, *sh;

	for (i = 0; i < t->nr; i++) {
		struct rfiles *fs = &t->v[i].c.files;

		for (j = 0; !t->v[i].zombie && j < fs->nr; j++) {
			sh = shared_of(t, &fs->v[j]);
			rf = sh ?: &fs->v[j];
			if (!of_memory(rf, m))
				continue;
			if ((le32toh(rf->f.flags) & O_PATH) ||
			    (rfile_memory_kind(rf) & CRAK_UNLINKED_MEMFD &&
			     le64toh(rf->f.value[1]) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
				return -1;
			any = true;
			for (k = 0; k < m->nr_holders &&
				    (pid_t)le32toh(m->holders[k]) != t->v[i].c.pid; k++)
				;
			others |= sh || k == m->nr_holders;
		}
	}
	if (!any || !others)
		return -1;
	for (i = 0; i < t->nr; i++) {
		unsigned int p = t->order[i];
		struct rfiles *fs = &t->v[p].c.files;

		for (j = 0; !t->v[p].zombie && j < fs->nr; j++) {
			rf = &fs->v[j];
			if (of_memory(rf, m)) {
				__le64 id = rf->f.id;
				unsigned int idx = tree_shared_add(t, rf, t->v[p].c.pid);

				for (k = j; k < fs->nr; k++)
					if (fs->v[k].f.id == id)
						tree_shared_ref(&fs->v[k], idx);
			}
			sh = shared_of(t, rf);
			if (!sh || !of_memory(sh, m))
				continue;
			owner = tree_meet(t, owner, p);
			if (first < 0 || sh - t->shared.v < first)
				first = sh - t->shared.v;
		}
	}
	for (k = 0; k < t->shared.nr; k++) {
		sh = &t->shared.v[k];
		if (!of_memory(sh, m))
			continue;
		if (!(rfile_memory_kind(sh) & CRAK_UNLINKED_MEMFD))
			sh->f.value[0] = htole64(CRAK_UNLINKED_MAPPED);
		sh->f.value[2] = htole64(map_shmid(&m->map));
		t->owner[k] = htole32(owner_pid(t, owner));
	}
	m->owner = owner;
	return first;
}

static int tree_find_memory(struct tree *t)
{
	struct tmem *m = NULL, one;
	unsigned int i, j, nr = 0, nr_shm = 0;
	char path[64], *line = NULL;
	size_t cap = 0;
	int ret = -1;

	for (i = 0; i < t->nr; i++) {
		const struct tproc *tp = &t->v[i];
		FILE *f;

		if (tp->zombie)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/maps", tp->c.pid);
		f = fopen(path, "re");
		if (!f) {
			pr_err("checkpoint %d: %s: %s", tp->c.pid, path, strerror(errno));
			goto out;
		}
		while (getline(&line, &cap, f) > 0) {
			if (!map_deleted(line, &one.map))
				continue;
			for (j = 0; j < nr; j++)
				if (m[j].map.ino == one.map.ino &&
				    m[j].map.dev_major == one.map.dev_major &&
				    m[j].map.dev_minor == one.map.dev_minor)
					break;
			if (j == nr) {
				m = xrealloc(m, (nr + 1) * sizeof(*m));
				one.map.name = xstrdup(one.map.name);
				one.owner = i;
				one.holders = NULL;
				one.nr_holders = 0;
				m[nr++] = one;
			}
			if (one.map.size > m[j].map.size)
				m[j].map.size = one.map.size;
			if (m[j].nr_holders &&
			    m[j].holders[m[j].nr_holders - 1] == htole32(tp->c.pid))
				continue;
			m[j].owner = tree_meet(t, m[j].owner, i);
			m[j].holders = xrealloc(m[j].holders,
						(m[j].nr_holders + 1) * sizeof(*m[j].holders));
			m[j].holders[m[j].nr_holders++] = htole32(tp->c.pid);
		}
		fclose(f);
	}
	for (i = 0; i < nr; i++) {
		struct rfile rf = { .sock = -1 };
		int file = tree_memory_files(t, &m[i]);

		if (m[i].nr_holders < 2 && file < 0)
			continue;
		if (++nr_shm > CRAK_CKPT_SHMEM_MAX) {
			pr_err("checkpoint: the %s's processes share more than %u memories: not taken yet",
			       t->set, CRAK_CKPT_SHMEM_MAX);
			goto out;
		}
		rf.f.type = htole32(CRAK_FILE_SHMEM);
		rf.f.flags = htole32(O_RDWR);
		rf.f.value[0] = htole64(map_shmid(&m[i].map));
		rf.f.value[1] = htole64(m[i].map.size);
		rf.f.value[2] = htole64(file + 1);
		rf.path = m[i].map.name;
		rf.f.path_len = htole32(strlen(rf.path) + 1);
		rf.data = m[i].holders;
		rf.f.data_len = htole64(m[i].nr_holders * sizeof(*m[i].holders));
		m[i].map.name = NULL;
		m[i].holders = NULL;
		tree_shared_add(t, &rf, owner_pid(t, m[i].owner));
	}
	ret = 0;
out:
	for (i = 0; i < nr; i++) {
		free(m[i].map.name);
		free(m[i].holders);
	}
	free(line);
	free(m);
	return ret;
}

/* -- terminals ------------------------------------------------------------------ */

#define NO_MASTER	LONG_MAX

/*
 * When a restart makes an open file of process TP (F: its entry), as a
 * number that grows with time: the shared ones, by their owner, before a
 * process's own; terminals' masters before the rest.
 */
static long made_when(const struct tree *t, const struct tproc *tp, const struct rfile *f,
		      uint32_t *type)
{
	long rank = tp->rank, phase = 2;

	*type = le32toh(f->f.type);
	if (*type == CRAK_FILE_SHARED) {
		uint64_t idx = le64toh(f->f.value[0]);
		const struct tproc *owner = tree_find((struct tree *)t, le32toh(t->owner[idx]));

		rank = owner ? (long)owner->rank : -1;
		phase = 0;
		f = &t->shared.v[idx];
		*type = le32toh(f->f.type);
	}
	return rank * 4 + phase + (*type != CRAK_FILE_PTY_MASTER);
}

/*
 * A terminal locked again after its slave was opened comes back unlocked:
 * its slaves are opened again after its master is made.
 */
static void unlock_master(struct tree *t, unsigned int idx)
{
	unsigned int i;

	for (i = 0; i < t->shared.nr; i++) {
		struct crak_img_pty *p = t->shared.v[i].data;

		if (le32toh(t->shared.v[i].f.type) == CRAK_FILE_PTY_MASTER && p &&
		    le32toh(p->index) == idx)
			p->flags &= ~htole32(CRAK_PTY_LOCKED);
	}
}

/*
 * Every terminal's slave has its master made before it (by a process
 * before it, or by itself, masters first), and every controlling terminal
 * before its session leader's own files (which /dev/tty may be among).
 */
static int tree_check_ptys(struct tree *t)
{
	long *master = NULL, when;
	unsigned int i, j, nr = 0, idx;
	uint32_t type;
	int ret = -1;

	for (i = 0; i < t->nr; i++) {
		const struct tproc *tp = &t->v[i];

		for (j = 0; !tp->zombie && j < tp->c.files.nr; j++) {
			const struct rfile *f = &tp->c.files.v[j];

			when = made_when(t, tp, f, &type);
			if (type != CRAK_FILE_PTY_MASTER)
				continue;
			if (le32toh(f->f.type) == CRAK_FILE_SHARED)
				f = &t->shared.v[le64toh(f->f.value[0])];
			idx = le64toh(f->f.value[0]);
			if (idx >= nr) {
				master = xrealloc(master, (idx + 1) * sizeof(*master));
				while (nr <= idx)
					master[nr++] = NO_MASTER;
			}
			if (master[idx] == NO_MASTER || when < master[idx])
				master[idx] = when;
		}
	}
	for (i = 0; i < t->nr; i++) {
		const struct tproc *tp = &t->v[i];

		for (j = 0; !tp->zombie && j < tp->c.files.nr; j++) {
			const struct rfile *f = &tp->c.files.v[j];

			when = made_when(t, tp, f, &type);
			if (type != CRAK_FILE_PTY_SLAVE)
				continue;
			if (le32toh(f->f.type) == CRAK_FILE_SHARED)
				f = &t->shared.v[le64toh(f->f.value[0])];
			idx = le64toh(f->f.value[0]);
			if (idx < nr && master[idx] != NO_MASTER && master[idx] < when) {
				unlock_master(t, idx);
				continue;
			}
			pr_err("checkpoint %d: descriptor %u is a terminal (/dev/pts/%u) whose master %s: not taken",
			       tp->c.pid, le32toh(tp->c.files.v[j].f.fd), idx,
			       idx < nr && master[idx] != NO_MASTER ? "a restart would make after it" :
								     "no process of the pod holds");
			goto out;
		}
		idx = tp->ctty - 1;
		if (tp->ctty && (idx >= nr || master[idx] == NO_MASTER ||
				 master[idx] >= (long)tp->rank * 4 + 2)) {
			pr_err("checkpoint %d: its controlling terminal (/dev/pts/%u) has no master a restart would make before it: not taken",
			       tp->c.pid, idx);
			goto out;
		}
	}
	ret = 0;
out:
	free(master);
	return ret;
}

/* -- the image ------------------------------------------------------------------ */

static int tree_write(struct tree *t, struct img *im)
{
	size_t len = sizeof(struct crak_img_tree) + t->nr * sizeof(struct crak_img_tree_proc) +
		     t->shared.nr * sizeof(uint32_t);
	struct crak_img_tree *h = xmalloc(len + 8);
	struct crak_img_tree_proc *p = (void *)(h + 1);
	int max_fd = -1, err;
	unsigned int i;

	memset(h, 0, len + 8);
	for (i = 0; i < t->nr; i++) {
		const struct tproc *tp = &t->v[t->order[i]];

		p[i].pid = htole32(tp->c.pid);
		p[i].ppid = htole32(tp->ppid);
		p[i].pgid = htole32(tree_pgid(t, tp->pgid));
		p[i].sid = htole32(tree_sid(t, tp->sid));
		if (tp->zombie)
			p[i].flags |= htole32(CRAK_TREE_ZOMBIE);
		if (tp->c.pid == (t->root ?: POD_COMMAND_PID))
			p[i].flags |= htole32(CRAK_TREE_COMMAND);
		p[i].exit_status = htole32(tp->exit_status);
		p[i].ctty = htole32(tp->ctty);
		p[i].fg_pgid = htole32(tp->fg_pgid);
		if (!tp->zombie && tp->c.files.max_fd > max_fd)
			max_fd = tp->c.files.max_fd;
	}
	for (i = 0; i < t->shared.nr; i++)
		if ((int)le32toh(t->shared.v[i].f.fd) > max_fd)
			max_fd = le32toh(t->shared.v[i].f.fd);
	if (t->shared.nr > CRAK_TREE_SHARED_MAX || max_fd > (int)CRAK_TREE_FD_MAX) {
		pr_err("checkpoint: the %s's processes share more than %u files, or use descriptors above %u",
		       t->set, CRAK_TREE_SHARED_MAX, CRAK_TREE_FD_MAX);
		free(h);
		return -1;
	}
	if (!tree_find(t, t->root ?: POD_COMMAND_PID)) {
		pr_err("checkpoint: the pod's command (PID %d in the pod) has ended", POD_COMMAND_PID);
		free(h);
		return -1;
	}
	memcpy(p + t->nr, t->owner, t->shared.nr * sizeof(uint32_t));
	h->nr_procs = htole32(t->nr);
	h->nr_shared = htole32(t->shared.nr);
	h->max_fd = htole32(max_fd < 0 ? 0 : max_fd);
	err = img_write_section(im, CRAK_IMG_TREE, h, (len + 7) & ~7UL);
	free(h);
	return err ?: files_write(im, &t->shared);
}

static void tree_free(struct tree *t)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++)
		ckpt_proc_free(&t->v[i].c);
	free(t->v);
	free(t->order);
	free(t->owner);
	files_free(&t->shared);
}

/*
 * Lets every stopped one go, children first (the command, whose end ends
 * the pod, last): killed, or running on; after a failure, as if nothing
 * happened.
 */
static int tree_end(struct tree *t, bool kill, bool failed)
{
	unsigned int i;
	int err = 0;

	/*
	 * After a failure, every socket carries on before any process runs:
	 * one several hold is frozen with the first of them only.
	 */
	for (i = 0; failed && i < t->nr; i++)
		if (t->v[i].frozen)
			ckpt_proc_sockets_on(&t->v[i].c);
	for (i = t->nr; i-- > 0;) {
		struct tproc *tp = &t->v[t->order ? t->order[i] : i];

		if (!tp->frozen)
			continue;
		if (failed ? ckpt_proc_resume(&tp->c) : ckpt_proc_end(&tp->c, kill))
			err = -1;
		else
			tp->frozen = false;
	}
	return err;
}

int tree_checkpoint(struct img *im, const struct ckpt_hooks *hooks, unsigned int *nr_procs,
		    dev_t host_pts, pid_t root)
{
	struct tree t = { .root = root, .set = root ? "tree" : "pod" };
	unsigned int i, n = 0;
	struct stat st;
	int ret = -1;

	/* A devpts of the pod's own (crak run mounts one): its terminals are the pod's. */
	if (!root && !stat("/dev/pts", &st) && st.st_dev != host_pts)
		t.pod_pts = st.st_dev;
	do {
		if (tree_stop_all(&t))
			goto fail;
	} while (tree_drop_reaped(&t));
	t.order = xmalloc(t.nr * sizeof(*t.order));
	for (i = 0; i < t.nr; i++)
		t.order[i] = i;
	if (tree_link(&t))
		goto fail;
	tree_visit(&t, -1, 0, &n);
	if (n != t.nr) {
		pr_err("checkpoint: the %s's processes do not form a tree", t.set);
		goto fail;
	}
	if (tree_check_groups(&t))
		goto fail;
	for (i = 0; i < t.nr; i++) {
		struct tproc *tp = &t.v[t.order[i]];

		tp->c.pod_pts = t.pod_pts;
		if (!tp->zombie && ckpt_proc_collect(&tp->c, false))
			goto fail;
	}
	if (tree_held_outside(&t))
		goto fail;
	for (i = 0; i < t.nr; i++) {
		struct tproc *tp = &t.v[t.order[i]];

		if (!tp->zombie && (tree_sockets_taken(&t, t.order[i], i) ||
				    ckpt_proc_take_sockets(&tp->c)))
			goto fail;
	}
	if (tree_find_shared(&t) || tree_epolls(&t) || tree_find_memory(&t) ||
	    tree_check_ptys(&t) || tree_write(&t, im))
		goto fail;
	for (i = 0; i < t.nr; i++) {
		struct tproc *tp = &t.v[t.order[i]];

		if (tp->zombie)
			continue;
		tp->c.imgfd = im->fd;
		tp->c.im.name = im->name;
		if (ckpt_proc_write(&tp->c))
			goto fail;
	}
	*nr_procs = t.nr;
	if (hooks->complete && hooks->complete(hooks->arg))
		goto fail;
	if (hooks->leave_running) {
		for (i = 0; i < t.nr; i++)
			if (t.v[i].frozen && ckpt_proc_sockets_on(&t.v[i].c))
				goto fail;
		if (hooks->running && hooks->running(hooks->arg))
			goto fail;
	}
	if (tree_end(&t, !hooks->leave_running, false)) {
		/* Some are let go already: the others run on, unharmed. */
		tree_end(&t, false, true);
		ret = -2;
		goto out;
	}
	ret = 0;
	goto out;
fail:
	tree_end(&t, false, true);
out:
	tree_free(&t);
	return ret;
}
