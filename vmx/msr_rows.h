/*
 * msr_rows.h - inside the MSR table (msr_policy.c): one access being
 * answered, a row, and the functions rows name.  Only the files of the
 * table include this (msr_policy.c, msr_rows.c, msr_apic.c, msr_mtrr.c);
 * everyone else goes through msr_policy.h.
 *
 * A row function answers one RDMSR or WRMSR of the guest of the current
 * VMCS (or one entry of vmcs12's MSR areas that L0 walks for L1): true,
 * done; false, a refusal (#GP(0)), its reason left in c->why for the log.
 */
#ifndef MICROHV_VMX_MSR_ROWS_H
#define MICROHV_VMX_MSR_ROWS_H

#include "msr_policy.h"

#include "mm/mtrr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

static inline bool refuse(struct msr_call *c, const char *why)
{
	c->why = why;
	return false;
}

/* Bits maxphyaddr-1:12: a page-aligned physical address the CPU can form. */
static inline uint64_t phys_page_mask(const struct msr_policy *p)
{
	unsigned w = p->maxphyaddr ? p->maxphyaddr : MTRR_DEFAULT_MAXPHYADDR;
	return (w >= 64 ? ~0ull : (1ull << w) - 1) & ~(PAGE_4K - 1);
}

/* msr_rows.c: the CPU's own value (an MSR that is L1's alone). */
bool rd_cpu(struct msr_call *c, uint64_t *value);
bool wr_cpu(struct msr_call *c, uint64_t value);
bool wr_cpu_canonical(struct msr_call *c, uint64_t value);
bool wr_ignore(struct msr_call *c, uint64_t value);

/* msr_rows.c: the current VMCS's guest field (row->field), and WRMSR's checks. */
bool rd_field(struct msr_call *c, uint64_t *value);
bool wr_field(struct msr_call *c, uint64_t value);
bool wr_field_canonical(struct msr_call *c, uint64_t value);
bool wr_efer(struct msr_call *c, uint64_t value);
bool wr_pat(struct msr_call *c, uint64_t value);
bool wr_debugctl(struct msr_call *c, uint64_t value);

/* msr_rows.c: emulated. */
bool rd_feature_control(struct msr_call *c, uint64_t *value);
bool rd_vmx_cap(struct msr_call *c, uint64_t *value);
bool rd_misc_enable(struct msr_call *c, uint64_t *value);
bool wr_misc_enable(struct msr_call *c, uint64_t value);
bool rd_spec_ctrl(struct msr_call *c, uint64_t *value);
bool wr_spec_ctrl(struct msr_call *c, uint64_t value);
bool rd_zero(struct msr_call *c, uint64_t *value);
bool wr_zero_only(struct msr_call *c, uint64_t value);
bool rd_xss(struct msr_call *c, uint64_t *value);
bool wr_xss(struct msr_call *c, uint64_t value);

/* msr_apic.c: IA32_APIC_BASE and the x2APIC registers. */
bool rd_apic_base(struct msr_call *c, uint64_t *value);
bool wr_apic_base(struct msr_call *c, uint64_t value);
bool rd_x2apic(struct msr_call *c, uint64_t *value);
bool wr_x2apic(struct msr_call *c, uint64_t value);
bool wr_x2apic_icr(struct msr_call *c, uint64_t value);

/* msr_mtrr.c: the MTRRs, L1's values kept per CPU. */
bool rd_mtrrcap(struct msr_call *c, uint64_t *value);
bool rd_mtrr(struct msr_call *c, uint64_t *value);
bool wr_mtrr(struct msr_call *c, uint64_t value);
/* IA32_MTRRCAP.VCNT as L1 reads it. */
unsigned mtrr_vcnt(const struct msr_policy *p);
/* Where L1's copy of msr lives in m, or NULL: not an MTRR this CPU has. */
uint64_t *mtrr_slot(const struct msr_policy *p, struct l1_msrs *m, uint32_t msr);

#endif
