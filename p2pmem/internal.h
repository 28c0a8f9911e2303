/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared between the units of p2pmem.ko; not an API. */
#ifndef _P2PMEM_INTERNAL_H
#define _P2PMEM_INTERNAL_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/memremap.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#ifndef P2PMEM_VERSION
#define P2PMEM_VERSION "0.1.0"
#endif

struct gen_pool;
struct inode;
struct p2pmem_dev;
struct pci_dev;

/*
 * Where a device's pages come from.  The core owns mapping, zeroing and the
 * per-buffer references; a backend only makes the range allocatable and
 * hands out pages.  Every page a backend hands out carries exactly one
 * reference, owned by the caller; dropping the last reference to it (with
 * put_page(), by whoever holds it last) gives it back to the backend.
 */
struct p2pmem_backend {
	const char *name;		/* shown in sysfs "backend" */
	/* Make the range allocatable; undone by ->remove_memory(). */
	int (*add_memory)(struct p2pmem_dev *p2p);
	/*
	 * Called once every buffer has been revoked and, unless the pool is
	 * shared, every page is back: take the memory down, as far as this
	 * backend owns it.
	 */
	void (*remove_memory)(struct p2pmem_dev *p2p);
	/* Optional: return released pages the backend has been holding back. */
	void (*reclaim)(struct p2pmem_dev *p2p);
	/*
	 * The pool is someone else's too (adopted memory: the owning driver
	 * allocates from it), so "all of it free" never marks the end of our
	 * pins; its owner's unbind waits for them instead.
	 */
	bool shared_pool;
	/*
	 * Take @n physically contiguous pages, or nothing and return false.
	 * May scan the whole pool: the core calls it a bounded number of
	 * times per buffer (see p2pmem_take_pages()).
	 */
	bool (*take_run)(struct p2pmem_dev *p2p, unsigned long n,
			 struct page **pages);
	/*
	 * Take one page, the first free one at or after *@cursor (an index
	 * private to the backend, 0 for the pool's start), and move *@cursor
	 * past it; false when there is none there.  Taking every page of a
	 * pool this way costs one pass over it, however fragmented it is.
	 */
	bool (*take_next)(struct p2pmem_dev *p2p, unsigned long *cursor,
			  struct page **page);
	/* Drop a reference taken by ->take_run(). */
	void (*put_page)(struct p2pmem_dev *p2p, struct page *page);
	/* Bytes nobody holds, for sysfs "available". */
	size_t (*avail)(struct p2pmem_dev *p2p);
};

struct p2pmem_dev {
	struct device dev;
	struct cdev cdev;
	struct pci_dev *pdev;
	const struct p2pmem_backend *backend;
	const char *provider;
	int bar;
	u64 offset;
	u64 size;
	phys_addr_t phys;
	pci_bus_addr_t bus;

	/* native backend: our own pagemap and page pool */
	struct dev_pagemap pgmap;
	struct gen_pool *pool;
	struct xarray draining;		/* pages released but still held */
	struct llist_head freed;	/* freed by the mm, not yet back */
	struct mutex drain_lock;	/* one scan of the two above at a time */
	struct delayed_work drain_work;

	/* kernel backend: the p2pdma core's pool, once checked (kernel.c) */
	struct gen_pool *kernel_pool;

	struct inode *inode;

	struct rw_semaphore live_sem;
	bool live;

	struct mutex buf_lock;
	struct list_head bufs;

	/* sysfs "reach": the verdict for the last device asked about */
	struct mutex reach_lock;
	char reach[192];
};

/* p2pmem.c: create a device over memory a backend can hand out. */
struct p2pmem_dev *p2pmem_create(struct pci_dev *pdev, int bar, u64 size,
				 u64 offset, const char *provider,
				 const struct p2pmem_backend *backend);

/* p2pmem.c: teardown steps 1-3 (no new pages, mappings and buffers gone). */
void p2pmem_revoke(struct p2pmem_dev *p2p);

/*
 * p2pmem.c: genalloc algorithm for ->take_next(): the first free pages at
 * or after the chunk-relative page index in *(unsigned long *)@data.
 */
unsigned long p2pmem_next_fit(unsigned long *map, unsigned long size,
			      unsigned long start, unsigned int nr, void *data,
			      struct gen_pool *pool, unsigned long start_addr);

/* p2pmem.c: give a page taken from a pool its holder's reference. */
void p2pmem_page_claim(struct page *page);

/* p2pmem/kernel.c: the backend for kernels with CONFIG_PCI_P2PDMA. */
extern const struct p2pmem_backend p2pmem_kernel_backend;
extern const struct p2pmem_backend p2pmem_kernel_adopted_backend;
bool p2pmem_kernel_find_range(struct pci_dev *pdev, int *bar, u64 *offset,
			      u64 *len);
struct gen_pool *p2pmem_kernel_pool(struct pci_dev *pdev, int bar, u64 offset,
				    u64 len, bool *published);

/* p2pmem/nvme.c: an NVMe CMB as p2p memory (native backend). */
struct p2pmem_dev *p2pmem_nvme_cmb(struct pci_dev *pdev);

/* p2pmem/topology.c: sysfs "upstream", "acs_redirect", "host_bridge", "reach". */
extern const struct attribute_group p2pmem_topology_group;
long p2pmem_topology_ioctl(struct p2pmem_dev *p2p, void __user *arg);

/* p2pmem/adopt.c: p2p memory that other drivers registered and published. */
int p2pmem_adopt_init(void);
void p2pmem_adopt_exit(void);

/* p2pmem/pci.c: the module's own PCI driver provider. */
int p2pmem_pci_init(void);
bool p2pmem_pci_owns(struct pci_dev *pdev);
void p2pmem_pci_exit(void);

#endif /* _P2PMEM_INTERNAL_H */
