/*
 * test_nested_vmfunc.c - VM functions offered to L1 (nested/vmfunc.c,
 * issue 12 item 6): L1's IA32_VMX_VMFUNC and secondary control
 * (nested/vmx_msrs.c), the VM-entry checks on the VM-function controls
 * (nested/entry_checks.c, VMfailValid 7), vmcs02's VM functions
 * (prepare02.c), the pure VMFUNC decision on a memory that counts its
 * reads, and L2's VMFUNC through the exit path on the software VMCSs of
 * nested_run_fixture.h: the EPTP switched in vmcs12 and vmcs02 with RIP
 * past VMFUNC, or L1's exit 59 with L2 at its VMFUNC.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "arch/x86/regs.h"
#include "hw_fake.h"
#include "nested/ept02.h"
#include "nested/ept12.h"
#include "nested/vmfunc.h"
#include "nested/vmx_msrs.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#include <string.h>

#define ERR_INVALID_CONTROL 7 /* SDM Vol. 3C 31.4 */
#define LEN_VMFUNC 3	      /* 0F 01 D4 */

/* Two EPT12s in L1's memory (their tables are not walked here) and the EPTP list. */
#define EPT12_A (MEM_BASE + 0x30000)
#define EPT12_B (MEM_BASE + 0x31000)
#define EPTP_LIST (MEM_BASE + 0x3e000)
#define EPTP_A (EPT12_A | 0x1e)			 /* WB, walk 4 */
#define EPTP_B (EPT12_B | 0x1e | EPTP_AD_ENABLE) /* WB, walk 4, A/D */

static struct vmx_caps l1_caps_of(const struct vmx_caps *hw)
{
	struct vmx_caps l1;
	nested_vmx_msrs_init(hw, 0x1d, &l1);
	return l1;
}

static struct vmx_caps bochs_l1(void)
{
	struct vmx_caps hw;
	hw_fake_bochs_caps(&hw);
	return l1_caps_of(&hw);
}

/* ---- L1's capability MSRs (SDM Vol. 3D A.3.3, A.11) ---- */

TEST(nested_vmfunc_offered_with_eptp_switching_alone)
{
	struct vmx_caps l1 = bochs_l1();
	uint64_t v = 0;
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_PROCBASED_CTLS2, &v));
	CHECK_EQ((v >> 32) & CPU2_ENABLE_VMFUNC, CPU2_ENABLE_VMFUNC);
	CHECK_EQ(v & CPU2_ENABLE_VMFUNC, 0); /* never must-be-1 */
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_VMFUNC, &v));
	CHECK_EQ(v, VMFUNC_EPTP_SWITCHING);
	/* A CPU with more functions: L1 still gets EPTP switching alone. */
	struct vmx_caps hw;
	hw_fake_bochs_caps(&hw);
	hw.vmfunc = 0x7;
	l1 = l1_caps_of(&hw);
	CHECK(nested_vmx_msr_read(&l1, MSR_IA32_VMX_VMFUNC, &v));
	CHECK_EQ(v, VMFUNC_EPTP_SWITCHING);
}

/* Not offered (control absent, IA32_VMX_VMFUNC #GP) without any of what it needs. */
static void check_not_offered(const struct vmx_caps *hw)
{
	struct vmx_caps l1 = l1_caps_of(hw);
	uint64_t v;
	CHECK(!nested_vmx_msr_read(&l1, MSR_IA32_VMX_VMFUNC, &v));
	CHECK_EQ(l1.has_vmfunc, 0);
	CHECK_EQ((l1.procbased2 >> 32) & CPU2_ENABLE_VMFUNC, 0);
}

TEST(nested_vmfunc_not_offered_without_cpu_or_ept)
{
	struct vmx_caps hw;
	/* The CPU cannot set "enable VM functions". */
	hw_fake_bochs_caps(&hw);
	hw.procbased2 &= ~((uint64_t)CPU2_ENABLE_VMFUNC << 32);
	hw.has_vmfunc = 0;
	hw.vmfunc = 0;
	check_not_offered(&hw);
	/* VM functions without EPTP switching. */
	hw_fake_bochs_caps(&hw);
	hw.vmfunc = 0x2;
	check_not_offered(&hw);
	hw_fake_bochs_caps(&hw);
	hw.has_vmfunc = 0;
	check_not_offered(&hw);
	/* No nested EPT for L1 (the CPU lacks INVEPT single-context). */
	hw_fake_bochs_caps(&hw);
	hw.ept_vpid_cap &= ~EPT_CAP_INVEPT_SINGLE;
	check_not_offered(&hw);
	/* The CPU cannot set "enable EPT". */
	hw_fake_bochs_caps(&hw);
	hw.procbased2 &= ~((uint64_t)CPU2_ENABLE_EPT << 32);
	check_not_offered(&hw);
	CHECK(nested_vmfunc_offerable(&(struct vmx_caps){0}) == false);
}

/* ---- L2 under L1's EPT and VM functions (nested_run_fixture.h) ---- */

static void put(uint64_t gpa, uint64_t v)
{
	memcpy(run_l1_ptr(gpa), &v, 8);
}

static void vmcs12_or(uint32_t enc, uint64_t bits)
{
	vmcs12_set(V12, enc, vmcs12_get(V12, enc) | bits);
}

/* vmcs12 with EPT (EPTP_A) and VM functions (funcs, list at list); nothing entered. */
static void setup_vmfunc(uint64_t funcs, uint64_t list)
{
	run_setup();
	vmcs12_or(VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_ACTIVATE_SECONDARY);
	vmcs12_or(VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_EPT | CPU2_ENABLE_VMFUNC);
	vmcs12_set(V12, VMCS_EPT_POINTER, EPTP_A);
	vmcs12_set(V12, VMCS_VM_FUNCTION_CONTROL, funcs);
	vmcs12_set(V12, VMCS_EPTP_LIST_ADDRESS, list);
	put(EPTP_LIST + 0, EPTP_A);
	put(EPTP_LIST + 8, EPTP_B);
	put(EPTP_LIST + 16, EPT12_B | 0x19); /* memory type 1: invalid */
	put(EPTP_LIST + 8 * 511, EPTP_B);
}

/* L1's VMLAUNCH ended in VMfailValid(7) at the instruction, nothing entered. */
static void check_vmfail_control(void)
{
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), ERR_INVALID_CONTROL);
	CHECK_EQ(f01(VMCS_GUEST_RFLAGS) & RFLAGS_ZF, RFLAGS_ZF);
	CHECK_EQ(f01(VMCS_GUEST_RIP), RIP0 + LEN_VMLAUNCH);
	CHECK_EQ(NV->entries, 0);
}

/* SDM Vol. 3C 27.2.1.1, the checks on the VM-function controls. */
TEST(nested_vmfunc_entry_checks)
{
	setup_vmfunc(VMFUNC_EPTP_SWITCHING, EPTP_LIST);
	CHECK(run_l1_vmlaunch());
	/* No function at all is valid too, and needs no list address. */
	setup_vmfunc(0, 0x123);
	CHECK(run_l1_vmlaunch());
	/* A function IA32_VMX_VMFUNC does not allow: bit 1, bit 63. */
	setup_vmfunc(VMFUNC_EPTP_SWITCHING | 2, EPTP_LIST);
	check_vmfail_control();
	CHECK(run_log_has("VM_FUNCTION_CONTROL: a bit IA32_VMX_VMFUNC does not allow is 1"));
	setup_vmfunc(1ull << 63, EPTP_LIST);
	check_vmfail_control();
	/* EPTP switching without "enable EPT". */
	setup_vmfunc(VMFUNC_EPTP_SWITCHING, EPTP_LIST);
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)CPU2_ENABLE_EPT);
	check_vmfail_control();
	CHECK(run_log_has("EPTP switching requires enable EPT"));
	/* The EPTP-list address: 4-KiB aligned, within the physical-address width. */
	setup_vmfunc(VMFUNC_EPTP_SWITCHING, EPTP_LIST | 0x800);
	check_vmfail_control();
	CHECK(run_log_has("EPTP_LIST_ADDRESS bits 11:0 must be 0"));
	setup_vmfunc(VMFUNC_EPTP_SWITCHING, EPTP_LIST | 8);
	check_vmfail_control();
	setup_vmfunc(VMFUNC_EPTP_SWITCHING, 1ull << 39); /* g_l0.maxphyaddr is 39 */
	check_vmfail_control();
	CHECK(run_log_has("EPTP_LIST_ADDRESS must not set bits beyond MAXPHYADDR"));
	/* The address is not read at entry: one in L0's memory passes. */
	setup_vmfunc(VMFUNC_EPTP_SWITCHING, HV_BASE);
	CHECK(run_l1_vmlaunch());
	/* Without "enable VM functions" the fields are not checked. */
	setup_vmfunc(0xff, 0x7);
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)CPU2_ENABLE_VMFUNC);
	CHECK(run_l1_vmlaunch());
	/* Nor with the secondary controls not activated. */
	setup_vmfunc(0xff, 0x7);
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL) &
		       ~(uint64_t)CPU_ACTIVATE_SECONDARY);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(run_stub_errors, 0);
}

/* SDM 26.5.6.2: vmcs02 enables VM functions with none enabled, exactly when vmcs12 does. */
TEST(nested_vmfunc_vmcs02_enables_no_function)
{
	setup_vmfunc(VMFUNC_EPTP_SWITCHING, EPTP_LIST);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_VMFUNC, CPU2_ENABLE_VMFUNC);
	CHECK_EQ(f02(VMCS_VM_FUNCTION_CONTROL), 0);
	setup_vmfunc(VMFUNC_EPTP_SWITCHING, EPTP_LIST);
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)CPU2_ENABLE_VMFUNC);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_VMFUNC, 0);
}

/* ---- the decision, pure, on a memory that counts its reads ---- */

struct counted {
	uint8_t page[4096];
	uint64_t base;
	unsigned reads;
	uint64_t last_pa;
};

static bool counted_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct counted *m = ctx;
	m->reads++;
	m->last_pa = gpa;
	if (gpa < m->base || gpa + len > m->base + sizeof(m->page))
		return false;
	memcpy(buf, m->page + (gpa - m->base), len);
	return true;
}

static struct counted cmem;
static const struct l1_memory counted_mem = {.read = counted_read, .ctx = &cmem, .maxphyaddr = 39};

static void decide(const struct vmcs12 *v12, uint32_t eax, uint32_t ecx,
		   struct nested_vmfunc_decision *d)
{
	struct vmx_caps l1 = bochs_l1();
	cmem.reads = 0;
	nested_vmfunc_decide(v12, &l1, &counted_mem, eax, ecx, d);
}

static void decision_fixture(struct vmcs12 *v12, uint64_t funcs)
{
	memset(v12, 0, sizeof(*v12));
	vmcs12_set(v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_ACTIVATE_SECONDARY);
	vmcs12_set(v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_EPT | CPU2_ENABLE_VMFUNC);
	vmcs12_set(v12, VMCS_EPT_POINTER, EPTP_A);
	vmcs12_set(v12, VMCS_VM_FUNCTION_CONTROL, funcs);
	vmcs12_set(v12, VMCS_EPTP_LIST_ADDRESS, EPTP_LIST);
	memset(&cmem, 0, sizeof(cmem));
	cmem.base = EPTP_LIST;
}

static void list_entry(unsigned i, uint64_t eptp)
{
	memcpy(cmem.page + 8 * i, &eptp, 8);
}

/* #UD: the CPU's own with vmcs02 as prepared; L0 decides it alike (nothing read). */
TEST(nested_vmfunc_decide_ud)
{
	static struct vmcs12 v12;
	struct nested_vmfunc_decision d;
	decision_fixture(&v12, VMFUNC_EPTP_SWITCHING);
	decide(&v12, 64, 0, &d);
	CHECK_EQ(d.action, NVMFUNC_UD);
	decide(&v12, 0xffffffffu, 0, &d);
	CHECK_EQ(d.action, NVMFUNC_UD);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_EPT);
	decide(&v12, 0, 0, &d);
	CHECK_EQ(d.action, NVMFUNC_UD);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_EPT | CPU2_ENABLE_VMFUNC);
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, 0);
	decide(&v12, 0, 0, &d);
	CHECK_EQ(d.action, NVMFUNC_UD);
	CHECK_EQ(cmem.reads, 0);
}

/* SDM 26.5.6.2: the VM-function control for EAX is 0 (or L0 implements none there). */
TEST(nested_vmfunc_decide_function_not_enabled)
{
	static struct vmcs12 v12;
	struct nested_vmfunc_decision d;
	decision_fixture(&v12, VMFUNC_EPTP_SWITCHING);
	list_entry(0, EPTP_B);
	decide(&v12, 1, 0, &d);
	CHECK_EQ(d.action, NVMFUNC_L1_EXIT);
	decide(&v12, 63, 0, &d);
	CHECK_EQ(d.action, NVMFUNC_L1_EXIT);
	/* VM functions on, no function enabled: EAX 0 exits too. */
	decision_fixture(&v12, 0);
	list_entry(0, EPTP_B);
	decide(&v12, 0, 0, &d);
	CHECK_EQ(d.action, NVMFUNC_L1_EXIT);
	CHECK_STR(d.why, "the VM-function control for EAX is 0");
	/* A bit L1's entry checks would refuse, were it set: still only function 0 runs. */
	decision_fixture(&v12, 0x3);
	list_entry(0, EPTP_B);
	decide(&v12, 1, 0, &d);
	CHECK_EQ(d.action, NVMFUNC_L1_EXIT);
	CHECK_EQ(cmem.reads, 0);
}

/* SDM 26.5.6.3: the list's entry ECX, once, as VM entry would check an EPTP. */
TEST(nested_vmfunc_decide_eptp_switching)
{
	static struct vmcs12 v12;
	struct nested_vmfunc_decision d;
	decision_fixture(&v12, VMFUNC_EPTP_SWITCHING);
	list_entry(1, EPTP_B);
	list_entry(511, EPTP_A);
	decide(&v12, 0, 1, &d);
	CHECK_EQ(d.action, NVMFUNC_EPTP_SWITCH);
	CHECK_EQ(d.eptp12, EPTP_B);
	CHECK_EQ(cmem.reads, 1);
	CHECK_EQ(cmem.last_pa, EPTP_LIST + 8);
	decide(&v12, 0, 511, &d);
	CHECK_EQ(d.action, NVMFUNC_EPTP_SWITCH);
	CHECK_EQ(d.eptp12, EPTP_A);
	CHECK_EQ(cmem.last_pa, EPTP_LIST + 8 * 511);
	/* The current EPTP is a valid entry too. */
	list_entry(2, EPTP_A);
	decide(&v12, 0, 2, &d);
	CHECK_EQ(d.action, NVMFUNC_EPTP_SWITCH);
	CHECK_EQ(d.eptp12, EPTP_A);
	/* ECX >= 512: an exit, nothing read. */
	decide(&v12, 0, 512, &d);
	CHECK_EQ(d.action, NVMFUNC_L1_EXIT);
	CHECK_STR(d.why, "ECX >= 512");
	CHECK_EQ(cmem.reads, 0);
	decide(&v12, 0, 0x80000001u, &d);
	CHECK_EQ(d.action, NVMFUNC_L1_EXIT);
	CHECK_EQ(cmem.reads, 0);
}

TEST(nested_vmfunc_decide_invalid_entries)
{
	static const uint64_t bad[] = {
	    0,				   /* memory type UC, walk length 1 */
	    EPT12_B | 0x19,		   /* memory type 1 */
	    EPT12_B | 0x1d,		   /* memory type 5 */
	    EPT12_B | 0x26,		   /* walk length 5 */
	    EPT12_B | 0x16,		   /* walk length 3 */
	    EPT12_B | 0x1e | 0x80,	   /* bit 7 */
	    EPT12_B | 0x1e | 0x800,	   /* bit 11 */
	    (1ull << 39) | 0x1e,	   /* beyond MAXPHYADDR */
	    (1ull << 63) | EPT12_B | 0x1e, /* bit 63 */
	};
	static struct vmcs12 v12;
	struct nested_vmfunc_decision d;
	decision_fixture(&v12, VMFUNC_EPTP_SWITCHING);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		list_entry(3, bad[i]);
		decide(&v12, 0, 3, &d);
		CHECK_EQ(d.action, NVMFUNC_L1_EXIT);
		CHECK_EQ(cmem.reads, 1);
		CHECK(!d.entry_unreadable);
	}
	/* UC with walk 4 is valid (Bochs offers UC). */
	list_entry(3, EPT12_B | 0x18);
	decide(&v12, 0, 3, &d);
	CHECK_EQ(d.action, NVMFUNC_EPTP_SWITCH);
	/* A/D where L1's IA32_VMX_EPT_VPID_CAP lacks them: invalid. */
	list_entry(3, EPTP_B);
	struct vmx_caps l1 = bochs_l1();
	l1.ept_vpid_cap &= ~EPT_CAP_ACCESSED_DIRTY;
	nested_vmfunc_decide(&v12, &l1, &counted_mem, 0, 3, &d);
	CHECK_EQ(d.action, NVMFUNC_L1_EXIT);
	CHECK_STR(d.why, "the EPTP-list entry is not a valid EPTP");
}

/* A list L0 cannot read: an invalid entry, read once. */
TEST(nested_vmfunc_decide_unreadable_list)
{
	static struct vmcs12 v12;
	struct nested_vmfunc_decision d;
	decision_fixture(&v12, VMFUNC_EPTP_SWITCHING);
	vmcs12_set(&v12, VMCS_EPTP_LIST_ADDRESS, EPTP_LIST + 0x1000);
	decide(&v12, 0, 5, &d);
	CHECK_EQ(d.action, NVMFUNC_L1_EXIT);
	CHECK(d.entry_unreadable);
	CHECK_EQ(d.entry_pa, EPTP_LIST + 0x1000 + 40);
	CHECK_EQ(cmem.reads, 1);
}

/* ---- through the exit path ---- */

/* L1 entered L2 with EPT12 A and EPTP switching; L2 executes VMFUNC with RAX, RCX. */
static void enter(uint64_t funcs)
{
	setup_vmfunc(funcs, EPTP_LIST);
	CHECK(run_l1_vmlaunch());
	hw_calls.invept = 0;
}

static void l2_vmfunc(uint64_t rax, uint64_t rcx)
{
	regs.gpr[GPR_RAX] = rax;
	regs.gpr[GPR_RCX] = rcx;
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, 0);
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, 0);
	run_l2_exit(EXIT_REASON_VMFUNC, 0, LEN_VMFUNC);
}

TEST(nested_vmfunc_run_switches_eptp)
{
	enter(VMFUNC_EPTP_SWITCHING);
	uint64_t eptp02_a = f02(VMCS_EPT_POINTER);
	CHECK_EQ(ept02_find(&NV->ept02, EPTP_A), eptp02_a & EPT_ADDR_MASK);
	/* RCX's high half plays no part: ECX is 1. */
	l2_vmfunc(0xdead000000000000ull, 0x1234567800000001ull);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(vmcs_soft_current(), VMCS02_PA);
	CHECK_EQ(f12(VMCS_EPT_POINTER), EPTP_B);
	uint64_t eptp02_b = f02(VMCS_EPT_POINTER);
	CHECK_EQ(eptp02_b, NV->eptp02);
	CHECK(eptp02_b != eptp02_a);
	CHECK_EQ(ept02_find(&NV->ept02, EPTP_B), eptp02_b & EPT_ADDR_MASK);
	CHECK_EQ(eptp02_b & 0xfff, 0x5e); /* A/D as EPTP_B */
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + LEN_VMFUNC);
	/* No invalidation: EPT02's roots are per EPTP12 (SDM 26.5.6.3). */
	CHECK_EQ(hw_calls.invept, 0);
	/* EPT02 of A is kept: switching back finds it. */
	CHECK(ept02_find(&NV->ept02, EPTP_A) != 0);
	l2_vmfunc(0, 0);
	CHECK_EQ(f12(VMCS_EPT_POINTER), EPTP_A);
	CHECK_EQ(f02(VMCS_EPT_POINTER), eptp02_a);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + 2 * LEN_VMFUNC);
	/* L1's VMREAD of EPT_POINTER afterwards reads the switched one: vmcs12's. */
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* VMFUNC completes like an instruction: STI/MOV-SS blocking and RF end, TF's trap pends. */
TEST(nested_vmfunc_run_completes_the_instruction)
{
	enter(VMFUNC_EPTP_SWITCHING);
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_STI);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x10002 | 0x100); /* RF, TF */
	l2_vmfunc(0, 1);
	CHECK_EQ(f02(VMCS_GUEST_INTERRUPTIBILITY_INFO) & GUEST_INTR_STATE_STI, 0);
	CHECK_EQ(f02(VMCS_GUEST_RFLAGS) & 0x10000, 0);
	CHECK(f02(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) & (1ull << 14)); /* BS */
	CHECK_EQ(f12(VMCS_EPT_POINTER), EPTP_B);
}

/* L1's exit 59, L2 at its VMFUNC, vmcs12's and vmcs02's EPTP unchanged. */
static void check_l1_exit(uint64_t eptp02_before)
{
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_VMFUNC);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_INSTRUCTION_LEN), LEN_VMFUNC);
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(f12(VMCS_EPT_POINTER), EPTP_A);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	CHECK_EQ(f02(VMCS_EPT_POINTER), eptp02_before);
	CHECK_EQ(run_stub_errors, 0);
}

TEST(nested_vmfunc_run_l1_exits)
{
	/* ECX >= 512. */
	enter(VMFUNC_EPTP_SWITCHING);
	uint64_t eptp02 = f02(VMCS_EPT_POINTER);
	l2_vmfunc(0, 512);
	check_l1_exit(eptp02);
	/* An invalid entry. */
	enter(VMFUNC_EPTP_SWITCHING);
	l2_vmfunc(0, 2);
	check_l1_exit(eptp02);
	/* A function not enabled (EAX 1), and EAX 0 with no function enabled. */
	enter(VMFUNC_EPTP_SWITCHING);
	l2_vmfunc(1, 1);
	check_l1_exit(eptp02);
	enter(0);
	l2_vmfunc(0, 1);
	check_l1_exit(eptp02);
	CHECK_EQ(hw_calls.invept, 0);
}

/* A list in memory L0 cannot read (L0's own): an invalid entry, logged. */
TEST(nested_vmfunc_run_unreadable_list)
{
	setup_vmfunc(VMFUNC_EPTP_SWITCHING, HV_BASE);
	CHECK(run_l1_vmlaunch());
	uint64_t eptp02 = f02(VMCS_EPT_POINTER);
	l2_vmfunc(0, 1);
	check_l1_exit(eptp02);
	CHECK(run_log_has("which L0 cannot read: an invalid entry, VM exit to L1"));
}

/* EAX >= 64 never exits from vmcs02; if it did, L2 gets the CPU's #UD (L1's by its bitmap). */
TEST(nested_vmfunc_run_ud)
{
	enter(VMFUNC_EPTP_SWITCHING);
	l2_vmfunc(64, 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD),
		 INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | VEC_UD);
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(f12(VMCS_EPT_POINTER), EPTP_A);
	CHECK(run_log_has("L0's bug"));
	/* L1 intercepts #UD: the exception exit is L1's. */
	enter(VMFUNC_EPTP_SWITCHING);
	vmcs12_or(VMCS_EXCEPTION_BITMAP, 1u << VEC_UD);
	l2_vmfunc(64, 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO) & 0xff, VEC_UD);
}

/* EPT02 at its page bound: dropped and started over, the switch still done. */
TEST(nested_vmfunc_run_page_bound)
{
	enter(VMFUNC_EPTP_SWITCHING);
	NV->ept02.max_pages = NV->ept02.pages; /* no page for another root */
	l2_vmfunc(0, 1);
	CHECK(NV->in_l2);
	CHECK_EQ(f12(VMCS_EPT_POINTER), EPTP_B);
	CHECK_EQ(f02(VMCS_EPT_POINTER), NV->eptp02);
	CHECK_EQ(ept02_find(&NV->ept02, EPTP_B), NV->eptp02 & EPT_ADDR_MASK);
	CHECK_EQ(ept02_find(&NV->ept02, EPTP_A), 0);
	CHECK_EQ(hw_calls.invept, 1); /* the dropped root */
	CHECK_EQ(f02(VMCS_GUEST_RIP), L2_RIP + LEN_VMFUNC);
	/* No page at all: L1's exit, nothing switched. */
	enter(VMFUNC_EPTP_SWITCHING);
	uint64_t eptp02 = f02(VMCS_EPT_POINTER);
	NV->ept02.max_pages = 0;
	l2_vmfunc(0, 1);
	check_l1_exit(eptp02);
	CHECK(run_log_has("L0 is out of memory; VM exit to L1 instead"));
}
