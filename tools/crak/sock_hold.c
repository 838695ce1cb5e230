// SPDX-License-Identifier: GPL-2.0
/*
 * crak sock: the crakvif device that holds a connection's inbound packets.
 *
 * A frozen socket's inbound segments are dropped, and the peer retransmits
 * them.  When the connection's local address is on a crakvif device, freezing
 * its flow there holds them instead, and thawing the flow delivers them.
 *
 * The device is looked for in the socket's network namespace: rtnetlink tells
 * which devices have the local address (RTM_GETADDR) and which of them is a
 * crakvif (RTM_GETLINK).  A netlink socket talks to the namespace it was
 * created in, so the rtnetlink and crak_vif sockets are opened there, with
 * setns(2), and crak returns to its own namespace at once.  Without such a
 * device, or without crak_vif, there is nothing to hold: crak does the socket
 * part only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/rtnetlink.h>

#include "sock.h"

/* Room for a request of rtnetlink, and for a reply: a message of a dump, or a device. */
#define RTNL_REQ_SIZE		1024
#define RTNL_BUF_SIZE		(32 * 1024)

/* The devices one address may be on that are looked at. */
#define HOLD_MAX_DEVS		16

struct rtnl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	char req[RTNL_REQ_SIZE];
	char resp[RTNL_BUF_SIZE];
};

/* The devices that have the local address. */
struct addr_match {
	const struct endpoint *ep;
	uint32_t scope_id;		/* of an IPv6 link-local address, or 0 */
	uint32_t ifindex[HOLD_MAX_DEVS];
	unsigned int n;
};

/* What RTM_GETLINK says of a device. */
struct link_match {
	char ifname[IF_NAMESIZE];
	bool crakvif;
};

/* Enters the namespace @netns (-1: ours); *@home is then ours, to come back to. */
static int netns_enter(int netns, int *home, const char *what)
{
	struct stat ours, theirs;

	*home = -1;
	if (netns < 0)
		return 0;
	*home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*home < 0 || fstat(*home, &ours) || fstat(netns, &theirs)) {
		pr_err("%s: network namespace: %s", what, strerror(errno));
	} else if (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino) {
		close(*home);
		*home = -1;
		return 0;
	} else if (setns(netns, CLONE_NEWNET)) {
		pr_err("%s: cannot enter the socket's network namespace: %s", what,
		       strerror(errno));
	} else {
		return 0;
	}
	if (*home >= 0)
		close(*home);
	*home = -1;
	return -1;
}

static void netns_leave(int home)
{
	if (home < 0)
		return;
	/* Nothing has been done yet: leaving now leaves nothing half-done. */
	if (setns(home, CLONE_NEWNET))
		die("cannot return to crak's network namespace: %s", strerror(errno));
	close(home);
}

static int rtnl_open(struct rtnl *r)
{
	r->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->sock || mnl_socket_bind(r->sock, 0, MNL_SOCKET_AUTOPID))
		return -1;
	r->portid = mnl_socket_get_portid(r->sock);
	return 0;
}

static struct nlmsghdr *rtnl_request(struct rtnl *r, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(r->req, 0, sizeof(r->req));
	nlh = mnl_nlmsg_put_header(r->req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++r->seq;
	return nlh;
}

/* Sends the request and hands each reply to @cb up to the ack or the end of the dump. */
static int rtnl_exec(struct rtnl *r, mnl_cb_t cb, void *data)
{
	const struct nlmsghdr *req = (const struct nlmsghdr *)r->req;
	ssize_t len;
	int ret;

	if (mnl_socket_sendto(r->sock, req, req->nlmsg_len) < 0)
		return -1;
	do {
		len = mnl_socket_recvfrom(r->sock, r->resp, sizeof(r->resp));
		if (len < 0)
			return -1;
		ret = mnl_cb_run(r->resp, len, req->nlmsg_seq, r->portid, cb, data);
	} while (ret == MNL_CB_OK);
	return ret == MNL_CB_ERROR ? -1 : 0;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;
	struct addr_match *m = data;
	size_t len = endpoint_addr_len(m->ep);

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    ifa->ifa_family != m->ep->family)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = attr;
	}
	/* IFA_ADDRESS is the peer's on a point-to-point link; IFA_LOCAL is ours. */
	if (!local)
		local = address;
	if (!local || mnl_attr_get_payload_len(local) != len ||
	    memcmp(mnl_attr_get_payload(local), m->ep->addr, len) ||
	    (m->scope_id && ifa->ifa_index != m->scope_id))
		return MNL_CB_OK;
	if (m->n < HOLD_MAX_DEVS)
		m->ifindex[m->n++] = ifa->ifa_index;
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr, *info;
	struct link_match *m = data;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg)) {
		switch (mnl_attr_get_type(attr)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) {
				errno = EBADMSG;
				return MNL_CB_ERROR;
			}
			snprintf(m->ifname, sizeof(m->ifname), "%s", mnl_attr_get_str(attr));
			break;
		case IFLA_LINKINFO:
			if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0) {
				errno = EBADMSG;
				return MNL_CB_ERROR;
			}
			mnl_attr_for_each_nested(info, attr)
				if (mnl_attr_get_type(info) == IFLA_INFO_KIND &&
				    mnl_attr_validate(info, MNL_TYPE_NUL_STRING) >= 0 &&
				    !strcmp(mnl_attr_get_str(info), CRAK_VIF_KIND))
					m->crakvif = true;
			break;
		}
	}
	return MNL_CB_OK;
}

/* Looks for a crakvif device having the local address of @h->flow. */
static int hold_lookup(struct sock_hold *h, struct rtnl *r, uint32_t scope_id)
{
	struct addr_match am = { .ep = &h->flow.local, .scope_id = scope_id };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct ifinfomsg *ifi;
	unsigned int i;

	if (rtnl_open(r))
		return -1;
	nlh = rtnl_request(r, RTM_GETADDR, NLM_F_DUMP);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = h->flow.local.family;
	if (rtnl_exec(r, addr_cb, &am))
		return -1;
	for (i = 0; i < am.n; i++) {
		struct link_match lm = { 0 };

		nlh = rtnl_request(r, RTM_GETLINK, NLM_F_ACK);
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_index = am.ifindex[i];
		if (rtnl_exec(r, link_cb, &lm)) {
			/* Gone since the dump. */
			if (errno == ENODEV)
				continue;
			return -1;
		}
		if (lm.crakvif) {
			h->found = true;
			h->ifindex = am.ifindex[i];
			memcpy(h->ifname, lm.ifname, sizeof(h->ifname));
			return 0;
		}
	}
	return 0;
}

/* An IPv4 connection of an IPv6 socket is IPv4 on the wire. */
static void endpoint_unmap(struct endpoint *ep)
{
	static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (ep->family != AF_INET6 || memcmp(ep->addr, v4mapped, sizeof(v4mapped)))
		return;
	ep->family = AF_INET;
	memmove(ep->addr, ep->addr + sizeof(v4mapped), sizeof(struct in_addr));
	memset(ep->addr + sizeof(struct in_addr), 0, sizeof(ep->addr) - sizeof(struct in_addr));
}

/*
 * Finds the crakvif device that has the local address of the connection of
 * @t, in its network namespace, and opens crak_vif there.  Finding none is no
 * error; failing to look is.
 */
int sock_hold_find(struct sock_hold *h, const struct sock_target *t, const char *what)
{
	struct rtnl *r;
	int home, ret;

	memset(h, 0, sizeof(*h));
	if (!t->has_conn)
		return 0;
	h->flow = t->conn;
	endpoint_unmap(&h->flow.local);
	endpoint_unmap(&h->flow.remote);
	if (h->flow.local.family != h->flow.remote.family)
		return 0;

	if (netns_enter(t->netns_fd, &home, what))
		return -1;
	r = xmalloc(sizeof(*r));
	memset(r, 0, sizeof(*r));
	ret = hold_lookup(h, r, t->scope_id);
	if (ret)
		pr_err("%s: looking for a crakvif device: rtnetlink: %s", what, strerror(errno));
	if (r->sock)
		mnl_socket_close(r->sock);
	free(r);
	if (!ret && h->found) {
		ret = nl_open_optional(&h->vif, &vif_family);
		/* No crak_vif after all: unloaded since. */
		if (ret > 0)
			h->found = false;
		ret = ret < 0 ? -1 : 0;
	}
	netns_leave(home);
	return ret;
}

/* Freezes the flow on the device, unless it is already. */
int sock_hold_freeze(struct sock_hold *h, const char *what)
{
	char msg[SOCK_WHAT_STRLEN + IF_NAMESIZE + 32];
	struct nlmsghdr *nlh;
	int ret;

	if (!h->found)
		return 0;
	snprintf(msg, sizeof(msg), "%s: holding its inbound on %s", what, h->ifname);
	nlh = nl_request(&h->vif, CRAK_VIF_CMD_FREEZE, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, h->ifindex);
	vif_flow_put(nlh, &h->flow);
	ret = nl_exec_allow(&h->vif, msg, NULL, NULL, EEXIST);
	if (ret < 0)
		return -1;
	h->held = true;
	h->ours = ret == 0;
	return 0;
}

static int thaw_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_VIF_A_MAX + 1];
	struct sock_hold *h = data;

	if (vif_parse(nlh, tb) || !tb[CRAK_VIF_A_DELIVERED] || !tb[CRAK_VIF_A_DROPPED])
		return nl_malformed("thaw");
	h->delivered = mnl_attr_get_u32(tb[CRAK_VIF_A_DELIVERED]);
	h->discarded = mnl_attr_get_u32(tb[CRAK_VIF_A_DROPPED]);
	return MNL_CB_OK;
}

/* Thaws the flow on the device: 1 if it was not frozen there. */
static int hold_thaw(struct sock_hold *h, const char *msg)
{
	struct nlmsghdr *nlh;

	nlh = nl_request(&h->vif, CRAK_VIF_CMD_THAW, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_VIF_A_IFINDEX, h->ifindex);
	vif_flow_put(nlh, &h->flow);
	return nl_exec_allow(&h->vif, msg, thaw_cb, h, ENOENT);
}

/* The socket part failed: thaws the flow if this command froze it. */
void sock_hold_undo(struct sock_hold *h, const char *what)
{
	char msg[SOCK_WHAT_STRLEN + IF_NAMESIZE + 32];

	if (!h->ours)
		return;
	snprintf(msg, sizeof(msg), "%s: %s still holds its inbound", what, h->ifname);
	hold_thaw(h, msg);
	h->held = false;
	h->ours = false;
}

/* thaw, drop: once the socket is done with, delivers what the device held. */
int sock_hold_release(struct sock_hold *h, const char *what)
{
	char msg[SOCK_WHAT_STRLEN + IF_NAMESIZE + 32];
	int ret;

	h->thawing = true;
	if (!h->found)
		return 0;
	snprintf(msg, sizeof(msg), "%s: done, but %s still holds its inbound", what, h->ifname);
	ret = hold_thaw(h, msg);
	if (ret < 0)
		return -1;
	h->released = ret == 0;
	return 0;
}

/* "inbound held on pod0", or what became of the inbound. */
void sock_hold_text(const struct sock_hold *h)
{
	if (h->released)
		printf("inbound released on %s: %u delivered, %u dropped\n", h->ifname,
		       h->delivered, h->discarded);
	else if (h->thawing && h->found)
		printf("inbound was not held on %s\n", h->ifname);
	else if (h->thawing)
		printf("inbound was not held (no crakvif)\n");
	else if (h->held)
		printf("inbound held on %s\n", h->ifname);
	else
		printf("inbound dropped (no crakvif)\n");
}

/* "held_on": the device that holds (or held) the inbound, or null. */
void sock_hold_json(struct json *j, const struct sock_hold *h)
{
	if (!h->held && !h->released) {
		json_null(j, "held_on");
		return;
	}
	json_string(j, "held_on", h->ifname);
	if (h->released) {
		json_uint(j, "delivered", h->delivered);
		json_uint(j, "discarded", h->discarded);
	}
}

void sock_hold_close(struct sock_hold *h)
{
	if (h->vif.req)
		nl_close(&h->vif);
	memset(&h->vif, 0, sizeof(h->vif));
}
