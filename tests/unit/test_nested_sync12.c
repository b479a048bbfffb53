/*
 * test_nested_sync12.c - the vmcs12 rebuild (nested/sync12.c) against the
 * software VMCS standing for vmcs02: it reads guest-state and
 * exit-information fields only, never a control or host-state field.
 */
#include "hw_fake.h"
#include "nested/sync12.h"
#include "nested/vmx_msrs.h"
#include "test.h"
#include "vmcs_soft.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#include <string.h>

static struct vmcs12 v12;
static struct vmx_caps l1;

static void setup(uint32_t exit_controls)
{
	struct vmx_caps hw;
	hw_fake_bochs_caps(&hw);
	nested_vmx_msrs_init(&hw, vmcs12_highest_field_index(), &l1);
	memset(&v12, 0, sizeof(v12));
	vmcs_soft_reset();
	vmcs12_set(&v12, VMCS_VM_EXIT_CONTROLS, exit_controls);
	/* vmcs02 as L2 left it. */
	vmcs_soft_set(VMCS_GUEST_RIP, 0x401000);
	vmcs_soft_set(VMCS_GUEST_RSP, 0x7000);
	vmcs_soft_set(VMCS_GUEST_CS_SELECTOR, 0x10);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	vmcs_soft_set(VMCS_GUEST_IA32_PAT, 0x0007040600070406ull);
	vmcs_soft_set(VMCS_GUEST_DR7, 0x400);
	vmcs_soft_set(VMCS_VM_EXIT_REASON, EXIT_REASON_CPUID);
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, 0);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | 14);
	vmcs_soft_set(VMCS_VM_INSTRUCTION_ERROR, 99); /* vmcs02's: must not reach vmcs12 */
	vmcs_soft_set(VMCS_GUEST_CR0, 0x80050033);
	vmcs_soft_set(VMCS_GUEST_CR4, 0x2620);
	/* Controls and host state of vmcs02: never to be read. */
	vmcs_soft_set(VMCS_CPU_BASED_VM_EXEC_CONTROL, 0x1234);
	vmcs_soft_set(VMCS_HOST_RIP, 0xdead);
	vmcs_soft_clear_counters();
}

static const struct vmcs02_cr_state cr = {
	.cr0_l0_guest_owned = ~0x20ull, .cr4_l0_guest_owned = ~0x2000ull,
	.cr0_shadow02 = 0x80050013,	.cr4_shadow02 = 0x0620,
};

TEST(sync12_reads_only_guest_and_exit_info)
{
	setup(EXIT_SAVE_IA32_EFER | EXIT_SAVE_IA32_PAT | EXIT_SAVE_DEBUG_CONTROLS);
	unsigned reads = nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_CONTROL), 0);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_HOST), 0);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_CONTROL) + vmcs_soft_writes(VMCS_CLASS_GUEST) +
			 vmcs_soft_writes(VMCS_CLASS_EXIT_INFO) + vmcs_soft_writes(VMCS_CLASS_HOST),
		 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
	CHECK_EQ(reads, vmcs_soft_reads(VMCS_CLASS_GUEST) + vmcs_soft_reads(VMCS_CLASS_EXIT_INFO));
	CHECK(reads > 50);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_RIP), 0x401000);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_RSP), 0x7000);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_CS_SELECTOR), 0x10);
	CHECK_EQ(vmcs12_get(&v12, VMCS_VM_EXIT_REASON), EXIT_REASON_CPUID);
	CHECK_EQ(vmcs12_get(&v12, VMCS_VM_EXIT_INSTRUCTION_LEN), 2);
	CHECK_EQ(vmcs12_get(&v12, VMCS_IDT_VECTORING_INFO_FIELD),
		 INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | 14);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_IA32_PAT), 0x0007040600070406ull);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_DR7), 0x400);
}

TEST(sync12_fields_l1_cannot_have_are_not_read)
{
	setup(0);
	nested_sync_vmcs12(&v12, &l1, &cr);
	/* PML, posted interrupts, preemption timer: not offered to L1. */
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_PML_INDEX), 0);
	/* EPT is: the guest-physical address is exit information; PDPTEs only under L1's EPT. */
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_PHYSICAL_ADDRESS), 1);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_PDPTE0), 0);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_PML_INDEX), 0);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_INTR_STATUS), 0);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_VMX_PREEMPTION_TIMER_VALUE), 0);
	/* The VM-instruction error stays vmcs12's own. */
	CHECK_EQ(vmcs_soft_field_reads(VMCS_VM_INSTRUCTION_ERROR), 0);
	CHECK_EQ(vmcs12_get(&v12, VMCS_VM_INSTRUCTION_ERROR), 0);
	/* SMM-only: undefined after a non-SMM exit (SDM 28.2.5, 28.3.4), never read. */
	static const uint32_t smm[] = { VMCS_GUEST_SMBASE, VMCS_IO_RCX, VMCS_IO_RSI, VMCS_IO_RDI,
					VMCS_IO_RIP };
	for (unsigned i = 0; i < sizeof(smm) / sizeof(smm[0]); i++)
		CHECK_EQ(vmcs_soft_field_reads(smm[i]), 0);
}

/* SDM 28.3.4: the PDPTEs are saved under L1's EPT only. */
TEST(sync12_pdptes_saved_under_l1s_ept)
{
	setup(0);
	vmcs_soft_set(VMCS_GUEST_PDPTE1, 0x5001);
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_ACTIVATE_SECONDARY);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_EPT);
	nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_PDPTE1), 0x5001);
	/* Secondary controls not activated: EPT off, not saved. */
	setup(0);
	vmcs_soft_set(VMCS_GUEST_PDPTE1, 0x5001);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_EPT);
	nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_PDPTE1), 0);
}

TEST(sync12_exit_controls_decide_what_is_saved)
{
	setup(0);
	vmcs12_set(&v12, VMCS_GUEST_IA32_PAT, 0x66);
	vmcs12_set(&v12, VMCS_GUEST_DR7, 0x777);
	vmcs12_set(&v12, VMCS_GUEST_IA32_EFER, 0x1);
	nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_IA32_PAT), 0x66);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_DR7), 0x777);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_IA32_EFER), 0x1);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_IA32_PAT), 0);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_DR7), 0);
}

TEST(sync12_cr_merge_and_entry_fields)
{
	setup(0);
	vmcs12_set(&v12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | 0x30);
	vmcs12_set(&v12, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_IA32_EFER);
	nested_sync_vmcs12(&v12, &l1, &cr);
	/* NE and VMXE are L0's: L1 sees its own (clear) values from the shadows. */
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_CR0), 0x80050013);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_CR4), 0x0620);
	/* The valid bit of the entry event is cleared, the rest kept. */
	CHECK_EQ(vmcs12_get(&v12, VMCS_VM_ENTRY_INTR_INFO_FIELD), INTR_TYPE_EXT_INTR | 0x30);
	/* IA-32e mode guest follows EFER.LMA (set in vmcs02). */
	CHECK_EQ(vmcs12_get(&v12, VMCS_VM_ENTRY_CONTROLS),
		 ENTRY_LOAD_IA32_EFER | ENTRY_IA32E_MODE_GUEST);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0);
	nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs12_get(&v12, VMCS_VM_ENTRY_CONTROLS), ENTRY_LOAD_IA32_EFER);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_CONTROL), 0);
}

/*
 * SDM Vol. 3C 28.3.1: IA32_PAT is saved under "save IA32_PAT" (exit control
 * bit 18) and IA32_EFER under "save IA32_EFER" (bit 20), each on its own.
 */
TEST(sync12_pat_and_efer_each_saved_by_their_own_control)
{
	setup(EXIT_SAVE_IA32_EFER);
	vmcs12_set(&v12, VMCS_GUEST_IA32_PAT, 0x0000000500000004ull);
	vmcs12_set(&v12, VMCS_GUEST_IA32_EFER, EFER_SCE);
	nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_IA32_PAT), 0x0000000500000004ull);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_IA32_PAT), 0);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_IA32_EFER), EFER_LME | EFER_LMA);

	setup(EXIT_SAVE_IA32_PAT);
	vmcs12_set(&v12, VMCS_GUEST_IA32_PAT, 0x0000000500000004ull);
	vmcs12_set(&v12, VMCS_GUEST_IA32_EFER, EFER_SCE);
	nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_IA32_PAT), 0x0007040600070406ull);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_IA32_EFER), EFER_SCE);
}

/*
 * SDM Vol. 3C 28.2: "IA-32e mode guest" takes EFER.LMA, not LME.  L2 that
 * set LME but has not yet enabled paging (LME = 1, LMA = 0) is not in
 * IA-32e mode: the control must come back clear, even if L1 had it set.
 */
TEST(sync12_ia32e_mode_guest_follows_lma_not_lme)
{
	setup(0);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_SCE);
	vmcs12_set(&v12, VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_IA32_EFER | ENTRY_IA32E_MODE_GUEST);
	nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs12_get(&v12, VMCS_VM_ENTRY_CONTROLS), ENTRY_LOAD_IA32_EFER);
}
