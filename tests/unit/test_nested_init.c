/*
 * test_nested_init.c - an INIT for a CPU in L1's VMX operation
 * (vmx/init_signal.c, nested/init_exit.c; SDM Vol. 3C 24.8, 26.2), the
 * NMIs L0 sends to kick a CPU while it runs L2, and a machine check during
 * the VM entry to L2 (SDM 27.9), through the real dispatcher with the
 * nested run fixture (one CPU, index 0: the BSP, L1 in VMX operation).
 */
#include "test.h"

#include "halting.h"
#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <string.h>

#define LEN_VMXOFF 3 /* 0F 01 C4 */
#define INFO_INT30 (INTR_INFO_VALID | INTR_TYPE_SOFT_INTR | 0x30u)

/* An emulated INIT posted for this CPU, as ap_start.c's sender leaves it. */
static void post_emulated_init(void)
{
	vcpu.start.state = AP_INIT_PENDING;
	vcpu.start.kick_seen = false;
	vcpu.start.kick_armed = true;
}

/*
 * SDM 24.8: INIT is blocked in VMX root operation.  A real INIT exit of
 * vmcs01 while L1 is after its VMXON leaves L1 where it was (the BSP is
 * not reset under its VMX state), and is held.
 */
TEST(nested_init_held_in_vmx_root)
{
	run_setup();
	uint64_t cr4 = f01(VMCS_GUEST_CR4);
	CHECK_EQ(run_l1_exit(EXIT_REASON_INIT_SIGNAL, 0, true), 0);
	CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0);
	CHECK_EQ(f01(VMCS_GUEST_RSP), RSP0);
	CHECK_EQ(f01(VMCS_GUEST_CR4), cr4);
	CHECK_EQ(f01(VMCS_GUEST_ACTIVITY_STATE), GUEST_ACTIVITY_ACTIVE);
	CHECK_EQ(regs.gpr[GPR_RBX], GPR_INIT(GPR_RBX));
	CHECK(vcpu.init_latched);
	CHECK(NV->cpu.vmxon);
	CHECK(run_log_has("INIT held: L1 is in VMX root operation (SDM 24.8)"));
	CHECK_EQ(run_stub_errors, 0);
}

/*
 * The held INIT meets L1's next VM entry: the entry happens (vmcs12
 * launched) and ends at once in an INIT-signal exit (reason 3,
 * qualification 0) to L1's host RIP; the event the entry injected was not
 * delivered and comes back as IDT-vectoring information.  vmcs02 never
 * ran, so the next entry launches it afresh.
 */
TEST(nested_init_held_then_vmlaunch_exits_to_l1)
{
	run_setup();
	vmcs12_set(V12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_INT30);
	vmcs12_set(V12, VMCS_VM_ENTRY_INSTRUCTION_LEN, 2);
	vmcs12_set(V12, VMCS_EXIT_QUALIFICATION, 0x55);
	vmcs12_set(V12, VMCS_VM_EXIT_INTR_INFO, 0x80000b0eu);
	CHECK_EQ(run_l1_exit(EXIT_REASON_INIT_SIGNAL, 0, true), 0);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_INIT_SIGNAL);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), 0);
	CHECK_EQ(f12(VMCS_IDT_VECTORING_INFO_FIELD), INFO_INT30);
	CHECK_EQ(f12(VMCS_VM_EXIT_INSTRUCTION_LEN), 2);
	CHECK_EQ(f12(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0);
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_LAUNCHED);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	CHECK_EQ(f01(VMCS_GUEST_RSP), HOST_RSP12);
	CHECK(!vcpu.init_latched);
	CHECK_EQ(NV->reflected, 1);
	/* L1's VMRESUME: vmcs02 launched afresh (VMRESUME of a never-launched one fails). */
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 1);
	CHECK(NV->in_l2);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* L1's VMXOFF ends VMX operation: the INIT it blocked is taken then (the BSP restarts). */
TEST(nested_init_held_taken_at_vmxoff)
{
	run_setup();
	CHECK_EQ(run_l1_exit(EXIT_REASON_INIT_SIGNAL, 0, true), 0);
	CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMXOFF, LEN_VMXOFF, true), 0);
	CHECK(!NV->cpu.vmxon);
	CHECK(!vcpu.init_latched);
	/* SDM Vol. 3A 10.1.1: the BSP at the reset vector, F000:FFF0 with base FFFF0000. */
	CHECK_EQ(f01(VMCS_GUEST_RIP), 0xfff0);
	CHECK_EQ(f01(VMCS_GUEST_CS_SELECTOR), 0xf000);
	CHECK_EQ(f01(VMCS_GUEST_CS_BASE), 0xffff0000ull);
	CHECK_EQ(f01(VMCS_GUEST_IA32_EFER), 0);
	CHECK(run_log_has("the INIT held during L1's VMX operation is taken now"));
}

/*
 * An INIT L0 emulates for a CPU that runs L2 (ap_start.c posts it and
 * kicks with an NMI): the kick is L0's even though vmcs12 has NMI
 * exiting, and L1 gets an INIT-signal exit, not an NMI exit.  The sender
 * sees the INIT taken; L2's interrupted event delivery comes back to L1
 * as IDT-vectoring information.
 */
TEST(nested_init_emulated_while_l2_runs)
{
	run_setup();
	vmcs12_set(V12, VMCS_PIN_BASED_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_PIN_BASED_VM_EXEC_CONTROL) | PIN_NMI_EXITING);
	CHECK(run_l1_vmlaunch());
	post_emulated_init();
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, INFO_NMI);
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_INT30);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
	unsigned unblocks = hw_calls.unblock_nmi;
	CHECK_EQ(run_l2_exit(EXIT_REASON_EXCEPTION_NMI, 0, 2), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_INIT_SIGNAL);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), 0);
	CHECK_EQ(f12(VMCS_IDT_VECTORING_INFO_FIELD), INFO_INT30);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	/* No NMI for L1: not pending, not blocked as after an NMI exit. */
	CHECK(!vcpu.nmi_pending);
	CHECK_EQ(f01(VMCS_GUEST_INTERRUPTIBILITY_INFO) & GUEST_INTR_STATE_NMI, 0);
	CHECK_EQ(hw_calls.unblock_nmi, unblocks + 1);
	CHECK_EQ(vcpu.start.state, AP_RUNNING);
	CHECK(!vcpu.start.kick_armed);
	CHECK(!vcpu.init_latched);
	CHECK(run_log_has("while L1 runs L2: an INIT-signal exit to L1"));
	CHECK_EQ(run_stub_errors, 0);
}

/*
 * The same INIT posted while L1 is in VMX root: held, the sender stops
 * waiting; the kick that arrives after the claim is still L0's and
 * disarms itself; L1 is not reset.
 */
TEST(nested_init_emulated_held_in_vmx_root)
{
	run_setup();
	post_emulated_init();
	CHECK_EQ(run_l1_exit(EXIT_REASON_CPUID, 2, true), 0);
	CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0 + 2);
	CHECK(vcpu.init_latched);
	CHECK_EQ(vcpu.start.state, AP_RUNNING);
	CHECK(vcpu.start.kick_armed); /* the kick has not arrived yet */
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, INFO_NMI);
	CHECK_EQ(run_l1_exit(EXIT_REASON_EXCEPTION_NMI, 0, true), 0);
	CHECK(!vcpu.nmi_pending);
	CHECK(!vcpu.start.kick_armed);
	/* A later NMI is L1's again. */
	CHECK_EQ(run_l1_exit(EXIT_REASON_EXCEPTION_NMI, 0, true), 0);
	CHECK(vcpu.start.kick_armed == false);
	CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_NMI);
	CHECK(vcpu.init_latched);
}

/*
 * SDM 27.9: a machine check during the VM entry to L2 (exit reason 41)
 * is the hardware's: L1 sees no entry failure, vmcs02 is entered again
 * (VMCLEAR, then VMLAUNCH); a CPU that keeps failing so stops.
 */
TEST(nested_mce_during_entry_is_l0s)
{
	run_setup();
	vmcs12_set(V12, VMCS_VM_EXIT_REASON, 0x1234);
	CHECK(run_l1_vmlaunch());
	unsigned clears = hw_calls.vmclear;
	CHECK_EQ(run_l2_exit(EXIT_REASON_FAILED_ENTRY | EXIT_REASON_MCE_DURING_VMENTRY, 0, 0), 1);
	CHECK(NV->in_l2);
	CHECK_EQ(vmcs_soft_current(), VMCS02_PA);
	CHECK_EQ(hw_calls.vmclear, clears + 1);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), 0x1234);
	CHECK_EQ(NV->entry_failures, 0);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_LAUNCHED);
	CHECK(run_log_has("machine-check event during the VM entry to L2"));
	/* The retry worked: the next exit is L2's as usual. */
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_CPUID);
	CHECK_EQ(NV->mce_entry_retries, 0);
	CHECK_EQ(run_stub_errors, 0);
}

static void mce_forever(void)
{
	CHECK(run_l1_vmlaunch());
	for (unsigned i = 0; i < 20; i++)
		run_l2_exit(EXIT_REASON_FAILED_ENTRY | EXIT_REASON_MCE_DURING_VMENTRY, 0, 0);
}

TEST(nested_mce_during_entry_repeated_stops)
{
	run_setup();
	CHECK_EQ(run_halting(mce_forever), HALTED_CLI);
	CHECK(strstr(halting_out, "repeated machine checks during VM entry: a hardware fault"));
}
