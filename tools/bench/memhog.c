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
 *   memhog serve MIB ADDR PORT	touches MIB MiB, then serves one connection
 *				on ADDR:PORT as conv.py's server does (each
 *				byte answered + 1 mod 256) until it ends
 *   memhog write MIB FILE	prints the seconds write(2) of MIB MiB already
 *				touched into FILE (made anew) takes, fsync
 *				included: the destination's own limit, with no
 *				source to produce the bytes (dd from /dev/zero
 *				clears its buffer for each block, slow under TCG)
 *   memhog read MIB FILE	the same for read(2) of FILE into MIB MiB
 *				newly mapped (their pages made as they are
 *				read into, as a restart makes them)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
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

/* write or read (WRITE) SIZE bytes at P to or from PATH: the seconds, or -1. */
static double file_io(const char *path, char *p, size_t size, int write_it)
{
	size_t done = 0;
	ssize_t n;
	double t;
	int fd;

	fd = write_it ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	t = now();
	while (done < size) {
		n = write_it ? write(fd, p + done, size - done) : read(fd, p + done, size - done);
		if (n <= 0) {
			fprintf(stderr, "%s: %s\n", path, n ? "input/output error" : "too short");
			close(fd);
			return -1;
		}
		done += n;
	}
	if (write_it && fsync(fd)) {
		perror(path);
		close(fd);
		return -1;
	}
	t = now() - t;
	close(fd);
	return t;
}

/* Serves one connection on ADDR:PORT (IPv4): 0 when it ends well. */
static int serve(const char *addr, const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	unsigned char buf[65536];
	int ls, c, one = 1;
	ssize_t n, i, w;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return 2;
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) || listen(ls, 1)) {
		perror("listen");
		return 1;
	}
	c = accept(ls, NULL, NULL);
	if (c < 0) {
		perror("accept");
		return 1;
	}
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			buf[i]++;
		for (i = 0; i < n; i += w) {
			w = write(c, buf + i, n - i);
			if (w <= 0)
				return 1;
		}
	}
	return n < 0;
}

int main(int argc, char **argv)
{
	size_t size;
	double best = 1e9, t;
	char *a, *b;
	FILE *f;
	int i, write_it;

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
	if (!strcmp(argv[1], "serve") && argc == 5) {
		touched(size);
		return serve(argv[3], argv[4]);
	}
	if ((!strcmp(argv[1], "write") || !strcmp(argv[1], "read")) && argc == 4) {
		write_it = argv[1][0] == 'w';
		a = write_it ? touched(size) :
			mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		t = file_io(argv[3], a, size, write_it);
		if (t < 0)
			return 1;
		printf("%.6f\n", t);
		return 0;
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
