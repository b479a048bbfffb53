/*
 * test_nested_run.c - L1's VMLAUNCH and VMRESUME (nested/vmentry.c): from
 * vmcs01 to vmcs02, through vmx_exit_dispatch and vmx_resume_failed, on
 * two software VMCSs (fixture: nested_run_fixture.h).
 *
 * Each test checks the exact outcome: which VMCS is current and in which
 * launch state the stub enters it; vmcs02's fields that come from vmcs12
 * and those that are L0's; for a VM-entry failure (SDM Vol. 3C 27.8) the
 * exit reason with bit 31 and the qualification in vmcs12, L1 at its
 * host RIP/RSP in vmcs01, vmcs12's launch state and the fields the
 * failure must not touch; for a VMfail of vmcs02 itself L1's VMfail
 * (SDM 31.2) at its VMLAUNCH/VMRESUME.
 *
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <string.h>

#define ERR_INVALID_CONTROL 7 /* SDM Vol. 3C 31.4 */
#define ERR_VMRESUME_NOT_LAUNCHED 5
#define REASON_FAIL(basic) (EXIT_REASON_FAILED_ENTRY | (basic))
#define SENTINEL_EXIT_INTR_INFO 0x80000b0eu /* an exit-information value L1 saw earlier */

/* vmcs01 untouched: L1 still at its VMLAUNCH/VMRESUME. */
#define CHECK_VMCS01_AT_INSN(rip)                                                                  \
	do {                                                                                       \
		CHECK_EQ(f01(VMCS_GUEST_RIP), (rip));                                              \
		CHECK_EQ(vmcs_soft_writes_in(VMCS01_PA, VMCS_CLASS_GUEST) +                        \
			     vmcs_soft_writes_in(VMCS01_PA, VMCS_CLASS_CONTROL),                   \
			 0);                                                                       \
	} while (0)

/* L1 continues after a VM-entry failure or exit: vmcs01 current, at vmcs12's host RIP/RSP. */
#define CHECK_L1_AT_HOST_RIP()                                                                     \
	do {                                                                                       \
		CHECK_EQ(vmcs_soft_current(), VMCS01_PA);                                          \
		CHECK(!NV->in_l2);                                                                 \
		CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);                                         \
		CHECK_EQ(f01(VMCS_GUEST_RSP), HOST_RSP12);                                         \
		CHECK_EQ(f01(VMCS_GUEST_RFLAGS), RFLAGS_RESERVED1);                                \
		CHECK_EQ(f01(VMCS_GUEST_CR3), L1_HOST_CR3);                                        \
		CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0);                 \
	} while (0)

TEST(nested_run_vmlaunch_enters_l2)
{
	run_setup();
	vmcs12_set(V12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_EXTINT(0x30));
	int launch = run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true);
	CHECK_EQ(launch, 1);
	CHECK(NV->in_l2);
	CHECK(!vcpu.enter_launch); /* taken by the dispatcher */
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_LAUNCHED);
	CHECK_EQ(NV->vmcs02_for, VMCS12_A);
	CHECK_EQ(NV->entries, 1);
	CHECK_EQ(NV->entry_failures, 0);
	/* vmcs02: VMCLEAR, VMPTRLD, then L0's host state into it; the stub VMLAUNCHes it. */
	CHECK_EQ(hw_calls.vmcs_ops, 3);
	CHECK_EQ(hw_calls.vmcs_op[0].op, 'C');
	CHECK_EQ(hw_calls.vmcs_op[0].pa, VMCS02_PA);
	CHECK_EQ(hw_calls.vmcs_op[1].op, 'P');
	CHECK_EQ(hw_calls.vmcs_op[1].pa, VMCS02_PA);
	CHECK_EQ(hw_calls.vmcs_op[2].op, 'H');
	CHECK_EQ(hw_calls.host_state_vmcs, VMCS02_PA);
	CHECK_EQ(vmcs_soft_current(), VMCS02_PA);
	CHECK_EQ(vmcs_soft_launch_state(VMCS02_PA), VMCS_SOFT_LAUNCH_LAUNCHED);
	CHECK_EQ(run_stub_errors, 0);
	/* Guest state from vmcs12, controls L1's | L0's. */
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(f02(VMCS_GUEST_RSP), L2_RSP);
	CHECK_EQ(f02(VMCS_GUEST_CR3), L2_CR3);
	CHECK_EQ(f02(VMCS_GUEST_CS_AR_BYTES), 0xa09b);
	CHECK_EQ(f02(VMCS_VMCS_LINK_POINTER), ~0ull);
	CHECK_EQ(f02(VMCS_EPT_POINTER), L0_EPTP);
	CHECK_EQ(f02(VMCS_VIRTUAL_PROCESSOR_ID), L2_VPID);
	CHECK_EQ(f02(VMCS_MSR_BITMAP), (uintptr_t)msr_bitmap02);
	CHECK_EQ(f02(VMCS_SECONDARY_VM_EXEC_CONTROL) & (CPU2_ENABLE_EPT | CPU2_ENABLE_VPID),
		 CPU2_ENABLE_EPT | CPU2_ENABLE_VPID);
	CHECK_EQ(f02(VMCS_PIN_BASED_VM_EXEC_CONTROL) & (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS),
		 PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_EXTINT(0x30));
	CHECK_EQ(f02(VMCS_VM_ENTRY_MSR_LOAD_COUNT), 0);
	/* L0's MSR intercepts survive the merge with L1's empty bitmap (0x3a read: bit 0x3a). */
	CHECK_EQ(msr_bitmap02[0x3a / 8] & (1u << (0x3a % 8)), 1u << (0x3a % 8));
	/* A TLB of its own for L2. */
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.last_vpid, L2_VPID);
	/* vmcs01 untouched: L1 still at its VMLAUNCH. */
	CHECK_VMCS01_AT_INSN(RIP0);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS), 0x202);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(nested_run_vmresume_and_other_vmcs12)
{
	run_setup();
	CHECK(run_l1_vmlaunch());
	/* L2 exits (CPUID, L1's); L1 VMRESUMEs the same vmcs12: no VMCLEAR, VMRESUME of vmcs02. */
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	unsigned clears = hw_calls.vmclear;
	vmcs_soft_clear_counters();
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(hw_calls.vmclear, clears);
	CHECK_EQ(hw_calls.last_vmptrld, VMCS02_PA);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_LAUNCHED);
	CHECK_EQ(NV->entries, 2);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12); /* L1's VMRESUME sits at its host RIP */

	/* L1 makes another vmcs12 current (VMCS12_B, clear) and launches it: VMCLEAR again. */
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	struct vmcs12 b;
	run_valid_vmcs12(&b);
	vmcs12_set(&b, VMCS_GUEST_RIP, L2_RIP + 0x1000);
	run_put_vmcs12(VMCS12_B, &b);
	run_l1_vmptrld(VMCS12_B);
	clears = hw_calls.vmclear;
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 1);
	CHECK_EQ(hw_calls.vmclear, clears + 1);
	CHECK_EQ(hw_calls.last_vmclear, VMCS02_PA);
	CHECK_EQ(NV->vmcs02_for, VMCS12_B);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + 0x1000);

	/* Back to VMCS12_A (launched) with VMRESUME: vmcs02 was launched for B, so VMLAUNCH. */
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	run_l1_vmptrld(VMCS12_A);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_LAUNCHED);
	clears = hw_calls.vmclear;
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 1);
	CHECK_EQ(hw_calls.vmclear, clears + 1);
	CHECK_EQ(NV->vmcs02_for, VMCS12_A);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* SDM 27.1: VMRESUME of a vmcs12 whose launch state is clear is VMfailValid(5); no vmcs02. */
TEST(nested_run_vmresume_not_launched_vmfails)
{
	run_setup();
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(hw_calls.vmcs_ops, 0);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), ERR_VMRESUME_NOT_LAUNCHED);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS), 0x202 | RFLAGS_ZF);
	CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0 + LEN_VMRESUME);
	CHECK_EQ(NV->entries, 0);
	CHECK_EQ(run_stub_errors, 0);
}

/* A VM-entry failure (SDM 27.8) leaves these as they were. */
static void failure_fixture(void)
{
	run_setup();
	vmcs12_set(V12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_EXTINT(0x30));
	vmcs12_set(V12, VMCS_VM_EXIT_INTR_INFO, SENTINEL_EXIT_INTR_INFO);
	vmcs12_set(V12, VMCS_VM_EXIT_INSTRUCTION_LEN, 7);
	vmcs12_set(V12, VMCS_EXIT_QUALIFICATION, 0x55);
}

#define CHECK_ENTRY_FAILED(reason, qual)                                                           \
	do {                                                                                       \
		CHECK_EQ(f12(VMCS_VM_EXIT_REASON), (reason));                                      \
		CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), (qual));                                    \
		/* 27.8: only the exit reason and qualification; the entry event stays valid. */   \
		CHECK_EQ(f12(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_EXTINT(0x30));                   \
		CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), SENTINEL_EXIT_INTR_INFO);                    \
		CHECK_EQ(f12(VMCS_VM_EXIT_INSTRUCTION_LEN), 7);                                    \
		CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP);                                             \
		CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_CLEAR);                                  \
		CHECK_L1_AT_HOST_RIP();                                                            \
		CHECK_EQ(NV->entry_failures, 1);                                                   \
		CHECK_EQ(NV->entries, 0);                                                          \
		CHECK_EQ(NV->vmcs02_for, VMPTR_INVALID);                                           \
		CHECK_EQ(run_stub_errors, 0);                                                      \
		CHECK_EQ(vmcs_soft_errors(), 0);                                                   \
	} while (0)

TEST(nested_run_entry_fails_on_guest_state)
{
	failure_fixture();
	vmcs12_set(V12, VMCS_GUEST_RFLAGS, 0x200); /* bit 1 clear */
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_ENTRY_FAILED(REASON_FAIL(EXIT_REASON_INVALID_GUEST_STATE), 0);
	CHECK_EQ(hw_calls.vmcs_ops, 0); /* vmcs02 never touched */
	CHECK(run_log_has("GUEST_RFLAGS bit 1 must be 1"));
	/* L1 can fix it and launch: the launch state is still clear. */
	vmcs12_set(V12, VMCS_GUEST_RFLAGS, 0x202);
	CHECK(run_l1_vmlaunch());
}

TEST(nested_run_entry_fails_on_link_pointer)
{
	failure_fixture();
	vmcs12_set(V12, VMCS_VMCS_LINK_POINTER, MEM_BASE + 0x3000);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_ENTRY_FAILED(REASON_FAIL(EXIT_REASON_INVALID_GUEST_STATE), 4);
	CHECK_EQ(hw_calls.vmcs_ops, 0);
}

/* SDM 27.4: the second entry (an x2APIC MSR) fails; the first has taken effect in vmcs02. */
TEST(nested_run_entry_fails_on_msr_load)
{
	failure_fixture();
	run_msr_entry(ENTRY_LOAD_AREA, 0, MSR_IA32_SYSENTER_CS, 0x23);
	run_msr_entry(ENTRY_LOAD_AREA, 1, 0x808, 0);
	run_msr_entry(ENTRY_LOAD_AREA, 2, MSR_IA32_SYSENTER_ESP, 0x1234);
	vmcs12_set(V12, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 3);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_ENTRY_FAILED(REASON_FAIL(EXIT_REASON_MSR_LOADING), 2);
	CHECK_EQ(f02(VMCS_GUEST_SYSENTER_CS), 0x23);
	CHECK_EQ(f02(VMCS_GUEST_SYSENTER_ESP), 0);
	CHECK_EQ(hw_calls.vmcs_ops, 4); /* C P H to build vmcs02, then P of vmcs01 */
	CHECK_EQ(hw_calls.vmcs_op[3].op, 'P');
	CHECK_EQ(hw_calls.vmcs_op[3].pa, VMCS01_PA);
}

/* SDM 27.3.1.6: a PAE L2 whose PDPTE 2 sets reserved bit 1: qualification 2. */
TEST(nested_run_entry_fails_on_pae_pdpte)
{
	failure_fixture();
	run_valid_vmcs12_pae(V12);
	vmcs12_set(V12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_EXTINT(0x30));
	vmcs12_set(V12, VMCS_VM_EXIT_INTR_INFO, SENTINEL_EXIT_INTR_INFO);
	vmcs12_set(V12, VMCS_VM_EXIT_INSTRUCTION_LEN, 7);
	vmcs12_set(V12, VMCS_GUEST_RIP, L2_RIP & 0xffffffffu);
	uint64_t pdpte[4] = {MEM_BASE + 0x13001, 0, (MEM_BASE + 0x14001) | 2, 0};
	memcpy(run_l1_ptr(L2_PDPT), pdpte, sizeof(pdpte));
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), REASON_FAIL(EXIT_REASON_INVALID_GUEST_STATE));
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 2);
	CHECK_EQ(f12(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_EXTINT(0x30));
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_CLEAR);
	CHECK_L1_AT_HOST_RIP();
	CHECK_EQ(NV->entry_failures, 1);
	CHECK_EQ(f02(VMCS_GUEST_PDPTE0), 0); /* nothing loaded */
	CHECK_EQ(run_stub_errors, 0);
	/* The same L2 with a good PDPT enters, its PDPTEs in vmcs02. */
	pdpte[2] = MEM_BASE + 0x14001;
	memcpy(run_l1_ptr(L2_PDPT), pdpte, sizeof(pdpte));
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_GUEST_PDPTE0), MEM_BASE + 0x13001);
	CHECK_EQ(f02(VMCS_GUEST_PDPTE2), MEM_BASE + 0x14001);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * The CPU refuses vmcs02 (VMLAUNCH: VMfailValid 7, invalid control
 * fields): L1 gets VMfailValid(7) at its VMLAUNCH, which completes (RIP
 * past it, SDM 31.2), and its vmcs12 stays clear.
 */
TEST(nested_run_vmcs02_vmfail_is_l1s_vmfail)
{
	run_setup();
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, false), 1);
	vmcs_soft_set(VMCS_VM_INSTRUCTION_ERROR, ERR_INVALID_CONTROL); /* in vmcs02 */
	CHECK_EQ(vmx_resume_failed(&regs, 0, 1), 0);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), ERR_INVALID_CONTROL);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS), 0x202 | RFLAGS_ZF);
	CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0 + LEN_VMLAUNCH);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_CLEAR);
	CHECK_EQ(NV->vmcs02_for, VMPTR_INVALID);
	CHECK_EQ(vmcs_soft_launch_state(VMCS02_PA), VMCS_SOFT_LAUNCH_CLEAR);
	CHECK(run_log_has("the CPU refused vmcs02 (VMfailValid 7"));

	/* VMRESUME refused (VMfailInvalid): CF, the vmcs12 stays launched, RIP past VMRESUME. */
	run_setup();
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, false), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(vmx_resume_failed(&regs, 1, 0), 0);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK(!NV->in_l2);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS), RFLAGS_RESERVED1 | RFLAGS_CF);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12 + LEN_VMRESUME);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_LAUNCHED);
	/* The next VMRESUME launches vmcs02 afresh. */
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 1);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * An NMI L0 holds for L1 (v->nmi_pending: it arrived while L1 blocked
 * NMIs) when L1 enters an L2 whose vmcs12 has "NMI exiting": it must be
 * L1's NMI exit, never an NMI delivered through L2's IDT (SDM Vol. 3C
 * 26.2).  L0 sends its CPU a self-NMI, which exits from L2 right after the
 * entry; vmcs02 injects nothing.
 */
TEST(nested_run_l1_pending_nmi_becomes_an_nmi_exit)
{
	run_setup();
	vcpu.nmi_pending = true;
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_NMI);
	vmcs_soft_set(VMCS_CPU_BASED_VM_EXEC_CONTROL, g_l0.proc | CPU_NMI_WINDOW_EXITING);
	CHECK_EQ(f12(VMCS_PIN_BASED_VM_EXEC_CONTROL) & PIN_NMI_EXITING, PIN_NMI_EXITING);
	unsigned ipis = hw_calls.ipis;
	run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true);
	CHECK(NV->in_l2);
	CHECK(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD) != INFO_NMI);
	CHECK(!vcpu.nmi_pending);
	CHECK_EQ(hw_calls.ipis, ipis + 1);
	CHECK_EQ(hw_calls.last_ipi_apic_id, vcpu.apic_id);
	CHECK_EQ(hw_calls.last_ipi_low & 0x700u, 0x400u); /* delivery mode NMI */
	/* The NMI's exit is L1's: reflected as reason 0 with NMI information. */
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, INFO_NMI);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EXCEPTION_NMI, 0, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), INFO_NMI);
	/* L1's NMIs blocked after an NMI exit until its IRET (SDM 28.5 / 26.2). */
	CHECK(f01(VMCS_GUEST_INTERRUPTIBILITY_INFO) & GUEST_INTR_STATE_NMI);
}

/*
 * IA32_SPEC_CTRL offered: vmcs02 gets the same one-entry MSR-load areas as
 * vmcs01, so L2 runs with the guest's value (L1's, as the CPU would keep
 * it) and L0 gets its own back on every exit; without it, none.
 */
TEST(nested_run_spec_ctrl_switched_for_l2_too)
{
	run_setup();
	g_l0.msr.spec_ctrl = SPEC_CTRL_IBRS;
	vcpu.msrs.spec_ctrl_guest = (struct vmx_msr_entry){ MSR_IA32_SPEC_CTRL, 0, 1 };
	vcpu.msrs.spec_ctrl_l0 = (struct vmx_msr_entry){ MSR_IA32_SPEC_CTRL, 0, 0 };
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_VM_ENTRY_MSR_LOAD_ADDR), (uintptr_t)&vcpu.msrs.spec_ctrl_guest);
	CHECK_EQ(f02(VMCS_VM_ENTRY_MSR_LOAD_COUNT), 1);
	CHECK_EQ(f02(VMCS_VM_EXIT_MSR_LOAD_ADDR), (uintptr_t)&vcpu.msrs.spec_ctrl_l0);
	CHECK_EQ(f02(VMCS_VM_EXIT_MSR_LOAD_COUNT), 1);
	CHECK_EQ(f02(VMCS_VM_EXIT_MSR_STORE_COUNT), 0);
	g_l0.msr.spec_ctrl = 0;
}

/*
 * A bitmap page L1's controls name need only be aligned and within
 * MAXPHYADDR (SDM 27.2.1.1): one in L0's memory is no VMfail (no CPU gives
 * one), but it is never handed to the CPU either.  It reads as all ones:
 * vmcs02 gets L0's pages, where every port (MSR) of the refused page
 * exits to L1, and the other page is L1's as it is.
 */
TEST(nested_run_bitmap_in_l0_memory_reads_as_all_ones)
{
	static const struct {
		uint32_t control, field;
	} cases[] = {
		{ CPU_USE_IO_BITMAPS, VMCS_IO_BITMAP_A },
		{ CPU_USE_IO_BITMAPS, VMCS_IO_BITMAP_B },
		{ CPU_USE_MSR_BITMAPS, VMCS_MSR_BITMAP },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_setup();
		vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
			   f12(VMCS_CPU_BASED_VM_EXEC_CONTROL) | cases[i].control);
		memset(run_l1_ptr(IO_BITMAP12_A), 0, 4096);
		memset(run_l1_ptr(IO_BITMAP12_B), 0, 4096);
		memset(run_l1_ptr(MSR_BITMAP12), 0, 4096);
		run_l1_ptr(IO_BITMAP12_A)[0x80 / 8] = 1u << (0x80 % 8);	 /* L1: port 80H */
		run_l1_ptr(IO_BITMAP12_B)[0x10 / 8] = 1u << (0x10 % 8);	 /* L1: port 8010H */
		vmcs12_set(V12, VMCS_IO_BITMAP_A, IO_BITMAP12_A);
		vmcs12_set(V12, VMCS_IO_BITMAP_B, IO_BITMAP12_B);
		vmcs12_set(V12, VMCS_MSR_BITMAP, MSR_BITMAP12);
		vmcs12_set(V12, cases[i].field, HV_BASE + 0x2000);
		CHECK(run_l1_vmlaunch());
		CHECK(NV->in_l2);
		CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), 0);
		if (cases[i].control == CPU_USE_MSR_BITMAPS) {
			/* Every MSR exits: the copy is all ones, vmcs02's page is L0's. */
			CHECK_EQ(f02(VMCS_MSR_BITMAP), NV->msr_bitmap02_pa);
			const uint8_t *m = (const uint8_t *)(uintptr_t)NV->msr_bitmap02_pa;
			CHECK_EQ(m[0], 0xff);
			CHECK_EQ(m[4095], 0xff);
			CHECK(run_log_has("L1's MSR bitmap at 0x7e002000 is not L1's memory: every MSR "
					  "exits to L1"));
			continue;
		}
		/* vmcs02 has L0's pages, never the refused one. */
		CHECK_EQ(f02(VMCS_IO_BITMAP_A), NV->io_bitmap02_pa);
		CHECK_EQ(f02(VMCS_IO_BITMAP_B), NV->io_bitmap02_pa + 4096);
		const uint8_t *io = (const uint8_t *)(uintptr_t)NV->io_bitmap02_pa;
		bool a_refused = cases[i].field == VMCS_IO_BITMAP_A;
		/* The refused page: all ones.  The other: L1's bits exactly. */
		CHECK_EQ(io[0x60 / 8], a_refused ? 0xff : 0x00);
		CHECK_EQ(io[0x80 / 8], a_refused ? 0xff : 0x01);
		CHECK_EQ(io[4096 + 0x10 / 8], a_refused ? 0x01 : 0xff);
		CHECK_EQ(io[4096 + 0x20 / 8], a_refused ? 0x00 : 0xff);
		CHECK(run_log_has(a_refused ? "L1's I/O bitmap A at 0x7e002000 is not L1's memory: "
					      "every port in it exits to L1"
					    : "L1's I/O bitmap B at 0x7e002000 is not L1's memory: "
					      "every port in it exits to L1"));
		/* A port of the refused page exits to L1. */
		uint64_t port = a_refused ? 0x60 : 0x8020;
		CHECK_EQ(run_l2_exit(EXIT_REASON_IO_INSTRUCTION, port << 16 | 8, 1), 0);
		CHECK(!NV->in_l2);
		CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_IO_INSTRUCTION);
		CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), port << 16 | 8);
	}
}
