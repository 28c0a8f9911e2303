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
 *   p2pmem_bench map LABEL TARGET        mmap() of 64 MiB, then touching every
 *                                        page, then munmap(), each timed
 *                                        (ms); counts the page faults of the
 *                                        mmap and the touching (getrusage),
 *                                        and checks that each page read
 *                                        zero but for the byte written
 *   p2pmem_bench cold LABEL DEV          the same mmap + touch on a cold pool:
 *                                        right after every free page was
 *                                        written and given back, before the
 *                                        background zeroing can catch up
 *   p2pmem_bench dio LABEL TARGET NVME   O_DIRECT reads of 4 MiB from the
 *                                        NVMe into a 2 MiB-aligned 4 MiB
 *                                        buffer of TARGET, 64 MiB in all,
 *                                        then O_DIRECT writes of it back to
 *                                        where it came from, 64 MiB in all,
 *                                        MiB/s each; counts the faults that
 *                                        mapped the buffer (2 for two
 *                                        2 MiB mappings) and the requests
 *                                        the NVMe completed and their bytes
 *                                        (the disk's /sys/block stat)
 *   p2pmem_bench zero LABEL DEV NPAGES HOW
 *                                        NPAGES of DEV zeroed between two
 *                                        marker writes the host finds in
 *                                        QEMU's trace of CPU writes into the
 *                                        BAR (see zero_report in
 *                                        tests/lib/benchreport.sh): by the
 *                                        faults that map them (HOW "fault")
 *                                        or by the background zeroing once
 *                                        they are given back ("background")
 *   p2pmem_bench frag LABEL DEV          mmap + munmap of half of DEV, ms:
 *                                        "flat" from an empty pool, "frag"
 *                                        after every other page was taken
 *   p2pmem_bench settle DEV              every page of DEV free, a marker in
 *                                        the kernel log, one page taken,
 *                                        written and given back: the
 *                                        module's next "every free page is
 *                                        zeroed" after the marker says the
 *                                        pool is warm (tests/guest/bench.sh)
 *
 * Bytes are verified after the timed part so a fast wrong answer cannot
 * win; any failure exits non-zero with no BENCH line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <stdbool.h>
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

/*
 * Whether the 64 MiB at @p, touched by bench_map(), read zero but for the
 * byte written to each page: the pages of a new mapping must hold nothing
 * of an earlier user's.  Returns how many pages did not.
 */
static unsigned long pages_not_zero(const volatile char *p, size_t len)
{
	unsigned long bad = 0;
	size_t off, i;

	for (off = 0; off < len; off += PG) {
		const volatile uint64_t *w = (const volatile uint64_t *)(p + off);
		uint64_t acc = w[0] & ~0xffULL;

		for (i = 1; i < PG / 8; i++)
			acc |= w[i];
		bad += acc || p[off] != 1;
	}
	return bad;
}

/*
 * mmap() 64 MiB of @target, touch every page, munmap(): each step timed,
 * and the faults of the first two counted.  A p2pmem node or anonymous RAM must read
 * zero; the kernel's allocate file does not zero what it hands out, so
 * there the count is only reported.  @wl names the workload: "" for
 * the warm pool (the guest waits for the background zeroing first),
 * "cold-" for a pool whose zeroing has not caught up, where @retry says
 * to try again for as long as mmap() fails for want of pages.
 */
static int map_touch(const char *wl, const char *label, const char *target,
		     bool retry)
{
	size_t len = 64 * MiB, off;
	unsigned long tries;
	long min0, maj0, min1, maj1;
	double t0, t_mmap, t_touch, t_unmap;
	unsigned long bad;
	volatile char *p;
	int fd = -1;

	if (strcmp(target, "anon")) {
		fd = open(target, O_RDWR);
		if (fd < 0) {
			perror(target);
			return 2;
		}
	}
	/* The first clock_gettime() faults in the vDSO's data: not counted. */
	now_ms();
	for (tries = 0;; tries++) {
		faults(&min0, &maj0);
		t0 = now_ms();
		p = fd < 0 ? mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
			     mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		t_mmap = now_ms() - t0;
		/* A cold pool's pages may still be on their way back. */
		if (p != MAP_FAILED || errno != ENOMEM || !retry || tries == 1000000)
			break;
		sched_yield();
	}
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (off = 0; off < len; off += PG)
		p[off] = 1;
	t_touch = now_ms() - t0;
	faults(&min1, &maj1);
	bad = pages_not_zero(p, len);
	if (bad && !strstr(target, "/allocate")) {
		fprintf(stderr, "%s: %lu pages of a new 64 MiB mapping were not zero\n",
			label, bad);
		return 1;
	}
	t0 = now_ms();
	munmap((void *)p, len);
	t_unmap = now_ms() - t0;
	if (fd >= 0)
		close(fd);
	if (!*wl)
		printf("BENCH mmap %s %.3f ms\n", label, t_mmap);
	printf("BENCH %smmap+touch %s %.1f ms\n", wl, label, t_touch);
	if (!*wl)
		printf("BENCH munmap %s %.1f ms\n", label, t_unmap);
	printf("BENCHC %smmap+touch %s minor-faults %ld\n", wl, label, min1 - min0);
	printf("BENCHC %smmap+touch %s major-faults %ld\n", wl, label, maj1 - maj0);
	printf("BENCHC %smmap+touch %s pages-not-zero %lu\n", wl, label, bad);
	return 0;
}

static int bench_map(const char *label, const char *target)
{
	return map_touch("", label, target, false);
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

/*
 * Until every page of @dev is back in its pool (released pages come back
 * from a work item on some kernels), 10 s at most.
 */
static void wait_all_free(const char *dev)
{
	unsigned long size = sysfs_ul(dev, "size");
	int i;

	for (i = 0; i < 10000 && sysfs_ul(dev, "available") != size; i++)
		usleep(1000);
	if (sysfs_ul(dev, "available") != size) {
		fprintf(stderr, "%s: pages did not come back\n", dev);
		exit(2);
	}
}

/*
 * Leave every free page of @dev holding data (written and given back),
 * then map + touch 64 MiB the moment they are all back: the background
 * zeroing has had little time, so the faults zero many of them (the guest
 * counts how many from the module's debug lines).  Some kernels give the
 * pages back from a work item, hence the retries.
 */
static int bench_cold(const char *label, const char *dev)
{
	size_t len = sysfs_ul(dev, "available") & ~(PG - 1);
	int fd = open(dev, O_RDWR);
	char *p;

	if (fd < 0) {
		perror(dev);
		return 2;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(p, 0x5a, len);
	munmap(p, len);
	close(fd);
	return map_touch("cold-", label, dev, true);
}

/*
 * Make the module's background zeroing report on the whole pool: every
 * page free, a marker in the kernel log, then one page taken, written and
 * given back, which queues the zeroing again.  The first "every free page
 * is zeroed" after the marker comes from a run that ended with no dirty
 * page left (see p2pmem_zero_work()).
 */
static int bench_settle(const char *dev)
{
	static const char mark[] = "p2pmem_bench: settle\n";
	int fd = open(dev, O_RDWR), k;
	char *p;

	if (fd < 0) {
		perror(dev);
		return 2;
	}
	wait_all_free(dev);
	k = open("/dev/kmsg", O_WRONLY);
	if (k < 0 || write(k, mark, sizeof(mark) - 1) != sizeof(mark) - 1) {
		perror("/dev/kmsg");
		return 2;
	}
	close(k);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	p[0] = 1;
	munmap(p, PG);
	close(fd);
	wait_all_free(dev);
	return 0;
}

/*
 * The block layer's counters of the disk behind /dev/NAME (I/Os completed,
 * merges, sectors; Documentation/block/stat.rst), so the bench sees how
 * the buffer's pages were cut into NVMe requests.
 */
struct disk_stat {
	unsigned long rd, rd_merges, rd_sectors, rd_ticks;
	unsigned long wr, wr_merges, wr_sectors;
};

static void disk_stat(const char *nvme, struct disk_stat *st)
{
	char path[256], *copy = strdup(nvme);
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/stat", basename(copy));
	free(copy);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%lu %lu %lu %lu %lu %lu %lu", &st->rd, &st->rd_merges,
			 &st->rd_sectors, &st->rd_ticks, &st->wr, &st->wr_merges,
			 &st->wr_sectors) != 7) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
}

/*
 * A 2 MiB-aligned buffer of @len: p2pmem aligns its mappings itself (and
 * maps whole 2 MiB with one PMD each); anonymous RAM gets an aligned
 * range and MADV_HUGEPAGE, so that it too can be mapped 2 MiB at a time
 * whatever the THP mode (unless THP is "never").
 */
static char *dio_buffer(const char *target, size_t len, int *fdp)
{
	const size_t huge = 2 * MiB;
	uintptr_t a;
	char *p;

	*fdp = -1;
	if (strcmp(target, "anon")) {
		*fdp = open(target, O_RDWR);
		if (*fdp < 0) {
			perror(target);
			exit(2);
		}
		return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fdp, 0);
	}
	p = mmap(NULL, len + huge, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return p;
	a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((char *)a + len, (uintptr_t)p + huge - a);
	madvise((char *)a, len, MADV_HUGEPAGE);
	return (char *)a;
}

static int bench_dio(const char *label, const char *target, const char *nvme)
{
	size_t len = 4 * MiB, total = 64 * MiB, done, off;
	int fd, nfd = open(nvme, O_RDWR | O_DIRECT);
	char *p = dio_buffer(target, len, &fd);
	unsigned long nios = total / len, reqs, wreqs;
	struct disk_stat s0, s1, s2;
	long min0, maj0, min1, maj1;
	double t0, t1, t2;

	if (nfd < 0 || p == MAP_FAILED) {
		perror("open/mmap");
		return 1;
	}
	/*
	 * Fault the buffer in and read once before the clock starts: the
	 * first touch of a p2pmem page may zero it, which mmap+touch measures.
	 */
	faults(&min0, &maj0);
	for (off = 0; off < len; off += PG)
		p[off] = 1;
	faults(&min1, &maj1);
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
	t1 = now_ms();
	disk_stat(nvme, &s1);
	/* The last read was of 12..16 MiB, which holds seed 1. */
	if (pat_check(p, len, 1, 12 * MiB) >= 0) {
		fprintf(stderr, "%s: wrong bytes after O_DIRECT\n", label);
		return 1;
	}
	/* Back where they came from: the disk keeps its pattern. */
	t2 = now_ms();
	for (done = 0; done < total; done += len)
		if (pwrite(nfd, p, len, 12 * MiB) != (ssize_t)len) {
			perror("pwrite");
			return 1;
		}
	t2 = now_ms() - t2;
	disk_stat(nvme, &s2);
	unmap_target(p, len, fd);
	close(nfd);
	reqs = s1.rd - s0.rd;
	wreqs = s2.wr - s1.wr;
	/* Nothing else may use the disk meanwhile, or the counts mean nothing. */
	if (s1.wr != s0.wr || (s1.rd_sectors - s0.rd_sectors) * 512 != total || !reqs ||
	    s2.rd != s1.rd || (s2.wr_sectors - s1.wr_sectors) * 512 != total || !wreqs) {
		fprintf(stderr, "%s: the disk did other I/O: %lu/%lu sectors read, %lu/%lu written\n",
			label, s1.rd_sectors - s0.rd_sectors, s2.rd_sectors - s1.rd_sectors,
			s1.wr_sectors - s0.wr_sectors, s2.wr_sectors - s1.wr_sectors);
		return 1;
	}
	printf("BENCH dio-read %s %.1f MiB/s\n", label, total / (double)MiB / ((t1 - t0) / 1e3));
	printf("BENCH dio-write %s %.1f MiB/s\n", label, total / (double)MiB / (t2 / 1e3));
	printf("BENCHC dio-buffer %s faults %ld\n", label, min1 - min0 + maj1 - maj0);
	printf("BENCHC dio-read %s requests-per-read %.2f\n", label, (double)reqs / nios);
	printf("BENCHC dio-read %s bytes-per-request %.0f\n", label, (double)total / reqs);
	printf("BENCHC dio-read %s merges-per-read %.2f\n", label,
	       (double)(s1.rd_merges - s0.rd_merges) / nios);
	printf("BENCHC dio-write %s requests-per-write %.2f\n", label, (double)wreqs / nios);
	printf("BENCHC dio-write %s bytes-per-request %.0f\n", label, (double)total / wreqs);
	return 0;
}

/* The values the host looks for in the trace; see zero_report in tests/lib/benchreport.sh. */
#define ZERO_MARK_START 0x7032707a65726f31ULL	/* "p2pzero1" */
#define ZERO_MARK_END 0x7032707a65726f32ULL	/* "p2pzero2" */

/*
 * Until the module's background zeroing has reported @kib KiB of @dev
 * zeroed in kmsg records read from @k, or, once all of @dev but @held
 * bytes is back, 10 s more (a run that finds pages given back behind its sweep
 * ends without a report, and the next one reports only its own).
 */
static void wait_zeroed(int k, const char *dev, unsigned long kib, unsigned long held)
{
	char rec[1024], *copy = strdup(dev), key[128], *m;
	unsigned long size = sysfs_ul(dev, "size"), got = 0, n;
	double start = now_ms(), back = 0;
	ssize_t len;

	snprintf(key, sizeof(key), "%s: every free page is zeroed (", basename(copy));
	free(copy);
	while (got < kib) {
		len = read(k, rec, sizeof(rec) - 1);
		if (len > 0) {
			rec[len] = 0;
			m = strstr(rec, key);
			if (m && sscanf(m + strlen(key), "%lu", &n) == 1)
				got += n;
			continue;
		}
		if (len < 0 && errno == EPIPE)	/* records overwritten */
			continue;
		if (!back && sysfs_ul(dev, "available") == size - held)
			back = now_ms();
		if ((back && now_ms() - back > 10e3) || now_ms() - start > 120e3)
			break;
		usleep(10000);
	}
	if (!back && sysfs_ul(dev, "available") != size - held) {
		fprintf(stderr, "%s: the pages did not come back\n", dev);
		exit(1);
	}
}

/*
 * @npages of @dev zeroed between two marker writes into a page of @dev.
 * "fault": the pages are mapped and a byte of each read, so the faults
 * zero them (the kernel backend, which zeroes at fault).  "background":
 * the pages, mapped and written before the first marker, are given back
 * and the module's background zeroing clears them before the second (the
 * native backend; the guest waits for a warm pool first, so nothing else
 * is being zeroed).
 */
static int bench_zero(const char *label, const char *dev, unsigned long npages,
		      const char *how)
{
	size_t len = npages * PG, off;
	volatile uint64_t *mark, *p;
	bool bg = !strcmp(how, "background");
	uint64_t sum = 0;
	cpu_set_t cpus;
	int fd, k = -1;

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
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (bg) {
		for (off = 0; off < len; off += 8)
			p[off / 8] = ~0ULL;
		k = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
		if (k < 0 || lseek(k, 0, SEEK_END) < 0) {
			perror("/dev/kmsg");
			return 2;
		}
		/*
		 * The zeroing runs on whichever CPU its worker gets; this
		 * process's marker writes come before the first page is given
		 * back and after the last is reported zeroed.
		 */
		mark[0] = ZERO_MARK_START;
		munmap((void *)p, len);
		wait_zeroed(k, dev, npages * PG / 1024, PG);
		mark[0] = ZERO_MARK_END;
		close(k);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
	} else {
		mark[0] = ZERO_MARK_START;
		for (off = 0; off < len; off += PG)
			sum += p[off / 8];
		mark[0] = ZERO_MARK_END;
	}
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

/*
 * Ask the module to log how it takes pages ("+p") or stop ("-p"); its
 * other debug lines stay as the guest set them (tests/guest/bench.sh).
 */
static void dyndbg(const char *flags)
{
	FILE *f = fopen("/sys/kernel/debug/dynamic_debug/control", "w");

	if (f) {
		fprintf(f, "module p2pmem format \"took \" %s\n", flags);
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
	if (argc == 4 && !strcmp(argv[1], "cold"))
		return bench_cold(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "settle"))
		return bench_settle(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "dio"))
		return bench_dio(argv[2], argv[3], argv[4]);
	if (argc == 6 && !strcmp(argv[1], "zero") &&
	    (!strcmp(argv[5], "fault") || !strcmp(argv[5], "background")))
		return bench_zero(argv[2], argv[3], strtoul(argv[4], NULL, 0), argv[5]);
	if (argc == 4 && !strcmp(argv[1], "frag"))
		return bench_frag(argv[2], argv[3]);
	fprintf(stderr, "usage: p2pmem_bench map LABEL TARGET | cold LABEL DEV | settle DEV | dio LABEL TARGET NVME | zero LABEL DEV NPAGES fault|background | frag LABEL DEV\n");
	return 2;
}
