/*
 * vmcs_fields.c - the field table as data, and lookup by encoding.
 */
#include "vmcs_fields.h"

#include <stddef.h>

const struct vmcs_field_info vmcs_field_table[VMCS_FIELD_COUNT] = {
#define VMCS_ROW(name, enc, cls, feat, sh, rb, dg) { #name, enc, cls, VMCS_ENCODING_WIDTH(enc), feat, sh, rb, dg },
	VMCS_FIELDS(VMCS_ROW)
#undef VMCS_ROW
};

/*
 * Row + 1 of each encoding by width, type and index (SDM Vol. 3C 25.11.2),
 * 0 for none: lookups are on every exit path (VMREAD/VMWRITE emulation,
 * vmcs12 access), so they take constant time.  An index past the array
 * is a compile error in the initializer, not a silent miss.
 */
#define VMCS_LOOKUP_INDICES 64
_Static_assert(VMCS_FIELD_COUNT < 255, "row + 1 must fit the lookup array");
static const uint8_t lookup_row[4][4][VMCS_LOOKUP_INDICES] = {
#define VMCS_SLOT(name, enc, cls, feat, sh, rb, dg)                                                  \
	[VMCS_ENCODING_WIDTH(enc)][VMCS_ENCODING_TYPE(enc)][((enc) >> 1) & 0x1ff] =        \
		VMCS_IDX_##name + 1,
	VMCS_FIELDS(VMCS_SLOT)
#undef VMCS_SLOT
};

const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding)
{
	/* Bits 31:15 and 12 are reserved in an encoding: no field has them. */
	if (encoding & ~0x6fffu)
		return NULL;
	unsigned index = (encoding >> 1) & 0x1ff;
	if (index >= VMCS_LOOKUP_INDICES)
		return NULL;
	unsigned row = lookup_row[VMCS_ENCODING_WIDTH(encoding)][VMCS_ENCODING_TYPE(encoding)][index];
	if (!row)
		return NULL;
	const struct vmcs_field_info *f = &vmcs_field_table[row - 1];
	/* The access-type bit: "high" exists only for 64-bit fields (25.11.2). */
	if (f->encoding == encoding ||
	    (f->width == VMCS_WIDTH_64 && (encoding & ~1u) == f->encoding))
		return f;
	return NULL;
}

uint64_t vmcs_width_mask(unsigned width)
{
	switch (width) {
	case VMCS_WIDTH_16:
		return 0xffffull;
	case VMCS_WIDTH_32:
		return 0xffffffffull;
	default:
		return ~0ull;
	}
}
