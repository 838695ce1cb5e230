// SPDX-License-Identifier: GPL-2.0
/*
 * crak vif: crakvif devices, over the crak_vif generic netlink family.
 *
 * This file has the table of commands, what they share, and the commands
 * that only send a request: freeze, thaw, set and announce.  show, export and
 * import, and monitor have files of their own.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "objects.h"
#include "vif.h"

static const char *const vif_attr_names[CRAK_VIF_A_MAX + 1] = {
	[CRAK_VIF_A_IFINDEX] = "ifindex",
	[CRAK_VIF_A_IFNAME] = "ifname",
	[CRAK_VIF_A_LINK] = "link",
	[CRAK_VIF_A_FROZEN] = "frozen",
	[CRAK_VIF_A_FLOW] = "flow",
	[CRAK_VIF_A_DROP] = "drop",
	[CRAK_VIF_A_LIMIT_PACKETS] = "limit-packets",
	[CRAK_VIF_A_LIMIT_BYTES] = "limit-bytes",
	[CRAK_VIF_A_HELD_PACKETS] = "held-packets",
	[CRAK_VIF_A_HELD_BYTES] = "held-bytes",
	[CRAK_VIF_A_STATS] = "stats",
	[CRAK_VIF_A_FRAME] = "frame",
	[CRAK_VIF_A_EXPORT_LAST] = "export-last",
	[CRAK_VIF_A_DELIVERED] = "delivered",
	[CRAK_VIF_A_DROPPED] = "dropped",
	[CRAK_VIF_A_IMPORTED] = "imported",
	[CRAK_VIF_A_FLOWS] = "flows",
};

const struct nl_family vif_family = {
	.name = CRAK_VIF_FAMILY_NAME,
	.module = "crak_vif",
	.version = CRAK_VIF_FAMILY_VERSION,
	.mcgrp = CRAK_VIF_MCGRP_EVENTS,
	.attr_names = vif_attr_names,
	.attr_max = CRAK_VIF_A_MAX,
};

static const enum mnl_attr_data_type vif_policy[CRAK_VIF_A_MAX + 1] = {
	[CRAK_VIF_A_IFINDEX] = MNL_TYPE_U32,
	[CRAK_VIF_A_IFNAME] = MNL_TYPE_NUL_STRING,
	[CRAK_VIF_A_LINK] = MNL_TYPE_U32,
	[CRAK_VIF_A_FROZEN] = MNL_TYPE_U8,
	[CRAK_VIF_A_FLOW] = MNL_TYPE_NESTED,
	[CRAK_VIF_A_DROP] = MNL_TYPE_FLAG,
	[CRAK_VIF_A_LIMIT_PACKETS] = MNL_TYPE_U32,
	[CRAK_VIF_A_LIMIT_BYTES] = MNL_TYPE_U32,
	[CRAK_VIF_A_HELD_PACKETS] = MNL_TYPE_U32,
	[CRAK_VIF_A_HELD_BYTES] = MNL_TYPE_U32,
	[CRAK_VIF_A_STATS] = MNL_TYPE_NESTED,
	[CRAK_VIF_A_FRAME] = MNL_TYPE_NESTED,
	[CRAK_VIF_A_EXPORT_LAST] = MNL_TYPE_U64,
	[CRAK_VIF_A_DELIVERED] = MNL_TYPE_U32,
	[CRAK_VIF_A_DROPPED] = MNL_TYPE_U32,
	[CRAK_VIF_A_IMPORTED] = MNL_TYPE_U32,
	[CRAK_VIF_A_FLOWS] = MNL_TYPE_U32,
};

/* The top-level attributes of a crak_vif message, checked. */
int vif_parse(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	return nl_parse(nlh, vif_policy, CRAK_VIF_A_MAX, tb);
}

void vif_check_dev(const char *dev)
{
	if (*dev == '-')
		arg_unexpected(dev);
	if (!*dev || strlen(dev) >= IFNAMSIZ)
		die_usage("invalid device name '%s'", dev);
}

/* The device a command is about: its first word. */
const char *vif_arg_dev(struct args *args)
{
	const char *dev = arg_next(args);

	if (!dev)
		die_usage("missing device");
	vif_check_dev(dev);
	return dev;
}

/* Opens the socket of a command about device @dev, or all devices if NULL. */
int vif_cmd_open(struct vif_cmd *vc, const struct args *args, const char *dev)
{
	vc->dev = dev;
	if (dev)
		snprintf(vc->what, sizeof(vc->what), "%s %s", args->cmd->name, dev);
	else
		snprintf(vc->what, sizeof(vc->what), "%s", args->cmd->name);
	return nl_open(&vc->nl, &vif_family);
}

/* Starts a request naming the command's device. */
struct nlmsghdr *vif_cmd_request(struct vif_cmd *vc, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = nl_request(&vc->nl, cmd, flags);

	if (vc->dev)
		mnl_attr_put_strz(nlh, CRAK_VIF_A_IFNAME, vc->dev);
	return nlh;
}

struct u32_reply {
	const char *what;
	uint16_t type;
	bool replied;
	uint32_t val;
};

static int u32_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_VIF_A_MAX + 1];
	struct u32_reply *r = data;

	if (vif_parse(nlh, tb) || !tb[r->type])
		return nl_malformed(r->what);
	r->val = mnl_attr_get_u32(tb[r->type]);
	r->replied = true;
	return MNL_CB_OK;
}

/* Sends the request, whose reply carries the u32 attribute @type. */
int vif_cmd_exec_u32(struct vif_cmd *vc, uint16_t type, uint32_t *val)
{
	struct u32_reply r = { .what = vc->what, .type = type };

	if (nl_exec(&vc->nl, vc->what, u32_reply_cb, &r))
		return -1;
	if (!r.replied) {
		pr_err("%s: no reply from the kernel", vc->what);
		return -1;
	}
	*val = r.val;
	return 0;
}

static int vif_freeze(struct args *args)
{
	const char *dev = vif_arg_dev(args);
	bool has_flow = false;
	struct vif_flow flow;
	struct nlmsghdr *nlh;
	struct vif_cmd vc;
	const char *word;
	int err;

	while ((word = arg_next(args))) {
		if (arg_keyword(word, "flow", &has_flow))
			vif_flow_parse_args(args, &flow);
		else
			arg_unexpected(word);
	}

	if (vif_cmd_open(&vc, args, dev))
		return 1;
	nlh = vif_cmd_request(&vc, CRAK_VIF_CMD_FREEZE, NLM_F_ACK);
	if (has_flow)
		vif_flow_put(nlh, &flow);
	err = nl_exec(&vc.nl, vc.what, NULL, NULL);
	nl_close(&vc.nl);
	return err ? 1 : 0;
}

/* What a thaw delivered and dropped, if the kernel said. */
struct thaw_reply {
	const char *what;
	bool replied;
	uint32_t delivered;
	uint32_t dropped;
};

static int thaw_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CRAK_VIF_A_MAX + 1];
	struct thaw_reply *r = data;

	if (vif_parse(nlh, tb) || !tb[CRAK_VIF_A_DELIVERED] || !tb[CRAK_VIF_A_DROPPED])
		return nl_malformed(r->what);
	r->delivered = mnl_attr_get_u32(tb[CRAK_VIF_A_DELIVERED]);
	r->dropped = mnl_attr_get_u32(tb[CRAK_VIF_A_DROPPED]);
	r->replied = true;
	return MNL_CB_OK;
}

static void thaw_print(const char *dev, const struct thaw_reply *r)
{
	struct json j;

	if (!crak_opts.json) {
		if (r->replied)
			printf("%s: thawed, %u delivered, %u dropped\n", dev, r->delivered,
			       r->dropped);
		else
			printf("%s: thawed\n", dev);
		return;
	}
	json_init(&j, stdout, crak_opts.pretty);
	json_open_object(&j, NULL);
	json_string(&j, "ifname", dev);
	if (r->replied) {
		json_uint(&j, "delivered", r->delivered);
		json_uint(&j, "dropped", r->dropped);
	}
	json_close_object(&j);
}

static int vif_thaw(struct args *args)
{
	const char *dev = vif_arg_dev(args);
	bool has_flow = false, drop = false;
	struct vif_flow flow;
	struct thaw_reply r;
	struct nlmsghdr *nlh;
	struct vif_cmd vc;
	const char *word;
	int err;

	while ((word = arg_next(args))) {
		if (arg_keyword(word, "flow", &has_flow))
			vif_flow_parse_args(args, &flow);
		else if (!arg_keyword(word, "drop", &drop))
			arg_unexpected(word);
	}

	if (vif_cmd_open(&vc, args, dev))
		return 1;
	nlh = vif_cmd_request(&vc, CRAK_VIF_CMD_THAW, NLM_F_ACK);
	if (has_flow)
		vif_flow_put(nlh, &flow);
	if (drop)
		mnl_attr_put(nlh, CRAK_VIF_A_DROP, 0, "");	/* a flag: no payload */
	r = (struct thaw_reply){ .what = vc.what };
	err = nl_exec(&vc.nl, vc.what, thaw_reply_cb, &r);
	nl_close(&vc.nl);
	if (err)
		return 1;
	thaw_print(dev, &r);
	return 0;
}

/* The help of set gives these numbers. */
_Static_assert(CRAK_VIF_MAX_LIMIT_PACKETS == 1000000, "update the help of set");
_Static_assert(CRAK_VIF_MAX_LIMIT_BYTES == 1073741824, "update the help of set");

static int vif_set(struct args *args)
{
	const char *dev = vif_arg_dev(args);
	bool has_packets = false, has_bytes = false;
	uint32_t packets = 0, bytes = 0;
	struct nlmsghdr *nlh;
	struct vif_cmd vc;
	const char *word;
	int err;

	while ((word = arg_next(args))) {
		if (arg_keyword(word, "limit-packets", &has_packets))
			packets = parse_u32(arg_value(args, "number after limit-packets"), word,
					    1, CRAK_VIF_MAX_LIMIT_PACKETS);
		else if (arg_keyword(word, "limit-bytes", &has_bytes))
			bytes = parse_u32(arg_value(args, "number after limit-bytes"), word,
					  1, CRAK_VIF_MAX_LIMIT_BYTES);
		else
			arg_unexpected(word);
	}
	if (!has_packets && !has_bytes)
		die_usage("nothing to set: limit-packets, limit-bytes or both");

	if (vif_cmd_open(&vc, args, dev))
		return 1;
	nlh = vif_cmd_request(&vc, CRAK_VIF_CMD_SET, NLM_F_ACK);
	if (has_packets)
		mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_PACKETS, packets);
	if (has_bytes)
		mnl_attr_put_u32(nlh, CRAK_VIF_A_LIMIT_BYTES, bytes);
	err = nl_exec(&vc.nl, vc.what, NULL, NULL);
	nl_close(&vc.nl);
	return err ? 1 : 0;
}

static int vif_announce(struct args *args)
{
	const char *dev = vif_arg_dev(args);
	struct vif_cmd vc;
	int err;

	arg_end(args);

	if (vif_cmd_open(&vc, args, dev))
		return 1;
	vif_cmd_request(&vc, CRAK_VIF_CMD_ANNOUNCE, NLM_F_ACK);
	err = nl_exec(&vc.nl, vc.what, NULL, NULL);
	nl_close(&vc.nl);
	return err ? 1 : 0;
}

#define FLOW_SYNOPSIS	"flow tcp|udp LADDR:LPORT RADDR:RPORT"

static const struct command vif_commands[] = {
	{
		.name = "show",
		.synopsis = "[DEV]",
		.help =
"Show DEV, or every crakvif device: whether it is frozen as a whole, its\n"
"frozen flows, the frames it holds, its limits and its counters.  With -j, a\n"
"JSON array of objects.\n",
		.run = vif_show,
	}, {
		.name = "freeze",
		.synopsis = "DEV [" FLOW_SYNOPSIS "]",
		.help =
"Freeze DEV as a whole, or only one flow of it.  The inbound frames it matches\n"
"are then held, in order, instead of reaching the stack, and what the stack\n"
"sends that it matches is dropped.\n"
"\n"
FLOW_SYNOPSIS "\n"
"        the flow, seen from DEV: LADDR:LPORT is DEV's side.  An endpoint is\n"
"        ADDR:PORT for IPv4 or [ADDR]:PORT for IPv6, both of one family;\n"
"        0.0.0.0, [::] and port 0 match any.\n",
		.run = vif_freeze,
	}, {
		.name = "thaw",
		.synopsis = "DEV [drop] [" FLOW_SYNOPSIS "]",
		.help =
"Thaw DEV and all its flows, or only one flow, and deliver in order the held\n"
"frames that nothing holds any more.  Prints how many were delivered and how\n"
"many dropped.\n"
"\n"
"drop    discard those frames instead\n"
"flow    the flow, as for freeze\n",
		.run = vif_thaw,
	}, {
		.name = "set",
		.synopsis = "DEV [limit-packets N] [limit-bytes N]",
		.help =
"Set how much DEV may hold: past either limit, new frames are dropped.\n"
"\n"
"limit-packets N    frames, from 1 to 1000000\n"
"limit-bytes N      bytes of frames, Ethernet headers included, from 1 to\n"
"                   1073741824\n",
		.run = vif_set,
	}, {
		.name = "export",
		.synopsis = "DEV -o FILE [drop]",
		.help =
"Write the frames DEV holds to FILE, a pcap file, and leave them held.  FILE\n"
"is written as FILE.tmp, renamed once it is on disk.\n"
"\n"
"-o FILE    the file; - for standard output\n"
"drop       then discard from DEV the frames written, once they are on disk\n",
		.run = vif_export,
	}, {
		.name = "import",
		.synopsis = "DEV -i FILE",
		.help =
"Put the frames of FILE, a pcap file of Ethernet frames, in the queue of DEV,\n"
"which must be frozen as a whole, ahead of the frames it holds: they are\n"
"delivered when it thaws.  Refused before anything is imported if they would\n"
"not fit under DEV's limits.\n"
"\n"
"-i FILE    the file; - for standard input\n",
		.run = vif_import,
	}, {
		.name = "announce",
		.synopsis = "DEV",
		.help =
"Announce DEV's addresses to its network: gratuitous ARP and unsolicited\n"
"neighbour advertisements.\n",
		.run = vif_announce,
	}, {
		.name = "monitor",
		.synopsis = "",
		.help =
"Print the events of every crakvif device, one line each, until interrupted:\n"
"freeze and thaw (of a device or of a flow), overflow (the first frame dropped\n"
"past a limit since a freeze) and import.  With -j, one JSON object a line.\n",
		.run = vif_monitor,
	},
};

const struct object vif_object = {
	.name = "vif",
	.summary = "crakvif devices, which hold the packets of a frozen process",
	.help =
"A crakvif device gives a migratable process a stable address, and holds its\n"
"inbound packets while it is frozen or moving.  DEV is a crakvif device of\n"
"this network namespace.\n",
	.commands = vif_commands,
	.n_commands = ARRAY_SIZE(vif_commands),
};
