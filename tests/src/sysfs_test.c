// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs_test: the tools' one sysfs reader (tools/sysfs.c), on the host,
 * on temporary files holding what an attribute might: nothing, a value
 * that fills the buffer exactly, one that does not fit, and numbers
 * sysfs_read_ull() must refuse ("-1" would be ULLONG_MAX, " 5" and "5x"
 * are not a number).  TAP on stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"	/* tools/ */
#include "tap.h"

static char dir[] = "/tmp/sysfs_test.XXXXXX";
static char path[sizeof(dir) + 16];

/* A fresh file holding @len bytes of @s. */
static const char *file(const char *s, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/attr", dir);
	f = fopen(path, "we");
	if (!f || fwrite(s, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(2);
	}
	return path;
}
#define FILE_OF(lit) file(lit, sizeof(lit) - 1)

static void read_is(const char *what, const char *content, size_t clen, size_t blen,
		    int want_ret, const char *want)
{
	char buf[16];
	int ret;

	memset(buf, 'Z', sizeof(buf));
	ret = sysfs_read(buf, blen, "%s", file(content, clen));
	tap(ret == want_ret && !strcmp(buf, want), "sysfs_read: %s (got %d \"%.*s\", want %d \"%s\")",
	    what, ret, (int)blen, buf, want_ret, want);
}

static void ull_is(const char *what, const char *content, int want_ret, unsigned long long want)
{
	unsigned long long v = 42;
	int ret;

	ret = sysfs_read_ull(&v, "%s", file(content, strlen(content)));
	tap(ret == want_ret && (ret || v == want), "sysfs_read_ull: %s (got %d %llu, want %d %llu)",
	    what, ret, v, want_ret, want);
}

int main(void)
{
	char big[200];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	read_is("an empty file is -ENODATA, buffer empty", "", 0, 8, -ENODATA, "");
	read_is("a short line without its newline", "abc\n", 4, 8, 0, "abc");
	read_is("a line that fills the buffer exactly, newline after", "abcdefg\n", 8, 8, 0, "abcdefg");
	read_is("a line that fills the buffer exactly, no newline (EOF)", "abcdefg", 7, 8, 0, "abcdefg");
	read_is("only the first line", "ab\ncd\n", 6, 8, 0, "ab");
	read_is("a line one byte too long is -EOVERFLOW, buffer empty", "abcdefgh\n", 9, 8, -EOVERFLOW, "");
	read_is("a line too long without newline is -EOVERFLOW, buffer empty", "abcdefghijk", 11, 8, -EOVERFLOW, "");
	tap(sysfs_read(big, 8, "%s/none", dir) == -ENOENT && !big[0], "sysfs_read: a missing file is -ENOENT");

	ull_is("decimal with newline", "5\n", 0, 5);
	ull_is("hex", "0x10\n", 0, 16);
	ull_is("the largest", "18446744073709551615\n", 0, 18446744073709551615ULL);
	ull_is("past the largest is -EINVAL", "18446744073709551616\n", -EINVAL, 0);
	ull_is("\"-1\" is -EINVAL, not ULLONG_MAX", "-1\n", -EINVAL, 0);
	ull_is("\"-0\" is -EINVAL", "-0\n", -EINVAL, 0);
	ull_is("a leading blank is -EINVAL", " 5\n", -EINVAL, 0);
	ull_is("a leading plus is -EINVAL", "+5\n", -EINVAL, 0);
	ull_is("trailing junk is -EINVAL", "5x\n", -EINVAL, 0);
	ull_is("a trailing blank is -EINVAL", "5 \n", -EINVAL, 0);
	ull_is("no digits is -EINVAL", "\n", -EINVAL, 0);
	ull_is("an empty file is -ENODATA", "", -ENODATA, 0);
	memset(big, '1', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	ull_is("a number longer than the buffer is -EOVERFLOW, not its first digits",
	       big, -EOVERFLOW, 0);

	unlink(path);
	rmdir(dir);
	return failures != 0;
}
