// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/p2pmemN: open, mmap, faults, the reach and caching ioctls, and the
 * debugfs pte_cache test aid.  Each mmap() gets a
 * buffer of pages taken from the device's backend (through its ops only),
 * zero before their first PTE or PMD (the backend zeroed them in the
 * background, or the fault does).  The core creates the char device with
 * p2pmem_fops and, on teardown, calls p2pmem_revoke_bufs().
 *
 * struct p2pmem_file (one per open(), file->private_data)
 *   - the caching its mappings get (P2PMEM_IOC_SET_CACHING), which can
 *     change only until its first successful mmap(): all of a file's
 *     mappings then have the same.
 *
 * struct p2pmem_buf (one per successful mmap() call)
 *   - reserves its pages at mmap() (so that mmap() still fails with
 *     ENOMEM when there are not enough) as a few physically contiguous
 *     runs, and claims them a 2 MiB window at a time, at the first fault
 *     there: mmap() does one bitmap operation per 2 MiB or per run and no
 *     per-page work, which is done by the faults, which map the pages
 *     anyway.
 *   - holds one page reference on each of its claimed pages until its
 *     last VMA is gone.  This keeps MAP_SHARED
 *     semantics: after fork, MADV_DONTNEED or mremap every VMA still finds
 *     the same page at an offset.  The cost: a partial munmap frees nothing
 *     until the rest of that mmap() is unmapped too (VMA split/merge gives
 *     no callback that would let us track which offsets are still covered,
 *     and the i_mmap tree walkers are not exported to modules).
 *   - referenced (kref) by every VMA that maps part of it: mmap, fork,
 *     split and mremap each go through vm_ops->open/close; holds a
 *     reference on its p2pmemN.
 *
 * Locks
 *   live_sem (the core's, see p2pmem/core.c): read-held here while taking
 *     pages (mmap) and while claiming, zeroing and inserting PTEs or a PMD
 *     (fault; at most 2 MiB each).
 *   lock (mutex, per buffer): its "claimed" and "zeroed" bitmaps (which
 *     are also read without it, see p2pmem_buf_ready()); taken inside
 *     live_sem in the fault handler; only the backend's clean_lock nests
 *     inside it (->take_zeroed()).
 *   buf_lock (mutex, per device): the buffer list and whether each
 *     buffer's pages are gone ("dropped"), so that buffer release and
 *     revocation give each page back exactly once.
 *     Nests inside mmap_lock (vm_ops->close) and inside live_sem (a new
 *     buffer goes on the list before "live" can drop, so revocation sees
 *     it); live_sem is never taken with buf_lock held.
 *   file_lock (mutex, per open file): its caching and "mapped"; held
 *     across p2pmem_mmap() (inside mmap_lock, outside live_sem and
 *     buf_lock) so that the ioctl cannot change the caching of a mapping
 *     being made; the ioctl takes nothing else.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "internal.h"
#include "uapi.h"

struct p2pmem_file {
	struct p2pmem_dev *p2p;
	struct mutex file_lock;	/* caching and mapped; see "Locks" */
	u32 caching;		/* enum p2pmem_caching */
	bool mapped;		/* a mmap() of this file succeeded */
};

/*
 * Physically contiguous pages of a buffer: pages [start, the next run's
 * start) from @pfn on.
 */
struct p2pmem_run {
	unsigned long pfn;
	pgoff_t start;
};

struct p2pmem_buf {
	struct kref kref;
	struct p2pmem_dev *p2p;
	struct list_head node;
	unsigned long npages;
	/*
	 * Pages [0 .. nhuge * P2PMEM_PMD_PAGES) are 2 MiB-aligned physical
	 * runs, one per P2PMEM_PMD_PAGES, which p2pmem_vm_pmd_fault() maps
	 * with one PMD each.  The runs and nhuge are set by mmap(), never
	 * changed after (@reserved counts the pages reserved so far, all of
	 * them once mmap() succeeded).
	 */
	unsigned long nhuge;
	struct p2pmem_run *runs;
	unsigned long nruns, cap;
	pgoff_t reserved;
	/*
	 * Bit w of @claimed: the pages of window w (buffer pages
	 * [w * P2PMEM_PMD_PAGES, (w + 1) * P2PMEM_PMD_PAGES)) are claimed,
	 * i.e. hold the buffer's reference.  Bit i of @zeroed: page i is
	 * claimed and holds zeros, known from the backend (->take_zeroed())
	 * or zeroed by a fault.  Pages are zeroed before their first PTE or
	 * PMD; see p2pmem_buf_ready().  @zeroed's words come first in one
	 * allocation, then @claimed's.
	 */
	struct mutex lock;	/* claiming and zeroing; see "Locks" */
	unsigned long *zeroed;
	unsigned long *claimed;
	bool dropped;		/* pages given back; under p2p->buf_lock */
};

/* The run holding buffer page @pgoff: the last starting at or before it. */
static unsigned long p2pmem_buf_run(const struct p2pmem_buf *buf, pgoff_t pgoff)
{
	unsigned long lo = 0, hi = buf->nruns, mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (buf->runs[mid].start <= pgoff)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static struct page *p2pmem_buf_page(const struct p2pmem_buf *buf, pgoff_t pgoff)
{
	const struct p2pmem_run *run = &buf->runs[p2pmem_buf_run(buf, pgoff)];

	return pfn_to_page(run->pfn + (pgoff - run->start));
}

/*
 * The physically contiguous piece of buffer pages [pos, end) that starts
 * at @pos: its first pfn, and its length (returned; 0 when pos >= end).
 */
static unsigned long p2pmem_buf_piece(const struct p2pmem_buf *buf,
				      pgoff_t pos, pgoff_t end,
				      unsigned long *pfn)
{
	unsigned long r;
	pgoff_t stop;

	if (pos >= end)
		return 0;
	r = p2pmem_buf_run(buf, pos);
	stop = r + 1 < buf->nruns ? buf->runs[r + 1].start : buf->reserved;
	*pfn = buf->runs[r].pfn + (pos - buf->runs[r].start);
	return min(stop, end) - pos;
}

/* Buffer pages [pos, end), one physically contiguous piece at a time. */
#define p2pmem_for_each_piece(buf, pos, end, pfn, n)			\
	for (; ((n) = p2pmem_buf_piece(buf, pos, end, &(pfn))); (pos) += (n))

/*
 * Append @n pages from @pfn on, just reserved, to the buffer's runs; on
 * failure (no memory for a longer array) give them back.  A run that goes
 * on where the last one ends extends it, so a pool handing out its pages
 * in order gives one run however long the buffer is.
 */
static int p2pmem_buf_add(struct p2pmem_buf *buf, unsigned long pfn,
			  unsigned long n)
{
	struct p2pmem_run *last = buf->nruns ? &buf->runs[buf->nruns - 1] : NULL;
	struct p2pmem_run *runs;
	unsigned long cap;

	if (last && last->pfn + (buf->reserved - last->start) == pfn)
		goto done;
	if (buf->nruns == buf->cap) {
		/*
		 * Doubling: a fragmented pool costs O(pages) copies in all;
		 * never more runs than pages.  A huge BAR's fully fragmented
		 * pool can need more than kvmalloc() gives (INT_MAX bytes):
		 * ENOMEM, not a warning.
		 */
		cap = min(buf->cap * 2, buf->npages);
		runs = kvmalloc_array(cap, sizeof(*runs),
				      GFP_KERNEL | __GFP_NOWARN);
		if (!runs) {
			buf->p2p->backend->give_back(buf->p2p, pfn, n);
			return -ENOMEM;
		}
		memcpy(runs, buf->runs, buf->nruns * sizeof(*runs));
		kvfree(buf->runs);
		buf->runs = runs;
		buf->cap = cap;
	}
	buf->runs[buf->nruns].pfn = pfn;
	buf->runs[buf->nruns].start = buf->reserved;
	buf->nruns++;
done:
	buf->reserved += n;
	return 0;
}

/*
 * Give every page of @buf back, once: those of claimed windows by dropping
 * the buffer's reference on each, the others as the reserved runs they
 * are.  A buffer can be the size of the BAR, so this yields after each
 * window (all callers may sleep).
 */
static void p2pmem_buf_drop(struct p2pmem_buf *buf)
{
	const struct p2pmem_backend *be = buf->p2p->backend;
	unsigned long w, pfn, n, k;
	pgoff_t pos = 0, end;

	lockdep_assert_held(&buf->p2p->buf_lock);
	if (buf->dropped)
		return;
	buf->dropped = true;
	for (w = 0; pos < buf->reserved; w++) {
		end = min_t(pgoff_t, pos + P2PMEM_PMD_PAGES, buf->reserved);
		p2pmem_for_each_piece(buf, pos, end, pfn, n) {
			if (!test_bit(w, buf->claimed)) {
				be->give_back(buf->p2p, pfn, n);
				continue;
			}
			for (k = 0; k < n; k++)
				be->put_page(buf->p2p, pfn_to_page(pfn + k));
		}
		cond_resched();
	}
}

/*
 * First-fit searches of the whole pool that p2pmem_take_pages() makes for
 * long runs before it sweeps the pool once: with halving, runs down to
 * 1/128 of the request get a try.
 */
#define P2PMEM_TAKE_SCANS	8
/* Pages taken one by one between checks for a fatal signal. */
#define P2PMEM_TAKE_BATCH	512

/*
 * Reserve the buffer's pages, all of them or none.  First, where the
 * backend can give them, 2 MiB-aligned runs for each whole 2 MiB of the
 * buffer from its start (the mapping starts 2 MiB-aligned, see
 * p2pmem_fops), in one sweep of the pool, until it has none left: nhuge
 * says how many.  Then long contiguous runs (fewer DMA segments): a
 * first-fit search for the rest, then for halves of it, at most
 * P2PMEM_TAKE_SCANS searches in all.  What is still missing then comes
 * from one sweep of the pool in address order, one page at a time, which
 * costs one pass however fragmented the pool is (halving down to single
 * pages, each a first-fit search from the start, was quadratic).  Pages
 * that are adjacent in the pool stay adjacent in the buffer, so the sweep
 * still gives runs where there are any.  Nothing here touches a page or
 * its struct page: on a pool that is not fragmented this costs one bitmap
 * operation per 2 MiB or per run, and no per-page work.
 *
 * Without @huge (write-combining buffers, see p2pmem_mmap_locked()) it
 * takes no 2 MiB-aligned runs, and nhuge is 0.
 *
 * The caller holds mmap_lock and live_sem: this does no I/O to the BAR,
 * and a fatal signal ends it (-EINTR).  On failure the caller gives back
 * what was reserved (p2pmem_buf_drop()).
 */
static int p2pmem_take_pages(struct p2pmem_buf *buf, bool huge)
{
	struct p2pmem_dev *p2p = buf->p2p;
	const struct p2pmem_backend *be = p2p->backend;
	unsigned long npages = buf->npages, run, pfn, cursor = 0, runs = 0;
	unsigned int scans = 0;
	int ret;

	/*
	 * Not mmap_assert_locked(): with CONFIG_DEBUG_VM its VM_BUG_ON_MM()
	 * calls dump_mm(), which is not exported (modpost fails on the debug
	 * kernel).
	 */
	lockdep_assert_held(&current->mm->mmap_lock);
	lockdep_assert_held(&p2p->live_sem);
	/* Not enough free at all: say so without searching. */
	if (p2pmem_avail(p2p) >> PAGE_SHIFT < npages)
		return -ENOMEM;
	while (huge && be->take_pmd &&
	       npages - buf->reserved >= P2PMEM_PMD_PAGES &&
	       be->take_pmd(p2p, &cursor, &pfn)) {
		ret = p2pmem_buf_add(buf, pfn, P2PMEM_PMD_PAGES);
		if (ret)
			return ret;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	buf->nhuge = buf->reserved / P2PMEM_PMD_PAGES;
	cursor = 0;
	run = npages - buf->reserved;
	while (buf->reserved < npages && run && scans < P2PMEM_TAKE_SCANS) {
		scans++;
		if (be->take_run(p2p, run, &pfn)) {
			ret = p2pmem_buf_add(buf, pfn, run);
			if (ret)
				return ret;
			runs++;
			run = min(run, npages - buf->reserved);
		} else {
			run /= 2;
		}
	}
	dev_dbg(&p2p->dev, "took %lu pages: %lu 2 MiB runs, %lu runs in %u first-fit searches, %lu pages in one sweep\n",
		npages, buf->nhuge, runs, scans, npages - buf->reserved);
	while (buf->reserved < npages) {
		if (!be->take_next(p2p, &cursor, &pfn))
			return -ENOMEM;
		ret = p2pmem_buf_add(buf, pfn, 1);
		if (ret)
			return ret;
		if (buf->reserved % P2PMEM_TAKE_BATCH)
			continue;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/*
 * Zero one page through the kernel's map of the BAR, 8 bytes a store.
 * That map is uncached (memremap_pages() maps P2PDMA memory with
 * pgprot_noncache()), so every CPU store is its own bus write: clear_page()
 * and memset_io() are "rep stosb" on x86 CPUs with ERMS, one byte a write
 * (4096 bus writes a page, measured in QEMU's trace of an NVMe CMB), and
 * on arm64 clear_page() is DC ZVA, which faults on device memory.
 * __raw_writeq() is one plain aligned 64-bit store on every 64-bit
 * architecture, which device memory takes everywhere; the caller orders
 * the stores before the page is mapped.  64-byte stores (MOVDIR64B)
 * would need eight times fewer bus writes, but only some CPUs have them,
 * and the one the tests run on (QEMU's TCG) does not, so their
 * correctness could not be shown.
 */
void p2pmem_zero_page(struct page *page)
{
	u64 __iomem *p = (u64 __force __iomem *)page_address(page);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(*p); i++)
		__raw_writeq(0, p + i);
}

/*
 * The zeros must be in the BAR before a PTE or a peer's DMA can reach the
 * pages stored to.  A barrier only sends them on their way: they are
 * posted writes, and a peer's DMA takes another path.  A read from the BAR
 * cannot pass the CPU's posted writes to it (PCIe ordering), so once it
 * completes every zero has landed: one non-posted read from @page, the
 * last page zeroed.  It reads back one of the zeros just written: anything
 * else (all ones from a device that is gone, reset, powered down or has
 * its decoding off) means the writes were dropped, and false is returned:
 * the pages must not be taken for zero.
 */
bool p2pmem_zero_flush(struct page *page)
{
	u64 v;

	/* The zeros are posted before the read that flushes them. */
	wmb();
	v = __raw_readq((u64 __force __iomem *)page_address(page));
	/*
	 * Nothing after (a read of the BAR, or the store that marks the
	 * pages zeroed) goes before the read has completed.
	 */
	mb();
	return !v;
}

/*
 * Claim window @w's pages (buffer pages [w * P2PMEM_PMD_PAGES, ...), at
 * most P2PMEM_PMD_PAGES): give each the buffer's reference, then ask the
 * backend which of them hold zeros.  Once per window.
 */
static void p2pmem_buf_claim(struct p2pmem_buf *buf, unsigned long w)
{
	const struct p2pmem_backend *be = buf->p2p->backend;
	pgoff_t first = w * P2PMEM_PMD_PAGES, pos = first;
	pgoff_t end = min_t(pgoff_t, first + P2PMEM_PMD_PAGES, buf->npages);
	unsigned long pfn, n, k;

	lockdep_assert_held(&buf->lock);
	if (test_bit(w, buf->claimed))
		return;
	p2pmem_for_each_piece(buf, pos, end, pfn, n) {
		for (k = 0; k < n; k++)
			p2pmem_page_claim(pfn_to_page(pfn + k));
	}
	/*
	 * The counts are set before any of the window's "zeroed" bits, which
	 * lock-free readers take as "claimed" too: pairs with the smp_rmb()
	 * in p2pmem_buf_ready().
	 */
	smp_wmb();
	pos = first;
	if (be->take_zeroed) {
		p2pmem_for_each_piece(buf, pos, end, pfn, n)
			be->take_zeroed(buf->p2p, pfn, n, buf->zeroed, pos);
	}
	/* Read by p2pmem_buf_drop(), once no fault can come any more. */
	set_bit(w, buf->claimed);
}

/*
 * Make the pages [first, end) of @buf ready to map: claimed (a window at a
 * time, see p2pmem_buf_claim()) and zeroed.  Every page is zeroed once per
 * buffer, whoever had it before (on the kernel backend possibly another
 * driver), unless the backend knows it holds zeros (->take_zeroed(): the
 * native backend zeroes free and reserved pages in the background), and
 * before any PTE or PMD maps it: the fault handlers are the only places
 * those are made, and GUP, O_DIRECT, RDMA registration and fork all reach
 * the pages through them or through what they made.  So mmap() itself
 * does no per-page work, and each fault claims and zeroes at most its
 * window (one 2 MiB of addresses, see p2pmem_fault_window(), in at most
 * two of the buffer's windows), under the mmap_lock (read; the VMA lock
 * alone for a PMD fault on 6.12) the fault holds anyway and under
 * live_sem (read), which teardown therefore waits on for at most that,
 * less if a fatal signal ends it.  buf->lock makes a racing fault on the
 * same pages wait for the claim and the zeroing instead of mapping a page
 * whose zeroing could still land after the user's first store.  A page is
 * marked zeroed only once it is claimed and its zeros are known to be in
 * the BAR; returns false if any page of the range is not (a fatal signal,
 * or the device dropped the writes).
 */
static bool p2pmem_buf_ready(struct p2pmem_buf *buf, pgoff_t first,
			     pgoff_t end)
{
	pgoff_t i = first, batch[P2PMEM_ZERO_BATCH];
	unsigned long n = 0, k, j, w;
	bool ok = true;

	lockdep_assert_held(&buf->p2p->live_sem);
	/*
	 * Already zeroed (the common case once a window was touched): no
	 * need to wait behind another fault zeroing another window.  A bit
	 * is set only after its page was claimed and its zeros are in the
	 * BAR.
	 */
	if (find_next_zero_bit(buf->zeroed, end, first) >= end) {
		/* See p2pmem_buf_claim(): the page counts after the bits. */
		smp_rmb();
		return true;
	}
	if (mutex_lock_killable(&buf->lock))
		return false;
	for (w = first / P2PMEM_PMD_PAGES; w <= (end - 1) / P2PMEM_PMD_PAGES; w++)
		p2pmem_buf_claim(buf, w);
	while (ok && i < end) {
		for (k = 0; k < P2PMEM_ZERO_BATCH && i < end; i++) {
			if (test_bit(i, buf->zeroed))
				continue;
			p2pmem_zero_page(p2pmem_buf_page(buf, i));
			batch[k++] = i;
		}
		if (!k)
			break;
		ok = p2pmem_zero_flush(p2pmem_buf_page(buf, batch[k - 1]));
		/*
		 * Every writer of the bitmap holds buf->lock; readers without
		 * it (above) only test bits, and see each word before or
		 * after a store.
		 */
		if (ok)
			for (j = 0; j < k; j++)
				set_bit(batch[j], buf->zeroed);
		n += k;
		if (i < end && fatal_signal_pending(current))
			ok = false;
		cond_resched();
	}
	mutex_unlock(&buf->lock);
	if (n)
		dev_dbg(&buf->p2p->dev, "a fault zeroed %lu pages\n", n);
	if (!ok && !fatal_signal_pending(current))
		dev_warn_ratelimited(&buf->p2p->dev, "zeros written to the BAR did not land (device gone or reset?): not mapping those pages\n");
	return ok;
}

/* ---- buffers ------------------------------------------------------------ */

/* Runs a buffer starts with: one, or a few, on a pool not fragmented. */
#define P2PMEM_RUNS_FIRST	16

static void p2pmem_buf_free(struct p2pmem_buf *buf)
{
	kvfree(buf->runs);
	kvfree(buf->zeroed);
	kfree(buf);
}

static struct p2pmem_buf *p2pmem_buf_create(struct p2pmem_dev *p2p,
					    unsigned long npages, bool huge)
{
	unsigned long nwin = DIV_ROUND_UP(npages, P2PMEM_PMD_PAGES);
	struct p2pmem_buf *buf;
	int ret = -ENODEV;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	kref_init(&buf->kref);
	buf->p2p = p2p;
	buf->npages = npages;
	mutex_init(&buf->lock);
	buf->cap = P2PMEM_RUNS_FIRST;
	buf->runs = kvmalloc_array(buf->cap, sizeof(*buf->runs), GFP_KERNEL);
	buf->zeroed = kvcalloc(BITS_TO_LONGS(npages) + BITS_TO_LONGS(nwin),
			       sizeof(unsigned long), GFP_KERNEL);
	if (!buf->runs || !buf->zeroed) {
		p2pmem_buf_free(buf);
		return ERR_PTR(-ENOMEM);
	}
	buf->claimed = buf->zeroed + BITS_TO_LONGS(npages);

	/*
	 * On the list before "live" can drop: a buffer revocation missed
	 * would keep its pages past teardown.  Reserving pages is bounded
	 * (see p2pmem_take_pages()); they are claimed and zeroed at their
	 * first fault.
	 */
	down_read(&p2p->live_sem);
	if (p2p->live)
		ret = p2pmem_take_pages(buf, huge);
	mutex_lock(&p2p->buf_lock);
	if (!ret)
		list_add(&buf->node, &p2p->bufs);
	else
		p2pmem_buf_drop(buf);
	mutex_unlock(&p2p->buf_lock);
	if (!ret)
		get_device(&p2p->dev);
	up_read(&p2p->live_sem);
	if (ret) {
		p2pmem_buf_free(buf);
		return ERR_PTR(ret);
	}
	return buf;
}

static void p2pmem_buf_release(struct kref *kref)
{
	struct p2pmem_buf *buf = container_of(kref, struct p2pmem_buf, kref);
	struct p2pmem_dev *p2p = buf->p2p;

	mutex_lock(&p2p->buf_lock);
	list_del(&buf->node);
	p2pmem_buf_drop(buf);
	mutex_unlock(&p2p->buf_lock);
	put_device(&p2p->dev);
	p2pmem_buf_free(buf);
}

/* Teardown step 3 (see p2pmem/core.c): give back every buffer's pages. */
void p2pmem_revoke_bufs(struct p2pmem_dev *p2p)
{
	struct p2pmem_buf *buf;

	mutex_lock(&p2p->buf_lock);
	list_for_each_entry(buf, &p2p->bufs, node)
		p2pmem_buf_drop(buf);
	mutex_unlock(&p2p->buf_lock);
}

/* ---- mmap --------------------------------------------------------------- */

static void p2pmem_vm_open(struct vm_area_struct *vma)
{
	struct p2pmem_buf *buf = vma->vm_private_data;

	kref_get(&buf->kref);
}

static void p2pmem_vm_close(struct vm_area_struct *vma)
{
	struct p2pmem_buf *buf = vma->vm_private_data;

	kref_put(&buf->kref, p2pmem_buf_release);
}

/*
 * The pages one fault maps: the faulting address's whole 2 MiB of address
 * space, within the VMA and the buffer, [*first, *end) in buffer page
 * indexes.  Touching a buffer then costs one fault per 2 MiB with 4 KiB
 * pages as with PMDs, for at most 2 MiB of zeroing per fault.  The window
 * never crosses a 2 MiB boundary: a PTE may only go where the PMD is a page
 * table, and the next 2 MiB may be mapped by one PMD.
 */
static void p2pmem_fault_window(struct vm_fault *vmf, struct p2pmem_buf *buf,
				pgoff_t *first, pgoff_t *end)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long start = max(vma->vm_start, vmf->address & PMD_MASK);
	unsigned long stop = min(vma->vm_end, (vmf->address & PMD_MASK) + PMD_SIZE);

	*first = linear_page_index(vma, start);
	*end = min_t(pgoff_t, linear_page_index(vma, stop), buf->npages);
}

/*
 * Map the window's pages other than the faulting one (which the caller
 * maps), a physically contiguous piece at a time rather than a run lookup
 * per page.  Best effort: a page already mapped (-EBUSY) is skipped, any
 * other error just stops early.
 */
static void p2pmem_fault_around(struct vm_fault *vmf, struct p2pmem_buf *buf,
				pgoff_t first, pgoff_t end)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr = vma->vm_start +
			     ((first - vma->vm_pgoff) << PAGE_SHIFT);
	unsigned long pfn, n, k;
	pgoff_t pos = first;

	p2pmem_for_each_piece(buf, pos, end, pfn, n) {
		for (k = 0; k < n; k++, addr += PAGE_SIZE) {
			if (pos + k == vmf->pgoff)
				continue;
			if (vm_insert_page(vma, addr, pfn_to_page(pfn + k)) == -EFAULT)
				return;
		}
	}
}

/*
 * PTEs are inserted on fault, not at mmap time: the VMA is not yet in the
 * address_space when ->mmap runs, so PTEs made there could escape the zap
 * in p2pmem_unregister().  A fault either completes before "live" drops
 * (and is zapped) or sees it dropped.
 */
static vm_fault_t p2pmem_vm_fault(struct vm_fault *vmf)
{
	struct p2pmem_buf *buf = vmf->vma->vm_private_data;
	struct p2pmem_dev *p2p = buf->p2p;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	pgoff_t first, end;

	if (vmf->pgoff >= buf->npages)
		return VM_FAULT_SIGBUS;
	p2pmem_fault_window(vmf, buf, &first, &end);
	/*
	 * The pages are given back only by revocation, which starts after
	 * "live" drops, and by buffer release, which needs this VMA gone.
	 */
	down_read(&p2p->live_sem);
	if (p2p->live && p2pmem_buf_ready(buf, first, end)) {
		ret = vmf_insert_page(vmf->vma, vmf->address,
				      p2pmem_buf_page(buf, vmf->pgoff));
		if (ret == VM_FAULT_NOPAGE)
			p2pmem_fault_around(vmf, buf, first, end);
	}
	up_read(&p2p->live_sem);
	return ret;
}

/*
 * A PMD fault (see P2PMEM_VM_OPS in p2pmem/compat.h): map the faulting
 * address's whole 2 MiB with one PMD when it is all inside the VMA and is
 * one of the buffer's 2 MiB-aligned runs; anything else falls back to
 * p2pmem_vm_fault() and 4 KiB pages.  The mm calls this for an empty PMD
 * or a write to a clean one of ours, and insert_pfn_pmd() rechecks under
 * the PMD lock; whether a 2 MiB gets a PMD also depends on the process
 * (MADV_NOHUGEPAGE, PR_SET_THP_DISABLE), so the same 2 MiB may be mapped
 * either way over time, always with the same pages.  The PMD holds no page
 * references (p2pmem/compat.h): the buffer's keep the pages until
 * revocation, which zaps the PMD first.  Claiming and zeroing are as for
 * any fault (p2pmem_buf_ready()), 2 MiB at most.  A write-combining buffer
 * has no such runs (nhuge is 0, see p2pmem_mmap_locked()), so all of it
 * falls back.
 */
static vm_fault_t __maybe_unused p2pmem_vm_pmd_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct p2pmem_buf *buf = vma->vm_private_data;
	struct p2pmem_dev *p2p = buf->p2p;
	unsigned long haddr = vmf->address & PMD_MASK;
	pgoff_t first = linear_page_index(vma, haddr);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	if (haddr < vma->vm_start || haddr + PMD_SIZE > vma->vm_end ||
	    first % P2PMEM_PMD_PAGES ||
	    first / P2PMEM_PMD_PAGES >= buf->nhuge)
		return VM_FAULT_FALLBACK;
	down_read(&p2p->live_sem);
	if (p2p->live && p2pmem_buf_ready(buf, first, first + P2PMEM_PMD_PAGES)) {
		pmd_t pmd = READ_ONCE(*vmf->pmd);

		/*
		 * A page table may have come meanwhile (6.12 does not
		 * write-lock VMAs for PR_SET_THP_DISABLE): narrows the
		 * window in which vmf_insert_pfn_pmd() would warn about it.
		 * A present PMD (a write to a clean one) is ours to upgrade.
		 */
		if (pmd_present(pmd) && !pmd_leaf(pmd))
			ret = VM_FAULT_FALLBACK;
		else
			ret = p2pmem_compat_insert_pmd(vmf, p2pmem_buf_page(buf, first),
						       vmf->flags & FAULT_FLAG_WRITE);
	}
	up_read(&p2p->live_sem);
	return ret;
}

P2PMEM_VM_OPS(p2pmem_vm_ops, p2pmem_vm_open, p2pmem_vm_close,
	      p2pmem_vm_fault, p2pmem_vm_pmd_fault);

/*
 * A task's name is whatever it set with PR_SET_NAME: escaped, so that it
 * cannot forge log lines (%*pE takes the length, then the string).
 */
#define P2PMEM_COMM(task) \
	(int)strnlen((task)->comm, sizeof((task)->comm)), (task)->comm

static int p2pmem_mmap_locked(struct p2pmem_file *pf,
			      struct vm_area_struct *vma)
{
	struct p2pmem_dev *p2p = pf->p2p;
	bool wc = pf->caching == P2PMEM_CACHING_WC;
	struct p2pmem_buf *buf;

	if (!(vma->vm_flags & VM_MAYSHARE)) {
		dev_info_ratelimited(&p2p->dev, "%*pE: MAP_PRIVATE is not supported, use MAP_SHARED\n",
				     P2PMEM_COMM(current));
		return -EINVAL;
	}
	if (vma->vm_pgoff) {
		dev_info_ratelimited(&p2p->dev, "%*pE: mmap offset must be 0\n",
				     P2PMEM_COMM(current));
		return -EINVAL;
	}

	/* Before sizing the buffer's bitmaps and runs (p2pmem_buf_add()). */
	if (vma_pages(vma) > p2p->size >> PAGE_SHIFT)
		return -ENOMEM;

	/*
	 * Write-combining buffers take no 2 MiB runs, so they never get a
	 * PMD: vmf_insert_pfn_pmd() would give it the cache type the pagemap
	 * reserved for the range (x86: track_pfn_insert() puts the range's
	 * PAT memtype, UC- for P2PDMA memory, in place of vm_page_prot's),
	 * while vm_insert_page() maps 4 KiB pages with vm_page_prot as is.
	 */
	buf = p2pmem_buf_create(p2p, vma_pages(vma), !wc);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	/*
	 * The kernel's own map of these pages stays uncached (UC-), so the
	 * pages get two types.  Intel's SDM asks for one type per page, and
	 * the failure it names is a WC alias of a cacheable page (WC writes
	 * do not snoop the caches); UC- and WC both bypass the caches, so
	 * neither leaves a line the other would miss.  By default 4 KiB
	 * pages are uncached in the PTE itself (pgprot_device(), as the PCI
	 * core maps BARs: x86 UC-, arm64 Device-nGnRE), as a PMD is,
	 * rather than through whatever the MTRRs say for the BAR: a default
	 * PTE would be PAT WB, a cacheable alias where the MTRRs do not
	 * cover the range.  The mm keeps the cache bits of vm_page_prot when
	 * it recomputes it (mprotect, the end of mmap: vm_pgprot_modify()).
	 */
	vma->vm_page_prot = wc ? pgprot_writecombine(vma->vm_page_prot) :
				 pgprot_device(vma->vm_page_prot);
	vma->vm_private_data = buf;
	vma->vm_ops = &p2pmem_vm_ops;
	/*
	 * MIXEDMAP: ordinary struct-page PTEs that GUP and fork handle like
	 * any page; DONTEXPAND: mremap() may not grow it past the buffer.
	 */
	p2pmem_compat_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

static int p2pmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct p2pmem_file *pf = file->private_data;
	int ret;

	mutex_lock(&pf->file_lock);
	ret = p2pmem_mmap_locked(pf, vma);
	if (!ret)
		pf->mapped = true;
	mutex_unlock(&pf->file_lock);
	return ret;
}

/* ---- char device -------------------------------------------------------- */

static int p2pmem_open(struct inode *inode, struct file *file)
{
	struct p2pmem_dev *p2p = container_of(inode->i_cdev, struct p2pmem_dev, cdev);
	struct p2pmem_file *pf;
	int ret = -ENODEV;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	pf->p2p = p2p;
	pf->caching = P2PMEM_CACHING_UNCACHED;
	mutex_init(&pf->file_lock);

	down_read(&p2p->live_sem);
	if (p2p->live) {
		file->private_data = pf;
		file->f_mapping = p2p->inode->i_mapping;
		/* No read/write/seek: the memory is reached through mmap only. */
		ret = nonseekable_open(inode, file);
	}
	up_read(&p2p->live_sem);
	if (ret)
		kfree(pf);
	return ret;
}

/* Mappings hold their buffer, not the file: nothing else to undo. */
static int p2pmem_release(struct inode *inode, struct file *file)
{
	struct p2pmem_file *pf = file->private_data;

	mutex_destroy(&pf->file_lock);
	kfree(pf);
	return 0;
}

/*
 * P2PMEM_IOC_SET_CACHING (see p2pmem/uapi.h): only before the file's
 * first mmap(), so that all of a file's mappings, and every fork or
 * mremap of one, have the caching the file had when they were made.
 */
static long p2pmem_set_caching(struct p2pmem_file *pf, u32 __user *arg)
{
	struct p2pmem_dev *p2p = pf->p2p;
	long ret = 0;
	u32 mode;

	if (get_user(mode, arg))
		return -EFAULT;
	if (mode != P2PMEM_CACHING_UNCACHED && mode != P2PMEM_CACHING_WC) {
		dev_info_ratelimited(&p2p->dev, "%*pE: unknown caching mode %u\n",
				     P2PMEM_COMM(current), mode);
		return -EINVAL;
	}
	/* As the PCI core offers resourceN_wc: prefetchable BARs, with PAT. */
	if (mode == P2PMEM_CACHING_WC &&
	    (!(pci_resource_flags(p2p->pdev, p2p->bar) & IORESOURCE_PREFETCH) ||
	     !arch_can_pci_mmap_wc())) {
		dev_info_ratelimited(&p2p->dev, "%*pE: write-combining needs a prefetchable BAR and PAT\n",
				     P2PMEM_COMM(current));
		return -EINVAL;
	}
	mutex_lock(&pf->file_lock);
	if (pf->mapped)
		ret = -EBUSY;
	else
		pf->caching = mode;
	mutex_unlock(&pf->file_lock);
	if (ret)
		dev_info_ratelimited(&p2p->dev, "%*pE: caching is chosen before the first mmap() of an open file\n",
				     P2PMEM_COMM(current));
	return ret;
}

static long p2pmem_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct p2pmem_file *pf = file->private_data;

	switch (cmd) {
	case P2PMEM_IOC_REACH:
		return p2pmem_topology_ioctl(pf->p2p, (void __user *)arg);
	case P2PMEM_IOC_SET_CACHING:
		return p2pmem_set_caching(pf, (u32 __user *)arg);
	default:
		return -ENOTTY;
	}
}

const struct file_operations p2pmem_fops = {
	.owner = THIS_MODULE,
	.open = p2pmem_open,
	.release = p2pmem_release,
	.mmap = p2pmem_mmap,
	/* 2 MiB-aligned addresses for mappings of 2 MiB or more (PMDs). */
	.get_unmapped_area = P2PMEM_COMPAT_GET_UNMAPPED_AREA,
	/* msync(MS_SYNC) and fsync(): no page cache, nothing to write back. */
	.fsync = noop_fsync,
	.unlocked_ioctl = p2pmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* ---- debugfs: the cache type of a PTE (a test aid) ---------------------- */

#ifdef CONFIG_X86
static struct dentry *p2pmem_debugfs;

/* An answer: "4K UC-\n" and its NUL fit with room to spare. */
#define P2PMEM_PTDBG_LEN	16

/*
 * The name of the cache type that the PWT/PCD/PAT bits (4 KiB layout) of a
 * PTE select, as the kernel programmed the PAT.  UC- before WC: without
 * PAT the kernel gives WC requests UC-'s bits, and so does this.
 */
static const char *p2pmem_cache_name(pgprotval_t bits)
{
	static const struct {
		enum page_cache_mode pcm;
		const char *name;
	} modes[] = {
		{ _PAGE_CACHE_MODE_WB, "WB" },
		{ _PAGE_CACHE_MODE_UC_MINUS, "UC-" },
		{ _PAGE_CACHE_MODE_UC, "UC" },
		{ _PAGE_CACHE_MODE_WC, "WC" },
		{ _PAGE_CACHE_MODE_WT, "WT" },
		{ _PAGE_CACHE_MODE_WP, "WP" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if ((bits & _PAGE_CACHE_MASK) == cachemode2protval(modes[i].pcm))
			return modes[i].name;
	return "?";
}

/*
 * Describe what maps @addr in @mm: "4K WC", "2M UC-", "none".  The caller
 * holds mmap_lock (the VMA stays) and has checked that it is p2pmem's.
 * The walk is GUP-fast's: with interrupts off no page table can be freed
 * under it (x86 frees them after an IPI or an RCU grace period); each
 * entry is checked in a copy before the table it points to is read.
 */
static void p2pmem_pte_cache(struct mm_struct *mm, unsigned long addr,
			     char *out, size_t len)
{
	unsigned long flags;
	pgd_t *pgdp;
	p4d_t *p4dp;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;
	pte_t pte;

	strscpy(out, "none\n", len);
	local_irq_save(flags);
	pgdp = pgd_offset(mm, addr);
	if (pgd_none(READ_ONCE(*pgdp)))
		goto out;
	p4dp = p4d_offset(pgdp, addr);
	if (p4d_none(READ_ONCE(*p4dp)))
		goto out;
	pudp = pud_offset(p4dp, addr);
	pud = READ_ONCE(*pudp);
	if (!pud_present(pud) || pud_leaf(pud))
		goto out;	/* p2pmem maps no 1 GiB pages */
	pmdp = pmd_offset(&pud, addr);
	pmd = READ_ONCE(*pmdp);
	if (!pmd_present(pmd))
		goto out;
	if (pmd_leaf(pmd)) {
		snprintf(out, len, "2M %s\n",
			 p2pmem_cache_name(protval_large_2_4k(pmd_flags(pmd))));
		goto out;
	}
	if (pmd_bad(pmd))
		goto out;
	/* The table the copy points to, not a second read of *pmdp. */
	pte = ptep_get(pte_offset_kernel(&pmd, addr));
	if (pte_present(pte))
		snprintf(out, len, "4K %s\n", p2pmem_cache_name(pte_flags(pte)));
out:
	local_irq_restore(flags);
}

/* Each open file keeps its last answer for read(). */
static int p2pmem_ptdbg_open(struct inode *inode, struct file *file)
{
	file->private_data = kzalloc(P2PMEM_PTDBG_LEN, GFP_KERNEL);
	return file->private_data ? 0 : -ENOMEM;
}

static int p2pmem_ptdbg_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

/*
 * Write an address of one of the caller's own p2pmem mappings; read back
 * what maps it.  The answer names a page size and a cache type only, of
 * the caller's own memory; one walk per write.
 */
static ssize_t p2pmem_ptdbg_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr;
	int ret;

	if (!mm)
		return -EINVAL;
	ret = kstrtoul_from_user(ubuf, count, 0, &addr);
	if (ret) {
		pr_info_ratelimited("%*pE: pte_cache takes an address\n",
				    P2PMEM_COMM(current));
		return ret;
	}
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = find_vma(mm, addr);
	if (vma && addr >= vma->vm_start && vma->vm_ops == &p2pmem_vm_ops)
		p2pmem_pte_cache(mm, addr, file->private_data,
				 P2PMEM_PTDBG_LEN);
	else
		ret = -EINVAL;
	mmap_read_unlock(mm);
	if (ret) {
		pr_info_ratelimited("%*pE: pte_cache: not an address of a p2pmem mapping\n",
				    P2PMEM_COMM(current));
		return ret;
	}
	return count;
}

static ssize_t p2pmem_ptdbg_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	const char *ans = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, ans, strlen(ans));
}

static const struct file_operations p2pmem_ptdbg_fops = {
	.owner = THIS_MODULE,
	.open = p2pmem_ptdbg_open,
	.release = p2pmem_ptdbg_release,
	.read = p2pmem_ptdbg_read,
	.write = p2pmem_ptdbg_write,
	.llseek = default_llseek,
};

/*
 * /sys/kernel/debug/p2pmem/pte_cache, root only: the test suite's way to
 * see the cache type the mm put in the PTEs of a mapping (debugfs's own
 * x86/pat_memtype_list shows the range's reservation, not the PTEs).
 * debugfs errors are not fatal: the module works without it.
 */
void p2pmem_debugfs_init(void)
{
	p2pmem_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("pte_cache", 0600, p2pmem_debugfs, NULL,
			    &p2pmem_ptdbg_fops);
}

void p2pmem_debugfs_exit(void)
{
	debugfs_remove_recursive(p2pmem_debugfs);
}
#else
void p2pmem_debugfs_init(void)
{
}

void p2pmem_debugfs_exit(void)
{
}
#endif
