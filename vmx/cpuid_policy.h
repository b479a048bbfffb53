/*
 * cpuid_policy.h - what L1 sees through CPUID.
 *
 * L0 executes CPUID for L1 and then edits the result (pure function,
 * unit-tested):
 *   - leaf 1: ECX.hypervisor[31] = 1; ECX.VMX[5] = the nested setting;
 *     ECX.SMX[6] = 0 (GETSEC is refused with #UD);
 *   - leaves 0x40000000..0x400000ff: microhv's own (docs/hypercalls.md):
 *     0x40000000 EAX = highest hypervisor leaf, EBX:ECX:EDX = "microhv\0\0\0\0\0";
 *     0x40000001 EAX = version (major << 16 | minor << 8 | patch),
 *                EBX = hypercall ABI version; others all zero;
 *   - the bits that mirror CR4 reflect L1's CR4, not L0's (CPUID runs in
 *     VMX root, where L0 keeps CR4.OSXSAVE set): CPUID.1:ECX.OSXSAVE[27]
 *     and CPUID.7.0:ECX.OSPKE[4];
 *   - features whose instructions would #UD because the secondary control
 *     enabling them could not be set are hidden: RDTSCP, INVPCID,
 *     XSAVES/XRSTORS, WAITPKG;
 *   - features whose MSRs L0 does not offer (msr_policy.h), because their
 *     effect reaches VMX root, are hidden, as KVM hides them from its
 *     guests: the PMU (leaf 0AH zero; PDCM), PEBS and BTS (DS, DTES64,
 *     DS-CPL), Intel PT (7.0:EBX[25], leaf 14H zero), architectural LBRs
 *     (7.0:EDX[19], leaf 1CH zero), resource monitoring and allocation
 *     (7.0:EBX[12,15], leaves 0FH and 10H zero), thermal and power
 *     management (ACPI, TM, TM2, EIST, PBE; leaf 6 only ARAT), PCONFIG
 *     (7.0:EDX[18]), CET (7.0:ECX[7], EDX[20]: S_CET, the SSP MSRs) and
 *     PKS (7.0:ECX[31]: IA32_PKRS), and the matching supervisor XSAVE
 *     components (CPUID_XSS_HIDDEN in (0DH,1):ECX and their sub-leaves);
 *   - MONITOR/MWAIT (1:ECX[3], leaf 5 zero), as KVM hides them: a CPU's
 *     MWAIT wake-on-store is not something L0 can promise an L1 that runs
 *     in VMX non-root (docs/linux.md: Linux's MWAIT idle loop lost its
 *     wakeups), so L1 idles with HLT; MONITOR/MWAIT exit (vmcs01 and
 *     vmcs02) and raise #UD as on a CPU without them (exit_insn.c).
 */
#ifndef MICROHV_VMX_CPUID_POLICY_H
#define MICROHV_VMX_CPUID_POLICY_H

#include "arch/x86/cpu.h"

#include <stdbool.h>
#include <stdint.h>

#define CPUID_HV_BASE 0x40000000u
#define CPUID_HV_LAST 0x400000ffu
#define CPUID_HV_MAX_LEAF 0x40000001u
#define HYPERCALL_ABI_VERSION 1

#define CPUID_80000001_EDX_NX (1u << 20)
/* IA32_XSS components hidden from L1: PT (8), CET (11, 12), HDC (13), arch LBR (15), HWP (16). */
#define CPUID_XSS_HIDDEN                                                                 \
	((1ull << 8) | (1ull << 11) | (1ull << 12) | (1ull << 13) | (1ull << 15) | (1ull << 16))

struct cpuid_policy {
	bool nested;	      /* offer VMX to L1 */
	bool has_rdtscp;      /* "enable RDTSCP" is set in vmcs01 */
	bool has_invpcid;     /* "enable INVPCID" */
	bool has_xsaves;      /* "enable XSAVES/XRSTORS" */
	bool has_user_wait;   /* "enable user wait and pause" */
	uint32_t version;     /* major << 16 | minor << 8 | patch */
};

/* Rewrites r, the CPU's answer for (leaf, subleaf); l1_cr4 is L1's CR4. */
void cpuid_policy_apply(const struct cpuid_policy *p, uint64_t l1_cr4, uint32_t leaf,
			uint32_t subleaf, struct cpuid_regs *r);

#endif
