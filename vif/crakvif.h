/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak_vif internals, shared by its three files:
 *   main.c     the device: rtnl_link_ops, netdev ops, the lower device's
 *              receive handler, notifiers, module init and exit
 *   hold.c     freezing: flow rules, the held queues, thaw, export, import
 *   netlink.c  the crak_vif generic netlink family
 */

#ifndef _CRAKVIF_H
#define _CRAKVIF_H

#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/netlink.h>
#include <linux/crak_vif.h>

#define CRAKVIF_HASH_BITS	8
#define CRAKVIF_FLOW_BITS	8

/* The lower device's side: every crakvif stacked on it. */
struct crakvif_port {
	struct net_device *lower;
	struct hlist_head by_mac[1 << CRAKVIF_HASH_BITS];	/* RCU readers */
	struct list_head vifs;					/* RCU readers */
	struct rcu_head rcu;
};

/* A frozen flow, from the device's point of view (local = its side). */
struct crakvif_flow {
	struct hlist_node node;
	u8 proto;
	u8 family;			/* AF_INET or AF_INET6 */
	__be16 lport;			/* 0: any */
	__be16 rport;			/* 0: any */
	struct in6_addr laddr;		/* IPv4 in s6_addr32[3]; zeroes: any */
	struct in6_addr raddr;
};

/* What we keep in a held frame's skb->cb while we own it. */
struct crakvif_cb {
	u64 seq;
	u64 time_ns;			/* CLOCK_REALTIME when held */
};

#define CRAKVIF_CB(skb) ((struct crakvif_cb *)(skb)->cb)

struct crakvif_stats {
	u64 held;
	u64 delivered;
	u64 dropped;
	u64 overflow;
	u64 exported;
	u64 imported;
};

/* Bits of crakvif.hold: anything set sends frames through hold.c. */
enum {
	CRAKVIF_HOLD_DEVICE,		/* frozen as a whole */
	CRAKVIF_HOLD_FLOWS,		/* some flows frozen */
	CRAKVIF_HOLD_DRAIN,		/* a thaw is delivering: queue everything */
};

struct crakvif {
	/* Receive and transmit paths. */
	struct net_device *dev;
	struct net_device *lower;
	struct crakvif_port *port;
	unsigned long hold;		/* CRAKVIF_HOLD_* bits, read locklessly */
	atomic64_t tx_frozen;
	bool announcing;		/* ARP and NA may leave a frozen device */
	bool claimed;			/* announced while frozen: ARP, NS, NA too */

	/* lock: the rules, the queues and their accounting. */
	spinlock_t lock;
	struct hlist_head flows[1 << CRAKVIF_FLOW_BITS];	/* exact flows */
	struct hlist_head wild_flows;				/* with an "any" */
	unsigned int nflows;
	struct sk_buff_head held;	/* frames held here, in arrival order */
	struct sk_buff_head imported;	/* imported frames: older, go first */
	unsigned int queued_bytes;	/* of both queues */
	u32 limit_packets;
	u32 limit_bytes;
	u64 next_seq;
	bool overflowed;		/* since the last freeze */
	bool dead;			/* uninit done: nothing may be queued */
	struct crakvif_stats stats;

	/* Control path. */
	struct mutex ctl;		/* one freeze, thaw, import, export at a time */
	bool announce_on_thaw;		/* frames were imported (under lock) */
	struct list_head list;		/* in port->vifs */
	struct hlist_node mac_node;	/* in port->by_mac */
	netdevice_tracker lower_tracker;
	struct work_struct overflow_work;
};

extern struct rtnl_link_ops crakvif_link_ops;
/* What the held-queue limits may be set to (rtnetlink and crak_vif); not
 * const only because 6.1's NLA_POLICY_FULL_RANGE() takes a plain pointer.
 */
extern struct netlink_range_validation crakvif_limit_packets;
extern struct netlink_range_validation crakvif_limit_bytes;

static inline bool crakvif_is(const struct net_device *dev)
{
	return dev->rtnl_link_ops == &crakvif_link_ops;
}

/* main.c */
void crakvif_count_rx(struct crakvif *vif, unsigned int len);
int crakvif_announce(struct crakvif *vif);

/* hold.c */
void crakvif_hold_init(struct crakvif *vif);
void crakvif_hold_destroy(struct crakvif *vif);
bool crakvif_hold_rx(struct crakvif *vif, struct sk_buff *skb);
bool crakvif_hold_tx(struct crakvif *vif, struct sk_buff *skb);
int crakvif_freeze(struct crakvif *vif, const struct crakvif_flow *flow);
int crakvif_thaw(struct crakvif *vif, const struct crakvif_flow *flow, bool drop,
		 u32 *delivered, u32 *dropped, bool *announce);
bool crakvif_take_pending_announce(struct crakvif *vif);
int crakvif_set_limits(struct crakvif *vif, u32 packets, u32 bytes);
int crakvif_export_drop(struct crakvif *vif, u64 last, u32 *dropped);
int crakvif_import(struct crakvif *vif, struct sk_buff_head *frames);
struct sk_buff *crakvif_frame_from_user(struct crakvif *vif, const void *data,
					unsigned int len, u64 time_ns);
int crakvif_frame_copy(const struct sk_buff *skb, void *to);

/*
 * Export walks the queues in delivery order (imported, then held), calling
 * fill under vif->lock for each frame after the position *pos, which it
 * advances; it stops at the first frame queued after the walk began
 * (seq >= snapshot) or when fill returns non-zero, which it returns.
 */
struct crakvif_export_pos {
	u64 snapshot;		/* next_seq when the export began */
	u8 queue;		/* 0: imported, 1: held */
	u64 last;		/* seq of the last frame filled in that queue */
	bool started;
};

int crakvif_export_walk(struct crakvif *vif, struct crakvif_export_pos *pos,
			int (*fill)(void *arg, const struct sk_buff *skb), void *arg);
unsigned int crakvif_held_max_len(struct crakvif *vif);

/* netlink.c */
int crakvif_genl_init(void);
void crakvif_genl_exit(void);
void crakvif_notify(struct crakvif *vif, u8 cmd, const struct crakvif_flow *flow,
		    u32 a, u32 b, gfp_t gfp);

#endif /* _CRAKVIF_H */
