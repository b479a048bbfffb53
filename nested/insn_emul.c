/*
 * insn_emul.c - VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD and
 * VMWRITE executed by L1 (nested.h), and the dispatch of INVEPT and
 * INVVPID to files of their own (nested/invept.c, nested/invvpid.c,
 * through insn_common.h).  Each handler
 * follows the operation section of its SDM Vol. 3C 31.3 page, check by
 * check, in the same order.
 *
 * Undefined by the SDM, our choices (docs/nested.md): a memory operand whose
 * translation reaches L0's memory (the CPU would take an EPT violation)
 * gives L1 #GP(0), like every other refused access; VMXOFF writes the
 * cached vmcs12 back.  A field exists for L1 when the feature its table
 * row names is offered to L1 (vmcs_field_exists): VMREAD/VMWRITE of, say,
 * PML_ADDRESS fail with error 12 while PML is not offered.
 */
#include "nested.h"

#include "nested/entry_checks.h"
#include "nested/apic_virt.h"
#include "nested/tpr_shadow.h"
#include "nested/insn_common.h"
#include "nested/shadow12.h"

#include "drivers/serial/log.h"
#include "mm/guest_walk.h"
#include "nested/operand.h"
#include "vmx/controls.h"
#include "vmx/exit.h"
#include "vmx/hw_ops.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

#define MISC_VMWRITE_ANY_FIELD (1ull << 29)

/* The VM-instruction error numbers (SDM Vol. 3C 31.4) this file uses. */
enum {
	VMXERR_VMCLEAR_INVALID_ADDRESS = 2,
	VMXERR_VMCLEAR_VMXON_POINTER = 3,
	VMXERR_VMLAUNCH_NOT_CLEAR = 4,
	VMXERR_VMRESUME_NOT_LAUNCHED = 5,
	VMXERR_ENTRY_INVALID_CONTROL = 7,
	VMXERR_ENTRY_INVALID_HOST_STATE = 8,
	VMXERR_VMPTRLD_INVALID_ADDRESS = 9,
	VMXERR_VMPTRLD_VMXON_POINTER = 10,
	VMXERR_VMPTRLD_BAD_REVISION = 11,
	VMXERR_UNSUPPORTED_FIELD = 12,
	VMXERR_VMWRITE_READ_ONLY = 13,
	VMXERR_VMXON_IN_VMX_ROOT = 15,
	VMXERR_ENTRY_MOV_SS_BLOCKING = 26,
};

/* ---- results (SDM Vol. 3C 31.2 "Conventions") ---- */

static void set_flags(uint64_t flags)
{
	uint64_t rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	vmcs_write(VMCS_GUEST_RFLAGS, (rflags & ~VMX_RFLAGS_MASK) | flags);
	vmx_skip_instruction();
}

static void vm_succeed(void)
{
	set_flags(0);
}

static void vm_fail_invalid(void)
{
	set_flags(RFLAGS_CF);
}

/* VMfail(n): VMfailValid with the error in the current VMCS, if there is one. */
static void vm_fail(struct nested_cpu *n, uint32_t error)
{
	if (n->current_vmptr == VMPTR_INVALID || !error) {
		vm_fail_invalid();
		return;
	}
	vmcs12_set(n->vmcs12, VMCS_VM_INSTRUCTION_ERROR, error);
	set_flags(RFLAGS_ZF);
}

/* ---- L1's state and memory ---- */


static void inject(enum nested_operand_result res)
{
	if (res == NOPERAND_UD)
		vmx_inject_ud();
	else if (res == NOPERAND_SS0)
		vmx_inject_exception(VEC_SS, true, 0);
	else
		vmx_inject_gp0();
}

/* A failed access to the operand: #PF as the walk says, else #GP(0). */
static void inject_walk_failure(const struct guest_walk *w)
{
	/* The memory's owner made the refusal its fault (nested EPT: L1's EPT violation). */
	if (w->status == GWALK_MEM_FAULT)
		return;
	if (w->status == GWALK_PAGE_FAULT) {
		/* CR2 is not part of the VMCS: L1 sees the register L0 leaves. */
		hw_set_cr2(w->cr2);
		vmx_inject_exception(VEC_PF, true, w->error_code);
	} else {
		vmx_inject_gp0();
	}
}

/*
 * Decodes the operand (after the caller's own #UD checks); on a fault
 * injects it and returns false.
 */
static bool decode(uint32_t reason, const struct guest_regs *r, struct nested_operand *op)
{
	struct nested_operand_env e;
	l1_operand_env_of_current(&e, r);
	enum nested_operand_result res =
		nested_decode_operand(reason, (uint32_t)vmcs_read(VMCS_VMX_INSTRUCTION_INFO),
				      vmcs_read(VMCS_EXIT_QUALIFICATION), &e, op);
	if (res != NOPERAND_OK) {
		inject(res);
		return false;
	}
	return true;
}

/*
 * Only the checks that precede the VMfail checks (#UD by mode, #GP(0) by
 * CPL): VMREAD and VMWRITE touch their memory operand later (SDM Vol. 3C
 * 31.3), through access_ok: VMWRITE's source right after the current-VMCS
 * check, VMREAD's destination after the field checks.
 */
static bool decode_early(uint32_t reason, const struct guest_regs *r, struct nested_operand *op,
			 struct nested_operand_env *e)
{
	l1_operand_env_of_current(e, r);
	enum nested_operand_result res = nested_decode_operand_early(
		reason, (uint32_t)vmcs_read(VMCS_VMX_INSTRUCTION_INFO),
		vmcs_read(VMCS_EXIT_QUALIFICATION), e, op);
	if (res != NOPERAND_OK) {
		inject(res);
		return false;
	}
	return true;
}

/* The segment checks of a memory operand (after the VMfail checks). */
static bool access_ok(const struct nested_operand_env *e, const struct nested_operand *op)
{
	if (!op->is_mem)
		return true;
	enum nested_operand_result res = nested_operand_check_access(e, op);
	if (res != NOPERAND_OK) {
		inject(res);
		return false;
	}
	return true;
}

static unsigned access_flags(void)
{
	/* CPL 3 never gets this far (#GP(0) first): accesses are supervisor. */
	return 0;
}

/* Reads the m64 operand; on a fault injects it and returns false. */
static bool read_operand(const struct nested_env *env, const struct nested_operand *op,
			 uint64_t *value)
{
	struct guest_paging g;
	struct guest_walk w;
	l1_paging_of_current(&g, env->mem);
	*value = 0;
	if (guest_read_linear(&g, op->linear, value, op->size > 8 ? 8 : op->size, access_flags(),
			      &w) != GWALK_OK) {
		inject_walk_failure(&w);
		return false;
	}
	return true;
}

static bool write_operand(const struct nested_env *env, const struct nested_operand *op,
			  uint64_t value)
{
	struct guest_paging g;
	struct guest_walk w;
	l1_paging_of_current(&g, env->mem);
	if (guest_write_linear(&g, op->linear, &value, op->size, access_flags() | GWALK_WRITE,
			       &w) != GWALK_OK) {
		inject_walk_failure(&w);
		return false;
	}
	return true;
}

/* SDM Vol. 3C 31.3: a VMXON/VMCS pointer must be 4-KiB aligned and within MAXPHYADDR. */
static bool pointer_valid(const struct nested_env *env, uint64_t pa)
{
	return !(pa & 0xfff) && (env->mem->maxphyaddr >= 64 || !(pa >> env->mem->maxphyaddr));
}

/* The revision word of the region at pa; false if L0 refuses the address. */
static bool read_revision(const struct nested_env *env, uint64_t pa, uint32_t *rev)
{
	if (!env->mem->read(env->mem->ctx, pa, rev, sizeof(*rev))) {
		log_warn("nested: L1 named physical address 0x%llx, which is not L1's memory: "
			 "refused as an invalid address",
			 (unsigned long long)pa);
		return false;
	}
	return true;
}

/* Writes the cached vmcs12 back to L1's memory (VMCLEAR, VMPTRLD of another). */
static void flush_current(struct nested_cpu *n, const struct nested_env *env)
{
	if (n->current_vmptr == VMPTR_INVALID)
		return;
	if (!env->mem->write(env->mem->ctx, n->current_vmptr, n->vmcs12, sizeof(*n->vmcs12)))
		log_warn("nested: cannot write vmcs12 back to 0x%llx",
			 (unsigned long long)n->current_vmptr);
}

static bool in_vmx_operation_or_ud(const struct nested_cpu *n)
{
	if (!n->vmxon) {
		vmx_inject_ud();
		return false;
	}
	return true;
}

/* ---- the instructions (SDM Vol. 3C 31.3) ---- */

static void emulate_vmxon(struct nested_cpu *n, const struct nested_env *env,
			  struct guest_regs *r)
{
	/* IF ... CR4.VMXE = 0 ... THEN #UD (L1's own CR4 view); then #UD by mode. */
	if (!(env->l1_cr4 & CR4_VMXE)) {
		vmx_inject_ud();
		return;
	}
	struct nested_operand op;
	struct nested_operand_env e;
	/* #UD by mode, then #GP(0) for CPL > 0 (both branches of the SDM start so). */
	if (!decode_early(EXIT_REASON_VMXON, r, &op, &e))
		return;
	/* In VMX root (L1's): VMfail(15); the operand is never touched. */
	if (n->vmxon) {
		vm_fail(n, VMXERR_VMXON_IN_VMX_ROOT);
		return;
	}
	/* CR0 and CR4 not supported in VMX operation (L1's FIXED MSRs): #GP(0). */
	const struct vmx_caps *c = env->l1_caps;
	if ((env->l1_cr0 & c->cr0_fixed0) != c->cr0_fixed0 || (env->l1_cr0 & ~c->cr0_fixed1) ||
	    (env->l1_cr4 & c->cr4_fixed0) != c->cr4_fixed0 || (env->l1_cr4 & ~c->cr4_fixed1)) {
		vmx_inject_gp0();
		return;
	}
	/* Only now the 64-bit memory operand is read (its segment checks first). */
	uint64_t pa;
	if (!access_ok(&e, &op) || !read_operand(env, &op, &pa))
		return;
	uint32_t rev;
	if (!pointer_valid(env, pa) || !read_revision(env, pa, &rev) ||
	    (rev & 0x7fffffffu) != (uint32_t)(c->basic & VMX_BASIC_REVISION_MASK) ||
	    (rev & 0x80000000u)) {
		vm_fail_invalid();
		return;
	}
	n->vmxon = true;
	n->vmxon_ptr = pa;
	n->current_vmptr = VMPTR_INVALID;
	nested_vpid_reset(&n->vpid);
	vm_succeed();
}

static void emulate_vmxoff(struct nested_cpu *n, const struct nested_env *env)
{
	if (!in_vmx_operation_or_ud(n))
		return;
	if (vmx_guest_cpl() != 0) {
		vmx_inject_gp0();
		return;
	}
	flush_current(n, env);
	n->vmxon = false;
	n->current_vmptr = VMPTR_INVALID;
	vm_succeed();
}

static void emulate_vmclear(struct nested_cpu *n, const struct nested_env *env,
			    struct guest_regs *r)
{
	struct nested_operand op;
	uint64_t pa;
	if (!in_vmx_operation_or_ud(n) || !decode(EXIT_REASON_VMCLEAR, r, &op) ||
	    !read_operand(env, &op, &pa))
		return;
	if (!pointer_valid(env, pa)) {
		vm_fail(n, VMXERR_VMCLEAR_INVALID_ADDRESS);
		return;
	}
	if (pa == n->vmxon_ptr) {
		vm_fail(n, VMXERR_VMCLEAR_VMXON_POINTER);
		return;
	}
	if (pa == n->current_vmptr) {
		n->vmcs12->launch_state = VMCS12_LAUNCH_CLEAR;
		flush_current(n, env);
		n->current_vmptr = VMPTR_INVALID;
	} else {
		/* Launch state "clear" in the region itself (our layout, vmcs12.h). */
		uint32_t clear = VMCS12_LAUNCH_CLEAR;
		uint32_t rev;
		if (!read_revision(env, pa, &rev) ||
		    !env->mem->write(env->mem->ctx, pa + offsetof(struct vmcs12, launch_state),
				     &clear, sizeof(clear))) {
			vm_fail(n, VMXERR_VMCLEAR_INVALID_ADDRESS);
			return;
		}
	}
	vm_succeed();
}

static void emulate_vmptrld(struct nested_cpu *n, const struct nested_env *env,
			    struct guest_regs *r)
{
	struct nested_operand op;
	uint64_t pa;
	if (!in_vmx_operation_or_ud(n) || !decode(EXIT_REASON_VMPTRLD, r, &op) ||
	    !read_operand(env, &op, &pa))
		return;
	uint32_t rev;
	if (!pointer_valid(env, pa) || !read_revision(env, pa, &rev)) {
		vm_fail(n, VMXERR_VMPTRLD_INVALID_ADDRESS);
		return;
	}
	if (pa == n->vmxon_ptr) {
		vm_fail(n, VMXERR_VMPTRLD_VMXON_POINTER);
		return;
	}
	/* Bit 31 (shadow VMCS) only where "VMCS shadowing" may be 1 for L1 (nested/shadow12.h). */
	if ((rev & 0x7fffffffu) != (uint32_t)(env->l1_caps->basic & VMX_BASIC_REVISION_MASK) ||
	    ((rev & VMCS_SHADOW_INDICATOR) &&
	     !vmx_controls_allowed(env->l1_caps, VMX_CTL_PROC2, CPU2_VMCS_SHADOWING))) {
		vm_fail(n, VMXERR_VMPTRLD_BAD_REVISION);
		return;
	}
	if (pa != n->current_vmptr) {
		flush_current(n, env);
		if (!env->mem->read(env->mem->ctx, pa, n->vmcs12, sizeof(*n->vmcs12))) {
			n->current_vmptr = VMPTR_INVALID;
			vm_fail(n, VMXERR_VMPTRLD_INVALID_ADDRESS);
			return;
		}
		/* L1 may have written anything into the region: read once, normalised once. */
		vmcs12_normalize(n->vmcs12);
		n->current_vmptr = pa;
	}
	vm_succeed();
}

static void emulate_vmptrst(struct nested_cpu *n, const struct nested_env *env,
			    struct guest_regs *r)
{
	struct nested_operand op;
	if (!in_vmx_operation_or_ud(n) || !decode(EXIT_REASON_VMPTRST, r, &op) ||
	    !write_operand(env, &op, n->current_vmptr))
		return;
	vm_succeed();
}

/*
 * VMREAD/VMWRITE: the field encoding is reg2 (bits 63:32 must be 0, else the
 * field is unsupported); the other operand is a register or memory, 64
 * bits in 64-bit mode and 32 bits outside it.
 */
static void emulate_vmread(struct nested_cpu *n, const struct nested_env *env,
			   struct guest_regs *r)
{
	struct nested_operand op;
	struct nested_operand_env e;
	if (!in_vmx_operation_or_ud(n) || !decode_early(EXIT_REASON_VMREAD, r, &op, &e))
		return;
	if (n->current_vmptr == VMPTR_INVALID) {
		vm_fail_invalid();
		return;
	}
	uint64_t value;
	const struct vmcs_field_info *f = vmcs_field_lookup((uint32_t)op.reg2_value);
	if ((op.reg2_value >> 32) || !f || !vmcs_field_exists(f, env->l1_caps) ||
	    !vmcs12_read(n->vmcs12, (uint32_t)op.reg2_value, &value)) {
		vm_fail(n, VMXERR_UNSUPPORTED_FIELD);
		return;
	}
	n->vmread_traps[f - vmcs_field_table]++;
	if (op.size == 4)
		value &= 0xffffffffull;
	if (op.is_mem) {
		if (!access_ok(&e, &op) || !write_operand(env, &op, value))
			return;
	} else {
		vmx_gpr_write(r, op.reg, value);
	}
	vm_succeed();
}

static void emulate_vmwrite(struct nested_cpu *n, const struct nested_env *env,
			    struct guest_regs *r)
{
	struct nested_operand op;
	struct nested_operand_env e;
	if (!in_vmx_operation_or_ud(n) || !decode_early(EXIT_REASON_VMWRITE, r, &op, &e))
		return;
	if (n->current_vmptr == VMPTR_INVALID) {
		vm_fail_invalid();
		return;
	}
	/*
	 * SDM Vol. 3C 31.3 VMWRITE: "any faults resulting from accessing a
	 * memory source operand occur after determining ... that the relevant
	 * VMCS pointer is valid but before determining if the destination VMCS
	 * field is supported".
	 */
	uint64_t value;
	if (op.is_mem) {
		if (!access_ok(&e, &op) || !read_operand(env, &op, &value))
			return;
	} else {
		value = vmx_gpr_read(r, op.reg);
	}
	uint32_t field = (uint32_t)op.reg2_value;
	const struct vmcs_field_info *f = vmcs_field_lookup(field);
	if ((op.reg2_value >> 32) || !f || !vmcs_field_exists(f, env->l1_caps)) {
		vm_fail(n, VMXERR_UNSUPPORTED_FIELD);
		return;
	}
	n->vmwrite_traps[f - vmcs_field_table]++;
	if (f->cls == VMCS_CLASS_EXIT_INFO && !(env->l1_caps->misc & MISC_VMWRITE_ANY_FIELD)) {
		vm_fail(n, VMXERR_VMWRITE_READ_ONLY);
		return;
	}
	if (op.size == 4)
		value &= 0xffffffffull;
	vmcs12_write(n->vmcs12, field, value);
	n->dirty12 |= VMCS_DIRTY(f->dirty);
	vm_succeed();
}

/*
 * VMfailValid 7 or 8 for a failed check of 27.2, with the rule in the
 * log: a debug line for the SDM's checks; a warn line for one of L0's
 * own rules (section "L0, ..."), where the CPU would have entered,
 * rate-limited as L0's other refusals (the first 16, then every 1024th).
 */
static uint64_t l0_rule_refusals;

static void entry_vmfail(struct nested_cpu *n, const struct nested_entry_check *c, uint32_t error)
{
	if (c->sdm && c->sdm[0] == 'L' && c->sdm[1] == '0') {
		uint64_t k = __atomic_add_fetch(&l0_rule_refusals, 1, __ATOMIC_RELAXED);
		if (k <= 16 || !(k & 1023))
			log_warn("nested: VM entry to L2 refused by L0's own rule, VMfailValid %u: "
				 "%s (%s; refusal %llu)",
				 error, c->what, c->sdm, (unsigned long long)k);
	} else {
		log_debug("nested: VM entry to L2 refused, VMfailValid %u: %s (%s)", error,
			  c->what, c->sdm);
	}
	vm_fail(n, error);
}

bool nested_vmentry_begin(struct nested_cpu *n, const struct nested_env *env, bool launch,
			  unsigned checks)
{
	/* SDM 31.3 VMLAUNCH/VMRESUME: the mode #UDs are the CPU's, before any exit. */
	if (!in_vmx_operation_or_ud(n))
		return false;
	if (vmx_guest_cpl() != 0) {
		vmx_inject_gp0();
		return false;
	}
	/* SDM 27.1: no current VMCS, or a shadow VMCS current (25.10): VMfailInvalid. */
	if (n->current_vmptr == VMPTR_INVALID || (n->vmcs12->revision & VMCS_SHADOW_INDICATOR)) {
		vm_fail_invalid();
		return false;
	}
	/* SDM 27.1: VM entry is refused right after MOV SS/POP SS. */
	if (vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO) & GUEST_INTR_STATE_MOV_SS) {
		vm_fail(n, VMXERR_ENTRY_MOV_SS_BLOCKING);
		return false;
	}
	/* SDM 27.1: VMLAUNCH needs a clear VMCS, VMRESUME a launched one. */
	if (launch && n->vmcs12->launch_state != VMCS12_LAUNCH_CLEAR) {
		vm_fail(n, VMXERR_VMLAUNCH_NOT_CLEAR);
		return false;
	}
	if (!launch && n->vmcs12->launch_state != VMCS12_LAUNCH_LAUNCHED) {
		vm_fail(n, VMXERR_VMRESUME_NOT_LAUNCHED);
		return false;
	}
	/*
	 * SDM 27.2.1, then 27.2.2-27.2.4: the controls, then the host-state
	 * area - those of the dirty groups (vmx/vmcs_fields.h): the controls
	 * whole, or only the event-injection checks of 27.2.1.3.
	 */
	struct nested_entry_check c = NENTRY_PASS;
	if (checks & VMCS_DIRTY(VMCS_DG_CONTROL)) {
		c = nested_check_controls(n->vmcs12, env->l1_caps, env->mem->maxphyaddr);
		if (c.result == NENTRY_OK)
			c = nested_check_virtual_apic(n->vmcs12, env->mem); /* reads L1's memory */
		if (c.result == NENTRY_OK)
			c = nested_check_apic_access(n->vmcs12, l0_ept01_lookup);
	} else if (checks & VMCS_DIRTY(VMCS_DG_EVENT)) {
		c = nested_check_event_injection(n->vmcs12, env->l1_caps);
	}
	if (c.result != NENTRY_OK) {
		entry_vmfail(n, &c, VMXERR_ENTRY_INVALID_CONTROL);
		return false;
	}
	if (!(checks & VMCS_DIRTY(VMCS_DG_HOST)))
		return true;
	/*
	 * The bitmap pages need only what 27.2.1.1 checks (alignment, width):
	 * one that is not L1's memory reads as all ones (nested/msr_merge.h,
	 * nested/vmentry.c), which no VMfail of the CPU's would say.
	 */
	bool l1_in_ia32e = vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA;
	c = nested_check_host_state(n->vmcs12, env->l1_caps, env->mem->maxphyaddr, l1_in_ia32e);
	if (c.result != NENTRY_OK) {
		entry_vmfail(n, &c, VMXERR_ENTRY_INVALID_HOST_STATE);
		return false;
	}
	return true;
}

void nested_vm_fail(struct nested_cpu *n, uint32_t error)
{
	vm_fail(n, error);
}

/* ---- for the handlers in files of their own (insn_common.h) ---- */

bool nested_insn_in_vmx_or_ud(const struct nested_cpu *n)
{
	return in_vmx_operation_or_ud(n);
}

bool nested_insn_operand_early(uint32_t reason, const struct guest_regs *r,
			       struct nested_operand *op, struct nested_operand_env *e)
{
	return decode_early(reason, r, op, e);
}

bool nested_insn_operand_access(const struct nested_operand_env *e, const struct nested_operand *op)
{
	return access_ok(e, op);
}

bool nested_insn_read_mem(const struct nested_env *env, const struct nested_operand *op, void *buf,
			  unsigned len)
{
	struct guest_paging g;
	struct guest_walk w;
	l1_paging_of_current(&g, env->mem);
	if (guest_read_linear(&g, op->linear, buf, len, access_flags(), &w) != GWALK_OK) {
		inject_walk_failure(&w);
		return false;
	}
	return true;
}

bool nested_insn_write_mem(const struct nested_env *env, const struct nested_operand *op,
			   const void *buf, unsigned len)
{
	struct guest_paging g;
	struct guest_walk w;
	l1_paging_of_current(&g, env->mem);
	if (guest_write_linear(&g, op->linear, buf, len, access_flags() | GWALK_WRITE, &w) !=
	    GWALK_OK) {
		inject_walk_failure(&w);
		return false;
	}
	return true;
}

void nested_vm_succeed(void)
{
	vm_succeed();
}

bool nested_emulate_vmx_insn(struct nested_cpu *n, const struct nested_env *env,
			     struct guest_regs *r, uint32_t exit_reason)
{
	switch (exit_reason) {
	case EXIT_REASON_VMXON:
		emulate_vmxon(n, env, r);
		return true;
	case EXIT_REASON_VMXOFF:
		emulate_vmxoff(n, env);
		return true;
	case EXIT_REASON_VMCLEAR:
		emulate_vmclear(n, env, r);
		return true;
	case EXIT_REASON_VMPTRLD:
		emulate_vmptrld(n, env, r);
		return true;
	case EXIT_REASON_VMPTRST:
		emulate_vmptrst(n, env, r);
		return true;
	case EXIT_REASON_VMREAD:
		emulate_vmread(n, env, r);
		return true;
	case EXIT_REASON_VMWRITE:
		emulate_vmwrite(n, env, r);
		return true;
	case EXIT_REASON_INVEPT:
		nested_emulate_invept(n, env, r);
		return true;
	case EXIT_REASON_INVVPID:
		nested_emulate_invvpid(n, env, r);
		return true;
	}
	return false;
}
