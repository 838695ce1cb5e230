// SPDX-License-Identifier: GPL-2.0
/*
 * crak_vif: freezing.  The rules (the whole device, frozen flows), the held
 * queues, thaw, export and import.
 *
 * Everything here runs under vif->lock except the delivery of released
 * frames.  The receive path looks at vif->hold without the lock and comes
 * here only when some bit is set; it then decides under the lock, so a rule
 * never changes under a decision.
 *
 * Order.  A thaw takes the frames no rule holds any more out of the queues
 * and delivers them synchronously (netif_receive_skb() with BH off), so that
 * each has been through the stack before the next.  While it does, the DRAIN
 * bit makes every new frame queue up behind them; the thaw delivers those
 * too, and clears DRAIN under the lock once nothing is left to deliver.  No
 * frame overtakes a held one.
 */

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/timekeeping.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/ndisc.h>

#include "crak_compat.h"
#include "crakvif.h"

/* Where an IP frame goes, as the device sees it. */
struct crakvif_tuple {
	u8 proto;
	u8 family;
	bool frag;			/* a later fragment: no ports */
	__be16 lport;
	__be16 rport;
	struct in6_addr laddr;
	struct in6_addr raddr;
};

struct netlink_range_validation crakvif_limit_packets = {
	.min = 1,
	.max = CRAK_VIF_MAX_LIMIT_PACKETS,
};

struct netlink_range_validation crakvif_limit_bytes = {
	.min = ETH_ZLEN,
	.max = CRAK_VIF_MAX_LIMIT_BYTES,
};

static void crakvif_overflow_work(struct work_struct *work)
{
	struct crakvif *vif = container_of(work, struct crakvif, overflow_work);
	u32 packets, bytes;

	spin_lock_bh(&vif->lock);
	packets = skb_queue_len(&vif->held) + skb_queue_len(&vif->imported);
	bytes = vif->queued_bytes;
	spin_unlock_bh(&vif->lock);
	crakvif_notify(vif, CRAK_VIF_CMD_OVERFLOW_NTF, NULL, packets, bytes, GFP_KERNEL);
}

void crakvif_hold_init(struct crakvif *vif)
{
	int i;

	spin_lock_init(&vif->lock);
	for (i = 0; i < ARRAY_SIZE(vif->flows); i++)
		INIT_HLIST_HEAD(&vif->flows[i]);
	INIT_HLIST_HEAD(&vif->wild_flows);
	__skb_queue_head_init(&vif->held);
	__skb_queue_head_init(&vif->imported);
	vif->limit_packets = CRAK_VIF_DEFAULT_LIMIT_PACKETS;
	vif->limit_bytes = CRAK_VIF_DEFAULT_LIMIT_BYTES;
	vif->next_seq = 1;
	atomic64_set(&vif->tx_frozen, 0);
	INIT_HLIST_NODE(&vif->mac_node);
	mutex_init(&vif->ctl);
	INIT_WORK(&vif->overflow_work, crakvif_overflow_work);
}

static unsigned int crakvif_queued(const struct crakvif *vif)
{
	return skb_queue_len(&vif->held) + skb_queue_len(&vif->imported);
}

static unsigned int crakvif_frame_len(const struct sk_buff *skb)
{
	return skb->len + ETH_HLEN;
}

static void crakvif_unlink(struct crakvif *vif, struct sk_buff *skb, struct sk_buff_head *from,
			   struct sk_buff_head *to)
{
	__skb_unlink(skb, from);
	vif->queued_bytes -= crakvif_frame_len(skb);
	__skb_queue_tail(to, skb);
}

static void crakvif_free_flows(struct hlist_head *head)
{
	struct crakvif_flow *flow;
	struct hlist_node *tmp;

	hlist_for_each_entry_safe(flow, tmp, head, node) {
		hlist_del(&flow->node);
		kfree(flow);
	}
}

static void crakvif_drop_all_flows(struct crakvif *vif)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(vif->flows); i++)
		crakvif_free_flows(&vif->flows[i]);
	crakvif_free_flows(&vif->wild_flows);
	vif->nflows = 0;
	clear_bit(CRAKVIF_HOLD_FLOWS, &vif->hold);
}

/* The device is going away (ndo_uninit, RTNL): let go of everything. */
void crakvif_hold_destroy(struct crakvif *vif)
{
	struct sk_buff_head purge;
	unsigned int n;

	__skb_queue_head_init(&purge);
	spin_lock_bh(&vif->lock);
	vif->dead = true;
	vif->hold = 0;
	crakvif_drop_all_flows(vif);
	n = crakvif_queued(vif);
	skb_queue_splice_tail_init(&vif->imported, &purge);
	skb_queue_splice_tail_init(&vif->held, &purge);
	vif->queued_bytes = 0;
	vif->stats.dropped += n;
	spin_unlock_bh(&vif->lock);

	__skb_queue_purge(&purge);
	cancel_work_sync(&vif->overflow_work);
}

/* -- matching ------------------------------------------------------------ */

static void crakvif_addr4(struct in6_addr *to, __be32 addr)
{
	*to = (struct in6_addr){};
	to->s6_addr32[3] = addr;
}

/* What the IP header of a frame says. */
struct crakvif_ip {
	struct in6_addr saddr;		/* IPv4: as ::a.b.c.d */
	struct in6_addr daddr;
	u8 family;
	u8 proto;			/* the transport protocol */
	bool fragment;			/* a part of a fragmented packet */
	bool later;			/* a part after the first: no transport header */
	int thoff;			/* offset of the transport header */
	int len;			/* bytes from there to the end of the payload */
};

/*
 * Reads the IP header of a frame (data at its network header) and the
 * IPv6 extension headers after it, or false if it is no IP packet or a
 * malformed one.
 */
static bool crakvif_ip(const struct sk_buff *skb, struct crakvif_ip *ip)
{
	int off = skb_network_offset(skb);

	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph;
		struct iphdr _iph;

		iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);
		if (!iph || iph->ihl < 5)
			return false;
		ip->family = AF_INET;
		crakvif_addr4(&ip->saddr, iph->saddr);
		crakvif_addr4(&ip->daddr, iph->daddr);
		ip->proto = iph->protocol;
		ip->fragment = ip_is_fragment(iph);
		ip->later = iph->frag_off & htons(IP_OFFSET);
		ip->thoff = off + iph->ihl * 4;
		ip->len = ntohs(iph->tot_len) - iph->ihl * 4;
		return true;
	}
	if (skb->protocol == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6h;
		struct ipv6hdr _ip6h;
		__be16 frag_off = 0;
		u8 nexthdr;
		int thoff;

		ip6h = skb_header_pointer(skb, off, sizeof(_ip6h), &_ip6h);
		if (!ip6h)
			return false;
		nexthdr = ip6h->nexthdr;
		thoff = ipv6_skip_exthdr(skb, off + sizeof(*ip6h), &nexthdr, &frag_off);
		if (thoff < 0)
			return false;
		ip->family = AF_INET6;
		ip->saddr = ip6h->saddr;
		ip->daddr = ip6h->daddr;
		ip->proto = nexthdr;
		/* The fragment header's offset and M flag, as they are. */
		ip->fragment = frag_off != 0;
		ip->later = frag_off & htons(~0x7);
		ip->thoff = thoff;
		ip->len = ntohs(ip6h->payload_len) + (int)sizeof(*ip6h) - (thoff - off);
		return true;
	}
	return false;
}

/* The IP tuple of a frame (rx: data at the network header; tx: at the
 * Ethernet header), or false if it is not TCP or UDP over IP.
 */
static bool crakvif_parse(const struct sk_buff *skb, bool rx, struct crakvif_tuple *t)
{
	struct crakvif_ip ip;
	__be16 ports[2], *p;

	if (!crakvif_ip(skb, &ip) || (ip.proto != IPPROTO_TCP && ip.proto != IPPROTO_UDP))
		return false;
	t->family = ip.family;
	t->proto = ip.proto;
	t->laddr = rx ? ip.daddr : ip.saddr;
	t->raddr = rx ? ip.saddr : ip.daddr;
	t->frag = ip.later;
	if (t->frag) {
		t->lport = 0;
		t->rport = 0;
		return true;
	}
	p = skb_header_pointer(skb, ip.thoff, sizeof(ports), ports);
	if (!p)
		return false;
	t->lport = rx ? p[1] : p[0];
	t->rport = rx ? p[0] : p[1];
	return true;
}

static bool crakvif_flow_is_exact(const struct crakvif_flow *f)
{
	return f->lport && f->rport && !ipv6_addr_any(&f->laddr) && !ipv6_addr_any(&f->raddr);
}

static u32 crakvif_flow_hash(u8 proto, __be16 lport, __be16 rport, const struct in6_addr *raddr)
{
	u32 h = jhash2((__force const u32 *)raddr->s6_addr32, 4, proto);

	return hash_32(jhash_1word(((u32)ntohs(lport) << 16) | ntohs(rport), h),
		       CRAKVIF_FLOW_BITS);
}

static bool crakvif_flow_matches(const struct crakvif_flow *f, const struct crakvif_tuple *t)
{
	if (f->proto != t->proto || f->family != t->family)
		return false;
	if (!ipv6_addr_any(&f->laddr) && !ipv6_addr_equal(&f->laddr, &t->laddr))
		return false;
	if (!ipv6_addr_any(&f->raddr) && !ipv6_addr_equal(&f->raddr, &t->raddr))
		return false;
	if (t->frag)
		return true;
	return (!f->lport || f->lport == t->lport) && (!f->rport || f->rport == t->rport);
}

static bool crakvif_flow_equal(const struct crakvif_flow *a, const struct crakvif_flow *b)
{
	return a->proto == b->proto && a->family == b->family && a->lport == b->lport &&
	       a->rport == b->rport && ipv6_addr_equal(&a->laddr, &b->laddr) &&
	       ipv6_addr_equal(&a->raddr, &b->raddr);
}

static bool crakvif_flow_lookup(struct crakvif *vif, const struct crakvif_tuple *t)
{
	const struct crakvif_flow *f;
	int i;

	if (t->frag) {
		/* No ports to hash: a later fragment matches on addresses. */
		for (i = 0; i < ARRAY_SIZE(vif->flows); i++)
			hlist_for_each_entry(f, &vif->flows[i], node)
				if (crakvif_flow_matches(f, t))
					return true;
	} else {
		i = crakvif_flow_hash(t->proto, t->lport, t->rport, &t->raddr);
		hlist_for_each_entry(f, &vif->flows[i], node)
			if (crakvif_flow_matches(f, t))
				return true;
	}
	hlist_for_each_entry(f, &vif->wild_flows, node)
		if (crakvif_flow_matches(f, t))
			return true;
	return false;
}

/* Is this inbound frame held by the rules as they are?  Under vif->lock. */
static bool crakvif_rules_hold(struct crakvif *vif, const struct sk_buff *skb)
{
	struct crakvif_tuple t;

	if (test_bit(CRAKVIF_HOLD_DEVICE, &vif->hold))
		return true;
	return test_bit(CRAKVIF_HOLD_FLOWS, &vif->hold) && crakvif_parse(skb, true, &t) &&
	       crakvif_flow_lookup(vif, &t);
}

/* -- holding ------------------------------------------------------------- */

static void crakvif_overflow(struct crakvif *vif, struct sk_buff *skb)
{
	vif->stats.overflow++;
	dev_core_stats_rx_dropped_inc(vif->dev);
	kfree_skb(skb);
	if (!vif->overflowed) {
		vif->overflowed = true;
		schedule_work(&vif->overflow_work);
	}
}

static void crakvif_enqueue(struct crakvif *vif, struct sk_buff *skb)
{
	unsigned int len = crakvif_frame_len(skb);

	if (crakvif_queued(vif) >= vif->limit_packets ||
	    vif->queued_bytes + len > vif->limit_bytes) {
		crakvif_overflow(vif, skb);
		return;
	}
	CRAKVIF_CB(skb)->seq = vif->next_seq++;
	CRAKVIF_CB(skb)->time_ns = ktime_get_real_ns();
	__skb_queue_tail(&vif->held, skb);
	vif->queued_bytes += len;
	vif->stats.held++;
}

/* A GRO aggregate is held as the segments it was on the wire, so that what
 * is held, counted, exported and imported are frames of the link's size.
 */
static void crakvif_enqueue_segments(struct crakvif *vif, struct sk_buff *skb)
{
	struct sk_buff *segs, *seg, *next;

	__skb_push(skb, ETH_HLEN);
	segs = __skb_gso_segment(skb, 0, false);
	if (IS_ERR_OR_NULL(segs)) {
		vif->stats.dropped++;
		dev_core_stats_rx_dropped_inc(vif->dev);
		kfree_skb(skb);
		return;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, seg, next) {
		skb_mark_not_on_list(seg);
		seg->protocol = eth_type_trans(seg, vif->dev);
		seg->pkt_type = PACKET_HOST;
		skb_reset_network_header(seg);
		skb_reset_mac_len(seg);
		crakvif_enqueue(vif, seg);
	}
}

/* Receive path (BH off): take skb if a rule holds it. */
bool crakvif_hold_rx(struct crakvif *vif, struct sk_buff *skb)
{
	/*
	 * A frame a local socket sent (through a veth or a neighbouring
	 * crakvif) would keep it charged while held: let go of it, as the
	 * stack does when the frame is received (not of a socket assigned
	 * to it on the way in, which the stack keeps).
	 */
	if (!skb_sk_is_prefetched(skb))
		skb_orphan(skb);
	spin_lock(&vif->lock);
	if (vif->dead || (!test_bit(CRAKVIF_HOLD_DRAIN, &vif->hold) &&
			  !crakvif_rules_hold(vif, skb))) {
		spin_unlock(&vif->lock);
		return false;
	}
	if (skb_is_gso(skb))
		crakvif_enqueue_segments(vif, skb);
	else
		crakvif_enqueue(vif, skb);
	spin_unlock(&vif->lock);
	return true;
}

/*
 * An ARP packet or a neighbour advertisement, which an announcement sends;
 * with SOLICIT, a neighbour solicitation too.
 */
static bool crakvif_is_neighbour(const struct sk_buff *skb, bool solicit)
{
	struct crakvif_ip ip;
	u8 _type;
	const u8 *type;

	if (skb->protocol == htons(ETH_P_ARP))
		return true;
	if (skb->protocol != htons(ETH_P_IPV6) || !crakvif_ip(skb, &ip) ||
	    ip.proto != IPPROTO_ICMPV6 || ip.later)
		return false;
	type = skb_header_pointer(skb, ip.thoff, sizeof(_type), &_type);
	return type && (*type == NDISC_NEIGHBOUR_ADVERTISEMENT ||
			(solicit && *type == NDISC_NEIGHBOUR_SOLICITATION));
}

/*
 * A TCP segment that carries no data and says nothing but what its socket
 * received and how much more it takes (no SYN, FIN, RST or URG).
 */
static bool crakvif_is_bare_ack(const struct sk_buff *skb)
{
	const struct tcphdr *th;
	struct crakvif_ip ip;
	struct tcphdr _th;

	if (!crakvif_ip(skb, &ip) || ip.proto != IPPROTO_TCP || ip.fragment)
		return false;
	th = skb_header_pointer(skb, ip.thoff, sizeof(_th), &_th);
	if (!th || !th->ack || th->syn || th->fin || th->rst || th->urg)
		return false;
	return ip.len == th->doff * 4;
}

/*
 * Transmit path (BH off): must this frame be dropped?
 *
 * TCP's bare ACKs still leave: a frozen connection tells its peer to wait
 * (a zero window: crak_sockmig sends one, and silences everything else of
 * the connection), a thawed or restored one that it may go on, before the
 * device thaws.
 */
bool crakvif_hold_tx(struct crakvif *vif, struct sk_buff *skb)
{
	struct crakvif_tuple t;
	bool hit;

	if (test_bit(CRAKVIF_HOLD_DEVICE, &vif->hold)) {
		bool claimed = READ_ONCE(vif->claimed);

		if ((claimed || READ_ONCE(vif->announcing)) && crakvif_is_neighbour(skb, claimed))
			return false;
		return !crakvif_is_bare_ack(skb);
	}
	if (!test_bit(CRAKVIF_HOLD_FLOWS, &vif->hold) || !crakvif_parse(skb, false, &t))
		return false;
	spin_lock(&vif->lock);
	hit = crakvif_flow_lookup(vif, &t);
	spin_unlock(&vif->lock);
	return hit && !crakvif_is_bare_ack(skb);
}

/* -- freeze and thaw ----------------------------------------------------- */

static struct crakvif_flow *crakvif_find_flow(struct crakvif *vif, const struct crakvif_flow *key)
{
	struct hlist_head *head = &vif->wild_flows;
	struct crakvif_flow *f;

	if (crakvif_flow_is_exact(key))
		head = &vif->flows[crakvif_flow_hash(key->proto, key->lport, key->rport,
						     &key->raddr)];
	hlist_for_each_entry(f, head, node)
		if (crakvif_flow_equal(f, key))
			return f;
	return NULL;
}

int crakvif_freeze(struct crakvif *vif, const struct crakvif_flow *flow)
{
	struct crakvif_flow *f = NULL;
	struct hlist_head *head;
	int err = 0;

	if (flow) {
		f = kmemdup(flow, sizeof(*f), GFP_KERNEL);
		if (!f)
			return -ENOMEM;
	}

	spin_lock_bh(&vif->lock);
	if (vif->dead) {
		err = -ENODEV;
	} else if (!f) {
		if (test_and_set_bit(CRAKVIF_HOLD_DEVICE, &vif->hold)) {
			err = -EALREADY;
		} else {
			vif->overflowed = false;
			WRITE_ONCE(vif->claimed, false);
		}
	} else if (crakvif_find_flow(vif, f)) {
		err = -EEXIST;
	} else if (vif->nflows >= CRAK_VIF_MAX_FLOWS) {
		err = -ENOSPC;
	} else {
		head = &vif->wild_flows;
		if (crakvif_flow_is_exact(f))
			head = &vif->flows[crakvif_flow_hash(f->proto, f->lport, f->rport,
							     &f->raddr)];
		hlist_add_head(&f->node, head);
		vif->nflows++;
		if (!test_and_set_bit(CRAKVIF_HOLD_FLOWS, &vif->hold) &&
		    !test_bit(CRAKVIF_HOLD_DEVICE, &vif->hold))
			vif->overflowed = false;
		f = NULL;
	}
	spin_unlock_bh(&vif->lock);
	kfree(f);
	return err;
}

/* Move the queued frames no rule holds any more to out, in delivery order. */
static void crakvif_take_released(struct crakvif *vif, struct sk_buff_head *out)
{
	struct sk_buff_head *queues[] = { &vif->imported, &vif->held };
	struct sk_buff *skb, *tmp;
	int i;

	for (i = 0; i < ARRAY_SIZE(queues); i++)
		skb_queue_walk_safe(queues[i], skb, tmp)
			if (!crakvif_rules_hold(vif, skb))
				crakvif_unlink(vif, skb, queues[i], out);
}

static void crakvif_deliver_list(struct crakvif *vif, struct sk_buff_head *list)
{
	struct sk_buff *skb;
	unsigned int n = 0;

	while ((skb = __skb_dequeue(list))) {
		/* (The per-CPU counters too, with bottom halves off.) */
		local_bh_disable();
		crakvif_count_rx(vif, crakvif_frame_len(skb));
		netif_receive_skb(skb);
		local_bh_enable();
		if (!(++n % 64))
			cond_resched();
	}
}

/*
 * Thaw the device (flow == NULL: the device and all its flows) or one flow.
 * *announce tells whether the device's addresses should be announced: it
 * is thawed for good after an import brought frames (and the address) here.
 * A device that is down announces when it comes up (crakvif_up()).
 * Called with vif->ctl held.
 */
int crakvif_thaw(struct crakvif *vif, const struct crakvif_flow *flow, bool drop,
		 u32 *delivered, u32 *dropped, bool *announce)
{
	struct sk_buff_head out;
	struct crakvif_flow *f;

	*delivered = 0;
	*dropped = 0;
	*announce = false;
	__skb_queue_head_init(&out);

	spin_lock_bh(&vif->lock);
	if (vif->dead) {
		spin_unlock_bh(&vif->lock);
		return -ENODEV;
	}
	if (flow) {
		f = crakvif_find_flow(vif, flow);
		if (!f) {
			spin_unlock_bh(&vif->lock);
			return -ENOENT;
		}
	} else if (!vif->hold) {
		spin_unlock_bh(&vif->lock);
		return -EALREADY;
	}

	/*
	 * The receive path looks at vif->hold without the lock: a frame that
	 * comes while the rules go must find DRAIN set, and queue behind the
	 * held ones, not overtake them.
	 */
	if (!drop)
		set_bit(CRAKVIF_HOLD_DRAIN, &vif->hold);
	if (flow) {
		hlist_del(&f->node);
		kfree(f);
		if (!--vif->nflows)
			clear_bit(CRAKVIF_HOLD_FLOWS, &vif->hold);
	} else {
		clear_bit(CRAKVIF_HOLD_DEVICE, &vif->hold);
		WRITE_ONCE(vif->claimed, false);
		crakvif_drop_all_flows(vif);
	}

	*announce = !(vif->hold & ~BIT(CRAKVIF_HOLD_DRAIN)) && vif->announce_on_thaw &&
		    netif_running(vif->dev);
	if (*announce)
		vif->announce_on_thaw = false;

	if (drop) {
		crakvif_take_released(vif, &out);
		*dropped = skb_queue_len(&out);
		vif->stats.dropped += *dropped;
		spin_unlock_bh(&vif->lock);
		__skb_queue_purge(&out);
		return 0;
	}

	for (;;) {
		crakvif_take_released(vif, &out);
		if (skb_queue_empty(&out)) {
			clear_bit(CRAKVIF_HOLD_DRAIN, &vif->hold);
			break;
		}
		*delivered += skb_queue_len(&out);
		vif->stats.delivered += skb_queue_len(&out);
		spin_unlock_bh(&vif->lock);
		crakvif_deliver_list(vif, &out);
		spin_lock_bh(&vif->lock);
	}
	spin_unlock_bh(&vif->lock);
	return 0;
}

/* The device came up (RTNL): an announcement a thaw could not make is due. */
bool crakvif_take_pending_announce(struct crakvif *vif)
{
	bool due;

	spin_lock_bh(&vif->lock);
	due = !vif->hold && vif->announce_on_thaw;
	vif->announce_on_thaw &= !due;
	spin_unlock_bh(&vif->lock);
	return due;
}

int crakvif_set_limits(struct crakvif *vif, u32 packets, u32 bytes)
{
	spin_lock_bh(&vif->lock);
	if (packets)
		vif->limit_packets = packets;
	if (bytes)
		vif->limit_bytes = bytes;
	vif->overflowed = false;
	spin_unlock_bh(&vif->lock);
	return 0;
}

/* -- export and import --------------------------------------------------- */

/* The length of the largest frame held, Ethernet header included. */
unsigned int crakvif_held_max_len(struct crakvif *vif)
{
	struct sk_buff_head *queues[] = { &vif->imported, &vif->held };
	unsigned int most = 0;
	struct sk_buff *skb;
	int i;

	spin_lock_bh(&vif->lock);
	for (i = 0; i < ARRAY_SIZE(queues); i++)
		skb_queue_walk(queues[i], skb)
			most = max(most, crakvif_frame_len(skb));
	spin_unlock_bh(&vif->lock);
	return most;
}

int crakvif_export_walk(struct crakvif *vif, struct crakvif_export_pos *pos,
			int (*fill)(void *arg, const struct sk_buff *skb), void *arg)
{
	struct sk_buff_head *queues[] = { &vif->imported, &vif->held };
	struct sk_buff *skb;
	int err = 0;
	u64 seq;

	spin_lock_bh(&vif->lock);
	if (!pos->started) {
		pos->snapshot = vif->next_seq;
		pos->queue = 0;
		pos->last = 0;
		pos->started = true;
	}
	for (; pos->queue < ARRAY_SIZE(queues); pos->queue++, pos->last = 0) {
		skb_queue_walk(queues[pos->queue], skb) {
			seq = CRAKVIF_CB(skb)->seq;
			if (seq >= pos->snapshot)
				break;
			if (seq <= pos->last)
				continue;
			err = fill(arg, skb);
			if (err)
				goto out;
			pos->last = seq;
		}
	}
out:
	spin_unlock_bh(&vif->lock);
	return err;
}

/* Copy a held frame, Ethernet header first, with a finished checksum. */
int crakvif_frame_copy(const struct sk_buff *skb, void *to)
{
	unsigned int len = crakvif_frame_len(skb);
	int start, err;
	__wsum csum;

	err = skb_copy_bits(skb, -ETH_HLEN, to, len);
	if (err)
		return err;
	if (skb->ip_summed != CHECKSUM_PARTIAL)
		return 0;
	/* The sender left the checksum to hardware we do not have. */
	start = skb_checksum_start_offset(skb) + ETH_HLEN;
	if (start < 0 || start + skb->csum_offset + sizeof(__sum16) > len)
		return -EINVAL;
	csum = csum_partial(to + start, len - start, 0);
	*(__sum16 *)(to + start + skb->csum_offset) = csum_fold(csum) ?: CSUM_MANGLED_0;
	return 0;
}

int crakvif_export_drop(struct crakvif *vif, u64 last, u32 *dropped)
{
	struct sk_buff_head *queues[] = { &vif->imported, &vif->held };
	struct sk_buff_head out;
	struct sk_buff *skb, *tmp;
	int i;

	__skb_queue_head_init(&out);
	spin_lock_bh(&vif->lock);
	for (i = 0; i < ARRAY_SIZE(queues); i++)
		skb_queue_walk_safe(queues[i], skb, tmp)
			if (CRAKVIF_CB(skb)->seq <= last)
				crakvif_unlink(vif, skb, queues[i], &out);
	*dropped = skb_queue_len(&out);
	vif->stats.exported += *dropped;
	spin_unlock_bh(&vif->lock);
	__skb_queue_purge(&out);
	return 0;
}

/* Build a frame to import, as if the device had received it. */
struct sk_buff *crakvif_frame_from_user(struct crakvif *vif, const void *data,
					unsigned int len, u64 time_ns)
{
	unsigned int linear = min_t(unsigned int, len,
				    SKB_WITH_OVERHEAD(PAGE_SIZE) - NET_IP_ALIGN);
	struct sk_buff *skb;
	int err;

	skb = alloc_skb_with_frags(NET_IP_ALIGN + linear, len - linear, 0, &err, GFP_KERNEL);
	if (!skb)
		return ERR_PTR(err);
	skb_reserve(skb, NET_IP_ALIGN);
	skb_put(skb, linear);
	skb->data_len = len - linear;
	skb->len += len - linear;
	err = skb_store_bits(skb, 0, data, len);
	if (err) {
		kfree_skb(skb);
		return ERR_PTR(err);
	}
	skb->protocol = eth_type_trans(skb, vif->dev);
	/* It was addressed to this device where it was held. */
	if (skb->pkt_type == PACKET_OTHERHOST)
		skb->pkt_type = PACKET_HOST;
	skb_reset_network_header(skb);
	skb_reset_mac_len(skb);
	CRAKVIF_CB(skb)->time_ns = time_ns;
	return skb;
}

/* Queue frames (built by crakvif_frame_from_user) on a device frozen as a
 * whole, all or none.  Called with vif->ctl held.
 */
int crakvif_import(struct crakvif *vif, struct sk_buff_head *frames)
{
	unsigned int n = skb_queue_len(frames), bytes = 0;
	struct sk_buff *skb;
	int err = 0;

	skb_queue_walk(frames, skb)
		bytes += crakvif_frame_len(skb);

	spin_lock_bh(&vif->lock);
	if (vif->dead) {
		err = -ENODEV;
	} else if (!test_bit(CRAKVIF_HOLD_DEVICE, &vif->hold)) {
		err = -EINVAL;
	} else if (crakvif_queued(vif) + n > vif->limit_packets ||
		   vif->queued_bytes + bytes > vif->limit_bytes) {
		err = -ENOBUFS;
	} else {
		skb_queue_walk(frames, skb)
			CRAKVIF_CB(skb)->seq = vif->next_seq++;
		skb_queue_splice_tail_init(frames, &vif->imported);
		vif->queued_bytes += bytes;
		vif->stats.imported += n;
		vif->announce_on_thaw = true;
	}
	spin_unlock_bh(&vif->lock);
	return err;
}
