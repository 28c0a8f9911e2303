/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmem: in-kernel API for drivers that own PCI peer-to-peer memory.
 *
 * A driver that has a PCI memory BAR (or part of one) that other devices may
 * DMA into calls p2pmem_register().  p2pmem then creates a p2pmemN device
 * (a child of the PCI device, which its "device" link names too), gives
 * the range struct pages as ZONE_DEVICE memory, and exposes it through
 * /dev/p2pmemN and /sys/class/p2pmem.  On kernels with CONFIG_PCI_P2PDMA
 * the range goes through the kernel's p2pdma core
 * (pci_p2pdma_add_resource()); there it stays in the kernel's pool until
 * the caller's driver unbinds from the device, and the caller must not
 * have added p2p memory to it itself.
 *
 * The caller keeps ownership of the PCI device and of its BAR resource
 * (request it first if nobody else owns it); p2pmem never touches the BAR
 * registers.  p2pmem_unregister() must be called before the caller lets go
 * of the device, typically from its remove() callback (and so before the
 * device itself is deleted, as a child must be).  It revokes every
 * user mapping, then waits until every page it handed out is back: until
 * I/O in flight completes and long-term pins (RDMA MRs, io_uring fixed
 * buffers, pipes holding vmspliced pages) are dropped.  That may take as
 * long as user space keeps them; the wait is reported in dmesg every
 * pin_report_secs and does not count as a hung task.
 *
 * Then, per backend:
 *   native (no CONFIG_PCI_P2PDMA): the struct pages are removed; once
 *     p2pmem_unregister() returns nothing of p2pmem refers to the BAR;
 *   kernel (CONFIG_PCI_P2PDMA): the range stays in the kernel's p2pdma
 *     pool, with its pagemap, as devres of @pdev until the caller's driver
 *     unbinds (the kernel cannot take it back earlier).  The caller must
 *     keep the BAR region and the enabled device until then: release them
 *     through devres registered before p2pmem_register(), never in remove()
 *     itself, so they go after the pagemap (p2pmem/pci.c does so).
 * Either way, release the BAR only once DMA can no longer target it.
 */
#ifndef _P2PMEM_H
#define _P2PMEM_H

#include <linux/types.h>

struct pci_dev;
struct p2pmem_dev;

/**
 * p2pmem_register() - publish part of a PCI BAR as p2p memory
 * @pdev:     the device that owns the BAR
 * @bar:      BAR index (0..5); must be a memory BAR
 * @size:     bytes to publish, 0 for "from @offset to the end of the BAR"
 * @offset:   offset of the range inside the BAR
 * @provider: short name shown in sysfs "provider" (copied)
 *
 * @offset and @size must be multiples of the memory-hotplug subsection size
 * (2 MiB on x86-64): ZONE_DEVICE memory cannot be mapped in smaller pieces.
 *
 * Return: the new p2pmem device or an ERR_PTR(); the reason is logged.
 */
struct p2pmem_dev *p2pmem_register(struct pci_dev *pdev, int bar,
				   u64 size, u64 offset,
				   const char *provider);

/**
 * p2pmem_unregister() - revoke and remove a device made by p2pmem_register()
 * @p2p: the device; NULL or an ERR_PTR is ignored
 */
void p2pmem_unregister(struct p2pmem_dev *p2p);

#endif /* _P2PMEM_H */
