/*
 * msr.h - architectural MSR numbers and bits we use, named as in the SDM
 * (Vol. 4, "Model-Specific Registers").  No other file spells these numbers.
 */
#ifndef MICROHV_ARCH_MSR_H
#define MICROHV_ARCH_MSR_H

#define MSR_IA32_FEATURE_CONTROL 0x03a
#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMX_INSIDE_SMX (1ull << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

#define MSR_IA32_APIC_BASE 0x01b
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_X2APIC (1ull << 10) /* x2APIC mode (SDM Vol. 3A 11.12.1) */
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull
#define MSR_X2APIC_ICR 0x830 /* the 64-bit ICR in x2APIC mode (SDM Vol. 3A 11.12.9) */

#define MSR_X2APIC_FIRST 0x800 /* the x2APIC registers 800H-8FFH (SDM Vol. 3A 11.12.1) */
#define MSR_X2APIC_LAST 0x8ff
/* x2APIC ICR bits that must be 0 (SDM Vol. 3A 11.12.9, figure "Interrupt Command Register"). */
#define X2APIC_ICR_RESERVED ((0xfffull << 20) | (3ull << 16) | (1ull << 13))

#define MSR_IA32_TSC 0x010
#define MSR_IA32_TSC_ADJUST 0x03b
#define MSR_IA32_SPEC_CTRL 0x048
#define SPEC_CTRL_IBRS (1ull << 0)
#define SPEC_CTRL_STIBP (1ull << 1)
#define SPEC_CTRL_SSBD (1ull << 2)
#define MSR_IA32_PRED_CMD 0x049
#define MSR_IA32_BIOS_UPDT_TRIG 0x079
#define MSR_IA32_BIOS_SIGN_ID 0x08b
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_FLUSH_CMD 0x10b
#define MSR_IA32_MTRRCAP 0x0fe
#define MSR_IA32_PAT 0x277
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17a
#define MSR_IA32_MCG_CTL 0x17b
#define MSR_IA32_MC0_CTL 0x400 /* banks: CTL, STATUS, ADDR, MISC at 400H + 4i */
#define MSR_IA32_MC_LAST 0x47f
#define MSR_IA32_MC0_CTL2 0x280 /* 280H-29FH */
#define MSR_IA32_MC_CTL2_LAST 0x29f
#define MSR_PKG_CST_CONFIG_CONTROL 0x0e2 /* package C-state limit (SDM Vol. 4 table 2-x, model-specific) */
#define MSR_POWER_CTL 0x1fc		   /* C1E promotion and other power controls (model-specific) */
#define MSR_IA32_UMWAIT_CONTROL 0x0e1
#define MSR_IA32_TSX_CTRL 0x122
#define MSR_IA32_XFD 0x1c4
#define MSR_IA32_XFD_ERR 0x1c5
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_PERF_MON (1ull << 7)	 /* performance monitoring available (RO) */
#define MISC_ENABLE_BTS_UNAVAIL (1ull << 11)	 /* branch trace storage unavailable (RO) */
#define MISC_ENABLE_PEBS_UNAVAIL (1ull << 12) /* PEBS unavailable (RO) */
#define MISC_ENABLE_MONITOR (1ull << 18)	 /* MONITOR/MWAIT enabled (CPUID.1:ECX[3]) */
#define MISC_ENABLE_LIMIT_CPUID (1ull << 22)
#define MISC_ENABLE_XD_DISABLE (1ull << 34)
#define MSR_IA32_DEBUGCTL 0x1d9
#define DEBUGCTL_BTF (1ull << 1)
#define MSR_IA32_XSS 0xda0
#define MSR_IA32_EFER 0xc0000080
#define MSR_IA32_STAR 0xc0000081
#define MSR_IA32_LSTAR 0xc0000082
#define MSR_IA32_CSTAR 0xc0000083
#define MSR_IA32_FMASK 0xc0000084
#define MSR_IA32_FS_BASE 0xc0000100
#define MSR_IA32_GS_BASE 0xc0000101
#define MSR_IA32_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC_AUX 0xc0000103

/* Performance monitoring, PEBS and BTS (SDM Vol. 3B ch. 20-21; Vol. 4 table 2-2). */
#define MSR_IA32_PMC0 0x0c1 /* PMC0-7: C1H-C8H */
#define MSR_IA32_PMC_LAST 0x0c8
#define MSR_IA32_PERFEVTSEL0 0x186 /* 186H-18DH */
#define MSR_IA32_PERFEVTSEL_LAST 0x18d
#define MSR_IA32_FIXED_CTR0 0x309 /* 309H-30BH */
#define MSR_IA32_FIXED_CTR_LAST 0x30b
#define MSR_IA32_PERF_CAPABILITIES 0x345
#define MSR_IA32_FIXED_CTR_CTRL 0x38d
#define MSR_IA32_PERF_GLOBAL_STATUS 0x38e
#define MSR_IA32_PERF_GLOBAL_CTRL 0x38f
#define MSR_IA32_PERF_GLOBAL_OVF_CTRL 0x390
#define MSR_IA32_PERF_GLOBAL_STATUS_SET 0x391
#define MSR_IA32_PEBS_ENABLE 0x3f1
#define MSR_IA32_A_PMC0 0x4c1 /* full-width counters 4C1H-4C8H */
#define MSR_IA32_A_PMC_LAST 0x4c8
#define MSR_IA32_DS_AREA 0x600
/* Last-branch records: model-specific stacks and architectural LBRs (SDM Vol. 3B ch. 18). */
#define MSR_LBR_SELECT 0x1c8
#define MSR_LASTBRANCH_TOS 0x1c9
#define MSR_LASTBRANCH_FROM_0 0x680 /* 680H-69FH */
#define MSR_LASTBRANCH_TO_LAST 0x6df /* 6C0H-6DFH */
#define MSR_IA32_LBR_INFO_0 0xdc0 /* DC0H-DDFH */
#define MSR_IA32_LBR_INFO_LAST 0xddf
#define MSR_IA32_LBR_CTL 0x14ce
#define MSR_IA32_LBR_DEPTH 0x14cf
#define MSR_IA32_LBR_FROM_IP_0 0x1500 /* 1500H-151FH, TO_IP 1600H-161FH, INFO 1200H-121FH */
/* Intel Processor Trace (SDM Vol. 3C ch. 33.2.8). */
#define MSR_IA32_RTIT_OUTPUT_BASE 0x560
#define MSR_IA32_RTIT_OUTPUT_MASK_PTRS 0x561
#define MSR_IA32_RTIT_CTL 0x570
#define MSR_IA32_RTIT_STATUS 0x571
#define MSR_IA32_RTIT_CR3_MATCH 0x572
#define MSR_IA32_RTIT_ADDR0_A 0x580 /* 580H-587H */
#define MSR_IA32_RTIT_ADDR3_B 0x587

/* SDM Vol. 3D Appendix A: the VMX capability MSRs. */
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_VMCS_ENUM 0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_VMX_VMFUNC 0x491

/*
 * SDM Vol. 3A 12.11 "Memory Type Range Registers": IA32_MTRRCAP fields
 * (12.11.1), IA32_MTRR_DEF_TYPE (12.11.2.1), the fixed-range MTRRs
 * (12.11.2.2) and the variable-range pairs PHYSBASEn = 0x200 + 2n,
 * PHYSMASKn = 0x201 + 2n (12.11.2.3).
 */
#define MTRRCAP_VCNT_MASK 0xffull
#define MTRRCAP_FIX (1ull << 8)
#define MTRRCAP_WC (1ull << 10)
#define MSR_IA32_MTRR_PHYSBASE0 0x200
#define MSR_IA32_MTRR_PHYSMASK0 0x201
#define MSR_IA32_MTRR_PHYSBASE(n) (MSR_IA32_MTRR_PHYSBASE0 + 2 * (n))
#define MSR_IA32_MTRR_PHYSMASK(n) (MSR_IA32_MTRR_PHYSMASK0 + 2 * (n))
#define MTRR_PHYSMASK_VALID (1ull << 11)
#define MTRR_TYPE_FIELD_MASK 0xffull
#define MSR_IA32_MTRR_FIX64K_00000 0x250
#define MSR_IA32_MTRR_FIX16K_80000 0x258
#define MSR_IA32_MTRR_FIX16K_A0000 0x259
#define MSR_IA32_MTRR_FIX4K_C0000 0x268
#define MSR_IA32_MTRR_FIX4K_C8000 0x269
#define MSR_IA32_MTRR_FIX4K_D0000 0x26a
#define MSR_IA32_MTRR_FIX4K_D8000 0x26b
#define MSR_IA32_MTRR_FIX4K_E0000 0x26c
#define MSR_IA32_MTRR_FIX4K_E8000 0x26d
#define MSR_IA32_MTRR_FIX4K_F0000 0x26e
#define MSR_IA32_MTRR_FIX4K_F8000 0x26f
#define MSR_IA32_MTRR_DEF_TYPE 0x2ff
#define MTRR_DEF_TYPE_FE (1ull << 10)
#define MTRR_DEF_TYPE_E (1ull << 11)

#endif
