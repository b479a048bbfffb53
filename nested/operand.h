/*
 * operand.h - the operand of a VMX instruction L1 executed, decoded from
 * the VM exit it caused.
 *
 * When L1 executes VMXON, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * INVEPT or INVVPID, the CPU exits to L0 before touching the operand; L0
 * must find the operand itself, from the VM-exit instruction-information
 * field (SDM Vol. 3C 28.2.5, tables 28-9, 28-13 and 28-14), the exit
 * qualification (the displacement, 28.2.1), L1's registers and segments,
 * and make the checks the SDM's instruction pages (Vol. 3C 31.3) make
 * before the memory access: #UD outside protected mode and in
 * compatibility mode, #GP(0) at CPL > 0, then the segment checks (limit,
 * type, usability outside 64-bit mode; canonicality in 64-bit mode) that
 * give #GP(0) or #SS(0).  nested_decode_operand makes them all; VMREAD
 * and INVEPT/INVVPID, whose VMfail checks come before the access, use the
 * two halves (nested_decode_operand_early, nested_operand_check_access).
 *
 * Pure: nothing here reads the VMCS or memory.  The caller fills a struct
 * nested_operand_env from vmcs01 and turns the result into an exception
 * for L1; the access itself (through L1's page tables, mm/guest_walk.h)
 * comes after, and may still give #PF.
 */
#ifndef MICROHV_NESTED_OPERAND_H
#define MICROHV_NESTED_OPERAND_H

#include "arch/x86/regs.h"
#include "vmx/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

/* RFLAGS.VM (SDM Vol. 3A 2.3): virtual-8086 mode. */

/* Segment registers in the instruction-information encoding (table 28-13, bits 17:15). */
enum nested_seg { NSEG_ES, NSEG_CS, NSEG_SS, NSEG_DS, NSEG_FS, NSEG_GS, NSEG_COUNT };

/* L1's operating mode (SDM Vol. 3A 2.2 and 5.2.1; CS.L and CS.D/B, 3.4.5). */
enum nested_cpu_mode {
	NMODE_REAL,   /* CR0.PE = 0 */
	NMODE_V8086,  /* CR0.PE = 1, RFLAGS.VM = 1 */
	NMODE_PROT16, /* protected mode, CS.D = 0 */
	NMODE_PROT32, /* protected mode, CS.D = 1 */
	NMODE_COMPAT, /* IA-32e mode, CS.L = 0 */
	NMODE_64,     /* IA-32e mode, CS.L = 1 */
};

enum nested_operand_result {
	NOPERAND_OK,
	NOPERAND_GP0, /* inject #GP(0) */
	NOPERAND_SS0, /* inject #SS(0) */
	NOPERAND_UD,  /* inject #UD */
};

/* One segment register as the VMCS holds it (SDM Vol. 3C 25.4.1). */
struct nested_seg_state {
	uint64_t base;
	uint32_t limit; /* in bytes: granularity already applied, as in the VMCS */
	uint32_t ar;	/* VMCS access-rights format; bit 16 (VMX_AR_UNUSABLE) = unusable */
};

/* What the decoder needs of L1's state at the exit. */
struct nested_operand_env {
	enum nested_cpu_mode mode;		 /* nested_cpu_mode_of() */
	const struct guest_regs *regs;		 /* the exit frame */
	uint64_t rsp;				 /* GUEST_RSP: the frame's RSP slot is a dummy */
	struct nested_seg_state seg[NSEG_COUNT]; /* GUEST_{ES..GS}_{BASE,LIMIT,AR_BYTES} */
	bool la57;				 /* CR4.LA57: linear addresses are 57 bits */
};

/* The decoded operand. */
struct nested_operand {
	bool is_mem;	     /* memory operand; else a register (VMREAD/VMWRITE only) */
	unsigned reg;	     /* register operand: its GPR number (enum gpr), VMREAD/VMWRITE reg1 */
	unsigned size;	     /* operand size in bytes (8, 4 or 16; see nested_decode_operand) */
	bool writes;	     /* the operand is a destination (VMPTRST, VMREAD) */
	unsigned seg;	     /* memory operand: enum nested_seg */
	unsigned addr_bits;  /* memory operand: address size, 16, 32 or 64 */
	uint64_t ea;	     /* memory operand: base + index * scale + displacement, to addr_bits */
	uint64_t linear;     /* memory operand: the linear address of its first byte */
	bool has_reg2;	     /* VMREAD/VMWRITE: field encoding; INVEPT/INVVPID: type */
	unsigned reg2;	     /* its GPR number (bits 31:28) */
	uint64_t reg2_value; /* its value, 32 bits outside 64-bit mode */
};

/*
 * L1's mode from CR0, IA32_EFER, CS access rights (VMCS format) and RFLAGS
 * (SDM Vol. 3A 2.2: IA-32e mode is EFER.LMA; within it CS.L selects 64-bit
 * mode, 5.2.1; outside it RFLAGS.VM selects virtual-8086 mode).
 */
enum nested_cpu_mode nested_cpu_mode_of(uint64_t cr0, uint64_t efer, uint32_t cs_ar,
					uint64_t rflags);

/* GPR n of L1 (enum gpr): the frame's, or env->rsp for RSP. */
uint64_t nested_operand_gpr(const struct nested_operand_env *env, unsigned n);

/*
 * Decodes the operand of the VMX instruction behind basic exit reason
 * exit_reason (EXIT_REASON_VMCLEAR .. VMXON, INVEPT, INVVPID), from
 * VMX_INSTRUCTION_INFO (insn_info) and EXIT_QUALIFICATION (qual: the
 * displacement, sign-extended, or for RIP-relative addressing the whole
 * address), into *op (zeroed first), and makes the checks of the SDM's
 * instruction pages (Vol. 3C 31.3) that precede the memory access, in
 * their order:
 *   1. #UD in real, virtual-8086 and compatibility mode, or for an exit
 *      reason that is not one of the eight, or an information field the
 *      CPU cannot produce (address size 3, segment 6/7, a 16-bit address
 *      in 64-bit mode, a 64-bit one outside it);
 *   2. #GP(0) when CPL (SS.DPL) > 0;
 *   3. for a memory operand, nested_operand_check_access below.
 * The caller makes its own #UD checks (L1 not in VMX operation; VMXON with
 * CR4.VMXE = 0 in L1's view) before calling this.  On a failure *op holds
 * what was decoded before the failing check (all of it after step 1).
 *
 * Operand sizes (op->size): VMXON, VMCLEAR, VMPTRLD, VMPTRST 8 (m64);
 * VMREAD, VMWRITE 8 in 64-bit mode, 4 outside (r/m64, r/m32); INVEPT,
 * INVVPID 16 (the m128 descriptor).
 *
 * @pre env->regs is the exit frame; env->mode, seg[] and rsp are L1's.
 */
enum nested_operand_result nested_decode_operand(uint32_t exit_reason, uint32_t insn_info,
						 uint64_t qual,
						 const struct nested_operand_env *env,
						 struct nested_operand *op);

/*
 * Steps 1 and 2 only.  For the instructions whose SDM operation makes
 * VMfail checks before it touches memory: VMREAD checks the VMCS pointer
 * and the field before it stores, INVEPT and INVVPID check the type (reg2)
 * before they read the descriptor.  Their handlers call this, make those
 * checks, then nested_operand_check_access.
 */
enum nested_operand_result nested_decode_operand_early(uint32_t exit_reason, uint32_t insn_info,
						       uint64_t qual,
						       const struct nested_operand_env *env,
						       struct nested_operand *op);

/*
 * Step 3, the segment checks of a memory operand (OK for a register one):
 *   - 64-bit mode: #GP(0), or #SS(0) through SS, when any byte's linear
 *     address is not canonical;
 *   - protected mode: #GP(0)/#SS(0) for an unusable segment, #GP(0) for a
 *     write to a code or read-only data segment or a read from an
 *     execute-only one, #GP(0)/#SS(0) beyond the limit (expand-up and
 *     expand-down).
 * The access itself (mm/guest_walk.h) may still fault with #PF.
 *
 * @pre nested_decode_operand_early returned NOPERAND_OK for op and env.
 */
enum nested_operand_result nested_operand_check_access(const struct nested_operand_env *env,
						       const struct nested_operand *op);

#endif
