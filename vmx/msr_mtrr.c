/*
 * msr_mtrr.c - the MTRR rows: L1's MTRRs, kept per CPU (SDM Vol. 3A
 * 12.11; docs/l0.md "MSRs"), never written to the CPU: with EPT the leaf's
 * memory type replaces the MTRRs' (SDM Vol. 3C 29.3.7.2), so an accepted
 * write retypes EPT01 instead (ept01.h).
 */
#include "msr_rows.h"

#include "arch/x86/msr.h"
#include "ept01.h"
#include "mm/mtrr.h"
#include "vcpu.h"

unsigned mtrr_vcnt(const struct msr_policy *p)
{
	return (unsigned)(p->mtrrcap & MTRRCAP_VCNT_MASK);
}

/* Where L1's copy of msr lives, or NULL: not an MTRR this CPU has. */
uint64_t *mtrr_slot(const struct msr_policy *p, struct l1_msrs *m, uint32_t msr)
{
	static const uint32_t fixed[L1_MTRR_NFIXED] = {
		MSR_IA32_MTRR_FIX64K_00000, MSR_IA32_MTRR_FIX16K_80000, MSR_IA32_MTRR_FIX16K_A0000,
		MSR_IA32_MTRR_FIX4K_C0000,  MSR_IA32_MTRR_FIX4K_C8000,	MSR_IA32_MTRR_FIX4K_D0000,
		MSR_IA32_MTRR_FIX4K_D8000,  MSR_IA32_MTRR_FIX4K_E0000,	MSR_IA32_MTRR_FIX4K_E8000,
		MSR_IA32_MTRR_FIX4K_F0000,  MSR_IA32_MTRR_FIX4K_F8000,
	};
	if (!p->mtrr)
		return NULL;
	if (msr == MSR_IA32_MTRR_DEF_TYPE)
		return &m->mtrr_def_type;
	if (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE(mtrr_vcnt(p)))
		return &m->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0];
	if (!(p->mtrrcap & MTRRCAP_FIX))
		return NULL;
	for (unsigned i = 0; i < L1_MTRR_NFIXED; i++)
		if (fixed[i] == msr)
			return &m->mtrr_fixed[i];
	return NULL;
}

/* SDM Vol. 3A 12.11: UC, WC (if MTRRCAP.WC), WT, WP, WB; anything else is #GP(0). */
static bool mtrr_type_ok(const struct msr_policy *p, uint64_t type)
{
	return type == MTRR_TYPE_UC || type == MTRR_TYPE_WT || type == MTRR_TYPE_WP ||
	       type == MTRR_TYPE_WB || (type == MTRR_TYPE_WC && (p->mtrrcap & MTRRCAP_WC));
}

/* Reserved bits and types (SDM Vol. 3A 12.11.2.1-12.11.2.3). */
static const char *mtrr_refusal(const struct msr_policy *p, uint32_t msr, uint64_t value)
{
	if (msr == MSR_IA32_MTRR_DEF_TYPE) {
		if (value & ~(MTRR_TYPE_FIELD_MASK | MTRR_DEF_TYPE_FE | MTRR_DEF_TYPE_E))
			return "reserved bits set";
		return mtrr_type_ok(p, value & MTRR_TYPE_FIELD_MASK) ? NULL : "a reserved type";
	}
	if (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE(L1_MTRR_MAX_VAR)) {
		if ((msr - MSR_IA32_MTRR_PHYSBASE0) % 2) /* PHYSMASKn */
			return value & ~(phys_page_mask(p) | MTRR_PHYSMASK_VALID) ? "reserved bits set"
										   : NULL;
		if (value & ~(phys_page_mask(p) | MTRR_TYPE_FIELD_MASK))
			return "reserved bits set";
		return mtrr_type_ok(p, value & MTRR_TYPE_FIELD_MASK) ? NULL : "a reserved type";
	}
	for (unsigned i = 0; i < 8; i++) /* a fixed-range MTRR: eight types */
		if (!mtrr_type_ok(p, (value >> (8 * i)) & MTRR_TYPE_FIELD_MASK))
			return "a reserved type";
	return NULL;
}

bool rd_mtrrcap(struct msr_call *c, uint64_t *value)
{
	if (!c->p->mtrr)
		return refuse(c, "no MTRRs");
	*value = c->p->mtrrcap;
	return true;
}

bool rd_mtrr(struct msr_call *c, uint64_t *value)
{
	const uint64_t *slot = mtrr_slot(c->p, &c->v->msrs, c->msr);
	if (!slot)
		return refuse(c, "not an MTRR this CPU has");
	*value = *slot;
	return true;
}

bool wr_mtrr(struct msr_call *c, uint64_t value)
{
	uint64_t *slot = mtrr_slot(c->p, &c->v->msrs, c->msr);
	if (!slot)
		return refuse(c, "not an MTRR this CPU has");
	const char *why = mtrr_refusal(c->p, c->msr, value);
	if (why)
		return refuse(c, why);
	*slot = value;
	ept01_mtrr_written(c->v, c->p);
	return true;
}
