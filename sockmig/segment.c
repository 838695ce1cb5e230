// SPDX-License-Identifier: GPL-2.0
/*
 * crak_sockmig: segments the module sends in a connection's name.
 *
 * Two kinds, both bare TCP headers sent through a raw socket of the
 * connection's namespace while the hooks let that one tuple by
 * (sockmig_inject_begin()):
 *   - from the peer to the socket (fin.c): addressed to the local address,
 *     the loopback delivers them as if from the wire;
 *   - from the socket to its peer (pause.c): the ACK the socket would send,
 *     routed like its own segments.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "sockmig.h"

#define SOCKMIG_TS_LEN	TCPOLEN_TSTAMP_ALIGNED

int sockmig_send_seg(struct sock *sk, const struct sockmig_seg *seg)
{
	bool v4 = sk->sk_family == AF_INET || ipv6_addr_v4mapped(&sk->sk_v6_daddr);
	u8 buf[sizeof(struct ipv6hdr) + sizeof(struct tcphdr) + SOCKMIG_TS_LEN] = {};
	unsigned int thlen = sizeof(struct tcphdr) + (seg->ts ? SOCKMIG_TS_LEN : 0);
	struct sockaddr_storage ss = {};
	struct msghdr msg = { .msg_name = &ss };
	struct socket *raw;
	struct tcphdr *th;
	struct kvec kv;
	__wsum csum;
	int err;

	if (v4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		struct iphdr *iph = (struct iphdr *)buf;

		iph->version = 4;
		iph->ihl = 5;
		iph->ttl = 64;
		iph->protocol = IPPROTO_TCP;
		iph->tot_len = htons(sizeof(*iph) + thlen);
		iph->saddr = seg->out ? sk->sk_rcv_saddr : sk->sk_daddr;
		iph->daddr = seg->out ? sk->sk_daddr : sk->sk_rcv_saddr;
		th = (struct tcphdr *)(iph + 1);
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = iph->daddr;
		msg.msg_namelen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		struct ipv6hdr *ip6h = (struct ipv6hdr *)buf;

		ip6h->version = 6;
		ip6h->payload_len = htons(thlen);
		ip6h->nexthdr = IPPROTO_TCP;
		ip6h->hop_limit = 64;
		ip6h->saddr = seg->out ? sk->sk_v6_rcv_saddr : sk->sk_v6_daddr;
		ip6h->daddr = seg->out ? sk->sk_v6_daddr : sk->sk_v6_rcv_saddr;
		th = (struct tcphdr *)(ip6h + 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = ip6h->daddr;
		sin6->sin6_scope_id = sk->sk_bound_dev_if;
		msg.msg_namelen = sizeof(*sin6);
	}
	th->source = seg->out ? htons(sk->sk_num) : sk->sk_dport;
	th->dest = seg->out ? sk->sk_dport : htons(sk->sk_num);
	th->seq = htonl(seg->seq);
	th->ack_seq = htonl(seg->ack);
	th->doff = thlen / 4;
	th->ack = 1;
	th->fin = seg->fin;
	th->window = htons(seg->win);
	if (seg->ts) {
		__be32 *opt = (__be32 *)(th + 1);

		*opt++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP);
		*opt++ = htonl(seg->tsval);
		*opt = htonl(seg->tsecr);
	}
	csum = csum_partial(th, thlen, 0);
	if (v4) {
		const struct iphdr *iph = (const struct iphdr *)buf;

		th->check = csum_tcpudp_magic(iph->saddr, iph->daddr, thlen, IPPROTO_TCP, csum);
	} else {
		const struct ipv6hdr *ip6h = (const struct ipv6hdr *)buf;

		th->check = csum_ipv6_magic(&ip6h->saddr, &ip6h->daddr, thlen, IPPROTO_TCP, csum);
	}

	err = sock_create_kern(sock_net(sk), v4 ? AF_INET : AF_INET6, SOCK_RAW, IPPROTO_RAW,
			       &raw);
	if (err)
		return err;
	/* Routed as the connection's own segments are. */
	if (seg->out) {
		sock_set_mark(raw->sk, READ_ONCE(sk->sk_mark));
		if (sk->sk_bound_dev_if) {
			err = sock_bindtoindex(raw->sk, sk->sk_bound_dev_if, false);
			if (err)
				goto out;
		}
	}
	kv.iov_base = buf;
	kv.iov_len = (u8 *)th + thlen - buf;
	err = kernel_sendmsg(raw, &msg, &kv, 1, kv.iov_len);
out:
	sock_release(raw);
	return err < 0 ? err : 0;
}
