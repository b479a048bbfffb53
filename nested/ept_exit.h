/*
 * ept_exit.h - what an EPT violation of vmcs02 means when L1 runs L2 with
 * EPT (nested EPT): the CPU walked EPT02, L0's shadow of EPT12 composed
 * with EPT01 (nested/ept02.h), and found no leaf, or one with too few
 * rights.  L0 walks EPT12 for the same guest-physical address and access
 * (mm/ept_walk.h), as the CPU would have walked it for L1:
 *
 *   - EPT12 denies the access (not present, or too few rights): L1's EPT
 *     violation (exit reason 48).  Its qualification is the CPU's (bits
 *     2:0 the access; 7 and 8 the linear-address bits; 12 NMI unblocking
 *     by IRET; 11:9 where L1 is offered advanced information) with bits
 *     5:3 the rights of EPT12's walk (SDM Vol. 3C 28.2.1, table 28-7);
 *     the guest-physical and guest-linear addresses are the CPU's.
 *   - EPT12 is misconfigured (29.3.3.1): L1's EPT misconfiguration (49).
 *   - EPT12 translates: the L1 physical page must be L1's memory with
 *     the rights the access needs in EPT01; then EPT02 gets a leaf as
 *     large as EPT12's leaf, EPT01's leaf and the CPU allow (4 KiB, 2 MiB
 *     or 1 GiB: within it EPT12 translates by one offset and EPT01 has
 *     one set of rights and one memory type; L2's page to that page,
 *     EPT12's rights ANDed with EPT01's,
 *     not writable while EPT12's dirty flag is clear under an A/D EPTP,
 *     so that the first write comes back to set it; EPT12's memory type
 *     and "ignore PAT", but UC with "ignore PAT" where EPT01 has UC) and
 *     L2 runs on.  A page that is L0's, unmapped, or L1's read-only xAPIC
 *     page written is refused as L1's own access there is: #GP(0), in L2.
 *   - The entries kept changing under the A/D update: L2 runs again.
 *
 * Pure: EPT12 through the walk's callbacks, EPT01 through one callback;
 * nested/vmexit.c reads the exit and acts.
 */
#ifndef MICROHV_NESTED_EPT_EXIT_H
#define MICROHV_NESTED_EPT_EXIT_H

#include "mm/ept_walk.h"

#include <stdbool.h>
#include <stdint.h>

/* EPT-violation qualification bits (SDM Vol. 3C 28.2.1, table 28-7). */
#define EPT_QUAL_ACCESS_MASK 0x7ull
#define EPT_QUAL_RIGHTS_SHIFT 3
#define EPT_QUAL_RIGHTS_MASK (0x7ull << EPT_QUAL_RIGHTS_SHIFT)
#define EPT_QUAL_GLA_BITS 0x180ull  /* 7: linear address valid; 8: access to the translation */
#define EPT_QUAL_ADVANCED 0xe00ull  /* 11:9, with IA32_VMX_EPT_VPID_CAP[22] */
#define EPT_QUAL_NMI_UNBLOCK 0x1000ull /* 12 */

struct nested_ept_env {
	const struct ept_walk_caps *caps12; /* what L1's EPT may use (its offered capabilities) */
	const struct ept_walk_mem *mem12;   /* L1's memory, where EPT12 lives */
	/*
	 * EPT01 for an L1 physical address: false where it maps nothing
	 * (L0's memory, beyond the top); else the rights (EPT_READ | ...),
	 * the memory type and the level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB) of
	 * its leaf.
	 */
	bool (*ept01)(void *ctx, uint64_t gpa1, unsigned *rights, unsigned *memtype,
		      unsigned *level);
	void *ctx;
	bool advanced_info; /* L1 is offered IA32_VMX_EPT_VPID_CAP[22] */
	unsigned max_level02; /* EPT02's largest leaf the CPU has: 1, 2 (2 MiB), 3 (1 GiB) */
};

enum nested_ept_action {
	NEPT_MAP,		/* make the EPT02 leaf below; L2 runs on */
	NEPT_L1_VIOLATION,	/* exit reason 48 to L1, qualification qual12 */
	NEPT_L1_MISCONFIG,	/* exit reason 49 to L1 */
	NEPT_REFUSE,		/* gpa1 is not L1's to access so: #GP(0) in L2 */
	NEPT_RETRY,		/* L2 runs again as it is */
};

struct nested_ept_decision {
	enum nested_ept_action action;
	uint64_t qual12;  /* NEPT_L1_VIOLATION */
	uint64_t gpa1;	  /* NEPT_MAP, NEPT_REFUSE: L1's physical address */
	unsigned rights;  /* NEPT_MAP: the leaf's */
	unsigned memtype; /* NEPT_MAP */
	unsigned level;	  /* NEPT_MAP: the leaf's (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB) */
	bool ipat;	  /* NEPT_MAP */
	bool ad_failed;	  /* EPT12's A/D flags could not be set (logged by the caller) */
};

/* The decision for an EPT violation at L2's gpa2 with the CPU's qualification qual. */
void nested_ept_decide(const struct nested_ept_env *env, uint64_t eptp12, uint64_t gpa2,
		       uint64_t qual, struct nested_ept_decision *d);

/*
 * An access of L2's that L0 emulates (an operand of L2's VMREAD/VMWRITE
 * that L1's shadow VMCS serves, an INS/OUTS element: nested/ept12.h's
 * nested_guest_memory) and that EPT12 refuses: on L1's CPU it would have
 * been L1's EPT violation or misconfiguration, and so it is here.
 */
struct nested_ept12_fault {
	bool walked;	   /* EPT12 refused gpa2 (the memory recorded it) */
	bool complete;	   /* ... and the linear access is known (the guest walk told) */
	bool misconfig;	   /* EPT12 is misconfigured there, else it denies the access */
	unsigned access;   /* EPT_ACCESS_* the EPT12 walk was for */
	unsigned rights;   /* the rights of EPT12's walk (violation) */
	uint64_t gpa2;	   /* the guest-physical address refused */
	uint64_t gla;	   /* the linear address whose access or translation it was */
	bool paging;	   /* a paging-structure access of gla's translation */
	unsigned la_rights; /* GWALK_LA_* of gla's translation (not paging) */
};

/*
 * The exit reason (48 or 49) and qualification of f for L1 (SDM Vol. 3C
 * 28.2.1, table 28-7): the access in bits 2:0 (a paging-structure access
 * is a read, or under an EPTP with A/D enabled a write that sets bits 0
 * and 1: note 2 to the table, 29.3.5), EPT12's rights in 5:3, bit 7 (the
 * linear address is valid), bit 8 for the access itself rather than its
 * translation, and where advanced information is offered, bits 11:9 from
 * gla's translation (U/S, R/W, XD) for such an access.  Misconfigurations
 * have no qualification.
 */
uint32_t nested_ept12_fault_exit(const struct nested_ept12_fault *f, bool advanced_info,
				 bool ad_enabled, uint64_t *qual12);

#endif
