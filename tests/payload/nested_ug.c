/*
 * nested_ug.c - group D, unrestricted guest (SDM Vol. 3C 25.6.2, 27.2.1.1,
 * 27.3.1.1, 27.3.1.2): L1 builds an EPT (identity, 0-4 GiB in 2-MiB
 * pages) and runs L2 in real mode (CR0.PE = 0) and in unpaged protected
 * mode (CR0.PE = 1, PG = 0).  Run where the capability MSRs offer the
 * control with "enable EPT", 2-MiB EPT pages and a WB or UC EPT, so that
 * bare Bochs and L1 under microhv are held to the same checks.
 */
#include "nested_test.h"

extern char l2_vmcall[], l2_real16[], l2_real16_vmcall[], l2_real16_pe[],
    l2_real16_pe_vmcall[];

#define VMERR_BAD_CONTROLS 7
#define EXIT_INVALID_GUEST (EXIT_REASON_FAILED_ENTRY | 33)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_UC (1ull << 8)
#define EPT_CAP_WB (1ull << 14)
#define AR_REAL_DATA 0x93u   /* P S, read/write accessed, 16-bit */
#define AR_REAL_CODE 0x9bu   /* P S, execute/read accessed, 16-bit */
#define AR_TSS16_BUSY 0x83u  /* P, busy 16-bit TSS */
#define AR_FLAT_CODE32 0xc09bu
#define AR_FLAT_DATA32 0xc093u
#define PAGE_MASK 0xfffull

static uint64_t *page(enum nx_page p)
{
	return (uint64_t *)(uintptr_t)nx.page[p];
}

/* EPT12 and its EPTP: WB where offered, else UC; 4-level walk (SDM 25.6.11). */
static uint64_t ept12_build(void)
{
	uint64_t mt = (nx.ept_vpid_cap & EPT_CAP_WB) ? 6 : 0;
	page(PG_EPT_PML4)[0] = nx.page[PG_EPT_PDPT] | EPT_RWX;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t *pd = page(PG_EPT_PD0 + i);
		page(PG_EPT_PDPT)[i] = nx.page[PG_EPT_PD0 + i] | EPT_RWX;
		for (unsigned j = 0; j < 512; j++)
			pd[j] = ((uint64_t)i << 30) + ((uint64_t)j << 21) + (mt << 3) + EPT_LEAF +
				EPT_RWX;
	}
	return nx.page[PG_EPT_PML4] | (3ull << 3) | mt;
}

static void seg(unsigned i, uint64_t sel, uint64_t base, uint64_t limit, uint64_t ar)
{
	vw(VMCS_GUEST_ES_SELECTOR + 2 * i, sel);
	vw(VMCS_GUEST_ES_BASE + 2 * i, base);
	vw(VMCS_GUEST_ES_LIMIT + 2 * i, limit);
	vw(VMCS_GUEST_ES_AR_BYTES + 2 * i, ar);
}

/* CR0/CR4 and the entry controls of a 32-bit guest without paging; cr0 adds PE or not. */
static void unpaged(uint64_t cr0)
{
	uint32_t entry = (uint32_t)vr(VMCS_VM_ENTRY_CONTROLS);
	uint64_t c0 = (nx.cr0_fixed0 & ~(CR0_PE | CR0_PG)) | CR0_ET | cr0;
	vw(VMCS_VM_ENTRY_CONTROLS, nx_ctl(NX_ENTRY, entry & ~ENTRY_IA32E_MODE_GUEST));
	if (entry & ENTRY_LOAD_IA32_EFER)
		vw(VMCS_GUEST_IA32_EFER, 0);
	vw(VMCS_GUEST_CR0, c0);
	vw(VMCS_CR0_READ_SHADOW, c0);
	vw(VMCS_CR0_GUEST_HOST_MASK, 0);
	vw(VMCS_GUEST_CR4, nx.cr4_fixed0);
	vw(VMCS_CR4_READ_SHADOW, nx.cr4_fixed0);
	vw(VMCS_GUEST_CR3, 0);
}

/* Real mode: CS's base the page of the 16-bit code, the others 0, 64 KiB each. */
static uint64_t real_mode(void)
{
	uint64_t cs = (uint64_t)(uintptr_t)l2_real16 & ~PAGE_MASK;
	unpaged(0);
	for (unsigned i = 0; i < 6; i++)
		seg(i, 0, 0, 0xffff, AR_REAL_DATA);
	seg(1, (cs >> 4) & 0xffff, cs, 0xffff, AR_REAL_CODE);
	seg(7, 0, 0, 0xffff, AR_TSS16_BUSY); /* TR: 27.3.1.2 wants a busy TSS in any mode */
	vw(VMCS_GUEST_IDTR_BASE, 0);
	vw(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
	return cs;
}

static void unpaged_protected(void)
{
	unpaged(CR0_PE);
	for (unsigned i = 0; i < 6; i++)
		seg(i, NX_L2_SEL_DATA32, 0, 0xffffffffu, AR_FLAT_DATA32);
	seg(1, NX_L2_SEL_CODE32, 0, 0xffffffffu, AR_FLAT_CODE32);
	seg(7, NX_L2_SEL_TSS32_CUR, 0, 0x67, 0x8b);
}

static bool run16(uint64_t cs, char *ip, struct nx_exit *e)
{
	return nx_run((uint64_t)(uintptr_t)ip - cs, NX_RFLAGS_FIXED, e);
}

static void entry_fails_33(const char *what)
{
	struct nx_exit e;
	nx_run(vr(VMCS_GUEST_RIP), NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_INVALID_GUEST && e.qual == 0, what, "%s",
		 nx_exit_str(&e));
}

void nx_group_ug(void)
{
	nx_say("microhv-nested: group D - unrestricted guest (SDM Vol. 3C 25.6.2, 27.2.1.1, "
	       "27.3.1)");
	if (!nx_allowed(NX_PROC2, CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_EPT) ||
	    !(nx.ept_vpid_cap & EPT_CAP_2M) || !(nx.ept_vpid_cap & (EPT_CAP_WB | EPT_CAP_UC))) {
		nx_say("microhv-nested: note - no unrestricted guest, EPT, 2-MiB EPT pages or WB/UC "
		       "EPT in the capability MSRs: skipped");
		return;
	}
	nx_reset_l2();
	uint32_t proc2 = (uint32_t)vr(VMCS_SECONDARY_VM_EXEC_CONTROL);
	vw(VMCS_EPT_POINTER, ept12_build());
	uint64_t cs = real_mode();
	struct nx_exit e, n;

	/* 27.2.1.1: "unrestricted guest" requires "enable EPT". */
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2 | CPU2_UNRESTRICTED_GUEST);
	vw(VMCS_GUEST_RIP, (uint64_t)(uintptr_t)l2_real16 - cs);
	uint64_t r = nx_enter(nx.launched ? NX_RESUME : NX_LAUNCH);
	uint64_t err = nx_outcome(r) == NX_FAIL_VALID ? vr(VMCS_VM_INSTRUCTION_ERROR) : 0;
	nx_check(nx_outcome(r) == NX_FAIL_VALID && err == VMERR_BAD_CONTROLS,
		 "VM entry with unrestricted guest without enable EPT fails 7 (SDM 27.2.1.1)",
		 "%s error %llu", nx_result_str(r), (unsigned long long)err);
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2 | CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_EPT);

	/* Real mode: CPUID exits at its IP, then VMCALL. */
	bool ran = run16(cs, l2_real16, &e);
	uint64_t cr0 = vr(VMCS_GUEST_CR0), csb = vr(VMCS_GUEST_CS_BASE);
	nx_check(ran && e.reason == EXIT_REASON_CPUID && e.len == 2 &&
		     e.rip == (uint64_t)(uintptr_t)l2_real16 - cs && csb == cs && !(cr0 & CR0_PE),
		 "real-mode L2 (CR0.PE 0): CPUID exits (10) at its IP, CS base kept",
		 "%s IP 0x%llx CS base 0x%llx CR0 0x%llx", nx_exit_str(&e),
		 (unsigned long long)e.rip, (unsigned long long)csb, (unsigned long long)cr0);
	ran = ran && nx_skip(&e, &n);
	nx_check(ran && n.reason == EXIT_REASON_VMCALL &&
		     n.rip == (uint64_t)(uintptr_t)l2_real16_vmcall - cs,
		 "real-mode L2 resumed after CPUID: VMCALL exits (18) at its IP", "%s IP 0x%llx",
		 nx_exit_str(&n), (unsigned long long)n.rip);

	/* L2 enters protected mode itself: no exit, vmcs12's CR0 shows PE (27.3.1, 28.3.1). */
	real_mode();
	ran = run16(cs, l2_real16_pe, &e);
	cr0 = vr(VMCS_GUEST_CR0);
	uint64_t entry = vr(VMCS_VM_ENTRY_CONTROLS);
	nx_check(ran && e.reason == EXIT_REASON_VMCALL &&
		     e.rip == (uint64_t)(uintptr_t)l2_real16_pe_vmcall - cs && (cr0 & CR0_PE) &&
		     !(cr0 & CR0_PG) && !(entry & ENTRY_IA32E_MODE_GUEST),
		 "real-mode L2 sets CR0.PE without an exit; GUEST_CR0 shows PE, not PG",
		 "%s CR0 0x%llx entry 0x%llx", nx_exit_str(&e), (unsigned long long)cr0,
		 (unsigned long long)entry);

	/* Unpaged protected mode: linear = guest-physical, through EPT12. */
	unpaged_protected();
	ran = nx_run((uint64_t)(uintptr_t)l2_vmcall, NX_RFLAGS_FIXED, &e);
	cr0 = vr(VMCS_GUEST_CR0);
	nx_check(ran && e.reason == EXIT_REASON_VMCALL &&
		     e.rip == (uint64_t)(uintptr_t)l2_vmcall && (cr0 & CR0_PE) && !(cr0 & CR0_PG),
		 "unpaged protected-mode L2 (PE 1, PG 0) runs under EPT: VMCALL exits (18)",
		 "%s CR0 0x%llx", nx_exit_str(&e), (unsigned long long)cr0);

	/* Guest-state checks the control leaves in place (27.3.1.1, 27.3.1.2). */
	real_mode();
	vw(VMCS_GUEST_SS_AR_BYTES, AR_REAL_DATA | (3u << VMX_AR_DPL_SHIFT));
	vw(VMCS_GUEST_RIP, (uint64_t)(uintptr_t)l2_real16 - cs);
	entry_fails_33("real-mode L2 with SS.DPL 3 fails: reason 33 (SDM 27.3.1.2)");
	real_mode();
	vw(VMCS_GUEST_CR0, vr(VMCS_GUEST_CR0) | CR0_PG);
	vw(VMCS_GUEST_RIP, (uint64_t)(uintptr_t)l2_real16 - cs);
	entry_fails_33("L2 with CR0.PG 1 and PE 0 fails: reason 33 (SDM 27.3.1.1)");

	nx_reset_l2();
}
