/*
 * uart16550.c - the 16550 UART, polled.
 *
 * Register layout per the National Semiconductor PC16550D data sheet: with
 * LCR.DLAB set, offsets 0/1 are the divisor latch; otherwise 0 is THR/RBR.
 * Transmission waits for LSR.THRE with a bounded spin, so a missing or stuck
 * UART slows the log down but never hangs the hypervisor.
 */
#include "uart16550.h"

#include "arch/x86/cpu.h"

#define UART_THR 0 /* transmit holding (write) / receive buffer (read) */
#define UART_IER 1
#define UART_DLL 0 /* with DLAB */
#define UART_DLM 1 /* with DLAB */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07 /* enable FIFOs, clear RX and TX */
#define MCR_DTR_RTS_OUT2 0x0b
#define LSR_DATA_READY 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40 /* transmitter empty: FIFO and shift register drained */

#define UART_TX_SPIN_LIMIT 100000

static void wait_tx_empty(uint16_t port)
{
	for (int spin = 0; spin < UART_TX_SPIN_LIMIT; spin++) {
		if (inb(port + UART_LSR) & LSR_TEMT)
			return;
		cpu_pause();
	}
}

bool uart_baud_valid(uint32_t baud)
{
	/* The divisor latch is 16 bits wide (DLL, DLM). */
	return baud != 0 && baud <= UART_CLOCK_BAUD && UART_CLOCK_BAUD % baud == 0 &&
	       UART_CLOCK_BAUD / baud <= 0xffff;
}

bool uart_init(struct uart *u, uint16_t port, uint32_t baud)
{
	u->port = port;
	u->present = false;
	if (!port || !uart_baud_valid(baud))
		return false;

	/* The scratch register holds what we write only if a UART is there. */
	outb(port + UART_SCR, 0x5a);
	if (inb(port + UART_SCR) != 0x5a)
		return false;

	/*
	 * Another user of the port (the loader, before the core takes over)
	 * may still have bytes in the FIFO: let them drain, or clearing the
	 * FIFO below would drop the end of its last line.
	 */
	wait_tx_empty(port);

	uint16_t divisor = (uint16_t)(UART_CLOCK_BAUD / baud);
	outb(port + UART_IER, 0x00);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, (uint8_t)(divisor & 0xff));
	outb(port + UART_DLM, (uint8_t)(divisor >> 8));
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, MCR_DTR_RTS_OUT2);
	u->present = true;
	return true;
}

static void uart_putc(struct uart *u, char c)
{
	for (int spin = 0; spin < UART_TX_SPIN_LIMIT; spin++) {
		if (inb(u->port + UART_LSR) & LSR_THRE)
			break;
		cpu_pause();
	}
	outb(u->port + UART_THR, (uint8_t)c);
}

void uart_write(struct uart *u, const char *s, size_t len)
{
	if (!u->present)
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc(u, '\r');
		uart_putc(u, s[i]);
	}
}

void uart_flush(struct uart *u)
{
	if (u->present)
		wait_tx_empty(u->port);
}

int uart_getc(struct uart *u)
{
	if (!u->present || !(inb(u->port + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(u->port + UART_THR);
}

void uart_log_sink(const char *line, size_t len, void *ctx)
{
	struct uart *u = ctx;
	uart_write(u, line, len);
	uart_write(u, "\n", 1);
}
