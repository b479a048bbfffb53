/*
 * nested_vpid.c - group B, VPID: INVVPID and "enable VPID" (SDM Vol. 3C
 * 31.3 "INVVPID", 27.2.1.1, 27.3.2.5, 29.4.3.1), run where the capability
 * MSRs offer VPID and INVVPID, so that bare Bochs and L1 under microhv
 * are held to the same checks.
 *
 * The TLB checks give L2 a 4-KiB page at TLB_LA (PML4 entry 2 -> a
 * PDPT, PD and PT of their own) that maps page A or page B, each holding
 * its own marker.  L2 loads the marker (caching the translation), L1
 * points the PTE at the other page and enters again: where the SDM says
 * the entry or L1's INVVPID invalidates the translation, L2 must see the
 * new page.  Where the SDM lets the CPU keep the old translation (VPID,
 * no INVVPID) nothing is checked.
 */
#include "nested_test.h"

extern char l2_vmcall[], l2_load[];

#define VMERR_BAD_CONTROLS 7
#define VMERR_INVEPT_INVVPID 28
#define VPID_CAP_INVVPID (1ull << 32)
#define VPID_CAP_TYPE(t) (1ull << (40 + (t)))
#define NONCANONICAL 0x8000000000000000ull /* for 48- and 57-bit linear addresses */
#define L1S_VPID 0x5a                      /* any VPID but 0 is L1's to choose */
#define TLB_LA 0x0000010000000000ull       /* PML4 entry 2 */
#define MARK_A 0xaaaa00000000000aull
#define MARK_B 0xbbbb00000000000bull

enum { TYPE_ADDRESS, TYPE_SINGLE, TYPE_ALL, TYPE_SINGLE_GLOBALS };

static uint64_t insn_error(void)
{
	uint64_t v = 0;
	nx_vmread(VMCS_VM_INSTRUCTION_ERROR, &v);
	return v;
}

static void expect(const char *what, uint64_t r, unsigned err)
{
	if (!err) {
		nx_check(nx_outcome(r) == NX_SUCCEED && !(r & NX_FLAGS_ARITH), what,
			 "%s rflags 0x%llx, want VMsucceed", nx_result_str(r),
			 (unsigned long long)r);
		return;
	}
	uint64_t e = nx_outcome(r) == NX_FAIL_VALID ? insn_error() : 0;
	nx_check(nx_outcome(r) == NX_FAIL_VALID && e == err && (r & NX_FLAGS_ARITH) == NX_RFLAGS_ZF,
		 what, "%s rflags 0x%llx, want VMfailValid(%u)", nx_result_str(r),
		 (unsigned long long)(r & ~(NX_FAULT | NX_ENTRY_FAILED)), err);
}

static uint64_t invvpid(uint64_t type, uint64_t vpid_word, uint64_t la)
{
	uint64_t desc[2] = {vpid_word, la};
	return nx_invvpid(type, desc);
}

/* Each type the MSR reports succeeds (one it does not report fails 28). */
static void type_checks(void)
{
	static const char *const ok[4] = {
	    "INVVPID individual-address (type 0) succeeds",
	    "INVVPID single-context (type 1) succeeds",
	    "INVVPID all-context (type 2) succeeds",
	    "INVVPID single-context-retaining-globals (type 3) succeeds",
	};
	for (unsigned t = 0; t < 4; t++)
		expect(ok[t], invvpid(t, L1S_VPID, 0x1000),
		       (nx.ept_vpid_cap & VPID_CAP_TYPE(t)) ? 0 : VMERR_INVEPT_INVVPID);
	expect("INVVPID all-context takes VPID 0", invvpid(TYPE_ALL, 0, 0),
	       (nx.ept_vpid_cap & VPID_CAP_TYPE(TYPE_ALL)) ? 0 : VMERR_INVEPT_INVVPID);
}

/* SDM 31.3: VMfail(28) for the descriptor. */
static void operand_checks(void)
{
	expect("INVVPID individual-address of VPID 0 fails 28", invvpid(TYPE_ADDRESS, 0, 0x1000),
	       VMERR_INVEPT_INVVPID);
	expect("INVVPID single-context of VPID 0 fails 28", invvpid(TYPE_SINGLE, 0, 0),
	       VMERR_INVEPT_INVVPID);
	expect("INVVPID single-context-retaining-globals of VPID 0 fails 28",
	       invvpid(TYPE_SINGLE_GLOBALS, 0, 0), VMERR_INVEPT_INVVPID);
	expect("INVVPID individual-address of a non-canonical address fails 28",
	       invvpid(TYPE_ADDRESS, L1S_VPID, NONCANONICAL), VMERR_INVEPT_INVVPID);
	expect("INVVPID with descriptor bits 63:16 set fails 28",
	       invvpid(TYPE_SINGLE, 0x10000 | L1S_VPID, 0), VMERR_INVEPT_INVVPID);
	if (nx.ept_vpid_cap & VPID_CAP_TYPE(TYPE_SINGLE))
		expect("INVVPID single-context ignores the address (non-canonical)",
		       invvpid(TYPE_SINGLE, L1S_VPID, NONCANONICAL), 0);
}

/* ---- L2's page at TLB_LA ---- */

static void tlb_map(enum nx_page page)
{
	uint64_t *pt = (uint64_t *)(uintptr_t)nx.page[PG_TLB_PT];
	pt[0] = nx.page[page] | 3; /* P RW, not global */
}

static void tlb_setup(void)
{
	uint64_t *pml4 = (uint64_t *)(uintptr_t)nx.page[PG_L2_PML4];
	uint64_t *pdpt = (uint64_t *)(uintptr_t)nx.page[PG_TLB_PDPT];
	uint64_t *pd = (uint64_t *)(uintptr_t)nx.page[PG_TLB_PD];
	*(volatile uint64_t *)(uintptr_t)nx.page[PG_TLB_A] = MARK_A;
	*(volatile uint64_t *)(uintptr_t)nx.page[PG_TLB_B] = MARK_B;
	pdpt[0] = nx.page[PG_TLB_PD] | 3;
	pd[0] = nx.page[PG_TLB_PT] | 3;
	tlb_map(PG_TLB_A);
	pml4[2] = nx.page[PG_TLB_PDPT] | 3;
}

static void tlb_teardown(void)
{
	uint64_t *pml4 = (uint64_t *)(uintptr_t)nx.page[PG_L2_PML4];
	pml4[2] = 0;
}

/* L2 loads the qword at TLB_LA; its value, or 0 if L2 did not come back with VMCALL. */
static uint64_t l2_reads(struct nx_exit *e)
{
	nx_l2_gpr[GPR_RAX] = TLB_LA;
	nx_l2_gpr[GPR_RCX] = 0;
	if (!nx_run((uint64_t)(uintptr_t)l2_load, NX_RFLAGS_FIXED, e) ||
	    e->reason != EXIT_REASON_VMCALL)
		return 0;
	return nx_l2_gpr[GPR_RCX];
}

/*
 * L2 reads page A, L1 maps page B instead, then (flush) invalidates as
 * the SDM requires; L2 must read B.  Returns what L2 read second.
 */
static uint64_t remap_and_read(void (*flush)(void), uint64_t *first, struct nx_exit *e)
{
	tlb_map(PG_TLB_A);
	if (flush)
		flush();
	*first = l2_reads(e);
	tlb_map(PG_TLB_B);
	if (flush)
		flush();
	return l2_reads(e);
}

static uint64_t flush_result;
static void flush_single(void)
{
	flush_result = invvpid(TYPE_SINGLE, L1S_VPID, 0);
}
static void flush_address(void)
{
	flush_result = invvpid(TYPE_ADDRESS, L1S_VPID, TLB_LA);
}
static void flush_all(void)
{
	flush_result = invvpid(TYPE_ALL, 0, 0);
}
static void flush_globals(void)
{
	flush_result = invvpid(TYPE_SINGLE_GLOBALS, L1S_VPID, 0);
}

static void tlb_check(const char *what, void (*flush)(void))
{
	struct nx_exit e;
	uint64_t first = 0;
	flush_result = 0;
	uint64_t second = remap_and_read(flush, &first, &e);
	nx_check(first == MARK_A && second == MARK_B && nx_outcome(flush_result) == NX_SUCCEED,
		 what, "read 0x%llx then 0x%llx (want 0x%llx then 0x%llx), INVVPID %s, last %s",
		 (unsigned long long)first, (unsigned long long)second,
		 (unsigned long long)MARK_A, (unsigned long long)MARK_B,
		 nx_result_str(flush_result), nx_exit_str(&e));
}

/* VM entry with "enable VPID": VPID 0 is refused, another runs L2 (27.2.1.1). */
static void entry_checks(uint32_t proc2)
{
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2 | CPU2_ENABLE_VPID);
	vw(VMCS_VIRTUAL_PROCESSOR_ID, 0);
	expect("VM entry with enable VPID and VPID 0 fails 7 (SDM 27.2.1.1)",
	       nx_enter(nx.launched ? NX_RESUME : NX_LAUNCH), VMERR_BAD_CONTROLS);
	vw(VMCS_VIRTUAL_PROCESSOR_ID, L1S_VPID);
	struct nx_exit e;
	nx_run((uint64_t)(uintptr_t)l2_vmcall, NX_RFLAGS_FIXED, &e);
	uint64_t vpid = vr(VMCS_VIRTUAL_PROCESSOR_ID);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && vpid == L1S_VPID,
		 "L2 runs with enable VPID and VPID 0x5a; the field reads back 0x5a", "%s, VPID 0x%llx",
		 nx_exit_str(&e), (unsigned long long)vpid);
	/* L1's VPID may be any value but 0, 1 included (L0's own number for L1). */
	vw(VMCS_VIRTUAL_PROCESSOR_ID, 1);
	nx_run((uint64_t)(uintptr_t)l2_vmcall, NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL, "L2 runs with VPID 1", "%s",
		 nx_exit_str(&e));
	vw(VMCS_VIRTUAL_PROCESSOR_ID, L1S_VPID);
}

void nx_vpid_checks(void)
{
	if (!nx_allowed(NX_PROC2, CPU2_ENABLE_VPID) || !(nx.ept_vpid_cap & VPID_CAP_INVVPID)) {
		nx_say("microhv-nested: note - no VPID or INVVPID in the capability MSRs: the VPID "
		       "checks are left out");
		return;
	}
	type_checks();
	operand_checks();
	uint32_t proc2 = (uint32_t)vr(VMCS_SECONDARY_VM_EXEC_CONTROL);
	tlb_setup();
	/* Without VPID every VM entry invalidates L2's translations (27.3.2.5). */
	tlb_check("without VPID, L2 sees L1's new PTE after the next VM entry", 0);
	entry_checks(proc2);
	/* With VPID, L1's INVVPID of each type invalidates L2's translation. */
	if (nx.ept_vpid_cap & VPID_CAP_TYPE(TYPE_SINGLE))
		tlb_check("with VPID, INVVPID single-context invalidates L2's translation",
			  flush_single);
	if (nx.ept_vpid_cap & VPID_CAP_TYPE(TYPE_ADDRESS))
		tlb_check("with VPID, INVVPID individual-address invalidates L2's translation",
			  flush_address);
	if (nx.ept_vpid_cap & VPID_CAP_TYPE(TYPE_ALL))
		tlb_check("with VPID, INVVPID all-context invalidates L2's translation", flush_all);
	if (nx.ept_vpid_cap & VPID_CAP_TYPE(TYPE_SINGLE_GLOBALS))
		tlb_check("with VPID, INVVPID single-context-retaining-globals invalidates L2's "
			  "non-global translation",
			  flush_globals);
	tlb_teardown();
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vw(VMCS_VIRTUAL_PROCESSOR_ID, 0);
}
