/*
 * hw_ops.c - the privileged operations exit handlers perform for L1,
 * executed in VMX root (see hw_ops.h).
 */
#include "hw_ops.h"

#include "l0.h"
#include "vmx_arch.h"
#include "vmx_insn.h"

bool safe_rdmsr(uint32_t msr, uint64_t *value);
bool safe_wrmsr(uint32_t msr, uint64_t value);
bool safe_xsetbv(uint32_t xcr, uint64_t value);

bool hw_rdmsr_safe(uint32_t msr, uint64_t *value)
{
	return safe_rdmsr(msr, value);
}

bool hw_wrmsr_safe(uint32_t msr, uint64_t value)
{
	return safe_wrmsr(msr, value);
}

bool hw_xsetbv_safe(uint32_t xcr, uint64_t value)
{
	return safe_xsetbv(xcr, value);
}

void hw_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
	cpuid_count(leaf, subleaf, r);
}

void hw_wbinvd(void)
{
	__asm__ volatile("wbinvd" : : : "memory");
}

void hw_invvpid_single(uint16_t vpid)
{
	uint64_t cap = g_l0.caps.ept_vpid_cap;
	if (cap & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE_CONTEXT, vpid, 0);
	else if (cap & VPID_CAP_INVVPID_ALL)
		invvpid(INVVPID_ALL_CONTEXT, 0, 0);
}

void hw_set_cr2(uint64_t value)
{
	__asm__ volatile("mov %0, %%cr2" : : "r"(value));
}
