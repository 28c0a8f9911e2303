// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side micro-benchmarks for `make bench`.  TARGET is a p2pmem node,
 * the kernel's p2pmem/allocate file, or "anon" for anonymous RAM.  Each
 * call measures once: tests/guest/bench.sh calls it in interleaved rounds
 * and the host (bench_report in tests/lib/benchreport.sh) takes medians and spreads.
 * Every result is one line:
 *
 *   BENCH <workload> <label> <value> <unit>        a time or a rate
 *   BENCHC <workload> <label> <counter> <value>    a count that should be
 *                                                  the same in every round
 *
 *   p2pmem_bench map LABEL TARGET        mmap + touch every page + munmap
 *                                        of 64 MiB, ms; counts the minor
 *                                        and major page faults that took
 *   p2pmem_bench dio LABEL TARGET NVME   O_DIRECT reads of 4 MiB from the
 *                                        NVMe into a 4 MiB buffer of
 *                                        TARGET, 64 MiB in all, MiB/s; counts
 *                                        the requests the NVMe completed per
 *                                        read and their bytes (the disk's
 *                                        /sys/block stat around the reads)
 *   p2pmem_bench zero LABEL DEV NPAGES   map NPAGES of DEV and read a byte of
 *                                        every page, between two marker
 *                                        writes the host finds in QEMU's
 *                                        trace of CPU writes into the BAR:
 *                                        what lies between them is the
 *                                        zeroing (see zero_report in
 *                                        tests/lib/benchreport.sh)
 *   p2pmem_bench frag LABEL DEV          mmap + munmap of half of DEV, ms:
 *                                        "flat" from an empty pool, "frag"
 *                                        after every other page was taken
 *
 * Bytes are verified after the timed part so a fast wrong answer cannot
 * win; any failure exits non-zero with no BENCH line.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define MiB (1024UL * 1024)
#define PG 4096UL

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

/* Minor and major faults of this process so far. */
static void faults(long *minor, long *major)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*minor = ru.ru_minflt;
	*major = ru.ru_majflt;
}

static int bench_map(const char *label, const char *target)
{
	size_t len = 64 * MiB, off;
	long min0, maj0, min1, maj1;
	double t0, t;
	volatile char *p;
	int fd;

	faults(&min0, &maj0);
	t0 = now_ms();
	p = map_target(target, len, &fd);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (off = 0; off < len; off += PG)
		p[off] = 1;
	unmap_target((void *)p, len, fd);
	t = now_ms() - t0;
	faults(&min1, &maj1);
	printf("BENCH map64 %s %.1f ms\n", label, t);
	printf("BENCHC map64 %s minor-faults %ld\n", label, min1 - min0);
	printf("BENCHC map64 %s major-faults %ld\n", label, maj1 - maj0);
	return 0;
}

/*
 * The block layer's counters of the disk behind /dev/NAME (reads and
 * writes completed, sectors; Documentation/block/stat.rst), so the bench
 * sees how the buffer's pages were cut into NVMe requests.
 */
struct disk_stat {
	unsigned long rd, rd_merges, rd_sectors, rd_ticks, wr;
};

static void disk_stat(const char *nvme, struct disk_stat *st)
{
	char path[256], *copy = strdup(nvme);
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/stat", basename(copy));
	free(copy);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%lu %lu %lu %lu %lu", &st->rd, &st->rd_merges,
			 &st->rd_sectors, &st->rd_ticks, &st->wr) != 5) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
}

static int bench_dio(const char *label, const char *target, const char *nvme)
{
	size_t len = 4 * MiB, total = 64 * MiB, done, off;
	int fd, nfd = open(nvme, O_RDONLY | O_DIRECT);
	char *p = map_target(target, len, &fd);
	struct disk_stat s0, s1;
	unsigned long nreads = total / len, reqs;
	double t0, rate;

	if (nfd < 0 || p == MAP_FAILED) {
		perror("open/mmap");
		return 1;
	}
	/*
	 * Fault the buffer in and read once before the clock starts: the
	 * first touch of a p2pmem page zeroes it, which map64 measures.
	 */
	for (off = 0; off < len; off += PG)
		p[off] = 1;
	if (pread(nfd, p, len, 0) != (ssize_t)len) {
		perror("pread");
		return 1;
	}
	disk_stat(nvme, &s0);
	t0 = now_ms();
	for (done = 0; done < total; done += len)
		if (pread(nfd, p, len, done % (16 * MiB)) != (ssize_t)len) {
			perror("pread");
			return 1;
		}
	rate = total / (double)MiB / ((now_ms() - t0) / 1e3);
	disk_stat(nvme, &s1);
	/* The last read was of 12..16 MiB, which holds seed 1. */
	if (pat_check(p, len, 1, 12 * MiB) >= 0) {
		fprintf(stderr, "%s: wrong bytes after O_DIRECT\n", label);
		return 1;
	}
	unmap_target(p, len, fd);
	close(nfd);
	reqs = s1.rd - s0.rd;
	/* Nothing else may use the disk meanwhile, or the counts mean nothing. */
	if (s1.wr != s0.wr || (s1.rd_sectors - s0.rd_sectors) * 512 != total || !reqs) {
		fprintf(stderr, "%s: the disk did other I/O: %lu writes, %lu sectors read\n",
			label, s1.wr - s0.wr, s1.rd_sectors - s0.rd_sectors);
		return 1;
	}
	printf("BENCH dio %s %.1f MiB/s\n", label, rate);
	printf("BENCHC dio %s requests-per-read %.2f\n", label, (double)reqs / nreads);
	printf("BENCHC dio %s bytes-per-request %.0f\n", label, (double)total / reqs);
	printf("BENCHC dio %s merges-per-read %.2f\n", label,
	       (double)(s1.rd_merges - s0.rd_merges) / nreads);
	return 0;
}

/* The values the host looks for in the trace; see zero_report in tests/lib/benchreport.sh. */
#define ZERO_MARK_START 0x7032707a65726f31ULL	/* "p2pzero1" */
#define ZERO_MARK_END 0x7032707a65726f32ULL	/* "p2pzero2" */

static int bench_zero(const char *label, const char *dev, unsigned long npages)
{
	size_t len = npages * PG, off;
	volatile uint64_t *mark, *p;
	uint64_t sum = 0;
	cpu_set_t cpus;
	int fd;

	/* One CPU: the markers and the zeroing then reach the trace in order. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	mark = map_target(dev, PG, &fd);
	if (mark == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	sum += mark[0];		/* zero the marker page outside the window */
	mark[0] = ZERO_MARK_START;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (off = 0; off < len; off += PG)
		sum += p[off / 8];
	mark[0] = ZERO_MARK_END;
	for (off = 0; off < len; off += 8)
		sum |= p[off / 8];
	if (sum) {
		fprintf(stderr, "%s: a new mapping is not all zeros\n", label);
		return 1;
	}
	munmap((void *)p, len);
	unmap_target((void *)mark, PG, fd);
	printf("BENCH zero-pages %s %lu pages\n", label, npages);
	return 0;
}

static unsigned long sysfs_ul(const char *dev, const char *attr)
{
	char path[256], *copy = strdup(dev);
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/p2pmem/%s/%s", basename(copy), attr);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%lu", &v) != 1) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	free(copy);
	return v;
}

/* One mmap + munmap of @len, ms. */
static double time_mmap(int fd, size_t len)
{
	double t0 = now_ms();
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	munmap(p, len);
	return now_ms() - t0;
}

/* Ask the module to log how it takes pages ("+p") or stop ("-p"). */
static void dyndbg(const char *flags)
{
	FILE *f = fopen("/sys/kernel/debug/dynamic_debug/control", "w");

	if (f) {
		fprintf(f, "module p2pmem %s\n", flags);
		fclose(f);
	}
}

static int bench_frag(const char *label, const char *dev)
{
	unsigned long npages = sysfs_ul(dev, "size") / PG, i;
	int fd = open(dev, O_RDWR);
	double flat, frag;
	void **one;

	one = calloc(npages, sizeof(*one));
	if (fd < 0 || !one || sysfs_ul(dev, "available") != npages * PG) {
		fprintf(stderr, "%s: cannot open or not all free\n", dev);
		return 1;
	}
	flat = time_mmap(fd, npages / 2 * PG);
	/* First fit hands out the pages of an empty pool in address order. */
	for (i = 0; i < npages; i++) {
		one[i] = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (one[i] == MAP_FAILED) {
			perror("mmap one page");
			return 1;
		}
	}
	for (i = 0; i < npages; i += 2)
		munmap(one[i], PG);
	if (sysfs_ul(dev, "available") != npages / 2 * PG) {
		fprintf(stderr, "%s: every other page is not free\n", dev);
		return 1;
	}
	dyndbg("+p");
	frag = time_mmap(fd, npages / 2 * PG);
	dyndbg("-p");
	for (i = 1; i < npages; i += 2)
		munmap(one[i], PG);
	close(fd);
	free(one);
	printf("BENCH flat-mmap %s %.1f ms\n", label, flat);
	printf("BENCH frag-mmap %s %.1f ms\n", label, frag);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "map"))
		return bench_map(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "dio"))
		return bench_dio(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "zero"))
		return bench_zero(argv[2], argv[3], strtoul(argv[4], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "frag"))
		return bench_frag(argv[2], argv[3]);
	fprintf(stderr, "usage: p2pmem_bench map LABEL TARGET | dio LABEL TARGET NVME | zero LABEL DEV NPAGES | frag LABEL DEV\n");
	return 2;
}
