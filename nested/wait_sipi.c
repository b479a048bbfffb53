/*
 * wait_sipi.c - L2 in the wait-for-SIPI activity state (see wait_sipi.h).
 *
 * The hardware's wait-for-SIPI blocks NMIs, INIT, SMIs and external
 * interrupts, and the VMX-preemption timer does not exit there (SDM Vol.
 * 3C 27.7.2, 26.5.1): a vmcs02 entered in that state could be ended only
 * by a real SIPI, and neither L0's NMI kick nor its console tick would
 * reach the CPU.  So L0 never enters vmcs02 in wait-for-SIPI.  The entry
 * completes as L1 asked (every check passed, vmcs12 launched, vmcs02 built
 * and current), and the CPU then stays in VMX root, in the loop below, as
 * the L2 in wait-for-SIPI:
 *   - a SIPI L0 emulates for this CPU (another CPU's ICR write,
 *     vmx/ap_start.c) ends it: L1's SIPI exit (reason 4, the vector as
 *     qualification), with the guest state saved as the entry left it,
 *     activity state wait-for-SIPI (nested/init_exit.c);
 *   - an INIT L0 emulates is taken (its sender goes on) and held, as the
 *     state blocks it (27.7.2): it stays pending for L1, who is in VMX
 *     root after the SIPI exit, where INIT is blocked too (24.8), so it
 *     is delivered at L1's next entry to L2 or its VMXOFF
 *     (vmx/init_signal.h), as on the CPU;
 *   - an NMI for L1 (v->nmi_pending, from L0's NMI handler in root) stays
 *     pending: L1 gets it after the SIPI exit;
 *   - L0's own duties go on: its NMI kicks are taken by its NMI handler,
 *     the console is polled at the console tick's interval where this CPU
 *     has it, EPT01 changes are flushed (vmx_ept01_sync).
 * Only SIPIs that L0 emulates end the wait: a SIPI L0 leaves to the
 * hardware (a logical destination, a broadcast while some CPU runs
 * without L0) reaches a CPU in VMX root, which discards it.
 */
#include "wait_sipi.h"

#include "arch/x86/cpu.h"
#include "drivers/serial/log.h"
#include "run.h"
#include "vmx/ap_start.h"
#include "vmx/console.h"
#include "vmx/ept01.h"
#include "vmx/hw_ops.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"

/* A CPU held this way says so after this many spins, then at each doubling. */
#define WAIT_REPORT_SPINS (1ull << 24)

bool nested_l2_waits_for_sipi(const struct vcpu *v)
{
	return nested_in_l2(v) && v->nested->wait_sipi;
}

void nested_wait_sipi_begin(struct vcpu *v)
{
	struct nested_vcpu *nv = v->nested;
	nv->wait_sipi = true;
	ap_start_l2_wait_sipi(v);
	/* L1's timer counts from here (nested_sipi_exit takes what elapsed). */
	nested_timer_stop(&nv->timer, hw_rdtsc());
	log_info("nested: CPU %u: L2 entered in wait-for-SIPI: L0 holds this CPU until a SIPI "
		 "for it (SDM Vol. 3C 27.7.2)",
		 v->index);
}

/* SDM 27.7.2: INIT is blocked in wait-for-SIPI; the one L0 emulated stays pending. */
static void hold_init(struct vcpu *v)
{
	if (!ap_start_claim_init(v))
		return;
	v->init_latched = true;
	log_info("nested: CPU %u: INIT (emulated by L0) held: L2 is in wait-for-SIPI (SDM Vol. 3C "
		 "27.7.2)",
		 v->index);
}

void nested_wait_sipi(struct vcpu *v, struct guest_regs *r)
{
	struct nested_vcpu *nv = v->nested;
	uint64_t polled = hw_rdtsc();
	uint32_t sipi;
	for (uint64_t spins = 1; !(sipi = ap_start_l2_take_sipi(v)); spins++) {
		hold_init(v);
		vmx_ept01_sync(v);
		uint64_t now = hw_rdtsc();
		if (nv->timer.l0 && now - polled >= CONSOLE_POLL_TSC) {
			l0_console_poll(v); /* the tick vmcs02 would have had */
			polled = now;
		}
		if (spins >= WAIT_REPORT_SPINS && !(spins & (spins - 1)))
			log_info("nested: CPU %u: L2 still in wait-for-SIPI (%llu spins)", v->index,
				 (unsigned long long)spins);
		cpu_pause();
	}
	uint8_t vector = (uint8_t)sipi;
	nv->wait_sipi = false;
	log_info("nested: CPU %u: SIPI vector 0x%x for L2 in wait-for-SIPI: SIPI exit to L1",
		 v->index, vector);
	nested_sipi_exit(v, r, vector);
}
