// SPDX-License-Identifier: GPL-2.0
/*
 * Adoption: a finder, for the bus watcher (p2pmem/watch.c), of p2p memory
 * another driver registered with the kernel's p2pdma core and published
 * (the nvme driver does so for a CMB that supports data), on kernels with
 * CONFIG_PCI_P2PDMA (adopt=).  It finds the memory with the kernel
 * backend's helpers and registers it through the core
 * (p2pmem_register_published()), which serves it with the kernel backend.
 * Calls: kernel.c's find_range/pool helpers, the core.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#define dev_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/genalloc.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>

#include "internal.h"

static bool adopt = true;
module_param(adopt, bool, 0444);
MODULE_PARM_DESC(adopt, "Give p2p memory that other drivers published (e.g. NVMe CMBs) a p2pmemN too; kernels with CONFIG_PCI_P2PDMA only (default: on)");

/*
 * Memory another driver published.  The pagemap is found through public
 * interfaces first; only then is the core's private state looked at, and
 * only if it matches (p2pmem_kernel_pool()).
 */
static struct p2pmem_dev *p2pmem_adopt_find(struct pci_dev *pdev)
{
	struct gen_pool *pool;
	bool published;
	u64 offset, len;
	int bar;

	device_lock_assert(&pdev->dev);
	if (!p2pmem_kernel_find_range(pdev, &bar, &offset, &len))
		return NULL;
	pool = p2pmem_kernel_pool(pdev, bar, offset, len, &published);
	if (!pool || !published)
		return NULL;
	if (gen_pool_size(pool) != len) {
		pci_info(pdev, "not adopting its p2p memory: it is not one range in one BAR\n");
		return NULL;
	}
	return p2pmem_register_published(pdev, bar, len, offset,
					 pdev->dev.driver->name);
}

/* Only where the p2pdma core serves p2pmem_register() too. */
static bool p2pmem_adopt_enabled(void)
{
	return adopt && !p2pmem_core_native();
}

const struct p2pmem_finder p2pmem_adopt_finder = {
	.enabled = p2pmem_adopt_enabled,
	.find = p2pmem_adopt_find,
};
