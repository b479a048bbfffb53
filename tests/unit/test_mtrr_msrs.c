/*
 * test_mtrr_msrs.c - mm/mtrr.c from MSR values L0 keeps for L1:
 * mtrr_from_msrs decodes them exactly as mtrr_read decodes RDMSR (VCNT
 * pairs only, fixed ranges only with MTRRCAP.FIX, FE only with them), and
 * mtrr_same_types tells when two states give every address the same type
 * (the rewrites of EPT01 that can be skipped): E = 0 in both whatever
 * else differs, invalid variable ranges ignored, reserved types as UC,
 * fixed ranges only while enabled.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "mm/mtrr.h"

#include <string.h>

#define MASK40(size) ((((1ull << 40) - 1) & ~((uint64_t)(size)-1)) | MTRR_PHYSMASK_VALID)

static const uint32_t fixed_msr[MTRR_NFIXED_MSRS] = {
    0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
};

static uint64_t cap, def, fixed[MTRR_NFIXED_MSRS], var[2 * MTRR_MAX_VAR];

static uint64_t rd(uint32_t msr)
{
	if (msr == MSR_IA32_MTRRCAP)
		return cap;
	if (msr == MSR_IA32_MTRR_DEF_TYPE)
		return def;
	for (unsigned i = 0; i < MTRR_NFIXED_MSRS; i++)
		if (msr == fixed_msr[i])
			return fixed[i];
	if (msr >= 0x200 && msr < 0x200 + 2 * MTRR_MAX_VAR)
		return var[msr - 0x200];
	return 0;
}

static void values(void)
{
	cap = 0x508; /* WC, FIX, VCNT 8 */
	def = 0xc06;
	for (unsigned i = 0; i < MTRR_NFIXED_MSRS; i++)
		fixed[i] = 0x0605040100060504ull + i;
	memset(var, 0, sizeof(var));
	var[0] = 0xc0000000ull | 0;
	var[1] = MASK40(1ull << 30);
	var[4] = 0x140000000ull | 1;
	var[5] = MASK40(16ull << 20);
	var[16] = 0x200000000ull | 6; /* pair 8: beyond VCNT */
	var[17] = MASK40(1ull << 30);
}

static bool same_fields(const struct mtrr_state *a, const struct mtrr_state *b)
{
	if (a->enabled != b->enabled || a->fixed_enabled != b->fixed_enabled ||
	    a->has_fixed != b->has_fixed || a->def_type != b->def_type ||
	    a->maxphyaddr != b->maxphyaddr || a->addr_mask != b->addr_mask || a->vcnt != b->vcnt ||
	    a->nvar != b->nvar || memcmp(a->fixed, b->fixed, sizeof(a->fixed)) != 0)
		return false;
	for (unsigned i = 0; i < MTRR_MAX_VAR; i++)
		if (a->var[i].base != b->var[i].base || a->var[i].mask != b->var[i].mask ||
		    a->var[i].type != b->var[i].type || a->var[i].valid != b->var[i].valid)
			return false;
	return true;
}

TEST(mtrr_from_msrs_as_mtrr_read)
{
	values();
	struct mtrr_state a, b;
	mtrr_read(&a, rd, 40, true);
	mtrr_from_msrs(&b, cap, def, fixed, var, 40);
	CHECK(same_fields(&a, &b));
	CHECK_EQ(b.nvar, 8);
	CHECK(!b.var[8].valid); /* VCNT 8: pair 8 not looked at */
	CHECK_EQ(b.fixed[0], 0x04);
	CHECK_EQ(b.fixed[87], 0x06);
	CHECK_EQ(mtrr_type_of_range(&b, 0x140000000ull, 16ull << 20), MTRR_TYPE_WC);
	CHECK_EQ(mtrr_type_of_range(&b, 0xc0000000ull, 1ull << 30), MTRR_TYPE_UC);
	CHECK_EQ(mtrr_type_of_range(&b, 0x200000000ull, 1ull << 30), MTRR_TYPE_WB);

	/* No MTRRCAP.FIX: the fixed values and FE count for nothing. */
	cap = 0x408;
	mtrr_read(&a, rd, 40, true);
	mtrr_from_msrs(&b, cap, def, fixed, var, 40);
	CHECK(same_fields(&a, &b));
	CHECK(!b.has_fixed && !b.fixed_enabled);
	CHECK_EQ(b.fixed[0], MTRR_TYPE_UC);
	/* E = 0: UC everywhere (SDM Vol. 3A 12.11.2.1). */
	def = 0x406;
	mtrr_from_msrs(&b, cap, def, fixed, var, 40);
	CHECK(!b.enabled);
	CHECK_EQ(mtrr_type_of_range(&b, 0x200000000ull, 1ull << 30), MTRR_TYPE_UC);
}

TEST(mtrr_same_types_cases)
{
	values();
	struct mtrr_state a, b;
	mtrr_from_msrs(&a, cap, def, fixed, var, 40);
	mtrr_from_msrs(&b, cap, def, fixed, var, 40);
	CHECK(mtrr_same_types(&a, &b));
	/* Base written, mask still invalid: no type changes. */
	var[6] = 0x180000000ull | 1;
	mtrr_from_msrs(&b, cap, def, fixed, var, 40);
	CHECK(mtrr_same_types(&a, &b));
	/* Valid now: it does. */
	var[7] = MASK40(2ull << 20);
	mtrr_from_msrs(&b, cap, def, fixed, var, 40);
	CHECK(!mtrr_same_types(&a, &b));
	CHECK(!mtrr_same_types(&b, &a));
	var[6] = var[7] = 0;
	/* The same ranges in other slots: the same types. */
	uint64_t moved[2 * MTRR_MAX_VAR];
	memcpy(moved, var, sizeof(moved));
	moved[2] = var[0], moved[3] = var[1];
	moved[0] = moved[1] = 0;
	mtrr_from_msrs(&b, cap, def, fixed, moved, 40);
	CHECK(mtrr_same_types(&a, &b));
	/* A range's type, the default type, a fixed type. */
	var[4] = 0x140000000ull | 4;
	mtrr_from_msrs(&b, cap, def, fixed, var, 40);
	CHECK(!mtrr_same_types(&a, &b));
	var[4] = 0x140000000ull | 1;
	mtrr_from_msrs(&b, cap, 0xc00, fixed, var, 40);
	CHECK(!mtrr_same_types(&a, &b));
	fixed[3] ^= 0x02;
	mtrr_from_msrs(&b, cap, def, fixed, var, 40);
	CHECK(!mtrr_same_types(&a, &b));
	/* FE = 0 in both: the fixed values no longer matter. */
	struct mtrr_state a2;
	mtrr_from_msrs(&a2, cap, 0x806, (uint64_t[MTRR_NFIXED_MSRS]){0}, var, 40);
	mtrr_from_msrs(&b, cap, 0x806, fixed, var, 40);
	CHECK(mtrr_same_types(&a2, &b));
	fixed[3] ^= 0x02;
	/* E = 0 in both: UC everywhere, whatever else differs; E = 0 against E = 1 differs. */
	mtrr_from_msrs(&a2, cap, 0x000, fixed, var, 40);
	mtrr_from_msrs(&b, 0x408, 0x406, (uint64_t[MTRR_NFIXED_MSRS]){0}, moved, 36);
	CHECK(mtrr_same_types(&a2, &b));
	CHECK(!mtrr_same_types(&a, &b));
	CHECK(!mtrr_same_types(&b, &a));
	mtrr_from_msrs(&b, cap, def & ~MTRR_DEF_TYPE_E, fixed, var, 40); /* only E differs */
	CHECK(!mtrr_same_types(&a, &b));
	CHECK(!mtrr_same_types(&b, &a));
	/* A reserved type counts as UC (mtrr.h): 2 and 0 compare equal. */
	mtrr_from_msrs(&b, cap, 0xc02, fixed, var, 40);
	mtrr_from_msrs(&a2, cap, 0xc00, fixed, var, 40);
	CHECK(mtrr_same_types(&a2, &b));
	/* Another MAXPHYADDR: another mask width, not compared further. */
	mtrr_from_msrs(&b, cap, def, fixed, var, 39);
	CHECK(!mtrr_same_types(&a, &b));
}
