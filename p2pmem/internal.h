/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared between the units of p2pmem.ko; not an API. */
#ifndef _P2PMEM_INTERNAL_H
#define _P2PMEM_INTERNAL_H

#ifndef P2PMEM_VERSION
#define P2PMEM_VERSION "0.1.0"
#endif

/* p2pmem/pci.c: the module's own PCI driver provider. */
int p2pmem_pci_init(void);
void p2pmem_pci_exit(void);

#endif /* _P2PMEM_INTERNAL_H */
