/*
 * ept_walk.h - translating a guest-physical address through an EPT that
 * lives in guest memory, as the CPU would (SDM Vol. 3C 29.3.2-29.3.5).
 *
 * Nested EPT needs this: L2's guest-physical addresses go through L1's
 * EPT (EPT12), whose tables are L1 physical memory, before L0's EPT01.
 * The walk reports what the CPU would: a translation (address, leaf
 * level, the rights of the walk, the leaf's memory type and "ignore
 * PAT"), an EPT violation (with the rights of the entries used, which
 * become bits 5:3 of the exit qualification, 28.2.1 table 28-7), or an
 * EPT misconfiguration (29.3.3.1): an entry with write but no read, an
 * execute-only entry where execute-only is not offered, a reserved bit
 * set, a leaf size not offered, or a leaf with memory type 2, 3 or 7.
 *
 * Memory is reached only through callbacks over physical addresses of
 * the EPT's owner (L1).  An entry that cannot be read reads as all ones,
 * as non-existent memory does on the CPU: a misconfiguration.  Accessed
 * and dirty flags (29.3.5), when the EPTP enables them (bit 6): set after
 * a walk that translates, A in every entry used, D in the leaf for a
 * write, through the atomic cmpxchg callback; an entry that changed in
 * between restarts the walk (the CPU's locked update would have seen the
 * new value), and after EPT_WALK_MAX_TRIES walks the result is
 * EPT_WALK_RETRY.  Not modelled: mode-based execute control (bit 10),
 * sub-page permissions, #VE, supervisor shadow stacks, a TLB.
 *
 * Pure and freestanding: no globals, no allocation.
 */
#ifndef MICROHV_MM_EPT_WALK_H
#define MICROHV_MM_EPT_WALK_H

#include "vmx/vmx_arch.h"

#include <stdbool.h>
#include <stdint.h>

/* The access, as bits 2:0 of an EPT-violation qualification (SDM 28.2.1, table 28-7). */
#define EPT_ACCESS_READ (1u << 0)
#define EPT_ACCESS_WRITE (1u << 1)
#define EPT_ACCESS_FETCH (1u << 2)

/* EPTP bits 5:3: the page-walk length minus 1 (SDM Vol. 3C 25.6.11; vmx_arch.h). */
#define EPTP_WALK_LENGTH_MASK (7ull << EPTP_WALK_LENGTH_SHIFT)

#define EPT_WALK_MAX_TRIES 4

/* What the EPT's offered capabilities allow (IA32_VMX_EPT_VPID_CAP, SDM Vol. 3D A.10). */
struct ept_walk_caps {
	bool execute_only; /* bit 0: entries with bits 2:0 = 100b */
	bool page_2m;	   /* bit 16: PDEs may map 2 MiB */
	bool page_1g;	   /* bit 17: PDPTEs may map 1 GiB */
	unsigned maxphyaddr; /* bits 51:maxphyaddr of every entry are reserved */
};

enum ept_walk_cas {
	EPT_WALK_CAS_DONE,    /* the entry was old and is now new */
	EPT_WALK_CAS_CHANGED, /* the entry was not old: nothing written */
	EPT_WALK_CAS_FAILED,  /* the address is refused */
};

struct ept_walk_mem {
	/* Reads the 8-byte entry at pa; false: refused (the walk reads all ones). */
	bool (*read)(void *ctx, uint64_t pa, uint64_t *entry);
	/* Atomic compare-exchange of the entry at pa (NULL: A/D flags are never set). */
	enum ept_walk_cas (*cmpxchg)(void *ctx, uint64_t pa, uint64_t old, uint64_t new_val);
	void *ctx;
};

enum ept_walk_status {
	EPT_WALK_OK,
	EPT_WALK_VIOLATION, /* not present, or the rights do not allow the access */
	EPT_WALK_MISCONFIG,
	EPT_WALK_RETRY, /* entries kept changing under the A/D update */
};

struct ept_walk {
	enum ept_walk_status status;
	/* OK and VIOLATION: bits 2:0 of every entry used, ANDed (0 if one was not present). */
	unsigned rights;
	/* OK: */
	uint64_t pa;	  /* the translation of the whole address */
	unsigned level;	  /* the leaf: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB */
	unsigned memtype; /* the leaf's bits 5:3 */
	bool ipat;	  /* the leaf's "ignore PAT" */
	bool dirty;	  /* the leaf's dirty flag after the walk (A/D enabled) */
	bool ad_failed;	  /* an A/D update was refused by the callback (the flags not set) */
	/* MISCONFIG: the level of the entry (1 = PTE ... 5 = PML5E) and its value. */
	unsigned bad_level;
	uint64_t bad_entry;
};

/* The number of levels an EPTP's page-walk length names: 4 or 5 (other values: 4). */
unsigned ept_walk_levels(uint64_t eptp);

/*
 * Translates gpa for access (EPT_ACCESS_* bits; a guest paging-structure
 * access under an EPTP with A/D enabled is a write, SDM 29.3.5) through
 * the EPT at eptp, like the CPU.  Returns out->status.
 */
enum ept_walk_status ept_walk(uint64_t eptp, const struct ept_walk_caps *caps,
			      const struct ept_walk_mem *mem, uint64_t gpa, unsigned access,
			      struct ept_walk *out);

#endif
