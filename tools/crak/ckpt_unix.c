// SPDX-License-Identifier: GPL-2.0
/*
 * A process's unix sockets, taken and made again (see ckpt_files.c).
 *
 * A socket pair whose two ends the process holds travels with the data
 * queued at each end, datagrams keeping their boundaries; a socket bound to
 * a path is bound again, listening if it listened.  The peer of a socket is
 * found with sock_diag (UNIX_DIAG_PEER), asked in the socket's own network
 * namespace.  The queued data is read with MSG_PEEK from a moving peek
 * offset (SO_PEEK_OFF), so that the process keeps it; the socket's own peek
 * offset is put back after.  Connections to another process cannot be made
 * again (but for a standard descriptor, which becomes the restarter's),
 * except a datagram socket's to a socket bound to an address (syslog's
 * /dev/log, say), which is connected to that address again
 * (CRAK_UNIX_OUTSIDE).
 *
 * CRAK_FILE_UNIX: value[0] is the socket type, value[1] its CRAK_UNIX_*
 * flags, value[2] the socket's own inode, peer its peer's; the path is its
 * address: a path, or an abstract name (CRAK_UNIX_ABSTRACT) without its
 * leading NUL; a listener is bound to it again.  The data of an end
 * is what it will read: a stream's bytes as they are, or each datagram as a
 * 32-bit length and its bytes, padded to 4.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <libmnl/libmnl.h>

#include "ckpt.h"

struct unix_diag {
	uint32_t peer;
	bool have_peer;
	uint8_t state;
};

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct unix_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct unix_diag *d = data;
	const struct nlattr *attr;

	if (nlh->nlmsg_type == NLMSG_ERROR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_ERROR;
	d->state = m->udiag_state;
	mnl_attr_for_each(attr, nlh, sizeof(*m)) {
		if (mnl_attr_get_type(attr) == UNIX_DIAG_PEER &&
		    mnl_attr_get_payload_len(attr) >= sizeof(uint32_t)) {
			d->peer = mnl_attr_get_u32(attr);
			d->have_peer = true;
		}
	}
	return MNL_CB_OK;
}

/* What sock_diag says of socket INO, asked in the namespace of socket SK. */
static int unix_diag(int sk, uint32_t ino, struct unix_diag *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct unix_diag_req *req;
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	int netns, home, ret = -1;
	ssize_t len;

	netns = ioctl(sk, SIOCGSKNS);
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns < 0 || home < 0 || setns(netns, CLONE_NEWNET))
		goto out;
	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (setns(home, CLONE_NEWNET))
		die("cannot return to crak's network namespace: %s", strerror(errno));
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID))
		goto out;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = 1;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	memset(req, 0, sizeof(*req));
	req->sdiag_family = AF_UNIX;
	req->udiag_states = ~0U;
	req->udiag_ino = ino;
	req->udiag_show = UDIAG_SHOW_PEER;
	req->udiag_cookie[0] = req->udiag_cookie[1] = ~0U;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (len > 0 && mnl_cb_run(buf, len, 1, 0, diag_cb, d) >= 0)
		ret = 0;
out:
	if (nl)
		mnl_socket_close(nl);
	if (netns >= 0)
		close(netns);
	if (home >= 0)
		close(home);
	return ret;
}

static void data_append(struct rfile *rf, const void *p, size_t n)
{
	uint64_t len = le64toh(rf->f.data_len);

	rf->data = xrealloc(rf->data, len + n);
	memcpy((char *)rf->data + len, p, n);
	rf->f.data_len = htole64(len + n);
}

/* Everything queued for SK to read, without taking it. */
static int peek_queue(int sk, int type, struct rfile *rf)
{
	int off = 0, saved = -1;
	socklen_t sl = sizeof(saved);
	size_t size = 256 * 1024;
	char *buf;
	ssize_t n;
	int err = 0;

	if (getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &saved, &sl) ||
	    setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		return -errno;
	buf = xmalloc(size);
	for (;;) {
		n = recv(sk, buf, size, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN)
				err = -errno;
			break;
		}
		if ((size_t)n > size) {
			err = -EMSGSIZE;
			break;
		}
		if (type == SOCK_STREAM) {
			if (!n)
				break;
			data_append(rf, buf, n);
		} else {
			uint32_t len = htole32(n);
			static const char pad[4];

			data_append(rf, &len, sizeof(len));
			data_append(rf, buf, n);
			data_append(rf, pad, (4 - n % 4) % 4);
		}
		if (le64toh(rf->f.data_len) > (64U << 20)) {
			err = -EFBIG;
			break;
		}
	}
	free(buf);
	setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &saved, sizeof(saved));
	return err;
}

/*
 * The name in the LEN bytes of SUN_PATH (len > 0): a path, up to its NUL if
 * it counts one, or after a NUL an abstract name (CRAK_UNIX_ABSTRACT into
 * *FLAGS), NULL if that has a NUL in it.
 */
static char *unix_name(const char *sun_path, size_t len, uint64_t *flags)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];

	if (sun_path[0]) {
		len = strnlen(sun_path, len);
	} else {
		sun_path++;
		len--;
		if (memchr(sun_path, 0, len))
			return NULL;
		*flags |= CRAK_UNIX_ABSTRACT;
	}
	memcpy(copy, sun_path, len);
	copy[len] = 0;
	return xstrdup(copy);
}

int unix_take(int sk, uint32_t ino, struct rfile *rf, const char **why)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	struct unix_diag d = {};
	socklen_t sl = sizeof(int);
	uint64_t flags;
	int type, acc;

	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &sl) ||
	    getsockopt(sk, SOL_SOCKET, SO_ACCEPTCONN, &acc, &sl) ||
	    getsockname(sk, (struct sockaddr *)&sun, &len) || unix_diag(sk, ino, &d)) {
		*why = "its unix socket could not be examined";
		return -1;
	}
	/* (A name of 108 bytes has a length one more than the address.) */
	len = len < sizeof(sun) ? len : sizeof(sun);
	rf->f.type = htole32(CRAK_FILE_UNIX);
	rf->f.value[0] = htole64(type);
	rf->f.value[2] = htole64(ino);
	rf->f.peer = htole64(d.have_peer ? d.peer : 0);
	flags = acc ? CRAK_UNIX_LISTENING : 0;
	if (len > offsetof(struct sockaddr_un, sun_path)) {
		rf->path = unix_name(sun.sun_path, len - offsetof(struct sockaddr_un, sun_path),
				     &flags);
		if (!rf->path) {
			*why = "a unix socket whose abstract name has a NUL byte in it";
			return -1;
		}
	}
	rf->f.value[1] = htole64(flags);
	if (acc) {
		if (d.have_peer || rf->f.data_len) {
			*why = "a listening unix socket with connections waiting";
			return -1;
		}
		return 0;
	}
	if (!d.have_peer && type == SOCK_STREAM) {
		*why = "an unconnected unix stream socket";
		return -1;
	}
	/* Whom a datagram socket sends to, if it has a name. */
	if (d.have_peer && type == SOCK_DGRAM) {
		len = sizeof(sun);
		if (!getpeername(sk, (struct sockaddr *)&sun, &len) &&
		    len > offsetof(struct sockaddr_un, sun_path)) {
			len = len < sizeof(sun) ? len : sizeof(sun);
			rf->peer_len = len - offsetof(struct sockaddr_un, sun_path);
			memcpy(rf->peer_addr, sun.sun_path, rf->peer_len);
		}
	}
	if (peek_queue(sk, type, rf)) {
		*why = "its unix socket's queue could not be read";
		return -1;
	}
	return 0;
}

/*
 * RF, connected to a socket its process PID (tree, pod) does not hold, is
 * to be connected again to that socket's address (CRAK_UNIX_OUTSIDE).  A
 * path must name, from PID's root as from crak's, the same socket file:
 * crak connects from its own.  (A name given by a process in a chroot of
 * its own, which the peer's address then is, is not told from one given
 * outside.)
 */
int unix_outside(struct rfile *rf, pid_t pid, const char **why)
{
	static char msg[sizeof(rf->peer_addr) + 128];
	uint64_t flags = CRAK_UNIX_OUTSIDE;
	struct stat here, there;
	char *name, *seen;
	bool abstract;
	int n;

	if (!rf->peer_len) {
		*why = "is a unix socket connected to another process";
		return -1;
	}
	if (rf->path) {
		*why = "is a unix datagram socket connected to another process, and bound itself";
		return -1;
	}
	if (rf->f.data_len) {
		*why = "is a unix datagram socket connected to another process, with datagrams queued for it";
		return -1;
	}
	name = unix_name(rf->peer_addr, rf->peer_len, &flags);
	abstract = flags & CRAK_UNIX_ABSTRACT;
	/* As unix_make() can write it again: a NUL at the end of a path. */
	if (!name || !name[0] || strlen(name) + abstract >= sizeof(rf->peer_addr)) {
		free(name);
		*why = "is a unix datagram socket connected to a name crak cannot write";
		return -1;
	}
	if (!abstract) {
		n = asprintf(&seen, "/proc/%d/root%s", pid, name);
		if (name[0] != '/' || n < 0 || stat(seen, &there) || stat(name, &here) ||
		    !S_ISSOCK(here.st_mode) || here.st_dev != there.st_dev ||
		    here.st_ino != there.st_ino) {
			snprintf(msg, sizeof(msg),
				 "is a unix datagram socket connected to %s, which crak does not see as the process does",
				 name);
			*why = msg;
			if (n >= 0)
				free(seen);
			free(name);
			return -1;
		}
		free(seen);
	}
	rf->path = name;
	rf->f.path_len = htole32(strlen(name) + 1);
	rf->f.value[1] = htole64(le64toh(rf->f.value[1]) | flags);
	rf->f.peer = 0;
	return 0;
}

/*
 * Checks that each connected unix socket's peer is one of the process's; a
 * datagram socket may send to a named socket outside (unix_outside()); a
 * standard descriptor connected elsewhere becomes the restarter's.
 */
int unix_check_peers(pid_t pid, struct rfiles *files, bool alone)
{
	const char *why;
	unsigned int i, j;

	for (i = 0; i < files->nr; i++) {
		struct rfile *rf = &files->v[i];
		bool found = false;

		if (le32toh(rf->f.type) != CRAK_FILE_UNIX || !rf->f.peer)
			continue;
		for (j = 0; j < files->nr && !found; j++)
			found = le32toh(files->v[j].f.type) == CRAK_FILE_UNIX &&
				files->v[j].f.value[2] == rf->f.peer;
		/* (In a tree, the peer may be another process's: the tree sees.) */
		if (found || !alone || !unix_outside(rf, pid, &why))
			continue;
		if (le32toh(rf->f.fd) > 2) {
			pr_err("checkpoint %d: descriptor %u %s", pid, le32toh(rf->f.fd), why);
			return -1;
		}
		file_to_stdio(rf);
	}
	return 0;
}

/* Writes the queued data of RF (what it will read) into its peer P. */
static int refill(const struct rfile *rf, int p)
{
	const char *d = rf->data, *end = d + le64toh(rf->f.data_len);
	int type = le64toh(rf->f.value[0]);
	uint32_t len;

	if (type == SOCK_STREAM)
		return d == end || send(p, d, end - d, MSG_NOSIGNAL) == end - d ? 0 : -1;
	while (d + sizeof(len) <= end) {
		memcpy(&len, d, sizeof(len));
		len = le32toh(len);
		d += sizeof(len);
		if (len > (uint64_t)(end - d) || send(p, d, len, MSG_NOSIGNAL) != (ssize_t)len)
			return -1;
		d += len + (4 - len % 4) % 4;
	}
	return 0;
}

static int park_above(int fd, int base)
{
	int high;

	if (fd < 0)
		return -1;
	high = fcntl(fd, F_DUPFD_CLOEXEC, base);
	close(fd);
	return high;
}

/*
 * The socket of RF, index IDX: a pair is made for its first end, the other
 * end parked in KEEP[idx] for the second, each end refilled with what it had
 * to read.  Returns the descriptor (from BASE up), or -1 (errno).
 */
int unix_make(const struct rfiles *files, unsigned int idx, int *keep, int base)
{
	const struct rfile *rf = &files->v[idx];
	int type = le64toh(rf->f.value[0]);
	unsigned int i;
	int sv[2], fd;

	if (le64toh(rf->f.value[1]) & (CRAK_UNIX_LISTENING | CRAK_UNIX_OUTSIDE)) {
		bool abstract = le64toh(rf->f.value[1]) & CRAK_UNIX_ABSTRACT;
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		size_t len = rf->path ? strlen(rf->path) : 0;
		socklen_t sl = offsetof(struct sockaddr_un, sun_path) + abstract + len + !abstract;

		if (!len || len + abstract >= sizeof(sun.sun_path)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(sun.sun_path + abstract, rf->path, len);
		fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
		if (le64toh(rf->f.value[1]) & CRAK_UNIX_OUTSIDE) {
			if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sl)) {
				close(fd);
				return -1;
			}
			return park_above(fd, base);
		}
		/* The old socket's file is left behind by its process. */
		if (!abstract)
			unlink(rf->path);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sl) || listen(fd, 128)) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return park_above(fd, base);
	}
	for (i = 0; i < idx; i++) {
		if (files->v[i].f.value[2] == rf->f.peer && keep[i] >= 0) {
			fd = keep[i];
			keep[i] = -1;
			return fd;
		}
	}
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		return -1;
	/* What this end reads was written by the other, and the reverse. */
	for (i = 0; i < files->nr; i++)
		if (le32toh(files->v[i].f.type) == CRAK_FILE_UNIX &&
		    files->v[i].f.value[2] == rf->f.peer)
			break;
	if (refill(rf, sv[1]) || (i < files->nr && refill(&files->v[i], sv[0]))) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	keep[idx] = park_above(sv[1], base);
	return park_above(sv[0], base);
}
