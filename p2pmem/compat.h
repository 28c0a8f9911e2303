/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference p2pmem cares about, and nothing else.
 * The P2PMEM_HAVE_* macros come from conftest.h, which p2pmem/conftest.sh
 * generates by compiling probes against the target kernel's headers.
 */
#ifndef _P2PMEM_COMPAT_H
#define _P2PMEM_COMPAT_H

#include <linux/device.h>
#include <linux/memremap.h>
#include <linux/mm.h>

#include "conftest.h"

static inline struct class *p2pmem_compat_class_create(const char *name)
{
#ifdef P2PMEM_HAVE_CLASS_CREATE_NAME_ONLY
	return class_create(name);
#else
	return class_create(THIS_MODULE, name);
#endif
}

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
 * The native backend makes its own MEMORY_DEVICE_PCI_P2PDMA pagemap.  With
 * CONFIG_PCI_P2PDMA the kernel container_of()s every such pagemap into its
 * private struct pci_p2pdma_pagemap (and, from 6.15, expects 0-based page
 * refcounts), so there our pagemap would be misread.  Such kernels need the
 * kernel backend (registration through pci_p2pdma_add_resource()).
 */
static inline bool p2pmem_native_backend_allowed(void)
{
	return !IS_ENABLED(CONFIG_PCI_P2PDMA);
}

#endif /* _P2PMEM_COMPAT_H */
