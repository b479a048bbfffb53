/*
 * console.c - L0's interactive console on a UART of its own (console.h).
 */
#include "console.h"

#include "drivers/serial/format.h"
#include "drivers/serial/log.h"
#include "drivers/serial/uart16550.h"
#include "exit.h"
#include "hw_ops.h"
#include "l0.h"
#include "l1_memory.h"
#include "nested/ept12.h"
#include "nested/operand.h"
#include "vmcs.h"
#include "vmcs_dump.h"
#include "vmx_arch.h"
#include "vmx_bits.h"
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

/*
 * ---- I/O-instruction exits (reason 30) ----
 *
 * L0's I/O bitmaps claim only the console's eight ports, but an access
 * exits if the bitmap bit of any of its bytes is set, and an access that
 * wraps past port FFFFH exits whatever the bitmaps say (SDM Vol. 3C
 * 25.6.4).  So an exit may carry bytes that are not the console's: a 2-
 * or 4-byte access that starts below the console and overlaps it (or
 * starts in it and runs past its end), or one at FFFFH that goes on at
 * 0000H.  exit_io takes every access byte by byte over ports (port + i)
 * mod 2^16: the console's bytes are answered as a silent UART, every
 * other byte is performed on the hardware with a byte IN/OUT - a port L1
 * reaches without any exit, so no port of L0's is ever touched for L1.
 * An exit with none of the console's bytes and no wrap (which L0's
 * bitmaps never cause) is performed the same way and logged as a warning.
 *
 * INS/OUTS whose element is all console bytes complete at once: no data
 * moves, RSI/RDI step over every element and RCX ends 0, each at the
 * instruction's address size.  Any other INS/OUTS is emulated one element
 * per exit through L1's paging; a REP one is left at its RIP until RCX
 * reaches 0 (SDM Vol. 2B, REP: a repeated string operation may be
 * suspended between iterations, RIP still at the instruction).
 * Everything is read from the current VMCS: vmcs01, or vmcs02 when an
 * exit of L2's is L0's to handle (L2's guest-physical addresses are L1's:
 * L1 is offered no EPT).
 */

/* I/O exit qualification, SDM Vol. 3C table 28-5. */
#define IO_QUAL_SIZE(q) (((q) & 7) + 1)
#define IO_QUAL_IN(q) (((q) >> 3) & 1)
#define IO_QUAL_STRING(q) (((q) >> 4) & 1)
#define IO_QUAL_REP(q) (((q) >> 5) & 1)
#define IO_QUAL_PORT(q) ((uint16_t)((q) >> 16))

/*
 * VM-exit instruction information for INS and OUTS (SDM Vol. 3C 28.2.5,
 * its INS/OUTS table), present where IA32_VMX_BASIC[54] = 1: address size
 * in bits 9:7 (0 16-bit, 1 32-bit, 2 64-bit), and for OUTS the segment
 * register in bits 17:15 (0 ES .. 5 GS, enum nested_seg's order).
 */
#define IO_INFO_ADDR_SIZE(i) (((i) >> 7) & 7u)
#define IO_INFO_SEG(i) (((i) >> 15) & 7u)

#define RFLAGS_DF_BIT (1ull << 10)
#define RFLAGS_RF_BIT (1ull << 16)

/* One I/O access as the exit describes it. */
struct io_access {
	uint16_t port;
	unsigned size; /* bytes: 1, 2 or 4 */
	bool in, string, rep;
	unsigned console; /* bit i: byte i, port (port + i) mod 2^16, is the console's */
};

enum io_case { IO_WRAPS, IO_OVERLAPS, IO_NOT_CONSOLE, IO_CASES };
static bool g_io_logged[IO_CASES];
static bool g_io_info_missing_logged;

/* A console port read by L1: the silent UART. */
static uint8_t console_port_in(uint16_t port)
{
	return port == g_console.port + UART_LSR_OFFSET ? LSR_IDLE_TX : 0;
}

/* An access that is not all the console's: logged once per case, later ones at debug level. */
static void io_log(const struct vcpu *v, const struct io_access *a)
{
	static const char *const what[IO_CASES] = {
		[IO_WRAPS] = "wraps past port 0xffff",
		[IO_OVERLAPS] = "overlaps L0's console",
		[IO_NOT_CONSOLE] = "exited though L0's I/O bitmaps do not claim it",
	};
	enum io_case c = IO_NOT_CONSOLE;
	if ((uint32_t)a->port + a->size > 0x10000)
		c = IO_WRAPS;
	else if (a->console)
		c = IO_OVERLAPS;
	enum log_level level = c == IO_NOT_CONSOLE ? LOG_WARN : LOG_INFO;
	if (g_io_logged[c])
		level = LOG_DEBUG;
	g_io_logged[c] = true;
	log_msg(level,
		"CPU %u: L1's %u-byte %s%s%s at I/O port 0x%x (RIP 0x%llx) %s: L0 performs the "
		"bytes outside its console on the hardware",
		v->index, a->size, a->rep ? "REP " : "", a->in ? "IN" : "OUT", a->string ? "S" : "",
		a->port, (unsigned long long)vmcs_read(VMCS_GUEST_RIP), what[c]);
}

/* One element: the console's bytes answered, the others read on the hardware. */
static uint32_t io_in_element(const struct io_access *a)
{
	uint32_t value = 0;
	for (unsigned i = 0; i < a->size; i++) {
		uint16_t p = (uint16_t)(a->port + i);
		uint8_t b = ((a->console >> i) & 1) ? console_port_in(p) : inb(p);
		value |= (uint32_t)b << (8 * i);
	}
	return value;
}

/* One element: the console's bytes dropped, the others written on the hardware. */
static void io_out_element(const struct io_access *a, uint32_t value)
{
	for (unsigned i = 0; i < a->size; i++)
		if (!((a->console >> i) & 1))
			outb((uint16_t)(a->port + i), (uint8_t)(value >> (8 * i)));
}

/*
 * The instruction is done: RIP moves past it, and RF is 0 after it, as
 * after any instruction that completes (SDM Vol. 3A 18.3.1.1: the CPU
 * clears RF at the start of each instruction).
 */
static void io_complete(void)
{
	uint64_t rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	if (rflags & RFLAGS_RF_BIT)
		vmcs_write(VMCS_GUEST_RFLAGS, rflags & ~RFLAGS_RF_BIT);
	vmx_skip_instruction();
}

/*
 * A REP INS/OUTS left between two iterations: RIP stays, and L1 executes
 * the instruction again for the rest, as after an interrupt between
 * iterations.  The CPU then has RF = 1 in the RFLAGS it saves, so that an
 * instruction breakpoint on it does not fire again, and with TF = 1 (no
 * BTF) a single-step trap after the iteration (SDM Vol. 3A 18.3.1.1); the
 * trap is left pending in BS (SDM Vol. 3C 25.4.2), as vmx_skip_instruction
 * does after a completed instruction.
 */
static void io_between_iterations(uint64_t rflags)
{
	vmcs_write(VMCS_GUEST_RFLAGS, rflags | RFLAGS_RF_BIT);
	if ((rflags & RFLAGS_TF) && !(vmcs_read(VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF))
		vmcs_set_bits(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
}

/*
 * Register n written at an address size (SDM Vol. 1 3.4.1.1): a 16-bit
 * one writes SI/DI/CX and keeps bits 63:16, a 32-bit one writes
 * ESI/EDI/ECX zero-extended.
 */
static void io_set_reg(struct guest_regs *r, unsigned n, uint64_t value, unsigned bits)
{
	if (bits == 16)
		r->gpr[n] = (r->gpr[n] & ~0xffffull) | (value & 0xffff);
	else if (bits == 32)
		r->gpr[n] = (uint32_t)value;
	else
		r->gpr[n] = value;
}

/*
 * The string instruction's address size from the instruction
 * information; a CPU without it (IA32_VMX_BASIC[54] = 0) or a value the
 * table does not define gives the code size's default (*from_info false:
 * a 67H or segment prefix is then missed).
 */
static unsigned io_address_bits(uint32_t info, bool *from_info)
{
	*from_info = (g_l0.caps.basic & VMX_BASIC_INOUT_INFO) && IO_INFO_ADDR_SIZE(info) <= 2;
	if (*from_info)
		return 16u << IO_INFO_ADDR_SIZE(info);
	enum x86_code_size cs = vmx_guest_code_size();
	return cs == X86_CODE64 ? 64 : cs == X86_CODE32 ? 32 : 16;
}

/*
 * L1's mode and segments, for the segment checks of nested/operand.h
 * (pure, the same checks as for a VMX instruction's memory operand).
 */
static void io_operand_env(struct nested_operand_env *e, const struct guest_regs *r)
{
	l1_operand_env_of_current(e, r);
	/*
	 * Real and virtual-8086 mode check only the limit: every segment
	 * counts as a usable, present, writable expand-up data segment there.
	 */
	if (e->mode == NMODE_REAL || e->mode == NMODE_V8086)
		for (unsigned s = 0; s < NSEG_COUNT; s++)
			e->seg[s].ar = VMX_AR_TYPE_RW | VMX_AR_S | VMX_AR_P;
}

/* A failed access to the element's memory: #PF as the walk says, else #GP(0); false if none. */
static bool io_walk_failed(struct vcpu *v, const struct guest_walk *w, uint64_t la)
{
	switch (w->status) {
	case GWALK_OK:
		return false;
	case GWALK_PAGE_FAULT:
		/* CR2 is not switched by VM entries: L1 sees the register L0 leaves. */
		hw_set_cr2(w->cr2);
		vmx_inject_exception(VEC_PF, true, w->error_code);
		break;
	case GWALK_RETRY:
		/* L1's page tables kept changing: the instruction runs again. */
		break;
	case GWALK_MEM_FAULT:
		/* L2's access is L1's EPT violation (nested/ept12.h): nothing injected. */
		break;
	case GWALK_MEM_FAILED:
		v->l0_refusals++;
		log_warn("CPU %u: L1's INS/OUTS at linear address 0x%llx reaches GPA 0x%llx, which "
			 "is not L1's memory: refused, #GP(0) to L1",
			 v->index, (unsigned long long)la, (unsigned long long)w->failed_gpa);
		vmx_inject_gp0();
		break;
	default:
		vmx_inject_gp0();
	}
	return true;
}

/*
 * Translates every page of [la, la + n) for a write, writing nothing: INS
 * reads its ports only once the destination is known to take the
 * element, so that a #PF consumes nothing from a device.  (An address the
 * l1_memory then refuses - L0's own - still loses the element: L1 gets
 * #GP(0) for it anyway.)
 */
static bool io_probe_write(const struct guest_paging *g, uint64_t la, unsigned n, bool wrap32,
			   unsigned access, struct guest_walk *w)
{
	uint64_t last = la + n - 1;
	if (wrap32)
		last &= 0xffffffffull;
	if (guest_walk(g, la, access | GWALK_WRITE, w) != GWALK_OK)
		return false;
	if ((last >> 12) != (la >> 12) &&
	    guest_walk(g, last & ~0xfffull, access | GWALK_WRITE, w) != GWALK_OK)
		return false;
	return true;
}

/*
 * Moves one element of INS/OUTS between the ports and L1's memory at
 * seg:(E/R)DI (INS: always ES, no prefix changes it) or seg:(E/R)SI
 * (OUTS), SDM Vol. 2B INS/OUTS; false when it did not (a fault injected,
 * or a walk to run again).  The I/O-permission checks came before the
 * exit; the segment checks (SDM Vol. 3A 5.3, 5.4; canonical addresses in
 * 64-bit mode, 3.3.7.1) and the page walk come here.
 */
static bool io_string_element(struct vcpu *v, const struct guest_regs *r, const struct io_access *a,
			      unsigned seg, unsigned addr_bits)
{
	struct nested_operand_env e;
	io_operand_env(&e, r);
	uint64_t ea = r->gpr[a->in ? GPR_RDI : GPR_RSI];
	if (addr_bits < 64)
		ea &= (1ull << addr_bits) - 1;
	bool mode64 = e.mode == NMODE_64;
	/* SDM Vol. 3A 3.4.4: in 64-bit mode only the FS and GS bases count. */
	uint64_t la = ea + ((!mode64 || seg == NSEG_FS || seg == NSEG_GS) ? e.seg[seg].base : 0);
	if (!mode64)
		la &= 0xffffffffull;
	struct nested_operand op = {.is_mem = true,
				    .size = a->size,
				    .writes = a->in,
				    .seg = seg,
				    .addr_bits = addr_bits,
				    .ea = ea,
				    .linear = la};
	enum nested_operand_result res = nested_operand_check_access(&e, &op);
	if (res != NOPERAND_OK) {
		if (res == NOPERAND_SS0)
			vmx_inject_exception(VEC_SS, true, 0);
		else
			vmx_inject_gp0();
		return false;
	}

	struct guest_paging g;
	struct guest_walk w;
	l1_paging_of_current(&g, nested_guest_memory(v));
	unsigned access = vmx_guest_cpl() == 3 ? GWALK_USER : 0;
	uint32_t value = 0;
	if (a->in) {
		if (!io_probe_write(&g, la, a->size, !mode64, access, &w))
			return !io_walk_failed(v, &w, la);
		value = io_in_element(a);
		guest_write_linear(&g, la, &value, a->size, access, &w);
		return !io_walk_failed(v, &w, la);
	}
	guest_read_linear(&g, la, &value, a->size, access, &w);
	if (io_walk_failed(v, &w, la))
		return false;
	io_out_element(a, value);
	return true;
}

static void io_string(struct vcpu *v, struct guest_regs *r, const struct io_access *a)
{
	uint32_t info = (uint32_t)vmcs_read(VMCS_VMX_INSTRUCTION_INFO);
	bool from_info;
	unsigned bits = io_address_bits(info, &from_info);
	if (!from_info && !g_io_info_missing_logged) {
		g_io_info_missing_logged = true;
		log_warn("CPU %u: INS/OUTS exit without a usable instruction information (address "
			 "size %u): L0 takes the code size's address size and DS",
			 v->index, IO_INFO_ADDR_SIZE(info));
	}
	unsigned seg = a->in ? NSEG_ES : from_info ? IO_INFO_SEG(info) : NSEG_DS;
	if (seg >= NSEG_COUNT)
		seg = NSEG_DS;
	uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
	uint64_t count = a->rep ? r->gpr[GPR_RCX] & mask : 1;
	uint64_t rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	uint64_t step = (rflags & RFLAGS_DF_BIT) ? -(uint64_t)a->size : a->size;
	unsigned idx = a->in ? GPR_RDI : GPR_RSI;

	if (count == 0) {
		/* REP with a zero count: no iteration at all. */
		io_complete();
		return;
	}
	if (a->console == (1u << a->size) - 1) {
		/* Only the console's ports: no data moves, every element goes through at once. */
		io_set_reg(r, idx, r->gpr[idx] + step * count, bits);
		if (a->rep)
			io_set_reg(r, GPR_RCX, 0, bits);
		io_complete();
		return;
	}
	if (!io_string_element(v, r, a, seg, bits))
		return;
	io_set_reg(r, idx, r->gpr[idx] + step, bits);
	if (a->rep)
		io_set_reg(r, GPR_RCX, count - 1, bits);
	if (!a->rep || count == 1)
		io_complete();
	else
		io_between_iterations(rflags);
}

void exit_io(struct vcpu *v, struct guest_regs *r)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	unsigned size = (unsigned)IO_QUAL_SIZE(q);
	/* Table 28-5 has sizes 1, 2 and 4 only: never more than 4 bytes. */
	if (size > 4)
		size = 4;
	struct io_access a = {
		.port = IO_QUAL_PORT(q),
		.size = size,
		.in = IO_QUAL_IN(q),
		.string = IO_QUAL_STRING(q),
		.rep = IO_QUAL_REP(q),
	};
	for (unsigned i = 0; i < size; i++)
		if (l0_console_owns_port((uint16_t)(a.port + i)))
			a.console |= 1u << i;
	if (a.console != (1u << size) - 1)
		io_log(v, &a);
	if (a.string) {
		io_string(v, r, &a);
		return;
	}
	if (a.in) {
		uint64_t value = io_in_element(&a);
		uint64_t mask = (1ull << (8 * size)) - 1;
		/* A 32-bit IN zero-extends into RAX; 8/16-bit ones keep the rest. */
		if (size == 4)
			r->gpr[GPR_RAX] = value;
		else
			r->gpr[GPR_RAX] = (r->gpr[GPR_RAX] & ~mask) | (value & mask);
	} else {
		io_out_element(&a, (uint32_t)r->gpr[GPR_RAX]);
	}
	io_complete();
}

void l0_console_poll(struct vcpu *v)
{
	int key;
	while ((key = uart_getc(&g_console)) >= 0)
		l0_console_key(v, key);
}

void exit_preemption_timer(struct vcpu *v, struct guest_regs *r)
{
	(void)r;
	l0_console_poll(v);
	l0_dma_tick(v);
	/* Rearm: with "save preemption timer value" off the field is reloaded
	 * at entry anyway (SDM 26.7.4), but a CPU that forces it on saved 0. */
	vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, l0_console_timer_value());
}
