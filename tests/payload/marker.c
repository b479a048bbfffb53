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

#include "payload.h"

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	payload_serial_init();
	payload_say("microhv-payload: marker: next stage started by the loader");
	payload_say("microhv-payload: powering off");
	payload_power_off();
}
