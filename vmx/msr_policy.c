/*
 * msr_policy.c - L1's MSR view (policy in msr_policy.h).
 */
#include "msr_policy.h"

#include "arch/x86/msr.h"
#include "nested/vmx_msrs.h"

static bool is_vmx_capability_msr(uint32_t msr)
{
	return msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_VMFUNC;
}

enum msr_action msr_policy_read(const struct msr_policy *p, uint32_t msr, uint64_t *value)
{
	if (msr == MSR_IA32_FEATURE_CONTROL) {
		*value = FEATURE_CONTROL_LOCK | (p->nested ? FEATURE_CONTROL_VMX_OUTSIDE_SMX : 0);
		return MSR_EMULATED;
	}
	if (is_vmx_capability_msr(msr))
		return p->l1_vmx && nested_vmx_msr_read(p->l1_vmx, msr, value) ? MSR_EMULATED
									: MSR_INJECT_GP;
	return MSR_PASSTHROUGH;
}

enum msr_action msr_policy_write(const struct msr_policy *p, uint32_t msr, uint64_t value)
{
	(void)p;
	(void)value;
	/* SDM Vol. 4: writing IA32_FEATURE_CONTROL once locked is #GP(0). */
	if (msr == MSR_IA32_FEATURE_CONTROL || is_vmx_capability_msr(msr))
		return MSR_INJECT_GP;
	return MSR_PASSTHROUGH;
}

/*
 * SDM Vol. 3C 25.6.9: read bitmap for 0..0x1fff at offset 0, for
 * 0xc0000000..0xc0001fff at 1024; write bitmaps at 2048 and 3072.
 */
static long bitmap_bit(uint32_t msr, bool write)
{
	long base;
	if (msr <= 0x1fff)
		base = 0;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		base = 1024 * 8;
	else
		return -1;
	return base + (write ? 2048 * 8 : 0) + (long)(msr & 0x1fff);
}

static void intercept_access(uint8_t *bitmap, uint32_t msr, bool write)
{
	long bit = bitmap_bit(msr, write);
	bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

static void intercept(uint8_t *bitmap, uint32_t msr)
{
	intercept_access(bitmap, msr, false);
	intercept_access(bitmap, msr, true);
}

void msr_bitmap_build(uint8_t *bitmap)
{
	intercept(bitmap, MSR_IA32_FEATURE_CONTROL);
	intercept_access(bitmap, MSR_X2APIC_ICR, true); /* writes only: reads are harmless */
	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_VMFUNC; msr++)
		intercept(bitmap, msr);
}

bool msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write)
{
	long bit = bitmap_bit(msr, write);
	if (bit < 0)
		return true;
	return bitmap[bit / 8] & (1u << (bit % 8));
}
