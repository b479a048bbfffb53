/*
 * acpi.c - finding one ACPI table and hiding it (see acpi.h).
 *
 * ACPI 6.5, 5.2.5: the RSDP holds the RSDT's 32-bit address, and from
 * revision 2 on also its length, the XSDT's 64-bit address and an
 * extended checksum over all 36 bytes (the first checksum covers the
 * first 20).  The RSDT (5.2.7) and XSDT (5.2.8) are a 36-byte header
 * (5.2.6) followed by 4- or 8-byte table addresses.  A table's checksum
 * byte (header offset 9) makes all its bytes sum to zero modulo 256.
 *
 * Everything here is firmware data read before L1 could have touched it,
 * but firmware is still not trusted with L0's safety: every address goes
 * through the caller's map callback, which refuses what L0 may not read,
 * and every length is checked before the bytes behind it are read.  The
 * XSDT is preferred where there is one (5.2.5.3: an OS uses the XSDT
 * when the RSDP revision says it exists).
 *
 * Hiding a table as Xen does for dom0's DMAR: the signature changes, so
 * that an OS walking the XSDT finds no DMAR, and the checksum byte is
 * recomputed, so that the renamed table is still a valid one.
 */
#include "acpi.h"

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define HDR_OFF_LEN 4
#define HDR_OFF_CHECKSUM 9

uint8_t acpi_sum(const void *b, size_t len)
{
	const uint8_t *p = b;
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static bool sig_is(const uint8_t *p, const char *sig)
{
	return p[0] == (uint8_t)sig[0] && p[1] == (uint8_t)sig[1] && p[2] == (uint8_t)sig[2] &&
	       p[3] == (uint8_t)sig[3];
}

static uint64_t fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return 0;
}

/* The reasons map_root gives, one set for each root table. */
struct root_kind {
	const char *sig;
	size_t entry; /* bytes per table address */
	const char *unreadable, *bad_sig, *short_len, *bad_sum, *none;
};

static const struct root_kind xsdt = {"XSDT",
				      8,
				      "XSDT not readable",
				      "XSDT signature wrong",
				      "XSDT length below its header",
				      "XSDT checksum wrong",
				      "the XSDT"};
static const struct root_kind rsdt = {"RSDT",
				      4,
				      "RSDT not readable",
				      "RSDT signature wrong",
				      "RSDT length below its header",
				      "RSDT checksum wrong",
				      "the RSDT"};

/*
 * The root table at pa: its header checked and the whole of it mapped.
 * NULL with *why set otherwise.
 */
static const uint8_t *map_root(uint64_t pa, const struct root_kind *k, acpi_map_fn map, void *ctx,
			       uint32_t *len, const char **why)
{
	const uint8_t *h = map(pa, ACPI_HEADER_LEN, ctx);
	if (!h) {
		*why = k->unreadable;
		return NULL;
	}
	if (!sig_is(h, k->sig)) {
		*why = k->bad_sig;
		return NULL;
	}
	uint32_t l = acpi_le32(h + HDR_OFF_LEN);
	if (l < ACPI_HEADER_LEN) {
		*why = k->short_len;
		return NULL;
	}
	const uint8_t *t = map(pa, l, ctx);
	if (!t) {
		*why = k->unreadable;
		return NULL;
	}
	if (acpi_sum(t, l)) {
		*why = k->bad_sum;
		return NULL;
	}
	*len = l;
	return t;
}

uint64_t acpi_find_table(uint64_t rsdp_pa, const char *sig, acpi_map_fn map, void *ctx,
			 uint32_t *len, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (!rsdp_pa || !sig || !map)
		return fail(why, "no RSDP");
	const uint8_t *rsdp = map(rsdp_pa, RSDP_V1_LEN, ctx);
	if (!rsdp)
		return fail(why, "RSDP not readable");
	if (!sig_is(rsdp, "RSD ") || !sig_is(rsdp + 4, "PTR "))
		return fail(why, "RSDP signature wrong");
	if (acpi_sum(rsdp, RSDP_V1_LEN))
		return fail(why, "RSDP checksum wrong");

	/* 5.2.5.3: revision 2+ has the XSDT address at 24 and a checksum over 36 bytes. */
	uint64_t root = 0;
	const struct root_kind *k = &xsdt;
	if (rsdp[15] >= 2) {
		rsdp = map(rsdp_pa, RSDP_V2_LEN, ctx);
		if (!rsdp)
			return fail(why, "RSDP not readable");
		if (acpi_sum(rsdp, RSDP_V2_LEN))
			return fail(why, "RSDP extended checksum wrong");
		root = acpi_le64(rsdp + 24);
	}
	if (!root) {
		root = acpi_le32(rsdp + 16);
		k = &rsdt;
	}
	if (!root)
		return fail(why, "RSDP names no RSDT or XSDT");

	uint32_t rlen;
	const uint8_t *rt = map_root(root, k, map, ctx, &rlen, why);
	if (!rt)
		return 0;
	for (size_t off = ACPI_HEADER_LEN; off + k->entry <= rlen; off += k->entry) {
		uint64_t pa = k->entry == 8 ? acpi_le64(rt + off) : acpi_le32(rt + off);
		if (!pa)
			continue;
		const uint8_t *h = map(pa, ACPI_HEADER_LEN, ctx);
		if (!h || !sig_is(h, sig))
			continue; /* a table L0 may not read is not the one it looks for */
		uint32_t l = acpi_le32(h + HDR_OFF_LEN);
		if (l < ACPI_HEADER_LEN)
			return fail(why, "table length below its header");
		if (len)
			*len = l;
		return pa;
	}
	if (sig_is((const uint8_t *)sig, "DMAR"))
		return fail(why, k == &xsdt ? "no DMAR in the XSDT" : "no DMAR in the RSDT");
	return fail(why, k == &xsdt ? "no such table in the XSDT" : "no such table in the RSDT");
}

bool acpi_hide_table(void *t, size_t len, const char *new_sig)
{
	uint8_t *p = t;
	if (!p || !new_sig || len < ACPI_HEADER_LEN || acpi_le32(p + HDR_OFF_LEN) != len)
		return false;
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)new_sig[i];
	p[HDR_OFF_CHECKSUM] = 0;
	p[HDR_OFF_CHECKSUM] = (uint8_t)(0 - acpi_sum(p, len));
	return true;
}
