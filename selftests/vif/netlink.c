// SPDX-License-Identifier: GPL-2.0
/*
 * The crak_vif generic netlink family refuses bad requests clearly and
 * harmlessly, and lets only CAP_NET_ADMIN over a device's network namespace
 * change the device.
 *
 * Every request sent here is wrong in exactly one way.  For each, the test
 * checks the errno, the extack message (NETLINK_EXT_ACK), the offending
 * attribute's offset (NLMSGERR_ATTR_OFFS) or the missing attribute
 * (NLMSGERR_ATTR_MISS_TYPE/NEST) where the kernel gives one, the policy
 * bounds it reports for a value out of range, and that the device is exactly
 * as it was: frozen or not, its flows, limits, counters and the held frames
 * themselves (seq, length and contents, read with an EXPORT dump).
 *
 * Each test gets a fresh crakvif on eth0 ($CRAK_VIF_LOWER), left down so
 * that nothing from the network reaches it, and deletes it at the end.  The
 * test skips when the crak_vif family is missing (crak_vif.ko not loaded and
 * not loadable).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <linux/crak_vif.h>

#include "kselftest_harness.h"

#define REQ_SIZE	(128 * 1024)	/* room for a frame of 64 KiB */
#define RSP_SIZE	(256 * 1024)
#define MAX_FRAMES	64
#define ETH_HDR		14
#define TEST_TIMEOUT	300		/* seconds: the lab's guests are emulated */

/* -- talking generic netlink --------------------------------------------- */

struct nl {
	struct mnl_socket *sock;
	uint16_t family;
	uint32_t events;		/* the "events" group's id, 0 if none */
	uint32_t seq;
	char *req;
	char *rsp;
};

/* What the kernel answered to one request. */
struct answer {
	int err;			/* 0, or the errno the kernel answered */
	char msg[256];			/* NLMSGERR_ATTR_MSG, "" without one */
	int64_t offs;			/* NLMSGERR_ATTR_OFFS, -1 without one */
	int64_t miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, -1 without */
	int64_t miss_nest;		/* NLMSGERR_ATTR_MISS_NEST, -1 without */
	int64_t pol_min;		/* NLMSGERR_ATTR_POLICY's bounds, -1 without */
	int64_t pol_max;
	int64_t pol_maxlen;
	unsigned int replies;		/* messages of the family it sent first */
	bool in_done;			/* the error came in a dump's NLMSG_DONE */
};

typedef void (*reply_fn)(const struct nlmsghdr *nlh, void *arg);

static struct nlmsghdr *nl_req(struct nl *nl, uint16_t type, uint8_t cmd, uint16_t flags)
{
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;

	nlh = mnl_nlmsg_put_header(nl->req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = type == GENL_ID_CTRL ? 1 : CRAK_VIF_FAMILY_VERSION;
	return nlh;
}

static int policy_attr(const struct nlattr *attr, void *data)
{
	struct answer *a = data;

	switch (mnl_attr_get_type(attr)) {
	case NL_POLICY_TYPE_ATTR_MIN_VALUE_U:
		if (mnl_attr_get_payload_len(attr) == sizeof(uint64_t))
			a->pol_min = mnl_attr_get_u64(attr);
		break;
	case NL_POLICY_TYPE_ATTR_MAX_VALUE_U:
		if (mnl_attr_get_payload_len(attr) == sizeof(uint64_t))
			a->pol_max = mnl_attr_get_u64(attr);
		break;
	case NL_POLICY_TYPE_ATTR_MAX_LENGTH:
		if (mnl_attr_get_payload_len(attr) == sizeof(uint32_t))
			a->pol_maxlen = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int extack_attr(const struct nlattr *attr, void *data)
{
	struct answer *a = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(a->msg, sizeof(a->msg), "%s", mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->offs = mnl_attr_get_u32(attr);
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->miss_type = mnl_attr_get_u32(attr);
		break;
	case NLMSGERR_ATTR_MISS_NEST:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->miss_nest = mnl_attr_get_u32(attr);
		break;
	case NLMSGERR_ATTR_POLICY:
		mnl_attr_parse_nested(attr, policy_attr, a);
		break;
	}
	return MNL_CB_OK;
}

static void parse_extack(const struct nlmsghdr *nlh, const void *tlvs, struct answer *a)
{
	const char *end = (const char *)nlh + nlh->nlmsg_len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || (const char *)tlvs >= end)
		return;
	mnl_attr_parse_payload(tlvs, end - (const char *)tlvs, extack_attr, a);
}

/*
 * Send the request and read until its ACK, error or NLMSG_DONE (which, for a
 * dump, carries the error of a failed dump and its extack).  Messages of the
 * family before that go to fn.  Returns 0, or -errno if the socket failed.
 */
static int nl_talk(struct nl *nl, const struct nlmsghdr *req, struct answer *a,
		   reply_fn fn, void *arg)
{
	uint32_t portid = mnl_socket_get_portid(nl->sock);

	*a = (struct answer){ .offs = -1, .miss_type = -1, .miss_nest = -1,
			      .pol_min = -1, .pol_max = -1, .pol_maxlen = -1 };
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *nlh = (const void *)nl->rsp;
		ssize_t ret = mnl_socket_recvfrom(nl->sock, nl->rsp, RSP_SIZE);
		int len = ret;

		if (ret < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq || nlh->nlmsg_pid != portid)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				size_t off = sizeof(*e);

				if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
					return -EBADMSG;
				a->err = -e->error;
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += MNL_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
				parse_extack(nlh, (const char *)e + off, a);
				return 0;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				const int *e = mnl_nlmsg_get_payload(nlh);

				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*e)) {
					a->err = -*e;
					a->in_done = true;
					parse_extack(nlh, e + 1, a);
				}
				return 0;
			}
			a->replies++;
			if (fn)
				fn(nlh, arg);
		}
	}
}

struct family_info {
	uint16_t id;
	uint32_t events;
};

static int mcast_group_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = {};
	struct family_info *f = data;
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, attr)
		if (mnl_attr_get_type(a) <= CTRL_ATTR_MCAST_GRP_MAX)
			tb[mnl_attr_get_type(a)] = a;
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
	    mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_NAME], MNL_TYPE_NUL_STRING) == 0 &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]), CRAK_VIF_MCGRP_EVENTS))
		f->events = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return MNL_CB_OK;
}

static int family_attr(const struct nlattr *attr, void *data)
{
	struct family_info *f = data;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
		f->id = mnl_attr_get_u16(attr);
	else if (mnl_attr_get_type(attr) == CTRL_ATTR_MCAST_GROUPS)
		mnl_attr_parse_nested(attr, mcast_group_attr, f);
	return MNL_CB_OK;
}

static void family_reply(const struct nlmsghdr *nlh, void *arg)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr, arg);
}

static void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->req);
	free(nl->rsp);
	memset(nl, 0, sizeof(*nl));
}

/* Open a socket with extended ACKs and find the family: 0, or -errno
 * (-ENOENT: no such family).
 */
static int nl_open(struct nl *nl)
{
	struct family_info f = {};
	struct nlmsghdr *nlh;
	struct answer a;
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->req = calloc(1, REQ_SIZE);
	nl->rsp = calloc(1, RSP_SIZE);
	if (!nl->req || !nl->rsp)
		return -ENOMEM;
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID))
		return -errno;

	nlh = nl_req(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, CRAK_VIF_FAMILY_NAME);
	err = nl_talk(nl, nlh, &a, family_reply, &f);
	if (err)
		return err;
	if (a.err)
		return -a.err;
	if (!f.id)
		return -EBADMSG;
	nl->family = f.id;
	nl->events = f.events;
	return 0;
}

static int nl_join_events(struct nl *nl)
{
	int grp = nl->events;

	if (!grp)
		return -ENOENT;
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)))
		return -errno;
	return 0;
}

static const char *errname(int err)
{
	static char buf[4][24];
	static int i;
	const char *name = err ? strerrorname_np(err) : "0";

	if (name)
		return name;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "errno %d", err);
	return buf[i];
}

/* -- building requests --------------------------------------------------- */

/* Put an attribute and return where it is, for NLMSGERR_ATTR_OFFS. */
static struct nlattr *put(struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data)
{
	struct nlattr *attr = mnl_nlmsg_get_payload_tail(nlh);

	mnl_attr_put(nlh, type, len, data);
	return attr;
}

static int64_t at(const struct nlmsghdr *nlh, const struct nlattr *attr)
{
	return (const char *)attr - (const char *)nlh;
}

static const uint8_t addr4_local[4] = { 192, 0, 2, 1 };
static const uint8_t addr4_remote[4] = { 198, 51, 100, 7 };
static const uint8_t addr6_remote[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };

/* A flow nest: proto, local address and port, remote address and port. */
static struct nlattr *put_flow(struct nlmsghdr *nlh, uint8_t proto, uint16_t lport,
			       uint16_t rport)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, CRAK_VIF_A_FLOW);

	mnl_attr_put_u8(nlh, CRAK_VIF_FLOW_A_PROTO, proto);
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_LOCAL_ADDR, 4, addr4_local);
	mnl_attr_put_u16(nlh, CRAK_VIF_FLOW_A_LOCAL_PORT, lport);
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_REMOTE_ADDR, 4, addr4_remote);
	mnl_attr_put_u16(nlh, CRAK_VIF_FLOW_A_REMOTE_PORT, rport);
	mnl_attr_nest_end(nlh, nest);
	return nest;
}

/* The flow every test freezes first, and another one. */
#define FLOW_A(nlh)	put_flow(nlh, IPPROTO_TCP, 80, 0)
#define FLOW_B(nlh)	put_flow(nlh, IPPROTO_UDP, 53, 5353)

/* An Ethernet frame of len bytes: a unicast to another MAC, an ethertype
 * for local experiments, and fill.
 */
static void frame_bytes(uint8_t *buf, size_t len, uint8_t fill)
{
	static const uint8_t hdr[ETH_HDR] = {
		0x02, 0, 0, 0, 0, 0x02,		/* destination */
		0x02, 0, 0, 0, 0, 0x01,		/* source */
		0x88, 0xb5,			/* IEEE local experimental */
	};

	memset(buf, fill, len);
	memcpy(buf, hdr, len < ETH_HDR ? len : ETH_HDR);
}

/* A frame nest whose data is len bytes; *data is where the data is. */
static struct nlattr *put_frame(struct nlmsghdr *nlh, size_t len, uint8_t fill,
				struct nlattr **data)
{
	static uint8_t buf[CRAK_VIF_MAX_FRAME + 16];
	struct nlattr *nest = mnl_attr_nest_start(nlh, CRAK_VIF_A_FRAME);
	struct nlattr *d;

	frame_bytes(buf, len, fill);
	mnl_attr_put_u64(nlh, CRAK_VIF_FRAME_A_TIME, 1000000000ULL * fill);
	d = put(nlh, CRAK_VIF_FRAME_A_DATA, len, buf);
	mnl_attr_nest_end(nlh, nest);
	if (data)
		*data = d;
	return nest;
}

/* -- the device's state -------------------------------------------------- */

struct vif_state {
	uint8_t frozen;
	uint32_t flows;
	uint32_t limit_packets;
	uint32_t limit_bytes;
	uint32_t held_packets;
	uint32_t held_bytes;
	uint64_t stats[CRAK_VIF_STATS_A_MAX + 1];
	unsigned int flow_nests;	/* A_FLOW listed */
	uint32_t flows_hash;		/* of their bytes, in order */
	unsigned int found;		/* GET messages about the device */
	/* From an EXPORT dump, when asked for. */
	bool exported;
	unsigned int frames;
	uint64_t seq[MAX_FRAMES];
	uint32_t len[MAX_FRAMES];
	uint32_t hash[MAX_FRAMES];
};

static const char * const stat_names[CRAK_VIF_STATS_A_MAX + 1] = {
	[CRAK_VIF_STATS_A_HELD] = "held",
	[CRAK_VIF_STATS_A_DELIVERED] = "delivered",
	[CRAK_VIF_STATS_A_DROPPED] = "dropped",
	[CRAK_VIF_STATS_A_OVERFLOW] = "overflow",
	[CRAK_VIF_STATS_A_EXPORTED] = "exported",
	[CRAK_VIF_STATS_A_IMPORTED] = "imported",
	[CRAK_VIF_STATS_A_TX_FROZEN] = "tx_frozen",
};

static uint32_t fnv1a(uint32_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

struct state_ctx {
	int ifindex;
	struct vif_state *st;
};

static uint32_t attr_u32(const struct nlattr *attr)
{
	return mnl_attr_get_payload_len(attr) == sizeof(uint32_t) ? mnl_attr_get_u32(attr) : ~0u;
}

static void get_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct state_ctx *ctx = arg;
	struct vif_state s = {}, *st = ctx->st;
	const struct nlattr *attr, *in;
	int64_t ifindex = -1;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case CRAK_VIF_A_IFINDEX:
			ifindex = attr_u32(attr);
			break;
		case CRAK_VIF_A_FROZEN:
			s.frozen = mnl_attr_get_u8(attr);
			break;
		case CRAK_VIF_A_FLOWS:
			s.flows = attr_u32(attr);
			break;
		case CRAK_VIF_A_LIMIT_PACKETS:
			s.limit_packets = attr_u32(attr);
			break;
		case CRAK_VIF_A_LIMIT_BYTES:
			s.limit_bytes = attr_u32(attr);
			break;
		case CRAK_VIF_A_HELD_PACKETS:
			s.held_packets = attr_u32(attr);
			break;
		case CRAK_VIF_A_HELD_BYTES:
			s.held_bytes = attr_u32(attr);
			break;
		case CRAK_VIF_A_STATS:
			mnl_attr_for_each_nested(in, attr)
				if (mnl_attr_get_type(in) <= CRAK_VIF_STATS_A_MAX &&
				    mnl_attr_get_payload_len(in) == sizeof(uint64_t))
					s.stats[mnl_attr_get_type(in)] = mnl_attr_get_u64(in);
			break;
		case CRAK_VIF_A_FLOW:
			s.flow_nests++;
			s.flows_hash = fnv1a(s.flows_hash, mnl_attr_get_payload(attr),
					     mnl_attr_get_payload_len(attr));
			break;
		}
	}
	if (ifindex != ctx->ifindex)
		return;
	s.found = st->found + 1;
	*st = s;
}

static void export_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct state_ctx *ctx = arg;
	struct vif_state *st = ctx->st;
	const struct nlattr *attr, *in;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		unsigned int i = st->frames;

		if (mnl_attr_get_type(attr) != CRAK_VIF_A_FRAME)
			continue;
		st->frames++;
		if (i >= MAX_FRAMES)
			continue;
		mnl_attr_for_each_nested(in, attr) {
			if (mnl_attr_get_type(in) == CRAK_VIF_FRAME_A_SEQ &&
			    mnl_attr_get_payload_len(in) == sizeof(uint64_t))
				st->seq[i] = mnl_attr_get_u64(in);
			if (mnl_attr_get_type(in) == CRAK_VIF_FRAME_A_DATA) {
				st->len[i] = mnl_attr_get_payload_len(in);
				st->hash[i] = fnv1a(2166136261u, mnl_attr_get_payload(in),
						    st->len[i]);
			}
		}
	}
}

/* GET the device (and EXPORT dump its frames if export): false if either
 * failed.
 */
static bool snapshot(struct __test_metadata *_metadata, struct nl *nl, int ifindex,
		     bool export, struct vif_state *st)
{
	struct state_ctx ctx = { .ifindex = ifindex, .st = st };
	struct nlmsghdr *nlh;
	struct answer a;
	int err;

	memset(st, 0, sizeof(*st));
	nlh = nl_req(nl, nl->family, CRAK_VIF_CMD_GET, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, ifindex);
	err = nl_talk(nl, nlh, &a, get_reply, &ctx);
	if (err || a.err || st->found != 1) {
		TH_LOG("GET of ifindex %d: %s, %s \"%s\", %u answers about it", ifindex,
		       err ? strerror(-err) : "sent", errname(a.err), a.msg, st->found);
		return false;
	}
	if (!export)
		return true;
	nlh = nl_req(nl, nl->family, CRAK_VIF_CMD_EXPORT, NLM_F_DUMP);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, ifindex);
	err = nl_talk(nl, nlh, &a, export_reply, &ctx);
	if (err || a.err) {
		TH_LOG("EXPORT dump of ifindex %d: %s, %s \"%s\"", ifindex,
		       err ? strerror(-err) : "sent", errname(a.err), a.msg);
		return false;
	}
	st->exported = true;
	return true;
}

/* Are two states the same?  Says what differs. */
static bool same_state(struct __test_metadata *_metadata, const char *what,
		       const struct vif_state *a, const struct vif_state *b)
{
	bool same = true;
	unsigned int i;

#define SAME(field)								\
	do {									\
		if (a->field != b->field) {					\
			TH_LOG("%s: " #field " changed from %" PRIu64 " to %" PRIu64,	\
			       what, (uint64_t)a->field, (uint64_t)b->field);	\
			same = false;						\
		}								\
	} while (0)

	SAME(frozen);
	SAME(flows);
	SAME(flow_nests);
	SAME(flows_hash);
	SAME(limit_packets);
	SAME(limit_bytes);
	SAME(held_packets);
	SAME(held_bytes);
	for (i = 1; i <= CRAK_VIF_STATS_A_MAX; i++) {
		if (stat_names[i] && a->stats[i] != b->stats[i]) {
			TH_LOG("%s: stats.%s changed from %" PRIu64 " to %" PRIu64, what,
			       stat_names[i], a->stats[i], b->stats[i]);
			same = false;
		}
	}
	if (a->exported && b->exported) {
		SAME(frames);
		for (i = 0; i < a->frames && i < b->frames && i < MAX_FRAMES; i++) {
			SAME(seq[i]);
			SAME(len[i]);
			SAME(hash[i]);
		}
	}
#undef SAME
	return same;
}

/* -- the fixture ----------------------------------------------------------- */

FIXTURE(vif) {
	struct nl nl;
	char name[IFNAMSIZ];
	int ifindex;
	int lo;
	bool created;
};

FIXTURE_SETUP(vif)
{
	const char *lower = getenv("CRAK_VIF_LOWER") ?: "eth0";
	char cmd[128];
	int err;

	err = nl_open(&self->nl);
	if (err == -ENOENT)
		SKIP(return, "no %s generic netlink family (crak_vif.ko not loaded)",
		     CRAK_VIF_FAMILY_NAME);
	ASSERT_EQ(0, err) TH_LOG("cannot open generic netlink: %s", strerror(-err));
	ASSERT_NE(0u, self->nl.events) TH_LOG("the family has no \"%s\" group",
					     CRAK_VIF_MCGRP_EVENTS);
	self->lo = if_nametoindex("lo");
	ASSERT_NE(0, self->lo);
	if (!if_nametoindex(lower))
		SKIP(return, "no %s to put a %s on", lower, CRAK_VIF_KIND);

	snprintf(self->name, sizeof(self->name), "crknl%u", (unsigned int)getpid() % 100000);
	snprintf(cmd, sizeof(cmd), "ip link add link %s name %s type %s", lower, self->name,
		 CRAK_VIF_KIND);
	ASSERT_EQ(0, system(cmd)) TH_LOG("'%s' failed", cmd);
	self->created = true;
	self->ifindex = if_nametoindex(self->name);
	if (!self->ifindex) {
		snprintf(cmd, sizeof(cmd), "ip link del %s", self->name);
		system(cmd);
	}
	ASSERT_NE(0, self->ifindex) TH_LOG("%s vanished", self->name);
}

FIXTURE_TEARDOWN(vif)
{
	char cmd[64];

	if (self->created && self->ifindex) {
		snprintf(cmd, sizeof(cmd), "ip link del %s", self->name);
		EXPECT_EQ(0, system(cmd)) TH_LOG("'%s' failed", cmd);
	}
	nl_close(&self->nl);
}

/* -- requests that must succeed -------------------------------------------- */

/* Send a request that must succeed; false (and why) if it did not. */
static bool request_ok(struct __test_metadata *_metadata, struct nl *nl,
		       const struct nlmsghdr *nlh, const char *what)
{
	struct answer a;
	int err = nl_talk(nl, nlh, &a, NULL, NULL);

	if (err || a.err) {
		TH_LOG("%s: %s %s \"%s\"", what, err ? strerror(-err) : "answered",
		       errname(a.err), a.msg);
		return false;
	}
	return true;
}

static struct nlmsghdr *dev_req(FIXTURE_DATA(vif) *self, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = nl_req(&self->nl, self->nl.family, cmd, flags);

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	return nlh;
}

static bool do_freeze(struct __test_metadata *_metadata, FIXTURE_DATA(vif) *self,
		      struct nlattr *(*flow)(struct nlmsghdr *))
{
	struct nlmsghdr *nlh = dev_req(self, CRAK_VIF_CMD_FREEZE, NLM_F_ACK);

	if (flow)
		flow(nlh);
	return request_ok(_metadata, &self->nl, nlh, flow ? "freeze a flow" : "freeze");
}

static struct nlattr *flow_a(struct nlmsghdr *nlh) { return FLOW_A(nlh); }

static bool do_set(struct __test_metadata *_metadata, FIXTURE_DATA(vif) *self,
		   uint32_t packets, uint32_t bytes)
{
	struct nlmsghdr *nlh = dev_req(self, CRAK_VIF_CMD_SET, NLM_F_ACK);

	mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, packets);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_BYTES, bytes);
	return request_ok(_metadata, &self->nl, nlh, "set the limits");
}

/* Import frames of the given lengths (0 ends the list). */
static bool do_import(struct __test_metadata *_metadata, FIXTURE_DATA(vif) *self,
		      const size_t *lens)
{
	struct nlmsghdr *nlh = dev_req(self, CRAK_VIF_CMD_IMPORT, NLM_F_ACK);
	unsigned int i;

	for (i = 0; lens[i]; i++)
		put_frame(nlh, lens[i], 0x10 + i, NULL);
	return request_ok(_metadata, &self->nl, nlh, "import");
}

/* -- bad requests ---------------------------------------------------------- */

/* Where the kernel should point: offsets into the request, -1 for none. */
struct expect {
	int64_t offs;
	int64_t miss_type;
	int64_t miss_nest;
	int64_t pol_min;		/* -1: not checked */
	int64_t pol_max;
	int64_t pol_maxlen;
};

struct bad {
	const char *name;
	uint8_t cmd;
	uint16_t flags;			/* NLM_F_DUMP, or odd flags; do's get NLM_F_ACK */
	int err;
	const char *msg;		/* the extack message, exactly ("": none) */
	void (*build)(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e);
};

/*
 * A failed dump reports its error in NLMSG_DONE, which carried only the
 * extack message before Linux 6.2 ("netlink: support all extack types in
 * dumps"), not the offending attribute's offset.
 */
static bool done_has_offsets(void)
{
	unsigned int major = 0, minor = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return true;
	return major > 6 || (major == 6 && minor >= 2);
}

/*
 * Send a bad request: it must fail with the expected errno, message and
 * pointers, send nothing else, and leave the device exactly as it was.
 */
static void check_bad(struct __test_metadata *_metadata, FIXTURE_DATA(vif) *self,
		      const struct bad *b)
{
	struct expect e = { -1, -1, -1, -1, -1, -1 };
	struct vif_state before, after;
	uint16_t flags = b->flags;
	struct nlmsghdr *nlh;
	struct answer a;
	char what[160];
	int err;

	if ((flags & NLM_F_DUMP) != NLM_F_DUMP)
		flags |= NLM_F_ACK;
	ASSERT_TRUE(snapshot(_metadata, &self->nl, self->ifindex, true, &before));
	nlh = nl_req(&self->nl, self->nl.family, b->cmd, flags);
	if (b->build)
		b->build(self, nlh, &e);
	err = nl_talk(&self->nl, nlh, &a, NULL, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s: netlink failed: %s", b->name, strerror(-err));

	ksft_print_msg("%-48s %-10s \"%s\"%s%s%s\n", b->name, errname(a.err), a.msg,
		       a.offs >= 0 ? " +offs" : "", a.miss_type >= 0 ? " +miss" : "",
		       a.pol_min >= 0 || a.pol_maxlen >= 0 ? " +policy" : "");
	EXPECT_EQ(b->err, a.err) TH_LOG("%s: answered %s, expected %s", b->name,
					errname(a.err), errname(b->err));
	EXPECT_STREQ(b->msg, a.msg) TH_LOG("%s: wrong extack message", b->name);
	if (a.in_done && e.offs >= 0 && a.offs < 0 && !done_has_offsets()) {
		ksft_print_msg("  (NLMSG_DONE of this kernel carries no NLMSGERR_ATTR_OFFS)\n");
		a.offs = e.offs;
	}
	EXPECT_EQ(e.offs, a.offs) TH_LOG("%s: NLMSGERR_ATTR_OFFS %" PRId64 ", expected %" PRId64,
					b->name, a.offs, e.offs);
	EXPECT_EQ(e.miss_type, a.miss_type) TH_LOG("%s: NLMSGERR_ATTR_MISS_TYPE", b->name);
	EXPECT_EQ(e.miss_nest, a.miss_nest) TH_LOG("%s: NLMSGERR_ATTR_MISS_NEST", b->name);
	if (e.pol_min >= 0)
		EXPECT_EQ(e.pol_min, a.pol_min) TH_LOG("%s: policy minimum", b->name);
	if (e.pol_max >= 0)
		EXPECT_EQ(e.pol_max, a.pol_max) TH_LOG("%s: policy maximum", b->name);
	if (e.pol_maxlen >= 0)
		EXPECT_EQ(e.pol_maxlen, a.pol_maxlen) TH_LOG("%s: policy maximum length",
							     b->name);
	EXPECT_EQ(0u, a.replies) TH_LOG("%s: %u replies before the error", b->name, a.replies);

	ASSERT_TRUE(snapshot(_metadata, &self->nl, self->ifindex, true, &after));
	snprintf(what, sizeof(what), "after \"%s\"", b->name);
	EXPECT_TRUE(same_state(_metadata, what, &before, &after));
}

static void check_all_bad(struct __test_metadata *_metadata, FIXTURE_DATA(vif) *self,
			  const struct bad *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_bad(_metadata, self, &cases[i]);
}

/* Which device: none, both ways, unknown, not a crakvif. */

static const size_t one_frame[] = { 60, 0 };

static void b_no_dev(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	(void)self;
	(void)e;
	/* What the op needs besides the device, so that only that is missing. */
	switch (genl->cmd) {
	case CRAK_VIF_CMD_SET:
		mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, 7);
		break;
	case CRAK_VIF_CMD_EXPORT:
		if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
			mnl_attr_put_u64(nlh, CRAK_VIF_A_EXPORT_LAST, 0);
		break;
	case CRAK_VIF_CMD_IMPORT:
		put_frame(nlh, 60, 1, NULL);
		break;
	}
}

static void b_both(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_IFNAME, strlen(self->name) + 1, self->name));
}

static void b_unknown_index(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	uint32_t index = INT32_MAX;

	(void)self;
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_IFINDEX, sizeof(index), &index));
}

static void b_unknown_name(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	static const char name[] = "crknl-nosuch-xy";	/* 15 characters: the longest */

	(void)self;
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_IFNAME, sizeof(name), name));
}

static void b_lo_index(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	uint32_t index = self->lo;

	e->offs = at(nlh, put(nlh, CRAK_VIF_A_IFINDEX, sizeof(index), &index));
}

static void b_lo_name(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)self;
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_IFNAME, 3, "lo"));
}

/* The same, on an op that also needs a valid flow (FREEZE). */
static void b_unknown_index_flow(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh,
				 struct expect *e)
{
	b_unknown_index(self, nlh, e);
	FLOW_B(nlh);
}

static void b_lo_index_flow(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_lo_index(self, nlh, e);
	FLOW_B(nlh);
}

#define NO_DEV		"no device: give its ifindex or name"
#define BOTH		"give the device by ifindex or name, not both"
#define NO_SUCH		"no such device"
#define NOT_VIF		"not a crakvif device"

static const struct bad which_device[] = {
	{ "GET without a device", CRAK_VIF_CMD_GET, 0, EINVAL, NO_DEV, b_no_dev },
	{ "FREEZE without a device", CRAK_VIF_CMD_FREEZE, 0, EINVAL, NO_DEV, b_no_dev },
	{ "THAW without a device", CRAK_VIF_CMD_THAW, 0, EINVAL, NO_DEV, b_no_dev },
	{ "SET without a device", CRAK_VIF_CMD_SET, 0, EINVAL, NO_DEV, b_no_dev },
	{ "EXPORT (do) without a device", CRAK_VIF_CMD_EXPORT, 0, EINVAL, NO_DEV, b_no_dev },
	{ "EXPORT (dump) without a device", CRAK_VIF_CMD_EXPORT, NLM_F_DUMP, EINVAL, NO_DEV,
	  b_no_dev },
	{ "IMPORT without a device", CRAK_VIF_CMD_IMPORT, 0, EINVAL, NO_DEV, b_no_dev },
	{ "ANNOUNCE without a device", CRAK_VIF_CMD_ANNOUNCE, 0, EINVAL, NO_DEV, b_no_dev },
	{ "FREEZE by ifindex and name", CRAK_VIF_CMD_FREEZE, 0, EINVAL, BOTH, b_both },
	{ "GET by ifindex and name", CRAK_VIF_CMD_GET, 0, EINVAL, BOTH, b_both },
	{ "FREEZE an unknown ifindex", CRAK_VIF_CMD_FREEZE, 0, ENODEV, NO_SUCH,
	  b_unknown_index },
	{ "FREEZE a flow of an unknown ifindex", CRAK_VIF_CMD_FREEZE, 0, ENODEV, NO_SUCH,
	  b_unknown_index_flow },
	{ "THAW an unknown name", CRAK_VIF_CMD_THAW, 0, ENODEV, NO_SUCH, b_unknown_name },
	{ "EXPORT (dump) an unknown ifindex", CRAK_VIF_CMD_EXPORT, NLM_F_DUMP, ENODEV,
	  NO_SUCH, b_unknown_index },
	{ "FREEZE lo by ifindex", CRAK_VIF_CMD_FREEZE, 0, EOPNOTSUPP, NOT_VIF, b_lo_index },
	{ "FREEZE a flow of lo", CRAK_VIF_CMD_FREEZE, 0, EOPNOTSUPP, NOT_VIF,
	  b_lo_index_flow },
	{ "GET lo by name", CRAK_VIF_CMD_GET, 0, EOPNOTSUPP, NOT_VIF, b_lo_name },
	{ "ANNOUNCE lo", CRAK_VIF_CMD_ANNOUNCE, 0, EOPNOTSUPP, NOT_VIF, b_lo_index },
	{ "EXPORT (dump) lo", CRAK_VIF_CMD_EXPORT, NLM_F_DUMP, EOPNOTSUPP, NOT_VIF,
	  b_lo_index },
};

/* Attributes of the wrong type or size, on requests otherwise good. */

#define POLICY_FAILED	"Attribute failed policy validation"
#define BAD_LENGTH	"invalid attribute length"
#define OUT_OF_RANGE	"integer out of range"
#define UNKNOWN_TYPE	"Unknown attribute type"

/* SET of a good packet limit, on a device given by a bad attribute. */
static void b_set_dev(struct nlmsghdr *nlh, struct expect *e, uint16_t type, size_t len,
		      const void *data)
{
	e->offs = at(nlh, put(nlh, type, len, data));
	mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, 7);
}

static void b_ifindex_u8(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	uint8_t index = self->ifindex;

	b_set_dev(nlh, e, CRAK_VIF_A_IFINDEX, sizeof(index), &index);
}

static void b_ifindex_u64(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	uint64_t index = self->ifindex;

	b_set_dev(nlh, e, CRAK_VIF_A_IFINDEX, sizeof(index), &index);
}

static void b_ifname_no_nul(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_set_dev(nlh, e, CRAK_VIF_A_IFNAME, strlen(self->name), self->name);
}

static void b_ifname_long(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	static const char name[] = "crknl-nosuch-xyz";	/* IFNAMSIZ characters */

	(void)self;
	b_set_dev(nlh, e, CRAK_VIF_A_IFNAME, sizeof(name), name);
	e->pol_maxlen = IFNAMSIZ - 1;
}

static void b_ifname_empty(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)self;
	b_set_dev(nlh, e, CRAK_VIF_A_IFNAME, 0, NULL);
}

/* SET with a limit attribute; the device is fine. */
static void b_limit(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e,
		    uint16_t type, uint64_t value, size_t len)
{
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	e->offs = at(nlh, put(nlh, type, len, &value));
	if (len == sizeof(uint32_t)) {
		e->pol_min = type == CRAK_VIF_A_LIMIT_PACKETS ? 1 : 60;
		e->pol_max = type == CRAK_VIF_A_LIMIT_PACKETS ? CRAK_VIF_MAX_LIMIT_PACKETS :
								 CRAK_VIF_MAX_LIMIT_BYTES;
	}
}

static void b_packets_0(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_limit(self, nlh, e, CRAK_VIF_A_LIMIT_PACKETS, 0, sizeof(uint32_t));
}

static void b_packets_max(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_limit(self, nlh, e, CRAK_VIF_A_LIMIT_PACKETS, CRAK_VIF_MAX_LIMIT_PACKETS + 1,
		sizeof(uint32_t));
}

static void b_packets_u16(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_limit(self, nlh, e, CRAK_VIF_A_LIMIT_PACKETS, 7, sizeof(uint16_t));
}

static void b_bytes_min(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_limit(self, nlh, e, CRAK_VIF_A_LIMIT_BYTES, 59, sizeof(uint32_t));
}

static void b_bytes_max(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_limit(self, nlh, e, CRAK_VIF_A_LIMIT_BYTES, CRAK_VIF_MAX_LIMIT_BYTES + 1ULL,
		sizeof(uint32_t));
}

static void b_unknown_attr(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	uint32_t v = 1;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, 7);
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_MAX + 1, sizeof(v), &v));
}

static void b_attr_0(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	uint32_t v = 1;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, 7);
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_UNSPEC, sizeof(v), &v));
}

static void b_foreign_attr(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	uint32_t v = self->lo;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, 7);
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_LINK, sizeof(v), &v));
}

static void b_trailing(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, 7);
	memset(mnl_nlmsg_get_payload_tail(nlh), 0, 2);
	nlh->nlmsg_len += 2;
}

/* FREEZE of a new flow (B), one thing wrong in it. */
static struct nlattr *flow_start(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	return mnl_attr_nest_start(nlh, CRAK_VIF_A_FLOW);
}

static void b_flow_not_nested(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *nest = flow_start(self, nlh);

	nest->nla_type &= ~NLA_F_NESTED;
	mnl_attr_put_u8(nlh, CRAK_VIF_FLOW_A_PROTO, IPPROTO_UDP);
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_LOCAL_ADDR, 4, addr4_local);
	mnl_attr_nest_end(nlh, nest);
	e->offs = at(nlh, nest);
}

static void b_flow_icmp(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *nest = flow_start(self, nlh);
	uint8_t proto = IPPROTO_ICMP;

	e->offs = at(nlh, put(nlh, CRAK_VIF_FLOW_A_PROTO, sizeof(proto), &proto));
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_LOCAL_ADDR, 4, addr4_local);
	mnl_attr_nest_end(nlh, nest);
}

static void b_flow_proto_u16(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *nest = flow_start(self, nlh);
	uint16_t proto = IPPROTO_UDP;

	e->offs = at(nlh, put(nlh, CRAK_VIF_FLOW_A_PROTO, sizeof(proto), &proto));
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_LOCAL_ADDR, 4, addr4_local);
	mnl_attr_nest_end(nlh, nest);
}

static void b_flow_no_proto(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *nest = flow_start(self, nlh);

	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_LOCAL_ADDR, 4, addr4_local);
	mnl_attr_put_u16(nlh, CRAK_VIF_FLOW_A_LOCAL_PORT, 53);
	mnl_attr_nest_end(nlh, nest);
	e->miss_type = CRAK_VIF_FLOW_A_PROTO;
	e->miss_nest = at(nlh, nest);
}

static void b_flow_no_laddr(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *nest = flow_start(self, nlh);

	mnl_attr_put_u8(nlh, CRAK_VIF_FLOW_A_PROTO, IPPROTO_UDP);
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_REMOTE_ADDR, 4, addr4_remote);
	mnl_attr_nest_end(nlh, nest);
	e->miss_type = CRAK_VIF_FLOW_A_LOCAL_ADDR;
	e->miss_nest = at(nlh, nest);
}

static void b_flow_addr(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e,
			size_t llen, size_t rlen, bool point_remote)
{
	static const uint8_t addr[24] = { 0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5 };
	struct nlattr *nest = flow_start(self, nlh);
	struct nlattr *l, *r;

	mnl_attr_put_u8(nlh, CRAK_VIF_FLOW_A_PROTO, IPPROTO_UDP);
	l = put(nlh, CRAK_VIF_FLOW_A_LOCAL_ADDR, llen, llen == 4 ? addr4_local : addr);
	r = put(nlh, CRAK_VIF_FLOW_A_REMOTE_ADDR, rlen, rlen == 16 ? addr6_remote : addr);
	mnl_attr_nest_end(nlh, nest);
	e->offs = at(nlh, point_remote ? r : l);
}

static void b_flow_addr5(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_flow_addr(self, nlh, e, 5, 4, false);
}

static void b_flow_addr0(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_flow_addr(self, nlh, e, 0, 4, false);
}

static void b_flow_addr17(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_flow_addr(self, nlh, e, 4, 17, true);
	e->pol_maxlen = 16;
}

static void b_flow_mixed(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_flow_addr(self, nlh, e, 4, 16, true);
}

static void b_flow_port_u32(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *nest = flow_start(self, nlh);
	uint32_t port = 53;

	mnl_attr_put_u8(nlh, CRAK_VIF_FLOW_A_PROTO, IPPROTO_UDP);
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_LOCAL_ADDR, 4, addr4_local);
	e->offs = at(nlh, put(nlh, CRAK_VIF_FLOW_A_LOCAL_PORT, sizeof(port), &port));
	mnl_attr_nest_end(nlh, nest);
}

static void b_flow_unknown(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *nest = flow_start(self, nlh);
	uint16_t v = 1;

	mnl_attr_put_u8(nlh, CRAK_VIF_FLOW_A_PROTO, IPPROTO_UDP);
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_LOCAL_ADDR, 4, addr4_local);
	e->offs = at(nlh, put(nlh, CRAK_VIF_FLOW_A_MAX + 1, sizeof(v), &v));
	mnl_attr_nest_end(nlh, nest);
}

/* THAW of the frozen device that would drop what it holds. */
static void b_drop_payload(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	uint8_t one = 1;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_DROP, sizeof(one), &one));
}

static void b_thaw_icmp(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	b_flow_icmp(self, nlh, e);
	mnl_attr_put(nlh, CRAK_VIF_A_DROP, 0, NULL);
}

/* IMPORT into the frozen device, which has room for them. */
static void b_frame_short(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *data;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	put_frame(nlh, ETH_HDR - 1, 3, &data);
	e->offs = at(nlh, data);
}

static void b_frame_good_short(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh,
			       struct expect *e)
{
	struct nlattr *data;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	put_frame(nlh, 60, 3, NULL);
	put_frame(nlh, ETH_HDR - 1, 4, &data);
	e->offs = at(nlh, data);
}

static void b_frame_no_data(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *nest;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	nest = mnl_attr_nest_start(nlh, CRAK_VIF_A_FRAME);
	mnl_attr_put_u64(nlh, CRAK_VIF_FRAME_A_TIME, 1);
	mnl_attr_nest_end(nlh, nest);
	e->offs = at(nlh, nest);
}

static void b_frame_huge(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct nlattr *data;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	put_frame(nlh, CRAK_VIF_MAX_FRAME + 1, 3, &data);
	e->offs = at(nlh, data);
	e->pol_maxlen = CRAK_VIF_MAX_FRAME;
}

static void b_frame_not_nested(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh,
			       struct expect *e)
{
	struct nlattr *nest;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	nest = put_frame(nlh, 60, 3, NULL);
	nest->nla_type &= ~NLA_F_NESTED;
	e->offs = at(nlh, nest);
}

static void b_frame_time_u32(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	uint8_t buf[60];
	struct nlattr *nest;
	uint32_t t = 1;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	frame_bytes(buf, sizeof(buf), 3);
	nest = mnl_attr_nest_start(nlh, CRAK_VIF_A_FRAME);
	e->offs = at(nlh, put(nlh, CRAK_VIF_FRAME_A_TIME, sizeof(t), &t));
	mnl_attr_put(nlh, CRAK_VIF_FRAME_A_DATA, sizeof(buf), buf);
	mnl_attr_nest_end(nlh, nest);
}

static void b_no_frames(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
}

/* EXPORT (do) that would discard every held frame. */
static void b_export_no_last(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	e->miss_type = CRAK_VIF_A_EXPORT_LAST;
}

static void b_export_last_u32(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh,
			      struct expect *e)
{
	uint32_t last = ~0u;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_EXPORT_LAST, sizeof(last), &last));
}

/* The generic netlink header: a good FREEZE of flow B otherwise. */
static void b_reserved(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	(void)e;
	genl->reserved = 1;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	FLOW_B(nlh);
}

static void b_flow_b(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	FLOW_B(nlh);
}

static void b_dump_unknown_attr(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh,
				struct expect *e)
{
	uint32_t v = 1;

	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	e->offs = at(nlh, put(nlh, CRAK_VIF_A_MAX + 1, sizeof(v), &v));
}

#define FLOW_MSG	"a flow needs a protocol and a local address"
#define ADDR_MSG	"an address is 4 (IPv4) or 16 (IPv6) bytes"

static const struct bad bad_attributes[] = {
	{ "IFINDEX as a u8", CRAK_VIF_CMD_SET, 0, EINVAL, BAD_LENGTH, b_ifindex_u8 },
	{ "IFINDEX as a u64", CRAK_VIF_CMD_SET, 0, EINVAL, BAD_LENGTH, b_ifindex_u64 },
	{ "IFNAME not NUL-terminated", CRAK_VIF_CMD_SET, 0, EINVAL, POLICY_FAILED,
	  b_ifname_no_nul },
	{ "IFNAME of IFNAMSIZ characters", CRAK_VIF_CMD_SET, 0, EINVAL, POLICY_FAILED,
	  b_ifname_long },
	{ "IFNAME empty", CRAK_VIF_CMD_SET, 0, EINVAL, POLICY_FAILED, b_ifname_empty },
	{ "LIMIT_PACKETS 0", CRAK_VIF_CMD_SET, 0, ERANGE, OUT_OF_RANGE, b_packets_0 },
	{ "LIMIT_PACKETS above the maximum", CRAK_VIF_CMD_SET, 0, ERANGE, OUT_OF_RANGE,
	  b_packets_max },
	{ "LIMIT_PACKETS as a u16", CRAK_VIF_CMD_SET, 0, EINVAL, BAD_LENGTH, b_packets_u16 },
	{ "LIMIT_BYTES below ETH_ZLEN", CRAK_VIF_CMD_SET, 0, ERANGE, OUT_OF_RANGE,
	  b_bytes_min },
	{ "LIMIT_BYTES above the maximum", CRAK_VIF_CMD_SET, 0, ERANGE, OUT_OF_RANGE,
	  b_bytes_max },
	{ "attribute type CRAK_VIF_A_MAX + 1", CRAK_VIF_CMD_SET, 0, EINVAL, UNKNOWN_TYPE,
	  b_unknown_attr },
	{ "attribute type 0", CRAK_VIF_CMD_SET, 0, EINVAL, UNKNOWN_TYPE, b_attr_0 },
	{ "an attribute SET does not take (LINK)", CRAK_VIF_CMD_SET, 0, EINVAL,
	  "Unsupported attribute", b_foreign_attr },
	{ "2 bytes after the last attribute", CRAK_VIF_CMD_SET, 0, EINVAL,
	  "bytes leftover after parsing attributes", b_trailing },
	{ "flow without NLA_F_NESTED", CRAK_VIF_CMD_FREEZE, 0, EINVAL,
	  "NLA_F_NESTED is missing", b_flow_not_nested },
	{ "flow of proto 1 (ICMP)", CRAK_VIF_CMD_FREEZE, 0, EINVAL, "a flow is TCP or UDP",
	  b_flow_icmp },
	{ "flow PROTO as a u16", CRAK_VIF_CMD_FREEZE, 0, EINVAL, BAD_LENGTH, b_flow_proto_u16 },
	{ "flow without PROTO", CRAK_VIF_CMD_FREEZE, 0, EINVAL, FLOW_MSG, b_flow_no_proto },
	{ "flow without LOCAL_ADDR", CRAK_VIF_CMD_FREEZE, 0, EINVAL, FLOW_MSG, b_flow_no_laddr },
	{ "flow of a 5-byte address", CRAK_VIF_CMD_FREEZE, 0, EINVAL, ADDR_MSG, b_flow_addr5 },
	{ "flow of an empty address", CRAK_VIF_CMD_FREEZE, 0, EINVAL, ADDR_MSG, b_flow_addr0 },
	{ "flow of a 17-byte address", CRAK_VIF_CMD_FREEZE, 0, ERANGE, POLICY_FAILED,
	  b_flow_addr17 },
	{ "flow of IPv4 and IPv6 addresses", CRAK_VIF_CMD_FREEZE, 0, EINVAL,
	  "local and remote addresses of different families", b_flow_mixed },
	{ "flow LOCAL_PORT as a u32", CRAK_VIF_CMD_FREEZE, 0, EINVAL, BAD_LENGTH,
	  b_flow_port_u32 },
	{ "flow attribute CRAK_VIF_FLOW_A_MAX + 1", CRAK_VIF_CMD_FREEZE, 0, EINVAL,
	  UNKNOWN_TYPE, b_flow_unknown },
	{ "THAW with a DROP flag of 1 byte", CRAK_VIF_CMD_THAW, 0, ERANGE, POLICY_FAILED,
	  b_drop_payload },
	{ "THAW of a flow of proto 1", CRAK_VIF_CMD_THAW, 0, EINVAL, "a flow is TCP or UDP",
	  b_thaw_icmp },
	{ "IMPORT a 13-byte frame", CRAK_VIF_CMD_IMPORT, 0, EINVAL, "frame too short",
	  b_frame_short },
	{ "IMPORT a good frame and a 13-byte one", CRAK_VIF_CMD_IMPORT, 0, EINVAL,
	  "frame too short", b_frame_good_short },
	{ "IMPORT a frame without data", CRAK_VIF_CMD_IMPORT, 0, EINVAL, "frame without data",
	  b_frame_no_data },
	{ "IMPORT a frame of CRAK_VIF_MAX_FRAME + 1", CRAK_VIF_CMD_IMPORT, 0, ERANGE,
	  POLICY_FAILED, b_frame_huge },
	{ "IMPORT a frame without NLA_F_NESTED", CRAK_VIF_CMD_IMPORT, 0, EINVAL,
	  "NLA_F_NESTED is missing", b_frame_not_nested },
	{ "IMPORT a frame of TIME as a u32", CRAK_VIF_CMD_IMPORT, 0, EINVAL, BAD_LENGTH,
	  b_frame_time_u32 },
	{ "IMPORT no frame", CRAK_VIF_CMD_IMPORT, 0, EINVAL, "no frames to import", b_no_frames },
	{ "EXPORT (do) without EXPORT_LAST", CRAK_VIF_CMD_EXPORT, 0, EINVAL,
	  "give the last seq an export returned",
	  b_export_no_last },
	{ "EXPORT (do) of EXPORT_LAST as a u32", CRAK_VIF_CMD_EXPORT, 0, EINVAL, BAD_LENGTH,
	  b_export_last_u32 },
	{ "EXPORT (dump) with an unknown attribute", CRAK_VIF_CMD_EXPORT, NLM_F_DUMP, EINVAL,
	  UNKNOWN_TYPE, b_dump_unknown_attr },
	{ "genlmsghdr.reserved not 0", CRAK_VIF_CMD_FREEZE, 0, EINVAL,
	  "genlmsghdr.reserved field is not 0", b_reserved },
	{ "NLM_F_ROOT without NLM_F_MATCH", CRAK_VIF_CMD_FREEZE, NLM_F_ROOT, EINVAL,
	  "ambiguous or reserved bits set in nlmsg_flags", b_flow_b },
	{ "command CRAK_VIF_CMD_MAX + 1", CRAK_VIF_CMD_MAX + 1, 0, EOPNOTSUPP, "", b_flow_b },
	{ "an event as a request (FREEZE_NTF)", CRAK_VIF_CMD_FREEZE_NTF, 0, EOPNOTSUPP, "",
	  b_flow_b },
	{ "FREEZE as a dump", CRAK_VIF_CMD_FREEZE, NLM_F_DUMP, EOPNOTSUPP, "", b_flow_b },
};

/* -- the tests ------------------------------------------------------------- */

/* Every op names its device: by ifindex or name, not both, an existing one,
 * a crakvif.
 */
TEST_F_TIMEOUT(vif, which_device, TEST_TIMEOUT)
{
	check_all_bad(_metadata, self, which_device, ARRAY_SIZE(which_device));
	/* And frozen, for the ops that would then do something. */
	ASSERT_TRUE(do_freeze(_metadata, self, NULL));
	ASSERT_TRUE(do_import(_metadata, self, one_frame));
	ksft_print_msg("The same, with the device frozen and holding a frame:\n");
	check_all_bad(_metadata, self, which_device, ARRAY_SIZE(which_device));
}

/* Malformed attributes, on a device frozen whole and by flow A, with limits
 * of its own and two imported frames, which any of them could have changed.
 */
TEST_F_TIMEOUT(vif, bad_attributes, TEST_TIMEOUT)
{
	static const size_t two_frames[] = { 60, 100, 0 };
	struct vif_state st;

	ASSERT_TRUE(do_set(_metadata, self, 5, 4000));
	ASSERT_TRUE(do_freeze(_metadata, self, flow_a));
	ASSERT_TRUE(do_freeze(_metadata, self, NULL));
	ASSERT_TRUE(do_import(_metadata, self, two_frames));
	ASSERT_TRUE(snapshot(_metadata, &self->nl, self->ifindex, true, &st));
	ASSERT_EQ(1, st.frozen);
	ASSERT_EQ(1u, st.flows);
	ASSERT_EQ(1u, st.flow_nests);
	ASSERT_EQ(5u, st.limit_packets);
	ASSERT_EQ(4000u, st.limit_bytes);
	ASSERT_EQ(2u, st.held_packets);
	ASSERT_EQ(160u, st.held_bytes);
	ASSERT_EQ(2u, st.frames);

	check_all_bad(_metadata, self, bad_attributes, ARRAY_SIZE(bad_attributes));
}

/* Requests well formed but wrong for the device's state. */

static void b_dev(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
}

static void b_flow_a(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	e->offs = at(nlh, FLOW_A(nlh));
}

static void b_flow_b_at(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	e->offs = at(nlh, FLOW_B(nlh));
}

static void b_import(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	put_frame(nlh, 60, 5, NULL);
}

static void b_import_2(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	put_frame(nlh, 60, 5, NULL);
	put_frame(nlh, 60, 6, NULL);
}

static void b_import_900(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	put_frame(nlh, 900, 5, NULL);
}

#define NOT_FROZEN_WHOLE	"device not frozen: import needs it frozen whole"
#define NOTHING_TO_SET		"nothing to set: give a packet or byte limit"
#define NO_ROOM			"frames do not fit under the held-queue limits"

static const struct bad flowing[] = {
	{ "THAW a flowing device", CRAK_VIF_CMD_THAW, 0, EALREADY, "device not frozen", b_dev },
	{ "THAW a flow not frozen", CRAK_VIF_CMD_THAW, 0, ENOENT, "flow not frozen", b_flow_a },
	{ "IMPORT into a flowing device", CRAK_VIF_CMD_IMPORT, 0, EINVAL, NOT_FROZEN_WHOLE,
	  b_import },
	{ "ANNOUNCE on a device down", CRAK_VIF_CMD_ANNOUNCE, 0, ENETDOWN, "device is down",
	  b_dev },
	{ "SET no limit", CRAK_VIF_CMD_SET, 0, EINVAL, NOTHING_TO_SET, b_dev },
};

static const struct bad flow_frozen[] = {
	{ "FREEZE a frozen flow again", CRAK_VIF_CMD_FREEZE, 0, EEXIST, "flow already frozen",
	  b_flow_a },
	{ "THAW another flow", CRAK_VIF_CMD_THAW, 0, ENOENT, "flow not frozen", b_flow_b_at },
	{ "IMPORT into a device with a frozen flow", CRAK_VIF_CMD_IMPORT, 0, EINVAL,
	  NOT_FROZEN_WHOLE, b_import },
};

static const struct bad frozen_full[] = {
	{ "FREEZE a frozen device again", CRAK_VIF_CMD_FREEZE, 0, EALREADY,
	  "device already frozen", b_dev },
	{ "FREEZE a frozen flow of a frozen device", CRAK_VIF_CMD_FREEZE, 0, EEXIST,
	  "flow already frozen", b_flow_a },
	{ "IMPORT past the packet limit", CRAK_VIF_CMD_IMPORT, 0, ENOBUFS, NO_ROOM, b_import },
	{ "IMPORT 2 past the packet limit", CRAK_VIF_CMD_IMPORT, 0, ENOBUFS, NO_ROOM,
	  b_import_2 },
	{ "SET no limit on a frozen device", CRAK_VIF_CMD_SET, 0, EINVAL, NOTHING_TO_SET, b_dev },
};

static const struct bad frozen_bytes[] = {
	{ "IMPORT past the byte limit", CRAK_VIF_CMD_IMPORT, 0, ENOBUFS, NO_ROOM, b_import_900 },
};

TEST_F_TIMEOUT(vif, state_errors, TEST_TIMEOUT)
{
	static const size_t two[] = { 60, 60, 0 }, one[] = { 60, 0 };
	struct vif_state st;

	/* Flowing. */
	check_all_bad(_metadata, self, flowing, ARRAY_SIZE(flowing));

	/* One flow frozen, not the device. */
	ASSERT_TRUE(do_freeze(_metadata, self, flow_a));
	check_all_bad(_metadata, self, flow_frozen, ARRAY_SIZE(flow_frozen));

	/* Frozen whole, with room for 3 frames or 1000 bytes, 2 of 60 held. */
	ASSERT_TRUE(do_set(_metadata, self, 3, 1000));
	ASSERT_TRUE(do_freeze(_metadata, self, NULL));
	ASSERT_TRUE(do_import(_metadata, self, two));
	check_all_bad(_metadata, self, frozen_bytes, ARRAY_SIZE(frozen_bytes));
	/* Exactly up to the limit is fine... */
	ASSERT_TRUE(do_import(_metadata, self, one));
	ASSERT_TRUE(snapshot(_metadata, &self->nl, self->ifindex, true, &st));
	ASSERT_EQ(3u, st.held_packets);
	ASSERT_EQ(3u, st.frames);
	/* ...one more is not. */
	check_all_bad(_metadata, self, frozen_full, ARRAY_SIZE(frozen_full));
}

/* -- without CAP_NET_ADMIN over the device's netns ------------------------- */

struct op {
	const char *name;
	uint8_t cmd;
	uint16_t flags;
	void (*build)(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e);
	int root_err;			/* what root gets for the same request */
};

static void b_set(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, 7);
}

static void b_export_all(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	mnl_attr_put_u64(nlh, CRAK_VIF_A_EXPORT_LAST, UINT64_MAX);
}

static void b_thaw_a_drop(FIXTURE_DATA(vif) *self, struct nlmsghdr *nlh, struct expect *e)
{
	(void)e;
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, self->ifindex);
	FLOW_A(nlh);
	mnl_attr_put(nlh, CRAK_VIF_A_DROP, 0, NULL);
}

/* Requests root may make of a device frozen whole and by flow A, holding a
 * frame (in this order).
 */
static const struct op mutating[] = {
	{ "FREEZE flow B", CRAK_VIF_CMD_FREEZE, 0, b_flow_b, 0 },
	{ "SET", CRAK_VIF_CMD_SET, 0, b_set, 0 },
	{ "EXPORT (dump)", CRAK_VIF_CMD_EXPORT, NLM_F_DUMP, b_dev, 0 },
	{ "IMPORT", CRAK_VIF_CMD_IMPORT, 0, b_import, 0 },
	{ "EXPORT (do) of everything", CRAK_VIF_CMD_EXPORT, 0, b_export_all, 0 },
	{ "THAW flow A, dropping", CRAK_VIF_CMD_THAW, 0, b_thaw_a_drop, 0 },
	{ "THAW", CRAK_VIF_CMD_THAW, 0, b_dev, 0 },
	{ "FREEZE", CRAK_VIF_CMD_FREEZE, 0, b_dev, 0 },
	/* Down: root passes the permission check and fails on that. */
	{ "ANNOUNCE", CRAK_VIF_CMD_ANNOUNCE, 0, b_dev, ENETDOWN },
};

static int send_op(struct nl *nl, FIXTURE_DATA(vif) *self, const struct op *op,
		   struct answer *a)
{
	struct expect e;
	uint16_t flags = op->flags;
	struct nlmsghdr *nlh;

	if ((flags & NLM_F_DUMP) != NLM_F_DUMP)
		flags |= NLM_F_ACK;
	nlh = nl_req(nl, nl->family, op->cmd, flags);
	op->build(self, nlh, &e);
	return nl_talk(nl, nlh, a, NULL, NULL);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -errno;
	close(fd);
	return ret;
}

/*
 * Root of a new user namespace, still in the device's network namespace,
 * which the initial user namespace owns.  Only EXPECT_* here: an ASSERT
 * would jump back into the harness in this process.  Exits 0, 1 on failure,
 * or KSFT_SKIP without user namespaces.
 */
static void unprivileged_child(struct __test_metadata *_metadata, FIXTURE_DATA(vif) *self,
			       const struct vif_state *before)
{
	bool failed_before = _metadata->exit_code == KSFT_FAIL;
	struct vif_state st;
	struct answer a;
	struct nl nl;
	unsigned int i;
	int err;

	if (unshare(CLONE_NEWUSER)) {
		TH_LOG("unshare(CLONE_NEWUSER): %s", strerror(errno));
		_exit(KSFT_SKIP);
	}
	/* uid and gid 0 inside are 0 outside: root, but of this namespace. */
	if (write_file("/proc/self/setgroups", "deny") ||
	    write_file("/proc/self/uid_map", "0 0 1") ||
	    write_file("/proc/self/gid_map", "0 0 1"))
		TH_LOG("cannot map root into the user namespace; going on unmapped");

	err = nl_open(&nl);
	EXPECT_EQ(0, err) {
		TH_LOG("no %s family in a user namespace: %s", CRAK_VIF_FAMILY_NAME,
		       strerror(-err));
		_exit(1);
	}

	for (i = 0; i < ARRAY_SIZE(mutating); i++) {
		err = send_op(&nl, self, &mutating[i], &a);
		EXPECT_EQ(0, err) TH_LOG("%s: netlink failed: %s", mutating[i].name,
					 strerror(-err));
		ksft_print_msg("unprivileged %-32s %-10s \"%s\"\n", mutating[i].name,
			       errname(a.err), a.msg);
		EXPECT_EQ(EPERM, a.err) TH_LOG("unprivileged %s: answered %s, not EPERM",
					      mutating[i].name, errname(a.err));
		EXPECT_EQ(0u, a.replies) TH_LOG("unprivileged %s: %u replies", mutating[i].name,
					       a.replies);
	}

	/* GET still works, and sees the device as it was. */
	EXPECT_TRUE(snapshot(_metadata, &nl, self->ifindex, false, &st));
	EXPECT_TRUE(same_state(_metadata, "unprivileged GET", before, &st));
	/* So does a GET dump, which lists it. */
	{
		struct state_ctx ctx = { .ifindex = self->ifindex, .st = &st };
		struct nlmsghdr *nlh = nl_req(&nl, nl.family, CRAK_VIF_CMD_GET, NLM_F_DUMP);

		memset(&st, 0, sizeof(st));
		err = nl_talk(&nl, nlh, &a, get_reply, &ctx);
		EXPECT_EQ(0, err);
		EXPECT_EQ(0, a.err) TH_LOG("unprivileged GET dump: %s \"%s\"", errname(a.err),
					   a.msg);
		EXPECT_EQ(1u, st.found) TH_LOG("unprivileged GET dump: device listed %u times",
					      st.found);
		EXPECT_TRUE(same_state(_metadata, "unprivileged GET dump", before, &st));
	}

	/* Nor may it listen to the events. */
	err = nl_join_events(&nl);
	ksft_print_msg("unprivileged join of \"%s\"            %s\n", CRAK_VIF_MCGRP_EVENTS,
		       errname(-err));
	EXPECT_EQ(-EPERM, err) TH_LOG("unprivileged join of the events group: %s",
				      errname(-err));

	nl_close(&nl);
	_exit(!failed_before && _metadata->exit_code == KSFT_FAIL ? 1 : 0);
}

TEST_F_TIMEOUT(vif, unprivileged, TEST_TIMEOUT)
{
	struct vif_state before, after;
	struct answer a;
	struct nl nl;
	unsigned int i;
	int status, err;
	pid_t pid;

	ASSERT_TRUE(do_freeze(_metadata, self, flow_a));
	ASSERT_TRUE(do_freeze(_metadata, self, NULL));
	ASSERT_TRUE(do_import(_metadata, self, one_frame));
	ASSERT_TRUE(snapshot(_metadata, &self->nl, self->ifindex, true, &before));

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		unprivileged_child(_metadata, self, &before);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == KSFT_SKIP)
		SKIP(return, "no user namespaces");
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("the unprivileged child failed");

	ASSERT_TRUE(snapshot(_metadata, &self->nl, self->ifindex, true, &after));
	EXPECT_TRUE(same_state(_metadata, "after the unprivileged requests", &before, &after));

	/* The same requests were good ones: root may make them. */
	for (i = 0; i < ARRAY_SIZE(mutating); i++) {
		err = send_op(&self->nl, self, &mutating[i], &a);
		ASSERT_EQ(0, err);
		EXPECT_EQ(mutating[i].root_err, a.err) TH_LOG("root %s: %s \"%s\"",
							      mutating[i].name, errname(a.err),
							      a.msg);
	}
	/* And root may listen to the events. */
	ASSERT_EQ(0, nl_open(&nl));
	EXPECT_EQ(0, nl_join_events(&nl));
	nl_close(&nl);
}

TEST_HARNESS_MAIN
