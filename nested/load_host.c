/*
 * load_host.c - L1's state after a reflected exit, from vmcs12's
 * host-state area into vmcs01 (load_host.h), rule by rule in the order of
 * SDM Vol. 3C 28.5.
 *
 * L1's registers are first computed as values (CR0, CR4, IA32_EFER), then
 * its PDPTEs checked if it is left in PAE paging, and only then is vmcs01
 * written: a PDPTE fault leaves vmcs01 as it was for the caller's VMX abort.
 */
#include "load_host.h"

#include "drivers/serial/log.h"
#include "mm/guest_walk.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"

#define F(name) VMCS12_FIELD(v12, name)

/* Bits hi..lo (inclusive) set; lo <= hi <= 63. */
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

/*
 * SDM 28.5.1: the CR0 bits a VM exit does not modify: ET, CD, NW and
 * bits 63:32, 28:19, 17 and 15:6.  (So are the bits fixed in VMX
 * operation: HOST_CR0 holds L1's fixed values already, by the host-state
 * checks of 27.2.2, so taking them from HOST_CR0 changes nothing.)
 */
#define CR0_KEPT_ON_EXIT                                                                           \
	(CR0_ET | CR0_NW | CR0_CD | BITS(63, 32) | BITS(28, 19) | BITS(17, 17) | BITS(15, 6))

#define DR7_ON_EXIT 0x400ull	    /* SDM 28.5.1: DR7 = 400H (bit 10 is reserved 1) */
#define FLAT_LIMIT 0xffffffffu	    /* SDM 28.5.2: CS, SS, DS, ES, FS, GS limit FFFFFFFFH */
#define TR_LIMIT 0x67u		    /* SDM 28.5.2: TR limit 67H */
#define DESC_TABLE_LIMIT 0xffffu    /* SDM 28.5.2: GDTR and IDTR limits FFFFH */
#define PAE_PDPT_MASK 0xffffffe0ull /* SDM Vol. 3A 4.4.1: PAE paging's PDPT is at CR3[31:5] */
#define PDPTE_COUNT 4
#define MAXPHYADDR_MAX 52 /* SDM Vol. 3A 4.1.4 */

/*
 * SDM 28.5.2 access rights.  CS: type 11 (execute/read, accessed), S = 1,
 * DPL 0, P = 1, G = 1, L = "host address-space size", D/B = its inverse.
 * SS, DS, ES, FS, GS: type 3 (read/write, accessed), S = 1, DPL 0,
 * P = 1, D/B = 1, G = 1.  TR: type 11 (busy TSS), S = 0, DPL 0, P = 1,
 * G = 0.  DPL 0 is the 0 in bits 6:5.
 */
#define CS_AR                                                                                      \
	(VMX_AR_TYPE_CODE | VMX_AR_TYPE_RW | VMX_AR_TYPE_ACCESSED | VMX_AR_S | VMX_AR_P | VMX_AR_G)
#define DATA_AR (VMX_AR_TYPE_RW | VMX_AR_TYPE_ACCESSED | VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G)
#define TR_AR (VMX_AR_TYPE_TSS_BUSY | VMX_AR_P)

/* L1's control registers and IA32_EFER after the exit. */
struct l1_regs {
	bool host64; /* the "host address-space size" VM-exit control */
	uint64_t cr0, cr4, efer;
};

/* CR0 as L1 reads it now: vmcs01's read shadow for the bits L0 owns. */
static uint64_t l1_cr0_view(void)
{
	uint64_t mask = vmcs_read(VMCS_CR0_GUEST_HOST_MASK);
	return (vmcs_read(VMCS_GUEST_CR0) & ~mask) | (vmcs_read(VMCS_CR0_READ_SHADOW) & mask);
}

static void compute_regs(const struct vmcs12 *v12, struct l1_regs *r)
{
	uint64_t exit = F(VM_EXIT_CONTROLS);
	r->host64 = exit & EXIT_HOST_ADDR_SPACE_SIZE;

	/*
	 * SDM 28.5.1: CR0 from HOST_CR0 except the bits a VM exit keeps.
	 * The CPU keeps the value in force at the exit, which is L2's if L2
	 * changed CD/NW; L0 keeps L1's own view from vmcs01 instead.
	 */
	r->cr0 = (F(HOST_CR0) & ~CR0_KEPT_ON_EXIT) | (l1_cr0_view() & CR0_KEPT_ON_EXIT);

	/*
	 * SDM 28.5.1: CR4 from HOST_CR4; CR4.PAE set if "host address-space
	 * size" is 1, CR4.PCIDE cleared if it is 0.  The bits fixed in VMX
	 * operation are not modified: HOST_CR4 holds them (VMXE among them:
	 * L1 is in VMX operation), by the checks of 27.2.2.  The SDM names no
	 * other CR4 bit (CET, LA57, ...) as special on VM exits.
	 */
	r->cr4 = F(HOST_CR4);
	if (r->host64)
		r->cr4 |= CR4_PAE;
	else
		r->cr4 &= ~CR4_PCIDE;

	/*
	 * SDM 28.5.1: IA32_EFER.LMA and LME are loaded with "host address-space
	 * size", the other bits keep their value; with "load IA32_EFER", the
	 * whole MSR comes from HOST_IA32_EFER (whose LMA/LME equal the control
	 * by 27.2.2).  The bits kept are vmcs01's, L1's EFER as it entered L2
	 * (the CPU would keep L2's, where L1's entry loaded another EFER or L2
	 * wrote it; the same holds for IA32_PAT without "load IA32_PAT").
	 */
	if (exit & EXIT_LOAD_IA32_EFER) {
		r->efer = F(HOST_IA32_EFER);
	} else {
		r->efer = vmcs_read(VMCS_GUEST_IA32_EFER) & ~(EFER_LMA | EFER_LME);
		if (r->host64)
			r->efer |= EFER_LMA | EFER_LME;
	}
}

/* SDM Vol. 3A 4.1.1: PAE paging is CR0.PG = 1, CR4.PAE = 1, IA32_EFER.LMA = 0. */
static bool uses_pae_paging(const struct l1_regs *r)
{
	return (r->cr0 & CR0_PG) && (r->cr4 & CR4_PAE) && !(r->efer & EFER_LMA);
}

/*
 * SDM 28.5.4: a VM exit to a VMM that uses PAE paging checks the PDPTEs
 * at CR3 as MOV to CR3 would and loads them; a check that would #GP is a
 * VMX abort (28.7).  MOV to CR3 #GPs on a PDPTE with P = 1 and a reserved
 * bit set: bits 2:1, 8:5 and 63:MAXPHYADDR (SDM Vol. 3A 4.4.1, table 4-8).
 * The SDM lets the exit skip the check when neither CR3 nor the paging
 * mode changes; L0 always checks (the stricter choice it allows).
 */
static bool read_pdptes(uint64_t cr3, const struct l1_memory *mem, uint64_t pdpte[PDPTE_COUNT])
{
	struct guest_paging g = { .cr3 = cr3, .maxphyaddr = mem->maxphyaddr,
				  .read_gpa = mem->read, .ctx = mem->ctx };
	unsigned bad = 0;
	switch (guest_load_pae_pdptes(&g, pdpte, &bad)) {
	case PAE_PDPTES_OK:
		return true;
	case PAE_PDPTES_UNREADABLE:
		log_warn("nested: L1's host CR3 0x%llx names PDPTEs L0 cannot read: VMX abort",
			 (unsigned long long)cr3);
		return false;
	case PAE_PDPTES_RESERVED:
		break;
	}
	log_warn("nested: L1's host PDPTE%u 0x%llx at 0x%llx sets reserved bits: VMX abort", bad,
		 (unsigned long long)pdpte[bad],
		 (unsigned long long)((cr3 & PAE_PDPT_MASK) + 8 * bad));
	return false;
}

static void write_control_regs(const struct vmcs12 *v12, const struct l1_regs *r,
			       const struct nested_host_env *env)
{
	/* L1 reads its own values through the shadows; vmcs01 runs them VMX-fixed. */
	vmcs_write(VMCS_CR0_READ_SHADOW, r->cr0);
	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(env->hw_caps, r->cr0, env->unrestricted_guest));
	vmcs_write(VMCS_CR4_READ_SHADOW, r->cr4);
	vmcs_write(VMCS_GUEST_CR4, vmx_fix_cr4(env->hw_caps, r->cr4));
	/* SDM 28.5.1: CR3 from HOST_CR3 (bits beyond MAXPHYADDR are 0 by 27.2.2). */
	vmcs_write(VMCS_GUEST_CR3, F(HOST_CR3));
	/* SDM 28.5.1: DR7 = 400H, IA32_DEBUGCTL = 0. */
	vmcs_write(VMCS_GUEST_DR7, DR7_ON_EXIT);
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	/*
	 * SDM 28.5.1: IA32_SYSENTER_CS/ESP/EIP from their fields (CS has 32
	 * bits, bits 63:32 of the MSR are 0; ESP and EIP are full 64-bit
	 * values, canonical by 27.2.2).
	 */
	vmcs_write(VMCS_GUEST_SYSENTER_CS, F(HOST_IA32_SYSENTER_CS));
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, F(HOST_IA32_SYSENTER_ESP));
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, F(HOST_IA32_SYSENTER_EIP));
	/*
	 * SDM 28.5.1: IA32_PAT from HOST_IA32_PAT with "load IA32_PAT";
	 * otherwise not modified (vmcs01 keeps L1's).
	 */
	if (F(VM_EXIT_CONTROLS) & EXIT_LOAD_IA32_PAT)
		vmcs_write(VMCS_GUEST_IA32_PAT, F(HOST_IA32_PAT));
	vmcs_write(VMCS_GUEST_IA32_EFER, r->efer);
	/*
	 * SDM 28.5 / 27.3.1.1: vmcs01 enters L1 in IA-32e mode exactly when
	 * EFER.LMA, which is the "host address-space size" control.
	 */
	if (r->host64)
		vmcs_set_bits(VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	else
		vmcs_clear_bits(VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
}

struct seg_fields {
	uint32_t sel, base, limit, ar;
};

#define SEG_FIELDS(S)                                                                              \
	{                                                                                          \
		VMCS_GUEST_##S##_SELECTOR, VMCS_GUEST_##S##_BASE, VMCS_GUEST_##S##_LIMIT,          \
		    VMCS_GUEST_##S##_AR_BYTES                                                      \
	}

static void write_segment(struct seg_fields f, uint64_t sel, uint64_t base, uint32_t limit,
			  uint32_t ar)
{
	vmcs_write(f.sel, sel);
	vmcs_write(f.base, base);
	vmcs_write(f.limit, limit);
	vmcs_write(f.ar, ar);
}

/*
 * SDM 28.5.2 "Loading Host Segment and Descriptor-Table Registers".
 * Selectors from the host fields; a segment whose selector is 0 is
 * unusable (never CS or TR, by 27.2.3; SS only on an exit to 64-bit
 * mode).  The SDM leaves base, limit and most access rights of an
 * unusable segment undefined but defines SS's DPL (0) and D/B (1) even
 * then: an unusable segment gets the same values, plus the unusable bit.
 * Bases: CS, SS, DS, ES 0; FS and GS from HOST_FS_BASE/HOST_GS_BASE (on a
 * 64-bit exit even when unusable; undefined otherwise, so the same), which
 * also become the FS.base/GS.base MSRs: vmcs01 holds them only here.  TR
 * from HOST_TR_BASE.  No sign extension: the bases are canonical (27.2.3).
 * LDTR: selector 0, unusable, the rest undefined (0 here).
 * GDTR/IDTR: bases from their fields, limits FFFFH.
 */
static void write_segments(const struct vmcs12 *v12, bool host64)
{
	write_segment((struct seg_fields)SEG_FIELDS(CS), F(HOST_CS_SELECTOR), 0, FLAT_LIMIT,
		      CS_AR | (host64 ? VMX_AR_L : VMX_AR_DB));
	const struct {
		struct seg_fields f;
		uint64_t sel, base;
	} data[] = {
	    {SEG_FIELDS(SS), F(HOST_SS_SELECTOR), 0},
	    {SEG_FIELDS(DS), F(HOST_DS_SELECTOR), 0},
	    {SEG_FIELDS(ES), F(HOST_ES_SELECTOR), 0},
	    {SEG_FIELDS(FS), F(HOST_FS_SELECTOR), F(HOST_FS_BASE)},
	    {SEG_FIELDS(GS), F(HOST_GS_SELECTOR), F(HOST_GS_BASE)},
	};
	for (unsigned i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		write_segment(data[i].f, data[i].sel, data[i].base, FLAT_LIMIT,
			      DATA_AR | (data[i].sel ? 0 : VMX_AR_UNUSABLE));
	write_segment((struct seg_fields)SEG_FIELDS(TR), F(HOST_TR_SELECTOR), F(HOST_TR_BASE),
		      TR_LIMIT, TR_AR);
	write_segment((struct seg_fields)SEG_FIELDS(LDTR), 0, 0, 0, VMX_AR_UNUSABLE);
	vmcs_write(VMCS_GUEST_GDTR_BASE, F(HOST_GDTR_BASE));
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, DESC_TABLE_LIMIT);
	vmcs_write(VMCS_GUEST_IDTR_BASE, F(HOST_IDTR_BASE));
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, DESC_TABLE_LIMIT);
}

/*
 * SDM 28.5.5 "Updating Non-Register State" (with 28.5.3 for RIP, RSP,
 * RFLAGS): the logical processor is active; no blocking by STI or by
 * MOV SS; blocking by NMI is not affected (only an exit caused by an NMI
 * sets it: the caller's, which knows the exit), and vmcs01 keeps it; no
 * blocking by SMI outside SMM; no pending debug exceptions.
 */
static void write_non_register_state(const struct vmcs12 *v12)
{
	/* SDM 28.5.3: RIP and RSP from their fields; RFLAGS cleared but bit 1. */
	vmcs_write(VMCS_GUEST_RIP, F(HOST_RIP));
	vmcs_write(VMCS_GUEST_RSP, F(HOST_RSP));
	vmcs_write(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_clear_bits(VMCS_GUEST_INTERRUPTIBILITY_INFO,
			GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_SMI);
	vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	/* The exit delivers nothing to L1: vmcs01's next entry injects no event. */
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
}

enum nested_host_result nested_load_l1_host_state(const struct vmcs12 *v12,
						  const struct nested_host_env *env)
{
	struct l1_regs r;
	compute_regs(v12, &r);
	uint64_t pdpte[PDPTE_COUNT];
	bool pae = uses_pae_paging(&r);
	if (pae && !read_pdptes(F(HOST_CR3), env->mem, pdpte))
		return NHOST_PDPTE_FAULT;

	write_control_regs(v12, &r, env);
	write_segments(v12, r.host64);
	write_non_register_state(v12);
	/* SDM 28.5.4: the PDPTEs are loaded (vmcs01 enters L1 with EPT: from these fields). */
	if (pae) {
		vmcs_write(VMCS_GUEST_PDPTE0, pdpte[0]);
		vmcs_write(VMCS_GUEST_PDPTE1, pdpte[1]);
		vmcs_write(VMCS_GUEST_PDPTE2, pdpte[2]);
		vmcs_write(VMCS_GUEST_PDPTE3, pdpte[3]);
	}
	return NHOST_OK;
}
