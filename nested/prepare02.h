/*
 * prepare02.h - building vmcs02, the VMCS L0 really uses to run L2, from
 * vmcs12 (L1's wishes) and L0's own needs (issue 4, item 6).
 *
 *   guest state  from vmcs12, field by field through the field table (the
 *                fields that exist for L1 and on the CPU); CR0/CR4 with the
 *                CPU's VMX-fixed bits; EFER, PAT and the debug registers
 *                that L1's entry controls do not load are L1's current
 *                values (SDM 27.3.2: without "load ..." the register keeps
 *                its value across the entry), and vmcs02 loads them;
 *   controls     L1's wishes OR L0's needs: L0's pin/primary/secondary bits
 *                (EPT01 and a VPID of its own for L2, MSR bitmaps),
 *                exception bitmap, CR0/CR4 guest/host masks with shadows
 *                that show L1's view, L0's own exit controls, no MSR-list
 *                counts (L0 processes L1's lists);
 *   host state   L0's: written by the caller as for vmcs01.
 * The merged MSR (and I/O) bitmap pages are prepared by the caller.
 * Writes through vmcs_write only (unit-tested with the software VMCS).
 */
#ifndef MICROHV_NESTED_PREPARE02_H
#define MICROHV_NESTED_PREPARE02_H

#include "nested/sync12.h"
#include "nested/vmcs12.h"
#include "vmx/l1_memory.h"
#include "vmx/caps.h"

#include <stdbool.h>
#include <stdint.h>

struct vmcs02_l0 {
	const struct vmx_caps *hw;     /* the CPU's capability MSRs */
	const struct vmx_caps *l1;     /* L1's (nested/vmx_msrs.h) */
	uint32_t pin, proc, proc2;     /* bits L0 needs on top of L1's */
	uint32_t exit;		       /* L0's own VM-exit controls */
	uint64_t cr0_mask, cr4_mask;   /* CR bits L0 owns (VMX-fixed) */
	uint64_t eptp;		       /* EPT01: L2 runs on L1's physical memory */
	uint16_t vpid;		       /* L2's VPID, 0: none */
	uint64_t msr_bitmap;	       /* the merged MSR bitmap page */
	/* L0's own MSR-load areas, as vmcs01's (msr_switch_areas): entries each, 0: none. */
	uint64_t msr_entry_load, msr_exit_load;
	unsigned msr_load_count;
	/* L1's current state, for what L1's entry controls do not load. */
	uint64_t l1_efer, l1_pat, l1_dr7, l1_debugctl;
};

/*
 * vmcs02 again after a reflected exit, when vmcs12 has changed since only
 * in what the rebuild read from vmcs02 itself and in the dirty groups
 * (VMCS_DIRTY bits, vmx/vmcs_fields.h; never CONTROL: that is a whole
 * nested_prepare_vmcs02): GUEST rewrites the guest-state area and the CR
 * ownership (*cr), else RIP and RSP write theirs; EVENT writes the three
 * event-injection fields, else the interruption-information field alone
 * (the exit cleared its valid bit in both).  Then what L0 supplies that
 * differs from last (what it supplied at the previous entry: L1's
 * EFER/PAT/DR7/DEBUGCTL where vmcs12 does not load them, EPT02's root,
 * the VPID, L0's MSR areas).  Everything else vmcs02 already holds.
 * Returns the VMWRITEs.
 */
unsigned nested_refresh_vmcs02(const struct vmcs12 *v12, const struct vmcs02_l0 *l0,
			       const struct vmcs02_l0 *last, unsigned dirty,
			       struct vmcs02_cr_state *cr);

/*
 * Writes the guest-state and control fields of the current VMCS (vmcs02)
 * from vmcs12; *cr receives what the vmcs12 rebuild needs to merge CR0/CR4
 * back (nested/sync12.h).  Checks on vmcs12 (nested/entry_checks.h) come
 * first: this assumes a vmcs12 that passed them.
 */
void nested_prepare_vmcs02(const struct vmcs12 *v12, const struct vmcs02_l0 *l0,
			   struct vmcs02_cr_state *cr);

/*
 * The PDPTEs of an L2 that uses PAE paging (vmcs12: CR0.PG = 1, CR4.PAE = 1,
 * "IA-32e mode guest" = 0).  Without L1's EPT (ept12 false) L1's VM entry
 * would load them from the table at L2's CR3 and check them (SDM Vol. 3C
 * 27.3.1.6, 27.4); vmcs02 runs L2 with EPT, where the CPU takes them from
 * the VMCS: L0 reads and checks them here and writes vmcs02's
 * GUEST_PDPTE0-3.  With L1's EPT they are vmcs12's fields, already in
 * vmcs02: only their reserved bits are checked.
 * Returns false for a table L0 cannot read or a present PDPTE with a
 * reserved bit: a VM-entry failure for L1, exit reason 33, qualification
 * 2 (27.8).  Other paging modes write nothing and return true.
 */
bool nested_load_l2_pdptes(const struct vmcs12 *v12, const struct l1_memory *mem, bool ept12);

#endif
