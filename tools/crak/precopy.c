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
 * On the wire (mig.h), the pre-copy is records before the pod's image, each
 * a struct precopy_hdr (the size of an image section's header, of a type
 * no section has) and its pages.  One pass: the pages a process writes
 * while they are sent go in its image.
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

/* A process whose pages were sent, and which. */
struct sent {
	pid_t pid;			/* in the pod */
	unsigned long long start_time;	/* /proc/PID/stat: who it is */
	struct crak_ckpt_range *r;	/* ascending */
	unsigned int nr, cap;
	uint64_t *pfn;			/* of each page sent, in order */
	size_t nr_pfn, cap_pfn;
};

static struct sent *sent;
static unsigned int nr_sent;

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

/* -- the sender ------------------------------------------------------------ */

struct sender {
	int fd;				/* to crakd */
	pid_t *seen;			/* the processes looked at, here */
	unsigned int nr_seen;
	struct sent *s;
	int pagemap, mem;
	uint64_t *pm;			/* PRECOPY_RECORD_PAGES entries */
	char *buf;			/* as many pages, after a header */
	struct precopy_stats *st;
};

/* Sends the run of NR pages at ADDR (pagemap said PM), if it still reads. */
static int send_run(struct sender *sd, uint64_t addr, unsigned int nr, const uint64_t *pm)
{
	struct sent *s = sd->s;
	unsigned int i;
	struct precopy_hdr h = {
		.type = htole32(PRECOPY_RECORD_TYPE),
		.pid = htole32(sd->s->pid),
		.addr = htole64(addr),
		.nr_pages = htole32(nr),
	};
	size_t len = (size_t)nr * page_size();

	/* A mapping gone meanwhile: its pages go in the image, if anywhere. */
	if (pread(sd->mem, sd->buf + sizeof(h), len, addr) != (ssize_t)len)
		return 0;
	h.check = htole32(XXH32(&h, offsetof(struct precopy_hdr, check), 0));
	memcpy(sd->buf, &h, sizeof(h));
	if (mig_send_all(sd->fd, sd->buf, sizeof(h) + len)) {
		pr_err("migrate --live: sending memory: %s",
		       errno ? strerror(errno) : "the connection ended");
		return -1;
	}
	add_range(&s->r, &s->nr, &s->cap, addr, addr + len);
	if (s->nr_pfn + nr > s->cap_pfn) {
		s->cap_pfn = 2 * (s->nr_pfn + nr);
		s->pfn = xrealloc(s->pfn, s->cap_pfn * sizeof(*s->pfn));
	}
	for (i = 0; i < nr; i++)
		s->pfn[s->nr_pfn++] = pm[i] & PM_PFN;
	sd->st->pages += nr;
	sd->st->bytes += sizeof(h) + len;
	return 0;
}

/* The pages of [START, END) that are the process's alone. */
static int send_mapping(struct sender *sd, uint64_t start, uint64_t end)
{
	uint64_t addr, run;
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
		for (i = 0; i < n; i = run) {
			for (; i < n; i++)
				if ((sd->pm[i] & PM_MASK) == PM_OWN && (sd->pm[i] & PM_PFN))
					break;
			for (run = i; run < n; run++)
				if ((sd->pm[run] & PM_MASK) != PM_OWN || !(sd->pm[run] & PM_PFN))
					break;
			if (run > i && send_run(sd, addr + i * page_size(), run - i, sd->pm + i))
				return -1;
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

/* Whether HOST_PID shares its memory with a process already seen (or may). */
static bool shares_mm(const struct sender *sd, pid_t host_pid)
{
	unsigned int i;

	for (i = 0; i < sd->nr_seen; i++)
		if (syscall(SYS_kcmp, host_pid, sd->seen[i], KCMP_VM, 0, 0) <= 0)
			return true;
	return false;
}

/* One process (HOST_PID here, PID in the pod). */
static int send_proc(struct sender *sd, pid_t host_pid, pid_t pid)
{
	char line[4096], perms[8], path[4096];
	unsigned long long start, end, last = 0;
	int fd, ret = 0;
	FILE *maps;

	/* Its bits are another's too: clearing them again would lose writes. */
	if (nr_sent == MAX_PROCS || shares_mm(sd, host_pid))
		return 0;
	sd->seen[sd->nr_seen++] = host_pid;
	/* From here on, a write to any page marks it. */
	fd = proc_open(host_pid, "clear_refs", O_WRONLY);
	if (fd < 0 || write(fd, "4", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return 0;	/* gone, or a kernel thread: nothing sent ahead */
	}
	close(fd);
	sd->s = &sent[nr_sent];
	memset(sd->s, 0, sizeof(*sd->s));
	sd->s->pid = pid;
	sd->s->start_time = start_time(host_pid);
	sd->pagemap = proc_open(host_pid, "pagemap", O_RDONLY);
	sd->mem = proc_open(host_pid, "mem", O_RDONLY);
	maps = fdopen(proc_open(host_pid, "maps", O_RDONLY), "re");
	if (sd->pagemap < 0 || sd->mem < 0 || !maps || !sd->s->start_time)
		goto out;
	nr_sent++;
	sd->st->procs++;
	while (!ret && fgets(line, sizeof(line), maps)) {
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
		ret = send_mapping(sd, start, end);
	}
out:
	if (maps)
		fclose(maps);
	if (sd->pagemap >= 0)
		close(sd->pagemap);
	if (sd->mem >= 0)
		close(sd->mem);
	return ret;
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
static int soft_dirty_works(void)
{
	volatile char *page = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t clean = 0, dirty = 0;
	int fd, ok = 0;

	if (page == MAP_FAILED) {
		pr_err("migrate --live: %s", strerror(errno));
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
		pr_err("migrate --live: this kernel does not track written pages for us (it needs CONFIG_MEM_SOFT_DIRTY, and we CAP_SYS_ADMIN)");
	return ok ? 0 : -1;
}

static bool in_pod(pid_t host_pid, const struct stat *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", host_pid);
	return !stat(path, &st) && st.st_ino == ns->st_ino && st.st_dev == ns->st_dev;
}

int precopy_send(const struct pod *p, int fd, struct precopy_stats *st)
{
	struct sender sd = { .fd = fd, .st = st };
	double t0 = now_seconds();
	char path[64];
	struct dirent *de;
	struct stat ns;
	int ret = 0;
	DIR *d;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", p->pid);
	d = opendir("/proc");
	if (stat(path, &ns) || !d) {
		pr_err("migrate --live: pod '%s': %s", p->name, strerror(errno));
		if (d)
			closedir(d);
		return -1;
	}
	if (soft_dirty_works()) {
		closedir(d);
		return -1;
	}
	sent = xmalloc(MAX_PROCS * sizeof(*sent));
	sd.seen = xmalloc(MAX_PROCS * sizeof(*sd.seen));
	sd.pm = xmalloc(PRECOPY_RECORD_PAGES * sizeof(*sd.pm));
	sd.buf = xmalloc(sizeof(struct precopy_hdr) + PRECOPY_RECORD_PAGES * page_size());
	while (!ret && (de = readdir(d))) {
		pid_t host_pid = atoi(de->d_name), pid;

		if (host_pid <= 0 || host_pid == p->pid || !in_pod(host_pid, &ns))
			continue;
		pid = pid_in_pod(host_pid);
		if (pid > 1)
			ret = send_proc(&sd, host_pid, pid);
	}
	closedir(d);
	free(sd.seen);
	free(sd.pm);
	free(sd.buf);
	st->seconds = now_seconds() - t0;
	return ret;
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
	unsigned int i, j, n, nr = 0, cap = 0;
	struct crak_ckpt_range *out = NULL;
	const struct sent *s = NULL;
	uint64_t addr, pm[PRECOPY_RECORD_PAGES];
	size_t k = 0;
	int fd;

	*ranges = NULL;
	for (i = 0; i < nr_sent && !s; i++)
		if (sent[i].pid == pid)
			s = &sent[i];
	if (!s || !s->nr || start_time(pid) != s->start_time)
		return 0;
	fd = proc_open(pid, "pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	for (i = 0; i < s->nr; i++) {
		for (addr = s->r[i].start; addr < s->r[i].end; addr += (uint64_t)n * page_size()) {
			n = (s->r[i].end - addr) / page_size();
			if (n > PRECOPY_RECORD_PAGES)
				n = PRECOPY_RECORD_PAGES;
			if (pread(fd, pm, n * sizeof(*pm), addr / page_size() * sizeof(*pm)) !=
			    (ssize_t)(n * sizeof(*pm)))
				memset(pm, 0, sizeof(pm));
			/* Unchanged: its own still, the same page, not written. */
			for (j = 0; j < n; j++, k++)
				if ((pm[j] & (PM_MASK | PM_SOFT_DIRTY)) == PM_OWN &&
				    (pm[j] & PM_PFN) == s->pfn[k])
					add_range(&out, &nr, &cap, addr + j * page_size(),
						  addr + (j + 1) * page_size());
		}
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

int precopy_take(const void *hdr, int fd, const char *peer)
{
	struct precopy_hdr h;
	unsigned int slot;
	size_t len;
	char *buf;
	pid_t pid;
	int ret = -1;

	memcpy(&h, hdr, sizeof(h));
	len = (size_t)le32toh(h.nr_pages) * page_size();
	pid = le32toh(h.pid);
	if (le32toh(h.check) != XXH32(&h, offsetof(struct precopy_hdr, check), 0) ||
	    !h.nr_pages || le32toh(h.nr_pages) > PRECOPY_RECORD_PAGES || pid <= 1 ||
	    le64toh(h.addr) % page_size() || le64toh(h.addr) > ADDR_LIMIT - len) {
		pr_err("%s: a malformed page record", peer);
		return -1;
	}
	if (store < 0) {
		store = memfd_create("crakd-precopy", MFD_CLOEXEC);
		store_pids = xmalloc(MAX_PROCS * sizeof(*store_pids));
		if (store < 0) {
			pr_err("%s: keeping its pages: %s", peer, strerror(errno));
			return -1;
		}
	}
	for (slot = 0; slot < store_nr && store_pids[slot] != pid; slot++)
		;
	if (slot == store_nr) {
		if (store_nr == MAX_PROCS) {
			pr_err("%s: pages of more than %d processes", peer, MAX_PROCS);
			return -1;
		}
		store_pids[store_nr++] = pid;
	}
	buf = xmalloc(len);
	if (mig_recv_all(fd, buf, len))
		pr_err("%s: its pages: %s", peer, errno ? strerror(errno) : "the connection ended");
	else if (pwrite(store, buf, len, ((off_t)slot << ADDR_BITS) + le64toh(h.addr)) !=
		 (ssize_t)len)
		pr_err("%s: keeping its pages: %s", peer, strerror(errno));
	else
		ret = 0;
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
