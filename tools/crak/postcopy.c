// SPDX-License-Identifier: GPL-2.0
/*
 * crak migrate --live, after the stop: the pages sent ahead go into the
 * restarted processes while they run (post-copy), so that the downtime
 * does not grow with the memory sent ahead.
 *
 * The kernel leaves them missing (CRAK_CKPT_A_LAZY) in the processes'
 * private anonymous mappings and names them; each process made, before its
 * restore, a userfaultfd of its memory that its restarter (the pod's init)
 * holds and registers their whole mappings with for missing pages (a page
 * never touched there gets zeros).  One thread of the init
 * then fills them: a page a process touches first (with the pages after it
 * in the same run), the rest in the background, a run at a time.  The
 * processes may change their memory meanwhile, and the userfaultfd tells:
 * a fork (the child's memory has the same pages still to come, a
 * userfaultfd of its own), an mremap (what was to come moves along), an
 * madvise that drops pages or an munmap (none comes there any more).  A
 * fault where nothing is to come gets the zero page, as without the
 * userfaultfd.  While such a change is under way the kernel refuses to fill
 * (EAGAIN, or ENOENT where a mapping went: "gone" only once that lasts):
 * the fault waits until its message is read, which the userfaultfd is
 * read a message at a time for.  Once a process has
 * all its pages its userfaultfd is closed, which makes its memory as any
 * other again.
 *
 * A checkpoint of a process still being filled is refused (EAGAIN) until
 * it is whole: its missing pages are not holes.  If the init ends first,
 * the pod ends with it; a fill that fails otherwise kills the process (a
 * child made meanwhile, whose PID the userfaultfd does not tell, is left
 * waiting for its page instead of reading zeros).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "postcopy.h"
#include "util.h"

#define FEATURES	(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | \
			 UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)
/* In the background, pages a copy; on demand, the page and those after it. */
#define CHUNK_PAGES	64
#define AROUND_PAGES	16
/* Moves remembered until their old tail's unmap; how long "no mapping" must last. */
#define MOVES_MAX	8
#define GONE_WAIT	0.2

unsigned int postcopy_delay_ms;
/* The delay is over (POSTCOPY_NOW_SIGNAL), and how the thread hears it. */
static atomic_bool lazy_over;
static volatile sig_atomic_t wake_fd = -1;

/* Pages still to come: [start, end), the first at @src in the store. */
struct run {
	uint64_t start, end, src;
};

/* An mremap from [from, from + len) to @to, and the runs it moved. */
struct move {
	uint64_t from, to, len;
	struct run *runs;
	size_t nr;
};

struct target {
	int uffd;
	pid_t pid;			/* 0: a child made meanwhile */
	pid_t parent;			/* its first ancestor with a PID, for messages */
	struct run *runs;		/* by address, none overlapping */
	size_t nr, cap;
	uint64_t *later;		/* faults refused for now, to try again */
	size_t nr_later, cap_later;
	/* mremaps whose old tail may still be unmapped, oldest first */
	struct move moves[MOVES_MAX];
	unsigned int nr_moves;
	/* Where a fill found no mapping, since when (0: nowhere). */
	uint64_t gone_at, gone_end;
	double gone_since;
	double idle_until;		/* no fill in the background before */
	bool failed;
};

static struct target **targets;
static unsigned int nr_targets;
static int store = -1;
static size_t page;
static void *buf, *zeros;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int postcopy_uffd_new(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = FEATURES };
	int fd;

	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void runs_push(struct target *t, uint64_t start, uint64_t end, uint64_t src)
{
	if (t->nr == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->runs = xrealloc(t->runs, t->cap * sizeof(*t->runs));
	}
	t->runs[t->nr++] = (struct run){ start, end, src };
}

static int by_start(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The run holding @addr, or -1. */
static long runs_find(const struct target *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < t->runs[mid].start)
			hi = mid;
		else if (addr >= t->runs[mid].end)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

/* Nothing is to come in [start, end) any more; what was, into @cut if given. */
static void runs_cut(struct target *t, uint64_t start, uint64_t end, struct target *cut)
{
	struct run *old = t->runs, *r;
	size_t nr = t->nr, i;

	t->runs = NULL;
	t->nr = t->cap = 0;
	for (i = 0; i < nr; i++) {
		r = &old[i];
		if (r->end <= start || r->start >= end) {
			runs_push(t, r->start, r->end, r->src);
			continue;
		}
		if (r->start < start)
			runs_push(t, r->start, start, r->src);
		if (cut)
			runs_push(cut, r->start > start ? r->start : start, r->end < end ? r->end : end,
				  r->src + (r->start > start ? 0 : start - r->start));
		if (r->end > end)
			runs_push(t, end, r->end, r->src + (end - r->start));
	}
	free(old);
}

static void target_fail(struct target *t, const char *what, int err)
{
	if (t->pid) {
		pr_err("post-copy of process %d: %s: %s: killed", t->pid, what, strerror(err));
		kill(t->pid, SIGKILL);
	} else {
		pr_err("post-copy of a child of process %d: %s: %s: left waiting", t->parent,
		       what, strerror(err));
	}
	t->failed = true;
}

static void move_drop(struct target *t, unsigned int k)
{
	free(t->moves[k].runs);
	memmove(&t->moves[k], &t->moves[k + 1], (t->nr_moves - k - 1) * sizeof(*t->moves));
	t->nr_moves--;
}

/*
 * Every change is told: a fill or a page of zeros went through, which the
 * kernel refuses (EAGAIN) from a change until its last message is read.
 */
static void moves_forget(struct target *t)
{
	while (t->nr_moves)
		move_drop(t, t->nr_moves - 1);
}

/*
 * No mapping at @addr for a fill: gone for good (its page no longer to
 * come) once that has lasted GONE_WAIT, every message read meanwhile.  Till
 * then an mremap or munmap may be under way, its message still to come
 * (6.12 says ENOENT before it says EAGAIN).  A run found so is gone at once
 * past that page (one mapping went).
 */
static bool gone(struct target *t, uint64_t addr)
{
	long i;

	if (t->gone_since && addr >= t->gone_at && addr < t->gone_end) {
		if (now() - t->gone_since < GONE_WAIT)
			return false;
		runs_cut(t, addr, addr + page, NULL);
		return true;
	}
	i = runs_find(t, addr);
	t->gone_at = addr;
	t->gone_end = i >= 0 ? t->runs[i].end : addr + page;
	t->gone_since = now();
	return false;
}

/*
 * Fills [start, end) of @t, all to come, from the store.  0; -EAGAIN if the
 * kernel refused for now (what was filled is done); -ENOENT if no mapping
 * is there, for now; -ESRCH if its memory is gone; -1 if it failed.
 */
static int fill(struct target *t, uint64_t start, uint64_t end, uint64_t src)
{
	struct uffdio_copy copy = { .dst = start, .src = (uintptr_t)buf, .len = end - start };
	ssize_t n;
	int err;

	n = pread(store, buf, copy.len, src);
	if (n < 0) {
		target_fail(t, "reading the pages sent ahead", errno);
		return -1;
	}
	/* (What the store never had reads as zeros.) */
	memset((char *)buf + n, 0, copy.len - n);
	if (!ioctl(t->uffd, UFFDIO_COPY, &copy)) {
		runs_cut(t, start, end, NULL);
		moves_forget(t);
		return 0;
	}
	err = errno;
	if (copy.copy > 0)
		runs_cut(t, start, start + copy.copy, NULL);
	switch (err) {
	case EAGAIN:
		return -EAGAIN;
	case ESRCH:
		return -ESRCH;
	case ENOENT:
		/* Across two mappings (mprotect split it): a page at a time. */
		if (end - start > page)
			return fill(t, start, start + page, src);
		return gone(t, start) ? 0 : -ENOENT;
	case EEXIST:
		/* Filled already: the rest of the run is still to come. */
		start += copy.copy > 0 ? copy.copy : 0;
		runs_cut(t, start, start + page, NULL);
		return 0;
	default:
		target_fail(t, "filling its memory", err);
		return -1;
	}
}

/* The thread waiting at @addr goes on: the page is there, or no mapping. */
static int wake(struct target *t, uint64_t addr)
{
	struct uffdio_range range = { .start = addr, .len = page };

	if (!ioctl(t->uffd, UFFDIO_WAKE, &range) || errno == ENOENT)
		return 0;
	if (errno == ESRCH)
		return -ESRCH;
	target_fail(t, "waking it", errno);
	return -1;
}

/*
 * A fault at @addr: the page, with the pages after it; where nothing is to
 * come the zero page, or for a write a page of zeros of its own at once.
 */
static int serve(struct target *t, uint64_t addr, bool write)
{
	struct uffdio_zeropage zero = { .range = { .start = addr, .len = page } };
	struct uffdio_copy copy = { .dst = addr, .src = (uintptr_t)zeros, .len = page };
	const struct run *r;
	uint64_t end;
	long i;
	int ret;

	i = runs_find(t, addr);
	if (i >= 0) {
		r = &t->runs[i];
		end = addr + AROUND_PAGES * page < r->end ? addr + AROUND_PAGES * page : r->end;
		ret = fill(t, addr, end, r->src + (addr - r->start));
		if (ret == -ENOENT)
			return -EAGAIN;
		/* (A copy woke it already; a page there, or no mapping, does not.) */
		return ret ?: wake(t, addr);
	}
	if (!(write ? ioctl(t->uffd, UFFDIO_COPY, &copy) : ioctl(t->uffd, UFFDIO_ZEROPAGE, &zero))) {
		moves_forget(t);
		return 0;
	}
	switch (errno) {
	case EAGAIN:
		return -EAGAIN;
	case ESRCH:
		return -ESRCH;
	case EEXIST:
	case ENOENT:
		return wake(t, addr);
	default:
		target_fail(t, "a page of zeros", errno);
		return -1;
	}
}

static void later(struct target *t, uint64_t addr)
{
	if (t->nr_later == t->cap_later) {
		t->cap_later = t->cap_later ? 2 * t->cap_later : 16;
		t->later = xrealloc(t->later, t->cap_later * sizeof(*t->later));
	}
	t->later[t->nr_later++] = addr;
}

static void target_add(struct target *t)
{
	targets = xrealloc(targets, (nr_targets + 1) * sizeof(*targets));
	targets[nr_targets++] = t;
}

/*
 * What is to come moves from [from, from + len) to @to.  A move that
 * shrinks tells the old length, then unmaps the old tail: what would land
 * beyond the new end goes then (moved_tail()), and meanwhile never over
 * what is to come in a mapping there.
 */
static void runs_move(struct target *t, uint64_t from, uint64_t to, uint64_t len)
{
	struct target cut = {}, moved = {};
	struct move *mv;
	size_t i;

	runs_cut(t, from, from + len, &cut);
	for (i = 0; i < cut.nr; i++)
		runs_push(&moved, cut.runs[i].start - from + to, cut.runs[i].end - from + to,
			  cut.runs[i].src);
	free(cut.runs);
	for (i = 0; i < t->nr; i++)
		if (t->runs[i].end > to && t->runs[i].start < to + len)
			runs_cut(&moved, t->runs[i].start, t->runs[i].end, NULL);
	for (i = 0; i < moved.nr; i++)
		runs_push(t, moved.runs[i].start, moved.runs[i].end, moved.runs[i].src);
	qsort(t->runs, t->nr, sizeof(*t->runs), by_start);
	if (t->nr_moves == MOVES_MAX)
		move_drop(t, 0);
	mv = &t->moves[t->nr_moves++];
	*mv = (struct move){ from, to, len, moved.runs, moved.nr };
}

/* [start, end) unmapped: if the old tail of a move, the runs moved past its end go. */
static void moved_tail(struct target *t, uint64_t start, uint64_t end)
{
	const struct move *mv;
	uint64_t lo, tail;
	unsigned int k;
	size_t i;

	for (k = 0; k < t->nr_moves; k++) {
		mv = &t->moves[k];
		if (start <= mv->from || end != mv->from + mv->len)
			continue;
		tail = mv->to + (start - mv->from);
		for (i = 0; i < mv->nr; i++) {
			lo = mv->runs[i].start > tail ? mv->runs[i].start : tail;
			if (lo < mv->runs[i].end)
				runs_cut(t, lo, mv->runs[i].end, NULL);
		}
		move_drop(t, k);
		return;
	}
}

/* One message of @t's userfaultfd; -ESRCH once its memory is gone. */
static int message(struct target *t, const struct uffd_msg *m)
{
	struct target *child;
	int ret;

	/* What found no mapping may have been this change: to be seen again. */
	if (m->event != UFFD_EVENT_PAGEFAULT)
		t->gone_since = 0;
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		ret = serve(t, m->arg.pagefault.address & ~((uint64_t)page - 1),
			    m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE);
		if (ret == -EAGAIN)
			later(t, m->arg.pagefault.address & ~((uint64_t)page - 1));
		return ret == -ESRCH ? ret : 0;
	case UFFD_EVENT_FORK:
		child = xmalloc(sizeof(*child));
		memset(child, 0, sizeof(*child));
		child->uffd = m->arg.fork.ufd;
		fcntl(child->uffd, F_SETFL, O_NONBLOCK);
		child->parent = t->pid ?: t->parent;
		if (t->nr) {
			child->runs = xmalloc(t->nr * sizeof(*t->runs));
			memcpy(child->runs, t->runs, t->nr * sizeof(*t->runs));
			child->nr = child->cap = t->nr;
		}
		target_add(child);
		return 0;
	case UFFD_EVENT_REMAP:
		runs_move(t, m->arg.remap.from, m->arg.remap.to, m->arg.remap.len);
		return 0;
	case UFFD_EVENT_UNMAP:
		moved_tail(t, m->arg.remove.start, m->arg.remove.end);
		runs_cut(t, m->arg.remove.start, m->arg.remove.end, NULL);
		return 0;
	case UFFD_EVENT_REMOVE:
		runs_cut(t, m->arg.remove.start, m->arg.remove.end, NULL);
		return 0;
	default:
		return 0;
	}
}

/*
 * Reads what @t's userfaultfd has, a message at a time: the kernel hands
 * faults before the changes that came after them, and a change is done
 * with once read, so a fault read with a fork or an mremap in the same
 * batch would be filled as if the change had not been.  Read alone, its
 * fill is refused (EAGAIN) until the change is read.  -ESRCH once its
 * memory is gone, -1 if it failed.
 */
static int drain(struct target *t)
{
	struct uffd_msg m;
	ssize_t n;
	int ret;

	for (;;) {
		n = read(t->uffd, &m, sizeof(m));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n != sizeof(m)) {
			target_fail(t, "reading its userfaultfd", n < 0 ? errno : EIO);
			return -1;
		}
		ret = message(t, &m);
		if (ret || t->failed)
			return ret ?: -1;
	}
}

/* Faults refused before, tried again. */
static int retry(struct target *t)
{
	size_t i, n = t->nr_later;
	uint64_t *addr = t->later;
	int ret = 0;

	t->later = NULL;
	t->nr_later = t->cap_later = 0;
	for (i = 0; i < n; i++) {
		ret = serve(t, addr[i], false);
		if (ret == -ESRCH)
			break;
		if (ret == -EAGAIN)
			later(t, addr[i]);
		ret = 0;
	}
	free(addr);
	return ret;
}

/* The first run of @t, a chunk of it; -ESRCH once its memory is gone. */
static int background(struct target *t)
{
	const struct run *r = &t->runs[0];
	uint64_t end = r->end - r->start > CHUNK_PAGES * page ? r->start + CHUNK_PAGES * page :
								 r->end;
	int ret = fill(t, r->start, end, r->src);

	/* (No mapping there for now: the others first.) */
	if (ret == -ENOENT)
		t->idle_until = now() + 0.01;
	return ret == -ESRCH ? ret : 0;
}

static void target_end(unsigned int i)
{
	struct target *t = targets[i];

	/* Its registrations go with it: the memory is as any other. */
	close(t->uffd);
	moves_forget(t);
	free(t->runs);
	free(t->later);
	free(t);
	targets[i] = targets[--nr_targets];
}

/* The init's handler of POSTCOPY_NOW_SIGNAL (only a thread's wake-up). */
void postcopy_now(int sig)
{
	uint64_t one = 1;
	int err = errno;
	ssize_t n = 0;

	(void)sig;
	atomic_store(&lazy_over, true);
	/* (It fails only with the counter full: woken already.) */
	if (wake_fd >= 0)
		n = write(wake_fd, &one, sizeof(one));
	(void)n;
	errno = err;
}

static void *postcopy_main(void *arg)
{
	double lazy_until = now() + postcopy_delay_ms / 1000.0;
	struct pollfd *pfd = NULL;
	unsigned int i, next = 0, nr;
	bool waiting, busy, idle, live;
	double at;
	int timeout;

	(void)arg;
	for (;;) {
		/* Whole, or gone: done with. */
		for (i = 0; i < nr_targets;) {
			if (!targets[i]->failed && !targets[i]->nr && !targets[i]->nr_later)
				target_end(i);
			else
				i++;
		}
		busy = false;
		idle = false;
		waiting = false;
		live = false;
		at = now();
		for (i = 0; i < nr_targets; i++) {
			if (targets[i]->failed)
				continue;
			live = true;
			busy |= targets[i]->nr && targets[i]->idle_until <= at;
			idle |= targets[i]->nr && targets[i]->idle_until > at;
			waiting |= targets[i]->nr_later;
		}
		/* (A failed one's faults wait for ever: its userfaultfd stays open.) */
		if (!live)
			break;
		if (atomic_load(&lazy_over))
			lazy_until = 0;
		timeout = -1;
		if (waiting)
			timeout = 1;
		else if (busy && now() >= lazy_until)
			timeout = 0;
		else if (busy)
			timeout = (int)((lazy_until - now()) * 1000) + 1;
		else if (idle)
			timeout = 10;
		nr = nr_targets;
		pfd = xrealloc(pfd, (nr + 1) * sizeof(*pfd));
		for (i = 0; i < nr; i++)
			pfd[i] = (struct pollfd){
				.fd = targets[i]->failed ? -1 : targets[i]->uffd, .events = POLLIN
			};
		pfd[nr] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
		if (poll(pfd, nr + 1, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[nr].revents & POLLIN)
			eventfd_read(wake_fd, &(eventfd_t){ 0 });
		for (i = 0; i < nr && i < nr_targets; i++) {
			struct target *t = targets[i];

			if (t->failed)
				continue;
			if (((pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) && drain(t) == -ESRCH) ||
			    (!t->failed && retry(t) == -ESRCH)) {
				/* Its memory is gone (exec or exit): nothing more to fill. */
				t->nr = t->nr_later = 0;
			}
		}
		if (now() < lazy_until)
			continue;
		for (i = 0; i < nr_targets; i++) {
			struct target *t = targets[(next + i) % nr_targets];

			if (!t->failed && t->nr && t->idle_until <= now()) {
				if (background(t) == -ESRCH)
					t->nr = t->nr_later = 0;
				break;
			}
		}
		next++;
	}
	free(pfd);
	return NULL;
}

/* The mappings of @pid, by address, in @maps (src unused); -1 if unreadable. */
static int maps_read(pid_t pid, struct target *maps)
{
	unsigned long long start, end;
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx", &start, &end) == 2)
			runs_push(maps, start, end, 0);
		/* (A line longer than that: its path; the rest of it is skipped.) */
		while (!strchr(line, '\n') && fgets(line, sizeof(line), f))
			;
	}
	if (ferror(f)) {
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	return 0;
}

/*
 * Registers the whole mappings that hold [start, end): registering only
 * the pages to come would split a mapping, and a later mremap of it whole
 * fail (EFAULT).  Its other pages, never touched, get zeros on a fault.
 * @done: the end of what is registered already.
 */
static int uffd_register(int uffd, const struct target *maps, uint64_t start, uint64_t end,
			 uint64_t *done)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	const uint64_t need = 1ULL << _UFFDIO_COPY | 1ULL << _UFFDIO_ZEROPAGE |
			      1ULL << _UFFDIO_WAKE;
	long i;

	for (start = start > *done ? start : *done; start < end; start = *done) {
		i = runs_find(maps, start);
		if (i < 0) {
			errno = ENOENT;
			return -1;
		}
		errno = 0;
		reg.range.start = maps->runs[i].start;
		reg.range.len = maps->runs[i].end - maps->runs[i].start;
		if (ioctl(uffd, UFFDIO_REGISTER, &reg) || (reg.ioctls & need) != need)
			return -1;
		*done = maps->runs[i].end;
	}
	return 0;
}

int postcopy_add(int uffd, pid_t pid, const struct crak_ckpt_range *ranges, unsigned int nr,
		 int store_fd, uint64_t base)
{
	struct target *t, maps = {};
	uint64_t done = 0;
	unsigned int i;

	if (!page)
		page = sysconf(_SC_PAGESIZE);
	if (store < 0) {
		store = fcntl(store_fd, F_DUPFD_CLOEXEC, 3);
		if (store < 0) {
			pr_err("restart %d: the pages sent ahead: %s", pid, strerror(errno));
			close(uffd);
			return -1;
		}
	}
	if (maps_read(pid, &maps)) {
		pr_err("restart %d: its mappings: %s", pid, strerror(errno));
		close(uffd);
		return -1;
	}
	t = xmalloc(sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->uffd = uffd;
	t->pid = pid;
	for (i = 0; i < nr; i++) {
		if (uffd_register(uffd, &maps, ranges[i].start, ranges[i].end, &done)) {
			pr_err("restart %d: its memory at %#llx, for post-copy: %s", pid,
			       (unsigned long long)ranges[i].start,
			       errno ? strerror(errno) : "not every fill it needs");
			close(uffd);
			free(maps.runs);
			free(t->runs);
			free(t);
			return -1;
		}
		runs_push(t, ranges[i].start, ranges[i].end, base + ranges[i].start);
	}
	free(maps.runs);
	target_add(t);
	return 0;
}

int postcopy_start(void)
{
	sigset_t all, old;
	pthread_t th;
	int err;

	if (!nr_targets)
		return 0;
	buf = xmalloc(CHUNK_PAGES * page);
	zeros = xmalloc(page);
	memset(zeros, 0, page);
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_fd < 0) {
		pr_err("post-copy: %s", strerror(errno));
		return -1;
	}
	/* Signals are the init's, not this thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&th, NULL, postcopy_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pr_err("post-copy: %s", strerror(err));
		return -1;
	}
	pthread_detach(th);
	return 0;
}
