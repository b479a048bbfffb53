/*
 * decode_store.c - see decode_store.h.  Encoding rules from SDM Vol. 2A
 * chapter 2 (2.1 prefixes, 2.1.5 ModR/M and SIB, 2.2.1 REX) and the MOV
 * opcodes of Vol. 2B.
 */
#include "decode_store.h"

#define MODRM_MOD(m) ((m) >> 6)
#define MODRM_REG(m) (((m) >> 3) & 7)
#define MODRM_RM(m) ((m)&7)
#define REX_W 0x8
#define REX_R 0x4

struct cursor {
	const uint8_t *b;
	unsigned n, pos;
};

static bool take(struct cursor *c, uint8_t *v)
{
	if (c->pos >= c->n || c->pos >= X86_INSN_MAX)
		return false;
	*v = c->b[c->pos++];
	return true;
}

static bool skip(struct cursor *c, unsigned bytes)
{
	if (c->pos + bytes > c->n || c->pos + bytes > X86_INSN_MAX)
		return false;
	c->pos += bytes;
	return true;
}

static bool take_imm(struct cursor *c, unsigned bytes, uint64_t *v)
{
	if (c->pos + bytes > c->n || c->pos + bytes > X86_INSN_MAX)
		return false;
	uint64_t x = 0;
	for (unsigned i = 0; i < bytes; i++)
		x |= (uint64_t)c->b[c->pos + i] << (8 * i);
	c->pos += bytes;
	*v = x;
	return true;
}

/*
 * Skips a memory ModR/M operand (mod != 3): SIB and displacement per
 * Vol. 2A tables 2-1 (16-bit addressing) and 2-2/2-3 (32/64-bit).
 */
static bool skip_mem_operand(struct cursor *c, uint8_t modrm, unsigned addr_size)
{
	unsigned mod = MODRM_MOD(modrm), rm = MODRM_RM(modrm);
	if (mod == 3)
		return false; /* a register destination: no memory store */
	if (addr_size == 2) {
		if (mod == 0)
			return rm == 6 ? skip(c, 2) : true;
		return skip(c, mod == 1 ? 1 : 2);
	}
	if (rm == 4) {
		uint8_t sib;
		if (!take(c, &sib))
			return false;
		if (mod == 0 && (sib & 7) == 5)
			return skip(c, 4); /* no base: disp32 */
	}
	if (mod == 0)
		return rm == 5 ? skip(c, 4) : true; /* disp32 (RIP-relative in 64-bit mode) */
	return skip(c, mod == 1 ? 1 : 4);
}

static bool is_segment_override(uint8_t b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
}

bool x86_decode_mov(const uint8_t *bytes, unsigned avail, enum x86_code_size cs,
		    struct x86_store *out)
{
	struct cursor c = { bytes, avail, 0 };
	bool opsize = false, addrsize = false;
	uint8_t rex = 0, op;

	/* Legacy prefixes, in any order (2.1.1); LOCK and REP are not for MOV. */
	for (;;) {
		if (!take(&c, &op))
			return false;
		if (op == 0x66)
			opsize = true;
		else if (op == 0x67)
			addrsize = true;
		else if (!is_segment_override(op))
			break;
	}
	/* REX is a prefix only in 64-bit mode and only right before the opcode (2.2.1). */
	if (cs == X86_CODE64 && (op & 0xf0) == 0x40) {
		rex = op;
		if (!take(&c, &op))
			return false;
	}

	unsigned def = cs == X86_CODE16 ? 2 : 4;
	unsigned osz = (rex & REX_W) ? 8 : opsize ? (def == 2 ? 4 : 2) : def;
	unsigned asz = cs == X86_CODE64 ? (addrsize ? 4 : 8)
				       : (addrsize ? (cs == X86_CODE16 ? 4 : 2) : def);
	struct x86_store s = { 0 };
	uint8_t modrm;

	switch (op) {
	case 0x88: /* MOV r/m8, r8 */
	case 0x89: /* MOV r/m16/32/64, r16/32/64 */
	case 0x8a: /* MOV r8, r/m8 */
	case 0x8b: /* MOV r16/32/64, r/m16/32/64 */
		if (!take(&c, &modrm) || !skip_mem_operand(&c, modrm, asz))
			return false;
		s.is_load = op >= 0x8a;
		s.width = (op & 1) ? osz : 1;
		s.reg = MODRM_REG(modrm) | ((rex & REX_R) ? 8 : 0);
		if (!(op & 1) && !rex && s.reg >= 4) {
			s.high_byte = true; /* AH, CH, DH, BH (2.1.5, table 2-2 note) */
			s.reg -= 4;
		}
		break;
	case 0xc6: /* MOV r/m8, imm8 */
	case 0xc7: /* MOV r/m16/32, imm16/32; REX.W: imm32 sign-extended to 64 */
		if (!take(&c, &modrm) || MODRM_REG(modrm) != 0 ||
		    !skip_mem_operand(&c, modrm, asz))
			return false;
		s.width = op == 0xc6 ? 1 : osz;
		s.is_imm = true;
		unsigned ib = s.width > 4 ? 4 : s.width;
		if (!take_imm(&c, ib, &s.imm))
			return false;
		if (s.width == 8 && (s.imm & 0x80000000u))
			s.imm |= 0xffffffff00000000ull;
		break;
	case 0xa0: /* MOV AL, moffs8 */
	case 0xa1: /* MOV rAX, moffs16/32/64 */
	case 0xa2: /* MOV moffs8, AL */
	case 0xa3: /* MOV moffs16/32/64, rAX: the offset is address-size wide */
		if (!skip(&c, asz))
			return false;
		s.is_load = op <= 0xa1;
		s.width = (op & 1) ? osz : 1;
		s.reg = 0;
		break;
	default:
		return false;
	}
	s.len = c.pos;
	*out = s;
	return true;
}

bool x86_decode_store(const uint8_t *bytes, unsigned avail, enum x86_code_size cs,
		      struct x86_store *out)
{
	struct x86_store s;
	if (!x86_decode_mov(bytes, avail, cs, &s) || s.is_load)
		return false;
	*out = s;
	return true;
}

uint64_t x86_load_result(const struct x86_store *s, uint64_t old, uint64_t value)
{
	switch (s->width) {
	case 1:
		if (s->high_byte)
			return (old & ~0xff00ull) | ((value & 0xff) << 8);
		return (old & ~0xffull) | (value & 0xff);
	case 2:
		return (old & ~0xffffull) | (value & 0xffff);
	case 4:
		return value & 0xffffffffull;
	default:
		return value;
	}
}

uint64_t x86_store_value(const struct x86_store *s, const uint64_t gpr[16])
{
	uint64_t v = s->is_imm ? s->imm : gpr[s->reg & 15];
	if (s->high_byte)
		v >>= 8;
	return s->width >= 8 ? v : v & ((1ull << (8 * s->width)) - 1);
}
