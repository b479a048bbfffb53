/*
 * efi_console.c - mirror the loader's log lines to the UEFI text consoles.
 *
 * The loader writes to the UART itself (drivers/serial).  Firmware consoles
 * often include that same serial port (OVMF's ConOut is a splitter over the
 * screen and COM1), which would print every line twice on the serial log.
 * So the mirror writes only to text-output handles whose device path holds
 * no UART node: the screen, not the serial line.  It is used only while
 * boot services exist, i.e. until the next stage is started.
 */
#include "loader.h"

#include "drivers/serial/log.h"

#define MAX_MIRRORS 4

static SIMPLE_TEXT_OUTPUT_INTERFACE *mirrors[MAX_MIRRORS];
static UINTN nmirrors;

static BOOLEAN path_has_uart(EFI_DEVICE_PATH *dp)
{
	for (; !IsDevicePathEnd(dp); dp = NextDevicePathNode(dp))
		if (DevicePathType(dp) == MESSAGING_DEVICE_PATH && DevicePathSubType(dp) == MSG_UART_DP)
			return TRUE;
	return FALSE;
}

static void mirror_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	CHAR16 buf[LOG_LINE_MAX + 3];
	UINTN n = 0;
	for (size_t i = 0; i < len && n < LOG_LINE_MAX; i++)
		buf[n++] = (CHAR16)(unsigned char)line[i];
	buf[n++] = L'\r';
	buf[n++] = L'\n';
	buf[n] = 0;
	for (UINTN i = 0; i < nmirrors; i++)
		uefi_call_wrapper(mirrors[i]->OutputString, 2, mirrors[i], buf);
}

void efi_console_mirror_start(void)
{
	EFI_HANDLE *handles = NULL;
	UINTN count = 0;
	EFI_STATUS s = uefi_call_wrapper(BS->LocateHandleBuffer, 5, ByProtocol, &TextOutProtocol,
					 NULL, &count, &handles);
	if (EFI_ERROR(s))
		return;
	for (UINTN i = 0; i < count && nmirrors < MAX_MIRRORS; i++) {
		EFI_DEVICE_PATH *dp;
		SIMPLE_TEXT_OUTPUT_INTERFACE *out;
		/* The console splitter has no device path: skip it, we want the leaves. */
		if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, handles[i],
						&DevicePathProtocol, (void **)&dp)))
			continue;
		if (path_has_uart(dp))
			continue;
		if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, handles[i], &TextOutProtocol,
						(void **)&out)))
			continue;
		mirrors[nmirrors++] = out;
	}
	FreePool(handles);
	if (nmirrors)
		log_add_sink(mirror_sink, NULL);
}

void efi_console_mirror_stop(void)
{
	log_remove_sink(mirror_sink);
	nmirrors = 0;
}

const char *efi_status_name(EFI_STATUS s)
{
	switch (s) {
	case EFI_SUCCESS:
		return "EFI_SUCCESS";
	case EFI_LOAD_ERROR:
		return "EFI_LOAD_ERROR";
	case EFI_INVALID_PARAMETER:
		return "EFI_INVALID_PARAMETER";
	case EFI_UNSUPPORTED:
		return "EFI_UNSUPPORTED";
	case EFI_BUFFER_TOO_SMALL:
		return "EFI_BUFFER_TOO_SMALL";
	case EFI_DEVICE_ERROR:
		return "EFI_DEVICE_ERROR";
	case EFI_OUT_OF_RESOURCES:
		return "EFI_OUT_OF_RESOURCES";
	case EFI_VOLUME_CORRUPTED:
		return "EFI_VOLUME_CORRUPTED";
	case EFI_NOT_FOUND:
		return "EFI_NOT_FOUND";
	case EFI_ACCESS_DENIED:
		return "EFI_ACCESS_DENIED";
	case EFI_SECURITY_VIOLATION:
		return "EFI_SECURITY_VIOLATION";
	case EFI_ABORTED:
		return "EFI_ABORTED";
	}
	return "EFI error";
}
