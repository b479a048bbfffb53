/*
 * l1_memory.h - L1's physical memory as L0 may touch it, and L1's paging
 * as the current VMCS describes it.
 *
 * Every guest-physical address L1 hands to L0 (a VMX operand, a VMCS, a
 * bitmap, the bytes of an instruction L0 must finish for it) is reached
 * through a struct l1_memory, which refuses L0's own memory and whatever
 * EPT01 does not map (vmx/l1_memory.c in the core; the unit tests supply
 * their own over a host buffer).
 */
#ifndef MICROHV_VMX_L1_MEMORY_H
#define MICROHV_VMX_L1_MEMORY_H

#include "arch/x86/decode_store.h"
#include "mm/guest_walk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct l1_memory {
	bool (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	bool (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	void *ctx;
	unsigned maxphyaddr; /* physical-address width L1 sees (CPUID.80000008H) */
	/*
	 * Atomic compare-exchange of the aligned 8 bytes at gpa (read and
	 * write granted): 0 done, 1 the value was not old, -1 refused.  NULL:
	 * L0 never updates L1's memory atomically (EPT12's A/D flags stay).
	 */
	int (*cmpxchg8)(void *ctx, uint64_t gpa, uint64_t old, uint64_t new_val);
	/*
	 * Told of a linear access refused in this memory (guest_paging's
	 * refused, mm/guest_walk.h); NULL for L1's own memory, where a
	 * refusal is L0's #GP(0).  L2's memory under L1's EPT has one: a
	 * refusal there may be L1's EPT violation (nested/ept12.h).
	 */
	bool (*refused)(void *ctx, const struct guest_walk *w);
};

/*
 * L1's paging from the current VMCS's guest state (CR0, CR3, CR4, EFER,
 * RFLAGS.AC, and with EPT the PDPTEs the exit saved for PAE paging: SDM
 * Vol. 3A 4.4.1), reaching memory through mem.
 */
void l1_paging_of_current(struct guest_paging *g, const struct l1_memory *mem);

/*
 * Reads up to X86_INSN_MAX bytes at CS:RIP of the current VMCS's guest as
 * an instruction fetch through L1's paging; the bytes that a fault or a
 * refused page cuts off are simply not there (a decoder then refuses a
 * truncated instruction).  Returns how many.
 */
unsigned l1_fetch_insn(uint8_t *buf, enum x86_code_size cs, const struct l1_memory *mem);

struct nested_operand_env;
struct guest_regs;

/*
 * L1's mode, registers and segments from the current VMCS's guest state,
 * for the operand and segment checks of nested/operand.h (a VMX
 * instruction's memory operand, an INS/OUTS element).
 */
void l1_operand_env_of_current(struct nested_operand_env *e, const struct guest_regs *r);

/*
 * The l1_memory the exit handlers use: in the core l1_memory_ept01()
 * (defined in vmx/launch.c beside g_l0); the host unit tests link their
 * own (tests/unit/hw_fake.c).
 */
const struct l1_memory *l0_l1_memory(void);

/*
 * EPT01 at L1's physical address gpa1 (EPT01 is the identity, mm/ept.h):
 * false where it maps nothing (L0's memory, beyond the top), else the
 * rights of the page (EPT_READ | EPT_WRITE | EPT_EXEC), its memory type
 * and the level of its leaf (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB: the same
 * rights and type hold across it).  In the core beside g_l0
 * (vmx/launch.c); the unit tests link their own (tests/unit/hw_fake.c).
 */
bool l0_ept01_lookup(uint64_t gpa1, unsigned *rights, unsigned *memtype, unsigned *level);

/*
 * L1's memory as EPT01 grants it (vmx/l1_memory.c): each access walks the
 * EPT at g_l0.eptp as it is then, and reads or writes through L0's
 * identity map only if every page of [gpa, gpa + len) is mapped with the
 * access's rights (read; read and write); otherwise it copies nothing and
 * fails.  A range that wraps past 2^64 fails; len 0 succeeds.  maxphyaddr
 * is g_l0.maxphyaddr at the call.
 */
const struct l1_memory *l1_memory_ept01(void);

#endif
