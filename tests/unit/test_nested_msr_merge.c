/*
 * test_nested_msr_merge.c - the merged MSR and I/O bitmaps of vmcs02.
 */
#include "nested/msr_merge.h"
#include "test.h"
#include "vmx/msr_policy.h"
#include "vmx/vmx_bits.h"

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

/* ---- the I/O bitmaps (SDM Vol. 3C 26.1.3, 25.6.4) ---- */

#define L1_IO_A 0x20000ull /* the same readable page as above */
#define PORT_BIT(out, port) (((out)[(port) / 8] >> ((port) % 8)) & 1)

static void l0_console_ports(uint8_t *a, uint8_t *b)
{
	memset(a, 0, 4096);
	memset(b, 0, 4096);
	for (unsigned p = 0x2f8; p < 0x300; p++) /* COM2: L0's console */
		a[p / 8] |= (uint8_t)(1u << (p % 8));
}

TEST(io_merge_l1_bitmaps_or_l0_ports)
{
	static uint8_t a0[4096], b0[4096], out[8192];
	l0_console_ports(a0, b0);
	memset(l1_page, 0, sizeof(l1_page));
	l1_page[0x80 / 8] |= 1u << (0x80 % 8); /* L1 wants port 0x80 */
	/* B is unreadable for L0: every port of B exits, the cautious side. */
	nested_merge_io_bitmaps(out, a0, b0, CPU_USE_IO_BITMAPS, L1_IO_A, 0x30000, &mem);
	CHECK_EQ(PORT_BIT(out, 0x80), 1);  /* L1's */
	CHECK_EQ(PORT_BIT(out, 0x2f8), 1); /* L0's */
	CHECK_EQ(PORT_BIT(out, 0x3f8), 0); /* nobody's */
	CHECK_EQ(out[4096], 0xff);
	CHECK_EQ(out[8191], 0xff);
}

TEST(io_merge_without_l1_bitmaps)
{
	static uint8_t a0[4096], b0[4096], out[8192];
	l0_console_ports(a0, b0);
	/* Neither control: only L0's ports exit. */
	nested_merge_io_bitmaps(out, a0, b0, 0, 0, 0, &mem);
	CHECK_EQ(PORT_BIT(out, 0x2f8), 1);
	CHECK_EQ(PORT_BIT(out, 0x3f8), 0);
	CHECK_EQ(out[4096 + 100], 0);
	/* Unconditional I/O exiting: every port. */
	nested_merge_io_bitmaps(out, a0, b0, CPU_UNCOND_IO_EXITING, 0, 0, &mem);
	CHECK_EQ(out[0], 0xff);
	CHECK_EQ(out[8191], 0xff);
	/* "Use I/O bitmaps" wins over unconditional exiting (26.1.3). */
	memset(l1_page, 0, sizeof(l1_page));
	nested_merge_io_bitmaps(out, a0, b0, CPU_USE_IO_BITMAPS | CPU_UNCOND_IO_EXITING, L1_IO_A,
				L1_IO_A, &mem);
	CHECK_EQ(PORT_BIT(out, 0x3f8), 0);
	CHECK_EQ(PORT_BIT(out, 0x2f8), 1);
}
