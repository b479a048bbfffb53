/*
 * test_nested_dirty.c - vmcs02 rewritten and rechecked only where vmcs12
 * changed (the dirty groups of vmx/vmcs_fields.h, nested/vmentry.c),
 * driven through the real exit dispatcher on the run fixture: after a
 * reflected exit, an emulated VMWRITE of each field L1 has (its own value
 * written back) makes the VMRESUME check and write exactly that field's
 * group, as vmcs02's write counters show; a shadow write of each
 * read-write shadowed field does the same; the checks of a dirty group
 * really run (VMfailValid 7 and 8, a VM-entry failure), and stay due
 * after a VMfail until an entry passes them.
 */
#include "test.h"

#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "nested/shadow_vmcs.h"
#include "vmx/controls.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>

#define VMFAIL_CONTROL 7 /* VMfailValid: invalid control field(s) */
#define VMFAIL_HOST 8	 /* VMfailValid: invalid host-state field(s) */

/* L1 launched L2 and L2's HLT exited to L1 (vmcs01 current). */
static void launch_and_exit(bool shadow)
{
	run_setup();
	if (shadow)
		run_shadow_on();
	CHECK(run_l1_vmlaunch());
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	CHECK(!NV->in_l2);
	CHECK(NV->clean);
}

static int vmresume(void)
{
	vmcs_soft_clear_counters();
	return run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
}

/* What a change of a field of group g makes the next VMRESUME do. */
static unsigned expected_dirty(unsigned g)
{
	if (g == VMCS_DG_NONE)
		return 0;
	return g == VMCS_DG_CONTROL ? VMCS_DIRTY_ALL : VMCS_DIRTY(g);
}

static unsigned long writes02(enum vmcs_class c)
{
	return vmcs_soft_writes_in(VMCS02_PA, c);
}

/*
 * vmcs02's writes by class fit the groups rewritten: the guest area only
 * for GUEST (or a full entry), RIP or RSP alone for theirs; the controls
 * whole only for a full entry, else the interruption-information field,
 * the other two event fields for EVENT and the CR masks and shadows for
 * GUEST.
 */
static void check_writes_fit(unsigned dirty)
{
	bool full = dirty & VMCS_DIRTY(VMCS_DG_CONTROL);
	bool guest = dirty & VMCS_DIRTY(VMCS_DG_GUEST);
	unsigned long g = writes02(VMCS_CLASS_GUEST), c = writes02(VMCS_CLASS_CONTROL);
	if (full || guest)
		CHECK(g >= 40);
	else
		CHECK_EQ(g, !!(dirty & VMCS_DIRTY(VMCS_DG_RIP)) + !!(dirty & VMCS_DIRTY(VMCS_DG_RSP)));
	if (full)
		CHECK(c >= 20);
	else
		CHECK_EQ(c, 1 + ((dirty & VMCS_DIRTY(VMCS_DG_EVENT)) ? 2 : 0) + (guest ? 4 : 0));
	CHECK_EQ(writes02(VMCS_CLASS_HOST), 0);
}

/* The VMRESUME entered L2 having checked and written f's group alone. */
static void check_entered_for(const struct vmcs_field_info *f)
{
	if (!NV->in_l2 || NV->last_entry_dirty != expected_dirty(f->dirty))
		printf("    %s: in L2 %d, groups 0x%x\n", f->name, NV->in_l2, NV->last_entry_dirty);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->last_entry_dirty, expected_dirty(f->dirty));
	check_writes_fit(NV->last_entry_dirty);
}

/* The one rule of the column: a field's group follows its class, but for the named few. */
TEST(dirty_groups_follow_the_field_classes)
{
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		switch (f->encoding) {
		case VMCS_GUEST_RIP:
			CHECK_EQ(f->dirty, VMCS_DG_RIP);
			continue;
		case VMCS_GUEST_RSP:
			CHECK_EQ(f->dirty, VMCS_DG_RSP);
			continue;
		case VMCS_VM_ENTRY_INTR_INFO_FIELD:
		case VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE:
		case VMCS_VM_ENTRY_INSTRUCTION_LEN:
			CHECK_EQ(f->dirty, VMCS_DG_EVENT);
			continue;
		case VMCS_HOST_RSP:
		case VMCS_VM_INSTRUCTION_ERROR:
			CHECK_EQ(f->dirty, VMCS_DG_NONE);
			continue;
		}
		static const uint8_t by_class[4] = {
			[VMCS_CLASS_CONTROL] = VMCS_DG_CONTROL,
			[VMCS_CLASS_EXIT_INFO] = VMCS_DG_NONE,
			[VMCS_CLASS_GUEST] = VMCS_DG_GUEST,
			[VMCS_CLASS_HOST] = VMCS_DG_HOST,
		};
		if (f->dirty != by_class[f->cls])
			printf("    %s: group %u, class %u\n", f->name, f->dirty, f->cls);
		CHECK_EQ(f->dirty, by_class[f->cls]);
	}
}

/*
 * Every field L1 may VMWRITE, written back with its own value after a
 * reflected exit: the VMRESUME enters L2 having checked and rewritten the
 * field's group and nothing else.
 */
TEST(a_vmwrite_of_each_field_makes_exactly_its_group_rechecked_and_rewritten)
{
	unsigned fields = 0, per_group[7] = {0};
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (!vmcs_field_exists(f, &g_l0.l1_vmx) ||
		    (f->cls == VMCS_CLASS_EXIT_INFO && !(g_l0.l1_vmx.misc & (1ull << 29))))
			continue;
		launch_and_exit(false);
		uint64_t value = run_l1_vmread(f->encoding);
		run_l1_vmwrite(f->encoding, value);
		CHECK_EQ(f01(VMCS_GUEST_RFLAGS) & VMX_RFLAGS_MASK, 0); /* VMsucceed */
		uint64_t partial0 = NV->clean_entries;
		CHECK_EQ(vmresume(), 0);
		check_entered_for(f);
		CHECK_EQ(NV->clean_entries - partial0, f->dirty == VMCS_DG_CONTROL ? 0 : 1);
		CHECK_EQ(f02(VMCS_GUEST_RIP), f12(VMCS_GUEST_RIP));
		fields++;
		per_group[f->dirty]++;
	}
	/* Every group was met (NONE: HOST_RSP at least). */
	CHECK(fields > 100);
	for (unsigned g = 0; g < 7; g++)
		CHECK(per_group[g] > 0);
	CHECK_EQ(run_stub_errors, 0);
}

/* Each read-write shadowed field, changed in the shadow VMCS: its group, no exit to L0 for it. */
TEST(a_shadow_write_of_each_rw_field_makes_exactly_its_group_rechecked_and_rewritten)
{
	struct {
		uint32_t encoding;
		uint64_t value;
	} w[] = {
		{VMCS_GUEST_RIP, L2_RIP + 2},
		{VMCS_GUEST_RSP, L2_RSP - 8},
		{VMCS_GUEST_RFLAGS, 0x246},
		{VMCS_GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_STI},
		{VMCS_HOST_RSP, HOST_RSP12 - 0x100},
		{VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_EXTINT(0x30)},
		{VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x18},
		{VMCS_VM_ENTRY_INSTRUCTION_LEN, 2},
	};
	for (unsigned k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
		const struct vmcs_field_info *f = vmcs_field_lookup(w[k].encoding);
		CHECK_EQ(f->shadow, VMCS_SH_RW);
		launch_and_exit(true);
		vmcs_soft_set_in(RUN_SHADOW_PA, w[k].encoding, w[k].value);
		CHECK_EQ(vmresume(), 0);
		check_entered_for(f);
		CHECK_EQ(f12(w[k].encoding), w[k].value);
		if (f->cls != VMCS_CLASS_HOST)
			CHECK_EQ(f02(w[k].encoding), w[k].value);
	}
	CHECK_EQ(run_stub_errors, 0);
}

/* KVM's event injection (a shadow write of the event fields): the event's checks only. */
TEST(an_injected_event_is_checked_and_written_alone)
{
	launch_and_exit(true);
	vmcs_soft_set_in(RUN_SHADOW_PA, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_NMI);
	vmcs_soft_set_in(RUN_SHADOW_PA, VMCS_GUEST_RIP, L2_RIP + 1);
	CHECK_EQ(vmresume(), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->last_entry_dirty, VMCS_DIRTY(VMCS_DG_RIP) | VMCS_DIRTY(VMCS_DG_EVENT));
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_NMI);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + 1);
	CHECK_EQ(writes02(VMCS_CLASS_GUEST), 1);
	CHECK_EQ(vmcs_soft_reads_in(VMCS02_PA, VMCS_CLASS_GUEST), 0);
	CHECK_EQ(run_stub_errors, 0);
}

/* EVENT's control checks (27.2.1.3) run, and stay due after the VMfail. */
TEST(a_bad_event_in_the_shadow_is_vmfail_7_until_l1_fixes_it)
{
	launch_and_exit(true);
	/* Interruption type 1 is reserved. */
	vmcs_soft_set_in(RUN_SHADOW_PA, VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | (1u << 8));
	CHECK_EQ(vmresume(), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), VMFAIL_CONTROL);
	CHECK(run_log_has("interruption type 1 is reserved"));
	/* Again, nothing changed in the shadow since: the same VMfail, not an entry. */
	vmcs12_set(V12, VMCS_VM_INSTRUCTION_ERROR, 0);
	CHECK_EQ(vmresume(), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), VMFAIL_CONTROL);
	/* Fixed: the entry takes the event. */
	vmcs_soft_set_in(RUN_SHADOW_PA, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_NMI);
	CHECK_EQ(vmresume(), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->last_entry_dirty, VMCS_DIRTY(VMCS_DG_EVENT));
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_NMI);
	CHECK_EQ(run_stub_errors, 0);
}

/* EVENT's guest checks (27.3.1.4): an external interrupt into L2 with RFLAGS.IF = 0. */
TEST(an_external_interrupt_with_if_0_is_a_vm_entry_failure)
{
	run_setup();
	run_shadow_on();
	CHECK(run_l1_vmlaunch());
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x2); /* L2 ran cli */
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	CHECK(NV->clean);
	vmcs_soft_set_in(RUN_SHADOW_PA, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_EXTINT(0x30));
	CHECK_EQ(vmresume(), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE);
	CHECK(run_log_has("GUEST_RFLAGS.IF must be 1 when injecting an external interrupt"));
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
}

/* HOST's checks (27.2.2) run after a VMWRITE of host state, and stay due after the VMfail. */
TEST(a_bad_host_cr0_is_vmfail_8_until_l1_fixes_it)
{
	launch_and_exit(false);
	run_l1_vmwrite(VMCS_HOST_CR0, CR0_L1 & ~CR0_PE);
	CHECK_EQ(vmresume(), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), VMFAIL_HOST);
	vmcs12_set(V12, VMCS_VM_INSTRUCTION_ERROR, 0);
	CHECK_EQ(vmresume(), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), VMFAIL_HOST);
	run_l1_vmwrite(VMCS_HOST_CR0, CR0_L1);
	CHECK_EQ(vmresume(), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->last_entry_dirty, VMCS_DIRTY(VMCS_DG_HOST));
	check_writes_fit(NV->last_entry_dirty);
	/* Checked once: the next round trip has nothing dirty. */
	run_l2_exit(EXIT_REASON_HLT, 0, 1);
	CHECK_EQ(vmresume(), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->last_entry_dirty, 0);
	CHECK_EQ(run_stub_errors, 0);
}

/*
 * EVENT's guest checks of 27.3.1.5 against the state the CPU saved: the
 * event must be one that the activity state and the blocking allow.
 */
TEST(an_injected_event_is_checked_against_the_saved_activity_and_blocking)
{
	struct {
		uint64_t activity, intr;
		uint32_t info;
		const char *rule;
	} t[] = {
		{GUEST_ACTIVITY_ACTIVE, GUEST_INTR_STATE_STI, INFO_EXTINT(0x30),
		 "blocking by STI must be 0 when injecting an external interrupt"},
		{GUEST_ACTIVITY_ACTIVE, GUEST_INTR_STATE_MOV_SS, INFO_NMI,
		 "blocking by MOV SS must be 0 when injecting an NMI"},
		{GUEST_ACTIVITY_HLT, 0, INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | 6u,
		 "event not allowed in GUEST_ACTIVITY_STATE"},
	};
	for (unsigned k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		run_setup();
		run_shadow_on();
		CHECK(run_l1_vmlaunch());
		vmcs_soft_set(VMCS_GUEST_ACTIVITY_STATE, t[k].activity);
		vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, t[k].intr);
		run_l2_exit(EXIT_REASON_HLT, 0, 1);
		CHECK(NV->clean);
		vmcs_soft_set_in(RUN_SHADOW_PA, VMCS_VM_ENTRY_INTR_INFO_FIELD, t[k].info);
		CHECK_EQ(vmresume(), 0);
		CHECK(!NV->in_l2);
		CHECK_EQ(f12(VMCS_VM_EXIT_REASON),
			 EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE);
		CHECK(run_log_has(t[k].rule));
	}
}

/* GUEST's checks (27.3.1.2) run after a VMWRITE of a lazy guest field. */
TEST(a_bad_segment_written_after_an_exit_is_a_vm_entry_failure)
{
	launch_and_exit(false);
	run_l1_vmwrite(VMCS_GUEST_CS_AR_BYTES, 0x10000); /* CS unusable: never allowed */
	CHECK_EQ(vmresume(), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
}

/* Nothing written since the exit: nothing checked, only the event field rewritten. */
TEST(a_vmresume_with_nothing_changed_writes_only_what_l0_supplies)
{
	launch_and_exit(true);
	CHECK_EQ(vmresume(), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->last_entry_dirty, 0);
	check_writes_fit(0);
	CHECK_EQ(run_stub_errors, 0);
}
