/*
 * test_vmx_caps.c - vmx/caps.c: the VT-x availability decision and its
 * reasons, vmx_caps_read with a fake RDMSR backed by recorded MSR values
 * (Bochs' corei7_skylake_x model, and a CPU without secondary controls or
 * TRUE controls, whose optional MSRs must not be read: on hardware that is
 * a #GP), the decoded capabilities, and vmx_caps_print's summary lines.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "drivers/serial/log.h"
#include "vmx/caps.h"
#include "vmx/vmx_arch.h"

#include <string.h>

/* ---- availability ---- */

TEST(vmx_caps_availability)
{
	const uint32_t vmx = CPUID_1_ECX_VMX;
	CHECK_EQ(vmx, 1u << 5);
	/* No VMX bit: nothing else matters. */
	CHECK_EQ(vmx_availability(0, 0), VMX_NO_CPU_SUPPORT);
	CHECK_EQ(vmx_availability(~vmx, 0x5), VMX_NO_CPU_SUPPORT);
	/* Unlocked: the loader may enable it, whatever bits 1 and 2 say. */
	CHECK_EQ(vmx_availability(vmx, 0x0), VMX_NEEDS_ENABLE);
	CHECK_EQ(vmx_availability(vmx, 0x4), VMX_NEEDS_ENABLE);
	CHECK_EQ(vmx_availability(vmx, 0x6), VMX_NEEDS_ENABLE);
	/* Locked with bit 2 clear, including "only inside SMX" (bit 1). */
	CHECK_EQ(vmx_availability(vmx, 0x1), VMX_LOCKED_OFF);
	CHECK_EQ(vmx_availability(vmx, 0x3), VMX_LOCKED_OFF);
	CHECK_EQ(vmx_availability(vmx | 0x80000000u, 0xff01), VMX_LOCKED_OFF);
	/* Locked with bit 2 set. */
	CHECK_EQ(vmx_availability(vmx, 0x5), VMX_AVAILABLE);
	CHECK_EQ(vmx_availability(vmx, 0x7), VMX_AVAILABLE);
	CHECK_EQ(vmx_availability(0xffffffffu, 0xffffffffffffffffull), VMX_AVAILABLE);
}

TEST(vmx_caps_avail_reasons)
{
	const char *no = vmx_avail_reason(VMX_NO_CPU_SUPPORT);
	const char *off = vmx_avail_reason(VMX_LOCKED_OFF);
	const char *en = vmx_avail_reason(VMX_NEEDS_ENABLE);
	CHECK(strstr(no, "CPUID.1:ECX.VMX") != NULL);
	CHECK(strstr(off, "locked") != NULL);
	CHECK(strstr(off, "IA32_FEATURE_CONTROL") != NULL);
	CHECK(strstr(en, "unlocked") != NULL);
	CHECK_STR(no, "CPUID.1:ECX.VMX[bit 5] is 0 (this CPU, or the emulator, offers no VMX)");
	CHECK_STR(off, "IA32_FEATURE_CONTROL is locked with VMX outside SMX disabled "
		       "(enable Intel VT-x in the firmware setup)");
	CHECK_STR(en, "IA32_FEATURE_CONTROL is unlocked (VMX not yet enabled)");
	CHECK_STR(vmx_avail_reason(VMX_AVAILABLE), "available");
	CHECK_STR(vmx_avail_reason((enum vmx_avail)99), "?");
}

/* ---- a fake RDMSR ---- */

struct msr_val {
	uint32_t msr;
	uint64_t val;
};

/* Bochs 2.7 corei7_skylake_x. */
static const struct msr_val bochs_skx[] = {
    {MSR_IA32_VMX_BASIC, 0x00d810000000002bull},
    {MSR_IA32_VMX_PINBASED_CTLS, 0x0000007f00000016ull},
    {MSR_IA32_VMX_PROCBASED_CTLS, 0xf7f9fffe0401e172ull},
    {MSR_IA32_VMX_EXIT_CTLS, 0x007fffff00036dffull},
    {MSR_IA32_VMX_ENTRY_CTLS, 0x0000ffff000011ffull},
    {MSR_IA32_VMX_MISC, 0x00000000600401e0ull},
    {MSR_IA32_VMX_CR0_FIXED0, 0x80000021ull},
    {MSR_IA32_VMX_CR0_FIXED1, 0xffffffffull},
    {MSR_IA32_VMX_CR4_FIXED0, 0x2000ull},
    {MSR_IA32_VMX_CR4_FIXED1, 0x3727ffull},
    {MSR_IA32_VMX_VMCS_ENUM, 0x34ull},
    {MSR_IA32_VMX_PROCBASED_CTLS2, 0x02177fff00000000ull},
    {MSR_IA32_VMX_EPT_VPID_CAP, 0x00000f0106334141ull},
    {MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x0000007f00000016ull},
    {MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0xf7f9fffe04006172ull},
    {MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x007fffff00036dfbull},
    {MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x0000ffff000011fbull},
    {MSR_IA32_VMX_VMFUNC, 0x1ull},
    {0, 0},
};

/*
 * An older CPU: no secondary controls (PROCBASED allowed-1 bit 31 clear),
 * no TRUE controls (BASIC bit 55 clear), VMCS memory type UC.  Only the
 * MSRs it has are in the table.
 */
static const struct msr_val old_cpu[] = {
    {MSR_IA32_VMX_BASIC, 0x0001040000000007ull},
    {MSR_IA32_VMX_PINBASED_CTLS, 0x0000003f00000016ull},
    {MSR_IA32_VMX_PROCBASED_CTLS, 0x77f9fffe0401e172ull},
    {MSR_IA32_VMX_EXIT_CTLS, 0x0003ffff00036dffull},
    {MSR_IA32_VMX_ENTRY_CTLS, 0x00003fff000011ffull},
    {MSR_IA32_VMX_MISC, 0x00000000000403c0ull},
    {MSR_IA32_VMX_CR0_FIXED0, 0x80000021ull},
    {MSR_IA32_VMX_CR0_FIXED1, 0xffffffffull},
    {MSR_IA32_VMX_CR4_FIXED0, 0x2000ull},
    {MSR_IA32_VMX_CR4_FIXED1, 0x27ffull},
    {MSR_IA32_VMX_VMCS_ENUM, 0x2cull},
    {0, 0},
};

static const struct msr_val *msr_table;
static uint32_t msrs_read[64];
static int nread;
static int n_missing; /* reads of an MSR the table lacks: a #GP on hardware */

static uint64_t fake_rdmsr(uint32_t msr)
{
	if (nread < 64)
		msrs_read[nread] = msr;
	nread++;
	for (const struct msr_val *m = msr_table; m->msr; m++)
		if (m->msr == msr)
			return m->val;
	n_missing++;
	return 0xdeadbeefdeadbeefull;
}

static void read_caps(struct vmx_caps *c, const struct msr_val *table)
{
	msr_table = table;
	nread = 0;
	n_missing = 0;
	memset(c, 0xa5, sizeof(*c));
	vmx_caps_read(c, fake_rdmsr);
}

static bool was_read(uint32_t msr)
{
	for (int i = 0; i < nread && i < 64; i++)
		if (msrs_read[i] == msr)
			return true;
	return false;
}

TEST(vmx_caps_read_bochs)
{
	struct vmx_caps c;
	read_caps(&c, bochs_skx);
	CHECK_EQ(n_missing, 0);
	/* Every MSR 0x480..0x491 read exactly once. */
	CHECK_EQ(nread, 18);
	for (uint32_t m = MSR_IA32_VMX_BASIC; m <= MSR_IA32_VMX_VMFUNC; m++)
		CHECK(was_read(m));

	CHECK_EQ(c.basic, 0x00d810000000002bull);
	CHECK_EQ(c.pinbased, 0x0000007f00000016ull);
	CHECK_EQ(c.procbased, 0xf7f9fffe0401e172ull);
	CHECK_EQ(c.exit, 0x007fffff00036dffull);
	CHECK_EQ(c.entry, 0x0000ffff000011ffull);
	CHECK_EQ(c.misc, 0x00000000600401e0ull);
	CHECK_EQ(c.cr0_fixed0, 0x80000021ull);
	CHECK_EQ(c.cr0_fixed1, 0xffffffffull);
	CHECK_EQ(c.cr4_fixed0, 0x2000ull);
	CHECK_EQ(c.cr4_fixed1, 0x3727ffull);
	CHECK_EQ(c.vmcs_enum, 0x34ull);
	CHECK_EQ(c.procbased2, 0x02177fff00000000ull);
	CHECK_EQ(c.ept_vpid_cap, 0x00000f0106334141ull);
	CHECK_EQ(c.true_pinbased, 0x0000007f00000016ull);
	CHECK_EQ(c.true_procbased, 0xf7f9fffe04006172ull);
	CHECK_EQ(c.true_exit, 0x007fffff00036dfbull);
	CHECK_EQ(c.true_entry, 0x0000ffff000011fbull);
	CHECK_EQ(c.vmfunc, 0x1ull);
	CHECK_EQ(c.has_true, 1);
	CHECK_EQ(c.has_procbased2, 1);
	CHECK_EQ(c.has_ept_vpid_cap, 1);
	CHECK_EQ(c.has_vmfunc, 1);
	CHECK_EQ(c.reserved, 0);

	CHECK_EQ(vmx_caps_revision(&c), 0x2b);
	CHECK_EQ(vmx_caps_vmcs_size(&c), 4096);
}

TEST(vmx_caps_decode_bochs)
{
	struct vmx_caps c;
	read_caps(&c, bochs_skx);
	CHECK(vmx_caps_secondary_allowed(&c, CPU2_ENABLE_EPT));
	CHECK(vmx_caps_secondary_allowed(&c, CPU2_ENABLE_VPID));
	CHECK(vmx_caps_secondary_allowed(&c, CPU2_UNRESTRICTED_GUEST));
	CHECK(vmx_caps_secondary_allowed(&c, CPU2_VMCS_SHADOWING));
	CHECK(vmx_caps_secondary_allowed(&c, CPU2_ENABLE_PML));
	CHECK(vmx_caps_secondary_allowed(&c, CPU2_ENABLE_VMFUNC));
	CHECK(!vmx_caps_secondary_allowed(&c, 1u << 15)); /* allowed-1 bit 15 is 0 */
	CHECK(!vmx_caps_secondary_allowed(&c, 1u << 31));
	CHECK(vmx_caps_pin_allowed(&c, PIN_PREEMPTION_TIMER));
	CHECK(vmx_caps_pin_allowed(&c, PIN_EXTERNAL_INTERRUPT_EXITING));
	CHECK(vmx_caps_pin_allowed(&c, PIN_NMI_EXITING));
	CHECK(vmx_caps_pin_allowed(&c, PIN_VIRTUAL_NMIS));
	CHECK(!vmx_caps_pin_allowed(&c, PIN_POSTED_INTERRUPTS));
}

TEST(vmx_caps_pin_uses_true_msr)
{
	struct vmx_caps c;
	memset(&c, 0, sizeof(c));
	c.pinbased = (uint64_t)PIN_POSTED_INTERRUPTS << 32;
	c.true_pinbased = (uint64_t)PIN_PREEMPTION_TIMER << 32;
	CHECK(vmx_caps_pin_allowed(&c, PIN_POSTED_INTERRUPTS));
	CHECK(!vmx_caps_pin_allowed(&c, PIN_PREEMPTION_TIMER));
	c.has_true = 1;
	CHECK(!vmx_caps_pin_allowed(&c, PIN_POSTED_INTERRUPTS));
	CHECK(vmx_caps_pin_allowed(&c, PIN_PREEMPTION_TIMER));
	/* Allowed-0 (the low half) is not allowed-1. */
	c.true_pinbased = PIN_POSTED_INTERRUPTS;
	CHECK(!vmx_caps_pin_allowed(&c, PIN_POSTED_INTERRUPTS));
	/* Secondary controls are "not allowed" without the MSR. */
	c.procbased2 = 0xffffffff00000000ull;
	CHECK(!vmx_caps_secondary_allowed(&c, CPU2_ENABLE_EPT));
	c.has_procbased2 = 1;
	CHECK(vmx_caps_secondary_allowed(&c, CPU2_ENABLE_EPT));
}

TEST(vmx_caps_read_no_secondary_no_true)
{
	struct vmx_caps c;
	read_caps(&c, old_cpu);
	CHECK_EQ(n_missing, 0);
	CHECK_EQ(nread, 11);
	for (uint32_t m = MSR_IA32_VMX_BASIC; m <= MSR_IA32_VMX_VMCS_ENUM; m++)
		CHECK(was_read(m));
	CHECK(!was_read(MSR_IA32_VMX_PROCBASED_CTLS2)); /* 0x48b */
	CHECK(!was_read(MSR_IA32_VMX_EPT_VPID_CAP));	/* 0x48c */
	CHECK(!was_read(MSR_IA32_VMX_VMFUNC));		/* 0x491 */
	for (uint32_t m = MSR_IA32_VMX_TRUE_PINBASED_CTLS; m <= MSR_IA32_VMX_TRUE_ENTRY_CTLS; m++)
		CHECK(!was_read(m)); /* 0x48d..0x490 */

	CHECK_EQ(c.has_procbased2, 0);
	CHECK_EQ(c.has_ept_vpid_cap, 0);
	CHECK_EQ(c.has_vmfunc, 0);
	CHECK_EQ(c.has_true, 0);
	/* The absent MSRs are left 0, not garbage. */
	CHECK_EQ(c.procbased2, 0);
	CHECK_EQ(c.ept_vpid_cap, 0);
	CHECK_EQ(c.vmfunc, 0);
	CHECK_EQ(c.true_pinbased, 0);
	CHECK_EQ(c.true_entry, 0);
	CHECK_EQ(vmx_caps_revision(&c), 7);
	CHECK_EQ(vmx_caps_vmcs_size(&c), 0x400);
	CHECK(!vmx_caps_secondary_allowed(&c, CPU2_ENABLE_EPT));
	CHECK(!vmx_caps_secondary_allowed(&c, CPU2_ENABLE_VPID));
	CHECK(!vmx_caps_pin_allowed(&c, PIN_PREEMPTION_TIMER)); /* 0x3f: bits 0..5 */
	CHECK(vmx_caps_pin_allowed(&c, PIN_VIRTUAL_NMIS));
}

TEST(vmx_caps_read_optional_msrs_by_secondary_bits)
{
	static struct msr_val t[sizeof(bochs_skx) / sizeof(bochs_skx[0])];
	struct vmx_caps c;
	uint64_t *proc2 = NULL;
	memcpy(t, bochs_skx, sizeof(t));
	for (struct msr_val *m = t; m->msr; m++)
		if (m->msr == MSR_IA32_VMX_PROCBASED_CTLS2)
			proc2 = &m->val;

	/* Secondary controls but neither EPT, VPID nor VMFUNC: 0x48c and 0x491 unread. */
	*proc2 = (uint64_t)(CPU2_UNRESTRICTED_GUEST | CPU2_VMCS_SHADOWING) << 32;
	read_caps(&c, t);
	CHECK(was_read(MSR_IA32_VMX_PROCBASED_CTLS2));
	CHECK(!was_read(MSR_IA32_VMX_EPT_VPID_CAP));
	CHECK(!was_read(MSR_IA32_VMX_VMFUNC));
	CHECK_EQ(c.has_ept_vpid_cap, 0);
	CHECK_EQ(c.has_vmfunc, 0);
	CHECK_EQ(nread, 16);

	/* VPID alone is enough for EPT_VPID_CAP to exist (SDM A.10). */
	*proc2 = (uint64_t)CPU2_ENABLE_VPID << 32;
	read_caps(&c, t);
	CHECK(was_read(MSR_IA32_VMX_EPT_VPID_CAP));
	CHECK(!was_read(MSR_IA32_VMX_VMFUNC));
	CHECK_EQ(c.has_ept_vpid_cap, 1);
	CHECK_EQ(c.ept_vpid_cap, 0x00000f0106334141ull);

	/* VMFUNC alone: 0x491 read, 0x48c not. */
	*proc2 = (uint64_t)CPU2_ENABLE_VMFUNC << 32;
	read_caps(&c, t);
	CHECK(!was_read(MSR_IA32_VMX_EPT_VPID_CAP));
	CHECK(was_read(MSR_IA32_VMX_VMFUNC));
	CHECK_EQ(c.has_vmfunc, 1);
	CHECK_EQ(c.vmfunc, 1);

	/* An allowed-0 bit (low half) does not count. */
	*proc2 = CPU2_ENABLE_EPT | CPU2_ENABLE_VMFUNC;
	read_caps(&c, t);
	CHECK(!was_read(MSR_IA32_VMX_EPT_VPID_CAP));
	CHECK(!was_read(MSR_IA32_VMX_VMFUNC));
	CHECK_EQ(n_missing, 0);
}

/* ---- vmx_caps_print ---- */

#define PRINT_LINES 16

static struct {
	int n;
	char line[PRINT_LINES][LOG_LINE_MAX + 1];
} printed;

static void print_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (printed.n < PRINT_LINES && len <= LOG_LINE_MAX) {
		memcpy(printed.line[printed.n], line, len);
		printed.line[printed.n][len] = '\0';
	}
	printed.n++;
}

static void capture_print(const struct vmx_caps *c)
{
	memset(&printed, 0, sizeof(printed));
	log_init("t", LOG_INFO);
	log_add_sink(print_sink, NULL);
	vmx_caps_print(c);
	log_init("t", LOG_INFO);
}

TEST(vmx_caps_print_bochs)
{
	struct vmx_caps c;
	read_caps(&c, bochs_skx);
	capture_print(&c);
	CHECK_EQ(printed.n, 10);
	CHECK_STR(printed.line[0], "[t] info: VMX: revision id 0x2b, VMCS size 4096 bytes, "
				   "VMCS memory type WB, TRUE controls yes");
	CHECK_STR(printed.line[1], "[t] info: VMX: EPT yes, VPID yes, unrestricted guest yes, "
				   "VMCS shadowing yes");
	CHECK_STR(printed.line[2], "[t] info: VMX: preemption timer yes, posted interrupts no, "
				   "PML yes, VMFUNC yes");
	CHECK_STR(printed.line[3], "[t] info: VMX: EPT caps: execute-only yes, 4-level yes, "
				   "5-level no, UC yes, WB yes, 2M yes, 1G yes, A/D yes, "
				   "INVEPT single yes all yes");
	CHECK_STR(printed.line[4], "[t] info: VMX: VPID caps: INVVPID yes, address yes, "
				   "single yes, all yes, single-keep-globals yes");
	CHECK_STR(printed.line[5], "[t] info: VMX MSRs: BASIC=0x00d810000000002b "
				   "PIN=0x0000007f00000016 PROC=0xf7f9fffe0401e172");
	CHECK_STR(printed.line[6], "[t] info: VMX MSRs: EXIT=0x007fffff00036dff "
				   "ENTRY=0x0000ffff000011ff MISC=0x00000000600401e0");
	CHECK_STR(printed.line[7], "[t] info: VMX MSRs: CR0_FIXED0/1=0x80000021/0xffffffff "
				   "CR4_FIXED0/1=0x2000/0x3727ff VMCS_ENUM=0x34");
	CHECK_STR(printed.line[8], "[t] info: VMX MSRs: PROC2=0x02177fff00000000 "
				   "EPT_VPID_CAP=0x00000f0106334141 VMFUNC=0x1");
	CHECK_STR(printed.line[9], "[t] info: VMX MSRs: TRUE_PIN=0x0000007f00000016 "
				   "TRUE_PROC=0xf7f9fffe04006172 TRUE_EXIT=0x007fffff00036dfb "
				   "TRUE_ENTRY=0x0000ffff000011fb");
}

TEST(vmx_caps_print_old_cpu)
{
	struct vmx_caps c;
	read_caps(&c, old_cpu);
	capture_print(&c);
	/* No EPT/VPID cap lines, no TRUE line. */
	CHECK_EQ(printed.n, 7);
	CHECK_STR(printed.line[0], "[t] info: VMX: revision id 0x7, VMCS size 1024 bytes, "
				   "VMCS memory type UC, TRUE controls no");
	CHECK_STR(printed.line[1], "[t] info: VMX: EPT no, VPID no, unrestricted guest no, "
				   "VMCS shadowing no");
	CHECK_STR(printed.line[2], "[t] info: VMX: preemption timer no, posted interrupts no, "
				   "PML no, VMFUNC no");
	CHECK_STR(printed.line[3], "[t] info: VMX MSRs: BASIC=0x0001040000000007 "
				   "PIN=0x0000003f00000016 PROC=0x77f9fffe0401e172");
	CHECK_STR(printed.line[6], "[t] info: VMX MSRs: PROC2=0x0000000000000000 "
				   "EPT_VPID_CAP=0x0000000000000000 VMFUNC=0x0");
}

TEST(vmx_caps_print_quiet_below_info)
{
	struct vmx_caps c;
	read_caps(&c, bochs_skx);
	memset(&printed, 0, sizeof(printed));
	log_init("t", LOG_WARN);
	log_add_sink(print_sink, NULL);
	vmx_caps_print(&c);
	log_init("t", LOG_INFO);
	CHECK_EQ(printed.n, 0);
}

TEST(vmx_caps_print_memtype_reserved)
{
	struct vmx_caps c;
	memset(&c, 0, sizeof(c));
	c.basic = (3ull << VMX_BASIC_MEMTYPE_SHIFT) | (0x800ull << 32) | 0x12;
	capture_print(&c);
	CHECK_STR(printed.line[0], "[t] info: VMX: revision id 0x12, VMCS size 2048 bytes, "
				   "VMCS memory type reserved, TRUE controls no");
}

/* ---- vmx_enable_feature_control with a fake IA32_FEATURE_CONTROL ---- */

static uint64_t fake_fc;
static bool fake_fc_sticky; /* writes are ignored (a lock that does not take) */
static unsigned fake_fc_reads, fake_fc_writes;

static uint64_t fc_rd(uint32_t msr)
{
	CHECK_EQ(msr, MSR_IA32_FEATURE_CONTROL);
	fake_fc_reads++;
	return fake_fc;
}

static void fc_wr(uint32_t msr, uint64_t value)
{
	CHECK_EQ(msr, MSR_IA32_FEATURE_CONTROL);
	fake_fc_writes++;
	if (!fake_fc_sticky)
		fake_fc = value;
}

static struct vmx_enable fc_enable(uint32_t ecx, uint64_t fc, bool sticky)
{
	fake_fc = fc;
	fake_fc_sticky = sticky;
	fake_fc_reads = fake_fc_writes = 0;
	return vmx_enable_feature_control(ecx, fc_rd, fc_wr);
}

TEST(vmx_enable_feature_control_cases)
{
	/* No VMX: the MSR is never touched. */
	struct vmx_enable e = fc_enable(0, 0, false);
	CHECK_EQ(e.avail, VMX_NO_CPU_SUPPORT);
	CHECK_EQ(fake_fc_reads + fake_fc_writes, 0);
	/* Unlocked (Bochs): VMX outside SMX and the lock are set, read back. */
	e = fc_enable(1u << 5, 0, false);
	CHECK_EQ(e.avail, VMX_AVAILABLE);
	CHECK(e.wrote);
	CHECK_EQ(e.before, 0);
	CHECK_EQ(e.after, 0x5);
	CHECK_EQ(fake_fc_writes, 1);
	/* Other bits the firmware set survive the write. */
	e = fc_enable(1u << 5, 0x2, false);
	CHECK_EQ(e.after, 0x7);
	/* Locked with VMX on: nothing written. */
	e = fc_enable(1u << 5, 0x5, false);
	CHECK_EQ(e.avail, VMX_AVAILABLE);
	CHECK(!e.wrote);
	CHECK_EQ(fake_fc_writes, 0);
	/* Locked with VMX off: refused, nothing written. */
	e = fc_enable(1u << 5, 0x1, false);
	CHECK_EQ(e.avail, VMX_LOCKED_OFF);
	CHECK_EQ(fake_fc_writes, 0);
	/* A lock that does not take stays "needs enable". */
	e = fc_enable(1u << 5, 0, true);
	CHECK(e.wrote);
	CHECK_EQ(e.avail, VMX_NEEDS_ENABLE);
	CHECK_EQ(e.after, 0);
}
