/*
 * console.h - L0's own interactive console (hv.cfg `console = com2`).
 *
 * L0 never runs on its own: it only sees the CPU on VM exits.  So the BSP's
 * vmcs01 arms the VMX-preemption timer, and each timer exit polls the
 * console UART for a key (docs/serial.md):
 *   s   exit statistics of every CPU, per exit reason
 *   d   a dump of the BSP's vmcs01 (all fields the CPU has)
 *   h   the list of keys
 * Everything the console prints goes to the console port, which L1 no
 * longer sees as a UART (l0_console_io_bitmaps).
 */
#ifndef MICROHV_VMX_CONSOLE_H
#define MICROHV_VMX_CONSOLE_H

#include "vcpu.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * TSC cycles between polls (about 1-2 ms on hardware), before the
 * preemption-timer rate (MISC[4:0]).  Bochs 2.7 never fires the timer for
 * values of 2^24 and more, so stay below that.
 */
#define CONSOLE_POLL_TSC (1ull << 22)

/* Opens the console UART; false (and a warning) if none answers. */
bool l0_console_init(uint16_t port, uint32_t baud);
bool l0_console_enabled(void);

/* The preemption-timer value for vmcs01 (CONSOLE_POLL_TSC at the CPU's rate). */
uint32_t l0_console_timer_value(void);

/*
 * Takes the keys waiting at the console.  The timer exit's work, also
 * done by a CPU that L0 holds in VMX root (nested/wait_sipi.c).
 */
void l0_console_poll(struct vcpu *v);

/* Preemption-timer exit handler (exit reason 52). */
void exit_preemption_timer(struct vcpu *v, struct guest_regs *r);

/* Acts on one key; exposed for the unit tests. */
void l0_console_key(struct vcpu *v, int key);

/*
 * L0 owns the console's 8 I/O ports: L1's accesses exit through the I/O
 * bitmaps and see a silent UART (transmitter always empty, nothing ever
 * received; writes dropped), so neither the firmware nor the OS takes the
 * keys meant for L0.  Returns the bitmaps' physical addresses (A, B).
 */
bool l0_console_io_bitmaps(uint64_t *a, uint64_t *b);
bool l0_console_owns_port(uint16_t port);

/*
 * I/O-instruction exit handler (exit reason 30), for the current VMCS's
 * guest (L1, or L2 where L0 keeps the exit).  Byte by byte: the console's
 * ports answered as above, any other byte of the access (one that wraps
 * past FFFFH, or overlaps the console from below or above) performed on
 * the hardware.  INS/OUTS on the console's ports alone complete at once
 * (no data moves; RSI/RDI/RCX at the address size); any other INS/OUTS
 * moves one element per exit through L1's paging, a REP one re-executed
 * until RCX is 0.  Never halts (vmx/console.c has the details).
 */
void exit_io(struct vcpu *v, struct guest_regs *r);

/* Prints every CPU's exit statistics through print (console or log). */
void l0_print_exit_stats(void (*print)(const char *line));

#endif
