/*
 * test_msr_policy.c - the guest's MSRs (vmx/msr_policy.h): the table, the
 * bitmap built from it, every kind of row, and the critical cases of
 * issue 10 items 9 and 10:
 *   - IA32_APIC_BASE onto L0's memory: #GP(0), logged, the kept base and
 *     the CPU's MSR unchanged; the IPIs L0 sends go through the kept base;
 *   - x2APIC registers (the ICR included) outside x2APIC mode: #GP(0);
 *   - FS/GS base and the other MSRs VM entry and exit switch: the current
 *     VMCS's guest field, never RDMSR/WRMSR in root;
 *   - PT, PEBS, DS, the PMU, LBRs: #GP(0), and CPUID does not report them;
 *   - an MSR in no row: #GP(0) with a rate-limited line naming it;
 *   - MTRRs: L1's copy, validated (a reserved type is #GP(0)), never the CPU's.
 * Expected values are written out from the SDM, not taken from the table.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "arch/x86/regs.h"
#include "drivers/serial/log.h"
#include "hw_fake.h"
#include "vmcs_soft.h"
#include "vmx/ap_start.h"
#include "vmx/controls.h"
#include "vmx/cpuid_policy.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/msr_policy.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>
#include <string.h>

#define HV_BASE 0x0d000000ull
#define HV_SIZE 0x01000000ull
#define MAP_END 0x100000000ull
#define XAPIC_ON (0xfee00000ull | APIC_BASE_ENABLE) /* xAPIC at FEE00000H */
#define X2APIC_ON (XAPIC_ON | APIC_BASE_X2APIC)
#define MTRRCAP_BOCHS 0x508ull /* WC, FIX, VCNT 8 (Bochs corei7_skylake_x) */
#define RIP0 0xfffff80000401000ull
#define INFO_GP0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_GP)

static struct vcpu cpu, other;
static struct msr_policy pol;
static struct guest_regs regs;
static struct boot_info bi;

#define LOG_KEEP 32
static struct {
	char line[LOG_KEEP][LOG_LINE_MAX + 1];
	int n;
} logged;

static void capture_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (logged.n < LOG_KEEP) {
		size_t n = len < LOG_LINE_MAX ? len : LOG_LINE_MAX;
		memcpy(logged.line[logged.n], line, n);
		logged.line[logged.n][n] = '\0';
		if (n && logged.line[logged.n][n - 1] == '\n')
			logged.line[logged.n][n - 1] = '\0';
	}
	logged.n++;
}

static bool log_has(const char *text)
{
	for (int i = 0; i < logged.n && i < LOG_KEEP; i++)
		if (strcmp(logged.line[i], text) == 0)
			return true;
	return false;
}

static void setup(void)
{
	vmcs_soft_reset();
	hw_fake_reset();
	msr_refusal_log_reset();
	memset(&logged, 0, sizeof(logged));
	log_init("t", LOG_INFO);
	log_add_sink(capture_sink, NULL);

	memset(&cpu, 0, sizeof(cpu));
	cpu.index = 1;
	cpu.apic_id = 2;
	cpu.launched = true;
	cpu.msrs.apic_base = XAPIC_ON;
	memset(&other, 0, sizeof(other));
	other.index = 0;
	other.apic_id = 0;
	other.launched = true;
	other.msrs.apic_base = XAPIC_ON | APIC_BASE_BSP;
	pol = (struct msr_policy){
		.nested = true,
		.hv_base = HV_BASE,
		.hv_size = HV_SIZE,
		.map_end = MAP_END,
		.maxphyaddr = 39,
		.linear_width = 48,
		.mtrr = true,
		.mtrrcap = MTRRCAP_BOCHS,
	};
	/* The CPU's APIC base MSR, to see that L0 writes (or does not write) it. */
	hw_fake_msr_add(MSR_IA32_APIC_BASE, XAPIC_ON, 0);
	/* CPUID.80000001H:EDX: NX (20), LM (29). */
	hw_fake_cpuid_set(0x80000001, 0, 0, 0, 0x121, (1u << 20) | (1u << 29));

	/* g_l0 and a 64-bit vmcs01, for the paths through the exit handlers. */
	memset(&g_l0, 0, sizeof(g_l0));
	hw_fake_bochs_caps(&g_l0.caps);
	g_l0.unrestricted_guest = true;
	g_l0.cr0_mask = vmx_cr0_host_owned(&g_l0.caps, true);
	g_l0.cr4_mask = vmx_cr4_host_owned(&g_l0.caps);
	g_l0.msr = pol;
	g_l0.vcpus[0] = &other;
	g_l0.vcpus[1] = &cpu;
	g_l0.ncpus = 2;
	memset(&bi, 0, sizeof(bi));
	bi.cpu_count = 2;
	g_l0.bi = &bi;
	hw_fake_vmcs01_l1_64(CR0_PE | CR0_PG | 0x30, CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE, RIP0,
			     0x8000);
	memset(&regs, 0, sizeof(regs));
	regs.vcpu = &cpu;
}

static bool rd(uint32_t msr, uint64_t *v)
{
	return msr_guest_read(&pol, &cpu, msr, v);
}

static bool wr(uint32_t msr, uint64_t v)
{
	return msr_guest_write(&pol, &cpu, msr, v);
}

/* WRMSR as an exit of L1 on cpu, through the dispatcher's handler. */
static void exit_wr(uint32_t msr, uint64_t value)
{
	g_l0.msr = pol;
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	regs.gpr[GPR_RCX] = msr;
	regs.gpr[GPR_RAX] = (uint32_t)value;
	regs.gpr[GPR_RDX] = value >> 32;
	exit_wrmsr(&cpu, &regs);
}

static bool gp0_injected(void)
{
	return vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD) == INFO_GP0 &&
	       vmcs_soft_get(VMCS_GUEST_RIP) == RIP0;
}

static bool skipped(void)
{
	return vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD) == 0 &&
	       vmcs_soft_get(VMCS_GUEST_RIP) == RIP0 + 2;
}

/* ---- the table and the bitmap ---- */

/*
 * The allowlist, written out: what passes without an exit (SDM Vol. 3C
 * 25.6.9).  Reads: TSC, APIC_BASE, SYSENTER_CS/ESP/EIP, DEBUGCTL,
 * XFD/XFD_ERR, TSC_DEADLINE, the x2APIC registers, FS/GS base,
 * KERNEL_GS_BASE, TSC_AUX.
 * Writes: PRED_CMD, FLUSH_CMD, SYSENTER_*, XFD/XFD_ERR, TSC_DEADLINE, the
 * x2APIC registers but the ICR, FS/GS base, KERNEL_GS_BASE, TSC_AUX.
 */
static bool allow_both(uint32_t m)
{
	return (m >= 0x174 && m <= 0x176) || m == 0x1c4 || m == 0x1c5 || m == 0x6e0 ||
	       (m >= 0xc0000100 && m <= 0xc0000103);
}

static bool allow_read(uint32_t m)
{
	return allow_both(m) || m == 0x10 || m == 0x1b || m == 0x1d9 || (m >= 0x800 && m <= 0x8ff);
}

static bool allow_write(uint32_t m)
{
	return allow_both(m) || m == 0x49 || m == 0x10b || (m >= 0x800 && m <= 0x8ff && m != 0x830);
}

TEST(msr_bitmap_is_the_allowlist)
{
	static uint8_t b[MSR_BITMAP_SIZE];
	memset(b, 0, sizeof(b));
	msr_bitmap_build(b);
	unsigned wrong_list = 0, wrong_table = 0, pass_r = 0, pass_w = 0;
	for (int hi = 0; hi < 2; hi++) {
		for (uint32_t i = 0; i <= 0x1fff; i++) {
			uint32_t m = (hi ? 0xc0000000u : 0) + i;
			bool er = msr_bitmap_exits(b, m, false), ew = msr_bitmap_exits(b, m, true);
			pass_r += !er;
			pass_w += !ew;
			if (er == allow_read(m) || ew == allow_write(m))
				wrong_list++;
			/* And the table says the same: pass-through rows only. */
			struct msr_row_info row;
			bool in = msr_table_lookup(m, &row);
			if (er != !(in && (row.pass & MSR_PASS_READ)) ||
			    ew != !(in && (row.pass & MSR_PASS_WRITE)))
				wrong_table++;
		}
	}
	CHECK_EQ(wrong_list, 0);
	CHECK_EQ(wrong_table, 0);
	CHECK_EQ(pass_r, 1 + 1 + 3 + 1 + 2 + 1 + 256 + 4);
	CHECK_EQ(pass_w, 1 + 1 + 3 + 2 + 1 + 255 + 4);
	/* Raw bytes: read-low at 0, read-high at 1024, write-low 2048, write-high 3072. */
	CHECK_EQ(b[0x10 / 8], 0xfe);	       /* TSC (bit 0) reads pass */
	CHECK_EQ(b[2048 + 0x10 / 8], 0xff);    /* ... writes exit */
	CHECK_EQ(b[0x18 / 8], 0xf7);	       /* APIC_BASE 1BH: bit 3 */
	CHECK_EQ(b[2048 + 0x18 / 8], 0xff);
	CHECK_EQ(b[0x170 / 8], 0x8f);	       /* SYSENTER 174H-176H: bits 4-6 */
	CHECK_EQ(b[0x830 / 8], 0x00);	       /* x2APIC 830H-837H reads */
	CHECK_EQ(b[2048 + 0x830 / 8], 0x01);   /* ... writes but the ICR */
	CHECK_EQ(b[1024 + 0x100 / 8], 0xf0);   /* C0000100H-C0000103H */
	CHECK_EQ(b[3072 + 0x100 / 8], 0xf0);
	CHECK_EQ(b[1024 + 0x80 / 8], 0xff);    /* EFER: exits */
	CHECK_EQ(b[0x570 / 8], 0xff);	       /* RTIT_CTL: exits */
	/* Outside both ranges: always. */
	static const uint32_t outside[] = {0x2000, 0x40000000, 0x4b564d02, 0xc0002000, 0xc0010000,
					   0xffffffff};
	for (unsigned i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
		CHECK(msr_bitmap_exits(b, outside[i], false) && msr_bitmap_exits(b, outside[i], true));
}

TEST(msr_table_rows_sorted_disjoint_named)
{
	struct msr_row_info row, prev = {0};
	unsigned n = 0, bad = 0;
	for (unsigned i = 0; msr_table_row(i, &row); i++, n++) {
		if (row.first > row.last || (i && row.first <= prev.last) || !row.name || !row.name[0])
			bad++;
		/* A pass-through access is one L0 can also perform (vmcs12's MSR areas). */
		if (((row.pass & MSR_PASS_READ) && !row.readable) ||
		    ((row.pass & MSR_PASS_WRITE) && !row.writable))
			bad++;
		prev = row;
	}
	CHECK_EQ(bad, 0);
	CHECK(n >= 40);
	CHECK(!msr_table_row(n, &row));
}

/* ---- rows of the VMCS: the current VMCS's guest field, never the CPU ---- */

static const struct {
	uint32_t msr, field;
	uint64_t before; /* the guest field's value */
	uint64_t value;	 /* valid for WRMSR */
} field_rows[] = {
	{0x174, VMCS_GUEST_SYSENTER_CS, 0x8, 0x10},
	{0x175, VMCS_GUEST_SYSENTER_ESP, 0x7000, 0xfffffe0000003000ull},
	{0x176, VMCS_GUEST_SYSENTER_EIP, 0x7100, 0xffffffff81c018f0ull},
	{0x1d9, VMCS_GUEST_IA32_DEBUGCTL, 0, 0x2},
	{0x277, VMCS_GUEST_IA32_PAT, 0x0007040600070406ull, 0x0407050600070106ull},
	{0xc0000080, VMCS_GUEST_IA32_EFER, 0xd00, 0xd01},
	{0xc0000100, VMCS_GUEST_FS_BASE, 0x7200, 0x7f0000001000ull},
	{0xc0000101, VMCS_GUEST_GS_BASE, 0x7300, 0xffffffff83044000ull},
};

TEST(msr_field_rows_read_and_write_the_current_vmcs)
{
	unsigned bad = 0;
	for (unsigned i = 0; i < sizeof(field_rows) / sizeof(field_rows[0]); i++) {
		setup();
		/* The CPU holds L0's value: it must never be read or written. */
		hw_fake_msr_add(field_rows[i].msr, 0xbad0bad0, 0);
		vmcs_soft_set(field_rows[i].field, field_rows[i].before);
		uint64_t v = 0x99;
		if (!rd(field_rows[i].msr, &v) || v != field_rows[i].before)
			bad++;
		if (!wr(field_rows[i].msr, field_rows[i].value) ||
		    vmcs_soft_get(field_rows[i].field) != field_rows[i].value)
			bad++;
		if (hw_calls.rdmsr || hw_calls.wrmsr)
			bad++;
		if (bad)
			printf("     MSR 0x%x: %u wrong\n", field_rows[i].msr, bad);
	}
	CHECK_EQ(bad, 0);
}

/* Critical: L1's WRMSR of GS_BASE (L0 finds its vcpu through it) goes to vmcs01. */
TEST(msr_gs_base_write_goes_to_vmcs01_not_the_cpu)
{
	setup();
	hw_fake_msr_add(MSR_IA32_GS_BASE, 0xffff800000001000ull, 0); /* L0's vcpu pointer */
	exit_wr(MSR_IA32_GS_BASE, 0x00000000deadb000ull);
	CHECK(skipped());
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_GS_BASE), 0xdeadb000);
	CHECK_EQ(hw_calls.wrmsr, 0);
	uint64_t v;
	CHECK(hw_fake_msr_get(MSR_IA32_GS_BASE, &v));
	CHECK_EQ(v, 0xffff800000001000ull);
	/* Read back: the field, not the CPU's L0 value. */
	regs.gpr[GPR_RCX] = MSR_IA32_GS_BASE;
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	exit_rdmsr(&cpu, &regs);
	CHECK_EQ(regs.gpr[GPR_RAX], 0xdeadb000);
	CHECK_EQ(regs.gpr[GPR_RDX], 0);
	CHECK_EQ(hw_calls.rdmsr, 0);
	/* Non-canonical: #GP(0), field unchanged. */
	exit_wr(MSR_IA32_GS_BASE, 0x0000800000000000ull);
	CHECK(gp0_injected());
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_GS_BASE), 0xdeadb000);
	CHECK_EQ(hw_calls.wrmsr, 0);
}

/* While L2 runs (vmcs02 current), the same rows act on vmcs02, not vmcs01. */
TEST(msr_field_rows_follow_the_current_vmcs)
{
	setup();
	vmcs_soft_set(VMCS_GUEST_FS_BASE, 0x1111000);
	vmcs_soft_load(0x7000); /* "vmcs02" */
	vmcs_soft_set(VMCS_GUEST_FS_BASE, 0x2222000);
	uint64_t v = 0;
	CHECK(rd(MSR_IA32_FS_BASE, &v));
	CHECK_EQ(v, 0x2222000);
	CHECK(wr(MSR_IA32_FS_BASE, 0x3333000));
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_FS_BASE), 0x3333000);
	vmcs_soft_load(VMCS_SOFT_DEFAULT_PA);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_FS_BASE), 0x1111000);
	CHECK_EQ(hw_calls.wrmsr + hw_calls.rdmsr, 0);
}

/* WRMSR's own #GP cases for the rows of the VMCS (SDM Vol. 4, Vol. 3A 2.2.1, 13.12.2). */
TEST(msr_field_rows_refuse_what_wrmsr_refuses)
{
	setup();
	static const struct {
		uint32_t msr;
		uint64_t value;
	} bad[] = {
		{0xc0000080, 1ull << 1},			  /* EFER: reserved bit 1 */
		{0xc0000080, 1ull << 12},			  /* EFER.SVME: reserved on Intel */
		{0xc0000080, 0x801},				  /* LME cleared with paging on */
		{0x277, 0x0007040600070402ull},			  /* PAT: type 2 */
		{0x277, 0x0807040600070406ull},			  /* PAT: type 8 */
		{0x1d9, 1ull << 0},				  /* DEBUGCTL.LBR */
		{0x1d9, 1ull << 7},				  /* DEBUGCTL.TR|BTS */
		{0x1d9, (1ull << 6) | (1ull << 7) | (1ull << 8)}, /* BTS into a DS area */
		{0x175, 0x0000800000000000ull},			  /* SYSENTER_ESP non-canonical */
		{0x176, 0xfff0000000000000ull},			  /* SYSENTER_EIP non-canonical */
		{0xc0000100, 0x0001000000000000ull},		  /* FS_BASE non-canonical */
	};
	unsigned wrong = 0;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t before = 0, after = 0;
		CHECK(rd(bad[i].msr, &before));
		if (wr(bad[i].msr, bad[i].value) || !rd(bad[i].msr, &after) || after != before) {
			printf("     MSR 0x%x value 0x%llx accepted\n", bad[i].msr,
			       (unsigned long long)bad[i].value);
			wrong++;
		}
	}
	CHECK_EQ(wrong, 0);
	/* EFER: LMA is the CPU's (a write leaves it); NXE needs CPUID's NX. */
	CHECK(wr(0xc0000080, EFER_LME | EFER_SCE));
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), EFER_LME | EFER_LMA | EFER_SCE);
	hw_fake_cpuid_set(0x80000001, 0, 0, 0, 0, 1u << 29);
	CHECK(!wr(0xc0000080, EFER_LME | EFER_NXE));
	/* With paging off LME may change (long-mode entry). */
	vmcs_soft_set(VMCS_GUEST_CR0, CR0_PE | 0x30);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0);
	CHECK(wr(0xc0000080, EFER_LME));
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), EFER_LME);
	CHECK_EQ(hw_calls.wrmsr + hw_calls.rdmsr, 0);
}

/* ---- rows performed on the CPU, ignored, refused ---- */

TEST(msr_cpu_rows_checked_then_written)
{
	setup();
	hw_fake_msr_add(MSR_IA32_STAR, 0, 0);
	hw_fake_msr_add(MSR_IA32_LSTAR, 0, 0);
	hw_fake_msr_add(MSR_IA32_TSC_AUX, 0, 0xffffffff00000000ull);
	CHECK(wr(MSR_IA32_STAR, 0x0023001000000000ull));
	CHECK_EQ(hw_calls.last_wrmsr, MSR_IA32_STAR);
	CHECK(wr(MSR_IA32_LSTAR, 0xffffffff81c00080ull));
	/* A non-canonical LSTAR never reaches the CPU. */
	unsigned writes = hw_calls.wrmsr;
	CHECK(!wr(MSR_IA32_LSTAR, 0x0000800000000000ull));
	CHECK_EQ(hw_calls.wrmsr, writes);
	/*
	 * KERNEL_GS_BASE: L1's own (it passes through), read from the CPU;
	 * written on the CPU (vmcs12's MSR-load areas) after WRMSR's canonical
	 * check: a non-canonical value never reaches it.
	 */
	hw_fake_msr_add(MSR_IA32_KERNEL_GS_BASE, 0xffff888000001000ull, 0);
	uint64_t v = 0;
	CHECK(rd(MSR_IA32_KERNEL_GS_BASE, &v));
	CHECK_EQ(v, 0xffff888000001000ull);
	CHECK(!wr(MSR_IA32_KERNEL_GS_BASE, 0x0000800000000000ull));
	CHECK_EQ(hw_calls.wrmsr, writes);
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0xc0000102 (IA32_KERNEL_GS_BASE) = "
		      "0x800000000000 refused: not a canonical address: #GP(0) (refusal 1)"));
	CHECK(wr(MSR_IA32_KERNEL_GS_BASE, 0xffff888000002000ull));
	CHECK_EQ(hw_calls.wrmsr, writes + 1);
	CHECK(rd(MSR_IA32_KERNEL_GS_BASE, &v));
	CHECK_EQ(v, 0xffff888000002000ull);
	/* The CPU's own refusal (TSC_AUX bits 63:32) is a #GP(0) too. */
	CHECK(!wr(MSR_IA32_TSC_AUX, 1ull << 32));
	CHECK(wr(MSR_IA32_TSC_AUX, 7));
	CHECK(rd(MSR_IA32_TSC_AUX, &v));
	CHECK_EQ(v, 7);
	/* BIOS_SIGN_ID: the write is dropped (L0's CPUID exit loads it), the read is the CPU's. */
	hw_fake_msr_add(MSR_IA32_BIOS_SIGN_ID, 0x0000002c00000000ull, 0);
	writes = hw_calls.wrmsr;
	CHECK(wr(MSR_IA32_BIOS_SIGN_ID, 0));
	CHECK_EQ(hw_calls.wrmsr, writes);
	CHECK(rd(MSR_IA32_BIOS_SIGN_ID, &v));
	CHECK_EQ(v, 0x0000002c00000000ull);
	/* The C-state configuration is L0's: reads show the CPU's, writes are dropped. */
	hw_fake_msr_add(0xe2, 0x1e008403, 0);
	hw_fake_msr_add(0x1fc, 0x2904005d, 0);
	CHECK(rd(0xe2, &v));
	CHECK_EQ(v, 0x1e008403);
	CHECK(rd(0x1fc, &v));
	writes = hw_calls.wrmsr;
	CHECK(wr(0x1fc, 0x2904005d & ~2ull)); /* intel_idle: C1E promotion off */
	CHECK(wr(0xe2, 0));
	CHECK_EQ(hw_calls.wrmsr, writes);
	CHECK(hw_fake_msr_get(0x1fc, &v));
	CHECK_EQ(v, 0x2904005d);
	/* Write-only commands: PRED_CMD and FLUSH_CMD reads are #GP, writes reach the CPU. */
	hw_fake_msr_add(MSR_IA32_PRED_CMD, 0, ~1ull);
	CHECK(!rd(MSR_IA32_PRED_CMD, &v));
	CHECK(wr(MSR_IA32_PRED_CMD, 1));
	CHECK_EQ(hw_calls.last_wrmsr, MSR_IA32_PRED_CMD);
}

/*
 * Critical: what reaches VMX root (PT, PEBS/BTS/DS, PMU, LBRs), microcode
 * updates, and the machine-check banks: #GP(0) both ways even where the
 * CPU has the MSR, the CPU untouched, each refusal logged with its name.
 */
TEST(msr_not_offered_rows_gp)
{
	static const uint32_t refused[] = {
		0x570, /* IA32_RTIT_CTL */
		0x560, /* IA32_RTIT_OUTPUT_BASE */
		0x561, /* IA32_RTIT_OUTPUT_MASK_PTRS */
		0x571, 0x572, 0x580, 0x587,
		0x600, /* IA32_DS_AREA */
		0x3f1, /* IA32_PEBS_ENABLE */
		0x38f, /* IA32_PERF_GLOBAL_CTRL */
		0x38d, 0x38e, 0x390,
		0xc1, 0xc8, 0x186, 0x18d, 0x309, 0x30b, 0x345, 0x4c1, 0x4c8,
		0x1c8, 0x1c9, 0x680, 0x6df, 0xdc0, 0x14ce, 0x14cf, /* LBRs */
		0x79, /* IA32_BIOS_UPDT_TRIG */
		0x17b, 0x280, 0x400, 0x401, 0x47f, /* MCG_CTL, MCi_*: no banks */
	};
	unsigned wrong = 0;
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		setup();
		hw_fake_msr_add(refused[i], 0x77, 0);
		uint64_t v = 0x99;
		if (rd(refused[i], &v) || v != 0x99 || wr(refused[i], 0) || wr(refused[i], 1) ||
		    hw_calls.rdmsr || hw_calls.wrmsr) {
			printf("     MSR 0x%x not refused\n", refused[i]);
			wrong++;
		}
		uint64_t hw = 0;
		if (!hw_fake_msr_get(refused[i], &hw) || hw != 0x77)
			wrong++;
	}
	CHECK_EQ(wrong, 0);
	setup();
	exit_wr(0x570, 0x2001); /* TraceEn | ToPA */
	CHECK(gp0_injected());
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x570 (IA32_RTIT_CTL/STATUS/CR3_MATCH) = "
		      "0x2001 refused: not offered: #GP(0) (refusal 1)"));
	exit_wr(0x600, 0xd000000);
	CHECK(gp0_injected());
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x600 (IA32_DS_AREA) = 0xd000000 refused: "
		      "not offered: #GP(0) (refusal 1)"));
	exit_wr(0x3f1, 1);
	CHECK(gp0_injected());
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x3f1 (IA32_PEBS_ENABLE) = 0x1 refused: not "
		      "offered: #GP(0) (refusal 1)"));
	CHECK_EQ(hw_calls.wrmsr, 0);
}

/* Critical: an MSR in no row is #GP(0), named in a rate-limited log line. */
TEST(msr_unknown_gp_logged_rate_limited)
{
	setup();
	hw_fake_msr_add(0x4b564d02, 0, 0); /* the CPU has it: still not offered */
	hw_fake_msr_add(0x1a4, 0, 0); /* MISC_FEATURE_CONTROL (prefetchers) */
	uint64_t v = 0x55;
	CHECK(!rd(0x1a4, &v));
	CHECK_EQ(v, 0x55);
	CHECK(log_has("[t] warn: CPU 1: RDMSR of MSR 0x1a4, which L0 does not offer: #GP(0) "
		      "(refusal 1)"));
	exit_wr(0x4b564d02, 0x1234);
	CHECK(gp0_injected());
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x4b564d02, which L0 does not offer: #GP(0) "
		      "(refusal 1)"));
	CHECK_EQ(hw_calls.rdmsr + hw_calls.wrmsr, 0);
	/* 16 lines per MSR and direction, then every 1024th. */
	int before = logged.n;
	unsigned accepted = 0;
	for (unsigned i = 2; i <= 2048; i++)
		accepted += wr(0x4b564d02, i);
	CHECK_EQ(accepted, 0);
	CHECK_EQ(logged.n - before, 15 + 2);
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x4b564d02, which L0 does not offer: #GP(0) "
		      "(refusal 1024)"));
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x4b564d02, which L0 does not offer: #GP(0) "
		      "(refusal 2048)"));
	/* Another MSR, or the other direction, has its own count. */
	before = logged.n;
	CHECK(!rd(0x4b564d02, &v));
	CHECK_EQ(logged.n - before, 1);
}

TEST(msr_feature_control_and_vmx_caps)
{
	setup();
	uint64_t v = 0;
	CHECK(rd(MSR_IA32_FEATURE_CONTROL, &v));
	CHECK_EQ(v, 5); /* locked, VMX outside SMX */
	pol.nested = false;
	CHECK(rd(MSR_IA32_FEATURE_CONTROL, &v));
	CHECK_EQ(v, 1);
	CHECK(!wr(MSR_IA32_FEATURE_CONTROL, 1));
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x3a (IA32_FEATURE_CONTROL) = 0x1 refused: "
		      "read-only: #GP(0) (refusal 1)"));
	/* nested off (no L1 capability MSRs): every VMX MSR is #GP. */
	CHECK(!rd(MSR_IA32_VMX_BASIC, &v));
	CHECK(!rd(MSR_IA32_VMX_VMFUNC, &v));
	CHECK(!wr(MSR_IA32_VMX_BASIC, 0));
	CHECK_EQ(hw_calls.rdmsr + hw_calls.wrmsr, 0);
}

/* ---- emulated rows ---- */

TEST(msr_misc_enable_emulated)
{
	setup();
	/* The CPU: fast strings (0), perf monitoring (7), MONITOR FSM (18), XD disable (34). */
	hw_fake_msr_add(MSR_IA32_MISC_ENABLE, (1ull << 0) | (1ull << 7) | (1ull << 18) | (1ull << 34),
			0);
	uint64_t v = 0;
	CHECK(rd(MSR_IA32_MISC_ENABLE, &v));
	/* No PMU, BTS and PEBS unavailable (11, 12), no MONITOR/MWAIT (18). */
	CHECK_EQ(v, (1ull << 0) | (1ull << 11) | (1ull << 12) | (1ull << 34));
	/* Writing back what was read: nothing to do. */
	CHECK(wr(MSR_IA32_MISC_ENABLE, v));
	CHECK_EQ(hw_calls.wrmsr, 0);
	/* Any other change is #GP: fast strings, perf monitoring, setting LIMIT_CPUID. */
	CHECK(!wr(MSR_IA32_MISC_ENABLE, v & ~1ull));
	CHECK(!wr(MSR_IA32_MISC_ENABLE, v | (1ull << 7)));
	CHECK(!wr(MSR_IA32_MISC_ENABLE, v | (1ull << 22)));
	CHECK(!wr(MSR_IA32_MISC_ENABLE, v | (1ull << 18))); /* MONITOR/MWAIT stay off */
	CHECK_EQ(hw_calls.wrmsr, 0);
	/* Clearing XD disable reaches the CPU, its own bits kept. */
	CHECK(wr(MSR_IA32_MISC_ENABLE, v & ~(1ull << 34)));
	uint64_t hw = 0;
	CHECK(hw_fake_msr_get(MSR_IA32_MISC_ENABLE, &hw));
	CHECK_EQ(hw, (1ull << 0) | (1ull << 7) | (1ull << 18));
}

/*
 * IA32_SPEC_CTRL is never written in root for L1: the value goes into the
 * MSR-load entry every VM entry loads, and every VM exit loads L0's
 * (msr_switch_areas), so L1's mitigations act while it runs.
 */
TEST(msr_spec_ctrl_switched_on_entry_and_exit)
{
	setup();
	hw_fake_msr_add(MSR_IA32_SPEC_CTRL, 0, 0);
	uint64_t v = 0, entry = 1, exit = 1;
	CHECK(!rd(MSR_IA32_SPEC_CTRL, &v)); /* not enumerated */
	CHECK(!wr(MSR_IA32_SPEC_CTRL, 0));
	CHECK_EQ(msr_switch_areas(&pol, &cpu.msrs, &entry, &exit), 0);
	CHECK_EQ(entry, 0);
	CHECK_EQ(exit, 0);
	pol.spec_ctrl = SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD;
	cpu.msrs.spec_ctrl_guest = (struct vmx_msr_entry){ MSR_IA32_SPEC_CTRL, 0, 0 };
	cpu.msrs.spec_ctrl_l0 = (struct vmx_msr_entry){ MSR_IA32_SPEC_CTRL, 0, 2 };
	CHECK(wr(MSR_IA32_SPEC_CTRL, 5));
	CHECK(rd(MSR_IA32_SPEC_CTRL, &v));
	CHECK_EQ(v, 5);
	CHECK(!wr(MSR_IA32_SPEC_CTRL, 8)); /* a bit CPUID does not enumerate */
	CHECK_EQ(hw_calls.wrmsr + hw_calls.rdmsr, 0); /* the CPU keeps L0's in root */
	/* The areas: one 16-byte-aligned entry each (SDM 25.7.2), the guest's value and L0's. */
	CHECK_EQ(msr_switch_areas(&pol, &cpu.msrs, &entry, &exit), 1);
	CHECK_EQ(entry & 15, 0);
	CHECK_EQ(exit & 15, 0);
	const struct vmx_msr_entry *e = (const struct vmx_msr_entry *)(uintptr_t)entry;
	const struct vmx_msr_entry *x = (const struct vmx_msr_entry *)(uintptr_t)exit;
	CHECK_EQ(e->index, MSR_IA32_SPEC_CTRL);
	CHECK_EQ(e->reserved, 0);
	CHECK_EQ(e->value, 5);
	CHECK_EQ(x->index, MSR_IA32_SPEC_CTRL);
	CHECK_EQ(x->value, 2);
}

TEST(msr_machine_check_no_banks)
{
	setup();
	hw_fake_msr_add(MSR_IA32_MCG_CAP, 0x0000000000000c0aull, 0); /* 10 banks, CTL_P... */
	uint64_t v = 1;
	CHECK(rd(MSR_IA32_MCG_CAP, &v));
	CHECK_EQ(v, 0);
	CHECK(!wr(MSR_IA32_MCG_CAP, 0));
	CHECK(rd(MSR_IA32_MCG_STATUS, &v));
	CHECK_EQ(v, 0);
	CHECK(wr(MSR_IA32_MCG_STATUS, 0));
	CHECK(!wr(MSR_IA32_MCG_STATUS, 4));
	CHECK_EQ(hw_calls.wrmsr + hw_calls.rdmsr, 0);
}

TEST(msr_xss_only_offered_components)
{
	setup();
	hw_fake_msr_add(MSR_IA32_XSS, 0, 0);
	uint64_t v = 0;
	CHECK(!rd(MSR_IA32_XSS, &v));
	CHECK(!wr(MSR_IA32_XSS, 0));
	pol.xss = true;
	pol.xss_mask = (1ull << 10) | (1ull << 14); /* PASID, UINTR */
	CHECK(wr(MSR_IA32_XSS, 1ull << 10));
	CHECK(rd(MSR_IA32_XSS, &v));
	CHECK_EQ(v, 1ull << 10);
	CHECK(!wr(MSR_IA32_XSS, 1ull << 8)); /* PT state */
	CHECK(!wr(MSR_IA32_XSS, 1ull << 15)); /* arch LBR state */
	CHECK(hw_fake_msr_get(MSR_IA32_XSS, &v));
	CHECK_EQ(v, 1ull << 10);
}

/* ---- MTRRs: L1's copy, validated, never the CPU's ---- */

TEST(msr_mtrr_emulated)
{
	setup();
	cpu.msrs.mtrr_def_type = 0xc06;
	cpu.msrs.mtrr_var[0] = 0x80000000;
	cpu.msrs.mtrr_var[1] = 0xff80000800ull;
	cpu.msrs.mtrr_fixed[0] = 0x0606060606060606ull;
	hw_fake_msr_add(MSR_IA32_MTRR_DEF_TYPE, 0xc06, 0);
	uint64_t v = 0;
	CHECK(rd(MSR_IA32_MTRRCAP, &v));
	CHECK_EQ(v, 0x508);
	CHECK(!wr(MSR_IA32_MTRRCAP, 0x508));
	CHECK(rd(MSR_IA32_MTRR_DEF_TYPE, &v));
	CHECK_EQ(v, 0xc06);
	CHECK(rd(0x201, &v));
	CHECK_EQ(v, 0xff80000800ull);
	CHECK(rd(0x250, &v));
	CHECK_EQ(v, 0x0606060606060606ull);
	/* Linux's MTRR update: E off (default type UC), then back. */
	CHECK(wr(MSR_IA32_MTRR_DEF_TYPE, 0));
	CHECK(rd(MSR_IA32_MTRR_DEF_TYPE, &v));
	CHECK_EQ(v, 0);
	CHECK(wr(MSR_IA32_MTRR_DEF_TYPE, 0xc06));
	CHECK(wr(0x20f, 0x7ff0000800ull)); /* PHYSMASK7 */
	CHECK(wr(0x20e, 0x00c0000001ull)); /* PHYSBASE7: WC */
	CHECK(wr(0x26f, 0x0504010006060606ull));
	CHECK_EQ(cpu.msrs.mtrr_var[15], 0x7ff0000800ull);
	CHECK_EQ(cpu.msrs.mtrr_fixed[10], 0x0504010006060606ull);
	/* The CPU's MTRRs are never read or written (EPT01 takes the types: test_ept01.c). */
	CHECK_EQ(hw_calls.wrmsr + hw_calls.rdmsr, 0);
	CHECK(hw_fake_msr_get(MSR_IA32_MTRR_DEF_TYPE, &v));
	CHECK_EQ(v, 0xc06);
}

/* Critical: a reserved memory type or reserved bits in an MTRR is #GP(0) (SDM Vol. 3A 12.11). */
TEST(msr_mtrr_reserved_gp)
{
	setup();
	cpu.msrs.mtrr_def_type = 0xc06;
	static const struct {
		uint32_t msr;
		uint64_t value;
	} bad[] = {
		{0x2ff, 0xc02},			 /* default type 2: reserved */
		{0x2ff, 0xc07},			 /* 7 (UC-) is a PAT type only */
		{0x2ff, 0x1c06},		 /* bit 12 */
		{0x200, 0x80000003},		 /* PHYSBASE0 type 3 */
		{0x200, 0x80000106},		 /* PHYSBASE0 bit 8 */
		{0x200, 0x8000000000ull | 6},	 /* beyond MAXPHYADDR 39 */
		{0x201, 0xff80000801ull},	 /* PHYSMASK0 bit 0 */
		{0x201, 0xffff80000800ull},	 /* beyond MAXPHYADDR */
		{0x250, 0x0606060606060602ull},	 /* a fixed range of type 2 */
		{0x26a, 0x0808080808080808ull},	 /* type 8 */
		{0x210, 0x6},			 /* PHYSBASE8: VCNT is 8 */
		{0x211, 0x800},			 /* PHYSMASK8 */
		{0x251, 0},			 /* not an MTRR */
	};
	unsigned wrong = 0;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (wr(bad[i].msr, bad[i].value)) {
			printf("     MTRR 0x%x value 0x%llx accepted\n", bad[i].msr,
			       (unsigned long long)bad[i].value);
			wrong++;
		}
	}
	CHECK_EQ(wrong, 0);
	CHECK_EQ(cpu.msrs.mtrr_def_type, 0xc06);
	uint64_t v;
	CHECK(!rd(0x210, &v));
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x2ff (IA32_MTRR_DEF_TYPE) = 0xc02 refused: a "
		      "reserved type: #GP(0) (refusal 1)"));
	/* WC only where MTRRCAP.WC says so; no fixed ranges without MTRRCAP.FIX. */
	pol.mtrrcap = 0x008;
	CHECK(!wr(0x2ff, 0xc01));
	CHECK(!wr(0x250, 0));
	/* No MTRRs at all (CPUID.1:EDX.MTRR = 0). */
	pol.mtrr = false;
	CHECK(!rd(MSR_IA32_MTRRCAP, &v));
	CHECK(!rd(MSR_IA32_MTRR_DEF_TYPE, &v));
	CHECK_EQ(hw_calls.wrmsr + hw_calls.rdmsr, 0);
}

static uint64_t init_rd(uint32_t msr)
{
	if (msr == MSR_IA32_APIC_BASE)
		return 0xfee00900;
	if (msr == MSR_IA32_SPEC_CTRL)
		return 0x1f;
	return 0x1000 + msr;
}

TEST(msr_l1_state_at_launch)
{
	setup();
	struct l1_msrs m;
	memset(&m, 0x5a, sizeof(m));
	pol.spec_ctrl = SPEC_CTRL_IBRS | SPEC_CTRL_SSBD;
	msr_l1_state_init(&m, &pol, init_rd);
	CHECK_EQ(m.apic_base, 0xfee00900);
	CHECK_EQ(m.spec_ctrl_guest.index, MSR_IA32_SPEC_CTRL);
	CHECK_EQ(m.spec_ctrl_guest.reserved, 0);
	CHECK_EQ(m.spec_ctrl_guest.value, 0x5); /* the bits L1 may see */
	CHECK_EQ(m.spec_ctrl_l0.index, MSR_IA32_SPEC_CTRL);
	CHECK_EQ(m.spec_ctrl_l0.value, 0x1f); /* L0 keeps the CPU's */
	CHECK_EQ(m.mtrr_def_type, 0x1000 + 0x2ff);
	CHECK_EQ(m.mtrr_var[0], 0x1000 + 0x200);
	CHECK_EQ(m.mtrr_var[15], 0x1000 + 0x20f);
	CHECK_EQ(m.mtrr_var[16], 0); /* VCNT 8: no more read */
	CHECK_EQ(m.mtrr_fixed[0], 0x1000 + 0x250);
	CHECK_EQ(m.mtrr_fixed[2], 0x1000 + 0x259);
	CHECK_EQ(m.mtrr_fixed[10], 0x1000 + 0x26f);
	pol.mtrr = false;
	msr_l1_state_init(&m, &pol, init_rd);
	CHECK_EQ(m.mtrr_def_type, 0);
}

/* ---- IA32_APIC_BASE (issue 10 item 9) ---- */

/* Critical: L1 moves its APIC onto L0's memory: #GP(0), logged, nothing changes. */
TEST(msr_apic_base_onto_l0_memory_gp)
{
	static const uint64_t bases[] = {
		HV_BASE,			/* L0's first page */
		HV_BASE + HV_SIZE - 0x1000,	/* its last */
		HV_BASE + 0x5000,		/* one in the middle */
	};
	for (unsigned i = 0; i < 3; i++) {
		for (int en = 0; en < 2; en++) {
			setup();
			uint64_t value = bases[i] | (en ? APIC_BASE_ENABLE : 0);
			exit_wr(MSR_IA32_APIC_BASE, value);
			CHECK(gp0_injected());
			CHECK_EQ(cpu.msrs.apic_base, XAPIC_ON);
			CHECK_EQ(hw_calls.wrmsr, 0);
			uint64_t hw = 0;
			CHECK(hw_fake_msr_get(MSR_IA32_APIC_BASE, &hw));
			CHECK_EQ(hw, XAPIC_ON);
			char want[200];
			snprintf(want, sizeof(want),
				 "[t] warn: CPU 1: WRMSR of MSR 0x1b (IA32_APIC_BASE) = 0x%llx refused: "
				 "the APIC page would lie in L0's memory: #GP(0) (refusal 1)",
				 (unsigned long long)value);
			CHECK(log_has(want));
		}
	}
	/* The pages right beside L0's memory are not L0's. */
	setup();
	CHECK(wr(MSR_IA32_APIC_BASE, (HV_BASE - 0x1000) | APIC_BASE_ENABLE));
	CHECK_EQ(cpu.msrs.apic_base, (HV_BASE - 0x1000) | APIC_BASE_ENABLE);
	setup();
	CHECK(wr(MSR_IA32_APIC_BASE, (HV_BASE + HV_SIZE) | APIC_BASE_ENABLE));
	/* Beyond L0's identity map L0 could not send its IPIs: refused too. */
	setup();
	CHECK(!wr(MSR_IA32_APIC_BASE, MAP_END | APIC_BASE_ENABLE));
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x1b (IA32_APIC_BASE) = 0x100000800 refused: "
		      "the APIC page would lie beyond L0's identity map: #GP(0) (refusal 1)"));
	CHECK(wr(MSR_IA32_APIC_BASE, (MAP_END - 0x1000) | APIC_BASE_ENABLE));
}

/* SDM Vol. 3A 11.4.4, 11.12.1, 11.12.5: the CPU's own #GP cases, and the valid moves. */
TEST(msr_apic_base_states)
{
	setup();
	uint64_t v = 0;
	CHECK(rd(MSR_IA32_APIC_BASE, &v));
	CHECK_EQ(v, XAPIC_ON);
	CHECK_EQ(hw_calls.rdmsr, 0); /* the kept value */
	static const uint64_t bad[] = {
		XAPIC_ON | 1,				/* bit 0 */
		XAPIC_ON | (1ull << 9),			/* bit 9 */
		XAPIC_ON | (1ull << 39),		/* beyond MAXPHYADDR 39 */
		0xfee00000ull | APIC_BASE_X2APIC,	/* x2APIC, disabled: invalid */
	};
	for (unsigned i = 0; i < 4; i++)
		CHECK(!wr(MSR_IA32_APIC_BASE, bad[i]));
	CHECK_EQ(hw_calls.wrmsr, 0);
	/* xAPIC -> x2APIC: performed, kept. */
	CHECK(wr(MSR_IA32_APIC_BASE, X2APIC_ON));
	CHECK_EQ(cpu.msrs.apic_base, X2APIC_ON);
	uint64_t hw = 0;
	CHECK(hw_fake_msr_get(MSR_IA32_APIC_BASE, &hw));
	CHECK_EQ(hw, X2APIC_ON);
	/* x2APIC -> xAPIC directly: #GP. */
	CHECK(!wr(MSR_IA32_APIC_BASE, XAPIC_ON));
	CHECK_EQ(cpu.msrs.apic_base, X2APIC_ON);
	/* x2APIC -> disabled -> x2APIC: #GP on the second (through xAPIC only). */
	CHECK(wr(MSR_IA32_APIC_BASE, 0xfee00000ull));
	CHECK(!wr(MSR_IA32_APIC_BASE, X2APIC_ON));
	CHECK(wr(MSR_IA32_APIC_BASE, XAPIC_ON));
	/* BSP is the CPU's: a write cannot set it. */
	CHECK(wr(MSR_IA32_APIC_BASE, XAPIC_ON | APIC_BASE_BSP));
	CHECK_EQ(cpu.msrs.apic_base, XAPIC_ON);
	/* A base elsewhere in L1's memory: performed and kept. */
	CHECK(wr(MSR_IA32_APIC_BASE, 0xfec01000ull | APIC_BASE_ENABLE));
	CHECK_EQ(cpu.msrs.apic_base, 0xfec01000ull | APIC_BASE_ENABLE);
	/* A value the CPU refuses changes nothing. */
	hw_fake_msr_add(MSR_IA32_APIC_BASE, XAPIC_ON, APIC_BASE_X2APIC); /* no x2APIC */
	CHECK(!wr(MSR_IA32_APIC_BASE, 0xfec01000ull | APIC_BASE_ENABLE | APIC_BASE_X2APIC));
	CHECK_EQ(cpu.msrs.apic_base, 0xfec01000ull | APIC_BASE_ENABLE);
}

/* Critical: the x2APIC registers, the ICR first, are #GP(0) outside x2APIC mode. */
TEST(msr_x2apic_outside_x2apic_mode_gp)
{
	setup();
	hw_fake_msr_add(MSR_X2APIC_ICR, 0, 0);
	hw_fake_msr_add(0x80b, 0, 0);
	hw_fake_msr_add(0x802, 0x02000000, 0);
	/* An INIT to APIC ID 0 through the x2APIC ICR, the APIC in xAPIC mode. */
	exit_wr(MSR_X2APIC_ICR, (0ull << 32) | ICR_MODE_INIT | ICR_LEVEL_ASSERT);
	CHECK(gp0_injected());
	CHECK_EQ(hw_calls.ipis, 0);
	CHECK_EQ(hw_calls.wrmsr, 0);
	CHECK_EQ(other.start.state, AP_RUNNING);
	CHECK(log_has("[t] warn: CPU 1: WRMSR of MSR 0x830 (x2APIC ICR) = 0x4500 refused: the APIC "
		      "is not in x2APIC mode: #GP(0) (refusal 1)"));
	uint64_t v;
	CHECK(!wr(0x80b, 0));
	CHECK(!rd(0x802, &v));
	/* Disabled: the same. */
	cpu.msrs.apic_base = 0xfee00000ull;
	exit_wr(MSR_X2APIC_ICR, ICR_MODE_INIT | ICR_LEVEL_ASSERT);
	CHECK(gp0_injected());
	CHECK_EQ(hw_calls.rdmsr + hw_calls.wrmsr, 0);
	/* In x2APIC mode: the registers are the CPU's. */
	cpu.msrs.apic_base = X2APIC_ON;
	CHECK(wr(0x80b, 0));
	CHECK(rd(0x802, &v));
	CHECK_EQ(v, 0x02000000);
	/* A fixed IPI goes to the CPU; reserved ICR bits are #GP(0). */
	exit_wr(MSR_X2APIC_ICR, (5ull << 32) | 0x40);
	CHECK(skipped());
	CHECK_EQ(hw_calls.last_wrmsr, MSR_X2APIC_ICR);
	CHECK_EQ(hw_calls.last_wrmsr_value, (5ull << 32) | 0x40);
	unsigned w = hw_calls.wrmsr;
	exit_wr(MSR_X2APIC_ICR, (5ull << 32) | (1u << 13) | 0x40);
	CHECK(gp0_injected());
	CHECK_EQ(hw_calls.wrmsr, w);
}

static void take_kick(uint32_t apic_id, uint32_t low)
{
	if (apic_id == cpu.apic_id && low == (ICR_MODE_NMI | ICR_LEVEL_ASSERT) &&
	    cpu.start.state == AP_INIT_PENDING)
		cpu.start.state = AP_WAIT_SIPI; /* what ap_start_poll does first */
}

/* Critical: L0's IPIs go through the base L0 validated and keeps. */
TEST(msr_ipis_use_the_kept_apic_base)
{
	setup();
	g_l0.msr = pol;
	/* L1 on the BSP (other) tries its APIC onto L0's page: refused. */
	CHECK(!msr_guest_write(&pol, &other, MSR_IA32_APIC_BASE, HV_BASE | APIC_BASE_ENABLE));
	CHECK_EQ(other.msrs.apic_base, XAPIC_ON | APIC_BASE_BSP);
	/* Even were the CPU's MSR different, L0 does not RDMSR it for its IPIs. */
	hw_fake_msr_add(MSR_IA32_APIC_BASE, HV_BASE | APIC_BASE_ENABLE, 0);
	hw_fake_ipi_hook = take_kick;
	struct ipi init = {ICR_MODE_INIT | ICR_LEVEL_ASSERT, 2, false};
	CHECK(ap_start_icr_write(&other, &init));
	CHECK_EQ(hw_calls.ipis, 1);
	CHECK_EQ(hw_calls.last_ipi_apic_id, 2);
	CHECK_EQ(hw_calls.last_ipi_low, ICR_MODE_NMI | ICR_LEVEL_ASSERT);
	CHECK_EQ(hw_calls.last_ipi_apic_base, XAPIC_ON | APIC_BASE_BSP);
	CHECK_EQ(hw_calls.rdmsr, 0);
	/* In x2APIC mode (a validated change), the kick goes that way. */
	CHECK(msr_guest_write(&pol, &other, MSR_IA32_APIC_BASE, X2APIC_ON | APIC_BASE_BSP));
	cpu.start.state = AP_RUNNING;
	cpu.start.kick_armed = false;
	CHECK(ap_start_icr_write(&other, &init));
	CHECK_EQ(hw_calls.last_ipi_apic_base, X2APIC_ON | APIC_BASE_BSP);
}

/* ---- CPUID says what is not offered (cpuid_policy.h) ---- */

TEST(msr_cpuid_hides_what_is_not_offered)
{
	const struct cpuid_policy p = {.nested = true, .has_xsaves = true};
	static const uint32_t zeroed[] = {0xa, 0xf, 0x10, 0x14, 0x1c};
	for (unsigned i = 0; i < 5; i++) {
		struct cpuid_regs r = {~0u, ~0u, ~0u, ~0u};
		cpuid_policy_apply(&p, 0, zeroed[i], 0, &r);
		CHECK(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	}
	struct cpuid_regs r = {~0u, ~0u, ~0u, ~0u};
	cpuid_policy_apply(&p, 0, 1, 0, &r);
	CHECK_EQ(r.ecx & (1u << 15), 0); /* PDCM */
	CHECK_EQ(r.ecx & (1u << 2), 0);	 /* DTES64 */
	CHECK_EQ(r.ecx & (1u << 4), 0);	 /* DS-CPL */
	CHECK_EQ(r.edx & (1u << 21), 0); /* DS */
	CHECK_EQ(r.edx & ((1u << 22) | (1u << 29)), 0); /* ACPI, TM: no thermal MSRs */
	r = (struct cpuid_regs){~0u, ~0u, ~0u, ~0u};
	cpuid_policy_apply(&p, 0, 7, 0, &r);
	CHECK_EQ(r.ebx & (1u << 25), 0); /* Intel PT */
	CHECK_EQ(r.edx & (1u << 19), 0); /* arch LBR */
	CHECK_EQ(r.ecx & (1u << 7), 0);	 /* CET shadow stacks */
	CHECK_EQ(r.edx & (1u << 20), 0); /* CET IBT */
	CHECK_EQ(r.ecx & (1u << 31), 0); /* PKS */
	r = (struct cpuid_regs){~0u, ~0u, ~0u, ~0u};
	cpuid_policy_apply(&p, 0, 6, 0, &r);
	CHECK(r.eax == 4 && r.ebx == 0 && r.ecx == 0 && r.edx == 0); /* ARAT only */
	/* XSAVE: PT (8), CET (11, 12), HDC (13), LBR (15), HWP (16): neither in XSS nor listed. */
	r = (struct cpuid_regs){~0u, ~0u, ~0u, ~0u};
	cpuid_policy_apply(&p, 0, 0xd, 1, &r);
	CHECK_EQ(r.ecx, 0xfffe46ffu);
	CHECK_EQ(r.edx, 0xffffffffu);
	static const uint32_t sub[] = {8, 11, 12, 13, 15, 16};
	for (unsigned i = 0; i < 6; i++) {
		r = (struct cpuid_regs){~0u, ~0u, ~0u, ~0u};
		cpuid_policy_apply(&p, 0, 0xd, sub[i], &r);
		CHECK(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	}
	r = (struct cpuid_regs){~0u, ~0u, ~0u, ~0u};
	cpuid_policy_apply(&p, 0, 0xd, 9, &r); /* PKRU: untouched */
	CHECK_EQ(r.eax, ~0u);
}
