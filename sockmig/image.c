// SPDX-License-Identifier: GPL-2.0
/*
 * crak_sockmig: a connection's image (uapi/linux/crak_sock.h).
 *
 * Dump puts the frozen socket in repair mode, stops its transmit timers and
 * reads it: the socket-level fields and TCP's sequence space under the
 * socket lock, the queues through TCP's own repair-mode peek.  Restore
 * checks an image whole before it makes anything, then rebuilds the
 * connection with the kernel's TCP repair operations in the order they need
 * (LAB-FACTS: bind, queue sequences, connect, options, timestamp, queues,
 * window), so that the peer sees no SYN and no RST.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/net.h>
#include <linux/nsproxy.h>
#include <linux/tcp.h>
#include <linux/uio.h>
#include <net/inet_connection_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "crak_compat.h"
#include "sockmig.h"

#define SOCKMIG_CHUNK	(64 * 1024)

/* What an image says, once checked. */
struct sockmig_image {
	u8 *buf;			/* the image, which the pointers are into */
	struct crak_sock_rec_sock sock;
	struct crak_sock_rec_tcp tcp;
	const u8 *recvq;
	u32 recvq_len;
	const u8 *sendq;
	u32 sendq_len;
	struct crak_sock_rec_listen listen;
	bool has_listen;
	struct crak_sock_rec_udp udp;
	bool has_udp;
	const u8 *dgrams;
	u32 dgrams_len;
	struct crak_sock_rec_urg urg;
	bool has_urg;
};

/* -- dump ---------------------------------------------------------------- */

void sockmig_read_sock(struct sock *sk, struct crak_sock_rec_sock *rs)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct sockmig_tuple t;
	u32 flags = 0;

	sockmig_tuple_of(sk, &t);
	rs->family = cpu_to_le16(sk->sk_family);
	rs->proto = sk->sk_protocol;
	rs->state = sk->sk_state;
	if (sk->sk_family == AF_INET) {
		memcpy(rs->laddr, &t.laddr.s6_addr32[3], 4);
		memcpy(rs->raddr, &t.raddr.s6_addr32[3], 4);
		rs->tos = inet->tos;
		rs->ttl = inet->uc_ttl < 0 ? 0 : inet->uc_ttl;
	} else {
		memcpy(rs->laddr, &t.laddr, 16);
		memcpy(rs->raddr, &t.raddr, 16);
		rs->tos = crak_ipv6_tclass(sk);
		rs->ttl = crak_ipv6_hop_limit(sk);
		if (sk->sk_ipv6only)
			flags |= CRAK_SOCK_SF_V6ONLY;
	}
	rs->lport = cpu_to_le16(ntohs(t.lport));
	rs->rport = cpu_to_le16(ntohs(t.rport));
	if (sk->sk_reuse)
		flags |= CRAK_SOCK_SF_REUSEADDR;
	if (sk->sk_reuseport)
		flags |= CRAK_SOCK_SF_REUSEPORT;
	if (sock_flag(sk, SOCK_KEEPOPEN))
		flags |= CRAK_SOCK_SF_KEEPALIVE;
	if (sock_flag(sk, SOCK_LINGER)) {
		flags |= CRAK_SOCK_SF_LINGER;
		rs->linger = cpu_to_le32(sk->sk_lingertime / HZ);
	}
	if (sock_flag(sk, SOCK_URGINLINE))
		flags |= CRAK_SOCK_SF_OOBINLINE;
	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		flags |= CRAK_SOCK_SF_SNDBUF_LOCK;
	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK)
		flags |= CRAK_SOCK_SF_RCVBUF_LOCK;
	rs->flags = cpu_to_le32(flags);
	rs->sndbuf = cpu_to_le32(READ_ONCE(sk->sk_sndbuf));
	rs->rcvbuf = cpu_to_le32(READ_ONCE(sk->sk_rcvbuf));
	rs->mark = cpu_to_le32(READ_ONCE(sk->sk_mark));
	rs->priority = cpu_to_le32(READ_ONCE(sk->sk_priority));
	rs->shutdown = sk->sk_shutdown;
	rs->bound_ifindex = cpu_to_le32(sk->sk_bound_dev_if);
}

static void sockmig_read_tcp(struct sock *sk, struct crak_sock_rec_tcp *rt)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 options = 0;

	rt->snd_una = cpu_to_le32(tp->snd_una);
	rt->snd_nxt = cpu_to_le32(tp->snd_nxt);
	rt->write_seq = cpu_to_le32(tp->write_seq);
	rt->rcv_nxt = cpu_to_le32(tp->rcv_nxt);
	rt->copied_seq = cpu_to_le32(tp->copied_seq);
	rt->snd_wl1 = cpu_to_le32(tp->snd_wl1);
	rt->snd_wnd = cpu_to_le32(tp->snd_wnd);
	rt->max_window = cpu_to_le32(tp->max_window);
	rt->rcv_wnd = cpu_to_le32(tp->rcv_wnd);
	rt->rcv_wup = cpu_to_le32(tp->rcv_wup);
	rt->ts_now = cpu_to_le32(crak_tcp_ts_get(tp));
	rt->ts_recent = cpu_to_le32(tp->rx_opt.ts_recent);
	rt->mss_clamp = cpu_to_le16(tp->rx_opt.mss_clamp);
	if (tp->rx_opt.sack_ok)
		options |= CRAK_SOCK_TO_SACK;
	if (tp->rx_opt.wscale_ok) {
		options |= CRAK_SOCK_TO_WSCALE;
		rt->snd_wscale = tp->rx_opt.snd_wscale;
		rt->rcv_wscale = tp->rx_opt.rcv_wscale;
	}
	if (tp->rx_opt.tstamp_ok)
		options |= CRAK_SOCK_TO_TIMESTAMPS;
	rt->options = cpu_to_le32(options);
	rt->keepidle = cpu_to_le32(tp->keepalive_time / HZ);
	rt->keepintvl = cpu_to_le32(tp->keepalive_intvl / HZ);
	rt->keepcnt = cpu_to_le32(tp->keepalive_probes);
	rt->user_timeout = cpu_to_le32(READ_ONCE(icsk->icsk_user_timeout));
	rt->notsent_lowat = cpu_to_le32(READ_ONCE(tp->notsent_lowat));
	rt->nodelay = cpu_to_le32(!!(tp->nonagle & TCP_NAGLE_OFF));
	rt->cork = cpu_to_le32(!!(tp->nonagle & TCP_NAGLE_CORK));
}

/*
 * Urgent data: URG is the socket's urg_data, the rest read under the same
 * lock as RT; false when there is none.  tcp_urg() takes the urgent byte
 * from whatever segment holds it, in order or not: a byte that arrived past
 * the receive queue (the image has no out-of-order queue) is announced
 * only, and taken again from the peer's retransmission.
 */
static bool sockmig_read_urg(struct sock *sk, u16 urg, const struct crak_sock_rec_tcp *rt,
			     const struct sockmig_geom *g, struct crak_sock_rec_urg *ru)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 una = le32_to_cpu(rt->snd_una);

	if ((urg & TCP_URG_VALID) && tp->urg_seq - g->rcv_start < g->rcv_end - g->rcv_start) {
		ru->rcv_state = CRAK_SOCK_URG_ARRIVED;
		ru->rcv_byte = urg & 0xff;
	} else if (urg & (TCP_URG_VALID | TCP_URG_NOTYET)) {
		ru->rcv_state = CRAK_SOCK_URG_ANNOUNCED;
	} else if (urg & TCP_URG_READ) {
		ru->rcv_state = CRAK_SOCK_URG_READ;
	}
	if (ru->rcv_state)
		ru->rcv_seq = cpu_to_le32(tp->urg_seq);
	/* tcp_urg_mode(): the peer has not acknowledged our urgent pointer. */
	if (after(tp->snd_up, una) && !after(tp->snd_up, le32_to_cpu(rt->write_seq))) {
		ru->snd_urgent = 1;
		ru->snd_up = cpu_to_le32(tp->snd_up);
	}
	return ru->rcv_state || ru->snd_urgent;
}

/*
 * How far ahead of what the owner reads the peer's urgent byte may lie: its
 * pointer points at most 64 KiB past a segment in the largest window.
 */
#define SOCKMIG_URG_AHEAD	((1U << 30) + 0x10000)

/*
 * The peer's urgent byte lies in the receive queue once it arrived; before
 * that, and once read out of band (its place may still be to come), at or
 * not far past the queue's start.  This end's urgent pointer lies in its
 * send queue.
 */
static bool sockmig_urg_valid(const struct crak_sock_rec_urg *ru,
			      const struct crak_sock_rec_tcp *rt, const struct sockmig_geom *g)
{
	u32 seq = le32_to_cpu(ru->rcv_seq);
	u32 up = le32_to_cpu(ru->snd_up);

	switch (ru->rcv_state) {
	case CRAK_SOCK_URG_NONE:
		if (seq)
			return false;
		break;
	case CRAK_SOCK_URG_ANNOUNCED:
	case CRAK_SOCK_URG_READ:
		if (seq - g->rcv_start > SOCKMIG_URG_AHEAD)
			return false;
		break;
	case CRAK_SOCK_URG_ARRIVED:
		if (seq - g->rcv_start >= g->rcv_end - g->rcv_start)
			return false;
		break;
	default:
		return false;
	}
	if (ru->snd_urgent > 1 || (!ru->snd_urgent && up))
		return false;
	return !ru->snd_urgent || (after(up, le32_to_cpu(rt->snd_una)) &&
				   !after(up, le32_to_cpu(rt->write_seq)));
}

/*
 * What a connection has that its image cannot carry, or NULL: keys that
 * sign its segments, an upper layer protocol over its stream (kTLS), BPF
 * socket map state (which reads and writes for it).  Under the socket lock.
 */
static const char *sockmig_unportable(struct sock *sk)
{
#ifdef CONFIG_TCP_MD5SIG
	if (rcu_access_pointer(tcp_sk(sk)->md5sig_info))
		return "the connection signs its segments (TCP-MD5): its keys cannot move";
#endif
#ifdef CONFIG_TCP_AO
	if (rcu_access_pointer(tcp_sk(sk)->ao_info))
		return "the connection signs its segments (TCP-AO): its keys cannot move";
#endif
	if (inet_csk(sk)->icsk_ulp_ops)
		return "the connection has an upper layer protocol (kTLS): not taken";
	if (READ_ONCE(sk->sk_user_data))
		return "the connection is in a BPF socket map: not taken";
	return NULL;
}

/* Peeks LEN bytes of one queue, in repair mode. */
static int sockmig_peek(struct sock *sk, int queue, u8 *buf, u32 len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	int addr_len = 0, peek_off;
	int err;

	if (!len)
		return 0;
	err = sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR_QUEUE, queue);
	if (err)
		return err;
	/* One byte more than expected: a longer queue shows as a mismatch. */
	kv.iov_len = len + 1;
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, len + 1);
	/*
	 * From the queue's start, and not moving its owner's SO_PEEK_OFF
	 * (which TCP's peeks follow and move from 6.9 on).
	 */
	peek_off = READ_ONCE(sk->sk_peek_off);
	WRITE_ONCE(sk->sk_peek_off, -1);
	err = sk->sk_prot->recvmsg(sk, &msg, len + 1, MSG_PEEK | MSG_DONTWAIT, &addr_len);
	WRITE_ONCE(sk->sk_peek_off, peek_off);
	sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
	if (err < 0)
		return err;
	return err == len ? 0 : -EAGAIN;
}

/*
 * Takes a dumped connection's urgent data away from its owner until a thaw
 * (sockmig_urg_put_back()): recv(MSG_OOB) ignores repair mode, and would
 * take a byte the image carries; and reads, peeking too, stop at the
 * urgent mark and step over the byte, where the image wants the receive
 * queue as it came.  Under the socket lock; returns the urgent data.
 */
static u16 sockmig_urg_hold(struct sockmig_entry *e)
{
	struct tcp_sock *tp = tcp_sk(e->sk);

	if (tp->urg_data) {
		e->urg_held = tp->urg_data;
		WRITE_ONCE(tp->urg_data, 0);
	}
	return e->urg_held;
}

void sockmig_urg_put_back(struct sockmig_entry *e)
{
	struct tcp_sock *tp = tcp_sk(e->sk);

	if (!e->urg_held)
		return;
	lock_sock(e->sk);
	WRITE_ONCE(tp->urg_data, e->urg_held);
	tp->pred_flags = 0;	/* no header prediction, as tcp_check_urg() */
	release_sock(e->sk);
	e->urg_held = 0;
}

u8 *sockmig_put_rec(u8 *p, u16 type, const void *data, u32 len)
{
	struct crak_sock_record *rec = (struct crak_sock_record *)p;

	rec->type = cpu_to_le16(type);
	rec->flags = 0;
	rec->len = cpu_to_le32(len);
	p += sizeof(*rec);
	if (data)
		memcpy(p, data, len);
	memset(p + len, 0, ALIGN(len, 8) - len);
	return p + ALIGN(len, 8);
}

static int sockmig_write(struct file *out, const u8 *buf, size_t len)
{
	loff_t pos = out->f_pos;
	ssize_t n;

	while (len) {
		n = kernel_write(out, buf, len, &pos);
		if (n < 0)
			return n;
		if (!n)
			return -EIO;
		buf += n;
		len -= n;
	}
	out->f_pos = pos;
	return 0;
}

/* Fills the header of the image in BUF, whose records end at END: its length. */
static u32 sockmig_seal(u8 *buf, const u8 *end)
{
	struct crak_sock_image *hdr = (struct crak_sock_image *)buf;
	u32 len = end - buf;

	hdr->magic = cpu_to_le32(CRAK_SOCK_IMAGE_MAGIC);
	hdr->version = cpu_to_le16(CRAK_SOCK_IMAGE_VERSION);
	hdr->hdr_len = cpu_to_le16(sizeof(*hdr));
	hdr->len = cpu_to_le32(len - sizeof(*hdr));
	hdr->crc = cpu_to_le32(~crc32_le(~0, buf + sizeof(*hdr), len - sizeof(*hdr)));
	return len;
}

/*
 * Seals the image in BUF, whose records end at END, and writes it to OUT:
 * *BYTES is its length.
 */
int sockmig_emit(struct file *out, u8 *buf, const u8 *end, u64 *bytes,
		 struct netlink_ext_ack *extack)
{
	u32 len = sockmig_seal(buf, end);
	int err;

	err = sockmig_write(out, buf, len);
	if (err)
		NL_SET_ERR_MSG(extack, "cannot write the image");
	else
		*bytes = len;
	return err;
}

/* A listening socket: addresses, the options its connections inherit, its
 * backlog.  Nothing may wait in its queues: a restored socket would not
 * have them, and the peers would get a reset.
 */
static int sockmig_dump_listen(struct sockmig_entry *e, struct file *out, u64 *bytes,
			       struct netlink_ext_ack *extack)
{
	u8 buf[sizeof(struct crak_sock_image) + 3 * sizeof(struct crak_sock_record) +
	       ALIGN(sizeof(struct crak_sock_rec_sock), 8) +
	       ALIGN(sizeof(struct crak_sock_rec_tcp), 8) +
	       ALIGN(sizeof(struct crak_sock_rec_listen), 8)] = {};
	struct crak_sock_rec_listen rl = {};
	struct crak_sock_rec_sock rs = {};
	struct crak_sock_rec_tcp rt = {};
	struct sock *sk = e->sk;
	const char *why;
	u8 *p;

	lock_sock(sk);
	if (inet_csk_reqsk_queue_len(sk) || READ_ONCE(sk->sk_ack_backlog)) {
		release_sock(sk);
		NL_SET_ERR_MSG(extack, "connections wait in the accept queue: accept them first");
		return -EBUSY;
	}
	why = sockmig_unportable(sk);
	if (why) {
		release_sock(sk);
		extack->_msg = why;
		return -EOPNOTSUPP;
	}
	sockmig_read_sock(sk, &rs);
	sockmig_read_tcp(sk, &rt);
	rl.backlog = cpu_to_le32(READ_ONCE(sk->sk_max_ack_backlog));
	release_sock(sk);
	memset(&rt, 0, offsetof(struct crak_sock_rec_tcp, keepidle));

	p = sockmig_put_rec(buf + sizeof(struct crak_sock_image), CRAK_SOCK_REC_SOCK,
			    &rs, sizeof(rs));
	p = sockmig_put_rec(p, CRAK_SOCK_REC_TCP, &rt, sizeof(rt));
	p = sockmig_put_rec(p, CRAK_SOCK_REC_LISTEN, &rl, sizeof(rl));
	return sockmig_emit(out, buf, p, bytes, extack);
}

/* The socket is frozen; leaves it in repair mode even on failure (the
 * caller decides).  A listening socket never enters repair mode.
 */
int sockmig_dump(struct sockmig_entry *e, struct file *out, u64 *bytes,
		 struct netlink_ext_ack *extack)
{
	struct crak_sock_rec_sock rs = {};
	struct crak_sock_rec_urg ru = {};
	struct crak_sock_rec_tcp rt = {};
	struct crak_sock_image *hdr;
	struct sock *sk = e->sk;
	struct sockmig_geom geom;
	u32 recvq, sendq, len;
	const char *why;
	u8 *buf, *p, *q;
	bool urg;
	u16 held;
	int err;

	if (!(out->f_mode & FMODE_WRITE)) {
		NL_SET_ERR_MSG(extack, "the image descriptor is not open for writing");
		return -EBADF;
	}
	sockmig_settle(e);
	if (sockmig_is_udp(sk))
		return sockmig_udp_dump(e, out, bytes, extack);
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN)
		return sockmig_dump_listen(e, out, bytes, extack);
	lock_sock(sk);
	if (!sockmig_conn_state(sk->sk_state)) {
		release_sock(sk);
		NL_SET_ERR_MSG(extack, "the connection is not established nor closing");
		return -EOPNOTSUPP;
	}
	if (sock_flag(sk, SOCK_DEAD)) {
		release_sock(sk);
		NL_SET_ERR_MSG(extack, "the connection's owner has closed it");
		return -EBADF;
	}
	if (crak_tcp_usec_ts(tcp_sk(sk))) {
		release_sock(sk);
		NL_SET_ERR_MSG(extack, "the connection uses microsecond timestamps");
		return -EOPNOTSUPP;
	}
	why = sockmig_unportable(sk);
	if (why) {
		release_sock(sk);
		extack->_msg = why;
		return -EOPNOTSUPP;
	}
	/* Before repair mode, which changes sk_reuse. */
	sockmig_read_sock(sk, &rs);
	release_sock(sk);

	if (!tcp_sk(sk)->repair) {
		err = sockmig_repair(sk, TCP_REPAIR_ON);
		if (err) {
			NL_SET_ERR_MSG(extack, "cannot put the socket in repair mode");
			return err;
		}
	}
	e->flags |= CRAK_SOCK_F_REPAIR;

	lock_sock(sk);
	/* Nothing may move its sequence numbers from here on. */
	inet_csk_clear_xmit_timers(sk);
	e->timers_stopped = true;
	sockmig_read_tcp(sk, &rt);
	sockmig_geom(rs.state, &rt, &geom);
	held = sockmig_urg_hold(e);
	urg = sockmig_read_urg(sk, held, &rt, &geom, &ru);
	release_sock(sk);

	if (urg && !sockmig_urg_valid(&ru, &rt, &geom)) {
		NL_SET_ERR_MSG(extack, "urgent data lies outside the connection's queues");
		return -EOPNOTSUPP;
	}
	recvq = geom.rcv_end - geom.rcv_start;
	sendq = geom.snd_end - geom.snd_start;
	/* (Each bounded first: their sum in 32 bits cannot wrap.) */
	if (recvq > CRAK_SOCK_IMAGE_MAX || sendq > CRAK_SOCK_IMAGE_MAX) {
		NL_SET_ERR_MSG(extack, "the connection's queues are too large for an image");
		return -EFBIG;
	}
	len = sizeof(*hdr) + 5 * sizeof(struct crak_sock_record) + ALIGN(sizeof(rs), 8) +
	      ALIGN(sizeof(rt), 8) + ALIGN(recvq, 8) + ALIGN(sendq, 8) + ALIGN(sizeof(ru), 8);
	if (len > CRAK_SOCK_IMAGE_MAX) {
		NL_SET_ERR_MSG(extack, "the connection's queues are too large for an image");
		return -EFBIG;
	}
	buf = kvzalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	hdr = (struct crak_sock_image *)buf;
	p = sockmig_put_rec(buf + sizeof(*hdr), CRAK_SOCK_REC_SOCK, &rs, sizeof(rs));
	p = sockmig_put_rec(p, CRAK_SOCK_REC_TCP, &rt, sizeof(rt));
	q = p + sizeof(struct crak_sock_record);
	p = sockmig_put_rec(p, CRAK_SOCK_REC_RECVQ, NULL, recvq);
	err = sockmig_peek(sk, TCP_RECV_QUEUE, q, recvq);
	if (err)
		goto fail_queue;
	q = p + sizeof(struct crak_sock_record);
	p = sockmig_put_rec(p, CRAK_SOCK_REC_SENDQ, NULL, sendq);
	err = sockmig_peek(sk, TCP_SEND_QUEUE, q, sendq);
	if (err)
		goto fail_queue;
	if (urg)
		p = sockmig_put_rec(p, CRAK_SOCK_REC_URG, &ru, sizeof(ru));

	/* The peeks zeroed nothing past the data: the padding still is. */
	err = sockmig_emit(out, buf, p, bytes, extack);
	kvfree(buf);
	return err;

fail_queue:
	NL_SET_ERR_MSG(extack, "cannot read the connection's queues");
	kvfree(buf);
	return err;
}

/* -- checking an image ---------------------------------------------------- */

static int sockmig_read_all(struct file *in, u8 **bufp, u32 *lenp,
			    struct netlink_ext_ack *extack)
{
	struct crak_sock_image hdr;
	loff_t pos = in->f_pos;
	u32 len, got = 0;
	u8 extra, *buf;
	ssize_t n;

	if (!(in->f_mode & FMODE_READ)) {
		NL_SET_ERR_MSG(extack, "the image descriptor is not open for reading");
		return -EBADF;
	}
	while (got < sizeof(hdr)) {
		n = kernel_read(in, (u8 *)&hdr + got, sizeof(hdr) - got, &pos);
		if (n < 0)
			return n;
		if (!n) {
			NL_SET_ERR_MSG(extack, "image truncated: no whole header");
			return -EINVAL;
		}
		got += n;
	}
	if (le32_to_cpu(hdr.magic) != CRAK_SOCK_IMAGE_MAGIC) {
		NL_SET_ERR_MSG(extack, "not a crak socket image (bad magic)");
		return -EINVAL;
	}
	if (le16_to_cpu(hdr.version) != CRAK_SOCK_IMAGE_VERSION) {
		NL_SET_ERR_MSG(extack, "image of a version this module does not know");
		return -EPROTO;
	}
	if (le16_to_cpu(hdr.hdr_len) != sizeof(hdr)) {
		NL_SET_ERR_MSG(extack, "image header of a wrong length");
		return -EINVAL;
	}
	len = le32_to_cpu(hdr.len);
	if (len > CRAK_SOCK_IMAGE_MAX || len % 8) {
		NL_SET_ERR_MSG(extack, "image length out of range");
		return -EINVAL;
	}
	buf = kvmalloc(len ?: 1, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (got = 0; got < len; got += n) {
		n = kernel_read(in, buf + got, len - got, &pos);
		if (n <= 0)
			break;
	}
	if (got < len) {
		kvfree(buf);
		NL_SET_ERR_MSG(extack, "image truncated: shorter than its header says");
		return n < 0 ? n : -EINVAL;
	}
	if (kernel_read(in, &extra, 1, &pos) > 0) {
		kvfree(buf);
		NL_SET_ERR_MSG(extack, "image longer than its header says");
		return -EINVAL;
	}
	if (~crc32_le(~0, buf, len) != le32_to_cpu(hdr.crc)) {
		kvfree(buf);
		NL_SET_ERR_MSG(extack, "image corrupted: CRC mismatch");
		return -EBADMSG;
	}
	in->f_pos = pos;
	*bufp = buf;
	*lenp = len;
	return 0;
}

static int sockmig_parse_records(const u8 *buf, u32 len, struct sockmig_image *img,
				 struct netlink_ext_ack *extack)
{
	unsigned long seen = 0;
	u32 off = 0;

	while (off < len) {
		const struct crak_sock_record *rec = (const void *)(buf + off);
		u16 type;
		u32 rlen;

		if (len - off < sizeof(*rec)) {
			NL_SET_ERR_MSG(extack, "image corrupted: a record header is cut short");
			return -EINVAL;
		}
		type = le16_to_cpu(rec->type);
		rlen = le32_to_cpu(rec->len);
		off += sizeof(*rec);
		if (rlen > len - off || ALIGN(rlen, 8) > len - off) {
			NL_SET_ERR_MSG(extack, "image corrupted: a record runs past the end");
			return -EINVAL;
		}
		if (!seen && type != CRAK_SOCK_REC_SOCK) {
			NL_SET_ERR_MSG(extack, "image corrupted: the socket record is not first");
			return -EINVAL;
		}
		if (type < BITS_PER_LONG && (seen & BIT(type))) {
			NL_SET_ERR_MSG(extack, "image corrupted: a record appears twice");
			return -EINVAL;
		}
		switch (type) {
		case CRAK_SOCK_REC_SOCK:
			memcpy(&img->sock, buf + off, min_t(u32, rlen, sizeof(img->sock)));
			break;
		case CRAK_SOCK_REC_TCP:
			memcpy(&img->tcp, buf + off, min_t(u32, rlen, sizeof(img->tcp)));
			break;
		case CRAK_SOCK_REC_RECVQ:
			img->recvq = buf + off;
			img->recvq_len = rlen;
			break;
		case CRAK_SOCK_REC_SENDQ:
			img->sendq = buf + off;
			img->sendq_len = rlen;
			break;
		case CRAK_SOCK_REC_LISTEN:
			memcpy(&img->listen, buf + off, min_t(u32, rlen, sizeof(img->listen)));
			img->has_listen = true;
			break;
		case CRAK_SOCK_REC_UDP:
			memcpy(&img->udp, buf + off, min_t(u32, rlen, sizeof(img->udp)));
			img->has_udp = true;
			break;
		case CRAK_SOCK_REC_DGRAMS:
			img->dgrams = buf + off;
			img->dgrams_len = rlen;
			break;
		case CRAK_SOCK_REC_URG:
			memcpy(&img->urg, buf + off, min_t(u32, rlen, sizeof(img->urg)));
			img->has_urg = true;
			break;
		default:
			if (!(le16_to_cpu(rec->flags) & CRAK_SOCK_RECF_OPTIONAL)) {
				NL_SET_ERR_MSG(extack, "image record this module does not know");
				return -EPROTO;
			}
		}
		if (type < BITS_PER_LONG)
			seen |= BIT(type);
		off += ALIGN(rlen, 8);
	}
	if (!(seen & BIT(CRAK_SOCK_REC_SOCK)) ||
	    !(seen & (BIT(CRAK_SOCK_REC_TCP) | BIT(CRAK_SOCK_REC_UDP)))) {
		NL_SET_ERR_MSG(extack, "image incomplete: no socket, TCP or UDP record");
		return -EINVAL;
	}
	return 0;
}

static int sockmig_check_udp(const struct sockmig_image *img, struct netlink_ext_ack *extack)
{
	const struct crak_sock_rec_sock *rs = &img->sock;
	bool connected = rs->state == TCP_ESTABLISHED;
	u32 bytes;

	if (!img->has_udp || img->has_listen || img->recvq || img->sendq || img->has_urg) {
		NL_SET_ERR_MSG(extack, "image: a UDP socket's records do not fit");
		return -EINVAL;
	}
	if (rs->state != TCP_ESTABLISHED && rs->state != TCP_CLOSE) {
		NL_SET_ERR_MSG(extack, "image: a UDP socket is bound or connected");
		return -EINVAL;
	}
	/* A connected socket has a remote port, a bound one none. */
	if (!rs->lport || !rs->rport == connected) {
		NL_SET_ERR_MSG(extack, "image: a port of the UDP socket is wrong");
		return -EINVAL;
	}
	if (sockmig_udp_dgrams_check(img->dgrams, img->dgrams_len, &bytes) < 0) {
		NL_SET_ERR_MSG(extack, "image corrupted: a queued datagram is malformed");
		return -EINVAL;
	}
	return 0;
}

static int sockmig_check(const struct sockmig_image *img, struct netlink_ext_ack *extack)
{
	const struct crak_sock_rec_sock *rs = &img->sock;
	const struct crak_sock_rec_tcp *rt = &img->tcp;
	u32 una = le32_to_cpu(rt->snd_una);
	u32 nxt = le32_to_cpu(rt->snd_nxt);
	u32 wseq = le32_to_cpu(rt->write_seq);
	u16 family = le16_to_cpu(rs->family);
	u16 mss = le16_to_cpu(rt->mss_clamp);
	struct sockmig_geom g;

	if (family != AF_INET && family != AF_INET6) {
		NL_SET_ERR_MSG(extack, "image: address family neither IPv4 nor IPv6");
		return -EAFNOSUPPORT;
	}
	if (rs->proto == IPPROTO_UDP)
		return sockmig_check_udp(img, extack);
	if (rs->proto != IPPROTO_TCP) {
		NL_SET_ERR_MSG(extack, "image: neither TCP nor UDP");
		return -EPROTONOSUPPORT;
	}
	if (img->has_udp || img->dgrams) {
		NL_SET_ERR_MSG(extack, "image: a TCP connection with UDP records");
		return -EINVAL;
	}
	if (rs->state == TCP_LISTEN) {
		if (!rs->lport) {
			NL_SET_ERR_MSG(extack, "image: the listening port is zero");
			return -EINVAL;
		}
		if (!img->has_listen || img->recvq || img->sendq || img->has_urg) {
			NL_SET_ERR_MSG(extack, "image: a listening socket's records do not fit");
			return -EINVAL;
		}
		return 0;
	}
	if (img->has_listen) {
		NL_SET_ERR_MSG(extack, "image: a connection with a listening socket's record");
		return -EINVAL;
	}
	if (!sockmig_geom(rs->state, rt, &g)) {
		NL_SET_ERR_MSG(extack, "image: a TCP state that does not restore");
		return -EOPNOTSUPP;
	}
	if (!rs->lport || !rs->rport) {
		NL_SET_ERR_MSG(extack, "image: a port is zero");
		return -EINVAL;
	}
	if (!sockmig_geom_valid(rt, &g)) {
		NL_SET_ERR_MSG(extack, "image: sequence numbers and TCP state disagree");
		return -EINVAL;
	}
	if (g.rcv_end - g.rcv_start != img->recvq_len) {
		NL_SET_ERR_MSG(extack, "image: receive queue length and sequence numbers disagree");
		return -EINVAL;
	}
	if (g.snd_end - g.snd_start != img->sendq_len || nxt - una > wseq - una) {
		NL_SET_ERR_MSG(extack, "image: send queue length and sequence numbers disagree");
		return -EINVAL;
	}
	if (rt->snd_wscale > TCP_MAX_WSCALE || rt->rcv_wscale > TCP_MAX_WSCALE) {
		NL_SET_ERR_MSG(extack, "image: window scale out of range");
		return -EINVAL;
	}
	if (mss < TCP_MIN_MSS) {
		NL_SET_ERR_MSG(extack, "image: MSS out of range");
		return -EINVAL;
	}
	if (img->has_urg && !sockmig_urg_valid(&img->urg, rt, &g)) {
		NL_SET_ERR_MSG(extack, "image: urgent data outside the connection's queues");
		return -EINVAL;
	}
	if (le32_to_cpu(rt->max_window) < le32_to_cpu(rt->snd_wnd)) {
		NL_SET_ERR_MSG(extack, "image: send window larger than the largest window");
		return -EINVAL;
	}
	return 0;
}

/* -- restore ------------------------------------------------------------- */

int sockmig_sockaddr(const struct crak_sock_rec_sock *rs, bool local,
		     struct sockaddr_storage *ss)
{
	const u8 *addr = local ? rs->laddr : rs->raddr;
	u16 port = le16_to_cpu(local ? rs->lport : rs->rport);
	struct sockaddr_in6 *sin6;

	memset(ss, 0, sizeof(*ss));
	if (le16_to_cpu(rs->family) == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
		return sizeof(*sin);
	}
	sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, addr, 16);
	return sizeof(*sin6);
}

static void sockmig_image_tuple(const struct crak_sock_rec_sock *rs, struct sockmig_tuple *t)
{
	__be32 l4, r4;

	memset(t, 0, sizeof(*t));
	if (le16_to_cpu(rs->family) == AF_INET) {
		memcpy(&l4, rs->laddr, sizeof(l4));
		memcpy(&r4, rs->raddr, sizeof(r4));
		ipv6_addr_set_v4mapped(l4, &t->laddr);
		ipv6_addr_set_v4mapped(r4, &t->raddr);
	} else {
		memcpy(&t->laddr, rs->laddr, sizeof(t->laddr));
		memcpy(&t->raddr, rs->raddr, sizeof(t->raddr));
	}
	t->lport = htons(le16_to_cpu(rs->lport));
	t->rport = htons(le16_to_cpu(rs->rport));
	t->proto = rs->proto;
}

static int sockmig_sendq(struct sock *sk, const u8 *data, u32 len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct kvec kv;
	int n;

	while (len) {
		kv.iov_base = (void *)data;
		kv.iov_len = min_t(u32, len, SOCKMIG_CHUNK);
		iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, kv.iov_len);
		n = sk->sk_prot->sendmsg(sk, &msg, kv.iov_len);
		if (n < 0)
			return n;
		if (!n)
			return -ENOBUFS;
		data += n;
		len -= n;
	}
	return 0;
}

static int sockmig_sock_opt(struct socket *sock, int optname, int val)
{
	return sock_setsockopt(sock, SOL_SOCKET, optname, KERNEL_SOCKPTR(&val), sizeof(val));
}

/* Room for what the queues held: without it, injection fails. */
static int sockmig_buffers(struct socket *sock, const struct sockmig_image *img)
{
	const struct crak_sock_rec_sock *rs = &img->sock;
	u32 flags = le32_to_cpu(rs->flags);
	struct sock *sk = sock->sk;
	u32 want;
	int err;

	want = max_t(u32, le32_to_cpu(rs->sndbuf), 2 * img->sendq_len + SOCKMIG_CHUNK);
	if ((flags & CRAK_SOCK_SF_SNDBUF_LOCK) || want > READ_ONCE(sk->sk_sndbuf)) {
		err = sockmig_sock_opt(sock, SO_SNDBUFFORCE,
				       min_t(u32, want, INT_MAX / 2) / 2);
		if (err)
			return err;
	}
	want = max_t(u32, le32_to_cpu(rs->rcvbuf), 2 * img->recvq_len + SOCKMIG_CHUNK);
	/* Each datagram costs its data and an skb's overhead, a page or so. */
	if (img->dgrams_len)
		want = max_t(u32, want, 4 * img->dgrams_len + SOCKMIG_CHUNK);
	if ((flags & CRAK_SOCK_SF_RCVBUF_LOCK) || want > READ_ONCE(sk->sk_rcvbuf)) {
		err = sockmig_sock_opt(sock, SO_RCVBUFFORCE,
				       min_t(u32, want, INT_MAX / 2) / 2);
		if (err)
			return err;
	}
	return 0;
}

static int sockmig_repair_options(struct sock *sk, const struct crak_sock_rec_tcp *rt)
{
	u32 options = le32_to_cpu(rt->options);
	struct tcp_repair_opt opts[4];
	unsigned int n = 0;

	opts[n].opt_code = TCPOPT_MSS;
	opts[n++].opt_val = le16_to_cpu(rt->mss_clamp);
	if (options & CRAK_SOCK_TO_WSCALE) {
		opts[n].opt_code = TCPOPT_WINDOW;
		opts[n++].opt_val = rt->snd_wscale | (rt->rcv_wscale << 16);
	}
	if (options & CRAK_SOCK_TO_SACK) {
		opts[n].opt_code = TCPOPT_SACK_PERM;
		opts[n++].opt_val = 0;
	}
	if (options & CRAK_SOCK_TO_TIMESTAMPS) {
		opts[n].opt_code = TCPOPT_TIMESTAMP;
		opts[n++].opt_val = 0;
	}
	return sk->sk_prot->setsockopt(sk, SOL_TCP, TCP_REPAIR_OPTIONS,
				       KERNEL_SOCKPTR(opts), n * sizeof(opts[0]));
}

/* The options that change behaviour, once the connection exists. */
static int sockmig_options(struct socket *sock, const struct sockmig_image *img)
{
	const struct crak_sock_rec_sock *rs = &img->sock;
	const struct crak_sock_rec_tcp *rt = &img->tcp;
	u32 flags = le32_to_cpu(rs->flags);
	struct sock *sk = sock->sk;
	bool v6 = sk->sk_family == AF_INET6;
	int err = 0;

	if (flags & CRAK_SOCK_SF_REUSEPORT)
		sock_set_reuseport(sk);
	if (flags & CRAK_SOCK_SF_KEEPALIVE)
		sock_set_keepalive(sk);
	if (flags & CRAK_SOCK_SF_OOBINLINE)
		err = err ?: sockmig_sock_opt(sock, SO_OOBINLINE, 1);
	if (flags & CRAK_SOCK_SF_LINGER) {
		struct linger l = { .l_onoff = 1, .l_linger = le32_to_cpu(rs->linger) };

		err = err ?: sock_setsockopt(sock, SOL_SOCKET, SO_LINGER,
					     KERNEL_SOCKPTR(&l), sizeof(l));
	}
	if (rs->mark)
		sock_set_mark(sk, le32_to_cpu(rs->mark));
	if (rs->priority)
		sock_set_priority(sk, le32_to_cpu(rs->priority));
	if (rs->tos)
		err = err ?: sockmig_tcp_setsockopt(sk, v6 ? SOL_IPV6 : SOL_IP,
						    v6 ? IPV6_TCLASS : IP_TOS, rs->tos);
	if (rs->ttl)
		err = err ?: sockmig_tcp_setsockopt(sk, v6 ? SOL_IPV6 : SOL_IP,
						    v6 ? IPV6_UNICAST_HOPS : IP_TTL, rs->ttl);
	if (sk->sk_protocol != IPPROTO_TCP)
		return err;
	if (rt->nodelay)
		err = err ?: sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_NODELAY, 1);
	if (rt->keepidle)
		err = err ?: sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_KEEPIDLE,
						    le32_to_cpu(rt->keepidle));
	if (rt->keepintvl)
		err = err ?: sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_KEEPINTVL,
						    le32_to_cpu(rt->keepintvl));
	if (rt->keepcnt)
		err = err ?: sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_KEEPCNT,
						    le32_to_cpu(rt->keepcnt));
	if (rt->user_timeout)
		err = err ?: sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_USER_TIMEOUT,
						    le32_to_cpu(rt->user_timeout));
	if (rt->notsent_lowat)
		err = err ?: sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_NOTSENT_LOWAT,
						    le32_to_cpu(rt->notsent_lowat));
	return err;
}

/* Leaves repair mode and sends what was never sent: the end of a restore,
 * or the thaw of a frozen one.
 */
static int sockmig_go(struct sock *sk, const u8 *unsent, u32 len, bool cork,
		      bool reuseaddr, bool fin)
{
	int err;

	err = sockmig_repair(sk, TCP_REPAIR_OFF);
	if (err)
		return err;
	/* Leaving repair mode reset it. */
	if (reuseaddr)
		sock_set_reuseaddr(sk);
	err = sockmig_sendq(sk, unsent, len);
	if (!err && cork)
		err = sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_CORK, 1);
	if (!err && fin)
		err = sockmig_fin_unsent(sk);
	return err;
}

int sockmig_release_unsent(struct sockmig_entry *e)
{
	struct sock *sk = e->sk;

	if (sock_flag(sk, SOCK_DEAD) || sk->sk_state == TCP_LISTEN)
		return 0;
	return sockmig_go(sk, e->unsent, e->unsent_len, e->cork, e->reuseaddr, e->fin_unsent);
}

int sockmig_bind(struct socket *sock, const struct crak_sock_rec_sock *rs,
		 struct netlink_ext_ack *extack)
{
	struct sockaddr_storage ss;
	int err, len;

	if (sock->sk->sk_family == AF_INET6) {
		err = sockmig_tcp_setsockopt(sock->sk, SOL_IPV6, IPV6_V6ONLY,
					     !!(le32_to_cpu(rs->flags) & CRAK_SOCK_SF_V6ONLY));
		if (err)
			return err;
	}
	len = sockmig_sockaddr(rs, true, &ss);
	err = kernel_bind(sock, (struct sockaddr *)&ss, len);
	if (err == -EADDRNOTAVAIL)
		NL_SET_ERR_MSG(extack, "local address not on this host");
	else if (err == -EADDRINUSE)
		NL_SET_ERR_MSG(extack, "local address and port in use on this host");
	else if (err)
		NL_SET_ERR_MSG(extack, "cannot bind the connection's local address");
	return err;
}

/* A listening socket, as it was: bound, with its options, listening. */
static int sockmig_relisten(struct socket *sock, const struct sockmig_image *img,
			    struct netlink_ext_ack *extack)
{
	int err;

	if (le32_to_cpu(img->sock.flags) & CRAK_SOCK_SF_REUSEADDR)
		sock_set_reuseaddr(sock->sk);
	err = sockmig_bind(sock, &img->sock, extack) ?: sockmig_buffers(sock, img);
	if (err)
		return err;
	err = sockmig_options(sock, img);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot set the socket's options");
		return err;
	}
	err = kernel_listen(sock, min_t(u32, le32_to_cpu(img->listen.backlog), INT_MAX));
	if (err)
		NL_SET_ERR_MSG(extack, "cannot listen");
	return err;
}

/* No repair operation makes urgent data: the fields tcp_urg() would set. */
static void sockmig_set_urg(struct sock *sk, const struct crak_sock_rec_urg *ru)
{
	struct tcp_sock *tp = tcp_sk(sk);
	u16 urg = 0;

	switch (ru->rcv_state) {
	case CRAK_SOCK_URG_ANNOUNCED:
		urg = TCP_URG_NOTYET;
		break;
	case CRAK_SOCK_URG_ARRIVED:
		urg = TCP_URG_VALID | ru->rcv_byte;
		break;
	case CRAK_SOCK_URG_READ:
		urg = TCP_URG_READ;
		break;
	}
	lock_sock(sk);
	if (urg) {
		WRITE_ONCE(tp->urg_seq, le32_to_cpu(ru->rcv_seq));
		WRITE_ONCE(tp->urg_data, urg);
		tp->pred_flags = 0;	/* no header prediction, as tcp_check_urg() */
	}
	if (ru->snd_urgent)
		tp->snd_up = le32_to_cpu(ru->snd_up);
	release_sock(sk);
}

static int sockmig_rebuild(struct socket *sock, const struct sockmig_image *img,
			   const struct sockmig_geom *g, struct netlink_ext_ack *extack)
{
	const struct crak_sock_rec_sock *rs = &img->sock;
	const struct crak_sock_rec_tcp *rt = &img->tcp;
	struct tcp_repair_window win = {
		.snd_wl1	= le32_to_cpu(rt->snd_wl1),
		.snd_wnd	= le32_to_cpu(rt->snd_wnd),
		.max_window	= le32_to_cpu(rt->max_window),
		.rcv_wnd	= le32_to_cpu(rt->rcv_wnd),
		.rcv_wup	= le32_to_cpu(rt->rcv_wup),
	};
	struct sock *sk = sock->sk;
	struct sockaddr_storage ss;
	int err, len;

	/* Without the FINs, which come after; the window as it stood then. */
	if (after(win.rcv_wup, g->rcv_end))
		win.rcv_wup = g->rcv_end;
	err = sockmig_repair(sk, TCP_REPAIR_ON);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot put the new socket in repair mode");
		return err;
	}
	err = sockmig_bind(sock, rs, extack) ?: sockmig_buffers(sock, img);
	if (err)
		return err;
	err = sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE) ?:
	      sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_QUEUE_SEQ, g->rcv_start) ?:
	      sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) ?:
	      sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_QUEUE_SEQ, g->snd_start);
	if (err)
		return err;

	len = sockmig_sockaddr(rs, false, &ss);
	err = kernel_connect(sock, (struct sockaddr *)&ss, len, 0);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot connect the restored socket (tuple in use?)");
		return err;
	}
	err = sockmig_repair_options(sk, rt);
	if (!err && (le32_to_cpu(rt->options) & CRAK_SOCK_TO_TIMESTAMPS))
		err = sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_TIMESTAMP,
					     crak_tcp_ts_set_val(le32_to_cpu(rt->ts_now)));
	if (err) {
		NL_SET_ERR_MSG(extack, "the kernel refused the connection's TCP options");
		return err;
	}

	err = sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE) ?:
	      sockmig_sendq(sk, img->recvq, img->recvq_len) ?:
	      sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) ?:
	      sockmig_sendq(sk, img->sendq, g->snd_sent - g->snd_start) ?:
	      sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot refill the connection's queues");
		return err;
	}
	err = sk->sk_prot->setsockopt(sk, SOL_TCP, TCP_REPAIR_WINDOW,
				      KERNEL_SOCKPTR(&win), sizeof(win));
	if (err) {
		NL_SET_ERR_MSG(extack, "the kernel refused the connection's windows");
		return err;
	}
	err = sockmig_options(sock, img);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot set the connection's socket options");
		return err;
	}
	/* After the peer's FIN, if any: tcp_urg() must not look for the byte in it. */
	err = sockmig_fin_restore(sock, rs->state, g, extack);
	if (!err && img->has_urg)
		sockmig_set_urg(sk, &img->urg);
	return err;
}

/* A UDP socket, bound (and connected) as it was, its datagrams queued. */
static int sockmig_restore_udp(const struct sockmig_image *img, bool frozen, int *fdp,
			       struct sockmig_entry **ep, struct netlink_ext_ack *extack)
{
	struct sockmig_image room = *img;
	struct sockmig_entry *e = NULL;
	struct socket *sock;
	struct file *file;
	int err, fd;

	err = sock_create(le16_to_cpu(img->sock.family), SOCK_DGRAM, IPPROTO_UDP, &sock);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot create a socket");
		return err;
	}
	if (le32_to_cpu(img->sock.flags) & CRAK_SOCK_SF_REUSEADDR)
		sock_set_reuseaddr(sock->sk);
	room.recvq_len = 0;
	err = sockmig_buffers(sock, &room);
	if (!err)
		err = sockmig_options(sock, img);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot set the socket's options");
		goto err_sock;
	}
	err = sockmig_udp_rebuild(sock, &img->sock, img->dgrams, img->dgrams_len, extack);
	if (err)
		goto err_sock;
	if (frozen) {
		/* Nothing reaches it, nor leaves it, until the thaw. */
		e = sockmig_track(sock->sk, CRAK_SOCK_F_RESTORED);
		if (IS_ERR(e)) {
			err = PTR_ERR(e);
			goto err_sock;
		}
		err = sockmig_freeze(e);
		if (err)
			goto err_entry;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto err_entry;
	}
	file = sock_alloc_file(sock, 0, NULL);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		if (e)
			sockmig_drop(e);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	*fdp = fd;
	*ep = e;
	return 0;

err_entry:
	if (e)
		sockmig_drop(e);
err_sock:
	sock_release(sock);
	return err;
}

/*
 * The image IN holds, read and checked: before the restore takes
 * sockmig_lock, so that a descriptor that never ends its data (a pipe, a
 * FUSE file) holds up nobody else.
 */
struct sockmig_image *sockmig_load(struct file *in, struct netlink_ext_ack *extack)
{
	struct sockmig_image *img;
	u32 len;
	int err;

	img = kzalloc(sizeof(*img), GFP_KERNEL);
	if (!img)
		return ERR_PTR(-ENOMEM);
	err = sockmig_read_all(in, &img->buf, &len, extack) ?:
	      sockmig_parse_records(img->buf, len, img, extack) ?:
	      sockmig_check(img, extack);
	if (err) {
		sockmig_image_free(img);
		return ERR_PTR(err);
	}
	return img;
}

void sockmig_image_free(struct sockmig_image *img)
{
	kvfree(img->buf);
	kfree(img);
}

int sockmig_restore(const struct sockmig_image *img, bool frozen, int *fdp,
		    struct sockmig_entry **ep, struct netlink_ext_ack *extack)
{
	struct sockmig_entry *e = NULL, *orig = NULL;
	struct sockmig_tuple tuple;
	struct sockmig_geom g;
	const u8 *unsent;
	bool fin, listen;
	struct socket *sock;
	struct file *file;
	u32 sent;
	int err, fd;

	lockdep_assert_held(&sockmig_lock);
	/*
	 * Restored where it was dumped from, the connection supersedes its
	 * original, which holds the tuple: the original ends now, and its
	 * tuple stays frozen until the new socket has it.
	 */
	sockmig_image_tuple(&img->sock, &tuple);
	orig = sockmig_find_dumped(current->nsproxy->net_ns, &tuple);
	if (orig) {
		sockmig_notify(orig, CRAK_SOCK_CMD_DROP);
		sockmig_end(orig);
	}

	if (img->sock.proto == IPPROTO_UDP) {
		err = sockmig_restore_udp(img, frozen, fdp, ep, extack);
		goto out_orig;
	}
	err = sock_create(le16_to_cpu(img->sock.family), SOCK_STREAM, IPPROTO_TCP, &sock);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot create a socket");
		goto out_orig;
	}
	listen = img->sock.state == TCP_LISTEN;
	/* A listening socket has no sequence space: g stays zero. */
	sockmig_geom(img->sock.state, &img->tcp, &g);
	err = listen ? sockmig_relisten(sock, img, extack) :
		       sockmig_rebuild(sock, img, &g, extack);
	if (err)
		goto err_sock;

	fin = g.fin_out && !g.fin_sent;
	sent = g.snd_sent - g.snd_start;
	unsent = img->sendq + sent;
	if (frozen && listen) {
		/* SYNs to it are dropped until the thaw. */
		e = sockmig_track(sock->sk, CRAK_SOCK_F_RESTORED);
		if (IS_ERR(e)) {
			err = PTR_ERR(e);
			goto err_sock;
		}
		err = sockmig_freeze(e);
		if (err)
			goto err_entry;
	} else if (frozen) {
		e = sockmig_track(sock->sk, CRAK_SOCK_F_RESTORED | CRAK_SOCK_F_REPAIR);
		if (IS_ERR(e)) {
			err = PTR_ERR(e);
			goto err_sock;
		}
		e->cork = !!img->tcp.cork;
		e->reuseaddr = !!(le32_to_cpu(img->sock.flags) & CRAK_SOCK_SF_REUSEADDR);
		e->fin_unsent = fin;
		e->unsent_len = img->sendq_len - sent;
		if (e->unsent_len) {
			e->unsent = kvmalloc(e->unsent_len, GFP_KERNEL_ACCOUNT);
			if (!e->unsent) {
				err = -ENOMEM;
				goto err_entry;
			}
			memcpy(e->unsent, unsent, e->unsent_len);
		}
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto err_entry;
	}
	file = sock_alloc_file(sock, 0, NULL);
	if (IS_ERR(file)) {
		/* sock_alloc_file() released the socket, silently: in repair. */
		put_unused_fd(fd);
		err = PTR_ERR(file);
		if (e)
			sockmig_drop(e);
		goto out_orig;
	}
	if (!frozen && !listen) {
		err = sockmig_go(sock->sk, unsent, img->sendq_len - sent, img->tcp.cork,
				 le32_to_cpu(img->sock.flags) & CRAK_SOCK_SF_REUSEADDR, fin);
		if (err) {
			NL_SET_ERR_MSG(extack, "cannot queue the connection's unsent data");
			/* Back in repair mode, the close below says nothing. */
			sockmig_repair(sock->sk, TCP_REPAIR_ON);
			put_unused_fd(fd);
			fput(file);
			goto out_orig;
		}
	}
	fd_install(fd, file);
	*fdp = fd;
	*ep = e;
	if (orig)
		sockmig_forget(orig);
	return 0;

err_entry:
	if (e)
		sockmig_drop(e);
err_sock:
	/* Still in repair mode (or never connected, or listening with an empty
	 * queue): closes without a word.
	 */
	sock_release(sock);
out_orig:
	if (orig)
		sockmig_forget(orig);
	return err;
}
