/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak restart: what the restarting tool read from an image, for the new
 * process to rebuild itself from (restart_child.c).
 */
#ifndef CRAK_RESTART_H
#define CRAK_RESTART_H

#include <sys/resource.h>

#include "ckpt.h"

struct tree_restart;

struct rthread {
	void *blob;			/* its THREAD section's payload */
	uint64_t len;
	const struct crak_img_thread *hdr;
	const struct crak_img_siginfo *pending;
	uint32_t nr_pending;
};

struct restart {
	struct img im;
	struct nl nl;
	int sessfd;
	int ids[2];			/* a pipe: the child's restored sockets */
	bool detach;
	struct crak_img_head head;
	bool lone;			/* crak restart of a process's own image */
	pid_t ahead_pid;		/* whose pages its AHEAD sections held (--live) */
	struct crak_img_proc proc;
	struct crak_img_creds creds;
	bool have_creds;		/* the image has them (minor 2) */
	struct crak_img_rlimit rlimits[RLIM_NLIMITS];
	unsigned int nr_rlimits;
	struct rfiles files;
	struct crak_img_sigaction sigactions[64];
	struct rthread *threads;	/* the leader first */
	uint32_t nr_threads;
	struct crak_img_signal *signal;	/* and its pending siginfos */
	struct crak_img_cpu_itimers cpu_itimers;	/* zero in an image without them */
	struct crak_img_posix_timer *timers;	/* by ID */
	uint32_t nr_timers;
	struct tree_restart *tree;	/* a process of a pod's tree */
	/* Post-copy (postcopy.h): the process's side, and its restarter's. */
	bool lazy;			/* it made a userfaultfd: restored lazily */
	int uffd;			/* that userfaultfd, when have_uffd */
	bool have_uffd;
	struct crak_ckpt_range *missing;	/* what RESTORE left missing */
	unsigned int nr_missing;
};

void restart_child(struct restart *r) __noreturn;

/* A child of this process with PID (in its PID namespace): clone3 set_tid. */
pid_t clone_with_pid(pid_t pid);
/* Every descriptor from FROM up but the N of KEEP (sorted here) goes. */
void close_except(int from, int *keep, unsigned int n);

/*
 * The two halves of a restart from r->im: restart_begin() reads the image
 * up to its threads and makes the process with its PID (in this PID
 * namespace), which goes on reading the image itself; restart_finish()
 * waits until it is whole and lets it run.  Each says why it failed; once
 * the process exists, a failure leaves it gone.
 */
pid_t restart_begin(struct restart *r);
/*
 * restart_begin() but the new process: the image read up to the threads,
 * the session begun, r->ids made; for a process of a tree, which makes
 * itself (restart_child()).
 */
int restart_prepare(struct restart *r);
int restart_finish(struct restart *r, pid_t pid);
/* restart_finish() in two: until it is whole (and held), then let it run. */
int restart_whole(struct restart *r, pid_t pid);
int restart_go(struct restart *r, pid_t pid);
/*
 * The TCP and UDP sockets the process made, as it told them, carry on
 * (restart_go() does it first, if not done yet).
 */
void restart_thaw(struct restart *r);

/* Says who holds PID (a restart would give it to a process). */
void restart_report_taken(pid_t pid);
/* PID into the file PATH: 0, or -1 after saying why. */
int restart_write_pidfile(const char *path, pid_t pid);
/* Waits for child PID as a shell would: its exit status, or 128 + its signal. */
int restart_wait(pid_t pid);

/* crak restart of a tree's image (tree_image.c), TREE_HEAD next: an exit status. */
int tree_image_restart(struct img *im, bool detach, const char *pidfile);

#endif /* CRAK_RESTART_H */
