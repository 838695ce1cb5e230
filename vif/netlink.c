// SPDX-License-Identifier: GPL-2.0
/*
 * crak_vif: the generic netlink family (uapi/linux/crak_vif.h and
 * uapi/linux/crak_vif.yaml).  Devices are found by ifindex or name in the
 * caller's network namespace; every operation but GET needs CAP_NET_ADMIN
 * over that namespace.  Freeze, thaw, import, export and announce of one
 * device are serialized by vif->ctl.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/in.h>
#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "crak_compat.h"
#include "crakvif.h"

/* Flows listed per device: the rest are only counted (CRAK_VIF_A_FLOWS). */
#define CRAKVIF_NL_FLOWS_DO	1024
#define CRAKVIF_NL_FLOWS_DUMP	64
#define CRAKVIF_NL_FLOW_SIZE	(nla_total_size(0) + nla_total_size(sizeof(u8)) +	\
				 2 * nla_total_size(sizeof(struct in6_addr)) +	\
				 2 * nla_total_size(sizeof(u16)))

static struct genl_family crakvif_genl_family;

enum {
	CRAKVIF_NLGRP_EVENTS,
};

/* -- policies ------------------------------------------------------------ */

static const struct nla_policy crakvif_flow_policy[CRAK_VIF_FLOW_A_MAX + 1] = {
	[CRAK_VIF_FLOW_A_PROTO]		= { .type = NLA_U8 },
	[CRAK_VIF_FLOW_A_LOCAL_ADDR]	= { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[CRAK_VIF_FLOW_A_LOCAL_PORT]	= { .type = NLA_U16 },
	[CRAK_VIF_FLOW_A_REMOTE_ADDR]	= { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[CRAK_VIF_FLOW_A_REMOTE_PORT]	= { .type = NLA_U16 },
};

static const struct nla_policy crakvif_frame_policy[CRAK_VIF_FRAME_A_MAX + 1] = {
	[CRAK_VIF_FRAME_A_SEQ]		= { .type = NLA_U64 },
	[CRAK_VIF_FRAME_A_TIME]		= { .type = NLA_U64 },
	[CRAK_VIF_FRAME_A_DATA]		= { .type = NLA_BINARY, .len = CRAK_VIF_MAX_FRAME },
};

#define CRAKVIF_NL_DEV							\
	[CRAK_VIF_A_IFINDEX]	= { .type = NLA_U32 },			\
	[CRAK_VIF_A_IFNAME]	= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 }

static const struct nla_policy crakvif_dev_policy[CRAK_VIF_A_MAX + 1] = {
	CRAKVIF_NL_DEV,
};

static const struct nla_policy crakvif_freeze_policy[CRAK_VIF_A_MAX + 1] = {
	CRAKVIF_NL_DEV,
	[CRAK_VIF_A_FLOW]	= NLA_POLICY_NESTED(crakvif_flow_policy),
};

static const struct nla_policy crakvif_thaw_policy[CRAK_VIF_A_MAX + 1] = {
	CRAKVIF_NL_DEV,
	[CRAK_VIF_A_FLOW]	= NLA_POLICY_NESTED(crakvif_flow_policy),
	[CRAK_VIF_A_DROP]	= { .type = NLA_FLAG },
};

static const struct nla_policy crakvif_set_policy[CRAK_VIF_A_MAX + 1] = {
	CRAKVIF_NL_DEV,
	[CRAK_VIF_A_LIMIT_PACKETS] = NLA_POLICY_FULL_RANGE(NLA_U32, &crakvif_limit_packets),
	[CRAK_VIF_A_LIMIT_BYTES] = NLA_POLICY_FULL_RANGE(NLA_U32, &crakvif_limit_bytes),
};

static const struct nla_policy crakvif_export_policy[CRAK_VIF_A_MAX + 1] = {
	CRAKVIF_NL_DEV,
	[CRAK_VIF_A_EXPORT_LAST] = { .type = NLA_U64 },
};

static const struct nla_policy crakvif_import_policy[CRAK_VIF_A_MAX + 1] = {
	CRAKVIF_NL_DEV,
	[CRAK_VIF_A_FRAME]	= NLA_POLICY_NESTED(crakvif_frame_policy),
};

/* -- finding the device -------------------------------------------------- */

static struct crakvif *crakvif_nl_find(struct net *net, struct nlattr **attrs,
				       netdevice_tracker *tracker,
				       struct netlink_ext_ack *extack)
{
	struct nlattr *index = attrs[CRAK_VIF_A_IFINDEX];
	struct nlattr *name = attrs[CRAK_VIF_A_IFNAME];
	struct net_device *dev;

	if (!index && !name) {
		NL_SET_ERR_MSG(extack, "no device: give its ifindex or name");
		return ERR_PTR(-EINVAL);
	}
	if (index && name) {
		NL_SET_ERR_MSG_ATTR(extack, name, "give the device by ifindex or name, not both");
		return ERR_PTR(-EINVAL);
	}

	rcu_read_lock();
	if (index)
		dev = dev_get_by_index_rcu(net, nla_get_u32(index));
	else
		dev = dev_get_by_name_rcu(net, nla_data(name));
	if (dev && crakvif_is(dev))
		netdev_hold(dev, tracker, GFP_ATOMIC);
	rcu_read_unlock();

	if (!dev) {
		NL_SET_ERR_MSG_ATTR(extack, index ?: name, "no such device");
		return ERR_PTR(-ENODEV);
	}
	if (!crakvif_is(dev)) {
		NL_SET_ERR_MSG_ATTR(extack, index ?: name, "not a crakvif device");
		return ERR_PTR(-EOPNOTSUPP);
	}
	return netdev_priv(dev);
}

static struct crakvif *crakvif_nl_find_index(struct net *net, int ifindex,
					     netdevice_tracker *tracker)
{
	struct crakvif *vif = NULL;
	struct net_device *dev;

	rcu_read_lock();
	dev = dev_get_by_index_rcu(net, ifindex);
	if (dev && crakvif_is(dev)) {
		netdev_hold(dev, tracker, GFP_ATOMIC);
		vif = netdev_priv(dev);
	}
	rcu_read_unlock();
	return vif;
}

static void crakvif_nl_put(struct crakvif *vif, netdevice_tracker *tracker)
{
	netdev_put(vif->dev, tracker);
}

/* -- flows --------------------------------------------------------------- */

static int crakvif_nl_addr(struct nlattr *attr, struct in6_addr *addr, int *len,
			   struct netlink_ext_ack *extack)
{
	*addr = (struct in6_addr){};
	*len = nla_len(attr);
	if (*len == sizeof(__be32)) {
		addr->s6_addr32[3] = nla_get_in_addr(attr);
		return 0;
	}
	if (*len == sizeof(struct in6_addr)) {
		*addr = nla_get_in6_addr(attr);
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(extack, attr, "an address is 4 (IPv4) or 16 (IPv6) bytes");
	return -EINVAL;
}

static int crakvif_nl_parse_flow(struct nlattr *nest, struct crakvif_flow *flow,
				 struct netlink_ext_ack *extack)
{
	struct nlattr *tb[CRAK_VIF_FLOW_A_MAX + 1];
	int err, llen, rlen;

	err = nla_parse_nested(tb, CRAK_VIF_FLOW_A_MAX, nest, crakvif_flow_policy, extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, CRAK_VIF_FLOW_A_PROTO) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, CRAK_VIF_FLOW_A_LOCAL_ADDR)) {
		NL_SET_ERR_MSG(extack, "a flow needs a protocol and a local address");
		return -EINVAL;
	}

	*flow = (struct crakvif_flow){};
	flow->proto = nla_get_u8(tb[CRAK_VIF_FLOW_A_PROTO]);
	if (flow->proto != IPPROTO_TCP && flow->proto != IPPROTO_UDP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[CRAK_VIF_FLOW_A_PROTO], "a flow is TCP or UDP");
		return -EINVAL;
	}
	err = crakvif_nl_addr(tb[CRAK_VIF_FLOW_A_LOCAL_ADDR], &flow->laddr, &llen, extack);
	if (err)
		return err;
	flow->family = llen == sizeof(__be32) ? AF_INET : AF_INET6;
	if (tb[CRAK_VIF_FLOW_A_REMOTE_ADDR]) {
		err = crakvif_nl_addr(tb[CRAK_VIF_FLOW_A_REMOTE_ADDR], &flow->raddr, &rlen, extack);
		if (err)
			return err;
		if (rlen != llen) {
			NL_SET_ERR_MSG_ATTR(extack, tb[CRAK_VIF_FLOW_A_REMOTE_ADDR],
					    "local and remote addresses of different families");
			return -EINVAL;
		}
	}
	if (tb[CRAK_VIF_FLOW_A_LOCAL_PORT])
		flow->lport = htons(nla_get_u16(tb[CRAK_VIF_FLOW_A_LOCAL_PORT]));
	if (tb[CRAK_VIF_FLOW_A_REMOTE_PORT])
		flow->rport = htons(nla_get_u16(tb[CRAK_VIF_FLOW_A_REMOTE_PORT]));
	return 0;
}

static int crakvif_nl_put_addr(struct sk_buff *skb, int type, const struct crakvif_flow *f,
			       const struct in6_addr *addr)
{
	if (f->family == AF_INET)
		return nla_put_in_addr(skb, type, addr->s6_addr32[3]);
	return nla_put_in6_addr(skb, type, addr);
}

static int crakvif_nl_put_flow(struct sk_buff *skb, const struct crakvif_flow *f)
{
	struct nlattr *nest = nla_nest_start(skb, CRAK_VIF_A_FLOW);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u8(skb, CRAK_VIF_FLOW_A_PROTO, f->proto) ||
	    crakvif_nl_put_addr(skb, CRAK_VIF_FLOW_A_LOCAL_ADDR, f, &f->laddr) ||
	    nla_put_u16(skb, CRAK_VIF_FLOW_A_LOCAL_PORT, ntohs(f->lport)) ||
	    crakvif_nl_put_addr(skb, CRAK_VIF_FLOW_A_REMOTE_ADDR, f, &f->raddr) ||
	    nla_put_u16(skb, CRAK_VIF_FLOW_A_REMOTE_PORT, ntohs(f->rport))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* -- device state -------------------------------------------------------- */

static int crakvif_nl_put_dev(struct sk_buff *skb, const struct crakvif *vif)
{
	if (nla_put_u32(skb, CRAK_VIF_A_IFINDEX, vif->dev->ifindex) ||
	    nla_put_string(skb, CRAK_VIF_A_IFNAME, vif->dev->name))
		return -EMSGSIZE;
	return 0;
}

static int crakvif_nl_put_stats(struct sk_buff *skb, const struct crakvif_stats *s,
				u64 tx_frozen)
{
	struct nlattr *nest = nla_nest_start(skb, CRAK_VIF_A_STATS);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, CRAK_VIF_STATS_A_HELD, s->held, CRAK_VIF_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, CRAK_VIF_STATS_A_DELIVERED, s->delivered,
			      CRAK_VIF_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, CRAK_VIF_STATS_A_DROPPED, s->dropped, CRAK_VIF_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, CRAK_VIF_STATS_A_OVERFLOW, s->overflow,
			      CRAK_VIF_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, CRAK_VIF_STATS_A_EXPORTED, s->exported,
			      CRAK_VIF_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, CRAK_VIF_STATS_A_IMPORTED, s->imported,
			      CRAK_VIF_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, CRAK_VIF_STATS_A_TX_FROZEN, tx_frozen, CRAK_VIF_STATS_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int crakvif_nl_put_flows(struct sk_buff *skb, struct crakvif *vif, unsigned int max)
{
	const struct crakvif_flow *f;
	unsigned int n = 0;
	int i;

	hlist_for_each_entry(f, &vif->wild_flows, node) {
		if (n++ == max || crakvif_nl_put_flow(skb, f))
			return 0;
	}
	for (i = 0; i < ARRAY_SIZE(vif->flows); i++)
		hlist_for_each_entry(f, &vif->flows[i], node)
			if (n++ == max || crakvif_nl_put_flow(skb, f))
				return 0;
	return 0;
}

static int crakvif_nl_fill(struct sk_buff *skb, struct crakvif *vif, u32 portid, u32 seq,
			   int flags, unsigned int max_flows)
{
	void *hdr;
	int err;

	hdr = genlmsg_put(skb, portid, seq, &crakvif_genl_family, flags, CRAK_VIF_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (crakvif_nl_put_dev(skb, vif) ||
	    nla_put_u32(skb, CRAK_VIF_A_LINK, vif->lower->ifindex))
		goto err_cancel;

	spin_lock_bh(&vif->lock);
	err = nla_put_u8(skb, CRAK_VIF_A_FROZEN, test_bit(CRAKVIF_HOLD_DEVICE, &vif->hold)) ||
	      nla_put_u32(skb, CRAK_VIF_A_FLOWS, vif->nflows) ||
	      nla_put_u32(skb, CRAK_VIF_A_LIMIT_PACKETS, vif->limit_packets) ||
	      nla_put_u32(skb, CRAK_VIF_A_LIMIT_BYTES, vif->limit_bytes) ||
	      nla_put_u32(skb, CRAK_VIF_A_HELD_PACKETS,
			  skb_queue_len(&vif->held) + skb_queue_len(&vif->imported)) ||
	      nla_put_u32(skb, CRAK_VIF_A_HELD_BYTES, vif->queued_bytes) ||
	      crakvif_nl_put_stats(skb, &vif->stats, atomic64_read(&vif->tx_frozen)) ||
	      crakvif_nl_put_flows(skb, vif, max_flows);
	spin_unlock_bh(&vif->lock);
	if (err)
		goto err_cancel;

	genlmsg_end(skb, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* -- GET ----------------------------------------------------------------- */

static int crakvif_nl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	netdevice_tracker tracker;
	struct crakvif *vif;
	struct sk_buff *msg;
	unsigned int flows;
	int err;

	vif = crakvif_nl_find(genl_info_net(info), info->attrs, &tracker, info->extack);
	if (IS_ERR(vif))
		return PTR_ERR(vif);

	flows = min_t(unsigned int, READ_ONCE(vif->nflows), CRAKVIF_NL_FLOWS_DO);
	msg = genlmsg_new(NLMSG_GOODSIZE + flows * CRAKVIF_NL_FLOW_SIZE, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}
	err = crakvif_nl_fill(msg, vif, info->snd_portid, info->snd_seq, 0, CRAKVIF_NL_FLOWS_DO);
	if (err) {
		nlmsg_free(msg);
		goto out;
	}
	err = genlmsg_reply(msg, info);
out:
	crakvif_nl_put(vif, &tracker);
	return err;
}

static int crakvif_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr **attrs = crak_genl_dump_attrs(cb);
	struct net *net = sock_net(skb->sk);
	long idx = 0, start = cb->args[0];
	netdevice_tracker tracker;
	struct net_device *dev;
	struct crakvif *vif;
	int err = 0;

	/* A device named in the request: a dump of that one. */
	if (attrs[CRAK_VIF_A_IFINDEX] || attrs[CRAK_VIF_A_IFNAME]) {
		if (start)
			return 0;
		vif = crakvif_nl_find(net, attrs, &tracker, cb->extack);
		if (IS_ERR(vif))
			return PTR_ERR(vif);
		err = crakvif_nl_fill(skb, vif, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				      NLM_F_MULTI, CRAKVIF_NL_FLOWS_DUMP);
		crakvif_nl_put(vif, &tracker);
		cb->args[0] = 1;
		return err ?: skb->len;
	}

	rcu_read_lock();
	for_each_netdev_rcu(net, dev) {
		if (!crakvif_is(dev))
			continue;
		if (idx++ < start)
			continue;
		err = crakvif_nl_fill(skb, netdev_priv(dev), NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI, CRAKVIF_NL_FLOWS_DUMP);
		if (err) {
			idx--;
			break;
		}
	}
	rcu_read_unlock();
	cb->args[0] = idx;
	/* A device alone too big for an empty message cannot be dumped. */
	if (err && !skb->len)
		return err;
	return skb->len;
}

/* -- FREEZE, THAW, SET, ANNOUNCE ----------------------------------------- */

static int crakvif_nl_flow(struct genl_info *info, struct crakvif_flow *flow,
			   struct crakvif_flow **out)
{
	*out = NULL;
	if (!info->attrs[CRAK_VIF_A_FLOW])
		return 0;
	*out = flow;
	return crakvif_nl_parse_flow(info->attrs[CRAK_VIF_A_FLOW], flow, info->extack);
}

static int crakvif_nl_freeze_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct crakvif_flow flow, *f;
	netdevice_tracker tracker;
	struct crakvif *vif;
	int err;

	vif = crakvif_nl_find(genl_info_net(info), info->attrs, &tracker, info->extack);
	if (IS_ERR(vif))
		return PTR_ERR(vif);
	err = crakvif_nl_flow(info, &flow, &f);
	if (err)
		goto out;

	mutex_lock(&vif->ctl);
	err = crakvif_freeze(vif, f);
	mutex_unlock(&vif->ctl);
	switch (err) {
	case 0:
		crakvif_notify(vif, CRAK_VIF_CMD_FREEZE_NTF, f, 0, 0, GFP_KERNEL);
		break;
	case -EALREADY:
		NL_SET_ERR_MSG(info->extack, "device already frozen");
		break;
	case -EEXIST:
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CRAK_VIF_A_FLOW],
				    "flow already frozen");
		break;
	case -ENOSPC:
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CRAK_VIF_A_FLOW],
				    "too many frozen flows on this device");
		break;
	case -ENODEV:
		NL_SET_ERR_MSG(info->extack, "device is going away");
		break;
	}
out:
	crakvif_nl_put(vif, &tracker);
	return err;
}

static int crakvif_nl_counts_reply(struct genl_info *info, u8 cmd, int a_type, u32 a,
				   int b_type, u32 b)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &crakvif_genl_family, 0, cmd);
	if (!hdr || nla_put_u32(msg, a_type, a) || (b_type && nla_put_u32(msg, b_type, b))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int crakvif_nl_thaw_doit(struct sk_buff *skb, struct genl_info *info)
{
	bool drop = nla_get_flag(info->attrs[CRAK_VIF_A_DROP]);
	struct crakvif_flow flow, *f;
	netdevice_tracker tracker;
	u32 delivered, dropped;
	struct crakvif *vif;
	bool announce;
	int err;

	vif = crakvif_nl_find(genl_info_net(info), info->attrs, &tracker, info->extack);
	if (IS_ERR(vif))
		return PTR_ERR(vif);
	err = crakvif_nl_flow(info, &flow, &f);
	if (err)
		goto out;

	mutex_lock(&vif->ctl);
	err = crakvif_thaw(vif, f, drop, &delivered, &dropped, &announce);
	if (!err && announce)
		crakvif_announce(vif);
	mutex_unlock(&vif->ctl);
	switch (err) {
	case 0:
		crakvif_notify(vif, CRAK_VIF_CMD_THAW_NTF, f, delivered, dropped, GFP_KERNEL);
		err = crakvif_nl_counts_reply(info, CRAK_VIF_CMD_THAW, CRAK_VIF_A_DELIVERED,
					      delivered, CRAK_VIF_A_DROPPED, dropped);
		break;
	case -EALREADY:
		NL_SET_ERR_MSG(info->extack, "device not frozen");
		break;
	case -ENOENT:
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CRAK_VIF_A_FLOW], "flow not frozen");
		break;
	case -ENODEV:
		NL_SET_ERR_MSG(info->extack, "device is going away");
		break;
	}
out:
	crakvif_nl_put(vif, &tracker);
	return err;
}

static int crakvif_nl_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *packets = info->attrs[CRAK_VIF_A_LIMIT_PACKETS];
	struct nlattr *bytes = info->attrs[CRAK_VIF_A_LIMIT_BYTES];
	netdevice_tracker tracker;
	struct crakvif *vif;
	int err;

	if (!packets && !bytes) {
		NL_SET_ERR_MSG(info->extack, "nothing to set: give a packet or byte limit");
		return -EINVAL;
	}
	vif = crakvif_nl_find(genl_info_net(info), info->attrs, &tracker, info->extack);
	if (IS_ERR(vif))
		return PTR_ERR(vif);
	err = crakvif_set_limits(vif, packets ? nla_get_u32(packets) : 0,
				 bytes ? nla_get_u32(bytes) : 0);
	crakvif_nl_put(vif, &tracker);
	return err;
}

static int crakvif_nl_announce_doit(struct sk_buff *skb, struct genl_info *info)
{
	netdevice_tracker tracker;
	struct crakvif *vif;
	int err;

	vif = crakvif_nl_find(genl_info_net(info), info->attrs, &tracker, info->extack);
	if (IS_ERR(vif))
		return PTR_ERR(vif);
	if (!netif_running(vif->dev)) {
		NL_SET_ERR_MSG(info->extack, "device is down");
		err = -ENETDOWN;
	} else {
		mutex_lock(&vif->ctl);
		err = crakvif_announce(vif);
		mutex_unlock(&vif->ctl);
	}
	crakvif_nl_put(vif, &tracker);
	return err;
}

/* -- EXPORT -------------------------------------------------------------- */

struct crakvif_export_ctx {
	int ifindex;
	struct crakvif_export_pos pos;
};

struct crakvif_export_fill {
	struct sk_buff *skb;
	unsigned int frames;
};

static int crakvif_nl_export_frame(void *arg, const struct sk_buff *frame)
{
	struct crakvif_export_fill *fill = arg;
	struct sk_buff *skb = fill->skb;
	unsigned int len = frame->len + ETH_HLEN;
	struct nlattr *nest, *data;

	nest = nla_nest_start(skb, CRAK_VIF_A_FRAME);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, CRAK_VIF_FRAME_A_SEQ, CRAKVIF_CB(frame)->seq,
			      CRAK_VIF_FRAME_A_PAD) ||
	    nla_put_u64_64bit(skb, CRAK_VIF_FRAME_A_TIME, CRAKVIF_CB(frame)->time_ns,
			      CRAK_VIF_FRAME_A_PAD))
		goto err_cancel;
	data = nla_reserve(skb, CRAK_VIF_FRAME_A_DATA, len);
	if (!data || crakvif_frame_copy(frame, nla_data(data)))
		goto err_cancel;
	nla_nest_end(skb, nest);
	fill->frames++;
	return 0;

err_cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/*
 * Each part of the dump has room for the largest frame held (or that the
 * device's MTU lets come meanwhile), with the device's attributes: the
 * first part is made before the caller's first read, when netlink
 * allocates only a page's worth.
 */
static int crakvif_nl_export_start(struct netlink_callback *cb)
{
	netdevice_tracker tracker;
	struct crakvif *vif;
	unsigned int most;

	vif = crakvif_nl_find(sock_net(cb->skb->sk), crak_genl_dump_attrs(cb), &tracker, NULL);
	if (IS_ERR(vif))
		return 0;	/* (The dump says why.) */
	most = max(crakvif_held_max_len(vif), READ_ONCE(vif->dev->mtu) + VLAN_ETH_HLEN);
	crakvif_nl_put(vif, &tracker);
	cb->min_dump_alloc = NLMSG_GOODSIZE + nla_total_size(most);
	return 0;
}

static int crakvif_nl_export_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct crakvif_export_ctx *ctx = (void *)cb->ctx;
	struct crakvif_export_fill fill = { .skb = skb };
	struct net *net = sock_net(skb->sk);
	netdevice_tracker tracker;
	struct crakvif *vif;
	void *hdr;
	int err;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	if (ctx->ifindex) {
		/* Later parts: the same device, if it is still there. */
		vif = crakvif_nl_find_index(net, ctx->ifindex, &tracker);
		if (!vif)
			return -ENODEV;
	} else {
		vif = crakvif_nl_find(net, crak_genl_dump_attrs(cb), &tracker, cb->extack);
		if (IS_ERR(vif))
			return PTR_ERR(vif);
		ctx->ifindex = vif->dev->ifindex;
	}

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &crakvif_genl_family, NLM_F_MULTI, CRAK_VIF_CMD_EXPORT);
	if (!hdr) {
		err = -EMSGSIZE;
		goto out;
	}
	if (crakvif_nl_put_dev(skb, vif)) {
		genlmsg_cancel(skb, hdr);
		err = -EMSGSIZE;
		goto out;
	}
	err = crakvif_export_walk(vif, &ctx->pos, crakvif_nl_export_frame, &fill);
	if (!fill.frames) {
		genlmsg_cancel(skb, hdr);
		/* Done, or a frame that does not fit even an empty message. */
		err = err ? -EMSGSIZE : 0;
		goto out;
	}
	genlmsg_end(skb, hdr);
	err = skb->len;
out:
	crakvif_nl_put(vif, &tracker);
	return err;
}

static int crakvif_nl_export_doit(struct sk_buff *skb, struct genl_info *info)
{
	netdevice_tracker tracker;
	struct crakvif *vif;
	u32 dropped;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, CRAK_VIF_A_EXPORT_LAST)) {
		NL_SET_ERR_MSG(info->extack, "give the last seq an export returned");
		return -EINVAL;
	}
	vif = crakvif_nl_find(genl_info_net(info), info->attrs, &tracker, info->extack);
	if (IS_ERR(vif))
		return PTR_ERR(vif);

	mutex_lock(&vif->ctl);
	err = crakvif_export_drop(vif, nla_get_u64(info->attrs[CRAK_VIF_A_EXPORT_LAST]),
				  &dropped);
	mutex_unlock(&vif->ctl);
	if (!err)
		err = crakvif_nl_counts_reply(info, CRAK_VIF_CMD_EXPORT, CRAK_VIF_A_DROPPED,
					      dropped, 0, 0);
	crakvif_nl_put(vif, &tracker);
	return err;
}

/* -- IMPORT -------------------------------------------------------------- */

static int crakvif_nl_import_frames(struct crakvif *vif, struct genl_info *info,
				    struct sk_buff_head *frames)
{
	struct nlattr *tb[CRAK_VIF_FRAME_A_MAX + 1];
	struct nlattr *attr, *data;
	struct sk_buff *skb;
	u64 time;
	int rem, err;

	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != CRAK_VIF_A_FRAME)
			continue;
		err = nla_parse_nested(tb, CRAK_VIF_FRAME_A_MAX, attr, crakvif_frame_policy,
				       info->extack);
		if (err)
			return err;
		data = tb[CRAK_VIF_FRAME_A_DATA];
		if (!data) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "frame without data");
			return -EINVAL;
		}
		if (nla_len(data) < ETH_HLEN) {
			NL_SET_ERR_MSG_ATTR(info->extack, data, "frame too short");
			return -EINVAL;
		}
		time = tb[CRAK_VIF_FRAME_A_TIME] ? nla_get_u64(tb[CRAK_VIF_FRAME_A_TIME]) : 0;
		skb = crakvif_frame_from_user(vif, nla_data(data), nla_len(data), time);
		if (IS_ERR(skb))
			return PTR_ERR(skb);
		__skb_queue_tail(frames, skb);
	}
	if (skb_queue_empty(frames)) {
		NL_SET_ERR_MSG(info->extack, "no frames to import");
		return -EINVAL;
	}
	return 0;
}

static int crakvif_nl_import_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff_head frames;
	netdevice_tracker tracker;
	struct crakvif *vif;
	unsigned int n;
	int err;

	vif = crakvif_nl_find(genl_info_net(info), info->attrs, &tracker, info->extack);
	if (IS_ERR(vif))
		return PTR_ERR(vif);

	__skb_queue_head_init(&frames);
	err = crakvif_nl_import_frames(vif, info, &frames);
	if (err)
		goto out;
	n = skb_queue_len(&frames);

	mutex_lock(&vif->ctl);
	err = crakvif_import(vif, &frames);
	mutex_unlock(&vif->ctl);
	switch (err) {
	case 0:
		crakvif_notify(vif, CRAK_VIF_CMD_IMPORT_NTF, NULL, n, 0, GFP_KERNEL);
		err = crakvif_nl_counts_reply(info, CRAK_VIF_CMD_IMPORT, CRAK_VIF_A_IMPORTED, n,
					      0, 0);
		break;
	case -EINVAL:
		NL_SET_ERR_MSG(info->extack, "device not frozen: import needs it frozen whole");
		break;
	case -ENOBUFS:
		NL_SET_ERR_MSG(info->extack, "frames do not fit under the held-queue limits");
		break;
	case -ENODEV:
		NL_SET_ERR_MSG(info->extack, "device is going away");
		break;
	}
out:
	__skb_queue_purge(&frames);
	crakvif_nl_put(vif, &tracker);
	return err;
}

/* -- events -------------------------------------------------------------- */

void crakvif_notify(struct crakvif *vif, u8 cmd, const struct crakvif_flow *flow,
		    u32 a, u32 b, gfp_t gfp)
{
	struct net *net = dev_net(vif->dev);
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (!genl_has_listeners(&crakvif_genl_family, net, CRAKVIF_NLGRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &crakvif_genl_family, 0, cmd);
	if (!hdr)
		goto err_free;
	err = crakvif_nl_put_dev(msg, vif);
	if (!err && flow)
		err = crakvif_nl_put_flow(msg, flow);
	if (!err) {
		switch (cmd) {
		case CRAK_VIF_CMD_FREEZE_NTF:
			err = nla_put_u8(msg, CRAK_VIF_A_FROZEN, !flow);
			break;
		case CRAK_VIF_CMD_THAW_NTF:
			err = nla_put_u32(msg, CRAK_VIF_A_DELIVERED, a) ||
			      nla_put_u32(msg, CRAK_VIF_A_DROPPED, b);
			break;
		case CRAK_VIF_CMD_OVERFLOW_NTF:
			err = nla_put_u32(msg, CRAK_VIF_A_HELD_PACKETS, a) ||
			      nla_put_u32(msg, CRAK_VIF_A_HELD_BYTES, b);
			break;
		case CRAK_VIF_CMD_IMPORT_NTF:
			err = nla_put_u32(msg, CRAK_VIF_A_IMPORTED, a);
			break;
		}
	}
	if (err)
		goto err_free;
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&crakvif_genl_family, net, msg, 0, CRAKVIF_NLGRP_EVENTS, gfp);
	return;

err_free:
	nlmsg_free(msg);
}

/* -- the family ---------------------------------------------------------- */

static const struct genl_ops crakvif_genl_ops[] = {
	{
		.cmd		= CRAK_VIF_CMD_GET,
		.doit		= crakvif_nl_get_doit,
		.dumpit		= crakvif_nl_get_dumpit,
		.policy		= crakvif_dev_policy,
		.maxattr	= CRAK_VIF_A_MAX,
	},
	{
		.cmd		= CRAK_VIF_CMD_FREEZE,
		.doit		= crakvif_nl_freeze_doit,
		.policy		= crakvif_freeze_policy,
		.maxattr	= CRAK_VIF_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= CRAK_VIF_CMD_THAW,
		.doit		= crakvif_nl_thaw_doit,
		.policy		= crakvif_thaw_policy,
		.maxattr	= CRAK_VIF_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= CRAK_VIF_CMD_SET,
		.doit		= crakvif_nl_set_doit,
		.policy		= crakvif_set_policy,
		.maxattr	= CRAK_VIF_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= CRAK_VIF_CMD_EXPORT,
		.doit		= crakvif_nl_export_doit,
		.start		= crakvif_nl_export_start,
		.dumpit		= crakvif_nl_export_dumpit,
		.policy		= crakvif_export_policy,
		.maxattr	= CRAK_VIF_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= CRAK_VIF_CMD_IMPORT,
		.doit		= crakvif_nl_import_doit,
		.policy		= crakvif_import_policy,
		.maxattr	= CRAK_VIF_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= CRAK_VIF_CMD_ANNOUNCE,
		.doit		= crakvif_nl_announce_doit,
		.policy		= crakvif_dev_policy,
		.maxattr	= CRAK_VIF_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group crakvif_genl_mcgrps[] = {
	[CRAKVIF_NLGRP_EVENTS] = {
		.name	= CRAK_VIF_MCGRP_EVENTS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family crakvif_genl_family = {
	.name		= CRAK_VIF_FAMILY_NAME,
	.version	= CRAK_VIF_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= crakvif_genl_ops,
	.n_ops		= ARRAY_SIZE(crakvif_genl_ops),
	.mcgrps		= crakvif_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(crakvif_genl_mcgrps),
};

int crakvif_genl_init(void)
{
	return genl_register_family(&crakvif_genl_family);
}

void crakvif_genl_exit(void)
{
	genl_unregister_family(&crakvif_genl_family);
}
