/*
 * slpt.h - VT-d second-level page tables (Intel VT-d specification 3.6
 * "Second-Level Translation", 9.8 "Second-Level Paging Entries") that
 * identity-map L1's memory for DMA.
 *
 * A leaf is read/write (bits 0 and 1), bit 7 marks a 2 MiB or 1 GiB
 * super-page leaf; nothing else is set.  Tables come from the page
 * allocator; addresses are identity, as in mm/ept.c.
 */
#ifndef MICROHV_DRIVERS_VTD_SLPT_H
#define MICROHV_DRIVERS_VTD_SLPT_H

#include "mm/memmap.h"
#include "mm/page_alloc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLPT_READ (1ull << 0)
#define SLPT_WRITE (1ull << 1)
#define SLPT_PS (1ull << 7)

struct slpt_options {
	unsigned levels; /* 3 (39-bit AGAW), 4 (48-bit) or 5 (57-bit): CAP.SAGAW */
	bool page_2m;	 /* CAP.SLLPS bit 0 */
	bool page_1g;	 /* CAP.SLLPS bit 1 */
};

struct slpt_stats {
	uint64_t leaves_1g, leaves_2m, leaves_4k;
	uint64_t table_pages; /* the top table included */
};

/*
 * Builds second-level tables that map [0, top) identity, read/write, with
 * the largest leaves opt allows, except the pages of holes[0..nholes)
 * (L0's memory, the VT-d structures, the units' registers, pages L0
 * emulates; rounded outward to 4 KiB), which stay unmapped; and then maps
 * every page of must_map[0..nmust) (the RMRRs, rounded outward to 4 KiB)
 * even where it lies in a hole or at or above top, unless it meets
 * never[0..nnever) (L0's own memory: an RMRR over it is refused, below).
 * Every table page the builder takes lies inside a hole (the allocator's
 * region is L0's), so the structures never map themselves.
 *
 * Returns the top table's physical address, or 0 when top or an RMRR is
 * beyond the address width of opt->levels (or levels is not 3, 4 or 5),
 * when an RMRR meets never[], when pa runs out of pages, or when a page pa
 * gives would be mapped by the tables themselves (the builder checks the
 * rule above rather than trust it): then every page taken has been given
 * back.  st (may be NULL) gets the counts, all zero on failure.
 */
uint64_t slpt_build_identity(struct page_alloc *pa, uint64_t top, const struct mem_range *holes,
			     size_t nholes, const struct mem_range *must_map, size_t nmust,
			     const struct mem_range *never, size_t nnever,
			     const struct slpt_options *opt, struct slpt_stats *st);

/*
 * The leaf rights (SLPT_READ | SLPT_WRITE, or 0 when unmapped) of addr's
 * page: the rights of every entry on the walk ANDed (VT-d 3.6); 0 at or
 * above the address width of levels.
 */
unsigned slpt_rights(uint64_t top_table, unsigned levels, uint64_t addr);

/* Gives every table page under top_table (levels deep) back to pa; 0: nothing. */
void slpt_destroy(struct page_alloc *pa, uint64_t top_table, unsigned levels);

#endif
