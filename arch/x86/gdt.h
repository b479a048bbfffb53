/*
 * gdt.h - the core's own GDT and 64-bit TSS, used as VMX-root host state.
 *
 * Layout (selectors): 0x00 null, 0x08 64-bit code, 0x10 data, 0x18 the
 * 16-byte TSS descriptor.  SDM Vol. 3A 3.4.5 (segment descriptors) and
 * 8.2.3 (TSS in 64-bit mode).  VM entry insists on a usable host TR
 * (SDM Vol. 3C 27.2.3), which is why the core brings its own TSS.
 */
#ifndef MICROHV_ARCH_GDT_H
#define MICROHV_ARCH_GDT_H

#include "cpu.h"

#include <stdint.h>

#define GDT_SEL_CODE64 0x08
#define GDT_SEL_DATA 0x10
#define GDT_SEL_TSS 0x18
#define GDT_ENTRIES 5 /* the TSS descriptor takes two slots */

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct gdt {
	uint64_t entry[GDT_ENTRIES];
} __attribute__((aligned(16)));

void gdt_build(struct gdt *g, const struct tss64 *tss, struct desc_ptr *gdtr);

/*
 * Loads gdtr, reloads CS with a far return and DS/ES/SS with the given
 * selectors (arch/x86/tables.asm).  FS, GS and TR are left alone.
 */
void gdt_load(const struct desc_ptr *gdtr, uint64_t cs, uint64_t ds, uint64_t ss);

#endif
