// SPDX-License-Identifier: GPL-2.0
/*
 * Route netlink over libmnl, for pods: links, addresses, default routes.
 *
 * The socket asks for extended acks, so that a refusal comes with the
 * kernel's reason ("address already used"), and for capped acks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "rtnl.h"
#include "util.h"

#define RTNL_BUF_SIZE	(32 * 1024)

int rtnl_open(struct rtnl *r)
{
	int one = 1;

	*r = (struct rtnl){ 0 };
	r->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->sock ||
	    mnl_socket_setsockopt(r->sock, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    mnl_socket_setsockopt(r->sock, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    mnl_socket_bind(r->sock, 0, MNL_SOCKET_AUTOPID)) {
		r->err = errno;
		if (r->sock)
			mnl_socket_close(r->sock);
		r->sock = NULL;
		return -r->err;
	}
	r->portid = mnl_socket_get_portid(r->sock);
	r->buf = xmalloc(RTNL_BUF_SIZE);
	return 0;
}

void rtnl_close(struct rtnl *r)
{
	if (r->sock)
		mnl_socket_close(r->sock);
	free(r->buf);
	*r = (struct rtnl){ 0 };
}

const char *rtnl_strerror(const struct rtnl *r)
{
	return r->msg[0] ? r->msg : strerror(r->err);
}

static struct nlmsghdr *rtnl_request(struct rtnl *r, uint16_t type, uint16_t flags,
				     void **hdr, size_t hdr_len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++r->seq;
	*hdr = mnl_nlmsg_put_extra_header(nlh, hdr_len);
	return nlh;
}

static int extack_cb(const struct nlattr *attr, void *data)
{
	struct rtnl *r = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(r->msg, sizeof(r->msg), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/*
 * Sends the request in the buffer and reads until its ack, handing every
 * other reply to @cb.  0, or a negative errno (r->err, r->msg say why).
 */
static int rtnl_exec(struct rtnl *r, void (*cb)(const struct nlmsghdr *, void *), void *data)
{
	struct nlmsghdr *req = (struct nlmsghdr *)r->buf;
	unsigned int seq = req->nlmsg_seq;
	ssize_t n;

	r->err = 0;
	r->msg[0] = 0;
	if (mnl_socket_sendto(r->sock, req, req->nlmsg_len) < 0) {
		r->err = errno;
		return -r->err;
	}
	for (;;) {
		const struct nlmsghdr *nlh;
		int len;

		n = mnl_socket_recvfrom(r->sock, r->buf, RTNL_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->err = errno;
			return -r->err;
		}
		len = n;
		for (nlh = (const void *)r->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != r->portid)
				continue;
			if (nlh->nlmsg_type != NLMSG_ERROR) {
				if (cb)
					cb(nlh, data);
				continue;
			}
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				r->err = EBADMSG;
				return -r->err;
			}
			e = mnl_nlmsg_get_payload(nlh);
			if (!e->error)
				return 0;
			r->err = -e->error;
			if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
				mnl_attr_parse(nlh, sizeof(*e), extack_cb, r);
			return -r->err;
		}
	}
}

/* A new link @name of @kind on @lower (an ifindex of the socket's namespace). */
int rtnl_link_add(struct rtnl *r, const char *name, const char *kind, int lower,
		  const unsigned char *mac)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct nlattr *info;

	nlh = rtnl_request(r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, (void **)&ifi,
			   sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_LINK, lower);
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	mnl_attr_nest_end(nlh, info);
	return rtnl_exec(r, NULL, NULL);
}

int rtnl_link_del(struct rtnl *r, int ifindex)
{
	struct ifinfomsg *ifi;

	rtnl_request(r, RTM_DELLINK, 0, (void **)&ifi, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return rtnl_exec(r, NULL, NULL);
}

/* Moves link @ifindex to the network namespace @nsfd, named @name there. */
int rtnl_link_move(struct rtnl *r, int ifindex, int nsfd, const char *name)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	nlh = rtnl_request(r, RTM_NEWLINK, 0, (void **)&ifi, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, nsfd);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return rtnl_exec(r, NULL, NULL);
}

int rtnl_link_up(struct rtnl *r, int ifindex)
{
	struct ifinfomsg *ifi;

	rtnl_request(r, RTM_NEWLINK, 0, (void **)&ifi, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return rtnl_exec(r, NULL, NULL);
}

struct link_reply {
	int ifindex;
	unsigned char *mac;
};

static void link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_reply *lr = data;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return;
	lr->ifindex = ifi->ifi_index;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi))
		if (mnl_attr_get_type(attr) == IFLA_ADDRESS && mnl_attr_get_payload_len(attr) == 6)
			memcpy(lr->mac, mnl_attr_get_payload(attr), 6);
}

/* The ifindex and MAC address of link @name. */
int rtnl_link_get(struct rtnl *r, const char *name, int *ifindex, unsigned char mac[6])
{
	struct link_reply lr = { .mac = mac };
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int err;

	nlh = rtnl_request(r, RTM_GETLINK, 0, (void **)&ifi, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	memset(mac, 0, 6);
	err = rtnl_exec(r, link_cb, &lr);
	if (err)
		return err;
	if (!lr.ifindex) {
		r->err = ENODEV;
		return -r->err;
	}
	*ifindex = lr.ifindex;
	return 0;
}

/* An address of @ifindex; an IPv6 one without duplicate address detection. */
int rtnl_addr_add(struct rtnl *r, int ifindex, const struct ipnet *a)
{
	size_t len = a->family == AF_INET ? 4 : 16;
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;

	nlh = rtnl_request(r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, (void **)&ifa,
			   sizeof(*ifa));
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = a->prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, len, a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, a->addr);
	if (a->family == AF_INET6) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return rtnl_exec(r, NULL, NULL);
}

/* The default route of @family through gateway @gw on @ifindex. */
int rtnl_route_add_default(struct rtnl *r, int ifindex, int family, const void *gw)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = rtnl_request(r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, (void **)&rtm,
			   sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? 4 : 16, gw);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	return rtnl_exec(r, NULL, NULL);
}

/* "ADDR/PREFIX"; without a prefix, the address alone (/32, /128).  -1 if malformed. */
int parse_ipnet(const char *word, struct ipnet *a)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long prefix;
	unsigned int max;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", word) >= sizeof(buf))
		return -1;
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a->addr) == 1)
		a->family = AF_INET6;
	else
		return -1;
	max = a->family == AF_INET ? 32 : 128;
	a->prefix = max;
	if (!slash)
		return 0;
	if (*slash < '0' || *slash > '9')
		return -1;
	errno = 0;
	prefix = strtoul(slash, &end, 10);
	if (errno || *end || prefix > max)
		return -1;
	a->prefix = prefix;
	return 0;
}

void format_ipnet(const struct ipnet *a, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(a->family, a->addr, addr, sizeof(addr));
	snprintf(buf, size, "%s/%u", addr, a->prefix);
}
