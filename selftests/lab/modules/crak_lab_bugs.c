// SPDX-License-Identifier: GPL-2.0
/*
 * crak_lab_bugs: one deliberate bug per debug-kernel detector, chosen with
 * bug=, so the lab's self-tests can prove each detector fires and fails the
 * run.  Loaded only by those tests, only on the debug kernel.
 *
 *   bug=uaf      read a freed slab object (KASAN)
 *   bug=lockdep  take two locks in both orders (lockdep)
 *   bug=sleep    a sleeping allocation under a spinlock (DEBUG_ATOMIC_SLEEP)
 *   bug=leak     lose allocations (kmemleak, once they are 5 s old)
 */

#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

static char *bug = "";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "uaf, lockdep, sleep or leak");

static DEFINE_MUTEX(crak_lab_lock_a);
static DEFINE_MUTEX(crak_lab_lock_b);
static DEFINE_SPINLOCK(crak_lab_spin);
static void *crak_lab_lost;

static noinline int crak_lab_uaf(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	kfree(p);
	return READ_ONCE(p[8]) == 0x5a;
}

static noinline void crak_lab_lock_inversion(void)
{
	mutex_lock(&crak_lab_lock_a);
	mutex_lock(&crak_lab_lock_b);
	mutex_unlock(&crak_lab_lock_b);
	mutex_unlock(&crak_lab_lock_a);

	mutex_lock(&crak_lab_lock_b);
	mutex_lock(&crak_lab_lock_a);
	mutex_unlock(&crak_lab_lock_a);
	mutex_unlock(&crak_lab_lock_b);
}

static noinline void crak_lab_atomic_sleep(void)
{
	void *p;

	spin_lock(&crak_lab_spin);
	p = kmalloc(32, GFP_KERNEL);
	spin_unlock(&crak_lab_spin);
	kfree(p);
}

static noinline void crak_lab_leak(void)
{
	int i;

	/*
	 * Forget them: only kmemleak still knows these objects.  Several,
	 * since a stale copy of a pointer on a stack hides its object from
	 * kmemleak.
	 */
	for (i = 0; i < 16; i++)
		WRITE_ONCE(crak_lab_lost, kmalloc(128, GFP_KERNEL));
	WRITE_ONCE(crak_lab_lost, NULL);
}

static int __init crak_lab_bugs_init(void)
{
	if (!strcmp(bug, "uaf"))
		return crak_lab_uaf() < 0 ? -ENOMEM : 0;
	if (!strcmp(bug, "lockdep"))
		crak_lab_lock_inversion();
	else if (!strcmp(bug, "sleep"))
		crak_lab_atomic_sleep();
	else if (!strcmp(bug, "leak"))
		crak_lab_leak();
	else
		return -EINVAL;
	return 0;
}

static void __exit crak_lab_bugs_exit(void)
{
}

module_init(crak_lab_bugs_init);
module_exit(crak_lab_bugs_exit);
MODULE_DESCRIPTION("crak lab self-test: one bug per debug detector");
MODULE_LICENSE("GPL");
