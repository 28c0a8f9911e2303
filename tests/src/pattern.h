/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A reproducible byte pattern shared by the host tools and the guest tests:
 * the 8-byte word at absolute offset "off" of a stream seeded "seed" is
 * pat_word(seed, off).  Any offset can be checked without the rest, so the
 * host can check a few MiB of a disk image or BAR backing file in place.
 */
#ifndef P2PMEM_TEST_PATTERN_H
#define P2PMEM_TEST_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t pat_word(uint64_t seed, uint64_t off)
{
	uint64_t x = (off >> 3) + seed * 0x9e3779b97f4a7c15ull + 1;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* Fill @len bytes (a multiple of 8) as the stream's bytes at @off. */
static inline void pat_fill(void *buf, size_t len, uint64_t seed, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = pat_word(seed, off + i);

		memcpy((char *)buf + i, &w, 8);
	}
}

/* Return the first mismatching byte index, or -1 if all @len bytes match. */
static inline long pat_check(const void *buf, size_t len, uint64_t seed,
			     uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = pat_word(seed, off + i), v;

		memcpy(&v, (const char *)buf + i, 8);
		if (v != w)
			return (long)i;
	}
	return -1;
}

#endif
