/*
 * test_task_switch.c - task switches that complete (vmx/task_switch.c,
 * exit reason 9 through vmx_exit_dispatch): CALL, JMP, IRET and task
 * gates, on the two-task L1 of task_switch_fixture.h.  The faults are in
 * test_task_switch_faults.c.
 *
 * Every expected value is written out from the SDM (Vol. 3A 8.2.1 TSS
 * layout, 8.3 steps, 8.4 link and NT, 3.4.5 descriptors; Vol. 3C 25.4.1
 * access rights), and every field the switch copies has a distinct
 * non-zero value in the fixture.
 */
#include "test.h"

#include "hw_fake.h"
#include "task_switch_fixture.h"
#include "vmcs_soft.h"
#include "vmx/vmcs.h"

#define CALL 0
#define IRET 1
#define JMP 2
#define NT 0x4000ull

static uint64_t field(uint32_t enc)
{
	return vmcs_soft_get(enc);
}

static bool seg_is(unsigned n, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	bool ok = field(VMCS_GUEST_ES_SELECTOR + 2 * n) == sel &&
		  field(VMCS_GUEST_ES_AR_BYTES + 2 * n) == ar;
	if (!(ar & 0x10000)) /* an unusable segment's base and limit do not matter */
		ok = ok && field(VMCS_GUEST_ES_BASE + 2 * n) == base &&
		     field(VMCS_GUEST_ES_LIMIT + 2 * n) == limit;
	return ok;
}

/* The old task as SDM 8.3 step 8 saves it, EIP and EFLAGS given. */
static void check_old_tss(uint32_t eip, uint32_t eflags)
{
	const uint32_t o = TSF_OLD_TSS;
	CHECK_EQ(tsf_get32(o + 0x20), eip);
	CHECK_EQ(tsf_get32(o + 0x24), eflags);
	CHECK_EQ(tsf_get32(o + 0x28), 0xc0de0000u); /* EAX: bits 31:0 only */
	CHECK_EQ(tsf_get32(o + 0x2c), 0xc0de0101u); /* ECX */
	CHECK_EQ(tsf_get32(o + 0x30), 0xc0de0202u); /* EDX */
	CHECK_EQ(tsf_get32(o + 0x34), 0xc0de0303u); /* EBX */
	CHECK_EQ(tsf_get32(o + 0x38), 0x0009fff0u); /* ESP: GUEST_RSP, not the frame */
	CHECK_EQ(tsf_get32(o + 0x3c), 0xc0de0505u); /* EBP */
	CHECK_EQ(tsf_get32(o + 0x40), 0xc0de0606u); /* ESI */
	CHECK_EQ(tsf_get32(o + 0x44), 0xc0de0707u); /* EDI */
	/* Selectors in bits 15:0, the reserved upper halves left as they were. */
	CHECK_EQ(tsf_get32(o + 0x48), 0xeeee0023u); /* ES */
	CHECK_EQ(tsf_get32(o + 0x4c), 0xeeee0008u); /* CS */
	CHECK_EQ(tsf_get32(o + 0x50), 0xeeee0010u); /* SS */
	CHECK_EQ(tsf_get32(o + 0x54), 0xeeee002bu); /* DS */
	CHECK_EQ(tsf_get32(o + 0x58), 0xeeee0033u); /* FS */
	CHECK_EQ(tsf_get32(o + 0x5c), 0xeeee003bu); /* GS */
	/* Static fields (link, ESP0-2/SS0-2, CR3, LDT, T, I/O map) are not written. */
	for (uint32_t i = 0; i < 0x20; i++)
		CHECK_EQ(tsf_get8(o + i), 0xee);
	for (uint32_t i = 0x60; i < 0x68; i++)
		CHECK_EQ(tsf_get8(o + i), 0xee);
}

/* The new task in vmcs01 (8.3 steps 11-13): rflags as loaded. */
static void check_new_state(uint64_t rflags)
{
	CHECK(seg_is(7, 0x20, 0x21000, 0x2067, 0x8b)); /* TR: busy 32-bit TSS */
	CHECK(seg_is(6, 0x28, 0x22000, 0x17, 0x82));   /* LDTR */
	CHECK(seg_is(0, 0x0c, 0x50000, 0x1234, 0x93)); /* ES, from the LDT */
	CHECK(seg_is(1, 0x30, 0x11000, 0x7ffff, 0x409b));
	CHECK(seg_is(2, 0x38, 0x400000, 0xfffff, 0xc093));
	CHECK(seg_is(3, 0x40, 0x40000, 0xffff, 0x4093));
	CHECK(seg_is(4, 0x48, 0x60000, 0xfff, 0x40f1));
	CHECK(seg_is(5, 0x0003, 0, 0, 0x10000)); /* GS: null, unusable */
	CHECK_EQ(field(VMCS_GUEST_RIP), 0x12345);
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), rflags);
	CHECK_EQ(field(VMCS_GUEST_RSP), TSF_NEW_ESP);
	static const unsigned gpr[] = {0, 1, 2, 3, 5, 6, 7};
	for (unsigned i = 0; i < sizeof(gpr) / sizeof(gpr[0]); i++)
		CHECK_EQ(tsf_regs.gpr[gpr[i]], TSF_NEW_GPR(gpr[i])); /* zero-extended */
	CHECK_EQ(tsf_regs.gpr[8], TSF_GPR(8)); /* no R8-R15 in a 32-bit task */
	CHECK_EQ(field(VMCS_GUEST_CR3), 0x2000);
	CHECK_EQ(hw_calls.invvpid, 1); /* the old CR3's translations are gone */
	CHECK_EQ(hw_calls.last_vpid, 1);
	CHECK_EQ(field(VMCS_GUEST_CR0), 0x80010039); /* TS set */
	CHECK_EQ(field(VMCS_GUEST_DR7), 0x6aa);	     /* L0-L3 and LE cleared */
	CHECK_EQ(field(VMCS_GUEST_SYSENTER_CS), 0);  /* untouched */
	/* Accessed bits set in the descriptors loaded (SDM 3.4.5.1). */
	CHECK_EQ(tsf_gdt(0x30), 0x00479b011000ffffull);
	CHECK_EQ(tsf_gdt(0x38), 0x00c09340000000ffull);
	CHECK_EQ(tsf_gdt(0x40), 0x004093040000ffffull);
	CHECK_EQ(tsf_get64(0x22008), 0x0000930500001234ull);
	CHECK(tsf_guest_state_ok());
}

TEST(task_switch_call)
{
	tsf_setup();
	tsf_run(CALL, 0x20, 7);
	CHECK_EQ(tsf_injected(), 0);
	check_old_tss(0x00401007, 0x00000a93); /* EIP past the CALL */
	/* EFLAGS: reserved bits 31, 15 and 3 dropped, bit 1 set, NT for a nested task. */
	check_new_state(0x00204ac7);
	CHECK_EQ(tsf_get16(TSF_NEW_TSS), 0x18); /* the link: the old TR */
	CHECK_EQ(tsf_get16(TSF_NEW_TSS + 2), 0);
	CHECK_EQ(tsf_gdt(0x20), 0x00008b0210002067ull); /* new: busy */
	CHECK_EQ(tsf_gdt(0x18), 0x00008b0200000067ull); /* old: still busy */
	CHECK_EQ(field(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	CHECK(
	    tsf_log_has("[t] debug: CPU 1: task switch (CALL) from TSS 0x18 to 0x20, EIP 0x12345"));
}

TEST(task_switch_jmp)
{
	tsf_setup();
	vmcs_soft_set(VMCS_GUEST_RFLAGS, TSF_RFLAGS | NT);
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0x1); /* STI blocking: ended */
	tsf_run(JMP, 0x20, 7);
	CHECK_EQ(tsf_injected(), 0);
	check_old_tss(0x00401007, 0x00004a93);	  /* NT saved as it was */
	check_new_state(0x00200ac7);		  /* NT as the new TSS has it: clear */
	CHECK_EQ(tsf_get32(TSF_NEW_TSS), 0x7777); /* no link */
	CHECK_EQ(tsf_gdt(0x20), 0x00008b0210002067ull);
	CHECK_EQ(tsf_gdt(0x18), 0x0000890200000067ull); /* old: available */
	CHECK_EQ(field(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
}

TEST(task_switch_iret)
{
	tsf_setup();
	tsf_set_gdt(0x20, 0x00008b0210002067ull); /* the task returned to is busy */
	vmcs_soft_set(VMCS_GUEST_RFLAGS, TSF_RFLAGS | NT);
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0x8); /* (virtual-)NMI blocking */
	tsf_run(IRET, 0x20, 1);
	CHECK_EQ(tsf_injected(), 0);
	check_old_tss(0x00401001, 0x00000a93); /* NT cleared in the saved image */
	check_new_state(0x00200ac7);
	CHECK_EQ(tsf_get32(TSF_NEW_TSS), 0x7777);
	CHECK_EQ(tsf_gdt(0x20), 0x00008b0210002067ull); /* stays busy */
	CHECK_EQ(tsf_gdt(0x18), 0x0000890200000067ull);
	CHECK_EQ(field(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0); /* IRET unblocks NMIs */
}

/* The common result of a task gate: nested (link, NT, busy), old task busy. */
static void check_gate(uint32_t old_eip, uint64_t rsp)
{
	CHECK_EQ(tsf_injected(), 0);
	check_old_tss(old_eip, 0x00000a93);
	CHECK(seg_is(7, 0x20, 0x21000, 0x2067, 0x8b));
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x00204ac7);
	CHECK_EQ(field(VMCS_GUEST_RSP), rsp);
	CHECK_EQ(tsf_get16(TSF_NEW_TSS), 0x18);
	CHECK_EQ(tsf_gdt(0x20), 0x00008b0210002067ull);
	CHECK_EQ(tsf_gdt(0x18), 0x00008b0200000067ull);
	CHECK(tsf_guest_state_ok());
}

TEST(task_switch_gate_nmi)
{
	tsf_setup();
	/* IDT-vectoring: NMI (type 2, vector 2); no instruction, the length is ignored. */
	tsf_run_gate(0x20, 0x80000202, 0, 5);
	check_gate(0x00401000, TSF_NEW_ESP);
	CHECK_EQ(field(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0x8); /* the NMI handler blocks NMIs */
}

TEST(task_switch_gate_exception_pushes_error_code)
{
	tsf_setup();
	/* #GP (type 3, vector 13) with an error code (bit 11). */
	tsf_run_gate(0x20, 0x80000b0d, 0xbad0, 3);
	check_gate(0x00401000, TSF_NEW_ESP - 4);
	/*
	 * Pushed at new SS.base + ESP - 4 = 0x43effc, a linear address only
	 * the new task's page directory maps (onto 0x3effc).
	 */
	CHECK_EQ(tsf_get32(0x3effc), 0xbad0);
	CHECK_EQ(field(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
}

TEST(task_switch_gate_software_interrupt)
{
	tsf_setup();
	/* INT 0x80 (type 4): the old EIP is past the 2-byte instruction; no error code. */
	tsf_run_gate(0x20, 0x80000480, 0xbad0, 2);
	check_gate(0x00401002, TSF_NEW_ESP);
	CHECK_EQ(tsf_get32(0x3effc), 0);
}

TEST(task_switch_pae_loads_pdptes)
{
	tsf_setup();
	tsf_use_pae();
	tsf_run(CALL, 0x20, 7);
	CHECK_EQ(tsf_injected(), 0);
	CHECK_EQ(field(VMCS_GUEST_CR3), 0x5000);
	CHECK_EQ(field(VMCS_GUEST_PDPTE0), 0x6001);
	CHECK_EQ(field(VMCS_GUEST_PDPTE1), 0);
	CHECK_EQ(field(VMCS_GUEST_PDPTE2), 0);
	CHECK_EQ(field(VMCS_GUEST_PDPTE3), 0);
	CHECK(seg_is(2, 0x38, 0x400000, 0xfffff, 0xc093));
	CHECK(tsf_guest_state_ok());
}

TEST(task_switch_without_paging_keeps_cr3)
{
	tsf_setup();
	vmcs_soft_set(VMCS_CR0_READ_SHADOW, 0x00000031);
	vmcs_soft_set(VMCS_GUEST_CR0, 0x00000031);
	tsf_run(CALL, 0x20, 7);
	CHECK_EQ(tsf_injected(), 0);
	CHECK_EQ(field(VMCS_GUEST_CR3), 0x1000); /* read from the TSS, not loaded (8.3 step 12) */
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK_EQ(field(VMCS_GUEST_CR0), 0x00000039);
	CHECK(seg_is(7, 0x20, 0x21000, 0x2067, 0x8b));
	CHECK(tsf_guest_state_ok());
}

TEST(task_switch_to_virtual_8086_task)
{
	tsf_setup();
	tsf_put32(TSF_NEW_TSS + 0x24, 0x00020202); /* VM IF */
	tsf_put32(TSF_NEW_TSS + 0x20, 0x1234);
	tsf_run(JMP, 0x20, 7);
	CHECK_EQ(tsf_injected(), 0);
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x00020202);
	/* Selector << 4, limit 0xffff, AR 0xf3, whatever the GDT says (SDM 20.2.1). */
	CHECK(seg_is(0, 0x0c, 0xc0, 0xffff, 0xf3));
	CHECK(seg_is(1, 0x30, 0x300, 0xffff, 0xf3));
	CHECK(seg_is(2, 0x38, 0x380, 0xffff, 0xf3));
	CHECK(seg_is(3, 0x40, 0x400, 0xffff, 0xf3));
	CHECK(seg_is(4, 0x48, 0x480, 0xffff, 0xf3));
	CHECK(seg_is(5, 0x0003, 0x30, 0xffff, 0xf3));
	CHECK(seg_is(6, 0x28, 0x22000, 0x17, 0x82));
	CHECK_EQ(tsf_gdt(0x30), 0x00479a011000ffffull); /* no descriptor loaded */
	CHECK(tsf_guest_state_ok());
}

/* After the commit point the new task is current and the fault is its own. */
TEST(task_switch_new_eip_beyond_cs_limit_gp)
{
	tsf_setup();
	tsf_put32(TSF_NEW_TSS + 0x20, 0x80000);
	tsf_run(CALL, 0x20, 7);
	CHECK_EQ(tsf_injected(), 0x80000b0d);
	CHECK_EQ(tsf_injected_error(), 0);
	CHECK(seg_is(7, 0x20, 0x21000, 0x2067, 0x8b));
	CHECK_EQ(field(VMCS_GUEST_RIP), 0x80000);
	CHECK_EQ(tsf_get16(TSF_NEW_TSS), 0x18);
	CHECK(tsf_guest_state_ok());
}

TEST(task_switch_error_code_beyond_stack_limit_ss)
{
	tsf_setup();
	tsf_set_gdt(0x38, 0x00409240000010ffull); /* limit 0x10ff: ESP - 4 is beyond */
	tsf_run_gate(0x20, 0x80000b08, 0, 0);	  /* #DF, error code 0 */
	CHECK_EQ(tsf_injected(), 0x80000b0c);	  /* #SS(EXT) */
	CHECK_EQ(tsf_injected_error(), 1);
	CHECK(seg_is(2, 0x38, 0x400000, 0x10ff, 0x4093));
	CHECK_EQ(field(VMCS_GUEST_RSP), TSF_NEW_ESP);
	CHECK(tsf_guest_state_ok());
}

TEST(task_switch_error_code_push_page_fault)
{
	tsf_setup();
	tsf_set_gdt(0x38, 0x00c09280000000ffull); /* SS base 0x800000: not mapped */
	tsf_run_gate(0x20, 0x80000b0d, 0x18, 0);
	CHECK_EQ(tsf_injected(), 0x80000b0e); /* #PF */
	CHECK_EQ(tsf_injected_error(), 0x2);  /* a supervisor write, not present */
	CHECK_EQ(hw_calls.last_cr2, 0x83effc);
	CHECK(seg_is(7, 0x20, 0x21000, 0x2067, 0x8b));
	CHECK(tsf_guest_state_ok());
}
