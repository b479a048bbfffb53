/*
 * test_vmx_policy.c - the pure VMX policy functions:
 *   controls.c      vmx_adjust_controls / vmx_controls_allowed with the
 *                   Bochs corei7_skylake_x capability MSRs, with and
 *                   without TRUE controls and without PROCBASED2; CR0/CR4
 *                   fixing and the guest/host masks;
 *   segment.c       vmx_segment_from_gdt on a hand-made GDT;
 *   cpuid_policy.c  every rule of cpuid_policy.h;
 *   (msr_policy.c has its own file, test_msr_policy.c);
 *   vmx_names.c     exact strings, "reserved"/"unknown" for gaps;
 *   exit.c          which exit reasons have a handler (each with a name),
 *                   and an I/O-instruction exit dispatched to exit_io.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "halting.h"
#include "hw_fake.h"
#include "uart_fake.h"
#include "vmcs_soft.h"
#include "vmx/console.h"
#include "vmx/controls.h"
#include "vmx/cpuid_policy.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/msr_policy.h"
#include "vmx/segment.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"
#include "vmx/vmx_names.h"

#include <string.h>

/* ---- controls.c ---- */

static struct vmx_caps bochs(bool with_true)
{
	struct vmx_caps c;
	hw_fake_bochs_caps(&c);
	c.has_true = with_true;
	return c;
}

TEST(policy_controls_pin)
{
	struct vmx_caps c = bochs(true);
	/* 0x7f00000016: must-be-1 0x16 (bits 1, 2, 4), may-be-1 0x7f. */
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PIN, 0), 0x16);
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS), 0x3e);
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PIN, PIN_POSTED_INTERRUPTS), 0x16); /* dropped */
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PIN, 0xffffffffu), 0x7f);
	CHECK(vmx_controls_allowed(&c, VMX_CTL_PIN, PIN_PREEMPTION_TIMER | PIN_VIRTUAL_NMIS));
	CHECK(!vmx_controls_allowed(&c, VMX_CTL_PIN, PIN_POSTED_INTERRUPTS));
	CHECK(!vmx_controls_allowed(&c, VMX_CTL_PIN, PIN_NMI_EXITING | PIN_POSTED_INTERRUPTS));
	CHECK(vmx_controls_allowed(&c, VMX_CTL_PIN, 0));
}

TEST(policy_controls_proc_true_vs_plain)
{
	const uint32_t want = CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY;
	struct vmx_caps plain = bochs(false), tru = bochs(true);
	/* Plain PROCBASED: default1 0x0401e172 forces CR3-load/store exiting (15, 16). */
	uint32_t p = vmx_adjust_controls(&plain, VMX_CTL_PROC, want);
	CHECK_EQ(p, 0x9401e172);
	CHECK(p & CPU_CR3_LOAD_EXITING);
	CHECK(p & CPU_CR3_STORE_EXITING);
	/* TRUE_PROCBASED: 0x04006172 lets them be 0. */
	uint32_t t = vmx_adjust_controls(&tru, VMX_CTL_PROC, want);
	CHECK_EQ(t, 0x94006172);
	CHECK(!(t & (CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING)));
	/* Unsupported bits are dropped: bit 0 and MTF (27) are not allowed-1. */
	CHECK_EQ(vmx_adjust_controls(&tru, VMX_CTL_PROC, 1u | CPU_MONITOR_TRAP_FLAG), 0x04006172);
	CHECK_EQ(vmx_adjust_controls(&tru, VMX_CTL_PROC, 0xffffffffu), 0xf7f9fffe);
	CHECK(vmx_controls_allowed(&tru, VMX_CTL_PROC, CPU_NMI_WINDOW_EXITING));
	CHECK(!vmx_controls_allowed(&tru, VMX_CTL_PROC, CPU_MONITOR_TRAP_FLAG));
	/* The allowed-1 halves differ in nothing here, so both agree. */
	CHECK(vmx_controls_allowed(&plain, VMX_CTL_PROC, CPU_NMI_WINDOW_EXITING));
}

TEST(policy_controls_exit_entry)
{
	const uint32_t want_exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
				   EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT;
	const uint32_t want_entry = ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT;
	struct vmx_caps plain = bochs(false), tru = bochs(true);
	/* Bit 2 (save/load debug controls) is default1: forced without TRUE only. */
	CHECK_EQ(vmx_adjust_controls(&plain, VMX_CTL_EXIT, want_exit), 0x3f6fff);
	CHECK_EQ(vmx_adjust_controls(&tru, VMX_CTL_EXIT, want_exit), 0x3f6ffb);
	CHECK_EQ(vmx_adjust_controls(&tru, VMX_CTL_EXIT, want_exit | EXIT_SAVE_DEBUG_CONTROLS),
		 0x3f6fff);
	CHECK_EQ(vmx_adjust_controls(&plain, VMX_CTL_ENTRY, want_entry), 0xd1ff);
	CHECK_EQ(vmx_adjust_controls(&tru, VMX_CTL_ENTRY, want_entry), 0xd1fb);
	CHECK_EQ(vmx_adjust_controls(&tru, VMX_CTL_ENTRY, want_entry | ENTRY_LOAD_DEBUG_CONTROLS),
		 0xd1ff);
	/* Entry bits above 15 are not allowed-1 on this model. */
	CHECK_EQ(vmx_adjust_controls(&tru, VMX_CTL_ENTRY, 1u << 16), 0x11fb);
	CHECK_EQ(vmx_adjust_controls(&tru, VMX_CTL_EXIT, 1u << 23), 0x36dfb);
}

TEST(policy_controls_proc2)
{
	struct vmx_caps c = bochs(true);
	const uint32_t want2 = CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_VPID |
			       CPU2_ENABLE_RDTSCP | CPU2_ENABLE_INVPCID | CPU2_ENABLE_XSAVES |
			       CPU2_ENABLE_USER_WAIT_PAUSE;
	CHECK_EQ(want2, 0x041010aa);
	/* May-be-1 0x02177fff: user wait/pause (26) is dropped, no bit is forced. */
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PROC2, want2), 0x001010aa);
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PROC2, 0), 0);
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PROC2, 0xffffffffu), 0x02177fff);
	/* PROCBASED2 is not a TRUE MSR: has_true changes nothing. */
	c.has_true = 0;
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PROC2, want2), 0x001010aa);
	/* No PROCBASED2 MSR: every secondary control is 0. */
	c.has_procbased2 = 0;
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PROC2, want2), 0);
	CHECK_EQ(vmx_adjust_controls(&c, VMX_CTL_PROC2, 0xffffffffu), 0);
	CHECK(!vmx_controls_allowed(&c, VMX_CTL_PROC2, CPU2_ENABLE_EPT));
	CHECK(vmx_controls_allowed(&c, VMX_CTL_PROC2, 0));
}

TEST(policy_cr0_cr4_fixed_and_masks)
{
	struct vmx_caps c = bochs(true);
	CHECK_EQ(vmx_cr0_fixed0(&c, true), 0x20);
	CHECK_EQ(vmx_cr0_fixed0(&c, false), 0x80000021);
	CHECK_EQ(vmx_cr0_host_owned(&c, true), 0x20);
	CHECK_EQ(vmx_cr0_host_owned(&c, false), 0x80000021);
	/* CR4: FIXED0 0x2000 | ~FIXED1 (0x3727ff) in 31:0. */
	CHECK_EQ(vmx_cr4_host_owned(&c), 0xffc8f800);
	CHECK_EQ(vmx_cr4_host_owned(&c), (0x2000ull | ~0x3727ffull) & 0xffffffffull);
	/*
	 * On a CPU that allows SMXE, CET and PKS (FIXED1 with bits 14, 23, 24),
	 * L0 still owns them: L1's CPUID hides those features, so setting
	 * one must exit and be refused as reserved, not happen natively.
	 */
	c.cr4_fixed1 |= (1ull << 14) | (1ull << 23) | (1ull << 24);
	CHECK_EQ(vmx_cr4_host_owned(&c), 0xffc8f800);
	/* ... while a bit FIXED1 newly allows and L1 may see (25: LASS here) is L1's. */
	c.cr4_fixed1 |= 1ull << 25;
	CHECK_EQ(vmx_cr4_host_owned(&c), 0xffc8f800 & ~(1ull << 25));
	c = bochs(true);

	/* vmx_fix_cr0: FIXED0 bits set, bits outside FIXED1 cleared. */
	CHECK_EQ(vmx_fix_cr0(&c, 0, true), 0x20);
	CHECK_EQ(vmx_fix_cr0(&c, 0, false), 0x80000021);
	CHECK_EQ(vmx_fix_cr0(&c, 0x60000010, true), 0x60000030);
	CHECK_EQ(vmx_fix_cr0(&c, 0x80050033, true), 0x80050033);
	CHECK_EQ(vmx_fix_cr0(&c, 0x100000011ull, true), 0x31); /* bit 32 is outside FIXED1 */
	/* vmx_fix_cr4 */
	CHECK_EQ(vmx_fix_cr4(&c, 0), 0x2000);
	CHECK_EQ(vmx_fix_cr4(&c, 0x406a0), 0x426a0);
	CHECK_EQ(vmx_fix_cr4(&c, 0x400000 | 0x4000 | 0x20), 0x2020); /* PKE, SMXE not allowed */

	/* A CPU with a narrower FIXED1 for CR0: its zero bits are host-owned too. */
	c.cr0_fixed1 = 0xdfffffff; /* CD must be 0 */
	CHECK_EQ(vmx_cr0_host_owned(&c, true), 0x20000020);
	CHECK_EQ(vmx_fix_cr0(&c, 0x60000010, true), 0x40000030);
}

/* ---- segment.c ---- */

#define CODE64 0x00af9a000000ffffull
#define DATA4G 0x00cf92000000ffffull
#define DATA_NP 0x00cf12000000ffffull
#define DATA_BASE 0x12cf92345678ffffull /* base 0x12345678, 4 GiB */
#define DATA_BYTE 0x0040930000001234ull /* byte granular, limit 0x1234 */
/* 64-bit available TSS at 0xfffff80012345000, limit 0x67. */
#define TSS_LO 0x1200893450000067ull
#define TSS_HI 0x00000000fffff800ull

static const uint64_t gdt[] = {0, CODE64, DATA4G, DATA_NP, TSS_LO, TSS_HI, DATA_BASE, DATA_BYTE};
#define GDT_LIMIT ((uint16_t)(sizeof(gdt) - 1))

TEST(policy_segment_code_data)
{
	struct vmx_segment s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0x08);
	CHECK_EQ(s.selector, 0x08);
	CHECK_EQ(s.base, 0);
	CHECK_EQ(s.limit, 0xffffffff); /* 0xfffff in 4-KiB units */
	CHECK_EQ(s.ar, 0xa09b);	       /* G, L, P, S, type 0xb (accessed) */

	s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0x10);
	CHECK_EQ(s.base, 0);
	CHECK_EQ(s.limit, 0xffffffff);
	CHECK_EQ(s.ar, 0xc093);

	/* RPL is kept in the selector and ignored for the lookup. */
	s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0x13);
	CHECK_EQ(s.selector, 0x13);
	CHECK_EQ(s.ar, 0xc093);

	s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0x30);
	CHECK_EQ(s.base, 0x12345678);
	CHECK_EQ(s.limit, 0xffffffff);
	CHECK_EQ(s.ar, 0xc093);

	s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0x38);
	CHECK_EQ(s.base, 0);
	CHECK_EQ(s.limit, 0x1234);
	CHECK_EQ(s.ar, 0x4093);
}

TEST(policy_segment_unusable)
{
	/* Null selector, with or without RPL. */
	struct vmx_segment s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0);
	CHECK_EQ(s.ar, VMX_AR_UNUSABLE);
	CHECK_EQ(s.selector, 0);
	s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 3);
	CHECK_EQ(s.ar, VMX_AR_UNUSABLE);
	CHECK_EQ(s.selector, 3);
	CHECK_EQ(s.base, 0);
	CHECK_EQ(s.limit, 0);
	/* TI = 1: an LDT selector. */
	s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0x0c);
	CHECK_EQ(s.ar, VMX_AR_UNUSABLE);
	CHECK_EQ(s.selector, 0x0c);
	CHECK_EQ(s.base, 0);
	/* Beyond the limit: index 8 of an 8-entry GDT, and the last entry cut short. */
	s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0x40);
	CHECK_EQ(s.ar, VMX_AR_UNUSABLE);
	s = vmx_segment_from_gdt(gdt, 0x17, 0x10); /* entries 0..2: the last one fits */
	CHECK_EQ(s.ar, 0xc093);
	s = vmx_segment_from_gdt(gdt, 0x16, 0x10); /* one byte short */
	CHECK_EQ(s.ar, VMX_AR_UNUSABLE);
	s = vmx_segment_from_gdt(gdt, 0x17, 0x18);
	CHECK_EQ(s.ar, VMX_AR_UNUSABLE);
	/* Not present: decoded, and unusable. */
	s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0x18);
	CHECK_EQ(s.ar, VMX_AR_UNUSABLE | 0xc013);
	CHECK_EQ(s.limit, 0xffffffff);
}

TEST(policy_segment_tss16)
{
	struct vmx_segment s = vmx_segment_from_gdt(gdt, GDT_LIMIT, 0x20);
	CHECK_EQ(s.selector, 0x20);
	CHECK_EQ(s.base, 0xfffff80012345000ull);
	CHECK_EQ(s.limit, 0x67);
	CHECK_EQ(s.ar, 0x89); /* system descriptor: no accessed bit added */
	/* The upper half beyond the GDT limit: only the 32-bit base. */
	s = vmx_segment_from_gdt(gdt, 0x27, 0x20);
	CHECK_EQ(s.base, 0x12345000);
	CHECK_EQ(s.ar, 0x89);
}

/* ---- cpuid_policy.c ---- */

static struct cpuid_regs apply(const struct cpuid_policy *p, uint32_t leaf, uint32_t sub,
			       struct cpuid_regs in)
{
	/* L1 with CR4.OSXSAVE and CR4.PKE set: the mirrored bits pass as they are. */
	cpuid_policy_apply(p, (1ull << 18) | (1ull << 22), leaf, sub, &in);
	return in;
}

/* CPUID.1:ECX.OSXSAVE and CPUID.7:ECX.OSPKE follow L1's CR4, not L0's. */
TEST(policy_cpuid_cr4_mirrors_follow_l1)
{
	struct cpuid_policy p = { 0 };
	struct cpuid_regs r = { 0, 0, 0xffffffffu, 0 };
	cpuid_policy_apply(&p, 0, 1, 0, &r);
	CHECK_EQ(r.ecx & (1u << 27), 0);
	r = (struct cpuid_regs){ 0, 0, 1u << 26, 0 }; /* XSAVE, OSXSAVE clear (L0's view) */
	cpuid_policy_apply(&p, 1ull << 18, 1, 0, &r);
	CHECK_EQ(r.ecx & (1u << 27), 1u << 27);
	r = (struct cpuid_regs){ 0, 0, 0xffffffffu, 0 };
	cpuid_policy_apply(&p, 0, 7, 0, &r);
	CHECK_EQ(r.ecx & (1u << 4), 0);
	r = (struct cpuid_regs){ 0, 0, 1u << 3, 0 }; /* PKU, OSPKE clear */
	cpuid_policy_apply(&p, 1ull << 22, 7, 0, &r);
	CHECK_EQ(r.ecx & (1u << 4), 1u << 4);
	r = (struct cpuid_regs){ 0, 0, 0, 0 }; /* no PKU: no OSPKE either */
	cpuid_policy_apply(&p, 1ull << 22, 7, 0, &r);
	CHECK_EQ(r.ecx & (1u << 4), 0);
}

#define R(a, b, c, d) ((struct cpuid_regs){(a), (b), (c), (d)})
static const struct cpuid_regs ALL1 = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};

TEST(policy_cpuid_leaf1)
{
	struct cpuid_policy on = {.nested = true}, off = {.nested = false};
	struct cpuid_regs in = R(0x50654, 0x00100800, 0x7ffefbff, 0xbfebfbff);
	struct cpuid_regs r = apply(&on, 1, 0, in);
	CHECK_EQ(r.eax, 0x50654);
	CHECK_EQ(r.ebx, 0x00100800);
	/* + hypervisor, - SMX, VMX kept; - DTES64, MONITOR, DS-CPL, EIST, TM2, PDCM (2-4, 7, 8, 15) */
	CHECK_EQ(r.ecx, 0xfffe7a23);
	CHECK_EQ(r.edx, 0x1f8bfbff); /* - DS, ACPI, TM, PBE (21, 22, 29, 31) */
	r = apply(&off, 1, 0, in);
	CHECK_EQ(r.ecx, 0xfffe7a03); /* the same, - VMX */
	/* VMX follows nested even where the CPU says 0. */
	r = apply(&on, 1, 0, R(0, 0, 0, 0));
	CHECK_EQ(r.ecx, 0x80000020);
	r = apply(&off, 1, 0, R(0, 0, 0, 0));
	CHECK_EQ(r.ecx, 0x80000000);
	/* The subleaf does not matter for leaf 1. */
	r = apply(&off, 1, 5, ALL1);
	CHECK_EQ(r.ecx, 0xffff7e03);
	CHECK_EQ(r.eax, 0xffffffff);
}

TEST(policy_cpuid_hypervisor_leaves)
{
	struct cpuid_policy p = {.nested = true, .version = 0x000100};
	struct cpuid_regs r = apply(&p, 0x40000000, 0, ALL1);
	CHECK_EQ(r.eax, 0x40000001);
	char sig[13] = {0};
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	static const char want[12] = {'m', 'i', 'c', 'r', 'o', 'h', 'v', 0, 0, 0, 0, 0};
	CHECK(memcmp(sig, want, 12) == 0);
	CHECK_EQ(r.ebx, 0x7263696d);
	CHECK_EQ(r.ecx, 0x0076686f);
	CHECK_EQ(r.edx, 0);
	CHECK_STR(sig, "microhv");

	r = apply(&p, 0x40000001, 0, ALL1);
	CHECK_EQ(r.eax, 0x000100);
	CHECK_EQ(r.ebx, HYPERCALL_ABI_VERSION);
	CHECK_EQ(r.ebx, 1);
	CHECK_EQ(r.ecx, 0);
	CHECK_EQ(r.edx, 0);
	p.version = 0x020304;
	CHECK_EQ(apply(&p, 0x40000001, 7, ALL1).eax, 0x020304);

	/* 0x40000002..0x400000ff: all zero, whatever the CPU said. */
	int nonzero = 0;
	for (uint32_t leaf = 0x40000002; leaf <= 0x400000ff; leaf++) {
		r = apply(&p, leaf, leaf & 3, ALL1);
		if (r.eax | r.ebx | r.ecx | r.edx)
			nonzero++;
	}
	CHECK_EQ(nonzero, 0);
	/* Outside the range: the CPU's answer unchanged. */
	r = apply(&p, 0x40000100, 0, R(1, 2, 3, 4));
	CHECK(r.eax == 1 && r.ebx == 2 && r.ecx == 3 && r.edx == 4);
	r = apply(&p, 0x3fffffff, 0, R(1, 2, 3, 4));
	CHECK(r.eax == 1 && r.ebx == 2 && r.ecx == 3 && r.edx == 4);
}

TEST(policy_cpuid_hidden_features)
{
	struct cpuid_policy none = {0};
	struct cpuid_policy all = {
	    .has_rdtscp = true, .has_invpcid = true, .has_xsaves = true, .has_user_wait = true};
	/*
	 * Leaf 7.0: INVPCID EBX[10], WAITPKG ECX[5]; always hidden (MSRs not
	 * offered, test_msr_policy.c): PQM, PQE, PT EBX[12, 15, 25], CET and
	 * PKS ECX[7, 31], PCONFIG, arch LBR and CET EDX[18, 19, 20].
	 */
	struct cpuid_regs r = apply(&none, 7, 0, ALL1);
	CHECK_EQ(r.eax, 0xffffffff);
	CHECK_EQ(r.ebx, 0xfdff6bff);
	CHECK_EQ(r.ecx, 0x7fffff5f);
	CHECK_EQ(r.edx, 0xffe3ffff);
	r = apply(&all, 7, 0, ALL1);
	CHECK(r.ebx == 0xfdff6fff && r.ecx == 0x7fffff7f);
	struct cpuid_policy inv_only = {.has_invpcid = true};
	r = apply(&inv_only, 7, 0, ALL1);
	CHECK_EQ(r.ebx, 0xfdff6fff);
	CHECK_EQ(r.ecx, 0x7fffff5f);
	/* Other subleaves of 7 untouched. */
	r = apply(&none, 7, 1, ALL1);
	CHECK(r.eax == 0xffffffff && r.ebx == 0xffffffff && r.ecx == 0xffffffff);
	/* Leaf 0xd.1: XSAVES EAX[3]; other subleaves untouched. */
	r = apply(&none, 0xd, 1, ALL1);
	CHECK_EQ(r.eax, 0xfffffff7);
	CHECK_EQ(r.ebx, 0xffffffff);
	CHECK_EQ(apply(&all, 0xd, 1, ALL1).eax, 0xffffffff);
	CHECK_EQ(apply(&none, 0xd, 0, ALL1).eax, 0xffffffff);
	/* Leaf 0x80000001: RDTSCP EDX[27]. */
	r = apply(&none, 0x80000001, 0, ALL1);
	CHECK_EQ(r.edx, 0xf7ffffff);
	CHECK_EQ(r.ecx, 0xffffffff);
	CHECK_EQ(apply(&all, 0x80000001, 0, ALL1).edx, 0xffffffff);
	/* Leaf 5 (MONITOR/MWAIT) all zero, whatever the policy. */
	r = apply(&all, 5, 0, ALL1);
	CHECK(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	/* Unrelated leaves untouched, even with every feature hidden. */
	r = apply(&none, 0, 0, R(0x16, 0x756e6547, 0x6c65746e, 0x49656e69));
	CHECK(r.eax == 0x16 && r.ebx == 0x756e6547 && r.ecx == 0x6c65746e && r.edx == 0x49656e69);
	r = apply(&none, 0x80000008, 0, ALL1);
	CHECK(r.eax == 0xffffffff && r.edx == 0xffffffff);
}

/* ---- vmx_names.c ---- */

TEST(policy_vmx_names)
{
	CHECK_STR(vmx_instruction_error_name(7), "VM entry with invalid control field(s)");
	CHECK_STR(vmx_instruction_error_name(8), "VM entry with invalid host-state field(s)");
	CHECK_STR(vmx_instruction_error_name(12),
		  "VMREAD/VMWRITE from/to unsupported VMCS component");
	CHECK_STR(vmx_instruction_error_name(28), "invalid operand to INVEPT/INVVPID");
	CHECK_STR(vmx_instruction_error_name(1), "VMCALL executed in VMX root operation");
	CHECK_STR(vmx_instruction_error_name(0), "reserved");
	CHECK_STR(vmx_instruction_error_name(14), "reserved");
	CHECK_STR(vmx_instruction_error_name(21), "reserved");
	CHECK_STR(vmx_instruction_error_name(27), "reserved");
	CHECK_STR(vmx_instruction_error_name(29), "reserved");
	CHECK_STR(vmx_instruction_error_name(0xffffffffu), "reserved");

	CHECK_STR(vmx_exit_reason_name(EXIT_REASON_EXCEPTION_NMI), "exception or NMI");
	CHECK_STR(vmx_exit_reason_name(EXIT_REASON_CPUID), "CPUID");
	CHECK_STR(vmx_exit_reason_name(EXIT_REASON_CR_ACCESS), "control-register access");
	CHECK_STR(vmx_exit_reason_name(EXIT_REASON_INVALID_GUEST_STATE),
		  "VM-entry failure: invalid guest state");
	CHECK_STR(vmx_exit_reason_name(EXIT_REASON_EPT_VIOLATION), "EPT violation");
	CHECK_STR(vmx_exit_reason_name(EXIT_REASON_XSETBV), "XSETBV");
	CHECK_STR(vmx_exit_reason_name(EXIT_REASON_TPAUSE), "TPAUSE");
	CHECK_STR(vmx_exit_reason_name(35), "unknown");
	CHECK_STR(vmx_exit_reason_name(38), "unknown");
	CHECK_STR(vmx_exit_reason_name(42), "unknown");
	CHECK_STR(vmx_exit_reason_name(69), "unknown");
	CHECK_STR(vmx_exit_reason_name(EXIT_REASON_MAX - 1), "unknown");
	CHECK_STR(vmx_exit_reason_name(EXIT_REASON_MAX), "unknown");
	CHECK_STR(vmx_exit_reason_name(0xffffffffu), "unknown");
}

/*
 * The reasons vmx/exit.c's table handles, and only those: a handler added
 * or dropped must change this list (SDM Vol. 3C Appendix C numbers).
 */
static const uint32_t handled[] = {
    /* exception or NMI, triple fault, INIT, SIPI, NMI window, task switch */
    0, 2, 3, 4, 8, 9,
    /* CPUID, GETSEC, INVD, VMCALL */
    10, 11, 13, 18,
    /* VMCLEAR, VMLAUNCH, VMPTRLD, VMPTRST, VMREAD, VMRESUME, VMWRITE, VMXOFF, VMXON */
    19, 20, 21, 22, 23, 24, 25, 26, 27,
    /* CR access, I/O instruction (L0's console), RDMSR, WRMSR, MWAIT, MONITOR */
    28, 30, 31, 32, 36, 39,
    /* EPT violation and misconfiguration, INVEPT, preemption timer (the console), INVVPID */
    48, 49, 50, 52, 53,
    /* XSETBV */
    55,
};

TEST(policy_handled_exit_reasons)
{
	int unnamed = 0, unlisted = 0, missing = 0;
	for (uint32_t r = 0; r < EXIT_REASON_MAX; r++) {
		bool listed = false;
		for (unsigned i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
			listed |= handled[i] == r;
		if (vmx_exit_handler_for(r) && !listed)
			unlisted++;
		if (!vmx_exit_handler_for(r) && listed)
			missing++;
		if (listed && strcmp(vmx_exit_reason_name(r), "unknown") == 0)
			unnamed++;
	}
	CHECK_EQ(unlisted, 0);
	CHECK_EQ(missing, 0);
	CHECK_EQ(unnamed, 0); /* every handled reason has a real name */
	CHECK_EQ(sizeof(handled) / sizeof(handled[0]), 31);
	CHECK(vmx_exit_handler_for(30) == exit_io);
	CHECK(vmx_exit_handler_for(52) == exit_preemption_timer);
	CHECK(vmx_exit_handler_for(EXIT_REASON_MAX) == NULL);
}

/*
 * An I/O-instruction exit (30) goes to exit_io: with L0's console on COM2
 * (in a forked child, a fake UART behind IN/OUT: uart_fake.h), L1's IN AL
 * from 2FDH gets the console's line status, 60H (THR and transmitter
 * empty), RIP moves past the instruction and the exit is counted.  A port
 * that is not the console's reaches exit_io too, not the dispatcher's
 * "unexpected exit reason": it is performed on the hardware (the fake's
 * stray port 3F8H, programmed to read 6EH) and logged, and L0 goes on.
 */
static struct vcpu io_cpu;
static struct guest_regs io_regs;

static void io_exit(void)
{
	if (!l0_console_init(0x2f8, 115200))
		return;
	vmx_exit_dispatch(&io_regs);
	uart_fake->out[0] = io_regs.gpr[GPR_RAX];
	uart_fake->out[1] = vmcs_soft_get(VMCS_GUEST_RIP);
	uart_fake->out[2] = io_cpu.exits[30];
	uart_fake->out[3] = io_cpu.exits_total;
	uart_fake->out[4] = 1;
}

static void io_exit_setup(uint16_t port)
{
	uart_fake_reset(0x2f8);
	vmcs_soft_reset();
	hw_fake_reset();
	memset(&g_l0, 0, sizeof(g_l0));
	memset(&io_cpu, 0, sizeof(io_cpu));
	memset(&io_regs, 0, sizeof(io_regs));
	io_cpu.index = 1;
	io_cpu.launched = true;
	g_l0.vcpus[0] = &io_cpu;
	g_l0.ncpus = 1;
	io_regs.vcpu = &io_cpu;
	io_regs.gpr[GPR_RAX] = 0x1122334455667788ull;
	vmcs_soft_set(VMCS_VM_EXIT_REASON, 30);
	/* SDM Vol. 3C table 28-5: 1 byte (0), IN (bit 3), DX encoding, port in 31:16. */
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, ((uint64_t)port << 16) | 0x8);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, 1);
	vmcs_soft_set(VMCS_GUEST_RIP, 0x401000);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x2);
}

TEST(policy_io_exit_dispatched_to_exit_io)
{
	io_exit_setup(0x2fd);
	CHECK_EQ(uart_fake_run(io_exit), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[4], 1);
	CHECK_EQ(uart_fake->out[0], 0x1122334455667760ull);
	CHECK_EQ(uart_fake->out[1], 0x401001);
	CHECK_EQ(uart_fake->out[2], 1);
	CHECK_EQ(uart_fake->out[3], 1);

	io_exit_setup(0x3f8);
	uart_fake->stray_value[0x3f8] = 0x6e;
	CHECK_EQ(uart_fake_run(io_exit), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[4], 1);
	CHECK_EQ(uart_fake->out[0], 0x112233445566776eull);
	CHECK_EQ(uart_fake->out[1], 0x401001);
	CHECK_EQ(uart_fake->out[2], 1);
	CHECK_EQ(uart_fake->stray, 1);
	CHECK_EQ(uart_fake->stray_port, 0x3f8);
	CHECK(strstr(halting_out, "[t] warn: CPU 1: L1's 1-byte IN at I/O port 0x3f8") != NULL);
	CHECK(strstr(halting_out, "unexpected exit reason") == NULL);
}
