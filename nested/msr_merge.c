/*
 * msr_merge.c - the merged MSR bitmap for vmcs02 (msr_merge.h).
 */
#include "msr_merge.h"

#include "vmx/msr_policy.h"

void nested_merge_msr_bitmap(uint8_t *out, const uint8_t *l0, bool l1_uses_bitmaps,
			     uint64_t l1_bitmap_gpa, const struct l1_memory *mem)
{
	bool l1_ok = l1_uses_bitmaps && !(l1_bitmap_gpa & 0xfff) &&
		     mem->read(mem->ctx, l1_bitmap_gpa, out, MSR_BITMAP_SIZE);
	for (unsigned i = 0; i < MSR_BITMAP_SIZE; i++)
		out[i] = (uint8_t)((l1_ok ? out[i] : 0xff) | l0[i]);
}
