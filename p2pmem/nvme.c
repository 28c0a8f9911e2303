// SPDX-License-Identifier: GPL-2.0
/*
 * The NVMe CMB provider for kernels without CONFIG_PCI_P2PDMA.  There the
 * nvme driver cannot register its controller's Controller Memory Buffer
 * ("failed to register the CMB") and leaves it idle.  p2pmem finds it from
 * the controller's registers and registers it itself, native backend.
 *
 * Registers (NVMe 1.4, BAR 0): CAP.CMBS says CMBLOC/CMBSZ read as 0 until
 * CMBMSC.CRE is set; CMBSZ gives the size (SZ units of 4 KiB * 16^SZU) and
 * whether the CMB may hold read and write data (RDS, WDS); CMBLOC gives
 * the BAR (BIR) and the offset in it; CMBMSC.CMSE + CBA enable the
 * controller's decoding of the CMB at the BAR's bus address, which the
 * nvme driver itself does for the same CMB on P2PDMA kernels.  Their
 * values are checked (p2pmem/nvme_cmb.h) before anything is programmed,
 * and the CMB is clamped to its BAR.
 *
 * The nvme driver keeps the device, its BAR resources and its queues; this
 * only reads those registers, writes CMBMSC, and maps the CMB's range.
 * Only ever for a controller the kernel's nvme driver is bound to: whoever
 * else drives one (a virtual machine through vfio-pci, user space through
 * uio_pci_generic) owns its CMB and its registers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#define dev_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-hi-lo.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/string.h>

#include "../p2pmem.h"
#include "internal.h"
#include "nvme_cmb.h"

#define P2PMEM_NVME_CAP		0x00
#define P2PMEM_NVME_CAP_CMBS	BIT_ULL(57)
#define P2PMEM_NVME_CSTS	0x1c
#define P2PMEM_NVME_CSTS_RDY	BIT(0)
#define P2PMEM_NVME_CMBLOC	0x38
#define P2PMEM_NVME_CMBSZ	0x3c
#define P2PMEM_NVME_CMBMSC	0x50
#define P2PMEM_NVME_CMBMSC_CRE	BIT_ULL(0)
#define P2PMEM_NVME_CMBMSC_CMSE	BIT_ULL(1)
#define P2PMEM_NVME_CMBMSC_CBA	GENMASK_ULL(63, 12)
#define P2PMEM_NVME_REGS_LEN	0x58

static bool nvme_cmb = true;
module_param(nvme_cmb, bool, 0444);
MODULE_PARM_DESC(nvme_cmb, "Register the CMB of NVMe controllers (data-capable ones) as a p2pmemN; kernels without CONFIG_PCI_P2PDMA only (default: on)");

static bool p2pmem_is_nvme(struct pci_dev *pdev)
{
	return pdev->class == PCI_CLASS_STORAGE_EXPRESS;
}

/*
 * Whether @pdev is bound to the kernel's own nvme driver, the one owner
 * whose idle CMB we cooperate with.  A controller bound to anything else
 * (vfio-pci for a virtual machine, uio_pci_generic for SPDK, a vendor
 * driver) belongs to someone who programs its CMB registers and may use
 * its CMB: not ours to touch.  nvme exports nothing we could compare
 * against, so the driver is recognised by what the driver core keeps
 * unique: its name on the PCI bus and the name of the module it comes from
 * (KBUILD_MODNAME, set built in or not).  The caller holds the device
 * lock, so the binding cannot change under us.
 */
static bool p2pmem_nvme_bound_to_nvme(struct pci_dev *pdev)
{
	struct device_driver *drv = pdev->dev.driver;

	device_lock_assert(&pdev->dev);
	return drv && drv->bus == &pci_bus_type && !strcmp(drv->name, "nvme") &&
	       drv->mod_name && !strcmp(drv->mod_name, "nvme");
}

static bool p2pmem_nvme_decodes(struct pci_dev *pdev)
{
	u16 cmd;

	return !pci_read_config_word(pdev, PCI_COMMAND, &cmd) &&
	       (cmd & PCI_COMMAND_MEMORY);
}

/*
 * Find the CMB and check it against the spec and the BAR it names before
 * anything is programmed (p2pmem_cmb_decode()).  With CAP.CMBS (@cmbs)
 * CMBLOC and CMBSZ read as 0 until CMBMSC.CRE is set, so CRE is set first;
 * if the CMB turns out unusable, CMBMSC gets back the value it had
 * (@cmbmsc, also for the caller to restore).  CMBMSC is written high half
 * first, as the nvme driver does: CRE and CMSE live in the low half, which
 * must not take effect with a stale address in the high one.  Returns 0
 * and fills @cmb, or -ENODEV when the controller has no CMB fit for data.
 */
static int p2pmem_nvme_find_cmb(struct pci_dev *pdev, void __iomem *regs,
				bool cmbs, struct p2pmem_cmb *cmb, u64 *cmbmsc)
{
	enum p2pmem_cmb_verdict v;
	u64 bar_len[P2PMEM_CMB_NR_BARS];
	u32 cmbsz, cmbloc;
	int i;

	*cmbmsc = lo_hi_readq(regs + P2PMEM_NVME_CMBMSC);
	if (cmbs && !(*cmbmsc & P2PMEM_NVME_CMBMSC_CRE))
		hi_lo_writeq(P2PMEM_NVME_CMBMSC_CRE, regs + P2PMEM_NVME_CMBMSC);
	cmbsz = readl(regs + P2PMEM_NVME_CMBSZ);
	cmbloc = readl(regs + P2PMEM_NVME_CMBLOC);
	for (i = 0; i < P2PMEM_CMB_NR_BARS; i++)
		bar_len[i] = pci_resource_flags(pdev, i) & IORESOURCE_MEM ?
			     pci_resource_len(pdev, i) : 0;
	v = p2pmem_cmb_decode(cmbsz, cmbloc, bar_len, cmb);
	if (v != P2PMEM_CMB_OK) {
		if (v != P2PMEM_CMB_NONE)
			pci_info_ratelimited(pdev, "not using the NVMe CMB: %s (CMBSZ 0x%x, CMBLOC 0x%x)\n",
					     p2pmem_cmb_why(v), cmbsz, cmbloc);
		if (cmbs)
			hi_lo_writeq(*cmbmsc, regs + P2PMEM_NVME_CMBMSC);
		return -ENODEV;
	}
	if (cmb->clamped)
		pci_info(pdev, "the NVMe CMB (CMBSZ 0x%x, CMBLOC 0x%x) runs past the end of BAR %d: using its first 0x%llx bytes\n",
			 cmbsz, cmbloc, cmb->bar, cmb->size);
	if (cmbs)
		hi_lo_writeq(P2PMEM_NVME_CMBMSC_CRE | P2PMEM_NVME_CMBMSC_CMSE |
			     ((pci_bus_address(pdev, cmb->bar) + cmb->offset) &
			      P2PMEM_NVME_CMBMSC_CBA),
			     regs + P2PMEM_NVME_CMBMSC);
	return 0;
}

/*
 * Register @pdev's CMB if it has one fit for data.  Called with the PCI
 * device lock held.  Returns NULL when there is no CMB to register (or it
 * is not ours), ERR_PTR(-EAGAIN) when the controller is not ready yet (ask
 * again later).
 */
static struct p2pmem_dev *p2pmem_nvme_cmb(struct pci_dev *pdev)
{
	struct p2pmem_dev *p2p;
	struct p2pmem_cmb cmb;
	void __iomem *regs;
	u64 cmbmsc;
	bool cmbs;
	u32 csts;

	device_lock_assert(&pdev->dev);
	if (!p2pmem_is_nvme(pdev) || !pdev->dev.driver)
		return NULL;
	if (!p2pmem_nvme_bound_to_nvme(pdev)) {
		pci_info(pdev, "not touching the CMB of an NVMe controller bound to %s\n",
			 pdev->dev.driver->name);
		return NULL;
	}
	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 0) < P2PMEM_NVME_REGS_LEN)
		return NULL;
	/*
	 * On 5.10 and 6.1 the nvme driver brings a new controller up from its
	 * reset work, after probe has returned.  Until the controller is
	 * ready, BAR 0 may not decode yet, and the reset that is part of
	 * bringing it up clears CMBMSC: look only once CSTS.RDY is set.
	 */
	if (!pci_is_enabled(pdev) || !p2pmem_nvme_decodes(pdev))
		return ERR_PTR(-EAGAIN);
	regs = pci_iomap_range(pdev, 0, 0, P2PMEM_NVME_REGS_LEN);
	if (!regs)
		return NULL;
	csts = readl(regs + P2PMEM_NVME_CSTS);
	if (csts == ~0U || !(csts & P2PMEM_NVME_CSTS_RDY)) {
		pci_iounmap(pdev, regs);
		return ERR_PTR(-EAGAIN);
	}
	cmbs = lo_hi_readq(regs + P2PMEM_NVME_CAP) & P2PMEM_NVME_CAP_CMBS;
	if (p2pmem_nvme_find_cmb(pdev, regs, cmbs, &cmb, &cmbmsc)) {
		pci_iounmap(pdev, regs);
		return NULL;
	}
	/* Never 0 here, which p2pmem_register() takes as the whole BAR. */
	p2p = p2pmem_register(pdev, cmb.bar, cmb.size, cmb.offset, "nvme-cmb");
	if (IS_ERR(p2p) && cmbs)
		hi_lo_writeq(cmbmsc, regs + P2PMEM_NVME_CMBMSC);
	pci_iounmap(pdev, regs);
	return p2p;
}

/*
 * Only where p2pmem_register() uses the native backend: with the p2pdma
 * core the nvme driver registers its CMB itself (p2pmem_adopt_finder).
 */
static bool p2pmem_nvme_finder_enabled(void)
{
	return nvme_cmb && p2pmem_core_native();
}

const struct p2pmem_finder p2pmem_nvme_finder = {
	.enabled = p2pmem_nvme_finder_enabled,
	.find = p2pmem_nvme_cmb,
};
