/*
 * idmap.c - the identity-map builder behind L1's EPT and the VT-d
 * second-level tables (see idmap.h).
 *
 * The walk fills one table per call of fill(), top-down: for each entry
 * it asks the format's entry() callback, which says "not present", gives
 * the leaf, or asks for a table; then the next-level table is taken from
 * the page allocator and filled the same way.  A child table's entry is
 * written before the child is filled, so on running out of pages
 * everything taken so far is reachable from the top table and
 * idmap_destroy() gives it back.
 *
 * The range helpers answer the two questions every entry() asks of a set
 * of ranges (holes in EPT, L0's memory and the RMRRs for VT-d): does the
 * set meet this range, and does it cover it.  Ranges are rounded outward
 * to 4 KiB: a page partly in a hole is in it.
 */
#include "idmap.h"

static uint64_t *table_ptr(uint64_t pa)
{
	return (uint64_t *)(uintptr_t)pa;
}

bool idmap_range_bounds(const struct mem_range *r, uint64_t *first, uint64_t *last)
{
	if (!r->size)
		return false;
	uint64_t l = r->base + r->size - 1;
	if (l < r->base)
		l = ~0ull; /* runs past 2^64: clip */
	*first = r->base & ~(PAGE_SIZE - 1);
	*last = l | (PAGE_SIZE - 1);
	return true;
}

bool idmap_ranges_meet(const struct mem_range *r, size_t n, uint64_t first, uint64_t last)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t f, l;
		if (idmap_range_bounds(&r[i], &f, &l) && f <= last && l >= first)
			return true;
	}
	return false;
}

/*
 * Each step finds a range that holds pos and moves pos past it; pos only
 * grows, so a range is used at most once and n + 1 steps settle it.
 */
bool idmap_ranges_cover(const struct mem_range *r, size_t n, uint64_t first, uint64_t last)
{
	uint64_t pos = first;
	for (size_t step = 0; step <= n; step++) {
		bool found = false;
		for (size_t i = 0; i < n; i++) {
			uint64_t f, l;
			if (!idmap_range_bounds(&r[i], &f, &l) || f > pos || l < pos)
				continue;
			if (l >= last)
				return true;
			pos = l + 1;
			found = true;
			break;
		}
		if (!found)
			return false;
	}
	return false;
}

static uint64_t take_table(struct idmap_build *b)
{
	uint64_t page = page_alloc(b->pa, 1, 1);
	if (page && b->table_ok && !b->table_ok(b->ctx, page)) {
		page_free(b->pa, page, 1);
		return 0;
	}
	if (page)
		b->table_pages++;
	return page;
}

/* Fills the level-`level` table at `table`, which maps from `base`. */
static bool fill(struct idmap_build *b, uint64_t *table, unsigned level, uint64_t base)
{
	uint64_t sz = idmap_entry_size(level);
	for (unsigned i = 0; i < IDMAP_ENTRIES; i++) {
		uint64_t a = base + i * sz;
		uint64_t e = b->entry(b->ctx, a, level);
		if (e != IDMAP_SPLIT) {
			table[i] = e;
			if (e && level <= 3)
				b->leaves[level - 1]++;
			continue;
		}
		if (level == 1)
			continue; /* a page is mapped or not: entry() never splits one */
		uint64_t child = take_table(b);
		if (!child)
			return false;
		table[i] = child | b->table_bits;
		if (!fill(b, table_ptr(child), level - 1, a))
			return false;
	}
	return true;
}

uint64_t idmap_build(struct idmap_build *b)
{
	b->leaves[0] = b->leaves[1] = b->leaves[2] = 0;
	b->table_pages = 0;
	uint64_t top = take_table(b);
	if (!top)
		return 0;
	if (!fill(b, table_ptr(top), b->levels, 0)) {
		idmap_destroy(b->pa, top, b->levels, b->present);
		b->leaves[0] = b->leaves[1] = b->leaves[2] = 0;
		b->table_pages = 0;
		return 0;
	}
	return top;
}

static void free_table(struct page_alloc *pa, uint64_t table_pa, unsigned level, uint64_t present)
{
	const uint64_t *t = table_ptr(table_pa);
	for (unsigned i = 0; level > 1 && i < IDMAP_ENTRIES; i++) {
		uint64_t e = t[i];
		if ((e & present) && !idmap_is_leaf(e, level))
			free_table(pa, e & IDMAP_ADDR_MASK, level - 1, present);
	}
	page_free(pa, table_pa, 1);
}

void idmap_destroy(struct page_alloc *pa, uint64_t root, unsigned levels, uint64_t present)
{
	if (root)
		free_table(pa, root & IDMAP_ADDR_MASK, levels, present);
}
