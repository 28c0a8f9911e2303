/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ioctl interface of /dev/p2pmemN, shared by the module and user space
 * (libp2pmem).  Everything else is mmap() and sysfs.
 */
#ifndef _P2PMEM_UAPI_H
#define _P2PMEM_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Can a PCI device reach this memory, and how: the same answer as the
 * sysfs "reach" attribute, for anyone who may open the node (the sysfs
 * file is writable by root only) and without its shared last-answer slot.
 */
struct p2pmem_reach_query {
	char pci[32];		/* in: a PCI name, "0000:04:00.0" */
	char verdict[192];	/* out: one line, as sysfs "reach" shows it */
};

#define P2PMEM_IOC_MAGIC	0xb7
#define P2PMEM_IOC_REACH	_IOWR(P2PMEM_IOC_MAGIC, 0x01, struct p2pmem_reach_query)

#endif /* _P2PMEM_UAPI_H */
