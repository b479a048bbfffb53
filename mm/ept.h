/*
 * ept.h - the identity EPT that L1 runs under (SDM Vol. 3C 29.3 "The
 * Extended Page Table Mechanism").
 *
 * L1 (the firmware, then the OS it boots) sees guest-physical = host-
 * physical for all of memory except the hypervisor's own pages, which are
 * simply not mapped: any L1 access to them is an EPT violation.  Every
 * leaf is read/write/execute (but L1's xAPIC page, read-only) and carries
 * the MTRR type of its range, because with EPT the leaf's type replaces
 * the MTRR type (29.3.7.2): at first the firmware's, then those of L1's
 * MTRR writes (ept_retype, vmx/ept01.h).
 * Tables come from the page allocator; addresses are identity, as in
 * arch/x86/paging.c.
 */
#ifndef MICROHV_MM_EPT_H
#define MICROHV_MM_EPT_H

#include "mm/memmap.h"
#include "mm/mtrr.h"
#include "mm/page_alloc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 4-level EPT maps guest-physical addresses below 2^48 (SDM Vol. 3C 29.3.2). */
#define EPT_MAX_TOP (1ull << 48)

struct ept_options {
	bool page_1g; /* IA32_VMX_EPT_VPID_CAP[17]: 1 GiB leaves in PDPTEs */
	bool page_2m; /* IA32_VMX_EPT_VPID_CAP[16]: 2 MiB leaves in PDEs */
};

struct ept_stats {
	uint64_t leaves_1g;
	uint64_t leaves_2m;
	uint64_t leaves_4k;
	uint64_t table_pages; /* PML4 included */
};

/*
 * Builds an identity EPT for [0, top) (top rounded up to 4 KiB), each leaf
 * read/write/execute with memory type mtrr_type_of_range(m, leaf) and
 * "ignore PAT" clear, using the largest leaf that opt allows whose range
 * has one MTRR type, lies below top and meets no hole.  The pages of
 * holes[0..nholes) (any order; overlaps allowed; the type field is not
 * looked at; rounded outward to 4 KiB) are left unmapped; tables wholly
 * inside holes are not built at all.
 *
 * Returns the PML4's physical address, or 0 when top is 0, beyond
 * EPT_MAX_TOP or beyond 2^m->maxphyaddr, or when pa runs out of pages: then
 * every page taken has been given back.  st (may be NULL) gets the counts,
 * all zero on failure.
 */
uint64_t ept_build_identity(struct page_alloc *pa, const struct mtrr_state *m, uint64_t top,
			    const struct mem_range *holes, size_t nholes,
			    const struct ept_options *opt, struct ept_stats *st);

/*
 * Sets the rights (EPT_READ | EPT_WRITE | EPT_EXEC) of the 4 KiB page at
 * gpa, splitting a 1 GiB or 2 MiB leaf that holds it into 4 KiB leaves of
 * the same memory type.  False when gpa is not mapped or a table page
 * cannot be had (the EPT is then unchanged for gpa's rights).  The caller
 * invalidates cached translations (INVEPT) if the EPT is in use.
 */
bool ept_set_page_rights(struct page_alloc *pa, uint64_t pml4, uint64_t gpa, unsigned rights);

struct spinlock;

/*
 * Where a change to an EPT in use gets its table pages, and where it
 * leaves the tables it unlinks.  It takes at most avail pages from pa
 * (page_alloc under *pa_lock unless NULL), counted in taken; pages it
 * took and never linked go straight back.  A table it unlinks (merged
 * into one leaf) is not freed: it goes to unlinked[nunlinked++], intact,
 * so that a CPU still caching the entry above it walks the old mapping,
 * which is still a valid one; the caller frees it once every CPU has
 * invalidated (INVEPT).  With nunlinked = max_unlinked nothing is merged.
 */
struct ept_pool {
	struct page_alloc *pa;
	struct spinlock *pa_lock;
	uint64_t avail;
	uint64_t taken;
	uint64_t *unlinked;
	size_t nunlinked, max_unlinked;
};

/* ept_set_page_rights with the table page (if a split needs one) from pool. */
bool ept_set_page_rights_from(struct ept_pool *pool, uint64_t pml4, uint64_t gpa, unsigned rights);

struct ept_retype_stats {
	uint64_t retyped;     /* leaves whose memory type changed in place */
	uint64_t split;	      /* leaves of several types replaced by a table */
	uint64_t merged;      /* tables replaced by one leaf (one type, the same rights) */
	uint64_t uc_fallback; /* leaves of several types made UC: no table page left */
};

/*
 * Gives every leaf of the identity EPT at pml4 (made by
 * ept_build_identity, perhaps changed since) the memory type of its range
 * under m, "ignore PAT" still clear (SDM Vol. 3C 29.3.7.2), keeping each
 * page's rights and leaving unmapped what is unmapped (holes, beyond top).
 * A leaf whose range no longer has one type is replaced by a table (pages
 * from pool; without one, the leaf is UC: see build_table in ept.c); a
 * table whose leaves all have one type and the same rights, where opt
 * offers that leaf size, is replaced by one leaf and its page handed to
 * pool->unlinked.  Every change is one atomic store of one entry.  st
 * (may be NULL) gets the counts.  The caller serializes changes and
 * invalidates cached translations (INVEPT).
 */
void ept_retype(uint64_t pml4, const struct mtrr_state *m, const struct ept_options *opt,
		struct ept_pool *pool, struct ept_retype_stats *st);

/* The table pages reachable from pml4, the PML4 included (0 for 0). */
uint64_t ept_table_pages(uint64_t pml4);

/* Gives every table page of the EPT at pml4 back to pa (0: nothing). */
void ept_destroy(struct page_alloc *pa, uint64_t pml4);

/*
 * The EPTP for a PML4 (SDM Vol. 3C 25.6.11): paging-structure memory type
 * WB, page-walk length 4, accessed/dirty flags if ad_bits (the CPU must
 * offer them: IA32_VMX_EPT_VPID_CAP[21]).
 */
uint64_t ept_eptp(uint64_t pml4, bool ad_bits);

/*
 * Walks the EPT at pml4 for gpa like the CPU (SDM Vol. 3C 29.3.2).  Returns
 * false if gpa is at or above 2^48 or an entry on the way is not present
 * (bits 2:0 clear).  Otherwise fills those out-parameters that are not
 * NULL: the host-physical address, the access rights of the walk (bits 2:0
 * of all entries ANDed: EPT_READ | EPT_WRITE | EPT_EXEC), the leaf's memory
 * type and its level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB).
 */
bool ept_translate(uint64_t pml4, uint64_t gpa, uint64_t *hpa, unsigned *perms, unsigned *memtype,
		   unsigned *level);

#endif
