/*
 * idmap.h - the one walk that builds identity-mapping page tables, shared
 * by L1's EPT (mm/ept.c, SDM Vol. 3C 29.3.2) and the VT-d second-level
 * tables (drivers/vtd/slpt.c, VT-d specification 9.8).
 *
 * Both formats are 512 64-bit entries a 4 KiB table, 9 address bits a
 * level above a 4 KiB offset, a table's address in bits 51:12, bit 7
 * marking a 2 MiB or 1 GiB leaf, and an entry present when any of a few
 * low rights bits is set.  What differs - which rights, which memory
 * type, which ranges may be one leaf - is the caller's entry() callback.
 */
#ifndef MICROHV_MM_IDMAP_H
#define MICROHV_MM_IDMAP_H

#include "mm/memmap.h"
#include "mm/page_alloc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDMAP_ENTRIES 512
#define IDMAP_PS (1ull << 7)		      /* a PDPTE's or PDE's leaf bit, in both formats */
#define IDMAP_ADDR_MASK 0x000ffffffffff000ull /* a table's or page's address */
#define IDMAP_SPLIT (~0ull)		      /* entry(): this range needs a table */

/* Bytes one entry of a level's table maps: 4 KiB, 2 MiB, 1 GiB, 512 GiB, 256 TiB. */
static inline uint64_t idmap_entry_size(unsigned level)
{
	return PAGE_SIZE << (9 * (level - 1));
}

/* Bits 20:12 index level 1, 29:21 level 2, and so on up. */
static inline unsigned idmap_index(uint64_t a, unsigned level)
{
	return (unsigned)(a >> (PAGE_SHIFT + 9 * (level - 1))) & (IDMAP_ENTRIES - 1);
}

/* May a level-`level` entry be a leaf?  4 KiB always; 2 MiB, 1 GiB as offered. */
static inline bool idmap_leaf_ok(bool page_1g, bool page_2m, unsigned level)
{
	return level == 1 || (level == 2 && page_2m) || (level == 3 && page_1g);
}

/* Does a level-`level` entry e (present) map a page rather than a table? */
static inline bool idmap_is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || (level <= 3 && (e & IDMAP_PS));
}

/*
 * Range r as inclusive bounds rounded outward to 4 KiB; false for an empty
 * range.  A range that runs past 2^64 is clipped there.
 */
bool idmap_range_bounds(const struct mem_range *r, uint64_t *first, uint64_t *last);

/* Does any of r[0..n) meet [first, last]? */
bool idmap_ranges_meet(const struct mem_range *r, size_t n, uint64_t first, uint64_t last);

/* Do r[0..n) together cover [first, last]?  (any order, overlaps allowed) */
bool idmap_ranges_cover(const struct mem_range *r, size_t n, uint64_t first, uint64_t last);

struct idmap_build {
	struct page_alloc *pa;
	unsigned levels;     /* of the walk: 4 for EPT, 3 to 5 for VT-d */
	uint64_t present;    /* the rights bits: an entry with none is not present */
	uint64_t table_bits; /* a non-leaf entry: the child's address | table_bits */
	/*
	 * The entry for [a, a + idmap_entry_size(level)): 0 (not present), a
	 * leaf, or IDMAP_SPLIT for a table of its own (at level 1: 0).
	 */
	uint64_t (*entry)(void *ctx, uint64_t a, unsigned level);
	/* May page (about to become a table) be one?  NULL: any page may. */
	bool (*table_ok)(void *ctx, uint64_t page);
	void *ctx;
	/* Out: leaves by level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB), tables, the top one included. */
	uint64_t leaves[3];
	uint64_t table_pages;
};

/*
 * Builds the tables top-down from the address 0: each entry is what
 * b->entry() says, and a table below it where it says IDMAP_SPLIT.
 * Returns the top table's address, or 0 when b->pa runs out of pages or
 * b->table_ok refuses one: then every page taken has been given back and
 * the counts are zero.
 */
uint64_t idmap_build(struct idmap_build *b);

/* Gives the tables under root (a level-`levels` table) back to pa; 0: nothing. */
void idmap_destroy(struct page_alloc *pa, uint64_t root, unsigned levels, uint64_t present);

#endif
