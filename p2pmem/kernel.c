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
 *   - taking it gives it a refcount of 1 (set on 0-based kernels, see
 *     p2pmem_page_claim()) and one pgmap reference;
 *   - when its last reference goes, the core calls the p2pdma core's own
 *     free callback, which returns it to the pool and drops that pgmap
 *     reference.
 *
 * Teardown is the provider's: the p2pdma pagemap is devres of the provider
 * PCI device, and its release waits for every page's pgmap reference, i.e.
 * for I/O that still pins pages this module handed out.
 */
#include <linux/genalloc.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>

#include "compat.h"
#include "internal.h"

/*
 * Whether @pdev has a p2pdma page pool (whoever added it), and if so its
 * size and whether its owner published it for other drivers.  The pool is
 * read through the compat mirror; see compat.h.
 */
bool p2pmem_kernel_pool(struct pci_dev *pdev, size_t *size, bool *published)
{
	struct p2pmem_compat_p2pdma_head *head;
	bool ret;

	rcu_read_lock();
	head = p2pmem_compat_p2pdma_head(pdev);
	ret = head && head->pool;
	if (ret) {
		*size = gen_pool_size(head->pool);
		*published = head->p2pmem_published;
	}
	rcu_read_unlock();
	return ret;
}

static bool p2pmem_kernel_has_memory(struct pci_dev *pdev)
{
	size_t size;
	bool published;

	return p2pmem_kernel_pool(pdev, &size, &published);
}

static int p2pmem_kernel_add_memory(struct p2pmem_dev *p2p)
{
	int ret;

	if (p2pmem_kernel_has_memory(p2p->pdev)) {
		pci_err(p2p->pdev, "p2pmem: the device already has p2p memory in the kernel's p2pdma core\n");
		return -EBUSY;
	}
	ret = pci_p2pdma_add_resource(p2p->pdev, p2p->bar, p2p->size,
				      p2p->offset);
	if (ret)
		pci_err(p2p->pdev, "p2pmem: the kernel's p2pdma core refused BAR %d: %d\n",
			p2p->bar, ret);
	return ret;
}

/* Adopted memory is already in the kernel: only check it is still there. */
static int p2pmem_kernel_adopt_memory(struct p2pmem_dev *p2p)
{
	return p2pmem_kernel_has_memory(p2p->pdev) ? 0 : -ENODEV;
}

/* The pagemap and pool stay with the provider device; see the top. */
static void p2pmem_kernel_remove_memory(struct p2pmem_dev *p2p)
{
}

static bool p2pmem_kernel_take_run(struct p2pmem_dev *p2p, unsigned long n,
				   struct page **pages)
{
	struct percpu_ref *ref;
	unsigned long i;
	void *addr;

	/* Holds one pgmap reference for the whole run until the loop ends. */
	addr = pci_alloc_p2pmem(p2p->pdev, n << PAGE_SHIFT);
	if (!addr)
		return false;
	ref = p2pmem_compat_pgmap_ref(p2pmem_compat_page_pgmap(virt_to_page(addr)));
	for (i = 0; i < n; i++) {
		pages[i] = virt_to_page(addr + (i << PAGE_SHIFT));
		p2pmem_page_claim(pages[i]);
		percpu_ref_get(ref);
	}
	percpu_ref_put(ref);
	return true;
}

/*
 * The p2pdma core exports no way to allocate at a position, so every page
 * costs the kernel's own first-fit search from the start of its pool (as
 * every allocation through its "allocate" file does); the cursor is unused.
 * p2pmem bounds the searches it makes that fail or take long runs.
 */
static bool p2pmem_kernel_take_next(struct p2pmem_dev *p2p,
				    unsigned long *cursor, struct page **page)
{
	return p2pmem_kernel_take_run(p2p, 1, page);
}

/* The kernel's free callback returns the page once its count drops to 0. */
static void p2pmem_kernel_put_page(struct p2pmem_dev *p2p, struct page *page)
{
	put_page(page);
}

static size_t p2pmem_kernel_avail(struct p2pmem_dev *p2p)
{
	struct p2pmem_compat_p2pdma_head *head;
	size_t avail = 0;

	rcu_read_lock();
	head = p2pmem_compat_p2pdma_head(p2p->pdev);
	if (head && head->pool)
		avail = gen_pool_avail(head->pool);
	rcu_read_unlock();
	return avail;
}

const struct p2pmem_backend p2pmem_kernel_backend = {
	.name = "kernel",
	.add_memory = p2pmem_kernel_add_memory,
	.remove_memory = p2pmem_kernel_remove_memory,
	.take_run = p2pmem_kernel_take_run,
	.take_next = p2pmem_kernel_take_next,
	.put_page = p2pmem_kernel_put_page,
	.avail = p2pmem_kernel_avail,
};

/* Memory that another driver added and published, e.g. an NVMe CMB. */
const struct p2pmem_backend p2pmem_kernel_adopted_backend = {
	.name = "kernel",
	.add_memory = p2pmem_kernel_adopt_memory,
	.remove_memory = p2pmem_kernel_remove_memory,
	.take_run = p2pmem_kernel_take_run,
	.take_next = p2pmem_kernel_take_next,
	.put_page = p2pmem_kernel_put_page,
	.avail = p2pmem_kernel_avail,
};
