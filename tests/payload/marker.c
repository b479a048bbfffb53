/*
 * marker.c - the simplest next stage: proves the loader chain-loaded it.
 *
 * Writes a marker line straight to COM1 (not through ConOut, which OVMF
 * also routes to COM1 and would garble the line with terminal escapes),
 * then powers the machine off: first through Bochs's shutdown port, then
 * through ResetSystem(EfiResetShutdown), which ends QEMU and real machines.
 * The system tests assert on the marker and on the emulator having exited
 * by itself.
 */
#include <efi.h>
#include <efilib.h>

#include "arch/x86/cpu.h"
#include "drivers/serial/uart16550.h"

#define BOCHS_SHUTDOWN_PORT 0x8900

static void serial_line(struct uart *u, const char *s)
{
	UINTN n = 0;
	while (s[n])
		n++;
	uart_write(u, s, n);
	uart_write(u, "\n", 1);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	struct uart u;
	uart_init(&u, 0x3f8, 115200);
	serial_line(&u, "microhv-payload: marker: next stage started by the loader");
	serial_line(&u, "microhv-payload: powering off");
	uart_flush(&u);

	const char *cmd = "Shutdown";
	for (const char *c = cmd; *c; c++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*c);
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
	serial_line(&u, "microhv-payload: error: ResetSystem returned; halting");
	cpu_halt_forever();
	return EFI_SUCCESS;
}
