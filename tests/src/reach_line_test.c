// SPDX-License-Identifier: GPL-2.0
/*
 * reach_line_test: libp2pmem's p2pmem_reach() (tools/libp2pmem.c) on the
 * verdicts the kernel could hand back, on the host: this program's ioctl()
 * stands in for the module's P2PMEM_IOC_REACH (the library's call binds to
 * it) on /dev/null.  verdict[] is the query's last field and nothing says
 * the kernel NUL-terminates it: the library must not read past it.  Built
 * with AddressSanitizer (tests/Makefile), which stops the program on such
 * a read.  TAP on stdout.
 */
#include <stdarg.h>
#include <string.h>

#include "libp2pmem.h"	/* tools/ */
#include "tap.h"

static const char *answer;
static size_t answer_len;

int ioctl(int fd, unsigned long req, ...)
{
	struct p2pmem_reach_query *q;
	va_list ap;

	va_start(ap, req);
	q = va_arg(ap, struct p2pmem_reach_query *);
	va_end(ap);
	q->route = P2PMEM_REACH_DIRECT;
	q->distance = 2;
	memset(q->verdict, 0, sizeof(q->verdict));
	memcpy(q->verdict, answer, answer_len);
	return 0;
}

static void line_is(const char *what, const char *ans, size_t len, const char *want)
{
	struct p2pmem_verdict v;
	int ret;

	answer = ans;
	answer_len = len;
	ret = p2pmem_reach("null", "0000:00:00.0", &v);
	tap(!ret && !strcmp(v.line, want), "p2pmem_reach: %s (got %d \"%s\")", what, ret, v.line);
}

int main(void)
{
	struct p2pmem_reach_query q;
	char full[sizeof(q.verdict)], want[sizeof(full)];

	line_is("a line with its newline", "direct 2\n", 9, "direct 2");
	line_is("the first line only", "direct 2\nmore\n", 14, "direct 2");
	memset(full, 'x', sizeof(full));
	memset(want, 'x', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	/* Under ASan, the unfixed library stops here (stack-buffer-overflow). */
	line_is("a verdict filling its field, no NUL: read within the field",
		full, sizeof(full), want);
	return failures != 0;
}
