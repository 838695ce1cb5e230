/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A process image's sections (linux/crak_image.h), read and written through
 * a plain descriptor, front to back, as the crak_ckpt module does: the tool
 * and the module take turns on the same descriptor, each passing on the
 * sequence number and byte offset the other reached.
 */
#ifndef CRAK_IMAGE_H
#define CRAK_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/crak_image.h>

struct img {
	int fd;
	const char *name;	/* for messages: the file, or "standard input" */
	uint32_t seq;		/* of the next section */
	uint64_t offset;	/* bytes read or written so far */
	bool peeked;		/* hdr was read by img_peek_type() */
	struct crak_image_section hdr;
};

/* Writing.  Each returns 0, or -1 after saying why. */
int img_write_section(struct img *im, uint32_t type, const void *payload, size_t len);
int img_write_section2(struct img *im, uint32_t type, const void *a, size_t alen,
		       const void *b, size_t blen);

/*
 * Reading: the next section, which must be of TYPE (0: any) and MIN to MAX
 * bytes.  Returns its payload (free it) and sets *TYPE and *LEN, or NULL
 * after saying why.
 */
void *img_read_section(struct img *im, uint32_t *type, uint64_t min, uint64_t max,
		       uint64_t *len);
/* The type of the next section, unchecked: its reading checks it. */
int img_peek_type(struct img *im, uint32_t *type);
/* Reads a header only, 0 or -1; then the payload, checked, one of these. */
int img_read_header(struct img *im, uint32_t *type, uint64_t *len);
void *img_read_payload(struct img *im, uint32_t type, uint64_t len);
/* Reads LEN payload bytes and checks them, keeping the first HEAD_LEN. */
int img_skip_payload(struct img *im, uint32_t type, uint64_t len, void *head, size_t head_len);

const char *img_section_name(uint32_t type);

/*
 * A pod's or a tree's image ends with END (pages 0) over the sections of
 * its own numbering: written, or read and checked; 0, or -1 after saying
 * why.
 */
int img_write_end(struct img *im);
int img_read_end(struct img *im);

/*
 * A POSIX timer's clock on the process's own CPU time, as the kernel keeps
 * it (linux/crak_image.h): negative, (~PID << 3) | WHICH, WHICH 0, 1 or 2
 * (bit 2, a thread's clock, clear).
 */
static inline bool img_cpu_clock(uint32_t clock)
{
	return (int32_t)clock < 0 && (clock & 7) <= 2;
}

static inline uint32_t img_cpu_clock_pid(uint32_t clock)
{
	return (uint32_t)~((int32_t)clock >> 3);
}

/*
 * Sorts N POSIX timers of an image by ID and checks that a restart can make
 * each (a clock and notification it knows, a thread among the image's
 * NR_TIDS TIDS); returns the first it cannot or a repeated one, NULL if none.
 */
const struct crak_img_posix_timer *img_check_timers(struct crak_img_posix_timer *t, uint32_t n,
						    const uint32_t *tids, uint32_t nr_tids);

/*
 * Whether AHEAD section A, LEN payload bytes, holds whole pages of the
 * user's half of the address space for one process: PID, the PID of the
 * AHEAD sections before it (0 if none).
 */
bool img_ahead_ok(const struct crak_img_ahead *a, uint64_t len, uint32_t pid);

#endif /* CRAK_IMAGE_H */
