// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: a restored process's credentials.
 *
 * RESTORE checks the image's credentials against its caller's rights and
 * makes them into a template; each thread, as it is released, commits a
 * copy of its own credentials with the template's IDs, supplementary groups
 * and capability sets, in its own context, as setresuid(2) and capset(2)
 * would.  The user_struct and ucounts they are counted against stay the
 * caller's: the kernel does not let a module look up another user's.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/uidgid.h>
#include <net/netlink.h>

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
struct cred *ckpt_creds_new(const struct nlattr *attr, struct netlink_ext_ack *extack)
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
	if (!ns_capable(ns, CAP_SETUID) || !ns_capable(ns, CAP_SETGID)) {
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
 */
void ckpt_creds_apply(const struct cred *tmpl)
{
	struct cred *new;

	new = prepare_creds();
	if (!new) {
		send_sig(SIGKILL, current, 1);
		return;
	}
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
