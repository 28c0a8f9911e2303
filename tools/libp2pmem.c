// SPDX-License-Identifier: LGPL-2.1-or-later
/* libp2pmem: see libp2pmem.h.  All knowledge comes from sysfs and the node. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libp2pmem.h"
#include "sysfs.h"

static int read_attr(const char *name, const char *attr, char *buf, size_t len)
{
	return sysfs_read(buf, len, SYSFS_P2PMEM_CLASS "/%s/%s", name, attr);
}

static int read_ull(const char *name, const char *attr, unsigned long long *v)
{
	return sysfs_read_ull(v, SYSFS_P2PMEM_CLASS "/%s/%s", name, attr);
}

int p2pmem_get_info(const char *name, struct p2pmem_info *info)
{
	char path[PATH_MAX], link[PATH_MAX], buf[64];
	const char *base;
	ssize_t n;
	int ret;

	memset(info, 0, sizeof(*info));
	if (!name || !*name || strchr(name, '/') ||
	    strlen(name) >= sizeof(info->name))
		return -EINVAL;
	snprintf(info->name, sizeof(info->name), "%s", name);
	snprintf(path, sizeof(path), SYSFS_P2PMEM_CLASS "/%s/device", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(info->pci, sizeof(info->pci), "%.31s", base ? base + 1 : link);
	ret = read_attr(name, "device/vendor", buf, sizeof(buf));
	if (ret)
		return ret;
	info->vendor = (unsigned int)strtoul(buf, NULL, 16);
	ret = read_attr(name, "device/device", buf, sizeof(buf));
	if (ret)
		return ret;
	info->device = (unsigned int)strtoul(buf, NULL, 16);
	ret = read_attr(name, "provider", info->provider, sizeof(info->provider)) ?:
	      read_attr(name, "backend", info->backend, sizeof(info->backend)) ?:
	      read_ull(name, "size", &info->size) ?:
	      read_ull(name, "available", &info->available) ?:
	      read_attr(name, "numa_node", buf, sizeof(buf));
	if (ret)
		return ret;
	info->numa_node = atoi(buf);
	return 0;
}

static int by_number(const void *a, const void *b)
{
	const struct p2pmem_info *x = a, *y = b;

	return atoi(x->name + 6) - atoi(y->name + 6);
}

int p2pmem_list(struct p2pmem_info **list)
{
	struct p2pmem_info *out = NULL, *grown;
	struct dirent *d;
	int n = 0, ret = 0;
	DIR *dir;

	*list = NULL;
	dir = opendir(SYSFS_P2PMEM_CLASS);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;	/* module not loaded */
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "p2pmem", 6))
			continue;
		grown = realloc(out, (n + 1) * sizeof(*out));
		if (!grown) {
			ret = -ENOMEM;
			break;
		}
		out = grown;
		/* A device that went away while we looked is simply skipped. */
		if (!p2pmem_get_info(d->d_name, &out[n]))
			n++;
	}
	closedir(dir);
	if (ret) {
		free(out);
		return ret;
	}
	qsort(out, n, sizeof(*out), by_number);
	*list = out;
	return n;
}

static int open_node(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (!name || !*name || strchr(name, '/'))
		return -EINVAL;
	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int p2pmem_reach(const char *name, const char *pci, struct p2pmem_verdict *v)
{
	struct p2pmem_reach_query q;
	const char *nl;
	int fd, ret = 0;
	size_t n;

	memset(v, 0, sizeof(*v));
	if (!pci || strlen(pci) >= sizeof(q.pci))
		return -EINVAL;
	fd = open_node(name);
	if (fd < 0)
		return fd;
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	memcpy(q.pci, pci, strlen(pci));
	if (ioctl(fd, P2PMEM_IOC_REACH, &q))
		ret = -errno;
	close(fd);
	if (ret)
		return ret;
	/* A route this library does not know yet is none it can use. */
	switch (q.route) {
	case P2PMEM_REACH_DIRECT:
	case P2PMEM_REACH_HOST_BRIDGE:
		v->route = q.route;
		v->distance = q.distance;
		break;
	default:
		v->route = P2PMEM_REACH_UNSUPPORTED;
		v->distance = -1;
		break;
	}
	v->reason = q.reason;
	v->info = q.info;
	/*
	 * Its first line, within the field: a kernel answer may fill
	 * verdict[] to its end without a NUL.
	 */
	n = strnlen(q.verdict, sizeof(q.verdict));
	nl = memchr(q.verdict, '\n', n);
	snprintf(v->line, sizeof(v->line), "%.*s", (int)(nl ? (size_t)(nl - q.verdict) : n),
		 q.verdict);
	return 0;
}

const char *p2pmem_route_name(enum p2pmem_reach_route route)
{
	switch (route) {
	case P2PMEM_REACH_DIRECT:
		return "direct";
	case P2PMEM_REACH_HOST_BRIDGE:
		return "host-bridge";
	default:
		return "unsupported";
	}
}

const char *p2pmem_reason_name(enum p2pmem_reach_reason reason)
{
	return p2pmem_reach_reason_name(reason);
}

static int better_first(const void *a, const void *b)
{
	const struct p2pmem_choice *x = a, *y = b;

	if (x->host_bridge_routes != y->host_bridge_routes)
		return x->host_bridge_routes - y->host_bridge_routes;
	if (x->distance != y->distance)
		return x->distance - y->distance;
	if (x->info.available != y->info.available)
		return x->info.available > y->info.available ? -1 : 1;
	return by_number(&x->info, &y->info);
}

int p2pmem_rank(const char *const *pcis, int n, struct p2pmem_choice **out)
{
	struct p2pmem_info *all;
	struct p2pmem_choice *c;
	struct p2pmem_verdict v;
	int count, i, j, k = 0, ret;

	*out = NULL;
	if (n < 1 || !pcis)
		return -EINVAL;
	for (j = 0; j < n; j++)
		if (!pcis[j] || !*pcis[j] || strchr(pcis[j], '/'))
			return -EINVAL;
	for (j = 0; j < n; j++)
		if (!pci_exists(pcis[j]))
			return -ENOENT;
	count = p2pmem_list(&all);
	if (count < 0)
		return count;
	c = calloc(count ? count : 1, sizeof(*c));
	if (!c) {
		free(all);
		return -ENOMEM;
	}
	for (i = 0; i < count; i++) {
		c[k].info = all[i];
		for (j = 0; j < n; j++) {
			/* A p2pmem that went away meanwhile is no candidate. */
			ret = p2pmem_reach(all[i].name, pcis[j], &v);
			if (ret == -EACCES || ret == -EPERM) {
				free(all);
				free(c);
				return ret;
			}
			if (ret || v.route == P2PMEM_REACH_UNSUPPORTED)
				break;
			c[k].host_bridge_routes += v.route == P2PMEM_REACH_HOST_BRIDGE;
			c[k].distance += v.distance;
		}
		if (j == n)
			k++;
		else
			memset(&c[k], 0, sizeof(c[k]));
	}
	free(all);
	qsort(c, k, sizeof(*c), better_first);
	*out = c;
	return k;
}

int p2pmem_open_best(const char *const *pcis, int n, char *name, size_t len)
{
	struct p2pmem_choice *c;
	int count, fd = -ENODEV, i;

	count = p2pmem_rank(pcis, n, &c);
	if (count < 0)
		return count;
	for (i = 0; i < count && fd < 0; i++) {
		fd = open_node(c[i].info.name);
		if (fd >= 0 && name && len)
			snprintf(name, len, "%s", c[i].info.name);
	}
	free(c);
	return fd;
}

void *p2pmem_alloc(int fd, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (!len) {
		errno = EINVAL;
		return NULL;
	}
	len = (len + page - 1) & ~(size_t)(page - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

int p2pmem_free(void *buf, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);

	len = (len + page - 1) & ~(size_t)(page - 1);
	return munmap(buf, len) ? -errno : 0;
}
