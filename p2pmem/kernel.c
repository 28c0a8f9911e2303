// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel backend: p2p memory managed by the kernel's own p2pdma core
 * (CONFIG_PCI_P2PDMA).  There the kernel must own every P2PDMA pagemap: its
 * GUP, block and DMA-mapping code recognise such pages, look up their
 * provider and apply the ACS and host-bridge rules.  So this backend adds
 * BARs with pci_p2pdma_add_resource(), takes pages with pci_alloc_p2pmem()
 * and hands them out the way the kernel's own sysfs "allocate" file does:
 *
 *   - a free page sits in the device's pool; on 6.15+ its refcount is 0,
 *     before that the mm core parks it at 1;
 *   - reserving it takes it out of the pool with one pgmap reference, and
 *     a reserved page goes back to the pool as pci_free_p2pmem() would
 *     put it (p2pmem_kernel_give_back());
 *   - the core claims it before mapping it, which gives it a refcount
 *     of 1 (set on 0-based kernels, see p2pmem_page_claim());
 *   - when its last reference goes, the core calls the p2pdma core's own
 *     free callback, which returns it to the pool and drops that pgmap
 *     reference.
 *
 * Teardown is the provider's: the p2pdma pagemap is devres of the provider
 * PCI device, and its release waits for every page's pgmap reference, i.e.
 * for I/O that still pins pages this module handed out.
 *
 * Drivers also register p2p memory with the p2pdma core themselves (nvme
 * does it for a CMB that supports data) and publish it for other drivers.
 * p2pmem/adopt.c finds such memory (with p2pmem_kernel_find_range() and
 * p2pmem_kernel_pool() from here) and registers it through the core, which
 * serves it with p2pmem_kernel_adopted_backend.  This unit calls nothing
 * of the module's but the compat unit: the core reaches it through the
 * backend ops only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#define dev_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/genalloc.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>

#include "compat.h"
#include "internal.h"

/*
 * Find the P2PDMA pagemap inside @pdev's BARs, through public interfaces
 * only.  ZONE_DEVICE ranges start and end on subsection boundaries, so
 * probing one pfn per subsection finds any of them.
 */
bool p2pmem_kernel_find_range(struct pci_dev *pdev, int *bar, u64 *offset,
			       u64 *len)
{
	const u64 step = PAGES_PER_SUBSECTION << PAGE_SHIFT;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		resource_size_t start = pci_resource_start(pdev, i);
		resource_size_t end = pci_resource_end(pdev, i);
		resource_size_t addr;

		if (!(pci_resource_flags(pdev, i) & IORESOURCE_MEM) ||
		    !pci_resource_len(pdev, i))
			continue;
		for (addr = ALIGN(start, step); addr < end; addr += step) {
			struct dev_pagemap *pgmap;
			struct range r;
			bool p2pdma;

			pgmap = p2pmem_compat_get_dev_pagemap(PHYS_PFN(addr));
			if (!pgmap)
				continue;
			p2pdma = pgmap->type == MEMORY_DEVICE_PCI_P2PDMA &&
				 pgmap->nr_range == 1;
			r = pgmap->range;
			put_dev_pagemap(pgmap);
			if (!p2pdma || r.start < start || r.end > end)
				continue;
			*bar = i;
			*offset = r.start - start;
			*len = range_len(&r);
			return true;
		}
	}
	return false;
}

/*
 * The p2pdma core's pool for @pdev, read through the compat mirror only
 * once public facts say there is one, and trusted only when it agrees with
 * them: it must hold the pagemap's range (the core adds it at the range's
 * kernel address), translate it to the BAR's bus address, and the
 * "published" flag must be a bool.  A kernel whose private struct
 * pci_p2pdma no longer starts the way compat.h mirrors it fails these
 * checks, and p2pmem then leaves its p2p memory alone (fail closed).
 * The caller keeps @pdev's driver, which owns the pool, bound: it is that
 * driver's probe (not asserted: the PCI core may run probe on another
 * CPU's worker, which does not hold the device lock itself) or it holds
 * the device lock.
 */
struct gen_pool *p2pmem_kernel_pool(struct pci_dev *pdev, int bar,
				    u64 offset, u64 len, bool *published)
{
	struct p2pmem_compat_p2pdma_head *head;
	unsigned long va = (unsigned long)phys_to_virt(pci_resource_start(pdev, bar) + offset);
	struct gen_pool *pool = NULL;
	u8 pub = 0;

	rcu_read_lock();
	head = p2pmem_compat_p2pdma_head(pdev);
	if (head) {
		pool = READ_ONCE(head->pool);
		pub = *(u8 *)&head->p2pmem_published;
	}
	rcu_read_unlock();

	if (!pool)
		return NULL;
	if (!virt_addr_valid(pool) || pub > 1 ||
	    !gen_pool_has_addr(pool, va, len) ||
	    gen_pool_virt_to_phys(pool, va) != pci_bus_address(pdev, bar) + offset) {
		dev_warn_once(&pdev->dev, "the kernel's p2pdma state does not match its pagemap (struct pci_p2pdma changed?); leaving its p2p memory alone\n");
		return NULL;
	}
	*published = pub;
	return pool;
}

static int p2pmem_kernel_add_memory(struct p2pmem_dev *p2p)
{
	u64 offset, len;
	bool published;
	int ret, bar;

	if (p2pmem_kernel_find_range(p2p->pdev, &bar, &offset, &len)) {
		pci_info_ratelimited(p2p->pdev, "the device already has p2p memory in the kernel's p2pdma core\n");
		return -EBUSY;
	}
	ret = pci_p2pdma_add_resource(p2p->pdev, p2p->bar, p2p->size,
				      p2p->offset);
	if (ret) {
		pci_err(p2p->pdev, "the kernel's p2pdma core refused BAR %d: %d\n",
			p2p->bar, ret);
		return ret;
	}
	/* The range stays in the core's pool until unbind, used or not. */
	p2p->kernel_pool = p2pmem_kernel_pool(p2p->pdev, p2p->bar, p2p->offset,
					      p2p->size, &published);
	return p2p->kernel_pool ? 0 : -ENODEV;
}

/* Adopted memory is already in the kernel: only check it is still there. */
static int p2pmem_kernel_adopt_memory(struct p2pmem_dev *p2p)
{
	bool published;

	p2p->kernel_pool = p2pmem_kernel_pool(p2p->pdev, p2p->bar, p2p->offset,
					      p2p->size, &published);
	return p2p->kernel_pool && published ? 0 : -ENODEV;
}

/* The pagemap and pool stay with the provider device; see the top. */
static void p2pmem_kernel_remove_memory(struct p2pmem_dev *p2p)
{
}

static struct percpu_ref *p2pmem_kernel_ref(unsigned long pfn)
{
	return p2pmem_compat_pgmap_ref(p2pmem_compat_page_pgmap(pfn_to_page(pfn)));
}

static bool p2pmem_kernel_take_run(struct p2pmem_dev *p2p, unsigned long n,
				   unsigned long *pfn)
{
	struct percpu_ref *ref;
	void *addr;

	/*
	 * Holds one pgmap reference for the whole run; the core's free
	 * callback drops one per page, so each page gets its own.
	 */
	addr = pci_alloc_p2pmem(p2p->pdev, n << PAGE_SHIFT);
	if (!addr)
		return false;
	*pfn = PHYS_PFN(virt_to_phys(addr));
	ref = p2pmem_kernel_ref(*pfn);
	percpu_ref_get_many(ref, n);
	percpu_ref_put(ref);
	return true;
}

/*
 * The p2pdma core exports no way to allocate at a position, so every page
 * costs the kernel's own first-fit search from the start of its pool (as
 * every allocation through its "allocate" file does); the cursor is unused.
 * p2pmem bounds the searches it makes that fail or take long runs.
 */
/*
 * One page at or after *@cursor, straight from the core's pool (checked
 * when the device was made, alive as long as it is) with our next-fit
 * algorithm, so that a sweep is one pass, not a first-fit search per page
 * as pci_alloc_p2pmem() would make it.  Otherwise what pci_alloc_p2pmem()
 * does: the chunk's owner is the pagemap's reference, taken only while
 * the pagemap is live.
 */
static bool p2pmem_kernel_take_next(struct p2pmem_dev *p2p,
				    unsigned long *cursor, unsigned long *pfn)
{
	struct percpu_ref *ref;
	unsigned long addr;

	addr = gen_pool_alloc_algo_owner(p2p->kernel_pool, PAGE_SIZE,
					 p2pmem_next_fit, cursor,
					 (void **)&ref);
	if (!addr)
		return false;
	if (!percpu_ref_tryget_live(ref)) {
		gen_pool_free(p2p->kernel_pool, addr, PAGE_SIZE);
		return false;
	}
	*pfn = PHYS_PFN(virt_to_phys((void *)addr));
	*cursor = *pfn - PHYS_PFN(p2p->phys) + 1;
	return true;
}

/*
 * Reserved pages nobody claimed: back to the core's pool (at the kernel
 * address it keeps them by), then their pgmap references, as the core's
 * free callback does for each claimed page.
 */
static void p2pmem_kernel_give_back(struct p2pmem_dev *p2p, unsigned long pfn,
				    unsigned long n)
{
	struct percpu_ref *ref = p2pmem_kernel_ref(pfn);

	gen_pool_free(p2p->kernel_pool, (unsigned long)page_address(pfn_to_page(pfn)),
		      n << PAGE_SHIFT);
	percpu_ref_put_many(ref, n);
}

/* The kernel's free callback returns the page once its count drops to 0. */
static void p2pmem_kernel_put_page(struct p2pmem_dev *p2p, struct page *page)
{
	put_page(page);
}

/*
 * The pool lives as long as the provider's driver is bound, and p2pmemN
 * (its sysfs included) is gone before that driver unbinds.
 */
static size_t p2pmem_kernel_avail(struct p2pmem_dev *p2p)
{
	return gen_pool_avail(p2p->kernel_pool);
}

const struct p2pmem_backend p2pmem_kernel_backend = {
	.name = "kernel",
	.add_memory = p2pmem_kernel_add_memory,
	.remove_memory = p2pmem_kernel_remove_memory,
	.take_run = p2pmem_kernel_take_run,
	.take_next = p2pmem_kernel_take_next,
	.give_back = p2pmem_kernel_give_back,
	.put_page = p2pmem_kernel_put_page,
	.avail = p2pmem_kernel_avail,
};

/* Memory that another driver added and published, e.g. an NVMe CMB. */
const struct p2pmem_backend p2pmem_kernel_adopted_backend = {
	.name = "kernel",
	.shared_pool = true,
	.add_memory = p2pmem_kernel_adopt_memory,
	.remove_memory = p2pmem_kernel_remove_memory,
	.take_run = p2pmem_kernel_take_run,
	.take_next = p2pmem_kernel_take_next,
	.give_back = p2pmem_kernel_give_back,
	.put_page = p2pmem_kernel_put_page,
	.avail = p2pmem_kernel_avail,
};
