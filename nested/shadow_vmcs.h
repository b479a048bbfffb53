/*
 * shadow_vmcs.h - hardware VMCS shadowing of vmcs12 for L1 (SDM Vol. 3C
 * 25.10, 26.3 "VMREAD/VMWRITE in VMX non-root operation").
 *
 * While L1 is in VMX operation with a current vmcs12, vmcs01 has "VMCS
 * shadowing" on and its link pointer names L0's shadow VMCS of this CPU,
 * which holds the vmcs12 fields the table marks VMCS_SH_RO or VMCS_SH_RW
 * (vmx/vmcs_fields.h).  L1's VMREAD of one of them, and its VMWRITE of an
 * RW one, then complete in L1 without an exit; every other field still
 * exits to L0's emulation (nested/insn_emul.c), as the VMREAD and VMWRITE
 * bitmaps, built from the same column, say.
 *
 * L0 keeps vmcs12 (its cache of L1's current VMCS, nested.h) the one true
 * copy, and the shadow follows it:
 *   - shadow -> vmcs12, the RW fields only, before L0 uses vmcs12 as a
 *     whole: L1's VMLAUNCH, VMRESUME, VMCLEAR, VMPTRLD and VMXOFF
 *     (nested_shadow_from_l1);
 *   - vmcs12 -> shadow, only the fields whose value differs from what the
 *     shadow holds, whenever L0 returns to L1 after changing vmcs12: a
 *     reflected exit or a failed entry (nested_exit_to_l1), an emulated
 *     VMWRITE of a read-only field (MISC[29]); all of them after a VMPTRLD
 *     of another VMCS; shadowing off again without a current vmcs12
 *     (nested_shadow_to_l1).
 * L0 never decides anything from the shadow page itself: what it copies
 * back is width-masked into vmcs12 and meets the entry checks there.
 *
 * The read-only set needs "VMWRITE to any supported field" (IA32_VMX_MISC
 * bit 29) in the CPU, for L0's own VMWRITE of the exit information into
 * the shadow; without it only the RW set is shadowed.  Without VMCS
 * shadowing in the CPU, or with `shadow_vmcs = off` in hv.cfg, every
 * VMREAD and VMWRITE of L1's exits, as before.
 */
#ifndef MICROHV_NESTED_SHADOW_VMCS_H
#define MICROHV_NESTED_SHADOW_VMCS_H

#include "vmx/caps.h"
#include "vmx/vmcs_fields.h"

#include <stdbool.h>
#include <stdint.h>

#define NESTED_SHADOW_MAX 32 /* rows the table may mark for shadowing */

/* The shadowed fields on this machine, RW ones first (table indices). */
struct nested_shadow_set {
	uint16_t idx[NESTED_SHADOW_MAX];
	unsigned count, rw; /* idx[0..rw) are RW, idx[rw..count) RO */
};

/*
 * The set for L1's capabilities l1 on a CPU with capabilities hw: the
 * table's shadowed rows whose field exists for L1, the RO ones only with
 * MISC[29] in hw.  Fills the two bitmaps (4 KiB each, bit = encoding bits
 * 14:0, SDM Vol. 3C 25.6.15): 0 (no exit) for every access the set lets
 * complete in L1, counting the "high" access of a 64-bit field; 1 for all
 * else.  Returns false, count 0 and every bit 1, where hw cannot shadow
 * (no "VMCS shadowing" control, or no "VMWRITE to any supported field"
 * and nothing RW).
 */
bool nested_shadow_set_build(const struct vmx_caps *hw, const struct vmx_caps *l1,
			     struct nested_shadow_set *set, uint8_t *vmread_bitmap,
			     uint8_t *vmwrite_bitmap);

struct vcpu;

/*
 * Shadow -> vmcs12: the RW fields L1 may have written while vmcs01 ran
 * (vmcs01 current before and after).  Returns the fields that changed, bit
 * k for g_l0.shadow_set.idx[k].  Nothing (0) when shadowing is off on this
 * CPU.
 */
uint32_t nested_shadow_from_l1(struct vcpu *v);

/* The number of fields in such a mask (the core has no libgcc popcount). */
static inline unsigned nested_shadow_count(uint32_t mask)
{
	unsigned n = 0;
	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

/*
 * vmcs12 -> shadow, and vmcs01's "VMCS shadowing" to match L1's state
 * (vmcs01 current before and after): on for a current vmcs12, with every
 * shadowed field written when the shadow held another VMCS, else only
 * those that changed; off without one (not in VMX operation, no current
 * VMCS).  Returns the number of shadow fields written.
 */
unsigned nested_shadow_to_l1(struct vcpu *v);

#endif
