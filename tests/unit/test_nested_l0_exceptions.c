/*
 * test_nested_l0_exceptions.c - exceptions L0 raises for L2 (nested/vmexit.c
 * l0_exception_exits_to_l1): on L1's virtual CPU they are exceptions of
 * L2's instructions, so vmcs12's exception bitmap decides between an
 * exception exit to L1 (SDM Vol. 3C 26.2, 28.2.2) and delivery through
 * L2's IDT.  MONITOR/MWAIT, which L1's CPU lacks, are the common case:
 * their #UD has priority over L1's MONITOR/MWAIT exiting (26.1.1).
 * Fixture: nested_run_fixture.h.
 */
#include "test.h"

#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#define INFO_UD (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | VEC_UD)
#define INFO_GP0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_GP)
#define INFO_DF0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_DF)
#define L2_RIP_NOW (L2_RIP + 0x80)
#define L2_RFLAGS_NOW 0x202ull /* IF */

static void l1_sets(uint32_t encoding, uint64_t value)
{
	vmcs12_set(V12, encoding, value);
}

/* L1 entered L2 with exception bitmap `bitmap`; L2 ran to L2_RIP_NOW. */
static void enter_l2(uint32_t bitmap)
{
	run_setup();
	l1_sets(VMCS_EXCEPTION_BITMAP, bitmap);
	/* L1 asks for MONITOR/MWAIT exits: the #UD comes first all the same. */
	l1_sets(VMCS_CPU_BASED_VM_EXEC_CONTROL, vmcs12_get(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL) |
							 CPU_MONITOR_EXITING | CPU_MWAIT_EXITING);
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_GUEST_RIP, L2_RIP_NOW);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, L2_RFLAGS_NOW);
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, 0);
}

/* vmcs02 makes MONITOR and MWAIT exit whatever L1 asked for (L0_PROC_WANTED). */
TEST(nested_l0_monitor_mwait_exit_from_l2)
{
	run_setup();
	l1_sets(VMCS_CPU_BASED_VM_EXEC_CONTROL, vmcs12_get(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL) &
							 ~(CPU_MONITOR_EXITING | CPU_MWAIT_EXITING));
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_CPU_BASED_VM_EXEC_CONTROL) & (CPU_MONITOR_EXITING | CPU_MWAIT_EXITING),
		 CPU_MONITOR_EXITING | CPU_MWAIT_EXITING);
}

/* No #UD in L1's bitmap: the #UD is L2's, at the instruction, as a fault (RF = 1). */
TEST(nested_l0_mwait_ud_goes_to_l2)
{
	enter_l2(1u << VEC_GP);
	CHECK_EQ(run_l2_exit(EXIT_REASON_MWAIT, 0, 3), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_UD);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP_NOW);
	CHECK_EQ(f02(VMCS_GUEST_RFLAGS), L2_RFLAGS_NOW | RFLAGS_RF);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* #UD in L1's bitmap: an exception exit to L1 (reason 0), nothing for L2. */
TEST(nested_l0_monitor_ud_exits_to_l1)
{
	enter_l2((1u << VEC_UD) | (1u << VEC_PF));
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, 0x80000b0eu); /* stale: a #PF exit's */
	CHECK_EQ(run_l2_exit(EXIT_REASON_MONITOR, 0, 3), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	/* SDM 28.2.2: reason 0, the #UD's interruption information, no error code. */
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), INFO_UD);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_ERROR_CODE), 0);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
	CHECK_EQ(f12(VMCS_IDT_VECTORING_INFO_FIELD), 0);
	/* L2 at the instruction, RF = 1 as for a fault (28.3.3). */
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP_NOW);
	CHECK_EQ(f12(VMCS_GUEST_RFLAGS), L2_RFLAGS_NOW | RFLAGS_RF);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* L0's #GP(0) for a CR4 bit L0 owns (VMXE): L1's, with its error code, when its bitmap has #GP. */
TEST(nested_l0_cr_gp_exits_to_l1_by_bitmap)
{
	enter_l2(1u << VEC_GP);
	regs.gpr[GPR_RAX] = CR4_PAE | (1u << 7); /* L2's CR4 without VMXE */
	CHECK_EQ(run_l2_exit(EXIT_REASON_CR_ACCESS, 4 /* MOV to CR4 from RAX */, 3), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), INFO_GP0);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_ERROR_CODE), 0);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP_NOW);
}

/*
 * An access to L0's memory while the CPU delivered interrupt 0x30 to L2:
 * L0's #GP(0) is L1's exit, and the interrupt its IDT-vectoring
 * information, as the CPU reports an exception raised during delivery.
 */
TEST(nested_l0_gp_during_interrupt_delivery_keeps_idt_vectoring)
{
	enter_l2(1u << VEC_GP);
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_EXTINT(0x30));
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x1000);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), INFO_GP0);
	/* The interrupt L2 did not get: L1 injects it again (28.2.4). */
	CHECK_EQ(f12(VMCS_IDT_VECTORING_INFO_FIELD), INFO_EXTINT(0x30));
	CHECK_EQ(vcpu.l0_refusals, 1);
}

/* #GP during #GP delivery merges into #DF (6.15): L1's bitmap has #DF, not #GP. */
TEST(nested_l0_merged_df_exits_to_l1_without_idt_vectoring)
{
	enter_l2(1u << VEC_DF);
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_GP0);
	vmcs_soft_set(VMCS_IDT_VECTORING_ERROR_CODE, 0x1a);
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x1000);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), INFO_DF0);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_ERROR_CODE), 0);
	CHECK_EQ(f12(VMCS_IDT_VECTORING_INFO_FIELD), 0);
	CHECK_EQ(f12(VMCS_IDT_VECTORING_ERROR_CODE), 0);
	/* The same without #DF in the bitmap: L2 gets the #DF. */
	enter_l2(0);
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_GP0);
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x1000);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ, 0), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_DF0);
}
