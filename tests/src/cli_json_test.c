// SPDX-License-Identifier: GPL-2.0
/*
 * cli_json_test: the p2pmem CLI's JSON strings (tools/json.h: made UTF-8,
 * then json-c) on the bytes sysfs values, device paths and file names can
 * hold.  Prints TAP on stderr, and on stdout one JSON document holding
 * every case, which the bench hands to json_check (tests/lib/build.sh).
 */
#include <string.h>

#include "json.h"	/* tools/ */

static const struct {
	const char *what, *in, *want;
} cases[] = {
	{ "quote and backslash escaped", "q\"b\\", "\"q\\\"b\\\\\"" },
	{ "control characters escaped", "\x01\x1f\t\n\r\b\f", "\"\\u0001\\u001f\\t\\n\\r\\b\\f\"" },
	{ "a slash as it is", "/dev/nvme0n1", "\"/dev/nvme0n1\"" },
	{ "well-formed UTF-8 kept", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"" },
	{ "a byte that is no UTF-8 becomes U+FFFD", "a\xff" "b", "\"a\xef\xbf\xbd" "b\"" },
	{ "an overlong NUL: two U+FFFD", "\xc0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "a surrogate: three U+FFFD", "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "past U+10FFFF: four U+FFFD", "\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "a sequence cut short at the end", "x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "the --nvme path of suite.d/85", "/tmp/q\"b\\t\t\001\377", "\"/tmp/q\\\"b\\\\t\\t\\u0001\xef\xbf\xbd\"" },
};

int main(void)
{
	json_object *all = json_object_new_object(), *s;
	const char *got;
	size_t i, n = sizeof(cases) / sizeof(cases[0]);
	int bad = 0;

	for (i = 0; i < n; i++) {
		s = json_str(cases[i].in);
		got = s ? json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE) : "(null)";
		if (got && !strcmp(got, cases[i].want)) {
			fprintf(stderr, "ok - %s\n", cases[i].what);
		} else {
			fprintf(stderr, "not ok - %s\n# got  %s\n# want %s\n", cases[i].what,
				got ? got : "(null)", cases[i].want);
			bad = 1;
		}
		/* Keys are the CLI's own ASCII names, never data. */
		json_object_object_add(all, cases[i].what, s);
	}
	fprintf(stderr, "1..%zu\n", n);
	return json_print(stdout, all) || fflush(stdout) || ferror(stdout) || bad;
}
