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
 * running on as if nothing happened (-2: but for some, let go already, as
 * asked, once the hooks were done).  HOST_PTS: the device of crak's own
 * /dev/pts (a pod whose /dev/pts is another has terminals of its own).
 * ROOT, if not 0: not a pod's but process ROOT and every process under it,
 * from crak's own namespaces (after TREE_HEAD).
 */
int tree_checkpoint(struct img *im, const struct ckpt_hooks *hooks, unsigned int *nr_procs,
		    dev_t host_pts, pid_t root);

struct restart;

/* What every restarter of a tree knows: all of it inherited. */
struct tree_restart {
	const char *name;		/* the image's, for messages */
	uint32_t top;			/* the restarter's PID in TREE: 1 (a pod's
					 * init) or 0 (crak restart, of a tree's
					 * image)
					 */
	const char *set;		/* "pod" or "tree", for messages */
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
	int *pidfd;			/* per process, once it said hello */
};

/*
 * After POD of pod image minor MINOR (TOP 1), or after TREE_HEAD (minor 2's
 * TREE, TOP 0): the TREE and shared files, read into TR; 1, or 0 if the
 * image has no TREE (minor 0: one process image, the command's), or -1
 * after saying why.
 */
int tree_read(struct img *im, unsigned int minor, uint32_t top, struct tree_restart *tr);
void tree_free_restart(struct tree_restart *tr);

/*
 * In the pod's init (or in crak restart, of a tree's image): makes every
 * process from IM, each whole and held, with its PID, parent, session,
 * group and files; *RS gets their restart sessions (one per process that
 * is not a zombie, NULL for a zombie) for tree_go().  0, or -1 after
 * saying why (the init then ends, and with it whatever was made; crak
 * restart calls tree_kill()).
 */
int tree_restart_all(struct tree_restart *tr, struct img *im, struct restart ***rs);
/* Lets them run, children first: 0 (RS freed), or -1 after saying why. */
int tree_go(struct tree_restart *tr, struct restart **rs);
/*
 * After a failure of either, outside a pod (whose init's end would end
 * them): every process made so far killed, RS freed.  Those still waiting
 * for their turn end as the restarter does.
 */
void tree_kill(struct tree_restart *tr, struct restart **rs);
/* The pod's command: the process whose end ends the pod. */
pid_t tree_command(const struct tree_restart *tr);

/* A tree's image (tree_image.c): its TREE_HEAD read, *ROOT its root's PID. */
int tree_image_read_head(struct img *im, pid_t *root);

/* In a restarter (restart_child.c), before and after its descriptors. */
int tree_make_shared(struct restart *r, const int *stdio);
/* The shared unix listeners it made listen, listening from it again. */
int tree_listen_again(const struct restart *r);
/* The shared file RF (CRAK_FILE_SHARED) stands for in TR; NULL if none. */
const struct rfile *tree_shared_file(const struct tree_restart *tr, const struct rfile *rf);
/*
 * The shared memories it maps with others of its tree (CRAK_FILE_SHMEM,
 * made by it or above it), at most MAX, into SHM for its RESTORE: how many
 * (0 outside a tree), or -1 after saying why.
 */
int tree_shmems(const struct restart *r, struct crak_ckpt_shmem *shm, unsigned int max);
void tree_fork_children(struct restart *r);

#endif /* CRAK_TREE_H */
