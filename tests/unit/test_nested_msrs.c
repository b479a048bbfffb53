/*
 * test_nested_msrs.c - L1's VMX capability MSRs (nested/vmx_msrs.c),
 * derived from the Bochs corei7_skylake_x values (tests/unit/hw_fake.c).
 */
#include "arch/x86/msr.h"
#include "hw_fake.h"
#include "nested/vmcs12.h"
#include "nested/vmx_msrs.h"
#include "test.h"
#include "vmx/controls.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

static struct vmx_caps l1_caps(void)
{
	struct vmx_caps hw, l1;
	hw_fake_bochs_caps(&hw);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	return l1;
}

TEST(nested_msrs_basic)
{
	struct vmx_caps l1 = l1_caps();
	uint64_t v = 0;
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_BASIC, &v));
	/* revision 0x6d687631, 4096 bytes, WB, INS/OUTS info (Bochs has it), TRUE MSRs */
	CHECK_EQ(v, 0x00d810006d687631ull);
	CHECK_EQ(v >> 31 & 1, 0);
}

TEST(nested_msrs_controls_are_narrowed)
{
	struct vmx_caps l1 = l1_caps();
	uint64_t pin = 0, proc = 0, proc2 = 0, exit = 0, entry = 0;
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_TRUE_PINBASED_CTLS, &pin));
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, &proc));
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_TRUE_EXIT_CTLS, &exit));
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_TRUE_ENTRY_CTLS, &entry));
	/* Bochs TRUE_PIN 0x0000007f00000016: all offered, preemption timer (6) included. */
	CHECK_EQ(pin, 0x0000007f00000016ull);
	CHECK_EQ((pin >> 32) & PIN_POSTED_INTERRUPTS, 0);
	/* Must-be-1 halves are the hardware's. */
	CHECK_EQ((uint32_t)proc, 0x04006172u);
	CHECK_EQ((uint32_t)exit, 0x00036dfbu);
	CHECK_EQ((uint32_t)entry, 0x000011fbu);
	/* Offered and allowed by Bochs. */
	CHECK((proc >> 32) & CPU_HLT_EXITING);
	CHECK((proc >> 32) & CPU_USE_MSR_BITMAPS);
	CHECK((proc >> 32) & CPU_ACTIVATE_SECONDARY);
	/* TPR shadow offered (issue 12, item 6); monitor trap flag not. */
	CHECK((proc >> 32) & CPU_USE_TPR_SHADOW);
	CHECK_EQ((proc >> 32) & CPU_MONITOR_TRAP_FLAG, 0);
	/* Secondary: EPT (nested EPT), VPID, unrestricted guest, VMCS shadowing. */
	CHECK_EQ((proc2 >> 32) & (CPU2_ENABLE_EPT | CPU2_ENABLE_VPID | CPU2_UNRESTRICTED_GUEST |
				  CPU2_VMCS_SHADOWING),
		 CPU2_ENABLE_EPT | CPU2_ENABLE_VPID | CPU2_UNRESTRICTED_GUEST | CPU2_VMCS_SHADOWING);
	CHECK((proc2 >> 32) & CPU2_ENABLE_RDTSCP);
	CHECK_EQ((uint32_t)proc2, 0);
	CHECK((exit >> 32) & EXIT_HOST_ADDR_SPACE_SIZE);
	CHECK((exit >> 32) & EXIT_SAVE_PREEMPTION_TIMER);
	CHECK_EQ((exit >> 32) & EXIT_LOAD_PERF_GLOBAL_CTRL, 0);
	CHECK((entry >> 32) & ENTRY_IA32E_MODE_GUEST);
	CHECK_EQ((entry >> 32) & ENTRY_SMM, 0);
}

TEST(nested_msrs_plain_controls_show_default1)
{
	struct vmx_caps l1 = l1_caps();
	uint64_t proc = 0, exit = 0;
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS, &proc));
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_EXIT_CTLS, &exit));
	/* SDM Vol. 3D A.2: CR3-load/store exiting are default1 in the plain MSR. */
	CHECK_EQ((uint32_t)proc & (CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING),
		 CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING);
	CHECK_EQ((uint32_t)exit, 0x00036dffu);
}

TEST(nested_msrs_misc_fixed_enum)
{
	struct vmx_caps l1 = l1_caps();
	uint64_t misc = 0, enumv = 0, cr0f0 = 0, cr4f1 = 0;
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_MISC, &misc));
	/* Bochs MISC 0x600401e0: LMA store (5), HLT (6), shutdown (7),
	 * wait-for-SIPI (8), 4 CR3 targets, VMWRITE to any supported field
	 * (29); not injection with instruction length 0 (30). */
	CHECK_EQ(misc, 0x00000000200401e0ull);
	/* Shutdown and wait-for-SIPI each only where the CPU has it. */
	{
		struct vmx_caps hw, l1b;
		hw_fake_bochs_caps(&hw);
		hw.misc &= ~(1ull << 7);
		nested_vmx_msrs_init(&hw, vmcs12_highest_field_index(), &l1b);
		CHECK_EQ(l1b.misc & (7ull << 6), (1ull << 6) | (1ull << 8));
		hw_fake_bochs_caps(&hw);
		hw.misc &= ~(1ull << 8);
		nested_vmx_msrs_init(&hw, vmcs12_highest_field_index(), &l1b);
		CHECK_EQ(l1b.misc & (7ull << 6), 3ull << 6);
	}
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_VMCS_ENUM, &enumv));
	CHECK_EQ(enumv, 0x3a);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_CR0_FIXED0, &cr0f0));
	CHECK_EQ(cr0f0, 0x80000021);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_CR4_FIXED1, &cr4f1));
	CHECK_EQ(cr4f1, 0x3727ff);
}

/*
 * IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D A.10) with nested EPT, on Bochs's
 * 0x00000f0106334141: execute-only, walk 4, UC, WB, 2-MiB and 1-GiB
 * pages, INVEPT with both types, A/D.  Without the CPU's INVEPT
 * single-context, no EPT (the MSR then has VPID's bits only).
 */
TEST(nested_msrs_ept_vpid_cap)
{
	struct vmx_caps l1 = l1_caps();
	uint64_t v = 0;
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	CHECK_EQ(v & 0xffffffffull, 0x06334141ull);
	struct vmx_caps hw, l1b;
	hw_fake_bochs_caps(&hw);
	hw.ept_vpid_cap &= ~EPT_CAP_INVEPT_SINGLE;
	nested_vmx_msrs_init(&hw, 0x1d, &l1b);
	CHECK_EQ((l1b.procbased2 >> 32) & CPU2_ENABLE_EPT, 0);
	CHECK(nested_vmx_msr_read(&l1b, MSR_IA32_VMX_EPT_VPID_CAP, &v)); /* VPID's bits only */
	CHECK_EQ(v & 0xffffffffull, 0);
	/* A CPU with 5-level EPT (bit 7): L1 gets it (EPT02 walks as many levels as EPT12). */
	hw_fake_bochs_caps(&hw);
	hw.ept_vpid_cap |= EPT_CAP_WALK_5;
	nested_vmx_msrs_init(&hw, 0x1d, &l1b);
	CHECK(nested_vmx_msr_read(&l1b, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	CHECK_EQ(v & 0xffffffffull, 0x063341c1ull);
}

TEST(nested_msrs_absent_ones)
{
	struct vmx_caps l1 = l1_caps();
	uint64_t v = 0x1234;
	CHECK(!nested_vmx_msr_read(&l1, MSR_IA32_FEATURE_CONTROL, &v));
	CHECK(!nested_vmx_msr_read(&l1, 0x492, &v));
}

TEST(nested_msrs_no_secondary_without_hardware)
{
	struct vmx_caps hw, l1;
	hw_fake_bochs_caps(&hw);
	hw.true_procbased &= ~((uint64_t)CPU_ACTIVATE_SECONDARY << 32);
	hw.procbased &= ~((uint64_t)CPU_ACTIVATE_SECONDARY << 32);
	hw.has_procbased2 = 0;
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	uint64_t v;
	CHECK(!nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &v));
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, &v));
	CHECK_EQ((v >> 32) & CPU_ACTIVATE_SECONDARY, 0);
}

/*
 * Issue 12, item 6: PAUSE-loop exiting, RDRAND/RDSEED exiting and TSC
 * scaling are offered where the CPU has them (Bochs does), and are absent
 * from L1's PROCBASED_CTLS2 where it does not; likewise MISC[29].
 */
TEST(nested_msrs_item6_controls_follow_hardware)
{
	const uint32_t item6 =
	    CPU2_PAUSE_LOOP_EXITING | CPU2_RDRAND_EXITING | CPU2_RDSEED_EXITING | CPU2_TSC_SCALING;
	struct vmx_caps l1 = l1_caps();
	uint64_t proc2 = 0, misc = 0;
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
	CHECK_EQ((uint32_t)(proc2 >> 32) & item6, item6);
	CHECK_EQ((uint32_t)proc2 & item6, 0);
	/* Everything offered in Bochs's secondary controls, nothing more. */
	CHECK_EQ(proc2 >> 32, CPU2_DESC_TABLE_EXITING | CPU2_ENABLE_RDTSCP | CPU2_WBINVD_EXITING |
				  CPU2_ENABLE_INVPCID | CPU2_ENABLE_XSAVES | CPU2_ENABLE_EPT |
				  CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_VPID | CPU2_VMCS_SHADOWING |
				  CPU2_ENABLE_VMFUNC | CPU2_VIRTUALIZE_APIC_ACCESSES | CPU2_VIRTUALIZE_X2APIC |
				  item6);

	/* A CPU with none of them (nor MISC[29]): none offered. */
	struct vmx_caps hw;
	hw_fake_bochs_caps(&hw);
	for (unsigned bit = 0; bit < 32; bit++)
		if (item6 & (1u << bit)) {
			hw.procbased2 = 0x02177fff00000000ull & ~((uint64_t)1 << (32 + bit));
			hw.misc = 0x00000000600401e0ull;
			nested_vmx_msrs_init(&hw, 0x1d, &l1);
			CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
			CHECK_EQ((uint32_t)(proc2 >> 32) & item6, item6 & ~(1u << bit));
		}
	hw.procbased2 &= ~((uint64_t)item6 << 32);
	hw.misc &= ~(1ull << 29);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
	CHECK_EQ((uint32_t)(proc2 >> 32) & item6, 0);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_MISC, &misc));
	CHECK_EQ(misc, 0x00000000000401e0ull);
}

/*
 * The preemption timer (SDM Vol. 3C 26.5.1) at the CPU's rate: MISC[4:0]
 * as the hardware's, so L1's counts are the CPU's.  It needs the CPU's
 * timer and its "save VMX-preemption timer value" (L0 keeps L1's count
 * with it, nested/timer.h): lacking either, neither control is offered
 * and MISC[4:0] is 0.
 */
TEST(nested_msrs_preemption_timer)
{
	struct vmx_caps hw, l1;
	hw_fake_bochs_caps(&hw);
	hw.misc |= 5;
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK_EQ(l1.misc & 0x1f, 5);
	CHECK_EQ((l1.true_pinbased >> 32) & PIN_PREEMPTION_TIMER, PIN_PREEMPTION_TIMER);
	CHECK_EQ((l1.pinbased >> 32) & PIN_PREEMPTION_TIMER, PIN_PREEMPTION_TIMER);
	CHECK_EQ((l1.true_exit >> 32) & EXIT_SAVE_PREEMPTION_TIMER, EXIT_SAVE_PREEMPTION_TIMER);
	CHECK_EQ((l1.exit >> 32) & EXIT_SAVE_PREEMPTION_TIMER, EXIT_SAVE_PREEMPTION_TIMER);
	CHECK_EQ((uint32_t)l1.true_pinbased & PIN_PREEMPTION_TIMER, 0);

	hw_fake_bochs_caps(&hw);
	hw.misc |= 5;
	hw.true_exit &= ~((uint64_t)EXIT_SAVE_PREEMPTION_TIMER << 32);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK_EQ((l1.true_pinbased >> 32) & PIN_PREEMPTION_TIMER, 0);
	CHECK_EQ((l1.pinbased >> 32) & PIN_PREEMPTION_TIMER, 0);
	CHECK_EQ((l1.true_exit >> 32) & EXIT_SAVE_PREEMPTION_TIMER, 0);
	CHECK_EQ(l1.misc & 0x1f, 0);

	hw_fake_bochs_caps(&hw);
	hw.misc |= 5;
	hw.true_pinbased &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK_EQ((l1.true_pinbased >> 32) & PIN_PREEMPTION_TIMER, 0);
	CHECK_EQ((l1.true_exit >> 32) & EXIT_SAVE_PREEMPTION_TIMER, 0);
	CHECK_EQ((l1.exit >> 32) & EXIT_SAVE_PREEMPTION_TIMER, 0);
	CHECK_EQ(l1.misc & 0x1f, 0);
}

/*
 * IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D A.10): with VPID offered, exactly the
 * VPID bits nested/ implements: INVVPID (32) and its four types (40-43),
 * whatever subset of types the CPU has beyond single- or all-context;
 * with EPT, its bits (nested EPT).  Bochs reports 0x00000f0106334141,
 * all of which L1 gets.
 */
#define L1_VPID_CAP 0x00000f0100000000ull

TEST(nested_msrs_ept_vpid_cap_vpid_bits_only)
{
	struct vmx_caps l1 = l1_caps();
	uint64_t v = 0x1234;
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	CHECK_EQ(v, L1_VPID_CAP | 0x06334141ull);

	/* A CPU with single-context INVVPID only: L1 still gets all four types. */
	struct vmx_caps hw;
	hw_fake_bochs_caps(&hw);
	hw.ept_vpid_cap = VPID_CAP_INVVPID | VPID_CAP_INVVPID_SINGLE;
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	CHECK_EQ(v, L1_VPID_CAP);
	CHECK((l1.procbased2 >> 32) & CPU2_ENABLE_VPID);
	/* All-context only is enough too. */
	hw.ept_vpid_cap = VPID_CAP_INVVPID | VPID_CAP_INVVPID_ALL;
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK((l1.procbased2 >> 32) & CPU2_ENABLE_VPID);
	CHECK(nested_vpid_offerable(&hw));
}

/* Where L0 cannot map L1's VPIDs, L1 has no VPID and the MSR does not exist (#GP). */
TEST(nested_msrs_no_vpid_without_what_l0_needs)
{
	struct vmx_caps hw, l1;
	uint64_t v = 0x1234;
	static const uint64_t caps[] = {
		0,					     /* no INVVPID at all */
		VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL, /* types without the instruction */
		VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDRESS |
		    VPID_CAP_INVVPID_SINGLE_GLOBALS, /* neither single- nor all-context */
	};
	for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		hw_fake_bochs_caps(&hw);
		hw.ept_vpid_cap = caps[i];
		CHECK(!nested_vpid_offerable(&hw));
		nested_vmx_msrs_init(&hw, 0x1d, &l1);
		CHECK_EQ((l1.procbased2 >> 32) & CPU2_ENABLE_VPID, 0);
		CHECK(!nested_vmx_msr_read(&l1, MSR_IA32_VMX_EPT_VPID_CAP, &v));
		CHECK_EQ(l1.ept_vpid_cap, 0);
	}
	/* No EPT_VPID_CAP MSR on the CPU (has_ept_vpid_cap 0) whatever its value says. */
	hw_fake_bochs_caps(&hw);
	hw.has_ept_vpid_cap = 0;
	CHECK(!nested_vpid_offerable(&hw));
	/* No "enable VPID" in the CPU's secondary controls. */
	hw_fake_bochs_caps(&hw);
	hw.procbased2 &= ~((uint64_t)CPU2_ENABLE_VPID << 32);
	CHECK(!nested_vpid_offerable(&hw));
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_EPT_VPID_CAP, &v)); /* EPT's bits only */
	CHECK_EQ(v, 0x06334141ull);
	/* No secondary controls for L1 at all. */
	hw_fake_bochs_caps(&hw);
	hw.true_procbased &= ~((uint64_t)CPU_ACTIVATE_SECONDARY << 32);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(!nested_vmx_msr_read(&l1, MSR_IA32_VMX_EPT_VPID_CAP, &v));
}

/* VIRTUAL_PROCESSOR_ID exists for L1 exactly when VPID is offered (VMREAD/VMWRITE). */
TEST(nested_msrs_vpid_field_exists_with_vpid)
{
	struct vmx_caps l1 = l1_caps();
	const struct vmcs_field_info *f = vmcs_field_lookup(VMCS_VIRTUAL_PROCESSOR_ID);
	CHECK(f != (const struct vmcs_field_info *)0);
	CHECK(vmcs_field_exists(f, &l1));
	struct vmx_caps hw;
	hw_fake_bochs_caps(&hw);
	hw.ept_vpid_cap = 0;
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(!vmcs_field_exists(f, &l1));
}

/* vmcs_features_present: one bit per feature, each as vmcs_field_exists says, for every field. */
TEST(nested_msrs_features_present_as_field_exists)
{
	struct vmx_caps caps[3];
	hw_fake_bochs_caps(&caps[0]);		/* the CPU's */
	caps[1] = l1_caps();			/* L1's, narrowed */
	caps[2] = (struct vmx_caps){ 0 };	/* nothing but what always exists */
	for (unsigned k = 0; k < 3; k++) {
		uint32_t present = vmcs_features_present(&caps[k]);
		unsigned disagree = 0;
		for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
			const struct vmcs_field_info *f = &vmcs_field_table[i];
			if (!!(present & (1u << f->feature)) != vmcs_field_exists(f, &caps[k]))
				disagree++;
		}
		CHECK_EQ(disagree, 0);
	}
	CHECK_EQ(vmcs_features_present(&caps[2]), 1u << VMCS_FEAT_ALWAYS);
	CHECK(vmcs_features_present(&caps[0]) & (1u << VMCS_FEAT_EPT));
}

/*
 * Issue 12, item 3: unrestricted guest is offered with nested EPT (SDM
 * 27.2.1.1: it needs "enable EPT") and the CPU's own control; never
 * without either, nor without IA32_VMX_MISC[5] (A.6).  CR0_FIXED0 stays
 * the CPU's: PE and PG read as fixed to 1 (A.7), exempt only by the
 * control.
 */
TEST(nested_msrs_unrestricted_guest)
{
	struct vmx_caps hw, l1;
	uint64_t proc2 = 0, v = 0;
	hw_fake_bochs_caps(&hw);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
	CHECK((proc2 >> 32) & CPU2_UNRESTRICTED_GUEST);
	CHECK_EQ((uint32_t)proc2 & CPU2_UNRESTRICTED_GUEST, 0);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_MISC, &v));
	CHECK(v & (1ull << 5));
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_CR0_FIXED0, &v));
	CHECK_EQ(v, hw.cr0_fixed0);
	CHECK_EQ(v & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);

	/* No EPT for L1 (the CPU lacks INVEPT single-context): no unrestricted guest. */
	hw_fake_bochs_caps(&hw);
	hw.ept_vpid_cap &= ~EPT_CAP_INVEPT_SINGLE;
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
	CHECK_EQ((proc2 >> 32) & CPU2_UNRESTRICTED_GUEST, 0);

	/* The CPU lacks the control: not offered. */
	hw_fake_bochs_caps(&hw);
	hw.procbased2 &= ~((uint64_t)CPU2_UNRESTRICTED_GUEST << 32);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
	CHECK_EQ((proc2 >> 32) & CPU2_UNRESTRICTED_GUEST, 0);
	CHECK((proc2 >> 32) & CPU2_ENABLE_EPT);

	/* No MISC[5]: not offered (no such CPU has the control, A.6). */
	hw_fake_bochs_caps(&hw);
	hw.misc &= ~(1ull << 5);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
	CHECK_EQ((proc2 >> 32) & CPU2_UNRESTRICTED_GUEST, 0);
}

/*
 * Issue 12, item 6: "virtualize APIC accesses" and "virtualize x2APIC
 * mode" where the CPU has them (nested/apic_virt.h); x2APIC mode only
 * with "use TPR shadow" (SDM 27.2.1.1 needs it).  APIC-register
 * virtualization, virtual-interrupt delivery and posted interrupts never.
 */
TEST(nested_msrs_apic_virtualization)
{
	const uint32_t apic2 = CPU2_VIRTUALIZE_APIC_ACCESSES | CPU2_VIRTUALIZE_X2APIC;
	struct vmx_caps hw, l1;
	uint64_t proc2 = 0, proc = 0, pin = 0;
	hw_fake_bochs_caps(&hw);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
	CHECK_EQ((uint32_t)(proc2 >> 32) & apic2, apic2);
	CHECK_EQ((uint32_t)(proc2 >> 32) & (CPU2_APIC_REGISTER_VIRT | CPU2_VIRTUAL_INTR_DELIVERY), 0);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_TRUE_PINBASED_CTLS, &pin));
	CHECK_EQ((pin >> 32) & PIN_POSTED_INTERRUPTS, 0);
	/* Each follows the CPU. */
	for (unsigned bit = 0; bit < 32; bit++) {
		if (!(apic2 & (1u << bit)))
			continue;
		hw_fake_bochs_caps(&hw);
		hw.procbased2 &= ~((uint64_t)1 << (32 + bit));
		nested_vmx_msrs_init(&hw, 0x1d, &l1);
		CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
		CHECK_EQ((uint32_t)(proc2 >> 32) & apic2, apic2 & ~(1u << bit));
	}
	/* Without the CPU's TPR shadow: no x2APIC mode, APIC accesses still. */
	hw_fake_bochs_caps(&hw);
	hw.true_procbased &= ~((uint64_t)CPU_USE_TPR_SHADOW << 32);
	hw.procbased &= ~((uint64_t)CPU_USE_TPR_SHADOW << 32);
	nested_vmx_msrs_init(&hw, 0x1d, &l1);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, &proc));
	CHECK_EQ((proc >> 32) & CPU_USE_TPR_SHADOW, 0);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &proc2));
	CHECK_EQ((uint32_t)(proc2 >> 32) & apic2, CPU2_VIRTUALIZE_APIC_ACCESSES);
}
