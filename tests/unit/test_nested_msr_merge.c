/*
 * test_nested_msr_merge.c - the merged MSR bitmap of vmcs02.
 */
#include "nested/msr_merge.h"
#include "test.h"
#include "vmx/msr_policy.h"

#include <string.h>

#define L1_GPA 0x20000ull
static uint8_t l1_page[MSR_BITMAP_SIZE];

static bool rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa != L1_GPA || len != sizeof(l1_page))
		return false;
	memcpy(buf, l1_page, len);
	return true;
}

static bool wr(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx, (void)gpa, (void)buf, (void)len;
	return false;
}

static const struct l1_memory mem = { rd, wr, NULL, 40 };

TEST(msr_merge_or_of_both)
{
	static uint8_t l0[MSR_BITMAP_SIZE], out[MSR_BITMAP_SIZE];
	memset(l0, 0, sizeof(l0));
	msr_bitmap_build(l0); /* L0's intercepts: FEATURE_CONTROL, VMX MSRs */
	memset(l1_page, 0, sizeof(l1_page));
	l1_page[0x10 / 8] |= 1u << (0x10 % 8); /* L1: TSC reads */
	nested_merge_msr_bitmap(out, l0, true, L1_GPA, &mem);
	CHECK(msr_bitmap_exits(out, 0x10, false));	   /* L1's */
	CHECK(!msr_bitmap_exits(out, 0x10, true));
	CHECK(msr_bitmap_exits(out, 0x3a, false));	   /* L0's */
	CHECK(msr_bitmap_exits(out, 0x480, true));
	CHECK(!msr_bitmap_exits(out, 0xc0000080, false)); /* nobody's */
}

TEST(msr_merge_all_exit_without_l1_bitmap)
{
	static uint8_t l0[MSR_BITMAP_SIZE], out[MSR_BITMAP_SIZE];
	memset(l0, 0, sizeof(l0));
	nested_merge_msr_bitmap(out, l0, false, L1_GPA, &mem);
	for (unsigned i = 0; i < MSR_BITMAP_SIZE; i++)
		CHECK_EQ(out[i], 0xff);
	/* Unreadable or misaligned: the same. */
	nested_merge_msr_bitmap(out, l0, true, L1_GPA + 0x1000, &mem);
	CHECK_EQ(out[100], 0xff);
	nested_merge_msr_bitmap(out, l0, true, L1_GPA + 8, &mem);
	CHECK_EQ(out[4095], 0xff);
}
