/*
 * test_nested_apic_virt.c - "virtualize APIC accesses" for L2
 * (nested/apic_virt.c, prepare02.c): L0's rule on the APIC-access page
 * (a page EPT01 grants L1 read, write and execute, else VMfailValid 7)
 * and vmcs02's APIC-access address, vmcs12's unchanged.
 */
#include "nested/apic_virt.h"
#include "test.h"
#include "vmx/vcpu.h"
#include "vmx/msr_policy.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#include <string.h>

/* A fake EPT01: L0 at 0x100000 (unmapped), the xAPIC page read-only, 4 GiB of the rest RWX. */
#define L0_PAGE 0x100000ull
#define XAPIC_PAGE 0xfee00000ull
static uint64_t last_lookup;

static bool ept01(uint64_t gpa1, unsigned *rights, unsigned *memtype, unsigned *level)
{
	last_lookup = gpa1;
	*memtype = 6;
	*level = 1;
	if ((gpa1 & ~0xfffull) == L0_PAGE || gpa1 >= (1ull << 32))
		return false;
	*rights = (gpa1 & ~0xfffull) == XAPIC_PAGE ? EPT_READ : EPT_RWX;
	return true;
}

static struct vmcs12 v;

static struct nested_entry_check with(uint32_t proc, uint32_t proc2, uint64_t addr)
{
	memset(&v, 0, sizeof(v));
	vmcs12_set(&v, VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs12_set(&v, VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs12_set(&v, VMCS_APIC_ACCESS_ADDR, addr);
	last_lookup = ~0ull;
	return nested_check_apic_access(&v, ept01);
}

TEST(apic_access_page_must_be_l1s_memory)
{
	const uint32_t act = CPU_ACTIVATE_SECONDARY, va = CPU2_VIRTUALIZE_APIC_ACCESSES;
	CHECK_EQ(with(act, va, 0x9000).result, NENTRY_OK);
	CHECK_EQ(last_lookup, 0x9000);
	CHECK_EQ(with(act | CPU_USE_TPR_SHADOW, va, 0xfedff000ull).result, NENTRY_OK);
	struct nested_entry_check c = with(act, va, L0_PAGE);
	CHECK_EQ(c.result, NENTRY_VMFAIL_CONTROL);
	CHECK_STR(c.sdm, "L0, SDM 27.2.1.1");
	CHECK(c.what && strstr(c.what, "APIC_ACCESS_ADDR is not L1's memory"));
	CHECK_EQ(with(act, va, 1ull << 32).result, NENTRY_VMFAIL_CONTROL); /* beyond EPT01 */
	CHECK_EQ(with(act, va, XAPIC_PAGE).result, NENTRY_VMFAIL_CONTROL); /* read-only */
}

TEST(apic_access_page_nothing_without_the_control)
{
	CHECK_EQ(with(CPU_ACTIVATE_SECONDARY, 0, L0_PAGE).result, NENTRY_OK);
	CHECK_EQ(last_lookup, ~0ull);
	/* Not activated: the secondary controls count as 0 (SDM 25.6.2). */
	CHECK_EQ(with(CPU_USE_TPR_SHADOW, CPU2_VIRTUALIZE_APIC_ACCESSES, L0_PAGE).result,
		 NENTRY_OK);
	CHECK_EQ(last_lookup, ~0ull);
	/* x2APIC mode has no page. */
	CHECK_EQ(with(CPU_ACTIVATE_SECONDARY | CPU_USE_TPR_SHADOW, CPU2_VIRTUALIZE_X2APIC, L0_PAGE)
		     .result,
		 NENTRY_OK);
}

/*
 * "Virtualize x2APIC mode" relies on L0's MSR table passing the x2APIC
 * TPR (808H) through both ways (nested/apic_virt.h): vmcs02's merged
 * bitmap then lets L2's RDMSR/WRMSR of it through exactly where L1's
 * bitmap does, for the CPU to virtualize (SDM 29.5).  Should L0 ever
 * intercept it, that exit would reach L0's x2APIC handler, not VTPR.
 */
TEST(apic_x2apic_tpr_passes_l0s_bitmap)
{
	static uint8_t bitmap[4096];
	msr_bitmap_build(bitmap);
	CHECK(!msr_bitmap_exits(bitmap, 0x808, false));
	CHECK(!msr_bitmap_exits(bitmap, 0x808, true));
}
