/*
 * core.h - state of the hypervisor core shared between its parts.
 */
#ifndef MICROHV_CORE_H
#define MICROHV_CORE_H

#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"
#include "drivers/serial/uart16550.h"
#include "include/microhv/bootinfo.h"
#include "mm/page_alloc.h"

/* Values core_main returns to the loader. */
#define CORE_OK 0
#define CORE_ERR_BOOT_INFO 1
#define CORE_ERR_NO_MEMORY 2
#define CORE_ERR_SELFTEST 3

struct core {
	struct boot_info *bi;
	struct uart uart;
	struct page_alloc pages;
	struct gdt gdt;
	struct tss64 tss;
	struct idt idt;
	struct desc_ptr gdtr, idtr;
	uint64_t cr3; /* the core's identity page tables */
};

extern struct core g_core;

/*
 * Switches the CPU to the core's GDT, IDT and CR3, proves each works (a far
 * return through the new CS, an INT3 through the new IDT, a read through
 * the new page tables), and restores the firmware's.  Logs each step.
 * Returns true when every step checked out.
 */
bool core_tables_selftest(struct core *c);

#endif
