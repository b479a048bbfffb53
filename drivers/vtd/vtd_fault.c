/*
 * vtd_fault.c - reading, logging and clearing a VT-d unit's fault records
 * (vtd_fault.h).
 */
#include "vtd_fault.h"

#include "drivers/serial/log.h"
#include "vtd_regs.h"

/* 7.1.3, Table "Non-recoverable fault reasons" (legacy mode). */
static const char *const reason_names[] = {
	[0x1] = "root entry not present",
	[0x2] = "context entry not present",
	[0x3] = "context entry invalid",
	[0x4] = "address beyond the address width",
	[0x5] = "write to a page not mapped for write",
	[0x6] = "read of a page not mapped for read",
	[0x7] = "error reading a second-level entry",
	[0x8] = "error reading the root entry",
	[0x9] = "error reading the context entry",
	[0xa] = "reserved bit in the root entry",
	[0xb] = "reserved bit in the context entry",
	[0xc] = "reserved bit in a second-level entry",
	[0xd] = "translation type blocked by the context entry",
};

const char *vtd_fault_reason_name(unsigned reason)
{
	if (reason < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[reason])
		return reason_names[reason];
	return "unknown reason";
}

/* Starts a new window when the old one is over, and says what it held back. */
static void rate_window(struct vtd_unit *u, uint64_t now)
{
	if (now - u->log_window_start < VTD_FAULT_LOG_WINDOW)
		return;
	if (u->suppressed)
		log_warn("VT-d unit at 0x%llx: %llu more DMA faults suppressed",
			 (unsigned long long)u->base, (unsigned long long)u->suppressed);
	u->log_window_start = now;
	u->logged_in_window = 0;
	u->suppressed = 0;
}

static void report(struct vtd_unit *u, const struct vtd_fault *f)
{
	if (u->logged_in_window >= VTD_FAULT_LOG_BURST) {
		u->suppressed++;
		return;
	}
	u->logged_in_window++;
	log_warn("VT-d unit at 0x%llx: DMA fault: source %02x:%02x.%u %s at 0x%llx blocked, "
		 "reason 0x%x (%s)",
		 (unsigned long long)u->base, f->source >> 8, (f->source >> 3) & 0x1f,
		 f->source & 7, f->read ? "read" : "write", (unsigned long long)f->address,
		 f->reason, vtd_fault_reason_name(f->reason));
}

unsigned vtd_fault_poll(struct vtd_unit *u, struct vtd_fault *out, unsigned max_out)
{
	const struct vtd_ops *o = u->ops;
	rate_window(u, o->now(o->ctx));
	uint32_t fsts = o->read32(o->ctx, u->base, VTD_FSTS_REG);
	if (!(fsts & (VTD_FSTS_PPF | VTD_FSTS_PFO)))
		return 0;
	unsigned n = 0;
	unsigned nfr = VTD_CAP_NFR(u->cap);
	unsigned idx = VTD_FSTS_FRI(fsts) % nfr;
	/* 7.2.1: from FRI on, each record with F set, until one without F. */
	for (unsigned i = 0; i < nfr; i++, idx = (idx + 1) % nfr) {
		unsigned off = VTD_CAP_FRO(u->cap) + 16 * idx;
		uint64_t hi = o->read64(o->ctx, u->base, off + 8);
		if (!(hi & VTD_FRCD_HI_F))
			break;
		uint64_t lo = o->read64(o->ctx, u->base, off);
		struct vtd_fault f = {
			.source = (uint16_t)VTD_FRCD_HI_SID(hi),
			.address = VTD_FRCD_LO_FI(lo),
			.reason = VTD_FRCD_HI_FR(hi),
			.read = hi & VTD_FRCD_HI_T1,
		};
		/* F is RW1C in the record's top doubleword (bit 127). */
		o->write32(o->ctx, u->base, off + 12, (uint32_t)(VTD_FRCD_HI_F >> 32));
		if (out && n < max_out)
			out[n] = f;
		n++;
		u->faults++;
		report(u, &f);
	}
	if (fsts & VTD_FSTS_PFO) {
		log_warn("VT-d unit at 0x%llx: fault records overflowed: some DMA faults were not "
			 "recorded",
			 (unsigned long long)u->base);
		o->write32(o->ctx, u->base, VTD_FSTS_REG, VTD_FSTS_PFO);
	}
	return n;
}
