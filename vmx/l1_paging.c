/*
 * l1_paging.c - L1's paging state as the current VMCS holds it (see
 * l1_memory.h).  Pure: VMCS reads only, so the unit tests run it on the
 * software VMCS.
 */
#include "l1_memory.h"

#include "arch/x86/regs.h"
#include "exit.h"
#include "mm/guest_walk.h"
#include "mm/page_alloc.h"
#include "nested/operand.h"
#include "vmcs.h"

void l1_operand_env_of_current(struct nested_operand_env *e, const struct guest_regs *r)
{
	static const uint32_t base[NSEG_COUNT] = { VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE,
						   VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE,
						   VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE };
	static const uint32_t limit[NSEG_COUNT] = { VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT,
						    VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
						    VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT };
	static const uint32_t ar[NSEG_COUNT] = { VMCS_GUEST_ES_AR_BYTES, VMCS_GUEST_CS_AR_BYTES,
						 VMCS_GUEST_SS_AR_BYTES, VMCS_GUEST_DS_AR_BYTES,
						 VMCS_GUEST_FS_AR_BYTES, VMCS_GUEST_GS_AR_BYTES };
	*e = (struct nested_operand_env){ 0 };
	e->mode = nested_cpu_mode_of(vmcs_read(VMCS_GUEST_CR0), vmcs_read(VMCS_GUEST_IA32_EFER),
				     (uint32_t)vmcs_read(VMCS_GUEST_CS_AR_BYTES),
				     vmcs_read(VMCS_GUEST_RFLAGS));
	e->regs = r;
	e->rsp = vmcs_read(VMCS_GUEST_RSP);
	for (unsigned s = 0; s < NSEG_COUNT; s++) {
		e->seg[s].base = vmcs_read(base[s]);
		e->seg[s].limit = (uint32_t)vmcs_read(limit[s]);
		e->seg[s].ar = (uint32_t)vmcs_read(ar[s]);
	}
	e->la57 = vmcs_read(VMCS_GUEST_CR4) & CR4_LA57;
}

void l1_paging_of_current(struct guest_paging *g, const struct l1_memory *mem)
{
	*g = (struct guest_paging){ 0 };
	g->cr0 = vmcs_read(VMCS_GUEST_CR0);
	g->cr3 = vmcs_read(VMCS_GUEST_CR3);
	g->cr4 = vmcs_read(VMCS_GUEST_CR4);
	g->efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	g->rflags_ac = vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_AC;
	g->maxphyaddr = mem->maxphyaddr;
	g->page_1g = true;
	/* With EPT, PAE paging walks from the PDPTEs the VM exit saved (SDM 4.4.1). */
	if (guest_paging_mode(g) == GWALK_MODE_PAE) {
		g->pdpte_valid = true;
		g->pdpte[0] = vmcs_read(VMCS_GUEST_PDPTE0);
		g->pdpte[1] = vmcs_read(VMCS_GUEST_PDPTE1);
		g->pdpte[2] = vmcs_read(VMCS_GUEST_PDPTE2);
		g->pdpte[3] = vmcs_read(VMCS_GUEST_PDPTE3);
	}
	g->read_gpa = mem->read;
	g->write_gpa = mem->write;
	g->refused = mem->refused;
	g->ctx = mem->ctx;
}

unsigned l1_fetch_insn(uint8_t *buf, enum x86_code_size cs, const struct l1_memory *mem)
{
	struct guest_paging g;
	struct guest_walk w;
	l1_paging_of_current(&g, mem);
	/* SDM Vol. 3A 3.4.4: in 64-bit mode the CS base is taken as 0. */
	uint64_t la = vmcs_read(VMCS_GUEST_RIP);
	if (cs != X86_CODE64)
		la = (la + vmcs_read(VMCS_GUEST_CS_BASE)) & 0xffffffffull;
	unsigned access = GWALK_FETCH | (vmx_guest_cpl() == 3 ? GWALK_USER : 0);
	unsigned first = PAGE_SIZE - (unsigned)(la & (PAGE_SIZE - 1));
	if (first > X86_INSN_MAX)
		first = X86_INSN_MAX;
	if (guest_read_linear(&g, la, buf, first, access, &w) != GWALK_OK)
		return 0;
	uint64_t next = la + first;
	if (cs != X86_CODE64)
		next &= 0xffffffffull;
	if (first == X86_INSN_MAX ||
	    guest_read_linear(&g, next, buf + first, X86_INSN_MAX - first, access, &w) !=
		    GWALK_OK)
		return first;
	return X86_INSN_MAX;
}
