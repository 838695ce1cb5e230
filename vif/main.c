// SPDX-License-Identifier: GPL-2.0
/*
 * crak_vif: a virtual Ethernet device that owns a migratable process's
 * address on whichever host the process runs, and holds its inbound packets
 * while the process is frozen or moving (see uapi/linux/crak_vif.h).
 *
 * This file is the device.  A crakvif sits on a lower Ethernet device with a
 * MAC address of its own.  The first crakvif on a lower device registers a
 * receive handler there (the "port"), which hands each crakvif the frames
 * addressed to its MAC and a copy of broadcast and multicast frames.  Frames
 * one crakvif sends to another on the same lower device are delivered
 * directly; everything else goes out through the lower device.  While nothing
 * is frozen, a frame pays one predictable branch for the holding logic of
 * hold.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rculist.h>
#include <linux/rtnetlink.h>
#include <net/rtnetlink.h>

#include "crak_compat.h"
#include "crakvif.h"

#define CRAKVIF_OFFLOADS (NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA | \
			  NETIF_F_FRAGLIST | NETIF_F_GSO_SOFTWARE | NETIF_F_RXCSUM)

static rx_handler_result_t crakvif_handle_frame(struct sk_buff **pskb);

/* -- the port: the lower device's side ------------------------------------ */

static bool crakvif_is_port(const struct net_device *lower)
{
	return rcu_access_pointer(lower->rx_handler) == crakvif_handle_frame;
}

static struct crakvif_port *crakvif_port_rcu(const struct net_device *lower)
{
	return rcu_dereference(lower->rx_handler_data);
}

static struct crakvif_port *crakvif_port_rtnl(const struct net_device *lower)
{
	return crakvif_is_port(lower) ? rtnl_dereference(lower->rx_handler_data) : NULL;
}

static struct crakvif_port *crakvif_port_create(struct net_device *lower)
{
	struct crakvif_port *port;
	int err;

	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return ERR_PTR(-ENOMEM);
	port->lower = lower;
	INIT_LIST_HEAD(&port->vifs);
	err = netdev_rx_handler_register(lower, crakvif_handle_frame, port);
	if (err) {
		kfree(port);
		return ERR_PTR(err);
	}
	return port;
}

static void crakvif_port_destroy(struct crakvif_port *port)
{
	/* Waits for the receive handlers still running on other CPUs. */
	netdev_rx_handler_unregister(port->lower);
	kfree(port);
}

static struct hlist_head *crakvif_mac_bucket(struct crakvif_port *port, const u8 *mac)
{
	u32 h = jhash(mac, ETH_ALEN, 0);

	return &port->by_mac[hash_32(h, CRAKVIF_HASH_BITS)];
}

/* A crakvif of the port that is up and owns mac, under RCU. */
static struct crakvif *crakvif_lookup(struct crakvif_port *port, const u8 *mac)
{
	struct crakvif *vif;

	hlist_for_each_entry_rcu(vif, crakvif_mac_bucket(port, mac), mac_node)
		if (ether_addr_equal(vif->dev->dev_addr, mac))
			return vif;
	return NULL;
}

/* Is mac taken on this lower device, by it or by another crakvif? */
static bool crakvif_mac_busy(struct crakvif_port *port, struct net_device *lower,
			     const struct net_device *self, const u8 *mac)
{
	struct crakvif *vif;

	if (ether_addr_equal(lower->dev_addr, mac))
		return true;
	if (!port)
		return false;
	list_for_each_entry(vif, &port->vifs, list)
		if (vif->dev != self && ether_addr_equal(vif->dev->dev_addr, mac))
			return true;
	return false;
}

/* -- receive ------------------------------------------------------------- */

void crakvif_count_rx(struct crakvif *vif, unsigned int len)
{
	dev_sw_netstats_rx_add(vif->dev, len);
}

/* skb is the device's now (dev set, data at the network header): hold it
 * or pass it to the stack.
 */
static void crakvif_deliver(struct crakvif *vif, struct sk_buff *skb)
{
	if (unlikely(READ_ONCE(vif->hold)) && crakvif_hold_rx(vif, skb))
		return;
	crakvif_count_rx(vif, skb->len + ETH_HLEN);
	netif_rx(skb);
}

/* A copy of a broadcast or multicast frame from the wire to each crakvif. */
static void crakvif_flood_rx(struct crakvif_port *port, struct sk_buff *skb)
{
	struct crakvif *vif;
	struct sk_buff *nskb;

	list_for_each_entry_rcu(vif, &port->vifs, list) {
		if (!(vif->dev->flags & IFF_UP))
			continue;
		nskb = skb_clone(skb, GFP_ATOMIC);
		if (!nskb) {
			dev_core_stats_rx_dropped_inc(vif->dev);
			continue;
		}
		nskb->dev = vif->dev;
		crakvif_deliver(vif, nskb);
	}
}

static rx_handler_result_t crakvif_handle_frame(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	const struct ethhdr *eth = eth_hdr(skb);
	struct crakvif_port *port;
	struct crakvif *vif;

	/* dev_loopback_xmit() frames have no Ethernet header. */
	if (unlikely(skb->pkt_type == PACKET_LOOPBACK))
		return RX_HANDLER_PASS;

	port = crakvif_port_rcu(skb->dev);
	if (is_multicast_ether_addr(eth->h_dest)) {
		crakvif_flood_rx(port, skb);
		return RX_HANDLER_PASS;
	}

	vif = crakvif_lookup(port, eth->h_dest);
	if (!vif)
		return RX_HANDLER_PASS;

	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb) {
		dev_core_stats_rx_dropped_inc(vif->dev);
		return RX_HANDLER_CONSUMED;
	}
	*pskb = skb;
	skb->dev = vif->dev;
	skb->pkt_type = PACKET_HOST;

	if (unlikely(READ_ONCE(vif->hold)) && crakvif_hold_rx(vif, skb))
		return RX_HANDLER_CONSUMED;
	crakvif_count_rx(vif, skb->len + ETH_HLEN);
	return RX_HANDLER_ANOTHER;
}

/* -- transmit ------------------------------------------------------------ */

/* A frame from one crakvif to the others of its port, as if received. */
static void crakvif_forward(struct crakvif *to, struct sk_buff *skb)
{
	if (__dev_forward_skb(to->dev, skb) == NET_RX_SUCCESS)
		crakvif_deliver(to, skb);
}

static void crakvif_flood_tx(struct crakvif *from, struct sk_buff *skb)
{
	struct crakvif *vif;
	struct sk_buff *nskb;

	list_for_each_entry_rcu(vif, &from->port->vifs, list) {
		if (vif == from || !(vif->dev->flags & IFF_UP))
			continue;
		nskb = skb_clone(skb, GFP_ATOMIC);
		if (nskb)
			crakvif_forward(vif, nskb);
		else
			dev_core_stats_rx_dropped_inc(vif->dev);
	}
}

static netdev_tx_t crakvif_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	const struct ethhdr *eth = (const struct ethhdr *)skb->data;
	struct crakvif *vif = netdev_priv(dev);
	unsigned int len = skb->len;
	struct crakvif *dest;
	int ret;

	if (unlikely(READ_ONCE(vif->hold)) && crakvif_hold_tx(vif, skb)) {
		atomic64_inc(&vif->tx_frozen);
		dev_core_stats_tx_dropped_inc(dev);
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}

	if (is_multicast_ether_addr(eth->h_dest)) {
		crakvif_flood_tx(vif, skb);
	} else {
		dest = crakvif_lookup(vif->port, eth->h_dest);
		if (dest) {
			dev_sw_netstats_tx_add(dev, 1, len);
			crakvif_forward(dest, skb);
			return NETDEV_TX_OK;
		}
	}

	skb->dev = vif->lower;
	ret = dev_queue_xmit(skb);
	if (likely(ret == NET_XMIT_SUCCESS || ret == NET_XMIT_CN))
		dev_sw_netstats_tx_add(dev, 1, len);
	else
		dev_core_stats_tx_dropped_inc(dev);
	return NETDEV_TX_OK;
}

/* -- netdev ops ---------------------------------------------------------- */

static int crakvif_init(struct net_device *dev)
{
	struct crakvif *vif = netdev_priv(dev);

	netdev_lockdep_set_classes(dev);
	netdev_hold(vif->lower, &vif->lower_tracker, GFP_KERNEL);
	list_add_tail_rcu(&vif->list, &vif->port->vifs);
	return 0;
}

static void crakvif_uninit(struct net_device *dev)
{
	struct crakvif *vif = netdev_priv(dev);
	struct crakvif_port *port = vif->port;

	list_del_rcu(&vif->list);
	crakvif_hold_destroy(vif);
	if (list_empty(&port->vifs))
		crakvif_port_destroy(port);
}

/*
 * The lower device is let go of with the last reference to the crakvif (as
 * macvlan does): a netlink request holding one reads it.
 */
static void crakvif_dev_free(struct net_device *dev)
{
	struct crakvif *vif = netdev_priv(dev);

	netdev_put(vif->lower, &vif->lower_tracker);
}

static int crakvif_open(struct net_device *dev)
{
	struct crakvif *vif = netdev_priv(dev);
	struct net_device *lower = vif->lower;
	int err;

	err = dev_uc_add(lower, dev->dev_addr);
	if (err)
		return err;
	if (dev->flags & IFF_ALLMULTI) {
		err = dev_set_allmulti(lower, 1);
		if (err)
			goto err_uc;
	}
	if (dev->flags & IFF_PROMISC) {
		err = dev_set_promiscuity(lower, 1);
		if (err)
			goto err_allmulti;
	}
	hlist_add_head_rcu(&vif->mac_node, crakvif_mac_bucket(vif->port, dev->dev_addr));
	return 0;

err_allmulti:
	if (dev->flags & IFF_ALLMULTI)
		dev_set_allmulti(lower, -1);
err_uc:
	dev_uc_del(lower, dev->dev_addr);
	return err;
}

static int crakvif_stop(struct net_device *dev)
{
	struct crakvif *vif = netdev_priv(dev);
	struct net_device *lower = vif->lower;

	hlist_del_init_rcu(&vif->mac_node);
	dev_uc_unsync(lower, dev);
	dev_mc_unsync(lower, dev);
	if (dev->flags & IFF_PROMISC)
		dev_set_promiscuity(lower, -1);
	if (dev->flags & IFF_ALLMULTI)
		dev_set_allmulti(lower, -1);
	dev_uc_del(lower, dev->dev_addr);
	return 0;
}

static int crakvif_set_mac_address(struct net_device *dev, void *p)
{
	struct crakvif *vif = netdev_priv(dev);
	const struct sockaddr *addr = p;
	int err;

	if (!is_valid_ether_addr(addr->sa_data))
		return -EADDRNOTAVAIL;
	if (ether_addr_equal(dev->dev_addr, addr->sa_data))
		return 0;
	if (crakvif_mac_busy(vif->port, vif->lower, dev, addr->sa_data))
		return -EADDRINUSE;

	if (dev->flags & IFF_UP) {
		err = dev_uc_add(vif->lower, addr->sa_data);
		if (err)
			return err;
		dev_uc_del(vif->lower, dev->dev_addr);
		hlist_del_init_rcu(&vif->mac_node);
	}
	eth_hw_addr_set(dev, addr->sa_data);
	if (dev->flags & IFF_UP)
		hlist_add_head_rcu(&vif->mac_node, crakvif_mac_bucket(vif->port, dev->dev_addr));
	return 0;
}

static void crakvif_change_rx_flags(struct net_device *dev, int change)
{
	struct crakvif *vif = netdev_priv(dev);

	if (!(dev->flags & IFF_UP))
		return;
	if (change & IFF_ALLMULTI)
		dev_set_allmulti(vif->lower, dev->flags & IFF_ALLMULTI ? 1 : -1);
	if (change & IFF_PROMISC)
		dev_set_promiscuity(vif->lower, dev->flags & IFF_PROMISC ? 1 : -1);
}

static void crakvif_set_rx_mode(struct net_device *dev)
{
	struct crakvif *vif = netdev_priv(dev);

	dev_uc_sync(vif->lower, dev);
	dev_mc_sync(vif->lower, dev);
}

static int crakvif_change_mtu(struct net_device *dev, int mtu)
{
	struct crakvif *vif = netdev_priv(dev);

	if (mtu > vif->lower->mtu)
		return -EINVAL;
	WRITE_ONCE(dev->mtu, mtu);
	return 0;
}

static int crakvif_get_iflink(const struct net_device *dev)
{
	const struct crakvif *vif = netdev_priv(dev);

	return READ_ONCE(vif->lower->ifindex);
}

static const struct net_device_ops crakvif_netdev_ops = {
	.ndo_init		= crakvif_init,
	.ndo_uninit		= crakvif_uninit,
	.ndo_open		= crakvif_open,
	.ndo_stop		= crakvif_stop,
	.ndo_start_xmit		= crakvif_start_xmit,
	.ndo_set_mac_address	= crakvif_set_mac_address,
	.ndo_change_rx_flags	= crakvif_change_rx_flags,
	.ndo_set_rx_mode	= crakvif_set_rx_mode,
	.ndo_change_mtu		= crakvif_change_mtu,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_get_stats64	= dev_get_tstats64,
	.ndo_get_iflink		= crakvif_get_iflink,
};

static void crakvif_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
}

static const struct ethtool_ops crakvif_ethtool_ops = {
	.get_drvinfo		= crakvif_get_drvinfo,
	.get_link		= ethtool_op_get_link,
};

/* -- rtnl_link_ops ------------------------------------------------------- */

static void crakvif_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &crakvif_netdev_ops;
	dev->ethtool_ops = &crakvif_ethtool_ops;
	dev->needs_free_netdev = true;
	dev->priv_destructor = crakvif_dev_free;
	dev->priv_flags |= IFF_NO_QUEUE | IFF_LIVE_ADDR_CHANGE;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	crak_set_lltx(dev);
	dev->features |= CRAKVIF_OFFLOADS;
	dev->hw_features |= CRAKVIF_OFFLOADS;
	dev->vlan_features |= CRAKVIF_OFFLOADS;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = ETH_MAX_MTU;
}

static const struct nla_policy crakvif_policy[IFLA_CRAKVIF_MAX + 1] = {
	[IFLA_CRAKVIF_FROZEN]		= { .type = NLA_REJECT,
					    .reject_message = "freeze state is set with crak_vif" },
	[IFLA_CRAKVIF_FLOWS]		= { .type = NLA_REJECT,
					    .reject_message = "flows are frozen with crak_vif" },
	[IFLA_CRAKVIF_HELD_PACKETS]	= { .type = NLA_REJECT,
					    .reject_message = "held packets are read-only" },
	[IFLA_CRAKVIF_HELD_BYTES]	= { .type = NLA_REJECT,
					    .reject_message = "held bytes are read-only" },
	[IFLA_CRAKVIF_LIMIT_PACKETS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &crakvif_limit_packets),
	[IFLA_CRAKVIF_LIMIT_BYTES]	= NLA_POLICY_FULL_RANGE(NLA_U32, &crakvif_limit_bytes),
};

static int crakvif_validate(struct nlattr *tb[], struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	struct nlattr *addr = tb[IFLA_ADDRESS];

	if (!addr)
		return 0;
	if (nla_len(addr) != ETH_ALEN) {
		NL_SET_ERR_MSG_ATTR(extack, addr, "address is not a MAC address");
		return -EINVAL;
	}
	if (!is_valid_ether_addr(nla_data(addr))) {
		NL_SET_ERR_MSG_ATTR(extack, addr, "address is not a unicast MAC address");
		return -EADDRNOTAVAIL;
	}
	return 0;
}

static int crakvif_apply_limits(struct crakvif *vif, struct nlattr *data[])
{
	u32 packets = 0, bytes = 0;

	if (!data)
		return 0;
	if (data[IFLA_CRAKVIF_LIMIT_PACKETS])
		packets = nla_get_u32(data[IFLA_CRAKVIF_LIMIT_PACKETS]);
	if (data[IFLA_CRAKVIF_LIMIT_BYTES])
		bytes = nla_get_u32(data[IFLA_CRAKVIF_LIMIT_BYTES]);
	return crakvif_set_limits(vif, packets, bytes);
}

static int crakvif_check_lower(struct net_device *lower, struct netlink_ext_ack *extack,
			       struct nlattr *attr)
{
	if (lower->type != ARPHRD_ETHER || lower->addr_len != ETH_ALEN ||
	    (lower->flags & IFF_LOOPBACK)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "the lower device is not an Ethernet device");
		return -EINVAL;
	}
	if (crakvif_is(lower)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "a crakvif cannot sit on another crakvif");
		return -EINVAL;
	}
	if (rcu_access_pointer(lower->rx_handler) && !crakvif_is_port(lower)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the lower device is taken by a bridge, bond, macvlan or the like");
		return -EBUSY;
	}
	return 0;
}

static int crakvif_newlink(struct net *src_net, struct net_device *dev, struct nlattr *tb[],
			   struct nlattr *data[], struct netlink_ext_ack *extack)
{
	struct crakvif *vif = netdev_priv(dev);
	struct crakvif_port *port;
	struct net_device *lower;
	bool new_port = false;
	int err;

	if (!tb[IFLA_LINK]) {
		NL_SET_ERR_MSG(extack, "a crakvif needs a lower device (link DEV)");
		return -EINVAL;
	}
	lower = __dev_get_by_index(src_net, nla_get_u32(tb[IFLA_LINK]));
	if (!lower) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_LINK], "no such lower device");
		return -ENODEV;
	}
	err = crakvif_check_lower(lower, extack, tb[IFLA_LINK]);
	if (err)
		return err;

	if (!tb[IFLA_MTU]) {
		dev->mtu = lower->mtu;
	} else if (dev->mtu > lower->mtu) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_MTU], "MTU above the lower device's");
		return -EINVAL;
	}
	dev->max_mtu = lower->max_mtu;

	port = crakvif_port_rtnl(lower);
	if (!tb[IFLA_ADDRESS])
		eth_hw_addr_random(dev);
	if (crakvif_mac_busy(port, lower, dev, dev->dev_addr)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS],
				    "address already used on this lower device");
		return -EADDRINUSE;
	}

	vif->dev = dev;
	vif->lower = lower;
	crakvif_hold_init(vif);
	err = crakvif_apply_limits(vif, data);
	if (err)
		return err;
	netif_inherit_tso_max(dev, lower);

	if (!port) {
		port = crakvif_port_create(lower);
		if (IS_ERR(port)) {
			NL_SET_ERR_MSG(extack, "cannot attach to the lower device");
			return PTR_ERR(port);
		}
		new_port = true;
	}
	vif->port = port;

	err = register_netdevice(dev);
	if (err)
		goto err_port;
	err = netdev_upper_dev_link(lower, dev, extack);
	if (err)
		goto err_unregister;
	netif_stacked_transfer_operstate(lower, dev);
	linkwatch_fire_event(dev);
	return 0;

err_unregister:
	/* crakvif_uninit() lets go of the port. */
	unregister_netdevice(dev);
	return err;
err_port:
	/* register_netdevice() may have failed after crakvif_init(). */
	if (new_port && crakvif_port_rtnl(lower) == port && list_empty(&port->vifs))
		crakvif_port_destroy(port);
	return err;
}

static void crakvif_dellink(struct net_device *dev, struct list_head *head)
{
	struct crakvif *vif = netdev_priv(dev);

	netdev_upper_dev_unlink(vif->lower, dev);
	unregister_netdevice_queue(dev, head);
}

static int crakvif_changelink(struct net_device *dev, struct nlattr *tb[],
			      struct nlattr *data[], struct netlink_ext_ack *extack)
{
	return crakvif_apply_limits(netdev_priv(dev), data);
}

static size_t crakvif_get_size(const struct net_device *dev)
{
	return nla_total_size(sizeof(u8)) +	/* IFLA_CRAKVIF_FROZEN */
	       nla_total_size(sizeof(u32)) +	/* IFLA_CRAKVIF_FLOWS */
	       nla_total_size(sizeof(u32)) +	/* IFLA_CRAKVIF_HELD_PACKETS */
	       nla_total_size(sizeof(u32)) +	/* IFLA_CRAKVIF_HELD_BYTES */
	       nla_total_size(sizeof(u32)) +	/* IFLA_CRAKVIF_LIMIT_PACKETS */
	       nla_total_size(sizeof(u32));	/* IFLA_CRAKVIF_LIMIT_BYTES */
}

static int crakvif_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	struct crakvif *vif = netdev_priv(dev);
	u32 flows, packets, bytes, lpackets, lbytes;
	bool frozen;

	spin_lock_bh(&vif->lock);
	frozen = test_bit(CRAKVIF_HOLD_DEVICE, &vif->hold);
	flows = vif->nflows;
	packets = skb_queue_len(&vif->held) + skb_queue_len(&vif->imported);
	bytes = vif->queued_bytes;
	lpackets = vif->limit_packets;
	lbytes = vif->limit_bytes;
	spin_unlock_bh(&vif->lock);

	if (nla_put_u8(skb, IFLA_CRAKVIF_FROZEN, frozen) ||
	    nla_put_u32(skb, IFLA_CRAKVIF_FLOWS, flows) ||
	    nla_put_u32(skb, IFLA_CRAKVIF_HELD_PACKETS, packets) ||
	    nla_put_u32(skb, IFLA_CRAKVIF_HELD_BYTES, bytes) ||
	    nla_put_u32(skb, IFLA_CRAKVIF_LIMIT_PACKETS, lpackets) ||
	    nla_put_u32(skb, IFLA_CRAKVIF_LIMIT_BYTES, lbytes))
		return -EMSGSIZE;
	return 0;
}

static struct net *crakvif_get_link_net(const struct net_device *dev)
{
	const struct crakvif *vif = netdev_priv(dev);

	return dev_net(vif->lower);
}

struct rtnl_link_ops crakvif_link_ops __read_mostly = {
	.kind		= CRAK_VIF_KIND,
	.priv_size	= sizeof(struct crakvif),
	.setup		= crakvif_setup,
	.maxtype	= IFLA_CRAKVIF_MAX,
	.policy		= crakvif_policy,
	.validate	= crakvif_validate,
	.newlink	= crakvif_newlink,
	.changelink	= crakvif_changelink,
	.dellink	= crakvif_dellink,
	.get_size	= crakvif_get_size,
	.fill_info	= crakvif_fill_info,
	.get_link_net	= crakvif_get_link_net,
};

/* -- announce ------------------------------------------------------------ */

/*
 * A gratuitous ARP and an unsolicited neighbour advertisement for each of the
 * device's addresses, by the kernel's own IPv4 and IPv6 code, synchronously
 * through our xmit, which lets them out even while frozen.  A device frozen
 * whole that announces has claimed its addresses (a move's destination,
 * before its process runs): until its thaw, its neighbour solicitations go
 * out too, so that the first packets of its restored connections do not
 * wait out a lost one.  RTNL held.
 */
static void __crakvif_announce(struct crakvif *vif)
{
	if (test_bit(CRAKVIF_HOLD_DEVICE, &vif->hold))
		WRITE_ONCE(vif->claimed, true);
	WRITE_ONCE(vif->announcing, true);
	__netdev_notify_peers(vif->dev);
	WRITE_ONCE(vif->announcing, false);
}

int crakvif_announce(struct crakvif *vif)
{
	rtnl_lock();
	__crakvif_announce(vif);
	rtnl_unlock();
	return 0;
}

/* -- device events: the lower device's, and our own coming up ------------- */

/* One of ours came up: announce its addresses if a thaw after an import
 * could not, the device being down then.
 */
static void crakvif_up(struct net_device *dev)
{
	struct crakvif *vif = netdev_priv(dev);

	if (crakvif_take_pending_announce(vif))
		__crakvif_announce(vif);
}

static int crakvif_lower_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *lower = netdev_notifier_info_to_dev(ptr);
	struct crakvif_port *port;
	struct crakvif *vif, *next;
	LIST_HEAD(kill);

	if (crakvif_is(lower)) {
		if (event == NETDEV_UP)
			crakvif_up(lower);
		return NOTIFY_DONE;
	}
	port = crakvif_port_rtnl(lower);
	if (!port)
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		list_for_each_entry(vif, &port->vifs, list)
			netif_stacked_transfer_operstate(lower, vif->dev);
		break;
	case NETDEV_CHANGEMTU:
		list_for_each_entry(vif, &port->vifs, list) {
			vif->dev->max_mtu = lower->max_mtu;
			if (vif->dev->mtu > lower->mtu)
				dev_set_mtu(vif->dev, lower->mtu);
		}
		break;
	case NETDEV_FEAT_CHANGE:
		list_for_each_entry(vif, &port->vifs, list)
			netif_inherit_tso_max(vif->dev, lower);
		break;
	case NETDEV_PRE_TYPE_CHANGE:
		return NOTIFY_BAD;
	case NETDEV_UNREGISTER:
		/* A move to another namespace unregisters and registers again. */
		if (lower->reg_state != NETREG_UNREGISTERING)
			break;
		/*
		 * (Not those deleted in the same batch, which dellink left in
		 * the list until their uninit: a second unregister is a BUG.)
		 */
		list_for_each_entry_safe(vif, next, &port->vifs, list)
			if (vif->dev->reg_state == NETREG_REGISTERED)
				crakvif_link_ops.dellink(vif->dev, &kill);
		unregister_netdevice_many(&kill);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block crakvif_notifier = {
	.notifier_call = crakvif_lower_event,
};

/* -- module -------------------------------------------------------------- */

static int __init crakvif_module_init(void)
{
	int err;

	err = register_netdevice_notifier(&crakvif_notifier);
	if (err)
		return err;
	err = crakvif_genl_init();
	if (err)
		goto err_notifier;
	err = rtnl_link_register(&crakvif_link_ops);
	if (err)
		goto err_genl;
	return 0;

err_genl:
	crakvif_genl_exit();
err_notifier:
	unregister_netdevice_notifier(&crakvif_notifier);
	return err;
}

static void __exit crakvif_module_exit(void)
{
	/* Deletes every crakvif, and with them their held frames. */
	rtnl_link_unregister(&crakvif_link_ops);
	crakvif_genl_exit();
	unregister_netdevice_notifier(&crakvif_notifier);
}

module_init(crakvif_module_init);
module_exit(crakvif_module_exit);

MODULE_DESCRIPTION("crak: a stable address for migratable processes, holding their inbound packets");
MODULE_LICENSE("GPL");
MODULE_ALIAS_RTNL_LINK(CRAK_VIF_KIND);
MODULE_ALIAS_GENL_FAMILY(CRAK_VIF_FAMILY_NAME);
