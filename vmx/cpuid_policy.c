/*
 * cpuid_policy.c - CPUID as L1 sees it (policy in cpuid_policy.h).
 */
#include "cpuid_policy.h"

#include "arch/x86/regs.h"
#include "vmx_arch.h"

#define CPUID_1_ECX_SMX (1u << 6)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_7_ECX_OSPKE (1u << 4)
#define CPUID_7_EBX_INVPCID (1u << 10)
#define CPUID_7_ECX_WAITPKG (1u << 5)
#define CPUID_D1_EAX_XSAVES (1u << 3)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)

/* "microhv" in EBX, ECX, EDX, NUL-padded: 'm','i','c','r' / 'o','h','v',0. */
#define HV_SIG_EBX 0x7263696du
#define HV_SIG_ECX 0x0076686fu
#define HV_SIG_EDX 0x00000000u

void cpuid_policy_apply(const struct cpuid_policy *p, uint64_t l1_cr4, uint32_t leaf,
			uint32_t subleaf, struct cpuid_regs *r)
{
	if (leaf >= CPUID_HV_BASE && leaf <= CPUID_HV_LAST) {
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		if (leaf == CPUID_HV_BASE) {
			r->eax = CPUID_HV_MAX_LEAF;
			r->ebx = HV_SIG_EBX;
			r->ecx = HV_SIG_ECX;
			r->edx = HV_SIG_EDX;
		} else if (leaf == CPUID_HV_BASE + 1) {
			r->eax = p->version;
			r->ebx = HYPERCALL_ABI_VERSION;
		}
		return;
	}
	switch (leaf) {
	case 1:
		r->ecx |= CPUID_1_ECX_HYPERVISOR;
		r->ecx &= ~CPUID_1_ECX_SMX;
		if (p->nested)
			r->ecx |= CPUID_1_ECX_VMX;
		else
			r->ecx &= ~CPUID_1_ECX_VMX;
		/* SDM Vol. 2 CPUID: OSXSAVE "reflects the setting of CR4.OSXSAVE". */
		if ((l1_cr4 & CR4_OSXSAVE) && (r->ecx & CPUID_1_ECX_XSAVE))
			r->ecx |= CPUID_1_ECX_OSXSAVE;
		else
			r->ecx &= ~CPUID_1_ECX_OSXSAVE;
		break;
	case 7:
		if (subleaf == 0) {
			if (!p->has_invpcid)
				r->ebx &= ~CPUID_7_EBX_INVPCID;
			if (!p->has_user_wait)
				r->ecx &= ~CPUID_7_ECX_WAITPKG;
			/* OSPKE reflects CR4.PKE; only where the CPU reports PKU at all. */
			if (!(l1_cr4 & CR4_PKE))
				r->ecx &= ~CPUID_7_ECX_OSPKE;
			else if (r->ecx & (1u << 3)) /* PKU */
				r->ecx |= CPUID_7_ECX_OSPKE;
		}
		break;
	case 0xd:
		if (subleaf == 1 && !p->has_xsaves)
			r->eax &= ~CPUID_D1_EAX_XSAVES;
		break;
	case 0x80000001:
		if (!p->has_rdtscp)
			r->edx &= ~CPUID_80000001_EDX_RDTSCP;
		break;
	}
}
