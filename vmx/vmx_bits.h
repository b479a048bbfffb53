/*
 * vmx_bits.h - VMX control bits, exit reasons and event-information
 * formats, named as in the SDM (Vol. 3C chapters 25, 28 and Appendix C).
 * Capability-MSR layouts are in vmx_arch.h.
 */
#ifndef MICROHV_VMX_BITS_H
#define MICROHV_VMX_BITS_H

#include "arch/x86/regs.h"

/* Primary processor-based controls (SDM Vol. 3C 25.6.2, table 25-6). */
#define CPU_INTR_WINDOW_EXITING (1u << 2)
#define CPU_USE_TSC_OFFSETTING (1u << 3)
#define CPU_HLT_EXITING (1u << 7)
#define CPU_INVLPG_EXITING (1u << 9)
#define CPU_MWAIT_EXITING (1u << 10)
#define CPU_RDPMC_EXITING (1u << 11)
#define CPU_RDTSC_EXITING (1u << 12)
#define CPU_CR3_LOAD_EXITING (1u << 15)
#define CPU_CR3_STORE_EXITING (1u << 16)
#define CPU_CR8_LOAD_EXITING (1u << 19)
#define CPU_CR8_STORE_EXITING (1u << 20)
#define CPU_USE_TPR_SHADOW (1u << 21)
#define CPU_NMI_WINDOW_EXITING (1u << 22)
#define CPU_MOV_DR_EXITING (1u << 23)
#define CPU_UNCOND_IO_EXITING (1u << 24)
#define CPU_USE_IO_BITMAPS (1u << 25)
#define CPU_MONITOR_TRAP_FLAG (1u << 27)
#define CPU_USE_MSR_BITMAPS (1u << 28)
#define CPU_MONITOR_EXITING (1u << 29)
#define CPU_PAUSE_EXITING (1u << 30)
/* bit 31, activate secondary controls: CPU_ACTIVATE_SECONDARY in vmx_arch.h */

/* Secondary processor-based controls (table 25-7); others in vmx_arch.h. */
#define CPU2_VIRTUALIZE_APIC_ACCESSES (1u << 0)
#define CPU2_DESC_TABLE_EXITING (1u << 2)
#define CPU2_ENABLE_RDTSCP (1u << 3)
#define CPU2_VIRTUALIZE_X2APIC (1u << 4)
#define CPU2_WBINVD_EXITING (1u << 6)
#define CPU2_APIC_REGISTER_VIRT (1u << 8)
#define CPU2_VIRTUAL_INTR_DELIVERY (1u << 9)
#define CPU2_PAUSE_LOOP_EXITING (1u << 10)
#define CPU2_RDRAND_EXITING (1u << 11)
#define CPU2_ENABLE_INVPCID (1u << 12)
#define CPU2_RDSEED_EXITING (1u << 16)
#define CPU2_ENABLE_XSAVES (1u << 20)
#define CPU2_TSC_SCALING (1u << 25)
#define CPU2_ENABLE_USER_WAIT_PAUSE (1u << 26)

/* VM-exit controls (table 25-13). */
#define EXIT_SAVE_DEBUG_CONTROLS (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXIT_LOAD_PERF_GLOBAL_CTRL (1u << 12)
#define EXIT_ACK_INTR_ON_EXIT (1u << 15)
#define EXIT_SAVE_IA32_PAT (1u << 18)
#define EXIT_LOAD_IA32_PAT (1u << 19)
#define EXIT_SAVE_IA32_EFER (1u << 20)
#define EXIT_LOAD_IA32_EFER (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)

/* VM-entry controls (table 25-15). */
#define ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRY_IA32E_MODE_GUEST (1u << 9)
#define ENTRY_SMM (1u << 10)
#define ENTRY_DEACT_DUAL_MONITOR (1u << 11)
#define ENTRY_LOAD_PERF_GLOBAL_CTRL (1u << 13)
#define ENTRY_LOAD_IA32_PAT (1u << 14)
#define ENTRY_LOAD_IA32_EFER (1u << 15)

/* Basic exit reasons (SDM Vol. 3C Appendix C). */
#define EXIT_REASON_EXCEPTION_NMI 0
#define EXIT_REASON_EXTERNAL_INTERRUPT 1
#define EXIT_REASON_TRIPLE_FAULT 2
#define EXIT_REASON_INIT_SIGNAL 3
#define EXIT_REASON_SIPI 4
#define EXIT_REASON_IO_SMI 5
#define EXIT_REASON_OTHER_SMI 6
#define EXIT_REASON_INTERRUPT_WINDOW 7
#define EXIT_REASON_NMI_WINDOW 8
#define EXIT_REASON_TASK_SWITCH 9
#define EXIT_REASON_CPUID 10
#define EXIT_REASON_GETSEC 11
#define EXIT_REASON_HLT 12
#define EXIT_REASON_INVD 13
#define EXIT_REASON_INVLPG 14
#define EXIT_REASON_RDPMC 15
#define EXIT_REASON_RDTSC 16
#define EXIT_REASON_RSM 17
#define EXIT_REASON_VMCALL 18
#define EXIT_REASON_VMCLEAR 19
#define EXIT_REASON_VMLAUNCH 20
#define EXIT_REASON_VMPTRLD 21
#define EXIT_REASON_VMPTRST 22
#define EXIT_REASON_VMREAD 23
#define EXIT_REASON_VMRESUME 24
#define EXIT_REASON_VMWRITE 25
#define EXIT_REASON_VMXOFF 26
#define EXIT_REASON_VMXON 27
#define EXIT_REASON_CR_ACCESS 28
#define EXIT_REASON_DR_ACCESS 29
#define EXIT_REASON_IO_INSTRUCTION 30
#define EXIT_REASON_MSR_READ 31
#define EXIT_REASON_MSR_WRITE 32
#define EXIT_REASON_INVALID_GUEST_STATE 33
#define EXIT_REASON_MSR_LOADING 34
#define EXIT_REASON_MWAIT 36
#define EXIT_REASON_MONITOR_TRAP_FLAG 37
#define EXIT_REASON_MONITOR 39
#define EXIT_REASON_PAUSE 40
#define EXIT_REASON_MCE_DURING_VMENTRY 41
#define EXIT_REASON_TPR_BELOW_THRESHOLD 43
#define EXIT_REASON_APIC_ACCESS 44
#define EXIT_REASON_EOI_INDUCED 45
#define EXIT_REASON_GDTR_IDTR 46
#define EXIT_REASON_LDTR_TR 47
#define EXIT_REASON_EPT_VIOLATION 48
#define EXIT_REASON_EPT_MISCONFIG 49
#define EXIT_REASON_INVEPT 50
#define EXIT_REASON_RDTSCP 51
#define EXIT_REASON_PREEMPTION_TIMER 52
#define EXIT_REASON_INVVPID 53
#define EXIT_REASON_WBINVD 54
#define EXIT_REASON_XSETBV 55
#define EXIT_REASON_APIC_WRITE 56
#define EXIT_REASON_RDRAND 57
#define EXIT_REASON_INVPCID 58
#define EXIT_REASON_VMFUNC 59
#define EXIT_REASON_ENCLS 60
#define EXIT_REASON_RDSEED 61
#define EXIT_REASON_PML_FULL 62
#define EXIT_REASON_XSAVES 63
#define EXIT_REASON_XRSTORS 64
#define EXIT_REASON_UMWAIT 67
#define EXIT_REASON_TPAUSE 68
#define EXIT_REASON_MAX 80 /* table size: every reason below this has a slot */

/* Exit-reason field (SDM Vol. 3C 25.9.1). */
#define EXIT_REASON_BASIC_MASK 0xffffu
#define EXIT_REASON_FAILED_ENTRY (1u << 31)

/* Interruption-information fields (25.8.3 entry, 25.9.2 exit). */
#define INTR_INFO_VECTOR_MASK 0xffu
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_TYPE_MASK (7u << 8)
#define INTR_TYPE_EXT_INTR (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HARD_EXCEPTION (3u << 8)
#define INTR_TYPE_SOFT_INTR (4u << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION (5u << 8)
#define INTR_TYPE_SOFT_EXCEPTION (6u << 8)
#define INTR_TYPE_OTHER_EVENT (7u << 8)
#define INTR_INFO_DELIVER_CODE (1u << 11)
#define INTR_INFO_NMI_UNBLOCKED_BY_IRET (1u << 12)
#define INTR_INFO_VALID (1u << 31)

/* Guest interruptibility state (25.4.2, table 25-3). */
#define GUEST_INTR_STATE_STI (1u << 0)
#define GUEST_INTR_STATE_MOV_SS (1u << 1)
#define GUEST_INTR_STATE_SMI (1u << 2)
#define GUEST_INTR_STATE_NMI (1u << 3)

/* Guest activity state (25.4.2). */
#define GUEST_ACTIVITY_ACTIVE 0
#define GUEST_ACTIVITY_HLT 1
#define GUEST_ACTIVITY_SHUTDOWN 2
#define GUEST_ACTIVITY_WAIT_SIPI 3

/* Segment access rights in the VMCS (25.4.1, table 25-2). */
#define VMX_AR_TYPE_MASK 0xfu
#define VMX_AR_TYPE_ACCESSED 1u
#define VMX_AR_TYPE_RW (1u << 1)   /* S = 1: data writable / code readable (Vol. 3A 3.4.5.1) */
#define VMX_AR_TYPE_CODE (1u << 3) /* S = 1: code segment */
#define VMX_AR_TYPE_TSS_BUSY 0xbu  /* S = 0: busy 32-bit / 64-bit TSS (Vol. 3A 3.5) */
#define VMX_AR_S (1u << 4)
#define VMX_AR_DPL_SHIFT 5
#define VMX_AR_P (1u << 7)
#define VMX_AR_L (1u << 13)
#define VMX_AR_DB (1u << 14)
#define VMX_AR_G (1u << 15)
#define VMX_AR_UNUSABLE (1u << 16)

/* Exception vectors. */
#define VEC_DE 0
#define VEC_DB 1
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_OF 4
#define VEC_UD 6
#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14
#define VEC_AC 17
#define VEC_MC 18

/* Control-register exit qualification (table 28-3). */
#define CR_QUAL_NUMBER(q) ((q) & 0xf)
#define CR_QUAL_ACCESS(q) (((q) >> 4) & 3)
#define CR_ACCESS_MOV_TO_CR 0
#define CR_ACCESS_MOV_FROM_CR 1
#define CR_ACCESS_CLTS 2
#define CR_ACCESS_LMSW 3
#define CR_QUAL_GPR(q) (((q) >> 8) & 0xf)
#define CR_QUAL_LMSW_SOURCE(q) (((q) >> 16) & 0xffff)

/* EPT-violation exit qualification (table 28-7). */
#define EPT_QUAL_READ (1ull << 0)
#define EPT_QUAL_WRITE (1ull << 1)
#define EPT_QUAL_FETCH (1ull << 2)
/* Bit 7: the guest-linear address is valid; bit 8 (with 7): the access was to
 * that translated address, not to a paging-structure entry (SDM table 28-7). */
#define EPT_QUAL_LINEAR_VALID (1ull << 7)
#define EPT_QUAL_LINEAR_ACCESS (1ull << 8)
#define EPT_QUAL_NMI_UNBLOCKED_BY_IRET (1ull << 12)

/* Pending debug exceptions (SDM Vol. 3C 25.4.2). */
#define PENDING_DBG_BS (1ull << 14) /* single step */

#endif
