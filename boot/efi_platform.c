/*
 * efi_platform.c - what the loader learns about the machine from UEFI and
 * from the CPU: ACPI RSDP, processor count, memory map, VT-x.
 */
#include "loader.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "drivers/serial/log.h"
#include "vmx/vmx_arch.h"

EFI_STATUS efi_find_rsdp(uint64_t *rsdp, uint32_t *revision)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	void *table = NULL;
	*rsdp = 0;
	*revision = 0;
	if (!EFI_ERROR(LibGetSystemConfigurationTable(&acpi20, &table)) && table) {
		*rsdp = (uint64_t)(uintptr_t)table;
		*revision = ((const uint8_t *)table)[15]; /* ACPI 5.2.5.3: Revision */
		return EFI_SUCCESS;
	}
	if (!EFI_ERROR(LibGetSystemConfigurationTable(&acpi10, &table)) && table) {
		*rsdp = (uint64_t)(uintptr_t)table;
		*revision = ((const uint8_t *)table)[15];
		return EFI_SUCCESS;
	}
	return EFI_NOT_FOUND;
}

EFI_STATUS efi_cpu_count(uint32_t *count, uint32_t *enabled)
{
	EFI_GUID guid = EFI_MP_SERVICES_PROTOCOL_GUID;
	EFI_MP_SERVICES_PROTOCOL *mp;
	UINTN n = 1, e = 1;
	*count = 1;
	*enabled = 1;
	EFI_STATUS s = uefi_call_wrapper(BS->LocateProtocol, 3, &guid, NULL, (void **)&mp);
	if (EFI_ERROR(s))
		return s;
	s = uefi_call_wrapper(mp->GetNumberOfProcessors, 3, mp, &n, &e);
	if (EFI_ERROR(s))
		return s;
	*count = (uint32_t)n;
	*enabled = (uint32_t)e;
	return EFI_SUCCESS;
}

/* UEFI 2.10 7.2 EFI_MEMORY_TYPE -> our mem_type (after ExitBootServices). */
static uint32_t efi_to_mem_type(UINT32 t)
{
	switch (t) {
	case EfiLoaderCode:
	case EfiLoaderData:
	case EfiBootServicesCode:
	case EfiBootServicesData:
	case EfiConventionalMemory:
		return MEM_USABLE;
	case EfiRuntimeServicesCode:
	case EfiRuntimeServicesData:
		return MEM_FW_RUNTIME;
	case EfiACPIReclaimMemory:
		return MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS:
		return MEM_ACPI_NVS;
	case EfiMemoryMappedIO:
	case EfiMemoryMappedIOPortSpace:
		return MEM_MMIO;
	default:
		return MEM_RESERVED;
	}
}

UINTN efi_memory_map_entries(void)
{
	UINTN entries = 0, key, desc_size;
	UINT32 desc_version;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&entries, &key, &desc_size, &desc_version);
	if (map)
		FreePool(map);
	return entries;
}

long efi_memory_map(struct mem_range *r, UINTN cap, uint64_t hv_base, uint64_t hv_size)
{
	UINTN entries = 0, key, desc_size;
	UINT32 desc_version;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&entries, &key, &desc_size, &desc_version);
	if (!map) {
		log_error("GetMemoryMap failed");
		return -1;
	}
	UINTN n = 0;
	for (UINTN i = 0; i < entries; i++) {
		EFI_MEMORY_DESCRIPTOR *d = (void *)((char *)map + i * desc_size);
		if (n + 2 > cap) { /* keep one slot for the hypervisor range */
			FreePool(map);
			log_error("memory map has more than %lu entries", (unsigned long)cap);
			return -1;
		}
		r[n++] = (struct mem_range){ d->PhysicalStart, d->NumberOfPages << EFI_PAGE_SHIFT,
					     efi_to_mem_type(d->Type), 0 };
	}
	FreePool(map);
	r[n++] = (struct mem_range){ hv_base, hv_size, MEM_HYPERVISOR, 0 };
	long m = memmap_normalize(r, n, cap);
	if (m < 0)
		log_error("memory map does not fit in %lu entries", (unsigned long)cap);
	return m;
}

static uint64_t rdmsr_cb(uint32_t msr)
{
	return rdmsr(msr);
}

static void wrmsr_cb(uint32_t msr, uint64_t value)
{
	wrmsr(msr, value);
}

bool vmx_probe(struct vmx_caps *caps)
{
	struct cpuid_regs r;
	cpuid_count(1, 0, &r);
	struct vmx_enable e = vmx_enable_feature_control(r.ecx, rdmsr_cb, wrmsr_cb);
	enum vmx_avail a = e.avail;
	if (e.wrote) {
		log_info("IA32_FEATURE_CONTROL was unlocked (0x%llx): enabled VMX outside SMX "
			 "and locked it (now 0x%llx)",
			 (unsigned long long)e.before, (unsigned long long)e.after);
		if (a == VMX_NEEDS_ENABLE) {
			log_warn("VT-x not available: IA32_FEATURE_CONTROL did not take the lock "
				 "(reads 0x%llx)", (unsigned long long)e.after);
			return false;
		}
	} else if (a != VMX_NO_CPU_SUPPORT) {
		log_info("IA32_FEATURE_CONTROL = 0x%llx (locked by firmware)",
			 (unsigned long long)e.before);
	}
	if (a != VMX_AVAILABLE) {
		log_warn("VT-x not available: %s", vmx_avail_reason(a));
		return false;
	}
	vmx_caps_read(caps, rdmsr_cb);
	log_info("VT-x available");
	vmx_caps_print(caps);
	return true;
}
