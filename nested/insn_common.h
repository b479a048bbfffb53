/*
 * insn_common.h - the steps every emulated VMX instruction of L1's is
 * made of (nested/insn_emul.c), for the handlers that live in files of
 * their own (nested/invvpid.c).  Each acts on the current VMCS (vmcs01):
 * a fault is injected into L1 with RIP left on the instruction; VMsucceed
 * and VMfail (nested_vm_fail, nested.h) advance RIP.
 */
#ifndef MICROHV_NESTED_INSN_COMMON_H
#define MICROHV_NESTED_INSN_COMMON_H

#include "nested/nested.h"
#include "nested/operand.h"

#include <stdbool.h>
#include <stdint.h>

/* SDM Vol. 3C 31.3: #UD when L1 is not in VMX operation; false then. */
bool nested_insn_in_vmx_or_ud(const struct nested_cpu *n);

/*
 * The operand's checks that precede an instruction's VMfail checks (#UD by
 * mode, #GP(0) at CPL > 0: nested_decode_operand_early); false with the
 * fault injected.
 */
bool nested_insn_operand_early(uint32_t reason, const struct guest_regs *r,
			       struct nested_operand *op, struct nested_operand_env *e);

/* The segment checks of a memory operand (#GP(0)/#SS(0)); false with the fault injected. */
bool nested_insn_operand_access(const struct nested_operand_env *e,
				const struct nested_operand *op);

/*
 * Reads len bytes (at most GWALK_COPY_MAX) of the memory operand through
 * L1's paging as a supervisor read; false with #PF or #GP(0) injected.
 */
bool nested_insn_read_mem(const struct nested_env *env, const struct nested_operand *op, void *buf,
			  unsigned len);

/* The same for a write of len bytes (a supervisor write); false with the fault injected. */
bool nested_insn_write_mem(const struct nested_env *env, const struct nested_operand *op,
			   const void *buf, unsigned len);

/* VMsucceed: the six arithmetic flags cleared, RIP advanced (SDM Vol. 3C 31.2). */
void nested_vm_succeed(void);

#endif
