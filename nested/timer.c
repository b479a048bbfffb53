/*
 * timer.c - L1's VMX-preemption timer for L2 beside L0's (timer.h).
 */
#include "timer.h"

#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

/* vmcs02's one timer: L1's count left, or L0's interval where that is sooner. */
static void arm(struct nested_timer *t, uint32_t l0_value)
{
	uint32_t value = l0_value;
	if (t->l1 && (!t->l0 || t->left < l0_value))
		value = t->left;
	vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, value);
	t->armed = value;
}

void nested_timer_enter(struct nested_timer *t, const struct vmcs12 *v12, bool l0,
			uint32_t l0_value)
{
	*t = (struct nested_timer){0};
	/*
	 * SDM Vol. 3C 27.7.4: VM entry loads the timer from the field.  L1's
	 * count is vmcs12's field as it stands: its own value, or the one the
	 * last exit saved when vmcs12 asked for that (28.3.4).
	 */
	t->l1 = VMCS12_FIELD(v12, PIN_BASED_VM_EXEC_CONTROL) & PIN_PREEMPTION_TIMER;
	t->l0 = l0;
	if (!t->l1 && !t->l0)
		return;
	vmcs_set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
	if (t->l1) {
		t->left = (uint32_t)VMCS12_FIELD(v12, VMX_PREEMPTION_TIMER_VALUE);
		/* L0's bookkeeping: vmcs12's exit control decides only what vmcs12 sees. */
		vmcs_set_bits(VMCS_VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPTION_TIMER);
	}
	arm(t, l0_value);
}

void nested_timer_stop(struct nested_timer *t, uint64_t tsc)
{
	if (!t->l1)
		return;
	/*
	 * SDM 28.3.4: vmcs02 saved the count left of what L0 armed (armed
	 * <= left).  A field above armed is not the CPU's count: nothing ran.
	 */
	uint32_t now = (uint32_t)vmcs_read(VMCS_VMX_PREEMPTION_TIMER_VALUE);
	uint32_t ran = now <= t->armed ? t->armed - now : 0;
	t->left -= ran;
	vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, t->left);
	t->armed = t->left;
	t->tsc = tsc;
}

void nested_timer_resume(struct nested_timer *t, uint32_t l0_value, uint64_t tsc, unsigned rate)
{
	if (!t->l1)
		return; /* L0's timer alone: its handler rearms it (vmx/console.c) */
	/* SDM 26.5.1: one count each time bit "rate" of the TSC changes. */
	uint64_t edges = (tsc >> rate) - (t->tsc >> rate);
	if (tsc < t->tsc)
		edges = 0;
	t->left = edges >= t->left ? 0 : t->left - (uint32_t)edges;
	t->tsc = tsc;
	arm(t, l0_value);
}

bool nested_timer_l1_expired(const struct nested_timer *t)
{
	return t->l1 && t->left == 0;
}
