/*
 * prepare02.c - vmcs02 from vmcs12 and L0's needs (prepare02.h).
 */
#include "prepare02.h"

#include "vmx/controls.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#define F(name) VMCS12_FIELD(v12, name)

/* Guest fields L0 sets itself rather than copying. */
static bool l0_sets(uint32_t encoding)
{
	switch (encoding) {
	case VMCS_GUEST_CR0:
	case VMCS_GUEST_CR4:
	case VMCS_GUEST_IA32_EFER:
	case VMCS_GUEST_IA32_PAT:
	case VMCS_GUEST_DR7:
	case VMCS_GUEST_IA32_DEBUGCTL:
	case VMCS_VMCS_LINK_POINTER:
	case VMCS_VMX_PREEMPTION_TIMER_VALUE: /* L0's and L1's timers: nested/timer.c */
		return true;
	}
	return false;
}

/*
 * L1's "unrestricted guest" (SDM Vol. 3C 25.6.2): vmcs02 takes it as it is
 * (controls()), under EPT02; L2 may then run with CR0.PE or CR0.PG 0.
 */
static bool ug12(const struct vmcs12 *v12)
{
	return (F(CPU_BASED_VM_EXEC_CONTROL) & CPU_ACTIVATE_SECONDARY) &&
	       (F(SECONDARY_VM_EXEC_CONTROL) & CPU2_UNRESTRICTED_GUEST);
}

/*
 * SDM Vol. 3C 27.3.2.1: without "load IA32_EFER", EFER keeps L1's value
 * except LMA and LME, which take "IA-32e mode guest"; without "load
 * IA32_PAT" / "load debug controls", PAT, DR7 and DEBUGCTL keep L1's
 * values.  vmcs02 always loads them, so L0 supplies those values - all
 * four, or (last: what it supplied before) only those whose value changed.
 */
static unsigned l1_supplied(const struct vmcs12 *v12, const struct vmcs02_l0 *l0,
			    const struct vmcs02_l0 *last)
{
	uint64_t entry = F(VM_ENTRY_CONTROLS);
	unsigned writes = 0;
	if (!last || (!(entry & ENTRY_LOAD_IA32_EFER) && l0->l1_efer != last->l1_efer)) {
		uint64_t efer = F(GUEST_IA32_EFER);
		if (!(entry & ENTRY_LOAD_IA32_EFER)) {
			efer = l0->l1_efer & ~(EFER_LMA | EFER_LME);
			if (entry & ENTRY_IA32E_MODE_GUEST)
				efer |= EFER_LMA | EFER_LME;
		}
		vmcs_write(VMCS_GUEST_IA32_EFER, efer);
		writes++;
	}
	if (!last || (!(entry & ENTRY_LOAD_IA32_PAT) && l0->l1_pat != last->l1_pat)) {
		vmcs_write(VMCS_GUEST_IA32_PAT,
			   (entry & ENTRY_LOAD_IA32_PAT) ? F(GUEST_IA32_PAT) : l0->l1_pat);
		writes++;
	}
	bool debug = entry & ENTRY_LOAD_DEBUG_CONTROLS;
	if (!last || (!debug && (l0->l1_dr7 != last->l1_dr7 ||
				 l0->l1_debugctl != last->l1_debugctl))) {
		vmcs_write(VMCS_GUEST_DR7, debug ? F(GUEST_DR7) : l0->l1_dr7);
		vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, debug ? F(GUEST_IA32_DEBUGCTL) : l0->l1_debugctl);
		writes += 2;
	}
	return writes;
}

/* vmcs02's guest-state area; returns the VMWRITEs. */
static unsigned guest_state(const struct vmcs12 *v12, const struct vmcs02_l0 *l0)
{
	unsigned writes = 3;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (f->cls != VMCS_CLASS_GUEST || l0_sets(f->encoding) ||
		    !vmcs_field_exists(f, l0->l1) || !vmcs_field_exists(f, l0->hw))
			continue;
		vmcs_write(f->encoding, v12->field[i]);
		writes++;
	}
	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(l0->hw, F(GUEST_CR0), ug12(v12)));
	vmcs_write(VMCS_GUEST_CR4, vmx_fix_cr4(l0->hw, F(GUEST_CR4)));
	writes += l1_supplied(v12, l0, NULL);
	vmcs_write(VMCS_VMCS_LINK_POINTER, ~0ull); /* L2 has no shadow VMCS */
	return writes;
}

/*
 * CR0/CR4: a bit exits when either L1 or L0 owns it.  The read shadow
 * shows L2 what L1 wants it to see: L1's shadow for bits L1 owns, and
 * L1's own guest value for bits only L0 pins.  Under L1's unrestricted
 * guest PE and PG are not fixed for L2 (SDM Vol. 3C 26.3, MOV to CR0), so
 * L0 never owns them, whatever it owns for L1.
 */
static void cr_ownership(const struct vmcs12 *v12, const struct vmcs02_l0 *l0,
			 struct vmcs02_cr_state *cr)
{
	uint64_t m12 = F(CR0_GUEST_HOST_MASK), m4_12 = F(CR4_GUEST_HOST_MASK);
	uint64_t l0_cr0_mask = l0->cr0_mask & ~(ug12(v12) ? CR0_PE | CR0_PG : 0);
	uint64_t shadow0 = (F(CR0_READ_SHADOW) & m12) | (F(GUEST_CR0) & ~m12);
	uint64_t shadow4 = (F(CR4_READ_SHADOW) & m4_12) | (F(GUEST_CR4) & ~m4_12);
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, m12 | l0_cr0_mask);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, m4_12 | l0->cr4_mask);
	vmcs_write(VMCS_CR0_READ_SHADOW, shadow0);
	vmcs_write(VMCS_CR4_READ_SHADOW, shadow4);
	cr->cr0_l0_guest_owned = ~l0_cr0_mask;
	cr->cr4_l0_guest_owned = ~l0->cr4_mask;
	cr->cr0_shadow02 = shadow0;
	cr->cr4_shadow02 = shadow4;
}

/* L0's own MSR-load areas, as vmcs01's (IA32_SPEC_CTRL: the guest's on entry, L0's on exit). */
static void l0_msr_areas(const struct vmcs02_l0 *l0)
{
	vmcs_write(VMCS_VM_EXIT_MSR_LOAD_ADDR, l0->msr_exit_load);
	vmcs_write(VMCS_VM_EXIT_MSR_LOAD_COUNT, l0->msr_load_count);
	vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_ADDR, l0->msr_entry_load);
	vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_COUNT, l0->msr_load_count);
}

static void controls(const struct vmcs12 *v12, const struct vmcs02_l0 *l0)
{
	uint32_t proc12 = (uint32_t)F(CPU_BASED_VM_EXEC_CONTROL);
	uint32_t proc2_12 = (proc12 & CPU_ACTIVATE_SECONDARY) ? (uint32_t)F(SECONDARY_VM_EXEC_CONTROL)
							       : 0;
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, (uint32_t)F(PIN_BASED_VM_EXEC_CONTROL) | l0->pin);
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   proc12 | l0->proc | CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY);
	/*
	 * L1's "VMCS shadowing" is L0's to emulate (nested/shadow12.h): in
	 * vmcs02 every VMREAD/VMWRITE of L2's exits to L0.
	 */
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL,
		   (proc2_12 & ~CPU2_VMCS_SHADOWING) | l0->proc2 | CPU2_ENABLE_EPT |
			   (l0->vpid ? CPU2_ENABLE_VPID : 0));
	/*
	 * L0's exit controls, plus L1's "acknowledge interrupt on exit": the
	 * CPU then acknowledges the interrupt and reports its vector, as it
	 * would for L1 (SDM Vol. 3C 28.2), and the rebuild copies it.
	 */
	vmcs_write(VMCS_VM_EXIT_CONTROLS,
		   l0->exit | ((uint32_t)F(VM_EXIT_CONTROLS) & EXIT_ACK_INTR_ON_EXIT));
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, (uint32_t)F(VM_ENTRY_CONTROLS) | ENTRY_LOAD_IA32_EFER |
						   ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_DEBUG_CONTROLS);
	vmcs_write(VMCS_EXCEPTION_BITMAP, F(EXCEPTION_BITMAP));
	vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MASK, F(PAGE_FAULT_ERROR_CODE_MASK));
	vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, F(PAGE_FAULT_ERROR_CODE_MATCH));
	vmcs_write(VMCS_CR3_TARGET_COUNT, F(CR3_TARGET_COUNT));
	vmcs_write(VMCS_CR3_TARGET_VALUE0, F(CR3_TARGET_VALUE0));
	vmcs_write(VMCS_CR3_TARGET_VALUE1, F(CR3_TARGET_VALUE1));
	vmcs_write(VMCS_CR3_TARGET_VALUE2, F(CR3_TARGET_VALUE2));
	vmcs_write(VMCS_CR3_TARGET_VALUE3, F(CR3_TARGET_VALUE3));
	/* L1's I/O bitmaps name L1 physical pages, which EPT01 maps 1:1. */
	vmcs_write(VMCS_IO_BITMAP_A, F(IO_BITMAP_A));
	vmcs_write(VMCS_IO_BITMAP_B, F(IO_BITMAP_B));
	vmcs_write(VMCS_MSR_BITMAP, l0->msr_bitmap);
	/*
	 * SDM 26.3 RDTSC/RDTSCP/RDMSR: with "use TSC offsetting", L2 reads
	 * (TSC * multiplier) >> 48 + offset under "use TSC scaling", else
	 * TSC + offset.  L0 neither offsets nor scales L1's TSC (vmcs01 sets
	 * neither control), so L1's TSC is the CPU's and vmcs02 takes L1's
	 * offset and multiplier unchanged: the CPU computes exactly what L1
	 * asked for.
	 */
	vmcs_write(VMCS_TSC_OFFSET, F(TSC_OFFSET));
	if (proc2_12 & CPU2_TSC_SCALING)
		vmcs_write(VMCS_TSC_MULTIPLIER, F(TSC_MULTIPLIER));
	/*
	 * SDM 26.1.3 PAUSE: PAUSE-loop exiting measures, at CPL 0 and with
	 * "PAUSE exiting" 0, L2's PAUSE loops against L1's gap and window (in
	 * TSC-rate ticks, unscaled); L0 asks for no PAUSE exits itself.
	 */
	if (proc2_12 & CPU2_PAUSE_LOOP_EXITING) {
		vmcs_write(VMCS_PLE_GAP, F(PLE_GAP));
		vmcs_write(VMCS_PLE_WINDOW, F(PLE_WINDOW));
	}
	/*
	 * SDM 29.3: with "use TPR shadow", L2's CR8 accesses that do not exit
	 * read and write VTPR in L1's virtual-APIC page, and 29.1.2 compares
	 * VTPR with L1's threshold.  The page is an L1 physical address, the
	 * same host-physical under EPT01's identity map, and L1's memory
	 * (nested_check_virtual_apic refused any other before this).
	 */
	if (proc12 & CPU_USE_TPR_SHADOW) {
		vmcs_write(VMCS_VIRTUAL_APIC_PAGE_ADDR, F(VIRTUAL_APIC_PAGE_ADDR));
		vmcs_write(VMCS_TPR_THRESHOLD, F(TPR_THRESHOLD));
	}
	/*
	 * SDM 29.4: the CPU compares the physical address that L2's access
	 * ends at after EPT01 or EPT02 - an L1 physical address, as on L1's
	 * CPU - with the APIC-access address: vmcs12's, unchanged
	 * (nested/apic_virt.h; nested_check_apic_access accepted it).
	 */
	if (proc2_12 & CPU2_VIRTUALIZE_APIC_ACCESSES)
		vmcs_write(VMCS_APIC_ACCESS_ADDR, F(APIC_ACCESS_ADDR));
	if (proc2_12 & CPU2_ENABLE_XSAVES)
		vmcs_write(VMCS_XSS_EXIT_BITMAP, F(XSS_EXIT_BITMAP));
	/*
	 * SDM 26.5.6.2: with "enable VM functions", VMFUNC is #UD for EAX >=
	 * 64 and exits when the VM-function control for EAX is 0.  vmcs02
	 * takes L1's "enable VM functions" (controls above) with no function
	 * enabled: the CPU raises L2's #UD itself and every other VMFUNC
	 * exits to L0, which switches the EPTP or reflects the exit
	 * (nested/vmfunc.h).  Without the control in vmcs12, vmcs02 has none
	 * and VMFUNC is L2's #UD.
	 */
	if (proc2_12 & CPU2_ENABLE_VMFUNC)
		vmcs_write(VMCS_VM_FUNCTION_CONTROL, 0);
	vmcs_write(VMCS_EPT_POINTER, l0->eptp);
	if (l0->vpid)
		vmcs_write(VMCS_VIRTUAL_PROCESSOR_ID, l0->vpid);
	/*
	 * L0 processes L1's MSR-load/store lists itself; the CPU gets L0's own
	 * areas, as in vmcs01 (IA32_SPEC_CTRL: the guest's on entry, L0's on
	 * exit).
	 */
	vmcs_write(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	l0_msr_areas(l0);
	/* The event L1 injects into L2 (SDM 27.6). */
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, F(VM_ENTRY_INTR_INFO_FIELD));
	vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, F(VM_ENTRY_EXCEPTION_ERROR_CODE));
	vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LEN, F(VM_ENTRY_INSTRUCTION_LEN));
}

void nested_prepare_vmcs02(const struct vmcs12 *v12, const struct vmcs02_l0 *l0,
			   struct vmcs02_cr_state *cr)
{
	guest_state(v12, l0);
	controls(v12, l0);
	cr_ownership(v12, l0, cr);
}

unsigned nested_refresh_vmcs02(const struct vmcs12 *v12, const struct vmcs02_l0 *l0,
			       const struct vmcs02_l0 *last, unsigned dirty,
			       struct vmcs02_cr_state *cr)
{
	unsigned writes = 0;
	if (dirty & VMCS_DIRTY(VMCS_DG_GUEST)) {
		writes += guest_state(v12, l0);
		cr_ownership(v12, l0, cr);
		writes += 4;
	} else {
		if (dirty & VMCS_DIRTY(VMCS_DG_RIP)) {
			vmcs_write(VMCS_GUEST_RIP, F(GUEST_RIP));
			writes++;
		}
		if (dirty & VMCS_DIRTY(VMCS_DG_RSP)) {
			vmcs_write(VMCS_GUEST_RSP, F(GUEST_RSP));
			writes++;
		}
		writes += l1_supplied(v12, l0, last);
	}
	/* The exit cleared the valid bit in both (SDM 28.2, 28.3): the same value, unless L1 wrote it. */
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, F(VM_ENTRY_INTR_INFO_FIELD));
	writes++;
	if (dirty & VMCS_DIRTY(VMCS_DG_EVENT)) {
		vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, F(VM_ENTRY_EXCEPTION_ERROR_CODE));
		vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LEN, F(VM_ENTRY_INSTRUCTION_LEN));
		writes += 2;
	}
	/* L0's own per-entry values: EPT02's root, L2's VPID, L0's MSR areas. */
	if (l0->eptp != last->eptp) {
		vmcs_write(VMCS_EPT_POINTER, l0->eptp);
		writes++;
	}
	if (l0->vpid != last->vpid) {
		vmcs_write(VMCS_VIRTUAL_PROCESSOR_ID, l0->vpid);
		writes++;
	}
	if (l0->msr_load_count != last->msr_load_count ||
	    l0->msr_entry_load != last->msr_entry_load || l0->msr_exit_load != last->msr_exit_load) {
		l0_msr_areas(l0);
		writes += 4;
	}
	return writes;
}

/* SDM Vol. 3A 4.4.1, table 4-8: a present PDPTE's reserved bits 2:1, 8:5, 63:MAXPHYADDR. */
static bool pdpte_ok(uint64_t e, unsigned maxphyaddr)
{
	if (!(e & 1))
		return true;
	uint64_t reserved = 0x1e6ull | (maxphyaddr < 64 ? ~0ull << maxphyaddr : 0);
	return !(e & reserved);
}

bool nested_load_l2_pdptes(const struct vmcs12 *v12, const struct l1_memory *mem, bool ept12)
{
	/* SDM Vol. 3A 4.1.1: PAE paging; 27.3.1.6: and not an IA-32e-mode guest. */
	if (!(F(GUEST_CR0) & CR0_PG) || !(F(GUEST_CR4) & CR4_PAE) ||
	    (F(VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST))
		return true;
	/*
	 * SDM 27.3.1.6: with "enable EPT" the PDPTEs are vmcs12's fields (L2's
	 * CR3 is an L2 address), checked there; vmcs02 has them already.
	 */
	if (ept12) {
		static const uint32_t f[4] = { VMCS_GUEST_PDPTE0, VMCS_GUEST_PDPTE1,
					       VMCS_GUEST_PDPTE2, VMCS_GUEST_PDPTE3 };
		for (unsigned i = 0; i < 4; i++)
			if (!pdpte_ok(vmcs12_get(v12, f[i]), mem->maxphyaddr))
				return false;
		return true;
	}
	struct guest_paging g = { .cr3 = F(GUEST_CR3),
				  .maxphyaddr = mem->maxphyaddr,
				  .read_gpa = mem->read,
				  .ctx = mem->ctx };
	uint64_t pdpte[4];
	if (guest_load_pae_pdptes(&g, pdpte, NULL) != PAE_PDPTES_OK)
		return false;
	vmcs_write(VMCS_GUEST_PDPTE0, pdpte[0]);
	vmcs_write(VMCS_GUEST_PDPTE1, pdpte[1]);
	vmcs_write(VMCS_GUEST_PDPTE2, pdpte[2]);
	vmcs_write(VMCS_GUEST_PDPTE3, pdpte[3]);
	return true;
}
