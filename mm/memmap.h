/*
 * memmap.h - the physical memory map handed from the loader to the core.
 *
 * The loader translates the UEFI memory map into these ranges; the core
 * uses them to size its identity page tables (and, later, EPT for L1).
 * memmap_normalize() turns any list of ranges, overlapping or unsorted,
 * into a sorted list of disjoint ranges, adjacent ranges of one type merged.
 */
#ifndef MICROHV_MM_MEMMAP_H
#define MICROHV_MM_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

/* Where two ranges overlap, the higher type wins (hypervisor above all). */
enum mem_type {
	MEM_USABLE = 1,	      /* free for the OS after ExitBootServices */
	MEM_ACPI_RECLAIM = 2, /* ACPI tables, reclaimable after the OS reads them */
	MEM_FW_RUNTIME = 3,   /* UEFI runtime services code and data */
	MEM_ACPI_NVS = 4,
	MEM_RESERVED = 5,  /* reserved, unusable, persistent: not RAM to take */
	MEM_MMIO = 6,	   /* memory-mapped I/O the firmware reported */
	MEM_HYPERVISOR = 7, /* microhv's own memory: never mapped for L1 */
};

struct mem_range {
	uint64_t base;
	uint64_t size;
	uint32_t type; /* enum mem_type */
	uint32_t reserved;
};

const char *mem_type_name(uint32_t type);

/*
 * Sorts and splits r[0..n) in place into disjoint ranges (the higher type
 * wins in an overlap) and merges touching ranges of the same type.  Drops
 * empty ranges.  cap is the capacity of r: splitting a range in the middle
 * needs room for one more entry.  Returns the new count, or -1 if cap was
 * too small (r is then unspecified).
 */
long memmap_normalize(struct mem_range *r, size_t n, size_t cap);

/* End (exclusive) of the highest range, 0 for an empty map. */
uint64_t memmap_top(const struct mem_range *r, size_t n);

/* Sum of the sizes of ranges of the given type. */
uint64_t memmap_total(const struct mem_range *r, size_t n, uint32_t type);

#endif
