// SPDX-License-Identifier: GPL-2.0
/*
 * A pod's image: crak checkpoint NAME, and the reading of the pod's own
 * sections for crak restart (pod_run.c makes the pod again).
 *
 * A checkpoint takes every process of the pod (ckpt_tree.c), the init aside,
 * which a restart provides anew.  crak writes POD, then a child of crak
 * enters the pod's namespaces (network, mount, UTS, and PID for a grandchild
 * of its own, which does the work there, so that the image has the PIDs the
 * processes see).  The grandchild freezes the pod's crakvif and the pod's
 * connections (pod_pause.c), stops and checkpoints the processes, writes
 * what the crakvif held meanwhile (HELD), and waits for crak to end the
 * image (END) before the processes are killed: in a file, END comes before
 * the file takes its name; on a stream, once the command is gone, so that a
 * receiver never sees a whole image of a pod that runs on.  crak then takes
 * the pod down.
 * Anything failing before the kill thaws the crakvif (what it held is
 * delivered), lets the processes run on and leaves no image; the
 * grandchild ignores the terminal's signals and SIGPIPE so that it always
 * gets there (and crak thaws the crakvif itself if the grandchild died
 * anyway).
 * With --leave-running (not on crak migrate's stream) the grandchild
 * copies what the crakvif held into the image instead, thaws the crakvif
 * (which delivers it) once the processes' sockets carry on, then lets the
 * processes run on: the image is the pod as it was before those frames came,
 * and the pod runs on as if paused.
 * On a stream, crak adds the frames held since, once the process is gone:
 * crakd announced the pod's addresses before it said it has the process,
 * so from about then on they reach crakd's node, held there.  Frames that
 * come to this node after that (or after the HELD sections of a file) are
 * lost with the pod: TCP sends them again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <net/ethernet.h>

#include "ckpt.h"
#include "json.h"
#include "mig.h"
#include "pcap.h"
#include "pod.h"
#include "tree.h"
#include "vif.h"

struct pod_ckpt {
	struct pod pod;
	const char *out;		/* the image's path, or "-" */
	char *tmp;			/* the file being written, until renamed */
	bool renamed;			/* it has its name: unlink it on failure */
	int fd;
	struct img im;			/* the pod's sections, around the process's */
	pid_t cmd;			/* the command, in crak's PID namespace */
	pid_t cmd_in_pod;		/* and in the pod's */
	int sync[2];			/* the grandchild's end and crak's */
	bool leave_running;		/* the pod runs on */
	struct vif_cmd vc;		/* the grandchild's, in the pod */
	struct pod_pause pause;		/* the grandchild's: connections frozen early */
	unsigned int nr_procs;		/* the grandchild's, taken */
	dev_t host_pts;			/* crak's /dev/pts */
};

/* What the grandchild tells crak once the image is whole but for END. */
struct pod_ckpt_done {
	uint32_t procs;
	uint32_t frames;
	uint32_t seq;			/* the pod's sections so far */
	uint64_t bytes;			/* held */
	uint64_t offset;		/* of the pod's sections so far */
	uint64_t last_seq;		/* the crakvif's number of the last frame */
};

/* -- POD ---------------------------------------------------------------------- */

static void put_addr(struct crak_img_pod_addr *out, const struct ipnet *a, bool gw)
{
	memset(out, 0, sizeof(*out));
	out->family = a->family == AF_INET6 ? 6 : 4;
	out->prefix = gw ? 0 : a->prefix;
	memcpy(out->addr, a->addr, a->family == AF_INET6 ? 16 : 4);
}

static int write_pod(struct pod_ckpt *c)
{
	const struct pod *p = &c->pod;
	struct crak_img_pod_addr addrs[POD_MAX_ADDRS + 2];
	struct crak_img_pod h = {
		.magic = htole32(CRAK_POD_MAGIC),
		.version = htole16(CRAK_POD_VERSION),
		.minor = htole16(CRAK_POD_MINOR),
		.n_addrs = p->n_addrs,
		.n_gws = p->n_gws,
	};
	unsigned int i, n = 0;

	snprintf(h.name, sizeof(h.name), "%s", p->name);
	snprintf(h.link, sizeof(h.link), "%s", p->link);
	if (sscanf(p->mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &h.mac[0], &h.mac[1], &h.mac[2],
		   &h.mac[3], &h.mac[4], &h.mac[5]) != 6) {
		pr_err("checkpoint %s: its record has no MAC address", p->name);
		return -1;
	}
	for (i = 0; i < p->n_addrs; i++)
		put_addr(&addrs[n++], &p->addrs[i], false);
	for (i = 0; i < p->n_gws; i++)
		put_addr(&addrs[n++], &p->gws[i], true);
	return img_write_section2(&c->im, CRAK_IMG_POD, &h, sizeof(h), addrs,
				  n * sizeof(addrs[0]));
}

static int get_addr(const struct crak_img_pod_addr *in, struct ipnet *a, bool gw)
{
	memset(a, 0, sizeof(*a));
	if (in->family == 4 && in->prefix <= (gw ? 0 : 32)) {
		a->family = AF_INET;
		memcpy(a->addr, in->addr, 4);
	} else if (in->family == 6 && in->prefix <= (gw ? 0 : 128)) {
		a->family = AF_INET6;
		memcpy(a->addr, in->addr, 16);
	} else {
		return -1;
	}
	a->prefix = gw ? (a->family == AF_INET ? 32 : 128) : in->prefix;
	return 0;
}

int pod_image_read_head(struct img *im, struct pod *p, unsigned char mac[6], unsigned int *minor)
{
	uint32_t type = CRAK_IMG_POD;
	const struct crak_img_pod_addr *a;
	struct crak_img_pod *h;
	bool family[2] = { false, false };
	unsigned int i, n;
	uint64_t len;
	int ret = -1;

	h = img_read_section(im, &type, sizeof(*h), CRAK_IMAGE_SECTION_MAX, &len);
	if (!h)
		return -1;
	memset(p, 0, sizeof(*p));
	n = h->n_addrs + h->n_gws;
	a = (const void *)(h + 1);
	if (le32toh(h->magic) != CRAK_POD_MAGIC) {
		pr_err("%s: not a crak pod image", im->name);
	} else if (le16toh(h->version) != CRAK_POD_VERSION) {
		pr_err("%s: pod image version %u; this crak reads version %u", im->name,
		       le16toh(h->version), CRAK_POD_VERSION);
	} else if (!memchr(h->name, 0, sizeof(h->name)) || !pod_name_ok(h->name) ||
		   !memchr(h->link, 0, sizeof(h->link)) || !h->link[0] ||
		   strchr(h->link, '/')) {
		pr_err("%s: the pod's name or device is invalid", im->name);
	} else if (!h->n_addrs || h->n_addrs > POD_MAX_ADDRS || h->n_gws > 2 ||
		   len < sizeof(*h) + n * sizeof(*a)) {
		pr_err("%s: the pod's addresses are invalid", im->name);
	} else {
		ret = 0;
	}
	for (i = 0; !ret && i < n; i++) {
		bool gw = i >= h->n_addrs;
		struct ipnet *to = gw ? &p->gws[i - h->n_addrs] : &p->addrs[i];

		if (get_addr(&a[i], to, gw) ||
		    (gw && (!family[to->family == AF_INET6] ||
			    (i > h->n_addrs && p->gws[0].family == to->family)))) {
			pr_err("%s: the pod's address %u is invalid", im->name, i + 1);
			ret = -1;
		} else if (!gw) {
			family[to->family == AF_INET6] = true;
		}
	}
	if (!ret) {
		memcpy(p->name, h->name, strlen(h->name) + 1);	/* checked: it fits */
		snprintf(p->link, sizeof(p->link), "%s", h->link);
		memcpy(mac, h->mac, 6);
		p->n_addrs = h->n_addrs;
		p->n_gws = h->n_gws;
		*minor = le16toh(h->minor);
	}
	free(h);
	return ret;
}

/* -- HELD and END ------------------------------------------------------------- */

/*
 * @fl in HELD sections, what they carry counted in @done; @unicast: only
 * frames to one destination (the others, flooded, reached the destination's
 * crakvif too once it was up).
 */
static int write_held(struct pod_ckpt *c, const struct vif_frames *fl, bool unicast,
		      struct pod_ckpt_done *done)
{
	struct crak_img_held *held;
	size_t i = 0, len;
	uint64_t bytes;
	char *buf;
	int err = 0;

	/* What a restart would refuse must not end the pod. */
	for (i = 0; i < fl->n; i++) {
		if (fl->v[i].len < ETH_HLEN || fl->v[i].len > CRAK_VIF_MAX_FRAME) {
			pr_err("checkpoint %s: a held frame of %u bytes: a restart takes %u to %u",
			       c->pod.name, fl->v[i].len, ETH_HLEN, CRAK_VIF_MAX_FRAME);
			return -1;
		}
	}
	i = 0;
	buf = xmalloc(CRAK_IMAGE_SECTION_MAX);
	while (!err && i < fl->n) {
		held = (void *)buf;
		memset(held, 0, sizeof(*held));
		len = sizeof(*held);
		bytes = 0;
		/* As many frames as fit; a frame is far smaller than a section. */
		for (; i < fl->n; i++) {
			const struct pcap_record *rec = &fl->v[i];
			size_t need = sizeof(struct crak_img_frame) + ((rec->len + 7) & ~7U);
			struct crak_img_frame f = {
				.time_ns = htole64(rec->time_ns),
				.len = htole32(rec->len),
			};

			if (unicast && (rec->data[0] & 1))
				continue;
			if (len + need > CRAK_IMAGE_SECTION_MAX)
				break;
			memcpy(buf + len, &f, sizeof(f));
			memcpy(buf + len + sizeof(f), rec->data, rec->len);
			memset(buf + len + sizeof(f) + rec->len, 0, need - sizeof(f) - rec->len);
			len += need;
			held->nr_frames = htole32(le32toh(held->nr_frames) + 1);
			bytes += rec->len;
		}
		if (!held->nr_frames)
			continue;
		err = img_write_section(&c->im, CRAK_IMG_HELD, buf, len);
		if (!err) {
			done->frames += le32toh(held->nr_frames);
			done->bytes += bytes;
		}
	}
	free(buf);
	return err;
}

static int write_end(struct pod_ckpt *c)
{
	return img_write_end(&c->im);
}

/* Checks one HELD section's frames and adds them to @fl. */
static int read_frames(struct img *im, const char *buf, uint64_t len, struct vif_frames *fl)
{
	const struct crak_img_held *held = (const void *)buf;
	uint32_t nr = le32toh(held->nr_frames), i;
	uint64_t off = sizeof(*held);

	for (i = 0; i < nr; i++) {
		struct crak_img_frame f;
		struct pcap_record rec;

		if (len - off < sizeof(f))
			break;
		memcpy(&f, buf + off, sizeof(f));
		off += sizeof(f);
		rec.len = rec.caplen = le32toh(f.len);
		if (rec.len < ETH_HLEN || rec.len > CRAK_VIF_MAX_FRAME || len - off < rec.len ||
		    fl->n >= CRAK_VIF_MAX_LIMIT_PACKETS ||
		    fl->bytes + rec.len > CRAK_VIF_MAX_LIMIT_BYTES)
			break;
		rec.time_ns = le64toh(f.time_ns);
		rec.data = xmalloc(rec.len);
		memcpy(rec.data, buf + off, rec.len);
		vif_frames_add(fl, &rec);
		off += (rec.len + 7) & ~7U;
	}
	if (i == nr && off == len)
		return 0;
	pr_err("%s: section %u (HELD): frame %u is broken", im->name, im->seq - 1, i + 1);
	return -1;
}

int pod_image_read_held(struct img *im, struct vif_frames *fl)
{
	uint32_t type;
	uint64_t len;
	void *buf;

	for (;;) {
		if (img_peek_type(im, &type))
			return -1;
		if (type == CRAK_IMG_END)
			return img_read_end(im);
		type = CRAK_IMG_HELD;
		buf = img_read_section(im, &type, sizeof(struct crak_img_held),
				       CRAK_IMAGE_SECTION_MAX, &len);
		if (!buf)
			return -1;
		if (read_frames(im, buf, len, fl)) {
			free(buf);
			return -1;
		}
		free(buf);
	}
}

/* -- the checkpoint ----------------------------------------------------------- */

pid_t pid_in_pod(pid_t pid)
{
	char path[64], line[256];
	pid_t in_pod = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *last;

		if (strncmp(line, "NSpid:", 6))
			continue;
		last = strrchr(line, '\t');
		in_pod = last ? atoi(last + 1) : 0;
	}
	if (f)
		fclose(f);
	return in_pod;
}

/* The pod's command: the init's child of PID POD_COMMAND_PID in the pod. */
static int find_command(struct pod_ckpt *c)
{
	char path[64], *buf = NULL, *p, *end;
	size_t cap = 0;
	long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", c->pod.pid, c->pod.pid);
	f = fopen(path, "re");
	if (f && getline(&buf, &cap, f) > 0) {
		for (p = buf; (v = strtol(p, &end, 10)), end != p && !c->cmd; p = end)
			if (pid_in_pod(v) == POD_COMMAND_PID)
				c->cmd = v;
	}
	free(buf);
	if (f)
		fclose(f);
	if (!c->cmd) {
		pr_err("checkpoint: pod '%s' has no process to checkpoint", c->pod.name);
		return -1;
	}
	c->cmd_in_pod = POD_COMMAND_PID;
	return 0;
}

/* Called by tree_checkpoint() once the processes' images are whole. */
static int complete(void *arg)
{
	struct pod_ckpt *c = arg;
	struct vif_frames fl = {};
	struct pod_ckpt_done done = { .procs = c->nr_procs };
	char go = 0;
	int err;

	/*
	 * Every process's connections are dumped: those frozen early that no
	 * process had (orphans closing) go on now, before the kill, which
	 * ends this process too.
	 */
	pod_pause_end(&c->pause);
	err = vif_frames_take(&c->vc, &fl, NULL);
	if (!err)
		err = write_held(c, &fl, false, &done);
	done.last_seq = fl.last_seq;
	done.seq = c->im.seq;
	done.offset = c->im.offset;
	vif_frames_free(&fl);
	if (err)
		return -1;
	if (send(c->sync[0], &done, sizeof(done), MSG_NOSIGNAL) != sizeof(done) ||
	    recv(c->sync[0], &go, 1, 0) != 1 || go != 'g')
		return -1;
	return 0;
}

static int vif_simple(struct vif_cmd *vc, uint8_t cmd)
{
	vif_cmd_request(vc, cmd, NLM_F_ACK);
	return nl_exec(&vc->nl, vc->what, NULL, NULL);
}

/* Thaws the crakvif, if frozen; 0, or -1 after saying why. */
static int vif_thaw(struct vif_cmd *vc)
{
	vif_cmd_request(vc, CRAK_VIF_CMD_THAW, NLM_F_ACK);
	return nl_exec_allow(&vc->nl, vc->what, NULL, NULL, EALREADY);
}

/*
 * Left running, once its sockets carry on and before it does (what it
 * sends would be dropped): the crakvif thawed, what it held (and the image
 * has) delivered.
 */
static int running(void *arg)
{
	struct pod_ckpt *c = arg;

	return vif_thaw(&c->vc);
}

/* In the pod's namespaces: freeze, checkpoint, kill; or thaw and say why. */
static void __noreturn worker(struct pod_ckpt *c)
{
	static const int ignored[] = { SIGPIPE, SIGINT, SIGQUIT, SIGHUP, SIGTERM };
	const struct ckpt_hooks hooks = {
		.leave_running = c->leave_running, .complete = complete, .running = running,
		.arg = c,
	};
	unsigned int i;

	/* Only its own failures end it: each thaws what it froze. */
	for (i = 0; i < ARRAY_SIZE(ignored); i++)
		signal(ignored[i], SIG_IGN);
	c->vc.dev = POD_IFNAME;
	snprintf(c->vc.what, sizeof(c->vc.what), "the pod's %s", POD_IFNAME);
	if (nl_open(&c->vc.nl, &vif_family) || vif_simple(&c->vc, CRAK_VIF_CMD_FREEZE))
		_exit(1);
	pod_pause(&c->pause);
	if (!tree_checkpoint(&c->im, &hooks, &c->nr_procs, c->host_pts, 0))
		_exit(0);
	pod_pause_end(&c->pause);
	/* A destination that had the process may have taken the addresses. */
	if (vif_thaw(&c->vc))
		pr_err("checkpoint %s: the pod's crakvif stays frozen", c->pod.name);
	else
		vif_simple(&c->vc, CRAK_VIF_CMD_ANNOUNCE);
	_exit(1);
}

/* A child of crak in the pod's namespaces, whose child is in its PID one. */
static pid_t start_worker(struct pod_ckpt *c)
{
	pid_t child, w;
	int pidfd, status;

	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child)
		return child;
	/* Like the grandchild, only its failures end it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	close(c->sync[1]);
	pidfd = syscall(SYS_pidfd_open, c->pod.pid, 0);
	if (pidfd < 0 || setns(pidfd, CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID)) {
		pr_err("checkpoint %s: entering the pod: %s", c->pod.name, strerror(errno));
		_exit(1);
	}
	close(pidfd);
	w = fork();
	if (w < 0) {
		pr_err("checkpoint %s: %s", c->pod.name, strerror(errno));
		_exit(1);
	}
	if (w == 0)
		worker(c);
	close(c->sync[0]);
	while (waitpid(w, &status, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static int open_output(struct pod_ckpt *c)
{
	if (!strcmp(c->out, "-")) {
		if (isatty(STDOUT_FILENO)) {
			pr_err("checkpoint: refusing to write an image to a terminal");
			return -1;
		}
		c->fd = STDOUT_FILENO;
		c->im.name = "standard output";
		return 0;
	}
	if (asprintf(&c->tmp, "%s.partial", c->out) < 0)
		die("out of memory");
	c->fd = open(c->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		pr_err("checkpoint: %s: %s", c->tmp, strerror(errno));
		return -1;
	}
	c->im.name = c->out;
	return 0;
}

/*
 * Ends a file with END and gives it its name: 0, or -1 after saying why.
 * (A stream's END waits until the process is gone.)
 */
static int finish_output(struct pod_ckpt *c)
{
	if (!c->tmp)
		return 0;
	if (write_end(c))
		return -1;
	if (fsync(c->fd) || rename(c->tmp, c->out)) {
		pr_err("checkpoint: %s: %s", c->out, strerror(errno));
		return -1;
	}
	free(c->tmp);
	c->tmp = NULL;
	c->renamed = true;
	return sync_dir(c->out);
}

/* A netlink socket to the pod's crakvif, from crak's own namespaces. */
static int vif_from_here(struct pod_ckpt *c, struct vif_cmd *vc)
{
	char path[128];

	pod_path(path, sizeof(path), POD_NETNS_DIR, c->pod.name);
	return pod_vif_open(path, vc);
}

/*
 * The pod's crakvif thawed from here, when the grandchild could not, and
 * its addresses announced: a destination that had the process may have
 * taken them over.
 */
static void thaw_from_here(struct pod_ckpt *c)
{
	struct vif_cmd vc;

	if (vif_from_here(c, &vc))
		return;
	/* Not frozen (the grandchild thawed it, or froze nothing): no harm. */
	if (!vif_thaw(&vc))
		vif_simple(&vc, CRAK_VIF_CMD_ANNOUNCE);
	nl_close(&vc.nl);
}

/*
 * On a stream, once the process is gone: the frames the crakvif came to
 * hold after the grandchild's HELD sections, in HELD sections of their own
 * (a receiver holds what comes after, once it announced the addresses).
 * Failing, they are lost, as the frames after these are: TCP sends them
 * again.
 */
static void take_rest(struct pod_ckpt *c, struct pod_ckpt_done *done)
{
	struct vif_frames since = { .last_seq = done->last_seq };
	struct vif_frames rest = {};
	struct vif_cmd vc;

	if (vif_from_here(c, &vc))
		return;
	if (!vif_frames_take(&vc, &rest, &since))
		write_held(c, &rest, true, done);
	vif_frames_free(&rest);
	nl_close(&vc.nl);
}

/*
 * After a failed migration, with the pod running here: crakd may have
 * announced the pod's addresses before it failed in its turn.  It answers
 * once its pod is gone (failing too, if it had not yet, when the stream
 * ends): then, or after 10 s, they are announced from here again.
 */
static void reclaim_addresses(struct pod_ckpt *c, struct pod_dest *dest)
{
	struct pollfd p = { .fd = dest->fd, .events = POLLIN };
	struct vif_cmd vc;

	shutdown(dest->fd, SHUT_WR);
	poll(&p, 1, 10000);
	if (vif_from_here(c, &vc))
		return;
	vif_simple(&vc, CRAK_VIF_CMD_ANNOUNCE);
	nl_close(&vc.nl);
}

static void report(const struct pod_ckpt *c, const struct pod_ckpt_done *done, double secs)
{
	FILE *out = c->fd == STDOUT_FILENO ? stderr : stdout;
	struct json j;

	if (!crak_opts.json) {
		fprintf(out, "checkpoint pod %s: %u process%s (its command %d, %d in the pod), %u frame%s held, in %.3f s; pod %s\n",
			c->pod.name, done->procs, done->procs == 1 ? "" : "es", c->cmd,
			c->cmd_in_pod, done->frames, plural(done->frames), secs,
			c->leave_running ? "left running" : "ended");
		return;
	}
	json_init(&j, out, crak_opts.pretty);
	json_open_object(&j, NULL);
	json_string(&j, "pod", c->pod.name);
	json_uint(&j, "pid", c->cmd);
	json_uint(&j, "pid_in_pod", c->cmd_in_pod);
	json_uint(&j, "processes", done->procs);
	json_uint(&j, "held_frames", done->frames);
	json_uint(&j, "held_bytes", done->bytes);
	json_double(&j, "seconds", secs);
	json_bool(&j, "left_running", c->leave_running);
	json_close_object(&j);
}

/* What the destination says, once it has the process: 0 if "ready". */
/* Why a line did not come. */
static const char *unheard(void)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return "no answer in time";
	return errno ? strerror(errno) : "the connection ended";
}

static int dest_ready(struct pod_dest *dest)
{
	char line[300] = "";

	if (mig_hear(dest->fd, line, sizeof(line))) {
		pr_err("%s: no word from crakd: %s", dest->name, unheard());
		return -1;
	}
	if (!strcmp(line, "ready"))
		return 0;
	if (!strncmp(line, "error ", 6))
		pr_err("%s: %s", dest->name, line + 6);
	else
		pr_err("%s: crakd said '%s'", dest->name, line);
	return -1;
}

/* ... and once the pod runs there: 0 if "running INIT FRAMES". */
static int dest_running(struct pod_dest *dest)
{
	char line[300] = "";
	int err;

	err = mig_hear(dest->fd, line, sizeof(line));
	if (!err && sscanf(line, "running %d %u", &dest->init, &dest->frames) == 2)
		return 0;
	pr_err("%s: the process left this node, but crakd did not say the pod runs there (%s): see crak ps there",
	       dest->name, err ? unheard() : !strncmp(line, "error ", 6) ? line + 6 : line);
	return -1;
}

int pod_checkpoint(const char *name, const char *out, struct pod_dest *dest, bool leave_running)
{
	struct pod_ckpt c = {
		.out = out, .fd = -1, .sync = { -1, -1 }, .leave_running = leave_running && !dest,
	};
	bool stream = dest || !strcmp(out, "-"), lost = false;
	struct pod_ckpt_done done;
	struct pollfd cmd = { .fd = -1, .events = POLLIN };
	bool said_go = false, ok = false;
	int err, status = 0;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigset_t old_mask;
	double t0 = now_seconds();
	struct stat st;
	pid_t child;
	ssize_t n;

	pod_check_name(name);
	raise_nofile();
	if (!stat("/dev/pts", &st))
		c.host_pts = st.st_dev;
	err = pod_record_read(name, &c.pod);
	if (err == -ENOENT)
		die("checkpoint: no pod '%s'", name);
	if (err)
		die("checkpoint: pod '%s': its record is unreadable (%s)", name, strerror(-err));
	if (!pod_alive(&c.pod))
		die("checkpoint: pod '%s' has exited", name);
	pod_postcopy_now(&c.pod);
	if (find_command(&c))
		return EXIT_FAILURE;
	cmd.fd = syscall(SYS_pidfd_open, c.cmd, 0);
	if (cmd.fd < 0)
		die("checkpoint: pod '%s': its process %d: %s", name, c.cmd, strerror(errno));
	/* A closed output fails a write, and the process runs on. */
	sigaction(SIGPIPE, &ign, &old_pipe);
	if (dest) {
		c.fd = dest->fd;
		c.im.name = c.out = dest->name;
		dest->t_start = t0;
	} else if (open_output(&c)) {
		goto out;
	}
	c.im.fd = c.fd;
	if (write_pod(&c))
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c.sync)) {
		pr_err("checkpoint: %s", strerror(errno));
		goto out;
	}
	child = start_worker(&c);
	if (child < 0) {
		pr_err("checkpoint: %s", strerror(errno));
		goto out;
	}
	close(c.sync[0]);
	c.sync[0] = -1;
	n = recv(c.sync[1], &done, sizeof(done), 0);
	/*
	 * From the word "go" on, the process is on its way out: a Ctrl-C must
	 * not leave it half gone (killed here, never ended there).
	 */
	block_stop_signals(&old_mask);
	if (n == sizeof(done)) {
		c.im.seq = done.seq;
		c.im.offset = done.offset;
		if (dest)
			dest->t_sent = now_seconds();
		said_go = !(dest ? dest_ready(dest) : finish_output(&c)) &&
			  send(c.sync[1], "g", 1, MSG_NOSIGNAL) == 1;
		if (dest)
			dest->t_ready = now_seconds();
		if (!said_go)
			send(c.sync[1], "n", 1, MSG_NOSIGNAL);
	}
	while ((err = waitpid(child, &status, 0)) < 0 && errno == EINTR)
		;
	/*
	 * Once told to go on, the grandchild kills the process; the pod's init
	 * then ends, and with it everything in the pod's PID namespace, the
	 * grandchild perhaps before it could say so.  The process being gone
	 * says it (it may take a moment to go).
	 */
	ok = said_go && ((err > 0 && WIFEXITED(status) && !WEXITSTATUS(status)) ||
			 (!c.leave_running && poll(&cmd, 1, 5000) == 1));
	if (ok && stream && !c.leave_running)
		take_rest(&c, &done);
	if (ok && stream && write_end(&c)) {
		pr_err("checkpoint %s: %s, but its image did not end", name,
		       c.leave_running ? "the pod runs on" : "the process is gone");
		lost = true;
	}
	if (ok && dest && !lost) {
		lost = dest_running(dest);
		dest->t_running = now_seconds();
	}
	if (!ok && poll(&cmd, 1, 0) == 0) {
		thaw_from_here(&c);
		if (dest)
			reclaim_addresses(&c, dest);
	}
	if (!ok && c.renamed)
		unlink(c.out);
	if (ok) {
		if (!c.leave_running)
			pod_teardown(&c.pod, "checkpoint");
		if (!dest && !lost)
			report(&c, &done, now_seconds() - t0);
	}
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
out:
	if (c.tmp)
		unlink(c.tmp);
	free(c.tmp);
	if (c.sync[0] >= 0)
		close(c.sync[0]);
	if (c.sync[1] >= 0)
		close(c.sync[1]);
	if (c.fd >= 0 && c.fd != STDOUT_FILENO && !dest)
		close(c.fd);
	close(cmd.fd);
	sigaction(SIGPIPE, &old_pipe, NULL);
	return ok && !lost ? 0 : EXIT_FAILURE;
}
