/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decoding an NVMe controller's CMBSZ and CMBLOC registers (NVMe 1.4,
 * 3.1.11 and 3.1.12) into a range of one BAR.  Pure logic, no register
 * access: p2pmem/nvme.c runs it on the controller's values,
 * tests/src/nvme_cmb_test.c on the host (it defines u32, u64 and bool).
 */
#ifndef _P2PMEM_NVME_CMB_H
#define _P2PMEM_NVME_CMB_H

#ifdef __KERNEL__
#include <linux/types.h>
#endif

#define P2PMEM_CMBSZ_RDS		(1U << 3)
#define P2PMEM_CMBSZ_WDS		(1U << 4)
#define P2PMEM_CMBSZ_SZU(cmbsz)		(((cmbsz) >> 8) & 0xf)
#define P2PMEM_CMBSZ_SZ(cmbsz)		((cmbsz) >> 12)
#define P2PMEM_CMBLOC_BIR(cmbloc)	((cmbloc) & 0x7)
#define P2PMEM_CMBLOC_OFST(cmbloc)	((cmbloc) >> 12)
#define P2PMEM_CMB_NR_BARS		6

enum p2pmem_cmb_verdict {
	P2PMEM_CMB_OK,
	P2PMEM_CMB_NONE,	/* CMBSZ is 0: no CMB (or CMBMSC.CRE clear) */
	P2PMEM_CMB_NO_DATA,	/* RDS or WDS clear: no read or write data */
};

struct p2pmem_cmb {
	int bar;
	u64 offset;
	u64 size;
	bool clamped;
};

/**
 * p2pmem_cmb_decode() - where a controller's CMB is, if it is usable
 * @cmbsz:   the CMBSZ register
 * @cmbloc:  the CMBLOC register
 * @bar_len: the length of each BAR of the function, 0 for one that is not
 *           a memory BAR
 * @cmb:     filled in on P2PMEM_CMB_OK
 *
 * Return: P2PMEM_CMB_OK, or why the CMB is not to be used.
 */
static inline enum p2pmem_cmb_verdict
p2pmem_cmb_decode(u32 cmbsz, u32 cmbloc, const u64 *bar_len,
		  struct p2pmem_cmb *cmb)
{
	const u32 data = P2PMEM_CMBSZ_RDS | P2PMEM_CMBSZ_WDS;
	u64 unit;

	if (!cmbsz)
		return P2PMEM_CMB_NONE;
	if ((cmbsz & data) != data)
		return P2PMEM_CMB_NO_DATA;
	unit = 1ULL << (12 + 4 * P2PMEM_CMBSZ_SZU(cmbsz));
	cmb->size = (u64)P2PMEM_CMBSZ_SZ(cmbsz) * unit;
	cmb->offset = (u64)P2PMEM_CMBLOC_OFST(cmbloc) * unit;
	cmb->bar = P2PMEM_CMBLOC_BIR(cmbloc);
	cmb->clamped = false;
	return P2PMEM_CMB_OK;
}

static inline const char *p2pmem_cmb_why(enum p2pmem_cmb_verdict v)
{
	switch (v) {
	case P2PMEM_CMB_OK:
		return "usable";
	case P2PMEM_CMB_NONE:
		return "no CMB";
	case P2PMEM_CMB_NO_DATA:
		return "the CMB cannot hold read and write data";
	}
	return "unknown";
}

#endif /* _P2PMEM_NVME_CMB_H */
