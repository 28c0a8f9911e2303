// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem core: the p2pmem bus, /dev/p2pmemN, its mmap and the native
 * backend's page pool.
 *
 * Objects and who owns them
 * -------------------------
 * struct p2pmem_dev (one per registered BAR range; p2pmem/internal.h)
 *   - embeds the p2pmemN struct device; freed by its release() once the
 *     last reference is gone.  References: the registration (dropped by
 *     p2pmem_unregister, called by the PCI driver's remove() or, for
 *     adopted memory, when the owning driver starts to unbind), the cdev
 *     (held by every open file), and one per live buffer.
 *   - holds a reference on its PCI device, which is its parent in the
 *     device tree (see p2pmem_add_device()) and gets a "device" link too.
 *   - gets its pages from a backend (struct p2pmem_backend):
 *     native: owns the ZONE_DEVICE dev_pagemap (devm on the child, so it
 *       cannot outlive it) and the gen_pool of free BAR pages (devm too;
 *       devres releases in reverse, so the pool goes after the pagemap);
 *     kernel (p2pmem/kernel.c, CONFIG_PCI_P2PDMA): the kernel's p2pdma
 *       core owns pagemap and pool, as devres of the provider PCI device.
 *   - owns an anonymous inode whose address_space every open file uses as
 *     f_mapping: one unmap_mapping_range() then reaches every user mapping
 *     of the device, whichever device node or process made it.
 *
 * struct p2pmem_buf (one per successful mmap() call)
 *   - holds one page reference on each of its pages (the one the backend
 *     hands over, see "pages" below) until its last VMA is gone.  This
 *     keeps MAP_SHARED semantics: after fork, MADV_DONTNEED or mremap every
 *     VMA still finds the same page at an offset.  The cost: a partial
 *     munmap frees nothing until the rest of that mmap() is unmapped too
 *     (VMA split/merge gives no callback that would let us track which
 *     offsets are still covered, and the i_mmap tree walkers are not
 *     exported to modules).
 *   - referenced (kref) by every VMA that maps part of it: mmap, fork,
 *     split and mremap each go through vm_ops->open/close.
 *
 * Pages
 *   A page is either in its pool or handed out.  Handing out gives the
 *   buffer one page reference and takes one pgmap->ref; the page is zeroed
 *   before its first PTE (p2pmem_buf_zero());
 *   from then on the page is referenced by its buffer, by each PTE that
 *   maps it and by each GUP pin.  When the last of those goes, the page
 *   goes back to the pool and the pgmap->ref is dropped: by the mm core's
 *   free callback (p2pmem_page_free() on 6.1+, the p2pdma core's own on the
 *   kernel backend), or, on kernels without such a callback (5.10), by
 *   p2pmem_drain_scan(), which finds released pages whose count is back to
 *   the memmap's own 1.  So a page can never be handed out again while a
 *   VMA or an in-flight DMA can still reach it, and "available" counts
 *   exactly the pages nobody can reach.
 *
 * Teardown (p2pmem_unregister)
 *   1. live = false under live_sem (write): no new open, mmap or fault can
 *      hand out or map a page after this;
 *   2. zap every user PTE through the shared address_space (later faults
 *      get SIGBUS);
 *   3. revoke every buffer: drop its page references;
 *   4. wait until every page is back in the pool, i.e. for the pins of
 *      I/O in flight and long-term pins (p2pmem_wait_unpinned(): reported
 *      every pin_report_secs, idle, no hung-task report); not for adopted
 *      memory, whose pool the owning driver uses too: its unbind does the
 *      wait, after this;
 *   5. backend->remove_memory().  Native: devm_memunmap_pages(), which has
 *      no pgmap reference left to wait for, removes the struct pages.
 *      Kernel: nothing; the range stays in the p2pdma core until the
 *      provider's driver unbinds (see p2pmem.h);
 *   6. delete the char device and sysfs.  This must come last: on these
 *      kernels device_del() releases the child's devres, and the pagemap
 *      must not go while buffers still hold its pages.
 *   Open files and stale VMAs keep the p2pmem_dev alive but can no longer
 *   reach the memory.  The module cannot go away earlier: open files hold
 *   it through f_op->owner, and the PCI remove path waits in step 4.
 *
 * Locks
 *   live_sem (rw_semaphore): read-held while handing out pages (mmap) and
 *     while zeroing and inserting PTEs (fault; at most 64 KiB each);
 *     write-held only to clear "live".
 *     Nests inside mmap_lock.
 *   zero_lock (mutex, per buffer): its "zeroed" bitmap; taken inside
 *     live_sem in the fault handler, nothing nests inside it.
 *   buf_lock (mutex): the buffer list and every buffer's page array, so
 *     that buffer release and revocation drop each page reference exactly
 *     once (the entry is cleared when it is dropped).  Nests inside
 *     mmap_lock (vm_ops->close) and inside live_sem (a new buffer goes on
 *     the list before "live" can drop, so revocation sees it); live_sem is
 *     never taken with buf_lock held.
 *   The pools are lock-free (genalloc), "draining" is an xarray (its
 *     own lock; a page leaves it only through xa_erase(), so exactly one
 *     scanner frees it) and "freed" a lock-free llist (each scan takes the
 *     whole list), so pages can be freed from any context, including I/O
 *     completion.  drain_lock (mutex) serialises the scans that return
 *     those pages; a leaf, taken inside live_sem and mmap_lock (mmap).
 *   The provider's PCI device lock is held around adoption and removal of
 *     its memory (the bus notifier runs under it; the retry work and
 *     module exit take it).  Unregistration may wait for pins under it, as
 *     any driver's unbind does, but never under a global lock:
 *     p2pmem_adoptees_lock and p2pmem_retry_lock (p2pmem/adopt.c) guard
 *     their lists only and are leaves.
 *   reach_lock (mutex): the sysfs "reach" answer only; a leaf lock.
 */
#include <linux/cdev.h>
#include <linux/fs.h>
#include <linux/genalloc.h>
#include <linux/idr.h>
#include <linux/ioport.h>
#include <linux/kref.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pci.h>
#include <linux/pseudo_fs.h>
#include <linux/io.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/slab.h>

#include "p2pmem.h"
#include "p2pmem/compat.h"
#include "p2pmem/internal.h"
#include "p2pmem/uapi.h"

#define P2PMEM_MAX_DEVICES	(1U << MINORBITS)
#define P2PMEM_FS_MAGIC		0x70327070	/* "p2pp" */

struct p2pmem_buf {
	struct kref kref;
	struct p2pmem_dev *p2p;
	struct list_head node;
	unsigned long npages;
	/*
	 * Pages are zeroed just before their first PTE, not at mmap() time;
	 * see p2pmem_buf_zero().  Bit i of @zeroed is set once pages[i] has
	 * been (it lives in the same allocation, after @pages).
	 */
	struct mutex zero_lock;
	unsigned long *zeroed;
	struct page *pages[];
};

static const struct p2pmem_backend p2pmem_native_backend;
static struct class_compat *p2pmem_class;
static dev_t p2pmem_devt;
static DEFINE_IDA(p2pmem_ida);
static struct vfsmount *p2pmem_mnt;

static inline struct p2pmem_dev *to_p2pmem(struct device *dev)
{
	return container_of(dev, struct p2pmem_dev, dev);
}

static unsigned int pin_report_secs = 10;
module_param(pin_report_secs, uint, 0644);
MODULE_PARM_DESC(pin_report_secs, "While removal waits for pinned pages, report what is still pinned every this many seconds (default 10)");

/* ---- native backend: our own pagemap and page pool ----------------------- */

/*
 * Return a page nobody references any more to the pool, and drop the pgmap
 * reference it carried: the last one lets memunmap_pages() free the memmap,
 * so nobody may touch the page after this.
 */
static void p2pmem_page_release(struct p2pmem_dev *p2p, struct page *page)
{
	gen_pool_free(p2p->pool, page_to_phys(page), PAGE_SIZE);
	percpu_ref_put(p2pmem_compat_pgmap_ref(&p2p->pgmap));
}

/*
 * A page on p2p->freed is linked through its zone_device_data, which only
 * device-private memory uses; the mm is done with our page by then.
 */
static struct llist_node *p2pmem_page_node(struct page *page)
{
	BUILD_BUG_ON(sizeof(page->zone_device_data) != sizeof(struct llist_node));
	return (struct llist_node *)&page->zone_device_data;
}

static struct page *p2pmem_node_page(struct llist_node *node)
{
	return container_of((void **)node, struct page, zone_device_data);
}

/*
 * The mm's callback when the last reference to one of our pages is gone;
 * any context, I/O completion included.  Where the mm still reads
 * page->pgmap and resets the count to 1 after this returns (6.1 to 6.12),
 * the page may neither be handed out again nor give up its pgmap reference
 * (the memmap could go) before that reset: it waits on p2p->freed for the
 * drain work, which sees the count back at 1.
 */
static void p2pmem_page_free(struct page *page)
{
	struct dev_pagemap *pgmap = p2pmem_compat_page_pgmap(page);
	struct p2pmem_dev *p2p = container_of(pgmap, struct p2pmem_dev, pgmap);

	if (!p2pmem_compat_mm_resets_freed_page()) {
		p2pmem_page_release(p2p, page);
		return;
	}
	/* The first page on an empty list brings the work; see below. */
	if (llist_add(p2pmem_page_node(page), &p2p->freed))
		mod_delayed_work(system_wq, &p2p->drain_work, 0);
}
P2PMEM_PGMAP_OPS(p2pmem_pgmap_ops, p2pmem_page_free);

/*
 * Kernels before 6.1 never tell the owner of a P2PDMA page that it is free
 * (at refcount 0 the mm core only drops a pgmap reference).  There a free
 * page keeps the memmap's own reference, a handed-out one carries ours on
 * top, and a page whose holders are all gone is back at exactly 1.  Pages
 * released while something (a pin of I/O in flight, a pipe) still holds
 * them wait in p2p->draining until a scan sees them at 1.
 */
static void p2pmem_drain_scan(struct p2pmem_dev *p2p)
{
	struct llist_node *node, *next;
	struct page *page;
	unsigned long pfn;

	/*
	 * One scan at a time, so that a reader of "available" waits for a
	 * batch another scan took rather than miss it.
	 */
	mutex_lock(&p2p->drain_lock);
	xa_for_each(&p2p->draining, pfn, page) {
		/* xa_erase() decides which of two concurrent scans frees it. */
		if (page_ref_count(page) == 1 && xa_erase(&p2p->draining, pfn))
			p2pmem_page_release(p2p, page);
	}
	/* Each scan takes its own batch, so a page is released once. */
	llist_for_each_safe(node, next, llist_del_all(&p2p->freed)) {
		page = p2pmem_node_page(node);
		if (page_ref_count(page) == 1)
			p2pmem_page_release(p2p, page);
		else
			llist_add(node, &p2p->freed);
	}
	/*
	 * Pages left (or added meanwhile without scheduling: the list was not
	 * empty) need another scan; the work keeps coming until none are.
	 */
	if (!llist_empty(&p2p->freed))
		schedule_delayed_work(&p2p->drain_work, 1);
	mutex_unlock(&p2p->drain_lock);
}

static void p2pmem_drain_work(struct work_struct *work)
{
	struct p2pmem_dev *p2p = container_of(to_delayed_work(work),
					      struct p2pmem_dev, drain_work);

	p2pmem_drain_scan(p2p);
	if (!xa_empty(&p2p->draining))
		schedule_delayed_work(&p2p->drain_work, HZ / 10);
}

static void p2pmem_native_put_page(struct p2pmem_dev *p2p, struct page *page)
{
	put_page(page);
	if (p2pmem_compat_pgmap_frees_pages())
		return;
	if (page_ref_count(page) == 1) {
		p2pmem_page_release(p2p, page);
		return;
	}
	/* A few bytes; failing here would leak the page for good. */
	xa_store(&p2p->draining, page_to_pfn(page), page,
		 GFP_KERNEL | __GFP_NOFAIL);
	schedule_delayed_work(&p2p->drain_work, HZ / 10);
}

/*
 * Give a page from a pool its holder's reference.  Nobody else can hold a
 * pooled page, so its count tells the convention: 6.15+ parks free P2PDMA
 * pages at 0, 6.1 to 6.12 at 1 (the reference we hand over), and before
 * 6.1 the memmap keeps 1 of its own, so we add ours.
 */
void p2pmem_page_claim(struct page *page)
{
	if (!page_ref_count(page))
		set_page_count(page, 1);
	else if (!p2pmem_compat_pgmap_frees_pages())
		get_page(page);
}

/* Take @n contiguous pages out of our own pool. */
static bool p2pmem_native_take_run(struct p2pmem_dev *p2p, unsigned long n,
				   struct page **pages)
{
	unsigned long addr, i;

	addr = gen_pool_alloc(p2p->pool, n << PAGE_SHIFT);
	if (!addr)
		return false;
	for (i = 0; i < n; i++) {
		pages[i] = pfn_to_page(PHYS_PFN(addr) + i);
		p2pmem_page_claim(pages[i]);
		percpu_ref_get(p2pmem_compat_pgmap_ref(&p2p->pgmap));
	}
	return true;
}

/*
 * genalloc algorithm: the first @nr free pages at or after the cursor in
 * @data.  The cursor only moves forward, so a sweep of the pool through
 * p2pmem_native_take_next() reads each bitmap word about once.
 */
unsigned long p2pmem_next_fit(unsigned long *map, unsigned long size,
			      unsigned long start, unsigned int nr, void *data,
			      struct gen_pool *pool, unsigned long start_addr)
{
	unsigned long *cursor = data;

	return bitmap_find_next_zero_area(map, size, max(start, *cursor), nr, 0);
}

/* The cursor is a page index from p2p->phys: the pool is that one chunk. */
static bool p2pmem_native_take_next(struct p2pmem_dev *p2p,
				    unsigned long *cursor, struct page **page)
{
	unsigned long addr;

	addr = gen_pool_alloc_algo(p2p->pool, PAGE_SIZE, p2pmem_next_fit,
				   cursor);
	if (!addr)
		return false;
	*cursor = PHYS_PFN(addr - p2p->phys) + 1;
	*page = pfn_to_page(PHYS_PFN(addr));
	p2pmem_page_claim(*page);
	percpu_ref_get(p2pmem_compat_pgmap_ref(&p2p->pgmap));
	return true;
}

static size_t p2pmem_native_avail(struct p2pmem_dev *p2p)
{
	return gen_pool_avail(p2p->pool);
}

/*
 * Bytes nobody holds.  Pages the mm has freed but a backend holds back
 * (p2pmem_page_free()) are taken back first, so that memory munmap() let
 * go of counts as soon as munmap() returns, both in sysfs and for
 * p2pmem_take_pages(), which asks this before it takes anything.
 */
static size_t p2pmem_avail(struct p2pmem_dev *p2p)
{
	if (p2p->backend->reclaim)
		p2p->backend->reclaim(p2p);
	return p2p->backend->avail(p2p);
}

/* Pages dropped between two chances for other tasks to run. */
#define P2PMEM_PUT_BATCH	1024

/*
 * Drop the references in @pages[0..n) and clear the entries.  A buffer can
 * be the size of the BAR, so this yields now and then (all callers may
 * sleep).
 */
static void p2pmem_put_pages(struct p2pmem_dev *p2p, struct page **pages,
			     unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		if (pages[i])
			p2p->backend->put_page(p2p, pages[i]);
		pages[i] = NULL;
		if (!((i + 1) % P2PMEM_PUT_BATCH))
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
 * Fill @pages from the pool, all of them or none.  Long contiguous runs
 * first (fewer DMA segments): a first-fit search for the whole request,
 * then for halves of it, at most P2PMEM_TAKE_SCANS searches in all.  What
 * is still missing then comes from one sweep of the pool in address order,
 * one page at a time, which costs one pass however fragmented the pool is
 * (halving down to single pages, each a first-fit search from the start,
 * was quadratic).  Pages that are adjacent in the pool stay adjacent in
 * the buffer, so the sweep still gives runs where there are any.
 *
 * The caller holds mmap_lock and live_sem: this does no I/O to the BAR,
 * and a fatal signal ends it (-EINTR) with everything given back.
 */
static int p2pmem_take_pages(struct p2pmem_dev *p2p, unsigned long npages,
			     struct page **pages)
{
	const struct p2pmem_backend *be = p2p->backend;
	unsigned long done = 0, run = npages, cursor = 0, runs = 0;
	unsigned int scans = 0;
	int ret = -ENOMEM;

	/* Not enough free at all: say so without searching. */
	if (p2pmem_avail(p2p) >> PAGE_SHIFT < npages)
		return -ENOMEM;
	while (done < npages && run && scans < P2PMEM_TAKE_SCANS) {
		scans++;
		if (be->take_run(p2p, run, pages + done)) {
			done += run;
			runs++;
			run = min(run, npages - done);
		} else {
			run /= 2;
		}
	}
	dev_dbg(&p2p->dev, "took %lu pages: %lu runs in %u first-fit searches, %lu pages in one sweep\n",
		npages, runs, scans, npages - done);
	while (done < npages) {
		if (!be->take_next(p2p, &cursor, pages + done))
			goto fail;
		if (++done % P2PMEM_TAKE_BATCH)
			continue;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto fail;
		}
		cond_resched();
	}
	return 0;

fail:
	p2pmem_put_pages(p2p, pages, done);
	return ret;
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
static void p2pmem_zero_page(struct page *page)
{
	u64 __iomem *p = (u64 __force __iomem *)page_address(page);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(*p); i++)
		__raw_writeq(0, p + i);
}

/*
 * Zero the pages [first, end) of @buf that were not zeroed yet.  Every
 * page is zeroed once per buffer, whoever had it before (on the kernel
 * backend possibly another driver), and before any PTE maps it: the fault
 * handler is the only place PTEs are made, and GUP, O_DIRECT, RDMA
 * registration and fork all reach the pages through it or through PTEs it
 * made.  So mmap() itself does no zeroing, and each fault zeroes at most
 * its fault-around window (64 KiB), under the mmap_lock (read) or VMA
 * lock the fault holds anyway and under live_sem (read), which teardown
 * therefore waits on for at most one window.  zero_lock makes a racing
 * fault on the same pages wait for the zeroing instead of mapping a page
 * whose zeroing could still land after the user's first store.
 */
static void p2pmem_buf_zero(struct p2pmem_buf *buf, pgoff_t first,
			    pgoff_t end)
{
	struct page *last = NULL;
	pgoff_t i;

	mutex_lock(&buf->zero_lock);
	for (i = first; i < end; i++) {
		if (test_bit(i, buf->zeroed))
			continue;
		last = buf->pages[i];
		p2pmem_zero_page(last);
		__set_bit(i, buf->zeroed);
	}
	/*
	 * The zeros must be in the BAR before a PTE or a peer's DMA can reach
	 * the page.  A barrier only sends them on their way: they are posted
	 * writes, and a peer's DMA takes another path.  A read from the BAR
	 * cannot pass the CPU's posted writes to it (PCIe ordering), so once
	 * it completes every zero has landed: one non-posted read per fault.
	 */
	if (last) {
		wmb();
		(void)__raw_readq((u64 __force __iomem *)page_address(last));
		rmb();
	}
	mutex_unlock(&buf->zero_lock);
}

/* ---- buffers ------------------------------------------------------------ */

static struct p2pmem_buf *p2pmem_buf_create(struct p2pmem_dev *p2p,
					    unsigned long npages)
{
	struct p2pmem_buf *buf;
	int ret = -ENODEV;

	/* The "zeroed" bitmap's words go in pointer-sized slots after pages[]. */
	BUILD_BUG_ON(sizeof(struct page *) != sizeof(unsigned long));
	buf = kvzalloc(struct_size(buf, pages, npages + BITS_TO_LONGS(npages)),
		       GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);

	kref_init(&buf->kref);
	buf->p2p = p2p;
	buf->npages = npages;
	mutex_init(&buf->zero_lock);
	buf->zeroed = (unsigned long *)(buf->pages + npages);

	/*
	 * On the list before "live" can drop: a buffer revocation missed
	 * would keep its pages past teardown.  Taking pages is bounded (see
	 * p2pmem_take_pages()) and zeroing waits for the first fault.
	 */
	down_read(&p2p->live_sem);
	if (p2p->live)
		ret = p2pmem_take_pages(p2p, npages, buf->pages);
	if (!ret) {
		get_device(&p2p->dev);
		mutex_lock(&p2p->buf_lock);
		list_add(&buf->node, &p2p->bufs);
		mutex_unlock(&p2p->buf_lock);
	}
	up_read(&p2p->live_sem);
	if (ret) {
		kvfree(buf);
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
	p2pmem_put_pages(p2p, buf->pages, buf->npages);
	mutex_unlock(&p2p->buf_lock);
	put_device(&p2p->dev);
	kvfree(buf);
}

static void p2pmem_revoke_bufs(struct p2pmem_dev *p2p)
{
	struct p2pmem_buf *buf;

	mutex_lock(&p2p->buf_lock);
	list_for_each_entry(buf, &p2p->bufs, node)
		p2pmem_put_pages(p2p, buf->pages, buf->npages);
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

/* Pages mapped per fault, like the kernel's fault-around for files. */
#define P2PMEM_FAULT_AROUND	16UL

/*
 * The end (a buffer page index) of the faulting page's fault-around
 * window: up to P2PMEM_FAULT_AROUND pages, within the VMA and the buffer.
 */
static pgoff_t p2pmem_fault_end(struct vm_fault *vmf, struct p2pmem_buf *buf)
{
	unsigned long in_vma = (vmf->vma->vm_end - (vmf->address & PAGE_MASK)) >>
			       PAGE_SHIFT;

	return vmf->pgoff + min3(in_vma, P2PMEM_FAULT_AROUND,
				 buf->npages - vmf->pgoff);
}

/*
 * Map the pages after the faulting one as well, up to @end, so that
 * touching a buffer costs one fault per 64 KiB rather than per page.  Best
 * effort: a page already mapped (-EBUSY) is skipped, any other error just
 * stops early.
 */
static void p2pmem_fault_around(struct vm_fault *vmf, struct p2pmem_buf *buf,
				pgoff_t end)
{
	unsigned long addr = vmf->address & PAGE_MASK;
	pgoff_t pgoff;

	for (pgoff = vmf->pgoff + 1; pgoff < end; pgoff++) {
		addr += PAGE_SIZE;
		if (vm_insert_page(vmf->vma, addr, buf->pages[pgoff]) == -EFAULT)
			break;
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
	pgoff_t end;

	if (vmf->pgoff >= buf->npages)
		return VM_FAULT_SIGBUS;
	end = p2pmem_fault_end(vmf, buf);
	/*
	 * Entries are cleared only by revocation, which starts after "live"
	 * drops, and by buffer release, which needs this VMA gone.
	 */
	down_read(&p2p->live_sem);
	if (p2p->live) {
		p2pmem_buf_zero(buf, vmf->pgoff, end);
		ret = vmf_insert_page(vmf->vma, vmf->address,
				      buf->pages[vmf->pgoff]);
		if (ret == VM_FAULT_NOPAGE)
			p2pmem_fault_around(vmf, buf, end);
	}
	up_read(&p2p->live_sem);
	return ret;
}

static const struct vm_operations_struct p2pmem_vm_ops = {
	.open = p2pmem_vm_open,
	.close = p2pmem_vm_close,
	.fault = p2pmem_vm_fault,
};

static int p2pmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct p2pmem_dev *p2p = file->private_data;
	struct p2pmem_buf *buf;

	if (!(vma->vm_flags & VM_MAYSHARE)) {
		dev_err_ratelimited(&p2p->dev, "%s: MAP_PRIVATE is not supported, use MAP_SHARED\n",
				    current->comm);
		return -EINVAL;
	}
	if (vma->vm_pgoff) {
		dev_err_ratelimited(&p2p->dev, "%s: mmap offset must be 0\n",
				    current->comm);
		return -EINVAL;
	}

	/* Before sizing the page array: kvmalloc() WARNs past INT_MAX. */
	if (vma_pages(vma) > p2p->size >> PAGE_SHIFT)
		return -ENOMEM;

	buf = p2pmem_buf_create(p2p, vma_pages(vma));
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	vma->vm_private_data = buf;
	vma->vm_ops = &p2pmem_vm_ops;
	/*
	 * MIXEDMAP: ordinary struct-page PTEs that GUP and fork handle like
	 * any page; DONTEXPAND: mremap() may not grow it past the buffer.
	 */
	p2pmem_compat_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

/* ---- char device -------------------------------------------------------- */

static int p2pmem_open(struct inode *inode, struct file *file)
{
	struct p2pmem_dev *p2p = container_of(inode->i_cdev, struct p2pmem_dev, cdev);
	int ret = -ENODEV;

	down_read(&p2p->live_sem);
	if (p2p->live) {
		file->private_data = p2p;
		file->f_mapping = p2p->inode->i_mapping;
		/* No read/write/seek: the memory is reached through mmap only. */
		ret = nonseekable_open(inode, file);
	}
	up_read(&p2p->live_sem);
	return ret;
}

static long p2pmem_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct p2pmem_dev *p2p = file->private_data;

	if (cmd != P2PMEM_IOC_REACH)
		return -ENOTTY;
	return p2pmem_topology_ioctl(p2p, (void __user *)arg);
}

static const struct file_operations p2pmem_fops = {
	.owner = THIS_MODULE,
	.open = p2pmem_open,
	.mmap = p2pmem_mmap,
	/* msync(MS_SYNC) and fsync(): no page cache, nothing to write back. */
	.fsync = noop_fsync,
	.unlocked_ioctl = p2pmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* ---- sysfs -------------------------------------------------------------- */

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_p2pmem(dev)->size);
}
static DEVICE_ATTR_RO(size);

static ssize_t available_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%zu\n", p2pmem_avail(to_p2pmem(dev)));
}
static DEVICE_ATTR_RO(available);

static ssize_t allocated_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct p2pmem_dev *p2p = to_p2pmem(dev);

	return sysfs_emit(buf, "%llu\n", p2p->size - p2pmem_avail(p2p));
}
static DEVICE_ATTR_RO(allocated);

static ssize_t bar_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", to_p2pmem(dev)->bar);
}
static DEVICE_ATTR_RO(bar);

static ssize_t offset_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "0x%llx\n", to_p2pmem(dev)->offset);
}
static DEVICE_ATTR_RO(offset);

static ssize_t phys_addr_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct p2pmem_dev *p2p = to_p2pmem(dev);

	return sysfs_emit(buf, "0x%llx-0x%llx\n", (u64)p2p->phys,
			  (u64)p2p->phys + p2p->size - 1);
}
static DEVICE_ATTR_RO(phys_addr);

static ssize_t bus_addr_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct p2pmem_dev *p2p = to_p2pmem(dev);

	return sysfs_emit(buf, "0x%llx-0x%llx\n", (u64)p2p->bus,
			  (u64)p2p->bus + p2p->size - 1);
}
static DEVICE_ATTR_RO(bus_addr);

static ssize_t numa_node_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%d\n", dev_to_node(dev));
}
static DEVICE_ATTR_RO(numa_node);

static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", to_p2pmem(dev)->backend->name);
}
static DEVICE_ATTR_RO(backend);

static ssize_t provider_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%s\n", to_p2pmem(dev)->provider);
}
static DEVICE_ATTR_RO(provider);

static struct attribute *p2pmem_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_available.attr,
	&dev_attr_allocated.attr,
	&dev_attr_bar.attr,
	&dev_attr_offset.attr,
	&dev_attr_phys_addr.attr,
	&dev_attr_bus_addr.attr,
	&dev_attr_numa_node.attr,
	&dev_attr_backend.attr,
	&dev_attr_provider.attr,
	NULL,
};

static const struct attribute_group p2pmem_group = {
	.attrs = p2pmem_attrs,
};

static const struct attribute_group *p2pmem_groups[] = {
	&p2pmem_group,
	&p2pmem_topology_group,
	NULL,
};

/*
 * The provider in the event itself, for udev rules written before p2pmemN
 * had a parent (ATTRS{}/SUBSYSTEMS== reach the PCI device now): the
 * "device" link is made only after the add event has gone out.
 */
static int p2pmem_uevent(p2pmem_compat_uevent_dev *dev,
			 struct kobj_uevent_env *env)
{
	const struct p2pmem_dev *p2p = container_of(dev, struct p2pmem_dev, dev);

	return add_uevent_var(env, "P2PMEM_PCI=%s", pci_name(p2p->pdev)) ?:
	       add_uevent_var(env, "P2PMEM_BACKEND=%s", p2p->backend->name) ?:
	       add_uevent_var(env, "P2PMEM_PROVIDER=%s", p2p->provider);
}

/*
 * The bus only places p2pmemN in the device tree; no driver ever binds to
 * its devices.  None registers with it (it is not exported), so adding a
 * device finds no driver to probe: no match() or probe() is needed and no
 * "driver" link appears.  Removal does not take the parent's lock
 * (need_parent_lock stays false), which matters: every caller of
 * p2pmem_del_device() holds the PCI device's lock.  p2pmemN has no power
 * state of its own, hence device_set_pm_not_required(): it stays off the
 * PM core's lists (no suspend/resume calls, no "power/" directory, no
 * complaint when it is added while its parent is suspending).
 * Not const: bus_register() writes into it on 5.10 and 6.1.
 */
static struct bus_type p2pmem_bus_type = {
	.name = "p2pmem",
	.uevent = p2pmem_uevent,
};

/* ---- registration ------------------------------------------------------- */

static void p2pmem_dev_release(struct device *dev)
{
	struct p2pmem_dev *p2p = to_p2pmem(dev);

	/* devres (pagemap, then pool) has already run for this device. */
	if (p2p->inode)
		iput(p2p->inode);
	ida_free(&p2pmem_ida, MINOR(dev->devt));
	pci_dev_put(p2p->pdev);
	kfree_const(p2p->provider);
	kfree(p2p);
}

/* Reject ranges the DMA API or memremap_pages() would get wrong. */
static int p2pmem_check_range(struct pci_dev *pdev, int bar, u64 *size,
			      u64 offset, const struct p2pmem_backend *backend)
{
	u64 align = PAGES_PER_SUBSECTION << PAGE_SHIFT;
	u64 len;
	phys_addr_t phys;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS) {
		pci_err(pdev, "p2pmem: BAR %d does not exist\n", bar);
		return -EINVAL;
	}
	len = pci_resource_len(pdev, bar);
	if (!len) {
		pci_err(pdev, "p2pmem: BAR %d is not implemented (size 0)\n", bar);
		return -ENODEV;
	}
	if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM)) {
		pci_err(pdev, "p2pmem: BAR %d is not a memory BAR\n", bar);
		return -EINVAL;
	}
	if (!*size)
		*size = offset < len ? len - offset : 0;
	if (!*size || offset >= len || *size > len - offset) {
		pci_err(pdev, "p2pmem: range 0x%llx+0x%llx lies outside BAR %d (0x%llx bytes)\n",
			offset, *size, bar, len);
		return -EINVAL;
	}
	phys = pci_resource_start(pdev, bar) + offset;
	if (!IS_ALIGNED(phys, align) || !IS_ALIGNED(*size, align)) {
		pci_err(pdev, "p2pmem: BAR %d range %pa+0x%llx is not aligned to 0x%llx\n",
			bar, &phys, *size, align);
		return -EINVAL;
	}
	/*
	 * Without the p2pdma core the DMA API hands peers CPU physical
	 * addresses; the kernel backend translates them itself.
	 */
	if (backend == &p2pmem_native_backend &&
	    pci_bus_address(pdev, bar) != pci_resource_start(pdev, bar)) {
		pci_err(pdev, "p2pmem: BAR %d bus address differs from its CPU address; peers would get the wrong address\n",
			bar);
		return -EINVAL;
	}
	if (region_intersects(phys, *size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pci_err(pdev, "p2pmem: BAR %d range %pa overlaps System RAM\n",
			bar, &phys);
		return -EINVAL;
	}
	return 0;
}

static int p2pmem_native_add_memory(struct p2pmem_dev *p2p)
{
	int nid = dev_to_node(&p2p->dev);
	void *addr;
	int ret;

	p2p->pool = devm_gen_pool_create(&p2p->dev, PAGE_SHIFT, nid, NULL);
	if (IS_ERR(p2p->pool))
		return PTR_ERR(p2p->pool);
	ret = gen_pool_add(p2p->pool, p2p->phys, p2p->size, nid);
	if (ret)
		return ret;

	/*
	 * P2PDMA type: the kernel maps the BAR uncached in the linear map,
	 * and on kernels without CONFIG_PCI_P2PDMA GUP and the DMA API treat
	 * the pages like RAM.
	 */
	p2p->pgmap.type = MEMORY_DEVICE_PCI_P2PDMA;
	p2p->pgmap.range.start = p2p->phys;
	p2p->pgmap.range.end = p2p->phys + p2p->size - 1;
	p2p->pgmap.nr_range = 1;
	p2p->pgmap.ops = &p2pmem_pgmap_ops;
	addr = devm_memremap_pages(&p2p->dev, &p2p->pgmap);
	return PTR_ERR_OR_ZERO(addr);
}

/*
 * Every page is back in the pool (p2pmem_wait_unpinned()), so every pgmap
 * reference of ours is gone and memunmap has nothing left to wait for.  On
 * 5.10 that order matters too: memunmap drops the memmap's own references,
 * and a page still held then would never look free again.
 */
static void p2pmem_native_remove_memory(struct p2pmem_dev *p2p)
{
	cancel_delayed_work_sync(&p2p->drain_work);
	/* Empty now: every page is back in the pool. */
	xa_destroy(&p2p->draining);
	devm_memunmap_pages(&p2p->dev, &p2p->pgmap);
}

static const struct p2pmem_backend p2pmem_native_backend = {
	.name = "native",
	.add_memory = p2pmem_native_add_memory,
	.remove_memory = p2pmem_native_remove_memory,
	.reclaim = p2pmem_drain_scan,
	.take_run = p2pmem_native_take_run,
	.take_next = p2pmem_native_take_next,
	.put_page = p2pmem_native_put_page,
	.avail = p2pmem_native_avail,
};

/*
 * p2pmemN is a child of its PCI device on the p2pmem bus, not a class
 * device: a class device with a parent lives in a glue directory named
 * after its class, .../<bdf>/p2pmem/p2pmemN, and on CONFIG_PCI_P2PDMA
 * kernels .../<bdf>/p2pmem/ is the p2pdma core's own attribute group.  A
 * bus device gets no glue directory: .../<bdf>/p2pmemN, beside that group.
 * /sys/class/p2pmem/p2pmemN stays, as a class_compat link, and "device"
 * links to the provider as a class device's would (a bus device gets none).
 */
static int p2pmem_add_device(struct p2pmem_dev *p2p)
{
	int ret;

	ret = cdev_device_add(&p2p->cdev, &p2p->dev);
	if (ret)
		return ret;
	ret = sysfs_create_link(&p2p->dev.kobj, &p2p->pdev->dev.kobj, "device");
	if (ret)
		goto err_del;
	ret = p2pmem_compat_class_link(p2pmem_class, &p2p->dev);
	if (ret)
		goto err_link;
	return 0;

err_link:
	sysfs_remove_link(&p2p->dev.kobj, "device");
err_del:
	cdev_device_del(&p2p->cdev, &p2p->dev);
	return ret;
}

/*
 * Every caller runs before the PCI device's own device_del(), so the child
 * always goes before its parent: the driver's remove() (p2pmem/pci.c), or,
 * for adopted memory, the bus notifier when the owning driver starts to
 * unbind or, after a surprise removal, once it has (p2pmem/adopt.c); a
 * hot-unplugged device is unbound before it is deleted.
 */
static void p2pmem_del_device(struct p2pmem_dev *p2p)
{
	p2pmem_compat_class_unlink(p2pmem_class, &p2p->dev);
	sysfs_remove_link(&p2p->dev.kobj, "device");
	cdev_device_del(&p2p->cdev, &p2p->dev);
}

struct p2pmem_dev *p2pmem_create(struct pci_dev *pdev, int bar, u64 size,
				 u64 offset, const char *provider,
				 const struct p2pmem_backend *backend)
{
	struct p2pmem_dev *p2p;
	int id, ret;

	ret = p2pmem_check_range(pdev, bar, &size, offset, backend);
	if (ret)
		return ERR_PTR(ret);

	p2p = kzalloc(sizeof(*p2p), GFP_KERNEL);
	if (!p2p)
		return ERR_PTR(-ENOMEM);
	id = ida_alloc_max(&p2pmem_ida, P2PMEM_MAX_DEVICES - 1, GFP_KERNEL);
	if (id < 0) {
		kfree(p2p);
		return ERR_PTR(id);
	}

	p2p->pdev = pci_dev_get(pdev);
	p2p->backend = backend;
	p2p->bar = bar;
	p2p->offset = offset;
	p2p->size = size;
	p2p->phys = pci_resource_start(pdev, bar) + offset;
	p2p->bus = pci_bus_address(pdev, bar) + offset;
	init_rwsem(&p2p->live_sem);
	mutex_init(&p2p->buf_lock);
	INIT_LIST_HEAD(&p2p->bufs);
	mutex_init(&p2p->reach_lock);
	xa_init(&p2p->draining);
	init_llist_head(&p2p->freed);
	mutex_init(&p2p->drain_lock);
	INIT_DELAYED_WORK(&p2p->drain_work, p2pmem_drain_work);

	device_initialize(&p2p->dev);
	p2p->dev.bus = &p2pmem_bus_type;
	p2p->dev.parent = &pdev->dev;
	/* No power state of its own; see p2pmem_bus_type. */
	device_set_pm_not_required(&p2p->dev);
	p2p->dev.devt = MKDEV(MAJOR(p2pmem_devt), id);
	p2p->dev.groups = p2pmem_groups;
	p2p->dev.release = p2pmem_dev_release;
	set_dev_node(&p2p->dev, dev_to_node(&pdev->dev));
	/* From here on every error path is put_device(). */
	ret = dev_set_name(&p2p->dev, "p2pmem%d", id);
	if (ret)
		goto err_put;
	p2p->provider = kstrdup_const(provider ?: "unknown", GFP_KERNEL);
	if (!p2p->provider) {
		ret = -ENOMEM;
		goto err_put;
	}
	p2p->inode = alloc_anon_inode(p2pmem_mnt->mnt_sb);
	if (IS_ERR(p2p->inode)) {
		ret = PTR_ERR(p2p->inode);
		p2p->inode = NULL;
		goto err_put;
	}
	ret = backend->add_memory(p2p);
	if (ret)
		goto err_put;

	p2p->live = true;
	cdev_init(&p2p->cdev, &p2pmem_fops);
	p2p->cdev.owner = THIS_MODULE;
	ret = p2pmem_add_device(p2p);
	if (ret)
		goto err_remove;

	dev_info(&p2p->dev, "%s BAR %d: %llu MiB at %pa (%s, %s backend)\n",
		 pci_name(pdev), bar, size >> 20, &p2p->phys, p2p->provider,
		 backend->name);
	return p2p;

err_remove:
	backend->remove_memory(p2p);
err_put:
	pci_err(pdev, "p2pmem: cannot register BAR %d: %d\n", bar, ret);
	put_device(&p2p->dev);
	return ERR_PTR(ret);
}

struct p2pmem_dev *p2pmem_register(struct pci_dev *pdev, int bar, u64 size,
				   u64 offset, const char *provider)
{
	return p2pmem_create(pdev, bar, size, offset, provider,
			     p2pmem_native_backend_allowed() ?
			     &p2pmem_native_backend : &p2pmem_kernel_backend);
}
EXPORT_SYMBOL_GPL(p2pmem_register);

/* Bytes handed out and not back yet. */
static size_t p2pmem_busy(struct p2pmem_dev *p2p)
{
	return p2p->size - p2pmem_avail(p2p);
}

static unsigned long p2pmem_report_period(void)
{
	return clamp(READ_ONCE(pin_report_secs), 1U, 86400U) * (unsigned long)HZ;
}

/*
 * Wait until every page handed out is back: until the pins of I/O in
 * flight, RDMA MRs, io_uring fixed buffers and pipes holding vmspliced pages
 * are dropped, which user space may never do.  So the wait says every
 * pin_report_secs how much is still pinned, and sleeps in short TASK_IDLE
 * steps: an intended wait, not a hung task, and no load average.
 */
static void p2pmem_wait_unpinned(struct p2pmem_dev *p2p)
{
	unsigned long start = jiffies, next;
	size_t busy = p2pmem_busy(p2p);

	if (!busy)
		return;
	dev_info(&p2p->dev, "waiting for %zu KiB still pinned by I/O\n",
		 busy >> 10);
	next = start + p2pmem_report_period();
	while ((busy = p2pmem_busy(p2p))) {
		if (time_after_eq(jiffies, next)) {
			dev_info(&p2p->dev, "still waiting for %zu KiB pinned by I/O (%lu s); whoever holds it (an RDMA MR, io_uring fixed buffers, a pipe) must let go\n",
				 busy >> 10, (jiffies - start) / HZ);
			next = jiffies + p2pmem_report_period();
		}
		schedule_timeout_idle(HZ / 10);
	}
	dev_info(&p2p->dev, "pinned memory released after %lu s\n",
		 (jiffies - start) / HZ);
}

/*
 * Steps 1 to 3 of the teardown (see the top): no new open, mmap or fault
 * hands out a page, every user mapping is gone, every buffer has dropped
 * its pages.  Bounded; may be called again (p2pmem_unregister() does).
 */
void p2pmem_revoke(struct p2pmem_dev *p2p)
{
	down_write(&p2p->live_sem);
	p2p->live = false;
	up_write(&p2p->live_sem);

	unmap_mapping_range(p2p->inode->i_mapping, 0, 0, 1);
	p2pmem_revoke_bufs(p2p);
}

void p2pmem_unregister(struct p2pmem_dev *p2p)
{
	if (IS_ERR_OR_NULL(p2p))
		return;

	p2pmem_revoke(p2p);
	if (!p2p->backend->shared_pool)
		p2pmem_wait_unpinned(p2p);
	p2p->backend->remove_memory(p2p);

	dev_info(&p2p->dev, "removed\n");
	p2pmem_del_device(p2p);
	put_device(&p2p->dev);
}
EXPORT_SYMBOL_GPL(p2pmem_unregister);

/* ---- module ------------------------------------------------------------- */

static int p2pmem_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, P2PMEM_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type p2pmem_fs_type = {
	.name = "p2pmem",
	.init_fs_context = p2pmem_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static int __init p2pmem_init(void)
{
	int ret;

	p2pmem_mnt = kern_mount(&p2pmem_fs_type);
	if (IS_ERR(p2pmem_mnt))
		return PTR_ERR(p2pmem_mnt);

	ret = alloc_chrdev_region(&p2pmem_devt, 0, P2PMEM_MAX_DEVICES, "p2pmem");
	if (ret)
		goto err_mnt;

	ret = bus_register(&p2pmem_bus_type);
	if (ret)
		goto err_chrdev;
	p2pmem_class = class_compat_register("p2pmem");
	if (!p2pmem_class) {
		ret = -ENOMEM;
		goto err_bus;
	}

	ret = p2pmem_pci_init();
	if (ret)
		goto err_class;
	ret = p2pmem_adopt_init();
	if (ret)
		goto err_pci;
	return 0;

err_pci:
	p2pmem_pci_exit();
err_class:
	class_compat_unregister(p2pmem_class);
err_bus:
	bus_unregister(&p2pmem_bus_type);
err_chrdev:
	unregister_chrdev_region(p2pmem_devt, P2PMEM_MAX_DEVICES);
err_mnt:
	kern_unmount(p2pmem_mnt);
	return ret;
}

static void __exit p2pmem_exit(void)
{
	p2pmem_adopt_exit();
	p2pmem_pci_exit();
	class_compat_unregister(p2pmem_class);
	bus_unregister(&p2pmem_bus_type);
	unregister_chrdev_region(p2pmem_devt, P2PMEM_MAX_DEVICES);
	kern_unmount(p2pmem_mnt);
	ida_destroy(&p2pmem_ida);
}

module_init(p2pmem_init);
module_exit(p2pmem_exit);

MODULE_DESCRIPTION("PCIe peer-to-peer memory for user space");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMEM_VERSION);
