/*
 * test_nested_reflect.c - the reflect decision (nested/reflect.c) as a
 * matrix of exit reason x vmcs12 controls.
 */
#include "nested/reflect.h"
#include "test.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#include <string.h>

/*
 * The bitmaps of the entry: l1mem is L0's copy of L1's (I/O A at 0, B at
 * 0x1000, MSR at 0x2000), l0_io and l0_msr are L0's own.  By default L0's
 * own are all ones (L0 asks for every exit, so what L1's copy does not ask
 * for is L0's) and L0 owns ports.
 */
static uint8_t l1mem[3 * 4096];
static uint8_t l0_io[8192], l0_msr[4096];
static bool l0_ports;
static struct vmcs12 v12;

static void reset(void)
{
	memset(&v12, 0, sizeof(v12));
	memset(l1mem, 0, sizeof(l1mem));
	memset(l0_io, 0xff, sizeof(l0_io));
	memset(l0_msr, 0xff, sizeof(l0_msr));
	l0_ports = true;
	/* Never read: the decision uses the copies, not L1's memory. */
	vmcs12_set(&v12, VMCS_IO_BITMAP_A, 0x10000);
	vmcs12_set(&v12, VMCS_IO_BITMAP_B, 0x11000);
	vmcs12_set(&v12, VMCS_MSR_BITMAP, 0x12000);
}

static enum nested_owner owner_of(const struct l2_exit *e)
{
	const struct nested_bitmaps bm = {
		.msr12 = l1mem + 0x2000,
		.msr0 = l0_msr,
		.io0_a = l0_ports ? l0_io : NULL,
		.io0_b = l0_ports ? l0_io + 4096 : NULL,
		.io12 = l1mem,
	};
	return nested_exit_owner(&v12, e, &bm);
}

static enum nested_owner owner(uint32_t reason)
{
	struct l2_exit e = { .reason = reason };
	return owner_of(&e);
}

static void set_proc(uint32_t bits)
{
	vmcs12_set(&v12, VMCS_CPU_BASED_VM_EXEC_CONTROL, bits);
}

/* Reasons that each follow one primary control bit. */
TEST(reflect_primary_controls)
{
	static const struct {
		uint32_t reason, bit;
	} rows[] = {
		{ EXIT_REASON_HLT, CPU_HLT_EXITING },
		{ EXIT_REASON_INVLPG, CPU_INVLPG_EXITING },
		{ EXIT_REASON_RDPMC, CPU_RDPMC_EXITING },
		{ EXIT_REASON_RDTSC, CPU_RDTSC_EXITING },
		{ EXIT_REASON_DR_ACCESS, CPU_MOV_DR_EXITING },
		{ EXIT_REASON_PAUSE, CPU_PAUSE_EXITING },
		{ EXIT_REASON_INTERRUPT_WINDOW, CPU_INTR_WINDOW_EXITING },
		{ EXIT_REASON_NMI_WINDOW, CPU_NMI_WINDOW_EXITING },
	};
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		reset();
		CHECK_EQ(owner(rows[i].reason), NESTED_L0);
		set_proc(rows[i].bit);
		CHECK_EQ(owner(rows[i].reason), NESTED_L1);
		/* Every other bit on but this one: still L0. */
		set_proc(~rows[i].bit);
		CHECK_EQ(owner(rows[i].reason), NESTED_L0);
	}
}

TEST(reflect_unconditional_exits)
{
	static const uint32_t always[] = {
		EXIT_REASON_TRIPLE_FAULT, EXIT_REASON_INIT_SIGNAL, EXIT_REASON_TASK_SWITCH,
		EXIT_REASON_CPUID,	  EXIT_REASON_GETSEC,	   EXIT_REASON_INVD,
		EXIT_REASON_VMCALL,	  EXIT_REASON_VMCLEAR,	   EXIT_REASON_VMLAUNCH,
		EXIT_REASON_VMPTRLD,	  EXIT_REASON_VMPTRST,	   EXIT_REASON_VMREAD,
		EXIT_REASON_VMRESUME,	  EXIT_REASON_VMWRITE,	   EXIT_REASON_VMXOFF,
		EXIT_REASON_VMXON,	  EXIT_REASON_INVEPT,	   EXIT_REASON_INVVPID,
		EXIT_REASON_XSETBV,
	};
	reset();
	for (unsigned i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		CHECK_EQ(owner(always[i]), NESTED_L1);
}

/*
 * L0's whatever vmcs12 says: MONITOR/MWAIT among them, because their #UD
 * on L1's CPU (no MONITOR in CPUID) has priority over L1's MONITOR/MWAIT
 * exiting (SDM Vol. 3C 26.1.1).
 */
TEST(reflect_l0_only_exits)
{
	static const uint32_t l0[] = { EXIT_REASON_EPT_VIOLATION, EXIT_REASON_EPT_MISCONFIG,
				       EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_APIC_WRITE,
				       EXIT_REASON_PML_FULL, EXIT_REASON_MONITOR_TRAP_FLAG,
				       EXIT_REASON_MWAIT, EXIT_REASON_MONITOR };
	reset();
	set_proc(~0u);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, ~0u);
	vmcs12_set(&v12, VMCS_PIN_BASED_VM_EXEC_CONTROL, ~0u);
	for (unsigned i = 0; i < sizeof(l0) / sizeof(l0[0]); i++)
		CHECK_EQ(owner(l0[i]), NESTED_L0);
}

/*
 * A timer exit (52) with vmcs12's timer active: L1's only once L1's own
 * count has run out (SDM Vol. 3C 26.5.1); before that vmcs02's timer
 * expired for L0's console tick alone (nested/timer.h).  Without the
 * timer in vmcs12 it is never L1's.
 */
TEST(reflect_preemption_timer_follows_l1s_count)
{
	struct l2_exit e = { .reason = EXIT_REASON_PREEMPTION_TIMER };
	reset();
	CHECK_EQ(owner_of(&e), NESTED_L0);
	e.l1_timer_expired = true;
	CHECK_EQ(owner_of(&e), NESTED_L0); /* no timer in vmcs12 */
	vmcs12_set(&v12, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
	CHECK_EQ(owner_of(&e), NESTED_L1);
	e.l1_timer_expired = false;
	CHECK_EQ(owner_of(&e), NESTED_L0);
	/* Another reason is not decided by the timer's count. */
	e = (struct l2_exit){ .reason = EXIT_REASON_EPT_VIOLATION, .l1_timer_expired = true };
	CHECK_EQ(owner_of(&e), NESTED_L0);
}

TEST(reflect_secondary_needs_activation)
{
	reset();
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_WBINVD_EXITING | CPU2_DESC_TABLE_EXITING);
	CHECK_EQ(owner(EXIT_REASON_WBINVD), NESTED_L0); /* secondary not activated */
	CHECK_EQ(owner(EXIT_REASON_GDTR_IDTR), NESTED_L0);
	set_proc(CPU_ACTIVATE_SECONDARY);
	CHECK_EQ(owner(EXIT_REASON_WBINVD), NESTED_L1);
	CHECK_EQ(owner(EXIT_REASON_GDTR_IDTR), NESTED_L1);
	CHECK_EQ(owner(EXIT_REASON_LDTR_TR), NESTED_L1);
	/* RDTSCP: RDTSC exiting and enable RDTSCP both. */
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_RDTSCP);
	CHECK_EQ(owner(EXIT_REASON_RDTSCP), NESTED_L0);
	set_proc(CPU_ACTIVATE_SECONDARY | CPU_RDTSC_EXITING);
	CHECK_EQ(owner(EXIT_REASON_RDTSCP), NESTED_L1);
	/* INVPCID: INVLPG exiting and enable INVPCID. */
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_INVPCID);
	set_proc(CPU_ACTIVATE_SECONDARY);
	CHECK_EQ(owner(EXIT_REASON_INVPCID), NESTED_L0);
	set_proc(CPU_ACTIVATE_SECONDARY | CPU_INVLPG_EXITING);
	CHECK_EQ(owner(EXIT_REASON_INVPCID), NESTED_L1);
}

/*
 * Issue 12, item 6.  SDM 26.1.3: RDRAND and RDSEED exit with their
 * secondary controls; PAUSE with "PAUSE exiting" or, at CPL 0 (the CPU's
 * test), "PAUSE-loop exiting".  Each needs activate-secondary, and no
 * other secondary bit stands in for it.
 */
TEST(reflect_rdrand_rdseed_pause_loop)
{
	static const struct {
		uint32_t reason, bit;
	} rows[] = {
		{ EXIT_REASON_RDRAND, CPU2_RDRAND_EXITING },
		{ EXIT_REASON_RDSEED, CPU2_RDSEED_EXITING },
		{ EXIT_REASON_PAUSE, CPU2_PAUSE_LOOP_EXITING },
	};
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		reset();
		CHECK_EQ(owner(rows[i].reason), NESTED_L0);
		vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, rows[i].bit);
		CHECK_EQ(owner(rows[i].reason), NESTED_L0); /* not activated */
		set_proc(CPU_ACTIVATE_SECONDARY);
		CHECK_EQ(owner(rows[i].reason), NESTED_L1);
		vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, ~rows[i].bit);
		CHECK_EQ(owner(rows[i].reason), NESTED_L0);
	}
	/* PAUSE: either control alone makes the exit L1's. */
	reset();
	set_proc(CPU_PAUSE_EXITING);
	CHECK_EQ(owner(EXIT_REASON_PAUSE), NESTED_L1);
	set_proc(CPU_PAUSE_EXITING | CPU_ACTIVATE_SECONDARY);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_PAUSE_LOOP_EXITING);
	CHECK_EQ(owner(EXIT_REASON_PAUSE), NESTED_L1);
	/* RDRAND's control does not make RDSEED exits L1's, nor the reverse. */
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_RDRAND_EXITING);
	CHECK_EQ(owner(EXIT_REASON_RDSEED), NESTED_L0);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_RDSEED_EXITING);
	CHECK_EQ(owner(EXIT_REASON_RDRAND), NESTED_L0);
}

static enum nested_owner exception(unsigned type, unsigned vector, uint32_t error)
{
	struct l2_exit e = { .reason = EXIT_REASON_EXCEPTION_NMI,
			     .intr_info = INTR_INFO_VALID | type | vector,
			     .intr_error = error };
	return owner_of(&e);
}

TEST(reflect_exceptions_and_nmi)
{
	reset();
	CHECK_EQ(exception(INTR_TYPE_HARD_EXCEPTION, VEC_GP, 0), NESTED_L0);
	vmcs12_set(&v12, VMCS_EXCEPTION_BITMAP, 1u << VEC_GP);
	CHECK_EQ(exception(INTR_TYPE_HARD_EXCEPTION, VEC_GP, 0), NESTED_L1);
	CHECK_EQ(exception(INTR_TYPE_HARD_EXCEPTION, VEC_UD, 0), NESTED_L0);
	CHECK_EQ(exception(INTR_TYPE_SOFT_EXCEPTION, VEC_BP, 0), NESTED_L0);
	vmcs12_set(&v12, VMCS_EXCEPTION_BITMAP, 1u << VEC_BP);
	CHECK_EQ(exception(INTR_TYPE_SOFT_EXCEPTION, VEC_BP, 0), NESTED_L1);
	/* NMI: by "NMI exiting", not the bitmap. */
	vmcs12_set(&v12, VMCS_EXCEPTION_BITMAP, 1u << VEC_NMI);
	CHECK_EQ(exception(INTR_TYPE_NMI, VEC_NMI, 0), NESTED_L0);
	vmcs12_set(&v12, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);
	CHECK_EQ(exception(INTR_TYPE_NMI, VEC_NMI, 0), NESTED_L1);
	/* External interrupts by "external-interrupt exiting". */
	CHECK_EQ(owner(EXIT_REASON_EXTERNAL_INTERRUPT), NESTED_L0);
	vmcs12_set(&v12, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_EXTERNAL_INTERRUPT_EXITING);
	CHECK_EQ(owner(EXIT_REASON_EXTERNAL_INTERRUPT), NESTED_L1);
}

/* SDM 26.1.3: #PF bit XOR ((PFEC & mask) == match), the four cases. */
TEST(reflect_page_fault_mask_match)
{
	reset();
	vmcs12_set(&v12, VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0x2); /* the W bit */
	vmcs12_set(&v12, VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0x2);
	/* Bit 14 clear: exits only when the PFEC does NOT match. */
	CHECK_EQ(exception(INTR_TYPE_HARD_EXCEPTION, VEC_PF, 0x3), NESTED_L0);
	CHECK_EQ(exception(INTR_TYPE_HARD_EXCEPTION, VEC_PF, 0x1), NESTED_L1);
	/* Bit 14 set: exits only when it matches. */
	vmcs12_set(&v12, VMCS_EXCEPTION_BITMAP, 1u << VEC_PF);
	CHECK_EQ(exception(INTR_TYPE_HARD_EXCEPTION, VEC_PF, 0x3), NESTED_L1);
	CHECK_EQ(exception(INTR_TYPE_HARD_EXCEPTION, VEC_PF, 0x1), NESTED_L0);
	/* mask = match = 0 (the usual setting): bit 14 alone decides. */
	vmcs12_set(&v12, VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs12_set(&v12, VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0);
	CHECK_EQ(exception(INTR_TYPE_HARD_EXCEPTION, VEC_PF, 0x7), NESTED_L1);
}

static enum nested_owner cr(unsigned crn, unsigned access, uint64_t value, uint64_t qual_extra)
{
	struct l2_exit e = { .reason = EXIT_REASON_CR_ACCESS,
			     .qualification = crn | (access << 4) | qual_extra,
			     .gpr_value = value };
	return owner_of(&e);
}

TEST(reflect_cr_access)
{
	reset();
	/* MOV to CR0: exits iff a masked bit differs from the shadow. */
	vmcs12_set(&v12, VMCS_CR0_GUEST_HOST_MASK, 0x80000001); /* PG, PE */
	vmcs12_set(&v12, VMCS_CR0_READ_SHADOW, 0x80000011);
	CHECK_EQ(cr(0, CR_ACCESS_MOV_TO_CR, 0x80000031, 0), NESTED_L0); /* only NE changed */
	CHECK_EQ(cr(0, CR_ACCESS_MOV_TO_CR, 0x00000011, 0), NESTED_L1); /* PG cleared */
	/* MOV to CR4 likewise. */
	vmcs12_set(&v12, VMCS_CR4_GUEST_HOST_MASK, 0x2000);
	vmcs12_set(&v12, VMCS_CR4_READ_SHADOW, 0x20);
	CHECK_EQ(cr(4, CR_ACCESS_MOV_TO_CR, 0x620, 0), NESTED_L0);
	CHECK_EQ(cr(4, CR_ACCESS_MOV_TO_CR, 0x2020, 0), NESTED_L1);
	/* CLTS: mask.TS and shadow.TS. */
	CHECK_EQ(cr(0, CR_ACCESS_CLTS, 0, 0), NESTED_L0);
	vmcs12_set(&v12, VMCS_CR0_GUEST_HOST_MASK, 0x8);
	CHECK_EQ(cr(0, CR_ACCESS_CLTS, 0, 0), NESTED_L0); /* shadow.TS = 0 */
	vmcs12_set(&v12, VMCS_CR0_READ_SHADOW, 0x8);
	CHECK_EQ(cr(0, CR_ACCESS_CLTS, 0, 0), NESTED_L1);
	/* LMSW: masked bit 3:1 changing, or setting a masked, clear PE. */
	vmcs12_set(&v12, VMCS_CR0_GUEST_HOST_MASK, 0x1);
	vmcs12_set(&v12, VMCS_CR0_READ_SHADOW, 0x0);
	CHECK_EQ(cr(0, CR_ACCESS_LMSW, 0, 0x1ull << 16), NESTED_L1);
	vmcs12_set(&v12, VMCS_CR0_READ_SHADOW, 0x1);
	CHECK_EQ(cr(0, CR_ACCESS_LMSW, 0, 0x0ull << 16), NESTED_L0); /* LMSW cannot clear PE */
	vmcs12_set(&v12, VMCS_CR0_GUEST_HOST_MASK, 0x2);
	CHECK_EQ(cr(0, CR_ACCESS_LMSW, 0, 0x2ull << 16), NESTED_L1);
	/* CR3: load exiting unless a CR3-target value matches; store exiting. */
	CHECK_EQ(cr(3, CR_ACCESS_MOV_TO_CR, 0x5000, 0), NESTED_L0);
	set_proc(CPU_CR3_LOAD_EXITING);
	CHECK_EQ(cr(3, CR_ACCESS_MOV_TO_CR, 0x5000, 0), NESTED_L1);
	vmcs12_set(&v12, VMCS_CR3_TARGET_VALUE1, 0x5000);
	vmcs12_set(&v12, VMCS_CR3_TARGET_COUNT, 1);
	CHECK_EQ(cr(3, CR_ACCESS_MOV_TO_CR, 0x5000, 0), NESTED_L1); /* only target 0 counts */
	vmcs12_set(&v12, VMCS_CR3_TARGET_COUNT, 2);
	CHECK_EQ(cr(3, CR_ACCESS_MOV_TO_CR, 0x5000, 0), NESTED_L0);
	CHECK_EQ(cr(3, CR_ACCESS_MOV_FROM_CR, 0, 0), NESTED_L0);
	set_proc(CPU_CR3_STORE_EXITING);
	CHECK_EQ(cr(3, CR_ACCESS_MOV_FROM_CR, 0, 0), NESTED_L1);
	/* CR8. */
	set_proc(CPU_CR8_LOAD_EXITING);
	CHECK_EQ(cr(8, CR_ACCESS_MOV_TO_CR, 1, 0), NESTED_L1);
	CHECK_EQ(cr(8, CR_ACCESS_MOV_FROM_CR, 0, 0), NESTED_L0);
}

static enum nested_owner io(uint16_t port, unsigned size)
{
	struct l2_exit e = { .reason = EXIT_REASON_IO_INSTRUCTION,
			     .qualification = ((uint64_t)port << 16) | (size - 1) };
	return owner_of(&e);
}

TEST(reflect_io)
{
	reset();
	CHECK_EQ(io(0x3f8, 1), NESTED_L0);
	set_proc(CPU_UNCOND_IO_EXITING);
	CHECK_EQ(io(0x3f8, 1), NESTED_L1);
	/* With bitmaps, the unconditional bit is ignored. */
	set_proc(CPU_UNCOND_IO_EXITING | CPU_USE_IO_BITMAPS);
	CHECK_EQ(io(0x3f8, 1), NESTED_L0);
	l1mem[0x3f9 / 8] |= 1u << (0x3f9 % 8);
	CHECK_EQ(io(0x3f8, 1), NESTED_L0);
	CHECK_EQ(io(0x3f8, 2), NESTED_L1); /* the second byte's port is set */
	l1mem[0x1000 + 0x10 / 8] |= 1u << (0x10 % 8); /* port 0x8010 in bitmap B */
	CHECK_EQ(io(0x8010, 1), NESTED_L1);
	CHECK_EQ(io(0x8011, 1), NESTED_L0);
	CHECK_EQ(io(0xffff, 2), NESTED_L1); /* wraps past 0xffff */
	CHECK_EQ(io(0xffff, 1), NESTED_L0); /* ends at 0xffff: no wrap, its bit is clear */
	CHECK_EQ(io(0xfffe, 2), NESTED_L0);
	/* Port 0x8000 is bit 0 of B, not of A (SDM 25.6.4). */
	l1mem[0] |= 1u; /* port 0 in A */
	CHECK_EQ(io(0, 1), NESTED_L1);
	CHECK_EQ(io(0x8000, 1), NESTED_L0);
	CHECK_EQ(io(0x7fff, 2), NESTED_L0); /* 0x7fff in A, 0x8000 in B: both clear */
	/* L0 owns no port: vmcs02 has L1's bitmaps, every I/O exit is L1's. */
	l0_ports = false;
	CHECK_EQ(io(0x60, 1), NESTED_L1);
	CHECK_EQ(io(0x3f8, 1), NESTED_L1);
}

/*
 * L0's own bitmaps decide too: an exit they did not ask for is L1's, even
 * where L1's copy is clear (the CPU can only have exited for L1: L1 changed
 * its bitmap after the entry, which must not make the exit L0's).
 */
TEST(reflect_io_l0_bitmaps)
{
	reset();
	set_proc(CPU_USE_IO_BITMAPS);
	memset(l0_io, 0, sizeof(l0_io));
	l0_io[0x2f8 / 8] = 0xff; /* L0's console, 0x2f8-0x2ff */
	CHECK_EQ(io(0x2f8, 1), NESTED_L0);
	CHECK_EQ(io(0x2fc, 4), NESTED_L0);
	CHECK_EQ(io(0x2f7, 2), NESTED_L0); /* 0x2f8 is L0's, 0x2f7 clear for both */
	CHECK_EQ(io(0x60, 1), NESTED_L1);  /* neither asked: not L0's */
	CHECK_EQ(io(0x8010, 1), NESTED_L1);
	l1mem[0x2fa / 8] |= 1u << (0x2fa % 8);
	CHECK_EQ(io(0x2fa, 1), NESTED_L1); /* both asked: L1's */
	CHECK_EQ(io(0x2f8, 4), NESTED_L1);
	CHECK_EQ(io(0x2fb, 1), NESTED_L0);
	/* Without I/O controls of L1's, only L0's ports exit, and they are L0's. */
	set_proc(0);
	CHECK_EQ(io(0x2fa, 1), NESTED_L0);
	CHECK_EQ(io(0x60, 1), NESTED_L1);
	/* Unconditional I/O exiting: all L1's. */
	set_proc(CPU_UNCOND_IO_EXITING);
	CHECK_EQ(io(0x2f8, 1), NESTED_L1);
}

static enum nested_owner msr(uint32_t n, bool write)
{
	struct l2_exit e = { .reason = write ? EXIT_REASON_MSR_WRITE : EXIT_REASON_MSR_READ,
			     .msr = n };
	return owner_of(&e);
}

TEST(reflect_msr)
{
	reset();
	CHECK_EQ(msr(0x10, false), NESTED_L1); /* no MSR bitmaps: every access exits */
	set_proc(CPU_USE_MSR_BITMAPS);
	CHECK_EQ(msr(0x10, false), NESTED_L0);
	l1mem[0x2000 + 0x10 / 8] |= 1u << (0x10 % 8); /* read bitmap, low */
	CHECK_EQ(msr(0x10, false), NESTED_L1);
	CHECK_EQ(msr(0x10, true), NESTED_L0);
	l1mem[0x2000 + 2048 + 0x10 / 8] |= 1u << (0x10 % 8); /* write bitmap, low */
	CHECK_EQ(msr(0x10, true), NESTED_L1);
	l1mem[0x2000 + 1024 + 0x80 / 8] |= 1u << (0x80 % 8); /* read, high: EFER */
	CHECK_EQ(msr(0xc0000080, false), NESTED_L1);
	CHECK_EQ(msr(0xc0000080, true), NESTED_L0);
	CHECK_EQ(msr(0x40000000, false), NESTED_L1); /* outside both ranges */
}

/*
 * An MSR exit is L0's only where L0's own bitmap asks for it and L1's copy
 * does not; IA32_GS_BASE (0xc0000101), which L0 does not intercept, is
 * never L0's whatever L1's copy says.
 */
TEST(reflect_msr_l0_bitmap)
{
	reset();
	set_proc(CPU_USE_MSR_BITMAPS);
	memset(l0_msr, 0, sizeof(l0_msr));
	l0_msr[0x3a / 8] |= 1u << (0x3a % 8);		     /* read FEATURE_CONTROL */
	l0_msr[2048 + 0x3a / 8] |= 1u << (0x3a % 8);	     /* write it */
	l0_msr[2048 + 0x830 / 8] |= 1u << (0x830 % 8);	     /* write the x2APIC ICR */
	CHECK_EQ(msr(0x3a, false), NESTED_L0);
	CHECK_EQ(msr(0x3a, true), NESTED_L0);
	CHECK_EQ(msr(0x830, true), NESTED_L0);
	CHECK_EQ(msr(0x830, false), NESTED_L1);
	CHECK_EQ(msr(0xc0000101, true), NESTED_L1);
	CHECK_EQ(msr(0xc0000101, false), NESTED_L1);
	CHECK_EQ(msr(0x1d9, true), NESTED_L1); /* DEBUGCTL */
	l1mem[0x2000 + 0x3a / 8] |= 1u << (0x3a % 8);
	CHECK_EQ(msr(0x3a, false), NESTED_L1);
	CHECK_EQ(msr(0x3a, true), NESTED_L0);
}

/*
 * Issue 12, item 6.  SDM 29.1.2: "TPR below threshold" (43) follows a
 * VTPR write under "use TPR shadow", L1's control: the exit is L1's;
 * without the control it cannot be L2's (L0's, never reflected).
 */
TEST(reflect_tpr_below_threshold)
{
	reset();
	CHECK_EQ(owner(EXIT_REASON_TPR_BELOW_THRESHOLD), NESTED_L0);
	set_proc(CPU_USE_TPR_SHADOW);
	CHECK_EQ(owner(EXIT_REASON_TPR_BELOW_THRESHOLD), NESTED_L1);
	set_proc(~CPU_USE_TPR_SHADOW);
	CHECK_EQ(owner(EXIT_REASON_TPR_BELOW_THRESHOLD), NESTED_L0);
}

/*
 * Issue 12, item 6.  SDM 29.4: an APIC-access exit (44) comes from L1's
 * "virtualize APIC accesses" (L0 never sets it in vmcs02): L1's with the
 * control, activated; otherwise L0's (never reflected).
 */
TEST(reflect_apic_access)
{
	reset();
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_VIRTUALIZE_APIC_ACCESSES);
	CHECK_EQ(owner(EXIT_REASON_APIC_ACCESS), NESTED_L0); /* not activated */
	set_proc(CPU_ACTIVATE_SECONDARY | CPU_USE_TPR_SHADOW);
	CHECK_EQ(owner(EXIT_REASON_APIC_ACCESS), NESTED_L1);
	vmcs12_set(&v12, VMCS_SECONDARY_VM_EXEC_CONTROL, ~CPU2_VIRTUALIZE_APIC_ACCESSES);
	CHECK_EQ(owner(EXIT_REASON_APIC_ACCESS), NESTED_L0);
}
