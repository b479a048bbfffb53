/*
 * test_ept02.c - nested/ept02.c on a page allocator over a host buffer:
 * roots keyed by L1's EPTP (found again, LRU eviction naming the evicted
 * PML4), 4-KiB leaves with exact entry values, an upgrade of an existing
 * leaf reported for INVEPT, the page bound dropping every root, the
 * reserve carrying a fill when the allocator has nothing, and every page
 * given back.
 */
#include "test.h"

#include "nested/ept02.h"
#include "vmx/vmx_arch.h"

#include <stdlib.h>

static struct page_alloc pa;
static void *buf;
static struct ept02 c;

static void setup(uint64_t max_pages)
{
	free(buf);
	buf = aligned_alloc(PAGE_SIZE, 64 * PAGE_SIZE);
	CHECK(buf && page_alloc_init(&pa, (uint64_t)(uintptr_t)buf, 64 * PAGE_SIZE));
	CHECK(ept02_init(&c, &pa, NULL, max_pages));
	CHECK_EQ(c.nreserve, EPT02_RESERVE);
}

#define EPTP12(n) (0x10000000ull * (n) | 0x5e) /* WB, walk 4, A/D */
#define GPA2 0x0000001234567000ull

TEST(ept02_roots_by_eptp12_lru)
{
	setup(32);
	size_t free0 = page_alloc_free_pages(&pa);
	uint64_t ev = 99, r[EPT02_ROOTS + 1];
	for (unsigned i = 0; i < EPT02_ROOTS; i++) {
		r[i] = ept02_root_for(&c, EPTP12(i + 1), &ev);
		CHECK(r[i] != 0);
		CHECK_EQ(ev, 0);
	}
	CHECK_EQ(c.pages, EPT02_ROOTS);
	/* Found again, not made again. */
	CHECK_EQ(ept02_root_for(&c, EPTP12(1), &ev), r[0]);
	CHECK_EQ(ept02_find(&c, EPTP12(3)), r[2]);
	CHECK_EQ(ept02_find(&c, EPTP12(9)), 0);
	/* A fifth: the least recently used (EPTP12(2)) goes, its PML4 named. */
	r[EPT02_ROOTS] = ept02_root_for(&c, EPTP12(9), &ev);
	CHECK_EQ(ev, r[1]);
	CHECK_EQ(c.evictions, 1);
	CHECK_EQ(ept02_find(&c, EPTP12(2)), 0);
	CHECK_EQ(ept02_find(&c, EPTP12(1)), r[0]);
	/* Dropping by EPTP[51:12]: an EPTP differing in A/D or memory type is the same tables. */
	uint64_t d[EPT02_ROOTS];
	CHECK_EQ(ept02_drop(&c, EPTP12(1) & ~0x7full, d), 1);
	CHECK_EQ(d[0], r[0]);
	CHECK_EQ(ept02_drop(&c, EPTP12(1), d), 0);
	/* Two roots for one PML4 (A/D on and off): both go. */
	uint64_t ad_off = ept02_root_for(&c, EPTP12(4) & ~EPTP_AD_ENABLE, &ev);
	CHECK(ad_off != 0 && ad_off != r[3]);
	CHECK_EQ(ept02_drop(&c, EPTP12(4), d), 2);
	ept02_drop_all(&c);
	CHECK_EQ(c.pages, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}

TEST(ept02_leaves)
{
	setup(32);
	size_t free0 = page_alloc_free_pages(&pa);
	uint64_t ev, pml4 = ept02_root_for(&c, EPTP12(1), &ev);
	CHECK_EQ(ept02_leaf(pml4, GPA2), 0);
	CHECK_EQ(ept02_map(&c, pml4, GPA2 | 0x123, 0x7654321000ull, 1, EPT_READ | EPT_EXEC, 6, false),
		 EPT02_MAPPED);
	CHECK_EQ(ept02_leaf(pml4, GPA2), 0x7654321000ull | EPT_READ | EPT_EXEC | (6ull << 3));
	CHECK_EQ(c.pages, 4); /* PML4, PDPT, PD, PT */
	/* The neighbour page shares the tables. */
	CHECK_EQ(ept02_map(&c, pml4, GPA2 + 0x1000, 0x1000, 1, EPT_RWX, 0, true), EPT02_MAPPED);
	CHECK_EQ(ept02_leaf(pml4, GPA2 + 0x1000), 0x1000 | EPT_RWX | EPT_IGNORE_PAT);
	CHECK_EQ(c.pages, 4);
	/* The same leaf again, now writable: an upgrade to invalidate. */
	CHECK_EQ(ept02_map(&c, pml4, GPA2, 0x7654321000ull, 1, EPT_RWX, 6, false), EPT02_UPGRADED);
	CHECK_EQ(ept02_leaf(pml4, GPA2), 0x7654321000ull | EPT_RWX | (6ull << 3));
	CHECK_EQ(c.fills, 2);
	CHECK_EQ(c.upgrades, 1);
	/* Another root does not see them. */
	uint64_t other = ept02_root_for(&c, EPTP12(2), &ev);
	CHECK_EQ(ept02_leaf(other, GPA2), 0);
	ept02_drop_all(&c);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}

/* The bound: a fill that needs one page more fails; the caller drops every root. */
TEST(ept02_page_bound)
{
	setup(5);
	size_t free0 = page_alloc_free_pages(&pa);
	uint64_t ev, pml4 = ept02_root_for(&c, EPTP12(1), &ev);
	CHECK_EQ(ept02_map(&c, pml4, 0, 0x1000, 1, EPT_RWX, 6, false), EPT02_MAPPED);
	CHECK_EQ(c.pages, 4);
	/* 1 GiB away: a new PD and PT are needed, one page more than the bound. */
	CHECK_EQ(ept02_map(&c, pml4, 1ull << 30, 0x2000, 1, EPT_RWX, 6, false), EPT02_FULL);
	CHECK_EQ(c.overflows, 1);
	CHECK_EQ(ept02_leaf(pml4, 0), 0x1000 | EPT_RWX | (6ull << 3)); /* nothing dropped yet */
	ept02_drop_all(&c);
	CHECK_EQ(c.pages, 0);
	CHECK_EQ(ept02_find(&c, EPTP12(1)), 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	/* Filling starts over. */
	pml4 = ept02_root_for(&c, EPTP12(1), &ev);
	CHECK_EQ(ept02_map(&c, pml4, 1ull << 30, 0x2000, 1, EPT_RWX, 6, false), EPT02_MAPPED);
	ept02_drop_all(&c);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}

/* The allocator empty: the reserve makes one root and one leaf, and is refilled on drop. */
TEST(ept02_reserve_when_allocator_is_empty)
{
	setup(32);
	uint64_t hog[64];
	unsigned n = 0;
	while (n < 64 && (hog[n] = page_alloc(&pa, 1, 1)) != 0)
		n++;
	CHECK_EQ(page_alloc_free_pages(&pa), 0);
	uint64_t ev, pml4 = ept02_root_for(&c, EPTP12(1), &ev);
	CHECK(pml4 != 0);
	CHECK_EQ(ept02_map(&c, pml4, GPA2, 0x5000, 1, EPT_RWX, 6, false), EPT02_MAPPED);
	CHECK_EQ(c.nreserve, 0);
	CHECK_EQ(ept02_leaf(pml4, GPA2), 0x5000 | EPT_RWX | (6ull << 3));
	/* A second 2-MiB region needs a page more: none left; dropping refills the reserve. */
	CHECK_EQ(ept02_map(&c, pml4, GPA2 + (1ull << 21), 0x6000, 1, EPT_RWX, 6, false), EPT02_FULL);
	ept02_drop_all(&c);
	CHECK_EQ(c.nreserve, EPT02_RESERVE);
	CHECK_EQ(c.pages, 0);
	/* And it starts over from the reserve. */
	pml4 = ept02_root_for(&c, EPTP12(1), &ev);
	CHECK_EQ(ept02_map(&c, pml4, GPA2 + (1ull << 21), 0x6000, 1, EPT_RWX, 6, false), EPT02_MAPPED);
	CHECK_EQ(ept02_leaf(pml4, GPA2), 0); /* zeroed pages from the reserve */
	ept02_drop_all(&c);
	while (n)
		page_free(&pa, hog[--n], 1);
}

/*
 * Large leaves: a 2-MiB leaf over a range that had 4-KiB leaves frees
 * their page table and is a change (INVEPT); a 4-KiB fill under a 1-GiB
 * leaf makes the tables in its place (a change); the bound counts it all.
 */
TEST(ept02_large_leaves)
{
	setup(32);
	size_t free0 = page_alloc_free_pages(&pa);
	uint64_t evicted, pml4 = ept02_root_for(&c, EPTP12(1), &evicted);
	CHECK_EQ(ept02_map(&c, pml4, GPA2, 0x7654321000ull, 1, EPT_RWX, 6, false), EPT02_MAPPED);
	uint64_t pages = c.pages; /* PML4, PDPT, PD, PT */
	CHECK_EQ(pages, 4);
	uint64_t base2m = GPA2 & ~0x1fffffull;
	CHECK_EQ(ept02_map(&c, pml4, GPA2, 0x40000000ull, 2, EPT_READ | EPT_EXEC, 6, true),
		 EPT02_UPGRADED);
	CHECK_EQ(c.pages, 3); /* the page table went */
	CHECK_EQ(ept02_leaf(pml4, GPA2 + 0x5000),
		 0x40000000ull | EPT_LEAF | EPT_READ | EPT_EXEC | (6ull << 3) | EPT_IGNORE_PAT);
	CHECK_EQ(ept02_leaf(pml4, base2m), ept02_leaf(pml4, GPA2));
	/* The same 2-MiB leaf again (rights upgraded): a change, no page. */
	CHECK_EQ(ept02_map(&c, pml4, GPA2, 0x40000000ull, 2, EPT_RWX, 6, false), EPT02_UPGRADED);
	CHECK_EQ(c.pages, 3);
	/* A 1-GiB leaf: the PD goes. */
	CHECK_EQ(ept02_map(&c, pml4, GPA2, 0x80000000ull, 3, EPT_RWX, 0, false), EPT02_UPGRADED);
	CHECK_EQ(c.pages, 2);
	CHECK_EQ(ept02_leaf(pml4, GPA2 & ~0x3fffffffull), 0x80000000ull | EPT_LEAF | EPT_RWX);
	/* A 4-KiB leaf under it: a PD and a PT in its place, the rest of the GiB empty. */
	CHECK_EQ(ept02_map(&c, pml4, GPA2, 0x1000, 1, EPT_RWX, 6, false), EPT02_UPGRADED);
	CHECK_EQ(c.pages, 4);
	CHECK_EQ(ept02_leaf(pml4, GPA2), 0x1000 | EPT_RWX | (6ull << 3));
	CHECK_EQ(ept02_leaf(pml4, GPA2 + 0x1000), 0);
	CHECK_EQ(ept02_leaf(pml4, GPA2 & ~0x3fffffffull), 0);
	/* Dropping the root frees every table, none taken for a leaf. */
	uint64_t pml4s[EPT02_ROOTS];
	CHECK_EQ(ept02_drop(&c, EPTP12(1), pml4s), 1);
	CHECK_EQ(c.pages, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}

/* A 5-level EPTP12: EPT02 has a PML5 on top, one more table per first leaf, all freed. */
TEST(ept02_five_levels)
{
	setup(32);
	size_t free0 = page_alloc_free_pages(&pa);
	uint64_t eptp5 = (EPTP12(1) & ~(7ull << 3)) | (4ull << 3);
	uint64_t evicted, root = ept02_root_for(&c, eptp5, &evicted);
	CHECK(root != 0);
	CHECK_EQ(c.root[0].levels, 5);
	/* An address with bit 48 set: only a 5-level walk reaches it. */
	uint64_t gpa2 = (1ull << 48) | GPA2;
	CHECK_EQ(ept02_map(&c, root, gpa2, 0x7000, 1, EPT_RWX, 6, false), EPT02_MAPPED);
	CHECK_EQ(c.pages, 5); /* PML5, PML4, PDPT, PD, PT */
	CHECK_EQ(ept02_leaf_in(root, 5, gpa2), 0x7000 | EPT_RWX | (6ull << 3));
	CHECK_EQ(ept02_leaf_in(root, 5, GPA2), 0);
	/* PML5 entry 1 holds it: index (gpa >> 48) & 511. */
	CHECK(((uint64_t *)(uintptr_t)root)[1] != 0);
	CHECK_EQ(((uint64_t *)(uintptr_t)root)[0], 0);
	uint64_t d[EPT02_ROOTS];
	CHECK_EQ(ept02_drop(&c, eptp5, d), 1);
	CHECK_EQ(c.pages, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
}
