/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The objects of 'crak OBJECT COMMAND', each defined in its own file and
 * listed in main.c.
 */
#ifndef CRAK_OBJECTS_H
#define CRAK_OBJECTS_H

#include "cmd.h"

extern const struct object vif_object;
extern const struct object sock_object;
extern const struct object checkpoint_object;
extern const struct object restart_object;
extern const struct object image_object;
extern const struct object pod_run_object;
extern const struct object ps_object;
extern const struct object stop_object;
extern const struct object migrate_object;

/* crakd, the receiving end of crak migrate. */
int crakd_main(int argc, char **argv);

#endif /* CRAK_OBJECTS_H */
