/*
 * test_acpi_tables.c - drivers/vtd/acpi.c over the ACPI tables of a real
 * QEMU q35 run (acpi_tables.c: its RSDP, XSDT, RSDT and DMAR, placed at
 * the addresses OVMF gave them in a fake physical memory that the map
 * callback serves, the other tables as bare headers): the DMAR found
 * through the XSDT and through the RSDT, each refusal of the RSDP and the
 * root tables with its reason, tables L0 may not read passed over, and
 * the hidden DMAR: renamed, summing to zero, no longer found, refused by
 * the parser.
 */
#include "test.h"

#include "acpi_tables.h"
#include "drivers/vtd/acpi.h"
#include "drivers/vtd/dmar.h"

#include <string.h>

/* Where OVMF put them (acpi_tables.c). */
#define PA_RSDP 0xf77d014ull
#define PA_XSDT 0xf77c0e8ull
#define PA_RSDT 0xf77c074ull
#define PA_DMAR 0xf774000ull

static uint8_t rsdp[36], xsdt[92], rsdt[64], dmar[120];
static uint8_t others[6][36]; /* FACP, APIC, HPET, MCFG, WAET, BGRT: headers only */

struct region {
	uint64_t pa;
	uint8_t *p;
	size_t len;
};

static struct region mem[10];
static size_t nmem;
static unsigned map_calls;

static void *map(uint64_t pa, uint64_t len, void *ctx)
{
	(void)ctx;
	map_calls++;
	for (size_t i = 0; i < nmem; i++)
		if (pa >= mem[i].pa && len <= mem[i].len && pa - mem[i].pa <= mem[i].len - len)
			return mem[i].p + (pa - mem[i].pa);
	return NULL;
}

static void add(uint64_t pa, uint8_t *p, size_t len)
{
	mem[nmem++] = (struct region){.pa = pa, .p = p, .len = len};
}

static void fix(uint8_t *t, size_t len, size_t at)
{
	t[at] = 0;
	t[at] = (uint8_t)(0 - acpi_sum(t, len));
}

/* The QEMU run's memory as OVMF left it. */
static void setup(void)
{
	static const char sigs[6][5] = {"FACP", "APIC", "HPET", "MCFG", "WAET", "BGRT"};
	static const uint64_t pas[6] = {0xf778000, 0xf777000, 0xf776000,
					0xf775000, 0xf773000, 0xf772000};
	memcpy(rsdp, acpi_qemu_rsdp, sizeof(rsdp));
	memcpy(xsdt, acpi_qemu_xsdt, sizeof(xsdt));
	memcpy(rsdt, acpi_qemu_rsdt, sizeof(rsdt));
	memcpy(dmar, dmar_qemu_q35, sizeof(dmar));
	nmem = 0;
	map_calls = 0;
	add(PA_RSDP, rsdp, sizeof(rsdp));
	add(PA_XSDT, xsdt, sizeof(xsdt));
	add(PA_RSDT, rsdt, sizeof(rsdt));
	add(PA_DMAR, dmar, sizeof(dmar));
	for (int i = 0; i < 6; i++) {
		memset(others[i], 0, 36);
		memcpy(others[i], sigs[i], 4);
		others[i][4] = 36;
		fix(others[i], 36, 9);
		add(pas[i], others[i], 36);
	}
}

static uint32_t len;
static const char *why;

static uint64_t find(const char *sig)
{
	len = 0;
	why = NULL;
	return acpi_find_table(PA_RSDP, sig, map, NULL, &len, &why);
}

TEST(acpi_real_tables_sum_to_zero)
{
	CHECK_EQ(acpi_sum(acpi_qemu_rsdp, 20), 0);
	CHECK_EQ(acpi_sum(acpi_qemu_rsdp, 36), 0);
	CHECK_EQ(acpi_sum(acpi_qemu_xsdt, sizeof(acpi_qemu_xsdt)), 0);
	CHECK_EQ(acpi_sum(acpi_qemu_rsdt, sizeof(acpi_qemu_rsdt)), 0);
	CHECK_EQ(acpi_sum(dmar_dell_7400, sizeof(dmar_dell_7400)), 0);
	static const uint8_t wrap[3] = {0x01, 0x02, 0xfe};
	CHECK_EQ(acpi_sum(wrap, 3), 0x01); /* 0x101 modulo 256 */
	CHECK_EQ(acpi_sum(NULL, 0), 0);
}

TEST(acpi_find_dmar_through_xsdt)
{
	setup();
	CHECK_EQ(find("DMAR"), PA_DMAR);
	CHECK_EQ(len, 0x78);
	CHECK(why == NULL);
	CHECK_EQ(find("FACP"), 0xf778000);
	CHECK_EQ(find("BGRT"), 0xf772000);
	CHECK_EQ(len, 36);
	/* The XSDT is used, not the RSDT: an RSDT naming nothing changes nothing. */
	memset(rsdt + 36, 0, sizeof(rsdt) - 36);
	fix(rsdt, sizeof(rsdt), 9);
	CHECK_EQ(find("DMAR"), PA_DMAR);
	/* and the length may be left out */
	CHECK_EQ(acpi_find_table(PA_RSDP, "DMAR", map, NULL, NULL, NULL), PA_DMAR);
}

TEST(acpi_find_dmar_through_rsdt)
{
	/* An ACPI 1.0 RSDP (revision 0): only the RSDT, only the first checksum. */
	setup();
	rsdp[15] = 0;
	fix(rsdp, 20, 8);
	memset(xsdt, 0, sizeof(xsdt)); /* would fail if it were read */
	CHECK_EQ(find("DMAR"), PA_DMAR);
	CHECK_EQ(len, 0x78);
	CHECK_EQ(find("WAET"), 0xf773000);

	/* Revision 2 with no XSDT address: the RSDT too. */
	setup();
	memset(rsdp + 24, 0, 8);
	fix(rsdp, 36, 32);
	memset(xsdt, 0, sizeof(xsdt));
	CHECK_EQ(find("DMAR"), PA_DMAR);
	CHECK_EQ(find("XMAR"), 0);
	CHECK_STR(why, "no such table in the RSDT");
}

TEST(acpi_rsdp_refusals)
{
	setup();
	rsdp[8]++;
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "RSDP checksum wrong");
	setup();
	rsdp[33]++; /* a reserved byte: only the extended checksum covers it */
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "RSDP extended checksum wrong");
	setup();
	rsdp[0] = 'r';
	fix(rsdp, 20, 8);
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "RSDP signature wrong");
	setup();
	memset(rsdp + 16, 0, 4);
	memset(rsdp + 24, 0, 8);
	fix(rsdp, 20, 8);
	fix(rsdp, 36, 32);
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "RSDP names no RSDT or XSDT");
	setup();
	CHECK_EQ(acpi_find_table(PA_RSDP + 0x1000, "DMAR", map, NULL, &len, &why), 0);
	CHECK_STR(why, "RSDP not readable");
	CHECK_EQ(acpi_find_table(0, "DMAR", map, NULL, &len, &why), 0);
	CHECK_STR(why, "no RSDP");
	/* A revision-2 RSDP whose last 16 bytes L0 may not read. */
	mem[0].len = 20;
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "RSDP not readable");
}

TEST(acpi_root_table_refusals)
{
	setup();
	xsdt[40]++;
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "XSDT checksum wrong");
	setup();
	xsdt[0] = 'R';
	fix(xsdt, sizeof(xsdt), 9);
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "XSDT signature wrong");
	setup();
	xsdt[4] = 35;
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "XSDT length below its header");
	setup();
	xsdt[4] = 0x64; /* 8 bytes past what the map serves */
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "XSDT not readable");
	setup();
	xsdt[5] = 0xff; /* 64 KiB */
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "XSDT not readable");
	setup();
	mem[1].pa = 0; /* the XSDT L0 may not read */
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "XSDT not readable");

	/* Through the RSDT: its own reasons. */
	setup();
	rsdp[15] = 0;
	fix(rsdp, 20, 8);
	rsdt[50]++;
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "RSDT checksum wrong");
	rsdt[50]--;
	rsdt[1] = 'T';
	fix(rsdt, sizeof(rsdt), 9);
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "RSDT signature wrong");
}

TEST(acpi_candidates)
{
	/* A DMAR that L0 may not read is passed over: as if there were none. */
	setup();
	mem[3].pa = 0x1000;
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "no DMAR in the XSDT");
	/* A DMAR whose header says it is shorter than a header. */
	setup();
	dmar[4] = 35;
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "table length below its header");
	/* An XSDT cut inside its last entry: the whole entries only (BGRT lost). */
	setup();
	xsdt[4] = 0x5b;
	fix(xsdt, 0x5b, 9);
	CHECK_EQ(find("BGRT"), 0);
	CHECK_STR(why, "no such table in the XSDT");
	CHECK_EQ(find("WAET"), 0xf773000);
	/* Zero entries are skipped, the table after them still found. */
	setup();
	memset(xsdt + 36, 0, 32); /* FACP, APIC, HPET, MCFG */
	fix(xsdt, sizeof(xsdt), 9);
	CHECK_EQ(find("DMAR"), PA_DMAR);
	CHECK_EQ(find("APIC"), 0);
}

TEST(acpi_hide_dmar)
{
	setup();
	CHECK(acpi_hide_table(dmar, sizeof(dmar), "XMAR"));
	CHECK(memcmp(dmar, "XMAR", 4) == 0);
	CHECK_EQ(acpi_sum(dmar, sizeof(dmar)), 0);
	/* 'D' + checksum == 'X' + new checksum (mod 256): 0x0d + 0x44 - 0x58 */
	CHECK_EQ(dmar[9], 0xf9);
	CHECK(memcmp(dmar + 4, dmar_qemu_q35 + 4, 5) == 0);
	CHECK(memcmp(dmar + 10, dmar_qemu_q35 + 10, sizeof(dmar) - 10) == 0);

	/* L1's walk finds no DMAR any more, but a valid table under the new name. */
	CHECK_EQ(find("DMAR"), 0);
	CHECK_STR(why, "no DMAR in the XSDT");
	CHECK_EQ(find("XMAR"), PA_DMAR);
	CHECK_EQ(len, sizeof(dmar));
	struct dmar_info info;
	CHECK_STR(dmar_parse(dmar, sizeof(dmar), &info, NULL, 0), "signature is not DMAR");

	/* Back again: the original bytes exactly. */
	CHECK(acpi_hide_table(dmar, sizeof(dmar), "DMAR"));
	CHECK(memcmp(dmar, dmar_qemu_q35, sizeof(dmar)) == 0);

	/* A table whose checksum was wrong sums to zero once hidden. */
	setup();
	dmar[50] ^= 0x40;
	CHECK(acpi_hide_table(dmar, sizeof(dmar), "XMAR"));
	CHECK_EQ(acpi_sum(dmar, sizeof(dmar)), 0);
}

TEST(acpi_hide_refusals)
{
	setup();
	CHECK(!acpi_hide_table(dmar, 35, "XMAR"));
	CHECK(!acpi_hide_table(dmar, sizeof(dmar) - 1, "XMAR")); /* disagrees with its length */
	CHECK(!acpi_hide_table(dmar, sizeof(dmar) + 1, "XMAR"));
	CHECK(!acpi_hide_table(NULL, sizeof(dmar), "XMAR"));
	CHECK(memcmp(dmar, dmar_qemu_q35, sizeof(dmar)) == 0); /* nothing changed */
}
