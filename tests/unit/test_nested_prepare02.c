/*
 * test_nested_prepare02.c - vmcs02 from vmcs12 and L0's needs
 * (nested/prepare02.c), written into the software VMCS; and the round
 * trip with the vmcs12 rebuild (nested/sync12.c).
 */
#include "hw_fake.h"
#include "nested/prepare02.h"
#include "nested/sync12.h"
#include "nested/vmx_msrs.h"
#include "test.h"
#include "vmcs_soft.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#include <string.h>

static struct vmcs12 v12;
static struct vmx_caps hw, l1;
static struct vmcs02_l0 l0;
static struct vmcs02_cr_state cr;

static void setup(void)
{
	hw_fake_bochs_caps(&hw);
	nested_vmx_msrs_init(&hw, vmcs12_highest_field_index(), &l1);
	memset(&v12, 0, sizeof(v12));
	vmcs_soft_reset();
	l0 = (struct vmcs02_l0){ .hw = &hw,
				 .l1 = &l1,
				 .pin = PIN_NMI_EXITING,
				 .proc = 0,
				 .proc2 = 0,
				 .exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
					 EXIT_LOAD_IA32_EFER,
				 .cr0_mask = 0x20,
				 .cr4_mask = 0x2000,
				 .eptp = 0x5000001e,
				 .vpid = 2,
				 .msr_bitmap = 0x7000,
				 .l1_efer = 0xd01,
				 .l1_pat = 0x0007040600070406ull,
				 .l1_dr7 = 0x401,
				 .l1_debugctl = 0x1 };
	/* A 64-bit L2 as L1 describes it. */
	vmcs12_set(&v12, VMCS_GUEST_RIP, 0x401000);
	vmcs12_set(&v12, VMCS_GUEST_RSP, 0x8000);
	vmcs12_set(&v12, VMCS_GUEST_CS_SELECTOR, 0x10);
	vmcs12_set(&v12, VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	vmcs12_set(&v12, VMCS_GUEST_CR0, 0x80050013); /* NE clear: L0 forces it */
	vmcs12_set(&v12, VMCS_GUEST_CR4, 0x0620);     /* VMXE clear: L0 forces it */
	vmcs12_set(&v12, VMCS_GUEST_PML_INDEX, 5);   /* PML not offered: ignored */
	vmcs12_set(&v12, VMCS_VMCS_LINK_POINTER, 0x1000);
	vmcs12_set(&v12, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	vmcs12_set(&v12, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_EXTERNAL_INTERRUPT_EXITING);
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_HLT_EXITING);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_WBINVD_EXITING);
	vmcs12_set(&v12, VMCS_EXCEPTION_BITMAP, 1u << VEC_UD);
	vmcs12_set(&v12, VMCS_CR0_GUEST_HOST_MASK, 0x1); /* L1 owns PE */
	vmcs12_set(&v12, VMCS_CR0_READ_SHADOW, 0x1);
	vmcs12_set(&v12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | 0x40);
	vmcs12_set(&v12, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 3);
	vmcs_soft_clear_counters();
}

TEST(prepare02_guest_state)
{
	setup();
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), 0x401000);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RSP), 0x8000);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_AR_BYTES), 0xa09b);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR0), 0x80050033); /* + NE (CR0_FIXED0) */
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR4), 0x2620);     /* + VMXE (CR4_FIXED0) */
	CHECK_EQ(vmcs_soft_get(VMCS_VMCS_LINK_POINTER), ~0ull);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_PML_INDEX), 0);
	/* With EPT offered L1's PDPTE fields exist and are copied (used only under its EPT). */
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_PDPTE0), 1);
	/* Without L1's "load" entry controls, L1's values; EFER's LMA/LME per IA-32e. */
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), 0xd01);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_PAT), 0x0007040600070406ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_DR7), 0x401);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_DEBUGCTL), 0x1);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_HOST), 0);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_EXIT_INFO), 0);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_CONTROL) + vmcs_soft_reads(VMCS_CLASS_GUEST) +
			 vmcs_soft_reads(VMCS_CLASS_HOST) + vmcs_soft_reads(VMCS_CLASS_EXIT_INFO),
		 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(prepare02_loaded_state_comes_from_vmcs12)
{
	setup();
	vmcs12_set(&v12, VMCS_VM_ENTRY_CONTROLS,
		   ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_DEBUG_CONTROLS);
	vmcs12_set(&v12, VMCS_GUEST_IA32_EFER, 0x0);
	vmcs12_set(&v12, VMCS_GUEST_IA32_PAT, 0x6);
	vmcs12_set(&v12, VMCS_GUEST_DR7, 0x400);
	vmcs12_set(&v12, VMCS_GUEST_IA32_DEBUGCTL, 0);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), 0x0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_PAT), 0x6);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_DR7), 0x400);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_DEBUGCTL), 0);
	/* A 32-bit L2 without "load EFER": LMA and LME cleared from L1's EFER. */
	vmcs12_set(&v12, VMCS_VM_ENTRY_CONTROLS, 0);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), 0x801);
}

TEST(prepare02_controls_are_l1_or_l0)
{
	setup();
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_PIN_BASED_VM_EXEC_CONTROL),
		 PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING);
	CHECK_EQ(vmcs_soft_get(VMCS_CPU_BASED_VM_EXEC_CONTROL),
		 CPU_HLT_EXITING | CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY);
	/* L1's secondary bits count only when L1 activated them. */
	CHECK_EQ(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL), CPU2_ENABLE_EPT | CPU2_ENABLE_VPID);
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_HLT_EXITING | CPU_ACTIVATE_SECONDARY);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL),
		 CPU2_WBINVD_EXITING | CPU2_ENABLE_EPT | CPU2_ENABLE_VPID);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_EXIT_CONTROLS), l0.exit);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_CONTROLS),
		 ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT |
			 ENTRY_LOAD_DEBUG_CONTROLS);
	CHECK_EQ(vmcs_soft_get(VMCS_EXCEPTION_BITMAP), 1u << VEC_UD);
	CHECK_EQ(vmcs_soft_get(VMCS_EPT_POINTER), 0x5000001e);
	CHECK_EQ(vmcs_soft_get(VMCS_VIRTUAL_PROCESSOR_ID), 2);
	CHECK_EQ(vmcs_soft_get(VMCS_MSR_BITMAP), 0x7000);
	/* L1's MSR areas (count 3 in vmcs12) are L0's to process: none for the CPU. */
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_MSR_LOAD_COUNT), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_EXIT_MSR_LOAD_COUNT), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_EXIT_MSR_STORE_COUNT), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD),
		 INTR_INFO_VALID | INTR_TYPE_EXT_INTR | 0x40);
	/* L0's own areas (IA32_SPEC_CTRL switched) go to vmcs02 as to vmcs01. */
	l0.msr_entry_load = 0x8010;
	l0.msr_exit_load = 0x8020;
	l0.msr_load_count = 1;
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_MSR_LOAD_ADDR), 0x8010);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_MSR_LOAD_COUNT), 1);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_EXIT_MSR_LOAD_ADDR), 0x8020);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_EXIT_MSR_LOAD_COUNT), 1);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_EXIT_MSR_STORE_COUNT), 0);
}

TEST(prepare02_cr_masks_and_shadows)
{
	setup();
	nested_prepare_vmcs02(&v12, &l0, &cr);
	/* PE is L1's, NE is L0's: both exit. */
	CHECK_EQ(vmcs_soft_get(VMCS_CR0_GUEST_HOST_MASK), 0x21);
	/* Shadow: L1's shadow for PE (1), L1's guest value for NE (0). */
	CHECK_EQ(vmcs_soft_get(VMCS_CR0_READ_SHADOW), 0x80050013);
	CHECK_EQ(vmcs_soft_get(VMCS_CR4_GUEST_HOST_MASK), 0x2000);
	CHECK_EQ(vmcs_soft_get(VMCS_CR4_READ_SHADOW), 0x0620);
	CHECK_EQ(cr.cr0_l0_guest_owned, ~0x20ull);
	CHECK_EQ(cr.cr0_shadow02, 0x80050013);
}

/*
 * SDM Vol. 3C 27.6: a software interrupt L1 injects is delivered with
 * L1's VM-entry instruction length (RIP pushed = RIP + length); vmcs02
 * holds whatever an earlier entry left there, poisoned here.
 */
TEST(prepare02_injected_event_takes_l1s_instruction_length)
{
	setup();
	vmcs12_set(&v12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_SOFT_INTR | 0x80);
	vmcs12_set(&v12, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x1c);
	vmcs12_set(&v12, VMCS_VM_ENTRY_INSTRUCTION_LEN, 3);
	vmcs_soft_set(VMCS_VM_ENTRY_INSTRUCTION_LEN, 0xd);
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0xbad);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD),
		 INTR_INFO_VALID | INTR_TYPE_SOFT_INTR | 0x80);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_INSTRUCTION_LEN), 3);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0x1c);
}

/*
 * SDM Vol. 3C 28.2.2: with "acknowledge interrupt on exit" the CPU
 * acknowledges the interrupt and stores its vector in the exit
 * interruption information.  vmcs02 takes L1's choice on top of L0's
 * exit controls, and only that bit of L1's.
 */
TEST(prepare02_acknowledge_interrupt_on_exit_is_l1s)
{
	setup();
	vmcs12_set(&v12, VMCS_VM_EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_IA32_PAT);
	vmcs_soft_set(VMCS_VM_EXIT_CONTROLS, 0xffffffff);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_EXIT_CONTROLS),
		 EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER |
			 EXIT_ACK_INTR_ON_EXIT);
	vmcs12_set(&v12, VMCS_VM_EXIT_CONTROLS, EXIT_SAVE_IA32_PAT);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_EXIT_CONTROLS),
		 EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER);
}

/*
 * Issue 12, item 6.  SDM 29.3: "use TPR shadow" passes through with L1's
 * virtual-APIC page (an L1 physical address, EPT01's identity) and TPR
 * threshold; without the control neither field is written.
 */
TEST(prepare02_tpr_shadow)
{
	setup();
	vmcs12_set(&v12, VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x9000);
	vmcs12_set(&v12, VMCS_TPR_THRESHOLD, 7);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_USE_TPR_SHADOW, 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_VIRTUAL_APIC_PAGE_ADDR), 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_TPR_THRESHOLD), 0);
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_USE_TPR_SHADOW | CPU_CR8_STORE_EXITING);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_CPU_BASED_VM_EXEC_CONTROL) &
		     (CPU_USE_TPR_SHADOW | CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING),
		 CPU_USE_TPR_SHADOW | CPU_CR8_STORE_EXITING);
	CHECK_EQ(vmcs_soft_get(VMCS_VIRTUAL_APIC_PAGE_ADDR), 0x9000);
	CHECK_EQ(vmcs_soft_get(VMCS_TPR_THRESHOLD), 7);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * Issue 12, item 6.  SDM 29.4, 29.5: "virtualize APIC accesses" and
 * "virtualize x2APIC mode" pass through as L1 set them, with vmcs12's
 * APIC-access address unchanged (the CPU compares L1 physical addresses
 * after EPT01/EPT02: nested/apic_virt.h); the address only with the
 * control, activated.
 */
TEST(prepare02_apic_virtualization)
{
	setup();
	vmcs12_set(&v12, VMCS_APIC_ACCESS_ADDR, 0xa000);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_VIRTUALIZE_APIC_ACCESSES);
	nested_prepare_vmcs02(&v12, &l0, &cr); /* not activated */
	CHECK_EQ(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_VIRTUALIZE_APIC_ACCESSES, 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_APIC_ACCESS_ADDR), 0);
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_ACTIVATE_SECONDARY);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL) &
		     (CPU2_VIRTUALIZE_APIC_ACCESSES | CPU2_VIRTUALIZE_X2APIC),
		 CPU2_VIRTUALIZE_APIC_ACCESSES);
	CHECK_EQ(vmcs_soft_get(VMCS_APIC_ACCESS_ADDR), 0xa000);
	vmcs_soft_clear_counters();
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   CPU_ACTIVATE_SECONDARY | CPU_USE_TPR_SHADOW);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_VIRTUALIZE_X2APIC);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL) &
		     (CPU2_VIRTUALIZE_APIC_ACCESSES | CPU2_VIRTUALIZE_X2APIC),
		 CPU2_VIRTUALIZE_X2APIC);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_APIC_ACCESS_ADDR), 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/*
 * Issue 12, item 6.  SDM 26.3 RDTSC: L2 reads (TSC * multiplier) >> 48 +
 * offset; L0 does not offset or scale L1's TSC, so vmcs02 takes L1's
 * offset and multiplier unchanged.  SDM 26.1.3 PAUSE: L1's gap and window.
 * RDRAND/RDSEED exiting pass through.  The fields are written only where
 * L1 enabled (and activated) the control; vmcs02 holds stale values
 * otherwise, poisoned here, which the CPU does not use.
 */
TEST(prepare02_tsc_scaling_ple_rdrand_rdseed)
{
	const uint32_t item6 =
	    CPU2_TSC_SCALING | CPU2_PAUSE_LOOP_EXITING | CPU2_RDRAND_EXITING | CPU2_RDSEED_EXITING;
	setup();
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_USE_TSC_OFFSETTING);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, item6);
	vmcs12_set(&v12, VMCS_TSC_OFFSET, 0xfffffff000000000ull); /* negative: signed */
	vmcs12_set(&v12, VMCS_TSC_MULTIPLIER, 3ull << 47);	  /* 1.5 */
	vmcs12_set(&v12, VMCS_PLE_GAP, 128);
	vmcs12_set(&v12, VMCS_PLE_WINDOW, 4096);
	vmcs_soft_set(VMCS_TSC_MULTIPLIER, 0xbad);
	vmcs_soft_set(VMCS_PLE_GAP, 0xbad);
	vmcs_soft_set(VMCS_PLE_WINDOW, 0xbad);
	/* Secondary controls not activated: none of it. */
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL) & item6, 0);
	CHECK_EQ(vmcs_soft_get(VMCS_TSC_OFFSET), 0xfffffff000000000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_CPU_BASED_VM_EXEC_CONTROL) & CPU_USE_TSC_OFFSETTING,
		 CPU_USE_TSC_OFFSETTING);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_TSC_MULTIPLIER), 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_PLE_GAP), 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_PLE_WINDOW), 0);
	/* Activated: L1's bits, multiplier, gap and window. */
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   CPU_USE_TSC_OFFSETTING | CPU_ACTIVATE_SECONDARY);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL),
		 item6 | CPU2_ENABLE_EPT | CPU2_ENABLE_VPID);
	CHECK_EQ(vmcs_soft_get(VMCS_TSC_OFFSET), 0xfffffff000000000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_TSC_MULTIPLIER), 3ull << 47);
	CHECK_EQ(vmcs_soft_get(VMCS_PLE_GAP), 128);
	CHECK_EQ(vmcs_soft_get(VMCS_PLE_WINDOW), 4096);
	/* Each field follows its own control. */
	vmcs_soft_set(VMCS_TSC_MULTIPLIER, 0xbad);
	vmcs_soft_set(VMCS_PLE_GAP, 0xbad);
	vmcs_soft_set(VMCS_PLE_WINDOW, 0xbad);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_PAUSE_LOOP_EXITING);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_TSC_MULTIPLIER), 0xbad);
	CHECK_EQ(vmcs_soft_get(VMCS_PLE_GAP), 128);
	CHECK_EQ(vmcs_soft_get(VMCS_PLE_WINDOW), 4096);
	vmcs_soft_set(VMCS_PLE_GAP, 0xbad);
	vmcs_soft_set(VMCS_PLE_WINDOW, 0xbad);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_TSC_SCALING);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_TSC_MULTIPLIER), 3ull << 47);
	CHECK_EQ(vmcs_soft_get(VMCS_PLE_GAP), 0xbad);
	CHECK_EQ(vmcs_soft_get(VMCS_PLE_WINDOW), 0xbad);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* vmcs12 -> vmcs02 -> (L2 changes only TS) -> vmcs12: L1 sees its own CR0 plus TS. */
TEST(prepare02_round_trip_with_rebuild)
{
	setup();
	nested_prepare_vmcs02(&v12, &l0, &cr);
	vmcs_soft_set(VMCS_GUEST_CR0, vmcs_soft_get(VMCS_GUEST_CR0) | 0x8);
	vmcs_soft_set(VMCS_VM_EXIT_REASON, EXIT_REASON_HLT);
	vmcs_soft_clear_counters();
	nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_CR0), 0x8005001b);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_CR4), 0x0620);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_RIP), 0x401000);
	CHECK_EQ(vmcs12_get(&v12, VMCS_VM_EXIT_REASON), EXIT_REASON_HLT);
	CHECK_EQ(vmcs12_get(&v12, VMCS_VM_ENTRY_INTR_INFO_FIELD), INTR_TYPE_EXT_INTR | 0x40);
	CHECK_EQ(vmcs12_get(&v12, VMCS_VMCS_LINK_POINTER), 0x1000); /* L1's, untouched */
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_CONTROL) + vmcs_soft_reads(VMCS_CLASS_HOST), 0);
}

/*
 * Issue 12, item 3: under L1's unrestricted guest a real-mode L2's CR0
 * reaches vmcs02 with PE and PG 0 (only the other FIXED0 bits forced),
 * and L0 owns neither even where its own mask has them (SDM Vol. 3C
 * 25.6.2, 26.3); the rebuild then takes L2's PE and PG from vmcs02.
 * Without "activate secondary controls" the control is not L1's.
 */
TEST(prepare02_unrestricted_guest_cr0)
{
	setup();
	l0.cr0_mask = CR0_PG | CR0_NE | CR0_PE;
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_HLT_EXITING | CPU_ACTIVATE_SECONDARY);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_EPT);
	vmcs12_set(&v12, VMCS_VM_ENTRY_CONTROLS, 0);
	vmcs12_set(&v12, VMCS_GUEST_CR0, CR0_ET);
	vmcs12_set(&v12, VMCS_CR0_GUEST_HOST_MASK, 0);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR0), CR0_ET | CR0_NE);
	CHECK(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_UNRESTRICTED_GUEST);
	CHECK(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_EPT);
	CHECK_EQ(vmcs_soft_get(VMCS_CR0_GUEST_HOST_MASK), CR0_NE);
	CHECK_EQ(cr.cr0_l0_guest_owned, ~(uint64_t)CR0_NE);
	CHECK_EQ(vmcs_soft_get(VMCS_CR0_READ_SHADOW), CR0_ET);

	/* L2 enters protected mode, then paging, without an exit: vmcs12 sees it. */
	vmcs_soft_set(VMCS_GUEST_CR0, CR0_PG | CR0_ET | CR0_NE | CR0_PE);
	vmcs_soft_set(VMCS_VM_EXIT_REASON, EXIT_REASON_HLT);
	nested_sync_vmcs12(&v12, &l1, &cr);
	CHECK_EQ(vmcs12_get(&v12, VMCS_GUEST_CR0), CR0_PG | CR0_ET | CR0_PE);

	/* The same vmcs12 without "activate secondary controls": PE and PG forced, L0's. */
	setup();
	l0.cr0_mask = CR0_PG | CR0_NE | CR0_PE;
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_HLT_EXITING);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_EPT);
	vmcs12_set(&v12, VMCS_GUEST_CR0, CR0_ET);
	vmcs12_set(&v12, VMCS_CR0_GUEST_HOST_MASK, 0);
	nested_prepare_vmcs02(&v12, &l0, &cr);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR0), CR0_PG | CR0_ET | CR0_NE | CR0_PE);
	CHECK_EQ(vmcs_soft_get(VMCS_CR0_GUEST_HOST_MASK), CR0_PG | CR0_NE | CR0_PE);
	CHECK_EQ(vmcs_soft_get(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_UNRESTRICTED_GUEST, 0);
}

/* ---- nested_load_l2_pdptes: a PAE L2's PDPTEs into vmcs02 ---- */

#define PDPT_GPA 0x5000ull /* L2's CR3 (bits 4:3 are PWT/PCD) */
static uint64_t pdpt_mem[4];
static bool pdpt_readable;
static unsigned pdpt_reads;

static bool pdpt_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	pdpt_reads++;
	if (!pdpt_readable || gpa != PDPT_GPA || len != sizeof(pdpt_mem))
		return false;
	memcpy(buf, pdpt_mem, len);
	return true;
}

static const struct l1_memory pdpt_l1mem = { pdpt_read, NULL, NULL, 36, NULL, NULL };

static void pae_l2(void)
{
	vmcs_soft_reset();
	memset(&v12, 0, sizeof(v12));
	vmcs12_set(&v12, VMCS_GUEST_CR0, CR0_PG | CR0_PE);
	vmcs12_set(&v12, VMCS_GUEST_CR4, CR4_PAE);
	vmcs12_set(&v12, VMCS_GUEST_CR3, PDPT_GPA | 0x18);
	pdpt_mem[0] = 0x10000 | 1;
	pdpt_mem[1] = 0;
	pdpt_mem[2] = 0x0000000fe0000000ull | 1; /* bit 35: below MAXPHYADDR 36 */
	pdpt_mem[3] = 0x12000 | 1 | (3u << 3);	 /* PWT, PCD allowed */
	pdpt_readable = true;
	pdpt_reads = 0;
	for (unsigned i = 0; i < 4; i++)
		vmcs_soft_set(VMCS_GUEST_PDPTE0 + 2 * i, 0xdead);
}

TEST(nested_l2_pdptes_pae_loaded_into_vmcs02)
{
	pae_l2();
	CHECK(nested_load_l2_pdptes(&v12, &pdpt_l1mem, false));
	CHECK_EQ(pdpt_reads, 1);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE0), 0x10001);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE1), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE2), 0x0000000fe0000001ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE3), 0x12019);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(nested_l2_pdptes_bad_ones_fail_entry)
{
	/* Reserved bits in a present PDPTE: bits 2:1, 8:5, 63:36. */
	static const uint64_t reserved[] = { 2, 4, 1u << 5, 1u << 8, 1ull << 36, 1ull << 63 };
	for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		pae_l2();
		pdpt_mem[1] = 0x11000 | 1 | reserved[i];
		CHECK(!nested_load_l2_pdptes(&v12, &pdpt_l1mem, false));
		CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE0), 0xdead); /* vmcs02 untouched */
	}
	/* Not present: reserved bits do not matter. */
	pae_l2();
	pdpt_mem[1] = 0xfffffffffffffffeull;
	CHECK(nested_load_l2_pdptes(&v12, &pdpt_l1mem, false));
	/* A table L0 cannot read (L0's memory, beyond EPT01). */
	pae_l2();
	pdpt_readable = false;
	CHECK(!nested_load_l2_pdptes(&v12, &pdpt_l1mem, false));
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE3), 0xdead);
}

TEST(nested_l2_pdptes_other_modes_untouched)
{
	/* 4-level (IA-32e guest), 32-bit paging, paging off: nothing read or written. */
	for (unsigned mode = 0; mode < 3; mode++) {
		pae_l2();
		pdpt_mem[0] = 0xff; /* would fail if read */
		if (mode == 0)
			vmcs12_set(&v12, VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
		else if (mode == 1)
			vmcs12_set(&v12, VMCS_GUEST_CR4, 0);
		else
			vmcs12_set(&v12, VMCS_GUEST_CR0, CR0_PE);
		CHECK(nested_load_l2_pdptes(&v12, &pdpt_l1mem, false));
		CHECK_EQ(pdpt_reads, 0);
		CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE0), 0xdead);
	}
}

/*
 * Under L1's EPT (SDM 27.3.1.6) the PDPTEs are vmcs12's fields, L2's CR3
 * an L2 address: nothing is read; a present one's reserved bits fail the
 * entry, a not-present one's do not matter.
 */
TEST(nested_l2_pdptes_under_l1s_ept_from_vmcs12)
{
	static const uint64_t reserved[] = { 2, 4, 1u << 5, 1u << 8, 1ull << 36, 1ull << 63 };
	pae_l2();
	vmcs12_set(&v12, VMCS_GUEST_PDPTE0, 0x10001);
	vmcs12_set(&v12, VMCS_GUEST_PDPTE1, 0xfffffffffffffffeull);
	vmcs12_set(&v12, VMCS_GUEST_PDPTE3, 0x12019);
	CHECK(nested_load_l2_pdptes(&v12, &pdpt_l1mem, true));
	CHECK_EQ(pdpt_reads, 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE0), 0xdead); /* prepare02 copied vmcs12's */
	for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		vmcs12_set(&v12, VMCS_GUEST_PDPTE2, 0x11001 | reserved[i]);
		CHECK(!nested_load_l2_pdptes(&v12, &pdpt_l1mem, true));
	}
	CHECK_EQ(pdpt_reads, 0);
}
