// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: a restore session.
 *
 * The crak tool has made the process (its PID, descriptors, handlers,
 * pending signals, threads) with system calls.  Each thread but the leader
 * enrolls with its THREAD section and, when that call returns, waits in
 * task work.  The leader then hands over the memory part of the image:
 *
 *  1. everything is read and checked that can be before a byte of the
 *     process changes: the memory's fields, every mapping, the files they
 *     map (opened with the caller's rights, and of the size they had), the
 *     [vdso] and [vvar] where the image has them, every thread enrolled;
 *  2. the caller's mappings go, the image's are made, and the pages are
 *     read into them as they stream in (private mappings through GUP with
 *     FOLL_FORCE, as ptrace writes; shared memory through its file);
 *  3. the leader too waits in task work, and a worker gives every thread,
 *     now off the CPU, its registers and XSAVE state through the regsets,
 *     as ptrace does; released, each thread sets its own signal mask,
 *     rseq area and (when RESTORE gave them) credentials, and returns to
 *     user space where the image left it.
 *
 * A failure in 1 leaves the process as it was (the tool reports it and
 * exits); from 2 on it kills the process.  Either way RESTORE_WAIT tells
 * the restarting tool what happened.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/elf.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <linux/highmem.h>
#include <linux/ksm.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/namei.h>
#include <linux/regset.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <asm/unistd.h>
#include <asm/user.h>
#include <net/netlink.h>

#include "crak_compat.h"
#include "ckpt.h"

#define CKPT_ENROLL_TIMEOUT	(10 * HZ)
#define CKPT_XSTATE_MAX		(64 * 1024)
#define CKPT_VMAS_MAX		BIT(18)

enum {
	CKPT_R_OPEN,		/* threads enroll */
	CKPT_R_BUILDING,	/* the leader's RESTORE runs */
	CKPT_R_APPLYING,	/* registers go back */
	CKPT_R_READY,		/* whole, its threads held until GO */
	CKPT_R_DONE,		/* the process runs */
	CKPT_R_FAILED,
};

struct ckpt_restore {
	struct ckpt_group group;	/* first: freed with it */
	struct mutex lock;		/* state changes */
	struct pid *tgid;		/* the process, once a thread enrolled */
	int state;
	int error;
	char msg[CKPT_MSG_LEN];		/* why it failed, in words */
	bool msg_set;			/* ... with a detail: kept */
	wait_queue_head_t done_wq;
	struct work_struct apply;
	bool hold;			/* READY waits for GO */
	bool hold_kill;			/* ... and is killed if it never comes */
	bool orphaned;			/* the session's descriptor is closed */
	struct cred *creds;		/* every thread's, or NULL: the caller's */
	bool no_new_privs;
	struct ckpt_peers *peers;	/* its sockets' peers, named as it runs */
	struct crak_ckpt_range *lazy;	/* SKIP's ranges left missing */
	unsigned int nr_lazy;
	struct mm_struct *thp_off;	/* its transparent huge pages off till the end */
};

/* One thread's state, kept until it runs (ckpt_stop.data). */
struct ckpt_rthread {
	u32 tid;
	u64 blocked;
	u64 rseq;
	u32 rseq_len;
	u32 rseq_sig;
	struct user_regs_struct regs;
	bool sleep;
	u64 sleep_left;
	u32 xstate_len;
	u8 xstate[];
};

/*
 * A lazy restore turns the process's transparent huge pages off until it
 * runs, by when a userfaultfd holds what it left missing: a write into a
 * 2 MiB block whose other pages are missing would fault in a huge page,
 * zeros where those pages are still to come, and khugepaged would make one
 * of a block it finds partly there.  (Left alone if they were off.)
 */
static void ckpt_thp_off(struct ckpt_restore *r)
{
	struct mm_struct *mm = current->mm;

	if (r->thp_off || test_and_set_bit(MMF_DISABLE_THP, &mm->flags))
		return;
	mmgrab(mm);
	r->thp_off = mm;
}

static void ckpt_thp_on(struct ckpt_restore *r)
{
	struct mm_struct *mm = xchg(&r->thp_off, NULL);

	if (mm) {
		clear_bit(MMF_DISABLE_THP, &mm->flags);
		mmdrop(mm);
	}
}

static void ckpt_restore_free(struct ckpt_group *g)
{
	struct ckpt_restore *r = container_of(g, struct ckpt_restore, group);

	ckpt_thp_on(r);
	ckpt_group_free_threads(g);
	put_pid(r->tgid);
	if (r->creds)
		put_cred(r->creds);
	ckpt_peers_free(r->peers);
	kvfree(r->lazy);
	kfree(r);
}

/*
 * Ends the session with ERR and a message; the first ending counts.  A
 * RESTORE REFUSED before it began ends only a session still open, and not
 * another process's.
 */
static void ckpt_restore_end_as(struct ckpt_restore *r, int err, const char *msg, bool refused)
{
	mutex_lock(&r->lock);
	if (refused && (r->state != CKPT_R_OPEN || (r->tgid && r->tgid != task_tgid(current)))) {
		mutex_unlock(&r->lock);
		return;
	}
	if (r->state != CKPT_R_DONE && r->state != CKPT_R_FAILED) {
		r->state = err ? CKPT_R_FAILED : CKPT_R_DONE;
		r->error = err;
		if (!r->msg_set)
			strscpy(r->msg, msg ?: "", sizeof(r->msg));
	}
	mutex_unlock(&r->lock);
	ckpt_thp_on(r);
	ckpt_group_release(&r->group);
	wake_up_all(&r->done_wq);
}

static void ckpt_restore_end(struct ckpt_restore *r, int err, const char *msg)
{
	ckpt_restore_end_as(r, err, msg, false);
}

/*
 * A relative wait made again waits only what it had left, LEFT ns: the
 * arguments in REGS of call NR changed to say so.  poll(2) takes it in
 * milliseconds, rounded up, in its timeout register.  A sleep's timespec
 * argument, or FUTEX_WAIT's, points at a copy of that time under the red
 * zone of the thread's stack, where a signal frame could be written as well
 * (false, and nothing changed, where the copy cannot be written).
 */
bool ckpt_sleep_set(struct pt_regs *regs, long nr, u64 left)
{
	struct __kernel_timespec ts;
	unsigned long at;
	u32 nsec;

	if (nr == __NR_poll) {
		left = min_t(u64, left, (u64)INT_MAX * NSEC_PER_MSEC);
		regs->dx = DIV_ROUND_UP_ULL(left, NSEC_PER_MSEC);
		return true;
	}
	ts.tv_sec = div_u64_rem(left, NSEC_PER_SEC, &nsec);
	ts.tv_nsec = nsec;
	at = round_down(regs->sp - 128 - sizeof(ts), 16);
	if (copy_to_user((void __user *)at, &ts, sizeof(ts)))
		return false;
	if (nr == __NR_nanosleep)
		regs->di = at;
	else if (nr == __NR_futex)
		regs->r10 = at;
	else
		regs->dx = at;
	return true;
}

/*
 * A restarted thread's relative wait (CRAK_THREAD_SLEEP), made again.  With
 * a signal to handle first, the sleep or futex wait waits its whole length
 * again.  (A signal that comes between here and the call's first
 * instruction still lands its frame on the copy.)
 */
static void ckpt_sleep_rest(const struct ckpt_rthread *rt)
{
	struct pt_regs *regs = current_pt_regs();

	if (!rt->sleep)
		return;
	if (regs->ax != __NR_poll && signal_pending(current))
		return;
	ckpt_sleep_set(regs, regs->ax, rt->sleep_left);
}

/* Runs in each thread once released. */
static void ckpt_restore_resume(struct ckpt_stop *st)
{
	struct ckpt_restore *r = container_of(st->group, struct ckpt_restore, group);
	struct ckpt_rthread *rt = st->data;
	struct ckpt_peers *peers;
	sigset_t mask;

	if (READ_ONCE(r->state) != CKPT_R_DONE)
		return;
	mask.sig[0] = rt->blocked;
	sigdelsetmask(&mask, sigmask(SIGKILL) | sigmask(SIGSTOP));
	sigprocmask(SIG_SETMASK, &mask, NULL);
	ckpt_sleep_rest(rt);
	crak_task_rseq_set(current, rt->rseq, rt->rseq_len, rt->rseq_sig);
	if (r->no_new_privs)
		task_set_no_new_privs(current);
	/* (By the first thread to run: every process of its tree is there.) */
	peers = xchg(&r->peers, NULL);
	if (peers)
		ckpt_peers_apply(peers);
	if (r->creds)
		ckpt_creds_apply(r->creds);
}

struct ckpt_restore *ckpt_restore_new(void)
{
	struct ckpt_restore *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return NULL;
	ckpt_group_init(&r->group, ckpt_restore_resume, ckpt_restore_free);
	mutex_init(&r->lock);
	init_waitqueue_head(&r->done_wq);
	return r;
}

/* GO: a process held once whole runs. */
int ckpt_restore_go(struct ckpt_restore *r, struct netlink_ext_ack *extack)
{
	if (READ_ONCE(r->state) != CKPT_R_READY) {
		NL_SET_ERR_MSG(extack, "the restored process is not waiting to run");
		return -EINVAL;
	}
	ckpt_restore_end(r, 0, NULL);
	return 0;
}

/* A process held once whole whose session is closed: nobody will say GO. */
static void ckpt_restore_orphan(struct ckpt_restore *r)
{
	if (r->hold_kill) {
		kill_pid(r->tgid, SIGKILL, 1);
		ckpt_restore_end(r, -ECANCELED, "the restore was abandoned");
	} else {
		ckpt_restore_end(r, 0, NULL);
	}
}

/*
 * The session's descriptor is closed: a restore not yet under way ends, and
 * a process held once whole (now, or when its registers are back) runs, or
 * is killed if it was to be (CRAK_CKPT_A_HOLD_KILL).
 */
void ckpt_restore_put(struct ckpt_restore *r)
{
	int state;

	mutex_lock(&r->lock);
	r->orphaned = true;
	state = r->state;
	mutex_unlock(&r->lock);

	if (state == CKPT_R_OPEN)
		ckpt_restore_end(r, -ECANCELED, "the restore was abandoned");
	else if (state == CKPT_R_READY)
		ckpt_restore_orphan(r);
	ckpt_group_put(&r->group);
}

/* -- threads -------------------------------------------------------------- */

int ckpt_thread_parse(const void *buf, size_t len, struct ckpt_thread_image *ti,
		      struct netlink_ext_ack *extack)
{
	const struct crak_img_thread *th = buf;
	unsigned long nr, op;
	__le64 left;
	u32 flags;
	u64 need;

	if (len < sizeof(*th))
		goto bad;
	ti->hdr = th;
	flags = le32_to_cpu(th->flags);
	ti->regs_len = le32_to_cpu(th->regs_len);
	ti->xstate_len = le32_to_cpu(th->xstate_len);
	if (ti->regs_len != sizeof(struct user_regs_struct) || !ti->xstate_len ||
	    ti->xstate_len > CKPT_XSTATE_MAX)
		goto bad;
	need = sizeof(*th) + (u64)ti->regs_len + ti->xstate_len +
	       (u64)le32_to_cpu(th->nr_pending) * sizeof(struct crak_img_siginfo);
	if (need > len)
		goto bad;
	ti->regs = buf + sizeof(*th);
	ti->xstate = ti->regs + ti->regs_len;
	/* A wait's time left comes with a wait made again, and only so. */
	ti->sleep = flags & CRAK_THREAD_SLEEP;
	if (ti->sleep) {
		memcpy(&nr, ti->regs + offsetof(struct user_regs_struct, ax), sizeof(nr));
		memcpy(&op, ti->regs + offsetof(struct user_regs_struct, si), sizeof(op));
		if (!(flags & CRAK_THREAD_RESTARTED) || need + sizeof(left) > len ||
		    (nr != __NR_nanosleep && nr != __NR_clock_nanosleep && nr != __NR_poll &&
		     (nr != __NR_futex || ((u32)op & FUTEX_CMD_MASK) != FUTEX_WAIT)))
			goto bad;
		memcpy(&left, buf + need, sizeof(left));
		ti->sleep_left = le64_to_cpu(left);
	}
	return 0;
bad:
	NL_SET_ERR_MSG(extack, "a thread's section is malformed");
	return -EINVAL;
}

static struct ckpt_rthread *ckpt_rthread_new(const struct ckpt_thread_image *ti)
{
	const struct crak_img_thread *th = ti->hdr;
	struct ckpt_rthread *rt;

	rt = kzalloc(struct_size(rt, xstate, ti->xstate_len), GFP_KERNEL);
	if (!rt)
		return NULL;
	rt->tid = le32_to_cpu(th->tid);
	rt->blocked = le64_to_cpu(th->blocked);
	rt->rseq = le64_to_cpu(th->rseq);
	rt->rseq_len = le32_to_cpu(th->rseq_len);
	rt->rseq_sig = le32_to_cpu(th->rseq_sig);
	memcpy(&rt->regs, ti->regs, sizeof(rt->regs));
	rt->sleep = ti->sleep;
	rt->sleep_left = ti->sleep_left;
	rt->xstate_len = ti->xstate_len;
	memcpy(rt->xstate, ti->xstate, ti->xstate_len);
	return rt;
}

/*
 * Checks that the caller may enroll, as TI, in R (under r->lock).  (Its
 * rights, and its netlink socket opener's, its request checked.)
 */
static int ckpt_enroll_check(struct ckpt_restore *r, const struct ckpt_thread_image *ti,
			     bool leader, struct netlink_ext_ack *extack)
{
	if (r->state != CKPT_R_OPEN) {
		NL_SET_ERR_MSG(extack, "this restore session is under way or over");
		return -EBUSY;
	}
	if (r->tgid && r->tgid != task_tgid(current)) {
		NL_SET_ERR_MSG(extack, "this restore session belongs to another process");
		return -EPERM;
	}
	if (leader && !thread_group_leader(current)) {
		NL_SET_ERR_MSG(extack, "RESTORE is for the process's main thread");
		return -EINVAL;
	}
	if (!leader && thread_group_leader(current)) {
		NL_SET_ERR_MSG(extack, "RESTORE_THREAD is for threads other than the main one");
		return -EINVAL;
	}
	if (!!(le32_to_cpu(ti->hdr->flags) & CRAK_THREAD_LEADER) != leader) {
		NL_SET_ERR_MSG(extack, "the section is not this thread's kind (leader or not)");
		return -EINVAL;
	}
	if (le32_to_cpu(ti->hdr->tid) != task_pid_vnr(current)) {
		NL_SET_ERR_MSG(extack, "the thread's ID is not the one in its section");
		return -EINVAL;
	}
	if (ckpt_group_has(&r->group, current)) {
		NL_SET_ERR_MSG(extack, "this thread is enrolled already");
		return -EEXIST;
	}
	if (!r->tgid)
		r->tgid = get_pid(task_tgid(current));
	return 0;
}

int ckpt_restore_thread(struct ckpt_restore *r, const void *thread, size_t len,
			struct netlink_ext_ack *extack)
{
	struct ckpt_thread_image ti;
	struct ckpt_rthread *rt;
	int err;

	err = ckpt_thread_parse(thread, len, &ti, extack);
	if (err)
		return err;
	rt = ckpt_rthread_new(&ti);
	if (!rt)
		return -ENOMEM;

	mutex_lock(&r->lock);
	err = ckpt_enroll_check(r, &ti, false, extack);
	if (!err)
		err = ckpt_group_add(&r->group, current, TWA_RESUME, rt);
	mutex_unlock(&r->lock);
	if (err)
		kfree(rt);
	return err;
}

/* -- the memory part: reading and checking -------------------------------- */

struct ckpt_rvma {
	struct crak_img_vma img;
	char *path;
	struct file *file;		/* what it maps, opened */
	bool filled;			/* a shared memory that has its pages */
};

struct ckpt_layout {
	struct crak_img_mm mm;
	unsigned int nr;
	struct ckpt_rvma *vma;
};

static void ckpt_layout_free(struct ckpt_layout *l)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++) {
		kfree(l->vma[i].path);
		if (l->vma[i].file)
			fput(l->vma[i].file);
	}
	kvfree(l->vma);
	kfree(l);
}

/* Sets the session's message, with a detail, as the reply's extack. */
static void ckpt_restore_msg(struct ckpt_restore *r, struct netlink_ext_ack *extack,
			     const char *what, const char *detail)
{
	mutex_lock(&r->lock);
	snprintf(r->msg, sizeof(r->msg), "%s%s%s", what, detail ? ": " : "", detail ?: "");
	r->msg_set = true;
	mutex_unlock(&r->lock);
	/* (The session may be gone by the time the acknowledgment is made.) */
	extack->_msg = what;
}

static bool ckpt_range_ok(u64 start, u64 end)
{
	return start < end && end <= TASK_SIZE && PAGE_ALIGNED(start) && PAGE_ALIGNED(end);
}

/* The caller's special mapping NAME, where the image must have it. */
static int ckpt_check_special(const struct crak_img_vma *iv, const char *name)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	const char *n;
	int err = -ENOENT;

	mmap_read_lock(mm);
	vma = find_vma(mm, le64_to_cpu(iv->start));
	if (vma && vma->vm_start == le64_to_cpu(iv->start) &&
	    vma->vm_end == le64_to_cpu(iv->end) && vma->vm_ops && vma->vm_ops->name) {
		n = vma->vm_ops->name(vma);
		if (n && !strcmp(n, name))
			err = 0;
	}
	mmap_read_unlock(mm);
	return err;
}

/*
 * Whether R restores another user's process: then its mapped files are
 * reached through no symbolic link.  The checkpoint took the kernel's own
 * name for each, which has none, so one there now is a change, and the
 * restorer's rights are not to follow a link a user planted since to a
 * file of the restorer's, to be read or written.  (A process of the
 * restorer's own may: it could open the file anyway; and a library path
 * a link leads to on another node, /lib into /usr/lib, is no change.)
 */
static bool ckpt_restore_strict(const struct ckpt_restore *r)
{
	return r->creds && !uid_eq(r->creds->fsuid, current_fsuid());
}

static int ckpt_open_mapped(struct ckpt_restore *r, struct ckpt_rvma *v,
			    struct netlink_ext_ack *extack)
{
	u32 kind = le32_to_cpu(v->img.kind);
	u32 flags = le32_to_cpu(v->img.flags);
	bool strict = ckpt_restore_strict(r);
	struct path checked = {};
	int mode = O_RDONLY, err;
	struct file *f;

	if (kind == CRAK_VMA_SHFILE && !(flags & CRAK_VMAF_MAYSHARE))
		mode = O_RDWR;
	/* Looked at before it is opened (a device's open does things). */
	if (strict) {
		err = kern_path(v->path, LOOKUP_NO_SYMLINKS, &checked);
		if (err == -ELOOP) {
			ckpt_restore_msg(r, extack, "a mapped file's path has a symbolic link now",
					 v->path);
			return err;
		}
		if (!err && !d_is_reg(checked.dentry)) {
			path_put(&checked);
			err = -EINVAL;
		}
		if (err) {
			ckpt_restore_msg(r, extack, "a mapped file is not a regular file", v->path);
			return err;
		}
	}
	/* (Not to wait on a FIFO, nor take a terminal, that is there now.) */
	f = filp_open(v->path, mode | O_LARGEFILE | O_NOCTTY | O_NONBLOCK, 0);
	/* (And no link came in between.) */
	err = IS_ERR(f) ? PTR_ERR(f) : strict && !path_equal(&f->f_path, &checked) ? -ELOOP : 0;
	if (strict)
		path_put(&checked);
	if (IS_ERR(f)) {
		ckpt_restore_msg(r, extack, "a mapped file does not open", v->path);
		return err;
	}
	v->file = f;
	if (err) {
		ckpt_restore_msg(r, extack, "a mapped file's path has a symbolic link now",
				 v->path);
		return err;
	}
	if (!S_ISREG(file_inode(f)->i_mode)) {
		ckpt_restore_msg(r, extack, "a mapped file is not a regular file", v->path);
		return -EINVAL;
	}
	if (i_size_read(file_inode(f)) != le64_to_cpu(v->img.file_size)) {
		ckpt_restore_msg(r, extack, "a mapped file changed size since the checkpoint",
				 v->path);
		return -ESTALE;
	}
	return 0;
}

/* Advice madvise(2) could have given a mapping of KIND, as the image has it. */
static bool ckpt_advice_ok(u32 kind, u32 flags)
{
	if (!(flags & CKPT_VMAF_ADVICE))
		return true;
	if (kind == CRAK_VMA_VDSO || kind == CRAK_VMA_VVAR)
		return false;
	if (flags & CRAK_VMAF_WIPEONFORK &&
	    (kind != CRAK_VMA_ANON || flags & CRAK_VMAF_DELETED))
		return false;
	if ((flags & CRAK_VMAF_HUGEPAGE && flags & CRAK_VMAF_NOHUGEPAGE) ||
	    (flags & CRAK_VMAF_SEQUENTIAL && flags & CRAK_VMAF_RANDOM))
		return false;
	return true;
}

/* Locked memory as mlock(2) could have locked a mapping of KIND. */
static bool ckpt_lock_ok(u32 kind, u32 flags)
{
	if (!(flags & (CRAK_VMAF_LOCKED | CRAK_VMAF_LOCKONFAULT)))
		return true;
	return kind != CRAK_VMA_VDSO && kind != CRAK_VMA_VVAR && flags & CRAK_VMAF_LOCKED;
}

static int ckpt_read_vma(struct ckpt_restore *r, struct ckpt_stream *s, struct ckpt_rvma *v,
			 u64 prev_end, struct netlink_ext_ack *extack)
{
	u32 kind, prot, plen, flags;
	void *buf;
	u64 len;
	int err = -EINVAL;

	buf = ckpt_read_section(s, CRAK_IMG_VMA, sizeof(v->img), sizeof(v->img) + PATH_MAX + 8,
				&len, extack);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	memcpy(&v->img, buf, sizeof(v->img));
	kind = le32_to_cpu(v->img.kind);
	prot = le32_to_cpu(v->img.prot);
	plen = le32_to_cpu(v->img.path_len);
	flags = le32_to_cpu(v->img.flags);

	if (!ckpt_range_ok(le64_to_cpu(v->img.start), le64_to_cpu(v->img.end)) ||
	    le64_to_cpu(v->img.start) < prev_end) {
		NL_SET_ERR_MSG(extack, "a mapping of the image is out of range or order");
		goto out;
	}
	if (kind > CRAK_VMA_VVAR || prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC) ||
	    flags & ~(CRAK_VMAF_GROWSDOWN | CRAK_VMAF_MAYSHARE | CRAK_VMAF_DELETED |
		      CKPT_VMAF_ADVICE | CRAK_VMAF_LOCKED | CRAK_VMAF_LOCKONFAULT) ||
	    (flags & CRAK_VMAF_DELETED && kind != CRAK_VMA_ANON) ||
	    !ckpt_advice_ok(kind, flags) || !ckpt_lock_ok(kind, flags) ||
	    sizeof(v->img) + plen > len || le64_to_cpu(v->img.pgoff) > (ULONG_MAX >> PAGE_SHIFT)) {
		NL_SET_ERR_MSG(extack, "a mapping of the image is malformed");
		goto out;
	}
	if (kind == CRAK_VMA_FILE || kind == CRAK_VMA_SHFILE || kind == CRAK_VMA_SHANON ||
	    flags & CRAK_VMAF_DELETED) {
		const char *p = buf + sizeof(v->img);

		if (plen < 2 || p[plen - 1] || strlen(p) != plen - 1) {
			NL_SET_ERR_MSG(extack, "a mapping of the image has a malformed name");
			goto out;
		}
		v->path = kstrdup(p, GFP_KERNEL_ACCOUNT);
		if (!v->path) {
			err = -ENOMEM;
			goto out;
		}
	}
	switch (kind) {
	case CRAK_VMA_FILE:
	case CRAK_VMA_SHFILE:
		err = ckpt_open_mapped(r, v, extack);
		break;
	case CRAK_VMA_VDSO:
	case CRAK_VMA_VVAR:
		err = ckpt_check_special(&v->img, kind == CRAK_VMA_VDSO ? "[vdso]" : "[vvar]");
		if (err && kind == CRAK_VMA_VDSO)
			NL_SET_ERR_MSG(extack, "the [vdso] is not where the image has it");
		else if (err)
			NL_SET_ERR_MSG(extack, "the [vvar] is not where the image has it");
		break;
	default:
		err = 0;
	}
out:
	kvfree(buf);
	return err;
}

static int ckpt_read_layout(struct ckpt_restore *r, struct ckpt_stream *s,
			    struct ckpt_layout *l, struct netlink_ext_ack *extack)
{
	struct crak_img_mm *mm;
	unsigned int i, nr;
	u64 len, prev = 0;
	int err;

	mm = ckpt_read_section(s, CRAK_IMG_MM, offsetof(struct crak_img_mm, auxv),
			       sizeof(*mm) + 4096, &len, extack);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	memcpy(&l->mm, mm, min_t(u64, len, sizeof(l->mm)));
	kvfree(mm);

	nr = le32_to_cpu(l->mm.nr_vmas);
	if (!nr || nr > CKPT_VMAS_MAX) {
		NL_SET_ERR_MSG(extack, "the image has an impossible number of mappings");
		return -EINVAL;
	}
	/* (What an image makes the kernel hold is its restorer's.) */
	l->vma = kvcalloc(nr, sizeof(*l->vma), GFP_KERNEL_ACCOUNT);
	if (!l->vma)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		l->nr++;
		err = ckpt_read_vma(r, s, &l->vma[i], prev, extack);
		if (err)
			return err;
		prev = le64_to_cpu(l->vma[i].img.end);
	}
	return 0;
}

/* -- the memory part: rebuilding ------------------------------------------ */

/* Unmaps all of the caller's memory but its [vdso] and [vvar]. */
static int ckpt_unmap_all(void)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long start, end;
	const char *name;
	int err;

	for (;;) {
		VMA_ITERATOR(vmi, mm, 0);

		start = 0;
		end = 0;
		mmap_read_lock(mm);
		for_each_vma(vmi, vma) {
			name = vma->vm_ops && vma->vm_ops->name ? vma->vm_ops->name(vma) : NULL;
			if (name && (!strcmp(name, "[vdso]") || !strcmp(name, "[vvar]")))
				continue;
			start = vma->vm_start;
			end = vma->vm_end;
			break;
		}
		mmap_read_unlock(mm);
		if (!end)
			return 0;
		err = vm_munmap(start, end - start);
		if (err)
			return err;
	}
}

/* How big the shared memory of mapping FIRST's shmid is to be for all its mappings. */
static u64 ckpt_shmem_size(const struct ckpt_layout *l, unsigned int first)
{
	const struct ckpt_rvma *v = &l->vma[first];
	u64 size = 0, need;
	unsigned int i;

	for (i = 0; i < l->nr; i++) {
		if (le32_to_cpu(l->vma[i].img.kind) != CRAK_VMA_SHANON ||
		    l->vma[i].img.shmid != v->img.shmid)
			continue;
		need = (le64_to_cpu(l->vma[i].img.pgoff) << PAGE_SHIFT) +
		       le64_to_cpu(l->vma[i].img.end) - le64_to_cpu(l->vma[i].img.start);
		size = max(size, need);
	}
	return size;
}

/* The shared memory the caller handed over for SHMID (*FILLED: with its pages), or NULL. */
static struct file *ckpt_shmem_given(const struct ckpt_fill_src *fill, __le64 shmid,
				     bool *filled)
{
	unsigned int i;

	for (i = 0; i < fill->nr_shm; i++) {
		if (fill->shm[i].shmid == le64_to_cpu(shmid)) {
			*filled = fill->shm[i].filled;
			return fill->shm[i].file;
		}
	}
	return NULL;
}

/*
 * Whether each shared memory the caller handed over is as big as this
 * process's mappings of it need (before anything changes).
 */
static int ckpt_shmem_check(const struct ckpt_layout *l, const struct ckpt_fill_src *fill,
			    struct netlink_ext_ack *extack)
{
	unsigned int i, k;

	for (k = 0; k < fill->nr_shm; k++) {
		for (i = 0; i < l->nr; i++) {
			if (le32_to_cpu(l->vma[i].img.kind) == CRAK_VMA_SHANON &&
			    le64_to_cpu(l->vma[i].img.shmid) == fill->shm[k].shmid)
				break;
		}
		if (i < l->nr && !fill->shm[k].filled &&
		    i_size_read(file_inode(fill->shm[k].file)) < ckpt_shmem_size(l, i)) {
			NL_SET_ERR_MSG(extack, "a shared memory is smaller than its mappings");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The shared memory of mapping FIRST: the caller's (other processes map it
 * too, or the process holds it open), the one another mapping of the same
 * made (mappings are made in two rounds, not by address), or a new one.
 */
static struct file *ckpt_shmem(struct ckpt_layout *l, unsigned int first,
			       const struct ckpt_fill_src *fill)
{
	struct ckpt_rvma *v = &l->vma[first];
	struct file *given = ckpt_shmem_given(fill, v->img.shmid, &v->filled);
	unsigned int i;

	if (given)
		return get_file(given);
	for (i = 0; i < l->nr; i++)
		if (le32_to_cpu(l->vma[i].img.kind) == CRAK_VMA_SHANON && l->vma[i].file &&
		    l->vma[i].img.shmid == v->img.shmid)
			return get_file(l->vma[i].file);
	return shmem_file_setup(v->path, ckpt_shmem_size(l, first), VM_NORESERVE);
}

/* What ckpt_advise() gives a mapping made plain. */
#define CKPT_VMAF_GIVEN		(CKPT_VMAF_ADVICE | CRAK_VMAF_LOCKONFAULT)

/*
 * Whether mapping V has advice this kernel gives, or is locked on fault
 * (it is made first).
 */
static bool ckpt_advised(const struct ckpt_rvma *v)
{
	u32 advice = le32_to_cpu(v->img.flags) & CKPT_VMAF_GIVEN;

	if (!IS_ENABLED(CONFIG_KSM))
		advice &= ~CRAK_VMAF_MERGEABLE;
	return advice;
}

/*
 * Gives the mapping V just made at START..END the advice it had, as
 * madvise(2) would have (but for the khugepaged scan MADV_HUGEPAGE asks,
 * which the mapping's first huge page asks too), and a lock on fault
 * (mlock2(MLOCK_ONFAULT)), counted as mlock(2) counts it (the whole range:
 * ckpt_lock_check() saw it fits), the pages the image has locked as they
 * come in, no other brought in.  Made plain, it may have
 * joined a plain neighbour: mappings with advice are made first, so that
 * it finds none, and one that did is refused rather than advice given to
 * both.
 */
static int ckpt_advise(struct ckpt_rvma *v, unsigned long start, unsigned long end)
{
	u32 advice = le32_to_cpu(v->img.flags) & CKPT_VMAF_GIVEN;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long want;
	unsigned int i;
	int err = 0;

	if (!ckpt_advised(v))
		return 0;
	mmap_write_lock(mm);
	vma = vma_lookup(mm, start);
	if (!vma) {
		err = -EFAULT;
		goto out;
	}
	want = vma->vm_flags;
	for (i = 0; i < ARRAY_SIZE(ckpt_advice); i++)
		if (advice & ckpt_advice[i].img && ckpt_advice[i].vm != VM_MERGEABLE)
			want |= ckpt_advice[i].vm;
	/* (mlock(2) locks no such mapping either.) */
	if (advice & CRAK_VMAF_LOCKONFAULT && !(vma->vm_flags & VM_SPECIAL) && !vma_is_dax(vma))
		want |= VM_LOCKED | VM_LOCKONFAULT;
	if (advice & CRAK_VMAF_MERGEABLE) {
		err = ksm_madvise(vma, start, end, MADV_MERGEABLE, &want);
		if (err)
			goto out;
	}
	if (want == vma->vm_flags)
		goto out;
	if (vma->vm_start != start || vma->vm_end != end) {
		err = -EEXIST;
		goto out;
	}
	if (want & VM_LOCKED && !(vma->vm_flags & VM_LOCKED))
		mm->locked_vm += vma_pages(vma);
	crak_vm_flags_set(vma, want & ~vma->vm_flags);
out:
	mmap_write_unlock(mm);
	return err;
}

static int ckpt_map_one(struct ckpt_layout *l, unsigned int i, const struct ckpt_fill_src *fill)
{
	struct ckpt_rvma *v = &l->vma[i];
	unsigned long start = le64_to_cpu(v->img.start);
	unsigned long len = le64_to_cpu(v->img.end) - start;
	unsigned long off = le64_to_cpu(v->img.pgoff) << PAGE_SHIFT;
	unsigned long prot = le32_to_cpu(v->img.prot);
	unsigned long flags = MAP_FIXED;
	unsigned long got;

	switch (le32_to_cpu(v->img.kind)) {
	case CRAK_VMA_ANON:
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
		if (le32_to_cpu(v->img.flags) & CRAK_VMAF_GROWSDOWN)
			flags |= MAP_GROWSDOWN;
		off = 0;
		break;
	case CRAK_VMA_SHANON:
		v->file = ckpt_shmem(l, i, fill);
		if (IS_ERR(v->file)) {
			long err = PTR_ERR(v->file);

			v->file = NULL;
			return err;
		}
		flags |= MAP_SHARED;
		break;
	case CRAK_VMA_FILE:
		flags |= MAP_PRIVATE;
		break;
	case CRAK_VMA_SHFILE:
		flags |= MAP_SHARED;
		break;
	default:
		return 0;	/* [vdso] and [vvar] are in place */
	}
	/* Locked as mlock(2) locks: counted, limited, every page in (on fault: ckpt_advise()). */
	if ((le32_to_cpu(v->img.flags) & (CRAK_VMAF_LOCKED | CRAK_VMAF_LOCKONFAULT)) ==
	    CRAK_VMAF_LOCKED)
		flags |= MAP_LOCKED;
	got = vm_mmap(v->file, start, len, prot, flags, off);
	if (IS_ERR_VALUE(got))
		return (long)got;
	if (got != start)
		return -EFAULT;
	return ckpt_advise(v, start, start + len);
}

static struct ckpt_rvma *ckpt_find_rvma(struct ckpt_layout *l, unsigned long addr)
{
	unsigned int lo = 0, hi = l->nr, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < le64_to_cpu(l->vma[mid].img.start))
			hi = mid;
		else if (addr >= le64_to_cpu(l->vma[mid].img.end))
			lo = mid + 1;
		else
			return &l->vma[mid];
	}
	return NULL;
}

/* Reads NR pages of shared memory into its file, through a bounce buffer. */
static int ckpt_fill_shmem(struct ckpt_stream *s, struct ckpt_rvma *v, unsigned long addr,
			   u64 nr, void *buf)
{
	loff_t pos = (le64_to_cpu(v->img.pgoff) << PAGE_SHIFT) + addr - le64_to_cpu(v->img.start);
	ssize_t n;
	int err;

	while (nr--) {
		err = ckpt_read_payload(s, buf, PAGE_SIZE);
		if (err)
			return err;
		/* (A memory with its pages: read over.) */
		if (v->filled)
			continue;
		n = kernel_write(v->file, buf, PAGE_SIZE, &pos);
		if (n != PAGE_SIZE)
			return n < 0 ? n : -EIO;
	}
	return 0;
}

/*
 * Reads NR pages into the caller's private mapping at ADDR: from the image
 * S, or (S NULL) from where FILL keeps the pages its SKIP left out.
 */
static int ckpt_fill_private(struct ckpt_stream *s, const struct ckpt_fill_src *fill,
			     unsigned long addr, u64 nr, struct page **pages)
{
	struct mm_struct *mm = current->mm;
	unsigned int n, i;
	long got;
	int err;

	while (nr) {
		n = min_t(u64, nr, CRAK_IMAGE_PAGES_MAX / PAGE_SIZE);
		mmap_read_lock(mm);
		got = crak_gup_remote(mm, addr, n, FOLL_WRITE | FOLL_FORCE, pages);
		mmap_read_unlock(mm);
		if (got < 0)
			return got;
		if (!got)
			err = -EFAULT;
		else if (s)
			err = ckpt_read_pages(s, pages, got);
		else
			err = ckpt_pread_pages(fill->file, fill->base + addr, pages, got);
		for (i = 0; i < got; i++) {
			if (!err)
				set_page_dirty_lock(pages[i]);
			put_page(pages[i]);
		}
		if (err)
			return err;
		addr += got << PAGE_SHIFT;
		nr -= got;
	}
	return 0;
}

/* As many ranges as one CRAK_CKPT_A_SKIP attribute holds. */
#define CKPT_LAZY_MAX	((U16_MAX - NLA_HDRLEN) / sizeof(struct crak_ckpt_range))

/* What a lazy restore leaves missing, named once END checks out. */
struct ckpt_lazy {
	struct crak_ckpt_range *range;	/* by address */
	unsigned int nr;
};

/* Hands what is left missing to R, for RESTORE_WAIT to name once READY. */
static void ckpt_lazy_publish(struct ckpt_restore *r, struct ckpt_lazy *lz)
{
	if (!lz->nr)
		return;
	mutex_lock(&r->lock);
	r->lazy = lz->range;
	r->nr_lazy = lz->nr;
	mutex_unlock(&r->lock);
	lz->range = NULL;
}

/*
 * SKIP: the ranges of the new private mappings whose pages the image left
 * out, read from where FILL keeps them, or (FILL lazy) in anonymous
 * mappings left missing in LZ, as many as one attribute can name.
 */
static int ckpt_fill_skipped(struct ckpt_stream *s, u64 len, struct ckpt_layout *l,
			     const struct ckpt_fill_src *fill, struct ckpt_lazy *lz,
			     struct page **pages, struct netlink_ext_ack *extack)
{
	struct crak_img_range *rv;
	unsigned long start, end, last = 0;
	struct ckpt_rvma *v;
	unsigned long args_lo = round_down(le64_to_cpu(l->mm.arg_start), PAGE_SIZE);
	unsigned long args_hi = round_up(le64_to_cpu(l->mm.env_end), PAGE_SIZE);
	unsigned long lo, hi;
	unsigned int i, n;
	u32 kind;
	int err;

	if (!fill->file) {
		NL_SET_ERR_MSG(extack,
			       "the image leaves out pages a live migration sent ahead: only its receiver can restore it");
		return -EINVAL;
	}
	if (!len || len % sizeof(*rv) || len > CRAK_IMAGE_SECTION_MAX) {
		NL_SET_ERR_MSG(extack, "the image's SKIP section is malformed");
		return -EINVAL;
	}
	n = len / sizeof(*rv);
	rv = kvmalloc(len, GFP_KERNEL_ACCOUNT);
	if (fill->lazy)
		lz->range = kvmalloc_array(min_t(size_t, 2 * n, CKPT_LAZY_MAX),
					   sizeof(*lz->range), GFP_KERNEL_ACCOUNT);
	if (!rv || (fill->lazy && !lz->range)) {
		err = -ENOMEM;
		goto out;
	}
	err = ckpt_read_payload(s, rv, len) ?: ckpt_read_trailer(s, extack);
	if (err) {
		if (err == -ENODATA) {
			NL_SET_ERR_MSG(extack, "the image ends before its END section");
			err = -EINVAL;
		}
		goto out;
	}
	for (i = 0; i < n; i++) {
		start = le64_to_cpu(rv[i].start);
		end = le64_to_cpu(rv[i].end);
		v = ckpt_find_rvma(l, start);
		kind = v ? le32_to_cpu(v->img.kind) : 0;
		if (!PAGE_ALIGNED(start) || !PAGE_ALIGNED(end) || start >= end || start < last ||
		    !v || end > le64_to_cpu(v->img.end) ||
		    (kind != CRAK_VMA_ANON && kind != CRAK_VMA_FILE) ||
		    fill->base + end < fill->base || fill->base + end > MAX_LFS_FILESIZE) {
			NL_SET_ERR_MSG(extack,
				       "a range of pages to skip lies outside the image's private mappings");
			err = -EINVAL;
			goto out;
		}
		last = end;
		/*
		 * Left missing, but for the pages of the arguments and the
		 * environment, which other processes read (/proc/PID/cmdline)
		 * in a way a userfaultfd cannot serve; past what one
		 * attribute names, and locked memory (all in already, where
		 * no userfaultfd would see a page missing), filled now too.
		 */
		if (fill->lazy && kind == CRAK_VMA_ANON && lz->nr + 2 <= CKPT_LAZY_MAX &&
		    !(le32_to_cpu(v->img.flags) & CRAK_VMAF_LOCKED)) {
			lo = clamp(args_lo, start, end);
			hi = clamp(args_hi, lo, end);
			if (start < lo) {
				lz->range[lz->nr].start = start;
				lz->range[lz->nr++].end = lo;
			}
			if (hi < end) {
				lz->range[lz->nr].start = hi;
				lz->range[lz->nr++].end = end;
			}
			start = lo;
			end = hi;
		}
		if (start == end)
			continue;
		err = ckpt_fill_private(NULL, fill, start, (end - start) >> PAGE_SHIFT, pages);
		if (err == -ENODATA) {
			NL_SET_ERR_MSG(extack, "the pages sent ahead are not all there");
			err = -EINVAL;
		}
		if (err)
			goto out;
	}
out:
	kvfree(rv);
	return err;
}

/* Reads SKIP's pages and every PAGES section into the new mappings, then END. */
static int ckpt_fill(struct ckpt_restore *r, struct ckpt_stream *s, struct ckpt_layout *l,
		     const struct ckpt_fill_src *fill, u64 *pages_read,
		     struct netlink_ext_ack *extack)
{
	struct crak_img_pages hdr;
	struct crak_img_end end;
	struct page **pages;
	struct ckpt_rvma *v;
	unsigned long addr, last = 0;
	u64 len, nr, total = 0;
	struct ckpt_lazy lz = {};
	bool skip_seen = false;
	u32 type, seq;
	u64 offset;
	void *bounce;
	int err;

	pages = kvmalloc_array(CRAK_IMAGE_PAGES_MAX / PAGE_SIZE, sizeof(*pages), GFP_KERNEL);
	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!pages || !bounce) {
		err = -ENOMEM;
		goto out;
	}
	if (fill->lazy)
		ckpt_thp_off(r);
	for (;;) {
		seq = s->seq;
		offset = s->offset;
		err = ckpt_read_header(s, &type, &len, extack);
		if (err)
			goto out;
		if (type == CRAK_IMG_END)
			break;
		/* SKIP comes first, or not at all. */
		if (type == CRAK_IMG_SKIP && !skip_seen && !total) {
			skip_seen = true;
			err = ckpt_fill_skipped(s, len, l, fill, &lz, pages, extack);
			if (err)
				goto out;
			continue;
		}
		err = -EINVAL;
		if (type != CRAK_IMG_PAGES || len < sizeof(hdr)) {
			NL_SET_ERR_MSG(extack, "the image has a section out of place in its pages");
			goto out;
		}
		err = ckpt_read_payload(s, &hdr, sizeof(hdr));
		if (err)
			goto io;
		addr = le64_to_cpu(hdr.addr);
		nr = le64_to_cpu(hdr.nr_pages);
		v = ckpt_find_rvma(l, addr);
		if (!nr || len != sizeof(hdr) + nr * PAGE_SIZE || !PAGE_ALIGNED(addr) ||
		    addr < last || !v || addr + nr * PAGE_SIZE > le64_to_cpu(v->img.end)) {
			err = -EINVAL;
			NL_SET_ERR_MSG(extack, "a run of pages lies outside the image's mappings");
			goto out;
		}
		switch (le32_to_cpu(v->img.kind)) {
		case CRAK_VMA_ANON:
		case CRAK_VMA_FILE:
			err = ckpt_fill_private(s, NULL, addr, nr, pages);
			break;
		case CRAK_VMA_SHANON:
			err = ckpt_fill_shmem(s, v, addr, nr, bounce);
			break;
		default:
			err = -EINVAL;
			NL_SET_ERR_MSG(extack, "the image has pages for a mapping that has none");
			goto out;
		}
		if (err)
			goto io;
		err = ckpt_read_trailer(s, extack);
		if (err)
			goto out;
		last = addr + nr * PAGE_SIZE;
		total += nr;
		*pages_read = total;
	}

	err = -EINVAL;
	if (len != ALIGN(sizeof(end), 8)) {
		NL_SET_ERR_MSG(extack, "the image's END section is malformed");
		goto out;
	}
	err = ckpt_read_payload(s, &end, sizeof(end)) ?: ckpt_read_trailer(s, extack);
	if (err)
		goto io;
	if (le32_to_cpu(end.sections) != seq || le64_to_cpu(end.bytes) != offset ||
	    le64_to_cpu(end.pages) != total) {
		err = -EINVAL;
		NL_SET_ERR_MSG(extack, "the image's END does not match what came before it");
		goto out;
	}
	ckpt_lazy_publish(r, &lz);
	goto out;
io:
	if (err == -ENODATA) {
		NL_SET_ERR_MSG(extack, "the image ends before its END section");
		err = -EINVAL;
	} else if (err == -EFAULT) {
		NL_SET_ERR_MSG(extack, "a page of the image could not be placed");
	} else if (!extack->_msg) {
		NL_SET_ERR_MSG(extack, "reading the image's pages failed");
	}
out:
	kvfree(lz.range);
	kfree(bounce);
	kvfree(pages);
	return err;
}

static bool ckpt_mm_ok(const struct crak_img_mm *m)
{
	__le64 v[] = {
		m->start_code, m->end_code, m->start_data, m->end_data, m->start_brk,
		m->brk, m->start_stack, m->arg_start, m->arg_end, m->env_start, m->env_end,
	};
	u32 flags = le32_to_cpu(m->flags);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		if (le64_to_cpu(v[i]) >= TASK_SIZE)
			return false;
	if (flags & ~(CRAK_MM_LOCK_FUTURE | CRAK_MM_LOCK_ONFAULT | CRAK_MM_THP_DISABLE |
		      CRAK_MM_MERGE_ANY) ||
	    (flags & CRAK_MM_LOCK_ONFAULT && !(flags & CRAK_MM_LOCK_FUTURE)))
		return false;
	return le64_to_cpu(m->start_code) <= le64_to_cpu(m->end_code) &&
	       le64_to_cpu(m->start_data) <= le64_to_cpu(m->end_data) &&
	       le64_to_cpu(m->start_brk) <= le64_to_cpu(m->brk) &&
	       le64_to_cpu(m->arg_start) <= le64_to_cpu(m->arg_end) &&
	       le64_to_cpu(m->env_start) <= le64_to_cpu(m->env_end);
}

/*
 * Whether the process may lock the memory the image locks, as mlock(2) and
 * mlockall(2) would let it: the restarter with CAP_IPC_LOCK, or within the
 * RLIMIT_MEMLOCK it restarts with (the image's, set before RESTORE).
 */
static int ckpt_lock_check(const struct ckpt_layout *l, struct netlink_ext_ack *extack)
{
	unsigned long locked = 0, limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned int i;

	if (le32_to_cpu(l->mm.flags) & CRAK_MM_LOCK_FUTURE && !can_do_mlock()) {
		NL_SET_ERR_MSG(extack,
			       "the process locks the memory it maps (mlockall MCL_FUTURE), which RLIMIT_MEMLOCK 0 forbids here");
		return -EPERM;
	}
	for (i = 0; i < l->nr; i++)
		if (le32_to_cpu(l->vma[i].img.flags) & CRAK_VMAF_LOCKED)
			locked += (le64_to_cpu(l->vma[i].img.end) -
				   le64_to_cpu(l->vma[i].img.start)) >> PAGE_SHIFT;
	if (locked > limit && !capable(CAP_IPC_LOCK)) {
		NL_SET_ERR_MSG(extack,
			       "the process's locked memory (mlock) is more than RLIMIT_MEMLOCK lets it lock here");
		return -EPERM;
	}
	return 0;
}

/*
 * KSM merging all the process maps (PR_SET_MEMORY_MERGE) needs a kernel
 * that has it: without, the process's later mappings would not be merged.
 */
static int ckpt_merge_check(const struct ckpt_layout *l, struct netlink_ext_ack *extack)
{
	if (le32_to_cpu(l->mm.flags) & CRAK_MM_MERGE_ANY && !CRAK_HAVE_MERGE_ANY) {
		NL_SET_ERR_MSG(extack,
			       "the process had KSM merge all its memory (PR_SET_MEMORY_MERGE), which this kernel cannot");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * What the image's process asked for the memory it maps from then on, as
 * far as it bears on the mappings the restart makes: transparent huge pages
 * off, or on; KSM's merging of all (ckpt_set_mm()) off until they are made,
 * each taking the image's advice only.
 */
static void ckpt_set_mm_early(const struct crak_img_mm *m)
{
	if (le32_to_cpu(m->flags) & CRAK_MM_THP_DISABLE)
		set_bit(MMF_DISABLE_THP, &current->mm->flags);
	else
		clear_bit(MMF_DISABLE_THP, &current->mm->flags);
	crak_mm_assign_merge_any(current->mm, false);
}

static void ckpt_set_mm(const struct crak_img_mm *m)
{
	struct mm_struct *mm = current->mm;
	u32 flags = le32_to_cpu(m->flags);
	unsigned int i;

	mmap_write_lock(mm);
	/* (Only now: a mapping the restart made was no mapping made later.) */
	mm->def_flags &= ~(VM_LOCKED | VM_LOCKONFAULT);
	if (flags & CRAK_MM_LOCK_FUTURE)
		mm->def_flags |= VM_LOCKED;
	if (flags & CRAK_MM_LOCK_ONFAULT)
		mm->def_flags |= VM_LOCKONFAULT;
	/*
	 * Its mappings came mergeable from the image; mmap(2) makes one
	 * mergeable from now on (and has the mm enter KSM if none is).
	 */
	crak_mm_assign_merge_any(mm, flags & CRAK_MM_MERGE_ANY);
	mm->start_code = le64_to_cpu(m->start_code);
	mm->end_code = le64_to_cpu(m->end_code);
	mm->start_data = le64_to_cpu(m->start_data);
	mm->end_data = le64_to_cpu(m->end_data);
	mm->start_brk = le64_to_cpu(m->start_brk);
	mm->brk = le64_to_cpu(m->brk);
	mm->start_stack = le64_to_cpu(m->start_stack);
	spin_lock(&mm->arg_lock);
	mm->arg_start = le64_to_cpu(m->arg_start);
	mm->arg_end = le64_to_cpu(m->arg_end);
	mm->env_start = le64_to_cpu(m->env_start);
	mm->env_end = le64_to_cpu(m->env_end);
	spin_unlock(&mm->arg_lock);
	for (i = 0; i < ARRAY_SIZE(mm->saved_auxv); i++)
		mm->saved_auxv[i] = i < ARRAY_SIZE(m->auxv) ? le64_to_cpu(m->auxv[i]) : 0;
	/* The vector ends with AT_NULL whatever the image says. */
	mm->saved_auxv[ARRAY_SIZE(mm->saved_auxv) - 2] = AT_NULL;
	mm->saved_auxv[ARRAY_SIZE(mm->saved_auxv) - 1] = 0;
	mmap_write_unlock(mm);
}

/* -- registers ------------------------------------------------------------ */

static const struct user_regset *ckpt_find_regset(const struct user_regset_view *view,
						  unsigned int note)
{
	unsigned int i;

	for (i = 0; i < view->n; i++)
		if (view->regsets[i].core_note_type == note)
			return &view->regsets[i];
	return NULL;
}

static int ckpt_set_regs(struct ckpt_stop *st, const char **why)
{
	struct task_struct *t = st->task;
	struct ckpt_rthread *rt = st->data;
	const struct user_regset_view *view = task_user_regset_view(t);
	const struct user_regset *gpr, *xsr;
	int err;

	gpr = ckpt_find_regset(view, NT_PRSTATUS);
	xsr = ckpt_find_regset(view, NT_X86_XSTATE);
	if (!gpr || !xsr || !gpr->set || !xsr->set) {
		*why = "this kernel cannot set a thread's registers";
		return -EOPNOTSUPP;
	}
	if (rt->xstate_len != xsr->n * xsr->size) {
		*why = "the image's FPU state does not fit this CPU";
		return -EINVAL;
	}
	err = ckpt_stop_access(st);
	if (err) {
		*why = err == -ESRCH ? "a thread was killed" : "a thread did not leave the CPU";
		return err;
	}
	rt->regs.orig_ax = -1;
	err = gpr->set(t, gpr, 0, sizeof(rt->regs), &rt->regs, NULL);
	if (err) {
		*why = "the kernel refuses a thread's registers";
	} else {
		err = xsr->set(t, xsr, 0, rt->xstate_len, rt->xstate, NULL);
		if (err)
			*why = "the kernel refuses a thread's FPU state";
	}
	ckpt_stop_done(st);
	return err;
}

/* The worker: once every thread waits off the CPU, their registers. */
static void ckpt_apply(struct work_struct *work)
{
	struct ckpt_restore *r = container_of(work, struct ckpt_restore, apply);
	const char *why = NULL;
	struct ckpt_stop *st;
	int err;

	err = ckpt_group_wait_parked(&r->group, CKPT_ENROLL_TIMEOUT);
	if (err)
		why = "a thread did not come to be restored";
	if (!err) {
		list_for_each_entry(st, &r->group.threads, node) {
			err = ckpt_set_regs(st, &why);
			if (err)
				break;
		}
	}
	if (err) {
		kill_pid(r->tgid, SIGKILL, 1);
	} else if (r->hold) {
		bool orphaned = false;

		mutex_lock(&r->lock);
		if (r->state == CKPT_R_APPLYING) {
			r->state = CKPT_R_READY;
			orphaned = r->orphaned;
		}
		mutex_unlock(&r->lock);
		wake_up_all(&r->done_wq);
		if (orphaned)
			ckpt_restore_orphan(r);
		ckpt_group_put(&r->group);
		return;
	}
	ckpt_restore_end(r, err, why);
	ckpt_group_put(&r->group);
}

/* -- RESTORE -------------------------------------------------------------- */

static int ckpt_wait_enrolled(struct ckpt_restore *r, u32 nr_threads)
{
	unsigned long deadline = jiffies + CKPT_ENROLL_TIMEOUT;

	for (;;) {
		mutex_lock(&r->lock);
		if (r->group.nr_threads == nr_threads - 1 &&
		    READ_ONCE(current->signal->nr_threads) == nr_threads) {
			mutex_unlock(&r->lock);
			return 0;
		}
		mutex_unlock(&r->lock);
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		if (fatal_signal_pending(current))
			return -EINTR;
		usleep_range(1000, 2000);
	}
}

int ckpt_restore(struct ckpt_restore *r, struct ckpt_stream *s, const void *thread,
		 size_t len, u32 nr_threads, const int *close_fds, unsigned int nr_close,
		 enum ckpt_hold hold, const struct ckpt_fill_src *fill, struct cred *creds,
		 bool no_new_privs, struct ckpt_peers *peers, u64 *pages,
		 struct netlink_ext_ack *extack)
{
	struct ckpt_layout *l;
	struct ckpt_thread_image ti;
	struct ckpt_rthread *rt = NULL;
	bool building = false;
	unsigned int i;
	int err;

	/* The layout is big (the auxiliary vector): not on the stack. */
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l) {
		err = -ENOMEM;
		goto fail_early;
	}
	err = ckpt_thread_parse(thread, len, &ti, extack);
	if (!err && (!nr_threads || nr_threads > PID_MAX_LIMIT)) {
		NL_SET_ERR_MSG(extack, "a process has at least one thread");
		err = -EINVAL;
	}
	rt = err ? NULL : ckpt_rthread_new(&ti);
	if (!err && !rt)
		err = -ENOMEM;
	if (!err) {
		mutex_lock(&r->lock);
		err = ckpt_enroll_check(r, &ti, true, extack);
		if (!err) {
			r->state = CKPT_R_BUILDING;
			building = true;
			r->hold = hold != CKPT_RUN;
			r->hold_kill = hold == CKPT_HOLD_KILL;
			/* The session's from now on: freed with it. */
			r->creds = creds;
			r->no_new_privs = no_new_privs;
			r->peers = peers;
			creds = NULL;
			peers = NULL;
		}
		mutex_unlock(&r->lock);
	}
	if (err)
		goto fail_early;

	/* 1: read and check all that can be before anything changes. */
	err = ckpt_wait_enrolled(r, nr_threads);
	if (err) {
		NL_SET_ERR_MSG(extack, "the process's threads did not all enroll");
		goto fail_early;
	}
	err = ckpt_read_layout(r, s, l, extack);
	if (err)
		goto fail_early;
	if (!ckpt_mm_ok(&l->mm)) {
		err = -EINVAL;
		NL_SET_ERR_MSG(extack, "the image's memory fields are out of range");
		goto fail_early;
	}
	err = ckpt_shmem_check(l, fill, extack) ?: ckpt_lock_check(l, extack) ?:
	      ckpt_merge_check(l, extack);
	if (err)
		goto fail_early;

	/* 2: the point of no return. */
	err = ckpt_unmap_all();
	ckpt_set_mm_early(&l->mm);
	for (i = 0; !err && i < l->nr; i++) {
		if (ckpt_advised(&l->vma[i]))
			err = ckpt_map_one(l, i, fill);
		cond_resched();
	}
	for (i = 0; !err && i < l->nr; i++) {
		if (!ckpt_advised(&l->vma[i]))
			err = ckpt_map_one(l, i, fill);
		cond_resched();
	}
	if (err) {
		if (!extack->_msg)
			NL_SET_ERR_MSG(extack, "the image's mappings could not be made");
		goto fail_late;
	}
	err = ckpt_fill(r, s, l, fill, pages, extack);
	if (err)
		goto fail_late;
	ckpt_set_mm(&l->mm);
	ckpt_layout_free(l);
	for (i = 0; i < nr_close; i++)
		close_fd(close_fds[i]);

	/* 3: the leader waits too, and the worker gives back the registers. */
	mutex_lock(&r->lock);
	err = -ECANCELED;	/* (unless the session ended meanwhile) */
	if (r->state == CKPT_R_BUILDING) {
		r->state = CKPT_R_APPLYING;
		err = ckpt_group_add(&r->group, current, TWA_RESUME, rt);
	}
	mutex_unlock(&r->lock);
	if (err) {
		kfree(rt);
		if (err == -ECANCELED)
			NL_SET_ERR_MSG(extack, "the restore session ended meanwhile");
		else
			NL_SET_ERR_MSG(extack, "the main thread could not wait for its registers");
		goto fail_killed;
	}
	refcount_inc(&r->group.ref);
	INIT_WORK(&r->apply, ckpt_apply);
	queue_work(ckpt_wq, &r->apply);
	return 0;

fail_early:
	if (creds)
		put_cred(creds);
	ckpt_peers_free(peers);
	if (l)
		ckpt_layout_free(l);
	kfree(rt);
	/* (Refused its session, it ends only its own, still open.) */
	ckpt_restore_end_as(r, err, extack->_msg, !building);
	return err;
fail_late:
	ckpt_layout_free(l);
	kfree(rt);
fail_killed:
	kill_pid(r->tgid, SIGKILL, 1);
	ckpt_restore_end(r, err, extack->_msg);
	return err;
}

static bool ckpt_restore_over(struct ckpt_restore *r)
{
	int state = READ_ONCE(r->state);

	return state == CKPT_R_READY || state == CKPT_R_DONE || state == CKPT_R_FAILED;
}

static bool ckpt_pid_alive(struct pid *pid)
{
	struct task_struct *t;
	bool alive;

	rcu_read_lock();
	t = pid_task(pid, PIDTYPE_TGID);
	alive = t && !(t->flags & PF_EXITING);
	rcu_read_unlock();
	return alive;
}

/*
 * Waits until the session is over, or the process NR (the caller's PID for
 * it, 0 for none) ends before its restore got under way.
 */
/* The ranges a lazy RESTORE left missing, once READY (they stay until the end). */
unsigned int ckpt_restore_lazy(struct ckpt_restore *r, const struct crak_ckpt_range **ranges)
{
	unsigned int nr;

	mutex_lock(&r->lock);
	*ranges = r->lazy;
	nr = r->nr_lazy;
	mutex_unlock(&r->lock);
	return nr;
}

/*
 * A RESTORE refused before it began (its credentials, its image, its
 * fill): the session ends saying why, for the restarting crak's
 * RESTORE_WAIT to tell (the process itself only exits).
 */
void ckpt_restore_refuse(struct ckpt_restore *r, int err, const struct netlink_ext_ack *extack)
{
	ckpt_restore_end_as(r, err, extack->_msg, true);
}

int ckpt_restore_wait(struct ckpt_restore *r, pid_t nr, bool *ready, char *msg,
		      struct netlink_ext_ack *extack)
{
	struct pid *pid = nr ? find_get_pid(nr) : NULL;
	long ret;
	int err;

	for (;;) {
		ret = wait_event_killable_timeout(r->done_wq, ckpt_restore_over(r), HZ / 10);
		if (ret < 0) {
			err = -EINTR;
			goto out;
		}
		if (ret > 0)
			break;
		if (pid && !ckpt_pid_alive(pid) && !ckpt_restore_over(r)) {
			NL_SET_ERR_MSG(extack, "the process ended before it was restored");
			err = -ESRCH;
			goto out;
		}
	}
	mutex_lock(&r->lock);
	*ready = r->state == CKPT_R_READY;
	err = r->state == CKPT_R_DONE || *ready ? 0 : r->error ?: -EIO;
	if (err)
		strscpy(msg, r->msg, CKPT_MSG_LEN);
	mutex_unlock(&r->lock);
out:
	put_pid(pid);
	return err;
}
