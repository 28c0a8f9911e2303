// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side helper for the VM bench.
 *   pattern fill FILE SIZE SEED            write SIZE bytes of stream SEED
 *   pattern check FILE OFF LEN SEED PATOFF  FILE[OFF..] == stream SEED at PATOFF
 *   pattern cmp FILE1 OFF1 FILE2 OFF2 LEN   byte ranges are equal
 * Exit status 0 on success; a mismatch prints where it is.
 */
#define _FILE_OFFSET_BITS 64
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

static void *read_range(const char *path, unsigned long long off, size_t len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(len);

	if (!f || !buf || fseeko(f, (off_t)off, SEEK_SET) ||
	    fread(buf, 1, len, f) != len) {
		fprintf(stderr, "pattern: cannot read %zu bytes at %llu of %s\n",
			len, off, path);
		exit(2);
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "fill")) {
		unsigned long long size = strtoull(argv[3], NULL, 0), off;
		uint64_t seed = strtoull(argv[4], NULL, 0);
		static char chunk[1 << 20];
		FILE *f = fopen(argv[2], "wb");

		if (!f || size % sizeof(chunk))
			return 2;
		for (off = 0; off < size; off += sizeof(chunk)) {
			pat_fill(chunk, sizeof(chunk), seed, off);
			if (fwrite(chunk, 1, sizeof(chunk), f) != sizeof(chunk))
				return 2;
		}
		return fclose(f) ? 2 : 0;
	}
	if (argc == 7 && !strcmp(argv[1], "check")) {
		size_t len = strtoull(argv[4], NULL, 0);
		char *buf = read_range(argv[2], strtoull(argv[3], NULL, 0), len);
		long bad = pat_check(buf, len, strtoull(argv[5], NULL, 0),
				     strtoull(argv[6], NULL, 0));

		if (bad >= 0)
			fprintf(stderr, "pattern: %s differs at +%ld\n", argv[2], bad);
		return bad >= 0;
	}
	if (argc == 7 && !strcmp(argv[1], "cmp")) {
		size_t len = strtoull(argv[6], NULL, 0), i;
		char *a = read_range(argv[2], strtoull(argv[3], NULL, 0), len);
		char *b = read_range(argv[4], strtoull(argv[5], NULL, 0), len);

		for (i = 0; i < len && a[i] == b[i]; i++)
			;
		if (i < len)
			fprintf(stderr, "pattern: ranges differ at +%zu\n", i);
		return i < len;
	}
	fprintf(stderr, "usage: pattern fill|check|cmp ...\n");
	return 2;
}
