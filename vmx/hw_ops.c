/*
 * hw_ops.c - the privileged operations exit handlers perform for L1,
 * executed in VMX root (see hw_ops.h).
 */
#include "hw_ops.h"

#include "ap_start.h"
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "l0.h"
#include "vmx_arch.h"
#include "vmx_insn.h"
#include "drivers/serial/log.h"

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
	wbinvd();
}

uint64_t hw_rdtsc(void)
{
	return rdtsc();
}

void hw_vmclear(uint64_t pa)
{
	if (vmclear(pa) != VMX_SUCCEED) {
		log_error("VMCLEAR of L0's VMCS at 0x%llx failed", (unsigned long long)pa);
		cpu_halt_forever();
	}
}

void hw_vmptrld(uint64_t pa)
{
	if (vmptrld(pa) != VMX_SUCCEED) {
		log_error("VMPTRLD of L0's VMCS at 0x%llx failed", (unsigned long long)pa);
		cpu_halt_forever();
	}
}

void hw_invvpid_single(uint16_t vpid)
{
	uint64_t cap = g_l0.caps.ept_vpid_cap;
	if (cap & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE_CONTEXT, vpid, 0);
	else if (cap & VPID_CAP_INVVPID_ALL)
		invvpid(INVVPID_ALL_CONTEXT, 0, 0);
}

bool hw_invept_single(uint64_t eptp)
{
	uint64_t cap = g_l0.caps.ept_vpid_cap;
	if (!(cap & EPT_CAP_INVEPT))
		return false;
	if (cap & EPT_CAP_INVEPT_SINGLE)
		return invept(INVEPT_SINGLE_CONTEXT, eptp) == VMX_SUCCEED;
	if (cap & EPT_CAP_INVEPT_ALL)
		return invept(INVEPT_ALL_CONTEXT, 0) == VMX_SUCCEED;
	return false;
}

void hw_set_cr2(uint64_t value)
{
	__asm__ volatile("mov %0, %%cr2" : : "r"(value));
}

uint64_t hw_get_cr2(void)
{
	return read_cr2();
}

static volatile uint32_t *xapic_reg(uint64_t base, unsigned offset)
{
	return (volatile uint32_t *)(uintptr_t)(base + offset);
}

/* SDM Vol. 3A 11.6.1: a new IPI only once the last one left (delivery status idle). */
static void xapic_wait_idle(uint64_t base)
{
	for (unsigned i = 0; i < (1u << 20) && (*xapic_reg(base, XAPIC_ICR_LOW) & ICR_DELIVERY_PENDING);
	     i++)
		cpu_pause();
}

void hw_send_ipi(uint64_t apic_base, uint32_t apic_id, uint32_t icr_low)
{
	if (!(apic_base & APIC_BASE_ENABLE)) {
		log_error("IPI 0x%x to APIC ID %u not sent: L1 disabled this CPU's local APIC",
			  icr_low, apic_id);
		return;
	}
	icr_low &= ~(ICR_SHORTHAND_MASK | ICR_DEST_LOGICAL | ICR_DELIVERY_PENDING);
	if (apic_base & APIC_BASE_X2APIC) {
		wrmsr(MSR_X2APIC_ICR, ((uint64_t)apic_id << 32) | icr_low);
		return;
	}
	uint64_t base = apic_base & APIC_BASE_ADDR_MASK;
	xapic_wait_idle(base);
	uint32_t high = *xapic_reg(base, XAPIC_ICR_HIGH);
	*xapic_reg(base, XAPIC_ICR_HIGH) = apic_id << XAPIC_DEST_SHIFT;
	*xapic_reg(base, XAPIC_ICR_LOW) = icr_low;
	xapic_wait_idle(base);
	*xapic_reg(base, XAPIC_ICR_HIGH) = high;
}

void hw_mmio_write(uint64_t pa, unsigned width, uint64_t value)
{
	switch (width) {
	case 1:
		*(volatile uint8_t *)(uintptr_t)pa = (uint8_t)value;
		break;
	case 2:
		*(volatile uint16_t *)(uintptr_t)pa = (uint16_t)value;
		break;
	case 4:
		*(volatile uint32_t *)(uintptr_t)pa = (uint32_t)value;
		break;
	default:
		*(volatile uint64_t *)(uintptr_t)pa = value;
		break;
	}
}

uint32_t hw_mmio_read32(uint64_t pa)
{
	return *(volatile uint32_t *)(uintptr_t)pa;
}

void hw_unblock_nmi(void)
{
	__asm__ volatile("mov %%ss, %%ecx\n\t"
			 "mov %%rsp, %%rax\n\t"
			 "push %%rcx\n\t"
			 "push %%rax\n\t"
			 "pushfq\n\t"
			 "mov %%cs, %%ecx\n\t"
			 "push %%rcx\n\t"
			 "lea 1f(%%rip), %%rax\n\t"
			 "push %%rax\n\t"
			 "iretq\n"
			 "1:"
			 :
			 :
			 : "rax", "rcx", "memory", "cc");
}
