/*
 * fuzz_operand.c - the operand of L1's VMX instructions (nested/operand.c)
 * from arbitrary instruction information, qualification, registers,
 * segment state and mode, then the access through L1's page tables
 * (mm/guest_walk.c) in a fake L1 memory filled from the input.
 *
 * The input: u8 instruction (one of the eight), u32 instruction
 * information, u64 qualification, u8 mode, u8 flags (bit 0 CR4.LA57, bit 1
 * page_1g, bit 2 the PDPTE registers valid, bit 3 RFLAGS.AC), 16 GPRs, RSP,
 * six segments (u64 base, u32 limit, u32 access rights), CR0, CR3, CR4,
 * EFER, u8 MAXPHYADDR, four PDPTEs, then L1's memory: MEM_PAGES pages at
 * guest-physical 0 (zero where the input ends).
 *
 * Oracles, on every input:
 *   - the decode's result is one of the SDM's: a value, #GP(0), #SS(0) or
 *     #UD; a decoded operand is well-formed (register numbers < 16, size
 *     4, 8 or 16, address size 16/32/64 with the effective address in it,
 *     a linear address below 4 GiB outside 64-bit mode and canonical in
 *     it, every byte);
 *   - the walk reads and writes only the fake memory (the callbacks refuse
 *     the rest exactly, ASan catches the rest) and ends in one of its
 *     statuses; a #PF has an error code of the SDM's bits and CR2 inside
 *     the access.
 */
#include "common.h"

#include "mm/guest_walk.h"
#include "nested/operand.h"
#include "vmx/vmx_bits.h"

#include <stdlib.h>
#include <string.h>

#define MEM_PAGES 16
#define MEM_BYTES (MEM_PAGES * 4096ull)

static uint8_t *mem; /* exactly MEM_BYTES, on the heap: ASan's redzones around it */
static unsigned mem_calls;

static bool mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	mem_calls++;
	if (gpa >= MEM_BYTES || len > MEM_BYTES - gpa)
		return false;
	memcpy(buf, mem + gpa, len);
	return true;
}

static bool mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	mem_calls++;
	if (gpa >= MEM_BYTES || len > MEM_BYTES - gpa)
		return false;
	memcpy(mem + gpa, buf, len);
	return true;
}

static const uint32_t reasons[8] = {
	EXIT_REASON_VMCLEAR, EXIT_REASON_VMPTRLD, EXIT_REASON_VMPTRST, EXIT_REASON_VMREAD,
	EXIT_REASON_VMWRITE, EXIT_REASON_VMXON,	  EXIT_REASON_INVEPT,  EXIT_REASON_INVVPID,
};

static bool canonical(uint64_t la, bool la57)
{
	unsigned bits = la57 ? 57 : 48;
	int64_t s = (int64_t)(la << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == la;
}

static void check_operand(const struct nested_operand_env *env, const struct nested_operand *op)
{
	FUZZ_ASSERT(op->size == 4 || op->size == 8 || op->size == 16, "size %u", op->size);
	if (op->has_reg2)
		FUZZ_ASSERT(op->reg2 < GPR_COUNT, "reg2 %u", op->reg2);
	if (!op->is_mem) {
		FUZZ_ASSERT(op->reg < GPR_COUNT, "reg %u", op->reg);
		return;
	}
	FUZZ_ASSERT(op->seg < NSEG_COUNT, "segment %u", op->seg);
	FUZZ_ASSERT(op->addr_bits == 16 || op->addr_bits == 32 || op->addr_bits == 64,
		    "address size %u", op->addr_bits);
	FUZZ_ASSERT(op->addr_bits == 64 || op->ea >> op->addr_bits == 0,
		    "ea 0x%llx in %u bits", (unsigned long long)op->ea, op->addr_bits);
	if (env->mode == NMODE_64) {
		for (unsigned i = 0; i < op->size; i++)
			FUZZ_ASSERT(canonical(op->linear + i, env->la57),
				    "byte %u of 0x%llx not canonical", i,
				    (unsigned long long)op->linear);
	} else {
		FUZZ_ASSERT(op->linear <= 0xffffffffull, "linear 0x%llx outside 64-bit mode",
			    (unsigned long long)op->linear);
	}
}

static void check_walk(enum gwalk_status st, const struct guest_walk *w, uint64_t la,
		       unsigned size, bool is64)
{
	FUZZ_ASSERT(st <= GWALK_TOO_LONG && st == w->status, "status %d/%d", st, w->status);
	FUZZ_ASSERT(st != GWALK_TOO_LONG, "a %u-byte operand too long", size);
	if (st != GWALK_PAGE_FAULT)
		return;
	FUZZ_ASSERT(!(w->error_code & ~(uint32_t)(PF_ERR_P | PF_ERR_W | PF_ERR_U | PF_ERR_RSVD |
						   PF_ERR_ID)),
		    "#PF error code 0x%x", w->error_code);
	uint64_t off = w->cr2 - la;
	if (!is64)
		off &= 0xffffffffull;
	FUZZ_ASSERT(off < size, "CR2 0x%llx outside the access 0x%llx+%u",
		    (unsigned long long)w->cr2, (unsigned long long)la, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	if (!mem)
		mem = malloc(MEM_BYTES);
	static struct guest_regs regs;
	struct nested_operand_env env;
	memset(&env, 0, sizeof(env));

	uint32_t reason = reasons[fuzz_u8(&in) % 8];
	uint32_t info = fuzz_u32(&in);
	uint64_t qual = fuzz_u64(&in);
	env.mode = (enum nested_cpu_mode)(fuzz_u8(&in) % 6);
	uint8_t flags = fuzz_u8(&in);
	env.la57 = flags & 1;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		regs.gpr[i] = fuzz_u64(&in);
	env.regs = &regs;
	env.rsp = fuzz_u64(&in);
	for (unsigned s = 0; s < NSEG_COUNT; s++) {
		env.seg[s].base = fuzz_u64(&in);
		env.seg[s].limit = fuzz_u32(&in);
		env.seg[s].ar = fuzz_u32(&in);
	}
	struct guest_paging g = {
		.cr0 = fuzz_u64(&in),
		.cr3 = fuzz_u64(&in),
		.cr4 = fuzz_u64(&in),
		.efer = fuzz_u64(&in),
		.maxphyaddr = fuzz_u8(&in),
		.page_1g = flags & 2,
		.pdpte_valid = flags & 4,
		.rflags_ac = flags & 8,
		.read_gpa = mem_read,
		.write_gpa = mem_write,
	};
	for (unsigned i = 0; i < 4; i++)
		g.pdpte[i] = fuzz_u64(&in);
	fuzz_bytes(&in, mem, MEM_BYTES);

	struct nested_operand op;
	enum nested_operand_result r = nested_decode_operand(reason, info, qual, &env, &op);
	FUZZ_ASSERT(r == NOPERAND_OK || r == NOPERAND_GP0 || r == NOPERAND_SS0 || r == NOPERAND_UD,
		    "result %d", r);
	if (r != NOPERAND_OK) {
		fuzz_outcome("fault");
		return 0;
	}
	check_operand(&env, &op);
	if (!op.is_mem) {
		fuzz_outcome("register");
		return 0;
	}
	/* The access, as nested/insn_emul.c makes it: L1 is the one paging. */
	uint8_t buf[16] = {0};
	struct guest_walk w;
	memset(&w, 0, sizeof(w));
	unsigned cpl3 = (env.seg[NSEG_SS].ar >> 5 & 3) == 3 ? GWALK_USER : 0;
	enum gwalk_status st =
	    op.writes ? guest_write_linear(&g, op.linear, buf, op.size, GWALK_WRITE | cpl3, &w)
		      : guest_read_linear(&g, op.linear, buf, op.size, cpl3, &w);
	check_walk(st, &w, op.linear, op.size, env.mode == NMODE_64);
	fuzz_outcome(st == GWALK_OK ? "memory ok" : st == GWALK_PAGE_FAULT ? "memory #PF" : "memory other");
	return 0;
}
