// SPDX-License-Identifier: GPL-2.0
/*
 * The process the checkpoint benchmark checkpoints, and its memcpy
 * reference.
 *
 *   memhog hold MIB READY	touches MIB MiB of anonymous memory (every page
 *				written), writes READY, then waits for signals
 *   memhog memcpy MIB		prints the seconds a memcpy of MIB MiB takes
 *				(the best of three), between two buffers already
 *				touched
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *touched(size_t size)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	/* Distinct bytes: nothing a zero-page or same-page trick could skip. */
	for (i = 0; i < size; i += sizeof(size_t))
		*(size_t *)(p + i) = i * 0x9e3779b97f4a7c15ULL;
	return p;
}

int main(int argc, char **argv)
{
	size_t size;
	double best = 1e9, t;
	char *a, *b;
	FILE *f;
	int i;

	if (argc < 3)
		return 2;
	size = strtoull(argv[2], NULL, 10) << 20;
	if (!strcmp(argv[1], "hold") && argc == 4) {
		touched(size);
		f = fopen(argv[3], "w");
		if (!f || fclose(f))
			return 1;
		for (;;)
			pause();
	}
	if (!strcmp(argv[1], "memcpy")) {
		a = touched(size);
		b = touched(size);
		for (i = 0; i < 3; i++) {
			t = now();
			memcpy(b, a, size);
			t = now() - t;
			if (t < best)
				best = t;
		}
		printf("%.6f\n", best);
		return b[size / 2] != a[size / 2];
	}
	return 2;
}
