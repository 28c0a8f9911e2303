// SPDX-License-Identifier: GPL-2.0
/*
 * The "p2pmem" PCI driver: publishes a memory BAR of any device it is bound
 * to.  Devices come from the ids= parameter, new_id or driver_override; the
 * driver has no built-in ID table because no device is p2p memory by
 * nature, only by the administrator's choice.
 *
 * driver_data of a dynamic ID is "BAR index + 1", 0 meaning "the BAR bars=
 * names for this device, else the largest prefetchable memory BAR".  bars=
 * is per device so that one device can be given a BAR without an ID that
 * would match (and bind) its twins: a driver_override match has no
 * driver_data.
 *
 * Lifetime of what the driver holds on a device: the enabled device, its BAR
 * region and the p2pmemN.  The first two are devres actions registered
 * before p2pmem_register(), so they are undone only after everything
 * p2pmem_register() added as devres of the device: on the kernel backend the
 * p2pdma core's pagemap, whose release waits for the last pin.  The region is
 * therefore never given up while DMA may still target the BAR.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#define dev_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>

#include "../p2pmem.h"
#include "internal.h"

static char *ids;
module_param(ids, charp, 0444);
MODULE_PARM_DESC(ids, "Devices to bind: VVVV:DDDD[:BAR][,VVVV:DDDD[:BAR]...] (hex IDs, decimal BAR)");

/*
 * Set under kernel_param_lock() (see p2pmem_pci_bars_get()), only to a
 * list p2pmem_pci_bars_set() has checked.
 */
static char *bars;

/*
 * @min to @max hex digits at *@s, then @sep; advances *@s past @sep.  The
 * widths are those sysfs prints (a domain has 4 or more digits), so a typo
 * is refused rather than taken for some other PCI function.
 */
static int p2pmem_pci_hex(const char **s, int min, int max, char sep,
			  unsigned int *val)
{
	int n;
	char c;

	*val = 0;
	/* By hand: hex_to_bin() moved to <linux/hex.h>, which 6.1 lacks. */
	for (n = 0; n < max && isxdigit(c = (*s)[n]); n++)
		*val = *val << 4 | (isdigit(c) ? c - '0' : _tolower(c) - 'a' + 10);
	if (n < min || (*s)[n] != sep)
		return -EINVAL;
	*s += n + 1;
	return 0;
}

/* Parse one "DDDD:BB:DD.F:BAR" entry of bars=. */
static int p2pmem_pci_parse_bar(const char *s, unsigned int *domain,
				unsigned int *bus, unsigned int *devfn,
				unsigned int *bar)
{
	unsigned int slot, fn;

	if (p2pmem_pci_hex(&s, 4, 8, ':', domain) ||
	    p2pmem_pci_hex(&s, 2, 2, ':', bus) ||
	    p2pmem_pci_hex(&s, 2, 2, '.', &slot) ||
	    p2pmem_pci_hex(&s, 1, 1, ':', &fn) ||
	    slot > 0x1f || fn > 7 ||
	    !isdigit(s[0]) || s[1] || s[0] - '0' >= PCI_STD_NUM_BARS)
		return -EINVAL;
	*devfn = PCI_DEVFN(slot, fn);
	*bar = s[0] - '0';
	return 0;
}

/*
 * Check every entry of @list (a copy of bars=, cut up here) and return the
 * BAR of the last one naming @pdev, -ENOENT if none does (or @pdev is
 * NULL), or -EINVAL with *@bad set to a malformed entry: a typo anywhere is
 * reported rather than taken for "no entry".  One trailing newline, as
 * "echo > bars" leaves, is allowed.
 */
static int p2pmem_pci_find_bar(char *list, struct pci_dev *pdev, char **bad)
{
	size_t len = strlen(list);
	char *tok;
	int ret = -ENOENT;

	if (len && list[len - 1] == '\n')
		list[len - 1] = '\0';
	while ((tok = strsep(&list, ","))) {
		unsigned int domain, bus, devfn, bar;

		if (!*tok)
			continue;
		if (p2pmem_pci_parse_bar(tok, &domain, &bus, &devfn, &bar)) {
			*bad = tok;
			return -EINVAL;
		}
		if (pdev && domain == (unsigned int)pci_domain_nr(pdev->bus) &&
		    bus == pdev->bus->number && devfn == pdev->devfn)
			ret = bar;
	}
	return ret;
}

/* Entries are short; a longer "entry" is junk, named by its start. */
#define P2PMEM_BAD_SHOWN	64
/* The longest string param_set_charp() keeps, plus its NUL. */
#define P2PMEM_BARS_MAX		1024

/*
 * bars= is checked whenever it is set, at load and through sysfs alike: a
 * malformed list is refused with EINVAL and the old value stays, instead
 * of being kept and failing (and logging) every later probe.  The entry is
 * logged escaped: the value is anything root wrote, control characters
 * included.
 */
static int p2pmem_pci_bars_set(const char *val, const struct kernel_param *kp)
{
	char *list, *bad;
	int ret;

	/*
	 * param_set_charp() keeps less than 1024 bytes and says so for every
	 * longer write without a rate limit: answer first, rate-limited.
	 */
	if (strnlen(val, P2PMEM_BARS_MAX) >= P2PMEM_BARS_MAX) {
		pr_info_ratelimited("bars= is longer than %d bytes\n",
				   P2PMEM_BARS_MAX - 1);
		return -ENOSPC;
	}
	list = kstrdup(val, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	ret = p2pmem_pci_find_bar(list, NULL, &bad);
	if (ret == -EINVAL)
		pr_info_ratelimited("bad bars= entry \"%*pE\", expected DDDD:BB:DD.F:BAR (BAR 0-%d)\n",
				    (int)min_t(size_t, strlen(bad), P2PMEM_BAD_SHOWN),
				    bad, PCI_STD_NUM_BARS - 1);
	kfree(list);
	return ret == -EINVAL ? ret : param_set_charp(val, kp);
}

static const struct kernel_param_ops p2pmem_bars_ops = {
	.set = p2pmem_pci_bars_set,
	.get = param_get_charp,
	.free = param_free_charp,
};
module_param_cb(bars, &p2pmem_bars_ops, &bars, 0644);
__MODULE_PARM_TYPE(bars, "charp");
MODULE_PARM_DESC(bars, "BAR to publish per device when its match names none: DDDD:BB:DD.F:BAR[,...] (PCI name, decimal BAR)");

/* A copy of bars= (NULL if unset), safe from a concurrent sysfs write. */
static int p2pmem_pci_bars_get(char **copy)
{
	int ret = 0;

	kernel_param_lock(THIS_MODULE);
	*copy = NULL;
	if (bars) {
		*copy = kstrdup(bars, GFP_KERNEL);
		if (!*copy)
			ret = -ENOMEM;
	}
	kernel_param_unlock(THIS_MODULE);
	return ret;
}

static int p2pmem_pci_default_bar(struct pci_dev *pdev)
{
	resource_size_t best_len = 0;
	int bar, best = -1;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		unsigned long flags = pci_resource_flags(pdev, bar);

		if (!(flags & IORESOURCE_MEM) || !(flags & IORESOURCE_PREFETCH))
			continue;
		if (pci_resource_len(pdev, bar) > best_len) {
			best_len = pci_resource_len(pdev, bar);
			best = bar;
		}
	}
	return best;
}

struct p2pmem_pci {
	struct pci_dev *pdev;
	struct p2pmem_dev *p2p;
	int bar;
};

static void p2pmem_pci_disable(void *pdev)
{
	pci_disable_device(pdev);
}

static void p2pmem_pci_release_region(void *data)
{
	struct p2pmem_pci *drv = data;

	pci_release_region(drv->pdev, drv->bar);
}

/* The BAR bars= names for @pdev, -ENOENT if none, -errno if it is bad. */
static int p2pmem_pci_bar_of(struct pci_dev *pdev)
{
	char *list, *bad;
	int ret;

	ret = p2pmem_pci_bars_get(&list);
	if (ret || !list)
		return ret ? ret : -ENOENT;
	ret = p2pmem_pci_find_bar(list, pdev, &bad);
	/* Not reached: p2pmem_pci_bars_set() lets only a good list in. */
	if (ret == -EINVAL)
		dev_info_ratelimited(&pdev->dev, "bad bars= entry \"%*pE\"; not binding\n",
				     (int)min_t(size_t, strlen(bad), P2PMEM_BAD_SHOWN), bad);
	kfree(list);
	return ret;
}

static int p2pmem_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct p2pmem_pci *drv;
	int bar, ret;

	/* Any value can come in through new_id: check it before indexing. */
	if (id->driver_data > PCI_STD_NUM_BARS) {
		pci_info_ratelimited(pdev, "dynamic ID driver_data 0x%lx names no BAR (0: the largest prefetchable one, 1-%d: BAR 0-%d)\n",
				     id->driver_data, PCI_STD_NUM_BARS,
				     PCI_STD_NUM_BARS - 1);
		return -EINVAL;
	}
	if (id->driver_data) {
		bar = (int)id->driver_data - 1;
	} else {
		bar = p2pmem_pci_bar_of(pdev);
		if (bar == -ENOENT)
			bar = p2pmem_pci_default_bar(pdev);
		else if (bar < 0)
			return bar;
	}
	if (bar < 0) {
		pci_info_ratelimited(pdev, "no prefetchable memory BAR; name one with bars=%s:BAR\n",
				     pci_name(pdev));
		return -ENODEV;
	}

	drv = devm_kzalloc(&pdev->dev, sizeof(*drv), GFP_KERNEL);
	if (!drv)
		return -ENOMEM;
	drv->pdev = pdev;
	drv->bar = bar;

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(&pdev->dev, p2pmem_pci_disable, pdev);
	if (ret)
		return ret;
	/* Only a real memory BAR can be requested; let the core explain others. */
	if ((pci_resource_flags(pdev, bar) & IORESOURCE_MEM) &&
	    pci_resource_len(pdev, bar)) {
		ret = pci_request_region(pdev, bar, "p2pmem");
		if (ret) {
			pci_info_ratelimited(pdev, "BAR %d is in use by another driver\n",
					     bar);
			return ret;
		}
		ret = devm_add_action_or_reset(&pdev->dev,
					       p2pmem_pci_release_region, drv);
		if (ret)
			return ret;
	}

	drv->p2p = p2pmem_register(pdev, bar, 0, 0, "p2pmem-pci");
	if (IS_ERR(drv->p2p))
		return PTR_ERR(drv->p2p);
	pci_set_drvdata(pdev, drv);
	return 0;
}

/* The region and the enable go afterwards, as devres; see the top. */
static void p2pmem_pci_remove(struct pci_dev *pdev)
{
	struct p2pmem_pci *drv = pci_get_drvdata(pdev);

	p2pmem_unregister(drv->p2p);
}

static struct pci_driver p2pmem_pci_driver = {
	.name = "p2pmem",
	.probe = p2pmem_pci_probe,
	.remove = p2pmem_pci_remove,
};

/*
 * Parse one "VVVV:DDDD[:BAR]" entry of ids= (cut up in place).  Every
 * field must be a number and nothing may follow: "1af4:1110junk" is a
 * typo, not device 1110.
 */
static int p2pmem_pci_parse_id(char *s, unsigned int *vendor,
			       unsigned int *device, unsigned long *data)
{
	char *v = strsep(&s, ":"), *d = strsep(&s, ":"), *b = strsep(&s, ":");
	unsigned int bar;

	if (!d || s || kstrtouint(v, 16, vendor) || kstrtouint(d, 16, device) ||
	    *vendor > 0xffff || *device > 0xffff)
		return -EINVAL;
	*data = 0;
	if (!b)
		return 0;
	if (kstrtouint(b, 10, &bar) || bar >= PCI_STD_NUM_BARS)
		return -EINVAL;
	*data = bar + 1;
	return 0;
}

static int p2pmem_pci_add_ids(void)
{
	char *list, *cur, *tok;
	int ret = 0;

	if (!ids || !*ids)
		return 0;
	list = kstrdup(ids, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cur = list;
	while ((tok = strsep(&cur, ",")) && !ret) {
		unsigned int vendor, device;
		unsigned long data;
		char entry[24];

		if (!*tok)
			continue;
		ret = strscpy(entry, tok, sizeof(entry)) < 0 ? -EINVAL :
		      p2pmem_pci_parse_id(entry, &vendor, &device, &data);
		if (ret) {
			/* Escaped: the entry may hold control characters. */
			pr_info_ratelimited("bad ids= entry \"%*pE\", expected VVVV:DDDD[:BAR]\n",
					    (int)min_t(size_t, strlen(tok), P2PMEM_BAD_SHOWN),
					    tok);
			break;
		}
		ret = pci_add_dynid(&p2pmem_pci_driver, vendor, device,
				    PCI_ANY_ID, PCI_ANY_ID, 0, 0, data);
		if (ret)
			pr_err("cannot add ID %04x:%04x: %d\n", vendor, device, ret);
	}
	kfree(list);
	return ret;
}

int p2pmem_pci_init(void)
{
	int ret;

	/* A malformed bars= has already failed the load (its set op). */
	ret = pci_register_driver(&p2pmem_pci_driver);
	if (ret)
		return ret;
	ret = p2pmem_pci_add_ids();
	if (ret)
		pci_unregister_driver(&p2pmem_pci_driver);
	return ret;
}

void p2pmem_pci_exit(void)
{
	pci_unregister_driver(&p2pmem_pci_driver);
}
