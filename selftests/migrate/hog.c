// SPDX-License-Identifier: GPL-2.0
/*
 * The fixture of migrate/live: a server with a lot of memory that keeps
 * checking it.
 *
 *	hog [--churn-if FILE] MIB ADDR PORT
 *
 * hog fills MIB MiB of private anonymous memory with a pattern no two
 * pages share, then serves one connection on ADDR:PORT (IPv4) as conv.py's
 * server does: every byte answered + 1 mod 256.  For every chunk it
 * receives it checks every page of that memory, and a few pages of its own
 * that it rewrites each time, against what it last wrote there; then it
 * rewrites those few and WRITES more pages of the memory (the next ones
 * round after round), so that it keeps writing while a live migration
 * sends its memory.  At the first difference it says which page on
 * standard error and ends the connection with a reset, so that its client
 * sees it.  It exits when the connection ends: 0 if every check passed.
 *
 * With --churn-if (the fixture of migrate/postcopy), every round while FILE
 * exists (where it runs) also changes its memory the ways a post-copy must
 * follow, before it checks it: a
 * child it forks checks that memory first, a region moves (mremap) to
 * where another was and is checked there, a page of another is dropped
 * (madvise) and must read as zeros, a page of a third unmapped and mapped
 * again, the same; the pages dropped are written again after.  Once, a
 * region moves onto another, shrinking to half its length (mremap
 * MREMAP_FIXED): that one's second half is as it was.  A cold
 * region it checks only where it does not churn, so that there is always
 * memory left to fill on demand while it churns.  Each region has 2 MiB
 * blocks of its own, and a thread keeps writing the first page of a warm
 * region (of small pages) all the time, so that the image always carries
 * a page of a block whose other pages are left missing: were it written
 * into a transparent huge page, they would read zeros.  The rest of that
 * region is checked every round.  The last LOCKED_PAGES of its memory are
 * locked (mlock): a restart brings them in whole, not on demand.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOT_PAGES	16
#define WRITES		8
/* --churn: the pages of the region that moves, and of the two that drop some. */
#define MOVE_PAGES	256
#define DROP_PAGES	64
#define COLD_PAGES	256
#define WARM_PAGES	64
#define SHRINK_BYTES	(4UL << 20)
#define BLOCK		(2UL << 20)
#define LOCKED_PAGES	256

static size_t page, wpp;		/* bytes, and words, a page */

static uint64_t pattern(size_t i, uint64_t seed)
{
	return (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;
}

/* Page P of MEM, written by generation GEN. */
static void fill_page(uint64_t *mem, size_t p, uint64_t gen)
{
	size_t i;

	for (i = p * wpp; i < (p + 1) * wpp; i++)
		mem[i] = pattern(i, gen);
}

/* The first page of the NR of MEM that is not what GEN says, or -1. */
static long check(const uint64_t *mem, size_t nr, const uint64_t *gen, uint64_t all)
{
	size_t p, i;

	for (p = 0; p < nr; p++)
		for (i = p * wpp; i < (p + 1) * wpp; i++)
			if (mem[i] != pattern(i, gen ? gen[p] : all))
				return p;
	return -1;
}

static void *map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("hog: mmap");
		exit(2);
	}
	return p;
}

static size_t apart(size_t size)
{
	return (size + BLOCK - 1) & ~(BLOCK - 1);
}

/* SIZE bytes in 2 MiB blocks no other mapping shares. */
static void *map_apart(size_t size)
{
	char *p = map(apart(size) + BLOCK);
	char *at = (char *)(((uintptr_t)p + BLOCK - 1) & ~(BLOCK - 1));

	if ((at > p && munmap(p, at - p)) || munmap(at + apart(size), p + BLOCK - at)) {
		perror("hog: munmap");
		exit(2);
	}
	return at;
}

static int listen_on(const char *addr, const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	int ls, c, one = 1;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		exit(2);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) || listen(ls, 1)) {
		perror("hog: listen");
		exit(2);
	}
	c = accept(ls, NULL, NULL);
	if (c < 0) {
		perror("hog: accept");
		exit(2);
	}
	close(ls);
	return c;
}

/* Ends the connection with a reset: the client cannot miss it. */
static void __attribute__((noreturn)) broken(int c, const char *what, long p)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (p < 0)
		fprintf(stderr, "hog: %s failed: %m\n", what);
	else
		fprintf(stderr, "hog: %s differs at page %ld\n", what, p);
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
	exit(1);
}

/* The region that moves, where it is, and its other place. */
static uint64_t *moving, *other;

/* Never huge pages in SIZE bytes at P (EINVAL: a kernel without them). */
static void small_pages(void *p, size_t size)
{
	if (madvise(p, apart(size), MADV_NOHUGEPAGE) && errno != EINVAL) {
		perror("hog: madvise");
		exit(2);
	}
}
static uint64_t *dropped, *unmapped, *cold, *warm;
/* The region that shrinks onto the landing, once. */
static uint64_t *shrinking, *landing;

/* The first page of the warm region, rewritten all the time. */
static void *warm_writer(void *arg)
{
	volatile uint64_t *w = arg;

	for (;;) {
		(*w)++;
		usleep(1000);
	}
	return NULL;
}

static void churn_setup(void)
{
	pthread_t writer;
	size_t p;

	/* (Small pages: half its mapping sent ahead, the other never touched.) */
	moving = map_apart(MOVE_PAGES * page);
	other = map_apart(MOVE_PAGES * page);
	small_pages(moving, MOVE_PAGES * page);
	small_pages(other, MOVE_PAGES * page);
	dropped = map_apart(DROP_PAGES * page);
	unmapped = map_apart(DROP_PAGES * page);
	cold = map_apart(COLD_PAGES * page);
	for (p = 0; p < COLD_PAGES; p++)
		fill_page(cold, p, 4);
	shrinking = map_apart(SHRINK_BYTES);
	landing = map_apart(SHRINK_BYTES);
	for (p = 0; p < SHRINK_BYTES / page; p++)
		fill_page(shrinking, p, 6);
	for (p = 0; p < SHRINK_BYTES / 2 / page; p++) {
		fill_page(landing, p, 7);
		fill_page(landing + SHRINK_BYTES / 2 / sizeof(*landing), p, 7);
	}
	warm = map_apart(WARM_PAGES * page);
	/*
	 * Small pages here, so that only the page written is dirty (an image
	 * does not keep the advice: where it is restored, its block could be
	 * a huge page).
	 */
	small_pages(warm, WARM_PAGES * page);
	for (p = 0; p < WARM_PAGES - 1; p++)
		fill_page(warm + wpp, p, 5);
	if (pthread_create(&writer, NULL, warm_writer, warm)) {
		fprintf(stderr, "hog: cannot start its writer\n");
		exit(2);
	}
	for (p = 0; p < MOVE_PAGES; p++)
		fill_page(moving, p, 1);
	for (p = 0; p < DROP_PAGES; p++) {
		fill_page(dropped, p, 2);
		fill_page(unmapped, p, 3);
	}
}

/* A page of MEM that must be zeros now: -1 if it is, else the page. */
static long zeros(const uint64_t *mem, size_t p)
{
	size_t i;

	for (i = p * wpp; i < (p + 1) * wpp; i++)
		if (mem[i])
			return p;
	return -1;
}

/* The changes of a round, checked as they go; what differs ends it all. */
static void churn(int c, const uint64_t *mem, size_t pages, const uint64_t *gen,
		  uint64_t round)
{
	size_t d = round % DROP_PAGES;
	uint64_t *at;
	int status;
	long bad;
	pid_t pid;

	/* A child checks the memory before this process touches it. */
	pid = fork();
	if (pid < 0)
		broken(c, "fork", -1);
	if (pid == 0)
		_exit(check(mem, pages, gen, 0) >= 0);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		broken(c, "its memory, as a child it forked saw it,", -1);

	/* Moved where the other was, untouched since the round before. */
	at = mremap(moving, apart(MOVE_PAGES * page), apart(MOVE_PAGES * page),
		    MREMAP_MAYMOVE | MREMAP_FIXED, other);
	if (at == MAP_FAILED)
		broken(c, "mremap", -1);
	other = moving;
	moving = at;
	bad = check(moving, MOVE_PAGES, NULL, 1);
	if (bad >= 0)
		broken(c, "the region it moved", bad);

	/* Shrunk onto the landing's first half: its second half is as it was. */
	if (shrinking) {
		at = mremap(shrinking, SHRINK_BYTES, SHRINK_BYTES / 2,
			    MREMAP_MAYMOVE | MREMAP_FIXED, landing);
		if (at == MAP_FAILED)
			broken(c, "mremap (shrinking)", -1);
		shrinking = NULL;
	}
	bad = check(landing, SHRINK_BYTES / 2 / page, NULL, 6);
	if (bad >= 0)
		broken(c, "the region it shrank onto another", bad);
	bad = check(landing + SHRINK_BYTES / 2 / sizeof(*landing), SHRINK_BYTES / 2 / page,
		    NULL, 7);
	if (bad >= 0)
		broken(c, "the half of a region another shrank onto the other half of", bad);

	/* A page dropped reads as zeros; the others are as they were. */
	if (madvise(dropped + d * wpp, page, MADV_DONTNEED))
		broken(c, "madvise", -1);
	bad = zeros(dropped, d);
	if (bad >= 0)
		broken(c, "the page it dropped (not zeros)", bad);
	fill_page(dropped, d, 2);
	bad = check(dropped, DROP_PAGES, NULL, 2);
	if (bad >= 0)
		broken(c, "the region it drops pages of", bad);

	/* So does a page unmapped and mapped again. */
	if (munmap(unmapped + d * wpp, page) ||
	    mmap(unmapped + d * wpp, page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		broken(c, "munmap", -1);
	bad = zeros(unmapped, d);
	if (bad >= 0)
		broken(c, "the page it mapped again (not zeros)", bad);
	fill_page(unmapped, d, 3);
	bad = check(unmapped, DROP_PAGES, NULL, 3);
	if (bad >= 0)
		broken(c, "the region it maps pages of again", bad);
}

int main(int argc, char **argv)
{
	uint64_t *mem, *hot, *gen, round = 0;
	const char *churn_if = argc == 6 && !strcmp(argv[1], "--churn-if") ? argv[2] : NULL;
	unsigned char buf[65536];
	size_t pages, p, i;
	ssize_t n, w, done;
	long bad;
	int c;

	if (churn_if) {
		argv += 2;
		argc -= 2;
	}
	if (argc != 4)
		return 2;
	page = sysconf(_SC_PAGESIZE);
	wpp = page / sizeof(uint64_t);
	pages = ((size_t)atoi(argv[1]) << 20) / page;
	mem = map_apart(pages * page);
	gen = map_apart(pages * sizeof(*gen));
	hot = map_apart(HOT_PAGES * page);
	for (p = 0; p < pages; p++)
		fill_page(mem, p, 0);
	for (p = 0; p < HOT_PAGES; p++)
		fill_page(hot, p, round);
	if (churn_if && pages > LOCKED_PAGES &&
	    mlock(mem + (pages - LOCKED_PAGES) * wpp, LOCKED_PAGES * page)) {
		perror("hog: mlock");
		return 1;
	}
	if (churn_if)
		churn_setup();
	c = listen_on(argv[2], argv[3]);
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (churn_if) {
			bad = check(warm + wpp, WARM_PAGES - 1, NULL, 5);
			if (bad >= 0)
				broken(c, "the region one page of which it writes all the time",
				       bad + 1);
		}
		if (churn_if && !access(churn_if, F_OK)) {
			churn(c, mem, pages, gen, round);
		} else if (churn_if) {
			bad = check(cold, COLD_PAGES, NULL, 4);
			if (bad >= 0)
				broken(c, "the region it leaves cold while it churns", bad);
		}
		bad = check(hot, HOT_PAGES, NULL, round);
		if (bad >= 0)
			broken(c, "a page it rewrites every round", bad);
		bad = check(mem, pages, gen, 0);
		if (bad >= 0)
			broken(c, "its memory", bad);
		round++;
		for (p = 0; p < HOT_PAGES; p++)
			fill_page(hot, p, round);
		for (i = 0; i < WRITES; i++) {
			p = (round * WRITES + i) % pages;
			gen[p] = round;
			fill_page(mem, p, round);
		}
		for (i = 0; i < (size_t)n; i++)
			buf[i]++;
		for (done = 0; done < n; done += w) {
			w = write(c, buf + done, n - done);
			if (w <= 0)
				return 1;
		}
	}
	return n < 0;
}
