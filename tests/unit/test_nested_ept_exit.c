/*
 * test_nested_ept_exit.c - nested/ept_exit.c: the decision for an EPT
 * violation of vmcs02 under nested EPT, over an EPT12 in a host buffer
 * standing for L1's memory and an EPT01 given as a table of pages.
 * Every qualification L1 gets is an exact constant (SDM Vol. 3C 28.2.1,
 * table 28-7), as are the EPT02 leaf's rights and memory type.
 */
#include "test.h"

#include "nested/ept_exit.h"
#include "vmx/vmx_arch.h"

#include <string.h>

#define MEM_BASE 0x80000000ull
#define MEM_SIZE 0x10000ull
#define T_PML4 (MEM_BASE + 0x1000)
#define T_PDPT (MEM_BASE + 0x2000)
#define T_PD (MEM_BASE + 0x3000)
#define T_PT (MEM_BASE + 0x4000)
#define GPA2 0x0000000040201000ull /* PML4 0, PDPT 1, PD 1, PT 1 */
#define E1 (T_PT + 8)
#define GPA1 0x0000000012345000ull
#define L0_PAGE 0x000000007e000000ull
#define APIC_PAGE 0x00000000fee00000ull
#define MMIO_PAGE 0x00000000fd000000ull
#define EPTP (T_PML4 | (3ull << 3) | 6)
#define WB (6ull << 3)
#define R EPT_READ
#define W EPT_WRITE
#define X EPT_EXEC
#define RWX EPT_RWX

static uint8_t mem[MEM_SIZE] __attribute__((aligned(4096)));

static uint64_t *at(uint64_t pa)
{
	return (uint64_t *)(void *)(mem + (pa - MEM_BASE));
}

static bool rd(void *ctx, uint64_t pa, uint64_t *e)
{
	(void)ctx;
	if (pa < MEM_BASE || pa + 8 > MEM_BASE + MEM_SIZE)
		return false;
	*e = *at(pa);
	return true;
}

static enum ept_walk_cas cas(void *ctx, uint64_t pa, uint64_t old, uint64_t new_val)
{
	(void)ctx;
	if (*at(pa) != old)
		return EPT_WALK_CAS_CHANGED;
	*at(pa) = new_val;
	return EPT_WALK_CAS_DONE;
}

/*
 * EPT01: L1's RAM RWX WB; L0's page unmapped; the APIC page read-only;
 * MMIO UC.  Leaves: 4 KiB for those pages and in the 2 MiB at SPLIT_2M,
 * 2 MiB in the GiB of SPLIT_1G, 1 GiB elsewhere.
 */
#define SPLIT_1G 0x0000000080000000ull
#define SPLIT_2M 0x0000000014200000ull
static bool ept01(void *ctx, uint64_t gpa1, unsigned *rights, unsigned *memtype, unsigned *level)
{
	(void)ctx;
	if (gpa1 == L0_PAGE)
		return false;
	*rights = gpa1 == APIC_PAGE ? R : RWX;
	*memtype = gpa1 == MMIO_PAGE ? 0 : 6;
	bool page = gpa1 == APIC_PAGE || gpa1 == MMIO_PAGE || (gpa1 >> 21) == (SPLIT_2M >> 21);
	*level = page ? 1 : (gpa1 >> 30) == (SPLIT_1G >> 30) ? 2 : 3;
	return true;
}

static const struct ept_walk_caps caps = { .execute_only = true, .page_2m = true,
					   .page_1g = true, .maxphyaddr = 39 };
static const struct ept_walk_mem mem12 = { rd, cas, NULL };
static struct nested_ept_env env = { &caps, &mem12, ept01, NULL, false, 1 };

static void ept12(uint64_t leaf)
{
	memset(mem, 0, sizeof(mem));
	*at(T_PML4) = T_PDPT | RWX;
	*at(T_PDPT + 8) = T_PD | RWX;
	*at(T_PD + 8) = T_PT | RWX;
	*at(E1) = leaf;
}

static struct nested_ept_decision decide(uint64_t eptp, uint64_t qual)
{
	struct nested_ept_decision d;
	nested_ept_decide(&env, eptp, GPA2 | 0x7f8, qual, &d);
	return d;
}

TEST(nested_ept_fill_from_ept12)
{
	ept12(GPA1 | WB | R | X);
	struct nested_ept_decision d = decide(EPTP, 0x184 /* fetch, linear, translation */);
	CHECK_EQ(d.action, NEPT_MAP);
	CHECK_EQ(d.gpa1, GPA1 | 0x7f8);
	CHECK_EQ(d.rights, R | X);
	CHECK_EQ(d.memtype, 6);
	CHECK(!d.ipat);
	/* EPT12's type and IPAT pass; EPT01's UC wins, with IPAT. */
	ept12(GPA1 | (4ull << 3) | EPT_IGNORE_PAT | RWX);
	d = decide(EPTP, 0x181);
	CHECK(d.action == NEPT_MAP && d.memtype == 4 && d.ipat && d.rights == RWX);
	ept12(MMIO_PAGE | WB | RWX);
	d = decide(EPTP, 0x182);
	CHECK(d.action == NEPT_MAP && d.memtype == 0 && d.ipat);
}

/* SDM 28.2.1, table 28-7: the CPU's access and address bits, EPT12's rights in 5:3. */
TEST(nested_ept_violation_qualification)
{
	ept12(GPA1 | WB | R | X);
	/* A write: EPT12 gives R and X: bits 5:3 = 101b. */
	struct nested_ept_decision d = decide(EPTP, 0x1182 /* NMI unblock, linear, write */);
	CHECK_EQ(d.action, NEPT_L1_VIOLATION);
	CHECK_EQ(d.qual12, 0x1182 | (5ull << 3));
	/* The CPU's own rights bits (EPT02's) and bits L1 is not offered are not L1's. */
	d = decide(EPTP, 0x0182 | (1ull << 3) | (1ull << 6) | (7ull << 9) | (1ull << 13));
	CHECK_EQ(d.qual12, 0x0182 | (5ull << 3));
	env.advanced_info = true;
	d = decide(EPTP, 0x0182 | (5ull << 9));
	CHECK_EQ(d.qual12, 0x0182 | (5ull << 9) | (5ull << 3));
	env.advanced_info = false;
	/* Not present: rights 0; a paging-structure access (bit 8 clear). */
	ept12(0);
	d = decide(EPTP, 0x081);
	CHECK_EQ(d.action, NEPT_L1_VIOLATION);
	CHECK_EQ(d.qual12, 0x081);
}

TEST(nested_ept_misconfig_and_refusals)
{
	ept12(GPA1 | (7ull << 3) | RWX);
	CHECK_EQ(decide(EPTP, 0x181).action, NEPT_L1_MISCONFIG);
	/* EPT12 maps L0's page: refused, never mapped. */
	ept12(L0_PAGE | WB | RWX);
	struct nested_ept_decision d = decide(EPTP, 0x181);
	CHECK_EQ(d.action, NEPT_REFUSE);
	CHECK_EQ(d.gpa1, L0_PAGE | 0x7f8);
	/* L1's xAPIC page: read is mapped read-only, a write refused. */
	ept12(APIC_PAGE | WB | RWX);
	d = decide(EPTP, 0x181);
	CHECK(d.action == NEPT_MAP && d.rights == R);
	CHECK_EQ(decide(EPTP, 0x182).action, NEPT_REFUSE);
}

/* SDM 29.3.5: under an A/D EPTP the leaf is writable only once EPT12's D is set. */
TEST(nested_ept_dirty_tracking)
{
	uint64_t eptp = EPTP | EPTP_AD_ENABLE;
	ept12(GPA1 | WB | RWX);
	struct nested_ept_decision d = decide(eptp, 0x181);
	CHECK(d.action == NEPT_MAP && d.rights == (R | X));
	CHECK_EQ(*at(E1), GPA1 | WB | RWX | EPT_ACCESSED);
	d = decide(eptp, 0x182);
	CHECK(d.action == NEPT_MAP && d.rights == RWX);
	CHECK_EQ(*at(E1), GPA1 | WB | RWX | EPT_ACCESSED | EPT_DIRTY);
	/* D already set: a read maps it writable at once. */
	CHECK_EQ(decide(eptp, 0x181).rights, RWX);
	/* Without A/D nothing is written and the leaf is writable. */
	ept12(GPA1 | WB | RWX);
	CHECK_EQ(decide(EPTP, 0x181).rights, RWX);
	CHECK_EQ(*at(E1), GPA1 | WB | RWX);
}

/*
 * EPT02's leaf is as large as EPT12's leaf, EPT01's leaf and the CPU
 * allow: a 1-GiB EPT12 leaf over 1-GiB EPT01 RAM is one 1-GiB leaf; over
 * EPT01's 2-MiB leaves, or with the CPU's 2-MiB pages only, a 2-MiB one;
 * over a 4-KiB EPT01 leaf (the APIC page) or under a 4-KiB EPT12 leaf,
 * a 4-KiB one.  The L1 address is the translation of the whole address.
 */
TEST(nested_ept_fill_large_leaves)
{
	memset(mem, 0, sizeof(mem));
	*at(T_PML4) = T_PDPT | RWX;
	/* PDPTE 1 (GPA2's GiB) maps L1's GiB at 0xc0000000, 1 GiB, WB. */
	*at(T_PDPT + 8) = 0xc0000000ull | EPT_LEAF | WB | RWX;
	env.max_level02 = 3;
	struct nested_ept_decision d = decide(EPTP, 0x181);
	CHECK_EQ(d.action, NEPT_MAP);
	CHECK_EQ(d.level, 3);
	CHECK_EQ(d.gpa1, 0xc0000000ull | ((GPA2 | 0x7f8) & 0x3fffffffull));
	env.max_level02 = 2;
	CHECK_EQ(decide(EPTP, 0x181).level, 2);
	env.max_level02 = 3;
	/* Over EPT01's 2-MiB leaves: 2 MiB. */
	*at(T_PDPT + 8) = SPLIT_1G | EPT_LEAF | WB | RWX;
	d = decide(EPTP, 0x181);
	CHECK(d.action == NEPT_MAP && d.level == 2);
	/* EPT12 maps 2 MiB over 1-GiB EPT01 RAM: 2 MiB. */
	*at(T_PDPT + 8) = T_PD | RWX;
	*at(T_PD + 8) = 0x12200000ull | EPT_LEAF | WB | RWX;
	d = decide(EPTP, 0x181);
	CHECK(d.action == NEPT_MAP && d.level == 2 && d.gpa1 == (0x12200000ull | 0x17f8));
	/* ... but where EPT01 has 4-KiB leaves: 4 KiB. */
	*at(T_PD + 8) = SPLIT_2M | EPT_LEAF | WB | RWX;
	d = decide(EPTP, 0x181);
	CHECK(d.action == NEPT_MAP && d.level == 1 && d.gpa1 == (SPLIT_2M | 0x17f8));
	/* A 4-KiB EPT12 leaf: 4 KiB whatever EPT01 has. */
	ept12(GPA1 | WB | RWX);
	CHECK_EQ(decide(EPTP, 0x181).level, 1);
	env.max_level02 = 1;
}
