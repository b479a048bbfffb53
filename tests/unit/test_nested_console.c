/*
 * test_nested_console.c - L0's console while L2 runs: its I/O ports and
 * its VMX-preemption timer merged into vmcs02 (nested/vmentry.c,
 * apply_l0_extras; nested/msr_merge.c), and L2's exits for them kept by
 * L0 (nested/reflect.c, vmx/console.c) while L1's own ports still reach L1.
 *
 * The console drives a 16550 through IN/OUT, so each case runs in a
 * forked child with the fake UART of tests/unit/uart_fake.h behind the
 * port I/O, on the nested run fixture (nested_run_fixture.h) that the
 * parent set up.  The fixture's nested state and vmcs12 live in shared
 * memory (the parent reads them after the child); vmcs02's fields and
 * the merged bitmap pages come back through uart_fake->out[] and page[].
 * The console stays off in the test process itself.
 *
 * Expected values are the SDM's, written out: pin-based control 6
 * "activate VMX-preemption timer" (0x40, SDM Vol. 3C 25.6.1); primary
 * controls 24 "unconditional I/O exiting" (0x1000000) and 25 "use I/O
 * bitmaps" (0x2000000, 25.6.2); bitmap A for ports 0-7FFFH and B for
 * 8000H-FFFFH, bit n%8 of byte n/8 for port n (25.6.4); "use I/O
 * bitmaps" decides over "unconditional I/O exiting" (26.1.3); the timer
 * counts down once per 2^MISC[4:0] TSC cycles (26.5.1); the I/O exit
 * qualification: size - 1 in bits 2:0, IN in bit 3, port in 31:16
 * (28.2.1).  The console is at COM2 (2F8H-2FFH: all of byte 5FH of A).
 */
#define _GNU_SOURCE /* _exit */

#include "test.h"

#include "halting.h"
#include "hw_fake.h"
#include "mm/page_alloc.h"
#include "nested_run_fixture.h"
#include "uart_fake.h"
#include "vmcs_soft.h"
#include "vmx/console.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <string.h>
#include <unistd.h>

#define COM2 0x2f8
#define SDM_PIN_PREEMPTION_TIMER 0x40u
#define SDM_UNCOND_IO_EXITING 0x1000000u
#define SDM_USE_IO_BITMAPS 0x2000000u
#define SDM_REASON_IO 30
#define SDM_REASON_PREEMPTION_TIMER 52
/* CONSOLE_POLL_TSC, 2^22 TSC cycles, at 2^5 cycles per tick (MISC[4:0] = 5 below). */
#define TIMER_VALUE 0x20000u
#define IO_QUAL(port, in, size) (((uint64_t)(port) << 16) | ((in) ? 8u : 0u) | ((size) - 1u))

#define POOL_PAGES 8
static uint8_t pool_mem[POOL_PAGES * 4096] __attribute__((aligned(4096)));
static struct page_alloc pool;

/* What the child reports (uart_fake->out[]). */
enum {
	OUT_CONSOLE_ON,
	OUT_IO_A,
	OUT_IO_B,
	OUT_IO02, /* the nested vCPU's bitmap pages */
	OUT_PROC,
	OUT_PIN,
	OUT_TIMER,
	OUT_LAUNCHED,
	OUT_IN_RAX,
	OUT_IN_RIP,
	OUT_IN_L2,
	OUT_RESUMED,
	OUT_TIMER_L2,
	OUT_TIMER_AFTER,
	OUT_STRAY,
};

/*
 * In the child: L0 as l0_prepare and vmcs01.c leave it with `console =
 * com2`: the console on, L0's page pool for its bitmaps, and on the BSP
 * (timer) the preemption timer in vmcs01's pin-based controls.
 */
static void console_on(bool timer)
{
	page_alloc_init(&pool, (uint64_t)(uintptr_t)pool_mem, sizeof(pool_mem));
	g_l0.pages = &pool;
	g_l0.caps.misc = (g_l0.caps.misc & ~0x1full) | 5;
	if (!l0_console_init(COM2, 115200))
		_exit(90);
	uart_fake->out[OUT_CONSOLE_ON] = 1;
	if (timer)
		vmcs_soft_set_in(VMCS01_PA, VMCS_PIN_BASED_VM_EXEC_CONTROL,
				 f01(VMCS_PIN_BASED_VM_EXEC_CONTROL) | SDM_PIN_PREEMPTION_TIMER);
}

/* In the child: L1's VMLAUNCH, then vmcs02's L0 parts and the merged pages out. */
static void launch_and_report(void)
{
	uart_fake->out[OUT_LAUNCHED] = run_l1_vmlaunch();
	uart_fake->out[OUT_IO_A] = f02(VMCS_IO_BITMAP_A);
	uart_fake->out[OUT_IO_B] = f02(VMCS_IO_BITMAP_B);
	uart_fake->out[OUT_IO02] = NV->io_bitmap02_pa;
	uart_fake->out[OUT_PROC] = f02(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	uart_fake->out[OUT_PIN] = f02(VMCS_PIN_BASED_VM_EXEC_CONTROL);
	uart_fake->out[OUT_TIMER] = f02(VMCS_VMX_PREEMPTION_TIMER_VALUE);
	memcpy(uart_fake->page[0], (const void *)(uintptr_t)NV->io_bitmap02_pa, 4096);
	memcpy(uart_fake->page[1], (const void *)(uintptr_t)(NV->io_bitmap02_pa + 4096), 4096);
}

/* Page pg of the child's merged bitmaps: the bytes of want (offset, value), fill elsewhere. */
static bool page_is(unsigned pg, const unsigned (*want)[2], unsigned n, uint8_t fill)
{
	for (unsigned i = 0; i < 4096; i++) {
		unsigned v = fill;
		for (unsigned k = 0; k < n; k++)
			if (want[k][0] == i)
				v = want[k][1];
		if (uart_fake->page[pg][i] != v)
			return false;
	}
	return true;
}

/* The parent's part: the fixture, L1's bitmaps (ports 80H in A, 8001H in B), a fresh UART. */
static void setup(void)
{
	run_setup();
	run_l1_ptr(IO_BITMAP12_A)[0x80 / 8] |= 1u << (0x80 % 8);
	run_l1_ptr(IO_BITMAP12_B)[0x0001 / 8] |= 1u << (0x0001 % 8);
	uart_fake_reset(COM2);
}

/*
 * The BSP, L1 using I/O bitmaps: vmcs02 uses L0's merged pages, where the
 * console's ports exit although L1's bitmaps do not ask for them, and L1's
 * ports too; the preemption timer runs with L0's poll interval.  L2's IN
 * from the console's LSR is L0's (the silent UART: THR and transmitter
 * empty, 60H) and L2 resumes after it; L2's OUT to port 80H is L1's exit;
 * back in L2, the timer's exit is L0's (it polls the console, rearms the
 * timer) and L2 resumes.
 */
static void bsp_with_l1_bitmaps(void)
{
	console_on(true);
	launch_and_report();
	regs.gpr[GPR_RAX] = 0x1122334455667788ull;
	run_l2_exit(SDM_REASON_IO, IO_QUAL(COM2 + 5, true, 1), 1);
	uart_fake->out[OUT_IN_RAX] = regs.gpr[GPR_RAX];
	uart_fake->out[OUT_IN_RIP] = f02(VMCS_GUEST_RIP);
	uart_fake->out[OUT_IN_L2] = NV->in_l2;
	run_l2_exit(SDM_REASON_IO, IO_QUAL(0x80, false, 1), 2); /* L1's: reflected */
	run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
	uart_fake->out[OUT_RESUMED] = NV->in_l2;
	vmcs_soft_set_in(VMCS02_PA, VMCS_VMX_PREEMPTION_TIMER_VALUE, 0); /* it ran out */
	run_l2_exit(SDM_REASON_PREEMPTION_TIMER, 0, 0);
	uart_fake->out[OUT_TIMER_L2] = NV->in_l2;
	uart_fake->out[OUT_TIMER_AFTER] = f02(VMCS_VMX_PREEMPTION_TIMER_VALUE);
	uart_fake->out[OUT_STRAY] = uart_fake->stray;
}

TEST(nested_console_ports_and_timer_in_vmcs02)
{
	setup();
	CHECK_EQ(uart_fake_run(bsp_with_l1_bitmaps), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[OUT_CONSOLE_ON], 1);
	CHECK_EQ(uart_fake->out[OUT_LAUNCHED], 1);
	uint64_t io02 = uart_fake->out[OUT_IO02];
	CHECK(io02 != 0 && io02 != IO_BITMAP12_A);
	CHECK_EQ(uart_fake->out[OUT_IO_A], io02);
	CHECK_EQ(uart_fake->out[OUT_IO_B], io02 + 4096);
	CHECK_EQ(uart_fake->out[OUT_PROC] & SDM_USE_IO_BITMAPS, SDM_USE_IO_BITMAPS);
	CHECK_EQ(uart_fake->out[OUT_PIN] & SDM_PIN_PREEMPTION_TIMER, SDM_PIN_PREEMPTION_TIMER);
	CHECK_EQ(uart_fake->out[OUT_TIMER], TIMER_VALUE);
	/* A: COM2 (byte 5FH) and L1's port 80H (byte 10H bit 0); B: L1's 8001H. */
	static const unsigned want_a[][2] = { { 0x10, 0x01 }, { 0x5f, 0xff } };
	static const unsigned want_b[][2] = { { 0x00, 0x02 } };
	CHECK(page_is(0, want_a, 2, 0));
	CHECK(page_is(1, want_b, 1, 0));
	/* L2's IN AL, DX from 2FDH: L0 answered, L2 past the 1-byte IN. */
	CHECK_EQ(uart_fake->out[OUT_IN_L2], 1);
	CHECK_EQ(uart_fake->out[OUT_IN_RAX], 0x1122334455667760ull);
	CHECK_EQ(uart_fake->out[OUT_IN_RIP], L2_RIP + 1);
	/* L2's OUT to 80H: L1's exit, with its qualification. */
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_IO);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0x800000);
	CHECK_EQ(f12(VMCS_VM_EXIT_INSTRUCTION_LEN), 2);
	/* The timer: L0's, rearmed, L2 resumed. */
	CHECK_EQ(uart_fake->out[OUT_RESUMED], 1);
	CHECK_EQ(uart_fake->out[OUT_TIMER_L2], 1);
	CHECK_EQ(uart_fake->out[OUT_TIMER_AFTER], TIMER_VALUE);
	CHECK_EQ(NV->l2_exits, 3);
	CHECK_EQ(uart_fake->out[OUT_STRAY], 0); /* L2's port I/O never reached the hardware */
	CHECK(strstr(uart_fake->tx, "microhv L0 console: ready") != NULL);
}

/*
 * An AP (no timer in its vmcs01), L1 without I/O controls: L2's I/O runs
 * free except the console's ports; no timer in vmcs02.  An OUT to the
 * console's THR from L2 is L0's and goes nowhere.
 */
static void ap_without_l1_io_controls(void)
{
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   f12(VMCS_CPU_BASED_VM_EXEC_CONTROL) &
		       ~(uint64_t)(SDM_USE_IO_BITMAPS | SDM_UNCOND_IO_EXITING));
	console_on(false);
	launch_and_report();
	unsigned tx0 = uart_fake->ntx;
	regs.gpr[GPR_RAX] = 'x';
	run_l2_exit(SDM_REASON_IO, IO_QUAL(COM2, false, 1), 1);
	uart_fake->out[OUT_IN_L2] = NV->in_l2;
	uart_fake->out[OUT_IN_RIP] = f02(VMCS_GUEST_RIP);
	uart_fake->out[OUT_STRAY] = uart_fake->stray + (uart_fake->ntx - tx0);
}

TEST(nested_console_ports_without_l1_io_controls)
{
	setup();
	CHECK_EQ(uart_fake_run(ap_without_l1_io_controls), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[OUT_LAUNCHED], 1);
	CHECK_EQ(uart_fake->out[OUT_IO_A], uart_fake->out[OUT_IO02]);
	CHECK_EQ(uart_fake->out[OUT_PROC] & (SDM_USE_IO_BITMAPS | SDM_UNCOND_IO_EXITING),
		 SDM_USE_IO_BITMAPS);
	CHECK_EQ(uart_fake->out[OUT_PIN] & SDM_PIN_PREEMPTION_TIMER, 0);
	static const unsigned want_a[][2] = { { 0x5f, 0xff } };
	CHECK(page_is(0, want_a, 1, 0));
	CHECK(page_is(1, NULL, 0, 0));
	CHECK_EQ(uart_fake->out[OUT_IN_L2], 1);
	CHECK_EQ(uart_fake->out[OUT_IN_RIP], L2_RIP + 1);
	CHECK_EQ(uart_fake->out[OUT_STRAY], 0);
	CHECK_EQ(NV->reflected, 0);
}

/* L1 with "unconditional I/O exiting" and no bitmaps: every port exits, through bitmaps. */
static void l1_unconditional_io(void)
{
	vmcs12_set(V12, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   (f12(VMCS_CPU_BASED_VM_EXEC_CONTROL) & ~(uint64_t)SDM_USE_IO_BITMAPS) |
		       SDM_UNCOND_IO_EXITING);
	console_on(true);
	launch_and_report();
}

TEST(nested_console_ports_with_l1_unconditional_io_exiting)
{
	setup();
	CHECK_EQ(uart_fake_run(l1_unconditional_io), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[OUT_LAUNCHED], 1);
	CHECK_EQ(uart_fake->out[OUT_IO_A], uart_fake->out[OUT_IO02]);
	CHECK_EQ(uart_fake->out[OUT_PROC] & SDM_USE_IO_BITMAPS, SDM_USE_IO_BITMAPS);
	CHECK(page_is(0, NULL, 0, 0xff));
	CHECK(page_is(1, NULL, 0, 0xff));
	CHECK_EQ(uart_fake->out[OUT_TIMER], TIMER_VALUE);
}

/* Without L0's console, vmcs02 takes L1's bitmap pages as they are, and no timer. */
TEST(nested_console_off_leaves_l1_bitmaps)
{
	run_setup();
	CHECK(!l0_console_enabled());
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_IO_BITMAP_A), IO_BITMAP12_A);
	CHECK_EQ(f02(VMCS_IO_BITMAP_B), IO_BITMAP12_B);
	CHECK_EQ(f02(VMCS_PIN_BASED_VM_EXEC_CONTROL) & SDM_PIN_PREEMPTION_TIMER, 0);
}

/*
 * Time of check vs time of use, for ports: L1 asks for port 80H at the
 * entry, then clears the bit while L2 runs.  The CPU exited because of
 * the merged bitmap it used, so L2's OUT to 80H is L1's exit.  Judged from
 * L1's memory read again it would be L0's, for a port L0 does not own.
 * Without the console (vmcs02 then has L1's own bitmaps), an I/O exit is
 * L1's whatever L1's memory says afterwards.
 */
static void l1_clears_its_bit_during_l2(void)
{
	console_on(true);
	launch_and_report();
	run_l1_ptr(IO_BITMAP12_A)[0x80 / 8] = 0;
	run_l2_exit(SDM_REASON_IO, IO_QUAL(0x80, false, 1), 2);
	uart_fake->out[OUT_IN_L2] = NV->in_l2;
	uart_fake->out[OUT_STRAY] = uart_fake->stray;
}

TEST(nested_console_io_owner_from_the_entry_copy)
{
	setup();
	CHECK_EQ(uart_fake_run(l1_clears_its_bit_during_l2), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[OUT_LAUNCHED], 1);
	CHECK_EQ(uart_fake->out[OUT_IN_L2], 0);
	CHECK_EQ(uart_fake->out[OUT_STRAY], 0); /* nothing done on the hardware for L2 */
	CHECK(strstr(halting_out, "unexpected I/O exit") == NULL);

	run_setup();
	CHECK(!l0_console_enabled());
	CHECK(run_l1_vmlaunch());
	memset(run_l1_ptr(IO_BITMAP12_A), 0, 4096);
	CHECK_EQ(run_l2_exit(SDM_REASON_IO, IO_QUAL(0x60, true, 1), 2), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_IO);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0x600008);
}
