/*
 * vpid.h - L1's VPIDs (issue 12): the VPIDs L1 gives its L2s in vmcs12,
 * mapped to VPIDs of L0's own on the CPU, and the TLB flushes the SDM
 * ties to VM entries and exits.
 *
 * VPIDs tag TLB entries per logical processor (SDM Vol. 3C 29.1), and L1
 * runs one virtual CPU per physical CPU, so each CPU keeps its own small
 * table from L1's VPIDs (vpid12) to L0's (vpid02).  L0's VPIDs on every
 * CPU:
 *   L1_VPID (1, vmx/l0.h)  L1 itself;
 *   L2_VPID (2)            an L2 whose vmcs12 has "enable VPID" = 0, on
 *                          L1's CPU tagged VPID 0000H like L1: flushed on
 *                          each entry from L1 (and L1's on each exit);
 *   3 .. 3 + SLOTS - 1     the vpid02 of the table's slots, never 0, 1 or 2.
 * A vpid12 keeps its slot while it is used; when every slot is taken, the
 * least recently used one is given to the new vpid12.  A slot's vpid02 is
 * flushed (INVVPID single-context) whenever it is given a vpid12, so a
 * vpid12 without a slot has no TLB entry anywhere: L1's INVVPID of it has
 * nothing to do.
 *
 * With "enable VPID" in vmcs12, VM entries and exits flush nothing (SDM
 * 27.3.2.5, 28.5.5, 29.4.3.1): L2's translations stay under its vpid02
 * and L1's under L1_VPID, as on the CPU, until L1 invalidates them
 * (nested/invvpid.c).  L0 never executes INVVPID with an address or a
 * VPID L1 chose: only single-context INVVPIDs of its own vpid02s.
 */
#ifndef MICROHV_NESTED_VPID_H
#define MICROHV_NESTED_VPID_H

#include "nested/vmcs12.h"

#include <stdbool.h>
#include <stdint.h>

#define L2_VPID 2	      /* an L2 without VPID, on every CPU: flushed on each entry from L1 */
#define NESTED_VPID02_FIRST 3 /* the vpid02 of slot 0 */
#define NESTED_VPID_SLOTS 16

struct nested_vpid_map {
	uint16_t vpid12[NESTED_VPID_SLOTS];   /* 0: the slot is free */
	uint64_t last_use[NESTED_VPID_SLOTS]; /* the clock at the slot's last lookup */
	uint64_t clock;
};

/*
 * The vpid02 of vpid12 (not 0): its slot's, or a slot given to it now (a
 * free one, else the least recently used, its vpid02 flushed first).
 */
uint16_t nested_vpid02(struct nested_vpid_map *m, uint16_t vpid12);

/* vpid12's vpid02, or 0 when it has no slot (nothing looked up, nothing changed). */
uint16_t nested_vpid02_mapped(const struct nested_vpid_map *m, uint16_t vpid12);

/* L1's INVVPID for vpid12 (types 0, 1, 3): its vpid02 flushed, if it has one. */
void nested_vpid_flush(const struct nested_vpid_map *m, uint16_t vpid12);

/* L1's all-context INVVPID (type 2): every slot's vpid02, and L2_VPID. */
void nested_vpid_flush_all(const struct nested_vpid_map *m);

/*
 * Every slot flushed and freed: L1's VMXON starts with no translation of
 * an earlier VMX operation (L1 may have been reset since, SDM Vol. 3A 9.1).
 */
void nested_vpid_reset(struct nested_vpid_map *m);

/*
 * VM entry to L2 on a CPU where L0 uses VPIDs: the VPID for vmcs02.
 * vmcs12 with "enable VPID" (and a VPID that is not 0, SDM 27.2.1.1):
 * nested_vpid02 of it, nothing flushed.  Without: L2_VPID, flushed (SDM
 * 27.3.2.5: the entry invalidates the mappings of VPID 0000H).
 */
uint16_t nested_vpid_entry(struct nested_vpid_map *m, const struct vmcs12 *v12);

/*
 * VM exit to L1 on a CPU where L0 uses VPIDs: L1_VPID flushed unless
 * vmcs12 has "enable VPID" (SDM 28.5.5).
 */
void nested_vpid_exit(const struct vmcs12 *v12);

/* vmcs12's VPID when its "enable VPID" is 1 (through activate secondary), else 0. */
uint16_t nested_vpid12(const struct vmcs12 *v12);

#endif
