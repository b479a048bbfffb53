/*
 * vtd_fault.h - the faults a VT-d unit records, reported on L0's log
 * (Intel VT-d specification rev. 4.x, 7.1.3 fault reasons, 7.2.1 primary
 * fault logging, 11.4.9.1 FSTS, 11.4.14 FRCD).
 *
 * A DMA that touches a page the second-level tables leave unmapped (L0's
 * memory) is blocked by the unit and recorded in a fault-recording
 * register.  L0 polls the unit (docs/iommu.md, "Faults": on the BSP's
 * VMX-preemption-timer exits while L1 runs), logs each record with the
 * requester ID, the address and the reason, and clears it.  A device that
 * floods the unit gets at most VTD_FAULT_LOG_BURST lines per
 * VTD_FAULT_LOG_WINDOW time stamps, then one "N more faults suppressed"
 * line when the window ends.
 */
#ifndef MICROHV_DRIVERS_VTD_VTD_FAULT_H
#define MICROHV_DRIVERS_VTD_VTD_FAULT_H

#include "vtd_unit.h"

#define VTD_FAULT_LOG_BURST 8u
#define VTD_FAULT_LOG_WINDOW (1ull << 32) /* TSC cycles: a second or two */

/* One decoded fault record. */
struct vtd_fault {
	uint16_t source;  /* requester ID: bus << 8 | device << 3 | function */
	uint64_t address; /* the page the request addressed (FI) */
	unsigned reason;  /* 7.1.3 fault reason */
	bool read;	  /* FRCD.T1: a read request (else a write) */
};

/* The name of a fault reason (7.1.3), "unknown reason" beyond the table. */
const char *vtd_fault_reason_name(unsigned reason);

/*
 * Reads every pending fault record of u (FSTS.PPF, from FSTS.FRI on,
 * wrapping at CAP.NFR), logs it within the rate limit, clears it (FRCD.F,
 * then FSTS.PFO), and returns how many records it read.  The first
 * max_out records are copied to out (may be NULL) for the self-test.
 */
unsigned vtd_fault_poll(struct vtd_unit *u, struct vtd_fault *out, unsigned max_out);

#endif
