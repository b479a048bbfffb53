/*
 * test_console_string.c - vmx/console.c's exit_io for INS/OUTS whose
 * element is not all the console's: one element per exit, moved through
 * L1's paging (mm/guest_walk.h) between L1's memory and the ports, the
 * console's bytes answered and the others performed on the hardware; RSI
 * or RDI stepped by DF at the address size, RCX counted down, RIP left on
 * a REP instruction until its last element (with RF set, and a
 * single-step trap pending under TF); the segment checks (limit, type,
 * canonical address) and #PF with its error code and CR2, nothing read
 * from a port first.  The fixture is console_io_fixture.h.
 */

#include "test.h"

#include "console_io_fixture.h"
#include "halting.h"
#include "vmcs_soft.h"
#include "vmx/console.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"

#include <string.h>
#include <unistd.h>

/* ---- INS/OUTS with bytes outside the console: one element per exit ---- */

TEST(console_io_outs_element_split)
{
	/* outsw to 2F7H through FS (base 1000H counts in 64-bit mode): 3CH performed, 4DH dropped.
	 */
	cio_setup();
	cio.info = INFO(A64, S_FS);
	vmcs_soft_set(VMCS_GUEST_FS_BASE, 0x1000);
	cio_regs.gpr[GPR_RSI] = DATA + 0x10 - 0x1000;
	cio_put32(DATA + 0x10, 0x2a1b4d3c);
	CHECK(cio_run_io(QUAL(0x2f7, 2, Q_STRING), 2, 0x2));
	CHECK(STRAYS(OUT_(0x2f7, 0x3c)));
	CHECK_EQ(uart_fake->out[GPR_RSI], DATA + 0x12 - 0x1000);
	CHECK(cio_kept(GPR_RCX) && cio_kept(GPR_RDI) && cio_kept(GPR_RAX));
	CHECK(cio_logged(
	    "[t] info: CPU 1: L1's 2-byte OUTS at I/O port 0x2f7 (RIP 0xfffff80000401234) "
	    "overlaps L0's console: L0 performs the bytes outside its console on the "
	    "hardware\n"));

	/* Through DS, whose base 64-bit mode ignores; DF = 1; a dword 2FEH-301H. */
	cio_setup();
	cio_regs.gpr[GPR_RSI] = DATA + 0x20;
	cio_put32(DATA + 0x20, 0x7c6b5a49);
	CHECK(cio_run_io(QUAL(0x2fe, 4, Q_STRING), 1, 0x2 | F_DF));
	CHECK(STRAYS(OUT_(0x300, 0x6b), OUT_(0x301, 0x7c)));
	CHECK_EQ(uart_fake->out[GPR_RSI], DATA + 0x1c);
}

TEST(console_io_rep_ins_one_element_per_exit)
{
	/* rep insd from 2F5H, DF = 1, RCX = 3: one element, RCX 2, RIP stays, RF set. */
	cio_setup();
	cio.info = INFO(A64, S_FS); /* bits 17:15 mean nothing for INS: ES */
	vmcs_soft_set(VMCS_GUEST_FS_BASE, 0x1000);
	uart_fake->stray_value[0x2f5] = 0x31;
	uart_fake->stray_value[0x2f6] = 0x42;
	uart_fake->stray_value[0x2f7] = 0x53;
	cio_regs.gpr[GPR_RCX] = 3;
	cio_regs.gpr[GPR_RDI] = DATA + 0x40;
	cio.qual = QUAL(0x2f5, 4, Q_IN | Q_STRING | Q_REP);
	cio.len = 2;
	cio.rflags = 0x2 | F_DF;
	CHECK(cio_run());
	CHECK_EQ(cio_get32(DATA + 0x40), 0x00534231);
	CHECK_EQ(cio_get32(DATA + 0x44), 0xeeeeeeee);
	CHECK_EQ(cio_get32(DATA + 0x3c), 0xeeeeeeee);
	CHECK(STRAYS(IN_(0x2f5, 0x31), IN_(0x2f6, 0x42), IN_(0x2f7, 0x53)));
	CHECK_EQ(uart_fake->out[GPR_RDI], DATA + 0x3c);
	CHECK_EQ(uart_fake->out[GPR_RCX], 2);
	CHECK_EQ(uart_fake->out[OUT_RIP], RIP0);
	CHECK_EQ(uart_fake->out[OUT_RFLAGS], 0x2 | F_RF | F_DF);
	CHECK_EQ(uart_fake->out[OUT_ENTRY_INFO], 0);
	CHECK_EQ(uart_fake->out[OUT_PENDING_DBG], 0);

	/* The last element: RCX 0, RIP past the instruction, RF clear again. */
	cio_setup();
	uart_fake->stray_value[0x2f5] = 0x64;
	cio_regs.gpr[GPR_RCX] = 1;
	cio_regs.gpr[GPR_RDI] = DATA + 0x3c;
	CHECK(cio_run_io(QUAL(0x2f5, 4, Q_IN | Q_STRING | Q_REP), 2, 0x2 | F_RF | F_DF));
	CHECK_EQ(cio_get32(DATA + 0x3c), 0x00ffff64);
	CHECK_EQ(uart_fake->out[GPR_RCX], 0);
	CHECK_EQ(uart_fake->out[GPR_RDI], DATA + 0x38);
	CHECK_EQ(uart_fake->out[OUT_RFLAGS], 0x2 | F_DF);

	/* TF = 1 between iterations: the single-step trap left pending (BS). */
	cio_setup();
	cio_regs.gpr[GPR_RCX] = 3;
	cio_regs.gpr[GPR_RDI] = DATA + 0x40;
	cio.qual = QUAL(0x2f5, 4, Q_IN | Q_STRING | Q_REP);
	cio.rflags = 0x2 | F_TF;
	CHECK(cio_run());
	CHECK_EQ(uart_fake->out[OUT_RIP], RIP0);
	CHECK_EQ(uart_fake->out[OUT_RFLAGS], 0x2 | F_RF | F_TF);
	CHECK_EQ(uart_fake->out[OUT_PENDING_DBG], PENDING_BS);
	CHECK_EQ(uart_fake->out[GPR_RDI], DATA + 0x44);

	/* RCX = 0: nothing read or written, done. */
	cio_setup();
	cio_regs.gpr[GPR_RCX] = 0;
	cio_regs.gpr[GPR_RDI] = DATA + 0x40;
	CHECK(cio_run_io(QUAL(0x2f5, 4, Q_IN | Q_STRING | Q_REP), 2, 0x2));
	CHECK_EQ(uart_fake->out[OUT_IOS], 0);
	CHECK_EQ(cio_get32(DATA + 0x40), 0xeeeeeeee);
	CHECK_EQ(uart_fake->out[GPR_RDI], DATA + 0x40);
	CHECK_EQ(uart_fake->out[GPR_RCX], 0);
}

TEST(console_io_ins_element_in_32_bit_and_real_mode)
{
	/* 32-bit: ES:EDI, base + offset wrapping at 4 GiB; FS named by bits 17:15 is not used. */
	cio_setup();
	cio_mode_32();
	cio.info = INFO(A32, S_FS);
	vmcs_soft_set(VMCS_GUEST_ES_BASE, DATA + 0x10);
	vmcs_soft_set(VMCS_GUEST_FS_BASE, 0x1000);
	cio_regs.gpr[GPR_RDI] = 0xdeadbeeffffffff0ull;
	uart_fake->stray_value[0x2f7] = 0x53;
	CHECK(cio_run_io(QUAL(0x2f7, 2, Q_IN | Q_STRING), 1, 0x2));
	CHECK_EQ(cio_get32(DATA), 0xeeee0053);
	CHECK_EQ(uart_fake->out[GPR_RDI], 0xfffffff2ull);
	CHECK(STRAYS(IN_(0x2f7, 0x53)));

	/* Real mode, 16-bit address size: ES base + DI, DI + 2, bits 63:16 kept. */
	cio_setup();
	cio_mode_real();
	cio.info = INFO(A16, 0);
	vmcs_soft_set(VMCS_GUEST_ES_BASE, DATA + 0x100);
	cio_regs.gpr[GPR_RDI] = 0xabcd000000050010ull;
	uart_fake->stray_value[0x2f7] = 0x75;
	CHECK(cio_run_io(QUAL(0x2f7, 2, Q_IN | Q_STRING), 1, 0x2));
	CHECK_EQ(cio_get32(DATA + 0x110), 0xeeee0075);
	CHECK_EQ(uart_fake->out[GPR_RDI], 0xabcd000000050012ull);

	/*
	 * Real mode checks the limit alone: an ES that the VMCS still marks
	 * unusable and read-only (left from protected mode) takes the element.
	 */
	cio_setup();
	cio_mode_real();
	cio.info = INFO(A16, 0);
	cio_set_seg(S_ES, DATA, 0xffff, 0x10091);
	cio_regs.gpr[GPR_RDI] = 0x20;
	uart_fake->stray_value[0x2f7] = 0x75;
	CHECK(cio_run_io(QUAL(0x2f7, 2, Q_IN | Q_STRING), 1, 0x2));
	CHECK_EQ(cio_get32(DATA + 0x20), 0xeeee0075);

	/* Beyond ES's limit (DI = FFFFH, a word): #GP(0), in real mode without an error code. */
	cio_setup();
	cio_mode_real();
	cio.info = INFO(A16, 0);
	cio_regs.gpr[GPR_RDI] = 0xffff;
	cio.qual = QUAL(0x2f7, 2, Q_IN | Q_STRING);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_GP_REAL, ERR_POISON));
}

TEST(console_io_string_page_faults)
{
	/* outsw from a page not present: #PF, error 0, CR2 the address; no port touched. */
	cio_setup();
	cio_regs.gpr[GPR_RSI] = NP_PAGE + 8;
	cio.qual = QUAL(0x2f7, 2, Q_STRING);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_PF, 0));
	CHECK_EQ(uart_fake->out[OUT_CR2_SETS], 1);
	CHECK_EQ(uart_fake->out[OUT_CR2], NP_PAGE + 8);

	/* insw into a read-only page: P | W; the port is not read first. */
	cio_setup();
	cio_regs.gpr[GPR_RDI] = RO_PAGE + 0x10;
	cio.qual = QUAL(0x2f7, 2, Q_IN | Q_STRING | Q_REP);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_PF, 3));
	CHECK_EQ(uart_fake->out[OUT_CR2], RO_PAGE + 0x10);
	CHECK_EQ(cio_get32(RO_PAGE + 0x10), 0xeeeeeeee);

	/* insd across into the page not present: W, CR2 that page's first byte, nothing written. */
	cio_setup();
	cio_regs.gpr[GPR_RDI] = NP_PAGE - 2;
	cio.qual = QUAL(0x2f5, 4, Q_IN | Q_STRING);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_PF, 2));
	CHECK_EQ(uart_fake->out[OUT_CR2], NP_PAGE);
	CHECK_EQ(cio_get32(NP_PAGE - 4), 0xeeeeeeee);

	/* CPL 3 (SS.DPL 3) reading a supervisor page: P | U. */
	cio_setup();
	cio_set_seg(S_SS, 0, 0, 0xc0f3);
	cio_regs.gpr[GPR_RSI] = DATA;
	cio.qual = QUAL(0x2f7, 2, Q_STRING);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_PF, 5));
	CHECK_EQ(uart_fake->out[OUT_CR2], DATA);
}

TEST(console_io_string_segment_and_memory_faults)
{
	/* 64-bit mode, RSI not canonical: #GP(0). */
	cio_setup();
	cio_regs.gpr[GPR_RSI] = 0x0000800000000000ull;
	cio.qual = QUAL(0x2f7, 2, Q_STRING);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_GP, 0));
	CHECK_EQ(uart_fake->out[OUT_CR2_SETS], 0);

	/* 32-bit: a word at DS's limit FFFH: #GP(0); through SS: #SS(0). */
	cio_setup();
	cio_mode_32();
	cio.info = INFO(A32, S_DS);
	cio_set_seg(S_DS, DATA, 0xfff, 0x4093);
	cio_regs.gpr[GPR_RSI] = 0xfff;
	cio.qual = QUAL(0x2f7, 2, Q_STRING);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_GP, 0));
	cio_setup();
	cio_mode_32();
	cio.info = INFO(A32, S_SS);
	cio_set_seg(S_SS, DATA, 0xfff, 0x4093);
	cio_regs.gpr[GPR_RSI] = 0x1000;
	cio.qual = QUAL(0x2f7, 2, Q_STRING);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_SS, 0));

	/* INS into a read-only ES: #GP(0). */
	cio_setup();
	cio_mode_32();
	cio.info = INFO(A32, 0);
	cio_set_seg(S_ES, 0, 0xffffffff, 0xc091);
	cio_regs.gpr[GPR_RDI] = DATA;
	cio.qual = QUAL(0x2f7, 2, Q_IN | Q_STRING);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_GP, 0));

	/* A page L1 maps onto memory that is not its own: refused, #GP(0), counted, logged. */
	cio_setup();
	cio_regs.gpr[GPR_RSI] = L0_PAGE + 0x20;
	cio.qual = QUAL(0x2f7, 2, Q_STRING);
	CHECK(cio_run());
	CHECK(cio_faulted(ENTRY_GP, 0));
	CHECK_EQ(uart_fake->out[OUT_REFUSALS], 1);
	CHECK_EQ(cio_sh->last_refused, L0_GPA + 0x20);
	CHECK(cio_logged("[t] warn: CPU 1: L1's INS/OUTS at linear address 0x20e020 reaches GPA "
			 "0x7e000020, which is not L1's memory: refused, #GP(0) to L1\n"));
}
