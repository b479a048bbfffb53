/*
 * ept_exit.c - the decision for an EPT violation of vmcs02 under nested
 * EPT (see ept_exit.h).
 */
#include "ept_exit.h"

#include "mm/guest_walk.h"
#include "mm/page_alloc.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#define MEMTYPE_UC 0

void nested_ept_decide(const struct nested_ept_env *env, uint64_t eptp12, uint64_t gpa2,
		       uint64_t qual, struct nested_ept_decision *d)
{
	*d = (struct nested_ept_decision){ .action = NEPT_RETRY };
	unsigned access = (unsigned)(qual & EPT_QUAL_ACCESS_MASK);
	struct ept_walk w;
	switch (ept_walk(eptp12, env->caps12, env->mem12, gpa2, access, &w)) {
	case EPT_WALK_RETRY:
		return;
	case EPT_WALK_MISCONFIG:
		d->action = NEPT_L1_MISCONFIG;
		return;
	case EPT_WALK_VIOLATION: {
		/* SDM 28.2.1, table 28-7: the CPU's bits, EPT12's rights in 5:3. */
		uint64_t keep = EPT_QUAL_ACCESS_MASK | EPT_QUAL_GLA_BITS | EPT_QUAL_NMI_UNBLOCK |
				(env->advanced_info ? EPT_QUAL_ADVANCED : 0);
		d->action = NEPT_L1_VIOLATION;
		d->qual12 = (qual & keep) | ((uint64_t)w.rights << EPT_QUAL_RIGHTS_SHIFT);
		return;
	}
	case EPT_WALK_OK:
		break;
	}
	d->ad_failed = w.ad_failed;
	d->gpa1 = w.pa;
	unsigned rights01, type01, level01;
	if (!env->ept01(env->ctx, w.pa & ~(PAGE_SIZE - 1), &rights01, &type01, &level01) ||
	    (access & rights01) != access) {
		d->action = NEPT_REFUSE;
		return;
	}
	/* The largest leaf inside both EPT12's and EPT01's (identity: gpa1 is aligned as gpa2). */
	unsigned level = w.level < level01 ? w.level : level01;
	d->level = level < env->max_level02 ? level : env->max_level02;
	if (d->level < 1)
		d->level = 1;
	unsigned rights = w.rights & rights01;
	/* SDM 29.3.5: the first write must set EPT12's dirty flag, so it must exit. */
	if ((eptp12 & EPTP_AD_ENABLE) && !w.dirty)
		rights &= ~(unsigned)EPT_WRITE;
	d->action = NEPT_MAP;
	d->rights = rights;
	if (type01 == MEMTYPE_UC) {
		d->memtype = MEMTYPE_UC;
		d->ipat = true;
	} else {
		d->memtype = w.memtype;
		d->ipat = w.ipat;
	}
}

uint32_t nested_ept12_fault_exit(const struct nested_ept12_fault *f, bool advanced_info,
				 bool ad_enabled, uint64_t *qual12)
{
	*qual12 = 0;
	if (f->misconfig)
		return EXIT_REASON_EPT_MISCONFIG;
	uint64_t q = ((uint64_t)(f->rights & EPT_RWX) << EPT_QUAL_RIGHTS_SHIFT) | (1ull << 7);
	if (f->paging) {
		q |= EPT_ACCESS_READ | (ad_enabled ? EPT_ACCESS_WRITE : 0);
	} else {
		q |= (f->access & EPT_QUAL_ACCESS_MASK) | (1ull << 8);
		if (advanced_info)
			q |= (uint64_t)(((f->la_rights & GWALK_LA_USER) ? 1u : 0) |
					((f->la_rights & GWALK_LA_WRITABLE) ? 2u : 0) |
					((f->la_rights & GWALK_LA_XD) ? 4u : 0))
			     << 9;
	}
	*qual12 = q;
	return EXIT_REASON_EPT_VIOLATION;
}
