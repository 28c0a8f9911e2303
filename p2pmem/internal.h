/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared between the units of p2pmem.ko; not an API. */
#ifndef _P2PMEM_INTERNAL_H
#define _P2PMEM_INTERNAL_H

#include <linux/bitmap.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/kdev_t.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/memremap.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/* From dkms.conf's PACKAGE_VERSION, through Kbuild: the one version. */
#ifndef P2PMEM_VERSION
#error "P2PMEM_VERSION is not set: build through Kbuild, which reads it from dkms.conf"
#endif

/* Pages under one PMD: a 2 MiB mapping on x86-64. */
#define P2PMEM_PMD_PAGES	(PMD_SIZE >> PAGE_SHIFT)

/* Minors of the char region (module init) and p2pmemN ids (core). */
#define P2PMEM_MAX_DEVICES	(1U << MINORBITS)

/*
 * dev_printk() does not use pr_fmt.  Units whose device messages are all
 * about a PCI device (possibly another driver's) define dev_fmt as they
 * define pr_fmt, so that "nvme 0000:01:00.0: p2pmem: ..." says whose
 * message it is.  The core, whose other messages come from the p2pmemN
 * itself ("p2pmem p2pmem0: ..."), names the module in its few messages
 * about the PCI device with these.
 */
#define p2pmem_pci_err(pdev, fmt, ...) \
	pci_err(pdev, KBUILD_MODNAME ": " fmt, ##__VA_ARGS__)
/* A mistake in what a user asked of @pdev: info, rate-limited. */
#define p2pmem_pci_bad(pdev, fmt, ...) \
	pci_info_ratelimited(pdev, KBUILD_MODNAME ": " fmt, ##__VA_ARGS__)

struct class_compat;
struct file_operations;
struct gen_pool;
struct inode;
struct p2pmem_dev;
struct vfsmount;

/*
 * Where a device's pages come from.  The core owns mapping, zeroing and the
 * per-buffer references; a backend only makes the range allocatable and
 * hands out pages, in two steps:
 *   - reserved: ->take_run(), ->take_pmd() and ->take_next() take pages out
 *     of the pool (they no longer count in "available") and give each one
 *     pgmap reference, but leave the page itself alone, which costs the
 *     same for one page or 512 (mmap() reserves a whole buffer).  A
 *     reserved page goes back with ->give_back();
 *   - claimed: before it first maps a page, the core gives it the one page
 *     reference it owns (p2pmem_page_claim(), p2pmem/compat.h), and asks
 *     ->take_zeroed() whether it holds zeros.  Dropping the last reference
 *     to a claimed page (with put_page(), by whoever holds it last) gives
 *     it back to the backend.
 * Pages are named by pfn: every backend's pages have a memmap.
 */
struct p2pmem_backend {
	const char *name;		/* shown in sysfs "backend" */
	/*
	 * Peers are handed CPU physical addresses (no p2pdma core translates
	 * them): the BAR's bus address must be its CPU address.
	 */
	bool bus_is_phys;
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
	 * Reserve @n physically contiguous pages, the first at *@pfn, or
	 * nothing and return false.  May scan the whole pool: the core calls
	 * it a bounded number of times per buffer (see p2pmem_take_pages()).
	 */
	bool (*take_run)(struct p2pmem_dev *p2p, unsigned long n,
			 unsigned long *pfn);
	/*
	 * Optional, for backends that can give physically contiguous 2 MiB
	 * (mapped by one PMD where the kernel allows, and fewer DMA
	 * segments everywhere): reserve the P2PMEM_PMD_PAGES pages of the
	 * first free PMD_SIZE-aligned physical run at or after *@cursor (as
	 * for ->take_next()), the first at *@pfn, and move *@cursor past it;
	 * false when there is none there.  One sweep of the pool however
	 * many runs are taken.
	 */
	bool (*take_pmd)(struct p2pmem_dev *p2p, unsigned long *cursor,
			 unsigned long *pfn);
	/*
	 * Reserve one page, the first free one at or after *@cursor (an index
	 * private to the backend, 0 for the pool's start), and move *@cursor
	 * past it; false when there is none there.  Taking every page of a
	 * pool this way costs one pass over it, however fragmented it is.
	 */
	bool (*take_next)(struct p2pmem_dev *p2p, unsigned long *cursor,
			  unsigned long *pfn);
	/* Return @n reserved pages from @pfn on, never claimed. */
	void (*give_back)(struct p2pmem_dev *p2p, unsigned long pfn,
			  unsigned long n);
	/*
	 * Optional: the backend zeroes free and reserved pages itself.  The
	 * @n pages from @pfn on, just claimed, are about to be mapped: from
	 * now on they are the caller's.  For each of them known to hold
	 * zeros, set its bit in @zeroed (bit @bit for the first); the caller
	 * zeroes the others before mapping them.
	 */
	void (*take_zeroed)(struct p2pmem_dev *p2p, unsigned long pfn,
			    unsigned long n, unsigned long *zeroed,
			    unsigned long bit);
	/* Drop the reference the core gave a claimed page. */
	void (*put_page)(struct p2pmem_dev *p2p, struct page *page);
	/* Bytes nobody holds, for sysfs "available". */
	size_t (*avail)(struct p2pmem_dev *p2p);
	/*
	 * Optional, with ->take_zeroed(): bytes not mapped yet (free, or
	 * reserved and never claimed) still to be zeroed in the background,
	 * for sysfs "zero_pending".
	 */
	size_t (*zero_pending)(struct p2pmem_dev *p2p);
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
	/* unmapped pages not known to hold zeros, one bit a page (native.c) */
	unsigned long *dirty;
	struct mutex clean_lock;	/* zeroing them vs. handing them out */
	struct delayed_work zero_work;
	unsigned long last_take;	/* jiffies: the zeroing makes way */
	bool zero_stop;

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

/*
 * Bytes nobody holds.  Pages the mm has freed but a backend holds back
 * (p2pmem_page_free()) are taken back first, so that memory munmap() let
 * go of counts as soon as munmap() returns, both in sysfs and for
 * p2pmem_take_pages(), which asks this before it takes anything.
 */
static inline size_t p2pmem_avail(struct p2pmem_dev *p2p)
{
	if (p2p->backend->reclaim)
		p2p->backend->reclaim(p2p);
	return p2p->backend->avail(p2p);
}

/*
 * genalloc algorithm for the backends' ->take_next(): the first @nr free
 * pages at or after the cursor (a chunk-relative page index) in @data.
 * The cursor only moves forward, so a sweep of the pool reads each bitmap
 * word about once.
 */
static inline unsigned long p2pmem_next_fit(unsigned long *map,
					    unsigned long size,
					    unsigned long start,
					    unsigned int nr, void *data,
					    struct gen_pool *pool,
					    unsigned long start_addr)
{
	unsigned long *cursor = data;

	return bitmap_find_next_zero_area(map, size, max(start, *cursor), nr, 0);
}

/* p2pmem/core.c, called by module init and exit around everything else. */
void p2pmem_core_init(struct class_compat *class, dev_t devt,
		      struct vfsmount *mnt);
void p2pmem_core_exit(void);

/*
 * p2pmem/core.c: the bus p2pmemN devices sit on (children of their PCI
 * device); module init registers it before p2pmem_core_init().
 */
extern struct bus_type p2pmem_bus_type;

/* p2pmem/core.c: whether p2pmem_register() uses the native backend. */
bool p2pmem_core_native(void);

/* p2pmem/core.c: adopt memory a driver published in the p2pdma core. */
struct p2pmem_dev *p2pmem_register_published(struct pci_dev *pdev, int bar,
					     u64 size, u64 offset,
					     const char *provider);

/* p2pmem/core.c: teardown steps 1-3 (no new pages, mappings and buffers gone). */
void p2pmem_revoke(struct p2pmem_dev *p2p);

/* p2pmem/file.c: the char device, and teardown step 3 for the core. */
extern const struct file_operations p2pmem_fops;
void p2pmem_revoke_bufs(struct p2pmem_dev *p2p);
/* p2pmem/file.c: debugfs p2pmem/pte_cache, a test aid (x86 only). */
void p2pmem_debugfs_init(void);
void p2pmem_debugfs_exit(void);
/*
 * p2pmem/file.c: zero a page of a BAR, and make zeros so far land (false:
 * they did not).  Zeroing goes P2PMEM_ZERO_BATCH pages between flushes.
 */
#define P2PMEM_ZERO_BATCH	16
void p2pmem_zero_page(struct page *page);
bool p2pmem_zero_flush(struct page *page);

/* p2pmem/native.c: the backend for kernels without CONFIG_PCI_P2PDMA. */
extern const struct p2pmem_backend p2pmem_native_backend;
/* Module init and exit: its background zeroing's workqueue. */
int p2pmem_native_init(void);
void p2pmem_native_exit(void);

/* p2pmem/kernel.c: the backends for kernels with CONFIG_PCI_P2PDMA. */
extern const struct p2pmem_backend p2pmem_kernel_backend;
extern const struct p2pmem_backend p2pmem_kernel_adopted_backend;

/*
 * Finders (p2pmem/nvme.c, p2pmem/adopt.c) answer the bus watcher: what
 * p2p memory a device bound to some other driver has.  ->find() registers
 * it through the core and returns the p2pmemN, NULL when there is none,
 * or an ERR_PTR(); -EAGAIN asks to be asked again later.  Called with the
 * device lock held.
 */
struct p2pmem_finder {
	bool (*enabled)(void);
	struct p2pmem_dev *(*find)(struct pci_dev *pdev);
};
extern const struct p2pmem_finder p2pmem_nvme_finder;
extern const struct p2pmem_finder p2pmem_adopt_finder;

/*
 * p2pmem/kernel.c, for p2pmem/adopt.c: where the p2pdma pagemap in @pdev's
 * BARs lies, and the p2pdma core's pool for it once checked against it.
 */
bool p2pmem_kernel_find_range(struct pci_dev *pdev, int *bar, u64 *offset,
			       u64 *len);
struct gen_pool *p2pmem_kernel_pool(struct pci_dev *pdev, int bar,
				    u64 offset, u64 len, bool *published);

/* p2pmem/topology.c: sysfs "upstream", "acs_redirect", "host_bridge", "reach". */
extern const struct attribute_group p2pmem_topology_group;
long p2pmem_topology_ioctl(struct p2pmem_dev *p2p, void __user *arg);

/* p2pmem/watch.c: the bus watcher. */
int p2pmem_watch_init(void);
void p2pmem_watch_exit(void);

/* p2pmem/pci.c: the module's own PCI driver. */
int p2pmem_pci_init(void);
void p2pmem_pci_exit(void);

#endif /* _P2PMEM_INTERNAL_H */
