// SPDX-License-Identifier: GPL-2.0
/*
 * A pod's connections told to wait as soon as its crakvif is frozen.
 *
 * A checkpoint stops the pod's processes one after another and freezes a
 * process's sockets only when it takes that process: for a tree, longer
 * than a peer's retransmission timeout (200 ms), which the peer would
 * count, its segments held by the crakvif and unacknowledged meanwhile.
 * So the checkpoint's worker, once it has frozen the crakvif, freezes every
 * TCP connection of the pod's network namespace by its tuple, found with
 * sock_diag: crak_sockmig sends each peer a zero window, and the peers
 * wait.  The checkpoint then finds the connections frozen and dumps them
 * (a failure or --leave-running thaws them again).  pod_pause_end() thaws
 * what it did not dump: a connection no process of the pod owns, or all of
 * them after a failure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "pod.h"
#include "sock.h"

/* The states crak_sockmig pauses a connection in. */
#define PAUSE_STATES	((1U << TCP_ESTABLISHED) | (1U << TCP_FIN_WAIT1) | \
			 (1U << TCP_FIN_WAIT2) | (1U << TCP_CLOSE_WAIT) | \
			 (1U << TCP_CLOSING) | (1U << TCP_LAST_ACK))

struct pause_list {
	struct vif_flow *v;
	unsigned int nr;
};

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct pause_list *l = data;
	struct vif_flow *f;
	size_t len;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	len = m->idiag_family == AF_INET ? 4 : 16;
	l->v = xrealloc(l->v, (l->nr + 1) * sizeof(*l->v));
	f = &l->v[l->nr++];
	memset(f, 0, sizeof(*f));
	f->proto = IPPROTO_TCP;
	f->local.family = f->remote.family = m->idiag_family;
	memcpy(f->local.addr, m->id.idiag_src, len);
	memcpy(f->remote.addr, m->id.idiag_dst, len);
	f->local.port = ntohs(m->id.idiag_sport);
	f->remote.port = ntohs(m->id.idiag_dport);
	return MNL_CB_OK;
}

/* The TCP connections of FAMILY in our namespace, added to L. */
static int diag_dump(struct mnl_socket *nl, int family, struct pause_list *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	unsigned int seq = family;
	ssize_t len;
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	memset(req, 0, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = PAUSE_STATES;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len <= 0) {
			errno = len ? errno : EBADMSG;
			return -1;
		}
		ret = mnl_cb_run(buf, len, seq, mnl_socket_get_portid(nl), diag_cb, l);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -1 : 0;
}

static int freeze_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sock_info si;
	struct pod_pause *p = data;

	if (sock_info_parse(nlh, &si) || !sock_has(&si, CRAK_SOCK_A_ID))
		return nl_malformed("checkpoint: pausing a connection");
	p->ids = xrealloc(p->ids, (p->nr + 1) * sizeof(*p->ids));
	p->ids[p->nr++] = si.id;
	return MNL_CB_OK;
}

void pod_pause(struct pod_pause *p)
{
	struct pause_list l = {};
	struct mnl_socket *nl;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) ||
	    diag_dump(nl, AF_INET, &l) || diag_dump(nl, AF_INET6, &l))
		/* The checkpoint freezes them all the same, later. */
		pr_err("checkpoint: warning: cannot list the pod's connections (%s): their peers "
		       "are told to wait only as each process is taken", strerror(errno));
	if (!l.nr || nl_open(&p->nl, &sock_family))
		goto out;
	p->open = true;
	for (i = 0; i < l.nr; i++) {
		struct sock_target t = {
			.kind = SOCK_TARGET_TUPLE, .tuple = l.v[i], .sock_fd = -1, .netns_fd = -1,
		};
		char what[64 + VIF_FLOW_STRLEN] = "checkpoint: pausing ";
		int ret;

		vif_flow_format(&l.v[i], what + strlen(what), sizeof(what) - strlen(what));
		/* Frozen already by someone else: theirs to thaw. */
		sock_target_put(nl_request(&p->nl, CRAK_SOCK_CMD_GET, NLM_F_ACK), &t);
		p->nl.quiet = true;
		ret = nl_exec(&p->nl, what, NULL, NULL);
		p->nl.quiet = false;
		if (!ret)
			continue;
		/* A connection gone meanwhile has nothing to pause. */
		sock_target_put(nl_request(&p->nl, CRAK_SOCK_CMD_FREEZE, NLM_F_ACK), &t);
		if (nl_exec_allow(&p->nl, what, freeze_cb, p, ENOENT) < 0)
			break;	/* said why; the checkpoint goes on */
	}
out:
	if (nl)
		mnl_socket_close(nl);
	free(l.v);
}

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sock_info *si = data;

	if (sock_info_parse(nlh, si) || !sock_has(si, CRAK_SOCK_A_FLAGS))
		return nl_malformed("checkpoint: a paused connection");
	return MNL_CB_OK;
}

void pod_pause_end(struct pod_pause *p)
{
	unsigned int i;

	for (i = 0; i < p->nr; i++) {
		struct sock_target t = {
			.kind = SOCK_TARGET_ID, .id = p->ids[i], .sock_fd = -1, .netns_fd = -1,
		};
		struct sock_info si = {};

		/* Gone: thawed by the checkpoint, or dumped and ended. */
		sock_target_put(nl_request(&p->nl, CRAK_SOCK_CMD_GET, NLM_F_ACK), &t);
		if (nl_exec_allow(&p->nl, "checkpoint: a paused connection", get_cb, &si,
				  ENOENT) || !si.present || (si.flags & CRAK_SOCK_F_DUMPED))
			continue;
		sock_target_put(nl_request(&p->nl, CRAK_SOCK_CMD_THAW, NLM_F_ACK), &t);
		nl_exec_allow(&p->nl, "checkpoint: thawing a paused connection", NULL, NULL,
			      ENOENT);
	}
	if (p->open)
		nl_close(&p->nl);
	free(p->ids);
	memset(p, 0, sizeof(*p));
}
