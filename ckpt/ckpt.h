/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak_ckpt: checkpoint a process to an image and restart it from one.
 *
 * stop.c	stopping a process's threads where signals are delivered
 *		(task work), waiting until they are off the CPU, letting them go
 * image.c	the image's sections: framing, hashing, reading and writing
 * dump.c	the task part (signal state, threads' registers) and the
 *		memory part (mappings and their pages) of an image
 * restore.c	a restore session: enrolled threads, the memory rebuilt,
 *		registers given back
 * netlink.c	the generic netlink family crak_ckpt, and the sessions'
 *		descriptors
 */

#ifndef _CRAK_CKPT_H
#define _CRAK_CKPT_H

#include <linux/completion.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/task_work.h>
#include <linux/wait.h>
#include <linux/xxhash.h>
#include <net/netlink.h>

#include <linux/crak_ckpt.h>
#include <linux/crak_image.h>

struct netlink_ext_ack;

/* -- stop.c --------------------------------------------------------------- */

struct ckpt_stop;

/*
 * A stopped process, or the threads of one being restored: each thread
 * waits in task work (ckpt_park) until the group is released.
 */
struct ckpt_group {
	refcount_t ref;			/* the owner's, and one per queued work */
	spinlock_t lock;		/* threads, nr_parked, released */
	struct list_head threads;	/* struct ckpt_stop, in queueing order */
	unsigned int nr_threads;
	unsigned int nr_parked;
	bool released;
	wait_queue_head_t parked_wq;	/* the owner waits for the threads */
	wait_queue_head_t release_wq;	/* the threads wait for the owner */
	wait_queue_head_t access_wq;	/* a killed thread, for the owner */
	/* Called by each thread, in its own context, once released. */
	void (*resume)(struct ckpt_stop *st);
	/* Called at the last reference: frees the owner and the group. */
	void (*free)(struct ckpt_group *g);
};

struct ckpt_stop {
	struct callback_head work;
	struct list_head node;
	struct ckpt_group *group;
	struct task_struct *task;	/* held */
	bool parked;
	bool busy;			/* the owner is at its registers */
	bool gone;			/* a fatal signal ended its wait */
	void *data;			/* the owner's, per thread */
};

void ckpt_group_init(struct ckpt_group *g, void (*resume)(struct ckpt_stop *st),
		     void (*free)(struct ckpt_group *g));
int ckpt_group_add(struct ckpt_group *g, struct task_struct *t, int notify, void *data);
bool ckpt_group_has(struct ckpt_group *g, struct task_struct *t);
int ckpt_group_wait_parked(struct ckpt_group *g, unsigned long timeout);
int ckpt_stop_access(struct ckpt_stop *st);
void ckpt_stop_done(struct ckpt_stop *st);
void ckpt_group_release(struct ckpt_group *g);
void ckpt_group_put(struct ckpt_group *g);
void ckpt_group_free_threads(struct ckpt_group *g);

/* -- main.c --------------------------------------------------------------- */

struct workqueue_struct;
extern struct workqueue_struct *ckpt_wq;

/* -- image.c -------------------------------------------------------------- */

/* The buffer of a stream (below). */
#define CKPT_STREAM_BUF		SZ_16K

/*
 * Where an image goes or comes from, and how far it got.  Small pieces
 * (headers, checksums, small sections) go through BUF: on a network file
 * system, a FUSE file or a pipe each write or read of its own is a round
 * trip or a wake-up.  Written pieces wait there until the buffer is full,
 * pages follow or the operation ends; reads of a file whose position can be
 * put back read ahead into it.  Other files are read exactly: what follows
 * the image in a pipe or socket is not the module's to take.  The I/O goes
 * at POS; the file's own position is set when the operation ends
 * (ckpt_stream_end()).
 */
struct ckpt_stream {
	struct file *file;
	loff_t pos;			/* in the file, of the next I/O */
	u32 seq;			/* of the next section */
	u64 offset;			/* image bytes so far (buffered ones too) */
	struct xxh64_state hash;	/* of the open section's payload */
	u64 left;			/* payload bytes the open section still owes */
	u8 *buf;			/* CKPT_STREAM_BUF bytes, or NULL: unbuffered */
	unsigned int buf_len;		/* written ones waiting, or read ahead */
	unsigned int buf_pos;		/* reading: the next one to take */
	bool ahead;			/* reading: may read ahead */
};

void ckpt_stream_init(struct ckpt_stream *s, struct file *file, bool write);
int ckpt_stream_flush(struct ckpt_stream *s);
int ckpt_stream_end(struct ckpt_stream *s);
int ckpt_write_section(struct ckpt_stream *s, u32 type, const void *payload, size_t len);
int ckpt_begin_section(struct ckpt_stream *s, u32 type, u64 len);
int ckpt_write_payload(struct ckpt_stream *s, const void *buf, size_t len);
int ckpt_write_pages(struct ckpt_stream *s, struct page **pages, unsigned int nr);
int ckpt_end_section(struct ckpt_stream *s);

int ckpt_read_header(struct ckpt_stream *s, u32 *type, u64 *len,
		     struct netlink_ext_ack *extack);
int ckpt_read_payload(struct ckpt_stream *s, void *buf, size_t len);
int ckpt_read_pages(struct ckpt_stream *s, struct page **pages, unsigned int nr);
int ckpt_pread_pages(struct file *file, loff_t pos, struct page **pages, unsigned int nr);
int ckpt_read_trailer(struct ckpt_stream *s, struct netlink_ext_ack *extack);
void *ckpt_read_section(struct ckpt_stream *s, u32 type, size_t min, size_t max,
			u64 *len, struct netlink_ext_ack *extack);

/* -- dump.c --------------------------------------------------------------- */

/* A checkpoint: the stopped process and how far its image got. */
struct ckpt_freeze {
	struct ckpt_group group;	/* first: freed with it */
	struct task_struct *leader;	/* held */
	struct pid *tgid;		/* held: whom RELEASE's KILL signals */
	struct mm_struct *mm;		/* mmget */
	struct mutex lock;		/* one operation at a time */
	bool killed;
	/* The memory part, written in steps. */
	struct ckpt_vma_list *vmas;
	unsigned int vma_next;		/* whose pages come next */
	unsigned long addr_next;	/* ... from this address */
	u64 pages;			/* written so far */
	struct crak_ckpt_range *skip;	/* pages not written (DUMP's SKIP) */
	unsigned int nr_skip;
	unsigned int skip_next;		/* the first range not behind us */
	bool mem_started;
	bool mem_done;
};

/*
 * CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over NS, of the caller and of
 * whoever opened the netlink socket SKB came by: a socket passed to a more
 * privileged program that writes what it is given lends it no rights (as
 * netlink_ns_capable()).
 */
static inline bool ckpt_capable(const struct sk_buff *skb, struct user_namespace *ns)
{
	return netlink_ns_capable(skb, ns, CAP_CHECKPOINT_RESTORE) ||
	       netlink_ns_capable(skb, ns, CAP_SYS_ADMIN);
}

struct ckpt_freeze *ckpt_freeze_of(struct file *file);
int ckpt_freeze(const struct sk_buff *skb, pid_t nr, int mem_fd, unsigned int timeout_ms,
		int *fdp, unsigned int *nr_threads, struct netlink_ext_ack *extack);
int ckpt_freeze_end(struct ckpt_freeze *fz, bool kill);
int ckpt_install(const struct sk_buff *skb, pid_t nr, int mem_fd, int file_fd, int *new_fd,
		 struct netlink_ext_ack *extack);

int ckpt_dump_task(struct ckpt_freeze *fz, struct ckpt_stream *s,
		   struct netlink_ext_ack *extack);
int ckpt_dump_memory(struct ckpt_freeze *fz, struct ckpt_stream *s, u64 budget,
		     const struct nlattr *skip, bool *more, struct netlink_ext_ack *extack);
void ckpt_freeze_free_memory(struct ckpt_freeze *fz);
void ckpt_freeze_resume(struct ckpt_stop *st);

/* -- queue.c -------------------------------------------------------------- */

int ckpt_peeked(const struct sk_buff *skb, int fd, const u32 *want, u32 nr, u32 *old,
		u32 *queued, struct netlink_ext_ack *extack);

/* -- restore.c ------------------------------------------------------------ */

struct ckpt_restore;

struct pt_regs;
bool ckpt_sleep_set(struct pt_regs *regs, long nr, u64 left);

struct ckpt_restore *ckpt_restore_new(void);
void ckpt_restore_put(struct ckpt_restore *r);
int ckpt_restore_thread(struct ckpt_restore *r, const void *thread, size_t len,
			struct netlink_ext_ack *extack);
/*
 * Where a restore finds what its image leaves to others: the pages its SKIP
 * left out, and the shared memories it maps with other processes.
 */
struct ckpt_fill_src {
	struct file *file;		/* NULL: nowhere */
	u64 base;			/* the file's offset of address 0 */
	bool lazy;			/* anonymous ones left missing */
	struct {
		u64 shmid;		/* its CRAK_VMA_SHANON mappings' */
		struct file *file;
		bool filled;		/* its pages are in it */
	} shm[CRAK_CKPT_SHMEM_MAX];
	unsigned int nr_shm;
};

/* The madvise(2) advice a mapping keeps: its VMA flag and the image's. */
struct ckpt_advice {
	unsigned long vm;	/* VM_* */
	u32 img;		/* CRAK_VMAF_* */
};

#define CKPT_NR_ADVICE	8
extern const struct ckpt_advice ckpt_advice[CKPT_NR_ADVICE];
#define CKPT_VMAF_ADVICE	(CRAK_VMAF_DONTFORK | CRAK_VMAF_WIPEONFORK | CRAK_VMAF_DONTDUMP | \
				 CRAK_VMAF_HUGEPAGE | CRAK_VMAF_NOHUGEPAGE | \
				 CRAK_VMAF_SEQUENTIAL | CRAK_VMAF_RANDOM | CRAK_VMAF_MERGEABLE)

/* Once whole: the process runs; or waits for GO (killed if it never comes). */
enum ckpt_hold { CKPT_RUN, CKPT_HOLD, CKPT_HOLD_KILL };

struct ckpt_peers;
int ckpt_restore(struct ckpt_restore *r, struct ckpt_stream *s, const void *thread,
		 size_t len, u32 nr_threads, const int *close_fds, unsigned int nr_close,
		 enum ckpt_hold hold, const struct ckpt_fill_src *fill, struct cred *creds,
		 bool no_new_privs, struct ckpt_peers *peers, u64 *pages,
		 struct netlink_ext_ack *extack);
/* A post-copy's userfaultfd is still to fill part of the memory: EAGAIN. */
#define CKPT_MSG_FILLING \
	"part of the process's memory is still to be filled through a userfaultfd (a post-copy under way)"
bool ckpt_mm_filling(struct mm_struct *mm);

void ckpt_restore_refuse(struct ckpt_restore *r, int err, const struct netlink_ext_ack *extack);
/* Room for why a session failed (RESTORE_WAIT's CRAK_CKPT_A_MESSAGE). */
#define CKPT_MSG_LEN	160
int ckpt_restore_wait(struct ckpt_restore *r, pid_t nr, bool *ready, char *msg,
		      struct netlink_ext_ack *extack);
unsigned int ckpt_restore_lazy(struct ckpt_restore *r, const struct crak_ckpt_range **ranges);
int ckpt_restore_go(struct ckpt_restore *r, struct netlink_ext_ack *extack);

/* A THREAD section's payload, checked. */
struct ckpt_thread_image {
	const struct crak_img_thread *hdr;
	const void *regs;
	const void *xstate;
	u32 regs_len;
	u32 xstate_len;
	bool sleep;		/* CRAK_THREAD_SLEEP: sleep_left is set */
	u64 sleep_left;		/* ns */
};

int ckpt_thread_parse(const void *buf, size_t len, struct ckpt_thread_image *ti,
		      struct netlink_ext_ack *extack);

/* -- creds.c -------------------------------------------------------------- */

struct cred;
struct nlattr;
struct nlmsghdr;

struct cred *ckpt_creds_new(const struct sk_buff *skb, const struct nlattr *attr,
			    struct netlink_ext_ack *extack);
void ckpt_creds_apply(const struct cred *tmpl);
struct ckpt_peers *ckpt_peers_new(const struct nlmsghdr *nlh, const struct cred *tmpl,
				  struct netlink_ext_ack *extack);
void ckpt_peers_apply(struct ckpt_peers *peers);
void ckpt_peers_free(struct ckpt_peers *peers);

/* -- netlink.c ------------------------------------------------------------ */

int ckpt_genl_init(void);
void ckpt_genl_exit(void);

#endif /* _CRAK_CKPT_H */
