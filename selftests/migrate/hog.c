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
 * again, the same; the pages dropped are written again after.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
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

	fprintf(stderr, "hog: %s differs at page %ld\n", what, p);
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
	exit(1);
}

/* The region that moves, where it is, and its other place. */
static uint64_t *moving, *other;
static uint64_t *dropped, *unmapped;

static void churn_setup(void)
{
	size_t p;

	moving = map(MOVE_PAGES * page);
	other = map(MOVE_PAGES * page);
	dropped = map(DROP_PAGES * page);
	unmapped = map(DROP_PAGES * page);
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
	at = mremap(moving, MOVE_PAGES * page, MOVE_PAGES * page, MREMAP_MAYMOVE | MREMAP_FIXED,
		    other);
	if (at == MAP_FAILED)
		broken(c, "mremap", -1);
	other = moving;
	moving = at;
	bad = check(moving, MOVE_PAGES, NULL, 1);
	if (bad >= 0)
		broken(c, "the region it moved", bad);

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
	mem = map(pages * page);
	gen = map(pages * sizeof(*gen));
	hot = map(HOT_PAGES * page);
	for (p = 0; p < pages; p++)
		fill_page(mem, p, 0);
	for (p = 0; p < HOT_PAGES; p++)
		fill_page(hot, p, round);
	if (churn_if)
		churn_setup();
	c = listen_on(argv[2], argv[3]);
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (churn_if && !access(churn_if, F_OK))
			churn(c, mem, pages, gen, round);
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
