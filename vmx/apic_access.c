/*
 * apic_access.c - finishing L1's stores to the write-protected xAPIC page
 * (see apic_access.h).
 */
#include "apic_access.h"

#include "ap_start.h"
#include "arch/x86/decode_store.h"
#include "arch/x86/msr.h"
#include "drivers/serial/log.h"
#include "exit.h"
#include "hw_ops.h"
#include "mm/page_alloc.h"
#include "vmcs.h"
#include "vmx_arch.h"

void apic_access_write(struct vcpu *v, struct guest_regs *r, uint64_t gpa,
		       const struct l1_memory *mem)
{
	uint8_t insn[X86_INSN_MAX] = { 0 };
	enum x86_code_size cs = vmx_guest_code_size();
	unsigned n = l1_fetch_insn(insn, cs, mem);
	struct x86_store s;
	if (!x86_decode_store(insn, n, cs, &s)) {
		/* Rate-limited as L0's other refusals: an L1 in a loop must not flood the log. */
		v->apic_store_refusals++;
		if (v->apic_store_refusals <= 16 || (v->apic_store_refusals & 1023) == 0)
			log_error("CPU %u: L1 store to its local APIC at 0x%llx by an instruction L0 "
				  "cannot finish (RIP 0x%llx, %u bytes fetched: %02x %02x %02x %02x "
				  "%02x %02x): #GP(0) to L1 (refusal %llu)",
				  v->index, (unsigned long long)gpa,
				  (unsigned long long)vmcs_read(VMCS_GUEST_RIP), n, insn[0], insn[1],
				  insn[2], insn[3], insn[4], insn[5],
				  (unsigned long long)v->apic_store_refusals);
		vmx_inject_gp0();
		return;
	}
	uint64_t gpr[GPR_COUNT];
	for (unsigned i = 0; i < GPR_COUNT; i++)
		gpr[i] = vmx_gpr_read(r, i);
	uint64_t value = x86_store_value(&s, gpr);

	bool taken = false;
	uint64_t page = gpa & ~(PAGE_SIZE - 1);
	/*
	 * The page is L1's APIC only while the base L0 keeps says so: xAPIC
	 * mode at this address (SDM Vol. 3A 11.4.4, 11.12.1).  Otherwise the
	 * store is plain memory (or ignored by the APIC), never an IPI.
	 */
	uint64_t base = v->msrs.apic_base;
	bool xapic_here = (base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) == APIC_BASE_ENABLE &&
			  (base & APIC_BASE_ADDR_MASK) == page;
	if (xapic_here && (gpa & (PAGE_SIZE - 1)) == XAPIC_ICR_LOW && s.width == 4) {
		/* SDM Vol. 3A 11.6.1: the write to the low half sends the IPI. */
		struct ipi ipi = {
			.low = (uint32_t)value,
			.dest = hw_mmio_read32(page + XAPIC_ICR_HIGH) >> XAPIC_DEST_SHIFT,
			.x2apic = false,
		};
		taken = ap_start_icr_write(v, &ipi);
	}
	if (!taken)
		hw_mmio_write(gpa, s.width, value);
	vmx_skip_instruction_len(s.len);
}
