/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sysfs and text helpers shared by the p2pmem CLI and libp2pmem: one way
 * to read an attribute, one test for a PCI device, one way to make bytes
 * UTF-8.  Internal: libp2pmem does not export them.
 */
#ifndef P2PMEM_TOOLS_SYSFS_H
#define P2PMEM_TOOLS_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

#define SYSFS_PCI_DEVICES "/sys/bus/pci/devices"
#define SYSFS_P2PMEM_CLASS "/sys/class/p2pmem"

#pragma GCC visibility push(hidden)

/*
 * The first line of the file at the path printf(@fmt, ...) makes, without
 * its newline, in @buf.  0, or a negative errno (-ENODATA for an empty
 * file, -EOVERFLOW for a line longer than @len - 1, -ENAMETOOLONG for a
 * path that does not fit); on failure @buf is empty, so that no caller
 * acts on a value it did not get, nor on part of one.
 */
int sysfs_read(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * An unsigned number (decimal, 0x hex or 0 octal) read as sysfs_read()
 * reads: the whole line must be the number (-EINVAL for a sign, a blank
 * or anything after it).
 */
int sysfs_read_ull(unsigned long long *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Write @s whole to @path: 0 or a negative errno. */
int sysfs_write(const char *path, const char *s);

/* Is @bdf the name of a PCI device in sysfs (and not a path)? */
bool pci_exists(const char *bdf);

/*
 * @s with every byte that does not belong to well-formed UTF-8 (sysfs
 * values, device paths and file names are bytes) replaced by U+FFFD;
 * malloc()ed, NULL when out of memory.
 */
char *utf8_sanitize(const char *s);

#pragma GCC visibility pop

#endif /* P2PMEM_TOOLS_SYSFS_H */
