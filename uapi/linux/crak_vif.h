/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * crak_vif: a stable address for a migratable process, and a place to hold
 * its inbound packets while it is frozen or moving.
 *
 * A crakvif device is an Ethernet device with its own MAC address on a lower
 * Ethernet device (like macvlan in bridge mode): it receives the lower
 * device's frames for its MAC plus broadcast and multicast, and transmits
 * through the lower device.  It is created with rtnetlink
 * ("ip link add link eth0 name pod0 type crakvif") and usually moved into
 * the network namespace of the process that owns its addresses.
 *
 * Freezing.  A device can be frozen as a whole, or per flow (protocol, local
 * address and port, remote address and port; an unspecified address or a
 * zero port matches any).  While frozen:
 *   - every inbound frame it matches is held, in arrival order, in a bounded
 *     queue instead of reaching the stack: the stack never sees it, so it
 *     can never answer it (no ACK, RST or ICMP);
 *   - whatever the stack sends through the device that it matches is dropped
 *     (counted as tx_frozen), so that a process on the move never teaches
 *     the network its old location.  CRAK_VIF_CMD_ANNOUNCE is the exception;
 *     and once a device frozen whole has announced its addresses (a move's
 *     destination claims them before its process runs), its ARP and
 *     neighbour solicitations and advertisements leave it too, until its
 *     thaw: the answers are held with the rest, and the restored
 *     connections' first packets find their peers at the thaw.
 *     TCP's bare ACKs (no data; no SYN, FIN, RST or URG) are the other
 *     exception: they say only what a socket received and its window, and
 *     so a frozen connection tells its peer to wait (crak_sock's FREEZE
 *     sends a zero window and silences the rest), a thawed or restored one
 *     that it may go on, before the device thaws.
 * A whole-device freeze matches every frame (ARP and neighbour discovery
 * included); a flow matches TCP or UDP over IPv4 or IPv6 (IPv4 fragments by
 * their addresses).  Frames arriving as one GRO aggregate are held as the
 * segments they were on the wire.
 *
 * Thawing delivers the held frames that nothing holds any more, in order,
 * before any frame that arrives after them; with CRAK_VIF_A_DROP it discards
 * them instead.  A thaw without a flow thaws the device and all its flows.
 *
 * Limits: CRAK_VIF_A_LIMIT_PACKETS frames and CRAK_VIF_A_LIMIT_BYTES bytes
 * of frames (Ethernet header included) may be held; past either limit new
 * frames are dropped (tail drop), counted in overflow, and the first such
 * drop after each freeze or change of limits sends CRAK_VIF_CMD_OVERFLOW_NTF.
 *
 * Migration.  CRAK_VIF_CMD_EXPORT (dump) reads the held frames without
 * removing them, in delivery order: one snapshot of what was queued when the
 * dump began.  CRAK_VIF_CMD_EXPORT (do) with CRAK_VIF_A_EXPORT_LAST, the
 * highest CRAK_VIF_FRAME_A_SEQ the dump returned, then discards exactly those
 * frames (every frame queued later has a higher seq), once they are safely
 * elsewhere.
 * CRAK_VIF_CMD_IMPORT puts frames into the held queue of a device frozen as
 * a whole, ahead of the frames it held itself (they are older), to be
 * delivered at its thaw; unicast frames are delivered as addressed to the
 * device whatever their destination MAC.  A thaw after an import announces
 * the device's addresses (gratuitous ARP, unsolicited neighbour
 * advertisements), as CRAK_VIF_CMD_ANNOUNCE does on demand; a device down at
 * that thaw announces when it comes up.
 *
 * GET as a dump lists every crakvif of the namespace, or the one named.
 *
 * Permissions: every operation but GET needs CAP_NET_ADMIN in the user
 * namespace owning the device's network namespace; devices are named by
 * ifindex or name in the caller's network namespace.
 */

#ifndef _UAPI_LINUX_CRAK_VIF_H
#define _UAPI_LINUX_CRAK_VIF_H

#include <linux/types.h>

#define CRAK_VIF_FAMILY_NAME		"crak_vif"
#define CRAK_VIF_FAMILY_VERSION		1
#define CRAK_VIF_MCGRP_EVENTS		"events"

#define CRAK_VIF_KIND			"crakvif"

/* Held-queue limits of a new device, and the largest ones accepted. */
#define CRAK_VIF_DEFAULT_LIMIT_PACKETS	10000
#define CRAK_VIF_DEFAULT_LIMIT_BYTES	16777216	/* 16 MiB */
#define CRAK_VIF_MAX_LIMIT_PACKETS	1000000
#define CRAK_VIF_MAX_LIMIT_BYTES	1073741824	/* 1 GiB */
/* Frozen flows per device. */
#define CRAK_VIF_MAX_FLOWS		65536
/* Largest frame import accepts (Ethernet header included): what fits, with
 * its seq and time, in one netlink attribute.
 */
#define CRAK_VIF_MAX_FRAME		65500

enum {
	CRAK_VIF_CMD_UNSPEC,
	CRAK_VIF_CMD_GET,		/* do, dump: devices and their state */
	CRAK_VIF_CMD_FREEZE,		/* do: the device, or A_FLOW */
	CRAK_VIF_CMD_THAW,		/* do: the device, or A_FLOW; A_DROP */
	CRAK_VIF_CMD_SET,		/* do: A_LIMIT_PACKETS, A_LIMIT_BYTES */
	CRAK_VIF_CMD_EXPORT,		/* dump: held frames; do: A_EXPORT_UPTO */
	CRAK_VIF_CMD_IMPORT,		/* do: A_FRAME... */
	CRAK_VIF_CMD_ANNOUNCE,		/* do: GARP and unsolicited NA */
	/* Events carry A_IFINDEX, A_IFNAME and, for a flow, A_FLOW. */
	CRAK_VIF_CMD_FREEZE_NTF,	/* events: device or flow frozen (A_FROZEN) */
	CRAK_VIF_CMD_THAW_NTF,		/* events: ... thawed (A_DELIVERED, A_DROPPED) */
	CRAK_VIF_CMD_OVERFLOW_NTF,	/* events: first tail drop since a freeze
					 * (A_HELD_PACKETS, A_HELD_BYTES)
					 */
	CRAK_VIF_CMD_IMPORT_NTF,	/* events: frames imported (A_IMPORTED) */

	/* add new commands above here */
	__CRAK_VIF_CMD_MAX,
	CRAK_VIF_CMD_MAX = __CRAK_VIF_CMD_MAX - 1
};

/* Attributes of a device, of requests about it and of its events. */
enum {
	CRAK_VIF_A_UNSPEC,
	CRAK_VIF_A_PAD,
	CRAK_VIF_A_IFINDEX,		/* u32 */
	CRAK_VIF_A_IFNAME,		/* string */
	CRAK_VIF_A_LINK,		/* u32: lower device's ifindex, in its netns */
	CRAK_VIF_A_FROZEN,		/* u8: 1 if frozen as a whole */
	CRAK_VIF_A_FLOW,		/* nest (CRAK_VIF_FLOW_A_*): one per frozen flow */
	CRAK_VIF_A_DROP,		/* flag: thaw discards what it releases */
	CRAK_VIF_A_LIMIT_PACKETS,	/* u32 */
	CRAK_VIF_A_LIMIT_BYTES,		/* u32 */
	CRAK_VIF_A_HELD_PACKETS,	/* u32: frames held now */
	CRAK_VIF_A_HELD_BYTES,		/* u32: their bytes */
	CRAK_VIF_A_STATS,		/* nest (CRAK_VIF_STATS_A_*) */
	CRAK_VIF_A_FRAME,		/* nest (CRAK_VIF_FRAME_A_*): export, import */
	CRAK_VIF_A_EXPORT_LAST,		/* u64: discard held frames of seq <= this */
	CRAK_VIF_A_DELIVERED,		/* u32: frames a thaw delivered */
	CRAK_VIF_A_DROPPED,		/* u32: frames a thaw or export discarded */
	CRAK_VIF_A_IMPORTED,		/* u32: frames an import added */
	CRAK_VIF_A_FLOWS,		/* u32: number of frozen flows */

	/* add new attributes above here */
	__CRAK_VIF_A_MAX,
	CRAK_VIF_A_MAX = __CRAK_VIF_A_MAX - 1
};

/* A flow, seen from the device: local is the device's side. */
enum {
	CRAK_VIF_FLOW_A_UNSPEC,
	CRAK_VIF_FLOW_A_PROTO,		/* u8: IPPROTO_TCP or IPPROTO_UDP */
	CRAK_VIF_FLOW_A_LOCAL_ADDR,	/* binary: 4 (IPv4) or 16 (IPv6) bytes */
	CRAK_VIF_FLOW_A_LOCAL_PORT,	/* u16, host order; 0 matches any */
	CRAK_VIF_FLOW_A_REMOTE_ADDR,	/* binary, same family; zeroes match any */
	CRAK_VIF_FLOW_A_REMOTE_PORT,	/* u16, host order; 0 matches any */

	/* add new attributes above here */
	__CRAK_VIF_FLOW_A_MAX,
	CRAK_VIF_FLOW_A_MAX = __CRAK_VIF_FLOW_A_MAX - 1
};

/* Counters of a device since its creation. */
enum {
	CRAK_VIF_STATS_A_UNSPEC,
	CRAK_VIF_STATS_A_PAD,
	CRAK_VIF_STATS_A_HELD,		/* u64: frames ever held */
	CRAK_VIF_STATS_A_DELIVERED,	/* u64: held frames delivered at thaw */
	CRAK_VIF_STATS_A_DROPPED,	/* u64: held frames discarded (thaw drop, unload) */
	CRAK_VIF_STATS_A_OVERFLOW,	/* u64: frames dropped past a limit */
	CRAK_VIF_STATS_A_EXPORTED,	/* u64: frames discarded after an export */
	CRAK_VIF_STATS_A_IMPORTED,	/* u64: frames imported */
	CRAK_VIF_STATS_A_TX_FROZEN,	/* u64: outbound frames dropped while frozen */

	/* add new attributes above here */
	__CRAK_VIF_STATS_A_MAX,
	CRAK_VIF_STATS_A_MAX = __CRAK_VIF_STATS_A_MAX - 1
};

/* A held frame. */
enum {
	CRAK_VIF_FRAME_A_UNSPEC,
	CRAK_VIF_FRAME_A_PAD,
	CRAK_VIF_FRAME_A_SEQ,		/* u64: order of arrival on this device */
	CRAK_VIF_FRAME_A_TIME,		/* u64: ns since the epoch it was held at */
	CRAK_VIF_FRAME_A_DATA,		/* binary: the frame from its Ethernet header */

	/* add new attributes above here */
	__CRAK_VIF_FRAME_A_MAX,
	CRAK_VIF_FRAME_A_MAX = __CRAK_VIF_FRAME_A_MAX - 1
};

/* rtnetlink: IFLA_INFO_DATA of a crakvif device ("ip -d link show"). */
enum {
	IFLA_CRAKVIF_UNSPEC,
	IFLA_CRAKVIF_FROZEN,		/* u8, read-only */
	IFLA_CRAKVIF_FLOWS,		/* u32, read-only: frozen flows */
	IFLA_CRAKVIF_HELD_PACKETS,	/* u32, read-only */
	IFLA_CRAKVIF_HELD_BYTES,	/* u32, read-only */
	IFLA_CRAKVIF_LIMIT_PACKETS,	/* u32 */
	IFLA_CRAKVIF_LIMIT_BYTES,	/* u32 */

	/* add new attributes above here */
	__IFLA_CRAKVIF_MAX,
	IFLA_CRAKVIF_MAX = __IFLA_CRAKVIF_MAX - 1
};

#endif /* _UAPI_LINUX_CRAK_VIF_H */
