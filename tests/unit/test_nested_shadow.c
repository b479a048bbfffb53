/*
 * test_nested_shadow.c - VMCS shadowing offered to L1 (nested/shadow12.h),
 * through vmx_exit_dispatch (fixture: nested_run_fixture.h): the entry
 * checks on the VMCS link pointer and the region it names (SDM Vol. 3C
 * 27.3.1.5), vmcs02 without the control, L2's VMREAD/VMWRITE decided from
 * L0's copies of L1's bitmaps taken at the entry, and those served from
 * the shadow VMCS in L1's memory with the results of SDM 31.3 (non-root
 * operation): values, widths, RFLAGS, RIP, VMfail numbers, #GP(0).
 */
#include "test.h"

#include "hw_fake.h"
#include "nested/shadow12.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <string.h>

#define SHADOW12 (MEM_BASE + 0x16000)
#define VMREAD_BM12 (MEM_BASE + 0x14000)
#define VMWRITE_BM12 (MEM_BASE + 0x15000)
#define L2_DATA (MEM_BASE + 0x30000) /* L2's linear = guest-physical (2-MiB page below) */
#define LEN_VMREAD 3

/* VM-exit instruction information (SDM Vol. 3C table 28-14). */
#define REGFORM (1u << 10)
#define REG1(r) ((uint32_t)(r) << 3)
#define REG2(r) ((uint32_t)(r) << 28)
#define ASZ64 (2u << 7)
#define SEG_DS (3u << 15)
#define NO_INDEX (1u << 22)
#define BASE(r) ((uint32_t)(r) << 23)
#define INFO_GP0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_GP)
#define ARITH 0x8d5ull

static uint64_t *slot(uint64_t region, uint32_t encoding)
{
	long i = vmcs_field_lookup(encoding) - vmcs_field_table;
	return (uint64_t *)(void *)run_l1_ptr(region + VMCS12_FIELD_OFFSET(i));
}

static void put_region(uint64_t pa, uint32_t revision)
{
	memset(run_l1_ptr(pa), 0, 4096);
	memcpy(run_l1_ptr(pa), &revision, sizeof(revision));
}

static void set_bit(uint64_t bitmap, uint32_t encoding, bool on)
{
	uint8_t *b = run_l1_ptr(bitmap) + (encoding & 0x7fff) / 8;
	*b = on ? (uint8_t)(*b | 1u << (encoding & 7)) : (uint8_t)(*b & ~(1u << (encoding & 7)));
}

/* vmcs12 with "VMCS shadowing", both bitmaps zero, linked to a shadow VMCS at SHADOW12. */
static void setup_shadowing(void)
{
	run_setup();
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_VMCS_SHADOWING);
	vmcs12_set(V12, VMCS_VMREAD_BITMAP, VMREAD_BM12);
	vmcs12_set(V12, VMCS_VMWRITE_BITMAP, VMWRITE_BM12);
	vmcs12_set(V12, VMCS_VMCS_LINK_POINTER, SHADOW12);
	put_region(SHADOW12, VMCS12_REVISION | VMCS_SHADOW_INDICATOR);
	/* L2's paging at L2_CR3: one 2-MiB page, linear = guest-physical at MEM_BASE. */
	uint64_t pml4 = L2_CR3, pdpt = L2_CR3 + 0x1000, pd = L2_CR3 + 0x2000;
	memset(run_l1_ptr(pml4), 0, 0x3000);
	*(uint64_t *)(void *)run_l1_ptr(pml4) = pdpt | 3;
	*(uint64_t *)(void *)run_l1_ptr(pdpt) = pd | 3;
	*(uint64_t *)(void *)run_l1_ptr(pd + 8 * (MEM_BASE >> 21)) = MEM_BASE | 0x83;
}

/* L2 executes VMREAD/VMWRITE: field in RBX, value in RAX (reg) or at [RAX] (mem). */
static int l2_insn(uint32_t reason, bool mem, uint64_t field, uint64_t rax)
{
	regs.gpr[GPR_RBX] = field;
	regs.gpr[GPR_RAX] = rax;
	uint32_t info = REG2(GPR_RBX) |
			(mem ? ASZ64 | SEG_DS | NO_INDEX | BASE(GPR_RAX) : REGFORM | REG1(GPR_RAX));
	vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO, info);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_CF | RFLAGS_ZF);
	return run_l2_exit(reason, 0, LEN_VMREAD);
}

/* Served: L2 goes on past the instruction with the flags given. */
#define CHECK_SERVED(flags)                                                                        \
	do {                                                                                       \
		CHECK(NV->in_l2);                                                                  \
		CHECK_EQ(vmcs_soft_current(), VMCS02_PA);                                          \
		CHECK_EQ(f02(VMCS_GUEST_RIP), rip + LEN_VMREAD);                                   \
		CHECK_EQ(f02(VMCS_GUEST_RFLAGS) & ARITH, (uint64_t)(flags));                       \
		CHECK_EQ(NV->reflected, 0);                                                        \
		rip += LEN_VMREAD;                                                                 \
	} while (0)

TEST(nested_shadow_entry_link_pointer)
{
	/* Shadowing with a shadow VMCS: L2 runs; vmcs02 has no shadowing, link ~0. */
	setup_shadowing();
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_SECONDARY_VM_EXEC_CONTROL) & CPU2_VMCS_SHADOWING, 0);
	CHECK_EQ(f02(VMCS_VMCS_LINK_POINTER), ~0ull);
	CHECK_EQ(f12(VMCS_VMCS_LINK_POINTER), SHADOW12);

	/* Shadowing without a link pointer is allowed (SDM 27.3.1.5 checks only other values). */
	setup_shadowing();
	vmcs12_set(V12, VMCS_VMCS_LINK_POINTER, ~0ull);
	CHECK(run_l1_vmlaunch());

	/* Without shadowing, an ordinary VMCS may be linked. */
	setup_shadowing();
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_RDTSCP);
	put_region(SHADOW12, VMCS12_REVISION);
	CHECK(run_l1_vmlaunch());

	static const struct {
		const char *what;
		bool shadowing;
		uint32_t revision;
		uint64_t link;
	} bad[] = {
	    {"not a shadow VMCS", true, VMCS12_REVISION, SHADOW12},
	    {"a shadow VMCS without shadowing", false, VMCS12_REVISION | VMCS_SHADOW_INDICATOR,
	     SHADOW12},
	    {"wrong revision", true, (VMCS12_REVISION + 1) | VMCS_SHADOW_INDICATOR, SHADOW12},
	    {"the current VMCS", false, VMCS12_REVISION, VMCS12_A},
	    {"L0's memory", true, VMCS12_REVISION | VMCS_SHADOW_INDICATOR, HV_BASE},
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		setup_shadowing();
		if (!bad[k].shadowing)
			vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_RDTSCP);
		put_region(SHADOW12, bad[k].revision);
		vmcs12_set(V12, VMCS_VMCS_LINK_POINTER, bad[k].link);
		CHECK(!run_l1_vmlaunch());
		CHECK(!NV->in_l2);
		CHECK_EQ(f12(VMCS_VM_EXIT_REASON),
			 EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE);
		CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 4);
		CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
		CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_CLEAR);
		if (k == 4)
			CHECK(run_log_has("is not L1's memory"));
	}
}

TEST(nested_shadow_vmread_served)
{
	setup_shadowing();
	*slot(SHADOW12, VMCS_GUEST_RIP) = 0x1122334455667788ull;
	*slot(SHADOW12, VMCS_TSC_OFFSET) = 0xaabbccdd00112233ull;
	*slot(SHADOW12, VMCS_GUEST_CS_SELECTOR) = 0xdead0010ull; /* beyond 16 bits: cut */
	CHECK(run_l1_vmlaunch());
	uint64_t rip = f02(VMCS_GUEST_RIP);

	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, VMCS_GUEST_RIP, 0), 0);
	CHECK_SERVED(0);
	CHECK_EQ(regs.gpr[GPR_RAX], 0x1122334455667788ull);
	/* The "high" access of a 64-bit field reads bits 63:32 (SDM 25.11.2). */
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, VMCS_TSC_OFFSET | 1, 0), 0);
	CHECK_SERVED(0);
	CHECK_EQ(regs.gpr[GPR_RAX], 0xaabbccddull);
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, VMCS_GUEST_CS_SELECTOR, 0), 0);
	CHECK_SERVED(0);
	CHECK_EQ(regs.gpr[GPR_RAX], 0x10);
	/* Memory destination, through L2's paging. */
	memset(run_l1_ptr(L2_DATA), 0xee, 16);
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, true, VMCS_GUEST_RIP, L2_DATA), 0);
	CHECK_SERVED(0);
	CHECK_EQ(*(uint64_t *)(void *)run_l1_ptr(L2_DATA), 0x1122334455667788ull);
	CHECK_EQ(run_l1_ptr(L2_DATA)[8], 0xee);
	/* An unsupported field: VMfailValid 12, the number in vmcs12 (the current VMCS). */
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, 0x7ffe, 0x99), 0);
	CHECK_SERVED(RFLAGS_ZF);
	CHECK_EQ(regs.gpr[GPR_RAX], 0x99);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), 12);
	/* Nothing of this touched vmcs12's own fields or L1's current VMCS. */
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(NV->l2_exits, 5);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(nested_shadow_vmwrite_served)
{
	setup_shadowing();
	*slot(SHADOW12, VMCS_TSC_OFFSET) = 0xaabbccdd00112233ull;
	CHECK(run_l1_vmlaunch());
	uint64_t rip = f02(VMCS_GUEST_RIP);

	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, VMCS_GUEST_RIP, 0xfeedull), 0);
	CHECK_SERVED(0);
	CHECK_EQ(*slot(SHADOW12, VMCS_GUEST_RIP), 0xfeedull);
	/* Cut to the field's width; "high" writes bits 63:32 only. */
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, VMCS_GUEST_CS_SELECTOR, 0x12345678ull), 0);
	CHECK_SERVED(0);
	CHECK_EQ(*slot(SHADOW12, VMCS_GUEST_CS_SELECTOR), 0x5678);
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, VMCS_TSC_OFFSET | 1, 0x1ull), 0);
	CHECK_SERVED(0);
	CHECK_EQ(*slot(SHADOW12, VMCS_TSC_OFFSET), 0x0000000100112233ull);
	/* Memory source through L2's paging. */
	*(uint64_t *)(void *)run_l1_ptr(L2_DATA) = 0x4242424242ull;
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, true, VMCS_GUEST_RIP, L2_DATA), 0);
	CHECK_SERVED(0);
	CHECK_EQ(*slot(SHADOW12, VMCS_GUEST_RIP), 0x4242424242ull);
	/* An exit-information field without IA32_VMX_MISC[29]: VMfailValid 13. */
	g_l0.l1_vmx.misc &= ~(1ull << 29);
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, VMCS_VM_EXIT_REASON, 5), 0);
	CHECK_SERVED(RFLAGS_ZF);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), 13);
	CHECK_EQ(*slot(SHADOW12, VMCS_VM_EXIT_REASON), 0);
	g_l0.l1_vmx.misc |= 1ull << 29;
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, VMCS_VM_EXIT_REASON, 5), 0);
	CHECK_SERVED(0);
	CHECK_EQ(*slot(SHADOW12, VMCS_VM_EXIT_REASON), 5);
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, 0x7ffe, 5), 0);
	CHECK_SERVED(RFLAGS_ZF);
	CHECK_EQ(f12(VMCS_VM_INSTRUCTION_ERROR), 12);
	/* L1 then sees the value after VMPTRLD of the shadow VMCS. */
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* Link pointer FFFFFFFF_FFFFFFFFH with shadowing: VMfailInvalid (SDM 31.3). CPL 3: #GP(0). */
TEST(nested_shadow_vmfail_invalid_and_cpl)
{
	setup_shadowing();
	vmcs12_set(V12, VMCS_VMCS_LINK_POINTER, ~0ull);
	CHECK(run_l1_vmlaunch());
	uint64_t rip = f02(VMCS_GUEST_RIP);
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, VMCS_GUEST_RIP, 0x77), 0);
	CHECK_SERVED(RFLAGS_CF);
	CHECK_EQ(regs.gpr[GPR_RAX], 0x77);
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, VMCS_GUEST_RIP, 0x77), 0);
	CHECK_SERVED(RFLAGS_CF);
	CHECK(!run_log_has("shadow VMCS at")); /* no region was looked for */

	setup_shadowing();
	CHECK(run_l1_vmlaunch());
	rip = f02(VMCS_GUEST_RIP);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xf3); /* DPL 3 */
	*slot(SHADOW12, VMCS_GUEST_RIP) = 0x5555;
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, VMCS_GUEST_RIP, 0x77), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(VMCS_GUEST_RIP), rip);
	CHECK_EQ(f02(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK_EQ(regs.gpr[GPR_RAX], 0x77);
	CHECK_EQ(NV->reflected, 0);
}

/*
 * The bitmaps decide, as copied at the entry: a bit set then exits to L1
 * (reason 23/25) even if L1's page says 0 at the exit, and the reverse;
 * bits 63:15 of the field exit whatever the bitmap.  Without shadowing
 * every VMREAD/VMWRITE exits.
 */
TEST(nested_shadow_bitmaps_decide_from_the_copy)
{
	setup_shadowing();
	set_bit(VMREAD_BM12, VMCS_GUEST_RIP, true);
	set_bit(VMWRITE_BM12, VMCS_GUEST_CS_SELECTOR, true);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(vmread_bitmap12_copy[VMCS_GUEST_RIP / 8], 1u << (VMCS_GUEST_RIP & 7));
	/* L1 (or L2 through a mapping) flips its pages after the entry. */
	set_bit(VMREAD_BM12, VMCS_GUEST_RIP, false);
	set_bit(VMREAD_BM12, VMCS_GUEST_CS_SELECTOR, true);
	uint64_t rip = f02(VMCS_GUEST_RIP);
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, VMCS_GUEST_CS_SELECTOR, 0), 0);
	CHECK_SERVED(0);
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, VMCS_GUEST_RIP, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_VMREAD);
	CHECK_EQ(f12(VMCS_VMX_INSTRUCTION_INFO), REG2(GPR_RBX) | REGFORM | REG1(GPR_RAX));
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);

	setup_shadowing();
	set_bit(VMWRITE_BM12, VMCS_GUEST_CS_SELECTOR, true);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, VMCS_GUEST_CS_SELECTOR, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_VMWRITE);

	/* Bits 63:15 of the field operand: L1's exit (its bitmaps cover 14:0 only). */
	setup_shadowing();
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, 0x8000ull | VMCS_GUEST_RIP, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_VMREAD);
	setup_shadowing();
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, 0x10000ull | VMCS_GUEST_RIP, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_VMREAD);
	setup_shadowing();
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, (1ull << 32) | VMCS_GUEST_RIP, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_VMWRITE);

	/* A bitmap page that is not L1's memory: all ones, every access exits. */
	setup_shadowing();
	vmcs12_set(V12, VMCS_VMREAD_BITMAP, HV_BASE);
	CHECK(run_l1_vmlaunch());
	CHECK(run_log_has("VMREAD bitmap at"));
	CHECK_EQ(vmread_bitmap12_copy[0x100], 0xff);
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, VMCS_GUEST_CS_SELECTOR, 0), 0);
	CHECK(!NV->in_l2);

	/* Without shadowing: L1's exit whatever the bitmaps. */
	setup_shadowing();
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_RDTSCP);
	vmcs12_set(V12, VMCS_VMCS_LINK_POINTER, ~0ull);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(vmread_bitmap12_copy[0], 0xcc); /* not copied */
	/* GUEST_ES_SELECTOR's bit is 0 in the stale copy (0xcc): the control alone decides. */
	CHECK_EQ(vmread_bitmap12_copy[VMCS_GUEST_ES_SELECTOR / 8] &
		     (1u << (VMCS_GUEST_ES_SELECTOR & 7)),
		 0);
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, VMCS_GUEST_ES_SELECTOR, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_VMREAD);
	CHECK_EQ(run_stub_errors, 0);
}

/*
 * A 32-bit L2: the field operand is 32 bits (SDM 31.3), so stale bits
 * 63:32 of its register neither make the access L1's nor fail it; the
 * value operand is 32 bits too.
 */
TEST(nested_shadow_32bit_l2)
{
	setup_shadowing();
	uint64_t secondary = vmcs12_get(V12, VMCS_SECONDARY_VM_EXEC_CONTROL);
	run_valid_vmcs12_pae(V12);
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL, secondary);
	vmcs12_set(V12, VMCS_VMREAD_BITMAP, VMREAD_BM12);
	vmcs12_set(V12, VMCS_VMWRITE_BITMAP, VMWRITE_BM12);
	vmcs12_set(V12, VMCS_VMCS_LINK_POINTER, SHADOW12);
	*slot(SHADOW12, VMCS_GUEST_RIP) = 0x1122334455667788ull;
	CHECK(run_l1_vmlaunch());
	uint64_t rip = f02(VMCS_GUEST_RIP);
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, false, 0xffffffff00000000ull | VMCS_GUEST_RIP, 0), 0);
	CHECK_SERVED(0);
	CHECK_EQ(regs.gpr[GPR_RAX], 0x55667788ull);
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, false, 0xffffffff00000000ull | VMCS_GUEST_RIP,
			 0xabcdef0012345678ull),
		 0);
	CHECK_SERVED(0);
	CHECK_EQ(*slot(SHADOW12, VMCS_GUEST_RIP), 0x12345678ull);
	CHECK_EQ(run_stub_errors, 0);
}

/*
 * Under L1's EPT: L2's memory operand goes through L2's paging and EPT12
 * (nested_guest_memory).  EPT12 maps L2's page tables 1:1 and L2_DATA to
 * L1's page at L1_BEHIND; L2's linear MEM_BASE + 2 MiB maps a
 * guest-physical page EPT12 lacks: L1's EPT violation, as on the CPU
 * (SDM Vol. 3C 28.2.1), not L0's #GP(0).
 */
#define EPT12_PML4 (MEM_BASE + 0x34000)
#define EPT12_PDPT (MEM_BASE + 0x35000)
#define EPT12_PD (MEM_BASE + 0x36000)
#define EPT12_PT (MEM_BASE + 0x37000)
#define L1_BEHIND (MEM_BASE + 0x38000)
#define L2_UNBACKED (MEM_BASE + 0x200000)
#define EPT_WB_4K ((6ull << 3) | EPT_RWX)

static void ept12_map(uint64_t gpa, uint64_t hpa)
{
	*(uint64_t *)(void *)run_l1_ptr(EPT12_PT + 8 * ((gpa >> 12) & 511)) = hpa | EPT_WB_4K;
}

/* L2 under EPT12 as above; returns vmcs02's RIP of L2 after the launch. */
static uint64_t setup_ept12(uint64_t eptp_flags)
{
	setup_shadowing();
	memset(run_l1_ptr(EPT12_PML4), 0, 0x4000);
	*(uint64_t *)(void *)run_l1_ptr(EPT12_PML4) = EPT12_PDPT | EPT_RWX;
	*(uint64_t *)(void *)run_l1_ptr(EPT12_PDPT) = EPT12_PD | EPT_RWX;
	*(uint64_t *)(void *)run_l1_ptr(EPT12_PD + 8 * (MEM_BASE >> 21)) = EPT12_PT | EPT_RWX;
	for (uint64_t pt = L2_CR3; pt < L2_CR3 + 0x3000; pt += 0x1000)
		ept12_map(pt, pt);
	ept12_map(L2_DATA, L1_BEHIND);
	uint64_t pd = L2_CR3 + 0x2000;
	*(uint64_t *)(void *)run_l1_ptr(pd + 8 * (L2_UNBACKED >> 21)) = L2_UNBACKED | 0x83;
	vmcs12_set(V12, VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vmcs12_get(V12, VMCS_SECONDARY_VM_EXEC_CONTROL) | CPU2_ENABLE_EPT);
	vmcs12_set(V12, VMCS_EPT_POINTER, EPT12_PML4 | 0x1e | eptp_flags);
	*slot(SHADOW12, VMCS_GUEST_RIP) = 0x1122334455667788ull;
	CHECK(run_l1_vmlaunch());
	return f02(VMCS_GUEST_RIP);
}

/* L1's exit after an L2 instruction at rip that EPT12 refused. */
static void check_l1_ept_exit(uint64_t rip, uint32_t reason, uint64_t qual, uint64_t gpa,
			      uint64_t gla)
{
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(vmcs12_get(V12, VMCS_VM_EXIT_REASON), reason);
	CHECK_EQ(vmcs12_get(V12, VMCS_EXIT_QUALIFICATION), qual);
	CHECK_EQ(vmcs12_get(V12, VMCS_GUEST_PHYSICAL_ADDRESS), gpa);
	if (reason == EXIT_REASON_EPT_VIOLATION)
		CHECK_EQ(vmcs12_get(V12, VMCS_GUEST_LINEAR_ADDRESS), gla);
	CHECK_EQ(vmcs12_get(V12, VMCS_GUEST_RIP), rip);
	/* Nothing was injected for L2: the fault is L1's exit, not an event. */
	CHECK_EQ(vmcs12_get(V12, VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0);
	CHECK_EQ(run_stub_errors, 0);
}

TEST(nested_shadow_memory_operand_under_ept12)
{
	uint64_t rip = setup_ept12(0);
	memset(run_l1_ptr(L2_DATA), 0, 8);
	memset(run_l1_ptr(L1_BEHIND), 0, 8);
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, true, VMCS_GUEST_RIP, L2_DATA), 0);
	CHECK_SERVED(0);
	CHECK_EQ(*(uint64_t *)(void *)run_l1_ptr(L1_BEHIND), 0x1122334455667788ull);
	CHECK_EQ(*(uint64_t *)(void *)run_l1_ptr(L2_DATA), 0);
	*(uint64_t *)(void *)run_l1_ptr(L1_BEHIND) = 0x99;
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, true, VMCS_GUEST_RIP, L2_DATA), 0);
	CHECK_SERVED(0);
	CHECK_EQ(*slot(SHADOW12, VMCS_GUEST_RIP), 0x99);
	/*
	 * Not backed by EPT12: VMREAD's store is L1's EPT violation, a data
	 * write (bit 1) to a page EPT12 does not map (5:3 = 0) at a linear
	 * address (7) that is the access itself (8).
	 */
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, true, VMCS_GUEST_RIP, L2_UNBACKED + 8), 0);
	check_l1_ept_exit(rip, EXIT_REASON_EPT_VIOLATION, 0x182, L2_UNBACKED + 8,
			  L2_UNBACKED + 8);
	CHECK_EQ(*slot(SHADOW12, VMCS_GUEST_RIP), 0x99);
}

/* VMWRITE's source read, from a page EPT12 maps read-never (write-only is a misconfig). */
TEST(nested_shadow_memory_operand_ept12_read_denied)
{
	uint64_t rip = setup_ept12(0);
	/* Execute-only where offered, else not present: either way no read. */
	*(uint64_t *)(void *)run_l1_ptr(EPT12_PT + 8 * ((L2_DATA >> 12) & 511)) = 0;
	CHECK_EQ(l2_insn(EXIT_REASON_VMWRITE, true, VMCS_GUEST_RIP, L2_DATA + 0x10), 0);
	check_l1_ept_exit(rip, EXIT_REASON_EPT_VIOLATION, 0x181, L2_DATA + 0x10, L2_DATA + 0x10);
	CHECK_EQ(*slot(SHADOW12, VMCS_GUEST_RIP), 0x1122334455667788ull);
}

/*
 * L2's page table itself not in EPT12: the violation is on the walk
 * (bit 8 clear), a read (bits 0 and 1 under an A/D EPTP, note 2 to table
 * 28-7), at the page table's guest-physical address.
 */
TEST(nested_shadow_memory_operand_ept12_paging_denied)
{
	uint64_t rip = setup_ept12(EPTP_AD_ENABLE);
	uint64_t pd = L2_CR3 + 0x2000;
	*(uint64_t *)(void *)run_l1_ptr(EPT12_PT + 8 * ((pd >> 12) & 511)) = 0;
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, true, VMCS_GUEST_RIP, L2_DATA), 0);
	check_l1_ept_exit(rip, EXIT_REASON_EPT_VIOLATION, 0x83, pd + 8 * ((L2_DATA >> 21) & 511),
			  L2_DATA);
}

/* A misconfigured EPT12 entry (write without read): L1's misconfiguration, qualification 0. */
TEST(nested_shadow_memory_operand_ept12_misconfig)
{
	uint64_t rip = setup_ept12(0);
	*(uint64_t *)(void *)run_l1_ptr(EPT12_PT + 8 * ((L2_DATA >> 12) & 511)) =
	    L1_BEHIND | (6ull << 3) | EPT_WRITE;
	CHECK_EQ(l2_insn(EXIT_REASON_VMREAD, true, VMCS_GUEST_RIP, L2_DATA), 0);
	check_l1_ept_exit(rip, EXIT_REASON_EPT_MISCONFIG, 0, L2_DATA, 0);
}
