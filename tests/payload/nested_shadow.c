/*
 * nested_shadow.c - group B, VMCS shadowing for L2 (SDM Vol. 3C 25.10,
 * 27.2.1.1, 27.3.1.5, 31.3 VMREAD/VMWRITE in VMX non-root operation), run
 * where the capability MSRs offer "VMCS shadowing", so that bare Bochs
 * (whose CPU serves L2's VMREAD/VMWRITE itself) and L1 under microhv
 * (where L0 serves them) are held to the same checks.
 *
 * L1 prepares a shadow VMCS as hypervisors do (VMCLEAR, VMPTRLD, VMWRITE,
 * VMPTRLD of its own VMCS again), links it with VMREAD/VMWRITE bitmaps
 * whose only bits are GUEST_CS_LIMIT's, and lets L2 VMREAD/VMWRITE.
 */
#include "nested_test.h"

extern char l2_vmcall[], l2_shadow_vmread[], l2_shadow_vmread_mem[], l2_shadow_vmwrite[];

#define SHADOW_BIT 0x80000000u
#define QUAL_LINK_POINTER 4
#define SHADOW_RIP 0x123456789abcull /* what L1 put in the shadow's GUEST_RIP */
#define L2_WRITES 0xfedcba987ull     /* what L2 writes there */
#define EXITING_FIELD VMCS_GUEST_CS_LIMIT
#define UNSUPPORTED_FIELD 0x7ffeu /* no such field; its bitmap bit is 0 */
#define EPT_R 1ull
#define EPT_WB (6ull << 3)
#define OFF_STORE 0x40 /* where in T0 L2's VMREAD stores */
/* EPT-violation qualification (SDM 28.2.1, table 28-7) of a store to an EPT12 read-only page. */
#define Q_STORE_TO_READ_ONLY (2ull | (EPT_R << 3) | (1ull << 7) | (1ull << 8))

static void *pg(enum nx_page p)
{
	return (void *)(uintptr_t)nx.page[p];
}

static bool succeeded(uint64_t r)
{
	return nx_outcome(r) == NX_SUCCEED && !(r & NX_FLAGS_ARITH);
}

/* L2 runs l2_shadow_vmread/_vmwrite with RBX = field, RAX = value; RDX = its RFLAGS after. */
static void l2_access(char *code, uint64_t field, uint64_t value, struct nx_exit *e)
{
	nx_l2_gpr[GPR_RBX] = field;
	nx_l2_gpr[GPR_RAX] = value;
	nx_l2_gpr[GPR_RDX] = ~0ull;
	nx_run((uint64_t)(uintptr_t)code, NX_RFLAGS_FIXED, e);
}

/* The shadow VMCS's GUEST_RIP as L1 reads it after VMPTRLD of the shadow, then back. */
static uint64_t shadow_rip(uint64_t own)
{
	uint64_t v = 0;
	nx_vmptrld(nx.page[PG_SHADOW]);
	nx_vmread(VMCS_GUEST_RIP, &v);
	nx_vmptrld(own);
	return v;
}

static void entry_fails(const char *what)
{
	struct nx_exit e;
	nx_run((uint64_t)(uintptr_t)l2_vmcall, NX_RFLAGS_FIXED, &e);
	uint32_t want = EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE;
	nx_check(!e.entry && e.reason == want && e.qual == QUAL_LINK_POINTER, what,
		 "%s, want reason 0x%x qual 4", nx_exit_str(&e), want);
}

void nx_shadow_checks(void)
{
	if (!nx_allowed(NX_PROC2, CPU2_VMCS_SHADOWING)) {
		nx_say("microhv-nested: note - no VMCS shadowing in the capability MSRs: its "
		       "checks are left out");
		return;
	}
	uint64_t own = 0;
	nx_vmptrst(&own);
	uint32_t proc2 = (uint32_t)vr(VMCS_SECONDARY_VM_EXEC_CONTROL);

	/* The shadow VMCS, prepared by L1. */
	*(volatile uint32_t *)pg(PG_SHADOW) = nx.revision | SHADOW_BIT;
	*(volatile uint32_t *)pg(PG_SHADOW_PLAIN) = nx.revision;
	uint64_t r = nx_vmclear(nx.page[PG_SHADOW]);
	uint64_t p = nx_vmptrld(nx.page[PG_SHADOW]);
	uint64_t w = nx_vmwrite(VMCS_GUEST_RIP, SHADOW_RIP);
	uint64_t l = nx_enter(NX_LAUNCH);
	uint64_t b = nx_vmptrld(own);
	nx_check(succeeded(r) && succeeded(p) && succeeded(w) && succeeded(b),
		 "VMCLEAR, VMPTRLD and VMWRITE of a shadow VMCS (revision bit 31) succeed",
		 "VMCLEAR %s, VMPTRLD %s, VMWRITE %s, VMPTRLD back %s", nx_result_str(r),
		 nx_result_str(p), nx_result_str(w), nx_result_str(b));
	/* SDM 27.1 item 4; Bochs 2.7 goes on to the control checks (VMfailValid 7). */
	if (nx.microhv)
		nx_check(nx_outcome(l) == NX_FAIL_INVALID,
			 "VMLAUNCH of a shadow VMCS fails: VMfailInvalid (SDM 27.1)", "%s",
			 nx_result_str(l));
	else
		nx_say("microhv-nested: note - VMLAUNCH of a shadow VMCS gave %s (SDM 27.1: "
		       "VMfailInvalid; a Bochs deviation), not checked on bare Bochs",
		       nx_result_str(l));

	uint8_t *rbm = pg(PG_VMREAD_BM), *wbm = pg(PG_VMWRITE_BM);
	rbm[(EXITING_FIELD & 0x7fff) / 8] |= (uint8_t)(1u << (EXITING_FIELD & 7));
	wbm[(EXITING_FIELD & 0x7fff) / 8] |= (uint8_t)(1u << (EXITING_FIELD & 7));
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2 | CPU2_VMCS_SHADOWING);
	vw(VMCS_VMREAD_BITMAP, nx.page[PG_VMREAD_BM]);
	vw(VMCS_VMWRITE_BITMAP, nx.page[PG_VMWRITE_BM]);
	vw(VMCS_VMCS_LINK_POINTER, nx.page[PG_SHADOW]);

	struct nx_exit e;
	l2_access(l2_shadow_vmread, VMCS_GUEST_RIP, 0, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_RAX] == SHADOW_RIP &&
		     !(nx_l2_gpr[GPR_RDX] & NX_FLAGS_ARITH),
		 "L2's VMREAD of a field whose VMREAD bit is 0 reads the shadow VMCS",
		 "%s, RAX 0x%llx, RFLAGS 0x%llx", nx_exit_str(&e),
		 (unsigned long long)nx_l2_gpr[GPR_RAX], (unsigned long long)nx_l2_gpr[GPR_RDX]);
	/* SDM 31.3: VMfailValid(12); the number goes into the current VMCS, L1's (31.2). */
	nx_vmwrite(VMCS_VM_INSTRUCTION_ERROR, 0); /* where MISC[29] allows; else stays */
	l2_access(l2_shadow_vmread, UNSUPPORTED_FIELD, 0x77, &e);
	uint64_t err = vr(VMCS_VM_INSTRUCTION_ERROR);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_RAX] == 0x77 &&
		     (nx_l2_gpr[GPR_RDX] & NX_FLAGS_ARITH) == NX_RFLAGS_ZF && err == 12,
		 "L2's VMREAD of an unsupported field: VMfailValid(12), the error in L1's VMCS",
		 "%s, RAX 0x%llx, RFLAGS 0x%llx, VM-instruction error %llu", nx_exit_str(&e),
		 (unsigned long long)nx_l2_gpr[GPR_RAX], (unsigned long long)nx_l2_gpr[GPR_RDX],
		 (unsigned long long)err);
	l2_access(l2_shadow_vmread, EXITING_FIELD, 0, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMREAD,
		 "L2's VMREAD of a field whose VMREAD bit is 1 exits to L1 (reason 23)", "%s",
		 nx_exit_str(&e));
	l2_access(l2_shadow_vmwrite, VMCS_GUEST_RIP, L2_WRITES, &e);
	uint64_t seen = shadow_rip(own);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL &&
		     !(nx_l2_gpr[GPR_RDX] & NX_FLAGS_ARITH) && seen == L2_WRITES,
		 "L2's VMWRITE lands in the shadow VMCS; L1 reads it after VMPTRLD of the shadow",
		 "%s, RFLAGS 0x%llx, shadow GUEST_RIP 0x%llx", nx_exit_str(&e),
		 (unsigned long long)nx_l2_gpr[GPR_RDX], (unsigned long long)seen);
	l2_access(l2_shadow_vmwrite, EXITING_FIELD, 0, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMWRITE,
		 "L2's VMWRITE of a field whose VMWRITE bit is 1 exits to L1 (reason 25)", "%s",
		 nx_exit_str(&e));
	l2_access(l2_shadow_vmread, 0x10000ull | VMCS_GUEST_RIP, 0, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMREAD,
		 "L2's VMREAD with field bits 63:15 not 0 exits to L1", "%s", nx_exit_str(&e));

	/* SDM 27.3.1.5: the linked VMCS's bit 31 must equal "VMCS shadowing". */
	vw(VMCS_VMCS_LINK_POINTER, nx.page[PG_SHADOW_PLAIN]);
	entry_fails("VM entry with shadowing, linked to an ordinary VMCS: invalid guest state, "
		    "qualification 4");
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vw(VMCS_VMCS_LINK_POINTER, nx.page[PG_SHADOW]);
	entry_fails("VM entry without shadowing, linked to a shadow VMCS: invalid guest state, "
		    "qualification 4");

	vw(VMCS_VMCS_LINK_POINTER, ~0ull);
	l2_access(l2_vmcall, 0, 0, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL, "then, link pointer ~0 again, L2 runs",
		 "%s", nx_exit_str(&e));
}

/*
 * Under EPT12, L2's VMREAD that the shadow serves stores into a page
 * EPT12 maps read-only: L1's EPT violation (reason 48), a data write with
 * rights R at the store's addresses, RIP at the VMREAD; after L1 grants
 * the write, L2 resumes and the VMREAD completes (SDM 31.3 VMREAD, 28.2.1).
 */
void nx_shadow_store_under_ept12(void)
{
	if (!nx_allowed(NX_PROC2, CPU2_VMCS_SHADOWING)) {
		nx_say("microhv-nested: note - no VMCS shadowing: L2's VMREAD under EPT12 is left "
		       "out");
		return;
	}
	uint64_t own = 0;
	nx_vmptrst(&own);
	uint64_t shadow_value = shadow_rip(own);
	nx_ept_on(false);
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL,
	   (uint32_t)vr(VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_VMCS_SHADOWING);
	vw(VMCS_VMREAD_BITMAP, nx.page[PG_VMREAD_BM]);
	vw(VMCS_VMWRITE_BITMAP, nx.page[PG_VMWRITE_BM]);
	vw(VMCS_VMCS_LINK_POINTER, nx.page[PG_SHADOW]);
	uint64_t t0 = nx.page[PG_EPT_T0], la = t0 + OFF_STORE;
	uint64_t *leaf = nx_ept_leaf(t0);
	*(volatile uint64_t *)(uintptr_t)la = 0;
	*leaf = t0 | EPT_R | EPT_WB;
	nx_ept_flush();
	struct nx_exit e, f;
	nx_l2_gpr[GPR_RCX] = la;
	l2_access(l2_shadow_vmread_mem, VMCS_GUEST_RIP, 0, &e);
	bool exited = !e.entry && e.reason == EXIT_REASON_EPT_VIOLATION;
	uint64_t gpa = exited ? vr(VMCS_GUEST_PHYSICAL_ADDRESS) : 0;
	uint64_t gla = exited ? vr(VMCS_GUEST_LINEAR_ADDRESS) : 0;
	nx_check(exited && e.qual == Q_STORE_TO_READ_ONLY &&
		     e.rip == (uint64_t)(uintptr_t)l2_shadow_vmread_mem && gpa == la && gla == la,
		 "L2's shadow-served VMREAD stores to an EPT12 read-only page: L1's EPT violation",
		 "%s, GPA 0x%llx GLA 0x%llx, want 48 qual 0x%llx at 0x%llx", nx_exit_str(&e),
		 (unsigned long long)gpa, (unsigned long long)gla,
		 (unsigned long long)Q_STORE_TO_READ_ONLY, (unsigned long long)la);
	*leaf = t0 | EPT_RWX | EPT_WB;
	nx_ept_flush();
	bool resumed = exited && nx_resume(&f) && f.reason == EXIT_REASON_VMCALL;
	uint64_t stored = *(volatile uint64_t *)(uintptr_t)la;
	nx_check(resumed && stored == shadow_value,
		 "... after L1 grants the write, L2's VMREAD completes into memory",
		 "%s, stored 0x%llx, want 0x%llx", resumed ? "VMCALL" : nx_exit_str(&f),
		 (unsigned long long)stored, (unsigned long long)shadow_value);
	vw(VMCS_VMCS_LINK_POINTER, ~0ull);
}
