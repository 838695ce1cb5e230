/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of iproute2's internal interface that a link-type plugin of `ip`
 * depends on, declared here because iproute2 installs no headers for it.
 *
 * This is an ABI mirror, not a copy of code: it restates, for the binary a
 * plugin is loaded into, the layout of one structure, the values of two
 * enums and the prototypes of a few functions that `ip` exports (it is
 * linked with -rdynamic).  The plugin is built against iproute2 6.1.0, the
 * version in Debian bookworm (package iproute2 6.1.0-3).  Each declaration
 * names the iproute2 file it corresponds to.  Besides the sources, each was
 * checked against /usr/sbin/ip of that package (nm -D, and gdb on its
 * link_util objects and on the functions themselves), see below.
 *
 * Another iproute2 version may differ: check the layout of struct link_util
 * and the enums below against it before loading the plugin there.
 */
#ifndef CRAK_IPROUTE2_ABI_H
#define CRAK_IPROUTE2_ABI_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#ifndef __noreturn
#define __noreturn	__attribute__((__noreturn__))
#endif
/* What the plugin exports: it is built with -fvisibility=hidden. */
#define __crak_export	__attribute__((__visibility__("default")))

/*
 * ip/ip_common.h: struct link_util.  `ip` finds a plugin's one with
 * dlsym("<kind>_link_util") in "$IP_LIB_DIR/link_<kind>.so" (ip/iplink.c,
 * get_link_kind()) and links it into its list through ->next, so it must
 * not be const.
 *
 * In the 6.1.0 binary (amd64) each link_util object is 72 bytes (nm -D -S);
 * bridge_link_util holds, in this order: NULL, "bridge", 47, two functions,
 * NULL (no print_xstats), a function, bridge_parse_xstats and
 * bridge_print_xstats (gdb x/9gx), which fixes the order below.
 */
struct link_util {
	struct link_util	*next;
	const char		*id;
	int			maxattr;
	int			(*parse_opt)(struct link_util *lu, int argc,
					     char **argv, struct nlmsghdr *n);
	void			(*print_opt)(struct link_util *lu, FILE *f,
					     struct rtattr *tb[]);
	void			(*print_xstats)(struct link_util *lu, FILE *f,
						struct rtattr *xstats);
	void			(*print_help)(struct link_util *lu, int argc,
					      char **argv, FILE *f);
	int			(*parse_ifla_xstats)(struct link_util *lu,
						     int argc, char **argv);
	int			(*print_ifla_xstats)(struct nlmsghdr *n,
						     void *arg);
};

static_assert(offsetof(struct link_util, maxattr) == 16,
	      "struct link_util differs from iproute2 6.1");
static_assert(offsetof(struct link_util, parse_opt) == 24,
	      "struct link_util differs from iproute2 6.1");
static_assert(offsetof(struct link_util, print_help) == 48,
	      "struct link_util differs from iproute2 6.1");
static_assert(sizeof(struct link_util) == 72,
	      "struct link_util differs from iproute2 6.1");

/*
 * include/json_print.h: where a print_*() call prints.  PRINT_ANY prints
 * the text with the format in text mode (ip without -j), and the key and
 * value in JSON mode.  print_color_uint() of the binary tests the type
 * against 0x6 for JSON and against 0x5 for text.
 */
enum output_type {
	PRINT_FP	= 1,
	PRINT_JSON	= 2,
	PRINT_ANY	= 4,
};

/*
 * include/color.h: enum color_attr.  Only COLOR_NONE is used here; in the
 * binary, color_fprintf() skips colouring for attr 6, and ifa_family_color()
 * returns 2 and 3 for AF_INET and AF_INET6 and 6 otherwise.
 */
enum color_attr {
	COLOR_IFNAME,
	COLOR_MAC,
	COLOR_INET,
	COLOR_INET6,
	COLOR_OPERSTATE_UP,
	COLOR_OPERSTATE_DOWN,
	COLOR_NONE,
};

/*
 * include/json_print.h (implemented in lib/json_print.c): the exported
 * printers.  iproute2's print_string() and friends are static inline
 * wrappers around these, so a plugin cannot call them; the wrappers below
 * play their part.  The value of print_color_uint() is an unsigned int (it
 * reaches jsonw_uint_field() from %r8d), that of print_color_bool() a bool.
 */
int print_color_string(enum output_type type, enum color_attr color,
		       const char *key, const char *fmt, const char *value);
int print_color_uint(enum output_type type, enum color_attr color,
		     const char *key, const char *fmt, unsigned int value);
int print_color_bool(enum output_type type, enum color_attr color,
		     const char *key, const char *fmt, bool value);

static inline void crak_print_string(enum output_type type, const char *key,
				     const char *fmt, const char *value)
{
	print_color_string(type, COLOR_NONE, key, fmt, value);
}

static inline void crak_print_uint(enum output_type type, const char *key,
				   const char *fmt, unsigned int value)
{
	print_color_uint(type, COLOR_NONE, key, fmt, value);
}

static inline void crak_print_bool(enum output_type type, const char *key,
				   const char *fmt, bool value)
{
	print_color_bool(type, COLOR_NONE, key, fmt, value);
}

/*
 * include/utils.h (implemented in lib/utils.c).
 *
 * matches() returns 0 when prefix is a non-empty prefix of string.
 * get_u32() returns 0 and sets *val when all of arg is a number that fits,
 * -1 otherwise.  invarg() prints 'Error: argument "ARG" is wrong: MSG' and
 * duparg() 'Error: duplicate "KEY": "ARG" is the second value.', and both
 * exit(-1), as incomplete_command() does after its own message.
 */
int matches(const char *prefix, const char *string);
int get_u32(__u32 *val, const char *arg, int base);
__noreturn void invarg(const char *msg, const char *arg);
__noreturn void duparg(const char *key, const char *arg);
__noreturn void incomplete_command(void);

/*
 * include/libnetlink.h (implemented in lib/libnetlink.c): appends a u32
 * attribute to n, or fails (-1, with a message) if the whole message would
 * pass maxlen bytes.  The nlmsghdr a plugin gets heads a struct iplink_req
 * (ip/ip_common.h): the headers and a 1024-byte buffer, so a maxlen of 1024,
 * as iproute2's own link types pass, stays within it.
 */
int addattr32(struct nlmsghdr *n, int maxlen, int type, __u32 data);

#define CRAK_IPLINK_REQ_BUF	1024

#endif /* CRAK_IPROUTE2_ABI_H */
