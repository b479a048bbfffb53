/*
 * test_vtd_fault.c - drivers/vtd/vtd_fault.c on the fake register file:
 * a fault record decoded (requester ID, address, read/write, reason and
 * its name), logged and cleared; records read from FSTS.FRI on, wrapping
 * at CAP.NFR; the overflow bit reported and cleared; the log rate-limited
 * with a "more faults suppressed" line when the window ends.
 */
#include "test.h"
#include "vtd_fake.h"

#include "drivers/serial/log.h"
#include "drivers/vtd/vtd_fault.h"
#include "drivers/vtd/vtd_regs.h"

#include <stdio.h>
#include <string.h>

#define BASE 0xfed90000ull
/* 4 fault records (NFR 3), SAGAW 39. */
#define CAP ((uint64_t)VTD_SAGAW_39 << 8 | (3ull << 40))

static struct vtd_fake fake;
static struct vtd_ops ops;
static struct vtd_unit unit;
static char lines[32][LOG_LINE_MAX + 1];
static unsigned nlines;

static void capture(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (nlines < 32)
		snprintf(lines[nlines], sizeof(lines[0]), "%.*s", (int)len, line);
	nlines++;
}

static void setup(void)
{
	log_init("t", LOG_INFO);
	log_add_sink(capture, NULL);
	vtd_fake_init(&fake, BASE, CAP, VTD_ECAP_C);
	ops = vtd_fake_bind(&fake);
	CHECK(vtd_unit_probe(&unit, &ops, BASE, 0, 39, true));
	nlines = 0;
}

static unsigned count(const char *what)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nlines && i < 32; i++)
		n += strstr(lines[i], what) != NULL;
	return n;
}

TEST(vtd_fault_decoded_logged_cleared)
{
	setup();
	fake.now = 1ull << 40;
	vtd_fake_fault(&fake, 0, 0x0028 /* 00:05.0 */, 0x1234567, VTD_FR_WRITE, false);
	struct vtd_fault f[2];
	CHECK_EQ(vtd_fault_poll(&unit, f, 2), 1);
	CHECK_EQ(f[0].source, 0x28);
	CHECK_EQ(f[0].address, 0x1234000);
	CHECK_EQ(f[0].reason, 5);
	CHECK(!f[0].read);
	CHECK_EQ(nlines, 1);
	CHECK_STR(lines[0], "[t] warn: VT-d unit at 0xfed90000: DMA fault: source 00:05.0 write at "
			    "0x1234000 blocked, reason 0x5 (write to a page not mapped for write)");
	/* F and PPF cleared: nothing more to read. */
	CHECK_EQ(vtd_fake_get32(&fake, VTD_CAP_FRO(unit.cap) + 12) >> 31, 0);
	CHECK_EQ(vtd_fake_get32(&fake, VTD_FSTS_REG) & VTD_FSTS_PPF, 0);
	CHECK_EQ(vtd_fault_poll(&unit, NULL, 0), 0);
	CHECK_EQ(unit.faults, 1);
}

TEST(vtd_fault_reads_from_fri_and_wraps)
{
	setup();
	fake.now = 1ull << 40;
	vtd_fake_fault(&fake, 3, 0x1f2 /* 01:1e.2 */, 0x5000, VTD_FR_READ, true);
	vtd_fake_fault(&fake, 0, 0x0008, 0x6000, VTD_FR_CTX_NOT_PRESENT, false);
	vtd_fake_fault(&fake, 1, 0x0010, 0x7000, 0x42, false);
	struct vtd_fault f[4];
	CHECK_EQ(vtd_fault_poll(&unit, f, 4), 3);
	CHECK_EQ(f[0].source, 0x1f2);
	CHECK(f[0].read);
	CHECK_EQ(f[1].address, 0x6000);
	CHECK_EQ(f[2].reason, 0x42);
	CHECK(strstr(lines[0], "source 01:1e.2 read at 0x5000 blocked, reason 0x6 (read of a page "
			       "not mapped for read)") != NULL);
	CHECK(strstr(lines[1], "(context entry not present)") != NULL);
	CHECK(strstr(lines[2], "reason 0x42 (unknown reason)") != NULL);
	CHECK_EQ(vtd_fake_get32(&fake, VTD_FSTS_REG) & VTD_FSTS_PPF, 0);
}

TEST(vtd_fault_overflow_reported_and_cleared)
{
	setup();
	fake.now = 1ull << 40;
	vtd_fake_fault(&fake, 2, 0x8, 0x1000, VTD_FR_WRITE, false);
	uint32_t fsts = vtd_fake_get32(&fake, VTD_FSTS_REG) | VTD_FSTS_PFO;
	memcpy(fake.reg + VTD_FSTS_REG, &fsts, 4);
	CHECK_EQ(vtd_fault_poll(&unit, NULL, 0), 1);
	CHECK_EQ(count("fault records overflowed"), 1);
	CHECK_EQ(vtd_fake_get32(&fake, VTD_FSTS_REG) & (VTD_FSTS_PFO | VTD_FSTS_PPF), 0);
}

TEST(vtd_fault_names)
{
	CHECK_STR(vtd_fault_reason_name(1), "root entry not present");
	CHECK_STR(vtd_fault_reason_name(0xd), "translation type blocked by the context entry");
	CHECK_STR(vtd_fault_reason_name(0), "unknown reason");
	CHECK_STR(vtd_fault_reason_name(0xe), "unknown reason");
	CHECK_STR(vtd_fault_reason_name(0xffff), "unknown reason");
}

TEST(vtd_fault_log_rate_limited)
{
	setup();
	fake.now = 1ull << 40;
	/* A flood: 20 faults in one window, 4 records at a time. */
	unsigned total = 0;
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned i = 0; i < 4; i++)
			vtd_fake_fault(&fake, i, 0x28, 0x1000 * (round * 4 + i), VTD_FR_WRITE, false);
		total += vtd_fault_poll(&unit, NULL, 0);
		fake.now += 1000;
	}
	CHECK_EQ(total, 20);
	CHECK_EQ(unit.faults, 20);
	CHECK_EQ(count("DMA fault: source 00:05.0"), VTD_FAULT_LOG_BURST);
	CHECK_EQ(count("suppressed"), 0);
	/* Within the window nothing more is said, also with no new fault. */
	CHECK_EQ(vtd_fault_poll(&unit, NULL, 0), 0);
	CHECK_EQ(nlines, VTD_FAULT_LOG_BURST);
	/* The window ends: one line says how many were held back. */
	fake.now += VTD_FAULT_LOG_WINDOW;
	CHECK_EQ(vtd_fault_poll(&unit, NULL, 0), 0);
	CHECK_EQ(nlines, VTD_FAULT_LOG_BURST + 1);
	CHECK_STR(lines[VTD_FAULT_LOG_BURST],
		  "[t] warn: VT-d unit at 0xfed90000: 12 more DMA faults suppressed");
	/* A new window logs again. */
	vtd_fake_fault(&fake, 0, 0x28, 0x9000, VTD_FR_WRITE, false);
	CHECK_EQ(vtd_fault_poll(&unit, NULL, 0), 1);
	CHECK_EQ(nlines, VTD_FAULT_LOG_BURST + 2);
	CHECK_EQ(count("suppressed"), 1);
}
