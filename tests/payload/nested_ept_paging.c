/*
 * nested_ept_paging.c - group D, nested EPT and L2's own paging and
 * event delivery.  With
 * "enable EPT" a PAE-paging L2's PDPTEs live in the guest PDPTE fields:
 * VM entry checks them there and loads them from there, not from the
 * table at CR3 (SDM Vol. 3C 27.3.1.6, 27.3.2.4), and VM exit saves the
 * PDPTEs L2 loaded itself back into them (28.3.4).  Under an A/D EPTP,
 * L2's accesses to its own paging structures are writes: they set the
 * dirty flag of the EPT12 leaf that maps them (29.3.5).  An EPT
 * violation while an event is delivered records it in the IDT-vectoring
 * information (28.2.4).  EPT12 is nested_ept.c's.
 */
#include "nested_test.h"

extern char l2_32[], l2_32_cpuid[], l2_32_cr3[], l2_load[], l2_ud[], l2_vmcall[];

#define L2_MAGIC 0x2badb003u
#define PDPTE_RSVD_1 (1ull << 1) /* PAE PDPTE bits 2:1 are reserved */
#define PDPTE_PWT (1ull << 3)
#define EPT_A (1ull << 8)
#define EPT_D (1ull << 9)
#define Q_READ_LINEAR 0x181ull

static uint64_t *tab(enum nx_page p)
{
	return (uint64_t *)(uintptr_t)nx.page[p];
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
	pae_checks();
	vectoring_checks();
	nx_reset_l2();
}
