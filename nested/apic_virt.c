/*
 * apic_virt.c - L0's rule on vmcs12's APIC-access page (apic_virt.h).
 */
#include "apic_virt.h"

#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

struct nested_entry_check nested_check_apic_access(const struct vmcs12 *v,
						   nested_ept01_lookup_fn ept01)
{
	if (!(nentry_proc2(v) & CPU2_VIRTUALIZE_APIC_ACCESSES))
		return NENTRY_PASS;
	unsigned rights = 0, memtype = 0, level = 0;
	bool mapped = ept01(vmcs12_get(v, VMCS_APIC_ACCESS_ADDR), &rights, &memtype, &level);
	/* L0's own condition: the CPU's APIC-access exits are never pre-empted by EPT01. */
	const struct nentry_section sec = {NENTRY_VMFAIL_CONTROL, "L0, SDM 27.2.1.1"};
	NENTRY_REQUIRE(mapped && (rights & EPT_RWX) == EPT_RWX,
		       "APIC_ACCESS_ADDR is not L1's memory (L0's, beyond EPT01, or L1's "
		       "write-protected xAPIC page)");
	return NENTRY_PASS;
}
