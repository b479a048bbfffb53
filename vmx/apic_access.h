/*
 * apic_access.h - L1's stores to its xAPIC page, which EPT01 maps
 * read-only (docs/l0.md, "Starting APs"): L0 finishes each store itself,
 * seeing the ICR writes that carry INIT and SIPI (vmx/ap_start.h).
 */
#ifndef MICROHV_VMX_APIC_ACCESS_H
#define MICROHV_VMX_APIC_ACCESS_H

#include "l1_memory.h"
#include "vcpu.h"

#include <stdint.h>

/*
 * The EPT violation of an L1 store at gpa in the local-APIC page: decodes
 * the instruction at L1's RIP through L1's paging (memory through mem),
 * performs the store on the real APIC or hands an ICR write to
 * ap_start_icr_write, and moves RIP past it.  An instruction L0 cannot
 * decode or fetch is logged with its bytes and gets #GP(0).
 */
void apic_access_write(struct vcpu *v, struct guest_regs *r, uint64_t gpa,
		       const struct l1_memory *mem);

#endif
