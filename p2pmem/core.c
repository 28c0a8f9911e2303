// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem core: registration of p2p memory (p2pmem_register() and the
 * providers' variants), range checks, the p2pmemN device with its sysfs
 * attributes and uevent, teardown, and the one place a backend is chosen
 * (p2pmem_pick_backend()).  Providers call in here; the core reaches the
 * backends only through struct p2pmem_backend, the char device through
 * p2pmem_fops and p2pmem_revoke_bufs() (p2pmem/file.c).
 *
 * Objects and who owns them
 * -------------------------
 * struct p2pmem_dev (one per registered BAR range; p2pmem/internal.h)
 *   - embeds the p2pmemN struct device; freed by its release() once the
 *     last reference is gone.  References: the registration (dropped by
 *     p2pmem_unregister, called by the PCI driver's remove() or, for
 *     adopted memory, when the owning driver starts to unbind), the cdev
 *     (held by every open file), and one per live buffer (p2pmem/file.c).
 *   - holds a reference on its PCI device, which is its parent in the
 *     device tree (see p2pmem_add_links()) and gets a "device" link too.
 *   - gets its pages from a backend (struct p2pmem_backend):
 *     native (p2pmem/native.c): owns the ZONE_DEVICE dev_pagemap (devm on
 *       the child, so it cannot outlive it) and the gen_pool of free BAR
 *       pages (devm too; devres releases in reverse, so the pool goes
 *       after the pagemap);
 *     kernel (p2pmem/kernel.c, CONFIG_PCI_P2PDMA): the kernel's p2pdma
 *       core owns pagemap and pool, as devres of the provider PCI device.
 *   - owns an anonymous inode whose address_space every open file uses as
 *     f_mapping: one unmap_mapping_range() then reaches every user mapping
 *     of the device, whichever device node or process made it.
 *
 * Teardown (p2pmem_unregister)
 *   1. live = false under live_sem (write): no new open, mmap or fault can
 *      hand out or map a page after this;
 *   2. zap every user PTE through the shared address_space (later faults
 *      get SIGBUS);
 *   3. revoke every buffer: drop its page references, and give back the
 *      pages it reserved but never claimed (p2pmem/file.c);
 *   4. wait until every page is back in the pool, i.e. for the pins of
 *      I/O in flight and long-term pins (p2pmem_wait_unpinned(): reported
 *      every pin_report_secs, idle, no hung-task report); not for adopted
 *      memory, whose pool the owning driver uses too: its unbind does the
 *      wait, after this;
 *   5. backend->remove_memory().  Native: devm_memunmap_pages(), which has
 *      no pgmap reference left to wait for, removes the struct pages.
 *      Kernel: nothing; the range stays in the p2pdma core until the
 *      provider's driver unbinds (see p2pmem.h);
 *   6. delete the char device and sysfs.  This must come last: on these
 *      kernels device_del() releases the child's devres, and the pagemap
 *      must not go while buffers still hold its pages.
 *   Open files and stale VMAs keep the p2pmem_dev alive but can no longer
 *   reach the memory.  The module cannot go away earlier: open files hold
 *   it through f_op->owner, and the PCI remove path waits in step 4.
 *
 * Locks
 *   live_sem (rw_semaphore, per device): read-held while handing out pages
 *     (mmap), while claiming, zeroing and inserting PTEs or a PMD
 *     (fault; at most 2 MiB each, see p2pmem/file.c) and by the native
 *     backend's background zeroing (one batch, p2pmem/native.c);
 *     write-held only to clear "live".  Nests inside mmap_lock.
 *   The core takes no lock of its own across registration: providers
 *     register and unregister from their driver's probe and remove, or,
 *     for memory another driver owns, under that device's lock (the bus
 *     watcher, p2pmem/watch.c).  Unregistration may wait for pins there,
 *     as any driver's unbind does, but never under a global lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "../p2pmem.h"
#include "compat.h"
#include "internal.h"

static struct class_compat *p2pmem_class;
static dev_t p2pmem_devt;
static DEFINE_IDA(p2pmem_ida);
static struct vfsmount *p2pmem_mnt;

static inline struct p2pmem_dev *to_p2pmem(struct device *dev)
{
	return container_of(dev, struct p2pmem_dev, dev);
}

static unsigned int pin_report_secs = 10;
module_param(pin_report_secs, uint, 0644);
MODULE_PARM_DESC(pin_report_secs, "While removal waits for pinned pages, report what is still pinned every this many seconds (default 10)");

/* ---- sysfs -------------------------------------------------------------- */

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_p2pmem(dev)->size);
}

static DEVICE_ATTR_RO(size);

static ssize_t available_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%zu\n", p2pmem_avail(to_p2pmem(dev)));
}

static DEVICE_ATTR_RO(available);

static ssize_t allocated_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct p2pmem_dev *p2p = to_p2pmem(dev);

	return sysfs_emit(buf, "%llu\n", p2p->size - p2pmem_avail(p2p));
}

static DEVICE_ATTR_RO(allocated);

/* Only where the backend zeroes free pages in the background. */
static ssize_t zero_pending_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct p2pmem_dev *p2p = to_p2pmem(dev);

	return sysfs_emit(buf, "%zu\n", p2p->backend->zero_pending(p2p));
}

static DEVICE_ATTR_RO(zero_pending);

static ssize_t bar_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", to_p2pmem(dev)->bar);
}

static DEVICE_ATTR_RO(bar);

static ssize_t offset_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "0x%llx\n", to_p2pmem(dev)->offset);
}

static DEVICE_ATTR_RO(offset);

/* "first-last" of the device's range starting at @start. */
static ssize_t p2pmem_range_emit(struct device *dev, char *buf, u64 start)
{
	return sysfs_emit(buf, "0x%llx-0x%llx\n", start,
			  start + to_p2pmem(dev)->size - 1);
}

static ssize_t phys_addr_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return p2pmem_range_emit(dev, buf, to_p2pmem(dev)->phys);
}

static DEVICE_ATTR_RO(phys_addr);

static ssize_t bus_addr_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return p2pmem_range_emit(dev, buf, to_p2pmem(dev)->bus);
}

static DEVICE_ATTR_RO(bus_addr);

static ssize_t numa_node_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%d\n", dev_to_node(dev));
}

static DEVICE_ATTR_RO(numa_node);

static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", to_p2pmem(dev)->backend->name);
}

static DEVICE_ATTR_RO(backend);

static ssize_t provider_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%s\n", to_p2pmem(dev)->provider);
}

static DEVICE_ATTR_RO(provider);

static struct attribute *p2pmem_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_available.attr,
	&dev_attr_allocated.attr,
	&dev_attr_zero_pending.attr,
	&dev_attr_bar.attr,
	&dev_attr_offset.attr,
	&dev_attr_phys_addr.attr,
	&dev_attr_bus_addr.attr,
	&dev_attr_numa_node.attr,
	&dev_attr_backend.attr,
	&dev_attr_provider.attr,
	NULL,
};

static umode_t p2pmem_attr_visible(struct kobject *kobj, struct attribute *a,
				   int n)
{
	struct p2pmem_dev *p2p = to_p2pmem(kobj_to_dev(kobj));

	if (a == &dev_attr_zero_pending.attr && !p2p->backend->zero_pending)
		return 0;
	return a->mode;
}

static const struct attribute_group p2pmem_group = {
	.attrs = p2pmem_attrs,
	.is_visible = p2pmem_attr_visible,
};

static const struct attribute_group *p2pmem_groups[] = {
	&p2pmem_group,
	&p2pmem_topology_group,
	NULL,
};

/*
 * The provider in the event itself, for udev rules written before p2pmemN
 * had a parent (ATTRS{}/SUBSYSTEMS== reach the PCI device now): the
 * "device" link is made only after the add event has gone out.
 */
static int p2pmem_uevent(p2pmem_compat_uevent_dev *dev,
			 struct kobj_uevent_env *env)
{
	const struct p2pmem_dev *p2p = container_of(dev, struct p2pmem_dev, dev);

	return add_uevent_var(env, "P2PMEM_PCI=%s", pci_name(p2p->pdev)) ?:
	       add_uevent_var(env, "P2PMEM_BACKEND=%s", p2p->backend->name) ?:
	       add_uevent_var(env, "P2PMEM_PROVIDER=%s", p2p->provider);
}

/*
 * The bus only places p2pmemN in the device tree; no driver ever binds to
 * its devices.  None registers with it (it is not exported), so adding a
 * device finds no driver to probe: no match() or probe() is needed and no
 * "driver" link appears.  Removal does not take the parent's lock
 * (need_parent_lock stays false), which matters: every caller of
 * p2pmem_del_device() holds the PCI device's lock.  p2pmemN has no power
 * state of its own, hence device_set_pm_not_required(): it stays off the
 * PM core's lists (no suspend/resume calls, no "power/" directory, no
 * complaint when it is added while its parent is suspending).
 * Module init registers it (p2pmem.c).  Not const: bus_register() writes
 * into it on 5.10 and 6.1.
 */
struct bus_type p2pmem_bus_type = {
	.name = "p2pmem",
	.uevent = p2pmem_uevent,
};

/* ---- registration ------------------------------------------------------- */

static void p2pmem_dev_release(struct device *dev)
{
	struct p2pmem_dev *p2p = to_p2pmem(dev);

	/* devres (pagemap, then pool) has already run for this device. */
	if (p2p->inode)
		iput(p2p->inode);
	ida_free(&p2pmem_ida, MINOR(dev->devt));
	pci_dev_put(p2p->pdev);
	kfree_const(p2p->provider);
	kfree(p2p);
}

/*
 * Reject ranges the DMA API or memremap_pages() would get wrong.  Most
 * come from an administrator's choice of BAR (bars=, new_id), so they are
 * logged as such: info, rate-limited.
 */
static int p2pmem_check_range(struct pci_dev *pdev, int bar, u64 *size,
			      u64 offset, const struct p2pmem_backend *backend)
{
	u64 align = PAGES_PER_SUBSECTION << PAGE_SHIFT;
	u64 len;
	phys_addr_t phys;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS) {
		p2pmem_pci_bad(pdev, "BAR %d does not exist\n", bar);
		return -EINVAL;
	}
	len = pci_resource_len(pdev, bar);
	if (!len) {
		p2pmem_pci_bad(pdev, "BAR %d is not implemented (size 0)\n",
			       bar);
		return -ENODEV;
	}
	if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM)) {
		p2pmem_pci_bad(pdev, "BAR %d is not a memory BAR\n", bar);
		return -EINVAL;
	}
	if (!*size)
		*size = offset < len ? len - offset : 0;
	if (!*size || offset >= len || *size > len - offset) {
		p2pmem_pci_bad(pdev, "range 0x%llx+0x%llx lies outside BAR %d (0x%llx bytes)\n",
			       offset, *size, bar, len);
		return -EINVAL;
	}
	phys = pci_resource_start(pdev, bar) + offset;
	if (!IS_ALIGNED(phys, align) || !IS_ALIGNED(*size, align)) {
		p2pmem_pci_bad(pdev, "BAR %d range %pa+0x%llx is not aligned to 0x%llx\n",
			       bar, &phys, *size, align);
		return -EINVAL;
	}
	/*
	 * Without the p2pdma core the DMA API hands peers CPU physical
	 * addresses; the kernel backend translates them itself.
	 */
	if (backend->bus_is_phys &&
	    pci_bus_address(pdev, bar) != pci_resource_start(pdev, bar)) {
		p2pmem_pci_bad(pdev, "BAR %d bus address differs from its CPU address; peers would get the wrong address\n",
			       bar);
		return -EINVAL;
	}
	if (region_intersects(phys, *size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		p2pmem_pci_bad(pdev, "BAR %d range %pa overlaps System RAM\n",
			       bar, &phys);
		return -EINVAL;
	}
	return 0;
}

/*
 * p2pmemN is a child of its PCI device on the p2pmem bus, not a class
 * device: a class device with a parent lives in a glue directory named
 * after its class, .../<bdf>/p2pmem/p2pmemN, and on CONFIG_PCI_P2PDMA
 * kernels .../<bdf>/p2pmem/ is the p2pdma core's own attribute group.  A
 * bus device gets no glue directory: .../<bdf>/p2pmemN, beside that group.
 * /sys/class/p2pmem/p2pmemN stays, as a class_compat link, and "device"
 * links to the provider as a class device's would (a bus device gets none).
 */
static int p2pmem_add_links(struct p2pmem_dev *p2p)
{
	return sysfs_create_link(&p2p->dev.kobj, &p2p->pdev->dev.kobj, "device") ?:
	       p2pmem_compat_class_link(p2pmem_class, &p2p->dev);
}

/*
 * Every caller runs before the PCI device's own device_del(), so the child
 * always goes before its parent: the driver's remove() (p2pmem/pci.c), or,
 * for adopted memory, the bus notifier when the owning driver starts to
 * unbind or, after a surprise removal, once it has (p2pmem/watch.c); a
 * hot-unplugged device is unbound before it is deleted.
 */
static void p2pmem_del_device(struct p2pmem_dev *p2p)
{
	/* Removing a link that was never made is a no-op (a failed create). */
	p2pmem_compat_class_unlink(p2pmem_class, &p2p->dev);
	sysfs_remove_link(&p2p->dev.kobj, "device");
	cdev_device_del(&p2p->cdev, &p2p->dev);
}

static struct p2pmem_dev *p2pmem_create(struct pci_dev *pdev, int bar,
					u64 size, u64 offset,
					const char *provider,
					const struct p2pmem_backend *backend)
{
	struct p2pmem_dev *p2p;
	int id, ret;

	ret = p2pmem_check_range(pdev, bar, &size, offset, backend);
	if (ret)
		return ERR_PTR(ret);

	p2p = kzalloc(sizeof(*p2p), GFP_KERNEL);
	if (!p2p)
		return ERR_PTR(-ENOMEM);
	id = ida_alloc_max(&p2pmem_ida, P2PMEM_MAX_DEVICES - 1, GFP_KERNEL);
	if (id < 0) {
		kfree(p2p);
		return ERR_PTR(id);
	}

	p2p->pdev = pci_dev_get(pdev);
	p2p->backend = backend;
	p2p->bar = bar;
	p2p->offset = offset;
	p2p->size = size;
	p2p->phys = pci_resource_start(pdev, bar) + offset;
	p2p->bus = pci_bus_address(pdev, bar) + offset;
	init_rwsem(&p2p->live_sem);
	mutex_init(&p2p->buf_lock);
	INIT_LIST_HEAD(&p2p->bufs);
	mutex_init(&p2p->reach_lock);

	device_initialize(&p2p->dev);
	p2p->dev.bus = &p2pmem_bus_type;
	p2p->dev.parent = &pdev->dev;
	/* No power state of its own; see p2pmem_bus_type. */
	device_set_pm_not_required(&p2p->dev);
	p2p->dev.devt = MKDEV(MAJOR(p2pmem_devt), id);
	p2p->dev.groups = p2pmem_groups;
	p2p->dev.release = p2pmem_dev_release;
	set_dev_node(&p2p->dev, dev_to_node(&pdev->dev));
	/* From here on every error path is put_device(). */
	ret = dev_set_name(&p2p->dev, "p2pmem%d", id);
	if (ret)
		goto err_put;
	p2p->provider = kstrdup_const(provider ?: "unknown", GFP_KERNEL);
	if (!p2p->provider) {
		ret = -ENOMEM;
		goto err_put;
	}
	p2p->inode = alloc_anon_inode(p2pmem_mnt->mnt_sb);
	if (IS_ERR(p2p->inode)) {
		ret = PTR_ERR(p2p->inode);
		p2p->inode = NULL;
		goto err_put;
	}
	ret = backend->add_memory(p2p);
	if (ret)
		goto err_put;

	p2p->live = true;
	cdev_init(&p2p->cdev, &p2pmem_fops);
	p2p->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&p2p->cdev, &p2p->dev);
	if (ret)
		goto err_remove;
	ret = p2pmem_add_links(p2p);
	if (ret) {
		/*
		 * /dev/p2pmemN exists: someone may have mapped it already.
		 * Only the whole teardown undoes that (revoke, wait for pins,
		 * remove the memory before device_del() releases devres).
		 */
		p2pmem_pci_err(pdev, "cannot register BAR %d: %d\n", bar, ret);
		p2pmem_unregister(p2p);
		return ERR_PTR(ret);
	}

	dev_info(&p2p->dev, "%s BAR %d: %llu MiB at %pa (%s, %s backend)\n",
		 pci_name(pdev), bar, size >> 20, &p2p->phys, p2p->provider,
		 backend->name);
	return p2p;

err_remove:
	backend->remove_memory(p2p);
err_put:
	p2pmem_pci_err(pdev, "cannot register BAR %d: %d\n", bar, ret);
	put_device(&p2p->dev);
	return ERR_PTR(ret);
}

/*
 * The one place a backend is chosen.  The native backend makes its own
 * P2PDMA pagemap, which a kernel with the p2pdma core would misread (see
 * p2pmem_native_backend_allowed()); there the kernel backend registers the
 * range with that core, or takes over what a driver published in it
 * (@published), which only happens there.
 */
static const struct p2pmem_backend *p2pmem_pick_backend(bool published)
{
	if (p2pmem_native_backend_allowed())
		return published ? NULL : &p2pmem_native_backend;
	return published ? &p2pmem_kernel_adopted_backend :
			   &p2pmem_kernel_backend;
}

/* Whether p2pmem_register() uses the native backend on this kernel. */
bool p2pmem_core_native(void)
{
	return p2pmem_pick_backend(false) == &p2pmem_native_backend;
}

struct p2pmem_dev *p2pmem_register(struct pci_dev *pdev, int bar, u64 size,
				   u64 offset, const char *provider)
{
	return p2pmem_create(pdev, bar, size, offset, provider,
			     p2pmem_pick_backend(false));
}
EXPORT_SYMBOL_GPL(p2pmem_register);

/*
 * Give memory another driver published in the kernel's p2pdma core a
 * p2pmemN (p2pmem/adopt.c); that driver keeps allocating
 * from the pool too.
 */
struct p2pmem_dev *p2pmem_register_published(struct pci_dev *pdev, int bar,
					     u64 size, u64 offset,
					     const char *provider)
{
	const struct p2pmem_backend *backend = p2pmem_pick_backend(true);

	if (!backend)
		return ERR_PTR(-ENODEV);
	return p2pmem_create(pdev, bar, size, offset, provider, backend);
}

/* Bytes handed out and not back yet. */
static size_t p2pmem_busy(struct p2pmem_dev *p2p)
{
	return p2p->size - p2pmem_avail(p2p);
}

static unsigned long p2pmem_report_period(void)
{
	return clamp(READ_ONCE(pin_report_secs), 1U, 86400U) * (unsigned long)HZ;
}

/*
 * Wait until every page handed out is back: until the pins of I/O in
 * flight, RDMA MRs, io_uring fixed buffers and pipes holding vmspliced pages
 * are dropped, which user space may never do.  So the wait says every
 * pin_report_secs how much is still pinned, and sleeps in short TASK_IDLE
 * steps: an intended wait, not a hung task, and no load average.
 */
static void p2pmem_wait_unpinned(struct p2pmem_dev *p2p)
{
	unsigned long start = jiffies, next;
	size_t busy = p2pmem_busy(p2p);

	if (!busy)
		return;
	dev_info(&p2p->dev, "waiting for %zu KiB still pinned by I/O\n",
		 busy >> 10);
	next = start + p2pmem_report_period();
	while ((busy = p2pmem_busy(p2p))) {
		if (time_after_eq(jiffies, next)) {
			dev_info(&p2p->dev, "still waiting for %zu KiB pinned by I/O (%lu s); whoever holds it (an RDMA MR, io_uring fixed buffers, a pipe) must let go\n",
				 busy >> 10, (jiffies - start) / HZ);
			next = jiffies + p2pmem_report_period();
		}
		schedule_timeout_idle(HZ / 10);
	}
	dev_info(&p2p->dev, "pinned memory released after %lu s\n",
		 (jiffies - start) / HZ);
}

/*
 * Steps 1 to 3 of the teardown (see the top): no new open, mmap or fault
 * hands out a page, every user mapping is gone, every buffer has dropped
 * its pages.  Bounded; may be called again (p2pmem_unregister() does).
 */
void p2pmem_revoke(struct p2pmem_dev *p2p)
{
	down_write(&p2p->live_sem);
	p2p->live = false;
	up_write(&p2p->live_sem);

	unmap_mapping_range(p2p->inode->i_mapping, 0, 0, 1);
	p2pmem_revoke_bufs(p2p);
}

void p2pmem_unregister(struct p2pmem_dev *p2p)
{
	if (IS_ERR_OR_NULL(p2p))
		return;

	p2pmem_revoke(p2p);
	if (!p2p->backend->shared_pool)
		p2pmem_wait_unpinned(p2p);
	p2p->backend->remove_memory(p2p);

	dev_info(&p2p->dev, "removed\n");
	p2pmem_del_device(p2p);
	put_device(&p2p->dev);
}
EXPORT_SYMBOL_GPL(p2pmem_unregister);

/*
 * Called by module init once the bus, the class links' directory, the char
 * region and the pseudo-fs exist, before any provider can register; they
 * outlive every p2pmemN.
 */
void p2pmem_core_init(struct class_compat *class, dev_t devt,
		      struct vfsmount *mnt)
{
	p2pmem_class = class;
	p2pmem_devt = devt;
	p2pmem_mnt = mnt;
}

/* Every provider has gone: no p2pmemN is left. */
void p2pmem_core_exit(void)
{
	ida_destroy(&p2pmem_ida);
}
