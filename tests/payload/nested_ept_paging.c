/*
 * nested_ept_paging.c - group D, nested EPT: L2's own paging, event
 * delivery, and the finer points of EPT12's entries and roots.  With
 * "enable EPT" a PAE-paging L2's PDPTEs live in the guest PDPTE fields:
 * VM entry checks them there and loads them from there, not from the
 * table at CR3 (SDM Vol. 3C 27.3.1.6, 27.3.2.4), and VM exit saves the
 * PDPTEs L2 loaded itself back into them (28.3.4).  Under an A/D EPTP,
 * L2's accesses to its own paging structures are writes: they set the
 * dirty flag of the EPT12 leaf that maps them (29.3.5).  An EPT
 * violation while an event is delivered records it in the IDT-vectoring
 * information (28.2.4).  Besides: ignored bits, misconfiguration before
 * rights, not-present entries, a violation invalidating its address
 * (29.4.3.1), two EPT12 roots, A/D of a 1-GiB leaf.  EPT12 is
 * nested_ept.c's.
 */
#include "nested_test.h"

extern char l2_32[], l2_32_cpuid[], l2_32_cr3[], l2_load[], l2_ud[], l2_vmcall[], l2_pf_write[];

#define L2_MAGIC 0x2badb003u
#define PDPTE_RSVD_1 (1ull << 1) /* PAE PDPTE bits 2:1 are reserved */
#define PDPTE_PWT (1ull << 3)
#define EPT_A (1ull << 8)
#define EPT_D (1ull << 9)
#define Q_READ_LINEAR 0x181ull
#define EPT_WB (6ull << 3)
#define EPT_PS (1ull << 7)
#define EPT_ADDR 0x000ffffffffff000ull
#define EPTP_WB_WALK4 0x1eull
#define HI_GPA 0x100000000ull /* L2's linear 4-5 GiB = guest-physical (nested_ept.c) */
#define SIZE_2M 0x200000ull
#define GPA_512G 0x8000000000ull /* EPT12 PML4 entry 1 */
#define MARK_1 0x1111eeee1111eeeeull /* T1's, nested_ept.c */
#define MARK_W 0x5757575757575757ull
#define SIZE_1G 0x40000000ull

static uint64_t *tab(enum nx_page p)
{
	return (uint64_t *)(uintptr_t)nx.page[p];
}

/* L2 loads the qword at la: the value, or 0 with e the exit if not VMCALL. */
static uint64_t l2_reads(uint64_t la, struct nx_exit *e)
{
	nx_l2_gpr[GPR_RAX] = la;
	nx_l2_gpr[GPR_RCX] = 0;
	if (!nx_run((uint64_t)(uintptr_t)l2_load, NX_RFLAGS_FIXED, e) ||
	    e->reason != EXIT_REASON_VMCALL)
		return 0;
	return nx_l2_gpr[GPR_RCX];
}

/*
 * Bits an EPT entry ignores (29.3.2, tables 29-5 and 29-6: bit 7 and 11
 * of a PTE, 11 of a PDE, 52 and 62 of both; 63 without EPT-violation #VE)
 * change nothing.
 */
static void ignored_check(void)
{
	struct nx_exit e;
	uint64_t t1 = nx.page[PG_EPT_T1], *l = nx_ept_leaf(t1);
	uint64_t pt = (uint64_t)(uintptr_t)l & ~0xfffull, ign = (1ull << 11) | (1ull << 52) | (1ull << 62);
	uint64_t *pde = &tab(PG_EPT_PD0 + (unsigned)(t1 >> 30))[(t1 >> 21) & 511];
	nx_ept_on(false);
	*l = t1 | EPT_RWX | EPT_WB | EPT_PS | ign | (1ull << 63);
	*pde = pt | EPT_RWX | ign;
	nx_ept_flush();
	uint64_t v = l2_reads(t1, &e);
	nx_check(v == MARK_1, "EPT12 entries with ignored bits set translate as without them",
		 "read 0x%llx, want 0x%llx, %s, PTE 0x%llx PDE 0x%llx", (unsigned long long)v,
		 (unsigned long long)MARK_1, nx_exit_str(&e), (unsigned long long)*l,
		 (unsigned long long)*pde);
	*l = t1 | EPT_RWX | EPT_WB;
	*pde = pt | EPT_RWX;
	nx_ept_flush();
}

/*
 * Two EPT12 roots (24.6.11: the EPTP names the one in use; cached
 * mappings are per EP4TA, 29.4): root B maps guest-physical 512 GiB to
 * T1's 2-MiB region, root A has nothing there.  L1 switches vmcs12's EPTP
 * between them without INVEPT; L2's read there follows the root in use.
 */
static void roots_check(void)
{
	struct nx_exit e;
	uint64_t *a = tab(PG_EPT_PML4), *b = tab(PG_EPT_PML4_B), *pdpt_b = tab(PG_EPT_PDPT_B);
	uint64_t *pd = tab(PG_EPT_PD_HI), *l2_pd = tab(PG_L2_PD_HI), t1 = nx.page[PG_EPT_T1];
	for (unsigned i = 0; i < 512; i++)
		b[i] = pdpt_b[i] = 0;
	b[0] = a[0];
	b[1] = nx.page[PG_EPT_PDPT_B] | EPT_RWX;
	pdpt_b[0] = nx.page[PG_EPT_PD_HI] | EPT_RWX;
	pd[0] = (t1 & ~(SIZE_2M - 1)) | EPT_RWX | EPT_WB | EPT_PS;
	l2_pd[5] = GPA_512G | 0x83; /* L2: linear HI_GPA + 10 MiB -> 512 GiB */
	uint64_t la = HI_GPA + 5 * SIZE_2M + (t1 & (SIZE_2M - 1));
	uint64_t root_b = nx.page[PG_EPT_PML4_B] | EPTP_WB_WALK4;
	nx_ept_on(false);
	uint64_t root_a = vr(VMCS_EPT_POINTER);
	uint64_t desc[2] = {0, 0};
	nx_invept(2, desc);
	uint64_t v[3];
	uint32_t r[3];
	for (unsigned i = 0; i < 3; i++) {
		vw(VMCS_EPT_POINTER, i == 1 ? root_b : root_a);
		v[i] = l2_reads(la, &e);
		r[i] = e.reason;
	}
	nx_check(r[0] == EXIT_REASON_EPT_VIOLATION && v[1] == MARK_1 &&
		     r[2] == EXIT_REASON_EPT_VIOLATION,
		 "L1 switches between two EPT12 roots: L2's access follows the EPTP in use",
		 "root A: reason %u, root B: read 0x%llx (want 0x%llx), root A again: reason %u "
		 "(want 48, the read, 48)",
		 r[0], (unsigned long long)v[1], (unsigned long long)MARK_1, r[2]);
	l2_pd[5] = (HI_GPA + 5 * SIZE_2M) | 0x83;
	pd[0] = 0;
	nx_invept(2, desc);
}

/*
 * An EPT violation invalidates the mappings of its guest-physical address
 * (29.4.3.1): L2 reads T1 through a read-only leaf, its write exits, and
 * the RWX L1 then writes into the leaf, without INVEPT, lets it complete.
 */
static void after_violation_check(void)
{
	struct nx_exit e, f = {0};
	uint64_t t1 = nx.page[PG_EPT_T1], *l = nx_ept_leaf(t1);
	volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)(t1 + 16);
	nx_ept_on(false);
	*l = t1 | EPT_READ | EPT_WB;
	*w = 0;
	nx_ept_flush();
	uint64_t v = l2_reads(t1, &e);
	nx_l2_gpr[GPR_RAX] = t1 + 16;
	nx_l2_gpr[GPR_RBX] = MARK_W;
	nx_run((uint64_t)(uintptr_t)l2_pf_write, NX_RFLAGS_FIXED, &e);
	bool exited = !e.entry && e.reason == EXIT_REASON_EPT_VIOLATION;
	*l = t1 | EPT_RWX | EPT_WB;
	if (exited)
		nx_resume(&f);
	nx_check(v == MARK_1 && exited && f.reason == EXIT_REASON_VMCALL && *w == MARK_W,
		 "after L2's write violation, L1's RWX leaf takes effect without INVEPT",
		 "read 0x%llx, write %s, then %s, memory 0x%llx (want 0x%llx)",
		 (unsigned long long)v, nx_exit_str(&e), nx_exit_str(&f), (unsigned long long)*w,
		 (unsigned long long)MARK_W);
	*w = 0;
	nx_ept_flush();
}

/* A/D through a 1-GiB leaf (EPT12's PDPT entry 4): L2's write sets its A and D. */
static void ad_1g_check(void)
{
	struct nx_exit e;
	uint64_t t2 = nx.page[PG_EPT_T2], *pdpte = &tab(PG_EPT_PDPT)[4];
	nx_ept_on(true);
	*pdpte = (t2 & ~(SIZE_1G - 1)) | EPT_RWX | EPT_WB | EPT_PS;
	nx_ept_flush();
	nx_l2_gpr[GPR_RAX] = HI_GPA + (t2 & (SIZE_1G - 1)) + 16;
	nx_l2_gpr[GPR_RBX] = MARK_W;
	nx_run((uint64_t)(uintptr_t)l2_pf_write, NX_RFLAGS_FIXED, &e);
	nx_check(e.reason == EXIT_REASON_VMCALL && (*pdpte & (EPT_A | EPT_D)) == (EPT_A | EPT_D),
		 "A/D EPTP: L2's write through a 1-GiB EPT12 leaf sets its A and D",
		 "%s, leaf 0x%llx", nx_exit_str(&e), (unsigned long long)*pdpte);
	*pdpte = 0;
	nx_ept_flush();
}

/*
 * L2 reads T1 through a leaf of the given bits: the exit reason and
 * (violations) qualification the SDM gives.  A present entry is checked
 * for misconfiguration before its rights (29.3.3.1 before 29.3.3.2); a
 * not-present one (bits 2:0 = 0) ignores every other bit (29.3.2).
 */
static void leaf_exit(const char *what, uint64_t bits, uint32_t reason, uint64_t qual)
{
	struct nx_exit e;
	uint64_t t1 = nx.page[PG_EPT_T1], *l = nx_ept_leaf(t1);
	nx_ept_on(false);
	*l = t1 | bits;
	nx_ept_flush();
	nx_l2_gpr[GPR_RAX] = t1;
	nx_run((uint64_t)(uintptr_t)l2_load, NX_RFLAGS_FIXED, &e);
	uint64_t gpa = !e.entry ? vr(VMCS_GUEST_PHYSICAL_ADDRESS) : 0;
	nx_check(!e.entry && e.reason == reason && gpa == t1 &&
		     (reason != EXIT_REASON_EPT_VIOLATION || e.qual == qual),
		 what, "%s GPA 0x%llx, want reason %u qual 0x%llx GPA 0x%llx", nx_exit_str(&e),
		 (unsigned long long)gpa, reason, (unsigned long long)qual,
		 (unsigned long long)t1);
	*l = t1 | EPT_RWX | EPT_WB;
	nx_ept_flush();
}

static void order_checks(void)
{
	if (nx.ept_vpid_cap & EPT_CAP_EXECUTE_ONLY)
		leaf_exit("EPT misconfiguration before violation: a read of an execute-only leaf "
			  "of memory type 2",
			  EPT_EXEC | (2ull << 3), EXIT_REASON_EPT_MISCONFIG, 0);
	leaf_exit("EPT misconfiguration: a leaf of memory type 7", EPT_RWX | (7ull << 3),
		  EXIT_REASON_EPT_MISCONFIG, 0);
	leaf_exit("EPT violation, not misconfiguration: a not-present leaf with memory type 2 "
		  "and a bit beyond MAXPHYADDR",
		  (2ull << 3) | (1ull << nx.maxphyaddr), EXIT_REASON_EPT_VIOLATION, Q_READ_LINEAR);
}

static void pdpte_fields(const uint64_t *v)
{
	for (unsigned i = 0; i < 4; i++)
		vw(VMCS_GUEST_PDPTE0 + 2 * i, v[i]);
}

static void pae_checks(void)
{
	struct nx_exit e;
	const uint64_t *pae = tab(PG_L2_PAE_PDPT);
	nx_ept_on(false);
	/* CR3 names a zeroed page: PDPTEs read from there would be absent. */
	nx_guest32_pae(nx.page[PG_ZERO]);
	pdpte_fields(pae);
	*(volatile uint32_t *)(uintptr_t)nx.page[PG_SCRATCH] = L2_MAGIC;
	nx_l2_gpr[GPR_RSI] = 0;
	nx_run((uint64_t)(uintptr_t)l2_32, NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_CPUID &&
		     e.rip == (uint64_t)(uintptr_t)l2_32_cpuid &&
		     (uint32_t)nx_l2_gpr[GPR_RSI] == L2_MAGIC,
		 "EPT, PAE L2: VM entry loads the PDPTEs from the guest PDPTE fields, not from CR3",
		 "%s rsi 0x%llx, want reason 10 and 0x%x (CR3 is a zero page)", nx_exit_str(&e),
		 (unsigned long long)nx_l2_gpr[GPR_RSI], L2_MAGIC);

	uint64_t bad[4] = {pae[0] | PDPTE_RSVD_1, pae[1], pae[2], pae[3]};
	pdpte_fields(bad);
	nx_run((uint64_t)(uintptr_t)l2_32, NX_RFLAGS_FIXED, &e);
	uint32_t want = EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE;
	nx_check(!e.entry && e.reason == want && e.qual == 2,
		 "EPT, PAE L2: a reserved bit in the PDPTE0 field fails entry, qualification 2",
		 "%s, want reason 0x%x qual 0x2 (SDM 27.3.1.6, 27.8)", nx_exit_str(&e), want);

	/* L2 loads other PDPTEs (through EPT12) with MOV CR3: the exit saves them. */
	uint64_t *np = tab(PG_EPT_PAE_PDPT), got[4];
	for (unsigned i = 0; i < 4; i++)
		np[i] = pae[i] | PDPTE_PWT;
	pdpte_fields(pae);
	nx_l2_gpr[GPR_RAX] = nx.page[PG_EPT_PAE_PDPT];
	nx_run((uint64_t)(uintptr_t)l2_32_cr3, NX_RFLAGS_FIXED, &e);
	bool same = !e.entry && e.reason == EXIT_REASON_VMCALL;
	for (unsigned i = 0; i < 4; i++) {
		got[i] = same ? vr(VMCS_GUEST_PDPTE0 + 2 * i) : 0;
		same = same && got[i] == np[i];
	}
	uint64_t cr3 = vr(VMCS_GUEST_CR3);
	nx_check(same && cr3 == nx.page[PG_EPT_PAE_PDPT],
		 "EPT, PAE L2: after L2's MOV to CR3 the VM exit saves its new PDPTEs in the fields",
		 "%s, PDPTEs 0x%llx 0x%llx 0x%llx 0x%llx CR3 0x%llx, want 0x%llx ... (PWT set)",
		 nx_exit_str(&e), (unsigned long long)got[0], (unsigned long long)got[1],
		 (unsigned long long)got[2], (unsigned long long)got[3], (unsigned long long)cr3,
		 (unsigned long long)np[0]);
}

/* L2's walk for T1 reads its PD (PG_L2_PD0 + T1's GiB): A and D in that page's leaf. */
static void walk_ad_check(void)
{
	struct nx_exit e;
	uint64_t t1 = nx.page[PG_EPT_T1], pd = nx.page[PG_L2_PD0 + (unsigned)(t1 >> 30)];
	uint64_t *l = nx_ept_leaf(pd);
	nx_ept_on(true);
	*l &= ~(EPT_A | EPT_D);
	nx_ept_flush();
	nx_l2_gpr[GPR_RAX] = t1;
	nx_run((uint64_t)(uintptr_t)l2_load, NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && (*l & (EPT_A | EPT_D)) == (EPT_A | EPT_D),
		 "A/D EPTP: L2's page walk sets A and D in the EPT12 leaf of its PD (a write, 29.3.5)",
		 "%s, leaf 0x%llx", nx_exit_str(&e), (unsigned long long)*l);
}

/*
 * An EPT violation while L2's #UD is delivered (28.2.1, 28.2.4): the
 * exception is not in L1's bitmap, L2's IDT page is absent from EPT12.
 * Reason 48 for the gate's read, with the #UD in the IDT-vectoring
 * information; L1 maps the page and re-injects the #UD, L2's handler runs.
 */
static void vectoring_checks(void)
{
	struct nx_exit e, f;
	uint64_t idt = nx.page[PG_L2_IDT], gate = idt + VEC_UD * 16, *l = nx_ept_leaf(idt);
	uint64_t ud = (uint64_t)(uintptr_t)l2_ud;
	uint32_t want_vec = INTR_INFO_VALID | (3u << 8) | VEC_UD; /* hardware exception */
	nx_ept_on(false);
	vw(VMCS_EXCEPTION_BITMAP, ~(1u << VEC_UD));
	*l = 0;
	nx_ept_flush();
	nx_run(ud, NX_RFLAGS_FIXED, &e);
	bool exited = !e.entry && e.reason == EXIT_REASON_EPT_VIOLATION;
	uint64_t want = Q_READ_LINEAR; /* table 28-7: bits 0, 7 and 8 */
	uint32_t vec = exited ? (uint32_t)vr(VMCS_IDT_VECTORING_INFO_FIELD) : 0;
	nx_check(exited && e.qual == want && e.rip == ud && vec == want_vec,
		 "EPT violation delivering L2's #UD through an IDT EPT12 lacks: IDT-vectoring "
		 "information is the #UD",
		 "%s, vectoring 0x%x, want reason 48 qual 0x%llx vectoring 0x%x", nx_exit_str(&e),
		 vec, (unsigned long long)want, want_vec);
	uint64_t gpa = exited ? vr(VMCS_GUEST_PHYSICAL_ADDRESS) : 0;
	uint64_t gla = exited ? vr(VMCS_GUEST_LINEAR_ADDRESS) : 0;
	nx_check(exited && gpa == gate && gla == gate,
		 "... its guest-physical and guest-linear addresses are the #UD gate's",
		 "GPA 0x%llx GLA 0x%llx, want 0x%llx", (unsigned long long)gpa,
		 (unsigned long long)gla, (unsigned long long)gate);
	*l = idt | EPT_RWX | (6ull << 3) /* WB */;
	nx_ept_flush();
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, want_vec);
	nx_l2_gpr[GPR_R15] = nx_l2_gpr[GPR_R13] = 0; /* R13: the RIP #UD pushed */
	bool resumed = exited && nx_resume(&f) && f.reason == EXIT_REASON_VMCALL;
	nx_check(resumed && nx_l2_gpr[GPR_R15] == VEC_UD && nx_l2_gpr[GPR_R13] == ud,
		 "... L1 maps the page and re-injects the #UD: L2's handler runs",
		 "%s, vector %llu from L2+0x%llx", resumed ? "VMCALL" : nx_exit_str(&f),
		 (unsigned long long)nx_l2_gpr[GPR_R15],
		 (unsigned long long)(nx_l2_gpr[GPR_R13] - (uint64_t)(uintptr_t)l2_vmcall));
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
}

void nx_ept_paging_checks(void)
{
	if (nx.ept_vpid_cap & EPT_CAP_ACCESSED_DIRTY)
		walk_ad_check();
	ignored_check();
	order_checks();
	after_violation_check();
	if ((nx.ept_vpid_cap & EPT_CAP_PAGE_1G) && (nx.ept_vpid_cap & EPT_CAP_ACCESSED_DIRTY))
		ad_1g_check();
	if ((nx.ept_vpid_cap & EPT_CAP_PAGE_2M) && (nx.ept_vpid_cap & EPT_CAP_INVEPT_ALL))
		roots_check();
	pae_checks();
	vectoring_checks();
	nx_reset_l2();
}
