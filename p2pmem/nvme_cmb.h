/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decoding an NVMe controller's CMBSZ and CMBLOC registers (NVMe 1.4,
 * 3.1.11 and 3.1.12) into a range of one BAR, and the checks that come
 * before anything is programmed.  Pure logic, no register access:
 * p2pmem/nvme.c runs it on the controller's values, tests/src/nvme_cmb_test.c
 * on the host on the spec's edge cases (it defines u32, u64 and bool).
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
/* SZU 0h-6h: 4 KiB, 64 KiB, 1 MiB, 16 MiB, 256 MiB, 4 GiB, 64 GiB. */
#define P2PMEM_CMBSZ_SZU_MAX		6
#define P2PMEM_CMB_NR_BARS		6
/*
 * A CMB in BAR 0 shares it with the registers (00h-FFFh) and the doorbells
 * (from 1000h): it may not start below 2000h.
 */
#define P2PMEM_CMB_BAR0_START		0x2000

enum p2pmem_cmb_verdict {
	P2PMEM_CMB_OK,
	P2PMEM_CMB_NONE,	/* CMBSZ is 0: no CMB (or CMBMSC.CRE clear) */
	P2PMEM_CMB_BAD_SZU,	/* SZU 7h-Fh: reserved */
	P2PMEM_CMB_ZERO_SZ,	/* SZ 0: a CMB of no size */
	P2PMEM_CMB_BAD_BIR,	/* BIR 1h, 6h, 7h: reserved */
	P2PMEM_CMB_NO_BAR,	/* BIR names no memory BAR of the function */
	P2PMEM_CMB_NO_DATA,	/* RDS or WDS clear: no read or write data */
	P2PMEM_CMB_OUTSIDE,	/* OFST at or past the end of the BAR */
	P2PMEM_CMB_OVER_REGS,	/* in BAR 0, over the registers or doorbells */
};

struct p2pmem_cmb {
	int bar;
	u64 offset;
	u64 size;	/* never 0, never past the end of the BAR */
	bool clamped;	/* CMBSZ said more than the BAR holds */
};

/**
 * p2pmem_cmb_decode() - where a controller's CMB is, if it is usable
 * @cmbsz:   the CMBSZ register
 * @cmbloc:  the CMBLOC register
 * @bar_len: the length of each BAR of the function, 0 for one that is not
 *           a memory BAR (as for the upper half of a 64-bit BAR)
 * @cmb:     filled in on P2PMEM_CMB_OK
 *
 * A CMB that starts inside its BAR but runs past its end is clamped to the
 * BAR (as the nvme driver does); one that starts at or past the end is
 * refused.  SZ and OFST are 20 bits and the unit is at most 2^36 bytes
 * once SZU is checked, so neither product can overflow.
 *
 * Return: P2PMEM_CMB_OK, or why the CMB is not to be used.
 */
static inline enum p2pmem_cmb_verdict
p2pmem_cmb_decode(u32 cmbsz, u32 cmbloc, const u64 *bar_len,
		  struct p2pmem_cmb *cmb)
{
	const u32 data = P2PMEM_CMBSZ_RDS | P2PMEM_CMBSZ_WDS;
	u32 szu = P2PMEM_CMBSZ_SZU(cmbsz);
	u32 bir = P2PMEM_CMBLOC_BIR(cmbloc);
	u64 unit, offset, size, len;

	if (!cmbsz)
		return P2PMEM_CMB_NONE;
	if (szu > P2PMEM_CMBSZ_SZU_MAX)
		return P2PMEM_CMB_BAD_SZU;
	if (!P2PMEM_CMBSZ_SZ(cmbsz))
		return P2PMEM_CMB_ZERO_SZ;
	if (bir == 1 || bir >= P2PMEM_CMB_NR_BARS)
		return P2PMEM_CMB_BAD_BIR;
	len = bar_len[bir];
	if (!len)
		return P2PMEM_CMB_NO_BAR;
	if ((cmbsz & data) != data)
		return P2PMEM_CMB_NO_DATA;
	unit = 1ULL << (12 + 4 * szu);
	offset = (u64)P2PMEM_CMBLOC_OFST(cmbloc) * unit;
	size = (u64)P2PMEM_CMBSZ_SZ(cmbsz) * unit;
	if (offset >= len)
		return P2PMEM_CMB_OUTSIDE;
	if (bir == 0 && offset < P2PMEM_CMB_BAR0_START)
		return P2PMEM_CMB_OVER_REGS;
	cmb->bar = bir;
	cmb->offset = offset;
	cmb->clamped = size > len - offset;
	cmb->size = cmb->clamped ? len - offset : size;
	return P2PMEM_CMB_OK;
}

static inline const char *p2pmem_cmb_why(enum p2pmem_cmb_verdict v)
{
	switch (v) {
	case P2PMEM_CMB_OK:
		return "usable";
	case P2PMEM_CMB_NONE:
		return "no CMB";
	case P2PMEM_CMB_BAD_SZU:
		return "CMBSZ.SZU is a reserved value";
	case P2PMEM_CMB_ZERO_SZ:
		return "CMBSZ.SZ is 0";
	case P2PMEM_CMB_BAD_BIR:
		return "CMBLOC.BIR is a reserved value";
	case P2PMEM_CMB_NO_BAR:
		return "CMBLOC.BIR names no memory BAR";
	case P2PMEM_CMB_NO_DATA:
		return "the CMB cannot hold read and write data";
	case P2PMEM_CMB_OUTSIDE:
		return "CMBLOC.OFST lies past the end of the BAR";
	case P2PMEM_CMB_OVER_REGS:
		return "the CMB overlaps the registers in BAR 0";
	}
	return "unknown";
}

#endif /* _P2PMEM_NVME_CMB_H */
