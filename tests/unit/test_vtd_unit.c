/*
 * test_vtd_unit.c - drivers/vtd/vtd_unit.c against the fake register file
 * (vtd_fake.h): the levels and pages chosen from CAP, the root and context
 * entries, and the programming order of the specification: RTADDR before
 * SRTP, the write-buffer flush (CAP.RWBF) and the global context-cache and
 * IOTLB invalidations after SRTP and before TE, by registers or by the
 * queue, the caches flushed where walks do not snoop (ECAP.C), every wait
 * bounded, and translation off again.
 */
#include "test.h"
#include "vtd_fake.h"

#include "drivers/serial/log.h"
#include "drivers/vtd/vtd_regs.h"
#include "drivers/vtd/vtd_unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE 0xfed90000ull
#define POOL_PAGES 16

/* CAP: SAGAW 39 and 48, 2M and 1G pages, 4 fault records; ECAP: coherent. */
#define CAP_STD ((uint64_t)(VTD_SAGAW_39 | VTD_SAGAW_48) << 8 | VTD_CAP_SLLPS_2M | \
		 VTD_CAP_SLLPS_1G | (3ull << 40) | (38ull << 16) | 2)
#define ECAP_STD VTD_ECAP_C

static struct vtd_fake fake;
static struct vtd_ops ops;
static struct page_alloc pool;
static void *pool_mem;
static char last_line[LOG_LINE_MAX + 1];
static unsigned errors;
static char all_lines[8192]; /* every line since setup, for logged_line */

static void capture(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	snprintf(last_line, sizeof(last_line), "%.*s", (int)len, line);
	if (strstr(last_line, "] error: "))
		errors++;
	size_t used = strlen(all_lines);
	snprintf(all_lines + used, sizeof(all_lines) - used, "%s\n", last_line);
}

static bool logged_line(const char *s)
{
	return strstr(all_lines, s) != NULL;
}

static void setup(uint64_t cap, uint64_t ecap)
{
	log_init("t", LOG_INFO);
	log_add_sink(capture, NULL);
	errors = 0;
	last_line[0] = 0;
	all_lines[0] = 0;
	vtd_fake_init(&fake, BASE, cap, ecap);
	ops = vtd_fake_bind(&fake);
	free(pool_mem);
	pool_mem = aligned_alloc(PAGE_SIZE, POOL_PAGES * PAGE_SIZE);
	page_alloc_init(&pool, (uint64_t)(uintptr_t)pool_mem, POOL_PAGES * PAGE_SIZE);
}

static bool before(unsigned a, unsigned b)
{
	int ia = vtd_fake_find(&fake, a), ib = vtd_fake_find(&fake, b);
	return ia >= 0 && ib >= 0 && ia < ib;
}

static unsigned count(unsigned ev)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fake.nev; i++)
		n += fake.ev[i] == ev;
	return n;
}

TEST(vtd_probe_levels_from_sagaw)
{
	struct vtd_unit u;
	setup(CAP_STD, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	CHECK_EQ(u.levels, 3);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 46, false));
	CHECK_EQ(u.levels, 4);
	CHECK(u.page_2m && u.page_1g);
	/* Wider than any level offered: the most it offers. */
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 52, false));
	CHECK_EQ(u.levels, 4);
	setup((uint64_t)VTD_SAGAW_39 << 8 | VTD_CAP_SLLPS_2M, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 3, 46, false));
	CHECK_EQ(u.levels, 3);
	CHECK(u.page_2m && !u.page_1g);
	CHECK_EQ(u.segment, 3);
	setup((uint64_t)VTD_SAGAW_57 << 8, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	CHECK_EQ(u.levels, 5);
	CHECK(!u.page_2m && !u.page_1g);
	CHECK_EQ(vtd_levels_width(3), 39);
	CHECK_EQ(vtd_levels_width(5), 57);
}

TEST(vtd_probe_refuses_what_l0_cannot_use)
{
	struct vtd_unit u;
	setup(1ull << 8 /* SAGAW bit 0: 2-level, 30-bit */, ECAP_STD);
	CHECK(!vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	CHECK(strstr(last_line, "offers no 3-, 4- or 5-level") != NULL);
	setup(CAP_STD, ECAP_STD);
	CHECK(!vtd_unit_probe(&u, &ops, BASE + 0x1000, 0, 39, false)); /* reads all ones */
	CHECK(strstr(last_line, "no unit answers there") != NULL);
}

TEST(vtd_probe_prefers_the_queue)
{
	struct vtd_unit u;
	setup(CAP_STD, ECAP_STD | VTD_ECAP_QI);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	CHECK_EQ(u.inval, VTD_INVAL_QUEUED);
	CHECK(strstr(last_line, "queued invalidation") != NULL);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, true));
	CHECK_EQ(u.inval, VTD_INVAL_REGISTER);
	setup(CAP_STD, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	CHECK_EQ(u.inval, VTD_INVAL_REGISTER);
}

TEST(vtd_root_and_context_entries)
{
	setup(CAP_STD, ECAP_STD);
	uint64_t slpt = 0x12345000;
	uint64_t root = vtd_root_build(&pool, slpt, 4);
	CHECK(root != 0);
	const uint64_t *re = (const uint64_t *)(uintptr_t)root;
	uint64_t ctx = re[0] & ~0xfffull;
	CHECK_EQ(re[0] & 0xfff, VTD_ROOT_P);
	for (unsigned bus = 0; bus < 256; bus++) {
		CHECK_EQ(re[2 * bus], ctx | 1);
		CHECK_EQ(re[2 * bus + 1], 0);
	}
	const uint64_t *ce = (const uint64_t *)(uintptr_t)ctx;
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		/* 9.3: P, FPD clear, TT 00 (untranslated only), SLPTPTR. */
		CHECK_EQ(ce[2 * devfn], slpt | 1);
		/* AW 2 (48-bit, 4 levels), DID 1 (never 0: CAP.CM reserves it). */
		CHECK_EQ(ce[2 * devfn + 1], (1ull << 8) | 2);
	}
	uint64_t root3 = vtd_root_build(&pool, slpt, 3);
	const uint64_t *ce3 = (const uint64_t *)(uintptr_t)(((const uint64_t *)(uintptr_t)root3)[0] &
							     ~0xfffull);
	CHECK_EQ(ce3[1] & 7, 1);
	/* Out of pages: nothing kept. */
	size_t free_before = page_alloc_free_pages(&pool);
	while (page_alloc_free_pages(&pool) > 1)
		page_alloc(&pool, 1, 1);
	free_before = page_alloc_free_pages(&pool);
	CHECK_EQ(vtd_root_build(&pool, slpt, 3), 0);
	CHECK_EQ(page_alloc_free_pages(&pool), free_before);
}

TEST(vtd_enable_register_based_in_order)
{
	struct vtd_unit u;
	setup(CAP_STD, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	uint64_t root = vtd_root_build(&pool, 0x100000, u.levels);
	CHECK(vtd_unit_enable(&u, root, &pool));
	CHECK(u.enabled);
	CHECK_EQ(fake.latched_root, root);
	CHECK_EQ(fake.bad, 0);
	/* 11.4.6 before 11.4.4 SRTP; 6.5 invalidations after SRTP, before TE. */
	CHECK(before(VF_FECTL, VF_RTADDR));
	CHECK(before(VF_RTADDR, VF_SRTP));
	CHECK(before(VF_SRTP, VF_CC_GLOBAL));
	CHECK(before(VF_CC_GLOBAL, VF_IOTLB_GLOBAL));
	CHECK(before(VF_IOTLB_GLOBAL, VF_TE_ON));
	CHECK_EQ(vtd_fake_find(&fake, VF_WBF), -1);	    /* no CAP.RWBF */
	CHECK_EQ(vtd_fake_find(&fake, VF_FLUSH_CACHES), -1); /* ECAP.C */
	CHECK_EQ(vtd_fake_find(&fake, VF_QIE_ON), -1);
	/* 11.4.4: the one-shot SRTP never written back from GSTS.RTPS. */
	CHECK_EQ(count(VF_SRTP), 1);
	CHECK_EQ(count(VF_TE_ON), 1);
	CHECK_EQ(fake.last_cc, VTD_CCMD_ICC | VTD_CCMD_CIRG_GLOBAL);
	CHECK_EQ(fake.last_iotlb, VTD_IOTLB_IVT | VTD_IOTLB_IIRG_GLOBAL);
	CHECK(vtd_fake_get32(&fake, VTD_GSTS_REG) & VTD_GCMD_TE);
	CHECK_EQ(vtd_fake_get32(&fake, VTD_FECTL_REG), VTD_FECTL_IM);
	CHECK_EQ(errors, 0);
}

TEST(vtd_enable_flushes_write_buffer_and_caches_when_asked)
{
	struct vtd_unit u;
	setup(CAP_STD | VTD_CAP_RWBF | VTD_CAP_DRD | VTD_CAP_DWD, 0 /* not coherent */);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	CHECK(vtd_unit_enable(&u, vtd_root_build(&pool, 0x100000, u.levels), &pool));
	/* 6.8: the write buffer flushed after SRTP, before the invalidations. */
	CHECK(before(VF_SRTP, VF_WBF));
	CHECK(before(VF_WBF, VF_CC_GLOBAL));
	/* ECAP.C = 0: the tables written back before the unit is pointed at them. */
	CHECK(before(VF_FLUSH_CACHES, VF_SRTP));
	CHECK_EQ(fake.last_iotlb,
		 VTD_IOTLB_IVT | VTD_IOTLB_IIRG_GLOBAL | VTD_IOTLB_DR | VTD_IOTLB_DW);
	CHECK_EQ(fake.bad, 0);
}

TEST(vtd_enable_queued_in_order)
{
	struct vtd_unit u;
	setup(CAP_STD | VTD_CAP_RWBF, ECAP_STD | VTD_ECAP_QI);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	size_t free_before = page_alloc_free_pages(&pool);
	uint64_t root = vtd_root_build(&pool, 0x100000, u.levels);
	CHECK(vtd_unit_enable(&u, root, &pool));
	CHECK_EQ(fake.bad, 0);
	CHECK(before(VF_SRTP, VF_QIE_ON));
	CHECK(before(VF_QIE_ON, VF_WBF));
	CHECK(before(VF_WBF, VF_CC_GLOBAL));
	CHECK(before(VF_CC_GLOBAL, VF_IOTLB_GLOBAL));
	CHECK(before(VF_IOTLB_GLOBAL, VF_QI_WAIT));
	CHECK(before(VF_QI_WAIT, VF_TE_ON));
	CHECK_EQ(count(VF_SRTP), 1);
	CHECK_EQ(count(VF_WBF), 1);
	CHECK_EQ(fake.last_cc, VTD_INV_CC | VTD_INV_G_GLOBAL);
	CHECK_EQ(fake.last_iotlb, VTD_INV_IOTLB | VTD_INV_G_GLOBAL);
	/* The queue: one page at IQA, 3 descriptors consumed. */
	CHECK_EQ(vtd_fake_get64(&fake, VTD_IQA_REG), u.iq_pa);
	CHECK_EQ(vtd_fake_get64(&fake, VTD_IQT_REG), 3 << 4);
	CHECK_EQ(vtd_fake_get64(&fake, VTD_IQH_REG), 3 << 4);
	CHECK_EQ(*(uint32_t *)(uintptr_t)u.status_pa, 1);
	CHECK_EQ(page_alloc_free_pages(&pool), free_before - 4);
	/* A second round goes on at the tail. */
	CHECK(vtd_unit_invalidate_all(&u));
	CHECK_EQ(vtd_fake_get64(&fake, VTD_IQT_REG), 6 << 4);
	CHECK_EQ(errors, 0);
	/* Off again: TE, then the queue. */
	CHECK(vtd_unit_disable(&u));
	CHECK(!u.enabled);
	CHECK(before(VF_TE_OFF, VF_QIE_OFF));
	CHECK_EQ(vtd_fake_get32(&fake, VTD_GSTS_REG) & (VTD_GCMD_TE | VTD_GCMD_QIE), 0);
}

TEST(vtd_enable_queue_error_leaves_translation_off)
{
	struct vtd_unit u;
	setup(CAP_STD, ECAP_STD | VTD_ECAP_QI);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	fake.qi_error = true;
	CHECK(!vtd_unit_enable(&u, vtd_root_build(&pool, 0x100000, u.levels), &pool));
	CHECK(!u.enabled);
	CHECK_EQ(vtd_fake_find(&fake, VF_TE_ON), -1);
	CHECK(strstr(last_line, "queued invalidation disable") || errors >= 1);
	CHECK_EQ(vtd_fake_get32(&fake, VTD_FSTS_REG) & VTD_FSTS_IQE, 0); /* cleared */
}

TEST(vtd_enable_timeouts_are_log_lines)
{
	struct vtd_unit u;
	setup(CAP_STD, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	fake.stuck_gsts = VTD_GCMD_SRTP;
	CHECK(!vtd_unit_enable(&u, vtd_root_build(&pool, 0x100000, u.levels), &pool));
	CHECK(strstr(last_line, "root table pointer set (GCMD.SRTP) did not complete") != NULL);
	CHECK_EQ(vtd_fake_find(&fake, VF_CC_GLOBAL), -1);
	CHECK_EQ(vtd_fake_find(&fake, VF_TE_ON), -1);

	setup(CAP_STD, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	fake.stuck_gsts = VTD_GCMD_TE;
	CHECK(!vtd_unit_enable(&u, vtd_root_build(&pool, 0x100000, u.levels), &pool));
	CHECK(!u.enabled);
	CHECK_EQ(errors, 1);

	setup(CAP_STD, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	fake.iotlb_no_iaig = true;
	CHECK(!vtd_unit_enable(&u, vtd_root_build(&pool, 0x100000, u.levels), &pool));
	CHECK(strstr(last_line, "IOTLB invalidation not performed") != NULL);
	CHECK_EQ(vtd_fake_find(&fake, VF_TE_ON), -1);
}

TEST(vtd_enable_takes_over_what_the_firmware_left_on)
{
	struct vtd_unit u;
	setup(CAP_STD, ECAP_STD | VTD_ECAP_QI);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, true));
	/* Firmware: translation, the queue and interrupt remapping on, with its own root table. */
	ops.write64(ops.ctx, BASE, VTD_RTADDR_REG, 0x7000);
	ops.write32(ops.ctx, BASE, VTD_GCMD_REG, VTD_GCMD_SRTP);
	ops.write32(ops.ctx, BASE, VTD_GCMD_REG, VTD_GCMD_QIE);
	ops.write32(ops.ctx, BASE, VTD_GCMD_REG, VTD_GCMD_QIE | VTD_GCMD_IRE);
	ops.write32(ops.ctx, BASE, VTD_GCMD_REG, VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_TE);
	fake.nev = 0;
	uint64_t root = vtd_root_build(&pool, 0x100000, u.levels);
	CHECK(vtd_unit_enable(&u, root, &pool));
	CHECK(before(VF_TE_OFF, VF_SRTP));
	CHECK(before(VF_IRE_OFF, VF_QIE_OFF));
	CHECK(!(vtd_fake_get32(&fake, VTD_GSTS_REG) & VTD_GCMD_IRE));
	CHECK(logged_line("the firmware left interrupt remapping on: off"));
	CHECK(before(VF_QIE_OFF, VF_CC_GLOBAL));
	CHECK_EQ(fake.latched_root, root);
	CHECK_EQ(fake.bad, 0); /* no register command while the queue was on */
	CHECK(u.enabled);
}

TEST(vtd_enable_turns_the_firmwares_protected_regions_off)
{
	struct vtd_unit u;
	setup(CAP_STD | VTD_CAP_PLMR | VTD_CAP_PHMR, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	ops.write32(ops.ctx, BASE, VTD_PMEN_REG, VTD_PMEN_EPM);
	CHECK_EQ(vtd_fake_get32(&fake, VTD_PMEN_REG), VTD_PMEN_EPM | VTD_PMEN_PRS);
	fake.nev = 0;
	CHECK(vtd_unit_enable(&u, vtd_root_build(&pool, 0x100000, u.levels), &pool));
	CHECK_EQ(vtd_fake_get32(&fake, VTD_PMEN_REG), 0);
	CHECK(before(VF_PMEN, VF_SRTP));
	CHECK_EQ(errors, 0);

	/* Without PLMR/PHMR the register is not touched; a PRS that stays set is a timeout. */
	setup(CAP_STD, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	CHECK(vtd_unit_enable(&u, vtd_root_build(&pool, 0x100000, u.levels), &pool));
	CHECK_EQ(vtd_fake_find(&fake, VF_PMEN), -1);
	setup(CAP_STD | VTD_CAP_PLMR, ECAP_STD);
	CHECK(vtd_unit_probe(&u, &ops, BASE, 0, 39, false));
	ops.write32(ops.ctx, BASE, VTD_PMEN_REG, VTD_PMEN_EPM);
	fake.stuck_pmen = true;
	CHECK(!vtd_unit_enable(&u, vtd_root_build(&pool, 0x100000, u.levels), &pool));
	CHECK(strstr(last_line, "protected memory disable (PMEN.EPM) did not complete") != NULL);
	CHECK_EQ(vtd_fake_find(&fake, VF_TE_ON), -1);
}
