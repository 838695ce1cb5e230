// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink over libmnl.
 *
 * The socket asks for extended acks (NETLINK_EXT_ACK), so that a failure comes
 * with the kernel's explanation and the attribute at fault, and for capped
 * acks (NETLINK_CAP_ACK), so that it does not echo a 60 KiB import back.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"
#include "util.h"

/* Room for a reply: dump messages of 32 KiB, or a held frame of 64 KiB. */
#define NL_RESP_SIZE	(128 * 1024)

/* The version of the nlctrl protocol we speak. */
#define CTRL_VERSION	2

/* One request and its replies. */
struct nl_exchange {
	struct nl *nl;
	const char *what;		/* what failed, for messages: "freeze pod0" */
	mnl_cb_t cb;			/* the caller's, for each reply */
	void *data;
	int err;			/* errno of the failure */
	const char *reason;		/* why, when the errno alone does not say */
	const struct nlattr *ext[NLMSGERR_ATTR_MAX + 1];	/* the extended ack */
	bool kernel;			/* the kernel said it failed */
	bool reported;			/* the caller's callback reported the failure */
};

/* A table of the expected type of each attribute, and where to put them. */
struct nl_attr_table {
	const enum mnl_attr_data_type *policy;
	unsigned int max;
	const struct nlattr **tb;
};

static const enum mnl_attr_data_type extack_policy[NLMSGERR_ATTR_MAX + 1] = {
	[NLMSGERR_ATTR_MSG] = MNL_TYPE_NUL_STRING,
	[NLMSGERR_ATTR_OFFS] = MNL_TYPE_U32,
	[NLMSGERR_ATTR_MISS_TYPE] = MNL_TYPE_U32,
	[NLMSGERR_ATTR_MISS_NEST] = MNL_TYPE_U32,
};

static const enum mnl_attr_data_type ctrl_policy[CTRL_ATTR_MAX + 1] = {
	[CTRL_ATTR_FAMILY_ID] = MNL_TYPE_U16,
	[CTRL_ATTR_MCAST_GROUPS] = MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type mcgrp_policy[CTRL_ATTR_MCAST_GRP_MAX + 1] = {
	[CTRL_ATTR_MCAST_GRP_NAME] = MNL_TYPE_NUL_STRING,
	[CTRL_ATTR_MCAST_GRP_ID] = MNL_TYPE_U32,
};

static int nl_parse_attr(const struct nlattr *attr, void *data)
{
	const struct nl_attr_table *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	/* Attributes a newer kernel added. */
	if (type > t->max)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, t->policy[type]) < 0)
		return MNL_CB_ERROR;
	t->tb[type] = attr;
	return MNL_CB_OK;
}

static int nl_parse_payload(const struct nlmsghdr *nlh, unsigned int offset,
			    const enum mnl_attr_data_type *policy, unsigned int max,
			    const struct nlattr **tb)
{
	struct nl_attr_table t = { .policy = policy, .max = max, .tb = tb };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	return mnl_attr_parse(nlh, offset, nl_parse_attr, &t) == MNL_CB_ERROR ? -1 : 0;
}

/*
 * The attributes of a generic netlink message into @tb, indexed by type, each
 * checked against the type @policy gives it (MNL_TYPE_UNSPEC: not checked).
 */
int nl_parse(const struct nlmsghdr *nlh, const enum mnl_attr_data_type *policy,
	     unsigned int max, const struct nlattr **tb)
{
	return nl_parse_payload(nlh, sizeof(struct genlmsghdr), policy, max, tb);
}

/* The same, for the attributes nested in @nest. */
int nl_parse_nested(const struct nlattr *nest, const enum mnl_attr_data_type *policy,
		    unsigned int max, const struct nlattr **tb)
{
	struct nl_attr_table t = { .policy = policy, .max = max, .tb = tb };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -1;
	return mnl_attr_parse_nested(nest, nl_parse_attr, &t) == MNL_CB_ERROR ? -1 : 0;
}

/* Reports a message that is not what the protocol says; for callbacks. */
int nl_malformed(const char *what)
{
	pr_err("%s: malformed message from the kernel", what);
	return MNL_CB_ERROR;
}

/* The name of top-level attribute @type of the request, or its number. */
static const char *nl_attr_name(const struct nl *nl, unsigned int type, char *buf, size_t size)
{
	const struct nlmsghdr *req = (const struct nlmsghdr *)nl->req;

	/* Names are the family's, not those of nlctrl's requests. */
	if (req->nlmsg_type == nl->family_id && type <= nl->fam->attr_max &&
	    nl->fam->attr_names[type])
		return nl->fam->attr_names[type];
	snprintf(buf, size, "%u", type);
	return buf;
}

/* The top-level attribute of the request that byte @offset of it is in. */
static const struct nlattr *nl_request_attr_at(const struct nl *nl, uint32_t offset)
{
	const struct nlmsghdr *req = (const struct nlmsghdr *)nl->req;
	const struct nlattr *attr;

	mnl_attr_for_each(attr, req, sizeof(struct genlmsghdr)) {
		uint32_t start = (const char *)attr - nl->req;

		if (offset >= start && offset < start + attr->nla_len)
			return attr;
	}
	return NULL;
}

/* Where the extended ack points, as " (attribute flow)", or "". */
static void nl_describe_attr(const struct nl_exchange *x, char *buf, size_t size)
{
	const struct nlattr *const *ext = x->ext;
	const struct nlattr *attr;
	char num[16];

	buf[0] = '\0';
	if (ext[NLMSGERR_ATTR_MISS_TYPE] && ext[NLMSGERR_ATTR_MISS_NEST]) {
		attr = nl_request_attr_at(x->nl, mnl_attr_get_u32(ext[NLMSGERR_ATTR_MISS_NEST]));
		if (attr)
			snprintf(buf, size, " (missing attribute %u in %s)",
				 mnl_attr_get_u32(ext[NLMSGERR_ATTR_MISS_TYPE]),
				 nl_attr_name(x->nl, mnl_attr_get_type(attr), num, sizeof(num)));
	} else if (ext[NLMSGERR_ATTR_MISS_TYPE]) {
		snprintf(buf, size, " (missing attribute %s)",
			 nl_attr_name(x->nl, mnl_attr_get_u32(ext[NLMSGERR_ATTR_MISS_TYPE]),
				      num, sizeof(num)));
	} else if (ext[NLMSGERR_ATTR_OFFS]) {
		attr = nl_request_attr_at(x->nl, mnl_attr_get_u32(ext[NLMSGERR_ATTR_OFFS]));
		if (attr)
			snprintf(buf, size, " (attribute %s)",
				 nl_attr_name(x->nl, mnl_attr_get_type(attr), num, sizeof(num)));
	}
}

/* "crak: freeze pod0: no such crakvif device (No such device)". */
static void nl_report(const struct nl_exchange *x)
{
	const char *reason = x->reason;
	char where[96];

	if (x->ext[NLMSGERR_ATTR_MSG])
		reason = mnl_attr_get_str(x->ext[NLMSGERR_ATTR_MSG]);
	nl_describe_attr(x, where, sizeof(where));
	if (reason)
		pr_err("%s: %s%s (%s)", x->what, reason, where, strerror(x->err));
	else
		pr_err("%s: %s%s", x->what, strerror(x->err), where);
}

static int nl_fail(struct nl_exchange *x, int err, const char *reason)
{
	x->err = err;
	if (reason)
		x->reason = reason;
	return -1;
}

static int nl_cb_data(const struct nlmsghdr *nlh, void *data)
{
	struct nl_exchange *x = data;
	int ret;

	if (!x->cb)
		return MNL_CB_OK;
	ret = x->cb(nlh, x->data);
	if (ret == MNL_CB_ERROR)
		x->reported = true;
	return ret;
}

/* The extended ack after the first @offset bytes of the payload of @nlh. */
static void nl_parse_extack(struct nl_exchange *x, const struct nlmsghdr *nlh,
			    unsigned int offset)
{
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		nl_parse_payload(nlh, offset, extack_policy, NLMSGERR_ATTR_MAX, x->ext);
}

/* Error 0 ends the exchange well (maybe with a warning); others as a failure. */
static int nl_ack(struct nl_exchange *x, int error)
{
	if (error == 0) {
		if (x->ext[NLMSGERR_ATTR_MSG])
			pr_err("%s: warning: %s", x->what,
			       mnl_attr_get_str(x->ext[NLMSGERR_ATTR_MSG]));
		return MNL_CB_STOP;
	}
	x->kernel = true;
	errno = error < 0 ? -error : error;
	return MNL_CB_ERROR;
}

/* NLMSG_ERROR: the ack of a request, or why it failed. */
static int nl_cb_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct nl_exchange *x = data;
	unsigned int offset = sizeof(*err);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		x->reason = "malformed ack";
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	/* Unless capped, the ack echoes the request's payload too. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && err->msg.nlmsg_len > MNL_NLMSG_HDRLEN)
		offset += err->msg.nlmsg_len - MNL_NLMSG_HDRLEN;
	nl_parse_extack(x, nlh, offset);
	return nl_ack(x, err->error);
}

/* NLMSG_DONE: the end of a dump, and whether it failed. */
static int nl_cb_done(const struct nlmsghdr *nlh, void *data)
{
	struct nl_exchange *x = data;
	int error;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(error)) {
		x->reason = "malformed end of dump";
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	nl_parse_extack(x, nlh, sizeof(error));
	return nl_ack(x, error);
}

/* Not const: libmnl 1.0.4 takes it as mnl_cb_t *. */
static mnl_cb_t nl_ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = nl_cb_error,
	[NLMSG_DONE] = nl_cb_done,
};

/* Why libmnl's checks failed. */
static const char *nl_check_failure(int err)
{
	switch (err) {
	case EINTR:
		return "the dump was interrupted by a change, try again";
	case ESRCH:
	case EPROTO:
		return "reply to another request";
	default:
		return NULL;
	}
}

/* Sends the request and processes the replies up to the ack or end of the dump. */
static int nl_talk(struct nl_exchange *x)
{
	const struct nlmsghdr *req = (const struct nlmsghdr *)x->nl->req;
	struct nl *nl = x->nl;
	ssize_t len;
	int ret;

	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return nl_fail(x, errno, NULL);
	do {
		len = mnl_socket_recvfrom(nl->sock, nl->resp, NL_RESP_SIZE);
		if (len < 0)
			return nl_fail(x, errno, errno == ENOSPC ? "reply too large" : NULL);
		ret = mnl_cb_run2(nl->resp, len, req->nlmsg_seq, nl->portid, nl_cb_data, x,
				  nl_ctl_cb, ARRAY_SIZE(nl_ctl_cb));
	} while (ret == MNL_CB_OK);
	if (ret == MNL_CB_ERROR)
		return nl_fail(x, errno, x->kernel || x->reported ? NULL : nl_check_failure(errno));
	return 0;
}

static struct nlmsghdr *nl_put_request(struct nl *nl, uint16_t type, uint8_t cmd,
				       uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;

	/* libmnl 1.0.4 does not zero the padding of the attributes it adds. */
	memset(nl->req, 0, NL_REQ_SIZE);
	nlh = mnl_nlmsg_put_header(nl->req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

/*
 * Starts a request of command @cmd of the family, with NLM_F_ACK for a do or
 * NLM_F_DUMP for a dump in @flags, for the caller to add attributes.
 */
struct nlmsghdr *nl_request(struct nl *nl, uint8_t cmd, uint16_t flags)
{
	return nl_put_request(nl, nl->family_id, cmd, nl->fam->version, flags);
}

/*
 * Sends the request and hands each reply to @cb (which may be NULL) until the
 * ack or the end of the dump.  On failure, reports it as "@what: ..." unless
 * @cb did, and returns -1.
 */
int nl_exec(struct nl *nl, const char *what, mnl_cb_t cb, void *data)
{
	return nl_exec_allow(nl, what, cb, data, 0);
}

/*
 * As nl_exec(), but the kernel refusing the request with errno @err is no
 * failure: returns 1 then, without a word.
 */
int nl_exec_allow(struct nl *nl, const char *what, mnl_cb_t cb, void *data, int err)
{
	return nl_exec_allow2(nl, what, cb, data, err, 0);
}

/* As nl_exec_allow(), with two such errnos (nl->err tells which). */
int nl_exec_allow2(struct nl *nl, const char *what, mnl_cb_t cb, void *data, int err,
		   int err2)
{
	struct nl_exchange x = { .nl = nl, .what = what, .cb = cb, .data = data };
	const char *reason;
	bool ok;

	nl->err = 0;
	ok = !nl_talk(&x);
	/* (A reply's words, if the callback found any: this request's only.) */
	reason = nl->reason;
	nl->reason = NULL;
	if (ok)
		return 0;
	nl->err = x.err;
	if (x.kernel && ((err && x.err == err) || (err2 && x.err == err2)))
		return 1;
	if (!x.reported && !nl->quiet) {
		if (reason && !x.ext[NLMSGERR_ATTR_MSG])
			x.reason = reason;
		nl_report(&x);
	}
	return -1;
}

static int nl_find_mcgrp(struct nl *nl, const struct nlattr *groups)
{
	const struct nlattr *grp;

	mnl_attr_for_each_nested(grp, groups) {
		const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];

		if (nl_parse_nested(grp, mcgrp_policy, CTRL_ATTR_MCAST_GRP_MAX, tb) ||
		    !tb[CTRL_ATTR_MCAST_GRP_NAME] || !tb[CTRL_ATTR_MCAST_GRP_ID])
			return nl_malformed("nlctrl");
		if (!strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]), nl->fam->mcgrp))
			nl->mcgrp_id = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	}
	return MNL_CB_OK;
}

/* The reply of CTRL_CMD_GETFAMILY: the family's id and multicast groups. */
static int nl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct nl *nl = data;

	if (nl_parse(nlh, ctrl_policy, CTRL_ATTR_MAX, tb) || !tb[CTRL_ATTR_FAMILY_ID])
		return nl_malformed("nlctrl");
	nl->family_id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (nl->fam->mcgrp && tb[CTRL_ATTR_MCAST_GROUPS])
		return nl_find_mcgrp(nl, tb[CTRL_ATTR_MCAST_GROUPS]);
	return MNL_CB_OK;
}

/* Returns 1, without a word, if the family does not exist and that is @optional. */
static int nl_resolve_family(struct nl *nl, bool optional)
{
	char what[64];
	struct nl_exchange x = { .nl = nl, .what = what, .cb = nl_family_cb, .data = nl };
	struct nlmsghdr *nlh;

	snprintf(what, sizeof(what), "generic netlink family %s", nl->fam->name);
	nlh = nl_put_request(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_VERSION, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, nl->fam->name);
	if (!nl_talk(&x)) {
		if (nl->family_id)
			return 0;
		nl_fail(&x, EPROTO, "no reply");
	}
	if (x.kernel && x.err == ENOENT && optional)
		return 1;
	if (x.kernel && x.err == ENOENT)
		pr_err("the %s module is not loaded (generic netlink family %s not found)",
		       nl->fam->module, nl->fam->name);
	else if (!x.reported)
		nl_report(&x);
	return -1;
}

static int nl_open_socket(struct nl *nl)
{
	int one = 1;

	nl->sock = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!nl->sock ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID)) {
		pr_err("generic netlink socket: %s", strerror(errno));
		return -1;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	return 0;
}

static int nl_open_family(struct nl *nl, const struct nl_family *fam, bool optional)
{
	int ret;

	*nl = (struct nl){ .fam = fam };
	nl->req = xmalloc(NL_REQ_SIZE);
	nl->resp = xmalloc(NL_RESP_SIZE);
	ret = nl_open_socket(nl);
	if (!ret)
		ret = nl_resolve_family(nl, optional);
	if (ret) {
		nl_close(nl);
		*nl = (struct nl){ .fam = fam };
	}
	return ret;
}

/*
 * Opens a socket to the family @fam, and resolves its id and multicast group.
 * If the family does not exist, tells that its module is not loaded.
 */
int nl_open(struct nl *nl, const struct nl_family *fam)
{
	return nl_open_family(nl, fam, false);
}

/* As nl_open(), but a family that does not exist is no error: returns 1 then. */
int nl_open_optional(struct nl *nl, const struct nl_family *fam)
{
	return nl_open_family(nl, fam, true);
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->req);
	free(nl->resp);
}

/* Joins the family's multicast group, for nl_listen(). */
int nl_subscribe(struct nl *nl)
{
	int group = nl->mcgrp_id;

	if (!group) {
		pr_err("generic netlink family %s has no multicast group %s", nl->fam->name,
		       nl->fam->mcgrp);
		return -1;
	}
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group))) {
		pr_err("joining multicast group %s of %s: %s", nl->fam->mcgrp, nl->fam->name,
		       strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Hands each multicast message to @cb, for ever: returns -1 when receiving
 * fails, after reporting it as "@what: ...", or when @cb fails.
 */
int nl_listen(struct nl *nl, const char *what, mnl_cb_t cb, void *data)
{
	struct nl_exchange x = { .nl = nl, .what = what, .cb = cb, .data = data };
	ssize_t len;

	for (;;) {
		len = mnl_socket_recvfrom(nl->sock, nl->resp, NL_RESP_SIZE);
		if (len < 0 && errno == ENOBUFS) {
			pr_err("%s: warning: events lost, they came faster than read", what);
			continue;
		}
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 || mnl_cb_run(nl->resp, len, 0, 0, nl_cb_data, &x) == MNL_CB_ERROR)
			break;
	}
	nl_fail(&x, errno, NULL);
	if (!x.reported)
		nl_report(&x);
	return -1;
}

int nl_get_endpoint(const struct nlattr *addr, const struct nlattr *port,
		    struct endpoint *ep)
{
	uint16_t len = mnl_attr_get_payload_len(addr);

	memset(ep, 0, sizeof(*ep));
	if (len == sizeof(struct in_addr))
		ep->family = AF_INET;
	else if (len == sizeof(struct in6_addr))
		ep->family = AF_INET6;
	else
		return -1;
	memcpy(ep->addr, mnl_attr_get_payload(addr), len);
	ep->port = mnl_attr_get_u16(port);
	return 0;
}
