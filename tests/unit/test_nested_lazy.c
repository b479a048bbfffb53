/*
 * test_nested_lazy.c - the lazy vmcs12 rebuild (nested/sync12.c's lazy
 * rows, nested_complete_vmcs12) and the clean VMRESUME that refreshes
 * vmcs02 instead of rebuilding it (nested/vmentry.c), driven through the
 * real exit dispatcher on the run fixture: a VMREAD of every lazy field
 * after a reflected exit returns what the whole rebuild would have; VMXOFF
 * writes the whole state to L1's region; an emulated VMWRITE is neither
 * lost nor allowed to revert the other lazy fields; and a VMRESUME after
 * L1's RIP, RSP and HOST_RSP through the shadow writes 10 fields or fewer
 * (test_nested_dirty.c: the other groups).
 */
#include "test.h"

#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "nested/operand.h"
#include "nested/shadow_vmcs.h"
#include "nested/sync12.h"
#include "vmx/controls.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>
#include <string.h>

#define SHADOW_PA RUN_SHADOW_PA
#define LEN_VMXOFF 3

/*
 * Whether the rebuild reads this lazy row for the fixture's vmcs12: no
 * EPT12 (no PDPTEs), DR7/DEBUGCTL and PAT only where L1's exit controls
 * save them.
 */
static bool lazy_row(const struct vmcs_field_info *f)
{
	if (f->rebuild != VMCS_RB_LAZY || !vmcs_field_exists(f, &g_l0.l1_vmx))
		return false;
	uint64_t exit = f12(VMCS_VM_EXIT_CONTROLS);
	switch (f->encoding) {
	case VMCS_GUEST_PDPTE0:
	case VMCS_GUEST_PDPTE1:
	case VMCS_GUEST_PDPTE2:
	case VMCS_GUEST_PDPTE3:
		return false;
	case VMCS_GUEST_DR7:
	case VMCS_GUEST_IA32_DEBUGCTL:
		return exit & EXIT_SAVE_DEBUG_CONTROLS;
	case VMCS_GUEST_IA32_PAT:
		return exit & EXIT_SAVE_IA32_PAT;
	}
	return true;
}

/*
 * The lazy fields L2 "changed" to a pattern, each still a valid guest
 * state for a 64-bit L2 (the full entry path checks it): bases, the
 * descriptor-table limits, SYSENTER.  The other lazy fields keep vmcs12's.
 */
static bool patterned(uint32_t encoding)
{
	switch (encoding) {
	case VMCS_GUEST_ES_BASE:
	case VMCS_GUEST_DS_BASE:
	case VMCS_GUEST_FS_BASE:
	case VMCS_GUEST_GS_BASE:
	case VMCS_GUEST_GDTR_BASE:
	case VMCS_GUEST_IDTR_BASE:
	case VMCS_GUEST_GDTR_LIMIT:
	case VMCS_GUEST_IDTR_LIMIT:
	case VMCS_GUEST_SYSENTER_CS:
	case VMCS_GUEST_SYSENTER_ESP:
	case VMCS_GUEST_SYSENTER_EIP:
		return true;
	}
	return false;
}

#define PATTERN(idx) (0x5000ull + (idx))

/*
 * L1 launched L2; L2 ran and changed every lazy field (a pattern in
 * vmcs02), then its HLT exits to L1.  vmcs02 is current during the
 * pattern writes; vmcs01 after the exit.
 */
static void launch_run_and_exit(bool shadow)
{
	run_setup();
	if (shadow) {
		run_shadow_on();
	}
	CHECK(run_l1_vmlaunch());
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (lazy_row(f) && patterned(f->encoding))
			vmcs_soft_set(f->encoding, PATTERN(i));
	}
	vmcs_soft_set(VMCS_GUEST_RIP, L2_RIP + 0x30);
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	CHECK(!NV->in_l2);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
}

/* What the whole rebuild would have given, read from vmcs02 now. */
static void eager_reference(struct vmcs12 *ref)
{
	*ref = *V12;
	vmcs_soft_load(VMCS02_PA);
	nested_sync_vmcs12(ref, &g_l0.l1_vmx, &NV->cr);
	vmcs_soft_load(VMCS01_PA);
}

TEST(lazy_rebuild_reads_only_eager_rows_at_the_exit)
{
	launch_run_and_exit(false);
	CHECK(NV->lazy_pending);
	CHECK(NV->last_sync_reads <= 20);
	/* Every patterned lazy field is still vmcs12's older value, the pattern only in vmcs02. */
	unsigned stale = 0, lazy = 0;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (!lazy_row(f) || !patterned(f->encoding))
			continue;
		lazy++;
		stale += V12->field[i] != PATTERN(i);
	}
	CHECK_EQ(lazy, 11);
	CHECK_EQ(stale, lazy);
	/* The eager ones are L2's: RIP, the exit reason. */
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP + 0x30);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_HLT);
}

TEST(lazy_vmread_of_every_lazy_field_equals_the_eager_value)
{
	launch_run_and_exit(false);
	struct vmcs12 ref;
	eager_reference(&ref);
	unsigned checked = 0, bad = 0;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (!lazy_row(f))
			continue;
		uint64_t got = run_l1_vmread(f->encoding);
		checked++;
		if (got != ref.field[i] || (patterned(f->encoding) && got != PATTERN(i))) {
			bad++;
			printf("    lazy field %s: VMREAD 0x%llx, whole rebuild 0x%llx\n", f->name,
			       (unsigned long long)got, (unsigned long long)ref.field[i]);
		}
	}
	CHECK(checked >= 40);
	CHECK_EQ(bad, 0);
	/* The first VMREAD completed the rebuild, once. */
	CHECK(!NV->lazy_pending);
	CHECK_EQ(NV->lazy_completions, 1);
	CHECK_EQ(memcmp(V12->field, ref.field, sizeof(ref.field)), 0);
	CHECK_EQ(run_stub_errors, 0);
}

TEST(lazy_vmxoff_writes_the_whole_state_to_l1s_region)
{
	launch_run_and_exit(false);
	struct vmcs12 ref;
	eager_reference(&ref);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMXOFF, LEN_VMXOFF, true), 0);
	struct vmcs12 in_mem;
	memcpy(&in_mem, run_l1_ptr(VMCS12_A), sizeof(in_mem));
	CHECK_EQ(memcmp(in_mem.field, ref.field, sizeof(ref.field)), 0);
	CHECK_EQ(vmcs12_get(&in_mem, VMCS_GUEST_ES_BASE),
		 PATTERN(VMCS_IDX_GUEST_ES_BASE));
}

TEST(lazy_vmwrite_then_vmresume_keeps_l1s_value_and_l2s_state)
{
	launch_run_and_exit(false);
	/* L1 changes one lazy field; VMRESUME: vmcs02's guest area rewritten from the whole vmcs12. */
	run_l1_vmwrite(VMCS_GUEST_FS_BASE, 0x7f00ull);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS) & VMX_RFLAGS_MASK, 0);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->last_entry_dirty, VMCS_DIRTY(VMCS_DG_GUEST));
	CHECK_EQ(f02(VMCS_GUEST_FS_BASE), 0x7f00);
	/* L2's other lazy state survived the rebuild (read before it, not reverted). */
	CHECK_EQ(f02(VMCS_GUEST_ES_BASE), PATTERN(VMCS_IDX_GUEST_ES_BASE));
	CHECK_EQ(f02(VMCS_GUEST_SYSENTER_EIP), PATTERN(VMCS_IDX_GUEST_SYSENTER_EIP));
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + 0x30);
	CHECK_EQ(run_stub_errors, 0);
}

TEST(clean_vmresume_refreshes_vmcs02_with_few_writes)
{
	launch_run_and_exit(true);
	/* L1 advances RIP in its shadow (no exit), then VMRESUME. */
	vmcs_soft_set_in(SHADOW_PA, VMCS_GUEST_RIP, L2_RIP + 0x31);
	vmcs_soft_clear_counters();
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->clean_entries, 1);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + 0x31);
	/* vmcs02 still holds L2's lazy state, none of it read or rewritten. */
	CHECK_EQ(f02(VMCS_GUEST_ES_BASE), PATTERN(VMCS_IDX_GUEST_ES_BASE));
	CHECK(NV->lazy_pending);
	unsigned long writes = 0;
	for (unsigned c = 0; c < 4; c++)
		writes += vmcs_soft_writes_in(VMCS02_PA, (enum vmcs_class)c);
	CHECK(writes <= 10);
	CHECK_EQ(vmcs_soft_reads_in(VMCS02_PA, VMCS_CLASS_GUEST), 0);
	CHECK_EQ(vmcs_soft_launch_state(VMCS02_PA), VMCS_SOFT_LAUNCH_LAUNCHED);
	CHECK_EQ(run_stub_errors, 0);
	/* The next exit and a VMREAD of a lazy field: L2's value. */
	vmcs_soft_set(VMCS_GUEST_ES_BASE, 0x6000);
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	CHECK_EQ(run_l1_vmread(VMCS_GUEST_ES_BASE), 0x6000);
}

TEST(clean_vmresume_rechecks_the_guest_group_after_a_shadow_rflags_write)
{
	launch_run_and_exit(true);
	/* RFLAGS has checks of its own and interplay with the rest: the guest group. */
	vmcs_soft_set_in(SHADOW_PA, VMCS_GUEST_RFLAGS, 0x246);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->last_entry_dirty, VMCS_DIRTY(VMCS_DG_GUEST));
	CHECK_EQ(f02(VMCS_GUEST_RFLAGS), 0x246);
	CHECK_EQ(f02(VMCS_GUEST_ES_BASE), PATTERN(VMCS_IDX_GUEST_ES_BASE));
}

TEST(clean_vmresume_not_after_an_emulated_vmwrite_of_a_control)
{
	launch_run_and_exit(true);
	run_l1_vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 14);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->clean_entries, 0);
	CHECK_EQ(f02(VMCS_EXCEPTION_BITMAP), 1u << 14);
}

TEST(clean_vmresume_checks_rip)
{
	launch_run_and_exit(true);
	/* A 64-bit L2 (IA-32e, CS.L): RIP bits 63:N must be identical (SDM 27.3.1.4). */
	vmcs_soft_set_in(SHADOW_PA, VMCS_GUEST_RIP, 0x0001000000000000ull);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
	CHECK(run_log_has("GUEST_RIP bits 63:N must be identical"));
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
}

TEST(clean_vmresume_not_after_a_vmlaunch)
{
	launch_run_and_exit(true);
	/* VMLAUNCH needs a clear VMCS: VMfail 4 here, and nothing clean about it. */
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, 3, true), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->clean_entries, 0);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), 4);
}

TEST(clean_vmresume_not_on_a_vmcs02_of_another_vmcs12)
{
	launch_run_and_exit(true);
	/* vmcs02 last ran another vmcs12 (as after L1's VMPTRLDs and a launch of that one). */
	NV->vmcs02_for = VMCS12_B;
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 1);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->clean_entries, 0);
	CHECK_EQ(f02(VMCS_GUEST_ES_BASE), PATTERN(VMCS_IDX_GUEST_ES_BASE));
}

/*
 * An exit L1 gets that is not the CPU's own saving of L2's state (here an
 * exception L0 raised for L2 that L1's exception bitmap wants, nested/
 * vmexit.c l0_exception_exits_to_l1) leaves vmcs12 not clean: the next
 * VMRESUME rebuilds vmcs02 whole.
 */
TEST(clean_vmresume_only_after_an_exit_the_cpu_saved)
{
	run_setup();
	vmcs12_set(V12, VMCS_EXCEPTION_BITMAP, 1u << 13);
	run_shadow_on();
	CHECK(run_l1_vmlaunch());
	regs.gpr[GPR_RAX] = CR4_PAE | (1u << 7); /* L2 clears CR4.VMXE: L0's #GP, L1's exit */
	run_l2_exit(EXIT_REASON_CR_ACCESS, 4 /* MOV to CR4 from RAX */, 3);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
	CHECK(!NV->clean);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->clean_entries, 0);
	/* And after an ordinary exit the same VMRESUME is clean. */
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	CHECK(NV->clean);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK_EQ(NV->clean_entries, 1);
	CHECK_EQ(run_stub_errors, 0);
}

static bool all_ones(const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i] != 0xff)
			return false;
	return true;
}

/*
 * vmcs02's MSR bitmap: all ones while vmcs12 has no MSR bitmaps (written
 * once, not per entry), L0's | L1's when it has them, and all ones again
 * when L1 turns them off.
 */
TEST(msr_bitmap02_follows_l1s_control_across_entries)
{
	run_setup();
	uint64_t proc = f12(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL, proc & ~(uint64_t)CPU_USE_MSR_BITMAPS);
	CHECK(run_l1_vmlaunch());
	CHECK(all_ones(msr_bitmap02, sizeof(msr_bitmap02)));
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(all_ones(msr_bitmap02, sizeof(msr_bitmap02)));
	/* L1 turns its (all-zero) bitmap on: L0's own intercepts only. */
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	run_l1_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(NV->in_l2);
	CHECK(!all_ones(msr_bitmap02, sizeof(msr_bitmap02)));
	CHECK_EQ(memcmp(msr_bitmap02, (const void *)(uintptr_t)g_l0.msr_bitmap_pa, 4096), 0);
	/* And off again: all ones. */
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	run_l1_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc & ~(uint64_t)CPU_USE_MSR_BITMAPS);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, 3, true), 0);
	CHECK(NV->in_l2);
	CHECK(all_ones(msr_bitmap02, sizeof(msr_bitmap02)));
	CHECK_EQ(run_stub_errors, 0);
}

/*
 * L1's VMCLEAR of its current VMCS, with its memory operand, right after a
 * reflected exit: the region in L1's memory gets the whole state - the lazy
 * fields read from vmcs02 first - and launch state clear.  L1's paging: a
 * 2-MiB identity page over MEM_BASE (tables at MEM_BASE + 0x30000).
 */
#define L1_PML4 (MEM_BASE + 0x30000)
#define L1_SLOT (MEM_BASE + 0x33000)
#define LEN_VMCLEAR 4 /* 66 0F C7 30 */

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(run_l1_ptr(gpa), &v, 8);
}

TEST(lazy_vmclear_writes_the_whole_state_to_l1s_region)
{
	launch_run_and_exit(false);
	struct vmcs12 ref;
	eager_reference(&ref);
	put64(L1_PML4, (L1_PML4 + 0x1000) | 3);
	put64(L1_PML4 + 0x1000, (L1_PML4 + 0x2000) | 3);
	put64(L1_PML4 + 0x2000 + 8 * (MEM_BASE >> 21), MEM_BASE | 0x83); /* 2 MiB, RW, present */
	vmcs_soft_set(VMCS_GUEST_CR3, L1_PML4);
	vmcs_soft_set(VMCS_GUEST_DS_AR_BYTES, 0xc093);
	put64(L1_SLOT, VMCS12_A);
	regs.gpr[GPR_RAX] = L1_SLOT;
	/* [rax], 64-bit address size, DS (SDM Vol. 3C table 28-13). */
	vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO,
		      (2u << 7) | ((uint32_t)NSEG_DS << 15) | (1u << 22) | ((uint32_t)GPR_RAX << 23));
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMCLEAR, LEN_VMCLEAR, true), 0);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS) & VMX_RFLAGS_MASK, 0); /* VMsucceed */
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12 + LEN_VMCLEAR);
	CHECK_EQ(NV->cpu.current_vmptr, VMPTR_INVALID);
	struct vmcs12 in_mem;
	memcpy(&in_mem, run_l1_ptr(VMCS12_A), sizeof(in_mem));
	CHECK_EQ(memcmp(in_mem.field, ref.field, sizeof(ref.field)), 0);
	CHECK_EQ(vmcs12_get(&in_mem, VMCS_GUEST_GDTR_BASE), PATTERN(VMCS_IDX_GUEST_GDTR_BASE));
	CHECK_EQ(in_mem.launch_state, VMCS12_LAUNCH_CLEAR);
	CHECK_EQ(run_stub_errors, 0);
}
