/*
 * exit.h - the L0 exit handler: one dispatch table indexed by basic exit
 * reason (vmx/exit.c), handlers grouped by concept in exit_*.c, and the
 * helpers they share for acting on L1.
 *
 * Handlers see L1 through the current VMCS (vmcs_read/vmcs_write) and the
 * exit frame's GPRs; they never touch hardware directly except through
 * hw_ops.h, so the host unit tests drive them with a software VMCS.
 */
#ifndef MICROHV_VMX_EXIT_H
#define MICROHV_VMX_EXIT_H

#include "arch/x86/decode_store.h"
#include "vcpu.h"

#include <stdbool.h>
#include <stdint.h>

typedef void (*exit_handler_fn)(struct vcpu *v, struct guest_regs *r);

/* The handler for a basic exit reason, or NULL: unknown, #UD to L1 (exit.c). */
exit_handler_fn vmx_exit_handler_for(uint32_t basic_reason);

/* Called by arch/x86/vmx_entry.asm on every VM exit. */
/* Returns nonzero when the stub must enter with VMLAUNCH (a fresh vmcs02). */
int vmx_exit_dispatch(struct guest_regs *r);

/* Called by the stub when VMRESUME/VMLAUNCH failed; returns like the dispatcher. */
int vmx_resume_failed(struct guest_regs *r, int cf, int zf);

/* Exit handlers (exit_insn.c, exit_event.c, hypercall.c). */
void exit_cpuid(struct vcpu *v, struct guest_regs *r);
void exit_rdmsr(struct vcpu *v, struct guest_regs *r);
void exit_wrmsr(struct vcpu *v, struct guest_regs *r);
void exit_cr_access(struct vcpu *v, struct guest_regs *r);
void exit_xsetbv(struct vcpu *v, struct guest_regs *r);
void exit_invd(struct vcpu *v, struct guest_regs *r);
void exit_getsec(struct vcpu *v, struct guest_regs *r);
void exit_monitor_mwait(struct vcpu *v, struct guest_regs *r);
void exit_vmx_instruction(struct vcpu *v, struct guest_regs *r);
void exit_vmcall(struct vcpu *v, struct guest_regs *r);
void exit_exception_nmi(struct vcpu *v, struct guest_regs *r);
void exit_nmi_window(struct vcpu *v, struct guest_regs *r);
void exit_init(struct vcpu *v, struct guest_regs *r);
void exit_sipi(struct vcpu *v, struct guest_regs *r);
void exit_triple_fault(struct vcpu *v, struct guest_regs *r);
void exit_ept_violation(struct vcpu *v, struct guest_regs *r);
void exit_ept_misconfig(struct vcpu *v, struct guest_regs *r);

/* Helpers for handlers. */

/*
 * GUEST_RIP += instruction length; clears STI/MOV-SS blocking it ends and
 * RFLAGS.RF; leaves a single-step trap pending under RFLAGS.TF.
 */
void vmx_skip_instruction(void);
/* The same for an instruction L0 decoded itself (no length in the VMCS). */
void vmx_skip_instruction_len(unsigned len);

/*
 * Queues an exception for the guest of the current VMCS at the next VM
 * entry (SDM Vol. 3C 27.6), with RFLAGS.RF set for a fault as the CPU's
 * own delivery would push it.
 */
void vmx_inject_exception(unsigned vector, bool has_error, uint32_t error);
/* An NMI L0's handler took in VMX root on v's CPU (launch.c). */
void vmx_nmi_in_root(struct vcpu *v);
void vmx_inject_ud(void);
void vmx_inject_gp0(void);

/*
 * An access L0 refuses at an EPT violation (L0's memory, a page EPT01
 * does not grant): vmx_count_refusal counts it in v->l0_refusals and says
 * whether to log it (the first 16, then every 1024th); vmx_refuse_ept_access
 * restores NMI blocking an unblocking IRET lost (SDM Vol. 3C 28.2.3) and
 * injects #GP(0) at the instruction, for L1 or, through vmcs02, for L2.
 */
bool vmx_count_refusal(struct vcpu *v);
void vmx_refuse_ept_access(uint64_t qual);

/* NMI delivery to L1, now or through an NMI window (exit.c). */
void vmx_queue_nmi(struct vcpu *v);
void vmx_deliver_pending_nmi(struct vcpu *v);

/* L1's code size: CS.L in IA-32e mode, else CS.D (SDM Vol. 3A 5.2.1). */
enum x86_code_size vmx_guest_code_size(void);

/* Loads the INIT state (SDM Vol. 3A table 10-1) started at cs:ip (exit_event.c). */
void vmx_enter_init_state(struct guest_regs *r, uint16_t cs, uint64_t cs_base, uint64_t rip);

/*
 * RDMSR/WRMSR done for the guest of the current VMCS on v's CPU through
 * L0's MSR table (msr_policy.h); false where the guest gets #GP(0).
 */
bool vmx_msr_read_for_guest(struct vcpu *v, uint32_t msr, uint64_t *value);
bool vmx_msr_write_for_guest(struct vcpu *v, uint32_t msr, uint64_t value);

/* L1's current privilege level: SS.DPL (SDM Vol. 3A 5.5). */
unsigned vmx_guest_cpl(void);

/* GPR n of L1 (architectural numbering); RSP comes from the VMCS. */
uint64_t vmx_gpr_read(const struct guest_regs *r, unsigned n);
void vmx_gpr_write(struct guest_regs *r, unsigned n, uint64_t value);

/* Stops this CPU for good after an unrecoverable L1 or L0 state. */
__attribute__((noreturn)) void vmx_halt_cpu(struct vcpu *v, const char *why);

#endif
