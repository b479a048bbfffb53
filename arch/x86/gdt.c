/*
 * gdt.c - building the core's GDT (layout in gdt.h).
 */
#include "gdt.h"

/* SDM Vol. 3A 3.4.5: P=1, DPL=0, S=1; code: type 0xA, L=1; data: type 0x2. */
#define DESC_CODE64 0x00af9a000000ffffull
#define DESC_DATA 0x00cf92000000ffffull
/* SDM Vol. 3A 8.2.3: system descriptor type 9 = available 64-bit TSS, P=1. */
#define DESC_TSS_TYPE_PRESENT 0x89ull

void gdt_build(struct gdt *g, const struct tss64 *tss, struct desc_ptr *gdtr)
{
	uint64_t base = (uint64_t)(uintptr_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	g->entry[0] = 0;
	g->entry[1] = DESC_CODE64;
	g->entry[2] = DESC_DATA;
	g->entry[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (DESC_TSS_TYPE_PRESENT << 40) |
		      (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	g->entry[4] = base >> 32;

	gdtr->base = (uint64_t)(uintptr_t)g->entry;
	gdtr->limit = sizeof(g->entry) - 1;
}
