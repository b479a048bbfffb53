/*
 * test_console.c - vmx/console.c, L0's console: opening the UART, the keys
 * ('s' statistics, 'd' vmcs01 dump, 'h' and any other key the key list),
 * the preemption-timer poll, the statistics lines, and the I/O bitmaps
 * that take the console's ports from L1 (exit_io, which answers L1 there,
 * is tested in test_console_io.c).
 *
 * The console drives a 16550 through IN/OUT, so whatever needs it on runs
 * in a forked child with a fake UART behind the port I/O (uart_fake.h); the
 * checks are on the bytes the UART was sent, what the child copied out and
 * its log.  The console stays off in the test process itself.  Expected
 * bytes are written out: console.c's text with the UART's "\r\n", the
 * bitmap bits of SDM Vol. 3C 25.6.4 (A: ports 0-7FFFH, B: 8000H-FFFFH).
 */
#define _GNU_SOURCE /* _exit */

#include "test.h"

#include "drivers/serial/log.h"
#include "halting.h"
#include "hw_fake.h"
#include "uart_fake.h"
#include "vmcs_soft.h"
#include "vmx/console.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COM2 0x2f8
#define RIP0 0xfffff80000401234ull
#define GPR_INIT(n) (0x1122334455667700ull | ((uint64_t)(n) << 4) | 8)
#define POOL_PAGES 16

#define KEYS_LINE "microhv L0 console: keys: s statistics, d vmcs01 dump, h help\r\n"
#define STATS_HEAD "microhv L0 console: exit statistics\r\n"

static struct vcpu cpu0, cpu1;
static struct guest_regs regs;
static struct page_alloc pool;
static void *pool_mem;

/* g_l0 with two CPUs that have exit counts, a page pool, vmcs01 of CPU 1; the UART at base. */
static void setup(uint16_t base)
{
	uart_fake_reset(base);
	vmcs_soft_reset();
	hw_fake_reset();
	log_init("t", LOG_INFO);

	if (!pool_mem)
		pool_mem = aligned_alloc(4096, POOL_PAGES * 4096);
	memset(pool_mem, 0x5c, POOL_PAGES * 4096); /* page_alloc hands out zeroed pages */
	page_alloc_init(&pool, (uint64_t)(uintptr_t)pool_mem, POOL_PAGES * 4096);

	memset(&g_l0, 0, sizeof(g_l0));
	hw_fake_bochs_caps(&g_l0.caps);
	g_l0.caps.misc = (g_l0.caps.misc & ~0x1full) | 5; /* timer: TSC / 32 */
	g_l0.pages = &pool;

	memset(&cpu0, 0, sizeof(cpu0));
	memset(&cpu1, 0, sizeof(cpu1));
	cpu0.index = 0;
	cpu0.apic_id = 0;
	cpu0.exits_total = 12;
	cpu0.l0_refusals = 3;
	cpu0.exits[0] = 2;
	cpu0.exits[10] = 7;
	cpu0.exits[48] = 3;
	cpu1.index = 1;
	cpu1.apic_id = 4;
	cpu1.exits_total = 5;
	cpu1.exits[30] = 5;
	g_l0.vcpus[0] = &cpu0;
	g_l0.vcpus[1] = &cpu1;
	g_l0.ncpus = 2;

	memset(&regs, 0, sizeof(regs));
	for (unsigned i = 0; i < GPR_COUNT; i++)
		regs.gpr[i] = GPR_INIT(i);
	regs.vcpu = &cpu1;
	vmcs_soft_set(VMCS_VIRTUAL_PROCESSOR_ID, 1);
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x2);
	vmcs_soft_set(VMCS_HOST_RIP, 0xffff800000123456ull);
}

/* In the child: the console on at the fake UART, its greeting dropped from tx. */
static void console_on(void)
{
	if (!l0_console_init(uart_fake->base, 115200))
		_exit(90);
	uart_fake->ntx = 0;
	memset(uart_fake->tx, 0, sizeof(uart_fake->tx));
}

/* ---- the poll interval ---- */

TEST(console_timer_value_from_misc_rate)
{
	setup(COM2);
	/* 2^22 TSC cycles, the timer ticking every 2^MISC[4:0] of them (SDM Vol. 3C 26.5.1). */
	g_l0.caps.misc = 0x1e0;
	CHECK_EQ(l0_console_timer_value(), 0x400000);
	g_l0.caps.misc = 0x1e5;
	CHECK_EQ(l0_console_timer_value(), 0x20000);
	g_l0.caps.misc = 0x7fffffe3ull; /* only bits 4:0 count */
	CHECK_EQ(l0_console_timer_value(), 0x80000);
	g_l0.caps.misc = 21;
	CHECK_EQ(l0_console_timer_value(), 2);
	g_l0.caps.misc = 22;
	CHECK_EQ(l0_console_timer_value(), 1);
	g_l0.caps.misc = 23; /* would be 0: never below 1 */
	CHECK_EQ(l0_console_timer_value(), 1);
	g_l0.caps.misc = 31;
	CHECK_EQ(l0_console_timer_value(), 1);
}

/* ---- opening the UART ---- */

static void init_9600(void)
{
	uart_fake->out[0] = l0_console_init(uart_fake->base, 9600);
	uart_fake->out[1] = l0_console_enabled();
}

TEST(console_init_opens_the_uart)
{
	setup(COM2);
	CHECK_EQ(uart_fake_run(init_9600), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 1);
	CHECK_EQ(uart_fake->out[1], 1);
	CHECK_STR(uart_fake->tx, "microhv L0 console: ready (keys: s statistics, d vmcs01 dump, "
				 "h help)\r\n");
	CHECK_EQ(uart_fake->dll, 12); /* 115200 / 9600 */
	CHECK_EQ(uart_fake->dlm, 0);
	CHECK_EQ(uart_fake->lcr, 0x03); /* 8N1, DLAB clear again */
	CHECK_EQ(uart_fake->stray, 0);
	CHECK(strstr(halting_out, "[t] info: console: L0 console on I/O port 0x2f8 (keys: s "
				  "statistics, d vmcs01 dump, h help)\n") != NULL);
	CHECK(strstr(halting_out, "warn") == NULL);
}

static void init_absent(void)
{
	uint64_t a = 0xaaaa, b = 0xbbbb;
	uart_fake->out[0] = l0_console_init(uart_fake->base, 115200);
	uart_fake->out[1] = l0_console_enabled();
	uart_fake->out[2] = l0_console_owns_port(COM2) || l0_console_owns_port(COM2 + 5);
	uart_fake->out[3] = l0_console_io_bitmaps(&a, &b);
	uart_fake->out[4] = a;
	uart_fake->out[5] = b;
	uart_fake->out[6] = page_alloc_free_pages(&pool);
	/* A key and a poll with the console off send nothing. */
	l0_console_key(&cpu1, 'h');
	exit_preemption_timer(&cpu1, &regs);
}

TEST(console_init_without_a_uart)
{
	setup(COM2);
	size_t free0 = page_alloc_free_pages(&pool);
	uart_fake->present = false;
	CHECK_EQ(uart_fake_run(init_absent), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 0);
	CHECK_EQ(uart_fake->out[1], 0);
	CHECK_EQ(uart_fake->out[2], 0);
	CHECK_EQ(uart_fake->out[3], 0);
	CHECK_EQ(uart_fake->out[4], 0xaaaa);
	CHECK_EQ(uart_fake->out[5], 0xbbbb);
	CHECK_EQ(uart_fake->out[6], free0);
	CHECK_EQ(uart_fake->ntx, 0);
	CHECK_STR(halting_out, "[t] warn: console: no UART answers at I/O port 0x2f8: L0 console "
			       "off\n");
}

static void init_port_0(void)
{
	uart_fake->out[0] = l0_console_init(0, 115200);
	uart_fake->out[1] = l0_console_enabled();
}

TEST(console_init_port_0_is_off_silently)
{
	setup(COM2);
	CHECK_EQ(uart_fake_run(init_port_0), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 0);
	CHECK_EQ(uart_fake->out[1], 0);
	CHECK_EQ(uart_fake->ios, 0);
	CHECK_STR(halting_out, "");
}

/* ---- keys ---- */

static void keys_help(void)
{
	console_on();
	l0_console_key(&cpu1, 'h');
	l0_console_key(&cpu1, '\r');
	l0_console_key(&cpu1, '\n');
	uart_fake->out[0] = uart_fake->ntx;
	l0_console_key(&cpu1, 'x');
	l0_console_key(&cpu1, 'S'); /* keys are case-sensitive */
}

TEST(console_keys_h_and_unknown_list_the_keys)
{
	setup(COM2);
	CHECK_EQ(uart_fake_run(keys_help), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], strlen(KEYS_LINE)); /* CR and LF print nothing */
	CHECK_STR(uart_fake->tx, KEYS_LINE KEYS_LINE KEYS_LINE);
}

static void key_s(void)
{
	console_on();
	l0_console_key(&cpu0, 's');
}

TEST(console_key_s_prints_every_cpus_statistics)
{
	setup(COM2);
	CHECK_EQ(uart_fake_run(key_s), HALT_RETURNED);
	CHECK_STR(uart_fake->tx, "microhv L0 console: exit statistics\r\n"
				 "CPU 0 (APIC ID 0): 12 VM exits, 3 L0-memory refusals\r\n"
				 "   0 exception or NMI                         2\r\n"
				 "  10 CPUID                                    7\r\n"
				 "  48 EPT violation                            3\r\n"
				 "CPU 1 (APIC ID 4): 5 VM exits, 0 L0-memory refusals\r\n"
				 "  30 I/O instruction                          5\r\n"
				 "microhv L0 console: end of statistics\r\n");
	/* The statistics go to the console, not to the log. */
	CHECK_STR(halting_out, "[t] info: console: L0 console on I/O port 0x2f8 (keys: s "
			       "statistics, d vmcs01 dump, h help)\n");
}

#define STATS_KEEP 8
static struct {
	int n;
	char line[STATS_KEEP][160];
} printed;

static void print_line(const char *line)
{
	if (printed.n < STATS_KEEP)
		strncpy(printed.line[printed.n], line, sizeof(printed.line[0]) - 1);
	printed.n++;
}

TEST(console_exit_stats_lines)
{
	setup(COM2);
	cpu1.exits[79] = 123456789012ull; /* the last reason with a slot; a long count */
	cpu1.exits_total = 123456789017ull;
	cpu1.l0_refusals = 42;
	memset(&printed, 0, sizeof(printed));
	l0_print_exit_stats(print_line);
	CHECK_EQ(printed.n, 7);
	CHECK_STR(printed.line[0], "CPU 0 (APIC ID 0): 12 VM exits, 3 L0-memory refusals");
	CHECK_STR(printed.line[1], "   0 exception or NMI                         2");
	CHECK_STR(printed.line[3], "  48 EPT violation                            3");
	CHECK_STR(printed.line[4], "CPU 1 (APIC ID 4): 123456789017 VM exits, 42 L0-memory "
				   "refusals");
	CHECK_STR(printed.line[5], "  30 I/O instruction                          5");
	CHECK_STR(printed.line[6], "  79 unknown                                  123456789012");
	/* No CPUs, no lines. */
	g_l0.ncpus = 0;
	memset(&printed, 0, sizeof(printed));
	l0_print_exit_stats(print_line);
	CHECK_EQ(printed.n, 0);
}

static void key_d(void)
{
	console_on();
	log_set_level(LOG_WARN);
	l0_console_key(&cpu1, 'd');
	uart_fake->out[0] = log_get_level();
	uart_fake->out[1] = uart_fake->ntx;
	log_warn("after the dump");
	uart_fake->out[2] = uart_fake->ntx;
}

static unsigned count(const char *s, const char *what)
{
	unsigned n = 0;
	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

TEST(console_key_d_dumps_vmcs01_to_the_console)
{
	setup(COM2);
	vmcs_soft_set_supported(VMCS_POSTED_INTR_NV, false); /* a field this CPU lacks */
	CHECK_EQ(uart_fake_run(key_d), HALT_RETURNED);
	vmcs_soft_set_supported(VMCS_POSTED_INTR_NV, true);
	const char *tx = uart_fake->tx;
	const char *head = "microhv L0 console: vmcs01 of CPU 1\r\n"
			   "[t] debug: VMCS control fields:\r\n"
			   "[t] debug:   VIRTUAL_PROCESSOR_ID           0x1\r\n";
	CHECK(strncmp(tx, head, strlen(head)) == 0);
	CHECK(strstr(tx, "\r\n[t] debug: VMCS exit information fields:\r\n") != NULL);
	CHECK(strstr(tx, "\r\n[t] debug: VMCS guest state fields:\r\n") != NULL);
	CHECK(
	    strstr(tx, "\r\n[t] debug:   GUEST_RIP                      0xfffff80000401234\r\n") !=
	    NULL);
	CHECK(strstr(tx, "\r\n[t] debug: VMCS host state fields:\r\n") != NULL);
	const char *tail = "[t] debug:   HOST_RIP                       0xffff800000123456\r\n"
			   "microhv L0 console: end of dump\r\n";
	CHECK(strlen(tx) > strlen(tail) && strcmp(tx + strlen(tx) - strlen(tail), tail) == 0);
	CHECK(strstr(tx, "POSTED_INTR_NV") == NULL);
	/* Every field the "CPU" has, four headings, the two console lines. */
	CHECK_EQ(count(tx, "\r\n"), VMCS_FIELD_COUNT - 1 + 4 + 2);
	CHECK_EQ(count(tx, "\n"), count(tx, "\r\n"));
	/* The level is back, the console sink gone: a later log line stays off it. */
	CHECK_EQ(uart_fake->out[0], LOG_WARN);
	CHECK_EQ(uart_fake->out[2], uart_fake->out[1]);
	CHECK(strstr(tx, "after the dump") == NULL);
	CHECK(strstr(halting_out, "[t] warn: after the dump\n") != NULL);
}

/* ---- the preemption-timer poll ---- */

static void poll(void)
{
	console_on();
	vmcs_soft_set(VMCS_VMX_PREEMPTION_TIMER_VALUE, 0);
	exit_preemption_timer(&cpu0, &regs);
	uart_fake->out[0] = vmcs_soft_get(VMCS_VMX_PREEMPTION_TIMER_VALUE);
	uart_fake->out[1] = uart_fake->rx_next;
	uart_fake->out[2] = vmcs_soft_get(VMCS_GUEST_RIP);
}

TEST(console_poll_takes_every_waiting_key)
{
	setup(COM2);
	uart_fake_receive("hzs");
	CHECK_EQ(uart_fake_run(poll), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 0x20000); /* 2^22 >> 5: rearmed */
	CHECK_EQ(uart_fake->out[1], 3);	      /* all three read */
	CHECK_EQ(uart_fake->out[2], RIP0);    /* a timer exit completes no instruction */
	CHECK(strncmp(uart_fake->tx, KEYS_LINE KEYS_LINE STATS_HEAD,
		      strlen(KEYS_LINE KEYS_LINE STATS_HEAD)) == 0);
	CHECK(strstr(uart_fake->tx, "microhv L0 console: end of statistics\r\n") != NULL);
}

TEST(console_poll_without_a_key)
{
	setup(COM2);
	CHECK_EQ(uart_fake_run(poll), HALT_RETURNED);
	CHECK(uart_fake->out[0] == 0x20000 && uart_fake->out[1] == 0 && uart_fake->ntx == 0);
}

/* ---- the I/O bitmaps ---- */

static void bitmaps(void)
{
	console_on();
	uint64_t a = 0, b = 0, a2 = 0, b2 = 0;
	size_t free0 = page_alloc_free_pages(&pool);
	uart_fake->out[0] = l0_console_io_bitmaps(&a, &b);
	uart_fake->out[1] = a;
	uart_fake->out[2] = b;
	uart_fake->out[3] = free0 - page_alloc_free_pages(&pool);
	uart_fake->out[4] = l0_console_io_bitmaps(&a2, &b2);
	uart_fake->out[5] = a2 == a && b2 == b;
	uart_fake->out[6] = free0 - page_alloc_free_pages(&pool);
	if (a && b) {
		memcpy(uart_fake->page[0], (const void *)(uintptr_t)a, 4096);
		memcpy(uart_fake->page[1], (const void *)(uintptr_t)b, 4096);
	}
}

/* Bitmap page pg has exactly the bytes of want (offset, value) and zeros elsewhere. */
static bool only(unsigned pg, const unsigned (*want)[2], unsigned n)
{
	for (unsigned i = 0; i < 4096; i++) {
		unsigned v = 0;
		for (unsigned k = 0; k < n; k++)
			if (want[k][0] == i)
				v = want[k][1];
		if (uart_fake->page[pg][i] != v)
			return false;
	}
	return true;
}

TEST(console_io_bitmaps_com2)
{
	setup(COM2);
	CHECK_EQ(uart_fake_run(bitmaps), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 1);
	uint64_t a = uart_fake->out[1], b = uart_fake->out[2];
	uint64_t lo = (uint64_t)(uintptr_t)pool_mem, hi = lo + POOL_PAGES * 4096;
	CHECK(a >= lo && a < hi && b >= lo && b < hi); /* L0's pages */
	CHECK_EQ(a & 0xfff, 0);
	CHECK_EQ(b & 0xfff, 0);
	CHECK(a != b);
	CHECK_EQ(uart_fake->out[3], 2);
	CHECK_EQ(uart_fake->out[4], 1); /* once built, the same pages, nothing more taken */
	CHECK_EQ(uart_fake->out[5], 1);
	CHECK_EQ(uart_fake->out[6], 2);
	/* Ports 2F8H-2FFH: byte 5FH of A, all eight bits. */
	static const unsigned want_a[][2] = {{0x5f, 0xff}};
	CHECK(only(0, want_a, 1));
	CHECK(only(1, NULL, 0));
}

TEST(console_io_bitmaps_across_a_and_b)
{
	/* 7FFCH-8003H: bits 4-7 of A's last byte, bits 0-3 of B's first. */
	setup(0x7ffc);
	CHECK_EQ(uart_fake_run(bitmaps), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 1);
	static const unsigned a1[][2] = {{0xfff, 0xf0}}, b1[][2] = {{0x000, 0x0f}};
	CHECK(only(0, a1, 1));
	CHECK(only(1, b1, 1));

	/* FFF8H-FFFFH, the highest a UART can sit: B's last byte. */
	setup(0xfff8);
	CHECK_EQ(uart_fake_run(bitmaps), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 1);
	static const unsigned b2[][2] = {{0xfff, 0xff}};
	CHECK(only(0, NULL, 0));
	CHECK(only(1, b2, 1));

	/* 3FDH-404H: not byte-aligned, bits 5-7 of byte 7FH and 0-4 of byte 80H. */
	setup(0x3fd);
	CHECK_EQ(uart_fake_run(bitmaps), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 1);
	static const unsigned a3[][2] = {{0x7f, 0xe0}, {0x80, 0x1f}};
	CHECK(only(0, a3, 2));
	CHECK(only(1, NULL, 0));
}

/*
 * With one free page, the first call fails and gives the page back; a
 * later call with memory builds both bitmaps.  (It used to keep bitmap A
 * and answer the next call with A, no console bits in it, and B = 0.)
 */
static struct page_alloc tiny;

static void bitmaps_out_of_memory(void)
{
	console_on();
	uint64_t a = 0xaaaa, b = 0xbbbb;
	g_l0.pages = &tiny;
	uart_fake->out[20] = l0_console_io_bitmaps(&a, &b);
	uart_fake->out[21] = page_alloc_free_pages(&tiny);
	uart_fake->out[22] = a == 0xaaaa && b == 0xbbbb;
	uart_fake->out[23] = l0_console_io_bitmaps(&a, &b);
	uart_fake->out[24] = a == 0xaaaa && b == 0xbbbb;
	g_l0.pages = &pool;
	bitmaps();
}

TEST(console_io_bitmaps_out_of_memory)
{
	setup(COM2);
	static uint8_t two[2 * 4096] __attribute__((aligned(4096)));
	CHECK(page_alloc_init(&tiny, (uint64_t)(uintptr_t)two, sizeof(two)));
	CHECK_EQ(page_alloc_free_pages(&tiny), 1);
	CHECK_EQ(uart_fake_run(bitmaps_out_of_memory), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[20], 0);
	CHECK_EQ(uart_fake->out[21], 1); /* nothing kept */
	CHECK_EQ(uart_fake->out[22], 1); /* nothing written */
	CHECK_EQ(uart_fake->out[23], 0); /* still no memory: still false */
	CHECK_EQ(uart_fake->out[24], 1);
	/* Then with memory, as in console_io_bitmaps_com2. */
	CHECK_EQ(uart_fake->out[0], 1);
	CHECK_EQ(uart_fake->out[3], 2);
	static const unsigned want_a[][2] = {{0x5f, 0xff}};
	CHECK(only(0, want_a, 1));
	CHECK(only(1, NULL, 0));
}

/* The same tick polls the VT-d units' fault records (core/iommu.h, l0_dma_tick). */
static void poll_twice(void)
{
	poll();
	uart_fake->out[3] = hw_calls.dma_ticks;
	poll();
	uart_fake->out[4] = hw_calls.dma_ticks;
}

TEST(console_timer_exit_polls_dma_faults)
{
	setup(COM2);
	CHECK_EQ(uart_fake_run(poll_twice), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[3], 1);
	CHECK_EQ(uart_fake->out[4], 2);
}
