/*
 * sync12.h - rebuilding vmcs12 from vmcs02 when an exit from L2 is
 * reflected to L1 (issue 4, item 7; SDM Vol. 3C 28.3 "Saving Guest State",
 * 28.2 "Recording VM-Exit Information").
 *
 * Only guest-state and exit-information fields are read back from the
 * current VMCS (vmcs02): control and host-state fields cannot change while
 * L2 runs, so vmcs12 already holds L1's values for them.  The field table
 * drives it: every row with a rebuild mode (VMCS_RB_EAGER or _LAZY, not
 * _NONE: VM_INSTRUCTION_ERROR, the link pointer, the SMM-only fields,
 * vmx/vmcs_fields.h) whose field exists for L1 (vmcs_field_exists on L1's
 * capabilities) is copied, except
 *   - DR7 and IA32_DEBUGCTL without "save debug controls", IA32_PAT without
 *     "save IA32_PAT", IA32_EFER without "save IA32_EFER", the
 *     preemption-timer value without "save VMX-preemption timer value"
 *     (L1's exit controls; such a field keeps its older vmcs12 value);
 *   - GUEST_CR0 and GUEST_CR4, merged (nested/reflect_cr.h) with the read
 *     shadows L0 wrote into vmcs02, which L0 passes in (no control field
 *     is read for them).
 * Then, as every VM exit updates the VM-entry control fields (SDM Vol. 3C
 * 28.2, "Updating VM-Entry Control Fields"): the valid bit of vmcs12's
 * VM-entry interruption-information field is cleared (the entry event was
 * delivered, or is reported as IDT-vectoring information), and "IA-32e
 * mode guest" takes the value of L2's IA32_EFER.LMA.
 */
#ifndef MICROHV_NESTED_SYNC12_H
#define MICROHV_NESTED_SYNC12_H

#include "nested/vmcs12.h"
#include "vmx/caps.h"

#include <stdint.h>

/* What L0 put into vmcs02's CR0/CR4 ownership when it built it. */
struct vmcs02_cr_state {
	uint64_t cr0_l0_guest_owned; /* ~(L0's CR0 mask in vmcs02) */
	uint64_t cr4_l0_guest_owned;
	uint64_t cr0_shadow02;	     /* vmcs02's CR0 read shadow as L0 wrote it */
	uint64_t cr4_shadow02;
};

/*
 * The rebuild in two parts, by the table's rebuild column (SDM 28.2-28.3
 * as above, vmcs02 current): the eager rows and the entry-control updates
 * at the exit; the lazy rows (selectors, bases, limits, most access
 * rights, SYSENTER, pending debug exceptions, PDPTEs ...) when vmcs12's
 * value is needed (nested/run.h, nested_complete_vmcs12), as long as
 * vmcs02 still holds L2's state.  Each returns the number of fields read
 * from vmcs02 (for `make bench`).  l1_features: vmcs_features_present of
 * L1's capabilities, computed once at boot (g_l0.l1_features).
 */
unsigned nested_sync_vmcs12_eager(struct vmcs12 *v12, uint32_t l1_features,
				  const struct vmcs02_cr_state *cr);

/*
 * The eager part as a plan made at the VM entry (the rows that exist for
 * L1 and that its exit controls and EPT save, with their encodings), so
 * that the exit only reads: nested_sync_vmcs12_planned with a plan from
 * nested_sync_plan on the same vmcs12 controls is nested_sync_vmcs12_eager.
 */
#define NESTED_SYNC_PLAN_MAX 32
struct nested_sync_plan {
	uint16_t row[NESTED_SYNC_PLAN_MAX];
	uint32_t encoding[NESTED_SYNC_PLAN_MAX];
	unsigned count;
};
void nested_sync_plan(const struct vmcs12 *v12, uint32_t l1_features, struct nested_sync_plan *p);
unsigned nested_sync_vmcs12_planned(struct vmcs12 *v12, const struct nested_sync_plan *p,
				    const struct vmcs02_cr_state *cr);
unsigned nested_sync_vmcs12_lazy(struct vmcs12 *v12, uint32_t l1_features);

/* Both at once: what a rebuild without laziness reads. */
unsigned nested_sync_vmcs12(struct vmcs12 *v12, const struct vmx_caps *l1_caps,
			    const struct vmcs02_cr_state *cr);

#endif
