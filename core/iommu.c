/*
 * iommu.c - L0's DMA protection at late launch (iommu.h, docs/iommu.md
 * "At launch").
 *
 * The order: iommu_prepare (find, parse, probe, build: nothing changes in
 * the units), iommu_protect (translation on in every unit, or the plain
 * warning; `required` stops the launch), l0_prepare (EPT01 without the
 * units' register pages), iommu_launch_decided (the DMAR hidden, or
 * translation off again when L0 does not launch after all).
 */
#include "iommu.h"

#include "drivers/serial/log.h"
#include "drivers/vtd/acpi.h"
#include "drivers/vtd/dmar.h"
#include "drivers/vtd/slpt.h"
#include "drivers/vtd/vtd_fault.h"
#include "drivers/vtd/vtd_unit.h"

#include <string.h>

/* Holes in the DMA map: L0's region, each unit's registers, the xAPIC page. */
#define MAX_HOLES (2 + DMAR_MAX_UNITS)

static struct {
	bool ready; /* iommu_prepare found, probed and built everything */
	bool on;    /* translation on in every unit */
	const char *why_not;
	size_t nunits;
	struct vtd_unit unit[DMAR_MAX_UNITS];
	uint64_t root[DMAR_MAX_UNITS]; /* each unit's root table (shared where alike) */
	struct mem_range reg[DMAR_MAX_UNITS];
	uint64_t dmar_pa;
	uint32_t dmar_len;
	struct page_alloc *pa;
} g_iommu;

static struct dmar_info g_dmar;

/* acpi_find_table's reader: only ACPI's own memory, never L0's. */
struct acpi_window {
	const struct mem_range *map;
	size_t n;
};

static bool acpi_type(uint32_t type)
{
	return type == MEM_ACPI_RECLAIM || type == MEM_ACPI_NVS || type == MEM_RESERVED ||
	       type == MEM_FW_RUNTIME;
}

static void *acpi_map(uint64_t pa, uint64_t len, void *ctx)
{
	const struct acpi_window *w = ctx;
	uint64_t end = pa + len;
	if (!len || end < pa)
		return NULL;
	/* Every byte inside ranges of ACPI's types (touching ranges may differ in type). */
	for (uint64_t cur = pa; cur < end;) {
		size_t i;
		for (i = 0; i < w->n; i++) {
			const struct mem_range *r = &w->map[i];
			if (acpi_type(r->type) && cur >= r->base && cur - r->base < r->size)
				break;
		}
		if (i == w->n)
			return NULL;
		cur = w->map[i].base + w->map[i].size;
	}
	return (void *)(uintptr_t)pa;
}

/* Finds the DMAR and parses a copy of it in L0's memory. */
static bool find_dmar(const struct boot_info *bi, struct page_alloc *pa)
{
	g_iommu.why_not = "no DMAR table";
	if (!bi->rsdp) {
		log_info("VT-d: no ACPI RSDP, so no DMAR table");
		return false;
	}
	struct acpi_window w = { (const struct mem_range *)(uintptr_t)bi->memmap,
				 (size_t)bi->memmap_count };
	const char *why = "";
	uint32_t len = 0;
	uint64_t t = acpi_find_table(bi->rsdp, "DMAR", acpi_map, &w, &len, &why);
	if (!t) {
		log_info("VT-d: %s", why);
		return false;
	}
	size_t pages = (len + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t copy = page_alloc(pa, pages, 1);
	if (!copy) {
		g_iommu.why_not = "out of memory for the DMAR table";
		return false;
	}
	memcpy((void *)(uintptr_t)copy, (const void *)(uintptr_t)t, len);
	char err[128];
	const char *bad = dmar_parse((const void *)(uintptr_t)copy, len, &g_dmar, err, sizeof(err));
	page_free(pa, copy, pages);
	if (bad) {
		log_error("VT-d: the DMAR table at 0x%llx is unusable: %s", (unsigned long long)t,
			  bad);
		g_iommu.why_not = "the DMAR table is unusable";
		return false;
	}
	g_iommu.dmar_pa = t;
	g_iommu.dmar_len = len;
	size_t pci_all = 0;
	for (size_t i = 0; i < g_dmar.nunits; i++)
		pci_all += g_dmar.unit[i].include_pci_all;
	log_info("VT-d: DMAR at 0x%llx: %zu remapping unit(s) (%zu for all other PCI devices), "
		 "%zu device scope(s), %zu reserved memory region(s), host address width %u",
		 (unsigned long long)t, g_dmar.nunits, pci_all, g_dmar.nscopes, g_dmar.nrmrrs,
		 g_dmar.host_addr_width);
	return true;
}

/*
 * The DMA address range a unit's tables map: like EPT01 (vmx/launch.c),
 * all of MAXPHYADDR with 1 GiB pages, else what the memory map knows
 * (at least 4 GiB); never beyond the tables' own width.
 */
static uint64_t dma_top(const struct boot_info *bi, const struct vtd_unit *u, unsigned maxphy)
{
	const struct mem_range *map = (const struct mem_range *)(uintptr_t)bi->memmap;
	uint64_t top = memmap_top(map, bi->memmap_count);
	if (top < (4ull << 30))
		top = 4ull << 30;
	if (u->page_1g)
		top = 1ull << maxphy;
	uint64_t width = 1ull << vtd_levels_width(u->levels);
	if (top > width) {
		log_warn("VT-d unit at 0x%llx: %u-level tables reach 0x%llx only: DMA above it "
			 "faults",
			 (unsigned long long)u->base, u->levels, (unsigned long long)width);
		top = width;
	}
	return top;
}

/* Builds (or shares) the second-level and root tables of unit i. */
static bool build_tables(const struct boot_info *bi, struct page_alloc *pa, size_t i,
			 unsigned maxphy, const struct mem_range *holes, size_t nholes)
{
	const struct vtd_unit *u = &g_iommu.unit[i];
	for (size_t j = 0; j < i; j++) {
		const struct vtd_unit *o = &g_iommu.unit[j];
		if (o->levels == u->levels && o->page_2m == u->page_2m && o->page_1g == u->page_1g) {
			g_iommu.root[i] = g_iommu.root[j];
			return true;
		}
	}
	struct mem_range must[DMAR_MAX_RMRRS];
	for (size_t r = 0; r < g_dmar.nrmrrs; r++)
		must[r] = (struct mem_range){ g_dmar.rmrr[r].base,
					      g_dmar.rmrr[r].limit - g_dmar.rmrr[r].base + 1,
					      MEM_RESERVED, 0 };
	struct mem_range never = { bi->hv_base, bi->hv_size, MEM_HYPERVISOR, 0 };
	struct slpt_options opt = { u->levels, u->page_2m, u->page_1g };
	struct slpt_stats st;
	uint64_t top = dma_top(bi, u, maxphy);
	uint64_t slpt = slpt_build_identity(pa, top, holes, nholes, must, g_dmar.nrmrrs, &never, 1,
					    &opt, &st);
	if (!slpt) {
		log_error("VT-d: cannot build the second-level tables up to 0x%llx (out of memory, "
			  "or an RMRR over L0's memory or beyond the address width)",
			  (unsigned long long)top);
		return false;
	}
	g_iommu.root[i] = vtd_root_build(pa, slpt, u->levels);
	if (!g_iommu.root[i]) {
		log_error("VT-d: out of memory for the root and context tables");
		return false;
	}
	log_info("VT-d: %u-level tables: identity up to 0x%llx without L0's 0x%llx-0x%llx and "
		 "the units' registers, %zu RMRR(s) mapped; leaves 1G %llu 2M %llu 4K %llu, %llu "
		 "table pages",
		 u->levels, (unsigned long long)top, (unsigned long long)bi->hv_base,
		 (unsigned long long)(bi->hv_base + bi->hv_size - 1), g_dmar.nrmrrs,
		 (unsigned long long)st.leaves_1g, (unsigned long long)st.leaves_2m,
		 (unsigned long long)st.leaves_4k, (unsigned long long)(st.table_pages + 2));
	return true;
}

bool iommu_prepare(const struct boot_info *bi, struct page_alloc *pa, const struct vtd_ops *ops,
		   uint64_t apic_page)
{
	memset(&g_iommu, 0, sizeof(g_iommu));
	g_iommu.pa = pa;
	if (bi->config.iommu == CONFIG_IOMMU_OFF && !bi->config.iommu_selftest) {
		g_iommu.why_not = "iommu = off in hv.cfg";
		return false;
	}
	if (!find_dmar(bi, pa))
		return false;
	unsigned maxphy = bi->max_phys_bits ? bi->max_phys_bits : 36;
	struct mem_range holes[MAX_HOLES];
	size_t nholes = 0;
	holes[nholes++] = (struct mem_range){ bi->hv_base, bi->hv_size, MEM_HYPERVISOR, 0 };
	/* The xAPIC page L0 emulates writes to (vmx/apic_access.c); DMA there is an MSI anyway. */
	holes[nholes++] = (struct mem_range){ apic_page, PAGE_SIZE, MEM_MMIO, 0 };
	for (size_t i = 0; i < g_dmar.nunits; i++) {
		const struct dmar_unit *d = &g_dmar.unit[i];
		g_iommu.reg[i] = (struct mem_range){ d->reg_base, d->reg_size, MEM_MMIO, 0 };
		holes[nholes++] = g_iommu.reg[i];
	}
	for (size_t i = 0; i < g_dmar.nunits; i++) {
		const struct dmar_unit *d = &g_dmar.unit[i];
		if (!vtd_unit_probe(&g_iommu.unit[i], ops, d->reg_base, d->segment, maxphy,
				    !bi->config.iommu_qi)) {
			g_iommu.why_not = "a VT-d unit is unusable";
			return false;
		}
		g_iommu.nunits = i + 1;
		if (!build_tables(bi, pa, i, maxphy, holes, nholes)) {
			g_iommu.why_not = "the VT-d tables could not be built";
			return false;
		}
	}
	/* Faults the firmware left behind are reported before L0's own. */
	iommu_poll_faults();
	g_iommu.ready = true;
	return true;
}

bool iommu_enable_all(void)
{
	if (!g_iommu.ready)
		return false;
	for (size_t i = 0; i < g_iommu.nunits; i++) {
		if (!vtd_unit_enable(&g_iommu.unit[i], g_iommu.root[i], g_iommu.pa)) {
			iommu_disable_all();
			return false;
		}
	}
	g_iommu.on = true;
	return true;
}

bool iommu_protect(const struct boot_info *bi)
{
	bool required = bi->config.iommu == CONFIG_IOMMU_REQUIRED;
	if (bi->config.iommu == CONFIG_IOMMU_OFF) {
		log_warn("iommu = off in hv.cfg: L0 is not protected from DMA by devices");
		return true;
	}
	if (g_iommu.ready && !iommu_enable_all())
		g_iommu.why_not = "a VT-d unit did not turn DMA remapping on";
	if (g_iommu.on) {
		log_info("VT-d: %zu unit(s), DMA remapping on: L0's memory protected from DMA",
			 g_iommu.nunits);
		return true;
	}
	if (required) {
		log_error("iommu = required in hv.cfg, but %s: L0 does not launch; the next stage "
			  "runs without the hypervisor",
			  g_iommu.why_not);
		return false;
	}
	log_warn("%s: L0 is not protected from DMA by devices", g_iommu.why_not);
	return true;
}

bool iommu_on(void)
{
	return g_iommu.on;
}

size_t iommu_ept01_holes(struct mem_range *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; g_iommu.on && i < g_iommu.nunits && n < cap; i++)
		out[n++] = g_iommu.reg[i];
	return n;
}

void iommu_launch_decided(bool launch)
{
	if (!g_iommu.on)
		return;
	if (!launch) {
		iommu_disable_all();
		log_warn("VT-d: no launch: DMA remapping off again, the DMAR table left for the OS");
		return;
	}
	/* The IOMMU is L0's: L1's ACPI no longer lists it (Xen hides it from dom0 alike). */
	if (acpi_hide_table((void *)(uintptr_t)g_iommu.dmar_pa, g_iommu.dmar_len, "XMAR"))
		log_info("VT-d: the DMAR table at 0x%llx hidden from L1 (signature XMAR, checksum "
			 "kept right)",
			 (unsigned long long)g_iommu.dmar_pa);
	else
		log_error("VT-d: the DMAR table at 0x%llx could not be hidden: L1 may program the "
			  "units (its accesses to their registers are refused)",
			  (unsigned long long)g_iommu.dmar_pa);
}

void iommu_poll_faults(void)
{
	for (size_t i = 0; i < g_iommu.nunits; i++)
		vtd_fault_poll(&g_iommu.unit[i], NULL, 0);
}

void iommu_disable_all(void)
{
	for (size_t i = 0; i < g_iommu.nunits; i++)
		if (g_iommu.unit[i].enabled)
			vtd_unit_disable(&g_iommu.unit[i]);
	g_iommu.on = false;
}

size_t iommu_units(struct vtd_unit **units)
{
	*units = g_iommu.unit;
	return g_iommu.ready ? g_iommu.nunits : 0;
}
