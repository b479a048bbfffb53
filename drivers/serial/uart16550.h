/*
 * uart16550.h - polled driver for a 16550-compatible UART on an I/O port
 * (COM1 0x3F8 by default), 8 data bits, no parity, 1 stop bit.
 */
#ifndef MICROHV_UART16550_H
#define MICROHV_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_CLOCK_BAUD 115200u /* divisor 1 on a PC UART (1.8432 MHz / 16) */

struct uart {
	uint16_t port;
	bool present;
};

/* True when the divisor 115200/baud is an exact integer in 1..65535. */
bool uart_baud_valid(uint32_t baud);

/*
 * Programs the UART at port for baud 8N1 with FIFOs on.  Returns false (and
 * leaves u->present false, so writes are dropped) when no UART answers there.
 */
bool uart_init(struct uart *u, uint16_t port, uint32_t baud);

/* Writes len bytes; "\n" goes out as "\r\n".  Never blocks forever. */
void uart_write(struct uart *u, const char *s, size_t len);

/* Waits (bounded) until every byte written has left the transmitter. */
void uart_flush(struct uart *u);

/* Returns the received byte, or -1 when none is waiting. */
int uart_getc(struct uart *u);

/* A log sink (see log.h) writing one line plus "\r\n" to the uart in ctx. */
void uart_log_sink(const char *line, size_t len, void *ctx);

#endif
