// SPDX-License-Identifier: GPL-2.0
/*
 * crak_ckpt: the image's sections (uapi/linux/crak_image.h).
 *
 * A section is a header (type, flags, length, sequence number, and an xxh32
 * of those), a payload padded to 8 bytes, and the payload's xxh64.  Both
 * directions stream: sections are written and read front to back through
 * the descriptor's own position, so a pipe or a socket does as well as a
 * file.  Pages go straight between the process's pages and the descriptor
 * (one copy), hashed in chunks small enough to stay in the cache.
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

static int ckpt_write_all(struct ckpt_stream *s, const void *buf, size_t len)
{
	loff_t pos = s->file->f_pos;
	ssize_t n;

	while (len) {
		if (fatal_signal_pending(current))
			return -EINTR;
		n = kernel_write(s->file, buf, len, &pos);
		if (n < 0)
			return n;
		if (!n)
			return -EIO;
		buf += n;
		len -= n;
		s->offset += n;
	}
	s->file->f_pos = pos;
	return 0;
}

static int ckpt_read_all(struct ckpt_stream *s, void *buf, size_t len)
{
	loff_t pos = s->file->f_pos;
	ssize_t n;

	while (len) {
		if (fatal_signal_pending(current))
			return -EINTR;
		n = kernel_read(s->file, buf, len, &pos);
		if (n < 0)
			return n;
		if (!n)
			return -ENODATA;	/* the image ends early */
		buf += n;
		len -= n;
		s->offset += n;
	}
	s->file->f_pos = pos;
	return 0;
}

/*
 * Moves NR (at most CKPT_CHUNK_PAGES) whole pages between PAGES and FILE at
 * *POS, which moves on; *MOVED counts the bytes that went through.  The
 * iterator is set up afresh from what went through each time: some file
 * systems (9p's netfs on 6.12) work on a copy of it and leave ours where it
 * was.
 */
static int ckpt_file_pages_io(struct file *file, loff_t *pos, struct page **pages,
			      unsigned int nr, bool write, u64 *moved)
{
	struct bio_vec bv[CKPT_CHUNK_PAGES];
	size_t total = (size_t)nr * PAGE_SIZE, done = 0;
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
			return n;
		if (!n)
			return write ? -EIO : -ENODATA;
		done += n;
		*moved += n;
	}
	return 0;
}

/* Moves NR whole pages between PAGES and the image's descriptor. */
static int ckpt_pages_io(struct ckpt_stream *s, struct page **pages, unsigned int nr,
			 bool write)
{
	loff_t pos = s->file->f_pos;
	int err;

	err = ckpt_file_pages_io(s->file, &pos, pages, nr, write, &s->offset);
	if (!err)
		s->file->f_pos = pos;
	return err;
}

/* Reads NR whole pages from FILE at POS (not an image's: no hash). */
int ckpt_pread_pages(struct file *file, loff_t pos, struct page **pages, unsigned int nr)
{
	u64 moved = 0;
	unsigned int n;
	int err;

	while (nr) {
		n = min(nr, CKPT_CHUNK_PAGES);
		err = ckpt_file_pages_io(file, &pos, pages, n, false, &moved);
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
	buf = kvmalloc(*len ?: 1, GFP_KERNEL);
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
