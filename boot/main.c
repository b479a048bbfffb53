/*
 * main.c - the microhv UEFI loader (efi_main).
 *
 * Order of work, each step logged on serial (and mirrored to the screen):
 *   1. read hv.cfg from the loader's own directory, bring up the console;
 *   2. collect the ACPI RSDP, the CPU count and VT-x support;
 *   3. reserve the hypervisor region (EfiReservedMemoryType: the OS never
 *      reclaims it), place the core there and fill the boot-info block with
 *      the memory map taken after that allocation;
 *   4. call the core;
 *   5. chain-load the next stage named by hv.cfg.
 * Nothing here hangs: every failure is logged and leads either to the next
 * stage (the machine still boots, unvirtualized) or back to the firmware.
 */
#include "loader.h"

#include "arch/x86/cpu.h"
#include "boot/config.h"
#include "boot/core_load.h"
#include "drivers/serial/format.h"
#include "drivers/serial/log.h"
#include "drivers/serial/uart16550.h"
#include "version.h" /* generated: build/gen/version.h */

#define CONFIG_FILE_MAX (64 * 1024)
#define HEAP_SIZE (16ull << 20)
#define MAX_CONFIG_WARNINGS 16

extern char core_blob_start[], core_blob_end[];

typedef int (*core_entry_fn)(const struct boot_info *bi) __attribute__((sysv_abi));

static struct uart g_uart;

/* Config warnings are collected before the console exists, then printed. */
static struct {
	unsigned count;
	char text[MAX_CONFIG_WARNINGS][LOG_LINE_MAX];
} g_cfg_warnings;

static void collect_warning(void *ctx, unsigned line, const char *text, const char *why)
{
	const char *file = ctx;
	if (g_cfg_warnings.count < MAX_CONFIG_WARNINGS)
		fmt_snprintf(g_cfg_warnings.text[g_cfg_warnings.count], LOG_LINE_MAX,
			     "%s:%u: %s: \"%s\"; ignored, the default stays", file, line, why, text);
	g_cfg_warnings.count++;
}

static void load_config(EFI_LOADED_IMAGE *li, struct hv_config *cfg, char *path, UINTN cap,
			EFI_STATUS *status)
{
	char dir[CONFIG_PATH_MAX];
	efi_loader_dir(li, dir, sizeof(dir));
	fmt_snprintf(path, cap, "%s\\hv.cfg", dir);
	config_defaults(cfg);
	char *text;
	UINTN size;
	*status = efi_read_file(li, path, CONFIG_FILE_MAX, &text, &size);
	if (EFI_ERROR(*status))
		return;
	config_parse(cfg, text, size, collect_warning, path);
	FreePool(text);
}

static void report_config(const struct hv_config *cfg, const char *path, EFI_STATUS status)
{
	if (status == EFI_NOT_FOUND)
		log_info("%s not found: using defaults", path);
	else if (status == EFI_BUFFER_TOO_SMALL)
		log_warn("%s is larger than %u bytes: ignored, using defaults", path,
			 CONFIG_FILE_MAX);
	else if (EFI_ERROR(status))
		log_warn("cannot read %s (%s): using defaults", path, efi_status_name(status));
	else
		log_info("config: %s", path);
	for (unsigned i = 0; i < g_cfg_warnings.count && i < MAX_CONFIG_WARNINGS; i++)
		log_warn("%s", g_cfg_warnings.text[i]);
	if (g_cfg_warnings.count > MAX_CONFIG_WARNINGS)
		log_warn("%s: %u more bad lines not shown", path,
			 g_cfg_warnings.count - MAX_CONFIG_WARNINGS);
	log_info("config: serial=0x%x baud=%u loglevel=%s nested=%s next=%s", cfg->serial_port,
		 cfg->baud, log_level_name((enum log_level)cfg->loglevel),
		 cfg->nested ? "on" : "off", cfg->next);
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Reserves the hypervisor region, places the core, fills the boot info. */
static struct boot_info *place_core(const struct hv_config *cfg, uint32_t cpus, uint32_t enabled)
{
	size_t blob_size = (size_t)(core_blob_end - core_blob_start);
	const char *why = core_image_check(core_blob_start, blob_size);
	if (why) {
		log_error("the core image inside hv.efi is damaged: %s", why);
		return NULL;
	}
	const struct core_image_header *h = (const void *)core_blob_start;

	/* Room for the map as it grows by our own allocation, and a margin. */
	UINTN map_cap = efi_memory_map_entries() * 2 + 64;
	uint64_t core_size = round_up(h->mem_size, EFI_PAGE_SIZE);
	uint64_t info_size = round_up(sizeof(struct boot_info) + map_cap * sizeof(struct mem_range),
				      EFI_PAGE_SIZE);
	uint64_t hv_size = core_size + info_size + HEAP_SIZE;
	EFI_PHYSICAL_ADDRESS hv_base = 0;
	EFI_STATUS s = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages,
					 EfiReservedMemoryType, hv_size >> EFI_PAGE_SHIFT, &hv_base);
	if (EFI_ERROR(s)) {
		log_error("cannot reserve %llu KiB for the hypervisor: %s",
			  (unsigned long long)(hv_size >> 10), efi_status_name(s));
		return NULL;
	}

	why = core_image_place(core_blob_start, blob_size, (void *)(uintptr_t)hv_base);
	if (why) {
		log_error("cannot place the core: %s", why);
		uefi_call_wrapper(BS->FreePages, 2, hv_base, hv_size >> EFI_PAGE_SHIFT);
		return NULL;
	}

	struct boot_info *bi = (void *)(uintptr_t)(hv_base + core_size);
	struct mem_range *map = (void *)(bi + 1);
	*bi = (struct boot_info){ 0 };
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	bi->config = *cfg;
	bi->hv_base = hv_base;
	bi->hv_size = hv_size;
	bi->core_base = hv_base;
	bi->core_size = h->mem_size;
	bi->heap_base = hv_base + core_size + info_size;
	bi->heap_size = HEAP_SIZE;
	bi->cpu_count = cpus;
	bi->cpu_enabled = enabled;

	long n = efi_memory_map(map, map_cap, hv_base, hv_size);
	if (n < 0) {
		uefi_call_wrapper(BS->FreePages, 2, hv_base, hv_size >> EFI_PAGE_SHIFT);
		return NULL;
	}
	bi->memmap = (uint64_t)(uintptr_t)map;
	bi->memmap_count = (uint64_t)n;
	log_info("memory map: %ld ranges, %llu MiB usable, top of memory 0x%llx", n,
		 (unsigned long long)(memmap_total(map, (size_t)n, MEM_USABLE) >> 20),
		 (unsigned long long)memmap_top(map, (size_t)n));
	for (long i = 0; i < n; i++)
		log_debug("  %016llx-%016llx %s", (unsigned long long)map[i].base,
			  (unsigned long long)(map[i].base + map[i].size - 1),
			  mem_type_name(map[i].type));

	log_info("hypervisor region 0x%llx-0x%llx (%llu KiB, EfiReservedMemoryType)",
		 (unsigned long long)hv_base, (unsigned long long)(hv_base + hv_size - 1),
		 (unsigned long long)(hv_size >> 10));
	log_info("core loaded at 0x%llx (%llu bytes); gdb: add-symbol-file build/core.elf -o 0x%llx",
		 (unsigned long long)hv_base, (unsigned long long)h->mem_size,
		 (unsigned long long)hv_base);
	return bi;
}

/*
 * hv.cfg iommu_selftest: a page of L1's (the firmware's, as the next stage
 * would have it) below 4 GiB for the core's DMA test (core/iommu_selftest.c).
 */
static uint64_t dma_test_page(void)
{
	EFI_PHYSICAL_ADDRESS p = 0xffffffffull;
	EFI_STATUS s = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData, 1,
					 &p);
	if (EFI_ERROR(s)) {
		log_warn("iommu_selftest: no page below 4 GiB for the DMA test: %s",
			 efi_status_name(s));
		return 0;
	}
	return p;
}

static EFI_STATUS chain_load(EFI_HANDLE image, EFI_LOADED_IMAGE *li, const char *next,
			     const char *args)
{
	CHAR16 path16[CONFIG_PATH_MAX];
	ascii_to_char16(path16, CONFIG_PATH_MAX, next);
	EFI_DEVICE_PATH *dp = FileDevicePath(li->DeviceHandle, path16);
	if (!dp) {
		log_error("next stage %s: cannot build its device path", next);
		return EFI_OUT_OF_RESOURCES;
	}
	EFI_HANDLE child = NULL;
	log_info("chain-loading next stage %s", next);
	EFI_STATUS s = uefi_call_wrapper(BS->LoadImage, 6, FALSE, image, dp, NULL, 0, &child);
	FreePool(dp);
	if (EFI_ERROR(s)) {
		if (s == EFI_NOT_FOUND)
			log_error("next stage %s not found on the boot volume (EFI_NOT_FOUND); "
				  "set next= in hv.cfg", next);
		else
			log_error("next stage %s could not be loaded: %s", next, efi_status_name(s));
		return s;
	}
	if (args[0]) {
		/* UEFI 2.10 9.1: LoadOptions, here a NUL-terminated UCS-2 string. */
		static CHAR16 options[CONFIG_PATH_MAX];
		EFI_LOADED_IMAGE *child_li;
		ascii_to_char16(options, CONFIG_PATH_MAX, args);
		s = uefi_call_wrapper(BS->HandleProtocol, 3, child, &LoadedImageProtocol,
				      (void **)&child_li);
		if (EFI_ERROR(s)) {
			log_error("next stage: cannot pass its arguments: %s", efi_status_name(s));
			uefi_call_wrapper(BS->UnloadImage, 1, child);
			return s;
		}
		child_li->LoadOptions = options;
		child_li->LoadOptionsSize = (UINT32)(StrLen(options) + 1) * sizeof(CHAR16);
		log_info("next stage arguments: %s", args);
	}
	log_info("starting next stage");
	efi_console_mirror_stop();
	s = uefi_call_wrapper(BS->StartImage, 3, child, NULL, NULL);
	efi_console_mirror_start();
	log_info("next stage returned %s", efi_status_name(s));
	return s;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);

	EFI_LOADED_IMAGE *li = NULL;
	EFI_STATUS s = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
					 (void **)&li);
	if (EFI_ERROR(s)) {
		Print(L"microhv: cannot get the loaded-image protocol: %r\n", s);
		return s;
	}

	struct hv_config cfg;
	char cfg_path[CONFIG_PATH_MAX + 8];
	EFI_STATUS cfg_status;
	load_config(li, &cfg, cfg_path, sizeof(cfg_path), &cfg_status);

	log_init("boot", (enum log_level)cfg.loglevel);
	if (cfg.serial_port && uart_init(&g_uart, cfg.serial_port, cfg.baud))
		log_add_sink(uart_log_sink, &g_uart);
	efi_console_mirror_start();

	log_always("microhv %s (%s) - nested VT-x hypervisor, UEFI loader", MICROHV_VERSION,
		   MICROHV_GIT_REV);
	if (cfg.serial_port && !g_uart.present)
		log_warn("no UART answers at I/O port 0x%x: serial console off", cfg.serial_port);
	report_config(&cfg, cfg_path, cfg_status);

	uint64_t rsdp;
	uint32_t rsdp_rev;
	if (EFI_ERROR(efi_find_rsdp(&rsdp, &rsdp_rev)))
		log_warn("no ACPI RSDP in the UEFI configuration table");
	else
		log_info("ACPI RSDP at 0x%llx (revision %u)", (unsigned long long)rsdp, rsdp_rev);

	uint32_t cpus, enabled;
	s = efi_cpu_count(&cpus, &enabled);
	if (EFI_ERROR(s))
		log_warn("EFI_MP_SERVICES_PROTOCOL unavailable (%s): assuming 1 CPU",
			 efi_status_name(s));
	else
		log_info("CPUs: %u (%u enabled)", cpus, enabled);

	struct vmx_caps caps;
	bool vmx = vmx_probe(&caps);

	struct boot_info *bi = place_core(&cfg, cpus, enabled);
	if (bi) {
		struct cpuid_regs r;
		cpuid_count(0x80000000, 0, &r);
		if (r.eax >= 0x80000008) {
			cpuid_count(0x80000008, 0, &r);
			bi->max_phys_bits = r.eax & 0xff;
		}
		bi->rsdp = rsdp;
		bi->rsdp_revision = rsdp_rev;
		bi->vmx_available = vmx;
		if (vmx)
			bi->vmx = caps;
		if (cfg.iommu_selftest)
			bi->dma_test_page = dma_test_page();
		core_entry_fn entry = (core_entry_fn)(uintptr_t)(bi->core_base +
								 ((const struct core_image_header *)
									  core_blob_start)->entry);
		log_info("calling the core at 0x%llx", (unsigned long long)(uintptr_t)entry);
		int rc = entry(bi);
		if (rc == 0) {
			log_info("core returned OK");
			late_launch(bi);
		} else {
			log_error("core returned error %d: continuing without the hypervisor", rc);
		}
	} else {
		log_error("the core could not be placed: continuing without the hypervisor");
	}

	s = chain_load(image, li, cfg.next, cfg.next_args);
	if (EFI_ERROR(s))
		log_error("returning to the firmware (%s)", efi_status_name(s));
	return s;
}
