// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: what only the kernel can read of a stopped process.
 *
 * The task part: the signal handlers, each thread's registers (through the
 * regsets, as ptrace reads a stopped tracee's), signal mask, alternate
 * stack, rseq area, futex addresses and pending signals, and the signals
 * pending for the whole process.
 *
 * The memory part: the memory's own fields (code, data, brk, stack,
 * arguments, environment, auxiliary vector), every mapping, and the pages
 * that hold what no file holds: anonymous pages that were ever touched,
 * pages of private file mappings that were written (now anonymous), and
 * shared anonymous memory.  Pages are found and pinned with GUP under the
 * mmap lock, a batch at a time, and written with the lock dropped; a
 * never-touched anonymous range (no anon_vma) costs nothing, and FOLL_DUMP
 * leaves holes unread instead of filling them.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/posix-timers.h>
#include <linux/regset.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>
#include <linux/futex.h>
#include <linux/elf.h>
#include <asm/unistd.h>
#include <asm/user.h>
#include <net/netlink.h>

#include "crak_compat.h"
#include "ckpt.h"

/* Pages pinned at a time, and at most in one PAGES section. */
#define CKPT_BATCH_PAGES	(CRAK_IMAGE_PAGES_MAX / PAGE_SIZE)

/* -- signals -------------------------------------------------------------- */

static struct sighand_struct *__ckpt_lock_sighand(struct task_struct *t)
{
	struct sighand_struct *sh;

	rcu_read_lock();
	for (;;) {
		sh = rcu_dereference(t->sighand);
		if (!sh)
			break;
		spin_lock_irq(&sh->siglock);
		if (likely(sh == rcu_access_pointer(t->sighand))) {
			/* Held on return: ckpt_lock_sighand() tells sparse so. */
			__release(&sh->siglock);
			break;
		}
		spin_unlock_irq(&sh->siglock);
	}
	rcu_read_unlock();
	return sh;
}

/*
 * The task's sighand, locked (spin_unlock_irq() it), or NULL once the task
 * has exited: lock_task_sighand(), which modules cannot call.
 */
#define ckpt_lock_sighand(t)							\
({										\
	struct task_struct *__t = (t);						\
	struct sighand_struct *__sh;						\
										\
	__cond_lock(&__t->sighand->siglock, (__sh = __ckpt_lock_sighand(__t)));	\
	__sh;									\
})

static int ckpt_dump_sigactions(struct ckpt_freeze *fz, struct ckpt_stream *s)
{
	struct crak_img_sigaction *sa;
	struct sighand_struct *sh;
	const struct sigaction *k;
	int i, err;

	sa = kcalloc(_NSIG, sizeof(*sa), GFP_KERNEL);
	if (!sa)
		return -ENOMEM;
	sh = ckpt_lock_sighand(fz->leader);
	if (!sh) {
		kfree(sa);
		return -ESRCH;
	}
	for (i = 0; i < _NSIG; i++) {
		k = &sh->action[i].sa;
		sa[i].handler = cpu_to_le64((unsigned long)k->sa_handler);
		sa[i].flags = cpu_to_le64(k->sa_flags);
		sa[i].restorer = cpu_to_le64((unsigned long)k->sa_restorer);
		sa[i].mask = cpu_to_le64(k->sa_mask.sig[0]);
	}
	spin_unlock_irq(&sh->siglock);

	err = ckpt_write_section(s, CRAK_IMG_SIGACTIONS, sa, _NSIG * sizeof(*sa));
	kfree(sa);
	return err;
}

/*
 * The signals of PENDING as rt_sigqueueinfo(2) would queue them again: each
 * queued one with its siginfo, and one of each signal that is pending
 * without an entry (the kernel could not allocate one) as from the kernel.
 * Returns the count, or -ENOSPC if MAX are not enough.
 */
static int ckpt_collect_pending(struct task_struct *t, bool shared,
				struct crak_img_siginfo *out, int max)
{
	struct sigpending *pending;
	struct sighand_struct *sh;
	struct sigqueue *q;
	sigset_t listed;
	siginfo_t *info;
	int n = 0, sig;

	sigemptyset(&listed);
	sh = ckpt_lock_sighand(t);
	if (!sh)
		return 0;
	pending = shared ? &t->signal->shared_pending : &t->pending;
	list_for_each_entry(q, &pending->list, list) {
		sigaddset(&listed, q->info.si_signo);
		/* A POSIX timer's own: its timer's record says it (TIMERS). */
		if (q->flags & SIGQUEUE_PREALLOC)
			continue;
		if (n == max)
			goto full;
		info = (siginfo_t *)out[n++].bytes;
		memset(info, 0, sizeof(*info));
		copy_siginfo_to_external(info, &q->info);
	}
	for (sig = 1; sig <= _NSIG; sig++) {
		if (!sigismember(&pending->signal, sig) || sigismember(&listed, sig))
			continue;
		if (n == max)
			goto full;
		info = (siginfo_t *)out[n++].bytes;
		memset(info, 0, sizeof(*info));
		info->si_signo = sig;
		info->si_code = SI_KERNEL;
	}
	spin_unlock_irq(&sh->siglock);
	return n;
full:
	spin_unlock_irq(&sh->siglock);
	return -ENOSPC;
}

/* Pending signals into a new array (kvfree it); *NR is their count. */
static struct crak_img_siginfo *ckpt_pending(struct task_struct *t, bool shared, int *nr)
{
	struct crak_img_siginfo *out;
	int max = 64;

	for (;;) {
		out = kvcalloc(max, sizeof(*out), GFP_KERNEL);
		if (!out)
			return ERR_PTR(-ENOMEM);
		*nr = ckpt_collect_pending(t, shared, out, max);
		if (*nr != -ENOSPC)
			return out;
		kvfree(out);
		if (max >= (1 << 20))
			return ERR_PTR(-E2BIG);
		max *= 4;
	}
}

/* ITIMER_REAL's time left and interval, zero if it is off (or T exited). */
static void ckpt_itimer_real(struct task_struct *t, ktime_t *left, ktime_t *incr)
{
	struct sighand_struct *sh;

	sh = ckpt_lock_sighand(t);
	if (!sh)
		return;
	if (hrtimer_active(&t->signal->real_timer)) {
		*left = __hrtimer_get_remaining(&t->signal->real_timer, false);
		/* Due but not yet fired: it fires at once after a restart. */
		if (*left <= 0)
			*left = 1;
		*incr = t->signal->it_real_incr;
	}
	spin_unlock_irq(&sh->siglock);
}

/* CPU time left on an armed CPU interval timer, at least 1 ns (due: fires). */
static __le64 ckpt_cpu_left(u64 expires, u64 now)
{
	return cpu_to_le64(expires > now ? expires - now : 1);
}

/*
 * ITIMER_VIRTUAL and ITIMER_PROF.  Their expiry is a point in the process's
 * CPU time; while one is armed the group's CPU time runs in the cputimer
 * (arming it started that), the same sample the kernel's own expiry checks
 * use: user time for VIRTUAL, user + system for PROF.
 */
static void ckpt_itimers_cpu(struct task_struct *t, struct crak_img_cpu_itimers *it)
{
	struct signal_struct *sig = t->signal;
	struct task_cputime_atomic *clock;
	struct sighand_struct *sh;
	u64 utime, stime;

	sh = ckpt_lock_sighand(t);
	if (!sh)
		return;
	clock = &sig->cputimer.cputime_atomic;
	utime = atomic64_read(&clock->utime);
	stime = atomic64_read(&clock->stime);
	if (sig->it[CPUCLOCK_VIRT].expires) {
		it->virt_value = ckpt_cpu_left(sig->it[CPUCLOCK_VIRT].expires, utime);
		it->virt_interval = cpu_to_le64(sig->it[CPUCLOCK_VIRT].incr);
	}
	if (sig->it[CPUCLOCK_PROF].expires) {
		it->prof_value = ckpt_cpu_left(sig->it[CPUCLOCK_PROF].expires, utime + stime);
		it->prof_interval = cpu_to_le64(sig->it[CPUCLOCK_PROF].incr);
	}
	spin_unlock_irq(&sh->siglock);
}

/* -- POSIX timers --------------------------------------------------------- */

/* The clocks whose timers and sleeps are hrtimers: a restart arms those again. */
static bool ckpt_timer_clock_ok(clockid_t clock)
{
	return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC ||
	       clock == CLOCK_BOOTTIME || clock == CLOCK_TAI;
}

/*
 * A timer on T's process-wide CPU clock (CLOCK_PROCESS_CPUTIME_ID, or
 * clock_getcpuclockid() of itself), which a restart arms again on the same
 * clock of the new process.  Not one on a thread's clock (a restart makes
 * timers in one thread) or another process's, nor a SIGEV_NONE one: arming
 * that does not start the group's cputimer, which the time left is read
 * from.
 */
static bool ckpt_timer_cpu_ok(struct task_struct *t, struct k_itimer *timr)
{
	clockid_t clock = timr->it_clock;

	return clock < 0 && !CPUCLOCK_PERTHREAD(clock) && CPUCLOCK_WHICH(clock) < CPUCLOCK_MAX &&
	       timr->it.cpu.pid == task_tgid(t) &&
	       READ_ONCE(timr->it_sigev_notify) != SIGEV_NONE;
}

/*
 * What is left of a timer on the process's CPU clock, in the clock's own
 * time (user + system, user, or scheduler time): its expiry against the
 * group's cputimer, the sample the kernel's own expiry checks use while the
 * timer is armed.  0 if disarmed, 1 ns if due, queued or firing.
 */
static u64 ckpt_cpu_timer_left(struct task_struct *t, struct k_itimer *timr, bool queued)
{
	struct task_cputime_atomic *clock = &t->signal->cputimer.cputime_atomic;
	u64 expires = cpu_timer_getexpires(&timr->it.cpu), now;

	if (queued || timr->it.cpu.firing)
		return 1;
	if (!expires)
		return 0;
	switch (CPUCLOCK_WHICH(timr->it_clock)) {
	case CPUCLOCK_PROF:
		now = atomic64_read(&clock->utime) + atomic64_read(&clock->stime);
		break;
	case CPUCLOCK_VIRT:
		now = atomic64_read(&clock->utime);
		break;
	default:
		now = atomic64_read(&clock->sum_exec_runtime);
		break;
	}
	return expires > now ? expires - now : 1;
}

/*
 * What is left of a timer, as timer_gettime(2) would tell it: 0 when it is
 * disarmed (or a one-shot that fired), 1 ns when it is due.  A timer whose
 * signal is queued (its own, preallocated: the pending signals leave it
 * out) or about to be is due too: after a restart it fires at once and
 * queues it again, and an interval timer then waits for it to be taken.
 */
static u64 ckpt_timer_left(struct k_itimer *timr, bool queued)
{
	struct hrtimer *timer = &timr->it.real.timer;
	bool none = READ_ONCE(timr->it_sigev_notify) == SIGEV_NONE;
	ktime_t iv = READ_ONCE(timr->it_interval), now, left;
	u64 late;

	/* Queued, or firing now (it queues once the siglock is free). */
	if (queued || hrtimer_callback_running(timer))
		return 1;
	/* A SIGEV_NONE timer is never started: its expiry alone tells. */
	if (!iv && !READ_ONCE(timr->it_active) && !none)
		return 0;
	now = READ_ONCE(timer->base)->get_time();
	left = ktime_sub(hrtimer_get_expires(timer), now);
	if (left <= 0 && iv && none) {
		div64_u64_rem(-left, iv, &late);
		left = iv - late;
	}
	if (left <= 0)
		return none ? 0 : 1;
	return left;
}

/*
 * The process's POSIX timers into OUT, MAX at most (the group is stopped:
 * none comes or goes but by its exit, which takes them under the siglock).
 * Returns their count, -ENOSPC if MAX are not enough, -EOPNOTSUPP for a
 * timer on a clock a restart could not arm again (an alarm clock, a thread's
 * or another process's CPU clock), -ESRCH for one aimed at
 * a thread that is gone.
 */
static int ckpt_collect_timers(struct task_struct *t, struct crak_img_posix_timer *out,
			       int max)
{
	struct crak_img_posix_timer *pt;
	struct sighand_struct *sh;
	struct k_itimer *timr;
	int n = 0, err = 0;
	bool queued, cpu;

	sh = ckpt_lock_sighand(t);
	if (!sh)
		return 0;
	crak_for_each_posix_timer(timr, t->signal) {
		cpu = ckpt_timer_cpu_ok(t, timr);
		if (!cpu && !ckpt_timer_clock_ok(timr->it_clock)) {
			err = -EOPNOTSUPP;
			break;
		}
		if (n == max) {
			err = -ENOSPC;
			break;
		}
		pt = &out[n++];
		pt->id = cpu_to_le32(timr->it_id);
		pt->clock = cpu_to_le32(timr->it_clock);
		pt->notify = cpu_to_le32(timr->it_sigev_notify);
		pt->signo = cpu_to_le32(timr->sigq->info.si_signo);
		pt->sigval = cpu_to_le64((unsigned long)timr->sigq->info.si_value.sival_ptr);
		if (timr->it_sigev_notify & SIGEV_THREAD_ID) {
			rcu_read_lock();
			if (!pid_task(timr->it_pid, PIDTYPE_PID))
				err = -ESRCH;
			rcu_read_unlock();
			if (err)
				break;
			pt->tid = cpu_to_le32(pid_vnr(timr->it_pid));
		}
		queued = !list_empty(&timr->sigq->list);
		if (queued)
			pt->flags = cpu_to_le32(CRAK_PTIMER_QUEUED);
		pt->value = cpu_to_le64(cpu ? ckpt_cpu_timer_left(t, timr, queued) :
					      ckpt_timer_left(timr, queued));
		if (pt->value)
			pt->interval = cpu_to_le64(ktime_to_ns(READ_ONCE(timr->it_interval)));
	}
	spin_unlock_irq(&sh->siglock);
	return err ?: n;
}

/* As many timers as a TIMERS section holds. */
#define CKPT_TIMERS_MAX	((int)(CRAK_IMAGE_SECTION_MAX / sizeof(struct crak_img_posix_timer)))

/* The POSIX timers into a new array (kvfree it); *NR is their count. */
static struct crak_img_posix_timer *ckpt_timers(struct task_struct *t, int *nr)
{
	struct crak_img_posix_timer *out;
	int max = 16;

	for (;;) {
		out = kvcalloc(max, sizeof(*out), GFP_KERNEL);
		if (!out)
			return ERR_PTR(-ENOMEM);
		*nr = ckpt_collect_timers(t, out, max);
		if (*nr >= 0)
			return out;
		kvfree(out);
		if (*nr != -ENOSPC)
			return ERR_PTR(*nr);
		if (max == CKPT_TIMERS_MAX)
			return ERR_PTR(-E2BIG);
		max = min_t(int, max * 4, CKPT_TIMERS_MAX);
	}
}

static int ckpt_dump_signal(struct ckpt_freeze *fz, struct ckpt_stream *s,
			    struct netlink_ext_ack *extack)
{
	struct task_struct *t = fz->leader;
	struct crak_img_cpu_itimers cpu = {};
	struct crak_img_posix_timer *timers;
	struct crak_img_signal sig = {};
	struct crak_img_siginfo *pending;
	ktime_t left = 0, incr = 0;
	int nr, nr_timers, err;

	timers = ckpt_timers(t, &nr_timers);
	if (IS_ERR(timers)) {
		err = PTR_ERR(timers);
		if (err == -EOPNOTSUPP)
			NL_SET_ERR_MSG(extack,
				       "a POSIX timer on an alarm or thread's CPU clock: not yet");
		else if (err == -ESRCH)
			NL_SET_ERR_MSG(extack, "a POSIX timer aims at a thread that has exited");
		else if (err == -E2BIG)
			NL_SET_ERR_MSG(extack, "more POSIX timers than an image holds");
		return err;
	}
	pending = ckpt_pending(t, true, &nr);
	if (IS_ERR(pending)) {
		kvfree(timers);
		return PTR_ERR(pending);
	}

	ckpt_itimer_real(t, &left, &incr);
	ckpt_itimers_cpu(t, &cpu);
	/* (As much as a restore takes.) */
	if (sizeof(sig) + nr * sizeof(*pending) + sizeof(cpu) > CRAK_IMAGE_SECTION_MAX) {
		NL_SET_ERR_MSG(extack, "more signals pending than an image holds");
		kvfree(pending);
		kvfree(timers);
		return -E2BIG;
	}
	sig.nr_pending = cpu_to_le32(nr);
	sig.nr_timers = cpu_to_le32(nr_timers);
	sig.itimer_real_value = cpu_to_le64(ktime_to_ns(left));
	sig.itimer_real_interval = cpu_to_le64(ktime_to_ns(incr));

	err = ckpt_begin_section(s, CRAK_IMG_SIGNAL,
				 sizeof(sig) + nr * sizeof(*pending) + sizeof(cpu)) ?:
	      ckpt_write_payload(s, &sig, sizeof(sig)) ?:
	      ckpt_write_payload(s, pending, nr * sizeof(*pending)) ?:
	      ckpt_write_payload(s, &cpu, sizeof(cpu)) ?:
	      ckpt_end_section(s);
	if (!err && nr_timers)
		err = ckpt_write_section(s, CRAK_IMG_TIMERS, timers,
					 nr_timers * sizeof(*timers));
	kvfree(pending);
	kvfree(timers);
	return err;
}

/* -- threads -------------------------------------------------------------- */

static const struct user_regset *ckpt_regset(const struct user_regset_view *view,
					     unsigned int note)
{
	unsigned int i;

	for (i = 0; i < view->n; i++)
		if (view->regsets[i].core_note_type == note)
			return &view->regsets[i];
	return NULL;
}

/*
 * A thread stopped in a system call that a signal would have it make again
 * is rewound to make it again, as the kernel does when it delivers no
 * handler: the call's number back in ax, ip back on the syscall instruction.
 * A restart_syscall(2) continuation (after a job-control stop) cannot move
 * to another kernel, nor be told from the registers: that call returns
 * EINTR (made again, it would continue whatever the restarted thread's
 * restart block holds).
 */
static bool ckpt_rewind_syscall(struct user_regs_struct *regs)
{
	bool rewound = false;

	if ((long)regs->orig_ax >= 0) {
		switch ((long)regs->ax) {
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
		case -ERESTARTNOHAND:
		case -ERESTART_RESTARTBLOCK:
			if ((long)regs->orig_ax == __NR_restart_syscall) {
				regs->ax = -EINTR;
				break;
			}
			regs->ax = regs->orig_ax;
			regs->ip -= 2;
			rewound = true;
			break;
		}
	}
	regs->orig_ax = -1;
	return rewound;
}

/*
 * A relative wait the checkpoint interrupted keeps its end in the thread's
 * restart block (the only kind that leaves -ERESTART_RESTARTBLOCK: an
 * absolute sleep or FUTEX_WAIT_BITSET is made again as it is, and a
 * select(2) or ppoll(2) wrote its time left back to its argument).  The
 * time left to it is what the call made again waits (CRAK_THREAD_SLEEP):
 *
 * - nanosleep and clock_nanosleep, on the clock the sleep counts on (a
 *   relative CLOCK_REALTIME sleep counts on CLOCK_MONOTONIC).  Sleeps on a
 *   CPU clock or an alarm clock (whose restart block holds an alarm type,
 *   not a clock) sleep their whole length again;
 * - poll(2) with a timeout, whose end is on CLOCK_MONOTONIC;
 * - FUTEX_WAIT with a timeout, which is relative to CLOCK_MONOTONIC (the
 *   call refuses FUTEX_CLOCK_REALTIME).
 */
static bool ckpt_sleep_left(struct task_struct *t, const struct user_regs_struct *regs,
			    u64 *left)
{
	const struct restart_block *rb = &t->restart_block;
	u64 most = U64_MAX;
	ktime_t end, now;

	if ((long)regs->ax != -ERESTART_RESTARTBLOCK)
		return false;
	switch ((long)regs->orig_ax) {
	case __NR_clock_nanosleep:
		if (!ckpt_timer_clock_ok((clockid_t)regs->di))
			return false;
		fallthrough;
	case __NR_nanosleep:
		end = rb->nanosleep.expires;
		switch (rb->nanosleep.clockid) {
		case CLOCK_MONOTONIC:
			now = ktime_get();
			break;
		case CLOCK_REALTIME:
			now = ktime_get_real();
			break;
		case CLOCK_BOOTTIME:
			now = ktime_get_boottime();
			break;
		case CLOCK_TAI:
			now = ktime_get_clocktai();
			break;
		default:
			return false;
		}
		break;
	case __NR_poll:
		/* (Never more than the call asked for, whatever the block says.) */
		if (!rb->poll.has_timeout || (int)regs->dx < 0)
			return false;
		end = ktime_set(rb->poll.tv_sec, rb->poll.tv_nsec);
		now = ktime_get();
		most = (u64)(int)regs->dx * NSEC_PER_MSEC;
		break;
	case __NR_futex:
		if (((u32)regs->si & FUTEX_CMD_MASK) != FUTEX_WAIT)
			return false;
		end = rb->futex.time;
		now = ktime_get();
		break;
	default:
		return false;
	}
	*left = min_t(u64, end > now ? end - now : 0, most);
	return true;
}

/*
 * Runs in each thread of a process that runs on after a stop (and in the
 * main thread an INSTALL stopped).  A relative wait the stop interrupted,
 * the kernel would go on with through restart_syscall(2), whose
 * continuation no later checkpoint can tell from the registers (the next
 * round of a live checkpoint, another with --leave-running): made again
 * instead as the call it was, waiting what it had left, as a restart makes
 * it (its argument register changed, and so after it).  Told
 * -ERESTARTNOHAND, the kernel makes it again, or ends it with EINTR for a
 * signal to handle, as it would have.  With a signal already pending, or a
 * wait that cannot be told so, it goes on as the kernel has it.  (Time
 * stopped between here and the call, in a job-control stop say, no longer
 * counts against the wait.)
 */
void ckpt_freeze_resume(struct ckpt_stop *st)
{
	struct pt_regs *regs = current_pt_regs();
	struct user_regs_struct ur = {
		.ax = regs->ax, .orig_ax = regs->orig_ax,
		.di = regs->di, .si = regs->si, .dx = regs->dx,
	};
	u64 left;

	if (task_sigpending(current))
		return;
	if (ckpt_sleep_left(current, &ur, &left) && ckpt_sleep_set(regs, regs->orig_ax, left))
		regs->ax = -ERESTARTNOHAND;
}

static int ckpt_dump_thread(struct ckpt_freeze *fz, struct ckpt_stream *s,
			    struct ckpt_stop *st)
{
	struct task_struct *t = st->task;
	const struct user_regset_view *view = task_user_regset_view(t);
	const struct user_regset *gpr, *xsr;
	struct crak_img_thread th = {};
	struct crak_img_siginfo *pending;
	struct user_regs_struct regs;
	__le64 sleep_left;
	unsigned int xlen;
	void *xstate;
	u64 left = 0;
	u32 flags = 0;
	size_t len;
	int nr, err;

	gpr = ckpt_regset(view, NT_PRSTATUS);
	xsr = ckpt_regset(view, NT_X86_XSTATE);
	if (!gpr || gpr->n * gpr->size != sizeof(regs) || !xsr)
		return -EOPNOTSUPP;

	xlen = xsr->n * xsr->size;
	xstate = kvzalloc(xlen, GFP_KERNEL);
	if (!xstate)
		return -ENOMEM;

	err = ckpt_stop_access(st);
	if (err)
		goto out_xstate;
	err = regset_get(t, gpr, sizeof(regs), &regs);
	if (err >= 0)
		err = regset_get(t, xsr, xlen, xstate);
	ckpt_stop_done(st);
	if (err < 0)
		goto out_xstate;
	if (ckpt_sleep_left(t, &regs, &left))
		flags |= CRAK_THREAD_SLEEP;
	if (ckpt_rewind_syscall(&regs))
		flags |= CRAK_THREAD_RESTARTED;

	pending = ckpt_pending(t, false, &nr);
	if (IS_ERR(pending)) {
		err = PTR_ERR(pending);
		goto out_xstate;
	}

	if (t == fz->leader)
		flags |= CRAK_THREAD_LEADER;
	th.tid = cpu_to_le32(task_pid_vnr(t));
	th.flags = cpu_to_le32(flags);
	th.regs_len = cpu_to_le32(sizeof(regs));
	th.xstate_len = cpu_to_le32(xlen);
	th.nr_pending = cpu_to_le32(nr);
	/*
	 * In sigsuspend, ppoll or pselect the mask is the call's own for a
	 * while, and the thread's is saved, to come back when the call ends:
	 * the thread's is the one to keep (the call is made again).
	 */
	if (test_tsk_restore_sigmask(t))
		th.blocked = cpu_to_le64(t->saved_sigmask.sig[0]);
	else
		th.blocked = cpu_to_le64(t->blocked.sig[0]);
	th.sigaltstack_sp = cpu_to_le64(t->sas_ss_sp);
	th.sigaltstack_size = cpu_to_le64(t->sas_ss_size);
	th.sigaltstack_flags = cpu_to_le32(t->sas_ss_flags);
	{
		u64 rseq;
		u32 rseq_len, rseq_sig;

		crak_task_rseq(t, &rseq, &rseq_len, &rseq_sig);
		th.rseq = cpu_to_le64(rseq);
		th.rseq_len = cpu_to_le32(rseq_len);
		th.rseq_sig = cpu_to_le32(rseq_sig);
	}
	th.clear_child_tid = cpu_to_le64((unsigned long)t->clear_child_tid);
	if (t->robust_list) {
		th.robust_list = cpu_to_le64((unsigned long)t->robust_list);
		th.robust_list_len = cpu_to_le64(sizeof(struct robust_list_head));
	}
	__get_task_comm(th.comm, sizeof(th.comm), t);

	sleep_left = cpu_to_le64(left);
	len = sizeof(th) + sizeof(regs) + xlen + nr * sizeof(*pending);
	if (flags & CRAK_THREAD_SLEEP)
		len += sizeof(sleep_left);
	/* A restore hands each thread's section to the kernel as one attribute. */
	if (ALIGN(len, 8) > U16_MAX - NLA_HDRLEN) {
		err = -E2BIG;
		kvfree(pending);
		goto out_xstate;
	}
	err = ckpt_begin_section(s, CRAK_IMG_THREAD, ALIGN(len, 8)) ?:
	      ckpt_write_payload(s, &th, sizeof(th)) ?:
	      ckpt_write_payload(s, &regs, sizeof(regs)) ?:
	      ckpt_write_payload(s, xstate, xlen) ?:
	      ckpt_write_payload(s, pending, nr * sizeof(*pending)) ?:
	      ckpt_write_payload(s, &sleep_left,
				 flags & CRAK_THREAD_SLEEP ? sizeof(sleep_left) : 0);
	if (!err) {
		static const u8 zeros[8];

		err = ckpt_write_payload(s, zeros, s->left) ?: ckpt_end_section(s);
	}
	kvfree(pending);
out_xstate:
	kvfree(xstate);
	return err;
}

int ckpt_dump_task(struct ckpt_freeze *fz, struct ckpt_stream *s,
		   struct netlink_ext_ack *extack)
{
	struct ckpt_stop *st;
	int err;

	err = ckpt_dump_sigactions(fz, s);
	if (err)
		goto fail;
	/* The group's list is the leader first, then the threads it found. */
	list_for_each_entry(st, &fz->group.threads, node) {
		if (st->task->flags & PF_EXITING)
			continue;
		err = ckpt_dump_thread(fz, s, st);
		if (err)
			goto fail;
	}
	err = ckpt_dump_signal(fz, s, extack);
	if (err)
		goto fail;
	return 0;
fail:
	if (extack->_msg)
		return err;
	if (err == -EOPNOTSUPP)
		NL_SET_ERR_MSG(extack, "this CPU's registers have no XSAVE state to save");
	else if (err == -ETIMEDOUT)
		NL_SET_ERR_MSG(extack, "a thread did not leave the CPU");
	else if (err == -ESRCH)
		NL_SET_ERR_MSG(extack, "a thread of the process was killed");
	else if (err == -E2BIG)
		NL_SET_ERR_MSG(extack, "a thread has more signals pending than an image holds");
	else
		NL_SET_ERR_MSG(extack, "writing the task part of the image failed");
	return err;
}

/* -- the memory's layout -------------------------------------------------- */

struct ckpt_vma {
	struct crak_img_vma img;
	char *path;			/* file mappings */
	struct file *file;		/* held: CRAK_VMA_SHANON's memory */
	unsigned long eof;		/* CRAK_VMAF_DELETED: where its file ends */
	bool has_pages;
};

struct ckpt_vma_list {
	unsigned int nr;
	struct ckpt_vma vma[];
};

static void ckpt_vma_list_free(struct ckpt_vma_list *l)
{
	unsigned int i;

	if (!l)
		return;
	for (i = 0; i < l->nr; i++) {
		kfree(l->vma[i].path);
		if (l->vma[i].file)
			fput(l->vma[i].file);
	}
	kvfree(l);
}

void ckpt_freeze_free_memory(struct ckpt_freeze *fz)
{
	ckpt_vma_list_free(fz->vmas);
	fz->vmas = NULL;
	kvfree(fz->skip);
	fz->skip = NULL;
	fz->nr_skip = 0;
}

const struct ckpt_advice ckpt_advice[CKPT_NR_ADVICE] = {
	{ VM_DONTCOPY,		CRAK_VMAF_DONTFORK },
	{ VM_WIPEONFORK,	CRAK_VMAF_WIPEONFORK },
	{ VM_DONTDUMP,		CRAK_VMAF_DONTDUMP },
	{ VM_HUGEPAGE,		CRAK_VMAF_HUGEPAGE },
	{ VM_NOHUGEPAGE,	CRAK_VMAF_NOHUGEPAGE },
	{ VM_SEQ_READ,		CRAK_VMAF_SEQUENTIAL },
	{ VM_RAND_READ,		CRAK_VMAF_RANDOM },
	{ VM_MERGEABLE,		CRAK_VMAF_MERGEABLE },
};

static u32 ckpt_vma_advice(unsigned long vm_flags)
{
	u32 img = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ckpt_advice); i++)
		if (vm_flags & ckpt_advice[i].vm)
			img |= ckpt_advice[i].img;
	return img;
}

static u32 ckpt_prot(unsigned long vm_flags)
{
	return (vm_flags & VM_READ ? PROT_READ : 0) |
	       (vm_flags & VM_WRITE ? PROT_WRITE : 0) |
	       (vm_flags & VM_EXEC ? PROT_EXEC : 0);
}

/* Where a file of SIZE bytes ends in VMA (pages past it do not read). */
static unsigned long ckpt_file_end(struct vm_area_struct *vma, loff_t size)
{
	unsigned long pages = DIV_ROUND_UP(size, PAGE_SIZE);

	if (pages <= vma->vm_pgoff)
		return vma->vm_start;
	return vma->vm_start + (min(pages - vma->vm_pgoff, vma_pages(vma)) << PAGE_SHIFT);
}

/* Whether a userfaultfd is to fill missing pages of MM (see ckpt_classify). */
bool ckpt_mm_filling(struct mm_struct *mm)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	bool filling = false;

	mmap_read_lock(mm);
	for_each_vma(vmi, vma) {
		if (userfaultfd_missing(vma)) {
			filling = true;
			break;
		}
	}
	mmap_read_unlock(mm);
	return filling;
}

/*
 * A shared memory's shmid (crak_image.h): its file system's device and its
 * inode number, as stat(2) and /proc/PID/maps tell them, where the number
 * fits in 32 bits; else the number alone.
 */
static u64 ckpt_shmid(const struct inode *inode)
{
	if (inode->i_ino > U32_MAX)
		return inode->i_ino;
	return (u64)new_encode_dev(inode->i_sb->s_dev) << 32 | inode->i_ino;
}

/* What a mapping is, or why it cannot be taken (extack). */
static int ckpt_classify(struct vm_area_struct *vma, struct ckpt_vma *cv,
			 struct netlink_ext_ack *extack)
{
	struct crak_img_vma *iv = &cv->img;
	struct file *file = vma->vm_file;
	const char *name = NULL;
	struct inode *inode;
	char *buf, *p;
	loff_t size;

	/* Its missing pages are not holes: they are still to come. */
	if (userfaultfd_missing(vma)) {
		NL_SET_ERR_MSG(extack, CKPT_MSG_FILLING);
		return -EAGAIN;
	}
	iv->start = cpu_to_le64(vma->vm_start);
	iv->end = cpu_to_le64(vma->vm_end);
	iv->prot = cpu_to_le32(ckpt_prot(vma->vm_flags));
	if (vma->vm_flags & VM_GROWSDOWN)
		iv->flags |= cpu_to_le32(CRAK_VMAF_GROWSDOWN);

	if (vma->vm_ops && vma->vm_ops->name)
		name = vma->vm_ops->name(vma);
	if (name) {
		if (!strcmp(name, "[vdso]")) {
			iv->kind = cpu_to_le32(CRAK_VMA_VDSO);
			return 0;
		}
		if (!strcmp(name, "[vvar]")) {
			iv->kind = cpu_to_le32(CRAK_VMA_VVAR);
			return 0;
		}
		NL_SET_ERR_MSG(extack, "the process has a special mapping crak cannot take");
		return -EOPNOTSUPP;
	}
	iv->flags |= cpu_to_le32(ckpt_vma_advice(vma->vm_flags));
	if (vma->vm_flags & VM_LOCKED)
		iv->flags |= cpu_to_le32(CRAK_VMAF_LOCKED);
	if (vma->vm_flags & VM_LOCKED && vma->vm_flags & VM_LOCKONFAULT)
		iv->flags |= cpu_to_le32(CRAK_VMAF_LOCKONFAULT);
	if (is_vm_hugetlb_page(vma)) {
		NL_SET_ERR_MSG(extack, "the process maps hugetlb memory, which crak cannot take");
		return -EOPNOTSUPP;
	}
	if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) {
		NL_SET_ERR_MSG(extack, "the process maps a device, which crak cannot take");
		return -EOPNOTSUPP;
	}
	/* A private mapping of /dev/zero is anonymous memory, file or not. */
	if (!file || vma_is_anonymous(vma)) {
		iv->kind = cpu_to_le32(CRAK_VMA_ANON);
		cv->has_pages = !!vma->anon_vma;
		return 0;
	}

	inode = file_inode(file);
	/* Unlinked: 9p keeps the link count of a file removed through it. */
	if (!inode->i_nlink || d_unlinked(file->f_path.dentry)) {
		if (vma->vm_flags & VM_MAYSHARE) {
			/*
			 * Shared anonymous memory, a memfd, a deleted shm file,
			 * or a deleted file elsewhere: no name opens it again,
			 * so its pages and its name ("dev/zero", "memfd:...")
			 * go, and it comes back as shared memory.  Pages of a
			 * file outside memory are read up to its end.
			 */
			if (!shmem_mapping(file->f_mapping) &&
			    (!S_ISREG(inode->i_mode) || !file->f_mapping->a_ops->read_folio)) {
				NL_SET_ERR_MSG(extack,
					       "the process shares a mapping of a deleted file crak cannot read");
				return -EOPNOTSUPP;
			}
			iv->kind = cpu_to_le32(CRAK_VMA_SHANON);
			iv->pgoff = cpu_to_le64(vma->vm_pgoff);
			iv->shmid = cpu_to_le64(ckpt_shmid(inode));
			cv->path = kstrndup(file->f_path.dentry->d_name.name, NAME_MAX, GFP_KERNEL);
			if (!cv->path)
				return -ENOMEM;
			iv->path_len = cpu_to_le32(strlen(cv->path) + 1);
			if (!shmem_mapping(file->f_mapping))
				cv->eof = ckpt_file_end(vma, i_size_read(inode));
			cv->file = get_file(file);
			cv->has_pages = true;
			return 0;
		}
		/*
		 * A private mapping of a deleted file (a library upgraded
		 * under a running program, say): no name opens it again, so
		 * every page that has data goes, and it comes back as memory.
		 */
		iv->kind = cpu_to_le32(CRAK_VMA_ANON);
		iv->flags |= cpu_to_le32(CRAK_VMAF_DELETED);
		cv->path = kasprintf(GFP_KERNEL, "%pd", file->f_path.dentry);
		if (!cv->path)
			return -ENOMEM;
		iv->path_len = cpu_to_le32(strlen(cv->path) + 1);
		size = i_size_read(inode);
		iv->file_size = cpu_to_le64(size);
		cv->eof = ckpt_file_end(vma, size);
		cv->has_pages = true;
		return 0;
	}

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = d_path(&file->f_path, buf, PATH_MAX);
	if (IS_ERR(p)) {
		kfree(buf);
		NL_SET_ERR_MSG(extack, "a mapped file's path is too long");
		return PTR_ERR(p);
	}
	cv->path = kstrdup(p, GFP_KERNEL);
	kfree(buf);
	if (!cv->path)
		return -ENOMEM;
	iv->path_len = cpu_to_le32(strlen(cv->path) + 1);
	iv->pgoff = cpu_to_le64(vma->vm_pgoff);
	iv->file_size = cpu_to_le64(i_size_read(inode));
	if (vma->vm_flags & VM_MAYSHARE) {
		iv->kind = cpu_to_le32(CRAK_VMA_SHFILE);
		if (!(vma->vm_flags & VM_SHARED))
			iv->flags |= cpu_to_le32(CRAK_VMAF_MAYSHARE);
	} else {
		iv->kind = cpu_to_le32(CRAK_VMA_FILE);
		/* Only written pages are anonymous, and they need an anon_vma. */
		cv->has_pages = !!vma->anon_vma;
	}
	return 0;
}

/*
 * A shmid names one shared memory: two with one shmid (of inode numbers
 * past 32 bits: tmpfs mounted inode64) would come back as one.
 */
static int ckpt_check_shmids(const struct ckpt_vma_list *l, struct netlink_ext_ack *extack)
{
	const struct ckpt_vma *a, *b;
	unsigned int i, j;

	for (i = 0; i < l->nr; i++) {
		a = &l->vma[i];
		if (le32_to_cpu(a->img.kind) != CRAK_VMA_SHANON)
			continue;
		cond_resched();
		for (j = 0; j < i; j++) {
			b = &l->vma[j];
			if (le32_to_cpu(b->img.kind) == CRAK_VMA_SHANON &&
			    a->img.shmid == b->img.shmid &&
			    file_inode(a->file) != file_inode(b->file)) {
				NL_SET_ERR_MSG(extack,
					       "two shared memories of the process have one shmid (not taken yet)");
				return -EOPNOTSUPP;
			}
		}
	}
	return 0;
}

static struct ckpt_vma_list *ckpt_collect_vmas(struct mm_struct *mm,
					       struct netlink_ext_ack *extack)
{
	struct ckpt_vma_list *l;
	struct vm_area_struct *vma;
	unsigned int n;
	int err = 0;

	mmap_read_lock(mm);
	n = mm->map_count;
	l = kvzalloc(struct_size(l, vma, n), GFP_KERNEL);
	if (!l) {
		mmap_read_unlock(mm);
		return ERR_PTR(-ENOMEM);
	}
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			if (WARN_ON_ONCE(l->nr == n)) {
				err = -EAGAIN;
				break;
			}
			err = ckpt_classify(vma, &l->vma[l->nr++], extack);
			if (err)
				break;
		}
	}
	mmap_read_unlock(mm);
	if (!err)
		err = ckpt_check_shmids(l, extack);
	if (err) {
		ckpt_vma_list_free(l);
		return ERR_PTR(err);
	}
	return l;
}

static int ckpt_dump_mm(struct ckpt_freeze *fz, struct ckpt_stream *s)
{
	struct mm_struct *mm = fz->mm;
	struct crak_img_mm *im;
	unsigned int i;
	u32 flags = 0;
	int err;

	im = kzalloc(sizeof(*im), GFP_KERNEL);
	if (!im)
		return -ENOMEM;
	im->nr_vmas = cpu_to_le32(fz->vmas->nr);
	mmap_read_lock(mm);
	if (mm->def_flags & VM_LOCKED)
		flags |= CRAK_MM_LOCK_FUTURE;
	if (mm->def_flags & VM_LOCKED && mm->def_flags & VM_LOCKONFAULT)
		flags |= CRAK_MM_LOCK_ONFAULT;
	if (test_bit(MMF_DISABLE_THP, &mm->flags))
		flags |= CRAK_MM_THP_DISABLE;
	if (crak_mm_merge_any(mm))
		flags |= CRAK_MM_MERGE_ANY;
	im->flags = cpu_to_le32(flags);
	im->start_code = cpu_to_le64(mm->start_code);
	im->end_code = cpu_to_le64(mm->end_code);
	im->start_data = cpu_to_le64(mm->start_data);
	im->end_data = cpu_to_le64(mm->end_data);
	im->start_brk = cpu_to_le64(mm->start_brk);
	im->brk = cpu_to_le64(mm->brk);
	im->start_stack = cpu_to_le64(mm->start_stack);
	spin_lock(&mm->arg_lock);
	im->arg_start = cpu_to_le64(mm->arg_start);
	im->arg_end = cpu_to_le64(mm->arg_end);
	im->env_start = cpu_to_le64(mm->env_start);
	im->env_end = cpu_to_le64(mm->env_end);
	spin_unlock(&mm->arg_lock);
	for (i = 0; i < ARRAY_SIZE(mm->saved_auxv) && i < ARRAY_SIZE(im->auxv); i++)
		im->auxv[i] = cpu_to_le64(mm->saved_auxv[i]);
	mmap_read_unlock(mm);

	err = ckpt_write_section(s, CRAK_IMG_MM, im, sizeof(*im));
	kfree(im);
	return err;
}

static int ckpt_dump_vma(struct ckpt_stream *s, const struct ckpt_vma *cv)
{
	u32 plen = le32_to_cpu(cv->img.path_len);
	static const u8 zeros[8];

	return ckpt_begin_section(s, CRAK_IMG_VMA, ALIGN(sizeof(cv->img) + plen, 8)) ?:
	       ckpt_write_payload(s, &cv->img, sizeof(cv->img)) ?:
	       ckpt_write_payload(s, cv->path, plen) ?:
	       ckpt_write_payload(s, zeros, s->left) ?:
	       ckpt_end_section(s);
}

/* -- pages ---------------------------------------------------------------- */

static int ckpt_write_run(struct ckpt_freeze *fz, struct ckpt_stream *s,
			  unsigned long addr, struct page **pages, unsigned int nr)
{
	struct crak_img_pages hdr = {
		.addr = cpu_to_le64(addr),
		.nr_pages = cpu_to_le64(nr),
	};
	int err;

	err = ckpt_begin_section(s, CRAK_IMG_PAGES, sizeof(hdr) + (u64)nr * PAGE_SIZE) ?:
	      ckpt_write_payload(s, &hdr, sizeof(hdr)) ?:
	      ckpt_write_pages(s, pages, nr) ?:
	      ckpt_end_section(s);
	if (!err)
		fz->pages += nr;
	return err;
}

/*
 * Takes the ranges of pages the caller sent ahead (CRAK_CKPT_A_SKIP):
 * page-aligned, ascending, none empty or overlapping the next.
 */
static int ckpt_take_skip(struct ckpt_freeze *fz, const struct nlattr *attr,
			  struct netlink_ext_ack *extack)
{
	const struct crak_ckpt_range *r = nla_data(attr);
	unsigned int i, n = nla_len(attr) / sizeof(*r);

	if (nla_len(attr) % sizeof(*r)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "not an array of ranges");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!PAGE_ALIGNED(r[i].start) || !PAGE_ALIGNED(r[i].end) ||
		    r[i].start >= r[i].end || (i && r[i].start < r[i - 1].end)) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "ranges must be page-aligned, ascending and apart");
			return -EINVAL;
		}
	}
	kvfree(fz->skip);
	fz->skip = kvmalloc_array(max(n, 1U), sizeof(*r), GFP_KERNEL);
	if (!fz->skip)
		return -ENOMEM;
	memcpy(fz->skip, r, n * sizeof(*r));
	fz->nr_skip = n;
	fz->skip_next = 0;
	return 0;
}

static bool ckpt_vma_private(const struct ckpt_vma *cv)
{
	u32 kind = le32_to_cpu(cv->img.kind);

	return cv->has_pages && (kind == CRAK_VMA_ANON || kind == CRAK_VMA_FILE);
}

/*
 * The ranges to skip, cut to the private mappings that have pages (the
 * others are written whole), and written as the SKIP section: what the
 * restore fills in from elsewhere.
 */
static int ckpt_dump_skip(struct ckpt_freeze *fz, struct ckpt_stream *s)
{
	unsigned int i, j = 0, n = 0, max = fz->nr_skip + fz->vmas->nr;
	struct crak_ckpt_range *cut;
	struct crak_img_range ir;
	int err;

	cut = kvmalloc_array(max, sizeof(*cut), GFP_KERNEL);
	if (!cut)
		return -ENOMEM;
	for (i = 0; i < fz->vmas->nr; i++) {
		const struct ckpt_vma *cv = &fz->vmas->vma[i];
		u64 start = le64_to_cpu(cv->img.start), end = le64_to_cpu(cv->img.end);

		if (!ckpt_vma_private(cv))
			continue;
		while (j < fz->nr_skip && fz->skip[j].end <= start)
			j++;
		/* Every range that overlaps the mapping; the last may go on to the next. */
		for (; j < fz->nr_skip && fz->skip[j].start < end; j++) {
			cut[n].start = max(fz->skip[j].start, start);
			cut[n].end = min(fz->skip[j].end, end);
			n++;
			if (fz->skip[j].end > end)
				break;
		}
	}
	/* More than a section holds: the rest is written. */
	n = min_t(unsigned int, n, CRAK_IMAGE_SECTION_MAX / sizeof(ir));
	kvfree(fz->skip);
	fz->skip = cut;
	fz->nr_skip = n;
	if (!n)
		return 0;
	err = ckpt_begin_section(s, CRAK_IMG_SKIP, n * sizeof(ir));
	for (i = 0; !err && i < n; i++) {
		ir.start = cpu_to_le64(cut[i].start);
		ir.end = cpu_to_le64(cut[i].end);
		err = ckpt_write_payload(s, &ir, sizeof(ir));
	}
	return err ?: ckpt_end_section(s);
}

/*
 * For the pages from ADDR (ascending from one call to the
 * next): 0 if ADDR is not left out, else the end of the range that leaves
 * it out; *NEXT, the start of the next range (or ULONG_MAX).
 */
static unsigned long ckpt_skip_at(struct ckpt_freeze *fz, unsigned long addr,
				  unsigned long *next)
{
	const struct crak_ckpt_range *r;

	while (fz->skip_next < fz->nr_skip && fz->skip[fz->skip_next].end <= addr)
		fz->skip_next++;
	if (fz->skip_next == fz->nr_skip) {
		*next = ULONG_MAX;
		return 0;
	}
	r = &fz->skip[fz->skip_next];
	*next = r->start;
	return r->start <= addr ? r->end : 0;
}

/*
 * Pins up to MAX pages of CV from ADDR that hold data: *SKIP is set to the
 * pages to step over when none do at ADDR.  Returns the pages pinned.
 */
static long ckpt_pin_pages(struct ckpt_freeze *fz, const struct ckpt_vma *cv,
			   unsigned long addr, struct page **pages, unsigned int max,
			   unsigned long *skip)
{
	unsigned long end = le64_to_cpu(cv->img.end);
	u32 kind = le32_to_cpu(cv->img.kind);
	unsigned int nr = min_t(unsigned long, max, (end - addr) >> PAGE_SHIFT);
	unsigned int i;
	long got;

	*skip = 0;
	if (kind == CRAK_VMA_SHANON) {
		/* The memory's own pages, present or not in this mapping. */
		struct address_space *mapping = cv->file->f_mapping;
		bool shmem = shmem_mapping(mapping);
		pgoff_t index = le64_to_cpu(cv->img.pgoff) +
				((addr - le64_to_cpu(cv->img.start)) >> PAGE_SHIFT);
		struct page *page;

		/* A deleted file's: each page up to its end, from the file. */
		if (!shmem) {
			if (addr >= cv->eof) {
				*skip = 1;
				return 0;
			}
			nr = min_t(unsigned long, nr, (cv->eof - addr) >> PAGE_SHIFT);
		}
		for (i = 0; i < nr; i++) {
			if (shmem) {
				page = pagecache_get_page(mapping, index + i, 0, 0);
				/* Swapped out: read back, not taken for a hole. */
				if (!page && xa_is_value(xa_load(&mapping->i_pages, index + i)))
					page = shmem_read_mapping_page(mapping, index + i);
			} else {
				page = read_cache_page(mapping, index + i, NULL, cv->file);
			}
			if (IS_ERR(page)) {
				if (!i)
					return PTR_ERR(page);
				break;
			}
			if (!page)
				break;
			pages[i] = page;
		}
		if (!i)
			*skip = 1;
		return i;
	}

	mmap_read_lock(fz->mm);
	got = crak_gup_remote(fz->mm, addr, nr, FOLL_FORCE | FOLL_DUMP, pages);
	mmap_read_unlock(fz->mm);
	/*
	 * Killed meanwhile and its memory reaped (the OOM reaper,
	 * process_mrelease): what reads as holes now was not.
	 */
	if (test_bit(MMF_UNSTABLE, &fz->mm->flags)) {
		while (got > 0)
			put_page(pages[--got]);
		return -ESRCH;
	}
	if (got == -EFAULT || got == 0) {
		*skip = 1;	/* a hole: never touched, or the zero page */
		return 0;
	}
	return got;
}

/*
 * Writes the pages of the mappings from where the last step stopped, until
 * BUDGET bytes went out (0: no limit).  *DONE once every mapping is done.
 */
static int ckpt_dump_pages(struct ckpt_freeze *fz, struct ckpt_stream *s, u64 budget,
			   bool *done)
{
	struct page **pages;
	u64 start_offset = s->offset;
	unsigned long addr, skip, until, next, vend;
	struct ckpt_vma *cv;
	unsigned int i, first, max;
	long got;
	int err = 0;

	pages = kvmalloc_array(CKPT_BATCH_PAGES, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	*done = false;
	for (; fz->vma_next < fz->vmas->nr; fz->vma_next++, fz->addr_next = 0) {
		cv = &fz->vmas->vma[fz->vma_next];
		if (!cv->has_pages)
			continue;
		vend = le64_to_cpu(cv->img.end);
		addr = max_t(unsigned long, fz->addr_next, le64_to_cpu(cv->img.start));
		while (addr < vend) {
			if (budget && s->offset - start_offset >= budget) {
				fz->addr_next = addr;
				goto out;
			}
			if (fatal_signal_pending(current)) {
				err = -EINTR;
				goto out;
			}
			max = CKPT_BATCH_PAGES;
			/*
			 * What was sent ahead, and has not changed since, is not
			 * written (the ranges lie in private mappings only).
			 */
			if (fz->nr_skip) {
				until = ckpt_skip_at(fz, addr, &next);
				if (until) {
					addr = min(until, vend);
					continue;
				}
				if (next < vend)
					max = min_t(unsigned long, max,
						    (next - addr) >> PAGE_SHIFT);
			}
			got = ckpt_pin_pages(fz, cv, addr, pages, max, &skip);
			if (got < 0) {
				err = got;
				goto out;
			}
			if (!got) {
				/* A deleted file's page: the image is all that would be left. */
				if (addr < cv->eof) {
					err = -EIO;
					goto out;
				}
				/* Past a deleted file's end, nothing reads. */
				if (cv->eof)
					addr = le64_to_cpu(cv->img.end);
				else
					addr += skip << PAGE_SHIFT;
				continue;
			}
			/*
			 * In a private file mapping only the written (anonymous)
			 * pages are the process's own; the file has the rest.
			 */
			first = 0;
			for (i = 0; i <= got && !err; i++) {
				bool keep = i < got &&
					    (le32_to_cpu(cv->img.kind) != CRAK_VMA_FILE ||
					     PageAnon(pages[i]));

				if (keep)
					continue;
				if (i > first)
					err = ckpt_write_run(fz, s, addr + first * PAGE_SIZE,
							     pages + first, i - first);
				first = i + 1;
			}
			for (i = 0; i < got; i++)
				put_page(pages[i]);
			if (err)
				goto out;
			addr += got << PAGE_SHIFT;
		}
	}
	*done = true;
out:
	kvfree(pages);
	return err;
}

/* MM, the VMAs and SKIP; on a failure, nothing of them is kept. */
static int ckpt_dump_memory_head(struct ckpt_freeze *fz, struct ckpt_stream *s,
				 const struct nlattr *skip, struct netlink_ext_ack *extack)
{
	unsigned int i;
	int err = 0;

	if (skip)
		err = ckpt_take_skip(fz, skip, extack);
	if (err)
		goto fail;
	fz->vmas = ckpt_collect_vmas(fz->mm, extack);
	if (IS_ERR(fz->vmas)) {
		err = PTR_ERR(fz->vmas);
		fz->vmas = NULL;
		goto fail;
	}
	err = ckpt_dump_mm(fz, s);
	for (i = 0; !err && i < fz->vmas->nr; i++)
		err = ckpt_dump_vma(s, &fz->vmas->vma[i]);
	if (!err && fz->skip)
		err = ckpt_dump_skip(fz, s);
	if (!err)
		return 0;
fail:
	ckpt_freeze_free_memory(fz);
	return err;
}

int ckpt_dump_memory(struct ckpt_freeze *fz, struct ckpt_stream *s, u64 budget,
		     const struct nlattr *skip, bool *more, struct netlink_ext_ack *extack)
{
	struct crak_img_end end = {};
	bool done;
	int err;

	*more = false;
	if (fz->mem_done) {
		NL_SET_ERR_MSG(extack, "the memory part was written already");
		return -EALREADY;
	}
	if (skip && fz->mem_started) {
		NL_SET_ERR_MSG_ATTR(extack, skip, "pages to skip go with the part's first step");
		return -EINVAL;
	}
	if (!fz->mem_started) {
		err = ckpt_dump_memory_head(fz, s, skip, extack);
		if (err)
			goto fail;
		fz->mem_started = true;
	}

	err = ckpt_dump_pages(fz, s, budget, &done);
	if (err)
		goto fail;
	if (!done) {
		*more = true;
		return 0;
	}

	end.sections = cpu_to_le32(s->seq);
	end.pages = cpu_to_le64(fz->pages);
	end.bytes = cpu_to_le64(s->offset);
	/* Done only once all of it is out, and was the process's. */
	err = test_bit(MMF_UNSTABLE, &fz->mm->flags) ? -ESRCH :
	      ckpt_write_section(s, CRAK_IMG_END, &end, sizeof(end)) ?: ckpt_stream_flush(s);
	if (err)
		goto fail;
	fz->mem_done = true;
	return 0;
fail:
	if (err == -EINTR)
		NL_SET_ERR_MSG(extack, "interrupted");
	else if (err == -EIO)
		NL_SET_ERR_MSG(extack, "a page of a deleted file the process maps does not read");
	else if (err == -ESRCH)
		NL_SET_ERR_MSG(extack, "the process was killed, its memory taken back");
	else if (!extack->_msg)
		NL_SET_ERR_MSG(extack, "writing the memory part of the image failed");
	return err;
}
