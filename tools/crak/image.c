// SPDX-License-Identifier: GPL-2.0
/*
 * A process image's sections, as linux/crak_image.h lays them out: a header
 * checked by xxh32, a payload padded to 8 bytes, the payload's xxh64.
 * Reads are exact (no read-ahead): the rest of the descriptor may belong to
 * the kernel, which reads the memory part itself.  And the checks of the
 * sections crak restart and crak image show both read.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "image.h"
#include "util.h"

static const char *const section_names[] = {
	[CRAK_IMG_HEAD] = "HEAD",
	[CRAK_IMG_PROC] = "PROC",
	[CRAK_IMG_RLIMITS] = "RLIMITS",
	[CRAK_IMG_FILE] = "FILE",
	[CRAK_IMG_SIGACTIONS] = "SIGACTIONS",
	[CRAK_IMG_THREAD] = "THREAD",
	[CRAK_IMG_SIGNAL] = "SIGNAL",
	[CRAK_IMG_MM] = "MM",
	[CRAK_IMG_TIMERS] = "TIMERS",
	[CRAK_IMG_POD] = "POD",
	[CRAK_IMG_HELD] = "HELD",
	[CRAK_IMG_VMA] = "VMA",
	[CRAK_IMG_PAGES] = "PAGES",
	[CRAK_IMG_END] = "END",
	[CRAK_IMG_TREE] = "TREE",
	[CRAK_IMG_SKIP] = "SKIP",
	[CRAK_IMG_TREE_HEAD] = "TREE_HEAD",
	[CRAK_IMG_AHEAD] = "AHEAD",
};

const char *img_section_name(uint32_t type)
{
	if (type < ARRAY_SIZE(section_names) && section_names[type])
		return section_names[type];
	return "unknown";
}

/*
 * Writes the pieces of IOV whole, in one write where the descriptor takes
 * them all: on a network file system or a pipe each write is a round trip.
 */
static int write_all(struct img *im, struct iovec *iov, int cnt)
{
	ssize_t n;

	while (cnt) {
		n = writev(im->fd, iov, cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_err("%s: %s", im->name, n < 0 ? strerror(errno) : "short write");
			return -1;
		}
		im->offset += n;
		for (; cnt && (size_t)n >= iov->iov_len; iov++, cnt--)
			n -= iov->iov_len;
		if (cnt) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return 0;
}

/* 0, or -1 after saying why (the image ending early is a broken image). */
static int read_all(struct img *im, void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(im->fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err("%s: %s", im->name, strerror(errno));
			return -1;
		}
		if (!n) {
			pr_err("%s: the image ends early (at byte %llu): it is truncated", im->name,
			       (unsigned long long)im->offset);
			return -1;
		}
		buf = (char *)buf + n;
		len -= n;
		im->offset += n;
	}
	return 0;
}

int img_write_section2(struct img *im, uint32_t type, const void *a, size_t alen,
		       const void *b, size_t blen)
{
	static const char zeros[8];
	size_t pad = (8 - (alen + blen) % 8) % 8;
	struct crak_image_section hdr = {
		.type = htole32(type),
		.len = htole64(alen + blen + pad),
		.seq = htole32(im->seq),
	};
	XXH64_state_t *st;
	uint64_t sum;
	struct iovec iov[] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)a, .iov_len = alen },
		{ .iov_base = (void *)b, .iov_len = blen },
		{ .iov_base = (void *)zeros, .iov_len = pad },
		{ .iov_base = &sum, .iov_len = sizeof(sum) },
	};

	hdr.check = htole32(XXH32(&hdr, offsetof(struct crak_image_section, check), 0));
	st = XXH64_createState();
	if (!st)
		die("out of memory");
	XXH64_reset(st, 0);
	XXH64_update(st, a, alen);
	XXH64_update(st, b, blen);
	XXH64_update(st, zeros, pad);
	sum = htole64(XXH64_digest(st));
	XXH64_freeState(st);

	if (write_all(im, iov, ARRAY_SIZE(iov)))
		return -1;
	im->seq++;
	return 0;
}

int img_write_section(struct img *im, uint32_t type, const void *payload, size_t len)
{
	return img_write_section2(im, type, payload, len, NULL, 0);
}

int img_peek_type(struct img *im, uint32_t *type)
{
	if (!im->peeked) {
		if (read_all(im, &im->hdr, sizeof(im->hdr)))
			return -1;
		im->peeked = true;
	}
	*type = le32toh(im->hdr.type);
	return 0;
}

int img_read_header(struct img *im, uint32_t *type, uint64_t *len)
{
	struct crak_image_section hdr;

	if (im->peeked) {
		hdr = im->hdr;
		im->peeked = false;
	} else if (read_all(im, &hdr, sizeof(hdr))) {
		return -1;
	}
	if (le32toh(hdr.check) != XXH32(&hdr, offsetof(struct crak_image_section, check), 0)) {
		pr_err("%s: section %u's header is corrupt (at byte %llu)", im->name, im->seq,
		       (unsigned long long)(im->offset - sizeof(hdr)));
		return -1;
	}
	if (le32toh(hdr.seq) != im->seq) {
		pr_err("%s: section %u is numbered %u: sections are missing or out of order",
		       im->name, im->seq, le32toh(hdr.seq));
		return -1;
	}
	*type = le32toh(hdr.type);
	*len = le64toh(hdr.len);
	if (*len % 8 || *len > CRAK_IMAGE_PAGES_MAX + sizeof(struct crak_img_pages) ||
	    (*type != CRAK_IMG_PAGES && *type != CRAK_IMG_AHEAD && *len > CRAK_IMAGE_SECTION_MAX)) {
		pr_err("%s: section %u (%s) claims an impossible length of %llu bytes", im->name,
		       im->seq, img_section_name(*type), (unsigned long long)*len);
		return -1;
	}
	return 0;
}

/* Reads the payload's hash and compares it with SUM. */
static int read_trailer(struct img *im, uint32_t type, uint64_t sum)
{
	uint64_t got;

	if (read_all(im, &got, sizeof(got)))
		return -1;
	if (le64toh(got) != sum) {
		pr_err("%s: section %u (%s) fails its checksum: the image is corrupt", im->name,
		       im->seq, img_section_name(type));
		return -1;
	}
	im->seq++;
	return 0;
}

void *img_read_payload(struct img *im, uint32_t type, uint64_t len)
{
	void *buf = xmalloc(len + 1);

	if (read_all(im, buf, len) || read_trailer(im, type, XXH64(buf, len, 0))) {
		free(buf);
		return NULL;
	}
	((char *)buf)[len] = 0;
	return buf;
}

void *img_read_section(struct img *im, uint32_t *type, uint64_t min, uint64_t max,
		       uint64_t *len)
{
	uint32_t want = *type;

	if (img_read_header(im, type, len))
		return NULL;
	if (want && *type != want) {
		pr_err("%s: section %u is %s where %s belongs", im->name, im->seq,
		       img_section_name(*type), img_section_name(want));
		return NULL;
	}
	if (*len < min || *len > max) {
		pr_err("%s: section %u (%s) has a wrong length (%llu bytes)", im->name, im->seq,
		       img_section_name(*type), (unsigned long long)*len);
		return NULL;
	}
	return img_read_payload(im, *type, *len);
}

int img_skip_payload(struct img *im, uint32_t type, uint64_t len, void *head, size_t head_len)
{
	XXH64_state_t *st = XXH64_createState();
	char buf[65536];
	uint64_t sum, done = 0;
	size_t n;

	if (!st)
		die("out of memory");
	XXH64_reset(st, 0);
	while (done < len) {
		n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		if (read_all(im, buf, n)) {
			XXH64_freeState(st);
			return -1;
		}
		if (done < head_len)
			memcpy((char *)head + done, buf, head_len - done < n ? head_len - done : n);
		XXH64_update(st, buf, n);
		done += n;
	}
	sum = XXH64_digest(st);
	XXH64_freeState(st);
	return read_trailer(im, type, sum);
}

bool img_ahead_ok(const struct crak_img_ahead *a, uint64_t len, uint32_t pid)
{
	uint64_t addr = le64toh(a->addr), nr = le32toh(a->nr_pages);
	uint64_t page = sysconf(_SC_PAGESIZE);

	return nr && len == sizeof(*a) + nr * page && !(addr % page) &&
	       addr <= (1ULL << 47) - nr * page && (int32_t)le32toh(a->pid) > 0 &&
	       (!pid || le32toh(a->pid) == pid);
}

static int timer_cmp(const void *a, const void *b)
{
	uint32_t x = le32toh(((const struct crak_img_posix_timer *)a)->id);
	uint32_t y = le32toh(((const struct crak_img_posix_timer *)b)->id);

	return x < y ? -1 : x > y;
}

static bool timer_ok(const struct crak_img_posix_timer *t, const uint32_t *tids,
		     uint32_t nr_tids)
{
	uint32_t clock = le32toh(t->clock), notify = le32toh(t->notify);
	uint32_t signo = le32toh(t->signo), i;

	if (le32toh(t->id) > INT32_MAX || le64toh(t->value) > INT64_MAX ||
	    le64toh(t->interval) > INT64_MAX || (le32toh(t->flags) & ~CRAK_PTIMER_QUEUED))
		return false;
	if (img_cpu_clock(clock)) {
		/* The process's own: its PID, or 0 for "this process". */
		for (i = 0; i < nr_tids; i++)
			if (tids[i] == img_cpu_clock_pid(clock))
				break;
		if (notify == SIGEV_NONE || (img_cpu_clock_pid(clock) && i == nr_tids))
			return false;
	} else if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC &&
		   clock != CLOCK_BOOTTIME && clock != CLOCK_TAI) {
		return false;
	}
	if (notify == SIGEV_NONE)
		return true;
	if ((notify != SIGEV_SIGNAL && notify != SIGEV_THREAD && notify != SIGEV_THREAD_ID) ||
	    !signo || signo > 64)
		return false;
	if (notify != SIGEV_THREAD_ID)
		return true;
	for (i = 0; i < nr_tids; i++)
		if (tids[i] == le32toh(t->tid))
			return true;
	return false;
}

const struct crak_img_posix_timer *img_check_timers(struct crak_img_posix_timer *t, uint32_t n,
						    const uint32_t *tids, uint32_t nr_tids)
{
	uint32_t i;

	qsort(t, n, sizeof(*t), timer_cmp);
	for (i = 0; i < n; i++)
		if (!timer_ok(&t[i], tids, nr_tids) || (i && t[i].id == t[i - 1].id))
			return &t[i];
	return NULL;
}

int img_write_end(struct img *im)
{
	struct crak_img_end end = {
		.sections = htole32(im->seq),
		.bytes = htole64(im->offset),
	};

	return img_write_section(im, CRAK_IMG_END, &end, sizeof(end));
}

int img_read_end(struct img *im)
{
	/* Where END begins, its header perhaps peeked at already. */
	uint64_t len, offset = im->offset - (im->peeked ? sizeof(im->hdr) : 0);
	uint32_t type = CRAK_IMG_END;
	struct crak_img_end end = {};
	void *buf;

	buf = img_read_section(im, &type, sizeof(end), sizeof(end), &len);
	if (!buf)
		return -1;
	memcpy(&end, buf, sizeof(end));
	free(buf);
	if (le32toh(end.sections) != im->seq - 1 || le64toh(end.bytes) != offset || end.pages) {
		pr_err("%s: the image's END does not match what came before it", im->name);
		return -1;
	}
	return 0;
}
