/*
 * caps.c - VT-x availability decision and the capability-MSR summary that
 * the loader prints at boot, so a user sees at once what the CPU offers.
 */
#include "caps.h"

#include "arch/x86/msr.h"
#include "drivers/serial/log.h"
#include "vmx_arch.h"

enum vmx_avail vmx_availability(uint32_t cpuid1_ecx, uint64_t feature_control)
{
	if (!(cpuid1_ecx & CPUID_1_ECX_VMX))
		return VMX_NO_CPU_SUPPORT;
	if (!(feature_control & FEATURE_CONTROL_LOCK))
		return VMX_NEEDS_ENABLE;
	if (!(feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return VMX_LOCKED_OFF;
	return VMX_AVAILABLE;
}

struct vmx_enable vmx_enable_feature_control(uint32_t cpuid1_ecx, uint64_t (*rd)(uint32_t msr),
					     void (*wr)(uint32_t msr, uint64_t value))
{
	struct vmx_enable e = { vmx_availability(cpuid1_ecx, 0), 0, 0, false };
	if (e.avail == VMX_NO_CPU_SUPPORT)
		return e;
	e.before = e.after = rd(MSR_IA32_FEATURE_CONTROL);
	e.avail = vmx_availability(cpuid1_ecx, e.before);
	if (e.avail == VMX_NEEDS_ENABLE) {
		wr(MSR_IA32_FEATURE_CONTROL,
		   e.before | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCK);
		e.wrote = true;
		e.after = rd(MSR_IA32_FEATURE_CONTROL);
		e.avail = vmx_availability(cpuid1_ecx, e.after);
	}
	return e;
}

const char *vmx_avail_reason(enum vmx_avail a)
{
	switch (a) {
	case VMX_NO_CPU_SUPPORT:
		return "CPUID.1:ECX.VMX[bit 5] is 0 (this CPU, or the emulator, offers no VMX)";
	case VMX_LOCKED_OFF:
		return "IA32_FEATURE_CONTROL is locked with VMX outside SMX disabled "
		       "(enable Intel VT-x in the firmware setup)";
	case VMX_NEEDS_ENABLE:
		return "IA32_FEATURE_CONTROL is unlocked (VMX not yet enabled)";
	case VMX_AVAILABLE:
		return "available";
	}
	return "?";
}

/* Allowed-1 settings are the high 32 bits of a control MSR (SDM Vol. 3D A.3). */
static uint32_t allowed1(uint64_t msr)
{
	return (uint32_t)(msr >> 32);
}

bool vmx_caps_secondary_allowed(const struct vmx_caps *c, uint32_t cpu2_bit)
{
	return c->has_procbased2 && (allowed1(c->procbased2) & cpu2_bit);
}

bool vmx_caps_pin_allowed(const struct vmx_caps *c, uint32_t pin_bit)
{
	uint64_t pin = c->has_true ? c->true_pinbased : c->pinbased;
	return allowed1(pin) & pin_bit;
}

uint32_t vmx_caps_revision(const struct vmx_caps *c)
{
	return (uint32_t)(c->basic & VMX_BASIC_REVISION_MASK);
}

uint32_t vmx_caps_vmcs_size(const struct vmx_caps *c)
{
	return (uint32_t)((c->basic >> VMX_BASIC_VMCS_SIZE_SHIFT) & VMX_BASIC_VMCS_SIZE_MASK);
}

void vmx_caps_read(struct vmx_caps *c, uint64_t (*rd)(uint32_t msr))
{
	*c = (struct vmx_caps){ 0 };
	c->basic = rd(MSR_IA32_VMX_BASIC);
	c->pinbased = rd(MSR_IA32_VMX_PINBASED_CTLS);
	c->procbased = rd(MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = rd(MSR_IA32_VMX_EXIT_CTLS);
	c->entry = rd(MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rd(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rd(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rd(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rd(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rd(MSR_IA32_VMX_CR4_FIXED1);
	c->vmcs_enum = rd(MSR_IA32_VMX_VMCS_ENUM);

	if (allowed1(c->procbased) & CPU_ACTIVATE_SECONDARY) {
		c->has_procbased2 = 1;
		c->procbased2 = rd(MSR_IA32_VMX_PROCBASED_CTLS2);
	}
	if (vmx_caps_secondary_allowed(c, CPU2_ENABLE_EPT | CPU2_ENABLE_VPID)) {
		c->has_ept_vpid_cap = 1;
		c->ept_vpid_cap = rd(MSR_IA32_VMX_EPT_VPID_CAP);
	}
	if (vmx_caps_secondary_allowed(c, CPU2_ENABLE_VMFUNC)) {
		c->has_vmfunc = 1;
		c->vmfunc = rd(MSR_IA32_VMX_VMFUNC);
	}
	if (c->basic & VMX_BASIC_TRUE_CTLS) {
		c->has_true = 1;
		c->true_pinbased = rd(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		c->true_procbased = rd(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		c->true_exit = rd(MSR_IA32_VMX_TRUE_EXIT_CTLS);
		c->true_entry = rd(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

static const char *memtype_name(unsigned t)
{
	switch (t) {
	case VMX_MEMTYPE_UC:
		return "UC";
	case VMX_MEMTYPE_WB:
		return "WB";
	}
	return "reserved";
}

void vmx_caps_print(const struct vmx_caps *c)
{
	unsigned memtype = (unsigned)((c->basic >> VMX_BASIC_MEMTYPE_SHIFT) & VMX_BASIC_MEMTYPE_MASK);
	uint64_t ept = c->has_ept_vpid_cap ? c->ept_vpid_cap : 0;
	bool has_ept = vmx_caps_secondary_allowed(c, CPU2_ENABLE_EPT);
	bool has_vpid = vmx_caps_secondary_allowed(c, CPU2_ENABLE_VPID);

	log_info("VMX: revision id 0x%x, VMCS size %u bytes, VMCS memory type %s, TRUE controls %s",
		 vmx_caps_revision(c), vmx_caps_vmcs_size(c), memtype_name(memtype),
		 yn(c->has_true));
	log_info("VMX: EPT %s, VPID %s, unrestricted guest %s, VMCS shadowing %s", yn(has_ept),
		 yn(has_vpid), yn(vmx_caps_secondary_allowed(c, CPU2_UNRESTRICTED_GUEST)),
		 yn(vmx_caps_secondary_allowed(c, CPU2_VMCS_SHADOWING)));
	log_info("VMX: preemption timer %s, posted interrupts %s, PML %s, VMFUNC %s",
		 yn(vmx_caps_pin_allowed(c, PIN_PREEMPTION_TIMER)),
		 yn(vmx_caps_pin_allowed(c, PIN_POSTED_INTERRUPTS)),
		 yn(vmx_caps_secondary_allowed(c, CPU2_ENABLE_PML)),
		 yn(vmx_caps_secondary_allowed(c, CPU2_ENABLE_VMFUNC)));
	if (has_ept)
		log_info("VMX: EPT caps: execute-only %s, 4-level %s, 5-level %s, UC %s, WB %s, "
			 "2M %s, 1G %s, A/D %s, INVEPT single %s all %s",
			 yn(ept & EPT_CAP_EXECUTE_ONLY), yn(ept & EPT_CAP_WALK_4),
			 yn(ept & EPT_CAP_WALK_5), yn(ept & EPT_CAP_MEMTYPE_UC),
			 yn(ept & EPT_CAP_MEMTYPE_WB), yn(ept & EPT_CAP_PAGE_2M),
			 yn(ept & EPT_CAP_PAGE_1G), yn(ept & EPT_CAP_ACCESSED_DIRTY),
			 yn((ept & EPT_CAP_INVEPT) && (ept & EPT_CAP_INVEPT_SINGLE)),
			 yn((ept & EPT_CAP_INVEPT) && (ept & EPT_CAP_INVEPT_ALL)));
	if (has_vpid)
		log_info("VMX: VPID caps: INVVPID %s, address %s, single %s, all %s, "
			 "single-keep-globals %s",
			 yn(ept & VPID_CAP_INVVPID), yn(ept & VPID_CAP_INVVPID_ADDRESS),
			 yn(ept & VPID_CAP_INVVPID_SINGLE), yn(ept & VPID_CAP_INVVPID_ALL),
			 yn(ept & VPID_CAP_INVVPID_SINGLE_GLOBALS));
	log_info("VMX MSRs: BASIC=0x%016llx PIN=0x%016llx PROC=0x%016llx",
		 (unsigned long long)c->basic, (unsigned long long)c->pinbased,
		 (unsigned long long)c->procbased);
	log_info("VMX MSRs: EXIT=0x%016llx ENTRY=0x%016llx MISC=0x%016llx",
		 (unsigned long long)c->exit, (unsigned long long)c->entry,
		 (unsigned long long)c->misc);
	log_info("VMX MSRs: CR0_FIXED0/1=0x%llx/0x%llx CR4_FIXED0/1=0x%llx/0x%llx VMCS_ENUM=0x%llx",
		 (unsigned long long)c->cr0_fixed0, (unsigned long long)c->cr0_fixed1,
		 (unsigned long long)c->cr4_fixed0, (unsigned long long)c->cr4_fixed1,
		 (unsigned long long)c->vmcs_enum);
	log_info("VMX MSRs: PROC2=0x%016llx EPT_VPID_CAP=0x%016llx VMFUNC=0x%llx",
		 (unsigned long long)c->procbased2, (unsigned long long)c->ept_vpid_cap,
		 (unsigned long long)c->vmfunc);
	if (c->has_true)
		log_info("VMX MSRs: TRUE_PIN=0x%016llx TRUE_PROC=0x%016llx TRUE_EXIT=0x%016llx "
			 "TRUE_ENTRY=0x%016llx",
			 (unsigned long long)c->true_pinbased, (unsigned long long)c->true_procbased,
			 (unsigned long long)c->true_exit, (unsigned long long)c->true_entry);
}
