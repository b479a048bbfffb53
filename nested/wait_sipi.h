/*
 * wait_sipi.h - an L2 that L1 enters in the wait-for-SIPI activity state
 * (IA32_VMX_MISC[8], SDM Vol. 3C 27.7.2): L0 holds the CPU in VMX root
 * until a SIPI it emulates for this CPU becomes L1's SIPI exit
 * (nested/wait_sipi.c has the why and the rules; docs/nested.md).
 */
#ifndef MICROHV_NESTED_WAIT_SIPI_H
#define MICROHV_NESTED_WAIT_SIPI_H

#include "vmx/vcpu.h"

#include <stdbool.h>

/* v holds an L2 in wait-for-SIPI: vmcs02 current and built, never entered. */
bool nested_l2_waits_for_sipi(const struct vcpu *v);

/*
 * L1's VM entry, every check passed and vmcs02 built, ends in
 * wait-for-SIPI: v now waits for a SIPI (nested_wait_sipi, at the end of
 * this exit).
 */
void nested_wait_sipi_begin(struct vcpu *v);

/*
 * The wait: returns after the SIPI exit to L1 (vmcs01 current, L1 at its
 * host RIP), having held any INIT that came meanwhile (v->init_latched).
 */
void nested_wait_sipi(struct vcpu *v, struct guest_regs *r);

#endif
