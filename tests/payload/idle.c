/*
 * idle.c - a next stage that keeps L1 alive for a while, then powers off:
 * L0's console test types on COM2 meanwhile (tests/system/bochs_console.sh).
 * LoadOptions (hv.cfg next_args) may give the seconds to wait, default 20.
 */
#include <efi.h>
#include <efilib.h>

#include "payload.h"

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
	payload_say("microhv-idle: idling %u s as L1", secs);
	for (unsigned i = 0; i < secs; i++)
		uefi_call_wrapper(BS->Stall, 1, 1000000);
	payload_say("microhv-idle: powering off");
	payload_power_off();
}
