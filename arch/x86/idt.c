/*
 * idt.c - building the core's IDT and reporting exceptions on serial.
 */
#include "idt.h"

#include "drivers/serial/log.h"

#define ISR_STUB_STRIDE 16
#define GATE_INTERRUPT_PRESENT 0x8e
#define VEC_NMI_IDT 2
#define VEC_GP_FIXUP 13 /* #GP: the only fault the safe instructions expect */ /* P=1, DPL=0, type 0xE: 64-bit interrupt gate */

extern char isr_stubs[];

/* (faulting instruction, resume address) pairs from arch/x86/safe_insn.asm. */
struct fixup {
	uint64_t insn;
	uint64_t resume;
};
extern const struct fixup __fixup_start[], __fixup_end[];

static uint64_t g_breakpoints;

void (*idt_nmi_hook)(void);

static const char *const exception_names[IDT_EXCEPTION_VECTORS] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "15",  "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	"22",  "23",  "24",  "25",  "26",  "27",  "#HV", "#VC", "#SX", "31",
};

void idt_build(struct idt *idt, uint16_t cs, struct desc_ptr *idtr)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		struct idt_gate *g = &idt->gate[v];
		*g = (struct idt_gate){ 0 };
		if (v >= IDT_EXCEPTION_VECTORS)
			continue;
		uint64_t a = (uint64_t)(uintptr_t)(isr_stubs + v * ISR_STUB_STRIDE);
		g->offset_low = (uint16_t)a;
		g->offset_mid = (uint16_t)(a >> 16);
		g->offset_high = (uint32_t)(a >> 32);
		g->selector = cs;
		g->type_attr = GATE_INTERRUPT_PRESENT;
	}
	idtr->base = (uint64_t)(uintptr_t)idt->gate;
	idtr->limit = sizeof(idt->gate) - 1;
}

uint64_t idt_breakpoint_count(void)
{
	return g_breakpoints;
}

static void dump_registers(const struct exception_frame *f)
{
	log_error("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx", (unsigned long long)f->rax,
		  (unsigned long long)f->rbx, (unsigned long long)f->rcx,
		  (unsigned long long)f->rdx);
	log_error("  rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx", (unsigned long long)f->rsi,
		  (unsigned long long)f->rdi, (unsigned long long)f->rbp,
		  (unsigned long long)f->rsp);
	log_error("  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx", (unsigned long long)f->r8,
		  (unsigned long long)f->r9, (unsigned long long)f->r10,
		  (unsigned long long)f->r11);
	log_error("  r12=%016llx r13=%016llx r14=%016llx r15=%016llx", (unsigned long long)f->r12,
		  (unsigned long long)f->r13, (unsigned long long)f->r14,
		  (unsigned long long)f->r15);
	log_error("  cs=%04llx ss=%04llx rflags=%016llx cr0=%016llx cr3=%016llx cr4=%016llx",
		  (unsigned long long)f->cs, (unsigned long long)f->ss,
		  (unsigned long long)f->rflags, (unsigned long long)read_cr0(),
		  (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

void idt_exception_dispatch(struct exception_frame *f)
{
	unsigned v = (unsigned)f->vector;
	if (v == VEC_GP_FIXUP) {
		for (const struct fixup *x = __fixup_start; x < __fixup_end; x++) {
			if (x->insn == f->rip) {
				f->rip = x->resume;
				return;
			}
		}
	}
	/*
	 * An NMI that arrives while this CPU is in VMX root belongs to L1:
	 * the hook records it for injection at the next VM entry.  No logging
	 * here: the NMI may have interrupted a CPU holding the log lock.
	 */
	if (v == VEC_NMI_IDT && idt_nmi_hook) {
		idt_nmi_hook();
		return;
	}
	const char *name = v < IDT_EXCEPTION_VECTORS ? exception_names[v] : "?";
	enum log_level level = v == EXC_BP ? LOG_INFO : LOG_ERROR;

	if (v == EXC_PF)
		log_msg(level, "exception %s (vector %u) error code 0x%llx rip 0x%llx cr2 0x%llx",
			name, v, (unsigned long long)f->error_code, (unsigned long long)f->rip,
			(unsigned long long)read_cr2());
	else
		log_msg(level, "exception %s (vector %u) error code 0x%llx rip 0x%llx", name, v,
			(unsigned long long)f->error_code, (unsigned long long)f->rip);

	if (v == EXC_BP) {
		g_breakpoints++;
		return; /* INT3 is a trap: rip already points past it */
	}
	dump_registers(f);
	log_error("unexpected exception in the hypervisor core: CPU halted");
	cpu_halt_forever();
}
