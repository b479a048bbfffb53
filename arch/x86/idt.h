/*
 * idt.h - the core's IDT: the 32 architectural exception vectors, each with
 * a stub (arch/x86/isr.asm) that saves every general-purpose register and
 * calls idt_exception_dispatch with the frame below.
 *
 * Policy: #BP (vector 3) is logged and execution continues after the INT3
 * (the core's self-test uses it); every other exception in the core is a
 * hypervisor bug, so it is logged with a register dump and the CPU halts.
 */
#ifndef MICROHV_ARCH_IDT_H
#define MICROHV_ARCH_IDT_H

#include "cpu.h"

#include <stdint.h>

#define IDT_EXCEPTION_VECTORS 32
#define IDT_VECTORS 256
#define EXC_BP 3
#define EXC_PF 14

/* As the stubs build it on the stack: lowest address first. */
struct exception_frame {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error_code; /* error_code is 0 where the CPU pushes none */
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU (SDM Vol. 3A 6.14.2) */
};

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

struct idt {
	struct idt_gate gate[IDT_VECTORS];
} __attribute__((aligned(16)));

/* Fills the exception gates with code selector cs; other vectors not present. */
void idt_build(struct idt *idt, uint16_t cs, struct desc_ptr *idtr);

/* Called by the stubs; returns to resume at frame->rip. */
void idt_exception_dispatch(struct exception_frame *f);

/* Called for an NMI taken in the core (VMX root), instead of halting. */
extern void (*idt_nmi_hook)(void);

/* How many #BP the handler has seen (the self-test checks it moved). */
uint64_t idt_breakpoint_count(void);

#endif
