/*
 * iommu_selftest.c - hv.cfg iommu_selftest: L0's DMA protection tried
 * with a real (emulated) device, where no hypervisor can run (QEMU TCG has
 * no VT-x, Bochs no IOMMU).  tests/system/qemu_iommu.sh runs it in QEMU
 * with -device intel-iommu and QEMU's "edu" teaching device, whose DMA
 * engine copies between its 4 KiB buffer (device address 0x40000) and RAM
 * (QEMU docs/specs/edu.txt: BAR0 0x80 source, 0x88 destination, 0x90
 * count, 0x98 command: bit 0 start/busy, bit 1 direction 1 = to RAM).
 *
 * With the units programmed exactly as at launch (iommu_enable_all):
 *   1. edu reads a pattern from a page of L1's (allowed) into its buffer;
 *   2. edu writes the buffer into a page of L0's, four times, each followed
 *      by a poll of the fault records: the unit must block every write and
 *      record each fault with edu's requester ID and that page (a record
 *      not cleared by the poll would keep the next one out), and the page
 *      must be unchanged;
 *   3. edu writes the buffer into the other half of L1's page: it must
 *      arrive.
 * Passed, the units are left as a launch leaves them (translation on, the
 * DMAR hidden: iommu_launch_decided(true)), so the next stage boots as L1
 * would, its devices' DMA remapped, only without a hypervisor
 * (tests/system/qemu_iommu_linux.sh boots Linux so); with iommu = off, as
 * such a launch would, and after a failure, translation goes off again.  Every step logs one line; a DMA that does what it must
 * not is an error line naming it.
 */
#include "iommu.h"

#include "arch/x86/cpu.h"
#include "drivers/serial/log.h"
#include "drivers/vtd/vtd_fault.h"
#include "drivers/vtd/vtd_unit.h"

#include <string.h>

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1ull
#define EDU_DMA_TO_RAM 0x2ull
#define EDU_BUF 0x40000ull
#define EDU_DMA_TSC_LIMIT (1ull << 33) /* a few seconds; edu starts a DMA after 100 ms */

#define HALF (PAGE_SIZE / 2)
/* Faulting writes in a row, fewer than VTD_FAULT_LOG_BURST: every one is logged. */
#define FAULT_ROUNDS 4u
_Static_assert(FAULT_ROUNDS < VTD_FAULT_LOG_BURST, "the self-test's faults must all be logged");

/* PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2). */
#define PCI_CFG_ADDR 0xcf8
#define PCI_CFG_DATA 0xcfc
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_BAR0 0x10

static uint32_t pci_read32(uint16_t bdf, unsigned off)
{
	outl(PCI_CFG_ADDR, 0x80000000u | (uint32_t)bdf << 8 | (off & 0xfc));
	return inl(PCI_CFG_DATA);
}

static void pci_write32(uint16_t bdf, unsigned off, uint32_t v)
{
	outl(PCI_CFG_ADDR, 0x80000000u | (uint32_t)bdf << 8 | (off & 0xfc));
	outl(PCI_CFG_DATA, v);
}

static bool find_edu(uint16_t *bdf)
{
	for (unsigned b = 0; b < 256 * 32 * 8; b++) {
		if (pci_read32((uint16_t)b, 0) == ((uint32_t)EDU_DEVICE << 16 | EDU_VENDOR)) {
			*bdf = (uint16_t)b;
			return true;
		}
	}
	return false;
}

static volatile uint64_t *edu_reg(uint64_t bar, unsigned off)
{
	return (volatile uint64_t *)(uintptr_t)(bar + off);
}

/* One DMA of edu's, waited for (bounded); false on a timeout. */
static bool edu_dma(uint64_t bar, uint64_t src, uint64_t dst, uint64_t count, bool to_ram)
{
	*edu_reg(bar, EDU_DMA_SRC) = src;
	*edu_reg(bar, EDU_DMA_DST) = dst;
	*edu_reg(bar, EDU_DMA_CNT) = count;
	*edu_reg(bar, EDU_DMA_CMD) = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0);
	uint64_t t0 = rdtsc();
	while (*edu_reg(bar, EDU_DMA_CMD) & EDU_DMA_RUN) {
		if (rdtsc() - t0 > EDU_DMA_TSC_LIMIT) {
			log_error("iommu selftest: edu's DMA 0x%llx -> 0x%llx did not finish",
				  (unsigned long long)src, (unsigned long long)dst);
			return false;
		}
		cpu_pause();
	}
	return true;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(0xa5 ^ (i * 7));
}

/* The fault the unit recorded for edu's write into L0's page, logged by vtd_fault_poll. */
static bool fault_seen(uint16_t bdf, uint64_t page)
{
	struct vtd_unit *units;
	size_t n = iommu_units(&units);
	bool seen = false;
	for (size_t i = 0; i < n; i++) {
		struct vtd_fault f[8];
		unsigned got = vtd_fault_poll(&units[i], f, 8);
		for (unsigned k = 0; k < got && k < 8; k++)
			seen |= f[k].source == bdf && f[k].address == page && !f[k].read;
	}
	return seen;
}

static bool run(uint16_t bdf, uint64_t bar, uint8_t *l0, uint8_t *l1)
{
	bool ok = true;
	/* 1. L1's page into edu's buffer: a read of L1's memory, allowed. */
	if (!edu_dma(bar, (uint64_t)(uintptr_t)l1, EDU_BUF, HALF, false))
		return false;
	/*
	 * 2. The buffer into L0's page, FAULT_ROUNDS times: blocked, nothing
	 * written, and each fault recorded, which a unit does only once the
	 * poll has cleared the record before it (7.2.1; QEMU's unit has one).
	 */
	unsigned recorded = 0, stale = 0;
	for (unsigned k = 0; k < FAULT_ROUNDS; k++) {
		if (!edu_dma(bar, EDU_BUF, (uint64_t)(uintptr_t)l0, HALF, true))
			return false;
		recorded += fault_seen(bdf, (uint64_t)(uintptr_t)l0);
		/* Cleared: a second poll finds the record gone, not read again. */
		stale += fault_seen(bdf, (uint64_t)(uintptr_t)l0);
	}
	bool unchanged = true;
	for (size_t i = 0; i < PAGE_SIZE; i++)
		unchanged &= l0[i] == 0x5a;
	if (unchanged && recorded == FAULT_ROUNDS && !stale) {
		log_info("iommu selftest: DMA write into L0's page 0x%llx blocked %u times: page "
			 "unchanged, each fault recorded and cleared",
			 (unsigned long long)(uintptr_t)l0, FAULT_ROUNDS);
	} else {
		log_error("iommu selftest: DMA writes into L0's page 0x%llx NOT as they must be: "
			  "page %s, %u of %u faults recorded, %u read again after clearing",
			  (unsigned long long)(uintptr_t)l0, unchanged ? "unchanged" : "WRITTEN",
			  recorded, FAULT_ROUNDS, stale);
		ok = false;
	}
	/* 3. The buffer into L1's page: completed. */
	if (!edu_dma(bar, EDU_BUF, (uint64_t)(uintptr_t)l1 + HALF, HALF, true))
		return false;
	size_t same = 0;
	for (size_t i = 0; i < HALF; i++)
		same += l1[HALF + i] == pattern(i);
	if (same == HALF) {
		log_info("iommu selftest: DMA write into L1's page 0x%llx completed: %llu bytes as "
			 "sent",
			 (unsigned long long)(uintptr_t)l1, (unsigned long long)HALF);
	} else {
		log_error("iommu selftest: DMA write into L1's page 0x%llx did NOT complete: %zu of "
			  "%llu bytes as sent",
			  (unsigned long long)(uintptr_t)l1, same, (unsigned long long)HALF);
		ok = false;
	}
	return ok;
}

bool iommu_selftest(const struct boot_info *bi, struct page_alloc *pa, uint64_t l1_page)
{
	struct vtd_unit *units;
	if (!iommu_units(&units)) {
		log_error("iommu selftest: no VT-d unit ready (see above): nothing tested");
		return false;
	}
	if (!l1_page) {
		log_error("iommu selftest: the loader gave no page of L1's: nothing tested");
		return false;
	}
	uint16_t bdf;
	if (!find_edu(&bdf)) {
		log_error("iommu selftest: no edu device (1234:11e8) on the PCI bus: nothing tested");
		return false;
	}
	uint32_t bar0 = pci_read32(bdf, PCI_BAR0);
	uint64_t bar = bar0 & ~0xfull;
	if ((bar0 & 1) || !bar) {
		log_error("iommu selftest: edu's BAR0 (0x%x) is not an assigned memory BAR", bar0);
		return false;
	}
	uint32_t cmd = pci_read32(bdf, PCI_COMMAND);
	pci_write32(bdf, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	log_info("iommu selftest: edu at %02x:%02x.%u, BAR0 0x%llx, id 0x%x", bdf >> 8,
		 (bdf >> 3) & 0x1f, bdf & 7, (unsigned long long)bar,
		 *(volatile uint32_t *)(uintptr_t)(bar + EDU_ID));

	uint64_t l0_page = page_alloc(pa, 1, 1);
	if (!l0_page) {
		log_error("iommu selftest: out of memory for L0's page");
		pci_write32(bdf, PCI_COMMAND, cmd);
		return false;
	}
	uint8_t *l0 = (uint8_t *)(uintptr_t)l0_page, *l1 = (uint8_t *)(uintptr_t)l1_page;
	memset(l0, 0x5a, PAGE_SIZE);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		l1[i] = i < HALF ? pattern(i) : 0;

	bool ok = false;
	if (iommu_enable_all()) {
		log_info("iommu selftest: DMA remapping on as at launch; edu DMAs into L0's page "
			 "0x%llx and L1's page 0x%llx",
			 (unsigned long long)l0_page, (unsigned long long)l1_page);
		ok = run(bdf, bar, l0, l1);
	}
	pci_write32(bdf, PCI_COMMAND, cmd);
	page_free(pa, l0_page, 1);
	if (!ok) {
		iommu_disable_all();
		log_error("iommu selftest: FAILED; DMA remapping off again");
		return false;
	}
	/*
	 * The machine is left as a launch leaves it, for the next stage to
	 * boot on: every DMA of its devices through L0's tables, the DMAR
	 * hidden.  Only no hypervisor runs, so no one logs a fault.  With
	 * iommu = off a launch leaves the units alone, and so does this.
	 */
	if (bi->config.iommu == CONFIG_IOMMU_OFF) {
		iommu_disable_all();
		log_info("iommu selftest: passed; iommu = off in hv.cfg: DMA remapping off again, "
			 "the DMAR left for the next stage");
		return false;
	}
	log_info("iommu selftest: passed; DMA remapping stays on as after a launch, the boot goes "
		 "on without a hypervisor");
	iommu_launch_decided(true);
	return true;
}
