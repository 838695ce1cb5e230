// SPDX-License-Identifier: GPL-2.0
/*
 * A process's TCP sockets in its image, through crak_sockmig (crak sock).
 *
 * Taking them is `crak sock freeze` of crak's own duplicate of each, then
 * `crak sock dump` of each (one wait of the kernel's for what is on its way
 * to all of them, not one each): a socket's flow is frozen on the crakvif
 * device holding its address, if any, so that what the peer sends
 * meanwhile waits there, and its image, kept in a memfd, becomes the data
 * of its FILE section.  If the checkpoint fails, or the
 * process runs on, each is thawed again (which cancels its dump) and its
 * held inbound delivered.  If the process is killed, a dumped socket ends
 * with it without a word to the peer, and its flow stays held for the
 * restart.  Making one again is `crak sock restore --frozen` of that image
 * in the new process; once that process is whole, the restarting crak
 * thaws it and the flow (inet_thaw), and only then lets the process run.
 * If the restart fails, the socket closes without a word, in repair mode,
 * and the flow stays held for another try.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"
#include "sock.h"

struct inet_sock {
	struct sock_target t;
	struct sock_hold h;
	struct rfile *rf;		/* its descriptor's record */
	bool frozen;			/* by crak_sockmig (its flow: h) */
	bool dumped;
};

struct inet_set {
	struct nl nl;
	bool open;
	struct inet_sock *v;
	unsigned int nr;
};

struct inet_set *inet_set_new(void)
{
	struct inet_set *s = xmalloc(sizeof(*s));

	memset(s, 0, sizeof(*s));
	return s;
}

static int read_memfd(int fd, struct rfile *rf)
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) || lseek(fd, 0, SEEK_SET))
		return -1;
	rf->data = xmalloc(st.st_size ?: 1);
	n = pread(fd, rf->data, st.st_size, 0);
	if (n != st.st_size)
		return -1;
	rf->f.data_len = htole64(st.st_size);
	return 0;
}

static void inet_what(char *what, size_t size, pid_t pid, const struct rfile *rf)
{
	snprintf(what, size, "checkpoint %d: descriptor %u", pid, le32toh(rf->f.fd));
}

/* Freezes the socket DUP (ours) of descriptor RF, for inet_dump(). */
int inet_freeze(struct inet_set *s, pid_t pid, struct rfile *rf, int dup)
{
	struct inet_sock *is;
	struct nlmsghdr *nlh;
	char what[64];

	inet_what(what, sizeof(what), pid, rf);
	if (!s->open) {
		if (nl_open(&s->nl, &sock_family)) {
			close(dup);
			return -1;
		}
		s->open = true;
	}
	s->v = xrealloc(s->v, (s->nr + 1) * sizeof(*s->v));
	is = &s->v[s->nr];
	memset(is, 0, sizeof(*is));
	is->rf = rf;
	if (sock_target_of_fd(&is->t, dup, what)) {
		close(dup);
		return -1;
	}
	s->nr++;
	if (sock_hold_find(&is->h, &is->t, what) || sock_hold_freeze(&is->h, what))
		return -1;
	nlh = nl_request(&s->nl, CRAK_SOCK_CMD_FREEZE, NLM_F_ACK);
	sock_target_put(nlh, &is->t);
	if (nl_exec(&s->nl, what, NULL, NULL))
		return -1;
	is->frozen = true;
	return 0;
}

/*
 * Dumps every socket inet_freeze() froze: each image becomes its
 * descriptor's data.  All are frozen before the first is dumped, so that
 * the kernel waits once, not for each, for what was on its way to them
 * (sockmig_settle()).
 */
int inet_dump(struct inet_set *s, pid_t pid)
{
	struct nlmsghdr *nlh;
	unsigned int i;
	char what[64];
	int memfd, err;

	for (i = 0; i < s->nr; i++) {
		struct inet_sock *is = &s->v[i];

		inet_what(what, sizeof(what), pid, is->rf);
		memfd = memfd_create("crak-sock", MFD_CLOEXEC);
		if (memfd < 0) {
			pr_err("%s: %s", what, strerror(errno));
			return -1;
		}
		nlh = nl_request(&s->nl, CRAK_SOCK_CMD_DUMP, NLM_F_ACK);
		sock_target_put(nlh, &is->t);
		mnl_attr_put_u32(nlh, CRAK_SOCK_A_IMAGE_FD, memfd);
		err = nl_exec(&s->nl, what, NULL, NULL);
		if (!err) {
			is->dumped = true;
			err = read_memfd(memfd, is->rf);
			if (err)
				pr_err("%s: reading its image: %s", what, strerror(errno));
		}
		close(memfd);
		if (err)
			return -1;
	}
	return 0;
}

/*
 * Every socket dumped or frozen carries on (THAW), its held inbound
 * delivered; 0, or -1 if one did not (said why; it stays frozen, and
 * another call tries it again).
 */
int inet_undo(struct inet_set *s)
{
	struct nlmsghdr *nlh;
	unsigned int i;
	int err = 0;

	for (i = 0; i < s->nr; i++) {
		struct inet_sock *is = &s->v[i];

		if (is->dumped || is->frozen) {
			nlh = nl_request(&s->nl, CRAK_SOCK_CMD_THAW, NLM_F_ACK);
			sock_target_put(nlh, &is->t);
			if (nl_exec(&s->nl, "checkpoint: thawing a socket", NULL, NULL)) {
				err = -1;
				continue;
			}
			sock_hold_release(&is->h, "checkpoint");
		} else {
			sock_hold_undo(&is->h, "checkpoint");
		}
		is->dumped = false;
		is->frozen = false;
	}
	return err;
}

void inet_set_free(struct inet_set *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < s->nr; i++) {
		sock_hold_close(&s->v[i].h);
		sock_target_close(&s->v[i].t);
	}
	if (s->open)
		nl_close(&s->nl);
	free(s->v);
	free(s);
}

/*
 * Among the descriptors FILES[i] of PIDS[i] (NR processes), the TCP or UDP
 * socket of inode INO: its process and descriptor.
 */
static bool inet_of(unsigned long ino, const pid_t *pids, const struct rfiles *const *files,
		    unsigned int nr, pid_t *pid, uint32_t *fd)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		for (j = 0; files[i] && j < files[i]->nr; j++) {
			const struct rfile *rf = &files[i]->v[j];

			if (le32toh(rf->f.type) == CRAK_FILE_INET && rf->ino == ino) {
				*pid = pids[i];
				*fd = le32toh(rf->f.fd);
				return true;
			}
		}
	}
	return false;
}

static bool inet_any(const struct rfiles *const *files, unsigned int nr)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++)
		for (j = 0; files[i] && j < files[i]->nr; j++)
			if (le32toh(files[i]->v[j].f.type) == CRAK_FILE_INET)
				return true;
	return false;
}

/*
 * Whether another process (crak aside: it holds duplicates) holds a TCP or
 * UDP socket of FILES[i], the descriptors of PIDS[i] (NR processes of a
 * SET, or one alone with SET NULL): its image would be taken from under
 * that process, and its freeze would stop it there too.  0, or -1 after
 * saying which.  (Those this crak cannot look into, it cannot tell.)
 */
int inet_held_outside(const pid_t *pids, const struct rfiles *const *files, unsigned int nr,
		      const char *set)
{
	char dir[64], link[64];
	struct dirent *de, *fe;
	unsigned long ino;
	pid_t pid, holder;
	uint32_t fd;
	DIR *proc, *d;
	ssize_t n;
	int ret = 0;

	if (!inet_any(files, nr))
		return 0;
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (!ret && (de = readdir(proc))) {
		pid = atoi(de->d_name);
		if (pid <= 0 || pid == getpid() || pid_in(pid, pids, nr))
			continue;
		snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
		d = opendir(dir);
		if (!d)
			continue;	/* gone, or not ours to look into */
		while (!ret && (fe = readdir(d))) {
			n = readlinkat(dirfd(d), fe->d_name, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (sscanf(link, "socket:[%lu]", &ino) != 1 ||
			    !inet_of(ino, pids, files, nr, &holder, &fd))
				continue;
			pr_err("checkpoint %d: descriptor %u (inet socket) is held by process %d too%s%s: not taken",
			       holder, fd, pid, set ? ", outside the " : "", set ?: "");
			ret = -1;
		}
		closedir(d);
	}
	closedir(proc);
	return ret;
}

/*
 * The socket of RF again, from its image, in this network namespace,
 * frozen: *ID is crak_sockmig's handle of it, for inet_thaw().
 */
int inet_make(const struct rfile *rf, uint32_t *id)
{
	char what[64];
	int memfd, fd = -1;

	snprintf(what, sizeof(what), "restart: descriptor %u", le32toh(rf->f.fd));
	memfd = memfd_create("crak-sock", MFD_CLOEXEC);
	if (memfd < 0)
		return -1;
	if (write(memfd, rf->data, le64toh(rf->f.data_len)) != (ssize_t)le64toh(rf->f.data_len) ||
	    lseek(memfd, 0, SEEK_SET)) {
		close(memfd);
		return -1;
	}
	if (sock_restore_image(memfd, what, true, &fd, id)) {
		close(memfd);
		errno = EINVAL;
		return -1;
	}
	close(memfd);
	return fd;
}

/* The restored socket ID carries on, and what its crakvif held reaches it. */
int inet_thaw(uint32_t id)
{
	char what[64];

	snprintf(what, sizeof(what), "restart: restored socket %u", id);
	return sock_thaw_id(id, what);
}
