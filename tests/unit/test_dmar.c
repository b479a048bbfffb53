/*
 * test_dmar.c - drivers/vtd/dmar.c over real DMAR tables (QEMU's q35 with
 * intel-iommu, an ASRock H310 desktop, a Dell Latitude 7400 and a
 * ThinkPad X1 Yoga Gen 8 laptop: acpi_tables.c says where each comes
 * from) with every unit, scope and
 * RMRR checked against the dump's own decoding, then malformed variants
 * of them and tables built here: each refusal with its exact error line,
 * the limits of the summary arrays at and past their size, the DRHD
 * without scope accepted and counted.
 */
#include "test.h"

#include "acpi_tables.h"
#include "drivers/vtd/acpi.h"
#include "drivers/vtd/dmar.h"

#include <stdio.h>
#include <string.h>

static struct dmar_info info;
static char err[160];

static const char *parse(const void *t, size_t len)
{
	return dmar_parse(t, len, &info, err, sizeof(err));
}

/* A table under construction: header first, structures appended, then sealed. */
struct tb {
	uint8_t b[8192];
	size_t n;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void tb_init(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "DMAR", 4);
	t->b[8] = 1;
	t->b[36] = 38; /* 39-bit DMA addresses */
	t->n = 48;
}

/* Starts a structure of `type` with `fixed` bytes; returns its offset. */
static size_t tb_struct(struct tb *t, uint16_t type, size_t fixed)
{
	size_t off = t->n;
	put16(t->b + off, type);
	put16(t->b + off + 2, (uint16_t)fixed);
	t->n += fixed;
	return off;
}

static size_t tb_drhd(struct tb *t, uint8_t flags, uint64_t base)
{
	size_t off = tb_struct(t, 0, 16);
	t->b[off + 4] = flags;
	put64(t->b + off + 8, base);
	return off;
}

static size_t tb_rmrr(struct tb *t, uint64_t base, uint64_t limit)
{
	size_t off = tb_struct(t, 1, 24);
	put64(t->b + off + 8, base);
	put64(t->b + off + 16, limit);
	return off;
}

/* Appends an endpoint scope (bus 0, dev, func) to the structure at off. */
static void tb_scope(struct tb *t, size_t off, uint8_t dev, uint8_t func)
{
	uint8_t *s = t->b + t->n;
	s[0] = 1;
	s[1] = 8;
	s[6] = dev;
	s[7] = func;
	t->n += 8;
	put16(t->b + off + 2, (uint16_t)(t->n - off));
}

/* Sets the header's length to the bytes written and the checksum right. */
static void tb_seal(struct tb *t)
{
	t->b[4] = (uint8_t)t->n;
	t->b[5] = (uint8_t)(t->n >> 8);
	t->b[9] = 0;
	t->b[9] = (uint8_t)(0 - acpi_sum(t->b, t->n));
}

/* A real table copied where the test may change it; reseal() fixes its checksum. */
static uint8_t buf[256];

static size_t copy(const uint8_t *t, size_t len)
{
	memcpy(buf, t, len);
	return len;
}

static void reseal(size_t len)
{
	buf[9] = 0;
	buf[9] = (uint8_t)(0 - acpi_sum(buf, len));
}

/* Parses a copy of t with byte off set to v and the checksum made right again. */
static const char *patched(const uint8_t *t, size_t len, size_t off, uint8_t v)
{
	copy(t, len);
	buf[off] = v;
	reseal(len);
	return parse(buf, len);
}

TEST(dmar_real_qemu_q35)
{
	CHECK(parse(dmar_qemu_q35, sizeof(dmar_qemu_q35)) == NULL);
	CHECK_EQ(info.host_addr_width, 39);
	CHECK_EQ(info.flags, 1); /* INTR_REMAP */
	CHECK_EQ(info.nunits, 1);
	CHECK_EQ(info.unit[0].reg_base, 0xfed90000);
	CHECK_EQ(info.unit[0].reg_size, 4096);
	CHECK_EQ(info.unit[0].segment, 0);
	CHECK(!info.unit[0].include_pci_all);
	CHECK_EQ(info.unit[0].first_scope, 0);
	CHECK_EQ(info.unit[0].nscopes, 7);
	CHECK_EQ(info.nunits_noscope, 0);
	CHECK_EQ(info.nscopes, 7);
	/* The IOAPIC on Q35's pseudo bus 0xff, then bus 0's devices. */
	CHECK_EQ(info.scope[0].type, 3);
	CHECK_EQ(info.scope[0].enum_id, 0);
	CHECK_EQ(info.scope[0].bus, 0xff);
	CHECK_EQ(info.scope[0].path_len, 1);
	static const uint8_t devfn[6][2] = {{0, 0},    {1, 0},	  {2, 0},
					    {0x1f, 0}, {0x1f, 2}, {0x1f, 3}};
	for (int i = 0; i < 6; i++) {
		CHECK_EQ(info.scope[1 + i].type, 1);
		CHECK_EQ(info.scope[1 + i].bus, 0);
		CHECK_EQ(info.scope[1 + i].dev, devfn[i][0]);
		CHECK_EQ(info.scope[1 + i].func, devfn[i][1]);
	}
	CHECK_EQ(info.nrmrrs, 0);
	CHECK_EQ(info.natsr + info.nrhsa + info.nandd + info.nsatc + info.nunknown, 0);
	CHECK_STR(err, "");
}

TEST(dmar_real_asrock_h310)
{
	CHECK(parse(dmar_asrock_h310, sizeof(dmar_asrock_h310)) == NULL);
	CHECK_EQ(info.host_addr_width, 39);
	CHECK_EQ(info.nunits, 1);
	CHECK_EQ(info.unit[0].reg_base, 0xfed90000);
	CHECK(info.unit[0].include_pci_all);
	CHECK_EQ(info.unit[0].nscopes, 2);
	CHECK_EQ(info.scope[0].type, 3); /* IOAPIC 2 at f0:1f.0 */
	CHECK_EQ(info.scope[0].enum_id, 2);
	CHECK_EQ(info.scope[0].bus, 0xf0);
	CHECK_EQ(info.scope[0].dev, 0x1f);
	CHECK_EQ(info.scope[1].type, 4); /* HPET 0 at 00:1f.0 */
	CHECK_EQ(info.scope[1].enum_id, 0);
	CHECK_EQ(info.nrmrrs, 1);
	CHECK_EQ(info.rmrr[0].base, 0x8f353000);
	CHECK_EQ(info.rmrr[0].limit, 0x8f59cfff);
	CHECK_EQ(info.rmrr[0].segment, 0);
	CHECK_EQ(info.rmrr[0].first_scope, 2);
	CHECK_EQ(info.rmrr[0].nscopes, 1);
	CHECK_EQ(info.scope[2].type, 1); /* the USB controller 00:14.0 */
	CHECK_EQ(info.scope[2].dev, 0x14);
	CHECK_EQ(info.scope[2].func, 0);
	CHECK_EQ(info.nscopes, 3);
}

TEST(dmar_real_dell_7400)
{
	CHECK(parse(dmar_dell_7400, sizeof(dmar_dell_7400)) == NULL);
	CHECK_EQ(info.nunits, 2);
	CHECK_EQ(info.unit[0].reg_base, 0xfed90000); /* the graphics unit */
	CHECK(!info.unit[0].include_pci_all);
	CHECK_EQ(info.unit[0].nscopes, 1);
	CHECK_EQ(info.scope[info.unit[0].first_scope].dev, 2);
	CHECK_EQ(info.unit[1].reg_base, 0xfed91000);
	CHECK(info.unit[1].include_pci_all);
	CHECK_EQ(info.unit[1].first_scope, 1);
	CHECK_EQ(info.unit[1].nscopes, 2);
	CHECK_EQ(info.scope[1].dev, 0x1e);
	CHECK_EQ(info.scope[1].func, 7);
	CHECK_EQ(info.scope[2].func, 6);
	CHECK_EQ(info.nrmrrs, 3);
	static const uint64_t r[3][2] = {
	    {0x3db3d000, 0x3db5cfff}, {0x4b000000, 0x4f7fffff}, {0x3dbe1000, 0x3dc60fff}};
	static const uint8_t dev[3] = {0x14, 0x02, 0x16};
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(info.rmrr[i].base, r[i][0]);
		CHECK_EQ(info.rmrr[i].limit, r[i][1]);
		CHECK_EQ(info.rmrr[i].nscopes, 1);
		CHECK_EQ(info.rmrr[i].first_scope, 3 + i);
		CHECK_EQ(info.scope[3 + i].dev, dev[i]);
	}
	CHECK_EQ(info.scope[5].func, 7);
	CHECK_EQ(info.nscopes, 6);
}

TEST(dmar_real_thinkpad_x1y8)
{
	CHECK(parse(dmar_thinkpad_x1y8, sizeof(dmar_thinkpad_x1y8)) == NULL);
	CHECK_EQ(info.host_addr_width, 39);
	CHECK_EQ(info.flags, 0x05); /* INTR_REMAP, DMA_CTRL_PLATFORM_OPT_IN */
	CHECK_EQ(info.nunits, 3);
	static const uint64_t base[3] = {0xfed90000, 0xfed92000, 0xfed91000};
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(info.unit[i].reg_base, base[i]);
		CHECK_EQ(info.unit[i].include_pci_all, i == 2);
	}
	CHECK_EQ(info.scope[info.unit[1].first_scope].dev, 5); /* the IPU */
	CHECK_EQ(info.unit[2].first_scope, 2);
	CHECK_EQ(info.unit[2].nscopes, 2);
	CHECK_EQ(info.nrmrrs, 1);
	CHECK_EQ(info.rmrr[0].base, 0x9c000000);
	CHECK_EQ(info.rmrr[0].limit, 0xa07fffff);
	CHECK_EQ(info.scope[info.rmrr[0].first_scope].dev, 2);
	CHECK_EQ(info.nscopes, 5);
	CHECK_EQ(info.nunits_noscope, 0);
}

TEST(dmar_header_refusals)
{
	CHECK_STR(parse(dmar_qemu_q35, 47),
		  "DMAR: table at offset 0x0: shorter than the 48-byte DMAR header");
	CHECK_STR(parse(dmar_qemu_q35, sizeof(dmar_qemu_q35) - 1),
		  "DMAR: table at offset 0x4: length runs past the buffer");
	size_t n = copy(dmar_qemu_q35, sizeof(dmar_qemu_q35));
	buf[9]++;
	CHECK_STR(parse(buf, n), "DMAR: table at offset 0x9: checksum wrong");
	n = copy(dmar_qemu_q35, sizeof(dmar_qemu_q35));
	buf[0] = 'X';
	reseal(n);
	CHECK_STR(parse(buf, n), "DMAR: table at offset 0x0: signature is not DMAR");
	n = copy(dmar_qemu_q35, sizeof(dmar_qemu_q35));
	buf[4] = 40;
	reseal(40);
	CHECK_STR(parse(buf, n), "DMAR: table at offset 0x4: length below the 48-byte DMAR header");
	CHECK_STR(patched(dmar_qemu_q35, sizeof(dmar_qemu_q35), 36, 64),
		  "DMAR: table at offset 0x24: host address width above 64 bits");
	buf[36] = 63;
	reseal(n);
	CHECK(parse(buf, n) == NULL);
	CHECK_EQ(info.host_addr_width, 64);
	CHECK_STR(parse(NULL, 100), "DMAR: table at offset 0x0: no table");
}

/*
 * One byte of the ASRock's table changed, the checksum made right again:
 * its DRHD at 0x30 (length 0x20, scopes at 0x40 and 0x48, base at 0x38),
 * its RMRR at 0x50 (length 0x20, base at 0x58, limit at 0x60).
 */
TEST(dmar_one_byte_refusals)
{
	static const struct {
		size_t off;
		uint8_t v;
		const char *err;
	} cases[] = {
	    /* lengths of structures: below the minimum, zero, past the end */
	    {0x32, 15, "DMAR: DRHD at offset 0x30: length below its minimum"},
	    {0x32, 0, "DMAR: DRHD at offset 0x30: length below its minimum"},
	    {0x52, 23, "DMAR: RMRR at offset 0x50: length below its minimum"},
	    {0x52, 0x21, "DMAR: RMRR at offset 0x50: runs past the table"},
	    {0x33, 0xff, "DMAR: DRHD at offset 0x30: runs past the table"},
	    /* lengths of scopes; the DRHD cut to leave 6 or 3 bytes for its last */
	    {0x41, 0x18, "DMAR: device scope at offset 0x40: runs past its structure"},
	    {0x41, 6, "DMAR: device scope at offset 0x40: length below 8"},
	    {0x41, 0, "DMAR: device scope at offset 0x40: length below 8"},
	    {0x41, 9, "DMAR: device scope at offset 0x40: path is not (device, function) pairs"},
	    {0x32, 0x1e, "DMAR: device scope at offset 0x48: runs past its structure"},
	    {0x32, 0x1b, "DMAR: device scope at offset 0x48: runs past its structure"},
	    /* base 0xfed90800; base 0x8f353001; limit 0x8f59cffe; limit 0x8f25cfff */
	    {0x39, 0x08, "DMAR: DRHD at offset 0x30: register base not 4 KiB aligned"},
	    {0x58, 0x01, "DMAR: RMRR at offset 0x50: base not 4 KiB aligned"},
	    {0x60, 0xfe, "DMAR: RMRR at offset 0x50: limit + 1 not 4 KiB aligned"},
	    {0x62, 0x25, "DMAR: RMRR at offset 0x50: limit below base"},
	    /* the DRHD turned into a type the parser does not know */
	    {0x30, 0x7f, "DMAR: table at offset 0x30: no DRHD: no remapping unit to program"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *e =
		    patched(dmar_asrock_h310, sizeof(dmar_asrock_h310), cases[i].off, cases[i].v);
		CHECK_STR(e, cases[i].err);
	}
}

TEST(dmar_structure_header_cut)
{
	/* The table's length cuts the RMRR's header in half. */
	size_t n = copy(dmar_asrock_h310, sizeof(dmar_asrock_h310));
	buf[4] = 0x52;
	reseal(0x52);
	CHECK_STR(parse(buf, n), "DMAR: structure at offset 0x50: header runs past the table");
}

TEST(dmar_scope_two_hops)
{
	/* A two-hop path keeps its first hop. */
	struct tb t;
	tb_init(&t);
	size_t d = tb_drhd(&t, 0, 0xfed90000);
	uint8_t two[10] = {2, 10, 0, 0, 0, 3, 0x1c, 4, 0, 0};
	memcpy(t.b + t.n, two, sizeof(two));
	t.n += sizeof(two);
	put16(t.b + d + 2, (uint16_t)(t.n - d));
	tb_seal(&t);
	CHECK(parse(t.b, t.n) == NULL);
	CHECK_EQ(info.scope[0].type, 2);
	CHECK_EQ(info.scope[0].bus, 3);
	CHECK_EQ(info.scope[0].path_len, 2);
	CHECK_EQ(info.scope[0].dev, 0x1c);
	CHECK_EQ(info.scope[0].func, 4);
}

TEST(dmar_alignment_and_rmrr_rules)
{
	/* The ASRock's RMRR cut to one page (limit 0x8f353fff): accepted. */
	size_t n = copy(dmar_asrock_h310, sizeof(dmar_asrock_h310));
	buf[0x61] = 0x3f;
	buf[0x62] = 0x35;
	reseal(n);
	CHECK(parse(buf, n) == NULL);
	CHECK_EQ(info.rmrr[0].limit, 0x8f353fff);

	/* The Dell's third RMRR (0xa8) moved onto the last page of its first. */
	n = copy(dmar_dell_7400, sizeof(dmar_dell_7400));
	buf[0xb1] = 0xc0;
	buf[0xb2] = 0xb5; /* base 0x3db5c000 */
	reseal(n);
	CHECK_STR(parse(buf, n), "DMAR: RMRR at offset 0xa8: overlaps an earlier RMRR");
	buf[0xb1] = 0xd0; /* 0x3db5d000: just after it, accepted */
	reseal(n);
	CHECK(parse(buf, n) == NULL);
	/* Its limit moved onto the first page of the second (0x4b000000). */
	n = copy(dmar_dell_7400, sizeof(dmar_dell_7400));
	buf[0xb9] = 0x0f;
	buf[0xba] = 0x00;
	buf[0xbb] = 0x4b; /* limit 0x4b000fff, base 0x3dbe1000: around RMRR 1's start */
	reseal(n);
	CHECK_STR(parse(buf, n), "DMAR: RMRR at offset 0xa8: overlaps an earlier RMRR");
	/* Exactly RMRR 1's range again (as firmware lists a region per device): accepted. */
	n = copy(dmar_dell_7400, sizeof(dmar_dell_7400));
	CHECK(parse(buf, n) == NULL);
	uint64_t base0 = info.rmrr[0].base, limit0 = info.rmrr[0].limit;
	for (unsigned k = 0; k < 8; k++) {
		buf[0xb0 + k] = (uint8_t)(base0 >> (8 * k));
		buf[0xb8 + k] = (uint8_t)(limit0 >> (8 * k));
	}
	reseal(n);
	CHECK(parse(buf, n) == NULL);
	CHECK_EQ(info.nrmrrs, 3);
	CHECK_EQ(info.rmrr[2].base, base0);
	CHECK_EQ(info.rmrr[2].limit, limit0);
	/* One page shorter: overlapping, not the same: refused. */
	buf[0xb9] = (uint8_t)((limit0 - 0x1000) >> 8);
	buf[0xba] = (uint8_t)((limit0 - 0x1000) >> 16);
	buf[0xbb] = (uint8_t)((limit0 - 0x1000) >> 24);
	reseal(n);
	CHECK_STR(parse(buf, n), "DMAR: RMRR at offset 0xa8: overlaps an earlier RMRR");
}

TEST(dmar_unit_without_scope_and_no_unit)
{
	struct tb t;
	tb_init(&t);
	tb_drhd(&t, 0, 0xfed90000);
	size_t d = tb_drhd(&t, 1, 0xfed91000);
	t.b[d + 5] = 2; /* size field: 4 pages */
	tb_seal(&t);
	CHECK(parse(t.b, t.n) == NULL);
	CHECK_EQ(info.nunits, 2);
	CHECK_EQ(info.nunits_noscope, 1); /* the first: covers nothing */
	CHECK_EQ(info.unit[0].nscopes, 0);
	CHECK_EQ(info.unit[1].reg_size, 16384);

	/* The ASRock's DRHD of an unknown type: skipped, counted, and no unit left. */
	CHECK(patched(dmar_asrock_h310, sizeof(dmar_asrock_h310), 0x30, 0x7f) != NULL);
	CHECK_EQ(info.nunknown, 1);
	CHECK_EQ(info.nrmrrs, 1);
}

TEST(dmar_other_structures_counted)
{
	struct tb t;
	tb_init(&t);
	tb_drhd(&t, 1, 0xfed90000);
	tb_struct(&t, 2, 8);  /* ATSR */
	tb_struct(&t, 3, 20); /* RHSA */
	tb_struct(&t, 4, 12); /* ANDD */
	tb_struct(&t, 5, 8);  /* SATC */
	tb_struct(&t, 9, 4);  /* a later revision's */
	tb_seal(&t);
	CHECK(parse(t.b, t.n) == NULL);
	CHECK_EQ(info.natsr, 1);
	CHECK_EQ(info.nrhsa, 1);
	CHECK_EQ(info.nandd, 1);
	CHECK_EQ(info.nsatc, 1);
	CHECK_EQ(info.nunknown, 1);
	/* RHSA below its 20 bytes */
	put16(t.b + 48 + 16 + 8 + 2, 19);
	tb_seal(&t);
	CHECK_STR(parse(t.b, t.n), "DMAR: RHSA at offset 0x48: length below its minimum");
}

TEST(dmar_array_limits)
{
	struct tb t;
	tb_init(&t);
	for (int i = 0; i < DMAR_MAX_UNITS; i++)
		tb_drhd(&t, 0, 0xfed90000 + 0x1000ull * i);
	tb_seal(&t);
	CHECK(parse(t.b, t.n) == NULL);
	CHECK_EQ(info.nunits, DMAR_MAX_UNITS);
	CHECK_EQ(info.unit[15].reg_base, 0xfed9f000);
	tb_drhd(&t, 0, 0xfeda0000);
	tb_seal(&t);
	CHECK_STR(parse(t.b, t.n),
		  "DMAR: DRHD at offset 0x130: more remapping units than L0 keeps (16)");

	tb_init(&t);
	tb_drhd(&t, 1, 0xfed90000);
	for (int i = 0; i < DMAR_MAX_RMRRS; i++)
		tb_rmrr(&t, 0x10000000ull * (i + 1), 0x10000000ull * (i + 1) + 0xfff);
	tb_seal(&t);
	CHECK(parse(t.b, t.n) == NULL);
	CHECK_EQ(info.nrmrrs, DMAR_MAX_RMRRS);
	size_t last = tb_rmrr(&t, 0x400000000ull, 0x400000fffull);
	tb_seal(&t);
	CHECK(parse(t.b, t.n) != NULL);
	char want[100];
	snprintf(want, sizeof(want),
		 "DMAR: RMRR at offset 0x%zx: more reserved regions than L0 keeps (32)", last);
	CHECK_STR(err, want);

	tb_init(&t);
	size_t d = tb_drhd(&t, 0, 0xfed90000);
	for (int i = 0; i < DMAR_MAX_SCOPES; i++)
		tb_scope(&t, d, (uint8_t)(i / 8), (uint8_t)(i % 8));
	tb_seal(&t);
	CHECK(parse(t.b, t.n) == NULL);
	CHECK_EQ(info.nscopes, DMAR_MAX_SCOPES);
	CHECK_EQ(info.scope[127].dev, 15);
	CHECK_EQ(info.scope[127].func, 7);
	tb_scope(&t, d, 16, 0);
	tb_seal(&t);
	CHECK_STR(parse(t.b, t.n),
		  "DMAR: device scope at offset 0x440: more device scopes than L0 keeps (128)");
}

TEST(dmar_error_buffers)
{
	/* Without a buffer: the rule alone, static. */
	CHECK_STR(dmar_parse(dmar_qemu_q35, 10, &info, NULL, 0),
		  "shorter than the 48-byte DMAR header");
	/* A short buffer: cut, terminated. */
	char small[12];
	memset(small, 'x', sizeof(small));
	CHECK(dmar_parse(dmar_qemu_q35, 10, &info, small, sizeof(small)) == small);
	CHECK_STR(small, "DMAR: table");
	/* Success clears the buffer. */
	CHECK(dmar_parse(dmar_qemu_q35, sizeof(dmar_qemu_q35), &info, small, sizeof(small)) ==
	      NULL);
	CHECK_STR(small, "");
}

/* Every prefix of every real table: refused with a line, never a crash. */
TEST(dmar_every_truncation)
{
	const uint8_t *tables[4] = {dmar_qemu_q35, dmar_asrock_h310, dmar_dell_7400,
				    dmar_thinkpad_x1y8};
	size_t lens[4] = {sizeof(dmar_qemu_q35), sizeof(dmar_asrock_h310), sizeof(dmar_dell_7400),
			  sizeof(dmar_thinkpad_x1y8)};
	for (int i = 0; i < 4; i++) {
		unsigned refused = 0;
		for (size_t n = 0; n < lens[i]; n++)
			refused += parse(tables[i], n) != NULL && strncmp(err, "DMAR: ", 6) == 0;
		CHECK_EQ(refused, lens[i]);
	}
}
