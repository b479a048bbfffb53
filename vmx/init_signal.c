/*
 * init_signal.c - an INIT for L1 taken, held in VMX root, or turned into
 * an exit from L2 (see init_signal.h).
 */
#include "init_signal.h"

#include "ap_start.h"
#include "drivers/serial/log.h"
#include "nested/run.h"

bool l1_in_vmx_root(const struct vcpu *v)
{
	return v->nested && v->nested->cpu.vmxon && !v->nested->in_l2;
}

void vmx_init_signals(struct vcpu *v, struct guest_regs *r)
{
	/* SDM Vol. 3C 24.8: blocked in VMX root, an exit in VMX non-root. */
	if (nested_in_l2(v) || l1_in_vmx_root(v)) {
		if (ap_start_claim_init(v)) {
			log_info("CPU %u: INIT (emulated by L0) %s", v->index,
				 nested_in_l2(v) ? "while L1 runs L2: an INIT-signal exit to L1"
						 : "held: L1 is in VMX root operation (SDM 24.8)");
			v->init_latched = true;
		}
	} else if (!v->init_latched) {
		ap_start_poll(v, r);
		return;
	}
	if (!v->init_latched)
		return;
	if (nested_in_l2(v)) {
		/* SDM 26.2: an INIT in VMX non-root causes a VM exit. */
		v->init_latched = false;
		nested_init_exit(v, r);
		return;
	}
	if (l1_in_vmx_root(v))
		return; /* still blocked */
	/* L1 left VMX operation (VMXOFF): the INIT it blocked is taken now. */
	v->init_latched = false;
	(void)ap_start_claim_init(v); /* INITs pending together are one */
	log_info("CPU %u: the INIT held during L1's VMX operation is taken now", v->index);
	vmx_take_init(v, r);
}
