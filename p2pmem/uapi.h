/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ioctl interface of /dev/p2pmemN, shared by the module and user space
 * (libp2pmem).  Everything else is mmap() and sysfs.
 */
#ifndef _P2PMEM_UAPI_H
#define _P2PMEM_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* How a PCI device's traffic gets to the memory. */
enum p2pmem_reach_route {
	/* 0: never answered; a zeroed struct is no verdict */
	P2PMEM_REACH_DIRECT = 1,	/* turned around by a common bridge */
	P2PMEM_REACH_HOST_BRIDGE = 2,	/* through a root complex known to route it */
	P2PMEM_REACH_UNSUPPORTED = 3,	/* through a root complex not known to */
};

/* Why the traffic goes through the root complex (first that applies). */
enum p2pmem_reach_reason {
	P2PMEM_REACH_REASON_NONE = 0,		/* it does not: direct */
	P2PMEM_REACH_NO_COMMON_BRIDGE = 1,	/* the devices share no bridge */
	P2PMEM_REACH_ACS_REDIRECT = 2,		/* a port on the way redirects it */
	P2PMEM_REACH_IOMMU_TRANSLATED = 3,	/* the client DMAs to IOVAs, which
						 * only the root complex's IOMMU
						 * translates */
	P2PMEM_REACH_KERNEL_REFUSED = 4,	/* the kernel's p2pdma core says no */
};

/*
 * The name sysfs "reach" prints for a reason ("reason=..."), the one
 * libp2pmem and the CLI print too: one table for both sides.
 */
static inline const char *p2pmem_reach_reason_name(__u32 reason)
{
	switch (reason) {
	case P2PMEM_REACH_REASON_NONE:
		return "none";
	case P2PMEM_REACH_NO_COMMON_BRIDGE:
		return "no-common-bridge";
	case P2PMEM_REACH_ACS_REDIRECT:
		return "acs-redirect";
	case P2PMEM_REACH_IOMMU_TRANSLATED:
		return "iommu-translated";
	case P2PMEM_REACH_KERNEL_REFUSED:
		return "kernel-refused";
	default:
		return "unknown";
	}
}

/* Bits in p2pmem_reach_query.info. */
#define P2PMEM_REACH_INFO_KERNEL	(1U << 0)	/* the kernel's p2pdma core decided */
#define P2PMEM_REACH_INFO_IOMMU		(1U << 1)	/* the client's DMA is translated */

/*
 * Can a PCI device reach this memory, and how: the same answer as the
 * sysfs "reach" attribute, for anyone who may open the node (the sysfs
 * file is writable by root only) and without its shared last-answer slot.
 *
 * The struct may grow at its end.  The caller sets @size to the size it
 * knows; the kernel takes a bigger one if the part it does not know is
 * zero (E2BIG otherwise), refuses a smaller one than this first version's
 * (EINVAL), and writes back min(@size, its own size) bytes, @size then
 * holding that count.  Every byte written back is part of the answer.
 */
struct p2pmem_reach_query {
	__u32 size;		/* in: sizeof the caller's struct; out: bytes filled */
	__u32 flags;		/* in: 0 (none defined) */
	char pci[32];		/* in: a PCI name, "0000:04:00.0" */
	__u32 route;		/* out: enum p2pmem_reach_route */
	__s32 distance;		/* out: PCI hops between the two; -1 if unsupported */
	__u32 reason;		/* out: enum p2pmem_reach_reason */
	__u32 info;		/* out: P2PMEM_REACH_INFO_* */
	char verdict[192];	/* out: one line, as sysfs "reach" shows it */
};

#define P2PMEM_REACH_QUERY_SIZE_VER0	248

#define P2PMEM_IOC_MAGIC	0xb7
/* The number keeps the first version's size when the struct grows. */
#define P2PMEM_IOC_REACH	_IOC(_IOC_READ | _IOC_WRITE, P2PMEM_IOC_MAGIC, 0x01, \
				     P2PMEM_REACH_QUERY_SIZE_VER0)

/*
 * How the CPU reaches the memory through the mappings of one open file
 * (P2PMEM_IOC_SET_CACHING).
 */
enum p2pmem_caching {
	/*
	 * The default: uncached (x86 UC-), every load and store its own
	 * bus access unless an MTRR says write-combining for the range.
	 */
	P2PMEM_CACHING_UNCACHED = 0,
	/*
	 * Write-combining (x86 PAT WC): stores are buffered and merged into
	 * bursts, so filling a buffer with the CPU goes many times faster.
	 * They may reach the memory late and out of order: issue a store
	 * fence (x86 sfence, _mm_sfence()) after the last store and before
	 * handing the buffer to a device (an O_DIRECT write, an RDMA send,
	 * a doorbell), or the device may read stale bytes.  Loads are not
	 * cached and stay as slow as uncached ones.  Mapped with 4 KiB pages
	 * only, never 2 MiB ones (still a whole 2 MiB per fault).  Only for
	 * a prefetchable BAR on a system with PAT (EINVAL otherwise), as the
	 * PCI core's resourceN_wc files.
	 */
	P2PMEM_CACHING_WC = 1,
};

/*
 * Choose the caching of every mmap() of this open file (a __u32, enum
 * p2pmem_caching).  Only before the file's first mmap(): EBUSY after it,
 * even once that mapping is gone (open the node again for another
 * choice); EINVAL for an unknown mode.
 */
#define P2PMEM_IOC_SET_CACHING	_IOW(P2PMEM_IOC_MAGIC, 0x02, __u32)

#endif /* _P2PMEM_UAPI_H */
