/*
 * msr_lists.h - the MSR areas of vmcs12: the VM-entry MSR-load area, and
 * the VM-exit MSR-store and MSR-load areas (SDM Vol. 3C 25.7.2, 25.8.2;
 * format in 25.7.2's table "Format of an MSR Entry").
 *
 * Each area is an array of 16-byte entries in L1's memory: bits 31:0 the
 * MSR index, bits 63:32 reserved (must be 0), bits 127:64 the data.  The
 * CPU processes the entries in order; the first that fails stops it, and
 * the ones before it have taken effect:
 *   entry load (27.4)   - a VM-entry failure, exit reason 34, qualification
 *                         the failing entry's number (1-based);
 *   exit store (28.4)   - a VMX abort, indicator 1;
 *   exit load  (28.6)   - a VMX abort, indicator 4.
 * This module only walks the area and applies the SDM's per-entry rules;
 * what "reading" or "writing" an MSR for L2 or L1 means is the caller's
 * (struct nested_msr_ops), as is what a failure becomes.
 *
 * Undefined in the SDM, defined here: a count above the recommended
 * maximum 512 * (IA32_VMX_MISC[27:25] + 1) fails at entry number
 * max + 1 after the first max entries took effect; an entry L0 cannot read
 * or write in L1's memory (struct l1_memory refuses it) fails like a bad
 * entry.
 */
#ifndef MICROHV_NESTED_MSR_LISTS_H
#define MICROHV_NESTED_MSR_LISTS_H

#include "vmx/l1_memory.h"

#include <stdbool.h>
#include <stdint.h>

#define VMX_MSR_ENTRY_SIZE 16

/* Recommended maximum number of entries in one area (SDM Vol. 3D A.6). */
#define VMX_MISC_MAX_MSR_LIST(misc) (512u * ((unsigned)(((misc) >> 25) & 7) + 1))

enum nested_msr_list {
	NMSR_ENTRY_LOAD, /* VM entry: load MSRs for L2 (27.4) */
	NMSR_EXIT_STORE, /* VM exit: store L2's MSRs (28.4) */
	NMSR_EXIT_LOAD,	 /* VM exit: load MSRs for L1 (28.6) */
};

/* VMX-abort indicators (SDM Vol. 3C 28.7), written to vmcs12's abort field. */
#define VMX_ABORT_SAVE_GUEST_MSR 1
#define VMX_ABORT_HOST_PDPTE 2
#define VMX_ABORT_VMCS_CORRUPTED 3
#define VMX_ABORT_LOAD_HOST_MSR 4

/* Exit reason of a VM-entry failure due to MSR loading (SDM Vol. 3C App. C). */
#define EXIT_REASON_MSR_LOADING 34

struct nested_msr_ops {
	/* false: RDMSR/WRMSR of this MSR with this value would be #GP at CPL 0. */
	bool (*read)(void *ctx, uint32_t msr, uint64_t *value);
	bool (*write)(void *ctx, uint32_t msr, uint64_t value);
	void *ctx;
};

/*
 * Processes count entries of the area at gpa for kind.  Returns 0 when
 * all were processed, else the 1-based number of the entry that failed
 * (the earlier ones took effect).  max_count: VMX_MISC_MAX_MSR_LIST of
 * L1's IA32_VMX_MISC.
 */
uint32_t nested_msr_list(enum nested_msr_list kind, uint64_t gpa, uint32_t count,
			 uint32_t max_count, const struct l1_memory *mem,
			 const struct nested_msr_ops *ops);

/* Whether one entry (index and reserved half) passes the SDM's rules for kind. */
bool nested_msr_entry_allowed(enum nested_msr_list kind, uint32_t index, uint32_t reserved);

#endif
