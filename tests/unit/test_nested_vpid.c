/*
 * test_nested_vpid.c - L1's VPIDs (nested/vpid.c): the map from L1's
 * VPIDs to L0's, and, on the run path (fixture: nested_run_fixture.h),
 * the VPID vmcs02 gets and the INVVPIDs L0 executes on VM entries and
 * exits with and without "enable VPID" in vmcs12 (SDM Vol. 3C 27.2.1.1,
 * 27.3.2.5, 28.5.5, 29.4.3.1).  The hardware INVVPIDs are those recorded
 * by tests/unit/hw_fake.c: their number and VPIDs, in order.
 */
#include "test.h"

#include "hw_fake.h"
#include "nested/vpid.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <string.h>

#define LAST_VPID02 (NESTED_VPID02_FIRST + NESTED_VPID_SLOTS - 1)

static struct nested_vpid_map map;

static void map_setup(void)
{
	memset(&map, 0, sizeof(map));
	hw_fake_reset();
}

/* ---- the map ---- */

TEST(nested_vpid_map_never_l0s_own_and_stable)
{
	map_setup();
	/* L1 may use any VPID, its own numbers 1 and 2 included. */
	static const uint16_t vpid12[] = {1, 2, 3, 0xffff, 0x8000, 7};
	uint16_t got[6];
	for (unsigned i = 0; i < 6; i++) {
		got[i] = nested_vpid02(&map, vpid12[i]);
		CHECK(got[i] >= NESTED_VPID02_FIRST && got[i] <= LAST_VPID02);
		CHECK(got[i] != 0 && got[i] != L1_VPID && got[i] != L2_VPID);
		for (unsigned j = 0; j < i; j++)
			CHECK(got[i] != got[j]);
	}
	CHECK_EQ(got[0], NESTED_VPID02_FIRST); /* free slots in order */
	CHECK_EQ(got[5], NESTED_VPID02_FIRST + 5);
	/* Each new slot was flushed once, before its first use. */
	CHECK_EQ(hw_calls.invvpid, 6);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(hw_calls.invvpid_vpid[i], got[i]);
	/* Stable: the same vpid02 again, and no flush. */
	for (unsigned i = 0; i < 6; i++) {
		CHECK_EQ(nested_vpid02(&map, vpid12[i]), got[i]);
		CHECK_EQ(nested_vpid02_mapped(&map, vpid12[i]), got[i]);
	}
	CHECK_EQ(hw_calls.invvpid, 6);
	CHECK_EQ(nested_vpid02_mapped(&map, 4), 0);
	CHECK_EQ(nested_vpid02_mapped(&map, 0), 0); /* 0 marks a free slot, never a mapping */
}

TEST(nested_vpid_map_evicts_the_least_recently_used)
{
	map_setup();
	for (uint16_t i = 0; i < NESTED_VPID_SLOTS; i++)
		CHECK_EQ(nested_vpid02(&map, (uint16_t)(100 + i)), NESTED_VPID02_FIRST + i);
	/* Use them all again, 100 (slot 0) and 105 (slot 5) last. */
	for (uint16_t i = 1; i < NESTED_VPID_SLOTS; i++)
		if (i != 5)
			nested_vpid02(&map, (uint16_t)(100 + i));
	nested_vpid02(&map, 105);
	nested_vpid02(&map, 100);
	hw_fake_reset();
	/* The least recently used is 101 (slot 1): its vpid02 is flushed, then given to 200. */
	CHECK_EQ(nested_vpid02(&map, 200), NESTED_VPID02_FIRST + 1);
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.invvpid_vpid[0], NESTED_VPID02_FIRST + 1);
	CHECK_EQ(nested_vpid02_mapped(&map, 101), 0);
	CHECK_EQ(nested_vpid02_mapped(&map, 200), NESTED_VPID02_FIRST + 1);
	/* Next: 102 (slot 2); 100 and 105, used last, stay. */
	CHECK_EQ(nested_vpid02(&map, 201), NESTED_VPID02_FIRST + 2);
	CHECK_EQ(hw_calls.invvpid_vpid[1], NESTED_VPID02_FIRST + 2);
	CHECK_EQ(nested_vpid02_mapped(&map, 100), NESTED_VPID02_FIRST);
	CHECK_EQ(nested_vpid02_mapped(&map, 105), NESTED_VPID02_FIRST + 5);
	/* 101 comes back: a slot of its own again, flushed (not its old entries). */
	uint16_t back = nested_vpid02(&map, 101);
	CHECK_EQ(back, NESTED_VPID02_FIRST + 3); /* 103 was the least recent */
	CHECK_EQ(hw_calls.invvpid, 3);
	CHECK_EQ(hw_calls.invvpid_vpid[2], back);
	/* A lookup without assignment does not refresh: 104 is still the next victim. */
	nested_vpid02_mapped(&map, 104);
	CHECK_EQ(nested_vpid02(&map, 202), NESTED_VPID02_FIRST + 4);
}

TEST(nested_vpid_map_flushes)
{
	map_setup();
	nested_vpid02(&map, 5);
	nested_vpid02(&map, 9);
	hw_fake_reset();
	nested_vpid_flush(&map, 9);
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.invvpid_vpid[0], NESTED_VPID02_FIRST + 1);
	nested_vpid_flush(&map, 6); /* unmapped: nothing cached */
	nested_vpid_flush(&map, 0);
	CHECK_EQ(hw_calls.invvpid, 1);
	hw_fake_reset();
	nested_vpid_flush_all(&map);
	CHECK_EQ(hw_calls.invvpid, 3);
	CHECK_EQ(hw_calls.invvpid_vpid[0], NESTED_VPID02_FIRST);
	CHECK_EQ(hw_calls.invvpid_vpid[1], NESTED_VPID02_FIRST + 1);
	CHECK_EQ(hw_calls.invvpid_vpid[2], L2_VPID);
	/* All-context with every slot taken: 16 vpid02s and L2's, never L1's. */
	for (uint16_t i = 0; i < NESTED_VPID_SLOTS; i++)
		nested_vpid02(&map, (uint16_t)(300 + i));
	hw_fake_reset();
	nested_vpid_flush_all(&map);
	CHECK_EQ(hw_calls.invvpid, NESTED_VPID_SLOTS + 1);
	for (unsigned i = 0; i < NESTED_VPID_SLOTS; i++)
		CHECK_EQ(hw_calls.invvpid_vpid[i], NESTED_VPID02_FIRST + i);
	CHECK_EQ(hw_calls.invvpid_vpid[NESTED_VPID_SLOTS], L2_VPID);
	/* Reset: every slot flushed and forgotten. */
	hw_fake_reset();
	nested_vpid_reset(&map);
	CHECK_EQ(hw_calls.invvpid, NESTED_VPID_SLOTS);
	for (uint16_t i = 0; i < NESTED_VPID_SLOTS; i++)
		CHECK_EQ(nested_vpid02_mapped(&map, (uint16_t)(300 + i)), 0);
	hw_fake_reset();
	nested_vpid_reset(&map); /* empty: nothing to flush */
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK_EQ(nested_vpid02(&map, 7), NESTED_VPID02_FIRST);
}

/* ---- VM entries and exits ---- */

#define L1S_VPID 0x77

static void enable_vpid(struct vmcs12 *v, uint16_t vpid)
{
	vmcs12_set(v, VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vmcs12_get(v, VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_ENABLE_VPID);
	vmcs12_set(v, VMCS_VIRTUAL_PROCESSOR_ID, vpid);
}

static void calls_reset(void)
{
	memset(&hw_calls, 0, sizeof(hw_calls));
}

static void l2_exits_to_l1(void)
{
	calls_reset();
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	CHECK(!NV->in_l2);
}

/* SDM 27.3.2.5, 28.5.5: without VPID, entries flush L2's VPID and exits L1's. */
TEST(nested_vpid_without_vpid_flush_on_entry_and_exit)
{
	run_setup();
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), L2_VPID);
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.invvpid_vpid[0], L2_VPID);
	l2_exits_to_l1();
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.invvpid_vpid[0], L1_VPID);
	calls_reset();
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.invvpid_vpid[0], L2_VPID);
	/* A VPID in the field does nothing while "enable VPID" is 0. */
	l2_exits_to_l1();
	vmcs12_set(V12, VMCS_VIRTUAL_PROCESSOR_ID, L1S_VPID);
	calls_reset();
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), L2_VPID);
	CHECK_EQ(hw_calls.invvpid_vpid[0], L2_VPID);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* With VPID: vmcs02 runs L2 under the mapped vpid02, and nothing is flushed. */
TEST(nested_vpid_with_vpid_no_flush)
{
	run_setup();
	enable_vpid(V12, L1S_VPID);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), NESTED_VPID02_FIRST);
	CHECK_EQ(f02(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_VPID, CPU2_ENABLE_VPID);
	/* Only the new slot's first-use flush. */
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.invvpid_vpid[0], NESTED_VPID02_FIRST);
	l2_exits_to_l1();
	CHECK_EQ(hw_calls.invvpid, 0); /* L1's translations retained (SDM 28.5.5) */
	CHECK_EQ(f12(VMCS_VIRTUAL_PROCESSOR_ID), L1S_VPID); /* the rebuild leaves it L1's */
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), NESTED_VPID02_FIRST);
	CHECK_EQ(hw_calls.invvpid, 0); /* L2's retained too */

	/* L1 gives this L2 another VPID, its own number 1: another slot, never VPID 1. */
	l2_exits_to_l1();
	vmcs12_set(V12, VMCS_VIRTUAL_PROCESSOR_ID, L1_VPID);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), NESTED_VPID02_FIRST + 1);
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.invvpid_vpid[0], NESTED_VPID02_FIRST + 1);
	/* And back: the first slot again, with what it cached. */
	l2_exits_to_l1();
	vmcs12_set(V12, VMCS_VIRTUAL_PROCESSOR_ID, L1S_VPID);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), NESTED_VPID02_FIRST);
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* SDM 27.2.1.1: "enable VPID" with VPID 0000H is VMfailValid(7); nothing mapped or flushed. */
TEST(nested_vpid_zero_vmfails_7)
{
	run_setup();
	enable_vpid(V12, 0);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), 7);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS), 0x202 | RFLAGS_ZF);
	CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0 + LEN_VMLAUNCH);
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK_EQ(hw_calls.vmcs_ops, 0);
	CHECK_EQ(nested_vpid02_mapped(&NV->cpu.vpid, 0), 0);
	CHECK(run_log_has("VIRTUAL_PROCESSOR_ID must not be 0"));
	/*
	 * Without "activate secondary controls", "enable VPID" is 0 (27.2.1.1):
	 * it enters, and a VPID in the field is not used.
	 */
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   f12(VMCS_CPU_BASED_VM_EXEC_CONTROL) & ~(uint64_t)CPU_ACTIVATE_SECONDARY);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), L2_VPID);
	CHECK_EQ(hw_calls.invvpid_vpid[0], L2_VPID);
	l2_exits_to_l1();
	CHECK_EQ(hw_calls.invvpid_vpid[0], L1_VPID);
	vmcs12_set(V12, VMCS_VIRTUAL_PROCESSOR_ID, L1S_VPID);
	calls_reset();
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), L2_VPID);
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.invvpid_vpid[0], L2_VPID);
	CHECK_EQ(nested_vpid02_mapped(&NV->cpu.vpid, L1S_VPID), 0);
	l2_exits_to_l1();
	CHECK_EQ(hw_calls.invvpid_vpid[0], L1_VPID);
	CHECK_EQ(run_stub_errors, 0);
}

/* Two vmcs12s with their own VPIDs: their own vpid02s, L1's INVVPID reaches the right one. */
TEST(nested_vpid_two_l2s)
{
	run_setup();
	struct vmcs12 b;
	run_valid_vmcs12(&b);
	enable_vpid(&b, 0x22);
	run_put_vmcs12(VMCS12_B, &b);
	enable_vpid(V12, 0x11);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), NESTED_VPID02_FIRST);
	l2_exits_to_l1();
	run_l1_vmptrld(VMCS12_B);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), NESTED_VPID02_FIRST + 1);
	CHECK_EQ(nested_vpid02_mapped(&NV->cpu.vpid, 0x11), NESTED_VPID02_FIRST);
	CHECK_EQ(nested_vpid02_mapped(&NV->cpu.vpid, 0x22), NESTED_VPID02_FIRST + 1);
	CHECK_EQ(run_stub_errors, 0);
}
