/*
 * idle.c - a next stage that keeps L1 alive for a while, then powers off:
 * L0's console test types on COM2 meanwhile (tests/system/bochs_console.sh).
 * LoadOptions (hv.cfg next_args) may give the seconds to wait, default 20.
 */
#include <efi.h>
#include <efilib.h>

#include "arch/x86/cpu.h"
#include "drivers/serial/format.h"
#include "drivers/serial/uart16550.h"

#define BOCHS_SHUTDOWN_PORT 0x8900

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
	struct uart u;
	char line[80];
	uart_init(&u, 0x3f8, 115200);
	unsigned secs = wait_seconds(image);
	int n = fmt_snprintf(line, sizeof(line), "microhv-idle: idling %u s as L1\n", secs);
	uart_write(&u, line, (size_t)n);
	for (unsigned i = 0; i < secs; i++)
		uefi_call_wrapper(BS->Stall, 1, 1000000);
	uart_write(&u, "microhv-idle: powering off\n", 27);
	uart_flush(&u);
	for (const char *c = "Shutdown"; *c; c++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*c);
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
	cpu_halt_forever();
	return EFI_SUCCESS;
}
