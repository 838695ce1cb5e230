/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crak run, ps and stop: pods.
 *
 * A pod is a process tree in namespaces of its own (network, PID, UTS,
 * mount), whose network namespace is bound at /run/netns/NAME and holds a
 * crakvif named eth0 with the pod's addresses.  Its first process is crak's
 * own init, which runs the pod's command.  What ps and stop need is recorded
 * in /run/crak/pods/NAME, lines of KEY=VALUE.
 */
#ifndef CRAK_POD_H
#define CRAK_POD_H

#include <stdbool.h>
#include <sys/types.h>

#include "cmd.h"
#include "nl.h"
#include "rtnl.h"

#define POD_NETNS_DIR	"/run/netns"
#define POD_RUN_DIR	"/run/crak/pods"
#define POD_NAME_MAX	32
#define POD_MAX_ADDRS	8
#define POD_IFNAME	"eth0"
#define POD_COMMAND_PID	2	/* in the pod: its init's first child, ever */

struct pod {
	char name[POD_NAME_MAX + 1];
	pid_t pid;			/* of its init, in this PID namespace */
	unsigned long long netns_ino;	/* of its network namespace */
	char link[16];			/* the lower device */
	char mac[18];			/* its crakvif's */
	struct ipnet addrs[POD_MAX_ADDRS];
	unsigned int n_addrs;
	struct ipnet gws[2];		/* prefix unused */
	unsigned int n_gws;
};

bool pod_name_ok(const char *name);
void pod_check_name(const char *name);
void pod_path(char *buf, size_t size, const char *dir, const char *name);
int pod_record_write(const struct pod *p);
int pod_record_read(const char *name, struct pod *p);
bool pod_alive(const struct pod *p);
void pod_postcopy_now(const struct pod *p);
/* A process's PID in the innermost PID namespace it is in; 0 if unknown. */
pid_t pid_in_pod(pid_t pid);
int netns_enter(const char *path, int *oldfd);
void netns_leave(int oldfd);
struct vif_cmd;
int pod_vif_open(const char *netns_path, struct vif_cmd *vc);
int pod_teardown(const struct pod *p, const char *what);
/* Its "addresses" and "gateways" arrays. */
struct json;
void pod_json_addrs(struct json *j, const struct pod *p);

/*
 * A pod's image (pod_image.c; its layout in linux/crak_image.h).  The
 * checkpoint writes POD, the process image, then HELD and END; the restart
 * reads them in that order.  Each returns 0, or -1 after saying why.
 */
struct img;
struct vif_frames;
/* crak migrate's destination, where pod_checkpoint() sends the image. */
struct pod_dest {
	int fd;				/* to crakd, past the keys' proof */
	const char *name;		/* "192.0.2.2:7600", for messages */
	double t_start, t_sent, t_ready, t_running;	/* CLOCK_MONOTONIC */
	int init;			/* what crakd said: the pod's init there, */
	unsigned int frames;		/* and the held frames it delivered */
};

/* @dest NULL: into @out, a file or "-"; @leave_running: not with @dest. */
int pod_checkpoint(const char *name, const char *out, struct pod_dest *dest, bool leave_running);
/* POD: the pod, its crakvif's MAC and the pod image's minor version. */
int pod_image_read_head(struct img *im, struct pod *p, unsigned char mac[6], unsigned int *minor);
int pod_image_read_held(struct img *im, struct vif_frames *frames);
/* @fd >= 0: crakd's connection, told "ready" and "running INIT FRAMES". */
int pod_restart(struct img *im, bool detach, const char *pidfile, int fd);

/*
 * pod_pause.c: in the pod's network namespace, once its crakvif is frozen,
 * every TCP connection frozen (its peer told to wait) ahead of the
 * checkpoint; pod_pause_end() thaws those the checkpoint did not dump.
 */
struct pod_pause {
	struct nl nl;			/* to crak_sock, if open */
	bool open;
	uint32_t *ids;			/* crak_sock's ids of those it froze */
	unsigned int nr;
};

void pod_pause(struct pod_pause *p);
void pod_pause_end(struct pod_pause *p);

#endif /* CRAK_POD_H */
