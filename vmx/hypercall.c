/*
 * hypercall.c - VMCALL from L1 (ABI in hypercall.h, docs/hypercalls.md).
 */
#include "hypercall.h"

#include "arch/x86/msr.h"
#include "drivers/serial/log.h"
#include "exit.h"
#include "hw_ops.h"
#include "l0.h"
#include "nested/run.h"
#include "vmcs.h"

/* The CPU RBX names (~0: the caller), or NULL. */
static struct vcpu *cpu_arg(struct vcpu *self, const struct guest_regs *r)
{
	uint64_t cpu = r->gpr[GPR_RBX];
	if (cpu == HC_ANY)
		return self;
	return cpu < g_l0.ncpus ? g_l0.vcpus[cpu] : NULL;
}

static int64_t hc_exit_count(struct vcpu *self, struct guest_regs *r)
{
	uint64_t reason = r->gpr[GPR_RCX];
	struct vcpu *v = cpu_arg(self, r);
	if (!v)
		return HV_EINVAL;
	if (reason == HC_ANY)
		r->gpr[GPR_RBX] = v->exits_total;
	else if (reason < EXIT_REASON_MAX)
		r->gpr[GPR_RBX] = v->exits[reason];
	else
		return HV_EINVAL;
	return HV_OK;
}

/* Nested counters (nested/run.h); HV_EINVAL for a CPU without nested state. */
static int64_t hc_nested(struct vcpu *self, struct guest_regs *r, uint64_t fn)
{
	struct vcpu *v = cpu_arg(self, r);
	if (!v || !v->nested)
		return HV_EINVAL;
	const struct nested_vcpu *nv = v->nested;
	if (fn == HC_NESTED_LAST_ENTRY) {
		r->gpr[GPR_RBX] = nv->last_entry_vmreads;
		r->gpr[GPR_RCX] = nv->last_entry_vmwrites;
		r->gpr[GPR_RDX] = nv->last_entry_copied_back;
	} else if (fn == HC_NESTED_LAST_EXIT) {
		r->gpr[GPR_RBX] = nv->last_sync_reads;
		r->gpr[GPR_RCX] = nv->last_reflect_vmreads;
		r->gpr[GPR_RDX] = nv->last_reflect_vmwrites;
	} else {
		r->gpr[GPR_RBX] = nv->entries;
		r->gpr[GPR_RCX] = nv->l2_exits;
		r->gpr[GPR_RDX] = nv->reflected;
	}
	return HV_OK;
}

/* L1's VMREADs and VMWRITEs of one field that reached L0 on a CPU. */
static int64_t hc_field_traps(struct vcpu *self, struct guest_regs *r)
{
	struct vcpu *v = cpu_arg(self, r);
	const struct vmcs_field_info *f =
	    r->gpr[GPR_RCX] >> 32 ? NULL : vmcs_field_lookup((uint32_t)r->gpr[GPR_RCX]);
	if (!v || !v->nested || !f)
		return HV_EINVAL;
	const struct nested_cpu *n = &v->nested->cpu;
	r->gpr[GPR_RBX] = n->vmread_traps[f - vmcs_field_table];
	r->gpr[GPR_RCX] = n->vmwrite_traps[f - vmcs_field_table];
	return HV_OK;
}

/*
 * L0's own per-CPU state as L0 finds it in root: the GS base (HOST_GS_BASE,
 * loaded by every VM exit; l0_this_vcpu() reads it), compared with the
 * vcpu of the exit frame and the one L0 launched this CPU with, and the
 * count of L1's refused accesses to L0's memory.  A hostile L1 proves with
 * it that its attacks left L0's per-CPU pointer where it was.
 */
static void hc_l0_self(struct vcpu *v, struct guest_regs *r)
{
	uint64_t gs = 0;
	if (!hw_rdmsr_safe(MSR_IA32_GS_BASE, &gs))
		gs = 0;
	uint64_t self = (uint64_t)(uintptr_t)r->vcpu, bits = 0;
	if (gs && gs == self)
		bits |= HC_SELF_GS_IS_FRAME;
	if (r->vcpu == v && v->index < g_l0.ncpus && g_l0.vcpus[v->index] == v)
		bits |= HC_SELF_FRAME_IS_LAUNCHED;
	if (gs && vmcs_read(VMCS_HOST_GS_BASE) == gs)
		bits |= HC_SELF_HOST_GS;
	r->gpr[GPR_RBX] = gs;
	r->gpr[GPR_RCX] = bits;
	r->gpr[GPR_RDX] = v->l0_refusals;
}

void exit_vmcall(struct vcpu *v, struct guest_regs *r)
{
	int64_t status = HV_OK;
	uint64_t fn = r->gpr[GPR_RAX];

	if (vmx_guest_cpl() != 0) {
		status = HV_EPERM;
		goto out;
	}
	switch (fn) {
	case HC_VERSION:
		r->gpr[GPR_RBX] = g_l0.cpuid.version;
		r->gpr[GPR_RCX] = HYPERCALL_ABI_VERSION;
		r->gpr[GPR_RDX] = g_l0.ncpus;
		break;
	case HC_EXIT_COUNT:
		status = hc_exit_count(v, r);
		break;
	case HC_SET_LOGLEVEL: {
		uint64_t level = r->gpr[GPR_RBX];
		if (level > LOG_DEBUG) {
			status = HV_EINVAL;
			break;
		}
		r->gpr[GPR_RBX] = log_get_level();
		log_set_level((enum log_level)level);
		break;
	}
	case HC_L0_RANGE:
		r->gpr[GPR_RBX] = g_l0.hv_base;
		r->gpr[GPR_RCX] = g_l0.hv_size;
		break;
	case HC_CPU_INFO:
		r->gpr[GPR_RBX] = v->index;
		r->gpr[GPR_RCX] = v->apic_id;
		r->gpr[GPR_RDX] = g_l0.ncpus;
		break;
	case HC_NESTED_STATS:
	case HC_NESTED_LAST_EXIT:
	case HC_NESTED_LAST_ENTRY:
		status = hc_nested(v, r, fn);
		break;
	case HC_L0_SELF:
		hc_l0_self(v, r);
		break;
	case HC_VMX_FIELD_TRAPS:
		status = hc_field_traps(v, r);
		break;
	default:
		status = HV_ENOSYS;
	}
out:
	r->gpr[GPR_RAX] = (uint64_t)status;
	vmx_skip_instruction();
}
