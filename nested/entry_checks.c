/*
 * entry_checks.c - VM-entry checks on vmcs12's VMX controls (SDM Vol. 3C
 * 27.2.1) and host-state area (27.2.2-27.2.4), and the entry point
 * (entry_checks.h).  Guest state: entry_checks_guest.c.
 *
 * Checks on controls L1 cannot set are not written out: a control that
 * L1's allowed-1 settings lack fails the reserved-bit check first.  Those
 * are virtual-interrupt delivery, APIC-register virtualization, posted
 * interrupts, PML, EPT-violation #VE,
 * ENCLS/ENCLV/PCONFIG exiting, sub-page permissions, Intel PT, the
 * tertiary and secondary exit controls, and the "load" controls for
 * PERF_GLOBAL_CTRL, BNDCFGS, RTIT_CTL, CET, PKRS and LBR_CTL (their
 * host/guest-state checks are absent for the same reason).  The controls
 * L1 may set that 27.2.1.1 checks only as reserved bits: PAUSE-loop
 * exiting (PLE_GAP and PLE_WINDOW take any value), RDRAND and RDSEED
 * exiting, and "use TSC scaling" (any TSC multiplier).
 */
#include "entry_checks.h"

#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#define F(name) VMCS12_FIELD(v, name)

/* Not (yet) in vmx/vmx_bits.h / vmx_arch.h. */
#define VMX_BASIC_NO_HW_ERRCODE_CHECK (1ull << 56)     /* IA32_VMX_BASIC[56] (Vol. 3D A.1) */
#define MISC_CR3_TARGET_COUNT(m) (((m) >> 16) & 0x1ff) /* IA32_VMX_MISC[24:16] (A.6) */
#define MISC_ZERO_LEN_INJECT (1ull << 30)	       /* IA32_VMX_MISC[30]: length 0 allowed */
#define INTR_TYPE_RESERVED (1u << 8)
#define INTR_INFO_RESERVED 0x7ffff000u /* bits 30:12 of the entry interruption info */
#define SEL_RPL_TI 7u /* selector bits 1:0 (RPL) and 2 (TI) */

/* The control MSR a control field is checked against: TRUE_* when BASIC[55]. */
static uint64_t ctl_msr(const struct vmx_caps *c, uint64_t plain, uint64_t true_msr)
{
	return (c->basic & VMX_BASIC_TRUE_CTLS) ? true_msr : plain;
}

/* SDM Vol. 3D A.3: bits 31:0 are the allowed-0 settings (must be 1) ... */
static bool must1_set(uint32_t val, uint64_t msr)
{
	return (val & (uint32_t)msr) == (uint32_t)msr;
}

/* ... bits 63:32 the allowed-1 settings (may be 1). */
static bool only_may1(uint32_t val, uint64_t msr)
{
	return !(val & ~(uint32_t)(msr >> 32));
}

uint32_t nentry_proc2(const struct vmcs12 *v)
{
	if (!(F(CPU_BASED_VM_EXEC_CONTROL) & CPU_ACTIVATE_SECONDARY))
		return 0;
	return (uint32_t)F(SECONDARY_VM_EXEC_CONTROL);
}

/* An MSR-store/load area: 16-byte aligned, first and last byte within MAXPHYADDR. */
static bool msr_area_aligned(uint64_t addr)
{
	return !(addr & 0xf);
}

static bool msr_area_last_ok(uint64_t addr, uint64_t count, unsigned maxphyaddr)
{
	return nentry_phys_ok(addr + count * 16 - 1, maxphyaddr);
}

/* Error code pushed by the hardware exception: #DF #TS #NP #SS #GP #PF #AC. */
static bool vector_has_error_code(uint32_t vector)
{
	return vector == VEC_DF || vector == VEC_TS || vector == VEC_NP || vector == VEC_SS ||
	       vector == VEC_GP || vector == VEC_PF || vector == VEC_AC;
}

/*
 * SDM 27.2.1.1, the EPT pointer with "enable EPT": a memory type and
 * page-walk length IA32_VMX_EPT_VPID_CAP offers (bits 8/14, 6/7), accessed
 * and dirty flags only where offered (21), bits 11:7 and beyond
 * MAXPHYADDR reserved.  INVEPT's single-context type checks the same.
 */
static struct nested_entry_check check_eptp(uint64_t eptp, const struct vmx_caps *c,
					    unsigned maxphyaddr)
{
	const struct nentry_section sec = {NENTRY_VMFAIL_CONTROL, "SDM 27.2.1.1"};
	uint64_t cap = c->has_ept_vpid_cap ? c->ept_vpid_cap : 0;
	uint64_t type = eptp & EPTP_MEMTYPE_MASK;
	NENTRY_REQUIRE((type == 0 && (cap & EPT_CAP_MEMTYPE_UC)) ||
			   (type == 6 && (cap & EPT_CAP_MEMTYPE_WB)),
		       "EPT_POINTER: a memory type IA32_VMX_EPT_VPID_CAP does not offer");
	uint64_t walk = eptp & (7ull << EPTP_WALK_LENGTH_SHIFT);
	NENTRY_REQUIRE((walk == EPTP_WALK_LENGTH_4 && (cap & EPT_CAP_WALK_4)) ||
			   (walk == EPTP_WALK_LENGTH_5 && (cap & EPT_CAP_WALK_5)),
		       "EPT_POINTER: a page-walk length IA32_VMX_EPT_VPID_CAP does not offer");
	NENTRY_REQUIRE(!(eptp & EPTP_AD_ENABLE) || (cap & EPT_CAP_ACCESSED_DIRTY),
		       "EPT_POINTER: accessed/dirty flags are not offered");
	NENTRY_REQUIRE(!(eptp & 0xf80ull), "EPT_POINTER: bits 11:7 must be 0");
	NENTRY_REQUIRE(nentry_phys_ok(eptp, maxphyaddr),
		       "EPT_POINTER must not set bits beyond MAXPHYADDR");
	return NENTRY_PASS;
}

bool nested_eptp_valid(uint64_t eptp, const struct vmx_caps *c, unsigned maxphyaddr)
{
	return check_eptp(eptp, c, maxphyaddr).result == NENTRY_OK;
}

static struct nested_entry_check check_exec_controls(const struct vmcs12 *v,
						     const struct vmx_caps *c, unsigned maxphyaddr)
{
	const struct nentry_section sec = {NENTRY_VMFAIL_CONTROL, "SDM 27.2.1.1"};
	uint32_t pin = (uint32_t)F(PIN_BASED_VM_EXEC_CONTROL);
	uint32_t proc = (uint32_t)F(CPU_BASED_VM_EXEC_CONTROL);
	uint32_t proc2 = nentry_proc2(v);
	uint64_t pin_msr = ctl_msr(c, c->pinbased, c->true_pinbased);
	uint64_t proc_msr = ctl_msr(c, c->procbased, c->true_procbased);
	uint64_t proc2_msr = c->has_procbased2 ? c->procbased2 : 0;

	/* Reserved bits: allowed-0 and allowed-1 settings. */
	NENTRY_REQUIRE(must1_set(pin, pin_msr), "PIN_BASED_VM_EXEC_CONTROL: a must-be-1 bit is 0");
	NENTRY_REQUIRE(only_may1(pin, pin_msr),
		       "PIN_BASED_VM_EXEC_CONTROL: a bit L1's allowed-1 settings lack is 1");
	NENTRY_REQUIRE(must1_set(proc, proc_msr),
		       "CPU_BASED_VM_EXEC_CONTROL: a must-be-1 bit is 0");
	NENTRY_REQUIRE(only_may1(proc, proc_msr),
		       "CPU_BASED_VM_EXEC_CONTROL: a bit L1's allowed-1 settings lack is 1");
	if (proc & CPU_ACTIVATE_SECONDARY) { /* else not checked, and taken as 0 */
		NENTRY_REQUIRE(must1_set(proc2, proc2_msr),
			       "SECONDARY_VM_EXEC_CONTROL: a must-be-1 bit is 0");
		NENTRY_REQUIRE(
		    only_may1(proc2, proc2_msr),
		    "SECONDARY_VM_EXEC_CONTROL: a bit L1's allowed-1 settings lack is 1");
	}

	/* CR3-target count. */
	NENTRY_REQUIRE(F(CR3_TARGET_COUNT) <= MISC_CR3_TARGET_COUNT(c->misc),
		       "CR3_TARGET_COUNT must not exceed IA32_VMX_MISC[24:16]");

	/* I/O and MSR bitmaps. */
	if (proc & CPU_USE_IO_BITMAPS) {
		NENTRY_REQUIRE(!(F(IO_BITMAP_A) & 0xfff), "IO_BITMAP_A bits 11:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(F(IO_BITMAP_A), maxphyaddr),
			       "IO_BITMAP_A must not set bits beyond MAXPHYADDR");
		NENTRY_REQUIRE(!(F(IO_BITMAP_B) & 0xfff), "IO_BITMAP_B bits 11:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(F(IO_BITMAP_B), maxphyaddr),
			       "IO_BITMAP_B must not set bits beyond MAXPHYADDR");
	}
	if (proc & CPU_USE_MSR_BITMAPS) {
		NENTRY_REQUIRE(!(F(MSR_BITMAP) & 0xfff), "MSR_BITMAP bits 11:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(F(MSR_BITMAP), maxphyaddr),
			       "MSR_BITMAP must not set bits beyond MAXPHYADDR");
	}

	/*
	 * "Use TPR shadow": the virtual-APIC address aligned and within the
	 * width; with virtual-interrupt delivery 0 (not offered), TPR
	 * threshold bits 31:4 zero.  The threshold against VTPR reads the
	 * page: nested_check_virtual_apic (nested/tpr_shadow.h).
	 */
	if (proc & CPU_USE_TPR_SHADOW) {
		NENTRY_REQUIRE(!(F(VIRTUAL_APIC_PAGE_ADDR) & 0xfff),
			       "VIRTUAL_APIC_PAGE_ADDR bits 11:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(F(VIRTUAL_APIC_PAGE_ADDR), maxphyaddr),
			       "VIRTUAL_APIC_PAGE_ADDR must not set bits beyond MAXPHYADDR");
		NENTRY_REQUIRE(!(F(TPR_THRESHOLD) & 0xfffffff0ull),
			       "TPR_THRESHOLD bits 31:4 must be 0");
	}
	/*
	 * "Virtualize APIC accesses": the APIC-access address aligned and
	 * within the width.  Without "use TPR shadow", "virtualize x2APIC
	 * mode" must be 0 (APIC-register virtualization and virtual-interrupt
	 * delivery, also named there, are reserved bits for L1), and it
	 * excludes "virtualize APIC accesses".  L0's own rule on the page:
	 * nested_check_apic_access (nested/apic_virt.h).
	 */
	if (proc2 & CPU2_VIRTUALIZE_APIC_ACCESSES) {
		NENTRY_REQUIRE(!(F(APIC_ACCESS_ADDR) & 0xfff),
			       "APIC_ACCESS_ADDR bits 11:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(F(APIC_ACCESS_ADDR), maxphyaddr),
			       "APIC_ACCESS_ADDR must not set bits beyond MAXPHYADDR");
	}
	NENTRY_REQUIRE((proc & CPU_USE_TPR_SHADOW) || !(proc2 & CPU2_VIRTUALIZE_X2APIC),
		       "SECONDARY_VM_EXEC_CONTROL: virtualize x2APIC mode requires use TPR shadow");
	NENTRY_REQUIRE(!(proc2 & CPU2_VIRTUALIZE_X2APIC) ||
			   !(proc2 & CPU2_VIRTUALIZE_APIC_ACCESSES),
		       "SECONDARY_VM_EXEC_CONTROL: virtualize x2APIC mode and virtualize APIC "
		       "accesses are exclusive");

	if (proc2 & CPU2_ENABLE_EPT)
		NENTRY_TRY(check_eptp(F(EPT_POINTER), c, maxphyaddr));
	NENTRY_REQUIRE(!(proc2 & CPU2_UNRESTRICTED_GUEST) || (proc2 & CPU2_ENABLE_EPT),
		       "SECONDARY_VM_EXEC_CONTROL: unrestricted guest requires enable EPT");

	/*
	 * "Enable VM functions": a VM-function control IA32_VMX_VMFUNC does
	 * not allow is 1 (Vol. 3D A.11); with EPTP switching, "enable EPT"
	 * and an EPTP-list address with bits 11:0 clear within the
	 * physical-address width (the list itself is read by VMFUNC only).
	 */
	if (proc2 & CPU2_ENABLE_VMFUNC) {
		uint64_t funcs = F(VM_FUNCTION_CONTROL);
		NENTRY_REQUIRE(!(funcs & ~(c->has_vmfunc ? c->vmfunc : 0)),
			       "VM_FUNCTION_CONTROL: a bit IA32_VMX_VMFUNC does not allow is 1");
		if (funcs & VMFUNC_EPTP_SWITCHING) {
			NENTRY_REQUIRE(proc2 & CPU2_ENABLE_EPT,
				       "VM_FUNCTION_CONTROL: EPTP switching requires enable EPT");
			NENTRY_REQUIRE(!(F(EPTP_LIST_ADDRESS) & 0xfff),
				       "EPTP_LIST_ADDRESS bits 11:0 must be 0");
			NENTRY_REQUIRE(nentry_phys_ok(F(EPTP_LIST_ADDRESS), maxphyaddr),
				       "EPTP_LIST_ADDRESS must not set bits beyond MAXPHYADDR");
		}
	}

	/* VMREAD and VMWRITE bitmaps, with "VMCS shadowing". */
	if (proc2 & CPU2_VMCS_SHADOWING) {
		NENTRY_REQUIRE(!(F(VMREAD_BITMAP) & 0xfff), "VMREAD_BITMAP bits 11:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(F(VMREAD_BITMAP), maxphyaddr),
			       "VMREAD_BITMAP must not set bits beyond MAXPHYADDR");
		NENTRY_REQUIRE(!(F(VMWRITE_BITMAP) & 0xfff), "VMWRITE_BITMAP bits 11:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(F(VMWRITE_BITMAP), maxphyaddr),
			       "VMWRITE_BITMAP must not set bits beyond MAXPHYADDR");
	}

	/* NMI exiting, virtual NMIs, NMI-window exiting. */
	NENTRY_REQUIRE((pin & PIN_NMI_EXITING) || !(pin & PIN_VIRTUAL_NMIS),
		       "PIN_BASED_VM_EXEC_CONTROL: virtual NMIs must be 0 when NMI exiting is 0");
	NENTRY_REQUIRE(
	    (pin & PIN_VIRTUAL_NMIS) || !(proc & CPU_NMI_WINDOW_EXITING),
	    "CPU_BASED_VM_EXEC_CONTROL: NMI-window exiting must be 0 when virtual NMIs is 0");

	/* "Enable VPID": the VPID field must not be 0000H. */
	NENTRY_REQUIRE(!(proc2 & CPU2_ENABLE_VPID) || F(VIRTUAL_PROCESSOR_ID) != 0,
		       "VIRTUAL_PROCESSOR_ID must not be 0 when enable VPID is 1");
	return NENTRY_PASS;
}

static struct nested_entry_check check_exit_controls(const struct vmcs12 *v,
						     const struct vmx_caps *c, unsigned maxphyaddr)
{
	const struct nentry_section sec = {NENTRY_VMFAIL_CONTROL, "SDM 27.2.1.2"};
	uint32_t pin = (uint32_t)F(PIN_BASED_VM_EXEC_CONTROL);
	uint32_t exit = (uint32_t)F(VM_EXIT_CONTROLS);
	uint64_t exit_msr = ctl_msr(c, c->exit, c->true_exit);
	uint64_t store = F(VM_EXIT_MSR_STORE_ADDR), store_n = F(VM_EXIT_MSR_STORE_COUNT);
	uint64_t load = F(VM_EXIT_MSR_LOAD_ADDR), load_n = F(VM_EXIT_MSR_LOAD_COUNT);

	NENTRY_REQUIRE(must1_set(exit, exit_msr), "VM_EXIT_CONTROLS: a must-be-1 bit is 0");
	NENTRY_REQUIRE(only_may1(exit, exit_msr),
		       "VM_EXIT_CONTROLS: a bit L1's allowed-1 settings lack is 1");
	NENTRY_REQUIRE((pin & PIN_PREEMPTION_TIMER) || !(exit & EXIT_SAVE_PREEMPTION_TIMER),
		       "VM_EXIT_CONTROLS: save VMX-preemption timer value must be 0 when the "
		       "timer is not activated");

	/* VM-exit MSR-store and MSR-load areas, when their count is not 0. */
	if (store_n) {
		NENTRY_REQUIRE(msr_area_aligned(store),
			       "VM_EXIT_MSR_STORE_ADDR bits 3:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(store, maxphyaddr),
			       "VM_EXIT_MSR_STORE_ADDR must not set bits beyond MAXPHYADDR");
		NENTRY_REQUIRE(msr_area_last_ok(store, store_n, maxphyaddr),
			       "VM_EXIT_MSR_STORE_ADDR: last byte of the area beyond MAXPHYADDR");
	}
	if (load_n) {
		NENTRY_REQUIRE(msr_area_aligned(load), "VM_EXIT_MSR_LOAD_ADDR bits 3:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(load, maxphyaddr),
			       "VM_EXIT_MSR_LOAD_ADDR must not set bits beyond MAXPHYADDR");
		NENTRY_REQUIRE(msr_area_last_ok(load, load_n, maxphyaddr),
			       "VM_EXIT_MSR_LOAD_ADDR: last byte of the area beyond MAXPHYADDR");
	}
	return NENTRY_PASS;
}

/* SDM 27.2.1.3, event injection: the VM-entry interruption-information field, when valid. */
struct nested_entry_check nested_check_event_injection(const struct vmcs12 *v,
						      const struct vmx_caps *c)
{
	const struct nentry_section sec = {NENTRY_VMFAIL_CONTROL, "SDM 27.2.1.3"};
	uint64_t proc_msr = ctl_msr(c, c->procbased, c->true_procbased);
	uint32_t info = (uint32_t)F(VM_ENTRY_INTR_INFO_FIELD);
	uint32_t type = info & INTR_INFO_TYPE_MASK, vector = info & INTR_INFO_VECTOR_MASK;
	bool has_code = info & INTR_INFO_DELIVER_CODE;
	bool pe = F(GUEST_CR0) & CR0_PE;
	bool mtf = (proc_msr >> 32) & CPU_MONITOR_TRAP_FLAG;
	uint64_t len = F(VM_ENTRY_INSTRUCTION_LEN);

	if (!(info & INTR_INFO_VALID))
		return NENTRY_PASS;
	NENTRY_REQUIRE(type != INTR_TYPE_RESERVED,
		       "VM_ENTRY_INTR_INFO_FIELD: interruption type 1 is reserved");
	NENTRY_REQUIRE(type != INTR_TYPE_OTHER_EVENT || mtf,
		       "VM_ENTRY_INTR_INFO_FIELD: type 7 (other event) is reserved without "
		       "monitor trap flag");
	NENTRY_REQUIRE(type != INTR_TYPE_NMI || vector == VEC_NMI,
		       "VM_ENTRY_INTR_INFO_FIELD: NMI vector must be 2");
	NENTRY_REQUIRE(type != INTR_TYPE_HARD_EXCEPTION || vector <= 31,
		       "VM_ENTRY_INTR_INFO_FIELD: hardware exception vector must be <= 31");
	NENTRY_REQUIRE(
	    type != INTR_TYPE_OTHER_EVENT || vector == 0,
	    "VM_ENTRY_INTR_INFO_FIELD: other-event vector must be 0 (pending MTF)");
	/*
	 * Deliver-error-code: 0 unless a hardware exception with
	 * GUEST_CR0.PE = 1 (the SDM's wording: the CR0 field's bit 0,
	 * which only unrestricted guest lets be 0: a real-mode L2 takes
	 * no error code); then,
	 * unless IA32_VMX_BASIC[56], 1 exactly for #DF #TS #NP #SS #GP
	 * #PF #AC.
	 */
	NENTRY_REQUIRE(
	    !has_code || type == INTR_TYPE_HARD_EXCEPTION,
	    "VM_ENTRY_INTR_INFO_FIELD: deliver-error-code must be 0 for a type other "
	    "than hardware exception");
	NENTRY_REQUIRE(
	    !has_code || pe,
	    "VM_ENTRY_INTR_INFO_FIELD: deliver-error-code must be 0 when GUEST_CR0.PE "
	    "is 0");
	if (type == INTR_TYPE_HARD_EXCEPTION && pe &&
	    !(c->basic & VMX_BASIC_NO_HW_ERRCODE_CHECK)) {
		NENTRY_REQUIRE(!vector_has_error_code(vector) || has_code,
			       "VM_ENTRY_INTR_INFO_FIELD: deliver-error-code must be 1 for "
			       "#DF #TS #NP #SS #GP #PF #AC");
		NENTRY_REQUIRE(
		    vector_has_error_code(vector) || !has_code,
		    "VM_ENTRY_INTR_INFO_FIELD: deliver-error-code must be 0 for a "
		    "vector without an error code");
	}
	NENTRY_REQUIRE(!(info & INTR_INFO_RESERVED),
		       "VM_ENTRY_INTR_INFO_FIELD reserved bits 30:12 must be 0");
	NENTRY_REQUIRE(!has_code || !(F(VM_ENTRY_EXCEPTION_ERROR_CODE) >> 16),
		       "VM_ENTRY_EXCEPTION_ERROR_CODE bits 31:16 must be 0");
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SOFT_EXCEPTION) {
		NENTRY_REQUIRE(len <= 15, "VM_ENTRY_INSTRUCTION_LEN must be at most 15");
		NENTRY_REQUIRE(len || (c->misc & MISC_ZERO_LEN_INJECT),
			       "VM_ENTRY_INSTRUCTION_LEN must not be 0 "
			       "(IA32_VMX_MISC[30] is 0)");
	}
	return NENTRY_PASS;
}

static struct nested_entry_check check_entry_controls(const struct vmcs12 *v,
						      const struct vmx_caps *c, unsigned maxphyaddr)
{
	const struct nentry_section sec = {NENTRY_VMFAIL_CONTROL, "SDM 27.2.1.3"};
	uint32_t entry = (uint32_t)F(VM_ENTRY_CONTROLS);
	uint64_t entry_msr = ctl_msr(c, c->entry, c->true_entry);
	uint64_t load = F(VM_ENTRY_MSR_LOAD_ADDR), load_n = F(VM_ENTRY_MSR_LOAD_COUNT);

	NENTRY_REQUIRE(must1_set(entry, entry_msr), "VM_ENTRY_CONTROLS: a must-be-1 bit is 0");
	NENTRY_REQUIRE(only_may1(entry, entry_msr),
		       "VM_ENTRY_CONTROLS: a bit L1's allowed-1 settings lack is 1");

	/* Event injection: the VM-entry interruption-information field, when valid. */
	NENTRY_TRY(nested_check_event_injection(v, c));

	/* VM-entry MSR-load area, when its count is not 0. */
	if (load_n) {
		NENTRY_REQUIRE(msr_area_aligned(load), "VM_ENTRY_MSR_LOAD_ADDR bits 3:0 must be 0");
		NENTRY_REQUIRE(nentry_phys_ok(load, maxphyaddr),
			       "VM_ENTRY_MSR_LOAD_ADDR must not set bits beyond MAXPHYADDR");
		NENTRY_REQUIRE(msr_area_last_ok(load, load_n, maxphyaddr),
			       "VM_ENTRY_MSR_LOAD_ADDR: last byte of the area beyond MAXPHYADDR");
	}

	/* SMM: L1 never runs in SMM (nor does its dual-monitor treatment exist). */
	NENTRY_REQUIRE(!(entry & ENTRY_SMM),
		       "VM_ENTRY_CONTROLS: entry to SMM must be 0 outside SMM");
	NENTRY_REQUIRE(
	    !(entry & ENTRY_DEACT_DUAL_MONITOR),
	    "VM_ENTRY_CONTROLS: deactivate dual-monitor treatment must be 0 outside SMM");
	return NENTRY_PASS;
}

struct nested_entry_check nested_check_controls(const struct vmcs12 *v,
						const struct vmx_caps *l1_caps, unsigned maxphyaddr)
{
	NENTRY_TRY(check_exec_controls(v, l1_caps, maxphyaddr));
	NENTRY_TRY(check_exit_controls(v, l1_caps, maxphyaddr));
	NENTRY_TRY(check_entry_controls(v, l1_caps, maxphyaddr));
	return NENTRY_PASS;
}

static struct nested_entry_check check_host_regs(const struct vmcs12 *v, const struct vmx_caps *c,
						 unsigned maxphyaddr)
{
	const struct nentry_section sec = {NENTRY_VMFAIL_HOST, "SDM 27.2.2"};
	uint32_t exit = (uint32_t)F(VM_EXIT_CONTROLS);
	bool host64 = exit & EXIT_HOST_ADDR_SPACE_SIZE;
	uint64_t cr0 = F(HOST_CR0), cr4 = F(HOST_CR4), efer = F(HOST_IA32_EFER);
	unsigned lw = nentry_linear_width(c);

	/* Control registers: IA32_VMX_CR0/CR4_FIXED0/1 (no exemption for the host). */
	NENTRY_REQUIRE((cr0 & c->cr0_fixed0) == c->cr0_fixed0,
		       "HOST_CR0: a bit fixed to 1 in VMX operation (IA32_VMX_CR0_FIXED0) is 0");
	NENTRY_REQUIRE(!(cr0 & ~c->cr0_fixed1),
		       "HOST_CR0: a bit fixed to 0 in VMX operation (IA32_VMX_CR0_FIXED1) is 1");
	NENTRY_REQUIRE(cr4 & CR4_VMXE, "HOST_CR4.VMXE must be 1");
	NENTRY_REQUIRE((cr4 & c->cr4_fixed0) == c->cr4_fixed0,
		       "HOST_CR4: a bit fixed to 1 in VMX operation (IA32_VMX_CR4_FIXED0) is 0");
	NENTRY_REQUIRE(!(cr4 & ~c->cr4_fixed1),
		       "HOST_CR4: a bit fixed to 0 in VMX operation (IA32_VMX_CR4_FIXED1) is 1");
	NENTRY_REQUIRE(!(cr4 & CR4_CET) || (cr0 & CR0_WP), "HOST_CR4.CET requires HOST_CR0.WP");
	NENTRY_REQUIRE(nentry_phys_ok(F(HOST_CR3), maxphyaddr),
		       "HOST_CR3 must not set bits beyond MAXPHYADDR");

	/* MSRs. */
	NENTRY_REQUIRE(nentry_canonical(F(HOST_IA32_SYSENTER_ESP), lw),
		       "HOST_IA32_SYSENTER_ESP must be canonical");
	NENTRY_REQUIRE(nentry_canonical(F(HOST_IA32_SYSENTER_EIP), lw),
		       "HOST_IA32_SYSENTER_EIP must be canonical");
	if (exit & EXIT_LOAD_IA32_PAT)
		NENTRY_REQUIRE(nentry_pat_valid(F(HOST_IA32_PAT)),
			       "HOST_IA32_PAT: every entry must be a valid memory type (load PAT)");
	if (exit & EXIT_LOAD_IA32_EFER) {
		NENTRY_REQUIRE(!(efer & ~NENTRY_EFER_VALID),
			       "HOST_IA32_EFER reserved bits must be 0 (load EFER)");
		NENTRY_REQUIRE(!(efer & EFER_LMA) == !host64,
			       "HOST_IA32_EFER.LMA must equal host address-space size (load EFER)");
		NENTRY_REQUIRE(!(efer & EFER_LME) == !host64,
			       "HOST_IA32_EFER.LME must equal host address-space size (load EFER)");
	}
	return NENTRY_PASS;
}

static struct nested_entry_check check_host_segments(const struct vmcs12 *v,
						     const struct vmx_caps *c)
{
	const struct nentry_section sec = {NENTRY_VMFAIL_HOST, "SDM 27.2.3"};
	bool host64 = F(VM_EXIT_CONTROLS) & EXIT_HOST_ADDR_SPACE_SIZE;
	unsigned lw = nentry_linear_width(c);

	/* Selectors. */
	NENTRY_REQUIRE(!(F(HOST_ES_SELECTOR) & SEL_RPL_TI),
		       "HOST_ES_SELECTOR RPL and TI must be 0");
	NENTRY_REQUIRE(!(F(HOST_CS_SELECTOR) & SEL_RPL_TI),
		       "HOST_CS_SELECTOR RPL and TI must be 0");
	NENTRY_REQUIRE(!(F(HOST_SS_SELECTOR) & SEL_RPL_TI),
		       "HOST_SS_SELECTOR RPL and TI must be 0");
	NENTRY_REQUIRE(!(F(HOST_DS_SELECTOR) & SEL_RPL_TI),
		       "HOST_DS_SELECTOR RPL and TI must be 0");
	NENTRY_REQUIRE(!(F(HOST_FS_SELECTOR) & SEL_RPL_TI),
		       "HOST_FS_SELECTOR RPL and TI must be 0");
	NENTRY_REQUIRE(!(F(HOST_GS_SELECTOR) & SEL_RPL_TI),
		       "HOST_GS_SELECTOR RPL and TI must be 0");
	NENTRY_REQUIRE(!(F(HOST_TR_SELECTOR) & SEL_RPL_TI),
		       "HOST_TR_SELECTOR RPL and TI must be 0");
	NENTRY_REQUIRE(F(HOST_CS_SELECTOR), "HOST_CS_SELECTOR must not be 0");
	NENTRY_REQUIRE(F(HOST_TR_SELECTOR), "HOST_TR_SELECTOR must not be 0");
	NENTRY_REQUIRE(host64 || F(HOST_SS_SELECTOR),
		       "HOST_SS_SELECTOR must not be 0 when host address-space size is 0");

	/* Base addresses. */
	NENTRY_REQUIRE(nentry_canonical(F(HOST_FS_BASE), lw), "HOST_FS_BASE must be canonical");
	NENTRY_REQUIRE(nentry_canonical(F(HOST_GS_BASE), lw), "HOST_GS_BASE must be canonical");
	NENTRY_REQUIRE(nentry_canonical(F(HOST_GDTR_BASE), lw), "HOST_GDTR_BASE must be canonical");
	NENTRY_REQUIRE(nentry_canonical(F(HOST_IDTR_BASE), lw), "HOST_IDTR_BASE must be canonical");
	NENTRY_REQUIRE(nentry_canonical(F(HOST_TR_BASE), lw), "HOST_TR_BASE must be canonical");
	return NENTRY_PASS;
}

static struct nested_entry_check check_host_addr_size(const struct vmcs12 *v, bool l1_in_ia32e)
{
	const struct nentry_section sec = {NENTRY_VMFAIL_HOST, "SDM 27.2.4"};
	bool host64 = F(VM_EXIT_CONTROLS) & EXIT_HOST_ADDR_SPACE_SIZE;
	bool guest64 = F(VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST;
	uint64_t cr4 = F(HOST_CR4), rip = F(HOST_RIP);

	/*
	 * L1's own mode.  Outside IA-32e mode "IA-32e mode guest" must be 0
	 * too: the host address-space size 0 checks below say it.
	 */
	NENTRY_REQUIRE(!l1_in_ia32e || host64,
		       "VM_EXIT_CONTROLS: host address-space size must be 1 in IA-32e mode");
	NENTRY_REQUIRE(l1_in_ia32e || !host64,
		       "VM_EXIT_CONTROLS: host address-space size must be 0 outside IA-32e mode");

	if (host64) {
		NENTRY_REQUIRE(cr4 & CR4_PAE,
			       "HOST_CR4.PAE must be 1 when host address-space size is 1");
		/* Canonical for the paging mode loaded on VM exit: HOST_CR4.LA57. */
		NENTRY_REQUIRE(nentry_canonical(rip, (cr4 & CR4_LA57) ? 57 : 48),
			       "HOST_RIP must be canonical when host address-space size is 1");
	} else {
		NENTRY_REQUIRE(!guest64, "VM_ENTRY_CONTROLS: IA-32e mode guest must be 0 when host "
					 "address-space size is 0");
		NENTRY_REQUIRE(!(cr4 & CR4_PCIDE),
			       "HOST_CR4.PCIDE must be 0 when host address-space size is 0");
		NENTRY_REQUIRE(!(rip >> 32),
			       "HOST_RIP bits 63:32 must be 0 when host address-space size is 0");
	}
	return NENTRY_PASS;
}

struct nested_entry_check nested_check_host_state(const struct vmcs12 *v,
						  const struct vmx_caps *l1_caps,
						  unsigned maxphyaddr, bool l1_in_ia32e)
{
	NENTRY_TRY(check_host_regs(v, l1_caps, maxphyaddr));
	NENTRY_TRY(check_host_segments(v, l1_caps));
	NENTRY_TRY(check_host_addr_size(v, l1_in_ia32e));
	return NENTRY_PASS;
}

struct nested_entry_check nested_check_vmentry(const struct vmcs12 *v,
					       const struct vmx_caps *l1_caps, bool launch,
					       unsigned maxphyaddr)
{
	(void)launch; /* the launch state (27.1) is the caller's; see entry_checks.h */
	NENTRY_TRY(nested_check_controls(v, l1_caps, maxphyaddr));
	NENTRY_TRY(nested_check_host_state(v, l1_caps, maxphyaddr, true));
	NENTRY_TRY(nested_check_guest_state(v, l1_caps, maxphyaddr));
	return NENTRY_PASS;
}
