/*
 * cpuid_policy.c - CPUID as L1 sees it (policy in cpuid_policy.h).
 */
#include "cpuid_policy.h"

#include "arch/x86/regs.h"
#include "vmx_arch.h"

#define CPUID_1_ECX_DTES64 (1u << 2)
#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_1_ECX_DS_CPL (1u << 4)
#define CPUID_1_ECX_SMX (1u << 6)
#define CPUID_1_ECX_EIST (1u << 7)
#define CPUID_1_ECX_TM2 (1u << 8)
#define CPUID_1_ECX_PDCM (1u << 15)
#define CPUID_1_EDX_DS (1u << 21)
#define CPUID_1_EDX_ACPI (1u << 22)
#define CPUID_1_EDX_TM (1u << 29)
#define CPUID_1_EDX_PBE (1u << 31)
#define CPUID_6_EAX_ARAT (1u << 2)
#define CPUID_7_EBX_PQM (1u << 12)
#define CPUID_7_EBX_PQE (1u << 15)
#define CPUID_7_EBX_PT (1u << 25)
#define CPUID_7_ECX_CET_SS (1u << 7)
#define CPUID_7_ECX_PKS (1u << 31)
#define CPUID_7_EDX_PCONFIG (1u << 18)
#define CPUID_7_EDX_CET_IBT (1u << 20)
#define CPUID_7_EDX_ARCH_LBR (1u << 19)
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
		r->ecx &= ~(CPUID_1_ECX_SMX | CPUID_1_ECX_DTES64 | CPUID_1_ECX_DS_CPL |
			    CPUID_1_ECX_EIST | CPUID_1_ECX_TM2 | CPUID_1_ECX_PDCM |
			    CPUID_1_ECX_MONITOR);
		r->edx &= ~(CPUID_1_EDX_DS | CPUID_1_EDX_ACPI | CPUID_1_EDX_TM | CPUID_1_EDX_PBE);
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
	case 6: /* thermal and power management: only "APIC timer always running" */
		*r = (struct cpuid_regs){ r->eax & CPUID_6_EAX_ARAT, 0, 0, 0 };
		break;
	case 5:	   /* MONITOR/MWAIT: not offered (exit_monitor_mwait) */
	case 0xa:  /* architectural performance monitoring */
	case 0xf:  /* resource director technology: monitoring */
	case 0x10: /* ... and allocation */
	case 0x14: /* Intel Processor Trace */
	case 0x1c: /* architectural LBRs */
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	case 7:
		if (subleaf == 0) {
			r->ebx &= ~(CPUID_7_EBX_PQM | CPUID_7_EBX_PQE | CPUID_7_EBX_PT);
			r->ecx &= ~(CPUID_7_ECX_CET_SS | CPUID_7_ECX_PKS);
			r->edx &= ~(CPUID_7_EDX_PCONFIG | CPUID_7_EDX_ARCH_LBR | CPUID_7_EDX_CET_IBT);
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
		if (subleaf == 1) {
			r->ecx &= ~(uint32_t)CPUID_XSS_HIDDEN;
			r->edx &= ~(uint32_t)(CPUID_XSS_HIDDEN >> 32);
		}
		if (subleaf < 64 && (CPUID_XSS_HIDDEN & (1ull << subleaf)))
			*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	case 0x80000001:
		if (!p->has_rdtscp)
			r->edx &= ~CPUID_80000001_EDX_RDTSCP;
		break;
	}
}
