/*
 * vmx_msrs.h - the VMX capability MSRs L1 reads (IA32_VMX_BASIC ..
 * IA32_VMX_VMCS_ENUM): what nested/ implements, no more.
 *
 * Each control MSR offered to L1 is the hardware's, narrowed: the bits that
 * must be 1 stay the hardware's (L0 runs L2 with L1's controls ORed with
 * its own, so the CPU's must-be-1 bits are L1's too), and a bit may be 1
 * only if the hardware allows it AND nested/ emulates it (the *_OFFERED
 * sets in vmx_msrs.c).  EPT is offered where L0 can shadow L1's EPT
 * (nested/ept12.h) and VPID where L0 can map L1's VPIDs to its own
 * (nested/vpid.h); IA32_VMX_EPT_VPID_CAP then exists for L1 with the
 * EPT bits L0 implements and the VPID bits (INVVPID, all four types: SDM
 * Vol. 3D A.10).  VM functions are offered with EPT where the CPU has
 * them with EPTP switching: IA32_VMX_VMFUNC then exists for L1 with EPTP
 * switching alone (A.11, nested/vmfunc.h); elsewhere it does not (#GP),
 * exactly as on a CPU without them.  Posted interrupts, APIC-register
 * virtualization and virtual-interrupt delivery are not offered.  The
 * preemption timer is offered at the CPU's rate where the CPU has it and
 * can save its value.
 */
#ifndef MICROHV_NESTED_VMX_MSRS_H
#define MICROHV_NESTED_VMX_MSRS_H

#include "vmx/caps.h"

#include <stdbool.h>
#include <stdint.h>

/* The revision identifier of vmcs12 (our own layout; bit 31 clear). */
#define VMCS12_REVISION 0x6d687631u /* "1vhm" */
#define VMCS12_SIZE 4096u

/*
 * Derives L1's capability MSRs from the hardware's (raw, as the loader read
 * them).  highest_field_index is IA32_VMX_VMCS_ENUM[9:1]: the highest index
 * field of the field table.
 */
void nested_vmx_msrs_init(const struct vmx_caps *hw, unsigned highest_field_index,
			  struct vmx_caps *l1);

/*
 * L0 can offer "enable VPID" to L1 on a CPU with these capability MSRs:
 * it may set "enable VPID" and has INVVPID with the single-context or
 * all-context type (what nested/vpid.c executes).
 */
bool nested_vpid_offerable(const struct vmx_caps *hw);

/*
 * L0 can offer "enable VM functions" with EPTP switching (and nothing
 * else in IA32_VMX_VMFUNC) to an L1 offered EPT on a CPU with these
 * capability MSRs: it may set "enable VM functions" and IA32_VMX_VMFUNC
 * has EPTP switching (bit 0).
 */
bool nested_vmfunc_offerable(const struct vmx_caps *hw);

/*
 * RDMSR of a VMX capability MSR by L1: true with *value, or false when the
 * MSR does not exist for L1 (the caller injects #GP(0)).  SDM Vol. 3D A.1:
 * the MSRs are read-only; writes are always #GP(0).
 */
bool nested_vmx_msr_read(const struct vmx_caps *l1, uint32_t msr, uint64_t *value);

#endif
