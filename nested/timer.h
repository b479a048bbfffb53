/*
 * timer.h - the VMX-preemption timer L1 arms for its L2, kept apart from
 * L0's own use of the timer (its console tick, vmx/console.h).
 *
 * The SDM's timer (Vol. 3C 26.5.1): loaded from the timer-value field by
 * VM entry (27.7.4; a value of 0 exits before L2's first instruction),
 * it counts down once each time bit X of the TSC changes, X =
 * IA32_VMX_MISC[4:0], while the CPU is in VMX non-root operation (HLT
 * included), and exits with reason 52 at 0 (26.2); with "save
 * VMX-preemption timer value" the exit stores the count left into the
 * field (28.3.4), otherwise the field keeps what L1 wrote.  L1 is offered
 * the CPU's own X (nested/vmx_msrs.c), so L1's counts are the CPU's.
 *
 * vmcs02 has one timer for both L0 and L1: the smaller of L1's count
 * left and L0's console interval.  While L1's timer is active vmcs02
 * saves the timer's value on every exit, whatever vmcs12 asks, and L0
 * keeps L1's count left from it:
 *  - each exit from L2 (nested_timer_stop): left -= armed - saved, and
 *    vmcs02's timer-value field is set to L1's count left, which is what
 *    the vmcs12 rebuild copies where vmcs12's own exit control asks;
 *  - L2 resumed after an exit L0 kept (nested_timer_resume): from L1's
 *    view L2 never left VMX non-root operation, so the TSC edges L0 spent
 *    in root count too; vmcs02 is armed again with min(left, L0's).
 * A timer exit is L1's when L1's count left is 0 (nested_timer_l1_expired,
 * read by nested/reflect.c); otherwise it is L0's console tick alone, and
 * L2 resumes with L1's count reduced by what elapsed.  The TSC edges
 * between the CPU's exit and L0's first RDTSC, and between L0's last
 * RDTSC and the entry, go uncounted: L1's timer may run late by that much
 * per exit L0 keeps (a few hundred TSC cycles), never early.
 *
 * All functions act on the current VMCS, vmcs02 (unit-tested on the
 * software VMCS).
 */
#ifndef MICROHV_NESTED_TIMER_H
#define MICROHV_NESTED_TIMER_H

#include "nested/vmcs12.h"

#include <stdbool.h>
#include <stdint.h>

struct nested_timer {
	bool l1;	/* vmcs12 activates the timer for this entry */
	bool l0;	/* L0's console timer is in vmcs02 too */
	uint32_t left;	/* L1's count left (l1 only) */
	uint32_t armed; /* the timer-value field of vmcs02 as L0 last wrote it */
	uint64_t tsc;	/* TSC when L0 last took an exit from L2 or armed the timer */
};

/*
 * L1's VM entry, vmcs02 built from vmcs12 (its pin-based controls
 * copied): adds L0's timer (l0: L0's console ticks on this CPU, every
 * l0_value counts) and, with L1's, "save VMX-preemption timer value";
 * writes the timer-value field.
 */
void nested_timer_enter(struct nested_timer *t, const struct vmcs12 *v12, bool l0,
			uint32_t l0_value);

/*
 * An exit from L2 that L0 took (tsc: read on the exit path): L1's count
 * left from the value the CPU saved, and vmcs02's field set to it.  Taking
 * it again before L2 runs changes nothing.
 */
void nested_timer_stop(struct nested_timer *t, uint64_t tsc);

/*
 * L2 resumes after an exit L0 handled itself: the TSC edges (at rate =
 * IA32_VMX_MISC[4:0]) since nested_timer_stop are taken off L1's count,
 * and vmcs02 is armed with the smaller of it and l0_value.
 */
void nested_timer_resume(struct nested_timer *t, uint32_t l0_value, uint64_t tsc, unsigned rate);

/* L1's timer is active and has counted down to 0: a timer exit is L1's. */
bool nested_timer_l1_expired(const struct nested_timer *t);

#endif
