// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: stopping threads without a signal.
 *
 * A thread is stopped by task work.  Queued with TWA_SIGNAL, the work runs
 * where the kernel delivers signals: a sleep the thread was in is
 * interrupted as a signal without a handler would interrupt it, and the call
 * is made again when the thread goes on.  Queued with TWA_RESUME, it runs
 * when the thread next returns to user space.  There the thread waits,
 * killable, until its group is released.  No signal is queued and no
 * job-control stop happens: neither the process nor its parent can tell.
 *
 * A waiting thread whose state is no longer running and which is off the
 * CPU has its user registers saved in the kernel, where the regsets read and
 * write them, as they do for a stopped tracee.  Its task work is its own
 * function: it leaves the module only when it returns, so each queued work
 * holds a reference to the module.
 *
 * Those registers are on the thread's kernel stack, which its exit frees (a
 * reference to the task does not keep it): a thread a fatal signal wakes
 * waits, before it goes on to die, until the owner is done with its
 * registers (ckpt_stop_access() to ckpt_stop_done()), and is not given to
 * the owner again.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "ckpt.h"

static void ckpt_park(struct callback_head *work)
{
	struct ckpt_stop *st = container_of(work, struct ckpt_stop, work);
	struct ckpt_group *g = st->group;

	spin_lock(&g->lock);
	st->parked = true;
	g->nr_parked++;
	spin_unlock(&g->lock);
	wake_up_all(&g->parked_wq);

	/* A fatal signal ends the wait: the thread dies as it would have. */
	if (!wait_event_killable(g->release_wq, READ_ONCE(g->released))) {
		if (g->resume)
			g->resume(st);
	} else {
		spin_lock(&g->lock);
		st->gone = true;
		spin_unlock(&g->lock);
		/* (Uninterruptible, as long as a copy of the registers.) */
		wait_event(g->access_wq, !READ_ONCE(st->busy));
	}

	ckpt_group_put(g);
	module_put(THIS_MODULE);
}

void ckpt_group_init(struct ckpt_group *g, void (*resume)(struct ckpt_stop *st),
		     void (*free)(struct ckpt_group *g))
{
	refcount_set(&g->ref, 1);
	spin_lock_init(&g->lock);
	INIT_LIST_HEAD(&g->threads);
	g->nr_threads = 0;
	g->nr_parked = 0;
	g->released = false;
	init_waitqueue_head(&g->parked_wq);
	init_waitqueue_head(&g->release_wq);
	init_waitqueue_head(&g->access_wq);
	g->resume = resume;
	g->free = free;
}

/* Queues the stopping work on T; NOTIFY is TWA_SIGNAL or TWA_RESUME. */
int ckpt_group_add(struct ckpt_group *g, struct task_struct *t, int notify, void *data)
{
	struct ckpt_stop *st;
	int err;

	/* (Not while the module is being unloaded.) */
	if (!try_module_get(THIS_MODULE))
		return -ENODEV;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st) {
		module_put(THIS_MODULE);
		return -ENOMEM;
	}
	st->group = g;
	st->task = get_task_struct(t);
	st->data = data;
	init_task_work(&st->work, ckpt_park);

	refcount_inc(&g->ref);
	spin_lock(&g->lock);
	list_add_tail(&st->node, &g->threads);
	g->nr_threads++;
	spin_unlock(&g->lock);

	err = task_work_add(t, &st->work, notify);
	if (err) {
		spin_lock(&g->lock);
		list_del(&st->node);
		g->nr_threads--;
		spin_unlock(&g->lock);
		module_put(THIS_MODULE);
		/* The owner's reference keeps the group. */
		refcount_dec(&g->ref);
		put_task_struct(st->task);
		kfree(st);
	}
	return err;
}

bool ckpt_group_has(struct ckpt_group *g, struct task_struct *t)
{
	struct ckpt_stop *st;
	bool found = false;

	spin_lock(&g->lock);
	list_for_each_entry(st, &g->threads, node) {
		if (st->task == t) {
			found = true;
			break;
		}
	}
	spin_unlock(&g->lock);
	return found;
}

static bool ckpt_group_all_parked(struct ckpt_group *g)
{
	bool all;

	spin_lock(&g->lock);
	all = g->nr_parked == g->nr_threads;
	spin_unlock(&g->lock);
	return all;
}

/* 0 once every thread waits, -ETIMEDOUT, or -EINTR for a fatal signal. */
int ckpt_group_wait_parked(struct ckpt_group *g, unsigned long timeout)
{
	long ret;

	ret = wait_event_killable_timeout(g->parked_wq, ckpt_group_all_parked(g), timeout);
	if (ret < 0)
		return -EINTR;
	return ret ? 0 : -ETIMEDOUT;
}

/*
 * Waits until T, which waits in ckpt_park (or its group's owner knows it
 * will sleep until released), is off the CPU with its registers saved.
 */
static int ckpt_wait_inactive(struct task_struct *t)
{
	unsigned long deadline = jiffies + 5 * HZ;

	while (task_is_running(t) || READ_ONCE(t->on_cpu)) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		if (fatal_signal_pending(current))
			return -EINTR;
		usleep_range(20, 100);
	}
	/* What the task saved when it switched out is visible from here. */
	smp_rmb();
	return 0;
}

/*
 * The owner's access to the registers of ST's thread, once it is off the
 * CPU with them saved: 0, or -ESRCH if a fatal signal ended its wait,
 * -ETIMEDOUT or -EINTR.  ckpt_stop_done() ends it.
 */
int ckpt_stop_access(struct ckpt_stop *st)
{
	struct ckpt_group *g = st->group;
	int err;

	spin_lock(&g->lock);
	if (st->gone) {
		spin_unlock(&g->lock);
		return -ESRCH;
	}
	st->busy = true;
	spin_unlock(&g->lock);

	err = ckpt_wait_inactive(st->task);
	if (err)
		ckpt_stop_done(st);
	return err;
}

void ckpt_stop_done(struct ckpt_stop *st)
{
	struct ckpt_group *g = st->group;

	spin_lock(&g->lock);
	st->busy = false;
	spin_unlock(&g->lock);
	wake_up_all(&g->access_wq);
}

void ckpt_group_release(struct ckpt_group *g)
{
	spin_lock(&g->lock);
	g->released = true;
	spin_unlock(&g->lock);
	wake_up_all(&g->release_wq);
}

/* Drops a reference; the last one has the owner free the group. */
void ckpt_group_put(struct ckpt_group *g)
{
	if (refcount_dec_and_test(&g->ref))
		g->free(g);
}

/* For the owner's free(): the threads and their data (kmalloc'ed). */
void ckpt_group_free_threads(struct ckpt_group *g)
{
	struct ckpt_stop *st, *tmp;

	list_for_each_entry_safe(st, tmp, &g->threads, node) {
		put_task_struct(st->task);
		kfree(st->data);
		kfree(st);
	}
	INIT_LIST_HEAD(&g->threads);
}
