/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What crak checkpoint, crak restart and crak image share: the crak_ckpt
 * family, and the descriptors of a process (ckpt_files.c).
 */
#ifndef CRAK_CKPT_H
#define CRAK_CKPT_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <linux/crak_ckpt.h>
#include <linux/crak_image.h>

#include "cmd.h"
#include "image.h"
#include "nl.h"

extern const struct nl_family ckpt_family;
int ckpt_parse(const struct nlmsghdr *nlh, const struct nlattr **tb);
/* A reply's CRAK_CKPT_A_NEW_FD (INSTALL's, SHMEM's) into *(int *)DATA. */
int ckpt_new_fd_cb(const struct nlmsghdr *nlh, void *data);

/* Commands. */
int cmd_checkpoint(struct args *args);
int cmd_restart(struct args *args);

/*
 * A pod's checkpoint of its processes (tree_checkpoint()): kills them, or
 * lets them run on; what the pod does meanwhile (each hook returns 0, or
 * -1 to call it all off): @complete once the image is whole, before the
 * kill or the rest; left running, @running once their sockets carry on,
 * before they do.
 */
struct ckpt_hooks {
	bool leave_running;
	int (*complete)(void *arg);
	int (*running)(void *arg);
	void *arg;
};

/*
 * The most data a file may carry in an image: a pipe's or a socket's
 * queue, an unlinked file's contents.
 */
#define FILE_DATA_MAX	(64U << 20)

/*
 * Descriptors.  files_collect() takes every descriptor of PID (whose pidfd
 * is PIDFD), or says why one cannot be taken and returns -1; files_write()
 * writes a FILE section for each.  The restart side reads them back
 * (files_read) and, in the new process, makes them (files_restore).
 */
struct rfile {
	struct crak_img_file f;
	char *path;
	void *data;
	int sock;			/* checkpoint: our duplicate of a TCP socket */
	uint64_t ino;			/* checkpoint: its inode */
	uint64_t dev;			/* ... and device */
	struct crak_img_fown fown;	/* with CRAK_FILE_OWNED */
	/* checkpoint: a unix datagram socket's peer's address, if it has one */
	char peer_addr[108];		/* sun_path: a path, or NUL and a name */
	uint8_t peer_len;		/* bytes of it, 0 for none */
	/* checkpoint: net.unix.max_dgram_qlen in a unix socket's namespace */
	unsigned long dgram_qlen;
	struct crak_img_unix_opts uopts;	/* with CRAK_FILE_SOCKOPTS */
	struct crak_img_unix_peer upeer;	/* with CRAK_UNIX_OPT_PEER */
};

/*
 * Of a memfd or a deleted file mapped shared (CRAK_FILE_UNLINKED with
 * CRAK_UNLINKED_MEMFD or CRAK_UNLINKED_MAPPED): which of the two, 0 for any
 * other descriptor; and the shmid of its memory (value[2]), 0 where none.
 */
static inline uint64_t rfile_memory_kind(const struct rfile *rf)
{
	if (le32toh(rf->f.type) != CRAK_FILE_UNLINKED)
		return 0;
	return le64toh(rf->f.value[0]) & (CRAK_UNLINKED_MEMFD | CRAK_UNLINKED_MAPPED);
}

static inline uint64_t rfile_shmid(const struct rfile *rf)
{
	return rfile_memory_kind(rf) ? le64toh(rf->f.value[2]) : 0;
}

/*
 * The shmid (crak_image.h) of the shared memory of device DEV (stat(2)'s
 * st_dev, the kernel's encoding: it fits in 32 bits) and inode number INO.
 */
static inline uint64_t shmid_of(dev_t dev, uint64_t ino)
{
	return ino > UINT32_MAX ? ino : (uint64_t)(uint32_t)dev << 32 | ino;
}

struct rfiles {
	struct rfile *v;
	unsigned int nr;
	int max_fd;			/* the highest descriptor, -1 for none */
	uint32_t *sock_ids;		/* restart: crak_sockmig's handles of the */
	unsigned int nr_sock_ids;	/* TCP sockets made, to thaw once whole */
	const int *shared;		/* restart in a tree: its shared files' */
	unsigned int nr_shared;		/* descriptors (CRAK_FILE_SHARED) */
};

/*
 * ALONE: the process is not of a tree; a pipe to another process is then
 * an error, or (0 to 2) a standard descriptor leading out.  POD_PTS: the
 * device of the pod's own devpts (0: none), whose terminals are the pod's
 * (CRAK_FILE_PTY_*), not the restarter's.
 */
int files_collect(pid_t pid, int pidfd, struct rfiles *files, bool alone, dev_t pod_pts);
/*
 * Whether the file epoll EPFD of PID watches as interest T[K] is PID's
 * descriptor T[K].tfd, the number it was registered as: 1, 0, or -1
 * (kcmp failed: errno).  files_epoll_check(): every interest of every
 * epoll of FILES is so (else -1, after saying which is not).
 */
int epoll_watches_at(pid_t pid, int epfd, const struct crak_img_epoll_tfd *t, unsigned int k);
int files_epoll_check(pid_t pid, const struct rfiles *files);
/* Says why epoll_watches_at() failed (errno) for PID's epoll EPFD. */
void epoll_kcmp_error(pid_t pid, unsigned int epfd);

/* One line of /proc/PID/maps that is a shared mapping of a deleted file. */
struct map_deleted {
	unsigned int dev_major, dev_minor;
	unsigned long ino;
	uint64_t size;			/* as far as the mapping reaches */
	char *path;			/* in the line: its file's path, as the
					 * kernel gives it ("/dev/zero"), without
					 * " (deleted)"
					 */
	char *name;			/* the same, without the leading '/'
					 * (cut at NAME_MAX)
					 */
};
bool map_deleted(char *line, struct map_deleted *m);

static inline uint64_t map_shmid(const struct map_deleted *m)
{
	return shmid_of(makedev(m->dev_major, m->dev_minor), m->ino);
}
/*
 * Whether a process outside PIDS (NR processes of a SET, FILES[i] the
 * descriptors of PIDS[i], NULL for a zombie; or one alone with SET NULL)
 * maps or holds memory one of them shares through no name (shared
 * anonymous memory, a memfd, a deleted shm file), or holds an open
 * eventfd, epoll or timerfd of theirs: a restart would make it theirs
 * alone, apart from that process's.  0, or -1 after saying which.  (Those
 * this crak cannot look into, it cannot tell.)
 */
int files_held_outside(const pid_t *pids, const struct rfiles *const *files, unsigned int nr,
		       const char *set);
int files_write(struct img *im, const struct rfiles *files);
/* Where a FILE section's struct crak_img_fown lies (CRAK_FILE_OWNED). */
static inline uint64_t files_fown_offset(uint32_t path_len, uint64_t data_len)
{
	return (sizeof(struct crak_img_file) + path_len + data_len + 7) & ~7ULL;
}

/*
 * The struct crak_img_fown of a FILE section (LEN bytes from SECTION, at
 * least a struct crak_img_file) into *FOWN, NULL if it has none; -1 if it
 * says it has one that is not there or not sound.  files_sockopts(): its
 * struct crak_img_unix_opts (CRAK_FILE_SOCKOPTS), and the struct
 * crak_img_unix_peer after them (CRAK_UNIX_OPT_PEER), likewise.
 */
int files_fown(const void *section, uint64_t len, const struct crak_img_fown **fown);

/* The CRAK_UNIX_* flags a reader knows: an image with others is refused. */
#define CRAK_UNIX_KNOWN	(CRAK_UNIX_LISTENING | CRAK_UNIX_ABSTRACT | CRAK_UNIX_OUTSIDE | \
			 CRAK_UNIX_SENDERS)
int files_sockopts(const void *section, uint64_t len, const struct crak_img_unix_opts **opts,
		   const struct crak_img_unix_peer **peer);
void files_free(struct rfiles *files);
/* ORDERED: a process's, by increasing number (a tree's shared: any). */
int files_read(struct img *im, uint32_t nr, struct rfiles *files, bool ordered);
int files_restore(struct rfiles *files, const int *stdio, int base);
/*
 * Set before files_restore() (and a tree's shared files) for another
 * user's process: its paths are followed through no symbolic link.
 */
extern bool files_no_symlinks;
int files_make_shared(struct rfiles *shared, const uint32_t *owner, uint32_t who, int *made,
		      const int *stdio, int base);
const char *file_type_name(uint32_t type);
/* RF leads out of the process: the restarter's own 0, 1 or 2 (its data go). */
void file_to_stdio(struct rfile *rf);
/* Moves FD above every descriptor the image uses (BASE): -1 (errno) if not. */
int park_above(int fd, int base);

/* Whether PID is one of PIDS (NR of them). */
static inline bool pid_in(pid_t pid, const pid_t *pids, unsigned int nr)
{
	while (nr--)
		if (pids[nr] == pid)
			return true;
	return false;
}

/* ckpt_inet.c */
struct inet_set;
struct inet_set *inet_set_new(void);
int inet_freeze(struct inet_set *s, pid_t pid, struct rfile *rf, int dup);
int inet_dump(struct inet_set *s, pid_t pid);
int inet_held_outside(const pid_t *pids, const struct rfiles *const *files, unsigned int nr,
		      const char *set);
int inet_undo(struct inet_set *s);
void inet_set_free(struct inet_set *s);
int inet_make(const struct rfile *rf, uint32_t *id);
int inet_thaw(uint32_t id);

/* ckpt_pty.c */
struct stat;
bool pty_is_master(const struct stat *st);
int pty_slave_index(dev_t dev);
int pty_take(struct rfile *rf, int dup, const struct stat *st, const char **why);
int pty_make_master(const struct rfile *rf);
int pty_open_slave(unsigned int index, int flags);

/* ckpt_unix.c */
int unix_take(int sk, uint32_t ino, struct rfile *rf, const char **why);
/* Sets the options RF's socket had (CRAK_FILE_SOCKOPTS) on FD: 0, or -1 (errno). */
int unix_set_opts(int fd, const struct rfile *rf);
/*
 * FD, listener L made again, listens with its backlog (128 in images before
 * minor 17), its credentials (SO_PEERCRED) now the caller's.
 */
int unix_listen_again(int fd, const struct rfile *l);
int unix_check_peers(pid_t pid, struct rfiles *files, bool alone);
int unix_outside(struct rfile *rf, pid_t pid, const char **why);
const char *unix_peer_refused(const struct rfile *rf, const struct rfile *p);
bool unix_accepted(const struct rfile *conn, const struct rfile *l);
/*
 * Whether RF's data, if a datagram or seqpacket socket's queue, is whole
 * datagrams, no more told peeked than a checkpoint takes.
 */
bool unix_queue_sound(const struct rfile *rf);
int unix_make(const struct rfiles *files, unsigned int idx, int *keep, int base);
unsigned int unix_noted(void);
void unix_forget(unsigned int nr);

#endif /* CRAK_CKPT_H */
