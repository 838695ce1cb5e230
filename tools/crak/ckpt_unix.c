// SPDX-License-Identifier: GPL-2.0
/*
 * A process's unix sockets, taken and made again (see ckpt_files.c).
 *
 * A socket pair whose two ends the process holds travels with the data
 * queued at each end, datagrams keeping their boundaries; a socket bound to
 * a path is bound again, listening if it listened.  A datagram socket
 * connected to none (a server's) comes back so, with its datagrams, and
 * one connected to it (its client's) is connected to it by its name.  The
 * peer of a socket is found with sock_diag (UNIX_DIAG_PEER), asked in the
 * socket's own network namespace.  The queued data is read with MSG_PEEK
 * from a moving peek offset (SO_PEEK_OFF), so that the process keeps it;
 * the socket's own peek offset is put back after, and so are the marks of
 * the datagrams of no bytes it had peeked, which crak takes off first
 * (CRAK_CKPT_CMD_PEEKED): such a peek passes over a marked one.
 * Connections to another process cannot be made again (but for a standard
 * descriptor, which becomes the restarter's), except a datagram socket's
 * to a socket bound to an address (syslog's /dev/log, say), which is
 * connected to that address again (CRAK_UNIX_OUTSIDE).
 *
 * CRAK_FILE_UNIX: value[0] is the socket type, value[1] its CRAK_UNIX_*
 * flags, value[2] the socket's own inode, peer its peer's; the path is its
 * address: a path, or an abstract name (CRAK_UNIX_ABSTRACT) without its
 * leading NUL; a listener is bound to it again.  The data of an end
 * is what it will read: a stream's bytes as they are, or each datagram as a
 * 32-bit length (and a datagram socket's, CRAK_UNIX_SENDERS, its sender's
 * address) and its bytes, padded to 4; a peeked one of no bytes has the
 * length CRAK_UNIX_DGRAM_PEEKED.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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
	/* Of a listener: connections waiting to be accepted, its backlog. */
	uint32_t rqueue, wqueue;
	/* net.unix.max_dgram_qlen, as the socket's network namespace has it */
	unsigned long dgram_qlen;
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
		if (mnl_attr_get_type(attr) == UNIX_DIAG_RQLEN &&
		    mnl_attr_get_payload_len(attr) >= sizeof(struct unix_diag_rqlen)) {
			const struct unix_diag_rqlen *q = mnl_attr_get_payload(attr);

			d->rqueue = q->udiag_rqueue;
			d->wqueue = q->udiag_wqueue;
		}
	}
	return MNL_CB_OK;
}

/*
 * What sock_diag says of socket INO, asked in the namespace of socket SK;
 * with QLEN (a datagram socket's), that namespace's max_dgram_qlen too.
 */
static int unix_diag(int sk, uint32_t ino, bool qlen, struct unix_diag *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct unix_diag_req *req;
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	int netns, home, ret = -1;
	ssize_t len;
	FILE *f;

	netns = ioctl(sk, SIOCGSKNS);
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns < 0 || home < 0 || setns(netns, CLONE_NEWNET))
		goto out;
	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	/* (A network namespace's sysctls are those of the one who opens them.) */
	f = qlen ? fopen("/proc/sys/net/unix/max_dgram_qlen", "re") : NULL;
	if (!f || fscanf(f, "%lu", &d->dgram_qlen) != 1)
		d->dgram_qlen = 10;
	if (f)
		fclose(f);
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
	req->udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
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

/* The bytes that pad LEN to a multiple of 4. */
static uint32_t pad4(uint32_t len)
{
	return (4 - len % 4) % 4;
}

/* (Linux 6.5: a pidfd of the sender, to a socket with SO_PASSPIDFD.) */
#ifndef SCM_PIDFD
#define SCM_PIDFD	0x04
#endif

/*
 * Whether the message MH peeked carries descriptors (SCM_RIGHTS, or more
 * than its control buffer took: MSG_CTRUNC); those it gave crak are closed
 * (a sender's pidfd too).
 */
static bool passes_fds(struct msghdr *mh)
{
	bool fds = mh->msg_flags & MSG_CTRUNC;
	struct cmsghdr *c;
	size_t i, nr;
	int fd;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    (c->cmsg_type != SCM_RIGHTS && c->cmsg_type != SCM_PIDFD))
			continue;
		fds |= c->cmsg_type == SCM_RIGHTS;
		nr = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nr; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
	return fds;
}

/* Positions in a socket's queue (CRAK_CKPT_A_PEEKED), and its length. */
struct peeked {
	uint32_t *pos;
	size_t nr;
	uint32_t queued;		/* CRAK_CKPT_A_QUEUED */
};

static int peeked_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_CKPT_A_MAX + 1];
	struct peeked *p = data;
	size_t len;

	if (ckpt_parse(nlh, tb) || !tb[CRAK_CKPT_A_PEEKED] || !tb[CRAK_CKPT_A_QUEUED])
		return nl_malformed("crak_ckpt");
	p->queued = mnl_attr_get_u32(tb[CRAK_CKPT_A_QUEUED]);
	len = mnl_attr_get_payload_len(tb[CRAK_CKPT_A_PEEKED]);
	if (len % sizeof(uint32_t))
		return nl_malformed("crak_ckpt");
	free(p->pos);
	p->nr = len / sizeof(uint32_t);
	p->pos = xmalloc(len ? len : 1);
	memcpy(p->pos, mnl_attr_get_payload(tb[CRAK_CKPT_A_PEEKED]), len);
	return MNL_CB_OK;
}

/*
 * Takes the peek marks off SK's queue, OLD getting where they were; or,
 * with WANT, marks the datagrams at its positions (and no other).
 */
static int set_peeked(struct nl *nl, const char *what, int sk, const struct peeked *want,
		      struct peeked *old)
{
	struct nlmsghdr *nlh;

	nlh = nl_request(nl, CRAK_CKPT_CMD_PEEKED, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_FD, sk);
	if (want && (want->nr > CRAK_CKPT_PEEKED_MAX ||
		     !mnl_attr_put_check(nlh, NL_REQ_SIZE, CRAK_CKPT_A_PEEKED,
					 want->nr * sizeof(uint32_t), want->pos)))
		return -E2BIG;
	if (!nl_exec(nl, what, want ? NULL : peeked_cb, old))
		return 0;
	return -(nl->err ? nl->err : EIO);
}

/*
 * Everything queued for SK to read, without taking it (its peek offset
 * moves on by what each peek copied); with MARKS, no more datagrams than
 * it says are queued (a seqpacket socket whose peer is gone answers each
 * peek past its last with 0 bytes, as it would a datagram of no bytes),
 * one of no bytes at a position it lists told peeked.  -EBADFD where
 * descriptors are passed with it (SCM_RIGHTS), which crak cannot take.
 */
static int peek_all(int sk, int type, struct rfile *rf, const struct peeked *marks)
{
	int off = 0, saved = -1;
	uint32_t pos = 0;
	size_t mark = 0;
	socklen_t sl = sizeof(saved);
	size_t size = 256 * 1024;
	union {
		/* (SCM_MAX_FD descriptors, credentials, a pidfd, a label.) */
		char buf[CMSG_SPACE(253 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(sizeof(int)) + CMSG_SPACE(4096)];
		struct cmsghdr align;
	} cm;
	struct sockaddr_un from;
	struct msghdr mh = {};
	struct iovec iov;
	char *buf;
	ssize_t n;
	int err = 0;

	if (getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &saved, &sl) ||
	    setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		return -errno;
	buf = xmalloc(size);
	for (;;) {
		if (type != SOCK_STREAM && marks && pos == marks->queued)
			break;
		iov = (struct iovec){ .iov_base = buf, .iov_len = size };
		mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
		if (type == SOCK_DGRAM) {
			mh.msg_name = &from;
			mh.msg_namelen = sizeof(from);
		}
		n = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno != EAGAIN)
				err = -errno;
			break;
		}
		if (passes_fds(&mh)) {
			err = -EBADFD;
			break;
		}
		if ((size_t)n > size) {
			/* (A datagram larger than the buffer: peeked again, whole.) */
			if ((size_t)n > FILE_DATA_MAX) {
				err = -EFBIG;
				break;
			}
			if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off))) {
				err = -errno;
				break;
			}
			size = n;
			buf = xrealloc(buf, size);
			continue;
		}
		off += n;
		if (type == SOCK_STREAM) {
			if (!n)
				break;
			data_append(rf, buf, n);
		} else {
			uint32_t len = htole32(n), nl = 0;
			static const char pad[4];

			/* (The kernel marks none but those of no bytes.) */
			while (marks && mark < marks->nr && marks->pos[mark] < pos)
				mark++;
			if (!n && marks && mark < marks->nr && marks->pos[mark] == pos)
				len = htole32(CRAK_UNIX_DGRAM_PEEKED);
			pos++;
			data_append(rf, &len, sizeof(len));
			/* (CRAK_UNIX_SENDERS: its sender's address; an unbound one's, none.) */
			if (type == SOCK_DGRAM) {
				if (mh.msg_namelen > offsetof(struct sockaddr_un, sun_path))
					nl = (mh.msg_namelen < sizeof(from) ? mh.msg_namelen :
					      sizeof(from)) - offsetof(struct sockaddr_un, sun_path);
				len = htole32(nl);
				data_append(rf, &len, sizeof(len));
				data_append(rf, from.sun_path, nl);
				data_append(rf, pad, pad4(nl));
			}
			data_append(rf, buf, n);
			data_append(rf, pad, pad4(n));
		}
		if (le64toh(rf->f.data_len) > FILE_DATA_MAX) {
			err = -EFBIG;
			break;
		}
	}
	free(buf);
	setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &saved, sizeof(saved));
	return err;
}

/*
 * As peek_all(), a datagram of no bytes the process had peeked included,
 * and told so: the marks are taken off the queue for it, then put back as
 * they were.
 */
static int peek_queue(int sk, int type, struct rfile *rf)
{
	static const char what[] = "checkpoint: the peek marks of a unix socket's queue";
	struct pollfd p = { .fd = sk, .events = POLLIN };
	struct peeked old = {};
	struct nl nl;
	int err;

	/* (Nothing queued, no mark: the frozen process waits for no netlink.) */
	if (type == SOCK_STREAM || !poll(&p, 1, 0))
		return peek_all(sk, type, rf, NULL);
	if (nl_open(&nl, &ckpt_family))
		return -EIO;
	err = set_peeked(&nl, what, sk, NULL, &old);
	if (!err) {
		err = peek_all(sk, type, rf, &old);
		if (set_peeked(&nl, what, sk, &old, NULL))
			pr_err("checkpoint: warning: a unix socket's peek marks could not be put back");
	}
	nl_close(&nl);
	free(old.pos);
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

/* The options of socket SK (a listener: ACC), into RF (CRAK_FILE_SOCKOPTS). */
static int unix_get_opts(int sk, bool acc, struct rfile *rf)
{
	struct crak_img_unix_opts *o = &rf->uopts;
	socklen_t il = sizeof(int), tl = sizeof(struct timeval), ul = sizeof(struct ucred);
	int cred, sec, snd, rcv, peek;
	struct timeval rt, st;
	struct ucred uc;

	/* (A kernel without SO_PASSSEC, as later ones without LSM networking: 0.) */
	if (getsockopt(sk, SOL_SOCKET, SO_PASSSEC, &sec, &il)) {
		if (errno != EOPNOTSUPP && errno != ENOPROTOOPT)
			return -1;
		sec = 0;
	}
	if (getsockopt(sk, SOL_SOCKET, SO_PASSCRED, &cred, &il) ||
	    getsockopt(sk, SOL_SOCKET, SO_SNDBUF, &snd, &il) ||
	    getsockopt(sk, SOL_SOCKET, SO_RCVBUF, &rcv, &il) ||
	    getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &peek, &il) ||
	    getsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &rt, &tl) ||
	    getsockopt(sk, SOL_SOCKET, SO_SNDTIMEO, &st, &tl))
		return -1;
	o->flags = htole32((cred ? CRAK_UNIX_OPT_PASSCRED : 0) | (sec ? CRAK_UNIX_OPT_PASSSEC : 0));
	o->sndbuf = htole32(snd);
	o->rcvbuf = htole32(rcv);
	o->peek_off = htole32(peek);
	/* (Beyond 68 years, as "forever" is often asked, the same as 68.) */
	if (rt.tv_sec > INT_MAX)
		rt = (struct timeval){ INT_MAX, 0 };
	if (st.tv_sec > INT_MAX)
		st = (struct timeval){ INT_MAX, 0 };
	o->rcvtimeo = htole64((uint64_t)rt.tv_sec * 1000000 + rt.tv_usec);
	o->sndtimeo = htole64((uint64_t)st.tv_sec * 1000000 + st.tv_usec);
	/*
	 * Its peer, as the process sees it: of a listener, the process that
	 * made it listen (whom its clients are told).  (None: pid 0.)
	 */
	if (!getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &uc, &ul) && uc.pid > 0) {
		if (acc)
			o->listen_pid = htole32(uc.pid);
		o->flags |= htole32(CRAK_UNIX_OPT_PEER);
		rf->upeer = (struct crak_img_unix_peer){
			.pid = htole32(uc.pid),
			.uid = htole32(uc.uid),
			.gid = htole32(uc.gid),
		};
	}
	rf->f.fd_flags |= htole32(CRAK_FILE_SOCKOPTS);
	return 0;
}

/*
 * Sets socket option OPT of FD to V, if it is not V already (0, where the
 * kernel has no such option: nothing to set).
 */
static int set_int_opt(int fd, int opt, int v)
{
	socklen_t l = sizeof(int);
	int now;

	if (!getsockopt(fd, SOL_SOCKET, opt, &now, &l)) {
		if (now == v)
			return 0;
	} else if (!v && (errno == EOPNOTSUPP || errno == ENOPROTOOPT)) {
		return 0;
	}
	return setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/*
 * A buffer's size (SO_SNDBUF or SO_RCVBUF, as getsockopt gives it: twice
 * what setsockopt asked), forced beyond the node's limit where crak may.
 */
static int set_buf(int fd, int opt, int force, int v)
{
	socklen_t l = sizeof(int);
	int now;

	if (!getsockopt(fd, SOL_SOCKET, opt, &now, &l) && now == v)
		return 0;
	v /= 2;
	if (!setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)))
		return 0;
	return setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

static int set_timeo(int fd, int opt, uint64_t us)
{
	struct timeval tv = { .tv_sec = us / 1000000, .tv_usec = us % 1000000 };

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

int unix_listen_again(int fd, const struct rfile *l)
{
	uint64_t backlog = le64toh(l->f.value[3]);

	return listen(fd, backlog && backlog - 1 <= INT_MAX ? (int)(backlog - 1) : 128);
}

int unix_set_opts(int fd, const struct rfile *rf)
{
	const struct crak_img_unix_opts *o = &rf->uopts;
	uint32_t flags = le32toh(o->flags);

	if (le32toh(rf->f.type) != CRAK_FILE_UNIX ||
	    !(le32toh(rf->f.fd_flags) & CRAK_FILE_SOCKOPTS))
		return 0;
	if (set_int_opt(fd, SO_PASSCRED, !!(flags & CRAK_UNIX_OPT_PASSCRED)) ||
	    set_int_opt(fd, SO_PASSSEC, !!(flags & CRAK_UNIX_OPT_PASSSEC)) ||
	    set_int_opt(fd, SO_PEEK_OFF, (int)le32toh(o->peek_off)) ||
	    set_buf(fd, SO_SNDBUF, SO_SNDBUFFORCE, le32toh(o->sndbuf)) ||
	    set_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, le32toh(o->rcvbuf)) ||
	    set_timeo(fd, SO_RCVTIMEO, le64toh(o->rcvtimeo)) ||
	    set_timeo(fd, SO_SNDTIMEO, le64toh(o->sndtimeo)))
		return -1;
	return 0;
}

int unix_take(int sk, uint32_t ino, struct rfile *rf, const char **why)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	struct unix_diag d = {};
	socklen_t sl = sizeof(int);
	uint64_t flags;
	int type, acc, err;

	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &sl) ||
	    getsockopt(sk, SOL_SOCKET, SO_ACCEPTCONN, &acc, &sl) ||
	    getsockname(sk, (struct sockaddr *)&sun, &len) ||
	    unix_diag(sk, ino, type == SOCK_DGRAM, &d) ||
	    unix_get_opts(sk, acc, rf)) {
		*why = "its unix socket could not be examined";
		return -1;
	}
	/* (A name of 108 bytes has a length one more than the address.) */
	len = len < sizeof(sun) ? len : sizeof(sun);
	rf->f.type = htole32(CRAK_FILE_UNIX);
	rf->f.value[0] = htole64(type);
	rf->f.value[2] = htole64(ino);
	rf->f.peer = htole64(d.have_peer ? d.peer : 0);
	rf->dgram_qlen = d.dgram_qlen;
	flags = acc ? CRAK_UNIX_LISTENING : 0;
	if (len > offsetof(struct sockaddr_un, sun_path)) {
		rf->path = unix_name(sun.sun_path, len - offsetof(struct sockaddr_un, sun_path),
				     &flags);
		if (!rf->path) {
			*why = "a unix socket whose abstract name has a NUL byte in it";
			return -1;
		}
		/* (A restart binds names before the process has its directory.) */
		if (!(flags & CRAK_UNIX_ABSTRACT) && rf->path[0] != '/') {
			*why = "a unix socket bound to a relative name: not taken yet";
			return -1;
		}
	}
	if (type == SOCK_DGRAM)
		flags |= CRAK_UNIX_SENDERS;
	rf->f.value[1] = htole64(flags);
	if (acc) {
		static char msg[96];

		/* (Their clients would find them gone, or not made again.) */
		if (d.rqueue) {
			snprintf(msg, sizeof(msg),
				 "a listening unix socket with %u connection%s waiting to be accepted",
				 d.rqueue, d.rqueue == 1 ? "" : "s");
			*why = msg;
			return -1;
		}
		rf->f.value[3] = htole64(1 + (uint64_t)d.wqueue);
		return 0;
	}
	if (!d.have_peer && type != SOCK_DGRAM) {
		*why = type == SOCK_STREAM ? "an unconnected unix stream socket" :
					     "an unconnected unix seqpacket socket";
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
	err = peek_queue(sk, type, rf);
	if (err) {
		*why = err == -EBADFD ?
		       "a unix socket with descriptors passed to it (SCM_RIGHTS) queued: not taken yet" :
		       "its unix socket's queue could not be read";
		return -1;
	}
	/*
	 * What a restart puts back comes from crak, whose credentials the
	 * socket would then be given for each, not their senders'.
	 */
	if (rf->f.data_len && (le32toh(rf->uopts.flags) & CRAK_UNIX_OPT_PASSCRED)) {
		*why = "a unix socket that asks its senders' credentials (SO_PASSCRED), with data queued for it";
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

/* The index of the socket PEER among FILES, files->nr if none. */
static unsigned int unix_find(const struct rfiles *files, uint64_t peer)
{
	unsigned int i;

	for (i = 0; i < files->nr; i++)
		if (le32toh(files->v[i].f.type) == CRAK_FILE_UNIX && files->v[i].f.value[2] == peer)
			break;
	return i;
}

/* A datagram (or message) of RF's data: its bytes, and its sender's address. */
struct dgram {
	const char *data;
	uint32_t len;
	const char *name;		/* sun_path's bytes (NULL: none) */
	uint32_t name_len;
	bool peeked;			/* CRAK_UNIX_DGRAM_PEEKED */
};

/*
 * The datagram at *D of RF's data, which ends at END, into G, and *D past
 * it: 1; 0 at the end; -1 (EINVAL) where it runs past END.
 */
static int dgram_next(const struct rfile *rf, const char **d, const char *end, struct dgram *g)
{
	bool named = le64toh(rf->f.value[1]) & CRAK_UNIX_SENDERS;
	uint64_t left = end - *d;
	uint32_t v;

	if (left < sizeof(v))
		return 0;
	memcpy(&v, *d, sizeof(v));
	g->len = le32toh(v);
	g->peeked = g->len == CRAK_UNIX_DGRAM_PEEKED;
	if (g->peeked)
		g->len = 0;
	*d += sizeof(v);
	left -= sizeof(v);
	g->name = NULL;
	g->name_len = 0;
	if (named) {
		if (left < sizeof(v))
			goto bad;
		memcpy(&v, *d, sizeof(v));
		g->name_len = le32toh(v);
		*d += sizeof(v);
		left -= sizeof(v);
		if (g->name_len > sizeof(((struct sockaddr_un *)0)->sun_path) ||
		    (uint64_t)g->name_len + pad4(g->name_len) > left)
			goto bad;
		g->name = g->name_len ? *d : NULL;
		*d += g->name_len + pad4(g->name_len);
		left -= g->name_len + pad4(g->name_len);
	}
	if (g->len > left)
		goto bad;
	g->data = *d;
	*d += g->len + (g->len + pad4(g->len) <= left ? pad4(g->len) : left - g->len);
	return 1;
bad:
	errno = EINVAL;
	return -1;
}

bool unix_queue_sound(const struct rfile *rf)
{
	const char *d = rf->data, *end = d + le64toh(rf->f.data_len);
	unsigned long peeked = 0;
	struct dgram g;
	int r;

	if (le32toh(rf->f.type) != CRAK_FILE_UNIX || le64toh(rf->f.value[0]) == SOCK_STREAM)
		return true;
	while ((r = dgram_next(rf, &d, end, &g)) > 0)
		peeked += g.peeked;
	return !r && peeked <= CRAK_CKPT_PEEKED_MAX;
}

/* The number of datagrams queued in RF's data (whole ones). */
static unsigned long unix_dgrams(const struct rfile *rf)
{
	const char *d = rf->data, *end = d + le64toh(rf->f.data_len);
	unsigned long n = 0;
	struct dgram g;

	while (dgram_next(rf, &d, end, &g) > 0)
		n++;
	return n;
}

/*
 * Whether RF's peer P, a socket of the process (tree, pod), can be made
 * again with it: the other end of its pair, or a datagram socket connected
 * to none that RF sends to by its name.  RF's datagrams then come back
 * from another than its peer: no more than net.unix.max_dgram_qlen lets
 * queue.  That of the namespace the restart makes it in counts: RF's own
 * is taken for it (a pod's comes back in a new one of the same kind).
 * NULL if it can, else why not.
 */
const char *unix_peer_refused(const struct rfile *rf, const struct rfile *p)
{
	static char msg[160];
	uint64_t flags = le64toh(p->f.value[1]);
	unsigned long n;

	if (p->f.peer == rf->f.value[2])
		return NULL;
	if (p->f.peer || !p->path || le64toh(p->f.value[0]) != SOCK_DGRAM ||
	    (flags & (CRAK_UNIX_LISTENING | CRAK_UNIX_OUTSIDE)))
		return "is a unix socket connected to one that is connected to another: not taken yet";
	n = unix_dgrams(rf);
	if (n <= rf->dgram_qlen + 1)
		return NULL;
	snprintf(msg, sizeof(msg),
		 "is a unix datagram socket with %lu datagrams queued, more than net.unix.max_dgram_qlen (%lu) lets a restart put back",
		 n, rf->dgram_qlen);
	return msg;
}

/*
 * Checks that each connected unix socket's peer is one of the process's,
 * which it can be made again with (unix_peer_refused()); a datagram socket may
 * send to a named socket outside (unix_outside()); a standard descriptor
 * connected elsewhere becomes the restarter's.
 */
int unix_check_peers(pid_t pid, struct rfiles *files, bool alone)
{
	const char *why;
	unsigned int i, j;

	for (i = 0; i < files->nr; i++) {
		struct rfile *rf = &files->v[i];

		if (le32toh(rf->f.type) != CRAK_FILE_UNIX || !rf->f.peer)
			continue;
		j = unix_find(files, rf->f.peer);
		why = j < files->nr ? unix_peer_refused(rf, &files->v[j]) : NULL;
		if (why) {
			pr_err("checkpoint %d: descriptor %u %s", pid, le32toh(rf->f.fd), why);
			return -1;
		}
		/* (In a tree, the peer may be another process's: the tree sees.) */
		if (j < files->nr || !alone || !unix_outside(rf, pid, &why))
			continue;
		if (le32toh(rf->f.fd) > 2) {
			pr_err("checkpoint %d: descriptor %u %s", pid, le32toh(rf->f.fd), why);
			return -1;
		}
		file_to_stdio(rf);
	}
	return 0;
}

/* FD's send buffer set to SIZE (the kernel doubles it), past net.core.wmem_max where crak may. */
static int set_sndbuf(int fd, int size)
{
	if (!setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/*
 * The largest send buffer SO_SNDBUF sets (twice net.core.wmem_max, one
 * limit for every network namespace, which 6.1 shows in /proc of the first
 * only): a new socket's, asked for more, once; 0 if unknown.
 */
static int sndbuf_max(void)
{
	static int max = -1;
	int fd, v = INT_MAX;
	socklen_t il = sizeof(v);

	if (max >= 0)
		return max;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &il))
		v = 0;
	close(fd);
	max = v;
	return max;
}

/*
 * FD's send buffer of SIZE bytes raised to WANT (doubled), where it can be
 * put back after: without CAP_NET_ADMIN, SO_SNDBUF sets no more than
 * net.core.wmem_max, and would shrink one set larger by force.
 */
static bool sndbuf_raise(int fd, int size, int want)
{
	if (!setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)))
		return true;
	if (size > sndbuf_max())
		return false;
	return !setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
}

/*
 * Room in the send buffer of FD for RF's data, which it will send at
 * once: the bytes, and what each datagram costs beyond its bytes (the
 * kernel doubles what it is given; only raised, where crak may).
 */
static void unix_room(int fd, const struct rfile *rf)
{
	uint64_t len = le64toh(rf->f.data_len);
	uint64_t need = le64toh(rf->f.value[0]) == SOCK_STREAM ? len + 65536 :
			len + unix_dgrams(rf) * 2048;
	socklen_t il = sizeof(int);
	int size;

	if (!len || getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &il) || need <= (uint64_t)size / 2)
		return;
	size = need < INT_MAX / 2 ? need : INT_MAX / 2;
	set_sndbuf(fd, size);
}

/* RF's address (its path) into SUN: its length, 0 if it has none it can be. */
static socklen_t unix_addr(const struct rfile *rf, struct sockaddr_un *sun)
{
	bool abstract = le64toh(rf->f.value[1]) & CRAK_UNIX_ABSTRACT;
	size_t len = rf->path ? strlen(rf->path) : 0;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (!len || len + abstract >= sizeof(sun->sun_path))
		return 0;
	memcpy(sun->sun_path + abstract, rf->path, len);
	return offsetof(struct sockaddr_un, sun_path) + abstract + len + !abstract;
}

/* The paths this process bound its sockets to again, so far. */
static char **bound;
static unsigned int nr_bound;

static bool bound_here(const char *path)
{
	unsigned int i;

	for (i = 0; i < nr_bound; i++)
		if (!strcmp(bound[i], path))
			return true;
	return false;
}

/*
 * The named datagram sockets this process made so far, while descriptors
 * are made (parked, at the numbers they were parked at): a datagram one of
 * them had sent, queued at another, comes from it.  A descriptor is taken
 * for its socket only while it is that socket (device and inode); those a
 * files_restore() parked are forgotten once it moved them (unix_forget()).
 */
static struct own_dgram {
	struct sockaddr_un sun;
	socklen_t sl;
	int fd;
	dev_t dev;
	ino_t ino;
} *own_dgrams;
static unsigned int nr_own_dgrams;

static void own_dgram_add(int fd, const struct sockaddr_un *sun, socklen_t sl)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		return;
	own_dgrams = xrealloc(own_dgrams, (nr_own_dgrams + 1) * sizeof(*own_dgrams));
	own_dgrams[nr_own_dgrams++] = (struct own_dgram){
		.sun = *sun, .sl = sl, .fd = fd, .dev = st.st_dev, .ino = st.st_ino,
	};
}

/* How many sockets are noted, for unix_forget(). */
unsigned int unix_noted(void)
{
	return nr_own_dgrams;
}

/* Forgets the sockets noted since unix_noted() said NR: their descriptors moved. */
void unix_forget(unsigned int nr)
{
	if (nr < nr_own_dgrams)
		nr_own_dgrams = nr;
}

/* Whether A (AL bytes) and B (BL bytes) are the same name. */
static bool same_name(const struct sockaddr_un *a, socklen_t al, const struct sockaddr_un *b,
		      socklen_t bl)
{
	if (a->sun_path[0])
		return !strncmp(a->sun_path, b->sun_path, sizeof(a->sun_path));
	return al == bl && !memcmp(a, b, al);
}

/*
 * The descriptor of the datagram socket this process made with the address
 * SUN (SL bytes), if it still is that socket's (the latest noted first);
 * -1 if none.
 */
static int own_dgram_find(const struct sockaddr_un *sun, socklen_t sl)
{
	const struct own_dgram *o;
	struct stat st;
	unsigned int i;

	for (i = nr_own_dgrams; i--;) {
		o = &own_dgrams[i];
		if (same_name(sun, sl, &o->sun, o->sl) && !fstat(o->fd, &st) &&
		    S_ISSOCK(st.st_mode) && st.st_dev == o->dev && st.st_ino == o->ino)
			return o->fd;
	}
	return -1;
}

/*
 * Whether the socket file of SUN (SL bytes) names a socket now (a running
 * process's, in any network namespace), not one gone: a datagram socket's
 * connect finds it (or one of another type: EPROTOTYPE), and tells it
 * nothing.
 */
static bool unix_name_held(const struct sockaddr_un *sun, socklen_t sl)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool held;

	if (fd < 0)
		return false;
	held = !connect(fd, (const struct sockaddr *)sun, sl) ||
	       (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return held;
}

/*
 * Makes way for a bind to SUN's path (SL bytes; an abstract name needs
 * none): a socket file there goes if its socket is gone (the old socket's,
 * its process's) or, with REBIND, it is one this process bound again before
 * (the path was bound twice); one that names a running socket is left to
 * it: -1, EADDRINUSE.
 */
static int unix_free_path(const struct sockaddr_un *sun, socklen_t sl, bool rebind)
{
	struct stat st;

	if (!sun->sun_path[0] || lstat(sun->sun_path, &st) || !S_ISSOCK(st.st_mode))
		return 0;
	if (!(rebind && bound_here(sun->sun_path)) && unix_name_held(sun, sl)) {
		errno = EADDRINUSE;
		return -1;
	}
	unlink(sun->sun_path);
	return 0;
}

/* Binds FD to RF's address, where it may (unix_free_path()). */
static int unix_bind(int fd, const struct rfile *rf)
{
	struct sockaddr_un sun;
	socklen_t sl = unix_addr(rf, &sun);

	if (!sl) {
		errno = EINVAL;
		return -1;
	}
	if (unix_free_path(&sun, sl, true))
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sl))
		return -1;
	if (sun.sun_path[0]) {
		bound = xrealloc(bound, (nr_bound + 1) * sizeof(*bound));
		bound[nr_bound++] = xstrdup(sun.sun_path);
	}
	return 0;
}

/*
 * Whether the sender's address of datagram G is one crak may bind: an
 * abstract name, or a path FILES binds a socket to itself (whoever sends
 * from another path chose it, and crak, as root, would make a socket file
 * there).
 */
static bool sender_name_ours(const struct dgram *g, const struct rfiles *files)
{
	unsigned int i;

	if (!g->name[0])
		return true;
	if (g->name[0] != '/' || !memchr(g->name, 0, g->name_len))
		return false;
	for (i = 0; files && i < files->nr; i++) {
		const struct rfile *rf = &files->v[i];

		if (le32toh(rf->f.type) == CRAK_FILE_UNIX && rf->path &&
		    !(le64toh(rf->f.value[1]) & CRAK_UNIX_ABSTRACT) && !strcmp(rf->path, g->name))
			return true;
	}
	return false;
}

/*
 * G sent from FD, a sender this process made already, to TO (TL bytes):
 * whether it went.  Its send buffer is made room in for the while (what it
 * has in flight, and G whole), where crak may: its options, the image's,
 * are set later, or were set already by an ancestor that made it; G, once
 * sent, weighs on its sender as it did on the original.
 */
static bool send_own(int fd, const struct dgram *g, const struct sockaddr_un *to, socklen_t tl,
		     int flags)
{
	socklen_t il = sizeof(int);
	int size, used = 0, want;
	bool raised = false, sent;
	uint64_t need;

	/* (A datagram may be at most its send buffer less 32 bytes.) */
	if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &il) && !ioctl(fd, SIOCOUTQ, &used)) {
		need = (uint64_t)used + g->len + 4096;
		want = need / 2 < INT_MAX / 2 ? need / 2 + 1 : INT_MAX / 2;
		raised = need > (uint64_t)size && sndbuf_raise(fd, size, want);
	}
	sent = sendto(fd, g->data, g->len, flags, (const struct sockaddr *)to, tl) ==
	       (ssize_t)g->len;
	if (raised)
		set_sndbuf(fd, size / 2);
	return sent;
}

/*
 * Datagram G sent to the socket at TO (TL bytes) from a socket bound to its
 * sender's address, so that its reader can tell who sent it: 0.  That is
 * the sender itself where this process made it already (own_dgram_find(),
 * send_own()), else a socket bound for the send.  1 where that address is
 * not one crak may bind (sender_name_ours(), FILES), or not free (a running
 * socket holds it), or the sender made already could not send it (a
 * restart without CAP_NET_ADMIN makes no room beyond net.core.wmem_max): it
 * is to come from none.  -1 if it was not sent.  (A path's socket file
 * stays, for its socket's bind, which replaces it.)
 */
static int send_named(const struct dgram *g, const struct rfiles *files,
		      const struct sockaddr_un *to, socklen_t tl, int flags)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t sl = offsetof(struct sockaddr_un, sun_path) + g->name_len;
	int fd, size = g->len + 65536, err;
	ssize_t n;

	memcpy(sun.sun_path, g->name, g->name_len);
	/* A socket this process made already (its name is ours): from it. */
	fd = own_dgram_find(&sun, sl);
	if (fd >= 0)
		return send_own(fd, g, to, tl, flags) ? 0 : 1;
	if (!sender_name_ours(g, files))
		return 1;
	/* (Something else at its path: the bind fails.) */
	if (unix_free_path(&sun, sl, false))
		return 1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	if (bind(fd, (struct sockaddr *)&sun, sl)) {
		close(fd);
		return 1;
	}
	/* (Room for it, however big it was let be.) */
	set_sndbuf(fd, size);
	n = sendto(fd, g->data, g->len, flags, (const struct sockaddr *)to, tl);
	err = errno;
	close(fd);
	if (n == (ssize_t)g->len)
		return 0;
	errno = n >= 0 || err == EAGAIN ? ENOBUFS : err;
	return -1;
}

/*
 * Marks the datagrams of no bytes at the positions WANT lists in the queue
 * of R, a socket made again, as peeked: as they were.
 */
static int remark(int r, const struct peeked *want)
{
	struct nl nl;
	int err;

	if (nl_open(&nl, &ckpt_family)) {
		errno = EIO;
		return -1;
	}
	err = set_peeked(&nl, "restart: the peek marks of a unix socket's queue", r, want, NULL);
	nl_close(&nl);
	errno = -err;
	return err ? -1 : 0;
}

/*
 * Writes the queued data of RF (what it will read) into its peer P, never
 * waiting: what does not fit fails (ENOBUFS), where nobody would read; and
 * marks those a peek had shown in the queue of R, RF made again.
 * With TO (TL bytes), RF's own address, already bound: a datagram whose
 * sender had an address comes from it, where it may (send_named(), FILES).
 */
static int refill(const struct rfile *rf, int r, int p, const struct rfiles *files,
		  const struct sockaddr_un *to, socklen_t tl)
{
	const char *d = rf->data, *end = d + le64toh(rf->f.data_len);
	int type = le64toh(rf->f.value[0]), flags = MSG_DONTWAIT | MSG_NOSIGNAL, ret;
	struct peeked marks = {};
	uint32_t pos = 0;
	struct dgram g;
	ssize_t n = 0;

	unix_room(p, rf);
	if (type == SOCK_STREAM) {
		n = d == end ? 0 : send(p, d, end - d, flags);
		if (n == end - d)
			return 0;
		goto short_send;
	}
	while ((ret = dgram_next(rf, &d, end, &g)) > 0) {
		/* (No more than CRAK_CKPT_PEEKED_MAX: unix_queue_sound().) */
		if (g.peeked) {
			marks.pos = xrealloc(marks.pos, (marks.nr + 1) * sizeof(*marks.pos));
			marks.pos[marks.nr++] = pos;
		}
		pos++;
		if (g.name && to) {
			ret = send_named(&g, files, to, tl, flags);
			if (ret < 0)
				goto out;
			if (!ret)
				continue;
		}
		n = send(p, g.data, g.len, flags);
		if (n != (ssize_t)g.len)
			goto short_send;
	}
	if (!ret && marks.nr)
		ret = remark(r, &marks);
out:
	free(marks.pos);
	return ret;
short_send:
	free(marks.pos);
	if (n >= 0 || errno == EAGAIN)
		errno = ENOBUFS;
	return -1;
}

/*
 * A datagram socket connected to none (a server's, which others send to by
 * its name), or connected to TO, which is connected to none (a client of
 * such a server), by TO's name.  It is the end of a pair, disconnected
 * from it (a datagram socket disconnected drops what it had queued), and
 * bound to its own name, if it has one.  Its datagrams come from the other
 * end, whose send buffer holds them all where crak may make it so; or, to
 * its name, from their senders' names, where crak may bind them (refill()).
 * Then it is connected to TO.  More datagrams than net.unix.max_dgram_qlen lets a socket queue
 * from another than its peer (a client's answers) cannot be put back.
 */
static int unix_alone(const struct rfiles *files, const struct rfile *rf, const struct rfile *to,
		      int base)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	struct sockaddr_un sun, own;
	socklen_t sl = to ? unix_addr(to, &sun) : 0, own_len;
	int sv[2], err, fd;

	if (to && !sl) {
		errno = EINVAL;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (connect(sv[0], &sa, sizeof(sa)) || (rf->path && unix_bind(sv[0], rf)))
		goto fail;
	own_len = rf->path ? unix_addr(rf, &own) : 0;
	if (refill(rf, sv[0], sv[1], files, own_len ? &own : NULL, own_len)) {
		if (errno == ENOBUFS) {
			pr_err("restart: a unix datagram socket had more queued than crak can put back (net.unix.max_dgram_qlen, or a send buffer's size)");
			errno = ENOBUFS;
		}
		/* (Its own name not left behind.) */
		err = errno;
		if (own_len && own.sun_path[0])
			unlink(own.sun_path);
		errno = err;
		goto fail;
	}
	if (to && connect(sv[0], (struct sockaddr *)&sun, sl))
		goto fail;
	close(sv[1]);
	fd = park_above(sv[0], base);
	if (own_len)
		own_dgram_add(fd, &own, own_len);
	return fd;
fail:
	close(sv[0]);
	close(sv[1]);
	return -1;
}

/*
 * Whether CONN, an end of a unix connection, was accepted from L, a
 * listener: of its type and bound to its name.
 */
bool unix_accepted(const struct rfile *conn, const struct rfile *l)
{
	uint64_t cf = le64toh(conn->f.value[1]), lf = le64toh(l->f.value[1]);

	return le32toh(conn->f.type) == CRAK_FILE_UNIX && le32toh(l->f.type) == CRAK_FILE_UNIX &&
	       conn->f.peer && !(cf & (CRAK_UNIX_LISTENING | CRAK_UNIX_OUTSIDE)) &&
	       (lf & CRAK_UNIX_LISTENING) && conn->f.value[0] == l->f.value[0] &&
	       !((cf ^ lf) & CRAK_UNIX_ABSTRACT) && conn->path && l->path &&
	       !strcmp(conn->path, l->path);
}

/*
 * The listener among FILES that one end of RF's connection (RF, index IDX,
 * and its peer, both of FILES) was accepted from; files->nr if none.
 */
static unsigned int unix_listener_of(const struct rfiles *files, unsigned int idx)
{
	unsigned int p = unix_find(files, files->v[idx].f.peer), i;

	if (p == files->nr)
		return p;
	for (i = 0; i < files->nr; i++)
		if (unix_accepted(&files->v[idx], &files->v[i]) ||
		    unix_accepted(&files->v[p], &files->v[i]))
			break;
	return i;
}

/*
 * The connection crak's own socket made to listener FD (it has connected
 * already): one another process made meanwhile, to the name just bound,
 * is closed (as if it had come before the listener was there).
 */
static int unix_accept_own(int fd)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int a, i;

	for (i = 0; i < 64; i++) {
		a = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0 || (!getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cred, &cl) &&
			      cred.pid == getpid()))
			return a;
		close(a);
		cl = sizeof(cred);
	}
	errno = EBUSY;
	return -1;
}

/*
 * Listener J of FILES, listening again, and each connection of FILES
 * accepted from it made again through it: a client bound to its own name
 * (if it had one) connects, the listener accepts, and each end gets what
 * it had to read; both are parked in KEEP.  Returns the listener's
 * descriptor (from BASE up), or -1 (errno).
 */
static int unix_listen(const struct rfiles *files, unsigned int j, int *keep, int base)
{
	const struct rfile *l = &files->v[j];
	int type = le64toh(l->f.value[0]);
	struct sockaddr_un sun;
	socklen_t sl = unix_addr(l, &sun);
	unsigned int i, p;
	int fd, c, a;

	fd = sl ? socket(AF_UNIX, type | SOCK_CLOEXEC, 0) : -1;
	if (fd < 0 || unix_bind(fd, l) || listen(fd, 128))
		goto fail;
	for (i = 0; i < files->nr; i++) {
		const struct rfile *rf = &files->v[i];

		/* Once for each socket (not its dups), by the listener it finds. */
		if (!unix_accepted(rf, l) || unix_find(files, rf->f.value[2]) != i ||
		    unix_listener_of(files, i) != j)
			continue;
		p = unix_find(files, rf->f.peer);
		c = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
		a = -1;
		if (c < 0 || (files->v[p].path && unix_bind(c, &files->v[p])) ||
		    connect(c, (struct sockaddr *)&sun, sl) ||
		    (a = unix_accept_own(fd)) < 0 || refill(rf, a, c, NULL, NULL, 0) ||
		    refill(&files->v[p], c, a, NULL, NULL, 0)) {
			if (a >= 0)
				close(a);
			if (c >= 0)
				close(c);
			goto fail;
		}
		keep[i] = park_above(a, base);
		keep[p] = park_above(c, base);
		if (keep[i] < 0 || keep[p] < 0)
			goto fail;
	}
	/*
	 * Its own backlog once its connections are made (others' connecting
	 * meanwhile must not fill it: crak's connect would wait).
	 */
	if (unix_listen_again(fd, l))
		goto fail;
	return park_above(fd, base);
fail:
	if (fd >= 0)
		close(fd);
	if (!sl)
		errno = EINVAL;
	return -1;
}

/*
 * The socket of RF, index IDX.  A listener is made with the connections it
 * accepted (unix_listen()), and a connection accepted from a listener of
 * FILES makes that listener first, if it comes later.  Else a pair is made
 * for its first end, the other end parked in KEEP[idx] for the second,
 * each end refilled with what it had to read.  A datagram socket connected
 * to one that is connected to none is connected to its name, that one
 * made first (parked in KEEP, if it comes later).  Returns the descriptor
 * (from BASE up), or -1 (errno).
 */
int unix_make(const struct rfiles *files, unsigned int idx, int *keep, int base)
{
	const struct rfile *rf = &files->v[idx];
	int type = le64toh(rf->f.value[0]);
	struct sockaddr_un sun;
	unsigned int i, p;
	int sv[2], fd;
	socklen_t sl;

	/* Made already: a socket another sends to, or made by its listener. */
	if (keep[idx] >= 0) {
		fd = keep[idx];
		keep[idx] = -1;
		return fd;
	}
	if (le64toh(rf->f.value[1]) & CRAK_UNIX_LISTENING)
		return unix_listen(files, idx, keep, base);
	if (le64toh(rf->f.value[1]) & CRAK_UNIX_OUTSIDE) {
		sl = unix_addr(rf, &sun);
		fd = sl ? socket(AF_UNIX, type | SOCK_CLOEXEC, 0) : -1;
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sl)) {
			if (fd >= 0)
				close(fd);
			if (!sl)
				errno = EINVAL;
			return -1;
		}
		return park_above(fd, base);
	}
	/* (A stream whose peer is gone, peer 0 too, is a pair's end, alone.) */
	if (!rf->f.peer && type == SOCK_DGRAM)
		return unix_alone(files, rf, NULL, base);
	p = unix_find(files, rf->f.peer);
	if (p < files->nr && files->v[p].f.peer != rf->f.value[2]) {
		/* Connected to a socket that is connected to none, by its name. */
		if (type != SOCK_DGRAM || files->v[p].f.peer) {
			errno = EINVAL;
			return -1;
		}
		if (p > idx && keep[p] < 0) {
			keep[p] = unix_alone(files, &files->v[p], NULL, base);
			if (keep[p] < 0)
				return -1;
		}
		return unix_alone(files, rf, &files->v[p], base);
	}
	/* Accepted from a listener still to come (had it come, KEEP would have it). */
	i = unix_listener_of(files, idx);
	if (i < files->nr) {
		if (keep[i] >= 0 || i < idx) {
			errno = EINVAL;
			return -1;
		}
		keep[i] = unix_listen(files, i, keep, base);
		if (keep[i] < 0)
			return -1;
		if (keep[idx] < 0) {
			errno = EINVAL;
			return -1;
		}
		fd = keep[idx];
		keep[idx] = -1;
		return fd;
	}
	/* The second end of a pair: the first parked it. */
	if (p < idx && keep[p] >= 0) {
		fd = keep[p];
		keep[p] = -1;
		return fd;
	}
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		return -1;
	/* What this end reads was written by the other, and the reverse. */
	if (refill(rf, sv[0], sv[1], NULL, NULL, 0) ||
	    (p < files->nr && refill(&files->v[p], sv[1], sv[0], NULL, NULL, 0))) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	keep[idx] = park_above(sv[1], base);
	return park_above(sv[0], base);
}
