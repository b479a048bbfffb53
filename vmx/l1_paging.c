/*
 * l1_paging.c - L1's paging state as the current VMCS holds it (see
 * l1_memory.h).  Pure: VMCS reads only, so the unit tests run it on the
 * software VMCS.
 */
#include "l1_memory.h"

#include "arch/x86/regs.h"
#include "vmcs.h"

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
	g->ctx = mem->ctx;
}
