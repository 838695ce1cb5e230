// SPDX-License-Identifier: GPL-2.0
/*
 * crak ps, crak stop, and what every pod command shares: the record of a
 * pod, whether its init lives, entering its network namespace, tearing it
 * down.  crak run is pod_run.c.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/crak_vif.h>

#include "json.h"
#include "nl.h"
#include "objects.h"
#include "pod.h"
#include "postcopy.h"
#include "vif.h"

/* Letters, digits, '.', '_' and '-', not starting with '.' or '-'. */
bool pod_name_ok(const char *name)
{
	const char *c;

	if (!*name || strlen(name) > POD_NAME_MAX || *name == '.' || *name == '-')
		return false;
	for (c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("._-", *c))
			return false;
	return true;
}

void pod_check_name(const char *name)
{
	if (!pod_name_ok(name))
		die_usage("invalid pod name '%s'", name);
}

void pod_path(char *buf, size_t size, const char *dir, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void put_addr_list(FILE *f, const char *key, const struct ipnet *a, unsigned int n,
			  bool prefix)
{
	char buf[IPNET_STRLEN];
	unsigned int i;

	for (i = 0; i < n; i++) {
		format_ipnet(&a[i], buf, sizeof(buf));
		if (!prefix)
			*strrchr(buf, '/') = 0;
		fprintf(f, "%s=%s\n", key, buf);
	}
}

/* Written whole under another name, then renamed. */
int pod_record_write(const struct pod *p)
{
	char path[128], tmp[160];
	FILE *f;

	if (mkdir("/run/crak", 0755) && errno != EEXIST)
		goto fail_dir;
	if (mkdir(POD_RUN_DIR, 0755) && errno != EEXIST)
		goto fail_dir;
	pod_path(path, sizeof(path), POD_RUN_DIR, p->name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", POD_RUN_DIR, p->name);
	f = fopen(tmp, "we");
	if (!f)
		goto fail;
	fprintf(f, "name=%s\npid=%d\nnetns=%llu\nlink=%s\nmac=%s\n", p->name, p->pid,
		p->netns_ino, p->link, p->mac);
	put_addr_list(f, "addr", p->addrs, p->n_addrs, true);
	put_addr_list(f, "gw", p->gws, p->n_gws, false);
	if (ferror(f) | fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		goto fail;
	}
	return 0;
fail_dir:
	pr_err("run: %s: %s", POD_RUN_DIR, strerror(errno));
	return -1;
fail:
	pr_err("run: %s: %s", path, strerror(errno));
	return -1;
}

/* 0, -ENOENT if there is no such pod, -EINVAL if its record is malformed. */
int pod_record_read(const char *name, struct pod *p)
{
	char path[128], line[256], *val;
	struct ipnet a;
	FILE *f;
	int err = 0;

	memset(p, 0, sizeof(*p));
	pod_path(path, sizeof(path), POD_RUN_DIR, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		val = strchr(line, '=');
		if (!val)
			continue;
		*val++ = 0;
		if (!strcmp(line, "name"))
			snprintf(p->name, sizeof(p->name), "%s", val);
		else if (!strcmp(line, "pid"))
			p->pid = atoi(val);
		else if (!strcmp(line, "netns"))
			p->netns_ino = strtoull(val, NULL, 10);
		else if (!strcmp(line, "link"))
			snprintf(p->link, sizeof(p->link), "%s", val);
		else if (!strcmp(line, "mac"))
			snprintf(p->mac, sizeof(p->mac), "%s", val);
		else if (!strcmp(line, "addr") && !parse_ipnet(val, &a) &&
			 p->n_addrs < POD_MAX_ADDRS)
			p->addrs[p->n_addrs++] = a;
		else if (!strcmp(line, "gw") && !parse_ipnet(val, &a) && p->n_gws < 2)
			p->gws[p->n_gws++] = a;
	}
	fclose(f);
	if (strcmp(p->name, name) || p->pid <= 0 || !p->netns_ino)
		err = -EINVAL;
	return err;
}

static unsigned long long ns_ino(pid_t pid, const char *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	return stat(path, &st) ? 0 : st.st_ino;
}

/* Whether the pod's init still runs (and is the pod's, not a PID reused). */
bool pod_alive(const struct pod *p)
{
	return ns_ino(p->pid, "net") == p->netns_ino;
}

/*
 * Tells the pod's init that a checkpoint comes: what a post-copy still
 * has to fill, it fills at once (postcopy.h), since the checkpoint waits
 * until the processes are whole.  (An init that was not restarted has no
 * handler: as a PID namespace's init, it ignores the signal.)  Through a
 * pidfd taken before the pod is known alive: never another process that
 * got the PID since.
 */
void pod_postcopy_now(const struct pod *p)
{
	int fd = syscall(SYS_pidfd_open, p->pid, 0);

	if (fd < 0)
		return;
	if (pod_alive(p))
		syscall(SYS_pidfd_send_signal, fd, POSTCOPY_NOW_SIGNAL, NULL, 0);
	close(fd);
}

/* Enters the network namespace bound at @path; @oldfd to come back. */
int netns_enter(const char *path, int *oldfd)
{
	int fd;

	*oldfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*oldfd < 0 || fd < 0 || setns(fd, CLONE_NEWNET)) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		if (*oldfd >= 0)
			close(*oldfd);
		errno = err;
		return -1;
	}
	close(fd);
	return 0;
}

void netns_leave(int oldfd)
{
	if (setns(oldfd, CLONE_NEWNET))
		die("cannot return to crak's network namespace: %s", strerror(errno));
	close(oldfd);
}

/*
 * A netlink socket to the crakvif of the pod whose namespace is bound at
 * @netns_path (its eth0), opened from crak's own namespaces.
 */
int pod_vif_open(const char *netns_path, struct vif_cmd *vc)
{
	int oldfd, err;

	memset(vc, 0, sizeof(*vc));
	vc->dev = POD_IFNAME;
	snprintf(vc->what, sizeof(vc->what), "the pod's %s", POD_IFNAME);
	if (netns_enter(netns_path, &oldfd)) {
		pr_err("%s: %s", netns_path, strerror(errno));
		return -1;
	}
	err = nl_open(&vc->nl, &vif_family);
	netns_leave(oldfd);
	return err;
}

/* Kills the pod's init, which takes its PID namespace along, and waits for it. */
static int pod_kill(const struct pod *p, const char *what)
{
	struct pollfd pfd = { .events = POLLIN };

	pfd.fd = syscall(SYS_pidfd_open, p->pid, 0);
	if (pfd.fd < 0 && errno == ESRCH)
		return 0;
	if (pfd.fd < 0) {
		pr_err("%s: its init %d: %s", what, p->pid, strerror(errno));
		return -1;
	}
	/* The PID may have been reused since the pidfd was taken. */
	if (!pod_alive(p)) {
		close(pfd.fd);
		return 0;
	}
	if (syscall(SYS_pidfd_send_signal, pfd.fd, SIGKILL, NULL, 0) && errno != ESRCH) {
		pr_err("%s: killing %d: %s", what, p->pid, strerror(errno));
		close(pfd.fd);
		return -1;
	}
	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	close(pfd.fd);
	return 0;
}

/*
 * Undoes a pod: its init killed, its crakvif deleted (at once, where the end
 * of its namespace would take it later), its namespace unbound, its record
 * removed.  Goes as far as it can; -1 if something stays.
 */
int pod_teardown(const struct pod *p, const char *what)
{
	char path[128];
	struct rtnl r;
	unsigned char mac[6];
	int oldfd, ifindex, ret = 0;

	if (p->pid > 0 && pod_kill(p, what))
		ret = -1;
	pod_path(path, sizeof(path), POD_NETNS_DIR, p->name);
	if (!netns_enter(path, &oldfd)) {
		int err = rtnl_open(&r);

		netns_leave(oldfd);
		if (!err) {
			if (!rtnl_link_get(&r, POD_IFNAME, &ifindex, mac))
				rtnl_link_del(&r, ifindex);
			rtnl_close(&r);
		}
	}
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT) {
		pr_err("%s: unmounting %s: %s", what, path, strerror(errno));
		ret = -1;
	}
	if (unlink(path) && errno != ENOENT) {
		pr_err("%s: %s: %s", what, path, strerror(errno));
		ret = -1;
	}
	pod_path(path, sizeof(path), POD_RUN_DIR, p->name);
	if (unlink(path) && errno != ENOENT) {
		pr_err("%s: %s: %s", what, path, strerror(errno));
		ret = -1;
	}
	return ret;
}

/* -- crak ps ---------------------------------------------------------------- */

struct pod_status {
	const char *state;		/* running, frozen, exited */
	unsigned int procs;
	bool has_vif;
	uint32_t held;
};

static int vif_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_VIF_A_MAX + 1];
	struct pod_status *st = data;

	if (vif_parse(nlh, tb) || !tb[CRAK_VIF_A_FROZEN] || !tb[CRAK_VIF_A_HELD_PACKETS])
		return nl_malformed("ps");
	if (mnl_attr_get_u8(tb[CRAK_VIF_A_FROZEN]))
		st->state = "frozen";
	st->held = mnl_attr_get_u32(tb[CRAK_VIF_A_HELD_PACKETS]);
	st->has_vif = true;
	return MNL_CB_OK;
}

/* The freeze state and held packets of the pod's crakvif, asked in its namespace. */
static void pod_vif_status(const struct pod *p, struct pod_status *st)
{
	struct nlmsghdr *nlh;
	char path[128];
	struct nl nl;
	int oldfd, err;

	pod_path(path, sizeof(path), POD_NETNS_DIR, p->name);
	if (netns_enter(path, &oldfd))
		return;
	err = nl_open(&nl, &vif_family);
	netns_leave(oldfd);
	if (err)
		return;
	nl.quiet = true;
	nlh = nl_request(&nl, CRAK_VIF_CMD_GET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CRAK_VIF_A_IFNAME, POD_IFNAME);
	nl_exec(&nl, "ps", vif_get_cb, st);
	nl_close(&nl);
}

/* The tasks in the init's PID namespace. */
static unsigned int pod_count_procs(const struct pod *p)
{
	unsigned long long ino = ns_ino(p->pid, "pid");
	unsigned int n = 0;
	struct dirent *de;
	DIR *d;

	if (!ino)
		return 0;
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]) && ns_ino(atoi(de->d_name), "pid") == ino)
			n++;
	closedir(d);
	return n;
}

static void pod_status(const struct pod *p, struct pod_status *st)
{
	*st = (struct pod_status){ .state = "running" };
	if (pod_alive(p))
		st->procs = pod_count_procs(p);
	pod_vif_status(p, st);
	/* Counted processes prove the init was alive; it may have ended since. */
	if (!pod_alive(p)) {
		st->state = "exited";
		st->procs = 0;
	}
}

static void ps_text(const struct pod *p, const struct pod_status *st)
{
	char buf[IPNET_STRLEN];
	unsigned int i;

	printf("%s: %s  pid %d  %u process%s  held %u packet%s  link %s", p->name, st->state,
	       p->pid, st->procs, st->procs == 1 ? "" : "es", st->held, plural(st->held),
	       p->link);
	for (i = 0; i < p->n_addrs; i++) {
		format_ipnet(&p->addrs[i], buf, sizeof(buf));
		printf(" %s", buf);
	}
	putchar('\n');
}

void pod_json_addrs(struct json *j, const struct pod *p)
{
	char buf[IPNET_STRLEN];
	unsigned int i;

	json_open_array(j, "addresses");
	for (i = 0; i < p->n_addrs; i++) {
		format_ipnet(&p->addrs[i], buf, sizeof(buf));
		json_string(j, NULL, buf);
	}
	json_close_array(j);
	json_open_array(j, "gateways");
	for (i = 0; i < p->n_gws; i++) {
		format_ipnet(&p->gws[i], buf, sizeof(buf));
		*strrchr(buf, '/') = 0;
		json_string(j, NULL, buf);
	}
	json_close_array(j);
}

static void ps_json(struct json *j, const struct pod *p, const struct pod_status *st)
{

	json_open_object(j, NULL);
	json_string(j, "name", p->name);
	json_string(j, "state", st->state);
	json_uint(j, "pid", p->pid);
	json_string(j, "link", p->link);
	json_string(j, "mac", p->mac);
	pod_json_addrs(j, p);
	json_uint(j, "processes", st->procs);
	json_uint(j, "held_packets", st->held);
	json_close_object(j);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_ps(struct args *args)
{
	unsigned int i, n = 0, cap = 0;
	char **names = NULL;
	struct pod_status st;
	struct dirent *de;
	struct json j;
	struct pod p;
	int ret = 0;
	DIR *d;

	arg_end(args);
	d = opendir(POD_RUN_DIR);
	if (!d && errno != ENOENT)
		die("ps: %s: %s", POD_RUN_DIR, strerror(errno));
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);

	json_init(&j, stdout, crak_opts.pretty);
	if (crak_opts.json)
		json_open_array(&j, NULL);
	for (i = 0; i < n; i++) {
		if (pod_record_read(names[i], &p)) {
			pr_err("ps: %s/%s: malformed record", POD_RUN_DIR, names[i]);
			ret = 1;
		} else {
			pod_status(&p, &st);
			if (crak_opts.json)
				ps_json(&j, &p, &st);
			else
				ps_text(&p, &st);
		}
		free(names[i]);
	}
	free(names);
	if (crak_opts.json)
		json_close_array(&j);
	return ret;
}

/* -- crak stop -------------------------------------------------------------- */

static int cmd_stop(struct args *args)
{
	const char *name = arg_next(args);
	char what[64];
	struct pod p;
	int err;

	if (!name)
		die_usage("missing pod NAME");
	if (*name == '-')
		arg_unexpected(name);
	pod_check_name(name);
	arg_end(args);

	snprintf(what, sizeof(what), "stop %s", name);
	err = pod_record_read(name, &p);
	if (err == -ENOENT)
		die("%s: no such pod", what);
	if (err == -EINVAL)
		die("%s: %s/%s is malformed", what, POD_RUN_DIR, name);
	if (err)
		die("%s: %s", what, strerror(-err));
	return pod_teardown(&p, what) ? 1 : 0;
}

const struct object ps_object = {
	.name = "ps",
	.summary = "the pods of this host and their state",
	.synopsis = "[-j]",
	.help =
	"One line per pod (crak run): its name, its state (running; frozen when its\n"
	"crakvif is frozen; exited when its command has ended, until 'crak stop'),\n"
	"the PID of its init, how many processes it has, how many packets its\n"
	"crakvif holds, its lower device and addresses.  With -j, a JSON array.\n",
	.run = cmd_ps,
};

const struct object stop_object = {
	.name = "stop",
	.summary = "a pod and everything in it, ended",
	.synopsis = "NAME",
	.help =
	"Kills every process of pod NAME (its init, and with it its PID namespace),\n"
	"waits for them, deletes its crakvif, unbinds its network namespace and\n"
	"removes its record.\n",
	.run = cmd_stop,
};
