/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Classic pcap files (not pcapng) of Ethernet frames.
 *
 * The writer writes microsecond timestamps in this host's byte order, to
 * PATH.tmp renamed to PATH once it is on disk, or to standard output for "-".
 * The reader reads either byte order, microsecond or nanosecond timestamps,
 * from PATH or from standard input for "-".
 */
#ifndef CRAK_PCAP_H
#define CRAK_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The largest frame a record holds (libpcap's too). */
#define PCAP_SNAPLEN	262144

struct pcap_writer {
	FILE *f;
	const char *path;	/* as given: the file made, or "-" */
	char *tmp;		/* PATH.tmp, or NULL when writing to standard output */
	const char *name;	/* of what is written, for messages */
};

struct pcap_reader {
	FILE *f;
	const char *name;	/* the path, or "standard input", for messages */
	bool swapped;		/* written in the other byte order */
	bool nsec;		/* nanosecond timestamps */
	unsigned long record;	/* number of the last record read, from 1 */
};

struct pcap_record {
	uint64_t time_ns;	/* since the epoch */
	uint32_t caplen;	/* bytes in data */
	uint32_t len;		/* bytes the frame had */
	unsigned char *data;	/* malloc'ed: the caller frees it */
};

int pcap_create(struct pcap_writer *w, const char *path);
int pcap_write(struct pcap_writer *w, uint64_t time_ns, const void *data, size_t len);
int pcap_commit(struct pcap_writer *w);
void pcap_discard(struct pcap_writer *w);

int pcap_open(struct pcap_reader *r, const char *path);
int pcap_read(struct pcap_reader *r, struct pcap_record *rec);
void pcap_close(struct pcap_reader *r);

#endif /* CRAK_PCAP_H */
