/*
 * test_nested_operand.c - nested/operand.c: the operand of L1's VMX
 * instructions from the VM-exit instruction information and qualification.
 *
 * The instruction-information values are built here field by field from
 * SDM Vol. 3C tables 28-9, 28-13 and 28-14 (independently of operand.c's
 * own macros), with registers holding distinct values, so each test checks
 * the exact effective and linear address: every addressing form (base,
 * base + index * scale + displacement, index alone, displacement alone,
 * RIP-relative, negative displacement, RSP from the VMCS, R8-R15), the
 * 32- and 16-bit address sizes, register operands and reg2 with their
 * 32-bit truncation, the operand size of each instruction, segment bases
 * outside and inside 64-bit mode (only FS/GS), canonical checks (#GP, #SS
 * through SS, LA57, crossing the boundary, wrapping), limit checks
 * (expand-up, expand-down with B = 0/1, #SS through SS), unusable
 * segments, type checks, CPL > 0 and the #UD cases, and their order.
 */
#include "test.h"

#include "nested/operand.h"
#include "vmx/vmx_bits.h"

#include <string.h>

/* Instruction-information fields (SDM Vol. 3C 28.2.5, tables 28-9/13/14). */
#define SCALE(s) ((uint32_t)(s))
#define REG1(r) ((uint32_t)(r) << 3)
#define ASZ16 (0u << 7)
#define ASZ32 (1u << 7)
#define ASZ64 (2u << 7)
#define ASZ_BAD (3u << 7)
#define REGFORM (1u << 10)
#define SEG(s) ((uint32_t)(s) << 15)
#define INDEX(r) ((uint32_t)(r) << 18)
#define NO_INDEX (1u << 22)
#define BASE(r) ((uint32_t)(r) << 23)
#define NO_BASE (1u << 27)
#define REG2(r) ((uint32_t)(r) << 28)

/* VMCS access rights (SDM Vol. 3C 25.4.1). */
#define AR_CODE64 0xa09bu	/* G L P S, execute/read accessed */
#define AR_CODE32 0xc09bu	/* G D P S, execute/read accessed */
#define AR_CODE16 0x009bu	/* P S, execute/read accessed */
#define AR_CODE_XO 0xc099u	/* execute-only accessed */
#define AR_DATA 0xc093u		/* G B P S, read/write accessed */
#define AR_DATA_RO 0xc091u	/* read-only accessed */
#define AR_DATA_DOWN 0x4097u	/* B P S, read/write expand-down accessed */
#define AR_DATA_DOWN16 0x0097u	/* P S, read/write expand-down, B = 0 */
#define AR_DATA_DOWN_RO 0x4095u /* read-only expand-down */
#define AR_UNUSABLE 0x10000u
#define AR_DPL(n) ((uint32_t)(n) << 5)

#define RSP_VALUE 0x00007ffd12345670ull
#define GPR(n) (0x0000100000000000ull + ((uint64_t)(n) << 20))

static struct guest_regs regs;
static struct nested_operand_env env;
static struct nested_operand op;

static void set_seg(unsigned s, uint64_t base, uint32_t limit, uint32_t ar)
{
	env.seg[s] = (struct nested_seg_state){.base = base, .limit = limit, .ar = ar};
}

/* L1 in 64-bit mode: DS/ES/SS/CS bases set, to show that they are ignored. */
static void setup64(void)
{
	memset(&regs, 0, sizeof(regs));
	for (unsigned i = 0; i < GPR_COUNT; i++)
		regs.gpr[i] = GPR(i);
	regs.gpr[GPR_RSP] = 0xbad0bad0bad0bad0ull; /* the frame's dummy slot */
	memset(&env, 0, sizeof(env));
	env.mode = NMODE_64;
	env.regs = &regs;
	env.rsp = RSP_VALUE;
	set_seg(NSEG_ES, 0x1000000, 0xffffffff, AR_DATA);
	set_seg(NSEG_CS, 0x2000000, 0xffffffff, AR_CODE64);
	set_seg(NSEG_SS, 0x3000000, 0xffffffff, AR_DATA);
	set_seg(NSEG_DS, 0x4000000, 0xffffffff, AR_DATA);
	set_seg(NSEG_FS, 0x00007f0000001000ull, 0xffffffff, AR_DATA);
	set_seg(NSEG_GS, 0xffff888000000000ull, 0xffffffff, AR_DATA);
}

/* L1 in 32-bit protected mode: flat 4 GiB segments with base 0 except DS. */
static void setup32(void)
{
	setup64();
	env.mode = NMODE_PROT32;
	set_seg(NSEG_ES, 0, 0xffffffff, AR_DATA);
	set_seg(NSEG_CS, 0, 0xffffffff, AR_CODE32);
	set_seg(NSEG_SS, 0, 0xffffffff, AR_DATA);
	set_seg(NSEG_DS, 0x10000, 0xffffffff, AR_DATA);
	set_seg(NSEG_FS, 0, 0xffffffff, AR_DATA);
	set_seg(NSEG_GS, 0, 0xffffffff, AR_DATA);
}

/* The whole decoding; the two halves must agree with it. */
static enum nested_operand_result decode(uint32_t reason, uint32_t info, uint64_t qual)
{
	struct nested_operand early;
	enum nested_operand_result r =
	    nested_decode_operand_early(reason, info, qual, &env, &early);
	if (r == NOPERAND_OK)
		r = nested_operand_check_access(&env, &early);
	enum nested_operand_result whole = nested_decode_operand(reason, info, qual, &env, &op);
	CHECK_EQ(whole, r);
	CHECK(early.is_mem == op.is_mem && early.reg == op.reg && early.size == op.size &&
	      early.writes == op.writes && early.seg == op.seg && early.addr_bits == op.addr_bits &&
	      early.ea == op.ea && early.linear == op.linear && early.has_reg2 == op.has_reg2 &&
	      early.reg2 == op.reg2 && early.reg2_value == op.reg2_value);
	return whole;
}

/* [disp32] in DS, 64-bit address size: the simplest memory operand. */
static uint32_t abs64(unsigned seg)
{
	return ASZ64 | SEG(seg) | NO_INDEX | NO_BASE;
}

static uint32_t abs32(unsigned seg)
{
	return ASZ32 | SEG(seg) | NO_INDEX | NO_BASE;
}

TEST(nested_operand_cpu_mode)
{
	CHECK_EQ(nested_cpu_mode_of(0, 0, AR_CODE16, 0x2), NMODE_REAL);
	CHECK_EQ(nested_cpu_mode_of(0x10, EFER_LMA, AR_CODE64, 0x2), NMODE_REAL);
	CHECK_EQ(nested_cpu_mode_of(CR0_PE, 0, AR_CODE16, 0x2 | RFLAGS_VM), NMODE_V8086);
	CHECK_EQ(nested_cpu_mode_of(CR0_PE, 0, AR_CODE16, 0x2), NMODE_PROT16);
	CHECK_EQ(nested_cpu_mode_of(CR0_PE, 0, AR_CODE32, 0x2), NMODE_PROT32);
	CHECK_EQ(nested_cpu_mode_of(CR0_PE | CR0_PG, EFER_LME | EFER_LMA, AR_CODE32, 0x2),
		 NMODE_COMPAT);
	CHECK_EQ(nested_cpu_mode_of(CR0_PE | CR0_PG, EFER_LME | EFER_LMA, AR_CODE16, 0x2),
		 NMODE_COMPAT);
	CHECK_EQ(nested_cpu_mode_of(CR0_PE | CR0_PG, EFER_LME | EFER_LMA, AR_CODE64, 0x2),
		 NMODE_64);
	/* LME without LMA (paging off) is still legacy protected mode. */
	CHECK_EQ(nested_cpu_mode_of(CR0_PE, EFER_LME, AR_CODE32, 0x2), NMODE_PROT32);
}

TEST(nested_operand_gpr_rsp_from_env)
{
	setup64();
	CHECK_EQ(nested_operand_gpr(&env, GPR_RSP), RSP_VALUE);
	CHECK_EQ(nested_operand_gpr(&env, GPR_RAX), GPR(0));
	CHECK_EQ(nested_operand_gpr(&env, GPR_R15), GPR(15));
}

TEST(nested_operand_base_only)
{
	setup64();
	regs.gpr[GPR_RAX] = 0x0000123456789000ull;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, ASZ64 | SEG(NSEG_DS) | NO_INDEX | BASE(GPR_RAX), 0),
		 NOPERAND_OK);
	CHECK(op.is_mem);
	CHECK_EQ(op.seg, NSEG_DS);
	CHECK_EQ(op.addr_bits, 64);
	CHECK_EQ(op.ea, 0x0000123456789000ull);
	CHECK_EQ(op.linear, 0x0000123456789000ull);
	CHECK_EQ(op.size, 8);
	CHECK(!op.writes);
	CHECK(!op.has_reg2);
}

TEST(nested_operand_base_index_scale_disp)
{
	setup64();
	regs.gpr[GPR_RBX] = 0x1000;
	regs.gpr[GPR_RSI] = 0x30;
	static const uint64_t expect[4] = {0x1040, 0x1070, 0x10d0, 0x1190};
	for (unsigned s = 0; s < 4; s++) {
		uint32_t info = SCALE(s) | ASZ64 | SEG(NSEG_DS) | INDEX(GPR_RSI) | BASE(GPR_RBX);
		CHECK_EQ(decode(EXIT_REASON_VMCLEAR, info, 0x10), NOPERAND_OK);
		CHECK_EQ(op.ea, expect[s]);
		CHECK_EQ(op.linear, expect[s]);
	}
	/* R12 as base, R15 as index (REX-extended numbers 12 and 15). */
	regs.gpr[GPR_R12] = 0x200000;
	regs.gpr[GPR_R15] = 0x11;
	CHECK_EQ(decode(EXIT_REASON_VMCLEAR,
			SCALE(2) | ASZ64 | SEG(NSEG_DS) | INDEX(GPR_R15) | BASE(GPR_R12), 0x8),
		 NOPERAND_OK);
	CHECK_EQ(op.ea, 0x200000 + 0x44 + 0x8);
}

TEST(nested_operand_index_without_base)
{
	setup64();
	regs.gpr[GPR_RCX] = 0x400;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD,
			SCALE(2) | ASZ64 | SEG(NSEG_DS) | INDEX(GPR_RCX) | NO_BASE, 0x1000),
		 NOPERAND_OK);
	CHECK_EQ(op.ea, 0x2000);
	CHECK_EQ(op.linear, 0x2000);
}

TEST(nested_operand_displacement_only_and_rip_relative)
{
	setup64();
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x5000), NOPERAND_OK);
	CHECK_EQ(op.ea, 0x5000);
	CHECK_EQ(op.linear, 0x5000);
	/* RIP-relative: the CPU puts next RIP + displacement in the qualification (28.2.1). */
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0xfffff80000401234ull), NOPERAND_OK);
	CHECK_EQ(op.ea, 0xfffff80000401234ull);
	CHECK_EQ(op.linear, 0xfffff80000401234ull);
}

TEST(nested_operand_negative_displacement)
{
	setup64();
	regs.gpr[GPR_RDI] = 0x9000;
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, ASZ64 | SEG(NSEG_DS) | NO_INDEX | BASE(GPR_RDI),
			(uint64_t)-8),
		 NOPERAND_OK);
	CHECK_EQ(op.ea, 0x8ff8);
	CHECK(op.writes);
}

TEST(nested_operand_rsp_base_from_vmcs)
{
	setup64();
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, ASZ64 | SEG(NSEG_SS) | NO_INDEX | BASE(GPR_RSP), 0x18),
		 NOPERAND_OK);
	CHECK_EQ(op.seg, NSEG_SS);
	CHECK_EQ(op.ea, RSP_VALUE + 0x18);
	CHECK_EQ(op.linear, RSP_VALUE + 0x18); /* SS base ignored in 64-bit mode */
}

TEST(nested_operand_addr32_in_64bit_mode)
{
	setup64();
	regs.gpr[GPR_RAX] = 0x00000001fffffff0ull;
	uint32_t info = ASZ32 | SEG(NSEG_DS) | NO_INDEX | BASE(GPR_RAX);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, info, 0x20), NOPERAND_OK);
	CHECK_EQ(op.addr_bits, 32);
	CHECK_EQ(op.ea, 0x10);
	CHECK_EQ(op.linear, 0x10);
	/* FS: the 32-bit offset is added to the 64-bit FS base. */
	info = ASZ32 | SEG(NSEG_FS) | NO_INDEX | BASE(GPR_RAX);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, info, 0x20), NOPERAND_OK);
	CHECK_EQ(op.linear, 0x00007f0000001010ull);
}

TEST(nested_operand_64bit_only_fs_gs_bases)
{
	setup64();
	static const uint64_t expect[NSEG_COUNT] = {
	    0x5000, 0x5000, 0x5000, 0x5000, 0x00007f0000006000ull, 0xffff888000005000ull,
	};
	for (unsigned s = 0; s < NSEG_COUNT; s++) {
		CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(s), 0x5000), NOPERAND_OK);
		CHECK_EQ(op.seg, s);
		CHECK_EQ(op.ea, 0x5000);
		CHECK_EQ(op.linear, expect[s]);
	}
	/* An unusable FS still has its base in 64-bit mode; no usability check. */
	env.seg[NSEG_FS].ar = AR_UNUSABLE;
	env.seg[NSEG_DS].ar = AR_UNUSABLE;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_FS), 0x5000), NOPERAND_OK);
	CHECK_EQ(op.linear, 0x00007f0000006000ull);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x5000), NOPERAND_OK);
}

TEST(nested_operand_32bit_segment_base_and_truncation)
{
	setup32();
	regs.gpr[GPR_RBX] = 0xdead000000001000ull; /* upper half: stale, ignored */
	regs.gpr[GPR_RSI] = 0x0000000700000040ull;
	uint32_t info = SCALE(1) | ASZ32 | SEG(NSEG_DS) | INDEX(GPR_RSI) | BASE(GPR_RBX);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, info, 0x8), NOPERAND_OK);
	CHECK_EQ(op.ea, 0x1088);
	CHECK_EQ(op.linear, 0x11088);
	/* Every segment's base counts outside 64-bit mode. */
	env.seg[NSEG_ES].base = 0x200000;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_ES), 0x123), NOPERAND_OK);
	CHECK_EQ(op.linear, 0x200123);
	/* base + offset wraps at 4 GiB. */
	env.seg[NSEG_ES].base = 0xfffff000;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_ES), 0x2000), NOPERAND_OK);
	CHECK_EQ(op.linear, 0x1000);
	/* A negative displacement wraps the offset at 4 GiB, then the limit check passes. */
	regs.gpr[GPR_RDI] = 0x4;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, ASZ32 | SEG(NSEG_SS) | NO_INDEX | BASE(GPR_RDI),
			(uint64_t)-0x14),
		 NOPERAND_OK);
	CHECK_EQ(op.ea, 0xfffffff0);
}

TEST(nested_operand_16bit_addressing)
{
	setup32();
	/* [bx+si+0x10] through a 67h prefix in 32-bit code: 0xfff0 + 0x20 + 0x10 wraps. */
	regs.gpr[GPR_RBX] = 0x1234fff0;
	regs.gpr[GPR_RSI] = 0x20;
	uint32_t info = ASZ16 | SEG(NSEG_DS) | INDEX(GPR_RSI) | BASE(GPR_RBX);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, info, 0x10), NOPERAND_OK);
	CHECK_EQ(op.addr_bits, 16);
	CHECK_EQ(op.ea, 0x20);
	CHECK_EQ(op.linear, 0x10020);
	/* 16-bit code: [bp+di-2] in SS, disp16 sign-extended by the CPU. */
	env.mode = NMODE_PROT16;
	env.seg[NSEG_SS] = (struct nested_seg_state){.base = 0x30000, .limit = 0xffff, .ar = 0x93};
	regs.gpr[GPR_RBP] = 0x100;
	regs.gpr[GPR_RDI] = 0x2;
	info = ASZ16 | SEG(NSEG_SS) | INDEX(GPR_RDI) | BASE(GPR_RBP);
	CHECK_EQ(decode(EXIT_REASON_VMCLEAR, info, (uint64_t)-2), NOPERAND_OK);
	CHECK_EQ(op.ea, 0x100);
	CHECK_EQ(op.linear, 0x30100);
	/* 32-bit addressing in 16-bit code (67h). */
	CHECK_EQ(decode(EXIT_REASON_VMCLEAR, abs32(NSEG_SS), 0x8000), NOPERAND_OK);
	CHECK_EQ(op.addr_bits, 32);
	CHECK_EQ(op.linear, 0x38000);
}

TEST(nested_operand_register_forms)
{
	setup64();
	/* VMREAD rax, rbx: destination reg1 = RAX, field encoding in reg2 = RBX. */
	regs.gpr[GPR_RBX] = 0xffffffff00004402ull;
	CHECK_EQ(decode(EXIT_REASON_VMREAD, REGFORM | REG1(GPR_RAX) | REG2(GPR_RBX), 0),
		 NOPERAND_OK);
	CHECK(!op.is_mem);
	CHECK_EQ(op.reg, GPR_RAX);
	CHECK_EQ(op.size, 8);
	CHECK(op.writes);
	CHECK(op.has_reg2);
	CHECK_EQ(op.reg2, GPR_RBX);
	CHECK_EQ(op.reg2_value, 0xffffffff00004402ull); /* 64-bit: the caller sees bits 63:32 */
	CHECK_EQ(op.ea, 0);
	CHECK_EQ(op.linear, 0);
	/* VMWRITE r8, r15: reg1 = R15 (the source), reg2 = R8; address fields ignored. */
	CHECK_EQ(decode(EXIT_REASON_VMWRITE,
			REGFORM | REG1(GPR_R15) | REG2(GPR_R8) | SEG(7) | ASZ_BAD, 0),
		 NOPERAND_OK);
	CHECK_EQ(op.reg, GPR_R15);
	CHECK_EQ(op.reg2, GPR_R8);
	CHECK_EQ(op.reg2_value, GPR(8));
	CHECK(!op.writes);
	/* reg2 = RSP comes from the VMCS. */
	CHECK_EQ(decode(EXIT_REASON_VMREAD, REGFORM | REG1(GPR_RCX) | REG2(GPR_RSP), 0),
		 NOPERAND_OK);
	CHECK_EQ(op.reg2_value, RSP_VALUE);
	/* 32-bit mode: 32-bit operands, reg2 truncated. */
	setup32();
	regs.gpr[GPR_RDX] = 0x1234567800006c16ull;
	CHECK_EQ(decode(EXIT_REASON_VMREAD, REGFORM | REG1(GPR_RAX) | REG2(GPR_RDX), 0),
		 NOPERAND_OK);
	CHECK_EQ(op.size, 4);
	CHECK_EQ(op.reg2_value, 0x6c16);
}

TEST(nested_operand_vmread_vmwrite_memory)
{
	setup64();
	regs.gpr[GPR_RCX] = 0x681e;
	regs.gpr[GPR_RDX] = 0x7000;
	uint32_t info = ASZ64 | SEG(NSEG_DS) | NO_INDEX | BASE(GPR_RDX) | REG2(GPR_RCX);
	CHECK_EQ(decode(EXIT_REASON_VMREAD, info, 0x8), NOPERAND_OK);
	CHECK(op.is_mem);
	CHECK(op.writes);
	CHECK_EQ(op.size, 8);
	CHECK_EQ(op.ea, 0x7008);
	CHECK_EQ(op.reg2, GPR_RCX);
	CHECK_EQ(op.reg2_value, 0x681e);
	CHECK_EQ(decode(EXIT_REASON_VMWRITE, info, 0x8), NOPERAND_OK);
	CHECK(!op.writes);
	CHECK_EQ(op.size, 8);
	setup32();
	regs.gpr[GPR_RDX] = 0x7000;
	CHECK_EQ(decode(EXIT_REASON_VMWRITE, ASZ32 | SEG(NSEG_DS) | NO_INDEX | BASE(GPR_RDX), 0),
		 NOPERAND_OK);
	CHECK_EQ(op.size, 4);
	CHECK_EQ(op.linear, 0x17000);
}

TEST(nested_operand_invept_invvpid)
{
	static const uint32_t reasons[2] = {EXIT_REASON_INVEPT, EXIT_REASON_INVVPID};
	for (unsigned i = 0; i < 2; i++) {
		setup64();
		regs.gpr[GPR_R9] = 0xaaaa000000000001ull;
		regs.gpr[GPR_RSI] = 0x6000;
		uint32_t info = ASZ64 | SEG(NSEG_DS) | NO_INDEX | BASE(GPR_RSI) | REG2(GPR_R9);
		CHECK_EQ(decode(reasons[i], info, 0), NOPERAND_OK);
		CHECK(op.is_mem);
		CHECK_EQ(op.size, 16);
		CHECK(!op.writes);
		CHECK_EQ(op.ea, 0x6000);
		CHECK_EQ(op.reg2, GPR_R9);
		CHECK_EQ(op.reg2_value, 0xaaaa000000000001ull);
		/* Bit 10 is undefined for these: never a register form. */
		CHECK_EQ(decode(reasons[i], info | REGFORM, 0), NOPERAND_OK);
		CHECK(op.is_mem);
		setup32();
		regs.gpr[GPR_RCX] = 0xaaaa000000000002ull;
		info = ASZ32 | SEG(NSEG_DS) | NO_INDEX | NO_BASE | REG2(GPR_RCX);
		CHECK_EQ(decode(reasons[i], info, 0x100), NOPERAND_OK);
		CHECK_EQ(op.reg2_value, 2);
		CHECK_EQ(op.linear, 0x10100);
	}
}

TEST(nested_operand_sizes_and_direction)
{
	setup64();
	static const struct {
		uint32_t reason;
		unsigned size;
		bool writes;
		bool reg2;
	} rows[] = {
	    {EXIT_REASON_VMXON, 8, false, false},   {EXIT_REASON_VMCLEAR, 8, false, false},
	    {EXIT_REASON_VMPTRLD, 8, false, false}, {EXIT_REASON_VMPTRST, 8, true, false},
	    {EXIT_REASON_VMREAD, 8, true, true},    {EXIT_REASON_VMWRITE, 8, false, true},
	    {EXIT_REASON_INVEPT, 16, false, true},  {EXIT_REASON_INVVPID, 16, false, true},
	};
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* Bit 10 set: a memory operand all the same for table 28-13's instructions. */
		CHECK_EQ(decode(rows[i].reason, abs64(NSEG_DS) | REGFORM * !rows[i].reg2, 0x100),
			 NOPERAND_OK);
		CHECK(op.is_mem);
		CHECK_EQ(op.size, rows[i].size);
		CHECK_EQ(op.writes, rows[i].writes);
		CHECK_EQ(op.has_reg2, rows[i].reg2);
		CHECK_EQ(op.linear, 0x100);
	}
}

TEST(nested_operand_non_canonical)
{
	setup64();
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x0000800000000000ull), NOPERAND_GP0);
	CHECK_EQ(op.linear, 0x0000800000000000ull);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_SS), 0x0000800000000000ull), NOPERAND_SS0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_ES), 0xffff7ffffffffff8ull), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0xffff800000000000ull), NOPERAND_OK);
	/* The last byte counts: 8 bytes at 0x7ffffffffff8 fit, at ...ff9 they cross. */
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x00007ffffffffff8ull), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x00007ffffffffff9ull), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_INVEPT, abs64(NSEG_DS), 0x00007ffffffffff0ull), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_INVEPT, abs64(NSEG_SS), 0x00007ffffffffff8ull), NOPERAND_SS0);
	/* A base register pointing at a non-canonical stack: #SS(0). */
	env.rsp = 0x8000000000000000ull;
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, ASZ64 | SEG(NSEG_SS) | NO_INDEX | BASE(GPR_RSP), 0),
		 NOPERAND_SS0);
	/* The FS base makes it non-canonical: #GP(0). */
	env.seg[NSEG_FS].base = 0x00007ffffffff000ull;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_FS), 0x1000), NOPERAND_GP0);
	CHECK_EQ(op.linear, 0x0000800000000000ull);
	/* Wrapping past 2^64 is refused. */
	env.seg[NSEG_GS].base = 0xfffffffffffffff8ull;
	CHECK_EQ(decode(EXIT_REASON_INVVPID, abs64(NSEG_GS), 0), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_GS), 0), NOPERAND_OK);
}

TEST(nested_operand_non_canonical_la57)
{
	setup64();
	env.la57 = true;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x0000800000000000ull), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x00fffffffffffff8ull), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x00fffffffffffff9ull), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_SS), 0x0100000000000000ull), NOPERAND_SS0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0xff00000000000000ull), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0xfeff000000000000ull), NOPERAND_GP0);
}

TEST(nested_operand_limit_expand_up)
{
	setup32();
	env.seg[NSEG_DS].limit = 0xfff;
	env.seg[NSEG_SS].limit = 0xfff;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0xff8), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0xff9), NOPERAND_GP0);
	CHECK_EQ(op.ea, 0xff9); /* decoded before the check */
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_SS), 0xff8), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_SS), 0xff9), NOPERAND_SS0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0x1000), NOPERAND_GP0);
	/* 16-byte INVEPT descriptor; 4-byte VMREAD operand outside 64-bit mode. */
	CHECK_EQ(decode(EXIT_REASON_INVEPT, abs32(NSEG_DS), 0xff0), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_INVEPT, abs32(NSEG_DS), 0xff1), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMREAD, abs32(NSEG_DS), 0xffc), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMREAD, abs32(NSEG_DS), 0xffd), NOPERAND_GP0);
	/* Flat 4 GiB: the last byte may not pass 0xffffffff. */
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_ES), 0xfffffff8), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_ES), 0xfffffff9), NOPERAND_GP0);
	/* A 16-bit offset does not wrap within the access either. */
	env.seg[NSEG_DS].limit = 0xffff;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, ASZ16 | SEG(NSEG_DS) | NO_INDEX | NO_BASE, 0xfffc),
		 NOPERAND_GP0);
	/* Limit checks apply to CS too (a readable code segment). */
	env.seg[NSEG_CS].limit = 0x7fff;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_CS), 0x7ff8), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_CS), 0x7ff9), NOPERAND_GP0);
}

TEST(nested_operand_limit_expand_down)
{
	setup32();
	/* B = 1: valid offsets 0x1000..0xffffffff. */
	env.seg[NSEG_DS] = (struct nested_seg_state){.base = 0, .limit = 0xfff, .ar = AR_DATA_DOWN};
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0x1000), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0xfff), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0x0), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0xfffffff8), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0xfffffff9), NOPERAND_GP0);
	/* B = 0: valid offsets 0x1000..0xffff. */
	env.seg[NSEG_DS].ar = AR_DATA_DOWN16;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0xfff8), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0xfff9), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0x10000), NOPERAND_GP0);
	/* A stack segment: #SS(0). */
	env.seg[NSEG_SS] =
	    (struct nested_seg_state){.base = 0, .limit = 0x7fff, .ar = AR_DATA_DOWN};
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, abs32(NSEG_SS), 0x8000), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, abs32(NSEG_SS), 0x7ffc), NOPERAND_SS0);
	/* Read-only expand-down: in range, but not writable. */
	env.seg[NSEG_DS] = (struct nested_seg_state){.limit = 0xfff, .ar = AR_DATA_DOWN_RO};
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0x2000), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, abs32(NSEG_DS), 0x2000), NOPERAND_GP0);
}

TEST(nested_operand_unusable_segments)
{
	setup32();
	static const unsigned data[4] = {NSEG_ES, NSEG_DS, NSEG_FS, NSEG_GS};
	for (unsigned i = 0; i < 4; i++) {
		setup32();
		env.seg[data[i]].ar = AR_UNUSABLE;
		CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(data[i]), 0x100), NOPERAND_GP0);
		/* Another segment's unusability does not matter. */
		CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_SS), 0x100), NOPERAND_OK);
	}
	setup32();
	env.seg[NSEG_SS].ar = AR_UNUSABLE; /* DPL 0: the CPL check passes */
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_SS), 0x100), NOPERAND_SS0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0x100), NOPERAND_OK);
}

TEST(nested_operand_segment_types)
{
	setup32();
	/* Writes: not to read-only data, not to code. */
	env.seg[NSEG_DS].ar = AR_DATA_RO;
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, abs32(NSEG_DS), 0x100), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMREAD, abs32(NSEG_DS), 0x100), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0x100), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMWRITE, abs32(NSEG_DS), 0x100), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, abs32(NSEG_CS), 0x100), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_CS), 0x100), NOPERAND_OK);
	/* Reads: not from execute-only code. */
	env.seg[NSEG_CS].ar = AR_CODE_XO;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_CS), 0x100), NOPERAND_GP0);
	CHECK_EQ(decode(EXIT_REASON_INVVPID, abs32(NSEG_CS), 0x100), NOPERAND_GP0);
	/* A type violation through SS is #GP(0), not #SS(0). */
	env.seg[NSEG_SS].ar = AR_DATA_RO;
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, abs32(NSEG_SS), 0x100), NOPERAND_GP0);
	env.seg[NSEG_SS].ar = AR_CODE_XO;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_SS), 0x100), NOPERAND_GP0);
	/* 64-bit mode checks no types. */
	setup64();
	env.seg[NSEG_DS].ar = AR_DATA_RO;
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, abs64(NSEG_DS), 0x100), NOPERAND_OK);
	CHECK_EQ(decode(EXIT_REASON_VMPTRST, abs64(NSEG_CS), 0x100), NOPERAND_OK);
}

TEST(nested_operand_cpl)
{
	setup64();
	env.seg[NSEG_SS].ar = AR_DATA | AR_DPL(3);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x100), NOPERAND_GP0);
	CHECK_EQ(op.ea, 0x100);
	CHECK_EQ(decode(EXIT_REASON_VMREAD, REGFORM | REG1(GPR_RAX) | REG2(GPR_RBX), 0),
		 NOPERAND_GP0);
	env.seg[NSEG_SS].ar = AR_DATA | AR_DPL(1);
	CHECK_EQ(decode(EXIT_REASON_VMXON, abs64(NSEG_DS), 0x100), NOPERAND_GP0);
	/* CPL before the canonical check: #GP(0), not #SS(0). */
	CHECK_EQ(decode(EXIT_REASON_VMXON, abs64(NSEG_SS), 0x0000800000000000ull), NOPERAND_GP0);
	/* CPL before the limit check. */
	setup32();
	env.seg[NSEG_SS] = (struct nested_seg_state){.limit = 0xff, .ar = AR_DATA | AR_DPL(3)};
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_SS), 0x1000), NOPERAND_GP0);
	env.seg[NSEG_SS].ar = AR_DATA;
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_SS), 0x1000), NOPERAND_SS0);
}

TEST(nested_operand_ud_cases)
{
	static const enum nested_cpu_mode ud_modes[3] = {NMODE_REAL, NMODE_V8086, NMODE_COMPAT};
	for (unsigned i = 0; i < 3; i++) {
		setup32();
		env.mode = ud_modes[i];
		env.seg[NSEG_SS].ar = AR_DATA | AR_DPL(3); /* #UD comes before the CPL check */
		CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs32(NSEG_DS), 0x100), NOPERAND_UD);
		CHECK_EQ(decode(EXIT_REASON_VMREAD, REGFORM | REG1(GPR_RAX), 0), NOPERAND_UD);
	}
	setup64();
	/* Exits that are not one of the eight instructions with an operand. */
	static const uint32_t others[5] = {EXIT_REASON_CPUID, EXIT_REASON_VMLAUNCH,
					   EXIT_REASON_VMRESUME, EXIT_REASON_VMXOFF,
					   EXIT_REASON_INVPCID};
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(decode(others[i], abs64(NSEG_DS), 0x100), NOPERAND_UD);
	/* Information fields the CPU does not produce. */
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, ASZ_BAD | SEG(NSEG_DS) | NO_INDEX | NO_BASE, 0x100),
		 NOPERAND_UD);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, ASZ64 | SEG(6) | NO_INDEX | NO_BASE, 0x100),
		 NOPERAND_UD);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, ASZ64 | SEG(7) | NO_INDEX | NO_BASE, 0x100),
		 NOPERAND_UD);
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, ASZ16 | SEG(NSEG_DS) | NO_INDEX | NO_BASE, 0x100),
		 NOPERAND_UD);
	setup32();
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD, abs64(NSEG_DS), 0x100), NOPERAND_UD);
	/* The exit-reason field's upper bits are not part of the basic reason. */
	CHECK_EQ(decode(EXIT_REASON_VMPTRLD | (1u << 27), abs32(NSEG_DS), 0x100), NOPERAND_OK);
}

TEST(nested_operand_access_checked_separately)
{
	/* INVEPT: the type (reg2) is checked before the descriptor is read. */
	setup32();
	env.seg[NSEG_DS].limit = 0xfff;
	regs.gpr[GPR_RCX] = 1;
	uint32_t info = ASZ32 | SEG(NSEG_DS) | NO_INDEX | NO_BASE | REG2(GPR_RCX);
	CHECK_EQ(nested_decode_operand_early(EXIT_REASON_INVEPT, info, 0xff8, &env, &op),
		 NOPERAND_OK);
	CHECK_EQ(op.reg2_value, 1);
	CHECK_EQ(op.linear, 0x10ff8);
	CHECK_EQ(nested_operand_check_access(&env, &op), NOPERAND_GP0);
	/* A register operand has nothing to check (segment field 0 is ES: unusable here). */
	env.seg[NSEG_ES].ar = AR_UNUSABLE;
	CHECK_EQ(
	    nested_decode_operand_early(EXIT_REASON_VMREAD, REGFORM | REG1(GPR_RAX), 0, &env, &op),
	    NOPERAND_OK);
	CHECK_EQ(nested_operand_check_access(&env, &op), NOPERAND_OK);
	/* 64-bit: the linear address is known before the canonical check fails. */
	setup64();
	CHECK_EQ(nested_decode_operand_early(EXIT_REASON_VMPTRLD, abs64(NSEG_SS),
					     0x0000800000000000ull, &env, &op),
		 NOPERAND_OK);
	CHECK_EQ(op.linear, 0x0000800000000000ull);
	CHECK_EQ(nested_operand_check_access(&env, &op), NOPERAND_SS0);
}
