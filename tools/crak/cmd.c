// SPDX-License-Identifier: GPL-2.0
/*
 * Global options, dispatch of "crak OBJECT COMMAND", help, and reading the
 * words of a command line.
 *
 * A command reads its words with arg_next(), which takes care of what may come
 * anywhere a keyword may: the global options (-j, -p) and --help.  The value
 * of a keyword (a file name, a number) is taken verbatim with arg_value().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

struct crak_options crak_opts;

/* Takes -j/--json or -p/--pretty (which implies -j); false for other words. */
bool parse_global_option(const char *word)
{
	if (!strcmp(word, "-j") || !strcmp(word, "--json")) {
		crak_opts.json = true;
		return true;
	}
	if (!strcmp(word, "-p") || !strcmp(word, "--pretty")) {
		crak_opts.json = true;
		crak_opts.pretty = true;
		return true;
	}
	return false;
}

static bool is_help(const char *word)
{
	return !strcmp(word, "--help") || !strcmp(word, "-h");
}

static void print_object_help(const struct object *obj)
{
	unsigned int i;

	if (obj->run) {
		printf("Usage: crak %s %s\n\n%s", obj->name, obj->synopsis, obj->help);
		return;
	}
	printf("Usage: crak [-j] [-p] %s COMMAND [ARGS]...\n\n%s\nCommands:\n",
	       obj->name, obj->help);
	for (i = 0; i < obj->n_commands; i++) {
		const struct command *cmd = &obj->commands[i];

		printf("  crak %s %s%s%s\n", obj->name, cmd->name, *cmd->synopsis ? " " : "",
		       cmd->synopsis);
	}
	printf("\nTry 'crak %s COMMAND --help' for what a command does.\n", obj->name);
}

static void print_command_help(const struct object *obj, const struct command *cmd)
{
	printf("Usage: crak %s %s%s%s\n\n%s", obj->name, cmd->name, *cmd->synopsis ? " " : "",
	       cmd->synopsis, cmd->help);
}

static const struct command *find_command(const struct object *obj, const char *name)
{
	unsigned int i;

	for (i = 0; i < obj->n_commands; i++)
		if (!strcmp(obj->commands[i].name, name))
			return &obj->commands[i];
	return NULL;
}

/* "crak OBJECT COMMAND ARGS...": runs COMMAND, returns its exit status. */
int run_object(const struct object *obj, int argc, char **argv)
{
	static char topic[64];
	struct args args = { .argc = argc, .argv = argv, .obj = obj };
	const char *name;

	set_usage_topic(obj->name);
	if (obj->run)
		return obj->run(&args);
	name = arg_next(&args);
	if (!name)
		die_usage("missing command");
	if (!strcmp(name, "help")) {
		print_object_help(obj);
		return 0;
	}
	args.cmd = find_command(obj, name);
	if (!args.cmd && *name == '-')
		arg_unexpected(name);
	if (!args.cmd)
		die_usage("unknown command '%s'", name);
	snprintf(topic, sizeof(topic), "%s %s", obj->name, args.cmd->name);
	set_usage_topic(topic);
	return args.cmd->run(&args);
}

/*
 * The next word of the command line, or NULL at its end.  Global options are
 * taken on the way, and --help prints the help of the command (or of the
 * object before the command is known) and exits.
 */
const char *arg_next(struct args *args)
{
	while (args->argc > 0) {
		const char *word = *args->argv;

		args->argc--;
		args->argv++;
		if (is_help(word)) {
			if (args->cmd)
				print_command_help(args->obj, args->cmd);
			else
				print_object_help(args->obj);
			exit(EXIT_SUCCESS);
		}
		if (!parse_global_option(word))
			return word;
	}
	return NULL;
}

/* The next word, whatever it is: the value of a keyword, which the usage error names @what. */
const char *arg_value(struct args *args, const char *what)
{
	if (args->argc == 0)
		die_usage("missing %s", what);
	args->argc--;
	return *args->argv++;
}

/* Whether @word is @keyword, which may be given once: *@seen tells if it was. */
bool arg_keyword(const char *word, const char *keyword, bool *seen)
{
	if (strcmp(word, keyword))
		return false;
	if (*seen)
		die_usage("%s given twice", keyword);
	*seen = true;
	return true;
}

void arg_unexpected(const char *word)
{
	if (*word == '-')
		die_usage("unknown option '%s'", word);
	die_usage("unexpected argument '%s'", word);
}

/* The command line must end here. */
void arg_end(struct args *args)
{
	const char *word = arg_next(args);

	if (word)
		arg_unexpected(word);
}
