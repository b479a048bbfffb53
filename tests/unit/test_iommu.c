/*
 * test_iommu.c - core/iommu.c, L0's DMA protection at launch, on host
 * memory: QEMU's real DMAR (tests/unit/acpi_tables.c) behind an RSDP and
 * XSDT built here, the memory map marking them ACPI memory, L0's region a
 * page pool, and the unit at 0xfed90000 the fake register file
 * (vtd_fake.h).  hv.cfg's iommu = on, off and required, with and without a
 * DMAR and with a unit that fails: what is turned on, what the log says,
 * whether L0 may launch, the EPT01 holes, the tables' holes (L0's memory
 * and the unit's registers unmapped, L1's memory mapped), the DMAR hidden
 * only once L0 launches, and translation off again when it does not.
 */
#include "test.h"
#include "acpi_tables.h"
#include "vtd_fake.h"

#include "core/iommu.h"
#include "drivers/serial/log.h"
#include "drivers/vtd/acpi.h"
#include "drivers/vtd/slpt.h"
#include "drivers/vtd/vtd_regs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT 0xfed90000ull
#define APIC 0xfee00000ull
#define POOL_PAGES 1024
/* QEMU's unit with aw-bits=48: SAGAW 39|48, MGAW 48, 2M and 1G pages, 1 record; QI, coherent. */
#define CAP ((uint64_t)(VTD_SAGAW_39 | VTD_SAGAW_48) << 8 | (47ull << 16) | VTD_CAP_SLLPS_2M | \
	     VTD_CAP_SLLPS_1G | 2)
#define ECAP (VTD_ECAP_QI | VTD_ECAP_C)

static struct boot_info bi;
static struct mem_range map[4];
static struct page_alloc pool;
static uint8_t *pool_mem, *acpi;
static struct vtd_fake fake;
static struct vtd_ops ops;
static char lines[64][LOG_LINE_MAX + 1];
static unsigned nlines;

static void capture(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (nlines < 64)
		snprintf(lines[nlines], sizeof(lines[0]), "%.*s", (int)len, line);
	nlines++;
}

static bool logged(const char *text)
{
	for (unsigned i = 0; i < nlines && i < 64; i++)
		if (strstr(lines[i], text))
			return true;
	return false;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *dmar(void)
{
	return acpi + 4096;
}

/* RSDP (ACPI 6.5, 5.2.5.3) and an XSDT with one entry, the DMAR. */
static void build_acpi(void)
{
	memset(acpi, 0, 3 * 4096);
	uint8_t *rsdp = acpi, *xsdt = acpi + 64;
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "MICROH", 6);
	rsdp[15] = 2;
	rsdp[20] = 36;
	put64(rsdp + 24, (uint64_t)(uintptr_t)xsdt);
	rsdp[8] = (uint8_t)(0 - acpi_sum(rsdp, 20));
	rsdp[32] = (uint8_t)(0 - acpi_sum(rsdp, 36));
	memcpy(xsdt, "XSDT", 4);
	xsdt[4] = 44;
	xsdt[8] = 1;
	put64(xsdt + 36, (uint64_t)(uintptr_t)dmar());
	xsdt[9] = (uint8_t)(0 - acpi_sum(xsdt, 44));
	memcpy(dmar(), dmar_qemu_q35, sizeof(dmar_qemu_q35));
}

static void setup(uint32_t mode, bool with_dmar)
{
	log_init("t", LOG_INFO);
	log_add_sink(capture, NULL);
	nlines = 0;
	if (!pool_mem) {
		pool_mem = aligned_alloc(PAGE_SIZE, POOL_PAGES * PAGE_SIZE);
		acpi = aligned_alloc(PAGE_SIZE, 3 * PAGE_SIZE);
	}
	page_alloc_init(&pool, (uint64_t)(uintptr_t)pool_mem, POOL_PAGES * PAGE_SIZE);
	build_acpi();
	vtd_fake_init(&fake, UNIT, CAP, ECAP);
	ops = vtd_fake_bind(&fake);
	map[0] = (struct mem_range){ 0, 1ull << 30, MEM_USABLE, 0 };
	map[1] = (struct mem_range){ (uint64_t)(uintptr_t)acpi, 3 * PAGE_SIZE, MEM_ACPI_RECLAIM, 0 };
	map[2] = (struct mem_range){ (uint64_t)(uintptr_t)pool_mem, POOL_PAGES * PAGE_SIZE,
				     MEM_HYPERVISOR, 0 };
	memset(&bi, 0, sizeof(bi));
	config_defaults(&bi.config);
	bi.config.iommu = mode;
	bi.hv_base = (uint64_t)(uintptr_t)pool_mem;
	bi.hv_size = POOL_PAGES * PAGE_SIZE;
	bi.memmap = (uint64_t)(uintptr_t)map;
	bi.memmap_count = 3;
	bi.rsdp = with_dmar ? (uint64_t)(uintptr_t)acpi : 0;
	bi.max_phys_bits = 47;
}

static bool translating(void)
{
	return vtd_fake_get32(&fake, VTD_GSTS_REG) & VTD_GCMD_TE;
}

/* The second-level tables the unit was pointed at (root -> context -> SLPTPTR). */
static uint64_t unit_slpt(void)
{
	const uint64_t *root = (const uint64_t *)(uintptr_t)fake.latched_root;
	const uint64_t *ctx = (const uint64_t *)(uintptr_t)(root[0] & ~0xfffull);
	return ctx[0] & ~0xfffull;
}

TEST(iommu_on_with_a_dmar_protects_l0)
{
	setup(CONFIG_IOMMU_ON, true);
	CHECK(iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(!translating()); /* prepare changes nothing in the unit */
	CHECK(logged("VT-d: DMAR at 0x"));
	CHECK(logged("1 remapping unit(s)"));
	CHECK(iommu_protect(&bi));
	CHECK(iommu_on());
	CHECK(translating());
	CHECK(logged("[t] info: VT-d: 1 unit(s), DMA remapping on: L0's memory protected from DMA"));
	/* 4 levels (48-bit covers MAXPHYADDR 47) and their AW in every context entry. */
	const uint64_t *root = (const uint64_t *)(uintptr_t)fake.latched_root;
	const uint64_t *ctx = (const uint64_t *)(uintptr_t)(root[0] & ~0xfffull);
	CHECK_EQ(ctx[1] & 7, 2);
	uint64_t sl = unit_slpt();
	/* L0's memory and the unit's registers unmapped; L1's memory and MMIO mapped. */
	CHECK_EQ(slpt_rights(sl, 4, bi.hv_base), 0);
	CHECK_EQ(slpt_rights(sl, 4, bi.hv_base + bi.hv_size - 1), 0);
	CHECK_EQ(slpt_rights(sl, 4, fake.latched_root), 0);
	CHECK_EQ(slpt_rights(sl, 4, UNIT), 0);
	CHECK_EQ(slpt_rights(sl, 4, APIC), 0);
	CHECK_EQ(slpt_rights(sl, 4, 0x100000), SLPT_READ | SLPT_WRITE);
	CHECK_EQ(slpt_rights(sl, 4, bi.hv_base - PAGE_SIZE), SLPT_READ | SLPT_WRITE);
	CHECK_EQ(slpt_rights(sl, 4, bi.hv_base + bi.hv_size), SLPT_READ | SLPT_WRITE);
	CHECK_EQ(slpt_rights(sl, 4, UNIT + PAGE_SIZE), SLPT_READ | SLPT_WRITE);
	CHECK_EQ(slpt_rights(sl, 4, (1ull << 47) - PAGE_SIZE), SLPT_READ | SLPT_WRITE);
	/* EPT01 leaves the unit's registers out while the IOMMU is L0's. */
	struct mem_range holes[4];
	CHECK_EQ(iommu_ept01_holes(holes, 4), 1);
	CHECK_EQ(holes[0].base, UNIT);
	CHECK_EQ(holes[0].size, PAGE_SIZE);
	/* Not hidden before the launch is decided; then XMAR, still summing to zero. */
	CHECK(memcmp(dmar(), "DMAR", 4) == 0);
	iommu_launch_decided(true);
	CHECK(memcmp(dmar(), "XMAR", 4) == 0);
	CHECK_EQ(acpi_sum(dmar(), sizeof(dmar_qemu_q35)), 0);
	CHECK(logged("hidden from L1 (signature XMAR, checksum kept right)"));
	CHECK(translating());
	iommu_disable_all();
	CHECK(!translating());
	CHECK(!iommu_on());
}

/* hv.cfg iommu_qi = off: register-based invalidation although the unit offers QI (Xen's no-qinval). */
TEST(iommu_qi_off_invalidates_through_registers)
{
	setup(CONFIG_IOMMU_ON, true);
	CHECK(iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(logged(", queued invalidation"));
	iommu_disable_all();

	setup(CONFIG_IOMMU_ON, true);
	bi.config.iommu_qi = 0;
	CHECK(iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(logged(", register-based invalidation"));
	CHECK(iommu_protect(&bi));
	CHECK(translating());
	/* The queue never turned on; the global invalidations went through CCMD and IOTLB. */
	CHECK_EQ(vtd_fake_find(&fake, VF_QIE_ON), -1);
	CHECK_EQ(vtd_fake_find(&fake, VF_QI_WAIT), -1);
	CHECK(!(vtd_fake_get32(&fake, VTD_GSTS_REG) & VTD_GCMD_QIE));
	CHECK(vtd_fake_find(&fake, VF_CC_GLOBAL) >= 0);
	CHECK(vtd_fake_find(&fake, VF_IOTLB_GLOBAL) > vtd_fake_find(&fake, VF_CC_GLOBAL));
	CHECK(vtd_fake_find(&fake, VF_TE_ON) > vtd_fake_find(&fake, VF_IOTLB_GLOBAL));
	CHECK_EQ(fake.bad, 0);
	iommu_disable_all();
}

TEST(iommu_no_launch_turns_it_off_and_keeps_the_dmar)
{
	setup(CONFIG_IOMMU_ON, true);
	CHECK(iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(iommu_protect(&bi));
	CHECK(translating());
	iommu_launch_decided(false);
	CHECK(!translating());
	CHECK(!iommu_on());
	CHECK(memcmp(dmar(), "DMAR", 4) == 0);
	struct mem_range holes[4];
	CHECK_EQ(iommu_ept01_holes(holes, 4), 0);
	CHECK(logged("no launch: DMA remapping off again"));
}

TEST(iommu_without_a_dmar_says_l0_is_not_protected)
{
	setup(CONFIG_IOMMU_ON, false);
	CHECK(!iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(iommu_protect(&bi)); /* on: launch anyway, and say so */
	CHECK(!iommu_on());
	CHECK(logged("[t] warn: no DMAR table: L0 is not protected from DMA by devices"));
	struct mem_range holes[4];
	CHECK_EQ(iommu_ept01_holes(holes, 4), 0);
	iommu_launch_decided(true);
	CHECK_EQ(fake.writes, 0);

	/* An RSDP without a DMAR behind it: the same words. */
	setup(CONFIG_IOMMU_ON, true);
	memcpy(dmar(), "APIC", 4); /* the XSDT's one entry is something else now */
	dmar()[9] = 0;
	dmar()[9] = (uint8_t)(0 - acpi_sum(dmar(), sizeof(dmar_qemu_q35)));
	CHECK(!iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(iommu_protect(&bi));
	CHECK(logged("[t] warn: no DMAR table: L0 is not protected from DMA by devices"));
}

TEST(iommu_required_without_protection_refuses_the_launch)
{
	setup(CONFIG_IOMMU_REQUIRED, false);
	CHECK(!iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(!iommu_protect(&bi));
	CHECK(logged("[t] error: iommu = required in hv.cfg, but no DMAR table: L0 does not launch; "
		     "the next stage runs without the hypervisor"));

	/* A unit that does not turn on: all off, and no launch either. */
	setup(CONFIG_IOMMU_REQUIRED, true);
	fake.stuck_gsts = VTD_GCMD_TE;
	CHECK(iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(!iommu_protect(&bi));
	CHECK(!iommu_on());
	CHECK(logged("but a VT-d unit did not turn DMA remapping on: L0 does not launch"));

	/* With it: the launch goes on. */
	setup(CONFIG_IOMMU_REQUIRED, true);
	CHECK(iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(iommu_protect(&bi));
	CHECK(iommu_on());
	iommu_disable_all();
}

TEST(iommu_off_leaves_the_units_to_l1)
{
	setup(CONFIG_IOMMU_OFF, true);
	CHECK(!iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(iommu_protect(&bi));
	CHECK(!iommu_on());
	CHECK_EQ(fake.writes, 0);
	CHECK(logged("[t] warn: iommu = off in hv.cfg: L0 is not protected from DMA by devices"));
	iommu_launch_decided(true);
	CHECK(memcmp(dmar(), "DMAR", 4) == 0);
}

TEST(iommu_reads_acpi_only_in_acpi_memory)
{
	/* The tables marked usable RAM: L0 does not read them, and says there is no DMAR. */
	setup(CONFIG_IOMMU_ON, true);
	map[1].type = MEM_USABLE;
	CHECK(!iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(iommu_protect(&bi));
	CHECK(logged("no DMAR table: L0 is not protected from DMA by devices"));
	/* Nor inside L0's own region. */
	setup(CONFIG_IOMMU_ON, true);
	map[1].type = MEM_HYPERVISOR;
	CHECK(!iommu_prepare(&bi, &pool, &ops, APIC));
}

TEST(iommu_faults_polled_from_every_unit)
{
	setup(CONFIG_IOMMU_ON, true);
	CHECK(iommu_prepare(&bi, &pool, &ops, APIC));
	CHECK(iommu_protect(&bi));
	nlines = 0;
	vtd_fake_fault(&fake, 0, 0x28, bi.hv_base, VTD_FR_WRITE, false);
	iommu_poll_faults();
	CHECK(logged("DMA fault: source 00:05.0 write at"));
	CHECK_EQ(vtd_fake_get32(&fake, VTD_FSTS_REG) & VTD_FSTS_PPF, 0);
	iommu_disable_all();
}
