/*
 * idle.c - a next stage that keeps L1 alive for a while, then powers off:
 * L0's console test types on COM2 meanwhile (tests/system/bochs_console.sh).
 * LoadOptions (hv.cfg next_args) may give the seconds to wait, default 20.
 */
#include <efi.h>
#include <efilib.h>

#include "arch/x86/cpu.h"
#include "vmx/cpuid_policy.h"

#include "payload.h"

/*
 * What CPUID says about the hypervisor under this stage: the leaf
 * 0x40000000 signature, read now (not assumed), so the console test can
 * tell that the stage really runs as L1 under microhv.
 */
static void say_hypervisor(void)
{
	struct cpuid_regs r;
	cpuid_count(1, 0, &r);
	unsigned hv_bit = (r.ecx >> 31) & 1;
	cpuid_count(CPUID_HV_BASE, 0, &r);
	char sig[13] = { 0 };
	uint32_t w[3] = { r.ebx, r.ecx, r.edx };
	for (int i = 0; i < 12; i++) {
		char c = (char)(w[i / 4] >> (8 * (i % 4)));
		sig[i] = c >= 0x20 && c < 0x7f ? c : (c ? '?' : 0);
	}
	payload_say("microhv-idle: CPUID.1:ECX.hypervisor=%u, CPUID 0x40000000 signature \"%s\"",
		    hv_bit, hv_bit ? sig : "");
}

static unsigned wait_seconds(EFI_HANDLE image)
{
	EFI_LOADED_IMAGE *li;
	unsigned s = 0;
	if (!EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
					 (void **)&li)) &&
	    li->LoadOptions) {
		const CHAR16 *o = li->LoadOptions;
		for (UINTN i = 0; i < li->LoadOptionsSize / sizeof(CHAR16) && o[i] >= L'0' &&
				  o[i] <= L'9';
		     i++)
			s = s * 10 + (unsigned)(o[i] - L'0');
	}
	return s ? s : 20;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	payload_serial_init();
	unsigned secs = wait_seconds(image);
	say_hypervisor();
	payload_say("microhv-idle: idling %u s", secs);
	for (unsigned i = 0; i < secs; i++)
		uefi_call_wrapper(BS->Stall, 1, 1000000);
	payload_say("microhv-idle: powering off");
	payload_power_off();
}
