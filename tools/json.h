/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The p2pmem CLI's JSON: documents are built with json-c, which escapes
 * quotes, backslashes and control characters; it passes other bytes
 * through, so every string is made well-formed UTF-8 first.  A header of
 * its own so that the host test (tests/src/cli_json_test.c) runs the very
 * code the CLI does.
 */
#ifndef P2PMEM_TOOLS_JSON_H
#define P2PMEM_TOOLS_JSON_H

#include <stdio.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "sysfs.h"

/* A JSON string of the bytes @s; NULL when out of memory. */
static inline json_object *json_str(const char *s)
{
	char *u = utf8_sanitize(s);
	json_object *o = u ? json_object_new_string(u) : NULL;

	free(u);
	return o;
}

/*
 * @o on one line of @f, as compact as JSON goes; drops @o.  0, or -1 when
 * out of memory.  A write error stays in @f's error flag, for the CLI to
 * report once at exit (stdio may only meet it then).
 */
static inline int json_print(FILE *f, json_object *o)
{
	const char *s = o ? json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	int ret = s ? 0 : -1;

	if (s)
		fprintf(f, "%s\n", s);
	json_object_put(o);
	return ret;
}

#endif /* P2PMEM_TOOLS_JSON_H */
