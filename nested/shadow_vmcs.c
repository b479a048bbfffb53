/*
 * shadow_vmcs.c - hardware VMCS shadowing of vmcs12 for L1 (shadow_vmcs.h).
 */
#include "shadow_vmcs.h"

#include "nested/run.h"
#include "vmx/controls.h"
#include "vmx/hw_ops.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

#include <stddef.h>

#define MISC_VMWRITE_ANY_FIELD (1ull << 29)
#define VMCS_LINK_NONE (~0ull)

/* SDM Vol. 3C 25.6.15: bit n of a bitmap is the field whose encoding bits 14:0 are n. */
static void bitmap_clear_field(uint8_t *bitmap, uint32_t encoding)
{
	uint32_t bit = encoding & 0x7fff;
	bitmap[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
}

static void bitmap_pass(uint8_t *bitmap, const struct vmcs_field_info *f)
{
	bitmap_clear_field(bitmap, f->encoding);
	/* The "high" access of a 64-bit field is a field encoding of its own (25.11.2). */
	if (f->width == VMCS_WIDTH_64)
		bitmap_clear_field(bitmap, f->encoding | 1);
}

bool nested_shadow_set_build(const struct vmx_caps *hw, const struct vmx_caps *l1,
			     struct nested_shadow_set *set, uint8_t *vmread_bitmap,
			     uint8_t *vmwrite_bitmap)
{
	*set = (struct nested_shadow_set){ 0 };
	for (unsigned i = 0; i < 4096; i++)
		vmread_bitmap[i] = vmwrite_bitmap[i] = 0xff;
	if (!vmx_controls_allowed(hw, VMX_CTL_PROC2, CPU2_VMCS_SHADOWING))
		return false;
	/* L0 writes exit information into the shadow: "VMWRITE to any supported field". */
	bool ro_ok = hw->misc & MISC_VMWRITE_ANY_FIELD;
	for (unsigned pass = VMCS_SH_RW; pass >= VMCS_SH_RO; pass--) {
		for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
			const struct vmcs_field_info *f = &vmcs_field_table[i];
			if (f->shadow != pass || !vmcs_field_exists(f, l1) ||
			    !vmcs_field_exists(f, hw) || (pass == VMCS_SH_RO && !ro_ok) ||
			    set->count == NESTED_SHADOW_MAX)
				continue;
			set->idx[set->count++] = (uint16_t)i;
			bitmap_pass(vmread_bitmap, f);
			if (pass == VMCS_SH_RW)
				bitmap_pass(vmwrite_bitmap, f);
		}
		if (pass == VMCS_SH_RW)
			set->rw = set->count;
	}
	return set->count != 0;
}

/* Shadowing may run on this CPU: the machine's set, and a shadow VMCS of the CPU's. */
static bool shadowing(const struct nested_vcpu *nv)
{
	return nv->shadow_pa && g_l0.shadow_set.count;
}

static bool shadow_active(const struct nested_vcpu *nv)
{
	return shadowing(nv) && nv->shadow_for != VMPTR_INVALID;
}

uint32_t nested_shadow_from_l1(struct vcpu *v)
{
	struct nested_vcpu *nv = v->nested;
	if (!shadow_active(nv))
		return 0;
	const struct nested_shadow_set *set = &g_l0.shadow_set;
	uint64_t now[NESTED_SHADOW_MAX];
	hw_vmptrld(nv->shadow_pa);
	for (unsigned k = 0; k < set->rw; k++)
		now[k] = vmcs_read(vmcs_field_table[set->idx[k]].encoding);
	/* Out of the CPU's cache into memory, where the CPU reads it in L1 (25.11.1). */
	hw_vmclear(nv->shadow_pa);
	hw_vmptrld(v->vmcs01_pa);
	uint32_t changed = 0;
	for (unsigned k = 0; k < set->rw; k++) {
		if (now[k] == nv->shadow_val[k])
			continue;
		/* The CPU's VMREAD gives the field's width already (SDM 31.3 VMREAD). */
		nv->cpu.vmcs12->field[set->idx[k]] = now[k];
		nv->shadow_val[k] = now[k];
		changed |= 1u << k;
	}
	nv->shadow_copied_back += nested_shadow_count(changed);
	return changed;
}

/* vmcs01's "VMCS shadowing" and link pointer (the bitmaps are set at launch, vmcs01.c). */
static void vmcs01_link(uint64_t link)
{
	uint64_t proc2 = vmcs_read(VMCS_SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)CPU2_VMCS_SHADOWING;
	if (link != VMCS_LINK_NONE)
		proc2 |= CPU2_VMCS_SHADOWING;
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write(VMCS_VMCS_LINK_POINTER, link);
}

unsigned nested_shadow_to_l1(struct vcpu *v)
{
	struct nested_vcpu *nv = v->nested;
	if (!shadowing(nv))
		return 0;
	const struct nested_cpu *n = &nv->cpu;
	if (!n->vmxon || n->current_vmptr == VMPTR_INVALID) {
		if (nv->shadow_for != VMPTR_INVALID) {
			vmcs01_link(VMCS_LINK_NONE);
			nv->shadow_for = VMPTR_INVALID;
		}
		return 0;
	}
	const struct nested_shadow_set *set = &g_l0.shadow_set;
	bool all = nv->shadow_for != n->current_vmptr;
	unsigned written = 0;
	for (unsigned k = 0; k < set->count; k++) {
		const struct vmcs_field_info *f = &vmcs_field_table[set->idx[k]];
		uint64_t x = n->vmcs12->field[set->idx[k]];
		if (!all && x == nv->shadow_val[k])
			continue;
		if (!written++) {
			/* A region L0 may not have used yet: VMCLEAR initialises it (25.11.3). */
			if (all)
				hw_vmclear(nv->shadow_pa);
			hw_vmptrld(nv->shadow_pa);
		}
		vmcs_write(f->encoding, x);
		nv->shadow_val[k] = x;
	}
	if (written) {
		hw_vmclear(nv->shadow_pa);
		hw_vmptrld(v->vmcs01_pa);
	}
	if (all) {
		if (nv->shadow_for == VMPTR_INVALID)
			vmcs01_link(nv->shadow_pa);
		nv->shadow_for = n->current_vmptr;
	}
	nv->shadow_pushed += written;
	return written;
}
