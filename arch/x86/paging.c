/*
 * paging.c - identity page tables for the core.
 *
 * The core runs with virtual = physical addresses, like the firmware it
 * takes over, so pointers in the boot-info block stay valid when it switches
 * to its own CR3.  Memory types come from the MTRRs: with PAT index 0 (WB)
 * in every entry, the MTRRs' UC for MMIO still wins (SDM Vol. 3A 12.5.2.2).
 */
#include "paging.h"

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

uint64_t paging_identity_end(uint64_t top)
{
	return round_up(top ? top : 1, SIZE_1G);
}

uint64_t paging_identity_pages(uint64_t top, bool use_1g)
{
	uint64_t end = paging_identity_end(top);
	uint64_t pdpts = round_up(end, SIZE_512G) / SIZE_512G;
	uint64_t pds = use_1g ? 0 : end / SIZE_1G;
	return 1 + pdpts + pds;
}

uint64_t paging_build_identity(struct page_alloc *pa, uint64_t top, bool use_1g)
{
	uint64_t end = paging_identity_end(top);
	if (end > 512 * SIZE_512G)
		return 0; /* beyond 4-level paging's 256 TiB */
	uint64_t npages = paging_identity_pages(top, use_1g);
	if (page_alloc_free_pages(pa) < npages)
		return 0;

	uint64_t pml4_pa = page_alloc(pa, 1, 1);
	if (!pml4_pa)
		return 0;
	uint64_t *pml4 = (uint64_t *)(uintptr_t)pml4_pa;

	for (uint64_t gb = 0; gb < end; gb += SIZE_1G) {
		unsigned i4 = (unsigned)(gb / SIZE_512G);
		unsigned i3 = (unsigned)((gb / SIZE_1G) % 512);
		if (!(pml4[i4] & PTE_PRESENT)) {
			uint64_t p = page_alloc(pa, 1, 1);
			if (!p)
				return 0; /* cannot happen: counted above */
			pml4[i4] = p | PTE_PRESENT | PTE_WRITE;
		}
		uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[i4] & ~0xfffull);
		if (use_1g) {
			pdpt[i3] = gb | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
			continue;
		}
		uint64_t pd_pa = page_alloc(pa, 1, 1);
		if (!pd_pa)
			return 0;
		uint64_t *pd = (uint64_t *)(uintptr_t)pd_pa;
		for (unsigned i2 = 0; i2 < 512; i2++)
			pd[i2] = (gb + i2 * SIZE_2M) | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
		pdpt[i3] = pd_pa | PTE_PRESENT | PTE_WRITE;
	}
	return pml4_pa;
}
