// SPDX-License-Identifier: GPL-2.0
/*
 * A tree's image, outside a pod: crak checkpoint --tree PID takes PID and
 * every process under it (ckpt_tree.c), crak restart of the image makes
 * them again (restart_tree.c), PID a child of crak restart, which waits for
 * it as a shell would.  The layout is uapi/linux/crak_image.h's: TREE_HEAD,
 * TREE, the shared files, the process images, END.
 *
 * Neither side can be stopped halfway by a signal from the terminal: a
 * checkpoint ends with every process killed and the image whole, or every
 * process running on and no image; a restart with every process running,
 * or none.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "json.h"
#include "restart.h"
#include "tree.h"

/* What a restart reads of TREE: as a pod image of this minor has it. */
#define TREE_POD_MINOR	2

struct tree_ckpt {
	struct checkpoint out;		/* its output only */
	struct img im;			/* the tree's own sections */
	pid_t root;
	bool leave_running;
};

/* -- the checkpoint ----------------------------------------------------------- */

/*
 * Called by tree_checkpoint() once every process's image is written: a
 * file ends now and takes its name before any process is let go.  A
 * stream's END waits until they are gone (a restart reading it runs them
 * only then).
 */
static int complete(void *arg)
{
	struct tree_ckpt *tc = arg;

	if (!tc->out.tmp)
		return 0;
	return img_write_end(&tc->im) || ckpt_output_finish(&tc->out) ? -1 : 0;
}

static void report(const struct tree_ckpt *tc, unsigned int procs, double secs)
{
	FILE *out = tc->out.imgfd == STDOUT_FILENO ? stderr : stdout;
	struct json j;

	if (!crak_opts.json) {
		fprintf(out, "checkpoint tree %d: %u process%s in %.3f s; %s\n", tc->root, procs,
			procs == 1 ? "" : "es", secs, tc->leave_running ? "left running" : "killed");
		return;
	}
	json_init(&j, out, crak_opts.pretty);
	json_open_object(&j, NULL);
	json_uint(&j, "pid", tc->root);
	json_uint(&j, "processes", procs);
	json_double(&j, "seconds", secs);
	json_bool(&j, "left_running", tc->leave_running);
	json_close_object(&j);
}

int tree_image_checkpoint(pid_t root, const char *out, bool leave_running)
{
	struct tree_ckpt tc = {
		.out = { .out = out, .memfd = -1, .pidfd = -1, .imgfd = -1, .sessfd = -1 },
		.root = root, .leave_running = leave_running,
	};
	const struct ckpt_hooks hooks = {
		.leave_running = leave_running, .complete = complete, .arg = &tc,
	};
	struct crak_img_tree_head head = {
		.magic = htole32(CRAK_TREE_MAGIC),
		.version = htole16(CRAK_TREE_VERSION),
		.minor = htole16(CRAK_TREE_MINOR),
		.root = htole32(root),
	};
	double t0 = now_seconds();
	unsigned int procs = 0;
	sigset_t old;
	int err;

	if (ckpt_output_open(&tc.out))
		return EXIT_FAILURE;
	tc.im.fd = tc.out.imgfd;
	tc.im.name = tc.out.im.name;
	/* A reader gone is a write error, said; the rest, once it is done. */
	signal(SIGPIPE, SIG_IGN);
	block_stop_signals(&old);
	err = img_write_section(&tc.im, CRAK_IMG_TREE_HEAD, &head, sizeof(head));
	if (!err)
		err = tree_checkpoint(&tc.im, &hooks, &procs, 0, root);
	if (!err && !tc.out.tmp && !tc.out.renamed && img_write_end(&tc.im)) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		pr_err("checkpoint tree %d: the stream ends without END: its restart fails%s", root,
		       leave_running ? "" : " (the processes are gone)");
		return EXIT_FAILURE;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (err == -2) {
		/* Some are gone already: the image is all that is left of them. */
		if (tc.out.renamed)
			pr_err("checkpoint tree %d: %s holds the tree as it was stopped", root, out);
		return EXIT_FAILURE;
	}
	if (err) {
		/* They run on as if nothing happened: no image of them is left. */
		if (tc.out.renamed)
			unlink(out);
		ckpt_output_drop(&tc.out);
		return EXIT_FAILURE;
	}
	report(&tc, procs, now_seconds() - t0);
	ckpt_output_drop(&tc.out);
	return 0;
}

/* -- the restart -------------------------------------------------------------- */

int tree_image_read_head(struct img *im, pid_t *root)
{
	uint32_t type = CRAK_IMG_TREE_HEAD;
	struct crak_img_tree_head h;
	uint64_t len;
	void *buf;

	buf = img_read_section(im, &type, sizeof(h), CRAK_IMAGE_SECTION_MAX, &len);
	if (!buf)
		return -1;
	memcpy(&h, buf, sizeof(h));
	free(buf);
	if (le32toh(h.magic) != CRAK_TREE_MAGIC) {
		pr_err("%s: not a crak tree image", im->name);
		return -1;
	}
	if (le16toh(h.version) != CRAK_TREE_VERSION) {
		pr_err("%s: tree image version %u; this crak reads version %u", im->name,
		       le16toh(h.version), CRAK_TREE_VERSION);
		return -1;
	}
	*root = le32toh(h.root);
	if (*root <= 1) {
		pr_err("%s: the tree image's root is invalid", im->name);
		return -1;
	}
	return 0;
}

static void restarted(pid_t root, const struct tree_restart *tr)
{
	if (crak_opts.json)
		printf("{\"pid\":%d,\"processes\":%u}\n", root, tr->nr);
	else
		printf("restarted tree %d: %u process%s\n", root, tr->nr, tr->nr == 1 ? "" : "es");
}

int tree_image_restart(struct img *im, bool detach, const char *pidfile)
{
	struct tree_restart tr;
	struct restart **rs = NULL;
	sigset_t old;
	pid_t root;
	int ret = EXIT_FAILURE;

	if (tree_image_read_head(im, &root) || tree_read(im, TREE_POD_MINOR, 0, &tr) < 0)
		return EXIT_FAILURE;
	if (tree_command(&tr) != root) {
		pr_err("%s: the tree image's root is not its command", im->name);
		goto out;
	}
	/*
	 * Every process whole and held, the image read to its END; then they
	 * run, children first.  On a failure the held ones are killed (as the
	 * kernel kills them if crak dies first: CRAK_CKPT_A_HOLD_KILL).
	 */
	block_stop_signals(&old);
	if (tree_restart_all(&tr, im, &rs) || img_read_end(im) ||
	    (pidfile && restart_write_pidfile(pidfile, root))) {
		tree_kill(&tr, rs);
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	if (tree_go(&tr, rs)) {
		tree_kill(&tr, rs);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (pidfile)
			unlink(pidfile);
		goto out;
	}
	/* ^C meanwhile was for the tree's start: crak waits on (restart_wait()). */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (detach) {
		restarted(root, &tr);
		ret = 0;
		goto out;
	}
	tree_free_restart(&tr);
	return restart_wait(root);
out:
	tree_free_restart(&tr);
	return ret;
}
