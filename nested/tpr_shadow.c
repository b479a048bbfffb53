/*
 * tpr_shadow.c - the virtual-APIC page checks of VM entry (tpr_shadow.h).
 */
#include "tpr_shadow.h"

#include "vmx/vmx_bits.h"

#define F(name) VMCS12_FIELD(v, name)

struct nested_entry_check nested_check_virtual_apic(const struct vmcs12 *v,
						    const struct l1_memory *mem)
{
	if (!(F(CPU_BASED_VM_EXEC_CONTROL) & CPU_USE_TPR_SHADOW))
		return NENTRY_PASS;
	uint8_t vtpr = 0;
	{
		/* L0's own condition: the CPU is never handed a page that is not L1's. */
		const struct nentry_section sec = {NENTRY_VMFAIL_CONTROL, "L0, SDM 27.2.1.1"};
		NENTRY_REQUIRE(
		    mem->read(mem->ctx, F(VIRTUAL_APIC_PAGE_ADDR) + VAPIC_VTPR, &vtpr, 1),
		    "VIRTUAL_APIC_PAGE_ADDR is not L1's memory");
	}
	/*
	 * SDM 27.2.1.1: threshold bits 3:0 against VTPR bits 7:4, only with
	 * "virtualize APIC accesses" (and virtual-interrupt delivery) 0.
	 */
	if (nentry_proc2(v) & CPU2_VIRTUALIZE_APIC_ACCESSES)
		return NENTRY_PASS;
	const struct nentry_section sec = {NENTRY_VMFAIL_CONTROL, "SDM 27.2.1.1"};
	NENTRY_REQUIRE((F(TPR_THRESHOLD) & 0xf) <= (uint64_t)(vtpr >> 4),
		       "TPR_THRESHOLD bits 3:0 must not exceed VTPR bits 7:4");
	return NENTRY_PASS;
}
