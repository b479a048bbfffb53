/*
 * tpr_shadow.h - "use TPR shadow" for L2: the VM-entry checks on vmcs12's
 * virtual-APIC page that read L1's memory.
 *
 * SDM Vol. 3C 27.2.1.1: with "use TPR shadow" 1 and "virtual-interrupt
 * delivery" (not offered to L1) and "virtualize APIC accesses" 0, TPR
 * threshold bits 3:0 must not exceed VTPR bits 7:4, VTPR being the byte
 * at offset 80H of the virtual-APIC page: VMfailValid 7.
 *
 * The SDM takes any aligned virtual-APIC address within the physical-
 * address width (nested/entry_checks.c checks those).  vmcs02 hands the
 * CPU vmcs12's address unchanged, which the CPU reads and writes as
 * host-physical, so L0 requires it to be L1's memory: a page that is
 * L0's, or beyond L1's memory, fails the entry with VMfailValid 7, L0's
 * refusal, logged as such (docs/nested.md lists the deviation).
 */
#ifndef MICROHV_NESTED_TPR_SHADOW_H
#define MICROHV_NESTED_TPR_SHADOW_H

#include "nested/entry_checks.h"
#include "vmx/l1_memory.h"

/* Offset of VTPR in the virtual-APIC page (SDM 29.1.1). */
#define VAPIC_VTPR 0x80

/* The checks above; NENTRY_PASS without "use TPR shadow". */
struct nested_entry_check nested_check_virtual_apic(const struct vmcs12 *v,
						    const struct l1_memory *mem);

#endif
