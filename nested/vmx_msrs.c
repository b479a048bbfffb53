/*
 * vmx_msrs.c - L1's VMX capability MSRs (policy in vmx_msrs.h).
 */
#include "vmx_msrs.h"

#include "arch/x86/msr.h"
#include "vmx/controls.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

/* What nested/ emulates for L2, control by control (SDM Vol. 3C 25.6-25.8). */
#define PIN_OFFERED                                                                           \
	(PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS |                 \
	 PIN_PREEMPTION_TIMER)
#define PROC_OFFERED                                                                          \
	(CPU_INTR_WINDOW_EXITING | CPU_USE_TSC_OFFSETTING | CPU_HLT_EXITING |                  \
	 CPU_INVLPG_EXITING | CPU_MWAIT_EXITING | CPU_RDPMC_EXITING | CPU_RDTSC_EXITING |      \
	 CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING | CPU_CR8_LOAD_EXITING |                 \
	 CPU_CR8_STORE_EXITING | CPU_USE_TPR_SHADOW | CPU_NMI_WINDOW_EXITING |                  \
	 CPU_MOV_DR_EXITING | CPU_UNCOND_IO_EXITING | CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS | \
	 CPU_MONITOR_EXITING | CPU_PAUSE_EXITING | CPU_ACTIVATE_SECONDARY)
#define PROC2_OFFERED                                                                         \
	(CPU2_DESC_TABLE_EXITING | CPU2_ENABLE_RDTSCP | CPU2_WBINVD_EXITING |                  \
	 CPU2_PAUSE_LOOP_EXITING | CPU2_RDRAND_EXITING | CPU2_ENABLE_INVPCID |                 \
	 CPU2_RDSEED_EXITING | CPU2_ENABLE_XSAVES | CPU2_TSC_SCALING | CPU2_ENABLE_EPT |       \
	 CPU2_VMCS_SHADOWING | CPU2_VIRTUALIZE_APIC_ACCESSES | CPU2_VIRTUALIZE_X2APIC)

/*
 * Nested EPT (nested/ept02.h): what L0 needs of the CPU to offer it -
 * 4-level walks, WB tables, INVEPT with its single-context type (for
 * EPT02 roots) - and the EPT bits of IA32_VMX_EPT_VPID_CAP L1 may get
 * where the CPU has them: execute-only, 5-level walks (EPT02 then has
 * as many levels as EPTP12), UC and WB, 2-MiB and 1-GiB pages (EPT02's
 * leaves as large as EPT12's, EPT01's and the CPU allow), INVEPT
 * single-context and all-context (emulated), accessed/dirty flags (EPTP02
 * mirrors EPTP12's, so that the CPU treats L2's paging-structure accesses
 * as writes), and the advanced EPT-violation information the CPU
 * reports.  Not offered: supervisor shadow-stack control, mode-based
 * execute control, #VE.
 */
#define EPT_NEEDED (EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE)
#define EPT_OFFERED                                                                           \
	(EPT_CAP_EXECUTE_ONLY | EPT_CAP_WALK_4 | EPT_CAP_WALK_5 | EPT_CAP_MEMTYPE_UC |         \
	 EPT_CAP_MEMTYPE_WB | EPT_CAP_PAGE_2M | EPT_CAP_PAGE_1G | EPT_CAP_INVEPT |               \
	 EPT_CAP_ACCESSED_DIRTY |                                                              \
	 EPT_CAP_ADVANCED_INFO | EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)
#define EXIT_OFFERED                                                                          \
	(EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT |        \
	 EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER | \
	 EXIT_SAVE_PREEMPTION_TIMER)
#define ENTRY_OFFERED                                                                         \
	(ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_PAT |            \
	 ENTRY_LOAD_IA32_EFER)

/*
 * IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D A.10) as L1 reads it, in two parts.
 * VPID: INVVPID (bit 32) with all four types (40 individual-address, 41
 * single-context, 42 all-context, 43 single-context-retaining-globals),
 * whatever types the CPU has: nested/invvpid.c emulates each with
 * single-context INVVPIDs of L0's own VPIDs, which over-invalidate as
 * the SDM allows.  EPT: EPT_OFFERED's bits where the CPU has them (above).
 */
#define EPT_CAP_OFFERED EPT_OFFERED
#define VPID_CAP_OFFERED                                                                      \
	(VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDRESS | VPID_CAP_INVVPID_SINGLE |               \
	 VPID_CAP_INVVPID_ALL | VPID_CAP_INVVPID_SINGLE_GLOBALS)

/*
 * SDM Vol. 3D A.2: the plain (non-TRUE) control MSRs report every
 * "default1" control as must-be-1.
 */
#define PIN_DEFAULT1 0x00000016u
#define PROC_DEFAULT1 0x0401e172u
#define EXIT_DEFAULT1 0x00036dffu
#define ENTRY_DEFAULT1 0x000011ffu

/* IA32_VMX_MISC (SDM Vol. 3D A.6). */
#define MISC_LMA_IN_ENTRY_CTL (1ull << 5)
#define MISC_ACTIVITY_HLT (1ull << 6)
#define MISC_ACTIVITY_SHUTDOWN (1ull << 7)
#define MISC_ACTIVITY_WAIT_SIPI (1ull << 8)
#define MISC_CR3_TARGETS_MASK (0x1ffull << 16)
#define MISC_VMWRITE_ANY_FIELD (1ull << 29)
#define MISC_MSEG_REVISION_MASK (0xffffffffull << 32)

/* (must-be-1 of hw, may-be-1 of hw & offered); must-be-1 kept whole. */
static uint64_t narrow(uint64_t hw, uint32_t offered)
{
	uint32_t must1 = (uint32_t)hw;
	uint32_t may1 = (uint32_t)(hw >> 32) & (offered | must1);
	return ((uint64_t)may1 << 32) | must1;
}

/*
 * VM functions (SDM Vol. 3C 26.5.6, "VM Functions"; nested/vmfunc.h): L0
 * emulates EPTP switching for L2 on top of nested EPT, with vmcs02's
 * "enable VM functions" 1 and no function enabled, so that the CPU raises
 * L2's #UD for EAX >= 64 and every other VMFUNC exits to L0.  It needs
 * the CPU's "enable VM functions" and, for IA32_VMX_VMFUNC to exist at
 * all on a real CPU, the CPU's EPTP switching (the only function it can
 * have while VM functions exist).
 */
bool nested_vmfunc_offerable(const struct vmx_caps *hw)
{
	return vmx_controls_allowed(hw, VMX_CTL_PROC2, CPU2_ENABLE_VMFUNC) && hw->has_vmfunc &&
	       (hw->vmfunc & VMFUNC_EPTP_SWITCHING);
}

bool nested_vpid_offerable(const struct vmx_caps *hw)
{
	uint64_t cap = hw->has_ept_vpid_cap ? hw->ept_vpid_cap : 0;
	return vmx_controls_allowed(hw, VMX_CTL_PROC2, CPU2_ENABLE_VPID) &&
	       (cap & VPID_CAP_INVVPID) && (cap & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL));
}

void nested_vmx_msrs_init(const struct vmx_caps *hw, unsigned highest_field_index,
			  struct vmx_caps *l1)
{
	*l1 = (struct vmx_caps){ 0 };
	/*
	 * SDM Vol. 3D A.1: revision in 30:0, VMCS region size in 44:32, WB (6)
	 * in 53:50; bit 54 (INS/OUTS information) as the hardware; bit 55: the
	 * TRUE MSRs exist; bit 48 (32-bit physical addresses) clear.
	 */
	l1->basic = VMCS12_REVISION | ((uint64_t)VMCS12_SIZE << VMX_BASIC_VMCS_SIZE_SHIFT) |
		    ((uint64_t)VMX_MEMTYPE_WB << VMX_BASIC_MEMTYPE_SHIFT) |
		    (hw->basic & VMX_BASIC_INOUT_INFO) | VMX_BASIC_TRUE_CTLS;

	uint64_t true_pin = hw->has_true ? hw->true_pinbased : hw->pinbased;
	uint64_t true_proc = hw->has_true ? hw->true_procbased : hw->procbased;
	uint64_t true_exit = hw->has_true ? hw->true_exit : hw->exit;
	uint64_t true_entry = hw->has_true ? hw->true_entry : hw->entry;
	/*
	 * L1's preemption timer needs the CPU's timer and its "save
	 * VMX-preemption timer value", which L0 sets in vmcs02 to keep L1's
	 * count beside its own (nested/timer.h): without both, neither
	 * control is offered.
	 */
	uint32_t timer = PIN_PREEMPTION_TIMER, save = EXIT_SAVE_PREEMPTION_TIMER;
	bool has_timer = ((true_pin >> 32) & timer) && ((true_exit >> 32) & save);
	l1->has_true = 1;
	l1->true_pinbased = narrow(true_pin, PIN_OFFERED & ~(has_timer ? 0 : timer));
	l1->true_procbased = narrow(true_proc, PROC_OFFERED);
	l1->true_exit = narrow(true_exit, EXIT_OFFERED & ~(has_timer ? 0 : save));
	l1->true_entry = narrow(true_entry, ENTRY_OFFERED);
	l1->pinbased = l1->true_pinbased | PIN_DEFAULT1;
	l1->procbased = l1->true_procbased | PROC_DEFAULT1;
	l1->exit = l1->true_exit | EXIT_DEFAULT1;
	l1->entry = l1->true_entry | ENTRY_DEFAULT1;
	/* A default1 bit the hardware cannot set would not be may-be-1 either. */
	l1->pinbased |= (uint64_t)PIN_DEFAULT1 << 32;
	l1->procbased |= (uint64_t)PROC_DEFAULT1 << 32;
	l1->exit |= (uint64_t)EXIT_DEFAULT1 << 32;
	l1->entry |= (uint64_t)ENTRY_DEFAULT1 << 32;

	if ((uint32_t)(l1->true_procbased >> 32) & CPU_ACTIVATE_SECONDARY) {
		uint64_t hw_cap = hw->has_ept_vpid_cap ? hw->ept_vpid_cap : 0;
		uint32_t offered2 = PROC2_OFFERED;
		if ((hw_cap & EPT_NEEDED) != EPT_NEEDED)
			offered2 &= ~CPU2_ENABLE_EPT;
		/*
		 * Unrestricted guest: vmcs02 takes L1's control as it is, under
		 * L0's EPT02 (prepare02.c).  It needs "enable EPT" (SDM 27.2.1.1),
		 * so it goes with nested EPT, and IA32_VMX_MISC[5], which a CPU
		 * with unrestricted guest reads as 1 (A.6): L1's MISC has it.
		 */
		if ((offered2 & CPU2_ENABLE_EPT) && (hw->misc & MISC_LMA_IN_ENTRY_CTL))
			offered2 |= CPU2_UNRESTRICTED_GUEST;
		if (nested_vpid_offerable(hw))
			offered2 |= CPU2_ENABLE_VPID;
		if ((offered2 & CPU2_ENABLE_EPT) &&
		    vmx_controls_allowed(hw, VMX_CTL_PROC2, CPU2_ENABLE_EPT) &&
		    nested_vmfunc_offerable(hw))
			offered2 |= CPU2_ENABLE_VMFUNC;
		/*
		 * "Virtualize x2APIC mode" has no use without "use TPR shadow"
		 * (SDM 27.2.1.1 requires it): offered with it only.  Both APIC
		 * controls are the CPU's on vmcs02 (nested/apic_virt.h).
		 */
		if (!((uint32_t)(l1->true_procbased >> 32) & CPU_USE_TPR_SHADOW))
			offered2 &= ~CPU2_VIRTUALIZE_X2APIC;
		l1->has_procbased2 = 1;
		l1->procbased2 = narrow(hw->has_procbased2 ? hw->procbased2 : 0, offered2);
	}
	/* SDM Vol. 3D A.10: the MSR exists when "enable EPT" or "enable VPID" may be 1. */
	if (vmx_controls_allowed(l1, VMX_CTL_PROC2, CPU2_ENABLE_EPT)) {
		l1->has_ept_vpid_cap = 1;
		l1->ept_vpid_cap |= (hw->has_ept_vpid_cap ? hw->ept_vpid_cap : 0) & EPT_CAP_OFFERED;
	}
	if (vmx_controls_allowed(l1, VMX_CTL_PROC2, CPU2_ENABLE_VPID)) {
		l1->has_ept_vpid_cap = 1;
		l1->ept_vpid_cap |= VPID_CAP_OFFERED;
	}
	/*
	 * SDM Vol. 3D A.11: IA32_VMX_VMFUNC exists when "enable VM functions"
	 * may be 1; L1's has EPTP switching (bit 0) alone.
	 */
	if (vmx_controls_allowed(l1, VMX_CTL_PROC2, CPU2_ENABLE_VMFUNC)) {
		l1->has_vmfunc = 1;
		l1->vmfunc = VMFUNC_EPTP_SWITCHING;
	}

	/*
	 * MISC: the preemption timer's rate (4:0) as the hardware's where the
	 * timer is offered (L1's counts are the CPU's), "IA-32e mode guest"
	 * stored on exit (bit 5), the HLT, shutdown and wait-for-SIPI activity
	 * states (the last held by L0 itself, nested/wait_sipi.h; offered where
	 * the CPU has it, whose VMX L0 mirrors; docs/nested.md), the hardware's
	 * CR3-target count, MSR-list size 512 (27:25 = 0), MSEG 0; VMWRITE to
	 * any supported field (bit 29) where the hardware has it: vmcs12 is
	 * L0's software copy, so its exit-information fields take any value L1
	 * writes (nested/insn_emul.c), and nothing in L0 reads them back from
	 * vmcs12 to decide anything.
	 */
	l1->misc = (hw->misc & (MISC_LMA_IN_ENTRY_CTL | MISC_CR3_TARGETS_MASK |
				MISC_VMWRITE_ANY_FIELD)) |
		   (hw->misc &
		    (MISC_ACTIVITY_HLT | MISC_ACTIVITY_SHUTDOWN | MISC_ACTIVITY_WAIT_SIPI)) |
		   (has_timer ? hw->misc & VMX_MISC_TIMER_RATE_MASK : 0);
	l1->cr0_fixed0 = hw->cr0_fixed0;
	l1->cr0_fixed1 = hw->cr0_fixed1;
	l1->cr4_fixed0 = hw->cr4_fixed0;
	l1->cr4_fixed1 = hw->cr4_fixed1;
	l1->vmcs_enum = (uint64_t)highest_field_index << 1;
}

bool nested_vmx_msr_read(const struct vmx_caps *l1, uint32_t msr, uint64_t *value)
{
	switch (msr) {
	case MSR_IA32_VMX_BASIC:
		*value = l1->basic;
		return true;
	case MSR_IA32_VMX_PINBASED_CTLS:
		*value = l1->pinbased;
		return true;
	case MSR_IA32_VMX_PROCBASED_CTLS:
		*value = l1->procbased;
		return true;
	case MSR_IA32_VMX_EXIT_CTLS:
		*value = l1->exit;
		return true;
	case MSR_IA32_VMX_ENTRY_CTLS:
		*value = l1->entry;
		return true;
	case MSR_IA32_VMX_MISC:
		*value = l1->misc;
		return true;
	case MSR_IA32_VMX_CR0_FIXED0:
		*value = l1->cr0_fixed0;
		return true;
	case MSR_IA32_VMX_CR0_FIXED1:
		*value = l1->cr0_fixed1;
		return true;
	case MSR_IA32_VMX_CR4_FIXED0:
		*value = l1->cr4_fixed0;
		return true;
	case MSR_IA32_VMX_CR4_FIXED1:
		*value = l1->cr4_fixed1;
		return true;
	case MSR_IA32_VMX_VMCS_ENUM:
		*value = l1->vmcs_enum;
		return true;
	case MSR_IA32_VMX_PROCBASED_CTLS2:
		*value = l1->procbased2;
		return l1->has_procbased2;
	case MSR_IA32_VMX_TRUE_PINBASED_CTLS:
		*value = l1->true_pinbased;
		return true;
	case MSR_IA32_VMX_TRUE_PROCBASED_CTLS:
		*value = l1->true_procbased;
		return true;
	case MSR_IA32_VMX_TRUE_EXIT_CTLS:
		*value = l1->true_exit;
		return true;
	case MSR_IA32_VMX_TRUE_ENTRY_CTLS:
		*value = l1->true_entry;
		return true;
	case MSR_IA32_VMX_EPT_VPID_CAP:
		*value = l1->ept_vpid_cap;
		return l1->has_ept_vpid_cap;
	case MSR_IA32_VMX_VMFUNC:
		*value = l1->vmfunc;
		return l1->has_vmfunc;
	}
	return false;
}
