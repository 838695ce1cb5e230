// SPDX-License-Identifier: GPL-2.0
/*
 * crakd --listen ADDR:PORT --key FILE: receives pods that crak migrate sends
 * (mig.h says how), and makes them again here.
 *
 * It runs in the foreground and logs to standard error, as a supervisor
 * (systemd) expects; SIGTERM or SIGINT end it cleanly (a migration under way
 * goes on in its own process, which ignores them).  Each connection is a
 * process of its own (CRAKD_MAX migrations at once, CRAKD_CONNS
 * connections): it refuses a peer that does not
 * prove it holds the key within CRAKD_AUTH_TIME before reading anything
 * else from it, then restarts the pod from the stream (pod_restart),
 * telling the sender when it has the process and when the pod runs, or why
 * it failed.  The pods it makes outlive it: under systemd, KillMode=process.
 *
 * The key proves who opened a connection, not what comes through it
 * afterwards, and nothing is encrypted: the key is as good as root on every
 * node whose crakd holds it, and the nodes' segment must be trusted (or
 * carried by IPsec or WireGuard).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "cmd.h"
#include "image.h"
#include "mig.h"
#include "pod.h"
#include "postcopy.h"
#include "precopy.h"

/* How long a connection may be silent; a sender waits for a restore, not us. */
#define CRAKD_TIMEOUT	60
/* How long a sender has to prove it holds the key, in all. */
#define CRAKD_AUTH_TIME	15
/* Migrations at once. */
#define CRAKD_MAX	8
/*
 * Connections at once, most of them still to prove the key: a stranger's
 * do not take the migrations' places, which a connection asks crakd for
 * once its sender proved the key (CRAKD_SIG_ASK), and gets (_GRANT) or not
 * (_BUSY).  (Signals: nothing of it is left in the pods a connection makes.)
 */
#define CRAKD_CONNS	64
#define CRAKD_SIG_ASK	(SIGRTMIN)
#define CRAKD_SIG_GRANT	(SIGRTMIN + 1)
#define CRAKD_SIG_BUSY	(SIGRTMIN + 2)

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Interrupts accept(): the loop reaps. */
static void on_child(int sig)
{
	(void)sig;
}

/* The connections that hold a migration's place (0: a free place). */
static pid_t migrations[CRAKD_MAX];
/* crakd's own PID: a connection asks it, and no other process, for one. */
static pid_t crakd_pid;

/* A connection's sender proved the key: a place for its migration, if any. */
static void on_ask(int sig, siginfo_t *si, void *uc)
{
	int i;

	(void)sig;
	(void)uc;
	for (i = 0; i < CRAKD_MAX; i++) {
		if (!migrations[i]) {
			migrations[i] = si->si_pid;
			kill(si->si_pid, CRAKD_SIG_GRANT);
			return;
		}
	}
	kill(si->si_pid, CRAKD_SIG_BUSY);
}

/* In a connection: 0 once crakd gave it a migration's place, else -1. */
static int take_place(void)
{
	struct timespec wait = { .tv_sec = CRAKD_AUTH_TIME };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, CRAKD_SIG_GRANT);
	sigaddset(&set, CRAKD_SIG_BUSY);
	/* (Blocked since crakd started: an answer waits for us.) */
	if (getppid() != crakd_pid || kill(crakd_pid, CRAKD_SIG_ASK))
		sig = -1;
	else
		sig = sigtimedwait(&set, NULL, &wait);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return sig == CRAKD_SIG_GRANT ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: crakd --listen ADDR:PORT --key FILE [--lazy-delay MS]\n"
		"\n"
		"Receives the pods that 'crak migrate NAME --to ADDR:PORT --key FILE'\n"
		"sends from other nodes and makes them again here: their network\n"
		"namespace and crakvif (same MAC and addresses, on the device of the\n"
		"same name), their process, and the frames held for them.  A sender\n"
		"that does not prove it holds the key is refused before anything else\n"
		"is read.  Runs in the foreground, logs to standard error; SIGTERM\n"
		"ends it.\n"
		"\n"
		"  --listen ADDR:PORT  where to listen: ADDR:PORT or [ADDR6]:PORT\n"
		"                      (0.0.0.0 or [::] for every address)\n"
		"  --key FILE          the key the senders hold: 16 bytes or more, the\n"
		"                      file readable by its owner only\n"
		"  --lazy-delay MS     of the memory 'crak migrate --live' sent ahead,\n"
		"                      fill only what the pod touches for its first MS\n"
		"                      milliseconds, the rest after, or at once when\n"
		"                      crak checkpoints or migrates the pod (default 0)\n");
}

static int listen_on(const struct endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t len = endpoint_sockaddr(ep, &ss);
	int fd, one = 1;

	fd = socket(ep->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		pr_err("listening: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void peer_name(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	struct endpoint ep = { .family = ss->ss_family };

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		memcpy(ep.addr, &a->sin_addr, 4);
		ep.port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const void *)ss;

		memcpy(ep.addr, &a->sin6_addr, 16);
		ep.port = ntohs(a->sin6_port);
	}
	format_endpoint(&ep, buf, size);
}

/*
 * Reads what the sender still sends until it closes, so that it gets to
 * read why we failed: closing with its data unread would reset the
 * connection under its feet.
 */
static void drain(int fd)
{
	char buf[65536];

	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* One sender, in a process of its own. */
static void __noreturn serve(int fd, const char *peer, struct mig_key *key)
{
	struct img im = { .fd = fd, .name = peer };
	uint32_t type;

	/* A migration under way is not stopped by what stops crakd. */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	mig_timeouts(fd, CRAKD_TIMEOUT);
	/* A sender that dawdles over its proof is dropped (SIGALRM ends us). */
	signal(SIGALRM, SIG_DFL);
	alarm(CRAKD_AUTH_TIME);
	if (mig_auth_server(fd, key, peer))
		_exit(1);
	alarm(0);
	/* Not needed any more, nor left in the pods this process makes. */
	explicit_bzero(key, sizeof(*key));
	signal(CRAKD_SIG_ASK, SIG_DFL);
	if (take_place()) {
		pr_err("%s: refused: %d migrations under way already", peer, CRAKD_MAX);
		mig_say(fd, "error crakd has %d migrations under way already", CRAKD_MAX);
		drain(fd);
		_exit(1);
	}
	/* crak migrate --live: what it sent ahead of the image. */
	while (!img_peek_type(&im, &type) && type == PRECOPY_RECORD_TYPE) {
		im.peeked = false;
		im.offset = 0;
		if (precopy_take(&im.hdr, fd, peer)) {
			mig_say(fd, "error a page record failed (crakd's log says why)");
			drain(fd);
			_exit(1);
		}
	}
	if (!im.peeked)
		_exit(1);
	if (type != CRAK_IMG_POD) {
		pr_err("%s: sends something else than a pod", peer);
		mig_say(fd, "error crakd takes pods");
		drain(fd);
		_exit(1);
	}
	last_error_clear();
	if (pod_restart(&im, true, NULL, fd)) {
		mig_say(fd, "error %s", *last_error() ? last_error() :
			"the restart failed (crakd's log says why)");
		pr_err("%s: the pod was not restarted", peer);
		drain(fd);
		_exit(1);
	}
	_exit(0);
}

int crakd_main(int argc, char **argv)
{
	struct sigaction stop = { .sa_handler = on_stop };	/* no SA_RESTART */
	struct sigaction child = { .sa_handler = on_child, .sa_flags = SA_NOCLDSTOP };
	struct sigaction ask = { .sa_sigaction = on_ask, .sa_flags = SA_SIGINFO };
	sigset_t answers, asks, old;
	unsigned int active = 0;
	const char *listen_word = NULL, *keyfile = NULL;
	char self[ENDPOINT_STRLEN];
	struct endpoint ep;
	struct mig_key key;
	int lfd, i;

	prog_name = "crakd";
	/* What crakd inherited stays out of the pods it makes. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen_word = argv[++i];
		} else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
			keyfile = argv[++i];
		} else if (!strcmp(argv[i], "--lazy-delay") && i + 1 < argc) {
			char *end;
			unsigned long ms;

			errno = 0;
			ms = strtoul(argv[++i], &end, 10);
			if (errno || end == argv[i] || *end || argv[i][0] == '-' || ms > 3600000) {
				pr_err("invalid --lazy-delay '%s' (milliseconds, at most 3600000)",
				       argv[i]);
				return EXIT_USAGE;
			}
			postcopy_delay_ms = ms;
		} else {
			pr_err("unexpected '%s' (crakd --help says more)", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!listen_word || !keyfile) {
		pr_err("missing --%s (crakd --help says more)", listen_word ? "key FILE" :
		       "listen ADDR:PORT");
		return EXIT_USAGE;
	}
	if (parse_endpoint(listen_word, &ep) || !ep.port) {
		pr_err("invalid address '%s' (ADDR:PORT or [ADDR6]:PORT)", listen_word);
		return EXIT_USAGE;
	}
	if (mig_key_read(keyfile, &key))
		return EXIT_FAILURE;
	lfd = listen_on(&ep);
	if (lfd < 0)
		return EXIT_FAILURE;
	/* What pod_restart prints is the log's too. */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGCHLD, &child, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A connection's answer waits, blocked, for its sigtimedwait(). */
	sigemptyset(&answers);
	sigaddset(&answers, CRAKD_SIG_GRANT);
	sigaddset(&answers, CRAKD_SIG_BUSY);
	sigprocmask(SIG_BLOCK, &answers, NULL);
	crakd_pid = getpid();
	sigemptyset(&ask.sa_mask);
	sigaction(CRAKD_SIG_ASK, &ask, NULL);
	sigemptyset(&asks);
	sigaddset(&asks, CRAKD_SIG_ASK);
	format_endpoint(&ep, self, sizeof(self));
	fprintf(stderr, "crakd: listening on %s\n", self);

	while (!stopping) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char peer[ENDPOINT_STRLEN];
		pid_t pid;
		int fd;

		/* (A place given back is not given meanwhile.) */
		sigprocmask(SIG_BLOCK, &asks, &old);
		while (active && (pid = waitpid(-1, NULL, WNOHANG)) > 0) {
			active--;
			for (i = 0; i < CRAKD_MAX; i++)
				if (migrations[i] == pid)
					migrations[i] = 0;
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED) {
				pr_err("accept: %s", strerror(errno));
				sleep(1);	/* out of descriptors or memory: not a busy loop */
			}
			continue;
		}
		peer_name(&ss, peer, sizeof(peer));
		if (active >= CRAKD_CONNS) {
			pr_err("%s: refused: %d connections open already", peer, CRAKD_CONNS);
			close(fd);
			continue;
		}
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid == 0) {
			close(lfd);
			serve(fd, peer, &key);
		}
		if (pid < 0)
			pr_err("%s: %s", peer, strerror(errno));
		else
			active++;
		close(fd);
	}
	close(lfd);
	fprintf(stderr, "crakd: stopped\n");
	return 0;
}
