// SPDX-License-Identifier: GPL-2.0
/*
 * A process's descriptors, taken and made again.
 *
 * Taking them reads /proc/PID/fd and /proc/PID/fdinfo, and looks at an open
 * file through a duplicate (pidfd_getfd) only to read what /proc does not
 * show: a pipe's buffered data, read with tee(2) so that the process keeps
 * it, and the contents of a file that has no name any more.  Descriptors
 * that share one open file (dup) are found with kcmp(2) and stay shared.
 *
 * Making them again happens in the new process before its memory comes
 * back: each open file is made, parked above every descriptor the image
 * uses, and moved to its number once all are made.  Standard descriptors
 * 0, 1 and 2 that led outside the process (a terminal, a pipe or socket to
 * another process) are the restarter's own, as a shell would give them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include "ckpt.h"

/* linux/timerfd.h's, which clashes with sys/timerfd.h. */
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS	_IOW('T', 0, uint64_t)
#endif

/* A memfd's path, before its name. */
#define MEMFD_PREFIX	"/memfd:"

/* (Linux 6.3: a memfd's executable bits, and a seal against them.) */
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC	0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL	0x0008U
#define MFD_EXEC	0x0010U
#endif

/*
 * The mode bits a file crak makes again keeps: not set-user-ID nor
 * set-group-ID, since it is the restarter's (often root's) and holds what
 * the image says.
 */
#define FILE_MODE_BITS	01777

/* Open flags worth giving a file again (not O_CREAT, O_TRUNC, ...). */
#define REOPEN_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | \
			 O_SYNC | O_DSYNC | O_LARGEFILE | O_DIRECTORY | O_PATH)

static const char *const file_type_names[] = {
	[CRAK_FILE_REG] = "file",
	[CRAK_FILE_UNLINKED] = "unlinked file",
	[CRAK_FILE_DEV] = "device",
	[CRAK_FILE_TTY] = "terminal",
	[CRAK_FILE_PIPE] = "pipe",
	[CRAK_FILE_UNIX] = "unix socket",
	[CRAK_FILE_EVENTFD] = "eventfd",
	[CRAK_FILE_EPOLL] = "epoll",
	[CRAK_FILE_SIGNALFD] = "signalfd",
	[CRAK_FILE_TIMERFD] = "timerfd",
	[CRAK_FILE_INET] = "inet socket",
	[CRAK_FILE_STDIO] = "standard descriptor",
	[CRAK_FILE_SHARED] = "shared",
	[CRAK_FILE_PTY_MASTER] = "pty master",
	[CRAK_FILE_PTY_SLAVE] = "pty slave",
	[CRAK_FILE_SHMEM] = "shared memory",
};

const char *file_type_name(uint32_t type)
{
	if (type < ARRAY_SIZE(file_type_names) && file_type_names[type])
		return file_type_names[type];
	return "unknown";
}

void file_to_stdio(struct rfile *rf)
{
	rf->f.type = htole32(CRAK_FILE_STDIO);
	free(rf->data);
	rf->data = NULL;
	rf->f.data_len = 0;
	free(rf->path);
	rf->path = NULL;
	rf->f.path_len = 0;
}

/* Entries FROM to TO of FILES's array, empty. */
static void files_clear(struct rfiles *files, unsigned int from, unsigned int to)
{
	unsigned int i;

	memset(files->v + from, 0, (to - from) * sizeof(*files->v));
	for (i = from; i < to; i++)
		files->v[i].sock = -1;
}

static void files_alloc(struct rfiles *files, unsigned int nr)
{
	files->v = xmalloc((nr ?: 1) * sizeof(*files->v));
	files_clear(files, 0, nr ?: 1);
	files->nr = 0;
	files->max_fd = -1;
}

void files_free(struct rfiles *files)
{
	unsigned int i;

	for (i = 0; i < files->nr; i++) {
		free(files->v[i].path);
		free(files->v[i].data);
		if (files->v[i].sock >= 0)
			close(files->v[i].sock);
	}
	free(files->v);
	free(files->sock_ids);
	memset(files, 0, sizeof(*files));
}

/* -- taking --------------------------------------------------------------- */

struct fdinfo {
	uint64_t pos;
	uint32_t flags;
	char *text;			/* the whole of it */
};

static int read_fdinfo(pid_t pid, int fd, struct fdinfo *fi)
{
	char path[64], *p;
	size_t size = 0, cap = 4096;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	fi->text = xmalloc(cap);
	while ((n = read(f, fi->text + size, cap - size - 1)) > 0) {
		size += n;
		if (size + 1 == cap) {
			cap *= 2;
			fi->text = xrealloc(fi->text, cap);
		}
	}
	close(f);
	fi->text[size] = 0;
	p = strstr(fi->text, "pos:");
	fi->pos = p ? strtoull(p + 4, NULL, 10) : 0;
	p = strstr(fi->text, "flags:");
	fi->flags = p ? strtoul(p + 6, NULL, 8) : 0;
	return 0;
}

/* The value after KEY in an fdinfo text. */
static bool fdinfo_u64(const char *text, const char *key, int base, uint64_t *v)
{
	const char *p = strstr(text, key);
	char *end;

	if (!p)
		return false;
	*v = strtoull(p + strlen(key), &end, base);
	return end != p + strlen(key);
}

static int getfd(int pidfd, int fd)
{
	return syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

/* All of a file's bytes, by pread through a duplicate. */
static int take_contents(struct rfile *rf, int dup, const struct stat *st)
{
	uint64_t len = st->st_size, done = 0;
	ssize_t n;

	if (len > FILE_DATA_MAX)
		return -EFBIG;
	rf->data = xmalloc(len);
	while (done < len) {
		n = pread(dup, (char *)rf->data + done, len - done, done);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += n;
	}
	rf->f.data_len = htole64(len);
	return 0;
}

/* What a pipe holds, without taking it from the process (tee). */
static int take_pipe_data(struct rfile *rf, int dup)
{
	int p[2], size;
	ssize_t n, got = 0;

	size = fcntl(dup, F_GETPIPE_SZ);
	if (size < 0)
		return -errno;
	rf->f.value[0] = htole64(size);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	if (fcntl(p[1], F_SETPIPE_SZ, size) < 0) {
		n = -errno;
		goto out;
	}
	n = tee(dup, p[1], size, SPLICE_F_NONBLOCK);
	if (n < 0) {
		n = errno == EAGAIN ? 0 : -errno;
		goto out;
	}
	rf->data = xmalloc(n ?: 1);
	while (got < n) {
		ssize_t r = read(p[0], (char *)rf->data + got, n - got);

		if (r <= 0) {
			n = r < 0 ? -errno : -EIO;
			goto out;
		}
		got += r;
	}
	rf->f.data_len = htole64(n);
	n = 0;
out:
	close(p[0]);
	close(p[1]);
	return n;
}

static int take_epoll(struct rfile *rf, const char *text)
{
	struct crak_img_epoll_tfd *t = NULL;
	unsigned int nr = 0;
	const char *p = text;
	int tfd;
	unsigned int events;
	unsigned long long data;

	while ((p = strstr(p, "tfd:"))) {
		if (sscanf(p, "tfd: %d events: %x data: %llx", &tfd, &events, &data) != 3)
			return -EINVAL;
		t = xrealloc(t, (nr + 1) * sizeof(*t));
		t[nr].tfd = htole32(tfd);
		t[nr].events = htole32(events);
		t[nr].data = htole64(data);
		nr++;
		p += 4;
	}
	rf->data = t;
	rf->f.data_len = htole64(nr * sizeof(*t));
	return 0;
}

/*
 * A timerfd: its clock, what is left of it, its interval and flags, and the
 * expirations not yet read (fdinfo's ticks), as 8 bytes of data if any.
 */
static int take_timerfd(struct rfile *rf, const char *text)
{
	unsigned long long vs, vn, is, in;
	uint64_t clock, flags, ticks;
	const char *p;

	if (!fdinfo_u64(text, "clockid:", 10, &clock) ||
	    !fdinfo_u64(text, "ticks:", 10, &ticks) ||
	    !fdinfo_u64(text, "settime flags:", 8, &flags))
		return -EINVAL;
	if (ticks) {
		rf->data = xmalloc(sizeof(ticks));
		*(uint64_t *)rf->data = htole64(ticks);
		rf->f.data_len = htole64(sizeof(ticks));
	}
	p = strstr(text, "it_value:");
	if (!p || sscanf(p, "it_value: (%llu, %llu)", &vs, &vn) != 2)
		return -EINVAL;
	p = strstr(text, "it_interval:");
	if (!p || sscanf(p, "it_interval: (%llu, %llu)", &is, &in) != 2)
		return -EINVAL;
	rf->f.value[0] = htole64(clock);
	rf->f.value[1] = htole64(vs * 1000000000ULL + vn);
	rf->f.value[2] = htole64(is * 1000000000ULL + in);
	rf->f.value[3] = htole64(flags);
	return 0;
}

#define DELETED		" (deleted)"
#define DELETED_LEN	(sizeof(DELETED) - 1)

/* LINE (of /proc/PID/maps, changed): a shared mapping of a deleted file, into M. */
bool map_deleted(char *line, struct map_deleted *m)
{
	unsigned long start, end, off;
	char perms[5], *path;
	size_t len;
	int name = 0;

	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &start, &end, perms, &off,
		   &m->dev_major, &m->dev_minor, &m->ino, &name) != 7 ||
	    !name || perms[3] != 's')
		return false;
	path = line + name;
	len = strlen(path);
	if (len <= DELETED_LEN + 1 || path[0] != '/' || strcmp(path + len - DELETED_LEN, DELETED))
		return false;
	path[len - DELETED_LEN] = '\0';
	/* (The kernel names its own tmpfs's files from the root: "/dev/zero".) */
	m->path = path;
	m->name = path + 1;
	if (strlen(m->name) > NAME_MAX)
		m->name[NAME_MAX] = '\0';
	m->size = off + (end - start);
	return true;
}

/*
 * Calls FN(M, ARG) for each shared mapping of a deleted file of process PID
 * until it returns true; whether one did.  (Its maps gone: false.)
 */
static bool maps_deleted_each(pid_t pid, bool (*fn)(const struct map_deleted *m, void *arg),
			      void *arg)
{
	char path[64], *line = NULL;
	struct map_deleted m;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0)
		found = map_deleted(line, &m) && fn(&m, arg);
	free(line);
	fclose(f);
	return found;
}

static bool map_is(const struct map_deleted *m, void *arg)
{
	const struct stat *st = arg;

	return m->ino == st->st_ino && makedev(m->dev_major, m->dev_minor) == st->st_dev;
}

/*
 * Whether process PID maps the deleted file of ST shared (its memory a
 * CRAK_VMA_SHANON, not a mapping through another name of the file).
 */
static bool maps_shared(pid_t pid, const struct stat *st)
{
	return maps_deleted_each(pid, map_is, (void *)st);
}

/*
 * Memory shared through no name that a process of a set maps or holds: its
 * device, inode and path.  (The kernel's tmpfs numbers a SysV segment by its
 * shmid, which another memory of it may have too: the path tells them apart.)
 */
struct shmem_key {
	dev_t dev;
	unsigned long ino;
	pid_t pid;			/* the first of the set to map or hold it */
	char path[NAME_MAX + 2];	/* "/dev/zero", "/memfd:NAME" (cut) */
};

static void shmem_key_add(struct shmem_key **keys, unsigned int *nr, dev_t dev,
			  unsigned long ino, pid_t pid, const char *path)
{
	struct shmem_key *k;
	unsigned int i;

	for (i = 0; i < *nr; i++)
		if ((*keys)[i].dev == dev && (*keys)[i].ino == ino &&
		    !strncmp((*keys)[i].path, path, sizeof(k->path) - 1))
			return;
	*keys = xrealloc(*keys, (*nr + 1) * sizeof(**keys));
	k = &(*keys)[(*nr)++];
	k->dev = dev;
	k->ino = ino;
	k->pid = pid;
	snprintf(k->path, sizeof(k->path), "%s", path);
}

static const struct shmem_key *shmem_key_find(const struct shmem_key *keys, unsigned int nr,
					      dev_t dev, unsigned long ino, const char *path)
{
	while (nr--)
		if (keys[nr].dev == dev && keys[nr].ino == ino &&
		    !strncmp(keys[nr].path, path, sizeof(keys[nr].path) - 1))
			return &keys[nr];
	return NULL;
}

/* The memories of a set, and where one of them was found outside it. */
struct shmem_keys {
	struct shmem_key *v;
	unsigned int nr;
	pid_t pid;			/* of the set, adding */
	const struct shmem_key *found;
};

static bool shmem_map_add(const struct map_deleted *m, void *arg)
{
	struct shmem_keys *ks = arg;

	shmem_key_add(&ks->v, &ks->nr, makedev(m->dev_major, m->dev_minor), m->ino, ks->pid,
		      m->path);
	return false;
}

static bool shmem_map_find(const struct map_deleted *m, void *arg)
{
	struct shmem_keys *ks = arg;

	ks->found = shmem_key_find(ks->v, ks->nr, makedev(m->dev_major, m->dev_minor), m->ino,
				   m->path);
	return ks->found;
}

/* Says that process PID outside SET maps or holds memory K of the set. */
static void shmem_refused(const struct shmem_key *k, const char *how, pid_t pid, const char *set)
{
	pr_err("checkpoint %d: its shared memory %s (deleted) is %s by process %d too%s%s: not taken yet",
	       k->pid, k->path, how, pid, set ? ", outside the " : "", set ?: "");
}

/*
 * Of the descriptors FILES[i] of PIDS[i] (NR processes), a unix socket,
 * eventfd, epoll or timerfd that process PID's descriptor FD (linking to
 * LINK) is too: its process into *HOLDER, NULL if none.  (kcmp failing:
 * none.)
 */
static const struct rfile *anon_of(pid_t pid, int fd, const char *link, const pid_t *pids,
				   const struct rfiles *const *files, unsigned int nr,
				   pid_t *holder)
{
	unsigned long ino = 0;
	unsigned int i, j;
	uint32_t type;

	if (sscanf(link, "socket:[%lu]", &ino) == 1)
		type = CRAK_FILE_UNIX;
	else if (!strcmp(link, "anon_inode:[eventfd]"))
		type = CRAK_FILE_EVENTFD;
	else if (!strcmp(link, "anon_inode:[eventpoll]"))
		type = CRAK_FILE_EPOLL;
	else if (!strcmp(link, "anon_inode:[timerfd]"))
		type = CRAK_FILE_TIMERFD;
	else
		return NULL;
	for (i = 0; i < nr; i++) {
		for (j = 0; files[i] && j < files[i]->nr; j++) {
			const struct rfile *rf = &files[i]->v[j];

			if (le32toh(rf->f.type) != type)
				continue;
			/* (A socket is one by its inode; eventfds share theirs.) */
			if (ino ? rf->ino == ino :
				  !syscall(SYS_kcmp, pid, pids[i], KCMP_FILE, fd, le32toh(rf->f.fd))) {
				*holder = pids[i];
				return rf;
			}
		}
	}
	return NULL;
}

static bool anon_any(const struct rfiles *const *files, unsigned int nr)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		for (j = 0; files[i] && j < files[i]->nr; j++) {
			switch (le32toh(files[i]->v[j].f.type)) {
			case CRAK_FILE_UNIX:
			case CRAK_FILE_EVENTFD:
			case CRAK_FILE_EPOLL:
			case CRAK_FILE_TIMERFD:
				return true;
			}
		}
	}
	return false;
}

/*
 * Whether process PID (outside the set of PIDS, FILES, NR, SET) holds a
 * descriptor of a memory of KS, or a unix socket, an open eventfd, epoll or
 * timerfd of the set (ANON): 0, or -1 after saying which.
 */
static int fds_outside(pid_t pid, struct shmem_keys *ks, bool anon, const pid_t *pids,
		       const struct rfiles *const *files, unsigned int nr, const char *set)
{
	char path[64], link[PATH_MAX];
	const struct rfile *rf = NULL;
	struct dirent *de;
	struct stat st;
	pid_t holder;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;	/* gone, or not ours to look into */
	ks->found = NULL;
	while (!ks->found && !rf && (de = readdir(d))) {
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (anon) {
			rf = anon_of(pid, atoi(de->d_name), link, pids, files, nr, &holder);
			if (rf)
				break;
		}
		if (!ks->nr || n <= (ssize_t)DELETED_LEN || link[0] != '/' ||
		    strcmp(link + n - DELETED_LEN, DELETED) ||
		    fstatat(dirfd(d), de->d_name, &st, 0))
			continue;
		link[n - DELETED_LEN] = '\0';
		ks->found = shmem_key_find(ks->v, ks->nr, st.st_dev, st.st_ino, link);
	}
	closedir(d);
	if (rf)
		pr_err("checkpoint %d: descriptor %u (%s) is held by process %d too%s%s: not taken yet",
		       holder, le32toh(rf->f.fd), file_type_name(le32toh(rf->f.type)), pid,
		       set ? ", outside the " : "", set ?: "");
	else if (ks->found)
		shmem_refused(ks->found, "held", pid, set);
	return rf || ks->found ? -1 : 0;
}

int files_held_outside(const pid_t *pids, const struct rfiles *const *files, unsigned int nr,
		       const char *set)
{
	struct shmem_keys ks = {};
	struct dirent *de;
	unsigned int i, j;
	bool anon;
	DIR *proc;
	pid_t pid;
	int ret = 0;

	for (i = 0; i < nr; i++) {
		if (!files[i])
			continue;	/* a zombie */
		ks.pid = pids[i];
		maps_deleted_each(pids[i], shmem_map_add, &ks);
		for (j = 0; j < files[i]->nr; j++) {
			const struct rfile *rf = &files[i]->v[j];

			if (rfile_memory_kind(rf) && rf->path)
				shmem_key_add(&ks.v, &ks.nr, rf->dev, rf->ino, pids[i], rf->path);
		}
	}
	anon = anon_any(files, nr);
	/* (Read while the set is stopped: only where it has what to look for.) */
	proc = ks.nr || anon ? opendir("/proc") : NULL;
	while (proc && !ret && (de = readdir(proc))) {
		pid = atoi(de->d_name);
		if (pid <= 0 || pid == getpid() || pid_in(pid, pids, nr))
			continue;
		if (ks.nr && maps_deleted_each(pid, shmem_map_find, &ks)) {
			shmem_refused(ks.found, "mapped", pid, set);
			ret = -1;
			break;
		}
		ret = fds_outside(pid, &ks, anon, pids, files, nr, set);
	}
	if (proc)
		closedir(proc);
	free(ks.v);
	return ret;
}

/* Descriptor FD of the process, which links to LINK: its type and data. */
static int take_one(pid_t pid, int pidfd, int fd, const char *link, struct rfile *rf,
		    dev_t pod_pts, const char **why)
{
	struct fdinfo fi = {};
	char path[64];
	struct statfs sfs;
	struct stat st;
	int dup = -1, err = 0;
	uint64_t v;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (stat(path, &st) || read_fdinfo(pid, fd, &fi)) {
		*why = strerror(errno);
		free(fi.text);
		return -1;
	}
	rf->f.fd = htole32(fd);
	rf->f.flags = htole32(fi.flags & ~O_CLOEXEC);
	rf->f.fd_flags = htole32(fi.flags & O_CLOEXEC ? FD_CLOEXEC : 0);
	rf->f.pos = htole64(fi.pos);
	rf->f.mode = htole32(st.st_mode);
	rf->f.size = htole64(st.st_size);
	rf->f.id = htole64(st.st_ino);
	rf->ino = st.st_ino;
	rf->dev = st.st_dev;

	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		size_t len = strlen(link);

		if (len > 10 && !strcmp(link + len - 10, " (deleted)")) {
			rf->f.type = htole32(CRAK_FILE_UNLINKED);
			rf->path = strndup(link, len - 10);
			dup = getfd(pidfd, fd);
			err = dup < 0 ? -errno : S_ISREG(st.st_mode) ? take_contents(rf, dup, &st) :
								       -EOPNOTSUPP;
			if (err == -EOPNOTSUPP)
				*why = "a deleted directory";
			/* (Of hugetlbfs, it is taken as a file: not a memfd again.) */
			if (!err && !strncmp(rf->path, MEMFD_PREFIX, strlen(MEMFD_PREFIX)) &&
			    !fstatfs(dup, &sfs) && sfs.f_type == TMPFS_MAGIC &&
			    (v = fcntl(dup, F_GET_SEALS)) != (uint64_t)-1) {
				rf->f.value[0] = htole64(CRAK_UNLINKED_MEMFD);
				rf->f.value[1] = htole64(v);
				/* (Its mappings' shmid, where it has any: of this file system.) */
				if (maps_shared(pid, &st))
					rf->f.value[2] = htole64(shmid_of(st.st_dev, st.st_ino));
			} else if (!err && !(fi.flags & O_PATH) && maps_shared(pid, &st)) {
				rf->f.value[0] = htole64(CRAK_UNLINKED_MAPPED);
				rf->f.value[2] = htole64(shmid_of(st.st_dev, st.st_ino));
			}
		} else if (link[0] == '/') {
			rf->f.type = htole32(CRAK_FILE_REG);
			rf->path = xstrdup(link);
		} else {
			*why = "a file without a path";
			err = -EOPNOTSUPP;
		}
	} else if (S_ISCHR(st.st_mode)) {
		dup = getfd(pidfd, fd);
		if (dup >= 0 && pod_pts && st.st_rdev == makedev(5, 0)) {
			/* /dev/tty, its session's terminal: opened again once it has it. */
			rf->f.type = htole32(CRAK_FILE_DEV);
			rf->path = xstrdup("/dev/tty");
		} else if (dup >= 0 && pod_pts && st.st_dev == pod_pts && isatty(dup)) {
			/* A terminal of the pod's own devpts. */
			err = pty_take(rf, dup, &st, why) ? -EOPNOTSUPP : 0;
			if (link[0] == '/')
				rf->path = xstrdup(link);
		} else if (dup >= 0 && isatty(dup)) {
			rf->f.type = htole32(fd <= 2 ? CRAK_FILE_STDIO : CRAK_FILE_TTY);
		} else if (link[0] == '/') {
			rf->f.type = htole32(CRAK_FILE_DEV);
			rf->path = xstrdup(link);
		} else {
			*why = "a device without a path";
			err = -EOPNOTSUPP;
		}
	} else if (S_ISFIFO(st.st_mode)) {
		rf->f.type = htole32(CRAK_FILE_PIPE);
		if (link[0] == '/')
			rf->path = xstrdup(link);	/* a FIFO */
		dup = getfd(pidfd, fd);
		if (dup < 0)
			err = -errno;
		else if ((fi.flags & O_ACCMODE) != O_WRONLY)
			err = take_pipe_data(rf, dup);	/* (a FIFO held O_RDWR too) */
		else
			rf->f.value[0] = htole64(fcntl(dup, F_GETPIPE_SZ));
	} else if (!strcmp(link, "anon_inode:[eventfd]")) {
		rf->f.type = htole32(CRAK_FILE_EVENTFD);
		if (!fdinfo_u64(fi.text, "eventfd-count:", 16, &v))
			err = -EINVAL;
		rf->f.value[0] = htole64(v);
		if (fdinfo_u64(fi.text, "eventfd-semaphore:", 10, &v))
			rf->f.value[1] = htole64(v);
	} else if (!strcmp(link, "anon_inode:[eventpoll]")) {
		rf->f.type = htole32(CRAK_FILE_EPOLL);
		err = take_epoll(rf, fi.text);
	} else if (!strcmp(link, "anon_inode:[signalfd]")) {
		rf->f.type = htole32(CRAK_FILE_SIGNALFD);
		if (!fdinfo_u64(fi.text, "sigmask:", 16, &v))
			err = -EINVAL;
		rf->f.value[0] = htole64(v);
	} else if (!strcmp(link, "anon_inode:[timerfd]")) {
		rf->f.type = htole32(CRAK_FILE_TIMERFD);
		err = take_timerfd(rf, fi.text);
	} else if (S_ISSOCK(st.st_mode)) {
		int domain = 0;
		socklen_t sl = sizeof(domain);

		dup = getfd(pidfd, fd);
		if (dup < 0 || getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &domain, &sl))
			err = -errno;
		else if (domain == AF_UNIX)
			err = unix_take(dup, st.st_ino, rf, why) ? -EOPNOTSUPP : 0;
		else if (domain == AF_INET || domain == AF_INET6) {
			/* Dumped later, through crak_sockmig (ckpt_inet.c). */
			rf->f.type = htole32(CRAK_FILE_INET);
			rf->sock = dup;
			dup = -1;
		} else if (fd <= 2) {
			rf->f.type = htole32(CRAK_FILE_STDIO);
		} else {
			*why = "a socket of a family crak does not take";
			err = -EOPNOTSUPP;
		}
	} else {
		*why = S_ISSOCK(st.st_mode) ? "sockets are not taken yet" : "a kind crak does not take";
		err = -EOPNOTSUPP;
	}
	if (err && !*why)
		*why = strerror(-err);
	if (dup >= 0)
		close(dup);
	free(fi.text);
	return err ? -1 : 0;
}

/*
 * The open file's signal owner and signal (F_SETOWN_EX, F_SETSIG), read on
 * a duplicate: they are the open file's, not the descriptor's.  The owner's
 * PID is as crak's PID namespace sees it, the process's own when crak runs
 * in it (a pod's checkpoint does).  ALONE: the owner must be the process,
 * one of its threads or its process group, which a restart makes again.
 */
static int take_owner(pid_t pid, int pidfd, int fd, struct rfile *rf, bool alone,
		      const char **why)
{
	struct f_owner_ex ow;
	char path[64];
	int dup, sig;

	dup = getfd(pidfd, fd);
	if (dup < 0 || fcntl(dup, F_GETOWN_EX, &ow) || (sig = fcntl(dup, F_GETSIG)) < 0) {
		*why = strerror(errno);
		if (dup >= 0)
			close(dup);
		return -1;
	}
	close(dup);
	if (!ow.pid && !sig)
		return 0;
	if (alone && ow.pid) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, ow.pid);
		if ((ow.type == F_OWNER_PID && ow.pid != pid) ||
		    (ow.type == F_OWNER_TID && access(path, F_OK)) ||
		    (ow.type == F_OWNER_PGRP && ow.pid != getpgid(pid))) {
			*why = "its signal owner (F_SETOWN) is another process";
			return -1;
		}
	}
	rf->f.fd_flags |= htole32(CRAK_FILE_OWNED);
	rf->fown.type = htole32(ow.type);
	rf->fown.pid = htole32(ow.pid);
	rf->fown.signo = htole32(sig);
	return 0;
}

static int fd_compare(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Equal ids for descriptors that share an open file (kcmp), per kind. */
static void share_ids(pid_t pid, struct rfiles *files)
{
	unsigned int i, j;

	for (i = 0; i < files->nr; i++) {
		struct rfile *a = &files->v[i];

		a->f.id = htole64((uint64_t)le32toh(a->f.fd) << 1 | 1);
		for (j = 0; j < i; j++) {
			struct rfile *b = &files->v[j];

			if (b->f.type == a->f.type && b->f.mode == a->f.mode &&
			    !syscall(SYS_kcmp, pid, pid, KCMP_FILE, le32toh(a->f.fd),
				     le32toh(b->f.fd))) {
				a->f.id = b->f.id;
				break;
			}
		}
	}
}

/*
 * An epoll's interest T[K] names a descriptor number, the one it was
 * registered as (EPOLL_CTL_ADD), and a restart registers it as that
 * number again: the file there must still be the one watched (closed, or
 * moved with dup2, it may be another or none).  Which of the interests
 * registered as one number K is (TOFF, for kcmp: the interests in the
 * order fdinfo lists them, which is kcmp's).
 */
static unsigned int epoll_toff(const struct crak_img_epoll_tfd *t, unsigned int k)
{
	unsigned int j, toff = 0;

	for (j = 0; j < k; j++)
		toff += t[j].tfd == t[k].tfd;
	return toff;
}

int epoll_watches_at(pid_t pid, int epfd, const struct crak_img_epoll_tfd *t, unsigned int k)
{
	struct kcmp_epoll_slot slot = {
		.efd = epfd,
		.tfd = le32toh(t[k].tfd),
		.toff = epoll_toff(t, k),
	};
	long r;

	r = syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, slot.tfd, (unsigned long)&slot);
	if (r < 0)
		return errno == EBADF ? 0 : -1;	/* EBADF: no descriptor of that number */
	return r == 0;
}

void epoll_kcmp_error(pid_t pid, unsigned int epfd)
{
	if (errno == ENOENT)
		pr_err("checkpoint %d: epoll descriptor %u's interests changed while it was stopped (a process not stopped holds it too): not taken",
		       pid, epfd);
	else
		pr_err("checkpoint %d: epoll descriptor %u's interests (kcmp): %s", pid, epfd,
		       strerror(errno));
}

int files_epoll_check(pid_t pid, const struct rfiles *files)
{
	unsigned int i, k, nr;
	int r;

	for (i = 0; i < files->nr; i++) {
		const struct rfile *rf = &files->v[i];
		const struct crak_img_epoll_tfd *t = rf->data;

		if (le32toh(rf->f.type) != CRAK_FILE_EPOLL)
			continue;
		nr = le64toh(rf->f.data_len) / sizeof(*t);
		for (k = 0; k < nr; k++) {
			r = epoll_watches_at(pid, le32toh(rf->f.fd), t, k);
			if (r == 1)
				continue;
			if (r < 0)
				epoll_kcmp_error(pid, le32toh(rf->f.fd));
			else
				pr_err("checkpoint %d: epoll descriptor %u watches a file that is not its descriptor %u (closed or moved since, or another process's): not taken yet",
				       pid, le32toh(rf->f.fd), le32toh(t[k].tfd));
			return -1;
		}
	}
	return 0;
}

/*
 * Pipes: the ends of one pipe name the same peer (its device and inode: a
 * FIFO's inode number can be a pipe's too).  A pipe whose
 * other end is in another process cannot be made again, but as a standard
 * descriptor it is the restarter's own, as a shell would connect it.  (Not
 * ALONE, in a tree, the other process may be of the tree: the tree sees.)
 */
static int pipe_peers(pid_t pid, struct rfiles *files, const ino_t *inodes, bool alone)
{
	unsigned int i, j;
	bool other;

	for (i = 0; i < files->nr; i++) {
		struct rfile *rf = &files->v[i];
		uint32_t mode = le32toh(rf->f.flags) & O_ACCMODE;

		if (le32toh(rf->f.type) != CRAK_FILE_PIPE)
			continue;
		rf->f.peer = htole64(shmid_of(rf->dev, inodes[i]));
		if (rf->path || mode == O_RDWR || !alone)
			continue;
		for (other = false, j = 0; j < files->nr && !other; j++)
			other = le32toh(files->v[j].f.type) == CRAK_FILE_PIPE &&
				inodes[j] == inodes[i] && files->v[j].dev == rf->dev &&
				(le32toh(files->v[j].f.flags) & O_ACCMODE) != mode;
		if (other)
			continue;
		if (le32toh(rf->f.fd) > 2) {
			pr_err("checkpoint %d: descriptor %u is a pipe to another process", pid,
			       le32toh(rf->f.fd));
			return -1;
		}
		file_to_stdio(rf);
	}
	return 0;
}

int files_collect(pid_t pid, int pidfd, struct rfiles *files, bool alone, dev_t pod_pts)
{
	char dir[64], path[96], link[PATH_MAX];
	int *fds = NULL, nr = 0, i;
	ino_t *inodes;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d) {
		pr_err("checkpoint %d: %s: %s", pid, dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		fds = xrealloc(fds, (nr + 1) * sizeof(*fds));
		fds[nr++] = atoi(de->d_name);
	}
	closedir(d);
	qsort(fds, nr, sizeof(*fds), fd_compare);

	files_alloc(files, nr);
	inodes = xmalloc((nr ?: 1) * sizeof(*inodes));
	files->max_fd = -1;
	for (i = 0; i < nr; i++) {
		struct rfile *rf = &files->v[files->nr];
		const char *why = NULL;
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%d", dir, fds[i]);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0) {
			if (errno == ENOENT)
				continue;	/* closed meanwhile by another process? */
			pr_err("checkpoint %d: %s: %s", pid, path, strerror(errno));
			goto fail;
		}
		link[n] = 0;
		files->nr++;
		if (take_one(pid, pidfd, fds[i], link, rf, pod_pts, &why) ||
		    take_owner(pid, pidfd, fds[i], rf, alone, &why)) {
			pr_err("checkpoint %d: descriptor %d (%s) cannot be taken: %s", pid, fds[i],
			       link, why ?: "unknown reason");
			goto fail;
		}
		inodes[files->nr - 1] = le64toh(rf->f.id);
		if (rf->path)
			rf->f.path_len = htole32(strlen(rf->path) + 1);
		files->max_fd = fds[i];
	}
	if (pipe_peers(pid, files, inodes, alone) || unix_check_peers(pid, files, alone) ||
	    (alone && files_epoll_check(pid, files)))
		goto fail;
	share_ids(pid, files);
	free(inodes);
	free(fds);
	return 0;
fail:
	free(inodes);
	free(fds);
	return -1;
}

int files_write(struct img *im, const struct rfiles *files)
{
	unsigned int i;

	for (i = 0; i < files->nr; i++) {
		const struct rfile *rf = &files->v[i];
		uint32_t plen = le32toh(rf->f.path_len), fd_flags = le32toh(rf->f.fd_flags);
		uint64_t dlen = le64toh(rf->f.data_len);
		size_t hlen = sizeof(rf->f) + plen, tlen = dlen;
		char *buf = xmalloc(hlen), *tail = rf->data;
		struct crak_img_file f = rf->f;
		int err;

		/*
		 * Options only of what is still a unix socket (not one made a
		 * standard descriptor, or a reference to a tree's shared one).
		 */
		if (le32toh(f.type) != CRAK_FILE_UNIX) {
			fd_flags &= ~CRAK_FILE_SOCKOPTS;
			f.fd_flags = htole32(fd_flags);
		}
		memcpy(buf, &f, sizeof(f));
		if (plen)
			memcpy(buf + sizeof(rf->f), rf->path, plen);
		/*
		 * The owner, then a socket's options, after the data, 8-aligned
		 * from the section's start.
		 */
		if (fd_flags & (CRAK_FILE_OWNED | CRAK_FILE_SOCKOPTS)) {
			tlen = files_fown_offset(plen, dlen) - hlen;
			tail = xmalloc(tlen + sizeof(rf->fown) + sizeof(rf->uopts) +
				       sizeof(rf->upeer));
			memset(tail, 0, tlen);
			if (dlen)
				memcpy(tail, rf->data, dlen);
			if (fd_flags & CRAK_FILE_OWNED) {
				memcpy(tail + tlen, &rf->fown, sizeof(rf->fown));
				tlen += sizeof(rf->fown);
			}
			if (fd_flags & CRAK_FILE_SOCKOPTS) {
				memcpy(tail + tlen, &rf->uopts, sizeof(rf->uopts));
				tlen += sizeof(rf->uopts);
			}
			if ((fd_flags & CRAK_FILE_SOCKOPTS) &&
			    (le32toh(rf->uopts.flags) & CRAK_UNIX_OPT_PEER)) {
				memcpy(tail + tlen, &rf->upeer, sizeof(rf->upeer));
				tlen += sizeof(rf->upeer);
			}
		}
		err = img_write_section2(im, CRAK_IMG_FILE, buf, hlen, tail, tlen);
		if (tail != rf->data)
			free(tail);
		free(buf);
		if (err)
			return -1;
	}
	return 0;
}

/* -- reading back --------------------------------------------------------- */

int files_fown(const void *section, uint64_t len, const struct crak_img_fown **fown)
{
	const struct crak_img_file *f = section;
	uint64_t dlen = le64toh(f->data_len), at;
	const struct crak_img_fown *o;
	uint32_t type;

	*fown = NULL;
	if (!(le32toh(f->fd_flags) & CRAK_FILE_OWNED))
		return 0;
	at = files_fown_offset(le32toh(f->path_len), dlen);
	if (dlen > len || at + sizeof(*o) > len)
		return -1;
	o = (const void *)((const char *)section + at);
	type = le32toh(o->type);
	if (le32toh(o->signo) > 64 || le32toh(o->pid) > INT_MAX ||
	    (type != F_OWNER_TID && type != F_OWNER_PID && type != F_OWNER_PGRP))
		return -1;
	*fown = o;
	return 0;
}

int files_sockopts(const void *section, uint64_t len, const struct crak_img_unix_opts **opts,
		   const struct crak_img_unix_peer **peer)
{
	const struct crak_img_file *f = section;
	uint64_t dlen = le64toh(f->data_len), at;
	const struct crak_img_unix_opts *o;
	const struct crak_img_unix_peer *p;
	uint32_t fd_flags = le32toh(f->fd_flags);

	*opts = NULL;
	*peer = NULL;
	if (!(fd_flags & CRAK_FILE_SOCKOPTS))
		return 0;
	at = files_fown_offset(le32toh(f->path_len), dlen);
	if (fd_flags & CRAK_FILE_OWNED)
		at += sizeof(struct crak_img_fown);
	if (le32toh(f->type) != CRAK_FILE_UNIX || dlen > len || at + sizeof(*o) > len)
		return -1;
	o = (const void *)((const char *)section + at);
	/* (As struct timeval's seconds can hold them, and SO_*BUF's int.) */
	if ((le32toh(o->flags) & ~(CRAK_UNIX_OPT_PASSCRED | CRAK_UNIX_OPT_PASSSEC |
				   CRAK_UNIX_OPT_PEER)) ||
	    le32toh(o->sndbuf) > INT_MAX || le32toh(o->rcvbuf) > INT_MAX ||
	    le64toh(o->rcvtimeo) > (uint64_t)INT_MAX * 1000000 ||
	    le64toh(o->sndtimeo) > (uint64_t)INT_MAX * 1000000)
		return -1;
	if (le32toh(o->flags) & CRAK_UNIX_OPT_PEER) {
		at += sizeof(*o);
		if (at + sizeof(*p) > len)
			return -1;
		p = (const void *)((const char *)section + at);
		/* (A process, as pid_t numbers them; IDs as setresuid(2) takes them.) */
		if (!le32toh(p->pid) || le32toh(p->pid) > INT_MAX ||
		    le32toh(p->uid) == UINT32_MAX || le32toh(p->gid) == UINT32_MAX || p->pad)
			return -1;
		*peer = p;
	}
	*opts = o;
	return 0;
}

int files_read(struct img *im, uint32_t nr, struct rfiles *files, bool ordered)
{
	const struct crak_img_unix_opts *opts;
	const struct crak_img_unix_peer *peer;
	const struct crak_img_fown *fown;
	uint32_t i, type, cap = nr < 64 ? nr : 64;
	uint64_t len, plen, dlen;
	char *buf;

	/*
	 * The array grows as the sections come: a count the image lies about
	 * (crakd reads images from the network) costs no more than the
	 * sections that are there.
	 */
	files_alloc(files, cap);
	for (i = 0; i < nr; i++) {
		struct rfile *rf;

		if (i == cap) {
			cap = nr - cap < cap ? nr : 2 * cap;
			files->v = xrealloc(files->v, cap * sizeof(*files->v));
			files_clear(files, i, cap);
		}
		rf = &files->v[i];
		type = CRAK_IMG_FILE;
		buf = img_read_section(im, &type, sizeof(rf->f), CRAK_IMAGE_SECTION_MAX, &len);
		if (!buf)
			return -1;
		files->nr++;
		memcpy(&rf->f, buf, sizeof(rf->f));
		plen = le32toh(rf->f.path_len);
		dlen = le64toh(rf->f.data_len);
		type = le32toh(rf->f.type);
		if (dlen > len || sizeof(rf->f) + plen + dlen > len ||
		    (plen && buf[sizeof(rf->f) + plen - 1]) ||
		    (plen < 2 && (type == CRAK_FILE_REG || type == CRAK_FILE_DEV ||
				  type == CRAK_FILE_UNLINKED)) ||
		    le32toh(rf->f.fd) > INT_MAX ||
		    (ordered && (int)le32toh(rf->f.fd) <= files->max_fd)) {
			pr_err("%s: descriptor section %u is malformed", im->name, i);
			free(buf);
			return -1;
		}
		if (files_fown(buf, len, &fown)) {
			pr_err("%s: descriptor section %u: its signal owner is malformed",
			       im->name, i);
			free(buf);
			return -1;
		}
		if (fown)
			memcpy(&rf->fown, fown, sizeof(*fown));
		if (files_sockopts(buf, len, &opts, &peer)) {
			pr_err("%s: descriptor section %u: its socket's options are malformed",
			       im->name, i);
			free(buf);
			return -1;
		}
		if (le32toh(rf->f.type) == CRAK_FILE_UNIX &&
		    (le64toh(rf->f.value[1]) & ~(uint64_t)CRAK_UNIX_KNOWN)) {
			pr_err("%s: descriptor section %u: its unix socket's flags are unknown",
			       im->name, i);
			free(buf);
			return -1;
		}
		if (opts)
			memcpy(&rf->uopts, opts, sizeof(*opts));
		if (peer)
			memcpy(&rf->upeer, peer, sizeof(*peer));
		if (plen)
			rf->path = xstrdup(buf + sizeof(rf->f));
		if (dlen) {
			rf->data = xmalloc(dlen);
			memcpy(rf->data, buf + sizeof(rf->f) + plen, dlen);
		}
		free(buf);
		if (!unix_queue_sound(rf)) {
			pr_err("%s: descriptor section %u: its unix socket's queue is malformed",
			       im->name, i);
			return -1;
		}
		if ((int)le32toh(rf->f.fd) > files->max_fd)
			files->max_fd = le32toh(rf->f.fd);
	}
	return 0;
}

/* -- making them again ---------------------------------------------------- */

int park_above(int fd, int base)
{
	int high;

	if (fd < 0)
		return -1;
	high = fcntl(fd, F_DUPFD_CLOEXEC, base);
	close(fd);
	return high;
}

/*
 * Why the last descriptor made failed, where errno would not say it well
 * (make_one() clears it, files_restore() prints it).
 */
static const char *made_why;

bool files_no_symlinks;

static int write_all_fd(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n <= 0)
			return -1;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

/* A new open file of FD's file, through /proc, with FLAGS (those worth giving again). */
static int reopen(int fd, uint32_t flags)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return open(proc, flags & REOPEN_FLAGS);
}

/*
 * PATH looked up (O_PATH, with EXTRA flags), through no symbolic link for
 * another user's process (a refused link said as LINK_WHY).
 */
static int look_up(const char *path, int extra, const char *link_why)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC | extra,
				.resolve = files_no_symlinks ? RESOLVE_NO_SYMLINKS : 0 };
	int fd;

	fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0 && errno == ELOOP && files_no_symlinks)
		made_why = link_why;
	return fd;
}

/*
 * RF's path opened again with FLAGS (those worth giving again), where it
 * leads to a file of RF's type (a FIFO's data is never written into a
 * regular file put in its place); for another user's process, through no
 * symbolic link: the names the kernel gives open files have none, so one
 * there now is a change since, and crak, often root, is not to follow it
 * where that user points it (a log handed over writable as another file).
 */
static int open_path(const struct rfile *rf, uint32_t flags)
{
	struct stat st;
	int fd, again;

	/*
	 * Looked at first (O_PATH), and opened only once it is of its kind:
	 * opening a FIFO that took a file's place would wait for a writer,
	 * and a device's open does what it does.
	 */
	fd = look_up(rf->path, S_ISDIR(le32toh(rf->f.mode)) ? O_DIRECTORY : 0,
		     "a symbolic link is on its path now");
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || ((st.st_mode ^ le32toh(rf->f.mode)) & S_IFMT)) {
		close(fd);
		made_why = "it is another kind of file now";
		errno = EINVAL;
		return -1;
	}
	if (flags & O_PATH)
		return fd;
	again = reopen(fd, flags);
	close(fd);
	return again;
}

/*
 * A memfd again: its name, data, executable bits and seals (added once its
 * data is in, all at once: F_SEAL_SEAL with the others), opened with RF's
 * flags.
 */
static int make_memfd(const struct rfile *rf)
{
	unsigned int seals = le64toh(rf->f.value[1]);
	const char *name = rf->path + strlen(MEMFD_PREFIX);
	unsigned int flags = MFD_CLOEXEC;
	int fd, again = -1;

	if (strncmp(rf->path, MEMFD_PREFIX, strlen(MEMFD_PREFIX))) {
		errno = EINVAL;
		return -1;
	}
	if (seals != F_SEAL_SEAL)
		flags |= MFD_ALLOW_SEALING;
	fd = memfd_create(name, flags | (seals & F_SEAL_EXEC ? MFD_NOEXEC_SEAL :
					 le32toh(rf->f.mode) & 0111 ? MFD_EXEC : 0));
	/* (Before 6.3 neither, nor that seal.) */
	if (fd < 0 && errno == EINVAL) {
		fd = memfd_create(name, flags);
		seals &= ~F_SEAL_EXEC;
	}
	if (fd < 0)
		return -1;
	if (!write_all_fd(fd, rf->data, le64toh(rf->f.data_len)) &&
	    (seals == F_SEAL_SEAL || !fcntl(fd, F_ADD_SEALS, seals)))
		again = reopen(fd, le32toh(rf->f.flags));
	close(fd);
	return again;
}

/* A shared memory of SIZE bytes named NAME, made by the kernel. */
static int new_shmem(const char *name, uint64_t size)
{
	struct nlmsghdr *nlh;
	struct nl nl;
	int fd = -1;

	if (nl_open(&nl, &ckpt_family))
		return -1;
	nlh = nl_request(&nl, CRAK_CKPT_CMD_SHMEM, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CRAK_CKPT_A_NAME, name);
	mnl_attr_put_u64(nlh, CRAK_CKPT_A_SIZE, size);
	if (nl_exec(&nl, "restart: a shared memory", ckpt_new_fd_cb, &fd))
		fd = -1;
	nl_close(&nl);
	return fd;
}

/*
 * A deleted file the process maps shared too: shared memory holding RF's
 * data and mode, named as the file was (from the root, as the kernel names
 * its own: the descriptor's link reads as it did), opened again with RF's
 * flags.
 * Its restore hands it to the mappings (unlinked_shmems()).
 */
static int make_mapped(const struct rfile *rf)
{
	uint64_t len = le64toh(rf->f.data_len);
	int fd, again = -1;
	char name[NAME_MAX + 1];

	if (!rf->path || rf->path[0] != '/' || !rf->path[1]) {
		errno = EINVAL;
		return -1;
	}
	snprintf(name, sizeof(name), "%s", rf->path + 1);
	fd = new_shmem(name, len ? len : 1);
	if (fd < 0)
		return -1;
	if (!ftruncate(fd, len) && !write_all_fd(fd, rf->data, len)) {
		again = reopen(fd, le32toh(rf->f.flags));
		/* (After: a file of mode 0400 held open for writing opens again.) */
		if (again >= 0 && fchmod(again, le32toh(rf->f.mode) & FILE_MODE_BITS)) {
			close(again);
			again = -1;
		}
	}
	close(fd);
	return again;
}

/*
 * A file without a name in DIR, holding RF's data, opened with RF's flags:
 * O_TMPFILE, or (where the file system has none, as 9p) a file made,
 * opened again with those flags, and unlinked at once.  DIR is reached
 * through no symbolic link (as open_path()); the file is the restarter's,
 * and so without set-user-ID and set-group-ID bits.
 */
static int make_unlinked(const struct rfile *rf)
{
	char *dir = xstrdup(rf->path), *slash = strrchr(dir, '/'), tmpl[64];
	int flags = le32toh(rf->f.flags) & REOPEN_FLAGS;
	mode_t mode = le32toh(rf->f.mode) & FILE_MODE_BITS;
	int dfd, fd, again = -1;

	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	dfd = look_up(dir, O_DIRECTORY, "a symbolic link is on its directory's path now");
	free(dir);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(tmpl, sizeof(tmpl), "/proc/self/fd/%d/.crak-unlinked-XXXXXX", dfd);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0) {
			fchmod(fd, mode);
			again = open(tmpl, flags);
			unlink(tmpl);
		}
	}
	close(dfd);
	if (fd < 0)
		return -1;
	if (write_all_fd(fd, rf->data, le64toh(rf->f.data_len))) {
		close(fd);
		if (again >= 0)
			close(again);
		return -1;
	}
	/* Now with the flags it had. */
	if (again < 0)
		again = reopen(fd, flags);
	close(fd);
	return again;
}

/*
 * D's data into the pipe or FIFO at FD, which must take it all at once: a
 * pipe smaller than its data (F_SETPIPE_SZ refused to the restarter) would
 * otherwise leave the restart waiting for ever.
 */
static int fill_pipe(int fd, const struct rfile *d)
{
	int fl = fcntl(fd, F_GETFL), err;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return -1;
	err = write_all_fd(fd, d->data, le64toh(d->f.data_len));
	if (err && errno == EAGAIN)
		made_why = "its data does not fit in the pipe made for it";
	if (fcntl(fd, F_SETFL, fl))
		err = -1;
	return err;
}

/* The data of the pipe or FIFO PEER: its read end carries it. */
static const struct rfile *pipe_data(const struct rfiles *files, uint64_t peer)
{
	unsigned int i;

	for (i = 0; i < files->nr; i++)
		if (le32toh(files->v[i].f.type) == CRAK_FILE_PIPE && files->v[i].f.peer == peer &&
		    files->v[i].data)
			return &files->v[i];
	return NULL;
}

/*
 * The pipe end or FIFO RF needs.  A pipe is made at its first end and its
 * other end parked in KEEP[idx] for the second; a FIFO is opened read-write
 * once (which never blocks) to hold it while its ends open and to put its
 * data back, and that descriptor is kept in KEEP[idx] too.
 */
static int make_pipe(const struct rfiles *files, unsigned int idx, int *keep, int base)
{
	const struct rfile *rf = &files->v[idx], *d = pipe_data(files, rf->f.peer);
	uint32_t flags = le32toh(rf->f.flags);
	bool read_end = (flags & O_ACCMODE) == O_RDONLY;
	unsigned int i;
	int p[2], fd;

	for (i = 0; i < idx; i++) {
		const struct rfile *o = &files->v[i];

		if (le32toh(o->f.type) != CRAK_FILE_PIPE || o->f.peer != rf->f.peer ||
		    keep[i] < 0)
			continue;
		if (rf->path)
			goto fifo;
		fd = keep[i];
		keep[i] = -1;
		return fd;
	}
	if (rf->path) {
		keep[idx] = park_above(open_path(rf, O_RDWR | O_NONBLOCK), base);
		if (keep[idx] < 0)
			return -1;
		i = idx;
		/* (As large as it was, where it holds more than a pipe's default.) */
		if (d && le64toh(d->f.value[0]) > 65536)
			fcntl(keep[idx], F_SETPIPE_SZ, (int)le64toh(d->f.value[0]));
		if (d && fill_pipe(keep[idx], d))
			return -1;
		goto fifo;
	}
	if (pipe2(p, O_CLOEXEC))
		return -1;
	if (rf->f.value[0])
		fcntl(p[1], F_SETPIPE_SZ, (int)le64toh(rf->f.value[0]));
	/* Each end with its own status flags (O_NONBLOCK, O_DIRECT). */
	for (i = 0; i < files->nr; i++) {
		const struct rfile *o = &files->v[i];

		if (le32toh(o->f.type) == CRAK_FILE_PIPE && o->f.peer == rf->f.peer)
			fcntl(p[(le32toh(o->f.flags) & O_ACCMODE) == O_RDONLY ? 0 : 1], F_SETFL,
			      le32toh(o->f.flags) & (O_NONBLOCK | O_DIRECT));
	}
	if (d && fill_pipe(p[1], d)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	keep[idx] = park_above(read_end ? p[1] : p[0], base);
	return park_above(read_end ? p[0] : p[1], base);
fifo:
	fd = open_path(rf, flags | O_NONBLOCK);
	if (fd >= 0 && !(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, flags & REOPEN_FLAGS & ~O_NONBLOCK);
	return park_above(fd, base);
}

static int make_timerfd(const struct rfile *rf)
{
	uint64_t value = le64toh(rf->f.value[1]), ival = le64toh(rf->f.value[2]), ticks;
	struct itimerspec its = {
		.it_value = { value / 1000000000, value % 1000000000 },
		.it_interval = { ival / 1000000000, ival % 1000000000 },
	};
	int fd;

	fd = timerfd_create(le64toh(rf->f.value[0]),
			    le32toh(rf->f.flags) & (TFD_NONBLOCK | TFD_CLOEXEC));
	/* What was left of it, from now: an absolute timer is relative now. */
	if (fd >= 0 && (value || ival) && timerfd_settime(fd, 0, &its, NULL))
		goto fail;
	/* Then its unread expirations (a settime clears them). */
	if (fd >= 0 && le64toh(rf->f.data_len) == sizeof(ticks)) {
		memcpy(&ticks, rf->data, sizeof(ticks));
		ticks = le64toh(ticks);
		if (ioctl(fd, TFD_IOC_SET_TICKS, &ticks))
			goto fail;
	}
	return fd;

fail:
	close(fd);
	return -1;
}

/*
 * FD made blocking, as sockets and epolls are, then as the image's FLAGS
 * say: libraries such as libxcb read a socket they made non-blocking until
 * it says EAGAIN.  FD, or -1 (FD closed).
 */
static int nonblock_as(int fd, uint32_t flags)
{
	if (fd < 0 || !(flags & O_NONBLOCK))
		return fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Memory a tree's processes share, named as it was. */
static int make_shmem(const struct rfile *rf)
{
	if (!rf->path || !le64toh(rf->f.value[1])) {
		errno = EINVAL;
		return -1;
	}
	return new_shmem(rf->path, le64toh(rf->f.value[1]));
}

/*
 * An earlier descriptor of FILES, made (MADE), of the memfd or deleted file
 * mapped shared that FILES->v[I] is too (of its kind and shmid, from two
 * opens of it): its index, or I.
 */
static unsigned int same_memory(const struct rfiles *files, unsigned int i, const int *made)
{
	uint64_t kind = rfile_memory_kind(&files->v[i]), shmid = rfile_shmid(&files->v[i]);
	unsigned int j;

	if (!shmid)
		return i;
	for (j = 0; j < i; j++)
		if (rfile_memory_kind(&files->v[j]) == kind && rfile_shmid(&files->v[j]) == shmid &&
		    made[j] >= 0)
			return j;
	return i;
}

/* The open file FILES->v[I] again; TREE: of a tree's shared files. */
static int make_one(struct rfiles *files, unsigned int i, int *made, int *keep,
		    const int *stdio, int base, bool tree)
{
	const struct rfile *rf = &files->v[i];
	uint32_t id;
	uint32_t flags = le32toh(rf->f.flags);
	uint64_t how;
	sigset_t mask;
	unsigned int j;
	int fd;

	made_why = NULL;
	/*
	 * A descriptor sharing an open file with an earlier one: dup.  (Not a
	 * standard descriptor: each is the restarter's of its number, whatever
	 * the three shared, as a terminal's do.)
	 */
	for (j = 0; j < i && le32toh(rf->f.type) != CRAK_FILE_STDIO; j++)
		if (files->v[j].f.id == rf->f.id)
			return fcntl(made[j], F_DUPFD_CLOEXEC, base);

	switch (le32toh(rf->f.type)) {
	case CRAK_FILE_REG:
	case CRAK_FILE_DEV:
		fd = open_path(rf, flags);
		if (fd >= 0 && le32toh(rf->f.type) == CRAK_FILE_REG &&
		    !S_ISDIR(le32toh(rf->f.mode)) &&
		    lseek(fd, le64toh(rf->f.pos), SEEK_SET) < 0) {
			close(fd);
			fd = -1;
		}
		break;
	case CRAK_FILE_UNLINKED:
		how = le64toh(rf->f.value[0]);
		/* (Where its mode lets no second open, as the caller: a file apart.) */
		j = same_memory(files, i, made);
		fd = j < i ? reopen(made[j], flags) : -1;
		if (fd < 0)
			fd = how & CRAK_UNLINKED_MEMFD ? make_memfd(rf) :
			     how & CRAK_UNLINKED_MAPPED ? make_mapped(rf) : make_unlinked(rf);
		if (fd >= 0 && lseek(fd, le64toh(rf->f.pos), SEEK_SET) < 0) {
			close(fd);
			fd = -1;
		}
		break;
	case CRAK_FILE_STDIO:
		fd = le32toh(rf->f.fd) <= 2 ? fcntl(stdio[le32toh(rf->f.fd)], F_DUPFD_CLOEXEC, base) : -1;
		break;
	case CRAK_FILE_TTY:
		for (j = 0; j < 3 && !isatty(stdio[j]); j++)
			;
		if (j == 3) {
			errno = ENOTTY;
			return -1;
		}
		fd = fcntl(stdio[j], F_DUPFD_CLOEXEC, base);
		break;
	case CRAK_FILE_PIPE:
		return make_pipe(files, i, keep, base);
	case CRAK_FILE_UNIX:
		return nonblock_as(unix_make(files, i, keep, base), flags);
	case CRAK_FILE_INET:
		fd = nonblock_as(inet_make(rf, &id), flags);
		if (fd >= 0) {
			files->sock_ids = xrealloc(files->sock_ids, (files->nr_sock_ids + 1) *
						   sizeof(*files->sock_ids));
			files->sock_ids[files->nr_sock_ids++] = id;
		}
		break;
	case CRAK_FILE_EVENTFD:
		fd = eventfd(0, (flags & (EFD_NONBLOCK | EFD_CLOEXEC)) |
				(rf->f.value[1] ? EFD_SEMAPHORE : 0));
		if (fd >= 0 && rf->f.value[0]) {
			uint64_t v = le64toh(rf->f.value[0]);

			if (write(fd, &v, sizeof(v)) != sizeof(v)) {
				close(fd);
				fd = -1;
			}
		}
		break;
	case CRAK_FILE_SIGNALFD:
		sigemptyset(&mask);
		for (j = 1; j <= 64; j++)
			if (le64toh(rf->f.value[0]) & (1ULL << (j - 1)))
				sigaddset(&mask, j);
		fd = signalfd(-1, &mask, flags & (SFD_NONBLOCK | SFD_CLOEXEC));
		break;
	case CRAK_FILE_TIMERFD:
		fd = make_timerfd(rf);
		break;
	case CRAK_FILE_EPOLL:
		fd = nonblock_as(epoll_create1(0), flags);
		break;
	case CRAK_FILE_PTY_MASTER:
		fd = pty_make_master(rf);
		break;
	case CRAK_FILE_PTY_SLAVE:
		fd = pty_open_slave(le64toh(rf->f.value[0]), flags & REOPEN_FLAGS);
		break;
	case CRAK_FILE_SHMEM:
		/* (A tree's shared files only: no process's descriptor.) */
		if (!tree) {
			errno = EINVAL;
			return -1;
		}
		/* The memory of a descriptor made before it, by the same process. */
		how = le64toh(rf->f.value[2]);
		if (how && (how > i || !rfile_memory_kind(&files->v[how - 1]) ||
			    rfile_shmid(&files->v[how - 1]) != le64toh(rf->f.value[0]) ||
			    made[how - 1] < 0)) {
			errno = EINVAL;
			return -1;
		}
		fd = how ? reopen(made[how - 1], O_RDWR) : -1;
		if (how && fd < 0)
			pr_err("restart: warning: the shared memory %s comes back apart from its descriptors: %s",
			       rf->path ?: "", strerror(errno));
		if (fd < 0)
			fd = make_shmem(rf);
		break;
	case CRAK_FILE_SHARED:
		j = le64toh(rf->f.value[0]);
		if (j >= files->nr_shared || files->shared[j] < 0) {
			errno = EBADF;
			return -1;
		}
		return fcntl(files->shared[j], F_DUPFD_CLOEXEC, base);
	default:
		errno = EOPNOTSUPP;
		return -1;
	}
	return park_above(fd, base);
}

/*
 * A tree's shared files that WHO makes (OWNER[i] == WHO), parked from BASE
 * up in MADE[i], which has room for 2 * SHARED->nr (the second half for
 * the other ends of pipes, closed once all are made).  0, or -1 after
 * saying why.
 */
int files_make_shared(struct rfiles *shared, const uint32_t *owner, uint32_t who, int *made,
		      const int *stdio, int base)
{
	unsigned int pass, i;

	/* Terminals' masters first: their slaves open after them. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < shared->nr; i++) {
			if (owner[i] != who ||
			    (le32toh(shared->v[i].f.type) == CRAK_FILE_PTY_MASTER) != !pass)
				continue;
			made[i] = make_one(shared, i, made, made + shared->nr, stdio, base, true);
			if (made[i] >= 0)
				continue;
			pr_err("restart: a shared %s%s%s: %s",
			       file_type_name(le32toh(shared->v[i].f.type)),
			       shared->v[i].path ? " " : "", shared->v[i].path ?: "",
			       made_why ?: strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < shared->nr; i++) {
		if (owner[i] == who && made[shared->nr + i] >= 0) {
			close(made[shared->nr + i]);
			made[shared->nr + i] = -1;
		}
	}
	/* A socket's options once all are made (their queues put back). */
	for (i = 0; i < shared->nr; i++) {
		if (owner[i] == who && unix_set_opts(made[i], &shared->v[i])) {
			pr_err("restart: a shared unix socket%s%s: its options: %s",
			       shared->v[i].path ? " " : "", shared->v[i].path ?: "",
			       strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * An epoll's interest list, once every descriptor is in place: its own, or
 * of one a tree shares, the interests this process adds (CRAK_FILE_SHARED
 * with data).
 */
static int fill_epoll(const struct rfile *rf)
{
	const struct crak_img_epoll_tfd *t = rf->data;
	unsigned int i, nr = le64toh(rf->f.data_len) / sizeof(*t);
	struct epoll_event ev;

	for (i = 0; i < nr; i++) {
		ev.events = le32toh(t[i].events);
		ev.data.u64 = le64toh(t[i].data);
		if (epoll_ctl(le32toh(rf->f.fd), EPOLL_CTL_ADD, le32toh(t[i].tfd), &ev))
			return -1;
	}
	return 0;
}

/*
 * In the new process: every descriptor of FILES at its number, and no
 * other below BASE, which the caller chose above them all (its own are
 * there).  STDIO holds the restarter's 0, 1 and 2, parked above BASE.
 */
int files_restore(struct rfiles *files, const int *stdio, int base)
{
	unsigned int pass, i, noted = unix_noted();
	int *made, fd, target;

	made = xmalloc(2 * (files->nr ?: 1) * sizeof(*made));
	for (i = 0; i < 2 * files->nr; i++)
		made[i] = -1;
	/* Terminals' masters first: their slaves open after them. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < files->nr; i++) {
			if ((le32toh(files->v[i].f.type) == CRAK_FILE_PTY_MASTER) != !pass)
				continue;
			made[i] = make_one(files, i, made, made + files->nr, stdio, base, false);
			if (made[i] >= 0)
				continue;
			pr_err("restart: descriptor %u (%s%s%s): %s", le32toh(files->v[i].f.fd),
			       file_type_name(le32toh(files->v[i].f.type)),
			       files->v[i].path ? " " : "", files->v[i].path ?: "",
			       made_why ?: strerror(errno));
			return -1;
		}
	}
	/* Everything below BASE goes, then each open file to its number. */
	for (fd = 0; fd < base; fd++)
		close(fd);
	for (i = 0; i < files->nr; i++) {
		target = le32toh(files->v[i].f.fd);
		if (dup3(made[i], target, le32toh(files->v[i].f.fd_flags) & FD_CLOEXEC ?
					  O_CLOEXEC : 0) < 0) {
			pr_err("restart: descriptor %d: %s", target, strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < 2 * files->nr; i++)
		if (made[i] >= 0)
			close(made[i]);
	free(made);
	unix_forget(noted);
	/* A socket's options once all are made (their queues put back). */
	for (i = 0; i < files->nr; i++) {
		if (unix_set_opts(le32toh(files->v[i].f.fd), &files->v[i])) {
			pr_err("restart: descriptor %u (unix socket): its options: %s",
			       le32toh(files->v[i].f.fd), strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < files->nr; i++) {
		const struct rfile *rf = &files->v[i];
		uint32_t type = le32toh(rf->f.type);
		unsigned int j;

		if (type != CRAK_FILE_EPOLL && (type != CRAK_FILE_SHARED || !rf->f.data_len))
			continue;
		/* (Once an open file: a duplicate descriptor has the same list.) */
		for (j = 0; j < i && files->v[j].f.id != rf->f.id; j++)
			;
		if (j == i && fill_epoll(rf)) {
			pr_err("restart: epoll descriptor %u: %s", le32toh(rf->f.fd),
			       strerror(errno));
			return -1;
		}
	}
	return 0;
}
