/*
 * test_console_io.c - vmx/console.c's exit_io, L1's I/O-instruction exits
 * (reason 30) with L0's console on COM2: IN and OUT answered byte by byte
 * (the console's bytes as a silent UART, every other byte - past FFFFH,
 * below or above the console's ports - performed on the hardware), never
 * a halt; INS/OUTS on the console's ports alone, completed at once at
 * their address size.  The fixture, and the SDM values the tests spell
 * out, are in console_io_fixture.h; INS/OUTS through L1's memory are in
 * test_console_string.c.
 */
#define _GNU_SOURCE /* _exit */

#include "test.h"

#include "console_io_fixture.h"
#include "halting.h"
#include "vmcs_soft.h"
#include "vmx/console.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"

#include <string.h>
#include <unistd.h>

/* ---- the console's own ports ---- */

static void owns(void)
{
	if (!l0_console_init(uart_fake->base, 115200))
		_exit(90);
	uart_fake->out[0] = l0_console_owns_port(0x2f7) | l0_console_owns_port(0x300) << 1 |
			    l0_console_owns_port(0x3f8) << 2;
	uart_fake->out[1] = l0_console_owns_port(0x2f8) & l0_console_owns_port(0x2ff);
}

TEST(console_io_owns_its_eight_ports)
{
	cio_setup();
	CHECK(!l0_console_owns_port(0x2f8)); /* off in this process */
	CHECK_EQ(uart_fake_run(owns), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 0);
	CHECK_EQ(uart_fake->out[1], 1);
}

TEST(console_io_in_answers_a_silent_uart)
{
	/* GPR_INIT(RAX) = 0x1122334455667708. LSR (2FDH): THR and transmitter empty, 60H. */
	CHECK(cio_run_console_io(QUAL(0x2fd, 1, Q_IN), 1, 0x2)); /* in al, dx */
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x1122334455667760ull);
	CHECK(cio_kept(GPR_RCX) && cio_kept(GPR_RDX) && cio_kept(GPR_RSI) && cio_kept(GPR_RDI));
	CHECK(cio_run_console_io(QUAL(0x2fd, 2, Q_IN), 2, 0x2)); /* in ax, dx */
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x1122334455660060ull);
	/* in eax, dx at 2FCH-2FFH: LSR in byte 1, zero-extended. */
	CHECK(cio_run_console_io(QUAL(0x2fc, 4, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x6000);
	CHECK(cio_run_console_io(QUAL(0x2fc, 2, Q_IN), 2, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x1122334455666000ull);
	/* Every other port of the UART reads 0: nothing received, no scratch. */
	CHECK(cio_run_console_io(QUAL(0x2f8, 1, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x1122334455667700ull);
	CHECK(cio_run_console_io(QUAL(0x2ff, 1, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x1122334455667700ull);
	CHECK(cio_run_console_io(QUAL(0x2f8, 4, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0);
	CHECK(cio_kept(GPR_RBX) && cio_kept(GPR_R15));
	CHECK_STR(halting_out, "[t] info: console: L0 console on I/O port 0x2f8 (keys: s "
			       "statistics, d vmcs01 dump, h help)\n"); /* nothing about the exit */
}

TEST(console_io_out_is_dropped)
{
	CHECK(cio_run_console_io(QUAL(0x2f8, 1, 0), 1,
				 0x2)); /* out dx, al: nothing reaches the UART */
	CHECK(cio_kept(GPR_RAX) && cio_kept(GPR_RCX) && cio_kept(GPR_RSI));
	CHECK(cio_run_console_io(QUAL(0x2fb, 4, 0), 1, 0x2));
	CHECK(cio_kept(GPR_RAX));
	CHECK(cio_run_console_io(QUAL(0x2f9, 2, 0x40), 3, 0x2)); /* out imm8 encoding, 66H prefix */
	CHECK(cio_kept(GPR_RAX));
}

/* ---- accesses that wrap past FFFFH ---- */

/* What the ports around the wrap read. */
static void cio_wrap_values(void)
{
	uart_fake->stray_value[0xfffe] = 0x99;
	uart_fake->stray_value[0xffff] = 0x5a;
	uart_fake->stray_value[0x0000] = 0xa5;
	uart_fake->stray_value[0x0001] = 0x3c;
	uart_fake->stray_value[0x0002] = 0xc3;
}

TEST(console_io_in_wrapping_past_ffff_reads_both_ends)
{
	cio_setup();
	cio_wrap_values();
	CHECK(cio_run_io(QUAL(0xffff, 2, Q_IN), 2, 0x2)); /* in ax, dx */
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x112233445566a55aull);
	CHECK(STRAYS(IN_(0xffff, 0x5a), IN_(0x0000, 0xa5)));
	CHECK(cio_kept(GPR_RDX) && cio_kept(GPR_RCX));
	CHECK(cio_logged(
	    "[t] info: CPU 1: L1's 2-byte IN at I/O port 0xffff (RIP 0xfffff80000401234) "
	    "wraps past port 0xffff: L0 performs the bytes outside its console on the "
	    "hardware\n"));

	cio_setup();
	cio_wrap_values();
	CHECK(cio_run_io(QUAL(0xffff, 4, Q_IN), 1, 0x2)); /* in eax, dx: zero-extended */
	CHECK_EQ(uart_fake->out[GPR_RAX], 0xc33ca55aull);
	CHECK(STRAYS(IN_(0xffff, 0x5a), IN_(0x0000, 0xa5), IN_(0x0001, 0x3c), IN_(0x0002, 0xc3)));

	cio_setup();
	cio_wrap_values();
	CHECK(cio_run_io(QUAL(0xfffe, 4, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x3ca55a99ull);
	CHECK(STRAYS(IN_(0xfffe, 0x99), IN_(0xffff, 0x5a), IN_(0x0000, 0xa5), IN_(0x0001, 0x3c)));
}

TEST(console_io_out_wrapping_past_ffff_writes_both_ends)
{
	/* EAX = 0x55667708. */
	cio_setup();
	CHECK(cio_run_io(QUAL(0xfffd, 4, 0), 1, 0x2));
	CHECK(
	    STRAYS(OUT_(0xfffd, 0x08), OUT_(0xfffe, 0x77), OUT_(0xffff, 0x66), OUT_(0x0000, 0x55)));
	CHECK(cio_kept(GPR_RAX) && cio_kept(GPR_RDX));
	cio_setup();
	CHECK(cio_run_io(QUAL(0xffff, 2, 0), 1, 0x2));
	CHECK(STRAYS(OUT_(0xffff, 0x08), OUT_(0x0000, 0x77)));
}

TEST(console_io_wrap_with_the_console_at_the_top)
{
	/* A console at FFF8H-FFFFH (LSR FFFDH): its bytes answered, 0000H and 0001H performed. */
	cio_setup_at(0xfff8);
	uart_fake->stray_value[0x0000] = 0x21;
	uart_fake->stray_value[0x0001] = 0x43;
	CHECK(cio_run_io(QUAL(0xfffe, 4, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x43210000ull);
	CHECK(STRAYS(IN_(0x0000, 0x21), IN_(0x0001, 0x43)));
	cio_setup_at(0xfff8);
	uart_fake->stray_value[0x0000] = 0x21;
	CHECK(cio_run_io(QUAL(0xfffd, 4, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x21000060ull);
	CHECK(STRAYS(IN_(0x0000, 0x21)));
	cio_setup_at(0xfff8);
	CHECK(cio_run_io(QUAL(0xffff, 2, 0), 1, 0x2)); /* SCR dropped, 0000H written */
	CHECK(STRAYS(OUT_(0x0000, 0x77)));
}

/* ---- accesses that overlap the console ---- */

TEST(console_io_in_overlapping_the_console)
{
	cio_setup();
	uart_fake->stray_value[0x2f7] = 0x53;
	CHECK(cio_run_io(QUAL(0x2f7, 2, Q_IN), 1, 0x2)); /* 2F7H performed, 2F8H (RBR) 0 */
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x1122334455660053ull);
	CHECK(STRAYS(IN_(0x2f7, 0x53)));
	CHECK(
	    cio_logged("[t] info: CPU 1: L1's 2-byte IN at I/O port 0x2f7 (RIP 0xfffff80000401234) "
		       "overlaps L0's console: L0 performs the bytes outside its console on the "
		       "hardware\n"));

	cio_setup();
	uart_fake->stray_value[0x2f5] = 0x31;
	uart_fake->stray_value[0x2f6] = 0x42;
	uart_fake->stray_value[0x2f7] = 0x53;
	CHECK(cio_run_io(QUAL(0x2f5, 4, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x00534231ull);
	CHECK(STRAYS(IN_(0x2f5, 0x31), IN_(0x2f6, 0x42), IN_(0x2f7, 0x53)));

	/* From inside, past the last port: LSR, 2FEH, 2FFH answered, 300H performed. */
	cio_setup();
	uart_fake->stray_value[0x300] = 0x64;
	CHECK(cio_run_io(QUAL(0x2fd, 4, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x64000060ull);
	CHECK(STRAYS(IN_(0x300, 0x64)));
	cio_setup();
	uart_fake->stray_value[0x300] = 0x64;
	CHECK(cio_run_io(QUAL(0x2ff, 2, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x1122334455666400ull);
	CHECK(STRAYS(IN_(0x300, 0x64)));
}

TEST(console_io_out_split_between_hardware_and_console)
{
	/* EAX = 0x55667708: 08H and 77H to 2F6H/2F7H; 66H (THR) and 55H (IER) dropped. */
	cio_setup();
	CHECK(cio_run_io(QUAL(0x2f6, 4, 0), 1, 0x2));
	CHECK(STRAYS(OUT_(0x2f6, 0x08), OUT_(0x2f7, 0x77)));
	CHECK_EQ(uart_fake->out[OUT_IOS], 2);
	CHECK(cio_kept(GPR_RAX));
	cio_setup();
	CHECK(cio_run_io(QUAL(0x2ff, 2, 0), 1, 0x2)); /* SCR dropped, 300H written */
	CHECK(STRAYS(OUT_(0x300, 0x77)));
	cio_setup();
	CHECK(cio_run_io(QUAL(0x2fe, 4, 0), 1, 0x2));
	CHECK(STRAYS(OUT_(0x300, 0x66), OUT_(0x301, 0x55)));
}

/*
 * An exit with no byte of the console's and no wrap: L0's bitmaps never
 * ask for one, but should it come (a CPU forcing unconditional I/O
 * exits), the access is performed and logged as a warning, not halted.
 */
TEST(console_io_port_outside_the_console_is_performed)
{
	cio_setup();
	uart_fake->stray_value[0x3f8] = 0x6e;
	CHECK(cio_run_io(QUAL(0x3f8, 1, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x112233445566776eull);
	CHECK(STRAYS(IN_(0x3f8, 0x6e)));
	CHECK(cio_logged(
	    "[t] warn: CPU 1: L1's 1-byte IN at I/O port 0x3f8 (RIP 0xfffff80000401234) "
	    "exited though L0's I/O bitmaps do not claim it: L0 performs the bytes outside "
	    "its console on the hardware\n"));
	cio_setup();
	CHECK(cio_run_io(QUAL(0x80, 2, 0x40), 2, 0x2)); /* out 80h, ax */
	CHECK(STRAYS(OUT_(0x80, 0x08), OUT_(0x81, 0x77)));

	/* With the console off, its port is L1's UART again: SCR read from the device. */
	cio_setup();
	cio.console_off = true;
	uart_fake->scr = 0x5e;
	CHECK(cio_run_io(QUAL(0x2ff, 1, Q_IN), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x112233445566775eull);
	CHECK_EQ(uart_fake->out[OUT_IOS], 1);
	CHECK_EQ(uart_fake->stray, 0);
}

/* Size encodings table 28-5 leaves undefined (2, 4-7) never reach past 4 bytes. */
TEST(console_io_undefined_size_is_at_most_4_bytes)
{
	cio_setup();
	uart_fake->stray_value[0x300] = 0x64;
	CHECK(cio_run_io(QUAL(0x2fd, 8, Q_IN), 1, 0x2)); /* bits 2:0 = 7 */
	CHECK_EQ(uart_fake->out[GPR_RAX], 0x64000060ull);
	CHECK(STRAYS(IN_(0x300, 0x64)));
}

TEST(console_io_logs_each_case_once)
{
	cio_setup();
	cio.exits = 2;
	CHECK(cio_run_io(QUAL(0xffff, 2, Q_IN), 1, 0x2));
	CHECK_EQ(cio_count("[t] info: CPU 1: L1's 2-byte IN at I/O port 0xffff"), 1);
	CHECK_EQ(cio_count("[t] debug: CPU 1: L1's 2-byte IN at I/O port 0xffff"), 1);
	CHECK_EQ(uart_fake->stray, 4);
}

/* ---- INS/OUTS on the console's ports alone: no data moves ---- */

TEST(console_io_string_instructions_complete)
{
	const uint64_t rcx = GPR_INIT(GPR_RCX), rsi = GPR_INIT(GPR_RSI), rdi = GPR_INIT(GPR_RDI);
	/* rep outsb, DF = 0: RSI up by RCX bytes, RCX 0. */
	CHECK(cio_run_console_io(QUAL(0x2f8, 1, Q_STRING | Q_REP), 2, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RSI], rsi + rcx);
	CHECK_EQ(uart_fake->out[GPR_RCX], 0);
	CHECK(cio_kept(GPR_RDI) && cio_kept(GPR_RAX));
	/* rep insw, DF = 1: RDI down by 2 * RCX. */
	CHECK(cio_run_console_io(QUAL(0x2fd, 2, Q_IN | Q_STRING | Q_REP), 3, 0x2 | F_DF));
	CHECK_EQ(uart_fake->out[GPR_RDI], rdi - 2 * rcx);
	CHECK_EQ(uart_fake->out[GPR_RCX], 0);
	CHECK(cio_kept(GPR_RSI) && cio_kept(GPR_RAX));
	/* outsd, no REP: one element, RCX kept. */
	CHECK(cio_run_console_io(QUAL(0x2f8, 4, Q_STRING), 1, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RSI], rsi + 4);
	CHECK(cio_kept(GPR_RCX) && cio_kept(GPR_RDI));
	/* insb, no REP, DF = 1: RDI - 1. */
	CHECK(cio_run_console_io(QUAL(0x2ff, 1, Q_IN | Q_STRING), 1, 0x2 | F_DF));
	CHECK_EQ(uart_fake->out[GPR_RDI], rdi - 1);
	CHECK(cio_kept(GPR_RCX) && cio_kept(GPR_RSI) && cio_kept(GPR_RAX));
	/* RF is 0 after an instruction L0 completed. */
	CHECK(cio_run_console_io(QUAL(0x2f8, 1, Q_STRING), 1, 0x2 | F_RF));
	CHECK_EQ(uart_fake->out[OUT_RFLAGS], 0x2);
}

TEST(console_io_string_at_32_bit_address_size)
{
	/* rep outsb, ECX = 3 (RCX's upper half not a count), ESI FFFFFFFEH + 3 wraps to 1. */
	cio_setup();
	cio_mode_32();
	cio.info = INFO(A32, S_DS);
	cio_regs.gpr[GPR_RCX] = 0xffffffff00000003ull;
	cio_regs.gpr[GPR_RSI] = 0xaaaaaaaafffffffeull;
	CHECK(cio_run_io(QUAL(0x2f8, 1, Q_STRING | Q_REP), 2, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RSI], 0x1);
	CHECK_EQ(uart_fake->out[GPR_RCX], 0);
	CHECK(cio_kept(GPR_RDI) && uart_fake->out[OUT_IOS] == 0);

	/* ECX = 0: no iteration, nothing written, the instruction done. */
	cio_setup();
	cio_mode_32();
	cio.info = INFO(A32, S_DS);
	cio_regs.gpr[GPR_RCX] = 0xffffffff00000000ull;
	CHECK(cio_run_io(QUAL(0x2f8, 2, Q_STRING | Q_REP), 3, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RCX], 0xffffffff00000000ull);
	CHECK(cio_kept(GPR_RSI) && cio_kept(GPR_RDI));

	/* 67H in 64-bit mode: outsw, ESI FFFFFFFFH + 2 = 1, zero-extended. */
	cio_setup();
	cio.info = INFO(A32, S_DS);
	cio_regs.gpr[GPR_RSI] = ~0ull;
	CHECK(cio_run_io(QUAL(0x2f9, 2, Q_STRING), 2, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RSI], 0x1);
	CHECK(cio_kept(GPR_RCX));
}

TEST(console_io_string_at_16_bit_and_64_bit_address_sizes)
{
	/* Real mode, rep insw, DF = 1: CX = 2, DI 0001H - 4 = FFFDH; bits 63:16 kept. */
	cio_setup();
	cio_mode_real();
	cio.info = INFO(A16, 0);
	cio_regs.gpr[GPR_RCX] = 0x1234567800000002ull;
	cio_regs.gpr[GPR_RDI] = 0x1111222233330001ull;
	CHECK(cio_run_io(QUAL(0x2fd, 2, Q_IN | Q_STRING | Q_REP), 2, 0x2 | F_DF));
	CHECK_EQ(uart_fake->out[GPR_RDI], 0x111122223333fffdull);
	CHECK_EQ(uart_fake->out[GPR_RCX], 0x1234567800000000ull);
	CHECK(cio_kept(GPR_RSI) && uart_fake->out[OUT_IOS] == 0);

	/* 64-bit: rep outsd, DF = 1, RCX = 2^32 + 1. */
	cio_setup();
	cio_regs.gpr[GPR_RCX] = 0x100000001ull;
	cio_regs.gpr[GPR_RSI] = 0x10;
	CHECK(cio_run_io(QUAL(0x2f8, 4, Q_STRING | Q_REP), 2, 0x2 | F_DF));
	CHECK_EQ(uart_fake->out[GPR_RSI], 0xfffffffc0000000cull);
	CHECK_EQ(uart_fake->out[GPR_RCX], 0);
}

TEST(console_io_string_without_instruction_information)
{
	/* IA32_VMX_BASIC[54] = 0: the code size's address size (32 here), said once. */
	cio_setup();
	cio_mode_32();
	g_l0.caps.basic &= ~(1ull << 54);
	cio.info = INFO(A64, S_DS); /* not to be trusted */
	cio.exits = 2;
	cio_regs.gpr[GPR_RCX] = 0xffffffff00000002ull;
	cio_regs.gpr[GPR_RSI] = 0xaaaaaaaafffffffeull;
	CHECK(cio_run_io(QUAL(0x2f8, 1, Q_STRING | Q_REP), 2, 0x2));
	CHECK_EQ(uart_fake->out[GPR_RSI], 0);
	CHECK_EQ(uart_fake->out[GPR_RCX], 0);
	CHECK_EQ(
	    cio_count("[t] warn: CPU 1: INS/OUTS exit without a usable instruction information "
		      "(address size 2): L0 takes the code size's address size and DS\n"),
	    1);
}
