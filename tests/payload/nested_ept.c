/*
 * nested_ept.c - group D, nested EPT: L1 turns on "enable EPT" with an
 * EPT of its own (EPT12) and checks what the SDM says L2's accesses do
 * through it (SDM Vol. 3C 29.3 "The extended page table mechanism",
 * 28.2.1 table 28-7 for the EPT-violation qualification, 27.2.1.1 for
 * the EPT pointer, 31.3 "INVEPT").  Run where the capability MSRs offer
 * "enable EPT" and INVEPT, each check where IA32_VMX_EPT_VPID_CAP offers
 * what it needs, so that bare Bochs and L1 under microhv are held to the
 * same checks.
 *
 * EPT12 maps guest-physical 0-4 GiB to the same addresses with 2-MiB WB
 * leaves (L2's code, stack and tables all lie there), split into 4-KiB
 * leaves around L1's pages (test pages T0-T2 among them).  Guest-physical
 * 4 GiB and up (EPT12's PDPT entry 4, absent at first) is where large
 * leaves and upper entries are tried; L2 reaches it through a PD of its
 * own (linear 4-5 GiB = guest-physical 4-5 GiB).  After each change to EPT12 L1 executes INVEPT
 * single-context (29.4.3.1: nothing else invalidates guest-physical
 * mappings), so that no check depends on what the CPU cached.
 * nested_ept_paging.c adds L2's own paging and event delivery.
 */
#include "nested_test.h"

extern char l2_vmcall[], l2_load[], l2_pf_write[];

#define VMERR_BAD_CONTROLS 7
#define VMERR_INVEPT_INVVPID 28

/* EPT paging-structure entries (SDM Vol. 3C 29.3.2, tables 29-1 to 29-6). */
#define EPT_R 1ull
#define EPT_W 2ull
#define EPT_X 4ull
/* EPT_RWX: vmx/vmx_arch.h */
#define EPT_MT(t) ((uint64_t)(t) << 3) /* leaves: memory type, bits 5:3 */
#define EPT_WB EPT_MT(6)
#define EPT_PS (1ull << 7)
#define EPT_A (1ull << 8)
#define EPT_D (1ull << 9)
#define EPT_ADDR 0x000ffffffffff000ull

/* The EPT pointer (24.6.11). */
#define EPTP_WB 6ull
#define EPTP_WALK(n) ((uint64_t)((n) - 1) << 3)
#define EPTP_AD (1ull << 6)

/* EPT-violation qualification (28.2.1, table 28-7). */
#define Q_READ 1ull
#define Q_WRITE 2ull
#define Q_FETCH 4ull
#define Q_RIGHTS(r) ((uint64_t)(r) << 3)
#define Q_GLA_VALID (1ull << 7)
#define Q_TRANSLATED (1ull << 8)

#define HI_GPA 0x100000000ull /* guest-physical (and L2-linear) 4 GiB */
#define SIZE_2M 0x200000ull
#define SIZE_1G 0x40000000ull
#define MARK_1 0x1111eeee1111eeeeull
#define MARK_2 0x2222dddd2222ddddull
#define MARK_W 0x5757575757575757ull
#define OFF_READ 8 /* T0: code at 0, the read qword at 8, the written one at 16 */
#define OFF_WRITE 16

enum { INVEPT_SINGLE = 1, INVEPT_ALL = 2 };
enum access { ACC_READ, ACC_WRITE, ACC_FETCH };

static uint64_t *tab(enum nx_page p)
{
	return (uint64_t *)(uintptr_t)nx.page[p];
}

static void expect(const char *what, uint64_t r, unsigned err)
{
	if (!err) {
		nx_check(nx_outcome(r) == NX_SUCCEED && !(r & NX_FLAGS_ARITH), what,
			 "%s rflags 0x%llx, want VMsucceed", nx_result_str(r),
			 (unsigned long long)r);
		return;
	}
	uint64_t e = 0;
	if (nx_outcome(r) == NX_FAIL_VALID)
		nx_vmread(VMCS_VM_INSTRUCTION_ERROR, &e);
	nx_check(nx_outcome(r) == NX_FAIL_VALID && e == err && (r & NX_FLAGS_ARITH) == NX_RFLAGS_ZF,
		 what, "%s rflags 0x%llx, want VMfailValid(%u)", nx_result_str(r),
		 (unsigned long long)(r & ~(NX_FAULT | NX_ENTRY_FAILED)), err);
}

static uint64_t g_eptp; /* vmcs12's, as ept_on wrote it */

static uint64_t eptp(bool ad)
{
	return nx.page[PG_EPT_PML4] | EPTP_WB | EPTP_WALK(4) | (ad ? EPTP_AD : 0);
}

static uint64_t invept(uint64_t type, uint64_t pointer)
{
	uint64_t desc[2] = {pointer, 0};
	return nx_invept(type, desc);
}

/* After every EPT12 change (29.4.3.1); all-context where single is not offered. */
uint64_t nx_ept_flush(void)
{
	if (nx.ept_vpid_cap & EPT_CAP_INVEPT_SINGLE)
		return invept(INVEPT_SINGLE, g_eptp);
	return invept(INVEPT_ALL, 0);
}

static uint64_t *pd_entry(uint64_t gpa)
{
	return &tab(PG_EPT_PD0 + (unsigned)(gpa >> 30))[(gpa >> 21) & 511];
}

/* The 4-KiB leaf of gpa (in a split region). */
uint64_t *nx_ept_leaf(uint64_t gpa)
{
	uint64_t *pt = (uint64_t *)(uintptr_t)(*pd_entry(gpa) & EPT_ADDR);
	return &pt[(gpa >> 12) & 511];
}

static void split(uint64_t pa, unsigned *next_pt)
{
	uint64_t *pde = pd_entry(pa);
	if (!(*pde & EPT_PS))
		return;
	uint64_t *pt = tab(PG_EPT_PT0 + (*next_pt)++);
	uint64_t base = pa & ~(SIZE_2M - 1);
	for (unsigned k = 0; k < 512; k++)
		pt[k] = (base + ((uint64_t)k << 12)) | EPT_RWX | EPT_WB;
	*pde = (uint64_t)(uintptr_t)pt | EPT_RWX;
}

static void ept_build(void)
{
	uint64_t *pml4 = tab(PG_EPT_PML4), *pdpt = tab(PG_EPT_PDPT);
	for (unsigned i = 0; i < 512; i++)
		pml4[i] = pdpt[i] = 0;
	pml4[0] = nx.page[PG_EPT_PDPT] | EPT_RWX;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t *pd = tab(PG_EPT_PD0 + i);
		pdpt[i] = nx.page[PG_EPT_PD0 + i] | EPT_RWX;
		for (unsigned j = 0; j < 512; j++)
			pd[j] = ((uint64_t)i << 30) + ((uint64_t)j << 21) + (EPT_RWX | EPT_WB | EPT_PS);
	}
	/* 4-KiB leaves for every page of ours: one run of < 512 pages, two regions at most. */
	unsigned next_pt = 0;
	for (unsigned i = 0; i < PG_COUNT; i++)
		split(nx.page[i], &next_pt);

	/* L2: linear 4-5 GiB -> guest-physical 4-5 GiB. */
	uint64_t *l2_pd = tab(PG_L2_PD_HI);
	for (unsigned j = 0; j < 512; j++)
		l2_pd[j] = HI_GPA + ((uint64_t)j << 21) + 0x83; /* P RW PS */
	tab(PG_L2_PDPT)[4] = nx.page[PG_L2_PD_HI] | 3;

	/* T0: VMCALL at 0 for the fetch; T1 and T2: markers. */
	uint8_t *t0 = (uint8_t *)tab(PG_EPT_T0);
	t0[0] = 0x0f;
	t0[1] = 0x01;
	t0[2] = 0xc1;
	*tab(PG_EPT_T1) = MARK_1;
	*tab(PG_EPT_T2) = MARK_2;
}

/* The default controls and 64-bit L2, with "enable EPT" and EPTP p. */
static void ept_on(uint64_t p)
{
	nx_reset_l2();
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, vr(VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_ENABLE_EPT);
	vw(VMCS_EPT_POINTER, p);
	g_eptp = p;
}

/* L2 loads the qword at la into RCX; false if L2 did not exit. */
static bool l2_access(enum access a, uint64_t la, struct nx_exit *e)
{
	nx_l2_gpr[GPR_RAX] = la;
	nx_l2_gpr[GPR_RCX] = 0;
	nx_l2_gpr[GPR_RBX] = MARK_W;
	uint64_t rip = a == ACC_FETCH  ? la
		       : a == ACC_READ ? (uint64_t)(uintptr_t)l2_load
				       : (uint64_t)(uintptr_t)l2_pf_write;
	return nx_run(rip, NX_RFLAGS_FIXED, e);
}

void nx_ept_on(bool ad)
{
	ept_on(eptp(ad));
}

static uint64_t l2_reads(uint64_t la, struct nx_exit *e)
{
	if (!l2_access(ACC_READ, la, e) || e->reason != EXIT_REASON_VMCALL)
		return 0;
	return nx_l2_gpr[GPR_RCX];
}

static void run_checks(bool ad)
{
	struct nx_exit e;
	ept_on(eptp(ad));
	nx_run((uint64_t)(uintptr_t)l2_vmcall, NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL &&
		     e.rip == (uint64_t)(uintptr_t)l2_vmcall,
		 ad ? "L2 runs under EPT12 with an A/D EPTP (VMCALL exit)"
		    : "L2 runs under EPT12 (VMCALL exit)",
		 "%s, EPTP 0x%llx", nx_exit_str(&e), (unsigned long long)g_eptp);
}

/*
 * L2's access a to T0 at off through a leaf with rights r: an EPT
 * violation (reason 48) with the qualification of table 28-7, the
 * guest-physical and guest-linear addresses; L1 grants RWX, INVEPT, and
 * the access completes when L2 resumes.
 */
static void violation(const char *what, enum access a, uint64_t off, uint64_t r)
{
	static const uint64_t acc[3] = {Q_READ, Q_WRITE, Q_FETCH};
	static const char *const name[3] = {"read", "write", "fetch"};
	uint64_t t0 = nx.page[PG_EPT_T0], la = t0 + off;
	uint64_t *l = nx_ept_leaf(t0);
	*l = t0 | r | (r ? EPT_WB : 0);
	*(volatile uint64_t *)(uintptr_t)(t0 + OFF_READ) = MARK_1;
	*(volatile uint64_t *)(uintptr_t)(t0 + OFF_WRITE) = 0;
	nx_ept_flush();
	struct nx_exit e, f;
	l2_access(a, la, &e);
	uint64_t want_rip = a == ACC_FETCH  ? la
			    : a == ACC_READ ? (uint64_t)(uintptr_t)l2_load
					    : (uint64_t)(uintptr_t)l2_pf_write;
	uint64_t want = acc[a] | Q_RIGHTS(r) | Q_GLA_VALID | Q_TRANSLATED;
	bool exited = !e.entry && e.reason == EXIT_REASON_EPT_VIOLATION;
	nx_check(exited && e.qual == want && e.rip == want_rip, what,
		 "%s, want reason 48 qual 0x%llx at the %s", nx_exit_str(&e),
		 (unsigned long long)want, name[a]);
	uint64_t gpa = exited ? vr(VMCS_GUEST_PHYSICAL_ADDRESS) : 0;
	uint64_t gla = exited ? vr(VMCS_GUEST_LINEAR_ADDRESS) : 0;
	nx_check(exited && gpa == la && gla == la,
		 "... its guest-physical and guest-linear addresses are the access's",
		 "GPA 0x%llx GLA 0x%llx, want 0x%llx", (unsigned long long)gpa,
		 (unsigned long long)gla, (unsigned long long)la);
	*l = t0 | EPT_RWX | EPT_WB;
	nx_ept_flush();
	bool resumed = exited && nx_resume(&f) && f.reason == EXIT_REASON_VMCALL;
	uint64_t done = a == ACC_READ	 ? nx_l2_gpr[GPR_RCX]
			: a == ACC_WRITE ? *(volatile uint64_t *)(uintptr_t)(t0 + OFF_WRITE)
					 : f.rip;
	uint64_t want_done = a == ACC_READ ? MARK_1 : a == ACC_WRITE ? MARK_W : la;
	nx_check(resumed && done == want_done,
		 "... after L1 grants RWX and INVEPTs, L2 resumes and the access completes",
		 "%s, %s gave 0x%llx, want 0x%llx", resumed ? "VMCALL" : nx_exit_str(&f), name[a],
		 (unsigned long long)done, (unsigned long long)want_done);
}

static void violation_checks(void)
{
	ept_on(eptp(false));
	if (nx.ept_vpid_cap & EPT_CAP_EXECUTE_ONLY)
		violation("EPT violation: L2 reads an execute-only page (qual R, rights X)",
			  ACC_READ, OFF_READ, EPT_X);
	violation("EPT violation: L2 writes a read-only page (qual W, rights R)", ACC_WRITE,
		  OFF_WRITE, EPT_R);
	violation("EPT violation: L2 fetches from a read/write page (qual X, rights RW)",
		  ACC_FETCH, 0, EPT_R | EPT_W);
	violation("EPT violation: L2 reads a not-present page (qual R, rights none)", ACC_READ,
		  OFF_READ, 0);
}

/* A leaf that is misconfigured (29.3.3.1): reason 49 with the GPA. */
static void misconfig(const char *what, uint64_t bits)
{
	uint64_t t1 = nx.page[PG_EPT_T1];
	uint64_t *l = nx_ept_leaf(t1);
	*l = t1 | bits;
	nx_ept_flush();
	struct nx_exit e;
	l2_access(ACC_READ, t1, &e);
	bool exited = !e.entry && e.reason == EXIT_REASON_EPT_MISCONFIG;
	uint64_t gpa = exited ? vr(VMCS_GUEST_PHYSICAL_ADDRESS) : 0;
	nx_check(exited && gpa == t1 && e.rip == (uint64_t)(uintptr_t)l2_load, what,
		 "%s, GPA 0x%llx, want reason 49 and GPA 0x%llx", nx_exit_str(&e),
		 (unsigned long long)gpa, (unsigned long long)t1);
	*l = t1 | EPT_RWX | EPT_WB;
	nx_ept_flush();
}

static void misconfig_checks(void)
{
	misconfig("EPT misconfiguration: a leaf of memory type 2 (reason 49, GPA)",
		  EPT_RWX | EPT_MT(2));
	misconfig("EPT misconfiguration: a write-only leaf (reason 49, GPA)", EPT_W | EPT_WB);
}

/*
 * A/D flags (29.3.5): with EPTP bit 6, L2's read of T1 sets the accessed
 * flag in every EPT12 entry of its walk and its write the dirty flag in
 * the leaf; without bit 6 neither is ever set.
 */
static uint64_t *walk[4];

static uint64_t ad_clear(void)
{
	uint64_t t1 = nx.page[PG_EPT_T1];
	walk[0] = &tab(PG_EPT_PML4)[0];
	walk[1] = &tab(PG_EPT_PDPT)[t1 >> 30];
	walk[2] = pd_entry(t1);
	walk[3] = nx_ept_leaf(t1);
	for (unsigned i = 0; i < 4; i++)
		*walk[i] &= ~(EPT_A | EPT_D);
	nx_ept_flush();
	return t1;
}

static unsigned ad_bits(uint64_t flag)
{
	unsigned m = 0;
	for (unsigned i = 0; i < 4; i++)
		if (*walk[i] & flag)
			m |= 1u << i;
	return m;
}

static void ad_checks(void)
{
	struct nx_exit e;
	if (nx.ept_vpid_cap & EPT_CAP_ACCESSED_DIRTY) {
		ept_on(eptp(true));
		uint64_t t1 = ad_clear();
		uint64_t v = l2_reads(t1, &e);
		unsigned a = ad_bits(EPT_A), d = ad_bits(EPT_D);
		nx_check(v == MARK_1 && a == 0xf && !(d & 8),
			 "A/D EPTP: L2's read sets A in EPT12's PML4E, PDPTE, PDE and PTE, not D",
			 "read 0x%llx, A in 0x%x D in 0x%x (bit per level, PML4E = 1), want A "
			 "0xf, no D in the PTE (8)",
			 (unsigned long long)v, a, d);
		l2_access(ACC_WRITE, t1 + OFF_WRITE, &e);
		d = ad_bits(EPT_D);
		nx_check(e.reason == EXIT_REASON_VMCALL && (d & 8),
			 "A/D EPTP: L2's write sets D in EPT12's PTE", "%s, D in 0x%x, want 8",
			 nx_exit_str(&e), d);
	}
	ept_on(eptp(false));
	uint64_t t1 = ad_clear();
	uint64_t v = l2_reads(t1, &e);
	l2_access(ACC_WRITE, t1 + OFF_WRITE, &e);
	unsigned a = ad_bits(EPT_A), d = ad_bits(EPT_D);
	nx_check(v == MARK_1 && e.reason == EXIT_REASON_VMCALL && !a && !d,
		 "EPTP without A/D: L2's read and write set no A or D flag in EPT12",
		 "read 0x%llx, %s, A in 0x%x D in 0x%x, want none", (unsigned long long)v,
		 nx_exit_str(&e), a, d);
	*tab(PG_EPT_T1) = MARK_1;
}

/* INVEPT's results (31.3) and its effect on L2's guest-physical mappings. */
static void invept_checks(void)
{
	uint64_t cap = nx.ept_vpid_cap;
	ept_on(eptp(false));
	expect("INVEPT single-context succeeds", invept(INVEPT_SINGLE, g_eptp),
	       (cap & EPT_CAP_INVEPT_SINGLE) ? 0 : VMERR_INVEPT_INVVPID);
	expect("INVEPT all-context succeeds", invept(INVEPT_ALL, 0),
	       (cap & EPT_CAP_INVEPT_ALL) ? 0 : VMERR_INVEPT_INVVPID);
	expect("INVEPT type 0 fails 28", invept(0, g_eptp), VMERR_INVEPT_INVVPID);
	expect("INVEPT type 3 fails 28", invept(3, g_eptp), VMERR_INVEPT_INVVPID);
	if (cap & EPT_CAP_INVEPT_SINGLE) {
		expect("INVEPT single-context of an EPTP with memory type 1 fails 28",
		       invept(INVEPT_SINGLE, (g_eptp & ~7ull) | 1), VMERR_INVEPT_INVVPID);
		expect("INVEPT single-context of an EPTP with reserved bit 7 set fails 28",
		       invept(INVEPT_SINGLE, g_eptp | (1ull << 7)), VMERR_INVEPT_INVVPID);
	}

	/* L1 points T1's leaf at T2: after INVEPT L2 reads T2's marker. */
	struct nx_exit e;
	uint64_t t1 = nx.page[PG_EPT_T1], *l = nx_ept_leaf(t1);
	static const uint64_t type[2] = {INVEPT_SINGLE, INVEPT_ALL};
	static const char *const what[2] = {
	    "INVEPT single-context: L2 reads the page L1's new EPT12 leaf maps",
	    "INVEPT all-context: L2 reads the page L1's new EPT12 leaf maps",
	};
	for (unsigned i = 0; i < 2; i++) {
		if (!(cap & (i ? EPT_CAP_INVEPT_ALL : EPT_CAP_INVEPT_SINGLE)))
			continue;
		*l = t1 | EPT_RWX | EPT_WB;
		nx_ept_flush();
		uint64_t first = l2_reads(t1, &e);
		*l = nx.page[PG_EPT_T2] | EPT_RWX | EPT_WB;
		uint64_t r = invept(type[i], g_eptp);
		uint64_t second = l2_reads(t1, &e);
		nx_check(first == MARK_1 && second == MARK_2 && nx_outcome(r) == NX_SUCCEED,
			 what[i], "read 0x%llx then 0x%llx (want 0x%llx then 0x%llx), INVEPT %s, %s",
			 (unsigned long long)first, (unsigned long long)second,
			 (unsigned long long)MARK_1, (unsigned long long)MARK_2,
			 nx_result_str(r), nx_exit_str(&e));
	}
	*l = t1 | EPT_RWX | EPT_WB;
	nx_ept_flush();
}

/*
 * L2's access at linear = guest-physical HI_GPA + off, expected to exit
 * with reason (and, for a violation, qualification want) at gpa.  bochs,
 * where not 0, is the qualification Bochs 2.7 gives instead of want
 * (docs/nested.md "Bochs"); for a misconfiguration, not 0 where bare
 * Bochs 2.7 lets the access through.
 */
static void hi_exit(const char *what, enum access a, uint64_t off, uint32_t reason, uint64_t want,
		    uint64_t gpa, uint64_t bochs)
{
	struct nx_exit e;
	nx_ept_flush();
	l2_access(a, HI_GPA + off, &e);
	bool exited = !e.entry && e.reason == reason;
	uint64_t g = exited ? vr(VMCS_GUEST_PHYSICAL_ADDRESS) : 0;
	uint64_t l = exited ? vr(VMCS_GUEST_LINEAR_ADDRESS) : 0;
	if (reason == EXIT_REASON_EPT_MISCONFIG) {
		/* bochs: bare Bochs 2.7 lets the access through instead. */
		bool through = bochs && !nx.microhv && !e.entry && e.reason == EXIT_REASON_VMCALL;
		nx_check((exited && g == gpa) || through, what,
			 "%s, GPA 0x%llx, want reason 49 GPA 0x%llx", nx_exit_str(&e),
			 (unsigned long long)g, (unsigned long long)gpa);
		if (through)
			nx_say("microhv-nested: note - %s: Bochs 2.7 does not check these reserved "
			       "bits (SDM 29.3.2 table 29-4, 29.3.3.1)",
			       what);
		return;
	}
	bool wrong = bochs && exited && e.qual == bochs;
	nx_check(exited && (e.qual == want || wrong), what, "%s, want reason 48 qual 0x%llx",
		 nx_exit_str(&e), (unsigned long long)want);
	if (wrong)
		nx_say("microhv-nested: note - %s: qualification 0x%llx is Bochs 2.7's (SDM 28.2.1 "
		       "table 28-7 note 1 sets bits 0 and 1)",
		       what, (unsigned long long)bochs);
	nx_check(exited && g == gpa && l == HI_GPA + off,
		 "... its guest-physical and guest-linear addresses",
		 "GPA 0x%llx GLA 0x%llx, want 0x%llx and 0x%llx", (unsigned long long)g,
		 (unsigned long long)l, (unsigned long long)gpa,
		 (unsigned long long)(HI_GPA + off));
}

/*
 * Entries above the leaf (29.3.3): an absent PDPTE, rights ANDed along
 * the walk, a reserved bit in a PDPTE, and L2's own paging-structure
 * access denied (qualification bit 8 clear, the GPA that of L2's PDE).
 */
static void upper_checks(void)
{
	uint64_t *pdpte = &tab(PG_EPT_PDPT)[4], *pd = tab(PG_EPT_PD_HI);
	uint64_t off = 3 * SIZE_2M + 0x40;
	ept_on(eptp(false));
	*pdpte = 0;
	hi_exit("EPT violation: an absent EPT12 PDPTE (qual R, rights none)", ACC_READ, off,
		EXIT_REASON_EPT_VIOLATION, Q_READ | Q_GLA_VALID | Q_TRANSLATED, HI_GPA + off, 0);
	pd[3] = (nx.page[PG_EPT_T1] & ~(SIZE_2M - 1)) | EPT_RWX | EPT_WB | EPT_PS;
	*pdpte = nx.page[PG_EPT_PD_HI] | EPT_R;
	hi_exit("EPT violation: a write through a read-only PDPTE to an RWX leaf (rights R: "
		"ANDed)",
		ACC_WRITE, off, EXIT_REASON_EPT_VIOLATION,
		Q_WRITE | Q_RIGHTS(EPT_R) | Q_GLA_VALID | Q_TRANSLATED, HI_GPA + off, 0);
	*pdpte = nx.page[PG_EPT_PD_HI] | EPT_RWX | EPT_MT(1); /* bits 6:3 reserved here */
	hi_exit("EPT misconfiguration: a PDPTE with reserved bit 3 set (reason 49, GPA)",
		ACC_READ, off, EXIT_REASON_EPT_MISCONFIG, 0, HI_GPA + off, 0);
	*pdpte = nx.page[PG_EPT_PD_HI] | EPT_RWX;
	uint64_t l2_pd = nx.page[PG_L2_PD_HI], *l = nx_ept_leaf(l2_pd);
	*l = 0;
	hi_exit("EPT violation: L2's walk reads its PDE in a page EPT12 lacks (qual R, bit 8 "
		"clear)",
		ACC_READ, off, EXIT_REASON_EPT_VIOLATION, Q_READ | Q_GLA_VALID, l2_pd + 3 * 8, 0);
	if (nx.ept_vpid_cap & EPT_CAP_ACCESSED_DIRTY) {
		/* 29.3.3.2, table 28-7 note: with A/D such a read is a write too. */
		ept_on(eptp(true));
		hi_exit("EPT violation: the same under an A/D EPTP (qual R and W, bit 8 clear)",
			ACC_READ, off, EXIT_REASON_EPT_VIOLATION, Q_READ | Q_WRITE | Q_GLA_VALID,
			l2_pd + 3 * 8, Q_WRITE | Q_GLA_VALID);
	}
	*l = l2_pd | EPT_RWX | EPT_WB;
	pd[3] = 0;
	*pdpte = 0;
	nx_ept_flush();
}

/* Reserved bits in EPT12's entries (29.3.3.1): misconfigurations. */
static void reserved_checks(void)
{
	uint64_t *pdpte = &tab(PG_EPT_PDPT)[4], *pd = tab(PG_EPT_PD_HI);
	uint64_t off = 3 * SIZE_2M + 0x40, t1 = nx.page[PG_EPT_T1];
	ept_on(eptp(false));
	*pdpte = nx.page[PG_EPT_PD_HI] | EPT_RWX | (1ull << nx.maxphyaddr);
	hi_exit("EPT misconfiguration: a PDPTE address bit at MAXPHYADDR (reason 49, GPA)",
		ACC_READ, off, EXIT_REASON_EPT_MISCONFIG, 0, HI_GPA + off, 0);
	*pdpte = nx.page[PG_EPT_PD_HI] | EPT_RWX;
	if (nx.ept_vpid_cap & EPT_CAP_PAGE_2M) {
		pd[3] = (t1 & ~(SIZE_2M - 1)) | EPT_RWX | EPT_WB | EPT_PS | (1ull << 12);
		hi_exit("EPT misconfiguration: a 2-MiB leaf with bit 12 set (20:12 reserved)",
			ACC_READ, off, EXIT_REASON_EPT_MISCONFIG, 0, HI_GPA + off, 1);
	}
	if (nx.ept_vpid_cap & EPT_CAP_PAGE_1G) {
		*pdpte = (t1 & ~(SIZE_1G - 1)) | EPT_RWX | EPT_WB | EPT_PS | (1ull << 21);
		hi_exit("EPT misconfiguration: a 1-GiB leaf with bit 21 set (29:12 reserved)",
			ACC_READ, off, EXIT_REASON_EPT_MISCONFIG, 0, HI_GPA + off, 0);
	}
	pd[3] = 0;
	*pdpte = 0;
	nx_ept_flush();
}

/* VM entry checks the EPT pointer (27.2.1.1): VMfailValid(7). */
static void eptp_checks(void)
{
	ept_on(eptp(false));
	vw(VMCS_EPT_POINTER, (g_eptp & ~7ull) | 1);
	expect("VM entry with an EPTP of memory type 1 fails 7 (SDM 27.2.1.1)",
	       nx_enter(nx.launched ? NX_RESUME : NX_LAUNCH), VMERR_BAD_CONTROLS);
	if (!(nx.ept_vpid_cap & EPT_CAP_WALK_5)) {
		vw(VMCS_EPT_POINTER, (g_eptp & ~0x38ull) | EPTP_WALK(5));
		expect("VM entry with an EPTP of walk length 5, not offered, fails 7 (SDM 27.2.1.1)",
		       nx_enter(nx.launched ? NX_RESUME : NX_LAUNCH), VMERR_BAD_CONTROLS);
	}
	vw(VMCS_EPT_POINTER, g_eptp | (1ull << 7));
	expect("VM entry with an EPTP with reserved bit 7 set fails 7 (SDM 27.2.1.1)",
	       nx_enter(nx.launched ? NX_RESUME : NX_LAUNCH), VMERR_BAD_CONTROLS);
	vw(VMCS_EPT_POINTER, g_eptp);
	if (nx.ept_vpid_cap & EPT_CAP_MEMTYPE_UC) {
		struct nx_exit e;
		ept_on(eptp(false) & ~7ull); /* UC: type 0 */
		nx_run((uint64_t)(uintptr_t)l2_vmcall, NX_RFLAGS_FIXED, &e);
		nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL,
			 "L2 runs under an EPTP of memory type UC (offered)", "%s, EPTP 0x%llx",
			 nx_exit_str(&e), (unsigned long long)g_eptp);
	}
}

/* Large leaves: guest-physical 4 GiB + x through EPT12's PDPT entry 4. */
static void large_checks(void)
{
	struct nx_exit e;
	uint64_t t1 = nx.page[PG_EPT_T1], *pdpte = &tab(PG_EPT_PDPT)[4];
	ept_on(eptp(false));
	if (nx.ept_vpid_cap & EPT_CAP_PAGE_2M) {
		uint64_t *pd = tab(PG_EPT_PD_HI);
		pd[0] = (t1 & ~(SIZE_2M - 1)) | EPT_RWX | EPT_WB | EPT_PS;
		*pdpte = nx.page[PG_EPT_PD_HI] | EPT_RWX;
		nx_ept_flush();
		uint64_t la = HI_GPA + (t1 & (SIZE_2M - 1));
		uint64_t v = l2_reads(la, &e);
		nx_check(v == MARK_1,
			 "a 2-MiB EPT12 leaf: L2 reads T1's marker at guest-physical 4 GiB + offset",
			 "read 0x%llx at 0x%llx, want 0x%llx, %s", (unsigned long long)v,
			 (unsigned long long)la, (unsigned long long)MARK_1, nx_exit_str(&e));
	}
	if ((nx.ept_vpid_cap & EPT_CAP_PAGE_2M) && (nx.ept_vpid_cap & EPT_CAP_ACCESSED_DIRTY)) {
		ept_on(eptp(true));
		uint64_t *pde = tab(PG_EPT_PD_HI);
		*pde &= ~(EPT_A | EPT_D);
		nx_ept_flush();
		uint64_t la = HI_GPA + (nx.page[PG_EPT_T2] & (SIZE_2M - 1));
		l2_access(ACC_WRITE, la + OFF_WRITE, &e);
		nx_check(e.reason == EXIT_REASON_VMCALL && (*pde & (EPT_A | EPT_D)) == (EPT_A | EPT_D),
			 "A/D EPTP: L2's write through a 2-MiB EPT12 leaf sets its A and D",
			 "%s, leaf 0x%llx", nx_exit_str(&e), (unsigned long long)*pde);
		ept_on(eptp(false));
	}
	if (nx.ept_vpid_cap & EPT_CAP_PAGE_1G) {
		*pdpte = (t1 & ~(SIZE_1G - 1)) | EPT_RWX | EPT_WB | EPT_PS;
		nx_ept_flush();
		uint64_t la = HI_GPA + (t1 & (SIZE_1G - 1));
		uint64_t v = l2_reads(la, &e);
		nx_check(v == MARK_1,
			 "a 1-GiB EPT12 leaf: L2 reads T1's marker at guest-physical 4 GiB + offset",
			 "read 0x%llx at 0x%llx, want 0x%llx, %s", (unsigned long long)v,
			 (unsigned long long)la, (unsigned long long)MARK_1, nx_exit_str(&e));
	}
	*pdpte = 0;
	nx_ept_flush();
}

void nx_group_ept(void)
{
	nx_say("microhv-nested: group D - nested EPT: EPT12, violations, misconfigurations, A/D, "
	       "INVEPT");
	uint64_t need = EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_INVEPT;
	if (!nx_allowed(NX_PROC2, CPU2_ENABLE_EPT) || (nx.ept_vpid_cap & need) != need) {
		nx_say("microhv-nested: note - no EPT, 4-level WB EPT or INVEPT in the capability "
		       "MSRs: the EPT checks are left out");
		return;
	}
	ept_build();
	run_checks(false);
	if (nx.ept_vpid_cap & EPT_CAP_ACCESSED_DIRTY)
		run_checks(true);
	violation_checks();
	misconfig_checks();
	ad_checks();
	invept_checks();
	eptp_checks();
	large_checks();
	upper_checks();
	reserved_checks();
	nx_ept_paging_checks();
	nx_shadow_store_under_ept12();
	tab(PG_L2_PDPT)[4] = 0;
	nx_reset_l2();
}
