/*
 * nested.h - L1's VMX operation as L0 keeps it, per CPU, and the
 * emulation of the VMX instructions L1 executes (nested/insn_emul.c).
 *
 * L0 holds, for each CPU: whether L1 is in (its own) VMX operation, its
 * VMXON pointer, its current-VMCS pointer, and a cached copy of that
 * vmcs12 (nested/vmcs12.h) between VMPTRLD and VMCLEAR.  Every physical
 * address L1 names (VMXON region, VMCS) is checked before L0 touches it:
 * alignment and MAXPHYADDR as the SDM says, and never L0's own memory
 * (struct l1_memory refuses it); a refused address gets the SDM's VMfail
 * for an invalid address and a log line.
 */
#ifndef MICROHV_NESTED_NESTED_H
#define MICROHV_NESTED_NESTED_H

#include "nested/vmcs12.h"
#include "nested/vpid.h"
#include "vmx/caps.h"
#include "vmx/l1_memory.h"
#include "vmx/vcpu.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMPTR_INVALID (~0ull)


struct nested_cpu {
	bool vmxon;		/* L1 is in VMX operation */
	uint64_t vmxon_ptr;
	uint64_t current_vmptr; /* VMPTR_INVALID: none */
	struct vmcs12 *vmcs12;	/* L0's copy of L1's current VMCS (VMCS12_SIZE bytes) */
	struct nested_vpid_map vpid; /* L1's VPIDs on this CPU (nested/vpid.h) */
	/*
	 * L1's VMREADs and VMWRITEs that reached L0, by field (table index),
	 * counted when the field exists: what the shadowed field set is
	 * measured with (HC_VMX_FIELD_TRAPS, the console's statistics).
	 */
	uint32_t vmread_traps[VMCS_FIELD_COUNT], vmwrite_traps[VMCS_FIELD_COUNT];
	/* The dirty groups of the fields L1's emulated VMWRITEs wrote (VMCS_DIRTY bits). */
	uint32_t dirty12;
};

/* What the emulation needs from L0 (nested/insn_emul.c has no globals). */
#define NESTED_INVEPT_SINGLE 1 /* INVEPT types (SDM Vol. 3C 29.4.3.1) */
#define NESTED_INVEPT_ALL 2

struct nested_env {
	const struct vmx_caps *l1_caps; /* L1's capability MSRs (nested/vmx_msrs.h) */
	const struct l1_memory *mem;
	uint64_t l1_cr0, l1_cr4;	/* L1's own view (read shadows merged), for VMXON */
	/*
	 * What L1's INVEPT invalidates, after its checks passed: type
	 * NESTED_INVEPT_SINGLE with L1's EPTP, or NESTED_INVEPT_ALL (L0's
	 * EPT02s of this CPU, nested/ept02.h); NULL: nothing to do.
	 */
	void (*invept)(void *ctx, unsigned type, uint64_t eptp12);
	void *invept_ctx;
};

/*
 * Emulates the VMX instruction behind basic exit reason (VMXON, VMXOFF,
 * VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, INVVPID) executed by L1, to
 * the letter of SDM Vol. 3C 31.3: #UD/#GP/#SS/#PF are injected into L1
 * with RIP left on the instruction; otherwise the instruction completes
 * with VMsucceed, VMfailInvalid or VMfailValid (error number in vmcs12's
 * VM-instruction error field), RFLAGS set accordingly and RIP advanced.
 * Returns false for an exit reason it does not emulate (VMLAUNCH,
 * VMRESUME, INVEPT), having done nothing.  VMXON flushes and forgets the
 * CPU's VPID map (nested/vpid.h).
 */
bool nested_emulate_vmx_insn(struct nested_cpu *n, const struct nested_env *env,
			     struct guest_regs *r, uint32_t exit_reason);

/*
 * INVEPT executed by L1 (nested/invept.c), SDM Vol. 3C 31 "INVEPT": #UD
 * where EPT or INVEPT is not offered or outside VMX operation, #GP(0) at
 * CPL > 0, VMfail 28 for a type not offered (before the descriptor is
 * read), the 16-byte descriptor's #GP/#SS/#PF, VMfail 28 for a
 * single-context EPTP VM entry would refuse; then env->invept.
 */
void nested_emulate_invept(struct nested_cpu *n, const struct nested_env *env,
			   struct guest_regs *r);

/*
 * INVVPID executed by L1 (nested/invvpid.c), SDM Vol. 3C 31.3 "INVVPID":
 * #UD when L1 is not in VMX operation or its capability MSRs lack VPID or
 * INVVPID; the operand's #UD/#GP(0); VMfail(28) for a type
 * IA32_VMX_EPT_VPID_CAP does not report; then the descriptor's segment
 * checks and read (#GP(0), #SS(0), #PF); VMfail(28) for bits 63:16 of the
 * descriptor set, VPID 0 with types 0, 1, 3, a non-canonical address with
 * type 0; else VMsucceed, after L0 invalidated at least what the type
 * asks for (nested/vpid.h).
 */
void nested_emulate_invvpid(struct nested_cpu *n, const struct nested_env *env,
			    struct guest_regs *r);

/*
 * VMLAUNCH (launch) or VMRESUME executed by L1, up to vmcs02: the checks
 * of SDM Vol. 3C 31.3 "VMLAUNCH/VMRESUME", 27.1 and 27.2 in their order -
 * #UD outside VMX operation, #GP(0) at CPL > 0, VMfailInvalid without a
 * current VMCS, then VMfailValid 26 (blocking by MOV SS), 4 (VMLAUNCH of
 * a VMCS whose launch state is not clear), 5 (VMRESUME of one not
 * launched), 7 (a control, 27.2.1), 8 (the host state, 27.2.2-27.2.4).
 * Returns false when the instruction ended there (fault injected, or the
 * VMfail done with RIP advanced); true when L1's VM entry goes on to the
 * guest-state checks of 27.3 and vmcs02, with nothing changed yet.
 * checks: the dirty groups (VMCS_DIRTY bits, vmx/vmcs_fields.h) whose
 * checks of 27.2 run: CONTROL all of 27.2.1, else EVENT only 27.2.1.3's
 * on event injection; HOST 27.2.2-27.2.4.  VMCS_DIRTY_ALL for a full
 * entry; fewer for vmcs12 whose other groups passed them at the last
 * entry and have not changed since (nested/vmentry.c).
 */
bool nested_vmentry_begin(struct nested_cpu *n, const struct nested_env *env, bool launch,
			  unsigned checks);

/*
 * VMfailValid(error) with RIP advanced past L1's instruction, or
 * VMfailInvalid when error is 0 or there is no current VMCS (SDM Vol. 3C
 * 31.2).
 */
void nested_vm_fail(struct nested_cpu *n, uint32_t error);

/* RFLAGS arithmetic flags set by VMsucceed/VMfail (SDM Vol. 3C 31.2). */
#define VMX_RFLAGS_MASK 0x8d5ull /* CF PF AF ZF SF OF */

#endif
