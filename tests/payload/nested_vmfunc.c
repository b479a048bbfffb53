/*
 * nested_vmfunc.c - group D, VM functions: L1 enables "enable VM
 * functions" with EPTP switching (VM function 0) for L2 and checks what
 * the SDM says of L2's VMFUNC (SDM Vol. 3C 26.5.6.2 "General Operation of
 * the VMFUNC Instruction", 26.5.6.3 "EPTP Switching", 25.6.14 the
 * VM-function controls, 27.2.1.1 their entry checks, Vol. 3D A.11
 * IA32_VMX_VMFUNC).  Run where the capability MSRs offer "enable VM
 * functions" with EPTP switching and nested EPT (nested_ept.c built
 * EPT12, root A), so that bare Bochs 2.7 (corei7_skylake_x: VMFUNC 0x1)
 * and L1 under microhv are held to the same checks.
 *
 * Root C is root A but for T1's 4-KiB leaf, which maps T2: L2 reads T2's
 * marker at T1's guest-physical address only once VMFUNC switched to C.
 * The EPTP list holds A, C and two invalid EPTPs.  L2's blob (l2_vmfunc)
 * is VMFUNC, a read of [RBX], VMCALL.
 */
#include "nested_test.h"

extern char l2_vmfunc[];

#define VMERR_BAD_CONTROLS 7
#define EPT_WB (6ull << 3)
#define EPT_ADDR 0x000ffffffffff000ull
#define EPTP_WB_WALK4 0x1eull
#define MARK_T1 0x7171717117171717ull
#define MARK_T2 0x7272727227272727ull
#define VEC_UD_EXIT (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | 6u)

static uint64_t *tab(enum nx_page p)
{
	return (uint64_t *)(uintptr_t)nx.page[p];
}

static uint64_t eptp_a, eptp_c;

/* Root C: A's tables, with copies down to T1's PT, whose T1 leaf maps T2. */
static void build_root_c(void)
{
	uint64_t t1 = nx.page[PG_EPT_T1];
	uint64_t *pml4_a = tab(PG_EPT_PML4),
		 *pdpt_a = (uint64_t *)(uintptr_t)(pml4_a[0] & EPT_ADDR);
	uint64_t *pd_a = (uint64_t *)(uintptr_t)(pdpt_a[t1 >> 30] & EPT_ADDR);
	uint64_t *pt_a = (uint64_t *)(uintptr_t)(pd_a[(t1 >> 21) & 511] & EPT_ADDR);
	uint64_t *pml4 = tab(PG_VMFUNC_PML4), *pdpt = tab(PG_VMFUNC_PDPT);
	uint64_t *pd = tab(PG_VMFUNC_PD), *pt = tab(PG_VMFUNC_PT);
	for (unsigned i = 0; i < 512; i++) {
		pml4[i] = 0;
		pdpt[i] = pdpt_a[i];
		pd[i] = pd_a[i];
		pt[i] = pt_a[i];
	}
	pml4[0] = nx.page[PG_VMFUNC_PDPT] | EPT_RWX;
	pdpt[t1 >> 30] = nx.page[PG_VMFUNC_PD] | EPT_RWX;
	pd[(t1 >> 21) & 511] = nx.page[PG_VMFUNC_PT] | EPT_RWX;
	pt[(t1 >> 12) & 511] = nx.page[PG_EPT_T2] | EPT_RWX | EPT_WB;
	eptp_c = nx.page[PG_VMFUNC_PML4] | EPTP_WB_WALK4;
	/* Nothing cached for C from an earlier run of the same pages (29.4.3.1). */
	uint64_t desc[2] = {eptp_c, 0};
	if (nx.ept_vpid_cap & EPT_CAP_INVEPT_SINGLE)
		nx_invept(1, desc);
	else
		nx_invept(2, desc);
}

/* The list: 0 = A, 1 = C, 2 = A with memory type 1, 3 = A with reserved bit 7. */
static void build_list(void)
{
	uint64_t *list = tab(PG_VMFUNC_LIST);
	for (unsigned i = 0; i < 512; i++)
		list[i] = 0;
	list[0] = eptp_a;
	list[1] = eptp_c;
	list[2] = (eptp_a & ~7ull) | 1;
	list[3] = eptp_a | (1ull << 7);
}

/* EPT12 root A on, "enable VM functions" with controls funcs and the list at list. */
static void vmfunc_on(uint64_t funcs, uint64_t list)
{
	nx_ept_on(false);
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, vr(VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_ENABLE_VMFUNC);
	vw(VMCS_VM_FUNCTION_CONTROL, funcs);
	vw(VMCS_EPTP_LIST_ADDRESS, list);
}

/* L2 runs VMFUNC(eax, ecx) then reads T1's guest-physical address into RCX. */
static void l2_vmfunc_run(uint32_t eax, uint32_t ecx, struct nx_exit *e)
{
	nx_l2_gpr[GPR_RAX] = eax;
	nx_l2_gpr[GPR_RCX] = ecx;
	nx_l2_gpr[GPR_RBX] = nx.page[PG_EPT_T1];
	nx_run((uint64_t)(uintptr_t)l2_vmfunc, NX_RFLAGS_FIXED, e);
}

/* L2's VMFUNC exits to L1 (reason 59) at the VMFUNC, vmcs12's EPTP still A. */
static void exit59(const char *what, uint32_t eax, uint32_t ecx)
{
	struct nx_exit e;
	l2_vmfunc_run(eax, ecx, &e);
	uint64_t p = vr(VMCS_EPT_POINTER);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMFUNC &&
		     e.rip == (uint64_t)(uintptr_t)l2_vmfunc && p == eptp_a,
		 what, "%s, EPTP 0x%llx, want reason 59 at the VMFUNC, EPTP 0x%llx",
		 nx_exit_str(&e), (unsigned long long)p, (unsigned long long)eptp_a);
}

/* L2's VMFUNC raises #UD: an exception exit (all exceptions exit) at the VMFUNC. */
static void ud(const char *what, uint32_t eax)
{
	struct nx_exit e;
	l2_vmfunc_run(eax, 1, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_EXCEPTION_NMI && e.intr_info == VEC_UD_EXIT &&
		     e.rip == (uint64_t)(uintptr_t)l2_vmfunc,
		 what, "%s, want reason 0 with #UD (0x%x) at the VMFUNC", nx_exit_str(&e),
		 VEC_UD_EXIT);
}

/* VM entry refuses the VM-function controls (27.2.1.1): VMfailValid(7). */
static void vmfail7(const char *what)
{
	uint64_t r = nx_enter(nx.launched ? NX_RESUME : NX_LAUNCH), err = 0;
	if (nx_outcome(r) == NX_FAIL_VALID)
		nx_vmread(VMCS_VM_INSTRUCTION_ERROR, &err);
	nx_check(nx_outcome(r) == NX_FAIL_VALID && err == VMERR_BAD_CONTROLS, what,
		 "%s error %llu, want VMfailValid(7)", nx_result_str(r), (unsigned long long)err);
}

static void switch_checks(uint64_t list)
{
	struct nx_exit e;
	vmfunc_on(VMFUNC_EPTP_SWITCHING, list);
	l2_vmfunc_run(0, 1, &e);
	uint64_t v = nx_l2_gpr[GPR_RCX], p = vr(VMCS_EPT_POINTER);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && v == MARK_T2,
		 "L2's VMFUNC(0, 1) switches to the list's EPTP 1: L2 then reads T2 at T1's "
		 "guest-physical address (SDM 26.5.6.3)",
		 "%s, read 0x%llx, want VMCALL and 0x%llx", nx_exit_str(&e), (unsigned long long)v,
		 (unsigned long long)MARK_T2);
	nx_check(p == eptp_c, "... and L1's VMREAD of EPT_POINTER returns the list's EPTP 1",
		 "0x%llx, want 0x%llx", (unsigned long long)p, (unsigned long long)eptp_c);
	/* vmcs12's EPTP is C now: L2 starts on C and switches back to A. */
	l2_vmfunc_run(0, 0, &e);
	v = nx_l2_gpr[GPR_RCX];
	p = vr(VMCS_EPT_POINTER);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && v == MARK_T1 && p == eptp_a,
		 "L2's VMFUNC(0, 0) switches back to EPTP 0: T1 read, EPT_POINTER the list's 0",
		 "%s, read 0x%llx, EPTP 0x%llx, want VMCALL, 0x%llx, 0x%llx", nx_exit_str(&e),
		 (unsigned long long)v, (unsigned long long)p, (unsigned long long)MARK_T1,
		 (unsigned long long)eptp_a);
	exit59("L2's VMFUNC(0, 512): ECX >= 512 is a VM exit (59) at the VMFUNC, EPTP unchanged", 0,
	       512);
	exit59("L2's VMFUNC(0, 2): an EPTP of memory type 1 in the list is a VM exit (59)", 0, 2);
	exit59("L2's VMFUNC(0, 3): an EPTP with reserved bit 7 in the list is a VM exit (59)", 0,
	       3);
	exit59("L2's VMFUNC(1, 1): a VM function not enabled is a VM exit (59)", 1, 1);
	ud("L2's VMFUNC with EAX = 64 raises #UD (SDM 26.5.6.2)", 64);
	vmfunc_on(0, list);
	exit59("VM functions on, no function enabled: VMFUNC(0, 1) is a VM exit (59)", 0, 1);
	nx_ept_on(false);
	ud("without \"enable VM functions\" L2's VMFUNC raises #UD", 0);
}

static void entry_checks(uint64_t allowed, uint64_t list)
{
	uint64_t bad = ~allowed & (allowed + 1); /* the lowest function not allowed */
	if (bad) {
		vmfunc_on(VMFUNC_EPTP_SWITCHING | bad, list);
		vmfail7(
		    "VM entry with a VM-function control IA32_VMX_VMFUNC does not allow fails 7 "
		    "(SDM 27.2.1.1)");
	}
	vmfunc_on(VMFUNC_EPTP_SWITCHING, list);
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL,
	   vr(VMCS_SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)CPU2_ENABLE_EPT);
	vmfail7("VM entry with EPTP switching but not \"enable EPT\" fails 7");
	vmfunc_on(VMFUNC_EPTP_SWITCHING, list | 0x800);
	vmfail7("VM entry with an EPTP-list address not 4-KiB aligned fails 7");
	vmfunc_on(VMFUNC_EPTP_SWITCHING, list | (1ull << nx.maxphyaddr));
	vmfail7("VM entry with an EPTP-list address beyond MAXPHYADDR fails 7");
}

void nx_group_vmfunc(void)
{
	nx_say("microhv-nested: group D - VM functions: VMFUNC's EPTP switching");
	uint64_t need = EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_INVEPT;
	if (!nx_allowed(NX_PROC2, CPU2_ENABLE_VMFUNC) || !nx_allowed(NX_PROC2, CPU2_ENABLE_EPT) ||
	    (nx.ept_vpid_cap & need) != need) {
		nx_say("microhv-nested: note - no \"enable VM functions\" or no nested EPT in the "
		       "capability MSRs: the VMFUNC checks are left out");
		return;
	}
	uint64_t funcs = 0;
	uint64_t r = nx_rdmsr(MSR_IA32_VMX_VMFUNC, &funcs);
	/* A.11: the MSR exists where "enable VM functions" may be 1; microhv offers bit 0 alone. */
	nx_check(!r && (!nx.microhv || funcs == VMFUNC_EPTP_SWITCHING),
		 "IA32_VMX_VMFUNC readable (under microhv: EPTP switching alone, 1)", "%s, 0x%llx",
		 r ? nx_result_str(r) : "read", (unsigned long long)funcs);
	if (r || !(funcs & VMFUNC_EPTP_SWITCHING)) {
		nx_say("microhv-nested: note - no EPTP switching in IA32_VMX_VMFUNC: the VMFUNC "
		       "checks are left out");
		return;
	}
	*tab(PG_EPT_T1) = MARK_T1;
	*tab(PG_EPT_T2) = MARK_T2;
	nx_ept_on(false);
	eptp_a = vr(VMCS_EPT_POINTER);
	nx_ept_flush();
	build_root_c();
	build_list();
	uint64_t list = nx.page[PG_VMFUNC_LIST];
	switch_checks(list);
	entry_checks(funcs, list);
	nx_reset_l2();
}
