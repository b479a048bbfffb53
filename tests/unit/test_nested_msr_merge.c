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

/*
 * L1's memory as L0 reads it: any address inside the page at L1_GPA reads
 * (as l1_page), so that a misaligned bitmap address is refused by the
 * function's own alignment check, not by the read; the page after it is
 * unreadable (L0's memory).
 */
static unsigned reads; /* calls of rd */

static bool rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	reads++;
	if (gpa < L1_GPA || gpa >= L1_GPA + sizeof(l1_page) || len != sizeof(l1_page))
		return false;
	memcpy(buf, l1_page, len);
	return true;
}

/* Every byte of buf is value. */
static bool all_bytes(const uint8_t *buf, size_t len, uint8_t value)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != value)
			return false;
	return true;
}

/* A value the function never writes: what it leaves untouched keeps it. */
#define POISON 0x5a

static bool wr(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx, (void)gpa, (void)buf, (void)len;
	return false;
}

static const struct l1_memory mem = { rd, wr, NULL, 40, NULL, NULL };

/* L0's copies of L1's bitmaps, which the exit's owner is decided from. */
static uint8_t copy[MSR_BITMAP_SIZE], iocopy[8192];

TEST(msr_merge_or_of_both)
{
	static uint8_t l0[MSR_BITMAP_SIZE], out[MSR_BITMAP_SIZE];
	memset(l0, 0, sizeof(l0));
	msr_bitmap_build(l0); /* L0's: all but its allowlist (SYSENTER_*, FS/GS base, ...) */
	memset(l1_page, 0, sizeof(l1_page));
	l1_page[0x174 / 8] |= 1u << (0x174 % 8); /* L1: SYSENTER_CS reads */
	nested_merge_msr_bitmap(out, copy, l0, true, L1_GPA, &mem);
	CHECK(msr_bitmap_exits(out, 0x174, false));	   /* L1's */
	CHECK(!msr_bitmap_exits(out, 0x174, true));
	CHECK(msr_bitmap_exits(out, 0x3a, false));	   /* L0's */
	CHECK(msr_bitmap_exits(out, 0x480, true));
	CHECK(!msr_bitmap_exits(out, 0xc0000100, false)); /* nobody's: FS_BASE */
	/* The copy is L1's bits alone, and the merge is from the copy. */
	CHECK(memcmp(copy, l1_page, sizeof(copy)) == 0);
	CHECK(!msr_bitmap_exits(copy, 0x3a, false));
}

/*
 * L1's bitmap is read once: the merge takes L1's bits from the copy it
 * made, so the copy and the merged bitmap agree on every bit L0 does not
 * intercept, whatever L1 writes to its page after the read.
 */
TEST(msr_merge_reads_l1_once)
{
	static uint8_t l0[MSR_BITMAP_SIZE], out[MSR_BITMAP_SIZE];
	memset(l0, 0, sizeof(l0));
	memset(l1_page, 0xa5, sizeof(l1_page));
	memset(copy, POISON, sizeof(copy));
	memset(out, POISON, sizeof(out));
	reads = 0;
	nested_merge_msr_bitmap(out, copy, l0, true, L1_GPA, &mem);
	CHECK_EQ(reads, 1);
	CHECK(all_bytes(copy, sizeof(copy), 0xa5));
	CHECK(all_bytes(out, sizeof(out), 0xa5));
}

TEST(msr_merge_all_exit_without_l1_bitmap)
{
	static uint8_t l0[MSR_BITMAP_SIZE], out[MSR_BITMAP_SIZE];
	memset(l0, 0, sizeof(l0));
	memset(l1_page, 0, sizeof(l1_page));
	memset(out, POISON, sizeof(out));
	nested_merge_msr_bitmap(out, copy, l0, false, L1_GPA, &mem);
	CHECK(all_bytes(out, sizeof(out), 0xff));
	/* The readable page, used: L0's zeros OR L1's zeros (the cases below differ from it). */
	memset(out, POISON, sizeof(out));
	nested_merge_msr_bitmap(out, copy, l0, true, L1_GPA, &mem);
	CHECK(all_bytes(out, sizeof(out), 0));
	/* Unreadable (the page after L1's): every MSR exits. */
	memset(out, POISON, sizeof(out));
	nested_merge_msr_bitmap(out, copy, l0, true, L1_GPA + 0x1000, &mem);
	CHECK(all_bytes(out, sizeof(out), 0xff));
	/*
	 * Misaligned (SDM Vol. 3C 27.2.1.1: bits 11:0 of the MSR-bitmap
	 * address must be 0): the read itself would succeed, the address is
	 * still refused and every MSR exits.
	 */
	memset(out, POISON, sizeof(out));
	memset(copy, POISON, sizeof(copy));
	nested_merge_msr_bitmap(out, copy, l0, true, L1_GPA + 8, &mem);
	CHECK(all_bytes(out, sizeof(out), 0xff));
	CHECK(all_bytes(copy, sizeof(copy), 0xff)); /* L1 is taken to ask for every MSR */
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
	memset(out, POISON, sizeof(out));
	nested_merge_io_bitmaps(out, iocopy, a0, b0, CPU_USE_IO_BITMAPS, L1_IO_A, 0x30000, &mem);
	CHECK_EQ(PORT_BIT(out, 0x80), 1);  /* L1's */
	CHECK_EQ(PORT_BIT(out, 0x2f8), 1); /* L0's */
	CHECK_EQ(PORT_BIT(out, 0x3f8), 0); /* nobody's */
	CHECK_EQ(out[0x3f8 / 8], 0);
	CHECK(all_bytes(out + 4096, 4096, 0xff));
	/* The copy holds L1's side alone: port 0x80, B all ones, not L0's ports. */
	CHECK_EQ(PORT_BIT(iocopy, 0x80), 1);
	CHECK_EQ(PORT_BIT(iocopy, 0x2f8), 0);
	CHECK(all_bytes(iocopy + 4096, 4096, 0xff));
	/*
	 * A misaligned (SDM Vol. 3C 27.2.1.1: bits 11:0 must be 0) though
	 * readable, B readable: every port of A exits, B is L1's page.
	 */
	memset(out, POISON, sizeof(out));
	nested_merge_io_bitmaps(out, iocopy, a0, b0, CPU_USE_IO_BITMAPS, L1_IO_A + 8, L1_IO_A, &mem);
	CHECK(all_bytes(out, 4096, 0xff));
	CHECK_EQ(out[4096 + 0x80 / 8], 1u << (0x80 % 8)); /* port 0x8080: L1's page as B */
	CHECK_EQ(out[4096 + 100], 0);
}

TEST(io_merge_without_l1_bitmaps)
{
	static uint8_t a0[4096], b0[4096], out[8192];
	l0_console_ports(a0, b0);
	/* Neither control: only L0's ports exit. */
	memset(out, POISON, sizeof(out));
	memset(iocopy, POISON, sizeof(iocopy));
	nested_merge_io_bitmaps(out, iocopy, a0, b0, 0, 0, 0, &mem);
	CHECK(all_bytes(iocopy, sizeof(iocopy), 0)); /* L1 asks for no port */
	CHECK_EQ(PORT_BIT(out, 0x2f8), 1);
	CHECK_EQ(PORT_BIT(out, 0x3f8), 0);
	CHECK_EQ(out[0x2f8 / 8], 0xff); /* 0x2f8-0x2ff: one whole byte */
	CHECK_EQ(out[0x2f8 / 8 - 1], 0);
	CHECK(all_bytes(out + 4096, 4096, 0));
	/* Unconditional I/O exiting: every port. */
	memset(out, POISON, sizeof(out));
	nested_merge_io_bitmaps(out, iocopy, a0, b0, CPU_UNCOND_IO_EXITING, 0, 0, &mem);
	CHECK(all_bytes(out, sizeof(out), 0xff));
	/* "Use I/O bitmaps" wins over unconditional exiting (26.1.3). */
	memset(l1_page, 0, sizeof(l1_page));
	memset(out, POISON, sizeof(out));
	nested_merge_io_bitmaps(out, iocopy, a0, b0, CPU_USE_IO_BITMAPS | CPU_UNCOND_IO_EXITING, L1_IO_A,
				L1_IO_A, &mem);
	CHECK_EQ(PORT_BIT(out, 0x3f8), 0);
	CHECK_EQ(PORT_BIT(out, 0x2f8), 1);
}

/*
 * The entry's cheaper merge (nested_merge_msr_bitmap_pass): whatever L1's
 * page holds, out is exactly L0's | L1's and the copy exactly L1's page,
 * whether out held L0's base already or not; L1 changing its page between
 * entries changes out there and only there; an unreadable page is all ones.
 */
TEST(msr_merge_pass_equals_the_whole_merge)
{
	static uint8_t l0[MSR_BITMAP_SIZE], out[MSR_BITMAP_SIZE], want[MSR_BITMAP_SIZE];
	struct nested_msr_pass p;
	msr_bitmap_build(l0);
	nested_msr_pass_init(l0, &p);
	CHECK(!p.all);
	CHECK(p.count >= 4); /* SYSENTER, FS/GS base, x2APIC reads and writes at least */
	unsigned runs_bytes = 0;
	for (unsigned k = 0; k < p.count; k++)
		runs_bytes += p.run[k].len;
	unsigned pass_bytes = 0;
	for (unsigned i = 0; i < MSR_BITMAP_SIZE; i++)
		pass_bytes += l0[i] != 0xff;
	CHECK_EQ(runs_bytes, pass_bytes);
	bool base = false;
	for (unsigned pattern = 0; pattern < 4; pattern++) {
		for (unsigned i = 0; i < MSR_BITMAP_SIZE; i++)
			l1_page[i] = pattern == 0 ? 0 : pattern == 1 ? 0xff
						 : (uint8_t)(i * 37 + pattern * 11);
		for (unsigned i = 0; i < MSR_BITMAP_SIZE; i++)
			want[i] = l0[i] | l1_page[i];
		if (!base)
			memset(out, POISON, sizeof(out));
		CHECK(nested_merge_msr_bitmap_pass(out, copy, l0, &p, base, L1_GPA, &mem));
		CHECK_EQ(memcmp(out, want, sizeof(out)), 0);
		CHECK_EQ(memcmp(copy, l1_page, sizeof(copy)), 0);
		base = true;
	}
	/* Not L1's memory, or misaligned: every MSR exits to L1. */
	CHECK(!nested_merge_msr_bitmap_pass(out, copy, l0, &p, true, L1_GPA + 0x1000, &mem));
	CHECK(all_bytes(out, sizeof(out), 0xff) && all_bytes(copy, sizeof(copy), 0xff));
	CHECK(!nested_merge_msr_bitmap_pass(out, copy, l0, &p, false, L1_GPA + 8, &mem));
	CHECK(all_bytes(out, sizeof(out), 0xff));
}

/* More runs of passed-through bytes than the list holds: the whole page is merged. */
TEST(msr_merge_pass_list_overflow_says_all)
{
	static uint8_t l0[MSR_BITMAP_SIZE];
	struct nested_msr_pass p;
	memset(l0, 0xff, sizeof(l0));
	for (unsigned i = 0; i < 2 * NESTED_MSR_PASS_MAX; i++)
		l0[i * 2] = 0xfe; /* runs of one byte, one byte apart */
	nested_msr_pass_init(l0, &p);
	CHECK(p.all);
	memset(l0, 0xff, sizeof(l0));
	l0[100] = l0[101] = l0[102] = 0;
	nested_msr_pass_init(l0, &p);
	CHECK(!p.all);
	CHECK_EQ(p.count, 1);
	CHECK_EQ(p.run[0].off, 100);
	CHECK_EQ(p.run[0].len, 3);
}
