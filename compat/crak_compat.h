/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where crak's kernel code bends to the kernel it is built
 * for.  Every difference is probed from the kernel's headers by
 * compat/probe.sh at build time (see the top-level Kbuild), not guessed from
 * LINUX_VERSION_CODE: Debian's 6.1 carries many backports.
 */

#ifndef _CRAK_COMPAT_H
#define _CRAK_COMPAT_H

#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/rseq.h>
#include <linux/sched/coredump.h>
#include <linux/udp.h>
#include <linux/ipv6.h>
#include <net/genetlink.h>
#include <net/tcp.h>

#include "crak_probed.h"

/* 6.5 moved the GSO helpers out of netdevice.h. */
#ifdef CRAK_HAVE_NET_GSO_H
#include <net/gso.h>
#endif

/* 6.12 turned NETIF_F_LLTX into a net_device bit. */
static inline void crak_set_lltx(struct net_device *dev)
{
#ifdef CRAK_HAVE_DEV_LLTX
	dev->lltx = true;
#else
	dev->features |= NETIF_F_LLTX;
#endif
}

/* 6.3 made a capability set one u64, from two u32s. */
static inline u64 crak_cap_to_u64(kernel_cap_t c)
{
#ifdef CRAK_HAVE_KERNEL_CAP_U64
	return c.val;
#else
	return c.cap[0] | (u64)c.cap[1] << 32;
#endif
}

static inline kernel_cap_t crak_cap_from_u64(u64 v)
{
	kernel_cap_t c;

#ifdef CRAK_HAVE_KERNEL_CAP_U64
	c.val = v;
#else
	c.cap[0] = lower_32_bits(v);
	c.cap[1] = upper_32_bits(v);
#endif
	return c;
}

/* 6.3 made a VMA's flags writable only through vm_flags_set() (mmap lock held). */
static inline void crak_vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
#ifdef CRAK_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * 6.4 let a process have KSM merge all it maps (PR_SET_MEMORY_MERGE): the
 * mm's MMF_VM_MERGE_ANY, which mmap(2) reads to make each new mapping
 * mergeable.  Not there, or no KSM: no process has it, none is given it.
 */
#if defined(MMF_VM_MERGE_ANY) && IS_ENABLED(CONFIG_KSM)
#define CRAK_HAVE_MERGE_ANY	1
#else
#define CRAK_HAVE_MERGE_ANY	0
#endif

static inline bool crak_mm_merge_any(struct mm_struct *mm)
{
#if CRAK_HAVE_MERGE_ANY
	return test_bit(MMF_VM_MERGE_ANY, &mm->flags);
#else
	return false;
#endif
}

static inline void crak_mm_assign_merge_any(struct mm_struct *mm, bool on)
{
#if CRAK_HAVE_MERGE_ANY
	assign_bit(MMF_VM_MERGE_ANY, &mm->flags, on);
#endif
}

/* 6.2 moved a dump's parsed request into a struct genl_info. */
static inline struct nlattr **crak_genl_dump_attrs(struct netlink_callback *cb)
{
#ifdef CRAK_HAVE_GENL_DUMPIT_INFO_INFO
	return genl_dumpit_info(cb)->info.attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/*
 * 6.7 gave TCP a microsecond timestamp clock per socket, and the low bit of
 * TCP_TIMESTAMP's value says which clock it is.  crak's images carry the
 * millisecond clock only.
 */
static inline u32 crak_tcp_ts_get(const struct tcp_sock *tp)
{
#ifdef CRAK_HAVE_TCP_CLOCK_TS
	return tcp_clock_ts(tp->tcp_usec_ts) + READ_ONCE(tp->tsoffset);
#else
	return tcp_time_stamp_raw() + READ_ONCE(tp->tsoffset);
#endif
}

static inline bool crak_tcp_usec_ts(const struct tcp_sock *tp)
{
#ifdef CRAK_HAVE_TCP_CLOCK_TS
	return tp->tcp_usec_ts;
#else
	return false;
#endif
}

/*
 * The socket's ACK of everything it received, with its window, stamped now
 * (what tcp_mstamp_refresh(), not exported, does first: an idle socket's
 * clock is as old as its last segment, and the peer's PAWS check would
 * drop an ACK whose timestamp is behind one it has seen).
 */
static inline void crak_tcp_send_ack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->tcp_clock_cache = tcp_clock_ns();
	tp->tcp_mstamp = div_u64(tp->tcp_clock_cache, NSEC_PER_USEC);
#ifdef CRAK_HAVE_TCP_SEND_ACK_FLAGS
	__tcp_send_ack(sk, tcp_sk(sk)->rcv_nxt, 0);
#else
	__tcp_send_ack(sk, tcp_sk(sk)->rcv_nxt);
#endif
}

/* TCP_TIMESTAMP's value for a millisecond clock at TS: never behind TS,
 * which the peer's PAWS check would reject.
 */
static inline int crak_tcp_ts_set_val(u32 ts)
{
#ifdef CRAK_HAVE_TCP_CLOCK_TS
	return (ts + 1) & ~1U;
#else
	return ts;
#endif
}

static inline u8 crak_ipv6_tclass(struct sock *sk)
{
	return inet6_sk(sk)->tclass;
}

static inline u8 crak_ipv6_hop_limit(struct sock *sk)
{
	int hops = inet6_sk(sk)->hop_limit;

	return hops < 0 ? 0 : hops;
}

/* 6.6 turned the UDP socket's flags into bits. */
static inline bool crak_udp_corked(struct sock *sk)
{
#ifdef CRAK_HAVE_UDP_TEST_BIT
	return udp_test_bit(CORK, sk);
#else
	return udp_sk(sk)->corkflag;
#endif
}

/*
 * udp4_lib_lookup() and udp6_lib_lookup() are built and exported only with
 * netfilter's socket lookup or TPROXY (Debian has both).  Without them, a
 * UDP socket can still be named by its owner's fd, not by its tuple.
 */
#define CRAK_HAVE_UDP4_LOOKUP \
	(IS_ENABLED(CONFIG_NF_TPROXY_IPV4) || IS_ENABLED(CONFIG_NF_SOCKET_IPV4))
#define CRAK_HAVE_UDP6_LOOKUP \
	(IS_ENABLED(CONFIG_NF_TPROXY_IPV6) || IS_ENABLED(CONFIG_NF_SOCKET_IPV6))

/* 6.5 dropped get_user_pages_remote()'s vmas argument. */
static inline long crak_gup_remote(struct mm_struct *mm, unsigned long start,
				   unsigned long nr_pages, unsigned int gup_flags,
				   struct page **pages)
{
#ifdef CRAK_HAVE_GUP_REMOTE_VMAS
	return get_user_pages_remote(mm, start, nr_pages, gup_flags, pages, NULL, NULL);
#else
	return get_user_pages_remote(mm, start, nr_pages, gup_flags, pages, NULL);
#endif
}

/*
 * A thread's rseq registration.  There is no exported way to register one
 * for a thread: a restored thread gets the one it had, as rseq(2) sets it,
 * on its own task, and the kernel refreshes the area on its way out.
 */
static inline void crak_task_rseq(struct task_struct *t, u64 *rseq, u32 *len, u32 *sig)
{
#ifdef CONFIG_RSEQ
	*rseq = (unsigned long)t->rseq;
#ifdef CRAK_HAVE_TASK_RSEQ_LEN
	*len = t->rseq_len;
#else
	*len = t->rseq ? 32 : 0;
#endif
	*sig = t->rseq_sig;
#else
	*rseq = 0;
	*len = 0;
	*sig = 0;
#endif
}

static inline void crak_task_rseq_set(struct task_struct *t, u64 rseq, u32 len, u32 sig)
{
#ifdef CONFIG_RSEQ
	if (WARN_ON_ONCE(t != current))
		return;
	/*
	 * None (or none usable): none, as rseq(2) unregisters, rather than
	 * the one the restarter's clone kept, at an address that is the
	 * restored program's memory now.
	 */
	if (!rseq || len < 32 || !IS_ALIGNED(rseq, 32)) {
		rseq = 0;
		len = 0;
		sig = 0;
	}
	t->rseq = (struct rseq __user *)(unsigned long)rseq;
#ifdef CRAK_HAVE_TASK_RSEQ_LEN
	t->rseq_len = len;
#endif
	t->rseq_sig = sig;
	rseq_set_notify_resume(t);
#endif
}

/* A process's kernel-made worker thread (vhost's; io_uring's are PF_IO_WORKER), from 6.4. */
#ifdef PF_USER_WORKER
#define CRAK_PF_USER_WORKER	PF_USER_WORKER
#else
#define CRAK_PF_USER_WORKER	0
#endif

/* Each POSIX timer of a process (struct k_itimer, under its siglock). */
#ifdef CRAK_HAVE_POSIX_TIMERS_HLIST
#define crak_for_each_posix_timer(timr, sig) \
	hlist_for_each_entry(timr, &(sig)->posix_timers, list)
#else
#define crak_for_each_posix_timer(timr, sig) \
	list_for_each_entry(timr, &(sig)->posix_timers, list)
#endif

#endif /* _CRAK_COMPAT_H */
