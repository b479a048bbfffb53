/*
 * fuzz_dmar.c - the DMAR parser (drivers/vtd/dmar.c) over arbitrary
 * bytes, and the hiding of the table (drivers/vtd/acpi.c) after it.
 *
 * The input: u8 mode, then the table.  With mode bit 0 set the harness
 * first makes the header pass (signature "DMAR", length = the bytes
 * given, checksum right), so that the fuzzer spends its time on the
 * structures behind it rather than on guessing checksums; with it clear
 * the bytes are parsed as they are.  The table lies in a heap buffer of
 * exactly its size: ASan reports any read past it.
 *
 * Oracles, on every input:
 *   - the result is NULL or an error line "DMAR: ... at offset 0x...: ..."
 *     that fits the buffer; without a buffer, the same verdict, and the
 *     rule alone, which ends the full line;
 *   - an accepted table holds what dmar.h promises: the header's bytes sum
 *     to zero, 1 to 16 units with 4 KiB aligned registers, at most 32
 *     RMRRs, each aligned, limit not below base, no two overlapping, at
 *     most 128 scopes, each unit's and RMRR's scopes inside scope[],
 *     a host address width of 1 to 64 bits;
 *   - hidden (renamed XMAR, checksum fixed) the table sums to zero and the
 *     parser refuses it for its signature.
 */
#include "common.h"

#include "drivers/vtd/acpi.h"
#include "drivers/vtd/dmar.h"

#include <stdlib.h>
#include <string.h>

static struct dmar_info info, info2;

static void check_accepted(const uint8_t *t, size_t n)
{
	uint32_t hl = acpi_le32(t + 4);
	FUZZ_ASSERT(hl >= 48 && hl <= n, "length %u of %zu", hl, n);
	FUZZ_ASSERT(acpi_sum(t, hl) == 0, "checksum");
	FUZZ_ASSERT(info.host_addr_width >= 1 && info.host_addr_width <= 64, "HAW");
	FUZZ_ASSERT(info.nunits >= 1 && info.nunits <= DMAR_MAX_UNITS, "%zu units", info.nunits);
	FUZZ_ASSERT(info.nrmrrs <= DMAR_MAX_RMRRS, "%zu RMRRs", info.nrmrrs);
	FUZZ_ASSERT(info.nscopes <= DMAR_MAX_SCOPES, "%zu scopes", info.nscopes);
	FUZZ_ASSERT(info.nunits_noscope <= info.nunits, "noscope");
	for (size_t i = 0; i < info.nunits; i++) {
		const struct dmar_unit *u = &info.unit[i];
		FUZZ_ASSERT(!(u->reg_base & 0xfff), "unit %zu base", i);
		FUZZ_ASSERT(u->reg_size >= 4096 && u->reg_size <= 4096ull << 15, "unit %zu size",
			    i);
		FUZZ_ASSERT(u->first_scope + u->nscopes <= info.nscopes, "unit %zu scopes", i);
	}
	for (size_t i = 0; i < info.nrmrrs; i++) {
		const struct dmar_rmrr *r = &info.rmrr[i];
		FUZZ_ASSERT(!(r->base & 0xfff) && (r->limit & 0xfff) == 0xfff, "RMRR %zu", i);
		FUZZ_ASSERT(r->limit >= r->base, "RMRR %zu limit", i);
		FUZZ_ASSERT(r->first_scope + r->nscopes <= info.nscopes, "RMRR %zu scopes", i);
		/* Apart, or the same range listed again (accepted: dmar.c). */
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(info.rmrr[j].limit < r->base || info.rmrr[j].base > r->limit ||
					    (info.rmrr[j].base == r->base &&
					     info.rmrr[j].limit == r->limit),
				    "RMRRs %zu and %zu overlap", j, i);
	}
	for (size_t i = 0; i < info.nscopes; i++)
		FUZZ_ASSERT(info.scope[i].path_len >= 1, "scope %zu path", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	uint8_t mode = data[0];
	size_t n = size - 1;
	uint8_t *t = malloc(n ? n : 1);
	if (!t)
		return 0;
	memcpy(t, data + 1, n);
	if ((mode & 1) && n >= ACPI_HEADER_LEN) {
		memcpy(t, "DMAR", 4);
		t[4] = (uint8_t)n;
		t[5] = (uint8_t)(n >> 8);
		t[6] = (uint8_t)(n >> 16);
		t[7] = (uint8_t)(n >> 24);
		t[9] = 0;
		t[9] = (uint8_t)(0 - acpi_sum(t, n));
	}

	char err[96];
	const char *e = dmar_parse(t, n, &info, err, sizeof(err));
	const char *rule = dmar_parse(t, n, &info2, NULL, 0);
	FUZZ_ASSERT(!e == !rule, "with and without a buffer: %s / %s", e ? e : "ok",
		    rule ? rule : "ok");
	if (e) {
		FUZZ_ASSERT(e == err && memchr(err, 0, sizeof(err)), "the line in the buffer");
		FUZZ_ASSERT(strncmp(err, "DMAR: ", 6) == 0 && strstr(err, " at offset 0x"), "%s",
			    err);
		size_t el = strlen(err), rl = strlen(rule);
		FUZZ_ASSERT(el == sizeof(err) - 1 || (el > rl && !strcmp(err + el - rl, rule)),
			    "'%s' does not end in '%s'", err, rule);
		fuzz_outcome(rule);
	} else {
		check_accepted(t, n);
		FUZZ_ASSERT(info2.nunits == info.nunits && info2.nscopes == info.nscopes, "again");
		fuzz_outcome("accepted");
		uint32_t hl = acpi_le32(t + 4);
		FUZZ_ASSERT(acpi_hide_table(t, hl, "XMAR"), "hide");
		FUZZ_ASSERT(acpi_sum(t, hl) == 0, "hidden checksum");
		const char *h = dmar_parse(t, n, &info2, NULL, 0);
		FUZZ_ASSERT(h && !strcmp(h, "signature is not DMAR"), "hidden: %s", h ? h : "ok");
	}
	free(t);
	return 0;
}
