/*
 * vmcs_fields.c - the field table as data, and lookup by encoding.
 */
#include "vmcs_fields.h"

#include <stddef.h>

const struct vmcs_field_info vmcs_field_table[VMCS_FIELD_COUNT] = {
#define VMCS_ROW(name, enc, cls, feat) { #name, enc, cls, VMCS_ENCODING_WIDTH(enc), feat },
	VMCS_FIELDS(VMCS_ROW)
#undef VMCS_ROW
};

const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding)
{
	uint32_t full = encoding;
	/* A 64-bit field's high half is encoding | 1 (access type "high"). */
	if (VMCS_ENCODING_WIDTH(encoding) == VMCS_WIDTH_64 && VMCS_ENCODING_HIGH(encoding))
		full = encoding & ~1u;
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++)
		if (vmcs_field_table[i].encoding == full)
			return &vmcs_field_table[i];
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
