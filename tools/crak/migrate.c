// SPDX-License-Identifier: GPL-2.0
/*
 * crak migrate NAME --to ADDR:PORT --key FILE: a pod to crakd on another
 * node, over TCP (mig.h says how), without a shared filesystem.
 *
 * crak connects, proves it holds the key (and that crakd does), then
 * checkpoints the pod into the connection (pod_checkpoint): the pod's
 * process is killed only once crakd says it has it, and the pod here taken
 * down once crakd says it runs.  A failure before crakd has the process
 * leaves the pod running here, its held frames delivered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "mig.h"
#include "objects.h"
#include "pod.h"
#include "precopy.h"

/* How long a connection to crakd may wait for a word: a restore can be slow. */
#define MIG_TIMEOUT	120

static int dial(const struct endpoint *to, const char *name)
{
	struct sockaddr_storage ss;
	socklen_t len = endpoint_sockaddr(to, &ss);
	int fd;

	fd = socket(to->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pr_err("migrate: %s", strerror(errno));
		return -1;
	}
	/* connect() gives up after the send timeout. */
	mig_timeouts(fd, 10);
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		pr_err("migrate: %s: %s", name, errno == EINPROGRESS || errno == EAGAIN ?
		       "no answer" : strerror(errno));
		close(fd);
		return -1;
	}
	mig_timeouts(fd, MIG_TIMEOUT);
	return fd;
}

static uint64_t bytes_sent(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 0;
	return ti.tcpi_bytes_acked ? ti.tcpi_bytes_acked - 1 : 0;
}

/* Whether crakd has said something already: only an error, before the pod stops. */
static bool crakd_refused(const struct pod_dest *d)
{
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	char line[512];

	if (poll(&pfd, 1, 0) != 1)
		return false;
	if (mig_hear(d->fd, line, sizeof(line)))
		pr_err("migrate: %s: the connection ended", d->name);
	else
		pr_err("migrate: %s: %s", d->name, strncmp(line, "error ", 6) ? line : line + 6);
	return true;
}

static void report(const char *pod, const struct pod_dest *d, double t_auth, uint64_t bytes,
		   const struct precopy_stats *pre, uint64_t pre_bytes)
{
	double down = d->t_running - d->t_start;
	struct json j;

	if (!crak_opts.json) {
		printf("migrated pod %s to %s: downtime %.3f s (image sent %.3f s, restored there %.3f s, running there %.3f s), %.1f MiB sent, %u held frame%s delivered; connecting %.3f s\n",
		       pod, d->name, down, d->t_sent - d->t_start, d->t_ready - d->t_sent,
		       d->t_running - d->t_ready, bytes / 1048576.0, d->frames,
		       plural(d->frames), t_auth);
		if (pre)
			printf("sent ahead while it ran: %.1f MiB of %u process%s in %u round%s (the last %.1f MiB) in %.3f s\n",
			       pre->pages * (double)sysconf(_SC_PAGESIZE) / 1048576.0, pre->procs,
			       pre->procs == 1 ? "" : "es", pre->rounds, plural(pre->rounds),
			       pre->last * (double)sysconf(_SC_PAGESIZE) / 1048576.0, pre->seconds);
		return;
	}
	json_init(&j, stdout, crak_opts.pretty);
	json_open_object(&j, NULL);
	json_string(&j, "pod", pod);
	json_string(&j, "to", d->name);
	json_double(&j, "downtime", down);
	json_double(&j, "sent", d->t_sent - d->t_start);
	json_double(&j, "restored", d->t_ready - d->t_sent);
	json_double(&j, "running", d->t_running - d->t_ready);
	json_double(&j, "connecting", t_auth);
	json_uint(&j, "bytes", bytes);
	json_uint(&j, "delivered", d->frames);
	json_uint(&j, "init", d->init);
	if (pre) {
		json_open_object(&j, "live");
		json_uint(&j, "procs", pre->procs);
		json_uint(&j, "pages", pre->pages);
		json_uint(&j, "rounds", pre->rounds);
		json_uint(&j, "last_pages", pre->last);
		json_uint(&j, "bytes", pre_bytes);
		json_double(&j, "seconds", pre->seconds);
		json_close_object(&j);
	}
	json_close_object(&j);
}

static int cmd_migrate(struct args *args)
{
	bool seen_to = false, seen_key = false, live = false, seen_live = false;
	const char *word, *name = NULL, *to = NULL, *keyfile = NULL;
	char peer[ENDPOINT_STRLEN];
	struct precopy_stats pre;
	struct pod_dest dest = {};
	uint64_t pre_bytes = 0;
	struct endpoint ep;
	struct mig_key key;
	struct pod pod;
	double t0;
	int ret;

	while ((word = arg_next(args))) {
		if (arg_keyword(word, "--to", &seen_to))
			to = arg_value(args, "ADDR:PORT after --to");
		else if (arg_keyword(word, "--key", &seen_key))
			keyfile = arg_value(args, "key file after --key");
		else if (arg_keyword(word, "--live", &seen_live))
			live = true;
		else if (*word != '-' && !name)
			name = word;
		else
			arg_unexpected(word);
	}
	if (!name)
		die_usage("missing pod NAME");
	pod_check_name(name);
	if (!to)
		die_usage("missing --to ADDR:PORT");
	if (parse_endpoint(to, &ep) || !ep.port)
		die_usage("invalid destination '%s' (ADDR:PORT or [ADDR6]:PORT)", to);
	if (!keyfile)
		die_usage("missing --key FILE");
	if (mig_key_read(keyfile, &key))
		return EXIT_FAILURE;
	format_endpoint(&ep, peer, sizeof(peer));

	t0 = now_seconds();
	dest.fd = dial(&ep, peer);
	if (dest.fd < 0)
		return EXIT_FAILURE;
	dest.name = peer;
	if (mig_auth_client(dest.fd, &key, peer)) {
		close(dest.fd);
		return EXIT_FAILURE;
	}
	t0 = now_seconds() - t0;
	if (live) {
		ret = pod_record_read(name, &pod);
		if (ret || !pod_alive(&pod)) {
			pr_err("migrate: no pod '%s' running", name);
			close(dest.fd);
			return EXIT_FAILURE;
		}
		/*
		 * A post-copy still under way fills the rest now, not after the
		 * pre-copy: it skips a process still being filled (pod_checkpoint
		 * says it again, for a migration without --live).
		 */
		pod_postcopy_now(&pod);
		/* A failure here costs the pod nothing: crakd drops what it got. */
		if (precopy_send(&pod, dest.fd, &pre) || crakd_refused(&dest)) {
			close(dest.fd);
			return EXIT_FAILURE;
		}
		pre_bytes = pre.bytes;
	}
	ret = pod_checkpoint(name, peer, &dest, false);
	if (!ret) {
		uint64_t bytes = bytes_sent(dest.fd);

		/* The image's bytes: what was sent ahead is not in them. */
		report(name, &dest, t0, bytes > pre_bytes ? bytes - pre_bytes : 0,
		       live ? &pre : NULL, pre_bytes);
	}
	close(dest.fd);
	return ret;
}

const struct object migrate_object = {
	.name = "migrate",
	.summary = "a pod to another node, where crakd runs",
	.synopsis = "NAME --to ADDR:PORT --key FILE [--live]",
	.help =
	"Moves pod NAME (of 'crak run') to the node where crakd listens at\n"
	"ADDR:PORT, over TCP: no shared filesystem needed.  Both ends prove they\n"
	"hold the same key first.  The pod's crakvif is frozen, its processes\n"
	"checkpointed into the connection, and killed only once crakd has\n"
	"restarted them there (frozen); crakd then delivers what was held and\n"
	"announces the pod's addresses, and the pod here is taken down.  If\n"
	"anything fails before crakd has the process, the pod runs on here as if\n"
	"nothing happened.  Prints the downtime, its phases and the bytes sent.\n"
	"\n"
	"  --to ADDR:PORT  crakd's address: ADDR:PORT, or [ADDR6]:PORT\n"
	"  --key FILE      the key crakd holds: 16 bytes or more, the file\n"
	"                  readable by its owner only\n"
	"  --live          first send the pod's memory while it runs (its\n"
	"                  processes' own pages of their private mappings),\n"
	"                  then stop it: its image leaves out the pages not\n"
	"                  written since they were sent (the kernel's soft-dirty\n"
	"                  bits tell), so the downtime grows with what it\n"
	"                  writes, not with its size.  One pass\n"
	"  -j              the summary as JSON\n"
	"\n"
	"The key proves who opens the connection, not what comes through it\n"
	"later, and nothing is encrypted: use a trusted segment (or IPsec or\n"
	"WireGuard); the key is as good as root on every node whose crakd has it.\n",
	.run = cmd_migrate,
};
