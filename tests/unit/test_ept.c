/*
 * test_ept.c - mm/ept.c on a page-aligned host buffer for the page
 * allocator (table pages are host pointers, the mapped addresses are only
 * numbers): identity translation everywhere, 1 GiB leaves where the MTRR
 * type is uniform, 2 MiB and 4 KiB leaves where it is not (UC PCI hole,
 * fixed ranges below 1 MiB), holes unmapped down to the page with their
 * neighbours mapped, no tables under whole holes, top rounding, the page
 * sizes opt allows, out of memory at every allocation with nothing leaked,
 * argument limits, exact leaf and table counts, exact entry and EPTP bits.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "mm/ept.h"
#include "mm/mtrr.h"
#include "vmx/vmx_arch.h"

#include <stdlib.h>

#define KB(x) ((uint64_t)(x) << 10)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)

#define UC MTRR_TYPE_UC
#define WP MTRR_TYPE_WP
#define WB MTRR_TYPE_WB

#define MASK40(size) ((((1ull << 40) - 1) & ~((uint64_t)(size)-1)) | MTRR_PHYSMASK_VALID)
#define HOLE(b, s) ((struct mem_range){.base = (b), .size = (s), .type = MEM_HYPERVISOR})

#define POOL_PAGES 512	    /* 2 MiB */
#define BIG_POOL_PAGES 1024 /* 4 MiB */

static const struct ept_options opt_1g = {.page_1g = true, .page_2m = true};
static const struct ept_options opt_2m = {.page_1g = false, .page_2m = true};
static const struct ept_options opt_4k = {.page_1g = false, .page_2m = false};

static void *pool_new(struct page_alloc *pa, size_t pages)
{
	void *mem = aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE);
	if (!mem || !page_alloc_init(pa, (uint64_t)(uintptr_t)mem, pages * PAGE_SIZE))
		abort();
	return mem;
}

/*
 * QEMU/OVMF-like: default WB; fixed WB below 0xa0000, UC 0xa0000-0xbffff,
 * WP 0xc0000-0xfffff; UC 0xc0000000-0xffffffff (the 32-bit PCI hole).
 */
static void ovmf_mtrrs(struct mtrr_state *m)
{
	mtrr_init(m, 40);
	m->enabled = true;
	m->has_fixed = true;
	m->fixed_enabled = true;
	m->def_type = WB;
	for (unsigned i = 0; i < MTRR_NFIXED; i++)
		m->fixed[i] = i < 16 ? WB : i < 24 ? UC : WP;
	mtrr_set_var(m, 0, 0xc0000000ull | UC, MASK40(GB(1)));
}

/*
 * The type ovmf_mtrrs() gives an address, written out from that set-up, not
 * asked of mm/mtrr.c: the fixed ranges (SDM Vol. 3A 12.11.2.2) cover
 * [0, 0x100000): entries 0-15 (8 x 64 KiB + 8 x 16 KiB) end at 0xa0000, WB;
 * 16-23 (16 KiB each) to 0xc0000, UC; 24-87 (4 KiB each) to 0x100000, WP.
 * Above 1 MiB, variable range 0 (base 0xc0000000, a 1 GiB mask) makes
 * [3 GiB, 4 GiB) UC; everything else has the default type, WB.  Encodings
 * from SDM Vol. 3A 12.3 (Table "Memory Types"): UC 0, WP 5, WB 6.
 */
static unsigned ovmf_type(uint64_t gpa)
{
	if (gpa < 0xa0000)
		return 6; /* WB */
	if (gpa < 0xc0000)
		return 0; /* UC */
	if (gpa < 0x100000)
		return 5; /* WP */
	if (gpa >= 0xc0000000ull && gpa < 0x100000000ull)
		return 0; /* UC */
	return 6;	  /* WB */
}

static uint64_t *table_of(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & EPT_ADDR_MASK);
}

struct walk {
	bool ok;
	uint64_t hpa;
	unsigned perms, type, level;
};

static struct walk walk(uint64_t pml4, uint64_t gpa)
{
	struct walk w = {0};
	w.ok = ept_translate(pml4, gpa, &w.hpa, &w.perms, &w.type, &w.level);
	return w;
}

/* gpa is mapped identity, RWX, with the given type and leaf level. */
static bool mapped(uint64_t pml4, uint64_t gpa, unsigned type, unsigned level)
{
	struct walk w = walk(pml4, gpa);
	return w.ok && w.hpa == gpa && w.perms == EPT_RWX && w.type == type && w.level == level;
}

#define CHECK_STATS(st, g, m2, k4, tables)                                                         \
	do {                                                                                       \
		CHECK_EQ((st).leaves_1g, (g));                                                     \
		CHECK_EQ((st).leaves_2m, (m2));                                                    \
		CHECK_EQ((st).leaves_4k, (k4));                                                    \
		CHECK_EQ((st).table_pages, (tables));                                              \
	} while (0)

TEST(ept_ovmf_layout)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_stats st;
	size_t free0 = page_alloc_free_pages(&pa);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), NULL, 0, &opt_1g, &st);
	CHECK(pml4 != 0);
	CHECK_EQ(pml4 & 0xfff, 0);
	/* [0,1G): PD with a PT for the first 2 MiB; seven 1 GiB leaves. */
	CHECK_STATS(st, 7, 511, 512, 4);
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), 4);

	/* Exact entry bits: RWX, type in 5:3, ignore-PAT clear, bit 7 in leaves. */
	uint64_t *pml4t = (uint64_t *)(uintptr_t)pml4;
	CHECK_EQ(pml4t[0] & ~EPT_ADDR_MASK, EPT_RWX);
	CHECK_EQ(pml4t[1], 0);
	uint64_t *pdpt = table_of(pml4t[0]);
	CHECK_EQ(pdpt[0] & ~EPT_ADDR_MASK, EPT_RWX);
	CHECK_EQ(pdpt[1], 0x40000000ull | 0x80 | (WB << 3) | 7); /* 0x400000b7 */
	CHECK_EQ(pdpt[3], 0xc0000087ull);			 /* UC */
	CHECK_EQ(pdpt[7], 0x1c00000b7ull);
	CHECK_EQ(pdpt[8], 0);
	uint64_t *pd = table_of(pdpt[0]);
	CHECK_EQ(pd[0] & ~EPT_ADDR_MASK, EPT_RWX);
	CHECK_EQ(pd[1], 0x2000b7ull);
	CHECK_EQ(pd[511], 0x3fe000b7ull);
	uint64_t *pt = table_of(pd[0]);
	CHECK_EQ(pt[0], 0x37ull);	/* WB 4 KiB: no bit 7 */
	CHECK_EQ(pt[0xa0], 0xa0007ull); /* UC */
	CHECK_EQ(pt[0xc0], 0xc002full); /* WP */
	CHECK_EQ(pt[0x100], 0x100037ull);

	/* The walker agrees. */
	CHECK(mapped(pml4, 0, WB, 1));
	CHECK(mapped(pml4, 0x9f123, WB, 1));
	CHECK(mapped(pml4, 0xa0000, UC, 1));
	CHECK(mapped(pml4, 0xbffff, UC, 1));
	CHECK(mapped(pml4, 0xc0000, WP, 1));
	CHECK(mapped(pml4, 0xff000, WP, 1));
	CHECK(mapped(pml4, 0x100000, WB, 1));
	CHECK(mapped(pml4, 0x1ff000, WB, 1));
	CHECK(mapped(pml4, 0x200000, WB, 2));
	CHECK(mapped(pml4, GB(1) - 1, WB, 2));
	CHECK(mapped(pml4, GB(1), WB, 3));
	CHECK(mapped(pml4, GB(3) - 1, WB, 3));
	CHECK(mapped(pml4, GB(3), UC, 3));
	CHECK(mapped(pml4, 0xfee00000ull, UC, 3));
	CHECK(mapped(pml4, GB(4), WB, 3));
	CHECK(mapped(pml4, GB(8) - 1, WB, 3));
	CHECK(!walk(pml4, GB(8)).ok);
	CHECK(!walk(pml4, GB(512)).ok);
	CHECK(!walk(pml4, 1ull << 48).ok);
	free(mem);
}

TEST(ept_identity_many_addresses)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct mem_range holes[] = {HOLE(0x7f000000ull, MB(16) + KB(20))};
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(6), holes, 1, &opt_1g, NULL);
	CHECK(pml4 != 0);
	int bad = 0, n = 0, unmapped = 0;
	for (uint64_t gpa = 0; gpa < GB(6); gpa += 0x1234567ull + (gpa & 0xfff)) {
		struct walk w = walk(pml4, gpa);
		bool in_hole = gpa >= 0x7f000000ull && gpa < 0x80005000ull;
		n++;
		if (in_hole) {
			unmapped++;
			bad += w.ok;
			continue;
		}
		unsigned want = ovmf_type(gpa);
		if (!w.ok || w.hpa != gpa || w.perms != EPT_RWX || w.type != want)
			bad++;
	}
	CHECK(n > 300);
	CHECK(unmapped > 0);
	CHECK_EQ(bad, 0);
	/* Around the hole, page by page. */
	CHECK(mapped(pml4, 0x7efff000ull, WB, 2));
	CHECK(!walk(pml4, 0x7f000000ull).ok);
	CHECK(!walk(pml4, 0x80004fffull).ok);
	CHECK(mapped(pml4, 0x80005000ull, WB, 1));
	CHECK(mapped(pml4, 0x80200000ull, WB, 2));
	free(mem);
}

TEST(ept_hole_forces_4k)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_stats st;
	struct mem_range holes[] = {HOLE(0x40203000ull, KB(12))};
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), holes, 1, &opt_1g, &st);
	CHECK(pml4 != 0);
	/* [1G,2G) becomes a PD with one PT of 509 pages. */
	CHECK_STATS(st, 6, 511 + 511, 512 + 509, 6);
	CHECK(mapped(pml4, 0x40202fffull, WB, 1));
	CHECK(!walk(pml4, 0x40203000ull).ok);
	CHECK(!walk(pml4, 0x40204000ull).ok);
	CHECK(!walk(pml4, 0x40205fffull).ok);
	CHECK(mapped(pml4, 0x40206000ull, WB, 1));
	CHECK(mapped(pml4, 0x40200000ull, WB, 1));
	CHECK(mapped(pml4, 0x403ff000ull, WB, 1));
	CHECK(mapped(pml4, 0x401ff000ull, WB, 2));
	CHECK(mapped(pml4, 0x40400000ull, WB, 2));
	CHECK(mapped(pml4, GB(1), WB, 2));
	CHECK(mapped(pml4, GB(2), WB, 3));
	/* The hole's PTEs are all-zero, not merely without rights. */
	uint64_t *pdpt = table_of(((uint64_t *)(uintptr_t)pml4)[0]);
	uint64_t *pt = table_of(table_of(pdpt[1])[1]);
	CHECK_EQ(pt[3], 0);
	CHECK_EQ(pt[5], 0);
	CHECK_EQ(pt[6], 0x40206037ull);
	free(mem);
}

TEST(ept_hole_rounded_outward)
{
	/* 16 bytes at 4 GiB + 16: the whole page 4 GiB is unmapped. */
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_stats st;
	struct mem_range holes[] = {HOLE(GB(4) + 16, 16), HOLE(GB(4) + MB(4), 0)};
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(5), holes, 2, &opt_1g, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 3, 511 + 511, 512 + 511, 6);
	CHECK(!walk(pml4, GB(4)).ok);
	CHECK(!walk(pml4, GB(4) + 0xfff).ok);
	CHECK(mapped(pml4, GB(4) + KB(4), WB, 1));
	CHECK(mapped(pml4, GB(4) + MB(4), WB, 2)); /* an empty hole is none */
	free(mem);
}

TEST(ept_whole_holes_build_no_tables)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_stats st;
	/*
	 * A 2 MiB hole, a 2 MiB hole made of two touching halves listed in
	 * reverse order, and a whole 1 GiB hole.
	 */
	struct mem_range holes[] = {
	    HOLE(0x80400000ull, MB(2)),
	    HOLE(0x80900000ull, MB(1)),
	    HOLE(0x80800000ull, MB(1)),
	    HOLE(GB(5), GB(1)),
	};
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), holes, 4, &opt_1g, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 5, 511 + 510, 512, 5);
	CHECK(mapped(pml4, 0x803ff000ull, WB, 2));
	CHECK(!walk(pml4, 0x80400000ull).ok);
	CHECK(!walk(pml4, 0x805fffffull).ok);
	CHECK(mapped(pml4, 0x80600000ull, WB, 2));
	CHECK(!walk(pml4, 0x80800000ull).ok);
	CHECK(!walk(pml4, 0x809fffffull).ok);
	CHECK(mapped(pml4, 0x80a00000ull, WB, 2));
	CHECK(mapped(pml4, GB(5) - 1, WB, 3));
	CHECK(!walk(pml4, GB(5)).ok);
	CHECK(!walk(pml4, GB(6) - 1).ok);
	CHECK(mapped(pml4, GB(6), WB, 3));
	uint64_t *pdpt = table_of(((uint64_t *)(uintptr_t)pml4)[0]);
	CHECK_EQ(pdpt[5], 0);
	CHECK_EQ(table_of(pdpt[2])[2], 0);
	CHECK_EQ(table_of(pdpt[2])[4], 0);
	free(mem);
}

TEST(ept_types_follow_variable_mtrrs)
{
	/*
	 * Default UC, fixed ranges off: WB 0-4G, UC 3.5-4G, WB 4-8G,
	 * WB 8G-8.25G.  [0,1G) is now one WB leaf.
	 */
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	mtrr_init(&m, 40);
	m.enabled = true;
	m.def_type = UC;
	mtrr_set_var(&m, 0, 0 | WB, MASK40(GB(4)));
	mtrr_set_var(&m, 1, 0xe0000000ull | UC, MASK40(MB(512)));
	mtrr_set_var(&m, 2, GB(4) | WB, MASK40(GB(4)));
	mtrr_set_var(&m, 3, GB(8) | WB, MASK40(MB(256)));
	struct ept_stats st;
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(9), NULL, 0, &opt_1g, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 7, 512 + 512, 0, 4);
	CHECK(mapped(pml4, 0, WB, 3));
	CHECK(mapped(pml4, 0xa0000, WB, 3));
	CHECK(mapped(pml4, GB(2), WB, 3));
	CHECK(mapped(pml4, GB(3), WB, 2));
	CHECK(mapped(pml4, 0xdffff000ull, WB, 2));
	CHECK(mapped(pml4, 0xe0000000ull, UC, 2));
	CHECK(mapped(pml4, 0xffe00000ull, UC, 2));
	CHECK(mapped(pml4, GB(4), WB, 3));
	CHECK(mapped(pml4, GB(8) + MB(256) - 1, WB, 2));
	CHECK(mapped(pml4, GB(8) + MB(256), UC, 2));
	CHECK(mapped(pml4, GB(9) - 1, UC, 2));
	free(mem);
}

TEST(ept_mtrrs_disabled_all_uc)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	m.enabled = false;
	struct ept_stats st;
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(4), NULL, 0, &opt_1g, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 4, 0, 0, 2);
	CHECK(mapped(pml4, 0, UC, 3));
	CHECK(mapped(pml4, 0xa0000, UC, 3));
	CHECK(mapped(pml4, GB(2), UC, 3));
	free(mem);
}

TEST(ept_no_1g_uses_2m)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_stats st;
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(4), NULL, 0, &opt_2m, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 0, 2047, 512, 7);
	CHECK(mapped(pml4, 0xa0000, UC, 1));
	CHECK(mapped(pml4, MB(2), WB, 2));
	CHECK(mapped(pml4, GB(1), WB, 2));
	CHECK(mapped(pml4, GB(3) - 1, WB, 2));
	CHECK(mapped(pml4, GB(3), UC, 2));
	CHECK(mapped(pml4, GB(4) - 1, UC, 2));
	CHECK(!walk(pml4, GB(4)).ok);
	free(mem);
}

TEST(ept_4k_only)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_stats st;
	uint64_t pml4 = ept_build_identity(&pa, &m, MB(8), NULL, 0, &opt_4k, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 0, 0, 2048, 7);
	CHECK(mapped(pml4, 0, WB, 1));
	CHECK(mapped(pml4, 0xb0000, UC, 1));
	CHECK(mapped(pml4, MB(4), WB, 1));
	CHECK(mapped(pml4, MB(8) - 1, WB, 1));
	CHECK(!walk(pml4, MB(8)).ok);
	free(mem);
}

TEST(ept_1g_without_2m)
{
	/* 1 GiB leaves allowed, 2 MiB not: a mixed GiB goes straight to 4 KiB. */
	struct page_alloc pa;
	void *mem = pool_new(&pa, BIG_POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_options opt = {.page_1g = true, .page_2m = false};
	struct ept_stats st;
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(2), NULL, 0, &opt, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 1, 0, 262144, 3 + 512);
	CHECK(mapped(pml4, MB(2), WB, 1));
	CHECK(mapped(pml4, GB(1), WB, 3));
	free(mem);
}

TEST(ept_top_rounding)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_stats st;
	uint64_t top = GB(1) + MB(3) + KB(5); /* mapped up to GB(1) + MB(3) + KB(8) */
	uint64_t pml4 = ept_build_identity(&pa, &m, top, NULL, 0, &opt_1g, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 0, 511 + 1, 512 + 258, 6);
	CHECK(mapped(pml4, GB(1), WB, 2));
	CHECK(mapped(pml4, GB(1) + MB(2), WB, 1));
	CHECK(mapped(pml4, GB(1) + MB(3) + KB(4), WB, 1));
	CHECK(mapped(pml4, GB(1) + MB(3) + KB(8) - 1, WB, 1));
	CHECK(!walk(pml4, GB(1) + MB(3) + KB(8)).ok);
	CHECK(!walk(pml4, GB(1) + MB(4)).ok);
	free(mem);
}

TEST(ept_top_at_maxphyaddr)
{
	/* All of a 40-bit space: two PML4 entries; MTRR types alias nowhere. */
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_stats st;
	uint64_t pml4 = ept_build_identity(&pa, &m, 1ull << 40, NULL, 0, &opt_1g, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 1023, 511, 512, 5);
	CHECK(mapped(pml4, GB(512), WB, 3));
	CHECK(mapped(pml4, GB(512) + GB(3), WB, 3));
	CHECK(mapped(pml4, (1ull << 40) - 1, WB, 3));
	free(mem);
}

TEST(ept_bad_arguments)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, BIG_POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct ept_stats st = {1, 2, 3, 4};
	size_t free0 = page_alloc_free_pages(&pa);
	CHECK_EQ(ept_build_identity(&pa, &m, 0, NULL, 0, &opt_1g, &st), 0);
	CHECK_STATS(st, 0, 0, 0, 0);
	/* Beyond MAXPHYADDR (40) and beyond 4-level EPT (2^48). */
	CHECK_EQ(ept_build_identity(&pa, &m, (1ull << 40) + 1, NULL, 0, &opt_1g, &st), 0);
	mtrr_init(&m, 52);
	CHECK_EQ(ept_build_identity(&pa, &m, EPT_MAX_TOP + 1, NULL, 0, &opt_1g, &st), 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	/* The whole 48-bit space is fine (MTRRs off: all UC, 1 GiB leaves). */
	uint64_t pml4 = ept_build_identity(&pa, &m, EPT_MAX_TOP, NULL, 0, &opt_1g, &st);
	CHECK(pml4 != 0);
	CHECK_STATS(st, 1ull << 18, 0, 0, 1 + 512);
	CHECK(mapped(pml4, EPT_MAX_TOP - 1, UC, 3));
	free(mem);
}

TEST(ept_out_of_memory)
{
	/* The hole layout needs 6 table pages: every shortfall fails cleanly. */
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct mem_range holes[] = {HOLE(0x40203000ull, KB(12))};
	for (size_t avail = 0; avail <= 6; avail++) {
		/* A bitmap page and six pages, of which 6 - avail are taken. */
		struct page_alloc pa;
		void *mem = pool_new(&pa, 7);
		for (size_t i = avail; i < 6; i++)
			CHECK(page_alloc(&pa, 1, 1) != 0);
		CHECK_EQ(page_alloc_free_pages(&pa), avail);
		struct ept_stats st = {9, 9, 9, 9};
		uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), holes, 1, &opt_1g, &st);
		if (avail < 6) {
			CHECK_EQ(pml4, 0);
			CHECK_STATS(st, 0, 0, 0, 0);
			CHECK_EQ(page_alloc_free_pages(&pa), avail);
		} else {
			CHECK(pml4 != 0);
			CHECK_STATS(st, 6, 1022, 1021, 6);
			CHECK_EQ(page_alloc_free_pages(&pa), 0);
		}
		free(mem);
	}
}

TEST(ept_destroy_gives_pages_back)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	struct mem_range holes[] = {HOLE(0x40203000ull, KB(12))};
	size_t free0 = page_alloc_free_pages(&pa);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), holes, 1, &opt_1g, NULL);
	CHECK(pml4 != 0);
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), 6);
	ept_destroy(&pa, pml4);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	ept_destroy(&pa, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	/* Everything can be taken again: the pages really were free. */
	uint64_t again = ept_build_identity(&pa, &m, GB(8), holes, 1, &opt_1g, NULL);
	CHECK_EQ(again, pml4);
	free(mem);
}

TEST(ept_translate_rights_and_limits)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(4), NULL, 0, &opt_1g, NULL);
	CHECK(pml4 != 0);
	/* Rights are ANDed over the walk: clear W in the PDPT pointer. */
	uint64_t *pml4t = (uint64_t *)(uintptr_t)pml4;
	pml4t[0] &= ~EPT_WRITE;
	struct walk w = walk(pml4, GB(2) + 0x123);
	CHECK(w.ok);
	CHECK_EQ(w.perms, EPT_READ | EPT_EXEC);
	CHECK_EQ(w.hpa, GB(2) + 0x123);
	CHECK_EQ(w.level, 3);
	/* Execute-only in the PD entry for [0, 2M). */
	uint64_t *pd = table_of(table_of(pml4t[0])[0]);
	pd[0] = (pd[0] & ~EPT_RWX) | EPT_EXEC;
	CHECK_EQ(walk(pml4, 0x5000).perms, EPT_EXEC);
	/* Not present: bits 2:0 clear, whatever else is set. */
	pd[1] &= ~EPT_RWX;
	CHECK(!walk(pml4, MB(2)).ok);
	/* NULL out-parameters are allowed. */
	CHECK(ept_translate(pml4, GB(3), NULL, NULL, NULL, NULL));
	CHECK(!ept_translate(pml4, 1ull << 48, NULL, NULL, NULL, NULL));
	CHECK(!ept_translate(0, 0, NULL, NULL, NULL, NULL));
	free(mem);
}

TEST(ept_eptp_bits)
{
	CHECK_EQ(ept_eptp(0x12345000ull, false), 0x1234501eull);
	CHECK_EQ(ept_eptp(0x12345000ull, true), 0x1234505eull);
	CHECK_EQ(ept_eptp(0x12345fffull, false), 0x1234501eull);
	CHECK_EQ(ept_eptp(0xfffffff000ull, true), 0xfffffff05eull);
	CHECK_EQ(ept_eptp(0, false) & 7, VMX_MEMTYPE_WB);
	CHECK_EQ((ept_eptp(0, false) >> EPTP_WALK_LENGTH_SHIFT) & 7, 3);
}

/*
 * ept_set_page_rights on the local APIC page (0xfee00000, in the UC 1 GiB
 * leaf): the 1 GiB leaf becomes 512 2 MiB leaves, the one holding the page
 * 512 4 KiB leaves, all with the old type and address; only that page's
 * rights change; 2 table pages are taken; a second call splits nothing.
 */
TEST(ept_set_page_rights_splits_down_to_the_page)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), NULL, 0, &opt_1g, NULL);
	CHECK(pml4 != 0);
	CHECK(mapped(pml4, 0xfee00000ull, UC, 3));
	size_t free0 = page_alloc_free_pages(&pa);

	CHECK(ept_set_page_rights(&pa, pml4, 0xfee00abcull, EPT_READ));
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), 2);
	struct walk w = walk(pml4, 0xfee00abcull);
	CHECK(w.ok);
	CHECK_EQ(w.hpa, 0xfee00abcull);
	CHECK_EQ(w.perms, EPT_READ);
	CHECK_EQ(w.type, UC);
	CHECK_EQ(w.level, 1);
	/* The neighbours keep RWX and the type, at the smallest level needed. */
	CHECK(mapped(pml4, 0xfedff000ull, UC, 2));
	CHECK(mapped(pml4, 0xfee01000ull, UC, 1));
	CHECK(mapped(pml4, 0xfedfffffull, UC, 2));
	CHECK(mapped(pml4, 0xfeffffffull, UC, 1));
	CHECK(mapped(pml4, GB(3), UC, 2));
	CHECK(mapped(pml4, GB(4) - 1, UC, 2));
	CHECK(mapped(pml4, GB(2), WB, 3));
	for (uint64_t a = 0xfee00000ull - MB(1); a < 0xfee00000ull + MB(3); a += KB(4))
		if (a != 0xfee00000ull)
			CHECK(walk(pml4, a).perms == EPT_RWX && walk(pml4, a).hpa == a);

	/* Already 4 KiB: no new table; rights can be given back. */
	CHECK(ept_set_page_rights(&pa, pml4, 0xfee00000ull, EPT_RWX));
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), 2);
	CHECK(mapped(pml4, 0xfee00000ull, UC, 1));

	/* Not mapped, out of range, bad rights: refused, nothing changed. */
	CHECK(!ept_set_page_rights(&pa, pml4, GB(8), EPT_READ));
	CHECK(!ept_set_page_rights(&pa, pml4, 1ull << 48, EPT_READ));
	CHECK(!ept_set_page_rights(&pa, pml4, 0, 8));
	CHECK(!ept_set_page_rights(&pa, 0, 0, EPT_READ));
	CHECK_EQ(walk(pml4, 0).perms, EPT_RWX);
	free(mem);
}

TEST(ept_set_page_rights_out_of_memory_changes_nothing)
{
	struct page_alloc pa;
	void *mem = pool_new(&pa, POOL_PAGES);
	struct mtrr_state m;
	ovmf_mtrrs(&m);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(4), NULL, 0, &opt_1g, NULL);
	CHECK(pml4 != 0);
	while (page_alloc(&pa, 1, 1))
		;
	CHECK(!ept_set_page_rights(&pa, pml4, 0xfee00000ull, EPT_READ));
	CHECK(mapped(pml4, 0xfee00000ull, UC, 3));
	free(mem);
}
