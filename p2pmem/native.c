// SPDX-License-Identifier: GPL-2.0
/*
 * The native backend, for kernels without CONFIG_PCI_P2PDMA: p2pmem makes
 * its own ZONE_DEVICE pagemap over the range and keeps the free pages in a
 * gen_pool; both are devres of the p2pmemN (the pool goes after the
 * pagemap).  The core reaches it through p2pmem_native_backend only.
 *
 * Pages
 *   A page is either in its pool or handed out.  Handing out gives the
 *   buffer one page reference and takes one pgmap->ref; the page is zeroed
 *   before its first PTE (p2pmem_buf_zero(), p2pmem/file.c);
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
 * Locks
 *   The pool is lock-free (genalloc), "draining" is an xarray (its own
 *   lock; a page leaves it only through xa_erase(), so exactly one scanner
 *   frees it) and "freed" a lock-free llist (each scan takes the whole
 *   list), so pages can be freed from any context, including I/O
 *   completion.  drain_lock (mutex) serialises the scans that return those
 *   pages; a leaf, taken inside live_sem and mmap_lock (mmap).
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

/* Hand out the @n pages at @addr, just taken from the pool. */
static void p2pmem_native_claim(struct p2pmem_dev *p2p, unsigned long addr,
				unsigned long n, struct page **pages)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		pages[i] = pfn_to_page(PHYS_PFN(addr) + i);
		p2pmem_page_claim(pages[i]);
		percpu_ref_get(p2pmem_compat_pgmap_ref(&p2p->pgmap));
	}
}

/* Take @n contiguous pages out of our own pool. */
static bool p2pmem_native_take_run(struct p2pmem_dev *p2p, unsigned long n,
				   struct page **pages)
{
	unsigned long addr;

	addr = gen_pool_alloc(p2p->pool, n << PAGE_SHIFT);
	if (!addr)
		return false;
	p2pmem_native_claim(p2p, addr, n, pages);
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
				   unsigned long *cursor, struct page **pages)
{
	unsigned long addr;

	addr = gen_pool_alloc_algo(p2p->pool, PMD_SIZE, p2pmem_pmd_fit, cursor);
	if (!addr)
		return false;
	*cursor = PHYS_PFN(addr - p2p->phys) + P2PMEM_PMD_PAGES;
	p2pmem_native_claim(p2p, addr, P2PMEM_PMD_PAGES, pages);
	return true;
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
	p2pmem_native_claim(p2p, addr, 1, page);
	return true;
}

static size_t p2pmem_native_avail(struct p2pmem_dev *p2p)
{
	return gen_pool_avail(p2p->pool);
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
	 * 2 MiB mappings (p2pmem/file.c) need a DAX inode behind the file's
	 * mapping, as device-dax's char device has (dax_open() in
	 * drivers/dax/device.c): on 6.1 the mm calls ->huge_fault only for
	 * anonymous and vma_is_dax() VMAs (hugepage_vma_check(): VM_MIXEDMAP
	 * is VM_NO_KHUGEPAGED), on 5.10 thp_get_unmapped_area() aligns only
	 * IS_DAX() files, and there and on 6.12 a DAX VMA gets PMD faults
	 * whatever the THP sysfs setting.  FOLL_LONGTERM pins stay allowed:
	 * vma_is_fsdax() is false for a character device.  The inode is
	 * ours alone, not yet reachable by any file.
	 */
	if (IS_ENABLED(P2PMEM_COMPAT_PMD))
		p2p->inode->i_flags |= S_DAX;
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
	.take_pmd = IS_ENABLED(P2PMEM_COMPAT_PMD) ? p2pmem_native_take_pmd : NULL,
	.take_next = p2pmem_native_take_next,
	.put_page = p2pmem_native_put_page,
	.avail = p2pmem_native_avail,
};
