// SPDX-License-Identifier: GPL-2.0
/*
 * A flow of a crakvif device: "flow tcp|udp LADDR:LPORT RADDR:RPORT" on the
 * command line, a CRAK_VIF_A_FLOW nest in messages, and both ways back.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "vif.h"

static const enum mnl_attr_data_type flow_policy[CRAK_VIF_FLOW_A_MAX + 1] = {
	[CRAK_VIF_FLOW_A_PROTO] = MNL_TYPE_U8,
	[CRAK_VIF_FLOW_A_LOCAL_ADDR] = MNL_TYPE_BINARY,
	[CRAK_VIF_FLOW_A_LOCAL_PORT] = MNL_TYPE_U16,
	[CRAK_VIF_FLOW_A_REMOTE_ADDR] = MNL_TYPE_BINARY,
	[CRAK_VIF_FLOW_A_REMOTE_PORT] = MNL_TYPE_U16,
};

/* The words after "flow": the protocol, then the local and remote endpoints. */
void vif_flow_parse_args(struct args *args, struct vif_flow *flow)
{
	const char *proto = arg_value(args, "protocol after flow (tcp or udp)");

	if (!strcmp(proto, "tcp"))
		flow->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		flow->proto = IPPROTO_UDP;
	else
		die_usage("unknown protocol '%s': tcp or udp", proto);
	parse_endpoint_arg(arg_value(args, "local endpoint after flow"), "local",
			   &flow->local);
	parse_endpoint_arg(arg_value(args, "remote endpoint after flow"), "remote",
			   &flow->remote);
	if (flow->local.family != flow->remote.family)
		die_usage("the endpoints of a flow must be both IPv4 or both IPv6");
}

void vif_flow_put(struct nlmsghdr *nlh, const struct vif_flow *flow)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, CRAK_VIF_A_FLOW);
	size_t len = endpoint_addr_len(&flow->local);

	mnl_attr_put_u8(nlh, CRAK_VIF_FLOW_A_PROTO, flow->proto);
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_LOCAL_ADDR, len, flow->local.addr);
	mnl_attr_put_u16(nlh, CRAK_VIF_FLOW_A_LOCAL_PORT, flow->local.port);
	mnl_attr_put(nlh, CRAK_VIF_FLOW_A_REMOTE_ADDR, len, flow->remote.addr);
	mnl_attr_put_u16(nlh, CRAK_VIF_FLOW_A_REMOTE_PORT, flow->remote.port);
	mnl_attr_nest_end(nlh, nest);
}

/* An address attribute: its length tells the family. */
/* A CRAK_VIF_A_FLOW nest into @flow; -1 if it is malformed. */
int vif_flow_get(const struct nlattr *nest, struct vif_flow *flow)
{
	const struct nlattr *tb[CRAK_VIF_FLOW_A_MAX + 1];

	if (nl_parse_nested(nest, flow_policy, CRAK_VIF_FLOW_A_MAX, tb) ||
	    !tb[CRAK_VIF_FLOW_A_PROTO] ||
	    !tb[CRAK_VIF_FLOW_A_LOCAL_ADDR] || !tb[CRAK_VIF_FLOW_A_LOCAL_PORT] ||
	    !tb[CRAK_VIF_FLOW_A_REMOTE_ADDR] || !tb[CRAK_VIF_FLOW_A_REMOTE_PORT])
		return -1;
	flow->proto = mnl_attr_get_u8(tb[CRAK_VIF_FLOW_A_PROTO]);
	if (nl_get_endpoint(tb[CRAK_VIF_FLOW_A_LOCAL_ADDR], tb[CRAK_VIF_FLOW_A_LOCAL_PORT],
			      &flow->local) ||
	    nl_get_endpoint(tb[CRAK_VIF_FLOW_A_REMOTE_ADDR], tb[CRAK_VIF_FLOW_A_REMOTE_PORT],
			      &flow->remote) ||
	    flow->local.family != flow->remote.family)
		return -1;
	return 0;
}

/* "tcp 192.0.2.100:80 198.51.100.7:40000", into @buf of VIF_FLOW_STRLEN bytes. */
void vif_flow_format(const struct vif_flow *flow, char *buf, size_t size)
{
	char local[ENDPOINT_STRLEN], remote[ENDPOINT_STRLEN], proto[4];

	format_endpoint(&flow->local, local, sizeof(local));
	format_endpoint(&flow->remote, remote, sizeof(remote));
	snprintf(buf, size, "%s %s %s", ip_proto_name(flow->proto, proto, sizeof(proto)),
		 local, remote);
}

/* {"proto": "tcp", "local": "192.0.2.100:80", "remote": "198.51.100.7:40000"} */
void vif_flow_json(struct json *j, const char *key, const struct vif_flow *flow)
{
	char local[ENDPOINT_STRLEN], remote[ENDPOINT_STRLEN], proto[4];

	format_endpoint(&flow->local, local, sizeof(local));
	format_endpoint(&flow->remote, remote, sizeof(remote));
	json_open_object(j, key);
	json_string(j, "proto", ip_proto_name(flow->proto, proto, sizeof(proto)));
	json_string(j, "local", local);
	json_string(j, "remote", remote);
	json_close_object(j);
}
