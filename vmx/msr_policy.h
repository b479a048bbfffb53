/*
 * msr_policy.h - the guest's MSRs: one table says, for every MSR L0
 * offers, whether an access exits and what L0 does with it (docs/l0.md,
 * "MSRs").
 *
 * Intercept by default, pass through an explicit allowlist (as KVM's
 * vmx_possible_passthrough_msrs).  The MSR bitmap (SDM Vol. 3C 25.6.9) is
 * built from the table alone: every bit of both ranges set except the
 * rows marked pass-through for reads or writes; MSRs outside the two
 * ranges always exit (SDM Vol. 3C 26.1.3).  Each row names what L0 does
 * when an access reaches it (an exit, or an MSR-load/store area of
 * vmcs12 that L0 walks for L1):
 *   - the current VMCS's guest field, for the MSRs VM entry and exit
 *     switch (EFER, PAT, DEBUGCTL, SYSENTER_*, FS/GS base): never the CPU
 *     in VMX root, whose values are L0's; a write is first checked as
 *     WRMSR checks it;
 *   - emulated: FEATURE_CONTROL, the VMX capability MSRs, IA32_APIC_BASE
 *     (a write is validated and performed, and the base is kept: every
 *     L0 use of the APIC goes through the kept base), MTRRs (L1's values
 *     kept per CPU; their types go into EPT01, ept01.h), MISC_ENABLE, SPEC_CTRL,
 *     machine-check capability (no banks);
 *   - performed on the CPU after a check, for MSRs that are L1's alone
 *     (L0 never relies on them: TSC, STAR/LSTAR, TSC_AUX, ...);
 *   - refused: #GP(0), as a CPU without the MSR.  That is the answer for
 *     every MSR not in the table and for those whose effect reaches VMX
 *     root (Intel PT, PEBS/BTS/DS, the performance counters, LBRs):
 *     CPUID (cpuid_policy.h) does not report them to L1.
 * A refusal is logged, naming the MSR (the first 16 times per MSR and
 * direction, then every 1024th).
 */
#ifndef MICROHV_VMX_MSR_POLICY_H
#define MICROHV_VMX_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/caps.h"

#define MSR_BITMAP_SIZE 4096

/* Variable-range MTRR pairs kept for L1 (IA32_MTRRCAP.VCNT is capped here). */
#define L1_MTRR_MAX_VAR 32
#define L1_MTRR_NFIXED 11

/* What L0 keeps of the guest's MSRs on one CPU. */
/* One entry of a VMX MSR-load area (SDM Vol. 3C 25.7.2, "Format of an MSR Entry"). */
struct vmx_msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};

struct l1_msrs {
	/* IA32_APIC_BASE as L0 validated and wrote it: L0 uses this base, never RDMSR. */
	uint64_t apic_base;
	/*
	 * IA32_SPEC_CTRL, when offered: the guest's value (L1's, and L2's
	 * unless vmcs12's MSR areas switch it, as on the CPU), which every VM
	 * entry of vmcs01 and vmcs02 loads, and L0's, which every VM exit
	 * loads: each a one-entry MSR-load area, so L1's mitigations act on
	 * the CPU while it runs and never in root (msr_switch_areas).
	 */
	struct vmx_msr_entry spec_ctrl_guest __attribute__((aligned(16)));
	struct vmx_msr_entry spec_ctrl_l0 __attribute__((aligned(16)));
	uint64_t mtrr_def_type;
	uint64_t mtrr_fixed[L1_MTRR_NFIXED]; /* 250H, 258H, 259H, 268H-26FH */
	uint64_t mtrr_var[2 * L1_MTRR_MAX_VAR]; /* PHYSBASE0, PHYSMASK0, ... */
};

/* What the table's rows need to know of L0; filled by l0_prepare. */
struct msr_policy {
	bool nested;
	const struct vmx_caps *l1_vmx; /* L1's capability MSRs when nested = on */
	uint64_t hv_base, hv_size;     /* L0's memory: never under L1's APIC page */
	uint64_t map_end;	       /* L0 can reach an APIC page only below this */
	unsigned maxphyaddr;
	unsigned linear_width; /* 48, or 57 with 5-level paging: canonical addresses */
	bool mtrr;	    /* CPUID.1:EDX.MTRR: the MTRRs are offered (emulated) */
	uint64_t mtrrcap;   /* IA32_MTRRCAP as L1 reads it (VCNT <= L1_MTRR_MAX_VAR, no SMRR) */
	uint64_t spec_ctrl; /* the IA32_SPEC_CTRL bits L1 may set; 0: the MSR is not offered */
	bool xss;	    /* IA32_XSS is offered (XSAVES is) */
	uint64_t xss_mask;  /* the IA32_XSS bits L1 may set (CPUID.(0DH,1):EDX:ECX as L1 sees it) */
};

struct vcpu;

/*
 * RDMSR/WRMSR for the guest of the current VMCS (L1 on vmcs01, L2 on
 * vmcs02), as the table says; false: the guest gets #GP(0) (logged).
 * v is the CPU's vcpu (its struct l1_msrs).
 */
bool msr_guest_read(const struct msr_policy *p, struct vcpu *v, uint32_t msr, uint64_t *value);
bool msr_guest_write(const struct msr_policy *p, struct vcpu *v, uint32_t msr, uint64_t value);

/* Fills a 4-KiB MSR bitmap from the table: every access exits but the allowlist's. */
void msr_bitmap_build(uint8_t *bitmap);

/*
 * The bit of an access in a 4-KiB MSR bitmap (SDM Vol. 3C 25.6.9), -1 for
 * an MSR outside both ranges (such an access always exits).
 */
long msr_bitmap_bit(uint32_t msr, bool write);

/* Whether an access exits under bitmap (MSRs outside both ranges always do). */
bool msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write);

/* The table, for the tests and the docs. */
#define MSR_PASS_READ 1u
#define MSR_PASS_WRITE 2u
struct msr_row_info {
	uint32_t first, last;
	unsigned pass;	  /* MSR_PASS_*: not intercepted in the bitmap */
	bool readable;	  /* a read is answered (not refused outright) */
	bool writable;	  /* a write may be accepted */
	const char *name;
};
/* The row holding msr, or false: not offered (#GP). */
bool msr_table_lookup(uint32_t msr, struct msr_row_info *info);
/* Row i of the table (false past the end). */
bool msr_table_row(unsigned i, struct msr_row_info *info);

/*
 * This CPU's struct l1_msrs at launch, read through rd (RDMSR in the
 * core): the APIC base and the MTRRs L1 will see.
 */
void msr_l1_state_init(struct l1_msrs *m, const struct msr_policy *p,
		       uint64_t (*rd)(uint32_t msr));

/*
 * The VM-entry and VM-exit MSR-load areas L0 gives vmcs01 and vmcs02 (the
 * physical addresses of m's entries, identity-mapped): IA32_SPEC_CTRL
 * switched between the guest and L0.  Returns the number of entries in
 * each (0: nothing is switched, the addresses are 0).
 */
unsigned msr_switch_areas(const struct msr_policy *p, const struct l1_msrs *m,
			  uint64_t *entry_load, uint64_t *exit_load);

/* Forgets which refusals were logged (unit tests). */
void msr_refusal_log_reset(void);

#endif
