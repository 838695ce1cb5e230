// SPDX-License-Identifier: GPL-2.0
/*
 * link_crakvif.so: the "crakvif" link type for iproute2's `ip`.
 *
 * `ip` dlopen()s $IP_LIB_DIR/link_crakvif.so for a link of kind crakvif and
 * uses crakvif_link_util from it to:
 *
 *   - parse the options of "ip link add ... type crakvif [OPTIONS]" and of
 *     "ip link set DEV type crakvif OPTIONS" into IFLA_INFO_DATA;
 *   - print the IFLA_INFO_DATA of a device in "ip -d link show", as text
 *     and, with -j, as JSON keys of "linkinfo"/"info_data";
 *   - print the usage in "ip link help crakvif".
 *
 * Built for the iproute2 6.1.0 of Debian bookworm: see iproute2_abi.h.
 */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <linux/crak_vif.h>

#include "iproute2_abi.h"

static void crakvif_usage(FILE *f)
{
	fprintf(f,
		"Usage: ... crakvif [ limit-packets PACKETS ] [ limit-bytes BYTES ]\n"
		"\n"
		"PACKETS := frames a frozen device may hold, at most %u (default %u)\n"
		"BYTES   := bytes of those frames (Ethernet headers included),\n"
		"           at most %u (default %u)\n",
		CRAK_VIF_MAX_LIMIT_PACKETS, CRAK_VIF_DEFAULT_LIMIT_PACKETS,
		CRAK_VIF_MAX_LIMIT_BYTES, CRAK_VIF_DEFAULT_LIMIT_BYTES);
}

/* Parses the value of a limit option: a u32 no larger than max. */
static __u32 crakvif_parse_limit(const char *opt, const char *arg, __u32 max)
{
	char msg[64];
	__u32 val;

	if (get_u32(&val, arg, 0)) {
		snprintf(msg, sizeof(msg), "invalid %s", opt);
		invarg(msg, arg);
	}
	if (val > max) {
		snprintf(msg, sizeof(msg), "%s is at most %u", opt, max);
		invarg(msg, arg);
	}
	return val;
}

static int crakvif_parse_opt(struct link_util *lu, int argc, char **argv,
			     struct nlmsghdr *n)
{
	bool have_packets = false, have_bytes = false;
	__u32 val;

	(void)lu;

	while (argc > 0) {
		if (strcmp(*argv, "limit-packets") == 0) {
			if (argc < 2)
				incomplete_command();
			argc--;
			argv++;
			if (have_packets)
				duparg("limit-packets", *argv);
			have_packets = true;
			val = crakvif_parse_limit("limit-packets", *argv,
						  CRAK_VIF_MAX_LIMIT_PACKETS);
			if (addattr32(n, CRAK_IPLINK_REQ_BUF,
				      IFLA_CRAKVIF_LIMIT_PACKETS, val))
				return -1;
		} else if (strcmp(*argv, "limit-bytes") == 0) {
			if (argc < 2)
				incomplete_command();
			argc--;
			argv++;
			if (have_bytes)
				duparg("limit-bytes", *argv);
			have_bytes = true;
			val = crakvif_parse_limit("limit-bytes", *argv,
						  CRAK_VIF_MAX_LIMIT_BYTES);
			if (addattr32(n, CRAK_IPLINK_REQ_BUF,
				      IFLA_CRAKVIF_LIMIT_BYTES, val))
				return -1;
		} else {
			if (matches(*argv, "help") != 0)
				fprintf(stderr,
					"crakvif: unknown option \"%s\"\n",
					*argv);
			crakvif_usage(stderr);
			return -1;
		}
		argc--;
		argv++;
	}
	return 0;
}

/* The u32 attribute type of tb, if the kernel sent it whole. */
static bool crakvif_attr_u32(struct rtattr *tb[], int type, __u32 *val)
{
	if (!tb[type] || RTA_PAYLOAD(tb[type]) < sizeof(__u32))
		return false;
	memcpy(val, RTA_DATA(tb[type]), sizeof(__u32));
	return true;
}

static void crakvif_print_u32(struct rtattr *tb[], int type, const char *key,
			      const char *fmt)
{
	__u32 val;

	if (crakvif_attr_u32(tb, type, &val))
		crak_print_uint(PRINT_ANY, key, fmt, val);
}

static void crakvif_print_opt(struct link_util *lu, FILE *f,
			      struct rtattr *tb[])
{
	struct rtattr *frozen;

	(void)lu;
	(void)f;	/* the print_*() helpers print to ip's own stdout */

	if (!tb)
		return;

	frozen = tb[IFLA_CRAKVIF_FROZEN];
	if (frozen && RTA_PAYLOAD(frozen) >= sizeof(__u8)) {
		bool on = *(__u8 *)RTA_DATA(frozen) != 0;

		crak_print_bool(PRINT_JSON, "frozen", NULL, on);
		crak_print_string(PRINT_FP, NULL, "%s ",
				  on ? "frozen" : "flowing");
	}

	crakvif_print_u32(tb, IFLA_CRAKVIF_FLOWS, "flows", "flows %u ");

	if (tb[IFLA_CRAKVIF_HELD_PACKETS] || tb[IFLA_CRAKVIF_HELD_BYTES])
		crak_print_string(PRINT_FP, NULL, "%s ", "held");
	crakvif_print_u32(tb, IFLA_CRAKVIF_HELD_PACKETS, "held_packets",
			  "%u packets ");
	crakvif_print_u32(tb, IFLA_CRAKVIF_HELD_BYTES, "held_bytes",
			  "%u bytes ");

	crakvif_print_u32(tb, IFLA_CRAKVIF_LIMIT_PACKETS, "limit_packets",
			  "limit-packets %u ");
	crakvif_print_u32(tb, IFLA_CRAKVIF_LIMIT_BYTES, "limit_bytes",
			  "limit-bytes %u ");
}

static void crakvif_print_help(struct link_util *lu, int argc, char **argv,
			       FILE *f)
{
	(void)lu;
	(void)argc;
	(void)argv;

	crakvif_usage(f);
}

/*
 * The one symbol the plugin exports (it is built with -fvisibility=hidden).
 * Not const: ip links it into its list of link types through ->next.
 */
__crak_export struct link_util crakvif_link_util = {
	.id		= CRAK_VIF_KIND,
	.maxattr	= IFLA_CRAKVIF_MAX,
	.parse_opt	= crakvif_parse_opt,
	.print_opt	= crakvif_print_opt,
	.print_help	= crakvif_print_help,
};
