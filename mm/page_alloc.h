/*
 * page_alloc.h - the page-frame allocator over microhv's own memory.
 *
 * One bitmap (a bit per 4 KiB page, 1 = in use) over a single contiguous,
 * identity-mapped region that the loader reserved for the hypervisor.  The
 * bitmap itself lives in the first pages of the region.  Allocations are
 * runs of contiguous pages with a power-of-two page alignment; pages are
 * handed out zeroed.  Not thread-safe: callers on several CPUs take a lock.
 */
#ifndef MICROHV_MM_PAGE_ALLOC_H
#define MICROHV_MM_PAGE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ull
#define PAGE_SHIFT 12

struct page_alloc {
	uint64_t base;	 /* physical (= virtual) address of page 0 */
	size_t npages;	 /* pages managed, bitmap pages included */
	size_t bitmap_pages;
	uint64_t *bitmap;
	size_t nfree;
	size_t hint;	 /* first page that may be free */
};

/*
 * Takes over [base, base + size): base must be page aligned.  Returns false
 * if the region cannot even hold its own bitmap plus one page.
 */
bool page_alloc_init(struct page_alloc *pa, uint64_t base, uint64_t size);

/*
 * Returns the address of count zeroed pages aligned to align_pages (a power
 * of two, 0 or 1 meaning no alignment), or 0 when no such run is free.
 */
uint64_t page_alloc(struct page_alloc *pa, size_t count, size_t align_pages);

/*
 * Frees a run that page_alloc returned.  Returns false, changing nothing,
 * for an address outside the region, a misaligned one, or a page that is
 * not in use (a double free).
 */
bool page_free(struct page_alloc *pa, uint64_t addr, size_t count);

size_t page_alloc_free_pages(const struct page_alloc *pa);

#endif
