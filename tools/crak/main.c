// SPDX-License-Identifier: GPL-2.0
/*
 * crak: the command-line tool of the crak subsystem.
 *
 *   crak [-j|--json] [-p|--pretty] OBJECT COMMAND [ARGS]...
 *
 * An object is a file of commands (vif.c), its line in objects.h and its
 * line in the table below.  Run as crakd, it is the daemon (crakd.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/personality.h>

#include "cmd.h"
#include "objects.h"

#define CRAK_VERSION	"0.1"

static const struct object *const objects[] = {
	&vif_object,
	&sock_object,
	&checkpoint_object,
	&restart_object,
	&image_object,
	&pod_run_object,
	&ps_object,
	&stop_object,
	&migrate_object,
};

static void print_usage(void)
{
	unsigned int i;

	printf("Usage: crak [OPTIONS] OBJECT COMMAND [ARGS]...\n"
	       "       crak help | --help | --version\n"
	       "\n"
	       "Checkpoint/restart and live migration of networked processes.\n"
	       "\n"
	       "Objects:\n");
	for (i = 0; i < ARRAY_SIZE(objects); i++)
		printf("  %-10s %s\n", objects[i]->name, objects[i]->summary);
	printf("\n"
	       "Options:\n"
	       "  -j, --json     JSON output\n"
	       "  -p, --pretty   indented JSON output (implies --json)\n"
	       "  -h, --help     this help\n"
	       "  -V, --version  the version of crak\n"
	       "\n"
	       "Try 'crak OBJECT --help' for the commands of an object.\n");
}

static const struct object *find_object(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(objects); i++)
		if (!strcmp(objects[i]->name, name))
			return objects[i];
	return NULL;
}

/* However crak exits, what it printed must have reached standard output. */
static void close_stdout(void)
{
	if (ferror(stdout)) {
		pr_err("write error on standard output");
		_exit(EXIT_FAILURE);
	}
	if (fclose(stdout)) {
		pr_err("standard output: %s", strerror(errno));
		_exit(EXIT_FAILURE);
	}
}

/*
 * A restart moves crak's [vdso] to where the image has it before the
 * image's memory replaces crak's own, so nothing else of crak may be there.
 * Under the default layout the kernel maps top-down from below the stack:
 * crak's libraries would sit where a static program (busybox) has its
 * [vdso], and with address randomization off (as in the lab) they always
 * do.  So crak restarts processes from the legacy layout, which maps
 * bottom-up from far below (it runs itself again so, once), and the
 * processes it restarts keep that layout for what they map afterwards.
 */
#define LEGACY_ENV	"CRAK_LEGACY_LAYOUT"

static void legacy_layout(char **argv)
{
	int pers = personality(0xffffffff);

	/* Once: an exec that raised privileges (set-ID, capabilities) drops it. */
	if (getenv(LEGACY_ENV)) {
		unsetenv(LEGACY_ENV);
		return;
	}
	if (pers < 0 || pers & ADDR_COMPAT_LAYOUT ||
	    personality(pers | ADDR_COMPAT_LAYOUT) < 0 || setenv(LEGACY_ENV, "1", 1))
		return;
	execv("/proc/self/exe", argv);
	unsetenv(LEGACY_ENV);
	personality(pers);	/* run on as we are */
}

int main(int argc, char **argv)
{
	char **all = argv;
	const struct object *obj;
	const char *word;

	atexit(close_stdout);
	/* crakd is crak under another name. */
	if (!strcmp(basename(argv[0]), "crakd")) {
		legacy_layout(all);
		return crakd_main(argc, argv);
	}
	for (argc--, argv++; argc > 0 && **argv == '-'; argc--, argv++) {
		word = *argv;
		if (!strcmp(word, "-h") || !strcmp(word, "--help")) {
			print_usage();
			return 0;
		}
		if (!strcmp(word, "-V") || !strcmp(word, "--version")) {
			printf("crak %s\n", CRAK_VERSION);
			return 0;
		}
		if (!parse_global_option(word))
			die_usage("unknown option '%s'", word);
	}
	if (argc == 0)
		die_usage("missing object");
	if (!strcmp(*argv, "help")) {
		print_usage();
		return 0;
	}
	obj = find_object(*argv);
	if (!obj)
		die_usage("unknown object '%s'", *argv);
	if (obj == &restart_object)
		legacy_layout(all);
	return run_object(obj, argc - 1, argv + 1);
}
