/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink over libmnl: one socket talking to one family.
 *
 * nl_request() starts a request in the socket's buffer, the caller adds its
 * attributes with libmnl, and nl_exec() sends it and hands each reply to a
 * callback until the ack (a do) or the end of the dump.  Errors are reported
 * as they are found, as one line naming what failed; the functions then
 * return -1.  Callbacks report their own errors, nl_malformed() for a
 * message that is not what the protocol says, and return MNL_CB_ERROR.
 */
#ifndef CRAK_NL_H
#define CRAK_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

/* A generic netlink family, as its users know it. */
struct nl_family {
	const char *name;		/* of the family */
	const char *module;		/* the kernel module providing it */
	uint8_t version;		/* of the protocol we speak */
	const char *mcgrp;		/* the multicast group nl_subscribe() joins */
	const char *const *attr_names;	/* of its top-level attributes, for messages */
	unsigned int attr_max;
};

struct nl {
	struct mnl_socket *sock;
	const struct nl_family *fam;
	unsigned int portid;
	unsigned int seq;		/* of the last request */
	uint16_t family_id;
	uint32_t mcgrp_id;		/* 0: the family has no such group */
	int err;			/* errno of the last request, 0 if it did not fail */
	bool quiet;			/* failures are not reported (someone else will) */
	const char *reason;		/* a reply's words for the failure that follows
					 * it, if the acknowledgment has none (a
					 * callback sets it; cleared after)
					 */
	char *req;			/* the request, NL_REQ_SIZE bytes */
	char *resp;			/* replies */
};

/* Room for a request: an import of 60 KiB of frames plus one more frame. */
#define NL_REQ_SIZE	(128 * 1024)

int nl_open(struct nl *nl, const struct nl_family *fam);
int nl_open_optional(struct nl *nl, const struct nl_family *fam);
void nl_close(struct nl *nl);
struct nlmsghdr *nl_request(struct nl *nl, uint8_t cmd, uint16_t flags);
int nl_exec(struct nl *nl, const char *what, mnl_cb_t cb, void *data);
int nl_exec_allow(struct nl *nl, const char *what, mnl_cb_t cb, void *data, int err);
int nl_exec_allow2(struct nl *nl, const char *what, mnl_cb_t cb, void *data, int err,
		   int err2);
int nl_subscribe(struct nl *nl);
int nl_listen(struct nl *nl, const char *what, mnl_cb_t cb, void *data);

int nl_parse(const struct nlmsghdr *nlh, const enum mnl_attr_data_type *policy,
	     unsigned int max, const struct nlattr **tb);
int nl_parse_nested(const struct nlattr *nest, const enum mnl_attr_data_type *policy,
		    unsigned int max, const struct nlattr **tb);
int nl_malformed(const char *what);

struct endpoint;
/* An address attribute (4 or 16 bytes) and a u16 port into @ep; -1 if the
 * address has another length.
 */
int nl_get_endpoint(const struct nlattr *addr, const struct nlattr *port,
		    struct endpoint *ep);

#endif /* CRAK_NL_H */
