/*
 * segment.c - descriptor decoding for guest-state capture.
 */
#include "segment.h"

#include "vmx_bits.h"

struct vmx_segment vmx_segment_from_gdt(const uint64_t *gdt, uint16_t gdt_limit, uint16_t selector)
{
	struct vmx_segment s = { selector, 0, 0, VMX_AR_UNUSABLE };
	unsigned index = selector >> 3;

	/* TI=1 (LDT) is never used by the firmware we take over: unusable. */
	if (index == 0 || (selector & 4) || (uint32_t)index * 8 + 7 > gdt_limit)
		return s;

	uint64_t d = gdt[index];
	s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	s.limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));
	s.ar = (uint32_t)((d >> 40) & 0xf0ff);
	if (s.ar & VMX_AR_G)
		s.limit = (s.limit << 12) | 0xfff;
	if (s.ar & VMX_AR_S) {
		s.ar |= VMX_AR_TYPE_ACCESSED;
	} else if ((uint32_t)index * 8 + 15 <= gdt_limit) {
		/* SDM Vol. 3A 8.2.3: 16-byte system descriptors in IA-32e mode. */
		s.base |= (gdt[index + 1] & 0xffffffffull) << 32;
	}
	if (!(s.ar & VMX_AR_P))
		s.ar |= VMX_AR_UNUSABLE;
	return s;
}
