/*
 * vmexit.c - exits while L2 runs: L0's own, handled on vmcs02 and L2
 * resumed; or L1's, reflected: vmcs12 rebuilt from vmcs02, and L1 loaded
 * from vmcs12's host-state area at its host RIP on vmcs01 (run.h).
 *
 * The order of a reflected exit is SDM Vol. 3C 28: exit information and
 * guest state recorded (28.2-28.3, nested_sync_vmcs12), the VM-exit
 * MSR-store area (28.4), host state (28.5, nested_load_l1_host_state),
 * the VM-exit MSR-load area (28.6); a failure in 28.4-28.6 is a VMX abort
 * (28.7).  "Acknowledge interrupt on exit" is the CPU's own: vmcs02 has it
 * when vmcs12 has it (prepare02.c), so the vector the CPU acknowledged is
 * in the exit interruption information the rebuild copies.
 */
#include "run.h"

#include "drivers/serial/log.h"
#include "nested/ept12.h"
#include "nested/load_host.h"
#include "nested/msr_lists.h"
#include "nested/reflect.h"
#include "nested/shadow12.h"
#include "nested/shadow_vmcs.h"
#include "nested/vmfunc.h"
#include "vmx/ap_start.h"
#include "vmx/console.h"
#include "vmx/exit.h"
#include "vmx/hw_ops.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"
#include "vmx/vmcs_dump.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_names.h"

#define F(name) VMCS12_FIELD(v12, name)

static const char *abort_name(uint32_t indicator)
{
	switch (indicator) {
	case VMX_ABORT_SAVE_GUEST_MSR:
		return "saving an MSR of L2 failed";
	case VMX_ABORT_HOST_PDPTE:
		return "a PDPTE of L1's host CR3 is bad";
	case VMX_ABORT_LOAD_HOST_MSR:
		return "loading an MSR of L1 failed";
	}
	return "?";
}

/*
 * SDM Vol. 3C 28.7: the indicator goes into the VMCS region's abort
 * field and the logical processor (here: L1) enters the shutdown state.
 * L0 treats L1's shutdown as its triple fault: the CPU stops or the
 * machine resets (on_triple_fault).
 */
static __attribute__((noreturn)) void vmx_abort(struct vcpu *v, uint32_t indicator,
						 uint32_t entry)
{
	struct nested_vcpu *nv = v->nested;
	nv->cpu.vmcs12->abort = indicator;
	const struct l1_memory *mem = l0_l1_memory();
	mem->write(mem->ctx, nv->cpu.current_vmptr + offsetof(struct vmcs12, abort), &indicator,
		   sizeof(indicator));
	log_error("nested: CPU %u: VMX abort %u (%s; MSR entry %u) while L2 exited to L1: "
		  "L1 shuts down (SDM 28.7)",
		  v->index, indicator, abort_name(indicator), entry);
	if (nv->in_l2) {
		hw_vmptrld(v->vmcs01_pa);
		nv->in_l2 = false;
	}
	exit_triple_fault(v, v->frame);
	__builtin_unreachable();
}

/*
 * The rebuild at an exit L1 gets (SDM 28.2-28.3): the eager fields now,
 * the lazy ones when vmcs12 is needed whole (nested_complete_vmcs12).
 */
static void sync_at_exit(struct nested_vcpu *nv)
{
	/* The plan of the last full entry: vmcs12's controls have not changed since. */
	nv->last_sync_reads = nested_sync_vmcs12_planned(nv->cpu.vmcs12, &nv->sync_plan, &nv->cr);
	nv->lazy_pending = true;
}

void nested_complete_vmcs12(struct vcpu *v)
{
	struct nested_vcpu *nv = v->nested;
	if (!nv->lazy_pending)
		return;
	hw_vmptrld(nv->vmcs02_pa);
	nv->last_lazy_reads = nested_sync_vmcs12_lazy(nv->cpu.vmcs12, g_l0.l1_features);
	hw_vmptrld(v->vmcs01_pa);
	nv->lazy_pending = false;
	nv->lazy_completions++;
}

void nested_exit_to_l1(struct vcpu *v, struct guest_regs *r, bool from_l2)
{
	(void)r;
	struct nested_vcpu *nv = v->nested;
	/* Only an exit the CPU saved L2's state for leaves vmcs12 clean (reflect). */
	nv->clean = false;
	struct vmcs12 *v12 = nv->cpu.vmcs12;
	const struct l1_memory *mem = l0_l1_memory();
	uint32_t max = VMX_MISC_MAX_MSR_LIST(g_l0.l1_vmx.misc);
	const struct nested_msr_ops msr_ops = nested_msr_ops_current(v);
	if (from_l2) {
		/* SDM 28.4: L2's MSRs, read while vmcs02 is current. */
		uint32_t bad = nested_msr_list(NMSR_EXIT_STORE, F(VM_EXIT_MSR_STORE_ADDR),
					       (uint32_t)F(VM_EXIT_MSR_STORE_COUNT), max, mem,
					       &msr_ops);
		if (bad)
			vmx_abort(v, VMX_ABORT_SAVE_GUEST_MSR, bad);
		hw_vmptrld(v->vmcs01_pa);
		nv->in_l2 = false;
	}
	/* SDM 28.5 into vmcs01; then 28.6 with vmcs01 current. */
	struct nested_host_env henv = { &g_l0.caps, g_l0.unrestricted_guest, mem };
	if (nested_load_l1_host_state(v12, &henv) != NHOST_OK)
		vmx_abort(v, VMX_ABORT_HOST_PDPTE, 0);
	uint32_t bad = nested_msr_list(NMSR_EXIT_LOAD, F(VM_EXIT_MSR_LOAD_ADDR),
				       (uint32_t)F(VM_EXIT_MSR_LOAD_COUNT), max, mem,
				       &msr_ops);
	if (bad)
		vmx_abort(v, VMX_ABORT_LOAD_HOST_MSR, bad);
	/* Without VPID in vmcs12 the exit flushes L1's mappings (SDM 28.5.5, nested/vpid.h). */
	if (g_l0.vpid)
		nested_vpid_exit(v12);
	/* What the exit changed in vmcs12, into the shadow L1 reads it from (shadow_vmcs.h). */
	nested_shadow_to_l1(v);
	v->enter_launch = false;
}

/* The exit as the reflect decision needs it (vmcs02 current). */
static void read_exit(struct l2_exit *e, const struct guest_regs *r, uint32_t basic)
{
	*e = (struct l2_exit){ 0 };
	e->reason = basic;
	e->qualification = vmcs_read(VMCS_EXIT_QUALIFICATION);
	if (basic == EXIT_REASON_EXCEPTION_NMI) {
		e->intr_info = (uint32_t)vmcs_read(VMCS_VM_EXIT_INTR_INFO);
		e->intr_error = (uint32_t)vmcs_read(VMCS_VM_EXIT_INTR_ERROR_CODE);
	}
	/*
	 * MOV to CR (access type 0): the source register, SDM Table 28-3, at
	 * the instruction's operand size: outside 64-bit mode that is 32 bits
	 * (SDM Vol. 2 MOV to CR), so a 32-bit L2's stale high register bits
	 * play no part in the CR0/CR4 mask or CR3-target comparison (26.1.3).
	 */
	if (basic == EXIT_REASON_CR_ACCESS && ((e->qualification >> 4) & 3) == 0) {
		e->gpr_value = vmx_gpr_read(r, (unsigned)(e->qualification >> 8) & 15);
		if (vmx_guest_code_size() != X86_CODE64)
			e->gpr_value = (uint32_t)e->gpr_value;
	}
	if (basic == EXIT_REASON_MSR_READ || basic == EXIT_REASON_MSR_WRITE)
		e->msr = (uint32_t)r->gpr[GPR_RCX];
	/*
	 * VMREAD/VMWRITE: the field operand, reg2 (SDM Table 28-14, bits
	 * 31:28), 64 bits in 64-bit mode and 32 outside (SDM 31.3).  The CPU
	 * made its #UD checks (mode) before the exit.
	 */
	if (basic == EXIT_REASON_VMREAD || basic == EXIT_REASON_VMWRITE) {
		uint32_t info = (uint32_t)vmcs_read(VMCS_VMX_INSTRUCTION_INFO);
		e->vmcs_field = vmx_gpr_read(r, (info >> 28) & 15);
		if (vmx_guest_code_size() != X86_CODE64)
			e->vmcs_field = (uint32_t)e->vmcs_field;
	}
}

/*
 * The CPU refused vmcs02's guest state although L0's checks passed
 * vmcs12's (a gap in entry_checks_guest.c, or a CPU rule beyond the
 * SDM): L1 sees the CPU's failure as the failure of its own entry.
 */
static void hw_entry_failure(struct vcpu *v, struct guest_regs *r, uint32_t reason)
{
	uint64_t qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
	uint32_t basic = reason & EXIT_REASON_BASIC_MASK;
	log_warn("nested: CPU %u: the CPU refused vmcs02 with exit reason %u (%s), qualification "
		 "%llu, after L0's checks passed vmcs12: L1 gets the same VM-entry failure",
		 v->index, basic, vmx_exit_reason_name(basic), (unsigned long long)qual);
	vmcs_dump(LOG_DEBUG, VMCS_DUMP_GUEST);
	nested_abandon_vmcs02(v);
	nested_fail_entry(v, r, reason, qual);
}

/*
 * SDM Vol. 3C 27.9 (VM-entry failures during or after loading guest
 * state): exit reason 41 is a machine-check event of the hardware during
 * the entry, L0's to handle, not a failure of L1's entry: vmcs12 and L1
 * see nothing.  L0 logs it and enters vmcs02 again from the state it
 * built (VMCLEAR then VMLAUNCH, whatever the failed entry's launch state
 * left).  A CPU whose entries keep failing so has a hardware fault L0
 * cannot hide: it stops, saying so.
 */
#define MCE_ENTRY_RETRIES 8

static void mce_during_entry(struct vcpu *v)
{
	struct nested_vcpu *nv = v->nested;
	log_error("nested: CPU %u: machine-check event during the VM entry to L2 (exit reason 41, "
		  "SDM 27.9): L0's, entering L2 again",
		  v->index);
	if (++nv->mce_entry_retries > MCE_ENTRY_RETRIES)
		vmx_halt_cpu(v, "repeated machine checks during VM entry: a hardware fault");
	hw_vmclear(nv->vmcs02_pa);
	hw_vmptrld(nv->vmcs02_pa);
	v->enter_launch = true;
}

static void reflect(struct vcpu *v, struct guest_regs *r, const struct l2_exit *e,
		    uint64_t reads0, uint64_t writes0)
{
	struct nested_vcpu *nv = v->nested;
	sync_at_exit(nv);
	nv->reflected++;
	nested_exit_to_l1(v, r, true);
	nv->clean = true;
	/*
	 * SDM 28.5 (and 26.2.x): after a VM exit caused by an NMI, NMIs are
	 * blocked in the host until its IRET: L1's virtual-NMI blocking.
	 */
	if (e->reason == EXIT_REASON_EXCEPTION_NMI &&
	    (e->intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI)
		vmcs_set_bits(VMCS_GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_NMI);
	uint64_t reads, writes;
	vmcs_access_counts(&reads, &writes);
	nv->last_reflect_vmreads = reads - reads0;
	nv->last_reflect_vmwrites = writes - writes0;
}

/*
 * Injects again the event whose delivery to L2 an exit of L0's own
 * interrupted (IDT-vectoring information, SDM Vol. 3C 28.2.4): L2 has not
 * received it (27.6).
 */
static void redeliver(uint32_t idt)
{
	/* Bit 12 is undefined in IDT-vectoring information and reserved on entry. */
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, idt & ~(uint32_t)(1u << 12));
	if (idt & INTR_INFO_DELIVER_CODE)
		vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE,
			   vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE));
	vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN));
	/*
	 * An NMI whose delivery was interrupted left virtual-NMI blocking
	 * set (SDM 28.1), under which VM entry refuses to inject an NMI
	 * (27.3.1.5): the VMM clears it first (Vol. 3C, "Resuming Guest
	 * Software after Handling an Exception").
	 */
	if ((idt & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI &&
	    (vmcs_read(VMCS_PIN_BASED_VM_EXEC_CONTROL) & PIN_VIRTUAL_NMIS))
		vmcs_clear_bits(VMCS_GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_NMI);
}

/* SDM Vol. 3A 6.15, Table 6-4: #DE, #TS, #NP, #SS, #GP. */
static bool contributory(unsigned vector)
{
	return vector == VEC_DE || (vector >= VEC_TS && vector <= VEC_GP);
}

/* A triple fault of L2 always exits to L1 (SDM Vol. 3C 26.2), reason 2. */
static void reflect_triple_fault(struct vcpu *v, struct guest_regs *r)
{
	struct nested_vcpu *nv = v->nested;
	struct vmcs12 *v12 = nv->cpu.vmcs12;
	sync_at_exit(nv);
	vmcs12_set(v12, VMCS_VM_EXIT_REASON, EXIT_REASON_TRIPLE_FAULT);
	vmcs12_set(v12, VMCS_EXIT_QUALIFICATION, 0);
	vmcs12_set(v12, VMCS_VM_EXIT_INTR_INFO, 0);
	vmcs12_set(v12, VMCS_IDT_VECTORING_INFO_FIELD, 0);
	nv->reflected++;
	nested_exit_to_l1(v, r, true);
}

/*
 * An EPT violation or misconfiguration of L1's EPT (nested/ept12.h): the
 * exit L1 would have had, reason 48 with the qualification L0 built, or
 * 49; the rest of the exit information (guest-physical and -linear
 * addresses, IDT-vectoring information) is the CPU's, from vmcs02.
 */
/*
 * L1's EPT violation or misconfiguration; addr: the guest-physical and
 * guest-linear addresses where they are not vmcs02's (an access L0
 * emulated), else NULL.
 */
static void reflect_ept_at(struct vcpu *v, struct guest_regs *r, uint32_t reason12,
			   uint64_t qual12, const uint64_t addr[2])
{
	struct nested_vcpu *nv = v->nested;
	struct vmcs12 *v12 = nv->cpu.vmcs12;
	sync_at_exit(nv);
	vmcs12_set(v12, VMCS_VM_EXIT_REASON, reason12);
	vmcs12_set(v12, VMCS_EXIT_QUALIFICATION, qual12);
	vmcs12_set(v12, VMCS_VM_EXIT_INTR_INFO, 0);
	if (addr) {
		vmcs12_set(v12, VMCS_GUEST_PHYSICAL_ADDRESS, addr[0]);
		vmcs12_set(v12, VMCS_GUEST_LINEAR_ADDRESS, addr[1]);
	}
	nv->reflected++;
	nested_exit_to_l1(v, r, true);
	nv->clean = true;
}

/*
 * An instruction of L2's that L0 emulated (nested_guest_memory) met an
 * access EPT12 refuses: L1's EPT violation or misconfiguration, as the
 * CPU would have delivered it (SDM Vol. 3C 28.2.1: the qualification of
 * nested/ept_exit.h, the guest-physical and guest-linear addresses of the
 * access), a fault-like exit: RIP and RFLAGS as before the instruction,
 * which the emulation left untouched (it injected nothing), and the
 * IDT-vectoring information of the exit L0 took (none for an instruction).
 */
static bool reflect_emulated_ept12_fault(struct vcpu *v, struct guest_regs *r)
{
	uint32_t reason12;
	uint64_t qual12, addr[2];
	if (!nested_ept12_fault_take(v, &reason12, &qual12, &addr[0], &addr[1]))
		return false;
	reflect_ept_at(v, r, reason12, qual12, addr);
	return true;
}
/*
 * An exception L0 raised for L2 (its handler injected it into vmcs02) is,
 * on L1's virtual CPU, an exception L2's instruction raised: where
 * vmcs12's exception bitmap asks for it (SDM Vol. 3C 26.1.3, #PF by its
 * error-code mask and match) it is an exception exit to L1 (26.2), not
 * an event for L2's IDT.  The exit-information fields are those of SDM
 * 28.2.2: reason 0; interruption information and error code of the
 * exception; qualification 0, or the linear address for #PF (which L0
 * has put in CR2: unlike the CPU's own exit, L2's CR2 holds it too); the
 * event whose delivery the exit interrupted as IDT-vectoring information
 * (28.2.4), which vmcs02's field already holds, unless that event and
 * L0's exception merged into the #DF (merged: nothing is left of the
 * first event, as in KVM).  RIP stays at the
 * instruction and RFLAGS.RF is 1, as vmx_inject_exception left them
 * (28.3.3).  Returns whether L1 got the exit.
 */
static bool l0_exception_exits_to_l1(struct vcpu *v, struct guest_regs *r, bool merged)
{
	if (!nested_in_l2(v))
		return false;
	uint32_t info = (uint32_t)vmcs_read(VMCS_VM_ENTRY_INTR_INFO_FIELD);
	if (!(info & INTR_INFO_VALID) || (info & INTR_INFO_TYPE_MASK) != INTR_TYPE_HARD_EXCEPTION)
		return false;
	struct nested_vcpu *nv = v->nested;
	struct vmcs12 *v12 = nv->cpu.vmcs12;
	struct l2_exit e = { .reason = EXIT_REASON_EXCEPTION_NMI, .intr_info = info };
	if (info & INTR_INFO_DELIVER_CODE)
		e.intr_error = (uint32_t)vmcs_read(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE);
	const struct nested_bitmaps none = { 0 };
	if (nested_exit_owner(v12, &e, &none) != NESTED_L1)
		return false;
	unsigned vector = info & INTR_INFO_VECTOR_MASK;
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0); /* nothing for L2 */
	sync_at_exit(nv);
	vmcs12_set(v12, VMCS_VM_EXIT_REASON, EXIT_REASON_EXCEPTION_NMI);
	vmcs12_set(v12, VMCS_EXIT_QUALIFICATION, vector == VEC_PF ? hw_get_cr2() : 0);
	vmcs12_set(v12, VMCS_VM_EXIT_INTR_INFO, info);
	vmcs12_set(v12, VMCS_VM_EXIT_INTR_ERROR_CODE, e.intr_error);
	vmcs12_set(v12, VMCS_VMX_INSTRUCTION_INFO, 0);
	if (merged) {
		vmcs12_set(v12, VMCS_IDT_VECTORING_INFO_FIELD, 0);
		vmcs12_set(v12, VMCS_IDT_VECTORING_ERROR_CODE, 0);
	}
	log_debug("nested: CPU %u: exception %u L0 raised for L2 exits to L1 (its exception bitmap)",
		  v->index, vector);
	nv->reflected++;
	nested_exit_to_l1(v, r, true);
	return true;
}

/*
 * After L0's own handling of an exit that interrupted the delivery of an
 * event to L2 (idt: the IDT-vectoring information): if L0 injected
 * nothing, the event is delivered again; if L0 injected an exception, the
 * CPU would have combined the two (SDM Vol. 3A 6.15, Table 6-5):
 * contributory after contributory, or #PF/contributory after #PF, is #DF;
 * either after #DF is a triple fault, L1's exit.  Otherwise L0's
 * exception stands and the interrupted event is lost, as on the CPU.
 */
static void complete_interrupted_event(struct vcpu *v, struct guest_regs *r, uint32_t idt)
{
	if (!(idt & INTR_INFO_VALID))
		return;
	uint32_t now = (uint32_t)vmcs_read(VMCS_VM_ENTRY_INTR_INFO_FIELD);
	if (!(now & INTR_INFO_VALID)) {
		redeliver(idt);
		return;
	}
	if ((idt & INTR_INFO_TYPE_MASK) != INTR_TYPE_HARD_EXCEPTION ||
	    (now & INTR_INFO_TYPE_MASK) != INTR_TYPE_HARD_EXCEPTION)
		return;
	unsigned first = idt & INTR_INFO_VECTOR_MASK, second = now & INTR_INFO_VECTOR_MASK;
	bool second_severe = contributory(second) || second == VEC_PF;
	if (first == VEC_DF && second_severe) {
		reflect_triple_fault(v, r);
	} else if ((contributory(first) && contributory(second)) ||
		   (first == VEC_PF && second_severe)) {
		vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION |
								   INTR_INFO_DELIVER_CODE | VEC_DF);
		vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
		l0_exception_exits_to_l1(v, r, true);
	}
}

void nested_route_pending_nmi(struct vcpu *v)
{
	if (!v->nmi_pending || !nested_in_l2(v) ||
	    !(vmcs12_get(v->nested->cpu.vmcs12, VMCS_PIN_BASED_VM_EXEC_CONTROL) & PIN_NMI_EXITING))
		return;
	v->nmi_pending = false;
	hw_send_ipi(v->msrs.apic_base, v->apic_id, ICR_MODE_NMI);
}

/* An exit from L2 that ran: L1's, or L0's with L2 resumed. */
static void l2_exit(struct vcpu *v, struct guest_regs *r, uint32_t basic, uint64_t reads0,
		    uint64_t writes0)
{
	struct nested_vcpu *nv = v->nested;
	struct l2_exit e;
	read_exit(&e, r, basic);
	e.l1_timer_expired = nested_timer_l1_expired(&nv->timer);
	bool nmi = basic == EXIT_REASON_EXCEPTION_NMI &&
		   (e.intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI;
	/*
	 * An NMI L0 sent to kick this CPU (an INIT L0 emulates, ap_start.h)
	 * is L0's whatever vmcs12's NMI exiting says: never L1's NMI exit.
	 * The INIT itself reaches L1 at the end of this exit (init_signal.h).
	 */
	if (nmi && ap_start_nmi_is_kick(v)) {
		hw_unblock_nmi();
		complete_interrupted_event(v, r, (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO_FIELD));
		return;
	}
	/* What the CPU used at this entry: L0's bitmaps and L0's copies of L1's. */
	uint64_t io0_a = 0, io0_b = 0;
	if (nv->io_merged && !l0_console_io_bitmaps(&io0_a, &io0_b))
		io0_a = io0_b = 0;
	const struct nested_bitmaps bitmaps = {
		.msr12 = (const uint8_t *)(uintptr_t)nv->msr_bitmap12_copy_pa,
		.msr0 = (const uint8_t *)(uintptr_t)g_l0.msr_bitmap_pa,
		.io0_a = (const uint8_t *)(uintptr_t)io0_a,
		.io0_b = (const uint8_t *)(uintptr_t)io0_b,
		.io12 = (const uint8_t *)(uintptr_t)nv->io_bitmap12_copy_pa,
		.vmread12 = (const uint8_t *)(uintptr_t)nv->vmread_bitmap12_copy_pa,
		.vmwrite12 = (const uint8_t *)(uintptr_t)nv->vmwrite_bitmap12_copy_pa,
	};
	if (nested_exit_owner(nv->cpu.vmcs12, &e, &bitmaps) == NESTED_L1) {
		if (nmi)
			hw_unblock_nmi(); /* L0's own blocking; L1's is set by reflect */
		reflect(v, r, &e, reads0, writes0);
		return;
	}
	/* L0's own: its handlers act on the current VMCS, vmcs02, i.e. on L2. */
	uint32_t idt = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO_FIELD);
	/* Under L1's EPT, EPT02's faults are EPT12's or L0's (nested/ept12.h). */
	if ((basic == EXIT_REASON_EPT_VIOLATION || basic == EXIT_REASON_EPT_MISCONFIG) &&
	    nested_ept12_enabled(nv->cpu.vmcs12)) {
		uint32_t reason12;
		uint64_t qual12;
		if (nested_ept_exit(v, r, basic, &reason12, &qual12)) {
			reflect_ept_at(v, r, reason12, qual12, NULL);
			return;
		}
		if (!l0_exception_exits_to_l1(v, r, false))
			complete_interrupted_event(v, r, idt);
		return;
	}
	/*
	 * A MOV to CR0/CR4 (CLTS, LMSW) exits to L0 alone only when it would
	 * change a bit L0 owns and L1 does not: a bit fixed in VMX operation
	 * (vmx_cr0_host_owned), which L2 runs in.  SDM Vol. 3C 26.3: #GP(0).
	 */
	if (basic == EXIT_REASON_CR_ACCESS) {
		vmx_inject_gp0();
		if (!l0_exception_exits_to_l1(v, r, false))
			complete_interrupted_event(v, r, idt);
		return;
	}
	/* L2's VMFUNC: the EPTP switch L0 completes, or L1's exit (nested/vmfunc.h). */
	if (basic == EXIT_REASON_VMFUNC) {
		if (nested_vmfunc_exit(v, r)) {
			reflect(v, r, &e, reads0, writes0);
			return;
		}
		if (!l0_exception_exits_to_l1(v, r, false))
			complete_interrupted_event(v, r, idt);
		return;
	}
	/* VMREAD/VMWRITE of L2's that L1's shadow VMCS serves (nested/shadow12.h). */
	if (basic == EXIT_REASON_VMREAD || basic == EXIT_REASON_VMWRITE) {
		nested_shadow_emulate(&nv->cpu, &g_l0.l1_vmx, l0_l1_memory(),
				      nested_guest_memory(v), r, basic);
		if (reflect_emulated_ept12_fault(v, r))
			return;
		if (!l0_exception_exits_to_l1(v, r, false))
			complete_interrupted_event(v, r, idt);
		return;
	}
	exit_handler_fn h = vmx_exit_handler_for(basic);
	if (!h) {
		log_error("nested: CPU %u: exit reason %u (%s) from L2 that neither L1 asked for nor "
			  "L0 expects, qualification 0x%llx",
			  v->index, basic, vmx_exit_reason_name(basic),
			  (unsigned long long)e.qualification);
		vmcs_dump(LOG_ERROR, VMCS_DUMP_ALL);
		vmx_halt_cpu(v, "unexpected VM exit from L2");
	}
	h(v, r);
	if (reflect_emulated_ept12_fault(v, r))
		return;
	if (!l0_exception_exits_to_l1(v, r, false))
		complete_interrupted_event(v, r, idt);
}

void nested_l2_exit(struct vcpu *v, struct guest_regs *r)
{
	/* L1's preemption timer stopped here, as far as L0 can tell (nested/timer.h). */
	uint64_t tsc = hw_rdtsc();
	struct nested_vcpu *nv = v->nested;
	uint64_t reads0, writes0;
	vmcs_access_counts(&reads0, &writes0);
	uint32_t reason = (uint32_t)vmcs_read(VMCS_VM_EXIT_REASON);
	nv->l2_exits++;
	/*
	 * A failed entry saves no guest state (SDM Vol. 3C 27.8): vmcs02's
	 * timer-value field still holds what L0 armed, nothing ran.
	 */
	if ((reason & EXIT_REASON_BASIC_MASK) == EXIT_REASON_MCE_DURING_VMENTRY) {
		mce_during_entry(v);
		return;
	}
	if (reason & EXIT_REASON_FAILED_ENTRY) {
		hw_entry_failure(v, r, reason);
		return;
	}
	nv->mce_entry_retries = 0;
	nv->launch_pending = false;
	nested_timer_stop(&nv->timer, tsc);
	l2_exit(v, r, reason & EXIT_REASON_BASIC_MASK, reads0, writes0);
	/* L0 kept the exit: L2 goes on with what is left of L1's count. */
	if (nested_in_l2(v))
		nested_timer_resume(&nv->timer, l0_console_timer_value(), hw_rdtsc(),
				    (unsigned)(g_l0.caps.misc & VMX_MISC_TIMER_RATE_MASK));
}
