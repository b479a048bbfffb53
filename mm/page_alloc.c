/*
 * page_alloc.c - first-fit bitmap allocator (see page_alloc.h).
 *
 * First fit with a hint keeps single-page allocations (VMCS, VMXON regions,
 * page-table pages) O(1) in the common case; multi-page runs are rare
 * (bitmaps, per-CPU stacks) and may scan.
 */
#include "page_alloc.h"

static bool test_bit(const struct page_alloc *pa, size_t i)
{
	return pa->bitmap[i / 64] & (1ull << (i % 64));
}

static void set_bits(struct page_alloc *pa, size_t first, size_t count, bool used)
{
	for (size_t i = first; i < first + count; i++) {
		if (used)
			pa->bitmap[i / 64] |= 1ull << (i % 64);
		else
			pa->bitmap[i / 64] &= ~(1ull << (i % 64));
	}
}

static void zero_pages(uint64_t addr, size_t count)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)addr;
	for (size_t i = 0; i < count * (PAGE_SIZE / 8); i++)
		p[i] = 0;
}

bool page_alloc_init(struct page_alloc *pa, uint64_t base, uint64_t size)
{
	if (base & (PAGE_SIZE - 1))
		return false;
	size_t npages = (size_t)(size >> PAGE_SHIFT);
	size_t bitmap_bytes = (npages + 63) / 64 * 8;
	size_t bitmap_pages = (bitmap_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	if (npages < bitmap_pages + 1)
		return false;

	pa->base = base;
	pa->npages = npages;
	pa->bitmap_pages = bitmap_pages;
	pa->bitmap = (uint64_t *)(uintptr_t)base;
	for (size_t i = 0; i < bitmap_bytes / 8; i++)
		pa->bitmap[i] = 0;
	set_bits(pa, 0, bitmap_pages, true);
	pa->nfree = npages - bitmap_pages;
	pa->hint = bitmap_pages;
	return true;
}

uint64_t page_alloc(struct page_alloc *pa, size_t count, size_t align_pages)
{
	if (count == 0 || count > pa->nfree)
		return 0;
	if (align_pages == 0)
		align_pages = 1;
	if (align_pages & (align_pages - 1))
		return 0;

	/* Alignment is of the physical address, not of the page index. */
	uint64_t base_page = pa->base >> PAGE_SHIFT;
	size_t i = pa->hint;
	while (i + count <= pa->npages) {
		size_t misalign = (size_t)((base_page + i) & (align_pages - 1));
		if (misalign) {
			i += align_pages - misalign;
			continue;
		}
		size_t j = 0;
		while (j < count && !test_bit(pa, i + j))
			j++;
		if (j == count) {
			set_bits(pa, i, count, true);
			pa->nfree -= count;
			if (i == pa->hint)
				pa->hint = i + count;
			uint64_t addr = pa->base + ((uint64_t)i << PAGE_SHIFT);
			zero_pages(addr, count);
			return addr;
		}
		i += j + 1;
	}
	return 0;
}

bool page_free(struct page_alloc *pa, uint64_t addr, size_t count)
{
	if (addr < pa->base || (addr & (PAGE_SIZE - 1)) || count == 0)
		return false;
	size_t first = (size_t)((addr - pa->base) >> PAGE_SHIFT);
	if (first < pa->bitmap_pages || first >= pa->npages || count > pa->npages - first)
		return false;
	for (size_t i = first; i < first + count; i++)
		if (!test_bit(pa, i))
			return false;
	set_bits(pa, first, count, false);
	pa->nfree += count;
	if (first < pa->hint)
		pa->hint = first;
	return true;
}

size_t page_alloc_free_pages(const struct page_alloc *pa)
{
	return pa->nfree;
}
