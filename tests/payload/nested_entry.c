/*
 * nested_entry.c - group C: VM-entry failures after the checks on the
 * guest-state area (SDM Vol. 3C 27.3) and during MSR loading (27.4).
 *
 * Such a failure is a VM exit of its own (27.8): the exit reason has bit
 * 31 set with basic reason 33 ("invalid guest state") or 34 ("MSR
 * loading"), the qualification says which check (0 default, 2 PDPTE
 * loading, 4 VMCS link pointer) or which MSR entry (1-based), and L1 comes
 * back at its host RIP with its host state loaded: each case checks that
 * state field by field, against values L1 did not run on before the entry
 * (below).  The VMCS stays "clear", so after the broken field is repaired
 * the next VMLAUNCH (not VMRESUME) must work; each case checks that too.
 *
 * The MSR-load cases use MSRs the SDM refuses by name (27.4: the x2APIC
 * range, IA32_FS_BASE/IA32_GS_BASE, bits 63:32 set).  IA32_SMBASE would
 * fail only through "WRMSR would #GP", and Bochs 2.7 ignores writes to MSRs
 * it does not model, so it accepts that entry.
 */
#include "drivers/serial/format.h"
#include "nested_test.h"

extern char l2_vmcall[];

#define CR0_PE (1ull << 0)
#define CR4_VMXE (1ull << 13)
#define QUAL_DEFAULT 0
#define QUAL_PDPTE 2
#define QUAL_LINK_POINTER 4
#define MSR_X2APIC_TPR 0x808
#define PDPTE_RESERVED_RW (1ull << 1) /* reserved in a PAE PDPTE (Vol. 3A 4.4.1) */

struct msr_entry {
	uint32_t index, reserved;
	uint64_t data;
};

enum breakage {
	BREAK_CR0_PE,
	BREAK_RFLAGS,
	BREAK_LINK,
	BREAK_MSR_X2APIC,
	BREAK_MSR_FS_BASE,
	BREAK_MSR_RESERVED,
	BREAK_PDPTE
};

static uint64_t bad_pdpt(void)
{
	return nx.page[PG_MSR_LOAD] + 0x800;
}

static void apply(enum breakage b)
{
	struct msr_entry *list = (struct msr_entry *)(uintptr_t)nx.page[PG_MSR_LOAD];
	switch (b) {
	case BREAK_CR0_PE: /* PG = 1 with PE = 0 */
		vw(VMCS_GUEST_CR0, read_cr0() & ~CR0_PE);
		break;
	case BREAK_RFLAGS: /* reserved bit 1 clear */
		vw(VMCS_GUEST_RFLAGS, 0);
		break;
	case BREAK_LINK: /* not ~0: a page without a VMCS revision */
		vw(VMCS_VMCS_LINK_POINTER, nx.page[PG_ZERO]);
		break;
	case BREAK_MSR_X2APIC:
		list[0] = (struct msr_entry){MSR_X2APIC_TPR, 0, 0};
		vw(VMCS_VM_ENTRY_MSR_LOAD_ADDR, nx.page[PG_MSR_LOAD]);
		vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1);
		break;
	case BREAK_MSR_FS_BASE: /* entry 1 is good, entry 2 is not */
		list[0] = (struct msr_entry){MSR_IA32_SYSENTER_CS, 0, 0};
		list[1] = (struct msr_entry){MSR_IA32_FS_BASE, 0, 0};
		vw(VMCS_VM_ENTRY_MSR_LOAD_ADDR, nx.page[PG_MSR_LOAD]);
		vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2);
		break;
	case BREAK_MSR_RESERVED: /* bits 63:32 of the entry not 0 */
		list[0] = (struct msr_entry){MSR_IA32_SYSENTER_CS, 1, 0};
		vw(VMCS_VM_ENTRY_MSR_LOAD_ADDR, nx.page[PG_MSR_LOAD]);
		vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1);
		break;
	case BREAK_PDPTE: {
		uint64_t *good = (uint64_t *)(uintptr_t)nx.page[PG_L2_PAE_PDPT];
		uint64_t *pdpt = (uint64_t *)(uintptr_t)bad_pdpt();
		for (unsigned i = 0; i < 4; i++)
			pdpt[i] = good[i];
		pdpt[0] |= PDPTE_RESERVED_RW;
		nx_guest32_pae(bad_pdpt());
		break;
	}
	}
}

static void repair(enum breakage b)
{
	switch (b) {
	case BREAK_MSR_X2APIC:
	case BREAK_MSR_FS_BASE:
	case BREAK_MSR_RESERVED:
		vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
		break;
	case BREAK_PDPTE:
		/* The good PAE tables; L2 starts at a VMCALL, which 32-bit code decodes alike. */
		nx_guest32_pae(nx.page[PG_L2_PAE_PDPT]);
		break;
	default:
		nx_guest64();
		break;
	}
}

/*
 * L1's host state around a failed entry.  A VM-entry failure loads the
 * host state as a VM exit does (SDM Vol. 3C 27.8 step 2, 28.5), so before
 * the entry L1 runs on values the load must replace, and each one read
 * back afterwards proves it was loaded:
 *   GDTR, IDTR   copies of L1's tables with their own limits; after: the
 *                host bases and limits FFFFH (28.5.2)
 *   CR3          a copy of L1's top-level page table; after: HOST_CR3
 *   DR7          with LE set; after: 400H (28.5.1)
 *   RFLAGS.AC    1; after: RFLAGS = 2 (28.5.3; the exit stub touches only
 *                arithmetic flags)
 * and the host-state area names values other than the live ones:
 *   CR0.AM and CR4.TSD flipped, the SYSENTER MSRs, the FS and GS bases,
 *   IA32_PAT and IA32_EFER.SCE (each XORed with a constant, 28.5.1,
 *   28.5.2), DS and ES null (allowed for a 64-bit host, 27.2.3).
 * HOST_RIP and HOST_RSP are proved by nx_enter returning 0 at all: only
 * nx_exit_stub, on nx_enter's own stack, returns that.  Every flip is
 * harmless at CPL 0 with interrupts off: AM and AC act only at CPL 3, TSD
 * only on RDTSC at CPL > 0, SCE only on SYSCALL, PAT entry 7 only for
 * pages that select it, and LE only with a breakpoint enabled.
 */
#define CR0_AM (1ull << 18)
#define CR4_TSD (1ull << 2)
#define DR7_LE (1ull << 8)
#define DR7_AFTER_EXIT 0x400ull
#define DESC_LIMIT_AFTER_EXIT 0xffff
#define PAGE_FRAME 0x000ffffffffff000ull
#define PAT_ENTRY7_LOW (1ull << 56) /* UC<->WC, UC-<->WB or WT<->WP: still valid */

static const struct {
	uint32_t msr, field;
	uint64_t flip;
	const char *name;
} host_msr[] = {
    {MSR_IA32_SYSENTER_CS, VMCS_HOST_IA32_SYSENTER_CS, 0x5a38, "sysenter_cs"},
    /* The flips stay below bit 32: a canonical value stays canonical. */
    {MSR_IA32_SYSENTER_ESP, VMCS_HOST_IA32_SYSENTER_ESP, 0x12345000, "sysenter_esp"},
    {MSR_IA32_SYSENTER_EIP, VMCS_HOST_IA32_SYSENTER_EIP, 0x23456000, "sysenter_eip"},
    {MSR_IA32_FS_BASE, VMCS_HOST_FS_BASE, 0x34567000, "fs_base"},
    {MSR_IA32_GS_BASE, VMCS_HOST_GS_BASE, 0x45678000, "gs_base"},
    {MSR_IA32_PAT, VMCS_HOST_IA32_PAT, PAT_ENTRY7_LOW, "pat"},
    {MSR_IA32_EFER, VMCS_HOST_IA32_EFER, EFER_SCE, "efer"},
};
#define HOST_MSRS (sizeof(host_msr) / sizeof(host_msr[0]))

struct l1_state {
	uint64_t cr0, cr3, cr4, dr7, rflags;
	uint64_t msr[HOST_MSRS];
	struct desc_ptr gdtr, idtr;
	uint16_t ds, es, ss, tr;
};

/* What the bait changes, decided once per entry. */
struct bait {
	struct l1_state before; /* L1's own state, restored afterwards */
	uint64_t cr0_flip, cr4_flip;
	bool msr_on[HOST_MSRS];
};

static void read_state(struct l1_state *s)
{
	s->rflags = read_rflags();
	s->cr0 = read_cr0();
	s->cr3 = read_cr3();
	s->cr4 = read_cr4();
	s->dr7 = read_dr7();
	sgdt(&s->gdtr);
	sidt(&s->idtr);
	s->ds = read_ds();
	s->es = read_es();
	s->ss = read_ss();
	s->tr = read_tr();
	for (unsigned i = 0; i < HOST_MSRS; i++) {
		s->msr[i] = 0;
		nx_rdmsr(host_msr[i].msr, &s->msr[i]);
	}
}

static void load_ds_es(uint16_t ds, uint16_t es)
{
	__asm__ volatile("mov %0, %%ds\n\tmov %1, %%es" : : "r"(ds), "r"(es) : "memory");
}

static void lgdt(const struct desc_ptr *p)
{
	__asm__ volatile("lgdt %0" : : "m"(*p) : "memory");
}

/* A bit L1 may flip in a host CR: free in both fixed MSRs. */
static uint64_t free_bit(uint64_t bit, uint64_t fixed0, uint64_t fixed1)
{
	return (fixed1 & bit) && !(fixed0 & bit) ? bit : 0;
}

/* The host-state area names other values than L1 runs on; L1 runs on copies. */
static void bait_host_state(struct bait *b)
{
	struct l1_state *s = &b->before;
	read_state(s);
	uint32_t exit = (uint32_t)vr(VMCS_VM_EXIT_CONTROLS);
	b->cr0_flip = free_bit(CR0_AM, nx.cr0_fixed0, nx.cr0_fixed1);
	b->cr4_flip = free_bit(CR4_TSD, nx.cr4_fixed0, nx.cr4_fixed1);
	vw(VMCS_HOST_CR0, s->cr0 ^ b->cr0_flip);
	vw(VMCS_HOST_CR3, s->cr3);
	vw(VMCS_HOST_CR4, s->cr4 ^ b->cr4_flip);
	vw(VMCS_HOST_GDTR_BASE, nx.gdt);
	vw(VMCS_HOST_IDTR_BASE, nx.idt);
	vw(VMCS_HOST_DS_SELECTOR, 0);
	vw(VMCS_HOST_ES_SELECTOR, 0);
	for (unsigned i = 0; i < HOST_MSRS; i++) {
		b->msr_on[i] = (host_msr[i].msr != MSR_IA32_PAT || (exit & EXIT_LOAD_IA32_PAT)) &&
			       (host_msr[i].msr != MSR_IA32_EFER || (exit & EXIT_LOAD_IA32_EFER));
		if (b->msr_on[i])
			vw(host_msr[i].field, s->msr[i] ^ host_msr[i].flip);
	}

	uint8_t *gdt = (uint8_t *)(uintptr_t)nx.page[PG_L1_GDT_ALT];
	uint8_t *idt = (uint8_t *)(uintptr_t)nx.page[PG_L1_IDT_ALT];
	uint64_t *top = (uint64_t *)(uintptr_t)nx.page[PG_L1_CR3_ALT];
	const uint8_t *gdt0 = (const uint8_t *)(uintptr_t)nx.gdt;
	const uint8_t *idt0 = (const uint8_t *)(uintptr_t)nx.idt;
	const uint64_t *top0 = (const uint64_t *)(uintptr_t)(s->cr3 & PAGE_FRAME);
	for (unsigned i = 0; i < 4096; i++) {
		gdt[i] = gdt0[i];
		idt[i] = idt0[i];
	}
	for (unsigned i = 0; i < 512; i++)
		top[i] = top0[i];
	struct desc_ptr g = {nx.gdt_limit, nx.page[PG_L1_GDT_ALT]};
	struct desc_ptr d = {nx.idt_limit, nx.page[PG_L1_IDT_ALT]};
	lgdt(&g);
	lidt(&d);
	write_cr3(nx.page[PG_L1_CR3_ALT] | (s->cr3 & ~PAGE_FRAME));
	write_dr7(s->dr7 | DR7_LE);
}

/* L1's own state back, and the host-state area as nx_vmcs_init wrote it. */
static void restore_host_state(const struct bait *b)
{
	const struct l1_state *s = &b->before;
	write_rflags(s->rflags);
	lgdt(&s->gdtr);
	lidt(&s->idtr);
	write_cr0(s->cr0);
	write_cr3(s->cr3);
	write_cr4(s->cr4);
	write_dr7(s->dr7);
	load_ds_es(s->ds, s->es);
	for (unsigned i = 0; i < HOST_MSRS; i++)
		if (b->msr_on[i])
			nx_wrmsr(host_msr[i].msr, s->msr[i]);
	vw(VMCS_HOST_CR0, s->cr0);
	vw(VMCS_HOST_CR4, s->cr4);
	vw(VMCS_HOST_DS_SELECTOR, s->ds);
	vw(VMCS_HOST_ES_SELECTOR, s->es);
	for (unsigned i = 0; i < HOST_MSRS; i++)
		if (b->msr_on[i])
			vw(host_msr[i].field, s->msr[i]);
}

/* Fields checked, and the names of those that failed. */
struct tally {
	unsigned fields, n;
	char bad[100];
};

/*
 * One field: L1 ran on another value before the entry (so the check can
 * fail) and runs on the host-state area's after it.  A field that was
 * already right before is named with "=", one not loaded with "!".
 */
static void field(struct tally *t, const char *name, uint64_t live, uint64_t now, uint64_t want)
{
	t->fields++;
	const char *why = live == want ? "=" : now != want ? "!" : 0;
	if (why && t->n < sizeof(t->bad))
		t->n += (unsigned)fmt_snprintf(t->bad + t->n, sizeof(t->bad) - t->n, " %s%s", why,
					       name);
}

/*
 * After a failed entry: L1 runs on its host state, as loaded from the area
 * (27.8, 28.5); live is L1's state just before the entry, now just after.
 */
static void host_state_check(const char *what, const struct bait *b, const struct l1_state *live,
			     const struct l1_state *now)
{
	const struct l1_state *s = &b->before;
	struct tally t = {0};
	field(&t, "gdtr.limit", live->gdtr.limit, now->gdtr.limit, DESC_LIMIT_AFTER_EXIT);
	field(&t, "gdtr.base", live->gdtr.base, now->gdtr.base, nx.gdt);
	field(&t, "idtr.limit", live->idtr.limit, now->idtr.limit, DESC_LIMIT_AFTER_EXIT);
	field(&t, "idtr.base", live->idtr.base, now->idtr.base, nx.idt);
	if (b->cr0_flip)
		field(&t, "cr0", live->cr0, now->cr0, s->cr0 ^ b->cr0_flip);
	field(&t, "cr3", live->cr3, now->cr3, s->cr3);
	if (b->cr4_flip)
		field(&t, "cr4", live->cr4, now->cr4, s->cr4 ^ b->cr4_flip);
	field(&t, "dr7", live->dr7, now->dr7, DR7_AFTER_EXIT);
	field(&t, "rflags.ac", live->rflags & RFLAGS_AC, now->rflags & RFLAGS_AC, 0);
	field(&t, "ds", live->ds, now->ds, 0);
	field(&t, "es", live->es, now->es, 0);
	for (unsigned i = 0; i < HOST_MSRS; i++)
		if (b->msr_on[i])
			field(&t, host_msr[i].name, live->msr[i], now->msr[i],
			      s->msr[i] ^ host_msr[i].flip);
	/* Not changed on purpose: SS and TR stay L1's. */
	bool kept = now->ss == nx.ss && now->tr == nx.tr;
	nx_check(!t.bad[0] && kept, what,
		 "%u fields changed to the area's; gdtr/idtr limits 0x%x/0x%x -> 0x%x/0x%x%s%s%s",
		 t.fields, live->gdtr.limit, live->idtr.limit, now->gdtr.limit, now->idtr.limit,
		 kept ? "" : "; ss/tr not L1's", t.bad[0] ? "; wrong:" : "", t.bad);
}

/* The host-state check's name, per case. */
static const char *const host_check_what[] = {
    [BREAK_CR0_PE] = "L1 on its VMCS's host state after the CR0.PG/PE failure",
    [BREAK_RFLAGS] = "L1 on its VMCS's host state after the RFLAGS failure",
    [BREAK_LINK] = "L1 on its VMCS's host state after the link-pointer failure",
    [BREAK_PDPTE] = "L1 on its VMCS's host state after the PDPTE failure",
    [BREAK_MSR_X2APIC] = "L1 on its VMCS's host state after the x2APIC MSR-load failure",
    [BREAK_MSR_FS_BASE] = "L1 on its VMCS's host state after MSR-load entry 1 and failed 2",
    [BREAK_MSR_RESERVED] = "L1 on its VMCS's host state after the reserved-bits MSR-load failure",
};

static void entry_failure(const char *what, enum breakage b, uint32_t basic, uint64_t qual)
{
	uint64_t r = nx_vmcs_init(PG_VMCS_B);
	if (nx_outcome(r) != NX_SUCCEED) {
		nx_check(false, what, "VMPTRLD of a fresh VMCS gave %s", nx_result_str(r));
		return;
	}
	apply(b);
	struct nx_exit e;
	struct bait bait;
	struct l1_state live, now;
	bait_host_state(&bait);
	write_rflags(read_rflags() | RFLAGS_AC);
	read_state(&live);
	nx_enter_read(NX_LAUNCH, &e);
	read_state(&now);
	restore_host_state(&bait);
	uint32_t want = EXIT_REASON_FAILED_ENTRY | basic;
	nx_check(!e.entry && e.reason == want && e.qual == qual, what,
		 "%s, want reason 0x%x qual 0x%llx", nx_exit_str(&e), want,
		 (unsigned long long)qual);
	host_state_check(host_check_what[b], &bait, &live, &now);

	repair(b);
	struct nx_exit g;
	nx_enter_read(NX_LAUNCH, &g);
	nx_check(
	    !g.entry && g.reason == EXIT_REASON_VMCALL && g.rip == (uint64_t)(uintptr_t)l2_vmcall,
	    "then, repaired, VMLAUNCH of the same VMCS works (still clear)", "%s", nx_exit_str(&g));
}

void nx_group_entry(void)
{
	nx_say("microhv-nested: group C - VM-entry failures (SDM Vol. 3C 27.3, 27.4, 27.8)");
	entry_failure("guest CR0.PG = 1 with PE = 0: invalid guest state", BREAK_CR0_PE,
		      EXIT_REASON_INVALID_GUEST_STATE, QUAL_DEFAULT);
	entry_failure("guest RFLAGS bit 1 clear: invalid guest state", BREAK_RFLAGS,
		      EXIT_REASON_INVALID_GUEST_STATE, QUAL_DEFAULT);
	entry_failure("VMCS link pointer not ~0: invalid guest state, qualification 4", BREAK_LINK,
		      EXIT_REASON_INVALID_GUEST_STATE, QUAL_LINK_POINTER);
	entry_failure("PAE L2 with a reserved bit in a PDPTE: qualification 2", BREAK_PDPTE,
		      EXIT_REASON_INVALID_GUEST_STATE, QUAL_PDPTE);
	entry_failure("entry MSR-load of x2APIC MSR 0x808: MSR loading, entry 1", BREAK_MSR_X2APIC,
		      EXIT_REASON_MSR_LOADING, 1);
	entry_failure("entry MSR-load of IA32_FS_BASE as entry 2: MSR loading, entry 2",
		      BREAK_MSR_FS_BASE, EXIT_REASON_MSR_LOADING, 2);
	entry_failure("entry MSR-load entry with bits 63:32 set: MSR loading, entry 1",
		      BREAK_MSR_RESERVED, EXIT_REASON_MSR_LOADING, 1);
}
