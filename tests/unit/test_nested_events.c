/*
 * test_nested_events.c - events around exits from L2 (nested/vmexit.c)
 * and L0's EPT-violation handler (vmx/exit_event.c), through
 * vmx_exit_dispatch on the two software VMCSs of the nested run fixture
 * (nested_run_fixture.h):
 *
 *   - L1's NMI blocking after an NMI exit reflected to it;
 *   - an event whose delivery to L2 an exit of L0's own interrupted,
 *     given to L2 again: interruption information, error code,
 *     instruction length, and NMI blocking for an NMI;
 *   - L0's #GP(0) during the delivery of an event to L2, combined with
 *     it as the CPU would (SDM Vol. 3A 6.15, tables 6-4 and 6-5);
 *   - blocking by NMI set again after an EPT violation during an IRET
 *     that had unblocked NMIs (SDM Vol. 3C 28.2.3), for L1 and for L2.
 *
 * The expected values are the SDM's, written out below as numbers, not
 * taken from the headers of the code under test.
 */
#include "test.h"

#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>

/*
 * Interruption information (SDM Vol. 3C 25.8.3 VM entry, 25.9.2 VM exit,
 * 25.9.3 IDT vectoring): vector 7:0; type 10:8 (0 external interrupt,
 * 2 NMI, 3 hardware exception, 4 software interrupt, 5 privileged
 * software exception, 6 software exception); bit 11 error code
 * delivered; bit 12 undefined in IDT-vectoring information and reserved
 * (0) on entry; bit 31 valid.
 */
#define SDM_EXTINT_30 0x80000030u
#define SDM_NMI 0x80000202u
#define SDM_DE 0x80000300u
#define SDM_DB 0x80000301u
#define SDM_UD 0x80000306u
#define SDM_MC 0x80000312u
#define SDM_DF 0x80000b08u
#define SDM_TS 0x80000b0au
#define SDM_NP 0x80000b0bu
#define SDM_SS 0x80000b0cu
#define SDM_GP 0x80000b0du
#define SDM_PF 0x80000b0eu
#define SDM_AC 0x80000b11u
#define SDM_INT80 0x80000480u /* INT 0x80 (CD 80): software interrupt */
#define SDM_INT1 0x80000501u  /* INT1 (F1): privileged software exception */
#define SDM_INT3 0x80000603u  /* INT3 (CC): software exception */
#define SDM_IDT_BIT12 0x1000u

/* Interruptibility state (SDM Vol. 3C 25.4.2): bit 0 blocking by STI, bit 3 blocking by NMI. */
#define SDM_BLOCK_STI 0x1u
#define SDM_BLOCK_NMI 0x8u

/* EPT-violation qualification (SDM Vol. 3C 28.2.1): bit 0 read, bit 12 NMI unblocking by IRET. */
#define SDM_EPTQ_READ 0x1u
#define SDM_EPTQ_NMI_UNBLOCKED 0x1000u

/* Primary processor-based control 22, NMI-window exiting (SDM Vol. 3C 25.6.2). */
#define SDM_NMI_WINDOW_EXITING 0x400000u

/* Basic exit reasons (SDM Vol. 3C appendix C). */
#define SDM_REASON_EXCEPTION_NMI 0
#define SDM_REASON_EXTERNAL_INTERRUPT 1
#define SDM_REASON_TRIPLE_FAULT 2

/* Values no path writes: a field still holding one was not written. */
#define POISON_ERR 0x7777u
#define POISON_LEN 14u

/* ---- L1's NMI blocking after a reflected NMI exit ---- */

/*
 * SDM Vol. 3C 28.1: an NMI that causes a VM exit "causes subsequent NMIs
 * to be blocked, but only after the VM exit completes", i.e. in the
 * host, until its IRET; the guest state saved is that before the NMI.
 * So after L2's NMI exit reflected to L1: L1's NMIs blocked (vmcs01 runs
 * L1 with virtual NMIs: bit 3 of its interruptibility state) and vmcs12's
 * guest interruptibility what the CPU saved in vmcs02.  An NMI L0 then
 * holds for L1 waits for L1's IRET (an NMI-window exit).
 */
TEST(nested_events_nmi_exit_reflected_blocks_l1_nmis)
{
	run_setup();
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0); /* vmcs01: L1 unblocked */
	vmcs12_set(V12, VMCS_GUEST_INTERRUPTIBILITY_INFO, SDM_BLOCK_STI); /* stale, from entry */
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0); /* L2 when the NMI came */
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, 0);
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, SDM_NMI);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EXCEPTION_NMI, 0, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_EXCEPTION_NMI);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), SDM_NMI);
	CHECK_EQ(f12(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	CHECK_EQ(f01(VMCS_GUEST_INTERRUPTIBILITY_INFO), SDM_BLOCK_NMI);
	CHECK_EQ(hw_calls.unblock_nmi, 1); /* L0's own blocking, from vmcs02's NMI exit */

	/* An NMI for L1 now: not injected, an NMI-window exit asked for. */
	vcpu.nmi_pending = true;
	CHECK_EQ(run_l1_exit(EXIT_REASON_CPUID, 2, true), 0);
	CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD) & 0x80000000u, 0);
	CHECK_EQ(f01(VMCS_CPU_BASED_VM_EXEC_CONTROL) & SDM_NMI_WINDOW_EXITING,
		 SDM_NMI_WINDOW_EXITING);
	CHECK(vcpu.nmi_pending);
	/* L1's IRET ends the blocking: the window exit, and the NMI goes in. */
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	CHECK_EQ(run_l1_exit(EXIT_REASON_NMI_WINDOW, 0, true), 0);
	CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD), SDM_NMI);
	CHECK(!vcpu.nmi_pending);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* L2 was blocking virtual NMIs itself (in its NMI handler): that is L2's, and stays L2's. */
TEST(nested_events_nmi_exit_keeps_l2_interruptibility)
{
	run_setup();
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, SDM_BLOCK_NMI | SDM_BLOCK_STI);
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, 0);
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, SDM_NMI);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EXCEPTION_NMI, 0, 0), 0);
	CHECK_EQ(f12(VMCS_GUEST_INTERRUPTIBILITY_INFO), SDM_BLOCK_NMI | SDM_BLOCK_STI);
	CHECK_EQ(f01(VMCS_GUEST_INTERRUPTIBILITY_INFO), SDM_BLOCK_NMI);
}

/*
 * Exits to L1 that are not NMIs leave L1's NMIs unblocked: an exception
 * L1 intercepts, and an external interrupt acknowledged on exit whose
 * vector happens to be 2.
 */
TEST(nested_events_other_reflected_exits_leave_l1_nmis_unblocked)
{
	run_setup();
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs12_set(V12, VMCS_EXCEPTION_BITMAP, 1u << 6); /* #UD */
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, 0);
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, SDM_UD);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EXCEPTION_NMI, 0, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), SDM_UD);
	CHECK_EQ(f01(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	CHECK_EQ(hw_calls.unblock_nmi, 0);

	run_setup();
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, 0);
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, 0x80000002u); /* external interrupt, vector 2 */
	CHECK_EQ(run_l2_exit(EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_EXTERNAL_INTERRUPT);
	CHECK_EQ(f01(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	CHECK_EQ(hw_calls.unblock_nmi, 0);
}

/* ---- an interrupted event given to L2 again ---- */

/* L1 leaves NMIs to L0: an NMI exit from L2 is L0's own and injects nothing into L2. */
static bool launch_l1_without_nmi_exiting(void)
{
	run_setup();
	vmcs12_set(V12, VMCS_PIN_BASED_VM_EXEC_CONTROL,
		   (uint32_t)g_l0.l1_vmx.true_pinbased | PIN_EXTERNAL_INTERRUPT_EXITING);
	return run_l1_vmlaunch();
}

/* L0's NMI exit while the CPU delivered idt to L2, the VM-entry fields poisoned first. */
static int l0_nmi_exit_during(uint32_t idt, uint32_t idt_error, uint32_t exit_len)
{
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, idt);
	vmcs_soft_set(VMCS_IDT_VECTORING_ERROR_CODE, idt_error);
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, SDM_NMI);
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, POISON_ERR);
	vmcs_soft_set(VMCS_VM_ENTRY_INSTRUCTION_LEN, POISON_LEN);
	return run_l2_exit(EXIT_REASON_EXCEPTION_NMI, 0, exit_len);
}

/*
 * SDM Vol. 3C 28.2.4 and 28.2.5: after an exit during event delivery the
 * IDT-vectoring information names the event, its error code is in the
 * IDT-vectoring error code, and for a software interrupt, privileged
 * software exception or software exception the VM-exit instruction
 * length is that of the instruction (INT n, INT1, INT3).  The VMM gives
 * the event again by copying them into the VM-entry interruption
 * information (bit 12 cleared: reserved there), error code and
 * instruction length (Vol. 3C, "Resuming Guest Software after Handling
 * an Exception"; 27.2.1.3 wants the length 1-15 for types 4-6).  L2's
 * RIP stays on the instruction: the event was not delivered.
 */
TEST(nested_events_redelivery_copies_info_error_code_and_length)
{
	static const struct {
		const char *what;
		uint32_t idt, idt_error, exit_len;
		uint32_t entry_info;
		bool has_error, has_len;
	} cases[] = {
		{ "INT 0x80", SDM_INT80 | SDM_IDT_BIT12, 0x5a5a, 2, SDM_INT80, false, true },
		{ "INT3", SDM_INT3, 0x5a5a, 1, SDM_INT3, false, true },
		{ "INT1", SDM_INT1 | SDM_IDT_BIT12, 0x5a5a, 1, SDM_INT1, false, true },
		{ "#PF", SDM_PF, 0x15, 0, SDM_PF, true, false },
		{ "#GP(0x1a)", SDM_GP | SDM_IDT_BIT12, 0x1a, 0, SDM_GP, true, false },
		{ "#UD", SDM_UD, 0x5a5a, 0, SDM_UD, false, false },
		{ "interrupt 0x30", SDM_EXTINT_30 | SDM_IDT_BIT12, 0x5a5a, 0, SDM_EXTINT_30, false,
		  false },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(launch_l1_without_nmi_exiting());
		CHECK_EQ(l0_nmi_exit_during(cases[i].idt, cases[i].idt_error, cases[i].exit_len), 0);
		bool ok = CHECK(NV->in_l2);
		ok &= CHECK_EQ(NV->reflected, 0);
		ok &= CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), cases[i].entry_info);
		if (cases[i].has_error)
			ok &= CHECK_EQ(f02(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), cases[i].idt_error);
		if (cases[i].has_len)
			ok &= CHECK_EQ(f02(VMCS_VM_ENTRY_INSTRUCTION_LEN), cases[i].exit_len);
		ok &= CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP);
		ok &= CHECK(vcpu.nmi_pending); /* L0's NMI, for L2 after the event */
		ok &= CHECK_EQ(vmcs_soft_errors(), 0);
		if (!ok)
			printf("    case: %s\n", cases[i].what);
	}
}

/*
 * An NMI L1 injected into L2, interrupted: with virtual NMIs the CPU
 * left virtual-NMI blocking set (SDM Vol. 3C 28.1), and VM entry refuses
 * to inject an NMI under it (27.3.1.5: blocking by NMI must be 0 when
 * injecting an NMI with virtual NMIs).  "Resuming Guest Software after
 * Handling an Exception" (Vol. 3C, VMM programming considerations): the
 * VMM clears bit 3 before it injects the NMI again.  Blocking by STI,
 * which the NMI's delivery does not touch, stays.
 */
TEST(nested_events_redelivered_nmi_clears_nmi_blocking)
{
	CHECK(launch_l1_without_nmi_exiting());
	CHECK_EQ(f02(VMCS_PIN_BASED_VM_EXEC_CONTROL) & PIN_VIRTUAL_NMIS, PIN_VIRTUAL_NMIS);
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, SDM_BLOCK_NMI);
	CHECK_EQ(l0_nmi_exit_during(SDM_NMI | SDM_IDT_BIT12, 0x5a5a, 0), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), SDM_NMI);
	CHECK_EQ(f02(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	/* Another event given again leaves L2's NMI blocking alone. */
	CHECK(launch_l1_without_nmi_exiting());
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, SDM_BLOCK_NMI);
	CHECK_EQ(l0_nmi_exit_during(SDM_EXTINT_30, 0, 0), 0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), SDM_EXTINT_30);
	CHECK_EQ(f02(VMCS_GUEST_INTERRUPTIBILITY_INFO), SDM_BLOCK_NMI);
}

/* ---- L0's #GP(0) during the delivery of an event (SDM Vol. 3A 6.15) ---- */

enum outcome { SERIAL_GP, DOUBLE_FAULT, TRIPLE_FAULT };

/*
 * L2's event delivery touches L0's memory (its IDT or stack there): an
 * EPT violation of L0's own, for which L0 injects #GP(0).  Table 6-4
 * classes the first event: contributory (#DE 0, #TS 10, #NP 11, #SS 12,
 * #GP 13), page fault (#PF 14), double fault (8), benign (the rest,
 * interrupts and NMI included).  Table 6-5 for a contributory second
 * exception: after contributory or #PF, #DF (error code 0, "Interrupt 8");
 * after #DF, a triple fault, which exits to L1 (SDM Vol. 3C 26.2, exit
 * reason 2); after a benign event, #GP(0) is handled serially.  L0 only
 * ever injects #GP(0) here, so the row "#PF during #PF" is reached as
 * "#GP during #PF": #DF too.
 */
TEST(nested_events_l0_gp_during_delivery_combines)
{
	static const struct {
		const char *what;
		uint32_t idt, idt_error;
		enum outcome out;
	} cases[] = {
		{ "#PF", SDM_PF, 0x2, DOUBLE_FAULT },
		{ "#DE", SDM_DE, 0, DOUBLE_FAULT },
		{ "#TS", SDM_TS, 0x18, DOUBLE_FAULT },
		{ "#NP", SDM_NP, 0x20, DOUBLE_FAULT },
		{ "#SS", SDM_SS, 0x28, DOUBLE_FAULT },
		{ "#GP", SDM_GP, 0x1a, DOUBLE_FAULT },
		{ "#DF", SDM_DF, 0, TRIPLE_FAULT },
		{ "#DB", SDM_DB, 0, SERIAL_GP },
		{ "NMI", SDM_NMI, 0, SERIAL_GP },
		{ "#UD", SDM_UD, 0, SERIAL_GP },
		{ "#AC", SDM_AC, 0, SERIAL_GP },
		{ "#MC", SDM_MC, 0, SERIAL_GP },
		{ "INT3", SDM_INT3, 0, SERIAL_GP },
		{ "INT 0x80", SDM_INT80, 0, SERIAL_GP },
		{ "interrupt 0x30", SDM_EXTINT_30, 0, SERIAL_GP },
		/* Interrupts on vectors of exceptions are interrupts: benign. */
		{ "interrupt 0x0e", 0x8000000eu, 0, SERIAL_GP },
		{ "INT 0x0d", 0x8000040du, 0, SERIAL_GP },
		{ "INT 0x08", 0x80000408u, 0, SERIAL_GP },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_setup();
		CHECK(run_l1_vmlaunch());
		vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, cases[i].idt);
		vmcs_soft_set(VMCS_IDT_VECTORING_ERROR_CODE, cases[i].idt_error);
		vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, SDM_PF); /* stale, of an earlier exit */
		vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, POISON_ERR);
		vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x1000);
		CHECK_EQ(run_l2_exit(EXIT_REASON_EPT_VIOLATION, SDM_EPTQ_READ, 0), 0);
		bool ok = CHECK_EQ(vcpu.l0_refusals, 1);
		switch (cases[i].out) {
		case SERIAL_GP:
		case DOUBLE_FAULT:
			ok &= CHECK(NV->in_l2);
			ok &= CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD),
				       cases[i].out == DOUBLE_FAULT ? SDM_DF : SDM_GP);
			ok &= CHECK_EQ(f02(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
			ok &= CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP);
			ok &= CHECK_EQ(NV->reflected, 0);
			break;
		case TRIPLE_FAULT:
			ok &= CHECK(!NV->in_l2);
			ok &= CHECK_EQ(NV->reflected, 1);
			ok &= CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_TRIPLE_FAULT);
			ok &= CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
			/* SDM Vol. 3C 28.2.2: not a vectored-event exit, the valid bit is 0. */
			ok &= CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO) & 0x80000000u, 0);
			ok &= CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP);
			ok &= CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
			break;
		}
		ok &= CHECK_EQ(run_stub_errors, 0);
		if (!ok)
			printf("    first event: %s\n", cases[i].what);
	}
}

/* ---- NMI blocking after an EPT violation during IRET (SDM Vol. 3C 28.2.3) ---- */

/*
 * Bit 12 of the EPT-violation qualification: the violation happened in
 * an IRET that had removed (virtual-)NMI blocking.  It is undefined when
 * the exit also sets the IDT-vectoring information valid, and when "NMI
 * exiting" is 1 with "virtual NMIs" 0 (28.2.1).  The IRET does not
 * complete, so the VMM sets blocking by NMI again before resuming (Vol.
 * 3C, "Resuming Guest Software after Handling an Exception").  L0
 * refuses the access with #GP(0), delivered at the IRET.
 */
struct iret_case {
	const char *what;
	uint64_t qual;
	uint32_t idt, intr_before, intr_after;
};

static const struct iret_case iret_cases[] = {
	{ "IRET, bit 12", SDM_EPTQ_READ | SDM_EPTQ_NMI_UNBLOCKED, 0, 0, SDM_BLOCK_NMI },
	{ "IRET in an STI shadow, bit 12", SDM_EPTQ_READ | SDM_EPTQ_NMI_UNBLOCKED, 0,
	  SDM_BLOCK_STI, SDM_BLOCK_STI | SDM_BLOCK_NMI },
	{ "no bit 12", SDM_EPTQ_READ, 0, SDM_BLOCK_STI, SDM_BLOCK_STI },
	{ "bit 12 during delivery: undefined", SDM_EPTQ_READ | SDM_EPTQ_NMI_UNBLOCKED,
	  SDM_EXTINT_30, 0, 0 },
};

/* One EPT violation on L0's memory, taken by L1 (vmcs01 current), dispatched. */
static void l1_ept_violation(const struct iret_case *c)
{
	vmcs_soft_set(VMCS_VM_EXIT_REASON, EXIT_REASON_EPT_VIOLATION);
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, c->qual);
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x2000);
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, c->idt);
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, c->intr_before);
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmx_exit_dispatch(&regs);
}

TEST(exit_event_ept_violation_in_iret_blocks_nmis_again_for_l1)
{
	for (unsigned i = 0; i < sizeof(iret_cases) / sizeof(iret_cases[0]); i++) {
		const struct iret_case *c = &iret_cases[i];
		run_setup();
		CHECK_EQ(f01(VMCS_PIN_BASED_VM_EXEC_CONTROL) & PIN_VIRTUAL_NMIS, PIN_VIRTUAL_NMIS);
		l1_ept_violation(c);
		bool ok = CHECK_EQ(f01(VMCS_GUEST_INTERRUPTIBILITY_INFO), c->intr_after);
		ok &= CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD), SDM_GP);
		ok &= CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0);
		ok &= CHECK_EQ(vcpu.l0_refusals, 1);
		if (!ok)
			printf("    case: %s\n", c->what);
	}
	/* "NMI exiting" without "virtual NMIs": bit 12 is undefined, nothing is set. */
	run_setup();
	g_l0.pin &= ~(uint32_t)PIN_VIRTUAL_NMIS;
	vmcs_soft_set(VMCS_PIN_BASED_VM_EXEC_CONTROL, g_l0.pin);
	CHECK_EQ(g_l0.pin & PIN_NMI_EXITING, PIN_NMI_EXITING);
	l1_ept_violation(&iret_cases[0]);
	CHECK_EQ(f01(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD), SDM_GP);
}

/* The same for L2, whose EPT violation on L0's memory is L0's (vmcs02 has virtual NMIs). */
TEST(exit_event_ept_violation_in_iret_blocks_nmis_again_for_l2)
{
	for (unsigned i = 0; i < sizeof(iret_cases) / sizeof(iret_cases[0]); i++) {
		const struct iret_case *c = &iret_cases[i];
		run_setup();
		CHECK(run_l1_vmlaunch());
		CHECK_EQ(f02(VMCS_PIN_BASED_VM_EXEC_CONTROL) & PIN_VIRTUAL_NMIS, PIN_VIRTUAL_NMIS);
		vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, c->idt);
		vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, c->intr_before);
		vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x2000);
		CHECK_EQ(run_l2_exit(EXIT_REASON_EPT_VIOLATION, c->qual, 0), 0);
		bool ok = CHECK(NV->in_l2);
		ok &= CHECK_EQ(f02(VMCS_GUEST_INTERRUPTIBILITY_INFO), c->intr_after);
		ok &= CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), SDM_GP); /* benign first: serial */
		ok &= CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP);
		ok &= CHECK_EQ(NV->reflected, 0);
		if (!ok)
			printf("    case: %s\n", c->what);
	}
}
