// SPDX-License-Identifier: GPL-2.0
/*
 * The native backend, for kernels without CONFIG_PCI_P2PDMA: p2pmem makes
 * its own ZONE_DEVICE pagemap over the range and keeps the free pages in a
 * gen_pool; both are devres of the p2pmemN (the pool goes after the
 * pagemap).  The core reaches it through p2pmem_native_backend only.
 *
 * Pages
 *   A page is in its pool, reserved by a buffer, or claimed by it.
 *   Reserving takes it out of the pool and takes one pgmap->ref; nothing
 *   else changes, and a reserved page goes straight back to the pool
 *   (p2pmem_native_give_back()).  The buffer claims it (gives it one page
 *   reference) before its first PTE or PMD, and it is zero by then (zeroed
 *   in the background while it was free or reserved, see
 *   p2pmem_zero_work(), or else by p2pmem_buf_ready(), p2pmem/file.c);
 *   from then on the page is referenced by its buffer, by each PTE that
 *   maps it and by each GUP pin (a PMD takes no reference: the buffer's
 *   outlives every PMD, see p2pmem/compat.h).  When the last of those
 *   goes, the page goes back to the pool and the pgmap->ref is dropped:
 *   by the mm core's free callback (p2pmem_page_free() on 6.1+), or, on
 *   kernels without such a callback (5.10), by p2pmem_drain_scan(), which
 *   finds released pages whose count is back to the memmap's own 1.  So a
 *   page can never be handed out again while a VMA or an in-flight DMA can
 *   still reach it, and "available" counts exactly the pages nobody can
 *   reach.
 *
 * Locks
 *   The pool is lock-free (genalloc), "draining" is an xarray (its own
 *   lock; a page leaves it only through xa_erase(), so exactly one scanner
 *   frees it) and "freed" a lock-free llist (each scan takes the whole
 *   list), so pages can be freed from any context, including I/O
 *   completion.  drain_lock (mutex) serialises the scans that return those
 *   pages; a leaf, taken inside live_sem and mmap_lock (mmap).  clean_lock
 *   (mutex) is held by the background zeroing for one batch (inside
 *   live_sem, read, and across the batch's BAR writes and its read-back)
 *   and by a buffer reading which of the pages it claims are zero
 *   (p2pmem_native_take_zeroed()); a leaf, taken inside the buffer's lock
 *   and live_sem in a fault (p2pmem/file.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/fs.h>
#include <linux/genalloc.h>
#include <linux/llist.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "compat.h"
#include "internal.h"

/*
 * The background zeroing's workqueue: unbound (a sweep of a large BAR runs
 * for long) and freezable (no BAR writes while the system suspends and its
 * devices go to low-power states).
 */
static struct workqueue_struct *p2pmem_zero_wq;

int p2pmem_native_init(void)
{
	p2pmem_zero_wq = alloc_workqueue("p2pmem_zero",
					 WQ_UNBOUND | WQ_FREEZABLE, 0);
	return p2pmem_zero_wq ? 0 : -ENOMEM;
}

/* Every p2pmemN is gone, and with it every zeroing work item. */
void p2pmem_native_exit(void)
{
	destroy_workqueue(p2pmem_zero_wq);
}

static void p2pmem_zero_queue(struct p2pmem_dev *p2p, unsigned long delay)
{
	queue_delayed_work(p2pmem_zero_wq, &p2p->zero_work, delay);
}

/* Have the free pages that are not known to hold zeros zeroed, soon. */
static void p2pmem_zero_kick(struct p2pmem_dev *p2p)
{
	if (!READ_ONCE(p2p->zero_stop))
		p2pmem_zero_queue(p2p, 0);
}

/*
 * Return a page nobody references any more to the pool, and drop the pgmap
 * reference it carried: the last one lets memunmap_pages() free the memmap,
 * so nobody may touch the page after this.  The page is dirty (whatever
 * its last user wrote) before it is free: a taker that finds it in the
 * pool finds the bit set too (the barrier pairs with the fully ordered
 * test_and_clear_bit() in p2pmem_native_take_zeroed()).  The zeroing is
 * queued before the page is free, too: once every page is free, teardown
 * may stop that work and free p2p (p2pmem_native_remove_memory()).
 */
static void p2pmem_page_release(struct p2pmem_dev *p2p, struct page *page)
{
	set_bit(PHYS_PFN(page_to_phys(page) - p2p->phys), p2p->dirty);
	smp_mb__after_atomic();
	p2pmem_zero_kick(p2p);
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
 * Reserve the @n pages at @addr, just taken from the pool: one pgmap
 * reference each (dropped one by one on release, or all at once by
 * p2pmem_native_give_back()), whatever @n is.
 */
static void p2pmem_native_reserve(struct p2pmem_dev *p2p, unsigned long addr,
				  unsigned long n, unsigned long *pfn)
{
	/* The background zeroing makes way for a while; see below. */
	WRITE_ONCE(p2p->last_take, jiffies);
	percpu_ref_get_many(p2pmem_compat_pgmap_ref(&p2p->pgmap), n);
	*pfn = PHYS_PFN(addr);
}

/*
 * Reserved pages nobody claimed (a buffer that was never touched there)
 * are as they were in the pool: their count and their dirty bits are
 * unchanged (the background zeroing may have cleared some meanwhile).
 * Like p2pmem_page_release(), the work is queued before the pages are
 * free, and the pgmap references go last.
 */
static void p2pmem_native_give_back(struct p2pmem_dev *p2p, unsigned long pfn,
				    unsigned long n)
{
	unsigned long first = pfn - PHYS_PFN(p2p->phys);

	if (find_next_bit(p2p->dirty, first + n, first) < first + n)
		p2pmem_zero_kick(p2p);
	gen_pool_free(p2p->pool, PFN_PHYS(pfn), n << PAGE_SHIFT);
	percpu_ref_put_many(p2pmem_compat_pgmap_ref(&p2p->pgmap), n);
}

/* Reserve @n contiguous pages of our own pool. */
static bool p2pmem_native_take_run(struct p2pmem_dev *p2p, unsigned long n,
				   unsigned long *pfn)
{
	unsigned long addr;

	addr = gen_pool_alloc(p2p->pool, n << PAGE_SHIFT);
	if (!addr)
		return false;
	p2pmem_native_reserve(p2p, addr, n, pfn);
	return true;
}

/*
 * genalloc algorithm for ->take_pmd(): like p2pmem_next_fit(), for @nr
 * pages whose physical address is a multiple of @nr pages.  genalloc's own
 * gen_pool_first_fit_align() aligns relative to the chunk's start, which is
 * the BAR's start plus the offset the provider chose, not necessarily a
 * 2 MiB boundary.
 */
static unsigned long p2pmem_pmd_fit(unsigned long *map, unsigned long size,
				    unsigned long start, unsigned int nr,
				    void *data, struct gen_pool *pool,
				    unsigned long start_addr)
{
	unsigned long *cursor = data, mask = nr - 1;

	return bitmap_find_next_zero_area_off(map, size, max(start, *cursor),
					      nr, mask,
					      PHYS_PFN(start_addr) & mask);
}

/* The cursor is a page index from p2p->phys, as for take_next. */
static bool p2pmem_native_take_pmd(struct p2pmem_dev *p2p,
				   unsigned long *cursor, unsigned long *pfn)
{
	unsigned long addr;

	addr = gen_pool_alloc_algo(p2p->pool, PMD_SIZE, p2pmem_pmd_fit, cursor);
	if (!addr)
		return false;
	*cursor = PHYS_PFN(addr - p2p->phys) + P2PMEM_PMD_PAGES;
	p2pmem_native_reserve(p2p, addr, P2PMEM_PMD_PAGES, pfn);
	return true;
}

/* The cursor is a page index from p2p->phys: the pool is that one chunk. */
static bool p2pmem_native_take_next(struct p2pmem_dev *p2p,
				    unsigned long *cursor, unsigned long *pfn)
{
	unsigned long addr;

	addr = gen_pool_alloc_algo(p2p->pool, PAGE_SIZE, p2pmem_next_fit,
				   cursor);
	if (!addr)
		return false;
	*cursor = PHYS_PFN(addr - p2p->phys) + 1;
	p2pmem_native_reserve(p2p, addr, 1, pfn);
	return true;
}

/*
 * Background zeroing.  Every page starts dirty (p2p->dirty: whatever was in
 * the BAR at registration) and becomes dirty again when it comes back to
 * the pool; this work zeroes dirty pages, a batch at a time under
 * clean_lock, and clears their bits once the zeros have landed.  A page is
 * dirty only while nothing maps it: free, or reserved by a buffer that has
 * not claimed it yet (p2pmem_native_take_zeroed() clears the bit, under
 * clean_lock, when the buffer claims the page to map it), so the work never
 * writes to a page anybody can reach, and it needs to take nothing out of
 * the pool: "available" and mmap() see every free page, zeroed or not.
 * A page claimed while its batch is being zeroed is reported zero once the
 * batch is done, or dirty (to be zeroed at fault) if it was not reached.
 *
 * It makes way: it pauses for P2PMEM_ZERO_PAUSE jiffies after pages were
 * reserved or claimed (the faults that claim them need clean_lock).  It
 * holds live_sem (read, trylock) for each batch and zeroes only while the
 * device is live and its PCI channel is not offline, so p2pmem_revoke()
 * waits for at most one batch and no batch starts after it: teardown and
 * surprise removal stop the writes before the BAR goes back to its owner.
 * Until then it polls every 100 ms; p2pmem_native_remove_memory() stops
 * it.  A batch whose zeros did not land (p2pmem_zero_flush(): the device
 * dropped them) stays dirty and the work stops until a page comes back
 * again.
 */
#define P2PMEM_ZERO_PAUSE	2

static void p2pmem_zero_work(struct work_struct *work)
{
	struct p2pmem_dev *p2p = container_of(to_delayed_work(work),
					      struct p2pmem_dev, zero_work);
	unsigned long npages = p2p->size >> PAGE_SHIFT, next = 0, done = 0;
	unsigned long batch[P2PMEM_ZERO_BATCH];
	struct page *page = NULL;
	unsigned int n, i;
	bool ok = true;

	while (next < npages) {
		if (READ_ONCE(p2p->zero_stop))
			return;
		if (time_before(jiffies, READ_ONCE(p2p->last_take) +
					 P2PMEM_ZERO_PAUSE)) {
			p2pmem_zero_queue(p2p, P2PMEM_ZERO_PAUSE);
			return;
		}
		/* Never waits behind a revocation: it polls instead. */
		if (!down_read_trylock(&p2p->live_sem)) {
			p2pmem_zero_queue(p2p, HZ / 10);
			return;
		}
		if (!p2p->live || pci_channel_offline(p2p->pdev)) {
			up_read(&p2p->live_sem);
			p2pmem_zero_queue(p2p, HZ / 10);
			return;
		}
		mutex_lock(&p2p->clean_lock);
		for (n = 0; n < P2PMEM_ZERO_BATCH; n++) {
			next = find_next_bit(p2p->dirty, npages, next);
			if (next >= npages)
				break;
			page = pfn_to_page(PHYS_PFN(p2p->phys) + next);
			p2pmem_zero_page(page);
			batch[n] = next++;
		}
		if (n)
			ok = p2pmem_zero_flush(page);
		for (i = 0; ok && i < n; i++)
			clear_bit(batch[i], p2p->dirty);
		mutex_unlock(&p2p->clean_lock);
		up_read(&p2p->live_sem);
		if (!ok) {
			dev_warn_ratelimited(&p2p->dev, "zeros written to the BAR did not land (device gone or reset?): background zeroing stopped\n");
			return;
		}
		done += n;
		cond_resched();
	}
	/* Pages released behind the sweep queued the work again. */
	if (done && find_first_bit(p2p->dirty, npages) >= npages)
		dev_dbg(&p2p->dev, "every free page is zeroed (%lu KiB in the background)\n",
			done << (PAGE_SHIFT - 10));
}

/*
 * Which of the @n pages from @pfn on (just claimed) hold zeros: those not
 * dirty.  From here on they are the buffer's, and the background zeroing
 * leaves them alone.  A clean range is marked zeroed in one go instead of
 * one atomic per page.
 */
static void p2pmem_native_take_zeroed(struct p2pmem_dev *p2p,
				      unsigned long pfn, unsigned long n,
				      unsigned long *zeroed, unsigned long bit)
{
	unsigned long first = pfn - PHYS_PFN(p2p->phys), k;

	/* The background zeroing makes way for the rest of the faults. */
	WRITE_ONCE(p2p->last_take, jiffies);
	mutex_lock(&p2p->clean_lock);
	if (find_next_bit(p2p->dirty, first + n, first) >= first + n) {
		bitmap_set(zeroed, bit, n);
	} else {
		for (k = 0; k < n; k++)
			if (!test_and_clear_bit(first + k, p2p->dirty))
				__set_bit(bit + k, zeroed);
	}
	mutex_unlock(&p2p->clean_lock);
}

static size_t p2pmem_native_avail(struct p2pmem_dev *p2p)
{
	return gen_pool_avail(p2p->pool);
}

/*
 * A snapshot, without clean_lock: sysfs may read it at any time.  It
 * counts reserved pages not claimed yet too, which the work zeroes as it
 * does free ones.
 */
static size_t p2pmem_native_zero_pending(struct p2pmem_dev *p2p)
{
	return (size_t)bitmap_weight(p2p->dirty, p2p->size >> PAGE_SHIFT) << PAGE_SHIFT;
}

static void p2pmem_kvfree(void *p)
{
	kvfree(p);
}

static int p2pmem_native_add_memory(struct p2pmem_dev *p2p)
{
	int nid = dev_to_node(&p2p->dev);
	void *addr;
	int ret;

	xa_init(&p2p->draining);
	init_llist_head(&p2p->freed);
	mutex_init(&p2p->drain_lock);
	INIT_DELAYED_WORK(&p2p->drain_work, p2pmem_drain_work);
	mutex_init(&p2p->clean_lock);
	INIT_DELAYED_WORK(&p2p->zero_work, p2pmem_zero_work);
	p2p->last_take = jiffies - P2PMEM_ZERO_PAUSE;
	/* Nothing is known about what the BAR holds: all of it is dirty. */
	/* A bit per page: 512 KiB for 16 GiB, so not necessarily kmalloc. */
	p2p->dirty = kvcalloc(BITS_TO_LONGS(p2p->size >> PAGE_SHIFT),
			      sizeof(unsigned long), GFP_KERNEL);
	if (!p2p->dirty)
		return -ENOMEM;
	ret = devm_add_action_or_reset(&p2p->dev, p2pmem_kvfree, p2p->dirty);
	if (ret)
		return ret;
	bitmap_fill(p2p->dirty, p2p->size >> PAGE_SHIFT);
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
	if (IS_ERR(addr))
		return PTR_ERR(addr);

	/*
	 * PMD mappings (p2pmem/file.c, where p2pmem/compat.h allows them)
	 * need a DAX inode behind the file's mapping, as device-dax's char
	 * device has (dax_open() in drivers/dax/device.c): the mm calls
	 * ->huge_fault of a file VMA only if it is vma_is_dax() (VM_MIXEDMAP
	 * is VM_NO_KHUGEPAGED), whatever the THP sysfs setting, and
	 * thp_get_unmapped_area() aligned only IS_DAX() files in some
	 * kernels.  FOLL_LONGTERM pins stay allowed: vma_is_fsdax() is false
	 * for a character device.  The inode is ours alone, not yet reachable
	 * by any file.
	 */
#ifdef P2PMEM_COMPAT_PMD
	p2p->inode->i_flags |= S_DAX;
#endif
	/* It waits for the device to go live. */
	p2pmem_zero_kick(p2p);
	return 0;
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
	/* No page comes back any more to queue it again. */
	WRITE_ONCE(p2p->zero_stop, true);
	cancel_delayed_work_sync(&p2p->zero_work);
	/* Empty now: every page is back in the pool. */
	xa_destroy(&p2p->draining);
	devm_memunmap_pages(&p2p->dev, &p2p->pgmap);
}

const struct p2pmem_backend p2pmem_native_backend = {
	.name = "native",
	.bus_is_phys = true,
	.add_memory = p2pmem_native_add_memory,
	.remove_memory = p2pmem_native_remove_memory,
	.reclaim = p2pmem_drain_scan,
	.take_run = p2pmem_native_take_run,
	.take_pmd = p2pmem_native_take_pmd,
	.take_next = p2pmem_native_take_next,
	.give_back = p2pmem_native_give_back,
	.take_zeroed = p2pmem_native_take_zeroed,
	.put_page = p2pmem_native_put_page,
	.avail = p2pmem_native_avail,
	.zero_pending = p2pmem_native_zero_pending,
};
