/*
 * ept01.h - EPT01 after launch: L0's identity EPT for L1 (mm/ept.h),
 * shared by every CPU through one EPTP (g_l0.eptp), changed while L1 runs.
 *
 *   - Memory types follow L1's MTRRs: with EPT the leaf's type replaces
 *     the MTRR type (SDM Vol. 3C 29.3.7.2), so after every MTRR write that
 *     L0 accepts (vmx/msr_mtrr.c) EPT01's leaves get the types of the
 *     writing CPU's MTRRs as L1 set them (SDM Vol. 3A 12.11; E = 0: UC
 *     everywhere, 12.11.2.1).  "Ignore PAT" stays clear, so L1's PAT
 *     still combines.  Nothing is rewritten when the types did not change.
 *   - The xAPIC page (g_l0.apic_page, read-only since launch so that L0
 *     sees INIT and SIPI) stays read-only while some CPU under L0 keeps its
 *     APIC base there; when the last one moves away (vmx/msr_apic.c) it is
 *     read/write/execute again, and read-only again if one comes back.  A
 *     page an APIC is moved to is never protected (docs/l0.md).
 *
 * Locking: one spinlock serializes changes; the allocator's lock
 * (g_l0.lock) is taken around each page taken or freed.  Every entry
 * changes by one atomic store, tables are filled before they are linked
 * (mm/ept.c), so a CPU running L1 meanwhile walks the old or the new
 * entry.
 *
 * Cached translations: a change ends by bumping a global generation; at
 * the end of every exit (vmx_ept01_sync, vmx/exit.c) a CPU that has not
 * flushed at the current generation executes INVEPT single-context for
 * g_l0.eptp before it enters L1 or L2 again (both run on EPT01); the
 * writing CPU does so at once.
 *
 * Bound on pages: EPT01's table pages, linked or waiting to be freed,
 * never exceed those at launch plus EPT01_SPARE_PAGES: a split that would
 * need more leaves its range one UC leaf instead (a warn line).  A table
 * a merge unlinks waits until every CPU has flushed at the generation
 * that unlinked it (a CPU might still cache the entry that pointed to it)
 * and then goes back to the allocator.  So an L1 rewriting its MTRRs in a
 * loop gets its pages back and cannot take more than the spare.
 */
#ifndef MICROHV_VMX_EPT01_H
#define MICROHV_VMX_EPT01_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/ept.h"
#include "mm/mtrr.h"

/* Table pages EPT01 may take beyond those at launch. */
#define EPT01_SPARE_PAGES 64
/* Unlinked tables waiting for every CPU's INVEPT; beyond this, no merge. */
#define EPT01_RETIRED_MAX 128

struct spinlock;
struct vcpu;
struct msr_policy;

/*
 * EPT01 as build_ept left it (APIC page protected): its PML4, the leaf
 * sizes offered, and the MTRR state its types are from; pages come from
 * pa under pa_lock.
 */
void ept01_init(struct page_alloc *pa, struct spinlock *pa_lock, uint64_t pml4,
		const struct ept_options *opt, const struct mtrr_state *types);

/* After an MTRR write of v's that L0 accepted: EPT01's types become v's MTRRs'. */
void ept01_mtrr_written(struct vcpu *v, const struct msr_policy *p);

/* After v's IA32_APIC_BASE moved to another page: the xAPIC page's rights. */
void ept01_apic_base_moved(struct vcpu *v);

/* The end of every exit: INVEPT if EPT01 changed since this CPU last flushed. */
void vmx_ept01_sync(struct vcpu *v);

/* EPT01's generation now: it changes with every change to EPT01 (nested/ept12.h). */
uint64_t ept01_generation(void);

/* For the tests and the log. */
struct ept01_state {
	uint64_t generation;
	uint64_t tables;  /* linked table pages */
	uint64_t retired; /* unlinked, waiting for every CPU's INVEPT */
	uint64_t limit;	  /* tables + retired never exceed this */
	uint64_t rewrites;
};
void ept01_get_state(struct ept01_state *st);

/* Forgets EPT01 (unit tests): nothing changes until the next ept01_init. */
void ept01_reset(void);

#endif
