/*
 * loader.h - the UEFI loader's firmware-facing helpers (gnu-efi).
 * Only files under boot/ include <efi.h>; the pure logic they use
 * (config, core_load, memmap, vmx caps) is firmware-free and unit-tested.
 */
#ifndef MICROHV_BOOT_LOADER_H
#define MICROHV_BOOT_LOADER_H

#include <efi.h>
#include <efilib.h>

#include "include/microhv/bootinfo.h"

/* PI spec Vol. 2, EFI_MP_SERVICES_PROTOCOL: gnu-efi does not define it. */
#define EFI_MP_SERVICES_PROTOCOL_GUID                                                 \
	{                                                                             \
		0x3fdda605, 0xa76e, 0x4f46, { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 } \
	}

typedef struct _EFI_MP_SERVICES_PROTOCOL EFI_MP_SERVICES_PROTOCOL;
struct _EFI_MP_SERVICES_PROTOCOL {
	EFI_STATUS(EFIAPI *GetNumberOfProcessors)(EFI_MP_SERVICES_PROTOCOL *This, UINTN *Count,
						  UINTN *Enabled);
	void *GetProcessorInfo;
	EFI_STATUS(EFIAPI *StartupAllAPs)(EFI_MP_SERVICES_PROTOCOL *This,
					  void(EFIAPI *Procedure)(void *Arg), BOOLEAN SingleThread,
					  EFI_EVENT WaitEvent, UINTN TimeoutInMicroSeconds, void *Arg,
					  UINTN **FailedCpuList);
	EFI_STATUS(EFIAPI *StartupThisAP)(EFI_MP_SERVICES_PROTOCOL *This,
					  void(EFIAPI *Procedure)(void *Arg), UINTN ProcessorNumber,
					  EFI_EVENT WaitEvent, UINTN TimeoutInMicroSeconds, void *Arg,
					  BOOLEAN *Finished);
	void *SwitchBSP;
	void *EnableDisableAP;
	void *WhoAmI;
};

/* efi_console.c: mirror log lines to the UEFI text consoles that are not serial. */
void efi_console_mirror_start(void);
void efi_console_mirror_stop(void);

/* An ASCII name for an EFI_STATUS ("EFI_NOT_FOUND"), for log lines. */
const char *efi_status_name(EFI_STATUS s);

/* efi_file.c: the boot volume and paths on it. */
void ascii_to_char16(CHAR16 *dst, UINTN cap, const char *src);
void char16_to_ascii(char *dst, UINTN cap, const CHAR16 *src);
/* The directory the loader was started from, e.g. "\EFI\BOOT", no trailing '\'. */
void efi_loader_dir(EFI_LOADED_IMAGE *li, char *dir, UINTN cap);
/* Reads a whole file of at most max bytes; *buf is pool memory the caller frees. */
EFI_STATUS efi_read_file(EFI_LOADED_IMAGE *li, const char *path, UINTN max, char **buf,
			 UINTN *size);

/* efi_platform.c: what the loader learns about the machine. */
EFI_STATUS efi_find_rsdp(uint64_t *rsdp, uint32_t *revision);
EFI_STATUS efi_cpu_count(uint32_t *count, uint32_t *enabled);
/*
 * Reads the UEFI memory map into r[0..cap) as mem_range entries, lays
 * [hv_base, hv_base + hv_size) over it as MEM_HYPERVISOR and normalizes.
 * Returns the count, or -1 (with a logged reason).
 */
long efi_memory_map(struct mem_range *r, UINTN cap, uint64_t hv_base, uint64_t hv_size);
/* Descriptors in the current UEFI memory map (to size the array above). */
UINTN efi_memory_map_entries(void);
/*
 * Checks VT-x on this CPU (CPUID, IA32_FEATURE_CONTROL, enabling and locking
 * it if the firmware left it unlocked) and reads the capability MSRs.
 * Returns true if VMXON is allowed; otherwise logs "VT-x not available: ...".
 */
bool vmx_probe(struct vmx_caps *caps);

/*
 * late_launch.c: makes every CPU L1 under the core (BSP first, then each AP
 * through MP services, one at a time), then checks from L1 that the
 * hypervisor answers.  Reads bi before the first launch only: afterwards
 * bi is in memory L1 cannot touch.  Returns the number of CPUs launched.
 */
unsigned late_launch(const struct boot_info *bi);

#endif
