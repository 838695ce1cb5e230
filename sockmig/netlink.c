// SPDX-License-Identifier: GPL-2.0
/*
 * crak_sockmig: the generic netlink family crak_sock
 * (uapi/linux/crak_sock.h).  Every operation runs under sockmig_lock.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/net.h>
#include <linux/nsproxy.h>
#include <linux/tcp.h>
#include <net/genetlink.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/netlink.h>
#include <net/net_namespace.h>
#include <net/tcp.h>
#include <net/udp.h>

#include "crak_compat.h"
#include "sockmig.h"

static struct genl_family sockmig_genl_family;

enum {
	SOCKMIG_NLGRP_EVENTS,
};

/* States a socket may be frozen in. */
#define SOCKMIG_FREEZABLE	(SOCKMIG_CONN_STATES | TCPF_LISTEN)

/* -- policies ------------------------------------------------------------ */

#define SOCKMIG_NL_TARGET						\
	[CRAK_SOCK_A_ID]	= { .type = NLA_U32 },			\
	[CRAK_SOCK_A_FD]	= { .type = NLA_U32 },			\
	[CRAK_SOCK_A_NETNS_FD]	= { .type = NLA_U32 },			\
	[CRAK_SOCK_A_PROTO]	= NLA_POLICY_EXACT_LEN(sizeof(u8)),	\
	[CRAK_SOCK_A_LADDR]	= NLA_POLICY_MIN_LEN(sizeof(struct in_addr)),	\
	[CRAK_SOCK_A_LPORT]	= NLA_POLICY_MIN(NLA_U16, 1),		\
	[CRAK_SOCK_A_RADDR]	= NLA_POLICY_MIN_LEN(sizeof(struct in_addr)),	\
	[CRAK_SOCK_A_RPORT]	= NLA_POLICY_MIN(NLA_U16, 1)

static const struct nla_policy sockmig_target_policy[CRAK_SOCK_A_MAX + 1] = {
	SOCKMIG_NL_TARGET,
};

static const struct nla_policy sockmig_dump_policy[CRAK_SOCK_A_MAX + 1] = {
	SOCKMIG_NL_TARGET,
	[CRAK_SOCK_A_IMAGE_FD]	= { .type = NLA_U32 },
};

static const struct nla_policy sockmig_restore_policy[CRAK_SOCK_A_MAX + 1] = {
	[CRAK_SOCK_A_IMAGE_FD]	= { .type = NLA_U32 },
	[CRAK_SOCK_A_FROZEN]	= { .type = NLA_FLAG },
};

/* -- naming a socket ----------------------------------------------------- */

/*
 * The caller's rights, and those of whoever opened the netlink socket SKB
 * came by (as netlink_ns_capable(): a socket passed to a more privileged
 * program that writes what it is given lends it no rights).
 */
static bool sockmig_may_touch_any(const struct sk_buff *skb, struct net *net)
{
	return netlink_ns_capable(skb, net->user_ns, CAP_CHECKPOINT_RESTORE) ||
	       netlink_ns_capable(skb, net->user_ns, CAP_SYS_ADMIN);
}

static int sockmig_nl_addr(struct nlattr *attr, struct in6_addr *addr,
			   struct netlink_ext_ack *extack)
{
	switch (nla_len(attr)) {
	case sizeof(struct in_addr):
		ipv6_addr_set_v4mapped(nla_get_in_addr(attr), addr);
		return 0;
	case sizeof(struct in6_addr):
		*addr = nla_get_in6_addr(attr);
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(extack, attr, "an address is 4 or 16 bytes");
	return -EINVAL;
}

/*
 * The UDP socket that takes datagrams of a tuple (a bound one takes any
 * remote end: give it as any address, port 0), held.
 */
static struct sock *sockmig_nl_lookup_udp(struct net *net, const struct in6_addr *laddr,
					  __be16 lport, const struct in6_addr *raddr,
					  __be16 rport, struct netlink_ext_ack *extack)
{
	struct sock *sk = NULL;

	if (!CRAK_HAVE_UDP4_LOOKUP || !CRAK_HAVE_UDP6_LOOKUP) {
		NL_SET_ERR_MSG(extack,
			       "this kernel cannot look UDP sockets up by tuple (no NF_SOCKET): give pid and fd");
		return ERR_PTR(-EOPNOTSUPP);
	}
	rcu_read_lock();
#if CRAK_HAVE_UDP4_LOOKUP
	if (ipv6_addr_v4mapped(laddr))
		sk = udp4_lib_lookup(net, raddr->s6_addr32[3], rport, laddr->s6_addr32[3],
				     lport, 0);
#endif
#if IS_ENABLED(CONFIG_IPV6) && CRAK_HAVE_UDP6_LOOKUP
	if (!sk)
		sk = udp6_lib_lookup(net, raddr, rport, laddr, lport, 0);
#endif
	rcu_read_unlock();
	/* (Not a kernel's socket, a tunnel's: it holds no namespace.) */
	if (sk && !sk->sk_net_refcnt) {
		sock_put(sk);
		sk = NULL;
	}
	if (!sk) {
		NL_SET_ERR_MSG(extack, "no such UDP socket in this namespace");
		return ERR_PTR(-ENOENT);
	}
	return sk;
}

/* The established socket of a tuple, held. */
static struct sock *sockmig_nl_lookup(struct net *net, struct nlattr **attrs,
				      struct netlink_ext_ack *extack)
{
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	struct in6_addr laddr, raddr;
	u8 proto = IPPROTO_TCP;
	__be16 rport;
	u16 lport;
	struct sock *sk = NULL;
	int err;

	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, CRAK_SOCK_A_LADDR) ||
	    NL_REQ_ATTR_CHECK(extack, NULL, attrs, CRAK_SOCK_A_LPORT) ||
	    NL_REQ_ATTR_CHECK(extack, NULL, attrs, CRAK_SOCK_A_RADDR) ||
	    NL_REQ_ATTR_CHECK(extack, NULL, attrs, CRAK_SOCK_A_RPORT)) {
		NL_SET_ERR_MSG(extack, "a tuple needs both addresses and both ports");
		return ERR_PTR(-EINVAL);
	}
	if (attrs[CRAK_SOCK_A_PROTO]) {
		proto = nla_get_u8(attrs[CRAK_SOCK_A_PROTO]);
		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[CRAK_SOCK_A_PROTO],
					    "only TCP and UDP are supported");
			return ERR_PTR(-EPROTONOSUPPORT);
		}
	}
	err = sockmig_nl_addr(attrs[CRAK_SOCK_A_LADDR], &laddr, extack) ?:
	      sockmig_nl_addr(attrs[CRAK_SOCK_A_RADDR], &raddr, extack);
	if (err)
		return ERR_PTR(err);
	if (ipv6_addr_v4mapped(&laddr) != ipv6_addr_v4mapped(&raddr)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[CRAK_SOCK_A_RADDR],
				    "both addresses IPv4 or both IPv6");
		return ERR_PTR(-EINVAL);
	}
	lport = nla_get_u16(attrs[CRAK_SOCK_A_LPORT]);
	rport = htons(nla_get_u16(attrs[CRAK_SOCK_A_RPORT]));
	if (proto == IPPROTO_UDP)
		return sockmig_nl_lookup_udp(net, &laddr, htons(lport), &raddr, rport, extack);

	rcu_read_lock();
	if (ipv6_addr_v4mapped(&laddr))
		sk = __inet_lookup_established(net, hinfo, raddr.s6_addr32[3], rport,
					       laddr.s6_addr32[3], lport, 0, 0);
#if IS_ENABLED(CONFIG_IPV6)
	/* An IPv6 socket with v4-mapped addresses is found either way. */
	if (!sk)
		sk = __inet6_lookup_established(net, hinfo, &raddr, rport, &laddr,
						lport, 0, 0);
#endif
	rcu_read_unlock();
	if (sk && (!sk_fullsock(sk) || !sk->sk_net_refcnt)) {
		sock_gen_put(sk);
		sk = NULL;
	}
	if (!sk) {
		NL_SET_ERR_MSG(extack, "no such TCP connection in this namespace");
		return ERR_PTR(-ENOENT);
	}
	return sk;
}

/*
 * The tracked socket an operation names, or with CREATE a new one tracked
 * for it.  Checks the caller's rights over it.
 */
static struct sockmig_entry *sockmig_nl_target(const struct sk_buff *skb, struct genl_info *info,
					       bool create, bool *created)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **attrs = info->attrs;
	struct net *net = genl_info_net(info);
	struct sockmig_entry *e = NULL;
	struct socket *sock = NULL;
	struct sock *sk = NULL;
	bool by_tuple;
	int err, n;

	n = !!attrs[CRAK_SOCK_A_ID] + !!attrs[CRAK_SOCK_A_FD] + !!attrs[CRAK_SOCK_A_LADDR];
	if (n != 1) {
		if (n)
			NL_SET_ERR_MSG(extack, "name the socket one way only: id, fd or tuple");
		else
			NL_SET_ERR_MSG(extack, "no socket: give its id, fd or tuple");
		return ERR_PTR(-EINVAL);
	}
	by_tuple = !attrs[CRAK_SOCK_A_FD];
	if (attrs[CRAK_SOCK_A_NETNS_FD]) {
		if (!by_tuple) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[CRAK_SOCK_A_NETNS_FD],
					    "a namespace goes with an id or a tuple only");
			return ERR_PTR(-EINVAL);
		}
		net = get_net_ns_by_fd(nla_get_u32(attrs[CRAK_SOCK_A_NETNS_FD]));
		if (IS_ERR(net)) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[CRAK_SOCK_A_NETNS_FD],
					    "not a network namespace descriptor");
			return ERR_CAST(net);
		}
	} else {
		get_net(net);
	}
	/* A tuple or id may name any process's socket. */
	if (by_tuple && !sockmig_may_touch_any(skb, net)) {
		NL_SET_ERR_MSG(extack, "id or tuple needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN");
		err = -EPERM;
		goto err_net;
	}

	if (attrs[CRAK_SOCK_A_ID]) {
		e = sockmig_find_id(net, nla_get_u32(attrs[CRAK_SOCK_A_ID]));
		if (!e) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[CRAK_SOCK_A_ID], "no such socket id");
			err = -ENOENT;
			goto err_net;
		}
		if (!netlink_ns_capable(skb, net->user_ns, CAP_NET_ADMIN)) {
			NL_SET_ERR_MSG(extack,
				       "needs CAP_NET_ADMIN over the socket's network namespace");
			err = -EPERM;
			goto err_net;
		}
		put_net(net);
		*created = false;
		return e;
	}

	if (attrs[CRAK_SOCK_A_FD]) {
		sock = sockfd_lookup(nla_get_u32(attrs[CRAK_SOCK_A_FD]), &err);
		if (!sock) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[CRAK_SOCK_A_FD],
					    "not a socket descriptor");
			goto err_net;
		}
		sk = sock->sk;
		if (!sk || (sk->sk_family != AF_INET && sk->sk_family != AF_INET6) ||
		    ((sk->sk_type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP) &&
		     !sockmig_is_udp(sk))) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[CRAK_SOCK_A_FD],
					    "not a TCP or UDP socket");
			err = -EPROTONOSUPPORT;
			goto err_sock;
		}
		sock_hold(sk);
		sockfd_put(sock);
		sock = NULL;
		put_net(net);
		net = get_net(sock_net(sk));
	} else {
		sk = sockmig_nl_lookup(net, attrs, extack);
		if (IS_ERR(sk)) {
			err = PTR_ERR(sk);
			goto err_net;
		}
	}

	if (!netlink_ns_capable(skb, sock_net(sk)->user_ns, CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(extack, "needs CAP_NET_ADMIN over the socket's network namespace");
		err = -EPERM;
		goto err_sk;
	}
	e = sockmig_find_sk(sk);
	*created = false;
	if (!e && !create) {
		NL_SET_ERR_MSG(extack, "crak_sockmig does not hold that socket");
		err = -ENOENT;
		goto err_sk;
	}
	if (!e) {
		if (sockmig_is_udp(sk) && !sk->sk_num) {
			NL_SET_ERR_MSG(extack, "the UDP socket is not bound");
			err = -EINVAL;
			goto err_sk;
		}
		if (!sockmig_is_udp(sk) && !((1 << sk->sk_state) & SOCKMIG_FREEZABLE)) {
			NL_SET_ERR_MSG(extack, "connection not in a freezable state");
			err = -EINVAL;
			goto err_sk;
		}
		e = sockmig_track(sk, 0);
		if (IS_ERR(e)) {
			err = PTR_ERR(e);
			goto err_sk;
		}
		*created = true;
	}
	sock_put(sk);
	put_net(net);
	return e;

err_sock:
	sockfd_put(sock);
	goto err_net;
err_sk:
	sock_put(sk);
err_net:
	put_net(net);
	return ERR_PTR(err);
}

/* -- replies -------------------------------------------------------------- */

static int sockmig_nl_fill(struct sk_buff *msg, struct sockmig_entry *e, u32 flags)
{
	const struct sockmig_tuple *t = &e->tuple;
	struct sock *sk = e->sk;
	bool v4 = ipv6_addr_v4mapped(&t->laddr) && sk->sk_family == AF_INET;
	u32 recvq, sendq;

	if (sockmig_is_udp(sk)) {
		/* What the socket holds (a dump's datagrams are kept aside). */
		recvq = sk_rmem_alloc_get(sk);
		sendq = sk_wmem_alloc_get(sk);
	} else {
		const struct tcp_sock *tp = tcp_sk(sk);

		recvq = READ_ONCE(tp->rcv_nxt) - READ_ONCE(tp->copied_seq);
		sendq = READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_una);
	}
	if (nla_put_u32(msg, CRAK_SOCK_A_ID, e->id) ||
	    nla_put_u16(msg, CRAK_SOCK_A_FAMILY, sk->sk_family) ||
	    nla_put_u8(msg, CRAK_SOCK_A_PROTO, sk->sk_protocol) ||
	    (v4 ? nla_put_in_addr(msg, CRAK_SOCK_A_LADDR, t->laddr.s6_addr32[3]) ||
		  nla_put_in_addr(msg, CRAK_SOCK_A_RADDR, t->raddr.s6_addr32[3])
		: nla_put_in6_addr(msg, CRAK_SOCK_A_LADDR, &t->laddr) ||
		  nla_put_in6_addr(msg, CRAK_SOCK_A_RADDR, &t->raddr)) ||
	    nla_put_u16(msg, CRAK_SOCK_A_LPORT, ntohs(t->lport)) ||
	    nla_put_u16(msg, CRAK_SOCK_A_RPORT, ntohs(t->rport)) ||
	    nla_put_u8(msg, CRAK_SOCK_A_STATE, READ_ONCE(sk->sk_state)) ||
	    nla_put_u32(msg, CRAK_SOCK_A_FLAGS, flags) ||
	    nla_put_u32(msg, CRAK_SOCK_A_RECVQ_BYTES, recvq) ||
	    nla_put_u32(msg, CRAK_SOCK_A_SENDQ_BYTES, sendq) ||
	    nla_put_u64_64bit(msg, CRAK_SOCK_A_DROPPED, atomic64_read(&e->dropped),
			      CRAK_SOCK_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static struct sk_buff *sockmig_nl_msg(struct genl_info *info, u8 cmd, void **hdr)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!msg)
		return NULL;
	*hdr = genlmsg_put_reply(msg, info, &sockmig_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* The family is going (module unload): nothing more is told on it. */
static bool sockmig_nl_gone;	/* under sockmig_lock */

void sockmig_notify(struct sockmig_entry *e, u8 cmd)
{
	struct sk_buff *msg;
	void *hdr;

	lockdep_assert_held(&sockmig_lock);
	if (sockmig_nl_gone ||
	    !genl_has_listeners(&sockmig_genl_family, e->net, SOCKMIG_NLGRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &sockmig_genl_family, 0, cmd);
	if (!hdr || sockmig_nl_fill(msg, e, sockmig_flags(e))) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&sockmig_genl_family, e->net, msg, 0,
				SOCKMIG_NLGRP_EVENTS, GFP_KERNEL);
}

/* -- operations ---------------------------------------------------------- */

static int sockmig_nl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sockmig_entry *e;
	struct sk_buff *msg;
	bool created;
	void *hdr;
	int err;

	msg = sockmig_nl_msg(info, CRAK_SOCK_CMD_GET, &hdr);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&sockmig_lock);
	e = sockmig_nl_target(skb, info, false, &created);
	err = IS_ERR(e) ? PTR_ERR(e) : sockmig_nl_fill(msg, e, sockmig_flags(e));
	mutex_unlock(&sockmig_lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

struct sockmig_dump_ctx {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int sockmig_nl_dump_one(struct sockmig_entry *e, void *arg)
{
	struct sockmig_dump_ctx *ctx = arg;
	void *hdr;

	hdr = genlmsg_put(ctx->skb, NETLINK_CB(ctx->cb->skb).portid, ctx->cb->nlh->nlmsg_seq,
			  &sockmig_genl_family, NLM_F_MULTI, CRAK_SOCK_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (sockmig_nl_fill(ctx->skb, e, sockmig_flags(e))) {
		genlmsg_cancel(ctx->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(ctx->skb, hdr);
	ctx->cb->args[0] = e->id + 1;
	return 0;
}

static int sockmig_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct sockmig_dump_ctx ctx = { .skb = skb, .cb = cb };
	int err;

	mutex_lock(&sockmig_lock);
	err = sockmig_for_each(sock_net(skb->sk), cb->args[0], sockmig_nl_dump_one, &ctx);
	mutex_unlock(&sockmig_lock);
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* The file CRAK_SOCK_A_IMAGE_FD names, held. */
static struct file *sockmig_nl_image(struct genl_info *info)
{
	struct socket *sock;
	struct file *image;

	if (GENL_REQ_ATTR_CHECK(info, CRAK_SOCK_A_IMAGE_FD))
		return ERR_PTR(-EINVAL);
	image = fget(nla_get_u32(info->attrs[CRAK_SOCK_A_IMAGE_FD]));
	if (!image) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CRAK_SOCK_A_IMAGE_FD],
				    "not an open descriptor");
		return ERR_PTR(-EBADF);
	}
	/*
	 * (A netlink socket would take the image as requests, crak's own
	 * among them, which wait for the lock this request holds.)
	 */
	sock = sock_from_file(image);
	if (sock && sock->sk && sock->sk->sk_family == AF_NETLINK) {
		fput(image);
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CRAK_SOCK_A_IMAGE_FD],
				    "a netlink socket");
		return ERR_PTR(-EINVAL);
	}
	return image;
}

/* Freezes E and, with an image file, dumps it into that. */
static int sockmig_nl_freeze(struct sockmig_entry *e, struct file *image, u64 *bytes,
			     struct netlink_ext_ack *extack)
{
	bool repair = e->flags & CRAK_SOCK_F_REPAIR;
	int err;

	if (e->flags & CRAK_SOCK_F_RESTORED) {
		NL_SET_ERR_MSG(extack, "a restored socket waits for its thaw");
		return -EBUSY;
	}
	err = sockmig_freeze(e);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot register the freezing hooks");
		return err;
	}
	sockmig_pause(e);
	if (!image)
		return 0;
	err = sockmig_dump(e, image, bytes, extack);
	if (err && !repair && (e->flags & CRAK_SOCK_F_REPAIR)) {
		/* Back to merely frozen, as before. */
		sockmig_urg_put_back(e);
		sockmig_repair(e->sk, TCP_REPAIR_OFF_NO_WP);
		e->flags &= ~CRAK_SOCK_F_REPAIR;
	}
	if (!err)
		sockmig_set_dumped(e);
	return err;
}

/* Runs CMD on the socket named; replies with the socket as CMD left it. */
static int sockmig_nl_act(const struct sk_buff *skb, struct genl_info *info, u8 cmd)
{
	struct file *image = NULL;
	struct sockmig_entry *e;
	bool created;
	struct sk_buff *msg;
	u64 bytes = 0;
	void *hdr;
	int err;

	if (cmd == CRAK_SOCK_CMD_DUMP) {
		image = sockmig_nl_image(info);
		if (IS_ERR(image))
			return PTR_ERR(image);
	}
	msg = sockmig_nl_msg(info, cmd, &hdr);
	if (!msg) {
		err = -ENOMEM;
		goto out_image;
	}

	mutex_lock(&sockmig_lock);
	e = sockmig_nl_target(skb, info, cmd == CRAK_SOCK_CMD_FREEZE || cmd == CRAK_SOCK_CMD_DUMP,
			      &created);
	if (IS_ERR(e)) {
		err = PTR_ERR(e);
		goto out_unlock;
	}
	switch (cmd) {
	case CRAK_SOCK_CMD_FREEZE:
	case CRAK_SOCK_CMD_DUMP:
		err = sockmig_nl_freeze(e, image, &bytes, info->extack);
		if (err) {
			/* Nothing half-done: a socket this call took is let go. */
			if (created)
				sockmig_thaw(e);
			break;
		}
		err = sockmig_nl_fill(msg, e, sockmig_flags(e));
		if (!err && image)
			err = nla_put_u64_64bit(msg, CRAK_SOCK_A_IMAGE_BYTES, bytes,
						CRAK_SOCK_A_PAD);
		sockmig_notify(e, cmd);
		break;
	case CRAK_SOCK_CMD_THAW:
	case CRAK_SOCK_CMD_DROP:
		/* The reply shows it as it was, with the flags it is left with. */
		sockmig_notify(e, cmd);
		err = sockmig_nl_fill(msg, e, 0);
		if (err)
			break;
		if (cmd == CRAK_SOCK_CMD_THAW) {
			err = sockmig_thaw(e);
			if (err)
				NL_SET_ERR_MSG(info->extack, "thawed; leaving repair mode failed");
		} else {
			sockmig_drop(e);
		}
		break;
	}
out_unlock:
	mutex_unlock(&sockmig_lock);
	if (err) {
		nlmsg_free(msg);
		goto out_image;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
out_image:
	if (image)
		fput(image);
	return err;
}

static int sockmig_nl_freeze_doit(struct sk_buff *skb, struct genl_info *info)
{
	return sockmig_nl_act(skb, info, CRAK_SOCK_CMD_FREEZE);
}

static int sockmig_nl_thaw_doit(struct sk_buff *skb, struct genl_info *info)
{
	return sockmig_nl_act(skb, info, CRAK_SOCK_CMD_THAW);
}

static int sockmig_nl_dump_doit(struct sk_buff *skb, struct genl_info *info)
{
	return sockmig_nl_act(skb, info, CRAK_SOCK_CMD_DUMP);
}

static int sockmig_nl_drop_doit(struct sk_buff *skb, struct genl_info *info)
{
	return sockmig_nl_act(skb, info, CRAK_SOCK_CMD_DROP);
}

static int sockmig_nl_restore_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sockmig_entry *e = NULL;
	struct sockmig_image *img;
	struct file *image;
	struct sk_buff *msg;
	void *hdr;
	int err, fd;

	/*
	 * The socket is made in the caller's namespace, the rights checked
	 * over the netlink socket's: one and the same.
	 */
	if (!net_eq(genl_info_net(info), current->nsproxy->net_ns)) {
		NL_SET_ERR_MSG(info->extack,
			       "restore through a netlink socket of the caller's own network namespace");
		return -EINVAL;
	}
	image = sockmig_nl_image(info);
	if (IS_ERR(image))
		return PTR_ERR(image);
	img = sockmig_load(image, info->extack);
	fput(image);
	if (IS_ERR(img))
		return PTR_ERR(img);
	msg = sockmig_nl_msg(info, CRAK_SOCK_CMD_RESTORE, &hdr);
	if (!msg) {
		err = -ENOMEM;
		goto out_img;
	}
	mutex_lock(&sockmig_lock);
	err = sockmig_restore(img, nla_get_flag(info->attrs[CRAK_SOCK_A_FROZEN]), &fd, &e,
			      info->extack);
	if (!err) {
		/* The descriptor is the caller's now, whatever the reply. */
		if (e) {
			sockmig_nl_fill(msg, e, sockmig_flags(e));
			sockmig_notify(e, CRAK_SOCK_CMD_RESTORE);
		}
		nla_put_u32(msg, CRAK_SOCK_A_NEW_FD, fd);
	}
	mutex_unlock(&sockmig_lock);
	if (err) {
		nlmsg_free(msg);
		goto out_img;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
out_img:
	sockmig_image_free(img);
	return err;
}

/* -- the family ---------------------------------------------------------- */

static const struct genl_ops sockmig_genl_ops[] = {
	{
		.cmd		= CRAK_SOCK_CMD_GET,
		.doit		= sockmig_nl_get_doit,
		.dumpit		= sockmig_nl_get_dumpit,
		.policy		= sockmig_target_policy,
		.maxattr	= CRAK_SOCK_A_MAX,
	},
	{
		.cmd		= CRAK_SOCK_CMD_FREEZE,
		.doit		= sockmig_nl_freeze_doit,
		.policy		= sockmig_target_policy,
		.maxattr	= CRAK_SOCK_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= CRAK_SOCK_CMD_THAW,
		.doit		= sockmig_nl_thaw_doit,
		.policy		= sockmig_target_policy,
		.maxattr	= CRAK_SOCK_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= CRAK_SOCK_CMD_DUMP,
		.doit		= sockmig_nl_dump_doit,
		.policy		= sockmig_dump_policy,
		.maxattr	= CRAK_SOCK_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= CRAK_SOCK_CMD_RESTORE,
		.doit		= sockmig_nl_restore_doit,
		.policy		= sockmig_restore_policy,
		.maxattr	= CRAK_SOCK_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= CRAK_SOCK_CMD_DROP,
		.doit		= sockmig_nl_drop_doit,
		.policy		= sockmig_target_policy,
		.maxattr	= CRAK_SOCK_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group sockmig_genl_mcgrps[] = {
	[SOCKMIG_NLGRP_EVENTS] = {
		.name	= CRAK_SOCK_MCGRP_EVENTS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family sockmig_genl_family = {
	.name		= CRAK_SOCK_FAMILY_NAME,
	.version	= CRAK_SOCK_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= sockmig_genl_ops,
	.n_ops		= ARRAY_SIZE(sockmig_genl_ops),
	.mcgrps		= sockmig_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(sockmig_genl_mcgrps),
};

int sockmig_genl_init(void)
{
	return genl_register_family(&sockmig_genl_family);
}

void sockmig_genl_exit(void)
{
	/* (The reaper may still run until it is cancelled, after this.) */
	mutex_lock(&sockmig_lock);
	sockmig_nl_gone = true;
	mutex_unlock(&sockmig_lock);
	genl_unregister_family(&sockmig_genl_family);
}
