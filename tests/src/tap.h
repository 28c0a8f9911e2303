/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One TAP line per check ("ok - ..." / "not ok - ..."); the host numbers
 * and counts them.  Shared by the guest test programs.
 */
#ifndef P2PMEM_TAP_H
#define P2PMEM_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int failures;

static void __attribute__((format(printf, 2, 3)))
tap(int good, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", good ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failures += !good;
}

#endif /* P2PMEM_TAP_H */
