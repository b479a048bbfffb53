/*
 * vpid.c - L1's VPIDs mapped to L0's, and the flushes of VM entries and
 * exits (vpid.h).
 */
#include "vpid.h"

#include "nested/entry_checks.h"
#include "vmx/hw_ops.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

_Static_assert(L1_VPID != 0 && L2_VPID != 0 && L1_VPID != L2_VPID, "L0's own VPIDs");
_Static_assert(NESTED_VPID02_FIRST > L1_VPID && NESTED_VPID02_FIRST > L2_VPID,
	       "no slot gets L1's or the shared L2 VPID");
_Static_assert(NESTED_VPID02_FIRST + NESTED_VPID_SLOTS - 1 <= 0xffff, "VPIDs are 16 bits");

static uint16_t vpid02_of_slot(unsigned i)
{
	return (uint16_t)(NESTED_VPID02_FIRST + i);
}

static int slot_of(const struct nested_vpid_map *m, uint16_t vpid12)
{
	for (unsigned i = 0; i < NESTED_VPID_SLOTS; i++)
		if (m->vpid12[i] == vpid12)
			return (int)i;
	return -1;
}

/* A free slot (the first), else the least recently used (the first of equals). */
static unsigned victim(const struct nested_vpid_map *m)
{
	unsigned best = 0;
	for (unsigned i = 0; i < NESTED_VPID_SLOTS; i++) {
		if (!m->vpid12[i])
			return i;
		if (m->last_use[i] < m->last_use[best])
			best = i;
	}
	return best;
}

uint16_t nested_vpid02(struct nested_vpid_map *m, uint16_t vpid12)
{
	int s = slot_of(m, vpid12);
	if (s < 0) {
		s = (int)victim(m);
		/* Whatever the slot's vpid02 cached (an evicted vpid12's, or older) goes first. */
		hw_invvpid_single(vpid02_of_slot((unsigned)s));
		m->vpid12[s] = vpid12;
	}
	m->last_use[s] = ++m->clock;
	return vpid02_of_slot((unsigned)s);
}

uint16_t nested_vpid02_mapped(const struct nested_vpid_map *m, uint16_t vpid12)
{
	int s = vpid12 ? slot_of(m, vpid12) : -1;
	return s < 0 ? 0 : vpid02_of_slot((unsigned)s);
}

void nested_vpid_flush(const struct nested_vpid_map *m, uint16_t vpid12)
{
	uint16_t vpid02 = nested_vpid02_mapped(m, vpid12);
	if (vpid02)
		hw_invvpid_single(vpid02);
}

void nested_vpid_flush_all(const struct nested_vpid_map *m)
{
	for (unsigned i = 0; i < NESTED_VPID_SLOTS; i++)
		if (m->vpid12[i])
			hw_invvpid_single(vpid02_of_slot(i));
	hw_invvpid_single(L2_VPID);
}

void nested_vpid_reset(struct nested_vpid_map *m)
{
	for (unsigned i = 0; i < NESTED_VPID_SLOTS; i++)
		if (m->vpid12[i])
			hw_invvpid_single(vpid02_of_slot(i));
	*m = (struct nested_vpid_map){0};
}

uint16_t nested_vpid12(const struct vmcs12 *v12)
{
	if (!(nentry_proc2(v12) & CPU2_ENABLE_VPID))
		return 0;
	return (uint16_t)vmcs12_get(v12, VMCS_VIRTUAL_PROCESSOR_ID);
}

uint16_t nested_vpid_entry(struct nested_vpid_map *m, const struct vmcs12 *v12)
{
	uint16_t vpid12 = nested_vpid12(v12);
	if (vpid12)
		return nested_vpid02(m, vpid12);
	hw_invvpid_single(L2_VPID);
	return L2_VPID;
}

void nested_vpid_exit(const struct vmcs12 *v12)
{
	if (!nested_vpid12(v12))
		hw_invvpid_single(L1_VPID);
}
