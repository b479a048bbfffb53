/*
 * exit_insn.c - instructions L1 executes that exit to L0: CPUID, RDMSR,
 * WRMSR, MOV to CR0/CR4 (and CLTS/LMSW), XSETBV, INVD, GETSEC and the VMX
 * instructions.  Each either completes the instruction for L1 (and skips
 * it) or injects the exception the instruction would have raised.
 */
#include "exit.h"

#include "controls.h"
#include "cpuid_policy.h"
#include "drivers/serial/log.h"
#include "hw_ops.h"
#include "l0.h"
#include "msr_policy.h"
#include "nested/run.h"
#include "vmcs.h"

#define CR4_TLB_BITS ((1ull << 4) | (1ull << 5) | (1ull << 7) | (1ull << 17) | (1ull << 20))
#define CR0_TLB_BITS (CR0_PG | CR0_WP | CR0_PE | CR0_CD | CR0_NW)

/*
 * L1's current CR0/CR4: guest-owned bits from the register (L1 changes
 * them without exits, e.g. CR0.PG under unrestricted guest), L0-owned bits
 * from the read shadow.  The shadow alone would be stale.
 */
static uint64_t l1_cr0(void)
{
	uint64_t mask = vmcs_read(VMCS_CR0_GUEST_HOST_MASK);
	return (vmcs_read(VMCS_GUEST_CR0) & ~mask) | (vmcs_read(VMCS_CR0_READ_SHADOW) & mask);
}

static uint64_t l1_cr4(void)
{
	uint64_t mask = vmcs_read(VMCS_CR4_GUEST_HOST_MASK);
	return (vmcs_read(VMCS_GUEST_CR4) & ~mask) | (vmcs_read(VMCS_CR4_READ_SHADOW) & mask);
}

void exit_cpuid(struct vcpu *v, struct guest_regs *r)
{
	(void)v;
	uint32_t leaf = (uint32_t)r->gpr[GPR_RAX];
	uint32_t subleaf = (uint32_t)r->gpr[GPR_RCX];
	struct cpuid_regs c;
	hw_cpuid(leaf, subleaf, &c);
	cpuid_policy_apply(&g_l0.cpuid, l1_cr4(), leaf, subleaf, &c);
	r->gpr[GPR_RAX] = c.eax;
	r->gpr[GPR_RBX] = c.ebx;
	r->gpr[GPR_RCX] = c.ecx;
	r->gpr[GPR_RDX] = c.edx;
	vmx_skip_instruction();
}

bool vmx_msr_read_for_guest(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	return msr_guest_read(&g_l0.msr, v, msr, value);
}

bool vmx_msr_write_for_guest(struct vcpu *v, uint32_t msr, uint64_t value)
{
	return msr_guest_write(&g_l0.msr, v, msr, value);
}

/*
 * RDMSR and WRMSR exits: the MSR table (msr_policy.h) answers, or the
 * guest gets #GP(0).  The x2APIC ICR's INIT and SIPI are among its rows.
 */
void exit_rdmsr(struct vcpu *v, struct guest_regs *r)
{
	uint32_t msr = (uint32_t)r->gpr[GPR_RCX];
	uint64_t value = 0;
	if (!vmx_msr_read_for_guest(v, msr, &value)) {
		vmx_inject_gp0();
		return;
	}
	r->gpr[GPR_RAX] = (uint32_t)value;
	r->gpr[GPR_RDX] = value >> 32;
	vmx_skip_instruction();
}

void exit_wrmsr(struct vcpu *v, struct guest_regs *r)
{
	uint32_t msr = (uint32_t)r->gpr[GPR_RCX];
	uint64_t value = (r->gpr[GPR_RDX] << 32) | (uint32_t)r->gpr[GPR_RAX];
	if (!vmx_msr_write_for_guest(v, msr, value)) {
		vmx_inject_gp0();
		return;
	}
	vmx_skip_instruction();
}

static void flush_l1_tlb(void)
{
	/*
	 * A MOV to CR0/CR4 that L0 completes with VMWRITE does not flush the
	 * TLB the way the real instruction would (SDM Vol. 3A 4.10.4.1).
	 */
	if (g_l0.vpid)
		hw_invvpid_single(L1_VPID);
}

/*
 * MOV to CR0 (SDM Vol. 2 "MOV—Move to/from Control Registers", Vol. 3A
 * 2.5 and 4.1.2): #GP(0) for bits 63:32, PG without PE, NW without CD,
 * PG with EFER.LME but CR4.PAE clear, and clearing PG in 64-bit mode.
 * L1's view goes to the read shadow; the CPU gets it with the VMX-pinned bits.
 */
static bool l1_write_cr0(uint64_t value, bool vmx_operation)
{
	uint64_t old = l1_cr0();
	/* SDM Vol. 3C 24.8: in (its own) VMX operation L1 cannot clear a bit fixed to 1. */
	if (vmx_operation && (value & g_l0.l1_vmx.cr0_fixed0) != g_l0.l1_vmx.cr0_fixed0)
		return false;
	uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	bool pg_on = (value & CR0_PG) && !(old & CR0_PG);
	bool pg_off = !(value & CR0_PG) && (old & CR0_PG);
	if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) ||
	    ((value & CR0_NW) && !(value & CR0_CD)))
		return false;
	if (pg_on && (efer & EFER_LME) && !(l1_cr4() & CR4_PAE))
		return false;
	if (pg_off && vmx_guest_code_size() == X86_CODE64)
		return false;
	/* Turning paging on or off with EFER.LME set enters or leaves IA-32e mode. */
	if (pg_on && (efer & EFER_LME)) {
		vmcs_write(VMCS_GUEST_IA32_EFER, efer | EFER_LMA);
		vmcs_set_bits(VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	} else if (pg_off && (efer & EFER_LMA)) {
		vmcs_write(VMCS_GUEST_IA32_EFER, efer & ~EFER_LMA);
		vmcs_clear_bits(VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	}
	vmcs_write(VMCS_CR0_READ_SHADOW, value);
	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(&g_l0.caps, value, g_l0.unrestricted_guest));
	if ((value ^ old) & CR0_TLB_BITS)
		flush_l1_tlb();
	return true;
}

/*
 * MOV to CR4: #GP(0) for a bit the CPU does not allow in VMX operation
 * (FIXED1 clear), for VMXE when VMX is not offered to L1 (nested off), and
 * for clearing PAE in IA-32e mode (SDM Vol. 3A 4.1.2).  CR4.VMXE itself
 * stays set in the CPU; L1 sees its own VMXE in the shadow.
 */
static bool l1_write_cr4(uint64_t value, bool vmx_operation)
{
	uint64_t old = l1_cr4();
	/* SDM Vol. 3C 24.8: not CR4.VMXE while L1 is in VMX operation (after its VMXON). */
	if (vmx_operation && !(value & CR4_VMXE))
		return false;
	if (value & ~g_l0.caps.cr4_fixed1 & ~CR4_VMXE)
		return false;
	if ((value & CR4_VMXE) && !g_l0.cpuid.nested)
		return false;
	if (!(value & CR4_PAE) && (vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA))
		return false;
	vmcs_write(VMCS_CR4_READ_SHADOW, value);
	vmcs_write(VMCS_GUEST_CR4, vmx_fix_cr4(&g_l0.caps, value));
	if ((value ^ old) & CR4_TLB_BITS)
		flush_l1_tlb();
	return true;
}

void exit_cr_access(struct vcpu *v, struct guest_regs *r)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	unsigned cr = CR_QUAL_NUMBER(q);
	bool ok = true;
	bool vmx_op = v->nested && v->nested->cpu.vmxon;
	switch (CR_QUAL_ACCESS(q)) {
	case CR_ACCESS_MOV_TO_CR: {
		uint64_t value = vmx_gpr_read(r, CR_QUAL_GPR(q));
		if (cr == 0)
			ok = l1_write_cr0(value, vmx_op);
		else if (cr == 4)
			ok = l1_write_cr4(value, vmx_op);
		else
			goto unexpected;
		break;
	}
	case CR_ACCESS_CLTS:
		ok = l1_write_cr0(l1_cr0() & ~CR0_TS, vmx_op);
		break;
	case CR_ACCESS_LMSW: {
		/* LMSW loads CR0[3:0] but cannot clear PE (SDM Vol. 2 "LMSW"). */
		uint64_t old = l1_cr0();
		uint64_t src = CR_QUAL_LMSW_SOURCE(q) & 0xf;
		ok = l1_write_cr0((old & ~0xeull) | src | (old & CR0_PE), vmx_op);
		break;
	}
	default:
		goto unexpected;
	}
	if (ok)
		vmx_skip_instruction();
	else
		vmx_inject_gp0();
	return;
unexpected:
	log_error("CPU %u: unexpected control-register exit, qualification 0x%llx", v->index,
		  (unsigned long long)q);
	vmx_halt_cpu(v, "unexpected CR access exit");
}

/* XSETBV always exits (SDM Vol. 3C 26.1.2); #GP(0) if the CPU refuses the value. */
void exit_xsetbv(struct vcpu *v, struct guest_regs *r)
{
	(void)v;
	uint32_t xcr = (uint32_t)r->gpr[GPR_RCX];
	uint64_t value = (r->gpr[GPR_RDX] << 32) | (uint32_t)r->gpr[GPR_RAX];
	if (hw_xsetbv_safe(xcr, value))
		vmx_skip_instruction();
	else
		vmx_inject_gp0();
}

/*
 * INVD always exits.  Throwing away caches L0 has written through would
 * lose L0's data, so L0 performs WBINVD instead: for L1 the only
 * difference is that dirty lines reach memory (docs/l0.md).
 */
void exit_invd(struct vcpu *v, struct guest_regs *r)
{
	(void)v;
	(void)r;
	hw_wbinvd();
	vmx_skip_instruction();
}

/* GETSEC exits when CR4.SMXE=1; SMX is not offered to L1 (CPUID.1:ECX.SMX=0). */
void exit_getsec(struct vcpu *v, struct guest_regs *r)
{
	(void)v;
	(void)r;
	vmx_inject_ud();
}

/*
 * The VMX instructions always exit from VMX non-root.  With nested = on
 * nested/ emulates them for L1 (nested/run.h); with nested = off they
 * raise #UD, as on a CPU without VMX.
 */
void exit_vmx_instruction(struct vcpu *v, struct guest_regs *r)
{
	if (!v->nested) {
		vmx_inject_ud(); /* nested = off: L1 has no VMX (CPUID.1:ECX.VMX = 0) */
		return;
	}
	uint32_t reason = (uint32_t)vmcs_read(VMCS_VM_EXIT_REASON) & EXIT_REASON_BASIC_MASK;
	nested_vmx_instruction(v, r, reason);
}
