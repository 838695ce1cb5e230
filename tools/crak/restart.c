// SPDX-License-Identifier: GPL-2.0
/*
 * crak restart FILE|- [--detach] [--pidfile F]: a process from its image.
 *
 * crak reads the sections it rebuilds itself (HEAD to SIGNAL), opens a
 * restore session, and makes the new process with the image's PID
 * (clone3 with set_tid).  The new process rebuilds itself (restart_child.c)
 * and hands the rest of the image, its memory, to the kernel.  crak waits
 * for the session's outcome, then for the process, like a shell waits for a
 * job (SIGINT and SIGQUIT from the terminal are the job's, not crak's), and
 * exits as it exits; with --detach it leaves it running.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "ckpt.h"
#include "pod.h"
#include "postcopy.h"
#include "precopy.h"
#include "restart.h"

/* -- reading -------------------------------------------------------------- */

static int read_head(struct restart *r)
{
	uint32_t type = CRAK_IMG_HEAD;
	struct crak_img_head *h;
	struct utsname u;
	uint64_t len;

	h = img_read_section(&r->im, &type, offsetof(struct crak_img_head, release),
			     CRAK_IMAGE_SECTION_MAX, &len);
	if (!h)
		return -1;
	memcpy(&r->head, h, len < sizeof(r->head) ? len : sizeof(r->head));
	free(h);
	if (le32toh(r->head.magic) != CRAK_IMAGE_MAGIC) {
		pr_err("%s: not a crak process image", r->im.name);
		return -1;
	}
	if (le16toh(r->head.version) != CRAK_IMAGE_VERSION) {
		pr_err("%s: image version %u; this crak reads version %u", r->im.name,
		       le16toh(r->head.version), CRAK_IMAGE_VERSION);
		return -1;
	}
	if (le32toh(r->head.arch) != CRAK_IMG_ARCH_X86_64 ||
	    le32toh(r->head.page_size) != (uint32_t)sysconf(_SC_PAGESIZE)) {
		pr_err("%s: the image is of another architecture", r->im.name);
		return -1;
	}
	r->head.release[sizeof(r->head.release) - 1] = 0;
	uname(&u);
	if (strcmp(r->head.release, u.release)) {
		pr_err("%s: the image was taken on kernel %s; this is %s (the process's vDSO "
		       "would not match)", r->im.name, r->head.release, u.release);
		return -1;
	}
	return 0;
}

/*
 * The pages crak checkpoint --live wrote while the process ran (AHEAD), kept
 * for the kernel to fill what SKIP leaves out (precopy_fill_for()).
 */
static int read_ahead(struct restart *r)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct crak_img_ahead *a;
	uint32_t type;
	uint64_t len;

	for (;;) {
		if (img_peek_type(&r->im, &type))
			return -1;
		/* (Only in a lone process's image: elsewhere PROC refuses it.) */
		if (type != CRAK_IMG_AHEAD || !r->lone)
			return 0;
		a = img_read_section(&r->im, &type, sizeof(*a) + ps,
				     sizeof(*a) + CRAK_IMAGE_PAGES_MAX, &len);
		if (!a)
			return -1;
		if (!img_ahead_ok(a, len, r->ahead_pid)) {
			pr_err("%s: section %u (AHEAD) is malformed", r->im.name, r->im.seq - 1);
			free(a);
			return -1;
		}
		r->ahead_pid = le32toh(a->pid);
		if (precopy_keep(r->ahead_pid, le64toh(a->addr), a + 1, le32toh(a->nr_pages),
				 r->im.name)) {
			free(a);
			return -1;
		}
		free(a);
	}
}

static int read_user_sections(struct restart *r)
{
	const struct crak_img_posix_timer *bad;
	uint32_t type, i, nr_pending, *tids;
	uint64_t len, need;
	void *p;

	if (read_head(r) || read_ahead(r))
		return -1;
	type = CRAK_IMG_PROC;
	p = img_read_section(&r->im, &type, sizeof(r->proc), CRAK_IMAGE_SECTION_MAX, &len);
	if (!p)
		return -1;
	memcpy(&r->proc, p, sizeof(r->proc));
	if (len >= sizeof(r->proc) + sizeof(r->creds)) {
		memcpy(&r->creds, (char *)p + sizeof(r->proc), sizeof(r->creds));
		r->have_creds = true;
	}
	free(p);
	r->proc.comm[sizeof(r->proc.comm) - 1] = 0;
	r->proc.exe[sizeof(r->proc.exe) - 1] = 0;
	r->proc.cwd[sizeof(r->proc.cwd) - 1] = 0;
	r->proc.root[sizeof(r->proc.root) - 1] = 0;
	r->nr_threads = le32toh(r->proc.nr_threads);
	if (!le32toh(r->proc.pid) || le32toh(r->proc.pid) > INT32_MAX || !r->nr_threads ||
	    r->nr_threads > 4096) {
		pr_err("%s: the image's process section is malformed", r->im.name);
		return -1;
	}
	if (r->ahead_pid && (uint32_t)r->ahead_pid != le32toh(r->proc.pid)) {
		pr_err("%s: the pages written ahead are another process's", r->im.name);
		return -1;
	}

	type = CRAK_IMG_RLIMITS;
	p = img_read_section(&r->im, &type, 0, CRAK_IMAGE_SECTION_MAX, &len);
	if (!p)
		return -1;
	memcpy(r->rlimits, p, len < sizeof(r->rlimits) ? len : sizeof(r->rlimits));
	r->nr_rlimits = len / sizeof(r->rlimits[0]);
	free(p);

	if (files_read(&r->im, le32toh(r->proc.nr_files), &r->files, true))
		return -1;

	type = CRAK_IMG_SIGACTIONS;
	p = img_read_section(&r->im, &type, sizeof(r->sigactions), CRAK_IMAGE_SECTION_MAX, &len);
	if (!p)
		return -1;
	memcpy(r->sigactions, p, sizeof(r->sigactions));
	free(p);

	r->threads = xmalloc(r->nr_threads * sizeof(*r->threads));
	memset(r->threads, 0, r->nr_threads * sizeof(*r->threads));
	for (i = 0; i < r->nr_threads; i++) {
		struct rthread *t = &r->threads[i];

		type = CRAK_IMG_THREAD;
		t->blob = img_read_section(&r->im, &type, sizeof(*t->hdr), CRAK_IMAGE_SECTION_MAX,
					   &len);
		if (!t->blob)
			return -1;
		t->len = len;
		t->hdr = t->blob;
		nr_pending = le32toh(t->hdr->nr_pending);
		need = sizeof(*t->hdr) + (uint64_t)le32toh(t->hdr->regs_len) +
		       le32toh(t->hdr->xstate_len) + (uint64_t)nr_pending * sizeof(*t->pending);
		if (need > len || !(le32toh(t->hdr->flags) & CRAK_THREAD_LEADER) != (i > 0)) {
			pr_err("%s: thread section %u is malformed", r->im.name, i);
			return -1;
		}
		t->pending = (const void *)((const char *)t->blob + need -
					    nr_pending * sizeof(*t->pending));
		t->nr_pending = nr_pending;
	}
	if (le32toh(r->threads[0].hdr->tid) != le32toh(r->proc.pid)) {
		pr_err("%s: the image's main thread is not its process", r->im.name);
		return -1;
	}

	type = CRAK_IMG_SIGNAL;
	r->signal = img_read_section(&r->im, &type, sizeof(*r->signal), CRAK_IMAGE_SECTION_MAX,
				     &len);
	if (!r->signal)
		return -1;
	nr_pending = le32toh(r->signal->nr_pending);
	need = sizeof(*r->signal) + (uint64_t)nr_pending * sizeof(struct crak_img_siginfo);
	if (need > len) {
		pr_err("%s: the signal section is malformed", r->im.name);
		return -1;
	}
	if (len >= need + sizeof(r->cpu_itimers))
		memcpy(&r->cpu_itimers, (const char *)r->signal + need, sizeof(r->cpu_itimers));

	r->nr_timers = le32toh(r->signal->nr_timers);
	if (!r->nr_timers)
		return 0;
	type = CRAK_IMG_TIMERS;
	r->timers = img_read_section(&r->im, &type, 0, CRAK_IMAGE_SECTION_MAX, &len);
	if (!r->timers)
		return -1;
	if (len < (uint64_t)r->nr_timers * sizeof(*r->timers)) {
		pr_err("%s: the image's POSIX timers are malformed", r->im.name);
		return -1;
	}
	tids = xmalloc(r->nr_threads * sizeof(*tids));
	for (i = 0; i < r->nr_threads; i++)
		tids[i] = le32toh(r->threads[i].hdr->tid);
	bad = img_check_timers(r->timers, r->nr_timers, tids, r->nr_threads);
	free(tids);
	if (bad) {
		pr_err("%s: the image's POSIX timer %u is malformed", r->im.name, le32toh(bad->id));
		return -1;
	}
	return 0;
}

/* -- the session ---------------------------------------------------------- */

static int session_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_CKPT_A_MAX + 1];

	if (ckpt_parse(nlh, tb) || !tb[CRAK_CKPT_A_SESSION_FD])
		return nl_malformed("crak_ckpt");
	*(int *)data = mnl_attr_get_u32(tb[CRAK_CKPT_A_SESSION_FD]);
	return MNL_CB_OK;
}

static int begin_session(struct restart *r)
{
	nl_request(&r->nl, CRAK_CKPT_CMD_RESTORE_BEGIN, NLM_F_ACK);
	return nl_exec(&r->nl, "restart", session_cb, &r->sessfd);
}

struct ready_reply {
	struct restart *r;
	bool ready;
	char msg[256];			/* why the session failed */
};

static int ready_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_CKPT_A_MAX + 1];
	struct ready_reply *rr = data;
	const struct nlattr *skip;
	uint16_t len;

	if (ckpt_parse(nlh, tb))
		return nl_malformed("crak_ckpt");
	rr->ready = !!tb[CRAK_CKPT_A_READY];
	/* Words for the error that follows. */
	if (tb[CRAK_CKPT_A_MESSAGE]) {
		snprintf(rr->msg, sizeof(rr->msg), "%s", mnl_attr_get_str(tb[CRAK_CKPT_A_MESSAGE]));
		rr->r->nl.reason = rr->msg;
	}
	/* What a lazy restore left missing, for the post-copy. */
	skip = tb[CRAK_CKPT_A_SKIP];
	if (skip) {
		len = mnl_attr_get_payload_len(skip);
		if (!len || len % sizeof(*rr->r->missing))
			return nl_malformed("crak_ckpt");
		free(rr->r->missing);
		rr->r->missing = xmalloc(len);
		memcpy(rr->r->missing, mnl_attr_get_payload(skip), len);
		rr->r->nr_missing = len / sizeof(*rr->r->missing);
	}
	return MNL_CB_OK;
}

/* 0 once the process is whole (held: *READY) or runs; 1 or -1 if it failed. */
static int wait_session(struct restart *r, pid_t pid, bool *ready)
{
	struct ready_reply rr = { .r = r };
	struct nlmsghdr *nlh;
	char what[64];
	int ret;

	nlh = nl_request(&r->nl, CRAK_CKPT_CMD_RESTORE_WAIT, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_SESSION_FD, r->sessfd);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_PID, pid);
	snprintf(what, sizeof(what), "restart %d", pid);
	/* The process ending before its restore said why itself. */
	ret = nl_exec_allow(&r->nl, what, ready_cb, &rr, ESRCH);
	*ready = rr.ready;
	return ret;
}

/*
 * Held whole, a process restored lazily has its missing pages registered
 * for the post-copy; 0, or -1 after saying why.
 */
static int lazy_register(struct restart *r, pid_t pid)
{
	uint64_t base;
	int store, ret = 0;

	if (!r->have_uffd)
		return 0;
	r->have_uffd = false;
	store = precopy_fill_for(pid, &base);
	if (!r->nr_missing) {
		close(r->uffd);
	} else if (store < 0) {
		/* (Cannot be: the kernel filled from the same store.) */
		pr_err("restart %d: its memory left missing has no pages sent ahead", pid);
		close(r->uffd);
		ret = -1;
	} else {
		ret = postcopy_add(r->uffd, pid, r->missing, r->nr_missing, store, base);
	}
	free(r->missing);
	r->missing = NULL;
	r->nr_missing = 0;
	return ret;
}

/* The TCP sockets the new process restored (frozen), as the child told them. */
static unsigned int read_sock_ids(struct restart *r, uint32_t **ids)
{
	size_t len = 0, cap = 0;
	ssize_t n;

	*ids = NULL;
	if (r->ids[0] < 0)
		return 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 64;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		n = read(r->ids[0], *ids + len, (cap - len) * sizeof(**ids));
		if (n <= 0)
			break;
		len += n / sizeof(**ids);
	}
	close(r->ids[0]);
	r->ids[0] = -1;
	return len;
}

void restart_thaw(struct restart *r)
{
	unsigned int i, n;
	uint32_t *ids;

	n = read_sock_ids(r, &ids);
	for (i = 0; i < n; i++)
		inet_thaw(ids[i]);
	free(ids);
}

/* The process is whole: its sockets carry on, then it runs. */
static int go(struct restart *r, pid_t pid)
{
	struct nlmsghdr *nlh;
	char what[64];

	restart_thaw(r);
	nlh = nl_request(&r->nl, CRAK_CKPT_CMD_RESTORE_GO, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_CKPT_A_SESSION_FD, r->sessfd);
	snprintf(what, sizeof(what), "restart %d", pid);
	return nl_exec(&r->nl, what, NULL, NULL);
}

/* -- the new process ------------------------------------------------------ */

pid_t clone_with_pid(pid_t pid)
{
	struct clone_args ca = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&pid,
		.set_tid_size = 1,
	};

	return syscall(SYS_clone3, &ca, sizeof(ca));
}

/* Who holds PID, for the message saying it is taken. */
void restart_report_taken(pid_t pid)
{
	char path[64], comm[64] = "", state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%*d (%63[^)]) %c", comm, &state) < 1)
			comm[0] = 0;
		fclose(f);
	}
	if (!comm[0])
		pr_err("restart: PID %d is taken (by a thread or a process of this namespace)", pid);
	else if (state == 'Z')
		pr_err("restart: PID %d is taken by '%s', a zombie its parent has not reaped yet",
		       pid, comm);
	else
		pr_err("restart: PID %d is taken by '%s' (PID %d)", pid, comm, pid);
}

int restart_write_pidfile(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%d\n", pid) < 0 || fclose(f)) {
		pr_err("restart: %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int restart_wait(pid_t pid)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, oint, oquit;
	int status;

	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_err("restart: waiting for %d: %s", pid, strerror(errno));
			return EXIT_FAILURE;
		}
	}
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int restart_prepare(struct restart *r)
{
	if (read_user_sections(r))
		return -1;
	if (nl_open(&r->nl, &ckpt_family) || begin_session(r))
		return -1;
	if (pipe2(r->ids, O_CLOEXEC)) {
		pr_err("restart: %s", strerror(errno));
		return -1;
	}
	return 0;
}

pid_t restart_begin(struct restart *r)
{
	sigset_t all, old;
	pid_t pid;

	if (restart_prepare(r))
		return -1;
	/* The new process starts with every signal blocked. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone_with_pid(le32toh(r->proc.pid));
	if (pid == 0)
		restart_child(r);	/* does not return */
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		if (errno == EEXIST)
			restart_report_taken(le32toh(r->proc.pid));
		else if (errno == EPERM)
			pr_err("restart: giving the process its PID %u needs CAP_CHECKPOINT_RESTORE",
			       le32toh(r->proc.pid));
		else
			pr_err("restart: %s", strerror(errno));
		return -1;
	}
	close(r->ids[1]);
	return pid;
}

/* A restart that failed once the process existed: it is gone. */
static int restart_failed(struct restart *r, pid_t pid)
{
	uint32_t *ids;

	if (read_sock_ids(r, &ids))
		pr_err("restart %d: its connections stay held for another restart", pid);
	free(ids);
	/* A child of ours still there (held, say) goes; another's is not ours to wait for. */
	if (!waitpid(pid, NULL, WNOHANG)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

int restart_whole(struct restart *r, pid_t pid)
{
	bool ready;

	if (wait_session(r, pid, &ready))
		return restart_failed(r, pid);
	/* crak_ckpt holds a process restored with CRAK_CKPT_A_HOLD once whole. */
	if (!ready) {
		pr_err("restart %d: the kernel let it run before it was told to", pid);
		kill(pid, SIGKILL);
		return restart_failed(r, pid);
	}
	if (lazy_register(r, pid)) {
		kill(pid, SIGKILL);
		return restart_failed(r, pid);
	}
	return 0;
}

int restart_go(struct restart *r, pid_t pid)
{
	if (go(r, pid)) {
		kill(pid, SIGKILL);
		return restart_failed(r, pid);
	}
	close(r->sessfd);
	nl_close(&r->nl);
	return 0;
}

int restart_finish(struct restart *r, pid_t pid)
{
	return restart_whole(r, pid) || restart_go(r, pid) ? -1 : 0;
}

int cmd_restart(struct args *args)
{
	struct restart r = { .im.fd = -1, .sessfd = -1, .lone = true };
	bool seen_detach = false, seen_pidfile = false;
	const char *word, *file = NULL, *pidfile = NULL;
	uint32_t type;
	pid_t pid;

	raise_nofile();

	while ((word = arg_next(args))) {
		if (arg_keyword(word, "--detach", &seen_detach))
			r.detach = true;
		else if (arg_keyword(word, "--pidfile", &seen_pidfile))
			pidfile = arg_value(args, "file after --pidfile");
		else if ((*word != '-' || !strcmp(word, "-")) && !file)
			file = word;
		else
			arg_unexpected(word);
	}
	if (!file)
		die_usage("missing image FILE (or - for standard input)");

	if (!strcmp(file, "-")) {
		r.im.fd = STDIN_FILENO;
		r.im.name = "standard input";
	} else {
		r.im.fd = open(file, O_RDONLY | O_CLOEXEC);
		if (r.im.fd < 0)
			die("restart: %s: %s", file, strerror(errno));
		r.im.name = file;
	}
	/* A pod's image starts with POD, a tree's with TREE_HEAD, a process's with HEAD. */
	if (img_peek_type(&r.im, &type))
		return EXIT_FAILURE;
	if (type == CRAK_IMG_POD)
		return pod_restart(&r.im, r.detach, pidfile, -1);
	if (type == CRAK_IMG_TREE_HEAD)
		return tree_image_restart(&r.im, r.detach, pidfile);

	pid = restart_begin(&r);
	if (pid < 0)
		return EXIT_FAILURE;
	/* The image is the new process's to read now. */
	if (r.im.fd != STDIN_FILENO)
		close(r.im.fd);
	if (restart_finish(&r, pid))
		return EXIT_FAILURE;
	/* Whole: what --live wrote ahead is its memory now, not a copy kept. */
	precopy_drop();
	if (pidfile && restart_write_pidfile(pidfile, pid))
		return EXIT_FAILURE;
	if (r.detach) {
		if (!crak_opts.json)
			printf("restarted %d (%s)\n", pid, r.proc.comm);
		else
			printf("{\"pid\":%d}\n", pid);
		return 0;
	}
	return restart_wait(pid);
}
