/*
 * test_decode_store.c - arch/x86/decode_store.c on encodings taken from
 * real code (Linux's and OVMF's local-APIC writes, hand-assembled with the
 * SDM's tables): length, width, source; and refusals of what is not a
 * MOV to memory.
 */
#include "test.h"

#include "arch/x86/decode_store.h"

#include <stdio.h>

struct store_case {
	const char *what;
	enum x86_code_size cs;
	uint8_t bytes[X86_INSN_MAX];
	unsigned n;
	unsigned len, width, reg;
	bool is_imm, high_byte;
	uint64_t imm;
};

#define C64 X86_CODE64
#define C32 X86_CODE32
#define C16 X86_CODE16

static const struct store_case good[] = {
	{ "mov %eax,0xffffffffff5fd0b0 (Linux apic write)", C64,
	  { 0x89, 0x04, 0x25, 0xb0, 0xd0, 0x5f, 0xff }, 7, 7, 4, 0, false, false, 0 },
	{ "mov %edx,(%rax)", C64, { 0x89, 0x10 }, 2, 2, 4, 2, false, false, 0 },
	{ "mov %ecx,0x0(%r13)", C64, { 0x41, 0x89, 0x4d, 0x00 }, 4, 4, 4, 1, false, false, 0 },
	{ "mov %r8d,0x8(%rax)", C64, { 0x44, 0x89, 0x40, 0x08 }, 4, 4, 4, 8, false, false, 0 },
	{ "mov %rcx,(%rax)", C64, { 0x48, 0x89, 0x08 }, 3, 3, 8, 1, false, false, 0 },
	{ "mov %cx,(%rax)", C64, { 0x66, 0x89, 0x08 }, 3, 3, 2, 1, false, false, 0 },
	{ "mov %r15,%fs:(%rsp)", C64, { 0x64, 0x4c, 0x89, 0x3c, 0x24 }, 5, 5, 8, 15, false, false,
	  0 },
	{ "movl $0x12345678,0x10(%rip)", C64,
	  { 0xc7, 0x05, 0x10, 0, 0, 0, 0x78, 0x56, 0x34, 0x12 }, 10, 10, 4, 0, true, false,
	  0x12345678 },
	{ "movq $-1,(%rax)", C64, { 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff }, 7, 7, 8, 0, true,
	  false, ~0ull },
	{ "movl $0xc4500,0x300(%rax)", C64,
	  { 0xc7, 0x80, 0x00, 0x03, 0, 0, 0x00, 0x45, 0x0c, 0x00 }, 10, 10, 4, 0, true, false,
	  0xc4500 },
	{ "movl $0x4500,0x300(%rsp)", C64,
	  { 0xc7, 0x84, 0x24, 0x00, 0x03, 0, 0, 0x00, 0x45, 0, 0 }, 11, 11, 4, 0, true, false,
	  0x4500 },
	{ "movl $1,disp32(,%rcx,4)", C64, { 0xc7, 0x04, 0x8d, 0, 0x03, 0xe0, 0xfe, 1, 0, 0, 0 },
	  11, 11, 4, 0, true, false, 1 },
	/* SIB base 101b is "no base, disp32" only with mod = 00 (Vol. 2A Table 2-3 note). */
	{ "movl $0x12345678,0x10(%rbp,%rax,1)", C64,
	  { 0xc7, 0x44, 0x05, 0x10, 0x78, 0x56, 0x34, 0x12 }, 8, 8, 4, 0, true, false,
	  0x12345678 },
	{ "mov %esi,-8(%r13,%rcx,8)", C64, { 0x41, 0x89, 0x74, 0xcd, 0xf8 }, 5, 5, 4, 6, false,
	  false, 0 },
	{ "mov %edx,-4(%ebp) via SIB (32-bit)", C32, { 0x89, 0x54, 0x25, 0xfc }, 4, 4, 4, 2,
	  false, false, 0 },
	{ "movw $0xbeef,-4(%rbp)", C64, { 0x66, 0xc7, 0x45, 0xfc, 0xef, 0xbe }, 6, 6, 2, 0, true,
	  false, 0xbeef },
	{ "movb $0x7f,(%rdi)", C64, { 0xc6, 0x07, 0x7f }, 3, 3, 1, 0, true, false, 0x7f },
	{ "mov %ah,(%rax)", C64, { 0x88, 0x20 }, 2, 2, 1, 0, false, true, 0 },
	{ "mov %spl,(%rax)", C64, { 0x40, 0x88, 0x20 }, 3, 3, 1, 4, false, false, 0 },
	{ "movabs %eax,0xfee00300", C64, { 0xa3, 0x00, 0x03, 0xe0, 0xfe, 0, 0, 0, 0 }, 9, 9, 4, 0,
	  false, false, 0 },
	{ "mov %eax,(%ebx) with addr32", C64, { 0x67, 0x89, 0x03 }, 3, 3, 4, 0, false, false, 0 },
	{ "mov %edx,0xfee00300 (32-bit)", C32, { 0x89, 0x15, 0x00, 0x03, 0xe0, 0xfe }, 6, 6, 4, 2,
	  false, false, 0 },
	{ "mov %eax,0xfee00300 moffs (32-bit)", C32, { 0xa3, 0x00, 0x03, 0xe0, 0xfe }, 5, 5, 4, 0,
	  false, false, 0 },
	{ "mov %ax,(%ebx) (32-bit, 66)", C32, { 0x66, 0x89, 0x03 }, 3, 3, 2, 0, false, false, 0 },
	{ "mov %bx,[0x1234] (16-bit)", C16, { 0x89, 0x1e, 0x34, 0x12 }, 4, 4, 2, 3, false, false,
	  0 },
	{ "mov %ebx,[bx+si+0x10] (16-bit, 66)", C16, { 0x66, 0x89, 0x58, 0x10 }, 4, 4, 4, 3,
	  false, false, 0 },
	{ "mov %ebx,(%eax) (16-bit, 67)", C16, { 0x67, 0x89, 0x18 }, 3, 3, 2, 3, false, false, 0 },
	{ "mov %ax,moffs16 (16-bit)", C16, { 0xa3, 0x00, 0x03 }, 3, 3, 2, 0, false, false, 0 },
};

TEST(decode_store_accepts_movs_to_memory)
{
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct store_case *t = &good[i];
		struct x86_store s;
		/* Trailing bytes after the instruction must not change the result. */
		uint8_t buf[X86_INSN_MAX];
		for (unsigned k = 0; k < X86_INSN_MAX; k++)
			buf[k] = k < t->n ? t->bytes[k] : 0xcc;
		bool ok = x86_decode_store(buf, X86_INSN_MAX, t->cs, &s);
		if (!CHECK(ok)) {
			printf("    case: %s\n", t->what);
			continue;
		}
		bool same = s.len == t->len && s.width == t->width && s.is_imm == t->is_imm &&
			    s.high_byte == t->high_byte && (t->is_imm ? s.imm == t->imm : s.reg == t->reg);
		if (!CHECK(same))
			printf("    case: %s: len %u width %u imm %d/%llx reg %u high %d\n", t->what,
			       s.len, s.width, s.is_imm, (unsigned long long)s.imm, s.reg, s.high_byte);
		/* Exactly len bytes are needed: one fewer is refused. */
		CHECK(x86_decode_store(t->bytes, t->len, t->cs, &s));
		CHECK(!x86_decode_store(t->bytes, t->len - 1, t->cs, &s));
	}
}

TEST(decode_store_refuses_the_rest)
{
	static const struct {
		enum x86_code_size cs;
		uint8_t b[X86_INSN_MAX];
		unsigned n;
	} bad[] = {
		{ C64, { 0x89, 0xc0 }, 2 },		  /* mov %eax,%eax: register destination */
		{ C64, { 0xf0, 0x89, 0x08 }, 3 },	  /* LOCK */
		{ C64, { 0xf3, 0x89, 0x08 }, 3 },	  /* REP */
		{ C64, { 0x8b, 0x00 }, 2 },		  /* a load */
		{ C64, { 0x87, 0x00 }, 2 },		  /* xchg */
		{ C64, { 0xc7, 0x08, 1, 0, 0, 0 }, 6 },	  /* C7 /1 */
		{ C64, { 0xc7, 0xc0, 1, 0, 0, 0 }, 6 },	  /* mov $1,%eax */
		{ C64, { 0x48, 0x66, 0x89, 0x08 }, 4 },	  /* REX not next to the opcode */
		{ C32, { 0x48, 0x89, 0x08 }, 3 },	  /* 0x48 is DEC outside 64-bit mode */
		{ C64, { 0x0f, 0x11, 0x00 }, 3 },	  /* movups: not a GPR store */
		{ C64, { 0 }, 0 },			  /* nothing */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct x86_store s;
		if (!CHECK(!x86_decode_store(bad[i].b, bad[i].n, bad[i].cs, &s)))
			printf("    bad case %u accepted\n", i);
	}
	/* 14 prefixes and a 1-byte mov fit in 15 bytes. */
	uint8_t p[X86_INSN_MAX];
	for (unsigned i = 0; i < 13; i++)
		p[i] = 0x3e;
	p[13] = 0x89;
	p[14] = 0x00;
	struct x86_store s;
	CHECK(x86_decode_store(p, 15, C64, &s));
	CHECK_EQ(s.len, 15);
}

/*
 * An instruction longer than 15 bytes is #GP (SDM Vol. 2A 2.1), even when
 * the bytes are all there: each case sits in a 32-byte buffer, so only
 * the 15-byte limit refuses it.  The byte past the limit is, in turn,
 * the SIB, the last displacement byte and the last immediate byte; the
 * same instruction with one prefix fewer (15 bytes) is accepted.
 */
TEST(decode_store_refuses_past_15_bytes)
{
	static const struct {
		unsigned prefixes; /* 0x3e (DS) prefixes before the tail */
		uint8_t tail[10];
		unsigned tail_n;
	} longs[] = {
		{ 13, { 0x89, 0x04, 0x24 }, 3 },			/* mov %eax,(%rsp): SIB 16th */
		{ 9, { 0x89, 0x04, 0x25, 0xb0, 0xd0, 0x5f, 0xff }, 7 }, /* disp32 ends 16th */
		{ 6, { 0xc7, 0x05, 0x10, 0, 0, 0, 0x78, 0x56, 0x34, 0x12 }, 10 }, /* imm32 ends 16th */
	};
	for (unsigned i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		uint8_t buf[32];
		unsigned n = 0;
		for (unsigned k = 0; k < longs[i].prefixes; k++)
			buf[n++] = 0x3e;
		for (unsigned k = 0; k < longs[i].tail_n; k++)
			buf[n++] = longs[i].tail[k];
		CHECK_EQ(n, 16);
		for (unsigned k = n; k < sizeof(buf); k++)
			buf[k] = 0xcc;
		struct x86_store s;
		if (!CHECK(!x86_decode_store(buf, sizeof(buf), C64, &s)))
			printf("    long case %u accepted, length %u\n", i, s.len);
		/* One prefix fewer: 15 bytes, accepted with length 15. */
		s.len = 0;
		if (!CHECK(x86_decode_store(buf + 1, sizeof(buf) - 1, C64, &s)))
			printf("    15-byte case %u refused\n", i);
		CHECK_EQ(s.len, 15);
	}
}

TEST(decode_store_value)
{
	uint64_t gpr[16];
	for (unsigned i = 0; i < 16; i++)
		gpr[i] = 0x1111111111111111ull * i + 0x0102030405060708ull;
	struct x86_store s = { .len = 2, .width = 4, .reg = 2 };
	CHECK_EQ(x86_store_value(&s, gpr), (uint32_t)gpr[2]);
	s.width = 8;
	CHECK_EQ(x86_store_value(&s, gpr), gpr[2]);
	s.width = 2;
	CHECK_EQ(x86_store_value(&s, gpr), gpr[2] & 0xffff);
	s = (struct x86_store){ .width = 1, .reg = 3, .high_byte = true };
	CHECK_EQ(x86_store_value(&s, gpr), (gpr[3] >> 8) & 0xff);
	s = (struct x86_store){ .width = 4, .is_imm = true, .imm = 0xc4500, .reg = 7 };
	CHECK_EQ(x86_store_value(&s, gpr), 0xc4500);
	s = (struct x86_store){ .width = 8, .is_imm = true, .imm = ~0ull };
	CHECK_EQ(x86_store_value(&s, gpr), ~0ull);
}

/*
 * x86_decode_mov also takes the loads 8A, 8B, A0, A1 (what an OS's MMIO
 * read is: Linux's readl is mov (%rax),%eax), which x86_decode_store
 * refuses; the stores come out of both alike.
 */
TEST(decode_mov_accepts_loads_from_memory)
{
	static const struct {
		const char *what;
		enum x86_code_size cs;
		uint8_t b[X86_INSN_MAX];
		unsigned n, len, width, reg;
		bool high_byte;
	} loads[] = {
		{ "mov (%rax),%eax (readl)", C64, { 0x8b, 0x00 }, 2, 2, 4, 0, false },
		{ "mov 0x1c(%rdi),%r9 (readq)", C64, { 0x4c, 0x8b, 0x4f, 0x1c }, 4, 4, 8, 9, false },
		{ "mov (%rdx),%cx", C64, { 0x66, 0x8b, 0x0a }, 3, 3, 2, 1, false },
		{ "mov (%rsi),%bh", C64, { 0x8a, 0x3e }, 2, 2, 1, 3, true },
		{ "mov (%rsi),%dil", C64, { 0x40, 0x8a, 0x3e }, 3, 3, 1, 7, false },
		{ "movabs 0xfed90000,%eax", C64, { 0xa1, 0x00, 0x00, 0xd9, 0xfe, 0, 0, 0, 0 }, 9, 9,
		  4, 0, false },
		{ "mov 0xfed9001c,%al (32-bit)", C32, { 0xa0, 0x1c, 0x00, 0xd9, 0xfe }, 5, 5, 1, 0,
		  false },
		{ "mov 0x18(%ebx),%edx (32-bit)", C32, { 0x8b, 0x53, 0x18 }, 3, 3, 4, 2, false },
	};
	for (unsigned i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
		struct x86_store s;
		bool ok = x86_decode_mov(loads[i].b, loads[i].n, loads[i].cs, &s);
		if (!CHECK(ok && s.is_load && s.len == loads[i].len && s.width == loads[i].width &&
			   s.reg == loads[i].reg && s.high_byte == loads[i].high_byte && !s.is_imm))
			printf("    case: %s: ok %d load %d len %u width %u reg %u high %d\n",
			       loads[i].what, ok, s.is_load, s.len, s.width, s.reg, s.high_byte);
		CHECK(!x86_decode_mov(loads[i].b, loads[i].len - 1, loads[i].cs, &s));
		CHECK(!x86_decode_store(loads[i].b, loads[i].n, loads[i].cs, &s));
	}
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct x86_store s;
		CHECK(x86_decode_mov(good[i].bytes, good[i].n, good[i].cs, &s) && !s.is_load &&
		      s.len == good[i].len);
	}
	/* A register source is no memory load. */
	struct x86_store s;
	CHECK(!x86_decode_mov((const uint8_t[]){ 0x8b, 0xc1 }, 2, C64, &s));
}

/* What a load leaves in its register (SDM Vol. 1 3.4.1.1). */
TEST(decode_mov_load_result)
{
	struct x86_store s = { .is_load = true, .width = 4 };
	uint64_t old = 0x1122334455667788ull;
	CHECK_EQ(x86_load_result(&s, old, 0xffffffffffffffffull), 0xffffffffull);
	s.width = 8;
	CHECK_EQ(x86_load_result(&s, old, 0xffffffffffffffffull), ~0ull);
	s.width = 2;
	CHECK_EQ(x86_load_result(&s, old, 0xffffffffffffffffull), 0x112233445566ffffull);
	s.width = 1;
	CHECK_EQ(x86_load_result(&s, old, 0xffffffffffffffffull), 0x11223344556677ffull);
	s.high_byte = true;
	CHECK_EQ(x86_load_result(&s, old, 0xabull), 0x112233445566ab88ull);
}
