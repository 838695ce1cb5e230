// SPDX-License-Identifier: GPL-2.0
/*
 * Pseudo-terminals of a pod, taken and made again.
 *
 * A pod has a devpts of its own (crak run --detach, and every restart,
 * mount one, /dev/ptmx bound to its ptmx), so its terminals' numbers are
 * its own and a restart in a new pod can have them again: masters are
 * opened until the kernel hands out the wanted index.  A master carries
 * the terminal: its settings and window size (ioctls on the master act on
 * the slave's), packet mode, lock, the slave's owner and mode, and what
 * waits in it both ways.
 *
 * Waiting bytes can only be read, so a checkpoint reads them and puts them
 * straight back.  The slave's output waiting for the master is read from
 * the master (non-blocking for the moment: the pod is stopped) and written
 * again to the slave with output processing off.  The slave's input is
 * read as its reader would read it: in canonical mode a line a read (an
 * end-of-file mark reads as nothing), then the line being typed with
 * canonical mode off; it is kept as the keystrokes that make it again
 * (special characters inside a line escaped with ^V, an end-of-file mark
 * as the EOF character) and typed again into the master with echo and
 * signals off, so that lines, marks and the line being edited come back
 * as they were.  The slave side is reached through the master
 * (TIOCGPTPEER), never by path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ckpt.h"

#define PTY_SLAVE_MAJOR		136	/* UNIX98_PTY_SLAVE_MAJOR, 8 of them */
#define PTY_SLAVE_MAJORS	8
#define PTY_DATA_MAX		(64 * 1024)
#define PTY_LINE_MAX		4096	/* N_TTY_BUF_SIZE */
#define PTY_SETTLE_MS		2000
#define PTY_INDEX_GAP		256	/* masters opened to reach an index */
#define LNEXT			0x16	/* ^V, the escape typed back */

#ifndef TIOCGPTPEER
#define TIOCGPTPEER	_IO('T', 0x41)
#endif

bool pty_is_master(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 5 && minor(st->st_rdev) == 2;
}

/* The index of slave device DEV, or -1 if it is not a pty slave's. */
int pty_slave_index(dev_t dev)
{
	if (major(dev) < PTY_SLAVE_MAJOR || major(dev) >= PTY_SLAVE_MAJOR + PTY_SLAVE_MAJORS)
		return -1;
	return (major(dev) - PTY_SLAVE_MAJOR) * 256 + minor(dev);
}

/* The slave side of master FD, a descriptor of our own. */
static int peer(int fd)
{
	return ioctl(fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
}

/* Waits until FD has N bytes to read (at most a line buffer's), then a little. */
static int settle(int fd, size_t n)
{
	struct timespec ms = { .tv_nsec = 1000000 };
	int have = -1, i;

	if (n > PTY_LINE_MAX - 1)
		n = PTY_LINE_MAX - 1;
	for (i = 0; i < PTY_SETTLE_MS; i++) {
		if (ioctl(fd, FIONREAD, &have))
			return -1;
		if ((size_t)have >= n)
			break;
		nanosleep(&ms, NULL);
	}
	/* (What follows the counted bytes, a line being typed, comes with them.) */
	ms.tv_nsec = 20000000;
	nanosleep(&ms, NULL);
	if ((size_t)have >= n)
		return 0;
	errno = ETIMEDOUT;
	return -1;
}

/* Writes all of BUF to the non-blocking FD, waiting for room. */
static int write_all(int fd, const char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EAGAIN && poll(&p, 1, PTY_SETTLE_MS) == 1)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Reads what the non-blocking FD has, up to MAX into BUF; the length or -1. */
static ssize_t read_waiting(int fd, char *buf, size_t max)
{
	size_t len = 0;
	ssize_t n;

	while (len < max) {
		n = read(fd, buf + len, max - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EIO))
			break;		/* nothing more (EIO: no slave) */
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)len;
		len += n;
	}
	return len;
}

/* Whether C is special to a canonical reader (T's settings) inside a line. */
static bool special(const struct termios *t, unsigned char c)
{
	static const int keys[] = { VEOF, VEOL, VEOL2, VERASE, VKILL, VWERASE, VREPRINT, VLNEXT };
	unsigned int i;

	if (c == '\n' || c == LNEXT)
		return true;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (t->c_cc[keys[i]] != _POSIX_VDISABLE && c == t->c_cc[keys[i]])
			return true;
	return false;
}

static bool terminator(const struct termios *t, unsigned char c)
{
	return c == '\n' ||
	       (t->c_cc[VEOL] != _POSIX_VDISABLE && c == t->c_cc[VEOL]) ||
	       (t->c_cc[VEOL2] != _POSIX_VDISABLE && c == t->c_cc[VEOL2]);
}

/* Appends LEN bytes of a line as keystrokes to OUT (*N so far); LAST: its end. */
static int keys(const struct termios *t, char *out, size_t *n, const unsigned char *s,
		size_t len, bool ended)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (*n + 2 > PTY_DATA_MAX)
			return -1;
		if (special(t, s[i]) && !(ended && i == len - 1 && terminator(t, s[i])))
			out[(*n)++] = LNEXT;
		out[(*n)++] = s[i];
	}
	return 0;
}

/*
 * The slave's waiting input, read from SLAVE (T its settings) into OUT as
 * the keystrokes that make it again: its length, or -1.
 */
static ssize_t take_input(int slave, const struct termios *t, char *out)
{
	unsigned char line[PTY_LINE_MAX];
	struct termios raw = *t;
	size_t n = 0;
	ssize_t len;

	while (t->c_lflag & ICANON) {
		len = read(slave, line, sizeof(line));
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			break;
		if (len < 0)
			return -1;
		/* A line, or one an end-of-file mark pushed (then the mark, unescaped). */
		if (keys(t, out, &n, line, len, true))
			return -1;
		if ((!len || !terminator(t, line[len - 1])) && t->c_cc[VEOF] != _POSIX_VDISABLE) {
			if (n + 1 > PTY_DATA_MAX)
				return -1;
			out[n++] = t->c_cc[VEOF];
		}
	}
	/* What is being typed (or, not canonical, all of it). */
	raw.c_lflag &= ~ICANON;
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(slave, TCSANOW, &raw))
		return -1;
	len = read_waiting(slave, (char *)line, sizeof(line));
	if (tcsetattr(slave, TCSANOW, t) || len < 0)
		return -1;
	if (!(t->c_lflag & ICANON)) {
		memcpy(out, line, len);
		return len;
	}
	return keys(t, out, &n, line, len, false) ? -1 : (ssize_t)n;
}

/*
 * Puts bytes into the terminal MASTER (SLAVE its other side, T its
 * settings): TO_MASTER as the slave's output; TO_SLAVE as input, typed
 * with echo, signals and input mapping off (canonical as T has it, ^V
 * escaping).  EXPECT: the bytes the slave then has to read.
 */
static int put_back(int master, int slave, const struct termios *t, const char *to_master,
		    size_t nm, const char *to_slave, size_t ns, size_t expect)
{
	struct termios typing = *t;
	int err = 0, fl = fcntl(master, F_GETFL);

	if (!nm && !ns)
		return 0;
	typing.c_oflag &= ~OPOST;
	typing.c_lflag &= ~(ECHO | ECHOE | ECHOK | ECHONL | ISIG);
	typing.c_lflag |= IEXTEN;
	typing.c_iflag &= ~(ICRNL | INLCR | IGNCR | ISTRIP | IXON | IUCLC | BRKINT | PARMRK | INPCK);
	typing.c_cc[VLNEXT] = LNEXT;
	if (fl < 0 || tcsetattr(slave, TCSANOW, &typing))
		return -1;
	fcntl(master, F_SETFL, fl | O_NONBLOCK);
	if (nm && (write_all(slave, to_master, nm) || settle(master, nm)))
		err = -1;
	if (!err && ns && (write_all(master, to_slave, ns) || settle(slave, expect)))
		err = -1;
	fcntl(master, F_SETFL, fl);
	if (tcsetattr(slave, TCSANOW, t))
		err = -1;
	return err;
}

/* The bytes a canonical reader reads of keystrokes K (escapes and marks go). */
static size_t readable(const struct termios *t, const char *k, size_t n)
{
	size_t i, r = 0, line = 0;

	if (!(t->c_lflag & ICANON))
		return n;
	for (i = 0; i < n; i++) {
		if (k[i] == LNEXT && i + 1 < n) {
			line++;
			i++;
		} else if (t->c_cc[VEOF] != _POSIX_VDISABLE && k[i] == (char)t->c_cc[VEOF]) {
			r += line;
			line = 0;
		} else {
			line++;
			if (terminator(t, k[i])) {
				r += line;
				line = 0;
			}
		}
	}
	return r;
}

int pty_take(struct rfile *rf, int dup, const struct stat *st, const char **why)
{
	struct crak_img_pty *p;
	struct termios t;
	struct winsize ws;
	struct stat sst;
	int idx, pkt = 0, lck = 0, off = 0, slave = -1, fl = -1, err = -1;
	ssize_t nm = 0, ns = 0;
	char path[32], *buf, *data;

	if (!pty_is_master(st)) {
		idx = pty_slave_index(st->st_rdev);
		if (idx < 0) {
			*why = "a terminal of the pod that is no pseudo-terminal";
			return -1;
		}
		rf->f.type = htole32(CRAK_FILE_PTY_SLAVE);
		rf->f.value[0] = htole64(idx);
		return 0;
	}
	*why = "its pseudo-terminal could not be read";
	if (ioctl(dup, TIOCGPTN, &idx) || tcgetattr(dup, &t) || ioctl(dup, TIOCGWINSZ, &ws))
		return -1;
	snprintf(path, sizeof(path), "/dev/pts/%d", idx);
	if (stat(path, &sst))
		return -1;
	ioctl(dup, TIOCGPKT, &pkt);
	ioctl(dup, TIOCGPTLCK, &lck);
	rf->f.type = htole32(CRAK_FILE_PTY_MASTER);
	rf->f.value[0] = htole64(idx);
	buf = xmalloc(sizeof(*p) + 2 * PTY_DATA_MAX + 8);
	memset(buf, 0, sizeof(*p) + 2 * PTY_DATA_MAX + 8);
	p = (void *)buf;
	data = buf + sizeof(*p);
	p->index = htole32(idx);
	p->flags = htole32((pkt ? CRAK_PTY_PACKET : 0) | (lck ? CRAK_PTY_LOCKED : 0));
	p->iflag = htole32(t.c_iflag);
	p->oflag = htole32(t.c_oflag);
	p->cflag = htole32(t.c_cflag);
	p->lflag = htole32(t.c_lflag);
	p->line = t.c_line;
	memcpy(p->cc, t.c_cc, sizeof(p->cc) < sizeof(t.c_cc) ? sizeof(p->cc) : sizeof(t.c_cc));
	p->uid = htole32(sst.st_uid);
	p->gid = htole32(sst.st_gid);
	p->mode = htole32(sst.st_mode & 07777);
	p->rows = htole16(ws.ws_row);
	p->cols = htole16(ws.ws_col);
	p->xpixel = htole16(ws.ws_xpixel);
	p->ypixel = htole16(ws.ws_ypixel);

	/* What waits in it, read and put straight back (a locked one: nothing). */
	if (lck)
		goto done;
	slave = peer(dup);
	fl = fcntl(dup, F_GETFL);
	if (slave < 0 || fl < 0)
		goto out;
	if (pkt)
		ioctl(dup, TIOCPKT, &off);
	fcntl(dup, F_SETFL, fl | O_NONBLOCK);
	nm = read_waiting(dup, data, PTY_DATA_MAX);
	fcntl(dup, F_SETFL, fl);
	if (nm >= 0)
		ns = take_input(slave, &t, data + nm);
	if (nm < 0 || ns < 0 || nm == PTY_DATA_MAX) {
		/* Put back what was read; the checkpoint fails. */
		*why = nm == PTY_DATA_MAX ? "more than 64 KiB wait in its pseudo-terminal" :
					    "what waits in its pseudo-terminal could not be read";
		if (nm < 0)
			nm = 0;
		if (ns < 0)
			ns = 0;
		put_back(dup, slave, &t, data, nm, data + nm, ns, readable(&t, data + nm, ns));
		goto out;
	}
	if (put_back(dup, slave, &t, data, nm, data + nm, ns, readable(&t, data + nm, ns))) {
		*why = "putting back what waits in its pseudo-terminal failed";
		goto out;
	}
done:
	p->to_master = htole64(nm);
	p->to_slave = htole64(ns);
	rf->data = buf;
	rf->f.data_len = htole64((sizeof(*p) + nm + ns + 7) & ~7UL);
	buf = NULL;
	err = 0;
out:
	if (pkt)
		ioctl(dup, TIOCPKT, &pkt);
	if (slave >= 0)
		close(slave);
	free(buf);
	return err;
}

/* A checked image's pty: its settings, or NULL if malformed. */
static const struct crak_img_pty *pty_image(const struct rfile *rf)
{
	const struct crak_img_pty *p = rf->data;
	uint64_t len = le64toh(rf->f.data_len);

	if (!p || len < sizeof(*p) ||
	    le64toh(p->to_master) > PTY_DATA_MAX || le64toh(p->to_slave) > PTY_DATA_MAX ||
	    sizeof(*p) + le64toh(p->to_master) + le64toh(p->to_slave) > len ||
	    le32toh(p->index) != le64toh(rf->f.value[0])) {
		errno = EINVAL;
		return NULL;
	}
	return p;
}

/* Master of index IDX, opening others on the way (then closed). */
static int open_index(int want)
{
	int extra[PTY_INDEX_GAP], nr = 0, fd = -1, idx = -1, err, i;

	for (;;) {
		fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, TIOCGPTN, &idx))
			break;
		if (idx == want)
			break;
		if (idx > want || nr == PTY_INDEX_GAP) {
			close(fd);
			fd = -1;
			errno = EEXIST;
			break;
		}
		extra[nr++] = fd;
	}
	err = errno;
	for (i = 0; i < nr; i++)
		close(extra[i]);
	if (fd >= 0 && idx != want) {
		close(fd);
		fd = -1;
	}
	errno = err;
	return fd;
}

int pty_make_master(const struct rfile *rf)
{
	const struct crak_img_pty *p = pty_image(rf);
	int fd, slave = -1, zero = 0, one = 1, err;
	uint64_t nm, ns;
	const char *data;
	struct termios t;
	struct winsize ws;
	char path[32];

	if (!p)
		return -1;
	fd = open_index(le32toh(p->index));
	if (fd < 0)
		return -1;
	memset(&t, 0, sizeof(t));
	t.c_iflag = le32toh(p->iflag);
	t.c_oflag = le32toh(p->oflag);
	t.c_cflag = le32toh(p->cflag);
	t.c_lflag = le32toh(p->lflag);
	t.c_line = p->line;
	memcpy(t.c_cc, p->cc, sizeof(p->cc) < sizeof(t.c_cc) ? sizeof(p->cc) : sizeof(t.c_cc));
	ws.ws_row = le16toh(p->rows);
	ws.ws_col = le16toh(p->cols);
	ws.ws_xpixel = le16toh(p->xpixel);
	ws.ws_ypixel = le16toh(p->ypixel);
	data = (const char *)(p + 1);
	nm = le64toh(p->to_master);
	ns = le64toh(p->to_slave);
	snprintf(path, sizeof(path), "/dev/pts/%u", le32toh(p->index));
	if (ioctl(fd, TIOCSPTLCK, &zero) || tcsetattr(fd, TCSANOW, &t) ||
	    ioctl(fd, TIOCSWINSZ, &ws) ||
	    chown(path, le32toh(p->uid), le32toh(p->gid)) || chmod(path, le32toh(p->mode)))
		goto fail;
	if (nm || ns) {
		slave = peer(fd);
		if (slave < 0 || put_back(fd, slave, &t, data, nm, data + nm, ns,
					  readable(&t, data + nm, ns)))
			goto fail;
		close(slave);
		slave = -1;
	}
	if ((le32toh(p->flags) & CRAK_PTY_PACKET) && ioctl(fd, TIOCPKT, &one))
		goto fail;
	if ((le32toh(p->flags) & CRAK_PTY_LOCKED) && ioctl(fd, TIOCSPTLCK, &one))
		goto fail;
	if (fcntl(fd, F_SETFL, le32toh(rf->f.flags) & (O_NONBLOCK | O_ASYNC)))
		goto fail;
	return fd;
fail:
	err = errno;
	if (slave >= 0)
		close(slave);
	close(fd);
	errno = err;
	return -1;
}

int pty_open_slave(unsigned int index, int flags)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/pts/%u", index);
	return open(path, (flags & ~O_CREAT) | O_NOCTTY | O_CLOEXEC);
}
