// SPDX-License-Identifier: GPL-2.0
/*
 * crak restart, in the new process: everything system calls can rebuild,
 * then the kernel's RESTORE, which replaces crak with the image.
 *
 * Order matters.  The descriptors come first, while crak's own (the image,
 * the session, netlink, the restarter's standard ones for terminals and for
 * errors) wait above every number the image uses.  Then limits, directory,
 * personality, name, signal handlers and pending signals (every signal
 * stays blocked until the kernel gives each thread its own mask back, and
 * its credentials: the image's are RESTORE's CRAK_CKPT_A_CREDS), the
 * [vdso] and [vvar] moved where the image has them, /proc/PID/exe made to
 * name the image's program, and the threads, each made with its TID
 * (clone3 with set_tid) on a small stack of its own.  A thread runs no
 * libc: it sets what system calls set for a thread (its TID
 * address, robust futex list, alternate stack, name, pending signals),
 * enrolls with RESTORE_THREAD on crak's netlink socket (crak reads the
 * acknowledgements) and, once enrolled, never comes back to crak's code.
 * Then the POSIX timers, which may signal a thread.  Last, the main
 * thread's RESTORE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/sched.h>

#include "precopy.h"
#include "restart.h"
#include "tree.h"

/* Not in every libc's headers: the kernel's (linux/signal.h). */
#ifndef SS_AUTODISARM
#define SS_AUTODISARM	(1U << 31)
#endif

#define THREAD_STACK	(64 * 1024)
#define THREAD_SEQ	1000		/* netlink sequence numbers of threads */

static pid_t self_pid;

static void __noreturn fail(const char *fmt, ...) __printf(1, 2);
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "crak: restart %d: ", self_pid);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(EXIT_FAILURE);
}

/* -- a thread without libc ------------------------------------------------ */

static inline long raw_syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define raw_syscall(nr, a, b, c)	raw_syscall6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* What a new thread needs, prepared by the main thread. */
struct thread_boot {
	const struct crak_img_thread *hdr;
	const struct crak_img_siginfo *pending;
	uint32_t nr_pending;
	pid_t tgid;
	int nlfd;
	const void *msg;		/* its RESTORE_THREAD request */
	size_t msg_len;
};

static void __noreturn thread_main(struct thread_boot *b)
{
	const struct crak_img_thread *h = b->hdr;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	stack_t ss;
	uint32_t i;

	raw_syscall(SYS_set_tid_address, le64toh(h->clear_child_tid), 0, 0);
	if (h->robust_list)
		raw_syscall(SYS_set_robust_list, le64toh(h->robust_list),
			    le64toh(h->robust_list_len), 0);
	if (h->sigaltstack_sp && !(le32toh(h->sigaltstack_flags) & SS_DISABLE)) {
		ss.ss_sp = (void *)(uintptr_t)le64toh(h->sigaltstack_sp);
		ss.ss_size = le64toh(h->sigaltstack_size);
		ss.ss_flags = le32toh(h->sigaltstack_flags) & SS_AUTODISARM;
		raw_syscall(SYS_sigaltstack, &ss, 0, 0);
	}
	raw_syscall(SYS_prctl, PR_SET_NAME, h->comm, 0);
	for (i = 0; i < b->nr_pending; i++) {
		const siginfo_t *si = (const siginfo_t *)b->pending[i].bytes;

		raw_syscall6(SYS_rt_tgsigqueueinfo, b->tgid, le32toh(h->tid), si->si_signo,
			     (long)si, 0, 0);
	}
	raw_syscall6(SYS_sendto, b->nlfd, (long)b->msg, b->msg_len, 0, (long)&kernel,
		     sizeof(kernel));
	/* Enrolled, the thread leaves from the kernel as the image's; if not,
	 * it waits here for the process to end.
	 */
	for (;;)
		raw_syscall(SYS_pause, 0, 0, 0);
}

/*
 * clone3 for a thread: the child runs FN(ARG) on the stack of ARGS, never
 * returning into this function's frame (which is the parent's stack).
 */
static long clone_thread(struct clone_args *args, void (*fn)(struct thread_boot *),
			 struct thread_boot *arg)
{
	register void *r8 __asm__("r8") = (void *)fn;
	register void *r9 __asm__("r9") = arg;
	long ret;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r9, %%rdi\n\t"
			 "and $-16, %%rsp\n\t"
			 "call *%%r8\n\t"
			 "ud2\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(SYS_clone3), "D"(args), "S"(sizeof(*args)), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* The RESTORE_THREAD request of thread I, in a buffer of its own. */
static void *thread_request(struct restart *r, struct nl *nl, unsigned int i, size_t *len)
{
	size_t size = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr)) +
		      2 * MNL_ATTR_HDRLEN + 8 + MNL_ALIGN(r->threads[i].len);
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;
	char *buf;

	buf = xmalloc(size);
	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = nl->family_id;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = THREAD_SEQ + i;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CRAK_CKPT_CMD_RESTORE_THREAD;
	genl->version = CRAK_CKPT_FAMILY_VERSION;
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_SESSION_FD, r->sessfd);
	mnl_attr_put(nlh, CRAK_CKPT_A_THREAD, r->threads[i].len, r->threads[i].blob);
	*len = nlh->nlmsg_len;
	return buf;
}

static void start_threads(struct restart *r, struct nl *nl)
{
	struct thread_boot *boot;
	unsigned int i;
	pid_t tid;
	long ret;

	boot = xmalloc(r->nr_threads * sizeof(*boot));
	for (i = 1; i < r->nr_threads; i++) {
		struct clone_args ca = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
				 CLONE_THREAD | CLONE_SYSVSEM,
			.set_tid_size = 1,
			.stack_size = THREAD_STACK,
		};
		void *stack;

		tid = le32toh(r->threads[i].hdr->tid);
		boot[i] = (struct thread_boot) {
			.hdr = r->threads[i].hdr,
			.pending = r->threads[i].pending,
			.nr_pending = r->threads[i].nr_pending,
			.tgid = self_pid,
			.nlfd = mnl_socket_get_fd(nl->sock),
		};
		boot[i].msg = thread_request(r, nl, i, &boot[i].msg_len);
		stack = mmap(NULL, THREAD_STACK, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (stack == MAP_FAILED)
			fail("a thread's stack: %s", strerror(errno));
		ca.stack = (uintptr_t)stack;
		ca.set_tid = (uintptr_t)&tid;
		ret = clone_thread(&ca, thread_main, &boot[i]);
		if (ret == -EEXIST)
			fail("its thread ID %d is taken", tid);
		if (ret < 0)
			fail("making its thread %d: %s", tid, strerror(-ret));
	}
}

/* The acknowledgements of the threads' enrollments: all must have worked. */
static void wait_threads(struct restart *r, struct nl *nl)
{
	unsigned int acked = 0, want = r->nr_threads - 1;
	char buf[8192];
	ssize_t len;

	while (acked < want) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		int rem;

		len = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (len < 0)
			fail("enrolling its threads: %s", strerror(errno));
		for (rem = len; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			const struct nlattr *attr;
			const char *msg = NULL;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq < THREAD_SEQ ||
			    nlh->nlmsg_seq >= THREAD_SEQ + r->nr_threads)
				continue;
			acked++;
			if (!e->error)
				continue;
			mnl_attr_for_each(attr, nlh, sizeof(*e))
				if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG)
					msg = mnl_attr_get_str(attr);
			fail("thread %d: %s", le32toh(r->threads[nlh->nlmsg_seq - THREAD_SEQ].hdr->tid),
			     msg ?: strerror(-e->error));
		}
	}
}

/* -- the process's attributes --------------------------------------------- */

struct kernel_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/*
 * An interval timer armed with what was left of it (a value under a
 * microsecond is one: due, it fires at once).  The CPU timers count the
 * little CPU time the restart spends after this too.
 */
static void set_itimer(int which, const char *name, __le64 value, __le64 interval)
{
	uint64_t v = le64toh(value), iv = le64toh(interval);
	struct itimerval it = {};

	if (!v)
		return;
	it.it_value.tv_sec = v / 1000000000;
	it.it_value.tv_usec = (v % 1000000000) / 1000 ?: (it.it_value.tv_sec ? 0 : 1);
	it.it_interval.tv_sec = iv / 1000000000;
	it.it_interval.tv_usec = (iv % 1000000000) / 1000;
	if (setitimer(which, &it, NULL))
		fail("its %s: %s", name, strerror(errno));
}

static void set_signals(struct restart *r)
{
	const struct crak_img_siginfo *pending = (const void *)(r->signal + 1);
	const struct crak_img_thread *lead = r->threads[0].hdr;
	unsigned int i;
	stack_t ss;

	for (i = 1; i <= 64; i++) {
		const struct crak_img_sigaction *sa = &r->sigactions[i - 1];
		struct kernel_sigaction k = {
			.handler = le64toh(sa->handler),
			.flags = le64toh(sa->flags),
			.restorer = le64toh(sa->restorer),
			.mask = le64toh(sa->mask),
		};

		if (i == SIGKILL || i == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, i, &k, NULL, sizeof(k.mask)))
			fail("the handler of signal %u: %s", i, strerror(errno));
	}

	/* The main thread's own: what clone3 and libc set for a thread. */
	syscall(SYS_set_tid_address, (uintptr_t)le64toh(lead->clear_child_tid));
	if (lead->robust_list)
		syscall(SYS_set_robust_list, (uintptr_t)le64toh(lead->robust_list),
			(size_t)le64toh(lead->robust_list_len));
	if (lead->sigaltstack_sp && !(le32toh(lead->sigaltstack_flags) & SS_DISABLE)) {
		ss.ss_sp = (void *)(uintptr_t)le64toh(lead->sigaltstack_sp);
		ss.ss_size = le64toh(lead->sigaltstack_size);
		ss.ss_flags = le32toh(lead->sigaltstack_flags) & SS_AUTODISARM;
		if (sigaltstack(&ss, NULL))
			fail("its alternate signal stack: %s", strerror(errno));
	}

	/* Pending signals, which stay pending: every signal is blocked. */
	for (i = 0; i < le32toh(r->signal->nr_pending); i++) {
		const siginfo_t *si = (const siginfo_t *)pending[i].bytes;

		if (syscall(SYS_rt_sigqueueinfo, self_pid, si->si_signo, si))
			fail("pending signal %d: %s", si->si_signo, strerror(errno));
	}
	for (i = 0; i < r->threads[0].nr_pending; i++) {
		const siginfo_t *si = (const siginfo_t *)r->threads[0].pending[i].bytes;

		if (syscall(SYS_rt_tgsigqueueinfo, self_pid, self_pid, si->si_signo, si))
			fail("pending signal %d: %s", si->si_signo, strerror(errno));
	}

	set_itimer(ITIMER_REAL, "ITIMER_REAL", r->signal->itimer_real_value,
		   r->signal->itimer_real_interval);
	set_itimer(ITIMER_VIRTUAL, "ITIMER_VIRTUAL", r->cpu_itimers.virt_value,
		   r->cpu_itimers.virt_interval);
	set_itimer(ITIMER_PROF, "ITIMER_PROF", r->cpu_itimers.prof_value,
		   r->cpu_itimers.prof_interval);
}

/* struct sigevent as timer_create(2) reads it (sigev_notify_thread_id). */
struct kernel_sigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

/* Looking for a timer's ID: give up after this many others. */
#define TIMER_ID_TRIES	(1 << 20)

/*
 * The POSIX timers, each with its ID: the kernel gives a process's timers
 * the IDs after the last it gave, so timers are made and deleted until the
 * next one made has the wanted ID (the image's are sorted), and it is armed
 * with what was left of it.  After the threads: a timer may signal one.
 */
static void set_timers(struct restart *r)
{
	const struct crak_img_posix_timer *t;
	struct kernel_sigevent sev;
	struct itimerspec its;
	unsigned int i, tries;
	uint64_t v, iv;
	int id, want;

	for (i = 0; i < r->nr_timers; i++) {
		t = &r->timers[i];
		want = le32toh(t->id);
		memset(&sev, 0, sizeof(sev));
		sev.value = le64toh(t->sigval);
		sev.signo = le32toh(t->signo);
		sev.notify = le32toh(t->notify);
		sev.tid = le32toh(t->tid);
		for (tries = 0;; tries++) {
			if (syscall(SYS_timer_create, le32toh(t->clock), &sev, &id))
				fail("its POSIX timer %d: %s", want, strerror(errno));
			if (id == want)
				break;
			syscall(SYS_timer_delete, id);
			if (id > want)
				fail("its POSIX timer %d: the kernel gives ID %d already", want, id);
			if (tries == TIMER_ID_TRIES)
				fail("its POSIX timer %d: crak gives up at ID %d, %u IDs short",
				     want, id, (unsigned int)(want - id));
		}
		v = le64toh(t->value);
		iv = le64toh(t->interval);
		if (!v)
			continue;
		its.it_value.tv_sec = v / 1000000000;
		its.it_value.tv_nsec = v % 1000000000;
		its.it_interval.tv_sec = iv / 1000000000;
		its.it_interval.tv_nsec = iv % 1000000000;
		if (syscall(SYS_timer_settime, id, 0, &its, NULL))
			fail("arming its POSIX timer %d: %s", want, strerror(errno));
	}
}

/*
 * The open files' signal owners and signals, and their O_ASYNC (cleared
 * first: an open() with O_ASYNC leaves the file without the queue the
 * signals need), once the threads exist: an owner may be one.
 */
static void set_owners(struct restart *r)
{
	const struct rfile *rf;
	struct f_owner_ex ow;
	unsigned int i;
	int fd, fl;

	for (i = 0; i < r->files.nr; i++) {
		rf = &r->files.v[i];
		fd = le32toh(rf->f.fd);
		if (le32toh(rf->f.fd_flags) & CRAK_FILE_OWNED) {
			ow.type = le32toh(rf->fown.type);
			ow.pid = le32toh(rf->fown.pid);
			if (fcntl(fd, F_SETSIG, le32toh(rf->fown.signo)) ||
			    (ow.pid && fcntl(fd, F_SETOWN_EX, &ow)))
				fail("descriptor %d: its signal owner %d: %s", fd, ow.pid,
				     strerror(errno));
		}
		if (!(le32toh(rf->f.flags) & O_ASYNC))
			continue;
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_ASYNC) || fcntl(fd, F_SETFL, fl | O_ASYNC))
			fail("descriptor %d: O_ASYNC: %s", fd, strerror(errno));
	}
}

static void set_process(struct restart *r)
{
	const struct crak_img_proc *p = &r->proc;
	unsigned int i;

	/*
	 * An image with credentials has the kernel give them (RESTORE), but
	 * the user a process counts against (its processes, its keyrings)
	 * follows its real user ID, which only it can set: set here, before
	 * its threads, the effective one still the restarter's.  (A restarter
	 * that cannot is refused by RESTORE, saying why.)
	 */
	if (r->have_creds && le32toh(r->creds.uid[0]) != getuid() &&
	    setresuid(le32toh(r->creds.uid[0]), -1, -1) && errno != EPERM)
		fail("its user %u: %s", le32toh(r->creds.uid[0]), strerror(errno));
	for (i = 0; i < 3 && !r->have_creds; i++)
		if (le32toh(p->uid[i]) != (i == 0 ? getuid() : geteuid()) ||
		    le32toh(p->gid[i]) != (i == 0 ? getgid() : getegid()))
			fail("it ran as uid %u gid %u, and its image is too old to say more: "
			     "crak restarts it as the user restarting it only",
			     le32toh(p->uid[1]), le32toh(p->gid[1]));
	for (i = 0; i < r->nr_rlimits && i < RLIM_NLIMITS; i++) {
		struct rlimit rl = {
			.rlim_cur = le64toh(r->rlimits[i].cur),
			.rlim_max = le64toh(r->rlimits[i].max),
		};

		if (setrlimit(i, &rl))
			fail("resource limit %u: %s", i, strerror(errno));
	}
	umask(le32toh(p->umask) & 0777);
	if (chdir(p->cwd))
		fail("its working directory %s: %s", p->cwd, strerror(errno));
	if (strcmp(p->root, "/") && chroot(p->root))
		fail("its root directory %s: %s", p->root, strerror(errno));
	if (personality(le32toh(p->personality)) < 0)
		fail("its personality %#x: %s", le32toh(p->personality), strerror(errno));
	prctl(PR_SET_NAME, p->comm);
}

/* -- [vdso] and [vvar] ---------------------------------------------------- */

struct range {
	unsigned long start, end;
};

/* This process's [vdso] and [vvar], and whether [LO, HI) is free of the rest. */
static bool scan_maps(struct range *vdso, struct range *vvar, unsigned long lo,
		      unsigned long hi)
{
	char line[512];
	bool free_range = true;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		fail("/proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		struct range r;

		if (sscanf(line, "%lx-%lx", &r.start, &r.end) != 2)
			continue;
		if (strstr(line, " [vdso]"))
			*vdso = r;
		else if (strstr(line, " [vvar]"))
			*vvar = r;
		else if (r.start < hi && lo < r.end)
			free_range = false;
	}
	fclose(f);
	return free_range;
}

static void move_mapping(struct range *from, unsigned long to, const char *name)
{
	unsigned long len = from->end - from->start;

	if (from->start == to)
		return;
	if (mremap((void *)from->start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
		   (void *)to) == MAP_FAILED)
		fail("moving its %s: %s", name, strerror(errno));
	from->start = to;
	from->end = to + len;
}

/* The [vdso] and [vvar] where the image has them (glibc keeps pointers). */
static void place_vdso(struct restart *r)
{
	unsigned long vdso = le64toh(r->proc.vdso), vdso_len = le64toh(r->proc.vdso_len);
	unsigned long vvar = le64toh(r->proc.vvar), vvar_len = le64toh(r->proc.vvar_len);
	unsigned long lo, hi;
	struct range cur_vdso = {}, cur_vvar = {};
	void *spare;

	if (!vdso)
		return;
	lo = vvar && vvar < vdso ? vvar : vdso;
	hi = vvar + vvar_len > vdso + vdso_len ? vvar + vvar_len : vdso + vdso_len;
	if (!scan_maps(&cur_vdso, &cur_vvar, lo, hi))
		fail("the image's [vdso] address is in use here; run the restart again");
	if (cur_vdso.end - cur_vdso.start != vdso_len ||
	    (vvar && cur_vvar.end - cur_vvar.start != vvar_len))
		fail("the [vdso] or [vvar] of this kernel differs from the image's");
	/* Both step aside first, so that neither lands on the other. */
	spare = mmap(NULL, vdso_len + vvar_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (spare == MAP_FAILED)
		fail("room to move its [vdso]: %s", strerror(errno));
	if (vvar)
		move_mapping(&cur_vvar, (unsigned long)spare, "[vvar]");
	move_mapping(&cur_vdso, (unsigned long)spare + vvar_len, "[vdso]");
	if (vvar)
		move_mapping(&cur_vvar, vvar, "[vvar]");
	move_mapping(&cur_vdso, vdso, "[vdso]");
}

/* -- /proc/PID/exe -------------------------------------------------------- */

/*
 * The link names the image's program again, not crak, if the restarter may
 * say so (CAP_SYS_RESOURCE: prctl(PR_SET_MM_EXE_FILE)) and that program is
 * here.  The kernel changes it only while nothing maps the old one: crak's
 * own mappings are first replaced by anonymous copies of themselves (crak
 * runs on in them; RESTORE unmaps them with the rest).
 */
static int copy_to_anon(unsigned long start, unsigned long end, const char *perms)
{
	int prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		   (perms[2] == 'x' ? PROT_EXEC : 0);
	size_t len = end - start;
	void *copy;
	int err;

	copy = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED)
		return -errno;
	/* (Execute-only code made readable to be copied.) */
	if (prot != PROT_NONE && !(prot & PROT_READ) &&
	    mprotect((void *)start, len, prot | PROT_READ)) {
		err = -errno;
		munmap(copy, len);
		return err;
	}
	if (prot != PROT_NONE)
		memcpy(copy, (void *)start, len);
	if (mprotect(copy, len, prot) ||
	    mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)start) == MAP_FAILED) {
		err = -errno;
		munmap(copy, len);
		return err;
	}
	return 0;
}

/* Every mapping of crak's own file, made anonymous; its maps read first. */
static int leave_own_file(void)
{
	char self[PATH_MAX], *buf, *line, *next, perms[8];
	unsigned long start, end;
	size_t size = 64 * 1024;
	ssize_t n, len;
	int fd, at, err = 0;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	buf = malloc(size);
	if (fd < 0 || !buf) {
		err = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (len = 0; (n = read(fd, buf + len, size - 1 - len)) > 0;)
		len += n;
	if (n < 0 || len == (ssize_t)size - 1) {
		err = n < 0 ? -errno : -E2BIG;
		goto out;
	}
	buf[len] = 0;
	for (line = buf; *line && !err; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		else
			next = line + strlen(line);
		at = -1;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &at) != 3 ||
		    at < 0)
			continue;
		if (!strcmp(line + at, self))
			err = copy_to_anon(start, end, perms);
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return err;
}

static void take_exe(const struct restart *r)
{
	const char *exe = r->proc.exe, *deleted = " (deleted)";
	size_t len = strlen(exe), dlen = strlen(deleted);
	struct stat st;
	int fd, err = 0;

	if (exe[0] != '/' || (len > dlen && !strcmp(exe + len - dlen, deleted)))
		return;
	fd = open(exe, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		err = -EACCES;
	} else if (prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, fd, 0, 0)) {
		/* Without the right, silently: the restarter is not the one to ask. */
		if (errno == EPERM)
			goto out;
		/* With it, the kernel refuses while crak's own file is mapped. */
		err = errno == EBUSY ? leave_own_file() : -errno;
		if (!err && prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, fd, 0, 0))
			err = -errno;
	}
out:
	if (fd >= 0)
		close(fd);
	if (err)
		fprintf(stderr, "crak: restart %d: warning: /proc/%d/exe names crak, not %s: %s\n",
			self_pid, self_pid, exe, strerror(-err));
}

/* -- the descriptors ------------------------------------------------------ */

static int park_fd(int fd, int base)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, base);

	if (high < 0)
		fail("moving descriptor %d: %s", fd, strerror(errno));
	return high;
}

void close_except(int from, int *keep, unsigned int n)
{
	unsigned int i, j;
	int tmp;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (keep[j] < keep[i]) {
				tmp = keep[i];
				keep[i] = keep[j];
				keep[j] = tmp;
			}
	for (i = 0; i < n; i++) {
		if (keep[i] > from)
			close_range(from, keep[i] - 1, 0);
		if (keep[i] >= from)
			from = keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

/*
 * A memfd sealed against writes to come (F_SEAL_FUTURE_WRITE): its
 * writable shared mappings, made before the seal, the kernel would refuse
 * to make again through it (they come back apart from it).
 */
static bool future_write(const struct rfile *rf)
{
	return rfile_memory_kind(rf) & CRAK_UNLINKED_MEMFD &&
	       le64toh(rf->f.value[1]) & F_SEAL_FUTURE_WRITE;
}

/* Whether the process held RF open for reading and writing. */
static bool held_rw(const struct rfile *rf)
{
	return (le32toh(rf->f.flags) & (O_ACCMODE | O_PATH)) == O_RDWR;
}

/*
 * Of the memfds and deleted files mapped shared among FILES (at their
 * numbers by now), those held only read-only: a descriptor of each opened
 * again for writing, into RW (-1 where none), through which the kernel
 * maps it (before the process's root is the image's: through crak's /proc).
 * One whose mode lets no such open (as the caller) comes back apart from
 * its mappings, with a warning; so does a memfd sealed against writes to
 * come (future_write()), held any way.
 */
static void unlinked_rw(const struct rfiles *files, int *rw, int base)
{
	unsigned int i, j;
	char proc[64];
	int fd;

	for (i = 0; i < files->nr; i++) {
		const struct rfile *rf = &files->v[i];
		uint64_t kind = rfile_memory_kind(rf), shmid = rfile_shmid(rf);

		rw[i] = -1;
		if (!shmid || held_rw(rf) || future_write(rf))
			continue;
		/* (Not where another holds it for writing, or has one already.) */
		for (j = 0; j < files->nr; j++) {
			const struct rfile *o = &files->v[j];

			if (rfile_memory_kind(o) == kind && rfile_shmid(o) == shmid &&
			    (held_rw(o) || (j < i && rw[j] >= 0)))
				break;
		}
		if (j < files->nr)
			continue;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%u", le32toh(rf->f.fd));
		fd = open(proc, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && fd < base) {
			rw[i] = fcntl(fd, F_DUPFD_CLOEXEC, base);
			close(fd);
		} else {
			rw[i] = fd;
		}
		if (rw[i] < 0)
			pr_err("restart: descriptor %u (%s) comes back apart from its mappings: %s",
			       le32toh(rf->f.fd), rf->path ?: "", strerror(errno));
	}
}

/*
 * The memfds and deleted files mapped shared among FILES as shared memories
 * for RESTORE, after the NR in SHM (its tree's: a memory among those stays
 * apart from the file), at most MAX in all: how many in all.  The kernel
 * maps each through a descriptor open for writing: the process's, or one
 * of RW (unlinked_rw()), appended to KEEP (*NR_KEEP), which RESTORE closes.
 */
static unsigned int unlinked_shmems(const struct rfiles *files, const int *rw,
				    struct crak_ckpt_shmem *shm, unsigned int nr, unsigned int max,
				    int *keep, unsigned int *nr_keep)
{
	unsigned int pass, i, j;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < files->nr && nr < max; i++) {
			const struct rfile *rf = &files->v[i];
			uint64_t shmid = rfile_shmid(rf);

			if (!shmid || (pass ? rw[i] < 0 : !held_rw(rf)) || future_write(rf))
				continue;
			for (j = 0; j < nr && shm[j].shmid != shmid; j++)
				;
			if (j < nr)
				continue;
			shm[nr].shmid = shmid;
			shm[nr].fd = pass ? rw[i] : (int)le32toh(rf->f.fd);
			shm[nr++].flags = CRAK_CKPT_SHMEM_FILLED;
			if (pass)
				keep[(*nr_keep)++] = rw[i];
		}
	}
	return nr;
}

/* Whether the restart makes process PID (this one, or one of its tree). */
static bool restart_makes(const struct restart *r, uint32_t pid)
{
	uint32_t i;

	if (!r->tree)
		return pid == (uint32_t)self_pid;
	for (i = 0; i < r->tree->nr; i++)
		if (le32toh(r->tree->procs[i].pid) == pid)
			return true;
	return false;
}

/*
 * The unix sockets whose SO_PEERCRED names another peer than at checkpoint
 * (crak made them, as the restarter, or in a tree the process above those
 * that share them): RESTORE names theirs again (CRAK_CKPT_A_PEER).  Their
 * PID only where the restart makes that process (another is gone, or on
 * another node).  (What crak may not name, the kernel leaves as made.)
 * Last in the request: as many as it holds.
 */
static void put_peers(const struct restart *r, struct nlmsghdr *nlh)
{
	unsigned int i;

	for (i = 0; i < r->files.nr; i++) {
		const struct rfile *rf = &r->files.v[i];
		struct ucred uc;
		socklen_t l = sizeof(uc);
		struct crak_ckpt_peer p = { .fd = le32toh(rf->f.fd) };

		rf = tree_shared_file(r->tree, rf) ?: rf;
		if (le32toh(rf->f.type) != CRAK_FILE_UNIX ||
		    !(le32toh(rf->f.fd_flags) & CRAK_FILE_SOCKOPTS) ||
		    !(le32toh(rf->uopts.flags) & CRAK_UNIX_OPT_PEER) ||
		    getsockopt(p.fd, SOL_SOCKET, SO_PEERCRED, &uc, &l))
			continue;
		p.uid = le32toh(rf->upeer.uid);
		p.gid = le32toh(rf->upeer.gid);
		if (restart_makes(r, le32toh(rf->upeer.pid)) &&
		    le32toh(rf->upeer.pid) != (uint32_t)uc.pid)
			p.pid = le32toh(rf->upeer.pid);
		if (!p.pid && p.uid == uc.uid && p.gid == uc.gid)
			continue;
		if (!mnl_attr_put_check(nlh, NL_REQ_SIZE, CRAK_CKPT_A_PEER, sizeof(p), &p))
			fail("too many unix sockets whose peers to name");
	}
}

void restart_child(struct restart *r)
{
	int base, stdio[3], imgfd, sessfd, nlfd, errfd, devnull, fd, fillfd;
	int keep[5 + CRAK_CKPT_SHMEM_MAX], *rw;
	struct crak_ckpt_shmem shm[CRAK_CKPT_SHMEM_MAX];
	unsigned int nr_keep = 0;
	size_t ids_len;
	int nr_shm;
	uint64_t fill_base = 0;
	struct nlmsghdr *nlh;
	struct nl nl;
	FILE *err;
	unsigned int i;

	self_pid = getpid();
	base = r->files.max_fd + 1 > 3 ? r->files.max_fd + 1 : 3;

	/* crak's own descriptors above the image's; errors to the restarter's. */
	for (i = 0; i < 3; i++)
		stdio[i] = fcntl(i, F_GETFD) < 0 ? -1 : park_fd(i, base);
	errfd = park_fd(stdio[2] >= 0 ? stdio[2] : open("/dev/null", O_WRONLY), base);
	err = fdopen(errfd, "w");
	if (err) {
		setvbuf(err, NULL, _IONBF, 0);
		stderr = err;
	}
	imgfd = park_fd(r->im.fd, base);
	/* What crak migrate --live sent ahead of the image, for the kernel. */
	fillfd = precopy_fill_for(self_pid, &fill_base);
	if (fillfd >= 0)
		fillfd = park_fd(fillfd, base);
	sessfd = park_fd(r->sessfd, base);
	r->ids[1] = park_fd(r->ids[1], base);
	close(r->ids[0]);
	r->im.fd = imgfd;
	r->sessfd = sessfd;
	nl_close(&r->nl);
	/* Holes below BASE filled, crak's netlink socket lands above too. */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (fd = 0; fd < base; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			dup2(devnull, fd);
	if (devnull >= base)
		close(devnull);
	if (nl_open(&nl, &ckpt_family))
		_exit(EXIT_FAILURE);
	nlfd = mnl_socket_get_fd(nl.sock);
	if (nlfd < base)
		fail("its netlink socket landed among its descriptors");

	/* Another user's process follows no symbolic link its user could plant. */
	files_no_symlinks = r->have_creds && le32toh(r->creds.uid[3]) != geteuid();
	/* Of a tree: the shared files it makes for itself and its children first. */
	if (r->tree && tree_make_shared(r, stdio))
		_exit(EXIT_FAILURE);
	if (files_restore(&r->files, stdio, base) || (r->tree && tree_listen_again(r)))
		_exit(EXIT_FAILURE);
	/*
	 * The restarting crak thaws the TCP sockets once the process is whole,
	 * and reads them only then: the pipe holds them all, or a write would
	 * wait for ever.
	 */
	ids_len = r->files.nr_sock_ids * sizeof(uint32_t);
	if (ids_len && ((ids_len > 65536 && fcntl(r->ids[1], F_SETPIPE_SZ, (int)ids_len) < 0) ||
			write(r->ids[1], r->files.sock_ids, ids_len) != (ssize_t)ids_len))
		fail("telling its %u sockets: %s", r->files.nr_sock_ids, strerror(errno));
	close(r->ids[1]);
	/* Its children inherit what they share with it, and nothing it made next. */
	if (r->tree)
		tree_fork_children(r);
	rw = xmalloc((r->files.nr ?: 1) * sizeof(*rw));
	unlinked_rw(&r->files, rw, base);
	for (i = 0; i < 3; i++)
		if (stdio[i] >= 0)
			close(stdio[i]);
	/* (Before set_process: the image's exe is a path from outside its root.) */
	take_exe(r);
	set_process(r);
	set_signals(r);
	place_vdso(r);
	start_threads(r, &nl);
	wait_threads(r, &nl);
	set_timers(r);
	set_owners(r);

	keep[nr_keep++] = imgfd;
	keep[nr_keep++] = sessfd;
	keep[nr_keep++] = nlfd;
	keep[nr_keep++] = errfd;
	if (fillfd >= 0)
		keep[nr_keep++] = fillfd;
	/* Memory it shares with others of its tree: what its parents made. */
	nr_shm = tree_shmems(r, shm, CRAK_CKPT_SHMEM_MAX);
	if (nr_shm < 0)
		_exit(EXIT_FAILURE);
	for (i = 0; i < (unsigned int)nr_shm; i++)
		keep[nr_keep++] = shm[i].fd;
	/* The memfds and deleted files it holds open, which its mappings map again. */
	nr_shm = unlinked_shmems(&r->files, rw, shm, nr_shm, CRAK_CKPT_SHMEM_MAX, keep, &nr_keep);
	close_except(base, keep, nr_keep);

	nlh = nl_request(&nl, CRAK_CKPT_CMD_RESTORE, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_SESSION_FD, sessfd);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_IMAGE_FD, imgfd);
	mnl_attr_put(nlh, CRAK_CKPT_A_THREAD, r->threads[0].len, r->threads[0].blob);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_NR_THREADS, r->nr_threads);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_SEQ, r->im.seq);
	mnl_attr_put_u64(nlh, CRAK_CKPT_A_OFFSET, r->im.offset);
	/* Whole, the process waits for the restarting crak's GO. */
	mnl_attr_put(nlh, CRAK_CKPT_A_HOLD, 0, NULL);
	/* Of a tree: killed if it never comes (its restarter died), not left to run alone. */
	if (r->tree)
		mnl_attr_put(nlh, CRAK_CKPT_A_HOLD_KILL, 0, NULL);
	if (r->have_creds)
		mnl_attr_put(nlh, CRAK_CKPT_A_CREDS, sizeof(r->creds), &r->creds);
	if (fillfd >= 0) {
		mnl_attr_put_u32(nlh, CRAK_CKPT_A_FILL_FD, fillfd);
		mnl_attr_put_u64(nlh, CRAK_CKPT_A_FILL_BASE, fill_base);
		/* Its restarter fills the rest while it runs (tree_child()). */
		if (r->lazy)
			mnl_attr_put(nlh, CRAK_CKPT_A_LAZY, 0, NULL);
	}
	for (i = 0; i < (unsigned int)nr_shm; i++)
		mnl_attr_put(nlh, CRAK_CKPT_A_SHMEM, sizeof(shm[i]), &shm[i]);
	for (i = 0; i < nr_keep; i++)
		mnl_attr_put_u32(nlh, CRAK_CKPT_A_CLOSE_FD, keep[i]);
	put_peers(r, nlh);
	/*
	 * On success this returns as the image's process, never here.  A
	 * failure ends the session, and the restarting crak tells why.
	 */
	nl.quiet = true;
	nl_exec(&nl, "restart", NULL, NULL);
	_exit(EXIT_FAILURE);
}
