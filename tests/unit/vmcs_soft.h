/*
 * vmcs_soft.h - the software VMCS of the host unit tests.
 *
 * tests/unit/vmcs_soft.c implements vmcs_read, vmcs_write and
 * vmcs_read_checked (vmx/vmcs.h) over one value per row of the field table
 * (vmx/vmcs_fields.h), so the exit handlers run unchanged on the host:
 *   - a 64-bit field's "high" alias (encoding | 1) is its upper 32 bits;
 *   - a write is truncated to the field's width (16, 32, 64; natural = 64);
 *   - an encoding not in the table is an error: counted, vmcs_read returns
 *     0, vmcs_write changes nothing, vmcs_read_checked returns false;
 *   - a field marked unsupported (vmcs_soft_set_supported) behaves like a
 *     field this CPU lacks: vmcs_read_checked returns false without an
 *     error, vmcs_read/vmcs_write count an error (VMfailValid on hardware);
 *   - reads and writes through vmcs.h are counted per field and per class.
 * The vmcs_soft_* accessors below never count.
 */
#ifndef MICROHV_TESTS_VMCS_SOFT_H
#define MICROHV_TESTS_VMCS_SOFT_H

#include "vmx/vmcs_fields.h"

#include <stdbool.h>
#include <stdint.h>

/* Every field 0 and supported; all counters (not the lifetime ones) and errors 0. */
void vmcs_soft_reset(void);

/* Counters and errors back to 0; field values kept. */
void vmcs_soft_clear_counters(void);

/* Uncounted access, same width/alias rules; an unknown encoding is an error. */
void vmcs_soft_set(uint32_t encoding, uint64_t value);
uint64_t vmcs_soft_get(uint32_t encoding);

/* Marks a field as one this "CPU" lacks (or has again). */
void vmcs_soft_set_supported(uint32_t encoding, bool supported);

/* Accesses through vmcs.h since the last reset, by class and by field. */
unsigned long vmcs_soft_reads(enum vmcs_class cls);
unsigned long vmcs_soft_writes(enum vmcs_class cls);
unsigned long vmcs_soft_field_reads(uint32_t encoding);
unsigned long vmcs_soft_field_writes(uint32_t encoding);

/* Reads by class since the program started: never reset. */
unsigned long vmcs_soft_lifetime_reads(enum vmcs_class cls);

/* Accesses to encodings not in the table (or unsupported fields) since the last reset. */
unsigned long vmcs_soft_errors(void);
uint32_t vmcs_soft_last_error(void); /* the encoding of the latest one */

#endif
