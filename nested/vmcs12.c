/*
 * vmcs12.c - vmcs12 field access by encoding (layout in vmcs12.h).
 */
#include "vmcs12.h"

static long field_index(uint32_t encoding)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(encoding);
	return f ? f - vmcs_field_table : -1;
}

bool vmcs12_read(const struct vmcs12 *v, uint32_t encoding, uint64_t *value)
{
	long i = field_index(encoding);
	if (i < 0)
		return false;
	uint64_t x = v->field[i];
	/* SDM Vol. 3C 25.11.2: the "high" access type reads bits 63:32. */
	if (VMCS_ENCODING_WIDTH(encoding) == VMCS_WIDTH_64 && VMCS_ENCODING_HIGH(encoding))
		x >>= 32;
	*value = x;
	return true;
}

bool vmcs12_write(struct vmcs12 *v, uint32_t encoding, uint64_t value)
{
	long i = field_index(encoding);
	if (i < 0)
		return false;
	const struct vmcs_field_info *f = &vmcs_field_table[i];
	if (VMCS_ENCODING_WIDTH(encoding) == VMCS_WIDTH_64 && VMCS_ENCODING_HIGH(encoding))
		v->field[i] = (v->field[i] & 0xffffffffull) | (value << 32);
	else
		v->field[i] = value & vmcs_width_mask(f->width);
	return true;
}

uint64_t vmcs12_get(const struct vmcs12 *v, uint32_t encoding)
{
	long i = field_index(encoding);
	return i < 0 ? 0 : v->field[i];
}

void vmcs12_set(struct vmcs12 *v, uint32_t encoding, uint64_t value)
{
	long i = field_index(encoding);
	if (i >= 0)
		v->field[i] = value & vmcs_width_mask(vmcs_field_table[i].width);
}

void vmcs12_normalize(struct vmcs12 *v)
{
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++)
		v->field[i] &= vmcs_width_mask(vmcs_field_table[i].width);
	if (v->launch_state != VMCS12_LAUNCH_LAUNCHED)
		v->launch_state = VMCS12_LAUNCH_CLEAR;
}

unsigned vmcs12_highest_field_index(void)
{
	unsigned hi = 0;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		unsigned idx = (vmcs_field_table[i].encoding >> 1) & 0x1ff;
		if (idx > hi)
			hi = idx;
	}
	return hi;
}
