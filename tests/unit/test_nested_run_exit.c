/*
 * test_nested_run_exit.c - exits while L2 runs (nested/vmexit.c), through
 * vmx_exit_dispatch on two software VMCSs (fixture: nested_run_fixture.h):
 * exits reflected to L1 (vmcs12 rebuilt from vmcs02, L1 at its host RIP
 * on vmcs01), exits L0 keeps (handled on vmcs02, L2 resumed, an event
 * whose delivery they interrupted given back), a VM-entry failure of
 * vmcs02 itself, and VMX aborts (SDM Vol. 3C 28.7) in a forked child.
 *
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "halting.h"
#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <string.h>

#define INFO_GP0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_GP)
#define INFO_DF0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_DF)

/* L2 after it ran a while: where the exit leaves it in vmcs02. */
#define L2_RIP_NOW (L2_RIP + 0x40)
#define L2_RSP_NOW (L2_RSP - 0x10)

static void l2_ran(void)
{
	vmcs_soft_set(VMCS_GUEST_RIP, L2_RIP_NOW);
	vmcs_soft_set(VMCS_GUEST_RSP, L2_RSP_NOW);
}

TEST(nested_exit_reflect_cpuid)
{
	run_setup();
	vmcs12_set(V12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_EXTINT(0x30));
	vmcs12_set(V12, VMCS_VM_INSTRUCTION_ERROR, 12); /* from an earlier VMfail */
	vmcs12_set(V12, VMCS_EXIT_QUALIFICATION, 0x1234); /* from an earlier exit */
	CHECK(run_l1_vmlaunch());
	l2_ran();
	/* CPUID defines no qualification: what the CPU left in vmcs02 is copied (docs/nested.md). */
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0x77, 2), 0);
	/* vmcs12: the exit as L1 sees it (SDM 28.2, 28.3). */
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_CPUID);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0x77);
	CHECK_EQ(f12(VMCS_VM_EXIT_INSTRUCTION_LEN), 2);
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP_NOW);
	CHECK_EQ(f12(VMCS_GUEST_RSP), L2_RSP_NOW);
	CHECK_EQ(f12(VMCS_VM_ENTRY_INTR_INFO_FIELD), INTR_TYPE_EXT_INTR | 0x30); /* valid cleared */
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), 12);
	CHECK_EQ(f12(VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST, ENTRY_IA32E_MODE_GUEST);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_LAUNCHED);
	/* vmcs01 current again, L1 at its host RIP with its host state (SDM 28.5). */
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK(!NV->in_l2);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	CHECK_EQ(f01(VMCS_GUEST_RSP), HOST_RSP12);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS), RFLAGS_RESERVED1);
	CHECK_EQ(f01(VMCS_GUEST_CR3), L1_HOST_CR3);
	CHECK_EQ(f01(VMCS_GUEST_CS_SELECTOR), 0x08);
	CHECK_EQ(f01(VMCS_GUEST_IA32_EFER), EFER_L1);
	CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD), 0);
	CHECK_EQ(NV->l2_exits, 1);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(NV->entries, 1);
	CHECK_EQ(vcpu.exits_total, 1); /* L1's VMLAUNCH only: L2's exits are counted apart */
	CHECK_EQ(hw_calls.last_vpid, L1_VPID);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * The rebuild reads vmcs02's guest-state and exit-information fields only
 * (sync12.h), and nothing writes vmcs02 on the way out; the VM-exit
 * MSR-store area (SDM 28.4) reads L2's MSRs from vmcs02's guest fields.
 */
TEST(nested_exit_reflect_reads_only_guest_and_exit_info)
{
	run_setup();
	run_msr_entry(EXIT_STORE_AREA, 0, MSR_IA32_EFER, 0);
	run_msr_entry(EXIT_STORE_AREA, 1, MSR_IA32_SYSENTER_EIP, 0);
	vmcs12_set(V12, VMCS_VM_EXIT_MSR_STORE_COUNT, 2);
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_GUEST_SYSENTER_EIP, 0xffffffff81000123ull);
	vmcs_soft_clear_counters();
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(vmcs_soft_reads_in(VMCS02_PA, VMCS_CLASS_CONTROL), 0);
	CHECK_EQ(vmcs_soft_reads_in(VMCS02_PA, VMCS_CLASS_HOST), 0);
	for (unsigned c = 0; c < 4; c++)
		CHECK_EQ(vmcs_soft_writes_in(VMCS02_PA, (enum vmcs_class)c), 0);
	/* The eager rows only (issue 13: at most 20), the lazy ones pending. */
	CHECK(NV->last_sync_reads >= 15 && NV->last_sync_reads <= 20);
	CHECK(NV->lazy_pending);
	CHECK(vmcs_soft_reads_in(VMCS02_PA, VMCS_CLASS_GUEST) +
		  vmcs_soft_reads_in(VMCS02_PA, VMCS_CLASS_EXIT_INFO) >=
	      NV->last_sync_reads);
	CHECK_EQ(vmcs_soft_reads_in(VMCS01_PA, VMCS_CLASS_HOST), 0);
	uint64_t efer, eip;
	memcpy(&efer, run_l1_ptr(EXIT_STORE_AREA + 8), 8);
	memcpy(&eip, run_l1_ptr(EXIT_STORE_AREA + 24), 8);
	CHECK_EQ(efer, 0xd01);
	CHECK_EQ(eip, 0xffffffff81000123ull);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* RDMSR of IA32_FEATURE_CONTROL: L0 intercepts it, L1's bitmap does not. */
TEST(nested_exit_l0_keeps_rdmsr)
{
	run_setup();
	vmcs12_set(V12, VMCS_VM_EXIT_REASON, EXIT_REASON_HLT); /* from an earlier exit */
	CHECK(run_l1_vmlaunch());
	regs.gpr[GPR_RCX] = MSR_IA32_FEATURE_CONTROL;
	CHECK_EQ(run_l2_exit(EXIT_REASON_MSR_READ, 0, 2), 0); /* VMRESUME of vmcs02 */
	CHECK(NV->in_l2);
	CHECK_EQ(vmcs_soft_current(), VMCS02_PA);
	CHECK_EQ(regs.gpr[GPR_RAX], 5); /* locked, VMX outside SMX */
	CHECK_EQ(regs.gpr[GPR_RDX], 0);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + 2);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_HLT);
	CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0);
	CHECK_EQ(NV->l2_exits, 1);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(hw_calls.rdmsr, 0);
	/*
	 * L1 sets its read bit for 0x3a while L2 runs: the CPU still uses the
	 * bitmap of the entry, so the exit stays L0's (decided from L0's copy,
	 * not from L1's memory now).
	 */
	run_l1_ptr(MSR_BITMAP12)[0x3a / 8] |= 1u << (0x3a % 8);
	CHECK_EQ(run_l2_exit(EXIT_REASON_MSR_READ, 0, 2), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + 4);
	/* Back in L1 (L2's HLT is L1's) and a new entry with the bit set: now L1's. */
	CHECK_EQ(run_l2_exit(EXIT_REASON_HLT, 0, 1), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
	CHECK(NV->in_l2);
	CHECK_EQ(run_l2_exit(EXIT_REASON_MSR_READ, 0, 2), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_MSR_READ);
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP + 4); /* after two RDMSRs; L1 left RIP at the HLT */
	CHECK_EQ(NV->reflected, 2);
	CHECK_EQ(hw_calls.rdmsr, 0);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * The critical case (time of check vs time of use): L1 asks for L2's
 * writes of IA32_GS_BASE at the entry, then clears the bit while L2 runs
 * (L1 on another CPU, or L2 through a mapping L1 gave it).  The CPU exited
 * because of the bit it used, so the exit is L1's.  Judged L0's (from L1's
 * memory read again), L0 would have passed the WRMSR through in VMX root
 * with L2's value: GS_BASE is where L0 finds its per-CPU state.
 */
TEST(nested_exit_msr_owner_from_the_entry_copy)
{
	run_setup();
	uint8_t *bm = run_l1_ptr(MSR_BITMAP12);
	bm[2048 + 1024 + 0x101 / 8] |= 1u << (0x101 % 8); /* write, high range: 0xc0000101 */
	CHECK(run_l1_vmlaunch());
	bm[2048 + 1024 + 0x101 / 8] = 0; /* cleared while L2 runs */
	regs.gpr[GPR_RCX] = 0xc0000101;
	regs.gpr[GPR_RAX] = 0x00001000;
	regs.gpr[GPR_RDX] = 0xffff8000;
	CHECK_EQ(run_l2_exit(EXIT_REASON_MSR_WRITE, 0, 2), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_MSR_WRITE);
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(hw_calls.wrmsr, 0); /* nothing written in VMX root */
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	/* Reads of GS_BASE, which neither L0 nor L1 asked for, are L1's too. */
	run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
	CHECK(NV->in_l2);
	CHECK_EQ(run_l2_exit(EXIT_REASON_MSR_READ, 0, 2), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(hw_calls.rdmsr, 0);
	CHECK_EQ(NV->reflected, 2);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * Exits of L0's own that interrupted the delivery of an event to L2
 * (IDT-vectoring information valid, SDM 28.2.4).  What the code does: it
 * copies the IDT-vectoring information (bit 12 cleared), its error code
 * and the exit's instruction length into vmcs02's VM-entry fields, then
 * runs L0's handler on vmcs02.  A handler that injects nothing keeps the
 * event (an NMI exit: the event goes again, the NMI waits for an
 * NMI-window exit); one that injects replaces it (an EPT violation on
 * L0's memory: #GP(0) instead of the external interrupt).  The event
 * here is L1's software interrupt INT 0x30 (type 4), whose instruction
 * length (2) the exit reports and the next entry needs (SDM 28.2.5,
 * 27.2.1.3); vmcs02's VM-entry length is poisoned first, since the
 * entry from L1 had already put 2 there.
 */
#define INFO_INT30 0x80000430u /* SDM Vol. 3C 25.9.3: valid, type 4, vector 0x30 */

TEST(nested_exit_l0_exit_during_event_delivery)
{
	run_setup();
	/* L1 takes neither NMIs nor NMI windows: both are L0's. */
	vmcs12_set(V12, VMCS_PIN_BASED_VM_EXEC_CONTROL,
		   (uint32_t)g_l0.l1_vmx.true_pinbased | PIN_EXTERNAL_INTERRUPT_EXITING);
	vmcs12_set(V12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_INT30);
	vmcs12_set(V12, VMCS_VM_ENTRY_INSTRUCTION_LEN, 2);
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_INT30 | (1u << 12));
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, INFO_NMI);
	vmcs_soft_set(VMCS_VM_ENTRY_INSTRUCTION_LEN, 9);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EXCEPTION_NMI, 0, 2), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_INT30);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INSTRUCTION_LEN), 2);
	CHECK(vcpu.nmi_pending);
	CHECK_EQ(hw_calls.unblock_nmi, 1);
	CHECK_EQ(f02(VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_NMI_WINDOW_EXITING,
		 CPU_NMI_WINDOW_EXITING);
	/* INT 0x30 delivered, the window opens: L2 gets the NMI (L1 does not exit on NMIs). */
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, 0);
	CHECK_EQ(run_l2_exit(EXIT_REASON_NMI_WINDOW, 0, 0), 0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_NMI);
	CHECK_EQ(f02(VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_NMI_WINDOW_EXITING, 0);
	CHECK(!vcpu.nmi_pending);
	CHECK_EQ(NV->reflected, 0);

	/* An EPT violation on L0's memory while delivering interrupt 0x30: #GP(0) replaces it. */
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_EXTINT(0x30));
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x7777);
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x1000);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ, 0), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(vcpu.l0_refusals, 1);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * L0's #GP(0) for an access to its memory during the delivery of a
 * contributory exception (#GP here, or #PF) is a double fault (SDM Vol.
 * 3A 6.15, table 6-5; Vol. 3C "Reflecting Exceptions to Guest Software"),
 * so an L2 whose IDT lies in L0's memory reaches #DF and then a triple
 * fault instead of looping on #GP.
 */
TEST(nested_exit_gp_during_gp_delivery_is_df)
{
	run_setup();
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_GP0);
	vmcs_soft_set(VMCS_IDT_VECTORING_ERROR_CODE, 0x1a); /* L2's #GP: a selector's */
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x7777);
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x1000);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ, 0), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_DF0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
}

/* #GP during the delivery of #DF: a triple fault, which is L1's exit (reason 2). */
TEST(nested_exit_gp_during_df_delivery_is_l1s_triple_fault)
{
	run_setup();
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_DF0);
	vmcs_soft_set(VMCS_IDT_VECTORING_ERROR_CODE, 0);
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, 0x80000b0eu); /* stale: a #PF exit's */
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x1000);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), 2); /* SDM Vol. 3C appendix C: triple fault */
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO) & 0x80000000u, 0); /* 28.2.2: not a vectored event */
	CHECK_EQ(f12(VMCS_IDT_VECTORING_INFO_FIELD), 0);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
}

/* #GP during the delivery of an external interrupt: L0's #GP stands (benign first). */
TEST(nested_exit_gp_during_interrupt_delivery_stands)
{
	run_setup();
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_EXTINT(0x30));
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x7777);
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, HV_BASE + 0x1000);
	CHECK_EQ(run_l2_exit(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ, 0), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
}

/*
 * L2's MOV to CR4 that clears VMXE, a bit L1 leaves to L2 (its CR4
 * guest/host mask is 0) but L0 owns in vmcs02, exits to L0 alone.  L2
 * runs in VMX (non-root) operation of L1's CPU, whose
 * IA32_VMX_CR4_FIXED0 has VMXE: "any attempt to set one of these bits to
 * an unsupported value while in VMX operation ... using CLTS, LMSW or MOV
 * CR causes a general-protection exception" (SDM Vol. 3C 24.8; 26.3 "MOV
 * to CR4").  #GP(0) into L2; RIP and the read shadow unchanged.
 */
TEST(nested_exit_l2_clearing_cr4_vmxe_is_gp)
{
	run_setup();
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_CR4_GUEST_HOST_MASK) & CR4_VMXE, CR4_VMXE);
	regs.gpr[GPR_RAX] = CR4_PAE | (1u << 7); /* L2's CR4 without VMXE */
	CHECK_EQ(run_l2_exit(EXIT_REASON_CR_ACCESS, 4 /* MOV to CR4 from RAX */, 3), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(f02(VMCS_CR4_READ_SHADOW), CR4_VMXE | CR4_PAE | (1u << 7));
}

/*
 * CR0 as L1 sees it after the exit (reflect_cr.h): bits L2 owns or L1
 * masks from vmcs02's register, bits only L0 owns from the shadow L0
 * wrote.  L1 masks TS and MP with TS = 1 in its shadow; L0 owns NE.
 */
TEST(nested_exit_cr0_cr4_merge)
{
	run_setup();
	vmcs12_set(V12, VMCS_CR0_GUEST_HOST_MASK, CR0_TS | CR0_MP);
	vmcs12_set(V12, VMCS_CR0_READ_SHADOW, CR0_TS);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(g_l0.cr0_mask, CR0_NE);
	CHECK_EQ(f02(VMCS_CR0_GUEST_HOST_MASK), CR0_TS | CR0_MP | CR0_NE);
	CHECK_EQ(f02(VMCS_CR0_READ_SHADOW), 0x80050039ull); /* TS from L1's shadow */
	CHECK_EQ(f02(VMCS_CR4_READ_SHADOW), CR4_VMXE | CR4_PAE | (1u << 7));
	/*
	 * L2 cleared WP (its own) and set CR4.OSFXSR (its own).  The NE and
	 * VMXE probes: the CPU keeps them fixed, a value differing from the
	 * shadow shows where L1's view of them comes from.
	 */
	vmcs_soft_set(VMCS_GUEST_CR0, (0x80050033ull & ~CR0_WP & ~CR0_NE));
	vmcs_soft_set(VMCS_GUEST_CR4, CR4_PAE | (1u << 7) | (1u << 9));
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	CHECK_EQ(f12(VMCS_GUEST_CR0), 0x80040033ull); /* TS: the register's 0, not L1's shadow */
	CHECK_EQ(f12(VMCS_GUEST_CR4), CR4_VMXE | CR4_PAE | (1u << 7) | (1u << 9));
	CHECK_EQ(f12(VMCS_CR0_READ_SHADOW), CR0_TS);
	CHECK_EQ(f12(VMCS_CR0_GUEST_HOST_MASK), CR0_TS | CR0_MP);
	/* L1's own CR0/CR4 come from its host state, as it reads them (vmcs01's shadows). */
	CHECK_EQ(f01(VMCS_CR0_READ_SHADOW), CR0_L1);
	CHECK_EQ(f01(VMCS_CR4_READ_SHADOW), CR4_L1);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * The CPU refuses vmcs02's guest state after L0's checks passed vmcs12:
 * exit reason 33 with bit 31 in vmcs02.  L1 sees the failure of its own
 * VM entry (SDM 27.8): reason and qualification, nothing else of the
 * exit information, no guest state saved, the entry event still valid,
 * its launch state as before the entry; the next entry VMCLEARs vmcs02.
 */
TEST(nested_exit_vmcs02_entry_failure)
{
	run_setup();
	vmcs12_set(V12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_EXTINT(0x30));
	vmcs12_set(V12, VMCS_VM_EXIT_INTR_INFO, 0x80000b0eu);
	vmcs12_set(V12, VMCS_EXIT_QUALIFICATION, 0x55);
	CHECK(run_l1_vmlaunch());
	l2_ran(); /* must not reach vmcs12 */
	/* Qualification 2: loading the PDPTEs failed (SDM 27.8). */
	CHECK_EQ(run_l2_exit(EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE, 2, 0), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), 0x80000021u);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 2);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), 0x80000b0eu);
	CHECK_EQ(f12(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_EXTINT(0x30));
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_CLEAR);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK(!NV->in_l2);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	CHECK_EQ(f01(VMCS_GUEST_RSP), HOST_RSP12);
	CHECK_EQ(NV->entry_failures, 1);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(NV->vmcs02_for, VMPTR_INVALID);
	CHECK(run_log_has("the CPU refused vmcs02 with exit reason 33"));
	unsigned clears = hw_calls.vmclear;
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 1);
	CHECK_EQ(hw_calls.vmclear, clears + 1);

	/* After L1's VMRESUME, the vmcs12 stays launched; vmcs02 is launched afresh next time. */
	CHECK_EQ(run_l2_exit(EXIT_REASON_CPUID, 0, 2), 0);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK_EQ(run_l2_exit(EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE, 0, 0), 0);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_LAUNCHED);
	CHECK_EQ(NV->entry_failures, 2);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 1);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* ---- VMX aborts (SDM 28.7), in a child: L1 shuts down, which halts the CPU ---- */

static void l2_cpuid_exit(void)
{
	run_l2_exit(EXIT_REASON_CPUID, 0, 2);
}

static uint32_t abort_in_memory(void)
{
	uint32_t a;
	memcpy(&a, run_l1_ptr(VMCS12_A + offsetof(struct vmcs12, abort)), 4);
	return a;
}

TEST(nested_exit_vmx_abort)
{
	/* The VM-exit MSR-load area's first entry names an x2APIC MSR (28.6): indicator 4. */
	run_setup();
	run_msr_entry(EXIT_LOAD_AREA, 0, 0x808, 0);
	vmcs12_set(V12, VMCS_VM_EXIT_MSR_LOAD_COUNT, 1);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(run_halting(l2_cpuid_exit), HALTED_CLI);
	CHECK_EQ(V12->abort, 4);
	CHECK_EQ(abort_in_memory(), 4);
	CHECK(strstr(halting_out, "nested: CPU 0: VMX abort 4 (loading an MSR of L1 failed; MSR "
				    "entry 1) while L2 exited to L1: L1 shuts down (SDM 28.7)"));
	CHECK(strstr(halting_out, "L1 triple fault at RIP 0xffffffffa0001000"));
	CHECK(strstr(halting_out, "L1 triple fault (on_triple_fault = halt): CPU halted"));

	/* The MSR-store area's second entry is IA32_SMBASE (28.4): indicator 1, before 28.5. */
	run_setup();
	run_msr_entry(EXIT_STORE_AREA, 0, MSR_IA32_EFER, 0);
	run_msr_entry(EXIT_STORE_AREA, 1, 0x9e, 0);
	vmcs12_set(V12, VMCS_VM_EXIT_MSR_STORE_COUNT, 2);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(run_halting(l2_cpuid_exit), HALTED_CLI);
	CHECK_EQ(V12->abort, 1);
	CHECK_EQ(abort_in_memory(), 1);
	CHECK(strstr(halting_out, "VMX abort 1 (saving an MSR of L2 failed; MSR entry 2)"));
	CHECK(strstr(halting_out, "L1 triple fault at RIP 0xfffff80000401000"));
	CHECK(strstr(halting_out, "L1 triple fault (on_triple_fault = halt): CPU halted"));
}

/*
 * L1 itself, after its VMXON, may not clear CR4.VMXE or CR0.NE (SDM Vol.
 * 3C 24.8: #GP(0)); once out of VMX operation it may clear VMXE again.
 */
TEST(nested_l1_cannot_clear_vmx_fixed_bits_in_vmx_operation)
{
	run_setup();
	CHECK(NV->cpu.vmxon);
	regs.gpr[GPR_RAX] = CR4_L1 & ~CR4_VMXE;
	vmcs_soft_set(VMCS_VM_EXIT_REASON, EXIT_REASON_CR_ACCESS);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, 3);
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, 4); /* MOV to CR4 from RAX */
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmx_exit_dispatch(&regs);
	CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK_EQ(f01(VMCS_CR4_READ_SHADOW) & CR4_VMXE, CR4_VMXE);
	regs.gpr[GPR_RAX] = CR0_L1 & ~CR0_NE;
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, 0); /* MOV to CR0 from RAX */
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmx_exit_dispatch(&regs);
	CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	/* Out of VMX operation: clearing VMXE is L1's right again. */
	NV->cpu.vmxon = false;
	regs.gpr[GPR_RAX] = CR4_L1 & ~CR4_VMXE;
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, 4);
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmx_exit_dispatch(&regs);
	CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0);
	CHECK_EQ(f01(VMCS_CR4_READ_SHADOW) & CR4_VMXE, 0);
}

/*
 * MOV to CR3 from a 32-bit L2 compares a 32-bit source operand with the
 * CR3-target values (SDM 26.1.3; Vol. 2 MOV to CR: outside 64-bit mode the
 * operand is 32 bits).  RAX's stale high half equals L1's odd target here:
 * a 64-bit comparison would call the exit L0's and inject #GP into L2.
 */
TEST(nested_exit_cr3_target_uses_the_operand_size)
{
	run_setup();
	run_valid_vmcs12_pae(V12);
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   f12(VMCS_CPU_BASED_VM_EXEC_CONTROL) | CPU_CR3_LOAD_EXITING);
	vmcs12_set(V12, VMCS_CR3_TARGET_COUNT, 1);
	vmcs12_set(V12, VMCS_CR3_TARGET_VALUE0, 0xdead000012345000ull);
	CHECK(run_l1_vmlaunch());
	regs.gpr[GPR_RAX] = 0xdead000012345000ull;
	/* SDM Table 28-3: CR 3, access type 0 (MOV to CR), register 0 (RAX). */
	CHECK_EQ(run_l2_exit(EXIT_REASON_CR_ACCESS, 0x3, 3), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_CR_ACCESS);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0x3);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0); /* no #GP for L2 */
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * Issue 12, item 6, through the run path: L1's RDRAND/RDSEED exiting,
 * PAUSE-loop exiting and TSC scaling reach vmcs02 with their fields, and
 * the exits they cause (57, 61, 40) are reflected with the CPU's
 * instruction information (SDM 28.2.5: destination register in 6:3,
 * operand size in 12:11), never judged L0's (which would halt: L0 has no
 * handler for them).
 */
TEST(nested_exit_rdrand_rdseed_pause_loop_reflected)
{
	const uint32_t item6 =
	    CPU2_RDRAND_EXITING | CPU2_RDSEED_EXITING | CPU2_PAUSE_LOOP_EXITING | CPU2_TSC_SCALING;
	static const struct {
		uint32_t reason, info, len;
	} exits[] = {
		{ EXIT_REASON_RDRAND, (1u << 11) | (GPR_RAX << 3), 3 },	   /* rdrand eax */
		{ EXIT_REASON_RDSEED, (2u << 11) | (GPR_R9 << 3), 4 },	   /* rdseed r9 */
		{ EXIT_REASON_PAUSE, 0, 2 },
	};
	run_setup();
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   f12(VMCS_CPU_BASED_VM_EXEC_CONTROL) | CPU_USE_TSC_OFFSETTING |
			   CPU_ACTIVATE_SECONDARY);
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL, item6);
	vmcs12_set(V12, VMCS_TSC_OFFSET, 0x1000);
	vmcs12_set(V12, VMCS_TSC_MULTIPLIER, 1ull << 49); /* 2.0 */
	vmcs12_set(V12, VMCS_PLE_GAP, 41);
	vmcs12_set(V12, VMCS_PLE_WINDOW, 4097);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_SECONDARY_VM_EXEC_CONTROL) & item6, item6);
	CHECK_EQ(f02(VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_USE_TSC_OFFSETTING,
		 CPU_USE_TSC_OFFSETTING);
	CHECK_EQ(f02(VMCS_TSC_OFFSET), 0x1000);
	CHECK_EQ(f02(VMCS_TSC_MULTIPLIER), 1ull << 49);
	CHECK_EQ(f02(VMCS_PLE_GAP), 41);
	CHECK_EQ(f02(VMCS_PLE_WINDOW), 4097);
	for (unsigned i = 0; i < sizeof(exits) / sizeof(exits[0]); i++) {
		if (i)
			CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
		CHECK(NV->in_l2);
		vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO, exits[i].info);
		CHECK_EQ(run_l2_exit(exits[i].reason, 0, exits[i].len), 0);
		CHECK(!NV->in_l2);
		CHECK_EQ(NV->reflected, i + 1);
		CHECK_EQ(f12(VMCS_VM_EXIT_REASON), exits[i].reason);
		CHECK_EQ(f12(VMCS_VMX_INSTRUCTION_INFO), exits[i].info);
		CHECK_EQ(f12(VMCS_VM_EXIT_INSTRUCTION_LEN), exits[i].len);
		CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	}
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * Issue 12, item 6, through the run path: "virtualize APIC accesses"
 * reaches vmcs02 with vmcs12's APIC-access address, and an APIC-access
 * exit (44) of the CPU's is L1's, reflected with its qualification
 * (SDM 28.2.1, table 28-6: offset 0x300, linear write) and the
 * IDT-vectoring information; never L0's (which has no handler for it).
 * A page that is not L1's ordinary memory (L0's here) is L0's VMfail 7.
 */
TEST(nested_exit_apic_access_reflected)
{
	const uint64_t page = MEM_BASE + 0x30000, qual = 0x1300; /* write, offset 300H */
	run_setup();
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   f12(VMCS_CPU_BASED_VM_EXEC_CONTROL) | CPU_ACTIVATE_SECONDARY);
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_VIRTUALIZE_APIC_ACCESSES);
	vmcs12_set(V12, VMCS_APIC_ACCESS_ADDR, HV_BASE + 0x1000);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), 7);
	CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0 + LEN_VMLAUNCH);
	vmcs12_set(V12, VMCS_APIC_ACCESS_ADDR, page);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_VIRTUALIZE_APIC_ACCESSES,
		 CPU2_VIRTUALIZE_APIC_ACCESSES);
	CHECK_EQ(f02(VMCS_APIC_ACCESS_ADDR), page);
	l2_ran();
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INFO_EXTINT(0x31));
	CHECK_EQ(run_l2_exit(EXIT_REASON_APIC_ACCESS, qual, 6), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_APIC_ACCESS);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), qual);
	CHECK_EQ(f12(VMCS_IDT_VECTORING_INFO_FIELD), INFO_EXTINT(0x31));
	CHECK_EQ(f12(VMCS_VM_EXIT_INSTRUCTION_LEN), 6);
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP_NOW);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}
