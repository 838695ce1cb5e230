// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: the image's sections (uapi/linux/crak_image.h).
 *
 * A section is a header (type, flags, length, sequence number, and an xxh32
 * of those), a payload padded to 8 bytes, and the payload's xxh64.  Both
 * directions stream: sections are written and read front to back from the
 * descriptor's position, which an operation leaves just past what it wrote
 * or read, so a pipe or a socket does as well as a file.  Small pieces go
 * through the stream's buffer (struct ckpt_stream); pages go straight
 * between the process's pages and the descriptor (one copy), hashed in
 * chunks small enough to stay in the cache.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/netlink.h>

#include "ckpt.h"

/* Pages hashed, then written or read, at a time. */
#define CKPT_CHUNK_PAGES	16

static const u8 ckpt_zeros[8];

/* -- raw I/O -------------------------------------------------------------- */

/* Whether FILE's position can be put back after reading ahead. */
static bool ckpt_can_rewind(struct file *file)
{
	const fmode_t need = FMODE_LSEEK | FMODE_PREAD;

	return S_ISREG(file_inode(file)->i_mode) && (file->f_mode & need) == need &&
	       !(file->f_mode & FMODE_STREAM);
}

void ckpt_stream_init(struct ckpt_stream *s, struct file *file, bool write)
{
	memset(s, 0, sizeof(*s));
	s->file = file;
	s->pos = file->f_pos;
	s->ahead = !write && ckpt_can_rewind(file);
	/* Without a buffer every piece is a write or read of its own. */
	if (write || s->ahead)
		s->buf = kmalloc(CKPT_STREAM_BUF, GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY);
}

/*
 * What a read or write of the image returned, as its caller can hand it
 * on: a pipe's wait broken off by a stop signal or the freezer says
 * "restart the call", which none here is: interrupted.
 */
static ssize_t ckpt_io_ret(ssize_t n)
{
	if (n == -ERESTARTSYS || n == -ERESTARTNOINTR || n == -ERESTARTNOHAND)
		return -EINTR;
	return n;
}

/* Writes LEN bytes at the stream's position, which moves on. */
static int ckpt_file_write(struct ckpt_stream *s, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		if (fatal_signal_pending(current))
			return -EINTR;
		n = kernel_write(s->file, buf, len, &s->pos);
		if (n < 0)
			return ckpt_io_ret(n);
		if (!n)
			return -EIO;
		buf += n;
		len -= n;
	}
	return 0;
}

/* The written pieces waiting in the buffer go out. */
int ckpt_stream_flush(struct ckpt_stream *s)
{
	unsigned int len = s->buf_len;

	s->buf_len = 0;
	return len ? ckpt_file_write(s, s->buf, len) : 0;
}

/*
 * The end of an operation on the stream: what waits to be written goes out
 * (its error returned), what was read ahead is given back, and the file's
 * position is left just past the image bytes written or read, where the
 * caller goes on.
 */
int ckpt_stream_end(struct ckpt_stream *s)
{
	int err = 0;

	if (s->ahead)
		s->pos -= s->buf_len - s->buf_pos;
	else
		err = ckpt_stream_flush(s);
	s->file->f_pos = s->pos;
	kfree(s->buf);
	s->buf = NULL;
	s->buf_len = 0;
	s->buf_pos = 0;
	return err;
}

static int ckpt_write_all(struct ckpt_stream *s, const void *buf, size_t len)
{
	int err = 0;

	if (!s->buf || len >= CKPT_STREAM_BUF) {
		err = ckpt_stream_flush(s) ?: ckpt_file_write(s, buf, len);
	} else {
		if (len > CKPT_STREAM_BUF - s->buf_len)
			err = ckpt_stream_flush(s);
		if (!err) {
			memcpy(s->buf + s->buf_len, buf, len);
			s->buf_len += len;
		}
	}
	if (!err)
		s->offset += len;
	return err;
}

/*
 * Reads LEN bytes at the stream's position, which moves on; with SOME, at
 * least one and at most LEN.  The number read, or an error.
 */
static ssize_t ckpt_file_read(struct ckpt_stream *s, void *buf, size_t len, bool some)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (fatal_signal_pending(current))
			return -EINTR;
		n = kernel_read(s->file, buf + done, len - done, &s->pos);
		if (n < 0)
			return ckpt_io_ret(n);
		if (!n)
			return -ENODATA;	/* the image ends early */
		done += n;
		if (some)
			break;
	}
	return done;
}

/* Takes up to LEN bytes the stream read ahead: how many. */
static size_t ckpt_take_ahead(struct ckpt_stream *s, void *buf, size_t len)
{
	size_t n = min_t(size_t, len, s->buf_len - s->buf_pos);

	if (!n)
		return 0;
	memcpy(buf, s->buf + s->buf_pos, n);
	s->buf_pos += n;
	s->offset += n;
	return n;
}

static int ckpt_read_all(struct ckpt_stream *s, void *buf, size_t len)
{
	size_t taken;
	ssize_t n;

	while (len) {
		taken = ckpt_take_ahead(s, buf, len);
		buf += taken;
		len -= taken;
		if (!len)
			break;
		if (!s->buf || len >= CKPT_STREAM_BUF) {
			n = ckpt_file_read(s, buf, len, false);
			if (n < 0)
				return n;
			s->offset += n;
			break;
		}
		/* What is left is small: it comes with what follows it. */
		s->buf_pos = 0;
		s->buf_len = 0;
		n = ckpt_file_read(s, s->buf, CKPT_STREAM_BUF, true);
		if (n < 0)
			return n;
		s->buf_len = n;
	}
	return 0;
}

/*
 * Moves all but the first DONE bytes of NR (at most CKPT_CHUNK_PAGES) whole
 * pages between PAGES and FILE at *POS, which moves on; *MOVED counts the
 * bytes that went through.  The iterator is set up afresh from what went
 * through each time: some file systems (9p's netfs on 6.12) work on a copy
 * of it and leave ours where it was.
 */
static int ckpt_file_pages_io(struct file *file, loff_t *pos, struct page **pages,
			      unsigned int nr, size_t done, bool write, u64 *moved)
{
	struct bio_vec bv[CKPT_CHUNK_PAGES];
	size_t total = (size_t)nr * PAGE_SIZE;
	struct iov_iter iter;
	unsigned int i;
	ssize_t n;

	for (i = 0; i < nr; i++)
		bvec_set_page(&bv[i], pages[i], PAGE_SIZE, 0);
	while (done < total) {
		if (fatal_signal_pending(current))
			return -EINTR;
		iov_iter_bvec(&iter, write ? ITER_SOURCE : ITER_DEST, bv, nr, total);
		iov_iter_advance(&iter, done);
		n = write ? vfs_iter_write(file, &iter, pos, 0) :
			    vfs_iter_read(file, &iter, pos, 0);
		if (n < 0)
			return ckpt_io_ret(n);
		if (!n)
			return write ? -EIO : -ENODATA;
		done += n;
		*moved += n;
	}
	return 0;
}

/*
 * Moves NR whole pages between PAGES and the image's descriptor: written,
 * after the pieces waiting before them; read, what was read ahead of them
 * first.
 */
static int ckpt_pages_io(struct ckpt_stream *s, struct page **pages, unsigned int nr,
			 bool write)
{
	size_t done = 0, total = (size_t)nr * PAGE_SIZE;
	void *p;
	int err;

	if (write) {
		err = ckpt_stream_flush(s);
		if (err)
			return err;
	} else {
		while (done < total && s->buf_pos < s->buf_len) {
			p = kmap_local_page(pages[done / PAGE_SIZE]);
			done += ckpt_take_ahead(s, p + done % PAGE_SIZE,
						PAGE_SIZE - done % PAGE_SIZE);
			kunmap_local(p);
		}
	}
	return ckpt_file_pages_io(s->file, &s->pos, pages, nr, done, write, &s->offset);
}

/* Reads NR whole pages from FILE at POS (not an image's: no hash). */
int ckpt_pread_pages(struct file *file, loff_t pos, struct page **pages, unsigned int nr)
{
	u64 moved = 0;
	unsigned int n;
	int err;

	while (nr) {
		n = min(nr, CKPT_CHUNK_PAGES);
		err = ckpt_file_pages_io(file, &pos, pages, n, 0, false, &moved);
		if (err)
			return err;
		pages += n;
		nr -= n;
	}
	return 0;
}

static void ckpt_hash_pages(struct ckpt_stream *s, struct page **pages, unsigned int nr)
{
	unsigned int i;
	void *p;

	for (i = 0; i < nr; i++) {
		p = kmap_local_page(pages[i]);
		xxh64_update(&s->hash, p, PAGE_SIZE);
		kunmap_local(p);
	}
}

/* -- writing -------------------------------------------------------------- */

int ckpt_begin_section(struct ckpt_stream *s, u32 type, u64 len)
{
	struct crak_image_section hdr = {
		.type = cpu_to_le32(type),
		.len = cpu_to_le64(len),
		.seq = cpu_to_le32(s->seq),
	};

	if (WARN_ON_ONCE(len % 8 || s->left))
		return -EINVAL;
	hdr.check = cpu_to_le32(xxh32(&hdr, offsetof(struct crak_image_section, check), 0));
	xxh64_reset(&s->hash, 0);
	s->left = len;
	return ckpt_write_all(s, &hdr, sizeof(hdr));
}

int ckpt_write_payload(struct ckpt_stream *s, const void *buf, size_t len)
{
	if (WARN_ON_ONCE(len > s->left))
		return -EINVAL;
	xxh64_update(&s->hash, buf, len);
	s->left -= len;
	return ckpt_write_all(s, buf, len);
}

int ckpt_write_pages(struct ckpt_stream *s, struct page **pages, unsigned int nr)
{
	unsigned int n;
	int err;

	if (WARN_ON_ONCE((u64)nr * PAGE_SIZE > s->left))
		return -EINVAL;
	while (nr) {
		n = min(nr, CKPT_CHUNK_PAGES);
		ckpt_hash_pages(s, pages, n);
		err = ckpt_pages_io(s, pages, n, true);
		if (err)
			return err;
		s->left -= (u64)n * PAGE_SIZE;
		pages += n;
		nr -= n;
	}
	return 0;
}

int ckpt_end_section(struct ckpt_stream *s)
{
	__le64 sum;

	if (WARN_ON_ONCE(s->left))
		return -EINVAL;
	sum = cpu_to_le64(xxh64_digest(&s->hash));
	s->seq++;
	return ckpt_write_all(s, &sum, sizeof(sum));
}

/* A whole section from one buffer, padded to 8 bytes. */
int ckpt_write_section(struct ckpt_stream *s, u32 type, const void *payload, size_t len)
{
	size_t pad = ALIGN(len, 8) - len;

	return ckpt_begin_section(s, type, len + pad) ?:
	       ckpt_write_payload(s, payload, len) ?:
	       ckpt_write_payload(s, ckpt_zeros, pad) ?:
	       ckpt_end_section(s);
}

/* -- reading -------------------------------------------------------------- */

static void ckpt_io_error(struct netlink_ext_ack *extack, int err)
{
	if (err == -ENODATA)
		NL_SET_ERR_MSG(extack, "the image ends before its END section");
	else if (err == -EINTR)
		NL_SET_ERR_MSG(extack, "reading the image was interrupted (a signal)");
	else
		NL_SET_ERR_MSG(extack, "reading the image failed");
}

/* The next section's header: its type and payload length, checked. */
int ckpt_read_header(struct ckpt_stream *s, u32 *type, u64 *len,
		     struct netlink_ext_ack *extack)
{
	struct crak_image_section hdr;
	u64 max;
	int err;

	err = ckpt_read_all(s, &hdr, sizeof(hdr));
	if (err) {
		ckpt_io_error(extack, err);
		return err == -ENODATA ? -EINVAL : err;
	}
	if (le32_to_cpu(hdr.check) != xxh32(&hdr, offsetof(struct crak_image_section, check), 0)) {
		NL_SET_ERR_MSG(extack, "a section header of the image is corrupt");
		return -EINVAL;
	}
	if (le32_to_cpu(hdr.seq) != s->seq) {
		NL_SET_ERR_MSG(extack, "the image's sections are out of sequence");
		return -EINVAL;
	}
	*type = le32_to_cpu(hdr.type);
	*len = le64_to_cpu(hdr.len);
	max = *type == CRAK_IMG_PAGES ? CRAK_IMAGE_PAGES_MAX : CRAK_IMAGE_SECTION_MAX;
	if (*len % 8 || *len > max + sizeof(struct crak_img_pages)) {
		NL_SET_ERR_MSG(extack, "a section of the image has an impossible length");
		return -EINVAL;
	}
	xxh64_reset(&s->hash, 0);
	s->left = *len;
	return 0;
}

int ckpt_read_payload(struct ckpt_stream *s, void *buf, size_t len)
{
	int err;

	if (len > s->left)
		return -EINVAL;
	err = ckpt_read_all(s, buf, len);
	if (err)
		return err;
	xxh64_update(&s->hash, buf, len);
	s->left -= len;
	return 0;
}

int ckpt_read_pages(struct ckpt_stream *s, struct page **pages, unsigned int nr)
{
	unsigned int n;
	int err;

	if ((u64)nr * PAGE_SIZE > s->left)
		return -EINVAL;
	while (nr) {
		n = min(nr, CKPT_CHUNK_PAGES);
		err = ckpt_pages_io(s, pages, n, false);
		if (err)
			return err;
		ckpt_hash_pages(s, pages, n);
		s->left -= (u64)n * PAGE_SIZE;
		pages += n;
		nr -= n;
	}
	return 0;
}

/* The payload's hash: the section was read whole and is what was written. */
int ckpt_read_trailer(struct ckpt_stream *s, struct netlink_ext_ack *extack)
{
	__le64 sum;
	int err;

	if (s->left) {
		NL_SET_ERR_MSG(extack, "a section of the image is longer than its contents");
		return -EINVAL;
	}
	err = ckpt_read_all(s, &sum, sizeof(sum));
	if (err) {
		ckpt_io_error(extack, err);
		return err == -ENODATA ? -EINVAL : err;
	}
	if (le64_to_cpu(sum) != xxh64_digest(&s->hash)) {
		NL_SET_ERR_MSG(extack, "a section of the image fails its checksum");
		return -EINVAL;
	}
	s->seq++;
	return 0;
}

/* A whole section of TYPE, MIN to MAX bytes, into a new buffer (kvfree it). */
void *ckpt_read_section(struct ckpt_stream *s, u32 type, size_t min, size_t max,
			u64 *len, struct netlink_ext_ack *extack)
{
	u32 got;
	void *buf;
	int err;

	err = ckpt_read_header(s, &got, len, extack);
	if (err)
		return ERR_PTR(err);
	if (got != type) {
		NL_SET_ERR_MSG(extack, "the image has a section out of place");
		return ERR_PTR(-EINVAL);
	}
	if (*len < min || *len > max) {
		NL_SET_ERR_MSG(extack, "a section of the image has the wrong length");
		return ERR_PTR(-EINVAL);
	}
	buf = kvmalloc(*len ?: 1, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	err = ckpt_read_payload(s, buf, *len);
	if (err) {
		ckpt_io_error(extack, err);
		err = err == -ENODATA ? -EINVAL : err;
		goto fail;
	}
	err = ckpt_read_trailer(s, extack);
	if (err)
		goto fail;
	return buf;
fail:
	kvfree(buf);
	return ERR_PTR(err);
}
