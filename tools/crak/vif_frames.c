// SPDX-License-Identifier: GPL-2.0
/*
 * crak vif export and import: the frames a crakvif device holds, to and from
 * pcap files.
 *
 * export dumps the held frames to the file and, with drop, discards them from
 * the device only once the file is on disk.  import reads and checks the
 * whole file first, refuses frames that would not fit under the device's
 * limits, then sends them in messages of about 60 KiB.
 */
#include <inttypes.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>

#include "pcap.h"
#include "vif.h"

/* An import message carries as many frames as fit in this many bytes. */
#define IMPORT_MSG_SIZE		(60 * 1024)


static const enum mnl_attr_data_type frame_policy[CRAK_VIF_FRAME_A_MAX + 1] = {
	[CRAK_VIF_FRAME_A_SEQ] = MNL_TYPE_U64,
	[CRAK_VIF_FRAME_A_TIME] = MNL_TYPE_U64,
	[CRAK_VIF_FRAME_A_DATA] = MNL_TYPE_BINARY,
};

struct export_ctx {
	const char *what;
	struct vif_frames *list;	/* into memory, not to pcap */
	const struct vif_frames *since;	/* and only what came after these */
	struct pcap_writer pcap;
	uint32_t frames;		/* written */
	uint64_t last_seq;		/* the highest sequence number written */
};

static int export_frame(struct export_ctx *ctx, const struct nlattr *nest)
{
	const struct nlattr *tb[CRAK_VIF_FRAME_A_MAX + 1];
	uint64_t seq;

	if (nl_parse_nested(nest, frame_policy, CRAK_VIF_FRAME_A_MAX, tb) ||
	    !tb[CRAK_VIF_FRAME_A_SEQ] || !tb[CRAK_VIF_FRAME_A_TIME] || !tb[CRAK_VIF_FRAME_A_DATA])
		return nl_malformed(ctx->what);
	seq = mnl_attr_get_u64(tb[CRAK_VIF_FRAME_A_SEQ]);
	/* (A device numbers its frames from 1: last_seq 0 skips none.) */
	if (ctx->since && seq <= ctx->since->last_seq)
		return MNL_CB_OK;
	if (ctx->list) {
		struct pcap_record rec = {
			.time_ns = mnl_attr_get_u64(tb[CRAK_VIF_FRAME_A_TIME]),
			.len = mnl_attr_get_payload_len(tb[CRAK_VIF_FRAME_A_DATA]),
		};

		rec.caplen = rec.len;
		rec.data = xmalloc(rec.len);
		memcpy(rec.data, mnl_attr_get_payload(tb[CRAK_VIF_FRAME_A_DATA]), rec.len);
		vif_frames_add(ctx->list, &rec);
		if (ctx->list->n == 1 || seq > ctx->list->last_seq)
			ctx->list->last_seq = seq;
	} else if (pcap_write(&ctx->pcap, mnl_attr_get_u64(tb[CRAK_VIF_FRAME_A_TIME]),
			      mnl_attr_get_payload(tb[CRAK_VIF_FRAME_A_DATA]),
			      mnl_attr_get_payload_len(tb[CRAK_VIF_FRAME_A_DATA]))) {
		return MNL_CB_ERROR;
	}
	if (!ctx->frames || seq > ctx->last_seq)
		ctx->last_seq = seq;
	ctx->frames++;
	return MNL_CB_OK;
}

/* A message of the EXPORT dump: one or more held frames. */
static int export_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(attr) == CRAK_VIF_A_FRAME &&
		    export_frame(data, attr) == MNL_CB_ERROR)
			return MNL_CB_ERROR;
	return MNL_CB_OK;
}

/* Writes the held frames to @path, and makes sure they are on disk. */
static int export_frames(struct vif_cmd *vc, const char *path, struct export_ctx *ctx)
{
	if (pcap_create(&ctx->pcap, path))
		return -1;
	vif_cmd_request(vc, CRAK_VIF_CMD_EXPORT, NLM_F_DUMP);
	if (nl_exec(&vc->nl, vc->what, export_cb, ctx)) {
		pcap_discard(&ctx->pcap);
		return -1;
	}
	return pcap_commit(&ctx->pcap);
}

/* Discards from the device the held frames up to sequence number @last. */
static int export_drop(struct vif_cmd *vc, uint64_t last, uint32_t *dropped)
{
	struct nlmsghdr *nlh = vif_cmd_request(vc, CRAK_VIF_CMD_EXPORT, NLM_F_ACK);

	mnl_attr_put_u64(nlh, CRAK_VIF_A_EXPORT_LAST, last);
	return vif_cmd_exec_u32(vc, CRAK_VIF_A_DROPPED, dropped);
}

/* With the frames on standard output, the summary goes to standard error. */
static void export_print(const char *dev, const char *path, uint32_t frames, bool drop,
			 uint32_t dropped)
{
	bool to_stdout = !strcmp(path, "-");
	FILE *out = to_stdout ? stderr : stdout;
	struct json j;

	if (!crak_opts.json) {
		fprintf(out, "%s: exported %u frame%s to %s", dev, frames, plural(frames),
			to_stdout ? "standard output" : path);
		if (drop && frames && frames == dropped)
			fputs(", dropped them", out);
		else if (drop && frames)
			fprintf(out, ", dropped %u of them", dropped);
		putc('\n', out);
		return;
	}
	json_init(&j, out, crak_opts.pretty);
	json_open_object(&j, NULL);
	json_string(&j, "ifname", dev);
	json_string(&j, "file", path);
	json_uint(&j, "exported", frames);
	if (drop)
		json_uint(&j, "dropped", dropped);
	json_close_object(&j);
}

int vif_export(struct args *args)
{
	const char *dev = vif_arg_dev(args);
	bool has_path = false, drop = false;
	struct export_ctx ctx = { 0 };
	const char *path = NULL;
	uint32_t dropped = 0;
	struct vif_cmd vc;
	const char *word;
	int err;

	while ((word = arg_next(args))) {
		if (arg_keyword(word, "-o", &has_path))
			path = arg_value(args, "file after -o");
		else if (!arg_keyword(word, "drop", &drop))
			arg_unexpected(word);
	}
	if (!path)
		die_usage("missing -o FILE");

	if (vif_cmd_open(&vc, args, dev))
		return 1;
	ctx.what = vc.what;
	err = export_frames(&vc, path, &ctx);
	if (!err && drop && ctx.frames) {
		err = export_drop(&vc, ctx.last_seq, &dropped);
		if (err)
			pr_err("%s: the %u frame%s written to %s are still held", vc.what,
			       ctx.frames, plural(ctx.frames), path);
	}
	nl_close(&vc.nl);
	if (err)
		return 1;
	export_print(dev, path, ctx.frames, drop, dropped);
	return 0;
}

void vif_frames_add(struct vif_frames *fl, const struct pcap_record *rec)
{
	if (fl->n == fl->size) {
		fl->size = fl->size ? 2 * fl->size : 64;
		fl->v = xrealloc(fl->v, fl->size * sizeof(*fl->v));
	}
	fl->v[fl->n++] = *rec;
	fl->bytes += rec->len;
}

void vif_frames_free(struct vif_frames *fl)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		free(fl->v[i].data);
	free(fl->v);
}

/* A record must hold a whole frame that import can carry. */
static int frame_check(const struct pcap_reader *r, const struct pcap_record *rec)
{
	if (rec->caplen != rec->len)
		pr_err("%s: record %lu holds %u of the %u bytes of its frame", r->name, r->record,
		       rec->caplen, rec->len);
	else if (rec->len < ETH_HLEN)
		pr_err("%s: record %lu: a frame of %u bytes is shorter than an Ethernet header",
		       r->name, r->record, rec->len);
	else if (rec->len > CRAK_VIF_MAX_FRAME)
		pr_err("%s: record %lu: a frame of %u bytes is larger than import takes (%lu)",
		       r->name, r->record, rec->len, (unsigned long)CRAK_VIF_MAX_FRAME);
	else
		return 0;
	return -1;
}

/* Reads all the frames of @path, or of standard input for "-". */
static int frames_read(const char *path, struct vif_frames *fl)
{
	struct pcap_record rec;
	struct pcap_reader r;
	int ret;

	if (pcap_open(&r, path))
		return -1;
	while ((ret = pcap_read(&r, &rec)) > 0) {
		if (frame_check(&r, &rec)) {
			free(rec.data);
			ret = -1;
			break;
		}
		vif_frames_add(fl, &rec);
	}
	pcap_close(&r);
	return ret;
}

/* How full the device's queue is, and may be. */
struct queue_state {
	const char *what;
	bool replied;
	uint32_t held_packets;
	uint32_t held_bytes;
	uint32_t limit_packets;
	uint32_t limit_bytes;
};

static int queue_state_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_VIF_A_MAX + 1];
	struct queue_state *q = data;

	if (vif_parse(nlh, tb) ||
	    !tb[CRAK_VIF_A_HELD_PACKETS] || !tb[CRAK_VIF_A_HELD_BYTES] ||
	    !tb[CRAK_VIF_A_LIMIT_PACKETS] || !tb[CRAK_VIF_A_LIMIT_BYTES])
		return nl_malformed(q->what);
	q->held_packets = mnl_attr_get_u32(tb[CRAK_VIF_A_HELD_PACKETS]);
	q->held_bytes = mnl_attr_get_u32(tb[CRAK_VIF_A_HELD_BYTES]);
	q->limit_packets = mnl_attr_get_u32(tb[CRAK_VIF_A_LIMIT_PACKETS]);
	q->limit_bytes = mnl_attr_get_u32(tb[CRAK_VIF_A_LIMIT_BYTES]);
	q->replied = true;
	return MNL_CB_OK;
}

/* Refuses frames that would not all fit under the device's limits. */
static int import_check_room(struct vif_cmd *vc, const struct vif_frames *fl)
{
	struct queue_state q = { .what = vc->what };

	vif_cmd_request(vc, CRAK_VIF_CMD_GET, NLM_F_ACK);
	if (nl_exec(&vc->nl, vc->what, queue_state_cb, &q))
		return -1;
	if (!q.replied) {
		pr_err("%s: no reply from the kernel", vc->what);
		return -1;
	}
	if (q.held_packets + fl->n <= q.limit_packets && q.held_bytes + fl->bytes <= q.limit_bytes)
		return 0;
	pr_err("%s: %zu frame%s (%" PRIu64 " bytes) won't fit: it holds %u/%u packets, %u/%u bytes",
	       vc->what, fl->n, plural(fl->n), fl->bytes, q.held_packets, q.limit_packets,
	       q.held_bytes, q.limit_bytes);
	return -1;
}

/* What the FRAME nest of a frame of @len bytes takes in a message. */
static size_t frame_nest_size(uint32_t len)
{
	return MNL_ATTR_HDRLEN + MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof(uint64_t)) +
	       MNL_ALIGN(MNL_ATTR_HDRLEN + len);
}

static void import_put_frame(struct nlmsghdr *nlh, const struct pcap_record *frame)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, CRAK_VIF_A_FRAME);

	mnl_attr_put_u64(nlh, CRAK_VIF_FRAME_A_TIME, frame->time_ns);
	mnl_attr_put(nlh, CRAK_VIF_FRAME_A_DATA, frame->len, frame->data);
	mnl_attr_nest_end(nlh, nest);
}

/* Sends one message of the frames from *@next on, and moves *@next past them. */
static int import_message(struct vif_cmd *vc, const struct vif_frames *fl, size_t *next)
{
	struct nlmsghdr *nlh = vif_cmd_request(vc, CRAK_VIF_CMD_IMPORT, NLM_F_ACK);
	size_t i = *next;
	uint32_t imported;

	/* At least one frame, however large. */
	do {
		import_put_frame(nlh, &fl->v[i++]);
	} while (i < fl->n && nlh->nlmsg_len + frame_nest_size(fl->v[i].len) <= IMPORT_MSG_SIZE);
	if (vif_cmd_exec_u32(vc, CRAK_VIF_A_IMPORTED, &imported))
		return -1;
	if (imported != i - *next) {
		pr_err("%s: the kernel imported %u of the %zu frames of a message", vc->what,
		       imported, i - *next);
		return -1;
	}
	*next = i;
	return 0;
}

static int import_frames(struct vif_cmd *vc, const struct vif_frames *fl)
{
	size_t done = 0;

	if (import_check_room(vc, fl))
		return -1;
	while (done < fl->n) {
		if (import_message(vc, fl, &done)) {
			if (done)
				pr_err("%s: %zu of the %zu frames were imported before this failure",
				       vc->what, done, fl->n);
			return -1;
		}
	}
	return 0;
}

int vif_frames_take(struct vif_cmd *vc, struct vif_frames *fl, const struct vif_frames *since)
{
	struct export_ctx ctx = { .what = vc->what, .list = fl, .since = since };

	vif_cmd_request(vc, CRAK_VIF_CMD_EXPORT, NLM_F_DUMP);
	return nl_exec(&vc->nl, vc->what, export_cb, &ctx);
}

int vif_frames_give(struct vif_cmd *vc, const struct vif_frames *fl)
{
	return fl->n ? import_frames(vc, fl) : 0;
}

static void import_print(const char *dev, size_t frames)
{
	struct json j;

	if (!crak_opts.json) {
		printf("%s: imported %zu frame%s\n", dev, frames, plural(frames));
		return;
	}
	json_init(&j, stdout, crak_opts.pretty);
	json_open_object(&j, NULL);
	json_string(&j, "ifname", dev);
	json_uint(&j, "imported", frames);
	json_close_object(&j);
}

int vif_import(struct args *args)
{
	const char *dev = vif_arg_dev(args);
	struct vif_frames fl = { 0 };
	const char *path = NULL;
	bool has_path = false;
	struct vif_cmd vc;
	const char *word;
	int err = -1;

	while ((word = arg_next(args))) {
		if (arg_keyword(word, "-i", &has_path))
			path = arg_value(args, "file after -i");
		else
			arg_unexpected(word);
	}
	if (!path)
		die_usage("missing -i FILE");

	if (frames_read(path, &fl) || vif_cmd_open(&vc, args, dev))
		goto out;
	err = import_frames(&vc, &fl);
	nl_close(&vc.nl);
	if (!err)
		import_print(dev, fl.n);
out:
	vif_frames_free(&fl);
	return err ? 1 : 0;
}
