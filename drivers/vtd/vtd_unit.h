/*
 * vtd_unit.h - programming one VT-d remapping unit for DMA remapping
 * (Intel VT-d specification rev. 4.x, chapter 11 and 6.5 "Invalidation of
 * translation caches"; the register names are vtd_regs.h's).
 *
 * L0 owns every unit.  It reads CAP and ECAP once (vtd_unit_probe),
 * chooses the second-level paging levels (CAP.SAGAW) and page sizes
 * (CAP.SLLPS), points the unit at a legacy-mode root table whose every
 * context entry translates untranslated requests through the identity
 * tables of drivers/vtd/slpt.h (vtd_unit_enable), and then only reads its
 * fault records (vtd_fault.h).  Every register access goes through
 * struct vtd_ops, so the unit tests run the programming sequence against
 * a fake register file and check its order; every wait for the unit is
 * bounded by VTD_WAIT_POLLS reads and ends in a log line, never a hang.
 */
#ifndef MICROHV_DRIVERS_VTD_VTD_UNIT_H
#define MICROHV_DRIVERS_VTD_VTD_UNIT_H

#include "mm/page_alloc.h"

#include <stdbool.h>
#include <stdint.h>

/* Reads of a status register before a wait gives up (about a second on hardware). */
#define VTD_WAIT_POLLS 1000000u

/* The one domain every device of L1 is in; never 0 (6.1: reserved when CAP.CM). */
#define VTD_DOMAIN_ID 1u

/* Register access for one unit; base is the unit's register base. */
struct vtd_ops {
	uint32_t (*read32)(void *ctx, uint64_t base, unsigned off);
	uint64_t (*read64)(void *ctx, uint64_t base, unsigned off);
	void (*write32)(void *ctx, uint64_t base, unsigned off, uint32_t v);
	void (*write64)(void *ctx, uint64_t base, unsigned off, uint64_t v);
	/* Writes back and invalidates the CPU caches (ECAP.C = 0: walks do not snoop). */
	void (*flush_caches)(void *ctx);
	/* A monotonic time stamp (TSC) for the fault log's rate limit. */
	uint64_t (*now)(void *ctx);
	void *ctx;
};

enum vtd_inval_mode {
	VTD_INVAL_REGISTER, /* CCMD and IOTLB registers (6.5.1) */
	VTD_INVAL_QUEUED,   /* the invalidation queue (6.5.2) */
};

struct vtd_unit {
	const struct vtd_ops *ops;
	uint64_t base; /* register base (DRHD) */
	uint16_t segment;
	uint32_t ver;
	uint64_t cap, ecap;
	unsigned levels; /* second-level paging levels chosen: 3, 4 or 5 */
	bool page_2m, page_1g;
	enum vtd_inval_mode inval;
	uint64_t iq_pa;	    /* QI: the queue page */
	uint64_t status_pa; /* QI: where invalidation-wait descriptors write */
	unsigned iq_tail;   /* QI: next free descriptor */
	bool enabled;	    /* TE set by L0 */
	/* The fault log's rate limit (vtd_fault.c). */
	uint64_t log_window_start;
	unsigned logged_in_window;
	uint64_t suppressed;
	uint64_t faults; /* every fault record read */
};

/* The AGAW in bits for a number of second-level levels (3.6: 30 + 9 * levels - 18). */
static inline unsigned vtd_levels_width(unsigned levels)
{
	return 12 + 9 * levels;
}

/*
 * Reads VER, CAP and ECAP, chooses the paging levels (the fewest that
 * CAP.SAGAW offers and that cover want_width bits of DMA address, else the
 * most it offers) and the large pages of CAP.SLLPS, and the invalidation
 * interface (queued where ECAP.QI, unless prefer_register).  False, with a
 * log line, for a unit L0 cannot use: all-ones registers (no unit there),
 * no SAGAW L0 supports.
 */
bool vtd_unit_probe(struct vtd_unit *u, const struct vtd_ops *ops, uint64_t base,
		    uint16_t segment, unsigned want_width, bool prefer_register);

/*
 * Programs the unit and turns DMA remapping on, in the order of 11.4.4-6
 * and 6.5: fault log cleared and its interrupt masked (faults are polled),
 * write buffer flushed (CAP.RWBF), RTADDR then GCMD.SRTP (wait GSTS.RTPS),
 * the queue enabled (QI), global context-cache then IOTLB invalidation,
 * GCMD.TE (wait GSTS.TES).  root_pa is the root table vtd_root_build made
 * for u->levels.  pa gives the queue pages (QI).  False, with a log line
 * naming the step, when a wait times out or the queue reports an error;
 * the unit is then left with translation off.
 */
bool vtd_unit_enable(struct vtd_unit *u, uint64_t root_pa, struct page_alloc *pa);

/*
 * Turns translation off (GCMD.TE clear, wait GSTS.TES clear) and the
 * queue (QIE), as the unit was before vtd_unit_enable.  False on a timeout.
 */
bool vtd_unit_disable(struct vtd_unit *u);

/*
 * Global context-cache and IOTLB invalidation through the unit's
 * interface, after the write buffer flush CAP.RWBF asks for.  Needed after
 * any change to the tables (with CAP.CM also for not-present to present).
 */
bool vtd_unit_invalidate_all(struct vtd_unit *u);

/*
 * Builds a legacy-mode root table whose 256 buses all point at one context
 * table whose 256 entries are present, untranslated requests only, address
 * width for levels, domain VTD_DOMAIN_ID, SLPTPTR slpt_root.  Returns the
 * root table's address, or 0 when pa runs out (nothing kept).
 */
uint64_t vtd_root_build(struct page_alloc *pa, uint64_t slpt_root, unsigned levels);

#endif
