/*
 * sync12.c - the vmcs12 rebuild on a reflected exit (sync12.h).
 */
#include "sync12.h"

#include "nested/reflect_cr.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

/*
 * Whether L1's controls ask for the field to be saved (SDM 28.3.1); the
 * PDPTEs only under L1's EPT (28.3.4: with "enable EPT" = 0 the CPU keeps
 * them in no VMCS field; L0's own EPT01 loads vmcs02's).  Fields the exit
 * never changes are VMCS_RB_NONE in the table (vmx/vmcs_fields.h).
 */
static bool saved_on_exit(uint64_t exit, bool ept12, uint32_t encoding)
{
	switch (encoding) {
	case VMCS_GUEST_PDPTE0:
	case VMCS_GUEST_PDPTE1:
	case VMCS_GUEST_PDPTE2:
	case VMCS_GUEST_PDPTE3:
		return ept12;
	case VMCS_GUEST_DR7:
	case VMCS_GUEST_IA32_DEBUGCTL:
		return exit & EXIT_SAVE_DEBUG_CONTROLS;
	case VMCS_GUEST_IA32_PAT:
		return exit & EXIT_SAVE_IA32_PAT;
	case VMCS_GUEST_IA32_EFER:
		return exit & EXIT_SAVE_IA32_EFER;
	case VMCS_VMX_PREEMPTION_TIMER_VALUE:
		return exit & EXIT_SAVE_PREEMPTION_TIMER;
	}
	return true;
}

unsigned nested_sync_vmcs12(struct vmcs12 *v12, const struct vmx_caps *l1_caps,
			    const struct vmcs02_cr_state *cr)
{
	unsigned reads = 0;
	uint32_t present = vmcs_features_present(l1_caps);
	uint64_t exit = vmcs12_get(v12, VMCS_VM_EXIT_CONTROLS);
	bool ept12 = (vmcs12_get(v12, VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_ACTIVATE_SECONDARY) &&
		     (vmcs12_get(v12, VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_EPT);
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (f->rebuild == VMCS_RB_NONE)
			continue;
		if (!(present & (1u << f->feature)) || !saved_on_exit(exit, ept12, f->encoding))
			continue;
		uint64_t value = vmcs_read(f->encoding);
		reads++;
		if (f->encoding == VMCS_GUEST_CR0)
			value = nested_merge_guest_cr(value, cr->cr0_shadow02, cr->cr0_l0_guest_owned,
						      vmcs12_get(v12, VMCS_CR0_GUEST_HOST_MASK));
		else if (f->encoding == VMCS_GUEST_CR4)
			value = nested_merge_guest_cr(value, cr->cr4_shadow02, cr->cr4_l0_guest_owned,
						      vmcs12_get(v12, VMCS_CR4_GUEST_HOST_MASK));
		v12->field[i] = value;
	}

	/* The event L1 asked to inject is gone: delivered, or in IDT-vectoring info. */
	vmcs12_set(v12, VMCS_VM_ENTRY_INTR_INFO_FIELD,
		   vmcs12_get(v12, VMCS_VM_ENTRY_INTR_INFO_FIELD) & ~(uint64_t)INTR_INFO_VALID);

	/* SDM 28.2 "Updating VM-Entry Control Fields": IA-32e mode guest = LMA. */
	uint64_t entry = vmcs12_get(v12, VMCS_VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
	if (vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA)
		entry |= ENTRY_IA32E_MODE_GUEST;
	reads++;
	vmcs12_set(v12, VMCS_VM_ENTRY_CONTROLS, entry);
	return reads;
}
