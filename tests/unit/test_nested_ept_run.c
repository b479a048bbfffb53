/*
 * test_nested_ept_run.c - nested EPT through the entry and exit paths
 * (nested/ept12.c, vmentry.c, vmexit.c) on the software VMCSs of
 * nested_run_fixture.h: L1 enters L2 with "enable EPT" and an EPT12 in
 * its memory; vmcs02 gets EPT02's root; EPT02 violations are filled by L0,
 * reflected to L1 as its EPT violation (exact qualification) or
 * misconfiguration, or refused where EPT12 points at L0's memory; L1's
 * INVEPT and an EPT01 change drop EPT02 with an INVEPT of its root.
 */
#include "test.h"

#include "hw_fake.h"
#include "nested/ept02.h"
#include "nested/ept12.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/ept01.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <string.h>

/* EPT12 in L1's memory, for L2's GPA2 (PML4 0, PDPT 1, PD 1, PT 1). */
#define EPT12_PML4 (MEM_BASE + 0x30000)
#define EPT12_PDPT (MEM_BASE + 0x31000)
#define EPT12_PD (MEM_BASE + 0x32000)
#define EPT12_PT (MEM_BASE + 0x33000)
#define EPT12_LEAF (EPT12_PT + 8)
#define DATA1 (MEM_BASE + 0x38000) /* the L1 page behind GPA2 */
#define GPA2 0x40201000ull
#define EPTP12 (EPT12_PML4 | 0x1e) /* WB, walk 4 */
#define EPTP12_AD (EPTP12 | EPTP_AD_ENABLE)
#define WB (6ull << 3)
#define INFO_GP0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_GP)

static void put(uint64_t gpa, uint64_t v)
{
	memcpy(run_l1_ptr(gpa), &v, 8);
}

static uint64_t get(uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, run_l1_ptr(gpa), 8);
	return v;
}

static void ept12(uint64_t leaf)
{
	put(EPT12_PML4, EPT12_PDPT | EPT_RWX);
	put(EPT12_PDPT + 8, EPT12_PD | EPT_RWX);
	put(EPT12_PD + 8, EPT12_PT | EPT_RWX);
	put(EPT12_LEAF, leaf);
}

/* L1 enters L2 with its EPT at eptp12. */
static void enter(uint64_t eptp12, uint64_t leaf)
{
	run_setup();
	ept12(leaf);
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_ENABLE_EPT);
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL) | CPU_ACTIVATE_SECONDARY);
	vmcs12_set(V12, VMCS_EPT_POINTER, eptp12);
	CHECK(run_l1_vmlaunch());
	hw_calls.invept = 0;
}

static int l2_ept_violation(uint64_t gpa2, uint64_t qual)
{
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, gpa2);
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, 0);
	return run_l2_exit(EXIT_REASON_EPT_VIOLATION, qual, 3);
}

TEST(nested_ept_entry_runs_l2_on_ept02)
{
	enter(EPTP12_AD, DATA1 | WB | EPT_RWX);
	uint64_t eptp02 = f02(VMCS_EPT_POINTER);
	CHECK(eptp02 != L0_EPTP);
	CHECK_EQ(eptp02, NV->eptp02);
	/* WB, walk 4, A/D mirrored from EPTP12 (paging-structure accesses count as writes). */
	CHECK_EQ(eptp02 & 0xfff, 0x5e);
	CHECK_EQ(ept02_find(&NV->ept02, EPTP12_AD), eptp02 & EPT_ADDR_MASK);
	CHECK_EQ(f02(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_EPT, CPU2_ENABLE_EPT);
	/* Without A/D in EPTP12, none in EPTP02. */
	enter(EPTP12, DATA1 | WB | EPT_RWX);
	CHECK_EQ(f02(VMCS_EPT_POINTER) & 0xfff, 0x1e);
	CHECK_EQ(run_stub_errors, 0);
}

/* EPT12 grants the access: L0 makes EPT02's leaf and L2 runs on, L1 sees nothing. */
TEST(nested_ept_violation_filled)
{
	enter(EPTP12, DATA1 | WB | EPT_READ | EPT_EXEC);
	CHECK_EQ(l2_ept_violation(GPA2 | 0x10, 0x184 /* fetch */), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->reflected, 0);
	uint64_t root = NV->eptp02 & EPT_ADDR_MASK;
	CHECK_EQ(ept02_leaf(root, GPA2), DATA1 | EPT_READ | EPT_EXEC | WB);
	CHECK_EQ(hw_calls.invept, 0); /* a new leaf: nothing cached to invalidate */
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0);
	/* L1 makes the page writable (no INVEPT): the write's violation upgrades the leaf. */
	put(EPT12_LEAF, DATA1 | WB | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2 | 0x10, 0x182), 0);
	CHECK_EQ(ept02_leaf(root, GPA2), DATA1 | EPT_RWX | WB);
	CHECK_EQ(hw_calls.invept, 1);
	CHECK_EQ(hw_calls.last_invept_eptp, NV->eptp02);
	CHECK_EQ(NV->reflected, 0);
}

/* EPT12 denies it: L1's EPT violation, the CPU's bits with EPT12's rights (table 28-7). */
TEST(nested_ept_violation_reflected)
{
	enter(EPTP12, DATA1 | WB | EPT_READ | EPT_EXEC);
	vmcs_soft_set(VMCS_GUEST_LINEAR_ADDRESS, 0xffff800000123010ull);
	CHECK_EQ(l2_ept_violation(GPA2 | 0x10, 0x182 | (1ull << 3) /* EPT02's rights: R */), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_EPT_VIOLATION);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0x182 | (5ull << 3));
	CHECK_EQ(f12(VMCS_GUEST_PHYSICAL_ADDRESS), GPA2 | 0x10);
	CHECK_EQ(f12(VMCS_GUEST_LINEAR_ADDRESS), 0xffff800000123010ull);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO) & INTR_INFO_VALID, 0);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	/* Not present in EPT12: rights 0. */
	enter(EPTP12, 0);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0x181);
	CHECK_EQ(ept02_leaf(NV->eptp02 & EPT_ADDR_MASK, GPA2), 0);
}

TEST(nested_ept_misconfig_reflected)
{
	enter(EPTP12, DATA1 | (2ull << 3) | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_EPT_MISCONFIG);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
	CHECK_EQ(f12(VMCS_GUEST_PHYSICAL_ADDRESS), GPA2);
}

/* EPT12 pointing at L0's memory: never mapped; #GP(0) in L2, as L1's own access gets. */
TEST(nested_ept_l0_memory_refused)
{
	enter(EPTP12, (HV_BASE + 0x5000) | WB | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK_EQ(ept02_leaf(NV->eptp02 & EPT_ADDR_MASK, GPA2), 0);
	CHECK_EQ(vcpu.l0_refusals, 1);
}

/* SDM 29.3.5 under an A/D EPTP12: A set by the fill, D by the first write. */
TEST(nested_ept_accessed_dirty_in_ept12)
{
	enter(EPTP12_AD, DATA1 | WB | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	CHECK_EQ(get(EPT12_LEAF), DATA1 | WB | EPT_RWX | EPT_ACCESSED);
	CHECK_EQ(get(EPT12_PML4), EPT12_PDPT | EPT_RWX | EPT_ACCESSED);
	uint64_t root = NV->eptp02 & EPT_ADDR_MASK;
	CHECK_EQ(ept02_leaf(root, GPA2), DATA1 | EPT_READ | EPT_EXEC | WB);
	CHECK_EQ(l2_ept_violation(GPA2, 0x182), 0);
	CHECK_EQ(get(EPT12_LEAF), DATA1 | WB | EPT_RWX | EPT_ACCESSED | EPT_DIRTY);
	CHECK_EQ(ept02_leaf(root, GPA2), DATA1 | EPT_RWX | WB);
}

/* L1's INVEPT (after its checks) drops EPT02's root with an INVEPT of it. */
TEST(nested_ept_invept_drops_ept02)
{
	enter(EPTP12, DATA1 | WB | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	uint64_t eptp02 = NV->eptp02;
	nested_ept_invept(&vcpu, NESTED_INVEPT_SINGLE, EPTP12 | EPTP_AD_ENABLE);
	CHECK_EQ(ept02_find(&NV->ept02, EPTP12), 0);
	CHECK_EQ(hw_calls.invept, 1);
	CHECK_EQ(hw_calls.last_invept_eptp & EPT_ADDR_MASK, eptp02 & EPT_ADDR_MASK);
	/* Another EPTP is not touched; all-context drops everything. */
	enter(EPTP12, DATA1 | WB | EPT_RWX);
	nested_ept_invept(&vcpu, NESTED_INVEPT_SINGLE, (MEM_BASE + 0x3f000) | 0x1e);
	CHECK(ept02_find(&NV->ept02, EPTP12) != 0);
	CHECK_EQ(hw_calls.invept, 0);
	nested_ept_invept(&vcpu, NESTED_INVEPT_ALL, 0);
	CHECK_EQ(ept02_find(&NV->ept02, EPTP12), 0);
	CHECK_EQ(hw_calls.invept, 1);
	CHECK_EQ(NV->ept02.pages, 0);
}

/* The page bound: a fill with no page left starts EPT02 over, vmcs02 on the new root. */
TEST(nested_ept_full_starts_over)
{
	enter(EPTP12, DATA1 | WB | EPT_RWX);
	NV->ept02.max_pages = NV->ept02.pages + 3; /* one leaf's tables, no more */
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	CHECK_EQ(NV->ept02.pages, 4);
	/* GPA2 + 1 GiB: PDPT entry 2, a new PD and PT; EPT12 maps it too. */
	put(EPT12_PDPT + 16, EPT12_PD | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2 + (1ull << 30), 0x181), 0);
	CHECK_EQ(NV->ept02.overflows, 1);
	CHECK_EQ(hw_calls.invept, 1); /* the old root, before its pages went back */
	uint64_t root = NV->eptp02 & EPT_ADDR_MASK;
	CHECK_EQ(f02(VMCS_EPT_POINTER), NV->eptp02);
	CHECK_EQ(ept02_leaf(root, GPA2 + (1ull << 30)), DATA1 | EPT_RWX | WB);
	CHECK_EQ(ept02_leaf(root, GPA2), 0);
	CHECK(NV->in_l2);
}

/* A fifth EPTP12 evicts the least recently used root, invalidated before its pages go back. */
TEST(nested_ept_evicted_root_invalidated)
{
	enter(EPTP12, DATA1 | WB | EPT_RWX);
	uint64_t first = NV->eptp02 & EPT_ADDR_MASK;
	for (unsigned i = 1; i < EPT02_ROOTS; i++)
		CHECK(nested_ept_eptp02(&vcpu, EPTP12 + 0x1000 * i) != 0);
	CHECK_EQ(hw_calls.invept, 0);
	CHECK(nested_ept_eptp02(&vcpu, EPTP12 + 0x1000 * EPT02_ROOTS) != 0);
	CHECK_EQ(hw_calls.invept, 1);
	CHECK_EQ(hw_calls.last_invept_eptp & EPT_ADDR_MASK, first);
	CHECK_EQ(ept02_find(&NV->ept02, EPTP12), 0);
}

/* EPT02 carries EPT01's rights and types: built at another EPT01 generation, it is dropped. */
TEST(nested_ept_ept01_change_drops_ept02)
{
	enter(EPTP12, DATA1 | WB | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	uint64_t old = NV->eptp02 & EPT_ADDR_MASK;
	CHECK(ept02_leaf(old, GPA2) != 0);
	CHECK(nested_ept_eptp02(&vcpu, EPTP12) != 0); /* the same generation: kept */
	CHECK_EQ(hw_calls.invept, 0);
	CHECK(ept02_leaf(NV->eptp02 & EPT_ADDR_MASK, GPA2) != 0);
	NV->ept02_gen = ept01_generation() + 1; /* EPT01 changed since */
	CHECK(nested_ept_eptp02(&vcpu, EPTP12) != 0);
	CHECK_EQ(hw_calls.invept, 1);
	CHECK_EQ(hw_calls.last_invept_eptp & EPT_ADDR_MASK, old);
	CHECK_EQ(ept02_leaf(NV->eptp02 & EPT_ADDR_MASK, GPA2), 0);
	CHECK_EQ(NV->ept02_gen, ept01_generation());
}

/*
 * Issue 12, item 3: a real-mode L2 under L1's "unrestricted guest" (with
 * EPT12).  vmcs02 runs it with PE and PG 0 and the control; L0's refusal
 * of L0's memory injects #GP without an error code (SDM 27.2.1.3: none
 * in real mode); an exit L1 gets shows L2 still in real mode.
 */
static void enter_real_mode(uint64_t leaf)
{
	run_setup();
	ept12(leaf);
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL) | CPU_ACTIVATE_SECONDARY);
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_ENABLE_EPT |
		       CPU2_UNRESTRICTED_GUEST);
	vmcs12_set(V12, VMCS_EPT_POINTER, EPTP12);
	vmcs12_set(V12, VMCS_VM_ENTRY_CONTROLS,
		   vmcs12_get(V12, VMCS_VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST);
	vmcs12_set(V12, VMCS_GUEST_IA32_EFER, 0);
	vmcs12_set(V12, VMCS_GUEST_CR0, CR0_NE | CR0_ET);
	vmcs12_set(V12, VMCS_GUEST_CR4, CR4_VMXE);
	for (uint32_t i = 0; i < 6; i++) {
		vmcs12_set(V12, VMCS_GUEST_ES_SELECTOR + 2 * i, 0);
		vmcs12_set(V12, VMCS_GUEST_ES_BASE + 2 * i, 0);
		vmcs12_set(V12, VMCS_GUEST_ES_LIMIT + 2 * i, 0xffff);
		vmcs12_set(V12, VMCS_GUEST_ES_AR_BYTES + 2 * i, 0x93);
	}
	vmcs12_set(V12, VMCS_GUEST_CS_SELECTOR, 0xf000);
	vmcs12_set(V12, VMCS_GUEST_CS_BASE, 0xf0000);
	vmcs12_set(V12, VMCS_GUEST_CS_AR_BYTES, 0x9b);
	vmcs12_set(V12, VMCS_GUEST_RIP, 0xfff0);
	vmcs12_set(V12, VMCS_GUEST_RFLAGS, 0x2);
	CHECK(run_l1_vmlaunch());
}

TEST(nested_ept_real_mode_l2)
{
	enter_real_mode((HV_BASE + 0x5000) | WB | EPT_RWX);
	CHECK_EQ(f02(VMCS_GUEST_CR0) & (CR0_PE | CR0_PG), 0);
	CHECK_EQ(f02(VMCS_GUEST_CR0) & CR0_NE, CR0_NE);
	CHECK_EQ(f02(VMCS_SECONDARY_VM_EXEC_CONTROL) & (CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST),
		 CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST);
	CHECK_EQ(f02(VMCS_CR0_GUEST_HOST_MASK) & (CR0_PE | CR0_PG), 0);
	CHECK_EQ(f02(VMCS_GUEST_CS_BASE), 0xf0000);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD),
		 INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | VEC_GP);
	CHECK_EQ(vcpu.l0_refusals, 1);

	/* L1's own EPT violation: vmcs12 shows L2 as it was, PE and PG 0, not IA-32e. */
	enter_real_mode(0);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_EPT_VIOLATION);
	CHECK_EQ(f12(VMCS_GUEST_CR0) & (CR0_PE | CR0_PG), 0);
	CHECK_EQ(f12(VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST, 0);
	CHECK_EQ(run_stub_errors, 0);
}

/*
 * A 2-MiB EPT12 leaf over L1 memory that EPT01 maps with large leaves:
 * one 2-MiB EPT02 leaf (the CPU has 2-MiB pages); next to L0's memory,
 * where EPT01's 1-GiB leaf is split, still 2 MiB; over L0's memory,
 * refused as before.
 */
TEST(nested_ept_large_leaf_filled)
{
	enter(EPTP12, DATA1 | WB | EPT_RWX);
	put(EPT12_PD + 8, 0x00200000ull | EPT_LEAF | WB | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2 | 0x10, 0x181), 0);
	uint64_t root = NV->eptp02 & EPT_ADDR_MASK;
	CHECK_EQ(ept02_leaf(root, GPA2), 0x00200000ull | EPT_LEAF | EPT_RWX | WB);
	CHECK_EQ(ept02_leaf(root, GPA2 + 0x100000), ept02_leaf(root, GPA2));
	CHECK_EQ(NV->ept02.pages, 3); /* PML4, PDPT, PD: no page table */
	put(EPT12_PD + 16, (HV_BASE - 0x200000ull) | EPT_LEAF | WB | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2 + 0x200000ull, 0x181), 0);
	CHECK_EQ(ept02_leaf(root, GPA2 + 0x200000ull),
		 (HV_BASE - 0x200000ull) | EPT_LEAF | EPT_RWX | WB);
	put(EPT12_PD + 24, HV_BASE | EPT_LEAF | WB | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2 + 0x400000ull, 0x181), 0);
	CHECK_EQ(ept02_leaf(root, GPA2 + 0x400000ull), 0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK(NV->in_l2);
	/* A 1-GiB EPT12 leaf where the CPU has 1-GiB pages, and where it has 2-MiB ones only. */
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	put(EPT12_PDPT + 24, EPT_LEAF | WB | EPT_RWX); /* L2's 3 GiB: L1's first GiB */
	CHECK_EQ(l2_ept_violation(0xc0000000ull + 0x12345678ull, 0x181), 0);
	CHECK_EQ(ept02_leaf(root, 0xc0000000ull), EPT_LEAF | EPT_RWX | WB);
	uint64_t cap = g_l0.caps.ept_vpid_cap;
	g_l0.caps.ept_vpid_cap &= ~EPT_CAP_PAGE_1G;
	put(EPT12_PDPT + 32, EPT_LEAF | WB | EPT_RWX); /* L2's 4 GiB too */
	CHECK_EQ(l2_ept_violation(0x100000000ull + 0x12345678ull, 0x181), 0);
	g_l0.caps.ept_vpid_cap = cap;
	CHECK_EQ(ept02_leaf(root, 0x100000000ull + 0x12345678ull),
		 0x12200000ull | EPT_LEAF | EPT_RWX | WB);
}

/*
 * An entry with another EPTP12 at the page bound, a root slot free: the
 * other roots are dropped (each invalidated) and the new root made; no
 * spurious VM-entry failure.
 */
TEST(nested_ept_new_root_at_the_page_bound)
{
	enter(EPTP12, DATA1 | WB | EPT_RWX);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	uint64_t old = NV->eptp02 & EPT_ADDR_MASK;
	NV->ept02.max_pages = NV->ept02.pages; /* no page for another root */
	uint64_t other = (MEM_BASE + 0x3f000) | 0x1e;
	CHECK(nested_ept_eptp02(&vcpu, other) != 0);
	CHECK_EQ(ept02_find(&NV->ept02, EPTP12), 0);
	CHECK(ept02_find(&NV->ept02, other) != 0);
	CHECK_EQ(hw_calls.invept, 1); /* the old root, before its pages went back */
	CHECK_EQ(NV->ept02.pages, 1);
	(void)old;
}

/*
 * Where the CPU has 5-level EPT, L1 may enter with a 5-level EPTP12:
 * vmcs02's EPTP walks 5 levels too (EPT02 has a PML5), and a fill goes
 * through L1's PML5.
 */
TEST(nested_ept_five_level_eptp12)
{
	run_setup();
	g_l0.caps.ept_vpid_cap |= EPT_CAP_WALK_5;
	g_l0.l1_vmx.ept_vpid_cap |= EPT_CAP_WALK_5;
	uint64_t pml5 = MEM_BASE + 0x3e000;
	memset(run_l1_ptr(pml5), 0, 0x1000);
	put(pml5, EPT12_PML4 | EPT_RWX);
	ept12(DATA1 | WB | EPT_RWX);
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_ENABLE_EPT);
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL) | CPU_ACTIVATE_SECONDARY);
	vmcs12_set(V12, VMCS_EPT_POINTER, pml5 | EPTP_WALK_LENGTH_5 | 6);
	bool launched = run_l1_vmlaunch();
	g_l0.caps.ept_vpid_cap &= ~EPT_CAP_WALK_5;
	g_l0.l1_vmx.ept_vpid_cap &= ~EPT_CAP_WALK_5;
	CHECK(launched);
	CHECK_EQ(f02(VMCS_EPT_POINTER) & 0x38, EPTP_WALK_LENGTH_5);
	CHECK_EQ(l2_ept_violation(GPA2, 0x181), 0);
	uint64_t root = NV->eptp02 & EPT_ADDR_MASK;
	CHECK_EQ(ept02_leaf_in(root, 5, GPA2), DATA1 | EPT_RWX | WB);
	CHECK(NV->in_l2);
}
