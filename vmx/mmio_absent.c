/*
 * mmio_absent.c - L1's MOVs to MMIO that is not there (see mmio_absent.h).
 */
#include "mmio_absent.h"

#include "arch/x86/decode_store.h"
#include "drivers/serial/log.h"
#include "exit.h"
#include "vmcs.h"

bool mmio_absent_access(struct vcpu *v, struct guest_regs *r, uint64_t gpa,
			const struct l1_memory *mem)
{
	uint8_t insn[X86_INSN_MAX] = { 0 };
	enum x86_code_size cs = vmx_guest_code_size();
	unsigned n = l1_fetch_insn(insn, cs, mem);
	struct x86_store s;
	if (!x86_decode_mov(insn, n, cs, &s))
		return false;
	if (s.is_load)
		vmx_gpr_write(r, s.reg, x86_load_result(&s, vmx_gpr_read(r, s.reg), ~0ull));
	if (vmx_count_refusal(v))
		log_warn("CPU %u: L1 %u-byte %s at GPA 0x%llx (RIP 0x%llx) is a VT-d unit's registers "
			 "(L0's): %s, as MMIO that is not there (refusal %llu)",
			 v->index, s.width, s.is_load ? "read" : "write", (unsigned long long)gpa,
			 (unsigned long long)vmcs_read(VMCS_GUEST_RIP),
			 s.is_load ? "reads as all ones" : "dropped",
			 (unsigned long long)v->l0_refusals);
	vmx_skip_instruction_len(s.len);
	return true;
}
