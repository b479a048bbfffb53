/*
 * bootinfo.h - the block the loader hands to the core.
 *
 * Everything in it is plain data with fixed-size members, built by the
 * loader inside the hypervisor's reserved region so that it survives
 * ExitBootServices.  Addresses are physical; the core runs identity-mapped.
 */
#ifndef MICROHV_BOOTINFO_H
#define MICROHV_BOOTINFO_H

#include "boot/config.h"
#include "mm/memmap.h"
#include "vmx/caps.h"

#include <stdint.h>

#define BOOT_INFO_MAGIC 0x4f464e4942564d4dull /* "MMVBINFO" */
#define BOOT_INFO_VERSION 1

struct boot_info {
	uint64_t magic;
	uint32_t version;
	uint32_t size; /* sizeof(struct boot_info) as the loader knew it */

	struct hv_config config;

	/* The hypervisor's reserved region: [hv_base, hv_base + hv_size). */
	uint64_t hv_base;
	uint64_t hv_size;
	uint64_t core_base; /* where the core image was placed (gdb: -o this) */
	uint64_t core_size; /* core image size, .bss included */
	uint64_t heap_base; /* free pages for the core's page allocator */
	uint64_t heap_size;

	uint64_t memmap;       /* physical address of struct mem_range[] */
	uint64_t memmap_count;

	uint64_t rsdp; /* ACPI RSDP, 0 if the firmware gave none */
	uint32_t rsdp_revision;
	uint32_t cpu_count;   /* processors EFI_MP_SERVICES_PROTOCOL reports */
	uint32_t cpu_enabled; /* of those, enabled */
	uint32_t max_phys_bits; /* CPUID.80000008H:EAX[7:0] */

	uint32_t vmx_available; /* 1: VMXON allowed on the BSP */
	uint32_t reserved;
	struct vmx_caps vmx;

	/* hv.cfg iommu_selftest: a page of L1's (EfiLoaderData) for the DMA test, 0: none. */
	uint64_t dma_test_page;

	/* Written by the core for the loader. */
	uint64_t launch_entry; /* int (*)(uint64_t rsp, uint64_t rip), 0: no launch */
};

#endif
