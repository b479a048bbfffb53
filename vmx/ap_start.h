/*
 * ap_start.h - L0 emulates the INIT and SIPI that L1 sends to an AP
 * already under L0 (docs/l0.md, "Starting APs").
 *
 * An OS starts or restarts an AP with INIT, then SIPI (SDM Vol. 3A 9.4.4).
 * Under VMX an INIT to a CPU in VMX non-root is a VM exit, which L0 turns
 * into the wait-for-SIPI state (exit_event.c): that is the path on
 * hardware.  But the INIT need not be delivered at all: L0 sees every
 * write L1 makes to its local APIC's ICR (the xAPIC page is read-only in
 * EPT01; the x2APIC ICR MSR exits), and for an INIT or SIPI aimed at CPUs
 * that run under L0 it does the state change itself:
 *   INIT  - the sender marks the target "INIT pending" and kicks it with
 *           an NMI; the target puts its vmcs01 guest state in the INIT
 *           state (SDM Vol. 3A 10.1.1) and waits in VMX root for a SIPI;
 *   SIPI  - the sender hands the vector to a target that waits; the target
 *           starts in real mode at vector << 12 (a later SIPI is ignored,
 *           as the CPU ignores a SIPI outside wait-for-SIPI).
 * Everything else (other delivery modes, logical destinations, CPUs not
 * under L0, an INIT to the BSP, a broadcast while some CPU runs without L0) goes to
 * the hardware unchanged.  This also keeps APs startable on emulators
 * that mishandle the INIT VM exit (Bochs 2.7).
 */
#ifndef MICROHV_VMX_AP_START_H
#define MICROHV_VMX_AP_START_H

#include "vcpu.h"

#include <stdbool.h>
#include <stdint.h>

/* The interrupt command register (SDM Vol. 3A 11.6.1, figure 11-12). */
#define ICR_VECTOR_MASK 0xffu
#define ICR_MODE_SHIFT 8
#define ICR_MODE_MASK (7u << ICR_MODE_SHIFT)
#define ICR_MODE_NMI (4u << ICR_MODE_SHIFT)
#define ICR_MODE_INIT (5u << ICR_MODE_SHIFT)
#define ICR_MODE_STARTUP (6u << ICR_MODE_SHIFT)
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK (3u << ICR_SHORTHAND_SHIFT)
#define ICR_SHORTHAND_NONE 0u
#define ICR_SHORTHAND_SELF 1u
#define ICR_SHORTHAND_ALL 2u
#define ICR_SHORTHAND_OTHERS 3u
#define XAPIC_ICR_LOW 0x300
#define XAPIC_ICR_HIGH 0x310
#define XAPIC_DEST_SHIFT 24 /* ICR high bits 31:24 */

struct ipi {
	uint32_t low;	/* ICR bits 31:0 */
	uint32_t dest;	/* xAPIC: 8 bits; x2APIC: 32 bits */
	bool x2apic;
};

enum ipi_plan_kind {
	IPI_PASS,    /* L0 writes the ICR for L1 unchanged */
	IPI_EMULATE, /* INIT or SIPI done by L0 on the target vCPUs */
};

struct ipi_plan {
	enum ipi_plan_kind kind;
	uint64_t targets; /* IPI_EMULATE: bit i = vcpu index i */
	const char *why;  /* IPI_PASS: for the debug log */
};

/*
 * The decision for an IPI sent by the vCPU with index self.  apic_ids[i]
 * is vcpu i's APIC ID (i < ncpus); cpus_in_system counts every CPU, under
 * L0 or not.  Pure.
 */
struct ipi_plan ipi_plan(const struct ipi *ipi, unsigned self, const uint32_t *apic_ids,
			 unsigned ncpus, unsigned cpus_in_system);

/*
 * Handles L1's ICR write on vcpu v (the xAPIC ICR low, with the high half
 * as the APIC holds it, or the x2APIC ICR MSR): emulates it or passes it to
 * the hardware.  Returns false when L0 leaves it to the hardware (the
 * caller then performs the write as L1 made it); true when L0 took it,
 * after the INIT targets have taken their INIT.
 */
bool ap_start_icr_write(struct vcpu *v, const struct ipi *ipi);

/* An NMI that L0 sent to kick v (exit or in VMX root): not L1's. */
bool ap_start_nmi_is_kick(struct vcpu *v);

/*
 * At the end of every exit of v: takes a pending INIT (then waits for
 * the SIPI in VMX root and loads the started state into vmcs01).  Only
 * while L1 is outside VMX operation (vmx/init_signal.h decides).
 */
void ap_start_poll(struct vcpu *v, struct guest_regs *r);

/*
 * Takes the INIT pending for v, if any, without starting the wait for a
 * SIPI: the INIT became an exit to L1 or is held while L1 is in VMX root
 * operation (vmx/init_signal.h).  The sender stops waiting; a SIPI sent
 * after it finds v running and is dropped, as by a CPU not in
 * wait-for-SIPI (SDM Vol. 3A 9.4.4).  Returns whether one was pending.
 */
bool ap_start_claim_init(struct vcpu *v);

/*
 * v holds an L2 in wait-for-SIPI (nested/wait_sipi.h): from now on the
 * first SIPI L0 emulates for v is kept for it, whatever v's own state.
 */
void ap_start_l2_wait_sipi(struct vcpu *v);

/*
 * The SIPI kept for v's L2 (AP_SIPI_VALID | vector), which ends the wait;
 * 0 while none came.
 */
uint32_t ap_start_l2_take_sipi(struct vcpu *v);

#endif
