// SPDX-License-Identifier: GPL-2.0
/*
 * Stress of /dev/p2pmemN (issue 11, item 3).  Prints one TAP line per check
 * ("ok - ..." / "not ok - ...") and "# " lines with what it did; the host
 * numbers and counts the results.
 *
 *   p2pmem_stress load DEV [--threads T] [--procs P] [--secs S]
 *                 [--nvme NS] [--seed N] [--gone] [--grace G]
 *	P processes of T threads each loop for S seconds, in random orders:
 *	open; mmap of 1 page to 4 MiB (MAP_POPULATE or not); check that every
 *	page of the new buffer reads zero; claim each page's BAR offset
 *	(from /proc/self/pagemap) in a table all processes share, where a
 *	page claimed by two live buffers is a failure; write and verify the
 *	buffer's own pattern; O_DIRECT reads from NS (which holds pattern
 *	seed 1 in its first 16 MiB, see tests/run) into part of a buffer,
 *	verified; MADV_DONTNEED (the data must stay); fork a child that
 *	checks a buffer's data and writes its own into it; munmap, whole or
 *	in two pieces; close, before or after the munmap of what it mapped.
 *	Then "available" must come back to "size".  With NS, one more
 *	thread per process keeps PUMP_QD aio O_DIRECT reads in flight into
 *	a buffer of its own, each checked, and now and then unmaps that
 *	buffer with reads still in flight into it.  Prints "LOADING" once the load
 *	runs (O_DIRECT included when NS is given).
 *	--gone: the provider is taken away under the load (unbind or
 *	hot-unplug, by the caller, after "LOADING").  ENODEV/ENOENT/ENXIO
 *	from open, ENODEV from mmap, SIGBUS on access and EFAULT/EIO from
 *	O_DIRECT are then the expected ends; every process must be done
 *	within G seconds (default 30) of the first thread seeing it.
 *   p2pmem_stress cycles DEV [--count N] [--procs P]
 *	N cycles of mmap 1-4 pages / touch one page (it must read zero) /
 *	munmap, split over P processes (default 1) with one open each; then
 *	"available" must be back to "size".  Reports the time spent in each
 *	step and the context switches per cycle.
 *   p2pmem_stress cycles-anon - [--count N] [--procs P]
 *	the same loop on shared anonymous memory: a baseline of the cost of
 *	the syscalls and faults themselves (under TCG in particular).
 *   p2pmem_stress fork DEV
 *	MAP_PRIVATE is refused (EINVAL); children of a process read its
 *	MAP_SHARED buffer and write their own part, which the parent sees,
 *	its own part intact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/aio_abi.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"
#include "tap.h"

#define PG		4096UL
#define MiB		(1024UL * 1024)
#define MAX_BUFS	4	/* live buffers per thread */
#define MAX_FDS		3	/* open files per thread */
#define MAX_PAGES	1024	/* 4 MiB: the largest buffer */
#define DIO_PAGES	64	/* 256 KiB: the largest O_DIRECT read */
#define DISK_PAGES	(16 * MiB / PG)	/* seed 1 there in every run */
#define CHILD_SEED	0xc41dULL
#define MAX_NOTES	40
#define PUMP_QD		8	/* the pump's O_DIRECT reads in flight */
#define PUMP_PAGES	64	/* 256 KiB each */

static char sysdir[256];
static const char *dev, *nvme;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int sysfs_read(const char *attr, char *buf, size_t len)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", sysdir, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	return ok ? 0 : -1;
}

static unsigned long long sysfs_num(const char *attr)
{
	char buf[64];

	if (sysfs_read(attr, buf, sizeof(buf))) {
		fprintf(stderr, "cannot read %s/%s\n", sysdir, attr);
		exit(2);
	}
	return strtoull(buf, NULL, 0);
}

/* Poll until "available" is "size": frees may complete a little later. */
static int wait_all_free(double *waited)
{
	unsigned long long size = sysfs_num("size");
	double t0 = now_ms();
	int i;

	for (i = 0; i < 100 && sysfs_num("available") != size; i++)
		usleep(100000);
	*waited = now_ms() - t0;
	return sysfs_num("available") == size;
}

/* ---- state shared by every process of a load ------------------------------ */

struct shared {
	uint64_t maps, populated, map_bytes, pages_zero, zero_bad, claims, dup;
	uint64_t verifies, pattern_bad, dio, dio_bytes, dio_bad, inflight;
	uint64_t max_inflight, live, max_live, live_pages, max_live_pages;
	uint64_t reserved, unmaps, split_unmaps, close_first, dontneed;
	uint64_t forks, fork_bad, children, enomem, unexpected, notes, aio;
	uint64_t drops, orphans;
	/* --gone: what ended the load, when, and who was still busy then */
	uint64_t gone_at, gone_how, gone_errno, inflight_at_gone, loading_at;
	uint64_t sigbus, gone_open, gone_mmap, gone_dio, abort;
	uint64_t owner[];	/* per BAR page: tag of the live buffer holding it */
};

static struct shared *sh;
static unsigned long bar_pages;
static unsigned long long bar_phys;
static double t_start;
static int gone_mode;

#define add(f, n)	__atomic_add_fetch(&sh->f, (n), __ATOMIC_SEQ_CST)
#define get(f)		__atomic_load_n(&sh->f, __ATOMIC_SEQ_CST)

static void raise_max(uint64_t *max, uint64_t v)
{
	uint64_t m = __atomic_load_n(max, __ATOMIC_SEQ_CST);

	while (v > m && !__atomic_compare_exchange_n(max, &m, v, 0,
						     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

/* A "# " line, whole in one write; the first MAX_NOTES of all processes. */
static void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (add(notes, 1) > MAX_NOTES)
		return;
	n = snprintf(line, sizeof(line), "# [%d] ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(1, line, n) < 0)
		_exit(2);
}

/* ---- SIGBUS: each thread jumps back to its own guard --------------------- */

static __thread sigjmp_buf bus_jmp;
static __thread volatile int bus_armed;

static void on_bus(int sig)
{
	if (bus_armed) {
		bus_armed = 0;
		siglongjmp(bus_jmp, 1);
	}
	/* Outside a guard: a bug of this program, not of the module. */
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

/*
 * The only three ways the load touches p2pmem memory, each under a SIGBUS
 * guard (in a frame of its own, so nothing of the caller's is live across
 * the jump): the value of the check, or REVOKED if the mapping was
 * revoked under it.
 */
#define REVOKED	(-2)

static long check_zero(const char *p, size_t len)
{
	const volatile uint64_t *w = (const volatile uint64_t *)p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return i * 8;
	return -1;
}

static long __attribute__((noinline)) guarded_zero(const char *p, size_t len)
{
	long bad;

	if (sigsetjmp(bus_jmp, 1))
		return REVOKED;
	bus_armed = 1;
	bad = check_zero(p, len);
	bus_armed = 0;
	return bad;
}

static long __attribute__((noinline)) guarded_check(const char *p, size_t len,
						    uint64_t seed, uint64_t off)
{
	long bad;

	if (sigsetjmp(bus_jmp, 1))
		return REVOKED;
	bus_armed = 1;
	bad = pat_check(p, len, seed, off);
	bus_armed = 0;
	return bad;
}

static long __attribute__((noinline)) guarded_fill(char *p, size_t len,
						   uint64_t seed, uint64_t off)
{
	if (sigsetjmp(bus_jmp, 1))
		return REVOKED;
	bus_armed = 1;
	pat_fill(p, len, seed, off);
	bus_armed = 0;
	return 0;
}

/* ---- a load thread -------------------------------------------------------- */

struct tbuf {
	char *p;
	unsigned long npages;
	uint64_t tag;
	int fd;			/* the file it was mapped from, -1 once closed */
	int raw;		/* holds disk data (the pump's), no pattern */
	unsigned long nclaimed;
	uint32_t idx[MAX_PAGES];	/* BAR page index of each claimed page */
};

struct thr {
	int proc, id, nfd, nbuf, gone, nvfd, ready;
	uint64_t rng, gen;
	int fds[MAX_FDS];
	struct tbuf *buf[MAX_BUFS];
	int pagemap;
};

static uint64_t rnd(struct thr *t)
{
	/* xorshift64* */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned long rnd_below(struct thr *t, unsigned long n)
{
	return n ? rnd(t) % n : 0;
}

enum { GONE_SIGBUS = 1, GONE_OPEN, GONE_MMAP, GONE_DIO, GONE_PAGEMAP };
static const char *const gone_names[] = {
	"", "SIGBUS", "open", "mmap", "O_DIRECT", "pagemap (page no longer mapped)"
};

/*
 * The provider went away (or, without --gone, something that only its
 * going away may cause happened, which is a failure).
 */
static void gone(struct thr *t, int how, int err)
{
	uint64_t zero = 0, at = (uint64_t)(now_ms() - t_start) + 1;

	t->gone = 1;
	switch (how) {
	case GONE_SIGBUS: add(sigbus, 1); break;
	case GONE_OPEN: add(gone_open, 1); break;
	case GONE_MMAP: add(gone_mmap, 1); break;
	case GONE_DIO: add(gone_dio, 1); break;
	}
	if (__atomic_compare_exchange_n(&sh->gone_at, &zero, at, 0,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		sh->gone_how = how;
		sh->gone_errno = err;
		sh->inflight_at_gone = get(inflight);
	}
	if (!gone_mode) {
		add(unexpected, 1);
		note("proc %d thread %d: %s failed (%s) while the provider is there",
		     t->proc, t->id, gone_names[how], err ? strerror(err) : "SIGBUS");
	}
}

static void unexpected(struct thr *t, const char *what, int err)
{
	add(unexpected, 1);
	note("proc %d thread %d: %s: unexpected %s", t->proc, t->id, what,
	     strerror(err));
}

static int is_gone_errno(int err, int how)
{
	switch (how) {
	case GONE_OPEN: return err == ENODEV || err == ENOENT || err == ENXIO;
	case GONE_MMAP: return err == ENODEV;
	case GONE_DIO: return err == EFAULT || err == EIO;
	}
	return 0;
}

static int do_open(struct thr *t)
{
	int fd;

	if (t->nfd == MAX_FDS)
		return 0;
	fd = open(dev, O_RDWR);
	if (fd < 0) {
		if (is_gone_errno(errno, GONE_OPEN))
			gone(t, GONE_OPEN, errno);
		else
			unexpected(t, "open", errno);
		return -1;
	}
	t->fds[t->nfd++] = fd;
	return 0;
}

/*
 * The budget: 3/4 of the BAR in all, so that pages on their way back to
 * the pool never make an mmap fail.  The load threads stay below it by
 * what the pumps need, so a pump always finds room.
 */
static unsigned long budget, pump_budget;

/* Reserve @n pages of the budget, up to @limit: all or nothing. */
static int reserve(unsigned long n, unsigned long limit)
{
	uint64_t r = get(reserved);

	do {
		if (r + n > limit)
			return 0;
	} while (!__atomic_compare_exchange_n(&sh->reserved, &r, r + n, 0,
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	return 1;
}

/*
 * Claim each page of @b in the owner table by its BAR offset.  A page
 * whose entry is taken is in two live buffers at once: the failure this
 * table is for.
 */
static void claim(struct thr *t, struct tbuf *b)
{
	uint64_t ent[MAX_PAGES];
	unsigned long i;
	ssize_t want = b->npages * 8;

	if (pread(t->pagemap, ent, want, (unsigned long)b->p / PG * 8) != want) {
		unexpected(t, "read /proc/self/pagemap", errno);
		return;
	}
	for (i = 0; i < b->npages; i++) {
		unsigned long long phys = (ent[i] & ((1ULL << 55) - 1)) * PG;
		unsigned long idx;
		uint64_t old = 0;

		if (!(ent[i] >> 63)) {
			/* Only a revocation unmaps a page we touched. */
			gone(t, GONE_PAGEMAP, 0);
			return;
		}
		if (phys < bar_phys || phys >= bar_phys + bar_pages * PG) {
			add(dup, 1);
			note("page %lu of buffer %#llx is at 0x%llx, outside the BAR",
			     i, (unsigned long long)b->tag, phys);
			return;
		}
		idx = (phys - bar_phys) / PG;
		if (!__atomic_compare_exchange_n(&sh->owner[idx], &old, b->tag, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			add(dup, 1);
			note("BAR page %lu (page %lu of buffer %#llx) is in live buffer %#llx too",
			     idx, i, (unsigned long long)b->tag, (unsigned long long)old);
			return;
		}
		b->idx[b->nclaimed++] = idx;
		add(claims, 1);
	}
}

static void unclaim(struct tbuf *b)
{
	unsigned long i;

	for (i = 0; i < b->nclaimed; i++) {
		uint64_t want = b->tag;

		if (!__atomic_compare_exchange_n(&sh->owner[b->idx[i]], &want, 0, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			add(dup, 1);
			note("BAR page %u of buffer %#llx was taken over by %#llx",
			     b->idx[i], (unsigned long long)b->tag,
			     (unsigned long long)want);
		}
	}
	b->nclaimed = 0;
}

/* Verify @b's pattern; false if the provider went away meanwhile. */
static int verify(struct thr *t, struct tbuf *b, const char *when)
{
	long bad;

	if (b->raw)
		return 1;
	bad = guarded_check(b->p, b->npages * PG, b->tag, 0);

	if (bad == REVOKED) {
		gone(t, GONE_SIGBUS, 0);
		return 0;
	}
	add(verifies, 1);
	if (bad >= 0) {
		add(pattern_bad, 1);
		note("buffer %#llx (%lu pages) lost its pattern at +%ld (%s)",
		     (unsigned long long)b->tag, b->npages, bad, when);
	}
	return 1;
}

static unsigned long pick_pages(struct thr *t)
{
	unsigned long r = rnd_below(t, 100);

	if (r < 50)
		return 1 + rnd_below(t, 16);
	if (r < 85)
		return 17 + rnd_below(t, 240);
	return 257 + rnd_below(t, MAX_PAGES - 256);
}

/*
 * Map a new buffer of @want pages (with @shrink, fewer if the budget is
 * short) and check, claim and fill it.  Returns 0 if nothing was mapped.
 */
static int do_map_pages(struct thr *t, unsigned long want, int shrink)
{
	int flags = MAP_SHARED, fd;
	unsigned long n;
	struct tbuf *b;
	long bad;

	if (t->nbuf == MAX_BUFS)
		return 0;
	if (!t->nfd && do_open(t))
		return 0;
	while (!reserve(want, shrink ? budget - pump_budget : budget))
		if (!shrink || (want /= 2) == 0)
			return 0;
	n = want;
	if (!rnd_below(t, 4))
		flags |= MAP_POPULATE;
	fd = t->fds[rnd_below(t, t->nfd)];
	b = calloc(1, sizeof(*b));
	if (!b)
		exit(2);
	b->p = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (b->p == MAP_FAILED) {
		int err = errno;

		add(reserved, -n);
		free(b);
		if (is_gone_errno(err, GONE_MMAP)) {
			gone(t, GONE_MMAP, err);
		} else if (err == ENOMEM && get(children)) {
			/* Fork children still map pages their parents freed. */
			add(enomem, 1);
		} else {
			unexpected(t, "mmap", err);
		}
		return 0;
	}
	b->npages = n;
	b->fd = fd;
	b->tag = (uint64_t)(t->proc + 1) << 48 | (uint64_t)t->id << 40 | ++t->gen;
	t->buf[t->nbuf++] = b;
	add(maps, 1);
	add(map_bytes, n * PG);
	if (flags & MAP_POPULATE)
		add(populated, 1);
	raise_max(&sh->max_live, add(live, 1));
	raise_max(&sh->max_live_pages, add(live_pages, n));

	/* Every page of a new buffer reads zero, whoever had it before. */
	bad = guarded_zero(b->p, n * PG);
	if (bad == REVOKED) {
		gone(t, GONE_SIGBUS, 0);
		return 1;
	}
	if (bad >= 0) {
		add(zero_bad, 1);
		note("fresh buffer %#llx (%lu pages): byte +%ld is not zero",
		     (unsigned long long)b->tag, n, bad);
	}
	add(pages_zero, n);
	claim(t, b);
	if (t->gone)
		return 1;
	if (guarded_fill(b->p, n * PG, b->tag, 0) == REVOKED) {
		gone(t, GONE_SIGBUS, 0);
		return 1;
	}
	verify(t, b, "right after writing it");
	return 1;
}

static void do_map(struct thr *t)
{
	do_map_pages(t, pick_pages(t), 1);
}

static struct tbuf *pick_buf(struct thr *t)
{
	return t->nbuf ? t->buf[rnd_below(t, t->nbuf)] : NULL;
}

/* O_DIRECT from the disk's seed-1 area into part of a buffer. */
static void do_dio(struct thr *t)
{
	struct tbuf *b = pick_buf(t);
	unsigned long len, boff, doff;
	ssize_t n;
	long bad;

	if (!b || t->nvfd < 0)
		return;
	len = 1 + rnd_below(t, b->npages < DIO_PAGES ? b->npages : DIO_PAGES);
	boff = rnd_below(t, b->npages - len + 1) * PG;
	doff = rnd_below(t, DISK_PAGES - len + 1) * PG;
	len *= PG;
	raise_max(&sh->max_inflight, add(inflight, 1));
	n = pread(t->nvfd, b->p + boff, len, doff);
	add(inflight, -1);
	if (n < 0) {
		if (is_gone_errno(errno, GONE_DIO))
			gone(t, GONE_DIO, errno);
		else
			unexpected(t, "O_DIRECT read", errno);
		return;
	}
	add(dio, 1);
	add(dio_bytes, n);
	if (n != (ssize_t)len) {
		add(dio_bad, 1);
		note("O_DIRECT read of %lu bytes at %lu gave %zd", len, doff, n);
		return;
	}
	bad = guarded_check(b->p + boff, len, 1, doff);
	if (bad == REVOKED) {
		gone(t, GONE_SIGBUS, 0);
		return;
	}
	if (bad >= 0) {
		add(dio_bad, 1);
		note("O_DIRECT read of disk +%lu into buffer %#llx +%lu: byte +%ld differs",
		     doff, (unsigned long long)b->tag, boff, bad);
	}
	/* The buffer's own pattern back in that part. */
	if (guarded_fill(b->p + boff, len, b->tag, boff) == REVOKED)
		gone(t, GONE_SIGBUS, 0);
}

static void drop_buf(struct thr *t, struct tbuf *b)
{
	int i;

	for (i = 0; i < t->nbuf; i++)
		if (t->buf[i] == b)
			t->buf[i] = t->buf[--t->nbuf];
	free(b);
}

/* munmap, whole or (tail first) in two pieces; the pattern checked first. */
static void do_unmap(struct thr *t, struct tbuf *b)
{
	size_t len = b->npages * PG, head;

	if (!t->gone)
		verify(t, b, "before munmap");
	/* Released before the pages can go back to the pool. */
	unclaim(b);
	if (b->npages > 1 && !rnd_below(t, 4)) {
		head = (1 + rnd_below(t, b->npages - 1)) * PG;
		if (munmap(b->p + head, len - head) || munmap(b->p, head))
			unexpected(t, "munmap (two pieces)", errno);
		add(split_unmaps, 1);
	} else if (munmap(b->p, len)) {
		unexpected(t, "munmap", errno);
	}
	add(unmaps, 1);
	add(live, -1);
	add(live_pages, -b->npages);
	add(reserved, -b->npages);
	drop_buf(t, b);
}

static void do_close(struct thr *t)
{
	int i, fd, j, mapped = 0;

	if (!t->nfd)
		return;
	i = rnd_below(t, t->nfd);
	fd = t->fds[i];
	for (j = 0; j < t->nbuf; j++)
		if (t->buf[j]->fd == fd) {
			t->buf[j]->fd = -1;
			mapped = 1;
		}
	if (mapped)
		add(close_first, 1);
	if (close(fd))
		unexpected(t, "close", errno);
	t->fds[i] = t->fds[--t->nfd];
}

/* The data must survive: the buffer, not the PTE, holds the memory. */
static void do_dontneed(struct thr *t)
{
	struct tbuf *b = pick_buf(t);

	if (!b)
		return;
	if (madvise(b->p, b->npages * PG, MADV_DONTNEED)) {
		unexpected(t, "madvise(MADV_DONTNEED)", errno);
		return;
	}
	add(dontneed, 1);
	verify(t, b, "after MADV_DONTNEED");
}

static void child_bus(int sig)
{
	_exit(42);
}

/*
 * A child reads the buffer (the parent's data) and writes its own pattern
 * into the last page; the parent then sees the child's bytes there.
 * Only plain loads and stores in the child: it is the copy of one thread
 * of a multi-threaded process.
 */
static void do_fork(struct thr *t)
{
	struct tbuf *b = pick_buf(t);
	size_t len, last;
	pid_t pid;
	long bad;
	int st;

	if (!b)
		return;
	len = b->npages * PG;
	last = len - PG;
	add(children, 1);
	pid = fork();
	if (pid < 0) {
		add(children, -1);
		unexpected(t, "fork", errno);
		return;
	}
	if (!pid) {
		signal(SIGBUS, child_bus);
		if (pat_check(b->p, len < MiB ? len : MiB, b->tag, 0) >= 0)
			_exit(1);
		pat_fill(b->p + last, PG, b->tag ^ CHILD_SEED, last);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	add(children, -1);
	add(forks, 1);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 42) {
		gone(t, GONE_SIGBUS, 0);
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		add(fork_bad, 1);
		note("fork child of buffer %#llx: status 0x%x (1: it read wrong data)",
		     (unsigned long long)b->tag, st);
		return;
	}
	bad = guarded_check(b->p + last, PG, b->tag ^ CHILD_SEED, last);
	if (bad == REVOKED) {
		gone(t, GONE_SIGBUS, 0);
		return;
	}
	if (bad >= 0) {
		add(fork_bad, 1);
		note("buffer %#llx: the child's write is not seen at +%zu",
		     (unsigned long long)b->tag, last + bad);
	}
	if (guarded_fill(b->p + last, PG, b->tag, last) == REVOKED)
		gone(t, GONE_SIGBUS, 0);
}

/* Unmap and close everything, in random order. */
static void release_all(struct thr *t)
{
	while (t->nbuf || t->nfd) {
		if (t->nbuf && (!t->nfd || rnd_below(t, 2)))
			do_unmap(t, pick_buf(t));
		else
			do_close(t);
	}
}

static double deadline_ms;

static void *load_thread(void *arg)
{
	struct thr *t = arg;

	t->pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (t->pagemap < 0)
		exit(2);
	while (now_ms() < deadline_ms && !get(abort)) {
		unsigned long r = rnd_below(t, 1000);

		if (r < 80)
			do_open(t);
		else if (r < 300)
			do_map(t);
		else if (r < 450)
			do_dio(t);
		else if (r < 560) {
			if (pick_buf(t))
				verify(t, pick_buf(t), "at random");
		} else if (r < 780) {
			if (t->nbuf)
				do_unmap(t, pick_buf(t));
		} else if (r < 900)
			do_close(t);
		else if (r < 960)
			do_dontneed(t);
		else if (r < 970)
			do_fork(t);
		/* else: nothing this round */
		if (t->gone) {
			/* Clean up, and end once the device cannot be opened. */
			release_all(t);
			t->gone = 0;
			if (do_open(t))
				break;
		}
	}
	release_all(t);
	close(t->pagemap);
	return NULL;
}

/*
 * One thread per process keeps PUMP_QD O_DIRECT reads (aio) in flight into
 * a buffer of its own, each checked when it completes, so that the
 * provider always goes away with I/O in flight in --gone runs.
 */
static void *pump_thread(void *arg)
{
	struct thr *t = arg;
	size_t slot = PUMP_PAGES * PG;
	struct iocb cb[PUMP_QD], *cbp;
	struct io_event ev[PUMP_QD];
	struct timespec ts = { 1, 0 };
	aio_context_t ctx = 0;
	unsigned long doff[PUMP_QD];
	uint64_t stag[PUMP_QD];	/* the buffer each read went into */
	struct tbuf *b;
	int i, n, busy = 0;

	t->pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (t->pagemap < 0 || syscall(SYS_io_setup, PUMP_QD, &ctx))
		exit(2);
	while (!t->nbuf && now_ms() < deadline_ms && !get(abort) && !t->gone) {
		if (!t->nfd && do_open(t))
			break;
		if (!do_map_pages(t, PUMP_QD * PUMP_PAGES, 0))
			usleep(10000);
	}
	b = t->nbuf ? t->buf[0] : NULL;
	if (b)
		b->raw = 1;
	/* The load threads start now (see load_proc()). */
	__atomic_store_n(&t->ready, 1, __ATOMIC_SEQ_CST);
	while (b && !t->gone && now_ms() < deadline_ms && !get(abort)) {
		/* Fill every idle slot, then take what completed. */
		for (i = 0; i < PUMP_QD && !t->gone; i++) {
			if (busy & (1 << i))
				continue;
			doff[i] = rnd_below(t, DISK_PAGES - PUMP_PAGES + 1) * PG;
			memset(&cb[i], 0, sizeof(cb[i]));
			cb[i].aio_data = i;
			cb[i].aio_fildes = t->nvfd;
			cb[i].aio_lio_opcode = IOCB_CMD_PREAD;
			cb[i].aio_buf = (unsigned long)(b->p + i * slot);
			cb[i].aio_nbytes = slot;
			cb[i].aio_offset = doff[i];
			stag[i] = b->tag;
			cbp = &cb[i];
			add(inflight, 1);
			if (syscall(SYS_io_submit, ctx, 1, &cbp) != 1) {
				add(inflight, -1);
				if (is_gone_errno(errno, GONE_DIO))
					gone(t, GONE_DIO, errno);
				else
					unexpected(t, "aio O_DIRECT submit", errno);
				break;
			}
			busy |= 1 << i;
		}
		raise_max(&sh->max_inflight, get(inflight));
		n = syscall(SYS_io_getevents, ctx, 1, PUMP_QD, ev, &ts);
		for (i = 0; i < n; i++) {
			int k = ev[i].data;
			long bad;

			busy &= ~(1 << k);
			add(inflight, -1);
			if (ev[i].res < 0) {
				if (is_gone_errno(-ev[i].res, GONE_DIO))
					gone(t, GONE_DIO, -ev[i].res);
				else
					unexpected(t, "aio O_DIRECT read", -ev[i].res);
				continue;
			}
			add(aio, 1);
			add(dio_bytes, ev[i].res);
			if (!b || stag[k] != b->tag) {
				/* Into a buffer unmapped while it was in flight. */
				add(orphans, 1);
				continue;
			}
			bad = ev[i].res != (long long)slot ? 0 :
			      guarded_check(b->p + k * slot, slot, 1, doff[k]);
			if (bad == REVOKED) {
				gone(t, GONE_SIGBUS, 0);
			} else if (bad >= 0) {
				add(dio_bad, 1);
				note("aio O_DIRECT read of disk +%lu (%lld of %zu bytes): byte +%ld differs",
				     doff[k], (long long)ev[i].res, slot, bad);
			}
		}
		/*
		 * Now and then unmap the buffer with reads still in flight into
		 * it, and take a new one: its pages must not come back to the
		 * pool, and so to another buffer, until those reads are done
		 * (the others' zero and pattern checks would see the disk's
		 * bytes land in them).
		 */
		if (busy && !t->gone && !rnd_below(t, 8)) {
			do_unmap(t, b);
			add(drops, 1);
			b = NULL;
			while (!t->nbuf && !t->gone && now_ms() < deadline_ms && !get(abort))
				if (!do_map_pages(t, PUMP_QD * PUMP_PAGES, 0))
					usleep(10000);
			b = t->nbuf ? t->buf[0] : NULL;
			if (b)
				b->raw = 1;
		}
	}
	/* Whatever is still in flight completes before the buffer goes. */
	while (busy && (n = syscall(SYS_io_getevents, ctx, 1, PUMP_QD, ev, NULL)) > 0)
		for (i = 0; i < n; i++) {
			busy &= ~(1 << ev[i].data);
			add(inflight, -1);
		}
	syscall(SYS_io_destroy, ctx);
	release_all(t);
	close(t->pagemap);
	return NULL;
}

static void load_proc(int proc, int threads, uint64_t seed)
{
	pthread_attr_t attr;
	pthread_t *tid = calloc(threads + 1, sizeof(*tid));
	struct thr *t = calloc(threads + 1, sizeof(*t));
	int i, nvfd = -1;

	if (!tid || !t)
		exit(2);
	if (nvme) {
		nvfd = open(nvme, O_RDONLY | O_DIRECT);
		if (nvfd < 0) {
			perror(nvme);
			exit(2);
		}
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	/*
	 * The O_DIRECT pump (thread @threads, if there is a disk) first: its
	 * buffer is taken before the load threads fill the budget, or it
	 * could wait for room until the provider is gone.
	 */
	for (i = threads + (nvfd >= 0) - 1; i >= 0; i--) {
		t[i].proc = proc;
		t[i].id = i;
		t[i].nvfd = nvfd;
		t[i].rng = (seed + 1) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(proc * 256 + i + 1) << 20;
		if (pthread_create(&tid[i], &attr, i < threads ? load_thread : pump_thread, &t[i])) {
			perror("pthread_create");
			exit(2);
		}
		while (i == threads && !__atomic_load_n(&t[i].ready, __ATOMIC_SEQ_CST))
			usleep(1000);
	}
	for (i = 0; i < threads + (nvfd >= 0); i++)
		pthread_join(tid[i], NULL);
	exit(0);
}

static int load(int threads, int procs, int secs, uint64_t seed, int grace)
{
	size_t shlen;
	pid_t *pid;
	int i, left, bad_exit = 0, timed_out = 0;
	double end, done_at = 0, waited;
	struct sigaction sa;
	char buf[128];

	bar_pages = sysfs_num("size") / PG;
	if (sysfs_read("phys_addr", buf, sizeof(buf)))
		return 2;
	bar_phys = strtoull(buf, NULL, 0);
	budget = bar_pages * 3 / 4;
	pump_budget = nvme ? procs * PUMP_QD * PUMP_PAGES : 0;
	if (pump_budget > budget / 2)
		return 2;
	shlen = sizeof(*sh) + bar_pages * sizeof(uint64_t);
	sh = mmap(NULL, shlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid = calloc(procs, sizeof(*pid));
	if (sh == MAP_FAILED || !pid)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_bus;
	sigaction(SIGBUS, &sa, NULL);

	printf("# load: %d processes x %d threads for %s%d s on %s (%lu MiB BAR at 0x%llx), O_DIRECT from %s, seed %llu\n",
	       procs, threads, gone_mode ? "at most " : "", secs, dev,
	       bar_pages * PG / MiB, bar_phys, nvme ?: "(none)",
	       (unsigned long long)seed);
	fflush(stdout);
	t_start = now_ms();
	deadline_ms = t_start + secs * 1000.0;
	for (i = 0; i < procs; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			return 2;
		if (!pid[i])
			load_proc(i, threads, seed);
	}
	/*
	 * Watch: say LOADING once the load runs, collect the processes, and
	 * never wait without bound (a process stuck in the kernel is a
	 * failure to report, not a reason to hang).
	 */
	end = deadline_ms + grace * 1000.0;
	for (left = procs; left;) {
		double now = now_ms();
		int st;

		if (!get(loading_at) && now - t_start >= 1000 && get(maps) &&
		    (!nvme || (get(dio) && get(aio)))) {
			sh->loading_at = (uint64_t)(now - t_start) + 1;
			printf("LOADING\n");
			fflush(stdout);
		}
		if (gone_mode && get(gone_at) && t_start + get(gone_at) + grace * 1000.0 < end)
			end = t_start + get(gone_at) + grace * 1000.0;
		if (now > end) {
			timed_out = 1;
			break;
		}
		for (i = 0; i < procs; i++) {
			if (!pid[i] || waitpid(pid[i], &st, WNOHANG) != pid[i])
				continue;
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				bad_exit++;
				printf("# load process %d ended with status 0x%x\n", pid[i], st);
			}
			pid[i] = 0;
			left--;
		}
		if (left)
			usleep(50000);
	}
	done_at = now_ms() - t_start;
	if (timed_out) {
		__atomic_store_n(&sh->abort, 1, __ATOMIC_SEQ_CST);
		printf("# %d load processes still running after %.1f s; killing them\n",
		       left, done_at / 1000);
		for (i = 0; i < procs; i++)
			if (pid[i])
				kill(pid[i], SIGKILL);
	}

	printf("# maps %llu (%llu with MAP_POPULATE), %llu MiB mapped, %llu pages checked zero, %llu page claims\n",
	       (unsigned long long)get(maps), (unsigned long long)get(populated),
	       (unsigned long long)(get(map_bytes) / MiB), (unsigned long long)get(pages_zero),
	       (unsigned long long)get(claims));
	printf("# at most %llu buffers (%llu KiB) live at once, of %lu KiB\n",
	       (unsigned long long)get(max_live),
	       (unsigned long long)(get(max_live_pages) * PG / 1024), bar_pages * PG / 1024);
	if (nvme)
		printf("# O_DIRECT reads %llu synchronous + %llu aio (%d in flight per process), %llu KiB, at most %llu in flight; %llu aio buffers unmapped with reads in flight, %llu reads completed into them\n",
		       (unsigned long long)get(dio), (unsigned long long)get(aio), PUMP_QD,
		       (unsigned long long)(get(dio_bytes) / 1024),
		       (unsigned long long)get(max_inflight), (unsigned long long)get(drops),
		       (unsigned long long)get(orphans));
	printf("# munmaps %llu (%llu in two pieces), closes before munmap %llu, MADV_DONTNEED %llu, forks %llu, pattern checks %llu, mmap ENOMEM while fork children held pages %llu\n",
	       (unsigned long long)get(unmaps), (unsigned long long)get(split_unmaps),
	       (unsigned long long)get(close_first), (unsigned long long)get(dontneed),
	       (unsigned long long)get(forks), (unsigned long long)get(verifies),
	       (unsigned long long)get(enomem));
	if (gone_mode)
		printf("# after the provider went: SIGBUS %llu, open failed %llu, mmap failed %llu, O_DIRECT failed %llu\n",
		       (unsigned long long)get(sigbus), (unsigned long long)get(gone_open),
		       (unsigned long long)get(gone_mmap), (unsigned long long)get(gone_dio));

	tap(!timed_out && !bad_exit,
	    "%s: every process ran to its end (%d x %d threads, %.1f s)",
	    gone_mode ? "load while the provider goes" : "load", procs, threads,
	    done_at / 1000);
	tap(get(maps) && get(pages_zero) && !get(zero_bad),
	    "... every page of a new buffer read zero (%llu pages in %llu buffers, %llu not)",
	    (unsigned long long)get(pages_zero), (unsigned long long)get(maps),
	    (unsigned long long)get(zero_bad));
	tap(get(claims) && !get(dup),
	    "... no BAR page was in two live buffers (%llu claims, %llu clashes)",
	    (unsigned long long)get(claims), (unsigned long long)get(dup));
	tap(get(verifies) && !get(pattern_bad),
	    "... every buffer kept its own pattern (%llu checks, %llu bad)",
	    (unsigned long long)get(verifies), (unsigned long long)get(pattern_bad));
	if (nvme)
		tap(get(dio) && get(aio) && !get(dio_bad),
		    "... every O_DIRECT read brought the disk's bytes (%llu reads, %llu bad)",
		    (unsigned long long)(get(dio) + get(aio)), (unsigned long long)get(dio_bad));
	/*
	 * With --gone the load lasts only until the provider goes (a few
	 * seconds, less on a busy host), and forks are a random pick among
	 * the steps: none may have happened.  The full load must fork.
	 */
	tap((gone_mode || get(forks)) && !get(fork_bad),
	    "... fork children read a buffer's data and the parent saw their writes (%llu forks, %llu bad)",
	    (unsigned long long)get(forks), (unsigned long long)get(fork_bad));
	tap(!get(unexpected), "... no unexpected errors (%llu)",
	    (unsigned long long)get(unexpected));
	if (gone_mode) {
		double at = get(gone_at) / 1000.0;

		tap(get(gone_at) && get(loading_at) && get(gone_at) >= get(loading_at),
		    "... the provider went away under the load (after %.1f s; it was loading at %.1f s), first seen by %s%s%s with %llu O_DIRECT reads in flight",
		    at, get(loading_at) / 1000.0, gone_names[sh->gone_how],
		    sh->gone_errno ? ": " : "",
		    sh->gone_errno ? strerror(sh->gone_errno) : "",
		    (unsigned long long)sh->inflight_at_gone);
		tap(get(gone_at) && !timed_out && done_at / 1000 - at <= grace,
		    "... and every process was done %.1f s after that (at most %d)",
		    done_at / 1000 - at, grace);
		return failures ? 1 : 0;
	}
	if (timed_out)
		return 1;
	i = wait_all_free(&waited);
	tap(i, "... available == size afterwards (%llu of %llu, polled %.0f ms)",
	    sysfs_num("available"), sysfs_num("size"), waited);
	return failures ? 1 : 0;
}

/* ---- map/unmap cycles ------------------------------------------------------ */

/* Context switches so far, machine-wide (/proc/stat "ctxt"). */
static unsigned long long ctxt(void)
{
	unsigned long long n = 0;
	char line[256];
	FILE *f = fopen("/proc/stat", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "ctxt %llu", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* What one cycling process did (in memory its parent shares). */
struct cycler {
	double t_map, t_touch, t_unmap;
	unsigned long done, nonzero, fails;
};

/*
 * One open, then @count times: mmap 1-4 pages, touch one (it must read
 * zero), munmap.  With @anon the same loop on shared anonymous memory.
 */
static void cycle_loop(struct cycler *c, unsigned long count, int anon)
{
	int fd = anon ? -1 : open(dev, O_RDWR);
	int flags = anon ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED;
	double t0, t1, t2, t3;
	unsigned long i;

	if (fd < 0 && !anon) {
		perror(dev);
		exit(2);
	}
	for (i = 0; i < count; i++) {
		size_t len = (1 + i % 4) * PG, off = (i / 4 % (1 + i % 4)) * PG;
		volatile uint64_t *w;
		char *p;

		t0 = now_ms();
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
		t1 = now_ms();
		if (p == MAP_FAILED) {
			if (c->fails++ < 5)
				printf("# cycle %lu: mmap of %zu bytes: %s\n", i, len, strerror(errno));
			if (c->fails > 100)
				break;
			continue;
		}
		w = (volatile uint64_t *)(p + off);
		if (w[0] || w[PG / 8 - 1] || check_zero(p + off, PG) >= 0)
			c->nonzero++;
		w[0] = i;
		t2 = now_ms();
		munmap(p, len);
		t3 = now_ms();
		c->t_map += t1 - t0;
		c->t_touch += t2 - t1;
		c->t_unmap += t3 - t2;
		c->done++;
	}
	if (fd >= 0)
		close(fd);
}

/*
 * @count cycles split over @procs processes, one file each (so both
 * vCPUs of the test VM work).  With @anon a baseline on shared anonymous
 * memory: what the syscalls and faults cost without p2pmem (under TCG,
 * most of it).
 */
static int cycles(unsigned long count, int procs, int anon)
{
	struct cycler *c = mmap(NULL, procs * sizeof(*c), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long long cs = ctxt();
	struct cycler all = { 0 };
	double t0 = now_ms(), wall, waited;
	int k, st, bad = 0, freed;

	if (c == MAP_FAILED)
		return 2;
	for (k = 0; k < procs; k++) {
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (!pid) {
			cycle_loop(&c[k], count / procs + (k < (int)(count % procs)), anon);
			exit(0);
		}
	}
	for (k = 0; k < procs; k++) {
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	wall = now_ms() - t0;
	cs = ctxt() - cs;
	for (k = 0; k < procs; k++) {
		all.t_map += c[k].t_map;
		all.t_touch += c[k].t_touch;
		all.t_unmap += c[k].t_unmap;
		all.done += c[k].done;
		all.nonzero += c[k].nonzero;
		all.fails += c[k].fails;
	}
	if (!all.done)
		all.done = 1;
	printf("# cycles%s: %lu in %.1f s by %d processes: mmap %.1f us, touch (fault, zeroing) %.1f us, munmap %.1f us, %.2f context switches per cycle\n",
	       anon ? " of anonymous shared memory" : "", all.done, wall / 1000, procs,
	       all.t_map * 1000 / all.done, all.t_touch * 1000 / all.done,
	       all.t_unmap * 1000 / all.done, (double)cs / all.done);
	if (anon)
		return bad ? 1 : 0;
	tap(all.done == count && !all.fails && !bad,
	    "cycles: %lu map/touch/unmap cycles of 1-4 pages in %d processes (%lu mmap failures, %d processes failed)",
	    all.done, procs, all.fails, bad);
	tap(!all.nonzero, "... every touched page read zero (%lu did not)", all.nonzero);
	freed = wait_all_free(&waited);
	tap(freed, "... available == size after the last close (%llu of %llu, polled %.0f ms)",
	    sysfs_num("available"), sysfs_num("size"), waited);
	return failures ? 1 : 0;
}

/* ---- fork ------------------------------------------------------------------ */

#define KIDS		4
#define SLICE		(16 * PG)
#define PARENT_SEED	0x9a7e47ULL

static int fork_kid(char *p, int k, int fd)
{
	char *own;

	/* The parent's data, then its own slice. */
	if (pat_check(p, SLICE, PARENT_SEED, 0) >= 0)
		return 1;
	pat_fill(p + (k + 1) * SLICE, SLICE, k + 1, 0);
	/* A buffer of its own from the inherited file: fresh, so zero. */
	if (fd < 0)
		return 0;
	own = mmap(NULL, SLICE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (own == MAP_FAILED)
		return 3;
	if (check_zero(own, SLICE) >= 0)
		return 4;
	pat_fill(own, SLICE, 100 + k, 0);
	if (pat_check(own, SLICE, 100 + k, 0) >= 0)
		return 5;
	/* The parent's slice is still the parent's. */
	return pat_check(p, SLICE, PARENT_SEED, 0) >= 0 ? 1 : 0;
}

static int fork_test(void)
{
	size_t len = (KIDS + 1) * SLICE;
	int fd = open(dev, O_RDWR), k, st, good = 0, seen = 0, intact;
	pid_t pid[KIDS];
	char *p;
	double waited;

	if (fd < 0) {
		perror(dev);
		return 2;
	}
	/*
	 * p2pmem_mmap() refuses every mapping without VM_MAYSHARE (EINVAL,
	 * read-only or not): a private mapping's copy-on-write pages would be
	 * anonymous RAM, not BAR memory a peer can reach.  So fork shares:
	 * parent and children see one buffer.
	 */
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	tap(p == MAP_FAILED && errno == EINVAL, "fork: MAP_PRIVATE read-write is refused (EINVAL)");
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	tap(p == MAP_FAILED && errno == EINVAL, "fork: ... and so is MAP_PRIVATE read-only (EINVAL)");

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		tap(0, "fork: mmap %zu bytes: %s", len, strerror(errno));
		return 1;
	}
	pat_fill(p, SLICE, PARENT_SEED, 0);
	/*
	 * The children run side by side; the last one is forked after the
	 * parent closed its file, so it has no file to map a buffer from.
	 */
	for (k = 0; k < KIDS; k++) {
		if (k == KIDS - 1)
			close(fd);
		pid[k] = fork();
		if (!pid[k])
			_exit(fork_kid(p, k, k == KIDS - 1 ? -1 : fd));
	}
	for (k = 0; k < KIDS; k++) {
		waitpid(pid[k], &st, 0);
		if (WIFEXITED(st) && !WEXITSTATUS(st))
			good++;
		else
			printf("# fork child %d: status 0x%x\n", k, st);
		seen += pat_check(p + (k + 1) * SLICE, SLICE, k + 1, 0) < 0;
	}
	intact = pat_check(p, SLICE, PARENT_SEED, 0) < 0;
	tap(good == KIDS, "fork: %d children read the parent's MAP_SHARED data and mapped buffers of their own (%d did)",
	    KIDS, good);
	tap(seen == KIDS, "fork: the parent sees each child's writes in its shared mapping (%d of %d)",
	    seen, KIDS);
	tap(intact, "fork: ... and its own data intact");
	munmap(p, len);
	good = wait_all_free(&waited);
	tap(good, "fork: available == size once all are gone (polled %.0f ms)", waited);
	return failures ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: p2pmem_stress load DEV [--threads T] [--procs P] [--secs S] [--nvme NS] [--seed N] [--gone] [--grace G]\n"
		"       p2pmem_stress cycles DEV [--count N] [--procs P]\n"
		"       p2pmem_stress cycles-anon - [--count N] [--procs P]\n"
		"       p2pmem_stress fork DEV\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int threads = 16, procs = 0, secs = 20, grace = 30, i;
	unsigned long count = 100000;
	uint64_t seed = 1;
	char *copy;

	if (argc < 3)
		usage();
	dev = argv[2];
	for (i = 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--gone")) {
			gone_mode = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--threads"))
			threads = atoi(v);
		else if (!strcmp(a, "--procs"))
			procs = atoi(v);
		else if (!strcmp(a, "--secs"))
			secs = atoi(v);
		else if (!strcmp(a, "--grace"))
			grace = atoi(v);
		else if (!strcmp(a, "--nvme"))
			nvme = v;
		else if (!strcmp(a, "--seed"))
			seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--count"))
			count = strtoul(v, NULL, 0);
		else
			usage();
	}
	/* Default: 3 processes of load, the cycles in one. */
	if (!procs)
		procs = strcmp(argv[1], "load") ? 1 : 3;
	if (threads < 1 || procs < 1 || secs < 1 || !count)
		usage();
	copy = strdup(dev);
	snprintf(sysdir, sizeof(sysdir), "/sys/class/p2pmem/%s", basename(copy));
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(argv[1], "load"))
		return load(threads, procs, secs, seed, grace);
	if (!strcmp(argv[1], "cycles"))
		return cycles(count, procs, 0);
	if (!strcmp(argv[1], "cycles-anon"))
		return cycles(count, procs, 1);
	if (!strcmp(argv[1], "fork"))
		return fork_test();
	usage();
	return 2;
}
