/*
 * test_memmap.c - mm/memmap.c: memmap_normalize (sorting, dropping empty
 * ranges, merging touching ranges of one type, overlaps settled in favour
 * of the higher type, the extra slot a split needs, ranges at the top of
 * the 64-bit address space), memmap_top, memmap_total and mem_type_name.
 */
#include "test.h"

#include "mm/memmap.h"

#include <string.h>

#define R(b, s, t) ((struct mem_range){.base = (b), .size = (s), .type = (t)})

/* Checks that r[i] is exactly [base, base + size) of type. */
#define CHECK_RANGE(r, i, b, s, t)                                                                 \
	do {                                                                                       \
		CHECK_EQ((r)[i].base, (b));                                                        \
		CHECK_EQ((r)[i].size, (s));                                                        \
		CHECK_EQ((r)[i].type, (t));                                                        \
	} while (0)

TEST(memmap_type_names)
{
	CHECK_STR(mem_type_name(MEM_USABLE), "usable");
	CHECK_STR(mem_type_name(MEM_ACPI_RECLAIM), "ACPI reclaim");
	CHECK_STR(mem_type_name(MEM_FW_RUNTIME), "firmware runtime");
	CHECK_STR(mem_type_name(MEM_ACPI_NVS), "ACPI NVS");
	CHECK_STR(mem_type_name(MEM_RESERVED), "reserved");
	CHECK_STR(mem_type_name(MEM_MMIO), "MMIO");
	CHECK_STR(mem_type_name(MEM_HYPERVISOR), "hypervisor");
	CHECK_STR(mem_type_name(0), "unknown");
	CHECK_STR(mem_type_name(8), "unknown");
	CHECK_STR(mem_type_name(0xffffffffu), "unknown");
}

TEST(memmap_empty)
{
	struct mem_range r[2] = {R(0x1000, 0, MEM_USABLE), R(0, 0, MEM_RESERVED)};
	CHECK_EQ(memmap_normalize(r, 0, 2), 0);
	CHECK_EQ(memmap_normalize(r, 2, 2), 0);
	CHECK_EQ(memmap_top(r, 0), 0);
	CHECK_EQ(memmap_total(r, 0, MEM_USABLE), 0);
}

TEST(memmap_sorts_by_base)
{
	struct mem_range r[4] = {
	    R(0x300000, 0x1000, MEM_USABLE),
	    R(0x100000, 0x1000, MEM_RESERVED),
	    R(0x200000, 0x1000, MEM_ACPI_NVS),
	    R(0x000000, 0x1000, MEM_MMIO),
	};
	CHECK_EQ(memmap_normalize(r, 4, 4), 4);
	CHECK_RANGE(r, 0, 0x000000, 0x1000, MEM_MMIO);
	CHECK_RANGE(r, 1, 0x100000, 0x1000, MEM_RESERVED);
	CHECK_RANGE(r, 2, 0x200000, 0x1000, MEM_ACPI_NVS);
	CHECK_RANGE(r, 3, 0x300000, 0x1000, MEM_USABLE);
}

TEST(memmap_drops_empty_ranges)
{
	struct mem_range r[5] = {
	    R(0x5000, 0, MEM_HYPERVISOR),  R(0x1000, 0x1000, MEM_USABLE), R(0x0, 0, MEM_USABLE),
	    R(0x3000, 0x1000, MEM_USABLE), R(0x1800, 0, MEM_RESERVED),
	};
	CHECK_EQ(memmap_normalize(r, 5, 5), 2);
	CHECK_RANGE(r, 0, 0x1000, 0x1000, MEM_USABLE);
	CHECK_RANGE(r, 1, 0x3000, 0x1000, MEM_USABLE);
}

TEST(memmap_merges_touching_same_type)
{
	struct mem_range r[6] = {
	    R(0x2000, 0x1000, MEM_USABLE),   R(0x0000, 0x1000, MEM_USABLE),
	    R(0x1000, 0x1000, MEM_USABLE),   R(0x3000, 0x1000, MEM_RESERVED),
	    R(0x4000, 0x2000, MEM_RESERVED), R(0x6000, 0x1000, MEM_USABLE),
	};
	CHECK_EQ(memmap_normalize(r, 6, 6), 3);
	CHECK_RANGE(r, 0, 0x0000, 0x3000, MEM_USABLE);
	CHECK_RANGE(r, 1, 0x3000, 0x3000, MEM_RESERVED);
	CHECK_RANGE(r, 2, 0x6000, 0x1000, MEM_USABLE);
}

TEST(memmap_gap_or_other_type_not_merged)
{
	struct mem_range r[3] = {
	    R(0x0000, 0x1000, MEM_USABLE),
	    R(0x1001, 0x1000, MEM_USABLE), /* one byte gap */
	    R(0x2001, 0x1000, MEM_ACPI_RECLAIM),
	};
	CHECK_EQ(memmap_normalize(r, 3, 3), 3);
	CHECK_RANGE(r, 0, 0x0000, 0x1000, MEM_USABLE);
	CHECK_RANGE(r, 1, 0x1001, 0x1000, MEM_USABLE);
	CHECK_RANGE(r, 2, 0x2001, 0x1000, MEM_ACPI_RECLAIM);
}

TEST(memmap_overlap_same_type_merges)
{
	struct mem_range r[3] = {
	    R(0x0000, 0x3000, MEM_USABLE), R(0x2000, 0x3000, MEM_USABLE),
	    R(0x1000, 0x1000, MEM_USABLE), /* inside the first */
	};
	CHECK_EQ(memmap_normalize(r, 3, 3), 1);
	CHECK_RANGE(r, 0, 0x0000, 0x5000, MEM_USABLE);
}

TEST(memmap_overlap_higher_type_wins)
{
	/* Usable [0, 0x3000) overlaps reserved [0x2000, 0x5000): reserved keeps its all. */
	struct mem_range a[2] = {R(0x0000, 0x3000, MEM_USABLE), R(0x2000, 0x3000, MEM_RESERVED)};
	CHECK_EQ(memmap_normalize(a, 2, 2), 2);
	CHECK_RANGE(a, 0, 0x0000, 0x2000, MEM_USABLE);
	CHECK_RANGE(a, 1, 0x2000, 0x3000, MEM_RESERVED);

	/* The same with the types swapped: now the later range gives way. */
	struct mem_range b[2] = {R(0x0000, 0x3000, MEM_RESERVED), R(0x2000, 0x3000, MEM_USABLE)};
	CHECK_EQ(memmap_normalize(b, 2, 2), 2);
	CHECK_RANGE(b, 0, 0x0000, 0x3000, MEM_RESERVED);
	CHECK_RANGE(b, 1, 0x3000, 0x2000, MEM_USABLE);
}

TEST(memmap_hypervisor_splits_usable)
{
	struct mem_range r[3] = {
	    R(0x100000, 0x100000, MEM_USABLE),
	    R(0x140000, 0x20000, MEM_HYPERVISOR),
	};
	CHECK_EQ(memmap_normalize(r, 2, 3), 3);
	CHECK_RANGE(r, 0, 0x100000, 0x40000, MEM_USABLE);
	CHECK_RANGE(r, 1, 0x140000, 0x20000, MEM_HYPERVISOR);
	CHECK_RANGE(r, 2, 0x160000, 0xa0000, MEM_USABLE);
	CHECK_EQ(memmap_total(r, 3, MEM_USABLE), 0xe0000);
	CHECK_EQ(memmap_total(r, 3, MEM_HYPERVISOR), 0x20000);
}

TEST(memmap_split_needs_a_slot)
{
	struct mem_range r[2] = {
	    R(0x100000, 0x100000, MEM_USABLE),
	    R(0x140000, 0x20000, MEM_HYPERVISOR),
	};
	CHECK_EQ(memmap_normalize(r, 2, 2), -1);

	/* A dropped empty range frees the slot the split needs. */
	struct mem_range s[3] = {
	    R(0x100000, 0x100000, MEM_USABLE),
	    R(0x0, 0, MEM_USABLE),
	    R(0x140000, 0x20000, MEM_HYPERVISOR),
	};
	CHECK_EQ(memmap_normalize(s, 3, 3), 3);
	CHECK_RANGE(s, 2, 0x160000, 0xa0000, MEM_USABLE);

	/* Two splits need two extra slots. */
	struct mem_range t[4] = {
	    R(0x0, 0x10000, MEM_USABLE),
	    R(0x2000, 0x1000, MEM_HYPERVISOR),
	    R(0x8000, 0x1000, MEM_MMIO),
	};
	CHECK_EQ(memmap_normalize(t, 3, 4), -1);
	struct mem_range u[5] = {
	    R(0x0, 0x10000, MEM_USABLE),
	    R(0x2000, 0x1000, MEM_HYPERVISOR),
	    R(0x8000, 0x1000, MEM_MMIO),
	};
	CHECK_EQ(memmap_normalize(u, 3, 5), 5);
	CHECK_RANGE(u, 0, 0x0000, 0x2000, MEM_USABLE);
	CHECK_RANGE(u, 1, 0x2000, 0x1000, MEM_HYPERVISOR);
	CHECK_RANGE(u, 2, 0x3000, 0x5000, MEM_USABLE);
	CHECK_RANGE(u, 3, 0x8000, 0x1000, MEM_MMIO);
	CHECK_RANGE(u, 4, 0x9000, 0x7000, MEM_USABLE);
}

TEST(memmap_identical_ranges)
{
	struct mem_range a[3] = {
	    R(0x1000, 0x2000, MEM_USABLE),
	    R(0x1000, 0x2000, MEM_USABLE),
	    R(0x1000, 0x2000, MEM_USABLE),
	};
	CHECK_EQ(memmap_normalize(a, 3, 3), 1);
	CHECK_RANGE(a, 0, 0x1000, 0x2000, MEM_USABLE);

	/* Same place, different types: only the highest survives, in any order. */
	struct mem_range b[3] = {
	    R(0x1000, 0x2000, MEM_ACPI_NVS),
	    R(0x1000, 0x2000, MEM_HYPERVISOR),
	    R(0x1000, 0x2000, MEM_USABLE),
	};
	CHECK_EQ(memmap_normalize(b, 3, 3), 1);
	CHECK_RANGE(b, 0, 0x1000, 0x2000, MEM_HYPERVISOR);
}

TEST(memmap_inside_higher_type_vanishes)
{
	struct mem_range r[3] = {
	    R(0x0000, 0x10000, MEM_RESERVED), R(0x4000, 0x1000, MEM_USABLE),
	    R(0x0000, 0x1000, MEM_ACPI_RECLAIM), /* same base, lower type */
	};
	CHECK_EQ(memmap_normalize(r, 3, 3), 1);
	CHECK_RANGE(r, 0, 0x0000, 0x10000, MEM_RESERVED);

	/* A lower range ending exactly where the higher one ends. */
	struct mem_range s[2] = {R(0x0000, 0x4000, MEM_MMIO), R(0x2000, 0x2000, MEM_FW_RUNTIME)};
	CHECK_EQ(memmap_normalize(s, 2, 2), 1);
	CHECK_RANGE(s, 0, 0x0000, 0x4000, MEM_MMIO);
}

TEST(memmap_same_base_lower_type_loses_head)
{
	/* Usable [0, 0x4000) and hypervisor [0, 0x1000): usable keeps [0x1000, 0x4000). */
	struct mem_range r[3] = {R(0x0, 0x4000, MEM_USABLE), R(0x0, 0x1000, MEM_HYPERVISOR)};
	CHECK_EQ(memmap_normalize(r, 2, 3), 2);
	CHECK_RANGE(r, 0, 0x0000, 0x1000, MEM_HYPERVISOR);
	CHECK_RANGE(r, 1, 0x1000, 0x3000, MEM_USABLE);
}

TEST(memmap_chain_of_overlaps)
{
	/* A firmware-style mess: unsorted, overlapping, touching, and empty. */
	struct mem_range r[10] = {
	    R(0x9f000, 0x61000, MEM_RESERVED),
	    R(0x0, 0xa0000, MEM_USABLE),
	    R(0x100000, 0x7ff00000, MEM_USABLE),
	    R(0x200000, 0x400000, MEM_HYPERVISOR),
	    R(0x7fff0000, 0x10000, MEM_ACPI_RECLAIM),
	    R(0xfee00000, 0x1000, MEM_MMIO),
	    R(0x500000, 0, MEM_MMIO),
	};
	CHECK_EQ(memmap_normalize(r, 7, 10), 7);
	CHECK_RANGE(r, 0, 0x0, 0x9f000, MEM_USABLE);
	CHECK_RANGE(r, 1, 0x9f000, 0x61000, MEM_RESERVED);
	CHECK_RANGE(r, 2, 0x100000, 0x100000, MEM_USABLE);
	CHECK_RANGE(r, 3, 0x200000, 0x400000, MEM_HYPERVISOR);
	CHECK_RANGE(r, 4, 0x600000, 0x7f9f0000, MEM_USABLE);
	CHECK_RANGE(r, 5, 0x7fff0000, 0x10000, MEM_ACPI_RECLAIM);
	CHECK_RANGE(r, 6, 0xfee00000, 0x1000, MEM_MMIO);
	CHECK_EQ(memmap_top(r, 7), 0xfee01000);
	CHECK_EQ(memmap_total(r, 7, MEM_USABLE), 0x9f000 + 0x100000 + 0x7f9f0000);
}

TEST(memmap_touching_at_top_of_address_space)
{
	/* Two ranges of one type meeting below 2^64, the second ending at 2^64. */
	struct mem_range r[2] = {
	    R(0xfffffffffffff000ull, 0x1000, MEM_MMIO),
	    R(0xffffffffffffe000ull, 0x1000, MEM_MMIO),
	};
	CHECK_EQ(memmap_normalize(r, 2, 2), 1);
	CHECK_RANGE(r, 0, 0xffffffffffffe000ull, 0x2000, MEM_MMIO);
	CHECK_EQ(memmap_top(r, 1), UINT64_MAX);

	/* Different types touching there stay apart. */
	struct mem_range s[2] = {
	    R(0xfffffffffffff000ull, 0x1000, MEM_MMIO),
	    R(0xffffffffffffe000ull, 0x1000, MEM_RESERVED),
	};
	CHECK_EQ(memmap_normalize(s, 2, 2), 2);
	CHECK_RANGE(s, 0, 0xffffffffffffe000ull, 0x1000, MEM_RESERVED);
	CHECK_RANGE(s, 1, 0xfffffffffffff000ull, 0x1000, MEM_MMIO);
}

/*
 * Overlaps involving a range that ends at 2^64: the sizes that come out
 * must still add up to the bytes covered (range_end saturates at
 * UINT64_MAX, one below 2^64, and must not cost a byte).
 */
TEST(memmap_overlap_at_top_of_address_space)
{
	/* Same type: [top-0x10000, top-0x8000) and [top-0xc000, 2^64). */
	struct mem_range a[2] = {
	    R(0xffffffffffff0000ull, 0x8000, MEM_MMIO),
	    R(0xffffffffffff4000ull, 0xc000, MEM_MMIO),
	};
	CHECK_EQ(memmap_normalize(a, 2, 2), 1);
	CHECK_RANGE(a, 0, 0xffffffffffff0000ull, 0x10000, MEM_MMIO);

	/* Higher type in the middle of a lower range that ends at 2^64. */
	struct mem_range b[3] = {
	    R(0xffffffffffff0000ull, 0x10000, MEM_USABLE),
	    R(0xffffffffffff4000ull, 0x4000, MEM_HYPERVISOR),
	};
	CHECK_EQ(memmap_normalize(b, 2, 3), 3);
	CHECK_RANGE(b, 0, 0xffffffffffff0000ull, 0x4000, MEM_USABLE);
	CHECK_RANGE(b, 1, 0xffffffffffff4000ull, 0x4000, MEM_HYPERVISOR);
	CHECK_RANGE(b, 2, 0xffffffffffff8000ull, 0x8000, MEM_USABLE);

	/* A lower range reaching 2^64 past the end of a higher one. */
	struct mem_range c[2] = {
	    R(0xffffffffffff0000ull, 0x8000, MEM_RESERVED),
	    R(0xffffffffffff4000ull, 0xc000, MEM_USABLE),
	};
	CHECK_EQ(memmap_normalize(c, 2, 2), 2);
	CHECK_RANGE(c, 0, 0xffffffffffff0000ull, 0x8000, MEM_RESERVED);
	CHECK_RANGE(c, 1, 0xffffffffffff8000ull, 0x8000, MEM_USABLE);
}

TEST(memmap_top_and_total)
{
	struct mem_range r[4] = {
	    R(0x1000, 0x1000, MEM_USABLE),
	    R(0x8000, 0x3000, MEM_RESERVED),
	    R(0x3000, 0x2000, MEM_USABLE),
	    R(0x4000, 0x1000, MEM_HYPERVISOR),
	};
	/* Neither needs a normalized map. */
	CHECK_EQ(memmap_top(r, 4), 0xb000);
	CHECK_EQ(memmap_top(r, 1), 0x2000);
	CHECK_EQ(memmap_total(r, 4, MEM_USABLE), 0x3000);
	CHECK_EQ(memmap_total(r, 4, MEM_RESERVED), 0x3000);
	CHECK_EQ(memmap_total(r, 4, MEM_MMIO), 0);
	CHECK_EQ(memmap_total(r, 4, MEM_HYPERVISOR), 0x1000);
}
