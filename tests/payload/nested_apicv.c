/*
 * nested_apicv.c - group D, part 4: "virtualize APIC accesses" and
 * "virtualize x2APIC mode" as L2 meets them (SDM Vol. 3C 29.4, 29.5), with
 * their VM-entry checks (27.2.1.1).
 *
 * The APIC-access page is an ordinary page of L1's (PG_APIC_ACCESS), as
 * KVM uses one.  Without APIC-register virtualization and virtual-
 * interrupt delivery (microhv offers neither), a dword access to it exits
 * (44, qualification: the page offset in 11:0, the access type in 15:12,
 * table 28-6) except one at offset 80H under "use TPR shadow", which the
 * CPU virtualizes to VTPR on the virtual-APIC page (29.4.2, 29.4.3: a
 * write clears VTPR's bytes 3:1 and then does TPR virtualization, 29.1.2,
 * which may exit with "TPR below threshold", 43, after the instruction).
 * Under L1's EPT (after nested_ept.c built EPT12) an L2 page whose EPT12
 * leaf names the APIC-access page exits the same way.  With "virtualize
 * x2APIC mode", RDMSR and WRMSR of 808H that L1's MSR bitmap lets through
 * read and write the 8 bytes at 80H of the virtual-APIC page (29.5); a
 * WRMSR with bits 63:8 set is #GP(0).
 *
 * Each check runs only where the capability MSRs offer its controls, so
 * the bare run and the run under microhv agree; the checks of microhv's
 * own rule (an APIC-access page that is L0's memory or L1's xAPIC page:
 * VMfailValid 7, nested/apic_virt.h) run under microhv only.
 */
#include "nested_test.h"

#define L2(sym) ((uint64_t)(uintptr_t)(sym))
extern char l2_vmcall[], l2_apic_read[], l2_apic_write[], l2_msr_read[], l2_msr_write[];

#define VAPIC_VTPR 0x80
#define LEN_APIC_WRITE 3 /* 89 04 33: mov [rbx + rsi], eax */
#define LEN_MSR 2	 /* 0F 32 / 0F 30 */
#define MSR_X2APIC_TPR 0x808u
#define R8_POISON 0xbadbadull
#define PATTERN 0x5a5a5a5au

/* Table 28-6: bits 15:12 of the qualification. */
#define ACC_LINEAR_READ 0u
#define ACC_LINEAR_WRITE 1u
#define QUAL(type, offset) (((uint64_t)(type) << 12) | (offset))

#define EPT_WB (6ull << 3)

static bool offered(enum nx_ctl c, uint32_t bits, const char *what)
{
	if (nx_allowed(c, bits))
		return true;
	nx_say("microhv-nested: note - %s: skipped, the capability MSRs do not offer 0x%x", what,
	       bits);
	return false;
}

static volatile uint32_t *vapic32(unsigned offset)
{
	return (volatile uint32_t *)(uintptr_t)(nx.page[PG_VAPIC] + offset);
}

static volatile uint32_t *aa32(unsigned offset)
{
	return (volatile uint32_t *)(uintptr_t)(nx.page[PG_APIC_ACCESS] + offset);
}

/*
 * Controls as nx_reset_l2 leaves them plus proc and proc2; the virtual-APIC
 * page (VTPR dword vtpr, the dword at 84H hi) and threshold with "use TPR
 * shadow"; the APIC-access address aa with "virtualize APIC accesses".
 */
static void setup(uint32_t proc, uint32_t proc2, uint64_t aa, uint32_t vtpr, uint32_t hi,
		  uint32_t threshold)
{
	nx_reset_l2();
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, vr(VMCS_CPU_BASED_VM_EXEC_CONTROL) | proc);
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, vr(VMCS_SECONDARY_VM_EXEC_CONTROL) | proc2);
	*vapic32(VAPIC_VTPR) = vtpr;
	*vapic32(VAPIC_VTPR + 4) = hi;
	vw(VMCS_VIRTUAL_APIC_PAGE_ADDR, nx.page[PG_VAPIC]);
	vw(VMCS_TPR_THRESHOLD, threshold);
	vw(VMCS_APIC_ACCESS_ADDR, aa);
	nx_l2_gpr[GPR_R8] = R8_POISON;
}

/* L2 reads (write: writes EAX = value) the dword at offset of the page at base. */
static void l2_dword(bool write, uint64_t base, unsigned offset, uint32_t value,
		     struct nx_exit *e)
{
	nx_l2_gpr[GPR_RBX] = base;
	nx_l2_gpr[GPR_RSI] = offset;
	nx_l2_gpr[GPR_RAX] = value;
	nx_run(write ? L2(l2_apic_write) : L2(l2_apic_read), NX_RFLAGS_FIXED, e);
}

static void entry_fails(const char *what, uint32_t proc, uint32_t proc2, uint64_t aa)
{
	struct nx_exit e;
	setup(proc, proc2, aa, 0, 0, 0);
	nx_run(L2(l2_vmcall), NX_RFLAGS_FIXED, &e);
	uint64_t err = e.entry && nx_outcome(e.entry) == NX_FAIL_VALID
			       ? vr(VMCS_VM_INSTRUCTION_ERROR)
			       : 0;
	nx_check(err == 7, what, "%s; error %llu, want VMfailValid 7", nx_exit_str(&e),
		 (unsigned long long)err);
}

/* SDM 27.2.1.1, and microhv's own rule on the page. */
static void entry_checks(bool tpr, bool x2)
{
	const uint64_t aa = nx.page[PG_APIC_ACCESS];
	const uint32_t va = CPU2_VIRTUALIZE_APIC_ACCESSES;
	entry_fails("entry with an APIC-access address with bit 11 set fails (VMfailValid 7)", 0,
		    va, aa | 0x800);
	if (x2) {
		entry_fails("entry with virtualize x2APIC mode without use TPR shadow fails "
			    "(VMfailValid 7)",
			    0, CPU2_VIRTUALIZE_X2APIC, aa);
		if (tpr)
			entry_fails("entry with virtualize x2APIC mode and virtualize APIC "
				    "accesses fails (VMfailValid 7)",
				    CPU_USE_TPR_SHADOW, CPU2_VIRTUALIZE_X2APIC | va, aa);
	}
	if (!nx.microhv)
		return;
	if (nx.l0_base)
		entry_fails("under microhv: entry with the APIC-access page in L0's memory fails "
			    "(VMfailValid 7, L0's refusal)",
			    0, va, nx.l0_base & ~0xfffull);
	uint64_t base = 0;
	nx_rdmsr(MSR_IA32_APIC_BASE, &base);
	if ((base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) == APIC_BASE_ENABLE)
		entry_fails("under microhv: entry with the APIC-access page at L1's xAPIC page "
			    "fails (VMfailValid 7, L0's refusal: EPT01 write-protects it)",
			    0, va, base & APIC_BASE_ADDR_MASK);
	else
		nx_say("microhv-nested: note - L1's APIC is not in xAPIC mode: the check of an "
		       "APIC-access page at it is left out");
}

/* An APIC-access exit of L2's dword access (fault-like: RIP at the instruction). */
static void access_exits(const char *what, bool write, uint64_t base, unsigned offset,
			 uint64_t want_qual)
{
	struct nx_exit e;
	*aa32(offset) = PATTERN;
	l2_dword(write, base, offset, 0x12345678u, &e);
	uint64_t rip = write ? L2(l2_apic_write) : L2(l2_apic_read);
	bool untouched = *aa32(offset) == PATTERN && nx_l2_gpr[GPR_R8] == R8_POISON;
	nx_check(!e.entry && e.reason == EXIT_REASON_APIC_ACCESS && e.qual == want_qual &&
			 e.rip == rip && untouched,
		 what, "%s; want reason 44 qual 0x%llx rip 0x%llx; page 0x%x R8 0x%llx",
		 nx_exit_str(&e), (unsigned long long)want_qual, (unsigned long long)rip,
		 *aa32(offset), (unsigned long long)nx_l2_gpr[GPR_R8]);
}

/* 29.4: without TPR shadow every access to the page exits. */
static void apic_access_checks(void)
{
	const uint64_t aa = nx.page[PG_APIC_ACCESS];
	setup(0, CPU2_VIRTUALIZE_APIC_ACCESSES, aa, 0, 0, 0);
	access_exits("L2's dword read at APIC-access page offset 20H exits (44), qualification "
		     "0x20: linear read, offset 20H",
		     false, aa, 0x20, QUAL(ACC_LINEAR_READ, 0x20));
	setup(0, CPU2_VIRTUALIZE_APIC_ACCESSES, aa, 0, 0, 0);
	access_exits("L2's dword write at APIC-access page offset 300H exits (44), qualification "
		     "0x1300: linear write, offset 300H; the page is not written",
		     true, aa, 0x300, QUAL(ACC_LINEAR_WRITE, 0x300));
	setup(0, CPU2_VIRTUALIZE_APIC_ACCESSES, aa, 0, 0, 0);
	access_exits("without TPR shadow L2's read at offset 80H exits too (44, qualification "
		     "0x80)",
		     false, aa, VAPIC_VTPR, QUAL(ACC_LINEAR_READ, VAPIC_VTPR));
}

/* 29.4.2, 29.4.3, 29.1.2: offset 80H with TPR shadow is VTPR. */
static void tpr_checks(void)
{
	const uint64_t aa = nx.page[PG_APIC_ACCESS];
	const uint32_t va = CPU2_VIRTUALIZE_APIC_ACCESSES;
	struct nx_exit e, n = {0};

	setup(CPU_USE_TPR_SHADOW, va, aa, 0x3322119cu, 0, 0);
	*aa32(VAPIC_VTPR) = PATTERN;
	l2_dword(false, aa, VAPIC_VTPR, 0, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_R8] == 0x3322119cu,
		 "with TPR shadow L2's dword read at APIC-access offset 80H reads the "
		 "virtual-APIC page's 80H (0x3322119c), no exit",
		 "%s R8 0x%llx", nx_exit_str(&e), (unsigned long long)nx_l2_gpr[GPR_R8]);

	setup(CPU_USE_TPR_SHADOW, va, aa, 0x50, 0, 0);
	access_exits("with TPR shadow L2's read at offset 20H still exits (44, qualification "
		     "0x20): only VTPR is virtualized",
		     false, aa, 0x20, QUAL(ACC_LINEAR_READ, 0x20));

	setup(CPU_USE_TPR_SHADOW, va, aa, 0xffffff50u, 0, 4);
	*aa32(VAPIC_VTPR) = PATTERN;
	l2_dword(true, aa, VAPIC_VTPR, 0x7f, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL &&
			 e.rip == L2(l2_apic_write) + LEN_APIC_WRITE &&
			 *vapic32(VAPIC_VTPR) == 0x7f && *aa32(VAPIC_VTPR) == PATTERN,
		 "with TPR shadow L2's write of 0x7f at offset 80H sets VTPR (dword 0x7f, bytes "
		 "81H-83H cleared), at or above the threshold (4): no exit",
		 "%s VTPR dword 0x%x, APIC-access page 0x%x", nx_exit_str(&e),
		 *vapic32(VAPIC_VTPR), *aa32(VAPIC_VTPR));

	setup(CPU_USE_TPR_SHADOW, va, aa, 0x50, 0, 4);
	l2_dword(true, aa, VAPIC_VTPR, 0x20, &e);
	bool ok = !e.entry && e.reason == EXIT_REASON_TPR_BELOW_THRESHOLD && e.qual == 0 &&
		  e.rip == L2(l2_apic_write) + LEN_APIC_WRITE && *vapic32(VAPIC_VTPR) == 0x20;
	nx_check(ok,
		 "L2's write of 0x20 at offset 80H below the threshold (4) exits (43) after the "
		 "instruction, VTPR 0x20",
		 "%s VTPR dword 0x%x", nx_exit_str(&e), *vapic32(VAPIC_VTPR));
	if (ok) {
		vw(VMCS_TPR_THRESHOLD, 0);
		nx_resume(&n);
	}
	nx_check(ok && !n.entry && n.reason == EXIT_REASON_VMCALL,
		 "after the TPR-below-threshold exit L2 resumes at its VMCALL", "%s",
		 ok ? nx_exit_str(&n) : "-");
}

/* Under L1's EPT: an L2 page that EPT12 maps to the APIC-access page. */
static void ept_checks(void)
{
	uint64_t need = EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_INVEPT;
	if (!nx_allowed(NX_PROC2, CPU2_ENABLE_EPT) || (nx.ept_vpid_cap & need) != need) {
		nx_say("microhv-nested: note - no EPT in the capability MSRs: the APIC-access "
		       "check under EPT12 is left out");
		return;
	}
	const uint64_t aa = nx.page[PG_APIC_ACCESS], t0 = nx.page[PG_EPT_T0];
	uint64_t *leaf = nx_ept_leaf(t0), keep = *leaf;
	*leaf = aa | EPT_RWX | EPT_WB;
	nx_ept_flush();
	nx_ept_on(false);
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL,
	   vr(VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_VIRTUALIZE_APIC_ACCESSES);
	vw(VMCS_APIC_ACCESS_ADDR, aa);
	nx_l2_gpr[GPR_R8] = R8_POISON;
	access_exits("under EPT12: L2's read of a page whose EPT12 leaf is the APIC-access page "
		     "exits (44), qualification 0x40: linear read, offset 40H",
		     false, t0, 0x40, QUAL(ACC_LINEAR_READ, 0x40));
	*leaf = keep;
	nx_ept_flush();
	nx_reset_l2();
}

/* 29.5: RDMSR/WRMSR of 808H to the virtual-APIC page. */
static void x2apic_checks(void)
{
	const uint32_t x2 = CPU2_VIRTUALIZE_X2APIC;
	struct nx_exit e;

	setup(CPU_USE_TPR_SHADOW, x2, 0, 0x9c, 0x44332211u, 0);
	nx_l2_gpr[GPR_RCX] = MSR_X2APIC_TPR;
	nx_run(L2(l2_msr_read), NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_RAX] == 0x9c &&
			 nx_l2_gpr[GPR_RDX] == 0x44332211u,
		 "virtualize x2APIC mode: L2's RDMSR 808H reads the virtual-APIC page's 8 bytes "
		 "at 80H (EAX 0x9c, EDX 0x44332211), no exit",
		 "%s RAX 0x%llx RDX 0x%llx", nx_exit_str(&e),
		 (unsigned long long)nx_l2_gpr[GPR_RAX], (unsigned long long)nx_l2_gpr[GPR_RDX]);

	setup(CPU_USE_TPR_SHADOW, x2, 0, 0xffffff9cu, 0xffffffffu, 3);
	nx_l2_gpr[GPR_RCX] = MSR_X2APIC_TPR;
	nx_l2_gpr[GPR_RAX] = 0x60;
	nx_run(L2(l2_msr_write), NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL &&
			 *vapic32(VAPIC_VTPR) == 0x60 && *vapic32(VAPIC_VTPR + 4) == 0,
		 "virtualize x2APIC mode: L2's WRMSR 808H of 0x60 writes the 8 bytes at 80H "
		 "(0x60, 0), at or above the threshold: no exit",
		 "%s VTPR 0x%x, 84H 0x%x", nx_exit_str(&e), *vapic32(VAPIC_VTPR),
		 *vapic32(VAPIC_VTPR + 4));

	setup(CPU_USE_TPR_SHADOW, x2, 0, 0x50, 0, 3);
	nx_l2_gpr[GPR_RCX] = MSR_X2APIC_TPR;
	nx_l2_gpr[GPR_RAX] = 0x20;
	nx_run(L2(l2_msr_write), NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_TPR_BELOW_THRESHOLD &&
			 e.rip == L2(l2_msr_write) + LEN_MSR && *vapic32(VAPIC_VTPR) == 0x20,
		 "virtualize x2APIC mode: WRMSR 808H of 0x20 below the threshold (3) exits (43) "
		 "after the instruction",
		 "%s VTPR 0x%x", nx_exit_str(&e), *vapic32(VAPIC_VTPR));

	setup(CPU_USE_TPR_SHADOW, x2, 0, 0x50, 0, 0);
	nx_l2_gpr[GPR_RCX] = MSR_X2APIC_TPR;
	nx_l2_gpr[GPR_RAX] = 0x100;
	nx_run(L2(l2_msr_write), NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_EXCEPTION_NMI &&
			 (e.intr_info & 0xff) == VEC_GP && e.rip == L2(l2_msr_write) &&
			 *vapic32(VAPIC_VTPR) == 0x50,
		 "virtualize x2APIC mode: WRMSR 808H with bit 8 set is #GP(0) (L1's exception "
		 "exit), VTPR untouched",
		 "%s intr 0x%x VTPR 0x%x", nx_exit_str(&e), e.intr_info, *vapic32(VAPIC_VTPR));

	/* L1's MSR bitmap still decides: a read of 808H it intercepts exits (31). */
	setup(CPU_USE_TPR_SHADOW, x2, 0, 0x9c, 0, 0);
	uint8_t *bm = (uint8_t *)(uintptr_t)nx.page[PG_MSR_BITMAP];
	bm[MSR_X2APIC_TPR / 8] |= 1u << (MSR_X2APIC_TPR % 8);
	nx_l2_gpr[GPR_RCX] = MSR_X2APIC_TPR;
	nx_run(L2(l2_msr_read), NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_MSR_READ && e.rip == L2(l2_msr_read),
		 "virtualize x2APIC mode: RDMSR 808H that L1's MSR bitmap intercepts exits (31)",
		 "%s", nx_exit_str(&e));
	nx_reset_l2();
}

void nx_group_apicv(void)
{
	nx_say("microhv-nested: group D - APIC-access page and x2APIC virtualization (SDM Vol. "
	       "3C 29.4, 29.5, 27.2.1.1)");
	if (!offered(NX_PROC2, CPU2_VIRTUALIZE_APIC_ACCESSES, "virtualize APIC accesses"))
		return;
	uint64_t r = nx_vmcs_init(PG_VMCS_A);
	if (nx_outcome(r) != NX_SUCCEED) {
		nx_check(false, "VMPTRLD of the VMCS for group D, part 4", "%s", nx_result_str(r));
		return;
	}
	bool tpr = nx_allowed(NX_PROC, CPU_USE_TPR_SHADOW);
	bool x2 = nx_allowed(NX_PROC2, CPU2_VIRTUALIZE_X2APIC);
	for (unsigned i = 0; i < 0x1000; i += 4)
		*aa32(i) = 0;
	entry_checks(tpr, x2);
	apic_access_checks();
	if (offered(NX_PROC, CPU_USE_TPR_SHADOW, "use TPR shadow"))
		tpr_checks();
	ept_checks();
	if (tpr && offered(NX_PROC2, CPU2_VIRTUALIZE_X2APIC, "virtualize x2APIC mode"))
		x2apic_checks();
}
