// SPDX-License-Identifier: GPL-2.0
/*
 * Where a p2pmemN sits in the PCIe tree, and whether a given PCI device can
 * reach it: the sysfs attributes "upstream", "acs_redirect", "host_bridge"
 * and "reach".
 *
 * The verdict follows the rule of the kernel's p2pdma core (as of 5.10 to
 * 6.12, the kernels that lack it in Debian's builds):
 *   - find the closest bridge both devices sit under; the distance is the
 *     number of hops from each device up to it;
 *   - a port on either path that redirects peer requests upstream (ACS
 *     P2P Request Redirect, Completion Redirect or Egress Control) sends the
 *     traffic through the root complex instead, as does having no common
 *     bridge at all;
 *   - traffic through the root complex is allowed only where the kernel
 *     knows the root complex forwards it: AMD Zen and later CPUs, and a list
 *     of Intel root complexes (some only when both devices sit under the
 *     same one).
 * On kernels with CONFIG_PCI_P2PDMA the kernel's own answer,
 * pci_p2pdma_distance_many(), decides whether the pair works and how far
 * apart it is; our walk only names the route and the reason.  Elsewhere
 * (the native backend) a client whose IOMMU domain translates is handed
 * IOVAs, which only the root complex can turn around: its traffic goes
 * through the host bridge even under a common switch.
 *
 * Nothing here is cached: the tree is walked on every read or query, while
 * the reference on the provider (held by the p2pmemN) keeps every bridge
 * above it alive, and the client is held for the length of a query.
 *
 * reach_lock (mutex, per device) guards the sysfs "reach" answer only; a
 * leaf lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#ifdef CONFIG_X86
#include <asm/processor.h>
#endif

#include "p2pmem/compat.h"
#include "p2pmem/internal.h"
#include "p2pmem/uapi.h"

#define to_p2pmem(d) container_of(d, struct p2pmem_dev, dev)

/* ---- ports and ACS ------------------------------------------------------ */

static const char *p2pmem_port_kind(struct pci_dev *pdev)
{
	if (!pci_is_pcie(pdev))
		return pdev->subordinate ? "pci-bridge" : "endpoint";
	switch (pci_pcie_type(pdev)) {
	case PCI_EXP_TYPE_ROOT_PORT:
		return "root-port";
	case PCI_EXP_TYPE_UPSTREAM:
		return "upstream-port";
	case PCI_EXP_TYPE_DOWNSTREAM:
		return "downstream-port";
	case PCI_EXP_TYPE_PCI_BRIDGE:
	case PCI_EXP_TYPE_PCIE_BRIDGE:
		return "pci-bridge";
	default:
		return pdev->subordinate ? "bridge" : "endpoint";
	}
}

#define P2PMEM_ACS_REDIRECT (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC)

/*
 * The redirecting bits of @pdev's ACS Control register; -1 when it has no
 * ACS capability (then nothing is redirected there either).
 */
static int p2pmem_acs_redirect_bits(struct pci_dev *pdev)
{
	int pos = pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_ACS);
	u16 ctrl;

	if (!pos)
		return -1;
	if (pci_read_config_word(pdev, pos + PCI_ACS_CTRL, &ctrl))
		return -1;
	return ctrl & P2PMEM_ACS_REDIRECT;
}

static bool p2pmem_acs_redirects(struct pci_dev *pdev)
{
	return p2pmem_acs_redirect_bits(pdev) > 0;
}

/* "none" (no capability), "off", or the redirecting bits joined by '+'. */
static void p2pmem_acs_describe(char *buf, size_t len, struct pci_dev *pdev)
{
	static const struct { u16 bit; const char *name; } names[] = {
		{ PCI_ACS_RR, "RR" }, { PCI_ACS_CR, "CR" }, { PCI_ACS_EC, "EC" },
	};
	int bits = p2pmem_acs_redirect_bits(pdev);
	size_t i, n = 0;

	if (bits <= 0) {
		strscpy(buf, bits < 0 ? "none" : "off", len);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (bits & names[i].bit)
			n += scnprintf(buf + n, len - n, "%s%s", n ? "+" : "",
				       names[i].name);
}

/* ---- the root complex --------------------------------------------------- */

/* pci_find_host_bridge() is not exported before 5.11; its root bus is enough. */
static struct pci_bus *p2pmem_root_bus(struct pci_dev *pdev)
{
	struct pci_bus *bus = pdev->bus;

	while (bus->parent)
		bus = bus->parent;
	return bus;
}

/*
 * The device the kernel's rule looks at for a host bridge: the first
 * function on its root bus, if that is 00.0 or a root port.  Returned with
 * a reference, or NULL.
 */
static struct pci_dev *p2pmem_host_dev(struct pci_dev *pdev)
{
	struct pci_bus *root = p2pmem_root_bus(pdev);
	struct pci_dev *first;
	unsigned int devfn;

	for (devfn = 0; devfn < 256; devfn++) {
		first = pci_get_slot(root, devfn);
		if (!first)
			continue;
		if (devfn == 0 || pci_pcie_type(first) == PCI_EXP_TYPE_ROOT_PORT)
			return first;
		pci_dev_put(first);
		return NULL;
	}
	return NULL;
}

/* Root complexes known to forward peer traffic (the kernel's list). */
static const struct {
	u16 vendor;
	u16 device;
	bool same_host_only;	/* only between devices under this one */
} p2pmem_host_list[] = {
	{ PCI_VENDOR_ID_INTEL, 0x3c00, true },	/* Xeon E5 / Core i7 */
	{ PCI_VENDOR_ID_INTEL, 0x3c01, true },
	{ PCI_VENDOR_ID_INTEL, 0x2f00, true },	/* Xeon E5/E7 v3 */
	{ PCI_VENDOR_ID_INTEL, 0x2f01, true },
	{ PCI_VENDOR_ID_INTEL, 0x2030, false },	/* Skylake-E */
	{ PCI_VENDOR_ID_INTEL, 0x2031, false },
	{ PCI_VENDOR_ID_INTEL, 0x2032, false },
	{ PCI_VENDOR_ID_INTEL, 0x2033, false },
	{ PCI_VENDOR_ID_INTEL, 0x2020, false },
	{ PCI_VENDOR_ID_INTEL, 0x09a2, false },	/* Ice Lake */
};

static bool p2pmem_host_listed(struct pci_dev *host, bool same_host)
{
	size_t i;

	if (!host)
		return false;
	for (i = 0; i < ARRAY_SIZE(p2pmem_host_list); i++)
		if (host->vendor == p2pmem_host_list[i].vendor &&
		    host->device == p2pmem_host_list[i].device)
			return same_host || !p2pmem_host_list[i].same_host_only;
	return false;
}

/* AMD Zen (family 17h) and later route peer traffic between root ports. */
static bool p2pmem_cpu_routes_p2p(void)
{
#ifdef CONFIG_X86
	return boot_cpu_data.x86_vendor == X86_VENDOR_AMD &&
	       boot_cpu_data.x86 >= 0x17;
#else
	return false;
#endif
}

static bool p2pmem_host_allows(struct pci_dev *a, struct pci_dev *b)
{
	struct pci_dev *ha, *hb;
	bool ok;

	if (p2pmem_cpu_routes_p2p())
		return true;
	ha = p2pmem_host_dev(a);
	hb = p2pmem_host_dev(b);
	if (p2pmem_root_bus(a) == p2pmem_root_bus(b))
		ok = p2pmem_host_listed(ha, true);
	else
		ok = p2pmem_host_listed(ha, false) && p2pmem_host_listed(hb, false);
	pci_dev_put(ha);
	pci_dev_put(hb);
	return ok;
}

/* ---- the route between two devices -------------------------------------- */

struct p2pmem_reach {
	enum p2pmem_reach_route route;
	enum p2pmem_reach_reason reason;
	u32 info;			/* P2PMEM_REACH_INFO_* */
	int distance;
	struct pci_dev *common;		/* closest common bridge, or NULL */
	int acs_count;
	char acs[96];			/* ports that redirect, comma-separated */
};

static void p2pmem_reach_note_acs(struct p2pmem_reach *r, struct pci_dev *port)
{
	size_t used = strlen(r->acs);

	if (!p2pmem_acs_redirects(port))
		return;
	r->acs_count++;
	scnprintf(r->acs + used, sizeof(r->acs) - used, "%s%s",
		  used ? "," : "", pci_name(port));
}

/* @pdev and the bridges above it: the hops from it up to the root complex. */
static int p2pmem_hops_to_root(struct pci_dev *pdev)
{
	int n = 0;

	for (; pdev; pdev = pci_upstream_bridge(pdev))
		n++;
	return n;
}

/* Through the root complex: allowed there or not. */
static void p2pmem_reach_via_host(struct pci_dev *provider,
				  struct pci_dev *client,
				  struct p2pmem_reach *r,
				  enum p2pmem_reach_reason why)
{
	r->reason = why;
	r->route = p2pmem_host_allows(provider, client) ?
		   P2PMEM_REACH_HOST_BRIDGE : P2PMEM_REACH_UNSUPPORTED;
}

/*
 * Walk up from both devices to the closest bridge they share, counting the
 * hops and the redirecting ports on the way, the way the kernel does.
 */
static void p2pmem_reach_walk(struct pci_dev *provider, struct pci_dev *client,
			      struct p2pmem_reach *r)
{
	struct pci_dev *a, *b;
	int up_a = 0, up_b = 0;

	memset(r, 0, sizeof(*r));
	for (a = provider; a; a = pci_upstream_bridge(a), up_a++) {
		p2pmem_reach_note_acs(r, a);
		up_b = 0;
		for (b = client; b; b = pci_upstream_bridge(b), up_b++)
			if (b == a)
				break;
		if (b) {
			r->common = a;
			break;
		}
	}
	r->distance = up_a + up_b;
	if (r->common)
		for (b = client; b != r->common; b = pci_upstream_bridge(b))
			p2pmem_reach_note_acs(r, b);

	if (!r->common)
		p2pmem_reach_via_host(provider, client, r,
				      P2PMEM_REACH_NO_COMMON_BRIDGE);
	else if (r->acs_count)
		p2pmem_reach_via_host(provider, client, r,
				      P2PMEM_REACH_ACS_REDIRECT);
	else
		r->route = P2PMEM_REACH_DIRECT;
}

/*
 * The native backend's pages are mapped for a client like RAM: through its
 * IOMMU domain when that translates, so the client sends IOVAs, which no
 * switch can route; only the IOMMU in the root complex turns them into the
 * BAR's address, and the root complex has to send them down again.  The
 * traffic then travels the whole way up from the client and down to the
 * provider, whatever bridge they share.  (With an identity domain or no
 * IOMMU the client gets the physical address and the walk stands.)
 */
static void p2pmem_reach_iommu(struct pci_dev *provider, struct pci_dev *client,
			       struct p2pmem_reach *r)
{
	if (!p2pmem_compat_dma_translated(client))
		return;
	r->info |= P2PMEM_REACH_INFO_IOMMU;
	r->distance = p2pmem_hops_to_root(provider) + p2pmem_hops_to_root(client);
	if (r->route == P2PMEM_REACH_DIRECT)
		p2pmem_reach_via_host(provider, client, r,
				      P2PMEM_REACH_IOMMU_TRANSLATED);
}

/*
 * On P2PDMA kernels the core's answer stands: it may know more (newer ACS
 * rules, quirks) than our walk, and it maps peers under a common switch
 * to the bus address whatever the IOMMU.  Returns false where there is no
 * such core; else *@dist is the kernel's distance, or -1 when it says no.
 */
static bool p2pmem_reach_kernel(struct pci_dev *provider, struct pci_dev *client,
				int *dist)
{
	struct device *clients[] = { &client->dev };

	if (p2pmem_native_backend_allowed())
		return false;
	*dist = pci_p2pdma_distance_many(provider, clients, 1, false);
	return true;
}

static void p2pmem_reach_decide(struct pci_dev *provider,
				struct pci_dev *client, struct p2pmem_reach *r)
{
	int kdist;

	p2pmem_reach_walk(provider, client, r);
	if (!p2pmem_reach_kernel(provider, client, &kdist)) {
		p2pmem_reach_iommu(provider, client, r);
		return;
	}
	r->info |= P2PMEM_REACH_INFO_KERNEL;
	r->distance = kdist;
	if (kdist < 0) {
		r->route = P2PMEM_REACH_UNSUPPORTED;
		if (r->reason == P2PMEM_REACH_REASON_NONE)
			r->reason = P2PMEM_REACH_KERNEL_REFUSED;
	} else if (r->route == P2PMEM_REACH_UNSUPPORTED) {
		r->route = P2PMEM_REACH_HOST_BRIDGE;
	}
}

/* One line: the client, the route and how it was decided. */
static void p2pmem_reach_format(char *buf, size_t len, struct pci_dev *provider,
				struct pci_dev *client,
				const struct p2pmem_reach *r)
{
	struct pci_dev *host;
	int n;

	n = scnprintf(buf, len, "%s ", pci_name(client));
	switch (r->route) {
	case P2PMEM_REACH_DIRECT:
		n += scnprintf(buf + n, len - n, "direct distance=%d via=%s",
			       r->distance, pci_name(r->common));
		break;
	case P2PMEM_REACH_HOST_BRIDGE:
		n += scnprintf(buf + n, len - n, "host-bridge distance=%d reason=%s",
			       r->distance, p2pmem_reach_reason_name(r->reason));
		break;
	case P2PMEM_REACH_UNSUPPORTED:
		n += scnprintf(buf + n, len - n, "unsupported reason=%s",
			       p2pmem_reach_reason_name(r->reason));
		break;
	}
	if (r->acs_count)
		n += scnprintf(buf + n, len - n, " acs=%s", r->acs);
	if (r->route != P2PMEM_REACH_DIRECT) {
		host = p2pmem_host_dev(provider);
		if (host)
			n += scnprintf(buf + n, len - n,
				       " host=%s host_id=%04x:%04x", pci_name(host),
				       host->vendor, host->device);
		pci_dev_put(host);
	}
	scnprintf(buf + n, len - n, " source=%s\n",
		  r->info & P2PMEM_REACH_INFO_KERNEL ? "kernel" : "p2pmem");
}

/* ---- sysfs -------------------------------------------------------------- */

/* One line per bridge, nearest first: name, kind, ACS redirect state. */
static ssize_t upstream_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct pci_dev *port = to_p2pmem(dev)->pdev;
	char acs[16];
	int n = 0;

	while ((port = pci_upstream_bridge(port))) {
		p2pmem_acs_describe(acs, sizeof(acs), port);
		n += sysfs_emit_at(buf, n, "%s %s acs=%s\n", pci_name(port),
				   p2pmem_port_kind(port), acs);
	}
	return n;
}
static DEVICE_ATTR_RO(upstream);

/* The ports on the upstream chain that redirect peer traffic, or "none". */
static ssize_t acs_redirect_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct pci_dev *port = to_p2pmem(dev)->pdev;
	int n = 0;

	while ((port = pci_upstream_bridge(port)))
		if (p2pmem_acs_redirects(port))
			n += sysfs_emit_at(buf, n, "%s%s", n ? " " : "",
					   pci_name(port));
	return n + sysfs_emit_at(buf, n, "%s\n", n ? "" : "none");
}
static DEVICE_ATTR_RO(acs_redirect);

/* The root complex's device and whether it is known to route peer traffic. */
static ssize_t host_bridge_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct pci_dev *pdev = to_p2pmem(dev)->pdev;
	struct pci_dev *host = p2pmem_host_dev(pdev);
	bool routes = p2pmem_cpu_routes_p2p() || p2pmem_host_listed(host, true);
	ssize_t n;

	if (!host)
		return sysfs_emit(buf, "unknown p2p=%s\n", routes ? "yes" : "no");
	n = sysfs_emit(buf, "%s %04x:%04x p2p=%s\n", pci_name(host),
		       host->vendor, host->device, routes ? "yes" : "no");
	pci_dev_put(host);
	return n;
}
static DEVICE_ATTR_RO(host_bridge);

static ssize_t reach_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct p2pmem_dev *p2p = to_p2pmem(dev);
	ssize_t n;

	mutex_lock(&p2p->reach_lock);
	n = sysfs_emit(buf, "%s", p2p->reach);
	mutex_unlock(&p2p->reach_lock);
	return n;
}

/*
 * The answer about the PCI device named in @in (@len bytes, a trailing
 * newline allowed) into @ans: its route, distance, reason, info and
 * verdict; nothing else in @ans is touched.  Both the sysfs file and the
 * ioctl land here.
 */
static int p2pmem_reach_ask(struct p2pmem_dev *p2p, const char *in,
			    size_t len, struct p2pmem_reach_query *ans)
{
	struct p2pmem_reach r;
	struct pci_dev *client;
	struct device *cdev;
	char name[32], *want;

	if (len >= sizeof(name))
		goto bad;
	memcpy(name, in, len);
	name[len] = '\0';
	want = strim(name);
	if (!*want)
		goto bad;
	cdev = bus_find_device_by_name(&pci_bus_type, NULL, want);
	if (!cdev) {
		/* Escaped: a newline in the name must not forge a log line. */
		dev_info_ratelimited(&p2p->dev, "reach: no PCI device %*pE\n",
				     (int)strlen(want), want);
		return -ENODEV;
	}
	client = to_pci_dev(cdev);
	p2pmem_reach_decide(p2p->pdev, client, &r);
	ans->route = r.route;
	ans->distance = r.route == P2PMEM_REACH_UNSUPPORTED ? -1 : r.distance;
	ans->reason = r.reason;
	ans->info = r.info;
	p2pmem_reach_format(ans->verdict, sizeof(ans->verdict), p2p->pdev,
			    client, &r);
	put_device(cdev);
	return 0;
bad:
	dev_info_ratelimited(&p2p->dev,
			     "reach: expected a PCI device name like 0000:03:00.0\n");
	return -EINVAL;
}

/*
 * Write a PCI name; the verdict for it is what the next read returns.  It
 * names the device it is about, so concurrent askers can tell answers apart.
 */
static ssize_t reach_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct p2pmem_dev *p2p = to_p2pmem(dev);
	struct p2pmem_reach_query ans;
	int ret;

	BUILD_BUG_ON(sizeof(ans.verdict) != sizeof(p2p->reach));
	ret = p2pmem_reach_ask(p2p, buf, count, &ans);
	if (ret)
		return ret;
	mutex_lock(&p2p->reach_lock);
	strscpy(p2p->reach, ans.verdict, sizeof(p2p->reach));
	mutex_unlock(&p2p->reach_lock);
	return count;
}
static DEVICE_ATTR_RW(reach);

static struct attribute *p2pmem_topology_attrs[] = {
	&dev_attr_upstream.attr,
	&dev_attr_acs_redirect.attr,
	&dev_attr_host_bridge.attr,
	&dev_attr_reach.attr,
	NULL,
};

const struct attribute_group p2pmem_topology_group = {
	.attrs = p2pmem_topology_attrs,
};

/*
 * P2PMEM_IOC_REACH on an open /dev/p2pmemN.  The reply is built in a
 * zeroed struct, so every byte copied out is either part of the answer or
 * zero, and only as many bytes as the caller's struct holds.
 */
long p2pmem_topology_ioctl(struct p2pmem_dev *p2p, void __user *arg)
{
	struct p2pmem_reach_query q;
	char pci[sizeof(q.pci)];
	u32 usize;
	int ret;

	/* The first version; a later one grows the struct past it. */
	BUILD_BUG_ON(sizeof(q) != P2PMEM_REACH_QUERY_SIZE_VER0);
	if (get_user(usize, (u32 __user *)arg))
		return -EFAULT;
	if (usize < P2PMEM_REACH_QUERY_SIZE_VER0) {
		dev_info_ratelimited(&p2p->dev,
				     "reach: query size %u is below the first version's %u\n",
				     usize, P2PMEM_REACH_QUERY_SIZE_VER0);
		return -EINVAL;
	}
	/* Bounds the zero check of the tail below. */
	if (usize > PAGE_SIZE) {
		dev_info_ratelimited(&p2p->dev, "reach: query size %u is too big\n",
				     usize);
		return -E2BIG;
	}
	/* A bigger struct than ours is fine if we would ignore nothing. */
	ret = copy_struct_from_user(&q, sizeof(q), arg, usize);
	if (ret == -E2BIG)
		dev_info_ratelimited(&p2p->dev,
				     "reach: query has fields this module does not know\n");
	if (ret)
		return ret;
	if (q.flags) {
		dev_info_ratelimited(&p2p->dev, "reach: unknown flags %#x\n",
				     q.flags);
		return -EINVAL;
	}
	memcpy(pci, q.pci, sizeof(pci));
	memset(&q, 0, sizeof(q));
	memcpy(q.pci, pci, sizeof(q.pci));
	ret = p2pmem_reach_ask(p2p, pci, strnlen(pci, sizeof(pci)), &q);
	if (ret)
		return ret;
	q.size = min_t(u32, usize, sizeof(q));
	if (copy_to_user(arg, &q, q.size))
		return -EFAULT;
	return 0;
}
