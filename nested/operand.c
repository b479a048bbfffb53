/*
 * operand.c - decoding and checking the operand of a VMX instruction L1
 * executed (see operand.h), from the VM-exit instruction information and
 * exit qualification, the way the CPU would have addressed it.
 *
 * Everything is computed in 64 bits and truncated where the architecture
 * truncates: the effective address to the address size, the linear address
 * to 32 bits outside 64-bit mode.  Segment bases apply outside 64-bit mode;
 * in 64-bit mode only FS and GS bases do.
 */
#include "operand.h"

#include "vmx/vmx_bits.h"

/*
 * VM-exit instruction-information field, SDM Vol. 3C 28.2.5: the layout
 * common to table 28-9 (INVEPT, INVPCID, INVVPID), table 28-13 (VMCLEAR,
 * VMPTRLD, VMPTRST, VMXON, XRSTORS, XSAVES) and table 28-14 (VMREAD,
 * VMWRITE): scaling 1:0, address size 9:7 (0 16-bit, 1 32-bit, 2 64-bit),
 * segment 17:15, index register 21:18 and its "invalid" bit 22, base
 * register 26:23 and its "invalid" bit 27.  Table 28-14 adds reg1 6:3 and
 * mem/reg 10 (1 = register operand); tables 28-9 and 28-14 have reg2 31:28.
 */
#define INFO_SCALE(i) ((i) & 3u)
#define INFO_REG1(i) (((i) >> 3) & 0xfu)
#define INFO_ADDR_SIZE(i) (((i) >> 7) & 7u)
#define INFO_IS_REG (1u << 10)
#define INFO_SEG(i) (((i) >> 15) & 7u)
#define INFO_INDEX(i) (((i) >> 18) & 0xfu)
#define INFO_INDEX_INVALID (1u << 22)
#define INFO_BASE(i) (((i) >> 23) & 0xfu)
#define INFO_BASE_INVALID (1u << 27)
#define INFO_REG2(i) (((i) >> 28) & 0xfu)

#define ADDR_SIZE_16 0
#define ADDR_SIZE_32 1
#define ADDR_SIZE_64 2

/*
 * Segment type field (SDM Vol. 3A 3.4.5.1, table 3-1): bit 3 code; for
 * data, bit 2 expand-down and bit 1 writable; for code, bit 1 readable.
 */
#define SEG_TYPE_CODE (1u << 3)
#define SEG_TYPE_DATA_EXPAND_DOWN (1u << 2)
#define SEG_TYPE_DATA_WRITABLE (1u << 1)
#define SEG_TYPE_CODE_READABLE (1u << 1)

/* What each instruction does with its operand. */
struct insn_shape {
	bool ok;
	bool reg_form; /* the mem/reg bit is meaningful (table 28-14) */
	bool has_reg2; /* reg2 is meaningful (tables 28-9, 28-14) */
	bool writes;   /* the memory operand is a destination */
	unsigned size; /* operand size in bytes; 0: 8 in 64-bit mode, else 4 */
};

/*
 * Operand forms, SDM Vol. 3C 31.3: VMXON/VMCLEAR/VMPTRLD take m64,
 * VMPTRST stores m64; VMREAD stores r/m64 (r/m32 outside 64-bit mode) and
 * VMWRITE loads it, the field encoding in reg2; INVEPT/INVVPID load an
 * m128 descriptor, the type in reg2.
 */
static struct insn_shape shape_of(uint32_t reason)
{
	switch (reason) {
	case EXIT_REASON_VMXON:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMPTRLD:
		return (struct insn_shape){.ok = true, .size = 8};
	case EXIT_REASON_VMPTRST:
		return (struct insn_shape){.ok = true, .writes = true, .size = 8};
	case EXIT_REASON_VMREAD:
		return (struct insn_shape){
		    .ok = true, .reg_form = true, .has_reg2 = true, .writes = true};
	case EXIT_REASON_VMWRITE:
		return (struct insn_shape){.ok = true, .reg_form = true, .has_reg2 = true};
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
		return (struct insn_shape){.ok = true, .has_reg2 = true, .size = 16};
	default:
		return (struct insn_shape){.ok = false};
	}
}

enum nested_cpu_mode nested_cpu_mode_of(uint64_t cr0, uint64_t efer, uint32_t cs_ar,
					uint64_t rflags)
{
	/* SDM Vol. 3A 2.2 "Modes of Operation": CR0.PE = 0 is real-address mode. */
	if (!(cr0 & CR0_PE))
		return NMODE_REAL;
	/* SDM Vol. 3A 2.2: IA-32e mode is EFER.LMA = 1; CS.L = 1 makes it 64-bit (5.2.1). */
	if (efer & EFER_LMA)
		return (cs_ar & VMX_AR_L) ? NMODE_64 : NMODE_COMPAT;
	/* SDM Vol. 3A 2.2, 2.3: RFLAGS.VM = 1 in protected mode is virtual-8086 mode. */
	if (rflags & RFLAGS_VM)
		return NMODE_V8086;
	/* SDM Vol. 3A 3.4.5: CS.D selects the default operand and address size. */
	return (cs_ar & VMX_AR_DB) ? NMODE_PROT32 : NMODE_PROT16;
}

uint64_t nested_operand_gpr(const struct nested_operand_env *env, unsigned n)
{
	n &= 0xf;
	return n == GPR_RSP ? env->rsp : env->regs->gpr[n];
}

/*
 * SDM Vol. 1 3.3.7.1, Vol. 3A 4.5 (5-level paging): a linear address is
 * canonical when bits 63:47 (63:56 with CR4.LA57) all equal bit 47 (56).
 */
static bool canonical(uint64_t la, bool la57)
{
	unsigned shift = la57 ? 56 : 47;
	uint64_t top = la >> shift;
	return top == 0 || top == (~0ull >> shift);
}

/*
 * 64-bit mode: SDM Vol. 3A 5.3.1 (no limit or type checks, but every byte
 * must have a canonical address: #SS(0) through SS, else #GP(0), per the
 * instruction pages' "64-Bit Mode Exceptions").  An access that wraps past
 * 2^64 is treated as non-canonical.
 */
static enum nested_operand_result check_64(const struct nested_operand_env *env,
					   const struct nested_operand *op)
{
	uint64_t last = op->linear + op->size - 1;
	if (last < op->linear || !canonical(op->linear, env->la57) || !canonical(last, env->la57))
		return op->seg == NSEG_SS ? NOPERAND_SS0 : NOPERAND_GP0;
	return NOPERAND_OK;
}

/*
 * Protected mode (the instruction pages' "Protected Mode Exceptions"): an
 * unusable DS, ES, FS or GS is #GP(0), an unusable SS #SS(0); type
 * checks (SDM Vol. 3A 5.4): no write to a code segment or to a read-only
 * data segment, no read from an execute-only code segment, #GP(0) even
 * through SS; limit checks (5.3): an expand-up segment allows offsets
 * 0..limit, an expand-down one limit+1..0xffff (B = 0) or 0xffffffff
 * (B = 1); beyond them #SS(0) through SS, else #GP(0).
 */
static enum nested_operand_result check_protected(const struct nested_operand_env *env,
						  const struct nested_operand *op)
{
	const struct nested_seg_state *s = &env->seg[op->seg];
	enum nested_operand_result fault = op->seg == NSEG_SS ? NOPERAND_SS0 : NOPERAND_GP0;

	if (s->ar & VMX_AR_UNUSABLE)
		return fault;

	unsigned type = s->ar & VMX_AR_TYPE_MASK;
	if (type & SEG_TYPE_CODE) {
		if (op->writes || !(type & SEG_TYPE_CODE_READABLE))
			return NOPERAND_GP0;
	} else if (op->writes && !(type & SEG_TYPE_DATA_WRITABLE)) {
		return NOPERAND_GP0;
	}

	uint64_t first = op->ea;
	uint64_t last = op->ea + op->size - 1;
	if (!(type & SEG_TYPE_CODE) && (type & SEG_TYPE_DATA_EXPAND_DOWN)) {
		uint64_t upper = (s->ar & VMX_AR_DB) ? 0xffffffffull : 0xffffull;
		if (first <= s->limit || last > upper)
			return fault;
	} else if (last > s->limit) {
		return fault;
	}
	return NOPERAND_OK;
}

enum nested_operand_result nested_decode_operand_early(uint32_t exit_reason, uint32_t insn_info,
						       uint64_t qual,
						       const struct nested_operand_env *env,
						       struct nested_operand *op)
{
	*op = (struct nested_operand){0};
	struct insn_shape shape = shape_of(exit_reason & EXIT_REASON_BASIC_MASK);
	bool mode64 = env->mode == NMODE_64;

	/*
	 * SDM Vol. 3C 31.3, every VMX instruction's first check: #UD when
	 * CR0.PE = 0, RFLAGS.VM = 1 or IA32_EFER.LMA = 1 with CS.L = 0.
	 */
	if (!shape.ok || env->mode == NMODE_REAL || env->mode == NMODE_V8086 ||
	    env->mode == NMODE_COMPAT)
		return NOPERAND_UD;

	op->size = shape.size ? shape.size : (mode64 ? 8 : 4);
	op->writes = shape.writes;
	if (shape.has_reg2) {
		/*
		 * Tables 28-9 and 28-14, bits 31:28.  VMREAD/VMWRITE and
		 * INVEPT/INVVPID (31.3) use 64-bit register operands in
		 * 64-bit mode and 32-bit ones outside it.
		 */
		op->has_reg2 = true;
		op->reg2 = INFO_REG2(insn_info);
		op->reg2_value = nested_operand_gpr(env, op->reg2);
		if (!mode64)
			op->reg2_value = (uint32_t)op->reg2_value;
	}

	if (shape.reg_form && (insn_info & INFO_IS_REG)) {
		/* Table 28-14: bit 10 set, the operand is the register in bits 6:3. */
		op->reg = INFO_REG1(insn_info);
	} else {
		/* Tables 28-9, 28-13, 28-14: the memory-operand fields. */
		op->is_mem = true;
		unsigned asz = INFO_ADDR_SIZE(insn_info);
		op->seg = INFO_SEG(insn_info);
		if (asz > ADDR_SIZE_64 || op->seg >= NSEG_COUNT ||
		    (mode64 && asz == ADDR_SIZE_16) || (!mode64 && asz == ADDR_SIZE_64))
			return NOPERAND_UD;
		op->addr_bits = 16u << asz;

		/*
		 * SDM Vol. 1 3.7.5: offset = base + index * scale +
		 * displacement, computed modulo the address size.  The
		 * displacement is the exit qualification (Vol. 3C 28.2.1),
		 * already sign-extended to 64 bits.
		 */
		uint64_t ea = qual;
		if (!(insn_info & INFO_BASE_INVALID))
			ea += nested_operand_gpr(env, INFO_BASE(insn_info));
		if (!(insn_info & INFO_INDEX_INVALID))
			ea += nested_operand_gpr(env, INFO_INDEX(insn_info))
			      << INFO_SCALE(insn_info);
		if (op->addr_bits < 64)
			ea &= (1ull << op->addr_bits) - 1;
		op->ea = ea;

		/*
		 * The linear address (SDM Vol. 3A 3.4): in 64-bit mode only
		 * the FS and GS bases count, CS, DS, ES and SS are treated
		 * as 0 (3.4.4); elsewhere base + offset wraps at 4 GiB.
		 */
		const struct nested_seg_state *s = &env->seg[op->seg];
		if (mode64)
			op->linear = (op->seg == NSEG_FS || op->seg == NSEG_GS) ? s->base + ea : ea;
		else
			op->linear = (uint32_t)(s->base + ea);
	}

	/*
	 * SDM Vol. 3C 31.3: after the #UD checks (and the VM exit), CPL > 0
	 * is #GP(0).  SS.DPL is the CPL (Vol. 3C 25.4.1).
	 */
	if ((env->seg[NSEG_SS].ar >> VMX_AR_DPL_SHIFT) & 3)
		return NOPERAND_GP0;
	return NOPERAND_OK;
}

enum nested_operand_result nested_operand_check_access(const struct nested_operand_env *env,
						       const struct nested_operand *op)
{
	if (!op->is_mem)
		return NOPERAND_OK;
	return env->mode == NMODE_64 ? check_64(env, op) : check_protected(env, op);
}

enum nested_operand_result nested_decode_operand(uint32_t exit_reason, uint32_t insn_info,
						 uint64_t qual,
						 const struct nested_operand_env *env,
						 struct nested_operand *op)
{
	enum nested_operand_result r =
	    nested_decode_operand_early(exit_reason, insn_info, qual, env, op);
	return r == NOPERAND_OK ? nested_operand_check_access(env, op) : r;
}
