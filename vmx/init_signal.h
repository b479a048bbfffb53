/*
 * init_signal.h - where an INIT for L1 goes (SDM Vol. 3C 24.8, 26.2).
 *
 * An INIT reaches L1's CPU in two ways: a real INIT, which exits from
 * vmcs01 (exit_init), and one L0 emulates for an AP (vmx/ap_start.h).
 * Either way L1 sees what the CPU does with an INIT in its state:
 *   - L1 runs L2 (VMX non-root for L1): an INIT-signal VM exit to L1,
 *     exit reason 3 (SDM 26.2), never a reset of L1 under its VMX state;
 *   - L1 is in VMX root operation (after its VMXON): the INIT is blocked
 *     (SDM 24.8) and held (v->init_latched) until L1's VMXOFF, or its next
 *     VM entry, which then ends at once in that INIT-signal exit;
 *   - otherwise: taken, the AP waits for its SIPI, the BSP restarts.
 */
#ifndef MICROHV_VMX_INIT_SIGNAL_H
#define MICROHV_VMX_INIT_SIGNAL_H

#include "vcpu.h"

#include <stdbool.h>

/* L1 is in its own VMX root operation: after VMXON, not running L2. */
bool l1_in_vmx_root(const struct vcpu *v);

/*
 * At the end of every exit of v (vmx/exit.c): an emulated INIT that was
 * posted, or an INIT held since L1's VMX root operation, goes where the
 * list above says.
 */
void vmx_init_signals(struct vcpu *v, struct guest_regs *r);

/* The INIT taken by L1 outside VMX operation: wait-for-SIPI or the BSP's reset. */
void vmx_take_init(struct vcpu *v, struct guest_regs *r);

#endif
