/*
 * test_ept_retype.c - mm/ept.c changing an EPT in use: ept_retype (the
 * memory types of new MTRRs, leaves split where a range has several types
 * and merged back where it has one again), ept_set_page_rights_from and
 * ept_table_pages, with the pages counted exactly: a variable range that
 * splits a 1 GiB leaf, its removal merging the table back with the page
 * count and the whole EPT as a fresh build made them, E = 0 making every
 * leaf UC, fixed ranges below 1 MiB in 4 KiB leaves, the hole never
 * mapped and a read-only page kept read-only, no page left (UC leaves),
 * leaf sizes the CPU does not offer, a non-contiguous mask bounded by the
 * pool, and 10,000 alternating rewrites giving every page back.
 *
 * Expected types are written out from the MTRR set-ups (SDM Vol. 3A
 * 12.11), not asked of mm/mtrr.c: UC 0, WC 1, WT 4, WP 5, WB 6.
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

#define UC 0
#define WC 1
#define WT 4
#define WP 5
#define WB 6

#define MASK40(size) ((((1ull << 40) - 1) & ~((uint64_t)(size)-1)) | MTRR_PHYSMASK_VALID)
#define HV_BASE 0x0d000000ull /* L0's memory: PD entries 104-111 of [0, 1G) */
#define HV_SIZE MB(16)
#define APIC 0xfee00000ull
#define POOL_PAGES 512
#define UNLINKED_MAX 16

static const struct ept_options opt_1g = {.page_1g = true, .page_2m = true};
static const struct ept_options opt_2m = {.page_1g = false, .page_2m = true};
static const struct ept_options opt_4k = {.page_1g = false, .page_2m = false};

static struct page_alloc pa;
static void *mem;
static uint64_t unlinked[UNLINKED_MAX];

static void pool_setup(size_t pages)
{
	mem = aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE);
	if (!mem || !page_alloc_init(&pa, (uint64_t)(uintptr_t)mem, pages * PAGE_SIZE))
		abort();
}

/* A pool over pa with avail pages and room for UNLINKED_MAX unlinked tables. */
static struct ept_pool pool_of(uint64_t avail)
{
	return (struct ept_pool){
	    .pa = &pa, .avail = avail, .unlinked = unlinked, .max_unlinked = UNLINKED_MAX};
}

/* Frees what the pool unlinked (as ept01 does once every CPU flushed). */
static void free_unlinked(struct ept_pool *p)
{
	for (size_t i = 0; i < p->nunlinked; i++)
		CHECK(page_free(&pa, p->unlinked[i], 1));
	p->nunlinked = 0;
}

/*
 * QEMU/OVMF-like: default WB; fixed WB below 0xa0000, UC 0xa0000-0xbffff,
 * WP 0xc0000-0xfffff; variable range 0 UC at [3G, 4G).
 */
static void ovmf(struct mtrr_state *m)
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

/* ovmf plus variable range 1: WC at [5G, 5G + 16M) (a frame buffer). */
static void ovmf_fb(struct mtrr_state *m)
{
	ovmf(m);
	mtrr_set_var(m, 1, (GB(5) + 0) | WC, MASK40(MB(16)));
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

static bool mapped(uint64_t pml4, uint64_t gpa, unsigned type, unsigned level)
{
	struct walk w = walk(pml4, gpa);
	return w.ok && w.hpa == gpa && w.perms == EPT_RWX && w.type == type && w.level == level;
}

static uint64_t *table_of(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & EPT_ADDR_MASK);
}

/* Two EPTs map alike: the same leaves (bits and all) and the same table shape. */
static bool same_tables(const uint64_t *a, const uint64_t *b, unsigned level)
{
	for (unsigned i = 0; i < 512; i++) {
		bool leaf = level == 1 || (level <= 3 && (a[i] & EPT_LEAF));
		if (!(a[i] & EPT_RWX) || leaf) {
			if (a[i] != b[i])
				return false;
			continue;
		}
		if ((b[i] & ~EPT_ADDR_MASK) != (a[i] & ~EPT_ADDR_MASK) ||
		    !same_tables(table_of(a[i]), table_of(b[i]), level - 1))
			return false;
	}
	return true;
}

static bool same_ept(uint64_t a, uint64_t b)
{
	return same_tables((uint64_t *)(uintptr_t)a, (uint64_t *)(uintptr_t)b, 4);
}

#define CHECK_RETYPE(st, r, s, m, u)                                                               \
	do {                                                                                       \
		CHECK_EQ((st).retyped, (r));                                                       \
		CHECK_EQ((st).split, (s));                                                         \
		CHECK_EQ((st).merged, (m));                                                        \
		CHECK_EQ((st).uc_fallback, (u));                                                   \
	} while (0)

/* A WC range in [5G, 6G) splits its 1 GiB leaf into 2 MiB leaves of two types. */
TEST(ept_retype_range_splits_1g_leaf)
{
	pool_setup(POOL_PAGES);
	struct mtrr_state m, fb;
	ovmf(&m);
	ovmf_fb(&fb);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), NULL, 0, &opt_1g, NULL);
	CHECK_EQ(ept_table_pages(pml4), 4); /* PML4, PDPT, PD [0,1G), PT [0,2M) */
	size_t free0 = page_alloc_free_pages(&pa);
	struct ept_pool p = pool_of(100);
	struct ept_retype_stats st;
	ept_retype(pml4, &fb, &opt_1g, &p, &st);
	CHECK_RETYPE(st, 0, 1, 0, 0);
	CHECK_EQ(p.taken, 1);
	CHECK_EQ(p.avail, 99);
	CHECK_EQ(p.nunlinked, 0);
	CHECK_EQ(ept_table_pages(pml4), 5);
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), 1);
	CHECK(mapped(pml4, GB(5), WC, 2));
	CHECK(mapped(pml4, GB(5) + MB(16) - 1, WC, 2));
	CHECK(mapped(pml4, GB(5) + MB(16), WB, 2));
	CHECK(mapped(pml4, GB(6) - 1, WB, 2));
	CHECK(mapped(pml4, GB(6), WB, 3));
	CHECK(mapped(pml4, GB(5) - 1, WB, 3));
	CHECK(mapped(pml4, GB(3) + MB(5), UC, 3));
	CHECK(mapped(pml4, 0xa0000, UC, 1));
	CHECK(mapped(pml4, 0xc0000, WP, 1));
	/* The new leaves: 2 MiB, bit 7, "ignore PAT" (bit 6) clear, identity. */
	uint64_t *pdpt = table_of(((uint64_t *)(uintptr_t)pml4)[0]);
	uint64_t *pd = table_of(pdpt[5]);
	CHECK_EQ(pdpt[5] & ~EPT_ADDR_MASK, EPT_RWX);
	CHECK_EQ(pd[0], GB(5) | 0x80 | (WC << 3) | 7);
	CHECK_EQ(pd[8], (GB(5) + MB(16)) | 0x80 | (WB << 3) | 7);
	free(mem);
}

/* The range removed: the table merges back, its page is handed over, the EPT is as built. */
TEST(ept_retype_range_removed_merges_back)
{
	pool_setup(POOL_PAGES);
	struct mtrr_state m, fb;
	ovmf(&m);
	ovmf_fb(&fb);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), NULL, 0, &opt_1g, NULL);
	size_t free0 = page_alloc_free_pages(&pa);
	struct ept_pool p = pool_of(100);
	ept_retype(pml4, &fb, &opt_1g, &p, NULL);
	uint64_t *pdpt = table_of(((uint64_t *)(uintptr_t)pml4)[0]);
	uint64_t pd = pdpt[5] & EPT_ADDR_MASK;
	struct ept_retype_stats st;
	p = pool_of(100);
	ept_retype(pml4, &m, &opt_1g, &p, &st);
	CHECK_RETYPE(st, 8, 0, 1, 0); /* the 8 WC leaves, bottom up, then the merge */
	CHECK_EQ(p.taken, 0);
	CHECK_EQ(p.nunlinked, 1);
	CHECK_EQ(unlinked[0], pd);
	/* Unlinked, not freed: a CPU may still cache the PDPTE, so the table stays a valid map. */
	CHECK_EQ(((uint64_t *)(uintptr_t)pd)[0], GB(5) | 0x80 | (WB << 3) | 7);
	CHECK_EQ(((uint64_t *)(uintptr_t)pd)[511], (GB(6) - MB(2)) | 0x80 | (WB << 3) | 7);
	CHECK_EQ(pdpt[5], GB(5) | 0x80 | (WB << 3) | 7);
	CHECK(mapped(pml4, GB(5), WB, 3));
	CHECK_EQ(ept_table_pages(pml4), 4);
	free_unlinked(&p);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);

	/* Entry for entry what a fresh build of the same MTRRs makes. */
	uint64_t fresh = ept_build_identity(&pa, &m, GB(8), NULL, 0, &opt_1g, NULL);
	CHECK(same_ept(pml4, fresh));
	free(mem);
}

/* SDM Vol. 3A 12.11.2.1: E = 0 makes all memory UC; the tables that become uniform merge. */
TEST(ept_retype_mtrrs_disabled_uc_everywhere)
{
	pool_setup(POOL_PAGES);
	struct mtrr_state m, off;
	ovmf(&m);
	ovmf(&off);
	off.enabled = false;
	struct mem_range hole = {.base = HV_BASE, .size = HV_SIZE, .type = MEM_HYPERVISOR};
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), &hole, 1, &opt_1g, NULL);
	CHECK_EQ(ept_table_pages(pml4), 4);
	struct ept_pool p = pool_of(100);
	struct ept_retype_stats st;
	ept_retype(pml4, &off, &opt_1g, &p, &st);
	/*
	 * [0, 2M): 480 4 KiB leaves retyped (512 but the 32 UC of 0xa0000), then
	 * the PT merged; [0, 1G): 503 WB 2 MiB leaves (511 but the hole's 8);
	 * [1G, 3G) and [4G, 8G): 6 WB leaves; [3G, 4G) was UC.
	 */
	CHECK_RETYPE(st, 480 + 503 + 6, 0, 1, 0);
	CHECK_EQ(ept_table_pages(pml4), 3); /* the PD stays: the hole is in it */
	CHECK(mapped(pml4, 0, UC, 2));
	CHECK(mapped(pml4, 0xa0000, UC, 2));
	CHECK(mapped(pml4, 0xc0000, UC, 2));
	CHECK(mapped(pml4, HV_BASE - 1, UC, 2));
	CHECK(!walk(pml4, HV_BASE).ok);
	CHECK(!walk(pml4, HV_BASE + HV_SIZE - 1).ok);
	CHECK(mapped(pml4, HV_BASE + HV_SIZE, UC, 2));
	CHECK(mapped(pml4, GB(2), UC, 3));
	CHECK(mapped(pml4, GB(3), UC, 3));
	CHECK(mapped(pml4, GB(8) - 1, UC, 3));
	CHECK(!walk(pml4, GB(8)).ok);
	free(mem);
}

/* Fixed ranges below 1 MiB (SDM Vol. 3A 12.11.2.2) change the 4 KiB leaves of [0, 1M). */
TEST(ept_retype_fixed_ranges)
{
	pool_setup(POOL_PAGES);
	struct mtrr_state m, fx;
	ovmf(&m);
	ovmf(&fx);
	for (unsigned i = 0; i < 8; i++)
		fx.fixed[i] = WT; /* 0x00000-0x7ffff: 64 KiB units */
	fx.fixed[24] = UC;	  /* 0xc0000-0xc0fff */
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), NULL, 0, &opt_1g, NULL);
	struct ept_pool p = pool_of(100);
	struct ept_retype_stats st;
	ept_retype(pml4, &fx, &opt_1g, &p, &st);
	CHECK_RETYPE(st, 128 + 1, 0, 0, 0);
	CHECK(mapped(pml4, 0, WT, 1));
	CHECK(mapped(pml4, 0x7f000, WT, 1));
	CHECK(mapped(pml4, 0x80000, WB, 1));
	CHECK(mapped(pml4, 0xa0000, UC, 1));
	CHECK(mapped(pml4, 0xc0000, UC, 1));
	CHECK(mapped(pml4, 0xc1000, WP, 1));
	CHECK(mapped(pml4, 0xff000, WP, 1));
	CHECK(mapped(pml4, 0x100000, WB, 1));
	/* FE = 0: the fixed ranges no longer count, [0, 2M) is WB and merges. */
	fx.fixed_enabled = false;
	p = pool_of(100);
	ept_retype(pml4, &fx, &opt_1g, &p, &st);
	CHECK_RETYPE(st, 128 + 32 + 64, 0, 2, 0); /* the PT, then the PD of [0, 1G) */
	CHECK(mapped(pml4, 0xa0000, WB, 3));
	CHECK(mapped(pml4, 0, WB, 3));
	CHECK_EQ(ept_table_pages(pml4), 2);
	free(mem);
}

/* The hole stays unmapped and a read-only page read-only, whatever the types. */
TEST(ept_retype_keeps_hole_and_read_only_page)
{
	pool_setup(POOL_PAGES);
	struct mtrr_state m, wb;
	ovmf(&m);
	ovmf(&wb);
	wb.var[0].valid = false; /* [3G, 4G) WB now */
	struct mem_range hole = {.base = HV_BASE, .size = HV_SIZE, .type = MEM_HYPERVISOR};
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), &hole, 1, &opt_1g, NULL);
	CHECK(ept_set_page_rights(&pa, pml4, APIC, EPT_READ));
	CHECK_EQ(ept_table_pages(pml4), 6); /* + PD [3G,4G), PT of the APIC page */
	struct ept_pool p = pool_of(100);
	struct ept_retype_stats st;
	ept_retype(pml4, &wb, &opt_1g, &p, &st);
	/* 511 2 MiB leaves and 512 4 KiB leaves of [3G, 4G): UC -> WB; nothing merges. */
	CHECK_RETYPE(st, 511 + 512, 0, 0, 0);
	struct walk w = walk(pml4, APIC);
	CHECK(w.ok && w.hpa == APIC && w.perms == EPT_READ && w.type == WB && w.level == 1);
	CHECK(mapped(pml4, APIC + 0x1000, WB, 1));
	CHECK(mapped(pml4, APIC - 0x1000, WB, 2));
	CHECK(mapped(pml4, GB(3), WB, 2));
	CHECK(!walk(pml4, HV_BASE).ok);
	CHECK(!walk(pml4, HV_BASE + HV_SIZE - 1).ok);
	CHECK_EQ(ept_table_pages(pml4), 6);

	/* The page writable again: its PT and then its PD merge, bottom up. */
	CHECK(ept_set_page_rights_from(&p, pml4, APIC, EPT_RWX));
	ept_retype(pml4, &wb, &opt_1g, &p, &st);
	CHECK_RETYPE(st, 0, 0, 2, 0);
	CHECK(mapped(pml4, APIC, WB, 3));
	CHECK_EQ(ept_table_pages(pml4), 4);
	CHECK(!walk(pml4, HV_BASE).ok);
	free(mem);
}

/* No page left: a range of several types is one UC leaf; with a page it splits. */
TEST(ept_retype_no_page_left_is_uc)
{
	pool_setup(POOL_PAGES);
	struct mtrr_state m, fb;
	ovmf(&m);
	ovmf_fb(&fb);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), NULL, 0, &opt_1g, NULL);
	size_t free0 = page_alloc_free_pages(&pa);
	struct ept_pool p = pool_of(0);
	struct ept_retype_stats st;
	ept_retype(pml4, &fb, &opt_1g, &p, &st);
	CHECK_RETYPE(st, 1, 0, 0, 1);
	CHECK_EQ(p.taken, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	CHECK(mapped(pml4, GB(5), UC, 3));
	CHECK(mapped(pml4, GB(6) - 1, UC, 3));
	/* The same MTRRs again, now with a page: the UC leaf splits as it should. */
	p = pool_of(1);
	ept_retype(pml4, &fb, &opt_1g, &p, &st);
	CHECK_RETYPE(st, 0, 1, 0, 0);
	CHECK(mapped(pml4, GB(5), WC, 2));
	CHECK(mapped(pml4, GB(5) + MB(16), WB, 2));

	/* One page where two are needed: the PD, and its 2 MiB of two types UC. */
	struct mtrr_state small;
	ovmf(&small);
	mtrr_set_var(&small, 1, (GB(6) + KB(4)) | WC, MASK40(KB(4)));
	p = pool_of(1);
	ept_retype(pml4, &small, &opt_1g, &p, &st);
	CHECK_RETYPE(st, 8, 1, 1, 1); /* [5G, 6G): 8 WC leaves to WB, merged; [6G, 7G) split */
	CHECK_EQ(p.taken, 1);
	CHECK(mapped(pml4, GB(6), UC, 2));
	CHECK(mapped(pml4, GB(6) + MB(2), WB, 2));
	CHECK(mapped(pml4, GB(5), WB, 3)); /* the frame buffer's table merged back */
	free(mem);
}

/* Without 1 GiB leaves: a PT splits a 2 MiB leaf and merges back; 4 KiB only: no merge. */
TEST(ept_retype_leaf_sizes_offered)
{
	pool_setup(POOL_PAGES);
	struct mtrr_state m, wc;
	ovmf(&m);
	ovmf(&wc);
	mtrr_set_var(&wc, 1, GB(2) | WC, MASK40(KB(64)));
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(4), NULL, 0, &opt_2m, NULL);
	uint64_t tables = ept_table_pages(pml4);
	struct ept_pool p = pool_of(100);
	struct ept_retype_stats st;
	ept_retype(pml4, &wc, &opt_2m, &p, &st);
	CHECK_RETYPE(st, 0, 1, 0, 0);
	CHECK(mapped(pml4, GB(2), WC, 1));
	CHECK(mapped(pml4, GB(2) + KB(60), WC, 1));
	CHECK(mapped(pml4, GB(2) + KB(64), WB, 1));
	CHECK(mapped(pml4, GB(2) + MB(2), WB, 2));
	p = pool_of(100);
	ept_retype(pml4, &m, &opt_2m, &p, &st);
	CHECK_RETYPE(st, 16, 0, 1, 0); /* never into a 1 GiB leaf: not offered */
	CHECK(mapped(pml4, GB(2), WB, 2));
	CHECK_EQ(ept_table_pages(pml4), tables);
	free_unlinked(&p);

	/* 4 KiB leaves only: types change in place, tables never merge. */
	uint64_t small = ept_build_identity(&pa, &m, MB(4), NULL, 0, &opt_4k, NULL);
	struct mtrr_state off;
	ovmf(&off);
	off.enabled = false;
	p = pool_of(100);
	ept_retype(small, &off, &opt_4k, &p, &st);
	CHECK_RETYPE(st, 1024 - 32, 0, 0, 0); /* all but the 32 UC pages of 0xa0000 */
	CHECK(mapped(small, 0, UC, 1));
	CHECK(mapped(small, MB(4) - 1, UC, 1));
	CHECK_EQ(ept_table_pages(small), 5); /* PML4, PDPT, PD, 2 PTs */
	free(mem);
}

/*
 * A non-contiguous mask (SDM Vol. 3A 12.11.2.3 allows it) alternates the
 * type every 4 KiB: mapping it exactly would take a PT per 2 MiB.  The
 * pool bounds what it takes; the rest is UC, and everything stays mapped.
 */
TEST(ept_retype_noncontiguous_mask_bounded_by_pool)
{
	pool_setup(POOL_PAGES);
	struct mtrr_state m, comb;
	ovmf(&m);
	ovmf(&comb);
	mtrr_set_var(&comb, 1, 0 | WC, 0x1000 | MTRR_PHYSMASK_VALID);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), NULL, 0, &opt_1g, NULL);
	size_t free0 = page_alloc_free_pages(&pa);
	struct ept_pool p = pool_of(10);
	struct ept_retype_stats st;
	ept_retype(pml4, &comb, &opt_1g, &p, &st);
	CHECK(p.taken <= 10);
	CHECK(free0 - page_alloc_free_pages(&pa) <= 10);
	CHECK(st.uc_fallback > 0);
	int bad = 0, exact = 0;
	for (uint64_t gpa = 0; gpa < GB(8); gpa += MB(7) + KB(4)) {
		/* Fixed ranges below 1 MiB; then UC [3G, 4G) wins; then WC where bit 12 is 0. */
		unsigned want = gpa < 0xa0000		       ? WB
				: gpa < 0xc0000		       ? UC
				: gpa < 0x100000	       ? WP
				: gpa >= GB(3) && gpa < GB(4) ? UC
				: !(gpa & 0x1000)	       ? WC
							       : WB;
		struct walk w = walk(pml4, gpa);
		if (!w.ok || w.hpa != gpa || w.perms != EPT_RWX || (w.type != want && w.type != UC))
			bad++;
		exact += w.ok && w.type == want;
	}
	CHECK(exact > 0);
	CHECK_EQ(bad, 0);
	free(mem);
}

/* An L1 rewriting its MTRRs in a loop: every page a split takes comes back after the merge. */
TEST(ept_retype_10000_rewrites_give_pages_back)
{
	pool_setup(POOL_PAGES);
	struct mtrr_state m, fb;
	ovmf(&m);
	ovmf_fb(&fb);
	uint64_t pml4 = ept_build_identity(&pa, &m, GB(8), NULL, 0, &opt_1g, NULL);
	size_t free0 = page_alloc_free_pages(&pa);
	unsigned wrong = 0;
	for (unsigned i = 0; i < 10000; i++) {
		struct ept_pool p = pool_of(100);
		struct ept_retype_stats st;
		ept_retype(pml4, (i & 1) ? &m : &fb, &opt_1g, &p, &st);
		if (i & 1)
			wrong += st.merged != 1 || p.nunlinked != 1;
		else
			wrong += st.split != 1 || p.taken != 1;
		free_unlinked(&p);
	}
	CHECK_EQ(wrong, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	CHECK_EQ(ept_table_pages(pml4), 4);
	CHECK(mapped(pml4, GB(5), WB, 3));
	free(mem);
}

/*
 * 1 GiB leaves but no 2 MiB ones (SDM Vol. 3C 29.3.2 lets a CPU offer
 * either): splitting a 1 GiB leaf takes a PD and a PT per 2 MiB.  Short of
 * pages half-way, every page taken goes back (none was ever linked) and
 * the leaf is one UC leaf.
 */
TEST(ept_retype_split_given_up_gives_pages_back)
{
	pool_setup(2 * POOL_PAGES);
	const struct ept_options opt_1g_only = {.page_1g = true, .page_2m = false};
	struct mtrr_state wb, fb;
	mtrr_init(&wb, 40);
	wb.enabled = true;
	wb.def_type = WB;
	fb = wb;
	mtrr_set_var(&fb, 0, GB(5) | WC, MASK40(MB(16)));
	uint64_t pml4 = ept_build_identity(&pa, &wb, GB(8), NULL, 0, &opt_1g_only, NULL);
	CHECK_EQ(ept_table_pages(pml4), 2);
	size_t free0 = page_alloc_free_pages(&pa);
	struct ept_pool p = pool_of(10);
	struct ept_retype_stats st;
	ept_retype(pml4, &fb, &opt_1g_only, &p, &st);
	CHECK_RETYPE(st, 1, 0, 0, 1);
	CHECK_EQ(p.taken, 0);
	CHECK_EQ(p.avail, 10);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	CHECK(mapped(pml4, GB(5), UC, 3));
	CHECK(mapped(pml4, GB(4), WB, 3));
	/* With the pages: a PD of PTs, 4 KiB leaves only, exact types. */
	p = pool_of(513);
	ept_retype(pml4, &fb, &opt_1g_only, &p, &st);
	CHECK_RETYPE(st, 0, 1, 0, 0);
	CHECK_EQ(p.taken, 513);
	CHECK(mapped(pml4, GB(5), WC, 1));
	CHECK(mapped(pml4, GB(5) + MB(16), WB, 1));
	free(mem);
}
