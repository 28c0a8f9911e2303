// SPDX-License-Identifier: GPL-2.0
/*
 * The "p2pmem" PCI driver: publishes a memory BAR of any device it is bound
 * to.  Devices come from the ids= parameter, new_id or driver_override; the
 * driver has no built-in ID table because no device is p2p memory by
 * nature, only by the administrator's choice.
 *
 * driver_data of a dynamic ID is "BAR index + 1", 0 meaning "pick the
 * largest prefetchable memory BAR".
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "../p2pmem.h"
#include "internal.h"

static char *ids;
module_param(ids, charp, 0444);
MODULE_PARM_DESC(ids, "Devices to bind: VVVV:DDDD[:BAR][,VVVV:DDDD[:BAR]...] (hex IDs, decimal BAR)");

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
	struct p2pmem_dev *p2p;
	int bar;
	bool requested;
};

static int p2pmem_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct p2pmem_pci *drv;
	int bar, ret;

	bar = id->driver_data ? (int)id->driver_data - 1 : p2pmem_pci_default_bar(pdev);
	if (bar < 0) {
		pci_err(pdev, "p2pmem: no prefetchable memory BAR; name one with ids=%04x:%04x:BAR\n",
			pdev->vendor, pdev->device);
		return -ENODEV;
	}

	drv = devm_kzalloc(&pdev->dev, sizeof(*drv), GFP_KERNEL);
	if (!drv)
		return -ENOMEM;
	drv->bar = bar;

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	/* Only a real memory BAR can be requested; let the core explain others. */
	if ((pci_resource_flags(pdev, bar) & IORESOURCE_MEM) &&
	    pci_resource_len(pdev, bar)) {
		ret = pci_request_region(pdev, bar, "p2pmem");
		if (ret) {
			pci_err(pdev, "p2pmem: BAR %d is in use by another driver\n", bar);
			goto err_disable;
		}
		drv->requested = true;
	}

	drv->p2p = p2pmem_register(pdev, bar, 0, 0, "p2pmem-pci");
	if (IS_ERR(drv->p2p)) {
		ret = PTR_ERR(drv->p2p);
		goto err_release;
	}
	pci_set_drvdata(pdev, drv);
	return 0;

err_release:
	if (drv->requested)
		pci_release_region(pdev, bar);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

static void p2pmem_pci_remove(struct pci_dev *pdev)
{
	struct p2pmem_pci *drv = pci_get_drvdata(pdev);

	p2pmem_unregister(drv->p2p);
	if (drv->requested)
		pci_release_region(pdev, drv->bar);
	pci_disable_device(pdev);
}

static struct pci_driver p2pmem_pci_driver = {
	.name = "p2pmem",
	.probe = p2pmem_pci_probe,
	.remove = p2pmem_pci_remove,
};

/* True when @pdev is bound to this driver (its memory is ours already). */
bool p2pmem_pci_owns(struct pci_dev *pdev)
{
	return pdev->dev.driver == &p2pmem_pci_driver.driver;
}

/* Parse one "VVVV:DDDD[:BAR]" entry of ids=. */
static int p2pmem_pci_parse_id(const char *s, unsigned int *vendor,
			       unsigned int *device, unsigned long *data)
{
	unsigned int bar;
	char extra;
	int n;

	n = sscanf(s, "%x:%x:%u%c", vendor, device, &bar, &extra);
	if (n < 2 || n > 3 || *vendor > 0xffff || *device > 0xffff ||
	    (n == 3 && bar >= PCI_STD_NUM_BARS))
		return -EINVAL;
	*data = n == 3 ? bar + 1 : 0;
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

		if (!*tok)
			continue;
		ret = p2pmem_pci_parse_id(tok, &vendor, &device, &data);
		if (ret) {
			pr_err("p2pmem: bad ids= entry \"%s\", expected VVVV:DDDD[:BAR]\n", tok);
			break;
		}
		ret = pci_add_dynid(&p2pmem_pci_driver, vendor, device,
				    PCI_ANY_ID, PCI_ANY_ID, 0, 0, data);
		if (ret)
			pr_err("p2pmem: cannot add ID %04x:%04x: %d\n", vendor, device, ret);
	}
	kfree(list);
	return ret;
}

int p2pmem_pci_init(void)
{
	int ret;

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
