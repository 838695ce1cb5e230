/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak checkpoint of one process, in steps (checkpoint.c), for a pod's
 * tree of them (ckpt_tree.c) to take each in turn.
 */
#ifndef CRAK_CHECKPOINT_H
#define CRAK_CHECKPOINT_H

#include "ckpt.h"
#include "precopy.h"

struct checkpoint {
	pid_t pid;
	const char *out;		/* the image's path, or "-" */
	bool leave_running;
	bool live;			/* --live: memory written ahead (precopy.c) */
	struct precopy_stats pre;	/* what went ahead */
	int memfd, pidfd, imgfd, sessfd;
	char *tmp;			/* the file being written, until renamed */
	bool renamed;			/* it has its name: unlink it on failure */
	struct nl nl;
	struct img im;
	struct crak_img_proc proc;
	struct crak_img_creds creds;	/* written after proc, in PROC */
	uint32_t nr_threads, nr_files;
	struct rfiles files;
	struct inet_set *inet;
	uint64_t pages;
	struct crak_ckpt_range *skip;	/* pages sent ahead (precopy.c), not written */
	unsigned int nr_skip;
	bool progress;
	dev_t pod_pts;			/* of a pod's tree: its devpts (0: none) */
	bool quiet_gone;		/* ckpt_proc_freeze(): 1, silently, if it is
					 * gone or exiting (a tree's may be)
					 */
	double t_start, t_frozen, t_released;
};

/*
 * Each returns 0, or -1 after saying why.  ckpt_proc_freeze() stops the
 * process (c->pid, c->memfd, c->pidfd and c->sessfd -1 before; 1 if it
 * is gone or exiting, with c->quiet_gone);
 * ckpt_proc_collect() takes what crak writes of it (ALONE: a process of
 * its own, not of a tree), ckpt_proc_take_sockets() its TCP and UDP
 * sockets; ckpt_proc_write() writes its image to c->imgfd
 * from c->im's sequence number and offset; ckpt_proc_sockets_on() lets its
 * sockets carry on; ckpt_proc_end() lets it go, killed or running on;
 * ckpt_proc_resume() lets it run on as if nothing happened, after a
 * failure; ckpt_proc_free() frees the rest.
 */
int ckpt_proc_freeze(struct checkpoint *c);
int ckpt_proc_collect(struct checkpoint *c, bool alone);
int ckpt_proc_take_sockets(struct checkpoint *c);
int ckpt_proc_write(struct checkpoint *c);
int ckpt_proc_sockets_on(struct checkpoint *c);
int ckpt_proc_end(struct checkpoint *c, bool kill);
int ckpt_proc_resume(struct checkpoint *c);
void ckpt_proc_free(struct checkpoint *c);

/*
 * c->out ("-": standard output, never a terminal) as c->imgfd: a file is
 * written as OUT.partial and takes its name at ckpt_output_finish(), or
 * goes at ckpt_output_drop() (after a failure; after success, frees).
 */
int ckpt_output_open(struct checkpoint *c);
int ckpt_output_finish(struct checkpoint *c);
void ckpt_output_drop(struct checkpoint *c);

/* crak checkpoint --tree ROOT (tree_image.c): an exit status. */
int tree_image_checkpoint(pid_t root, const char *out, bool leave_running);

#endif /* CRAK_CHECKPOINT_H */
