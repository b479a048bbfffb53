/*
 * test_nested_shadow_vmcs.c - hardware VMCS shadowing of vmcs12 for L1
 * (nested/shadow_vmcs.c): the shadowed set and bitmaps built from the
 * table, and the copies between vmcs12 and the shadow VMCS at each event,
 * driven through the real exit dispatcher where the event is an exit.
 */
#include "test.h"

#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "nested/shadow_vmcs.h"
#include "vmx/controls.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <string.h>

#define SHADOW_PA 0x7e102000ull /* L0's shadow VMCS (a software VMCS here) */
#define LEN_VMXOFF 3		/* 0F 01 C4 */
#define LEN_VMWRITE 3		/* 0F 79 /r */
#define MISC_VMWRITE_ANY (1ull << 29)

static uint8_t rd_bitmap[4096], wr_bitmap[4096];

static bool bit(const uint8_t *bitmap, uint32_t encoding)
{
	uint32_t b = encoding & 0x7fff;
	return bitmap[b >> 3] & (1u << (b & 7));
}

static const struct nested_shadow_set *set(void)
{
	return &g_l0.shadow_set;
}

/* The fixture's L1 (current vmcs12 at VMCS12_A) on a machine that shadows. */
static void shadow_setup(void)
{
	run_setup();
	CHECK(nested_shadow_set_build(&g_l0.caps, &g_l0.l1_vmx, &g_l0.shadow_set, rd_bitmap,
				      wr_bitmap));
	NV->shadow_pa = SHADOW_PA;
	NV->shadow_for = VMPTR_INVALID;
}

/* Index in the set of a field, or -1. */
static int in_set(uint32_t encoding)
{
	for (unsigned k = 0; k < set()->count; k++)
		if (vmcs_field_table[set()->idx[k]].encoding == encoding)
			return (int)k;
	return -1;
}

TEST(shadow_set_and_bitmaps_from_the_table)
{
	shadow_setup();
	/* Every shadowed row of the table that exists for L1, RW ones first. */
	unsigned want = 0, want_rw = 0;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (f->shadow == VMCS_SH_NONE || !vmcs_field_exists(f, &g_l0.l1_vmx))
			continue;
		want++;
		want_rw += f->shadow == VMCS_SH_RW;
		CHECK(in_set(f->encoding) >= 0);
	}
	CHECK_EQ(set()->count, want);
	CHECK_EQ(set()->rw, want_rw);
	CHECK_EQ(set()->rw, 9);
	for (unsigned k = 0; k < set()->count; k++)
		CHECK_EQ(vmcs_field_table[set()->idx[k]].shadow,
			 k < set()->rw ? VMCS_SH_RW : VMCS_SH_RO);
	/* RW: no exit either way; RO: reads in L1, writes exit; the rest exits. */
	CHECK(!bit(rd_bitmap, VMCS_GUEST_RIP) && !bit(wr_bitmap, VMCS_GUEST_RIP));
	CHECK(!bit(rd_bitmap, VMCS_HOST_RSP) && !bit(wr_bitmap, VMCS_HOST_RSP));
	CHECK(!bit(rd_bitmap, VMCS_EXIT_QUALIFICATION) && bit(wr_bitmap, VMCS_EXIT_QUALIFICATION));
	CHECK(!bit(rd_bitmap, VMCS_VM_EXIT_REASON) && bit(wr_bitmap, VMCS_VM_EXIT_REASON));
	CHECK(bit(rd_bitmap, VMCS_VM_INSTRUCTION_ERROR) && bit(wr_bitmap, VMCS_VM_INSTRUCTION_ERROR));
	CHECK(bit(rd_bitmap, VMCS_GUEST_CR0) && bit(wr_bitmap, VMCS_GUEST_CR0));
	CHECK(bit(rd_bitmap, VMCS_CPU_BASED_VM_EXEC_CONTROL) &&
	      bit(wr_bitmap, VMCS_CPU_BASED_VM_EXEC_CONTROL));
	/* A 64-bit field's "high" access is shadowed with it. */
	CHECK(!bit(rd_bitmap, VMCS_GUEST_PHYSICAL_ADDRESS) &&
	      !bit(rd_bitmap, VMCS_GUEST_PHYSICAL_ADDRESS | 1));
	CHECK(bit(wr_bitmap, VMCS_GUEST_PHYSICAL_ADDRESS | 1));
	CHECK(bit(rd_bitmap, VMCS_IO_BITMAP_A | 1));
	/* Exactly the set's accesses pass: count the clear bits. */
	unsigned clear_rd = 0, clear_wr = 0;
	for (unsigned b = 0; b < 4096 * 8; b++) {
		clear_rd += !(rd_bitmap[b >> 3] & (1u << (b & 7)));
		clear_wr += !(wr_bitmap[b >> 3] & (1u << (b & 7)));
	}
	CHECK_EQ(clear_rd, set()->count + 1); /* + GUEST_PHYSICAL_ADDRESS's high access */
	CHECK_EQ(clear_wr, set()->rw);
}

TEST(shadow_set_without_vmwrite_to_read_only_fields)
{
	shadow_setup();
	struct vmx_caps hw = g_l0.caps;
	hw.misc &= ~MISC_VMWRITE_ANY;
	struct nested_shadow_set s;
	CHECK(nested_shadow_set_build(&hw, &g_l0.l1_vmx, &s, rd_bitmap, wr_bitmap));
	/* L0 could not write the exit information into the shadow: RW only. */
	CHECK_EQ(s.count, 9);
	CHECK_EQ(s.rw, 9);
	CHECK(bit(rd_bitmap, VMCS_EXIT_QUALIFICATION));
	CHECK(!bit(rd_bitmap, VMCS_GUEST_RIP));
}

TEST(shadow_set_without_cpu_shadowing)
{
	shadow_setup();
	struct vmx_caps hw = g_l0.caps;
	hw.procbased2 &= ~((uint64_t)CPU2_VMCS_SHADOWING << 32);
	struct nested_shadow_set s;
	CHECK(!nested_shadow_set_build(&hw, &g_l0.l1_vmx, &s, rd_bitmap, wr_bitmap));
	CHECK_EQ(s.count, 0);
	for (unsigned i = 0; i < 4096; i++)
		if (rd_bitmap[i] != 0xff || wr_bitmap[i] != 0xff) {
			CHECK(false);
			break;
		}
}

TEST(shadow_set_follows_l1s_fields)
{
	shadow_setup();
	/* L1 without EPT has no GUEST_PHYSICAL_ADDRESS: not shadowed, its VMREAD exits (error 12). */
	struct vmx_caps l1 = g_l0.l1_vmx;
	l1.procbased2 &= ~((uint64_t)CPU2_ENABLE_EPT << 32);
	struct nested_shadow_set s;
	CHECK(nested_shadow_set_build(&g_l0.caps, &l1, &s, rd_bitmap, wr_bitmap));
	CHECK_EQ(s.count, set()->count - 1);
	CHECK(bit(rd_bitmap, VMCS_GUEST_PHYSICAL_ADDRESS));
	CHECK(bit(rd_bitmap, VMCS_GUEST_PHYSICAL_ADDRESS | 1));
}

TEST(shadow_attach_copies_every_shadowed_field)
{
	shadow_setup();
	vmcs12_set(V12, VMCS_EXIT_QUALIFICATION, 0x1234);
	CHECK_EQ(nested_shadow_to_l1(&vcpu), set()->count);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK(f01(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_VMCS_SHADOWING);
	CHECK_EQ(f01(VMCS_VMCS_LINK_POINTER), SHADOW_PA);
	CHECK_EQ(NV->shadow_for, VMCS12_A);
	for (unsigned k = 0; k < set()->count; k++) {
		uint32_t enc = vmcs_field_table[set()->idx[k]].encoding;
		CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, enc), f12(enc));
	}
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_EXIT_QUALIFICATION), 0x1234);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_GUEST_RIP), L2_RIP);
	/* Nothing else: not a field outside the set, and the shadow left VMCLEARed. */
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_GUEST_CR3), 0);
	CHECK_EQ(vmcs_soft_launch_state(SHADOW_PA), VMCS_SOFT_LAUNCH_CLEAR);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(shadow_push_writes_only_what_changed)
{
	shadow_setup();
	nested_shadow_to_l1(&vcpu);
	unsigned loads = hw_calls.vmptrld;
	vmcs_soft_clear_counters();
	/* Nothing changed: not even a VMPTRLD. */
	CHECK_EQ(nested_shadow_to_l1(&vcpu), 0);
	CHECK_EQ(hw_calls.vmptrld, loads);
	vmcs12_set(V12, VMCS_EXIT_QUALIFICATION, 0x77);
	vmcs12_set(V12, VMCS_GUEST_RIP, L2_RIP + 2);
	vmcs12_set(V12, VMCS_GUEST_CR3, 0x5000); /* not shadowed */
	CHECK_EQ(nested_shadow_to_l1(&vcpu), 2);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_EXIT_QUALIFICATION), 0x77);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_GUEST_RIP), L2_RIP + 2);
	CHECK_EQ(vmcs_soft_writes_in(SHADOW_PA, VMCS_CLASS_EXIT_INFO), 1);
	CHECK_EQ(vmcs_soft_writes_in(SHADOW_PA, VMCS_CLASS_GUEST), 1);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_GUEST_CR3), 0);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
}

TEST(shadow_copy_back_reads_only_rw_fields)
{
	shadow_setup();
	nested_shadow_to_l1(&vcpu);
	/* L1 wrote RIP and HOST_RSP in the shadow; an RO field changed there is not taken. */
	vmcs_soft_set_in(SHADOW_PA, VMCS_GUEST_RIP, L2_RIP + 0x40);
	vmcs_soft_set_in(SHADOW_PA, VMCS_HOST_RSP, HOST_RSP12 - 0x100);
	vmcs_soft_set_in(SHADOW_PA, VMCS_EXIT_QUALIFICATION, 0xdead);
	vmcs_soft_clear_counters();
	uint32_t changed = nested_shadow_from_l1(&vcpu);
	CHECK_EQ(changed, (1u << in_set(VMCS_GUEST_RIP)) | (1u << in_set(VMCS_HOST_RSP)));
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP + 0x40);
	CHECK_EQ(f12(VMCS_HOST_RSP), HOST_RSP12 - 0x100);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
	CHECK_EQ(vmcs_soft_reads_in(SHADOW_PA, VMCS_CLASS_EXIT_INFO), 0);
	CHECK_EQ(vmcs_soft_reads_in(SHADOW_PA, VMCS_CLASS_GUEST) +
			 vmcs_soft_reads_in(SHADOW_PA, VMCS_CLASS_HOST) +
			 vmcs_soft_reads_in(SHADOW_PA, VMCS_CLASS_CONTROL),
		 set()->rw);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	/* What was copied back is what the shadow holds: no second copy, nothing pushed. */
	CHECK_EQ(nested_shadow_from_l1(&vcpu), 0);
	CHECK_EQ(nested_shadow_to_l1(&vcpu), 0);
}

TEST(shadow_round_trip_through_the_dispatcher)
{
	shadow_setup();
	nested_shadow_to_l1(&vcpu);
	/* L1 advanced L2's RIP in the shadow, then VMLAUNCH: vmcs02 starts there. */
	vmcs_soft_set_in(SHADOW_PA, VMCS_GUEST_RIP, L2_RIP + 0x10);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + 0x10);
	/* L2's HLT (vmcs12 exits on it): the exit information lands in the shadow. */
	vmcs_soft_set(VMCS_GUEST_RIP, L2_RIP + 0x13);
	vmcs_soft_clear_counters();
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	CHECK(!NV->in_l2);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_VM_EXIT_REASON), EXIT_REASON_HLT);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_VM_EXIT_INSTRUCTION_LEN), 1);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_GUEST_RIP), L2_RIP + 0x13);
	/* The exit left HOST_RSP and the entry's error code alone: not written. */
	CHECK_EQ(vmcs_soft_writes_in(SHADOW_PA, VMCS_CLASS_HOST), 0);
	CHECK_EQ(vmcs_soft_writes_in(SHADOW_PA, VMCS_CLASS_CONTROL), 0);
	for (unsigned k = 0; k < set()->count; k++) {
		uint32_t enc = vmcs_field_table[set()->idx[k]].encoding;
		CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, enc), f12(enc));
	}
	/* VMRESUME after L1 moved RIP again in the shadow. */
	vmcs_soft_set_in(SHADOW_PA, VMCS_GUEST_RIP, L2_RIP + 0x20);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + 0x20);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(shadow_failed_entry_reason_reaches_the_shadow)
{
	shadow_setup();
	nested_shadow_to_l1(&vcpu);
	/* An activity state no CPU has: VM-entry failure, reason 33 with bit 31 (SDM 27.8). */
	vmcs12_set(V12, VMCS_GUEST_ACTIVITY_STATE, 7);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, 3, true), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_VM_EXIT_REASON),
		 EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
}

TEST(shadow_vmxoff_flushes_l1s_writes_and_turns_shadowing_off)
{
	shadow_setup();
	nested_shadow_to_l1(&vcpu);
	vmcs_soft_set_in(SHADOW_PA, VMCS_GUEST_RSP, L2_RSP - 0x80);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMXOFF, LEN_VMXOFF, true), 0);
	CHECK(!NV->cpu.vmxon);
	/* The region in L1's memory has what L1 last wrote through the shadow. */
	struct vmcs12 in_mem;
	memcpy(&in_mem, run_l1_ptr(VMCS12_A), sizeof(in_mem));
	CHECK_EQ(vmcs12_get(&in_mem, VMCS_GUEST_RSP), L2_RSP - 0x80);
	CHECK(!(f01(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_VMCS_SHADOWING));
	CHECK_EQ(f01(VMCS_VMCS_LINK_POINTER), ~0ull);
	CHECK_EQ(NV->shadow_for, VMPTR_INVALID);
	CHECK_EQ(run_stub_errors, 0);
}

/* What L1's VMCLEAR of its current VMCS (or a VMPTRLD that failed to read) leaves. */
TEST(shadow_off_without_a_current_vmcs12)
{
	shadow_setup();
	nested_shadow_to_l1(&vcpu);
	NV->cpu.current_vmptr = VMPTR_INVALID;
	CHECK_EQ(nested_shadow_to_l1(&vcpu), 0);
	CHECK(!(f01(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_VMCS_SHADOWING));
	CHECK_EQ(f01(VMCS_VMCS_LINK_POINTER), ~0ull);
	CHECK_EQ(NV->shadow_for, VMPTR_INVALID);
	/* And on again, every field, for the next VMPTRLD. */
	NV->cpu.current_vmptr = VMCS12_A;
	CHECK_EQ(nested_shadow_to_l1(&vcpu), set()->count);
	CHECK(f01(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_VMCS_SHADOWING);
}

TEST(shadow_vmptrld_of_another_vmcs_reloads_all)
{
	shadow_setup();
	nested_shadow_to_l1(&vcpu);
	struct vmcs12 b;
	run_valid_vmcs12(&b);
	vmcs12_set(&b, VMCS_GUEST_RIP, 0xb000);
	vmcs12_set(&b, VMCS_VM_EXIT_REASON, 12);
	run_put_vmcs12(VMCS12_B, &b);
	run_l1_vmptrld(VMCS12_B);
	vmcs_soft_clear_counters();
	CHECK_EQ(nested_shadow_to_l1(&vcpu), set()->count);
	CHECK_EQ(NV->shadow_for, VMCS12_B);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_GUEST_RIP), 0xb000);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_VM_EXIT_REASON), 12);
	CHECK_EQ(f01(VMCS_VMCS_LINK_POINTER), SHADOW_PA);
}

TEST(shadow_emulated_vmwrite_of_a_read_only_field)
{
	shadow_setup();
	nested_shadow_to_l1(&vcpu);
	/* MISC[29] (L1 has it from Bochs): VMWRITE RDX=EXIT_QUALIFICATION, RCX=0x99 exits. */
	CHECK(g_l0.l1_vmx.misc & MISC_VMWRITE_ANY);
	regs.gpr[GPR_RDX] = VMCS_EXIT_QUALIFICATION;
	regs.gpr[GPR_RCX] = 0x99;
	vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO,
		      (1u << 10) | ((uint32_t)GPR_RCX << 3) | ((uint32_t)GPR_RDX << 28));
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMWRITE, LEN_VMWRITE, true), 0);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS) & VMX_RFLAGS_MASK, 0); /* VMsucceed */
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0x99);
	CHECK_EQ(vmcs_soft_get_in(SHADOW_PA, VMCS_EXIT_QUALIFICATION), 0x99);
}

TEST(shadow_off_touches_nothing)
{
	run_setup(); /* shadow_pa 0: this CPU does not shadow */
	uint64_t proc2 = f01(VMCS_SECONDARY_VM_EXEC_CONTROL);
	CHECK_EQ(nested_shadow_to_l1(&vcpu), 0);
	CHECK_EQ(nested_shadow_from_l1(&vcpu), 0);
	CHECK_EQ(hw_calls.vmptrld, 0);
	CHECK_EQ(f01(VMCS_SECONDARY_VM_EXEC_CONTROL), proc2);
	CHECK(run_l1_vmlaunch());
}
