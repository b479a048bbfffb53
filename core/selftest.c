/*
 * selftest.c - switch to the core's own descriptor tables and page tables
 * and back, proving each one on the way.
 *
 * This runs in the firmware's context (boot services still up, firmware
 * timer interrupts armed), so interrupts are disabled for the whole time
 * the firmware's IDT is not loaded, and every firmware register we touch
 * (GDTR, IDTR, CR3, CS, DS, ES, SS, RFLAGS) is saved and put back.
 */
#include "core.h"

#include "arch/x86/cpu.h"
#include "drivers/serial/log.h"

struct fw_tables {
	struct desc_ptr gdtr, idtr;
	uint64_t cr3, rflags;
	uint16_t cs, ds, ss;
};

static volatile uint64_t probe_word = 0x6d6963726f68760aull; /* read via the new CR3 */

bool core_tables_selftest(struct core *c)
{
	struct fw_tables fw;
	bool ok = true;

	sgdt(&fw.gdtr);
	sidt(&fw.idtr);
	fw.cr3 = read_cr3();
	fw.cs = read_cs();
	fw.ds = read_ds();
	fw.ss = read_ss();
	fw.rflags = read_rflags();
	log_info("firmware tables: GDT 0x%llx/%u IDT 0x%llx/%u CR3 0x%llx CS 0x%x DS 0x%x SS 0x%x",
		 (unsigned long long)fw.gdtr.base, fw.gdtr.limit, (unsigned long long)fw.idtr.base,
		 fw.idtr.limit, (unsigned long long)fw.cr3, fw.cs, fw.ds, fw.ss);

	cli();
	gdt_load(&c->gdtr, GDT_SEL_CODE64, GDT_SEL_DATA, GDT_SEL_DATA);
	lidt(&c->idtr);
	write_cr3(c->cr3);

	struct desc_ptr now_gdtr, now_idtr;
	sgdt(&now_gdtr);
	sidt(&now_idtr);
	uint16_t cs = read_cs(), ss = read_ss();
	uint64_t cr3 = read_cr3();

	uint64_t before = idt_breakpoint_count();
	__asm__ volatile("int3");
	uint64_t breakpoints = idt_breakpoint_count() - before;
	uint64_t probe = probe_word;

	/* Back to the firmware's tables before anything can go wrong. */
	write_cr3(fw.cr3);
	gdt_load(&fw.gdtr, fw.cs, fw.ds, fw.ss);
	lidt(&fw.idtr);
	write_rflags(fw.rflags);

	if (now_gdtr.base != c->gdtr.base || cs != GDT_SEL_CODE64 || ss != GDT_SEL_DATA) {
		log_error("self-test: GDT not in effect (GDTR 0x%llx CS 0x%x SS 0x%x)",
			  (unsigned long long)now_gdtr.base, cs, ss);
		ok = false;
	} else {
		log_info("self-test: core GDT in effect at 0x%llx, CS 0x%x SS 0x%x",
			 (unsigned long long)now_gdtr.base, cs, ss);
	}
	if (now_idtr.base != c->idtr.base || breakpoints != 1) {
		log_error("self-test: IDT at 0x%llx handled %llu INT3 (expected 1)",
			  (unsigned long long)now_idtr.base, (unsigned long long)breakpoints);
		ok = false;
	} else {
		log_info("self-test: core IDT in effect at 0x%llx, INT3 handled (vector 3)",
			 (unsigned long long)now_idtr.base);
	}
	if (cr3 != c->cr3 || probe != 0x6d6963726f68760aull) {
		log_error("self-test: page tables CR3 0x%llx, probe read 0x%llx",
			  (unsigned long long)cr3, (unsigned long long)probe);
		ok = false;
	} else {
		log_info("self-test: core page tables in effect, CR3 0x%llx, identity read OK",
			 (unsigned long long)cr3);
	}

	if (read_cr3() == fw.cr3 && read_cs() == fw.cs) {
		log_info("self-test: firmware GDT, IDT and CR3 restored");
	} else {
		log_error("self-test: firmware tables not restored");
		ok = false;
	}
	return ok;
}
