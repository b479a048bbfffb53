/*
 * test_mtrr.c - mm/mtrr.c: mtrr_read through a fake RDMSR (which MSRs it
 * reads: none without MTRR support, no fixed-range MSR without
 * IA32_MTRRCAP.FIX, exactly VCNT variable pairs, capped), and
 * mtrr_type_of_range: E = 0, default type only, fixed ranges with FE = 1
 * and FE = 0, variable ranges and their overlaps (UC wins, WT + WB = WT, the
 * undefined mixes read as UC), ranges straddling a boundary, QEMU/OVMF and
 * bare-metal-like layouts, non-contiguous masks (the slow path, and
 * aliases above 4 GiB), and a cross-check against a page-by-page
 * reference on random MTRR settings.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "mm/mtrr.h"

#include <string.h>

#define KB(x) ((uint64_t)(x) << 10)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)

#define UC MTRR_TYPE_UC
#define WC MTRR_TYPE_WC
#define WT MTRR_TYPE_WT
#define WP MTRR_TYPE_WP
#define WB MTRR_TYPE_WB

/* PHYSMASK for a power-of-two size with MAXPHYADDR 40, valid bit set. */
#define MASK40(size) ((((1ull << 40) - 1) & ~((uint64_t)(size)-1)) | MTRR_PHYSMASK_VALID)

/* ---- a fake RDMSR ---- */

struct msr_val {
	uint32_t msr;
	uint64_t val;
};

static const struct msr_val *msr_table;
static uint32_t msrs_read[128];
static int nread;
static int n_missing;

static uint64_t fake_rdmsr(uint32_t msr)
{
	if (nread < 128)
		msrs_read[nread] = msr;
	nread++;
	for (const struct msr_val *m = msr_table; m->msr; m++)
		if (m->msr == msr)
			return m->val;
	n_missing++;
	return 0;
}

static void read_state(struct mtrr_state *m, const struct msr_val *table, unsigned maxphy,
		       bool has_mtrr)
{
	msr_table = table;
	nread = 0;
	n_missing = 0;
	memset(m, 0xa5, sizeof(*m));
	mtrr_read(m, fake_rdmsr, maxphy, has_mtrr);
}

static bool was_read(uint32_t msr)
{
	for (int i = 0; i < nread && i < 128; i++)
		if (msrs_read[i] == msr)
			return true;
	return false;
}

static int fixed_msrs_read(void)
{
	int n = 0;
	for (uint32_t msr = 0x250; msr <= 0x26f; msr++)
		n += was_read(msr);
	return n;
}

/*
 * QEMU q35 + OVMF (PlatformPei): MTRRCAP VCNT 8, FIX, WC; default WB with
 * E and FE; fixed WB up to 640 KiB and UC from 0xa0000 to 1 MiB; one
 * variable range UC for the 32-bit PCI hole 0xc0000000-0xffffffff.  Pairs
 * 1-7 read as 0 (invalid): the fake RDMSR returns 0 for what is not listed.
 */
static const struct msr_val qemu_ovmf[] = {
    {MSR_IA32_MTRRCAP, 0x508},
    {MSR_IA32_MTRR_DEF_TYPE, 0xc06},
    {MSR_IA32_MTRR_FIX64K_00000, 0x0606060606060606ull},
    {MSR_IA32_MTRR_FIX16K_80000, 0x0606060606060606ull},
    {MSR_IA32_MTRR_FIX16K_A0000, 0},
    {MSR_IA32_MTRR_FIX4K_C0000, 0},
    {MSR_IA32_MTRR_FIX4K_C8000, 0},
    {MSR_IA32_MTRR_FIX4K_D0000, 0},
    {MSR_IA32_MTRR_FIX4K_D8000, 0},
    {MSR_IA32_MTRR_FIX4K_E0000, 0},
    {MSR_IA32_MTRR_FIX4K_E8000, 0},
    {MSR_IA32_MTRR_FIX4K_F0000, 0},
    {MSR_IA32_MTRR_FIX4K_F8000, 0},
    {MSR_IA32_MTRR_PHYSBASE(0), 0xc0000000ull | UC},
    {MSR_IA32_MTRR_PHYSMASK(0), 0xffc0000800ull},
    {0, 0},
};

/* An enabled state with default type def and nothing else (MAXPHYADDR 40). */
static void simple_state(struct mtrr_state *m, unsigned def)
{
	mtrr_init(m, 40);
	m->enabled = true;
	m->def_type = (uint8_t)def;
}

/* ---- reading ---- */

TEST(mtrr_read_no_cpu_support)
{
	struct mtrr_state m;
	read_state(&m, qemu_ovmf, 40, false);
	CHECK_EQ(nread, 0);
	CHECK(!m.enabled);
	CHECK(!m.has_fixed);
	CHECK_EQ(m.nvar, 0);
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0, 1ull << 40), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, 0x1000), UC);
}

TEST(mtrr_read_qemu_ovmf_msrs)
{
	struct mtrr_state m;
	read_state(&m, qemu_ovmf, 40, true);
	CHECK_EQ(n_missing, 14);
	/* MTRRCAP, DEF_TYPE, 11 fixed, 8 pairs. */
	CHECK_EQ(nread, 2 + 11 + 16);
	CHECK(was_read(MSR_IA32_MTRRCAP));
	CHECK(was_read(MSR_IA32_MTRR_DEF_TYPE));
	CHECK_EQ(fixed_msrs_read(), 11);
	CHECK(was_read(0x20f));	 /* PHYSMASK7 */
	CHECK(!was_read(0x210)); /* PHYSBASE8: beyond VCNT */
	CHECK(m.enabled);
	CHECK(m.fixed_enabled);
	CHECK(m.has_fixed);
	CHECK_EQ(m.def_type, WB);
	CHECK_EQ(m.vcnt, 8);
	CHECK_EQ(m.nvar, 8);
	CHECK_EQ(m.maxphyaddr, 40);
	CHECK_EQ(m.addr_mask, 0xfffffff000ull);
	CHECK_EQ(m.fixed[0], WB);
	CHECK_EQ(m.fixed[15], WB);
	CHECK_EQ(m.fixed[16], UC);
	CHECK_EQ(m.fixed[87], UC);
	CHECK_EQ(m.var[0].base, 0xc0000000ull);
	CHECK_EQ(m.var[0].mask, 0xffc0000000ull);
	CHECK_EQ(m.var[0].type, UC);
	CHECK(m.var[0].valid);
	CHECK(!m.var[1].valid);
}

TEST(mtrr_read_no_fixed_ranges)
{
	/* FIX = 0: FE in DEF_TYPE means nothing and no 0x250-0x26f is read. */
	static const struct msr_val t[] = {
	    {MSR_IA32_MTRRCAP, 0x002},
	    {MSR_IA32_MTRR_DEF_TYPE, 0xc06},
	    {MSR_IA32_MTRR_PHYSBASE(0), 0xc0000000ull | UC},
	    {MSR_IA32_MTRR_PHYSMASK(0), MASK40(GB(1))},
	    {MSR_IA32_MTRR_PHYSBASE(1), 0x000a0000ull | UC},
	    {MSR_IA32_MTRR_PHYSMASK(1), MASK40(KB(128))},
	    {0, 0},
	};
	struct mtrr_state m;
	read_state(&m, t, 40, true);
	CHECK_EQ(nread, 6);
	CHECK_EQ(n_missing, 0);
	CHECK_EQ(fixed_msrs_read(), 0);
	CHECK(was_read(0x200) && was_read(0x201) && was_read(0x202) && was_read(0x203));
	CHECK(!was_read(0x204));
	CHECK(!m.has_fixed);
	CHECK(!m.fixed_enabled);
	CHECK_EQ(m.nvar, 2);
	/* Below 1 MiB the variable ranges decide. */
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, KB(128)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0x9f000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0xc0000, KB(256)), WB);
}

TEST(mtrr_read_vcnt_capped)
{
	static const struct msr_val t[] = {
	    {MSR_IA32_MTRRCAP, 40},
	    {MSR_IA32_MTRR_DEF_TYPE, 0x806},
	    {0, 0},
	};
	struct mtrr_state m;
	read_state(&m, t, 40, true);
	CHECK_EQ(m.vcnt, 40);
	CHECK_EQ(m.nvar, MTRR_MAX_VAR);
	CHECK_EQ(nread, 2 + 2 * MTRR_MAX_VAR);
	CHECK(was_read(MSR_IA32_MTRR_PHYSMASK(MTRR_MAX_VAR - 1)));
	CHECK(!was_read(MSR_IA32_MTRR_PHYSBASE(MTRR_MAX_VAR)));
	CHECK_EQ(fixed_msrs_read(), 0);
	CHECK(m.enabled);
	CHECK(!m.fixed_enabled);
	CHECK_EQ(mtrr_type_of_range(&m, 0, 1ull << 40), WB);
}

TEST(mtrr_read_maxphyaddr_defaults)
{
	struct mtrr_state m;
	read_state(&m, qemu_ovmf, 0, true);
	CHECK_EQ(m.maxphyaddr, 36);
	CHECK_EQ(m.addr_mask, 0xffffff000ull);
	/* Mask bits above MAXPHYADDR are dropped. */
	CHECK_EQ(m.var[0].mask, 0xfc0000000ull);
	read_state(&m, qemu_ovmf, 60, true);
	CHECK_EQ(m.maxphyaddr, 52);
	CHECK_EQ(m.addr_mask, 0x000ffffffffff000ull);
}

/* ---- the type of a range ---- */

TEST(mtrr_disabled_is_uc)
{
	/* E = 0 with FE, a WB default and a WB range: all UC (SDM 12.11.2.1). */
	static const struct msr_val t[] = {
	    {MSR_IA32_MTRRCAP, 0x501},
	    {MSR_IA32_MTRR_DEF_TYPE, 0x406},
	    {MSR_IA32_MTRR_FIX64K_00000, 0x0606060606060606ull},
	    {MSR_IA32_MTRR_PHYSBASE(0), WB},
	    {MSR_IA32_MTRR_PHYSMASK(0), MASK40(GB(4))},
	    {0, 0},
	};
	struct mtrr_state m;
	read_state(&m, t, 40, true);
	CHECK(!m.enabled);
	CHECK_EQ(mtrr_type_of_range(&m, 0, KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(2), GB(8)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0, 1ull << 40), UC);
}

TEST(mtrr_default_type_only)
{
	struct mtrr_state m;
	simple_state(&m, WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, 1ull << 40), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 123, 4567), WB);
	simple_state(&m, WT);
	CHECK_EQ(mtrr_type_of_range(&m, GB(3), GB(1)), WT);
	/* A reserved default type counts as UC. */
	simple_state(&m, 2);
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(1)), UC);
	/* Empty and wrapping ranges have no type. */
	simple_state(&m, WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0x1000, 0), -1);
	CHECK_EQ(mtrr_type_of_range(&m, ~0ull - 0xfff, 0x2000), -1);
	CHECK_EQ(mtrr_type_of_range(&m, ~0ull - 0xfff, 0x1000), WB);
}

/* Fixed: WC 0x10000-0x1ffff, WT 0x88000-0x8bfff, UC 0xa0000-0xbffff, WP 0xcb000. */
static void fixed_state(struct mtrr_state *m, bool fe)
{
	simple_state(m, WB);
	m->has_fixed = true;
	m->fixed_enabled = fe;
	for (unsigned i = 0; i < MTRR_NFIXED; i++)
		m->fixed[i] = WB;
	m->fixed[1] = WC;     /* 64 KiB unit 1 */
	m->fixed[8 + 2] = WT; /* 16 KiB unit 2 from 0x80000 */
	for (unsigned i = 16; i < 24; i++)
		m->fixed[i] = UC; /* 0xa0000-0xbffff */
	m->fixed[24 + 11] = WP;	  /* 4 KiB unit 11 from 0xc0000 */
}

TEST(mtrr_fixed_ranges)
{
	struct mtrr_state m;
	fixed_state(&m, true);
	CHECK_EQ(mtrr_type_of_range(&m, 0, KB(64)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0x10000, KB(64)), WC);
	CHECK_EQ(mtrr_type_of_range(&m, 0x1ffff, 1), WC);
	CHECK_EQ(mtrr_type_of_range(&m, 0x0ffff, 2), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0x88000, KB(16)), WT);
	CHECK_EQ(mtrr_type_of_range(&m, 0x84000, KB(16)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0x87000, KB(8)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0x9f000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, KB(128)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xbf000, KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0x9f000, KB(8)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, KB(132)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0xcb000, KB(4)), WP);
	CHECK_EQ(mtrr_type_of_range(&m, 0xca000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0xcc000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0xcc000, 0x34000), WB);
	/* From the last fixed range across 1 MiB into the default. */
	CHECK_EQ(mtrr_type_of_range(&m, 0xcc000, GB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(1)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(2)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, MB(1), MB(1)), WB);
}

TEST(mtrr_fixed_disabled_by_fe)
{
	struct mtrr_state m;
	fixed_state(&m, false);
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0x10000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0xcb000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(1)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(1)), WB);
	/* FE set but no fixed ranges on the CPU: also ignored. */
	fixed_state(&m, true);
	m.has_fixed = false;
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, KB(4)), WB);
}

TEST(mtrr_fixed_win_over_variable)
{
	/* A UC variable range over [0, 2 MiB): fixed ranges decide below 1 MiB. */
	struct mtrr_state m;
	fixed_state(&m, true);
	mtrr_set_var(&m, 0, 0 | UC, MASK40(MB(2)));
	CHECK_EQ(mtrr_type_of_range(&m, 0, KB(64)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, KB(128)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xc0000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, MB(1), MB(1)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xff000, KB(8)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, MB(2), GB(1)), WB);
	m.fixed_enabled = false;
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(2)), UC);
}

TEST(mtrr_variable_range)
{
	struct mtrr_state m;
	simple_state(&m, WB);
	mtrr_set_var(&m, 0, 0xc0000000ull | UC, MASK40(GB(1)));
	CHECK_EQ(m.nvar, 1);
	CHECK_EQ(mtrr_type_of_range(&m, 0xc0000000ull, GB(1)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xe0000000ull, MB(512)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xfee00000ull, KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xfffff000ull, KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xbffff000ull, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(3)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(4), GB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(4), (1ull << 40) - GB(4)), WB);
	/* Straddling either boundary. */
	CHECK_EQ(mtrr_type_of_range(&m, 0xbffff000ull, KB(8)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0xbfffffffull, 2), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0xfffff000ull, KB(8)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(4)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, GB(3) - MB(2), MB(4)), -1);
	/* The valid bit: an invalid pair is ignored. */
	mtrr_set_var(&m, 0, 0xc0000000ull | UC, MASK40(GB(1)) & ~MTRR_PHYSMASK_VALID);
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(8)), WB);
}

TEST(mtrr_overlap_uc_wins)
{
	struct mtrr_state m;
	simple_state(&m, UC);
	mtrr_set_var(&m, 0, 0 | WB, MASK40(GB(4)));
	mtrr_set_var(&m, 1, 0xc0000000ull | UC, MASK40(GB(1)));
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(3)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(3), GB(1)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(4), GB(1)), UC); /* the default */
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(4)), -1);
	/* Order does not matter. */
	mtrr_set_var(&m, 0, 0xc0000000ull | UC, MASK40(GB(1)));
	mtrr_set_var(&m, 1, 0 | WB, MASK40(GB(4)));
	CHECK_EQ(mtrr_type_of_range(&m, GB(3), GB(1)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(2), GB(1)), WB);
}

TEST(mtrr_overlap_wt_wb_is_wt)
{
	struct mtrr_state m;
	simple_state(&m, UC);
	mtrr_set_var(&m, 0, 0 | WB, MASK40(GB(4)));
	mtrr_set_var(&m, 1, 0 | WT, MASK40(GB(1)));
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(1)), WT);
	CHECK_EQ(mtrr_type_of_range(&m, GB(1), GB(3)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(2)), -1);
	/* Two identical types: that type. */
	mtrr_set_var(&m, 1, 0 | WB, MASK40(GB(1)));
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(4)), WB);
}

TEST(mtrr_overlap_undefined_is_uc)
{
	/* WC + WB, WP + WT, WT + WB + WP: undefined in the SDM, UC here. */
	struct mtrr_state m;
	simple_state(&m, WB);
	mtrr_set_var(&m, 0, 0 | WB, MASK40(GB(4)));
	mtrr_set_var(&m, 1, 0 | WC, MASK40(MB(256)));
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(256)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, MB(256), MB(256)), WB);
	simple_state(&m, WB);
	mtrr_set_var(&m, 0, 0 | WP, MASK40(GB(1)));
	mtrr_set_var(&m, 1, 0 | WT, MASK40(GB(1)));
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(1)), UC);
	mtrr_set_var(&m, 0, 0 | WB, MASK40(GB(1)));
	mtrr_set_var(&m, 2, 0 | WP, MASK40(MB(2)));
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(2)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, MB(2), MB(2)), WT);
	/* A reserved type in a variable range counts as UC. */
	simple_state(&m, WB);
	mtrr_set_var(&m, 0, 0x40000000ull | 7, MASK40(GB(1)));
	CHECK_EQ(mtrr_type_of_range(&m, GB(1), GB(1)), UC);
}

TEST(mtrr_qemu_ovmf_layout)
{
	struct mtrr_state m;
	read_state(&m, qemu_ovmf, 40, true);
	CHECK_EQ(mtrr_type_of_range(&m, 0, KB(640)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, KB(640), KB(384)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(1)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(2)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, MB(1), GB(3) - MB(1)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, MB(2), GB(1) - MB(2)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(3), GB(1)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xfed00000ull, KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(4), (1ull << 40) - GB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(2), GB(2)), -1);
}

TEST(mtrr_bare_metal_layout)
{
	/*
	 * Default UC, like many BIOSes: WB 0-8 GiB, WB 8-8.5 GiB, UC
	 * 2-4 GiB (PCI hole) and 16 MiB below it (graphics stolen memory);
	 * fixed WB, UC 0xa0000-0xbffff, WP 0xc0000-0xfffff (ROM shadow).
	 * MAXPHYADDR 39.
	 */
	static const struct msr_val t[] = {
	    {MSR_IA32_MTRRCAP, 0xd0a},
	    {MSR_IA32_MTRR_DEF_TYPE, 0xc00},
	    {MSR_IA32_MTRR_FIX64K_00000, 0x0606060606060606ull},
	    {MSR_IA32_MTRR_FIX16K_80000, 0x0606060606060606ull},
	    {MSR_IA32_MTRR_FIX16K_A0000, 0},
	    {MSR_IA32_MTRR_FIX4K_C0000, 0x0505050505050505ull},
	    {MSR_IA32_MTRR_FIX4K_C8000, 0x0505050505050505ull},
	    {MSR_IA32_MTRR_FIX4K_D0000, 0x0505050505050505ull},
	    {MSR_IA32_MTRR_FIX4K_D8000, 0x0505050505050505ull},
	    {MSR_IA32_MTRR_FIX4K_E0000, 0x0505050505050505ull},
	    {MSR_IA32_MTRR_FIX4K_E8000, 0x0505050505050505ull},
	    {MSR_IA32_MTRR_FIX4K_F0000, 0x0505050505050505ull},
	    {MSR_IA32_MTRR_FIX4K_F8000, 0x0505050505050505ull},
	    {MSR_IA32_MTRR_PHYSBASE(0), 0x000000006ull},
	    {MSR_IA32_MTRR_PHYSMASK(0), 0x7e00000800ull},
	    {MSR_IA32_MTRR_PHYSBASE(1), 0x200000006ull},
	    {MSR_IA32_MTRR_PHYSMASK(1), 0x7fe0000800ull},
	    {MSR_IA32_MTRR_PHYSBASE(2), 0x080000000ull},
	    {MSR_IA32_MTRR_PHYSMASK(2), 0x7f80000800ull},
	    {MSR_IA32_MTRR_PHYSBASE(3), 0x07f000000ull},
	    {MSR_IA32_MTRR_PHYSMASK(3), 0x7fff000800ull},
	    {0, 0},
	};
	struct mtrr_state m;
	read_state(&m, t, 39, true);
	CHECK_EQ(n_missing, 2 * (10 - 4)); /* pairs 4-9 read as 0: invalid */
	CHECK_EQ(m.nvar, 10);
	CHECK_EQ(mtrr_type_of_range(&m, 0, KB(640)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0xa0000, KB(128)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0xc0000, KB(256)), WP);
	CHECK_EQ(mtrr_type_of_range(&m, MB(1), 0x7f000000ull - MB(1)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0x7f000000ull, MB(16)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0x7f000000ull, GB(2) + MB(16)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(2), GB(2)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(4), GB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(4), GB(4) + MB(512)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(8) + MB(512), KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(4), GB(5)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, GB(9), (1ull << 39) - GB(9)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0x7efff000ull, KB(8)), -1);
}

TEST(mtrr_noncontiguous_mask)
{
	/* Mask bit 13 clear: the range is 0x100000-0x100fff and 0x102000-0x102fff. */
	struct mtrr_state m;
	simple_state(&m, WB);
	mtrr_set_var(&m, 0, 0x100000ull | UC, MASK40(KB(4)) & ~0x2000ull);
	CHECK_EQ(mtrr_type_of_range(&m, 0x100000, KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0x101000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0x102000, KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, 0x103000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0x104000, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0x100000, KB(8)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, 0x103000, GB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(1)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(2)), -1);

	/* Mask bit 32 clear: the range is [1 GiB, 2 GiB) and [5 GiB, 6 GiB). */
	simple_state(&m, WB);
	mtrr_set_var(&m, 0, 0x40000000ull | UC, MASK40(GB(1)) & ~(1ull << 32));
	CHECK_EQ(mtrr_type_of_range(&m, 0, GB(1)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(1), GB(1)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(2), GB(3)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(5), GB(1)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(4), GB(2)), -1);
	CHECK_EQ(mtrr_type_of_range(&m, GB(6), (1ull << 40) - GB(6)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, GB(2), (1ull << 40) - GB(2)), -1);
}

TEST(mtrr_noncontiguous_many_runs)
{
	/*
	 * A WB range on every other 4 KiB page over a WB default: 16384 runs
	 * in 64 MiB, all WB (the slow path); over a UC default, two types.
	 */
	struct mtrr_state m;
	simple_state(&m, WB);
	mtrr_set_var(&m, 0, 0 | WB, 0x1000ull | MTRR_PHYSMASK_VALID);
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(64)), WB);
	m.def_type = UC;
	CHECK_EQ(mtrr_type_of_range(&m, 0, KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, KB(4), KB(4)), UC);
	CHECK_EQ(mtrr_type_of_range(&m, GB(3), KB(4)), WB);
	CHECK_EQ(mtrr_type_of_range(&m, 0, MB(64)), -1);
}

/* ---- cross-check against a page-by-page reference ---- */

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return rng_state >> 11;
}

static const uint8_t type_pool[] = {UC, WC, WT, WP, WB, WB, WB, UC};

/* The precedence rules of SDM Vol. 3A 12.11.4.1, written out per page. */
static int ref_type_at(const struct mtrr_state *m, uint64_t a)
{
	if (!m->enabled)
		return UC;
	if (m->has_fixed && m->fixed_enabled && a < MB(1)) {
		unsigned i = a < 0x80000   ? (unsigned)(a >> 16)
			     : a < 0xc0000 ? 8 + (unsigned)((a - 0x80000) >> 14)
					   : 24 + (unsigned)((a - 0xc0000) >> 12);
		return m->fixed[i];
	}
	bool seen[8] = {false};
	int n = 0, one = -1;
	for (unsigned i = 0; i < m->nvar; i++) {
		const struct mtrr_var *v = &m->var[i];
		if (v->valid && (a & v->mask) == (v->base & v->mask)) {
			if (!seen[v->type])
				n++;
			seen[v->type] = true;
			one = v->type;
		}
	}
	if (n == 0)
		return m->def_type;
	if (n == 1)
		return one;
	if (seen[UC])
		return UC;
	if (n == 2 && seen[WT] && seen[WB])
		return WT;
	return UC;
}

#define REF_PAGES 8192 /* 32 MiB */

TEST(mtrr_matches_reference)
{
	static int ref[REF_PAGES];
	struct mtrr_state m;
	int mismatches = 0, checks = 0, nonuniform = 0;
	for (int round = 0; round < 60; round++) {
		simple_state(&m, type_pool[rnd() % 8]);
		m.has_fixed = rnd() % 2;
		m.fixed_enabled = m.has_fixed && rnd() % 4;
		for (unsigned i = 0; i < MTRR_NFIXED; i++)
			m.fixed[i] = type_pool[rnd() % 8];
		unsigned nvar = (unsigned)(rnd() % 6);
		for (unsigned i = 0; i < nvar; i++) {
			/* Masks over bits 12-24, mostly contiguous, some with holes. */
			unsigned lo = 12 + (unsigned)(rnd() % 13);
			uint64_t mask = MASK40(1ull << lo);
			if (rnd() % 3 == 0)
				mask &= ~(1ull << (12 + rnd() % 13));
			uint64_t base = (rnd() % (MB(32) >> 12)) << 12;
			mtrr_set_var(&m, i, base | type_pool[rnd() % 8], mask);
		}
		for (uint64_t p = 0; p < REF_PAGES; p++)
			ref[p] = ref_type_at(&m, p << 12);
		for (int q = 0; q < 200; q++) {
			uint64_t base = rnd() % MB(32);
			uint64_t max = MB(32) - base;
			uint64_t size =
			    1 + rnd() % (q % 4 == 0 ? max : (max < MB(1) ? max : MB(1)));
			int want = ref[base >> 12];
			for (uint64_t p = base >> 12; p <= (base + size - 1) >> 12; p++)
				if (ref[p] != want)
					want = -1;
			nonuniform += want < 0;
			checks++;
			if (mtrr_type_of_range(&m, base, size) != want)
				mismatches++;
		}
	}
	CHECK_EQ(checks, 60 * 200);
	CHECK_EQ(mismatches, 0);
	/* Both outcomes were exercised. */
	CHECK(nonuniform > 100);
	CHECK(nonuniform < checks - 100);
}

TEST(mtrr_type_names)
{
	CHECK_STR(mtrr_type_name(UC), "UC");
	CHECK_STR(mtrr_type_name(WC), "WC");
	CHECK_STR(mtrr_type_name(WT), "WT");
	CHECK_STR(mtrr_type_name(WP), "WP");
	CHECK_STR(mtrr_type_name(WB), "WB");
	CHECK_STR(mtrr_type_name(2), "??");
	CHECK_STR(mtrr_type_name(7), "??");
}
