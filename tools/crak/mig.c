// SPDX-License-Identifier: GPL-2.0
/*
 * The migration protocol's pieces that crak migrate and crakd share (mig.h):
 * the key, the proof that both ends hold it, and the lines they say.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <nettle/hmac.h>

#include "mig.h"
#include "util.h"

int mig_key_read(const char *path, struct mig_key *key)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		pr_err("key %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		pr_err("key %s: readable by others than its owner (chmod 600 it)", path);
		close(fd);
		return -1;
	}
	n = read(fd, key->v, sizeof(key->v));
	close(fd);
	if (n < 0) {
		pr_err("key %s: %s", path, strerror(errno));
		return -1;
	}
	/* A file made with echo ends in a newline that is not the key's. */
	if (n > 0 && key->v[n - 1] == '\n')
		n--;
	if (n < MIG_KEY_MIN || n >= MIG_KEY_MAX) {
		pr_err("key %s: a key is %d to %d bytes", path, MIG_KEY_MIN, MIG_KEY_MAX - 1);
		return -1;
	}
	key->len = n;
	return 0;
}

void mig_timeouts(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int mig_send_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

int mig_recv_all(int fd, void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = recv(fd, buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = 0;
		if (n <= 0)
			return -1;
		buf = (char *)buf + n;
		len -= n;
	}
	return 0;
}

static void mac(const struct mig_key *key, const char *who, const unsigned char *a,
		const unsigned char *b, unsigned char out[MIG_MAC_LEN])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, key->len, key->v);
	hmac_sha256_update(&ctx, strlen(who), (const uint8_t *)who);
	hmac_sha256_update(&ctx, MIG_NONCE_LEN, a);
	hmac_sha256_update(&ctx, MIG_NONCE_LEN, b);
	hmac_sha256_digest(&ctx, MIG_MAC_LEN, out);
}

/* Compares without telling, by its time, where they differ. */
static bool same(const unsigned char *a, const unsigned char *b, size_t len)
{
	unsigned char diff = 0;
	size_t i;

	for (i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return !diff;
}

static void say_io(const char *peer, const char *what)
{
	if (errno)
		pr_err("%s: %s: %s", peer, what, strerror(errno));
	else
		pr_err("%s: %s: the connection ended", peer, what);
}

int mig_auth_client(int fd, const struct mig_key *key, const char *peer)
{
	unsigned char hello[MIG_MAGIC_LEN + MIG_NONCE_LEN], ns[MIG_NONCE_LEN];
	unsigned char out[MIG_MAGIC_LEN + MIG_NONCE_LEN + MIG_MAC_LEN], want[MIG_MAC_LEN];
	unsigned char got[MIG_MAC_LEN];

	if (mig_recv_all(fd, hello, sizeof(hello))) {
		say_io(peer, "no greeting from crakd");
		return -1;
	}
	if (memcmp(hello, MIG_MAGIC, MIG_MAGIC_LEN)) {
		pr_err("%s: not a crakd (or one of another version)", peer);
		return -1;
	}
	memcpy(ns, hello + MIG_MAGIC_LEN, MIG_NONCE_LEN);
	memcpy(out, MIG_MAGIC, MIG_MAGIC_LEN);
	if (getrandom(out + MIG_MAGIC_LEN, MIG_NONCE_LEN, 0) != MIG_NONCE_LEN) {
		pr_err("getrandom: %s", strerror(errno));
		return -1;
	}
	mac(key, "crak client", ns, out + MIG_MAGIC_LEN, out + MIG_MAGIC_LEN + MIG_NONCE_LEN);
	if (mig_send_all(fd, out, sizeof(out))) {
		say_io(peer, "sending our proof");
		return -1;
	}
	if (mig_recv_all(fd, got, sizeof(got))) {
		if (!errno)
			pr_err("%s: crakd refused us: it holds another key", peer);
		else
			say_io(peer, "crakd's proof");
		return -1;
	}
	mac(key, "crakd server", out + MIG_MAGIC_LEN, ns, want);
	if (!same(got, want, MIG_MAC_LEN)) {
		pr_err("%s: crakd there holds another key", peer);
		return -1;
	}
	return 0;
}

int mig_auth_server(int fd, const struct mig_key *key, const char *peer)
{
	unsigned char hello[MIG_MAGIC_LEN + MIG_NONCE_LEN];
	unsigned char in[MIG_MAGIC_LEN + MIG_NONCE_LEN + MIG_MAC_LEN], want[MIG_MAC_LEN];
	const unsigned char *nc = in + MIG_MAGIC_LEN;

	memcpy(hello, MIG_MAGIC, MIG_MAGIC_LEN);
	if (getrandom(hello + MIG_MAGIC_LEN, MIG_NONCE_LEN, 0) != MIG_NONCE_LEN) {
		pr_err("getrandom: %s", strerror(errno));
		return -1;
	}
	if (mig_send_all(fd, hello, sizeof(hello)) || mig_recv_all(fd, in, sizeof(in))) {
		say_io(peer, "refused: no proof");
		return -1;
	}
	mac(key, "crak client", hello + MIG_MAGIC_LEN, nc, want);
	if (memcmp(in, MIG_MAGIC, MIG_MAGIC_LEN) ||
	    !same(in + MIG_MAGIC_LEN + MIG_NONCE_LEN, want, MIG_MAC_LEN)) {
		pr_err("%s: refused: it does not hold our key", peer);
		return -1;
	}
	mac(key, "crakd server", nc, hello + MIG_MAGIC_LEN, want);
	if (mig_send_all(fd, want, sizeof(want))) {
		say_io(peer, "sending our proof");
		return -1;
	}
	return 0;
}

int mig_say(int fd, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	return mig_send_all(fd, line, n);
}

int mig_hear(int fd, char *buf, size_t size)
{
	size_t len = 0;
	char c;

	for (;;) {
		if (mig_recv_all(fd, &c, 1))
			return -1;
		if (c == '\n')
			break;
		if (len < size - 1)
			buf[len++] = c;
	}
	buf[len] = 0;
	return 0;
}
