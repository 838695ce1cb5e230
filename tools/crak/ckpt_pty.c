// SPDX-License-Identifier: GPL-2.0
/*
 * Pseudo-terminals of a pod, taken and made again.
 *
 * A pod has a devpts of its own (crak run mounts one, /dev/ptmx bound to
 * its ptmx), so its terminals' numbers are its own and a restart in a new
 * pod can have them again: masters are opened until the kernel hands out
 * the wanted index.  A master carries the terminal: its settings and
 * window size (ioctls on the master act on the slave's), packet mode and
 * lock, and what waits in it both ways.  Waiting bytes can only be read, so
 * a checkpoint reads them and puts them straight back: bytes for the
 * master (the slave's output) are written to the slave with output
 * processing off, bytes for the slave (input, a line being typed too, read
 * with canonical mode off for the moment) are written to the master with
 * input processing and echo off, each until the other side counts them.
 * (A line being typed reads, afterwards, as if ended: the kernel pushes
 * input that arrives in non-canonical mode.)  The slave side is reached
 * through the master (TIOCGPTPEER), never by path.
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
#define PTY_SETTLE_MS		2000

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

/* Waits until FD has N bytes to read; 0, or -1 (ETIMEDOUT). */
static int settle(int fd, int n)
{
	struct timespec ms = { .tv_nsec = 1000000 };
	int have = -1, i;

	for (i = 0; i < PTY_SETTLE_MS; i++) {
		if (ioctl(fd, FIONREAD, &have))
			return -1;
		if (have >= n)
			return 0;
		nanosleep(&ms, NULL);
	}
	errno = ETIMEDOUT;
	return -1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Reads exactly LEN bytes that FD has waiting. */
static int read_waiting(int fd, char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * Puts bytes into the terminal MASTER (with SLAVE its other side, T its
 * settings): TO_MASTER as the slave's output, TO_SLAVE as its input.
 */
static int put_back(int master, int slave, const struct termios *t, const char *to_master,
		    size_t nm, const char *to_slave, size_t ns)
{
	struct termios raw = *t;
	int err = 0;

	if (!nm && !ns)
		return 0;
	raw.c_oflag &= ~OPOST;
	raw.c_lflag &= ~(ICANON | ECHO | ECHONL | ISIG | IEXTEN);
	raw.c_iflag &= ~(ICRNL | INLCR | IGNCR | ISTRIP | IXON | IUCLC | BRKINT | PARMRK | INPCK);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(slave, TCSANOW, &raw))
		return -1;
	if (nm && (write_all(slave, to_master, nm) || settle(master, nm)))
		err = -1;
	if (!err && ns && (write_all(master, to_slave, ns) || settle(slave, ns)))
		err = -1;
	if (tcsetattr(slave, TCSANOW, t))
		err = -1;
	return err;
}

/* The slave side of master FD, a descriptor of our own. */
static int peer(int fd)
{
	return ioctl(fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
}

int pty_take(struct rfile *rf, int dup, const struct stat *st, const char **why)
{
	struct crak_img_pty *p;
	struct termios t, canon;
	struct winsize ws;
	int idx, pkt = 0, lck = 0, nm = 0, ns = 0, slave = -1, off = 0, err = -1;
	char *buf;

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
	ioctl(dup, TIOCGPKT, &pkt);
	ioctl(dup, TIOCGPTLCK, &lck);
	rf->f.type = htole32(CRAK_FILE_PTY_MASTER);
	rf->f.value[0] = htole64(idx);
	buf = xmalloc(sizeof(*p) + 2 * PTY_DATA_MAX);
	memset(buf, 0, sizeof(*p));
	p = (void *)buf;
	p->index = htole32(idx);
	p->flags = htole32((pkt ? CRAK_PTY_PACKET : 0) | (lck ? CRAK_PTY_LOCKED : 0));
	p->iflag = htole32(t.c_iflag);
	p->oflag = htole32(t.c_oflag);
	p->cflag = htole32(t.c_cflag);
	p->lflag = htole32(t.c_lflag);
	p->line = t.c_line;
	memcpy(p->cc, t.c_cc, sizeof(p->cc) < sizeof(t.c_cc) ? sizeof(p->cc) : sizeof(t.c_cc));
	p->ispeed = htole32(cfgetispeed(&t));
	p->ospeed = htole32(cfgetospeed(&t));
	p->rows = htole16(ws.ws_row);
	p->cols = htole16(ws.ws_col);
	p->xpixel = htole16(ws.ws_xpixel);
	p->ypixel = htole16(ws.ws_ypixel);

	/* What waits in it, read and put straight back (a locked one: nothing). */
	if (lck)
		goto done;
	slave = peer(dup);
	if (slave < 0)
		goto out;
	if (pkt)
		ioctl(dup, TIOCPKT, &off);
	canon = t;
	canon.c_lflag &= ~ICANON;
	canon.c_cc[VMIN] = 0;
	canon.c_cc[VTIME] = 0;
	if (ioctl(dup, FIONREAD, &nm) || nm > PTY_DATA_MAX ||
	    read_waiting(dup, buf + sizeof(*p), nm) || tcsetattr(slave, TCSANOW, &canon) ||
	    ioctl(slave, FIONREAD, &ns) || ns > PTY_DATA_MAX ||
	    read_waiting(slave, buf + sizeof(*p) + nm, ns)) {
		tcsetattr(slave, TCSANOW, &t);
		if (nm > PTY_DATA_MAX || ns > PTY_DATA_MAX)
			*why = "more than 64 KiB wait in its pseudo-terminal";
		goto out;
	}
	if (put_back(dup, slave, &t, buf + sizeof(*p), nm, buf + sizeof(*p) + nm, ns)) {
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

int pty_make_master(const struct rfile *rf)
{
	const struct crak_img_pty *p = pty_image(rf);
	int fd = -1, idx = -1, slave = -1, zero = 0, one = 1, err, i;
	int extra[64], nr_extra = 0;
	const char *data;
	struct termios t;
	struct winsize ws;

	if (!p)
		return -1;
	/* The kernel hands out the lowest free index: the others wait, then go. */
	while (idx != (int)le32toh(p->index)) {
		if (fd >= 0) {
			if (nr_extra == ARRAY_SIZE(extra) || idx > (int)le32toh(p->index)) {
				close(fd);
				fd = -1;
				errno = EEXIST;
				break;
			}
			extra[nr_extra++] = fd;
		}
		fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, TIOCGPTN, &idx))
			break;
	}
	err = errno;
	for (i = 0; i < nr_extra; i++)
		close(extra[i]);
	errno = err;
	if (fd < 0 || idx != (int)le32toh(p->index)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}

	memset(&t, 0, sizeof(t));
	t.c_iflag = le32toh(p->iflag);
	t.c_oflag = le32toh(p->oflag);
	t.c_cflag = le32toh(p->cflag);
	t.c_lflag = le32toh(p->lflag);
	t.c_line = p->line;
	memcpy(t.c_cc, p->cc, sizeof(p->cc) < sizeof(t.c_cc) ? sizeof(p->cc) : sizeof(t.c_cc));
	cfsetispeed(&t, le32toh(p->ispeed));
	cfsetospeed(&t, le32toh(p->ospeed));
	ws.ws_row = le16toh(p->rows);
	ws.ws_col = le16toh(p->cols);
	ws.ws_xpixel = le16toh(p->xpixel);
	ws.ws_ypixel = le16toh(p->ypixel);
	data = (const char *)(p + 1);
	if (ioctl(fd, TIOCSPTLCK, &zero) || tcsetattr(fd, TCSANOW, &t) ||
	    ioctl(fd, TIOCSWINSZ, &ws))
		goto fail;
	if (p->to_master || p->to_slave) {
		slave = peer(fd);
		if (slave < 0 || put_back(fd, slave, &t, data, le64toh(p->to_master),
					  data + le64toh(p->to_master), le64toh(p->to_slave)))
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
