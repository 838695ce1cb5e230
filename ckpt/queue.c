// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: the marks a unix datagram socket's queue keeps of what was
 * peeked.
 *
 * A datagram of no bytes, once a peek has shown it, is marked
 * (skb->peeked), and a peek whose peek offset (SO_PEEK_OFF) comes to it
 * passes over it if marked: the tool, which reads a queue so, would not see
 * one the process had peeked, and marks the ones it sees.  PEEKED takes the
 * marks off and says where they were, then puts them back as they were
 * once the tool has read the queue.  It needs CAP_CHECKPOINT_RESTORE or
 * CAP_SYS_ADMIN over the socket's network namespace.
 *
 * The socket's reading lock (iolock), which every reader of a unix
 * datagram or seqpacket socket holds while it holds a datagram it
 * peeked, keeps readers out; the queue's lock, under which a peek marks a
 * datagram, keeps the queue still and the marks' byte of the sk_buff (the
 * other bits of which nobody writes on a queued datagram) to one writer.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <net/af_unix.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "ckpt.h"

/*
 * Whether WANT[NR] (ascending positions) names datagrams of no bytes in
 * QUEUE, and, with COUNT, no more than CRAK_CKPT_PEEKED_MAX are marked.
 * The queue's lock held.
 */
static int ckpt_peeked_check(struct sk_buff_head *queue, const u32 *want, u32 nr,
			     bool count, struct netlink_ext_ack *extack)
{
	struct sk_buff *skb;
	u32 i = 0, w = 0, marked = 0;
	bool mark;

	skb_queue_walk(queue, skb) {
		mark = w < nr && want[w] == i;
		if (mark && skb->len) {
			NL_SET_ERR_MSG(extack, "a datagram named is not empty");
			return -EINVAL;
		}
		/* (A reader holds none: the socket's iolock is ours.) */
		if (mark != skb->peeked && skb_shared(skb)) {
			NL_SET_ERR_MSG(extack, "a datagram of the queue is held");
			return -EBUSY;
		}
		marked += skb->peeked;
		w += mark;
		i++;
	}
	if (w < nr) {
		NL_SET_ERR_MSG(extack, "a datagram named is not in the queue");
		return -EINVAL;
	}
	if (count && marked > CRAK_CKPT_PEEKED_MAX) {
		NL_SET_ERR_MSG(extack, "too many datagrams of the queue peeked");
		return -E2BIG;
	}
	return 0;
}

/*
 * Sets the marks as ckpt_peeked_check() allowed; OLD, if not NULL, gets
 * those that were set, and the number of them is returned.
 */
static u32 ckpt_peeked_set(struct sk_buff_head *queue, const u32 *want, u32 nr,
			   u32 *old)
{
	struct sk_buff *skb;
	u32 i = 0, w = 0, nr_old = 0;
	bool mark;

	skb_queue_walk(queue, skb) {
		mark = w < nr && want[w] == i;
		if (skb->peeked && old)
			old[nr_old++] = i;
		if (skb->peeked != mark)
			skb->peeked = mark;
		w += mark;
		i++;
	}
	return nr_old;
}

/*
 * Sets the marks of the queue of unix socket FD (the caller's) to the
 * positions WANT[NR] (ascending); OLD, if not NULL (room for
 * CRAK_CKPT_PEEKED_MAX), gets those that were set, and QUEUED the length
 * of the queue.  The number of those, or an error, with nothing changed.
 */
int ckpt_peeked(const struct sk_buff *skb, int fd, const u32 *want, u32 nr, u32 *old,
		u32 *queued, struct netlink_ext_ack *extack)
{
	struct sk_buff_head *queue;
	struct socket *sock;
	unsigned long flags;
	struct sock *sk;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (!sock) {
		NL_SET_ERR_MSG(extack, "no socket at the descriptor");
		return err;
	}
	sk = sock->sk;
	err = -EINVAL;
	if (!sk || sk->sk_family != AF_UNIX ||
	    (sock->type != SOCK_DGRAM && sock->type != SOCK_SEQPACKET)) {
		NL_SET_ERR_MSG(extack, "not a unix datagram or seqpacket socket");
		goto out;
	}
	err = -EPERM;
	if (!ckpt_capable(skb, sock_net(sk)->user_ns)) {
		NL_SET_ERR_MSG(extack, "needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN");
		goto out;
	}
	err = -EINVAL;
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN) {
		NL_SET_ERR_MSG(extack, "a listening socket queues no datagrams");
		goto out;
	}
	err = mutex_lock_interruptible(&unix_sk(sk)->iolock);
	if (err)
		goto out;
	queue = &sk->sk_receive_queue;
	spin_lock_irqsave(&queue->lock, flags);
	err = ckpt_peeked_check(queue, want, nr, !!old, extack);
	if (!err) {
		err = ckpt_peeked_set(queue, want, nr, old);
		if (queued)
			*queued = skb_queue_len(queue);
	}
	spin_unlock_irqrestore(&queue->lock, flags);
	mutex_unlock(&unix_sk(sk)->iolock);
out:
	sockfd_put(sock);
	return err;
}
