/*
 * shadow12.c - VMCS shadowing for L1's guest (shadow12.h).
 */
#include "shadow12.h"

#include "drivers/serial/log.h"
#include "nested/insn_common.h"
#include "vmx/controls.h"
#include "vmx/exit.h"
#include "vmx/vmx_arch.h"

#define F(name) VMCS12_FIELD(v12, name)

#define VMCS_LINK_POINTER_NONE (~0ull)
#define MISC_VMWRITE_ANY_FIELD (1ull << 29)

/* The VM-instruction error numbers (SDM Vol. 3C 31.4) of VMREAD/VMWRITE. */
enum {
	VMXERR_UNSUPPORTED_FIELD = 12,
	VMXERR_VMWRITE_READ_ONLY = 13,
};

bool nested_shadowing_enabled(const struct vmcs12 *v12)
{
	return (F(CPU_BASED_VM_EXEC_CONTROL) & CPU_ACTIVATE_SECONDARY) &&
	       (F(SECONDARY_VM_EXEC_CONTROL) & CPU2_VMCS_SHADOWING);
}

struct nested_entry_check nested_check_link_pointer(const struct vmcs12 *v12,
						    const struct vmx_caps *l1_caps,
						    const struct l1_memory *mem,
						    uint64_t current_vmptr)
{
	const struct nentry_section sec = {NENTRY_FAIL_GUEST, "SDM 27.3.1.5"};
	uint64_t link = F(VMCS_LINK_POINTER);
	if (link == VMCS_LINK_POINTER_NONE)
		return NENTRY_PASS;
	/* Read once, here: the CPU reads the word at VM entry and not again. */
	uint32_t rev;
	if (!mem->read(mem->ctx, link, &rev, sizeof(rev))) {
		log_warn("nested: VMCS link pointer 0x%llx is not L1's memory: the entry fails",
			 (unsigned long long)link);
		return nentry_fail(&sec, NENTRY_QUAL_LINK_POINTER,
				   "VMCS_LINK_POINTER must name L1's memory");
	}
	NENTRY_REQUIRE_Q((rev & ~VMCS_SHADOW_INDICATOR) ==
			     (uint32_t)(l1_caps->basic & VMX_BASIC_REVISION_MASK),
			 NENTRY_QUAL_LINK_POINTER,
			 "the VMCS at VMCS_LINK_POINTER must have the VMCS revision in bits 30:0");
	NENTRY_REQUIRE_Q(!(rev & VMCS_SHADOW_INDICATOR) == !nested_shadowing_enabled(v12),
			 NENTRY_QUAL_LINK_POINTER,
			 "the shadow-VMCS indicator at VMCS_LINK_POINTER must equal \"VMCS "
			 "shadowing\"");
	NENTRY_REQUIRE_Q(link != current_vmptr, NENTRY_QUAL_LINK_POINTER,
			 "VMCS_LINK_POINTER must not be the current-VMCS pointer");
	return NENTRY_PASS;
}

static void copy_bitmap(const char *which, uint64_t gpa, const struct l1_memory *mem, uint8_t *copy)
{
	/* The entry checks (27.2.1.1) made gpa 4-KiB aligned. */
	if ((gpa & 0xfff) || !mem->read(mem->ctx, gpa, copy, SHADOW_BITMAP_SIZE)) {
		log_warn("nested: L1's %s bitmap at 0x%llx is not L1's memory: every %s of L2's "
			 "exits to L1",
			 which, (unsigned long long)gpa, which);
		__builtin_memset(copy, 0xff, SHADOW_BITMAP_SIZE);
	}
}

void nested_copy_shadow_bitmaps(const struct vmcs12 *v12, const struct l1_memory *mem,
				uint8_t *vmread_copy, uint8_t *vmwrite_copy)
{
	if (!nested_shadowing_enabled(v12))
		return;
	copy_bitmap("VMREAD", F(VMREAD_BITMAP), mem, vmread_copy);
	copy_bitmap("VMWRITE", F(VMWRITE_BITMAP), mem, vmwrite_copy);
}

/* The shadow VMCS's slot of field index i, in L1's memory. */
static bool slot_read(const struct l1_memory *mem, uint64_t link, long i, uint64_t *slot)
{
	return mem->read(mem->ctx, link + VMCS12_FIELD_OFFSET(i), slot, sizeof(*slot));
}

static bool slot_write(const struct l1_memory *mem, uint64_t link, long i, uint64_t slot)
{
	return mem->write(mem->ctx, link + VMCS12_FIELD_OFFSET(i), &slot, sizeof(slot));
}

void nested_shadow_emulate(struct nested_cpu *n, const struct vmx_caps *l1_caps,
			   const struct l1_memory *l1_mem, const struct l1_memory *l2_mem,
			   struct guest_regs *r, uint32_t reason)
{
	const struct vmcs12 *v12 = n->vmcs12;
	bool write = reason == EXIT_REASON_VMWRITE;
	struct nested_operand op;
	struct nested_operand_env e;
	/* #UD by mode was the CPU's before the exit; #GP(0) at CPL > 0 (L2's). */
	if (!nested_insn_operand_early(reason, r, &op, &e))
		return;
	uint64_t link = F(VMCS_LINK_POINTER);
	if (link == VMCS_LINK_POINTER_NONE) {
		nested_vm_fail(n, 0); /* VMfailInvalid */
		return;
	}
	const struct nested_env env = {.l1_caps = l1_caps, .mem = l2_mem};
	/*
	 * VMWRITE reads a memory source after the pointer check and before
	 * the field checks (SDM Vol. 3C 31.3 VMWRITE, description).
	 */
	uint64_t value = 0;
	if (write) {
		if (!op.is_mem)
			value = vmx_gpr_read(r, op.reg);
		else if (!nested_insn_operand_access(&e, &op) ||
			 !nested_insn_read_mem(&env, &op, &value, op.size))
			return;
		if (op.size == 4)
			value &= 0xffffffffull;
	}
	uint32_t field = (uint32_t)op.reg2_value; /* bits 63:15 are 0: else it exited */
	const struct vmcs_field_info *f = vmcs_field_lookup(field);
	if (!f || !vmcs_field_exists(f, l1_caps)) {
		nested_vm_fail(n, VMXERR_UNSUPPORTED_FIELD);
		return;
	}
	if (write && f->cls == VMCS_CLASS_EXIT_INFO && !(l1_caps->misc & MISC_VMWRITE_ANY_FIELD)) {
		nested_vm_fail(n, VMXERR_VMWRITE_READ_ONLY);
		return;
	}
	long i = f - vmcs_field_table;
	bool high = VMCS_ENCODING_WIDTH(field) == VMCS_WIDTH_64 && VMCS_ENCODING_HIGH(field);
	uint64_t slot;
	/* The entry read its revision: L1's memory (nested_check_link_pointer). */
	if (!slot_read(l1_mem, link, i, &slot)) {
		log_warn("nested: shadow VMCS at 0x%llx unreadable: VMfailInvalid for L2",
			 (unsigned long long)link);
		nested_vm_fail(n, 0);
		return;
	}
	/* A field never holds more bits than it has (SDM 25.11.2, vmcs12_normalize). */
	slot &= vmcs_width_mask(f->width);
	if (!write) {
		value = high ? slot >> 32 : slot;
		if (op.size == 4)
			value &= 0xffffffffull;
		/* VMREAD stores after its VMfail checks (SDM 31.3 VMREAD, description). */
		if (op.is_mem) {
			if (!nested_insn_operand_access(&e, &op) ||
			    !nested_insn_write_mem(&env, &op, &value, op.size))
				return;
		} else {
			vmx_gpr_write(r, op.reg, value);
		}
		nested_vm_succeed();
		return;
	}
	if (high)
		slot = (slot & 0xffffffffull) | (value << 32);
	else
		slot = value & vmcs_width_mask(f->width);
	if (!slot_write(l1_mem, link, i, slot)) {
		log_warn("nested: shadow VMCS at 0x%llx unwritable: VMfailInvalid for L2",
			 (unsigned long long)link);
		nested_vm_fail(n, 0);
		return;
	}
	nested_vm_succeed();
}
