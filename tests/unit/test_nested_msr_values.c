/*
 * test_nested_msr_values.c - the values of vmcs12's MSR-load areas (issue
 * 10 item 6), through the real run path (fixture: nested_run_fixture.h).
 *
 * SDM Vol. 3C 27.4 and 28.6: an entry fails when its index is one the SDM
 * names (FS/GS base, x2APIC MSRs, IA32_SMM_MONITOR_CTL) or when WRMSR at
 * CPL 0 of its value would #GP.  L0's MSR table (vmx/msr_policy.h) makes
 * the WRMSR checks, the same ones L1's own WRMSR gets, before anything
 * reaches vmcs02, vmcs01 or the CPU.  Each value below, in:
 *   - the VM-entry MSR-load area: a VM-entry failure (27.8), exit reason
 *     34 with bit 31, qualification the failing entry's 1-based number; the
 *     entries before it took effect (in vmcs02, on the CPU), vmcs02 never
 *     entered, L1 at its host RIP;
 *   - the VM-exit MSR-load area: a VMX abort (28.7) with indicator 4 in
 *     vmcs12's abort field, L1 shut down (the fixture's on_triple_fault =
 *     halt: the CPU stops there, in a forked child) and never "cannot
 *     resume L1": vmcs01 at the abort holds the earlier entries' values and
 *     nothing of the failing one.
 * IA32_KERNEL_GS_BASE with a canonical value works in both areas: the
 * CPU's register, which L1 and L2 share as on hardware (VM entry and exit
 * do not switch it).
 */
#define _GNU_SOURCE /* mmap */

#include "test.h"

#include "arch/x86/msr.h"
#include "arch/x86/regs.h"
#include "drivers/serial/log.h"
#include "halting.h"
#include "hw_fake.h"
#include "nested/msr_lists.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/cpuid_policy.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#define KGS_L1 0xffff888000001000ull  /* L1's KERNEL_GS_BASE on the CPU at the start */
#define KGS_L2 0xffffc90000abc000ull  /* what L1's entry area gives L2 */
#define KGS_L2_NOW 0xffffc90000def000ull /* what L2 wrote itself (no exit) */
#define KGS_L1_BACK 0xffff888000777000ull /* what L1's exit area gives back to L1 */
#define NONCANON48 0x0000800000000000ull  /* bit 47 set, 63:48 clear */
#define CANON57_ONLY 0x0080000000000000ull /* canonical at 57 bits, not at 48 */
#define SYSENTER_CS_GOOD 0x77
#define PAT_GOOD 0x0606060606060606ull
#define PAT_TYPE2 ((PAT_OK & ~0xffull) | 2) /* entry 0 a reserved memory type */

/* Values WRMSR at CPL 0 refuses, or indices 27.4/28.6 name. */
static const struct bad_value {
	uint32_t msr;
	uint64_t value;
	const char *what;
} bad[] = {
	{ MSR_IA32_EFER, EFER_L1 & ~EFER_LME, "EFER.LME cleared while paging is on (64-bit host)" },
	{ MSR_IA32_EFER, EFER_L1 | (1ull << 9), "EFER reserved bit 9" },
	{ MSR_IA32_EFER, EFER_L1 | (1ull << 63), "EFER reserved bit 63" },
	{ MSR_IA32_DEBUGCTL, 1ull << 3, "DEBUGCTL reserved bit 3" },
	{ MSR_IA32_DEBUGCTL, 1ull << 16, "DEBUGCTL reserved bit 16" },
	{ MSR_IA32_SYSENTER_EIP, NONCANON48, "SYSENTER_EIP non-canonical" },
	{ MSR_IA32_SYSENTER_ESP, 0x8000000000000000ull, "SYSENTER_ESP non-canonical" },
	{ MSR_IA32_FS_BASE, NONCANON48, "FS_BASE non-canonical" },
	{ MSR_IA32_GS_BASE, NONCANON48, "GS_BASE non-canonical" },
	{ MSR_IA32_FS_BASE, 0xffff888000000000ull, "FS_BASE at all (27.4, 28.6)" },
	{ MSR_IA32_KERNEL_GS_BASE, NONCANON48, "KERNEL_GS_BASE non-canonical" },
	{ MSR_IA32_KERNEL_GS_BASE, CANON57_ONLY, "KERNEL_GS_BASE canonical at 57 bits only" },
	{ MSR_IA32_LSTAR, NONCANON48, "LSTAR non-canonical" },
	{ MSR_IA32_PAT, PAT_TYPE2, "PAT memory type 2" },
	{ MSR_IA32_PAT, 0x0800000000000000ull, "PAT memory type 8" },
	{ 0x800, 0, "x2APIC range, first" },
	{ 0x808, 0, "x2APIC TPR" },
	{ 0x8ff, 0, "x2APIC range, last" },
	{ 0x9b, 0, "IA32_SMM_MONITOR_CTL" },
	{ 0x9e, 0, "IA32_SMBASE" },
	{ 0x570, 0, "IA32_RTIT_CTL (not offered)" },
};
#define NBAD (sizeof(bad) / sizeof(bad[0]))

/* The guest fields an MSR-load area can reach, and the CPU's KERNEL_GS_BASE. */
static const uint32_t fields[] = {
	VMCS_GUEST_IA32_EFER,	 VMCS_GUEST_IA32_PAT,	  VMCS_GUEST_IA32_DEBUGCTL,
	VMCS_GUEST_SYSENTER_CS,	 VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP,
	VMCS_GUEST_FS_BASE,	 VMCS_GUEST_GS_BASE,	  VMCS_GUEST_CR0,
	VMCS_GUEST_CR4,		 VMCS_GUEST_RIP,	  VMCS_VM_ENTRY_CONTROLS,
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct snapshot {
	bool taken;
	uint64_t field[NFIELDS];
	uint64_t kgs, lstar;
	unsigned wrmsr;
};

static void snap(struct snapshot *s, uint64_t vmcs)
{
	s->taken = true;
	for (unsigned i = 0; i < NFIELDS; i++)
		s->field[i] = vmcs_soft_get_in(vmcs, fields[i]);
	hw_fake_msr_get(MSR_IA32_KERNEL_GS_BASE, &s->kgs);
	hw_fake_msr_get(MSR_IA32_LSTAR, &s->lstar);
	s->wrmsr = hw_calls.wrmsr;
}

/* A field of the snapshot (its encoding). */
static uint64_t snapped(const struct snapshot *s, uint32_t encoding)
{
	for (unsigned i = 0; i < NFIELDS; i++)
		if (fields[i] == encoding)
			return s->field[i];
	return ~0ull;
}

static bool snap_equal(const struct snapshot *a, const struct snapshot *b)
{
	bool same = a->taken && b->taken && a->kgs == b->kgs && a->lstar == b->lstar &&
		    a->wrmsr == b->wrmsr;
	for (unsigned i = 0; i < NFIELDS; i++)
		same = same && a->field[i] == b->field[i];
	return same;
}

/*
 * The fixture with a CPU that reports NX and long mode (EFER.NXE is valid,
 * SDM Vol. 4 table 2-2) and has the MSRs L0 writes on it for L1.
 */
static void values_setup(void)
{
	run_setup();
	hw_fake_cpuid_set(0x80000001, 0, 0, 0, 0, CPUID_80000001_EDX_NX | (1u << 29));
	hw_fake_msr_add(MSR_IA32_KERNEL_GS_BASE, KGS_L1, 0);
	hw_fake_msr_add(MSR_IA32_LSTAR, 0xffffffff81c00080ull, 0);
}

/* Entries 1 and 2 good (a VMCS field, the CPU's KERNEL_GS_BASE), 3 the bad one, 4 good. */
static void put_area(uint64_t area, uint64_t kgs, const struct bad_value *b)
{
	run_msr_entry(area, 0, MSR_IA32_SYSENTER_CS, SYSENTER_CS_GOOD);
	run_msr_entry(area, 1, MSR_IA32_KERNEL_GS_BASE, kgs);
	if (b)
		run_msr_entry(area, 2, b->msr, b->value);
	run_msr_entry(area, 3, MSR_IA32_PAT, PAT_GOOD);
}

/* ---- the VM-entry MSR-load area (SDM 27.4): VM-entry failure, reason 34 ---- */

TEST(nested_msr_values_entry_area_fails_the_entry)
{
	/* What vmcs02 holds after entries 1 and 2 alone, entered (the reference). */
	values_setup();
	put_area(ENTRY_LOAD_AREA, KGS_L2, NULL);
	vmcs12_set(V12, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2);
	CHECK(run_l1_vmlaunch());
	struct snapshot ref = { 0 };
	snap(&ref, VMCS02_PA);
	CHECK_EQ(snapped(&ref, VMCS_GUEST_SYSENTER_CS), SYSENTER_CS_GOOD);
	CHECK_EQ(ref.kgs, KGS_L2);

	for (unsigned i = 0; i < NBAD; i++) {
		values_setup();
		put_area(ENTRY_LOAD_AREA, KGS_L2, &bad[i]);
		vmcs12_set(V12, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 4);
		vmcs12_set(V12, VMCS_EXIT_QUALIFICATION, 0x55);
		CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
		struct snapshot got = { 0 };
		snap(&got, VMCS02_PA);
		if (!CHECK(snap_equal(&got, &ref)))
			test_check(false, bad[i].what, __FILE__, __LINE__);
		/* 27.8: exit reason 34 with bit 31, the failing entry's number. */
		CHECK_EQ(f12(VMCS_VM_EXIT_REASON),
			 EXIT_REASON_FAILED_ENTRY | EXIT_REASON_MSR_LOADING);
		CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 3);
		CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_CLEAR);
		CHECK_EQ(NV->entry_failures, 1);
		CHECK_EQ(NV->entries, 0);
		/* vmcs02 never entered; L1 at its host RIP on vmcs01. */
		CHECK_EQ(vmcs_soft_launch_state(VMCS02_PA), VMCS_SOFT_LAUNCH_CLEAR);
		CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
		CHECK(!NV->in_l2);
		CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
		CHECK_EQ(hw_calls.last_wrmsr, MSR_IA32_KERNEL_GS_BASE);
		CHECK_EQ(run_stub_errors, 0);
		CHECK_EQ(vmcs_soft_errors(), 0);
		CHECK(run_log_has("VM entry to L2 failed, exit reason 34"));
		CHECK(!run_log_has("CPU halted"));
	}
}

/* ---- the VM-exit MSR-load area (SDM 28.6): VMX abort 4 ---- */

static struct snapshot *at_abort; /* shared with the forked child */

/* The child's log: vmcs01 as the abort finds it (before the CPU halts). */
static void abort_sink(const char *line, size_t len, void *ctx)
{
	(void)len;
	(void)ctx;
	if (!at_abort->taken && strstr(line, "VMX abort"))
		snap(at_abort, VMCS01_PA);
}

static void l2_exit_snapshot_at_abort(void)
{
	log_add_sink(abort_sink, NULL);
	run_l2_exit(EXIT_REASON_CPUID, 0, 2);
}

static uint32_t abort_in_memory(void)
{
	uint32_t a;
	memcpy(&a, run_l1_ptr(VMCS12_A + offsetof(struct vmcs12, abort)), 4);
	return a;
}

TEST(nested_msr_values_exit_area_is_vmx_abort_4)
{
	if (!at_abort) {
		void *p = mmap(NULL, sizeof(*at_abort), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		CHECK(p != MAP_FAILED);
		if (p == MAP_FAILED)
			return;
		at_abort = p;
	}
	/* What vmcs01 holds after entries 1 and 2 alone: L1 runs with it (the reference). */
	values_setup();
	put_area(EXIT_LOAD_AREA, KGS_L1_BACK, NULL);
	vmcs12_set(V12, VMCS_VM_EXIT_MSR_LOAD_COUNT, 2);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	CHECK_EQ(V12->abort, 0);
	struct snapshot ref = { 0 };
	snap(&ref, VMCS01_PA);
	CHECK_EQ(snapped(&ref, VMCS_GUEST_SYSENTER_CS), SYSENTER_CS_GOOD);
	CHECK_EQ(ref.kgs, KGS_L1_BACK);
	CHECK_EQ(snapped(&ref, VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST,
		 ENTRY_IA32E_MODE_GUEST);
	CHECK_EQ(ref.wrmsr, 1); /* KERNEL_GS_BASE's, the only WRMSR on the CPU */

	for (unsigned i = 0; i < NBAD; i++) {
		values_setup();
		put_area(EXIT_LOAD_AREA, KGS_L1_BACK, &bad[i]);
		vmcs12_set(V12, VMCS_VM_EXIT_MSR_LOAD_COUNT, 4);
		CHECK(run_l1_vmlaunch());
		memset(at_abort, 0, sizeof(*at_abort));
		CHECK_EQ(run_halting(l2_exit_snapshot_at_abort), HALTED_CLI);
		if (!CHECK(snap_equal(at_abort, &ref)))
			test_check(false, bad[i].what, __FILE__, __LINE__);
		CHECK_EQ(V12->abort, VMX_ABORT_LOAD_HOST_MSR);
		CHECK_EQ(abort_in_memory(), VMX_ABORT_LOAD_HOST_MSR);
		CHECK(strstr(halting_out, "VMX abort 4 (loading an MSR of L1 failed; MSR entry 3)"));
		CHECK(strstr(halting_out, "L1 triple fault at RIP 0xffffffffa0001000"));
		CHECK(!strstr(halting_out, "cannot resume L1"));
	}
}

/* ---- IA32_KERNEL_GS_BASE: the CPU's register, L1's and L2's in turn ---- */

TEST(nested_msr_values_kernel_gs_base_in_both_areas)
{
	values_setup();
	run_msr_entry(ENTRY_LOAD_AREA, 0, MSR_IA32_KERNEL_GS_BASE, KGS_L2);
	vmcs12_set(V12, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1);
	run_msr_entry(EXIT_STORE_AREA, 0, MSR_IA32_KERNEL_GS_BASE, 0);
	vmcs12_set(V12, VMCS_VM_EXIT_MSR_STORE_COUNT, 1);
	run_msr_entry(EXIT_LOAD_AREA, 0, MSR_IA32_KERNEL_GS_BASE, KGS_L1_BACK);
	vmcs12_set(V12, VMCS_VM_EXIT_MSR_LOAD_COUNT, 1);
	/* SDM 27.4: L2 starts with the entry area's value on the CPU. */
	CHECK(run_l1_vmlaunch());
	uint64_t kgs = 0;
	CHECK(hw_fake_msr_get(MSR_IA32_KERNEL_GS_BASE, &kgs));
	CHECK_EQ(kgs, KGS_L2);
	/* L2's own WRMSR (or SWAPGS) does not exit; 28.4 stores it, 28.6 gives L1 its value. */
	hw_fake_msr_add(MSR_IA32_KERNEL_GS_BASE, KGS_L2_NOW, 0);
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	uint64_t stored = 0;
	memcpy(&stored, run_l1_ptr(EXIT_STORE_AREA + 8), 8);
	CHECK_EQ(stored, KGS_L2_NOW);
	CHECK(hw_fake_msr_get(MSR_IA32_KERNEL_GS_BASE, &kgs));
	CHECK_EQ(kgs, KGS_L1_BACK);
	CHECK_EQ(V12->abort, 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_CPUID);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	/* And again on VMRESUME. */
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK(NV->in_l2);
	CHECK(hw_fake_msr_get(MSR_IA32_KERNEL_GS_BASE, &kgs));
	CHECK_EQ(kgs, KGS_L2);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * Canonical at the CPU's linear-address width (SDM Vol. 3A 3.3.7.1): with
 * 5-level paging (57 bits) a value that 4-level paging's 48 bits refuse
 * is loaded; one beyond 57 bits still fails, before the CPU sees it.
 */
TEST(nested_msr_values_canonical_at_the_cpu_width)
{
	values_setup();
	g_l0.msr.linear_width = 57;
	run_msr_entry(ENTRY_LOAD_AREA, 0, MSR_IA32_KERNEL_GS_BASE, CANON57_ONLY);
	run_msr_entry(ENTRY_LOAD_AREA, 1, MSR_IA32_SYSENTER_EIP, CANON57_ONLY);
	vmcs12_set(V12, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2);
	CHECK(run_l1_vmlaunch());
	uint64_t kgs = 0;
	CHECK(hw_fake_msr_get(MSR_IA32_KERNEL_GS_BASE, &kgs));
	CHECK_EQ(kgs, CANON57_ONLY);
	CHECK_EQ(f02(VMCS_GUEST_SYSENTER_EIP), CANON57_ONLY);

	values_setup();
	g_l0.msr.linear_width = 57;
	run_msr_entry(ENTRY_LOAD_AREA, 0, MSR_IA32_KERNEL_GS_BASE, 0x0100000000000000ull);
	vmcs12_set(V12, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_FAILED_ENTRY | EXIT_REASON_MSR_LOADING);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 1);
	CHECK_EQ(hw_calls.wrmsr, 0);
	CHECK(hw_fake_msr_get(MSR_IA32_KERNEL_GS_BASE, &kgs));
	CHECK_EQ(kgs, KGS_L1);
}
