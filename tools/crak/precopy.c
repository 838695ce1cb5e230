// SPDX-License-Identifier: GPL-2.0
/*
 * crak migrate --live: a pod's memory sent ahead while it runs.
 *
 * The sender (precopy_send) clears the soft-dirty bits of every process of
 * the pod (/proc/PID/clear_refs), then sends crakd the pages of their
 * private mappings that are in memory and theirs alone (pagemap: present,
 * mapped once, not a file's or shared memory's page), read from
 * /proc/PID/mem while the processes run on.  The pod is then checkpointed
 * as ever, but for each process the checkpoint leaves out
 * (CRAK_CKPT_A_SKIP) the pages it sent that are still so and whose
 * soft-dirty bit is still clear (precopy_skip): the kernel write-protects
 * every page when the bits are cleared, and the first write after marks
 * the page, so what is left out is what crakd has.  A page must also be
 * the same physical page it was (its PFN): one moved there by mremap keeps
 * its own clear bit.  A page freed and mapped again is not the process's
 * alone (the zero page) or is marked; a process that is not the one sent
 * (its PID taken again) is not left anything out, nor one that shares its
 * memory with another (clearing the other's bits would clear its own).
 * Needs CONFIG_MEM_SOFT_DIRTY (checked first) and CAP_SYS_ADMIN (PFNs);
 * whatever else clears soft-dirty bits meanwhile (a CRIU pre-dump) makes
 * the image wrong.
 *
 * crakd (precopy_take) keeps what it is sent in one memfd: the page at
 * address A of the Nth process (in the order their pages came) at offset
 * N << 47 | A.  Restarting each process, crak hands the kernel that file
 * and offset (CRAK_CKPT_A_FILL_FD, _FILL_BASE), and the kernel fills what
 * the image left out from there (precopy_fill_for).
 *
 * Rounds: after the first, each process is stopped a moment (crak_ckpt's
 * FREEZE, as crak checkpoint stops it: a call it sleeps in that a stop
 * signal would interrupt, epoll_wait say, returns EINTR) while its pagemap
 * is read and its bits are cleared at once, and what it wrote during the
 * round before is sent again (with the pages it has had since, or whose
 * PFN changed); the rest of what it was sent stays sent, if its page is
 * still its own, the same and not written.  Rounds go on while they shrink
 * (precopy.h); what is written during the last goes in the image.  Not
 * seen: a write by another process (process_vm_writev) between the read
 * and the clear of a round.
 *
 * On the wire (mig.h), the pre-copy is records before the pod's image, each
 * a struct precopy_hdr (the size of an image section's header, of a type
 * no section has) and its pages; a page sent again comes again.
 *
 * crak checkpoint --live (precopy_write) does the same for one process into
 * its image: AHEAD sections after HEAD (linux/crak_image.h), which crak
 * restart keeps as crakd keeps records (precopy_keep) before the kernel
 * fills the pages SKIP left out from them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xxhash.h>
#include <linux/crak_image.h>
#include <linux/kcmp.h>

#include "ckpt.h"
#include "image.h"
#include "mig.h"
#include "pod.h"
#include "precopy.h"
#include "util.h"

/* pagemap's bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT	(1ULL << 63)
#define PM_FILE		(1ULL << 61)	/* a file's page, or shared memory's */
#define PM_EXCLUSIVE	(1ULL << 56)	/* mapped once */
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_PFN		((1ULL << 55) - 1)
/* A page that may go ahead: in memory, the process's own. */
#define PM_MASK		(PM_PRESENT | PM_EXCLUSIVE | PM_FILE)
#define PM_OWN		(PM_PRESENT | PM_EXCLUSIVE)

/* How long a round may wait for a process to stop. */
#define FREEZE_MS	2000

/* Addresses in the store: below 2^47, the Nth process's at N << 47. */
#define ADDR_BITS	47
#define ADDR_LIMIT	(1ULL << ADDR_BITS)
#define MAX_PROCS	32767

/* As many ranges as one CRAK_CKPT_A_SKIP attribute holds. */
#define MAX_SKIP	((65535 - 4) / sizeof(struct crak_ckpt_range))

struct precopy_hdr {
	uint32_t type;			/* PRECOPY_RECORD_TYPE */
	uint32_t pid;			/* in the pod */
	uint64_t addr;
	uint32_t nr_pages;		/* that follow, at most PRECOPY_RECORD_PAGES */
	uint32_t check;			/* xxh32 (seed 0) of the 20 bytes above */
};

_Static_assert(sizeof(struct precopy_hdr) == sizeof(struct crak_image_section),
	       "a record's header reads as an image section's");

/* Pages: addresses ascending, and the PFN each had when chosen. */
struct pages {
	uint64_t *addr, *pfn;
	size_t nr, cap;
};

/* A process whose pages were sent, and which. */
struct sent {
	pid_t pid;			/* in the pod */
	pid_t host_pid;			/* here */
	unsigned long long start_time;	/* /proc/PID/stat: who it is */
	struct pages pg;		/* each page sent */
};

static struct sent *sent;
static unsigned int nr_sent;
static bool sent_lone;			/* by precopy_write(): one process */

static long page_size(void)
{
	static long ps;

	if (!ps)
		ps = sysconf(_SC_PAGESIZE);
	return ps;
}

/* Its start time since boot, in clock ticks (0: unknown). */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* Field 22, counting from the state (3) after the name's ')'. */
	p = strrchr(buf, ')');
	for (i = 2; p && i < 22; i++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

static void add_range(struct crak_ckpt_range **r, unsigned int *nr, unsigned int *cap,
		      uint64_t start, uint64_t end)
{
	if (*nr && (*r)[*nr - 1].end == start) {
		(*r)[*nr - 1].end = end;
		return;
	}
	if (*nr == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*r = xrealloc(*r, *cap * sizeof(**r));
	}
	(*r)[*nr].start = start;
	(*r)[(*nr)++].end = end;
}

/* How many of the NR pages at ADDR follow the first without a gap, itself
 * included (at most a record's).
 */
static size_t pages_run(const uint64_t *addr, size_t nr)
{
	size_t n;

	for (n = 1; n < nr && n < PRECOPY_RECORD_PAGES && addr[n] == addr[0] + n * page_size(); n++)
		;
	return n;
}

/* -- the sender ------------------------------------------------------------ */

static void pages_add(struct pages *p, uint64_t addr, uint64_t pfn)
{
	if (p->nr == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 1024;
		p->addr = xrealloc(p->addr, p->cap * sizeof(*p->addr));
		p->pfn = xrealloc(p->pfn, p->cap * sizeof(*p->pfn));
	}
	p->addr[p->nr] = addr;
	p->pfn[p->nr++] = pfn;
}

struct sender {
	const char *what;		/* for messages: "migrate --live" */
	int fd;				/* to crakd, or */
	struct img *im;			/* the image (AHEAD sections) */
	bool lone;			/* one process, not a pod's */
	bool progress;			/* a line on standard error, on a terminal */
	bool shown;			/* it was shown */
	uint64_t shown_bytes;
	struct nl nl;			/* crak_ckpt, to stop a process a moment */
	pid_t *seen;			/* the processes looked at, here */
	unsigned int nr_seen;
	struct stat ns;			/* the pod's PID namespace */
	struct sent *s;
	int pagemap, mem, clear_refs;
	FILE *maps;
	struct pages todo;		/* this round's, of the process */
	bool *keep;			/* of what it was sent: still so */
	uint64_t *pm;			/* PRECOPY_RECORD_PAGES entries */
	char *buf;			/* as many pages, after a header */
	struct precopy_stats *st;
	unsigned int stops;		/* rounds' stops made */
	double t_stop;			/* when the last began */
};

/* How much went ahead, every 16 MiB and at each round's end, in place. */
static void show_progress(struct sender *sd, bool always)
{
	if (!sd->progress || (!always && sd->st->bytes - sd->shown_bytes < (16ULL << 20)))
		return;
	fprintf(stderr, "\rcrak: %s: %" PRIu64 " MiB written ahead", sd->what,
		sd->st->bytes >> 20);
	sd->shown = true;
	sd->shown_bytes = sd->st->bytes;
}

/* The NR pages at ADDR, in sd->buf after a header's room: an AHEAD section. */
static int write_run(struct sender *sd, uint64_t addr, unsigned int nr, size_t len)
{
	struct crak_img_ahead a = {
		.pid = htole32(sd->s->pid),
		.nr_pages = htole32(nr),
		.addr = htole64(addr),
	};
	uint64_t before = sd->im->offset;

	if (img_write_section2(sd->im, CRAK_IMG_AHEAD, &a, sizeof(a),
			       sd->buf + sizeof(struct precopy_hdr), len))
		return -1;
	sd->st->bytes += sd->im->offset - before;
	return 0;
}

/* The same to crakd: a record, its header in that room. */
static int wire_run(struct sender *sd, uint64_t addr, unsigned int nr, size_t len)
{
	struct precopy_hdr h = {
		.type = htole32(PRECOPY_RECORD_TYPE),
		.pid = htole32(sd->s->pid),
		.addr = htole64(addr),
		.nr_pages = htole32(nr),
	};

	h.check = htole32(XXH32(&h, offsetof(struct precopy_hdr, check), 0));
	memcpy(sd->buf, &h, sizeof(h));
	if (mig_send_all(sd->fd, sd->buf, sizeof(h) + len)) {
		pr_err("%s: sending memory: %s", sd->what,
		       errno ? strerror(errno) : "the connection ended");
		return -1;
	}
	sd->st->bytes += sizeof(h) + len;
	return 0;
}

/* Sends the NR pages at ADDR (consecutive), if they still read. */
static int send_run(struct sender *sd, uint64_t addr, unsigned int nr)
{
	size_t len = (size_t)nr * page_size();

	/* A mapping gone meanwhile: its pages go in the image, if anywhere. */
	if (pread(sd->mem, sd->buf + sizeof(struct precopy_hdr), len, addr) != (ssize_t)len)
		return 1;
	if (sd->im ? write_run(sd, addr, nr, len) : wire_run(sd, addr, nr, len))
		return -1;
	sd->st->pages += nr;
	show_progress(sd, false);
	return 0;
}

/*
 * The process's pages as the round chose them (sd->todo), read now and
 * sent in runs; they and what was sent before that is still so (sd->keep)
 * are what it was sent now.  Whatever else was sent is forgotten: its bit
 * was cleared, and the checkpoint must write it.
 */
static int send_todo(struct sender *sd)
{
	struct pages *t = &sd->todo, *was = &sd->s->pg, now = {};
	size_t i, j, k;
	bool *ok;
	int err;

	ok = xmalloc((t->nr ? t->nr : 1) * sizeof(*ok));
	for (i = 0; i < t->nr; i = j) {
		j = i + pages_run(t->addr + i, t->nr - i);
		err = send_run(sd, t->addr[i], j - i);
		if (err < 0) {
			free(ok);
			return -1;
		}
		for (k = i; k < j; k++)
			ok[k] = !err;
	}
	for (i = 0, j = 0; i < was->nr || j < t->nr;) {
		if (j == t->nr || (i < was->nr && was->addr[i] < t->addr[j])) {
			if (sd->keep[i])
				pages_add(&now, was->addr[i], was->pfn[i]);
			i++;
			continue;
		}
		if (i < was->nr && was->addr[i] == t->addr[j])
			i++;
		/* Not read again: crakd's copy is old, the checkpoint writes it. */
		if (ok[j])
			pages_add(&now, t->addr[j], t->pfn[j]);
		j++;
	}
	free(ok);
	free(was->addr);
	free(was->pfn);
	*was = now;
	return 0;
}

/*
 * The pages of [START, END) that are the process's alone and that crakd
 * lacks: in the first round every one; after, those it has not, or whose
 * PFN changed, or that were written since their bits were cleared.  *AT
 * walks what was sent, in step; what still holds is kept (sd->keep).
 */
static int choose_pages(struct sender *sd, uint64_t start, uint64_t end, size_t *at)
{
	const struct pages *was = &sd->s->pg;
	bool same;
	uint64_t addr, a, pfn;
	unsigned int i, n;
	ssize_t got;

	for (addr = start; addr < end; addr += (uint64_t)n * page_size()) {
		n = (end - addr) / page_size();
		if (n > PRECOPY_RECORD_PAGES)
			n = PRECOPY_RECORD_PAGES;
		got = pread(sd->pagemap, sd->pm, n * sizeof(*sd->pm),
			    addr / page_size() * sizeof(*sd->pm));
		if (got != (ssize_t)(n * sizeof(*sd->pm)))
			return 0;	/* unmapped meanwhile */
		for (i = 0; i < n; i++) {
			a = addr + (uint64_t)i * page_size();
			pfn = sd->pm[i] & PM_PFN;
			if ((sd->pm[i] & PM_MASK) != PM_OWN || !pfn)
				continue;
			while (*at < was->nr && was->addr[*at] < a)
				(*at)++;
			same = *at < was->nr && was->addr[*at] == a && was->pfn[*at] == pfn &&
			       !(sd->pm[i] & PM_SOFT_DIRTY);
			if (same)
				sd->keep[*at] = true;
			else
				pages_add(&sd->todo, a, pfn);
		}
	}
	return 0;
}

static int proc_open(pid_t pid, const char *what, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	return open(path, flags | O_CLOEXEC);
}

/* From here on, a write to any of its pages marks it: 0, or -1. */
static int clear_soft_dirty(struct sender *sd)
{
	return pwrite(sd->clear_refs, "4", 1, 0) == 1 ? 0 : -1;
}

/* The process's private mappings, walked by choose_pages(). */
static int choose_all(struct sender *sd)
{
	char line[4096], perms[8], path[4096];
	unsigned long long start, end, last = 0;
	size_t at = 0;
	int ret = 0;

	rewind(sd->maps);
	while (!ret && fgets(line, sizeof(line), sd->maps)) {
		path[0] = 0;
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %4095s", &start, &end, perms, path) < 3)
			continue;
		/* Private; not the vDSO's, vvar's or vsyscall's. */
		if (perms[3] != 'p' || end > ADDR_LIMIT ||
		    (path[0] == '[' && strcmp(path, "[heap]") && strcmp(path, "[stack]") &&
		     strncmp(path, "[anon:", 6)))
			continue;
		/* A mapping that grew between two reads of maps comes again. */
		if (start < last)
			start = last;
		if (start >= end)
			continue;
		last = end;
		ret = choose_pages(sd, start, end, &at);
	}
	return ret;
}

static int freeze_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_CKPT_A_MAX + 1];

	if (ckpt_parse(nlh, tb) || !tb[CRAK_CKPT_A_SESSION_FD])
		return nl_malformed("crak_ckpt");
	*(int *)data = mnl_attr_get_u32(tb[CRAK_CKPT_A_SESSION_FD]);
	return MNL_CB_OK;
}

/* Whether HOST_PID is of the pod whose PID namespace NS is (NULL: any process). */
static bool in_pod(pid_t host_pid, const struct stat *ns)
{
	char path[64];
	struct stat st;

	if (!ns)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", host_pid);
	return !stat(path, &st) && st.st_ino == ns->st_ino && st.st_dev == ns->st_dev;
}

/* Whether A and B share their memory (or may: kcmp cannot tell; B gone: no). */
static bool same_mm(pid_t a, pid_t b)
{
	long r = syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0);

	return r == 0 || (r < 0 && errno != ESRCH);
}

/*
 * Whether another process of the pod whose PID namespace NS is (NULL: any
 * process) shares the memory of HOST_PID (or may).
 */
static bool has_sharer(const struct stat *ns, pid_t host_pid)
{
	struct dirent *de;
	bool found = false;
	pid_t other;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return true;
	while (!found && (de = readdir(d))) {
		other = atoi(de->d_name);
		if (other > 0 && other != host_pid && in_pod(other, ns) &&
		    same_mm(host_pid, other))
			found = true;
	}
	closedir(d);
	return found;
}

/*
 * Process S stopped a moment (crak_ckpt's FREEZE, as crak checkpoint
 * stops it), for reading its bits and clearing them at once: the session's
 * descriptor, which lets it go when closed, or -1: gone, not stopped within
 * FREEZE_MS, or sharing its memory with another process, which runs on and
 * could write between the two (vfork): then not this round.
 */
static int stop_a_moment(struct sender *sd, const struct sent *s)
{
	struct nlmsghdr *nlh;
	int sessfd = -1;

	if (start_time(s->host_pid) != s->start_time)
		return -1;
	nlh = nl_request(&sd->nl, CRAK_CKPT_CMD_FREEZE, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_PID, s->host_pid);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_MEM_FD, sd->mem);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_TIMEOUT_MS, FREEZE_MS);
	/* Its post-copy from a move before still under way: not this round. */
	if (nl_exec_allow(&sd->nl, sd->what, freeze_cb, &sessfd, EAGAIN))
		return -1;
	sd->t_stop = now_seconds();
	if (has_sharer(sd->lone ? NULL : &sd->ns, s->host_pid)) {
		close(sessfd);
		return -1;
	}
	sd->stops++;
	return sessfd;
}

/*
 * One process's round.  The first (S new): its bits cleared, every page of
 * its own chosen.  Later ones: stopped, what changed chosen and its bits
 * cleared, let go.  Then the pages chosen are read and sent.
 */
static int send_round(struct sender *sd, struct sent *s, bool again)
{
	size_t nkeep = s->pg.nr ? s->pg.nr : 1;
	int ret = 0, sessfd = -1;
	double stopped;

	sd->s = s;
	sd->keep = xmalloc(nkeep * sizeof(*sd->keep));
	memset(sd->keep, 0, nkeep * sizeof(*sd->keep));
	/* Its own, even if its PID were taken again meanwhile. */
	sd->pagemap = proc_open(s->host_pid, "pagemap", O_RDONLY);
	sd->mem = proc_open(s->host_pid, "mem", O_RDONLY);
	sd->clear_refs = proc_open(s->host_pid, "clear_refs", O_WRONLY);
	sd->maps = fdopen(proc_open(s->host_pid, "maps", O_RDONLY), "re");
	if (sd->pagemap < 0 || sd->mem < 0 || sd->clear_refs < 0 || !sd->maps)
		goto out;	/* gone, or a kernel thread: nothing sent ahead */
	if (again) {
		sessfd = stop_a_moment(sd, s);
		if (sessfd < 0)
			goto out;
	} else if (clear_soft_dirty(sd)) {
		goto out;
	}
	ret = choose_all(sd);
	if (again) {
		if (!ret && clear_soft_dirty(sd))
			sd->todo.nr = 0;
		close(sessfd);
		stopped = now_seconds() - sd->t_stop;
		if (stopped > sd->st->stopped)
			sd->st->stopped = stopped;
	}
	if (!ret)
		ret = send_todo(sd);
	show_progress(sd, true);
out:
	free(sd->keep);
	sd->todo.nr = 0;
	if (sd->maps)
		fclose(sd->maps);
	sd->maps = NULL;
	if (sd->clear_refs >= 0)
		close(sd->clear_refs);
	if (sd->pagemap >= 0)
		close(sd->pagemap);
	if (sd->mem >= 0)
		close(sd->mem);
	return ret;
}

/* Whether HOST_PID shares its memory with a process already seen (or may). */
static bool shares_mm(const struct sender *sd, pid_t host_pid)
{
	unsigned int i;

	for (i = 0; i < sd->nr_seen; i++)
		if (same_mm(host_pid, sd->seen[i]))
			return true;
	return false;
}

/* One process (HOST_PID here, PID in the pod), its first round. */
static int send_proc(struct sender *sd, pid_t host_pid, pid_t pid)
{
	struct sent *s = &sent[nr_sent];

	/* Its bits are another's too: clearing them again would lose writes. */
	if (nr_sent == MAX_PROCS || shares_mm(sd, host_pid))
		return 0;
	sd->seen[sd->nr_seen++] = host_pid;
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->host_pid = host_pid;
	s->start_time = start_time(host_pid);
	if (!s->start_time)
		return 0;
	nr_sent++;
	return send_round(sd, s, false);
}

/* Our own page's entry, PM_PFN and all. */
static int self_entry(const volatile char *page, uint64_t *pm)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, pm, sizeof(*pm), (uintptr_t)page / page_size() * sizeof(*pm));
	close(fd);
	return n == sizeof(*pm) ? 0 : -1;
}

/*
 * Whether this kernel tracks soft-dirty pages (CONFIG_MEM_SOFT_DIRTY; its
 * clear_refs takes "4" either way) and shows us PFNs: 0, or -1 after
 * saying why.  A page of our own written, its bit cleared, written again.
 */
static int soft_dirty_works(const char *what)
{
	volatile char *page = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t clean = 0, dirty = 0;
	int fd, ok = 0;

	if (page == MAP_FAILED) {
		pr_err("%s: %s", what, strerror(errno));
		return -1;
	}
	page[0] = 1;
	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, "4", 1) == 1 && !self_entry(page, &clean)) {
		page[0] = 2;
		ok = !self_entry(page, &dirty) && !(clean & PM_SOFT_DIRTY) &&
		     (dirty & PM_SOFT_DIRTY) && (dirty & PM_PFN);
	}
	if (fd >= 0)
		close(fd);
	munmap((void *)page, page_size());
	if (!ok)
		pr_err("%s: this kernel does not track written pages for us (it needs CONFIG_MEM_SOFT_DIRTY, and we CAP_SYS_ADMIN)",
		       what);
	return ok ? 0 : -1;
}

/*
 * Rounds after the first, while they shrink: each sends what the pod wrote
 * during the one before, until that is little or the pod writes as fast as
 * it goes.
 */
static int send_again(struct sender *sd)
{
	uint64_t last = sd->st->pages, before;
	unsigned int i, stops;
	int ret = 0;

	sd->nl.quiet = true;	/* a process that cannot stop is sent no more */
	while (!ret && sd->st->rounds < PRECOPY_ROUNDS && last > PRECOPY_FEW) {
		before = sd->st->pages;
		stops = sd->stops;
		for (i = 0; i < nr_sent && !ret; i++)
			ret = send_round(sd, &sent[i], true);
		/* None could be stopped: no round. */
		if (sd->stops == stops)
			break;
		sd->st->rounds++;
		sd->st->last = sd->st->pages - before;
		if (sd->st->last * 2 > last)
			break;
		last = sd->st->last;
	}
	return ret;
}

/* The sender's start: 0, or -1 after saying why. */
static int sender_begin(struct sender *sd)
{
	memset(sd->st, 0, sizeof(*sd->st));
	if (soft_dirty_works(sd->what) || nl_open(&sd->nl, &ckpt_family))
		return -1;
	sent = xmalloc(MAX_PROCS * sizeof(*sent));
	nr_sent = 0;
	sent_lone = sd->lone;
	sd->seen = xmalloc(MAX_PROCS * sizeof(*sd->seen));
	sd->pm = xmalloc(PRECOPY_RECORD_PAGES * sizeof(*sd->pm));
	sd->buf = xmalloc(sizeof(struct precopy_hdr) + PRECOPY_RECORD_PAGES * page_size());
	return 0;
}

/* After the first round (RET its outcome): the others, then the end. */
static int sender_end(struct sender *sd, int ret, double t0)
{
	unsigned int i;

	sd->st->rounds = 1;
	sd->st->last = sd->st->pages;
	if (!ret)
		ret = send_again(sd);
	for (i = 0; i < nr_sent; i++)
		sd->st->procs += sent[i].pg.nr > 0;
	if (sd->shown)
		fputc('\n', stderr);
	nl_close(&sd->nl);
	free(sd->seen);
	free(sd->pm);
	free(sd->buf);
	free(sd->todo.addr);
	free(sd->todo.pfn);
	sd->st->seconds = now_seconds() - t0;
	return ret;
}

int precopy_send(const struct pod *p, int fd, struct precopy_stats *st)
{
	struct sender sd = { .what = "migrate --live", .fd = fd, .st = st };
	double t0 = now_seconds();
	char path[64];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", p->pid);
	d = opendir("/proc");
	if (stat(path, &sd.ns) || !d) {
		pr_err("migrate --live: pod '%s': %s", p->name, strerror(errno));
		if (d)
			closedir(d);
		return -1;
	}
	if (sender_begin(&sd)) {
		closedir(d);
		return -1;
	}
	while (!ret && (de = readdir(d))) {
		pid_t host_pid = atoi(de->d_name), pid;

		if (host_pid <= 0 || host_pid == p->pid || !in_pod(host_pid, &sd.ns))
			continue;
		pid = pid_in_pod(host_pid);
		if (pid > 1)
			ret = send_proc(&sd, host_pid, pid);
	}
	closedir(d);
	return sender_end(&sd, ret, t0);
}

int precopy_write(pid_t pid, struct img *im, struct precopy_stats *st, bool progress)
{
	struct sender sd = { .what = "checkpoint --live", .fd = -1, .im = im, .lone = true,
			     .progress = progress, .st = st };
	double t0 = now_seconds();

	if (sender_begin(&sd))
		return -1;
	return sender_end(&sd, send_proc(&sd, pid, pid), t0);
}

/* -- the checkpoint ---------------------------------------------------------- */

static int by_size(const void *a, const void *b)
{
	const struct crak_ckpt_range *x = a, *y = b;
	uint64_t lx = x->end - x->start, ly = y->end - y->start;

	return lx < ly ? 1 : lx > ly ? -1 : 0;
}

static int by_start(const void *a, const void *b)
{
	const struct crak_ckpt_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

unsigned int precopy_skip(pid_t pid, struct crak_ckpt_range **ranges)
{
	unsigned int i, nr = 0, cap = 0;
	struct crak_ckpt_range *out = NULL;
	const struct sent *s = NULL;
	const struct pages *pg;
	uint64_t pm[PRECOPY_RECORD_PAGES];
	size_t k, j, n;
	int fd;

	*ranges = NULL;
	for (i = 0; i < nr_sent && !s; i++)
		if (sent[i].pid == pid)
			s = &sent[i];
	if (!s || !s->pg.nr || start_time(pid) != s->start_time)
		return 0;
	/*
	 * A lone process whose memory another shares (CLONE_VM, vfork) may
	 * have been written by it, its bits cleared by neither: written whole.
	 */
	if (sent_lone && has_sharer(NULL, pid))
		return 0;
	pg = &s->pg;
	fd = proc_open(pid, "pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	/* Runs of consecutive pages sent, a pagemap read each. */
	for (k = 0; k < pg->nr; k += n) {
		n = pages_run(pg->addr + k, pg->nr - k);
		if (pread(fd, pm, n * sizeof(*pm), pg->addr[k] / page_size() * sizeof(*pm)) !=
		    (ssize_t)(n * sizeof(*pm)))
			memset(pm, 0, sizeof(pm));
		/* Unchanged: its own still, the same page, not written. */
		for (j = 0; j < n; j++)
			if ((pm[j] & (PM_MASK | PM_SOFT_DIRTY)) == PM_OWN &&
			    (pm[j] & PM_PFN) == pg->pfn[k + j])
				add_range(&out, &nr, &cap, pg->addr[k + j],
					  pg->addr[k + j] + page_size());
	}
	close(fd);
	/* Too many to name: the biggest are left out, the rest written. */
	if (nr > MAX_SKIP) {
		qsort(out, nr, sizeof(*out), by_size);
		nr = MAX_SKIP;
		qsort(out, nr, sizeof(*out), by_start);
	}
	*ranges = out;
	return nr;
}

/* -- crakd --------------------------------------------------------------------- */

static int store = -1;
static pid_t *store_pids;
static unsigned int store_nr;

int precopy_keep(pid_t pid, uint64_t addr, const void *pages, uint64_t nr, const char *from)
{
	uint64_t len = nr * page_size();
	unsigned int slot;

	if (pid <= 0 || !nr || nr > ADDR_LIMIT / page_size() || addr % page_size() ||
	    addr > ADDR_LIMIT - len) {
		pr_err("%s: a malformed page record", from);
		return -1;
	}
	if (store < 0) {
		store = memfd_create("crak-precopy", MFD_CLOEXEC);
		store_pids = xmalloc(MAX_PROCS * sizeof(*store_pids));
		if (store < 0) {
			pr_err("%s: keeping its pages: %s", from, strerror(errno));
			return -1;
		}
	}
	for (slot = 0; slot < store_nr && store_pids[slot] != pid; slot++)
		;
	if (slot == store_nr) {
		if (store_nr == MAX_PROCS) {
			pr_err("%s: pages of more than %d processes", from, MAX_PROCS);
			return -1;
		}
		store_pids[store_nr++] = pid;
	}
	if (pwrite(store, pages, len, ((off_t)slot << ADDR_BITS) + addr) != (ssize_t)len) {
		pr_err("%s: keeping its pages: %s", from, strerror(errno));
		return -1;
	}
	return 0;
}

int precopy_take(const void *hdr, int fd, const char *peer)
{
	struct precopy_hdr h;
	size_t len;
	char *buf;
	int ret = -1;

	memcpy(&h, hdr, sizeof(h));
	len = (size_t)le32toh(h.nr_pages) * page_size();
	if (le32toh(h.check) != XXH32(&h, offsetof(struct precopy_hdr, check), 0) ||
	    !h.nr_pages || le32toh(h.nr_pages) > PRECOPY_RECORD_PAGES || (pid_t)le32toh(h.pid) <= 1) {
		pr_err("%s: a malformed page record", peer);
		return -1;
	}
	buf = xmalloc(len);
	if (mig_recv_all(fd, buf, len))
		pr_err("%s: its pages: %s", peer, errno ? strerror(errno) : "the connection ended");
	else
		ret = precopy_keep(le32toh(h.pid), le64toh(h.addr), buf, le32toh(h.nr_pages), peer);
	free(buf);
	return ret;
}

int precopy_fd(void)
{
	return store;
}

void precopy_drop(void)
{
	if (store >= 0)
		close(store);
	store = -1;
	store_nr = 0;
}

void precopy_park(int base)
{
	int high;

	if (store < 0)
		return;
	high = fcntl(store, F_DUPFD_CLOEXEC, base);
	if (high >= 0) {
		close(store);
		store = high;
	}
}

int precopy_fill_for(pid_t pid, uint64_t *base)
{
	unsigned int slot;

	for (slot = 0; slot < store_nr; slot++) {
		if (store_pids[slot] == pid) {
			*base = (uint64_t)slot << ADDR_BITS;
			return store;
		}
	}
	return -1;
}
