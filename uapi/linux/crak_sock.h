/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * crak_sock: freeze one TCP connection, take its state out as a blob, and
 * re-home it in another process, namespace or host.  A connection may be
 * ESTABLISHED or past a FIN (CLOSE_WAIT, FIN_WAIT1, FIN_WAIT2, LAST_ACK,
 * CLOSING); a listening socket moves too, and so does a UDP socket, bound
 * or connected, with its queued datagrams (see UDP below).
 *
 * Naming a socket.  An operation names the socket it acts on by
 *   - CRAK_SOCK_A_FD: a descriptor of the caller's own.  The crak tool gets
 *     one for another process's socket with pidfd_getfd(2), which the kernel
 *     allows only to a caller that may ptrace that process;
 *   - the tuple CRAK_SOCK_A_PROTO, _LADDR, _LPORT, _RADDR, _RPORT, looked up
 *     in the network namespace CRAK_SOCK_A_NETNS_FD (default: the caller's).
 *     As a tuple may name any process's socket, this needs CAP_SYS_ADMIN or
 *     CAP_CHECKPOINT_RESTORE in that namespace's user namespace;
 *   - CRAK_SOCK_A_ID: the handle this module gave a socket it tracks; it
 *     names the socket only from the socket's own network namespace.
 * Every operation but GET also needs CAP_NET_ADMIN in the user namespace
 * owning the socket's network namespace.  Addresses are 4 bytes (IPv4) or 16
 * (IPv6, v4-mapped included), in network order; ports in host order.
 *
 * Freezing.  From FREEZE on, the connection emits nothing: every packet of
 * its 4-tuple leaving the host (data, ACK, window update, keepalive,
 * retransmission, FIN, RST) is dropped at LOCAL_OUT, and every one arriving
 * is dropped at LOCAL_IN, so the stack never answers it (the peer
 * retransmits).  (A segment already past LOCAL_IN when FREEZE came may still
 * reach the socket; DUMP first waits for every such one, one wait for all
 * the sockets frozen before it.)  When the address lives on a crakvif, the crak tool freezes
 * the flow there too, so that inbound segments are held rather than dropped.
 * The owner sees a stalled connection, not a broken one: it may still write
 * (into its send buffer) and read what had arrived.  THAW removes the drop;
 * nothing was lost or repeated.
 * One segment is the module's own: at FREEZE a TCP connection's peer is
 * sent the ACK the socket would send with a full receive buffer (its
 * sequence numbers and timestamps, a zero window), so that it waits,
 * probing the window, instead of timing out; while the connection stays
 * frozen and not dumped, again every pause_refresh_ms (a module parameter,
 * 30 s), before the peer gives up on a window shut without a word.  THAW
 * sends the socket's own ACK, with its window; so does the THAW of a
 * restored connection.
 *
 * Dumping.  DUMP freezes the socket if it is not frozen, puts it in TCP
 * repair mode and writes its image (below) to CRAK_SOCK_A_IMAGE_FD.  The
 * socket stays frozen and in repair mode: from then on its owner's reads and
 * writes fail, and closing it (or the owner's exit, or DROP) ends it
 * silently, without FIN or RST; the module then forgets it (within a
 * second).  A THAW of a dumped socket cancels the dump: repair mode ends and
 * the connection carries on where it stood.  DUMP writes at the image
 * descriptor's position, and a pipe or socket will do: the image streams.
 *
 * Listening sockets.  A frozen listening socket lets no SYN in (its clients
 * retry).  DUMP refuses one with connections waiting in its accept queue,
 * and leaves it listening, frozen, outside repair mode; closing it or DROP
 * ends it as silently.
 *
 * Restoring.  RESTORE reads an image from CRAK_SOCK_A_IMAGE_FD, re-creates
 * the connection in the caller's network namespace (the one its generic
 * netlink socket belongs to as well, else EINVAL) through the kernel's TCP
 * repair interface (no SYN, no RST; the peer sees nothing) and installs it
 * as a new descriptor of the caller's (CRAK_SOCK_A_NEW_FD in the reply).
 * The image is read from the descriptor's position to its end.  The local
 * address must exist there.  Restored where its original is still tracked
 * as dumped (same namespace and tuple), the connection supersedes it: the
 * original is dropped first.  With CRAK_SOCK_A_FROZEN the new
 * socket stays in repair mode and tracked, with its unsent data kept aside:
 * it processes what arrives (and acknowledges it) but sends no data until
 * THAW, which leaves repair mode and queues the unsent data.
 *
 * DROP ends a frozen or dumped socket silently now (its owner's next call
 * fails with ECONNABORTED) and forgets it; packets of its tuple pass again.
 *
 * Events of the multicast group "events": CRAK_SOCK_CMD_FREEZE, _THAW,
 * _DUMP, _RESTORE and _DROP, with the socket's attributes as GET shows them.
 * FREEZE, THAW, DUMP and DROP reply with them too (THAW and DROP: the flags
 * the socket is left with), and so does a frozen RESTORE.
 */

#ifndef _UAPI_LINUX_CRAK_SOCK_H
#define _UAPI_LINUX_CRAK_SOCK_H

#include <linux/const.h>
#include <linux/types.h>

#define CRAK_SOCK_FAMILY_NAME		"crak_sock"
#define CRAK_SOCK_FAMILY_VERSION	1
#define CRAK_SOCK_MCGRP_EVENTS		"events"

enum {
	CRAK_SOCK_CMD_UNSPEC,
	CRAK_SOCK_CMD_GET,		/* do: one tracked socket; dump: all */
	CRAK_SOCK_CMD_FREEZE,
	CRAK_SOCK_CMD_THAW,
	CRAK_SOCK_CMD_DUMP,
	CRAK_SOCK_CMD_RESTORE,
	CRAK_SOCK_CMD_DROP,

	__CRAK_SOCK_CMD_MAX,
	CRAK_SOCK_CMD_MAX = __CRAK_SOCK_CMD_MAX - 1
};

enum {
	CRAK_SOCK_A_UNSPEC,
	CRAK_SOCK_A_ID,			/* u32 */
	CRAK_SOCK_A_FD,			/* u32: the caller's descriptor */
	CRAK_SOCK_A_NETNS_FD,		/* u32: a network namespace descriptor */
	CRAK_SOCK_A_PROTO,		/* u8: IPPROTO_TCP or IPPROTO_UDP */
	CRAK_SOCK_A_LADDR,		/* binary: 4 or 16 bytes */
	CRAK_SOCK_A_LPORT,		/* u16 */
	CRAK_SOCK_A_RADDR,		/* binary: 4 or 16 bytes */
	CRAK_SOCK_A_RPORT,		/* u16 */
	CRAK_SOCK_A_FAMILY,		/* u16: AF_INET or AF_INET6 */
	CRAK_SOCK_A_STATE,		/* u8: TCP_ESTABLISHED ... (linux/tcp.h) */
	CRAK_SOCK_A_FLAGS,		/* u32: CRAK_SOCK_F_* */
	CRAK_SOCK_A_IMAGE_FD,		/* u32: where DUMP writes, RESTORE reads */
	CRAK_SOCK_A_IMAGE_BYTES,	/* u64: the image's size */
	CRAK_SOCK_A_NEW_FD,		/* u32: RESTORE's new descriptor */
	CRAK_SOCK_A_FROZEN,		/* flag: RESTORE keeps the socket frozen */
	CRAK_SOCK_A_RECVQ_BYTES,	/* u32: unread received bytes */
	CRAK_SOCK_A_SENDQ_BYTES,	/* u32: bytes not yet acknowledged */
	CRAK_SOCK_A_DROPPED,		/* u64: packets dropped while frozen */
	CRAK_SOCK_A_PAD,

	__CRAK_SOCK_A_MAX,
	CRAK_SOCK_A_MAX = __CRAK_SOCK_A_MAX - 1
};

/* CRAK_SOCK_A_FLAGS: what the module does with a tracked socket. */
#define CRAK_SOCK_F_FROZEN	_BITUL(0)	/* its packets are dropped */
#define CRAK_SOCK_F_DUMPED	_BITUL(1)	/* its image was taken */
#define CRAK_SOCK_F_REPAIR	_BITUL(2)	/* in TCP repair mode */
#define CRAK_SOCK_F_RESTORED	_BITUL(3)	/* made by RESTORE */
#define CRAK_SOCK_F_CLOSED	_BITUL(4)	/* its owner closed it */

/*
 * The image.  All integers are little-endian.  A header, then records, each
 * a record header and a payload padded with zeros to a multiple of 8 bytes:
 *
 *   struct crak_sock_image	magic, version, lengths, CRC32 of the records
 *   struct crak_sock_record	type CRAK_SOCK_REC_SOCK + struct crak_sock_rec_sock
 *   struct crak_sock_record	type CRAK_SOCK_REC_TCP + struct crak_sock_rec_tcp
 *   struct crak_sock_record	type CRAK_SOCK_REC_RECVQ + the unread bytes
 *   struct crak_sock_record	type CRAK_SOCK_REC_SENDQ + the unacked bytes
 *   [struct crak_sock_record	type CRAK_SOCK_REC_URG + struct crak_sock_rec_urg]
 * or, for a listening socket, after the first two:
 *   struct crak_sock_record	type CRAK_SOCK_REC_LISTEN + struct crak_sock_rec_listen
 *
 * A reader refuses an image whose major version it does not know, whose
 * lengths or CRC do not add up, that lacks a required record or repeats one,
 * or that holds a record it does not know unless that record is flagged
 * CRAK_SOCK_RECF_OPTIONAL.  Records and structs only grow at their end: a
 * reader takes the fields it knows from a longer struct and zeros for those
 * a shorter one lacks.  Nothing in it depends on the kernel's own structs,
 * so an image taken on one kernel restores on another.
 */
#define CRAK_SOCK_IMAGE_MAGIC		0x4b534b43	/* "CKSK" */
#define CRAK_SOCK_IMAGE_VERSION		1
#define CRAK_SOCK_IMAGE_MAX		(64U << 20)	/* bytes */

struct crak_sock_image {
	__le32	magic;
	__le16	version;
	__le16	hdr_len;	/* sizeof(struct crak_sock_image) */
	__le32	len;		/* bytes of records after the header */
	__le32	crc;		/* crc32_le(~0, records, len) ^ ~0 */
};

struct crak_sock_record {
	__le16	type;		/* CRAK_SOCK_REC_* */
	__le16	flags;		/* CRAK_SOCK_RECF_* */
	__le32	len;		/* payload bytes, padding excluded */
};

#define CRAK_SOCK_RECF_OPTIONAL	_BITUL(0)

enum {
	CRAK_SOCK_REC_UNSPEC,
	CRAK_SOCK_REC_SOCK,	/* required, first */
	CRAK_SOCK_REC_TCP,	/* required for TCP */
	CRAK_SOCK_REC_RECVQ,	/* received, unread bytes from copied_seq */
	CRAK_SOCK_REC_SENDQ,	/* unacknowledged bytes from snd_una */
	CRAK_SOCK_REC_LISTEN,	/* required for a listening socket */
	CRAK_SOCK_REC_UDP,	/* required for UDP */
	CRAK_SOCK_REC_DGRAMS,	/* UDP: the datagrams queued for reading */
	CRAK_SOCK_REC_URG,	/* TCP: urgent data, only when there is some */
};

/* The socket: addresses and the options that change its behaviour. */
struct crak_sock_rec_sock {
	__le16	family;		/* AF_INET, AF_INET6 */
	__u8	proto;		/* IPPROTO_TCP, IPPROTO_UDP */
	__u8	state;		/* TCP_ESTABLISHED, _CLOSE_WAIT, _FIN_WAIT1,
				 * _FIN_WAIT2, _CLOSING, _LAST_ACK, _LISTEN
				 * (the numbering of netinet/tcp.h); UDP:
				 * _ESTABLISHED (connected) or _CLOSE (bound)
				 */
	__u8	laddr[16];	/* IPv4: the first 4 bytes */
	__u8	raddr[16];
	__le16	lport;
	__le16	rport;
	__le32	flags;		/* CRAK_SOCK_SF_* */
	__le32	sndbuf;		/* meaningful with CRAK_SOCK_SF_SNDBUF_LOCK */
	__le32	rcvbuf;		/* likewise */
	__le32	mark;
	__le32	priority;
	__le32	linger;		/* seconds, with CRAK_SOCK_SF_LINGER */
	__u8	tos;		/* IPv4 TOS, or IPv6 traffic class */
	__u8	ttl;		/* 0: the route's default */
	__u8	shutdown;	/* SEND_SHUTDOWN ... as (1 | 2) */
	__u8	pad;
	__le32	bound_ifindex;	/* SO_BINDTOIFINDEX, 0 for none */
};

#define CRAK_SOCK_SF_REUSEADDR		_BITUL(0)
#define CRAK_SOCK_SF_REUSEPORT		_BITUL(1)
#define CRAK_SOCK_SF_KEEPALIVE		_BITUL(2)
#define CRAK_SOCK_SF_LINGER		_BITUL(3)
#define CRAK_SOCK_SF_V6ONLY		_BITUL(4)
#define CRAK_SOCK_SF_SNDBUF_LOCK	_BITUL(5)
#define CRAK_SOCK_SF_RCVBUF_LOCK	_BITUL(6)
#define CRAK_SOCK_SF_OOBINLINE		_BITUL(7)

/*
 * TCP: sequence space, windows, negotiated options, TCP-level options.
 * Past a FIN, the sequence numbers count it as TCP does: rcv_nxt is one past
 * the peer's FIN (and copied_seq too once the owner read the end of the
 * stream); write_seq is one past ours (and snd_nxt once it was sent, snd_una
 * once it was acknowledged).  The RECVQ and SENDQ records hold data only.
 */
struct crak_sock_rec_tcp {
	__le32	snd_una;	/* first unacknowledged byte */
	__le32	snd_nxt;	/* next byte to send */
	__le32	write_seq;	/* end of the send queue */
	__le32	rcv_nxt;	/* next byte expected */
	__le32	copied_seq;	/* next byte the owner reads */
	__le32	snd_wl1;
	__le32	snd_wnd;
	__le32	max_window;
	__le32	rcv_wnd;
	__le32	rcv_wup;
	__le32	ts_now;		/* the socket's timestamp clock (ms) */
	__le32	ts_recent;	/* the peer's last timestamp */
	__le16	mss_clamp;
	__u8	snd_wscale;
	__u8	rcv_wscale;
	__le32	options;	/* CRAK_SOCK_TO_* */
	__le32	keepidle;	/* seconds; 0: the namespace's default */
	__le32	keepintvl;
	__le32	keepcnt;
	__le32	user_timeout;	/* ms */
	__le32	notsent_lowat;
	__le32	nodelay;	/* 0 or 1 */
	__le32	cork;
};

/*
 * A listening socket: its TCP record carries only the options its
 * connections inherit (keepidle to cork), the rest is zero; it has no
 * queue records, and an empty accept queue (a dump refuses otherwise).
 */
struct crak_sock_rec_listen {
	__le32	backlog;
};

/*
 * UDP.  A UDP socket moves bound (state TCP_CLOSE, no remote end) or
 * connected (TCP_ESTABLISHED), with the datagrams queued for its owner to
 * read, in order: the DGRAMS record is a run of struct crak_sock_dgram, each
 * followed by its data padded to 8 bytes.  While a UDP socket is frozen its
 * datagrams are dropped both ways (or held on its crakvif); DUMP takes the
 * queued ones out of the socket (its owner reads none of them twice), and
 * THAW puts them back.
 */
struct crak_sock_rec_udp {
	__le32	flags;		/* CRAK_SOCK_UF_* */
	__le32	pad;
};

#define CRAK_SOCK_UF_CORK	_BITUL(0)	/* UDP_CORK */

/*
 * TCP urgent data ("out of band"), in either direction.  The peer's urgent
 * byte is one byte of the receive queue, at rcv_seq: reads step over it
 * (unless SO_OOBINLINE) and stop at it, and recv(MSG_OOB) takes it; the
 * record says how far it got.  This end's urgent pointer (send(MSG_OOB))
 * goes out with the segments before it until the peer acknowledges it.
 */
enum {
	CRAK_SOCK_URG_NONE,
	CRAK_SOCK_URG_ANNOUNCED,	/* the peer's pointer came, its byte not yet */
	CRAK_SOCK_URG_ARRIVED,		/* the byte is in the receive queue, unread */
	CRAK_SOCK_URG_READ,		/* the owner read it out of band */
};

struct crak_sock_rec_urg {
	__u8	rcv_state;	/* CRAK_SOCK_URG_* */
	__u8	rcv_byte;	/* CRAK_SOCK_URG_ARRIVED: the byte */
	__u8	snd_urgent;	/* 1: snd_up is this end's unacknowledged urgent pointer */
	__u8	pad;
	__le32	rcv_seq;	/* the sequence number of the peer's urgent byte */
	__le32	snd_up;		/* the sequence number after this end's urgent byte */
	__le32	pad2;
};

struct crak_sock_dgram {
	__le32	len;		/* bytes of data that follow */
	__le16	family;		/* AF_INET, AF_INET6: of its addresses */
	__be16	sport;		/* its source port, in network order as the addresses */
	__u8	saddr[16];	/* its source address (IPv4: the first 4 bytes) */
	__u8	daddr[16];	/* the address it was sent to */
};

#define CRAK_SOCK_TO_SACK	_BITUL(0)
#define CRAK_SOCK_TO_WSCALE	_BITUL(1)
#define CRAK_SOCK_TO_TIMESTAMPS	_BITUL(2)

#endif /* _UAPI_LINUX_CRAK_SOCK_H */
