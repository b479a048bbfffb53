/*
 * msr_policy.h - which MSR accesses of L1 exit to L0, and what L0 does.
 *
 * The MSR bitmap (SDM Vol. 3C 25.6.9) makes only these accesses exit:
 *   IA32_FEATURE_CONTROL (0x3a), read and write;
 *   IA32_VMX_BASIC .. IA32_VMX_VMFUNC (0x480-0x491), read and write;
 *   the x2APIC ICR (0x830), write only: INIT and SIPI (vmx/ap_start.h).
 * Everything else in the bitmap's two ranges passes straight through; MSRs
 * outside them always exit (SDM 26.1.3) and L0 executes the access for L1,
 * turning a #GP there into a #GP for L1.
 * Emulated values:
 *   IA32_FEATURE_CONTROL reads as locked (bit 0), with "VMX outside SMX"
 *   (bit 2) when nested is on; any write is #GP (a locked MSR).
 *   The VMX capability MSRs read as L1's (nested/vmx_msrs.h) when nested
 *   is on, a capability L1 is not offered (EPT/VPID, VMFUNC) and any of
 *   them with nested off is #GP; a write is always #GP (read-only MSRs).
 */
#ifndef MICROHV_VMX_MSR_POLICY_H
#define MICROHV_VMX_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_BITMAP_SIZE 4096

enum msr_action {
	MSR_PASSTHROUGH, /* L0 performs the access on the real MSR */
	MSR_EMULATED,	 /* L0 answers (read: *value) or absorbs (write) */
	MSR_INJECT_GP,	 /* L1 gets #GP(0) */
};

#include "vmx/caps.h"

struct msr_policy {
	bool nested;
	const struct vmx_caps *l1_vmx; /* L1's capability MSRs when nested = on */
};

enum msr_action msr_policy_read(const struct msr_policy *p, uint32_t msr, uint64_t *value);
enum msr_action msr_policy_write(const struct msr_policy *p, uint32_t msr, uint64_t value);

/* Fills a zeroed 4-KiB MSR bitmap with the intercepts above. */
void msr_bitmap_build(uint8_t *bitmap);

/* Whether an access exits under bitmap (MSRs outside both ranges always do). */
bool msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write);

#endif
