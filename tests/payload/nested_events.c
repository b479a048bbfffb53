/*
 * nested_events.c - group D, part 2: VM exits caused by events in L2
 * (SDM Vol. 3C 26.2 "Other causes of VM exits", 26.7 the window controls,
 * 28.2.2 the VM-exit interruption information, 25.4.2 task switches).
 *
 * Exceptions follow the exception bitmap, and for #PF the error-code mask
 * and match (26.2): with bitmap bit 14 set a #PF exits iff
 * (error code & MASK) == MATCH, with it clear iff they differ.  A #PF that
 * does not exit is delivered through L2's IDT, whose handler reports it
 * with VMCALL (nested_l2.asm).  The external interrupt is a fixed self-IPI
 * that L1 sends while its own interrupts are off: pending at the VM entry,
 * it exits at once with "external-interrupt exiting", and "acknowledge
 * interrupt on exit" puts its vector into the exit's interruption
 * information.  The task switches need a 32-bit L2 (IA-32e mode has none):
 * 32-bit segments and PAE paging, entered with its PDPTEs.
 */
#include "nested_test.h"

#define L2(sym) ((uint64_t)(uintptr_t)(sym))
extern char l2_vmcall[], l2_nop[], l2_ud[], l2_bp[], l2_pf_write[], l2_pf_read[], l2_triple[];
extern char l2_32[], l2_32_cpuid[], l2_32_jmp[], l2_32_call[], l2_32_iret[];

#define SELF_IPI_VECTOR 0xf0
#define PF_ERR_WRITE 2u
#define L2_MAGIC 0x1badb002u
#define TASK_SWITCH_CALL 0ull
#define TASK_SWITCH_IRET 1ull
#define TASK_SWITCH_JMP 2ull

static uint32_t exc_info(uint32_t type, unsigned vector, bool code)
{
	return INTR_INFO_VALID | type | vector | (code ? INTR_INFO_DELIVER_CODE : 0);
}

static void ud_and_bp(void)
{
	struct nx_exit e, n;
	nx_reset_l2();
	nx_run(L2(l2_ud), NX_RFLAGS_FIXED, &e);
	uint32_t want = exc_info(INTR_TYPE_HARD_EXCEPTION, VEC_UD, false);
	nx_check(!e.entry && e.reason == EXIT_REASON_EXCEPTION_NMI && e.intr_info == want &&
		     e.rip == L2(l2_ud),
		 "#UD (ud2) exits by the exception bitmap (0), hardware exception",
		 "%s intr 0x%x, want 0x%x", nx_exit_str(&e), e.intr_info, want);

	nx_reset_l2();
	nx_run(L2(l2_bp), NX_RFLAGS_FIXED, &e);
	want = exc_info(INTR_TYPE_SOFT_EXCEPTION, VEC_BP, false);
	bool ok = !e.entry && e.reason == EXIT_REASON_EXCEPTION_NMI && e.intr_info == want &&
		  e.len == 1 && e.rip == L2(l2_bp);
	bool next = ok && nx_skip(&e, &n) && n.reason == EXIT_REASON_VMCALL;
	nx_check(ok && next, "#BP (int3) exits (0) as a software exception of length 1",
		 "%s intr 0x%x, want 0x%x; %s", nx_exit_str(&e), e.intr_info, want,
		 next ? "VMCALL next" : "no VMCALL next");
}

static uint64_t l2_off(uint64_t rip)
{
	return rip - L2(l2_vmcall);
}

/* A #PF at the unmapped address that must exit. */
static void pf_exits(const char *what, uint32_t mask, uint32_t match, bool bit14)
{
	struct nx_exit e;
	nx_reset_l2();
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MASK, mask);
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, match);
	if (!bit14)
		vw(VMCS_EXCEPTION_BITMAP, ~(1u << VEC_PF));
	nx_l2_gpr[GPR_RAX] = NX_L2_UNMAPPED;
	nx_run(L2(l2_pf_write), NX_RFLAGS_FIXED, &e);
	uint32_t want = exc_info(INTR_TYPE_HARD_EXCEPTION, VEC_PF, true);
	nx_check(!e.entry && e.reason == EXIT_REASON_EXCEPTION_NMI && e.intr_info == want &&
		     e.intr_error == PF_ERR_WRITE && e.qual == NX_L2_UNMAPPED &&
		     e.rip == L2(l2_pf_write),
		 what,
		 "reason %u qual 0x%llx rip L2+0x%llx intr 0x%x error 0x%x, want 0 0x%llx +0x%llx "
		 "0x%x 0x%x",
		 e.reason, (unsigned long long)e.qual, (unsigned long long)l2_off(e.rip),
		 e.intr_info, e.intr_error, NX_L2_UNMAPPED,
		 (unsigned long long)l2_off(L2(l2_pf_write)), want, PF_ERR_WRITE);
}

/* A #PF at the unmapped address that must reach L2's own handler. */
static void pf_delivered(const char *what, uint32_t mask, uint32_t match, bool bit14)
{
	struct nx_exit e;
	nx_reset_l2();
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MASK, mask);
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, match);
	if (!bit14)
		vw(VMCS_EXCEPTION_BITMAP, ~(1u << VEC_PF));
	nx_l2_gpr[GPR_RAX] = NX_L2_UNMAPPED;
	nx_run(L2(l2_pf_read), NX_RFLAGS_FIXED, &e);
	uint64_t vec = nx_l2_gpr[GPR_R15], cr2 = nx_l2_gpr[GPR_R14];
	uint64_t err = nx_l2_gpr[GPR_R13], rip = nx_l2_gpr[GPR_R12];
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && vec == VEC_PF &&
		     cr2 == NX_L2_UNMAPPED && err == 0 && rip == L2(l2_pf_read),
		 what, "reason %u; L2's handler: vector %llu cr2 0x%llx error 0x%llx rip L2+0x%llx",
		 e.reason, (unsigned long long)vec, (unsigned long long)cr2,
		 (unsigned long long)err, (unsigned long long)l2_off(rip));
}

static void page_faults(void)
{
	pf_exits("#PF (write) exits: bit 14 = 1, 2 & MASK 2 == MATCH 2", PF_ERR_WRITE, PF_ERR_WRITE,
		 true);
	pf_delivered("#PF (read) goes to L2's IDT: bit 14 = 1, 0 & MASK 2 != MATCH 2", PF_ERR_WRITE,
		     PF_ERR_WRITE, true);
	pf_exits("#PF (write) exits: bit 14 = 0, 2 & MASK 2 != MATCH 0", PF_ERR_WRITE, 0, false);
	pf_delivered("#PF (read) goes to L2's IDT: bit 14 = 0, 0 & MASK 2 == MATCH 0", PF_ERR_WRITE,
		     0, false);
}

static void interrupts(void)
{
	struct nx_exit e;
	/*
	 * L2 runs with IF = 1: the SDM has the exit regardless of IF, but Bochs
	 * 2.7 only re-evaluates interrupt masking when IF changes at the entry.
	 */
	const char *what = "external interrupt (self-IPI) exits (1) with its vector";
	nx_reset_l2();
	if (nx_set_ctl(NX_PIN, PIN_EXTERNAL_INTERRUPT_EXITING, what) &&
	    nx_set_ctl(NX_EXIT, EXIT_ACK_INTR_ON_EXIT, what)) {
		nx_apic_self_ipi(SELF_IPI_VECTOR);
		nx_run(L2(l2_nop), NX_RFLAGS_FIXED | NX_RFLAGS_IF, &e);
		if (e.intr_info & INTR_INFO_VALID)
			nx_apic_eoi();
		uint32_t want = INTR_INFO_VALID | INTR_TYPE_EXT_INTR | SELF_IPI_VECTOR;
		nx_check(!e.entry && e.reason == EXIT_REASON_EXTERNAL_INTERRUPT &&
			     e.intr_info == want,
			 what, "%s intr 0x%x, want 0x%x", nx_exit_str(&e), e.intr_info, want);
	}

	what = "interrupt window exits (7) before L2's first instruction (IF = 1)";
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_INTR_WINDOW_EXITING, what)) {
		nx_run(L2(l2_nop), NX_RFLAGS_FIXED | NX_RFLAGS_IF, &e);
		nx_check(!e.entry && e.reason == EXIT_REASON_INTERRUPT_WINDOW &&
			     e.rip == L2(l2_nop),
			 what, "%s", nx_exit_str(&e));
	}

	what = "NMI window exits (8) before L2's first instruction (virtual NMIs)";
	nx_reset_l2();
	if (nx_set_ctl(NX_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, what) &&
	    nx_set_ctl(NX_PROC, CPU_NMI_WINDOW_EXITING, what)) {
		nx_run(L2(l2_nop), NX_RFLAGS_FIXED, &e);
		nx_check(!e.entry && e.reason == EXIT_REASON_NMI_WINDOW && e.rip == L2(l2_nop),
			 what, "%s", nx_exit_str(&e));
	}
}

static void triple_fault(void)
{
	struct nx_exit e;
	nx_reset_l2();
	vw(VMCS_EXCEPTION_BITMAP, 0);
	uint64_t *idtr = (uint64_t *)(uintptr_t)nx.page[PG_SCRATCH];
	idtr[0] = 0; /* limit 0, base 0 */
	idtr[1] = 0;
	nx_run(L2(l2_triple), NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_TRIPLE_FAULT,
		 "triple fault exits (2): IDT limit 0, then #UD", "%s", nx_exit_str(&e));
}

static void task_switches(void)
{
	struct nx_exit e, n;
	nx_reset_l2();
	nx_guest32_pae(nx.page[PG_L2_PAE_PDPT]);
	*(uint32_t *)(uintptr_t)nx.page[PG_SCRATCH] = L2_MAGIC;
	nx_run(L2(l2_32), NX_RFLAGS_FIXED, &e);
	bool ran = !e.entry && e.reason == EXIT_REASON_CPUID && e.rip == L2(l2_32_cpuid);
	nx_check(ran && (uint32_t)nx_l2_gpr[GPR_RSI] == L2_MAGIC,
		 "32-bit PAE L2 runs: memory read through its PDPTEs, CPUID exits", "%s rsi 0x%llx",
		 nx_exit_str(&e), (unsigned long long)nx_l2_gpr[GPR_RSI]);

	uint64_t want = NX_L2_SEL_TSS32_TARGET | (TASK_SWITCH_JMP << 30);
	ran = ran && nx_skip(&e, &n);
	nx_check(ran && n.reason == EXIT_REASON_TASK_SWITCH && n.qual == want && n.len == 7 &&
		     n.rip == L2(l2_32_jmp),
		 "far JMP to a TSS exits (9): qualification = selector, source JMP",
		 "%s, want qual 0x%llx len 7", ran ? nx_exit_str(&n) : "-",
		 (unsigned long long)want);

	want = NX_L2_SEL_TSS32_TARGET | (TASK_SWITCH_CALL << 30);
	nx_run(L2(l2_32_call), NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_TASK_SWITCH && e.qual == want && e.len == 7,
		 "far CALL to a TSS exits (9): source CALL", "%s, want qual 0x%llx len 7",
		 nx_exit_str(&e), (unsigned long long)want);

	want = NX_L2_SEL_TSS32_BACK | (TASK_SWITCH_IRET << 30);
	nx_run(L2(l2_32_iret), NX_RFLAGS_FIXED | NX_RFLAGS_NT, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_TASK_SWITCH && e.qual == want && e.len == 1,
		 "IRET with NT = 1 exits (9): back link, source IRET", "%s, want qual 0x%llx len 1",
		 nx_exit_str(&e), (unsigned long long)want);
	nx_reset_l2();
}

/*
 * Event injection (SDM Vol. 3C 27.6): the event L1 writes into the VM-entry
 * interruption-information field is delivered through L2's IDT (the
 * exception bitmap is not consulted), with its error code; the exit that
 * follows leaves the field's valid bit clear (28.2).  An external
 * interrupt needs RFLAGS.IF = 1 in the guest state (27.3.1.4).
 */
static void injection(void)
{
	struct nx_exit f;
	nx_reset_l2();
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | 0x40);
	nx_run(L2(l2_nop), NX_RFLAGS_FIXED, &f);
	nx_check(!f.entry && f.reason == (EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE) &&
			 f.qual == 0,
		 "injecting an external interrupt into L2 with RFLAGS.IF = 0: invalid guest state",
		 "%s", nx_exit_str(&f));
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);

	static const struct {
		const char *what;
		uint32_t info, error;
	} cases[] = {
		{ "injected external interrupt 0x40 is delivered through L2's IDT",
		  INTR_INFO_VALID | INTR_TYPE_EXT_INTR | 0x40, 0 },
		{ "injected #GP with error code 0x1234 is delivered through L2's IDT",
		  INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_GP,
		  0x1234 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nx_exit e;
		nx_reset_l2();
		vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, cases[i].info);
		vw(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, cases[i].error);
		nx_run(L2(l2_nop), NX_RFLAGS_FIXED | NX_RFLAGS_IF, &e);
		uint64_t vec = nx_l2_gpr[GPR_R15], top = nx_l2_gpr[GPR_R13];
		uint64_t next = nx_l2_gpr[GPR_R12], after = vr(VMCS_VM_ENTRY_INTR_INFO_FIELD);
		bool code = cases[i].info & INTR_INFO_DELIVER_CODE;
		bool frame = code ? top == cases[i].error && next == L2(l2_nop) : top == L2(l2_nop);
		nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL &&
				 vec == (cases[i].info & INTR_INFO_VECTOR_MASK) && frame &&
				 !(after & INTR_INFO_VALID),
			 cases[i].what,
			 "reason %u; L2's handler: vector %llu stack 0x%llx 0x%llx; entry field now 0x%llx",
			 e.reason, (unsigned long long)vec, (unsigned long long)top,
			 (unsigned long long)next, (unsigned long long)after);
		vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	}
}

void nx_group_events(void)
{
	nx_say("microhv-nested: group D - VM exits from L2: events (SDM Vol. 3C 26.2, 26.7, 28.2)");
	ud_and_bp();
	injection();
	page_faults();
	interrupts();
	triple_fault();
	task_switches();
}
