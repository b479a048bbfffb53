/*
 * payload.h - what every test payload (next stage) needs: a COM1 line
 * printer and a power-off that ends Bochs, QEMU and real machines.
 */
#ifndef MICROHV_TEST_PAYLOAD_H
#define MICROHV_TEST_PAYLOAD_H

#include <efi.h>

#include <stdarg.h>

/* Opens COM1 (0x3f8, 115200 8N1) for payload_say. */
void payload_serial_init(void);

/* One formatted line on COM1, written directly (not through ConOut). */
void payload_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * One check: "PREFIX: ok - WHAT (DETAIL)" or "PREFIX: not ok - ...", with
 * DETAIL formatted from fmt; counts it in *passed or *failed.
 */
void payload_check(const char *prefix, unsigned *passed, unsigned *failed, int ok,
		   const char *what, const char *fmt, va_list ap);

/*
 * Drains COM1, then powers off: "Shutdown" to Bochs's port 0x8900, then
 * ResetSystem(EfiResetShutdown) for QEMU and hardware.  Does not return.
 */
__attribute__((noreturn)) void payload_power_off(void);

#endif
