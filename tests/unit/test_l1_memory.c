/*
 * test_l1_memory.c - vmx/l1_memory.c, the guard between L1's addresses
 * and L0's memory: l1_memory_ept01() reads and writes through the
 * identity map only where EPT01 (g_l0.eptp) grants every page of the range.
 *
 * The core copies from the address L1 names, so the test gives L1 real
 * host memory at fixed addresses: MEM_PAGES pages mapped at L1_BASE
 * (mmap, MAP_FIXED_NOREPLACE), and an identity EPT (mm/ept.c) over
 * [0, EPT_TOP) that leaves one page unmapped (L0's), makes one page
 * read-only and one execute-only.  Every page, the refused ones and those
 * beyond the EPT's top included, is host memory with known bytes, so a
 * guard that let a refused access through would copy real data, and the
 * poisoned buffers and the memory snapshots below would show it.
 *
 *   page 0-3  read/write        page 6  execute only
 *   page 4    L0's: unmapped    page 7  read (and execute), no write
 *   page 5    read/write        page 8-9 beyond the EPT's top
 */
#define _GNU_SOURCE /* MAP_FIXED_NOREPLACE */

#include "test.h"

#include "halting.h"

#include "mm/ept.h"
#include "mm/mtrr.h"
#include "mm/page_alloc.h"
#include "vmx/l0.h"
#include "vmx/l1_memory.h"
#include "vmx/vmx_arch.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define L1_BASE 0x20000000ull
#define PG(n) (L1_BASE + (uint64_t)(n)*0x1000)
#define MEM_PAGES 10
#define EPT_TOP PG(8)
#define POOL_PAGES 64

#define POISON 0xa5	 /* output buffers; never a byte of L1's memory */
#define L0_BYTE 0xee	 /* every byte of L0's page */
#define BEYOND_BYTE 0xdd /* every byte beyond the EPT's top */

static uint8_t *l1; /* == (uint8_t *)L1_BASE once mapped */
static uint8_t snapshot[MEM_PAGES * 0x1000];
static struct page_alloc pool;
static uint64_t pml4;	    /* EPT01 as described above */
static uint64_t pml4_other; /* page 4 mapped, page 0 unmapped */
static bool ready;

/* L1's byte at offset off from L1_BASE: 0x11..0x90, never POISON nor L0_BYTE. */
static uint8_t pattern(size_t off)
{
	return (uint8_t)(0x11 + (off * 7 + off / 0x1000) % 0x80);
}

static void fill(void)
{
	for (size_t i = 0; i < MEM_PAGES * 0x1000; i++)
		l1[i] = pattern(i);
	memset(l1 + 4 * 0x1000, L0_BYTE, 0x1000);
	memset(l1 + 8 * 0x1000, BEYOND_BYTE, 2 * 0x1000);
	memcpy(snapshot, l1, sizeof(snapshot));
}

static bool mem_unchanged(void)
{
	return memcmp(snapshot, l1, sizeof(snapshot)) == 0;
}

static bool all(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* buf equals L1's pattern from gpa on. */
static bool is_pattern(const uint8_t *buf, uint64_t gpa, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pattern(gpa - L1_BASE + i))
			return false;
	return true;
}

static uint64_t build_ept(uint64_t hole)
{
	struct mtrr_state m;
	mtrr_init(&m, 39);
	const struct mem_range holes[] = {{.base = hole, .size = 0x1000, .type = MEM_HYPERVISOR}};
	const struct ept_options opt = {.page_1g = true, .page_2m = true};
	return ept_build_identity(&pool, &m, EPT_TOP, holes, 1, &opt, NULL);
}

/* Maps L1's memory, builds both EPTs; g_l0 gets EPT01 and MAXPHYADDR 39. */
static bool setup(void)
{
	if (!ready) {
		void *p =
		    mmap((void *)(uintptr_t)L1_BASE, MEM_PAGES * 0x1000, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		void *pool_mem = aligned_alloc(0x1000, POOL_PAGES * 0x1000);
		if (p != (void *)(uintptr_t)L1_BASE || !pool_mem ||
		    !page_alloc_init(&pool, (uint64_t)(uintptr_t)pool_mem, POOL_PAGES * 0x1000))
			return false;
		l1 = p;
		pml4 = build_ept(PG(4));
		pml4_other = build_ept(PG(0));
		if (!pml4 || !pml4_other || !ept_set_page_rights(&pool, pml4, PG(6), EPT_EXEC) ||
		    !ept_set_page_rights(&pool, pml4, PG(7), EPT_READ | EPT_EXEC))
			return false;
		ready = true;
	}
	memset(&g_l0, 0, sizeof(g_l0));
	g_l0.eptp = ept_eptp(pml4, false);
	g_l0.maxphyaddr = 39;
	g_l0.host_map_end = 1ull << 39; /* L0's identity map beyond everything here */
	fill();
	return true;
}

static bool rd(uint64_t gpa, void *buf, size_t len)
{
	const struct l1_memory *m = l1_memory_ept01();
	return m->read(m->ctx, gpa, buf, len);
}

static bool wr(uint64_t gpa, const void *buf, size_t len)
{
	const struct l1_memory *m = l1_memory_ept01();
	return m->write(m->ctx, gpa, buf, len);
}

/* ---- the set-up itself ---- */

TEST(l1mem_fixture_is_what_it_claims)
{
	CHECK(setup());
	unsigned rights = 0;
	CHECK(ept_translate(pml4, PG(0), NULL, &rights, NULL, NULL));
	CHECK_EQ(rights, EPT_READ | EPT_WRITE | EPT_EXEC);
	CHECK(!ept_translate(pml4, PG(4), NULL, &rights, NULL, NULL));
	CHECK(ept_translate(pml4, PG(6), NULL, &rights, NULL, NULL));
	CHECK_EQ(rights, EPT_EXEC);
	CHECK(ept_translate(pml4, PG(7), NULL, &rights, NULL, NULL));
	CHECK_EQ(rights, EPT_READ | EPT_EXEC);
	CHECK(!ept_translate(pml4, PG(8), NULL, &rights, NULL, NULL));
	CHECK(!ept_translate(pml4_other, PG(0), NULL, &rights, NULL, NULL));
	CHECK(ept_translate(pml4_other, PG(4), NULL, &rights, NULL, NULL));
	/* The host bytes behind the refused pages are there to be (wrongly) copied. */
	CHECK_EQ(*(volatile uint8_t *)(uintptr_t)(PG(4) + 0x10), L0_BYTE);
	CHECK_EQ(*(volatile uint8_t *)(uintptr_t)(PG(8) + 0x10), BEYOND_BYTE);
	CHECK_EQ(*(volatile uint8_t *)(uintptr_t)(PG(0) + 1), 0x18);
}

/* ---- inside L1's memory ---- */

TEST(l1mem_read_inside_moves_the_bytes)
{
	CHECK(setup());
	uint8_t buf[0x3000];
	memset(buf, POISON, sizeof(buf));
	CHECK(rd(PG(0) + 0x123, buf, 16));
	/* The bytes at 0x123..0x125, written out: 0x11 + (off * 7) % 0x80. */
	CHECK_EQ(buf[0], 0x86);
	CHECK_EQ(buf[1], 0x8d);
	CHECK_EQ(buf[2], 0x14);
	CHECK(is_pattern(buf, PG(0) + 0x123, 16));
	CHECK(all(buf + 16, sizeof(buf) - 16, POISON)); /* not one byte more */

	/* Across three page boundaries, 0..3, all read/write. */
	memset(buf, POISON, sizeof(buf));
	CHECK(rd(PG(0) + 0xff0, buf, 0x2020));
	CHECK(is_pattern(buf, PG(0) + 0xff0, 0x2020));
	CHECK(all(buf + 0x2020, sizeof(buf) - 0x2020, POISON));

	/* Read-only and the last byte before L0's page are readable. */
	memset(buf, POISON, sizeof(buf));
	CHECK(rd(PG(7) + 0x800, buf, 0x800));
	CHECK(is_pattern(buf, PG(7) + 0x800, 0x800));
	memset(buf, POISON, sizeof(buf));
	CHECK(rd(PG(4) - 8, buf, 8));
	CHECK(is_pattern(buf, PG(4) - 8, 8));
	memset(buf, POISON, sizeof(buf));
	CHECK(rd(PG(5), buf, 8)); /* the first byte after it */
	CHECK(is_pattern(buf, PG(5), 8));
	CHECK(mem_unchanged());
}

TEST(l1mem_write_inside_moves_the_bytes)
{
	CHECK(setup());
	uint8_t src[0x1100];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(0xc0 + i % 0x20); /* 0xc0..0xdf: not L1's pattern */
	CHECK(wr(PG(2) + 0x40, src, 5));
	CHECK_EQ(l1[0x2040], 0xc0);
	CHECK_EQ(l1[0x2044], 0xc4);
	CHECK_EQ(l1[0x203f], pattern(0x203f)); /* neighbours kept */
	CHECK_EQ(l1[0x2045], pattern(0x2045));
	memcpy(snapshot + 0x2040, src, 5);
	CHECK(mem_unchanged());

	/* Across the page 1 / 2 and 2 / 3 boundaries. */
	CHECK(wr(PG(2) - 0x80, src, 0x1100));
	CHECK(memcmp(l1 + 0x2000 - 0x80, src, 0x1100) == 0);
	memcpy(snapshot + 0x2000 - 0x80, src, 0x1100);
	CHECK(mem_unchanged());

	/* Up to the last byte before L0's page, and page 5 from its first byte. */
	CHECK(wr(PG(4) - 4, src, 4));
	CHECK(wr(PG(5), src + 8, 4));
	memcpy(snapshot + 0x4000 - 4, src, 4);
	memcpy(snapshot + 0x5000, src + 8, 4);
	CHECK(mem_unchanged());
	CHECK_EQ(l1[0x4000], L0_BYTE);
}

/* ---- L0's page ---- */

TEST(l1mem_l0_page_refused_nothing_copied)
{
	CHECK(setup());
	static uint8_t buf[0x5000];
	static const struct {
		uint64_t gpa;
		size_t len;
	} refused[] = {
	    {PG(4), 8},		     /* inside */
	    {PG(4) + 0xfff, 1},	     /* its last byte */
	    {PG(3) + 0xffc, 8},	     /* from page 3 into it */
	    {PG(4) + 0xffc, 8},	     /* from it into page 5 */
	    {PG(3) + 0x800, 0x1900}, /* page 3 to page 5 over it: a middle page */
	    {PG(0), 0x5000},	     /* pages 0-3, then it */
	};
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		memset(buf, POISON, sizeof(buf));
		CHECK(!rd(refused[i].gpa, buf, refused[i].len));
		CHECK(all(buf, sizeof(buf), POISON));
	}
	static uint8_t src[0x5000];
	memset(src, 0xf7, sizeof(src));
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK(!wr(refused[i].gpa, src, refused[i].len));
	CHECK(mem_unchanged());
	CHECK(all(l1 + 0x4000, 0x1000, L0_BYTE));
}

/* ---- rights ---- */

TEST(l1mem_read_only_page_refuses_writes)
{
	CHECK(setup());
	uint8_t src[0x20];
	memset(src, 0xf6, sizeof(src));
	CHECK(!wr(PG(7), src, 1));
	CHECK(!wr(PG(7) + 0x7f0, src, 0x10));
	CHECK(!wr(PG(5) + 0xff0, src, 0x20)); /* page 5 (writable) into 6 (exec only) */
	CHECK(mem_unchanged());
	/* Page 7 itself stays readable. */
	uint8_t buf[0x20];
	memset(buf, POISON, sizeof(buf));
	CHECK(rd(PG(7) + 0x7f0, buf, 0x10));
	CHECK(is_pattern(buf, PG(7) + 0x7f0, 0x10));
}

TEST(l1mem_execute_only_page_refuses_reads)
{
	CHECK(setup());
	uint8_t buf[0x20];
	memset(buf, POISON, sizeof(buf));
	CHECK(!rd(PG(6) + 0x100, buf, 4));
	CHECK(all(buf, sizeof(buf), POISON));
	CHECK(!rd(PG(5) + 0xff0, buf, 0x20)); /* from readable page 5 into it */
	CHECK(all(buf, sizeof(buf), POISON));
	CHECK(!rd(PG(6) + 0xff0, buf, 0x20)); /* from it into readable page 7 */
	CHECK(all(buf, sizeof(buf), POISON));
	CHECK(!wr(PG(6), "\x01\x02", 2));
	CHECK(mem_unchanged());
}

/* ---- the edges ---- */

TEST(l1mem_beyond_ept_top_refused)
{
	CHECK(setup());
	uint8_t buf[0x20];
	memset(buf, POISON, sizeof(buf));
	CHECK(!rd(EPT_TOP, buf, 1));
	CHECK(!rd(EPT_TOP + 0x1000, buf, 8));
	CHECK(!rd(EPT_TOP - 4, buf, 8)); /* from page 7 over the top */
	CHECK(all(buf, sizeof(buf), POISON));
	CHECK(rd(EPT_TOP - 8, buf, 8)); /* ends at the top: allowed */
	CHECK(is_pattern(buf, EPT_TOP - 8, 8));
	/* Far beyond: an address the 4-level EPT cannot map, one byte. */
	memset(buf, POISON, sizeof(buf));
	CHECK(!rd(1ull << 48, buf, 1));
	CHECK(!rd(0x0000ffffffffffffull, buf, 1));
	CHECK(all(buf, sizeof(buf), POISON));
	uint8_t src[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	CHECK(!wr(EPT_TOP, src, 8));
	CHECK(!wr(EPT_TOP - 12, src, 8)); /* read-only page 7 anyway, then the top */
	CHECK(mem_unchanged());
}

/*
 * EPT01 maps L1's memory up to 2^MAXPHYADDR, L0's own page tables only to
 * max(top of memory, 4 GiB): an address EPT01 grants but L0 cannot map
 * (a VMPTRLD pointer or a bitmap at 256 GiB) is refused, never a #PF in
 * VMX root.  Here L0's map is made to end at page 3, inside EPT01's grant.
 */
TEST(l1mem_beyond_l0_map_refused)
{
	CHECK(setup());
	g_l0.host_map_end = PG(3);
	uint8_t buf[0x20];
	memset(buf, POISON, sizeof(buf));
	CHECK(!rd(PG(3), buf, 1));
	CHECK(!rd(PG(3) - 8, buf, 16)); /* starts below, ends beyond */
	CHECK(!rd(PG(3) + 0x800, buf, 4));
	CHECK(all(buf, sizeof(buf), POISON));
	CHECK(rd(PG(3) - 16, buf, 16)); /* ends right at the end of L0's map */
	CHECK(is_pattern(buf, PG(3) - 16, 16));
	uint8_t src[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
	CHECK(!wr(PG(3), src, 8));
	CHECK(!wr(PG(3) - 4, src, 8));
	CHECK(mem_unchanged());
	/* The same accesses with L0's map past them: EPT01 alone decides. */
	g_l0.host_map_end = 1ull << 39;
	CHECK(rd(PG(3), buf, 16));
	CHECK(is_pattern(buf, PG(3), 16));
}

/*
 * A guard that let a wrapping range through would copy from near 2^64 and
 * kill the process, so the accesses run in a forked child
 * (tests/unit/halting.h) that exits with a bit per failed expectation.
 */
static void wrap_accesses(void)
{
	unsigned bad = 0;
	uint8_t buf[0x20];
	memset(buf, POISON, sizeof(buf));
	/* gpa + len - 1 overflows: the last page would be "below" the first. */
	if (rd(0xfffffffffffffff0ull, buf, 0x20))
		bad |= 1;
	if (rd(~0ull, buf, 2))
		bad |= 2;
	if (rd(PG(0), buf, ~0ull - 0x100)) /* from L1's memory, len wrapping */
		bad |= 4;
	if (!all(buf, sizeof(buf), POISON))
		bad |= 8;
	uint8_t src[0x20];
	memset(src, 0xf5, sizeof(src));
	if (wr(0xfffffffffffffff8ull, src, 0x10))
		bad |= 16;
	if (!mem_unchanged())
		bad |= 32;
	_exit((int)bad);
}

TEST(l1mem_wrapping_range_refused)
{
	CHECK(setup());
	CHECK_EQ(halting_run(NULL, wrap_accesses), 0);
	CHECK(mem_unchanged());
}

TEST(l1mem_len_zero_succeeds_and_copies_nothing)
{
	CHECK(setup());
	uint8_t buf[8];
	memset(buf, POISON, sizeof(buf));
	CHECK(rd(PG(1), buf, 0)); /* a page start: gpa - 1 is below it */
	CHECK(rd(PG(4), buf, 0)); /* nothing of L0's page is touched */
	CHECK(all(buf, sizeof(buf), POISON));
	CHECK(wr(PG(2), "\x99", 0));
	CHECK(wr(PG(7), "\x99", 0));
	CHECK(mem_unchanged());
}

/* ---- what it takes from g_l0 ---- */

TEST(l1mem_follows_g_l0)
{
	CHECK(setup());
	const struct l1_memory *m = l1_memory_ept01();
	CHECK(m->read != NULL);
	CHECK(m->write != NULL);
	CHECK_EQ(m->maxphyaddr, 39);
	g_l0.maxphyaddr = 46;
	CHECK_EQ(l1_memory_ept01()->maxphyaddr, 46);
	g_l0.maxphyaddr = 52;
	CHECK_EQ(l1_memory_ept01()->maxphyaddr, 52);

	/* The EPT is g_l0.eptp at the time of the access. */
	uint8_t buf[8];
	g_l0.eptp = ept_eptp(pml4_other, false);
	memset(buf, POISON, sizeof(buf));
	CHECK(!rd(PG(0) + 0x10, buf, 8));
	CHECK(all(buf, sizeof(buf), POISON));
	CHECK(rd(PG(4) + 0x10, buf, 8));
	CHECK(all(buf, sizeof(buf), L0_BYTE));
	g_l0.eptp = ept_eptp(pml4, false);
	CHECK(rd(PG(0) + 0x10, buf, 8));
	CHECK(is_pattern(buf, PG(0) + 0x10, 8));
	CHECK(mem_unchanged());
	memset(&g_l0, 0, sizeof(g_l0));
}
