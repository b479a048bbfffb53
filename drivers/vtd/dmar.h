/*
 * dmar.h - the ACPI DMA Remapping Reporting table (Intel VT-d specification,
 * rev. 4.x, chapter 8 "BIOS Considerations": 8.1 DMAR, 8.3 DRHD, 8.4 RMRR,
 * 8.5 ATSR, 8.6 RHSA, 8.7 ANDD, 8.8 SATC, 8.3.1 device scope).
 *
 * The parser reads a table from a (pointer, length) buffer that L0 copied
 * or that a unit test holds, never past len, and fills a fixed-size
 * summary: the remapping units (DRHD) with their device scopes, and the
 * reserved memory regions (RMRR) that must stay identity-mapped.  Every
 * malformed table gets one clear error naming the offset and the rule
 * broken; nothing in it can crash the parser.
 */
#ifndef MICROHV_DRIVERS_VTD_DMAR_H
#define MICROHV_DRIVERS_VTD_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMAR_MAX_UNITS 16
#define DMAR_MAX_RMRRS 32
#define DMAR_MAX_SCOPES 128 /* all units' and RMRRs' device scopes together */

/*
 * One device-scope entry (8.3.1), the path reduced to its first hop: bus,
 * dev and func together name a device on the start bus (for a one-hop
 * path, the device itself; for a longer one, the bridge it lies behind).
 */
struct dmar_scope {
	uint8_t type;	   /* 1 PCI endpoint, 2 PCI sub-hierarchy, 3 IOAPIC, 4 HPET, 5 ACPI namespace */
	uint8_t enum_id;   /* IOAPIC/HPET/ACPI id */
	uint8_t bus;	   /* start bus number */
	uint8_t path_len;  /* number of (device, function) hops */
	uint8_t dev, func; /* the first hop */
};

struct dmar_unit {
	uint64_t reg_base;  /* register set, 4 KiB aligned */
	uint64_t reg_size;  /* bytes: 4 KiB << (size field & 0xf) (DRHD rev. 2+), else 4 KiB */
	uint16_t segment;
	bool include_pci_all; /* flags bit 0 */
	uint32_t first_scope; /* index into dmar_info.scope[] */
	uint32_t nscopes;
};

struct dmar_rmrr {
	uint64_t base;	/* 4 KiB aligned */
	uint64_t limit; /* last byte, inclusive (limit + 1 is 4 KiB aligned) */
	uint16_t segment;
	uint32_t first_scope;
	uint32_t nscopes;
};

struct dmar_info {
	uint8_t host_addr_width; /* DMA physical address width: the table's HAW field + 1 */
	uint8_t flags;		 /* bit 0 INTR_REMAP, bit 1 X2APIC_OPT_OUT, bit 2 DMA_CTRL_PLATFORM_OPT_IN */
	size_t nunits;
	size_t nunits_noscope; /* of them: no device scope and no INCLUDE_PCI_ALL */
	struct dmar_unit unit[DMAR_MAX_UNITS];
	size_t nrmrrs;
	struct dmar_rmrr rmrr[DMAR_MAX_RMRRS];
	size_t nscopes;
	struct dmar_scope scope[DMAR_MAX_SCOPES];
	size_t natsr, nrhsa, nandd, nsatc, nunknown; /* counted, not kept */
};

/*
 * Parses the DMAR table at table[0..len).  Returns NULL on success, or an
 * error text ("DMAR: RMRR at offset 0x48: limit below base", in
 * err[0..errlen); with err NULL, the rule alone, "limit below base", a
 * static string) with *out unspecified.  Rejected: len shorter than the
 * header, a header length past len, a bad signature or checksum, a
 * structure whose length is below its minimum or runs past the table, a
 * DRHD or RMRR that is not 4 KiB aligned, an RMRR whose limit is below its
 * base, two RMRRs that overlap, no DRHD at all, more units/RMRRs/scopes
 * than the arrays hold.  A DRHD without device scope and without
 * INCLUDE_PCI_ALL is accepted (it covers nothing) and counted in
 * nunits_noscope.  Structures of other types are counted and skipped by
 * their length (VT-d 8.2); a host address width above 64 bits is refused.
 */
const char *dmar_parse(const void *table, size_t len, struct dmar_info *out, char *err,
		       size_t errlen);

#endif
