/*
 * reflect_cr.h - CR0/CR4 as L1 must see them in vmcs12 after an exit from L2.
 *
 * In vmcs02 a CR0/CR4 bit is owned by L0 when L0's guest/host mask or
 * L1's (vmcs12's) mask has it.  When L2 exits to L1, vmcs12's guest CRx is
 * rebuilt from vmcs02 (guest-state field and read shadow only):
 *   bits = L0's guest-owned bits | vmcs12's guest/host mask
 *   vmcs12.guest_crX = (vmcs02.guest_crX & bits) | (vmcs02.crX_read_shadow & ~bits)
 * Bits L2 owns, or L1 masked (L2 cannot change them without an exit), come
 * from the register; bits only L0 pins (CR0.NE, CR4.VMXE, ...) come from
 * the read shadow, where L0 keeps the value L1 gave them: L1 sees the bits
 * it did not expect to change from its own view (issue 4, item 7).
 */
#ifndef MICROHV_NESTED_REFLECT_CR_H
#define MICROHV_NESTED_REFLECT_CR_H

#include <stdint.h>

/* l0_guest_owned: the bits L0 does not own (~L0's mask in vmcs02). */
static inline uint64_t nested_merge_guest_cr(uint64_t guest_cr02, uint64_t shadow02,
					     uint64_t l0_guest_owned, uint64_t mask12)
{
	uint64_t bits = l0_guest_owned | mask12;
	return (guest_cr02 & bits) | (shadow02 & ~bits);
}

#endif
