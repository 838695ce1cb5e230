// SPDX-License-Identifier: GPL-2.0
/*
 * crak sock restore: re-creates a connection from its image, as descriptor N
 * of a command crak then becomes.
 *
 * The kernel installs the new socket as a descriptor of crak's; crak moves it
 * to N, closes everything of its own and execs the command.  A restored
 * connection must not be lost to a command that cannot run (its descriptor
 * would close with crak), so crak looks for the command first, and keeps N
 * taken meanwhile, so that none of its own descriptors lands there.
 *
 * A connection restored where its address is on a crakvif device whose flow
 * of it is frozen (dumped here, say) has its held inbound delivered once it
 * is back; one restored --frozen keeps it held until crak sock thaw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sock.h"

/* Whether @path is a file that can be run. */
static bool is_executable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* Whether execvp(3) finds @cmd, looking where it looks. */
static bool cmd_found(const char *cmd)
{
	const char *path = getenv("PATH");
	char file[PATH_MAX];
	const char *dir, *end;

	if (strchr(cmd, '/'))
		return is_executable(cmd);
	if (!path)
		path = "/bin:/usr/bin";
	for (dir = path; ; dir = end + 1) {
		int len, n;

		end = strchrnul(dir, ':');
		/* An empty entry is the current directory. */
		len = end - dir;
		if (len)
			n = snprintf(file, sizeof(file), "%.*s/%s", len, dir, cmd);
		else
			n = snprintf(file, sizeof(file), "%s", cmd);
		if (n < (int)sizeof(file) && is_executable(file))
			return true;
		if (!*end)
			return false;
	}
}

/* Takes descriptor @fd, if it is free, until the socket replaces it. */
static int fd_reserve(int fd)
{
	int tmp;

	if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
		return 0;
	tmp = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (tmp < 0 || (tmp != fd && dup3(tmp, fd, O_CLOEXEC) < 0)) {
		pr_err("fd %d: %s", fd, strerror(errno));
		if (tmp >= 0)
			close(tmp);
		return -1;
	}
	if (tmp != fd)
		close(tmp);
	return 0;
}

struct restore_reply {
	const char *what;
	bool replied;
	uint32_t new_fd;
	uint32_t id;
};

static int restore_cb(const struct nlmsghdr *nlh, void *data)
{
	struct restore_reply *r = data;
	struct sock_info si;

	if (sock_info_parse(nlh, &si) || !sock_has(&si, CRAK_SOCK_A_NEW_FD))
		return nl_malformed(r->what);
	r->new_fd = si.new_fd;
	r->id = sock_has(&si, CRAK_SOCK_A_ID) ? si.id : 0;
	r->replied = true;
	return MNL_CB_OK;
}

/*
 * Sends RESTORE of the image at descriptor @image's position, about @what
 * (for messages): the new socket is then our *@new_fd.
 */
int sock_restore_image(int image, const char *what, bool frozen, int *new_fd, uint32_t *id)
{
	struct restore_reply r = { 0 };
	struct nlmsghdr *nlh;
	struct sock_cmd sc;
	int err;

	snprintf(sc.what, sizeof(sc.what), "%s", what);
	if (nl_open(&sc.nl, &sock_family))
		return -1;
	nlh = nl_request(&sc.nl, CRAK_SOCK_CMD_RESTORE, NLM_F_ACK);
	mnl_attr_put_u32(nlh, CRAK_SOCK_A_IMAGE_FD, image);
	if (frozen)
		mnl_attr_put(nlh, CRAK_SOCK_A_FROZEN, 0, "");	/* a flag: no payload */
	r.what = sc.what;
	err = nl_exec(&sc.nl, sc.what, restore_cb, &r);
	if (!err && (!r.replied || r.new_fd > INT_MAX)) {
		pr_err("%s: the kernel did not tell the new descriptor", sc.what);
		err = -1;
	}
	nl_close(&sc.nl);
	*new_fd = r.new_fd;
	if (id)
		*id = r.id;
	return err;
}

static int restore(const char *path, bool frozen, int *new_fd)
{
	char what[SOCK_WHAT_STRLEN];
	int image, err;

	image = open(path, O_RDONLY | O_CLOEXEC);
	if (image < 0) {
		pr_err("%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(what, sizeof(what), "restore %s", path);
	err = sock_restore_image(image, what, frozen, new_fd, NULL);
	close(image);
	return err;
}

/* Delivers what a crakvif device held for the restored connection @fd. */
int sock_restore_release(int fd)
{
	struct sock_target t;
	struct sock_hold h;
	int err;

	if (sock_target_of_fd(&t, fd, "restore"))
		return -1;
	err = sock_hold_find(&h, &t, "restore") ?: sock_hold_release(&h, "restore");
	sock_hold_close(&h);
	t.sock_fd = -1;
	sock_target_close(&t);
	return err;
}

int sock_restore(struct args *args)
{
	bool has_fd = false, frozen = false;
	const char *path = NULL, *word;
	char **cmd = NULL;
	int fd = 0, new_fd, stderr_fd = -1, err;

	while ((word = arg_next(args))) {
		if (!strcmp(word, "--")) {
			cmd = args->argv;
			break;
		}
		if (arg_keyword(word, "--fd", &has_fd))
			fd = parse_u32(arg_value(args, "number after --fd"), word, 0, INT_MAX);
		else if (arg_keyword(word, "--frozen", &frozen))
			continue;
		else if (*word == '-')
			arg_unexpected(word);
		else if (!path)
			path = word;
		else
			die_usage("unexpected argument '%s': CMD goes after --", word);
	}
	if (!path)
		die_usage("missing FILE");
	if (!has_fd)
		die_usage("missing --fd N");
	if (!cmd || !*cmd)
		die_usage("missing CMD after --");

	if (!cmd_found(cmd[0])) {
		pr_err("%s: %s", cmd[0], strchr(cmd[0], '/') ? "not an executable file" :
		       "command not found");
		return 1;
	}
	if (fd_reserve(fd) || restore(path, frozen, &new_fd))
		return 1;
	/* The connection is the command's now: a failure here was told, and
	 * leaves its inbound held on the device, to thaw by hand.
	 */
	if (!frozen)
		sock_restore_release(new_fd);
	/* With the socket as standard error, crak's last words need another way out. */
	if (fd == STDERR_FILENO)
		stderr_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (new_fd != fd) {
		if (dup2(new_fd, fd) < 0) {
			pr_err("restore: fd %d: %s", fd, strerror(errno));
			return 1;
		}
		close(new_fd);
	} else if (fcntl(fd, F_SETFD, 0)) {
		pr_err("restore: fd %d: %s", fd, strerror(errno));
		return 1;
	}
	execvp(cmd[0], cmd);
	err = errno;
	if (stderr_fd >= 0)
		dup2(stderr_fd, STDERR_FILENO);
	pr_err("%s: %s", cmd[0], strerror(err));
	return 1;
}
