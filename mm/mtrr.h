/*
 * mtrr.h - the MTRR state of a CPU and the memory type it gives a physical
 * range (SDM Vol. 3A 12.11 "Memory Type Range Registers").
 *
 * With EPT on, the processor no longer consults the MTRRs for L1's accesses:
 * the EPT leaf's memory type takes their place (SDM Vol. 3C 29.3.7.2).  So
 * the identity EPT for L1 (mm/ept.c) copies the firmware's MTRR types into
 * its leaves, and must know whether a whole 1 GiB or 2 MiB range has one
 * type before it may map that range with one large leaf.
 *
 * The state is read once through a callback (RDMSR in the core, a table in
 * the unit tests), or decoded from the MTRR values L0 keeps for L1, whose
 * writes retype EPT01 (vmx/ept01.h); it is plain data afterwards, and
 * nothing here touches an MSR on its own.
 */
#ifndef MICROHV_MM_MTRR_H
#define MICROHV_MM_MTRR_H

#include <stdbool.h>
#include <stdint.h>

/* Memory-type encodings (SDM Vol. 3A 12.3, Table "Memory Types ..."). */
#define MTRR_TYPE_UC 0
#define MTRR_TYPE_WC 1
#define MTRR_TYPE_WT 4
#define MTRR_TYPE_WP 5
#define MTRR_TYPE_WB 6

/* Variable ranges kept; IA32_MTRRCAP.VCNT beyond this are not read. */
#define MTRR_MAX_VAR 32
/* 11 fixed-range MSRs x 8 types: 8 x 64 KiB, 16 x 16 KiB, 64 x 4 KiB. */
#define MTRR_NFIXED 88
#define MTRR_NFIXED_MSRS 11 /* FIX64K_00000, FIX16K_80000/A0000, FIX4K_C0000-F8000 */
#define MTRR_FIXED_END 0x100000ull /* the fixed ranges cover [0, 1 MiB) */

/* MAXPHYADDR when CPUID.80000008H is absent (SDM Vol. 3A 12.11.2.3). */
#define MTRR_DEFAULT_MAXPHYADDR 36

/*
 * One variable range, decoded: an address a (below 2^maxphyaddr) is in it
 * iff (a & mask) == (base & mask) (SDM Vol. 3A 12.11.2.3).  base and mask
 * hold only the address bits maxphyaddr-1:12.
 */
struct mtrr_var {
	uint64_t base;
	uint64_t mask;
	uint8_t type;
	bool valid; /* IA32_MTRR_PHYSMASKn bit 11 */
};

struct mtrr_state {
	bool enabled;	    /* IA32_MTRR_DEF_TYPE.E; false without MTRRs at all */
	bool fixed_enabled; /* IA32_MTRR_DEF_TYPE.FE, and only if has_fixed */
	bool has_fixed;	    /* IA32_MTRRCAP.FIX (bit 8) */
	uint8_t def_type;   /* IA32_MTRR_DEF_TYPE bits 7:0 */
	unsigned maxphyaddr;
	uint64_t addr_mask;	    /* bits maxphyaddr-1:12 */
	unsigned vcnt;		    /* IA32_MTRRCAP.VCNT as the CPU reports it */
	unsigned nvar;		    /* ranges in var[]: vcnt capped at MTRR_MAX_VAR */
	uint8_t fixed[MTRR_NFIXED]; /* index 0 = 0x00000-0x0ffff, ... */
	struct mtrr_var var[MTRR_MAX_VAR];
};

/*
 * Fills *m through rd (which must only be called for MSRs that exist).
 * maxphyaddr is CPUID.80000008H:EAX[7:0] (0 means unknown: 36 is used;
 * values above 52 are capped).  cpu_has_mtrr is CPUID.1:EDX.MTRR[bit 12]:
 * without it no MSR is read and every address is UC, as with E = 0.
 * Fixed-range MSRs are read only when IA32_MTRRCAP.FIX is set, and exactly
 * min(VCNT, MTRR_MAX_VAR) PHYSBASE/PHYSMASK pairs.
 */
void mtrr_read(struct mtrr_state *m, uint64_t (*rd)(uint32_t msr), unsigned maxphyaddr,
	       bool cpu_has_mtrr);

/*
 * Fills *m from MSR values, as mtrr_read decodes what it reads: cap is
 * IA32_MTRRCAP, def IA32_MTRR_DEF_TYPE, fixed[] the fixed-range MSRs in
 * address order (looked at only when cap.FIX is set), var[] PHYSBASE0,
 * PHYSMASK0, PHYSBASE1, ... for min(cap.VCNT, MTRR_MAX_VAR) pairs.  For
 * an L1's MTRRs as L0 keeps them (vmx/msr_policy.h), whose types follow
 * into EPT01 (vmx/ept01.h).
 */
void mtrr_from_msrs(struct mtrr_state *m, uint64_t cap, uint64_t def,
		    const uint64_t fixed[MTRR_NFIXED_MSRS], const uint64_t *var,
		    unsigned maxphyaddr);

/*
 * Prepares *m for filling by hand (tests):
 * MTRRs disabled, no fixed ranges, no variable ranges, addr_mask set for
 * maxphyaddr as in mtrr_read.
 */
void mtrr_init(struct mtrr_state *m, unsigned maxphyaddr);

/*
 * Sets variable range n (below MTRR_MAX_VAR; nvar grows to n + 1) from the
 * raw IA32_MTRR_PHYSBASEn and IA32_MTRR_PHYSMASKn values.
 */
void mtrr_set_var(struct mtrr_state *m, unsigned n, uint64_t physbase, uint64_t physmask);

/*
 * The memory type of every byte of [base, base + size), or -1 if the range
 * has more than one type (or is empty or wraps past 2^64).  The result is
 * one of the MTRR_TYPE_* values: a reserved encoding in an MTRR counts as
 * UC, and so does an overlap of variable ranges the SDM leaves undefined.
 * The cost grows with the number of type boundaries inside the range, not
 * with its size.
 */
int mtrr_type_of_range(const struct mtrr_state *m, uint64_t base, uint64_t size);

/*
 * Whether a and b give every address the same type (true only when
 * that follows from the fields: E = 0 in both, or the same default type,
 * fixed ranges and valid variable ranges).  False may be answered for
 * states that differ only in form (a rewrite that changes nothing).
 */
bool mtrr_same_types(const struct mtrr_state *a, const struct mtrr_state *b);

/* "UC", "WC", "WT", "WP", "WB", or "??" for a reserved encoding. */
const char *mtrr_type_name(unsigned type);

#endif
