// SPDX-License-Identifier: GPL-2.0
/*
 * Classic pcap files, as https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/
 * describes them.
 *
 * A file is a header then records, each a header then the captured bytes of
 * one frame, all in the byte order of whoever wrote the file, which the magic
 * number tells.
 */
#include <byteswap.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcap.h"
#include "util.h"

#define PCAP_MAGIC_USEC		0xa1b2c3d4
#define PCAP_MAGIC_NSEC		0xa1b23c4d
#define PCAP_VERSION_MAJOR	2
#define PCAP_VERSION_MINOR	4
#define LINKTYPE_ETHERNET	1

#define NSEC_PER_SEC		1000000000ULL
#define NSEC_PER_USEC		1000ULL

struct pcap_file_header {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;	/* 0 */
	uint32_t sigfigs;	/* 0 */
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_record_header {
	uint32_t ts_sec;
	uint32_t ts_frac;	/* microseconds, or nanoseconds */
	uint32_t caplen;	/* bytes of the frame in the file */
	uint32_t len;		/* bytes of the frame */
};

static int report_errno(const char *name)
{
	pr_err("%s: %s", name, strerror(errno));
	return -1;
}

/* Creates PATH.tmp (or takes standard output) and writes the file header. */
int pcap_create(struct pcap_writer *w, const char *path)
{
	const struct pcap_file_header h = {
		.magic = PCAP_MAGIC_USEC,
		.version_major = PCAP_VERSION_MAJOR,
		.version_minor = PCAP_VERSION_MINOR,
		.snaplen = PCAP_SNAPLEN,
		.linktype = LINKTYPE_ETHERNET,
	};

	*w = (struct pcap_writer){ .path = path };
	if (!strcmp(path, "-")) {
		w->f = stdout;
		w->name = "standard output";
	} else {
		size_t size = strlen(path) + sizeof(".tmp");

		w->tmp = xmalloc(size);
		snprintf(w->tmp, size, "%s.tmp", path);
		w->name = w->tmp;
		w->f = fopen(w->tmp, "we");
		if (!w->f) {
			report_errno(w->name);
			free(w->tmp);
			return -1;
		}
	}
	if (fwrite(&h, sizeof(h), 1, w->f) != 1) {
		report_errno(w->name);
		pcap_discard(w);
		return -1;
	}
	return 0;
}

/* Appends a record of the @len bytes of a frame held at @time_ns. */
int pcap_write(struct pcap_writer *w, uint64_t time_ns, const void *data, size_t len)
{
	const struct pcap_record_header h = {
		.ts_sec = time_ns / NSEC_PER_SEC,
		.ts_frac = time_ns % NSEC_PER_SEC / NSEC_PER_USEC,
		.caplen = len,
		.len = len,
	};

	if (len > PCAP_SNAPLEN) {
		pr_err("%s: a frame of %zu bytes is larger than a pcap record (%u bytes)",
		       w->name, len, PCAP_SNAPLEN);
		return -1;
	}
	if (fwrite(&h, sizeof(h), 1, w->f) != 1 || fwrite(data, 1, len, w->f) != len)
		return report_errno(w->name);
	return 0;
}

/* Flushes @f and, if it is a file, makes sure its data is on disk. */
static int sync_file(FILE *f, const char *name)
{
	struct stat st;

	if (fflush(f) || fstat(fileno(f), &st))
		return report_errno(name);
	if (S_ISREG(st.st_mode) && fsync(fileno(f)))
		return report_errno(name);
	return 0;
}

/*
 * Finishes the file: once this returns 0, PATH holds every record written, on
 * disk, even if the machine crashes now.  On failure, PATH is left as it was.
 */
int pcap_commit(struct pcap_writer *w)
{
	int ret = sync_file(w->f, w->name);

	if (!w->tmp)
		return ret;
	if (fclose(w->f) && !ret)
		ret = report_errno(w->name);
	if (!ret && rename(w->tmp, w->path))
		ret = report_errno(w->path);
	if (ret)
		unlink(w->tmp);
	else
		ret = sync_dir(w->path);
	free(w->tmp);
	return ret;
}

/* Gives up writing: removes PATH.tmp, leaves PATH as it was. */
void pcap_discard(struct pcap_writer *w)
{
	if (!w->tmp)
		return;
	fclose(w->f);
	unlink(w->tmp);
	free(w->tmp);
}

static uint32_t pcap_u32(const struct pcap_reader *r, uint32_t v)
{
	return r->swapped ? bswap_32(v) : v;
}

static uint16_t pcap_u16(const struct pcap_reader *r, uint16_t v)
{
	return r->swapped ? bswap_16(v) : v;
}

static int pcap_check_header(struct pcap_reader *r, const struct pcap_file_header *h)
{
	uint32_t magic = h->magic;
	uint32_t linktype;

	r->swapped = bswap_32(magic) == PCAP_MAGIC_USEC || bswap_32(magic) == PCAP_MAGIC_NSEC;
	magic = pcap_u32(r, magic);
	if (magic != PCAP_MAGIC_USEC && magic != PCAP_MAGIC_NSEC) {
		pr_err("%s: not a pcap file (magic number 0x%08x)", r->name, magic);
		return -1;
	}
	r->nsec = magic == PCAP_MAGIC_NSEC;
	if (pcap_u16(r, h->version_major) != PCAP_VERSION_MAJOR) {
		pr_err("%s: unsupported pcap version %u.%u", r->name,
		       pcap_u16(r, h->version_major), pcap_u16(r, h->version_minor));
		return -1;
	}
	linktype = pcap_u32(r, h->linktype);
	if (linktype != LINKTYPE_ETHERNET) {
		pr_err("%s: link type %u, not Ethernet (%u)", r->name, linktype,
		       LINKTYPE_ETHERNET);
		return -1;
	}
	return 0;
}

/* Opens PATH, or takes standard input, and reads the file header. */
int pcap_open(struct pcap_reader *r, const char *path)
{
	struct pcap_file_header h;

	*r = (struct pcap_reader){ .name = path };
	if (!strcmp(path, "-")) {
		r->f = stdin;
		r->name = "standard input";
	} else {
		r->f = fopen(path, "re");
		if (!r->f)
			return report_errno(path);
	}
	if (fread(&h, sizeof(h), 1, r->f) != 1) {
		if (ferror(r->f))
			report_errno(r->name);
		else
			pr_err("%s: not a pcap file (too short)", r->name);
		pcap_close(r);
		return -1;
	}
	if (pcap_check_header(r, &h)) {
		pcap_close(r);
		return -1;
	}
	return 0;
}

static int pcap_read_failed(const struct pcap_reader *r)
{
	if (ferror(r->f))
		pr_err("%s: record %lu: %s", r->name, r->record, strerror(errno));
	else
		pr_err("%s: record %lu is truncated", r->name, r->record);
	return -1;
}

/* Reads the next record into @rec: returns 1, 0 at the end of the file, -1 on error. */
int pcap_read(struct pcap_reader *r, struct pcap_record *rec)
{
	struct pcap_record_header h;
	size_t n;

	n = fread(&h, 1, sizeof(h), r->f);
	if (n == 0 && feof(r->f))
		return 0;
	r->record++;
	if (n != sizeof(h))
		return pcap_read_failed(r);
	rec->caplen = pcap_u32(r, h.caplen);
	rec->len = pcap_u32(r, h.len);
	rec->time_ns = pcap_u32(r, h.ts_sec) * NSEC_PER_SEC +
		       pcap_u32(r, h.ts_frac) * (r->nsec ? 1 : NSEC_PER_USEC);
	if (rec->caplen > PCAP_SNAPLEN) {
		pr_err("%s: record %lu: %u captured bytes, more than a record holds (%u)",
		       r->name, r->record, rec->caplen, PCAP_SNAPLEN);
		return -1;
	}
	rec->data = xmalloc(rec->caplen);
	if (fread(rec->data, 1, rec->caplen, r->f) != rec->caplen) {
		free(rec->data);
		return pcap_read_failed(r);
	}
	return 1;
}

void pcap_close(struct pcap_reader *r)
{
	if (r->f != stdin)
		fclose(r->f);
}
