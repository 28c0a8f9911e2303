// SPDX-License-Identifier: LGPL-2.1-or-later
/* See sysfs.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"

static int vread(char *buf, size_t len, const char *fmt, va_list ap)
{
	char path[PATH_MAX];
	FILE *f;
	int ret = 0;

	buf[0] = '\0';
	if ((size_t)vsnprintf(path, sizeof(path), fmt, ap) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		ret = ferror(f) ? -EIO : -ENODATA;
	} else if (!strchr(buf, '\n')) {
		/*
		 * fgets() stopped at the end of the buffer or of the file: a
		 * value that fills the buffer exactly ends there, one that is
		 * longer would be acted on cut short.
		 */
		int c = getc(f);

		if (c != EOF && c != '\n')
			ret = -EOVERFLOW;
		else if (c == EOF && ferror(f))
			ret = -EIO;
	}
	fclose(f);
	if (ret)
		buf[0] = '\0';
	else
		buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

int sysfs_read(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vread(buf, len, fmt, ap);
	va_end(ap);
	return ret;
}

int sysfs_read_ull(unsigned long long *v, const char *fmt, ...)
{
	char buf[64], *end;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vread(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	/*
	 * The whole value, digits first: strtoull() would take "-1" as
	 * ULLONG_MAX and skip leading blanks, and stops at trailing junk.
	 */
	if (!(buf[0] >= '0' && buf[0] <= '9'))
		return -EINVAL;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

int sysfs_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	size_t len = strlen(s);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;	/* sysfs takes a store whole or not at all */
	close(fd);
	return ret;
}

bool pci_exists(const char *bdf)
{
	char path[PATH_MAX];

	if (!bdf || !*bdf || strchr(bdf, '/') ||
	    (size_t)snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s", bdf) >= sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

/*
 * Length of the well-formed UTF-8 sequence at @s (1 for ASCII), or 0 when
 * @s does not start one: overlong forms, surrogates and code points past
 * U+10FFFF are not well-formed.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int cp;
	size_t n, i;

	if (*s < 0x80)
		return 1;
	if (*s >= 0xc2 && *s <= 0xdf)
		n = 2, cp = *s & 0x1f;
	else if (*s >= 0xe0 && *s <= 0xef)
		n = 3, cp = *s & 0x0f;
	else if (*s >= 0xf0 && *s <= 0xf4)
		n = 4, cp = *s & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

char *utf8_sanitize(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char *out = malloc(3 * strlen(str) + 1), *o = out;
	size_t n;

	if (!out)
		return NULL;
	while (*s) {
		n = utf8_len(s);
		if (n) {
			memcpy(o, s, n);
			o += n;
			s += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			s++;
		}
	}
	*o = '\0';
	return out;
}
