// SPDX-License-Identifier: GPL-2.0
/*
 * The bus watcher: p2p memory of devices that other drivers own.  On every
 * bind it asks the finders what p2p memory the device has; a finder
 * registers what it finds through the core and hands back the p2pmemN,
 * which the watcher removes again when the driver unbinds:
 *   - p2pmem_adopt_finder (p2pmem/adopt.c), on kernels with
 *     CONFIG_PCI_P2PDMA: memory drivers registered with the kernel's
 *     p2pdma core and published themselves (nvme does it for a CMB that
 *     supports data), served by the kernel backend (adopt=);
 *   - p2pmem_nvme_finder (p2pmem/nvme.c), on kernels without it: the nvme
 *     driver cannot register its CMB, so p2pmem registers it itself, native
 *     backend (nvme_cmb=).
 * Either way user space sees the same class, node and attributes whoever
 * owns the device.  Devices bound to a driver of this module (p2pmem/pci.c)
 * registered their memory themselves and are left alone.
 *
 * Devices are looked for at module load and whenever a driver finishes
 * binding (a PCI bus notifier).  An adopted p2pmemN goes away as soon as its
 * provider's driver starts to unbind, before that driver's devres takes
 * the memory down: our users lose their mappings first, and the kernel's
 * memunmap then waits only for I/O still in flight.
 *
 * A device that is bound but not ready yet (a hot-added NVMe controller is
 * brought up by the nvme driver's reset work, after probe returns) goes on the
 * retry list and is asked again every P2PMEM_RETRY_MS, up to
 * P2PMEM_RETRY_TRIES times, by one delayed work.  Every ask, at load, on
 * bind and from the work, runs under the device lock and looks afresh at
 * which driver the device is bound to: one rebound to another driver
 * between two tries is left alone (p2pmem_nvme_cmb()).
 *
 * Locks
 *   The provider's PCI device lock is held around adoption and removal of
 *     its memory (the bus notifier runs under it; the retry work and
 *     module exit take it): adoption and removal of one device are
 *     serialised by it.  Unregistration may wait for pins under it, as any
 *     driver's unbind does.
 *   adoptees_lock protects the adoptee list only.  It is taken from the
 *     notifier, which the driver core calls with the PCI device's lock
 *     held, and never the other way round.  It is never held across
 *     p2pmem_unregister(): that waits for every pin of the memory (an RDMA
 *     MR, a pipe) and may take forever, and every bind and unbind in the
 *     system passes through the notifier.
 *   retry_lock protects the retry list only and is never held while taking
 *     another lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#define dev_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "../p2pmem.h"
#include "internal.h"

/* Asked in this order; the first that finds memory wins. */
static const struct p2pmem_finder *const p2pmem_finders[] = {
	&p2pmem_adopt_finder,
	&p2pmem_nvme_finder,
};

struct p2pmem_adoptee {
	struct list_head node;
	struct pci_dev *pdev;
	struct p2pmem_dev *p2p;
};

static LIST_HEAD(p2pmem_adoptees);
static DEFINE_MUTEX(p2pmem_adoptees_lock);
/* Set under adoptees_lock when the module goes: nothing new is adopted. */
static bool p2pmem_adopt_exiting;

#define P2PMEM_RETRY_MS		100
#define P2PMEM_RETRY_TRIES	100

struct p2pmem_retry {
	struct list_head node;
	struct pci_dev *pdev;
	int tries;
};

static LIST_HEAD(p2pmem_retries);
static DEFINE_MUTEX(p2pmem_retry_lock);
static void p2pmem_retry_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(p2pmem_retry_work, p2pmem_retry_work_fn);

static struct p2pmem_adoptee *p2pmem_adoptee_find(struct pci_dev *pdev)
{
	struct p2pmem_adoptee *a;

	lockdep_assert_held(&p2pmem_adoptees_lock);
	list_for_each_entry(a, &p2pmem_adoptees, node)
		if (a->pdev == pdev)
			return a;
	return NULL;
}

static bool p2pmem_adopt_enabled(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(p2pmem_finders); i++)
		if (p2pmem_finders[i]->enabled())
			return true;
	return false;
}

/*
 * What the finders say @pdev has: the first p2pmemN one registered, NULL
 * if none found anything, or the first error.
 */
static struct p2pmem_dev *p2pmem_adopt_find(struct pci_dev *pdev)
{
	struct p2pmem_dev *p2p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(p2pmem_finders); i++) {
		if (!p2pmem_finders[i]->enabled())
			continue;
		p2p = p2pmem_finders[i]->find(pdev);
		if (p2p)
			return p2p;
	}
	return NULL;
}

/*
 * Bound to a driver of this module (p2pmem/pci.c): that driver registered
 * the device's memory itself.
 */
#ifndef MODULE
#error "p2pmem is built as a module only: built in, THIS_MODULE would be NULL, the owner of every built-in driver (see p2pmem_adopt_own_driver())"
#endif
static bool p2pmem_adopt_own_driver(struct pci_dev *pdev)
{
	return pdev->dev.driver->owner == THIS_MODULE;
}

/* Already adopted, or the module is going: leave @pdev alone. */
static bool p2pmem_adoptee_known(struct pci_dev *pdev)
{
	bool known;

	mutex_lock(&p2pmem_adoptees_lock);
	known = p2pmem_adopt_exiting || p2pmem_adoptee_find(pdev);
	mutex_unlock(&p2pmem_adoptees_lock);
	return known;
}

/* Off the list already: this may wait for pins, with no lock held. */
static void p2pmem_adoptee_drop(struct p2pmem_adoptee *a)
{
	p2pmem_unregister(a->p2p);
	pci_dev_put(a->pdev);
	kfree(a);
}

/*
 * Returns -EAGAIN when @pdev should be asked again later.  The device lock
 * keeps its driver bound, and its adoptee state unchanged, meanwhile.
 */
static int p2pmem_adopt_one(struct pci_dev *pdev)
{
	struct p2pmem_adoptee *a;
	struct p2pmem_dev *p2p;
	bool exiting;
	int ret;

	device_lock_assert(&pdev->dev);
	if (!pdev->dev.driver || p2pmem_adopt_own_driver(pdev) ||
	    p2pmem_adoptee_known(pdev))
		return 0;

	/* Before the node exists: nobody can pin what we never publish. */
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return 0;
	p2p = p2pmem_adopt_find(pdev);
	if (IS_ERR_OR_NULL(p2p)) {
		kfree(a);
		ret = PTR_ERR_OR_ZERO(p2p);
		return ret == -EAGAIN ? -EAGAIN : 0;
	}
	a->p2p = p2p;
	a->pdev = pci_dev_get(pdev);
	mutex_lock(&p2pmem_adoptees_lock);
	exiting = p2pmem_adopt_exiting;
	if (!exiting)
		list_add(&a->node, &p2pmem_adoptees);
	mutex_unlock(&p2pmem_adoptees_lock);
	/* Module exit has drained the list already: undo it here. */
	if (exiting)
		p2pmem_adoptee_drop(a);
	return 0;
}

static void p2pmem_retry_add(struct pci_dev *pdev)
{
	struct p2pmem_retry *r;

	mutex_lock(&p2pmem_retry_lock);
	list_for_each_entry(r, &p2pmem_retries, node)
		if (r->pdev == pdev)
			goto out;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		goto out;
	r->pdev = pci_dev_get(pdev);
	list_add_tail(&r->node, &p2pmem_retries);
	mod_delayed_work(system_wq, &p2pmem_retry_work,
			 msecs_to_jiffies(P2PMEM_RETRY_MS));
out:
	mutex_unlock(&p2pmem_retry_lock);
}

static void p2pmem_retry_free(struct p2pmem_retry *r)
{
	list_del(&r->node);
	pci_dev_put(r->pdev);
	kfree(r);
}

/* Ask each waiting device again, without holding retry_lock meanwhile. */
static void p2pmem_retry_work_fn(struct work_struct *work)
{
	struct p2pmem_retry *r, *tmp;
	LIST_HEAD(batch);
	bool again;

	mutex_lock(&p2pmem_retry_lock);
	list_splice_init(&p2pmem_retries, &batch);
	mutex_unlock(&p2pmem_retry_lock);

	list_for_each_entry_safe(r, tmp, &batch, node) {
		device_lock(&r->pdev->dev);
		again = p2pmem_adopt_one(r->pdev) == -EAGAIN;
		device_unlock(&r->pdev->dev);
		if (again && ++r->tries < P2PMEM_RETRY_TRIES)
			continue;
		if (again)
			pci_info(r->pdev, "gave up waiting for the controller to become ready\n");
		p2pmem_retry_free(r);
	}

	mutex_lock(&p2pmem_retry_lock);
	list_splice(&batch, &p2pmem_retries);
	if (!list_empty(&p2pmem_retries))
		mod_delayed_work(system_wq, &p2pmem_retry_work,
				 msecs_to_jiffies(P2PMEM_RETRY_MS));
	mutex_unlock(&p2pmem_retry_lock);
}

static void p2pmem_adopt_or_retry(struct pci_dev *pdev)
{
	if (p2pmem_adopt_one(pdev) == -EAGAIN)
		p2pmem_retry_add(pdev);
}

static void p2pmem_unadopt_one(struct pci_dev *pdev)
{
	struct p2pmem_adoptee *a;

	device_lock_assert(&pdev->dev);
	mutex_lock(&p2pmem_adoptees_lock);
	a = p2pmem_adoptee_find(pdev);
	if (a)
		list_del(&a->node);
	mutex_unlock(&p2pmem_adoptees_lock);
	if (a)
		p2pmem_adoptee_drop(a);
}

/*
 * The provider's driver is about to unbind.  Normally the memory goes now,
 * waiting for pins while the driver still works, so that I/O it has in
 * flight completes.  A device that is gone (surprise removal) completes
 * nothing: the driver's I/O to it ends only when its remove() cancels it,
 * which runs after this.  Then only revoke here (no new mappings or
 * pages) and do the wait once the driver has unbound.  Memory in a shared
 * pool is not waited for by us at all (see p2pmem_unregister()).
 */
static void p2pmem_unadopt_or_revoke(struct pci_dev *pdev)
{
	struct p2pmem_adoptee *a;

	device_lock_assert(&pdev->dev);
	if (pci_channel_offline(pdev)) {
		mutex_lock(&p2pmem_adoptees_lock);
		a = p2pmem_adoptee_find(pdev);
		mutex_unlock(&p2pmem_adoptees_lock);
		/* Only this device's unbind or exit, under its lock, frees @a. */
		if (a && !a->p2p->backend->shared_pool) {
			p2pmem_revoke(a->p2p);
			return;
		}
	}
	p2pmem_unadopt_one(pdev);
}

static int p2pmem_adopt_notify(struct notifier_block *nb, unsigned long action,
			       void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	switch (action) {
	case BUS_NOTIFY_BOUND_DRIVER:
		p2pmem_adopt_or_retry(pdev);
		break;
	case BUS_NOTIFY_UNBIND_DRIVER:
		p2pmem_unadopt_or_revoke(pdev);
		break;
	case BUS_NOTIFY_UNBOUND_DRIVER:
		p2pmem_unadopt_one(pdev);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block p2pmem_adopt_nb = {
	.notifier_call = p2pmem_adopt_notify,
};

int p2pmem_watch_init(void)
{
	struct pci_dev *pdev = NULL;
	int ret;

	if (!p2pmem_adopt_enabled())
		return 0;
	/* Notifier first, so no device can bind unseen between the two. */
	ret = bus_register_notifier(&pci_bus_type, &p2pmem_adopt_nb);
	if (ret)
		return ret;
	for_each_pci_dev(pdev) {
		device_lock(&pdev->dev);
		p2pmem_adopt_or_retry(pdev);
		device_unlock(&pdev->dev);
	}
	return 0;
}

/*
 * Each adoptee goes under its device's lock, through the same path as an
 * unbind, while the notifier is still registered: an unbind racing this
 * then either finds the memory gone or removes it itself, first, as the
 * provider's devres needs (it would wait on our pages otherwise).
 * "exiting" stops new adoptions; the notifier goes only once the list is
 * empty.
 */
void p2pmem_watch_exit(void)
{
	struct p2pmem_adoptee *a;
	struct pci_dev *pdev;

	if (!p2pmem_adopt_enabled())
		return;
	mutex_lock(&p2pmem_adoptees_lock);
	p2pmem_adopt_exiting = true;
	mutex_unlock(&p2pmem_adoptees_lock);
	for (;;) {
		mutex_lock(&p2pmem_adoptees_lock);
		a = list_first_entry_or_null(&p2pmem_adoptees,
					     struct p2pmem_adoptee, node);
		pdev = a ? pci_dev_get(a->pdev) : NULL;
		mutex_unlock(&p2pmem_adoptees_lock);
		if (!pdev)
			break;
		device_lock(&pdev->dev);
		p2pmem_unadopt_one(pdev);
		device_unlock(&pdev->dev);
		pci_dev_put(pdev);
	}
	bus_unregister_notifier(&pci_bus_type, &p2pmem_adopt_nb);
	/* Nothing queues the work any more but the work itself. */
	cancel_delayed_work_sync(&p2pmem_retry_work);
	while (!list_empty(&p2pmem_retries))
		p2pmem_retry_free(list_first_entry(&p2pmem_retries,
						   struct p2pmem_retry, node));
}
