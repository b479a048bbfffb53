/*
 * controls.c - adjusting control fields and CR0/CR4 to the capability MSRs.
 */
#include "controls.h"

#include "vmcs_fields.h"
#include "vmx_arch.h"
#include "vmx_bits.h"

static uint64_t control_msr(const struct vmx_caps *c, enum vmx_ctl which)
{
	switch (which) {
	case VMX_CTL_PIN:
		return c->has_true ? c->true_pinbased : c->pinbased;
	case VMX_CTL_PROC:
		return c->has_true ? c->true_procbased : c->procbased;
	case VMX_CTL_PROC2:
		/* No PROCBASED2 MSR: no secondary control may be 1. */
		return c->has_procbased2 ? c->procbased2 : 0;
	case VMX_CTL_EXIT:
		return c->has_true ? c->true_exit : c->exit;
	case VMX_CTL_ENTRY:
		return c->has_true ? c->true_entry : c->entry;
	}
	return 0;
}

uint32_t vmx_adjust_controls(const struct vmx_caps *c, enum vmx_ctl which, uint32_t wanted)
{
	uint64_t msr = control_msr(c, which);
	uint32_t must_be_1 = (uint32_t)msr;
	uint32_t may_be_1 = (uint32_t)(msr >> 32);
	return (wanted | must_be_1) & may_be_1;
}

bool vmx_controls_allowed(const struct vmx_caps *c, enum vmx_ctl which, uint32_t bits)
{
	return ((uint32_t)(control_msr(c, which) >> 32) & bits) == bits;
}

uint64_t vmx_cr0_fixed0(const struct vmx_caps *c, bool unrestricted_guest)
{
	uint64_t f0 = c->cr0_fixed0;
	if (unrestricted_guest)
		f0 &= ~(CR0_PE | CR0_PG);
	return f0;
}

uint64_t vmx_fix_cr0(const struct vmx_caps *c, uint64_t cr0, bool unrestricted_guest)
{
	return (cr0 | vmx_cr0_fixed0(c, unrestricted_guest)) & c->cr0_fixed1;
}

uint64_t vmx_fix_cr4(const struct vmx_caps *c, uint64_t cr4)
{
	return (cr4 | c->cr4_fixed0) & c->cr4_fixed1;
}

uint64_t vmx_cr0_host_owned(const struct vmx_caps *c, bool unrestricted_guest)
{
	/* CR0 is 64 bits but bits 63:32 are reserved: MOV to CR0 #GPs on them. */
	return (vmx_cr0_fixed0(c, unrestricted_guest) | ~c->cr0_fixed1) & 0xffffffffull;
}

uint64_t vmx_cr4_host_owned(const struct vmx_caps *c)
{
	return (c->cr4_fixed0 | ~c->cr4_fixed1 | CR4_HIDDEN_FROM_L1) & 0xffffffffull;
}

#define CPU2_EPT_VIOLATION_VE (1u << 18)
#define ENTRY_LOAD_BNDCFGS (1u << 16)
#define EXIT_CLEAR_BNDCFGS (1u << 23)

static bool feature_present(enum vmcs_feature feature, const struct vmx_caps *c)
{
	switch (feature) {
	case VMCS_FEAT_ALWAYS:
		return true;
	case VMCS_FEAT_VPID:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_ENABLE_VPID);
	case VMCS_FEAT_POSTED_INTR:
		return vmx_controls_allowed(c, VMX_CTL_PIN, PIN_POSTED_INTERRUPTS);
	case VMCS_FEAT_VE:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_EPT_VIOLATION_VE);
	case VMCS_FEAT_VINTR_DELIVERY:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_VIRTUAL_INTR_DELIVERY);
	case VMCS_FEAT_PML:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_ENABLE_PML);
	case VMCS_FEAT_TPR_SHADOW:
		return vmx_controls_allowed(c, VMX_CTL_PROC, CPU_USE_TPR_SHADOW);
	case VMCS_FEAT_APIC_ACCESS:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_VIRTUALIZE_APIC_ACCESSES);
	case VMCS_FEAT_VMFUNC:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_ENABLE_VMFUNC);
	case VMCS_FEAT_EPT:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_ENABLE_EPT);
	case VMCS_FEAT_SHADOWING:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_VMCS_SHADOWING);
	case VMCS_FEAT_XSAVES:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_ENABLE_XSAVES);
	case VMCS_FEAT_TSC_SCALING:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_TSC_SCALING);
	case VMCS_FEAT_PERF_GLOBAL_CTRL:
		return vmx_controls_allowed(c, VMX_CTL_ENTRY, ENTRY_LOAD_PERF_GLOBAL_CTRL) ||
		       vmx_controls_allowed(c, VMX_CTL_EXIT, EXIT_LOAD_PERF_GLOBAL_CTRL);
	case VMCS_FEAT_PAT:
		return vmx_controls_allowed(c, VMX_CTL_ENTRY, ENTRY_LOAD_IA32_PAT) ||
		       vmx_controls_allowed(c, VMX_CTL_EXIT, EXIT_SAVE_IA32_PAT) ||
		       vmx_controls_allowed(c, VMX_CTL_EXIT, EXIT_LOAD_IA32_PAT);
	case VMCS_FEAT_EFER:
		return vmx_controls_allowed(c, VMX_CTL_ENTRY, ENTRY_LOAD_IA32_EFER) ||
		       vmx_controls_allowed(c, VMX_CTL_EXIT, EXIT_SAVE_IA32_EFER) ||
		       vmx_controls_allowed(c, VMX_CTL_EXIT, EXIT_LOAD_IA32_EFER);
	case VMCS_FEAT_BNDCFGS:
		return vmx_controls_allowed(c, VMX_CTL_ENTRY, ENTRY_LOAD_BNDCFGS) ||
		       vmx_controls_allowed(c, VMX_CTL_EXIT, EXIT_CLEAR_BNDCFGS);
	case VMCS_FEAT_PREEMPTION_TIMER:
		return vmx_controls_allowed(c, VMX_CTL_PIN, PIN_PREEMPTION_TIMER);
	case VMCS_FEAT_PAUSE_LOOP:
		return vmx_controls_allowed(c, VMX_CTL_PROC2, CPU2_PAUSE_LOOP_EXITING);
	}
	return false;
}

bool vmcs_field_exists(const struct vmcs_field_info *f, const struct vmx_caps *c)
{
	return feature_present((enum vmcs_feature)f->feature, c);
}

uint32_t vmcs_features_present(const struct vmx_caps *c)
{
	uint32_t present = 0;
	for (unsigned feature = 0; feature <= VMCS_FEAT_PAUSE_LOOP; feature++)
		if (feature_present((enum vmcs_feature)feature, c))
			present |= 1u << feature;
	return present;
}
