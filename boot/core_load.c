/*
 * core_load.c - validating, copying and relocating the core image.
 *
 * Every offset in the header and in each relocation is bounds-checked
 * before it is used, so a truncated or corrupted build fails with a reason
 * instead of scribbling over firmware memory.
 */
#include "core_load.h"

#include <stdint.h>

const char *core_image_check(const void *blob, size_t size)
{
	const struct core_image_header *h = blob;
	if (size < sizeof(*h))
		return "image smaller than its header";
	if (h->magic != CORE_IMAGE_MAGIC)
		return "bad magic (not a microhv core image)";
	if (h->version != CORE_IMAGE_VERSION)
		return "unsupported image version";
	if (h->file_size != size)
		return "image size does not match its header (truncated?)";
	if (h->mem_size < h->file_size)
		return "memory size smaller than file size";
	if (h->entry < sizeof(*h) || h->entry >= h->file_size)
		return "entry point outside the image";
	if (h->rela_start > h->rela_end || h->rela_end > h->file_size)
		return "relocation table outside the image";
	if ((h->rela_end - h->rela_start) % sizeof(struct core_rela))
		return "relocation table size not a multiple of an entry";
	if (h->rela_start % 8)
		return "relocation table not 8-byte aligned";
	const struct core_rela *r = (const void *)((const char *)blob + h->rela_start);
	size_t n = (size_t)((h->rela_end - h->rela_start) / sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		uint32_t type = (uint32_t)r[i].info;
		if (type == R_X86_64_NONE)
			continue;
		if (type != R_X86_64_RELATIVE)
			return "unsupported relocation type (only R_X86_64_RELATIVE)";
		if (r[i].offset > h->mem_size - 8)
			return "relocation target outside the image";
		if (r[i].addend < 0 || (uint64_t)r[i].addend > h->mem_size)
			return "relocation addend outside the image";
	}
	return 0;
}

const char *core_image_place(const void *blob, size_t size, void *dst)
{
	const char *why = core_image_check(blob, size);
	if (why)
		return why;
	const struct core_image_header *h = blob;
	unsigned char *d = dst;
	const unsigned char *s = blob;
	for (size_t i = 0; i < h->file_size; i++)
		d[i] = s[i];
	for (size_t i = (size_t)h->file_size; i < h->mem_size; i++)
		d[i] = 0;

	uint64_t base = (uint64_t)(uintptr_t)dst;
	const struct core_rela *r = (const void *)(s + h->rela_start);
	size_t n = (size_t)((h->rela_end - h->rela_start) / sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		if ((uint32_t)r[i].info != R_X86_64_RELATIVE)
			continue;
		uint64_t v = base + (uint64_t)r[i].addend;
		/* The target may be unaligned: write it byte by byte. */
		for (int b = 0; b < 8; b++)
			d[r[i].offset + (uint64_t)b] = (unsigned char)(v >> (8 * b));
	}
	return 0;
}
