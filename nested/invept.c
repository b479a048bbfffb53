/*
 * invept.c - INVEPT executed by L1 (nested.h), following the operation
 * section of SDM Vol. 3C 31 "INVEPT" check by check.
 *
 * What L0 invalidates is its own: L1's EPTP names EPT02 roots of this CPU
 * (nested/ept02.h), which env->invept drops, each invalidated with
 * L0's own INVEPT; the EPTP L1 chose never reaches an instruction in VMX
 * root.
 */
#include "nested.h"

#include "nested/entry_checks.h"
#include "nested/insn_common.h"
#include "vmx/exit.h"
#include "vmx/vmx_arch.h"

#define VMXERR_INVEPT_INVVPID_OPERAND 28 /* SDM Vol. 3C 31.4 */
#define INVEPT_DESC_SIZE 16

void nested_emulate_invept(struct nested_cpu *n, const struct nested_env *env,
			   struct guest_regs *r)
{
	const struct vmx_caps *l1 = env->l1_caps;
	uint64_t cap = l1->has_ept_vpid_cap ? l1->ept_vpid_cap : 0;
	/* #UD where L1's CPU has no EPT or no INVEPT (IA32_VMX_EPT_VPID_CAP[20]). */
	if (!((l1->procbased2 >> 32) & CPU2_ENABLE_EPT) || !(cap & EPT_CAP_INVEPT)) {
		vmx_inject_ud();
		return;
	}
	struct nested_operand op;
	struct nested_operand_env e;
	if (!nested_insn_in_vmx_or_ud(n) ||
	    !nested_insn_operand_early(EXIT_REASON_INVEPT, r, &op, &e))
		return;
	/* A type IA32_VMX_EPT_VPID_CAP does not report (bits 25, 26): VMfail, no memory read. */
	uint64_t type = op.reg2_value;
	if (!((type == NESTED_INVEPT_SINGLE && (cap & EPT_CAP_INVEPT_SINGLE)) ||
	      (type == NESTED_INVEPT_ALL && (cap & EPT_CAP_INVEPT_ALL)))) {
		nested_vm_fail(n, VMXERR_INVEPT_INVVPID_OPERAND);
		return;
	}
	uint64_t desc[2];
	if (!nested_insn_operand_access(&e, &op) ||
	    !nested_insn_read_mem(env, &op, desc, INVEPT_DESC_SIZE))
		return;
	/* Single-context: "IF VM entry with enable EPT would fail due to the EPTP value". */
	if (type == NESTED_INVEPT_SINGLE &&
	    !nested_eptp_valid(desc[0], l1, env->mem->maxphyaddr)) {
		nested_vm_fail(n, VMXERR_INVEPT_INVVPID_OPERAND);
		return;
	}
	if (env->invept)
		env->invept(env->invept_ctx, (unsigned)type, desc[0]);
	nested_vm_succeed();
}
