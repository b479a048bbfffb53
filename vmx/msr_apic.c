/*
 * msr_apic.c - the local APIC's MSR rows: IA32_APIC_BASE (validated, kept
 * per CPU) and the x2APIC registers (reasons in docs/l0.md "MSRs" and
 * "Starting APs").
 */
#include "msr_rows.h"

#include "ap_start.h"
#include "arch/x86/msr.h"
#include "ept01.h"
#include "hw_ops.h"
#include "vcpu.h"

static bool apic_x2apic_mode(const struct l1_msrs *m)
{
	return (m->apic_base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) ==
	       (APIC_BASE_ENABLE | APIC_BASE_X2APIC);
}

bool rd_apic_base(struct msr_call *c, uint64_t *value)
{
	*value = c->v->msrs.apic_base;
	return true;
}

/*
 * IA32_APIC_BASE (SDM Vol. 3A 11.4.4, 11.12.1, 11.12.5): reserved bits
 * (7:0, 9, MAXPHYADDR and up), the invalid state "x2APIC, disabled", and
 * the transitions x2APIC -> xAPIC and disabled -> x2APIC are #GP(0).
 * L0's own refusals: an APIC page that would lie in L0's memory (L0
 * writes the ICR there to send its IPIs, and the APIC would overlay L0's
 * pages) or beyond L0's identity map (L0 could not reach it).  BSP is the
 * CPU's.  L0 writes the validated value and keeps it: the kept base is
 * the only one L0 uses (hw_send_ipi, the xAPIC page).
 */
bool wr_apic_base(struct msr_call *c, uint64_t value)
{
	const struct msr_policy *p = c->p;
	uint64_t old = c->v->msrs.apic_base;
	uint64_t reserved =
		~(APIC_BASE_BSP | APIC_BASE_X2APIC | APIC_BASE_ENABLE | phys_page_mask(p));
	if (value & reserved)
		return refuse(c, "reserved bits set");
	bool en = value & APIC_BASE_ENABLE, x2 = value & APIC_BASE_X2APIC;
	if (x2 && !en)
		return refuse(c, "x2APIC mode with the APIC disabled is invalid");
	if (en && !x2 && apic_x2apic_mode(&c->v->msrs))
		return refuse(c, "x2APIC to xAPIC mode without disabling the APIC first");
	if (en && x2 && !(old & APIC_BASE_ENABLE))
		return refuse(c, "disabled to x2APIC mode without xAPIC mode first");
	uint64_t base = value & APIC_BASE_ADDR_MASK;
	if (p->hv_size && base < p->hv_base + p->hv_size && base + PAGE_4K > p->hv_base)
		return refuse(c, "the APIC page would lie in L0's memory");
	if (base + PAGE_4K > p->map_end)
		return refuse(c, "the APIC page would lie beyond L0's identity map");
	value = (value & ~APIC_BASE_BSP) | (old & APIC_BASE_BSP);
	if (!hw_wrmsr_safe(MSR_IA32_APIC_BASE, value))
		return refuse(c, "the CPU refused the value");
	__atomic_store_n(&c->v->msrs.apic_base, value, __ATOMIC_RELEASE);
	/* A moved page: the old one is writable again once no CPU keeps its APIC there. */
	if ((old ^ value) & APIC_BASE_ADDR_MASK)
		ept01_apic_base_moved(c->v);
	return true;
}

/* x2APIC registers: #GP(0) unless the APIC is in x2APIC mode (SDM Vol. 3A 11.12.1). */
bool rd_x2apic(struct msr_call *c, uint64_t *value)
{
	if (!apic_x2apic_mode(&c->v->msrs))
		return refuse(c, "the APIC is not in x2APIC mode");
	return rd_cpu(c, value);
}

bool wr_x2apic(struct msr_call *c, uint64_t value)
{
	if (!apic_x2apic_mode(&c->v->msrs))
		return refuse(c, "the APIC is not in x2APIC mode");
	return wr_cpu(c, value);
}

/* The x2APIC ICR: INIT and SIPI to CPUs under L0 are L0's (ap_start.h). */
bool wr_x2apic_icr(struct msr_call *c, uint64_t value)
{
	if (!apic_x2apic_mode(&c->v->msrs))
		return refuse(c, "the APIC is not in x2APIC mode");
	if (value & X2APIC_ICR_RESERVED)
		return refuse(c, "reserved ICR bits set");
	struct ipi ipi = { (uint32_t)value, (uint32_t)(value >> 32), true };
	if (ap_start_icr_write(c->v, &ipi))
		return true;
	return wr_cpu(c, value);
}
