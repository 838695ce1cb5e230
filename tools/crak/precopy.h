/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak migrate --live: a pod's memory sent ahead while it runs (precopy.c).
 *
 * The sender's side: precopy_send() before the pod's checkpoint, then
 * precopy_skip() for each process the checkpoint stops.  crakd's side:
 * precopy_take() for each record before the pod's image, then, in each
 * process being restarted, precopy_fill_for().  crak checkpoint --live and
 * crak restart: precopy_write() and precopy_keep().
 */
#ifndef CRAK_PRECOPY_H
#define CRAK_PRECOPY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/crak_ckpt.h>

struct pod;

/* What the pre-copy sent. */
struct precopy_stats {
	unsigned int procs;
	unsigned int rounds;
	uint64_t pages;			/* in all rounds */
	uint64_t last;			/* in the last */
	uint64_t bytes;			/* on the wire, or in the image */
	double seconds;
	double stopped;			/* the longest stop of a round after the first */
};

/*
 * Rounds: at most PRECOPY_ROUNDS; another while the last sent more than
 * PRECOPY_FEW pages and at most half as many as the one before it.
 */
#define PRECOPY_ROUNDS	5
#define PRECOPY_FEW	256

/*
 * Sends crakd, over @fd, the pages of the private mappings of every process
 * of pod @p (but its init) that are in memory, after clearing their
 * soft-dirty bits.  0, or -1 after saying why.
 */
int precopy_send(const struct pod *p, int fd, struct precopy_stats *st);

struct img;

/*
 * crak checkpoint --live: the same for process @pid alone, as AHEAD sections
 * into image @im (after its HEAD); @progress: how much, on standard error.
 * 0, or -1 after saying why.
 */
int precopy_write(pid_t pid, struct img *im, struct precopy_stats *st, bool progress);

/*
 * For process @pid (in the pod), stopped: the ranges the pre-copy sent that
 * have not changed since (at most as many as a CRAK_CKPT_A_SKIP holds), in
 * *@ranges (free it); their number, 0 if none.
 */
unsigned int precopy_skip(pid_t pid, struct crak_ckpt_range **ranges);

/* The largest record's pages, and the type of its header. */
#define PRECOPY_RECORD_PAGES	256
#define PRECOPY_RECORD_TYPE	0x4b435043U	/* "CPCK": no image section's */

/*
 * crakd: one record, whose header @hdr (the size of an image section's)
 * was read from @fd; its pages follow there.  0, or -1 after saying why.
 */
int precopy_take(const void *hdr, int fd, const char *peer);

/*
 * Keeps the @nr pages at @addr of process @pid (in the pod, or the image's),
 * as a record or an AHEAD section from @from brought them.  0, or -1 after
 * saying why.
 */
int precopy_keep(pid_t pid, uint64_t addr, const void *pages, uint64_t nr, const char *from);

/* The file of what was taken, or -1. */
int precopy_fd(void);

/* Once the processes are whole: what was taken goes. */
void precopy_drop(void);

/* Moves the file of what was taken to a descriptor at or above @base. */
void precopy_park(int base);

/*
 * The file holding what was taken for process @pid (in the pod), and in
 * *@base its offset of address 0; -1 if nothing was.
 */
int precopy_fill_for(pid_t pid, uint64_t *base);

#endif /* CRAK_PRECOPY_H */
