/*
 * test_task_switch_faults.c - task switches that fault before the commit
 * point (vmx/task_switch.c, through vmx_exit_dispatch; fixture in
 * task_switch_fixture.h): the SDM's exception with its error code (Vol.
 * 3A 8.3 table 8-2; the #TS/#NP/#GP pages of chapter 6; the CALL, JMP,
 * IRET and INT pseudo-code), injected at the old task's RIP, and nothing
 * else: L1's memory, vmcs01's guest state and the GPRs as they were.
 * Memory L0 refuses (its own, beyond L1's) is #GP(0) with a log line.
 */
#include "test.h"

#include "hw_fake.h"
#include "task_switch_fixture.h"
#include "vmcs_soft.h"
#include "vmx/vmcs.h"

#include <string.h>

#define CALL 0
#define IRET 1
#define JMP 2

#define INFO(vec) (0x80000b00u | (vec)) /* hardware exception with an error code */
#define TS 10
#define NP 11
#define SS 12
#define GP 13
#define PF 14

/* The switch faulted with (info, error) and changed nothing. */
static void check_fault(uint32_t info, uint32_t error)
{
	CHECK_EQ(tsf_injected(), info);
	if (info & 0x800)
		CHECK_EQ(tsf_injected_error(), error);
	CHECK(tsf_unchanged());
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), TSF_RIP);
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK(!tsf_log_contains("abandoned"));
}

static void call_0x20(void)
{
	tsf_snapshot();
	tsf_run(CALL, 0x20, 7);
}

TEST(task_switch_fault_tss_limit_ts)
{
	tsf_setup();
	tsf_set_gdt(0x20, 0x0000890210000066ull); /* limit 0x66 < 0x67 */
	call_0x20();
	check_fault(INFO(TS), 0x20);
	CHECK(tsf_log_has("[t] debug: CPU 1: task switch to TSS 0x20: exception 10 (error 0x20) to "
			  "L1: the new TSS limit is below 67H"));
}

TEST(task_switch_fault_tss_not_present_np)
{
	tsf_setup();
	tsf_set_gdt(0x20, 0x0000090210002067ull); /* P = 0 */
	call_0x20();
	check_fault(INFO(NP), 0x20);
}

TEST(task_switch_fault_not_a_tss_gp)
{
	tsf_setup();
	tsf_snapshot();
	tsf_run(CALL, 0x08, 7); /* a code segment (changed since the CPU's check) */
	check_fault(INFO(GP), 0x08);
	tsf_setup();
	tsf_set_gdt(0x20, 0x0000820210002067ull); /* an LDT descriptor */
	call_0x20();
	check_fault(INFO(GP), 0x20);
}

TEST(task_switch_fault_busy_or_available)
{
	tsf_setup();
	tsf_snapshot();
	tsf_run(JMP, 0x18, 7); /* JMP to a busy task */
	check_fault(INFO(GP), 0x18);
	tsf_setup();
	tsf_snapshot();
	tsf_run(IRET, 0x20, 1); /* IRET to an available one */
	check_fault(INFO(TS), 0x20);
}

TEST(task_switch_fault_selector_beyond_gdt)
{
	tsf_setup();
	tsf_snapshot();
	tsf_run(CALL, 0x80, 7); /* index 16: bytes 0x80-0x87 > limit 0x7f */
	check_fault(INFO(GP), 0x80);
	tsf_setup();
	tsf_snapshot();
	tsf_run(IRET, 0x24, 1); /* a link with TI = 1 */
	check_fault(INFO(TS), 0x24);
}

TEST(task_switch_fault_gate_sets_ext)
{
	tsf_setup();
	tsf_set_gdt(0x20, 0x0000090210002067ull);
	tsf_snapshot();
	tsf_run_gate(0x20, 0x80000b08, 0, 0); /* #DF through a task gate, TSS not present */
	check_fault(INFO(NP), 0x21);	      /* EXT: during delivery of an external event */
}

TEST(task_switch_fault_gdt_in_l0_memory)
{
	tsf_setup();
	vmcs_soft_set(VMCS_GUEST_GDTR_BASE, TSF_L0_BASE);
	call_0x20();
	check_fault(INFO(GP), 0);
	CHECK(tsf_log_has("[t] warn: CPU 1: task switch to TSS 0x20: the new TSS descriptor at GPA "
			  "0x180020 is refused (not L1 memory): #GP(0) to L1 (refusal 1)"));
	CHECK_EQ(tsf_vcpu.l0_refusals, 1);
}

TEST(task_switch_fault_tss_in_l0_memory)
{
	tsf_setup();
	tsf_set_gdt(0x20, 0x0000891810002067ull); /* new TSS at 0x181000 */
	call_0x20();
	check_fault(INFO(GP), 0);
	CHECK(
	    tsf_log_has("[t] warn: CPU 1: task switch to TSS 0x20: the new TSS at GPA 0x181000 is "
			"refused (not L1 memory): #GP(0) to L1 (refusal 1)"));
	tsf_setup();
	vmcs_soft_set(VMCS_GUEST_TR_BASE, TSF_L0_BASE + 0x100); /* the old TSS */
	call_0x20();
	check_fault(INFO(GP), 0);
	tsf_setup();
	tsf_set_gdt(0x20, 0x0000893000002067ull); /* at 0x300000: mapped, beyond L1's memory */
	call_0x20();
	check_fault(INFO(GP), 0);
}

TEST(task_switch_fault_tss_not_mapped_pf)
{
	tsf_setup();
	tsf_set_gdt(0x20, 0x0000898010002067ull); /* new TSS at linear 0x801000: no PDE */
	call_0x20();
	check_fault(INFO(PF), 0); /* not present, supervisor read */
	CHECK_EQ(hw_calls.set_cr2, 1);
	CHECK_EQ(hw_calls.last_cr2, 0x801000);
}

TEST(task_switch_fault_segments)
{
	/* SS not present: #SS(selector) (table 8-2). */
	tsf_setup();
	tsf_set_gdt(0x38, 0x00c01240000000ffull);
	call_0x20();
	check_fault(INFO(SS), 0x38);
	/* CS is a data segment: #TS(selector). */
	tsf_setup();
	tsf_set_gdt(0x30, 0x004792011000ffffull);
	call_0x20();
	check_fault(INFO(TS), 0x30);
	/* DS not present: #NP(selector). */
	tsf_setup();
	tsf_set_gdt(0x40, 0x004013040000ffffull);
	call_0x20();
	check_fault(INFO(NP), 0x40);
	/* The LDT selector names a data segment: #TS(selector). */
	tsf_setup();
	tsf_put32(TSF_NEW_TSS + 0x60, 0x40);
	call_0x20();
	check_fault(INFO(TS), 0x40);
	/* ES in the LDT beyond its limit (bytes 0x18-0x1f > 0x17). */
	tsf_setup();
	tsf_put32(TSF_NEW_TSS + 0x48, 0x1c);
	call_0x20();
	check_fault(INFO(TS), 0x1c);
	/* SS with RPL != CPL. */
	tsf_setup();
	tsf_put32(TSF_NEW_TSS + 0x50, 0x3b);
	call_0x20();
	check_fault(INFO(TS), 0x38);
}

TEST(task_switch_fault_pae_reserved_pdpte_gp)
{
	tsf_setup();
	tsf_use_pae();
	tsf_put64(0x5008, 0x7003); /* PDPTE1: present with bit 1 (reserved) set */
	call_0x20();
	check_fault(INFO(GP), 0);
}

TEST(task_switch_16bit_tss_ud)
{
	tsf_setup();
	tsf_snapshot();
	tsf_run(CALL, 0x50, 7);
	check_fault(0x80000306, 0); /* #UD, no error code */
	CHECK(tsf_log_has("[t] warn: CPU 1: task switch (CALL) to TSS 0x50: a 16-bit TSS (not "
			  "supported by L0): #UD to L1"));
	tsf_setup();
	vmcs_soft_set(VMCS_GUEST_TR_AR_BYTES, 0x83); /* the old task's TSS is 16-bit */
	call_0x20();
	check_fault(0x80000306, 0);
}

TEST(task_switch_in_ia32e_mode_gp)
{
	tsf_setup();
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0x500); /* LME LMA */
	call_0x20();
	check_fault(INFO(GP), 0);
	CHECK(
	    tsf_log_has("[t] error: CPU 1: task switch exit (CALL to 0x20) outside protected mode "
			"or in IA-32e mode, where none exists: #GP(0) to L1"));
}

/*
 * Every place the switch writes is checked writable in L1's paging before
 * the first write (CR0.WP = 1: a supervisor write to a read-only page is a
 * #PF with P and W set, SDM Vol. 3A 4.7): nothing is written.
 */
TEST(task_switch_fault_read_only_pages_pf)
{
	tsf_setup();
	tsf_set_gdt(0x20, 0x000089c210002067ull); /* new TSS via the alias: its link */
	call_0x20();
	check_fault(INFO(PF), 0x3);
	CHECK_EQ(hw_calls.last_cr2, 0xc21000);
	tsf_setup();
	vmcs_soft_set(VMCS_GUEST_TR_BASE, TSF_RO_ALIAS + TSF_OLD_TSS); /* the old TSS */
	call_0x20();
	check_fault(INFO(PF), 0x3);
	CHECK_EQ(hw_calls.last_cr2, 0xc20020);
	tsf_setup();
	vmcs_soft_set(VMCS_GUEST_GDTR_BASE, TSF_RO_ALIAS + TSF_GDT); /* the busy flag */
	call_0x20();
	check_fault(INFO(PF), 0x3);
	CHECK_EQ(hw_calls.last_cr2, 0xc10025);
}

/*
 * The one write nothing can check beforehand: memory l1_memory reads but
 * refuses to write (EPT01's read-only APIC page).  The new TSS there: the
 * old TSS is already saved when its link is refused; the switch stops
 * with #GP(0) and an error line, vmcs01 still the old task's.
 */
TEST(task_switch_write_refused_after_commit_started_logged)
{
	tsf_setup();
	memcpy(tsf_ram + TSF_RO_PAGE, tsf_ram + TSF_NEW_TSS, 0x68);
	tsf_set_gdt(0x20, 0x0000891f00002067ull);
	tsf_snapshot();
	tsf_run(CALL, 0x20, 7);
	CHECK_EQ(tsf_injected(), INFO(GP));
	CHECK_EQ(tsf_injected_error(), 0);
	CHECK_EQ(tsf_get32(TSF_OLD_TSS + 0x20), 0x00401007); /* written */
	CHECK_EQ(tsf_get16(TSF_RO_PAGE), 0x7777);	     /* refused */
	CHECK(tsf_log_has("[t] error: CPU 1: task switch (CALL) to TSS 0x20 abandoned after L1's "
			  "memory was partly written (the new TSS's link)"));
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_TR_SELECTOR), 0x18);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), TSF_RIP);
	CHECK(tsf_guest_state_ok());
}
