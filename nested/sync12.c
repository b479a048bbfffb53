/*
 * sync12.c - the vmcs12 rebuild on a reflected exit (sync12.h).
 */
#include "sync12.h"

#include "nested/reflect_cr.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

/*
 * Whether L1's controls ask for the field to be saved (SDM 28.3.1); the
 * PDPTEs only under L1's EPT (28.3.4: with "enable EPT" = 0 the CPU keeps
 * them in no VMCS field; L0's own EPT01 loads vmcs02's).  Fields the exit
 * never changes are VMCS_RB_NONE in the table (vmx/vmcs_fields.h).
 */
static bool saved_on_exit(uint64_t exit, bool ept12, uint32_t encoding)
{
	switch (encoding) {
	case VMCS_GUEST_PDPTE0:
	case VMCS_GUEST_PDPTE1:
	case VMCS_GUEST_PDPTE2:
	case VMCS_GUEST_PDPTE3:
		return ept12;
	case VMCS_GUEST_DR7:
	case VMCS_GUEST_IA32_DEBUGCTL:
		return exit & EXIT_SAVE_DEBUG_CONTROLS;
	case VMCS_GUEST_IA32_PAT:
		return exit & EXIT_SAVE_IA32_PAT;
	case VMCS_GUEST_IA32_EFER:
		return exit & EXIT_SAVE_IA32_EFER;
	case VMCS_VMX_PREEMPTION_TIMER_VALUE:
		return exit & EXIT_SAVE_PREEMPTION_TIMER;
	}
	return true;
}

/*
 * The rows of each rebuild mode, in table order, fixed at compile time
 * (vmx/vmcs_fields.h's column): the rebuild walks a short list, not the
 * whole table, per exit.
 */
#define RB_PICK_VMCS_RB_EAGER_EAGER(name) VMCS_IDX_##name,
#define RB_PICK_VMCS_RB_EAGER_LAZY(name)
#define RB_PICK_VMCS_RB_LAZY_EAGER(name)
#define RB_PICK_VMCS_RB_LAZY_LAZY(name) VMCS_IDX_##name,
#define RB_PICK_VMCS_RB_NONE_EAGER(name)
#define RB_PICK_VMCS_RB_NONE_LAZY(name)
#define RB_EAGER_ROW(name, enc, cls, feat, sh, rb, dg) RB_PICK_##rb##_EAGER(name)
#define RB_LAZY_ROW(name, enc, cls, feat, sh, rb, dg) RB_PICK_##rb##_LAZY(name)
static const uint16_t eager_rows[] = { VMCS_FIELDS(RB_EAGER_ROW) };
static const uint16_t lazy_rows[] = { VMCS_FIELDS(RB_LAZY_ROW) };

/* What decides, for one vmcs12, whether the exit saves a row (saved_on_exit). */
struct saved_rows {
	uint64_t exit;	  /* vmcs12's VM-exit controls */
	bool ept12;	  /* L1's EPT on: the PDPTEs are saved */
	uint32_t present; /* the VMCS features L1 has (vmcs_features_present) */
};

static struct saved_rows saved_rows_of(const struct vmcs12 *v12, uint32_t l1_features)
{
	return (struct saved_rows){
		.exit = v12->field[VMCS_IDX_VM_EXIT_CONTROLS],
		.ept12 = (v12->field[VMCS_IDX_CPU_BASED_VM_EXEC_CONTROL] & CPU_ACTIVATE_SECONDARY) &&
			 (v12->field[VMCS_IDX_SECONDARY_VM_EXEC_CONTROL] & CPU2_ENABLE_EPT),
		.present = l1_features,
	};
}

static bool row_saved(const struct saved_rows *s, unsigned row)
{
	const struct vmcs_field_info *f = &vmcs_field_table[row];
	return (s->present & (1u << f->feature)) && saved_on_exit(s->exit, s->ept12, f->encoding);
}

_Static_assert(sizeof(eager_rows) / sizeof(eager_rows[0]) <= NESTED_SYNC_PLAN_MAX,
	       "the eager rows fit a plan");

void nested_sync_plan(const struct vmcs12 *v12, uint32_t l1_features, struct nested_sync_plan *p)
{
	const struct saved_rows s = saved_rows_of(v12, l1_features);
	p->count = 0;
	for (unsigned k = 0; k < sizeof(eager_rows) / sizeof(eager_rows[0]); k++) {
		if (!row_saved(&s, eager_rows[k]))
			continue;
		p->row[p->count] = eager_rows[k];
		p->encoding[p->count] = vmcs_field_table[eager_rows[k]].encoding;
		p->count++;
	}
}

unsigned nested_sync_vmcs12_planned(struct vmcs12 *v12, const struct nested_sync_plan *p,
				    const struct vmcs02_cr_state *cr)
{
	for (unsigned k = 0; k < p->count; k++)
		v12->field[p->row[k]] = vmcs_read(p->encoding[k]);
	/* CR0/CR4 as L1 sees them (reflect_cr.h): eager rows, always in the plan. */
	v12->field[VMCS_IDX_GUEST_CR0] =
		nested_merge_guest_cr(v12->field[VMCS_IDX_GUEST_CR0], cr->cr0_shadow02,
				      cr->cr0_l0_guest_owned, v12->field[VMCS_IDX_CR0_GUEST_HOST_MASK]);
	v12->field[VMCS_IDX_GUEST_CR4] =
		nested_merge_guest_cr(v12->field[VMCS_IDX_GUEST_CR4], cr->cr4_shadow02,
				      cr->cr4_l0_guest_owned, v12->field[VMCS_IDX_CR4_GUEST_HOST_MASK]);
	unsigned reads = p->count;

	/* The event L1 asked to inject is gone: delivered, or in IDT-vectoring info. */
	v12->field[VMCS_IDX_VM_ENTRY_INTR_INFO_FIELD] &= ~(uint64_t)INTR_INFO_VALID;

	/*
	 * SDM 28.2 "Updating VM-Entry Control Fields": IA-32e mode guest =
	 * LMA, from vmcs02's EFER (which vmcs02 always saves; the eager rows
	 * read it only where L1 saves it).
	 */
	uint64_t entry = v12->field[VMCS_IDX_VM_ENTRY_CONTROLS] & ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
	uint64_t efer;
	if (v12->field[VMCS_IDX_VM_EXIT_CONTROLS] & EXIT_SAVE_IA32_EFER) {
		efer = v12->field[VMCS_IDX_GUEST_IA32_EFER]; /* an eager row: just read */
	} else {
		efer = vmcs_read(VMCS_GUEST_IA32_EFER);
		reads++;
	}
	if (efer & EFER_LMA)
		entry |= ENTRY_IA32E_MODE_GUEST;
	v12->field[VMCS_IDX_VM_ENTRY_CONTROLS] = entry;
	return reads;
}

unsigned nested_sync_vmcs12_eager(struct vmcs12 *v12, uint32_t l1_features,
				  const struct vmcs02_cr_state *cr)
{
	struct nested_sync_plan p;
	nested_sync_plan(v12, l1_features, &p);
	return nested_sync_vmcs12_planned(v12, &p, cr);
}

/* No lazy row is CR0 or CR4 (they are eager: the plan merges them), so no merge here. */
unsigned nested_sync_vmcs12_lazy(struct vmcs12 *v12, uint32_t l1_features)
{
	const struct saved_rows s = saved_rows_of(v12, l1_features);
	unsigned reads = 0;
	for (unsigned k = 0; k < sizeof(lazy_rows) / sizeof(lazy_rows[0]); k++) {
		if (!row_saved(&s, lazy_rows[k]))
			continue;
		v12->field[lazy_rows[k]] = vmcs_read(vmcs_field_table[lazy_rows[k]].encoding);
		reads++;
	}
	return reads;
}

unsigned nested_sync_vmcs12(struct vmcs12 *v12, const struct vmx_caps *l1_caps,
			    const struct vmcs02_cr_state *cr)
{
	uint32_t present = vmcs_features_present(l1_caps);
	return nested_sync_vmcs12_eager(v12, present, cr) + nested_sync_vmcs12_lazy(v12, present);
}
