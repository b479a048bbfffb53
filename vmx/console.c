/*
 * console.c - L0's interactive console on a UART of its own (console.h).
 */
#include "console.h"

#include "drivers/serial/format.h"
#include "drivers/serial/log.h"
#include "drivers/serial/uart16550.h"
#include "exit.h"
#include "l0.h"
#include "vmcs.h"
#include "vmcs_dump.h"
#include "vmx_names.h"

static struct uart g_console;
static bool g_console_on;
static uint64_t g_io_bitmap_a, g_io_bitmap_b;

#define UART_PORTS 8
#define UART_LSR_OFFSET 5
#define LSR_IDLE_TX 0x60 /* THR empty, transmitter empty, no data ready */

static void console_line(const char *line)
{
	size_t n = 0;
	while (line[n])
		n++;
	uart_write(&g_console, line, n);
	uart_write(&g_console, "\n", 1);
}

static void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void console_printf(const char *fmt, ...)
{
	char line[LOG_LINE_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	console_line(line);
}

bool l0_console_init(uint16_t port, uint32_t baud)
{
	if (!port)
		return false;
	if (!uart_init(&g_console, port, baud)) {
		log_warn("console: no UART answers at I/O port 0x%x: L0 console off", port);
		return false;
	}
	g_console_on = true;
	console_printf("microhv L0 console: ready (keys: s statistics, d vmcs01 dump, h help)");
	log_info("console: L0 console on I/O port 0x%x (keys: s statistics, d vmcs01 dump, "
		 "h help)",
		 port);
	return true;
}

bool l0_console_enabled(void)
{
	return g_console_on;
}

uint32_t l0_console_timer_value(void)
{
	/* SDM Vol. 3C 26.5.1: the timer counts down every 2^MISC[4:0] TSC cycles. */
	unsigned rate = (unsigned)(g_l0.caps.misc & 0x1f);
	uint64_t v = CONSOLE_POLL_TSC >> rate;
	return v ? (uint32_t)v : 1;
}

void l0_print_exit_stats(void (*print)(const char *line))
{
	char line[LOG_LINE_MAX + 1];
	for (unsigned i = 0; i < g_l0.ncpus; i++) {
		const struct vcpu *c = g_l0.vcpus[i];
		fmt_snprintf(line, sizeof(line), "CPU %u (APIC ID %u): %llu VM exits, %llu L0-memory "
			     "refusals",
			     c->index, c->apic_id, (unsigned long long)c->exits_total,
			     (unsigned long long)c->l0_refusals);
		print(line);
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
			if (!c->exits[r])
				continue;
			fmt_snprintf(line, sizeof(line), "  %2u %-40s %llu", r, vmx_exit_reason_name(r),
				     (unsigned long long)c->exits[r]);
			print(line);
		}
	}
}

static void console_dump_line(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	uart_write(&g_console, line, len);
	uart_write(&g_console, "\n", 1);
}

void l0_console_key(struct vcpu *v, int key)
{
	switch (key) {
	case 's':
		console_printf("microhv L0 console: exit statistics");
		l0_print_exit_stats(console_line);
		console_printf("microhv L0 console: end of statistics");
		break;
	case 'd': {
		console_printf("microhv L0 console: vmcs01 of CPU %u", v->index);
		/* The dump goes through the log: point a sink at the console for it. */
		enum log_level saved = log_get_level();
		log_set_level(LOG_DEBUG);
		log_add_sink(console_dump_line, NULL);
		vmcs_dump(LOG_DEBUG, VMCS_DUMP_ALL);
		log_remove_sink(console_dump_line);
		log_set_level(saved);
		console_printf("microhv L0 console: end of dump");
		break;
	}
	case '\r':
	case '\n':
		break;
	default:
		console_printf("microhv L0 console: keys: s statistics, d vmcs01 dump, h help");
	}
}

bool l0_console_owns_port(uint16_t port)
{
	return g_console_on && port >= g_console.port && port < g_console.port + UART_PORTS;
}

/* SDM Vol. 3C 25.6.4: bitmap A covers ports 0-0x7fff, B 0x8000-0xffff. */
bool l0_console_io_bitmaps(uint64_t *a, uint64_t *b)
{
	if (!g_console_on)
		return false;
	if (!g_io_bitmap_a) {
		/* Both pages or neither: a later call must not find A alone. */
		uint64_t pa_a = page_alloc(g_l0.pages, 1, 1);
		uint64_t pa_b = pa_a ? page_alloc(g_l0.pages, 1, 1) : 0;
		if (!pa_b) {
			if (pa_a)
				page_free(g_l0.pages, pa_a, 1);
			return false;
		}
		for (uint32_t p = g_console.port; p < (uint32_t)g_console.port + UART_PORTS; p++) {
			uint8_t *bm = (uint8_t *)(uintptr_t)(p < 0x8000 ? pa_a : pa_b);
			uint32_t bit = p & 0x7fff;
			bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
		}
		g_io_bitmap_a = pa_a;
		g_io_bitmap_b = pa_b;
	}
	*a = g_io_bitmap_a;
	*b = g_io_bitmap_b;
	return true;
}

/* I/O exit qualification, SDM Vol. 3C table 28-5. */
#define IO_QUAL_SIZE(q) (((q) & 7) + 1)
#define IO_QUAL_IN(q) (((q) >> 3) & 1)
#define IO_QUAL_STRING(q) (((q) >> 4) & 1)
#define IO_QUAL_REP(q) (((q) >> 5) & 1)
#define IO_QUAL_PORT(q) ((uint16_t)((q) >> 16))

void exit_io(struct vcpu *v, struct guest_regs *r)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	uint16_t port = IO_QUAL_PORT(q);
	unsigned size = (unsigned)IO_QUAL_SIZE(q);
	if (!l0_console_owns_port(port)) {
		log_error("CPU %u: unexpected I/O exit for port 0x%x", v->index, port);
		vmx_halt_cpu(v, "unexpected I/O exit");
	}
	if (IO_QUAL_STRING(q)) {
		/*
		 * INS/OUTS to L0's console: no data moves; the instruction
		 * completes as if every element went through (RCX for REP, and
		 * RSI/RDI stepped by the direction flag).
		 */
		uint64_t count = IO_QUAL_REP(q) ? r->gpr[GPR_RCX] : 1;
		int64_t step = (vmcs_read(VMCS_GUEST_RFLAGS) & (1u << 10)) ? -1 : 1;
		unsigned idx = IO_QUAL_IN(q) ? GPR_RDI : GPR_RSI;
		r->gpr[idx] += (uint64_t)(step * (int64_t)(count * size));
		if (IO_QUAL_REP(q))
			r->gpr[GPR_RCX] = 0;
	} else if (IO_QUAL_IN(q)) {
		uint64_t value = port == g_console.port + UART_LSR_OFFSET ? LSR_IDLE_TX : 0;
		uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
		/* A 32-bit IN zero-extends into RAX; 8/16-bit ones keep the rest. */
		if (size == 4)
			r->gpr[GPR_RAX] = value;
		else
			r->gpr[GPR_RAX] = (r->gpr[GPR_RAX] & ~mask) | (value & mask);
	}
	vmx_skip_instruction();
}

void exit_preemption_timer(struct vcpu *v, struct guest_regs *r)
{
	(void)r;
	int key;
	while ((key = uart_getc(&g_console)) >= 0)
		l0_console_key(v, key);
	/* Rearm: with "save preemption timer value" off the field is reloaded
	 * at entry anyway (SDM 26.7.4), but a CPU that forces it on saved 0. */
	vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, l0_console_timer_value());
}
