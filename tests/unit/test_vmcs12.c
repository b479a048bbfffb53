/*
 * test_vmcs12.c - vmcs12 layout and field access (nested/vmcs12.c).
 */
#include "nested/vmcs12.h"
#include "test.h"

#include <string.h>

TEST(vmcs12_layout)
{
	CHECK_EQ(offsetof(struct vmcs12, revision), 0);
	CHECK_EQ(offsetof(struct vmcs12, abort), 4);
	CHECK_EQ(VMCS12_FIELD_OFFSET(0), 16);
	CHECK_EQ(VMCS12_FIELD_OFFSET(VMCS_IDX_GUEST_RIP), 16 + 8 * VMCS_IDX_GUEST_RIP);
	CHECK(sizeof(struct vmcs12) <= 4096);
}

TEST(vmcs12_read_write_widths)
{
	static struct vmcs12 v;
	memset(&v, 0, sizeof(v));
	uint64_t x = 0;
	/* 16-bit field keeps 16 bits. */
	CHECK(vmcs12_write(&v, VMCS_GUEST_CS_SELECTOR, 0x123456789ull));
	CHECK(vmcs12_read(&v, VMCS_GUEST_CS_SELECTOR, &x));
	CHECK_EQ(x, 0x6789);
	/* 32-bit field keeps 32 bits. */
	CHECK(vmcs12_write(&v, VMCS_EXCEPTION_BITMAP, 0xaabbccdd11223344ull));
	CHECK(vmcs12_read(&v, VMCS_EXCEPTION_BITMAP, &x));
	CHECK_EQ(x, 0x11223344);
	/* Natural width keeps 64 bits. */
	CHECK(vmcs12_write(&v, VMCS_GUEST_RIP, 0xffffffff81000000ull));
	CHECK(vmcs12_read(&v, VMCS_GUEST_RIP, &x));
	CHECK_EQ(x, 0xffffffff81000000ull);
}

TEST(vmcs12_high_access)
{
	static struct vmcs12 v;
	memset(&v, 0, sizeof(v));
	uint64_t x = 0;
	CHECK(vmcs12_write(&v, VMCS_TSC_OFFSET, 0x1111111122222222ull));
	/* SDM 25.11.2: the high encoding reads and writes bits 63:32. */
	CHECK(vmcs12_read(&v, VMCS_TSC_OFFSET | 1, &x));
	CHECK_EQ(x, 0x11111111);
	CHECK(vmcs12_write(&v, VMCS_TSC_OFFSET | 1, 0x33333333));
	CHECK(vmcs12_read(&v, VMCS_TSC_OFFSET, &x));
	CHECK_EQ(x, 0x3333333322222222ull);
}

TEST(vmcs12_unknown_fields)
{
	static struct vmcs12 v;
	uint64_t x = 7;
	CHECK(!vmcs12_read(&v, 0x7fff, &x));
	CHECK_EQ(x, 7);
	CHECK(!vmcs12_write(&v, 0x6c30, 1));
	/* A "high" encoding of a non-64-bit field is not a field. */
	CHECK(!vmcs12_read(&v, VMCS_GUEST_CS_SELECTOR | 1, &x));
}

TEST(vmcs12_highest_index)
{
	/* The largest bits 9:1 among the table's encodings: TSC_MULTIPLIER 0x2032. */
	CHECK_EQ(vmcs12_highest_field_index(), 0x19);
}
