/*
 * nested_insn.c - group B: the results of the VMX instructions in L1
 * (SDM Vol. 3C 31.2 "Conventions", 31.3 the instruction reference, 31.4
 * "VM instruction error numbers").
 *
 * VMfailInvalid is CF = 1 with PF, AF, ZF, SF, OF clear; VMfailValid is
 * ZF = 1 with the others clear and the error number in the current VMCS;
 * VMsucceed clears all six.  The failures that need a current VMCS
 * (VMfailValid) are provoked with one loaded; those that need none
 * (VMfailInvalid) before the first VMPTRLD.  The VMLAUNCH/VMRESUME checks
 * that fail before entering (7, 8, 26, 4, 5) sit here too, with the first
 * good entries.
 */
#include "nested_test.h"

extern char l2_vmcall[];

#define CR4_VMXE (1ull << 13)
#define BAD_FIELD 0x0000ffffu

/* VM-instruction error numbers (SDM Vol. 3C 31.4). */
#define VMERR_VMCLEAR_ADDR 2
#define VMERR_VMCLEAR_VMXON 3
#define VMERR_LAUNCH_NOT_CLEAR 4
#define VMERR_RESUME_NOT_LAUNCHED 5
#define VMERR_BAD_CONTROLS 7
#define VMERR_BAD_HOST 8
#define VMERR_VMPTRLD_ADDR 9
#define VMERR_VMPTRLD_VMXON 10
#define VMERR_VMPTRLD_REVISION 11
#define VMERR_UNSUPPORTED_FIELD 12
#define VMERR_READ_ONLY_FIELD 13
#define VMERR_VMXON_IN_ROOT 15
#define VMERR_MOV_SS 26
#define VMERR_INVEPT_INVVPID 28

#define MISC_VMWRITE_ANY (1ull << 29) /* IA32_VMX_MISC[29] (SDM Vol. 3D A.6) */
#define EPT_CAP_INVEPT_BIT (1ull << 20)
#define VPID_CAP_INVVPID_BIT (1ull << 32)

static uint64_t insn_error(void)
{
	uint64_t v = 0;
	nx_vmread(VMCS_VM_INSTRUCTION_ERROR, &v);
	return v;
}

/* VMfailValid(err) with exactly ZF among the arithmetic flags. */
static void expect_fail_valid(const char *what, uint64_t r, unsigned err)
{
	uint64_t e = nx_outcome(r) == NX_FAIL_VALID ? insn_error() : 0;
	nx_check(nx_outcome(r) == NX_FAIL_VALID && e == err && (r & NX_FLAGS_ARITH) == NX_RFLAGS_ZF,
		 what, "%s rflags 0x%llx, want VMfailValid(%u)", nx_result_str(r),
		 (unsigned long long)(r & ~(NX_FAULT | NX_ENTRY_FAILED)), err);
}

/* VMfailInvalid with exactly CF among the arithmetic flags. */
static void expect_fail_invalid(const char *what, uint64_t r)
{
	nx_check(nx_outcome(r) == NX_FAIL_INVALID && (r & NX_FLAGS_ARITH) == NX_RFLAGS_CF, what,
		 "%s rflags 0x%llx, want VMfailInvalid", nx_result_str(r),
		 (unsigned long long)(r & ~(NX_FAULT | NX_ENTRY_FAILED)));
}

static void expect_succeed(const char *what, uint64_t r)
{
	nx_check(nx_outcome(r) == NX_SUCCEED && !(r & NX_FLAGS_ARITH), what,
		 "%s rflags 0x%llx, want VMsucceed", nx_result_str(r), (unsigned long long)r);
}

static void expect_fault(const char *what, uint64_t r, unsigned vector)
{
	nx_check(r == (NX_FAULT | vector), what, "%s, want vector %u", nx_result_str(r), vector);
}

/* VMXON: #UD without CR4.VMXE, VMfailInvalid for bad regions, then on. */
static bool vmxon_checks(void)
{
	uint64_t pa = nx.page[PG_VMXON];
	uint32_t *region = (uint32_t *)(uintptr_t)pa;
	region[0] = nx.revision;
	region[0x800 / 4] = nx.revision;

	write_cr4(read_cr4() & ~CR4_VMXE);
	uint64_t r = nx_vmxon(pa);
	expect_fault("VMXON with CR4.VMXE = 0 raises #UD", r, VEC_UD);
	if (nx_outcome(r) == NX_SUCCEED)
		nx_vmxoff();

	/* CR0 and CR4 as IA32_VMX_CR0/CR4_FIXED0/1 want them (SDM Vol. 3C 24.8). */
	write_cr0(read_cr0() | nx.cr0_fixed0);
	write_cr4(read_cr4() | nx.cr4_fixed0 | CR4_VMXE);
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();
	nx_check((cr4 & CR4_VMXE) && (cr0 & nx.cr0_fixed0) == nx.cr0_fixed0 &&
		     !(cr0 & ~nx.cr0_fixed1) && (cr4 & nx.cr4_fixed0) == nx.cr4_fixed0 &&
		     !(cr4 & ~nx.cr4_fixed1),
		 "CR0 and CR4 within the fixed bits, CR4.VMXE = 1", "cr0 0x%llx cr4 0x%llx",
		 (unsigned long long)cr0, (unsigned long long)cr4);

	region[0] = nx.revision ^ 1;
	r = nx_vmxon(pa);
	region[0] = nx.revision;
	expect_fail_invalid("VMXON with a wrong revision identifier", r);
	if (nx_outcome(r) == NX_SUCCEED)
		nx_vmxoff();
	r = nx_vmxon(pa + 0x800);
	expect_fail_invalid("VMXON of an address not 4-KiB aligned", r);
	if (nx_outcome(r) == NX_SUCCEED)
		nx_vmxoff();
	r = nx_vmxon(pa | (1ull << nx.maxphyaddr));
	expect_fail_invalid("VMXON of an address beyond MAXPHYADDR", r);
	if (nx_outcome(r) == NX_SUCCEED)
		nx_vmxoff();

	r = nx_vmxon(pa);
	expect_succeed("VMXON succeeds with all arithmetic flags clear", r);
	return nx_outcome(r) == NX_SUCCEED;
}

/* Before any VMPTRLD: no current VMCS. */
static void no_current_vmcs_checks(void)
{
	uint64_t cur = 0, v = 0;
	uint64_t r = nx_vmptrst(&cur);
	nx_check(nx_outcome(r) == NX_SUCCEED && cur == ~0ull,
		 "VMPTRST without a current VMCS stores FFFFFFFF_FFFFFFFFH", "%s pointer 0x%llx",
		 nx_result_str(r), (unsigned long long)cur);
	expect_fail_invalid("VMREAD without a current VMCS", nx_vmread(VMCS_GUEST_RIP, &v));
	expect_fail_invalid("VMWRITE without a current VMCS", nx_vmwrite(VMCS_GUEST_RIP, 0));
}

/*
 * A refused VMCLEAR or VMPTRLD leaves the current VMCS as it was (SDM
 * Vol. 3C 31.3: VMfailValid changes nothing but the error field): a value
 * VMWRITten before reads back unchanged after, which a VMCS reloaded from
 * memory, cleared or replaced would not give.
 */
#define MARK_FIELD VMCS_GUEST_RIP
#define MARK_BEFORE_REFUSALS 0x00006d6876310a00ull
#define MARK_BEFORE_L0 0x00006d6876310b00ull

static void expect_mark(const char *what, uint64_t mark)
{
	uint64_t v = 0, r = nx_vmread(MARK_FIELD, &v);
	nx_check(nx_outcome(r) == NX_SUCCEED && v == mark, what, "%s GUEST_RIP 0x%llx, want 0x%llx",
		 nx_result_str(r), (unsigned long long)v, (unsigned long long)mark);
}

/* With VMCS A current: the pointer checks of VMCLEAR/VMPTRLD, VMXON again. */
static void pointer_checks(void)
{
	uint64_t vmcs = nx.page[PG_VMCS_A], vmxon = nx.page[PG_VMXON];
	uint64_t beyond = 1ull << nx.maxphyaddr;
	uint64_t rip = vr(MARK_FIELD);
	vw(MARK_FIELD, MARK_BEFORE_REFUSALS);
	expect_fail_valid("VMXON in VMX root operation", nx_vmxon(vmxon), VMERR_VMXON_IN_ROOT);
	expect_fail_valid("VMCLEAR of an address not 4-KiB aligned", nx_vmclear(vmcs + 8),
			  VMERR_VMCLEAR_ADDR);
	expect_fail_valid("VMCLEAR of an address beyond MAXPHYADDR", nx_vmclear(vmcs | beyond),
			  VMERR_VMCLEAR_ADDR);
	expect_fail_valid("VMCLEAR of the VMXON pointer", nx_vmclear(vmxon), VMERR_VMCLEAR_VMXON);
	expect_fail_valid("VMPTRLD of the VMXON pointer", nx_vmptrld(vmxon), VMERR_VMPTRLD_VMXON);
	uint32_t *bad = (uint32_t *)(uintptr_t)nx.page[PG_VMCS_BAD];
	bad[0] = nx.revision ^ 1;
	expect_fail_valid("VMPTRLD of a VMCS with a wrong revision",
			  nx_vmptrld(nx.page[PG_VMCS_BAD]), VMERR_VMPTRLD_REVISION);
	expect_fail_valid("VMPTRLD of an address not 4-KiB aligned", nx_vmptrld(vmcs + 8),
			  VMERR_VMPTRLD_ADDR);
	expect_fail_valid("VMPTRLD of an address beyond MAXPHYADDR", nx_vmptrld(vmcs | beyond),
			  VMERR_VMPTRLD_ADDR);
	expect_mark("the current VMCS keeps a value VMWRITten before the refused VMCLEARs/VMPTRLDs",
		    MARK_BEFORE_REFUSALS);
	if (nx.microhv && nx.l0_base) {
		vw(MARK_FIELD, MARK_BEFORE_L0);
		expect_fail_valid("VMPTRLD of L0's own memory is an invalid address",
				  nx_vmptrld(nx.l0_base), VMERR_VMPTRLD_ADDR);
		expect_mark("after refusing L0's memory, VMREAD gives the value VMWRITten before",
			    MARK_BEFORE_L0);
	}
	vw(MARK_FIELD, rip);
	uint64_t cur = 0;
	uint64_t r = nx_vmptrst(&cur);
	nx_check(nx_outcome(r) == NX_SUCCEED && cur == vmcs,
		 "VMPTRST returns the current VMCS after the failed VMPTRLDs",
		 "%s pointer 0x%llx, want 0x%llx", nx_result_str(r), (unsigned long long)cur,
		 (unsigned long long)vmcs);
}

/*
 * With IA32_VMX_MISC[29], every exit-information field takes a VMWRITE
 * (SDM 31.3 VMWRITE: the read-only check applies only with MISC[29] = 0),
 * cut to its width (31.3: a 32-bit field keeps bits 31:0), and VMREAD
 * returns it; each is written back to 0 after.
 */
static void exit_info_writes(void)
{
	static const struct {
		uint32_t field;
		uint64_t value, want;
	} w[] = {
	    {VMCS_EXIT_QUALIFICATION, 0x8000000000000123ull, 0x8000000000000123ull},
	    {VMCS_VM_EXIT_INTR_INFO, 0x5a5a5a5a80000306ull, 0x80000306ull},
	    {VMCS_VM_EXIT_INSTRUCTION_LEN, 7, 7},
	    {VMCS_VMX_INSTRUCTION_INFO, 0x1808, 0x1808},
	    {VMCS_IDT_VECTORING_INFO_FIELD, 0x80000b0e, 0x80000b0e},
	    {VMCS_IO_RCX, 0x1234, 0x1234},
	    {VMCS_GUEST_LINEAR_ADDRESS, 0xffff800000001000ull, 0xffff800000001000ull},
	};
	unsigned bad = 0, first = 0;
	uint64_t seen = 0;
	for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		uint64_t back = 0;
		uint64_t r1 = nx_vmwrite(w[i].field, w[i].value);
		uint64_t r2 = nx_vmread(w[i].field, &back);
		if (nx_outcome(r1) != NX_SUCCEED || nx_outcome(r2) != NX_SUCCEED ||
		    back != w[i].want) {
			if (!bad++) {
				first = w[i].field;
				seen = back;
			}
		}
		nx_vmwrite(w[i].field, 0); /* no valid IDT-vectoring info left for group C */
	}
	nx_check(!bad, "VMWRITE/VMREAD of 7 more exit-information fields, widths kept (MISC[29])",
		 "%u wrong, first field 0x%x read 0x%llx", bad, first, (unsigned long long)seen);
}

/* VMREAD/VMWRITE: unsupported field, read-only field, field widths. */
static void field_checks(void)
{
	uint64_t v = 0;
	expect_fail_valid("VMREAD of a nonexistent field (0xffff)", nx_vmread(BAD_FIELD, &v),
			  VMERR_UNSUPPORTED_FIELD);
	expect_fail_valid("VMWRITE of a nonexistent field (0xffff)", nx_vmwrite(BAD_FIELD, 0),
			  VMERR_UNSUPPORTED_FIELD);
	uint64_t r = nx_vmwrite(VMCS_VM_EXIT_REASON, 0x1234);
	if (nx.misc & MISC_VMWRITE_ANY) {
		uint64_t back = 0;
		nx_vmread(VMCS_VM_EXIT_REASON, &back);
		nx_check(nx_outcome(r) == NX_SUCCEED && back == 0x1234,
			 "VMWRITE of VM_EXIT_REASON succeeds (IA32_VMX_MISC[29] = 1)",
			 "%s, read back 0x%llx", nx_result_str(r), (unsigned long long)back);
		exit_info_writes();
	} else {
		expect_fail_valid("VMWRITE of read-only VM_EXIT_REASON (IA32_VMX_MISC[29] = 0)", r,
				  VMERR_READ_ONLY_FIELD);
	}
	/* A 16-bit field keeps bits 15:0, a 32-bit field bits 31:0 (SDM 31.3 VMWRITE). */
	uint64_t sel = 0, lim = 0;
	uint64_t r1 = nx_vmwrite(VMCS_GUEST_ES_SELECTOR, 0xabcd0010ull);
	uint64_t r2 = nx_vmwrite(VMCS_GUEST_ES_LIMIT, 0x12345678ffffffffull);
	nx_vmread(VMCS_GUEST_ES_SELECTOR, &sel);
	nx_vmread(VMCS_GUEST_ES_LIMIT, &lim);
	nx_check(nx_outcome(r1) == NX_SUCCEED && nx_outcome(r2) == NX_SUCCEED && sel == 0x10 &&
		     lim == 0xffffffffull,
		 "VMWRITE/VMREAD keep a field's width (16-bit, 32-bit)",
		 "selector 0x%llx limit 0x%llx, want 0x10 0xffffffff", (unsigned long long)sel,
		 (unsigned long long)lim);
	vw(VMCS_GUEST_ES_SELECTOR, NX_L2_SEL_DATA);
}

/* INVEPT/INVVPID: #UD where not offered, else an unsupported type fails 28. */
static void invept_invvpid_checks(void)
{
	uint64_t desc[2] = {0, 0};
	bool ept = nx_allowed(NX_PROC2, CPU2_ENABLE_EPT) && (nx.ept_vpid_cap & EPT_CAP_INVEPT_BIT);
	uint64_t r = nx_invept(0, desc);
	if (ept)
		expect_fail_valid("INVEPT of type 0 (unsupported)", r, VMERR_INVEPT_INVVPID);
	else
		expect_fault("INVEPT raises #UD (no EPT/INVEPT in the capability MSRs)", r, VEC_UD);
	bool vpid =
	    nx_allowed(NX_PROC2, CPU2_ENABLE_VPID) && (nx.ept_vpid_cap & VPID_CAP_INVVPID_BIT);
	r = nx_invvpid(4, desc);
	if (vpid)
		expect_fail_valid("INVVPID of type 4 (unsupported)", r, VMERR_INVEPT_INVVPID);
	else
		expect_fault("INVVPID raises #UD (no VPID/INVVPID in the capability MSRs)", r,
			     VEC_UD);
}

/* VMLAUNCH/VMRESUME that fail before entering, then the first entries. */
static void entry_insn_checks(void)
{
	/* A pin-based control the MSR says must be 0. */
	uint32_t pin = (uint32_t)vr(VMCS_PIN_BASED_VM_EXEC_CONTROL);
	uint32_t not_allowed = ~nx.may1[NX_PIN];
	uint32_t bad = not_allowed & (0u - not_allowed); /* the lowest such bit */
	if (bad) {
		vw(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin | bad);
		expect_fail_valid("VMLAUNCH with a must-be-0 pin-based control set",
				  nx_enter(NX_LAUNCH), VMERR_BAD_CONTROLS);
		vw(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	} else {
		nx_check(false, "VMLAUNCH with a must-be-0 pin-based control set",
			 "every pin-based bit is allowed: 0x%x", nx.may1[NX_PIN]);
	}
	uint64_t cr4 = vr(VMCS_HOST_CR4);
	vw(VMCS_HOST_CR4, cr4 & ~CR4_VMXE);
	expect_fail_valid("VMLAUNCH with HOST_CR4.VMXE = 0", nx_enter(NX_LAUNCH), VMERR_BAD_HOST);
	vw(VMCS_HOST_CR4, cr4);
	uint64_t rip = vr(VMCS_HOST_RIP);
	vw(VMCS_HOST_RIP, 0x8000000000000000ull);
	expect_fail_valid("VMLAUNCH with a non-canonical HOST_RIP", nx_enter(NX_LAUNCH),
			  VMERR_BAD_HOST);
	vw(VMCS_HOST_RIP, rip);
	expect_fail_valid("VMLAUNCH right after MOV SS", nx_enter(NX_LAUNCH_AFTER_MOV_SS),
			  VMERR_MOV_SS);
	expect_fail_valid("VMRESUME of a clear VMCS", nx_enter(NX_RESUME),
			  VMERR_RESUME_NOT_LAUNCHED);

	struct nx_exit e;
	nx_run((uint64_t)(uintptr_t)l2_vmcall, NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && e.len == 3 &&
		     e.rip == (uint64_t)(uintptr_t)l2_vmcall,
		 "VMLAUNCH enters L2; its VMCALL exits to L1's host RIP", "%s", nx_exit_str(&e));
	expect_fail_valid("VMLAUNCH of a launched VMCS", nx_enter(NX_LAUNCH),
			  VMERR_LAUNCH_NOT_CLEAR);
	nx_run((uint64_t)(uintptr_t)l2_vmcall, NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL, "VMRESUME of the launched VMCS works",
		 "%s", nx_exit_str(&e));
}

bool nx_group_insn(void)
{
	nx_say("microhv-nested: group B - VMX instruction results (SDM Vol. 3C 31.2-31.4)");
	if (!vmxon_checks()) {
		nx_check(false, "in VMX operation: the rest of group B", "skipped");
		return false;
	}
	no_current_vmcs_checks();
	uint64_t r = nx_vmcs_init(PG_VMCS_A);
	expect_succeed("VMCLEAR and VMPTRLD of a fresh VMCS", r);
	if (nx_outcome(r) != NX_SUCCEED)
		return true;
	nx_check(nx.vw_errors == 0, "every VMWRITE of the VMCS set-up succeeds", "%u failed",
		 nx.vw_errors);
	pointer_checks();
	field_checks();
	invept_invvpid_checks();
	entry_insn_checks();
	nx_vpid_checks();
	nx_shadow_checks();
	return true;
}
