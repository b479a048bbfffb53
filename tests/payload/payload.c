/*
 * payload.c - the shared part of the test payloads (payload.h).
 */
#include "payload.h"

#include <efilib.h>

#include "arch/x86/cpu.h"
#include "drivers/serial/format.h"
#include "drivers/serial/uart16550.h"

#define BOCHS_SHUTDOWN_PORT 0x8900
#define LINE_MAX 200

static struct uart g_uart;

void payload_serial_init(void)
{
	uart_init(&g_uart, 0x3f8, 115200);
}

void payload_say(const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	uart_write(&g_uart, line, (size_t)n);
	uart_write(&g_uart, "\n", 1);
}

void payload_check(const char *prefix, unsigned *passed, unsigned *failed, int ok,
		   const char *what, const char *fmt, va_list ap)
{
	char detail[LINE_MAX];
	fmt_vsnprintf(detail, sizeof(detail), fmt, ap);
	if (ok)
		(*passed)++;
	else
		(*failed)++;
	payload_say("%s: %s - %s (%s)", prefix, ok ? "ok" : "not ok", what, detail);
}

void payload_power_off(void)
{
	uart_flush(&g_uart);
	for (const char *c = "Shutdown"; *c; c++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*c);
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0, NULL);
	payload_say("microhv-payload: error: ResetSystem returned; halting");
	cpu_halt_forever();
}
