/*
 * ept02.h - the EPT the CPU walks for an L2 whose L1 enabled EPT: EPT02,
 * a shadow of EPT12 (L1's EPT, in L1's memory) composed with EPT01.
 *
 * One cache per CPU, as a TLB is per logical processor: INVEPT acts on
 * the CPU that executes it (SDM Vol. 3C 31, INVEPT), and so does L1's
 * INVEPT on the EPT02 tables of its own CPU.  Up to EPT02_ROOTS EPT02s
 * are kept, keyed by L1's EPTP (vmcs12's EPT_POINTER), so that L1's
 * several L2s keep their tables across entries; the least recently used
 * root is dropped when another is needed.  Tables start empty and are
 * filled one leaf at a time by nested/ept_exit.c on EPT violations
 * (each leaf: EPT12's translation, rights and memory type combined with
 * EPT01's; 2-MiB or 1-GiB where both EPT12's and EPT01's leaves are at
 * least that large and the CPU has the page size).  They never point at L0's memory: a leaf is only made for an
 * L1 physical page EPT01 maps, with at most EPT01's rights.
 *
 * The pages come from L0's allocator, at most max_pages per CPU; when a
 * fill needs one more, the caller drops every root (and invalidates each:
 * INVEPT) and filling starts over.  EPT02_RESERVE pages per CPU, taken at
 * ept02_init, are kept back for when the allocator has none: one root
 * and the three tables of one leaf, so that after a drop a fill always
 * succeeds and L2 makes progress.  Pure over struct page_alloc (no VMCS, no
 * hardware), unit-tested.
 */
#ifndef MICROHV_NESTED_EPT02_H
#define MICROHV_NESTED_EPT02_H

#include "mm/page_alloc.h"

#include <stdbool.h>
#include <stdint.h>

#define EPT02_ROOTS 4
#define EPT02_MAX_PAGES 512 /* 2 MiB of tables per CPU */
#define EPT02_RESERVE 4	    /* PML4, PDPT, PD, PT */

struct spinlock;

struct ept02_root {
	uint64_t eptp12; /* L1's EPTP this root shadows; 0: the slot is free */
	uint64_t pml4;	 /* EPT02's top table: a PML4, or a PML5 for a 5-level EPTP12 */
	unsigned levels; /* EPTP12's page-walk length: EPT02 walks as many levels */
	uint64_t last_use;
};

struct ept02 {
	struct page_alloc *pa;
	struct spinlock *pa_lock; /* held around pa; NULL: none */
	uint64_t max_pages;
	uint64_t pages; /* table pages in use now, PML4s included */
	uint64_t reserve[EPT02_RESERVE];
	unsigned nreserve;
	uint64_t clock;
	struct ept02_root root[EPT02_ROOTS];
	/* Counters, for the console and the tests. */
	uint64_t fills, upgrades, drops, evictions, overflows, large;
};

/* False when the reserve cannot be had (c then holds no page). */
bool ept02_init(struct ept02 *c, struct page_alloc *pa, struct spinlock *pa_lock,
		uint64_t max_pages);

/*
 * EPT02's top table for L1's eptp12 (as many levels as its page-walk
 * length), made (empty) if there is none; the least
 * recently used root is dropped when every slot is taken (*evicted gets
 * its PML4 for the caller's INVEPT, else 0).  0 when no page can be had.
 */
uint64_t ept02_root_for(struct ept02 *c, uint64_t eptp12, uint64_t *evicted);

/* The root for eptp12 if there is one (0 otherwise); it counts as used. */
uint64_t ept02_find(struct ept02 *c, uint64_t eptp12);

enum ept02_map_result {
	EPT02_MAPPED,	/* a new leaf: no cached translation to invalidate */
	EPT02_UPGRADED, /* an existing leaf changed: invalidate (INVEPT) before L2 runs */
	EPT02_FULL,	/* no page left: nothing mapped (drop every root, INVEPT, refill) */
};

/*
 * Makes the leaf of the given level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) for
 * L2's gpa2 in the EPT02 at pml4: host-physical page hpa (both taken at
 * the leaf's alignment), rights (EPT_READ | EPT_WRITE | EPT_EXEC), memory
 * type and "ignore PAT" as given; the tables on the way are made as
 * needed.  A larger leaf on the way becomes an empty table (its other
 * parts fill again on demand); the tables of smaller leaves a larger one
 * now covers are freed.  Either counts as a change (EPT02_UPGRADED).
 */
enum ept02_map_result ept02_map(struct ept02 *c, uint64_t pml4, uint64_t gpa2, uint64_t hpa,
				unsigned level, unsigned rights, unsigned memtype, bool ipat);

/*
 * The leaf entry for gpa2 in the 4-level EPT02 at pml4 (a 2-MiB or 1-GiB
 * one has bit 7), 0 if none (for the tests and the console); _in: in the
 * EPT02 of that many levels at root.
 */
uint64_t ept02_leaf(uint64_t pml4, uint64_t gpa2);
uint64_t ept02_leaf_in(uint64_t root, unsigned levels, uint64_t gpa2);

/*
 * Drops the roots of every EPTP with eptp12's PML4 address (INVEPT
 * single-context invalidates by EPTP[51:12], SDM Vol. 3C 31 "INVEPT"):
 * their PML4s go to pml4s[] for the caller's INVEPT; returns how many.
 */
unsigned ept02_drop(struct ept02 *c, uint64_t eptp12, uint64_t pml4s[EPT02_ROOTS]);

/* Drops every root. */
void ept02_drop_all(struct ept02 *c);

#endif
