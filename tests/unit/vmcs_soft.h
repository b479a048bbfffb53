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
 *
 * Several VMCSs, as a CPU has one current VMCS among many (SDM Vol. 3C
 * 25.1): hw_vmptrld/hw_vmclear of tests/unit/hw_fake.c call
 * vmcs_soft_load/vmcs_soft_clear.
 *   - vmcs_soft_reset leaves one instance, at VMCS_SOFT_DEFAULT_PA, and it
 *     is current: tests that never load another see one VMCS, as before;
 *   - vmcs_soft_load(pa) makes the instance at pa current, creating it
 *     (every field 0, launch state unknown) the first time; besides the
 *     default one there are at most VMCS_SOFT_INSTANCES, one more is an
 *     error and leaves no VMCS current;
 *   - vmcs_soft_clear(pa) makes its launch state clear (creating it if
 *     need be) and, like VMCLEAR, leaves no VMCS current if it was the
 *     current one; the field values stay (they are in memory);
 *   - with no current VMCS every access through vmcs.h, vmcs_soft_get and
 *     vmcs_soft_set is an error (VMfailInvalid on hardware) and reads 0;
 *   - values are per instance; "unsupported" is the CPU's, for all; the
 *     counters above count accesses to any instance, and per instance
 *     there are per-class counters (vmcs_soft_reads_in/writes_in).
 */
#ifndef MICROHV_TESTS_VMCS_SOFT_H
#define MICROHV_TESTS_VMCS_SOFT_H

#include "vmx/vmcs_fields.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * One VMCS (the default one, current), every field 0 and supported; all
 * counters (not the lifetime ones) and errors 0.
 */
void vmcs_soft_reset(void);

/* Counters and errors back to 0; field values kept. */
void vmcs_soft_clear_counters(void);

/* Uncounted access to the current VMCS, same width/alias rules; unknown encodings are errors. */
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

/* ---- several VMCSs ---- */

#define VMCS_SOFT_INSTANCES 4
#define VMCS_SOFT_DEFAULT_PA 0xfffffffffffff000ull /* beyond any MAXPHYADDR */
#define VMCS_SOFT_NONE (~0ull)			   /* no current VMCS */

enum vmcs_soft_launch {
	VMCS_SOFT_LAUNCH_UNKNOWN, /* never VMCLEARed nor launched */
	VMCS_SOFT_LAUNCH_CLEAR,
	VMCS_SOFT_LAUNCH_LAUNCHED,
};

/* VMPTRLD and VMCLEAR (semantics above). */
void vmcs_soft_load(uint64_t pa);
void vmcs_soft_clear(uint64_t pa);

/* The physical address of the current VMCS, or VMCS_SOFT_NONE. */
uint64_t vmcs_soft_current(void);
bool vmcs_soft_exists(uint64_t pa);

/* Uncounted access to the instance at pa; an unknown pa is an error (get: 0). */
uint64_t vmcs_soft_get_in(uint64_t pa, uint32_t encoding);
void vmcs_soft_set_in(uint64_t pa, uint32_t encoding, uint64_t value);

/* Launch state; vmcs_soft_set_launched is what a successful VMLAUNCH does. */
enum vmcs_soft_launch vmcs_soft_launch_state(uint64_t pa);
void vmcs_soft_set_launched(uint64_t pa);

/* Accesses through vmcs.h to the instance at pa since the last reset or counter clear. */
unsigned long vmcs_soft_reads_in(uint64_t pa, enum vmcs_class cls);
unsigned long vmcs_soft_writes_in(uint64_t pa, enum vmcs_class cls);

/* Accesses to encodings not in the table (or unsupported fields) since the last reset. */
unsigned long vmcs_soft_errors(void);
uint32_t vmcs_soft_last_error(void); /* the encoding of the latest one */

#endif
