// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side micro-benchmarks for `make bench`.  TARGET is a p2pmem node,
 * the kernel's p2pmem/allocate file, or "anon" for anonymous RAM; every
 * result is one line the host turns into ratios:
 *
 *   BENCH <workload> <label> <value> <unit>
 *
 *   p2pmem_bench map LABEL TARGET        mmap + touch every page + munmap
 *                                        of 64 MiB; median of 5 runs, ms
 *   p2pmem_bench dio LABEL TARGET NVME   O_DIRECT reads of 4 MiB from the
 *                                        NVMe into a 4 MiB buffer of TARGET;
 *                                        32 MiB in all, best of 3, MiB/s
 *
 * Bytes are verified after the timed part so a fast wrong answer cannot
 * win; any failure exits non-zero with no BENCH line.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define MiB (1024UL * 1024)
#define PG 4096UL
#define RUNS 5

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *map_target(const char *target, size_t len, int *fdp)
{
	void *p;

	*fdp = -1;
	if (!strcmp(target, "anon"))
		return mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*fdp = open(target, O_RDWR);
	if (*fdp < 0) {
		perror(target);
		exit(2);
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fdp, 0);
	return p;
}

static void unmap_target(void *p, size_t len, int fd)
{
	munmap(p, len);
	if (fd >= 0)
		close(fd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_map(const char *label, const char *target)
{
	size_t len = 64 * MiB, off;
	double t[RUNS];
	int i, fd;

	for (i = 0; i < RUNS; i++) {
		double t0 = now_ms();
		volatile char *p = map_target(target, len, &fd);

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		for (off = 0; off < len; off += PG)
			p[off] = 1;
		unmap_target((void *)p, len, fd);
		t[i] = now_ms() - t0;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	printf("BENCH map64 %s %.1f ms\n", label, t[RUNS / 2]);
	return 0;
}

static int bench_dio(const char *label, const char *target, const char *nvme)
{
	size_t len = 4 * MiB, total = 32 * MiB, done;
	int fd, nfd = open(nvme, O_RDONLY | O_DIRECT), i;
	char *p = map_target(target, len, &fd);
	double best = 0;

	if (nfd < 0 || p == MAP_FAILED) {
		perror("open/mmap");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		double t0 = now_ms(), rate;

		for (done = 0; done < total; done += len)
			if (pread(nfd, p, len, done % (16 * MiB)) != (ssize_t)len) {
				perror("pread");
				return 1;
			}
		rate = total / (double)MiB / ((now_ms() - t0) / 1e3);
		if (rate > best)
			best = rate;
	}
	/* The last read was of 12..16 MiB, which holds seed 1. */
	if (pat_check(p, len, 1, 12 * MiB) >= 0) {
		fprintf(stderr, "%s: wrong bytes after O_DIRECT\n", label);
		return 1;
	}
	unmap_target(p, len, fd);
	close(nfd);
	printf("BENCH dio %s %.1f MiB/s\n", label, best);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "map"))
		return bench_map(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "dio"))
		return bench_dio(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: p2pmem_bench map LABEL TARGET | dio LABEL TARGET NVME\n");
	return 2;
}
