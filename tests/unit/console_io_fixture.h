/*
 * console_io_fixture.h - the fixture of exit_io's tests (vmx/console.c,
 * L1's I/O-instruction exits): test_console_io.c (IN/OUT, and INS/OUTS on
 * the console's ports alone) and test_console_string.c (INS/OUTS moving
 * data through L1's memory).
 *
 * L0's console is on COM2 (2F8H-2FFH, LSR 2FDH) and the exits run in a
 * forked child where IN/OUT fault and the fake 16550 of uart_fake.h
 * performs them: the UART at its base, every other port "stray", recorded
 * byte by byte in order (port, direction, value) and read from the
 * programmable uart_fake->stray_value[].  So a test sees exactly which
 * bytes L0 performed on the hardware, with which values, and that the
 * UART itself was never touched for L1 (nothing sent, its registers as
 * the console left them).
 *
 * CPU 1's L1 starts in 64-bit mode at RIP0 with GPR n = GPR_INIT(n);
 * cio_mode_32 and cio_mode_real switch it.  L1's memory is 16 pages at
 * MEM_BASE in shared memory (the parent sees what the child's INS wrote),
 * behind a struct l1_memory (hw_fake_l1_memory) that refuses every other
 * guest-physical address; 64-bit mode pages through identity 4-level
 * tables in it, 32-bit and real mode run with paging off.
 *
 * Expected values are the SDM's, written out in the tests: the exit
 * qualification of SDM Vol. 3C table 28-5 (size - 1 in bits 2:0, IN bit
 * 3, string 4, REP 5, port 31:16); the INS/OUTS instruction information
 * of 28.2.5 (address size 9:7: 0 16-bit, 1 32-bit, 2 64-bit; segment
 * 17:15); VM-entry interruption information (25.8.3) 0x80000b0e #PF,
 * 0x80000b0d #GP, 0x80000b0c #SS with an error code, 0x8000030d #GP in
 * real mode, where none is delivered; RFLAGS TF bit 8, DF bit 10, RF bit
 * 16; BS, bit 14 of the pending debug exceptions.
 */
#ifndef MICROHV_TESTS_CONSOLE_IO_FIXTURE_H
#define MICROHV_TESTS_CONSOLE_IO_FIXTURE_H

#include "uart_fake.h"
#include "vmx/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

#define COM2 0x2f8
#define RIP0 0xfffff80000401234ull
#define GPR_INIT(n) (0x1122334455667700ull | ((uint64_t)(n) << 4) | 8)

#define QUAL(port, size, flags) (((uint64_t)(port) << 16) | ((size)-1) | (flags))
#define Q_IN 0x08
#define Q_STRING 0x10
#define Q_REP 0x20
#define INFO(asz, seg) (((uint64_t)(asz) << 7) | ((uint64_t)(seg) << 15))
#define A16 0
#define A32 1
#define A64 2
#define S_ES 0
#define S_CS 1
#define S_SS 2
#define S_DS 3
#define S_FS 4
#define S_GS 5

#define ENTRY_PF 0x80000b0eu
#define ENTRY_GP 0x80000b0du
#define ENTRY_SS 0x80000b0cu
#define ENTRY_GP_REAL 0x8000030du
#define ERR_POISON 0x7777u /* the entry error code before the exit */
#define F_TF 0x100ull
#define F_DF 0x400ull
#define F_RF 0x10000ull
#define PENDING_BS 0x4000ull

/* ---- L1's memory ---- */

#define MEM_BASE 0x200000ull
#define MEM_SIZE 0x10000ull
#define PML4 (MEM_BASE + 0x0000)
#define PDPT (MEM_BASE + 0x1000)
#define PD (MEM_BASE + 0x2000)
#define PT (MEM_BASE + 0x3000)
#define DATA (MEM_BASE + 0x5000)    /* pages 4-11 and 15: present, writable, supervisor */
#define NP_PAGE (MEM_BASE + 0xc000) /* not present */
#define RO_PAGE (MEM_BASE + 0xd000) /* read-only */
#define L0_PAGE (MEM_BASE + 0xe000) /* mapped by L1's tables to L0_GPA */
#define L0_GPA 0x7e000000ull	    /* refused by the l1_memory, as L0's memory is */
#define FILL 0xee		    /* every byte from MEM_BASE + 0x4000 on, at setup */

struct cio_shared {
	uint8_t mem[MEM_SIZE];
	unsigned refusals; /* addresses the l1_memory refused */
	uint64_t last_refused;
};
extern struct cio_shared *cio_sh;

uint32_t cio_get32(uint64_t gpa);
void cio_put32(uint64_t gpa, uint32_t v);

/* ---- L1 and the exit ---- */

extern struct vcpu cio_cpu; /* index 1 */
extern struct guest_regs cio_regs;

/* What the next cio_run does (cio_setup: one 1-byte exit, RFLAGS 2, 64-bit address size, DS). */
extern struct cio_exit {
	uint64_t qual, rflags, info;
	unsigned len;
	bool console_off; /* no console: exit_io with L0's console never opened */
	unsigned exits;	  /* exit_io calls, back to back */
} cio;

/* Segment s (S_ES..S_GS) of vmcs01. */
void cio_set_seg(unsigned s, uint64_t base, uint32_t limit, uint32_t ar);
/* 64-bit mode, 4-level paging; ES/SS/DS with base 40000000H and limit 0, which it ignores. */
void cio_mode_64(void);
/* 32-bit protected mode, paging off, flat 4 GiB segments. */
void cio_mode_32(void);
/* Real mode, 64 KiB segments at base 0 (CS F0000H). */
void cio_mode_real(void);

/* Everything fresh: the UART at base, L1's memory, vmcs01, CPU 1, cio. */
void cio_setup_at(uint16_t base);
void cio_setup(void); /* the console on COM2 */

/* What the child reports: out[0..15] the GPRs, then these. */
enum {
	OUT_RIP = 16,
	OUT_RFLAGS,
	OUT_IOS, /* IN/OUT performed by the exits, on the UART or stray */
	OUT_VMCS_ERRORS,
	OUT_ENTRY_INFO,
	OUT_ENTRY_ERROR,
	OUT_CR2_SETS,
	OUT_CR2,
	OUT_PENDING_DBG,
	OUT_REFUSALS, /* CPU 1's L0-memory refusals */
	OUT_UART_KEPT,
};

/*
 * Runs the exit(s) as cio says; true when L0 kept running, made no bad
 * VMCS access, sent nothing to the UART and left its registers alone, and
 * (console on) every port it touched was a stray one.
 */
bool cio_run(void);
/* One exit (cio.exits of them) that completed: cio_run, RIP past it, nothing injected. */
bool cio_run_io(uint64_t qual, unsigned len, uint64_t rflags);
/* A fresh setup, then cio_run_io, with no port I/O at all: only the console's ports. */
bool cio_run_console_io(uint64_t qual, unsigned len, uint64_t rflags);
/* One fault injected as entry_info/error; RIP and the GPRs as they were; no port touched. */
bool cio_faulted(uint32_t entry_info, uint32_t error);
/* GPR n as cio_setup left it. */
bool cio_kept(unsigned n);

/* The stray port I/O, exactly: STRAYS(IN_(port, value), OUT_(port, value), ...). */
bool cio_strays(const struct uart_fake_io *want, unsigned n);
#define STRAYS(...)                                                                                \
	cio_strays((const struct uart_fake_io[]){__VA_ARGS__},                                     \
		   sizeof((const struct uart_fake_io[]){__VA_ARGS__}) /                            \
		       sizeof(struct uart_fake_io))
#define IN_(p, v)                                                                                  \
	{                                                                                          \
		.port = (p), .in = true, .value = (v)                                              \
	}
#define OUT_(p, v)                                                                                 \
	{                                                                                          \
		.port = (p), .in = false, .value = (v)                                             \
	}

/* The child's log has line (whole lines with their "\n"); how often it has what. */
bool cio_logged(const char *line);
unsigned cio_count(const char *what);

#endif
