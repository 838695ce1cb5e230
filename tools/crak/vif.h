/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak vif: what the files of its commands share.
 */
#ifndef CRAK_VIF_H
#define CRAK_VIF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/crak_vif.h>

#include "cmd.h"
#include "json.h"
#include "nl.h"
#include "util.h"

/* A command at work, on one device or on all of them. */
struct vif_cmd {
	struct nl nl;
	const char *dev;	/* NULL: every device */
	char what[32];		/* "freeze pod0", for messages */
};

extern const struct nl_family vif_family;

const char *vif_arg_dev(struct args *args);
void vif_check_dev(const char *dev);
int vif_cmd_open(struct vif_cmd *vc, const struct args *args, const char *dev);
struct nlmsghdr *vif_cmd_request(struct vif_cmd *vc, uint8_t cmd, uint16_t flags);
int vif_cmd_exec_u32(struct vif_cmd *vc, uint16_t type, uint32_t *val);
int vif_parse(const struct nlmsghdr *nlh, const struct nlattr **tb);

/* A flow, seen from the device. */
struct vif_flow {
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	struct endpoint local;	/* the device's side */
	struct endpoint remote;
};

/* "tcp 192.0.2.100:80 198.51.100.7:40000", with its NUL. */
#define VIF_FLOW_STRLEN	(sizeof("255  ") + 2 * ENDPOINT_STRLEN)

void vif_flow_parse_args(struct args *args, struct vif_flow *flow);
void vif_flow_put(struct nlmsghdr *nlh, const struct vif_flow *flow);
int vif_flow_get(const struct nlattr *nest, struct vif_flow *flow);
void vif_flow_format(const struct vif_flow *flow, char *buf, size_t size);
void vif_flow_json(struct json *j, const char *key, const struct vif_flow *flow);

/* Frames, in the order they came. */
struct pcap_record;
struct vif_frames {
	struct pcap_record *v;
	size_t n;
	size_t size;			/* allocated */
	uint64_t bytes;
	uint64_t last_seq;		/* the device's number of the last one taken */
};

void vif_frames_add(struct vif_frames *fl, const struct pcap_record *rec);
void vif_frames_free(struct vif_frames *fl);
/*
 * What the device holds, copied (it holds them still); with @since, only
 * the frames it came to hold after those @since took.  0 or -1.
 */
int vif_frames_take(struct vif_cmd *vc, struct vif_frames *fl, const struct vif_frames *since);
/* Adds them to what it holds, if they fit under its limits; 0 or -1. */
int vif_frames_give(struct vif_cmd *vc, const struct vif_frames *fl);

int vif_show(struct args *args);
int vif_export(struct args *args);
int vif_import(struct args *args);
int vif_monitor(struct args *args);

#endif /* CRAK_VIF_H */
