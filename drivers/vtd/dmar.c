/*
 * dmar.c - parsing the ACPI DMA Remapping Reporting table (see dmar.h).
 *
 * The table (Intel VT-d specification rev. 4.x, 8.1) is the ACPI header,
 * the host address width, flags and 10 reserved bytes (48 bytes in all),
 * then remapping structures, each opening with a 16-bit type and a 16-bit
 * length (8.2): DRHD (8.3), RMRR (8.4), ATSR (8.5), RHSA (8.6), ANDD
 * (8.7), SATC (8.8) and types a later revision may add, which an OS must
 * skip by their length.  DRHDs and RMRRs end in device scopes (8.3.1):
 * type, length, reserved, enumeration ID, start bus, then (device,
 * function) pairs.
 *
 * Firmware writes this table and firmware has bugs, so every length is
 * checked against what holds it before anything behind it is read: the
 * table's against the buffer, a structure's against the table and its own
 * type's minimum, a scope's against its structure.  Every length is at
 * least 4 (a structure) or 8 (a scope), so each walk moves forward and
 * ends.  What L0 then relies on is checked as the specification states
 * it: register bases and RMRRs 4 KiB aligned (8.3, 8.4), an RMRR's limit
 * not below its base; and two RMRRs that overlap but differ are refused as
 * a broken table, since L0 maps each one and the device scopes would
 * disagree.  The same range listed twice (real firmware repeats a USB or
 * graphics region per device) is accepted.
 */
#include "dmar.h"

#include "acpi.h"
#include "drivers/serial/format.h"

/* VT-d 8.1: the ACPI header, host address width, flags, 10 reserved bytes. */
#define DMAR_HDR_LEN 48
#define DMAR_OFF_HAW 36
#define DMAR_OFF_FLAGS 37

/* VT-d 8.2: the remapping structure types. */
enum {
	DMAR_DRHD = 0,
	DMAR_RMRR = 1,
	DMAR_ATSR = 2,
	DMAR_RHSA = 3,
	DMAR_ANDD = 4,
	DMAR_SATC = 5,
};

#define DRHD_INCLUDE_PCI_ALL 0x01
#define PAGE_MASK_4K 0xfffull

/* VT-d 8.3.1: type, length, reserved (2), enumeration ID, start bus, path. */
#define SCOPE_HDR_LEN 6
#define SCOPE_MIN_LEN 8

struct dmar_parser {
	const uint8_t *t;
	struct dmar_info *out;
	char *err;
	size_t errlen;
};

/*
 * One error line, "DMAR: <what> at offset 0x<off>: <rule>", in err when
 * the caller gave one, else the rule alone (a static string).
 */
static const char *bad(struct dmar_parser *p, const char *what, size_t off, const char *rule)
{
	if (!p->err || !p->errlen)
		return rule;
	fmt_snprintf(p->err, p->errlen, "DMAR: %s at offset 0x%zx: %s", what, off, rule);
	return p->err;
}

static const char *struct_name(uint16_t type)
{
	switch (type) {
	case DMAR_DRHD:
		return "DRHD";
	case DMAR_RMRR:
		return "RMRR";
	case DMAR_ATSR:
		return "ATSR";
	case DMAR_RHSA:
		return "RHSA";
	case DMAR_ANDD:
		return "ANDD";
	case DMAR_SATC:
		return "SATC";
	}
	return "structure";
}

/* The fixed part of each structure (VT-d 8.3-8.8), the type and length included. */
static size_t struct_min_len(uint16_t type)
{
	switch (type) {
	case DMAR_DRHD:
		return 16;
	case DMAR_RMRR:
		return 24;
	case DMAR_ATSR:
		return 8;
	case DMAR_RHSA:
		return 20;
	case DMAR_ANDD:
		return 8;
	case DMAR_SATC:
		return 8;
	}
	return 4;
}

/*
 * The device scopes of the structure at [s, s + len), from offset `from`
 * inside it, appended to out->scope[]; *first and *n say where they went.
 */
static const char *parse_scopes(struct dmar_parser *p, size_t s, size_t len, size_t from,
				uint32_t *first, uint32_t *n)
{
	struct dmar_info *out = p->out;
	*first = (uint32_t)out->nscopes;
	*n = 0;
	for (size_t off = s + from; off < s + len;) {
		if (s + len - off < SCOPE_HDR_LEN)
			return bad(p, "device scope", off, "runs past its structure");
		const uint8_t *d = p->t + off;
		size_t slen = d[1];
		if (slen < SCOPE_MIN_LEN)
			return bad(p, "device scope", off, "length below 8");
		if (slen > s + len - off)
			return bad(p, "device scope", off, "runs past its structure");
		if ((slen - SCOPE_HDR_LEN) % 2)
			return bad(p, "device scope", off, "path is not (device, function) pairs");
		if (out->nscopes >= DMAR_MAX_SCOPES)
			return bad(p, "device scope", off,
				   "more device scopes than L0 keeps (128)");
		struct dmar_scope *sc = &out->scope[out->nscopes++];
		sc->type = d[0];
		sc->enum_id = d[4];
		sc->bus = d[5];
		sc->path_len = (uint8_t)((slen - SCOPE_HDR_LEN) / 2);
		sc->dev = d[6];
		sc->func = d[7];
		(*n)++;
		off += slen;
	}
	return NULL;
}

/* VT-d 8.3: flags, size, segment, register base, then device scopes. */
static const char *parse_drhd(struct dmar_parser *p, size_t s, size_t len)
{
	struct dmar_info *out = p->out;
	const uint8_t *d = p->t + s;
	if (out->nunits >= DMAR_MAX_UNITS)
		return bad(p, "DRHD", s, "more remapping units than L0 keeps (16)");
	uint64_t base = acpi_le64(d + 8);
	if (base & PAGE_MASK_4K)
		return bad(p, "DRHD", s, "register base not 4 KiB aligned");
	struct dmar_unit *u = &out->unit[out->nunits];
	u->reg_base = base;
	u->reg_size = 4096ull << (d[5] & 0xf);
	u->segment = acpi_le16(d + 6);
	u->include_pci_all = d[4] & DRHD_INCLUDE_PCI_ALL;
	const char *e = parse_scopes(p, s, len, 16, &u->first_scope, &u->nscopes);
	if (e)
		return e;
	if (!u->nscopes && !u->include_pci_all)
		out->nunits_noscope++;
	out->nunits++;
	return NULL;
}

/* VT-d 8.4: reserved, segment, base, limit (inclusive), then device scopes. */
static const char *parse_rmrr(struct dmar_parser *p, size_t s, size_t len)
{
	struct dmar_info *out = p->out;
	const uint8_t *d = p->t + s;
	if (out->nrmrrs >= DMAR_MAX_RMRRS)
		return bad(p, "RMRR", s, "more reserved regions than L0 keeps (32)");
	uint64_t base = acpi_le64(d + 8), limit = acpi_le64(d + 16);
	if (base & PAGE_MASK_4K)
		return bad(p, "RMRR", s, "base not 4 KiB aligned");
	if ((limit & PAGE_MASK_4K) != PAGE_MASK_4K)
		return bad(p, "RMRR", s, "limit + 1 not 4 KiB aligned");
	if (limit < base)
		return bad(p, "RMRR", s, "limit below base");
	/* The same range again (firmware lists it once per device): kept, mapped once more. */
	for (size_t i = 0; i < out->nrmrrs; i++)
		if (out->rmrr[i].base <= limit && out->rmrr[i].limit >= base &&
		    (out->rmrr[i].base != base || out->rmrr[i].limit != limit))
			return bad(p, "RMRR", s, "overlaps an earlier RMRR");
	struct dmar_rmrr *r = &out->rmrr[out->nrmrrs];
	r->base = base;
	r->limit = limit;
	r->segment = acpi_le16(d + 6);
	const char *e = parse_scopes(p, s, len, 24, &r->first_scope, &r->nscopes);
	if (e)
		return e;
	out->nrmrrs++;
	return NULL;
}

static void count_other(struct dmar_info *out, uint16_t type)
{
	switch (type) {
	case DMAR_ATSR:
		out->natsr++;
		break;
	case DMAR_RHSA:
		out->nrhsa++;
		break;
	case DMAR_ANDD:
		out->nandd++;
		break;
	case DMAR_SATC:
		out->nsatc++;
		break;
	default:
		out->nunknown++; /* VT-d 8.2: skipped by its length */
		break;
	}
}

static void clear_info(struct dmar_info *out)
{
	out->host_addr_width = 0;
	out->flags = 0;
	out->nunits = 0;
	out->nunits_noscope = 0;
	out->nrmrrs = 0;
	out->nscopes = 0;
	out->natsr = 0;
	out->nrhsa = 0;
	out->nandd = 0;
	out->nsatc = 0;
	out->nunknown = 0;
}

/* ACPI 6.5 5.2.6 (the header) and VT-d 8.1 (what follows it). */
static const char *parse_header(struct dmar_parser *p, size_t len, size_t *tlen)
{
	const uint8_t *t = p->t;
	if (len < DMAR_HDR_LEN)
		return bad(p, "table", 0, "shorter than the 48-byte DMAR header");
	if (t[0] != 'D' || t[1] != 'M' || t[2] != 'A' || t[3] != 'R')
		return bad(p, "table", 0, "signature is not DMAR");
	uint32_t hl = acpi_le32(t + 4);
	if (hl < DMAR_HDR_LEN)
		return bad(p, "table", 4, "length below the 48-byte DMAR header");
	if (hl > len)
		return bad(p, "table", 4, "length runs past the buffer");
	if (acpi_sum(t, hl))
		return bad(p, "table", 9, "checksum wrong");
	if (t[DMAR_OFF_HAW] > 63)
		return bad(p, "table", DMAR_OFF_HAW, "host address width above 64 bits");
	p->out->host_addr_width = (uint8_t)(t[DMAR_OFF_HAW] + 1);
	p->out->flags = t[DMAR_OFF_FLAGS];
	*tlen = hl;
	return NULL;
}

const char *dmar_parse(const void *table, size_t len, struct dmar_info *out, char *err,
		       size_t errlen)
{
	struct dmar_parser p = {.t = table, .out = out, .err = err, .errlen = errlen};
	size_t tlen;
	if (err && errlen)
		err[0] = '\0';
	clear_info(out);
	if (!table)
		return bad(&p, "table", 0, "no table");
	const char *e = parse_header(&p, len, &tlen);
	if (e)
		return e;

	for (size_t off = DMAR_HDR_LEN; off < tlen;) {
		if (tlen - off < 4)
			return bad(&p, "structure", off, "header runs past the table");
		uint16_t type = acpi_le16(p.t + off);
		size_t slen = acpi_le16(p.t + off + 2);
		if (slen < struct_min_len(type))
			return bad(&p, struct_name(type), off, "length below its minimum");
		if (slen > tlen - off)
			return bad(&p, struct_name(type), off, "runs past the table");
		if (type == DMAR_DRHD)
			e = parse_drhd(&p, off, slen);
		else if (type == DMAR_RMRR)
			e = parse_rmrr(&p, off, slen);
		else
			count_other(out, type);
		if (e)
			return e;
		off += slen;
	}
	if (!out->nunits)
		return bad(&p, "table", DMAR_HDR_LEN, "no DRHD: no remapping unit to program");
	return NULL;
}
