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

/*
 * The last byte of a non-empty range.  Working with inclusive ends keeps a
 * range that reaches the top of the address space (end = 2^64) exact; a range
 * that would run past it is clipped there.
 */
static uint64_t range_last(const struct mem_range *r)
{
	return r->size - 1 > UINT64_MAX - r->base ? UINT64_MAX : r->base + (r->size - 1);
}

/* Size of [base, last]; 2^64 itself cannot be stored and saturates. */
static uint64_t size_of(uint64_t base, uint64_t last)
{
	uint64_t size = last - base + 1;
	return size ? size : UINT64_MAX;
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
			uint64_t a_last = range_last(a), b_last = range_last(b);
			if (b->base > a_last)
				continue;
			changed = true;
			if (a->type == b->type) {
				if (b_last > a_last)
					a->size = size_of(a->base, b_last);
				b->size = 0;
			} else if (a->type > b->type) {
				/* b loses [b.base, min(a_last, b_last)]. */
				if (b_last <= a_last) {
					b->size = 0;
				} else {
					b->base = a_last + 1;
					b->size = b_last - a_last;
				}
			} else {
				/* a loses [b.base, min(a_last, b_last)]; its tail may survive. */
				a->size = b->base - a->base;
				if (a_last > b_last) {
					if (n == cap)
						return -1;
					r[n] = *a;
					r[n].base = b_last + 1;
					r[n].size = a_last - b_last;
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
		uint64_t prev_last = m ? range_last(&r[m - 1]) : 0;
		if (m && r[m - 1].type == r[i].type && prev_last != UINT64_MAX &&
		    prev_last + 1 == r[i].base)
			r[m - 1].size = size_of(r[m - 1].base, range_last(&r[i]));
		else
			r[m++] = r[i];
	}
	return (long)m;
}

uint64_t memmap_top(const struct mem_range *r, size_t n)
{
	uint64_t top = 0;
	for (size_t i = 0; i < n; i++) {
		if (!r[i].size)
			continue;
		/* A range ending at 2^64 saturates: the top is not representable. */
		uint64_t last = range_last(&r[i]);
		uint64_t end = last == UINT64_MAX ? UINT64_MAX : last + 1;
		if (end > top)
			top = end;
	}
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
