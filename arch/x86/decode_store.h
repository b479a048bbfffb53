/*
 * decode_store.h - decoding the one kind of instruction L0 must finish for
 * L1 by hand: a MOV that stores a register or an immediate to memory.
 *
 * L0 write-protects a few MMIO pages of L1 in EPT01 (the local APIC, to see
 * the INIT and SIPI an OS sends: vmx/ap_start.c).  An EPT violation gives
 * the guest-physical address but neither the value nor the instruction's
 * length (SDM Vol. 3C 28.2.1: the instruction-length field is undefined for
 * EPT violations), so L0 decodes the faulting instruction itself.
 *
 * Accepted (SDM Vol. 2B "MOV—Move"): 88 /r, 89 /r, C6 /0 ib, C7 /0 iw/id,
 * A2 and A3 (moffs); and by x86_decode_mov also the loads 8A /r, 8B /r,
 * A0 and A1 (MMIO that is not there: vmx/mmio_absent.c), with prefixes 66
 * (operand size), 67 (address size),
 * the segment overrides and, in 64-bit mode, one REX just before the
 * opcode.  Everything else (a register destination, LOCK, REP, other
 * opcodes, a truncated or over-long instruction) is refused: the caller
 * logs it rather than guessing.
 *
 * Pure: no globals, the caller supplies the bytes.
 */
#ifndef MICROHV_ARCH_X86_DECODE_STORE_H
#define MICROHV_ARCH_X86_DECODE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#define X86_INSN_MAX 15 /* SDM Vol. 2A 2.1: longer is #GP */

/* The code size the CPU executes with (CS.L, CS.D; SDM Vol. 3A 5.2.1). */
enum x86_code_size { X86_CODE16, X86_CODE32, X86_CODE64 };

struct x86_store {
	unsigned len;	/* bytes of the instruction */
	unsigned width; /* bytes stored: 1, 2, 4 or 8 */
	bool is_imm;	/* source is imm (sign-extended to width), else register reg */
	uint64_t imm;
	unsigned reg;	/* architectural GPR number 0-15 */
	bool high_byte; /* AH, CH, DH, BH: bits 15:8 of reg 0-3 (88/8A without REX) */
	bool is_load;	/* x86_decode_mov: memory into register reg (never is_imm) */
};

/*
 * Decodes the store at bytes[0..avail).  Returns false (out untouched or
 * partly written) for anything not listed above.
 */
bool x86_decode_store(const uint8_t *bytes, unsigned avail, enum x86_code_size cs,
		      struct x86_store *out);

/* A MOV between memory and a register or immediate: a store above, or a load. */
bool x86_decode_mov(const uint8_t *bytes, unsigned avail, enum x86_code_size cs,
		    struct x86_store *out);

/* The value the store writes, from the GPRs (gpr[4] must hold RSP). */
uint64_t x86_store_value(const struct x86_store *s, const uint64_t gpr[16]);

/*
 * A load's destination register after it read value (SDM Vol. 1 3.4.1.1:
 * a 32-bit destination is zero-extended to 64 bits, an 8- or 16-bit one
 * leaves the other bits as they were).
 */
uint64_t x86_load_result(const struct x86_store *s, uint64_t old, uint64_t value);

#endif
