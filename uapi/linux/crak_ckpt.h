/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * crak_ckpt: checkpoint a process to an image and restart it from one.
 * The image format is in linux/crak_image.h; the crak tool writes the parts
 * of it that /proc and system calls give, this family the parts only the
 * kernel can read or write.  A process that is never checkpointed costs
 * nothing: the module keeps no state about it and hooks nothing.
 *
 * Checkpoint.
 *   FREEZE stops every thread of the process CRAK_CKPT_A_PID (in the
 *   caller's PID namespace) where the kernel would deliver a signal to it,
 *   without one: no SIGSTOP, nothing its parent's waitpid() sees, a system
 *   call it was sleeping in interrupted as a signal would and made again
 *   when it resumes.  The caller proves it may look inside the process with
 *   CRAK_CKPT_A_MEM_FD, a descriptor of /proc/PID/mem it opened (which the
 *   kernel lets open only to who may ptrace-attach to it), and needs
 *   CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the user namespace of the
 *   process's credentials.  The reply's CRAK_CKPT_A_SESSION_FD names the
 *   stopped process from then on; closing it lets the process run on, as
 *   does RELEASE, or kills it (RELEASE with CRAK_CKPT_A_KILL).  Threads the
 *   process starts while FREEZE works are stopped too; a process that is
 *   stopped, traced, exiting or a kernel thread is refused, and one whose
 *   memory a userfaultfd is still to fill (a post-copy: see RESTORE) with
 *   EAGAIN, until it is whole (DUMP refuses it too).
 *
 *   DUMP writes one part of the image to CRAK_CKPT_A_IMAGE_FD at its
 *   position (a file, pipe or socket): CRAK_CKPT_PART_TASK (SIGACTIONS,
 *   THREAD per thread, SIGNAL) or CRAK_CKPT_PART_MEMORY (MM, VMA, PAGES,
 *   END).  CRAK_CKPT_A_SEQ is the sequence number of the first section it
 *   writes and CRAK_CKPT_A_OFFSET the image bytes written before it; the
 *   reply gives both for what follows, once all the part is written and
 *   the descriptor's position is just past it.  With CRAK_CKPT_A_BUDGET the
 *   memory part is written in steps of about that many bytes: the reply
 *   carries CRAK_CKPT_A_MORE until the step that wrote END, and the next
 *   DUMP of the part continues where the last stopped (for a progress
 *   display).
 *   CRAK_CKPT_A_SKIP, with the first DUMP of the memory part, names pages
 *   of private mappings that are not written: a live migration sent them
 *   ahead while the process ran, and the caller knows that they have not
 *   changed since (their soft-dirty bits clear).  The image says which
 *   (its SKIP section) and restores only with those pages at hand.
 *
 * Restart.  The crak tool makes a process with the image's PID
 * (clone3 with set_tid) and, in it, everything system calls can rebuild:
 * credentials, limits, descriptors, signal handlers and pending signals,
 * and the threads, each with its own TID.  Then:
 *   RESTORE_BEGIN, from the restarting tool, opens a restore session and
 *   replies with its CRAK_CKPT_A_SESSION_FD; the new process inherits it.
 *   RESTORE_THREAD, from each thread but the leader, with the thread's
 *   THREAD section (CRAK_CKPT_A_THREAD), enrolls the caller: when its
 *   system call returns, it waits there for its registers.
 *   RESTORE, from the leader, with its THREAD section, reads the memory part
 *   from CRAK_CKPT_A_IMAGE_FD (MM to END; CRAK_CKPT_A_SEQ and _OFFSET as
 *   for DUMP; a regular file may be read ahead, and its position is put
 *   back just past END), checks it and every enrolled thread, replaces the
 *   caller's memory with the image's, closes the descriptors
 *   CRAK_CKPT_A_CLOSE_FD (the tool's own), gives every thread its
 *   registers, signal mask and rseq area, and lets them all run from where
 *   the image left them.  The [vdso] and [vvar] mappings must already be
 *   where the image had them (the tool moves them with mremap); the files
 *   of file mappings must open for the caller and have the size they had.
 *   Once the caller's memory is being replaced, a failure kills the
 *   process.
 *   RESTORE_WAIT, from the restarting tool, waits until the session ends:
 *   its reply is success once the process runs, or the error that ended
 *   it, after a message with CRAK_CKPT_A_MESSAGE saying why in words (not
 *   the extack's: the session, which holds the words, may be gone by the
 *   time the acknowledgment is made); with CRAK_CKPT_A_PID, the new process's PID,
 *   ESRCH if that process ends before its restore (it says why itself).
 *   With CRAK_CKPT_A_CREDS every thread takes those credentials as it
 *   runs (the caller needs CAP_SETUID and CAP_SETGID, and every capability
 *   it gives); without, the process keeps the caller's.
 *   A RESTORE with CRAK_CKPT_A_HOLD keeps every thread waiting, registers
 *   and all, once the process is whole: RESTORE_WAIT then replies with
 *   CRAK_CKPT_A_READY, and the process runs at RESTORE_GO (or when the
 *   session's last descriptor closes; with CRAK_CKPT_A_HOLD_KILL as well,
 *   it is killed then instead: a tree of processes runs whole or not at
 *   all, even if its restarter dies).  The restarting tool finishes what
 *   must be done outside the process first (its TCP connections thawed).
 *   An image with a SKIP section restores only with CRAK_CKPT_A_FILL_FD, a
 *   file the caller may read that holds the pages SKIP left out: the page
 *   at address A at offset CRAK_CKPT_A_FILL_BASE + A (a live migration's
 *   receiver keeps what was sent ahead there).  With CRAK_CKPT_A_LAZY,
 *   SKIP's pages in private anonymous mappings are left missing, for the
 *   caller to fill (post-copy: a userfaultfd the process made before its
 *   RESTORE, registered for missing pages before RESTORE_GO), and
 *   RESTORE_WAIT's CRAK_CKPT_A_READY reply names them (CRAK_CKPT_A_SKIP);
 *   those of private file mappings are filled as without it.
 *   Shared memory that processes of a tree share through no name (shared
 *   anonymous memory across a fork, a memfd): SHMEM makes one (tmpfs,
 *   CRAK_CKPT_A_NAME as its name, CRAK_CKPT_A_SIZE bytes) and replies with
 *   a descriptor of it (CRAK_CKPT_A_NEW_FD, close-on-exec); the RESTORE of
 *   each process that maps it names it with a CRAK_CKPT_A_SHMEM (struct
 *   crak_ckpt_shmem: the image's shmid of its CRAK_VMA_SHANON mappings and
 *   the descriptor), and those mappings map that memory instead of one of
 *   their own; its pages are written in it as the image has them (but with
 *   CRAK_CKPT_SHMEM_FILLED).  SHMEM also stands for a deleted file a lone
 *   process holds open and maps (CRAK_UNLINKED_MAPPED).
 *   A unix socket the tool made again names its maker to SO_PEERCRED:
 *   RESTORE's CRAK_CKPT_A_PEER (struct crak_ckpt_peer) names the process
 *   and IDs it named at checkpoint instead, as the process is released
 *   (when every process of its tree is there).  What the caller could not
 *   name as SCM_CREDENTIALS asks of a sender who names another stays as
 *   made: another process without CAP_SYS_ADMIN over the caller's PID
 *   namespace, another user without CAP_SETUID or another group without
 *   CAP_SETGID (both IDs, then), IDs without a mapping.  When they are the
 *   effective IDs of the credentials the process takes, the socket names
 *   those (SO_PEERGROUPS gives their supplementary groups), else those IDs
 *   with no supplementary group.
 * Handing over.  INSTALL gives process CRAK_CKPT_A_PID a new descriptor of
 * the open file CRAK_CKPT_A_FD (the caller's), as if it had opened it, and
 * replies with its number (CRAK_CKPT_A_NEW_FD): its main thread takes it
 * where signals are delivered, as FREEZE stops it (a call it slept in is
 * made again).  It takes what FREEZE takes: CRAK_CKPT_A_MEM_FD and the
 * capability.  (`crak sock move` re-homes a connection with it.)
 *
 * A queue's marks.  A datagram of no bytes that a peek showed is marked
 * as seen, and a peek whose peek offset (SO_PEEK_OFF) comes to a marked
 * one passes over it.  PEEKED, on unix datagram or seqpacket socket
 * CRAK_CKPT_A_FD (the caller's): without CRAK_CKPT_A_PEEKED, takes every
 * mark off its queue and replies with the positions (0: the datagram read
 * first) that had one (CRAK_CKPT_A_PEEKED; E2BIG if more than
 * CRAK_CKPT_PEEKED_MAX, then nothing is taken off) and the number of
 * datagrams queued (CRAK_CKPT_A_QUEUED: a seqpacket socket whose peer
 * has gone answers a peek past its last with 0 bytes, as it would a
 * datagram of no bytes, so a reader stops there); with it, marks the
 * datagrams, each of no bytes, at the positions it lists in ascending
 * order and no other.  A checkpoint takes the marks off, reads the queue
 * from a peek offset (which marks what it shows), and puts them back.
 * The positions hold while nobody reads the queue (a process that shares
 * the socket and is not stopped could).  Nothing changes if it fails,
 * unless the reply is lost after.  It needs CAP_CHECKPOINT_RESTORE or
 * CAP_SYS_ADMIN over the socket's network namespace.
 *
 * RESTORE, RESTORE_THREAD and SHMEM need CAP_CHECKPOINT_RESTORE or
 * CAP_SYS_ADMIN in the caller's user namespace (as clone3's set_tid does)
 * and change only the calling process: they give it no privilege it did not
 * have.
 */

#ifndef _UAPI_LINUX_CRAK_CKPT_H
#define _UAPI_LINUX_CRAK_CKPT_H

#include <linux/const.h>
#include <linux/types.h>

#define CRAK_CKPT_FAMILY_NAME		"crak_ckpt"
#define CRAK_CKPT_FAMILY_VERSION	1

enum {
	CRAK_CKPT_CMD_UNSPEC,
	CRAK_CKPT_CMD_FREEZE,
	CRAK_CKPT_CMD_DUMP,
	CRAK_CKPT_CMD_RELEASE,
	CRAK_CKPT_CMD_RESTORE_BEGIN,
	CRAK_CKPT_CMD_RESTORE_THREAD,
	CRAK_CKPT_CMD_RESTORE,
	CRAK_CKPT_CMD_RESTORE_WAIT,
	CRAK_CKPT_CMD_RESTORE_GO,
	CRAK_CKPT_CMD_INSTALL,
	CRAK_CKPT_CMD_SHMEM,
	CRAK_CKPT_CMD_PEEKED,

	__CRAK_CKPT_CMD_MAX,
	CRAK_CKPT_CMD_MAX = __CRAK_CKPT_CMD_MAX - 1
};

enum {
	CRAK_CKPT_A_UNSPEC,
	CRAK_CKPT_A_PID,		/* u32 */
	CRAK_CKPT_A_MEM_FD,		/* u32: the caller's /proc/PID/mem */
	CRAK_CKPT_A_TIMEOUT_MS,		/* u32: how long FREEZE may wait */
	CRAK_CKPT_A_SESSION_FD,		/* u32 */
	CRAK_CKPT_A_NR_THREADS,		/* u32 */
	CRAK_CKPT_A_IMAGE_FD,		/* u32 */
	CRAK_CKPT_A_PART,		/* u32: CRAK_CKPT_PART_* */
	CRAK_CKPT_A_SEQ,		/* u32: next section's sequence number */
	CRAK_CKPT_A_OFFSET,		/* u64: image bytes before it */
	CRAK_CKPT_A_BUDGET,		/* u64: bytes per DUMP step */
	CRAK_CKPT_A_MORE,		/* flag: the part is not finished */
	CRAK_CKPT_A_PAGES,		/* u64: pages written or read so far */
	CRAK_CKPT_A_KILL,		/* flag: RELEASE kills the process */
	CRAK_CKPT_A_THREAD,		/* binary: a THREAD section's payload */
	CRAK_CKPT_A_CLOSE_FD,		/* u32, repeated: closed by RESTORE */
	CRAK_CKPT_A_PAD,
	CRAK_CKPT_A_HOLD,		/* flag: RESTORE's threads wait for GO */
	CRAK_CKPT_A_READY,		/* flag: RESTORE_WAIT: they wait for it */
	CRAK_CKPT_A_FD,			/* u32: INSTALL's file, the caller's */
	CRAK_CKPT_A_NEW_FD,		/* u32: INSTALL's descriptor, the process's */
	CRAK_CKPT_A_CREDS,		/* binary: struct crak_img_creds, RESTORE's */
	CRAK_CKPT_A_SKIP,		/* binary: struct crak_ckpt_range[], DUMP's */
	CRAK_CKPT_A_FILL_FD,		/* u32: RESTORE's file of the skipped pages */
	CRAK_CKPT_A_FILL_BASE,		/* u64: its offset of address 0 */
	CRAK_CKPT_A_LAZY,		/* flag: RESTORE leaves SKIP's anonymous pages */
	CRAK_CKPT_A_HOLD_KILL,		/* flag: with HOLD, killed if never told GO */
	CRAK_CKPT_A_SHMEM,		/* binary: struct crak_ckpt_shmem, RESTORE's,
					 * repeated
					 */
	CRAK_CKPT_A_NAME,		/* string: SHMEM's name */
	CRAK_CKPT_A_SIZE,		/* u64: SHMEM's size in bytes */
	CRAK_CKPT_A_PEER,		/* binary: struct crak_ckpt_peer, RESTORE's,
					 * repeated
					 */
	CRAK_CKPT_A_PEEKED,		/* binary: __u32[], PEEKED's positions */
	CRAK_CKPT_A_QUEUED,		/* u32: PEEKED's reply: datagrams queued */
	CRAK_CKPT_A_MESSAGE,		/* string: RESTORE_WAIT's reply: why the
					 * session failed
					 */

	__CRAK_CKPT_A_MAX,
	CRAK_CKPT_A_MAX = __CRAK_CKPT_A_MAX - 1
};

/* The most positions PEEKED's reply gives. */
#define CRAK_CKPT_PEEKED_MAX	4096

/*
 * A range of addresses [start, end), page-aligned.  CRAK_CKPT_A_SKIP is an
 * array of them in ascending order, none overlapping the next (at most as
 * many as one attribute holds).
 */
struct crak_ckpt_range {
	__u64	start;
	__u64	end;
};

/* A shared memory a RESTORE maps for the image's CRAK_VMA_SHANON of shmid. */
struct crak_ckpt_shmem {
	__u64	shmid;
	__u32	fd;		/* the caller's descriptor of it (SHMEM's, a memfd):
				 * tmpfs, open for reading and writing
				 */
	__u32	flags;		/* CRAK_CKPT_SHMEM_* */
};

/*
 * It holds its pages already (a memfd the process holds open, or SHMEM's
 * standing for a deleted file it holds open, made again with its data): the
 * image's are not written into it, and its mappings may reach past its end,
 * as they did.
 */
#define CRAK_CKPT_SHMEM_FILLED	_BITUL(0)

#define CRAK_CKPT_SHMEM_MAX	16	/* CRAK_CKPT_A_SHMEM per RESTORE */

/*
 * Whom SO_PEERCRED names for the caller's unix socket fd, set by RESTORE
 * (CRAK_CKPT_A_PEER): the process pid (as the caller's PID namespace
 * numbers it; 0: the one it names now) and the effective user and group
 * IDs uid and gid.
 */
struct crak_ckpt_peer {
	__u32	fd;
	__u32	pid;
	__u32	uid;
	__u32	gid;
};

enum {
	CRAK_CKPT_PART_TASK = 1,	/* SIGACTIONS, THREAD..., SIGNAL */
	CRAK_CKPT_PART_MEMORY,		/* MM, VMA..., PAGES..., END */
};

#endif /* _UAPI_LINUX_CRAK_CKPT_H */
