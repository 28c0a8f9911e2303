// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed input against /dev/p2pmemN, its mappings and the module's sysfs
 * files.  Every case says the one result it must get, success or a given
 * errno, worked out from the module's code and the kernel's rules (the
 * comments say which); one TAP line per case, and one per loop of many
 * alike cases, naming the first surprise.  Each subcommand also reads what
 * it made the kernel log (/dev/kmsg): no bug or warning, no raw control
 * character (a user's byte that could start a line of its own), and no
 * more of the module's lines than its rate limits let through.
 *
 *   p2pmem_fuzz ioctl DEV PCI   every ioctl number around ours,
 *                               P2PMEM_IOC_REACH with bad pointers, sizes,
 *                               flags and names (PCI: a device to ask
 *                               about), P2PMEM_IOC_SET_CACHING with bad
 *                               pointers and modes
 *   p2pmem_fuzz vm DEV          mmap flags, every madvise advice, mremap,
 *                               mprotect, mlock, msync, /proc/PID/mem and
 *                               process_vm_readv/writev on a mapping
 *   p2pmem_fuzz sysfs DEV PCI   junk into every writable file of DEV's sysfs
 *                               directory, the module's parameters and its
 *                               PCI driver; then PCI (DEV's provider) is
 *                               unbound and bound again, which reads bars=
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "p2pmem/uapi.h"
#include "pattern.h"
#include "tap.h"

#define PG 4096UL
#define QSIZE ((unsigned int)sizeof(struct p2pmem_reach_query))

/* Advice values newer than the C library's headers. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

static int kver;		/* major * 100 + minor */
/*
 * The kernel backend runs where the kernel has CONFIG_PCI_P2PDMA, and there
 * GUP refuses P2PDMA pages to every caller that does not ask for them
 * (FOLL_PCI_P2PDMA, 6.2+): /proc/PID/mem, process_vm_*, MADV_POPULATE_*,
 * mlock's population.  Elsewhere the same pages are like RAM to GUP.
 */
static int p2pdma;
static char sysdir[256];

static const char *errname(int e)
{
	return e ? strerrorname_np(e) ?: "?" : "success";
}

/* @got and @want are 0 or an errno. */
static int __attribute__((format(printf, 3, 4)))
expect(int got, int want, const char *fmt, ...)
{
	char d[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d, sizeof(d), fmt, ap);
	va_end(ap);
	if (got == want)
		tap(1, "%s: %s", d, errname(want));
	else
		tap(0, "%s: want %s, got %s", d, errname(want), errname(got));
	return got == want;
}

static void skip(const char *desc, const char *why)
{
	printf("ok - %s # SKIP %s\n", desc, why);
	fflush(stdout);
}

#define ERR(call) ((call) < 0 ? errno : 0)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0) {
		perror(path);
		exit(2);
	}
	return fd;
}

/* A sysfs file's contents (at most @len - 1 bytes), "" if unreadable. */
static char *read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	buf[n < 0 ? 0 : n] = '\0';
	if (fd >= 0)
		close(fd);
	return buf;
}

static unsigned long long attr_num(const char *attr)
{
	char path[512], buf[64];

	snprintf(path, sizeof(path), "%s/%s", sysdir, attr);
	return strtoull(read_file(path, buf, sizeof(buf)), NULL, 0);
}

/* ---- the kernel log ------------------------------------------------------ */

static int kmsg = -1;
static double kmsg_t0;

static void log_begin(void)
{
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	kmsg_t0 = now();
}

/*
 * /dev/kmsg shows every byte below 0x20, 0x7f and above as \xNN.  A
 * control character (C0, DEL, C1) there is a byte printk was handed raw;
 * %pE would have escaped it.
 */
static int raw_control(const char *s)
{
	unsigned int v;

	for (; *s; s++) {
		if (s[0] != '\\' || s[1] != 'x' || !isxdigit(s[2]) || !isxdigit(s[3]))
			continue;
		sscanf(s + 2, "%2x", &v);
		if (v < 0x20 || (v >= 0x7f && v <= 0x9f))
			return 1;
		s += 3;
	}
	return 0;
}

static int kernel_complains(const char *s)
{
	static const char *const marks[] = {
		"WARNING:", "BUG:", "Oops", "Call Trace", "general protection",
		"RCU stall", "rcu_sched detected stall", "possible circular locking",
		"blocked for more than",
	};
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(s, marks[i]))
			return 1;
	return 0;
}

/*
 * What the kernel logged since log_begin().  @sites: the module's
 * rate-limited call sites this subcommand can reach.  Each prints at most
 * 10 lines per 5 s (the kernel's default burst and interval) and one
 * "callbacks suppressed" line per interval; the subcommands make each
 * print hundreds of times, so a missing limit shows.
 */
static void log_end(const char *what, int sites)
{
	char rec[8192], first_raw[200] = "", first_bad[200] = "";
	int mod = 0, raw = 0, bad = 0, lines = 0, bound;
	double secs = now() - kmsg_t0;
	ssize_t n;
	char *text;

	if (kmsg < 0) {
		tap(0, "%s: /dev/kmsg can be read (%s)", what, strerror(errno));
		return;
	}
	for (;;) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		*strchrnul(text, '\n') = '\0';
		lines++;
		if (raw_control(text) && !raw++)
			snprintf(first_raw, sizeof(first_raw), "%s", text);
		if (kernel_complains(text) && !bad++)
			snprintf(first_bad, sizeof(first_bad), "%s", text);
		/* The driver core's own, two per write to a uevent file. */
		if (strstr(text, "p2pmem") && strncmp(text, "synth uevent:", 13) &&
		    !strstr(text, "synthetic uevent"))
			mod++;
	}
	close(kmsg);
	kmsg = -1;
	bound = sites * 11 * (2 + (int)(secs / 5));
	tap(!bad, "%s: the kernel reports no bug or warning%s%s", what,
	    bad ? ": " : "", first_bad);
	tap(!raw, "%s: no raw control character in the %d log lines%s%s", what,
	    lines, raw ? ": " : "", first_raw);
	tap(mod <= bound, "%s: the module logged %d lines in %.1f s, rate-limited (at most %d)",
	    what, mod, secs, bound);
}

/* ---- faults ---------------------------------------------------------------- */

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;

static void on_fault(int sig)
{
	fault_sig = sig;
	siglongjmp(fault_jmp, 1);
}

static void catch_faults(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* 0 if the byte at @p can be read (into *@out), else the signal. */
static int try_read(const volatile char *p, char *out)
{
	if (sigsetjmp(fault_jmp, 1))
		return fault_sig;
	*out = *p;
	return 0;
}

static int try_write(volatile char *p, char v)
{
	if (sigsetjmp(fault_jmp, 1))
		return fault_sig;
	*p = v;
	return 0;
}

/* ---- ioctl ------------------------------------------------------------------ */

static int reach_at(int fd, void *arg)
{
	return ioctl(fd, P2PMEM_IOC_REACH, arg) ? errno : 0;
}

static void query_init(struct p2pmem_reach_query *q, const char *pci)
{
	memset(q, 0, sizeof(*q));
	q->size = QSIZE;
	memcpy(q->pci, pci, strnlen(pci, sizeof(q->pci)));
}

/*
 * A reply is the answer and nothing else: a known route, a verdict about
 * @pci terminated within its field, zeros after it, the size written back.
 */
static int answer_ok(const struct p2pmem_reach_query *q, const char *pci)
{
	const char *nul = memchr(q->verdict, 0, sizeof(q->verdict)), *p;

	if (!nul || q->size != QSIZE || q->route < P2PMEM_REACH_DIRECT ||
	    q->route > P2PMEM_REACH_UNSUPPORTED ||
	    strncmp(q->verdict, pci, strlen(pci)) || q->verdict[strlen(pci)] != ' ')
		return 0;
	for (p = nul; p < q->verdict + sizeof(q->verdict); p++)
		if (*p)
			return 0;
	return 1;
}

/*
 * Every command with our magic but P2PMEM_IOC_REACH and
 * P2PMEM_IOC_SET_CACHING, and every command with the magics next to it,
 * is ENOTTY (p2pmem_ioctl() knows those two numbers;
 * the VFS handles none of these itself), and touches nothing at its
 * argument.
 */
static void ioctl_numbers(int fd)
{
	static const unsigned int sizes[] = {
		0, 1, 2, 3, 4, 7, 8, 16, 32, 64, 128, 247, 248, 249, 255, 256,
		512, 1024, 4095, 4096, 4097, 8192, 16383,
	};
	static const unsigned int magics[] = { 0xb5, 0xb6, 0xb8, 0xb9 };
	static const struct {
		unsigned int cmd;
		const char *name;
	} known[] = {
		{ P2PMEM_IOC_REACH, "REACH" },
		{ P2PMEM_IOC_SET_CACHING, "SET_CACHING" },
	};
	size_t ns = sizeof(sizes) / sizeof(sizes[0]), i, m, k;
	unsigned int dir, nr, cmd, bad_cmd = 0;
	unsigned long calls = 0, bad = 0;
	unsigned char *buf, *ref;
	int bad_err = 0;

	buf = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ref = malloc(4 * PG);
	memset(buf, 0x5a, 4 * PG);
	memcpy(ref, buf, 4 * PG);

#define TRY(c) do {							\
		cmd = (c);						\
		if (cmd == P2PMEM_IOC_REACH ||				\
		    cmd == P2PMEM_IOC_SET_CACHING)			\
			break;						\
		calls++;						\
		if (!ioctl(fd, cmd, buf) || errno != ENOTTY) {		\
			if (!bad++) {					\
				bad_cmd = cmd;				\
				bad_err = errno;			\
			}						\
		}							\
	} while (0)

	for (dir = 0; dir < 4; dir++)
		for (nr = 0; nr < 256; nr++)
			for (i = 0; i < ns; i++)
				TRY(_IOC(dir, P2PMEM_IOC_MAGIC, nr, sizes[i]));
	tap(!bad, "ioctl: %lu commands with our magic (every direction, number 0-255, %zu sizes) but REACH and SET_CACHING: ENOTTY%s (first: 0x%08x %s)",
	    calls, ns, bad ? " NOT ALWAYS" : "", bad_cmd, errname(bad ? bad_err : ENOTTY));

	/* Each known number with every other direction and size. */
	for (k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
		calls = bad = 0;
		for (dir = 0; dir < 4; dir++)
			for (i = 0; i < (1U << _IOC_SIZEBITS); i++)
				TRY(_IOC(dir, P2PMEM_IOC_MAGIC,
					 _IOC_NR(known[k].cmd), i));
		tap(!bad, "ioctl: %s's number with each of the %lu other direction/size pairs: ENOTTY%s (first: 0x%08x %s)",
		    known[k].name, calls, bad ? " NOT ALWAYS" : "", bad_cmd,
		    errname(bad ? bad_err : ENOTTY));
	}

	calls = bad = 0;
	for (m = 0; m < sizeof(magics) / sizeof(magics[0]); m++)
		for (dir = 0; dir < 4; dir++)
			for (nr = 0; nr < 256; nr++) {
				TRY(_IOC(dir, magics[m], nr, 0));
				TRY(_IOC(dir, magics[m], nr, QSIZE));
			}
	TRY(0);
	TRY(0xffffffff);
	TRY(P2PMEM_IOC_REACH & ~0xffU);
	TRY(P2PMEM_IOC_REACH | 0x80);
	tap(!bad, "ioctl: %lu commands with magics 0xb5-0xb9 but ours, 0 and 0xffffffff: ENOTTY%s (first: 0x%08x %s)",
	    calls, bad ? " NOT ALWAYS" : "", bad_cmd, errname(bad ? bad_err : ENOTTY));
#undef TRY
	tap(!memcmp(buf, ref, 4 * PG), "ioctl: none of them wrote to its argument");

	/* Generic numbers the VFS passes on to a character device's driver. */
	expect(ERR(ioctl(fd, FIONREAD, buf)), ENOTTY, "ioctl FIONREAD (the VFS leaves it to the driver)");
	expect(ERR(ioctl(fd, FIOQSIZE, buf)), ENOTTY, "ioctl FIOQSIZE (only files, directories and links)");
	munmap(buf, 4 * PG);
	free(ref);
}

/*
 * Bad pointers.  get_user() reads the size first, copy_struct_from_user()
 * then reads exactly that many bytes (the part beyond ours must be zero),
 * copy_to_user() writes back min(size, ours): each step's fault is EFAULT,
 * and nothing is read or written outside [arg, arg + size).
 */
static void reach_pointers(int fd, const char *pci)
{
	struct p2pmem_reach_query q, *qp;
	char *two, *edge, *ro, *none;
	int ret;

	expect(reach_at(fd, NULL), EFAULT, "REACH: NULL");
	expect(reach_at(fd, (void *)1), EFAULT, "REACH: address 1");
	expect(reach_at(fd, (void *)0xffff888000000000UL), EFAULT, "REACH: a kernel address");
	expect(reach_at(fd, (void *)0x8000000000000000UL), EFAULT, "REACH: a non-canonical address");

	/* Two pages, the second unmapped: its first byte is the edge. */
	two = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(two + PG, PG);
	edge = two + PG;
	expect(reach_at(fd, edge), EFAULT, "REACH: an unmapped address");

	memset(two, 0, PG);
	*(uint16_t *)(edge - 2) = QSIZE;
	expect(reach_at(fd, edge - 2), EFAULT, "REACH: the size field itself straddles the end of a mapping");

	qp = (void *)(edge - 4);
	qp->size = QSIZE;
	expect(reach_at(fd, qp), EFAULT, "REACH: the struct starts 4 bytes before the end of a mapping");
	qp = (void *)(edge - (QSIZE - 1));
	query_init(&q, pci);
	memcpy(qp, &q, QSIZE - 1);
	expect(reach_at(fd, qp), EFAULT, "REACH: the struct's last byte lies past the end of a mapping");

	/* Exactly up to the edge: read and written whole, nothing beyond. */
	qp = (void *)(edge - QSIZE);
	query_init(qp, pci);
	ret = reach_at(fd, qp);
	expect(ret, 0, "REACH: a struct ending exactly at the end of a mapping (nothing read or written past it)");
	tap(!ret && answer_ok(qp, pci), "... and the answer is whole");

	/* A bigger size whose extra bytes lie past the edge. */
	qp = (void *)(edge - QSIZE);
	query_init(qp, pci);
	qp->size = QSIZE + 8;
	expect(reach_at(fd, qp), EFAULT, "REACH: size %u, the 8 bytes past ours unmapped (the zero check faults)", QSIZE + 8);

	/* The biggest size taken, ending at the edge; one more is refused unread. */
	memset(two, 0, PG);
	qp = (void *)two;
	query_init(qp, pci);
	qp->size = PG;
	ret = reach_at(fd, qp);
	expect(ret, 0, "REACH: size 4096 (a whole page, zero past ours)");
	tap(!ret && answer_ok(qp, pci), "... answered, with size %u written back", qp->size);
	query_init(qp, pci);
	qp->size = PG + 1;
	expect(reach_at(fd, qp), E2BIG, "REACH: size 4097 (more than a page; refused before reading any of it)");
	munmap(two, PG);

	/* Readable but not writable: the answer cannot be written back. */
	ro = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	query_init((void *)ro, pci);
	mprotect(ro, PG, PROT_READ);
	expect(reach_at(fd, ro), EFAULT, "REACH: a read-only struct (answer not writable)");
	query_init(&q, pci);
	tap(!memcmp(ro, &q, QSIZE), "... and it is unchanged");
	munmap(ro, PG);

	none = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect(reach_at(fd, none), EFAULT, "REACH: a PROT_NONE page");
	munmap(none, PG);

	/* Odd addresses are fine; so is a struct in p2pmem memory itself. */
	two = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	qp = (void *)(two + 1);
	query_init(&q, pci);
	memcpy(qp, &q, QSIZE);
	ret = reach_at(fd, qp);
	memcpy(&q, qp, QSIZE);
	expect(ret, 0, "REACH: a struct at an odd address");
	tap(!ret && answer_ok(&q, pci), "... answered");
	munmap(two, PG);
	two = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (two == MAP_FAILED) {
		tap(0, "REACH: mmap of the device for a struct in it (%s)", strerror(errno));
		return;
	}
	qp = (void *)two;
	query_init(qp, pci);
	ret = reach_at(fd, qp);
	expect(ret, 0, "REACH: a struct in a mapping of the device itself");
	tap(!ret && answer_ok(qp, pci), "... answered");
	munmap(two, PG);
}

/* Sizes and flags: the struct's versioning rules (uapi.h). */
static void reach_sizes(int fd, const char *pci)
{
	static const unsigned int small[] = { 0, 1, 4, 8, 40, QSIZE - 1 };
	static const unsigned int huge[] = { PG + 1, 8192, 1U << 20, 0x80000000U, 0xffffffffU };
	struct {
		struct p2pmem_reach_query q;
		unsigned char tail[64];
		unsigned char canary[16];
	} big;
	struct p2pmem_reach_query q, ref;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		query_init(&q, pci);
		q.size = small[i];
		ref = q;
		expect(reach_at(fd, &q), EINVAL, "REACH: size %u (below the first version's %u)", small[i], QSIZE);
		tap(!memcmp(&q, &ref, sizeof(q)), "... and the struct is unchanged");
	}
	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		query_init(&q, pci);
		q.size = huge[i];
		expect(reach_at(fd, &q), E2BIG, "REACH: size %u (more than a page)", huge[i]);
	}

	/*
	 * A bigger struct: taken while the part we do not know is zero, and
	 * only our part comes back (the canary past the caller's size is not
	 * even read; the tail within it stays zero).
	 */
	memset(&big, 0, sizeof(big));
	memset(big.canary, 0xa5, sizeof(big.canary));
	query_init(&big.q, pci);
	big.q.size = sizeof(big.q) + sizeof(big.tail);
	ret = reach_at(fd, &big);
	expect(ret, 0, "REACH: size %u, zero past ours", big.q.size);
	for (i = 0; i < sizeof(big.tail) && !big.tail[i]; i++)
		;
	tap(!ret && answer_ok(&big.q, pci) && i == sizeof(big.tail) &&
	    big.canary[0] == 0xa5 && big.canary[15] == 0xa5,
	    "... answered with size %u, nothing written past it", big.q.size);
	for (i = 0; i < sizeof(big.tail); i += 21) {
		memset(&big, 0, sizeof(big));
		query_init(&big.q, pci);
		big.q.size = sizeof(big.q) + sizeof(big.tail);
		big.tail[i] = 0x80;
		expect(reach_at(fd, &big), E2BIG, "REACH: size %u, byte %zu past ours not zero", big.q.size, QSIZE + i);
	}
	query_init(&q, pci);
	q.size = QSIZE + 1;
	memset(&big, 0, sizeof(big));
	memcpy(&big, &q, QSIZE);
	expect(reach_at(fd, &big), 0, "REACH: size %u (one byte more, zero)", QSIZE + 1);

	for (i = 0; i < 32; i += 7) {
		query_init(&q, pci);
		q.flags = 1U << i;
		expect(reach_at(fd, &q), EINVAL, "REACH: flags 0x%x (none defined)", q.flags);
	}

	/*
	 * The output fields come in full of junk: none of it may come back,
	 * every byte after the verdict's NUL is the module's zero.
	 */
	query_init(&q, pci);
	q.route = 0xdeadbeef;
	q.distance = 12345;
	q.reason = ~0U;
	q.info = ~0U;
	memset(q.verdict, 'J', sizeof(q.verdict));
	ret = reach_at(fd, &q);
	expect(ret, 0, "REACH: output fields filled with junk on the way in");
	tap(!ret && answer_ok(&q, pci), "... none of it comes back");
}

struct name_case {
	const char *desc;
	const char *bytes;
	size_t len;		/* 0: strlen(bytes) */
	int want;
};

/*
 * Names.  p2pmem_reach_ask() takes the field up to its first NUL, refuses
 * a field without one (32 bytes, EINVAL), trims white space, refuses what
 * is left empty (EINVAL) and looks the rest up among PCI devices by name,
 * ENODEV when there is none; the log names it escaped (%*pE).  The struct
 * is written back only on success.
 */
static void reach_names(int fd, const char *pci)
{
	char padded[40], spaced[40], nl[40], longest[40], after_nul[40];
	const struct name_case cases[] = {
		{ "the client's name", pci, 0, 0 },
		{ "the client's name and a newline", nl, 0, 0 },
		{ "the client's name in spaces, 31 bytes", spaced, 0, 0 },
		{ "the client's name, NUL, then junk in the rest of the field", after_nul, 32, 0 },
		{ "the client's name padded to 32 bytes (no NUL)", padded, 32, EINVAL },
		{ "32 letters, no NUL", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 32, EINVAL },
		{ "32 bytes of 0xff, no NUL", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
					      "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 32, EINVAL },
		{ "31 digits", longest, 0, ENODEV },
		{ "empty", "", 0, EINVAL },
		{ "spaces only", "    ", 0, EINVAL },
		{ "a newline only", "\n", 0, EINVAL },
		{ "tabs and carriage returns only", "\t\r\t\r", 0, EINVAL },
		{ "a PCI name nobody has", "0000:ff:1f.7", 0, ENODEV },
		{ "a name, a newline and a fake log line", "0000:00:03.0\nP2PMEM-FUZZ-FORGED", 0, ENODEV },
		{ "printf conversions", "%n%n%n%n%s%s%s%s%p%x", 0, ENODEV },
		{ "terminal escapes", "\x1b[2J\x1b[31mP2PMEM-FUZZ\x1b[0m", 0, ENODEV },
		{ "control characters and C1 CSI", "a\b\a\x7f\x9b\x1b" "c", 0, ENODEV },
		{ "..", "..", 0, ENODEV },
		{ "/", "/", 0, ENODEV },
		{ "a path", "../../../../etc/passwd", 0, ENODEV },
		{ "a sysfs path", "/sys/bus/pci/devices/", 0, ENODEV },
		{ "a class device's name", "p2pmem0", 0, ENODEV },
		{ "UTF-8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 0, ENODEV },
		{ "a lone high byte", "\xff", 0, ENODEV },
		{ "a NUL first, junk after", "\0junkjunk", 10, EINVAL },
	};
	struct p2pmem_reach_query q, ref;
	size_t i, len;
	int ret;

	snprintf(nl, sizeof(nl), "%s\n", pci);
	snprintf(spaced, sizeof(spaced), "   %-28s", pci);
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, pci, strlen(pci));
	memset(after_nul, 'Z', sizeof(after_nul));
	memcpy(after_nul, pci, strlen(pci) + 1);
	memset(longest, '7', 31);
	longest[31] = '\0';

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len ?: strlen(cases[i].bytes);
		memset(&q, 0, sizeof(q));
		q.size = QSIZE;
		memcpy(q.pci, cases[i].bytes, len);
		ref = q;
		ret = reach_at(fd, &q);
		expect(ret, cases[i].want, "REACH name: %s", cases[i].desc);
		if (cases[i].want)
			tap(!memcmp(&q, &ref, sizeof(q)), "... and the struct is unchanged");
		else
			tap(!ret && answer_ok(&q, pci) && !memcmp(q.pci, ref.pci, sizeof(q.pci)),
			    "... answered about %s, the name field as given", pci);
	}
}

/*
 * Every rate-limited error of the ioctl, hundreds of times over: the log
 * must stay at a few lines per call site (log_end() counts them).
 */
static void reach_burst(int fd, const char *pci)
{
	struct p2pmem_reach_query q;
	struct {
		struct p2pmem_reach_query q;
		char tail[8];
	} big;
	int i, wrong = 0;

	for (i = 0; i < 300; i++) {
		query_init(&q, pci);
		q.size = 4;
		wrong += reach_at(fd, &q) != EINVAL;
		q.size = 1U << 20;
		wrong += reach_at(fd, &q) != E2BIG;
		memset(&big, 0, sizeof(big));
		query_init(&big.q, pci);
		big.q.size = sizeof(big);
		big.tail[3] = 1;
		wrong += reach_at(fd, &big) != E2BIG;
		query_init(&q, pci);
		q.flags = 2;
		wrong += reach_at(fd, &q) != EINVAL;
		query_init(&q, "0000:ff:1f.7\nP2PMEM-FUZZ");
		wrong += reach_at(fd, &q) != ENODEV;
		query_init(&q, "  ");
		wrong += reach_at(fd, &q) != EINVAL;
	}
	tap(!wrong, "REACH: each of its 6 logged errors 300 times over, each with its errno (%d wrong)", wrong);
}

/*
 * A 32-bit caller (int 0x80 from this 64-bit process: the compat syscall
 * table, so compat_ptr_ioctl()).  The struct has no pointer and no
 * 64-bit field, so its layout is the same.  Run in a child: a kernel
 * without IA-32 emulation may kill the caller instead of failing it.
 */
static long ioctl32(int fd, unsigned int cmd, uint32_t arg)
{
	long ret;

	asm volatile("int $0x80"
		     : "=a"(ret)
		     : "a"(54L /* __NR_ioctl, i386 */), "b"((long)fd), "c"((long)cmd), "d"((long)arg)
		     : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static void reach_compat(int fd, const char *pci)
{
	struct p2pmem_reach_query *q;
	int pfd[2], st;
	char res[3] = "";
	pid_t pid;

	q = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (q == MAP_FAILED || pipe(pfd)) {
		tap(0, "compat REACH: a buffer below 4 GiB (%s)", strerror(errno));
		return;
	}
	pid = fork();
	if (!pid) {
		long r;

		query_init(q, pci);
		r = ioctl32(fd, P2PMEM_IOC_REACH, (uint32_t)(uintptr_t)q);
		res[0] = r == -ENOSYS ? 'n' : !r && answer_ok(q, pci) ? 'y' : 'N';
		r = ioctl32(fd, _IOC(_IOC_READ | _IOC_WRITE, P2PMEM_IOC_MAGIC, 0x02, QSIZE),
			    (uint32_t)(uintptr_t)q);
		res[1] = r == -ENOTTY ? 'y' : 'N';
		r = ioctl32(fd, P2PMEM_IOC_REACH, 0);
		res[2] = r == -EFAULT ? 'y' : 'N';
		if (write(pfd[1], res, 3) != 3)
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], res, 3) != 3)
		res[0] = 0;
	waitpid(pid, &st, 0);
	close(pfd[0]);
	munmap(q, PG);
	if (!res[0] || res[0] == 'n') {
		skip("compat REACH (int 0x80)", "no IA-32 emulation in this kernel");
		return;
	}
	tap(res[0] == 'y', "compat REACH from a 32-bit caller: success, the same answer");
	tap(res[1] == 'y', "compat: an unknown command: ENOTTY");
	tap(res[2] == 'y', "compat: REACH with NULL: EFAULT");
}

/* The file operations the device does not have. */
static void fops(const char *dev, int fd)
{
	char c = 0;
	int ofd;

	expect(ERR(pwrite(fd, &c, 1, 0)), ESPIPE, "pwrite (nonseekable)");
	/* vfs_fallocate(): a character device is neither file nor disk. */
	expect(ERR(fallocate(fd, 0, 0, PG)), ENODEV, "fallocate");
	expect(ERR(ftruncate(fd, PG)), EINVAL, "ftruncate (not a regular file)");
	ofd = open_or_die(dev, O_RDONLY);
	expect(reach_at(ofd, NULL), EFAULT, "REACH on a read-only descriptor reaches the module (NULL: EFAULT)");
	close(ofd);
	ofd = open_or_die(dev, O_PATH);
	expect(ERR(ioctl(ofd, P2PMEM_IOC_REACH, NULL)), EBADF, "REACH on an O_PATH descriptor");
	close(ofd);
}

/*
 * P2PMEM_IOC_SET_CACHING on a file never mapped: get_user() faults are
 * EFAULT, modes other than 0 and 1 EINVAL (each logged, rate-limited),
 * and the two known modes are taken.
 */
static void caching(int fd)
{
	static const __u32 bad_modes[] = { 2, 3, 0x80000000U, 0xffffffffU };
	__u32 mode;
	size_t i;

	expect(ERR(ioctl(fd, P2PMEM_IOC_SET_CACHING, NULL)), EFAULT, "SET_CACHING: NULL");
	expect(ERR(ioctl(fd, P2PMEM_IOC_SET_CACHING, (void *)0xffff888000000000UL)), EFAULT,
	       "SET_CACHING: a kernel address");
	expect(ERR(ioctl(fd, P2PMEM_IOC_SET_CACHING, (void *)0x8000000000000000UL)), EFAULT,
	       "SET_CACHING: a non-canonical address");
	for (i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
		mode = bad_modes[i];
		expect(ERR(ioctl(fd, P2PMEM_IOC_SET_CACHING, &mode)), EINVAL,
		       "SET_CACHING: mode %#x", mode);
	}
	mode = P2PMEM_CACHING_WC;
	expect(ERR(ioctl(fd, P2PMEM_IOC_SET_CACHING, &mode)), 0, "SET_CACHING: write-combining");
	mode = P2PMEM_CACHING_UNCACHED;
	expect(ERR(ioctl(fd, P2PMEM_IOC_SET_CACHING, &mode)), 0, "SET_CACHING: back to uncached");
}

static int cmd_ioctl(const char *dev, const char *pci)
{
	int fd = open_or_die(dev, O_RDWR);
	double t0 = now();

	log_begin();
	ioctl_numbers(fd);
	caching(fd);
	reach_pointers(fd, pci);
	reach_sizes(fd, pci);
	reach_names(fd, pci);
	reach_burst(fd, pci);
	reach_compat(fd, pci);
	fops(dev, fd);
	close(fd);
	/*
	 * p2pmem_topology_ioctl() 4 sites, p2pmem_reach_ask() 2,
	 * p2pmem_set_caching() 2.
	 */
	log_end("ioctl", 8);
	printf("# p2pmem_fuzz ioctl took %.1f s\n", now() - t0);
	return failures ? 1 : 0;
}

/* ---- mappings ---------------------------------------------------------------- */

#define NP 64UL			/* pages per test mapping */

static char *map_dev(int fd, size_t len, int prot)
{
	char *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap %zu: %s\n", len, strerror(errno));
		exit(2);
	}
	return p;
}

/*
 * A mapping of the device with nothing mapped in the 16 pages after it
 * (the allocator fills address space top-down, so a fresh mapping usually
 * ends where an older one begins).  Use the edge before mapping more.
 */
static char *map_edge(int fd, size_t len, int prot)
{
	char *r = mmap(NULL, len + 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p = mmap(r, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);

	if (r == MAP_FAILED || p != r) {
		fprintf(stderr, "mmap at %p: %s\n", (void *)r, strerror(errno));
		exit(2);
	}
	munmap(r + len, 16 * PG);
	return p;
}

/* An address range nothing is mapped at (reserved, then released). */
static char *hole(size_t len)
{
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p, len);
	return p;
}

static int intact(const char *p, size_t len, uint64_t seed, uint64_t off)
{
	return pat_check(p, len, seed, off) < 0;
}

static void mmap_flags(const char *dev, int fd)
{
	int rfd = open_or_die(dev, O_RDONLY), wfd = open_or_die(dev, O_WRONLY);
	unsigned long long avail = attr_num("available");
	char *p, *q;

	/* do_mmap(): a shared writable mapping needs a writable file. */
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
	expect(p == MAP_FAILED ? errno : 0, EACCES, "mmap PROT_WRITE of a read-only descriptor");
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, wfd, 0);
	expect(p == MAP_FAILED ? errno : 0, EACCES, "mmap of a write-only descriptor");
	p = mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0);
	expect(p == MAP_FAILED ? errno : 0, EINVAL, "mmap of length 0");
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 1UL << 50);
	expect(p == MAP_FAILED ? errno : 0, EINVAL, "mmap at offset 2^50 (only 0 is taken)");
	/* MAP_SYNC is for DAX files; the module offers no extra map flags. */
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	expect(p == MAP_FAILED ? errno : 0, EOPNOTSUPP, "mmap MAP_SHARED_VALIDATE|MAP_SYNC");
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, fd, 0);
	expect(p == MAP_FAILED ? errno : 0, EOPNOTSUPP, "mmap MAP_SHARED_VALIDATE with an unknown flag");
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_HUGETLB, fd, 0);
	expect(p == MAP_FAILED ? errno : 0, EINVAL, "mmap MAP_HUGETLB of a non-hugetlbfs file");
	tap(attr_num("available") == avail, "... none of them took memory");

	/* MAP_POPULATE cannot fail the mmap: population errors are ignored. */
	p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	expect(p == MAP_FAILED ? errno : 0, 0, "mmap MAP_POPULATE");
	tap(p != MAP_FAILED && p[0] == 0 && p[4 * PG - 1] == 0, "... reads zeros");
	if (p != MAP_FAILED)
		munmap(p, 4 * PG);
	/* MAP_FIXED over a live buffer ends it (vm_ops->close, last VMA). */
	p = map_dev(fd, 8 * PG, PROT_READ | PROT_WRITE);
	memset(p, 1, 8 * PG);
	q = mmap(p, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	tap(q == p && p[0] == 0 && p[8 * PG - 1] == 0,
	    "mmap MAP_FIXED over a buffer gives a new zeroed buffer in its place");
	tap(attr_num("allocated") == attr_num("size") - avail + 8 * PG,
	    "... and the old buffer's memory is back");
	munmap(p, 8 * PG);
	tap(attr_num("available") == avail, "... all of it after munmap");
	close(rfd);
	close(wfd);
}

/*
 * The result of each advice on a p2pmem VMA: VM_SHARED, VM_MIXEDMAP,
 * VM_DONTEXPAND, VM_DONTDUMP (p2pmem_mmap()), a file that is a character
 * device.  0 or the errno, from mm/madvise.c of the kernels tested.
 */
static int madv_want(int advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:		/* vfs_fadvise(): no-op without a bdi */
	case MADV_DONTNEED:		/* zaps PTEs; the buffer keeps its pages */
	case MADV_DONTFORK:
	case MADV_MERGEABLE:		/* KSM skips shared and special VMAs... */
	case MADV_UNMERGEABLE:		/* ...and says yes */
	case MADV_HUGEPAGE:		/* a VMA flag; never acted on here */
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:		/* already set */
	case MADV_KEEPONFORK:
	case MADV_COLD:			/* page walk skips ZONE_DEVICE pages */
	case MADV_PAGEOUT:
		return 0;
	case MADV_FREE:			/* anonymous memory only */
	case MADV_DODUMP:		/* refused for VM_SPECIAL */
	case MADV_WIPEONFORK:		/* anonymous, private memory only */
		return EINVAL;
	case MADV_REMOVE:		/* vfs_fallocate(PUNCH_HOLE) on a char device */
		return ENODEV;
	case MADV_DOFORK:
		/*
		 * Refused for VM_IO up to 6.12; 7.2 refuses it for every VMA
		 * that cannot merge (VM_SPECIAL): there MADV_DONTFORK on a
		 * p2pmem mapping is for good.  (Measured on 7.2; the exact
		 * release between is not pinned down.)
		 */
		return kver >= 700 ? EINVAL : 0;
	case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE:
		if (kver < 514)
			return EINVAL;
		/*
		 * GUP faults the range in; on P2PDMA kernels it refuses the
		 * pages (EREMOTEIO), which madvise_populate() turns into
		 * ENOMEM ("unhandled return value", once).
		 */
		return p2pdma ? ENOMEM : 0;
	case MADV_DONTNEED_LOCKED:
		return kver < 518 ? EINVAL : 0;
	case MADV_COLLAPSE:		/* VM_NO_KHUGEPAGED */
		return EINVAL;
	case MADV_GUARD_INSTALL:	/* 6.13+: not for VM_SPECIAL; unknown before */
	case MADV_GUARD_REMOVE:
		return EINVAL;
	default:			/* no such advice */
		return EINVAL;
	}
}

static void madvise_all(int fd)
{
	static const int advices[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
		18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 64,
		99, 102, 103, 104, 255, -1,
	};
	size_t len = NP * PG, i;
	char *p = map_edge(fd, len, PROT_READ | PROT_WRITE);
	unsigned long long alloc;

	pat_fill(p, len, 41, 0);
	alloc = attr_num("allocated");
	for (i = 0; i < sizeof(advices) / sizeof(advices[0]); i++) {
		int a = advices[i], ret = ERR(madvise(p, len, a));

		expect(ret, madv_want(a), "madvise advice %d on a whole mapping", a);
		tap(intact(p, len, 41, 0) && attr_num("allocated") == alloc,
		    "... the buffer's data and memory are as before");
	}
	skip("madvise MADV_HWPOISON and MADV_SOFT_OFFLINE",
	     "root-only error injection that would poison BAR pages for good");

	/* Range rules (the advice is DONTNEED: it acts on what is mapped). */
	expect(ERR(madvise(p + 1, PG, MADV_DONTNEED)), EINVAL, "madvise at an unaligned address");
	expect(ERR(madvise(p, 0, MADV_DONTNEED)), 0, "madvise of length 0");
	expect(ERR(madvise(p, (size_t)-PG, MADV_DONTNEED)), EINVAL, "madvise of a length that wraps");
	expect(ERR(madvise(p + (NP - 1) * PG, 2 * PG, MADV_DONTNEED)), ENOMEM,
	       "madvise DONTNEED past the end of the mapping (the mapped part is done)");
	expect(ERR(madvise(p + 8 * PG, 8 * PG, MADV_DODUMP)), EINVAL, "madvise DODUMP of a part");
	expect(ERR(madvise(p + 8 * PG, 8 * PG, MADV_DONTFORK)), 0, "madvise DONTFORK of a part (splits the VMA)");
	expect(ERR(madvise(p + 8 * PG, 8 * PG, MADV_DOFORK)), madv_want(MADV_DOFORK), "... and DOFORK again");
	tap(intact(p, len, 41, 0), "... the data is intact");
	munmap(p, len);
}

/*
 * MADV_DONTNEED drops PTEs, not pages: the buffer holds every page
 * (p2pmem.c, "struct p2pmem_buf"), so a touch after it faults the same
 * page back in and reads what was written, never zeros and never another
 * buffer's data.
 */
static void dontneed(int fd)
{
	size_t len = NP * PG;
	char *a = map_dev(fd, len, PROT_READ | PROT_WRITE);
	char *b = map_dev(fd, len, PROT_READ | PROT_WRITE);
	unsigned long long alloc;

	pat_fill(a, len, 51, 0);
	pat_fill(b, len, 52, 0);
	alloc = attr_num("allocated");
	expect(ERR(madvise(a, len, MADV_DONTNEED)), 0, "MADV_DONTNEED on buffer A");
	tap(attr_num("allocated") == alloc, "... A keeps its memory");
	tap(intact(a, len, 51, 0), "... and a touch reads A's own data back (not zeros, not B's)");
	tap(intact(b, len, 52, 0), "... B is untouched");
	expect(ERR(madvise(a + 3 * PG, 5 * PG, MADV_DONTNEED)), 0, "MADV_DONTNEED of a few pages inside A");
	pat_fill(a + 4 * PG, PG, 53, 0);
	tap(intact(a + 3 * PG, PG, 51, 3 * PG) && intact(a + 4 * PG, PG, 53, 0) &&
	    intact(a + 5 * PG, 3 * PG, 51, 5 * PG), "... written again, and read back");
	munmap(a, len);
	munmap(b, len);
}

/* The child's view: 0 if it reads @seed at @p, 1 if not, 2 on a fault. */
static int child_reads(const char *p, size_t len, uint64_t seed)
{
	pid_t pid = fork();
	int st;

	if (!pid) {
		char c;

		catch_faults();
		if (try_read(p, &c))
			_exit(2);
		_exit(intact(p, len, seed, 0) ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

static void forks(int fd)
{
	size_t len = 8 * PG;
	char *p = map_dev(fd, len, PROT_READ | PROT_WRITE);

	pat_fill(p, len, 61, 0);
	madvise(p, len, MADV_DONTFORK);
	tap(child_reads(p, len, 61) == 2, "after MADV_DONTFORK a child has no mapping there (SIGSEGV)");
	if (madv_want(MADV_DOFORK)) {
		expect(ERR(madvise(p, len, MADV_DOFORK)), madv_want(MADV_DOFORK), "MADV_DOFORK");
		tap(child_reads(p, len, 61) == 2, "... so a child still has no mapping there (SIGSEGV)");
	} else {
		madvise(p, len, MADV_DOFORK);
		tap(child_reads(p, len, 61) == 0, "after MADV_DOFORK a child reads the parent's data");
	}
	tap(intact(p, len, 61, 0), "... and the parent still does");
	munmap(p, len);
}

static void mremaps(int fd)
{
	unsigned long long avail = attr_num("available");
	size_t len = NP * PG;
	char *p = map_dev(fd, len, PROT_READ | PROT_WRITE), *q, *h, *e, c;

	pat_fill(p, len, 71, 0);

	/*
	 * vma_to_resize(): VM_DONTEXPAND refuses every growth with EFAULT, in
	 * place or moving, and a duplicate (old_len 0) is a growth from 0.
	 */
	q = mremap(p, len, 2 * len, 0);
	expect(q == MAP_FAILED ? errno : 0, EFAULT, "mremap grow in place");
	q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
	expect(q == MAP_FAILED ? errno : 0, EFAULT, "mremap grow, may move");
	q = mremap(p, 0, PG, MREMAP_MAYMOVE);
	expect(q == MAP_FAILED ? errno : 0, EFAULT, "mremap with old size 0 (duplicate the mapping)");
	/* A failing MREMAP_FIXED may unmap its target first: aim at a hole. */
	h = hole(len + 16 * PG);
	q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, h);
	expect(q == MAP_FAILED ? errno : 0, EINVAL, "mremap MREMAP_DONTUNMAP (not for VM_DONTEXPAND)");
	q = mremap(p, len, len, MREMAP_FIXED, h);
	expect(q == MAP_FAILED ? errno : 0, EINVAL, "mremap MREMAP_FIXED without MREMAP_MAYMOVE");
	tap(intact(p, len, 71, 0) && attr_num("available") == avail - len, "... data and memory as before");

	/*
	 * A move of more than the mapping, nothing mapped after it: up to
	 * 6.16 mremap() takes one VMA and refuses (EFAULT); 6.17 moves every
	 * VMA in the range (gaps kept), so the mapping simply moves.
	 */
	e = map_edge(fd, 4 * PG, PROT_READ | PROT_WRITE);
	pat_fill(e, 4 * PG, 73, 0);
	h = hole(5 * PG + 16 * PG);
	q = mremap(e, 5 * PG, 5 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, h);
	expect(q == MAP_FAILED ? errno : 0, kver >= 617 ? 0 : EFAULT,
	       "mremap move of more than the mapping, nothing after it");
	if (q != MAP_FAILED)
		e = q;
	tap(e == (kver >= 617 ? h : e) && intact(e, 4 * PG, 73, 0), "... the data %s",
	    kver >= 617 ? "moves along" : "stays");
	munmap(e, 4 * PG);
	h = hole(len + 16 * PG);

	/* Shrink: the tail goes; the buffer keeps all its pages till the end. */
	q = mremap(p, len, len / 2, 0);
	expect(q == MAP_FAILED ? errno : 0, 0, "mremap shrink to half");
	tap(q == p && intact(p, len / 2, 71, 0), "... in place, the kept half intact");
	tap(try_read(p + len / 2, &c) == SIGSEGV, "... the cut half is gone (SIGSEGV)");
	tap(attr_num("available") == avail - len, "... the buffer keeps all its memory");

	/* Move all of it; then move a part of it on its own. */
	q = mremap(p, len / 2, len / 2, MREMAP_MAYMOVE | MREMAP_FIXED, h);
	expect(q == MAP_FAILED ? errno : 0, 0, "mremap move");
	tap(q == h && intact(q, len / 2, 71, 0), "... the data moves along");
	tap(try_read(p, &c) == SIGSEGV, "... nothing left at the old address (SIGSEGV)");
	p = q;
	h = hole(8 * PG);
	q = mremap(p + 8 * PG, 8 * PG, 8 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, h);
	expect(q == MAP_FAILED ? errno : 0, 0, "mremap move of 8 pages out of the middle");
	tap(q == h && intact(q, 8 * PG, 71, 8 * PG) && intact(p, 8 * PG, 71, 0) &&
	    intact(p + 16 * PG, len / 2 - 16 * PG, 71, 16 * PG),
	    "... each piece holds its own part of the data");
	pat_fill(q, PG, 72, 0);
	tap(intact(q, PG, 72, 0), "... the moved piece can be written");
	munmap(p, 8 * PG);
	munmap(p + 16 * PG, len / 2 - 16 * PG);
	tap(attr_num("available") == avail - len, "... memory held while a piece is mapped");
	munmap(q, 8 * PG);
	tap(attr_num("available") == avail, "... and back when the last piece goes");
}

static int noexec_dev(void)
{
	char line[512];
	FILE *f = fopen("/proc/mounts", "r");
	int ret = 0;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " /dev ") && strstr(line, "noexec"))
			ret = 1;
	if (f)
		fclose(f);
	return ret;
}

static void mprotects(const char *dev, int fd)
{
	size_t len = 16 * PG;
	char *p = map_dev(fd, len, PROT_READ | PROT_WRITE), c;
	int rfd;

	pat_fill(p, len, 81, 0);
	expect(ERR(mprotect(p, len, PROT_NONE)), 0, "mprotect PROT_NONE");
	tap(try_read(p, &c) == SIGSEGV, "... a read gets SIGSEGV");
	expect(ERR(mprotect(p, len, PROT_READ)), 0, "mprotect PROT_READ");
	tap(!try_read(p + PG, &c) && intact(p, len, 81, 0), "... reads work, the data intact");
	tap(try_write(p + PG, 1) == SIGSEGV, "... a write gets SIGSEGV");
	tap(intact(p, len, 81, 0), "... and changed nothing");
	expect(ERR(mprotect(p + 4 * PG, 4 * PG, PROT_READ | PROT_WRITE)), 0, "mprotect PROT_READ|PROT_WRITE on a part");
	tap(!try_write(p + 5 * PG, 1) && try_write(p + 9 * PG, 1) == SIGSEGV,
	    "... writes there work, next to it not");
	pat_fill(p + 5 * PG, 8, 81, 5 * PG);
	expect(ERR(mprotect(p, len, PROT_READ | PROT_EXEC)),
	       noexec_dev() ? EACCES : 0, "mprotect PROT_READ|PROT_EXEC (/dev %s noexec)",
	       noexec_dev() ? "is" : "is not");
	expect(ERR(mprotect(p, len, PROT_READ | PROT_WRITE | 0x100)), EINVAL, "mprotect with an unknown bit");
	expect(ERR(mprotect(p, len, PROT_READ | PROT_GROWSDOWN)), EINVAL, "mprotect PROT_GROWSDOWN");
	expect(ERR(mprotect(p, len, PROT_READ | PROT_WRITE)), 0, "mprotect back to PROT_READ|PROT_WRITE");
	tap(!try_write(p, 0x11) && intact(p + PG, len - PG, 81, PG), "... writes work again, the data intact");
	munmap(p, len);

	/* A read-only file cannot become writable (VM_MAYWRITE is not set). */
	rfd = open_or_die(dev, O_RDONLY);
	p = map_dev(rfd, PG, PROT_READ);
	expect(ERR(mprotect(p, PG, PROT_READ | PROT_WRITE)), EACCES,
	       "mprotect PROT_WRITE on a mapping of a read-only descriptor");
	munmap(p, PG);
	close(rfd);
}

static long vmlck_kb(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmLck:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

/*
 * mlock: mlock_fixup() never sets VM_LOCKED on a VM_SPECIAL VMA (nothing
 * to lock, nothing counted), then the range is populated through GUP,
 * which P2PDMA kernels refuse (EREMOTEIO, passed through as it is).
 * msync(MS_INVALIDATE), which fails on locked VMAs, shows it stayed
 * unlocked.  mlockall() ignores population errors.
 */
static void mlocks(int fd)
{
	size_t len = 16 * PG;
	char *p = map_dev(fd, len, PROT_READ | PROT_WRITE);
	long before = vmlck_kb();

	pat_fill(p, len, 91, 0);
	expect(ERR(mlock(p, len)), p2pdma ? EREMOTEIO : 0, "mlock");
	tap(vmlck_kb() == before, "... locks nothing (VmLck %ld kB, was %ld)", vmlck_kb(), before);
	expect(ERR(msync(p, len, MS_INVALIDATE)), 0, "... so msync MS_INVALIDATE still works");
	expect(ERR(munlock(p, len)), 0, "munlock");
	/* VM_LOCKONFAULT is not set either, so this populates too. */
	expect(ERR(mlock2(p, len, MLOCK_ONFAULT)), p2pdma ? EREMOTEIO : 0, "mlock2 MLOCK_ONFAULT");
	expect(ERR(munlock(p, len)), 0, "munlock");
	expect(ERR(mlockall(MCL_CURRENT)), 0, "mlockall MCL_CURRENT");
	expect(ERR(munlockall()), 0, "munlockall");
	tap(vmlck_kb() == before && intact(p, len, 91, 0), "... the data intact, nothing locked");
	munmap(p, len);
}

static void msyncs(int fd)
{
	size_t len = 16 * PG;
	char *p = map_edge(fd, len, PROT_READ | PROT_WRITE);

	pat_fill(p, len, 101, 0);
	/* msync(): fsync is noop_fsync; nothing to invalidate. */
	expect(ERR(msync(p, len, MS_SYNC)), 0, "msync MS_SYNC");
	expect(ERR(msync(p, len, MS_ASYNC)), 0, "msync MS_ASYNC");
	expect(ERR(msync(p, len, MS_INVALIDATE)), 0, "msync MS_INVALIDATE");
	expect(ERR(msync(p, len, MS_SYNC | MS_INVALIDATE)), 0, "msync MS_SYNC|MS_INVALIDATE");
	expect(ERR(msync(p, len, MS_SYNC | MS_ASYNC)), EINVAL, "msync MS_SYNC|MS_ASYNC");
	expect(ERR(msync(p, len, 8)), EINVAL, "msync with an unknown flag");
	expect(ERR(msync(p + 1, PG, MS_SYNC)), EINVAL, "msync at an unaligned address");
	expect(ERR(msync(p + len - PG, 2 * PG, MS_SYNC)), ENOMEM, "msync past the end of the mapping");
	tap(intact(p, len, 101, 0), "... the data intact");
	munmap(p, len);
}

/*
 * /proc/PID/mem and process_vm_readv/writev go through GUP on the target's
 * pages.  Where GUP takes p2pmem pages (no CONFIG_PCI_P2PDMA) they read
 * and write them like RAM; on P2PDMA kernels GUP refuses them and the
 * vm_ops have no ->access, so /proc/PID/mem fails with EIO and
 * process_vm_* with EFAULT.  A FOLL_FORCE write into a shared mapping
 * that is not writable is refused everywhere (EIO).
 */
static void remote_access(int fd)
{
	size_t len = 8 * PG;
	char *ro = map_dev(fd, PG, PROT_READ), *buf = malloc(2 * PG);
	char *p = map_edge(fd, len, PROT_READ | PROT_WRITE);
	int want_mem = p2pdma ? EIO : 0, want_pvm = p2pdma ? EFAULT : 0, mem, st;
	struct iovec l, r;
	char path[64], go;
	int pfd[2];
	ssize_t n;
	pid_t pid;

	pat_fill(p, len, 111, 0);
	mem = open_or_die("/proc/self/mem", O_RDWR);
	n = pread(mem, buf, PG, (off_t)(uintptr_t)(p + PG));
	expect(n < 0 ? errno : 0, want_mem, "/proc/self/mem read of a page");
	tap(p2pdma ? n < 0 : n == PG && intact(buf, PG, 111, PG), "... %s", p2pdma ? "nothing read" : "the right bytes");
	pat_fill(buf, PG, 112, 0);
	n = pwrite(mem, buf, PG, (off_t)(uintptr_t)(p + 2 * PG));
	expect(n < 0 ? errno : 0, want_mem, "/proc/self/mem write of a page");
	tap(p2pdma ? n < 0 && intact(p + 2 * PG, PG, 111, 2 * PG) : n == PG && intact(p + 2 * PG, PG, 112, 0),
	    "... %s", p2pdma ? "nothing written" : "the mapping reads the new bytes");
	n = pread(mem, buf, 2 * PG, (off_t)(uintptr_t)(p + len - PG));
	if (p2pdma)
		expect(n < 0 ? errno : 0, EIO, "/proc/self/mem read across the end of the mapping");
	else
		tap(n == PG && intact(buf, PG, 111, len - PG),
		    "/proc/self/mem read across the end of the mapping: the mapped page only (%zd bytes)", n);

	n = pwrite(mem, buf, 8, (off_t)(uintptr_t)ro);
	expect(n < 0 ? errno : 0, EIO, "/proc/self/mem write into a read-only shared mapping");
	tap(ro[0] == 0, "... which stays zero");
	munmap(ro, PG);
	close(mem);

	l.iov_base = buf;
	l.iov_len = PG;
	r.iov_base = p + 3 * PG;
	r.iov_len = PG;
	memset(buf, 0, PG);
	n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	expect(n < 0 ? errno : 0, want_pvm, "process_vm_readv from the mapping");
	tap(p2pdma ? n < 0 : n == PG && intact(buf, PG, 111, 3 * PG), "... %s", p2pdma ? "nothing read" : "the right bytes");
	pat_fill(buf, PG, 113, 0);
	n = process_vm_writev(getpid(), &l, 1, &r, 1, 0);
	expect(n < 0 ? errno : 0, want_pvm, "process_vm_writev into the mapping");
	tap(intact(p + 3 * PG, PG, p2pdma ? 111 : 113, p2pdma ? 3 * PG : 0), "... %s",
	    p2pdma ? "nothing written" : "the mapping reads the new bytes");
	/* The local side is a plain user copy (a fault, not GUP): works everywhere. */
	pat_fill(buf, PG, 114, 0);
	l.iov_base = p + 4 * PG;
	r.iov_base = buf;
	n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	tap(n == PG && intact(p + 4 * PG, PG, 114, 0), "process_vm_readv into the mapping from RAM: %zd bytes, the right ones", n);
	l.iov_base = buf;
	l.iov_len = 2 * PG;
	r.iov_base = p + len - PG;
	r.iov_len = 2 * PG;
	n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	if (p2pdma)
		expect(n < 0 ? errno : 0, EFAULT, "process_vm_readv across the end of the mapping");
	else
		tap(n == PG, "process_vm_readv across the end of the mapping: the mapped page only (%zd bytes)", n);

	/* Another process's mapping: a child's, inherited from us. */
	pat_fill(p, PG, 115, 0);
	if (pipe(pfd))
		return;
	pid = fork();
	if (!pid) {
		close(pfd[1]);
		if (read(pfd[0], &go, 1) != 1)
			_exit(3);
		/* go: '1' if the parent's writes must have landed. */
		_exit(intact(p + 5 * PG, PG, go == '1' ? 116 : 111, go == '1' ? 0 : 5 * PG) ? 0 : 1);
	}
	close(pfd[0]);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open_or_die(path, O_RDWR);
	n = pread(mem, buf, PG, (off_t)(uintptr_t)p);
	expect(n < 0 ? errno : 0, want_mem, "/proc/PID/mem read of a child's mapping");
	tap(p2pdma ? n < 0 : n == PG && intact(buf, PG, 115, 0), "... %s", p2pdma ? "nothing read" : "the right bytes");
	pat_fill(buf, PG, 116, 0);
	n = pwrite(mem, buf, PG, (off_t)(uintptr_t)(p + 5 * PG));
	expect(n < 0 ? errno : 0, want_mem, "/proc/PID/mem write into a child's mapping");
	close(mem);
	l.iov_base = buf;
	l.iov_len = PG;
	r.iov_base = p + 6 * PG;
	r.iov_len = PG;
	n = process_vm_readv(pid, &l, 1, &r, 1, 0);
	expect(n < 0 ? errno : 0, want_pvm, "process_vm_readv from a child's mapping");
	go = p2pdma ? '0' : '1';
	if (write(pfd[1], &go, 1) != 1)
		kill(pid, SIGKILL);
	close(pfd[1]);
	waitpid(pid, &st, 0);
	tap(WIFEXITED(st) && !WEXITSTATUS(st), "... the child sees %s (status 0x%x)",
	    p2pdma ? "its data unchanged" : "the bytes written through /proc/PID/mem", st);
	free(buf);
	munmap(p, len);
}

/* Other ways the mm looks at a mapping: none may trip over its pages. */
static void mm_views(int fd)
{
	size_t len = 16 * PG, i;
	char *p = map_dev(fd, len, PROT_READ | PROT_WRITE), buf[4096];
	unsigned char vec[16];
	int f, found = 0, cr;
	FILE *sm;

	pat_fill(p, 8 * PG, 121, 0);
	expect(ERR(mincore(p, len, vec)), 0, "mincore");
	for (i = 0; i < 8 && (vec[i] & 1); i++)
		;
	tap(i == 8, "... the touched pages are resident");
	sm = fopen("/proc/self/smaps", "r");
	while (sm && fgets(buf, sizeof(buf), sm))
		if (strtoul(buf, NULL, 16) == (uintptr_t)p && strstr(buf, "/dev/p2pmem"))
			found = 1;
	if (sm)
		fclose(sm);
	tap(found, "/proc/self/smaps lists the mapping");
	/* Clear referenced bits (1) and soft-dirty bits (4): PTEs write-protected. */
	for (cr = 1; cr <= 4; cr += 3) {
		f = open("/proc/self/clear_refs", O_WRONLY);
		snprintf(buf, sizeof(buf), "%d\n", cr);
		expect(f < 0 ? errno : ERR(write(f, buf, 2)), 0, "/proc/self/clear_refs %d", cr);
		if (f >= 0)
			close(f);
		pat_fill(p, PG, 122 + cr, 0);
		tap(intact(p, PG, 122 + cr, 0) && intact(p + PG, 7 * PG, 121, PG),
		    "... then writes and reads work");
	}
	munmap(p, len);
}

static int cmd_vm(const char *dev)
{
	int fd = open_or_die(dev, O_RDWR);
	unsigned long long avail = attr_num("available");
	double t0 = now();

	catch_faults();
	log_begin();
	mmap_flags(dev, fd);
	madvise_all(fd);
	dontneed(fd);
	forks(fd);
	mremaps(fd);
	mprotects(dev, fd);
	mlocks(fd);
	msyncs(fd);
	remote_access(fd);
	mm_views(fd);
	close(fd);
	tap(attr_num("available") == avail, "vm: all memory is back (%llu of %llu)",
	    attr_num("available"), avail);
	/* Only mmap's MAP_PRIVATE/offset lines could come, and none are tried. */
	log_end("vm", 1);
	printf("# p2pmem_fuzz vm took %.1f s\n", now() - t0);
	return failures ? 1 : 0;
}

/* ---- sysfs ------------------------------------------------------------------ */

struct junk {
	const char *desc;
	const char *bytes;
	size_t len;		/* 0: strlen(bytes) */
};

static char rnd[4097];

/* The inputs every writable file gets; 4 KiB of random bytes among them. */
static const struct junk junks[] = {
	{ "an empty write", "", 0 },
	{ "a word", "junk", 0 },
	{ "a word and a newline", "junk\n", 0 },
	{ "a newline", "\n", 0 },
	{ "a space", " ", 0 },
	{ "-1", "-1", 0 },
	{ "a 20-digit number", "99999999999999999999", 0 },
	{ "2^64", "18446744073709551616", 0 },
	{ "2^32", "4294967296", 0 },
	{ "0x", "0x", 0 },
	{ "printf conversions", "%n%n%n%n%s%s%p", 0 },
	{ "a path", "../../../..", 0 },
	{ "/", "/", 0 },
	{ "a PCI name nobody has", "0000:ff:1f.7\n", 0 },
	{ "high bytes", "\xff\xfe\xfd", 0 },
	{ "NULs", "\0\0\0\0", 4 },
	{ "1000 letters", NULL, 1000 },
	{ "4096 random bytes (NULs too)", rnd, 4096 },
	{ "4097 random bytes (one more than sysfs takes)", rnd, 4097 },
	{ "control characters and C1 CSI", "P2PMEM-FUZZ\a\b\x7f\x9b" "1m", 0 },
	/* Last: what the rebind at the end may read back (see cmd_sysfs()). */
	{ "terminal escapes and a fake log line",
	  "\x1b[2J\x1b[31mP2PMEM-FUZZ\x1b[0m\nP2PMEM-FUZZ-FORGED", 0 },
};

static size_t junk_len(const struct junk *j)
{
	return j->len ?: strlen(j->bytes);
}

static char letters[1001];

static const char *junk_bytes(const struct junk *j)
{
	return j->bytes ?: letters;
}

/*
 * kstrtouint(): one number (+, 0x, 0 prefixes), one trailing newline.  A
 * parameter's set op gets no length: its value ends at the first NUL.
 */
static int want_uint(const char *s, size_t len)
{
	char *end;
	unsigned long long v;

	if (!len)
		return 0;
	if (s[0] == '-' || isspace((unsigned char)s[0]) || !s[0])
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (end == s || (*end && !(*end == '\n' && !end[1])))
		return EINVAL;
	return errno == ERANGE || v > 0xffffffffULL ? ERANGE : 0;
}

/* reach_store(): see reach_names(); none of the junk names a PCI device. */
static int want_reach(const char *s, size_t len)
{
	char name[32];
	size_t i, n;

	if (!len)
		return 0;
	if (len >= sizeof(name))
		return EINVAL;
	n = strnlen(s, len);
	for (i = 0; i < n && isspace((unsigned char)s[i]); i++)
		;
	return i == n ? EINVAL : ENODEV;
}

/*
 * What writing @len junk bytes to @file must give: 0 (or the count, for a
 * valid value) or an errno.  The module's own: "reach" and its parameters;
 * the rest is the driver core's and the PCI core's, included because a
 * junk write there must not reach the module either.  -1: a writable file
 * nobody has worked out an answer for, which fails the test.
 */
static int want_for(const char *file, const char *s, size_t len)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;

	if (!len)		/* sysfs_kf_write(): a store never sees 0 bytes */
		return 0;
	if (len > PG)		/* kernfs cuts a write to one page */
		len = PG;
	if (!strcmp(base, "reach"))
		return want_reach(s, len);
	if (!strcmp(base, "pin_report_secs"))
		return want_uint(s, len);
	if (!strcmp(base, "bars"))
		/*
		 * p2pmem_pci_bars_set(): none of the junk is a list of
		 * DDDD:BB:DD.F:BAR, but what ends at its first NUL, or is a
		 * newline, is the empty list; a value of 1024 bytes or more
		 * before its first NUL is refused for its length first.
		 */
		return strnlen(s, len) >= 1024 ? ENOSPC :
		       strnlen(s, len) == 0 || (strnlen(s, len) == 1 && s[0] == '\n') ? 0 : EINVAL;
	if (!strcmp(base, "uevent"))		/* kobject_synth_uevent() */
		return EINVAL;
	if (!strcmp(file + strlen(file) - strlen("power/control"), "power/control"))
		return EINVAL;
	if (!strcmp(base, "autosuspend_delay_ms"))	/* no autosuspend: EIO first */
		return EIO;
	if (!strcmp(base, "async"))	/* CONFIG_PM_ADVANCED_DEBUG: enabled/disabled */
		return EINVAL;
	if (!strcmp(base, "bind") || !strcmp(base, "unbind"))	/* no such device */
		return ENODEV;
	if (!strcmp(base, "new_id") || !strcmp(base, "remove_id"))	/* not 2 hex numbers */
		return EINVAL;
	return -1;
}

static int write_file(const char *path, const char *s, size_t len)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, s, len);
	close(fd);
	if (n < 0)
		return errno;
	/* Accepted: all of it, or (past a page) all sysfs takes. */
	return (size_t)n == (len > PG ? PG : len) ? 0 : EIO;
}

static int junk_file(const char *path)
{
	char before[4200], after[4200];
	int readable = !access(path, R_OK), bad = 0, want, got;
	size_t i;

	for (i = 0; i < sizeof(junks) / sizeof(junks[0]); i++) {
		const char *s = junk_bytes(&junks[i]);
		size_t len = junk_len(&junks[i]);

		want = want_for(path, s, len);
		if (want < 0) {
			tap(0, "sysfs %s: writable, and no result is worked out for junk", path);
			return 1;
		}
		if (readable)
			read_file(path, before, sizeof(before));
		got = write_file(path, s, len);
		if (readable)
			read_file(path, after, sizeof(after));
		if (got != want || (readable && want && strcmp(before, after))) {
			tap(0, "sysfs %s, %s: want %s and the value kept, got %s%s", path,
			    junks[i].desc, errname(want), errname(got),
			    readable && strcmp(before, after) ? ", the value changed" : "");
			bad++;
		}
	}
	if (!bad)
		tap(1, "sysfs %s: %zu junk writes, each with its result, the value kept", path,
		    sizeof(junks) / sizeof(junks[0]));
	return bad;
}

/* Every writable regular file under @dir (symlinks not followed). */
static int junk_dir(const char *dir, int depth)
{
	char path[512];
	struct dirent *e;
	struct stat st;
	int n = 0;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode) && depth < 2)
			n += junk_dir(path, depth + 1);
		else if (S_ISREG(st.st_mode) && (st.st_mode & 0222)) {
			junk_file(path);
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* The module's sysfs errors, hundreds of times: rate-limited (log_end()). */
static void sysfs_burst(const char *reach, const char *bars)
{
	int i, wrong = 0;

	for (i = 0; i < 200; i++) {
		wrong += write_file(reach, "0000:ff:1f.7\nP2PMEM-FUZZ", 24) != ENODEV;
		wrong += write_file(reach, "  \n", 3) != EINVAL;
		wrong += write_file(bars, "P2PMEM-FUZZ\x1b[2J", 15) != EINVAL;
	}
	tap(!wrong, "sysfs: reach's and bars' errors 200 times each, each with its errno (%d wrong)", wrong);
}

/* The p2pmemN whose "device" link names @pci, or "". */
static void child_of(const char *pci, char *out, size_t len)
{
	char path[512], link[512];
	struct dirent *e;
	DIR *d = opendir("/sys/class/p2pmem");
	ssize_t n;

	out[0] = '\0';
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "p2pmem", 6))
			continue;
		snprintf(path, sizeof(path), "/sys/class/p2pmem/%s/device", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strcmp(basename(link), pci))
			snprintf(out, len, "%.*s", (int)len - 1, e->d_name);
	}
	if (d)
		closedir(d);
}

static int cmd_sysfs(const char *dev, const char *pci)
{
	const char *params = "/sys/module/p2pmem/parameters";
	const char *drv = "/sys/bus/pci/drivers/p2pmem";
	char path[512], name[64], bar[16];
	double t0 = now();
	int fd, n, i;

	fd = open_or_die("/dev/urandom", O_RDONLY);
	if (read(fd, rnd, sizeof(rnd)) != sizeof(rnd))
		exit(2);
	close(fd);
	/*
	 * Not a digit, sign, space or NUL: whatever follows, the first byte
	 * decides every parser here (no number, no name, no action).
	 */
	rnd[0] = '\xff';
	memset(letters, 'A', 1000);

	log_begin();
	n = junk_dir(sysdir, 0);
	tap(n >= 2, "sysfs: %d writable files under %s (reach, uevent at least)", n, sysdir);
	for (i = 0; i < 2; i++) {
		static const char *const mine[] = { "bars", "pin_report_secs" };

		snprintf(path, sizeof(path), "%s/%s", params, mine[i]);
		tap(!access(path, W_OK), "sysfs: the module parameter %s is writable", mine[i]);
	}
	n = junk_dir(params, 1);
	tap(n == 2, "sysfs: %d writable module parameters (bars, pin_report_secs)", n);
	n = junk_dir(drv, 1);
	tap(n >= 4, "sysfs: %d writable files of the driver (bind, unbind, new_id, remove_id)", n);

	/* A list longer than param_set_charp() takes (1024 bytes). */
	{
		char list[1300] = "";

		for (i = 0; i < 80; i++)
			strcat(list, "0000:00:00.0:0,");
		snprintf(path, sizeof(path), "%s/bars", params);
		expect(write_file(path, list, strlen(list)), ENOSPC,
		       "sysfs bars: a valid list of %zu bytes (the kernel keeps at most 1024)", strlen(list));
	}
	/*
	 * A well-formed entry, then random bytes: the parser must get past
	 * the first entry and refuse the rest.  The tail holds no NUL (which
	 * would end the value early) and no comma (which would start a new
	 * entry), so the answer is always EINVAL and bars= keeps its value.
	 */
	{
		char list[1000], before[1100], after[1100];
		int k, len = snprintf(list, sizeof(list), "%s:2,", pci);

		for (k = 0; len < 900; k++)
			if (rnd[1 + k] && rnd[1 + k] != ',')
				list[len++] = rnd[1 + k];
		snprintf(path, sizeof(path), "%s/bars", params);
		read_file(path, before, sizeof(before));
		expect(write_file(path, list, len), EINVAL,
		       "sysfs bars: a good entry, then %d random bytes", len - (int)strlen(pci) - 3);
		tap(!strcmp(read_file(path, after, sizeof(after)), before),
		    "... and bars keeps its value");
	}
	snprintf(path, sizeof(path), "%s/reach", sysdir);
	snprintf(name, sizeof(name), "%s/bars", params);
	sysfs_burst(path, name);

	/*
	 * Unbind and bind the provider: the probe reads bars= (ids=1af4:1110
	 * names no BAR), so junk kept there would refuse the bind and be
	 * logged.  With bars= unchanged the default BAR (2) is taken again.
	 */
	snprintf(path, sizeof(path), "%s/unbind", drv);
	expect(write_file(path, pci, strlen(pci)), 0, "sysfs: unbind %s", pci);
	snprintf(path, sizeof(path), "%s/bind", drv);
	expect(write_file(path, pci, strlen(pci)), 0, "sysfs: bind %s again", pci);
	child_of(pci, name, sizeof(name));
	snprintf(path, sizeof(path), "/sys/class/p2pmem/%s/bar", name);
	tap(name[0] && !strcmp(read_file(path, bar, sizeof(bar)), "2\n"),
	    "... its p2pmem device is back (%s), on BAR 2", name[0] ? name : "none");
	/* reach_ask() 2 sites, the bars check 1, and the probe's. */
	log_end("sysfs", 4);
	printf("# p2pmem_fuzz sysfs took %.1f s\n", now() - t0);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct utsname u;
	char *copy, buf[64], path[300];
	int maj = 0, min = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: p2pmem_fuzz ioctl DEV PCI | vm DEV | sysfs DEV PCI\n");
		return 2;
	}
	uname(&u);
	sscanf(u.release, "%d.%d", &maj, &min);
	kver = maj * 100 + min;
	copy = strdup(argv[2]);
	snprintf(sysdir, sizeof(sysdir), "/sys/class/p2pmem/%s", basename(copy));
	snprintf(path, sizeof(path), "%s/backend", sysdir);
	p2pdma = !strcmp(read_file(path, buf, sizeof(buf)), "kernel\n");
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(argv[1], "ioctl") && argc == 4)
		return cmd_ioctl(argv[2], argv[3]);
	if (!strcmp(argv[1], "vm") && argc == 3)
		return cmd_vm(argv[2]);
	if (!strcmp(argv[1], "sysfs") && argc == 4)
		return cmd_sysfs(argv[2], argv[3]);
	fprintf(stderr, "p2pmem_fuzz: bad arguments\n");
	return 2;
}
