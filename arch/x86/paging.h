/*
 * paging.h - the core's own 4-level identity page tables (VMX-root host CR3).
 */
#ifndef MICROHV_ARCH_PAGING_H
#define MICROHV_ARCH_PAGING_H

#include "mm/page_alloc.h"

#include <stdbool.h>
#include <stdint.h>

/* SDM Vol. 3A 4.5: paging-structure entry bits. */
#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE (1ull << 1)
#define PTE_LARGE (1ull << 7) /* PS: 1 GiB in a PDPTE, 2 MiB in a PDE */

#define SIZE_2M (1ull << 21)
#define SIZE_1G (1ull << 30)
#define SIZE_512G (1ull << 39)

/*
 * Builds tables mapping [0, top rounded up to 1 GiB) virtual = physical,
 * read/write, supervisor, with 1 GiB pages when use_1g (CPUID Page1GB) and
 * 2 MiB pages otherwise.  Returns the PML4's physical address, or 0 when
 * the allocator has too few pages (checked before anything is allocated).
 */
uint64_t paging_build_identity(struct page_alloc *pa, uint64_t top, bool use_1g);

/* Page-table pages paging_build_identity needs for top and use_1g. */
uint64_t paging_identity_pages(uint64_t top, bool use_1g);

/* The end of what paging_build_identity(top) maps: top rounded up to 1 GiB. */
uint64_t paging_identity_end(uint64_t top);

#endif
