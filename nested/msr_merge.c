/*
 * msr_merge.c - the merged MSR and I/O bitmaps of vmcs02 (msr_merge.h).
 */
#include "msr_merge.h"

#include "vmx/msr_policy.h"
#include "vmx/vmx_bits.h"

#define IO_BITMAP_PAGE 4096

/* out = x | y, len a multiple of 8: a word at a time (on every entry to L2). */
static void or_of(uint8_t *out, const uint8_t *x, const uint8_t *y, unsigned len)
{
	for (unsigned i = 0; i < len; i += 8) {
		uint64_t a, b;
		__builtin_memcpy(&a, x + i, 8);
		__builtin_memcpy(&b, y + i, 8);
		a |= b;
		__builtin_memcpy(out + i, &a, 8);
	}
}

void nested_merge_msr_bitmap(uint8_t *out, uint8_t *l1_copy, const uint8_t *l0,
			     bool l1_uses_bitmaps, uint64_t l1_bitmap_gpa,
			     const struct l1_memory *mem)
{
	bool l1_ok = l1_uses_bitmaps && !(l1_bitmap_gpa & 0xfff) &&
		     mem->read(mem->ctx, l1_bitmap_gpa, l1_copy, MSR_BITMAP_SIZE);
	if (!l1_ok) {
		/* Every MSR exits for L1: all ones, whatever L0's bits (no OR needed). */
		__builtin_memset(l1_copy, 0xff, MSR_BITMAP_SIZE);
		__builtin_memset(out, 0xff, MSR_BITMAP_SIZE);
		return;
	}
	/* From L0's copy, never from L1's memory a second time. */
	or_of(out, l1_copy, l0, MSR_BITMAP_SIZE);
}

void nested_msr_pass_init(const uint8_t *l0, struct nested_msr_pass *p)
{
	*p = (struct nested_msr_pass){ 0 };
	for (unsigned o = 0; o < MSR_BITMAP_SIZE; o++) {
		if (l0[o] == 0xff)
			continue;
		if (p->count && p->run[p->count - 1].off + p->run[p->count - 1].len == o) {
			p->run[p->count - 1].len++;
			continue;
		}
		if (p->count == NESTED_MSR_PASS_MAX) {
			p->all = true;
			return;
		}
		p->run[p->count].off = (uint16_t)o;
		p->run[p->count].len = 1;
		p->count++;
	}
}

bool nested_merge_msr_bitmap_pass(uint8_t *out, uint8_t *l1_copy, const uint8_t *l0,
				  const struct nested_msr_pass *p, bool base, uint64_t l1_bitmap_gpa,
				  const struct l1_memory *mem)
{
	if ((l1_bitmap_gpa & 0xfff) ||
	    !mem->read(mem->ctx, l1_bitmap_gpa, l1_copy, MSR_BITMAP_SIZE))
		goto all_ones;
	if (!base)
		__builtin_memcpy(out, l0, MSR_BITMAP_SIZE);
	for (unsigned k = 0; k < p->count; k++) {
		unsigned off = p->run[k].off, len = p->run[k].len;
		for (unsigned i = off; i < off + len; i++)
			out[i] = l0[i] | l1_copy[i];
	}
	return true;
all_ones:
	/* Every MSR exits for L1: all ones, whatever L0's bits. */
	__builtin_memset(l1_copy, 0xff, MSR_BITMAP_SIZE);
	__builtin_memset(out, 0xff, MSR_BITMAP_SIZE);
	return false;
}

/* One I/O bitmap page of L1's: read, or all ones where L0 cannot. */
static void l1_io_page(uint8_t *out, uint64_t gpa, const struct l1_memory *mem)
{
	if ((gpa & 0xfff) || !mem->read(mem->ctx, gpa, out, IO_BITMAP_PAGE))
		__builtin_memset(out, 0xff, IO_BITMAP_PAGE);
}

void nested_merge_io_bitmaps(uint8_t *out, uint8_t *l1_copy, const uint8_t *l0_a,
			     const uint8_t *l0_b, uint32_t proc12, uint64_t a12, uint64_t b12,
			     const struct l1_memory *mem)
{
	/* SDM Vol. 3C 26.1.3: the bitmaps decide when used; else "unconditional I/O exiting". */
	if (proc12 & CPU_USE_IO_BITMAPS) {
		l1_io_page(l1_copy, a12, mem);
		l1_io_page(l1_copy + IO_BITMAP_PAGE, b12, mem);
	} else {
		__builtin_memset(l1_copy, (proc12 & CPU_UNCOND_IO_EXITING) ? 0xff : 0,
				 2 * IO_BITMAP_PAGE);
	}
	if (!l0_a) {
		__builtin_memcpy(out, l1_copy, 2 * IO_BITMAP_PAGE); /* L0 owns no port */
		return;
	}
	or_of(out, l1_copy, l0_a, IO_BITMAP_PAGE);
	or_of(out + IO_BITMAP_PAGE, l1_copy + IO_BITMAP_PAGE, l0_b, IO_BITMAP_PAGE);
}
