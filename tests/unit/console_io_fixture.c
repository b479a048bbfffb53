/*
 * console_io_fixture.c - the fixture of exit_io's tests (console_io_fixture.h).
 */
#define _GNU_SOURCE /* _exit, MAP_ANONYMOUS */

#include "console_io_fixture.h"

#include "drivers/serial/log.h"
#include "halting.h"
#include "hw_fake.h"
#include "vmcs_soft.h"
#include "vmx/console.h"
#include "vmx/l0.h"
#include "vmx/l1_memory.h"
#include "vmx/vmcs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct cio_shared *cio_sh;

static uint8_t *cio_host(uint64_t gpa, size_t len)
{
	if (gpa < MEM_BASE || gpa - MEM_BASE >= MEM_SIZE || len > MEM_SIZE - (gpa - MEM_BASE))
		return NULL;
	return cio_sh->mem + (gpa - MEM_BASE);
}

static bool l1_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	uint8_t *p = cio_host(gpa, len);
	if (!p) {
		cio_sh->refusals++;
		cio_sh->last_refused = gpa;
		return false;
	}
	memcpy(buf, p, len);
	return true;
}

static bool l1_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	uint8_t *p = cio_host(gpa, len);
	if (!p) {
		cio_sh->refusals++;
		cio_sh->last_refused = gpa;
		return false;
	}
	memcpy(p, buf, len);
	return true;
}

static const struct l1_memory l1mem = {
    .read = l1_read, .write = l1_write, .ctx = NULL, .maxphyaddr = 39};

static void cio_put64(uint64_t gpa, uint64_t v)
{
	memcpy(cio_host(gpa, 8), &v, 8);
}

uint32_t cio_get32(uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, cio_host(gpa, 4), 4);
	return v;
}

void cio_put32(uint64_t gpa, uint32_t v)
{
	memcpy(cio_host(gpa, 4), &v, 4);
}

/* Identity tables for 2 MiB-2 MiB+64 KiB: PML4[0] -> PDPT[0] -> PD[1] -> PT. */
static void cio_build_memory(void)
{
	if (!cio_sh) {
		void *p = mmap(NULL, sizeof(*cio_sh), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			abort();
		cio_sh = p;
	}
	memset(cio_sh, 0, sizeof(*cio_sh));
	memset(cio_host(MEM_BASE + 0x4000, MEM_SIZE - 0x4000), FILL, MEM_SIZE - 0x4000);
	const uint64_t p = 1, rw = 2;
	cio_put64(PML4, PDPT | p | rw);
	cio_put64(PDPT, PD | p | rw);
	cio_put64(PD + 8, PT | p | rw);
	for (uint64_t i = 0; i < MEM_SIZE / 4096; i++) {
		uint64_t pa = MEM_BASE + i * 4096;
		if (pa == NP_PAGE)
			continue;
		cio_put64(PT + 8 * i,
			  pa == L0_PAGE ? L0_GPA | p | rw : pa | p | (pa == RO_PAGE ? 0 : rw));
	}
}

/* ---- L1's state ---- */

struct vcpu cio_cpu;
struct guest_regs cio_regs;

void cio_set_seg(unsigned s, uint64_t base, uint32_t limit, uint32_t ar)
{
	static const uint32_t b[] = {VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
				     VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE};
	static const uint32_t l[] = {VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT,
				     VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT};
	static const uint32_t a[] = {VMCS_GUEST_ES_AR_BYTES, VMCS_GUEST_CS_AR_BYTES,
				     VMCS_GUEST_SS_AR_BYTES, VMCS_GUEST_DS_AR_BYTES,
				     VMCS_GUEST_FS_AR_BYTES, VMCS_GUEST_GS_AR_BYTES};
	vmcs_soft_set(b[s], base);
	vmcs_soft_set(l[s], limit);
	vmcs_soft_set(a[s], ar);
}

/* 64-bit mode, 4-level paging; ES/SS/DS bases and limits that 64-bit mode ignores. */
void cio_mode_64(void)
{
	vmcs_soft_set(VMCS_GUEST_CR0, 0x80010031); /* PG WP NE ET PE */
	vmcs_soft_set(VMCS_GUEST_CR3, PML4);
	vmcs_soft_set(VMCS_GUEST_CR4, 0x20); /* PAE */
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0x500);
	for (unsigned s = 0; s < 6; s++)
		cio_set_seg(s, 0x40000000, 0, 0xc093);
	cio_set_seg(1, 0, 0xffffffff, 0xa09b); /* CS.L */
	cio_set_seg(4, 0, 0xffffffff, 0xc093); /* FS */
	cio_set_seg(5, 0, 0xffffffff, 0xc093); /* GS */
}

/* 32-bit protected mode, paging off, flat 4 GiB segments. */
void cio_mode_32(void)
{
	vmcs_soft_set(VMCS_GUEST_CR0, 0x31);
	vmcs_soft_set(VMCS_GUEST_CR3, 0);
	vmcs_soft_set(VMCS_GUEST_CR4, 0);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0);
	for (unsigned s = 0; s < 6; s++)
		cio_set_seg(s, 0, 0xffffffff, 0xc093);
	cio_set_seg(1, 0, 0xffffffff, 0xc09b);
}

/* Real mode: 64 KiB segments. */
void cio_mode_real(void)
{
	vmcs_soft_set(VMCS_GUEST_CR0, 0x30);
	vmcs_soft_set(VMCS_GUEST_CR3, 0);
	vmcs_soft_set(VMCS_GUEST_CR4, 0);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0);
	for (unsigned s = 0; s < 6; s++)
		cio_set_seg(s, 0, 0xffff, 0x93);
	cio_set_seg(1, 0xf0000, 0xffff, 0x9b);
}

struct cio_exit cio;

void cio_setup_at(uint16_t base)
{
	uart_fake_reset(base);
	vmcs_soft_reset();
	hw_fake_reset();
	log_init("t", LOG_INFO);
	memset(&g_l0, 0, sizeof(g_l0));
	hw_fake_bochs_caps(&g_l0.caps); /* IA32_VMX_BASIC[54]: INS/OUTS information */
	hw_fake_l1_memory = &l1mem;
	cio_build_memory();

	memset(&cio_cpu, 0, sizeof(cio_cpu));
	cio_cpu.index = 1;
	memset(&cio_regs, 0, sizeof(cio_regs));
	for (unsigned i = 0; i < GPR_COUNT; i++)
		cio_regs.gpr[i] = GPR_INIT(i);
	cio_regs.vcpu = &cio_cpu;
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, ERR_POISON);
	cio_mode_64();
	cio.qual = 0;
	cio.rflags = 0x2;
	cio.info = INFO(A64, S_DS);
	cio.len = 1;
	cio.console_off = false;
	cio.exits = 1;
}

void cio_setup(void)
{
	cio_setup_at(COM2);
}

static void cio_exits_child(void)
{
	if (!cio.console_off) {
		if (!l0_console_init(uart_fake->base, 115200))
			_exit(90);
		uart_fake->ntx = 0;
		memset(uart_fake->tx, 0, sizeof(uart_fake->tx));
	}
	const uint8_t u0[] = {uart_fake->ier, uart_fake->fcr, uart_fake->lcr, uart_fake->mcr,
			      uart_fake->scr, uart_fake->dll, uart_fake->dlm};
	const unsigned rx0 = uart_fake->rx_next;
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, cio.qual);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, cio.len);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, cio.rflags);
	vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO, cio.info);
	unsigned ios = uart_fake->ios;
	for (unsigned i = 0; i < cio.exits; i++)
		exit_io(&cio_cpu, &cio_regs);
	for (unsigned i = 0; i < GPR_COUNT; i++)
		uart_fake->out[i] = cio_regs.gpr[i];
	uart_fake->out[OUT_RIP] = vmcs_soft_get(VMCS_GUEST_RIP);
	uart_fake->out[OUT_RFLAGS] = vmcs_soft_get(VMCS_GUEST_RFLAGS);
	uart_fake->out[OUT_IOS] = uart_fake->ios - ios;
	uart_fake->out[OUT_VMCS_ERRORS] = vmcs_soft_errors();
	uart_fake->out[OUT_ENTRY_INFO] = vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD);
	uart_fake->out[OUT_ENTRY_ERROR] = vmcs_soft_get(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE);
	uart_fake->out[OUT_CR2_SETS] = hw_calls.set_cr2;
	uart_fake->out[OUT_CR2] = hw_calls.last_cr2;
	uart_fake->out[OUT_PENDING_DBG] = vmcs_soft_get(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	uart_fake->out[OUT_REFUSALS] = cio_cpu.l0_refusals;
	const uint8_t u1[] = {uart_fake->ier, uart_fake->fcr, uart_fake->lcr, uart_fake->mcr,
			      uart_fake->scr, uart_fake->dll, uart_fake->dlm};
	uart_fake->out[OUT_UART_KEPT] =
	    memcmp(u0, u1, sizeof(u0)) == 0 && uart_fake->rx_next == rx0;
}

/*
 * Runs the exit(s) as io says; true when L0 kept running, made no bad
 * VMCS access, sent nothing to the UART and left its registers alone, and
 * every port it touched was a stray one (the UART only by the console).
 */
bool cio_run(void)
{
	return uart_fake_run(cio_exits_child) == HALT_RETURNED &&
	       uart_fake->out[OUT_VMCS_ERRORS] == 0 && uart_fake->ntx == 0 &&
	       uart_fake->out[OUT_UART_KEPT] == 1 &&
	       (cio.console_off || uart_fake->out[OUT_IOS] == uart_fake->stray);
}

/* One exit that completed: cio_run(), RIP past the instruction, nothing injected. */
bool cio_run_io(uint64_t qual, unsigned len, uint64_t rflags)
{
	cio.qual = qual;
	cio.len = len;
	cio.rflags = rflags;
	return cio_run() && uart_fake->out[OUT_RIP] == RIP0 + cio.exits * len &&
	       uart_fake->out[OUT_ENTRY_INFO] == 0;
}

/* Only the console's ports: no port I/O at all. */
bool cio_run_console_io(uint64_t qual, unsigned len, uint64_t rflags)
{
	cio_setup();
	return cio_run_io(qual, len, rflags) && uart_fake->out[OUT_IOS] == 0;
}

/* One fault injected: RIP, RFLAGS.DF and the GPRs as they were, no port touched. */
bool cio_faulted(uint32_t entry_info, uint32_t error)
{
	bool gprs = true;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		gprs &= uart_fake->out[i] == cio_regs.gpr[i];
	return uart_fake->out[OUT_ENTRY_INFO] == entry_info &&
	       uart_fake->out[OUT_ENTRY_ERROR] == error && uart_fake->out[OUT_RIP] == RIP0 &&
	       gprs && uart_fake->out[OUT_IOS] == 0;
}

bool cio_kept(unsigned n)
{
	return uart_fake->out[n] == GPR_INIT(n);
}

/* The stray port I/O, exactly: n entries of (port, IN?, value). */
bool cio_strays(const struct uart_fake_io *want, unsigned n)
{
	if (uart_fake->stray != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (uart_fake->strays[i].port != want[i].port ||
		    uart_fake->strays[i].in != want[i].in ||
		    uart_fake->strays[i].value != want[i].value)
			return false;
	return true;
}

bool cio_logged(const char *line)
{
	return strstr(halting_out, line) != NULL;
}

unsigned cio_count(const char *what)
{
	unsigned n = 0;
	for (const char *p = halting_out; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}
