/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak sock: what the files of its commands share.
 */
#ifndef CRAK_SOCK_H
#define CRAK_SOCK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/crak_sock.h>

#include "cmd.h"
#include "json.h"
#include "nl.h"
#include "util.h"
#include "vif.h"

/* "drop tcp [2001:db8::1]:80 [2001:db8::2]:40000", with its NUL. */
#define SOCK_WHAT_STRLEN	(sizeof("restore ") + VIF_FLOW_STRLEN)

/* A command at work on the crak_sock family. */
struct sock_cmd {
	struct nl nl;
	char what[SOCK_WHAT_STRLEN];	/* "freeze id 7", for messages */
};

int sock_cmd_open(struct sock_cmd *sc, const struct args *args, const char *name);
int sock_parse(const struct nlmsghdr *nlh, const struct nlattr **tb);

/* A socket, as a reply of the crak_sock family describes it. */
struct sock_info {
	uint32_t present;	/* bit 1 << CRAK_SOCK_A_* of each attribute it had */
	uint32_t id;
	uint16_t family;
	struct vif_flow tuple;	/* with all of PROTO, LADDR, LPORT, RADDR, RPORT */
	uint8_t state;
	uint32_t flags;
	uint32_t recvq_bytes;
	uint32_t sendq_bytes;
	uint64_t dropped;
	uint64_t image_bytes;
	uint32_t new_fd;
};

static inline bool sock_has(const struct sock_info *si, unsigned int type)
{
	return si->present & (1U << type);
}

int sock_info_parse(const struct nlmsghdr *nlh, struct sock_info *si);
void sock_info_text(const struct sock_info *si);
void sock_info_json(struct json *j, const struct sock_info *si);

/* How the command line names a socket: TARGET. */
enum sock_target_kind {
	SOCK_TARGET_FD = 1,	/* --pid P --fd N */
	SOCK_TARGET_TUPLE,	/* --tuple tcp LADDR:LPORT RADDR:RPORT [--netns NAME] */
	SOCK_TARGET_ID,		/* --id ID */
};

/* "pid 4194304 fd 2147483647", or a tuple, with its NUL. */
#define SOCK_TARGET_STRLEN	VIF_FLOW_STRLEN

struct sock_target {
	enum sock_target_kind kind;
	uint32_t pid;		/* --pid */
	uint32_t fd;		/* --fd */
	struct vif_flow tuple;	/* --tuple */
	const char *netns;	/* --netns */
	uint32_t id;		/* --id */
	char name[SOCK_TARGET_STRLEN];	/* "pid 1234 fd 5", for messages */

	/* Found by sock_target_resolve(): */
	int sock_fd;		/* our descriptor of the socket (--pid), or -1 */
	int netns_fd;		/* the socket's network namespace, or -1: ours */
	bool has_conn;		/* the connection's tuple is known... */
	struct vif_flow conn;	/* ...and it is this */
	uint32_t scope_id;	/* of its IPv6 link-local address, or 0 */
};

void sock_target_parse(struct args *args, struct sock_target *t, const char **image);
int sock_target_resolve(struct sock_target *t, const char *what);
int sock_target_of_fd(struct sock_target *t, int fd, const char *what);
void sock_target_put(struct nlmsghdr *nlh, const struct sock_target *t);
void sock_target_close(struct sock_target *t);

/* The crakvif device holding a connection's inbound packets, if any. */
struct sock_hold {
	struct nl vif;		/* to crak_vif, in the socket's network namespace */
	bool found;		/* a crakvif device has the local address: */
	uint32_t ifindex;
	char ifname[IF_NAMESIZE];
	struct vif_flow flow;	/* the connection, as the device sees it */
	bool held;		/* the flow is frozen there now */
	bool ours;		/* ... by this command */
	bool thawing;		/* thaw or drop: the flow is thawed after the socket */
	bool released;		/* it was thawed by this command: */
	uint32_t delivered;
	uint32_t discarded;
};

int sock_hold_find(struct sock_hold *h, const struct sock_target *t, const char *what);
int sock_hold_freeze(struct sock_hold *h, const char *what);
void sock_hold_undo(struct sock_hold *h, const char *what);
int sock_hold_release(struct sock_hold *h, const char *what);
void sock_hold_text(const struct sock_hold *h);
void sock_hold_json(struct json *j, const struct sock_hold *h);
void sock_hold_close(struct sock_hold *h);

int sock_show(struct args *args);
int sock_restore(struct args *args);
int sock_move(struct args *args);
int sock_restore_image(int image, const char *what, bool frozen, int *new_fd, uint32_t *id);
int sock_thaw_id(uint32_t id, const char *what);
int sock_restore_release(int fd);

extern const struct nl_family sock_family;

#endif /* CRAK_SOCK_H */
