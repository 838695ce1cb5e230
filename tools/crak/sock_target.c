// SPDX-License-Identifier: GPL-2.0
/*
 * crak sock: TARGET, the socket a command acts on, as the command line names
 * it and as a request names it.
 *
 * --pid P --fd N: crak takes a descriptor of the socket with pidfd_getfd(2)
 * and names it by that.  Its tuple (getsockname, getpeername) and network
 * namespace (SIOCGSKNS) tell where to look for a crakvif device.
 * --tuple: the connection in the namespace --netns names, or ours.
 * --id: a handle of crak_sockmig, in our namespace; sock.c asks the kernel
 * for its tuple.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "sock.h"

#define TARGET_CHOICES	"--pid P --fd N, --tuple tcp LADDR:LPORT RADDR:RPORT or --id ID"

/* Where ip-netns(8) keeps the network namespaces it names. */
static const char *const netns_dirs[] = { "/var/run/netns", "/run/netns" };

/*
 * The words after "--tuple": tcp or udp, then the local and remote
 * endpoints.  A bound UDP socket has no remote end: 0.0.0.0:0 or [::]:0.
 */
static void target_parse_tuple(struct args *args, struct vif_flow *f)
{
	const char *proto = arg_value(args, "protocol after --tuple (tcp or udp)");
	static const unsigned char any[16];

	if (!strcmp(proto, "tcp"))
		f->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		f->proto = IPPROTO_UDP;
	else
		die_usage("unknown protocol '%s': tcp or udp", proto);
	parse_endpoint_arg(arg_value(args, "local endpoint after --tuple"), "local",
			   &f->local);
	parse_endpoint_arg(arg_value(args, "remote endpoint after --tuple"), "remote",
			   &f->remote);
	if (f->local.family != f->remote.family)
		die_usage("the endpoints of --tuple must be both IPv4 or both IPv6");
	if (f->proto == IPPROTO_UDP) {
		if (!f->local.port)
			die_usage("--tuple udp names a bound socket: its local port is not 0");
		if (!f->remote.port != !memcmp(f->remote.addr, any, sizeof(any)))
			die_usage("--tuple udp: a remote end is an address and a port, or neither");
		return;
	}
	if (!f->local.port || !f->remote.port ||
	    !memcmp(f->local.addr, any, sizeof(any)) || !memcmp(f->remote.addr, any, sizeof(any)))
		die_usage("--tuple names one connection: no address 0.0.0.0 or [::], no port 0");
}

static const char *target_parse_netns(const char *name)
{
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strlen(name) > NAME_MAX)
		die_usage("invalid network namespace name '%s'", name);
	return name;
}

/*
 * TARGET, and -o FILE into *@image if @image is not NULL (dump): the rest of
 * the command line.
 */
void sock_target_parse(struct args *args, struct sock_target *t, const char **image)
{
	bool has_pid = false, has_fd = false, has_tuple = false, has_netns = false;
	bool has_id = false, has_image = false;
	const char *word;

	memset(t, 0, sizeof(*t));
	t->sock_fd = -1;
	t->netns_fd = -1;
	while ((word = arg_next(args))) {
		if (arg_keyword(word, "--pid", &has_pid))
			t->pid = parse_u32(arg_value(args, "number after --pid"), word, 1, INT_MAX);
		else if (arg_keyword(word, "--fd", &has_fd))
			t->fd = parse_u32(arg_value(args, "number after --fd"), word, 0, INT_MAX);
		else if (arg_keyword(word, "--tuple", &has_tuple))
			target_parse_tuple(args, &t->tuple);
		else if (arg_keyword(word, "--netns", &has_netns))
			t->netns = target_parse_netns(arg_value(args, "name after --netns"));
		else if (arg_keyword(word, "--id", &has_id))
			t->id = parse_u32(arg_value(args, "number after --id"), word, 0, UINT32_MAX);
		else if (image && arg_keyword(word, "-o", &has_image))
			*image = arg_value(args, "file after -o");
		else
			arg_unexpected(word);
	}
	if (!has_pid && !has_fd && !has_tuple && !has_id)
		die_usage("missing TARGET: " TARGET_CHOICES);
	if ((has_pid || has_fd) + has_tuple + has_id > 1)
		die_usage("more than one TARGET: --pid P --fd N, --tuple ... or --id ID");
	if (has_pid != has_fd)
		die_usage(has_pid ? "--pid goes with --fd N" : "--fd goes with --pid P");
	if (has_netns && !has_tuple)
		die_usage("--netns goes with --tuple");

	if (has_pid) {
		t->kind = SOCK_TARGET_FD;
		snprintf(t->name, sizeof(t->name), "pid %u fd %u", t->pid, t->fd);
	} else if (has_tuple) {
		t->kind = SOCK_TARGET_TUPLE;
		vif_flow_format(&t->tuple, t->name, sizeof(t->name));
	} else {
		t->kind = SOCK_TARGET_ID;
		snprintf(t->name, sizeof(t->name), "id %u", t->id);
	}
}

/* The network namespace ip-netns(8) calls @name. */
static int target_open_netns(const char *name)
{
	char path[sizeof("/var/run/netns/") + NAME_MAX];
	unsigned int i;
	int fd = -1;

	for (i = 0; i < ARRAY_SIZE(netns_dirs) && fd < 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", netns_dirs[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			break;
	}
	if (fd < 0)
		pr_err("network namespace %s: %s", name, strerror(errno));
	return fd;
}

/* Descriptor N of process P, now ours too. */
static int target_getfd(struct sock_target *t)
{
	int pidfd, err;

	pidfd = syscall(SYS_pidfd_open, t->pid, 0);
	if (pidfd >= 0) {
		t->sock_fd = syscall(SYS_pidfd_getfd, pidfd, t->fd, 0);
		err = errno;
		close(pidfd);
		errno = err;
	}
	if (t->sock_fd < 0) {
		pr_err("cannot reach fd %u of pid %u: %s", t->fd, t->pid, strerror(errno));
		return -1;
	}
	return 0;
}

static void endpoint_of(const struct sockaddr_storage *ss, struct endpoint *ep,
			uint32_t *scope_id)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		memcpy(ep->addr, &sin->sin_addr, sizeof(sin->sin_addr));
		ep->port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		memcpy(ep->addr, &sin6->sin6_addr, sizeof(sin6->sin6_addr));
		ep->port = ntohs(sin6->sin6_port);
		if (scope_id)
			*scope_id = sin6->sin6_scope_id;
	}
}

/*
 * The tuple and network namespace of the socket of --pid/--fd, if it is a
 * connected TCP socket; if it is not, the kernel says what it thinks of it.
 */
static int target_fd_conn(struct sock_target *t, const char *what)
{
	struct sockaddr_storage local, remote;
	socklen_t len = sizeof(local);
	int proto;

	if (getsockname(t->sock_fd, (struct sockaddr *)&local, &len)) {
		if (errno != ENOTSOCK)
			return 0;
		pr_err("%s: not a socket", what);
		return -1;
	}
	if (local.ss_family != AF_INET && local.ss_family != AF_INET6)
		return 0;
	len = sizeof(proto);
	if (getsockopt(t->sock_fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ||
	    (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return 0;
	len = sizeof(remote);
	if (getpeername(t->sock_fd, (struct sockaddr *)&remote, &len)) {
		if (proto == IPPROTO_TCP || errno != ENOTCONN)
			return 0;
		/* A bound UDP socket: any remote end, of its family. */
		memset(&remote, 0, sizeof(remote));
		remote.ss_family = local.ss_family;
	}
	t->conn.proto = proto;
	endpoint_of(&local, &t->conn.local, &t->scope_id);
	endpoint_of(&remote, &t->conn.remote, NULL);
	t->has_conn = true;

	t->netns_fd = ioctl(t->sock_fd, SIOCGSKNS);
	if (t->netns_fd < 0) {
		pr_err("%s: the socket's network namespace: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

/* A target naming our own descriptor @fd (not closed by sock_target_close()). */
int sock_target_of_fd(struct sock_target *t, int fd, const char *what)
{
	memset(t, 0, sizeof(*t));
	t->kind = SOCK_TARGET_FD;
	t->sock_fd = fd;
	t->netns_fd = -1;
	if (target_fd_conn(t, what)) {
		t->sock_fd = -1;
		return -1;
	}
	return 0;
}

/* What TARGET takes before a request can name it; -1 after saying why. */
int sock_target_resolve(struct sock_target *t, const char *what)
{
	switch (t->kind) {
	case SOCK_TARGET_FD:
		if (target_getfd(t))
			return -1;
		return target_fd_conn(t, what);
	case SOCK_TARGET_TUPLE:
		if (t->netns) {
			t->netns_fd = target_open_netns(t->netns);
			if (t->netns_fd < 0)
				return -1;
		}
		t->conn = t->tuple;
		t->has_conn = true;
		return 0;
	case SOCK_TARGET_ID:
		return 0;
	}
	return -1;
}

/* The attributes that name TARGET in a request. */
void sock_target_put(struct nlmsghdr *nlh, const struct sock_target *t)
{
	size_t len = endpoint_addr_len(&t->tuple.local);

	switch (t->kind) {
	case SOCK_TARGET_FD:
		mnl_attr_put_u32(nlh, CRAK_SOCK_A_FD, t->sock_fd);
		break;
	case SOCK_TARGET_TUPLE:
		mnl_attr_put_u8(nlh, CRAK_SOCK_A_PROTO, t->tuple.proto);
		mnl_attr_put(nlh, CRAK_SOCK_A_LADDR, len, t->tuple.local.addr);
		mnl_attr_put_u16(nlh, CRAK_SOCK_A_LPORT, t->tuple.local.port);
		mnl_attr_put(nlh, CRAK_SOCK_A_RADDR, len, t->tuple.remote.addr);
		mnl_attr_put_u16(nlh, CRAK_SOCK_A_RPORT, t->tuple.remote.port);
		if (t->netns_fd >= 0)
			mnl_attr_put_u32(nlh, CRAK_SOCK_A_NETNS_FD, t->netns_fd);
		break;
	case SOCK_TARGET_ID:
		mnl_attr_put_u32(nlh, CRAK_SOCK_A_ID, t->id);
		break;
	}
}

void sock_target_close(struct sock_target *t)
{
	if (t->sock_fd >= 0)
		close(t->sock_fd);
	if (t->netns_fd >= 0)
		close(t->netns_fd);
	t->sock_fd = -1;
	t->netns_fd = -1;
}
