/*
 * uart_fake.c - the fake 16550 behind IN/OUT (uart_fake.h).
 */
#define _GNU_SOURCE /* sigaction, REG_RIP, MAP_ANONYMOUS */

#include "uart_fake.h"

#include "halting.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

struct uart_fake *uart_fake;

/* PC16550D registers by offset; DLL/DLM with LCR.DLAB. */
#define RBR_THR 0
#define IER 1
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define SCR 7
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE_TEMT 0x60

void uart_fake_reset(uint16_t base)
{
	if (!uart_fake) {
		void *p = mmap(NULL, sizeof(*uart_fake), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			abort();
		uart_fake = p;
	}
	memset(uart_fake, 0, sizeof(*uart_fake));
	memset(uart_fake->stray_value, 0xff, sizeof(uart_fake->stray_value));
	uart_fake->base = base;
	uart_fake->present = true;
}

void uart_fake_receive(const char *s)
{
	size_t n = strlen(s);
	if (uart_fake->nrx + n <= sizeof(uart_fake->rx)) {
		memcpy(uart_fake->rx + uart_fake->nrx, s, n);
		uart_fake->nrx += (unsigned)n;
	}
}

static void stray(uint16_t port, bool in, uint8_t value)
{
	struct uart_fake *u = uart_fake;
	if (u->stray < UART_FAKE_STRAY_MAX)
		u->strays[u->stray] = (struct uart_fake_io){.port = port, .in = in, .value = value};
	u->stray++;
	u->stray_port = port;
}

static uint8_t port_in(uint16_t port)
{
	struct uart_fake *u = uart_fake;
	u->ios++;
	if (port < u->base || port - u->base > 7) {
		stray(port, true, u->stray_value[port]);
		return u->stray_value[port];
	}
	if (!u->present)
		return 0xff;
	bool dlab = u->lcr & LCR_DLAB;
	switch (port - u->base) {
	case RBR_THR:
		if (dlab)
			return u->dll;
		return u->rx_next < u->nrx ? (uint8_t)u->rx[u->rx_next++] : 0;
	case IER:
		return dlab ? u->dlm : u->ier;
	case LCR:
		return u->lcr;
	case MCR:
		return u->mcr;
	case LSR:
		return LSR_THRE_TEMT | (u->rx_next < u->nrx ? LSR_DR : 0);
	case SCR:
		return u->scr;
	default:
		return 0;
	}
}

static void port_out(uint16_t port, uint8_t v)
{
	struct uart_fake *u = uart_fake;
	u->ios++;
	if (port < u->base || port - u->base > 7) {
		stray(port, false, v);
		return;
	}
	if (!u->present)
		return;
	bool dlab = u->lcr & LCR_DLAB;
	switch (port - u->base) {
	case RBR_THR:
		if (dlab)
			u->dll = v;
		else if (u->ntx < UART_FAKE_TX_MAX)
			u->tx[u->ntx++] = (char)v;
		break;
	case IER:
		if (dlab)
			u->dlm = v;
		else
			u->ier = v;
		break;
	case FCR:
		u->fcr = v;
		break;
	case LCR:
		u->lcr = v;
		break;
	case MCR:
		u->mcr = v;
		break;
	case SCR:
		u->scr = v;
		break;
	}
}

/* IN/OUT with DX or imm8, byte operand: performed on the fake, then stepped over. */
static void on_segv(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = uctx;
	greg_t *g = uc->uc_mcontext.gregs;
	const uint8_t *ip = (const uint8_t *)g[REG_RIP];
	switch (ip[0]) {
	case 0xec: /* in al, dx */
		g[REG_RAX] = (g[REG_RAX] & ~0xffll) | port_in((uint16_t)g[REG_RDX]);
		g[REG_RIP] += 1;
		return;
	case 0xe4: /* in al, imm8 */
		g[REG_RAX] = (g[REG_RAX] & ~0xffll) | port_in(ip[1]);
		g[REG_RIP] += 2;
		return;
	case 0xee: /* out dx, al */
		port_out((uint16_t)g[REG_RDX], (uint8_t)g[REG_RAX]);
		g[REG_RIP] += 1;
		return;
	case 0xe6: /* out imm8, al */
		port_out(ip[1], (uint8_t)g[REG_RAX]);
		g[REG_RIP] += 2;
		return;
	case 0xfa: /* cli */
	case 0xf4: /* hlt */
		_exit(HALTED_CLI);
	default:
		_exit(HALTED_OTHER);
	}
}

static void install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
}

int uart_fake_run(void (*fn)(void))
{
	return halting_run(install, fn);
}
