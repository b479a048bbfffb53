/*
 * vtd_fake.h - a VT-d unit's register file for the host unit tests, behind
 * struct vtd_ops (drivers/vtd/vtd_unit.h).
 *
 * It answers as the specification's registers do: GCMD's commands show in
 * GSTS (TE/TES, SRTP/RTPS, QIE/QIES, WBF done at once), CCMD.ICC and
 * IOTLB.IVT clear with a nonzero actual granularity, a write of IQT runs
 * the queue's descriptors up to the tail (an invalidation-wait descriptor
 * writes its status word), a fault record's F bit clears on a write of 1.
 * Every command it sees is appended to ev[], so a test checks the order.
 * stuck_gsts makes one GSTS bit never follow its command (a timeout).
 */
#ifndef MICROHV_TESTS_VTD_FAKE_H
#define MICROHV_TESTS_VTD_FAKE_H

#include "drivers/vtd/vtd_unit.h"

#include <stdint.h>

enum vtd_fake_event {
	VF_RTADDR = 1, /* RTADDR written */
	VF_SRTP,       /* root table pointer latched */
	VF_WBF,	       /* write buffer flushed */
	VF_QIE_ON,
	VF_QIE_OFF,
	VF_CC_GLOBAL,	 /* context cache invalidated (register or queue) */
	VF_IOTLB_GLOBAL, /* IOTLB invalidated (register or queue) */
	VF_TE_ON,
	VF_TE_OFF,
	VF_FECTL,	 /* FECTL written */
	VF_FLUSH_CACHES, /* the CPU caches written back */
	VF_QI_WAIT,	 /* a wait descriptor completed */
	VF_PMEN,	 /* PMEN written */
	VF_IRE_ON,
	VF_IRE_OFF,
};

#define VTD_FAKE_REG_BYTES 0x1000
#define VTD_FAKE_IRO 0x50  /* ECAP.IRO: IOTLB registers at 0x500 */
#define VTD_FAKE_FRO 0x40  /* CAP.FRO: fault records at 0x400 */

struct vtd_fake {
	uint8_t reg[VTD_FAKE_REG_BYTES];
	uint64_t base;
	unsigned ev[64];
	unsigned nev;
	uint32_t stuck_gsts; /* GSTS bits that never change */
	bool qi_error;	     /* the queue reports FSTS.IQE instead of running */
	bool iotlb_no_iaig;  /* IOTLB invalidation "not performed" */
	bool stuck_pmen;     /* PMEN.PRS stays set */
	unsigned reads, writes;
	uint64_t now;
	uint64_t latched_root; /* RTADDR at the last SRTP */
	uint64_t last_cc, last_iotlb; /* the last invalidation commands, descriptors included */
	unsigned bad; /* commands in a wrong state: TE before SRTP, a register command with QIE on,
		       * QIE off while IRE is on */
};

extern const struct vtd_ops vtd_fake_ops;

/* A unit with cap/ecap (FRO and IRO are filled in), GSTS 0, nfr fault records. */
void vtd_fake_init(struct vtd_fake *f, uint64_t base, uint64_t cap, uint64_t ecap);

/* The ops with ctx = f. */
struct vtd_ops vtd_fake_bind(struct vtd_fake *f);

/* Records a fault in record idx (F set) and FSTS.PPF with FRI = idx. */
void vtd_fake_fault(struct vtd_fake *f, unsigned idx, uint16_t sid, uint64_t addr, unsigned reason,
		    bool read);

/* Index of the first event ev in f->ev, or -1. */
int vtd_fake_find(const struct vtd_fake *f, unsigned ev);

uint64_t vtd_fake_get64(const struct vtd_fake *f, unsigned off);
uint32_t vtd_fake_get32(const struct vtd_fake *f, unsigned off);

#endif
