// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side tests of /dev/p2pmemN.  Prints one TAP line per check
 * ("ok - ..." / "not ok - ..."); the host numbers and counts them.
 *
 *   p2pmem_test mmap  DEV          mmap semantics, zeroing, lifetimes
 *   p2pmem_test dio   DEV NVME     O_DIRECT in and out of the BAR, pins
 *   p2pmem_test proof DEV NVME     leave bytes for the host to check;
 *                                  hold them until SIGUSR1
 *   p2pmem_test hold  DEV [MiB]    map 8 pages (or MiB, touching only its
 *                                  first page), say HOLDING, wait for
 *                                  SIGUSR1, touch the first and last page
 *   p2pmem_test excl  BLOCKDEV     open it O_EXCL (as a mount would hold it),
 *                                  say EXCLUSIVE, wait for SIGUSR1
 *   p2pmem_test churn DEV NVME     open/mmap/touch/O_DIRECT/munmap in a loop
 *                                  until the device goes away (exit 0) or
 *                                  something fails in an unexpected way
 *   p2pmem_test pin   DEV          vmsplice 64 KiB into a pipe, unmap, close,
 *                                  say PINNED, wait for SIGUSR1, read the pipe
 *   p2pmem_test same  PATH NVME    one fixed O_DIRECT workload through any
 *                                  mmap-able PATH (a p2pmem node or the
 *                                  kernel's p2pmem/allocate file), verified,
 *                                  then "DIGEST <hash>" of the bytes read
 *   p2pmem_test huge  DEV URING [NVME]
 *                                  2 MiB mappings: aligned addresses, faults
 *                                  to touch 64 MiB, and what a PMD must keep
 *                                  right (MADV_DONTNEED, partial munmap,
 *                                  mremap, fork, pins: io_uring must give
 *                                  URING as for "gup", O_DIRECT with NVME)
 *   p2pmem_test fill  DEV          map all that is free, write it, unmap;
 *                                  log "p2pmem_test: filled" (/dev/kmsg),
 *                                  then map, write and unmap one page
 *   p2pmem_test warm  DEV          map and touch 64 MiB, all zeros; print its
 *                                  times next to anonymous RAM's
 *   p2pmem_test zero  DEV [NVME]   pages a previous user filled read back as
 *                                  zeros, through the CPU and (with NVME)
 *                                  through O_DIRECT from an untouched buffer
 *   p2pmem_test kill  DEV          a process mapping and touching all of DEV
 *                                  dies promptly on SIGKILL; all comes back
 *   p2pmem_test zap   DEV UNBIND PCI
 *                                  unbind PCI (echo it to UNBIND) while a
 *                                  process maps and touches all of DEV: the
 *                                  unbind is prompt, the process gets SIGBUS
 *                                  or ENODEV
 *   p2pmem_test gup   DEV URING SPLICE
 *                                  long-lived pinners that do not ask for
 *                                  P2PDMA pages: io_uring fixed buffers and
 *                                  vmsplice must give what the kernel is
 *                                  known to give, "ok" or an errno name
 *                                  (EREMOTEIO, EOPNOTSUPP)
 *   p2pmem_test leak  DEV PCI      P2PMEM_IOC_REACH about PCI from a zeroed
 *                                  struct: nothing after the verdict's NUL
 *                                  may come back non-zero; the fields match
 *                                  the verdict; the struct's size rules
 *   p2pmem_test reach DEV NAME     ask P2PMEM_IOC_REACH about any NAME (no
 *                                  TAP): print the verdict, or the errno
 *                                  name and exit 1
 *   p2pmem_test wc    DEV [NVME]   P2PMEM_IOC_SET_CACHING: bad arguments, the
 *                                  default, EBUSY after mmap; a write-combining
 *                                  mapping's PTEs are WC 4 KiB ones (debugfs
 *                                  p2pmem/pte_cache), keep their type, data
 *                                  and (with NVME) O_DIRECT both ways
 *   p2pmem_test nvme-enable BDF    what a user-space NVMe driver does to a
 *                                  controller it owns (SPDK on
 *                                  uio_pci_generic): reset it, switch the
 *                                  CMB off (CMBMSC 0), program the admin
 *                                  queue registers and set CC.EN through
 *                                  BAR 0, wait for CSTS.RDY
 *   p2pmem_test nvme-disable BDF   clear CC.EN, wait until CSTS.RDY is 0
 *   p2pmem_test nvme-regs BDF      print CMBLOC, CMBSZ and CMBMSC
 *
 * The NVMe namespace holds pattern seed 1 (written by the host) except
 * where these tests write; see tests/run for the layout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xmmintrin.h>

#include "p2pmem/uapi.h"
#include "pattern.h"
#include "tap.h"

#define MiB (1024UL * 1024)
#define PG 4096UL

static char sysdir[256];
/* "available" when the test started: another driver may hold some too. */
static unsigned long long avail_at_start;

static unsigned long long sysfs_num(const char *attr)
{
	char path[512], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sysdir, attr);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	return strtoull(buf, NULL, 0);
}

static int open_dev(const char *dev)
{
	int fd = open(dev, O_RDWR);

	if (fd < 0) {
		perror(dev);
		exit(2);
	}
	return fd;
}

static void *map(int fd, size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

/* Everything we took is back once nothing references it any more. */
static void expect_all_free(const char *when)
{
	unsigned long long size = sysfs_num("size"), avail = sysfs_num("available");

	tap(avail == avail_at_start && sysfs_num("allocated") == size - avail,
	    "available is back to %llu after %s (%llu of %llu)", avail_at_start,
	    when, avail, size);
}

/*
 * For releases that may complete a little later: io_uring tears its ring
 * down in a worker, and before 6.1 p2pmem finds pages that I/O let go of
 * by polling their refcounts (every 100 ms).
 */
static void wait_all_free(const char *when)
{
	int i;

	for (i = 0; i < 100 && sysfs_num("available") != avail_at_start; i++)
		usleep(100000);
	expect_all_free(when);
}

static int all_zero(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * mmap() reserves a buffer's pages and the faults claim them, 2 MiB at a
 * time: pages of windows never touched must come back all the same, and a
 * buffer made of many pieces (a fragmented pool: its list of runs grows)
 * must still map the right page everywhere.
 */
static void test_mmap_reserve(int fd, unsigned long long size)
{
	size_t len = size / 2 < 16 * MiB ? size / 2 & ~(PG - 1) : 16 * MiB;
	char *p, *one[64], *rest;
	size_t i, n;

	p = map(fd, len);
	tap(p != MAP_FAILED && sysfs_num("allocated") == len,
	    "an untouched mapping counts in allocated (%llu of %zu)",
	    sysfs_num("allocated"), len);
	munmap(p, len);
	expect_all_free("munmap of an untouched mapping");
	p = map(fd, len);
	if (p == MAP_FAILED)
		exit(2);
	p[len / 2] = 3;
	p[len - 1] = 4;
	tap(all_zero(p, len / 2) && p[len / 2] == 3 && p[len - 1] == 4,
	    "a mapping touched in two places reads zeros elsewhere");
	munmap(p, len);
	expect_all_free("munmap of a partly touched mapping");

	/* 64 single pages, then all the rest; give back every other page. */
	for (i = 0; i < 64; i++) {
		one[i] = map(fd, PG);
		if (one[i] == MAP_FAILED)
			exit(2);
		memset(one[i], 0x5a, PG);
	}
	n = sysfs_num("available");
	rest = map(fd, n);
	if (rest == MAP_FAILED)
		exit(2);
	for (i = 0; i < 64; i += 2)
		munmap(one[i], PG);
	p = map(fd, 32 * PG);
	tap(p != MAP_FAILED && all_zero(p, 32 * PG),
	    "32 pages from 32 holes of a full pool read zeros");
	if (p != MAP_FAILED) {
		pat_fill(p, 32 * PG, 6, 0);
		for (i = 1; i < 64; i += 2)
			if (one[i][0] != 0x5a || one[i][PG - 1] != 0x5a)
				break;
		tap(pat_check(p, 32 * PG, 6, 0) < 0 && i >= 64,
		    "... keep what is written, and their neighbours keep theirs (%zu)",
		    i);
		munmap(p, 32 * PG);
	}
	munmap(rest, n);
	for (i = 1; i < 64; i += 2)
		munmap(one[i], PG);
	expect_all_free("a fragmented pool");
}

static void test_mmap(const char *dev)
{
	unsigned long long size = sysfs_num("size");
	int fd = open_dev(dev);
	char c, *p, *q;
	pid_t pid;
	int st, rc;

	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	tap(p == MAP_FAILED && errno == EINVAL, "MAP_PRIVATE fails with EINVAL");
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
	tap(p == MAP_FAILED && errno == EINVAL, "non-zero offset fails with EINVAL");
	p = map(fd, size + PG);
	tap(p == MAP_FAILED && errno == ENOMEM, "mapping more than available fails with ENOMEM");
	p = map(fd, 1UL << 40);
	tap(p == MAP_FAILED && errno == ENOMEM, "a 1 TiB mapping fails with ENOMEM (and no kernel warning)");
	expect_all_free("failed mmaps");

	p = map(fd, 1);
	tap(p != MAP_FAILED && sysfs_num("allocated") == PG,
	    "1-byte mmap is rounded up to one page");
	munmap(p, 1);

	/* No page cache behind it: syncing succeeds and has nothing to do. */
	p = map(fd, 4 * PG);
	errno = 0;
	rc = p == MAP_FAILED ? -1 : msync(p, 4 * PG, MS_SYNC);
	tap(rc == 0, "msync(MS_SYNC) succeeds (%s)", strerror(errno));
	rc = p == MAP_FAILED ? -1 : msync(p, 4 * PG, MS_ASYNC);
	tap(rc == 0, "msync(MS_ASYNC) succeeds (%s)", strerror(errno));
	rc = fsync(fd) ?: fdatasync(fd);
	tap(rc == 0, "fsync() and fdatasync() succeed (%s)", strerror(errno));
	munmap(p, 4 * PG);

	errno = 0;
	tap(read(fd, &c, 1) < 0 && errno == EINVAL, "read() fails with EINVAL");
	errno = 0;
	tap(write(fd, &c, 1) < 0 && errno == EINVAL, "write() fails with EINVAL");
	errno = 0;
	tap(lseek(fd, 0, SEEK_SET) < 0 && errno == ESPIPE, "lseek() fails with ESPIPE");
	errno = 0;
	tap(pread(fd, &c, 1, 0) < 0 && errno == ESPIPE, "pread() fails with ESPIPE");

	/* Dirty the whole BAR, give it back, take it all again: all zero. */
	p = map(fd, size);
	tap(p != MAP_FAILED && sysfs_num("available") == 0, "whole BAR can be mapped");
	memset(p, 0xa5, size);
	munmap(p, size);
	expect_all_free("munmap");
	p = map(fd, size);
	tap(p != MAP_FAILED && all_zero(p, size),
	    "memory is zeroed before it is handed out again");
	munmap(p, size);

	/*
	 * Partial munmap: an mmap()'s memory comes back with its last piece,
	 * whatever the order the pieces go in.
	 */
	p = map(fd, 16 * PG);
	memset(p, 1, 16 * PG);
	munmap(p + 4 * PG, 8 * PG);
	tap(sysfs_num("allocated") == 16 * PG, "partial munmap keeps the mmap's pages");
	tap(p[0] == 1 && p[15 * PG] == 1, "the rest of a partly unmapped buffer is intact");
	munmap(p, 4 * PG);
	tap(sysfs_num("allocated") == 16 * PG, "... until its last piece is unmapped");
	munmap(p + 12 * PG, 4 * PG);
	expect_all_free("partial munmaps");

	test_mmap_reserve(fd, size);

	/* A mapping outlives its file descriptor. */
	p = map(fd, 4 * PG);
	close(fd);
	p[0] = 7;
	tap(p[0] == 7 && sysfs_num("allocated") == 4 * PG, "mapping works after close()");
	munmap(p, 4 * PG);
	expect_all_free("close then munmap");
	fd = open_dev(dev);

	/* MAP_SHARED across fork: both see the same memory. */
	p = map(fd, 4 * PG);
	pid = fork();
	if (!pid) {
		pat_fill(p, 4 * PG, 3, 0);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	tap(pat_check(p, 4 * PG, 3, 0) < 0, "parent sees the child's writes through a shared mapping");
	tap(sysfs_num("allocated") == 4 * PG, "child exit keeps the parent's pages");
	munmap(p, 4 * PG);
	expect_all_free("fork, child exit, parent munmap");

	/* Parent unmaps first; the child's inherited mapping keeps the pages. */
	p = map(fd, 4 * PG);
	memset(p, 9, 4 * PG);
	pid = fork();
	if (!pid) {
		usleep(200000);
		_exit(p[3 * PG] == 9 ? 0 : 1);
	}
	munmap(p, 4 * PG);
	waitpid(pid, &st, 0);
	tap(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child keeps its mapping after the parent unmaps");
	expect_all_free("parent munmap, child exit");

	/* exit() without munmap. */
	pid = fork();
	if (!pid) {
		q = map(fd, 32 * PG);
		if (q != MAP_FAILED)
			memset(q, 1, 32 * PG);
		_exit(q == MAP_FAILED);
	}
	waitpid(pid, &st, 0);
	tap(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child maps and exits without munmap");
	expect_all_free("exit without munmap");

	/* The buffer, not the PTE, holds the memory: MADV_DONTNEED keeps data. */
	p = map(fd, 4 * PG);
	pat_fill(p, 4 * PG, 4, 0);
	madvise(p, 4 * PG, MADV_DONTNEED);
	tap(pat_check(p, 4 * PG, 4, 0) < 0, "data survives MADV_DONTNEED");

	/* The buffer cannot grow; moving it keeps the data. */
	q = mremap(p, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
	tap(q == MAP_FAILED && errno == EFAULT, "mremap() cannot grow a mapping (EFAULT)");
	q = mremap(p, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
		   (char *)p + 64 * MiB);
	tap(q != MAP_FAILED && pat_check(q, 4 * PG, 4, 0) < 0, "mremap() can move a mapping");
	munmap(q, 4 * PG);
	munmap(p, 4 * PG);
	close(fd);
	expect_all_free("mremap");
}

static int open_nvme(const char *nvme)
{
	int fd = open(nvme, O_RDWR | O_DIRECT);

	if (fd < 0) {
		perror(nvme);
		exit(2);
	}
	return fd;
}

static void test_dio(const char *dev, const char *nvme)
{
	size_t len = 4 * MiB;
	int fd = open_dev(dev), nfd = open_nvme(nvme);
	struct io_event ev;
	aio_context_t ctx = 0;
	struct iocb cb, *cbs[1] = { &cb };
	char *p, *ram;
	ssize_t n;
	long bad;

	/* GUP slow path: the pages are not mapped yet, GUP faults them in. */
	p = map(fd, len);
	n = pread(nfd, p, len, 0);
	bad = pat_check(p, len, 1, 0);
	tap(n == (ssize_t)len && bad < 0,
	    "O_DIRECT read into untouched p2pmem (n=%zd, first bad byte %ld)", n, bad);

	/* GUP fast path: every page already has a PTE. */
	memset(p, 0, len);
	n = pread(nfd, p, len, 4 * MiB);
	bad = pat_check(p, len, 1, 4 * MiB);
	tap(n == (ssize_t)len && bad < 0,
	    "O_DIRECT read into mapped p2pmem (n=%zd, first bad byte %ld)", n, bad);

	/* Out of the BAR, then back through system RAM to compare. */
	pat_fill(p, len, 2, 0);
	n = pwrite(nfd, p, len, 16 * MiB);
	tap(n == (ssize_t)len, "O_DIRECT write from p2pmem (n=%zd)", n);
	if (posix_memalign((void **)&ram, PG, len))
		exit(2);
	n = pread(nfd, ram, len, 16 * MiB);
	tap(n == (ssize_t)len && pat_check(ram, len, 2, 0) < 0,
	    "bytes written from p2pmem read back from the namespace");

	/* Unaligned-in-buffer, multi-segment I/O across a partial range. */
	memset(p, 0, len);
	n = pread(nfd, p + 3 * PG, 64 * 1024, 8 * MiB);
	tap(n == 64 * 1024 && pat_check(p + 3 * PG, 64 * 1024, 1, 8 * MiB) < 0 &&
	    all_zero(p, 3 * PG), "O_DIRECT read at a page offset inside the buffer");
	munmap(p, len);

	/* Pages pinned by I/O in flight outlive munmap and close. */
	p = map(fd, len);
	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = nfd;
	cb.aio_lio_opcode = IOCB_CMD_PREAD;
	cb.aio_buf = (unsigned long)p;
	cb.aio_nbytes = len;
	cb.aio_offset = 0;
	if (syscall(SYS_io_setup, 4, &ctx) || syscall(SYS_io_submit, ctx, 1, cbs) != 1) {
		tap(0, "aio O_DIRECT submit: %s", strerror(errno));
	} else {
		munmap(p, len);
		close(fd);
		n = syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL);
		tap(n == 1 && ev.res == (long long)len,
		    "aio O_DIRECT read completes after munmap+close (res %lld)",
		    (long long)ev.res);
		syscall(SYS_io_destroy, ctx);
	}
	wait_all_free("I/O in flight during munmap");
	close(nfd);
	free(ram);
}

/* Print the BAR offsets of a buffer's pages, as contiguous runs. */
static void print_bar_runs(const char *tag, char *p, size_t len, uint64_t seed,
			   uint64_t patoff)
{
	unsigned long long bar = sysfs_num("phys_addr"), start = 0, run = 0, prev = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	size_t i;

	for (i = 0; i <= len / PG; i++) {
		unsigned long long e = 0, phys = 0;

		if (i < len / PG) {
			pread(fd, &e, 8, ((unsigned long)p / PG + i) * 8);
			phys = (e & ((1ULL << 55) - 1)) * PG;
			if (!(e >> 63) || !phys) {
				tap(0, "pagemap has no frame for page %zu", i);
				break;
			}
		}
		if (run && i < len / PG && phys == prev + PG) {
			run += PG;
		} else {
			if (run)
				printf("%s %llu %llu %llu %llu\n", tag, start - bar, run,
				       (unsigned long long)seed,
				       (unsigned long long)(patoff + (i * PG - run)));
			start = phys;
			run = PG;
		}
		prev = phys;
	}
	close(fd);
}

static void on_usr1(int sig);
static void wait_usr1(void);

static void test_proof(const char *dev, const char *nvme)
{
	size_t len = 4 * MiB;
	int fd = open_dev(dev), nfd = open_nvme(nvme);
	char *p = map(fd, len), *q = map(fd, len);
	ssize_t n;

	/* Device -> BAR: the host finds seed 1 @ 8 MiB in the BAR file. */
	n = pread(nfd, p, len, 8 * MiB);
	tap(n == (ssize_t)len, "proof: O_DIRECT read into the BAR (n=%zd)", n);
	print_bar_runs("PROOF-BAR", p, len, 1, 8 * MiB);

	/* BAR -> device: the host finds seed 7 @ 0 at 52 MiB in the image. */
	pat_fill(q, len, 7, 0);
	n = pwrite(nfd, q, len, 52 * MiB);
	tap(n == (ssize_t)len, "proof: O_DIRECT write out of the BAR (n=%zd)", n);
	fsync(nfd);
	printf("PROOF-NVME %lu %zu 7 0\n", 52 * MiB, len);
	/*
	 * Keep the buffer until the device is unbound: pages that come back
	 * to the native pool are zeroed in the background, so the bytes the
	 * host looks for survive only if the buffer loses its pages to the
	 * revocation (no zeroing once the device is not live).
	 */
	signal(SIGUSR1, on_usr1);
	printf("PROOF-HOLDING\n");
	fflush(stdout);
	wait_usr1();
}

static sigjmp_buf bus_jmp;

static void on_bus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

static void on_usr1(int sig)
{
}

static void wait_usr1(void)
{
	sigset_t set;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigsuspend(&set);
}

/* Exit 42 if touching the mapping after SIGUSR1 raises SIGBUS, 0 if not. */
static int hold(const char *dev, size_t len)
{
	int fd = open_dev(dev);
	volatile char *p = map(fd, len);

	if (p == MAP_FAILED)
		return 2;
	p[0] = 1;
	signal(SIGBUS, on_bus);
	printf("HOLDING\n");
	fflush(stdout);
	wait_usr1();
	if (sigsetjmp(bus_jmp, 1))
		return 42;
	return p[0] + p[len - PG] == 255;
}

/* Hold a block device the way a mounted file system does: exclusively. */
static int excl(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_EXCL);

	if (fd < 0) {
		perror(dev);
		return 2;
	}
	printf("EXCLUSIVE\n");
	fflush(stdout);
	wait_usr1();
	close(fd);
	return 0;
}

/*
 * A pipe holds references on vmspliced pages: the memory stays pinned with
 * no mapping and no open file left.  Exit 0 if the pipe still yields the
 * bytes once we are told to drain it.
 */
static int pin(const char *dev)
{
	size_t len = 16 * PG;
	int fd = open_dev(dev), pfd[2];
	struct iovec iov;
	char *p = map(fd, len), *out = malloc(len);
	size_t got = 0;
	ssize_t n;

	if (p == MAP_FAILED || !out || pipe(pfd))
		return 2;
	pat_fill(p, len, 5, 0);
	iov.iov_base = p;
	iov.iov_len = len;
	if (vmsplice(pfd[1], &iov, 1, 0) != (ssize_t)len)
		return 3;
	munmap(p, len);
	close(fd);
	printf("PINNED\n");
	fflush(stdout);
	wait_usr1();
	while (got < len && (n = read(pfd[0], out + got, len - got)) > 0)
		got += n;
	return got == len && pat_check(out, len, 5, 0) < 0 ? 0 : 1;
}

/* FNV-1a: enough to tell two buffers apart. */
static uint64_t digest(const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int same(const char *path, const char *nvme)
{
	size_t len = 4 * MiB;
	int fd = open_dev(path), nfd = open_nvme(nvme);
	char *p = map(fd, len), *ram;
	ssize_t n;

	if (p == MAP_FAILED || posix_memalign((void **)&ram, PG, len)) {
		tap(0, "[%s] mmap 4 MiB: %s", path, strerror(errno));
		return 1;
	}
	n = pread(nfd, p, len, 8 * MiB);
	tap(n == (ssize_t)len && pat_check(p, len, 1, 8 * MiB) < 0,
	    "[%s] O_DIRECT read of 4 MiB lands intact (n=%zd)", path, n);
	printf("DIGEST %016llx\n", (unsigned long long)digest((void *)p, len));
	pat_fill(p, len, 9, 0);
	n = pwrite(nfd, p, len, 20 * MiB);
	tap(n == (ssize_t)len && pread(nfd, ram, len, 20 * MiB) == (ssize_t)len &&
	    pat_check(ram, len, 9, 0) < 0,
	    "[%s] O_DIRECT write of 4 MiB reads back intact (n=%zd)", path, n);
	munmap(p, len);
	close(fd);
	close(nfd);
	free(ram);
	return failures ? 1 : 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The BAR page frame behind each page of @p (0 where there is none). */
static void frames(const char *p, size_t len, unsigned long long *pfn)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	size_t i;

	for (i = 0; i < len / PG; i++) {
		unsigned long long e = 0;

		pread(fd, &e, 8, ((unsigned long)p / PG + i) * 8);
		pfn[i] = e >> 63 ? e & ((1ULL << 55) - 1) : 0;
	}
	close(fd);
}

static int all_zero64(const volatile uint64_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * Pages go back to the pool with whatever their last user wrote; the next
 * user must see zeros however it first reaches them: a device reading the
 * buffer through O_DIRECT before the CPU ever touched it, a read fault in
 * the middle of the buffer, the fault-around after it.
 */
static int zero(const char *dev, const char *nvme)
{
	size_t len = MiB, i, reused = 0;
	unsigned long long a[MiB / PG], b[MiB / PG];
	int fd = open_dev(dev);
	char *p = map(fd, len), *ram;
	ssize_t n;

	if (p == MAP_FAILED) {
		tap(0, "zero: mmap 1 MiB of %s: %s", dev, strerror(errno));
		return 1;
	}
	pat_fill(p, len, 11, 0);
	frames(p, len, a);
	munmap(p, len);

	p = map(fd, len);
	if (nvme) {
		int nfd = open_nvme(nvme);

		if (posix_memalign((void **)&ram, PG, len))
			exit(2);
		memset(ram, 0xee, len);
		n = pwrite(nfd, p, len / 2, 28 * MiB);
		tap(n == (ssize_t)len / 2 && pread(nfd, ram, len / 2, 28 * MiB) == n &&
		    all_zero(ram, len / 2),
		    "zero: an NVMe reading an untouched buffer of %s by O_DIRECT reads zeros (n=%zd)",
		    dev, n);
		free(ram);
		close(nfd);
	}
	tap(all_zero64((uint64_t *)(p + len / 2 + 3 * PG), PG) && all_zero64((uint64_t *)p, len),
	    "zero: the CPU reads zeros in pages the previous user of %s filled", dev);
	frames(p, len, b);
	for (i = 0; i < len / PG; i++)
		reused += a[i] && a[i] == b[i];
	tap(reused == len / PG, "zero: ... and they were the same pages (%zu of %lu)",
	    reused, len / PG);
	munmap(p, len);
	close(fd);
	expect_all_free("the zeroing checks");
	return failures ? 1 : 0;
}

static int uring_register(void *buf, size_t len);
static void expect_pin(const char *what, int got, const char *want);

/* Minor faults this process has taken so far. */
static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* How many 2 MiB pieces of @p are one 2 MiB-aligned run of BAR frames. */
static size_t pmd_runs(const char *p, size_t len)
{
	size_t per = 2 * MiB / PG, n = len / PG, i, k, runs = 0;
	unsigned long long *pfn = calloc(n, sizeof(*pfn));

	if (!pfn)
		exit(2);
	frames(p, len, pfn);
	for (i = 0; i + per <= n; i += per) {
		for (k = 1; k < per && pfn[i + k] == pfn[i] + k; k++)
			;
		runs += pfn[i] && !(pfn[i] % per) && k == per;
	}
	free(pfn);
	return runs;
}

/*
 * Read all of /proc/self/smaps (its walk reaches every PMD, through
 * follow_trans_huge_pmd() with its DEBUG_VM checks) and print the Rss of
 * the mapping at @p.  5.10 to 6.12 count a device PMD as 4 KiB in Rss,
 * so the value is shown, not judged.
 */
static void smaps_rss(const char *p)
{
	char line[256], want[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	int in = 0, lines = 0;
	long rss = -1;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	while (f && fgets(line, sizeof(line), f)) {
		lines++;
		if (strchr(line, '-') && strchr(line, ' ') &&
		    strchr(line, '-') < strchr(line, ' '))
			in = !strncmp(line, want, strlen(want));
		else if (in && !strncmp(line, "Rss:", 4))
			rss = strtol(line + 4, NULL, 10);
	}
	if (f)
		fclose(f);
	tap(lines > 0 && rss >= 0,
	    "huge: /proc/self/smaps reads with the 64 MiB mapped (its Rss shows %ld kB)",
	    rss);
}

/* Touch (write) one byte in every page of @p. */
static void touch(volatile char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += PG)
		p[off] = 1;
}

/*
 * 2 MiB mappings: a buffer of 64 MiB is mapped a 2 MiB at a time (PMDs
 * where the native backend may use them, 4 KiB PTEs elsewhere), so that
 * touching all of it costs at most 64 faults (issue 13; 4 KiB PTEs with
 * 64 KiB fault-around cost 1024).  What a PMD must not break: the buffer keeps its pages
 * (MADV_DONTNEED, partial munmap splitting a PMD), mremap moves or splits
 * it, a child after fork faults it back in, O_DIRECT reaches it through
 * GUP (fast path on a mapped PMD, slow path on an unmapped one).
 */
static const char *pte_cache(const void *p, char *out, size_t len);

/* The device's backend ("native", "kernel"), without its newline. */
static void read_backend(char *backend, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/backend", sysdir);
	f = fopen(path, "r");
	if (!f || !fgets(backend, len, f))
		exit(2);
	fclose(f);
	backend[strcspn(backend, "\n")] = 0;
}

/* Is the running kernel MAJOR.MINOR or later? */
static int kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma, mi;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		exit(2);
	return ma > major || (ma == major && mi >= minor);
}

/*
 * Whether the module maps a whole 2 MiB with one PMD here: the native
 * backend on 6.5+, where every page-table walker knows devmap PMDs
 * (p2pmem/compat.h, README "2 MiB mappings").
 */
static int maps_pmds(const char *backend)
{
	return !strcmp(backend, "native") && kernel_at_least(6, 5);
}

static int huge(const char *dev, const char *uring, const char *nvme)
{
	const size_t len = 64 * MiB, H = 2 * MiB;
	int fd = open_dev(dev), native, pmds, st;
	char backend[32] = "";
	char *p, *q, *r, *hole;
	long before, faults;
	size_t runs;
	pid_t pid;

	read_backend(backend, sizeof(backend));
	native = !strcmp(backend, "native");
	pmds = maps_pmds(backend);
	if (sysfs_num("available") < len) {
		tap(0, "huge: %s has 64 MiB free (%llu)", dev, sysfs_num("available"));
		return 1;
	}

	p = map(fd, len);
	if (p == MAP_FAILED) {
		tap(0, "huge: mmap 64 MiB of %s: %s", dev, strerror(errno));
		return 1;
	}
	before = minflt();
	touch(p, len);
	faults = minflt() - before;
	/* PMDs only where the mm's walkers know devmap PMDs (see README). */
	if (pmds)
		tap(!((unsigned long)p % H), "huge: a 64 MiB mapping starts 2 MiB-aligned (%p)", p);
	tap(faults <= 64, "huge: writing every page of 64 MiB takes at most 64 faults (%ld, %s backend)",
	    faults, backend);
	smaps_rss(p);
	runs = pmd_runs(p, len);
	tap(!native || runs == len / H,
	    "huge: every 2 MiB of the mapping is one aligned run of BAR frames (%zu of %zu)",
	    runs, len / H);
	pat_fill(p, len, 21, 0);
	tap(pat_check(p, len, 21, 0) < 0, "huge: 64 MiB written through PMDs read back");

	/* The buffer, not the PMD, holds the memory. */
	madvise(p + 2 * H, H, MADV_DONTNEED);
	tap(pat_check(p, len, 21, 0) < 0, "huge: data survives MADV_DONTNEED of a PMD");

	/*
	 * MADV_COLD and MADV_PAGEOUT walk file mappings' page tables: on 5.10
	 * and 6.1 their walker takes a devmap PMD for a bad page table and
	 * clears it ("bad pmd" in dmesg, no TLB flush).  Nothing may change.
	 */
	before = minflt();
	tap(!madvise(p, 4 * H, MADV_COLD) && !madvise(p + 4 * H, 4 * H, MADV_PAGEOUT) &&
	    pat_check(p, 8 * H, 21, 0) < 0,
	    "huge: MADV_COLD and MADV_PAGEOUT of 16 MiB keep the data");
	faults = minflt() - before;
	tap(faults == 0, "huge: ... and its mappings (%ld faults to read it back)", faults);

	/* Half a PMD unmapped: the PMD splits, the other half keeps its data. */
	munmap(p + 4 * H + H / 2, H / 2);
	tap(pat_check(p + 4 * H, H / 2, 21, 4 * H) < 0 &&
	    pat_check(p + 5 * H, H, 21, 5 * H) < 0,
	    "huge: unmapping half a PMD keeps the other half and the next PMD");
	tap(sysfs_num("allocated") == len, "huge: ... and the buffer's pages");

	/* mremap: to a 2 MiB-aligned address (moves the PMD), then to one that is not. */
	hole = mmap(NULL, 8 * H, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED)
		exit(2);
	q = (char *)(((unsigned long)hole + H - 1) & ~(H - 1));
	r = mremap(p + 6 * H, H, H, MREMAP_MAYMOVE | MREMAP_FIXED, q);
	tap(r == q && pat_check(q, H, 21, 6 * H) < 0,
	    "huge: mremap of a PMD to an aligned address keeps the data");
	r = mremap(q, H, H, MREMAP_MAYMOVE | MREMAP_FIXED, q + 2 * H + PG);
	tap(r == q + 2 * H + PG && pat_check(r, H, 21, 6 * H) < 0,
	    "huge: mremap of it to an unaligned address keeps the data");
	pat_fill(r, H, 22, 0);
	tap(pat_check(p + 7 * H, H, 21, 7 * H) < 0 && pat_check(r, H, 22, 0) < 0,
	    "huge: writes through the moved mapping stay in its pages");
	munmap(hole, 8 * H);	/* and r, which is inside it */

	/* fork: the child faults the PMDs back in and writes; the parent sees it. */
	pid = fork();
	if (!pid) {
		pat_fill(p + 8 * H, 4 * H, 23, 0);
		_exit(pat_check(p + 12 * H, H, 21, 12 * H) < 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	tap(WIFEXITED(st) && !WEXITSTATUS(st) && pat_check(p + 8 * H, 4 * H, 23, 0) < 0,
	    "huge: after fork the child's writes to PMDs reach the parent");

	/* Long-term pins (FOLL_LONGTERM, slow GUP) and short ones through PMDs. */
	if (native) {
		int pfd[2];
		struct iovec iov = { p + 13 * H + H / 2, 64 * 1024 };
		char *got = malloc(64 * 1024);

		expect_pin("huge: io_uring fixed-buffer registration of 4 MiB of PMD-mapped memory",
			   uring_register(p + 12 * H, 2 * H), uring);
		if (!got || pipe(pfd))
			exit(2);
		tap(vmsplice(pfd[1], &iov, 1, 0) == 64 * 1024 &&
		    read(pfd[0], got, 64 * 1024) == 64 * 1024 &&
		    pat_check(got, 64 * 1024, 21, 13 * H + H / 2) < 0,
		    "huge: vmsplice of 64 KiB inside a PMD carries its bytes");
		close(pfd[0]);
		close(pfd[1]);
		free(got);
	}

	if (nvme) {
		int nfd = open_nvme(nvme);
		ssize_t n;
		long bad;

		/* GUP fast path: the PMDs are mapped. */
		n = pread(nfd, p + 16 * H, 4 * MiB, 0);
		bad = pat_check(p + 16 * H, 4 * MiB, 1, 0);
		tap(n == 4 * MiB && bad < 0,
		    "huge: O_DIRECT read into PMD-mapped memory (n=%zd, first bad byte %ld)",
		    n, bad);
		/* 16 MiB of the namespace is scratch (test_dio writes it too). */
		pat_fill(p + 18 * H, 4 * MiB, 25, 0);
		n = pwrite(nfd, p + 18 * H, 4 * MiB, 16 * MiB);
		if (n == 4 * MiB)
			n = pread(nfd, p + 16 * H, 4 * MiB, 16 * MiB);
		tap(n == 4 * MiB && pat_check(p + 16 * H, 4 * MiB, 25, 0) < 0,
		    "huge: O_DIRECT write from PMD-mapped memory reads back (n=%zd)", n);
		close(nfd);
	}
	munmap(p, len);
	wait_all_free("the huge mappings");

	/*
	 * Write, have the kernel write-protect the PMDs (soft-dirty
	 * tracking: "4" to /proc/self/clear_refs), then write again: the
	 * write comes back to ->huge_fault for a present PMD to make
	 * writable; the 2 MiB must stay one PMD (not be split into 4 KiB
	 * pages).
	 */
	if (pmds) {
		char a[32];
		volatile char *v;

		p = map(fd, 2 * H);
		if (p == MAP_FAILED)
			exit(2);
		v = p;
		int cr = open("/proc/self/clear_refs", O_WRONLY);

		for (size_t i = 0; i < 2 * H; i += PG)
			v[i] = 1;
		if (cr < 0 || write(cr, "4", 1) != 1)
			exit(2);
		close(cr);
		before = minflt();
		touch(p, 2 * H);
		faults = minflt() - before;
		pte_cache(p + H / 2, a, sizeof(a));
		tap(!strcmp(a, "2M UC-") && faults >= 1,
		    "huge: writing 4 MiB write-protected for soft-dirty tracking keeps its PMDs (%s, %ld faults)",
		    a, faults);
		munmap(p, 2 * H);
		wait_all_free("the read-then-written mapping");
	}

	/* GUP slow path: nothing mapped yet, GUP faults the PMDs in. */
	if (nvme) {
		int nfd = open_nvme(nvme);
		ssize_t n;

		p = map(fd, len);
		n = pread(nfd, p + 2 * H, 4 * MiB, 4 * MiB);
		tap(n == 4 * MiB && pat_check(p + 2 * H, 4 * MiB, 1, 4 * MiB) < 0 &&
		    all_zero64((uint64_t *)p, 2 * H),
		    "huge: O_DIRECT read into untouched 2 MiB-mapped memory (n=%zd)", n);
		munmap(p, len);
		close(nfd);
		wait_all_free("O_DIRECT into huge mappings");
	}

	/* A fragmented pool and a tail: PMDs where they fit, 4 KiB elsewhere. */
	q = map(fd, PG);
	if (q == MAP_FAILED)
		exit(2);
	q[0] = 1;
	p = map(fd, len - 2 * H + 3 * PG);
	tap(p != MAP_FAILED, "huge: a 60 MiB + 12 KiB mapping after a 4 KiB one");
	if (p != MAP_FAILED) {
		tap(all_zero64((uint64_t *)p, len - 2 * H + 3 * PG),
		    "huge: ... reads zeros everywhere");
		pat_fill(p, len - 2 * H + 3 * PG, 24, 0);
		tap(pat_check(p, len - 2 * H + 3 * PG, 24, 0) < 0,
		    "huge: ... and keeps what is written");
		munmap(p, len - 2 * H + 3 * PG);
	}
	munmap(q, PG);
	close(fd);
	wait_all_free("the fragmented huge mappings");
	return failures ? 1 : 0;
}

/*
 * Leave every free page of @dev dirty: map it all, write it, unmap it.
 * Once "available" is back every page has come back, dirty.  Then the
 * marker, and one more page back: whatever the background zeroing had
 * done by then, it runs again after the marker, and what it says then is
 * about all the pages.
 */
static int fill(const char *dev)
{
	size_t len = sysfs_num("available") & ~(PG - 1);
	int fd = open_dev(dev), k;
	char *p = map(fd, len);

	tap(p != MAP_FAILED, "fill: map the %zu free bytes of %s", len, dev);
	if (p == MAP_FAILED)
		return 1;
	memset(p, 0x5a, len);
	munmap(p, len);
	wait_all_free("fill");
	k = open("/dev/kmsg", O_WRONLY);
	if (k < 0 || write(k, "p2pmem_test: filled\n", 20) != 20)
		exit(2);
	close(k);
	p = map(fd, PG);
	if (p == MAP_FAILED)
		exit(2);
	p[0] = 1;
	munmap(p, PG);
	close(fd);
	wait_all_free("fill and one more page");
	return failures ? 1 : 0;
}

/* mmap() and touch @len of @fd (anonymous RAM for -1): times in ms. */
static char *map_touch(int fd, size_t len, double *t_map, double *t_touch)
{
	double t0 = now_ms();
	char *p = fd < 0 ? mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : map(fd, len);

	*t_map = now_ms() - t0;
	if (p == MAP_FAILED)
		return p;
	t0 = now_ms();
	touch(p, len);
	*t_touch = now_ms() - t0;
	return p;
}

/*
 * A warm pool (every free page zeroed in the background) hands out pages
 * that need no zeroing: mmap() and touching 64 MiB cost about what
 * anonymous RAM does.  The times are printed, not judged (a shared host
 * under TCG); whether any page was zeroed at fault is judged by the
 * section from the module's debug messages.
 */
static int warm(const char *dev)
{
	const size_t len = 64 * MiB;
	double pm, pt, am, at;
	int fd = open_dev(dev);
	char *p, *a;
	size_t off;
	int zero = 1;

	p = map_touch(fd, len, &pm, &pt);
	if (p == MAP_FAILED) {
		tap(0, "warm: mmap 64 MiB of %s: %s", dev, strerror(errno));
		return 1;
	}
	/* touch() wrote one byte a page: the rest must read zero. */
	for (off = 0; off < len && zero; off += PG)
		zero = p[off] == 1 && all_zero(p + off + 1, PG - 1);
	tap(zero, "warm: 64 MiB from a warm pool reads zeros");
	a = map_touch(-1, len, &am, &at);
	if (a == MAP_FAILED)
		exit(2);
	printf("# warm: mmap %.2f ms (anonymous RAM %.2f ms, %.1fx), mmap + touch %.1f ms (anonymous RAM %.1f ms, %.2fx)\n",
	       pm, am, am > 0 ? pm / am : 0, pm + pt, am + at,
	       am + at > 0 ? (pm + pt) / (am + at) : 0);
	munmap(a, len);
	munmap(p, len);
	close(fd);
	wait_all_free("warm");
	return failures ? 1 : 0;
}

/* Map all that is available of @dev and read a byte of every page. */
static void map_and_touch(const char *dev, int ready)
{
	size_t len = sysfs_num("available") & ~(PG - 1), off;
	int fd = open_dev(dev);
	volatile char *p;
	char sum = 0;

	if (write(ready, "m", 1) != 1)
		_exit(2);
	p = map(fd, len);
	if (p == MAP_FAILED)
		_exit(errno == ENODEV ? 43 : 3);
	signal(SIGBUS, on_bus);
	if (sigsetjmp(bus_jmp, 1))
		_exit(42);
	for (;;)
		for (off = 0; off < len; off += PG)
			sum += p[off];
}

/* Fork a map_and_touch() child; return once it is about to call mmap(). */
static pid_t start_toucher(const char *dev)
{
	int pfd[2];
	pid_t pid;
	char c;

	if (pipe(pfd))
		exit(2);
	pid = fork();
	if (!pid)
		map_and_touch(dev, pfd[1]);
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1)
		exit(2);
	close(pfd[0]);
	return pid;
}

/*
 * Handing out a large buffer means zeroing it through an uncached map of
 * the BAR, one bus write at a time.  That must neither keep a killed
 * process from dying nor hold up everything else in the meantime.
 */
static int kill_toucher(const char *dev)
{
	unsigned long long avail = sysfs_num("available");
	double t0;
	pid_t pid = start_toucher(dev);
	int st;

	usleep(200000);
	t0 = now_ms();
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	t0 = now_ms() - t0;
	tap(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && t0 < 1000,
	    "a process mapping and touching %llu MiB of %s dies within 1 s of SIGKILL (%.0f ms)",
	    avail / MiB, dev, t0);
	wait_all_free("the killed process");
	return failures ? 1 : 0;
}

static int zap(const char *dev, const char *unbind, const char *pci)
{
	unsigned long long avail = sysfs_num("available");
	pid_t pid = start_toucher(dev);
	double t0;
	int fd, st;

	usleep(200000);
	t0 = now_ms();
	fd = open(unbind, O_WRONLY);
	st = fd >= 0 && write(fd, pci, strlen(pci)) == (ssize_t)strlen(pci);
	if (fd >= 0)
		close(fd);
	t0 = now_ms() - t0;
	tap(st && t0 < 2000, "unbinding %s while a process maps and touches %llu MiB of %s takes under 2 s (%.0f ms)",
	    pci, avail / MiB, dev, t0);
	waitpid(pid, &st, 0);
	tap(WIFEXITED(st) && (WEXITSTATUS(st) == 42 || WEXITSTATUS(st) == 43),
	    "... and that process got SIGBUS or ENODEV (status 0x%x)", st);
	return failures ? 1 : 0;
}

static int uring_register(void *buf, size_t len)
{
	struct io_uring_params params;
	struct iovec iov = { buf, len };
	int ring, ret;

	memset(&params, 0, sizeof(params));
	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0)
		return -errno;
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1);
	ret = ret < 0 ? -errno : 0;
	close(ring);
	return ret;
}

/* What a pinner got (0 or -errno) against what the kernel should give. */
static void expect_pin(const char *what, int got, const char *want)
{
	int err = !strcmp(want, "EREMOTEIO") ? EREMOTEIO :
		  !strcmp(want, "EOPNOTSUPP") ? EOPNOTSUPP : 0;

	if (!err)
		tap(got == 0, "%s succeeds on p2pmem pages (%s)", what,
		    got ? strerror(-got) : "ok");
	else
		tap(got == -err, "%s is refused cleanly with %s (%s)", what,
		    want, got ? strerror(-got) : "succeeded");
}

static int gup(const char *dev, const char *want_uring, const char *want_splice)
{
	size_t len = 16 * PG;
	int fd = open_dev(dev), pfd[2];
	struct iovec iov;
	char *p = map(fd, len);
	ssize_t n;

	if (p == MAP_FAILED || pipe(pfd))
		return 2;
	memset(p, 1, len);
	expect_pin("io_uring fixed-buffer registration", uring_register(p, len), want_uring);
	iov.iov_base = p;
	iov.iov_len = len;
	n = vmsplice(pfd[1], &iov, 1, 0);
	expect_pin("vmsplice into a pipe", n < 0 ? -errno : 0, want_splice);
	close(pfd[0]);
	close(pfd[1]);
	munmap(p, len);
	close(fd);
	wait_all_free("the pinners let go");
	return failures ? 1 : 0;
}

/*
 * Race the device's removal.  The only acceptable ends are the documented
 * ones: open/mmap fail with ENODEV (or ENOENT once the node is gone), a
 * revoked mapping raises SIGBUS, O_DIRECT into a revoked mapping fails with
 * EFAULT.  Exit 0 when the device is gone after at least one full round,
 * 1 on anything else.
 */
/* The route word of a verdict line ("0000:02:00.0 direct distance=4 ..."). */
static unsigned int route_of(const char *verdict)
{
	const char *w = strchr(verdict, ' ');

	if (!w)
		return 0;
	w++;
	if (!strncmp(w, "direct ", 7))
		return P2PMEM_REACH_DIRECT;
	if (!strncmp(w, "host-bridge ", 12))
		return P2PMEM_REACH_HOST_BRIDGE;
	if (!strncmp(w, "unsupported ", 12))
		return P2PMEM_REACH_UNSUPPORTED;
	return 0;
}

/* ioctl(P2PMEM_IOC_REACH) on @q; 0 or the errno. */
static int ask(const char *dev, void *q)
{
	int fd = open_dev(dev), ret;

	ret = ioctl(fd, P2PMEM_IOC_REACH, q) ? errno : 0;
	close(fd);
	return ret;
}

static const char *errname(int e)
{
	return e ? strerrorname_np(e) ?: "?" : "ok";
}

/*
 * The kernel fills the reply on its stack: whatever it does not write there
 * is stale kernel memory.  The struct goes in zeroed, so every non-zero byte
 * past the verdict's NUL came from the kernel without being part of the
 * answer.  Then the size convention: a smaller struct than the first
 * version's is refused, a bigger one is fine while the part the kernel does
 * not know is zero, and only the kernel's own size comes back.
 */
static int leak(const char *dev, const char *pci)
{
	struct {
		struct p2pmem_reach_query q;
		char tail[16];
	} big;
	struct p2pmem_reach_query q;
	const char *end = (const char *)(&q + 1);
	const char *p, *d;
	int ret, stale = 0;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	snprintf(q.pci, sizeof(q.pci), "%s", pci);
	ret = ask(dev, &q);
	tap(!ret, "P2PMEM_IOC_REACH about %s answers (%s)", pci, errname(ret));
	if (ret)
		return 1;
	p = memchr(q.verdict, 0, sizeof(q.verdict));
	tap(p != NULL, "... with a NUL-terminated verdict");
	if (!p)
		return 1;
	for (p++; p < end; p++)
		stale += *p != 0;
	tap(!stale, "... and no stale bytes after it (%d non-zero of %d)",
	    stale, (int)(end - strchr(q.verdict, 0) - 1));
	tap(q.size == sizeof(q), "... size says %u bytes came back (want %zu)",
	    q.size, sizeof(q));
	tap(q.route && q.route == route_of(q.verdict),
	    "... route %u is the verdict's: %.60s", q.route, q.verdict);
	d = strstr(q.verdict, " distance=");
	if (q.route == P2PMEM_REACH_UNSUPPORTED)
		tap(q.distance == -1 && !d, "... distance -1 when unsupported (%d)",
		    q.distance);
	else
		tap(d && atoi(d + 10) == q.distance,
		    "... distance %d is the verdict's", q.distance);
	tap(!q.reason == (q.route == P2PMEM_REACH_DIRECT),
	    "... a reason (%u) exactly when not direct", q.reason);

	memset(&big, 0, sizeof(big));
	big.q.size = sizeof(big);
	snprintf(big.q.pci, sizeof(big.q.pci), "%s", pci);
	ret = ask(dev, &big);
	tap(!ret && big.q.size == sizeof(big.q) &&
	    !memcmp(&big.q, &q, sizeof(q)) && all_zero(big.tail, sizeof(big.tail)),
	    "a bigger struct with a zero tail gets the same answer, the tail untouched (%s, size %u)",
	    errname(ret), big.q.size);
	memset(&big, 0, sizeof(big));
	big.q.size = sizeof(big);
	big.tail[5] = 1;
	snprintf(big.q.pci, sizeof(big.q.pci), "%s", pci);
	ret = ask(dev, &big);
	tap(ret == E2BIG, "... but E2BIG when the tail is not zero (%s)", errname(ret));
	memset(&q, 0, sizeof(q));
	q.size = P2PMEM_REACH_QUERY_SIZE_VER0 - 4;
	snprintf(q.pci, sizeof(q.pci), "%s", pci);
	ret = ask(dev, &q);
	tap(ret == EINVAL, "a struct smaller than the first version's: EINVAL (%s)",
	    errname(ret));
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.flags = 1;
	snprintf(q.pci, sizeof(q.pci), "%s", pci);
	ret = ask(dev, &q);
	tap(ret == EINVAL, "unknown flags: EINVAL (%s)", errname(ret));
	return failures ? 1 : 0;
}

static int reach(const char *dev, const char *name)
{
	struct p2pmem_reach_query q;
	int ret;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	snprintf(q.pci, sizeof(q.pci), "%s", name);
	ret = ask(dev, &q);
	if (ret) {
		printf("%s\n", errname(ret));
		return 1;
	}
	printf("%.*s\n", (int)strcspn(q.verdict, "\n"), q.verdict);
	return 0;
}

static int churn_end(unsigned long rounds, const char *how, int good)
{
	printf("churn %d: %lu rounds, ended by %s\n", getpid(), rounds, how);
	fflush(stdout);
	return good && rounds > 0 ? 0 : 1;
}

static int churn(const char *dev, const char *nvme)
{
	int nfd = open_nvme(nvme);
	unsigned int seed = getpid();
	unsigned long rounds;

	signal(SIGBUS, on_bus);
	for (rounds = 0; rounds < 1000000; rounds++) {
		size_t len = (1 + rand_r(&seed) % 64) * PG;
		volatile char *p;
		ssize_t n;
		int fd;

		fd = open(dev, O_RDWR);
		if (fd < 0)
			return churn_end(rounds, strerror(errno),
					 errno == ENODEV || errno == ENOENT);
		p = map(fd, len);
		if (p == MAP_FAILED) {
			n = errno;
			close(fd);
			if (n != ENOMEM)
				return churn_end(rounds, strerror(n), n == ENODEV);
			continue;
		}
		if (sigsetjmp(bus_jmp, 1)) {
			munmap((void *)p, len);
			close(fd);
			return churn_end(rounds, "SIGBUS", 1);
		}
		p[0] = 1;
		p[len - 1] = 2;
		if (rounds % 4 == 0) {
			n = pread(nfd, (void *)p, len, 0);
			if (n < 0 && errno != EFAULT)
				return churn_end(rounds, strerror(errno), 0);
		}
		munmap((void *)p, len);
		close(fd);
	}
	return churn_end(rounds, "running out of rounds", 0);
}

/*
 * An NVMe controller's registers through sysfs resource0, as a user-space
 * driver sees them.  Only for a controller no kernel driver has claimed
 * BAR 0 of (uio_pci_generic does not request its regions).
 */
#define NVME_CAP	0x00
#define NVME_CC		0x14
#define NVME_CSTS	0x1c
#define NVME_AQA	0x24
#define NVME_ASQ	0x28
#define NVME_ACQ	0x30
#define NVME_CMBLOC	0x38
#define NVME_CMBSZ	0x3c
#define NVME_CMBMSC	0x50
#define NVME_REGS_LEN	0x1000

static volatile uint32_t *nvme_map(const char *bdf)
{
	char path[256];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		perror(path);
		exit(2);
	}
	p = mmap(NULL, NVME_REGS_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap resource0");
		exit(2);
	}
	close(fd);
	return p;
}

static uint32_t rd32(volatile uint32_t *r, unsigned int off)
{
	return r[off / 4];
}

static void wr32(volatile uint32_t *r, unsigned int off, uint32_t v)
{
	r[off / 4] = v;
}

/* 64-bit registers in two halves, low first, as the spec allows. */
static uint64_t rd64(volatile uint32_t *r, unsigned int off)
{
	return rd32(r, off) | (uint64_t)rd32(r, off + 4) << 32;
}

static void wr64(volatile uint32_t *r, unsigned int off, uint64_t v)
{
	wr32(r, off, (uint32_t)v);
	wr32(r, off + 4, v >> 32);
}

/* Wait for CSTS.RDY == @rdy, up to CAP.TO (500 ms units), at most 10 s. */
static int nvme_wait_rdy(volatile uint32_t *r, int rdy)
{
	unsigned int to = (rd64(r, NVME_CAP) >> 24) & 0xff, i;

	if (!to || to > 20)
		to = 20;
	for (i = 0; i < to * 50; i++) {
		uint32_t csts = rd32(r, NVME_CSTS);

		if (csts != ~0U && (int)(csts & 1) == rdy)
			return 0;
		usleep(10000);
	}
	fprintf(stderr, "CSTS.RDY did not become %d (CSTS 0x%x)\n", rdy,
		rd32(r, NVME_CSTS));
	return 1;
}

static int nvme_disable(const char *bdf)
{
	volatile uint32_t *r = nvme_map(bdf);

	wr32(r, NVME_CC, 0);
	return nvme_wait_rdy(r, 0);
}

/*
 * Bring the controller up as a user-space driver would that does not use
 * the CMB: CMBMSC 0 (CMB registers and decoding off).  The admin queues
 * point at two arbitrary page-aligned addresses: the controller only ever
 * reads them for commands, and none is submitted (no doorbell is written,
 * and bus mastering stays off).
 */
static int nvme_enable(const char *bdf)
{
	volatile uint32_t *r = nvme_map(bdf);

	wr32(r, NVME_CC, 0);
	if (nvme_wait_rdy(r, 0))
		return 1;
	wr64(r, NVME_CMBMSC, 0);
	wr32(r, NVME_AQA, 31 << 16 | 31);	/* 32 entries each */
	wr64(r, NVME_ASQ, 0x100000);
	wr64(r, NVME_ACQ, 0x101000);
	/* IOCQES 16 bytes, IOSQES 64 bytes, 4 KiB pages, NVM command set. */
	wr32(r, NVME_CC, 4 << 20 | 6 << 16 | 1);
	return nvme_wait_rdy(r, 1);
}

static int nvme_regs(const char *bdf)
{
	volatile uint32_t *r = nvme_map(bdf);

	printf("CMBLOC=0x%08x CMBSZ=0x%08x CMBMSC=0x%016llx\n",
	       rd32(r, NVME_CMBLOC), rd32(r, NVME_CMBSZ),
	       (unsigned long long)rd64(r, NVME_CMBMSC));
	return 0;
}

/* ---- write-combining mappings (issue 13 part 3) --------------------------- */

#define PTE_CACHE "/sys/kernel/debug/p2pmem/pte_cache"

/*
 * The cache type of the PTE or PMD that maps @p in this process, as the
 * module's debugfs test aid reports it: "4K WC", "2M UC-", "none"; or why
 * it could not be asked.
 */
static const char *pte_cache(const void *p, char *out, size_t len)
{
	int fd = open(PTE_CACHE, O_RDWR);
	char addr[32];
	ssize_t n;

	if (fd < 0) {
		snprintf(out, len, "%s: %s", PTE_CACHE, strerror(errno));
		return out;
	}
	snprintf(addr, sizeof(addr), "%#lx\n", (unsigned long)p);
	if (write(fd, addr, strlen(addr)) < 0) {
		snprintf(out, len, "write %s: %s", PTE_CACHE, strerror(errno));
	} else {
		n = pread(fd, out, len - 1, 0);
		if (n < 0)
			snprintf(out, len, "read %s: %s", PTE_CACHE, strerror(errno));
		else
			out[strcspn(out, "\n")] = out[n] = 0;
	}
	close(fd);
	return out;
}

static int set_caching(int fd, unsigned int mode)
{
	__u32 m = mode;

	return ioctl(fd, P2PMEM_IOC_SET_CACHING, &m) ? errno : 0;
}

/*
 * P2PMEM_IOC_SET_CACHING: a file's mappings are uncached unless it asks for
 * write-combining before its first mmap().  The PTEs then carry the WC type
 * (x86 PAT, read back through the module's debugfs aid) at every page,
 * also after mprotect, mremap and MADV_DONTNEED, and are 4 KiB ones (a PMD
 * would get the range's UC- type).  The CPU stores, fenced, reach the
 * memory, and so do O_DIRECT (GUP faulting the WC PTEs in) and the NVMe's
 * reads of what the CPU wrote there.
 */
static int wc(const char *dev, const char *nvme)
{
	const size_t len = 4 * MiB + 3 * PG, H = 2 * MiB;
	int fd = open_dev(dev), e, nfd, st;
	char backend[32] = "", a[64], b[64], c[64];
	char *p, *q, *ram;
	long before, faults;
	ssize_t n;

	read_backend(backend, sizeof(backend));

	e = set_caching(fd, 7);
	tap(e == EINVAL, "wc: an unknown caching mode is refused with EINVAL (%s)",
	    errname(e));
	e = ioctl(fd, P2PMEM_IOC_SET_CACHING, (void *)16) ? errno : 0;
	tap(e == EFAULT, "wc: a bad pointer is refused with EFAULT (%s)", errname(e));

	/* The default (this file never chose): not write-combining. */
	p = map(fd, len);
	if (p == MAP_FAILED) {
		tap(0, "wc: mmap of 4 MiB + 12 KiB: %s", strerror(errno));
		return 1;
	}
	touch(p, len);
	pte_cache(p, a, sizeof(a));
	pte_cache(p + len - PG, b, sizeof(b));
	if (maps_pmds(backend))
		tap(!strcmp(a, "2M UC-"),
		    "wc: by default a whole 2 MiB is one PMD of the range's type, UC- (%s)", a);
	else
		tap(!strcmp(a, "4K UC-"), "wc: by default 4 KiB pages are uncached, UC- (%s)", a);
	tap(!strcmp(b, "4K UC-"), "wc: by default the tail's 4 KiB pages are uncached, UC- (%s)", b);
	e = set_caching(fd, P2PMEM_CACHING_WC);
	tap(e == EBUSY, "wc: choosing write-combining after mmap() is refused with EBUSY (%s)",
	    errname(e));
	munmap(p, len);
	e = set_caching(fd, P2PMEM_CACHING_WC);
	tap(e == EBUSY, "wc: ... also once that mapping is gone (%s)", errname(e));
	close(fd);

	/* A file that chose write-combining before its first mmap(). */
	fd = open_dev(dev);
	e = set_caching(fd, P2PMEM_CACHING_WC);
	if (!e)
		e = set_caching(fd, P2PMEM_CACHING_UNCACHED);
	if (!e)
		e = set_caching(fd, P2PMEM_CACHING_WC);
	tap(!e, "wc: write-combining, uncached and write-combining again before mmap() (%s)",
	    errname(e));
	before = minflt();
	p = map(fd, len);
	if (p == MAP_FAILED) {
		tap(0, "wc: mmap of a write-combining 4 MiB + 12 KiB: %s", strerror(errno));
		return 1;
	}
	pat_fill(p, len, 21, 0);
	_mm_sfence();
	faults = minflt() - before;
	pte_cache(p, a, sizeof(a));
	pte_cache(p + H, b, sizeof(b));
	pte_cache(p + len - PG, c, sizeof(c));
	tap(!strcmp(a, "4K WC") && !strcmp(b, "4K WC") && !strcmp(c, "4K WC"),
	    "wc: the PTEs at the start, at 2 MiB and at the last page are write-combining 4 KiB ones (%s, %s, %s)",
	    a, b, c);
	tap(faults <= 4,
	    "wc: writing 4 MiB + 12 KiB of 4 KiB pages takes a fault per 2 MiB at most (%ld faults)",
	    faults);
	tap(pat_check(p, len, 21, 0) < 0, "wc: bytes stored through the WC mapping read back");
	mprotect(p, len, PROT_READ);
	pte_cache(p + PG, a, sizeof(a));
	mprotect(p, len, PROT_READ | PROT_WRITE);
	tap(!strcmp(a, "4K WC"), "wc: mprotect keeps the type (%s)", a);
	q = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q = q == MAP_FAILED ? q : mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, q);
	if (q == MAP_FAILED) {
		tap(0, "wc: mremap: %s", strerror(errno));
		return 1;
	}
	madvise(q, len, MADV_DONTNEED);
	st = pat_check(q, len, 21, 0) < 0;
	pte_cache(q + H, a, sizeof(a));
	tap(st && !strcmp(a, "4K WC"),
	    "wc: moved by mremap, dropped by MADV_DONTNEED, refaulted: same bytes, still WC (%s)",
	    a);
	munmap(q, len);

	if (nvme) {
		nfd = open_nvme(nvme);
		/* GUP's slow path faults the untouched mapping in. */
		p = map(fd, 4 * MiB);
		n = pread(nfd, p, 4 * MiB, 0);
		pte_cache(p + H, a, sizeof(a));
		tap(n == (ssize_t)(4 * MiB) && pat_check(p, 4 * MiB, 1, 0) < 0 &&
		    !strcmp(a, "4K WC"),
		    "wc: O_DIRECT read into an untouched WC mapping (n=%zd, %s)", n, a);
		/* The NVMe reads what the CPU stored, once fenced. */
		pat_fill(p, 4 * MiB, 22, 0);
		_mm_sfence();
		n = pwrite(nfd, p, 4 * MiB, 16 * MiB);
		if (posix_memalign((void **)&ram, PG, 4 * MiB))
			exit(2);
		tap(n == (ssize_t)(4 * MiB) && pread(nfd, ram, 4 * MiB, 16 * MiB) == n &&
		    pat_check(ram, 4 * MiB, 22, 0) < 0,
		    "wc: O_DIRECT write from a WC mapping carries the CPU's fenced stores (n=%zd)", n);
		free(ram);
		munmap(p, 4 * MiB);
		close(nfd);
	}
	close(fd);
	wait_all_free("write-combining mappings");
	return failures ? 1 : 0;
}

/*
 * mmap(MAP_PRIVATE) as a task named @comm, which the module refuses and
 * logs with the task's name: a name is the user's to choose (PR_SET_NAME),
 * newlines included.
 */
static int private_as(const char *dev, const char *comm)
{
	void *p;
	int fd;

	fd = open(dev, O_RDWR);
	if (fd < 0 || prctl(PR_SET_NAME, comm) < 0) {
		perror(dev);
		return 1;
	}
	p = mmap(NULL, 1 << 21, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED || errno != EINVAL) {
		fprintf(stderr, "mmap(MAP_PRIVATE): %s, want EINVAL\n",
			p == MAP_FAILED ? strerror(errno) : "mapped");
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	char *dev, *copy;

	if (argc < 3) {
		fprintf(stderr, "usage: p2pmem_test mmap|dio|proof|hold|excl|pin|churn|same|huge|fill|warm|zero|kill|wc DEV [NVME] | hold DEV MiB | zap DEV UNBIND PCI | gup DEV URING SPLICE | leak|reach DEV PCI | private DEV COMM | nvme-enable|nvme-disable|nvme-regs BDF\n");
		return 2;
	}
	if (!strcmp(argv[1], "nvme-enable"))
		return nvme_enable(argv[2]);
	if (!strcmp(argv[1], "nvme-disable"))
		return nvme_disable(argv[2]);
	if (!strcmp(argv[1], "nvme-regs"))
		return nvme_regs(argv[2]);
	dev = argv[2];
	copy = strdup(dev);
	snprintf(sysdir, sizeof(sysdir), "/sys/class/p2pmem/%s", basename(copy));

	if (!access(sysdir, F_OK))
		avail_at_start = sysfs_num("available");

	if (!strcmp(argv[1], "mmap"))
		test_mmap(dev);
	else if (!strcmp(argv[1], "dio") && argc == 4)
		test_dio(dev, argv[3]);
	else if (!strcmp(argv[1], "proof") && argc == 4)
		test_proof(dev, argv[3]);
	else if (!strcmp(argv[1], "hold") && argc == 3)
		return hold(dev, 8 * PG);
	else if (!strcmp(argv[1], "hold") && argc == 4)
		return hold(dev, strtoul(argv[3], NULL, 0) * MiB);
	else if (!strcmp(argv[1], "excl"))
		return excl(dev);
	else if (!strcmp(argv[1], "pin"))
		return pin(dev);
	else if (!strcmp(argv[1], "churn") && argc == 4)
		return churn(dev, argv[3]);
	else if (!strcmp(argv[1], "same") && argc == 4)
		return same(dev, argv[3]);
	else if (!strcmp(argv[1], "fill"))
		return fill(dev);
	else if (!strcmp(argv[1], "warm"))
		return warm(dev);
	else if (!strcmp(argv[1], "huge") && (argc == 4 || argc == 5))
		return huge(dev, argv[3], argc == 5 ? argv[4] : NULL);
	else if (!strcmp(argv[1], "zero") && (argc == 3 || argc == 4))
		return zero(dev, argc == 4 ? argv[3] : NULL);
	else if (!strcmp(argv[1], "kill"))
		return kill_toucher(dev);
	else if (!strcmp(argv[1], "zap") && argc == 5)
		return zap(dev, argv[3], argv[4]);
	else if (!strcmp(argv[1], "gup") && argc == 5)
		return gup(dev, argv[3], argv[4]);
	else if (!strcmp(argv[1], "leak") && argc == 4)
		return leak(dev, argv[3]);
	else if (!strcmp(argv[1], "reach") && argc == 4)
		return reach(dev, argv[3]);
	else if (!strcmp(argv[1], "private") && argc == 4)
		return private_as(dev, argv[3]);
	else if (!strcmp(argv[1], "wc") && (argc == 3 || argc == 4))
		return wc(dev, argc == 4 ? argv[3] : NULL);
	else
		return 2;
	return failures ? 1 : 0;
}
