/*
 * msr_policy.c - the guest's MSRs: one table, and what each kind of row
 * does (policy in msr_policy.h, reasons in docs/l0.md "MSRs").
 *
 * Every MSR L0 offers is one row of msr_table[] below: its range, whether
 * the bitmap lets reads or writes through, and the functions that read
 * and write it when an access reaches L0.  A NULL function is a refusal
 * (#GP(0)); an MSR in no row is refused the same way.  Nothing else in
 * L0 lists MSRs: the bitmap, the exits, vmcs12's MSR areas and the tests
 * all read this table.
 */
#include "msr_policy.h"

#include "ap_start.h"
#include "arch/x86/msr.h"
#include "arch/x86/regs.h"
#include "cpuid_policy.h"
#include "drivers/serial/log.h"
#include "hw_ops.h"
#include "mm/mtrr.h"
#include "nested/entry_checks.h"
#include "nested/vmx_msrs.h"
#include "vcpu.h"
#include "vmcs.h"

#define PAGE_4K 0x1000ull

struct msr_row;

/* One access being answered. */
struct msr_call {
	const struct msr_policy *p;
	struct vcpu *v;
	const struct msr_row *row;
	uint32_t msr;
	const char *why; /* a refusal's reason, for the log line */
};

typedef bool (*msr_read_fn)(struct msr_call *c, uint64_t *value);
typedef bool (*msr_write_fn)(struct msr_call *c, uint64_t value);

struct msr_row {
	uint32_t first, last;
	unsigned pass;	    /* MSR_PASS_READ / MSR_PASS_WRITE: not intercepted */
	uint32_t field;	    /* the VMCS guest field of rd_field / wr_field_* rows */
	msr_read_fn read;   /* NULL: RDMSR is #GP(0) */
	msr_write_fn write; /* NULL: WRMSR is #GP(0) */
	const char *name;
};

static bool refuse(struct msr_call *c, const char *why)
{
	c->why = why;
	return false;
}

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

/* Bits maxphyaddr-1:12: a page-aligned physical address the CPU can form. */
static uint64_t phys_page_mask(const struct msr_policy *p)
{
	unsigned w = p->maxphyaddr ? p->maxphyaddr : MTRR_DEFAULT_MAXPHYADDR;
	return (w >= 64 ? ~0ull : (1ull << w) - 1) & ~(PAGE_4K - 1);
}

/* ---- kinds of rows ---- */

/* The CPU's own value: an MSR that is L1's alone (L0 never relies on it). */
static bool rd_cpu(struct msr_call *c, uint64_t *value)
{
	return hw_rdmsr_safe(c->msr, value) || refuse(c, "the CPU has no such MSR");
}

static bool wr_cpu(struct msr_call *c, uint64_t value)
{
	return hw_wrmsr_safe(c->msr, value) || refuse(c, "the CPU refused the value");
}

/* An address MSR: WRMSR is #GP(0) for a non-canonical address (SDM Vol. 4). */
static bool wr_cpu_canonical(struct msr_call *c, uint64_t value)
{
	if (!canonical(c->p, value))
		return refuse(c, "not a canonical address");
	return wr_cpu(c, value);
}

/* Accepted and dropped (the row says why that is the CPU's behaviour too). */
static bool wr_ignore(struct msr_call *c, uint64_t value)
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
static bool rd_field(struct msr_call *c, uint64_t *value)
{
	*value = vmcs_read(c->row->field);
	return true;
}

static bool wr_field(struct msr_call *c, uint64_t value)
{
	vmcs_write(c->row->field, value);
	return true;
}

static bool wr_field_canonical(struct msr_call *c, uint64_t value)
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
static bool wr_efer(struct msr_call *c, uint64_t value)
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
static bool wr_pat(struct msr_call *c, uint64_t value)
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
static bool wr_debugctl(struct msr_call *c, uint64_t value)
{
	if (value & ~DEBUGCTL_BTF)
		return refuse(c, "only BTF is offered (no LBR, BTS or PMU)");
	return wr_field(c, value);
}

/* IA32_FEATURE_CONTROL: locked, with VMX outside SMX when nested is on. */
static bool rd_feature_control(struct msr_call *c, uint64_t *value)
{
	*value = FEATURE_CONTROL_LOCK | (c->p->nested ? FEATURE_CONTROL_VMX_OUTSIDE_SMX : 0);
	return true;
}

/* The VMX capability MSRs: L1's (nested/vmx_msrs.h); none with nested off. */
static bool rd_vmx_cap(struct msr_call *c, uint64_t *value)
{
	if (!c->p->l1_vmx || !nested_vmx_msr_read(c->p->l1_vmx, c->msr, value))
		return refuse(c, "a VMX capability L1 is not offered");
	return true;
}

/* ---- the local APIC ---- */

static bool apic_x2apic_mode(const struct l1_msrs *m)
{
	return (m->apic_base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) ==
	       (APIC_BASE_ENABLE | APIC_BASE_X2APIC);
}

static bool rd_apic_base(struct msr_call *c, uint64_t *value)
{
	*value = c->v->msrs.apic_base;
	return true;
}

/*
 * IA32_APIC_BASE (SDM Vol. 3A 11.4.4, 11.12.1, 11.12.5): reserved bits
 * (7:0, 9, MAXPHYADDR and up), the invalid state "x2APIC, disabled", and
 * the transitions x2APIC -> xAPIC and disabled -> x2APIC are #GP(0).
 * L0's own refusals: an APIC page that would lie in L0's memory (L0
 * writes the ICR there to send its IPIs, and the APIC would overlay L0's
 * pages) or beyond L0's identity map (L0 could not reach it).  BSP is the
 * CPU's.  L0 writes the validated value and keeps it: the kept base is
 * the only one L0 uses (hw_send_ipi, the xAPIC page).
 */
static bool wr_apic_base(struct msr_call *c, uint64_t value)
{
	const struct msr_policy *p = c->p;
	uint64_t old = c->v->msrs.apic_base;
	uint64_t reserved =
		~(APIC_BASE_BSP | APIC_BASE_X2APIC | APIC_BASE_ENABLE | phys_page_mask(p));
	if (value & reserved)
		return refuse(c, "reserved bits set");
	bool en = value & APIC_BASE_ENABLE, x2 = value & APIC_BASE_X2APIC;
	if (x2 && !en)
		return refuse(c, "x2APIC mode with the APIC disabled is invalid");
	if (en && !x2 && apic_x2apic_mode(&c->v->msrs))
		return refuse(c, "x2APIC to xAPIC mode without disabling the APIC first");
	if (en && x2 && !(old & APIC_BASE_ENABLE))
		return refuse(c, "disabled to x2APIC mode without xAPIC mode first");
	uint64_t base = value & APIC_BASE_ADDR_MASK;
	if (p->hv_size && base < p->hv_base + p->hv_size && base + PAGE_4K > p->hv_base)
		return refuse(c, "the APIC page would lie in L0's memory");
	if (base + PAGE_4K > p->map_end)
		return refuse(c, "the APIC page would lie beyond L0's identity map");
	value = (value & ~APIC_BASE_BSP) | (old & APIC_BASE_BSP);
	if (!hw_wrmsr_safe(MSR_IA32_APIC_BASE, value))
		return refuse(c, "the CPU refused the value");
	c->v->msrs.apic_base = value;
	return true;
}

/* x2APIC registers: #GP(0) unless the APIC is in x2APIC mode (SDM Vol. 3A 11.12.1). */
static bool rd_x2apic(struct msr_call *c, uint64_t *value)
{
	if (!apic_x2apic_mode(&c->v->msrs))
		return refuse(c, "the APIC is not in x2APIC mode");
	return rd_cpu(c, value);
}

static bool wr_x2apic(struct msr_call *c, uint64_t value)
{
	if (!apic_x2apic_mode(&c->v->msrs))
		return refuse(c, "the APIC is not in x2APIC mode");
	return wr_cpu(c, value);
}

/* The x2APIC ICR: INIT and SIPI to CPUs under L0 are L0's (ap_start.h). */
static bool wr_x2apic_icr(struct msr_call *c, uint64_t value)
{
	if (!apic_x2apic_mode(&c->v->msrs))
		return refuse(c, "the APIC is not in x2APIC mode");
	if (value & X2APIC_ICR_RESERVED)
		return refuse(c, "reserved ICR bits set");
	struct ipi ipi = { (uint32_t)value, (uint32_t)(value >> 32), true };
	if (ap_start_icr_write(c->v, &ipi))
		return true;
	return wr_cpu(c, value);
}

/* ---- emulated MSRs ---- */

/*
 * IA32_MISC_ENABLE (SDM Vol. 4 table 2-2) acts on the whole CPU, root
 * included.  L1 reads the CPU's value with performance monitoring
 * unavailable and BTS/PEBS unavailable (not offered); it may clear
 * "limit CPUID maxval" and "XD bit disable" (both only give L0 more),
 * which L0 performs; any other change is #GP(0).
 */
static bool rd_misc_enable(struct msr_call *c, uint64_t *value)
{
	uint64_t v;
	if (!hw_rdmsr_safe(MSR_IA32_MISC_ENABLE, &v))
		return refuse(c, "the CPU has no such MSR");
	*value = (v & ~MISC_ENABLE_PERF_MON) | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
	return true;
}

static bool wr_misc_enable(struct msr_call *c, uint64_t value)
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
 * IA32_SPEC_CTRL acts in root too, so L1's value is kept here and the
 * CPU keeps L0's (docs/l0.md: not yet switched on entry and exit).  The
 * bits are those CPUID.7.0:EDX enumerates (IBRS, STIBP, SSBD).
 */
static bool rd_spec_ctrl(struct msr_call *c, uint64_t *value)
{
	if (!c->p->spec_ctrl)
		return refuse(c, "not enumerated by CPUID");
	*value = c->v->msrs.spec_ctrl;
	return true;
}

static bool wr_spec_ctrl(struct msr_call *c, uint64_t value)
{
	if (!c->p->spec_ctrl)
		return refuse(c, "not enumerated by CPUID");
	if (value & ~c->p->spec_ctrl)
		return refuse(c, "reserved bits set");
	c->v->msrs.spec_ctrl = value;
	return true;
}

/*
 * Machine-check architecture: IA32_MCG_CAP reads 0 (no banks, no
 * MCG_CTL, no CMCI, no LMCE: SDM Vol. 3B 16.3.1), so the bank MSRs and
 * MCG_CTL do not exist for L1; the CPU's banks stay L0's.  MCG_STATUS
 * reads 0 and accepts 0.
 */
static bool rd_zero(struct msr_call *c, uint64_t *value)
{
	(void)c;
	*value = 0;
	return true;
}

static bool wr_zero_only(struct msr_call *c, uint64_t value)
{
	return value == 0 || refuse(c, "only 0 may be written");
}

/*
 * IA32_XSS: the supervisor state components L1 may enable, as CPUID.(0DH,1)
 * tells it (cpuid_policy.h hides PT, LBR, HDC and HWP state).
 */
static bool rd_xss(struct msr_call *c, uint64_t *value)
{
	if (!c->p->xss)
		return refuse(c, "XSAVES is not offered");
	return rd_cpu(c, value);
}

static bool wr_xss(struct msr_call *c, uint64_t value)
{
	if (!c->p->xss)
		return refuse(c, "XSAVES is not offered");
	if (value & ~c->p->xss_mask)
		return refuse(c, "a state component L1 is not offered");
	return wr_cpu(c, value);
}

/* ---- MTRRs: L1's values, per CPU; the CPU's and EPT01's types stay L0's ---- */

static unsigned mtrr_vcnt(const struct msr_policy *p)
{
	return (unsigned)(p->mtrrcap & MTRRCAP_VCNT_MASK);
}

/* Where L1's copy of msr lives, or NULL: not an MTRR this CPU has. */
static uint64_t *mtrr_slot(const struct msr_policy *p, struct l1_msrs *m, uint32_t msr)
{
	static const uint32_t fixed[L1_MTRR_NFIXED] = {
		MSR_IA32_MTRR_FIX64K_00000, MSR_IA32_MTRR_FIX16K_80000, MSR_IA32_MTRR_FIX16K_A0000,
		MSR_IA32_MTRR_FIX4K_C0000,  MSR_IA32_MTRR_FIX4K_C8000,	MSR_IA32_MTRR_FIX4K_D0000,
		MSR_IA32_MTRR_FIX4K_D8000,  MSR_IA32_MTRR_FIX4K_E0000,	MSR_IA32_MTRR_FIX4K_E8000,
		MSR_IA32_MTRR_FIX4K_F0000,  MSR_IA32_MTRR_FIX4K_F8000,
	};
	if (!p->mtrr)
		return NULL;
	if (msr == MSR_IA32_MTRR_DEF_TYPE)
		return &m->mtrr_def_type;
	if (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE(mtrr_vcnt(p)))
		return &m->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0];
	if (!(p->mtrrcap & MTRRCAP_FIX))
		return NULL;
	for (unsigned i = 0; i < L1_MTRR_NFIXED; i++)
		if (fixed[i] == msr)
			return &m->mtrr_fixed[i];
	return NULL;
}

/* SDM Vol. 3A 12.11: UC, WC (if MTRRCAP.WC), WT, WP, WB; anything else is #GP(0). */
static bool mtrr_type_ok(const struct msr_policy *p, uint64_t type)
{
	return type == MTRR_TYPE_UC || type == MTRR_TYPE_WT || type == MTRR_TYPE_WP ||
	       type == MTRR_TYPE_WB || (type == MTRR_TYPE_WC && (p->mtrrcap & MTRRCAP_WC));
}

/* Reserved bits and types (SDM Vol. 3A 12.11.2.1-12.11.2.3). */
static const char *mtrr_refusal(const struct msr_policy *p, uint32_t msr, uint64_t value)
{
	if (msr == MSR_IA32_MTRR_DEF_TYPE) {
		if (value & ~(MTRR_TYPE_FIELD_MASK | MTRR_DEF_TYPE_FE | MTRR_DEF_TYPE_E))
			return "reserved bits set";
		return mtrr_type_ok(p, value & MTRR_TYPE_FIELD_MASK) ? NULL : "a reserved type";
	}
	if (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE(L1_MTRR_MAX_VAR)) {
		if ((msr - MSR_IA32_MTRR_PHYSBASE0) % 2) /* PHYSMASKn */
			return value & ~(phys_page_mask(p) | MTRR_PHYSMASK_VALID) ? "reserved bits set"
										   : NULL;
		if (value & ~(phys_page_mask(p) | MTRR_TYPE_FIELD_MASK))
			return "reserved bits set";
		return mtrr_type_ok(p, value & MTRR_TYPE_FIELD_MASK) ? NULL : "a reserved type";
	}
	for (unsigned i = 0; i < 8; i++) /* a fixed-range MTRR: eight types */
		if (!mtrr_type_ok(p, (value >> (8 * i)) & MTRR_TYPE_FIELD_MASK))
			return "a reserved type";
	return NULL;
}

static bool rd_mtrrcap(struct msr_call *c, uint64_t *value)
{
	if (!c->p->mtrr)
		return refuse(c, "no MTRRs");
	*value = c->p->mtrrcap;
	return true;
}

static bool rd_mtrr(struct msr_call *c, uint64_t *value)
{
	const uint64_t *slot = mtrr_slot(c->p, &c->v->msrs, c->msr);
	if (!slot)
		return refuse(c, "not an MTRR this CPU has");
	*value = *slot;
	return true;
}

static bool wr_mtrr(struct msr_call *c, uint64_t value)
{
	uint64_t *slot = mtrr_slot(c->p, &c->v->msrs, c->msr);
	if (!slot)
		return refuse(c, "not an MTRR this CPU has");
	const char *why = mtrr_refusal(c->p, c->msr, value);
	if (why)
		return refuse(c, why);
	*slot = value;
	return true;
}

/*
 * The table, sorted by MSR number.  Pass-through rows (the allowlist) are
 * those L1 uses often and that act on L1 alone; the read and write
 * functions still say what L0 does when it performs such an access itself
 * (vmcs12's MSR areas).  Rows with neither function are not offered
 * (CPUID says so, cpuid_policy.h) because their effect reaches VMX root,
 * where vmcs01 does not switch them: the PMU (Vol. 3B ch. 20) keeps
 * counting in root; PEBS and BTS (Vol. 3B 18.6, 20.6) write records of
 * L0's state to the DS area; LBRs (Vol. 3B ch. 18) record L0's branches;
 * Intel PT (Vol. 3C 33.2.8) writes trace to physical addresses, L0's
 * included.  Reasons cite SDM Vol. 4 ("Model-Specific Registers") unless
 * noted.
 */
#define R MSR_PASS_READ
#define W MSR_PASS_WRITE
static const struct msr_row msr_table[] = {
	/* Time-stamp counter (Vol. 3B 18.17): L0 has no clock of its own; no offsetting. */
	{ MSR_IA32_TSC, MSR_IA32_TSC, R, 0, rd_cpu, wr_cpu, "IA32_TSC" },
	/* Read often by firmware (OVMF reads it for every APIC access); writes validated. */
	{ MSR_IA32_APIC_BASE, MSR_IA32_APIC_BASE, R, 0, rd_apic_base, wr_apic_base,
	  "IA32_APIC_BASE" },
	/* Locked, as firmware leaves it; VMX outside SMX with nested = on. */
	{ MSR_IA32_FEATURE_CONTROL, MSR_IA32_FEATURE_CONTROL, 0, 0, rd_feature_control, NULL,
	  "IA32_FEATURE_CONTROL" },
	/* Vol. 3B 18.17.3: moves the TSC, which L0 does not use. */
	{ MSR_IA32_TSC_ADJUST, MSR_IA32_TSC_ADJUST, 0, 0, rd_cpu, wr_cpu, "IA32_TSC_ADJUST" },
	/* Speculation control acts in root: L1's value kept virtual. */
	{ MSR_IA32_SPEC_CTRL, MSR_IA32_SPEC_CTRL, 0, 0, rd_spec_ctrl, wr_spec_ctrl,
	  "IA32_SPEC_CTRL" },
	/* IBPB: a write-only command, no state (a read is #GP on the CPU too). */
	{ MSR_IA32_PRED_CMD, MSR_IA32_PRED_CMD, W, 0, NULL, wr_cpu, "IA32_PRED_CMD" },
	/* Microcode updates are L0's to make (or the firmware's before it), never L1's. */
	{ MSR_IA32_BIOS_UPDT_TRIG, MSR_IA32_BIOS_UPDT_TRIG, 0, 0, NULL, NULL,
	  "IA32_BIOS_UPDT_TRIG" },
	/*
	 * Vol. 3A 10.11.7.1: write 0, CPUID, read: the CPUID L0 executes for
	 * L1 loads the revision itself, so the write is dropped.
	 */
	{ MSR_IA32_BIOS_SIGN_ID, MSR_IA32_BIOS_SIGN_ID, 0, 0, rd_cpu, wr_ignore,
	  "IA32_BIOS_SIGN_ID" },
	/* Not offered: the PMU, PEBS, LBRs, PT (above). */
	{ MSR_IA32_PMC0, MSR_IA32_PMC_LAST, 0, 0, NULL, NULL, "IA32_PMCx" },
	/* UMWAIT/TPAUSE's limit (Vol. 3A 17.x, WAITPKG): L0 never executes them. */
	{ MSR_IA32_UMWAIT_CONTROL, MSR_IA32_UMWAIT_CONTROL, 0, 0, rd_cpu, wr_cpu,
	  "IA32_UMWAIT_CONTROL" },
	/*
	 * C-state configuration (model-specific; Linux's intel_idle reads it
	 * without a fault handler where CPUID offers MWAIT): the package's,
	 * so L0's; reads show the CPU's, writes are dropped.
	 */
	{ MSR_PKG_CST_CONFIG_CONTROL, MSR_PKG_CST_CONFIG_CONTROL, 0, 0, rd_cpu, wr_ignore,
	  "PKG_CST_CONFIG_CONTROL" },
	{ MSR_IA32_MTRRCAP, MSR_IA32_MTRRCAP, 0, 0, rd_mtrrcap, NULL, "IA32_MTRRCAP" },
	/* Read-only enumeration of the CPU's vulnerabilities. */
	{ MSR_IA32_ARCH_CAPABILITIES, MSR_IA32_ARCH_CAPABILITIES, 0, 0, rd_cpu, NULL,
	  "IA32_ARCH_CAPABILITIES" },
	/* L1D flush: a write-only command. */
	{ MSR_IA32_FLUSH_CMD, MSR_IA32_FLUSH_CMD, W, 0, NULL, wr_cpu, "IA32_FLUSH_CMD" },
	/* RTM/HLE disable (enumerated by ARCH_CAPABILITIES): L0 executes no TSX. */
	{ MSR_IA32_TSX_CTRL, MSR_IA32_TSX_CTRL, 0, 0, rd_cpu, wr_cpu, "IA32_TSX_CTRL" },
	/* Switched by VM entry and exit (Vol. 3C 27.3.2, 28.3): the guest field. */
	{ MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_CS, R | W, VMCS_GUEST_SYSENTER_CS, rd_field,
	  wr_field, "IA32_SYSENTER_CS" },
	{ MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_ESP, R | W, VMCS_GUEST_SYSENTER_ESP, rd_field,
	  wr_field_canonical, "IA32_SYSENTER_ESP" },
	{ MSR_IA32_SYSENTER_EIP, MSR_IA32_SYSENTER_EIP, R | W, VMCS_GUEST_SYSENTER_EIP, rd_field,
	  wr_field_canonical, "IA32_SYSENTER_EIP" },
	/* Vol. 3B 16.3.1: no banks offered; the CPU's report L0's machine. */
	{ MSR_IA32_MCG_CAP, MSR_IA32_MCG_CAP, 0, 0, rd_zero, NULL, "IA32_MCG_CAP" },
	{ MSR_IA32_MCG_STATUS, MSR_IA32_MCG_STATUS, 0, 0, rd_zero, wr_zero_only,
	  "IA32_MCG_STATUS" },
	{ MSR_IA32_MCG_CTL, MSR_IA32_MCG_CTL, 0, 0, NULL, NULL, "IA32_MCG_CTL (MCG_CAP.CTL_P = 0)" },
	{ MSR_IA32_PERFEVTSEL0, MSR_IA32_PERFEVTSEL_LAST, 0, 0, NULL, NULL, "IA32_PERFEVTSELx" },
	/* Acts on the whole CPU: emulated (rd_misc_enable). */
	{ MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE, 0, 0, rd_misc_enable, wr_misc_enable,
	  "IA32_MISC_ENABLE" },
	/*
	 * Extended feature disable (Vol. 1 13.14, AMX): arms #NM for L1's own
	 * XSAVE state; L0 executes no extended-state instruction but XSETBV.
	 * Written at every context switch of an AMX-using L1: passed through.
	 */
	{ MSR_IA32_XFD, MSR_IA32_XFD_ERR, R | W, 0, rd_cpu, wr_cpu, "IA32_XFD/XFD_ERR" },
	{ MSR_LBR_SELECT, MSR_LASTBRANCH_TOS, 0, 0, NULL, NULL, "LBR_SELECT, LASTBRANCH_TOS" },
	/* Cleared by VM exits, loaded by VM entries (Vol. 3C 28.3, 27.3.2). */
	{ MSR_IA32_DEBUGCTL, MSR_IA32_DEBUGCTL, 0, VMCS_GUEST_IA32_DEBUGCTL, rd_field, wr_debugctl,
	  "IA32_DEBUGCTL" },
	/* C1E promotion and other power controls (model-specific): as PKG_CST_CONFIG_CONTROL. */
	{ MSR_POWER_CTL, MSR_POWER_CTL, 0, 0, rd_cpu, wr_ignore, "POWER_CTL" },
	/* Vol. 3A 12.11: L1's MTRRs kept per CPU; EPT01 keeps L0's memory types. */
	{ MSR_IA32_MTRR_PHYSBASE0, MSR_IA32_MTRR_PHYSMASK(L1_MTRR_MAX_VAR - 1), 0, 0, rd_mtrr,
	  wr_mtrr, "IA32_MTRR_PHYSBASE/PHYSMASK" },
	{ MSR_IA32_MTRR_FIX64K_00000, MSR_IA32_MTRR_FIX64K_00000, 0, 0, rd_mtrr, wr_mtrr,
	  "IA32_MTRR_FIX64K" },
	{ MSR_IA32_MTRR_FIX16K_80000, MSR_IA32_MTRR_FIX16K_A0000, 0, 0, rd_mtrr, wr_mtrr,
	  "IA32_MTRR_FIX16K" },
	{ MSR_IA32_MTRR_FIX4K_C0000, MSR_IA32_MTRR_FIX4K_F8000, 0, 0, rd_mtrr, wr_mtrr,
	  "IA32_MTRR_FIX4K" },
	{ MSR_IA32_PAT, MSR_IA32_PAT, 0, VMCS_GUEST_IA32_PAT, rd_field, wr_pat, "IA32_PAT" },
	{ MSR_IA32_MC0_CTL2, MSR_IA32_MC_CTL2_LAST, 0, 0, NULL, NULL, "IA32_MCi_CTL2 (no banks)" },
	{ MSR_IA32_MTRR_DEF_TYPE, MSR_IA32_MTRR_DEF_TYPE, 0, 0, rd_mtrr, wr_mtrr,
	  "IA32_MTRR_DEF_TYPE" },
	{ MSR_IA32_FIXED_CTR0, MSR_IA32_FIXED_CTR_LAST, 0, 0, NULL, NULL, "IA32_FIXED_CTRx" },
	{ MSR_IA32_PERF_CAPABILITIES, MSR_IA32_PERF_CAPABILITIES, 0, 0, NULL, NULL,
	  "IA32_PERF_CAPABILITIES" },
	{ MSR_IA32_FIXED_CTR_CTRL, MSR_IA32_PERF_GLOBAL_STATUS_SET, 0, 0, NULL, NULL,
	  "IA32_FIXED_CTR_CTRL, IA32_PERF_GLOBAL_*" },
	{ MSR_IA32_PEBS_ENABLE, MSR_IA32_PEBS_ENABLE, 0, 0, NULL, NULL, "IA32_PEBS_ENABLE" },
	{ MSR_IA32_MC0_CTL, MSR_IA32_MC_LAST, 0, 0, NULL, NULL, "IA32_MCi_* (no banks)" },
	{ MSR_IA32_VMX_BASIC, MSR_IA32_VMX_VMFUNC, 0, 0, rd_vmx_cap, NULL,
	  "IA32_VMX capability" },
	{ MSR_IA32_A_PMC0, MSR_IA32_A_PMC_LAST, 0, 0, NULL, NULL, "IA32_A_PMCx" },
	{ MSR_IA32_RTIT_OUTPUT_BASE, MSR_IA32_RTIT_OUTPUT_MASK_PTRS, 0, 0, NULL, NULL,
	  "IA32_RTIT_OUTPUT_*" },
	{ MSR_IA32_RTIT_CTL, MSR_IA32_RTIT_CR3_MATCH, 0, 0, NULL, NULL,
	  "IA32_RTIT_CTL/STATUS/CR3_MATCH" },
	{ MSR_IA32_RTIT_ADDR0_A, MSR_IA32_RTIT_ADDR3_B, 0, 0, NULL, NULL, "IA32_RTIT_ADDRn" },
	{ MSR_IA32_DS_AREA, MSR_IA32_DS_AREA, 0, 0, NULL, NULL, "IA32_DS_AREA" },
	{ MSR_LASTBRANCH_FROM_0, MSR_LASTBRANCH_TO_LAST, 0, 0, NULL, NULL, "LASTBRANCH_x" },
	/*
	 * The local APIC timer's deadline (Vol. 3A 11.5.4.1): L1's own APIC,
	 * written at every timer tick of a tickless L1.
	 */
	{ MSR_IA32_TSC_DEADLINE, MSR_IA32_TSC_DEADLINE, R | W, 0, rd_cpu, wr_cpu,
	  "IA32_TSC_DEADLINE" },
	/*
	 * x2APIC registers (Vol. 3A 11.12.1): L1's own APIC, #GP outside x2APIC
	 * mode (the CPU checks that itself for pass-through accesses).  L0's
	 * only use is the ICR, whose writes exit ("Starting APs").
	 */
	{ MSR_X2APIC_FIRST, MSR_X2APIC_ICR - 1, R | W, 0, rd_x2apic, wr_x2apic, "x2APIC register" },
	{ MSR_X2APIC_ICR, MSR_X2APIC_ICR, R, 0, rd_x2apic, wr_x2apic_icr, "x2APIC ICR" },
	{ MSR_X2APIC_ICR + 1, MSR_X2APIC_LAST, R | W, 0, rd_x2apic, wr_x2apic, "x2APIC register" },
	{ MSR_IA32_XSS, MSR_IA32_XSS, 0, 0, rd_xss, wr_xss, "IA32_XSS" },
	{ MSR_IA32_LBR_INFO_0, MSR_IA32_LBR_INFO_LAST, 0, 0, NULL, NULL, "LBR_INFO_x" },
	{ MSR_IA32_LBR_CTL, MSR_IA32_LBR_DEPTH, 0, 0, NULL, NULL, "IA32_LBR_CTL/DEPTH" },
	{ MSR_IA32_EFER, MSR_IA32_EFER, 0, VMCS_GUEST_IA32_EFER, rd_field, wr_efer, "IA32_EFER" },
	/* SYSCALL targets (Vol. 3A 5.8.8): L0 never executes SYSCALL. */
	{ MSR_IA32_STAR, MSR_IA32_STAR, 0, 0, rd_cpu, wr_cpu, "IA32_STAR" },
	{ MSR_IA32_LSTAR, MSR_IA32_CSTAR, 0, 0, rd_cpu, wr_cpu_canonical, "IA32_LSTAR/CSTAR" },
	{ MSR_IA32_FMASK, MSR_IA32_FMASK, 0, 0, rd_cpu, wr_cpu, "IA32_FMASK" },
	/* Switched by VM entry and exit (Vol. 3C 27.3.2, 28.3): the guest field. */
	{ MSR_IA32_FS_BASE, MSR_IA32_FS_BASE, R | W, VMCS_GUEST_FS_BASE, rd_field,
	  wr_field_canonical, "IA32_FS_BASE" },
	{ MSR_IA32_GS_BASE, MSR_IA32_GS_BASE, R | W, VMCS_GUEST_GS_BASE, rd_field,
	  wr_field_canonical, "IA32_GS_BASE" },
	/*
	 * SWAPGS's other half (Vol. 3A 5.8.8): VM entry and exit do not switch
	 * it and L0 never executes SWAPGS, so the CPU's register is L1's and
	 * L2's in turn, as on hardware.  L1's WRMSR of it does not exit; L0
	 * writes it only for vmcs12's MSR-load areas (27.4, 28.6), after
	 * WRMSR's canonical check.
	 */
	{ MSR_IA32_KERNEL_GS_BASE, MSR_IA32_KERNEL_GS_BASE, R | W, 0, rd_cpu, wr_cpu_canonical,
	  "IA32_KERNEL_GS_BASE" },
	/* RDTSCP/RDPID's value: L0 never reads it. */
	{ MSR_IA32_TSC_AUX, MSR_IA32_TSC_AUX, R | W, 0, rd_cpu, wr_cpu, "IA32_TSC_AUX" },
};
#undef R
#undef W

#define MSR_TABLE_LEN (sizeof(msr_table) / sizeof(msr_table[0]))

static const struct msr_row *row_of(uint32_t msr)
{
	for (unsigned i = 0; i < MSR_TABLE_LEN; i++)
		if (msr >= msr_table[i].first && msr <= msr_table[i].last)
			return &msr_table[i];
	return NULL;
}

/* ---- refusals: logged per MSR and direction, the first 16 times, then every 1024th ---- */

#define REFUSAL_SLOTS 64

static struct {
	uint64_t key; /* (msr << 1 | write) + 1; 0: free */
	uint64_t count;
} refusals[REFUSAL_SLOTS];
static uint64_t refusals_elsewhere;

static uint64_t refusal_count(uint32_t msr, bool write)
{
	uint64_t key = ((uint64_t)msr << 1 | write) + 1;
	for (unsigned i = 0; i < REFUSAL_SLOTS; i++) {
		uint64_t k = 0;
		if (!__atomic_compare_exchange_n(&refusals[i].key, &k, key, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE) &&
		    k != key)
			continue;
		return __atomic_add_fetch(&refusals[i].count, 1, __ATOMIC_RELAXED);
	}
	return __atomic_add_fetch(&refusals_elsewhere, 1, __ATOMIC_RELAXED);
}

void msr_refusal_log_reset(void)
{
	for (unsigned i = 0; i < REFUSAL_SLOTS; i++)
		refusals[i].key = refusals[i].count = 0;
	refusals_elsewhere = 0;
}

/* Why a row refused, when its function did not say: it has none for this direction. */
static const char *row_refusal(const struct msr_call *c, bool write)
{
	if (c->why)
		return c->why;
	if (write && c->row->read)
		return "read-only";
	if (!write && c->row->write)
		return "write-only";
	return "not offered";
}

static void log_refusal(const struct msr_call *c, bool write, uint64_t value)
{
	uint64_t n = refusal_count(c->msr, write);
	if (n > 16 && (n & 1023))
		return;
	unsigned cpu = c->v ? c->v->index : 0;
	if (!c->row) {
		log_warn("CPU %u: %s of MSR 0x%x, which L0 does not offer: #GP(0) (refusal %llu)", cpu,
			 write ? "WRMSR" : "RDMSR", c->msr, (unsigned long long)n);
	} else if (write) {
		log_warn("CPU %u: WRMSR of MSR 0x%x (%s) = 0x%llx refused: %s: #GP(0) (refusal %llu)",
			 cpu, c->msr, c->row->name, (unsigned long long)value, row_refusal(c, true),
			 (unsigned long long)n);
	} else {
		log_warn("CPU %u: RDMSR of MSR 0x%x (%s) refused: %s: #GP(0) (refusal %llu)", cpu,
			 c->msr, c->row->name, row_refusal(c, false), (unsigned long long)n);
	}
}

bool msr_guest_read(const struct msr_policy *p, struct vcpu *v, uint32_t msr, uint64_t *value)
{
	struct msr_call c = { p, v, row_of(msr), msr, NULL };
	uint64_t got = 0;
	if (c.row && c.row->read && c.row->read(&c, &got)) {
		*value = got;
		return true;
	}
	log_refusal(&c, false, 0);
	return false;
}

bool msr_guest_write(const struct msr_policy *p, struct vcpu *v, uint32_t msr, uint64_t value)
{
	struct msr_call c = { p, v, row_of(msr), msr, NULL };
	if (c.row && c.row->write && c.row->write(&c, value))
		return true;
	log_refusal(&c, true, value);
	return false;
}

/* ---- the bitmap (SDM Vol. 3C 25.6.9) ---- */

/*
 * Read bitmap for 0..0x1fff at byte 0, for 0xc0000000..0xc0001fff at
 * 1024; the write bitmaps at 2048 and 3072.
 */
static long bitmap_bit(uint32_t msr, bool write)
{
	long base;
	if (msr <= 0x1fff)
		base = 0;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		base = 1024 * 8;
	else
		return -1;
	return base + (write ? 2048 * 8 : 0) + (long)(msr & 0x1fff);
}

static void let_through(uint8_t *bitmap, uint32_t msr, bool write)
{
	long bit = bitmap_bit(msr, write);
	if (bit >= 0)
		bitmap[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

void msr_bitmap_build(uint8_t *bitmap)
{
	for (unsigned i = 0; i < MSR_BITMAP_SIZE; i++)
		bitmap[i] = 0xff;
	for (unsigned i = 0; i < MSR_TABLE_LEN; i++) {
		const struct msr_row *row = &msr_table[i];
		for (uint32_t msr = row->first; row->pass && msr <= row->last; msr++) {
			if (row->pass & MSR_PASS_READ)
				let_through(bitmap, msr, false);
			if (row->pass & MSR_PASS_WRITE)
				let_through(bitmap, msr, true);
		}
	}
}

bool msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write)
{
	long bit = bitmap_bit(msr, write);
	if (bit < 0)
		return true;
	return bitmap[bit / 8] & (1u << (bit % 8));
}

/* ---- the table for tests and docs ---- */

static void row_info(const struct msr_row *row, struct msr_row_info *info)
{
	*info = (struct msr_row_info){ row->first, row->last, row->pass, row->read != NULL,
				       row->write != NULL, row->name };
}

bool msr_table_lookup(uint32_t msr, struct msr_row_info *info)
{
	const struct msr_row *row = row_of(msr);
	if (row)
		row_info(row, info);
	return row != NULL;
}

bool msr_table_row(unsigned i, struct msr_row_info *info)
{
	if (i >= MSR_TABLE_LEN)
		return false;
	row_info(&msr_table[i], info);
	return true;
}

void msr_l1_state_init(struct l1_msrs *m, const struct msr_policy *p,
		       uint64_t (*rd)(uint32_t msr))
{
	*m = (struct l1_msrs){ 0 };
	m->apic_base = rd(MSR_IA32_APIC_BASE);
	if (p->spec_ctrl)
		m->spec_ctrl = rd(MSR_IA32_SPEC_CTRL) & p->spec_ctrl;
	if (!p->mtrr)
		return;
	m->mtrr_def_type = rd(MSR_IA32_MTRR_DEF_TYPE);
	for (unsigned i = 0; i < 2 * mtrr_vcnt(p); i++)
		m->mtrr_var[i] = rd(MSR_IA32_MTRR_PHYSBASE0 + i);
	for (uint32_t msr = MSR_IA32_MTRR_FIX64K_00000; msr <= MSR_IA32_MTRR_FIX4K_F8000; msr++) {
		uint64_t *slot = mtrr_slot(p, m, msr);
		if (slot)
			*slot = rd(msr);
	}
}
