/*
 * test_nested_reflect_cr.c - the CR0/CR4 merge of the vmcs12 rebuild
 * (nested/reflect_cr.h) as a truth table over one bit, then real values.
 */
#include "nested/reflect_cr.h"
#include "test.h"

/*
 * For one bit: (register, shadow, owned by L2 i.e. not in L0's mask,
 * masked by L1) -> the value vmcs12 gets.  The register wins when L2 owns
 * the bit or L1 masked it; the shadow wins when only L0 pins it.
 */
TEST(nested_reflect_cr_truth_table)
{
	static const struct {
		unsigned reg, shadow, guest_owned, mask12, expected;
	} rows[] = {
		{ 0, 0, 0, 0, 0 }, { 0, 1, 0, 0, 1 }, { 1, 0, 0, 0, 0 }, { 1, 1, 0, 0, 1 },
		{ 0, 0, 0, 1, 0 }, { 0, 1, 0, 1, 0 }, { 1, 0, 0, 1, 1 }, { 1, 1, 0, 1, 1 },
		{ 0, 0, 1, 0, 0 }, { 0, 1, 1, 0, 0 }, { 1, 0, 1, 0, 1 }, { 1, 1, 1, 0, 1 },
		{ 0, 0, 1, 1, 0 }, { 0, 1, 1, 1, 0 }, { 1, 0, 1, 1, 1 }, { 1, 1, 1, 1, 1 },
	};
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t bit = 1ull << 5;
		uint64_t got = nested_merge_guest_cr(rows[i].reg ? bit : 0, rows[i].shadow ? bit : 0,
						     rows[i].guest_owned ? bit : 0,
						     rows[i].mask12 ? bit : 0);
		CHECK_EQ(got, rows[i].expected ? bit : 0);
	}
}

/*
 * CR0 under Bochs's fixed bits: L0 pins NE (mask 0x20) and L1 asked for
 * nothing.  L2 ran with NE forced to 1, L1 had set NE = 0: L1 sees NE = 0
 * and L2's own PG/PE/WP as they are.
 */
TEST(nested_reflect_cr0_ne_pinned_by_l0)
{
	uint64_t l0_mask = 0x20;
	uint64_t guest02 = 0x80050033; /* PG WP AM? NE ET MP PE as L2 runs */
	uint64_t shadow02 = 0x80050013; /* L1's view: NE clear */
	CHECK_EQ(nested_merge_guest_cr(guest02, shadow02, ~l0_mask, 0), 0x80050013);
	/* L1 masks TS (bit 3) and PG: still from the register. */
	CHECK_EQ(nested_merge_guest_cr(guest02 | 8, shadow02, ~l0_mask, 0x80000008), 0x8005001b);
}

/* CR4.VMXE pinned by L0: L1's L2 does not have VMXE unless L1 gave it. */
TEST(nested_reflect_cr4_vmxe_pinned_by_l0)
{
	uint64_t l0_mask = 0x2000;
	CHECK_EQ(nested_merge_guest_cr(0x2620, 0x0620, ~l0_mask, 0), 0x0620);
	CHECK_EQ(nested_merge_guest_cr(0x2620, 0x2620, ~l0_mask, 0), 0x2620);
}
