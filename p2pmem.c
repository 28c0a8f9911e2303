// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem: PCIe peer-to-peer memory for user space.  This unit is module
 * init and exit only.
 *
 * The units of p2pmem.ko, each calling only the ones below it ("->"):
 *
 *   p2pmem.c            module init/exit: the p2pmem bus and the
 *                       /sys/class/p2pmem links, the char region and the
 *                       pseudo-fs, then core, PCI driver and bus watcher
 *                       in that order, and file's debugfs test aid;
 *                       torn down in reverse
 *                       -> core, pci, watch, file
 *   p2pmem/watch.c      the bus watcher: a PCI bus notifier and retry work
 *                       that ask the finders what p2p memory a device has
 *                       -> nvme, adopt (their finders), core
 *   p2pmem/pci.c        the "p2pmem" PCI driver, a provider -> core
 *   p2pmem/nvme.c       NVMe CMB finder, a provider -> core
 *   p2pmem/adopt.c      finder of memory other drivers published in the
 *                       kernel's p2pdma core, a provider -> kernel's
 *                       find_range/pool helpers, core
 *   p2pmem/core.c       registration, range checks, sysfs, uevent, the one
 *                       place a backend is chosen -> file, topology, and the
 *                       backends through struct p2pmem_backend only
 *   p2pmem/file.c       /dev/p2pmemN: buffers, zeroing, mmap, faults, ioctl,
 *                       per-file caching; debugfs p2pmem/pte_cache
 *                       -> topology, and the backend's ops
 *   p2pmem/native.c     the native backend: own pagemap and pool
 *   p2pmem/kernel.c     the kernel backend (CONFIG_PCI_P2PDMA): pages from
 *                       the kernel's p2pdma core
 *   p2pmem/topology.c   sysfs "upstream", "reach"... and the reach ioctl
 *
 * Providers (pci, nvme, adopt) call the core and nothing above
 * it; the core knows no provider.  Each unit documents the objects and
 * locks it owns: struct p2pmem_dev, its teardown and live_sem in core.c;
 * buffers, buf_lock, the buffer's lock and file_lock in file.c; the
 * native pool and its drain in native.c; the device lock and the
 * watcher's lists in watch.c.
 * Kernel-version differences live in p2pmem/compat.h only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kdev_t.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "p2pmem/compat.h"
#include "p2pmem/internal.h"

#define P2PMEM_FS_MAGIC		0x70327070	/* "p2pp" */

static struct class_compat *p2pmem_class;
static dev_t p2pmem_devt;
static struct vfsmount *p2pmem_mnt;

static int p2pmem_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, P2PMEM_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type p2pmem_fs_type = {
	.name = "p2pmem",
	.init_fs_context = p2pmem_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static int __init p2pmem_init(void)
{
	int ret;

	ret = p2pmem_native_init();
	if (ret)
		return ret;
	p2pmem_mnt = kern_mount(&p2pmem_fs_type);
	if (IS_ERR(p2pmem_mnt)) {
		ret = PTR_ERR(p2pmem_mnt);
		goto err_native;
	}

	ret = alloc_chrdev_region(&p2pmem_devt, 0, P2PMEM_MAX_DEVICES, "p2pmem");
	if (ret)
		goto err_mnt;

	ret = bus_register(&p2pmem_bus_type);
	if (ret)
		goto err_chrdev;
	p2pmem_class = class_compat_register("p2pmem");
	if (!p2pmem_class) {
		ret = -ENOMEM;
		goto err_bus;
	}

	p2pmem_core_init(p2pmem_class, p2pmem_devt, p2pmem_mnt);
	ret = p2pmem_pci_init();
	if (ret)
		goto err_core;
	ret = p2pmem_watch_init();
	if (ret)
		goto err_pci;
	p2pmem_debugfs_init();
	return 0;

err_pci:
	p2pmem_pci_exit();
err_core:
	p2pmem_core_exit();
	class_compat_unregister(p2pmem_class);
err_bus:
	bus_unregister(&p2pmem_bus_type);
err_chrdev:
	unregister_chrdev_region(p2pmem_devt, P2PMEM_MAX_DEVICES);
err_mnt:
	kern_unmount(p2pmem_mnt);
err_native:
	p2pmem_native_exit();
	return ret;
}

static void __exit p2pmem_exit(void)
{
	p2pmem_debugfs_exit();
	p2pmem_watch_exit();
	p2pmem_pci_exit();
	p2pmem_core_exit();
	class_compat_unregister(p2pmem_class);
	bus_unregister(&p2pmem_bus_type);
	unregister_chrdev_region(p2pmem_devt, P2PMEM_MAX_DEVICES);
	kern_unmount(p2pmem_mnt);
	p2pmem_native_exit();
}

module_init(p2pmem_init);
module_exit(p2pmem_exit);

MODULE_DESCRIPTION("PCIe peer-to-peer memory for user space");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMEM_VERSION);
