/*
 * ept12.c - L1's EPT in the entry and exit paths (see ept12.h).
 */
#include "ept12.h"

#include "drivers/serial/log.h"
#include "mm/ept.h"
#include "nested/ept02.h"
#include "nested/ept_exit.h"
#include "nested/nested.h"
#include "nested/run.h"
#include "vmx/ept01.h"
#include "vmx/exit.h"
#include "vmx/hw_ops.h"
#include "vmx/l0.h"
#include "vmx/l1_memory.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

bool nested_ept12_enabled(const struct vmcs12 *v12)
{
	return (VMCS12_FIELD(v12, CPU_BASED_VM_EXEC_CONTROL) & CPU_ACTIVATE_SECONDARY) &&
	       (VMCS12_FIELD(v12, SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_EPT);
}

/* Every root of v's EPT02 invalidated on this CPU, then dropped. */
static void drop_all_roots(struct nested_vcpu *nv)
{
	for (unsigned i = 0; i < EPT02_ROOTS; i++)
		if (nv->ept02.root[i].pml4)
			hw_invept_single(ept_eptp(nv->ept02.root[i].pml4, false));
	ept02_drop_all(&nv->ept02);
}

uint64_t nested_ept_eptp02(struct vcpu *v, uint64_t eptp12)
{
	struct nested_vcpu *nv = v->nested;
	uint64_t gen = ept01_generation();
	if (gen != nv->ept02_gen) {
		drop_all_roots(nv);
		nv->ept02_gen = gen;
	}
	uint64_t evicted, pml4 = ept02_root_for(&nv->ept02, eptp12, &evicted);
	if (evicted)
		hw_invept_single(ept_eptp(evicted, false));
	if (!pml4) {
		/* The page bound, with a slot free: the other roots' pages go, as for a full fill. */
		drop_all_roots(nv);
		pml4 = ept02_root_for(&nv->ept02, eptp12, &evicted);
	}
	if (!pml4) {
		log_error("nested: CPU %u: no page for an EPT02 root: L0 is out of memory", v->index);
		return 0;
	}
	/* As many levels as EPTP12 walks (4, or 5 where offered: SDM 29.3.2). */
	nv->eptp02 = (ept_eptp(pml4, eptp12 & EPTP_AD_ENABLE) & ~EPTP_WALK_LENGTH_MASK) |
		     (eptp12 & EPTP_WALK_LENGTH_MASK);
	return nv->eptp02;
}

/* ---- EPT12 and EPT01 for the decision ---- */

static bool read_entry(void *ctx, uint64_t pa, uint64_t *entry)
{
	const struct l1_memory *mem = ctx;
	return mem->read(mem->ctx, pa, entry, sizeof(*entry));
}

static enum ept_walk_cas cmpxchg_entry(void *ctx, uint64_t pa, uint64_t old, uint64_t new_val)
{
	const struct l1_memory *mem = ctx;
	int r = mem->cmpxchg8 ? mem->cmpxchg8(mem->ctx, pa, old, new_val) : -1;
	return r == 0 ? EPT_WALK_CAS_DONE : r > 0 ? EPT_WALK_CAS_CHANGED : EPT_WALK_CAS_FAILED;
}

/* EPT01 is the identity (mm/ept.h): its rights and type at gpa1. */
static bool ept01_at(void *ctx, uint64_t gpa1, unsigned *rights, unsigned *memtype,
		     unsigned *level)
{
	(void)ctx;
	return l0_ept01_lookup(gpa1, rights, memtype, level);
}

/* EPT02's largest leaf: what the CPU's EPT has (SDM Vol. 3D A.10). */
static unsigned max_level02(void)
{
	uint64_t cap = g_l0.caps.ept_vpid_cap;
	return (cap & EPT_CAP_PAGE_1G) ? 3 : (cap & EPT_CAP_PAGE_2M) ? 2 : 1;
}

/* How L0 walks EPT12: with what L1 is offered, over L1's memory. */
struct walk12 {
	struct ept_walk_caps caps;
	struct ept_walk_mem mem;
};

static void walk12_of_l1(struct walk12 *w)
{
	uint64_t cap = g_l0.l1_vmx.ept_vpid_cap;
	*w = (struct walk12){
		.caps = {
			.execute_only = cap & EPT_CAP_EXECUTE_ONLY,
			.page_2m = cap & EPT_CAP_PAGE_2M,
			.page_1g = cap & EPT_CAP_PAGE_1G,
			.maxphyaddr = g_l0.maxphyaddr,
		},
		.mem = { read_entry, cmpxchg_entry, (void *)l0_l1_memory() },
	};
}

/*
 * L2's access to an L1 physical page that EPT01 does not grant it (L0's
 * memory, L1's read-only xAPIC page written): refused as L1's own access
 * there is (vmx/exit_event.c), #GP(0) at L2's instruction.
 */
static void refuse(struct vcpu *v, uint64_t gpa2, uint64_t gpa1, uint64_t q)
{
	if (vmx_count_refusal(v))
		log_warn("nested: CPU %u: L2 %s at GPA 0x%llx, L1 physical 0x%llx through L1's EPT, "
			 "which L1 may not access so: refused, #GP(0) to L2 (refusal %llu)",
			 v->index, (q & EPT_QUAL_WRITE) ? "write" : (q & EPT_QUAL_FETCH) ? "fetch" : "read",
			 (unsigned long long)gpa2, (unsigned long long)gpa1,
			 (unsigned long long)v->l0_refusals);
	vmx_refuse_ept_access(q);
}

static void map(struct vcpu *v, uint64_t eptp12, uint64_t gpa2,
		const struct nested_ept_decision *d)
{
	struct nested_vcpu *nv = v->nested;
	uint64_t pml4 = nv->eptp02 & EPT_ADDR_MASK;
	uint64_t size = 1ull << (12 + 9 * (d->level - 1));
	uint64_t page2 = gpa2 & ~(size - 1), page1 = d->gpa1 & ~(size - 1);
	switch (ept02_map(&nv->ept02, pml4, page2, page1, d->level, d->rights, d->memtype,
			  d->ipat)) {
	case EPT02_MAPPED:
		return;
	case EPT02_UPGRADED:
		/* The CPU may cache the leaf with fewer rights (SDM 29.4.1). */
		hw_invept_single(nv->eptp02);
		return;
	case EPT02_FULL:
		break;
	}
	/* Out of table pages: start over with an empty root (the reserve makes one leaf). */
	drop_all_roots(nv);
	uint64_t eptp02 = nested_ept_eptp02(v, eptp12);
	if (!eptp02)
		return;
	vmcs_write(VMCS_EPT_POINTER, eptp02);
	if (ept02_map(&nv->ept02, eptp02 & EPT_ADDR_MASK, page2, page1, d->level, d->rights,
		      d->memtype, d->ipat) == EPT02_FULL)
		log_error("nested: CPU %u: EPT02 full even after a drop", v->index);
}

bool nested_ept_exit(struct vcpu *v, struct guest_regs *r, uint32_t basic, uint32_t *reason12,
		     uint64_t *qual12)
{
	(void)r;
	struct nested_vcpu *nv = v->nested;
	uint64_t eptp12 = VMCS12_FIELD(nv->cpu.vmcs12, EPT_POINTER);
	uint64_t gpa2 = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	if (basic == EXIT_REASON_EPT_MISCONFIG) {
		/* EPT02 is L0's own making: a misconfiguration there is L0's bug. */
		log_error("nested: CPU %u: EPT02 misconfigured at L2 GPA 0x%llx: L0's bug; EPT02 "
			  "rebuilt",
			  v->index, (unsigned long long)gpa2);
		drop_all_roots(nv);
		uint64_t eptp02 = nested_ept_eptp02(v, eptp12);
		if (eptp02)
			vmcs_write(VMCS_EPT_POINTER, eptp02);
		return false;
	}
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	struct walk12 w12;
	walk12_of_l1(&w12);
	const struct nested_ept_env env = {
		.caps12 = &w12.caps,
		.mem12 = &w12.mem,
		.ept01 = ept01_at,
		.advanced_info = g_l0.l1_vmx.ept_vpid_cap & EPT_CAP_ADVANCED_INFO,
		.max_level02 = max_level02(),
	};
	struct nested_ept_decision d;
	nested_ept_decide(&env, eptp12, gpa2, q, &d);
	if (d.ad_failed)
		log_warn("nested: CPU %u: EPT12's accessed/dirty flags for L2 GPA 0x%llx could not "
			 "be set (a table L0 may not write)",
			 v->index, (unsigned long long)gpa2);
	switch (d.action) {
	case NEPT_L1_VIOLATION:
		*reason12 = EXIT_REASON_EPT_VIOLATION;
		*qual12 = d.qual12;
		return true;
	case NEPT_L1_MISCONFIG:
		*reason12 = EXIT_REASON_EPT_MISCONFIG;
		*qual12 = 0; /* SDM 28.2.1: no qualification for EPT misconfigurations */
		return true;
	case NEPT_REFUSE:
		refuse(v, gpa2, d.gpa1, q);
		return false;
	case NEPT_MAP:
		map(v, eptp12, gpa2, &d);
		return false;
	case NEPT_RETRY:
		return false;
	}
	return false;
}

void nested_ept_invept(void *ctx, unsigned type, uint64_t eptp12)
{
	struct vcpu *v = ctx;
	struct nested_vcpu *nv = v->nested;
	if (type == NESTED_INVEPT_ALL) {
		drop_all_roots(nv);
		return;
	}
	uint64_t pml4s[EPT02_ROOTS];
	unsigned n = ept02_drop(&nv->ept02, eptp12, pml4s);
	for (unsigned i = 0; i < n; i++)
		hw_invept_single(ept_eptp(pml4s[i], false));
}

/* ---- L2's memory through EPT12, for L0's own emulation (vmx/console.c) ---- */

/*
 * Each page of [gpa2, gpa2 + len) through EPT12 (the access's rights,
 * A/D flags as the CPU's access would set them) and then L1's memory.  A
 * page EPT12 does not grant is recorded (nv->ept12_fault) for the guest
 * walk to complete (l2_refused): L1's EPT violation.  One that leads to
 * memory L1 may not touch is refused like L1's own access there.
 */
static bool l2_copy(struct vcpu *v, uint64_t gpa2, void *buf, size_t len, bool write)
{
	struct nested_vcpu *nv = v->nested;
	const struct l1_memory *mem = l0_l1_memory();
	struct walk12 w12;
	walk12_of_l1(&w12);
	uint64_t eptp12 = VMCS12_FIELD(nv->cpu.vmcs12, EPT_POINTER);
	unsigned access = write ? EPT_ACCESS_WRITE : EPT_ACCESS_READ;
	uint8_t *p = buf;
	while (len) {
		size_t n = PAGE_SIZE - (gpa2 & (PAGE_SIZE - 1));
		if (n > len)
			n = len;
		struct ept_walk w;
		enum ept_walk_status st = ept_walk(eptp12, &w12.caps, &w12.mem, gpa2, access, &w);
		if (st == EPT_WALK_VIOLATION || st == EPT_WALK_MISCONFIG)
			nv->ept12_fault = (struct nested_ept12_fault){
				.walked = true,
				.misconfig = st == EPT_WALK_MISCONFIG,
				.access = access,
				.rights = w.rights,
				.gpa2 = gpa2,
			};
		if (st != EPT_WALK_OK)
			return false;
		bool ok = write ? mem->write(mem->ctx, w.pa, p, n) : mem->read(mem->ctx, w.pa, p, n);
		if (!ok)
			return false;
		gpa2 += n;
		p += n;
		len -= n;
	}
	return true;
}

static bool l2_read(void *ctx, uint64_t gpa2, void *buf, size_t len)
{
	return l2_copy(ctx, gpa2, buf, len, false);
}

static bool l2_write(void *ctx, uint64_t gpa2, const void *buf, size_t len)
{
	return l2_copy(ctx, gpa2, (void *)(uintptr_t)buf, len, true);
}

/* The guest walk's refusal: L1's fault when it is the one EPT12 made. */
static bool l2_refused(void *ctx, const struct guest_walk *gw)
{
	struct vcpu *v = ctx;
	struct nested_ept12_fault *f = &v->nested->ept12_fault;
	if (!f->walked || f->complete || (f->gpa2 >> 12) != (gw->failed_gpa >> 12))
		return false;
	f->complete = true;
	f->gla = gw->failed_la;
	f->paging = gw->failed_paging;
	f->la_rights = gw->failed_la_rights;
	return true;
}

const struct l1_memory *nested_guest_memory(struct vcpu *v)
{
	if (!nested_in_l2(v) || !nested_ept12_enabled(v->nested->cpu.vmcs12))
		return l0_l1_memory();
	struct nested_vcpu *nv = v->nested;
	nv->ept12_fault = (struct nested_ept12_fault){ 0 };
	nv->l2_mem = (struct l1_memory){ l2_read, l2_write, v, g_l0.maxphyaddr, NULL, l2_refused };
	return &nv->l2_mem;
}

bool nested_ept12_fault_take(struct vcpu *v, uint32_t *reason12, uint64_t *qual12,
			     uint64_t *gpa2, uint64_t *gla)
{
	struct nested_vcpu *nv = v->nested;
	struct nested_ept12_fault f = nv->ept12_fault;
	nv->ept12_fault = (struct nested_ept12_fault){ 0 };
	if (!f.complete)
		return false;
	uint64_t eptp12 = VMCS12_FIELD(nv->cpu.vmcs12, EPT_POINTER);
	*reason12 = nested_ept12_fault_exit(&f, g_l0.l1_vmx.ept_vpid_cap & EPT_CAP_ADVANCED_INFO,
					    eptp12 & EPTP_AD_ENABLE, qual12);
	*gpa2 = f.gpa2;
	*gla = f.gla;
	return true;
}
