/*
 * test_page_alloc.c - mm/page_alloc.c on a page-aligned host buffer (the
 * region's addresses are host pointers): init checks, the bitmap pages
 * reserved, zeroed and page-aligned allocations that never overlap,
 * alignment of the physical address, exhaustion, free and reuse, and every
 * kind of bad free refused without changing anything.
 */
#include "test.h"

#include "mm/page_alloc.h"

#include <stdlib.h>
#include <string.h>

#define PAGES 64
#define PG ((uint64_t)PAGE_SIZE)

static unsigned char *region(size_t pages)
{
	unsigned char *p = aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE);
	memset(p, 0xaa, pages * PAGE_SIZE);
	return p;
}

static uint64_t addr_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static bool all_bytes(uint64_t addr, size_t len, unsigned char v)
{
	const unsigned char *p = (const unsigned char *)(uintptr_t)addr;
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

TEST(page_alloc_init_rejects_unaligned_base)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(!page_alloc_init(&pa, addr_of(mem) + 8, (PAGES - 1) * PG));
	CHECK(!page_alloc_init(&pa, addr_of(mem) + PG - 1, (PAGES - 1) * PG));
	/* Nothing was written to the region. */
	CHECK(all_bytes(addr_of(mem), PAGES * PG, 0xaa));
	free(mem);
}

TEST(page_alloc_init_rejects_too_small)
{
	unsigned char *mem = region(2);
	struct page_alloc pa;
	CHECK(!page_alloc_init(&pa, addr_of(mem), 0));
	CHECK(!page_alloc_init(&pa, addr_of(mem), PG));		/* bitmap only */
	CHECK(!page_alloc_init(&pa, addr_of(mem), 2 * PG - 1)); /* still one page */
	CHECK(page_alloc_init(&pa, addr_of(mem), 2 * PG));	/* bitmap + one */
	CHECK_EQ(page_alloc_free_pages(&pa), 1);
	uint64_t a = page_alloc(&pa, 1, 1);
	CHECK_EQ(a, addr_of(mem) + PG);
	CHECK_EQ(page_alloc(&pa, 1, 1), 0);
	free(mem);
}

TEST(page_alloc_init_layout)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	/* A size that is not a page multiple: the partial page is not used. */
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG - 100));
	CHECK_EQ(pa.base, addr_of(mem));
	CHECK_EQ(pa.npages, PAGES - 1);
	CHECK_EQ(pa.bitmap_pages, 1);
	CHECK_EQ(page_alloc_free_pages(&pa), PAGES - 2);
	CHECK(pa.bitmap == (uint64_t *)mem);
	/* Page 0 (the bitmap) is marked in use. */
	CHECK_EQ(pa.bitmap[0] & 1, 1);
	free(mem);
}

TEST(page_alloc_bitmap_spans_pages)
{
	/* 32769 pages need 32769 bits: 4104 bytes, two bitmap pages. */
	size_t pages = 32769;
	unsigned char *mem = aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), pages * PG));
	CHECK_EQ(pa.bitmap_pages, 2);
	CHECK_EQ(page_alloc_free_pages(&pa), pages - 2);
	CHECK_EQ(page_alloc(&pa, 1, 1), addr_of(mem) + 2 * PG);
	/* The rest, up to the highest page, is one free run. */
	CHECK_EQ(page_alloc(&pa, pages - 3, 1), addr_of(mem) + 3 * PG);
	CHECK_EQ(page_alloc_free_pages(&pa), 0);
	CHECK_EQ(page_alloc(&pa, 1, 1), 0);
	free(mem);
}

TEST(page_alloc_bitmap_pages_reserved)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));
	uint64_t lo = UINT64_MAX;
	for (;;) {
		uint64_t a = page_alloc(&pa, 1, 1);
		if (!a)
			break;
		if (a < lo)
			lo = a;
	}
	/* Every page but the bitmap page was handed out; never page 0. */
	CHECK_EQ(lo, addr_of(mem) + PG);
	CHECK_EQ(page_alloc_free_pages(&pa), 0);
	free(mem);
}

TEST(page_alloc_zeroed_aligned_distinct)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));

	uint64_t a[5];
	size_t count[5] = {1, 3, 1, 7, 2};
	for (int i = 0; i < 5; i++) {
		a[i] = page_alloc(&pa, count[i], 0);
		CHECK(a[i] != 0);
		CHECK_EQ(a[i] & (PG - 1), 0);
		CHECK(a[i] >= addr_of(mem) + PG);
		CHECK(a[i] + count[i] * PG <= addr_of(mem) + PAGES * PG);
		CHECK(all_bytes(a[i], count[i] * PG, 0));
		/* Scribble so that an overlap would show in a later check. */
		memset((void *)(uintptr_t)a[i], 0x11 * (i + 1), count[i] * PG);
	}
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 5; j++)
			if (i != j)
				CHECK(a[i] + count[i] * PG <= a[j] || a[j] + count[j] * PG <= a[i]);
	for (int i = 0; i < 5; i++)
		CHECK(all_bytes(a[i], count[i] * PG, (unsigned char)(0x11 * (i + 1))));
	/* First fit from the bottom: the runs are packed right after the bitmap. */
	CHECK_EQ(a[0], addr_of(mem) + 1 * PG);
	CHECK_EQ(a[1], addr_of(mem) + 2 * PG);
	CHECK_EQ(a[2], addr_of(mem) + 5 * PG);
	CHECK_EQ(a[3], addr_of(mem) + 6 * PG);
	CHECK_EQ(a[4], addr_of(mem) + 13 * PG);
	CHECK_EQ(page_alloc_free_pages(&pa), PAGES - 1 - 14);
	free(mem);
}

TEST(page_alloc_alignment)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));
	size_t aligns[] = {1, 2, 4, 8, 16, 32};
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		uint64_t a = page_alloc(&pa, 1, aligns[i]);
		CHECK(a != 0);
		/* The physical address is aligned, not the page index. */
		CHECK_EQ(a % (aligns[i] * PG), 0);
		CHECK(all_bytes(a, PG, 0));
	}
	free(mem);
}

TEST(page_alloc_alignment_with_offset_base)
{
	/*
	 * A base that is 4 KiB but not 16 KiB aligned: page index 0 is not
	 * 16 KiB aligned, so the first 4-page-aligned page has index 4 - k.
	 */
	unsigned char *mem = aligned_alloc(4 * PAGE_SIZE, (PAGES + 4) * PAGE_SIZE);
	unsigned char *base = mem + PG;
	memset(mem, 0xaa, (PAGES + 4) * PAGE_SIZE);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(base), PAGES * PG));
	uint64_t a = page_alloc(&pa, 2, 4);
	CHECK_EQ(a, addr_of(mem) + 4 * PG);
	CHECK_EQ(a % (4 * PG), 0);
	uint64_t b = page_alloc(&pa, 4, 4);
	CHECK_EQ(b, addr_of(mem) + 8 * PG);
	/* The pages skipped for alignment are still free for unaligned use. */
	CHECK_EQ(page_alloc(&pa, 1, 1), addr_of(base) + PG);
	CHECK_EQ(page_alloc(&pa, 1, 1), addr_of(base) + 2 * PG);
	CHECK_EQ(page_alloc(&pa, 1, 1), addr_of(base) + 5 * PG);
	free(mem);
}

TEST(page_alloc_bad_arguments)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));
	size_t before = page_alloc_free_pages(&pa);
	CHECK_EQ(page_alloc(&pa, 0, 1), 0);
	CHECK_EQ(page_alloc(&pa, 1, 3), 0);
	CHECK_EQ(page_alloc(&pa, 1, 6), 0);
	CHECK_EQ(page_alloc(&pa, 2, 12), 0);
	CHECK_EQ(page_alloc(&pa, PAGES, 1), 0); /* more than there is */
	CHECK_EQ(page_alloc_free_pages(&pa), before);
	/* 0 and 1 both mean no alignment. */
	CHECK_EQ(page_alloc(&pa, 1, 0), addr_of(mem) + PG);
	CHECK_EQ(page_alloc(&pa, 1, 1), addr_of(mem) + 2 * PG);
	free(mem);
}

TEST(page_alloc_exhaustion)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));
	/* All free pages in one run. */
	uint64_t all = page_alloc(&pa, PAGES - 1, 1);
	CHECK_EQ(all, addr_of(mem) + PG);
	CHECK_EQ(page_alloc_free_pages(&pa), 0);
	CHECK_EQ(page_alloc(&pa, 1, 1), 0);
	CHECK(page_free(&pa, all, PAGES - 1));
	CHECK_EQ(page_alloc_free_pages(&pa), PAGES - 1);

	/* Enough free pages in total but no run long enough: 0. */
	uint64_t p[PAGES];
	size_t n = 0;
	while ((p[n] = page_alloc(&pa, 1, 1)))
		n++;
	CHECK_EQ(n, PAGES - 1);
	for (size_t i = 0; i < n; i += 2)
		CHECK(page_free(&pa, p[i], 1));
	CHECK_EQ(page_alloc_free_pages(&pa), 32);
	CHECK_EQ(page_alloc(&pa, 2, 1), 0);
	CHECK_EQ(page_alloc_free_pages(&pa), 32);
	free(mem);
}

TEST(page_alloc_alignment_impossible)
{
	/* Page 0 (the bitmap) is the only 128-page-aligned page of the region. */
	unsigned char *mem = aligned_alloc(128 * PAGE_SIZE, 128 * PAGE_SIZE);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));
	CHECK_EQ(page_alloc(&pa, 1, 128), 0);
	CHECK_EQ(page_alloc(&pa, 1, 64), 0);
	CHECK_EQ(page_alloc(&pa, 1, 32), addr_of(mem) + 32 * PG);
	CHECK_EQ(page_alloc(&pa, 32, 32), 0);
	CHECK_EQ(page_alloc_free_pages(&pa), PAGES - 2);
	free(mem);
}

TEST(page_alloc_free_and_reuse)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));
	uint64_t a = page_alloc(&pa, 2, 1);
	uint64_t b = page_alloc(&pa, 1, 1);
	uint64_t c = page_alloc(&pa, 3, 1);
	CHECK_EQ(page_alloc_free_pages(&pa), PAGES - 1 - 6);
	memset((void *)(uintptr_t)a, 0x55, 2 * PG);

	CHECK(page_free(&pa, a, 2));
	CHECK_EQ(page_alloc_free_pages(&pa), PAGES - 1 - 4);
	/* The freed run is used again, and zeroed again. */
	uint64_t d = page_alloc(&pa, 1, 1);
	CHECK_EQ(d, a);
	CHECK(all_bytes(d, PG, 0));
	uint64_t e = page_alloc(&pa, 1, 1);
	CHECK_EQ(e, a + PG);
	CHECK(all_bytes(e, PG, 0));
	/* A run that no longer fits in the hole goes after the others. */
	CHECK(page_free(&pa, b, 1));
	CHECK_EQ(page_alloc(&pa, 2, 1), c + 3 * PG);
	CHECK_EQ(page_alloc(&pa, 1, 1), b);
	free(mem);
}

TEST(page_alloc_bad_free_changes_nothing)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));
	uint64_t a = page_alloc(&pa, 2, 1);
	uint64_t b = page_alloc(&pa, 1, 1);
	CHECK(page_free(&pa, b, 1));
	size_t before = page_alloc_free_pages(&pa);
	uint64_t bitmap0 = pa.bitmap[0];

	CHECK(!page_free(&pa, b, 1));				    /* double free */
	CHECK(!page_free(&pa, a, 3));				    /* run reaching a free page */
	CHECK(!page_free(&pa, a + 1, 1));			    /* misaligned */
	CHECK(!page_free(&pa, a + PG / 2, 1));			    /* misaligned */
	CHECK(!page_free(&pa, addr_of(mem), 1));		    /* the bitmap page */
	CHECK(!page_free(&pa, addr_of(mem) - PG, 1));		    /* below the region */
	CHECK(!page_free(&pa, addr_of(mem) + PAGES * PG, 1));	    /* above it */
	CHECK(!page_free(&pa, addr_of(mem) + (PAGES - 1) * PG, 2)); /* runs past the end */
	CHECK(!page_free(&pa, a, 0));				    /* empty run */
	CHECK(!page_free(&pa, a, (size_t)-1));			    /* huge run */
	CHECK(!page_free(&pa, 0, 1));

	CHECK_EQ(page_alloc_free_pages(&pa), before);
	CHECK_EQ(pa.bitmap[0], bitmap0);
	/* a is still allocated and can be freed properly once. */
	CHECK(page_free(&pa, a, 2));
	CHECK_EQ(page_alloc_free_pages(&pa), before + 2);
	CHECK(!page_free(&pa, a, 2));
	free(mem);
}

TEST(page_alloc_free_part_of_run)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));
	uint64_t a = page_alloc(&pa, 4, 1);
	CHECK(page_free(&pa, a + PG, 2));
	CHECK_EQ(page_alloc_free_pages(&pa), PAGES - 1 - 2);
	CHECK_EQ(page_alloc(&pa, 2, 1), a + PG);
	CHECK_EQ(page_alloc_free_pages(&pa), PAGES - 1 - 4);
	free(mem);
}

TEST(page_alloc_accounting)
{
	unsigned char *mem = region(PAGES);
	struct page_alloc pa;
	CHECK(page_alloc_init(&pa, addr_of(mem), PAGES * PG));
	CHECK_EQ(page_alloc_free_pages(&pa), 63);
	uint64_t a = page_alloc(&pa, 5, 1);
	CHECK_EQ(page_alloc_free_pages(&pa), 58);
	uint64_t b = page_alloc(&pa, 8, 8);
	CHECK_EQ(b % (8 * PG), 0);
	CHECK_EQ(page_alloc_free_pages(&pa), 50);
	CHECK_EQ(page_alloc(&pa, 51, 1), 0);
	CHECK_EQ(page_alloc_free_pages(&pa), 50);
	CHECK(page_free(&pa, a, 5));
	CHECK_EQ(page_alloc_free_pages(&pa), 55);
	CHECK(page_free(&pa, b, 8));
	CHECK_EQ(page_alloc_free_pages(&pa), 63);
	free(mem);
}
