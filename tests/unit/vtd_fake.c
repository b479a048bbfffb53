/*
 * vtd_fake.c - the fake VT-d register file (vtd_fake.h).
 */
#include "vtd_fake.h"

#include "drivers/vtd/vtd_regs.h"

#include <string.h>

uint64_t vtd_fake_get64(const struct vtd_fake *f, unsigned off)
{
	uint64_t v;
	memcpy(&v, f->reg + off, 8);
	return v;
}

uint32_t vtd_fake_get32(const struct vtd_fake *f, unsigned off)
{
	uint32_t v;
	memcpy(&v, f->reg + off, 4);
	return v;
}

static void set64(struct vtd_fake *f, unsigned off, uint64_t v)
{
	memcpy(f->reg + off, &v, 8);
}

static void set32(struct vtd_fake *f, unsigned off, uint32_t v)
{
	memcpy(f->reg + off, &v, 4);
}

static void event(struct vtd_fake *f, unsigned ev)
{
	if (f->nev < sizeof(f->ev) / sizeof(f->ev[0]))
		f->ev[f->nev++] = ev;
}

int vtd_fake_find(const struct vtd_fake *f, unsigned ev)
{
	for (unsigned i = 0; i < f->nev; i++)
		if (f->ev[i] == ev)
			return (int)i;
	return -1;
}

static uint32_t gsts(const struct vtd_fake *f)
{
	return vtd_fake_get32(f, VTD_GSTS_REG);
}

static void set_gsts_bit(struct vtd_fake *f, uint32_t bit, bool on)
{
	if (f->stuck_gsts & bit)
		return;
	uint32_t s = gsts(f);
	set32(f, VTD_GSTS_REG, on ? s | bit : s & ~bit);
}

static void gcmd(struct vtd_fake *f, uint32_t v)
{
	uint32_t s = gsts(f);
	if (v & VTD_GCMD_SRTP) {
		f->latched_root = vtd_fake_get64(f, VTD_RTADDR_REG);
		set_gsts_bit(f, VTD_GCMD_SRTP, true);
		event(f, VF_SRTP);
	}
	if (v & VTD_GCMD_WBF)
		event(f, VF_WBF); /* done at once: WBFS stays clear */
	if ((v ^ s) & VTD_GCMD_IRE) {
		bool on = v & VTD_GCMD_IRE;
		set_gsts_bit(f, VTD_GCMD_IRE, on);
		event(f, on ? VF_IRE_ON : VF_IRE_OFF);
	}
	if ((v ^ s) & VTD_GCMD_QIE) {
		bool on = v & VTD_GCMD_QIE;
		if (!on && (gsts(f) & VTD_GCMD_IRE))
			f->bad++;
		if (on)
			set64(f, VTD_IQH_REG, 0);
		set_gsts_bit(f, VTD_GCMD_QIE, on);
		event(f, on ? VF_QIE_ON : VF_QIE_OFF);
	}
	if ((v ^ s) & VTD_GCMD_TE) {
		bool on = v & VTD_GCMD_TE;
		if (on && !(s & VTD_GCMD_SRTP))
			f->bad++;
		set_gsts_bit(f, VTD_GCMD_TE, on);
		event(f, on ? VF_TE_ON : VF_TE_OFF);
	}
}

/* Runs the queue from IQH to IQT (6.5.2). */
static void run_queue(struct vtd_fake *f)
{
	if (!(gsts(f) & VTD_GCMD_QIE))
		return; /* the tail is set up before the queue is enabled */
	if (f->qi_error) {
		set32(f, VTD_FSTS_REG, vtd_fake_get32(f, VTD_FSTS_REG) | VTD_FSTS_IQE);
		return;
	}
	uint64_t iqa = vtd_fake_get64(f, VTD_IQA_REG) & ~0xfffull;
	unsigned head = (unsigned)(vtd_fake_get64(f, VTD_IQH_REG) >> VTD_IQ_DESC_SHIFT);
	unsigned tail = (unsigned)(vtd_fake_get64(f, VTD_IQT_REG) >> VTD_IQ_DESC_SHIFT);
	while (head != tail) {
		const uint64_t *d = (const uint64_t *)(uintptr_t)(iqa + 16ull * head);
		switch (d[0] & 0xf) {
		case VTD_INV_CC:
			f->last_cc = d[0];
			event(f, VF_CC_GLOBAL);
			break;
		case VTD_INV_IOTLB:
			f->last_iotlb = d[0];
			event(f, VF_IOTLB_GLOBAL);
			break;
		case VTD_INV_WAIT:
			if (d[0] & VTD_INV_WAIT_SW)
				*(volatile uint32_t *)(uintptr_t)d[1] = (uint32_t)(d[0] >> 32);
			event(f, VF_QI_WAIT);
			break;
		default:
			f->bad++;
		}
		head = (head + 1) % VTD_IQ_ENTRIES;
	}
	set64(f, VTD_IQH_REG, (uint64_t)head << VTD_IQ_DESC_SHIFT);
}

static uint32_t rd32(void *ctx, uint64_t base, unsigned off)
{
	struct vtd_fake *f = ctx;
	f->reads++;
	if (base != f->base || off + 4 > VTD_FAKE_REG_BYTES)
		return ~0u;
	return vtd_fake_get32(f, off);
}

static uint64_t rd64(void *ctx, uint64_t base, unsigned off)
{
	struct vtd_fake *f = ctx;
	f->reads++;
	if (base != f->base || off + 8 > VTD_FAKE_REG_BYTES)
		return ~0ull;
	return vtd_fake_get64(f, off);
}

static void wr32(void *ctx, uint64_t base, unsigned off, uint32_t v)
{
	struct vtd_fake *f = ctx;
	f->writes++;
	if (base != f->base || off + 4 > VTD_FAKE_REG_BYTES)
		return;
	unsigned fro = VTD_CAP_FRO(vtd_fake_get64(f, VTD_CAP_REG));
	if (off == VTD_GCMD_REG) {
		gcmd(f, v);
	} else if (off == VTD_FSTS_REG) {
		set32(f, off, vtd_fake_get32(f, off) & ~(v & VTD_FSTS_CLEAR_ALL)); /* RW1C */
	} else if (off == VTD_PMEN_REG) {
		/* EPM, and PRS following it unless stuck_pmen. */
		uint32_t prs = (v & VTD_PMEN_EPM) || f->stuck_pmen ? VTD_PMEN_PRS : 0;
		set32(f, off, (v & VTD_PMEN_EPM) | prs);
		event(f, VF_PMEN);
	} else if (off == VTD_FECTL_REG) {
		set32(f, off, v);
		event(f, VF_FECTL);
	} else if (off >= fro && (off - fro) % 16 == 12) {
		if (v & (1u << 31)) { /* F, RW1C; PPF: some record still has F */
			set32(f, off, vtd_fake_get32(f, off) & ~(1u << 31));
			uint64_t cap = vtd_fake_get64(f, VTD_CAP_REG);
			bool any = false;
			for (unsigned i = 0; i < VTD_CAP_NFR(cap); i++)
				any |= (vtd_fake_get32(f, fro + 16 * i + 12) >> 31) & 1;
			uint32_t fsts = vtd_fake_get32(f, VTD_FSTS_REG);
			set32(f, VTD_FSTS_REG, any ? fsts : fsts & ~VTD_FSTS_PPF);
		}
	} else {
		set32(f, off, v);
	}
}

static void wr64(void *ctx, uint64_t base, unsigned off, uint64_t v)
{
	struct vtd_fake *f = ctx;
	f->writes++;
	if (base != f->base || off + 8 > VTD_FAKE_REG_BYTES)
		return;
	unsigned iotlb = VTD_ECAP_IRO(vtd_fake_get64(f, VTD_ECAP_REG)) + VTD_IOTLB_REG_OFF;
	if (off == VTD_RTADDR_REG) {
		set64(f, off, v);
		set_gsts_bit(f, VTD_GCMD_SRTP, false); /* RTPS clears until the next SRTP */
		event(f, VF_RTADDR);
	} else if (off == VTD_CCMD_REG && (v & VTD_CCMD_ICC)) {
		if (gsts(f) & VTD_GCMD_QIE)
			f->bad++;
		f->last_cc = v;
		set64(f, off, (v & ~VTD_CCMD_ICC & ~(3ull << 59)) | (1ull << 59));
		event(f, VF_CC_GLOBAL);
	} else if (off == iotlb && (v & VTD_IOTLB_IVT)) {
		if (gsts(f) & VTD_GCMD_QIE)
			f->bad++;
		f->last_iotlb = v;
		set64(f, off, (v & ~VTD_IOTLB_IVT) | (f->iotlb_no_iaig ? 0 : 1ull << 57));
		event(f, VF_IOTLB_GLOBAL);
	} else if (off == VTD_IQT_REG) {
		set64(f, off, v);
		run_queue(f);
	} else {
		set64(f, off, v);
	}
}

static void flush(void *ctx)
{
	event(ctx, VF_FLUSH_CACHES);
}

static uint64_t now(void *ctx)
{
	return ((struct vtd_fake *)ctx)->now;
}

const struct vtd_ops vtd_fake_ops = {
	.read32 = rd32, .read64 = rd64, .write32 = wr32, .write64 = wr64,
	.flush_caches = flush, .now = now,
};

struct vtd_ops vtd_fake_bind(struct vtd_fake *f)
{
	struct vtd_ops o = vtd_fake_ops;
	o.ctx = f;
	return o;
}

void vtd_fake_init(struct vtd_fake *f, uint64_t base, uint64_t cap, uint64_t ecap)
{
	memset(f, 0, sizeof(*f));
	f->base = base;
	cap = (cap & ~(0x3ffull << 24)) | ((uint64_t)VTD_FAKE_FRO << 24);
	ecap = (ecap & ~(0x3ffull << 8)) | ((uint64_t)VTD_FAKE_IRO << 8);
	set32(f, VTD_VER_REG, 0x10);
	set64(f, VTD_CAP_REG, cap);
	set64(f, VTD_ECAP_REG, ecap);
}

void vtd_fake_fault(struct vtd_fake *f, unsigned idx, uint16_t sid, uint64_t addr, unsigned reason,
		    bool read)
{
	unsigned off = VTD_CAP_FRO(vtd_fake_get64(f, VTD_CAP_REG)) + 16 * idx;
	set64(f, off, addr & ~0xfffull);
	set64(f, off + 8, VTD_FRCD_HI_F | (read ? VTD_FRCD_HI_T1 : 0) | ((uint64_t)reason << 32) | sid);
	uint32_t fsts = vtd_fake_get32(f, VTD_FSTS_REG);
	if (!(fsts & VTD_FSTS_PPF))
		fsts = (fsts & ~0xff00u) | (idx << 8);
	set32(f, VTD_FSTS_REG, fsts | VTD_FSTS_PPF);
}
