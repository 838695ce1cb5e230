// SPDX-License-Identifier: GPL-2.0
/*
 * crak vif show: the state of one crakvif device, or of all, as text or JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>

#include "vif.h"

/* What every device has in a GET reply. */
static const uint16_t dev_required[] = {
	CRAK_VIF_A_IFINDEX, CRAK_VIF_A_IFNAME, CRAK_VIF_A_FROZEN, CRAK_VIF_A_FLOWS,
	CRAK_VIF_A_HELD_PACKETS, CRAK_VIF_A_HELD_BYTES,
	CRAK_VIF_A_LIMIT_PACKETS, CRAK_VIF_A_LIMIT_BYTES,
};

static const enum mnl_attr_data_type stats_policy[CRAK_VIF_STATS_A_MAX + 1] = {
	[CRAK_VIF_STATS_A_HELD] = MNL_TYPE_U64,
	[CRAK_VIF_STATS_A_DELIVERED] = MNL_TYPE_U64,
	[CRAK_VIF_STATS_A_DROPPED] = MNL_TYPE_U64,
	[CRAK_VIF_STATS_A_OVERFLOW] = MNL_TYPE_U64,
	[CRAK_VIF_STATS_A_EXPORTED] = MNL_TYPE_U64,
	[CRAK_VIF_STATS_A_IMPORTED] = MNL_TYPE_U64,
	[CRAK_VIF_STATS_A_TX_FROZEN] = MNL_TYPE_U64,
};

/* The counters, in the order they are shown. */
static const struct {
	uint16_t type;
	const char *name;
} dev_stats[] = {
	{ CRAK_VIF_STATS_A_HELD, "held" },
	{ CRAK_VIF_STATS_A_DELIVERED, "delivered" },
	{ CRAK_VIF_STATS_A_DROPPED, "dropped" },
	{ CRAK_VIF_STATS_A_OVERFLOW, "overflow" },
	{ CRAK_VIF_STATS_A_EXPORTED, "exported" },
	{ CRAK_VIF_STATS_A_IMPORTED, "imported" },
	{ CRAK_VIF_STATS_A_TX_FROZEN, "tx_frozen" },
};

/* A device, as a GET reply describes it. */
struct vif_dev {
	const struct nlattr *tb[CRAK_VIF_A_MAX + 1];
	const struct nlattr *stats[CRAK_VIF_STATS_A_MAX + 1];
	struct vif_flow *flows;		/* those the reply lists */
	unsigned int n_flows;
};

struct show_ctx {
	const char *what;
	struct json json;
	bool json_array;		/* the JSON array is open */
};

static uint32_t dev_u32(const struct vif_dev *d, uint16_t type)
{
	return mnl_attr_get_u32(d->tb[type]);
}

static uint64_t dev_stat(const struct vif_dev *d, uint16_t type)
{
	return mnl_attr_get_u64(d->stats[type]);
}

/* The FLOW nests of the reply, one per frozen flow (as many as fit). */
static int dev_parse_flows(const struct nlmsghdr *nlh, struct vif_dev *d)
{
	const struct nlattr *attr;
	unsigned int n = 0;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(attr) == CRAK_VIF_A_FLOW)
			n++;
	d->flows = xmalloc(n * sizeof(*d->flows));
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != CRAK_VIF_A_FLOW)
			continue;
		if (vif_flow_get(attr, &d->flows[d->n_flows]))
			return -1;
		d->n_flows++;
	}
	return 0;
}

static int dev_parse(const struct nlmsghdr *nlh, struct vif_dev *d)
{
	unsigned int i;

	if (vif_parse(nlh, d->tb))
		return -1;
	for (i = 0; i < ARRAY_SIZE(dev_required); i++)
		if (!d->tb[dev_required[i]])
			return -1;
	if (d->tb[CRAK_VIF_A_STATS] &&
	    nl_parse_nested(d->tb[CRAK_VIF_A_STATS], stats_policy, CRAK_VIF_STATS_A_MAX,
			    d->stats))
		return -1;
	return dev_parse_flows(nlh, d);
}

static void show_text(const struct vif_dev *d)
{
	uint32_t flows = dev_u32(d, CRAK_VIF_A_FLOWS);
	char flow[VIF_FLOW_STRLEN];
	unsigned int i;

	printf("%s: %s", mnl_attr_get_str(d->tb[CRAK_VIF_A_IFNAME]),
	       mnl_attr_get_u8(d->tb[CRAK_VIF_A_FROZEN]) ? "frozen" : "flowing");
	if (flows)
		printf(" (%u flow%s)", flows, plural(flows));
	printf("  held %u packets %u bytes  limits %u packets %u bytes\n",
	       dev_u32(d, CRAK_VIF_A_HELD_PACKETS), dev_u32(d, CRAK_VIF_A_HELD_BYTES),
	       dev_u32(d, CRAK_VIF_A_LIMIT_PACKETS), dev_u32(d, CRAK_VIF_A_LIMIT_BYTES));
	if (d->tb[CRAK_VIF_A_LINK])
		printf("    lower ifindex %u\n", dev_u32(d, CRAK_VIF_A_LINK));
	for (i = 0; i < d->n_flows; i++) {
		vif_flow_format(&d->flows[i], flow, sizeof(flow));
		printf("    flow %s\n", flow);
	}
	if (flows > d->n_flows)
		printf("    (%u more flow%s not listed)\n", flows - d->n_flows,
		       plural(flows - d->n_flows));
	if (!d->tb[CRAK_VIF_A_STATS])
		return;
	fputs("    stats:", stdout);
	for (i = 0; i < ARRAY_SIZE(dev_stats); i++)
		if (d->stats[dev_stats[i].type])
			printf(" %s %" PRIu64, dev_stats[i].name, dev_stat(d, dev_stats[i].type));
	putchar('\n');
}

static void show_json(struct json *j, const struct vif_dev *d)
{
	unsigned int i;

	json_open_object(j, NULL);
	json_uint(j, "ifindex", dev_u32(d, CRAK_VIF_A_IFINDEX));
	json_string(j, "ifname", mnl_attr_get_str(d->tb[CRAK_VIF_A_IFNAME]));
	if (d->tb[CRAK_VIF_A_LINK])
		json_uint(j, "link", dev_u32(d, CRAK_VIF_A_LINK));
	json_bool(j, "frozen", mnl_attr_get_u8(d->tb[CRAK_VIF_A_FROZEN]));
	json_uint(j, "flows", dev_u32(d, CRAK_VIF_A_FLOWS));
	json_open_array(j, "flow_list");
	for (i = 0; i < d->n_flows; i++)
		vif_flow_json(j, NULL, &d->flows[i]);
	json_close_array(j);
	json_uint(j, "held_packets", dev_u32(d, CRAK_VIF_A_HELD_PACKETS));
	json_uint(j, "held_bytes", dev_u32(d, CRAK_VIF_A_HELD_BYTES));
	json_uint(j, "limit_packets", dev_u32(d, CRAK_VIF_A_LIMIT_PACKETS));
	json_uint(j, "limit_bytes", dev_u32(d, CRAK_VIF_A_LIMIT_BYTES));
	if (d->tb[CRAK_VIF_A_STATS]) {
		json_open_object(j, "stats");
		for (i = 0; i < ARRAY_SIZE(dev_stats); i++)
			if (d->stats[dev_stats[i].type])
				json_uint(j, dev_stats[i].name, dev_stat(d, dev_stats[i].type));
		json_close_object(j);
	}
	json_close_object(j);
}

static void show_json_array_open(struct show_ctx *ctx)
{
	if (!ctx->json_array)
		json_open_array(&ctx->json, NULL);
	ctx->json_array = true;
}

/* A GET reply: one device. */
static int show_cb(const struct nlmsghdr *nlh, void *data)
{
	struct show_ctx *ctx = data;
	struct vif_dev d;
	int ret = MNL_CB_OK;

	memset(&d, 0, sizeof(d));
	if (dev_parse(nlh, &d)) {
		ret = nl_malformed(ctx->what);
	} else if (crak_opts.json) {
		show_json_array_open(ctx);
		show_json(&ctx->json, &d);
	} else {
		show_text(&d);
	}
	free(d.flows);
	return ret;
}

int vif_show(struct args *args)
{
	const char *dev = arg_next(args);
	struct show_ctx ctx;
	struct vif_cmd vc;
	int err;

	if (dev) {
		vif_check_dev(dev);
		arg_end(args);
	}

	if (vif_cmd_open(&vc, args, dev))
		return 1;
	ctx = (struct show_ctx){ .what = vc.what };
	json_init(&ctx.json, stdout, crak_opts.pretty);
	vif_cmd_request(&vc, CRAK_VIF_CMD_GET, dev ? NLM_F_ACK : NLM_F_DUMP);
	err = nl_exec(&vc.nl, vc.what, show_cb, &ctx);
	nl_close(&vc.nl);
	/* On failure, close what was shown, but do not show an empty list. */
	if (crak_opts.json && (ctx.json_array || !err)) {
		show_json_array_open(&ctx);
		json_close_array(&ctx.json);
	}
	return err ? 1 : 0;
}
