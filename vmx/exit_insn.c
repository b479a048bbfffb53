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
#include "l1_memory.h"
#include "msr_policy.h"
#include "nested/run.h"
#include "vmcs.h"
#include "vmx_arch.h"

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
 * CR0's defined bits (SDM Vol. 3A 2.5, figure 2-7).  MOV to CR0 ignores an
 * attempt to set the others in bits 31:0 (SDM Vol. 2 "MOV to CR").
 */
#define CR0_EM (1ull << 2)
#define CR0_AM (1ull << 18)
#define CR0_DEFINED                                                                                \
	(CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | \
	 CR0_PG)
#define CR4_PGE (1ull << 7)
/* What a MOV to CR0/CR4 changes to reload the PDPTEs under PAE paging (SDM Vol. 3A 4.4.1). */
#define CR0_PDPTE_BITS (CR0_PG | CR0_CD | CR0_NW)
#define CR4_PDPTE_BITS (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)
#define CR3_PCID_MASK 0xfffull

/*
 * Which MOVs exit (SDM Vol. 3C 26.1.3): those that change a bit of
 * g_l0.cr0_mask / cr4_mask (vmx/controls.h) from its read shadow: the
 * VMX-fixed bits (CR0.NE, and PE and PG without unrestricted guest;
 * CR4.VMXE) and the bits the CPU does not support.  A MOV that changes
 * only guest-owned bits never reaches L0, and the CPU makes its own
 * checks on it: clearing CR0.WP alone while CR4.CET = 1, setting CR4.PCIDE
 * alone outside IA-32e mode, a bad PDPTE after setting CR0.PG alone are
 * the CPU's own #GP.  A MOV that changes an owned bit exits before any of
 * those checks (26.1.1: they are not among the faults that take priority
 * over the exit), and L0 writes the whole value into vmcs01: so L0 makes
 * every check below, for every bit, CLTS and LMSW included.
 */

/*
 * SDM Vol. 3A 4.4.1: a MOV to CR0/CR4 after which PAE paging is in use
 * (CR0.PG = 1, CR4.PAE = 1, IA-32e mode off) and that changes one of the
 * *_PDPTE_BITS loads the four PDPTEs from the table at CR3[31:5]; one that
 * is present with a reserved bit set makes the MOV #GP(0) (SDM Vol. 2
 * "MOV to CR").  A table L0 cannot read for L1 (outside what EPT01 grants
 * it) is refused the same way.
 */
static bool load_pdptes(uint64_t pdpte[4])
{
	const struct l1_memory *mem = l0_l1_memory();
	struct guest_paging g = {.cr3 = vmcs_read(VMCS_GUEST_CR3),
				 .maxphyaddr = mem->maxphyaddr,
				 .read_gpa = mem->read,
				 .ctx = mem->ctx};
	return guest_load_pae_pdptes(&g, pdpte, NULL) == PAE_PDPTES_OK;
}

/*
 * With EPT, VM entry takes PAE paging's PDPTEs from the guest-state fields
 * (SDM Vol. 3C 27.3.2.4), not from memory: the MOV's load goes there.
 */
static void commit_pdptes(const uint64_t pdpte[4])
{
	if (!(g_l0.proc2 & CPU2_ENABLE_EPT))
		return;
	vmcs_write(VMCS_GUEST_PDPTE0, pdpte[0]);
	vmcs_write(VMCS_GUEST_PDPTE1, pdpte[1]);
	vmcs_write(VMCS_GUEST_PDPTE2, pdpte[2]);
	vmcs_write(VMCS_GUEST_PDPTE3, pdpte[3]);
}

/*
 * Activating IA-32e mode (CR0.PG 0 -> 1 with EFER.LME = 1): SDM Vol. 3A
 * 4.1.2 and Vol. 2 "MOV to CR".  Each refusal is also a guest state VM
 * entry would refuse for an IA-32e-mode guest (SDM Vol. 3C 27.3.1).
 */
static bool may_activate_ia32e(uint64_t cr4)
{
	/* SDM Vol. 3A 4.1.2: not with CR4.PAE = 0 (27.3.1.1: IA-32e mode guest needs PAE). */
	if (!(cr4 & CR4_PAE))
		return false;
	/* SDM Vol. 2 "MOV to CR": not with CS.L = 1 (27.3.1.2: L = 1 needs D = 0 there). */
	if (vmcs_read(VMCS_GUEST_CS_AR_BYTES) & VMX_AR_L)
		return false;
	/*
	 * SDM Vol. 2 "MOV to CR": not with TR a 16-bit TSS (27.3.1.2: an
	 * IA-32e-mode guest's TR is a busy 64-bit TSS, type 11; outside
	 * IA-32e mode the only other valid type is 3, the busy 16-bit TSS).
	 */
	if ((vmcs_read(VMCS_GUEST_TR_AR_BYTES) & VMX_AR_TYPE_MASK) != VMX_AR_TYPE_TSS_BUSY)
		return false;
	return true;
}

/*
 * MOV to CR0 (SDM Vol. 2 "MOV—Move to/from Control Registers", Vol. 3A
 * 2.5, 4.1.2, 4.4.1, 4.10.1).  L1's view goes to the read shadow; the CPU
 * gets it with the VMX-pinned bits.  On #GP nothing changes.
 */
static bool l1_write_cr0(uint64_t value, bool vmx_operation)
{
	uint64_t old = l1_cr0();
	uint64_t cr4 = l1_cr4();
	uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	uint64_t pdpte[4];
	/* SDM Vol. 2 "MOV to CR": a 1 in CR0[63:32] is #GP(0). */
	if (value >> 32)
		return false;
	/* Same: reserved bits of CR0[31:0] are ignored, and CR0.ET stays 1 (Vol. 3A 2.5). */
	value = (value & CR0_DEFINED) | CR0_ET;
	/* SDM Vol. 3C 24.8: in (its own) VMX operation L1 cannot clear a bit fixed to 1. */
	if (vmx_operation && (value & g_l0.l1_vmx.cr0_fixed0) != g_l0.l1_vmx.cr0_fixed0)
		return false;
	/* SDM Vol. 2 "MOV to CR", Vol. 3A 2.5: PG needs PE (27.3.1.1 checks it too). */
	if ((value & CR0_PG) && !(value & CR0_PE))
		return false;
	/* SDM Vol. 2 "MOV to CR", Vol. 3A 2.5: NW needs CD. */
	if ((value & CR0_NW) && !(value & CR0_CD))
		return false;
	/* SDM Vol. 3A 2.5 (CR0.WP): WP stays set while CR4.CET = 1 (27.3.1.1). */
	if (!(value & CR0_WP) && (cr4 & CR4_CET))
		return false;
	bool pg_on = (value & CR0_PG) && !(old & CR0_PG);
	bool pg_off = !(value & CR0_PG) && (old & CR0_PG);
	/* SDM Vol. 3A 4.1.2, Vol. 2 "MOV to CR": the conditions of activating IA-32e mode. */
	if (pg_on && (efer & EFER_LME) && !may_activate_ia32e(cr4))
		return false;
	/* SDM Vol. 2 "MOV to CR", 64-bit mode exceptions: PG stays set in 64-bit mode. */
	if (pg_off && vmx_guest_code_size() == X86_CODE64)
		return false;
	/* SDM Vol. 3A 4.10.1: PG stays set while CR4.PCIDE = 1 (27.3.1.1: PCIDE needs IA-32e). */
	if (pg_off && (cr4 & CR4_PCIDE))
		return false;
	/* SDM Vol. 3A 4.4.1: PAE paging after it, a PDPTE bit changed: load the PDPTEs. */
	bool load = (value & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LME) &&
		    ((value ^ old) & CR0_PDPTE_BITS);
	if (load && !load_pdptes(pdpte))
		return false;

	/* Turning paging on or off with EFER.LME set enters or leaves IA-32e mode. */
	if (pg_on && (efer & EFER_LME)) {
		vmcs_write(VMCS_GUEST_IA32_EFER, efer | EFER_LMA);
		vmcs_set_bits(VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	} else if (pg_off && (efer & EFER_LMA)) {
		vmcs_write(VMCS_GUEST_IA32_EFER, efer & ~EFER_LMA);
		vmcs_clear_bits(VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	}
	if (load)
		commit_pdptes(pdpte);
	vmcs_write(VMCS_CR0_READ_SHADOW, value);
	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(&g_l0.caps, value, g_l0.unrestricted_guest));
	if ((value ^ old) & CR0_TLB_BITS)
		flush_l1_tlb();
	return true;
}

/*
 * MOV to CR4 (SDM Vol. 2 "MOV to CR", Vol. 3A 2.5, 4.1.2, 4.4.1, 4.10.1).
 * CR4.VMXE itself stays set in the CPU; L1 sees its own VMXE in the
 * shadow.  On #GP nothing changes.
 */
static bool l1_write_cr4(uint64_t value, bool vmx_operation)
{
	uint64_t old = l1_cr4();
	uint64_t cr0 = l1_cr0();
	bool ia32e = vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA;
	uint64_t pdpte[4];
	/* SDM Vol. 2 "MOV to CR": a 1 in a reserved bit of CR4 is #GP(0): bits 63:32, */
	if (value >> 32)
		return false;
	/* the bits the CPU does not support (CR4_FIXED1 clear: SDM Vol. 3D A.8), */
	if (value & ~g_l0.caps.cr4_fixed1 & ~CR4_VMXE)
		return false;
	/* and those of features L1's CPUID does not report (SDM Vol. 3A 2.5). */
	if (value & CR4_HIDDEN_FROM_L1)
		return false;
	/* SDM Vol. 3C 24.8: not CR4.VMXE while L1 is in VMX operation (after its VMXON). */
	if (vmx_operation && !(value & CR4_VMXE))
		return false;
	/* SDM Vol. 3A 2.5: VMXE is reserved without VMX (nested off: CPUID.1:ECX.VMX = 0). */
	if ((value & CR4_VMXE) && !g_l0.cpuid.nested)
		return false;
	/* SDM Vol. 3A 4.1.2: PAE stays set in IA-32e mode (27.3.1.1 checks it too). */
	if (!(value & CR4_PAE) && ia32e)
		return false;
	/* SDM Vol. 3A 2.5 (CR4.LA57): LA57 cannot change in IA-32e mode. */
	if (((value ^ old) & CR4_LA57) && ia32e)
		return false;
	/* SDM Vol. 3A 2.5, 4.10.1: PCIDE only in IA-32e mode (27.3.1.1 checks it too). */
	if ((value & CR4_PCIDE) && !ia32e)
		return false;
	/* SDM Vol. 3A 4.10.1: PCIDE 0 -> 1 only with CR3[11:0] = 0 (PCID 0). */
	if ((value & ~old & CR4_PCIDE) && (vmcs_read(VMCS_GUEST_CR3) & CR3_PCID_MASK))
		return false;
	/*
	 * SDM Vol. 3A 2.5 (CR4.CET): CET only with CR0.WP = 1 (27.3.1.1).
	 * Behind CR4_HIDDEN_FROM_L1 while L1's CPUID hides CET.
	 */
	if ((value & CR4_CET) && !(cr0 & CR0_WP))
		return false;
	/* SDM Vol. 3A 4.4.1: PAE paging after it, a PDPTE bit changed: load the PDPTEs. */
	bool load =
	    (cr0 & CR0_PG) && (value & CR4_PAE) && !ia32e && ((value ^ old) & CR4_PDPTE_BITS);
	if (load && !load_pdptes(pdpte))
		return false;

	if (load)
		commit_pdptes(pdpte);
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
		/* SDM Vol. 2 "MOV to CR": outside 64-bit mode the source is 32 bits. */
		if (vmx_guest_code_size() != X86_CODE64)
			value = (uint32_t)value;
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
 * MONITOR and MWAIT exit by L0's controls (L0_PROC_WANTED), in L1 and in
 * L2 alike: L1's CPU has no MONITOR/MWAIT (CPUID.1:ECX.MONITOR = 0,
 * IA32_MISC_ENABLE[18] = 0), so both raise #UD (SDM Vol. 2 MONITOR,
 * MWAIT: "#UD If CPUID.01H:ECX.MONITOR[bit 3] = 0"), a fault at the
 * instruction.  In L2 the #UD has priority over L1's MONITOR/MWAIT
 * exiting (SDM Vol. 3C 26.1.1) and goes to L1 as an exception exit where
 * vmcs12's exception bitmap asks for it (nested/vmexit.c).
 */
void exit_monitor_mwait(struct vcpu *v, struct guest_regs *r)
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
