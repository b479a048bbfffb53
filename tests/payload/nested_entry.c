/*
 * nested_entry.c - group C: VM-entry failures after the checks on the
 * guest-state area (SDM Vol. 3C 27.3) and during MSR loading (27.4).
 *
 * Such a failure is a VM exit of its own (27.8): the exit reason has bit
 * 31 set with basic reason 33 ("invalid guest state") or 34 ("MSR
 * loading"), the qualification says which check (0 default, 2 PDPTE
 * loading, 4 VMCS link pointer) or which MSR entry (1-based), and L1 comes
 * back at its host RIP with its host state loaded.  The VMCS stays "clear",
 * so after the broken field is repaired the next VMLAUNCH (not VMRESUME)
 * must work; each case checks that too.
 *
 * The MSR-load cases use MSRs the SDM refuses by name (27.4: the x2APIC
 * range, IA32_FS_BASE/IA32_GS_BASE, bits 63:32 set).  IA32_SMBASE would
 * fail only through "WRMSR would #GP", and Bochs 2.7 ignores writes to MSRs
 * it does not model, so it accepts that entry.
 */
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

/* After a failed entry: L1 runs on its host state (SDM 27.8, 28.5). */
static void host_state_check(void)
{
	struct desc_ptr g, i;
	sgdt(&g);
	sidt(&i);
	uint64_t cr3 = read_cr3(), cr4 = read_cr4();
	nx_check(cr3 == nx.cr3 && (cr4 & CR4_VMXE) && g.base == nx.gdt && i.base == nx.idt &&
		     read_tr() == nx.tr && read_ss() == nx.ss,
		 "after a failed entry L1 is back on its host state",
		 "cr3 0x%llx cr4 0x%llx gdtr 0x%llx idtr 0x%llx tr 0x%x ss 0x%x",
		 (unsigned long long)cr3, (unsigned long long)cr4, (unsigned long long)g.base,
		 (unsigned long long)i.base, read_tr(), read_ss());
}

static void entry_failure(const char *what, enum breakage b, uint32_t basic, uint64_t qual)
{
	uint64_t r = nx_vmcs_init(PG_VMCS_B);
	if (nx_outcome(r) != NX_SUCCEED) {
		nx_check(false, what, "VMPTRLD of a fresh VMCS gave %s", nx_result_str(r));
		return;
	}
	apply(b);
	struct nx_exit e;
	nx_enter_read(NX_LAUNCH, &e);
	uint32_t want = EXIT_REASON_FAILED_ENTRY | basic;
	nx_check(!e.entry && e.reason == want && e.qual == qual, what,
		 "%s, want reason 0x%x qual 0x%llx", nx_exit_str(&e), want,
		 (unsigned long long)qual);
	if (b == BREAK_CR0_PE)
		host_state_check();

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
