// SPDX-License-Identifier: GPL-2.0
/*
 * Error messages, memory, and the values found on a command line.
 *
 * Every message is one line on stderr starting with "crak: " (crakd's, "crakd: ").  A command line
 * crak does not understand exits with EXIT_USAGE after a hint naming the help
 * of the command being parsed (its "usage topic").
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static const char *usage_topic;

/* What die_usage() points to: "vif freeze" for 'crak vif freeze --help'. */
void set_usage_topic(const char *topic)
{
	usage_topic = topic;
}

const char *prog_name = "crak";

/* The last error said, for crakd to pass on to the node that sent a pod. */
static char last_err[256];

const char *last_error(void)
{
	return last_err;
}

void last_error_clear(void)
{
	last_err[0] = 0;
}

void last_error_set(const char *msg)
{
	snprintf(last_err, sizeof(last_err), "%s", msg);
}

static void vpr_err(const char *fmt, va_list ap)
{
	va_list copy;

	char line[1024];

	va_copy(copy, ap);
	vsnprintf(last_err, sizeof(last_err), fmt, copy);
	va_end(copy);
	/* One write: the lines of crakd's migrations do not mix. */
	snprintf(line, sizeof(line), "%s: ", prog_name);
	vsnprintf(line + strlen(line), sizeof(line) - strlen(line) - 1, fmt, ap);
	strcat(line, "\n");
	fflush(stderr);
	/* stderr's own descriptor: a restarter's is above its process's (restart_child.c). */
	if (write(fileno(stderr), line, strlen(line)) < 0)
		return;
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr_err(fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr_err(fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}

void die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr_err(fmt, ap);
	va_end(ap);
	if (usage_topic)
		fprintf(stderr, "Try 'crak %s --help'.\n", usage_topic);
	else
		fputs("Try 'crak --help'.\n", stderr);
	exit(EXIT_USAGE);
}

void *xmalloc(size_t size)
{
	return xrealloc(NULL, size);
}

/* Never NULL, even for 0 bytes. */
void *xrealloc(void *ptr, size_t size)
{
	ptr = realloc(ptr, size ? size : 1);
	if (!ptr)
		die("out of memory");
	return ptr;
}

char *xstrdup(const char *s)
{
	size_t size = strlen(s) + 1;

	return memcpy(xmalloc(size), s, size);
}

/* A decimal number, digits only: no sign, space, base prefix or suffix. */
static int str_to_u32(const char *s, uint32_t *val)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*val = v;
	return 0;
}

/* The number in @word, which the command line names @what, or a usage error. */
uint32_t parse_u32(const char *word, const char *what, uint32_t min, uint32_t max)
{
	uint32_t val;

	if (str_to_u32(word, &val) || val < min || val > max)
		die_usage("%s must be a number from %u to %u, not '%s'", what, min, max, word);
	return val;
}

/*
 * "ADDR:PORT" for IPv4 and "[ADDR]:PORT" for IPv6 into @ep; returns -1 if
 * @word is neither.
 */
int parse_endpoint(const char *word, struct endpoint *ep)
{
	char host[INET6_ADDRSTRLEN];
	const char *addr = word;
	const char *port;
	uint32_t val;
	size_t len;

	memset(ep, 0, sizeof(*ep));
	if (*word == '[') {
		const char *end = strchr(word, ']');

		if (!end || end[1] != ':')
			return -1;
		addr = word + 1;
		len = end - addr;
		port = end + 2;
		ep->family = AF_INET6;
	} else {
		const char *colon = strchr(word, ':');

		if (!colon)
			return -1;
		len = colon - addr;
		port = colon + 1;
		ep->family = AF_INET;
	}
	if (len >= sizeof(host))
		return -1;
	memcpy(host, addr, len);
	host[len] = '\0';
	if (inet_pton(ep->family, host, ep->addr) != 1)
		return -1;
	if (str_to_u32(port, &val) || val > UINT16_MAX)
		return -1;
	ep->port = val;
	return 0;
}

/* The endpoint @word of a command line, its @side ("local"), or a usage error. */
void parse_endpoint_arg(const char *word, const char *side, struct endpoint *ep)
{
	if (parse_endpoint(word, ep))
		die_usage("invalid %s endpoint '%s': ADDR:PORT for IPv4, [ADDR]:PORT for IPv6",
			  side, word);
}

size_t endpoint_addr_len(const struct endpoint *ep)
{
	return ep->family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
}

/* @ep as parse_endpoint() reads it, into @buf of ENDPOINT_STRLEN bytes. */
void format_endpoint(const struct endpoint *ep, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	inet_ntop(ep->family, ep->addr, host, sizeof(host));
	if (ep->family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", host, ep->port);
	else
		snprintf(buf, size, "%s:%u", host, ep->port);
}

/* "tcp", "udp", or the number of another protocol, into @buf of 4 bytes. */
const char *ip_proto_name(uint8_t proto, char *buf, size_t size)
{
	if (proto == IPPROTO_TCP)
		return "tcp";
	if (proto == IPPROTO_UDP)
		return "udp";
	snprintf(buf, size, "%u", proto);
	return buf;
}

static int report_errno(const char *name)
{
	pr_err("%s: %s", name, strerror(errno));
	return -1;
}

/* Makes sure the directory entry of @path (after a create or rename) is on disk. */
int sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	int ret = 0;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = report_errno(dir);
	} else {
		/* EINVAL: a file system that cannot sync directories (nor needs to). */
		if (fsync(fd) && errno != EINVAL)
			ret = report_errno(dir);
		if (close(fd) && !ret)
			ret = report_errno(dir);
	}
	free(copy);
	return ret;
}

/*
 * Lets crak hold as many descriptors as the hard limit allows: a checkpoint
 * or restart holds one or two of its own for each socket of the process.
 */
socklen_t endpoint_sockaddr(const struct endpoint *ep, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = ep->family;
	if (ep->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_port = htons(ep->port);
		memcpy(&a->sin_addr, ep->addr, 4);
		return sizeof(*a);
	}
	{
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		a6->sin6_port = htons(ep->port);
		memcpy(&a6->sin6_addr, ep->addr, 16);
		return sizeof(*a6);
	}
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void block_stop_signals(sigset_t *old)
{
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, old);
}
