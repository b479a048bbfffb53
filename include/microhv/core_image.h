/*
 * core_image.h - the format of the hypervisor core as the loader carries it.
 *
 * The core is linked by linker.ld as a position-independent image at
 * address 0 and flattened to a binary (build/core.bin).  Its first bytes are
 * this header, written by linker.ld itself.  The loader copies the file
 * part to memory it reserved, zeroes up to mem_size (the .bss), applies the
 * R_X86_64_RELATIVE relocations in [rela_start, rela_end), and calls
 * base + entry with a struct boot_info pointer (System V ABI).
 */
#ifndef MICROHV_CORE_IMAGE_H
#define MICROHV_CORE_IMAGE_H

#include <stdint.h>

#define CORE_IMAGE_MAGIC 0x45524f4356484d4dull /* "MMHVCORE" little-endian */
#define CORE_IMAGE_VERSION 1

struct core_image_header {
	uint64_t magic;
	uint64_t version;
	uint64_t entry;	     /* offset of core_main */
	uint64_t file_size;  /* bytes present in the binary */
	uint64_t mem_size;   /* bytes the image occupies, .bss included */
	uint64_t rela_start; /* offsets of the Elf64_Rela array */
	uint64_t rela_end;
};

/* An Elf64_Rela entry (System V ABI AMD64 supplement, 4.4). */
struct core_rela {
	uint64_t offset;
	uint64_t info; /* type in the low 32 bits */
	int64_t addend;
};

#define R_X86_64_NONE 0
#define R_X86_64_RELATIVE 8

#endif
