// SPDX-License-Identifier: GPL-2.0
/*
 * json_check: exit 0 when standard input is exactly one JSON value (RFC
 * 8259) and whitespace, 1 otherwise, saying where and why.  Strict where
 * the CLI's output could go wrong: no raw control characters in strings,
 * only the escapes JSON defines, and well-formed UTF-8 (no overlong forms,
 * surrogates or code points past U+10FFFF).  The guest has no jq.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char *in, *end, *start;
static const char *why;

static int bad(const char *reason)
{
	if (!why)
		why = reason;
	return 0;
}

static void ws(void)
{
	while (in < end && (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r'))
		in++;
}

static int lit(const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - in) < n || memcmp(in, s, n))
		return bad("unknown literal");
	in += n;
	return 1;
}

static int hex4(void)
{
	int i;

	for (i = 0; i < 4; i++, in++)
		if (in >= end || !strchr("0123456789abcdefABCDEF", *in) || !*in)
			return bad("\\u needs four hex digits");
	return 1;
}

/* One UTF-8 sequence starting at a byte >= 0x80. */
static int utf8(void)
{
	unsigned int c = *in, cp, n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, cp = c & 0x07;
	else
		return bad("invalid UTF-8 lead byte");
	for (i = 1; i <= n; i++) {
		if (in + i >= end || (in[i] & 0xc0) != 0x80)
			return bad("truncated UTF-8 sequence");
		cp = cp << 6 | (in[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
		return bad("overlong UTF-8 sequence");
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return bad("UTF-8 for a surrogate or past U+10FFFF");
	in += n + 1;
	return 1;
}

static int string(void)
{
	in++;	/* the opening quote */
	while (in < end && *in != '"') {
		if (*in < 0x20)
			return bad("raw control character in a string");
		if (*in == '\\') {
			in++;
			if (in >= end)
				break;
			if (*in == 'u') {
				in++;
				if (!hex4())
					return 0;
				continue;
			}
			if (!strchr("\"\\/bfnrt", *in) || !*in)
				return bad("unknown escape");
			in++;
		} else if (*in >= 0x80) {
			if (!utf8())
				return 0;
		} else {
			in++;
		}
	}
	if (in >= end)
		return bad("unterminated string");
	in++;
	return 1;
}

static int digits(void)
{
	const unsigned char *p = in;

	while (in < end && *in >= '0' && *in <= '9')
		in++;
	return in > p ? 1 : bad("digits expected");
}

static int number(void)
{
	if (*in == '-')
		in++;
	if (in < end && *in == '0')
		in++;
	else if (!digits())
		return 0;
	if (in < end && *in == '.') {
		in++;
		if (!digits())
			return 0;
	}
	if (in < end && (*in == 'e' || *in == 'E')) {
		in++;
		if (in < end && (*in == '+' || *in == '-'))
			in++;
		if (!digits())
			return 0;
	}
	return 1;
}

static int value(int depth);

/* Members of an object (@obj) or elements of an array, after the bracket. */
static int members(int obj, int depth)
{
	char close = obj ? '}' : ']';

	in++;
	ws();
	if (in < end && *in == close) {
		in++;
		return 1;
	}
	for (;;) {
		if (obj) {
			ws();
			if (in >= end || *in != '"')
				return bad("object key expected");
			if (!string())
				return 0;
			ws();
			if (in >= end || *in != ':')
				return bad("':' expected");
			in++;
		}
		if (!value(depth + 1))
			return 0;
		ws();
		if (in < end && *in == ',') {
			in++;
			continue;
		}
		if (in < end && *in == close) {
			in++;
			return 1;
		}
		return bad(obj ? "',' or '}' expected" : "',' or ']' expected");
	}
}

static int value(int depth)
{
	if (depth > 64)
		return bad("nested too deeply");
	ws();
	if (in >= end)
		return bad("value expected");
	switch (*in) {
	case '{': return members(1, depth);
	case '[': return members(0, depth);
	case '"': return string();
	case 't': return lit("true");
	case 'f': return lit("false");
	case 'n': return lit("null");
	default:
		if (*in == '-' || (*in >= '0' && *in <= '9'))
			return number();
		return bad("value expected");
	}
}

int main(void)
{
	static unsigned char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), stdin);

	if (n == sizeof(buf)) {
		fprintf(stderr, "json_check: input too large\n");
		return 2;
	}
	start = in = buf;
	end = buf + n;
	if (value(0)) {
		ws();
		if (in == end)
			return 0;
		bad("trailing characters after the value");
	}
	fprintf(stderr, "json_check: invalid JSON at byte %zu: %s\n",
		(size_t)(in - start), why);
	return 1;
}
