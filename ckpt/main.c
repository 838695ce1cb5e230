// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: checkpoint a process to an image and restart it from one.
 *
 * This file holds the module and the checkpoint sessions: FREEZE finds the
 * process, checks the caller's rights over it, and stops its threads (see
 * stop.c); the session's descriptor then names the stopped process until
 * RELEASE or its close lets it run on, or kills it.  A process is touched
 * only while a session holds it: the module keeps nothing about any other.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "crak_compat.h"
#include "ckpt.h"

static void ckpt_freeze_free(struct ckpt_group *g)
{
	struct ckpt_freeze *fz = container_of(g, struct ckpt_freeze, group);

	ckpt_group_free_threads(g);
	ckpt_freeze_free_memory(fz);
	mmput(fz->mm);
	put_pid(fz->tgid);
	put_task_struct(fz->leader);
	kfree(fz);
}

static int ckpt_freeze_release(struct inode *inode, struct file *file)
{
	struct ckpt_freeze *fz = file->private_data;

	/* Unless it was killed, the process runs on. */
	ckpt_group_release(&fz->group);
	ckpt_group_put(&fz->group);
	return 0;
}

static const struct file_operations ckpt_freeze_fops = {
	.owner		= THIS_MODULE,
	.release	= ckpt_freeze_release,
	.llseek		= noop_llseek,
};

struct ckpt_freeze *ckpt_freeze_of(struct file *file)
{
	return file->f_op == &ckpt_freeze_fops ? file->private_data : NULL;
}

/*
 * The caller proves it may look inside TASK with a descriptor of
 * /proc/PID/mem: opening one takes what a ptrace attach takes
 * (PTRACE_MODE_ATTACH), and the open file holds the memory it was opened on.
 */
static int ckpt_check_mem_fd(struct file *f, struct mm_struct *mm)
{
	const struct dentry *d = f->f_path.dentry;

	if (file_inode(f)->i_sb->s_magic != PROC_SUPER_MAGIC ||
	    strcmp(d->d_name.name, "mem") || f->private_data != mm ||
	    !(f->f_mode & FMODE_READ))
		return -EPERM;
	return 0;
}

static bool ckpt_may_checkpoint(const struct sk_buff *skb, struct task_struct *task)
{
	struct user_namespace *ns;
	bool ok;

	rcu_read_lock();
	ns = get_user_ns(__task_cred(task)->user_ns);
	rcu_read_unlock();
	ok = ckpt_capable(skb, ns);
	put_user_ns(ns);
	return ok;
}

/*
 * Why TASK cannot be stopped as it is, or NULL; WHOLE: every thread of it,
 * for a dump (a given file's task work runs on its main thread alone).
 */
static const char *ckpt_unstoppable(struct task_struct *leader, bool whole)
{
	struct task_struct *t;
	const char *why = NULL;

	rcu_read_lock();
	for_each_thread(leader, t) {
		if (t->ptrace)
			why = "the process is being traced";
		else if (task_is_stopped_or_traced(t))
			why = "the process is stopped (SIGSTOP); continue it first";
		/* (Their registers begin nowhere: a restart could not run them.) */
		else if (whole && (t->flags & (PF_IO_WORKER | CRAK_PF_USER_WORKER)))
			why = "the process has kernel worker threads (io_uring, vhost): not taken";
		if (why)
			break;
	}
	rcu_read_unlock();
	return why;
}

/* Queues the stopping work on every live thread not yet in the group. */
static int ckpt_stop_new_threads(struct ckpt_freeze *fz, unsigned int *added)
{
	struct task_struct **found, *t;
	unsigned int n = 0, max, i;
	int err = 0;

	*added = 0;
	max = READ_ONCE(fz->leader->signal->nr_threads) + 16;
	found = kvcalloc(max, sizeof(*found), GFP_KERNEL);
	if (!found)
		return -ENOMEM;
	rcu_read_lock();
	for_each_thread(fz->leader, t) {
		if (n == max)
			break;
		if (t->flags & PF_EXITING)
			continue;
		found[n++] = get_task_struct(t);
	}
	rcu_read_unlock();

	for (i = 0; i < n; i++) {
		if (!err && !ckpt_group_has(&fz->group, found[i])) {
			err = ckpt_group_add(&fz->group, found[i], TWA_SIGNAL, NULL);
			/* A thread that is exiting already is no loss. */
			if (err == -ESRCH && found[i] != fz->leader)
				err = 0;
			else if (!err)
				(*added)++;
		}
		put_task_struct(found[i]);
	}
	kvfree(found);
	/* A full array may have missed threads: the caller asks again. */
	if (!err && n == max && !*added)
		*added = 1;
	return err;
}

static int ckpt_stop_all(struct ckpt_freeze *fz, unsigned long timeout,
			 struct netlink_ext_ack *extack)
{
	unsigned long deadline = jiffies + timeout;
	unsigned int added;
	const char *why;
	int err;

	do {
		err = ckpt_stop_new_threads(fz, &added);
		if (err == -ESRCH) {
			NL_SET_ERR_MSG(extack, "the process is exiting");
			return err;
		}
		if (err)
			return err;
		err = ckpt_group_wait_parked(&fz->group,
					     max_t(long, deadline - jiffies, 1));
		if (err == -ETIMEDOUT) {
			NL_SET_ERR_MSG(extack,
				       "a thread did not stop in time (in an uninterruptible sleep?)");
			return err;
		}
		if (err)
			return err;
	} while (added);
	if (fz->leader->flags & PF_EXITING) {
		NL_SET_ERR_MSG(extack, "the process is exiting");
		return -ESRCH;
	}
	/* (A tracer, or a kernel worker thread, that came meanwhile.) */
	why = ckpt_unstoppable(fz->leader, true);
	if (why) {
		extack->_msg = why;
		return -EBUSY;
	}
	/*
	 * An exec meanwhile made another program of it, whose rights and
	 * memory are not those checked (or took its main thread's place).
	 */
	if (READ_ONCE(fz->leader->mm) != fz->mm) {
		NL_SET_ERR_MSG(extack, "the process started another program meanwhile");
		return -EBUSY;
	}
	return 0;
}

/*
 * The process NR (the caller's PID for it), held, with its memory (mmget),
 * if the caller may look inside it: MEM_FD is its /proc/PID/mem.
 */
static struct task_struct *ckpt_target(const struct sk_buff *skb, pid_t nr, int mem_fd,
				       struct mm_struct **mmp, struct netlink_ext_ack *extack)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct file *mem;
	struct pid *pid;
	int err;

	pid = find_get_pid(nr);
	task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	if (!task) {
		NL_SET_ERR_MSG(extack, "no such process");
		return ERR_PTR(-ESRCH);
	}
	err = -EINVAL;
	if (task->flags & PF_KTHREAD) {
		NL_SET_ERR_MSG(extack, "a kernel thread cannot be checkpointed");
		goto fail;
	}
	if (!thread_group_leader(task)) {
		NL_SET_ERR_MSG(extack, "that is a thread: give the process's PID");
		goto fail;
	}
	if (same_thread_group(task, current)) {
		NL_SET_ERR_MSG(extack, "a process cannot do that to itself");
		goto fail;
	}
	mm = (task->flags & PF_EXITING) ? NULL : get_task_mm(task);
	if (!mm) {
		err = -ESRCH;
		NL_SET_ERR_MSG(extack, "the process is exiting");
		goto fail;
	}
	err = -EPERM;
	mem = fget(mem_fd);
	if (!mem || ckpt_check_mem_fd(mem, mm)) {
		NL_SET_ERR_MSG(extack, "the memory descriptor is not this process's /proc/PID/mem");
		goto fail_mm;
	}
	fput(mem);
	mem = NULL;
	if (!ckpt_may_checkpoint(skb, task)) {
		NL_SET_ERR_MSG(extack,
			       "checkpointing needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN");
		goto fail_mm;
	}
	*mmp = mm;
	return task;
fail_mm:
	if (mem)
		fput(mem);
	mmput(mm);
fail:
	put_task_struct(task);
	return ERR_PTR(err);
}

int ckpt_freeze(const struct sk_buff *skb, pid_t nr, int mem_fd, unsigned int timeout_ms,
		int *fdp, unsigned int *nr_threads, struct netlink_ext_ack *extack)
{
	struct task_struct *task;
	struct ckpt_freeze *fz;
	struct mm_struct *mm;
	struct file *file;
	const char *why;
	int fd, err;

	task = ckpt_target(skb, nr, mem_fd, &mm, extack);
	if (IS_ERR(task))
		return PTR_ERR(task);
	why = ckpt_unstoppable(task, true);
	if (why) {
		err = -EBUSY;
		extack->_msg = why;
		goto out_mm;
	}
	if (ckpt_mm_filling(mm)) {
		err = -EAGAIN;
		NL_SET_ERR_MSG(extack, CKPT_MSG_FILLING);
		goto out_mm;
	}

	err = -ENOMEM;
	fz = kzalloc(sizeof(*fz), GFP_KERNEL);
	if (!fz)
		goto out_mm;
	ckpt_group_init(&fz->group, ckpt_freeze_resume, ckpt_freeze_free);
	mutex_init(&fz->lock);
	fz->leader = task;
	fz->tgid = get_task_pid(task, PIDTYPE_TGID);
	fz->mm = mm;

	err = ckpt_stop_all(fz, msecs_to_jiffies(timeout_ms), extack);
	if (err)
		goto out_fz;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto out_fz;
	}
	file = anon_inode_getfile("[crak-ckpt]", &ckpt_freeze_fops, fz, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		err = PTR_ERR(file);
		goto out_fz;
	}
	*nr_threads = fz->group.nr_threads;
	fd_install(fd, file);
	*fdp = fd;
	return 0;

out_fz:
	/* The group owns the task and the memory now. */
	ckpt_group_release(&fz->group);
	ckpt_group_put(&fz->group);
	return err;
out_mm:
	mmput(mm);
	put_task_struct(task);
	return err;
}

/* INSTALL: a file given to a process, taken by its main thread. */
struct ckpt_install {
	struct ckpt_group group;	/* first: freed with it */
	struct file *file;
	int fd;				/* the process's, or an errno */
	u64 exec_id;			/* its program's when asked */
	atomic_t state;			/* CKPT_INSTALL_* */
	struct completion done;
};

enum {
	CKPT_INSTALL_PENDING,
	CKPT_INSTALL_TAKEN,		/* the thread has it (or is taking it) */
	CKPT_INSTALL_CANCELLED,		/* the caller gave up: the thread must not */
};

static void ckpt_install_free(struct ckpt_group *g)
{
	struct ckpt_install *in = container_of(g, struct ckpt_install, group);

	ckpt_group_free_threads(g);
	fput(in->file);
	kfree(in);
}

/* In the process's main thread, once released: the new descriptor. */
static void ckpt_install_take(struct ckpt_stop *st)
{
	struct ckpt_install *in = container_of(st->group, struct ckpt_install, group);
	int fd;

	ckpt_freeze_resume(st);
	if (atomic_cmpxchg(&in->state, CKPT_INSTALL_PENDING, CKPT_INSTALL_TAKEN) !=
	    CKPT_INSTALL_PENDING)
		return;
	/*
	 * Not in a process that exec'd meanwhile (its rights were checked
	 * for the program before), nor in a dying thread: from its exit (its
	 * files are gone), or killed by another thread's exec (whose program
	 * would get the descriptor).
	 */
	if ((current->flags & PF_EXITING) || fatal_signal_pending(current))
		fd = -ESRCH;
	else if (READ_ONCE(current->self_exec_id) != in->exec_id)
		fd = -EBUSY;
	else
		fd = get_unused_fd_flags(0);
	if (fd >= 0)
		fd_install(fd, get_file(in->file));
	in->fd = fd;
	/* For the caller's wait, and its second one if the first timed out. */
	complete_all(&in->done);
}

int ckpt_install(const struct sk_buff *skb, pid_t nr, int mem_fd, int file_fd, int *new_fd,
		 struct netlink_ext_ack *extack)
{
	struct ckpt_install *in;
	struct task_struct *task;
	struct mm_struct *mm;
	const char *why;
	u64 exec_id;
	int err;

	task = ckpt_target(skb, nr, mem_fd, &mm, extack);
	if (IS_ERR(task))
		return PTR_ERR(task);
	/*
	 * The program whose memory descriptor was checked: an exec changes
	 * the memory first, then its count (so that one before the mm is read
	 * again is seen here, and one after by the thread).
	 */
	exec_id = READ_ONCE(task->self_exec_id);
	/* The count before the memory, as the exec writes them the other way. */
	smp_rmb();
	err = READ_ONCE(task->mm) != mm ? -EBUSY : 0;
	mmput(mm);
	if (err) {
		NL_SET_ERR_MSG(extack, "the process started another program meanwhile");
		goto out_task;
	}
	why = ckpt_unstoppable(task, false);
	err = -EBUSY;
	if (why) {
		extack->_msg = why;
		goto out_task;
	}
	err = -ENOMEM;
	in = kzalloc(sizeof(*in), GFP_KERNEL);
	if (!in)
		goto out_task;
	in->file = fget(file_fd);
	if (!in->file) {
		kfree(in);
		err = -EBADF;
		NL_SET_ERR_MSG(extack, "no such descriptor to give");
		goto out_task;
	}
	init_completion(&in->done);
	in->exec_id = exec_id;
	atomic_set(&in->state, CKPT_INSTALL_PENDING);
	/* Released at once: the thread takes the file when the work runs. */
	ckpt_group_init(&in->group, ckpt_install_take, ckpt_install_free);
	ckpt_group_release(&in->group);
	err = ckpt_group_add(&in->group, task, TWA_SIGNAL, NULL);
	if (err) {
		NL_SET_ERR_MSG(extack, "the process is exiting");
		goto out_in;
	}
	if (wait_for_completion_killable_timeout(&in->done, 10 * HZ) <= 0 &&
	    atomic_cmpxchg(&in->state, CKPT_INSTALL_PENDING, CKPT_INSTALL_CANCELLED) ==
	    CKPT_INSTALL_PENDING) {
		err = fatal_signal_pending(current) ? -EINTR : -ETIMEDOUT;
		NL_SET_ERR_MSG(extack, "the process did not take the descriptor in time");
		goto out_in;
	}
	/* Taken, or being taken: it is the process's now. */
	wait_for_completion(&in->done);
	if (in->fd == -ESRCH) {
		err = in->fd;
		NL_SET_ERR_MSG(extack, "the process is exiting");
	} else if (in->fd == -EBUSY) {
		err = in->fd;
		NL_SET_ERR_MSG(extack, "the process started another program meanwhile");
	} else if (in->fd < 0) {
		err = in->fd;
		NL_SET_ERR_MSG(extack, "the process has no descriptor free");
	} else {
		*new_fd = in->fd;
		err = 0;
	}
out_in:
	ckpt_group_put(&in->group);
out_task:
	put_task_struct(task);
	return err;
}

/* RELEASE: the process runs on, or dies (KILL); the session stays open. */
int ckpt_freeze_end(struct ckpt_freeze *fz, bool kill)
{
	mutex_lock(&fz->lock);
	if (kill && !fz->killed) {
		fz->killed = true;
		kill_pid(fz->tgid, SIGKILL, 1);
	}
	ckpt_group_release(&fz->group);
	mutex_unlock(&fz->lock);
	return 0;
}

/* A restore's worker (ckpt_apply), drained before the module goes. */
struct workqueue_struct *ckpt_wq;

static int __init ckpt_init(void)
{
	int err;

	ckpt_wq = alloc_workqueue("crak_ckpt", WQ_UNBOUND, 0);
	if (!ckpt_wq)
		return -ENOMEM;
	err = ckpt_genl_init();
	if (err)
		destroy_workqueue(ckpt_wq);
	return err;
}

static void __exit ckpt_exit(void)
{
	ckpt_genl_exit();
	destroy_workqueue(ckpt_wq);
}

module_init(ckpt_init);
module_exit(ckpt_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("crak: checkpoint a process to an image and restart it from one");
MODULE_ALIAS_GENL_FAMILY(CRAK_CKPT_FAMILY_NAME);
