// SPDX-License-Identifier: GPL-2.0
/*
 * crak sock show: the sockets crak_sockmig tracks, as text or JSON; and a
 * socket as any reply of the crak_sock family describes it.
 */
#include <inttypes.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sock.h"

/* The TCP states, as the kernel numbers them (netinet/tcp.h). */
static const char *const tcp_state_names[] = {
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECV] = "SYN_RECV",
	[TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_FIN_WAIT2] = "FIN_WAIT2",
	[TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE",
	[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",
	[TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
};

/* CRAK_SOCK_F_*, in the order they are shown. */
static const struct {
	uint32_t flag;
	const char *name;
} sock_flags[] = {
	{ CRAK_SOCK_F_FROZEN, "frozen" },
	{ CRAK_SOCK_F_DUMPED, "dumped" },
	{ CRAK_SOCK_F_REPAIR, "repair" },
	{ CRAK_SOCK_F_RESTORED, "restored" },
	{ CRAK_SOCK_F_CLOSED, "closed" },
};

/* The attributes of a tuple: all or none of them. */
#define SOCK_TUPLE_ATTRS	(1U << CRAK_SOCK_A_PROTO | 1U << CRAK_SOCK_A_LADDR | \
				 1U << CRAK_SOCK_A_LPORT | 1U << CRAK_SOCK_A_RADDR | \
				 1U << CRAK_SOCK_A_RPORT)

/* An address attribute: its length tells the family. */
/* A reply into @si: whichever attributes it has, checked; -1 if malformed. */
int sock_info_parse(const struct nlmsghdr *nlh, struct sock_info *si)
{
	const struct nlattr *tb[CRAK_SOCK_A_MAX + 1];
	unsigned int type;

	memset(si, 0, sizeof(*si));
	if (sock_parse(nlh, tb))
		return -1;
	for (type = 0; type <= CRAK_SOCK_A_MAX; type++)
		if (tb[type])
			si->present |= 1U << type;
	if (si->present & SOCK_TUPLE_ATTRS) {
		struct vif_flow *f = &si->tuple;

		if ((si->present & SOCK_TUPLE_ATTRS) != SOCK_TUPLE_ATTRS)
			return -1;
		f->proto = mnl_attr_get_u8(tb[CRAK_SOCK_A_PROTO]);
		if (nl_get_endpoint(tb[CRAK_SOCK_A_LADDR], tb[CRAK_SOCK_A_LPORT], &f->local) ||
		    nl_get_endpoint(tb[CRAK_SOCK_A_RADDR], tb[CRAK_SOCK_A_RPORT], &f->remote) ||
		    f->local.family != f->remote.family)
			return -1;
	}
	if (tb[CRAK_SOCK_A_ID])
		si->id = mnl_attr_get_u32(tb[CRAK_SOCK_A_ID]);
	if (tb[CRAK_SOCK_A_FAMILY])
		si->family = mnl_attr_get_u16(tb[CRAK_SOCK_A_FAMILY]);
	if (tb[CRAK_SOCK_A_STATE])
		si->state = mnl_attr_get_u8(tb[CRAK_SOCK_A_STATE]);
	if (tb[CRAK_SOCK_A_FLAGS])
		si->flags = mnl_attr_get_u32(tb[CRAK_SOCK_A_FLAGS]);
	if (tb[CRAK_SOCK_A_RECVQ_BYTES])
		si->recvq_bytes = mnl_attr_get_u32(tb[CRAK_SOCK_A_RECVQ_BYTES]);
	if (tb[CRAK_SOCK_A_SENDQ_BYTES])
		si->sendq_bytes = mnl_attr_get_u32(tb[CRAK_SOCK_A_SENDQ_BYTES]);
	if (tb[CRAK_SOCK_A_DROPPED])
		si->dropped = mnl_attr_get_u64(tb[CRAK_SOCK_A_DROPPED]);
	if (tb[CRAK_SOCK_A_IMAGE_BYTES])
		si->image_bytes = mnl_attr_get_u64(tb[CRAK_SOCK_A_IMAGE_BYTES]);
	if (tb[CRAK_SOCK_A_NEW_FD])
		si->new_fd = mnl_attr_get_u32(tb[CRAK_SOCK_A_NEW_FD]);
	return 0;
}

/* "ESTABLISHED", or the number of a state a newer kernel knows. */
static const char *tcp_state_name(uint8_t state, char *buf, size_t size)
{
	if (state < ARRAY_SIZE(tcp_state_names) && tcp_state_names[state])
		return tcp_state_names[state];
	snprintf(buf, size, "%u", state);
	return buf;
}

/* "frozen,dumped,repair", a flag a newer kernel knows as "0x20", or "-". */
static void sock_flags_format(uint32_t flags, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(sock_flags); i++) {
		if (!(flags & sock_flags[i].flag))
			continue;
		len += snprintf(buf + len, size - MIN(len, size), "%s%s", len ? "," : "",
				sock_flags[i].name);
		flags &= ~sock_flags[i].flag;
	}
	if (flags)
		len += snprintf(buf + len, size - MIN(len, size), "%s%#x", len ? "," : "", flags);
	if (!len)
		snprintf(buf, size, "-");
}

/* A field of the line of a socket: after a space, unless it is the first. */
static void __printf(2, 3) text_field(bool *first, const char *fmt, ...)
{
	va_list ap;

	if (!*first)
		putchar(' ');
	*first = false;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/*
 * "7: tcp 192.0.2.100:80 198.51.100.7:40000 ESTABLISHED frozen,dumped,repair
 * recvq 0 sendq 120 dropped 3", with what the reply had.
 */
void sock_info_text(const struct sock_info *si)
{
	char flow[VIF_FLOW_STRLEN], state[4], flags[96];
	bool first = true;

	if (sock_has(si, CRAK_SOCK_A_ID))
		text_field(&first, "%u:", si->id);
	if (sock_has(si, CRAK_SOCK_A_LADDR)) {
		vif_flow_format(&si->tuple, flow, sizeof(flow));
		text_field(&first, "%s", flow);
	}
	if (sock_has(si, CRAK_SOCK_A_STATE))
		text_field(&first, "%s", tcp_state_name(si->state, state, sizeof(state)));
	if (sock_has(si, CRAK_SOCK_A_FLAGS)) {
		sock_flags_format(si->flags, flags, sizeof(flags));
		text_field(&first, "%s", flags);
	}
	if (sock_has(si, CRAK_SOCK_A_RECVQ_BYTES))
		text_field(&first, "recvq %u", si->recvq_bytes);
	if (sock_has(si, CRAK_SOCK_A_SENDQ_BYTES))
		text_field(&first, "sendq %u", si->sendq_bytes);
	if (sock_has(si, CRAK_SOCK_A_DROPPED))
		text_field(&first, "dropped %" PRIu64, si->dropped);
	putchar('\n');
}

/* The members of the JSON object of a socket, in an open object. */
void sock_info_json(struct json *j, const struct sock_info *si)
{
	char local[ENDPOINT_STRLEN], remote[ENDPOINT_STRLEN], num[4];
	unsigned int i;

	if (sock_has(si, CRAK_SOCK_A_ID))
		json_uint(j, "id", si->id);
	if (sock_has(si, CRAK_SOCK_A_FAMILY))
		json_string(j, "family", si->family == AF_INET ? "inet" :
			    si->family == AF_INET6 ? "inet6" : "unknown");
	if (sock_has(si, CRAK_SOCK_A_LADDR)) {
		format_endpoint(&si->tuple.local, local, sizeof(local));
		format_endpoint(&si->tuple.remote, remote, sizeof(remote));
		json_string(j, "proto", ip_proto_name(si->tuple.proto, num, sizeof(num)));
		json_string(j, "local", local);
		json_string(j, "remote", remote);
	}
	if (sock_has(si, CRAK_SOCK_A_STATE))
		json_string(j, "state", tcp_state_name(si->state, num, sizeof(num)));
	if (sock_has(si, CRAK_SOCK_A_FLAGS)) {
		uint32_t unknown = si->flags;

		json_open_array(j, "flags");
		for (i = 0; i < ARRAY_SIZE(sock_flags); i++) {
			if (si->flags & sock_flags[i].flag)
				json_string(j, NULL, sock_flags[i].name);
			unknown &= ~sock_flags[i].flag;
		}
		json_close_array(j);
		if (unknown)
			json_uint(j, "flags_unknown", unknown);
	}
	if (sock_has(si, CRAK_SOCK_A_RECVQ_BYTES))
		json_uint(j, "recvq_bytes", si->recvq_bytes);
	if (sock_has(si, CRAK_SOCK_A_SENDQ_BYTES))
		json_uint(j, "sendq_bytes", si->sendq_bytes);
	if (sock_has(si, CRAK_SOCK_A_DROPPED))
		json_uint(j, "dropped", si->dropped);
}

struct show_ctx {
	const char *what;
	struct json json;
	bool json_array;		/* the JSON array is open */
};

static void show_json_array_open(struct show_ctx *ctx)
{
	if (!ctx->json_array)
		json_open_array(&ctx->json, NULL);
	ctx->json_array = true;
}

/* A GET reply: one socket, which has at least its id and tuple. */
static int show_cb(const struct nlmsghdr *nlh, void *data)
{
	struct show_ctx *ctx = data;
	struct sock_info si;

	if (sock_info_parse(nlh, &si) || !sock_has(&si, CRAK_SOCK_A_ID) ||
	    !sock_has(&si, CRAK_SOCK_A_LADDR))
		return nl_malformed(ctx->what);
	if (crak_opts.json) {
		show_json_array_open(ctx);
		json_open_object(&ctx->json, NULL);
		sock_info_json(&ctx->json, &si);
		json_close_object(&ctx->json);
	} else {
		sock_info_text(&si);
	}
	return MNL_CB_OK;
}

int sock_show(struct args *args)
{
	struct show_ctx ctx;
	struct sock_cmd sc;
	int err;

	arg_end(args);

	if (sock_cmd_open(&sc, args, NULL))
		return 1;
	ctx = (struct show_ctx){ .what = sc.what };
	json_init(&ctx.json, stdout, crak_opts.pretty);
	nl_request(&sc.nl, CRAK_SOCK_CMD_GET, NLM_F_DUMP);
	err = nl_exec(&sc.nl, sc.what, show_cb, &ctx);
	nl_close(&sc.nl);
	/* On failure, close what was shown, but do not show an empty list. */
	if (crak_opts.json && (ctx.json_array || !err)) {
		show_json_array_open(&ctx);
		json_close_array(&ctx.json);
	}
	return err ? 1 : 0;
}
