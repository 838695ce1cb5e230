// SPDX-License-Identifier: GPL-2.0
/*
 * crak checkpoint PID -o FILE|- [--leave-running] [--live]: a process to an
 * image.
 *
 * The kernel stops every thread (FREEZE: no signal, nothing the process or
 * its parent sees); crak writes what /proc and system calls tell (HEAD,
 * PROC, RLIMITS, a FILE per descriptor), the kernel what only it can read
 * (the task part: handlers, threads' registers and signals; the memory part:
 * mappings and pages), and then the process is killed or runs on.  Anything
 * failing before that lets the process run on as if nothing happened, and
 * leaves no image behind: a file is written under a temporary name and
 * renamed once complete.
 *
 * With --live, HEAD is written first, then the process's private pages while
 * it runs (AHEAD sections, precopy.c), and the checkpoint proper leaves out
 * (SKIP) what went ahead and was not written since.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ckpt.h"
#include "json.h"
#include "pod.h"
#include "precopy.h"

/* Bytes of memory written per DUMP step when a progress line is shown. */
#define PROGRESS_STEP	(64ULL << 20)


/* -- what /proc says ------------------------------------------------------ */

/* A whole /proc/PID file (it comes a page per read) into BUF, NUL-ended. */
static int read_proc_file(pid_t pid, const char *name, char *buf, size_t size)
{
	size_t len = 0;
	char path[64];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	if (n < 0 || len == size - 1)
		return -1;
	buf[len] = 0;
	return 0;
}

static int read_proc_link(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = readlink(path, buf, size - 1);
	if (n < 0 || (size_t)n == size - 1)
		return -1;
	buf[n] = 0;
	return 0;
}

/* The value after "KEY:" in /proc/PID/status, as up to four numbers. */
static int status_field(const char *status, const char *key, unsigned long *v, int n, int base)
{
	const char *p = status;
	size_t klen = strlen(key);
	char *end;
	int i;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			p += klen + 1;
			for (i = 0; i < n; i++) {
				v[i] = strtoul(p, &end, base);
				if (end == p)
					return -1;
				p = end;
			}
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/*
 * The credentials in /proc/PID/status: IDs, supplementary groups (at most
 * CRAK_IMG_GROUPS_MAX), capability sets, no_new_privs.  -1 with *WHY set
 * when they cannot be taken.
 */
static int take_creds(const char *status, struct crak_img_creds *cr, const char **why)
{
	static const char *const caps[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	__le64 *capv[] = { &cr->cap_inheritable, &cr->cap_permitted, &cr->cap_effective,
			   &cr->cap_bounding, &cr->cap_ambient };
	unsigned long ids[4], v;
	const char *p;
	unsigned int i;

	*why = "its credentials could not be read";
	if (status_field(status, "Uid", ids, 4, 10))
		return -1;
	for (i = 0; i < 4; i++)
		cr->uid[i] = htole32(ids[i]);
	if (status_field(status, "Gid", ids, 4, 10))
		return -1;
	for (i = 0; i < 4; i++)
		cr->gid[i] = htole32(ids[i]);
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		if (status_field(status, caps[i], &v, 1, 16))
			return -1;
		*capv[i] = htole64(v);
	}
	if (!status_field(status, "NoNewPrivs", &v, 1, 10) && v)
		cr->flags |= htole32(CRAK_CREDS_NO_NEW_PRIVS);
	p = strstr(status, "\nGroups:");
	if (!p)
		return -1;
	p += strlen("\nGroups:");
	for (;;) {
		char *end;

		p += strspn(p, " \t");
		if (*p == '\n' || !*p)
			break;
		v = strtoul(p, &end, 10);
		if (end == p)
			return -1;
		if (le32toh(cr->nr_groups) == CRAK_IMG_GROUPS_MAX) {
			*why = "it has more supplementary groups than an image holds (64)";
			return -1;
		}
		cr->groups[le32toh(cr->nr_groups)] = htole32(v);
		cr->nr_groups = htole32(le32toh(cr->nr_groups) + 1);
		p = end;
	}
	return 0;
}

/* Where the process has its [vdso] and [vvar] (/proc/PID/maps, line by line). */
static int find_vdso(pid_t pid, struct crak_img_proc *pr)
{
	unsigned long start, end;
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		if (strstr(line, " [vdso]")) {
			pr->vdso = htole64(start);
			pr->vdso_len = htole64(end - start);
		} else if (strstr(line, " [vvar]")) {
			pr->vvar = htole64(start);
			pr->vvar_len = htole64(end - start);
		}
	}
	free(line);
	fclose(f);
	return 0;
}

static int gather_proc(struct checkpoint *c)
{
	struct crak_img_proc *pr = &c->proc;
	const char *why;
	char *buf, *p;
	size_t size = 1 << 20;
	int ppid, pgid, sid;
	unsigned long v;

	buf = xmalloc(size);
	pr->pid = htole32(c->pid);
	if (read_proc_file(c->pid, "stat", buf, size) || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %*c %d %d %d", &ppid, &pgid, &sid) != 3)
		goto gone;
	pr->ppid = htole32(ppid);
	pr->pgid = htole32(pgid);
	pr->sid = htole32(sid);

	if (read_proc_file(c->pid, "status", buf, size))
		goto gone;
	if (take_creds(buf, &c->creds, &why)) {
		pr_err("checkpoint %d: %s", c->pid, why);
		free(buf);
		return -1;
	}
	memcpy(pr->uid, c->creds.uid, sizeof(pr->uid));
	memcpy(pr->gid, c->creds.gid, sizeof(pr->gid));
	if (status_field(buf, "Umask", &v, 1, 8))
		goto gone;
	pr->umask = htole32(v);
	if (status_field(buf, "Threads", &v, 1, 10))
		goto gone;
	c->nr_threads = v;
	pr->nr_threads = htole32(v);

	if (read_proc_file(c->pid, "personality", buf, size))
		goto gone;
	pr->personality = htole32(strtoul(buf, NULL, 16));
	if (read_proc_file(c->pid, "comm", buf, size))
		goto gone;
	buf[strcspn(buf, "\n")] = 0;
	strncpy(pr->comm, buf, sizeof(pr->comm) - 1);

	if (find_vdso(c->pid, pr))
		goto gone;
	if (read_proc_link(c->pid, "exe", pr->exe, sizeof(pr->exe)) ||
	    read_proc_link(c->pid, "cwd", pr->cwd, sizeof(pr->cwd)) ||
	    read_proc_link(c->pid, "root", pr->root, sizeof(pr->root)))
		goto gone;
	free(buf);
	return 0;
gone:
	free(buf);
	pr_err("checkpoint %d: reading /proc/%d failed: %s", c->pid, c->pid,
	       errno ? strerror(errno) : "unexpected contents");
	return -1;
}

static uint64_t xcr0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static int write_head(struct checkpoint *c)
{
	struct crak_img_head h = {
		.magic = htole32(CRAK_IMAGE_MAGIC),
		.version = htole16(CRAK_IMAGE_VERSION),
		.minor = htole16(CRAK_IMAGE_MINOR),
		.arch = htole32(CRAK_IMG_ARCH_X86_64),
		.page_size = htole32(sysconf(_SC_PAGESIZE)),
	};
	struct timespec ts;
	struct utsname u;

	clock_gettime(CLOCK_REALTIME, &ts);
	h.time_ns = htole64((uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	h.xfeatures = htole64(xcr0());
	uname(&u);
	snprintf(h.release, sizeof(h.release), "%s", u.release);
	snprintf(h.node, sizeof(h.node), "%s", u.nodename);
	return img_write_section(&c->im, CRAK_IMG_HEAD, &h, sizeof(h));
}

static int write_rlimits(struct checkpoint *c)
{
	struct crak_img_rlimit rl[RLIM_NLIMITS];
	struct rlimit r;
	int i;

	for (i = 0; i < RLIM_NLIMITS; i++) {
		if (prlimit(c->pid, i, NULL, &r)) {
			pr_err("checkpoint %d: reading its limits: %s", c->pid, strerror(errno));
			return -1;
		}
		rl[i].cur = htole64(r.rlim_cur);
		rl[i].max = htole64(r.rlim_max);
	}
	return img_write_section(&c->im, CRAK_IMG_RLIMITS, rl, sizeof(rl));
}

/* -- the kernel's part ---------------------------------------------------- */

static int freeze_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_CKPT_A_MAX + 1];
	struct checkpoint *c = data;

	if (ckpt_parse(nlh, tb) || !tb[CRAK_CKPT_A_SESSION_FD])
		return nl_malformed("crak_ckpt");
	c->sessfd = mnl_attr_get_u32(tb[CRAK_CKPT_A_SESSION_FD]);
	return MNL_CB_OK;
}

/*
 * A process whose memory a post-copy still fills (crakd's, after crak
 * migrate --live) is refused with EAGAIN until it is whole: waited for.
 */
#define FREEZE_FILLING_MS	60000
#define FREEZE_RETRY_MS		20

static int freeze(struct checkpoint *c)
{
	unsigned int waited = 0;
	struct nlmsghdr *nlh;
	char what[64];
	int ret;

	snprintf(what, sizeof(what), "checkpoint %d", c->pid);
	for (;;) {
		nlh = nl_request(&c->nl, CRAK_CKPT_CMD_FREEZE, NLM_F_ACK);
		mnl_attr_put_u32(nlh, CRAK_CKPT_A_PID, c->pid);
		mnl_attr_put_u32(nlh, CRAK_CKPT_A_MEM_FD, c->memfd);
		ret = nl_exec_allow2(&c->nl, what, freeze_cb, c, c->quiet_gone ? ESRCH : 0,
				     waited < FREEZE_FILLING_MS ? EAGAIN : 0);
		if (ret != 1 || c->nl.err != EAGAIN)
			return ret;
		usleep(FREEZE_RETRY_MS * 1000);
		waited += FREEZE_RETRY_MS;
	}
}

struct dump_reply {
	struct checkpoint *c;
	bool more;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_CKPT_A_MAX + 1];
	struct dump_reply *r = data;

	if (ckpt_parse(nlh, tb) || !tb[CRAK_CKPT_A_SEQ] || !tb[CRAK_CKPT_A_OFFSET])
		return nl_malformed("crak_ckpt");
	r->c->im.seq = mnl_attr_get_u32(tb[CRAK_CKPT_A_SEQ]);
	r->c->im.offset = mnl_attr_get_u64(tb[CRAK_CKPT_A_OFFSET]);
	if (tb[CRAK_CKPT_A_PAGES])
		r->c->pages = mnl_attr_get_u64(tb[CRAK_CKPT_A_PAGES]);
	r->more = !!tb[CRAK_CKPT_A_MORE];
	return MNL_CB_OK;
}

static int dump_part(struct checkpoint *c, uint32_t part)
{
	struct dump_reply r = { .c = c };
	struct nlmsghdr *nlh;
	char what[64];

	snprintf(what, sizeof(what), "checkpoint %d", c->pid);
	do {
		nlh = nl_request(&c->nl, CRAK_CKPT_CMD_DUMP, NLM_F_ACK);
		mnl_attr_put_u32(nlh, CRAK_CKPT_A_SESSION_FD, c->sessfd);
		mnl_attr_put_u32(nlh, CRAK_CKPT_A_IMAGE_FD, c->imgfd);
		mnl_attr_put_u32(nlh, CRAK_CKPT_A_PART, part);
		mnl_attr_put_u32(nlh, CRAK_CKPT_A_SEQ, c->im.seq);
		mnl_attr_put_u64(nlh, CRAK_CKPT_A_OFFSET, c->im.offset);
		if (c->progress)
			mnl_attr_put_u64(nlh, CRAK_CKPT_A_BUDGET, PROGRESS_STEP);
		/* With the first step: what need not be written. */
		if (part == CRAK_CKPT_PART_MEMORY && c->nr_skip) {
			mnl_attr_put(nlh, CRAK_CKPT_A_SKIP, c->nr_skip * sizeof(*c->skip), c->skip);
			c->nr_skip = 0;
		}
		if (nl_exec(&c->nl, what, dump_cb, &r))
			return -1;
		if (c->progress)
			fprintf(stderr, "\rcrak: checkpoint %d: %" PRIu64 " MiB written", c->pid,
				c->im.offset >> 20);
	} while (r.more);
	if (c->progress)
		fputc('\n', stderr);
	return 0;
}

static int release(struct checkpoint *c, bool kill)
{
	struct nlmsghdr *nlh;
	char what[64];

	nlh = nl_request(&c->nl, CRAK_CKPT_CMD_RELEASE, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_SESSION_FD, c->sessfd);
	if (kill)
		mnl_attr_put(nlh, CRAK_CKPT_A_KILL, 0, NULL);
	snprintf(what, sizeof(what), "checkpoint %d", c->pid);
	return nl_exec(&c->nl, what, NULL, NULL);
}

/* -- the command ---------------------------------------------------------- */

int ckpt_output_open(struct checkpoint *c)
{
	if (!strcmp(c->out, "-")) {
		if (isatty(STDOUT_FILENO))
			die("checkpoint: refusing to write an image to a terminal");
		c->imgfd = STDOUT_FILENO;
		c->im.name = "standard output";
		return 0;
	}
	if (asprintf(&c->tmp, "%s.partial", c->out) < 0)
		die("out of memory");
	c->imgfd = open(c->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (c->imgfd < 0) {
		pr_err("checkpoint: %s: %s", c->tmp, strerror(errno));
		free(c->tmp);
		c->tmp = NULL;
		return -1;
	}
	c->im.name = c->out;
	return 0;
}

int ckpt_output_finish(struct checkpoint *c)
{
	if (!c->tmp)
		return 0;
	if (fsync(c->imgfd) || rename(c->tmp, c->out)) {
		pr_err("checkpoint: %s: %s", c->out, strerror(errno));
		return -1;
	}
	free(c->tmp);
	c->tmp = NULL;
	c->renamed = true;
	return sync_dir(c->out);
}

void ckpt_output_drop(struct checkpoint *c)
{
	if (c->tmp) {
		unlink(c->tmp);
		free(c->tmp);
		c->tmp = NULL;
	}
}

static void report(struct checkpoint *c)
{
	FILE *out = c->imgfd == STDOUT_FILENO ? stderr : stdout;
	double stopped = c->t_released - c->t_frozen;
	struct json j;

	/* --live: the longest stop, the last or a round's. */
	if (c->pre.stopped > stopped)
		stopped = c->pre.stopped;
	if (!crak_opts.json) {
		fprintf(out, "checkpoint %d (%s): %u thread%s, %u file%s, %" PRIu64 " pages, "
			"%.1f MiB in %.3f s, stopped %.3f s; %s\n", c->pid, c->proc.comm,
			c->nr_threads, plural(c->nr_threads), c->nr_files, plural(c->nr_files),
			c->pages, c->im.offset / 1048576.0, c->t_released - c->t_start, stopped,
			c->leave_running ? "left running" : "killed");
		if (c->live)
			fprintf(out, "  %" PRIu64 " pages written ahead in %u round%s (%.3f s)\n",
				c->pre.pages, c->pre.rounds, plural(c->pre.rounds), c->pre.seconds);
		return;
	}
	json_init(&j, out, crak_opts.pretty);
	json_open_object(&j, NULL);
	json_uint(&j, "pid", c->pid);
	json_string(&j, "comm", c->proc.comm);
	json_uint(&j, "threads", c->nr_threads);
	json_uint(&j, "files", c->nr_files);
	json_uint(&j, "pages", c->pages);
	json_uint(&j, "bytes", c->im.offset);
	json_double(&j, "seconds", c->t_released - c->t_start);
	json_double(&j, "stopped_seconds", stopped);
	json_bool(&j, "left_running", c->leave_running);
	if (c->live) {
		json_uint(&j, "ahead_pages", c->pre.pages);
		json_uint(&j, "ahead_rounds", c->pre.rounds);
		json_double(&j, "ahead_seconds", c->pre.seconds);
	}
	json_close_object(&j);
}

/*
 * The steps of a checkpoint, which a pod's tree (ckpt_tree.c) takes for
 * each of its processes in turn: each returns 0, or -1 after saying why.
 */

/* Stops the process: from here on, ckpt_proc_end() lets it go again. */
int ckpt_proc_freeze(struct checkpoint *c)
{
	char path[64];
	int err;

	c->inet = inet_set_new();
	snprintf(path, sizeof(path), "/proc/%d/mem", c->pid);
	c->memfd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->memfd < 0) {
		/* ESRCH: it was reaped between the lookup of /proc/PID and the open. */
		bool gone = errno == ENOENT || errno == ESRCH;

		if (gone && c->quiet_gone)
			return 1;
		if (gone)
			pr_err("checkpoint: no process %d", c->pid);
		else
			pr_err("checkpoint %d: cannot look inside it (%s): it takes what ptrace would",
			       c->pid, strerror(errno));
		return -1;
	}
	c->pidfd = syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd < 0 && errno == ESRCH && c->quiet_gone)
		return 1;
	if (c->pidfd < 0) {
		pr_err("checkpoint %d: %s", c->pid, strerror(errno));
		return -1;
	}
	if (nl_open(&c->nl, &ckpt_family))
		return -1;
	c->t_start = now_seconds();
	err = freeze(c);
	if (err)
		return err;
	c->t_frozen = now_seconds();
	return 0;
}

/*
 * What crak writes of it, taken: /proc's and its descriptors.  ALONE: a
 * pipe to another process is an error (a standard descriptor leading out,
 * if 0 to 2); in a tree, the tree sorts those out.
 */
int ckpt_proc_collect(struct checkpoint *c, bool alone)
{
	if (gather_proc(c) || files_collect(c->pid, c->pidfd, &c->files, alone, c->pod_pts))
		return -1;
	return 0;
}

/*
 * Its TCP and UDP sockets, frozen and dumped: each open file once (a
 * descriptor duplicated from another takes that one's image at restart).
 * A socket whose duplicate (rf->sock) the caller closed is not taken here.
 */
int ckpt_proc_take_sockets(struct checkpoint *c)
{
	unsigned int i, j;
	int err;

	for (i = 0; i < c->files.nr; i++) {
		struct rfile *rf = &c->files.v[i];

		if (rf->sock < 0)
			continue;
		for (j = 0; j < i && c->files.v[j].f.id != rf->f.id; j++)
			;
		if (j < i) {
			close(rf->sock);
			rf->sock = -1;
			continue;
		}
		err = inet_freeze(c->inet, c->pid, rf, rf->sock);
		rf->sock = -1;
		if (err)
			return -1;
	}
	return inet_dump(c->inet, c->pid);
}

/* Its image, HEAD to END, to c->imgfd, numbered from c->im.seq. */
int ckpt_proc_write(struct checkpoint *c)
{
	c->im.fd = c->imgfd;
	c->nr_files = c->files.nr;
	c->proc.nr_files = htole32(c->nr_files);
	/* (--live: HEAD went first, before the pages that went ahead.) */
	if ((!c->live && write_head(c)) ||
	    img_write_section2(&c->im, CRAK_IMG_PROC, &c->proc, sizeof(c->proc), &c->creds,
			       sizeof(c->creds)) ||
	    write_rlimits(c) || files_write(&c->im, &c->files))
		return -1;
	/* Stopped: what crak migrate --live sent ahead and is unchanged since. */
	c->nr_skip = precopy_skip(c->pid, &c->skip);
	return dump_part(c, CRAK_CKPT_PART_TASK) || dump_part(c, CRAK_CKPT_PART_MEMORY);
}

/* Its sockets carry on (in repair mode, a read fails): before it runs on. */
int ckpt_proc_sockets_on(struct checkpoint *c)
{
	return inet_undo(c->inet);
}

/* Lets it go: killed (KILL), or running on (its sockets on already). */
int ckpt_proc_end(struct checkpoint *c, bool kill)
{
	if (c->sessfd < 0)
		return 0;
	if (release(c, kill))
		return -1;
	c->t_released = now_seconds();
	close(c->sessfd);
	c->sessfd = -1;
	return 0;
}

void ckpt_proc_free(struct checkpoint *c)
{
	inet_set_free(c->inet);
	c->inet = NULL;
	free(c->skip);
	c->skip = NULL;
	files_free(&c->files);
	if (c->sessfd >= 0)
		close(c->sessfd);
	c->sessfd = -1;
	nl_close(&c->nl);
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	if (c->memfd >= 0)
		close(c->memfd);
	c->memfd = -1;
}

/* After a failure: it runs on as if nothing happened; 0 if it does. */
int ckpt_proc_resume(struct checkpoint *c)
{
	inet_undo(c->inet);
	return c->sessfd >= 0 ? ckpt_proc_end(c, false) : -1;
}

/* Checkpoints c->pid into c->imgfd; 0, or -1 with the process running on. */
static int checkpoint_pid(struct checkpoint *c)
{
	const struct rfiles *files = &c->files;
	int ret = -1;

	if (ckpt_proc_freeze(c) < 0)
		goto out;
	if (ckpt_proc_collect(c, true) || inet_held_outside(&c->pid, &files, 1, NULL) ||
	    files_held_outside(&c->pid, &files, 1, NULL) || ckpt_proc_take_sockets(c) ||
	    ckpt_proc_write(c) || ckpt_output_finish(c))
		goto resume;
	/* Its sockets carry on before it does (in repair mode, a read fails). */
	if (c->leave_running && ckpt_proc_sockets_on(c))
		goto resume;
	if (ckpt_proc_end(c, !c->leave_running))
		goto resume;
	ret = 0;
	goto out;
resume:
	if (!ckpt_proc_resume(c)) {
		/* It runs on: no image of it is left. */
		if (c->renamed)
			unlink(c->out);
		pr_err("checkpoint %d: the process runs on", c->pid);
	}
out:
	ckpt_proc_free(c);
	return ret;
}

/*
 * --live: HEAD, then the process's memory as it runs (AHEAD); 0, or -1 after
 * saying why, the process running on.
 */
static int checkpoint_ahead(struct checkpoint *c)
{
	c->im.fd = c->imgfd;
	if (write_head(c) || precopy_write(c->pid, &c->im, &c->pre, c->progress)) {
		pr_err("checkpoint %d: the process runs on", c->pid);
		return -1;
	}
	return 0;
}

/* --tree's PID, in the place of PID or NAME. */
static const char *tree_pid(struct args *args, const char *pid_word)
{
	if (pid_word)
		die_usage("--tree PID takes the place of PID or NAME");
	return arg_value(args, "PID after --tree");
}

int cmd_checkpoint(struct args *args)
{
	struct checkpoint c = { .memfd = -1, .pidfd = -1, .imgfd = -1, .sessfd = -1 };
	bool seen_out = false, seen_leave = false, tree = false;
	const char *word, *pid_word = NULL;
	int ret = EXIT_FAILURE;
	double t0;

	raise_nofile();

	while ((word = arg_next(args))) {
		if (arg_keyword(word, "-o", &seen_out) || arg_keyword(word, "--output", &seen_out))
			c.out = arg_value(args, "image file after -o");
		else if (arg_keyword(word, "--leave-running", &seen_leave))
			c.leave_running = true;
		else if (arg_keyword(word, "--live", &c.live))
			;
		else if (arg_keyword(word, "--tree", &tree))
			pid_word = tree_pid(args, pid_word);
		else if (*word != '-' && !pid_word)
			pid_word = word;
		else
			arg_unexpected(word);
	}
	if (!pid_word)
		die_usage("missing PID or pod NAME");
	if (!c.out)
		die_usage("missing -o FILE (or -o - for standard output)");
	if (c.live && (tree || strspn(pid_word, "0123456789") != strlen(pid_word)))
		die_usage("--live takes one process's PID (a pod moves live with crak migrate --live)");
	if (!tree && strspn(pid_word, "0123456789") != strlen(pid_word))
		return pod_checkpoint(pid_word, c.out, NULL, c.leave_running);
	c.pid = parse_u32(pid_word, "PID", 1, INT32_MAX);
	if (tree)
		return tree_image_checkpoint(c.pid, c.out, c.leave_running);

	if (ckpt_output_open(&c))
		return EXIT_FAILURE;
	c.progress = isatty(STDERR_FILENO) && !crak_opts.json;
	t0 = now_seconds();
	if (c.live && checkpoint_ahead(&c)) {
		ckpt_output_drop(&c);
		return EXIT_FAILURE;
	}
	if (!checkpoint_pid(&c)) {
		if (c.live)
			c.t_start = t0;
		report(&c);
		ret = 0;
	}
	ckpt_output_drop(&c);
	return ret;
}
