/*
 * vmcs12.h - the VMCS as L1 sees it: our own layout inside L1's VMCS region.
 *
 * SDM Vol. 3C 25.2: the layout of a VMCS region is implementation-specific
 * apart from the revision identifier (bits 30:0 of the first 4 bytes, bit 31
 * the shadow-VMCS indicator) and the VMX-abort indicator (next 4 bytes).
 * Ours follows them with the launch state and then one 64-bit slot per
 * field of the field table (vmx/vmcs_fields.h), in table order: the field
 * table is the single description of vmcs12 too.  L0 keeps a cached copy
 * of the current vmcs12 between VMPTRLD and VMCLEAR and writes it back on
 * VMCLEAR (and when L1 makes another VMCS current).
 */
#ifndef MICROHV_NESTED_VMCS12_H
#define MICROHV_NESTED_VMCS12_H

#include "nested/vmx_msrs.h"
#include "vmx/vmcs_fields.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMCS12_LAUNCH_CLEAR 0
#define VMCS12_LAUNCH_LAUNCHED 1

struct vmcs12 {
	uint32_t revision; /* VMCS12_REVISION; bit 31: shadow-VMCS indicator */
	uint32_t abort;	   /* VMX-abort indicator (SDM 25.2) */
	uint32_t launch_state;
	uint32_t reserved;
	uint64_t field[VMCS_FIELD_COUNT]; /* by field-table index */
};

_Static_assert(sizeof(struct vmcs12) <= VMCS12_SIZE, "vmcs12 must fit the VMCS region");

/* Byte offset of a field in the vmcs12 region (the table row's index). */
#define VMCS12_FIELD_OFFSET(index) (offsetof(struct vmcs12, field) + 8 * (size_t)(index))

/*
 * VMREAD semantics on vmcs12 for an encoding: false if no such field (the
 * caller fails with VM-instruction error 12).  A 64-bit field's "high"
 * encoding reads bits 63:32; narrower fields read zero-extended.
 */
bool vmcs12_read(const struct vmcs12 *v, uint32_t encoding, uint64_t *value);

/*
 * VMWRITE semantics: false if no such field (error 12).  The value is
 * truncated to the field's width; a "high" encoding writes bits 63:32 only.
 * Whether the field may be written (read-only data fields: error 13) is
 * the caller's check, against IA32_VMX_MISC[29].
 */
bool vmcs12_write(struct vmcs12 *v, uint32_t encoding, uint64_t value);

/*
 * A field by name, for code that names it at compile time: the table index
 * directly, no lookup per access (vmcs12_get's result for the same field).
 */
#define VMCS12_FIELD(v, name) ((v)->field[VMCS_IDX_##name])

/* Direct access by encoding for L0's own use (vmcs02 preparation, rebuild). */
uint64_t vmcs12_get(const struct vmcs12 *v, uint32_t encoding);
void vmcs12_set(struct vmcs12 *v, uint32_t encoding, uint64_t value);

/*
 * A region just read from L1's memory made into one a CPU could hold
 * (VMPTRLD): every field cut to its width (SDM Vol. 3C 25.11.2: a field
 * never holds more bits than it has), and a launch state other than
 * "launched" taken as "clear".  After this, no code that reads vmcs12
 * can see a value its field cannot hold.
 */
void vmcs12_normalize(struct vmcs12 *v);

/* The highest field index (bits 9:1 of the encodings) in the table. */
unsigned vmcs12_highest_field_index(void);

#endif
