/*
 * memmap.c - normalizing a physical memory map.
 *
 * Firmware maps can list ranges out of order and (rarely) overlapping; we
 * also lay the hypervisor's own range over the firmware's view on purpose.
 * The method: sort by base, then repeatedly settle the first overlapping
 * neighbour pair (the lower type gives up the shared part) until no pair
 * overlaps; once sorted neighbours are disjoint, all ranges are.  n is small
 * (a few hundred), so the quadratic cost is fine, and it needs no memory
 * beyond r itself.
 */
#include "memmap.h"

#include <stdbool.h>

const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
		return "usable";
	case MEM_ACPI_RECLAIM:
		return "ACPI reclaim";
	case MEM_FW_RUNTIME:
		return "firmware runtime";
	case MEM_ACPI_NVS:
		return "ACPI NVS";
	case MEM_RESERVED:
		return "reserved";
	case MEM_MMIO:
		return "MMIO";
	case MEM_HYPERVISOR:
		return "hypervisor";
	}
	return "unknown";
}

static uint64_t range_end(const struct mem_range *r)
{
	/* Saturate: a range reaching the top of the address space ends there. */
	return r->base + r->size < r->base ? UINT64_MAX : r->base + r->size;
}

static void sort_by_base(struct mem_range *r, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct mem_range x = r[i];
		size_t j = i;
		while (j && (r[j - 1].base > x.base ||
			     (r[j - 1].base == x.base && r[j - 1].type > x.type))) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}

long memmap_normalize(struct mem_range *r, size_t n, size_t cap)
{
	/* Drop empty ranges first. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].size)
			r[m++] = r[i];
	n = m;
	sort_by_base(r, n);

	/*
	 * Resolve overlaps pairwise until none remain.  For an overlapping pair
	 * a (earlier base) and b: the lower-typed one gives up the overlap.
	 * Cutting the middle out of a needs one new entry.
	 */
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i + 1 < n && !changed; i++) {
			struct mem_range *a = &r[i], *b = &r[i + 1];
			uint64_t a_end = range_end(a), b_end = range_end(b);
			if (b->base >= a_end)
				continue;
			changed = true;
			if (a->type == b->type) {
				if (b_end > a_end)
					a->size = b_end - a->base;
				b->size = 0;
			} else if (a->type > b->type) {
				/* b loses [b.base, min(a_end, b_end)). */
				if (b_end <= a_end) {
					b->size = 0;
				} else {
					b->size = b_end - a_end;
					b->base = a_end;
				}
			} else {
				/* a loses [b.base, min(a_end, b_end)); its tail may survive. */
				uint64_t old_a_end = a_end;
				a->size = b->base - a->base;
				if (old_a_end > b_end) {
					if (n == cap)
						return -1;
					r[n] = *a;
					r[n].base = b_end;
					r[n].size = old_a_end - b_end;
					n++;
				}
			}
			m = 0;
			for (size_t k = 0; k < n; k++)
				if (r[k].size)
					r[m++] = r[k];
			n = m;
			sort_by_base(r, n);
		}
	}

	/* Merge touching ranges of the same type. */
	m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && r[m - 1].type == r[i].type && range_end(&r[m - 1]) == r[i].base)
			r[m - 1].size += r[i].size;
		else
			r[m++] = r[i];
	}
	return (long)m;
}

uint64_t memmap_top(const struct mem_range *r, size_t n)
{
	uint64_t top = 0;
	for (size_t i = 0; i < n; i++)
		if (range_end(&r[i]) > top)
			top = range_end(&r[i]);
	return top;
}

uint64_t memmap_total(const struct mem_range *r, size_t n, uint32_t type)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].type == type)
			sum += r[i].size;
	return sum;
}
