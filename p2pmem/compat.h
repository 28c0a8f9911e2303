/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference p2pmem cares about, and nothing else.
 * The P2PMEM_HAVE_* macros come from conftest.h, which p2pmem/conftest.sh
 * generates by compiling probes against the target kernel's headers.
 */
#ifndef _P2PMEM_COMPAT_H
#define _P2PMEM_COMPAT_H

#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/version.h>

#include "conftest.h"

#ifdef P2PMEM_HAVE_PFN_T_PMD
#include <linux/huge_mm.h>
#include <linux/pfn_t.h>
#endif

static inline void p2pmem_compat_vm_flags_set(struct vm_area_struct *vma,
					      unsigned long flags)
{
#ifdef P2PMEM_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline struct dev_pagemap *p2pmem_compat_page_pgmap(struct page *page)
{
#ifdef P2PMEM_HAVE_PAGE_PGMAP
	return page_pgmap(page);
#else
	return page->pgmap;
#endif
}

static inline struct percpu_ref *p2pmem_compat_pgmap_ref(struct dev_pagemap *pgmap)
{
#ifdef P2PMEM_HAVE_PGMAP_REF_EMBEDDED
	return &pgmap->ref;
#else
	return pgmap->ref;
#endif
}

/*
 * The core calls back when the last reference to one of our pages is
 * dropped.  P2PMEM_PGMAP_OPS(fn) builds the ops for a "void fn(struct page *)"
 * callback whatever the kernel names the hook.
 */
#ifdef P2PMEM_HAVE_PGMAP_FOLIO_FREE
#define P2PMEM_PGMAP_OPS(name, fn)					\
	static void name##_folio_free(struct folio *folio)		\
	{								\
		fn(&folio->page);					\
	}								\
	static const struct dev_pagemap_ops name = {			\
		.folio_free = name##_folio_free,			\
	}
#else
#define P2PMEM_PGMAP_OPS(name, fn)					\
	static const struct dev_pagemap_ops name = {			\
		.page_free = fn,					\
	}
#endif

/*
 * 2 MiB mappings of device pages: a devmap PMD, made by
 * vmf_insert_pfn_pmd() from a PFN_DEV|PFN_MAP pfn_t as device-dax makes
 * them (drivers/dax/device.c __dev_dax_pmd_fault()).  Such a PMD takes no
 * page reference and no rmap (insert_pfn_pmd() in mm/huge_memory.c), and
 * zapping it drops none (zap_huge_pmd(): vma_is_special_huge()), so the
 * pages must be held by someone else for as long as it exists: p2pmem's
 * buffer does.  GUP reaches the pages through get_dev_pagemap() and takes
 * its own reference on each 4 KiB page (follow_devmap_pmd(),
 * __gup_device_huge_pmd()), so the pages stay order-0 with their own
 * refcounts and no compound memmap (pgmap->vmemmap_shift) is needed.
 *
 * Only where every page-table walker knows such a PMD: from 6.5 (probe
 * PTE_OFFSET_MAP_CAN_FAIL) until pfn_t went (6.16; later kernels map PMDs
 * only of compound folios), and with the DAX and devmap support the fault
 * path needs.  Before 6.5, madvise(MADV_COLD/MADV_PAGEOUT) takes a devmap
 * PMD for a bad page table and clears it without a TLB flush (5.10 and
 * 6.1, seen in the VM), which would let a stale 2 MiB TLB entry outlive
 * the buffer.  Elsewhere p2pmem maps 4 KiB pages, a whole 2 MiB per fault
 * (p2pmem/file.c), which costs as few faults.
 */
#if defined(P2PMEM_HAVE_PFN_T_PMD) && \
	defined(P2PMEM_HAVE_PTE_OFFSET_MAP_CAN_FAIL) && \
	IS_ENABLED(CONFIG_FS_DAX_PMD) && IS_ENABLED(CONFIG_ARCH_HAS_PTE_DEVMAP)
#define P2PMEM_COMPAT_PMD 1

static inline vm_fault_t p2pmem_compat_insert_pmd(struct vm_fault *vmf,
						  struct page *page, bool write)
{
	return vmf_insert_pfn_pmd(vmf, phys_to_pfn_t(page_to_phys(page),
						     PFN_DEV | PFN_MAP), write);
}

/* 2 MiB-aligned addresses for mappings of 2 MiB or more. */
#define P2PMEM_COMPAT_GET_UNMAPPED_AREA thp_get_unmapped_area
#else
static inline vm_fault_t p2pmem_compat_insert_pmd(struct vm_fault *vmf,
						  struct page *page, bool write)
{
	return VM_FAULT_FALLBACK;
}

#define P2PMEM_COMPAT_GET_UNMAPPED_AREA NULL
#endif

/*
 * The huge_fault hook's size argument: an enum page_entry_size before 6.6,
 * an order since.
 */
#ifdef P2PMEM_HAVE_HUGE_FAULT_PE_SIZE
typedef enum page_entry_size p2pmem_compat_fault_size;
#define P2PMEM_COMPAT_FAULT_SIZE_PMD	PE_SIZE_PMD
#else
typedef unsigned int p2pmem_compat_fault_size;
#define P2PMEM_COMPAT_FAULT_SIZE_PMD	PMD_ORDER
#endif

/*
 * P2PMEM_VM_OPS(name, open, close, fault, pmd_fault) builds the VMA ops,
 * with a huge_fault hook that calls "vm_fault_t pmd_fault(struct vm_fault *)"
 * for PMD faults where the kernel can map device PMDs (none elsewhere).
 */
#ifdef P2PMEM_COMPAT_PMD
#define P2PMEM_VM_OPS_HUGE(name, pmd_fn)				\
	static vm_fault_t name##_huge_fault(struct vm_fault *vmf,	\
					    p2pmem_compat_fault_size size) \
	{								\
		return size == P2PMEM_COMPAT_FAULT_SIZE_PMD ?		\
			pmd_fn(vmf) : VM_FAULT_FALLBACK;		\
	}
#define P2PMEM_VM_OPS_HUGE_HOOK(name)	.huge_fault = name##_huge_fault,
#else
#define P2PMEM_VM_OPS_HUGE(name, pmd_fn)
#define P2PMEM_VM_OPS_HUGE_HOOK(name)
#endif

#define P2PMEM_VM_OPS(name, open_fn, close_fn, fault_fn, pmd_fn)	\
	P2PMEM_VM_OPS_HUGE(name, pmd_fn)				\
	static const struct vm_operations_struct name = {		\
		.open = open_fn,					\
		.close = close_fn,					\
		.fault = fault_fn,					\
		P2PMEM_VM_OPS_HUGE_HOOK(name)				\
	}

/*
 * Probed both ways: both or neither compiling means the probes could not
 * tell (a broken probe, a third signature): fail rather than guess.
 */
#if defined(P2PMEM_HAVE_BUS_UEVENT_CONST) == \
	defined(P2PMEM_HAVE_BUS_UEVENT_NONCONST)
#error "p2pmem: cannot tell the signature of struct bus_type's uevent(); see p2pmem/conftest.sh"
#endif
#if defined(P2PMEM_HAVE_CLASS_COMPAT_LINK_DEVICE_ARG) == \
	defined(P2PMEM_HAVE_CLASS_COMPAT_LINK_NO_DEVICE_ARG)
#error "p2pmem: cannot tell the signature of class_compat_create_link(); see p2pmem/conftest.sh"
#endif
#if defined(P2PMEM_HAVE_HUGE_FAULT_PE_SIZE) == \
	defined(P2PMEM_HAVE_HUGE_FAULT_ORDER)
#error "p2pmem: cannot tell the signature of vm_operations_struct's huge_fault(); see p2pmem/conftest.sh"
#endif
#if defined(P2PMEM_HAVE_PFN_T_HEADER) != defined(P2PMEM_HAVE_PFN_T_PMD)
#error "p2pmem: this kernel has pfn_t but devmap PMDs did not build (or the reverse); see p2pmem/conftest.sh"
#endif

/* 6.3: struct bus_type's uevent() takes a const struct device. */
#ifdef P2PMEM_HAVE_BUS_UEVENT_CONST
typedef const struct device p2pmem_compat_uevent_dev;
#else
typedef struct device p2pmem_compat_uevent_dev;
#endif

/*
 * /sys/class/<name>/<device> as a link to a bus device.  6.14 dropped the
 * optional "device" link argument; p2pmem makes that link itself, on
 * every kernel.
 */
static inline int p2pmem_compat_class_link(struct class_compat *cls,
					   struct device *dev)
{
#ifdef P2PMEM_HAVE_CLASS_COMPAT_LINK_NO_DEVICE_ARG
	return class_compat_create_link(cls, dev);
#else
	return class_compat_create_link(cls, dev, NULL);
#endif
}

static inline void p2pmem_compat_class_unlink(struct class_compat *cls,
					      struct device *dev)
{
#ifdef P2PMEM_HAVE_CLASS_COMPAT_LINK_NO_DEVICE_ARG
	class_compat_remove_link(cls, dev);
#else
	class_compat_remove_link(cls, dev, NULL);
#endif
}

/* 6.15 (roughly): get_dev_pagemap() lost its "cached pgmap" argument. */
static inline struct dev_pagemap *p2pmem_compat_get_dev_pagemap(unsigned long pfn)
{
#ifdef P2PMEM_HAVE_GET_DEV_PAGEMAP_PFN_ONLY
	return get_dev_pagemap(pfn);
#else
	return get_dev_pagemap(pfn, NULL);
#endif
}

/*
 * What the mm does when a P2PDMA page's refcount drops to 0.  This is
 * behaviour inside mm/, not an API a probe can compile against, so it is
 * pinned to the kernels whose sources we read, each recognised by two
 * independent marks, and any other kernel fails the build instead of
 * getting a guess (a wrong guess frees a page twice or never):
 *   NONE   (5.10): no callback; at 0 the mm only drops a pgmap reference,
 *          and a free page keeps a reference of the memmap's own;
 *   RESET  (6.1, 6.12): dev_pagemap_ops.page_free is called, and after it
 *          returns the mm reads page->pgmap and resets the count to 1;
 *   ZERO   (7.2): .folio_free is called and the page stays at 0; nothing
 *          touches it afterwards.
 * The 5.11-6.0 and 6.13-7.1 kernels changed these rules in steps we have
 * not read.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 10, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(5, 11, 0) && \
	!defined(P2PMEM_HAVE_ZONE_DEVICE_PAGE_INIT) && \
	!defined(P2PMEM_HAVE_PGMAP_FOLIO_FREE)
#define P2PMEM_MM_FREE_NONE 1
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0) && \
	defined(P2PMEM_HAVE_ZONE_DEVICE_PAGE_INIT) && \
	!defined(P2PMEM_HAVE_PGMAP_FOLIO_FREE)
#define P2PMEM_MM_FREE_RESET 1
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(7, 2, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(7, 3, 0) && \
	defined(P2PMEM_HAVE_PGMAP_FOLIO_FREE) && defined(P2PMEM_HAVE_PAGE_PGMAP)
#define P2PMEM_MM_FREE_ZERO 1
#else
#error "p2pmem: cannot tell how this kernel's mm frees P2PDMA pages (known: 5.10, 6.1-6.12, 7.2); see p2pmem/compat.h"
#endif

/* The mm calls dev_pagemap_ops' free callback at refcount 0. */
static inline bool p2pmem_compat_pgmap_frees_pages(void)
{
	return !IS_ENABLED(P2PMEM_MM_FREE_NONE);
}

/* ... and still touches the page after the callback returns. */
static inline bool p2pmem_compat_mm_resets_freed_page(void)
{
	return IS_ENABLED(P2PMEM_MM_FREE_RESET);
}

/*
 * Give a page reserved from a pool its holder's reference.  Nobody else
 * can hold a page that is pooled or reserved, so its count tells the
 * convention: 6.15+ parks free P2PDMA pages at 0, 6.1 to 6.12 at 1 (the
 * reference we hand over), and before 6.1 the memmap keeps 1 of its own,
 * so we add ours.
 */
static inline void p2pmem_page_claim(struct page *page)
{
	if (!page_ref_count(page))
		set_page_count(page, 1);
	else if (!p2pmem_compat_pgmap_frees_pages())
		get_page(page);
}

/*
 * The native backend makes its own MEMORY_DEVICE_PCI_P2PDMA pagemap.  With
 * CONFIG_PCI_P2PDMA the kernel container_of()s every such pagemap into its
 * private struct pci_p2pdma_pagemap (and, from 6.15, expects 0-based page
 * refcounts), so there our pagemap would be misread.  Such kernels use the
 * kernel backend (registration through pci_p2pdma_add_resource()).
 */
static inline bool p2pmem_native_backend_allowed(void)
{
	return !IS_ENABLED(CONFIG_PCI_P2PDMA);
}

/*
 * Whether the DMA API hands @pdev IOVAs that the IOMMU translates, rather
 * than physical addresses (no IOMMU, or passthrough).  An untrusted device
 * (external-facing port, Thunderbolt) is translated even under
 * passthrough.  The domain attached
 * to the device is not looked at: nothing exported pins it, and VFIO frees
 * the one it attaches when it lets go, so reading its type could read freed
 * memory.  What decides for a kernel driver's DMA is the group's default
 * domain, which is translating unless passthrough is the default; a group
 * set to identity through sysfs is reported as translated, the cautious
 * side (a longer route than the real one, never a direct one that is not).
 */
static inline bool p2pmem_compat_dma_translated(struct pci_dev *pdev)
{
	return device_iommu_mapped(&pdev->dev) &&
	       (!iommu_default_passthrough() || pdev->untrusted);
}

/*
 * The p2pdma core keeps a device's page pool in its private struct
 * pci_p2pdma, and exports no way to read how much of it is free or whether
 * it is published (pci_has_p2pmem() went static in 6.16).  The first two
 * members have been { struct gen_pool *pool; bool p2pmem_published; } since
 * 5.10 (read from the 5.10, 6.1, 6.12 and 7.2 sources): this
 * mirror reads only those.  This is p2pmem's one assumption about a private
 * kernel layout; p2pmem/kernel.c cross-checks the pool against the pagemap
 * before trusting it.
 */
struct p2pmem_compat_p2pdma_head {
	struct gen_pool *pool;
	bool p2pmem_published;
};

/*
 * A layout no probe can check: pinned to the P2PDMA kernels read, as the
 * mm's page-free rules are, so that a changed struct fails the build
 * instead of handing kernel.c's cross-check a wild pointer to follow.
 */
#if IS_ENABLED(CONFIG_PCI_P2PDMA) && \
	!(LINUX_VERSION_CODE >= KERNEL_VERSION(5, 10, 0) && \
	  LINUX_VERSION_CODE < KERNEL_VERSION(7, 3, 0))
#error "p2pmem: struct pci_p2pdma is known for 5.10 to 7.2 only; see p2pmem/compat.h"
#endif

/* Call under rcu_read_lock(); NULL when @pdev has no p2pdma state. */
static inline struct p2pmem_compat_p2pdma_head *
p2pmem_compat_p2pdma_head(struct pci_dev *pdev)
{
#ifdef CONFIG_PCI_P2PDMA
	return (struct p2pmem_compat_p2pdma_head *)rcu_dereference(pdev->p2pdma);
#else
	return NULL;
#endif
}

#endif /* _P2PMEM_COMPAT_H */
