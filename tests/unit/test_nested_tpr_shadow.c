/*
 * test_nested_tpr_shadow.c - the VM-entry checks on the virtual-APIC page
 * that read L1's memory (nested/tpr_shadow.c): L0's refusal of a page
 * that is not L1's, and SDM 27.2.1.1's TPR threshold against VTPR.
 */
#include "nested/tpr_shadow.h"
#include "test.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#include <string.h>

#define L1_PAGE 0x30000ull
static uint8_t page[4096];
static uint64_t last_gpa;

/* The one page at L1_PAGE is L1's memory; every other address is not. */
static bool rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	last_gpa = gpa;
	if (gpa < L1_PAGE || gpa + len > L1_PAGE + sizeof(page))
		return false;
	memcpy(buf, page + (gpa - L1_PAGE), len);
	return true;
}

static const struct l1_memory mem = { rd, NULL, NULL, 39, NULL, NULL };
static struct vmcs12 v;

static struct nested_entry_check with(uint64_t addr, uint64_t threshold, uint8_t vtpr)
{
	memset(page, 0, sizeof(page));
	page[VAPIC_VTPR] = vtpr;
	vmcs12_set(&v, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_USE_TPR_SHADOW);
	vmcs12_set(&v, VMCS_VIRTUAL_APIC_PAGE_ADDR, addr);
	vmcs12_set(&v, VMCS_TPR_THRESHOLD, threshold);
	return nested_check_virtual_apic(&v, &mem);
}

TEST(tpr_shadow_threshold_vs_vtpr)
{
	memset(&v, 0, sizeof(v));
	CHECK_EQ(with(L1_PAGE, 0, 0).result, NENTRY_OK);
	CHECK_EQ(last_gpa, L1_PAGE + 0x80);
	CHECK_EQ(with(L1_PAGE, 5, 0x50).result, NENTRY_OK);  /* equal: not below */
	CHECK_EQ(with(L1_PAGE, 5, 0x5f).result, NENTRY_OK);  /* VTPR[3:0] ignored */
	CHECK_EQ(with(L1_PAGE, 0xf, 0xf0).result, NENTRY_OK);
	struct nested_entry_check c = with(L1_PAGE, 6, 0x5f);
	CHECK_EQ(c.result, NENTRY_VMFAIL_CONTROL);
	CHECK_STR(c.sdm, "SDM 27.2.1.1");
	CHECK(c.what && strstr(c.what, "TPR_THRESHOLD bits 3:0 must not exceed VTPR"));
	CHECK_EQ(with(L1_PAGE, 1, 0x0f).result, NENTRY_VMFAIL_CONTROL);
	/* Only the byte at 80H counts. */
	memset(page, 0xff, sizeof(page));
	page[VAPIC_VTPR] = 0;
	vmcs12_set(&v, VMCS_TPR_THRESHOLD, 1);
	CHECK_EQ(nested_check_virtual_apic(&v, &mem).result, NENTRY_VMFAIL_CONTROL);
}

TEST(tpr_shadow_page_must_be_l1s)
{
	memset(&v, 0, sizeof(v));
	struct nested_entry_check c = with(L1_PAGE + 0x1000, 0, 0);
	CHECK_EQ(c.result, NENTRY_VMFAIL_CONTROL);
	CHECK_STR(c.sdm, "L0, SDM 27.2.1.1");
	CHECK(c.what && strstr(c.what, "not L1's memory"));
	CHECK_EQ(with(0, 0, 0).result, NENTRY_VMFAIL_CONTROL);
}

TEST(tpr_shadow_nothing_without_the_control)
{
	memset(&v, 0, sizeof(v));
	last_gpa = 0;
	vmcs12_set(&v, VMCS_VIRTUAL_APIC_PAGE_ADDR, 0xdead000);
	vmcs12_set(&v, VMCS_TPR_THRESHOLD, 0xf);
	vmcs12_set(&v, VMCS_CPU_BASED_VM_EXEC_CONTROL, ~CPU_USE_TPR_SHADOW);
	CHECK_EQ(nested_check_virtual_apic(&v, &mem).result, NENTRY_OK);
	CHECK_EQ(last_gpa, 0);
}

/*
 * SDM 27.2.1.1: the threshold is checked against VTPR only while
 * "virtualize APIC accesses" is 0 (and activated); the page must be
 * L1's either way (L0's rule).
 */
TEST(tpr_shadow_no_vtpr_check_with_apic_accesses)
{
	memset(&v, 0, sizeof(v));
	vmcs12_set(&v, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_VIRTUALIZE_APIC_ACCESSES);
	CHECK_EQ(with(L1_PAGE, 6, 0x5f).result, NENTRY_VMFAIL_CONTROL); /* not activated */
	vmcs12_set(&v, VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_USE_TPR_SHADOW | CPU_ACTIVATE_SECONDARY);
	CHECK_EQ(nested_check_virtual_apic(&v, &mem).result, NENTRY_OK);
	vmcs12_set(&v, VMCS_VIRTUAL_APIC_PAGE_ADDR, L1_PAGE + 0x1000);
	CHECK_EQ(nested_check_virtual_apic(&v, &mem).result, NENTRY_VMFAIL_CONTROL);
}
