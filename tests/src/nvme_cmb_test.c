// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side test of the NVMe CMB decoder the module uses
 * (p2pmem/nvme_cmb.h) on the spec's edge cases: CMBSZ and CMBLOC values a
 * controller may present, against a function's BAR lengths.  One TAP line
 * per check ("ok - ..." / "not ok - ..."); tests/run numbers them.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint32_t u32;
typedef uint64_t u64;

#include "../../p2pmem/nvme_cmb.h"
#include "tap.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

#define RDS_WDS (P2PMEM_CMBSZ_RDS | P2PMEM_CMBSZ_WDS)
/* CMBSZ from SZ, SZU and its flags; CMBLOC from OFST and BIR. */
#define CMBSZ(sz, szu, flags) ((u32)(sz) << 12 | (u32)(szu) << 8 | (flags))
#define CMBLOC(ofst, bir) ((u32)(ofst) << 12 | (u32)(bir))

/* BAR 0 16 KiB of registers, BAR 2 64 MiB (64-bit, so BAR 3 is empty). */
static const u64 qemu_bars[P2PMEM_CMB_NR_BARS] = { 16 * KiB, 0, 64 * MiB };

/* The CMB must be refused, for the reason @why. */
static void refused(const char *what, u32 cmbsz, u32 cmbloc, const u64 *bars,
		    const char *why)
{
	struct p2pmem_cmb cmb = { 0 };
	enum p2pmem_cmb_verdict v = p2pmem_cmb_decode(cmbsz, cmbloc, bars, &cmb);
	const char *got = p2pmem_cmb_why(v);

	tap(v != P2PMEM_CMB_OK && !strcmp(got, why),
	    "%s (CMBSZ 0x%08x, CMBLOC 0x%08x): refused, \"%s\"%s%s%s", what,
	    cmbsz, cmbloc, why, strcmp(got, why) ? " (got \"" : "",
	    strcmp(got, why) ? got : "", strcmp(got, why) ? "\")" : "");
	if (v == P2PMEM_CMB_OK)
		printf("# decoded anyway: BAR %d offset 0x%" PRIx64 " size 0x%" PRIx64 "\n",
		       cmb.bar, cmb.offset, cmb.size);
}

/* The CMB must decode to exactly @bar, @offset, @size (@clamped). */
static void decodes(const char *what, u32 cmbsz, u32 cmbloc, const u64 *bars,
		    int bar, u64 offset, u64 size, bool clamped)
{
	struct p2pmem_cmb cmb = { .bar = -1 };
	enum p2pmem_cmb_verdict v = p2pmem_cmb_decode(cmbsz, cmbloc, bars, &cmb);

	tap(v == P2PMEM_CMB_OK && cmb.bar == bar && cmb.offset == offset &&
	    cmb.size == size && cmb.clamped == clamped,
	    "%s (CMBSZ 0x%08x, CMBLOC 0x%08x): BAR %d offset 0x%" PRIx64
	    " size 0x%" PRIx64 "%s", what, cmbsz, cmbloc, bar, offset, size,
	    clamped ? ", clamped" : "");
	if (v != P2PMEM_CMB_OK)
		printf("# refused: %s\n", p2pmem_cmb_why(v));
	else if (cmb.bar != bar || cmb.offset != offset || cmb.size != size ||
		 cmb.clamped != clamped)
		printf("# got BAR %d offset 0x%" PRIx64 " size 0x%" PRIx64 "%s\n",
		       cmb.bar, cmb.offset, cmb.size,
		       cmb.clamped ? ", clamped" : "");
}

int main(void)
{
	u64 bars[P2PMEM_CMB_NR_BARS];
	char what[96];
	u32 szu, bir;

	decodes("QEMU's CMB (cmb_size_mb=64)", 0x0004021d, 0x62, qemu_bars,
		2, 0, 64 * MiB, false);
	refused("CMBSZ 0: no CMB", 0, 0x62, qemu_bars, "no CMB");

	/* CMBSZ.SZ 0 is a CMB of no size, never "to the end of the BAR". */
	refused("SZ 0 with RDS and WDS", CMBSZ(0, 2, RDS_WDS), CMBLOC(0, 2),
		qemu_bars, "CMBSZ.SZ is 0");
	refused("SZ 0, SZU 0, only flags", CMBSZ(0, 0, 0x1f), CMBLOC(0, 2),
		qemu_bars, "CMBSZ.SZ is 0");

	/* SZU 7h-Fh are reserved: 4 KiB * 16^SZU would not even fit. */
	for (szu = 7; szu <= 15; szu++) {
		snprintf(what, sizeof(what), "SZU %u (reserved)", szu);
		refused(what, CMBSZ(1, szu, RDS_WDS), CMBLOC(0, 2), qemu_bars,
			"CMBSZ.SZU is a reserved value");
	}
	refused("all ones (a controller that is gone)", 0xffffffff, 0xffffffff,
		qemu_bars, "CMBSZ.SZU is a reserved value");

	/* Every valid SZU: SZ 1 is one unit, 4 KiB * 16^SZU. */
	memset(bars, 0, sizeof(bars));
	bars[2] = 128 * GiB;
	for (szu = 0; szu <= 6; szu++) {
		snprintf(what, sizeof(what), "SZU %u: one unit is %llu KiB", szu,
			 (4ULL << (4 * szu)));
		decodes(what, CMBSZ(1, szu, RDS_WDS), CMBLOC(1, 2), bars, 2,
			4 * KiB << (4 * szu), 4 * KiB << (4 * szu), false);
	}

	/* BIR: 0h and 2h-5h name BARs; 1h, 6h and 7h are reserved. */
	for (bir = 0; bir < P2PMEM_CMB_NR_BARS; bir++)
		bars[bir] = 64 * MiB;
	refused("BIR 1 (reserved)", CMBSZ(16, 2, RDS_WDS), CMBLOC(16, 1), bars,
		"CMBLOC.BIR is a reserved value");
	refused("BIR 6 (reserved)", CMBSZ(16, 2, RDS_WDS), CMBLOC(16, 6), bars,
		"CMBLOC.BIR is a reserved value");
	refused("BIR 7 (reserved)", CMBSZ(16, 2, RDS_WDS), CMBLOC(16, 7), bars,
		"CMBLOC.BIR is a reserved value");
	for (bir = 2; bir <= 5; bir++) {
		snprintf(what, sizeof(what), "BIR %u", bir);
		decodes(what, CMBSZ(16, 2, RDS_WDS), CMBLOC(8, bir), bars, bir,
			8 * MiB, 16 * MiB, false);
	}
	decodes("BIR 0, past the registers", CMBSZ(16, 2, RDS_WDS),
		CMBLOC(16, 0), bars, 0, 16 * MiB, 16 * MiB, false);
	refused("BIR 0 at offset 0: over the registers", CMBSZ(16, 2, RDS_WDS),
		CMBLOC(0, 0), bars, "the CMB overlaps the registers in BAR 0");
	refused("BIR 0 at 4 KiB: over the doorbells", CMBSZ(16, 0, RDS_WDS),
		CMBLOC(1, 0), bars, "the CMB overlaps the registers in BAR 0");
	refused("BIR 3, the upper half of QEMU's 64-bit BAR 2",
		CMBSZ(16, 2, RDS_WDS), CMBLOC(0, 3), qemu_bars,
		"CMBLOC.BIR names no memory BAR");
	refused("BIR 4, a BAR the function does not have",
		CMBSZ(16, 2, RDS_WDS), CMBLOC(0, 4), qemu_bars,
		"CMBLOC.BIR names no memory BAR");

	/* RDS and WDS: p2pmem needs both. */
	refused("RDS only", CMBSZ(64, 2, P2PMEM_CMBSZ_RDS | 0x3), CMBLOC(0, 2),
		qemu_bars, "the CMB cannot hold read and write data");
	refused("WDS only", CMBSZ(64, 2, P2PMEM_CMBSZ_WDS | 0x3), CMBLOC(0, 2),
		qemu_bars, "the CMB cannot hold read and write data");

	/* Where the CMB meets the end of its BAR: clamped, or refused. */
	decodes("exactly the BAR", CMBSZ(64, 2, RDS_WDS), CMBLOC(0, 2),
		qemu_bars, 2, 0, 64 * MiB, false);
	decodes("twice the BAR: clamped to it", CMBSZ(128, 2, RDS_WDS),
		CMBLOC(0, 2), qemu_bars, 2, 0, 64 * MiB, true);
	decodes("from the middle, running past the end: clamped",
		CMBSZ(64, 2, RDS_WDS), CMBLOC(32, 2), qemu_bars, 2, 32 * MiB,
		32 * MiB, true);
	decodes("the BAR's last unit", CMBSZ(1, 2, RDS_WDS), CMBLOC(63, 2),
		qemu_bars, 2, 63 * MiB, 1 * MiB, false);
	refused("starting at the end of the BAR", CMBSZ(1, 2, RDS_WDS),
		CMBLOC(64, 2), qemu_bars,
		"CMBLOC.OFST lies past the end of the BAR");
	refused("starting past the end of the BAR", CMBSZ(1, 4, RDS_WDS),
		CMBLOC(1, 2), qemu_bars,
		"CMBLOC.OFST lies past the end of the BAR");

	/* The largest values the fields can hold: no overflow, no wrap. */
	bars[2] = 1ULL << 62;
	decodes("SZ and OFST at their maximum, SZU 6, a 4 EiB BAR",
		CMBSZ(0xfffff, 6, RDS_WDS), CMBLOC(0xfffff, 2), bars, 2,
		0xfffffULL << 36, 0xfffffULL << 36, false);
	bars[2] = TiB;
	decodes("SZ at its maximum, SZU 6, a 1 TiB BAR: clamped",
		CMBSZ(0xfffff, 6, RDS_WDS), CMBLOC(0, 2), bars, 2, 0, TiB, true);
	refused("OFST at its maximum, SZU 6, a 1 TiB BAR",
		CMBSZ(1, 6, RDS_WDS), CMBLOC(0xfffff, 2), bars,
		"CMBLOC.OFST lies past the end of the BAR");
	return failures ? 1 : 0;
}
