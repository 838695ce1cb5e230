// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: the generic netlink family crak_ckpt
 * (uapi/linux/crak_ckpt.h), and the restore sessions' descriptors.
 *
 * Operations run in parallel: a restore's threads enroll while its leader
 * waits for them, and a FREEZE may wait for a busy process.  Permissions are
 * checked per operation (see the header): they depend on the process
 * acted on, not only on the caller.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/net.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "ckpt.h"

#define CKPT_FREEZE_TIMEOUT_MS	10000
#define CKPT_CLOSE_FDS_MAX	32

static struct genl_family ckpt_genl_family;

/* -- policies ------------------------------------------------------------- */

static struct netlink_range_validation ckpt_timeout_range = {
	.min	= 1,
	.max	= 600000,
};

static const struct nla_policy ckpt_freeze_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_PID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[CRAK_CKPT_A_MEM_FD]		= { .type = NLA_U32 },
	[CRAK_CKPT_A_TIMEOUT_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &ckpt_timeout_range),
};

static const struct nla_policy ckpt_dump_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_SESSION_FD]	= { .type = NLA_U32 },
	[CRAK_CKPT_A_IMAGE_FD]		= { .type = NLA_U32 },
	[CRAK_CKPT_A_PART]		= NLA_POLICY_RANGE(NLA_U32, CRAK_CKPT_PART_TASK,
							   CRAK_CKPT_PART_MEMORY),
	[CRAK_CKPT_A_SEQ]		= { .type = NLA_U32 },
	[CRAK_CKPT_A_OFFSET]		= { .type = NLA_U64 },
	[CRAK_CKPT_A_BUDGET]		= { .type = NLA_U64 },
	[CRAK_CKPT_A_SKIP]		= { .type = NLA_BINARY },
};

static const struct nla_policy ckpt_release_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_SESSION_FD]	= { .type = NLA_U32 },
	[CRAK_CKPT_A_KILL]		= { .type = NLA_FLAG },
};

static const struct nla_policy ckpt_wait_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_SESSION_FD]	= { .type = NLA_U32 },
	[CRAK_CKPT_A_PID]		= NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy ckpt_begin_policy[CRAK_CKPT_A_MAX + 1] = {
};

static const struct nla_policy ckpt_install_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_PID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[CRAK_CKPT_A_MEM_FD]		= { .type = NLA_U32 },
	[CRAK_CKPT_A_FD]		= { .type = NLA_U32 },
};

static const struct nla_policy ckpt_go_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_SESSION_FD]	= { .type = NLA_U32 },
};

static const struct nla_policy ckpt_thread_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_SESSION_FD]	= { .type = NLA_U32 },
	[CRAK_CKPT_A_THREAD]		= NLA_POLICY_MIN_LEN(sizeof(struct crak_img_thread)),
};

static const struct nla_policy ckpt_restore_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_SESSION_FD]	= { .type = NLA_U32 },
	[CRAK_CKPT_A_IMAGE_FD]		= { .type = NLA_U32 },
	[CRAK_CKPT_A_THREAD]		= NLA_POLICY_MIN_LEN(sizeof(struct crak_img_thread)),
	[CRAK_CKPT_A_NR_THREADS]	= NLA_POLICY_MIN(NLA_U32, 1),
	[CRAK_CKPT_A_SEQ]		= { .type = NLA_U32 },
	[CRAK_CKPT_A_OFFSET]		= { .type = NLA_U64 },
	[CRAK_CKPT_A_CLOSE_FD]		= { .type = NLA_U32 },
	[CRAK_CKPT_A_HOLD]		= { .type = NLA_FLAG },
	[CRAK_CKPT_A_CREDS]		= NLA_POLICY_EXACT_LEN(sizeof(struct crak_img_creds)),
	[CRAK_CKPT_A_FILL_FD]		= { .type = NLA_U32 },
	[CRAK_CKPT_A_FILL_BASE]		= { .type = NLA_U64 },
	[CRAK_CKPT_A_LAZY]		= { .type = NLA_FLAG },
	[CRAK_CKPT_A_HOLD_KILL]		= { .type = NLA_FLAG },
	[CRAK_CKPT_A_SHMEM]		= NLA_POLICY_EXACT_LEN(sizeof(struct crak_ckpt_shmem)),
	[CRAK_CKPT_A_PEER]		= NLA_POLICY_EXACT_LEN(sizeof(struct crak_ckpt_peer)),
};

static struct netlink_range_validation ckpt_shmem_size_range = {
	.min	= 1,
	.max	= MAX_LFS_FILESIZE,
};

static const struct nla_policy ckpt_shmem_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_NAME]		= { .type = NLA_NUL_STRING, .len = NAME_MAX },
	[CRAK_CKPT_A_SIZE]		= NLA_POLICY_FULL_RANGE(NLA_U64, &ckpt_shmem_size_range),
};

static const struct nla_policy ckpt_peeked_policy[CRAK_CKPT_A_MAX + 1] = {
	[CRAK_CKPT_A_FD]		= { .type = NLA_U32 },
	[CRAK_CKPT_A_PEEKED]		= { .type = NLA_BINARY,
					    .len = CRAK_CKPT_PEEKED_MAX * sizeof(u32) },
};

/* -- sessions and files --------------------------------------------------- */

static int ckpt_restore_file_release(struct inode *inode, struct file *file)
{
	ckpt_restore_put(file->private_data);
	return 0;
}

static const struct file_operations ckpt_restore_fops = {
	.owner		= THIS_MODULE,
	.release	= ckpt_restore_file_release,
	.llseek		= noop_llseek,
};

/* The session a descriptor attribute names, held by *FILE. */
static struct file *ckpt_nl_session(struct genl_info *info, bool restore)
{
	struct nlattr *attr = info->attrs[CRAK_CKPT_A_SESSION_FD];
	struct file *file;

	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_SESSION_FD))
		return ERR_PTR(-EINVAL);
	file = fget(nla_get_u32(attr));
	if (file && (restore ? file->f_op == &ckpt_restore_fops : !!ckpt_freeze_of(file)))
		return file;
	if (file)
		fput(file);
	if (restore)
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "not a restore session descriptor");
	else
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "not a checkpoint session descriptor");
	return ERR_PTR(-EBADF);
}

/* The image descriptor, open for MODE. */
static struct file *ckpt_nl_image(struct genl_info *info, fmode_t mode)
{
	struct nlattr *attr = info->attrs[CRAK_CKPT_A_IMAGE_FD];
	struct socket *sock;
	struct file *file;

	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_IMAGE_FD))
		return ERR_PTR(-EINVAL);
	file = fget(nla_get_u32(attr));
	if (!file) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such descriptor");
		return ERR_PTR(-EBADF);
	}
	/*
	 * (A netlink socket would take the image as requests: crak's own
	 * among them, made in this very request.)
	 */
	sock = sock_from_file(file);
	if (sock && sock->sk && sock->sk->sk_family == AF_NETLINK) {
		fput(file);
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "the image descriptor is a netlink socket");
		return ERR_PTR(-EINVAL);
	}
	if (!(file->f_mode & mode)) {
		fput(file);
		if (mode & FMODE_WRITE)
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "the image descriptor is not open for writing");
		else
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "the image descriptor is not open for reading");
		return ERR_PTR(-EBADF);
	}
	return file;
}

/* A stream on FILE going on from where INFO says the caller left it. */
static void ckpt_nl_stream(struct ckpt_stream *s, struct file *file, bool write,
			   struct genl_info *info)
{
	ckpt_stream_init(s, file, write);
	if (info->attrs[CRAK_CKPT_A_SEQ])
		s->seq = nla_get_u32(info->attrs[CRAK_CKPT_A_SEQ]);
	if (info->attrs[CRAK_CKPT_A_OFFSET])
		s->offset = nla_get_u64(info->attrs[CRAK_CKPT_A_OFFSET]);
}

/* A reply to INFO of SIZE bytes of attributes at most, put together by FILL. */
static int ckpt_nl_reply_size(struct genl_info *info, size_t size,
			      int (*fill)(struct sk_buff *msg, void *arg), void *arg)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ckpt_genl_family, 0, info->genlhdr->cmd);
	if (!hdr) {
		err = -EMSGSIZE;
		goto fail;
	}
	err = fill(msg, arg);
	if (err)
		goto fail;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
fail:
	nlmsg_free(msg);
	return err;
}

static int ckpt_nl_reply(struct genl_info *info,
			 int (*fill)(struct sk_buff *msg, void *arg), void *arg)
{
	return ckpt_nl_reply_size(info, NLMSG_GOODSIZE, fill, arg);
}

/* -- checkpoint ----------------------------------------------------------- */

struct ckpt_freeze_reply {
	u32 fd;
	u32 nr_threads;
};

static int ckpt_fill_freeze(struct sk_buff *msg, void *arg)
{
	struct ckpt_freeze_reply *r = arg;

	return nla_put_u32(msg, CRAK_CKPT_A_SESSION_FD, r->fd) ?:
	       nla_put_u32(msg, CRAK_CKPT_A_NR_THREADS, r->nr_threads);
}

static int ckpt_nl_freeze_doit(struct sk_buff *skb, struct genl_info *info)
{
	unsigned int timeout = CKPT_FREEZE_TIMEOUT_MS;
	struct ckpt_freeze_reply reply;
	int fd, err;

	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_PID) ||
	    NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_MEM_FD))
		return -EINVAL;
	if (info->attrs[CRAK_CKPT_A_TIMEOUT_MS])
		timeout = nla_get_u32(info->attrs[CRAK_CKPT_A_TIMEOUT_MS]);

	err = ckpt_freeze(skb, nla_get_u32(info->attrs[CRAK_CKPT_A_PID]),
			  nla_get_u32(info->attrs[CRAK_CKPT_A_MEM_FD]), timeout, &fd,
			  &reply.nr_threads, info->extack);
	if (err)
		return err;
	reply.fd = fd;
	err = ckpt_nl_reply(info, ckpt_fill_freeze, &reply);
	/* Without its reply the caller cannot know the descriptor: close it. */
	if (err)
		close_fd(fd);
	return err;
}

struct ckpt_dump_reply {
	struct ckpt_stream *s;
	u64 pages;
	bool more;
};

static int ckpt_fill_dump(struct sk_buff *msg, void *arg)
{
	struct ckpt_dump_reply *r = arg;

	if (nla_put_u32(msg, CRAK_CKPT_A_SEQ, r->s->seq) ||
	    nla_put_u64_64bit(msg, CRAK_CKPT_A_OFFSET, r->s->offset, CRAK_CKPT_A_PAD) ||
	    nla_put_u64_64bit(msg, CRAK_CKPT_A_PAGES, r->pages, CRAK_CKPT_A_PAD))
		return -EMSGSIZE;
	if (r->more && nla_put_flag(msg, CRAK_CKPT_A_MORE))
		return -EMSGSIZE;
	return 0;
}

static int ckpt_nl_dump_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ckpt_dump_reply reply = {};
	struct ckpt_freeze *fz;
	struct file *sess, *image;
	struct ckpt_stream s;
	u64 budget = 0;
	int err, ret;

	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_PART))
		return -EINVAL;
	sess = ckpt_nl_session(info, false);
	if (IS_ERR(sess))
		return PTR_ERR(sess);
	fz = ckpt_freeze_of(sess);
	image = ckpt_nl_image(info, FMODE_WRITE);
	if (IS_ERR(image)) {
		err = PTR_ERR(image);
		goto out_sess;
	}
	if (info->attrs[CRAK_CKPT_A_BUDGET])
		budget = nla_get_u64(info->attrs[CRAK_CKPT_A_BUDGET]);
	ckpt_nl_stream(&s, image, true, info);

	mutex_lock(&fz->lock);
	if (READ_ONCE(fz->group.released)) {
		err = -ESRCH;
		NL_SET_ERR_MSG(info->extack, "the process was released");
	} else if (nla_get_u32(info->attrs[CRAK_CKPT_A_PART]) == CRAK_CKPT_PART_TASK) {
		err = ckpt_dump_task(fz, &s, info->extack);
	} else {
		err = ckpt_dump_memory(fz, &s, budget, info->attrs[CRAK_CKPT_A_SKIP],
				       &reply.more, info->extack);
	}
	/* What is still buffered goes out before the caller writes on. */
	ret = ckpt_stream_end(&s);
	if (!err && ret) {
		NL_SET_ERR_MSG(info->extack, "writing the image failed");
		err = ret;
	}
	reply.pages = fz->pages;
	mutex_unlock(&fz->lock);
	if (!err) {
		reply.s = &s;
		err = ckpt_nl_reply(info, ckpt_fill_dump, &reply);
	}
	fput(image);
out_sess:
	fput(sess);
	return err;
}

static int ckpt_nl_release_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct file *sess;
	int err;

	sess = ckpt_nl_session(info, false);
	if (IS_ERR(sess))
		return PTR_ERR(sess);
	err = ckpt_freeze_end(ckpt_freeze_of(sess), nla_get_flag(info->attrs[CRAK_CKPT_A_KILL]));
	fput(sess);
	return err;
}

/* -- restart -------------------------------------------------------------- */

static int ckpt_fill_session(struct sk_buff *msg, void *arg)
{
	return nla_put_u32(msg, CRAK_CKPT_A_SESSION_FD, *(u32 *)arg);
}

/*
 * Whether the caller may restore: as clone3's set_tid would let it (and
 * whoever opened its netlink socket too).
 */
static bool ckpt_nl_may_restore(const struct sk_buff *skb, struct genl_info *info)
{
	if (ckpt_capable(skb, current_user_ns()))
		return true;
	NL_SET_ERR_MSG(info->extack, "restoring needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN");
	return false;
}

/*
 * Gives the caller a descriptor (FLAGS) of FILE, whose reference it takes,
 * and replies with its number (FILL puts it); a failed reply closes it.
 */
static int ckpt_nl_reply_file(struct genl_info *info, struct file *file, unsigned int flags,
			      int (*fill)(struct sk_buff *msg, void *arg))
{
	u32 reply;
	int fd, err;

	fd = get_unused_fd_flags(flags);
	if (fd < 0) {
		fput(file);
		return fd;
	}
	fd_install(fd, file);
	reply = fd;
	err = ckpt_nl_reply(info, fill, &reply);
	if (err)
		close_fd(fd);
	return err;
}

static int ckpt_nl_restore_begin_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ckpt_restore *r;
	struct file *file;

	if (!ckpt_nl_may_restore(skb, info))
		return -EPERM;
	r = ckpt_restore_new();
	if (!r)
		return -ENOMEM;
	/* (Its release puts the session.) */
	file = anon_inode_getfile("[crak-restore]", &ckpt_restore_fops, r, O_RDWR);
	if (IS_ERR(file)) {
		ckpt_restore_put(r);
		return PTR_ERR(file);
	}
	return ckpt_nl_reply_file(info, file, 0, ckpt_fill_session);
}

static int ckpt_nl_restore_thread_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[CRAK_CKPT_A_THREAD];
	struct file *sess;
	int err;

	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_THREAD))
		return -EINVAL;
	if (!ckpt_nl_may_restore(skb, info))
		return -EPERM;
	sess = ckpt_nl_session(info, true);
	if (IS_ERR(sess))
		return PTR_ERR(sess);
	err = ckpt_restore_thread(sess->private_data, nla_data(attr), nla_len(attr),
				  info->extack);
	fput(sess);
	return err;
}

static int ckpt_fill_pages(struct sk_buff *msg, void *arg)
{
	return nla_put_u64_64bit(msg, CRAK_CKPT_A_PAGES, *(u64 *)arg, CRAK_CKPT_A_PAD);
}

/* The shared memories a RESTORE maps (CRAK_CKPT_A_SHMEM), held in FILL. */
static int ckpt_nl_shmems(struct genl_info *info, struct ckpt_fill_src *fill)
{
	const struct crak_ckpt_shmem *cs;
	struct nlattr *attr;
	struct file *file;
	unsigned int i;
	int rem;

	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != CRAK_CKPT_A_SHMEM)
			continue;
		cs = nla_data(attr);
		if (cs->flags & ~CRAK_CKPT_SHMEM_FILLED) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "unknown flags");
			return -EINVAL;
		}
		if (fill->nr_shm == CRAK_CKPT_SHMEM_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "too many shared memories");
			return -E2BIG;
		}
		for (i = 0; i < fill->nr_shm; i++) {
			if (fill->shm[i].shmid == cs->shmid) {
				NL_SET_ERR_MSG_ATTR(info->extack, attr,
						    "a shared memory named twice");
				return -EINVAL;
			}
		}
		file = fget(cs->fd);
		if (!file || (file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
			     (FMODE_READ | FMODE_WRITE) ||
		    !S_ISREG(file_inode(file)->i_mode) ||
		    file_inode(file)->i_sb->s_magic != TMPFS_MAGIC) {
			if (file)
				fput(file);
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "no shared memory open for reading and writing");
			return -EBADF;
		}
		fill->shm[fill->nr_shm].shmid = cs->shmid;
		fill->shm[fill->nr_shm].filled = cs->flags & CRAK_CKPT_SHMEM_FILLED;
		fill->shm[fill->nr_shm++].file = file;
	}
	return 0;
}

static int ckpt_nl_restore_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *thread = info->attrs[CRAK_CKPT_A_THREAD];
	struct nlattr *cattr = info->attrs[CRAK_CKPT_A_CREDS];
	int close_fds[CKPT_CLOSE_FDS_MAX];
	unsigned int nr_close = 0;
	struct file *sess, *image;
	struct ckpt_fill_src fill = {};
	struct ckpt_peers *peers;
	struct cred *creds = NULL;
	bool no_new_privs = false, begun = false;
	enum ckpt_hold hold;
	struct ckpt_stream s;
	struct nlattr *attr;
	u64 pages = 0;
	int rem, err;

	/* First: whatever is refused after, the session ends saying why. */
	sess = ckpt_nl_session(info, true);
	if (IS_ERR(sess))
		return PTR_ERR(sess);
	err = -EPERM;
	if (!ckpt_nl_may_restore(skb, info))
		goto out_sess;
	err = -EINVAL;
	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_THREAD) ||
	    NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_NR_THREADS))
		goto out_sess;
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != CRAK_CKPT_A_CLOSE_FD)
			continue;
		if (nr_close == CKPT_CLOSE_FDS_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "too many descriptors to close");
			err = -E2BIG;
			goto out_sess;
		}
		close_fds[nr_close++] = nla_get_u32(attr);
	}
	err = ckpt_nl_shmems(info, &fill);
	if (err)
		goto out_shm;
	image = ckpt_nl_image(info, FMODE_READ);
	if (IS_ERR(image)) {
		err = PTR_ERR(image);
		goto out_shm;
	}
	attr = info->attrs[CRAK_CKPT_A_FILL_FD];
	if (attr) {
		fill.file = fget(nla_get_u32(attr));
		if (!fill.file || !(fill.file->f_mode & FMODE_READ) ||
		    !S_ISREG(file_inode(fill.file)->i_mode)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "no regular file open for reading");
			err = -EBADF;
			goto out_fill;
		}
		if (info->attrs[CRAK_CKPT_A_FILL_BASE])
			fill.base = nla_get_u64(info->attrs[CRAK_CKPT_A_FILL_BASE]);
	}
	/* Pages left missing are the caller's to fill before the process runs. */
	attr = info->attrs[CRAK_CKPT_A_LAZY];
	if (attr && !info->attrs[CRAK_CKPT_A_HOLD]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "pages left missing need the process held (CRAK_CKPT_A_HOLD)");
		err = -EINVAL;
		goto out_fill;
	}
	fill.lazy = nla_get_flag(attr);
	attr = info->attrs[CRAK_CKPT_A_HOLD_KILL];
	if (attr && !info->attrs[CRAK_CKPT_A_HOLD]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "killing a process never told to run needs it held (CRAK_CKPT_A_HOLD)");
		err = -EINVAL;
		goto out_fill;
	}
	hold = attr ? CKPT_HOLD_KILL : info->attrs[CRAK_CKPT_A_HOLD] ? CKPT_HOLD : CKPT_RUN;
	if (cattr) {
		creds = ckpt_creds_new(skb, cattr, info->extack);
		if (IS_ERR(creds)) {
			err = PTR_ERR(creds);
			goto out_fill;
		}
		no_new_privs = le32_to_cpu(((struct crak_img_creds *)nla_data(cattr))->flags) &
			       CRAK_CREDS_NO_NEW_PRIVS;
	}
	peers = ckpt_peers_new(info->nlhdr, creds, info->extack);
	if (IS_ERR(peers)) {
		if (creds)
			put_cred(creds);
		err = PTR_ERR(peers);
		goto out_fill;
	}
	ckpt_nl_stream(&s, image, false, info);
	/* The restore takes the credentials, whatever becomes of it. */
	begun = true;
	err = ckpt_restore(sess->private_data, &s, nla_data(thread), nla_len(thread),
			   nla_get_u32(info->attrs[CRAK_CKPT_A_NR_THREADS]), close_fds, nr_close,
			   hold, &fill, creds, no_new_privs, peers, &pages, info->extack);
	/*
	 * The caller reads on from where the restore stopped reading (a tree's
	 * next process too: its restore waits for this one to be READY, which
	 * it is once this process has parked, after this operation ends).
	 * Reading, the end has nothing to write and cannot fail.
	 */
	ckpt_stream_end(&s);
	if (!err)
		err = ckpt_nl_reply(info, ckpt_fill_pages, &pages);
out_fill:
	if (fill.file)
		fput(fill.file);
	fput(image);
out_shm:
	while (fill.nr_shm)
		fput(fill.shm[--fill.nr_shm].file);
out_sess:
	if (err && !begun)
		ckpt_restore_refuse(sess->private_data, err, info->extack);
	fput(sess);
	return err;
}

struct ckpt_ready_reply {
	bool ready;
	const struct crak_ckpt_range *lazy;
	unsigned int nr_lazy;
};

static int ckpt_fill_ready(struct sk_buff *msg, void *arg)
{
	struct ckpt_ready_reply *r = arg;

	if (!r->ready)
		return 0;
	if (nla_put_flag(msg, CRAK_CKPT_A_READY))
		return -EMSGSIZE;
	if (r->nr_lazy &&
	    nla_put(msg, CRAK_CKPT_A_SKIP, r->nr_lazy * sizeof(*r->lazy), r->lazy))
		return -EMSGSIZE;
	return 0;
}

static int ckpt_fill_message(struct sk_buff *msg, void *arg)
{
	return nla_put_string(msg, CRAK_CKPT_A_MESSAGE, arg);
}

static int ckpt_nl_restore_wait_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ckpt_ready_reply reply = {};
	char msg[CKPT_MSG_LEN] = "";
	struct file *sess;
	pid_t pid;
	int err;

	sess = ckpt_nl_session(info, true);
	if (IS_ERR(sess))
		return PTR_ERR(sess);
	pid = info->attrs[CRAK_CKPT_A_PID] ? nla_get_u32(info->attrs[CRAK_CKPT_A_PID]) : 0;
	err = ckpt_restore_wait(sess->private_data, pid, &reply.ready, msg, info->extack);
	/* What it left missing stays with the session, which is held meanwhile. */
	if (!err && reply.ready)
		reply.nr_lazy = ckpt_restore_lazy(sess->private_data, &reply.lazy);
	if (!err)
		err = ckpt_nl_reply_size(info, nla_total_size(0) +
					 nla_total_size(reply.nr_lazy * sizeof(*reply.lazy)),
					 ckpt_fill_ready, &reply);
	fput(sess);
	/*
	 * Why the session failed, copied out of it: a message of its own
	 * ahead of the error (the session may be gone when the
	 * acknowledgment is made, so the extack cannot point into it).
	 */
	if (err && msg[0])
		ckpt_nl_reply_size(info, nla_total_size(strlen(msg) + 1), ckpt_fill_message, msg);
	return err;
}

static int ckpt_nl_restore_go_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct file *sess;
	int err;

	sess = ckpt_nl_session(info, true);
	if (IS_ERR(sess))
		return PTR_ERR(sess);
	err = ckpt_restore_go(sess->private_data, info->extack);
	fput(sess);
	return err;
}

static int ckpt_fill_new_fd(struct sk_buff *msg, void *arg)
{
	return nla_put_u32(msg, CRAK_CKPT_A_NEW_FD, *(u32 *)arg);
}

static int ckpt_nl_install_doit(struct sk_buff *skb, struct genl_info *info)
{
	int new_fd, err;
	u32 reply;

	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_PID) ||
	    NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_MEM_FD) ||
	    NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_FD))
		return -EINVAL;
	err = ckpt_install(skb, nla_get_u32(info->attrs[CRAK_CKPT_A_PID]),
			   nla_get_u32(info->attrs[CRAK_CKPT_A_MEM_FD]),
			   nla_get_u32(info->attrs[CRAK_CKPT_A_FD]), &new_fd, info->extack);
	if (err)
		return err;
	reply = new_fd;
	return ckpt_nl_reply(info, ckpt_fill_new_fd, &reply);
}

/* A shared memory for processes that share one (tmpfs, as MAP_SHARED makes). */
static int ckpt_nl_shmem_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct file *file;

	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_NAME) ||
	    NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_SIZE))
		return -EINVAL;
	if (!ckpt_nl_may_restore(skb, info))
		return -EPERM;
	file = shmem_file_setup(nla_data(info->attrs[CRAK_CKPT_A_NAME]),
				nla_get_u64(info->attrs[CRAK_CKPT_A_SIZE]), VM_NORESERVE);
	if (IS_ERR(file)) {
		NL_SET_ERR_MSG(info->extack, "no shared memory of that size could be made");
		return PTR_ERR(file);
	}
	return ckpt_nl_reply_file(info, file, O_CLOEXEC, ckpt_fill_new_fd);
}

/* -- a queue's marks ----------------------------------------------------- */

/* PEEKED with positions: the marks set to them, an ack. */
static int ckpt_nl_peeked_set(const struct sk_buff *skb, struct genl_info *info,
			      const struct nlattr *attr)
{
	const u32 *want = nla_data(attr);
	u32 i, nr;
	int err;

	if (nla_len(attr) % sizeof(u32)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "not a list of 32-bit positions");
		return -EINVAL;
	}
	nr = nla_len(attr) / sizeof(u32);
	for (i = 1; i < nr; i++) {
		if (want[i] <= want[i - 1]) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "positions not in ascending order");
			return -EINVAL;
		}
	}
	err = ckpt_peeked(skb, nla_get_u32(info->attrs[CRAK_CKPT_A_FD]), want, nr, NULL, NULL,
			  info->extack);
	return err < 0 ? err : 0;
}

/*
 * PEEKED without: the marks taken off, a reply with where they were and how
 * many datagrams are queued.  The reply is made first, so that nothing
 * fails once they are off.
 */
static int ckpt_nl_peeked_take(const struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	u32 *old, queued;
	void *hdr;
	int err;

	old = kvmalloc_array(CRAK_CKPT_PEEKED_MAX, sizeof(*old), GFP_KERNEL);
	if (!old)
		return -ENOMEM;
	err = -ENOMEM;
	msg = genlmsg_new(nla_total_size(CRAK_CKPT_PEEKED_MAX * sizeof(u32)) +
			  nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		goto out;
	err = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &ckpt_genl_family, 0, info->genlhdr->cmd);
	if (!hdr)
		goto fail;
	err = ckpt_peeked(skb, nla_get_u32(info->attrs[CRAK_CKPT_A_FD]), NULL, 0, old, &queued,
			  info->extack);
	if (err < 0)
		goto fail;
	/* (Room was made for CRAK_CKPT_PEEKED_MAX: it cannot fail.) */
	err = nla_put(msg, CRAK_CKPT_A_PEEKED, err * sizeof(u32), old) ?:
	      nla_put_u32(msg, CRAK_CKPT_A_QUEUED, queued);
	if (WARN_ON_ONCE(err))
		goto fail;
	genlmsg_end(msg, hdr);
	kvfree(old);
	return genlmsg_reply(msg, info);
fail:
	nlmsg_free(msg);
out:
	kvfree(old);
	return err;
}

static int ckpt_nl_peeked_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (NL_REQ_ATTR_CHECK(info->extack, NULL, info->attrs, CRAK_CKPT_A_FD))
		return -EINVAL;
	if (info->attrs[CRAK_CKPT_A_PEEKED])
		return ckpt_nl_peeked_set(skb, info, info->attrs[CRAK_CKPT_A_PEEKED]);
	return ckpt_nl_peeked_take(skb, info);
}

/* -- the family ----------------------------------------------------------- */

static const struct genl_ops ckpt_genl_ops[] = {
	{
		.cmd		= CRAK_CKPT_CMD_FREEZE,
		.doit		= ckpt_nl_freeze_doit,
		.policy		= ckpt_freeze_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_DUMP,
		.doit		= ckpt_nl_dump_doit,
		.policy		= ckpt_dump_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_RELEASE,
		.doit		= ckpt_nl_release_doit,
		.policy		= ckpt_release_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_RESTORE_BEGIN,
		.doit		= ckpt_nl_restore_begin_doit,
		.policy		= ckpt_begin_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_RESTORE_THREAD,
		.doit		= ckpt_nl_restore_thread_doit,
		.policy		= ckpt_thread_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_RESTORE,
		.doit		= ckpt_nl_restore_doit,
		.policy		= ckpt_restore_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_RESTORE_WAIT,
		.doit		= ckpt_nl_restore_wait_doit,
		.policy		= ckpt_wait_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_INSTALL,
		.doit		= ckpt_nl_install_doit,
		.policy		= ckpt_install_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_RESTORE_GO,
		.doit		= ckpt_nl_restore_go_doit,
		.policy		= ckpt_go_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_SHMEM,
		.doit		= ckpt_nl_shmem_doit,
		.policy		= ckpt_shmem_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
	{
		.cmd		= CRAK_CKPT_CMD_PEEKED,
		.doit		= ckpt_nl_peeked_doit,
		.policy		= ckpt_peeked_policy,
		.maxattr	= CRAK_CKPT_A_MAX,
	},
};

static struct genl_family ckpt_genl_family = {
	.name		= CRAK_CKPT_FAMILY_NAME,
	.version	= CRAK_CKPT_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= ckpt_genl_ops,
	.n_ops		= ARRAY_SIZE(ckpt_genl_ops),
};

int ckpt_genl_init(void)
{
	return genl_register_family(&ckpt_genl_family);
}

void ckpt_genl_exit(void)
{
	genl_unregister_family(&ckpt_genl_family);
}
