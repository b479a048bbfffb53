/*
 * exit.c - the L0 exit dispatcher.
 *
 * One table, indexed by basic exit reason (SDM Vol. 3C Appendix C), names
 * the handler of every exit L0 expects from the controls it sets in
 * vmcs01; any other reason gives L1 a #UD with an error line and a VMCS
 * dump (exit_unexpected: L1 must never be able to stop L0).  Every exit is
 * counted per CPU and per reason (hypercall HC_EXIT_COUNT, the console
 * statistics).
 */
#include "exit.h"

#include "ap_start.h"
#include "arch/x86/cpu.h"
#include "hw_ops.h"
#include "console.h"
#include "controls.h"
#include "drivers/serial/log.h"
#include "ept01.h"
#include "l0.h"
#include "nested/run.h"
#include "nested/wait_sipi.h"
#include "init_signal.h"
#include "task_switch.h"
#include "vmcs.h"
#include "vmcs_dump.h"
#include "vmx_arch.h"
#include "vmx_names.h"

void vmx_launch_failed_exit(struct vcpu *v);

static const exit_handler_fn exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = exit_exception_nmi,
	[EXIT_REASON_TRIPLE_FAULT] = exit_triple_fault,
	[EXIT_REASON_INIT_SIGNAL] = exit_init,
	[EXIT_REASON_SIPI] = exit_sipi,
	[EXIT_REASON_NMI_WINDOW] = exit_nmi_window,
	[EXIT_REASON_TASK_SWITCH] = exit_task_switch,
	[EXIT_REASON_CPUID] = exit_cpuid,
	[EXIT_REASON_GETSEC] = exit_getsec,
	[EXIT_REASON_MWAIT] = exit_monitor_mwait,
	[EXIT_REASON_MONITOR] = exit_monitor_mwait,
	[EXIT_REASON_INVD] = exit_invd,
	[EXIT_REASON_VMCALL] = exit_vmcall,
	[EXIT_REASON_VMCLEAR] = exit_vmx_instruction,
	[EXIT_REASON_VMLAUNCH] = exit_vmx_instruction,
	[EXIT_REASON_VMPTRLD] = exit_vmx_instruction,
	[EXIT_REASON_VMPTRST] = exit_vmx_instruction,
	[EXIT_REASON_VMREAD] = exit_vmx_instruction,
	[EXIT_REASON_VMRESUME] = exit_vmx_instruction,
	[EXIT_REASON_VMWRITE] = exit_vmx_instruction,
	[EXIT_REASON_VMXOFF] = exit_vmx_instruction,
	[EXIT_REASON_VMXON] = exit_vmx_instruction,
	[EXIT_REASON_INVEPT] = exit_vmx_instruction,
	[EXIT_REASON_INVVPID] = exit_vmx_instruction,
	[EXIT_REASON_CR_ACCESS] = exit_cr_access,
	[EXIT_REASON_MSR_READ] = exit_rdmsr,
	[EXIT_REASON_MSR_WRITE] = exit_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = exit_ept_misconfig,
	[EXIT_REASON_XSETBV] = exit_xsetbv,
	[EXIT_REASON_PREEMPTION_TIMER] = exit_preemption_timer,
	[EXIT_REASON_IO_INSTRUCTION] = exit_io,
};

exit_handler_fn vmx_exit_handler_for(uint32_t basic_reason)
{
	return basic_reason < EXIT_REASON_MAX ? exit_handlers[basic_reason] : NULL;
}

/*
 * An exit reason the table has no handler for never stops L0.  Every
 * reason that can exit without a control L0 sets is either handled or an
 * instruction L1 is not offered (GETSEC-like: SMX, SEAM, TDX, ENQCMD...,
 * which CPUID does not report to L1), whose architectural outcome on a
 * CPU without the feature is #UD (SDM Vol. 2, "invalid opcode"); any
 * other reason comes from a control L0 never sets, so it is a CPU or L0
 * anomaly.  Either way L1 gets #UD at its RIP, as a fault, with one error
 * line naming the reason (the first 16 of a reason on each CPU, then every
 * 1024th: L1 may loop on it; a VMCS dump with the first).  L1's shutdown
 * was the other choice: it would take down L1 for L0's gap, and with
 * on_triple_fault = halt stop the CPU, which L1 must never be able to do.
 */
static void exit_unexpected(struct vcpu *v, struct guest_regs *r)
{
	(void)r;
	static uint64_t beyond_table;
	uint32_t basic = (uint32_t)vmcs_read(VMCS_VM_EXIT_REASON) & EXIT_REASON_BASIC_MASK;
	uint64_t n = basic < EXIT_REASON_MAX ? v->exits[basic] : ++beyond_table;
	if (n <= 16 || (n & 1023) == 0) {
		log_error("CPU %u: unexpected exit reason %u (%s), qualification 0x%llx, L1 RIP "
			  "0x%llx: #UD to L1 (exit %llu of this reason)",
			  v->index, basic, vmx_exit_reason_name(basic),
			  (unsigned long long)vmcs_read(VMCS_EXIT_QUALIFICATION),
			  (unsigned long long)vmcs_read(VMCS_GUEST_RIP), (unsigned long long)n);
		if (n == 1) /* L0's host state is not what L1 did: the rest of the VMCS */
			vmcs_dump(LOG_ERROR, VMCS_DUMP_ALL & ~(1u << VMCS_CLASS_HOST));
	}
	vmx_inject_ud();
}

void vmx_halt_cpu(struct vcpu *v, const char *why)
{
	log_error("CPU %u: %s: CPU halted", v->index, why);
	cpu_halt_forever();
}

/* SDM Vol. 3C 27.8: a VM entry that fails after loading guest state exits. */
static void entry_failed(struct vcpu *v, uint32_t reason)
{
	uint32_t basic = reason & EXIT_REASON_BASIC_MASK;
	log_error("CPU %u: VM entry failed: exit reason %u (%s), qualification 0x%llx", v->index,
		  basic, vmx_exit_reason_name(basic),
		  (unsigned long long)vmcs_read(VMCS_EXIT_QUALIFICATION));
	vmcs_dump(LOG_ERROR, VMCS_DUMP_GUEST);
	if (!v->launched)
		vmx_launch_failed_exit(v); /* does not return */
	vmx_halt_cpu(v, "VM entry to L1 failed");
}

/*
 * The end of every exit: an L2 in wait-for-SIPI held until its SIPI exit
 * (nested/wait_sipi.h), an INIT taken, held or made L1's exit
 * (init_signal.h), a pending NMI routed or delivered; returns what the
 * exit stub enters next: VMLAUNCH (a fresh vmcs02, nonzero) or VMRESUME.
 */
static int finish_exit(struct vcpu *v, struct guest_regs *r)
{
	if (nested_l2_waits_for_sipi(v))
		nested_wait_sipi(v, r);
	vmx_init_signals(v, r);
	nested_route_pending_nmi(v);
	vmx_deliver_pending_nmi(v);
	vmx_ept01_sync(v);
	int launch = v->enter_launch;
	v->enter_launch = false;
	return launch;
}

int vmx_exit_dispatch(struct guest_regs *r)
{
	struct vcpu *v = r->vcpu;
	/* While L2 runs, vmcs02 is current and nested/ decides (run.h). */
	if (nested_in_l2(v)) {
		nested_l2_exit(v, r);
		return finish_exit(v, r);
	}
	uint32_t reason = (uint32_t)vmcs_read(VMCS_VM_EXIT_REASON);
	if (reason & EXIT_REASON_FAILED_ENTRY)
		entry_failed(v, reason);
	v->launched = true;

	uint32_t basic = reason & EXIT_REASON_BASIC_MASK;
	v->exits_total++;
	if (basic < EXIT_REASON_MAX)
		v->exits[basic]++;
	exit_handler_fn h = vmx_exit_handler_for(basic);
	if (!h)
		h = exit_unexpected;
	h(v, r);
	return finish_exit(v, r);
}

/*
 * arch/x86/vmx_entry.asm: VMRESUME/VMLAUNCH itself failed (cf =
 * VMfailInvalid).  Of vmcs02: L1 gets the VMfail and goes on (the return
 * value is the stub's next entry, as from vmx_exit_dispatch).  Of vmcs01:
 * L0 cannot run L1 any more; the CPU halts.
 */
int vmx_resume_failed(struct guest_regs *r, int cf, int zf)
{
	struct vcpu *v = r->vcpu;
	if (nested_in_l2(v)) {
		nested_vmcs02_entry_failed(v, cf);
		return 0; /* VMRESUME of vmcs01: L1 goes on after its VMfail */
	}
	if (cf) {
		log_error("CPU %u: VMRESUME failed: VMfailInvalid", v->index);
	} else {
		uint64_t err = vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
		log_error("CPU %u: VMRESUME failed: VMfailValid%s, VM-instruction error %llu (%s)",
			  v->index, zf ? "" : "?", (unsigned long long)err,
			  vmx_instruction_error_name((uint32_t)err));
	}
	vmcs_dump(LOG_ERROR, VMCS_DUMP_ALL);
	vmx_halt_cpu(v, "cannot resume L1");
}

void vmx_skip_instruction(void)
{
	vmx_skip_instruction_len((unsigned)vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN));
}

void vmx_skip_instruction_len(unsigned len)
{
	vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + len);
	/*
	 * SDM Vol. 3A 18.3.1.1: the CPU clears RFLAGS.RF when an instruction
	 * completes (an L1 that returned from a fault handler with RF = 1 in
	 * the image sees it cleared after the instruction L0 completed).
	 */
	uint64_t rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	if (rflags & RFLAGS_RF)
		vmcs_write(VMCS_GUEST_RFLAGS, rflags & ~RFLAGS_RF);
	/*
	 * An instruction completed with RFLAGS.TF = 1 owes a single-step trap
	 * (SDM Vol. 3A 18.3.1.4); L0 completed it, so L0 leaves the trap
	 * pending in BS of the pending debug exceptions (SDM Vol. 3C 25.4.2),
	 * unless DEBUGCTL.BTF turns TF into branch stepping.
	 */
	if ((vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_TF) &&
	    !(vmcs_read(VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF))
		vmcs_set_bits(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	/* Completing an instruction ends blocking by STI and by MOV SS. */
	uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO,
			   intr & ~(uint64_t)(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

/*
 * Fault-class exceptions (SDM Vol. 3A 6.15, table 6-1): all but #DB (a
 * trap or a fault, L0 never injects it), #BP and #OF (traps), #DF and #MC
 * (aborts) and NMI.
 */
static bool exception_is_fault(unsigned vector)
{
	return vector != VEC_DB && vector != VEC_NMI && vector != VEC_BP && vector != VEC_OF &&
	       vector != VEC_DF && vector != VEC_MC && vector < 32;
}

void vmx_inject_exception(unsigned vector, bool has_error, uint32_t error)
{
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | (vector & INTR_INFO_VECTOR_MASK);
	/*
	 * SDM Vol. 3A 18.3.1.1: delivering a fault pushes RFLAGS with RF = 1,
	 * so that the instruction restarts without its instruction breakpoint
	 * firing again.  VM-entry injection pushes the guest RFLAGS as they
	 * are (SDM Vol. 3C 27.6.1): L0 sets RF first, as KVM does.
	 */
	if (exception_is_fault(vector))
		vmcs_write(VMCS_GUEST_RFLAGS, vmcs_read(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
	/*
	 * SDM Vol. 3C 27.2.1.3: "deliver error code" must be 0 when the guest
	 * is in real mode (unrestricted guest, CR0.PE = 0): no error code there.
	 */
	if (has_error && (vmcs_read(VMCS_GUEST_CR0) & CR0_PE)) {
		info |= INTR_INFO_DELIVER_CODE;
		vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, info);
}

void vmx_inject_ud(void)
{
	vmx_inject_exception(VEC_UD, false, 0);
}

void vmx_inject_gp0(void)
{
	vmx_inject_exception(VEC_GP, true, 0);
}

enum x86_code_size vmx_guest_code_size(void)
{
	uint64_t ar = vmcs_read(VMCS_GUEST_CS_AR_BYTES);
	if ((vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA) && (ar & VMX_AR_L))
		return X86_CODE64;
	return (ar & VMX_AR_DB) ? X86_CODE32 : X86_CODE16;
}

unsigned vmx_guest_cpl(void)
{
	return (unsigned)((vmcs_read(VMCS_GUEST_SS_AR_BYTES) >> VMX_AR_DPL_SHIFT) & 3);
}

uint64_t vmx_gpr_read(const struct guest_regs *r, unsigned n)
{
	return n == GPR_RSP ? vmcs_read(VMCS_GUEST_RSP) : r->gpr[n & 15];
}

void vmx_gpr_write(struct guest_regs *r, unsigned n, uint64_t value)
{
	if (n == GPR_RSP)
		vmcs_write(VMCS_GUEST_RSP, value);
	else
		r->gpr[n & 15] = value;
}

/*
 * NMIs for L1 (pin-based "NMI exiting" and "virtual NMIs" are on so that an
 * NMI arriving in VMX root is not lost).  SDM Vol. 3C 27.3.1.5: an NMI may
 * be injected only when L1 is not blocking NMIs; otherwise ask for an
 * NMI-window exit and inject then.
 */
void vmx_queue_nmi(struct vcpu *v)
{
	v->nmi_pending = true;
}

void vmx_deliver_pending_nmi(struct vcpu *v)
{
	if (!v->nmi_pending)
		return;
	/* An event already being injected (e.g. an exception) goes first. */
	if (vmcs_read(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID)
		goto window;
	/*
	 * SDM 27.3.1.5: no NMI injection under NMI or MOV-SS blocking, and a
	 * processor may refuse one under STI blocking too (Bochs does): any of
	 * the three waits for the NMI window, which opens only when none is
	 * left (SDM 26.7.6).
	 */
	uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	if (intr & (GUEST_INTR_STATE_NMI | GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_STI))
		goto window;
	if (vmcs_read(VMCS_GUEST_ACTIVITY_STATE) == GUEST_ACTIVITY_WAIT_SIPI) {
		v->nmi_pending = false; /* blocked in wait-for-SIPI: dropped, as by hardware */
		return;
	}
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI);
	v->nmi_pending = false;
	return;
window:
	/* SDM 25.6.2: NMI-window exiting needs virtual NMIs. */
	if (!(g_l0.pin & PIN_VIRTUAL_NMIS) ||
	    !vmx_controls_allowed(&g_l0.caps, VMX_CTL_PROC, CPU_NMI_WINDOW_EXITING))
		return; /* stays pending until a later exit */
	vmcs_set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_NMI_WINDOW_EXITING);
}

/*
 * An NMI taken in VMX root (L0's NMI handler, vmx/launch.c): L1's unless
 * it is L0's kick (ap_start.h).  It may arrive after finish_exit looked at
 * nmi_pending, on the way to VMRESUME: then the current VMCS (the one
 * about to be entered) is asked for an NMI-window exit at once, so the NMI
 * does not wait for the guest's next exit, which a guest spinning with
 * nothing to exit on may never make.  No log line and no VMCS switch
 * here: the handler may have interrupted either; a VMWRITE that fails
 * (no current VMCS, mid-switch) leaves the NMI to the end of that exit.
 */
void vmx_nmi_in_root(struct vcpu *v)
{
	if (ap_start_nmi_is_kick(v))
		return;
	v->nmi_pending = true;
	if (!v->launched || !(g_l0.pin & PIN_VIRTUAL_NMIS) ||
	    !vmx_controls_allowed(&g_l0.caps, VMX_CTL_PROC, CPU_NMI_WINDOW_EXITING))
		return;
	uint64_t proc;
	if (vmcs_read_checked(VMCS_CPU_BASED_VM_EXEC_CONTROL, &proc))
		(void)vmcs_write_checked(VMCS_CPU_BASED_VM_EXEC_CONTROL,
					 proc | CPU_NMI_WINDOW_EXITING);
}

void exit_nmi_window(struct vcpu *v, struct guest_regs *r)
{
	(void)r;
	vmcs_clear_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_NMI_WINDOW_EXITING);
	(void)v; /* vmx_exit_dispatch delivers the pending NMI next */
}

void exit_exception_nmi(struct vcpu *v, struct guest_regs *r)
{
	(void)r;
	uint32_t info = (uint32_t)vmcs_read(VMCS_VM_EXIT_INTR_INFO);
	if ((info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI) {
		/* NMI blocking after an NMI exit lasts until an IRET in VMX root. */
		hw_unblock_nmi();
		if (!ap_start_nmi_is_kick(v))
			vmx_queue_nmi(v); /* a kick of L0's own (ap_start.c) is not L1's */
		return;
	}
	/* The exception bitmap of vmcs01 is 0: no other exception should exit. */
	log_error("CPU %u: unexpected exception exit, interruption info 0x%x", v->index, info);
	vmcs_dump(LOG_ERROR, VMCS_DUMP_ALL);
	vmx_halt_cpu(v, "unexpected exception exit");
}
