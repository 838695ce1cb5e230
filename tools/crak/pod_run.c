// SPDX-License-Identifier: GPL-2.0
/*
 * crak run --name NAME --addr A[,A6] --link LOWER [--gw G[,G6]] [--detach] -- CMD...
 *
 * crak makes the pod's network namespace by entering a new one and binding
 * it at /run/netns/NAME (which it makes a shared mount, as ip-netns(8) does,
 * so that unbinding it reaches every mount namespace), configures it through
 * a route netlink socket opened there (loopback), then comes back to add a
 * crakvif on LOWER, moves it into the pod as eth0 and configures it.  The
 * pod's init (crak-pod-init) is a clone of crak in new PID, mount and UTS
 * namespaces: it joins the pod's network namespace, names the host, mounts a
 * private /tmp, the /proc of its PID namespace and a devpts of its own
 * (bound at /dev/ptmx too), runs CMD as PID 2, reaps
 * whatever is orphaned to it, and exits as CMD exits.  Whatever went wrong on
 * the way, what was made is undone in reverse order.
 *
 * crak restart of a pod's image (pod_restart) makes the pod the same way
 * from what the image says, with the crakvif's MAC and frozen before it
 * comes up (silent until the process is back); the init restarts the
 * image's processes with their PIDs instead of running a command; then crak
 * gives the crakvif what was held for the pod and thaws it, which announces
 * the pod's addresses here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "json.h"
#include "mig.h"
#include "objects.h"
#include "pcap.h"
#include "pod.h"
#include "postcopy.h"
#include "precopy.h"
#include "restart.h"
#include "tree.h"
#include "vif.h"

struct run {
	struct pod pod;
	bool detach;
	char **cmd;
	int lower;			/* ifindex of the lower device */
	char netns_path[128];
	int nsfd;			/* the pod's network namespace */
	struct rtnl host, in_pod;	/* sockets in crak's namespace and the pod's */
	int status[2];			/* the init's errors, a pipe */
	int commit[2];			/* a restart: crak's word that the pod is whole */
	struct img *image;		/* a restart: the pod's image, at its process */
	struct tree_restart tree;	/* a restart: its processes (tree.nr 0: one) */
	const unsigned char *mac;	/* a restart: the crakvif's */
	/* What was made, for undo(). */
	bool netns_file, netns_bound, record;
	int host_ifindex;		/* the crakvif, before it moved */
	int ifindex;			/* the crakvif in the pod */
	pid_t init;
};

static volatile sig_atomic_t forward_to;

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

/* What they were before the init forwarded them, for the command. */
static struct sigaction forwarded_old[ARRAY_SIZE(forwarded)];

/* -- the command line ------------------------------------------------------- */

static void parse_addrs(const char *list, struct ipnet *a, unsigned int *n, unsigned int max,
			bool gw)
{
	char *copy = xstrdup(list), *word, *save = NULL;
	unsigned int i;

	for (word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
		if (*n == max)
			die_usage("too many %s in '%s'", gw ? "gateways" : "addresses", list);
		if (parse_ipnet(word, &a[*n]) || (gw && strchr(word, '/')))
			die_usage("invalid %s '%s'", gw ? "gateway" : "address", word);
		for (i = 0; gw && i < *n; i++)
			if (a[i].family == a[*n].family)
				die_usage("two gateways of one family in '%s'", list);
		(*n)++;
	}
	if (!*n)
		die_usage("no %s in '%s'", gw ? "gateway" : "address", list);
	free(copy);
}

static void parse_run_args(struct args *args, struct run *r)
{
	bool seen_name = false, seen_addr = false, seen_link = false, seen_gw = false;
	bool seen_detach = false, has_family[2] = { false, false };
	const char *word, *name = NULL, *link = NULL;
	struct pod *p = &r->pod;
	unsigned int i;

	while ((word = arg_next(args)) && strcmp(word, "--")) {
		if (arg_keyword(word, "--name", &seen_name))
			name = arg_value(args, "NAME after --name");
		else if (arg_keyword(word, "--addr", &seen_addr))
			parse_addrs(arg_value(args, "addresses after --addr"), p->addrs,
				    &p->n_addrs, POD_MAX_ADDRS, false);
		else if (arg_keyword(word, "--link", &seen_link))
			link = arg_value(args, "device after --link");
		else if (arg_keyword(word, "--gw", &seen_gw))
			parse_addrs(arg_value(args, "gateways after --gw"), p->gws, &p->n_gws, 2,
				    true);
		else if (arg_keyword(word, "--detach", &seen_detach))
			r->detach = true;
		else
			arg_unexpected(word);
	}
	if (!name)
		die_usage("missing --name NAME");
	pod_check_name(name);
	if (!seen_addr)
		die_usage("missing --addr ADDR/PREFIX");
	if (!link)
		die_usage("missing --link DEVICE");
	if (!*link || strlen(link) >= IFNAMSIZ || strchr(link, '/'))
		die_usage("invalid device name '%s'", link);
	if (!word || args->argc == 0)
		die_usage("missing -- CMD");
	r->cmd = args->argv;

	for (i = 0; i < p->n_addrs; i++)
		has_family[p->addrs[i].family == AF_INET6] = true;
	for (i = 0; i < p->n_gws; i++)
		if (!has_family[p->gws[i].family == AF_INET6])
			die_usage("gateway of a family the pod has no address of");
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->link, sizeof(p->link), "%s", link);
	pod_path(r->netns_path, sizeof(r->netns_path), POD_NETNS_DIR, name);
}

/* -- making it, and undoing it ------------------------------------------------ */

/* Whether /run/netns/NAME still binds the namespace this run made. */
static bool ours(const struct run *r)
{
	struct stat st;

	return !stat(r->netns_path, &st) && st.st_ino == r->pod.netns_ino;
}

static void undo(struct run *r)
{
	if (r->init > 0) {
		kill(r->init, SIGKILL);
		while (waitpid(r->init, NULL, 0) < 0 && errno == EINTR)
			;
		r->init = 0;
	}
	if (r->host_ifindex)
		rtnl_link_del(&r->host, r->host_ifindex);
	if (r->ifindex)
		rtnl_link_del(&r->in_pod, r->ifindex);
	/*
	 * A checkpoint of the pod may have taken them down already, and a
	 * restart made a pod of the same name since: only what is still ours.
	 */
	if (r->netns_bound && !ours(r))
		r->netns_bound = r->netns_file = r->record = false;
	if (r->netns_bound && umount2(r->netns_path, MNT_DETACH) && errno != EINVAL &&
	    errno != ENOENT)
		pr_err("run %s: unmounting %s: %s", r->pod.name, r->netns_path, strerror(errno));
	if (r->netns_file && unlink(r->netns_path) && errno != ENOENT)
		pr_err("run %s: %s: %s", r->pod.name, r->netns_path, strerror(errno));
	if (r->record) {
		char path[128];

		pod_path(path, sizeof(path), POD_RUN_DIR, r->pod.name);
		unlink(path);
	}
	if (r->nsfd >= 0)
		close(r->nsfd);
	r->nsfd = -1;
	r->host_ifindex = r->ifindex = 0;
	r->netns_bound = r->netns_file = r->record = false;
}

/* /run/netns, a shared mount, so that an unbinding reaches other mount namespaces. */
static int netns_dir_shared(void)
{
	if (mkdir(POD_NETNS_DIR, 0755) && errno != EEXIST)
		return -1;
	if (!mount("", POD_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL))
		return 0;
	if (errno != EINVAL)
		return -1;
	/* Not a mount point yet: make it one. */
	if (mount(POD_NETNS_DIR, POD_NETNS_DIR, "none", MS_BIND | MS_REC, NULL))
		return -1;
	return mount("", POD_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL);
}

/* The pod's network namespace, bound at /run/netns/NAME, its loopback up. */
static int make_netns(struct run *r)
{
	int fd, oldfd, ifindex, err;
	unsigned char mac[6];
	struct stat st;

	if (netns_dir_shared()) {
		pr_err("run: %s: %s", POD_NETNS_DIR, strerror(errno));
		return -1;
	}
	fd = open(r->netns_path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0) {
		if (errno == EEXIST)
			pr_err("run: a network namespace named '%s' exists (%s)", r->pod.name,
			       r->netns_path);
		else
			pr_err("run: %s: %s", r->netns_path, strerror(errno));
		return -1;
	}
	close(fd);
	r->netns_file = true;

	oldfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (oldfd < 0 || unshare(CLONE_NEWNET)) {
		pr_err("run: a new network namespace: %s", strerror(errno));
		if (oldfd >= 0)
			close(oldfd);
		return -1;
	}
	err = rtnl_open(&r->in_pod);
	if (!err && mount("/proc/thread-self/ns/net", r->netns_path, "none", MS_BIND, NULL))
		err = -errno;
	else if (!err)
		r->netns_bound = true;
	r->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	netns_leave(oldfd);
	if (err || r->nsfd < 0) {
		pr_err("run: binding the network namespace at %s: %s", r->netns_path,
		       strerror(err ? -err : errno));
		return -1;
	}
	fstat(r->nsfd, &st);
	r->pod.netns_ino = st.st_ino;

	err = rtnl_link_get(&r->in_pod, "lo", &ifindex, mac);
	if (!err)
		err = rtnl_link_up(&r->in_pod, ifindex);
	if (err) {
		pr_err("run: the pod's loopback: %s", rtnl_strerror(&r->in_pod));
		return -1;
	}
	return 0;
}

/*
 * A request of @cmd about the pod's eth0; with @frames, an import of them;
 * with @limits (packets, bytes), CRAK_VIF_CMD_SET of those.
 */
static int pod_vif_req(struct run *r, uint8_t cmd, const struct vif_frames *frames,
		       const uint32_t *limits)
{
	struct vif_cmd vc;
	struct nlmsghdr *nlh;
	int err;

	if (pod_vif_open(r->netns_path, &vc))
		return -1;
	if (frames) {
		err = vif_frames_give(&vc, frames);
	} else {
		nlh = vif_cmd_request(&vc, cmd, NLM_F_ACK);
		if (limits) {
			mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, limits[0]);
			mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_BYTES, limits[1]);
		}
		err = nl_exec(&vc.nl, vc.what, NULL, NULL);
	}
	nl_close(&vc.nl);
	return err;
}

static int pod_vif(struct run *r, uint8_t cmd, const struct vif_frames *frames)
{
	return pod_vif_req(r, cmd, frames, NULL);
}

/* The crakvif's limits on what it holds: @times the defaults. */
static int pod_vif_limits(struct run *r, uint32_t times)
{
	const uint32_t limits[2] = {
		times * CRAK_VIF_DEFAULT_LIMIT_PACKETS, times * CRAK_VIF_DEFAULT_LIMIT_BYTES
	};

	return pod_vif_req(r, CRAK_VIF_CMD_SET, NULL, limits);
}

/* The crakvif, made on the lower device here, then the pod's eth0. */
static int make_vif(struct run *r)
{
	struct pod *p = &r->pod;
	char tmpname[IFNAMSIZ], addr[IPNET_STRLEN];
	unsigned char mac[6];
	unsigned int i;

	snprintf(tmpname, sizeof(tmpname), "crakpod%d", (int)getpid() % 10000000);
	if (rtnl_open(&r->host)) {
		pr_err("run: route netlink socket: %s", rtnl_strerror(&r->host));
		return -1;
	}
	if (rtnl_link_add(&r->host, tmpname, "crakvif", r->lower, r->mac)) {
		pr_err("run: a crakvif on %s: %s", p->link, rtnl_strerror(&r->host));
		return -1;
	}
	if (rtnl_link_get(&r->host, tmpname, &r->host_ifindex, mac)) {
		pr_err("run: the new crakvif %s: %s", tmpname, rtnl_strerror(&r->host));
		return -1;
	}
	if (rtnl_link_move(&r->host, r->host_ifindex, r->nsfd, POD_IFNAME)) {
		pr_err("run: moving the crakvif into the pod: %s", rtnl_strerror(&r->host));
		return -1;
	}
	r->host_ifindex = 0;
	if (rtnl_link_get(&r->in_pod, POD_IFNAME, &r->ifindex, mac)) {
		pr_err("run: the pod's %s: %s", POD_IFNAME, rtnl_strerror(&r->in_pod));
		return -1;
	}
	snprintf(p->mac, sizeof(p->mac), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);

	for (i = 0; i < p->n_addrs; i++) {
		if (rtnl_addr_add(&r->in_pod, r->ifindex, &p->addrs[i])) {
			format_ipnet(&p->addrs[i], addr, sizeof(addr));
			pr_err("run: address %s: %s", addr, rtnl_strerror(&r->in_pod));
			return -1;
		}
	}
	/* A restarted pod is silent until its process is back. */
	if (r->image && pod_vif(r, CRAK_VIF_CMD_FREEZE, NULL))
		return -1;
	if (rtnl_link_up(&r->in_pod, r->ifindex)) {
		pr_err("run: bringing %s up: %s", POD_IFNAME, rtnl_strerror(&r->in_pod));
		return -1;
	}
	for (i = 0; i < p->n_gws; i++) {
		if (rtnl_route_add_default(&r->in_pod, r->ifindex, p->gws[i].family,
					   p->gws[i].addr)) {
			format_ipnet(&p->gws[i], addr, sizeof(addr));
			*strrchr(addr, '/') = 0;
			pr_err("run: default route via %s: %s", addr, rtnl_strerror(&r->in_pod));
			return -1;
		}
	}
	return 0;
}

/* -- the pod's init ------------------------------------------------------------ */

/* Tells crak why the pod cannot start, and ends. */
static void __printf(2, 3) __noreturn init_fail(struct run *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Said already ("\n" first): what follows is for crakd to pass on. */
	if (!n)
		n = snprintf(msg, sizeof(msg), "\n");
	if (write(r->status[1], msg, MIN((size_t)n, sizeof(msg) - 1)) < 0)
		_exit(126);
	_exit(126);
}

static void __noreturn exec_cmd(struct run *r)
{
	sigset_t none;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaction(forwarded[i], &forwarded_old[i], NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(r->cmd[0], r->cmd);
	init_fail(r, "%s: %s", r->cmd[0], strerror(errno));
}

/*
 * The working directory, if its path leads elsewhere in the pod (under the
 * pod's own /tmp), is left for /: a checkpoint records it by its path.
 */
static void leave_hidden_cwd(void)
{
	char cwd[PATH_MAX];
	struct stat here, there;

	if (!getcwd(cwd, sizeof(cwd)) || stat(".", &here) || stat(cwd, &there) ||
	    here.st_dev != there.st_dev || here.st_ino != there.st_ino) {
		if (chdir("/"))
			return;
	}
}

/* A detached pod's init: its standard descriptors on /dev/null. */
static void init_devnull(struct run *r)
{
	int fd;

	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		init_fail(r, "/dev/null: %s", strerror(errno));
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/*
 * The restored process waits, whole, until crak has what was held for the
 * pod (from crak migrate: once the process is gone from where it was) and
 * says "C"; it runs only then.  If crak dies first (crakd killed, say),
 * nobody would undo the pod: the init ends it itself (the process, which
 * never ran, with the PID namespace; the crakvif, silent all along; the
 * pod's record), and only the name bound at /run/netns stays behind.
 */
static void init_wait_commit(struct run *r)
{
	unsigned char mac[6];
	char c = 0, path[128];
	struct rtnl rt;
	int ifindex;

	while (recv(r->commit[0], &c, 1, 0) < 0 && errno == EINTR)
		;
	if (c == 'C')
		return;
	if (!rtnl_open(&rt)) {
		if (!rtnl_link_get(&rt, POD_IFNAME, &ifindex, mac))
			rtnl_link_del(&rt, ifindex);
		rtnl_close(&rt);
	}
	pod_path(path, sizeof(path), POD_RUN_DIR, r->pod.name);
	unlink(path);
	_exit(126);
}

/*
 * The image's process, restarted with its PID (the one it had in the pod it
 * left) as a child of this init; what goes wrong is said by the restart.
 */
/*
 * The pod's processes are whole: the rest of the image is crak's to read
 * (the init keeps nothing of it), an init ending from now on is not a
 * failed restart, and they run once crak says so.
 */
static void init_whole(struct run *r)
{
	if (r->image->fd > STDERR_FILENO)
		close(r->image->fd);
	/* What crak migrate --live sent ahead is in the processes now. */
	precopy_drop();
	if (write(r->status[1], "R", 1) != 1)
		_exit(126);
	close(r->status[1]);
	r->status[1] = -1;
	init_wait_commit(r);
	last_error_clear();
}

static pid_t init_restart_tree(struct run *r)
{
	struct sigaction now = { .sa_handler = postcopy_now, .sa_flags = SA_RESTART };
	struct restart **rs;

	if (tree_restart_all(&r->tree, r->image, &rs))
		init_fail(r, "\n%s", last_error());
	init_whole(r);
	/*
	 * What was sent ahead and left missing comes while they run, all of
	 * it at once when crak checkpoints the pod (the signal blocked until
	 * now, pod_init()).  The processes are made: none has the handler.
	 * SA_RESTART: what the init reads from here on is not retried.
	 */
	sigaction(POSTCOPY_NOW_SIGNAL, &now, NULL);
	if (postcopy_start() || tree_go(&r->tree, rs)) {
		mig_say(r->commit[0], "F%s", last_error());
		_exit(126);
	}
	mig_say(r->commit[0], "G");
	close(r->commit[0]);
	return tree_command(&r->tree);
}

static pid_t init_restart(struct run *r)
{
	struct restart rs = { .im = *r->image, .sessfd = -1 };
	pid_t pid;

	if (r->tree.nr)
		return init_restart_tree(r);

	/* The process image's sections are numbered on their own. */
	rs.im.seq = 0;
	rs.im.offset = 0;
	pid = restart_begin(&rs);
	if (pid < 0 || restart_whole(&rs, pid))
		init_fail(r, "\n%s", last_error());
	init_whole(r);
	if (restart_go(&rs, pid)) {
		mig_say(r->commit[0], "F%s", last_error());
		_exit(126);
	}
	mig_say(r->commit[0], "G");
	close(r->commit[0]);
	return pid;
}

static void __noreturn pod_init(struct run *r)
{
	struct sigaction fwd = { .sa_handler = forward_signal };
	const char *name = r->pod.name;
	int status;
	unsigned int i;
	sigset_t set;
	pid_t pid;

	close(r->status[0]);
	if (r->image)
		close(r->commit[1]);
	rtnl_close(&r->host);
	rtnl_close(&r->in_pod);
	prctl(PR_SET_NAME, "crak-pod-init");
	if (setns(r->nsfd, CLONE_NEWNET))
		init_fail(r, "joining the pod's network namespace: %s", strerror(errno));
	close(r->nsfd);
	if (sethostname(name, strlen(name)))
		init_fail(r, "hostname: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		init_fail(r, "mounts: %s", strerror(errno));
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"))
		init_fail(r, "a private /tmp: %s", strerror(errno));
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		init_fail(r, "/proc: %s", strerror(errno));
	/*
	 * Terminals of its own, numbered from 0, which a restart can number
	 * again.  (In the foreground, CMD keeps the names of crak's.)
	 */
	if ((r->detach || r->image) &&
	    (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		   "newinstance,ptmxmode=0666,mode=0620,gid=5") ||
	     mount("/dev/pts/ptmx", "/dev/ptmx", NULL, MS_BIND, NULL)))
		init_fail(r, "a devpts of its own: %s", strerror(errno));
	/* A command started in the host's /tmp, which the pod's hides, starts in /. */
	if (!r->image)
		leave_hidden_cwd();
	/* A restart says what went wrong on crak's standard error: it goes after. */
	if (r->detach)
		setsid();
	if (r->detach && !r->image)
		init_devnull(r);

	/*
	 * Signals for the pod go to its command; none is lost around the fork.
	 * Nor is crak's word to a post-copy before its handler is set (an
	 * init with none discards it once unblocked).
	 */
	sigemptyset(&set);
	for (i = 0; i < ARRAY_SIZE(forwarded); i++) {
		sigaction(forwarded[i], &fwd, &forwarded_old[i]);
		sigaddset(&set, forwarded[i]);
	}
	sigaddset(&set, POSTCOPY_NOW_SIGNAL);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (r->image) {
		pid = init_restart(r);
	} else {
		pid = fork();
		if (pid < 0)
			init_fail(r, "fork: %s", strerror(errno));
		if (pid == 0)
			exec_cmd(r);
	}
	forward_to = pid;
	if (r->detach && r->image)
		init_devnull(r);
	if (r->status[1] >= 0)
		close(r->status[1]);
	/* In the foreground, the terminal's signals reach the command by themselves. */
	if (!r->detach) {
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	/* Orphans of the pod are ours to reap; the pod ends with its command. */
	for (;;) {
		pid_t w = wait(&status);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			_exit(EXIT_FAILURE);
		if (w == pid)
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}

/* Starts the init; 0 once CMD runs, -1 with the reason reported. */
static int start_init(struct run *r)
{
	struct clone_args ca = {
		.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS,
		.exit_signal = SIGCHLD,
	};
	char msg[257];
	size_t len = 0;
	ssize_t n;

	if (pipe2(r->status, O_CLOEXEC)) {
		pr_err("run: %s", strerror(errno));
		return -1;
	}
	if (r->image && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->commit)) {
		pr_err("restart: %s", strerror(errno));
		close(r->status[0]);
		close(r->status[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	r->init = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r->init == 0)
		pod_init(r);
	close(r->status[1]);
	if (r->image) {
		close(r->commit[0]);
		r->commit[0] = -1;
	}
	if (r->init < 0) {
		pr_err("run: the pod's init: %s", strerror(errno));
		r->init = 0;
		close(r->status[0]);
		return -1;
	}
	while (len < sizeof(msg) - 1) {
		n = read(r->status[0], msg + len, sizeof(msg) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(r->status[0]);
	/* A restart's init says when the process runs: ending silently is failing. */
	if (r->image && len == 1 && msg[0] == 'R')
		return 0;
	if (r->image && !len) {
		pr_err("restart %s: the pod's init ended before its process was whole",
		       r->pod.name);
		return -1;
	}
	if (!len)
		return 0;
	msg[len] = 0;
	if (msg[0] == '\n')
		last_error_set(msg + 1);
	else
		pr_err("%s %s: %s", r->image ? "restart" : "run", r->pod.name, msg);
	return -1;
}

/* The pod, its init started and its record written: 0, or -1 (then undo()). */
static int make_pod(struct run *r)
{
	if (make_netns(r) || make_vif(r) || start_init(r))
		return -1;
	r->pod.pid = r->init;
	if (pod_record_write(&r->pod))
		return -1;
	r->record = true;
	return 0;
}

/* -- crak run ----------------------------------------------------------------- */

static int wait_pod(struct run *r)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, fwd = { .sa_handler = forward_signal };
	int status;

	/* The terminal's signals reach the pod's command by themselves. */
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	forward_to = r->init;
	sigaction(SIGTERM, &fwd, NULL);
	sigaction(SIGHUP, &fwd, NULL);
	while (waitpid(r->init, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_err("run %s: waiting for %d: %s", r->pod.name, r->init,
			       strerror(errno));
			return EXIT_FAILURE;
		}
	}
	r->init = 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static int cmd_run(struct args *args)
{
	struct run r = { .nsfd = -1 };
	char path[128];
	struct stat st;
	int ret;

	parse_run_args(args, &r);
	pod_path(path, sizeof(path), POD_RUN_DIR, r.pod.name);
	if (!stat(path, &st))
		die("run: pod '%s' exists", r.pod.name);
	r.lower = if_nametoindex(r.pod.link);
	if (!r.lower)
		die("run: no device '%s'", r.pod.link);

	if (make_pod(&r))
		goto fail;
	close(r.nsfd);
	r.nsfd = -1;
	/*
	 * Its addresses may have lived elsewhere a moment ago (a pod stopped or
	 * moved there): its neighbours learn where they are now, not after
	 * their caches time out.
	 */
	if (pod_vif(&r, CRAK_VIF_CMD_ANNOUNCE, NULL))
		pr_err("run %s: its addresses are not announced", r.pod.name);

	if (r.detach) {
		if (crak_opts.json) {
			struct json j;

			json_init(&j, stdout, crak_opts.pretty);
			json_open_object(&j, NULL);
			json_string(&j, "name", r.pod.name);
			json_uint(&j, "pid", r.pod.pid);
			json_close_object(&j);
		}
		return 0;
	}
	ret = wait_pod(&r);
	undo(&r);
	return ret;
fail:
	undo(&r);
	return EXIT_FAILURE;
}

/* -- crak restart of a pod's image ---------------------------------------------- */

/* Tells the init to let the process run, and waits until it does: 0 or -1. */
static int commit(struct run *r)
{
	char line[300] = "";

	if (mig_say(r->commit[1], "C") || mig_hear(r->commit[1], line, sizeof(line)) ||
	    line[0] != 'G') {
		pr_err("restart %s: the process did not run%s%s", r->pod.name,
		       line[0] == 'F' ? ": " : "", line[0] == 'F' ? line + 1 : "");
		return -1;
	}
	return 0;
}

static void restart_report(const struct run *r, size_t frames)
{
	struct json j;

	if (!crak_opts.json) {
		printf("restarted pod %s (its init %d), %zu held frame%s delivered\n", r->pod.name,
		       r->init, frames, plural(frames));
		return;
	}
	json_init(&j, stdout, crak_opts.pretty);
	json_open_object(&j, NULL);
	json_string(&j, "name", r->pod.name);
	json_uint(&j, "pid", r->init);
	json_uint(&j, "delivered", frames);
	json_close_object(&j);
}

int pod_restart(struct img *im, bool detach, const char *pidfile, int fd)
{
	struct run r = { .nsfd = -1, .detach = detach, .image = im, .commit = { -1, -1 } };
	struct vif_frames frames = {};
	unsigned char mac[6];
	unsigned int minor;
	char path[128];
	struct stat st;
	int ret = EXIT_FAILURE;

	raise_nofile();
	if (pod_image_read_head(im, &r.pod, mac, &minor) || tree_read(im, minor, 1, &r.tree) < 0)
		return EXIT_FAILURE;
	r.mac = mac;
	pod_path(path, sizeof(path), POD_RUN_DIR, r.pod.name);
	if (!stat(path, &st)) {
		pr_err("restart: pod '%s' exists", r.pod.name);
		return EXIT_FAILURE;
	}
	pod_path(r.netns_path, sizeof(r.netns_path), POD_NETNS_DIR, r.pod.name);
	r.lower = if_nametoindex(r.pod.link);
	if (!r.lower) {
		pr_err("restart: no device '%s' for pod '%s'", r.pod.link, r.pod.name);
		return EXIT_FAILURE;
	}

	/*
	 * The init makes the process whole (held); what was held for the pod
	 * follows its image (from crak migrate, once we said we have the
	 * process and the sender killed its own).  Then the process runs, and
	 * the thaw delivers what was held to its sockets.
	 */
	if (make_pod(&r))
		goto fail;
	if (pidfile) {
		FILE *f = fopen(pidfile, "we");

		if (!f || fprintf(f, "%d\n", r.init) < 0 || fclose(f)) {
			pr_err("restart: %s: %s", pidfile, strerror(errno));
			goto fail;
		}
	}
	/*
	 * On a migration the addresses are announced before we say we have the
	 * process: from then on what comes for the pod is held here, and the
	 * sender sends what it held until then, which goes ahead of it: room
	 * for both, until the thaw.
	 */
	if (fd >= 0 && (pod_vif_limits(&r, 2) || pod_vif(&r, CRAK_VIF_CMD_ANNOUNCE, NULL)))
		pr_err("restart %s: its addresses are not announced yet", r.pod.name);
	if ((fd >= 0 && mig_say(fd, "ready")) || pod_image_read_held(im, &frames))
		goto fail;
	/* What does not fit is lost as on a wire: TCP sends it again. */
	if (frames.n && pod_vif(&r, 0, &frames))
		pr_err("restart %s: the %zu frames held for it are dropped", r.pod.name, frames.n);
	if (commit(&r) || pod_vif(&r, CRAK_VIF_CMD_THAW, NULL))
		goto fail;
	close(r.commit[1]);
	r.commit[1] = -1;
	if (!frames.n && pod_vif(&r, CRAK_VIF_CMD_ANNOUNCE, NULL))
		pr_err("restart %s: its addresses are not announced", r.pod.name);
	if (fd >= 0 && pod_vif_limits(&r, 1))
		pr_err("restart %s: its crakvif keeps twice the usual limits", r.pod.name);
	close(r.nsfd);
	r.nsfd = -1;
	if (fd >= 0)
		mig_say(fd, "running %d %zu", r.init, frames.n);
	restart_report(&r, frames.n);
	vif_frames_free(&frames);
	tree_free_restart(&r.tree);
	if (detach)
		return 0;
	fflush(stdout);
	ret = wait_pod(&r);
	undo(&r);
	return ret;
fail:
	vif_frames_free(&frames);
	tree_free_restart(&r.tree);
	undo(&r);
	if (r.commit[1] >= 0)
		close(r.commit[1]);
	return ret;
}

const struct object pod_run_object = {
	.name = "run",
	.summary = "a command in a pod: its own namespaces, addresses and crakvif",
	.synopsis = "--name NAME --addr ADDR/PREFIX[,ADDR6/PREFIX] --link LOWER\n"
		    "       [--gw GW[,GW6]] [--detach] -- CMD [ARGS]...",
	.help =
	"Runs CMD in pod NAME: a network namespace of its own, bound at\n"
	"/run/netns/NAME (ip netns exec NAME works), whose one device, eth0, is a\n"
	"crakvif on LOWER with the pod's addresses; a PID namespace where CMD is\n"
	"PID 2, under an init of crak's that reaps orphans and ends the pod when\n"
	"CMD ends; the hostname NAME; a private /tmp, the pod's own /proc and\n"
	"(detached) devpts, its terminals /dev/pts/0, 1, ..., which move with it;\n"
	"the host's files otherwise.  crak waits for CMD, tears the pod down and exits\n"
	"as CMD exited.  'crak ps' lists pods, 'crak stop NAME' ends one.\n"
	"\n"
	"  --name NAME     letters, digits, '.', '_', '-' (up to 32)\n"
	"  --addr LIST     the pod's addresses, comma-separated, IPv4 and IPv6,\n"
	"                  each ADDR/PREFIX (ADDR alone: /32, /128); IPv6 ones\n"
	"                  skip duplicate address detection: they are the pod's\n"
	"  --link LOWER    the Ethernet device the crakvif sits on\n"
	"  --gw LIST       default routes: one gateway per family\n"
	"  --detach        leave the pod running and exit at once (with -j, print\n"
	"                  its name and init's PID); its standard input and output\n"
	"                  are then /dev/null\n",
	.run = cmd_run,
};
