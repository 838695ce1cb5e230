// SPDX-License-Identifier: GPL-2.0
/*
 * crak_sockmig: UDP sockets.
 *
 * A UDP socket has no sequence space to repair: what moves is its binding,
 * its remote end if connected, its options, and the datagrams queued for
 * its owner to read.  A dump takes those out of the socket as its owner
 * would read them (__skb_recv_udp(), skb_consume_udp()), keeping their
 * source and destination, so that the owner cannot read them again while
 * the socket waits; the entry keeps them, and a thaw that calls the dump
 * off puts them back.  A restore queues each one again as the stack would
 * have (__udp_enqueue_schedule_skb()), its headers rebuilt in the headroom
 * where recvmsg() looks for the addresses.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/udp.h>

#include "crak_compat.h"
#include "sockmig.h"

/* The largest datagram a socket can have queued. */
#define SOCKMIG_DGRAM_MAX	(64 * 1024)

bool sockmig_is_udp(const struct sock *sk)
{
	return sk->sk_type == SOCK_DGRAM && sk->sk_protocol == IPPROTO_UDP;
}

/* -- taking the queue out ------------------------------------------------- */

/* Appends SKB, as a struct crak_sock_dgram and its data, to *BUF. */
static int sockmig_udp_take(struct sk_buff *skb, u8 **buf, u32 *len, u32 *cap)
{
	struct crak_sock_dgram d = {};
	u32 need = sizeof(d) + ALIGN(skb->len, 8);
	u8 *p;

	if (skb->len > SOCKMIG_DGRAM_MAX || *len + need > CRAK_SOCK_IMAGE_MAX / 2)
		return -EFBIG;
	if (*len + need > *cap) {
		u32 cap2 = max(*cap * 2, *len + need);

		/* kvrealloc() changed its arguments in 6.12: by hand. */
		p = kvmalloc(cap2, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		if (*buf)
			memcpy(p, *buf, *len);
		kvfree(*buf);
		*buf = p;
		*cap = cap2;
	}
	p = *buf + *len;
	d.len = cpu_to_le32(skb->len);
	d.sport = udp_hdr(skb)->source;
	if (skb->protocol == htons(ETH_P_IP)) {
		d.family = cpu_to_le16(AF_INET);
		memcpy(d.saddr, &ip_hdr(skb)->saddr, 4);
		memcpy(d.daddr, &ip_hdr(skb)->daddr, 4);
	} else {
		d.family = cpu_to_le16(AF_INET6);
		memcpy(d.saddr, &ipv6_hdr(skb)->saddr, 16);
		memcpy(d.daddr, &ipv6_hdr(skb)->daddr, 16);
	}
	memcpy(p, &d, sizeof(d));
	memset(p + sizeof(d), 0, ALIGN(skb->len, 8));
	if (skb_copy_bits(skb, 0, p + sizeof(d), skb->len))
		return -EFAULT;
	*len += need;
	return 0;
}

/*
 * Takes every datagram queued on SK out of it, into a new buffer of
 * struct crak_sock_dgram (kvfree it); a datagram whose checksum fails is
 * dropped, as recvmsg() would.
 */
static int sockmig_udp_drain(struct sock *sk, u8 **bufp, u32 *lenp)
{
	u32 len = 0, cap = 0;
	struct sk_buff *skb;
	u8 *buf = NULL;
	int off, err = 0;

	for (;;) {
		off = 0;
		skb = __skb_recv_udp(sk, MSG_DONTWAIT, &off, &err);
		if (!skb) {
			err = err == -EAGAIN ? 0 : err;
			break;
		}
		if (!udp_skb_csum_unnecessary(skb) && __skb_checksum_complete(skb)) {
			skb_consume_udp(sk, skb, 0);
			continue;
		}
		err = sockmig_udp_take(skb, &buf, &len, &cap);
		skb_consume_udp(sk, skb, 0);
		if (err)
			break;
	}
	if (err) {
		kvfree(buf);
		return err;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* -- putting a queue in --------------------------------------------------- */

static struct sk_buff *sockmig_udp_skb(struct sock *sk, const struct crak_sock_dgram *d,
				       const u8 *data)
{
	u32 len = le32_to_cpu(d->len);
	bool v4 = le16_to_cpu(d->family) == AF_INET;
	u32 hlen = (v4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) + sizeof(struct udphdr);
	struct sk_buff *skb;
	struct udphdr *uh;

	skb = alloc_skb(hlen + len, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, hlen);
	skb_put_data(skb, data, len);
	uh = skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh->source = d->sport;
	uh->dest = htons(sk->sk_num);
	uh->len = htons(sizeof(*uh) + len);
	uh->check = 0;
	if (v4) {
		struct iphdr *iph = skb_push(skb, sizeof(*iph));

		skb_reset_network_header(skb);
		memset(iph, 0, sizeof(*iph));
		iph->version = 4;
		iph->ihl = sizeof(*iph) / 4;
		iph->ttl = 64;
		iph->protocol = IPPROTO_UDP;
		iph->tot_len = htons(hlen + len);
		memcpy(&iph->saddr, d->saddr, 4);
		memcpy(&iph->daddr, d->daddr, 4);
		skb->protocol = htons(ETH_P_IP);
	} else {
		struct ipv6hdr *ip6h = skb_push(skb, sizeof(*ip6h));

		skb_reset_network_header(skb);
		memset(ip6h, 0, sizeof(*ip6h));
		ip6h->version = 6;
		ip6h->hop_limit = 64;
		ip6h->nexthdr = IPPROTO_UDP;
		ip6h->payload_len = htons(sizeof(*uh) + len);
		memcpy(&ip6h->saddr, d->saddr, 16);
		memcpy(&ip6h->daddr, d->daddr, 16);
		skb->protocol = htons(ETH_P_IPV6);
	}
	/* recvmsg() finds the data where the stack leaves it: past the headers. */
	__skb_pull(skb, hlen);
	memset(skb->cb, 0, sizeof(skb->cb));
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	return skb;
}

/* Checks a run of struct crak_sock_dgram of LEN bytes; returns their count. */
int sockmig_udp_dgrams_check(const u8 *buf, u32 len, u32 *bytes)
{
	const struct crak_sock_dgram *d;
	u32 off = 0, n = 0, dlen;
	u16 family;

	*bytes = 0;
	while (off < len) {
		if (len - off < sizeof(*d))
			return -EINVAL;
		d = (const void *)(buf + off);
		dlen = le32_to_cpu(d->len);
		family = le16_to_cpu(d->family);
		if (dlen > SOCKMIG_DGRAM_MAX || ALIGN(dlen, 8) > len - off - sizeof(*d) ||
		    (family != AF_INET && family != AF_INET6))
			return -EINVAL;
		off += sizeof(*d) + ALIGN(dlen, 8);
		*bytes += dlen;
		n++;
	}
	return n;
}

/* Queues the datagrams of BUF (checked) on SK, in order, for its owner. */
int sockmig_udp_refill(struct sock *sk, const u8 *buf, u32 len)
{
	const struct crak_sock_dgram *d;
	struct sk_buff *skb;
	u32 off = 0;
	int err;

	while (off < len) {
		d = (const void *)(buf + off);
		skb = sockmig_udp_skb(sk, d, buf + off + sizeof(*d));
		if (!skb)
			return -ENOMEM;
		/* The receive path's own enqueue: it runs in softirq context. */
		local_bh_disable();
		err = __udp_enqueue_schedule_skb(sk, skb);
		local_bh_enable();
		if (err) {
			kfree_skb(skb);
			return err;
		}
		off += sizeof(*d) + ALIGN(le32_to_cpu(d->len), 8);
	}
	return 0;
}

/* -- dump ----------------------------------------------------------------- */

/*
 * The frozen socket's image: SOCK, UDP, DGRAMS.  Its queue is taken out and
 * kept in the entry until a thaw puts it back or a drop lets it go.
 */
int sockmig_udp_dump(struct sockmig_entry *e, struct file *out, u64 *bytes,
		     struct netlink_ext_ack *extack)
{
	struct crak_sock_rec_udp ru = {};
	struct crak_sock_rec_sock rs = {};
	struct sock *sk = e->sk;
	u32 len, qlen;
	u8 *q, *buf, *p;
	int err;

	if (!sk->sk_num) {
		NL_SET_ERR_MSG(extack, "the UDP socket is not bound");
		return -EINVAL;
	}
	lock_sock(sk);
	sockmig_read_sock(sk, &rs);
	if (crak_udp_corked(sk) || udp_sk(sk)->pending) {
		release_sock(sk);
		NL_SET_ERR_MSG(extack, "the UDP socket is corked with data: uncork it first");
		return -EBUSY;
	}
	release_sock(sk);

	/* A dump again (after a failed one) writes what the entry holds. */
	if (!e->dgrams) {
		err = sockmig_udp_drain(sk, &e->dgrams, &e->dgrams_len);
		if (err) {
			NL_SET_ERR_MSG(extack, "cannot take the socket's datagrams");
			return err;
		}
		/* An empty queue: a NULL buffer, which a dump again takes for none. */
	}
	q = e->dgrams;
	qlen = e->dgrams_len;

	len = sizeof(struct crak_sock_image) + 3 * sizeof(struct crak_sock_record) +
	      ALIGN(sizeof(rs), 8) + ALIGN(sizeof(ru), 8) + qlen;
	if (len > CRAK_SOCK_IMAGE_MAX) {
		NL_SET_ERR_MSG(extack, "the socket's datagrams are too large for an image");
		return -EFBIG;
	}
	buf = kvzalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = sockmig_put_rec(buf + sizeof(struct crak_sock_image), CRAK_SOCK_REC_SOCK,
			    &rs, sizeof(rs));
	p = sockmig_put_rec(p, CRAK_SOCK_REC_UDP, &ru, sizeof(ru));
	p = sockmig_put_rec(p, CRAK_SOCK_REC_DGRAMS, q, qlen);
	err = sockmig_emit(out, buf, p, bytes, extack);
	kvfree(buf);
	return err;
}

/* A thaw calls the dump off: the datagrams go back, before any new one. */
void sockmig_udp_put_back(struct sockmig_entry *e)
{
	if (!e->dgrams)
		return;
	if (sockmig_udp_refill(e->sk, e->dgrams, e->dgrams_len))
		pr_warn_ratelimited("datagrams of a thawed socket could not be queued again\n");
	kvfree(e->dgrams);
	e->dgrams = NULL;
	e->dgrams_len = 0;
}

/*
 * Ends a dumped UDP socket here: it leaves its port (a restore may take it)
 * and its owner reads end of file.  UDP says nothing to anyone doing it.
 */
void sockmig_udp_drop(struct sock *sk)
{
	lock_sock(sk);
	if (sk->sk_prot->unhash)
		sk->sk_prot->unhash(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	release_sock(sk);
	sk->sk_state_change(sk);
}

/* -- restore -------------------------------------------------------------- */

/* Binds (and connects) a new UDP socket as the image says, and refills it. */
int sockmig_udp_rebuild(struct socket *sock, const struct crak_sock_rec_sock *rs,
			const u8 *dgrams, u32 dgrams_len, struct netlink_ext_ack *extack)
{
	struct sockaddr_storage ss;
	int err, len;

	err = sockmig_bind(sock, rs, extack);
	if (err)
		return err;
	if (rs->state == TCP_ESTABLISHED) {
		len = sockmig_sockaddr(rs, false, &ss);
		err = kernel_connect(sock, (struct sockaddr *)&ss, len, 0);
		if (err) {
			NL_SET_ERR_MSG(extack, "cannot connect the restored UDP socket");
			return err;
		}
	}
	err = sockmig_udp_refill(sock->sk, dgrams, dgrams_len);
	if (err)
		NL_SET_ERR_MSG(extack, "cannot queue the socket's datagrams again");
	return err;
}
