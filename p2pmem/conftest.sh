#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Probe the target kernel's API and write a header of P2PMEM_HAVE_* macros.
# Every probe is a tiny GPL translation unit compiled by the target's own
# kbuild (so with its compiler and flags); a probe that compiles means "yes".
# All probes go through one kbuild run with -k, which keeps this to a few
# seconds.  Usage: conftest.sh KDIR OUTPUT [extra make arguments]
#
# A probe that fails must mean "this kernel lacks it", never "the probe could
# not be built": the caller's make flags (W=1, C=1, KCFLAGS=-Werror...) are
# kept away from the probes (the top Makefile passes only the compiler
# choice on), every probe is warning-free even under W=1 and -Werror, and
# a canary probe that any kernel tree must compile fails the whole build
# when it does not.
set -eu
unset MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS MAKELEVEL \
	W C KCFLAGS KCPPFLAGS KAFLAGS KBUILD_EXTRA_WARN CFLAGS_MODULE || true
kdir=$1
out=$2
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/p2pmem-conftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

probes=""
probe() {
	name=$1
	body=$2
	probes="$probes $name"
	cat > "$tmp/$name.c" <<PROBE
#include <linux/module.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/memremap.h>
#include <linux/pci.h>
MODULE_LICENSE("GPL");
$body
PROBE
}

# Must compile on every kernel tree; see the top.
probe CANARY '
static __used int probe(void) { return 0; }'

# 6.3: vma->vm_flags became const; changes go through vm_flags_set().
probe VM_FLAGS_SET '
static __used void probe(struct vm_area_struct *v) { vm_flags_set(v, VM_MIXEDMAP); }'

# 6.15: page->pgmap moved to the folio, read with page_pgmap().
probe PAGE_PGMAP '
static __used struct dev_pagemap *probe(struct page *p) { return page_pgmap(p); }'

# 6.15: dev_pagemap_ops.page_free became folio_free.
probe PGMAP_FOLIO_FREE '
static void f(struct folio *f) { }
static const __used struct dev_pagemap_ops probe = { .folio_free = f };'

# 5.17: dev_pagemap.ref became an embedded percpu_ref.
probe PGMAP_REF_EMBEDDED '
static __used void probe(struct dev_pagemap *p) { percpu_ref_get(&p->ref); }'

# 6.15: get_dev_pagemap() takes only the pfn.
probe GET_DEV_PAGEMAP_PFN_ONLY '
static __used struct dev_pagemap *probe(unsigned long pfn) { return get_dev_pagemap(pfn); }'

# 6.3: struct bus_type's uevent() takes a const struct device.  Probed
# both ways: exactly one may compile (checked in p2pmem/compat.h).
probe BUS_UEVENT_CONST '
static int u(const struct device *d, struct kobj_uevent_env *e) { return 0; }
static __used struct bus_type probe = { .uevent = u };'
probe BUS_UEVENT_NONCONST '
static int u(struct device *d, struct kobj_uevent_env *e) { return 0; }
static __used struct bus_type probe = { .uevent = u };'

# 6.14: class_compat_create_link() and class_compat_remove_link() lost
# their "device_link" argument.  Both ways, as above.
probe CLASS_COMPAT_LINK_DEVICE_ARG '
static __used int probe(struct class_compat *c, struct device *d)
{
	class_compat_remove_link(c, d, NULL);
	return class_compat_create_link(c, d, NULL);
}'
probe CLASS_COMPAT_LINK_NO_DEVICE_ARG '
static __used int probe(struct class_compat *c, struct device *d)
{
	class_compat_remove_link(c, d);
	return class_compat_create_link(c, d);
}'

# 6.1: zone_device_page_init(), whatever its arguments.  One of the two
# marks of the mm's page-free rules; see p2pmem/compat.h.
probe ZONE_DEVICE_PAGE_INIT '
static __used void *probe(void) { return (void *)zone_device_page_init; }'

# 5.10 to 6.12 (pfn_t and devmap PMDs went around 6.16): a PMD of device
# pages through vmf_insert_pfn_pmd() with a PFN_DEV|PFN_MAP pfn_t.
probe PFN_T_PMD '
#include <linux/huge_mm.h>
#include <linux/pfn_t.h>
static __used vm_fault_t probe(struct vm_fault *v, phys_addr_t a)
{
	pfn_t p = phys_to_pfn_t(a, PFN_DEV | PFN_MAP);

	return pfn_t_devmap(p) ? vmf_insert_pfn_pmd(v, p, true) : 0;
}'

# 6.5 (pte_offset_map() may fail): the mm's page-table walkers check for a
# leaf PMD, devmap ones included, before they take a PMD for a page table.
# Before, MADV_COLD/MADV_PAGEOUT's walker clears a devmap PMD as "bad"
# (5.10, 6.1: pmd_trans_unstable() knows only pmd_trans_huge()).
probe PTE_OFFSET_MAP_CAN_FAIL '
static __used void *probe = __pte_offset_map;'

# The header itself, so that a PFN_T_PMD probe failing where pfn_t exists
# stops the build (compat.h) instead of quietly losing 2 MiB mappings.
probe PFN_T_HEADER '
#include <linux/pfn_t.h>
static __used pfn_t probe;'

# Before 6.6: vm_operations_struct.huge_fault takes an enum page_entry_size;
# from 6.6 an unsigned int order.  Probed both ways (compat.h).
probe HUGE_FAULT_PE_SIZE '
static vm_fault_t f(struct vm_fault *v, enum page_entry_size s) { return 0; }
static const __used struct vm_operations_struct probe = { .huge_fault = f };'
# GCC takes that enum as compatible with unsigned int, so the order probe
# also declares the enum: that compiles only where the kernel has none.
probe HUGE_FAULT_ORDER '
enum page_entry_size { p2pmem_probe_no_pe_size };
static vm_fault_t f(struct vm_fault *v, unsigned int order) { return 0; }
static const __used struct vm_operations_struct probe = { .huge_fault = f };'

objs=""
for p in $probes; do objs="$objs $p.o"; done
echo "obj-m := $objs" > "$tmp/Kbuild"
# Failing probes are expected; their compiler output is noise, unless even
# the canary failed.
make -C "$kdir" M="$tmp" -k "$@" $objs >"$tmp/log" 2>&1 || true
if [ ! -s "$tmp/CANARY.o" ]; then
	echo "p2pmem: cannot build even a trivial module against $kdir; not guessing what it has:" >&2
	tail -n 20 "$tmp/log" >&2
	exit 1
fi

{
	echo "/* Generated by p2pmem/conftest.sh for $kdir; do not edit. */"
	for p in $probes; do
		if [ -s "$tmp/$p.o" ]; then
			echo "#define P2PMEM_HAVE_$p 1"
		else
			echo "/* #undef P2PMEM_HAVE_$p */"
		fi
	done
} > "$out.tmp"
mv "$out.tmp" "$out"
