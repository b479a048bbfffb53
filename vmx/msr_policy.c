/*
 * msr_policy.c - the guest's MSRs: one table, and everything that reads
 * it (policy in msr_policy.h, reasons in docs/l0.md "MSRs").
 *
 * Every MSR L0 offers is one row of msr_table[] below: its range, whether
 * the bitmap lets reads or writes through, and the functions that read
 * and write it when an access reaches L0 (the kinds of rows in
 * msr_rows.c, the APIC's in msr_apic.c, the MTRRs' in msr_mtrr.c).  A
 * NULL function is a refusal (#GP(0)); an MSR in no row is refused the
 * same way.  Nothing else in L0 lists MSRs: the bitmap, the exits,
 * vmcs12's MSR areas and the tests all read this table.
 */
#include "msr_policy.h"

#include "arch/x86/msr.h"
#include "drivers/serial/log.h"
#include "msr_rows.h"
#include "vcpu.h"
#include "vmcs.h"

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
	/*
	 * Cleared by VM exits, loaded by VM entries (Vol. 3C 28.5.1, 27.3.2.1:
	 * vmcs01 and vmcs02 load the debug controls), so in VMX non-root the
	 * CPU holds the guest field's value: reads pass through (Linux's KVM
	 * reads it at every KVM_RUN); writes are checked (BTS, LBR: root).
	 */
	{ MSR_IA32_DEBUGCTL, MSR_IA32_DEBUGCTL, R, VMCS_GUEST_IA32_DEBUGCTL, rd_field, wr_debugctl,
	  "IA32_DEBUGCTL" },
	/* C1E promotion and other power controls (model-specific): as PKG_CST_CONFIG_CONTROL. */
	{ MSR_POWER_CTL, MSR_POWER_CTL, 0, 0, rd_cpu, wr_ignore, "POWER_CTL" },
	/* Vol. 3A 12.11: L1's MTRRs kept per CPU; their memory types go into EPT01 (ept01.h). */
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
long msr_bitmap_bit(uint32_t msr, bool write)
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
	long bit = msr_bitmap_bit(msr, write);
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
	long bit = msr_bitmap_bit(msr, write);
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

unsigned msr_switch_areas(const struct msr_policy *p, const struct l1_msrs *m,
			  uint64_t *entry_load, uint64_t *exit_load)
{
	*entry_load = *exit_load = 0;
	if (!p->spec_ctrl)
		return 0;
	*entry_load = (uint64_t)(uintptr_t)&m->spec_ctrl_guest;
	*exit_load = (uint64_t)(uintptr_t)&m->spec_ctrl_l0;
	return 1;
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
	if (p->spec_ctrl) {
		/* L1 starts with the CPU's value (the bits it may see); L0 keeps the CPU's. */
		uint64_t now = rd(MSR_IA32_SPEC_CTRL);
		m->spec_ctrl_guest = (struct vmx_msr_entry){ MSR_IA32_SPEC_CTRL, 0, now & p->spec_ctrl };
		m->spec_ctrl_l0 = (struct vmx_msr_entry){ MSR_IA32_SPEC_CTRL, 0, now };
	}
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
