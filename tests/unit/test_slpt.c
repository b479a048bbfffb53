/*
 * test_slpt.c - drivers/vtd/slpt.c on a page-aligned host buffer for the
 * page allocator (table pages are host pointers, the mapped addresses
 * only numbers): exact leaf and table counts for each page-size offer and
 * each depth (3, 4 and 5 levels), the rights at the edges of top, of L0's
 * memory and of a unit's registers, the RMRRs mapped inside a hole and
 * above top (a whole 2 MiB leaf where an RMRR fills one), the exact bits
 * of a leaf and of a table entry, the tables' own pages unmapped, and
 * every refusal: an RMRR over L0's memory or past the address width, top
 * past it, a table page the tables would map, no page left - each with
 * every page given back.
 */
#include "test.h"

#include "acpi_tables.h"
#include "drivers/vtd/dmar.h"
#include "drivers/vtd/slpt.h"
#include "mm/idmap.h"

#include <stdlib.h>

#define KB(x) ((uint64_t)(x) << 10)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)
#define RANGE(b, s) ((struct mem_range){.base = (b), .size = (s), .type = MEM_HYPERVISOR})
#define RW (SLPT_READ | SLPT_WRITE)

static struct page_alloc pa;
static void *pool;
static uint64_t pool_base, pool_size;
static size_t free0; /* the pool's free pages before a build */

static void pool_new(size_t pages)
{
	free(pool);
	pool_size = pages * PAGE_SIZE;
	pool = aligned_alloc(PAGE_SIZE, pool_size);
	pool_base = (uint64_t)(uintptr_t)pool;
	if (!pool || !page_alloc_init(&pa, pool_base, pool_size))
		abort();
	free0 = page_alloc_free_pages(&pa);
}

static const struct slpt_options lv3 = {.levels = 3, .page_2m = true, .page_1g = true};
static const struct slpt_options lv3_2m = {.levels = 3, .page_2m = true};
static const struct slpt_options lv3_4k = {.levels = 3};
static const struct slpt_options lv4 = {.levels = 4, .page_2m = true, .page_1g = true};
static const struct slpt_options lv5 = {.levels = 5, .page_2m = true, .page_1g = true};

static struct slpt_stats st;

static uint64_t entry_of(uint64_t table, unsigned level, uint64_t a)
{
	return ((const uint64_t *)(uintptr_t)table)[idmap_index(a, level)];
}

/* The level of the leaf that maps a (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB), 0 if none. */
static unsigned leaf_level(uint64_t root, unsigned levels, uint64_t a)
{
	uint64_t t = root;
	for (unsigned l = levels; l >= 1; l--) {
		uint64_t e = entry_of(t, l, a);
		if (!(e & RW))
			return 0;
		if (idmap_is_leaf(e, l))
			return l;
		t = e & IDMAP_ADDR_MASK;
	}
	return 0;
}

/* Every table page reachable from t: each one unmapped by the tables? */
static bool tables_unmapped(uint64_t root, unsigned levels, uint64_t t, unsigned level, unsigned *n)
{
	(*n)++;
	if (slpt_rights(root, levels, t) != 0)
		return false;
	for (unsigned i = 0; level > 1 && i < IDMAP_ENTRIES; i++) {
		uint64_t e = ((const uint64_t *)(uintptr_t)t)[i];
		if ((e & RW) && !idmap_is_leaf(e, level) &&
		    !tables_unmapped(root, levels, e & IDMAP_ADDR_MASK, level - 1, n))
			return false;
	}
	return true;
}

TEST(slpt_counts_one_hole_page)
{
	/* 4 GiB, 3 levels, L0's one page at 256 MiB: its 1 GiB and 2 MiB split. */
	pool_new(64);
	struct mem_range hole = RANGE(MB(256), KB(4));
	uint64_t root = slpt_build_identity(&pa, GB(4), &hole, 1, NULL, 0, NULL, 0, &lv3, &st);
	CHECK(root != 0);
	CHECK_EQ(st.leaves_1g, 3);
	CHECK_EQ(st.leaves_2m, 511);
	CHECK_EQ(st.leaves_4k, 511);
	CHECK_EQ(st.table_pages, 3);
	CHECK_EQ(page_alloc_free_pages(&pa) + 3, free0);
	slpt_destroy(&pa, root, 3);

	root = slpt_build_identity(&pa, GB(4), &hole, 1, NULL, 0, NULL, 0, &lv3_2m, &st);
	CHECK_EQ(st.leaves_1g, 0);
	CHECK_EQ(st.leaves_2m, 4 * 512 - 1);
	CHECK_EQ(st.leaves_4k, 511);
	CHECK_EQ(st.table_pages, 6); /* the root, four PDs, one PT */
	CHECK_EQ(leaf_level(root, 3, GB(3)), 2);
	slpt_destroy(&pa, root, 3);

	/* Top 1 GiB + 2 MiB, those 2 MiB a hole: no table for the second GiB at all. */
	struct mem_range tail = RANGE(GB(1), MB(2));
	root = slpt_build_identity(&pa, GB(1) + MB(2), &tail, 1, NULL, 0, NULL, 0, &lv3, &st);
	CHECK_EQ(st.leaves_1g, 1);
	CHECK_EQ(st.table_pages, 1);
	CHECK_EQ(entry_of(root, 3, GB(1)), 0);
	slpt_destroy(&pa, root, 3);

	/* Only 4 KiB leaves: 16 MiB is 8 PTs, one page short. */
	root = slpt_build_identity(&pa, MB(16), &hole, 0, NULL, 0, NULL, 0, &lv3_4k, &st);
	CHECK_EQ(st.leaves_4k, 4096);
	CHECK_EQ(st.leaves_2m + st.leaves_1g, 0);
	CHECK_EQ(st.table_pages, 10);
	slpt_destroy(&pa, root, 3);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}

TEST(slpt_rights_at_the_edges)
{
	/*
	 * 8 GiB, 3 levels: L0's memory [0x70001000, +63 MiB) (not 2 MiB
	 * aligned), a unit's registers at 0xfed90000, a reserved hole
	 * [2 GiB, +16 MiB) with an RMRR filling its [+4 MiB, +6 MiB), and an
	 * RMRR of two pages above top.
	 */
	pool_new(64);
	struct mem_range holes[3] = {RANGE(0x70001000, MB(63)), RANGE(0xfed90000, KB(4)),
				     RANGE(GB(2), MB(16))};
	struct mem_range rmrr[2] = {RANGE(GB(2) + MB(4), MB(2)), RANGE(GB(12) + KB(8), KB(8))};
	uint64_t root = slpt_build_identity(&pa, GB(8), holes, 3, rmrr, 2, NULL, 0, &lv3, &st);
	CHECK(root != 0);
	CHECK_EQ(slpt_rights(root, 3, 0), RW);
	CHECK_EQ(slpt_rights(root, 3, GB(8) - 1), RW);
	CHECK_EQ(slpt_rights(root, 3, GB(8)), 0);
	CHECK_EQ(slpt_rights(root, 3, 0x70000fff), RW);
	CHECK_EQ(slpt_rights(root, 3, 0x70001000), 0);
	CHECK_EQ(slpt_rights(root, 3, 0x70001000 + MB(63) - 1), 0);
	CHECK_EQ(slpt_rights(root, 3, 0x70001000 + MB(63)), RW);
	CHECK_EQ(slpt_rights(root, 3, 0xfed8ffff), RW);
	CHECK_EQ(slpt_rights(root, 3, 0xfed90abc), 0);
	CHECK_EQ(slpt_rights(root, 3, 0xfed91000), RW);
	/* the RMRR inside the hole: mapped, and one 2 MiB leaf */
	CHECK_EQ(slpt_rights(root, 3, GB(2) + MB(4) - 1), 0);
	CHECK_EQ(slpt_rights(root, 3, GB(2) + MB(4)), RW);
	CHECK_EQ(slpt_rights(root, 3, GB(2) + MB(6) - 1), RW);
	CHECK_EQ(slpt_rights(root, 3, GB(2) + MB(6)), 0);
	CHECK_EQ(leaf_level(root, 3, GB(2) + MB(5)), 2);
	CHECK_EQ(slpt_rights(root, 3, GB(2) + MB(16)), RW);
	/* the RMRR above top: its two pages only */
	CHECK_EQ(slpt_rights(root, 3, GB(12) + KB(4)), 0);
	CHECK_EQ(slpt_rights(root, 3, GB(12) + KB(8)), RW);
	CHECK_EQ(slpt_rights(root, 3, GB(12) + KB(12)), RW);
	CHECK_EQ(slpt_rights(root, 3, GB(12) + KB(16)), 0);
	CHECK_EQ(leaf_level(root, 3, GB(12) + KB(8)), 1);
	/* large leaves away from the holes */
	CHECK_EQ(leaf_level(root, 3, GB(5)), 3);
	CHECK_EQ(leaf_level(root, 3, 0x70001000 + MB(64)), 2);
	/* past the 39-bit width */
	CHECK_EQ(slpt_rights(root, 3, 1ull << 39), 0);
	CHECK_EQ(slpt_rights(0, 3, 0), 0);
	slpt_destroy(&pa, root, 3);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}

TEST(slpt_entry_bits)
{
	pool_new(64);
	struct mem_range hole = RANGE(MB(256), KB(4));
	uint64_t root = slpt_build_identity(&pa, GB(4), &hole, 1, NULL, 0, NULL, 0, &lv3, &st);
	/* VT-d 9.8: a leaf is address | R | W, PS above 4 KiB; nothing else. */
	CHECK_EQ(entry_of(root, 3, GB(1)), GB(1) | SLPT_READ | SLPT_WRITE | SLPT_PS);
	CHECK_EQ(entry_of(root, 3, GB(4)), 0);
	uint64_t pd = entry_of(root, 3, 0);
	CHECK_EQ(pd & ~IDMAP_ADDR_MASK, RW); /* a table: R | W, no PS */
	pd &= IDMAP_ADDR_MASK;
	CHECK(pd >= pool_base && pd < pool_base + pool_size);
	CHECK_EQ(entry_of(pd, 2, MB(2)), MB(2) | RW | SLPT_PS);
	uint64_t pt = entry_of(pd, 2, MB(256)) & IDMAP_ADDR_MASK;
	CHECK_EQ(entry_of(pt, 1, MB(256) + KB(4)), (MB(256) + KB(4)) | RW);
	CHECK_EQ(entry_of(pt, 1, MB(256)), 0);
	slpt_destroy(&pa, root, 3);
}

TEST(slpt_depths)
{
	pool_new(64);
	/* 5 levels: the 4 GiB under one PML5 and one PML4 entry. */
	uint64_t root = slpt_build_identity(&pa, GB(4), NULL, 0, NULL, 0, NULL, 0, &lv5, &st);
	CHECK(root != 0);
	CHECK_EQ(st.leaves_1g, 4);
	CHECK_EQ(st.table_pages, 3);
	CHECK_EQ(slpt_rights(root, 5, GB(4) - 1), RW);
	CHECK_EQ(slpt_rights(root, 5, GB(4)), 0);
	CHECK_EQ(leaf_level(root, 5, GB(2)), 3);
	slpt_destroy(&pa, root, 5);
	/* 4 levels: a 48-bit RMRR near the top of the width. */
	struct mem_range r = RANGE((1ull << 48) - MB(2), MB(2));
	root = slpt_build_identity(&pa, GB(1), NULL, 0, &r, 1, NULL, 0, &lv4, &st);
	CHECK(root != 0);
	CHECK_EQ(st.leaves_1g, 1);
	CHECK_EQ(st.leaves_2m, 1);
	CHECK_EQ(st.table_pages, 4); /* PML4, two PDPTs, one PD */
	CHECK_EQ(slpt_rights(root, 4, (1ull << 48) - 1), RW);
	CHECK_EQ(slpt_rights(root, 4, (1ull << 48) - MB(2) - 1), 0);
	slpt_destroy(&pa, root, 4);
	/* top exactly the width: every page */
	root = slpt_build_identity(&pa, 1ull << 39, NULL, 0, NULL, 0, NULL, 0, &lv3, &st);
	CHECK_EQ(st.leaves_1g, 512);
	CHECK_EQ(st.table_pages, 1);
	slpt_destroy(&pa, root, 3);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}

TEST(slpt_refusals)
{
	pool_new(64);
	struct mem_range l0 = RANGE(MB(512), MB(64));
	struct mem_range r_in_l0 = RANGE(MB(512) + MB(63), KB(4));
	struct mem_range r_next = RANGE(MB(576), KB(4));
	struct slpt_options bad = lv3;
	/* an RMRR over L0's memory, even its last page */
	CHECK_EQ(slpt_build_identity(&pa, GB(4), &l0, 1, &r_in_l0, 1, &l0, 1, &lv3, &st), 0);
	CHECK_EQ(st.table_pages, 0);
	struct mem_range r_into_l0 =
	    RANGE(MB(512) - KB(4), KB(8)); /* its last page is L0's first */
	CHECK_EQ(slpt_build_identity(&pa, GB(4), &l0, 1, &r_into_l0, 1, &l0, 1, &lv3, &st), 0);
	uint64_t root = slpt_build_identity(&pa, GB(4), &l0, 1, &r_next, 1, &l0, 1, &lv3, &st);
	CHECK(root != 0);
	slpt_destroy(&pa, root, 3);
	/* top or an RMRR past the address width */
	CHECK_EQ(slpt_build_identity(&pa, (1ull << 39) + 1, NULL, 0, NULL, 0, NULL, 0, &lv3, &st),
		 0);
	struct mem_range high = RANGE(1ull << 39, KB(4));
	CHECK_EQ(slpt_build_identity(&pa, GB(4), NULL, 0, &high, 1, NULL, 0, &lv3, &st), 0);
	CHECK(slpt_build_identity(&pa, GB(4), NULL, 0, &high, 1, NULL, 0, &lv4, &st) != 0);
	/* depths the builder does not know */
	bad.levels = 2;
	CHECK_EQ(slpt_build_identity(&pa, GB(4), NULL, 0, NULL, 0, NULL, 0, &bad, &st), 0);
	bad.levels = 6;
	CHECK_EQ(slpt_build_identity(&pa, GB(4), NULL, 0, NULL, 0, NULL, 0, &bad, &st), 0);
	CHECK_EQ(slpt_build_identity(&pa, GB(4), NULL, 0, NULL, 0, NULL, 0, NULL, &st), 0);
}

TEST(slpt_out_of_pages)
{
	/* The build of slpt_counts_one_hole_page takes 3 pages: each fewer fails clean. */
	struct mem_range hole = RANGE(MB(256), KB(4));
	for (size_t keep = 0; keep < 3; keep++) {
		pool_new(64);
		uint64_t taken[64];
		size_t n = 0;
		while (page_alloc_free_pages(&pa) > keep)
			taken[n++] = page_alloc(&pa, 1, 1);
		CHECK_EQ(slpt_build_identity(&pa, GB(4), &hole, 1, NULL, 0, NULL, 0, &lv3, &st), 0);
		CHECK_EQ(page_alloc_free_pages(&pa), keep);
		CHECK_EQ(st.leaves_1g + st.leaves_2m + st.leaves_4k + st.table_pages, 0);
		while (n)
			page_free(&pa, taken[--n], 1);
	}
}

/*
 * 4 levels, top 2^48: everything the host can address, the allocator's own
 * region among it.  Listed as a hole (L0's memory), the tables in it stay
 * unmapped; not listed, or under an RMRR, the builder refuses to map its
 * own tables and gives every page back.
 */
TEST(slpt_tables_never_mapped)
{
	pool_new(1024);
	CHECK(pool_base + pool_size <= 1ull << 48);
	struct mem_range l0 = RANGE(pool_base, pool_size);
	uint64_t root = slpt_build_identity(&pa, 1ull << 48, &l0, 1, NULL, 0, NULL, 0, &lv4, &st);
	CHECK(root != 0);
	unsigned n = 0;
	CHECK(tables_unmapped(root, 4, root, 4, &n));
	CHECK_EQ(n, st.table_pages);
	CHECK(st.table_pages > 512); /* a PDPT under every PML4 entry */
	CHECK_EQ(slpt_rights(root, 4, pool_base - 1), RW);
	CHECK_EQ(slpt_rights(root, 4, pool_base + pool_size), RW);
	slpt_destroy(&pa, root, 4);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);

	CHECK_EQ(slpt_build_identity(&pa, 1ull << 48, NULL, 0, NULL, 0, NULL, 0, &lv4, &st), 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	CHECK_EQ(st.table_pages, 0);
	/* below top 2^48 the root page itself is mapped: refused at once */
	CHECK_EQ(
	    slpt_build_identity(&pa, pool_base + pool_size, NULL, 0, NULL, 0, NULL, 0, &lv4, &st),
	    0);
	struct mem_range over = RANGE(pool_base, pool_size);
	CHECK_EQ(slpt_build_identity(&pa, GB(4), NULL, 0, &over, 1, NULL, 0, &lv4, &st), 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}

/*
 * The Dell Latitude 7400's real DMAR, parsed, drives a build as the launch
 * would: 16 GiB, L0 at [1 GiB, +64 MiB), the units' register pages and
 * the graphics stolen memory region (0x4b000000-0x4f7fffff, reserved in
 * the firmware's map and so a hole here) as holes, the RMRRs to map.
 */
TEST(slpt_from_a_real_dmar)
{
	struct dmar_info info;
	CHECK(dmar_parse(dmar_dell_7400, sizeof(dmar_dell_7400), &info, NULL, 0) == NULL);
	pool_new(64);
	/* L0, and the stolen memory as the firmware's map reserves it (80 MiB) */
	struct mem_range holes[4] = {RANGE(GB(1), MB(64)), RANGE(0x4b000000, MB(80))};
	size_t nholes = 2;
	for (size_t i = 0; i < info.nunits; i++)
		holes[nholes++] = RANGE(info.unit[i].reg_base, info.unit[i].reg_size);
	struct mem_range must[DMAR_MAX_RMRRS];
	for (size_t i = 0; i < info.nrmrrs; i++)
		must[i] = RANGE(info.rmrr[i].base, info.rmrr[i].limit - info.rmrr[i].base + 1);
	struct mem_range never = RANGE(GB(1), MB(64));
	uint64_t root = slpt_build_identity(&pa, GB(16), holes, nholes, must, info.nrmrrs, &never,
					    1, &lv3, &st);
	CHECK(root != 0);
	for (size_t i = 0; i < info.nrmrrs; i++) {
		CHECK_EQ(slpt_rights(root, 3, info.rmrr[i].base), RW);
		CHECK_EQ(slpt_rights(root, 3, info.rmrr[i].limit), RW);
	}
	CHECK_EQ(slpt_rights(root, 3, 0x4f800000), 0); /* the stolen memory past the RMRR */
	CHECK_EQ(slpt_rights(root, 3, 0xfed90000), 0);
	CHECK_EQ(slpt_rights(root, 3, 0xfed91000), 0);
	CHECK_EQ(slpt_rights(root, 3, 0xfed92000), RW);
	CHECK_EQ(slpt_rights(root, 3, GB(1)), 0);
	CHECK_EQ(leaf_level(root, 3, 0x4c000000), 2); /* the RMRR in its hole: 2 MiB leaves */
	CHECK_EQ(leaf_level(root, 3, GB(9)), 3);
	slpt_destroy(&pa, root, 3);

	/* An RMRR moved onto L0's memory: refused. */
	must[0] = RANGE(GB(1) + MB(8), KB(4));
	CHECK_EQ(slpt_build_identity(&pa, GB(16), holes, nholes, must, info.nrmrrs, &never, 1, &lv3,
				     &st),
		 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}
