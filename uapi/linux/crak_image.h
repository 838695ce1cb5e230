/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * crak's process image: what `crak checkpoint` writes and `crak restart`
 * reads.  It is written front to back, so that it may go to a file, a pipe
 * or a socket, and read the same way.
 *
 * Layout.  All integers are little-endian.  An image is a sequence of
 * sections; each is
 *
 *	struct crak_image_section	type, flags, payload length, sequence
 *					number, and a check of these fields
 *	payload				len bytes (a multiple of 8)
 *	__le64				xxh64 (seed 0) of the payload
 *
 * The first section is CRAK_IMG_HEAD and the last CRAK_IMG_END; section n
 * carries seq n.  A reader refuses an image whose head it does not know (its
 * magic, major version, architecture or page size), a section whose header
 * check, sequence number, length or payload hash does not add up, a section
 * it does not know unless it is flagged CRAK_IMGF_OPTIONAL, and an image
 * that ends before CRAK_IMG_END.  Structs grow only at their end: a reader
 * takes the fields it knows from a longer one and zeros for those a shorter
 * one lacks (a payload's own size says which).
 *
 * Who writes what.  The crak tool writes what /proc and system calls tell
 * about a process (HEAD, PROC, FILE, ...); the crak_ckpt module writes what
 * only the kernel can read: the signal state and every thread's registers
 * (CRAK_CKPT_PART_TASK), then the memory (CRAK_CKPT_PART_MEMORY: MM, VMAs,
 * PAGES, END).  A restart reads in the same order: the tool rebuilds the
 * process up to its threads, then hands the descriptor to the module, which
 * reads the memory part to the end.
 *
 * The order of sections:
 *
 *	HEAD			struct crak_img_head
 *	AHEAD ...		struct crak_img_ahead + page data, when the
 *				memory went ahead (crak checkpoint --live)
 *	PROC			struct crak_img_proc + crak_img_creds
 *	RLIMITS			struct crak_img_rlimit[]
 *	FILE ...		struct crak_img_file + its data, one per descriptor
 *	SIGACTIONS		struct crak_img_sigaction[64]	(module)
 *	THREAD ...		struct crak_img_thread + data, leader first (module)
 *	SIGNAL			struct crak_img_signal + siginfo[] + cpu_itimers (module)
 *	TIMERS			struct crak_img_posix_timer[], when SIGNAL has
 *				nr_timers (module)
 *	MM			struct crak_img_mm		(module)
 *	VMA ...			struct crak_img_vma + path, by address (module)
 *	SKIP			struct crak_img_range[], when pages were left
 *				out (module)
 *	PAGES ...		struct crak_img_pages + page data (module)
 *	END			struct crak_img_end		(module)
 */

#ifndef _UAPI_LINUX_CRAK_IMAGE_H
#define _UAPI_LINUX_CRAK_IMAGE_H

#include <linux/const.h>
#include <linux/types.h>

#define CRAK_IMAGE_MAGIC	0x4d494b43	/* "CKIM" */
#define CRAK_IMAGE_VERSION	1		/* major: a reader refuses others */
/*
 * minor 1: CPU interval timers; 2: credentials; 3: CRAK_VMAF_DELETED;
 * 4: POSIX timers (TIMERS); 5: CRAK_FILE_OWNED; 6: SKIP; 7: CRAK_THREAD_SLEEP;
 * 8: CRAK_THREAD_SLEEP on poll and FUTEX_WAIT, CRAK_UNIX_OUTSIDE; 9: AHEAD;
 * 10: CRAK_FILE_SHMEM, CRAK_UNLINKED_MEMFD; 11: CRAK_UNLINKED_MAPPED;
 * 12: a mapping's advice (CRAK_VMAF_DONTFORK ... CRAK_VMAF_MERGEABLE);
 * 13: locked memory (CRAK_VMAF_LOCKED, CRAK_VMAF_LOCKONFAULT), MM's flags;
 * 14: CRAK_MM_MERGE_ANY; 15: an epoll a tree shares (CRAK_FILE_SHARED's data);
 * 16: CRAK_FILE_SHMEM's value[2]; 17: a unix listener's backlog (value[3]),
 * a unix socket's options (CRAK_FILE_SOCKOPTS); 18: its peer (CRAK_UNIX_OPT_PEER);
 * 19: datagrams' senders (CRAK_UNIX_SENDERS); 20: CRAK_UNIX_DGRAM_PEEKED;
 * 21: shmids of device and inode number (struct crak_img_vma)
 */
#define CRAK_IMAGE_MINOR	21

/* The largest payload of any section but PAGES, and of PAGES. */
#define CRAK_IMAGE_SECTION_MAX	0x100000U	/* 1 MiB */
#define CRAK_IMAGE_PAGES_MAX	0x400000U	/* 4 MiB */

struct crak_image_section {
	__le32	type;		/* CRAK_IMG_* */
	__le32	flags;		/* CRAK_IMGF_* */
	__le64	len;		/* payload bytes, a multiple of 8 */
	__le32	seq;		/* 0 for HEAD, then one more per section */
	__le32	check;		/* xxh32 (seed 0) of the 20 bytes above */
};

#define CRAK_IMGF_OPTIONAL	_BITUL(0)	/* a reader may skip it */

enum {
	CRAK_IMG_UNSPEC,
	CRAK_IMG_HEAD,
	CRAK_IMG_PROC,
	CRAK_IMG_RLIMITS,
	CRAK_IMG_FILE,
	CRAK_IMG_SIGACTIONS,
	CRAK_IMG_THREAD,
	CRAK_IMG_SIGNAL,
	CRAK_IMG_MM,
	CRAK_IMG_VMA,
	CRAK_IMG_PAGES,
	CRAK_IMG_END,
	CRAK_IMG_TIMERS,
	CRAK_IMG_POD,
	CRAK_IMG_HELD,
	CRAK_IMG_TREE,
	CRAK_IMG_SKIP,
	CRAK_IMG_TREE_HEAD,
	CRAK_IMG_AHEAD,
};

/* -- HEAD: the image and where it was taken ------------------------------ */

#define CRAK_IMG_ARCH_X86_64	1

struct crak_img_head {
	__le32	magic;		/* CRAK_IMAGE_MAGIC */
	__le16	version;	/* CRAK_IMAGE_VERSION */
	__le16	minor;		/* CRAK_IMAGE_MINOR: grows with optional additions */
	__le32	arch;		/* CRAK_IMG_ARCH_* */
	__le32	page_size;
	__le64	time_ns;	/* CLOCK_REALTIME at the checkpoint */
	__le64	xfeatures;	/* XSAVE features of the checkpointing CPU */
	char	release[65];	/* uname -r of the checkpointing kernel */
	char	node[65];	/* uname -n */
	__u8	pad[6];
};

/* -- PROC: the process ---------------------------------------------------- */

struct crak_img_proc {
	__le32	pid;		/* in the checkpointer's PID namespace */
	__le32	ppid;
	__le32	pgid;
	__le32	sid;
	__le32	nr_threads;	/* THREAD sections that follow */
	__le32	nr_files;	/* FILE sections that follow */
	__le32	uid[4];		/* real, effective, saved, filesystem */
	__le32	gid[4];
	__le32	umask;
	__le32	personality;
	__le64	vdso;		/* start of [vdso], 0 if none */
	__le64	vdso_len;
	__le64	vvar;		/* start of [vvar], 0 if none */
	__le64	vvar_len;
	char	comm[16];	/* the leader's */
	char	exe[4096];	/* /proc/PID/exe at the checkpoint */
	char	cwd[4096];
	char	root[4096];
};

/*
 * The process's credentials, after PROC's struct in images of minor 2 and
 * later (a reader takes an image without them as made by the user who
 * restarts it), and the payload of CRAK_CKPT_A_CREDS.  IDs are those of
 * the checkpointer's user namespace; capability sets are bit masks of
 * CAP_*.
 */
#define CRAK_IMG_GROUPS_MAX	64

#define CRAK_CREDS_NO_NEW_PRIVS	_BITUL(0)

struct crak_img_creds {
	__le32	uid[4];		/* real, effective, saved, filesystem */
	__le32	gid[4];
	__le32	flags;		/* CRAK_CREDS_* */
	__le32	nr_groups;	/* supplementary groups in groups[] */
	__le64	cap_inheritable;
	__le64	cap_permitted;
	__le64	cap_effective;
	__le64	cap_bounding;
	__le64	cap_ambient;
	__le32	groups[CRAK_IMG_GROUPS_MAX];
};

/* -- RLIMITS: RLIMIT_NLIMITS of these, in RLIMIT_* order ------------------- */

struct crak_img_rlimit {
	__le64	cur;		/* RLIM_INFINITY is ~0 */
	__le64	max;
};

/* -- FILE: one open descriptor -------------------------------------------- */

enum {
	CRAK_FILE_UNSPEC,
	CRAK_FILE_REG,		/* regular file or directory, by path */
	CRAK_FILE_UNLINKED,	/* regular file without a name: data follows */
	CRAK_FILE_DEV,		/* character device by path (/dev/null ...) */
	CRAK_FILE_TTY,		/* a terminal: the restarter's own */
	CRAK_FILE_PIPE,		/* pipe or FIFO end: data of its buffer follows */
	CRAK_FILE_UNIX,		/* unix socket: queued data follows */
	CRAK_FILE_EVENTFD,
	CRAK_FILE_EPOLL,	/* interest list follows */
	CRAK_FILE_SIGNALFD,
	CRAK_FILE_TIMERFD,
	CRAK_FILE_INET,		/* TCP or UDP socket: a crak_sock image follows */
	CRAK_FILE_STDIO,	/* 0, 1 or 2 leading out of the process: the
				 * restarter's own descriptor of that number
				 */
	CRAK_FILE_SHARED,	/* an open file held by more processes of a
				 * pod's tree (or the descriptor of a memory
				 * they share: SHMEM's value[2]), made by the
				 * tree's restart: value[0] indexes the tree's
				 * shared files, no path follows; no data
				 * but of an epoll (minor 15): the interests
				 * this process registers again once its
				 * descriptors are in place (struct
				 * crak_img_epoll_tfd, of its own descriptor
				 * numbers; the shared EPOLL has none)
				 */
	CRAK_FILE_PTY_MASTER,	/* a pseudo-terminal of the pod's own devpts,
				 * master side: struct crak_img_pty and its
				 * queued bytes follow
				 */
	CRAK_FILE_PTY_SLAVE,	/* its slave side: value[0] the index */
	CRAK_FILE_SHMEM,	/* among a tree's shared files only: memory
				 * its processes share through no name (shared
				 * anonymous memory across a fork, a memfd, a
				 * deleted file): value[0] the shmid of their
				 * CRAK_VMA_SHANON mappings of it, value[1] its
				 * size (as far as they reach); the path is its
				 * name; the data the PIDs (__le32) of those
				 * that map it; no process holds it open.
				 * value[2] (minor 16), if not 0: 1 + the index
				 * of an earlier shared file, a memfd or a
				 * deleted file (UNLINKED, with value[2] this
				 * value[0]) that processes hold open: this is
				 * its memory, made by the same process, of its
				 * data (the mappings' pages are not written)
				 */
};

struct crak_img_file {
	__le32	fd;
	__le32	type;		/* CRAK_FILE_* */
	__le32	flags;		/* open flags as F_GETFL reports them */
	__le32	fd_flags;	/* FD_CLOEXEC, CRAK_FILE_OWNED, CRAK_FILE_SOCKOPTS */
	__le64	pos;		/* file offset */
	__le64	id;		/* the open file's identity: equal ids share one
				 * open file (dup); pipe ends and unix socket
				 * peers name each other by it (peer)
				 */
	__le64	peer;
	__le32	mode;		/* st_mode */
	__le32	path_len;	/* bytes of path after this struct, with NUL */
	__le64	data_len;	/* bytes of data after the path */
	__le64	size;		/* st_size of a file by path, at the checkpoint */
	__le64	value[4];	/* by type: eventfd count; signalfd mask;
				 * timerfd clock, value, interval (ns), flags;
				 * unix: type, CRAK_UNIX_* flags
				 * (a timerfd's data: its expirations not yet
				 * read, a __le64, when there are any)
				 */
	/* then the path (a file's, a FIFO's, a unix socket's address),
	 * data_len bytes of data, padding to 8, with CRAK_FILE_OWNED a
	 * struct crak_img_fown, and with CRAK_FILE_SOCKOPTS a struct
	 * crak_img_unix_opts
	 */
};

/*
 * An open file with a signal owner or a signal of its own (F_SETOWN_EX,
 * F_SETSIG; minor 5): fd_flags has CRAK_FILE_OWNED, and struct
 * crak_img_fown follows the data.  A restart gives the file its owner and
 * signal, then O_ASYNC if flags has it, once the process's threads exist.
 */
#define CRAK_FILE_OWNED		_BITUL(31)

struct crak_img_fown {
	__le32	type;		/* F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP */
	__le32	pid;		/* in the process's PID namespace, 0 for none */
	__le32	signo;		/* 0: SIGIO */
	__le32	pad;
};

/*
 * A unix socket's options (minor 17): fd_flags has CRAK_FILE_SOCKOPTS, and
 * struct crak_img_unix_opts follows the data (after the struct
 * crak_img_fown, with CRAK_FILE_OWNED), 8-aligned from the section's
 * start.  A restart sets them once every descriptor is made (putting a
 * queue back raises a send buffer meanwhile); a buffer's size as the
 * restarting kernel's limits let it (SO_SNDBUFFORCE where it may).
 */
#define CRAK_FILE_SOCKOPTS	_BITUL(30)

struct crak_img_unix_opts {
	__le32	flags;		/* CRAK_UNIX_OPT_* */
	__le32	sndbuf;		/* SO_SNDBUF, as getsockopt(2) gives it */
	__le32	rcvbuf;		/* SO_RCVBUF, likewise */
	__le32	peek_off;	/* SO_PEEK_OFF, 0xffffffff: not set */
	__le64	rcvtimeo;	/* SO_RCVTIMEO in microseconds, 0: none */
	__le64	sndtimeo;	/* SO_SNDTIMEO, likewise */
	__le32	listen_pid;	/* of a listener: the process that made it
				 * listen (whose credentials SO_PEERCRED gives
				 * its clients), as the image names processes;
				 * in a tree, it listens again once restarted
				 * (0: none known)
				 */
	__le32	pad;
};

#define CRAK_UNIX_OPT_PASSCRED	_BITUL(0)	/* SO_PASSCRED */
#define CRAK_UNIX_OPT_PASSSEC	_BITUL(1)	/* SO_PASSSEC */
#define CRAK_UNIX_OPT_PEER	_BITUL(2)	/* struct crak_img_unix_peer follows
						 * (minor 18)
						 */

/*
 * Whom SO_PEERCRED named (CRAK_UNIX_OPT_PEER, after the options): the
 * process that made the pair, connected to it, or (of a connected socket
 * or a listener) made the listener listen, as the image names processes;
 * its effective user and group IDs then.  A restart has the sockets it
 * makes name them again, where it may (CRAK_CKPT_A_PEER).
 */
struct crak_img_unix_peer {
	__le32	pid;
	__le32	uid;
	__le32	gid;
	__le32	pad;
};

/*
 * CRAK_FILE_PTY_MASTER's data: the terminal's settings (as tcgetattr(3)
 * and TIOCGWINSZ report them on the master, which are the slave's; the
 * line speed is in cflag), the slave's owner and mode, and what waits in
 * it: to_master bytes the slave side wrote that the master has not read,
 * then to_slave bytes of input the slave has not read, as the keystrokes
 * that make it again (canonical: each line with its terminator, special
 * characters inside escaped with ^V, an end-of-file mark as the EOF
 * character, the line being typed last).
 */
#define CRAK_PTY_PACKET		_BITUL(0)	/* TIOCPKT mode */
#define CRAK_PTY_LOCKED		_BITUL(1)	/* TIOCSPTLCK: not unlocked */

struct crak_img_pty {
	__le32	index;		/* N of /dev/pts/N */
	__le32	flags;		/* CRAK_PTY_* */
	__le32	iflag;
	__le32	oflag;
	__le32	cflag;
	__le32	lflag;
	__le32	uid;		/* of /dev/pts/N */
	__le32	gid;
	__le32	mode;
	__u8	line;
	__u8	cc[32];		/* NCCS of glibc's termios */
	__u8	pad[3];
	__le16	rows;
	__le16	cols;
	__le16	xpixel;
	__le16	ypixel;
	__le64	to_master;
	__le64	to_slave;
};

/*
 * CRAK_FILE_UNLINKED: value[0].  A memfd (memfd_create(2), minor 10): made
 * again as one, of the path's name after "/memfd:", with value[1] its seals
 * (F_GET_SEALS); value[2] is the shmid of the process's
 * CRAK_VMA_SHANON mappings of it, which map it again (0 from minor 12 where
 * the process does not map it).  Another deleted file
 * open (for reading and writing from minor 11, any way from 12) that the
 * process maps shared too, by a mapping /proc/PID/maps shows deleted: made
 * again as shared memory (SHMEM) named the path without its leading '/' (as
 * the kernel names its own: the descriptor reads as it did; cut at
 * NAME_MAX), its mode as it was; value[2] is the shmid of
 * the process's CRAK_VMA_SHANON mappings of it, which map it: the
 * descriptor and the mappings one memory again.  Two descriptors of either
 * kind with one value[2] (two opens of one file) are two open files of one
 * memory.  Among a tree's shared files (minor 16), value[2] and
 * CRAK_UNLINKED_MAPPED are set where processes of the tree map the memory,
 * whether or not a holder does: the memory of a SHMEM (its value[2]).
 */
#define CRAK_UNLINKED_MEMFD	_BITUL(0)
#define CRAK_UNLINKED_MAPPED	_BITUL(1)

/*
 * CRAK_FILE_UNIX: value[0] the socket type, value[1] CRAK_UNIX_* flags,
 * value[2] the socket's own inode number, peer its peer's (0: connected to
 * none, a datagram socket only); the path is its address, if it has one.
 * Of a listener, value[3] (minor 17) is 1 + its listen(2) backlog (0: a
 * restart gives it 128); one with connections waiting to be accepted is
 * not taken.
 * Two sockets each other's peer are the ends of a pair (or connection);
 * a datagram socket whose peer is connected to none sends to it: a restart
 * connects it to that one's address again.
 * The data is what the socket will read: a stream's bytes as they are;
 * each datagram (or seqpacket message) as a 32-bit length, then (a
 * datagram socket's, with CRAK_UNIX_SENDERS) the 32-bit length of its
 * sender's address and that address, sun_path's bytes as recvfrom(2)
 * gives them (none: an unbound sender), padded to 4; then its bytes,
 * padded to 4.  The length of a datagram of no bytes that a peek had shown
 * the process is CRAK_UNIX_DGRAM_PEEKED (minor 20): a peek from a peek
 * offset (SO_PEEK_OFF) passes over it, and a restart marks it so again
 * (no more than CRAK_CKPT_PEEKED_MAX in a queue, as a checkpoint takes).
 */
#define CRAK_UNIX_LISTENING	_BITUL(0)
#define CRAK_UNIX_ABSTRACT	_BITUL(1)	/* the path is an abstract name, without
						 * its leading NUL (none inside)
						 */
/*
 * A datagram socket connected to a socket its process (tree, pod) does not
 * hold, which is bound to an address (syslog's /dev/log, say): the path is
 * that address (an abstract name with CRAK_UNIX_ABSTRACT), peer is 0, and a
 * restart connects a new socket to it (minor 8).  Such a socket, bound
 * itself or with datagrams queued for it, is not taken.
 */
#define CRAK_UNIX_OUTSIDE	_BITUL(2)
/*
 * Its datagrams name their senders (minor 19).  A restart sends each to a
 * socket bound to a name again from a socket bound to its sender's, where
 * it may (an abstract name; or a path it binds one of the process's
 * sockets to itself, whose bind then takes the socket file over) and no
 * running socket holds it, so that its reader can answer; else from none.
 */
#define CRAK_UNIX_SENDERS	_BITUL(3)

/* A datagram's length: of no bytes, and peeked (see CRAK_FILE_UNIX). */
#define CRAK_UNIX_DGRAM_PEEKED	0x80000000U

/*
 * An epoll interest: CRAK_FILE_EPOLL's data is an array of these, in the
 * order /proc/PID/fdinfo lists them; TFD is the descriptor number it was
 * registered as, where the file watched is at the checkpoint.
 */
struct crak_img_epoll_tfd {
	__le32	tfd;
	__le32	events;
	__le64	data;
};

/* -- SIGACTIONS: 64 of these, for signals 1 to 64 ------------------------- */

struct crak_img_sigaction {
	__le64	handler;	/* SIG_DFL 0, SIG_IGN 1, or an address */
	__le64	flags;		/* SA_* */
	__le64	restorer;
	__le64	mask;		/* signals blocked while it runs */
};

/* -- THREAD: one thread, its registers and its signal state --------------- */

struct crak_img_siginfo {
	__u8	bytes[128];	/* siginfo_t as rt_sigqueueinfo(2) takes it */
};

struct crak_img_thread {
	__le32	tid;
	__le32	flags;		/* CRAK_THREAD_* */
	__le32	regs_len;	/* bytes of struct user_regs_struct (ptrace) */
	__le32	xstate_len;	/* bytes of XSAVE area in NT_X86_XSTATE's format */
	__le32	nr_pending;	/* struct crak_img_siginfo, after xstate */
	__le32	rseq_len;
	__le64	blocked;	/* signal mask */
	__le64	sigaltstack_sp;
	__le64	sigaltstack_size;
	__le32	sigaltstack_flags;
	__le32	rseq_sig;
	__le64	rseq;		/* registered rseq area, 0 for none */
	__le64	clear_child_tid;
	__le64	robust_list;
	__le64	robust_list_len;
	char	comm[16];
	/* then regs_len bytes of registers, xstate_len bytes of xstate,
	 * nr_pending siginfos, with CRAK_THREAD_SLEEP a __le64 (see there),
	 * padding to 8
	 */
};

/*
 * The registers are those of the thread as it will resume: a system call it
 * was in when stopped is rewound to be made again (orig_ax is -1, ax the
 * call's number, ip back on the syscall instruction), as the kernel does for
 * a restartable call interrupted by a signal.
 */
#define CRAK_THREAD_LEADER	_BITUL(0)
#define CRAK_THREAD_RESTARTED	_BITUL(1)	/* a call was rewound */
/*
 * The call rewound is a relative wait (minor 7: nanosleep or
 * clock_nanosleep; minor 8: also poll(2) with a timeout and FUTEX_WAIT with
 * one): the __le64 after the siginfos is the nanoseconds it had left.  Made
 * again, it waits only that long: a restart gives poll that time in
 * milliseconds, rounded up, in its timeout register, and points the other
 * calls' timespec argument at a copy of that time under the stack's red
 * zone (where a signal frame could go too: with a signal to handle first,
 * such a call waits its whole length).  Without the flag such a call waits
 * its whole length again (a sleep on a CPU-time or alarm clock, and images
 * before minor 7, or before minor 8 for poll and FUTEX_WAIT).  A reader
 * before minor 8 refuses the flag on poll or FUTEX_WAIT.
 */
#define CRAK_THREAD_SLEEP	_BITUL(2)

/* -- SIGNAL: signals pending for the whole process ------------------------ */

struct crak_img_signal {
	__le32	nr_pending;	/* struct crak_img_siginfo that follow */
	__le32	nr_timers;	/* POSIX timers: a TIMERS section follows with
				 * as many, when not 0 (minor 4; 0 before)
				 */
	__le64	itimer_real_value;	/* ITIMER_REAL: ns left, 0 if unarmed */
	__le64	itimer_real_interval;	/* ns */
	/* then nr_pending siginfos, then (images of minor 1 and later)
	 * struct crak_img_cpu_itimers: a reader finds it when the section is
	 * long enough for it, and takes both timers as unarmed otherwise.
	 */
};

/*
 * ITIMER_VIRTUAL and ITIMER_PROF: CPU time (user, and user + system) left
 * before they fire, in ns of the process's CPU time, 0 if unarmed.
 */
struct crak_img_cpu_itimers {
	__le64	virt_value;
	__le64	virt_interval;
	__le64	prof_value;
	__le64	prof_interval;
};

/* -- TIMERS: the process's POSIX timers, by ID ------------------------------ */

/*
 * One timer_create(2) timer.  Its clock is one whose timers are hrtimers
 * (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI) or the
 * process's own CPU time, as the kernel keeps it and /proc/PID/timers shows
 * it: the 32-bit value (~PID << 3) | WHICH, PID 0 (CLOCK_PROCESS_CPUTIME_ID)
 * or the process's (clock_getcpuclockid(3)), WHICH 0 for user + system time,
 * 1 for user time, 2 for the scheduler's (CLOCK_PROCESS_CPUTIME_ID is
 * -6); a value left on such a clock is CPU time, counted again from the
 * restart, and its notify is not SIGEV_NONE.  notify is
 * sigev_notify (SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD as the kernel takes
 * it, or SIGEV_THREAD_ID to thread tid).  An armed timer's value is what
 * was left of it, as timer_gettime(2) told it: a restart arms it again
 * relative to then, whatever TIMER_ABSTIME it had.  A timer whose signal
 * was queued (CRAK_PTIMER_QUEUED; that signal is not among the pending
 * ones) has value 1: it fires at once and queues it again.
 */
struct crak_img_posix_timer {
	__le32	id;		/* timer_t, as timer_create(2) gave it */
	__le32	clock;		/* CLOCK_* */
	__le32	notify;		/* SIGEV_* */
	__le32	signo;
	__le64	sigval;		/* sigev_value */
	__le32	tid;		/* SIGEV_THREAD_ID: the thread */
	__le32	flags;		/* CRAK_PTIMER_* */
	__le64	value;		/* ns left, 0 if disarmed */
	__le64	interval;	/* ns */
};

#define CRAK_PTIMER_QUEUED	_BITUL(0)	/* its signal was pending */

/* -- MM: the memory's own fields ------------------------------------------ */

#define CRAK_IMG_AUXV_MAX	64	/* pairs of longs, AT_NULL-terminated */

struct crak_img_mm {
	__le32	nr_vmas;	/* VMA sections that follow */
	__le32	flags;		/* CRAK_MM_* (minor 13; 0 before) */
	__le64	start_code, end_code, start_data, end_data;
	__le64	start_brk, brk, start_stack;
	__le64	arg_start, arg_end, env_start, env_end;
	__le64	auxv[2 * CRAK_IMG_AUXV_MAX];
};

/*
 * What the process asked for all its memory: mlockall(MCL_FUTURE), locking
 * each mapping it makes from then on (and MCL_ONFAULT with it: as each page
 * comes); prctl(PR_SET_THP_DISABLE); prctl(PR_SET_MEMORY_MERGE) (Linux 6.4
 * on, with KSM: each mapping it makes from then on is CRAK_VMAF_MERGEABLE,
 * as those it had then; a kernel without it refuses the image).
 * (MCL_CURRENT locked the mappings there were: CRAK_VMAF_LOCKED.)
 */
#define CRAK_MM_LOCK_FUTURE	_BITUL(0)
#define CRAK_MM_LOCK_ONFAULT	_BITUL(1)	/* only with CRAK_MM_LOCK_FUTURE */
#define CRAK_MM_THP_DISABLE	_BITUL(2)
#define CRAK_MM_MERGE_ANY	_BITUL(3)	/* minor 14 */

/* -- VMA: one mapping ------------------------------------------------------ */

enum {
	CRAK_VMA_ANON,		/* private anonymous (heap, stack, malloc) */
	CRAK_VMA_SHANON,	/* shared anonymous: pages in the image */
	CRAK_VMA_FILE,		/* private file mapping: changed pages in the image */
	CRAK_VMA_SHFILE,	/* shared file mapping: the file holds its pages */
	CRAK_VMA_VDSO,		/* [vdso]: the restarting kernel's own */
	CRAK_VMA_VVAR,		/* [vvar]: likewise */
};

struct crak_img_vma {
	__le64	start;
	__le64	end;
	__le64	pgoff;		/* in pages, for file mappings */
	__le32	kind;		/* CRAK_VMA_* */
	__le32	prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	__le32	flags;		/* CRAK_VMAF_* */
	__le32	path_len;	/* bytes of path after this struct, with NUL */
	__le64	shmid;		/* CRAK_VMA_SHANON: equal ids, one memory
				 * (minor 21: its device, as stat(2)'s
				 * st_dev encodes it, << 32 | its inode
				 * number, where the number fits in 32
				 * bits, else the number alone; before,
				 * the number alone)
				 */
	__le64	file_size;	/* st_size of the mapped file at the checkpoint */
	/* then path (file mappings, CRAK_VMAF_DELETED), padding to 8 */
};

#define CRAK_VMAF_GROWSDOWN	_BITUL(0)	/* a stack */
#define CRAK_VMAF_MAYSHARE	_BITUL(1)	/* MAP_SHARED of a read-only file */
/*
 * CRAK_VMA_ANON that was a private mapping of a deleted file: every page
 * that had data is in the image, path is the file's last name (minor 3).
 */
#define CRAK_VMAF_DELETED	_BITUL(2)
/*
 * The advice madvise(2) gave a mapping (minor 12), given again at restart:
 * CRAK_VMA_ANON, CRAK_VMA_SHANON, CRAK_VMA_FILE and CRAK_VMA_SHFILE only;
 * WIPEONFORK on CRAK_VMA_ANON only (not CRAK_VMAF_DELETED), at most one of
 * HUGEPAGE and NOHUGEPAGE, and of SEQUENTIAL and RANDOM.  MERGEABLE is
 * given where the restarting kernel has KSM and takes the mapping.
 */
#define CRAK_VMAF_DONTFORK	_BITUL(3)	/* MADV_DONTFORK */
#define CRAK_VMAF_WIPEONFORK	_BITUL(4)	/* MADV_WIPEONFORK */
#define CRAK_VMAF_DONTDUMP	_BITUL(5)	/* MADV_DONTDUMP */
#define CRAK_VMAF_HUGEPAGE	_BITUL(6)	/* MADV_HUGEPAGE */
#define CRAK_VMAF_NOHUGEPAGE	_BITUL(7)	/* MADV_NOHUGEPAGE */
#define CRAK_VMAF_SEQUENTIAL	_BITUL(8)	/* MADV_SEQUENTIAL */
#define CRAK_VMAF_RANDOM	_BITUL(9)	/* MADV_RANDOM */
#define CRAK_VMAF_MERGEABLE	_BITUL(10)	/* MADV_MERGEABLE (KSM) */
/*
 * Locked memory (minor 13), any kind but CRAK_VMA_VDSO and CRAK_VMA_VVAR:
 * mlock(2) (or mlockall(MCL_CURRENT), or MCL_FUTURE when it was made), and
 * with LOCKONFAULT mlock2(MLOCK_ONFAULT) (or MCL_ONFAULT).  The restart
 * locks it again, every page in (on fault: the image's pages), within
 * the RLIMIT_MEMLOCK the image's process restarts with unless the
 * restarter has CAP_IPC_LOCK.
 */
#define CRAK_VMAF_LOCKED	_BITUL(11)
#define CRAK_VMAF_LOCKONFAULT	_BITUL(12)	/* only with CRAK_VMAF_LOCKED */

/* -- PAGES: a run of pages of one mapping --------------------------------- */

struct crak_img_pages {
	__le64	addr;		/* of the first page */
	__le64	nr_pages;	/* whose contents follow, in order */
};

/* -- END: what the image held ---------------------------------------------- */

/*
 * -- SKIP: pages a live migration sent ahead ---------------------------------
 * Ranges of addresses, ascending, each within one CRAK_VMA_ANON or
 * CRAK_VMA_FILE mapping, whose pages the image leaves out: the process's
 * memory there is what its restorer was sent before the checkpoint (while
 * the process ran) and which had not changed since.  A restore without
 * those pages at hand fails (crak_ckpt.h: CRAK_CKPT_A_FILL_FD).
 */
struct crak_img_range {
	__le64	start;
	__le64	end;
};

/*
 * -- AHEAD: pages written while the process ran ---------------------------
 * `crak checkpoint --live` writes the process's private pages while it runs
 * (after clearing its soft-dirty bits), in rounds while they shrink, then
 * stops it for the rest of the image: SKIP names the pages AHEAD holds and
 * the process has not written since.  A page may come in more than one
 * AHEAD; the last holds.  A restore fills SKIP's pages from them.  HEAD's
 * time is then when the checkpoint began.  A payload of at most
 * CRAK_IMAGE_PAGES_MAX bytes.
 */
struct crak_img_ahead {
	__le32	pid;		/* PROC's */
	__le32	nr_pages;	/* whose contents follow, in order */
	__le64	addr;		/* of the first page */
};

struct crak_img_end {
	__le32	sections;	/* sections before this one */
	__le32	pad;
	__le64	pages;		/* pages in all PAGES sections */
	__le64	bytes;		/* image bytes before this section */
};

/*
 * -- A pod's image ------------------------------------------------------------
 *
 * `crak checkpoint NAME` of a pod (`crak run`) writes a stream of the same
 * sections, numbered on their own, around the process images of the pod's
 * processes (every one but the pod's init, which crak provides):
 *
 *	POD		struct crak_img_pod + crak_img_pod_addr[n_addrs + n_gws]
 *	TREE		struct crak_img_tree + crak_img_tree_proc[nr_procs] +
 *			__le32 owner[nr_shared] (pod minor 1; before minor 2,
 *			a crak_img_tree_proc ends at exit_status)
 *	FILE ...	nr_shared of them: the open files that more than one
 *			process holds (or pipes whose ends they do), each
 *			made once, by its owner, and inherited
 *	(for each process of TREE that is not a zombie, in TREE's order: its
 *	 process image, HEAD to END, its sections numbered from 0)
 *	HELD ...	struct crak_img_held + frames: what the pod's crakvif
 *			held from its freeze to the end of the checkpoint
 *	END		struct crak_img_end (pages 0)
 *
 * (Pod minor 0 has no TREE: one process image, the pod's command.)
 *
 * `crak restart` of it makes the pod again (same name, MAC, addresses and
 * routes, on a lower device of the same name), restarts the processes with
 * their PIDs, parents, sessions, process groups and shared files, delivers
 * the held frames and announces the addresses.
 */
#define CRAK_POD_MAGIC		0x444f5043	/* "CPOD" */
#define CRAK_POD_VERSION	1
#define CRAK_POD_MINOR		2	/* 1: TREE; 2: its ctty, fg_pgid */

#define CRAK_POD_NAME_MAX	32
#define CRAK_POD_ADDRS_MAX	8

struct crak_img_pod_addr {
	__u8	family;		/* 4 or 6 */
	__u8	prefix;		/* a gateway's: 0 */
	__u8	pad[6];
	__u8	addr[16];	/* network order; IPv4 in the first four */
};

struct crak_img_pod {
	__le32	magic;		/* CRAK_POD_MAGIC */
	__le16	version;	/* CRAK_POD_VERSION */
	__le16	minor;
	char	name[40];	/* NUL-terminated, up to CRAK_POD_NAME_MAX */
	char	link[16];	/* the lower device, NUL-terminated */
	__u8	mac[6];		/* the crakvif's */
	__u8	n_addrs;	/* up to CRAK_POD_ADDRS_MAX */
	__u8	n_gws;		/* one per family at most */
	/* then the addresses, then the gateways */
};

/*
 * TREE: the pod's processes, parents before their children (the order in
 * which a restart makes them and reads their images), PIDs as the pod sees
 * them; the pod's init is PID 1 and not listed.  A process is a child of
 * its parent's, in the session and process group of its parent unless it
 * leads a session (sid == pid) or its group is led by itself or by a
 * process listed before it.  A zombie has no process image: it is made
 * and ends again with its exit status, for its parent to reap.
 */
#define CRAK_TREE_PROCS_MAX	256
#define CRAK_TREE_SHARED_MAX	4096
#define CRAK_TREE_FD_MAX	1048576

struct crak_img_tree {
	__le32	nr_procs;	/* 1 to CRAK_TREE_PROCS_MAX */
	__le32	nr_shared;	/* FILE sections after TREE */
	__le32	max_fd;		/* the highest descriptor of any process */
	__le32	pad;
	/* then crak_img_tree_proc[nr_procs], then __le32 owner[nr_shared]:
	 * the PID of the process that makes each shared file (1: the init),
	 * an ancestor of every process holding it
	 */
};

struct crak_img_tree_proc {
	__le32	pid;
	__le32	ppid;		/* 1: the pod's init */
	__le32	pgid;
	__le32	sid;
	__le32	flags;		/* CRAK_TREE_* */
	__le32	exit_status;	/* a zombie's, as wait(2) reports it */
	__le32	ctty;		/* a session leader's controlling terminal:
				 * 1 + the index of a pty of the pod, or 0
				 */
	__le32	fg_pgid;	/* ... and that terminal's foreground group */
};

#define CRAK_TREE_ZOMBIE	_BITUL(0)
#define CRAK_TREE_COMMAND	_BITUL(1)	/* the pod's command (PID 2): the pod
						 * ends when it does
						 */

/*
 * -- A tree's image -----------------------------------------------------------
 *
 * `crak checkpoint --tree PID`, of a process and every process under it
 * (not a pod's), writes a stream of the same sections as a pod's image but
 * for POD and HELD, numbered on their own, around the process images:
 *
 *	TREE_HEAD	struct crak_img_tree_head
 *	TREE		as in a pod's image of minor 2, the PIDs those of the
 *			checkpointer's PID namespace, the root's (the tree's
 *			CRAK_TREE_COMMAND) first; the root's ppid is 0, for it
 *			comes back a child of the restarter, and so does an
 *			owner of 0 (the restarter makes that shared file)
 *	FILE ...	the shared files, as in a pod's image
 *	(for each process of TREE that is not a zombie, in TREE's order: its
 *	 process image, HEAD to END, its sections numbered from 0)
 *	END		struct crak_img_end (pages 0)
 *
 * A session or process group of the root's that it does not lead is
 * written 0 in TREE (as a pod's init's is): the restarter's.
 * `crak restart` of it makes every process again with its PID as a child
 * of its parent, the root a child of crak restart, and waits for the root
 * as a shell would.
 */
#define CRAK_TREE_MAGIC		0x45525443	/* "CTRE" */
#define CRAK_TREE_VERSION	1
#define CRAK_TREE_MINOR		0

struct crak_img_tree_head {
	__le32	magic;		/* CRAK_TREE_MAGIC */
	__le16	version;	/* CRAK_TREE_VERSION */
	__le16	minor;
	__le32	root;		/* the root's PID, TREE's first */
	__le32	pad;
};

struct crak_img_held {
	__le32	nr_frames;	/* that follow, in the order they came */
	__le32	pad;
	/* then each: struct crak_img_frame, the frame, padding to 8 */
};

struct crak_img_frame {
	__le64	time_ns;	/* when it came, since the epoch */
	__le32	len;		/* bytes of the Ethernet frame */
	__le32	pad;
};

#endif /* _UAPI_LINUX_CRAK_IMAGE_H */
