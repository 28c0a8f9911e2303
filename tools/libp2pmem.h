/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmem: find PCIe peer-to-peer memory that given devices can reach,
 * and map buffers of it for O_DIRECT or RDMA.
 *
 * Every function returns a negative errno on failure (and leaves errno
 * alone); nothing here prints.  Link with -lp2pmem (pkg-config libp2pmem).
 */
#ifndef LIBP2PMEM_H
#define LIBP2PMEM_H

#include <stddef.h>
#include <p2pmem/uapi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One /sys/class/p2pmem/p2pmemN. */
struct p2pmem_info {
	char name[32];		/* "p2pmem0"; its node is /dev/<name> */
	char pci[32];		/* the provider's PCI name, "0000:03:00.0" */
	unsigned int vendor, device;
	char provider[32];	/* "p2pmem-pci", "nvme-cmb", "nvme" */
	char backend[16];	/* "native" or "kernel" */
	unsigned long long size, available;
	int numa_node;
};

/* All p2pmem devices, by number; *list is malloc()ed.  Returns the count. */
int p2pmem_list(struct p2pmem_info **list);
/* One device by name ("p2pmem0"). */
int p2pmem_get_info(const char *name, struct p2pmem_info *info);

/*
 * The module's answer (P2PMEM_IOC_REACH): its numbers (the enums of
 * <p2pmem/uapi.h>) and its own words, as sysfs "reach" shows them.
 */
struct p2pmem_verdict {
	enum p2pmem_reach_route route;
	int distance;		/* PCI hops; -1 when unsupported */
	enum p2pmem_reach_reason reason;	/* why through a root complex */
	unsigned int info;	/* P2PMEM_REACH_INFO_* */
	char line[192];
};

/* "direct", "host-bridge", "unsupported"; the reason as the module words it. */
const char *p2pmem_route_name(enum p2pmem_reach_route route);
const char *p2pmem_reason_name(enum p2pmem_reach_reason reason);

/* Can PCI device @pci reach p2pmem @name?  Needs read access to its node. */
int p2pmem_reach(const char *name, const char *pci, struct p2pmem_verdict *v);

/* A p2pmem device every one of a set of PCI devices can reach. */
struct p2pmem_choice {
	struct p2pmem_info info;
	int host_bridge_routes;	/* how many of the devices go through a root complex */
	int distance;		/* summed over the devices */
};

/*
 * Every p2pmem device all @n devices in @pcis can reach, best first: fewest
 * routes through a root complex, then shortest, then most available.
 * *out is malloc()ed; returns the count (0: none), -ENOENT if one of
 * @pcis is not a PCI device, -EACCES if the nodes cannot be opened.
 */
int p2pmem_rank(const char *const *pcis, int n, struct p2pmem_choice **out);

/*
 * Open the best p2pmem for @pcis (O_RDWR|O_CLOEXEC); its name goes to
 * @name.  Returns the fd, or -ENODEV when none is reachable by all.
 */
int p2pmem_open_best(const char *const *pcis, int n, char *name, size_t len);

/*
 * A buffer of @len bytes (rounded up to pages) from an open p2pmem fd,
 * zeroed, shared, with struct pages: good for O_DIRECT and ibv_reg_mr().
 * Returns NULL and sets errno on failure.
 */
void *p2pmem_alloc(int fd, size_t len);
int p2pmem_free(void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* LIBP2PMEM_H */
