/*
 * task_switch_fixture.h - a 32-bit protected-mode L1 with two tasks, for
 * the task-switch tests (test_task_switch*.c).
 *
 * L1's "physical memory" is TSF_RAM_SIZE bytes of host buffer behind a
 * struct l1_memory (hw_fake_l1_memory); [TSF_L0_BASE, +TSF_L0_SIZE) in it
 * is refused as L0's own, and so is everything beyond it.  vmcs01 (the
 * software VMCS) holds the old task: CPL 0, CS 0x08, SS 0x10, data
 * selectors 0x23/0x2b/0x33/0x3b, TR 0x18 (busy 32-bit TSS at 0x20000),
 * LDTR unusable, GDTR 0x10000/0x7f, 32-bit paging with 4 MiB pages
 * (CR3 0x1000: linear [0, 4M) identity, and TSF_RO_ALIAS onto the same
 * memory read-only; CR0.WP = 1), EFER 0, RIP TSF_RIP, every GPR
 * distinct with garbage in bits 63:32.
 *
 * The GDT (selector: descriptor, SDM Vol. 3A 3.4.5 and 3.5):
 *   0x08 flat code DPL 0   0x10 flat data DPL 0   0x18 old TSS, busy
 *   0x20 new TSS, available, base 0x21000, limit 0x2067
 *   0x28 LDT at 0x22000, limit 0x17 (entry 1, selector 0x0c: data at 0x50000)
 *   0x30 new CS: base 0x11000, limit 0x7ffff, 32-bit, not yet accessed
 *   0x38 new SS: base 0x400000, limit 0xfffff (G = 1), not yet accessed
 *   0x40 new DS: base 0x40000, limit 0xffff   0x48 new FS: read-only, DPL 3
 *   0x50 a 16-bit TSS
 * The new TSS (at 0x21000): CR3 0x2000 (the new task's page directory:
 * [0, 4M) identity and [4M, 8M) onto [0, 4M), which the old one does not
 * map), EIP 0x12345, EFLAGS 0x80208acd (reserved bits 31, 15, 3 set; bit
 * 1 clear), GPRs 0xa0a0a0nn, ESP 0x3f000, ES 0x0c, CS 0x30, SS 0x38,
 * DS 0x40, FS 0x48, GS 0x0003 (null), LDT 0x28, link 0x7777.  The old
 * TSS (at 0x20000) is filled with 0xee bytes.
 */
#ifndef MICROHV_TESTS_TASK_SWITCH_FIXTURE_H
#define MICROHV_TESTS_TASK_SWITCH_FIXTURE_H

#include "vmx/vcpu.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSF_RAM_SIZE 0x200000u
#define TSF_L0_BASE 0x180000u
#define TSF_L0_SIZE 0x10000u
#define TSF_RO_PAGE 0x1f0000u  /* reads allowed, writes refused (as EPT01's APIC page) */
#define TSF_RO_ALIAS 0xc00000u /* linear [12M, 16M): [0, 4M) read-only in L1's paging */

#define TSF_RIP 0x00401000ull
#define TSF_RSP 0x0009fff0ull
#define TSF_RFLAGS 0x00000a93ull /* OF IF SF AF CF, bit 1 */
#define TSF_GDT 0x10000u
#define TSF_OLD_TSS 0x20000u
#define TSF_NEW_TSS 0x21000u
#define TSF_GPR(i) (0xffffffff00000000ull | (0xc0de0000u + 0x101u * (i)))
#define TSF_NEW_GPR(i) (0xa0a0a000u + (i)) /* EAX..EDI in the new TSS, but ESP */
#define TSF_NEW_ESP 0x0003f000u

extern uint8_t tsf_ram[TSF_RAM_SIZE];
extern unsigned tsf_writes; /* writes through the l1_memory */
extern struct guest_regs tsf_regs;
extern struct vcpu tsf_vcpu;

void tsf_setup(void);

/* The exit: qualification (selector, source), length, then the dispatcher. */
void tsf_run(unsigned source, uint16_t selector, uint32_t len);
/* The same through a task gate, for the event in IDT-vectoring information. */
void tsf_run_gate(uint16_t selector, uint32_t idt_info, uint32_t idt_error, uint32_t len);

uint8_t tsf_get8(uint32_t pa);
uint16_t tsf_get16(uint32_t pa);
uint32_t tsf_get32(uint32_t pa);
uint64_t tsf_get64(uint32_t pa);
void tsf_put16(uint32_t pa, uint16_t x);
void tsf_put32(uint32_t pa, uint32_t x);
void tsf_put64(uint32_t pa, uint64_t x);
/* The GDT's descriptor for selector. */
void tsf_set_gdt(uint16_t selector, uint64_t desc);
uint64_t tsf_gdt(uint16_t selector);

/* Switches L1 to PAE paging: PDPT at 0x3000; the new TSS's CR3 0x5000. */
void tsf_use_pae(void);

/* Records L1's memory, vmcs01's guest state and the GPRs. */
void tsf_snapshot(void);
/* Nothing recorded changed (RFLAGS.RF aside, which fault injection may set). */
bool tsf_unchanged(void);

/* The event injected at the next entry: its information and error code. */
uint32_t tsf_injected(void);
uint32_t tsf_injected_error(void);

/* vmcs01's guest state passes the VM-entry checks (SDM Vol. 3C 27.3.1). */
bool tsf_guest_state_ok(void);

/* Captured log (LOG_DEBUG): a line equal to text; a line containing text. */
bool tsf_log_has(const char *text);
bool tsf_log_contains(const char *text);

#endif
