// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: a restored process's credentials.
 *
 * RESTORE checks the image's credentials against its caller's rights and
 * makes them into a template; each thread, as it is released, commits a
 * copy of its own credentials with the template's IDs, supplementary groups
 * and capability sets, in its own context, as setresuid(2) and capset(2)
 * would.  The user_struct and ucounts they are counted against follow the
 * real user ID, which the kernel does not let a module set: the tool sets
 * its own to the image's before RESTORE.
 *
 * RESTORE also gives each unix socket the tool made again, which names the
 * tool to SO_PEERCRED, the peer it named at checkpoint.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/key.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/uidgid.h>
#include <net/af_unix.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "crak_compat.h"
#include "ckpt.h"

/* Every capability this kernel knows, as a mask. */
#define CKPT_CAPS_VALID	(BIT_ULL(CAP_LAST_CAP + 1) - 1)

static bool ckpt_caps_within(u64 caps, kernel_cap_t have)
{
	return !(caps & ~crak_cap_to_u64(have));
}

/*
 * A template of the credentials ATTR describes, on the caller's own; NULL
 * when the caller may not give credentials and they are its own IDs (it
 * restores its own process, which keeps the caller's, as before images had
 * credentials); or an ERR_PTR.  Giving credentials needs CAP_SETUID and
 * CAP_SETGID; each capability given must be one the caller has itself.
 */
struct cred *ckpt_creds_new(const struct sk_buff *skb, const struct nlattr *attr,
			    struct netlink_ext_ack *extack)
{
	const struct crak_img_creds *c = nla_data(attr);
	struct user_namespace *ns = current_user_ns();
	const struct cred *cur = current_cred();
	u64 caps[] = {
		le64_to_cpu(c->cap_inheritable), le64_to_cpu(c->cap_permitted),
		le64_to_cpu(c->cap_effective), le64_to_cpu(c->cap_bounding),
		le64_to_cpu(c->cap_ambient),
	};
	u32 nr_groups = le32_to_cpu(c->nr_groups);
	kuid_t uid[4];
	kgid_t gid[4];
	struct group_info *gi;
	struct cred *new;
	bool same;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		uid[i] = make_kuid(ns, le32_to_cpu(c->uid[i]));
		gid[i] = make_kgid(ns, le32_to_cpu(c->gid[i]));
		if (!uid_valid(uid[i]) || !gid_valid(gid[i])) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "a user or group ID of the image has no mapping here");
			return ERR_PTR(-EINVAL);
		}
	}
	same = uid_eq(uid[0], cur->uid) && uid_eq(uid[1], cur->euid) &&
	       uid_eq(uid[2], cur->suid) && uid_eq(uid[3], cur->fsuid) &&
	       gid_eq(gid[0], cur->gid) && gid_eq(gid[1], cur->egid) &&
	       gid_eq(gid[2], cur->sgid) && gid_eq(gid[3], cur->fsgid);
	if (!netlink_ns_capable(skb, ns, CAP_SETUID) || !netlink_ns_capable(skb, ns, CAP_SETGID)) {
		if (same)	/* the caller's own process: it keeps the caller's */
			return NULL;
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "another user's process needs CAP_SETUID and CAP_SETGID");
		return ERR_PTR(-EPERM);
	}
	if (nr_groups > CRAK_IMG_GROUPS_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "too many supplementary groups");
		return ERR_PTR(-EINVAL);
	}
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		if (caps[i] & ~CKPT_CAPS_VALID) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "capabilities this kernel lacks");
			return ERR_PTR(-EINVAL);
		}
		if (!ckpt_caps_within(caps[i], i == 3 ? cur->cap_bset : cur->cap_permitted)) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "the process had capabilities its restorer has not");
			return ERR_PTR(-EPERM);
		}
	}
	/*
	 * The sets as capset(2) and the kernel keep them: effective within
	 * permitted, ambient within permitted and inheritable (an exec
	 * WARNs otherwise).
	 */
	if ((caps[2] & ~caps[1]) || (caps[4] & ~(caps[1] & caps[0]))) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "capability sets no process can have");
		return ERR_PTR(-EINVAL);
	}

	new = prepare_creds();
	if (!new)
		return ERR_PTR(-ENOMEM);
	gi = groups_alloc(nr_groups);
	if (!gi) {
		abort_creds(new);
		return ERR_PTR(-ENOMEM);
	}
	for (i = 0; i < nr_groups; i++) {
		gi->gid[i] = make_kgid(ns, le32_to_cpu(c->groups[i]));
		if (!gid_valid(gi->gid[i])) {
			put_group_info(gi);
			abort_creds(new);
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "a supplementary group of the image has no mapping here");
			return ERR_PTR(-EINVAL);
		}
	}
	groups_sort(gi);
	set_groups(new, gi);
	put_group_info(gi);
	new->uid = uid[0];
	new->euid = uid[1];
	new->suid = uid[2];
	new->fsuid = uid[3];
	new->gid = gid[0];
	new->egid = gid[1];
	new->sgid = gid[2];
	new->fsgid = gid[3];
	new->cap_inheritable = crak_cap_from_u64(caps[0]);
	new->cap_permitted = crak_cap_from_u64(caps[1]);
	new->cap_effective = crak_cap_from_u64(caps[2]);
	new->cap_bset = crak_cap_from_u64(caps[3]);
	new->cap_ambient = crak_cap_from_u64(caps[4]);
	return new;
}

/*
 * In a released thread: its credentials become TMPL's.  A thread that
 * cannot have them must not run with its restorer's: it is killed.
 * Another user's process keeps none of its restorer's keyrings.
 */
void ckpt_creds_apply(const struct cred *tmpl)
{
	struct cred *new;

	new = prepare_creds();
	if (!new) {
		send_sig(SIGKILL, current, 1);
		return;
	}
#ifdef CONFIG_KEYS
	if (!uid_eq(new->euid, tmpl->euid)) {
		key_put(new->session_keyring);
		new->session_keyring = NULL;
		key_put(new->process_keyring);
		new->process_keyring = NULL;
		key_put(new->thread_keyring);
		new->thread_keyring = NULL;
		key_put(new->request_key_auth);
		new->request_key_auth = NULL;
	}
#endif
	set_groups(new, tmpl->group_info);
	new->uid = tmpl->uid;
	new->euid = tmpl->euid;
	new->suid = tmpl->suid;
	new->fsuid = tmpl->fsuid;
	new->gid = tmpl->gid;
	new->egid = tmpl->egid;
	new->sgid = tmpl->sgid;
	new->fsgid = tmpl->fsgid;
	new->cap_inheritable = tmpl->cap_inheritable;
	new->cap_permitted = tmpl->cap_permitted;
	new->cap_effective = tmpl->cap_effective;
	new->cap_bset = tmpl->cap_bset;
	new->cap_ambient = tmpl->cap_ambient;
	commit_creds(new);
}

/*
 * What a RESTORE's CRAK_CKPT_A_PEERs ask: checked and taken (the sockets
 * held) in its caller's context, with the restorer's rights; done as the
 * process is released, when every process of its tree is there to be named.
 */
struct ckpt_peer {
	struct socket *sock;		/* its file held */
	pid_t pid;			/* 0: the one it names now */
	const struct cred *cred;	/* NULL: likewise */
};

struct ckpt_peers {
	struct pid_namespace *ns;	/* the PIDs' */
	unsigned int nr;
	struct ckpt_peer v[];
};

/*
 * The credentials a socket's peer of effective IDs UID and GID gets: TMPL
 * (the image's, or the caller's when NULL) where those are its effective
 * IDs, else the caller's with those IDs, no supplementary group and no
 * capability.
 */
static const struct cred *ckpt_peer_cred(const struct cred *tmpl, kuid_t uid, kgid_t gid)
{
	const struct cred *base = tmpl ?: current_cred();
	struct group_info *gi;
	struct cred *new;

	if (uid_eq(uid, base->euid) && gid_eq(gid, base->egid))
		return get_cred(base);
	new = prepare_creds();
	if (!new)
		return NULL;
	gi = groups_alloc(0);
	if (!gi) {
		abort_creds(new);
		return NULL;
	}
	set_groups(new, gi);
	put_group_info(gi);
	new->uid = uid;
	new->euid = uid;
	new->suid = uid;
	new->fsuid = uid;
	new->gid = gid;
	new->egid = gid;
	new->sgid = gid;
	new->fsgid = gid;
	new->cap_inheritable = CAP_EMPTY_SET;
	new->cap_permitted = CAP_EMPTY_SET;
	new->cap_effective = CAP_EMPTY_SET;
	new->cap_ambient = CAP_EMPTY_SET;
	return new;
}

/* Whether the caller may name user UID and group GID a peer (as SCM_CREDENTIALS may). */
static bool ckpt_may_name_ids(struct user_namespace *ns, kuid_t uid, kgid_t gid)
{
	const struct cred *cur = current_cred();

	return uid_valid(uid) && gid_valid(gid) &&
	       (uid_eq(uid, cur->uid) || uid_eq(uid, cur->euid) || uid_eq(uid, cur->suid) ||
		ns_capable_noaudit(ns, CAP_SETUID)) &&
	       (gid_eq(gid, cur->gid) || gid_eq(gid, cur->egid) || gid_eq(gid, cur->sgid) ||
		ns_capable_noaudit(ns, CAP_SETGID));
}

/*
 * One CRAK_CKPT_A_PEER into PEER: what of it the caller may name (as
 * SCM_CREDENTIALS would let it: __scm_send's rules); the rest stays as
 * made.  0 with PEER->sock NULL: nothing to name.
 */
static int ckpt_peer_take(const struct nlattr *attr, const struct cred *tmpl,
			  struct ckpt_peer *peer, struct netlink_ext_ack *extack)
{
	const struct crak_ckpt_peer *p = nla_data(attr);
	struct user_namespace *ns = current_user_ns();
	kuid_t uid = make_kuid(ns, p->uid);
	kgid_t gid = make_kgid(ns, p->gid);
	struct socket *sock;
	bool ids;
	int err;

	if (p->pid > PID_MAX_LIMIT) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "no such PID");
		return -EINVAL;
	}
	sock = sockfd_lookup(p->fd, &err);
	if (!sock) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "no socket at the descriptor");
		return err;
	}
	if (!sock->sk || sock->sk->sk_family != AF_UNIX) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "not a unix socket");
		sockfd_put(sock);
		return -EINVAL;
	}
	ids = ckpt_may_name_ids(ns, uid, gid);
	if (p->pid && p->pid != task_tgid_vnr(current) &&
	    ns_capable_noaudit(task_active_pid_ns(current)->user_ns, CAP_SYS_ADMIN))
		peer->pid = p->pid;
	if (!ids && !peer->pid) {
		sockfd_put(sock);
		return 0;
	}
	if (ids) {
		peer->cred = ckpt_peer_cred(tmpl, uid, gid);
		if (!peer->cred) {
			sockfd_put(sock);
			return -ENOMEM;
		}
	}
	peer->sock = sock;
	return 0;
}

void ckpt_peers_free(struct ckpt_peers *peers)
{
	unsigned int i;

	if (!peers)
		return;
	for (i = 0; i < peers->nr; i++) {
		put_cred(peers->v[i].cred);
		sockfd_put(peers->v[i].sock);
	}
	put_pid_ns(peers->ns);
	kvfree(peers);
}

/*
 * A RESTORE's CRAK_CKPT_A_PEERs, checked and taken before it begins; TMPL:
 * the credentials it gives.  NULL if it has none.
 */
struct ckpt_peers *ckpt_peers_new(const struct nlmsghdr *nlh, const struct cred *tmpl,
				  struct netlink_ext_ack *extack)
{
	const struct nlattr *attr;
	struct ckpt_peers *peers;
	unsigned int nr = 0;
	int rem, err;

	nlmsg_for_each_attr(attr, nlh, GENL_HDRLEN, rem)
		nr += nla_type(attr) == CRAK_CKPT_A_PEER;
	if (!nr)
		return NULL;
	peers = kvzalloc(struct_size(peers, v, nr), GFP_KERNEL);
	if (!peers)
		return ERR_PTR(-ENOMEM);
	peers->ns = get_pid_ns(task_active_pid_ns(current));
	nlmsg_for_each_attr(attr, nlh, GENL_HDRLEN, rem) {
		if (nla_type(attr) != CRAK_CKPT_A_PEER)
			continue;
		err = ckpt_peer_take(attr, tmpl, &peers->v[peers->nr], extack);
		if (err) {
			ckpt_peers_free(peers);
			return ERR_PTR(err);
		}
		if (peers->v[peers->nr].sock)
			peers->nr++;
	}
	if (!peers->nr) {
		ckpt_peers_free(peers);
		return NULL;
	}
	return peers;
}

/*
 * As the process is released: each socket names its peer.  A PID no
 * process has (a peer gone before the checkpoint) leaves the one it names.
 */
void ckpt_peers_apply(struct ckpt_peers *peers)
{
	unsigned int i;

	for (i = 0; i < peers->nr; i++) {
		struct ckpt_peer *p = &peers->v[i];
		struct sock *sk = p->sock->sk;
		struct pid *pid = NULL;

		if (p->pid) {
			rcu_read_lock();
			pid = get_pid(find_pid_ns(p->pid, peers->ns));
			rcu_read_unlock();
		}
		/* (A listener's are copied to its clients under its state lock.) */
		unix_state_lock(sk);
		spin_lock(&sk->sk_peer_lock);
		if (p->cred)
			swap(sk->sk_peer_cred, p->cred);
		if (pid)
			swap(sk->sk_peer_pid, pid);
		spin_unlock(&sk->sk_peer_lock);
		unix_state_unlock(sk);
		put_pid(pid);
	}
	ckpt_peers_free(peers);
}
