// SPDX-License-Identifier: GPL-2.0
/*
 * A streaming JSON writer.  Write errors are left to the stream's error
 * indicator, which main() checks when it closes standard output.
 */
#include <assert.h>
#include <inttypes.h>

#include "json.h"

#define JSON_INDENT	4

void json_init(struct json *j, FILE *f, bool pretty)
{
	*j = (struct json){ .f = f, .pretty = pretty };
}

static void json_newline(struct json *j)
{
	if (j->pretty)
		fprintf(j->f, "\n%*s", j->depth * JSON_INDENT, "");
}

static void json_escape(struct json *j, const char *s)
{
	const unsigned char *c;

	putc('"', j->f);
	for (c = (const unsigned char *)s; *c; c++) {
		switch (*c) {
		case '"':
			fputs("\\\"", j->f);
			break;
		case '\\':
			fputs("\\\\", j->f);
			break;
		case '\n':
			fputs("\\n", j->f);
			break;
		case '\t':
			fputs("\\t", j->f);
			break;
		default:
			if (*c < 0x20)
				fprintf(j->f, "\\u%04x", *c);
			else
				putc(*c, j->f);
		}
	}
	putc('"', j->f);
}

/* What comes before a value: a separator, an indent, its key. */
static void json_begin_value(struct json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->has_values[j->depth])
			putc(',', j->f);
		json_newline(j);
	}
	j->has_values[j->depth] = true;
	if (key) {
		json_escape(j, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void json_end_value(struct json *j)
{
	if (j->depth == 0)
		putc('\n', j->f);
}

static void json_open(struct json *j, const char *key, char bracket)
{
	assert(j->depth < JSON_MAX_DEPTH);
	json_begin_value(j, key);
	putc(bracket, j->f);
	j->depth++;
	j->has_values[j->depth] = false;
}

static void json_close(struct json *j, char bracket)
{
	assert(j->depth > 0);
	j->depth--;
	if (j->has_values[j->depth + 1])
		json_newline(j);
	putc(bracket, j->f);
	json_end_value(j);
}

void json_open_object(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

void json_close_object(struct json *j)
{
	json_close(j, '}');
}

void json_open_array(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

void json_close_array(struct json *j)
{
	json_close(j, ']');
}

void json_string(struct json *j, const char *key, const char *s)
{
	json_begin_value(j, key);
	json_escape(j, s);
	json_end_value(j);
}

void json_uint(struct json *j, const char *key, uint64_t n)
{
	json_begin_value(j, key);
	fprintf(j->f, "%" PRIu64, n);
	json_end_value(j);
}

/* A number with up to 6 decimals (seconds, ratios). */
void json_double(struct json *j, const char *key, double d)
{
	json_begin_value(j, key);
	fprintf(j->f, "%.6f", d);
	json_end_value(j);
}

void json_bool(struct json *j, const char *key, bool b)
{
	json_begin_value(j, key);
	fputs(b ? "true" : "false", j->f);
	json_end_value(j);
}

void json_null(struct json *j, const char *key)
{
	json_begin_value(j, key);
	fputs("null", j->f);
	json_end_value(j);
}
