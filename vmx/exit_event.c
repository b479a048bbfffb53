/*
 * exit_event.c - exits that are events rather than instructions: INIT and
 * SIPI (how an OS starts its APplication processors under L0), L1's triple
 * fault, and EPT violations and misconfigurations.
 */
#include "exit.h"

#include "ap_start.h"
#include "apic_access.h"
#include "mmio_absent.h"
#include "arch/x86/cpu.h"
#include "controls.h"
#include "drivers/serial/log.h"
#include "hw_ops.h"
#include "init_signal.h"
#include "l0.h"
#include "vmcs.h"
#include "vmcs_dump.h"
#include "vmx_arch.h"

#define REAL_MODE_LIMIT 0xffff
#define AR_CODE_REAL 0x9b /* P, S, type 11: execute/read, accessed */
#define AR_DATA_REAL 0x93 /* P, S, type 3: read/write, accessed */
#define AR_TSS_BUSY_16 0x8b
#define AR_LDT 0x82
#define CR0_AFTER_INIT 0x60000010ull /* CD, NW, ET (SDM Vol. 3A table 10-1) */
#define DR7_AFTER_INIT 0x400ull
#define PAT_AFTER_INIT 0x0007040600070406ull

static void set_segment(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t ar)
{
	/* Selector, base, limit and AR fields sit at fixed strides from the selector's. */
	uint32_t index = (sel_field - VMCS_GUEST_ES_SELECTOR) / 2;
	vmcs_write(sel_field, sel);
	vmcs_write(VMCS_GUEST_ES_BASE + 2 * index, base);
	vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * index, REAL_MODE_LIMIT);
	vmcs_write(VMCS_GUEST_ES_AR_BYTES + 2 * index, ar);
}

/*
 * The processor state after INIT (SDM Vol. 3A 10.1.1, table 10-1), then
 * started at cs:ip: the SIPI vector for an AP, the reset vector for the BSP.
 * Real mode runs natively thanks to unrestricted guest.
 */
void vmx_enter_init_state(struct guest_regs *r, uint16_t cs, uint64_t cs_base, uint64_t rip)
{
	for (unsigned i = 0; i < GPR_COUNT; i++)
		r->gpr[i] = 0;
	struct cpuid_regs c;
	hw_cpuid(1, 0, &c);
	r->gpr[GPR_RDX] = c.eax; /* EDX = processor signature after INIT */

	vmcs_write(VMCS_CR0_READ_SHADOW, CR0_AFTER_INIT);
	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(&g_l0.caps, CR0_AFTER_INIT, true));
	vmcs_write(VMCS_CR4_READ_SHADOW, 0);
	vmcs_write(VMCS_GUEST_CR4, vmx_fix_cr4(&g_l0.caps, 0));
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_GUEST_IA32_EFER, 0);
	vmcs_clear_bits(VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	vmcs_write(VMCS_GUEST_IA32_PAT, PAT_AFTER_INIT);
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_DR7, DR7_AFTER_INIT);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);

	set_segment(VMCS_GUEST_CS_SELECTOR, cs, cs_base, AR_CODE_REAL);
	set_segment(VMCS_GUEST_DS_SELECTOR, 0, 0, AR_DATA_REAL);
	set_segment(VMCS_GUEST_ES_SELECTOR, 0, 0, AR_DATA_REAL);
	set_segment(VMCS_GUEST_FS_SELECTOR, 0, 0, AR_DATA_REAL);
	set_segment(VMCS_GUEST_GS_SELECTOR, 0, 0, AR_DATA_REAL);
	set_segment(VMCS_GUEST_SS_SELECTOR, 0, 0, AR_DATA_REAL);
	set_segment(VMCS_GUEST_LDTR_SELECTOR, 0, 0, AR_LDT);
	set_segment(VMCS_GUEST_TR_SELECTOR, 0, 0, AR_TSS_BUSY_16);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, REAL_MODE_LIMIT);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, REAL_MODE_LIMIT);

	vmcs_write(VMCS_GUEST_RSP, 0);
	vmcs_write(VMCS_GUEST_RIP, rip);
	vmcs_write(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	if (g_l0.vpid)
		hw_invvpid_single(L1_VPID); /* INIT flushes the TLBs */
}

/*
 * INIT in VMX non-root always exits (SDM Vol. 3C 26.2).  An AP goes to
 * wait-for-SIPI, as INIT would put it; the BSP restarts at the reset vector.
 */
void exit_init(struct vcpu *v, struct guest_regs *r)
{
	/* SDM Vol. 3C 24.8: blocked while L1 is in VMX root operation: held. */
	if (l1_in_vmx_root(v)) {
		log_info("CPU %u: INIT held: L1 is in VMX root operation (SDM 24.8)", v->index);
		v->init_latched = true;
		return;
	}
	vmx_take_init(v, r);
}

void vmx_take_init(struct vcpu *v, struct guest_regs *r)
{
	v->nmi_pending = false;
	if (v->index == 0) {
		log_warn("CPU 0: INIT on the bootstrap processor: L1 restarts at the reset vector");
		vmx_enter_init_state(r, 0xf000, 0xffff0000ull, 0xfff0);
		vmcs_write(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
		return;
	}
	/*
	 * An INIT that exits again right after the SIPI, before the AP ran a
	 * single instruction (the SIPI exit was the previous exit, RIP is still
	 * 0), is no INIT the OS sent: it is an emulator keeping the first INIT
	 * pending across its INIT VM exit (Bochs 2.7 does; docs/l0.md).  L0
	 * cannot clear it; say so once instead of failing silently.
	 */
	if (v->sipi_exit && v->exits_total == v->sipi_exit + 1 && vmcs_read(VMCS_GUEST_RIP) == 0 &&
	    !v->init_quirk_reported) {
		v->init_quirk_reported = true;
		log_warn("CPU %u: INIT exit again before the AP executed anything after its SIPI: "
			 "the CPU kept the INIT pending (a known Bochs 2.7 VMX bug, not seen on "
			 "hardware); this AP cannot be restarted under L0 here",
			 v->index);
	}
	/*
	 * The AP is in the INIT state until a SIPI gives it a start address:
	 * load that state now, so the VMCS holds a consistent guest (SDM 27.3.1
	 * checks apply in wait-for-SIPI too) whatever the AP was doing.
	 */
	log_debug("CPU %u: INIT: waiting for SIPI", v->index);
	vmx_enter_init_state(r, 0, 0, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_WAIT_SIPI);
	v->start.hw_wait_sipi = true; /* a SIPI must now come from the hardware */
}

/* SIPI exits only in wait-for-SIPI; the qualification is the vector (table 28-1). */
void exit_sipi(struct vcpu *v, struct guest_regs *r)
{
	uint8_t vector = (uint8_t)vmcs_read(VMCS_EXIT_QUALIFICATION);
	log_debug("CPU %u: SIPI vector 0x%x: starting at 0x%x in real mode", v->index, vector,
		  vector << 12);
	vmx_enter_init_state(r, (uint16_t)(vector << 8), (uint64_t)vector << 12, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	v->sipi_exit = v->exits_total;
	v->start.hw_wait_sipi = false;
}

static void dump_l1(struct vcpu *v, const struct guest_regs *r)
{
	static const char *const names[GPR_COUNT] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
						      "rsi", "rdi", "r8",  "r9",  "r10", "r11",
						      "r12", "r13", "r14", "r15" };
	for (unsigned i = 0; i < GPR_COUNT; i += 4)
		log_error("CPU %u:   %-3s=%016llx %-3s=%016llx %-3s=%016llx %-3s=%016llx", v->index,
			  names[i], (unsigned long long)vmx_gpr_read(r, i), names[i + 1],
			  (unsigned long long)vmx_gpr_read(r, i + 1), names[i + 2],
			  (unsigned long long)vmx_gpr_read(r, i + 2), names[i + 3],
			  (unsigned long long)vmx_gpr_read(r, i + 3));
	vmcs_dump(LOG_ERROR, VMCS_DUMP_GUEST);
}

static void platform_reset(void)
{
	outb(0xcf9, 0x02); /* PCI reset control register: hard reset */
	outb(0xcf9, 0x06);
	outb(0x64, 0xfe); /* 8042 keyboard controller: pulse reset */
}

/* L1 shut down (SDM Vol. 3C 26.2: triple fault exits).  hv.cfg on_triple_fault. */
void exit_triple_fault(struct vcpu *v, struct guest_regs *r)
{
	log_error("CPU %u: L1 triple fault at RIP 0x%llx; L1 state:", v->index,
		  (unsigned long long)vmcs_read(VMCS_GUEST_RIP));
	dump_l1(v, r);
	if (!g_l0.halt_on_triple_fault) {
		log_error("CPU %u: resetting the machine (on_triple_fault = reset)", v->index);
		platform_reset();
	}
	vmx_halt_cpu(v, "L1 triple fault (on_triple_fault = halt)");
}

static bool in_l0_memory(uint64_t gpa)
{
	return gpa >= g_l0.hv_base && gpa - g_l0.hv_base < g_l0.hv_size;
}

/* The registers of a VT-d unit L0 owns (core/iommu.h): unmapped in EPT01. */
static bool in_vtd_regs(uint64_t gpa)
{
	for (unsigned i = 0; i < g_l0.nvtd_regs && i < L0_MAX_VTD_UNITS; i++)
		if (gpa >= g_l0.vtd_regs[i].base && gpa - g_l0.vtd_regs[i].base < g_l0.vtd_regs[i].size)
			return true;
	return false;
}

/*
 * EPT01 maps everything but L0's own memory, and the local-APIC page
 * read-only.  A store to that page is finished by L0 (apic_access.c).
 * Any other EPT violation is L1 touching L0 (or an address beyond the
 * mapped top).  L0 refuses it: the access does not happen and L1 gets
 * #GP(0) at the faulting instruction (docs/l0.md).  The first refusals of
 * each CPU are logged one by one.
 */
/*
 * Whether an EPT violation is an instruction's own data access, the only
 * kind L0 decodes and finishes: not one made while delivering an event
 * (IDT-vectoring information valid: a stack frame pushed), nor a
 * paging-structure access of the page walk or its A/D update (linear
 * address valid, "access to the translated address" clear; SDM Vol. 3C
 * table 28-7).
 */
static bool instruction_data_access(uint64_t q)
{
	if (vmcs_read(VMCS_IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID)
		return false;
	return !((q & EPT_QUAL_LINEAR_VALID) && !(q & EPT_QUAL_LINEAR_ACCESS));
}

bool vmx_count_refusal(struct vcpu *v)
{
	v->l0_refusals++;
	return v->l0_refusals <= 16 || (v->l0_refusals & 1023) == 0;
}

void vmx_refuse_ept_access(uint64_t q)
{
	/*
	 * SDM Vol. 3C 28.2.3: if the faulting access was an IRET that had
	 * unblocked NMIs, blocking must be restored, since the IRET does not
	 * complete.  (An event that was being delivered when the access
	 * faulted is not re-injected: the #GP replaces it.)
	 */
	if ((q & EPT_QUAL_NMI_UNBLOCKED_BY_IRET) && (g_l0.pin & PIN_VIRTUAL_NMIS) &&
	    !(vmcs_read(VMCS_IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID))
		vmcs_set_bits(VMCS_GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_NMI);
	vmx_inject_gp0();
}

void exit_ept_violation(struct vcpu *v, struct guest_regs *r)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	uint64_t gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	bool apic_page = g_l0.apic_page && (gpa & ~(PAGE_SIZE - 1)) == g_l0.apic_page;
	if (apic_page && (q & (EPT_QUAL_WRITE | EPT_QUAL_FETCH)) == EPT_QUAL_WRITE &&
	    instruction_data_access(q)) {
		apic_access_write(v, r, gpa, l0_l1_memory());
		return;
	}
	/* A VT-d unit's registers are MMIO that is not there for L1 (mmio_absent.h). */
	if (!apic_page && !(q & EPT_QUAL_FETCH) && in_vtd_regs(gpa) && instruction_data_access(q) &&
	    mmio_absent_access(v, r, gpa, l0_l1_memory()))
		return;
	const char *what = (q & EPT_QUAL_WRITE) ? "write" : (q & EPT_QUAL_FETCH) ? "fetch" : "read";
	/*
	 * A write to the APIC page that no instruction made (L1's stack or
	 * page tables on it) has no MOV at RIP to finish: refused like L0's
	 * memory, never decoded.
	 */
	const char *where = !apic_page		  ? (in_l0_memory(gpa)	 ? "is L0 memory"
						     : in_vtd_regs(gpa) ? "is a VT-d unit's registers (L0's)"
									: "is not mapped")
			    : (q & EPT_QUAL_WRITE) ? "is the local APIC page, written by no instruction"
						   : "is the local APIC page";
	if (vmx_count_refusal(v))
		log_warn("CPU %u: L1 %s at GPA 0x%llx (RIP 0x%llx) %s: refused, #GP(0) to L1 "
			 "(refusal %llu)",
			 v->index, what, (unsigned long long)gpa,
			 (unsigned long long)vmcs_read(VMCS_GUEST_RIP), where,
			 (unsigned long long)v->l0_refusals);
	vmx_refuse_ept_access(q);
}

/* A misconfigured EPT entry is an L0 bug (SDM Vol. 3C 29.3.3.1). */
void exit_ept_misconfig(struct vcpu *v, struct guest_regs *r)
{
	(void)r;
	log_error("CPU %u: EPT misconfiguration at GPA 0x%llx", v->index,
		  (unsigned long long)vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS));
	vmcs_dump(LOG_ERROR, VMCS_DUMP_ALL);
	vmx_halt_cpu(v, "EPT misconfiguration");
}
