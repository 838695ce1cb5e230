/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pod's tree of processes: its checkpoint (ckpt_tree.c) and its restart
 * (restart_tree.c).  The layout is uapi/linux/crak_image.h's TREE.
 */
#ifndef CRAK_TREE_H
#define CRAK_TREE_H

#include "ckpt.h"

/*
 * From inside the pod's namespaces: stops every process of the pod, writes
 * TREE, the shared files and each process's image to IM (after POD), calls
 * the hooks (struct ckpt_hooks), and kills the processes or lets them
 * run on.  0 (*NR_PROCS taken), or -1 after saying why, every process
 * running on as if nothing happened.  HOST_PTS: the device of crak's own
 * /dev/pts (a pod whose /dev/pts is another has terminals of its own).
 */
int tree_checkpoint(struct img *im, const struct ckpt_hooks *hooks, unsigned int *nr_procs,
		    dev_t host_pts);

struct restart;

/* What every restarter of a tree knows: all of it inherited. */
struct tree_restart {
	const char *name;		/* the image's, for messages */
	struct crak_img_tree hdr;
	struct crak_img_tree_proc *procs;
	uint32_t nr;
	uint32_t *owner;		/* of each shared file */
	struct rfiles shared;
	int *made;			/* the shared files made so far (2 * nr) */
	int base;			/* the tree's descriptors from here up */
	int stdio[3];			/* the init's 0, 1 and 2 */
	int imgfd;
	int ctl[2];			/* restarters [1] to the init [0] */
	int *turn;			/* per process: a pipe, its turn */
};

/*
 * After POD of pod image minor MINOR: the TREE and shared files, read into
 * TR; 1, or 0 if the image has no TREE (minor 0: one process image, the
 * command's), or -1 after saying why.
 */
int tree_read(struct img *im, unsigned int minor, struct tree_restart *tr);
void tree_free_restart(struct tree_restart *tr);

/*
 * In the pod's init: makes every process from IM, each whole and held, with its
 * PID, parent, session, group and files; *RS gets their restart sessions
 * (one per process that is not a zombie, NULL for a zombie) for
 * tree_go().  0, or -1 after saying why (the init then ends, and with it
 * whatever was made).
 */
int tree_restart_all(struct tree_restart *tr, struct img *im, struct restart ***rs);
/* Lets them run, children first: 0, or -1 after saying why. */
int tree_go(struct tree_restart *tr, struct restart **rs);
/* The pod's command: the process whose end ends the pod. */
pid_t tree_command(const struct tree_restart *tr);

/* In a restarter (restart_child.c), before and after its descriptors. */
int tree_make_shared(struct restart *r, const int *stdio);
void tree_fork_children(struct restart *r);

#endif /* CRAK_TREE_H */
