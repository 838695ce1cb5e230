/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak_sockmig: freeze one TCP connection, take its state out, re-home it.
 *
 * main.c	the sockets the module tracks, and the netfilter hooks that
 *		silence the frozen ones
 * image.c	a connection's image: dump (repair mode, read out) and
 *		restore (checked, then rebuilt through TCP repair)
 * fin.c	connections past a FIN: where their FINs are, and how a
 *		restore brings them back to their state
 * pause.c	the peer of a frozen connection told to wait (zero window)
 *		and to go on
 * segment.c	the segments the module sends in a connection's name
 * udp.c	UDP sockets: their queued datagrams out and back in
 * netlink.c	the generic netlink family crak_sock
 */

#ifndef _CRAK_SOCKMIG_H
#define _CRAK_SOCKMIG_H

#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <net/sock.h>

#include <linux/crak_sock.h>

/* A connection's addresses, IPv4 ones v4-mapped, and its protocol. */
struct sockmig_tuple {
	struct in6_addr laddr;
	struct in6_addr raddr;
	__be16 lport;
	__be16 rport;
	u8 proto;			/* IPPROTO_TCP, IPPROTO_UDP */
	u8 pad[3];
};

struct sockmig_entry {
	struct hlist_node hnode;	/* in its namespace's table while frozen */
	struct list_head list;		/* sockmig_entries, under sockmig_lock */
	struct rcu_head rcu;
	struct sock *sk;		/* held */
	struct net *net;
	struct sockmig_tuple tuple;
	u32 id;
	u32 flags;			/* CRAK_SOCK_F_* */
	atomic64_t dropped;
	void *unsent;			/* a frozen restore's unsent data */
	u32 unsent_len;
	u8 cork;			/* ... and its TCP_CORK, set at thaw */
	u8 reuseaddr;			/* ... and its SO_REUSEADDR */
	u8 fin_unsent;			/* ... and its FIN, never sent */
	u8 *dgrams;			/* a dumped UDP socket's queue, taken out */
	u32 dgrams_len;
	u16 urg_held;			/* a dumped connection's urgent data, kept
					 * from its owner (tp->urg_data) until a thaw
					 */
	u64 frozen_seq;			/* its freeze's number (sockmig_settle) */
	bool paused;			/* its peer was sent a zero window */
	bool timers_stopped;		/* by a dump: a thaw starts them again */
};

/* The states a connection moves in (a listening socket moves too). */
#define SOCKMIG_CONN_STATES	(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 | \
				 TCPF_FIN_WAIT2 | TCPF_CLOSING | TCPF_LAST_ACK)

static inline bool sockmig_conn_state(u8 state)
{
	return state < TCP_MAX_STATES && (BIT(state) & SOCKMIG_CONN_STATES);
}

/* Where a connection's FINs and data are in its sequence space. */
struct sockmig_geom {
	bool fin_in;		/* the peer's FIN came */
	bool fin_read;		/* ... and the owner read it (EOF) */
	bool fin_out;		/* ours is queued */
	bool fin_sent;		/* ... and was sent */
	bool fin_acked;		/* ... and acknowledged */
	u32 rcv_start;		/* unread data: [rcv_start, rcv_end) */
	u32 rcv_end;
	u32 snd_start;		/* sent data: [snd_start, snd_sent) */
	u32 snd_sent;
	u32 snd_end;		/* unsent data: [snd_sent, snd_end) */
};

/* Serializes every change of state: freeze, thaw, dump, restore, drop. */
extern struct mutex sockmig_lock;

struct sockmig_entry *sockmig_find_id(struct net *net, u32 id);
struct sockmig_entry *sockmig_find_sk(struct sock *sk);
struct sockmig_entry *sockmig_find_dumped(struct net *net, const struct sockmig_tuple *t);
struct sockmig_entry *sockmig_track(struct sock *sk, u32 flags);
void sockmig_set_dumped(struct sockmig_entry *e);
int sockmig_freeze(struct sockmig_entry *e);
void sockmig_settle(struct sockmig_entry *e);
int sockmig_thaw(struct sockmig_entry *e);
void sockmig_drop(struct sockmig_entry *e);
void sockmig_end(struct sockmig_entry *e);
void sockmig_forget(struct sockmig_entry *e);
void sockmig_tuple_of(struct sock *sk, struct sockmig_tuple *t);
void sockmig_inject_begin(struct sock *sk, bool out);
void sockmig_inject_end(struct sock *sk);
u32 sockmig_flags(struct sockmig_entry *e);
int sockmig_for_each(struct net *net, u32 from,
		     int (*fn)(struct sockmig_entry *e, void *arg), void *arg);

/* TCP options through the protocol's own setsockopt, kernel buffers. */
int sockmig_tcp_setsockopt(struct sock *sk, int level, int optname, int val);
int sockmig_repair(struct sock *sk, int val);

int sockmig_dump(struct sockmig_entry *e, struct file *out, u64 *bytes,
		 struct netlink_ext_ack *extack);
struct sockmig_image;
struct sockmig_image *sockmig_load(struct file *in, struct netlink_ext_ack *extack);
void sockmig_image_free(struct sockmig_image *img);
int sockmig_restore(const struct sockmig_image *img, bool frozen, int *fd,
		    struct sockmig_entry **ep, struct netlink_ext_ack *extack);
int sockmig_release_unsent(struct sockmig_entry *e);
void sockmig_urg_put_back(struct sockmig_entry *e);

bool sockmig_geom(u8 state, const struct crak_sock_rec_tcp *rt, struct sockmig_geom *g);
bool sockmig_geom_valid(const struct crak_sock_rec_tcp *rt, const struct sockmig_geom *g);
int sockmig_fin_restore(struct socket *sock, u8 state, const struct sockmig_geom *g,
			struct netlink_ext_ack *extack);
int sockmig_fin_unsent(struct sock *sk);

/* A TCP segment of the connection, from its socket (out) or its peer. */
struct sockmig_seg {
	u32 seq;
	u32 ack;
	u16 win;			/* as on the wire (scaled) */
	bool fin;
	bool out;
	bool ts;			/* with a timestamp option: */
	u32 tsval;
	u32 tsecr;
};

int sockmig_send_seg(struct sock *sk, const struct sockmig_seg *seg);
void sockmig_pause(struct sockmig_entry *e);
bool sockmig_send_pause(struct sock *sk);
void sockmig_resume(struct sock *sk);

/* image.c, for udp.c */
void sockmig_read_sock(struct sock *sk, struct crak_sock_rec_sock *rs);
u8 *sockmig_put_rec(u8 *p, u16 type, const void *data, u32 len);
int sockmig_emit(struct file *out, u8 *buf, const u8 *end, u64 *bytes,
		 struct netlink_ext_ack *extack);
int sockmig_bind(struct socket *sock, const struct crak_sock_rec_sock *rs,
		 struct netlink_ext_ack *extack);
int sockmig_sockaddr(const struct crak_sock_rec_sock *rs, bool local,
		     struct sockaddr_storage *ss);

/* udp.c */
bool sockmig_is_udp(const struct sock *sk);
int sockmig_udp_dump(struct sockmig_entry *e, struct file *out, u64 *bytes,
		     struct netlink_ext_ack *extack);
int sockmig_udp_dgrams_check(const u8 *buf, u32 len, u32 *bytes);
int sockmig_udp_refill(struct sock *sk, const u8 *buf, u32 len);
void sockmig_udp_put_back(struct sockmig_entry *e);
void sockmig_udp_drop(struct sock *sk);
int sockmig_udp_rebuild(struct socket *sock, const struct crak_sock_rec_sock *rs,
			const u8 *dgrams, u32 dgrams_len, struct netlink_ext_ack *extack);

int sockmig_genl_init(void);
void sockmig_genl_exit(void);
void sockmig_notify(struct sockmig_entry *e, u8 cmd);

#endif /* _CRAK_SOCKMIG_H */
