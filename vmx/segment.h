/*
 * segment.h - segment registers in the VMCS's terms (base, limit, access
 * rights), read from a descriptor table.  Pure, unit-tested.
 */
#ifndef MICROHV_VMX_SEGMENT_H
#define MICROHV_VMX_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

struct vmx_segment {
	uint16_t selector;
	uint64_t base;
	uint32_t limit;
	uint32_t ar; /* VMCS access-rights format, bit 16 = unusable */
};

/*
 * Decodes the descriptor for selector from the GDT at gdt (limit gdt_limit).
 * SDM Vol. 3A 3.4.5 descriptor layout; Vol. 3C 25.4.1 access-rights format.
 * A null selector, an LDT selector or one beyond the GDT limit gives an
 * unusable segment (bit 16); system descriptors (TSS, LDT) take their
 * 64-bit base from the following 8 bytes.  Code and data segments are
 * reported accessed, as the CPU marks them when it loads them.
 */
struct vmx_segment vmx_segment_from_gdt(const uint64_t *gdt, uint16_t gdt_limit, uint16_t selector);

#endif
