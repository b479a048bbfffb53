/*
 * init_exit.c - the INIT-signal and SIPI VM exits (reasons 3 and 4) L0
 * makes up for L1.  INIT: when an INIT meets a CPU that runs L2 - one L0
 * emulated for an AP, or one L1 blocked in VMX root operation and then
 * entered L2 with (SDM Vol. 3C 24.8, 26.2; vmx/init_signal.h).  SIPI: when
 * a SIPI L0 emulates meets the L2 it holds in wait-for-SIPI
 * (nested/wait_sipi.h).  A real INIT that exits from vmcs02 is reflected
 * like any exit (nested/reflect.c).
 */
#include "run.h"

#include "vmx/hw_ops.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

/* SDM 28.2.1: both exits have no interruption; INIT's qualification is 0, SIPI's the vector. */
static void signal_exit(struct vcpu *v, struct guest_regs *r, uint32_t reason, uint64_t qual)
{
	struct nested_vcpu *nv = v->nested;
	struct vmcs12 *v12 = nv->cpu.vmcs12;
	/*
	 * vmcs02 is current and may hold an event for L2 that was not
	 * delivered: the one L1's entry injects (the INIT was held across the
	 * entry, vmcs02 never ran) or one L0 was about to inject or re-inject
	 * (complete_interrupted_event).  L1 gets it as IDT-vectoring
	 * information (SDM 28.2.4) and injects it again, as KVM's
	 * vmcs12_save_pending_event does.
	 */
	uint32_t pending = (uint32_t)vmcs_read(VMCS_VM_ENTRY_INTR_INFO_FIELD);
	uint32_t pending_error = (uint32_t)vmcs_read(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE);
	uint32_t pending_len = (uint32_t)vmcs_read(VMCS_VM_ENTRY_INSTRUCTION_LEN);
	/*
	 * vmcs02's timer-value field as L1's count left (nested/timer.h): the
	 * field L0 armed, possibly with L0's shorter interval, after an exit
	 * L0 kept, or before vmcs02 ever ran.
	 */
	nested_timer_stop(&nv->timer, hw_rdtsc());
	nv->last_sync_reads = nested_sync_vmcs12(v12, &g_l0.l1_vmx, &nv->cr);
	nv->lazy_pending = false; /* the whole rebuild: a vmcs02 that never ran may be relaunched */
	vmcs12_set(v12, VMCS_VM_EXIT_REASON, reason);
	vmcs12_set(v12, VMCS_EXIT_QUALIFICATION, qual);
	vmcs12_set(v12, VMCS_VM_EXIT_INTR_INFO, 0);
	vmcs12_set(v12, VMCS_VM_EXIT_INTR_ERROR_CODE, 0);
	vmcs12_set(v12, VMCS_VMX_INSTRUCTION_INFO, 0);
	if (pending & INTR_INFO_VALID) {
		vmcs12_set(v12, VMCS_IDT_VECTORING_INFO_FIELD, pending);
		vmcs12_set(v12, VMCS_IDT_VECTORING_ERROR_CODE,
			   (pending & INTR_INFO_DELIVER_CODE) ? pending_error : 0);
		vmcs12_set(v12, VMCS_VM_EXIT_INSTRUCTION_LEN, pending_len);
	} else {
		vmcs12_set(v12, VMCS_IDT_VECTORING_INFO_FIELD, 0);
		vmcs12_set(v12, VMCS_IDT_VECTORING_ERROR_CODE, 0);
		vmcs12_set(v12, VMCS_VM_EXIT_INSTRUCTION_LEN, 0);
	}
	/* A vmcs02 that never ran is launched afresh at the next entry. */
	if (v->enter_launch)
		nv->vmcs02_for = VMPTR_INVALID;
	nv->launch_pending = false;
	nv->reflected++;
	nested_exit_to_l1(v, r, true);
}

void nested_init_exit(struct vcpu *v, struct guest_regs *r)
{
	signal_exit(v, r, EXIT_REASON_INIT_SIGNAL, 0);
}

void nested_sipi_exit(struct vcpu *v, struct guest_regs *r, uint8_t vector)
{
	struct nested_vcpu *nv = v->nested;
	/*
	 * SDM 26.5.1: L1's timer counted down in wait-for-SIPI, without an
	 * exit at 0: what elapsed since the entry is taken off L1's count,
	 * which signal_exit then leaves in vmcs02's field for the rebuild.
	 */
	uint64_t tsc = hw_rdtsc();
	nested_timer_resume(&nv->timer, 0, tsc,
			    (unsigned)(g_l0.caps.misc & VMX_MISC_TIMER_RATE_MASK));
	signal_exit(v, r, EXIT_REASON_SIPI, vector);
}
