// SPDX-License-Identifier: GPL-2.0
/*
 * crak_sockmig: the sockets the module tracks, and how a frozen one is kept
 * silent.
 *
 * A tracked socket (struct sockmig_entry) is one the module froze, dumped
 * or restored frozen; it holds a reference on the socket and has an id in
 * sockmig_ids.  Thaw and drop forget it.  While frozen, its tuple sits in
 * its namespace's hash table, and four netfilter hooks (IPv4 and IPv6,
 * LOCAL_IN and LOCAL_OUT) drop every packet of that tuple; a frozen
 * listening socket's, every SYN to it.  The hooks are
 * registered in a namespace only while it has a frozen socket, so that a
 * namespace without one pays nothing.
 *
 * A dumped socket's connection lives on elsewhere.  When its owner closes it
 * (in repair mode: silently) or exits, nothing is left to thaw, and the
 * reaper forgets it.  The kernel tells no one when a socket is orphaned, so
 * the reaper looks once a second, and only while a dumped socket exists.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/xarray.h>
#include <net/inet_connection_sock.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tcp.h>

#include "sockmig.h"

#define SOCKMIG_HASH_BITS	8

struct sockmig_net {
	struct hlist_head table[1 << SOCKMIG_HASH_BITS];	/* frozen entries, RCU */
	unsigned int frozen;
	/* The tuple the module sends a segment of (segment.c), and whence. */
	spinlock_t inject_lock;
	bool injecting;
	bool inject_out;
	struct sockmig_tuple inject;
};

/* See sockmig.h. */
DEFINE_MUTEX(sockmig_lock);
static DEFINE_XARRAY_ALLOC1(sockmig_ids);
static unsigned int sockmig_net_id __read_mostly;
static unsigned int sockmig_dumped;		/* under sockmig_lock */
/* Freezes so far, and how many of them a grace period has settled. */
static u64 sockmig_frozen_seq, sockmig_settled_seq;	/* under sockmig_lock */

static void sockmig_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(sockmig_reaper, sockmig_reap);

/*
 * A peer whose window stays shut with no word from us gives up in the end
 * (Linux: after 4 minutes with data unacknowledged): a connection frozen in
 * place tells it again to wait this often.  A dumped one says nothing more:
 * its connection may live on elsewhere by now.
 */
static unsigned int pause_refresh_ms = 30000;
module_param(pause_refresh_ms, uint, 0644);
MODULE_PARM_DESC(pause_refresh_ms,
		 "how often a connection frozen in place sends its peer a zero window again (ms)");
static unsigned int sockmig_paused;		/* under sockmig_lock */
static void sockmig_refresh(struct work_struct *work);
static DECLARE_DELAYED_WORK(sockmig_refresher, sockmig_refresh);

static u32 sockmig_hash(const struct sockmig_tuple *t)
{
	BUILD_BUG_ON(sizeof(*t) % sizeof(u32));
	return jhash2((const u32 *)t, sizeof(*t) / sizeof(u32), 0) &
	       ((1 << SOCKMIG_HASH_BITS) - 1);
}

/* -- the hooks ----------------------------------------------------------- */

static bool sockmig_proto(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static bool sockmig_parse(struct sk_buff *skb, u8 pf, bool out, struct sockmig_tuple *t,
			  bool *syn)
{
	struct tcphdr _th;
	const struct tcphdr *th;
	struct udphdr _uh;
	const struct udphdr *uh;
	unsigned int thoff;

	memset(t, 0, sizeof(*t));
	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (!sockmig_proto(iph->protocol) || ip_is_fragment(iph))
			return false;
		t->proto = iph->protocol;
		thoff = skb_network_offset(skb) + iph->ihl * 4;
		ipv6_addr_set_v4mapped(out ? iph->saddr : iph->daddr, &t->laddr);
		ipv6_addr_set_v4mapped(out ? iph->daddr : iph->saddr, &t->raddr);
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);
		u8 nexthdr = ip6h->nexthdr;
		__be16 frag_off;
		int off;

		off = ipv6_skip_exthdr(skb, skb_network_offset(skb) + sizeof(*ip6h),
				       &nexthdr, &frag_off);
		if (off < 0 || !sockmig_proto(nexthdr) || frag_off)
			return false;
		t->proto = nexthdr;
		thoff = off;
		t->laddr = out ? ip6h->saddr : ip6h->daddr;
		t->raddr = out ? ip6h->daddr : ip6h->saddr;
	}
	*syn = false;
	if (t->proto == IPPROTO_UDP) {
		uh = skb_header_pointer(skb, thoff, sizeof(_uh), &_uh);
		if (!uh)
			return false;
		t->lport = out ? uh->source : uh->dest;
		t->rport = out ? uh->dest : uh->source;
		return true;
	}
	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	if (!th)
		return false;
	t->lport = out ? th->source : th->dest;
	t->rport = out ? th->dest : th->source;
	*syn = th->syn && !th->ack;
	return true;
}

static bool sockmig_frozen(struct sockmig_net *sn, const struct sockmig_tuple *t)
{
	struct sockmig_entry *e;

	hlist_for_each_entry_rcu(e, &sn->table[sockmig_hash(t)], hnode) {
		if (!memcmp(&e->tuple, t, sizeof(*t))) {
			atomic64_inc(&e->dropped);
			return true;
		}
	}
	return false;
}

/*
 * A frozen listening socket's tuple has no remote end (sockmig_tuple_of()),
 * and its local address may be any; so has an unconnected UDP socket's.  A
 * SYN, or a datagram either way, is looked for as the socket would take it:
 * by the local address, by any address of its family, and by an IPv6
 * socket's any address.
 */
static bool sockmig_frozen_wild(struct sockmig_net *sn, const struct sockmig_tuple *syn)
{
	bool v4 = ipv6_addr_v4mapped(&syn->laddr);
	struct sockmig_tuple t = { .lport = syn->lport, .proto = syn->proto };

	if (v4)
		ipv6_addr_set_v4mapped(0, &t.raddr);
	t.laddr = syn->laddr;
	if (sockmig_frozen(sn, &t))
		return true;
	t.laddr = t.raddr;
	if (sockmig_frozen(sn, &t))
		return true;
	if (!v4)
		return false;
	memset(&t.laddr, 0, sizeof(t.laddr));
	memset(&t.raddr, 0, sizeof(t.raddr));
	return sockmig_frozen(sn, &t);
}

/*
 * Whether the packet is a segment the module sends in the name of a frozen
 * tuple (segment.c): one a restore sends its new socket through the
 * loopback while the superseded original still holds the tuple, or one a
 * freeze sends the peer while holding the socket's lock (so that it is the
 * only one).
 */
static bool sockmig_injected(struct sockmig_net *sn, const struct nf_hook_state *state,
			     const struct sockmig_tuple *t)
{
	bool ret;

	if (likely(!READ_ONCE(sn->injecting)))
		return false;
	if (state->hook == NF_INET_LOCAL_IN &&
	    (!state->in || !(state->in->flags & IFF_LOOPBACK)))
		return false;
	/* LOCAL_OUT runs with BHs on, a loopback's LOCAL_IN in softirq. */
	spin_lock_bh(&sn->inject_lock);
	ret = sn->injecting && sn->inject_out == (state->hook == NF_INET_LOCAL_OUT) &&
	      !memcmp(&sn->inject, t, sizeof(*t));
	spin_unlock_bh(&sn->inject_lock);
	return ret;
}

void sockmig_inject_begin(struct sock *sk, bool out)
{
	struct sockmig_net *sn = net_generic(sock_net(sk), sockmig_net_id);

	spin_lock_bh(&sn->inject_lock);
	sockmig_tuple_of(sk, &sn->inject);
	sn->inject_out = out;
	WRITE_ONCE(sn->injecting, true);
	spin_unlock_bh(&sn->inject_lock);
}

void sockmig_inject_end(struct sock *sk)
{
	struct sockmig_net *sn = net_generic(sock_net(sk), sockmig_net_id);

	spin_lock_bh(&sn->inject_lock);
	WRITE_ONCE(sn->injecting, false);
	spin_unlock_bh(&sn->inject_lock);
}

static unsigned int sockmig_nf_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct sockmig_net *sn = net_generic(state->net, sockmig_net_id);
	struct sockmig_tuple t;
	bool syn;

	if (!sockmig_parse(skb, state->pf, state->hook == NF_INET_LOCAL_OUT, &t, &syn))
		return NF_ACCEPT;
	if (sockmig_injected(sn, state, &t))
		return NF_ACCEPT;
	if (sockmig_frozen(sn, &t))
		return NF_DROP;
	if (syn && state->hook == NF_INET_LOCAL_IN && sockmig_frozen_wild(sn, &t))
		return NF_DROP;
	if (t.proto == IPPROTO_UDP && sockmig_frozen_wild(sn, &t))
		return NF_DROP;
	return NF_ACCEPT;
}

static const struct nf_hook_ops sockmig_nf_ops[] = {
	{
		.hook		= sockmig_nf_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= NF_IP_PRI_FIRST,
	},
	{
		.hook		= sockmig_nf_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP_PRI_FIRST,
	},
	{
		.hook		= sockmig_nf_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= NF_IP6_PRI_FIRST,
	},
	{
		.hook		= sockmig_nf_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP6_PRI_FIRST,
	},
};

/* -- tracked sockets ----------------------------------------------------- */

void sockmig_tuple_of(struct sock *sk, struct sockmig_tuple *t)
{
	memset(t, 0, sizeof(*t));
	ipv6_addr_set_v4mapped(sk->sk_rcv_saddr, &t->laddr);
	ipv6_addr_set_v4mapped(sk->sk_daddr, &t->raddr);
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		t->laddr = sk->sk_v6_rcv_saddr;
		t->raddr = sk->sk_v6_daddr;
	}
#endif
	t->lport = htons(sk->sk_num);
	t->rport = sk->sk_dport;
	t->proto = sk->sk_protocol;
}

struct sockmig_entry *sockmig_find_id(struct net *net, u32 id)
{
	struct sockmig_entry *e;

	lockdep_assert_held(&sockmig_lock);
	e = xa_load(&sockmig_ids, id);
	return e && net_eq(e->net, net) ? e : NULL;
}

struct sockmig_entry *sockmig_find_sk(struct sock *sk)
{
	struct sockmig_entry *e;
	unsigned long id;

	lockdep_assert_held(&sockmig_lock);
	xa_for_each(&sockmig_ids, id, e)
		if (e->sk == sk)
			return e;
	return NULL;
}

/* The dumped socket of this tuple in NET, if any. */
struct sockmig_entry *sockmig_find_dumped(struct net *net, const struct sockmig_tuple *t)
{
	struct sockmig_entry *e;
	unsigned long id;

	lockdep_assert_held(&sockmig_lock);
	xa_for_each(&sockmig_ids, id, e)
		if ((e->flags & CRAK_SOCK_F_DUMPED) && net_eq(e->net, net) &&
		    !memcmp(&e->tuple, t, sizeof(*t)))
			return e;
	return NULL;
}

struct sockmig_entry *sockmig_track(struct sock *sk, u32 flags)
{
	struct sockmig_entry *e;
	int err;

	lockdep_assert_held(&sockmig_lock);
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return ERR_PTR(-ENOMEM);
	err = xa_alloc(&sockmig_ids, &e->id, e, xa_limit_31b, GFP_KERNEL);
	if (err) {
		kfree(e);
		return ERR_PTR(err);
	}
	sock_hold(sk);
	e->sk = sk;
	e->net = sock_net(sk);
	e->flags = flags;
	atomic64_set(&e->dropped, 0);
	sockmig_tuple_of(sk, &e->tuple);
	return e;
}

static void sockmig_untrack(struct sockmig_entry *e)
{
	WARN_ON_ONCE(e->flags & CRAK_SOCK_F_FROZEN);
	if (e->flags & CRAK_SOCK_F_DUMPED)
		sockmig_dumped--;
	if (e->paused)
		sockmig_paused--;
	xa_erase(&sockmig_ids, e->id);
	sock_put(e->sk);
	kvfree(e->unsent);
	kvfree(e->dgrams);
	kfree_rcu(e, rcu);
}

void sockmig_set_dumped(struct sockmig_entry *e)
{
	lockdep_assert_held(&sockmig_lock);
	if (e->flags & CRAK_SOCK_F_DUMPED)
		return;
	e->flags |= CRAK_SOCK_F_DUMPED;
	if (!sockmig_dumped++)
		schedule_delayed_work(&sockmig_reaper, HZ);
}

static void sockmig_reap(struct work_struct *work)
{
	struct sockmig_entry *e;
	unsigned long id;

	mutex_lock(&sockmig_lock);
	xa_for_each(&sockmig_ids, id, e) {
		if ((e->flags & CRAK_SOCK_F_DUMPED) && sock_flag(e->sk, SOCK_DEAD)) {
			sockmig_notify(e, CRAK_SOCK_CMD_DROP);
			sockmig_drop(e);
		}
	}
	if (sockmig_dumped)
		schedule_delayed_work(&sockmig_reaper, HZ);
	mutex_unlock(&sockmig_lock);
}

static unsigned long sockmig_refresh_delay(void)
{
	return msecs_to_jiffies(max(READ_ONCE(pause_refresh_ms), 100U));
}

/*
 * Sends the peer of E a zero window (pause.c), and again while it is frozen;
 * once told, the peer waits until the thaw (a DUMP after a FREEZE, or a
 * FREEZE again, says nothing new).
 */
void sockmig_pause(struct sockmig_entry *e)
{
	lockdep_assert_held(&sockmig_lock);
	if (e->paused || !sockmig_send_pause(e->sk))
		return;
	e->paused = true;
	/*
	 * The first paused one sets the refresher's time: a run of it still
	 * pending from an earlier pause, which finds nothing, may be set for
	 * pause_refresh_ms as it was then.
	 */
	if (!sockmig_paused++)
		mod_delayed_work(system_wq, &sockmig_refresher, sockmig_refresh_delay());
}

static void sockmig_refresh(struct work_struct *work)
{
	struct sockmig_entry *e;
	unsigned long id;

	mutex_lock(&sockmig_lock);
	xa_for_each(&sockmig_ids, id, e) {
		if (e->paused && (e->flags & CRAK_SOCK_F_FROZEN) &&
		    !(e->flags & CRAK_SOCK_F_DUMPED))
			sockmig_send_pause(e->sk);
	}
	if (sockmig_paused)
		schedule_delayed_work(&sockmig_refresher, sockmig_refresh_delay());
	mutex_unlock(&sockmig_lock);
}

u32 sockmig_flags(struct sockmig_entry *e)
{
	u32 flags = e->flags;

	if (sock_flag(e->sk, SOCK_DEAD))
		flags |= CRAK_SOCK_F_CLOSED;
	return flags;
}

int sockmig_for_each(struct net *net, u32 from,
		     int (*fn)(struct sockmig_entry *e, void *arg), void *arg)
{
	struct sockmig_entry *e;
	unsigned long id;
	int err;

	lockdep_assert_held(&sockmig_lock);
	xa_for_each_start(&sockmig_ids, id, e, from) {
		if (!net_eq(e->net, net))
			continue;
		err = fn(e, arg);
		if (err)
			return err;
	}
	return 0;
}

int sockmig_freeze(struct sockmig_entry *e)
{
	struct sockmig_net *sn = net_generic(e->net, sockmig_net_id);
	int err;

	lockdep_assert_held(&sockmig_lock);
	if (e->flags & CRAK_SOCK_F_FROZEN)
		return 0;
	if (!sn->frozen) {
		err = nf_register_net_hooks(e->net, sockmig_nf_ops, ARRAY_SIZE(sockmig_nf_ops));
		if (err)
			return err;
	}
	sn->frozen++;
	hlist_add_head_rcu(&e->hnode, &sn->table[sockmig_hash(&e->tuple)]);
	e->flags |= CRAK_SOCK_F_FROZEN;
	e->frozen_seq = ++sockmig_frozen_seq;
	return 0;
}

/*
 * Once this returns, a packet that was past the hooks when @e froze is in
 * its socket (or the socket's backlog): what a dump reads is all there is.
 * One grace period settles every socket frozen before it began, so that a
 * checkpoint that freezes all of a process's sockets, then dumps each,
 * waits once (a restored socket, never dumped, never waits).
 */
void sockmig_settle(struct sockmig_entry *e)
{
	u64 last = sockmig_frozen_seq;

	lockdep_assert_held(&sockmig_lock);
	if (e->frozen_seq <= sockmig_settled_seq)
		return;
	synchronize_net();
	sockmig_settled_seq = last;
}

static void sockmig_unhook(struct sockmig_entry *e)
{
	struct sockmig_net *sn = net_generic(e->net, sockmig_net_id);

	if (!(e->flags & CRAK_SOCK_F_FROZEN))
		return;
	hlist_del_rcu(&e->hnode);
	e->flags &= ~CRAK_SOCK_F_FROZEN;
	if (!--sn->frozen)
		nf_unregister_net_hooks(e->net, sockmig_nf_ops, ARRAY_SIZE(sockmig_nf_ops));
}

int sockmig_tcp_setsockopt(struct sock *sk, int level, int optname, int val)
{
	return sk->sk_prot->setsockopt(sk, level, optname, KERNEL_SOCKPTR(&val), sizeof(val));
}

int sockmig_repair(struct sock *sk, int val)
{
	return sockmig_tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR, val);
}

/*
 * What was sent meanwhile went nowhere: retransmit it soon, not after the
 * backed-off timeout a long freeze left behind.  The timers a dump of E
 * stopped run again: the window probe for data still unsent, keepalive.
 */
static void sockmig_kick(struct sockmig_entry *e)
{
	struct sock *sk = e->sk;

	lock_sock(sk);
	if (sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN) {
		if (tcp_sk(sk)->packets_out)
			inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS, TCP_RTO_MIN,
						  TCP_RTO_MAX);
		else if (e->timers_stopped && tcp_send_head(sk))
			tcp_check_probe_timer(sk);
		if (e->timers_stopped && sock_flag(sk, SOCK_KEEPOPEN))
			inet_csk_reset_keepalive_timer(sk, keepalive_time_when(tcp_sk(sk)));
	}
	e->timers_stopped = false;
	release_sock(sk);
}

/* Lets the connection go on, and forgets it. */
int sockmig_thaw(struct sockmig_entry *e)
{
	struct sock *sk = e->sk;
	int err = 0;

	lockdep_assert_held(&sockmig_lock);
	if (sockmig_is_udp(sk)) {
		/*
		 * A dump called off: the datagrams it took go back, while
		 * the hooks still keep new ones out (they come after).
		 */
		if (!sock_flag(sk, SOCK_DEAD))
			sockmig_udp_put_back(e);
		sockmig_unhook(e);
		sockmig_untrack(e);
		return 0;
	}
	sockmig_unhook(e);
	if (e->flags & CRAK_SOCK_F_RESTORED) {
		/* Its image may come from a paused connection: no way to know. */
		err = sockmig_release_unsent(e);
		sockmig_resume(sk);
	} else if ((e->flags & CRAK_SOCK_F_REPAIR) && !sock_flag(sk, SOCK_DEAD)) {
		sockmig_urg_put_back(e);
		err = sockmig_repair(sk, TCP_REPAIR_OFF);
		sockmig_kick(e);
		if (e->paused)
			sockmig_resume(sk);
	} else if (!sock_flag(sk, SOCK_DEAD)) {
		sockmig_kick(e);
		if (e->paused)
			sockmig_resume(sk);
	}
	sockmig_untrack(e);
	return err;
}

/*
 * Ends the connection here without a word; its tuple stays frozen until
 * sockmig_forget() (a restore that supersedes it lets go of the tuple only
 * once the new socket has it, or an inbound segment in between would find
 * no socket and be answered with a reset).
 */
void sockmig_end(struct sockmig_entry *e)
{
	struct sock *sk = e->sk;

	lockdep_assert_held(&sockmig_lock);
	/*
	 * UDP says nothing to anyone either way.  A TCP socket in repair mode
	 * sends nothing: no FIN, no RST.  Neither does a listening socket,
	 * whose accept queue was empty at its dump and that no SYN reached
	 * since.
	 */
	if (sockmig_is_udp(sk)) {
		if (!sock_flag(sk, SOCK_DEAD))
			sockmig_udp_drop(sk);
	} else if (!sock_flag(sk, SOCK_DEAD) && sk->sk_state != TCP_CLOSE &&
	    (sk->sk_state == TCP_LISTEN || tcp_sk(sk)->repair ||
	     !sockmig_repair(sk, TCP_REPAIR_ON))) {
		lock_sock(sk);
		/*
		 * (Its owner's close() may have destroyed it meanwhile.)  A
		 * thread of its owner's waiting in it sees the disconnect.
		 */
		if (!sock_flag(sk, SOCK_DEAD) && sk->sk_state != TCP_CLOSE) {
			sk->sk_disconnects++;
			tcp_disconnect(sk, 0);
		}
		release_sock(sk);
	}
}

void sockmig_forget(struct sockmig_entry *e)
{
	lockdep_assert_held(&sockmig_lock);
	sockmig_unhook(e);
	sockmig_untrack(e);
}

/* Ends the connection here without a word, and forgets it. */
void sockmig_drop(struct sockmig_entry *e)
{
	sockmig_end(e);
	sockmig_forget(e);
}

/* -- namespaces and the module ------------------------------------------- */

static int __net_init sockmig_net_init(struct net *net)
{
	struct sockmig_net *sn = net_generic(net, sockmig_net_id);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sn->table); i++)
		INIT_HLIST_HEAD(&sn->table[i]);
	sn->frozen = 0;
	spin_lock_init(&sn->inject_lock);
	sn->injecting = false;
	sn->inject_out = false;
	return 0;
}

static void __net_exit sockmig_net_exit(struct net *net)
{
	struct sockmig_net *sn = net_generic(net, sockmig_net_id);

	/* A tracked socket holds its namespace: none can be left. */
	WARN_ON_ONCE(sn->frozen);
}

static struct pernet_operations sockmig_net_ops = {
	.init	= sockmig_net_init,
	.exit	= sockmig_net_exit,
	.id	= &sockmig_net_id,
	.size	= sizeof(struct sockmig_net),
};

static int __init sockmig_module_init(void)
{
	int err;

	err = register_pernet_subsys(&sockmig_net_ops);
	if (err)
		return err;
	err = sockmig_genl_init();
	if (err)
		goto err_pernet;
	return 0;

err_pernet:
	unregister_pernet_subsys(&sockmig_net_ops);
	return err;
}

static void __exit sockmig_module_exit(void)
{
	struct sockmig_entry *e;
	unsigned long id;

	sockmig_genl_exit();
	cancel_delayed_work_sync(&sockmig_reaper);
	cancel_delayed_work_sync(&sockmig_refresher);

	/* A dumped connection lives on elsewhere: end it here silently.  The
	 * others carry on as if thawed.
	 */
	mutex_lock(&sockmig_lock);
	xa_for_each(&sockmig_ids, id, e) {
		if (e->flags & CRAK_SOCK_F_DUMPED)
			sockmig_drop(e);
		else
			sockmig_thaw(e);
	}
	mutex_unlock(&sockmig_lock);
	rcu_barrier();
	unregister_pernet_subsys(&sockmig_net_ops);
}

module_init(sockmig_module_init);
module_exit(sockmig_module_exit);

MODULE_DESCRIPTION("crak: freeze one TCP connection or UDP socket, take its state out, re-home it");
MODULE_LICENSE("GPL");
MODULE_ALIAS_GENL_FAMILY(CRAK_SOCK_FAMILY_NAME);
