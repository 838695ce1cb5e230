// SPDX-License-Identifier: GPL-2.0
/*
 * The fixture of the checkpoint/restart selftests: a process that sets up
 * one kind of state, waits to be checkpointed, and once restarted checks
 * that it finds that state exactly as it left it.
 *
 *	prog MODE DIR
 *
 * DIR is an existing directory (the nodes share it).  The protocol:
 *
 *  1. prog sets up the state of MODE; the files it makes are in DIR;
 *  2. it writes "ready\n" to DIR/ready (as DIR/ready.tmp, then renamed);
 *  3. it waits: the runner may checkpoint it, kill it and restart it from
 *     the image (on this node or another), or checkpoint it and leave it
 *     running (--leave-running), or not checkpoint it at all;
 *  4. the runner sends SIGUSR1; prog checks everything it set up and writes
 *     its verdict to DIR/result (again through DIR/result.tmp) and to its
 *     standard output: "PASS\n", or one line per difference,
 *     "FAIL: what (expected X, got Y)\n".  It exits 0 on PASS, 1 otherwise.
 *
 * Lines starting with "# " on standard output are notes, not verdicts.
 * Where DIR's file system cannot hold something (9p without a cache maps
 * no file shared and writable, and may refuse FIFOs), that one thing goes
 * to /dev/shm or /tmp, with a note: the process then restarts on its own
 * node only.
 *
 * SIGUSR1 is blocked from the start, so that it is never lost: each mode
 * waits for it in its own way (sigsuspend, sigwait, a handler waking a
 * blocking call, or a spinning loop for the registers).  Every mode also
 * checks that the process kept its PID and exactly its descriptors.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <sys/epoll.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

/* The kernel's (asm/signal.h); glibc keeps it to itself. */
#ifndef SA_RESTORER
#define SA_RESTORER	0x04000000
#endif

/* Linux 6.4's; glibc 2.36 has them not. */
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE	67
#define PR_GET_MEMORY_MERGE	68
#endif

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((noreturn))
#define noinline	__attribute__((noinline))

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KiB		1024UL
#define MiB		(1024UL * 1024)
#define NSEC_PER_SEC	1000000000LL

static char dir[PATH_MAX - 64];	/* DIR, absolute, with room for names in it */
static long page_size;

/* -- recording failures ---------------------------------------------------- */

static pthread_mutex_t verdict_lock = PTHREAD_MUTEX_INITIALIZER;
static char verdict[256 * KiB];	/* the FAIL lines so far */
static size_t verdict_len;
static unsigned int nr_failures;

static void failf(const char *fmt, ...) __printf(1, 2);
static void failf(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	pthread_mutex_lock(&verdict_lock);
	nr_failures++;
	if (verdict_len + n + 8 < sizeof(verdict))
		verdict_len += snprintf(verdict + verdict_len, sizeof(verdict) - verdict_len,
					"FAIL: %.*s\n", n, line);
	pthread_mutex_unlock(&verdict_lock);
}

#define CHECK(cond, ...)			\
	do {					\
		if (!(cond))			\
			failf(__VA_ARGS__);	\
	} while (0)

static void vcheck(bool ok, const char *fmt, va_list ap, const char *expected, const char *got)
{
	char what[512];

	if (ok)
		return;
	vsnprintf(what, sizeof(what), fmt, ap);
	failf("%s (expected %s, got %s)", what, expected, got);
}

/* EXP == GOT, shown in decimal. */
static void check_eq(long long exp, long long got, const char *fmt, ...)
	__printf(3, 4);
static void check_eq(long long exp, long long got, const char *fmt, ...)
{
	char e[32], g[32];
	va_list ap;

	snprintf(e, sizeof(e), "%lld", exp);
	snprintf(g, sizeof(g), "%lld", got);
	va_start(ap, fmt);
	vcheck(exp == got, fmt, ap, e, g);
	va_end(ap);
}

/* EXP == GOT, shown in hexadecimal. */
static void check_hex(uint64_t exp, uint64_t got, const char *fmt, ...)
	__printf(3, 4);
static void check_hex(uint64_t exp, uint64_t got, const char *fmt, ...)
{
	char e[32], g[32];
	va_list ap;

	snprintf(e, sizeof(e), "%#" PRIx64, exp);
	snprintf(g, sizeof(g), "%#" PRIx64, got);
	va_start(ap, fmt);
	vcheck(exp == got, fmt, ap, e, g);
	va_end(ap);
}

static void check_str(const char *exp, const char *got, const char *fmt, ...)
	__printf(3, 4);
static void check_str(const char *exp, const char *got, const char *fmt, ...)
{
	char e[400], g[400];
	va_list ap;

	snprintf(e, sizeof(e), "\"%s\"", exp);
	snprintf(g, sizeof(g), "\"%s\"", got);
	va_start(ap, fmt);
	vcheck(!strcmp(exp, got), fmt, ap, e, g);
	va_end(ap);
}

/* LEN bytes equal; the first difference is shown. */
static void check_bytes(const void *exp, const void *got, size_t len, const char *fmt, ...)
	__printf(4, 5);
static void check_bytes(const void *exp, const void *got, size_t len, const char *fmt, ...)
{
	const unsigned char *e = exp, *g = got;
	char es[48], gs[48];
	size_t i, nr = 0, first = 0;
	va_list ap;

	for (i = 0; i < len; i++)
		if (e[i] != g[i] && !nr++)
			first = i;
	if (!nr)
		return;
	snprintf(es, sizeof(es), "0x%02x at byte %zu", e[first], first);
	snprintf(gs, sizeof(gs), "0x%02x; %zu bytes differ", g[first], nr);
	va_start(ap, fmt);
	vcheck(false, fmt, ap, es, gs);
	va_end(ap);
}

/* A system call that set things up failed: the test cannot go on. */
static void __noreturn die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "prog: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	exit(2);
}

/* -- patterns ------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t pattern_word(uint64_t seed, size_t i)
{
	return mix64(seed * 0x100000001b3ULL + i);
}

/* LEN bytes of SEED's pattern at P. */
static void fill_pattern(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_word(seed, i);
}

/* Whether LEN bytes at P hold SEED's pattern from its byte OFF on; a FAIL
 * line if not.
 */
static bool check_pattern_at(const void *p, size_t len, uint64_t seed, size_t off,
			     const char *fmt, ...) __printf(5, 6);
static bool check_pattern_at(const void *p, size_t len, uint64_t seed, size_t off,
			     const char *fmt, ...)
{
	const uint64_t *w = p;
	size_t i, nr = 0, first = 0;
	char what[256], e[64], g[64];
	va_list ap;

	for (i = 0; i < len / 8; i++)
		if (w[i] != pattern_word(seed, off / 8 + i) && !nr++)
			first = i;
	if (!nr)
		return true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(e, sizeof(e), "%#" PRIx64 " at offset %#zx", pattern_word(seed, off / 8 + first),
		 first * 8);
	snprintf(g, sizeof(g), "%#" PRIx64 "; %zu of %zu words differ", w[first], nr, len / 8);
	failf("%s (expected %s, got %s)", what, e, g);
	return false;
}

#define check_pattern(p, len, seed, ...) check_pattern_at(p, len, seed, 0, __VA_ARGS__)

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

/* -- files and /proc ------------------------------------------------------ */

static void dir_path(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
}

/* NAME in DIR with exactly TEXT, never seen half written. */
static void write_atomic(const char *name, const char *text)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	size_t len = strlen(text);
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	dir_path(path, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) || close(fd))
		die("%s", tmp);
	if (rename(tmp, path))
		die("%s", path);
}

/* All of PATH into BUF (NUL-terminated); its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return len;
}

/* Where the link PATH leads, or why it cannot be read. */
static void link_of(const char *path, char *buf, size_t size)
{
	ssize_t n = readlink(path, buf, size - 1);

	if (n < 0)
		snprintf(buf, size, "(readlink: %s)", strerror(errno));
	else
		buf[n] = 0;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n <= 0)
			return false;
		buf = (const char *)buf + n;
		len -= n;
	}
	return true;
}

/* Reads exactly LEN bytes, or fewer at end of file: how many. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0)
			return got ? (ssize_t)got : -1;
		if (!n)
			break;
		got += n;
	}
	return got;
}

/* The line of /proc/self/maps holding ADDR as "start-end perms [path]". */
static void maps_line(const void *addr, char *out, size_t size)
{
	static char maps[1 * MiB];
	uintptr_t a = (uintptr_t)addr;
	char *line, *save;

	snprintf(out, size, "(no mapping)");
	if (read_file("/proc/self/maps", maps, sizeof(maps)) < 0)
		return;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long start, end;
		char perms[8], path[PATH_MAX] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095[^\n]", &start, &end, perms,
			   path) < 3)
			continue;
		if (a < start || a >= end)
			continue;
		/* A shared anonymous mapping's inode changes: not its path. */
		if (!strncmp(path, "/dev/zero", 9) || !strncmp(path, "/SYSV", 5))
			path[0] = 0;
		snprintf(out, size, "%lx-%lx %s%s%s", start, end, perms, path[0] ? " " : "",
			 path);
		return;
	}
}

/* The kB of the mapping at ADDR that are out in swap (its smaps "Swap:"). */
static long swapped_kb(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	char line[PATH_MAX + 128];
	unsigned long start, end;
	bool in = false;
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		die("/proc/self/smaps");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = a >= start && a < end;
		else if (in && sscanf(line, "Swap: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* The kB /proc/self/status gives on the line of KEY ("VmLck:"), -1 if none. */
static long status_kb(const char *key)
{
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && sscanf(line + strlen(key), "%ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The device and inode /proc/self/maps gives the mapping at ADDR (0 if none). */
static unsigned long map_ino(const void *addr, dev_t *dev)
{
	static char maps[1 * MiB];
	uintptr_t a = (uintptr_t)addr;
	unsigned long start, end, ino;
	unsigned int major, minor;
	char *line, *save;

	*dev = 0;
	if (read_file("/proc/self/maps", maps, sizeof(maps)) < 0)
		return 0;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &start, &end, &major, &minor,
			   &ino) == 5 && a >= start && a < end) {
			*dev = makedev(major, minor);
			return ino;
		}
	}
	return 0;
}

/*
 * The advice madvise(2) gave the mapping at ADDR, and its lock, as its smaps
 * "VmFlags:" names them (dc, wf, dd, hg, nh, sr, rr, mg, lo, lf, in that
 * order), into OUT.  (Linux 6.1 names VM_LOCKONFAULT "??", "lf" here.)
 */
static void vm_advice(const void *addr, char *out, size_t size)
{
	static const char *const codes[] = {
		"dc", "wf", "dd", "hg", "nh", "sr", "rr", "mg", "lo", "lf",
	};
	uintptr_t a = (uintptr_t)addr;
	char line[PATH_MAX + 128];
	unsigned long start, end;
	bool in = false;
	size_t i, n = 0;
	FILE *f;

	snprintf(out, size, "(no VmFlags)");
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		die("/proc/self/smaps");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = a >= start && a < end;
			continue;
		}
		if (!in || strncmp(line, "VmFlags:", 8))
			continue;
		out[0] = 0;
		for (i = 0; i < ARRAY_SIZE(codes); i++) {
			char word[5];

			snprintf(word, sizeof(word), " %s", codes[i]);
			if ((strstr(line, word) || (!strcmp(codes[i], "lf") && strstr(line, " ??"))) &&
			    n + 4 < size)
				n += snprintf(out + n, size - n, "%s%s", n ? " " : "", codes[i]);
		}
		break;
	}
	fclose(f);
}

/* vm_advice() of an anonymous page mapped now (then unmapped), into OUT. */
static void new_vm_advice(char *out, size_t size)
{
	void *p;

	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	vm_advice(p, out, size);
	munmap(p, page_size);
}

/*
 * Whether maps_line() found the same mapping NOW as BEFORE: the same line,
 * or an anonymous private mapping grown into a neighbour of its kind.  A
 * restart maps each region apart and the kernel merges the neighbours it
 * may; what kept them apart before (the heap starts a new mapping past the
 * program's .bss) is its own history, not state the process can tell.
 */
static bool maps_same(const char *before, const char *now)
{
	unsigned long bs, be, ns, ne;
	char bp[8], np[8], bpath[64] = "", npath[64] = "";

	if (!strcmp(before, now))
		return true;
	if (sscanf(before, "%lx-%lx %7s %63s", &bs, &be, bp, bpath) < 3 ||
	    sscanf(now, "%lx-%lx %7s %63s", &ns, &ne, np, npath) < 3)
		return false;
	return !strcmp(bp, np) && bp[3] == 'p' && !strcmp(bpath, npath) &&
	       (!bpath[0] || !strcmp(bpath, "[heap]")) && ns <= bs && ne >= be;
}

/* The descriptors open now, as a string "0 1 2 5 ..." (without the
 * listing's own).
 */
static void fd_list(char *out, size_t size)
{
	char buf[4096];
	size_t len = 0;
	int dfd;
	long n;

	out[0] = 0;
	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(out, size, "(unreadable)");
		return;
	}
	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < n) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			off += d->d_reclen;
			if (d->d_name[0] == '.' || atoi(d->d_name) == dfd)
				continue;
			len += snprintf(out + len, size - len, "%s%s", len ? " " : "", d->d_name);
			if (len >= size)
				break;
		}
	}
	close(dfd);
}

/* fd numbers sort as strings in getdents' order, not ours: sort them. */
static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void fd_list_sorted(char *out, size_t size)
{
	char raw[4096], *tok, *save;
	int fds[512], nr = 0, i;
	size_t len = 0;

	fd_list(raw, sizeof(raw));
	for (tok = strtok_r(raw, " ", &save); tok && nr < 512; tok = strtok_r(NULL, " ", &save))
		fds[nr++] = atoi(tok);
	qsort(fds, nr, sizeof(int), cmp_int);
	out[0] = 0;
	for (i = 0; i < nr && len < size; i++)
		len += snprintf(out + len, size - len, "%s%d", i ? " " : "", fds[i]);
}

static void sigset_str(const sigset_t *set, char *out, size_t size)
{
	size_t len = 0;
	int sig;

	len += snprintf(out, size, "{");
	for (sig = 1; sig <= 64 && len < size; sig++)
		if (sigismember(set, sig) == 1)
			len += snprintf(out + len, size - len, "%s%d",
					out[len - 1] == '{' ? "" : ",", sig);
	if (len < size)
		snprintf(out + len, size - len, "}");
}

static void check_sigset(const sigset_t *exp, const sigset_t *got, const char *what)
{
	char e[256], g[256];

	sigset_str(exp, e, sizeof(e));
	sigset_str(got, g, sizeof(g));
	check_str(e, g, "%s", what);
}

static pid_t gettid_raw(void)
{
	return syscall(SYS_gettid);
}

static uint64_t fs_base(void)
{
	unsigned long fs = 0;

	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fs))
		failf("arch_prctl(ARCH_GET_FS): %s", strerror(errno));
	return fs;
}

/* -- waiting and the verdict ---------------------------------------------- */

static volatile unsigned char usr1_flag;	/* read by the spinning asm too */
static pid_t start_pid;
static char start_fds[4096];

static void on_usr1(int sig)
{
	(void)sig;
	usr1_flag = 1;
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		die("sigaction(%d)", sig);
}

/* What every mode checks afterwards: taken here, with DIR/ready written. */
static void ready(void)
{
	start_pid = getpid();
	fd_list_sorted(start_fds, sizeof(start_fds));
	write_atomic("ready", "ready\n");
}

/* Until SIGUSR1 (blocked otherwise) has come. */
static void wait_usr1(void)
{
	sigset_t m;

	sigprocmask(SIG_BLOCK, NULL, &m);
	sigdelset(&m, SIGUSR1);
	while (!usr1_flag)
		sigsuspend(&m);
}

static int finish(void)
{
	char fds[4096];

	check_eq(start_pid, getpid(), "getpid()");
	fd_list_sorted(fds, sizeof(fds));
	check_str(start_fds, fds, "open descriptors");

	pthread_mutex_lock(&verdict_lock);
	if (!nr_failures)
		verdict_len = snprintf(verdict, sizeof(verdict), "PASS\n");
	else if (verdict_len + 64 >= sizeof(verdict))
		verdict_len += snprintf(verdict + verdict_len, sizeof(verdict) - verdict_len,
					"FAIL: (more failures than fit)\n");
	pthread_mutex_unlock(&verdict_lock);
	write_atomic("result", verdict);
	fputs(verdict, stdout);
	fflush(stdout);
	return nr_failures ? 1 : 0;
}

/* -- memory ---------------------------------------------------------------- */

#define MALLOC_SIZE	(4 * MiB)
#define SPARSE_SIZE	(8 * MiB)
#define SPARSE_STEP	7		/* every 7th page is touched */
#define SHANON_SIZE	(1 * MiB)
#define FILEMAP_PAGES	16
#define HEAP_GROW	(256 * KiB)
#define HEAP_GROW2	(64 * KiB)
#define STACK_BYTES	(256 * KiB)
#define GUARD_PAGES	4
#define RO_PAGES	4

enum {
	SEED_MALLOC = 1, SEED_SPARSE, SEED_SHANON, SEED_PRIVFILE, SEED_PRIVMOD, SEED_SHFILE,
	SEED_SHMOD, SEED_HEAP, SEED_HEAP2, SEED_STACK, SEED_RO, SEED_DELFILE, SEED_DELMOD,
	SEED_DEVZERO, SEED_DELSHFILE,
};

/*
 * Mappings madvise(2) advised, or mlock(2) locked, each the middle third of
 * one anonymous mapping whose other thirds keep none (a restart that made
 * the middle plain would see it join the first): advice, its name.
 */
#define ADVISED_PAGES	4
#define ADVICE_MLOCK		(-1)	/* mlock() */
#define ADVICE_MLOCK_ONFAULT	(-2)	/* mlock2(MLOCK_ONFAULT) */
static const struct {
	int advice;
	const char *name;
} advised[] = {
	{ MADV_DONTFORK, "MADV_DONTFORK" },
	{ MADV_WIPEONFORK, "MADV_WIPEONFORK" },
	{ MADV_DONTDUMP, "MADV_DONTDUMP" },
	{ MADV_HUGEPAGE, "MADV_HUGEPAGE" },
	{ MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE" },
	{ MADV_SEQUENTIAL, "MADV_SEQUENTIAL" },
	{ MADV_RANDOM, "MADV_RANDOM" },
	{ MADV_MERGEABLE, "MADV_MERGEABLE" },
	{ ADVICE_MLOCK, "mlock" },
	{ ADVICE_MLOCK_ONFAULT, "mlock2 MLOCK_ONFAULT" },
};

static int advise(char *addr, size_t len, int advice)
{
	if (advice == ADVICE_MLOCK)
		return mlock(addr, len);
	if (advice == ADVICE_MLOCK_ONFAULT)
		return mlock2(addr, len, MLOCK_ONFAULT);
	return madvise(addr, len, advice);
}

#define SEED_ADVISED	100

struct advised_map {
	char *base;			/* 3 * ADVISED_PAGES, NULL if not advised */
	char maps[3][PATH_MAX + 64];	/* maps_line() of each third */
	char advice[3][32];		/* vm_advice() of each third */
};

static struct advised_map advised_maps[ARRAY_SIZE(advised)];

static void advise_set_up(void)
{
	size_t len = ADVISED_PAGES * page_size, i, k;
	struct advised_map *m;

	for (i = 0; i < ARRAY_SIZE(advised); i++) {
		m = &advised_maps[i];
		m->base = mmap(NULL, 3 * len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m->base == MAP_FAILED)
			die("mmap for %s", advised[i].name);
		fill_pattern(m->base, 3 * len, SEED_ADVISED + i);
		if (advise(m->base + len, len, advised[i].advice)) {
			/* A kernel without KSM or THP takes no such advice. */
			if (errno != EINVAL || advised[i].advice < 0)
				die("madvise %s", advised[i].name);
			printf("# this kernel refuses %s\n", advised[i].name);
			fflush(stdout);
			munmap(m->base, 3 * len);
			m->base = NULL;
		}
	}
	/* Once all are made: a mapping made next to another joins its plain third. */
	for (i = 0; i < ARRAY_SIZE(advised); i++) {
		m = &advised_maps[i];
		if (!m->base)
			continue;
		for (k = 0; k < 3; k++) {
			maps_line(m->base + k * len, m->maps[k], sizeof(m->maps[k]));
			vm_advice(m->base + k * len, m->advice[k], sizeof(m->advice[k]));
		}
		if (!strcmp(m->advice[1], m->advice[0]))
			die("%s left no mark in smaps (%s)", advised[i].name, m->advice[1]);
	}
}

/*
 * What it asked for the memory it maps from then on, kept: a mapping made
 * now is locked on fault (mlockall(MCL_FUTURE | MCL_ONFAULT)), transparent
 * huge pages are off (PR_SET_THP_DISABLE).
 */
static void later_check(void)
{
	char now[32];

	new_vm_advice(now, sizeof(now));
	check_str("lo lf", now, "VmFlags of a mapping made after mlockall(%s)",
		  "MCL_FUTURE | MCL_ONFAULT");
	CHECK(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1, "%s is no longer set",
	      "PR_SET_THP_DISABLE");
}

/*
 * Each advised mapping as it was, its advice kept, and the advice at work:
 * a child forked now has no MADV_DONTFORK mapping and finds its
 * MADV_WIPEONFORK mapping zero.
 */
static void advise_check(void)
{
	static const char *const third[] = { "first", "middle", "last" };
	size_t len = ADVISED_PAGES * page_size, i, k;
	char now[PATH_MAX + 64];
	unsigned char vec;
	struct advised_map *m;
	int status;
	pid_t pid;

	for (i = 0; i < ARRAY_SIZE(advised); i++) {
		m = &advised_maps[i];
		if (!m->base)
			continue;
		for (k = 0; k < 3; k++) {
			/* A plain third may join a plain neighbour (maps_same()). */
			maps_line(m->base + k * len, now, sizeof(now));
			if (k == 1 ? strcmp(m->maps[k], now) : !maps_same(m->maps[k], now))
				check_str(m->maps[k], now,
					  "/proc/self/maps line of the %s third of the %s mapping",
					  third[k], advised[i].name);
			vm_advice(m->base + k * len, now, sizeof(now));
			check_str(m->advice[k], now, "advice (smaps VmFlags) of the %s third of the %s mapping",
				  third[k], advised[i].name);
		}
		check_pattern(m->base, 3 * len, SEED_ADVISED + i, "contents of the %s mapping",
			      advised[i].name);
	}

	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		int bad = 0;

		m = &advised_maps[0];	/* MADV_DONTFORK */
		if (m->base && (mincore(m->base + len, len, &vec) != -1 || errno != ENOMEM))
			bad |= 1;
		if (m->base && mincore(m->base, page_size, &vec))
			bad |= 4;
		m = &advised_maps[1];	/* MADV_WIPEONFORK */
		for (k = 0; m->base && k < len; k++)
			if (m->base[len + k])
				bad |= 2;
		if (m->base) {
			char *buf = malloc(len);

			if (!buf)
				_exit(8);
			fill_pattern(buf, len, SEED_ADVISED + 1);
			if (memcmp(buf, m->base, len))
				bad |= 4;
		}
		_exit(bad);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		die("waitpid");
	CHECK(!(WEXITSTATUS(status) & 1), "a child forked after the restart has the %s mapping",
	      "MADV_DONTFORK");
	CHECK(!(WEXITSTATUS(status) & 2),
	      "a child forked after the restart finds the %s mapping not zero", "MADV_WIPEONFORK");
	CHECK(!(WEXITSTATUS(status) & 4),
	      "a child forked after the restart lacks what its parent's advice left it");
	CHECK(!(WEXITSTATUS(status) & 8), "a child forked after the restart: out of memory");
}

/* A private mapping of /dev/zero: its first half written. */
#define DEVZERO_PAGES	8

/* The deleted file ends short of its last page: the rest reads as zeroes. */
#define DELFILE_TAIL	104
#define DELMOD_PAGE	2

/* Pages of the private file mapping written through it, and of the shared. */
static const int privmod_pages[] = { 0, 3, 7, 15 };
static const int shmod_pages[] = { 1, 2, 9 };

static bool in_list(const int *v, size_t n, int x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Touch the stack well below here, so that the checks afterwards do not
 * grow the [stack] mapping compared below.
 */
static noinline void pre_touch_stack(void)
{
	volatile char pad[128 * KiB];
	size_t i;

	for (i = 0; i < sizeof(pad); i += 1024)
		pad[i] = 1;
}

/* A file of LEN bytes of SEED's pattern in DIR, opened read-write. */
static int make_pattern_file(const char *name, size_t len, uint64_t seed)
{
	char path[PATH_MAX];
	void *buf = malloc(len);
	int fd;

	dir_path(path, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (!buf || fd < 0)
		die("%s", path);
	fill_pattern(buf, len, seed);
	if (!write_all(fd, buf, len) || fsync(fd))
		die("%s", path);
	free(buf);
	return fd;
}

struct region {
	const char *name;
	const void *addr;
	char before[PATH_MAX + 64];
};

static void add_region(struct region *v, unsigned int *nr, const char *name, const void *addr)
{
	v[*nr].name = name;
	v[(*nr)++].addr = addr;
}

static int mode_memory(void)
{
	static const char zero_page[64 * KiB];
	uint64_t stack_area[STACK_BYTES / 8];
	size_t sparse_pages = SPARSE_SIZE / page_size, i;
	char *mal, *sparse, *shanon, *priv, *shared, *heap, *heap_end, *guard, *ro;
	char *deltext, *deldata, *delshared, *devzero, *p, *buf, now[PATH_MAX + 64];
	char deltext_before[PATH_MAX + 64];
	size_t del_size = FILEMAP_PAGES * page_size - DELFILE_TAIL;
	int privfd, shfd, delfd, zerofd, probe[2], shared_flags = MAP_SHARED;
	struct timespec rt0, rt1, mono0, mono1;
	long locked_kb;
	struct region regions[10];
	unsigned int nr_regions = 0, r;
	struct timeval tv;
	bool sh_fallback = false;
	char path[PATH_MAX];

	if (pipe2(probe, O_CLOEXEC))
		die("pipe");
	if ((size_t)page_size > sizeof(zero_page))
		die("pages of %ld bytes", page_size);

	mal = malloc(MALLOC_SIZE);
	if (!mal)
		die("malloc");
	fill_pattern(mal, MALLOC_SIZE, SEED_MALLOC);

	sparse = mmap(NULL, SPARSE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (sparse == MAP_FAILED)
		die("mmap sparse");
	for (i = 0; i < sparse_pages; i += SPARSE_STEP)
		fill_pattern(sparse + i * page_size, page_size, SEED_SPARSE * 1000000 + i);

	shanon = mmap(NULL, SHANON_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shanon == MAP_FAILED)
		die("mmap shared anonymous");
	fill_pattern(shanon, SHANON_SIZE, SEED_SHANON);
	/*
	 * Half of it out in swap where the node has swap (resources.sh makes
	 * some): a checkpoint must read it back, not take it for a hole.
	 */
	if (madvise(shanon, SHANON_SIZE / 2, MADV_PAGEOUT))
		die("madvise MADV_PAGEOUT");
	printf("# %ld kB of the shared anonymous mapping in swap\n", swapped_kb(shanon));
	fflush(stdout);

	/* A private file mapping: some pages changed, the file never. */
	privfd = make_pattern_file("privmap", FILEMAP_PAGES * page_size, SEED_PRIVFILE);
	priv = mmap(NULL, FILEMAP_PAGES * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		    privfd, 0);
	if (priv == MAP_FAILED)
		die("mmap %s/privmap", dir);
	for (i = 0; i < ARRAY_SIZE(privmod_pages); i++)
		fill_pattern(priv + privmod_pages[i] * page_size, page_size,
			     SEED_PRIVMOD * 1000 + privmod_pages[i]);

	/* A shared file mapping written through: the file shows the writes. */
	shfd = make_pattern_file("shmap", FILEMAP_PAGES * page_size, SEED_SHFILE);
	shared = mmap(NULL, FILEMAP_PAGES * page_size, PROT_READ | PROT_WRITE, shared_flags,
		      shfd, 0);
	if (shared == MAP_FAILED && errno == EINVAL) {
		/* 9p without a cache maps files read-only when shared: the
		 * file goes to /dev/shm, which only this node sees.
		 */
		close(shfd);
		snprintf(path, sizeof(path), "/dev/shm/ckpt-prog-shmap.%d", getpid());
		shfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		buf = malloc(FILEMAP_PAGES * page_size);
		if (shfd < 0 || !buf)
			die("%s", path);
		fill_pattern(buf, FILEMAP_PAGES * page_size, SEED_SHFILE);
		if (!write_all(shfd, buf, FILEMAP_PAGES * page_size))
			die("%s", path);
		free(buf);
		shared = mmap(NULL, FILEMAP_PAGES * page_size, PROT_READ | PROT_WRITE, shared_flags,
			      shfd, 0);
		sh_fallback = true;
	}
	if (shared == MAP_FAILED)
		die("mmap shared file");
	for (i = 0; i < ARRAY_SIZE(shmod_pages); i++)
		fill_pattern(shared + shmod_pages[i] * page_size, page_size,
			     SEED_SHMOD * 1000 + shmod_pages[i]);

	/*
	 * A file mapped twice, private, then deleted (a library upgraded under
	 * a running program): its "text" read-only (executable where the
	 * directory allows), its "data" with a page written.  Only the image
	 * has its contents now.
	 */
	delfd = make_pattern_file("delmap", FILEMAP_PAGES * page_size, SEED_DELFILE);
	if (ftruncate(delfd, del_size))
		die("truncate %s/delmap", dir);
	deltext = mmap(NULL, FILEMAP_PAGES * page_size, PROT_READ | PROT_EXEC, MAP_PRIVATE,
		       delfd, 0);
	if (deltext == MAP_FAILED && errno == EPERM)	/* a noexec mount */
		deltext = mmap(NULL, FILEMAP_PAGES * page_size, PROT_READ, MAP_PRIVATE, delfd, 0);
	deldata = mmap(NULL, FILEMAP_PAGES * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       delfd, 0);
	if (deltext == MAP_FAILED || deldata == MAP_FAILED)
		die("mmap %s/delmap", dir);
	fill_pattern(deldata + DELMOD_PAGE * page_size, page_size, SEED_DELMOD);
	dir_path(path, "delmap");
	if (close(delfd) || unlink(path))
		die("unlink %s", path);
	maps_line(deltext, deltext_before, sizeof(deltext_before));

	/*
	 * A file mapped shared, then deleted (read-only: 9p without a cache
	 * shares no writable mapping, and a descriptor open for writing makes
	 * it one): it comes back as shared memory, its contents from the image.
	 */
	delfd = make_pattern_file("delshmap", FILEMAP_PAGES * page_size, SEED_DELSHFILE);
	if (ftruncate(delfd, del_size) || close(delfd))
		die("truncate %s/delshmap", dir);
	dir_path(path, "delshmap");
	delfd = open(path, O_RDONLY | O_CLOEXEC);
	delshared = mmap(NULL, FILEMAP_PAGES * page_size, PROT_READ, MAP_SHARED, delfd, 0);
	if (delfd < 0 || delshared == MAP_FAILED)
		die("mmap %s shared", path);
	if (close(delfd) || unlink(path))
		die("unlink %s", path);

	/* Memory the old way: anonymous, though a file is mapped. */
	zerofd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	devzero = mmap(NULL, DEVZERO_PAGES * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       zerofd, 0);
	if (zerofd < 0 || devzero == MAP_FAILED || close(zerofd))
		die("mmap /dev/zero");
	fill_pattern(devzero, DEVZERO_PAGES / 2 * page_size, SEED_DEVZERO);

	heap = sbrk(HEAP_GROW);
	if (heap == (void *)-1)
		die("sbrk");
	fill_pattern(heap, HEAP_GROW, SEED_HEAP);
	heap_end = sbrk(0);

	fill_pattern(stack_area, sizeof(stack_area), SEED_STACK);

	guard = mmap(NULL, GUARD_PAGES * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED)
		die("mmap guard");
	ro = mmap(NULL, RO_PAGES * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	if (ro == MAP_FAILED)
		die("mmap read-only");
	fill_pattern(ro, RO_PAGES * page_size, SEED_RO);
	if (mprotect(ro, RO_PAGES * page_size, PROT_READ))
		die("mprotect");

	advise_set_up();

	add_region(regions, &nr_regions, "malloc'd block", mal);
	add_region(regions, &nr_regions, "sparse mapping", sparse);
	add_region(regions, &nr_regions, "shared anonymous mapping", shanon);
	add_region(regions, &nr_regions, "private file mapping", priv);
	add_region(regions, &nr_regions, "shared file mapping", shared);
	add_region(regions, &nr_regions, "sbrk'd heap", heap);
	add_region(regions, &nr_regions, "stack", stack_area);
	add_region(regions, &nr_regions, "PROT_NONE guard", guard);
	add_region(regions, &nr_regions, "read-only mapping", ro);
	add_region(regions, &nr_regions, "vDSO", (const void *)getauxval(AT_SYSINFO_EHDR));
	pre_touch_stack();
	for (r = 0; r < nr_regions; r++)
		maps_line(regions[r].addr, regions[r].before, sizeof(regions[r].before));
	if (sh_fallback)
		printf("# %s maps no shared writable file: %s\n", dir,
		       "the shared file mapping is in /dev/shm");
	clock_gettime(CLOCK_REALTIME, &rt0);
	/*
	 * What it asks for the memory it maps from now on, as root with no
	 * RLIMIT_MEMLOCK: only CAP_IPC_LOCK lets it lock, and its restarter.
	 */
	if (setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ 0, 0 }))
		die("RLIMIT_MEMLOCK");
	if (mlockall(MCL_FUTURE | MCL_ONFAULT))
		die("mlockall");
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		die("PR_SET_THP_DISABLE");
	locked_kb = status_kb("VmLck:");

	ready();
	wait_usr1();

	/* Before anything may move the break or the stack, or map. */
	check_hex((uintptr_t)heap_end, (uintptr_t)sbrk(0), "sbrk(0)");
	check_eq(locked_kb, status_kb("VmLck:"), "kB of locked memory (VmLck)");
	later_check();
	for (r = 0; r < nr_regions; r++) {
		maps_line(regions[r].addr, now, sizeof(now));
		if (!maps_same(regions[r].before, now))
			check_str(regions[r].before, now, "/proc/self/maps line of the %s",
				  regions[r].name);
	}

	check_pattern(mal, MALLOC_SIZE, SEED_MALLOC, "malloc'd block");
	for (i = 0; i < sparse_pages; i++) {
		p = sparse + i * page_size;
		if (i % SPARSE_STEP)
			check_bytes(zero_page, p, page_size,
				    "untouched page %zu of the sparse mapping", i);
		else
			check_pattern(p, page_size, SEED_SPARSE * 1000000 + i,
				      "touched page %zu of the sparse mapping", i);
	}
	check_pattern(shanon, SHANON_SIZE, SEED_SHANON, "shared anonymous mapping");

	buf = malloc(FILEMAP_PAGES * page_size);
	if (!buf)
		die("malloc");
	/* The file itself, untouched by the private writes... */
	check_eq(FILEMAP_PAGES * page_size, pread(privfd, buf, FILEMAP_PAGES * page_size, 0),
		 "pread of %s/privmap", dir);
	check_pattern(buf, FILEMAP_PAGES * page_size, SEED_PRIVFILE, "contents of %s/privmap", dir);
	/* ...shows through the pages the mapping did not change. */
	for (i = 0; i < FILEMAP_PAGES; i++) {
		p = priv + i * page_size;
		if (in_list(privmod_pages, ARRAY_SIZE(privmod_pages), i))
			check_pattern(p, page_size, SEED_PRIVMOD * 1000 + i,
				      "changed page %zu of the private file mapping", i);
		else
			check_bytes(buf + i * page_size, p, page_size,
				    "unchanged page %zu of the private file mapping against its file",
				    i);
	}

	check_eq(FILEMAP_PAGES * page_size, pread(shfd, buf, FILEMAP_PAGES * page_size, 0),
		 "pread of the shared mapping's file");
	for (i = 0; i < FILEMAP_PAGES; i++) {
		p = shared + i * page_size;
		if (in_list(shmod_pages, ARRAY_SIZE(shmod_pages), i)) {
			check_pattern(p, page_size, SEED_SHMOD * 1000 + i,
				      "written page %zu of the shared file mapping", i);
			check_pattern(buf + i * page_size, page_size, SEED_SHMOD * 1000 + i,
				      "page %zu of the shared mapping's file (written through the mapping)",
				      i);
		} else {
			check_pattern_at(p, page_size, SEED_SHFILE, i * page_size,
					 "unwritten page %zu of the shared file mapping", i);
			check_pattern_at(buf + i * page_size, page_size, SEED_SHFILE, i * page_size,
					 "unwritten page %zu of the shared mapping's file", i);
		}
	}
	free(buf);

	/* The deleted file's mappings: as they were, but for their name. */
	check_pattern(deltext, del_size, SEED_DELFILE, "mapping of a deleted file");
	check_bytes(zero_page, deltext + del_size, DELFILE_TAIL,
		    "tail of the last page of a deleted file's mapping");
	for (i = 0; i < FILEMAP_PAGES; i++) {
		p = deldata + i * page_size;
		if (i == DELMOD_PAGE)
			check_pattern(p, page_size, SEED_DELMOD,
				      "written page %zu of a deleted file's private mapping", i);
		else
			check_bytes(deltext + i * page_size, p,
				    i + 1 < FILEMAP_PAGES ? page_size : page_size - DELFILE_TAIL,
				    "page %zu of a deleted file's private mapping", i);
	}
	/* "start-end perms [name]": the name goes, the protection stays. */
	maps_line(deltext, now, sizeof(now));
	deltext_before[strcspn(deltext_before, " ") + 5] = 0;
	now[strcspn(now, " ") + 5] = 0;
	check_str(strchr(deltext_before, ' '), strchr(now, ' ') ?: now,
		  "protection of a deleted file's mapping");

	check_pattern(delshared, del_size, SEED_DELSHFILE, "shared mapping of a deleted file");
	check_bytes(zero_page, delshared + del_size, DELFILE_TAIL,
		    "tail of the last page of a deleted file's shared mapping");
	maps_line(delshared, now, sizeof(now));
	p = strchr(now, ' ');
	if (!p || strncmp(p, " r--s", 5))
		failf("the deleted file's shared mapping is now %s", now);

	check_pattern(devzero, DEVZERO_PAGES / 2 * page_size, SEED_DEVZERO,
		      "written half of a private mapping of /dev/zero");
	for (i = DEVZERO_PAGES / 2; i < DEVZERO_PAGES; i++)
		check_bytes(zero_page, devzero + i * page_size, page_size,
			    "untouched page %zu of a private mapping of /dev/zero", i);

	advise_check();

	check_pattern(heap, HEAP_GROW, SEED_HEAP, "sbrk'd heap");
	check_pattern(stack_area, sizeof(stack_area), SEED_STACK, "array on the stack");
	check_pattern(ro, RO_PAGES * page_size, SEED_RO, "read-only mapping");

	/* Access as it was: the kernel refuses to copy from or to them. */
	errno = 0;
	check_eq(-EFAULT, write(probe[1], guard, 1) < 0 ? -errno : 0,
		 "write(2) from the PROT_NONE guard region (-errno)");
	if (write(probe[1], "x", 1) != 1)
		failf("write to a pipe: %s", strerror(errno));
	errno = 0;
	check_eq(-EFAULT, read(probe[0], ro, 1) < 0 ? -errno : 0,
		 "read(2) into the read-only mapping (-errno)");

	/* The heap grows on. */
	p = sbrk(HEAP_GROW2);
	check_hex((uintptr_t)heap_end, (uintptr_t)p, "sbrk(%lu) after the restart", HEAP_GROW2);
	if (p != (void *)-1) {
		fill_pattern(p, HEAP_GROW2, SEED_HEAP2);
		check_pattern(p, HEAP_GROW2, SEED_HEAP2, "heap grown after the restart");
		check_hex((uintptr_t)heap_end + HEAP_GROW2, (uintptr_t)sbrk(0),
			  "sbrk(0) after growing");
	}

	/* The vDSO: sane clocks, and time went on. */
	CHECK(!clock_gettime(CLOCK_REALTIME, &rt1), "clock_gettime(CLOCK_REALTIME): %s",
	      strerror(errno));
	CHECK(rt1.tv_sec > 1600000000,
	      "CLOCK_REALTIME is not sane (expected > 1600000000 s, got %lld s)",
	      (long long)rt1.tv_sec);
	CHECK(rt1.tv_sec > rt0.tv_sec || (rt1.tv_sec == rt0.tv_sec && rt1.tv_nsec > rt0.tv_nsec),
	      "CLOCK_REALTIME did not move forward (expected > %lld.%09ld, got %lld.%09ld)",
	      (long long)rt0.tv_sec, rt0.tv_nsec, (long long)rt1.tv_sec, rt1.tv_nsec);
	CHECK(!gettimeofday(&tv, NULL), "gettimeofday: %s", strerror(errno));
	CHECK(llabs((long long)tv.tv_sec - rt1.tv_sec) <= 5,
	      "gettimeofday disagrees with CLOCK_REALTIME (expected %lld s, got %lld s)",
	      (long long)rt1.tv_sec, (long long)tv.tv_sec);
	CHECK(!clock_gettime(CLOCK_MONOTONIC, &mono0) && !clock_gettime(CLOCK_MONOTONIC, &mono1),
	      "clock_gettime(CLOCK_MONOTONIC): %s", strerror(errno));
	CHECK(mono1.tv_sec > mono0.tv_sec ||
	      (mono1.tv_sec == mono0.tv_sec && mono1.tv_nsec >= mono0.tv_nsec),
	      "CLOCK_MONOTONIC went backwards (expected >= %lld.%09ld, got %lld.%09ld)",
	      (long long)mono0.tv_sec, mono0.tv_nsec, (long long)mono1.tv_sec, mono1.tv_nsec);
	CHECK(mono0.tv_sec || mono0.tv_nsec, "CLOCK_MONOTONIC is zero (expected > 0, got 0)");

	if (sh_fallback) {
		snprintf(path, sizeof(path), "/dev/shm/ckpt-prog-shmap.%d", start_pid);
		unlink(path);
	}
	return finish();
}

/* -- registers ------------------------------------------------------------- */

/* Offsets are spelled out in the asm below. */
struct regset {
	uint64_t gpr[5];		/* 0: rbx, r12, r13, r14, r15 */
	uint32_t mxcsr;			/* 40 */
	uint16_t fcw;			/* 44 */
	uint8_t pad[18];
	uint8_t vec[16][32];		/* 64: xmmN, then ymmN's upper half */
};

_Static_assert(offsetof(struct regset, mxcsr) == 40, "regset layout");
_Static_assert(offsetof(struct regset, fcw) == 44, "regset layout");
_Static_assert(offsetof(struct regset, vec) == 64, "regset layout");

#define MXCSR_TEST	0xff80	/* all masked, round toward zero, flush to zero */
#define FCW_TEST	0x0e7f	/* all masked, double precision, round toward zero */

static struct regset regs_in, regs_out;
static unsigned char have_avx;
static __thread uint64_t tls_word;

#define ALL16(m)	m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) \
			m(8) m(9) m(10) m(11) m(12) m(13) m(14) m(15)
#define LOAD_YMM(n)	"vmovdqu 64+32*" #n "(%[in]), %%ymm" #n "\n\t"
#define LOAD_XMM(n)	"movdqu 64+32*" #n "(%[in]), %%xmm" #n "\n\t"
#define STORE_YMM(n)	"vmovdqu %%ymm" #n ", 64+32*" #n "(%[out])\n\t"
#define STORE_XMM(n)	"movdqu %%xmm" #n ", 64+32*" #n "(%[out])\n\t"

static bool cpu_has_avx(void)
{
	unsigned int a, b, c, d;
	uint32_t lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return false;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;	/* the OS saves SSE and AVX state */
}

static int mode_regs(void)
{
	static const char *const gpr_names[] = { "rbx", "r12", "r13", "r14", "r15" };
	uint64_t tls_before, fs_before;
	uint32_t saved_mxcsr = 0;
	uint16_t saved_fcw = 0;
	sigset_t unblock;
	int i, j;

	have_avx = cpu_has_avx();
	printf("# AVX: %s\n", have_avx ? "yes, the upper halves of ymm0-15 are checked" : "no");
	fflush(stdout);
	for (i = 0; i < 5; i++)
		regs_in.gpr[i] = mix64(0xa000 + i) | 1;
	for (i = 0; i < 16; i++)
		for (j = 0; j < 32; j++)
			regs_in.vec[i][j] = (uint8_t)(0x11 * (i + 1) + 7 * j +
						      (j >= 16 ? 0x80 : 0));
	regs_in.mxcsr = MXCSR_TEST;
	regs_in.fcw = FCW_TEST;
	memset(&regs_out, 0, sizeof(regs_out));

	tls_word = 0x7e57c0de5eed0001ULL;
	tls_before = (uintptr_t)&tls_word;
	fs_before = fs_base();

	ready();
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);

	__asm__ volatile(
		"stmxcsr %[saved_mxcsr]\n\t"
		"fnstcw %[saved_fcw]\n\t"
		"ldmxcsr 40(%[in])\n\t"
		"fldcw 44(%[in])\n\t"
		"movq 0(%[in]), %%rbx\n\t"
		"movq 8(%[in]), %%r12\n\t"
		"movq 16(%[in]), %%r13\n\t"
		"movq 24(%[in]), %%r14\n\t"
		"movq 32(%[in]), %%r15\n\t"
		"cmpb $0, %[avx]\n\t"
		"je 2f\n\t"
		ALL16(LOAD_YMM)
		"jmp 1f\n"
		"2:\n\t"
		ALL16(LOAD_XMM)
		/* Until the SIGUSR1 handler sets the flag. */
		"1:\n\t"
		"pause\n\t"
		"cmpb $0, %[flag]\n\t"
		"je 1b\n\t"
		"movq %%rbx, 0(%[out])\n\t"
		"movq %%r12, 8(%[out])\n\t"
		"movq %%r13, 16(%[out])\n\t"
		"movq %%r14, 24(%[out])\n\t"
		"movq %%r15, 32(%[out])\n\t"
		"stmxcsr 40(%[out])\n\t"
		"fnstcw 44(%[out])\n\t"
		"cmpb $0, %[avx]\n\t"
		"je 3f\n\t"
		ALL16(STORE_YMM)
		"vzeroupper\n\t"
		"jmp 4f\n"
		"3:\n\t"
		ALL16(STORE_XMM)
		"4:\n\t"
		"ldmxcsr %[saved_mxcsr]\n\t"
		"fldcw %[saved_fcw]\n\t"
		: [saved_mxcsr] "+m"(saved_mxcsr), [saved_fcw] "+m"(saved_fcw)
		: [in] "r"(&regs_in), [out] "r"(&regs_out), [avx] "m"(have_avx),
		  [flag] "m"(usr1_flag)
		: "rbx", "r12", "r13", "r14", "r15",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
		  "memory", "cc");

	for (i = 0; i < 5; i++)
		check_hex(regs_in.gpr[i], regs_out.gpr[i], "%s", gpr_names[i]);
	for (i = 0; i < 16; i++) {
		check_bytes(regs_in.vec[i], regs_out.vec[i], 16, "xmm%d", i);
		if (have_avx)
			check_bytes(regs_in.vec[i] + 16, regs_out.vec[i] + 16, 16,
				    "upper half of ymm%d", i);
	}
	check_hex(MXCSR_TEST, regs_out.mxcsr, "MXCSR");
	check_hex(FCW_TEST, regs_out.fcw, "x87 control word");
	check_hex(0x7e57c0de5eed0001ULL, tls_word, "__thread variable");
	check_hex(tls_before, (uintptr_t)&tls_word, "address of the __thread variable");
	check_hex(fs_before, fs_base(), "arch_prctl(ARCH_GET_FS)");
	return finish();
}

/* -- blocking calls -------------------------------------------------------- */

static int mode_sleep(void)
{
	struct timespec ts = { .tv_sec = 4 }, rem = { 0, 0 };
	int ret, err;

	ready();
	ret = nanosleep(&ts, &rem);
	err = errno;
	CHECK(ret == 0, "nanosleep(4 s) returned %d, %s (expected 0, got %d; %lld.%09ld s left)",
	      ret, ret ? strerror(err) : "", ret, (long long)rem.tv_sec, rem.tv_nsec);
	wait_usr1();
	return finish();
}

/*
 * Four relative waits of WAIT_S seconds (12, or $CRAK_PROG_WAIT_S) that a
 * checkpoint some seconds into them interrupts, each in a thread of its
 * own: nanosleep(2) itself, clock_nanosleep on CLOCK_BOOTTIME, poll(2) on
 * nothing and FUTEX_WAIT on a word nobody wakes.  Made again after a
 * restart, each waits what it had left, and so after a checkpoint with
 * --leave-running before it: there each goes on.  DIR/began has when they
 * began, DIR/woke (written when all are over) when they ended, in
 * milliseconds of the node's CLOCK_BOOTTIME: the script times them by the
 * node's clock (the debug kernel's, jiffies, falls behind the host's when
 * its ticks come late).  (The checkpoint's stop writes the time left to a
 * sleep's REM, as any stop does.)
 */
static int wait_s = 12;

/* Writes CLOCK_BOOTTIME, in milliseconds, to NAME. */
static void write_boottime(const char *name)
{
	struct timespec now;
	char buf[32];

	clock_gettime(CLOCK_BOOTTIME, &now);
	snprintf(buf, sizeof(buf), "%lld\n",
		 (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	write_atomic(name, buf);
}

static void *sleep_boottime(void *arg)
{
	struct timespec ts = { .tv_sec = wait_s }, rem;
	int ret;

	(void)arg;
	ret = clock_nanosleep(CLOCK_BOOTTIME, 0, &ts, &rem);
	CHECK(ret == 0, "clock_nanosleep(CLOCK_BOOTTIME, %d s) returned %s", wait_s, strerror(ret));
	CHECK(ts.tv_sec == wait_s && !ts.tv_nsec,
	      "clock_nanosleep(CLOCK_BOOTTIME) changed its request");
	return NULL;
}

static void *poll_timeout(void *arg)
{
	long ret;

	(void)arg;
	ret = syscall(SYS_poll, NULL, 0, wait_s * 1000);
	CHECK(ret == 0, "poll(NULL, 0, %d) returned %ld, %s", wait_s * 1000, ret,
	      ret ? strerror(errno) : "");
	return NULL;
}

static void *futex_timeout(void *arg)
{
	struct timespec ts = { .tv_sec = wait_s };
	static uint32_t word;
	long ret;

	(void)arg;
	ret = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
	CHECK(ret == -1 && errno == ETIMEDOUT,
	      "FUTEX_WAIT(%d s) returned %ld, %s (expected ETIMEDOUT)", wait_s, ret,
	      ret ? strerror(errno) : "");
	CHECK(ts.tv_sec == wait_s && !ts.tv_nsec, "FUTEX_WAIT changed its timeout");
	return NULL;
}

static int mode_sleep_left(void)
{
	void *(*const waits[])(void *) = { sleep_boottime, poll_timeout, futex_timeout };
	const char *env = getenv("CRAK_PROG_WAIT_S");
	struct timespec ts, rem;
	pthread_t thread[3];
	unsigned int i;
	long ret;

	if (env)
		wait_s = atoi(env);
	if (wait_s < 1 || wait_s > 600)
		die("CRAK_PROG_WAIT_S=%s: not 1 to 600 seconds", env);
	ts = (struct timespec){ .tv_sec = wait_s };
	write_boottime("began");
	for (i = 0; i < 3; i++)
		if (pthread_create(&thread[i], NULL, waits[i], NULL))
			die("pthread_create");
	ready();
	ret = syscall(SYS_nanosleep, &ts, &rem);
	CHECK(ret == 0, "nanosleep(%d s) returned %ld, %s", wait_s, ret,
	      ret ? strerror(errno) : "");
	CHECK(ts.tv_sec == wait_s && !ts.tv_nsec, "nanosleep changed its request");
	for (i = 0; i < 3; i++)
		pthread_join(thread[i], NULL);
	write_boottime("woke");
	wait_usr1();
	return finish();
}

static int wake_pipe[2];

static void on_usr1_wake(int sig)
{
	int saved = errno;

	(void)sig;
	usr1_flag = 1;
	if (write(wake_pipe[1], "wake\n", 5) != 5)
		usr1_flag = 2;
	errno = saved;
}

static void unblock_usr1(void)
{
	sigset_t m;

	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &m, NULL);
}

static int mode_read(void)
{
	char buf[64] = "";
	ssize_t n;

	if (pipe(wake_pipe))
		die("pipe");
	set_handler(SIGUSR1, on_usr1_wake, SA_RESTART);
	ready();
	unblock_usr1();
	n = read(wake_pipe[0], buf, sizeof(buf) - 1);
	if (n < 0) {
		failf("read(2) on the pipe failed: %s (expected 5 bytes, got -1)", strerror(errno));
	} else {
		buf[n] = 0;
		check_str("wake\n", buf, "what read(2) returned");
	}
	CHECK(usr1_flag == 1, "the SIGUSR1 handler did not write to the pipe (expected 1, got %d)",
	      usr1_flag);
	return finish();
}

static int mode_poll(void)
{
	struct pollfd pfd;
	unsigned int eintr = 0;
	char buf[64] = "";
	ssize_t n;
	int ret;

	if (pipe(wake_pipe))
		die("pipe");
	set_handler(SIGUSR1, on_usr1_wake, 0);
	ready();
	unblock_usr1();
	for (;;) {
		pfd = (struct pollfd){ .fd = wake_pipe[0], .events = POLLIN };
		ret = poll(&pfd, 1, -1);
		if (ret < 0 && errno == EINTR) {
			eintr++;
			continue;
		}
		break;
	}
	if (ret != 1) {
		failf("poll(2) returned %d: %s (expected 1, got %d)", ret, strerror(errno), ret);
	} else {
		check_hex(POLLIN, pfd.revents, "poll(2) revents");
		n = read(wake_pipe[0], buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		check_str("wake\n", buf, "data read after poll(2)");
	}
	CHECK(usr1_flag == 1, "the SIGUSR1 handler did not write to the pipe (expected 1, got %d)",
	      usr1_flag);
	CHECK(eintr <= 1, "poll(2) failed with EINTR more than once (expected <= 1, got %u)",
	      eintr);
	return finish();
}

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int predicate;

static void *futex_waker(void *arg)
{
	sigset_t m;
	int sig = 0, ret;

	(void)arg;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	ret = sigwait(&m, &sig);
	CHECK(!ret && sig == SIGUSR1,
	      "sigwait in the second thread (expected %d, got %d, error %d)", SIGUSR1, sig, ret);
	pthread_mutex_lock(&cond_lock);
	predicate = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&cond_lock);
	return NULL;
}

static int mode_futex(void)
{
	pthread_t t;
	int ret, errs = 0;

	pthread_mutex_lock(&cond_lock);
	errno = pthread_create(&t, NULL, futex_waker, NULL);
	if (errno)
		die("pthread_create");
	ready();
	while (!predicate) {
		ret = pthread_cond_wait(&cond, &cond_lock);
		if (ret && !errs++)
			failf("pthread_cond_wait: %s (expected 0, got %d)", strerror(ret), ret);
	}
	pthread_mutex_unlock(&cond_lock);
	pthread_join(t, NULL);
	return finish();
}

/* -- signals --------------------------------------------------------------- */

static volatile int usr2_count, usr2_code;
static char altstack[64 * KiB];

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGUSR2 && si->si_signo == SIGUSR2)
		usr2_code = si->si_code;
	usr2_count++;
}

struct saved_action {
	bool ok;
	struct sigaction sa;
};

/* sigtimedwait for SIG alone, without waiting: it must be pending with
 * CODE and (for a queued one) VALUE.
 */
static void take_pending(int sig, int code, int value, bool has_value, const char *what)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t m;
	int got;

	sigemptyset(&m);
	sigaddset(&m, sig);
	memset(&si, 0, sizeof(si));
	got = sigtimedwait(&m, &si, &zero);
	if (got < 0) {
		failf("sigtimedwait for %s: %s (expected %d, got -1)", what, strerror(errno), sig);
		return;
	}
	check_eq(sig, got, "sigtimedwait for %s", what);
	check_eq(code, si.si_code, "si_code of %s", what);
	check_eq(getpid(), si.si_pid, "si_pid of %s", what);
	check_eq(getuid(), si.si_uid, "si_uid of %s", what);
	if (has_value)
		check_eq(value, si.si_value.sival_int, "si_value of %s", what);
}

/* The si_code this kernel gives a signal sent with tgkill (SI_TKILL, but
 * some kernels say SI_USER), found with a signal of its own.
 */
static int tkill_code(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t m, old;
	siginfo_t si;

	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN + 5);
	sigprocmask(SIG_BLOCK, &m, &old);
	if (syscall(SYS_tgkill, getpid(), gettid_raw(), SIGRTMIN + 5) ||
	    sigtimedwait(&m, &si, &zero) != SIGRTMIN + 5)
		die("tgkill");
	sigprocmask(SIG_SETMASK, &old, NULL);
	return si.si_code;
}

static int mode_signals(void)
{
	struct saved_action before[65];
	struct sigaction sa = {};
	stack_t ss = {}, ss_before, ss_now;
	sigset_t block, mask_before, mask_now, pend, expect_pend;
	int sig, tkill = tkill_code(), handler_code;
	union sigval v;

	sa.sa_sigaction = on_usr2;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGHUP);
	if (sigaction(SIGUSR2, &sa, NULL))
		die("sigaction SIGUSR2");
	/* What its handler sees of raise() on this kernel. */
	raise(SIGUSR2);
	if (usr2_count != 1)
		die("SIGUSR2 handler");
	handler_code = usr2_code;
	usr2_count = 0;
	usr2_code = 0;
	set_handler(SIGHUP, SIG_IGN, 0);
	set_handler(SIGTERM, SIG_DFL, 0);

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN + 1);
	sigaddset(&block, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &block, NULL);

	v.sival_int = 42;
	if (sigqueue(getpid(), SIGRTMIN + 1, v))
		die("sigqueue");
	v.sival_int = 43;
	if (sigqueue(getpid(), SIGRTMIN + 1, v))
		die("sigqueue");
	if (raise(SIGUSR2))
		die("raise");
	if (syscall(SYS_tgkill, getpid(), gettid_raw(), SIGRTMIN + 2))
		die("tgkill");

	ss.ss_sp = altstack;
	ss.ss_size = sizeof(altstack);
	if (sigaltstack(&ss, NULL))
		die("sigaltstack");

	for (sig = 1; sig <= 64; sig++)
		before[sig].ok = !sigaction(sig, NULL, &before[sig].sa);
	sigprocmask(SIG_BLOCK, NULL, &mask_before);
	sigaltstack(NULL, &ss_before);

	ready();
	wait_usr1();

	for (sig = 1; sig <= 64; sig++) {
		struct sigaction now;

		if (!before[sig].ok)
			continue;
		if (sigaction(sig, NULL, &now)) {
			failf("sigaction(%d) after: %s (expected 0, got -1)", sig, strerror(errno));
			continue;
		}
		check_hex((uintptr_t)before[sig].sa.sa_handler, (uintptr_t)now.sa_handler,
			  "handler of signal %d", sig);
		check_hex(before[sig].sa.sa_flags & ~SA_RESTORER, now.sa_flags & ~SA_RESTORER,
			  "sa_flags of signal %d", sig);
		{
			char what[64];

			snprintf(what, sizeof(what), "sa_mask of signal %d", sig);
			check_sigset(&before[sig].sa.sa_mask, &now.sa_mask, what);
		}
	}
	sigprocmask(SIG_BLOCK, NULL, &mask_now);
	check_sigset(&mask_before, &mask_now, "blocked signals");

	sigemptyset(&expect_pend);
	sigaddset(&expect_pend, SIGUSR2);
	sigaddset(&expect_pend, SIGRTMIN + 1);
	sigaddset(&expect_pend, SIGRTMIN + 2);
	sigpending(&pend);
	check_sigset(&expect_pend, &pend, "pending signals");

	take_pending(SIGRTMIN + 1, SI_QUEUE, 42, true, "the first SIGRTMIN+1");
	take_pending(SIGRTMIN + 1, SI_QUEUE, 43, true, "the second SIGRTMIN+1");
	take_pending(SIGRTMIN + 2, tkill, 0, false, "SIGRTMIN+2");
	take_pending(SIGUSR2, tkill, 0, false, "SIGUSR2");
	sigpending(&pend);
	sigemptyset(&expect_pend);
	check_sigset(&expect_pend, &pend, "pending signals once taken");

	sigaltstack(NULL, &ss_now);
	check_hex((uintptr_t)ss_before.ss_sp, (uintptr_t)ss_now.ss_sp, "sigaltstack ss_sp");
	check_eq(ss_before.ss_size, ss_now.ss_size, "sigaltstack ss_size");
	check_hex(ss_before.ss_flags, ss_now.ss_flags, "sigaltstack ss_flags");

	/* The SIGUSR2 handler runs, and returns. */
	check_eq(0, usr2_count, "SIGUSR2 handler calls while blocked");
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	raise(SIGUSR2);
	check_eq(1, usr2_count, "SIGUSR2 handler calls after raise");
	check_eq(handler_code, usr2_code, "si_code the SIGUSR2 handler saw");
	return finish();
}

/* -- timers ---------------------------------------------------------------- */

static volatile int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * The three interval timers, each with its own value and interval: what is
 * left of each is at most what was set (and the tick the kernel adds to a
 * CPU timer it arms) and more than what could have been spent; a timer lost
 * on the way reads 0.
 */
#define TIMER_SLACK_US	20000LL
static const struct {
	int which;
	const char *name;
	int value, interval;	/* seconds */
} timers[] = {
	{ ITIMER_REAL, "ITIMER_REAL", 100, 50 },
	{ ITIMER_VIRTUAL, "ITIMER_VIRTUAL", 200, 70 },
	{ ITIMER_PROF, "ITIMER_PROF", 300, 90 },
};

/* struct sigevent as timer_create(2) reads it. */
struct ksigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

/*
 * POSIX timers on each clock and with each notification, made by the raw
 * system calls (their IDs are the kernel's): armed with an interval, armed
 * once, disarmed, aimed at another thread, and two that fired with their
 * signal blocked: pending, the timer waits for it to be taken (one's next
 * expiry far, the other's every 100 ms: after a restart it must not queue
 * its signal a second time); two on the process's CPU time (CPU time left,
 * counted again from the restart), one by the clock's ID, one by the clock
 * clock_getcpuclockid() gives for the process itself (CLOCK_SELF_PROF:
 * user + system time).  Deleted timers leave holes among the IDs.
 * Milliseconds; value 0: disarmed, -1: fired.
 */
#define CLOCK_SELF_PROF	(-1000)
static const struct {
	int clock, notify, sig_off, value, interval, sival;
} ptimers[] = {
	{ CLOCK_MONOTONIC, SIGEV_SIGNAL, 1, 400000, 30000, 1111 },
	{ CLOCK_REALTIME, SIGEV_NONE, 0, 500000, 0, 2222 },
	{ CLOCK_BOOTTIME, SIGEV_THREAD_ID, 2, 0, 0, 3333 },
	{ CLOCK_MONOTONIC, SIGEV_SIGNAL, 3, -1, 600000, 4444 },
	{ CLOCK_MONOTONIC, SIGEV_SIGNAL, 4, -1, 100, 5555 },
	{ CLOCK_BOOTTIME, SIGEV_THREAD_ID, 5, 700000, 0, 6666 },	/* the other thread */
	{ CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, 6, 800000, 40000, 7777 },
	{ CLOCK_SELF_PROF, SIGEV_SIGNAL, 7, 900000, 0, 8888 },
};

static int ptimer_ids[ARRAY_SIZE(ptimers)];
static volatile pid_t ptimer_tid;

static int ptimer_create(int clock, struct ksigevent *sev)
{
	int id;

	/* The kernel's encoding of a process's CPU clock: (~pid << 3) | which. */
	if (clock == CLOCK_SELF_PROF)
		clock = (int)((unsigned int)~getpid() << 3);
	if (syscall(SYS_timer_create, clock, sev, &id))
		die("timer_create");
	return id;
}

/* A thread that takes no signal: a timer aims at it. */
static void *ptimer_thread(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	ptimer_tid = gettid_raw();
	for (;;)
		sleep(1000);
	return NULL;
}

static bool ptimer_pending(int sig)
{
	sigset_t pending;

	sigpending(&pending);
	return sigismember(&pending, sig);
}

static void ptimers_start(char *proc_before, size_t size)
{
	struct itimerspec its = {};
	struct ksigevent sev;
	pthread_t thread;
	unsigned int i;
	sigset_t set;
	int hole;

	sigemptyset(&set);
	for (i = 1; i <= 7; i++)
		sigaddset(&set, SIGRTMIN + i);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&thread, NULL, ptimer_thread, NULL))
		die("pthread_create");
	while (!ptimer_tid)
		usleep(1000);
	for (i = 0; i < ARRAY_SIZE(ptimers); i++) {
		/* A hole before each: a timer made and deleted. */
		memset(&sev, 0, sizeof(sev));
		sev.notify = SIGEV_NONE;
		hole = ptimer_create(CLOCK_MONOTONIC, &sev);
		if (syscall(SYS_timer_delete, hole))
			die("timer_delete");

		memset(&sev, 0, sizeof(sev));
		sev.value = ptimers[i].sival;
		sev.notify = ptimers[i].notify;
		sev.signo = ptimers[i].sig_off ? SIGRTMIN + ptimers[i].sig_off : 0;
		sev.tid = ptimers[i].sig_off == 5 ? ptimer_tid : getpid();
		ptimer_ids[i] = ptimer_create(ptimers[i].clock, &sev);
		memset(&its, 0, sizeof(its));
		if (ptimers[i].value < 0) {
			its.it_value.tv_nsec = 1000000;
		} else {
			its.it_value.tv_sec = ptimers[i].value / 1000;
			its.it_value.tv_nsec = ptimers[i].value % 1000 * 1000000L;
		}
		its.it_interval.tv_sec = ptimers[i].interval / 1000;
		its.it_interval.tv_nsec = ptimers[i].interval % 1000 * 1000000L;
		if (syscall(SYS_timer_settime, ptimer_ids[i], 0, &its, NULL))
			die("timer_settime");
	}
	/* The fired ones' signals, pending. */
	for (i = 0; i < 10000; i++) {
		if (ptimer_pending(SIGRTMIN + 3) && ptimer_pending(SIGRTMIN + 4))
			break;
		usleep(1000);
	}
	if (read_file("/proc/self/timers", proc_before, size) < 0)
		die("/proc/self/timers");
}

/* The signal of a timer that fired, once, as the timer queued it. */
static void ptimer_signal(unsigned int i)
{
	struct timespec zero = {};
	int sig = SIGRTMIN + ptimers[i].sig_off;
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigtimedwait(&set, &si, &zero) != sig) {
		failf("the signal of POSIX timer %d is not pending: %s", ptimer_ids[i],
		      strerror(errno));
		return;
	}
	check_eq(SI_TIMER, si.si_code, "si_code of POSIX timer %d's signal", ptimer_ids[i]);
	check_eq(ptimers[i].sival, si.si_value.sival_int, "si_value of POSIX timer %d's signal",
		 ptimer_ids[i]);
	check_eq(ptimer_ids[i], si.si_timerid, "si_timerid of POSIX timer %d's signal",
		 ptimer_ids[i]);
	CHECK(sigtimedwait(&set, &si, &zero) < 0 && errno == EAGAIN,
	      "POSIX timer %d's signal was pending twice", ptimer_ids[i]);
}

static void ptimers_check(const char *proc_before, char *proc_now, size_t size)
{
	struct itimerspec its;
	long long v, want;
	unsigned int i;

	if (read_file("/proc/self/timers", proc_now, size) < 0)
		die("/proc/self/timers");
	check_str(proc_before, proc_now, "/proc/self/timers (IDs, signals, notifications, clocks)");
	for (i = 0; i < ARRAY_SIZE(ptimers); i++) {
		if (syscall(SYS_timer_gettime, ptimer_ids[i], &its)) {
			failf("timer_gettime of POSIX timer %d: %s", ptimer_ids[i], strerror(errno));
			continue;
		}
		v = its.it_value.tv_sec * 1000000LL + its.it_value.tv_nsec / 1000;
		want = ptimers[i].value < 0 ? ptimers[i].interval : ptimers[i].value;
		if (want)
			CHECK(v > (want - 60000) * 1000 && v <= want * 1000 + TIMER_SLACK_US,
			      "POSIX timer %d value (expected %lld ms - 60 s < value <= %lld ms, got %lld us)",
			      ptimer_ids[i], want, want, v);
		else
			check_eq(0, v, "POSIX timer %d value (disarmed), us", ptimer_ids[i]);
		check_eq(ptimers[i].interval * 1000LL,
			 its.it_interval.tv_sec * 1000000LL + its.it_interval.tv_nsec / 1000,
			 "POSIX timer %d interval, us", ptimer_ids[i]);
	}
	ptimer_signal(3);
	/* Three of its periods later, still one signal: the timer waited for it. */
	usleep(350000);
	ptimer_signal(4);
}

static int mode_timers(void)
{
	static char proc_before[4 * KiB], proc_now[4 * KiB];
	struct itimerval it = {}, now;
	unsigned int i;
	long long v;

	set_handler(SIGALRM, on_alarm, SA_RESTART);
	set_handler(SIGVTALRM, on_alarm, SA_RESTART);
	set_handler(SIGPROF, on_alarm, SA_RESTART);
	for (i = 0; i < ARRAY_SIZE(timers); i++) {
		it.it_value.tv_sec = timers[i].value;
		it.it_interval.tv_sec = timers[i].interval;
		if (setitimer(timers[i].which, &it, NULL))
			die("setitimer");
	}
	ptimers_start(proc_before, sizeof(proc_before));
	ready();
	wait_usr1();

	ptimers_check(proc_before, proc_now, sizeof(proc_now));

	for (i = 0; i < ARRAY_SIZE(timers); i++) {
		if (getitimer(timers[i].which, &now)) {
			failf("getitimer %s: %s", timers[i].name, strerror(errno));
			continue;
		}
		v = now.it_value.tv_sec * 1000000LL + now.it_value.tv_usec;
		CHECK(v > (timers[i].value - 60) * 1000000LL &&
		      v <= timers[i].value * 1000000LL + TIMER_SLACK_US,
		      "%s value (expected %d s - 60 s < value <= %d s + 20 ms, got %lld.%06ld s)",
		      timers[i].name, timers[i].value, timers[i].value,
		      (long long)now.it_value.tv_sec, (long)now.it_value.tv_usec);
		check_eq(timers[i].interval, now.it_interval.tv_sec, "%s interval seconds",
			 timers[i].name);
		check_eq(0, now.it_interval.tv_usec, "%s interval microseconds", timers[i].name);
	}
	check_eq(0, alarms, "SIGALRM, SIGVTALRM and SIGPROF deliveries");
	return finish();
}

/* -- credentials ----------------------------------------------------------- */

/* The capability sets' lines of /proc/self/status, in one string. */
static void cap_lines(char *out, size_t size)
{
	static char status[16 * KiB];
	char *line;
	size_t len = 0;

	out[0] = 0;
	if (read_file("/proc/self/status", status, sizeof(status)) < 0)
		return;
	for (line = strtok(status, "\n"); line && len < size; line = strtok(NULL, "\n"))
		if (!strncmp(line, "Cap", 3))
			len += snprintf(out + len, size - len, "%s ", line);
}

/*
 * Another user's process: three distinct user and group IDs (real,
 * effective, saved), supplementary groups, the capabilities that setuid(2)
 * left it (none but the bounding set) and no_new_privs; it writes its files
 * in DIR as that user.
 */
/*
 * Whom SO_PEERCRED of unix socket FD names: process PID, effective IDs UID
 * and GID; and (NR_GROUPS of them, unless -1) SO_PEERGROUPS, GROUPS.
 */
static void check_peer(int fd, pid_t pid, uid_t uid, gid_t gid, const gid_t *groups,
		       int nr_groups, const char *what)
{
	struct ucred uc;
	socklen_t l = sizeof(uc);
	gid_t got[16];
	int i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &l))
		die("SO_PEERCRED of %s", what);
	check_eq(pid, uc.pid, "SO_PEERCRED's PID of %s", what);
	check_eq(uid, uc.uid, "SO_PEERCRED's user ID of %s", what);
	check_eq(gid, uc.gid, "SO_PEERCRED's group ID of %s", what);
	if (nr_groups < 0)
		return;
	l = sizeof(got);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, got, &l))
		die("SO_PEERGROUPS of %s", what);
	check_eq(nr_groups, l / sizeof(gid_t), "SO_PEERGROUPS of %s", what);
	for (i = 0; i < nr_groups && i < (int)(l / sizeof(gid_t)); i++)
		check_eq(groups[i], got[i], "SO_PEERGROUPS[%d] of %s", i, what);
}

/*
 * Another user's credentials, and unix sockets that name their makers to
 * SO_PEERCRED: a pair made before it took them (root's), then a pair, a
 * listener, a client of it and the connection accepted (the other
 * user's), and a client that connects once it is restarted.
 */
static int mode_creds(void)
{
	static const gid_t groups[] = { 100, 200, 300 };
	char caps_before[512], caps_now[512];
	int root_pair[2], pair[2], lsn, cli, acc;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t sun_len;
	uid_t ru, eu, su;
	gid_t rg, eg, sg, got[16];
	int n, i;

	if (chmod(dir, 0777))
		die("chmod %s", dir);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, root_pair))
		die("socketpair");
	if (setgroups(ARRAY_SIZE(groups), groups) || setresgid(1001, 1002, 1003) ||
	    setresuid(2001, 2002, 2003) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("setting its credentials");
	sun_len = offsetof(struct sockaddr_un, sun_path) + 1 +
		  snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "crak-creds-%d", getpid());
	lsn = socket(AF_UNIX, SOCK_STREAM, 0);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) || lsn < 0 || cli < 0 ||
	    bind(lsn, (struct sockaddr *)&sun, sun_len) || listen(lsn, 4) ||
	    connect(cli, (struct sockaddr *)&sun, sun_len))
		die("unix sockets");
	acc = accept(lsn, NULL, NULL);
	if (acc < 0)
		die("accept");
	cap_lines(caps_before, sizeof(caps_before));
	ready();
	wait_usr1();

	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg))
		die("getresuid");
	check_eq(2001, ru, "real user ID");
	check_eq(2002, eu, "effective user ID");
	check_eq(2003, su, "saved user ID");
	check_eq(1001, rg, "real group ID");
	check_eq(1002, eg, "effective group ID");
	check_eq(1003, sg, "saved group ID");
	n = getgroups(ARRAY_SIZE(got), got);
	check_eq(ARRAY_SIZE(groups), n, "supplementary groups");
	for (i = 0; i < n && i < (int)ARRAY_SIZE(groups); i++)
		check_eq(groups[i], got[i], "supplementary group %d", i);
	check_eq(1, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), "no_new_privs");
	cap_lines(caps_now, sizeof(caps_now));
	check_str(caps_before, caps_now, "capability sets");

	check_peer(root_pair[0], getpid(), 0, 0, NULL, -1, "a pair made as root");
	check_peer(pair[0], getpid(), 2002, 1002, groups, ARRAY_SIZE(groups), "a pair");
	check_peer(cli, getpid(), 2002, 1002, groups, ARRAY_SIZE(groups), "a listener's client");
	check_peer(acc, getpid(), 2002, 1002, groups, ARRAY_SIZE(groups), "a connection accepted");
	close(cli);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	if (cli < 0 || connect(cli, (struct sockaddr *)&sun, sun_len))
		die("connecting again");
	check_peer(cli, getpid(), 2002, 1002, groups, ARRAY_SIZE(groups),
		   "a new client of the listener");
	return finish();
}

/* -- process attributes ---------------------------------------------------- */

#define PROC_BUF	(256 * KiB)

static char cmdline_before[PROC_BUF], environ_before[PROC_BUF], auxv_before[PROC_BUF];
static char proc_now[PROC_BUF];

static void check_proc_file(const char *name, const char *before, ssize_t before_len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	n = read_file(path, proc_now, sizeof(proc_now));
	check_eq(before_len, n, "bytes of %s", path);
	if (n == before_len)
		check_bytes(before, proc_now, n, "%s", path);
}

/*
 * KSM merges all it maps (PR_SET_MEMORY_MERGE): the mapping at MAPPED, made
 * before it asked, is mergeable, and one made now.
 */
static void merge_any_check(const char *mapped)
{
	char now[32];

	CHECK(prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) == 1, "%s is no longer set",
	      "PR_SET_MEMORY_MERGE");
	vm_advice(mapped, now, sizeof(now));
	check_str("mg", now, "VmFlags of a mapping made before %s", "PR_SET_MEMORY_MERGE");
	new_vm_advice(now, sizeof(now));
	check_str("mg", now, "VmFlags of a mapping made after %s", "PR_SET_MEMORY_MERGE");
}

static int mode_process(void)
{
	struct rlimit rl, lim_before[RLIM_NLIMITS], lim_now;
	ssize_t cmdline_len, environ_len, auxv_len;
	char sub[PATH_MAX], cwd_before[PATH_MAX], cwd_now[PATH_MAX], comm[64];
	char exe_before[PATH_MAX], exe_now[PATH_MAX];
	pid_t pid, tid;
	int pers_before, res;
	bool merge_any;
	char *mapped;
	mode_t um;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	rl.rlim_cur = 512;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit RLIMIT_NOFILE");
	if (getrlimit(RLIMIT_CORE, &rl))
		die("getrlimit");
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_CORE, &rl))
		die("setrlimit RLIMIT_CORE");
	umask(027);
	dir_path(sub, "sub");
	if (mkdir(sub, 0755) && errno != EEXIST)
		die("mkdir %s", sub);
	if (chdir(sub))
		die("chdir %s", sub);
	if (prctl(PR_SET_NAME, "ckpt-proc"))
		die("prctl");
	if (personality(PER_LINUX | ADDR_NO_RANDOMIZE) < 0)
		die("personality");
	/*
	 * KSM may merge all it maps, the mappings it has and those to come,
	 * where the kernel lets it (Linux 6.4 on, built with KSM).
	 */
	mapped = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mapped == MAP_FAILED)
		die("mmap");
	merge_any = !prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0);
	if (!merge_any) {
		if (errno != EINVAL)
			die("PR_SET_MEMORY_MERGE");
		printf("# this kernel refuses PR_SET_MEMORY_MERGE\n");
		fflush(stdout);
	}

	for (res = 0; res < RLIM_NLIMITS; res++)
		if (getrlimit(res, &lim_before[res]))
			die("getrlimit %d", res);
	if (!getcwd(cwd_before, sizeof(cwd_before)))
		die("getcwd");
	pers_before = personality(0xffffffff);
	pid = getpid();
	tid = gettid_raw();
	cmdline_len = read_file("/proc/self/cmdline", cmdline_before, sizeof(cmdline_before));
	environ_len = read_file("/proc/self/environ", environ_before, sizeof(environ_before));
	auxv_len = read_file("/proc/self/auxv", auxv_before, sizeof(auxv_before));
	if (cmdline_len <= 0 || environ_len < 0 || auxv_len <= 0)
		die("/proc/self");
	link_of("/proc/self/exe", exe_before, sizeof(exe_before));

	ready();
	wait_usr1();

	for (res = 0; res < RLIM_NLIMITS; res++) {
		if (getrlimit(res, &lim_now)) {
			failf("getrlimit(%d): %s", res, strerror(errno));
			continue;
		}
		check_hex(lim_before[res].rlim_cur, lim_now.rlim_cur, "soft limit of resource %d",
			  res);
		check_hex(lim_before[res].rlim_max, lim_now.rlim_max, "hard limit of resource %d",
			  res);
	}
	getrlimit(RLIMIT_NOFILE, &lim_now);
	check_eq(512, lim_now.rlim_cur, "RLIMIT_NOFILE soft limit");
	getrlimit(RLIMIT_CORE, &lim_now);
	check_eq(0, lim_now.rlim_cur, "RLIMIT_CORE soft limit");
	um = umask(0);
	umask(um);
	check_hex(027, um, "umask");
	if (!getcwd(cwd_now, sizeof(cwd_now)))
		snprintf(cwd_now, sizeof(cwd_now), "(getcwd: %s)", strerror(errno));
	check_str(cwd_before, cwd_now, "getcwd()");
	check_str(sub, cwd_now, "getcwd() against DIR/sub");
	read_file("/proc/self/comm", comm, sizeof(comm));
	check_str("ckpt-proc\n", comm, "/proc/self/comm");
	check_hex(pers_before, personality(0xffffffff), "personality");
	check_hex(PER_LINUX | ADDR_NO_RANDOMIZE, personality(0xffffffff), "personality set");
	check_eq(pid, getpid(), "getpid()");
	check_eq(tid, gettid_raw(), "gettid()");
	check_proc_file("cmdline", cmdline_before, cmdline_len);
	check_proc_file("environ", environ_before, environ_len);
	check_proc_file("auxv", auxv_before, auxv_len);
	/* A program that runs itself again (execv("/proc/self/exe")) stays itself. */
	link_of("/proc/self/exe", exe_now, sizeof(exe_now));
	check_str(exe_before, exe_now, "/proc/self/exe");
	if (merge_any)
		merge_any_check(mapped);
	return finish();
}

/* -- descriptors ----------------------------------------------------------- */

#define UNLINKED_SIZE	(10 * KiB)
#define MEMFD_SIZE	5000
#define PIPE_BYTES	1000
#define FIFO_BYTES	100

struct fd_state {
	const char *name;
	int fd;
	char kind[PATH_MAX];	/* the kind of thing /proc/self/fd/N links to */
	mode_t type;		/* st_mode & S_IFMT */
	int fl;			/* F_GETFL: access mode, O_APPEND, O_NONBLOCK */
	int fdfl;		/* F_GETFD */
};

/* What /proc/self/fd/N names, reduced to what must stay: the path of a
 * file, "deleted file", "pipe", or the anonymous inode's kind.
 */
static void fd_kind(int fd, char *out, size_t size)
{
	char path[64], link[PATH_MAX];
	ssize_t n;
	size_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(out, size, "(readlink: %s)", strerror(errno));
		return;
	}
	link[n] = 0;
	len = n;
	if (len > 10 && !strcmp(link + len - 10, " (deleted)"))
		snprintf(out, size, "deleted file");
	else if (!strncmp(link, "pipe:[", 6))
		snprintf(out, size, "pipe");
	else if (!strncmp(link, "socket:[", 8))
		snprintf(out, size, "socket");
	else
		snprintf(out, size, "%s", link);
}

static void fd_take(struct fd_state *s)
{
	struct stat st;

	fd_kind(s->fd, s->kind, sizeof(s->kind));
	s->type = fstat(s->fd, &st) ? 0 : st.st_mode & S_IFMT;
	s->fl = fcntl(s->fd, F_GETFL);
	if (s->fl >= 0)
		s->fl &= O_ACCMODE | O_APPEND | O_NONBLOCK;
	s->fdfl = fcntl(s->fd, F_GETFD);
}

static void fd_add(struct fd_state *v, unsigned int *nr, int fd, const char *name)
{
	v[*nr] = (struct fd_state){ .name = name, .fd = fd };
	fd_take(&v[(*nr)++]);
}

static void fd_compare(const struct fd_state *before)
{
	struct fd_state now = { .fd = before->fd };

	fd_take(&now);
	check_str(before->kind, now.kind, "fd %d (%s): what it is", before->fd, before->name);
	check_hex(before->type, now.type, "fd %d (%s): st_mode's type", before->fd, before->name);
	check_hex(before->fl, now.fl, "fd %d (%s): F_GETFL", before->fd, before->name);
	check_hex(before->fdfl, now.fdfl, "fd %d (%s): F_GETFD", before->fd, before->name);
}

static off_t offset_of(int fd)
{
	return lseek(fd, 0, SEEK_CUR);
}

static void fdinfo_field(int fd, const char *key, char *out, size_t size)
{
	char path[64], text[4096], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(out, size, "(none)");
	if (read_file(path, text, sizeof(text)) < 0)
		return;
	p = strstr(text, key);
	if (!p)
		return;
	p += strlen(key);
	p += strspn(p, " \t");
	snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
}

/*
 * Unix sockets: a stream pair with bytes queued at each end, a datagram
 * pair and a seqpacket pair with messages queued (their boundaries kept),
 * a listener bound to a path and one bound to an abstract name; a datagram
 * server bound to a path and connected to none, with datagrams queued,
 * three clients connected to it (one made before it, two after, bound to
 * an abstract name and to a path, which their datagrams queued at the
 * server name; the first sent a datagram by the server), and a
 * datagram socket neither bound nor connected; a connection accepted from
 * each listener, with bytes queued each way (the abstract listener's
 * client bound to a name of its own, its accepted end at a descriptor
 * below the listener's; the path listener's held at two descriptors); a
 * stream socket whose peer is closed, bytes queued for it.
 */
struct unix_state {
	int stream[2], dgram[2], seqpacket[2];
	int lpath, labstract;
	struct sockaddr_un path, abstract;
	socklen_t path_len, abstract_len;
	int dcli1, dsrv, dcli2, dcli3, dlone;
	int peer1, peer2;		/* bound to abstract names, unconnected */
	int p1sndbuf;			/* peer1's, raised for its big datagram */
	struct sockaddr_un p1name, p2name;
	socklen_t p1name_len, p2name_len;
	unsigned int dfull;
	int gone, sqgone;
	struct sockaddr_un dpath, dname, dcpath;
	socklen_t dpath_len, dname_len, dcpath_len;
	int cpath, apath, apath_dup, cabstract, aabstract;
	struct sockaddr_un cname;
	socklen_t cname_len;
	int sndbuf, rcvbuf;		/* stream[1]'s, dgram[0]'s, as set */
	int empty[2];			/* datagrams of no bytes queued at [1] */
};

/*
 * Options some of them have: receive and send timeouts (stream[0]; of
 * whole ticks at HZ 100, 250 and 1000: the kernel rounds them to its), a
 * smaller send buffer (stream[1]), SO_PASSCRED (dgram[0], nothing queued
 * for it; the path listener, after its connection came), a smaller
 * receive buffer (dgram[0]), a peek offset
 * (seqpacket[1]).
 */
static int unix_opt(int fd, int opt)
{
	socklen_t l = sizeof(int);
	int v;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &l))
		return -1;
	return v;
}

static void unix_set_opts(struct unix_state *u)
{
	struct timeval rt = { 2, 500000 }, st = { 1, 500000 };
	int one = 1, snd = 20000, rcv = 100000, peek = 3;

	if (setsockopt(u->stream[0], SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt)) ||
	    setsockopt(u->stream[0], SOL_SOCKET, SO_SNDTIMEO, &st, sizeof(st)) ||
	    setsockopt(u->stream[1], SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd)) ||
	    setsockopt(u->dgram[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(u->lpath, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(u->dgram[0], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) ||
	    setsockopt(u->seqpacket[1], SOL_SOCKET, SO_PEEK_OFF, &peek, sizeof(peek)))
		die("unix socket options");
	u->sndbuf = unix_opt(u->stream[1], SO_SNDBUF);
	u->rcvbuf = unix_opt(u->dgram[0], SO_RCVBUF);
}

static void unix_check_opts(struct unix_state *u)
{
	struct timeval tv = { 0, 0 };
	socklen_t l = sizeof(tv);

	if (getsockopt(u->stream[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &l))
		failf("SO_RCVTIMEO: %s", strerror(errno));
	CHECK(tv.tv_sec == 2 && tv.tv_usec == 500000,
	      "the stream pair's first end's receive timeout: %ld.%06ld s (expected 2.5 s)",
	      (long)tv.tv_sec, (long)tv.tv_usec);
	l = sizeof(tv);
	if (getsockopt(u->stream[0], SOL_SOCKET, SO_SNDTIMEO, &tv, &l))
		failf("SO_SNDTIMEO: %s", strerror(errno));
	CHECK(tv.tv_sec == 1 && tv.tv_usec == 500000,
	      "the stream pair's first end's send timeout: %ld.%06ld s (expected 1.5 s)",
	      (long)tv.tv_sec, (long)tv.tv_usec);
	check_eq(u->sndbuf, unix_opt(u->stream[1], SO_SNDBUF),
		 "the stream pair's second end's SO_SNDBUF");
	check_eq(u->rcvbuf, unix_opt(u->dgram[0], SO_RCVBUF),
		 "the datagram pair's first end's SO_RCVBUF");
	check_eq(1, unix_opt(u->dgram[0], SO_PASSCRED), "the datagram pair's first end's SO_PASSCRED");
	check_eq(1, unix_opt(u->lpath, SO_PASSCRED), "the path listener's SO_PASSCRED");
	check_eq(0, unix_opt(u->dgram[1], SO_PASSCRED), "the datagram pair's second end's SO_PASSCRED");
	check_eq(0, unix_opt(u->apath, SO_PASSCRED), "the path listener's connection's SO_PASSCRED");
	check_eq(3, unix_opt(u->seqpacket[1], SO_PEEK_OFF), "the seqpacket pair's second end's SO_PEEK_OFF");
	check_eq(-1, unix_opt(u->seqpacket[0], SO_PEEK_OFF), "the seqpacket pair's first end's SO_PEEK_OFF");
}

/* Message N of a datagram or seqpacket end: N + 1 times the letter of N. */
static size_t unix_msg(unsigned int n, char *buf)
{
	memset(buf, 'a' + n, n + 1);
	return n + 1;
}

/* Larger than a datagram a default send buffer lets go (212992 less 32). */
#define UNIX_BIG_DGRAM		300000

/* The backlogs of the path and abstract listeners. */
#define UNIX_PATH_BACKLOG	4
#define UNIX_ABSTRACT_BACKLOG	1

static int unix_listener(struct sockaddr_un *sun, socklen_t len, int backlog)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)sun, len) || listen(fd, backlog))
		die("unix listener");
	return fd;
}

static void unix_setup(struct unix_state *u)
{
	int a, c, sv[2], sq[2], i, size = UNIX_BIG_DGRAM + 4096;
	unsigned char *big;
	char msg[16];
	unsigned int n;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, u->stream) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, u->dgram) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, u->seqpacket))
		die("socketpair");
	/*
	 * An end of each of two pairs non-blocking, as libxcb makes its
	 * socket: the end a restart makes first, and the one it makes second.
	 */
	if (fcntl(u->stream[0], F_SETFL, O_NONBLOCK) || fcntl(u->dgram[1], F_SETFL, O_NONBLOCK))
		die("fcntl");
	if (write(u->stream[0], "to the second", 13) != 13 ||
	    write(u->stream[1], "to the first", 12) != 12)
		die("unix stream write");
	for (n = 0; n < 3; n++)
		if (send(u->dgram[0], msg, unix_msg(n, msg), 0) < 0 ||
		    send(u->seqpacket[1], msg, unix_msg(n, msg), 0) < 0)
			die("unix send");
	/* A listener on the node's own /tmp: the restarting node has one too. */
	u->path.sun_family = AF_UNIX;
	snprintf(u->path.sun_path, sizeof(u->path.sun_path), "/tmp/crak-prog-%d.sock", getpid());
	unlink(u->path.sun_path);
	u->path_len = offsetof(struct sockaddr_un, sun_path) + strlen(u->path.sun_path) + 1;
	u->lpath = unix_listener(&u->path, u->path_len, UNIX_PATH_BACKLOG);
	u->abstract.sun_family = AF_UNIX;
	u->abstract_len = offsetof(struct sockaddr_un, sun_path) + 1 +
			  snprintf(u->abstract.sun_path + 1, sizeof(u->abstract.sun_path) - 1,
				   "crak-prog-%d", getpid());
	/* (A number for the abstract listener's accepted end, below its own.) */
	u->aabstract = dup(0);
	u->labstract = unix_listener(&u->abstract, u->abstract_len, UNIX_ABSTRACT_BACKLOG);
	u->cpath = socket(AF_UNIX, SOCK_STREAM, 0);
	u->cabstract = socket(AF_UNIX, SOCK_STREAM, 0);
	u->cname.sun_family = AF_UNIX;
	u->cname_len = offsetof(struct sockaddr_un, sun_path) + 1 +
		       snprintf(u->cname.sun_path + 1, sizeof(u->cname.sun_path) - 1,
				"crak-prog-%d-connect", getpid());
	if (u->aabstract < 0 || u->cpath < 0 || u->cabstract < 0 ||
	    connect(u->cpath, (struct sockaddr *)&u->path, u->path_len) ||
	    (u->apath = accept(u->lpath, NULL, NULL)) < 0 ||
	    bind(u->cabstract, (struct sockaddr *)&u->cname, u->cname_len) ||
	    connect(u->cabstract, (struct sockaddr *)&u->abstract, u->abstract_len) ||
	    (a = accept(u->labstract, NULL, NULL)) < 0 || dup2(a, u->aabstract) < 0 || close(a))
		die("unix connections through the listeners");
	u->apath_dup = dup(u->apath);
	if (u->apath_dup < 0 || write(u->cpath, "to the server", 13) != 13 ||
	    write(u->apath, "to the client", 13) != 13 ||
	    write(u->cabstract, "to it", 5) != 5 || write(u->aabstract, "from it", 7) != 7)
		die("unix connection write");

	u->dpath.sun_family = AF_UNIX;
	snprintf(u->dpath.sun_path, sizeof(u->dpath.sun_path), "/tmp/crak-prog-%d.dgram",
		 getpid());
	unlink(u->dpath.sun_path);
	u->dpath_len = offsetof(struct sockaddr_un, sun_path) + strlen(u->dpath.sun_path) + 1;
	u->dname.sun_family = AF_UNIX;
	u->dname_len = offsetof(struct sockaddr_un, sun_path) + 1 +
		       snprintf(u->dname.sun_path + 1, sizeof(u->dname.sun_path) - 1,
				"crak-prog-%d-client", getpid());
	u->dcpath.sun_family = AF_UNIX;
	snprintf(u->dcpath.sun_path, sizeof(u->dcpath.sun_path), "/tmp/crak-prog-%d.dcli",
		 getpid());
	unlink(u->dcpath.sun_path);
	u->dcpath_len = offsetof(struct sockaddr_un, sun_path) + strlen(u->dcpath.sun_path) + 1;
	/* Two peers, each with a datagram from the other queued. */
	u->p1name.sun_family = AF_UNIX;
	u->p1name_len = offsetof(struct sockaddr_un, sun_path) + 1 +
			snprintf(u->p1name.sun_path + 1, sizeof(u->p1name.sun_path) - 1,
				 "crak-prog-%d-peer1", getpid());
	u->p2name.sun_family = AF_UNIX;
	u->p2name_len = offsetof(struct sockaddr_un, sun_path) + 1 +
			snprintf(u->p2name.sun_path + 1, sizeof(u->p2name.sun_path) - 1,
				 "crak-prog-%d-peer2", getpid());
	u->peer1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	u->peer2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (u->peer1 < 0 || u->peer2 < 0 ||
	    bind(u->peer1, (struct sockaddr *)&u->p1name, u->p1name_len) ||
	    bind(u->peer2, (struct sockaddr *)&u->p2name, u->p2name_len) ||
	    sendto(u->peer1, "to peer 2", 9, 0, (struct sockaddr *)&u->p2name,
		   u->p2name_len) != 9 ||
	    sendto(u->peer2, "to peer 1", 9, 0, (struct sockaddr *)&u->p1name,
		   u->p1name_len) != 9)
		die("unix datagram peers");
	/*
	 * And one larger than a send buffer's default from the first, whose
	 * own is raised for it (at a restart, the sender's options are set
	 * after every socket is made).
	 */
	big = malloc(UNIX_BIG_DGRAM);
	if (!big || setsockopt(u->peer1, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)))
		die("the first datagram peer's send buffer");
	u->p1sndbuf = unix_opt(u->peer1, SO_SNDBUF);
	for (i = 0; i < UNIX_BIG_DGRAM; i++)
		big[i] = i * 7 + 1;
	if (sendto(u->peer1, big, UNIX_BIG_DGRAM, MSG_DONTWAIT, (struct sockaddr *)&u->p2name,
		   u->p2name_len) != UNIX_BIG_DGRAM)
		die("a big datagram from the first peer");
	free(big);
	u->dcli1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	u->dsrv = socket(AF_UNIX, SOCK_DGRAM, 0);
	u->dcli2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	u->dcli3 = socket(AF_UNIX, SOCK_DGRAM, 0);
	u->dlone = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (u->dcli1 < 0 || u->dsrv < 0 || u->dcli2 < 0 || u->dcli3 < 0 || u->dlone < 0 ||
	    bind(u->dsrv, (struct sockaddr *)&u->dpath, u->dpath_len) ||
	    bind(u->dcli2, (struct sockaddr *)&u->dname, u->dname_len) ||
	    bind(u->dcli3, (struct sockaddr *)&u->dcpath, u->dcpath_len) ||
	    connect(u->dcli1, (struct sockaddr *)&u->dpath, u->dpath_len) ||
	    connect(u->dcli2, (struct sockaddr *)&u->dpath, u->dpath_len) ||
	    connect(u->dcli3, (struct sockaddr *)&u->dpath, u->dpath_len))
		die("unix datagram server");
	if (send(u->dcli1, "one", 3, 0) != 3 || send(u->dcli2, "two", 3, 0) != 3 ||
	    send(u->dcli3, "by path", 7, 0) != 7 ||
	    sendto(u->dsrv, "to the client", 13, 0, (struct sockaddr *)&u->dname,
		   u->dname_len) != 13 ||
	    sendto(u->dsrv, "to the third", 12, 0, (struct sockaddr *)&u->dcpath,
		   u->dcpath_len) != 12)
		die("unix datagram send");
	/* The server's queue filled up from a third socket, as far as it goes. */
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (c < 0)
		die("socket");
	for (u->dfull = 0; u->dfull < 1000; u->dfull++) {
		n = snprintf(msg, sizeof(msg), "q%u", u->dfull);
		if (sendto(c, msg, n, MSG_DONTWAIT, (struct sockaddr *)&u->dpath,
			   u->dpath_len) != (ssize_t)n)
			break;
	}
	if (errno != EAGAIN || u->dfull < 5)
		die("filling the datagram server's queue (%u sent)", u->dfull);
	close(c);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || write(sv[1], "bye", 3) != 3 || close(sv[1]))
		die("a unix stream socket whose peer is closed");
	/* (A peek past its last message gets 0 bytes, as a message of none would.) */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq) || send(sq[1], "", 0, 0) ||
	    send(sq[1], "last", 4, 0) != 4 || close(sq[1]))
		die("a unix seqpacket socket whose peer is closed");
	u->sqgone = sq[0];
	/*
	 * A pair with a datagram of no bytes, a word and another of no bytes
	 * queued, the first peeked: a peek from a peek offset passes over it.
	 */
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, u->empty) || send(u->empty[0], "", 0, 0) ||
	    send(u->empty[0], "word", 4, 0) != 4 || send(u->empty[0], "", 0, 0) ||
	    recv(u->empty[1], msg, sizeof(msg), MSG_PEEK))
		die("datagrams of no bytes");
	u->gone = sv[0];
	unix_set_opts(u);
}

/* FD's own address (PEER: its peer's) is LEN bytes of SUN. */
static void unix_check_name(int fd, bool peer, const struct sockaddr_un *sun, socklen_t len,
			    const char *what)
{
	struct sockaddr_un name;
	socklen_t name_len = sizeof(name);

	memset(&name, 0, sizeof(name));
	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&name, &name_len))
		failf("%s of the %s: %s", peer ? "getpeername" : "getsockname", what,
		      strerror(errno));
	else
		CHECK(name_len == len && !memcmp(&name, sun, len),
		      "the %s's %s address (%d bytes, expected %d)", what, peer ? "peer's" : "own",
		      (int)name_len, (int)len);
}

/* The next message or bytes at FD are LEN bytes of EXP; NULL: nothing is. */
static void unix_check_read(int fd, const char *exp, size_t len, const char *what)
{
	char got[64] = "";
	ssize_t n;

	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	if (!exp) {
		CHECK(n < 0 && errno == EAGAIN, "more queued at the %s (%zd bytes)", what, n);
		return;
	}
	check_eq(len, n, "bytes queued at the %s", what);
	if (n == (ssize_t)len)
		check_bytes(exp, got, len, "data queued at the %s", what);
}

/*
 * The next datagram at FD is LEN bytes of EXP, from a socket whose address
 * is FROM_LEN bytes of FROM (NULL: an unbound one).
 */
static void unix_check_from(int fd, const char *exp, size_t len, const struct sockaddr_un *from,
			    socklen_t from_len, const char *what)
{
	struct sockaddr_un name;
	socklen_t name_len = sizeof(name);
	char got[64] = "";
	ssize_t n;

	memset(&name, 0, sizeof(name));
	n = recvfrom(fd, got, sizeof(got) - 1, MSG_DONTWAIT, (struct sockaddr *)&name, &name_len);
	check_eq(len, n, "bytes queued at the %s", what);
	if (n != (ssize_t)len)
		return;
	check_bytes(exp, got, len, "data queued at the %s", what);
	if (!from)
		check_eq(0, name_len, "bytes of the address of the %s's sender", what);
	else
		CHECK(name_len == from_len && !memcmp(&name, from, from_len),
		      "the address of the %s's sender (%d bytes, expected %d)", what,
		      (int)name_len, (int)from_len);
}

/* The big datagram queued at the second peer: whole, and from the first. */
static void unix_check_big(struct unix_state *u)
{
	struct sockaddr_un name;
	socklen_t name_len = sizeof(name);
	unsigned char *got = malloc(UNIX_BIG_DGRAM + 1);
	ssize_t n, i;

	if (!got)
		die("malloc");
	memset(&name, 0, sizeof(name));
	n = recvfrom(u->peer2, got, UNIX_BIG_DGRAM + 1, MSG_DONTWAIT, (struct sockaddr *)&name,
		     &name_len);
	check_eq(UNIX_BIG_DGRAM, n, "bytes of the big datagram queued at the second peer");
	for (i = 0; i < n && got[i] == (unsigned char)(i * 7 + 1); i++)
		;
	check_eq(n, i, "bytes of the big datagram as sent");
	CHECK(name_len == u->p1name_len && !memcmp(&name, &u->p1name, name_len),
	      "the address of the big datagram's sender (%d bytes, expected %d)",
	      (int)name_len, (int)u->p1name_len);
	check_eq(u->p1sndbuf, unix_opt(u->peer1, SO_SNDBUF),
		 "the first datagram peer's SO_SNDBUF");
	free(got);
}

/*
 * The datagrams of no bytes, each there, the first still marked as peeked,
 * left running or made again: a peek from a peek offset passes over it,
 * and not over the second.
 */
static void unix_check_empty(struct unix_state *u)
{
	int off = 0, none = -1;
	char got[8];

	if (setsockopt(u->empty[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		die("the end with datagrams of no bytes");
	check_eq(4, recv(u->empty[1], got, sizeof(got), MSG_PEEK | MSG_DONTWAIT),
		 "bytes of a first peek from offset 0 at the end with datagrams of no bytes (the first peeked before: passed over)");
	check_eq(0, recv(u->empty[1], got, sizeof(got), MSG_PEEK | MSG_DONTWAIT),
		 "bytes of a second peek there (the second datagram of no bytes)");
	if (setsockopt(u->empty[1], SOL_SOCKET, SO_PEEK_OFF, &none, sizeof(none)))
		die("SO_PEEK_OFF");
	check_eq(0, recv(u->empty[1], got, sizeof(got), MSG_DONTWAIT),
		 "bytes of the first datagram queued at the end with datagrams of no bytes");
	unix_check_read(u->empty[1], "word", 4, "end with datagrams of no bytes, second datagram");
	check_eq(0, recv(u->empty[1], got, sizeof(got), MSG_DONTWAIT),
		 "bytes of the third datagram queued at the end with datagrams of no bytes");
	unix_check_read(u->empty[1], NULL, 0, "end with datagrams of no bytes, after the third");
}

/*
 * Listener FD at SUN, listening with BACKLOG: clients connect, as many as
 * its backlog lets wait (one more than it) and no more, and it accepts them.
 */
static void unix_check_listener(int fd, const struct sockaddr_un *sun, socklen_t len,
				int backlog, const char *what)
{
	struct sockaddr_un name;
	socklen_t name_len = sizeof(name);
	int c[16], a, n, i, err = 0;

	if (getsockname(fd, (struct sockaddr *)&name, &name_len))
		failf("getsockname of the %s listener: %s", what, strerror(errno));
	else
		CHECK(name_len == len && !memcmp(&name, sun, len),
		      "the %s listener's address (%d bytes, expected %d)", what, (int)name_len,
		      (int)len);
	for (n = 0; n < (int)ARRAY_SIZE(c); n++) {
		c[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (c[n] < 0 || connect(c[n], (const struct sockaddr *)sun, len)) {
			err = errno;
			if (c[n] >= 0)
				close(c[n]);
			break;
		}
	}
	CHECK(n == backlog + 1 && err == EAGAIN,
	      "the %s listener let %d connections wait (then %s), not %d: its backlog",
	      what, n, err ? strerror(err) : "more", backlog + 1);
	for (i = 0; i < n; i++) {
		a = accept4(fd, NULL, NULL, SOCK_NONBLOCK);
		if (a < 0)
			failf("the %s listener does not accept: %s", what, strerror(errno));
		else
			close(a);
		close(c[i]);
	}
}

static void unix_check(struct unix_state *u)
{
	struct sockaddr_un name;
	socklen_t name_len = sizeof(name);
	char msg[16];
	unsigned int n;
	int c;

	unix_check_opts(u);
	check_hex(O_NONBLOCK, fcntl(u->stream[0], F_GETFL) & O_NONBLOCK,
		  "first end of the stream pair: F_GETFL");
	check_hex(0, fcntl(u->stream[1], F_GETFL) & O_NONBLOCK,
		  "second end of the stream pair: F_GETFL");
	check_hex(0, fcntl(u->dgram[0], F_GETFL) & O_NONBLOCK,
		  "first end of the datagram pair: F_GETFL");
	check_hex(O_NONBLOCK, fcntl(u->dgram[1], F_GETFL) & O_NONBLOCK,
		  "second end of the datagram pair: F_GETFL");
	unix_check_read(u->stream[1], "to the second", 13, "second end of the stream pair");
	unix_check_read(u->stream[0], "to the first", 12, "first end of the stream pair");
	for (n = 0; n < 4; n++) {
		const char *exp = n < 3 ? msg : NULL;
		size_t len = unix_msg(n, msg);
		char what[64];

		snprintf(what, sizeof(what), "datagram pair's end, message %u", n);
		unix_check_read(u->dgram[1], exp, len, what);
		snprintf(what, sizeof(what), "seqpacket pair's end, message %u", n);
		unix_check_read(u->seqpacket[0], exp, len, what);
	}
	/* And the pairs still work both ways. */
	if (send(u->dgram[1], "back", 4, 0) != 4 || send(u->stream[1], "back", 4, 0) != 4)
		failf("sending back on a unix pair: %s", strerror(errno));
	unix_check_read(u->dgram[0], "back", 4, "first end of the datagram pair");
	unix_check_read(u->stream[0], "back", 4, "first end of the stream pair");
	unix_check_listener(u->lpath, &u->path, u->path_len, UNIX_PATH_BACKLOG, "path");
	unix_check_listener(u->labstract, &u->abstract, u->abstract_len, UNIX_ABSTRACT_BACKLOG,
			    "abstract");
	unlink(u->path.sun_path);

	/* The connections accepted from the listeners, with their names. */
	unix_check_name(u->apath, false, &u->path, u->path_len, "path listener's connection");
	unix_check_name(u->cpath, true, &u->path, u->path_len, "path listener's client");
	unix_check_name(u->aabstract, false, &u->abstract, u->abstract_len,
			"abstract listener's connection");
	unix_check_name(u->aabstract, true, &u->cname, u->cname_len,
			"abstract listener's connection");
	unix_check_name(u->cabstract, false, &u->cname, u->cname_len, "abstract listener's client");
	unix_check_name(u->cabstract, true, &u->abstract, u->abstract_len,
			"abstract listener's client");
	unix_check_read(u->apath, "to the server", 13, "path listener's connection");
	unix_check_read(u->cpath, "to the client", 13, "path listener's client");
	unix_check_read(u->aabstract, "to it", 5, "abstract listener's connection");
	unix_check_read(u->cabstract, "from it", 7, "abstract listener's client");
	if (write(u->cpath, "again", 5) != 5 || write(u->aabstract, "back", 4) != 4)
		failf("writing on a connection accepted from a listener: %s", strerror(errno));
	unix_check_read(u->apath, "again", 5, "path listener's connection");
	/* Its dup is the same socket. */
	if (write(u->apath_dup, "dup", 3) != 3)
		failf("writing on the dup of a connection accepted: %s", strerror(errno));
	unix_check_read(u->cpath, "dup", 3, "path listener's client, from the dup");
	unix_check_read(u->cabstract, "back", 4, "abstract listener's client");

	/* The datagram server: its name, what was queued, new datagrams. */
	unix_check_name(u->dsrv, false, &u->dpath, u->dpath_len, "datagram server");
	unix_check_name(u->dcli1, true, &u->dpath, u->dpath_len, "first datagram client");
	unix_check_name(u->dcli2, true, &u->dpath, u->dpath_len, "second datagram client");
	unix_check_name(u->dcli2, false, &u->dname, u->dname_len, "second datagram client");
	/* (Each from its sender's address: the second client is bound to one.) */
	unix_check_from(u->dsrv, "one", 3, NULL, 0, "datagram server, first datagram");
	unix_check_from(u->dsrv, "two", 3, &u->dname, u->dname_len,
			"datagram server, second datagram");
	unix_check_from(u->dsrv, "by path", 7, &u->dcpath, u->dcpath_len,
			"datagram server, third datagram");
	unix_check_name(u->dcli3, false, &u->dcpath, u->dcpath_len, "third datagram client");
	for (n = 0; n < u->dfull; n++) {
		char what[64];
		int len = snprintf(msg, sizeof(msg), "q%u", n);

		snprintf(what, sizeof(what), "datagram server, datagram %u of its full queue", n);
		unix_check_read(u->dsrv, msg, len, what);
	}
	unix_check_read(u->dsrv, NULL, 0, "datagram server, after its full queue");
	/* The stream whose peer is gone: what was queued, then the end. */
	unix_check_read(u->gone, "bye", 3, "stream socket whose peer is closed");
	check_eq(0, recv(u->gone, msg, sizeof(msg), MSG_DONTWAIT),
		 "recv after the bytes of the stream socket whose peer is closed");
	/* The seqpacket socket whose peer is gone: its two messages, then the end. */
	unix_check_read(u->sqgone, "", 0, "seqpacket socket whose peer is closed, first message");
	unix_check_read(u->sqgone, "last", 4, "seqpacket socket whose peer is closed, second message");
	check_eq(0, recv(u->sqgone, msg, sizeof(msg), MSG_DONTWAIT),
		 "recv after the messages of the seqpacket socket whose peer is closed");
	/* (The server's answers from the server, which crak made first.) */
	unix_check_from(u->dcli2, "to the client", 13, &u->dpath, u->dpath_len,
			"second datagram client, the server's answer");
	unix_check_from(u->dcli3, "to the third", 12, &u->dpath, u->dpath_len,
			"third datagram client, the server's answer");
	/* (The first peer made again first: the second's from the first itself.) */
	unix_check_from(u->peer1, "to peer 1", 9, &u->p2name, u->p2name_len,
			"first datagram peer");
	unix_check_from(u->peer2, "to peer 2", 9, &u->p1name, u->p1name_len,
			"second datagram peer");
	unix_check_big(u);
	unix_check_empty(u);
	unix_check_read(u->dcli1, NULL, 0, "first datagram client");
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (send(u->dcli1, "three", 5, 0) != 5 || send(u->dcli2, "four", 4, 0) != 4 ||
	    c < 0 || sendto(c, "five", 4, 0, (struct sockaddr *)&u->dpath, u->dpath_len) != 4 ||
	    sendto(u->dsrv, "six", 3, 0, (struct sockaddr *)&u->dname, u->dname_len) != 3)
		failf("sending to or from the datagram server: %s", strerror(errno));
	if (c >= 0)
		close(c);
	unix_check_read(u->dsrv, "three", 5, "datagram server, from the first client");
	unix_check_read(u->dsrv, "four", 4, "datagram server, from the second client");
	unix_check_read(u->dsrv, "five", 4, "datagram server, from a new socket");
	unix_check_read(u->dcli2, "six", 3, "second datagram client, from the server");
	unlink(u->dpath.sun_path);
	unlink(u->dcpath.sun_path);
	/* The socket neither bound nor connected is neither still. */
	CHECK(getpeername(u->dlone, (struct sockaddr *)&name, &name_len) && errno == ENOTCONN,
	      "getpeername of an unconnected datagram socket: %s",
	      strerror(errno));
	name_len = sizeof(name);
	if (getsockname(u->dlone, (struct sockaddr *)&name, &name_len))
		failf("getsockname of an unbound datagram socket: %s", strerror(errno));
	else
		check_eq(sizeof(sa_family_t), name_len,
			 "the unbound datagram socket's address length");
}

/*
 * A socket pair whose one end signals the main thread (F_SETOWN_EX to a
 * thread) with a signal of its own (F_SETSIG) when data comes (O_ASYNC);
 * the signal is blocked and taken with sigtimedwait.
 */
struct async_state {
	int sv[2];
	int sig;
};

static void async_setup(struct async_state *a)
{
	struct f_owner_ex ow = { F_OWNER_TID, gettid_raw() };
	sigset_t m;

	a->sig = SIGRTMIN + 2;
	sigemptyset(&m);
	sigaddset(&m, a->sig);
	sigprocmask(SIG_BLOCK, &m, NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a->sv) || fcntl(a->sv[0], F_SETSIG, a->sig) ||
	    fcntl(a->sv[0], F_SETOWN_EX, &ow) || fcntl(a->sv[0], F_SETFL, O_ASYNC | O_NONBLOCK))
		die("the O_ASYNC socket");
}

static void async_check(struct async_state *a)
{
	struct timespec ts = { 10, 0 };
	struct f_owner_ex ow = {};
	siginfo_t si;
	sigset_t m;
	int sig;

	check_hex(O_ASYNC | O_NONBLOCK, fcntl(a->sv[0], F_GETFL) & (O_ASYNC | O_NONBLOCK),
		  "the O_ASYNC socket's F_GETFL");
	check_eq(a->sig, fcntl(a->sv[0], F_GETSIG), "the O_ASYNC socket's F_GETSIG");
	if (fcntl(a->sv[0], F_GETOWN_EX, &ow))
		failf("F_GETOWN_EX of the O_ASYNC socket: %s", strerror(errno));
	check_eq(F_OWNER_TID, ow.type, "the O_ASYNC socket's owner type");
	check_eq(gettid_raw(), ow.pid, "the O_ASYNC socket's owner");
	sigemptyset(&m);
	sigaddset(&m, a->sig);
	check_eq(1, write(a->sv[1], "s", 1), "write to the O_ASYNC socket's peer");
	sig = sigtimedwait(&m, &si, &ts);
	check_eq(a->sig, sig, "the O_ASYNC socket's signal");
	if (sig == a->sig) {
		check_eq(a->sv[0], si.si_fd, "si_fd of the O_ASYNC socket's signal");
		check_eq(POLL_IN, si.si_code, "si_code of the O_ASYNC socket's signal");
	}
}

static int mode_files(void)
{
	static char unl_data[UNLINKED_SIZE], unl_now[UNLINKED_SIZE];
	static char pipe_data[PIPE_BYTES], fifo_data[FIFO_BYTES], got[PIPE_BYTES + 1];
	int reg, dup_fd, ro, unl, mfd, umf, umr, uro, dfd, dnull, dzero, drand, pp[2];
	int fifo_r, fifo_w, efd, epfd, epdup, sfd, tfd;
	char *mmem, *umem, *romem;
	unsigned long ino;
	dev_t dev;
	struct async_state as;
	struct unix_state u;
	char path[PATH_MAX], sigmask_before[64], sigmask_now[64], clock_before[64], clock_now[64];
	struct fd_state fds[20];
	unsigned int nr = 0, i;
	struct itimerspec its = { .it_value = { 100, 0 }, .it_interval = { 10, 0 } };
	struct itimerspec once = { .it_value = { 0, 1000000 } };
	int fired;
	struct epoll_event ev, evs[8];
	struct signalfd_siginfo ssi;
	struct pollfd pfd;
	struct stat st, ust;
	ino_t dir_ino;
	sigset_t m;
	uint64_t count;
	ssize_t n;
	int nbytes;
	bool seen1234 = false, seen5678 = false;

	/* A regular file, and a dup of it sharing its offset. */
	dir_path(path, "reg");
	reg = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (reg < 0 || write(reg, "abcdef", 6) != 6 || lseek(reg, 2, SEEK_SET) != 2)
		die("%s", path);
	dup_fd = dup(reg);

	/* Read-only at offset 3, the only one with FD_CLOEXEC. */
	dir_path(path, "ro");
	ro = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (ro < 0 || write(ro, "0123456789", 10) != 10 || close(ro))
		die("%s", path);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0 || lseek(ro, 3, SEEK_SET) != 3)
		die("%s", path);

	/* An unlinked file at offset 100. */
	dir_path(path, "unl");
	unl = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fill_pattern(unl_data, sizeof(unl_data), 77);
	if (unl < 0 || !write_all(unl, unl_data, sizeof(unl_data)) || unlink(path) ||
	    lseek(unl, 100, SEEK_SET) != 100)
		die("%s", path);

	/*
	 * A memfd at offset 7, sealed against shrinking, growing and more
	 * seals, and mapped shared: the mapping and the descriptor one memory.
	 */
	mfd = memfd_create("crak-prog", MFD_ALLOW_SEALING);
	if (mfd < 0 || !write_all(mfd, unl_data, MEMFD_SIZE) || lseek(mfd, 7, SEEK_SET) != 7 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL))
		die("memfd");
	mmem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (mmem == MAP_FAILED)
		die("mmap memfd");

	/*
	 * A file open for reading and writing at offset 5, mapped shared, then
	 * deleted: the descriptor and the mapping one memory.  (In /dev/shm:
	 * 9p without a cache shares no writable mapping.)
	 */
	snprintf(path, sizeof(path), "/dev/shm/crak-prog-unlmap.%d", getpid());
	umf = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (umf < 0 || !write_all(umf, unl_data, MEMFD_SIZE) || lseek(umf, 5, SEEK_SET) != 5)
		die("%s", path);
	umem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, umf, 0);
	/* Opened twice: read-only too, at offset 3. */
	umr = open(path, O_RDONLY);
	if (umem == MAP_FAILED || umr < 0 || lseek(umr, 3, SEEK_SET) != 3 || unlink(path))
		die("mmap %s shared", path);

	/*
	 * Another, mapped shared and writable, then held only read-only at
	 * offset 9, then deleted: it too comes back one memory with its
	 * mapping, which writes what the descriptor reads.
	 */
	snprintf(path, sizeof(path), "/dev/shm/crak-prog-unlro.%d", getpid());
	uro = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (uro < 0 || !write_all(uro, unl_data, MEMFD_SIZE))
		die("%s", path);
	romem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, uro, 0);
	if (romem == MAP_FAILED || close(uro))
		die("mmap %s shared", path);
	uro = open(path, O_RDONLY);
	if (uro < 0 || lseek(uro, 9, SEEK_SET) != 9 || unlink(path))
		die("%s read-only", path);

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || fstat(dfd, &st))
		die("%s", dir);
	dir_ino = st.st_ino;

	dnull = open("/dev/null", O_RDWR);
	dzero = open("/dev/zero", O_RDONLY);
	drand = open("/dev/urandom", O_RDONLY);
	if (dnull < 0 || dzero < 0 || drand < 0)
		die("/dev");

	/* A pipe holding 1000 bytes, its write end non-blocking. */
	if (pipe(pp))
		die("pipe");
	fill_pattern(pipe_data, sizeof(pipe_data), 1000);
	if (fcntl(pp[1], F_SETFL, O_NONBLOCK) || !write_all(pp[1], pipe_data, sizeof(pipe_data)))
		die("pipe");

	/* A FIFO in DIR holding 100 bytes, both ends held. */
	dir_path(path, "fifo");
	unlink(path);
	if (mkfifo(path, 0600)) {
		/* 9p may refuse FIFOs: then in /tmp, which only this node sees. */
		printf("# mkfifo in %s: %s; the FIFO is in /tmp\n", dir, strerror(errno));
		fflush(stdout);
		snprintf(path, sizeof(path), "/tmp/ckpt-prog-fifo.%d", getpid());
		unlink(path);
		if (mkfifo(path, 0600))
			die("mkfifo %s", path);
	}
	fifo_r = open(path, O_RDONLY | O_NONBLOCK);
	fifo_w = open(path, O_WRONLY);
	if (fifo_r < 0 || fifo_w < 0 || fcntl(fifo_r, F_SETFL, 0))
		die("%s", path);
	fill_pattern(fifo_data, 96, 100);
	memcpy(fifo_data + 96, "FIFO", 4);
	if (!write_all(fifo_w, fifo_data, sizeof(fifo_data)))
		die("%s", path);

	efd = eventfd(7, EFD_NONBLOCK);
	epfd = epoll_create1(0);
	if (efd < 0 || epfd < 0 || fcntl(epfd, F_SETFL, O_NONBLOCK))
		die("eventfd, epoll");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x1234 };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev))
		die("epoll_ctl");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x5678 };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, pp[0], &ev))
		die("epoll_ctl");
	/* The epoll twice (its list is registered once again). */
	epdup = dup(epfd);
	if (epdup < 0)
		die("dup of the epoll");

	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigprocmask(SIG_BLOCK, &m, NULL);
	sfd = signalfd(-1, &m, 0);
	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL))
		die("signalfd, timerfd");
	/* A timerfd that fired once, its expiration left unread. */
	fired = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (fired < 0 || timerfd_settime(fired, 0, &once, NULL))
		die("timerfd");
	pfd = (struct pollfd){ .fd = fired, .events = POLLIN };
	if (poll(&pfd, 1, 5000) != 1)
		die("the timerfd did not fire");
	fdinfo_field(sfd, "sigmask:", sigmask_before, sizeof(sigmask_before));
	fdinfo_field(tfd, "clockid:", clock_before, sizeof(clock_before));

	fd_add(fds, &nr, 0, "standard input");
	fd_add(fds, &nr, 1, "standard output");
	fd_add(fds, &nr, 2, "standard error");
	fd_add(fds, &nr, reg, "DIR/reg");
	fd_add(fds, &nr, dup_fd, "dup of DIR/reg");
	fd_add(fds, &nr, ro, "DIR/ro");
	fd_add(fds, &nr, unl, "unlinked DIR/unl");
	fd_add(fds, &nr, mfd, "memfd");
	fd_add(fds, &nr, umf, "deleted /dev/shm file, mapped shared");
	fd_add(fds, &nr, umr, "the deleted /dev/shm file again, read-only");
	fd_add(fds, &nr, uro, "deleted /dev/shm file, read-only, mapped shared");
	fd_add(fds, &nr, dfd, "DIR");
	fd_add(fds, &nr, dnull, "/dev/null");
	fd_add(fds, &nr, dzero, "/dev/zero");
	fd_add(fds, &nr, drand, "/dev/urandom");
	fd_add(fds, &nr, pp[0], "pipe read end");
	fd_add(fds, &nr, pp[1], "pipe write end");
	fd_add(fds, &nr, fifo_r, "FIFO read end");
	fd_add(fds, &nr, fifo_w, "FIFO write end");
	/* the rest are compared by what they do, below */
	unix_setup(&u);
	async_setup(&as);

	ready();
	wait_usr1();

	unix_check(&u);
	async_check(&as);

	for (i = 0; i < nr; i++)
		fd_compare(&fds[i]);
	fd_kind(efd, path, sizeof(path));
	check_str("anon_inode:[eventfd]", path, "fd %d: what it is", efd);
	fd_kind(epfd, path, sizeof(path));
	check_str("anon_inode:[eventpoll]", path, "fd %d: what it is", epfd);
	fd_kind(sfd, path, sizeof(path));
	check_str("anon_inode:[signalfd]", path, "fd %d: what it is", sfd);
	fd_kind(tfd, path, sizeof(path));
	check_str("anon_inode:[timerfd]", path, "fd %d: what it is", tfd);
	check_hex(O_RDWR | O_NONBLOCK, fcntl(efd, F_GETFL) & (O_ACCMODE | O_NONBLOCK),
		  "eventfd F_GETFL");
	check_hex(O_NONBLOCK, fcntl(epfd, F_GETFL) & O_NONBLOCK, "epoll F_GETFL");
	check_eq(0, syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, epfd, epdup),
		 "kcmp of the epoll and its duplicate (0: one open file)");

	/* Offsets, and the dup shares its own. */
	check_eq(2, offset_of(reg), "offset of DIR/reg");
	check_eq(2, offset_of(dup_fd), "offset of the dup of DIR/reg");
	check_eq(3, offset_of(ro), "offset of DIR/ro");
	check_eq(100, offset_of(unl), "offset of the unlinked file");
	lseek(reg, 5, SEEK_SET);
	check_eq(5, offset_of(dup_fd), "offset of the dup after lseek on DIR/reg");
	n = pread(reg, got, sizeof(got), 0);
	check_eq(6, n, "size of DIR/reg");
	got[n > 0 ? n : 0] = 0;
	check_str("abcdef", got, "contents of DIR/reg");
	n = read(ro, got, 3);
	got[n > 0 ? n : 0] = 0;
	check_str("345", got, "read from DIR/ro at its offset");

	if (fstat(unl, &st)) {
		failf("fstat of the unlinked file: %s", strerror(errno));
	} else {
		check_eq(0, st.st_nlink, "st_nlink of the unlinked file");
		check_eq(UNLINKED_SIZE, st.st_size, "st_size of the unlinked file");
	}
	n = pread(unl, unl_now, sizeof(unl_now), 0);
	check_eq(UNLINKED_SIZE, n, "pread of the unlinked file");
	check_pattern(unl_now, sizeof(unl_now), 77, "contents of the unlinked file");

	/* The memfd: one again, its name, offset, contents and seals. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	n = readlink(path, got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = 0;
	check_str("/memfd:crak-prog (deleted)", got, "what the memfd is");
	check_eq(7, offset_of(mfd), "offset of the memfd");
	n = pread(mfd, unl_now, MEMFD_SIZE + 1, 0);
	check_eq(MEMFD_SIZE, n, "pread of the memfd");
	check_pattern(unl_now, MEMFD_SIZE, 77, "contents of the memfd");
	check_hex(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW, fcntl(mfd, F_GET_SEALS),
		  "seals of the memfd");
	check_pattern(mmem, MEMFD_SIZE, 77, "the memfd's shared mapping");
	check_eq(4, pwrite(mfd, "join", 4, 64), "pwrite to the memfd");
	check_bytes("join", mmem + 64, 4, "the memfd written, seen through its mapping");
	memcpy(mmem + 64, unl_data + 64, 4);
	n = pread(mfd, got, 4, 64);
	check_bytes(unl_data + 64, got, n == 4 ? 4 : 0, "its mapping written, read from the memfd");

	/* The deleted file mapped shared: its data, one memory with its mapping. */
	if (fstat(umf, &st)) {
		failf("fstat of the deleted file mapped shared: %s", strerror(errno));
	} else {
		check_eq(0, st.st_nlink, "st_nlink of the deleted file mapped shared");
		check_eq(MEMFD_SIZE, st.st_size, "st_size of the deleted file mapped shared");
		check_hex(0600, st.st_mode & 07777, "mode of the deleted file mapped shared");
	}
	check_eq(5, offset_of(umf), "offset of the deleted file mapped shared");
	n = pread(umf, unl_now, MEMFD_SIZE, 0);
	check_eq(MEMFD_SIZE, n, "pread of the deleted file mapped shared");
	check_pattern(unl_now, MEMFD_SIZE, 77, "contents of the deleted file mapped shared");
	check_pattern(umem, MEMFD_SIZE, 77, "the deleted file's shared mapping");
	check_eq(4, pwrite(umf, "join", 4, 64), "pwrite to the deleted file mapped shared");
	check_bytes("join", umem + 64, 4, "the deleted file written, seen through its mapping");
	memcpy(umem + 64, unl_data + 64, 4);
	n = pread(umf, got, 4, 64);
	check_bytes(unl_data + 64, got, n == 4 ? 4 : 0,
		    "its mapping written, read from the deleted file");
	/* Its second open file: of the same file, and so of the mapping's memory. */
	if (fstat(umf, &st) || fstat(umr, &ust)) {
		failf("fstat of the deleted file opened twice: %s", strerror(errno));
	} else {
		check_eq(st.st_ino, ust.st_ino, "st_ino of the deleted file's second open file");
		check_eq(st.st_dev, ust.st_dev, "st_dev of the deleted file's second open file");
	}
	check_eq(3, offset_of(umr), "offset of the deleted file's second open file");
	check_eq(O_RDONLY, fcntl(umr, F_GETFL) & O_ACCMODE,
		 "access mode of the deleted file's second open file");
	check_eq(4, pwrite(umf, "both", 4, 128), "pwrite to the deleted file opened twice");
	n = pread(umr, got, 4, 128);
	check_bytes("both", got, n == 4 ? 4 : 0,
		    "the deleted file written, read through its second open file");
	memcpy(umem + 128, unl_data + 128, 4);

	/* The one held read-only: its data, its mapping's memory. */
	if (fstat(uro, &st)) {
		failf("fstat of the deleted file held read-only: %s", strerror(errno));
	} else {
		check_eq(0, st.st_nlink, "st_nlink of the deleted file held read-only");
		check_eq(MEMFD_SIZE, st.st_size, "st_size of the deleted file held read-only");
		ino = map_ino(romem, &dev);
		check_eq(st.st_ino, ino,
			 "inode of the read-only deleted file's mapping (/proc/self/maps) against its descriptor's");
		check_eq(st.st_dev, dev,
			 "device of the read-only deleted file's mapping (/proc/self/maps) against its descriptor's");
	}
	check_eq(9, offset_of(uro), "offset of the deleted file held read-only");
	check_eq(O_RDONLY, fcntl(uro, F_GETFL) & O_ACCMODE,
		 "access mode of the deleted file held read-only");
	n = pread(uro, unl_now, MEMFD_SIZE, 0);
	check_eq(MEMFD_SIZE, n, "pread of the deleted file held read-only");
	check_pattern(unl_now, MEMFD_SIZE, 77, "contents of the deleted file held read-only");
	check_pattern(romem, MEMFD_SIZE, 77, "the read-only deleted file's shared mapping");
	memcpy(romem + 256, "rowr", 4);
	n = pread(uro, got, 4, 256);
	check_bytes("rowr", got, n == 4 ? 4 : 0,
		    "the read-only deleted file's mapping written, read from its descriptor");
	memcpy(romem + 256, unl_data + 256, 4);

	if (fstat(dfd, &st))
		failf("fstat of DIR: %s", strerror(errno));
	else
		check_eq(dir_ino, st.st_ino, "st_ino of DIR's descriptor");

	check_eq(4, write(dnull, "null", 4), "write to /dev/null");
	check_eq(0, read(dnull, got, 16), "read from /dev/null");
	memset(got, 0xff, sizeof(got));
	check_eq(sizeof(got), read(dzero, got, sizeof(got)), "read from /dev/zero");
	CHECK(all_zero(got, sizeof(got)), "/dev/zero read non-zero bytes (expected 0, got %#x)",
	      (unsigned char)got[0]);
	memset(got, 0, 64);
	check_eq(64, read(drand, got, 64), "read from /dev/urandom");
	CHECK(!all_zero(got, 64), "/dev/urandom read 64 zero bytes (expected random, got zeros)");

	/* epoll first: it must see both ready. */
	n = epoll_wait(epfd, evs, ARRAY_SIZE(evs), 0);
	check_eq(2, n, "epoll_wait events");
	for (i = 0; n > 0 && i < (unsigned int)n; i++) {
		if (evs[i].data.u64 == 0x1234)
			seen1234 = true;
		else if (evs[i].data.u64 == 0x5678)
			seen5678 = true;
		else
			failf("epoll_wait data (expected 0x1234 or 0x5678, got %#" PRIx64 ")",
			      (uint64_t)evs[i].data.u64);
		check_hex(EPOLLIN, evs[i].events, "epoll_wait events of data %#" PRIx64,
			  (uint64_t)evs[i].data.u64);
	}
	CHECK(seen1234, "epoll_wait did not report the eventfd (expected data 0x1234, got none)");
	CHECK(seen5678, "epoll_wait did not report the pipe (expected data 0x5678, got none)");

	count = 0;
	check_eq(8, read(efd, &count, 8), "read from the eventfd");
	check_eq(7, count, "eventfd count");
	errno = 0;
	check_eq(-EAGAIN, read(efd, &count, 8) < 0 ? -errno : 0,
		 "second read from the eventfd (-errno)");

	nbytes = -1;
	ioctl(pp[0], FIONREAD, &nbytes);
	check_eq(PIPE_BYTES, nbytes, "bytes buffered in the pipe");
	if (nbytes == PIPE_BYTES) {
		n = read_full(pp[0], got, PIPE_BYTES);
		check_eq(PIPE_BYTES, n, "read from the pipe");
		check_bytes(pipe_data, got, PIPE_BYTES, "data of the pipe");
	}
	nbytes = -1;
	ioctl(fifo_r, FIONREAD, &nbytes);
	check_eq(FIFO_BYTES, nbytes, "bytes buffered in the FIFO");
	if (nbytes == FIFO_BYTES) {
		n = read_full(fifo_r, got, FIFO_BYTES);
		check_eq(FIFO_BYTES, n, "read from the FIFO");
		check_bytes(fifo_data, got, FIFO_BYTES, "data of the FIFO");
	}
	/* The pipe's ends still join. */
	check_eq(3, write(pp[1], "end", 3), "write to the pipe");
	memset(got, 0, 4);
	check_eq(3, read(pp[0], got, 3), "read back from the pipe");
	check_str("end", got, "data written to the pipe after the restart");

	fdinfo_field(sfd, "sigmask:", sigmask_now, sizeof(sigmask_now));
	check_str(sigmask_before, sigmask_now, "signalfd sigmask");
	raise(SIGUSR2);
	pfd = (struct pollfd){ .fd = sfd, .events = POLLIN };
	check_eq(1, poll(&pfd, 1, 0), "poll of the signalfd after raise(SIGUSR2)");
	if (pfd.revents & POLLIN) {
		check_eq(sizeof(ssi), read(sfd, &ssi, sizeof(ssi)), "read from the signalfd");
		check_eq(SIGUSR2, ssi.ssi_signo, "signal read from the signalfd");
	}

	fdinfo_field(tfd, "clockid:", clock_now, sizeof(clock_now));
	check_str(clock_before, clock_now, "timerfd clock");
	if (timerfd_gettime(tfd, &its)) {
		failf("timerfd_gettime: %s", strerror(errno));
	} else {
		long long v = its.it_value.tv_sec * NSEC_PER_SEC + its.it_value.tv_nsec;

		CHECK(v > 0 && v <= 100 * NSEC_PER_SEC,
		      "timerfd value (expected 0 < value <= 100 s, got %lld.%09ld s)",
		      (long long)its.it_value.tv_sec, its.it_value.tv_nsec);
		check_eq(10 * NSEC_PER_SEC, its.it_interval.tv_sec * NSEC_PER_SEC +
			 its.it_interval.tv_nsec, "timerfd interval (ns)");
	}
	count = 0;
	check_eq(8, read(fired, &count, 8), "read from the timerfd that fired");
	check_eq(1, count, "expirations of the timerfd that fired");
	return finish();
}

/* -- sockets connected outside --------------------------------------------- */

/*
 * Two datagram sockets connected to sockets of another process, as
 * syslog(3)'s to /dev/log: one bound to the path SYSLOG_PATH, one to the
 * abstract name SYSLOG_NAME (the script makes both on each node).
 * Restarted, each is connected to that name again: it still names it as
 * its peer and a datagram to it goes.
 */
#define SYSLOG_PATH	"/run/crak-selftest-log"
#define SYSLOG_NAME	"crak-selftest-log"

static int syslog_connect(bool abstract)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *name = abstract ? SYSLOG_NAME : SYSLOG_PATH;
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name);
	int fd;

	memcpy(sun.sun_path + abstract, name, strlen(name));
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, len + !abstract))
		die("connecting a datagram socket to %s%s", abstract ? "@" : "", name);
	return fd;
}

static void syslog_check(int fd, bool abstract)
{
	const char *name = abstract ? SYSLOG_NAME : SYSLOG_PATH;
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	char got[sizeof(sun.sun_path) + 1] = "";
	int type = 0;
	ssize_t n;

	len = sizeof(type);
	check_eq(0, getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len), "SO_TYPE of the socket to %s",
		 name);
	check_eq(SOCK_DGRAM, type, "the type of the socket to %s", name);
	len = sizeof(sun);
	if (getpeername(fd, (struct sockaddr *)&sun, &len)) {
		failf("getpeername of the socket to %s: %s", name, strerror(errno));
		return;
	}
	len -= offsetof(struct sockaddr_un, sun_path);
	if (len > (socklen_t)abstract)
		memcpy(got, sun.sun_path + abstract, len - abstract);
	check_str(name, got, "the peer of the %s socket", abstract ? "abstract" : "path");
	n = send(fd, "after", 5, 0);
	check_eq(5, n, "a datagram to %s after the restart (%s)", name, n < 0 ? strerror(errno) : "");
}

static int mode_syslog(void)
{
	int path = syslog_connect(false), abstract = syslog_connect(true);

	if (send(path, "before", 6, 0) != 6 || send(abstract, "before", 6, 0) != 6)
		die("sending before");
	ready();
	wait_usr1();
	syslog_check(path, false);
	syslog_check(abstract, true);
	return finish();
}

/* -- threads --------------------------------------------------------------- */

#define NR_THREADS	4

static __thread uint64_t thread_word;
static int threads_started, threads_go, threads_reported;

struct worker {
	int nr;			/* 1 to NR_THREADS */
	pthread_t t;
};

static uint64_t thread_value(int nr)
{
	return 0x7ead000000000000ULL | (uint64_t)nr << 32 | mix64(nr);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	sigset_t m, before, expect, now;
	uint64_t fs, addr;
	pid_t tid;

	thread_word = thread_value(w->nr) & 0xffffffff0000ffffULL;
	tid = gettid_raw();
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN + w->nr);
	pthread_sigmask(SIG_BLOCK, &m, NULL);
	pthread_sigmask(SIG_BLOCK, NULL, &before);
	fs = fs_base();
	addr = (uintptr_t)&thread_word;

	pthread_mutex_lock(&cond_lock);
	threads_started++;
	pthread_cond_broadcast(&cond);
	while (!threads_go)
		pthread_cond_wait(&cond, &cond_lock);
	pthread_mutex_unlock(&cond_lock);

	check_hex(thread_value(w->nr) & 0xffffffff0000ffffULL, thread_word,
		  "thread %d: its __thread variable", w->nr);
	check_hex(addr, (uintptr_t)&thread_word, "thread %d: address of its __thread variable",
		  w->nr);
	check_hex(fs, fs_base(), "thread %d: arch_prctl(ARCH_GET_FS)", w->nr);
	check_eq(tid, gettid_raw(), "thread %d: gettid()", w->nr);
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	sigemptyset(&expect);
	sigaddset(&expect, SIGUSR1);
	sigaddset(&expect, SIGRTMIN + w->nr);
	{
		char what[64];

		snprintf(what, sizeof(what), "thread %d: its signal mask", w->nr);
		check_sigset(&before, &now, what);
		snprintf(what, sizeof(what), "thread %d: its signal mask as set", w->nr);
		check_sigset(&expect, &now, what);
	}
	pthread_mutex_lock(&cond_lock);
	threads_reported++;
	pthread_mutex_unlock(&cond_lock);
	return NULL;
}

static int mode_threads(void)
{
	struct worker w[NR_THREADS];
	sigset_t m, mask_before, mask_now;
	uint64_t fs;
	pid_t tid;
	int i, sig = 0;

	thread_word = 0x3a1a000000000001ULL;
	tid = gettid_raw();
	fs = fs_base();
	for (i = 0; i < NR_THREADS; i++) {
		w[i].nr = i + 1;
		errno = pthread_create(&w[i].t, NULL, worker_main, &w[i]);
		if (errno)
			die("pthread_create");
	}
	pthread_mutex_lock(&cond_lock);
	while (threads_started < NR_THREADS)
		pthread_cond_wait(&cond, &cond_lock);
	pthread_mutex_unlock(&cond_lock);
	sigprocmask(SIG_BLOCK, NULL, &mask_before);

	ready();
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	CHECK(!sigwait(&m, &sig) && sig == SIGUSR1, "sigwait (expected %d, got %d)", SIGUSR1, sig);

	pthread_mutex_lock(&cond_lock);
	threads_go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&cond_lock);
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(w[i].t, NULL);
	check_eq(NR_THREADS, threads_reported, "threads that checked themselves");
	check_hex(0x3a1a000000000001ULL, thread_word, "main thread: its __thread variable");
	check_hex(fs, fs_base(), "main thread: arch_prctl(ARCH_GET_FS)");
	check_eq(tid, gettid_raw(), "main thread: gettid()");
	sigprocmask(SIG_BLOCK, NULL, &mask_now);
	check_sigset(&mask_before, &mask_now, "main thread: its signal mask");
	return finish();
}

/* -- memory written all along (checkpoint --live) -------------------------- */

#define SCRIBBLE_PAGES	2048	/* 8 MiB */

/*
 * Pages written all along, at random (a few often, the rest now and then),
 * while the process is checkpointed: the first word of page I counts the
 * writes to page I from I + 1 on, the second of page 0 the writes to all
 * (from the sum of those starts), the third of page I says I.  A page that
 * the image holds from before its last write (a checkpoint --live leaving
 * out a page it took ahead) makes the sum fall short of the total; one of
 * zeros, or from elsewhere, has the wrong third word.
 */
static int mode_scribble(void)
{
	size_t stride = page_size / sizeof(uint64_t), i;
	struct timespec nap = { .tv_nsec = 1000000 };
	uint64_t x = 0x9e3779b97f4a7c15ULL, sum = 0, writes = 0;
	unsigned int misplaced = 0;
	volatile uint64_t *pages;
	sigset_t unblock;

	pages = mmap(NULL, SCRIBBLE_PAGES * page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED)
		die("mmap");
	/*
	 * Small pages: a huge page's one soft-dirty bit would make all dirty
	 * (a kernel without transparent huge pages refuses the advice).
	 */
	if (madvise((void *)pages, SCRIBBLE_PAGES * page_size, MADV_NOHUGEPAGE) &&
	    errno != EINVAL)
		die("madvise");
	for (i = 0; i < SCRIBBLE_PAGES; i++) {
		pages[i * stride] = i + 1;
		pages[i * stride + 2] = i;
	}
	pages[1] = (uint64_t)SCRIBBLE_PAGES * (SCRIBBLE_PAGES + 1) / 2;
	ready();
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
	while (!usr1_flag) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Mostly the first 256 pages; one write in 8192 anywhere. */
		i = writes % 8192 ? x % 256 : x % SCRIBBLE_PAGES;
		pages[i * stride]++;
		pages[1]++;
		/* Now and then a rest: the checkpoint's crak has the CPU too. */
		if (!(++writes % 256))
			nanosleep(&nap, NULL);
	}
	for (i = 0; i < SCRIBBLE_PAGES; i++) {
		sum += pages[i * stride];
		misplaced += pages[i * stride + 2] != i;
	}
	printf("# %" PRIu64 " writes since the last start\n", writes);
	check_eq(0, misplaced, "pages whose contents are another's or zeros");
	CHECK(sum == pages[1],
	      "the pages' counts add up to %" PRIu64 ", their total says %" PRIu64
	      " (a page from before its last write)", sum, pages[1]);
	return finish();
}

/* -- main ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int (*run)(void);
} modes[] = {
	{ "memory", mode_memory },
	{ "regs", mode_regs },
	{ "sleep", mode_sleep },
	{ "sleep-left", mode_sleep_left },
	{ "read", mode_read },
	{ "futex", mode_futex },
	{ "poll", mode_poll },
	{ "signals", mode_signals },
	{ "timers", mode_timers },
	{ "creds", mode_creds },
	{ "process", mode_process },
	{ "files", mode_files },
	{ "threads", mode_threads },
	{ "syslog", mode_syslog },
	{ "scribble", mode_scribble },
};

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: prog MODE DIR\nmodes:");
	for (i = 0; i < ARRAY_SIZE(modes); i++)
		fprintf(stderr, " %s", modes[i].name);
	fputc('\n', stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	sigset_t m;
	size_t i;

	if (argc != 3)
		usage();
	if (!realpath(argv[2], path))
		die("%s", argv[2]);
	if (strlen(path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		die("%s", path);
	}
	snprintf(dir, sizeof(dir), "%s", path);
	page_size = sysconf(_SC_PAGESIZE);

	/* SIGUSR1 waits, blocked, for whoever takes it. */
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	set_handler(SIGUSR1, on_usr1, 0);

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(argv[1], modes[i].name))
			return modes[i].run();
	usage();
}
