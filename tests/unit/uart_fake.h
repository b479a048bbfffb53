/*
 * uart_fake.h - a 16550 behind IN and OUT, for the code that drives a real
 * UART (drivers/serial/uart16550.c and L0's console, vmx/console.c).
 *
 * On the host an IN or OUT at CPL 3 faults; in a forked child (halting.h)
 * the fault handler performs it on a fake 16550 at uart_fake->base and
 * steps over the instruction, so the driver runs unchanged and the parent
 * sees every byte it sent.  The fake keeps the registers the driver
 * programs, records THR writes (with DLAB clear) in tx, hands out rx for
 * RBR reads, and reports LSR = THR empty | transmitter empty | data ready
 * while rx has bytes.  Without a UART (present false) reads give 0xff and
 * writes are lost, as on an empty bus.  Port I/O elsewhere is "stray": it
 * is counted, the first UART_FAKE_STRAY_MAX are recorded in order (port,
 * direction, the byte written or read), and a stray read of port p gives
 * stray_value[p] (0xff, an empty bus, unless a test programs it).  Only
 * byte IN/OUT is emulated: any wider one ends the child (HALTED_OTHER).
 *
 * uart_fake lives in shared memory: what the child leaves there (tx, the
 * registers, out[], page[]) is the parent's to check after the run.  The
 * child is a copy of the parent: L0's console state, which only ever goes
 * from off to on, starts off in every run.
 */
#ifndef MICROHV_TESTS_UART_FAKE_H
#define MICROHV_TESTS_UART_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#define UART_FAKE_TX_MAX 32768
#define UART_FAKE_STRAY_MAX 16

/* One byte of port I/O outside the UART. */
struct uart_fake_io {
	uint16_t port;
	bool in;
	uint8_t value; /* written (OUT) or read (IN) */
};

struct uart_fake {
	uint16_t base;
	bool present;
	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	char tx[UART_FAKE_TX_MAX + 1]; /* NUL-terminated */
	unsigned ntx;
	char rx[64];
	unsigned nrx, rx_next;
	unsigned ios;	     /* IN/OUT instructions performed, any port */
	unsigned stray;	     /* of those, to ports outside the UART */
	uint16_t stray_port; /* the latest of them */
	struct uart_fake_io strays[UART_FAKE_STRAY_MAX]; /* the first of them, in order */
	uint8_t stray_value[0x10000];			 /* what a stray IN of each port reads */
	/* Free for the child's results. */
	uint64_t out[32];
	uint8_t page[2][4096];
};

extern struct uart_fake *uart_fake;

/*
 * Maps uart_fake the first time, then zeroes it: a UART at base, present,
 * nothing sent or received; out[] and page[] zero; every stray_value 0xff.
 */
void uart_fake_reset(uint16_t base);

/* Queues bytes the UART has received (RBR, LSR data ready). */
void uart_fake_receive(const char *s);

/*
 * halting_run(fn) with IN/OUT reaching the fake: returns HALT_RETURNED when
 * fn returns, HALTED_CLI when it halted the CPU, ...; the child's log
 * (debug level) is in halting_out.
 */
int uart_fake_run(void (*fn)(void));

#endif
