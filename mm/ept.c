/*
 * ept.c - building and walking the identity EPT for L1 (see ept.h).
 *
 * The builder is the identity-map walk shared with the VT-d second-level
 * tables (mm/idmap.c), which fills one table at a time, top-down, asking
 * build_entry() for each entry: not present when the entry's range is
 * wholly inside the holes (no table below it is built), one leaf when the
 * page size is allowed and the range lies below top, meets no hole and has
 * one MTRR type, and otherwise a table of its own.  On running out of
 * pages the walk gives back everything it took.
 *
 * Changes to an EPT in use (ept_set_page_rights_from, ept_retype) are made
 * so that a CPU walking it at the same time sees the old entry or the new
 * one, each a valid identity mapping: every entry is written once, by one
 * 64-bit atomic store; a table that replaces a leaf is filled completely
 * before the store that links it; a table that a leaf replaces is left
 * intact for the caller to free after INVEPT (struct ept_pool).
 */
#include "ept.h"

#include "arch/x86/spinlock.h"
#include "mm/idmap.h"
#include "vmx/vmx_arch.h"

/* Levels as in the SDM's walk: 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT. */
#define EPT_LEVELS 4
#define EPT_ENTRIES IDMAP_ENTRIES

struct ept_build {
	const struct mtrr_state *m;
	uint64_t end; /* top rounded up to 4 KiB */
	const struct mem_range *holes;
	size_t nholes;
	bool page_1g;
	bool page_2m;
};

/* Bytes one entry of a level's table maps: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
static uint64_t entry_size(unsigned level)
{
	return idmap_entry_size(level);
}

static uint64_t *table_ptr(uint64_t pa)
{
	return (uint64_t *)(uintptr_t)pa;
}

/* SDM Vol. 3C 29.3.2: 2 MiB leaves in PDEs, 1 GiB leaves in PDPTEs. */
static bool size_ok(bool page_1g, bool page_2m, unsigned level)
{
	return idmap_leaf_ok(page_1g, page_2m, level);
}

/* SDM Vol. 3C 29.3.2: a PTE, or a PDPTE/PDE with bit 7 set, maps a page. */
static bool is_leaf(uint64_t e, unsigned level)
{
	return idmap_is_leaf(e, level);
}

/* One entry of an EPT that CPUs may be walking: one atomic 64-bit store. */
static void entry_set(uint64_t *e, uint64_t value)
{
	__atomic_store_n(e, value, __ATOMIC_RELEASE);
}

/*
 * SDM Vol. 3C 29.3.2 (leaf formats) and 29.3.7.2: read/write/execute, the
 * memory type in bits 5:3, "ignore PAT" (bit 6) clear so that L1's PAT
 * still combines with it, bit 7 set in a 2 MiB or 1 GiB leaf.  The MTRR
 * encodings 0, 1, 4, 5, 6 are exactly the valid EPT memory types
 * (29.3.3.1: 2, 3 and 7 would be an EPT misconfiguration).
 */
static uint64_t leaf_entry(uint64_t addr, unsigned type, unsigned level, uint64_t rights)
{
	uint64_t e = addr | rights | ((uint64_t)type << EPT_MEMTYPE_SHIFT);
	if (level > 1)
		e |= EPT_LEAF;
	return e;
}

/*
 * The entry for [a, a + entry_size(level)), idmap_build's question: not
 * present when the range lies wholly in the holes or at or above top (an
 * EPT violation for L1; no table below it is built); one leaf when the
 * page size is allowed, the range lies below top, meets no hole and has
 * one MTRR type; else a table (SDM Vol. 3C 29.3.2: a non-leaf entry holds
 * RWX and the table's address).  A 4 KiB range always has one MTRR type
 * (MTRR granularity is 4 KiB), so the recursion ends at the PT.
 */
static uint64_t build_entry(void *ctx, uint64_t a, unsigned level)
{
	const struct ept_build *b = ctx;
	if (a >= b->end)
		return 0;
	uint64_t sz = entry_size(level);
	uint64_t last = a + sz - 1;
	uint64_t mapped_last = last < b->end ? last : b->end - 1;
	if (idmap_ranges_cover(b->holes, b->nholes, a, mapped_last))
		return 0;
	if (size_ok(b->page_1g, b->page_2m, level) && last < b->end &&
	    !idmap_ranges_meet(b->holes, b->nholes, a, last)) {
		int t = mtrr_type_of_range(b->m, a, sz);
		if (t < 0 && level == 1)
			t = MTRR_TYPE_UC; /* cannot happen: MTRRs are 4 KiB granular */
		if (t >= 0)
			return leaf_entry(a, (unsigned)t, level, EPT_RWX);
	}
	return IDMAP_SPLIT;
}

static void zero_stats(struct ept_stats *st)
{
	st->leaves_1g = 0;
	st->leaves_2m = 0;
	st->leaves_4k = 0;
	st->table_pages = 0;
}

uint64_t ept_build_identity(struct page_alloc *pa, const struct mtrr_state *m, uint64_t top,
			    const struct mem_range *holes, size_t nholes,
			    const struct ept_options *opt, struct ept_stats *st)
{
	struct ept_build b = {
	    .m = m,
	    .holes = holes,
	    .nholes = holes ? nholes : 0,
	    .page_1g = opt && opt->page_1g,
	    .page_2m = opt && opt->page_2m,
	};
	if (st)
		zero_stats(st);

	/* Identity: a GPA is also an HPA, so it must exist (below 2^MAXPHYADDR). */
	uint64_t limit = 1ull << m->maxphyaddr;
	if (limit > EPT_MAX_TOP)
		limit = EPT_MAX_TOP;
	if (!top || top > limit)
		return 0;
	b.end = (top + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

	struct idmap_build ib = {
	    .pa = pa,
	    .levels = EPT_LEVELS,
	    .present = EPT_RWX,
	    .table_bits = EPT_RWX,
	    .entry = build_entry,
	    .ctx = &b,
	};
	uint64_t pml4 = idmap_build(&ib);
	if (pml4 && st) {
		st->leaves_4k = ib.leaves[0];
		st->leaves_2m = ib.leaves[1];
		st->leaves_1g = ib.leaves[2];
		st->table_pages = ib.table_pages;
	}
	return pml4;
}

void ept_destroy(struct page_alloc *pa, uint64_t pml4)
{
	idmap_destroy(pa, pml4 & EPT_ADDR_MASK, EPT_LEVELS, EPT_RWX);
}

static uint64_t pool_take(struct ept_pool *pool)
{
	if (!pool->avail)
		return 0;
	if (pool->pa_lock)
		spin_lock(pool->pa_lock);
	uint64_t page = page_alloc(pool->pa, 1, 1);
	if (pool->pa_lock)
		spin_unlock(pool->pa_lock);
	if (page) {
		pool->avail--;
		pool->taken++;
	}
	return page;
}

/*
 * Gives back a table whose entries are at `level`, and the tables under
 * it: only for one that was never linked (no CPU can have walked it).
 */
static void pool_give_back(struct ept_pool *pool, uint64_t table_pa, unsigned level)
{
	const uint64_t *t = table_ptr(table_pa);
	for (unsigned i = 0; level > 1 && i < EPT_ENTRIES; i++)
		if ((t[i] & EPT_RWX) && !is_leaf(t[i], level))
			pool_give_back(pool, t[i] & EPT_ADDR_MASK, level - 1);
	if (pool->pa_lock)
		spin_lock(pool->pa_lock);
	page_free(pool->pa, table_pa, 1);
	if (pool->pa_lock)
		spin_unlock(pool->pa_lock);
	pool->avail++;
	pool->taken--;
}

/*
 * Splits the leaf `e` of a level-`level` table (a 1 GiB or 2 MiB page)
 * into a table of 512 leaves one level down with the same address run,
 * rights and memory type (SDM Vol. 3C 29.3.2: the same entry format, bit
 * 7 kept only for 2 MiB leaves).  Returns the new non-leaf entry, or 0.
 */
static uint64_t split_leaf(struct ept_pool *pool, uint64_t e, unsigned level)
{
	uint64_t child = pool_take(pool);
	if (!child)
		return 0;
	uint64_t *t = table_ptr(child);
	uint64_t keep = e & ~EPT_ADDR_MASK & ~EPT_LEAF;
	uint64_t base = e & EPT_ADDR_MASK & ~(entry_size(level) - 1);
	for (unsigned i = 0; i < EPT_ENTRIES; i++)
		t[i] = (base + i * entry_size(level - 1)) | keep | (level - 1 > 1 ? EPT_LEAF : 0);
	return child | EPT_RWX;
}

bool ept_set_page_rights_from(struct ept_pool *pool, uint64_t pml4, uint64_t gpa, unsigned rights)
{
	if (!pml4 || gpa >= EPT_MAX_TOP || (rights & ~EPT_RWX))
		return false;
	uint64_t *table = table_ptr(pml4 & EPT_ADDR_MASK);
	for (unsigned l = EPT_LEVELS; l >= 1; l--) {
		uint64_t *e = &table[idmap_index(gpa, l)];
		if (!(*e & EPT_RWX))
			return false; /* not mapped: nothing to restrict */
		if (l == 1) {
			entry_set(e, (*e & ~(uint64_t)EPT_RWX) | rights);
			return true;
		}
		if (is_leaf(*e, l)) {
			uint64_t split = split_leaf(pool, *e, l);
			if (!split)
				return false;
			/* The CPU sees the old leaf or the same mapping in 4 KiB. */
			entry_set(e, split);
		}
		table = table_ptr(*e & EPT_ADDR_MASK);
	}
	return false;
}

bool ept_set_page_rights(struct page_alloc *pa, uint64_t pml4, uint64_t gpa, unsigned rights)
{
	struct ept_pool pool = { .pa = pa, .avail = ~0ull };
	return ept_set_page_rights_from(&pool, pml4, gpa, rights);
}

static uint64_t count_tables(uint64_t table_pa, unsigned level)
{
	const uint64_t *t = table_ptr(table_pa);
	uint64_t n = 1;
	for (unsigned i = 0; level > 1 && i < EPT_ENTRIES; i++)
		if ((t[i] & EPT_RWX) && !is_leaf(t[i], level))
			n += count_tables(t[i] & EPT_ADDR_MASK, level - 1);
	return n;
}

uint64_t ept_table_pages(uint64_t pml4)
{
	return pml4 ? count_tables(pml4 & EPT_ADDR_MASK, EPT_LEVELS) : 0;
}

/* ---- retyping a live EPT (ept_retype) ---- */

struct ept_retype {
	const struct mtrr_state *m;
	bool page_1g, page_2m;
	struct ept_pool *pool;
	struct ept_retype_stats st;
};

/* The one MTRR type of a level-`level` entry's range at a, or -1. */
static int range_type(const struct ept_retype *r, uint64_t a, unsigned level)
{
	int t = mtrr_type_of_range(r->m, a, entry_size(level));
	if (t < 0 && level == 1)
		t = MTRR_TYPE_UC; /* cannot happen: MTRRs are 4 KiB granular */
	return t;
}

/*
 * A new table one level below `level` for [a, a + entry_size(level)),
 * filled completely before anyone can see it: each entry a leaf with
 * rights and the type of its range, or a table of its own where the range
 * has several types or the leaf size is not offered (SDM Vol. 3C 29.3.2).
 * A range of several types with no page left for its table is one UC leaf
 * (SDM Vol. 3A 12.3: UC is never wrong, only slow) where that leaf size is
 * offered.  Returns 0 (every page it took given back) without a page.
 */
static uint64_t build_table(struct ept_retype *r, unsigned level, uint64_t a, uint64_t rights)
{
	uint64_t page = pool_take(r->pool);
	if (!page)
		return 0;
	uint64_t *t = table_ptr(page);
	unsigned cl = level - 1;
	for (unsigned i = 0; i < EPT_ENTRIES; i++) {
		uint64_t ca = a + i * entry_size(cl);
		int ty = range_type(r, ca, cl);
		if (ty >= 0 && size_ok(r->page_1g, r->page_2m, cl)) {
			t[i] = leaf_entry(ca, (unsigned)ty, cl, rights);
			continue;
		}
		uint64_t sub = build_table(r, cl, ca, rights);
		if (sub) {
			t[i] = sub | EPT_RWX;
		} else if (size_ok(r->page_1g, r->page_2m, cl)) {
			t[i] = leaf_entry(ca, MTRR_TYPE_UC, cl, rights);
			r->st.uc_fallback++;
		} else {
			pool_give_back(r->pool, page, cl);
			return 0;
		}
	}
	return page;
}

/*
 * The non-leaf entry *pe of a level-`level` table maps [a, a +
 * entry_size(level)) through a table: where every entry of that table is
 * a leaf with the same rights and memory type (an identity run, as always
 * here) and a leaf of this size is offered, one leaf replaces it (SDM Vol.
 * 3C 29.3.2).  The table is handed to the caller intact (pool->unlinked).
 */
static void merge(struct ept_retype *r, uint64_t *pe, unsigned level, uint64_t a)
{
	struct ept_pool *pool = r->pool;
	if (!size_ok(r->page_1g, r->page_2m, level) || pool->nunlinked >= pool->max_unlinked)
		return;
	uint64_t child = *pe & EPT_ADDR_MASK;
	const uint64_t *c = table_ptr(child);
	unsigned cl = level - 1;
	uint64_t attrs = c[0] & ~EPT_ADDR_MASK & ~EPT_LEAF;
	for (unsigned i = 0; i < EPT_ENTRIES; i++) {
		uint64_t e = c[i];
		if (!(e & EPT_RWX) || !is_leaf(e, cl))
			return;
		if ((e & ~EPT_ADDR_MASK & ~EPT_LEAF) != attrs ||
		    (e & EPT_ADDR_MASK) != a + i * entry_size(cl))
			return;
	}
	entry_set(pe, a | attrs | EPT_LEAF);
	pool->unlinked[pool->nunlinked++] = child;
	r->st.merged++;
}

static void retype_table(struct ept_retype *r, uint64_t *t, unsigned level, uint64_t base)
{
	for (unsigned i = 0; i < EPT_ENTRIES; i++) {
		uint64_t e = t[i];
		if (!(e & EPT_RWX))
			continue; /* a hole, or beyond top: stays unmapped */
		uint64_t a = base + i * entry_size(level);
		if (!is_leaf(e, level)) {
			retype_table(r, table_ptr(e & EPT_ADDR_MASK), level - 1, a);
			merge(r, &t[i], level, a);
			continue;
		}
		int ty = range_type(r, a, level);
		if (ty < 0) {
			uint64_t fallbacks = r->st.uc_fallback;
			uint64_t child = build_table(r, level, a, e & EPT_RWX);
			if (child) {
				entry_set(&t[i], child | EPT_RWX);
				r->st.split++;
				continue;
			}
			r->st.uc_fallback = fallbacks + 1;
			ty = MTRR_TYPE_UC;
		}
		uint64_t ne = (e & ~EPT_MEMTYPE_MASK) | ((uint64_t)ty << EPT_MEMTYPE_SHIFT);
		if (ne != e) {
			entry_set(&t[i], ne);
			r->st.retyped++;
		}
	}
}

void ept_retype(uint64_t pml4, const struct mtrr_state *m, const struct ept_options *opt,
		struct ept_pool *pool, struct ept_retype_stats *st)
{
	struct ept_retype r = {
		.m = m,
		.page_1g = opt && opt->page_1g,
		.page_2m = opt && opt->page_2m,
		.pool = pool,
	};
	if (pml4)
		retype_table(&r, table_ptr(pml4 & EPT_ADDR_MASK), EPT_LEVELS, 0);
	if (st)
		*st = r.st;
}

/* SDM Vol. 3C 25.6.11: type in bits 2:0, walk length - 1 in 5:3, A/D in 6. */
uint64_t ept_eptp(uint64_t pml4, bool ad_bits)
{
	uint64_t eptp = (pml4 & EPT_ADDR_MASK) | VMX_MEMTYPE_WB | EPTP_WALK_LENGTH_4;
	if (ad_bits)
		eptp |= EPTP_AD_ENABLE;
	return eptp;
}

/*
 * SDM Vol. 3C 29.3.2: the walk uses bits 47:12 of the GPA; an entry with
 * bits 2:0 clear is not present; bit 7 ends the walk at a PDPTE (1 GiB) or
 * a PDE (2 MiB); a PTE always ends it.  Access is allowed only if every
 * entry on the way allows it (29.3.3.2).
 */
bool ept_translate(uint64_t pml4, uint64_t gpa, uint64_t *hpa, unsigned *perms, unsigned *memtype,
		   unsigned *level)
{
	if (!pml4 || gpa >= EPT_MAX_TOP)
		return false;
	uint64_t table = pml4 & EPT_ADDR_MASK;
	uint64_t rights = EPT_RWX;
	for (unsigned l = EPT_LEVELS; l >= 1; l--) {
		/* One load per entry: another CPU may be changing the EPT (ept_retype). */
		const uint64_t *slot = &table_ptr(table)[idmap_index(gpa, l)];
		uint64_t e = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		if (!(e & EPT_RWX))
			return false;
		rights &= e;
		if (l == 1 || (l <= 3 && (e & EPT_LEAF))) {
			uint64_t off = entry_size(l) - 1;
			if (hpa)
				*hpa = (e & EPT_ADDR_MASK & ~off) | (gpa & off);
			if (perms)
				*perms = (unsigned)rights;
			if (memtype)
				*memtype = (unsigned)((e & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT);
			if (level)
				*level = l;
			return true;
		}
		table = e & EPT_ADDR_MASK;
	}
	return false;
}
