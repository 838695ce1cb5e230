/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Route netlink over libmnl: the few requests a pod needs (a link added,
 * moved to another network namespace, brought up or deleted; an address; a
 * default route).  A socket talks to the network namespace it was opened in.
 *
 * Each request returns 0 or a negative errno; rtnl_strerror() then says why,
 * with the kernel's own explanation when it gave one.
 */
#ifndef CRAK_RTNL_H
#define CRAK_RTNL_H

#include <stdint.h>
#include <libmnl/libmnl.h>

struct rtnl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	int err;			/* errno of the last failure */
	char msg[128];			/* the kernel's explanation of it, or "" */
	char *buf;
};

/* An address and its prefix length. */
struct ipnet {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network order */
	uint8_t prefix;
};

/* "2001:db8::150/128", with its NUL. */
#define IPNET_STRLEN	(46 + 4)

int rtnl_open(struct rtnl *r);
void rtnl_close(struct rtnl *r);
const char *rtnl_strerror(const struct rtnl *r);

/* @mac: the new link's address, or NULL for one of the kernel's choice. */
int rtnl_link_add(struct rtnl *r, const char *name, const char *kind, int lower,
		  const unsigned char *mac);
int rtnl_link_del(struct rtnl *r, int ifindex);
int rtnl_link_move(struct rtnl *r, int ifindex, int nsfd, const char *name);
int rtnl_link_up(struct rtnl *r, int ifindex);
int rtnl_link_get(struct rtnl *r, const char *name, int *ifindex, unsigned char mac[6]);
int rtnl_addr_add(struct rtnl *r, int ifindex, const struct ipnet *a);
int rtnl_route_add_default(struct rtnl *r, int ifindex, int family, const void *gw);

int parse_ipnet(const char *word, struct ipnet *a);
void format_ipnet(const struct ipnet *a, char *buf, size_t size);

#endif /* CRAK_RTNL_H */
