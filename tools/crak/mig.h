/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The migration protocol of crak migrate and crakd, over one TCP connection.
 *
 * 1. Both ends prove they hold the same key, before crakd reads anything
 *    else: crakd sends MIG_MAGIC and a random nonce Ns (32 bytes); crak sends
 *    MIG_MAGIC, its nonce Nc and HMAC-SHA256(key, "crak client" Ns Nc); crakd
 *    checks it (or closes the connection) and answers with
 *    HMAC-SHA256(key, "crakd server" Nc Ns), which crak checks.
 * 2. With --live, crak first sends the pod's memory while the pod runs:
 *    page records (precopy.h: a header the size of an image section's, of
 *    a type no section has, then the pages), which crakd keeps; crakd says
 *    nothing unless it fails ("error WHY").
 *    crak sends a pod's image (POD, the process image, HELD; see
 *    linux/crak_image.h), and crakd makes the pod again, frozen, and its
 *    process; then says "ready".
 * 3. Only then crak kills the process on its side and sends END; crakd
 *    delivers what was held, thaws the pod and says "running INIT FRAMES".
 *    Anything else crakd says is "error WHY"; each message is a line.
 *
 * A failure before step 3 lets the pod run on where it was; crakd undoes
 * what it made, and its frozen pod never said a word on the network.
 */
#ifndef CRAK_MIG_H
#define CRAK_MIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIG_MAGIC	"CRAKMIG1"
#define MIG_MAGIC_LEN	8
#define MIG_NONCE_LEN	32
#define MIG_MAC_LEN	32		/* HMAC-SHA256 */
#define MIG_KEY_MIN	16
#define MIG_KEY_MAX	4096

struct mig_key {
	unsigned char v[MIG_KEY_MAX];
	size_t len;
};

/* Reads a key file: 0, or -1 after saying why. */
int mig_key_read(const char *path, struct mig_key *key);

/* The proof of step 1 on each side: 0, or -1 after saying why. */
int mig_auth_client(int fd, const struct mig_key *key, const char *peer);
int mig_auth_server(int fd, const struct mig_key *key, const char *peer);

/* A line to the other end ("ready"), without its newline: 0 or -1. */
int mig_say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The next line from the other end, NUL-ended, its newline dropped: 0 or -1 (EOF: errno 0). */
int mig_hear(int fd, char *buf, size_t size);

/* LEN bytes to, or from, the other end: 0, or -1 (at the end: errno 0). */
int mig_send_all(int fd, const void *buf, size_t len);
int mig_recv_all(int fd, void *buf, size_t len);

/* SO_RCVTIMEO and SO_SNDTIMEO of @fd. */
void mig_timeouts(int fd, int seconds);

#endif /* CRAK_MIG_H */
