/*
 * iommu.h - L0's DMA protection at late launch (issue 14, docs/iommu.md).
 *
 * EPT keeps L1's CPUs out of L0's memory; the VT-d units keep L1's devices
 * out.  Before the firmware continues as L1, L0 finds the units in the
 * ACPI DMAR table, builds second-level tables that identity-map all of
 * L1's memory with the largest pages each unit supports and leave L0's
 * memory, the VT-d structures, the units' registers and the pages L0
 * emulates unmapped (RMRRs identity-mapped as the specification asks),
 * programs every unit and turns DMA remapping on.  Then the IOMMU is L0's:
 * the DMAR is hidden from L1's ACPI (signature "XMAR", checksum kept
 * right) and the units' register pages are holes in EPT01.  Faults are
 * polled on the BSP's VMX-preemption-timer exits (iommu_poll_faults).
 *
 * hv.cfg `iommu = on | off | required` (boot/config.h): with `required`
 * and no working DMA remapping L0 does not launch.
 */
#ifndef MICROHV_CORE_IOMMU_H
#define MICROHV_CORE_IOMMU_H

#include "include/microhv/bootinfo.h"
#include "mm/memmap.h"
#include "mm/page_alloc.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Finds and parses the DMAR, probes every unit and builds the tables,
 * logging what it found.  Touches no unit's control registers.  ops is
 * how the units' registers are reached (vtd_mmio_ops in the core, a fake
 * in the unit tests); apic_page is the xAPIC page L0 emulates (a hole in
 * the DMA map).  ACPI tables are read where bi's memory map has ACPI,
 * reserved or runtime memory, at their physical (= identity) addresses.  True when
 * the units are ready to be turned on (iommu = on or required, a DMAR, every
 * unit usable, memory enough).
 */
struct vtd_ops;
bool iommu_prepare(const struct boot_info *bi, struct page_alloc *pa, const struct vtd_ops *ops,
		   uint64_t apic_page);

/*
 * Before the launch (VT-x is there): turns DMA remapping on in every unit
 * that iommu_prepare readied and says so, or says plainly that L0 is not
 * protected from DMA.  False when hv.cfg says `iommu = required` and the
 * protection is not on: then L0 must not launch (the message says so).
 */
bool iommu_protect(const struct boot_info *bi);

/* True while L0's DMA remapping is on in the units. */
bool iommu_on(void);

/*
 * The units' register ranges, which EPT01 leaves unmapped while the IOMMU
 * is L0's (iommu_on).  Returns how many it wrote to out[0..cap).
 */
size_t iommu_ept01_holes(struct mem_range *out, size_t cap);

/*
 * After l0_prepare: with launch, the DMAR is hidden from L1; without it,
 * translation goes off again (no L0 will own the units) and the DMAR stays.
 */
void iommu_launch_decided(bool launch);

/* Reads, logs (rate-limited) and clears every unit's fault records. */
void iommu_poll_faults(void);

/*
 * Turns translation on in every unit iommu_prepare readied (false, all
 * off again, when one fails), and off in every unit L0 turned it on in.
 */
bool iommu_enable_all(void);
void iommu_disable_all(void);

/*
 * hv.cfg iommu_selftest (no VT-x, QEMU with intel-iommu and edu):
 * core/iommu_selftest.c.  Programs the units as at launch, has QEMU's edu
 * device DMA into a page of L0's (must be blocked and the fault logged,
 * the page unchanged) and into a page of L1's (must complete).  Passed,
 * translation stays on and the DMAR is hidden, as after a launch (true:
 * the caller must not call iommu_launch_decided again); otherwise, and
 * with iommu = off, translation is off again (false; the log says which
 * DMA did what it must not).  l1_page is a page the loader allocated for
 * it.
 */
bool iommu_selftest(const struct boot_info *bi, struct page_alloc *pa, uint64_t l1_page);

/* The units iommu_prepare readied (0 when not ready), for the self-test. */
struct vtd_unit;
size_t iommu_units(struct vtd_unit **units);

#endif
