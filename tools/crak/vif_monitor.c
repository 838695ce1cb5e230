// SPDX-License-Identifier: GPL-2.0
/*
 * crak vif monitor: the events of the crak_vif family, one line each, until
 * SIGINT or SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/genetlink.h>

#include "vif.h"

static const char *const event_names[CRAK_VIF_CMD_MAX + 1] = {
	[CRAK_VIF_CMD_FREEZE_NTF] = "freeze",
	[CRAK_VIF_CMD_THAW_NTF] = "thaw",
	[CRAK_VIF_CMD_OVERFLOW_NTF] = "overflow",
	[CRAK_VIF_CMD_IMPORT_NTF] = "import",
};

/* An event: its name, the device, and whichever of these it carries. */
struct vif_event {
	const char *name;
	const struct nlattr *tb[CRAK_VIF_A_MAX + 1];
	bool has_flow;
	struct vif_flow flow;
};

static uint32_t event_u32(const struct vif_event *e, uint16_t type)
{
	return mnl_attr_get_u32(e->tb[type]);
}

/* "freeze pod0 flow tcp 192.0.2.100:80 198.51.100.7:40000" */
static void event_text(const struct vif_event *e)
{
	const struct nlattr *const *tb = e->tb;
	char flow[VIF_FLOW_STRLEN];

	printf("%s %s", e->name, mnl_attr_get_str(tb[CRAK_VIF_A_IFNAME]));
	if (e->has_flow) {
		vif_flow_format(&e->flow, flow, sizeof(flow));
		printf(" flow %s", flow);
	}
	if (tb[CRAK_VIF_A_DELIVERED])
		printf(" delivered %u", event_u32(e, CRAK_VIF_A_DELIVERED));
	if (tb[CRAK_VIF_A_DROPPED])
		printf(" dropped %u", event_u32(e, CRAK_VIF_A_DROPPED));
	if (tb[CRAK_VIF_A_HELD_PACKETS] && tb[CRAK_VIF_A_HELD_BYTES])
		printf(" held %u packets %u bytes", event_u32(e, CRAK_VIF_A_HELD_PACKETS),
		       event_u32(e, CRAK_VIF_A_HELD_BYTES));
	if (tb[CRAK_VIF_A_IMPORTED])
		printf(" imported %u", event_u32(e, CRAK_VIF_A_IMPORTED));
	putchar('\n');
}

static void event_json(const struct vif_event *e)
{
	static const struct {
		uint16_t type;
		const char *key;
	} counts[] = {
		{ CRAK_VIF_A_DELIVERED, "delivered" },
		{ CRAK_VIF_A_DROPPED, "dropped" },
		{ CRAK_VIF_A_HELD_PACKETS, "held_packets" },
		{ CRAK_VIF_A_HELD_BYTES, "held_bytes" },
		{ CRAK_VIF_A_IMPORTED, "imported" },
	};
	struct json j;
	unsigned int i;

	json_init(&j, stdout, crak_opts.pretty);
	json_open_object(&j, NULL);
	json_string(&j, "event", e->name);
	json_string(&j, "ifname", mnl_attr_get_str(e->tb[CRAK_VIF_A_IFNAME]));
	json_uint(&j, "ifindex", event_u32(e, CRAK_VIF_A_IFINDEX));
	if (e->has_flow)
		vif_flow_json(&j, "flow", &e->flow);
	for (i = 0; i < ARRAY_SIZE(counts); i++)
		if (e->tb[counts[i].type])
			json_uint(&j, counts[i].key, event_u32(e, counts[i].type));
	json_close_object(&j);
}

static int event_parse(const struct nlmsghdr *nlh, struct vif_event *e)
{
	if (vif_parse(nlh, e->tb) || !e->tb[CRAK_VIF_A_IFINDEX] || !e->tb[CRAK_VIF_A_IFNAME])
		return -1;
	e->has_flow = e->tb[CRAK_VIF_A_FLOW];
	return e->has_flow ? vif_flow_get(e->tb[CRAK_VIF_A_FLOW], &e->flow) : 0;
}

static int monitor_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	const char *what = data;
	struct vif_event e;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*genl))
		return nl_malformed(what);
	/* Events of a newer kernel this crak does not know. */
	if (genl->cmd > CRAK_VIF_CMD_MAX || !event_names[genl->cmd])
		return MNL_CB_OK;
	e.name = event_names[genl->cmd];
	if (event_parse(nlh, &e))
		return nl_malformed(what);
	if (crak_opts.json)
		event_json(&e);
	else
		event_text(&e);
	if (fflush(stdout)) {
		pr_err("standard output: %s", strerror(errno));
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/*
 * Each event is flushed as soon as it is printed, so there is nothing left to
 * do but leave, at once: waiting for the receive to return instead would race
 * with a signal coming just before it blocks.
 */
static void monitor_stop(int sig)
{
	(void)sig;
	_exit(0);
}

int vif_monitor(struct args *args)
{
	struct sigaction sa = { .sa_handler = monitor_stop };
	struct vif_cmd vc;

	arg_end(args);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		pr_err("monitor: %s", strerror(errno));
		return 1;
	}
	if (vif_cmd_open(&vc, args, NULL))
		return 1;
	if (!nl_subscribe(&vc.nl))
		nl_listen(&vc.nl, vc.what, monitor_cb, vc.what);
	nl_close(&vc.nl);
	return 1;
}
