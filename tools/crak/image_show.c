// SPDX-License-Identifier: GPL-2.0
/*
 * crak image show FILE|- [-j]: what a process image holds, every section
 * read and checked (lengths, order, checksums) to the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ckpt.h"
#include "json.h"
#include "objects.h"
#include "pod.h"
#include "tree.h"
#include "vif.h"

struct show {
	struct img im;
	struct crak_img_head head;
	struct crak_img_proc proc;
	uint32_t nr_threads, nr_files, nr_vmas;
	uint32_t want_threads, want_files, want_vmas;
	uint32_t mm_flags;		/* CRAK_MM_* */
	uint32_t *tids;			/* of the threads, for the timers' checks */
	uint32_t want_timers;		/* SIGNAL's nr_timers */
	uint32_t timers_sec;		/* 1 when a TIMERS section follows SIGNAL */
	uint64_t pages, file_bytes;
	uint64_t skipped;		/* pages SKIP left out, in every process */
	uint32_t nr_ahead;		/* AHEAD sections (crak checkpoint --live) */
	uint64_t ahead_pages;		/* and their pages */
	uint32_t ahead_pid;
	bool skip_seen;			/* in this one */
	struct crak_img_vma *vmas;	/* for the pages' checks */
	uint64_t last_page;		/* the end of the last run of pages */
	struct json j;
	bool json;
	bool in_array;
	const struct tree_restart *tree;	/* a pod's, for its shared files */
};

/* Whether a section of TYPE may come now, in the order of crak_image.h. */
static bool in_order(const struct show *s, uint32_t type)
{
	/* Numbered as if no AHEAD section came after HEAD. */
	uint32_t seq = s->im.seq - s->nr_ahead;

	switch (type) {
	case CRAK_IMG_HEAD:
		return s->im.seq == 0;
	case CRAK_IMG_AHEAD:
		return !s->tree && seq == 1;
	case CRAK_IMG_PROC:
		return seq == 1;
	case CRAK_IMG_RLIMITS:
		return seq == 2;
	case CRAK_IMG_FILE:
		return seq >= 3 && s->nr_files < s->want_files;
	case CRAK_IMG_SIGACTIONS:
		return seq == 3 + s->want_files;
	case CRAK_IMG_THREAD:
		return seq >= 4 + s->want_files && s->nr_threads < s->want_threads;
	case CRAK_IMG_SIGNAL:
		return seq == 4 + s->want_files + s->want_threads;
	case CRAK_IMG_TIMERS:
		return s->timers_sec && seq == 5 + s->want_files + s->want_threads;
	case CRAK_IMG_MM:
		return seq == 5 + s->want_files + s->want_threads + s->timers_sec;
	case CRAK_IMG_VMA:
		return s->want_vmas && s->nr_vmas < s->want_vmas &&
		       seq == 6 + s->want_files + s->want_threads + s->timers_sec + s->nr_vmas;
	case CRAK_IMG_SKIP:
		return s->want_vmas && s->nr_vmas == s->want_vmas && !s->last_page &&
		       !s->skip_seen;
	case CRAK_IMG_PAGES:
	case CRAK_IMG_END:
		return s->want_vmas && s->nr_vmas == s->want_vmas;
	}
	return false;
}

static int bad(struct show *s, const char *what)
{
	pr_err("%s: %s (section %u)", s->im.name, what, s->im.seq - 1);
	return -1;
}

static int check_vma(struct show *s, const struct crak_img_vma *v, uint64_t len)
{
	uint64_t start = le64toh(v->start), end = le64toh(v->end);
	uint64_t page = sysconf(_SC_PAGESIZE);

	if (start >= end || start % page || end % page ||
	    (s->nr_vmas && start < le64toh(s->vmas[s->nr_vmas - 1].end)))
		return bad(s, "a mapping of the image is out of range or order");
	if (le32toh(v->kind) > CRAK_VMA_VVAR || sizeof(*v) + le32toh(v->path_len) > len)
		return bad(s, "a mapping of the image is malformed");
	s->vmas = xrealloc(s->vmas, (s->nr_vmas + 1) * sizeof(*v));
	s->vmas[s->nr_vmas] = *v;
	return 0;
}

/* The mapping [START, END) lies within, or NULL. */
static const struct crak_img_vma *vma_of(const struct show *s, uint64_t start, uint64_t end)
{
	uint32_t i;

	for (i = 0; i < s->nr_vmas; i++)
		if (start >= le64toh(s->vmas[i].start) && end <= le64toh(s->vmas[i].end))
			return &s->vmas[i];
	return NULL;
}

static int check_pages(struct show *s, const struct crak_img_pages *p, uint64_t len)
{
	uint64_t addr = le64toh(p->addr), nr = le64toh(p->nr_pages);
	uint64_t page = sysconf(_SC_PAGESIZE), end;
	const struct crak_img_vma *v;
	uint32_t kind;

	if (!nr || len != sizeof(*p) + nr * page || addr % page || addr < s->last_page)
		return bad(s, "a run of pages of the image is malformed");
	end = addr + nr * page;
	v = vma_of(s, addr, end);
	if (!v)
		return bad(s, "a run of pages lies outside the image's mappings");
	kind = le32toh(v->kind);
	if (kind != CRAK_VMA_ANON && kind != CRAK_VMA_FILE && kind != CRAK_VMA_SHANON)
		return bad(s, "the image has pages for a mapping that has none");
	s->last_page = end;
	return 0;
}

/* SKIP: ranges, ascending, each within one private mapping. */
static int check_skip(struct show *s, const struct crak_img_range *r, uint64_t len)
{
	uint64_t page = sysconf(_SC_PAGESIZE), start, end, last = 0;
	const struct crak_img_vma *v;
	size_t n;

	if (!len || len % sizeof(*r))
		return bad(s, "the image's SKIP section is malformed");
	for (n = 0; n < len / sizeof(*r); n++) {
		start = le64toh(r[n].start);
		end = le64toh(r[n].end);
		v = vma_of(s, start, end);
		if (start % page || end % page || start >= end || start < last || !v ||
		    (le32toh(v->kind) != CRAK_VMA_ANON && le32toh(v->kind) != CRAK_VMA_FILE))
			return bad(s, "a range of pages to skip lies outside the image's private mappings");
		s->skipped += (end - start) / page;
		last = end;
	}
	return 0;
}

static int check_thread(struct show *s, const struct crak_img_thread *t, uint64_t len)
{
	if (len < sizeof(*t) || le32toh(t->regs_len) != 27 * 8 || !le32toh(t->xstate_len) ||
	    sizeof(*t) + (uint64_t)le32toh(t->regs_len) + le32toh(t->xstate_len) +
	    (uint64_t)le32toh(t->nr_pending) * sizeof(struct crak_img_siginfo) +
	    (le32toh(t->flags) & CRAK_THREAD_SLEEP ? 8 : 0) > len)
		return bad(s, "a thread's section is malformed");
	s->tids = xrealloc(s->tids, (s->nr_threads + 1) * sizeof(*s->tids));
	s->tids[s->nr_threads] = le32toh(t->tid);
	return 0;
}

static int check_timers(struct show *s, struct crak_img_posix_timer *t, uint64_t len)
{
	const struct crak_img_posix_timer *wrong;
	char what[64];

	if (len < (uint64_t)s->want_timers * sizeof(*t))
		return bad(s, "the image's POSIX timers are malformed");
	wrong = img_check_timers(t, s->want_timers, s->tids, s->nr_threads);
	if (!wrong)
		return 0;
	snprintf(what, sizeof(what), "the image's POSIX timer %u is malformed",
		 le32toh(wrong->id));
	return bad(s, what);
}

static int check_end(struct show *s, const struct crak_img_end *e, uint64_t len,
		     uint64_t before)
{
	if (len < sizeof(*e) || le32toh(e->sections) != s->im.seq - 1 ||
	    le64toh(e->pages) != s->pages || le64toh(e->bytes) != before)
		return bad(s, "the image's END does not match what came before it");
	return 0;
}

static const char *const vma_kinds[] = {
	[CRAK_VMA_ANON] = "anon",
	[CRAK_VMA_SHANON] = "shared-anon",
	[CRAK_VMA_FILE] = "file",
	[CRAK_VMA_SHFILE] = "shared-file",
	[CRAK_VMA_VDSO] = "vdso",
	[CRAK_VMA_VVAR] = "vvar",
};

static const char *vma_kind(uint32_t kind)
{
	return kind < ARRAY_SIZE(vma_kinds) ? vma_kinds[kind] : "unknown";
}

static void prot_string(uint32_t prot, char *buf)
{
	buf[0] = prot & PROT_READ ? 'r' : '-';
	buf[1] = prot & PROT_WRITE ? 'w' : '-';
	buf[2] = prot & PROT_EXEC ? 'x' : '-';
	buf[3] = 0;
}

/* The per-kind arrays open in JSON: close the last one before the next. */
static void json_section_array(struct show *s, const char *key)
{
	if (s->in_array)
		json_close_array(&s->j);
	s->in_array = key != NULL;
	if (key)
		json_open_array(&s->j, key);
}

static void show_proc(struct show *s, const struct crak_img_proc *p)
{
	if (!s->json) {
		printf("process %u (%s): %s, %u thread%s, %u descriptor%s, uid %u gid %u\n"
		       "  cwd %s, root %s; taken on %s (%s)\n",
		       le32toh(p->pid), p->comm, p->exe, le32toh(p->nr_threads),
		       plural(le32toh(p->nr_threads)), le32toh(p->nr_files),
		       plural(le32toh(p->nr_files)), le32toh(p->uid[1]), le32toh(p->gid[1]),
		       p->cwd, p->root, s->head.node, s->head.release);
		return;
	}
	json_open_object(&s->j, "process");
	json_uint(&s->j, "pid", le32toh(p->pid));
	json_uint(&s->j, "ppid", le32toh(p->ppid));
	json_string(&s->j, "comm", p->comm);
	json_string(&s->j, "exe", p->exe);
	json_string(&s->j, "cwd", p->cwd);
	json_string(&s->j, "root", p->root);
	json_uint(&s->j, "uid", le32toh(p->uid[1]));
	json_uint(&s->j, "gid", le32toh(p->gid[1]));
	json_uint(&s->j, "threads", le32toh(p->nr_threads));
	json_string(&s->j, "kernel", s->head.release);
	json_string(&s->j, "node", s->head.node);
	json_close_object(&s->j);
}

static const char *owner_type_name(uint32_t type)
{
	switch (type) {
	case F_OWNER_TID: return "thread";
	case F_OWNER_PID: return "process";
	case F_OWNER_PGRP: return "group";
	}
	return "unknown";
}

/*
 * The name of descriptor F (PATH, or NULL), as shown (free it): an abstract
 * unix name as ss(8) shows it, @name; in text, the address a socket is
 * connected to again after "to".  *KEY: its JSON key.
 */
static char *file_name(const struct crak_img_file *f, const char *path, bool json,
		       const char **key)
{
	bool unix_sock = le32toh(f->type) == CRAK_FILE_UNIX;
	bool abstract = unix_sock && (le64toh(f->value[1]) & CRAK_UNIX_ABSTRACT);
	bool to = unix_sock && (le64toh(f->value[1]) & CRAK_UNIX_OUTSIDE);
	char *shown;

	*key = to ? "connected_to" : "path";
	if (!path)
		return NULL;
	if (asprintf(&shown, "%s%s%s", to && !json ? "to " : "", abstract ? "@" : "", path) < 0)
		die("out of memory");
	return shown;
}

/* An epoll's interests (of one a tree shares, those this process adds). */
static void show_epoll(struct show *s, const struct crak_img_file *f, const void *data)
{
	const struct crak_img_epoll_tfd *t = data;
	unsigned int k, nr = le64toh(f->data_len) / sizeof(*t);

	if (s->json) {
		json_open_array(&s->j, "watches");
		for (k = 0; k < nr; k++) {
			json_open_object(&s->j, NULL);
			json_uint(&s->j, "fd", le32toh(t[k].tfd));
			json_uint(&s->j, "events", le32toh(t[k].events));
			json_uint(&s->j, "data", le64toh(t[k].data));
			json_close_object(&s->j);
		}
		json_close_array(&s->j);
		return;
	}
	printf("watching");
	for (k = 0; k < nr; k++)
		printf("%s %u", k ? "," : "", le32toh(t[k].tfd));
	if (!nr)
		printf(" nothing");
	printf(" ");
}

/* Of a unix listener F: 1 + its backlog, 0 if F is none or has none. */
static uint64_t listen_backlog(const struct crak_img_file *f)
{
	if (le32toh(f->type) != CRAK_FILE_UNIX || !(le64toh(f->value[1]) & CRAK_UNIX_LISTENING))
		return 0;
	return le64toh(f->value[3]);
}

/*
 * A unix socket's options O (in text those a socket has not by default) and
 * the peer SO_PEERCRED named, PEER (NULL: none).
 */
static void show_sockopts(struct show *s, const struct crak_img_unix_opts *o,
			  const struct crak_img_unix_peer *peer)
{
	uint32_t flags = le32toh(o->flags), peek = le32toh(o->peek_off);
	uint64_t rt = le64toh(o->rcvtimeo), st = le64toh(o->sndtimeo);

	if (s->json && peer) {
		json_open_object(&s->j, "peer");
		json_uint(&s->j, "pid", le32toh(peer->pid));
		json_uint(&s->j, "uid", le32toh(peer->uid));
		json_uint(&s->j, "gid", le32toh(peer->gid));
		json_close_object(&s->j);
	}
	if (s->json) {
		json_open_object(&s->j, "options");
		json_bool(&s->j, "passcred", flags & CRAK_UNIX_OPT_PASSCRED);
		json_bool(&s->j, "passsec", flags & CRAK_UNIX_OPT_PASSSEC);
		json_uint(&s->j, "sndbuf", le32toh(o->sndbuf));
		json_uint(&s->j, "rcvbuf", le32toh(o->rcvbuf));
		if (peek == UINT32_MAX)
			json_null(&s->j, "peek_off");
		else
			json_uint(&s->j, "peek_off", peek);
		json_double(&s->j, "rcvtimeo", rt / 1e6);
		json_double(&s->j, "sndtimeo", st / 1e6);
		json_close_object(&s->j);
		return;
	}
	if (flags & CRAK_UNIX_OPT_PASSCRED)
		printf("SO_PASSCRED ");
	if (flags & CRAK_UNIX_OPT_PASSSEC)
		printf("SO_PASSSEC ");
	if (peek != UINT32_MAX)
		printf("peeking at %d ", (int)peek);
	if (rt)
		printf("receive timeout %" PRIu64 ".%06" PRIu64 " s ", rt / 1000000, rt % 1000000);
	if (st)
		printf("send timeout %" PRIu64 ".%06" PRIu64 " s ", st / 1000000, st % 1000000);
	if (peer)
		printf("peer %u uid %u gid %u ", le32toh(peer->pid), le32toh(peer->uid),
		       le32toh(peer->gid));
}

/* A descriptor: F, its PATH and DATA (NULL where the section has none whole). */
static void show_file(struct show *s, const struct crak_img_file *f, const char *path,
		      const void *data, const struct crak_img_fown *fown,
		      const struct crak_img_unix_opts *uopts, const struct crak_img_unix_peer *upeer)
{
	uint32_t type = le32toh(f->type);
	const struct rfile *sh = NULL;
	char *shown, *name;
	const char *key;
	uint64_t backlog;
	bool epoll;

	s->file_bytes += le64toh(f->data_len);
	shown = file_name(f, path, s->json, &key);
	path = shown;
	/* One of a tree's shared files: shown as what it is. */
	if (type == CRAK_FILE_SHARED && s->tree &&
	    le64toh(f->value[0]) < s->tree->shared.nr) {
		sh = &s->tree->shared.v[le64toh(f->value[0])];
		name = file_name(&sh->f, sh->path, s->json, &key);
		free(shown);
		if (asprintf(&shown, "#%u %s%s%s", (unsigned int)le64toh(f->value[0]),
			     file_type_name(le32toh(sh->f.type)), name ? " " : "", name ?: "") < 0)
			die("out of memory");
		free(name);
		path = shown;
		key = "path";	/* a reference: the tree's list says where it connects */
	}
	epoll = data && (type == CRAK_FILE_EPOLL ||
			 (sh && le32toh(sh->f.type) == CRAK_FILE_EPOLL && f->data_len));
	backlog = listen_backlog(sh ? &sh->f : f);
	if (!s->json) {
		if (s->nr_files == 1)
			printf("descriptors:\n");
		printf("  %3u %-19s %s%s", le32toh(f->fd), file_type_name(type), path ?: "",
		       path ? " " : "");
		if (backlog)
			printf("listening, backlog %" PRIu64 " ", backlog - 1);
		if (uopts)
			show_sockopts(s, uopts, upeer);
		if (epoll)
			show_epoll(s, f, data);
		else if (le64toh(f->data_len))
			printf("(%" PRIu64 " bytes of data) ", (uint64_t)le64toh(f->data_len));
		if (type == CRAK_FILE_REG || (sh && le32toh(sh->f.type) == CRAK_FILE_REG))
			printf("at %" PRIu64, (uint64_t)le64toh(sh ? sh->f.pos : f->pos));
		if (fown)
			printf("%ssignals %s %u with %u", path ? ", " : "",
			       owner_type_name(le32toh(fown->type)), le32toh(fown->pid),
			       le32toh(fown->signo) ?: SIGIO);
		printf("\n");
		free(shown);
		return;
	}
	if (s->nr_files == 1)
		json_section_array(s, "files");
	json_open_object(&s->j, NULL);
	json_uint(&s->j, "fd", le32toh(f->fd));
	json_string(&s->j, "type", file_type_name(type));
	if (path)
		json_string(&s->j, key, path);
	json_uint(&s->j, "pos", le64toh(f->pos));
	json_uint(&s->j, "data_bytes", le64toh(f->data_len));
	if (backlog)
		json_uint(&s->j, "backlog", backlog - 1);
	if (uopts)
		show_sockopts(s, uopts, upeer);
	if (epoll)
		show_epoll(s, f, data);
	if (fown) {
		json_string(&s->j, "owner_type", owner_type_name(le32toh(fown->type)));
		json_uint(&s->j, "owner", le32toh(fown->pid));
		json_uint(&s->j, "signal", le32toh(fown->signo) ?: SIGIO);
	}
	json_close_object(&s->j);
	free(shown);
}

static const char *clock_name(uint32_t clock)
{
	switch (clock) {
	case CLOCK_REALTIME: return "realtime";
	case CLOCK_MONOTONIC: return "monotonic";
	case CLOCK_BOOTTIME: return "boottime";
	case CLOCK_TAI: return "tai";
	}
	if (img_cpu_clock(clock)) {
		static const char * const which[] = { "process-cpu-prof", "process-cpu-virt",
						      "process-cpu" };

		return which[clock & 3];
	}
	return "unknown";
}

static const char *notify_name(uint32_t notify)
{
	switch (notify) {
	case SIGEV_SIGNAL: return "signal";
	case SIGEV_NONE: return "none";
	case SIGEV_THREAD: return "sigev-thread";
	case SIGEV_THREAD_ID: return "thread";
	}
	return "unknown";
}

static void show_timers(struct show *s, const struct crak_img_posix_timer *t)
{
	uint32_t i;

	if (!s->json)
		printf("POSIX timers:\n");
	else
		json_section_array(s, "timers");
	for (i = 0; i < s->want_timers; i++, t++) {
		uint32_t notify = le32toh(t->notify);

		if (!s->json) {
			printf("  %u %s %s", le32toh(t->id), clock_name(le32toh(t->clock)),
			       notify_name(notify));
			if (notify != SIGEV_NONE)
				printf(" %u", le32toh(t->signo));
			if (notify == SIGEV_THREAD_ID)
				printf(" to %u", le32toh(t->tid));
			if (le64toh(t->value))
				printf(", %.3f s left", le64toh(t->value) / 1e9);
			else
				printf(", disarmed");
			if (le64toh(t->interval))
				printf(", every %.3f s", le64toh(t->interval) / 1e9);
			if (le32toh(t->flags) & CRAK_PTIMER_QUEUED)
				printf(", its signal pending");
			printf("\n");
			continue;
		}
		json_open_object(&s->j, NULL);
		json_uint(&s->j, "id", le32toh(t->id));
		json_string(&s->j, "clock", clock_name(le32toh(t->clock)));
		json_string(&s->j, "notify", notify_name(notify));
		json_uint(&s->j, "signal", le32toh(t->signo));
		if (notify == SIGEV_THREAD_ID)
			json_uint(&s->j, "tid", le32toh(t->tid));
		json_uint(&s->j, "value_ns", le64toh(t->value));
		json_uint(&s->j, "interval_ns", le64toh(t->interval));
		json_bool(&s->j, "signal_pending", le32toh(t->flags) & CRAK_PTIMER_QUEUED);
		json_close_object(&s->j);
	}
}

/* The madvise(2) advice a mapping keeps, by the name of its MADV_. */
static const struct {
	uint32_t flag;
	const char *name;
} vma_advice[] = {
	{ CRAK_VMAF_DONTFORK, "dontfork" },
	{ CRAK_VMAF_WIPEONFORK, "wipeonfork" },
	{ CRAK_VMAF_DONTDUMP, "dontdump" },
	{ CRAK_VMAF_HUGEPAGE, "hugepage" },
	{ CRAK_VMAF_NOHUGEPAGE, "nohugepage" },
	{ CRAK_VMAF_SEQUENTIAL, "sequential" },
	{ CRAK_VMAF_RANDOM, "random" },
	{ CRAK_VMAF_MERGEABLE, "mergeable" },
};

/* As the kernel takes them: known, and MCL_ONFAULT only with MCL_FUTURE. */
static bool mm_flags_ok(uint32_t f)
{
	return !(f & ~(CRAK_MM_LOCK_FUTURE | CRAK_MM_LOCK_ONFAULT | CRAK_MM_THP_DISABLE |
		       CRAK_MM_MERGE_ANY)) &&
	       (!(f & CRAK_MM_LOCK_ONFAULT) || f & CRAK_MM_LOCK_FUTURE);
}

/*
 * The memory's heading: what the process asked for all it maps from then
 * on (mlockall(MCL_FUTURE), PR_SET_THP_DISABLE, PR_SET_MEMORY_MERGE).
 * JSON: "memory_future" {"mlock": "all" or "onfault", "thp_disable": true,
 * "merge_any": true}, then the mappings.
 */
static void show_mm(struct show *s)
{
	uint32_t f = s->mm_flags;
	const char *lock = !(f & CRAK_MM_LOCK_FUTURE) ? NULL :
			   f & CRAK_MM_LOCK_ONFAULT ? "onfault" : "all";

	if (!s->json) {
		printf("memory:%s%s%s%s\n", lock ? " mlockall MCL_FUTURE" : "",
		       f & CRAK_MM_LOCK_ONFAULT ? "|MCL_ONFAULT" : "",
		       f & CRAK_MM_THP_DISABLE ? " PR_SET_THP_DISABLE" : "",
		       f & CRAK_MM_MERGE_ANY ? " PR_SET_MEMORY_MERGE" : "");
		return;
	}
	json_section_array(s, NULL);
	if (lock || f & (CRAK_MM_THP_DISABLE | CRAK_MM_MERGE_ANY)) {
		json_open_object(&s->j, "memory_future");
		if (lock)
			json_string(&s->j, "mlock", lock);
		if (f & CRAK_MM_THP_DISABLE)
			json_bool(&s->j, "thp_disable", true);
		if (f & CRAK_MM_MERGE_ANY)
			json_bool(&s->j, "merge_any", true);
		json_close_object(&s->j);
	}
	json_section_array(s, "memory");
}

/* A private mapping of a deleted file came as memory: it says so. */
static void show_vma(struct show *s, const struct crak_img_vma *v, const char *path)
{
	uint32_t flags = le32toh(v->flags);
	bool deleted = flags & CRAK_VMAF_DELETED;
	const char *sep = " madvise ";
	char prot[4];
	size_t i;

	prot_string(le32toh(v->prot), prot);
	if (!s->json) {
		if (s->nr_vmas == 1)
			show_mm(s);
		printf("  %012" PRIx64 "-%012" PRIx64 " %s %-11s %s%s%s",
		       (uint64_t)le64toh(v->start), (uint64_t)le64toh(v->end), prot,
		       vma_kind(le32toh(v->kind)), path ?: "", deleted ? " (deleted file)" : "",
		       !(flags & CRAK_VMAF_LOCKED) ? "" :
		       flags & CRAK_VMAF_LOCKONFAULT ? " mlock onfault" : " mlock");
		for (i = 0; i < ARRAY_SIZE(vma_advice); i++) {
			if (flags & vma_advice[i].flag) {
				printf("%s%s", sep, vma_advice[i].name);
				sep = ",";
			}
		}
		printf("\n");
		return;
	}
	if (s->nr_vmas == 1)
		show_mm(s);
	json_open_object(&s->j, NULL);
	json_uint(&s->j, "start", le64toh(v->start));
	json_uint(&s->j, "end", le64toh(v->end));
	json_string(&s->j, "prot", prot);
	json_string(&s->j, "kind", vma_kind(le32toh(v->kind)));
	if (path)
		json_string(&s->j, "path", path);
	if (deleted)
		json_bool(&s->j, "deleted", true);
	if (flags & CRAK_VMAF_LOCKED)
		json_string(&s->j, "mlock", flags & CRAK_VMAF_LOCKONFAULT ? "onfault" : "all");
	for (i = 0; i < ARRAY_SIZE(vma_advice); i++) {
		if (!(flags & vma_advice[i].flag))
			continue;
		if (*sep == ' ')
			json_open_array(&s->j, "advice");
		json_string(&s->j, NULL, vma_advice[i].name);
		sep = ",";
	}
	if (*sep == ',')
		json_close_array(&s->j);
	json_close_object(&s->j);
}

/* Reads every section to END; 0 if the image is whole and sound. */
static int walk(struct show *s)
{
	uint64_t len, before;
	uint32_t type;
	int err = 0;
	void *p;

	for (;;) {
		before = s->im.offset;
		if (img_read_header(&s->im, &type, &len))
			return -1;
		if (!in_order(s, type)) {
			pr_err("%s: section %u is %s, out of place", s->im.name, s->im.seq,
			       img_section_name(type));
			return -1;
		}
		if (type == CRAK_IMG_PAGES) {
			struct crak_img_pages hdr;

			if (len < sizeof(hdr) || img_skip_payload(&s->im, type, len, &hdr, sizeof(hdr)))
				return -1;
			if (check_pages(s, &hdr, len))
				return -1;
			s->pages += le64toh(hdr.nr_pages);
			continue;
		}
		if (type == CRAK_IMG_AHEAD) {
			struct crak_img_ahead a;

			if (len < sizeof(a) || img_skip_payload(&s->im, type, len, &a, sizeof(a)))
				return -1;
			if (!img_ahead_ok(&a, len, s->ahead_pid))
				return bad(s, "pages written ahead are malformed");
			s->ahead_pid = le32toh(a.pid);
			s->nr_ahead++;
			s->ahead_pages += le32toh(a.nr_pages);
			continue;
		}
		p = img_read_payload(&s->im, type, len);
		if (!p)
			return -1;
		switch (type) {
		case CRAK_IMG_HEAD:
			memcpy(&s->head, p, len < sizeof(s->head) ? len : sizeof(s->head));
			s->head.release[sizeof(s->head.release) - 1] = 0;
			s->head.node[sizeof(s->head.node) - 1] = 0;
			if (len < offsetof(struct crak_img_head, release) ||
			    le32toh(s->head.magic) != CRAK_IMAGE_MAGIC) {
				pr_err("%s: not a crak process image", s->im.name);
				err = -1;
			} else if (le16toh(s->head.version) != CRAK_IMAGE_VERSION) {
				pr_err("%s: image version %u; this crak reads version %u", s->im.name,
				       le16toh(s->head.version), CRAK_IMAGE_VERSION);
				err = -1;
			}
			break;
		case CRAK_IMG_PROC:
			if (len < sizeof(s->proc)) {
				err = bad(s, "the process section is malformed");
				break;
			}
			memcpy(&s->proc, p, sizeof(s->proc));
			s->proc.comm[sizeof(s->proc.comm) - 1] = 0;
			s->proc.exe[sizeof(s->proc.exe) - 1] = 0;
			s->proc.cwd[sizeof(s->proc.cwd) - 1] = 0;
			s->proc.root[sizeof(s->proc.root) - 1] = 0;
			s->want_files = le32toh(s->proc.nr_files);
			s->want_threads = le32toh(s->proc.nr_threads);
			if (s->nr_ahead && s->ahead_pid != le32toh(s->proc.pid)) {
				err = bad(s, "the pages written ahead are another process's");
				break;
			}
			show_proc(s, &s->proc);
			break;
		case CRAK_IMG_FILE:
			if (len < sizeof(struct crak_img_file)) {
				err = bad(s, "a descriptor's section is malformed");
			} else {
				const struct crak_img_file *f = p;
				const struct crak_img_unix_opts *uopts;
				const struct crak_img_unix_peer *upeer;
				const struct crak_img_fown *fown;
				uint32_t plen = le32toh(f->path_len);

				if (files_fown(p, len, &fown)) {
					err = bad(s, "a descriptor's signal owner is malformed");
					break;
				}
				if (files_sockopts(p, len, &uopts, &upeer)) {
					err = bad(s, "a descriptor's socket options are malformed");
					break;
				}
				if (le32toh(f->type) == CRAK_FILE_UNIX &&
				    (le64toh(f->value[1]) & ~(uint64_t)CRAK_UNIX_KNOWN)) {
					err = bad(s, "a descriptor's unix socket flags are unknown");
					break;
				}
				uint64_t dlen = le64toh(f->data_len);
				bool whole = sizeof(*f) + plen <= len && dlen <= len - sizeof(*f) - plen;
				struct rfile q = { .f = *f };

				q.data = whole ? (char *)p + sizeof(*f) + plen : NULL;
				if (whole && !unix_queue_sound(&q)) {
					err = bad(s, "a descriptor's unix socket queue is malformed");
					break;
				}

				s->nr_files++;
				show_file(s, f, plen && sizeof(*f) + plen <= len ?
					  (const char *)p + sizeof(*f) : NULL,
					  whole ? (const char *)p + sizeof(*f) + plen : NULL, fown,
					  uopts, upeer);
			}
			break;
		case CRAK_IMG_THREAD:
			err = check_thread(s, p, len);
			s->nr_threads++;
			break;
		case CRAK_IMG_SIGNAL:
			if (len < sizeof(struct crak_img_signal)) {
				err = bad(s, "the image's signal section is malformed");
				break;
			}
			s->want_timers = le32toh(((struct crak_img_signal *)p)->nr_timers);
			s->timers_sec = !!s->want_timers;
			break;
		case CRAK_IMG_TIMERS:
			err = check_timers(s, p, len);
			if (!err)
				show_timers(s, p);
			break;
		case CRAK_IMG_MM:
			if (len < offsetof(struct crak_img_mm, auxv) || !le32toh(*(uint32_t *)p) ||
			    !mm_flags_ok(le32toh(((const struct crak_img_mm *)p)->flags))) {
				err = bad(s, "the image's memory section is malformed");
			} else {
				const struct crak_img_mm *m = p;

				s->want_vmas = le32toh(m->nr_vmas);
				s->mm_flags = le32toh(m->flags);
			}
			break;
		case CRAK_IMG_VMA:
			if (len < sizeof(struct crak_img_vma) || check_vma(s, p, len)) {
				err = -1;
			} else {
				const struct crak_img_vma *v = p;
				uint32_t plen = le32toh(v->path_len);

				s->nr_vmas++;
				show_vma(s, v, plen ? (const char *)p + sizeof(*v) : NULL);
			}
			break;
		case CRAK_IMG_SKIP:
			s->skip_seen = true;
			err = check_skip(s, p, len);
			break;
		case CRAK_IMG_END:
			err = check_end(s, p, len, before);
			free(p);
			return err;
		}
		free(p);
		if (err)
			return -1;
	}
}

static void format_macaddr(const unsigned char *mac, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

static void show_pod(const struct pod *p, const unsigned char *mac)
{
	char buf[IPNET_STRLEN];
	unsigned int i;

	format_macaddr(mac, buf, sizeof(buf));
	printf("pod %s: crakvif %s on %s, addresses", p->name, buf, p->link);
	for (i = 0; i < p->n_addrs; i++) {
		format_ipnet(&p->addrs[i], buf, sizeof(buf));
		printf(" %s", buf);
	}
	for (i = 0; i < p->n_gws; i++) {
		format_ipnet(&p->gws[i], buf, sizeof(buf));
		*strrchr(buf, '/') = 0;
		printf("%s%s", i ? " " : ", gateways ", buf);
	}
	putchar('\n');
}

static void json_pod(struct json *j, const struct pod *p, const unsigned char *mac,
		     const struct vif_frames *held)
{
	char buf[IPNET_STRLEN];

	json_open_object(j, "pod");
	json_string(j, "name", p->name);
	json_string(j, "link", p->link);
	format_macaddr(mac, buf, sizeof(buf));
	json_string(j, "mac", buf);
	pod_json_addrs(j, p);
	json_uint(j, "held_frames", held->n);
	json_uint(j, "held_bytes", held->bytes);
	json_close_object(j);
}

static void show_tree(struct show *s, const struct tree_restart *tr)
{
	const char *key;
	uint64_t k;
	uint32_t i;

	if (s->json) {
		json_open_array(&s->j, "tree");
		for (i = 0; i < tr->nr; i++) {
			const struct crak_img_tree_proc *p = &tr->procs[i];

			json_open_object(&s->j, NULL);
			json_uint(&s->j, "pid", le32toh(p->pid));
			json_uint(&s->j, "ppid", le32toh(p->ppid));
			json_uint(&s->j, "pgid", le32toh(p->pgid));
			json_uint(&s->j, "sid", le32toh(p->sid));
			json_bool(&s->j, "zombie", le32toh(p->flags) & CRAK_TREE_ZOMBIE);
			json_bool(&s->j, "command", le32toh(p->flags) & CRAK_TREE_COMMAND);
			if (le32toh(p->flags) & CRAK_TREE_ZOMBIE)
				json_uint(&s->j, "exit_status", le32toh(p->exit_status));
			if (p->ctty) {
				json_uint(&s->j, "ctty", le32toh(p->ctty) - 1);
				json_uint(&s->j, "foreground", le32toh(p->fg_pgid));
			}
			json_close_object(&s->j);
		}
		json_close_array(&s->j);
		json_open_array(&s->j, "shared");
		for (i = 0; i < tr->shared.nr; i++) {
			const struct rfile *rf = &tr->shared.v[i];
			char *name = file_name(&rf->f, rf->path, true, &key);

			json_open_object(&s->j, NULL);
			json_string(&s->j, "type", file_type_name(le32toh(rf->f.type)));
			if (name)
				json_string(&s->j, key, name);
			free(name);
			json_uint(&s->j, "owner", le32toh(tr->owner[i]));
			if (le32toh(rf->f.type) == CRAK_FILE_SHMEM) {
				json_uint(&s->j, "size", le64toh(rf->f.value[1]));
				if (rf->f.value[2])
					json_uint(&s->j, "memory_of", le64toh(rf->f.value[2]) - 1);
				json_open_array(&s->j, "mapped_by");
				for (k = 0; k < le64toh(rf->f.data_len) / sizeof(__le32); k++)
					json_uint(&s->j, NULL, le32toh(((__le32 *)rf->data)[k]));
				json_close_array(&s->j);
			} else {
				json_uint(&s->j, "data_bytes", le64toh(rf->f.data_len));
			}
			json_close_object(&s->j);
		}
		json_close_array(&s->j);
		return;
	}
	printf("process tree: %u process%s, %u shared file%s (session and group 0: the %s)\n",
	       tr->nr, tr->nr == 1 ? "" : "es", tr->shared.nr, plural(tr->shared.nr),
	       tr->top ? "init's" : "restarter's");
	for (i = 0; i < tr->nr; i++) {
		const struct crak_img_tree_proc *p = &tr->procs[i];
		uint32_t st = le32toh(p->exit_status);

		printf("  %u: parent %u, group %u, session %u", le32toh(p->pid), le32toh(p->ppid),
		       le32toh(p->pgid), le32toh(p->sid));
		if (le32toh(p->flags) & CRAK_TREE_COMMAND)
			printf(", %s", tr->top ? "the pod's command" : "the root");
		if (p->ctty)
			printf(", terminal /dev/pts/%u (foreground group %u)", le32toh(p->ctty) - 1,
			       le32toh(p->fg_pgid));
		if (le32toh(p->flags) & CRAK_TREE_ZOMBIE)
			printf(", a zombie (%s %u)", WIFEXITED(st) ? "exit" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		putchar('\n');
	}
	for (i = 0; i < tr->shared.nr; i++) {
		const struct rfile *rf = &tr->shared.v[i];
		char *name = file_name(&rf->f, rf->path, false, &key);

		printf("  shared #%u: %s%s%s, made by %u", i, file_type_name(le32toh(rf->f.type)),
		       name ? " " : "", name ?: "", le32toh(tr->owner[i]));
		free(name);
		if (le32toh(rf->f.type) == CRAK_FILE_SHMEM) {
			printf(" (%" PRIu64 " bytes), mapped by", (uint64_t)le64toh(rf->f.value[1]));
			for (k = 0; k < le64toh(rf->f.data_len) / sizeof(__le32); k++)
				printf(" %u", le32toh(((__le32 *)rf->data)[k]));
			if (rf->f.value[2])
				printf(", the memory of #%" PRIu64,
				       (uint64_t)le64toh(rf->f.value[2]) - 1);
		} else if (le64toh(rf->f.data_len)) {
			printf(" (%" PRIu64 " bytes of data)", (uint64_t)le64toh(rf->f.data_len));
		}
		putchar('\n');
	}
}

/* Each process image of a tree, walked in turn: 0, or -1. */
static int walk_tree(struct show *s, const struct tree_restart *tr)
{
	uint64_t bytes = 0, sections = 0, pages = 0;
	uint32_t i;
	int ret = 0;

	if (s->json)
		json_open_array(&s->j, "processes");
	for (i = 0; i < tr->nr && !ret; i++) {
		if (le32toh(tr->procs[i].flags) & CRAK_TREE_ZOMBIE)
			continue;
		free(s->vmas);
		free(s->tids);
		s->vmas = NULL;
		s->tids = NULL;
		s->nr_threads = s->nr_files = s->nr_vmas = 0;
		s->want_threads = s->want_files = s->want_vmas = 0;
		s->want_timers = s->timers_sec = 0;
		s->last_page = 0;
		s->skip_seen = false;
		s->pages = 0;
		s->im.seq = 0;
		s->im.offset = 0;
		if (s->json)
			json_open_object(&s->j, NULL);
		ret = walk(s);
		if (s->json) {
			json_section_array(s, NULL);
			json_close_object(&s->j);
		}
		bytes += s->im.offset;
		sections += s->im.seq;
		pages += s->pages;
	}
	if (s->json)
		json_close_array(&s->j);
	s->im.seq = sections;
	s->im.offset = bytes;
	s->pages = pages;
	return ret;
}

static int image_show(struct args *args)
{
	struct show s = { .im.fd = -1 };
	struct vif_frames held = {};
	unsigned char mac[6];
	struct img outer;
	struct tree_restart tree = {};
	struct pod pod;
	uint32_t type;
	const char *word, *file = NULL;
	unsigned int minor = 0;
	pid_t root = 0;
	int ret, trees = 0;

	while ((word = arg_next(args))) {
		if ((*word != '-' || !strcmp(word, "-")) && !file)
			file = word;
		else
			arg_unexpected(word);
	}
	if (!file)
		die_usage("missing image FILE (or - for standard input)");
	if (!strcmp(file, "-")) {
		s.im.fd = STDIN_FILENO;
		s.im.name = "standard input";
	} else {
		s.im.fd = open(file, O_RDONLY | O_CLOEXEC);
		if (s.im.fd < 0)
			die("%s: %s", file, strerror(errno));
		s.im.name = file;
	}
	s.json = crak_opts.json;
	/*
	 * A pod's image: the pod's own sections around the process image; a
	 * tree's, TREE_HEAD, TREE and END around theirs.
	 */
	if (img_peek_type(&s.im, &type) ||
	    (type == CRAK_IMG_POD && pod_image_read_head(&s.im, &pod, mac, &minor)) ||
	    (type == CRAK_IMG_TREE_HEAD && tree_image_read_head(&s.im, &root)))
		return EXIT_FAILURE;
	if (type == CRAK_IMG_POD || type == CRAK_IMG_TREE_HEAD) {
		if (!s.json && type == CRAK_IMG_POD)
			show_pod(&pod, mac);
		else if (!s.json)
			printf("tree of process %u (crak checkpoint --tree)\n", root);
		trees = type == CRAK_IMG_POD ? tree_read(&s.im, minor, 1, &tree) :
					       tree_read(&s.im, 2, 0, &tree);
		if (trees < 0)
			return EXIT_FAILURE;
		outer = s.im;
		s.im.seq = 0;
		s.im.offset = 0;
		s.tree = &tree;
	}
	if (s.json) {
		json_init(&s.j, stdout, crak_opts.pretty);
		json_open_object(&s.j, NULL);
	}
	if (trees > 0) {
		show_tree(&s, &tree);
		ret = walk_tree(&s, &tree);
	} else {
		ret = walk(&s);
	}
	if (!ret && type == CRAK_IMG_POD) {
		ret = pod_image_read_held(&outer, &held);
		if (!ret && !s.json)
			printf("held for the pod: %zu frame%s, %" PRIu64 " bytes\n", held.n,
			       plural(held.n), held.bytes);
	}
	if (!ret && type == CRAK_IMG_TREE_HEAD)
		ret = img_read_end(&outer);
	if (s.json) {
		json_section_array(&s, NULL);
		if (type == CRAK_IMG_POD)
			json_pod(&s.j, &pod, mac, &held);
		if (type == CRAK_IMG_TREE_HEAD)
			json_uint(&s.j, "root", root);
		json_bool(&s.j, "valid", !ret);
		json_uint(&s.j, "sections", s.im.seq);
		json_uint(&s.j, "bytes", s.im.offset);
		json_uint(&s.j, "pages", s.pages);
		json_uint(&s.j, "skipped", s.skipped);
		json_uint(&s.j, "ahead_pages", s.ahead_pages);
		json_close_object(&s.j);
	} else if (!ret) {
		printf("image: %u sections, %.1f MiB: %" PRIu64 " pages of memory, %" PRIu64
		       " bytes of descriptor data; every checksum matches\n", s.im.seq,
		       s.im.offset / 1048576.0, s.pages, s.file_bytes);
		if (s.ahead_pages)
			printf("written ahead while it ran (crak checkpoint --live): %" PRIu64
			       " pages, %" PRIu64 " of them left out of the rest\n", s.ahead_pages,
			       s.skipped);
		else if (s.skipped)
			printf("%" PRIu64 " pages left out: sent ahead by crak migrate --live (only its crakd restarts this image)\n",
			       s.skipped);
	}
	if (s.im.fd != STDIN_FILENO)
		close(s.im.fd);
	vif_frames_free(&held);
	tree_free_restart(&tree);
	free(s.vmas);
	free(s.tids);
	return ret ? EXIT_FAILURE : 0;
}

static const struct command image_commands[] = {
	{
		.name = "show",
		.synopsis = "FILE|-",
		.help = "Reads the whole process image FILE (or standard input: -), checks\n"
			"every section's length, order and checksum, and shows the process,\n"
			"its descriptors and its memory map; of a pod's image, the pod, its\n"
			"process tree and the frames held for it too; of a tree's (crak\n"
			"checkpoint --tree), the tree.  Exits 1 if the image is broken.\n",
		.run = image_show,
	},
};

const struct object image_object = {
	.name = "image",
	.summary = "process images: what they hold, and whether they are sound",
	.help = "What a process image of crak checkpoint holds.\n",
	.commands = image_commands,
	.n_commands = ARRAY_SIZE(image_commands),
};
