/*
 * acpi.h - finding one ACPI table from the RSDP (ACPI 6.5, 5.2.5 RSDP,
 * 5.2.7 RSDT, 5.2.8 XSDT) and hiding it from L1.
 *
 * L0 reads ACPI only at launch, through a reader callback that refuses
 * addresses outside what it may touch; every length is bounded.  Hiding
 * the DMAR follows Xen's dom0 treatment: the table's signature changes
 * (to "XMAR") and its checksum is recomputed so that it still sums to
 * zero, so an OS's table walk no longer finds a DMAR and never sees a
 * corrupt table.
 */
#ifndef MICROHV_DRIVERS_VTD_ACPI_H
#define MICROHV_DRIVERS_VTD_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_HEADER_LEN 36

/* Little-endian fields of a table at any alignment (ACPI 6.5, 5.2: all are LE). */
static inline uint16_t acpi_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t acpi_le32(const uint8_t *p)
{
	return (uint32_t)acpi_le16(p) | (uint32_t)acpi_le16(p + 2) << 16;
}

static inline uint64_t acpi_le64(const uint8_t *p)
{
	return (uint64_t)acpi_le32(p) | (uint64_t)acpi_le32(p + 4) << 32;
}

/* Maps [pa, pa + len) for reading/writing, or NULL where L0 may not. */
typedef void *(*acpi_map_fn)(uint64_t pa, uint64_t len, void *ctx);

/*
 * Finds the first table with signature sig (4 characters) through the
 * XSDT (RSDP revision >= 2 with a nonzero XSDT address) or else the RSDT.
 * Checks the RSDP's checksums, the root table's signature, length and
 * checksum, and each candidate's length (>= 36).  Returns the table's
 * physical address and sets *len, or returns 0 and sets *why to a
 * one-line reason ("no DMAR in the XSDT", "RSDP checksum wrong", ...).
 */
uint64_t acpi_find_table(uint64_t rsdp_pa, const char *sig, acpi_map_fn map, void *ctx,
			 uint32_t *len, const char **why);

/* 8-bit sum of b[0..len): zero for a table whose checksum is right. */
uint8_t acpi_sum(const void *b, size_t len);

/*
 * Renames the table at t (its header's length in bytes) to new_sig and
 * fixes its checksum byte (offset 9).  False, changing nothing, when len
 * is below the header's size or the header's length field disagrees.
 */
bool acpi_hide_table(void *t, size_t len, const char *new_sig);

#endif
