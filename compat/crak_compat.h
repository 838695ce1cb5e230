/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where crak's kernel code bends to the kernel it is built
 * for.  Every difference is probed from the kernel's headers by
 * compat/probe.sh at build time (see the top-level Kbuild), not guessed from
 * LINUX_VERSION_CODE: Debian's 6.1 carries many backports.
 */

#ifndef _CRAK_COMPAT_H
#define _CRAK_COMPAT_H

#include <linux/netdevice.h>
#include <net/genetlink.h>

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

/* 6.2 moved a dump's parsed request into a struct genl_info. */
static inline struct nlattr **crak_genl_dump_attrs(struct netlink_callback *cb)
{
#ifdef CRAK_HAVE_GENL_DUMPIT_INFO_INFO
	return genl_dumpit_info(cb)->info.attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#endif /* _CRAK_COMPAT_H */
