/*
 * vmfunc.c - L2's VMFUNC under L1's VM functions (vmfunc.h): the decision,
 * pure, and what L0 does with it on vmcs02.
 */
#include "vmfunc.h"

#include "drivers/serial/log.h"
#include "nested/ept12.h"
#include "nested/entry_checks.h"
#include "nested/nested.h"
#include "nested/run.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

#define F(name) VMCS12_FIELD(v12, name)

#define VMFUNC_COUNT 64 /* SDM 26.5.6.2: functions 0-63; EAX >= 64 is #UD */

static bool vmfunc12_enabled(const struct vmcs12 *v12)
{
	return (F(CPU_BASED_VM_EXEC_CONTROL) & CPU_ACTIVATE_SECONDARY) &&
	       (F(SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_VMFUNC);
}

static void l1_exit(struct nested_vmfunc_decision *d, const char *why)
{
	d->action = NVMFUNC_L1_EXIT;
	d->why = why;
}

void nested_vmfunc_decide(const struct vmcs12 *v12, const struct vmx_caps *l1,
			  const struct l1_memory *mem, uint32_t eax, uint32_t ecx,
			  struct nested_vmfunc_decision *d)
{
	*d = (struct nested_vmfunc_decision){0};
	/* SDM 26.5.6.2 and VMFUNC's exceptions (Vol. 3C 31): #UD first. */
	if (!vmfunc12_enabled(v12)) {
		d->action = NVMFUNC_UD;
		d->why = "enable VM functions is 0 in vmcs12";
		return;
	}
	if (eax >= VMFUNC_COUNT) {
		d->action = NVMFUNC_UD;
		d->why = "EAX >= 64";
		return;
	}
	/* 26.5.6.2: the VM-function control for EAX is 0: a VM exit. */
	if (!((F(VM_FUNCTION_CONTROL) >> eax) & 1)) {
		l1_exit(d, "the VM-function control for EAX is 0");
		return;
	}
	/* L1's VM-function controls allow EPTP switching alone (27.2.1.1 checked them). */
	if (eax != 0) {
		l1_exit(d, "a VM function L0 does not implement");
		return;
	}
	/* 26.5.6.3 EPTP switching: ECX selects one of the list's 512 entries. */
	if (ecx >= VMFUNC_EPTP_LIST_ENTRIES) {
		l1_exit(d, "ECX >= 512");
		return;
	}
	d->entry_pa = F(EPTP_LIST_ADDRESS) + 8ull * ecx;
	uint64_t eptp;
	if (!mem->read(mem->ctx, d->entry_pa, &eptp, sizeof(eptp))) {
		d->entry_unreadable = true;
		l1_exit(d, "the EPTP-list entry is in memory L0 cannot read");
		return;
	}
	/* A valid EPTP: one VM entry with "enable EPT" would take (27.2.1.1). */
	if (!nested_eptp_valid(eptp, l1, mem->maxphyaddr)) {
		l1_exit(d, "the EPTP-list entry is not a valid EPTP");
		return;
	}
	d->action = NVMFUNC_EPTP_SWITCH;
	d->eptp12 = eptp;
	d->why = "EPTP switched";
}

bool nested_vmfunc_exit(struct vcpu *v, struct guest_regs *r)
{
	struct nested_vcpu *nv = v->nested;
	struct vmcs12 *v12 = nv->cpu.vmcs12;
	const struct l1_memory *mem = l0_l1_memory();
	uint32_t eax = (uint32_t)r->gpr[GPR_RAX], ecx = (uint32_t)r->gpr[GPR_RCX];
	struct nested_vmfunc_decision d;
	nested_vmfunc_decide(v12, &g_l0.l1_vmx, mem, eax, ecx, &d);
	switch (d.action) {
	case NVMFUNC_UD:
		/* vmcs02 mirrors vmcs12's control, and its VM functions are none: the CPU's #UD. */
		log_error("nested: CPU %u: VMFUNC exit from L2 with %s (EAX 0x%x): L0's bug; #UD "
			  "to L2 as the CPU would raise",
			  v->index, d.why, eax);
		vmx_inject_ud();
		return false;
	case NVMFUNC_L1_EXIT:
		if (d.entry_unreadable)
			log_warn("nested: CPU %u: L2's VMFUNC EPTP switching to entry %u at L1 "
				 "physical 0x%llx, which L0 cannot read: an invalid entry, VM exit "
				 "to L1 (SDM 26.5.6.3)",
				 v->index, ecx, (unsigned long long)d.entry_pa);
		else
			log_debug("nested: CPU %u: L2's VMFUNC (EAX %u, ECX %u) exits to L1: %s",
				  v->index, eax, ecx, d.why);
		return true;
	case NVMFUNC_EPTP_SWITCH:
		break;
	}
	uint64_t eptp02 = nested_ept_eptp02(v, d.eptp12);
	if (!eptp02) {
		log_error("nested: CPU %u: no page for the EPT02 root of EPTP 0x%llx (L2's VMFUNC "
			  "EPTP switching): L0 is out of memory; VM exit to L1 instead",
			  v->index, (unsigned long long)d.eptp12);
		return true;
	}
	vmcs12_set(v12, VMCS_EPT_POINTER, d.eptp12);
	vmcs_write(VMCS_EPT_POINTER, eptp02);
	vmx_skip_instruction();
	return false;
}
