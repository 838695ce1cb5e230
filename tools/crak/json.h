/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A streaming JSON writer: compact, or indented when pretty.
 *
 * Values inside an object take a key; values inside an array, or at the top
 * level, take a NULL key.  A top-level value ends with a newline.
 */
#ifndef CRAK_JSON_H
#define CRAK_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	8

struct json {
	FILE *f;
	bool pretty;
	unsigned int depth;			/* open objects and arrays */
	bool has_values[JSON_MAX_DEPTH + 1];	/* the one at each depth has values */
};

void json_init(struct json *j, FILE *f, bool pretty);
void json_open_object(struct json *j, const char *key);
void json_close_object(struct json *j);
void json_open_array(struct json *j, const char *key);
void json_close_array(struct json *j);
void json_string(struct json *j, const char *key, const char *s);
void json_uint(struct json *j, const char *key, uint64_t n);
void json_double(struct json *j, const char *key, double d);
void json_bool(struct json *j, const char *key, bool b);
void json_null(struct json *j, const char *key);

#endif /* CRAK_JSON_H */
