/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Error messages, memory, the values found on a command line (numbers and
 * ADDR:PORT endpoints), and files.
 */
#ifndef CRAK_UTIL_H
#define CRAK_UTIL_H

#include <arpa/inet.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))

/* Exit status of a command line crak does not understand. */
#define EXIT_USAGE	2

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((noreturn))

void set_usage_topic(const char *topic);
void pr_err(const char *fmt, ...) __printf(1, 2);
const char *last_error(void);		/* "" if none since the last clear */
void last_error_clear(void);
void last_error_set(const char *msg);	/* what another process said */
extern const char *prog_name;		/* of the messages: "crak" or "crakd" */
void die(const char *fmt, ...) __printf(1, 2) __noreturn;
void die_usage(const char *fmt, ...) __printf(1, 2) __noreturn;

/* "s" after a count of @n things, unless it is one. */
static inline const char *plural(unsigned long n)
{
	return n == 1 ? "" : "s";
}

void *xmalloc(size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);

uint32_t parse_u32(const char *word, const char *what, uint32_t min, uint32_t max);

/* An IPv4 or IPv6 address and a port. */
struct endpoint {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network order, 4 bytes used for AF_INET */
	uint16_t port;
};

/* "[" address "]:" port, with its NUL. */
#define ENDPOINT_STRLEN	(INET6_ADDRSTRLEN + sizeof("[]:65535"))

int parse_endpoint(const char *word, struct endpoint *ep);
void parse_endpoint_arg(const char *word, const char *side, struct endpoint *ep);
size_t endpoint_addr_len(const struct endpoint *ep);
void format_endpoint(const struct endpoint *ep, char *buf, size_t size);
/* The socket address of an endpoint; its length. */
socklen_t endpoint_sockaddr(const struct endpoint *ep, struct sockaddr_storage *ss);
const char *ip_proto_name(uint8_t proto, char *buf, size_t size);

int sync_dir(const char *path);
void raise_nofile(void);
/* CLOCK_MONOTONIC, in seconds: for durations. */
double now_seconds(void);
/*
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT blocked (the mask before in *OLD):
 * what must not stop halfway finishes first.
 */
void block_stop_signals(sigset_t *old);

#endif /* CRAK_UTIL_H */
