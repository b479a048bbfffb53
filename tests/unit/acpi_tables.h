/* acpi_tables.h - real ACPI tables as data (acpi_tables.c says where each comes from). */
#ifndef MICROHV_TESTS_ACPI_TABLES_H
#define MICROHV_TESTS_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>

extern const uint8_t dmar_qemu_q35[120];
extern const uint8_t dmar_asrock_h310[112];
extern const uint8_t dmar_dell_7400[200];
extern const uint8_t dmar_thinkpad_x1y8[160];
extern const uint8_t acpi_qemu_rsdp[36];
extern const uint8_t acpi_qemu_xsdt[92];
extern const uint8_t acpi_qemu_rsdt[64];

#endif
