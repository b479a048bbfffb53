/*
 * controls.h - fitting VMX control values and CR0/CR4 to what the CPU allows.
 * Pure functions over the capability MSRs (struct vmx_caps), unit-tested.
 */
#ifndef MICROHV_VMX_CONTROLS_H
#define MICROHV_VMX_CONTROLS_H

#include "caps.h"

#include <stdbool.h>
#include <stdint.h>

enum vmx_ctl {
	VMX_CTL_PIN,
	VMX_CTL_PROC,
	VMX_CTL_PROC2,
	VMX_CTL_EXIT,
	VMX_CTL_ENTRY,
};

/*
 * SDM Vol. 3D A.3-A.5: a control MSR's low half is the allowed-0 settings
 * (bits that must be 1), the high half the allowed-1 settings (bits that
 * may be 1).  The TRUE_* MSRs replace the plain ones when BASIC[55] is set
 * (A.2), which lets the "default1" controls be cleared.
 * Returns (wanted | must_be_1) & may_be_1.
 */
uint32_t vmx_adjust_controls(const struct vmx_caps *c, enum vmx_ctl which, uint32_t wanted);

/* Whether every bit of `bits` may be 1 in control `which`. */
bool vmx_controls_allowed(const struct vmx_caps *c, enum vmx_ctl which, uint32_t bits);

/*
 * SDM Vol. 3D A.7/A.8: bits set in FIXED0 must be 1, bits clear in FIXED1
 * must be 0, in VMX operation.  With unrestricted guest, CR0.PE and CR0.PG
 * are exempt for the guest (SDM Vol. 3C 27.3.1.1).
 */
uint64_t vmx_cr0_fixed0(const struct vmx_caps *c, bool unrestricted_guest);
uint64_t vmx_fix_cr0(const struct vmx_caps *c, uint64_t cr0, bool unrestricted_guest);
uint64_t vmx_fix_cr4(const struct vmx_caps *c, uint64_t cr4);

/*
 * CR4 bits of the features cpuid_policy.h hides from L1 (SMX, CET, PKS):
 * reserved as L1 sees the CPU, so MOV to CR4 must refuse them.
 */
#define CR4_HIDDEN_FROM_L1 ((1ull << 14) | (1ull << 23) | (1ull << 24)) /* SMXE CET PKS */

/*
 * The CR0/CR4 guest/host masks L0 needs: every bit the CPU pins in VMX
 * operation, and in CR4 the bits of features L1's CPUID hides, so that L1
 * reads its own value from the read shadow and its attempts to change such
 * a bit exit to L0 (which refuses the hidden ones as reserved).
 */
uint64_t vmx_cr0_host_owned(const struct vmx_caps *c, bool unrestricted_guest);
uint64_t vmx_cr4_host_owned(const struct vmx_caps *c);

/*
 * Whether a VMCS field exists on a CPU with capabilities c (for L1: its
 * virtual capabilities): its feature's control may be 1 (vmcs_fields.h).
 */
struct vmcs_field_info;
bool vmcs_field_exists(const struct vmcs_field_info *f, const struct vmx_caps *c);

/*
 * Every enum vmcs_feature c has, as bit (1 << feature): for a loop over
 * the field table, one test per feature instead of one per field.
 */
uint32_t vmcs_features_present(const struct vmx_caps *c);

#endif
