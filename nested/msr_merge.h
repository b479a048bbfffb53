/*
 * msr_merge.h - the bitmaps vmcs02 uses.  An MSR access exits to L0 when
 * L0 wants it (its own bitmap) or L1 does (vmcs12's bitmap, or every MSR
 * when L1 does not use MSR bitmaps: SDM Vol. 3C 25.6.9); likewise an I/O
 * port.  The reflect decision (nested/reflect.c) then tells whose exit it
 * was.
 */
#ifndef MICROHV_NESTED_MSR_MERGE_H
#define MICROHV_NESTED_MSR_MERGE_H

#include "nested/nested.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * l1_copy = L1's bitmap, read once from L1's memory at l1_bitmap_gpa when
 * l1_uses_bitmaps; otherwise, or if L0 cannot read it (L0's own memory),
 * every bit set: L1 then sees every access exit, which is what it asked
 * for or the safe side of it.  out = l0 | l1_copy, all 4096 bytes each.
 * l1_copy is what the exit's owner is decided from (reflect.h).
 */
void nested_merge_msr_bitmap(uint8_t *out, uint8_t *l1_copy, const uint8_t *l0,
			     bool l1_uses_bitmaps, uint64_t l1_bitmap_gpa,
			     const struct l1_memory *mem);

/*
 * L0's MSR-bitmap bytes that hold a 0 (an MSR L0 passes through), as runs
 * of consecutive bytes: the only bytes where L1's bitmap changes what the
 * CPU does with vmcs02 - in every other byte L0's ones make every access
 * exit whatever L1 says.  all: more runs than the list holds (then the
 * whole page is merged).
 */
#define NESTED_MSR_PASS_MAX 32
struct nested_msr_pass {
	struct {
		uint16_t off, len;
	} run[NESTED_MSR_PASS_MAX];
	unsigned count;
	bool all;
};
void nested_msr_pass_init(const uint8_t *l0, struct nested_msr_pass *p);

/*
 * What nested_merge_msr_bitmap does for a vmcs12 with MSR bitmaps, with
 * less work: l1_copy is L1's page, read once (what exits are decided
 * from, reflect.h); out is L0's page, copied only when !base (out does not
 * hold it yet), with only the bytes of p's runs recomputed as L0's | L1's
 * - elsewhere L0's ones are the merge.  Returns false, with out and
 * l1_copy all ones (every MSR exits to L1), when the page is not 4-KiB
 * aligned or not L1's memory.
 */
bool nested_merge_msr_bitmap_pass(uint8_t *out, uint8_t *l1_copy, const uint8_t *l0,
				  const struct nested_msr_pass *p, bool base, uint64_t l1_bitmap_gpa,
				  const struct l1_memory *mem);

/*
 * The I/O bitmaps A and B (8 KiB at out) vmcs02 uses when L0 itself owns
 * ports (its console): L0's OR what L1's controls make exit, which goes
 * to l1_copy (8 KiB, A then B) first - L1's bitmap pages, read once, when
 * it uses I/O bitmaps (an unreadable one counts as all ones), else every
 * port with "unconditional I/O exiting", else none.  l0_a and l0_b are
 * NULL when L0 owns no port (the copy is then made only because one of
 * L1's pages is not L1's memory).
 */
void nested_merge_io_bitmaps(uint8_t *out, uint8_t *l1_copy, const uint8_t *l0_a,
			     const uint8_t *l0_b, uint32_t proc12, uint64_t a12, uint64_t b12,
			     const struct l1_memory *mem);

#endif
