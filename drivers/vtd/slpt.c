/*
 * slpt.c - VT-d second-level tables that identity-map L1's memory for
 * DMA (see slpt.h).
 *
 * VT-d specification 3.6 and 9.8: the second-level tables have EPT's
 * shape - 512 entries a table, 3, 4 or 5 levels for a 39-, 48- or 57-bit
 * address width (CAP.SAGAW, chosen by the caller), a table's address in
 * bits 51:12, bit 7 (PS) ending the walk at a 2 MiB or 1 GiB leaf where
 * CAP.SLLPS offers that size - and an entry is present when its read or
 * write bit is set; the rights of a walk are those of every entry on it.
 * So the walk is the one L1's EPT is built with (mm/idmap.c), and this
 * file says only what each entry is.
 *
 * Which pages are mapped: every page below top, except the holes (L0's
 * memory, the VT-d structures, the units' registers, pages L0 emulates),
 * and every page of an RMRR (VT-d 8.4: a device's reserved region must
 * stay identity-mapped for it), even in a hole or at or above top.  An
 * entry whose range holds no mapped page is not present; one whose pages
 * are all mapped is a leaf, if its size is offered; otherwise it gets a
 * table.  Both questions are exact, so a 2 MiB region made whole again by
 * an RMRR over a hole is still one leaf.
 *
 * The tables themselves must never be reachable by a device: every page
 * the builder takes is checked to be one that the tables leave unmapped,
 * and the build fails if it is not.
 */
#include "slpt.h"

#include "mm/idmap.h"

#define SLPT_RW (SLPT_READ | SLPT_WRITE)

struct slpt_build {
	uint64_t end; /* top rounded up to 4 KiB */
	const struct mem_range *holes, *must;
	size_t nholes, nmust;
	bool page_1g, page_2m;
};

/* The first address a walk of `levels` levels cannot translate. */
static uint64_t width_limit(unsigned levels)
{
	return 1ull << (PAGE_SHIFT + 9 * levels);
}

/* Is no page of [a, last] mapped?  Outside [0, end) or in a hole, and in no RMRR. */
static bool none_mapped(const struct slpt_build *s, uint64_t a, uint64_t last)
{
	if (idmap_ranges_meet(s->must, s->nmust, a, last))
		return false;
	if (a >= s->end)
		return true;
	uint64_t below = last < s->end ? last : s->end - 1;
	return idmap_ranges_cover(s->holes, s->nholes, a, below);
}

/*
 * Is every page of [a, last] mapped?  What lies at or above end, and what
 * of each hole lies inside, must be covered by the RMRRs.
 */
static bool all_mapped(const struct slpt_build *s, uint64_t a, uint64_t last)
{
	if (last >= s->end && !idmap_ranges_cover(s->must, s->nmust, a > s->end ? a : s->end, last))
		return false;
	for (size_t i = 0; i < s->nholes; i++) {
		uint64_t f, l;
		if (!idmap_range_bounds(&s->holes[i], &f, &l) || f > last || l < a)
			continue;
		if (!idmap_ranges_cover(s->must, s->nmust, f > a ? f : a, l < last ? l : last))
			return false;
	}
	return true;
}

/* VT-d 9.8: a leaf is the page's address, read/write, and PS above 4 KiB. */
static uint64_t build_entry(void *ctx, uint64_t a, unsigned level)
{
	const struct slpt_build *s = ctx;
	uint64_t last = a + idmap_entry_size(level) - 1;
	if (none_mapped(s, a, last))
		return 0;
	if (idmap_leaf_ok(s->page_1g, s->page_2m, level) && all_mapped(s, a, last))
		return a | SLPT_RW | (level > 1 ? SLPT_PS : 0);
	return IDMAP_SPLIT;
}

/* A table page must be one no device can reach through these tables. */
static bool table_ok(void *ctx, uint64_t page)
{
	return none_mapped(ctx, page, page + PAGE_SIZE - 1);
}

static void zero_stats(struct slpt_stats *st)
{
	st->leaves_1g = 0;
	st->leaves_2m = 0;
	st->leaves_4k = 0;
	st->table_pages = 0;
}

/* Are the RMRRs inside the address width and clear of never[]? */
static bool must_map_ok(const struct mem_range *must, size_t nmust, const struct mem_range *never,
			size_t nnever, uint64_t limit)
{
	for (size_t i = 0; i < nmust; i++) {
		uint64_t f, l;
		if (!idmap_range_bounds(&must[i], &f, &l))
			continue;
		if (l >= limit || idmap_ranges_meet(never, nnever, f, l))
			return false;
	}
	return true;
}

uint64_t slpt_build_identity(struct page_alloc *pa, uint64_t top, const struct mem_range *holes,
			     size_t nholes, const struct mem_range *must_map, size_t nmust,
			     const struct mem_range *never, size_t nnever,
			     const struct slpt_options *opt, struct slpt_stats *st)
{
	if (st)
		zero_stats(st);
	if (!opt || opt->levels < 3 || opt->levels > 5)
		return 0;
	uint64_t limit = width_limit(opt->levels);
	if (top > limit)
		return 0;
	nholes = holes ? nholes : 0;
	nmust = must_map ? nmust : 0;
	nnever = never ? nnever : 0;
	if (!must_map_ok(must_map, nmust, never, nnever, limit))
		return 0;

	struct slpt_build s = {
	    .end = (top + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1),
	    .holes = holes,
	    .nholes = nholes,
	    .must = must_map,
	    .nmust = nmust,
	    .page_1g = opt->page_1g,
	    .page_2m = opt->page_2m,
	};
	struct idmap_build ib = {
	    .pa = pa,
	    .levels = opt->levels,
	    .present = SLPT_RW,
	    .table_bits = SLPT_RW,
	    .entry = build_entry,
	    .table_ok = table_ok,
	    .ctx = &s,
	};
	uint64_t root = idmap_build(&ib);
	if (root && st) {
		st->leaves_4k = ib.leaves[0];
		st->leaves_2m = ib.leaves[1];
		st->leaves_1g = ib.leaves[2];
		st->table_pages = ib.table_pages;
	}
	return root;
}

void slpt_destroy(struct page_alloc *pa, uint64_t top_table, unsigned levels)
{
	idmap_destroy(pa, top_table, levels, SLPT_RW);
}

/* VT-d 3.6: the walk stops at a non-present entry or a leaf; rights are ANDed. */
unsigned slpt_rights(uint64_t top_table, unsigned levels, uint64_t addr)
{
	if (!top_table || levels < 3 || levels > 5 || addr >= width_limit(levels))
		return 0;
	uint64_t table = top_table & IDMAP_ADDR_MASK;
	uint64_t rights = SLPT_RW;
	for (unsigned l = levels; l >= 1; l--) {
		uint64_t e = ((const uint64_t *)(uintptr_t)table)[idmap_index(addr, l)];
		rights &= e;
		if (!(e & SLPT_RW) || idmap_is_leaf(e, l))
			return (unsigned)rights;
		table = e & IDMAP_ADDR_MASK;
	}
	return 0;
}
