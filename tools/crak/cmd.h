/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every object shares: global options, the table of an object's
 * commands, and reading the words of a command line.
 */
#ifndef CRAK_CMD_H
#define CRAK_CMD_H

#include <stdbool.h>

#include "util.h"

struct crak_options {
	bool json;		/* -j: JSON output */
	bool pretty;		/* -p: indented JSON output */
};

extern struct crak_options crak_opts;

struct args;

/* "crak OBJECT NAME ARGS...". */
struct command {
	const char *name;
	const char *synopsis;	/* its arguments */
	const char *help;	/* what it does, for --help: lines ending in \n */
	int (*run)(struct args *args);	/* returns the exit status */
};

/*
 * An object, such as vif: one entry in main.c and one file of commands.  A
 * verb, such as checkpoint, is an object without commands that runs itself.
 */
struct object {
	const char *name;
	const char *summary;	/* one line for 'crak --help' */
	const char *help;	/* for 'crak OBJECT --help': lines ending in \n */
	const struct command *commands;
	unsigned int n_commands;
	const char *synopsis;	/* a verb's arguments */
	int (*run)(struct args *args);	/* a verb's */
};

/* The words of a command line still to be read. */
struct args {
	int argc;
	char **argv;
	const struct object *obj;
	const struct command *cmd;	/* NULL until the command is known */
};

bool parse_global_option(const char *word);
int run_object(const struct object *obj, int argc, char **argv);

const char *arg_next(struct args *args);
const char *arg_value(struct args *args, const char *what);
bool arg_keyword(const char *word, const char *keyword, bool *seen);
void arg_unexpected(const char *word) __noreturn;
void arg_end(struct args *args);

#endif /* CRAK_CMD_H */
