/*
 * invvpid.c - INVVPID executed by L1 (nested.h), following the operation
 * section of SDM Vol. 3C 31.3 "INVVPID" check by check.
 *
 * What L0 invalidates: never what L1 names directly.  L1's VPIDs are
 * mapped to L0's (nested/vpid.h); a VPID L1 names that has no vpid02 has
 * no TLB entry to invalidate.  Every type becomes single-context INVVPIDs
 * of L0's own vpid02s: individual-address (0) and single-context-retaining-
 * globals (3) invalidate more than they must, which the SDM allows ("in
 * some cases, it may invalidate mappings for other linear addresses (or
 * other VPIDs) as well"), and no address or VPID L1 chose reaches an
 * instruction in VMX root.
 */
#include "nested.h"

#include "drivers/serial/log.h"
#include "nested/entry_checks.h"
#include "nested/insn_common.h"
#include "vmx/controls.h"
#include "vmx/exit.h"
#include "vmx/vmx_arch.h"

#define VMXERR_INVEPT_INVVPID_OPERAND 28 /* SDM Vol. 3C 31.4 */

/* The INVVPID types (SDM Vol. 3C 31.3). */
enum {
	INVVPID_TYPE_ADDRESS = 0,
	INVVPID_TYPE_SINGLE = 1,
	INVVPID_TYPE_ALL = 2,
	INVVPID_TYPE_SINGLE_GLOBALS = 3,
};

#define INVVPID_DESC_SIZE 16

/*
 * SDM Vol. 3C 31.3 INVVPID, "#UD ... If the logical processor does not
 * support VPIDs (IA32_VMX_PROCBASED_CTLS2[37] = 0), or supports them but
 * not the INVVPID instruction (IA32_VMX_EPT_VPID_CAP[32] = 0)": L1's MSRs.
 */
static bool offered(const struct vmx_caps *l1)
{
	return vmx_controls_allowed(l1, VMX_CTL_PROC2, CPU2_ENABLE_VPID) && l1->has_ept_vpid_cap &&
	       (l1->ept_vpid_cap & VPID_CAP_INVVPID);
}

/* Type t is supported when IA32_VMX_EPT_VPID_CAP[40 + t] is 1 (SDM Vol. 3D A.10). */
static bool type_supported(const struct vmx_caps *l1, uint64_t type)
{
	return type <= INVVPID_TYPE_SINGLE_GLOBALS &&
	       (l1->ept_vpid_cap & (VPID_CAP_INVVPID_ADDRESS << type));
}

static void fail28(struct nested_cpu *n, uint64_t type, const char *why)
{
	log_debug("nested: L1's INVVPID of type %llu refused, VMfailValid 28: %s (SDM 31.3)",
		  (unsigned long long)type, why);
	nested_vm_fail(n, VMXERR_INVEPT_INVVPID_OPERAND);
}

void nested_emulate_invvpid(struct nested_cpu *n, const struct nested_env *env,
			    struct guest_regs *r)
{
	if (!offered(env->l1_caps)) {
		vmx_inject_ud();
		return;
	}
	/* Not in VMX operation, then the mode's #UD, then CPL > 0: #GP(0). */
	struct nested_operand op;
	struct nested_operand_env e;
	if (!nested_insn_in_vmx_or_ud(n) ||
	    !nested_insn_operand_early(EXIT_REASON_INVVPID, r, &op, &e))
		return;
	/* INVVPID_TYPE: the register operand (32 bits outside 64-bit mode). */
	uint64_t type = op.reg2_value;
	if (!type_supported(env->l1_caps, type)) {
		fail28(n, type, "a type IA32_VMX_EPT_VPID_CAP does not report");
		return;
	}
	/* INVVPID_DESC: the memory operand, read only now. */
	uint64_t desc[2];
	if (!nested_insn_operand_access(&e, &op) ||
	    !nested_insn_read_mem(env, &op, desc, INVVPID_DESC_SIZE))
		return;
	if (desc[0] >> 16) {
		fail28(n, type, "bits 63:16 of the descriptor are not 0");
		return;
	}
	uint16_t vpid = (uint16_t)desc[0];
	if (type != INVVPID_TYPE_ALL && !vpid) {
		fail28(n, type, "VPID 0");
		return;
	}
	if (type == INVVPID_TYPE_ADDRESS &&
	    !nentry_canonical(desc[1], nentry_linear_width(env->l1_caps))) {
		fail28(n, type, "a non-canonical linear address");
		return;
	}
	if (type == INVVPID_TYPE_ALL)
		nested_vpid_flush_all(&n->vpid);
	else
		nested_vpid_flush(&n->vpid, vpid);
	nested_vm_succeed();
}
