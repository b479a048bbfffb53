/*
 * msr_rows.c - what the kinds of rows of the MSR table do (msr_policy.c):
 * the CPU's own value, the current VMCS's guest field, and the emulated
 * MSRs that act on the whole CPU (reasons in docs/l0.md "MSRs").  Each
 * function answers one access; false is a refusal (#GP(0)), with its
 * reason in the call.
 */
#include "msr_rows.h"

#include "arch/x86/msr.h"
#include "arch/x86/regs.h"
#include "cpuid_policy.h"
#include "hw_ops.h"
#include "nested/entry_checks.h"
#include "nested/vmx_msrs.h"
#include "vcpu.h"
#include "vmcs.h"

static unsigned linear_width(const struct msr_policy *p)
{
	return p->linear_width ? p->linear_width : 48;
}

/* SDM Vol. 3A 3.3.7.1: bits 63:width-1 all equal. */
static bool canonical(const struct msr_policy *p, uint64_t a)
{
	unsigned w = linear_width(p);
	int64_t s = (int64_t)(a << (64 - w)) >> (64 - w);
	return (uint64_t)s == a;
}

/* ---- kinds of rows ---- */

/* The CPU's own value: an MSR that is L1's alone (L0 never relies on it). */
bool rd_cpu(struct msr_call *c, uint64_t *value)
{
	return hw_rdmsr_safe(c->msr, value) || refuse(c, "the CPU has no such MSR");
}

bool wr_cpu(struct msr_call *c, uint64_t value)
{
	return hw_wrmsr_safe(c->msr, value) || refuse(c, "the CPU refused the value");
}

/* An address MSR: WRMSR is #GP(0) for a non-canonical address (SDM Vol. 4). */
bool wr_cpu_canonical(struct msr_call *c, uint64_t value)
{
	if (!canonical(c->p, value))
		return refuse(c, "not a canonical address");
	return wr_cpu(c, value);
}

/* Accepted and dropped (the row says why that is the CPU's behaviour too). */
bool wr_ignore(struct msr_call *c, uint64_t value)
{
	(void)c;
	(void)value;
	return true;
}

/*
 * MSRs that VM entry loads and VM exit saves (SDM Vol. 3C 25.4.2, 27.3.2,
 * 28.3): the guest's value is the current VMCS's guest field; the CPU in
 * VMX root holds L0's.
 */
bool rd_field(struct msr_call *c, uint64_t *value)
{
	*value = vmcs_read(c->row->field);
	return true;
}

bool wr_field(struct msr_call *c, uint64_t value)
{
	vmcs_write(c->row->field, value);
	return true;
}

bool wr_field_canonical(struct msr_call *c, uint64_t value)
{
	if (!canonical(c->p, value))
		return refuse(c, "not a canonical address");
	return wr_field(c, value);
}

/*
 * IA32_EFER (SDM Vol. 4 table 2-2, Vol. 3A 2.2.1): SCE, LME, LMA, NXE;
 * NXE only where CPUID.80000001H:EDX.NX is set; LMA is the CPU's (a
 * write leaves it), and LME cannot change while paging is on (#GP).
 */
bool wr_efer(struct msr_call *c, uint64_t value)
{
	uint64_t valid = NENTRY_EFER_VALID;
	struct cpuid_regs r;
	hw_cpuid(0x80000001, 0, &r);
	if (!(r.edx & CPUID_80000001_EDX_NX))
		valid &= ~EFER_NXE;
	if (value & ~valid)
		return refuse(c, "reserved bits set");
	uint64_t old = vmcs_read(VMCS_GUEST_IA32_EFER);
	if ((vmcs_read(VMCS_GUEST_CR0) & CR0_PG) && ((old ^ value) & EFER_LME))
		return refuse(c, "LME changed with paging on");
	vmcs_write(VMCS_GUEST_IA32_EFER, (value & ~EFER_LMA) | (old & EFER_LMA));
	return true;
}

/* IA32_PAT: #GP(0) for a reserved memory type in any entry (SDM Vol. 3A 13.12.2). */
bool wr_pat(struct msr_call *c, uint64_t value)
{
	if (!nentry_pat_valid(value))
		return refuse(c, "a reserved memory type");
	return wr_field(c, value);
}

/*
 * IA32_DEBUGCTL: VM exits clear it and vmcs01 loads L1's at entry (SDM
 * Vol. 3C 28.3, 27.3.2), so nothing of L1's runs in root.  Only BTF is
 * offered: LBR, BTS and the PMU freezes need the LBR, DS and PMU MSRs,
 * which L0 does not offer.
 */
bool wr_debugctl(struct msr_call *c, uint64_t value)
{
	if (value & ~DEBUGCTL_BTF)
		return refuse(c, "only BTF is offered (no LBR, BTS or PMU)");
	return wr_field(c, value);
}

/* IA32_FEATURE_CONTROL: locked, with VMX outside SMX when nested is on. */
bool rd_feature_control(struct msr_call *c, uint64_t *value)
{
	*value = FEATURE_CONTROL_LOCK | (c->p->nested ? FEATURE_CONTROL_VMX_OUTSIDE_SMX : 0);
	return true;
}

/* The VMX capability MSRs: L1's (nested/vmx_msrs.h); none with nested off. */
bool rd_vmx_cap(struct msr_call *c, uint64_t *value)
{
	if (!c->p->l1_vmx || !nested_vmx_msr_read(c->p->l1_vmx, c->msr, value))
		return refuse(c, "a VMX capability L1 is not offered");
	return true;
}

/* ---- emulated MSRs ---- */

/*
 * IA32_MISC_ENABLE (SDM Vol. 4 table 2-2) acts on the whole CPU, root
 * included.  L1 reads the CPU's value with performance monitoring
 * unavailable, BTS/PEBS unavailable and MONITOR/MWAIT disabled (none
 * offered: bit 18 clear is what CPUID.1:ECX.MONITOR = 0 reflects); it may clear
 * "limit CPUID maxval" and "XD bit disable" (both only give L0 more),
 * which L0 performs; any other change is #GP(0).
 */
bool rd_misc_enable(struct msr_call *c, uint64_t *value)
{
	uint64_t v;
	if (!hw_rdmsr_safe(MSR_IA32_MISC_ENABLE, &v))
		return refuse(c, "the CPU has no such MSR");
	*value = (v & ~(MISC_ENABLE_PERF_MON | MISC_ENABLE_MONITOR)) | MISC_ENABLE_BTS_UNAVAIL |
		 MISC_ENABLE_PEBS_UNAVAIL;
	return true;
}

bool wr_misc_enable(struct msr_call *c, uint64_t value)
{
	const uint64_t clearable = MISC_ENABLE_LIMIT_CPUID | MISC_ENABLE_XD_DISABLE;
	uint64_t cur, hw;
	if (!rd_misc_enable(c, &cur))
		return false;
	if ((value ^ cur) & ~clearable)
		return refuse(c, "only LIMIT_CPUID and XD_DISABLE may be cleared");
	if (value & ~cur)
		return refuse(c, "LIMIT_CPUID and XD_DISABLE may be cleared, not set");
	if (value == cur)
		return true;
	if (!hw_rdmsr_safe(MSR_IA32_MISC_ENABLE, &hw))
		return refuse(c, "the CPU has no such MSR");
	return hw_wrmsr_safe(MSR_IA32_MISC_ENABLE, hw & ~(cur & ~value)) ||
	       refuse(c, "the CPU refused the value");
}

/*
 * IA32_SPEC_CTRL acts in root too, so it is never written there for L1:
 * the value goes into the MSR-load entry every VM entry loads, and every
 * VM exit loads L0's (msr_switch_areas).  The bits are those CPUID.7.0:EDX
 * enumerates (IBRS, STIBP, SSBD).
 */
bool rd_spec_ctrl(struct msr_call *c, uint64_t *value)
{
	if (!c->p->spec_ctrl)
		return refuse(c, "not enumerated by CPUID");
	*value = c->v->msrs.spec_ctrl_guest.value;
	return true;
}

bool wr_spec_ctrl(struct msr_call *c, uint64_t value)
{
	if (!c->p->spec_ctrl)
		return refuse(c, "not enumerated by CPUID");
	if (value & ~c->p->spec_ctrl)
		return refuse(c, "reserved bits set");
	c->v->msrs.spec_ctrl_guest.value = value;
	return true;
}

/*
 * Machine-check architecture: IA32_MCG_CAP reads 0 (no banks, no
 * MCG_CTL, no CMCI, no LMCE: SDM Vol. 3B 16.3.1), so the bank MSRs and
 * MCG_CTL do not exist for L1; the CPU's banks stay L0's.  MCG_STATUS
 * reads 0 and accepts 0.
 */
bool rd_zero(struct msr_call *c, uint64_t *value)
{
	(void)c;
	*value = 0;
	return true;
}

bool wr_zero_only(struct msr_call *c, uint64_t value)
{
	return value == 0 || refuse(c, "only 0 may be written");
}

/*
 * IA32_XSS: the supervisor state components L1 may enable, as CPUID.(0DH,1)
 * tells it (cpuid_policy.h hides PT, LBR, HDC and HWP state).
 */
bool rd_xss(struct msr_call *c, uint64_t *value)
{
	if (!c->p->xss)
		return refuse(c, "XSAVES is not offered");
	return rd_cpu(c, value);
}

bool wr_xss(struct msr_call *c, uint64_t value)
{
	if (!c->p->xss)
		return refuse(c, "XSAVES is not offered");
	if (value & ~c->p->xss_mask)
		return refuse(c, "a state component L1 is not offered");
	return wr_cpu(c, value);
}
