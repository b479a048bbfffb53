/*
 * vtd_unit.c - one VT-d remapping unit: probe, root/context tables,
 * invalidation (register-based or queued), translation on and off
 * (vtd_unit.h).
 *
 * The order follows the specification: the root table pointer is latched
 * (11.4.4 SRTP) before any invalidation, the caches are invalidated
 * globally after it (6.5: "software must invalidate the context cache and
 * IOTLB after setting the root table pointer"), and only then is
 * translation enabled (11.4.4 TE).  Every wait is bounded.
 */
#include "vtd_unit.h"

#include "drivers/serial/log.h"
#include "vtd_regs.h"

#include <stddef.h>

static uint32_t rd32(const struct vtd_unit *u, unsigned off)
{
	return u->ops->read32(u->ops->ctx, u->base, off);
}

static uint64_t rd64(const struct vtd_unit *u, unsigned off)
{
	return u->ops->read64(u->ops->ctx, u->base, off);
}

static void wr32(const struct vtd_unit *u, unsigned off, uint32_t v)
{
	u->ops->write32(u->ops->ctx, u->base, off, v);
}

static void wr64(const struct vtd_unit *u, unsigned off, uint64_t v)
{
	u->ops->write64(u->ops->ctx, u->base, off, v);
}

static void timeout(const struct vtd_unit *u, const char *what, unsigned off, uint64_t last)
{
	log_error("VT-d unit at 0x%llx: %s did not complete (register 0x%x reads 0x%llx after "
		  "%u reads)",
		  (unsigned long long)u->base, what, off, (unsigned long long)last, VTD_WAIT_POLLS);
}

/* Waits until (32-bit register off & mask) == want, bounded. */
static bool wait32(const struct vtd_unit *u, unsigned off, uint32_t mask, uint32_t want,
		   const char *what)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < VTD_WAIT_POLLS; i++) {
		v = rd32(u, off);
		if ((v & mask) == want)
			return true;
	}
	timeout(u, what, off, v);
	return false;
}

static bool wait64_clear(const struct vtd_unit *u, unsigned off, uint64_t bit, uint64_t *last,
			 const char *what)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < VTD_WAIT_POLLS; i++) {
		v = rd64(u, off);
		if (!(v & bit)) {
			*last = v;
			return true;
		}
	}
	timeout(u, what, off, v);
	return false;
}

/*
 * 11.4.4: a command is the status as it stands with the one-shot bits
 * cleared, plus or minus one bit; then GSTS shows the bit's new state.
 */
static bool gcmd_set(const struct vtd_unit *u, uint32_t bit, bool on, const char *what)
{
	uint32_t sts = rd32(u, VTD_GSTS_REG) & VTD_GSTS_ONE_SHOT_MASK;
	wr32(u, VTD_GCMD_REG, on ? sts | bit : sts & ~bit);
	return wait32(u, VTD_GSTS_REG, bit, on ? bit : 0, what);
}

bool vtd_unit_probe(struct vtd_unit *u, const struct vtd_ops *ops, uint64_t base,
		    uint16_t segment, unsigned want_width, bool prefer_register)
{
	*u = (struct vtd_unit){ .ops = ops, .base = base, .segment = segment };
	u->ver = rd32(u, VTD_VER_REG);
	u->cap = rd64(u, VTD_CAP_REG);
	u->ecap = rd64(u, VTD_ECAP_REG);
	if (u->cap == ~0ull || u->ecap == ~0ull) {
		log_error("VT-d unit at 0x%llx: registers read all ones: no unit answers there",
			  (unsigned long long)base);
		return false;
	}
	/* 11.4.2 SAGAW: bit 1 39-bit (3 levels), bit 2 48-bit (4), bit 3 57-bit (5). */
	unsigned sagaw = VTD_CAP_SAGAW(u->cap);
	for (unsigned levels = 3; levels <= 5; levels++) {
		if (!(sagaw & (1u << (levels - 2))))
			continue;
		u->levels = levels;
		if (vtd_levels_width(levels) >= want_width)
			break;
	}
	if (!u->levels) {
		log_error("VT-d unit at 0x%llx: CAP.SAGAW 0x%x offers no 3-, 4- or 5-level "
			  "second-level tables",
			  (unsigned long long)base, sagaw);
		return false;
	}
	/* 11.4.2 SLLPS: 2 MiB and 1 GiB second-level pages. */
	u->page_2m = u->cap & VTD_CAP_SLLPS_2M;
	u->page_1g = u->page_2m && (u->cap & VTD_CAP_SLLPS_1G);
	u->inval = (u->ecap & VTD_ECAP_QI) && !prefer_register ? VTD_INVAL_QUEUED
							       : VTD_INVAL_REGISTER;
	log_info("VT-d unit at 0x%llx (segment %u): version %u.%u, CAP 0x%llx ECAP 0x%llx: "
		 "%u-level tables (%u-bit), pages 4K%s%s, %s invalidation%s%s%s",
		 (unsigned long long)base, segment, (u->ver >> 4) & 0xf, u->ver & 0xf,
		 (unsigned long long)u->cap, (unsigned long long)u->ecap, u->levels,
		 vtd_levels_width(u->levels), u->page_2m ? " 2M" : "", u->page_1g ? " 1G" : "",
		 u->inval == VTD_INVAL_QUEUED ? "queued" : "register-based",
		 (u->cap & VTD_CAP_RWBF) ? ", write-buffer flushing" : "",
		 (u->cap & VTD_CAP_CM) ? ", caching mode" : "",
		 (u->ecap & VTD_ECAP_C) ? "" : ", walks not coherent (caches flushed)");
	return true;
}

uint64_t vtd_root_build(struct page_alloc *pa, uint64_t slpt_root, unsigned levels)
{
	uint64_t root = page_alloc(pa, 1, 1);
	uint64_t ctx = page_alloc(pa, 1, 1);
	if (!root || !ctx) {
		if (root)
			page_free(pa, root, 1);
		if (ctx)
			page_free(pa, ctx, 1);
		return 0;
	}
	/* 9.3: legacy context entry, 128 bits; 256 of them, one per device/function. */
	uint64_t *ce = (uint64_t *)(uintptr_t)ctx;
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		ce[2 * devfn] = (slpt_root & ~0xfffull) | VTD_CTX_LO_TT_UNTRANSLATED | VTD_CTX_LO_P;
		ce[2 * devfn + 1] = VTD_CTX_HI_DID(VTD_DOMAIN_ID) | VTD_CTX_HI_AW(levels);
	}
	/* 9.1: one root entry per bus, all at the same context table. */
	uint64_t *re = (uint64_t *)(uintptr_t)root;
	for (unsigned bus = 0; bus < 256; bus++) {
		re[2 * bus] = ctx | VTD_ROOT_P;
		re[2 * bus + 1] = 0;
	}
	return root;
}

/* 6.8 / 11.4.4 WBF: flush the write buffer where the unit needs it (CAP.RWBF). */
static bool flush_write_buffer(const struct vtd_unit *u)
{
	if (!(u->cap & VTD_CAP_RWBF))
		return true;
	uint32_t sts = rd32(u, VTD_GSTS_REG) & VTD_GSTS_ONE_SHOT_MASK;
	wr32(u, VTD_GCMD_REG, sts | VTD_GCMD_WBF);
	return wait32(u, VTD_GSTS_REG, VTD_GCMD_WBF, 0, "write-buffer flush (GCMD.WBF)");
}

/* 6.5.1: register-based global context-cache, then IOTLB, invalidation. */
static bool invalidate_registers(const struct vtd_unit *u)
{
	uint64_t v;
	wr64(u, VTD_CCMD_REG, VTD_CCMD_ICC | VTD_CCMD_CIRG_GLOBAL);
	if (!wait64_clear(u, VTD_CCMD_REG, VTD_CCMD_ICC, &v,
			  "global context-cache invalidation (CCMD.ICC)"))
		return false;
	if (!VTD_CCMD_CAIG(v)) {
		log_error("VT-d unit at 0x%llx: context-cache invalidation not performed (CCMD "
			  "0x%llx, CAIG 0)",
			  (unsigned long long)u->base, (unsigned long long)v);
		return false;
	}
	unsigned iotlb = VTD_ECAP_IRO(u->ecap) + VTD_IOTLB_REG_OFF;
	uint64_t drain = ((u->cap & VTD_CAP_DRD) ? VTD_IOTLB_DR : 0) |
			 ((u->cap & VTD_CAP_DWD) ? VTD_IOTLB_DW : 0);
	wr64(u, iotlb, VTD_IOTLB_IVT | VTD_IOTLB_IIRG_GLOBAL | drain);
	if (!wait64_clear(u, iotlb, VTD_IOTLB_IVT, &v, "global IOTLB invalidation (IOTLB.IVT)"))
		return false;
	if (!VTD_IOTLB_IAIG(v)) {
		log_error("VT-d unit at 0x%llx: IOTLB invalidation not performed (IOTLB 0x%llx, "
			  "IAIG 0)",
			  (unsigned long long)u->base, (unsigned long long)v);
		return false;
	}
	return true;
}

/* 6.5.2: one 128-bit descriptor at the tail (the tail register is written later). */
static void qi_put(struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
	uint64_t *d = (uint64_t *)(uintptr_t)(u->iq_pa + ((uint64_t)u->iq_tail << VTD_IQ_DESC_SHIFT));
	d[0] = lo;
	d[1] = hi;
	u->iq_tail = (u->iq_tail + 1) % VTD_IQ_ENTRIES;
}

/*
 * 6.5.2.8: an invalidation-wait descriptor whose status write says that
 * every descriptor before it completed; the tail moves, the status word is
 * polled (bounded), and an invalidation-queue error (FSTS.IQE) ends the
 * wait with a log line.
 */
static bool qi_submit_and_wait(struct vtd_unit *u)
{
	volatile uint32_t *status = (volatile uint32_t *)(uintptr_t)u->status_pa;
	*status = 0;
	qi_put(u, VTD_INV_WAIT | VTD_INV_WAIT_SW | VTD_INV_WAIT_FN | VTD_INV_WAIT_DATA(1),
	       u->status_pa);
	if (!(u->ecap & VTD_ECAP_C))
		u->ops->flush_caches(u->ops->ctx);
	wr64(u, VTD_IQT_REG, (uint64_t)u->iq_tail << VTD_IQ_DESC_SHIFT);
	for (unsigned i = 0; i < VTD_WAIT_POLLS; i++) {
		if (*status == 1)
			return true;
		uint32_t fsts = rd32(u, VTD_FSTS_REG);
		if (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE)) {
			log_error("VT-d unit at 0x%llx: invalidation queue error (FSTS 0x%x, IQH "
				  "0x%llx)",
				  (unsigned long long)u->base, fsts,
				  (unsigned long long)rd64(u, VTD_IQH_REG));
			wr32(u, VTD_FSTS_REG, fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE));
			return false;
		}
	}
	timeout(u, "queued invalidation (wait descriptor)", VTD_IQH_REG, rd64(u, VTD_IQH_REG));
	return false;
}

static bool invalidate_queued(struct vtd_unit *u)
{
	uint64_t drain = ((u->cap & VTD_CAP_DRD) ? VTD_INV_IOTLB_DR : 0) |
			 ((u->cap & VTD_CAP_DWD) ? VTD_INV_IOTLB_DW : 0);
	qi_put(u, VTD_INV_CC | VTD_INV_G_GLOBAL, 0);
	qi_put(u, VTD_INV_IOTLB | VTD_INV_G_GLOBAL | drain, 0);
	return qi_submit_and_wait(u);
}

bool vtd_unit_invalidate_all(struct vtd_unit *u)
{
	if (!(u->ecap & VTD_ECAP_C))
		u->ops->flush_caches(u->ops->ctx);
	if (!flush_write_buffer(u))
		return false;
	return u->inval == VTD_INVAL_QUEUED ? invalidate_queued(u) : invalidate_registers(u);
}

/* 6.5.2 / 11.4.10: an empty queue of one page, then GCMD.QIE. */
static bool qi_enable(struct vtd_unit *u, struct page_alloc *pa)
{
	if (!u->iq_pa) {
		u->iq_pa = page_alloc(pa, 1, 1);
		u->status_pa = page_alloc(pa, 1, 1);
		if (!u->iq_pa || !u->status_pa) {
			log_error("VT-d unit at 0x%llx: out of memory for the invalidation queue",
				  (unsigned long long)u->base);
			return false;
		}
	}
	u->iq_tail = 0;
	wr64(u, VTD_IQT_REG, 0);
	wr64(u, VTD_IQA_REG, u->iq_pa | VTD_IQA_QS_4K);
	return gcmd_set(u, VTD_GCMD_QIE, true, "queued invalidation enable (GCMD.QIE)");
}

/*
 * Undoes what the firmware left on: translation (a root table L0 did not
 * build) and a queue L0 does not know.  False on a timeout.
 */
static bool take_over(struct vtd_unit *u)
{
	uint32_t sts = rd32(u, VTD_GSTS_REG);
	if (sts & VTD_GCMD_TE) {
		log_info("VT-d unit at 0x%llx: the firmware left translation on: off while L0 "
			 "programs it",
			 (unsigned long long)u->base);
		if (!gcmd_set(u, VTD_GCMD_TE, false, "translation disable (GCMD.TE)"))
			return false;
	}
	/*
	 * 5.1: interrupt remapping the firmware left on would remap L1's MSIs
	 * through a table L1 cannot see (L0 does no interrupt remapping:
	 * docs/security.md); off before the queue, which it depends on (its
	 * entry-cache invalidations are queued only, 6.5.2).
	 */
	if (sts & VTD_GCMD_IRE) {
		log_info("VT-d unit at 0x%llx: the firmware left interrupt remapping on: off, so "
			 "L1's interrupts arrive as it programs them",
			 (unsigned long long)u->base);
		if (!gcmd_set(u, VTD_GCMD_IRE, false, "interrupt remapping disable (GCMD.IRE)"))
			return false;
	}
	if (sts & VTD_GCMD_QIE) {
		if (!gcmd_set(u, VTD_GCMD_QIE, false, "queued invalidation disable (GCMD.QIE)"))
			return false;
	}
	/*
	 * 11.4.16 / 3.16: protected memory regions the firmware set up for its
	 * own boot-time DMA protection would block L1's devices where the
	 * tables allow them, and L1 no longer sees the unit to undo them.
	 */
	if ((u->cap & (VTD_CAP_PLMR | VTD_CAP_PHMR)) && (rd32(u, VTD_PMEN_REG) & VTD_PMEN_EPM)) {
		log_info("VT-d unit at 0x%llx: the firmware's protected memory regions off (the "
			 "tables protect L0)",
			 (unsigned long long)u->base);
		wr32(u, VTD_PMEN_REG, 0);
		if (!wait32(u, VTD_PMEN_REG, VTD_PMEN_PRS, 0, "protected memory disable (PMEN.EPM)"))
			return false;
	}
	return true;
}

bool vtd_unit_enable(struct vtd_unit *u, uint64_t root_pa, struct page_alloc *pa)
{
	if (!take_over(u))
		return false;
	/* 7.3: faults are polled (vtd_fault.h); the fault event interrupt stays masked. */
	wr32(u, VTD_FECTL_REG, VTD_FECTL_IM);
	if (!(u->ecap & VTD_ECAP_C))
		u->ops->flush_caches(u->ops->ctx);
	/* 11.4.6 then 11.4.4 SRTP: the root table pointer is latched. */
	wr64(u, VTD_RTADDR_REG, root_pa | VTD_RTADDR_TTM_LEGACY);
	uint32_t sts = rd32(u, VTD_GSTS_REG) & VTD_GSTS_ONE_SHOT_MASK;
	wr32(u, VTD_GCMD_REG, sts | VTD_GCMD_SRTP);
	if (!wait32(u, VTD_GSTS_REG, VTD_GCMD_SRTP, VTD_GCMD_SRTP,
		    "root table pointer set (GCMD.SRTP)"))
		return false;
	if (u->inval == VTD_INVAL_QUEUED && !qi_enable(u, pa))
		return false;
	/* 6.5: the caches hold nothing of the old root table before TE. */
	if (!vtd_unit_invalidate_all(u)) {
		vtd_unit_disable(u);
		return false;
	}
	if (!gcmd_set(u, VTD_GCMD_TE, true, "translation enable (GCMD.TE)")) {
		vtd_unit_disable(u);
		return false;
	}
	u->enabled = true;
	return true;
}

bool vtd_unit_disable(struct vtd_unit *u)
{
	bool ok = true;
	if (rd32(u, VTD_GSTS_REG) & VTD_GCMD_TE)
		ok = gcmd_set(u, VTD_GCMD_TE, false, "translation disable (GCMD.TE)");
	u->enabled = false;
	if (rd32(u, VTD_GSTS_REG) & VTD_GCMD_QIE)
		ok = gcmd_set(u, VTD_GCMD_QIE, false, "queued invalidation disable (GCMD.QIE)") &&
		     ok;
	return ok;
}
