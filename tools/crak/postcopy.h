/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak migrate --live, after the stop: what was sent ahead, filled while
 * the pod runs (postcopy.c).
 *
 * Each process restarted with pages sent ahead makes a userfaultfd
 * (postcopy_uffd_new()) that it hands its restarter, and restores with
 * CRAK_CKPT_A_LAZY; held whole, the restarter registers the ranges the
 * kernel left missing (postcopy_add()) and, before letting the processes
 * run, starts filling them (postcopy_start()): on demand first, the rest
 * in the background.
 */
#ifndef CRAK_POSTCOPY_H
#define CRAK_POSTCOPY_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/crak_ckpt.h>

/*
 * Milliseconds after the processes run during which only what they touch
 * is filled (crakd --lazy-delay); the rest follows in the background.
 */
extern unsigned int postcopy_delay_ms;

/*
 * What crak sends a pod's init when it checkpoints the pod (crak
 * checkpoint, crak migrate): the post-copy, if one is under way, fills
 * the rest at once instead of waiting out the delay, since the checkpoint
 * waits until it is whole.  The init's handler is postcopy_now().
 */
#define POSTCOPY_NOW_SIGNAL	SIGRTMIN
void postcopy_now(int sig);

/* A userfaultfd of the caller's memory, ready to register: -1 and errno if not. */
int postcopy_uffd_new(void);

/*
 * Process @pid's @nr ranges, left missing, registered through its
 * userfaultfd @uffd (taken: closed by crak) to be filled from @store, the
 * page at address A at offset @base + A.  0, or -1 after saying why.
 */
int postcopy_add(int uffd, pid_t pid, const struct crak_ckpt_range *ranges, unsigned int nr,
		 int store, uint64_t base);

/* Starts filling what postcopy_add() registered: 0, or -1 after saying why. */
int postcopy_start(void);

#endif /* CRAK_POSTCOPY_H */
