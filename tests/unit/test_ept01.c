/*
 * test_ept01.c - vmx/ept01.c: EPT01 changed while L1 runs, driven as L1
 * drives it, through msr_guest_write (and the exit dispatcher), on two
 * CPUs of a QEMU/OVMF-like machine (MTRRs: default WB, fixed ranges WB /
 * UC 0xa0000 / WP 0xc0000, UC [3G, 4G); L0 at 0x0d000000, 16 MiB; the
 * xAPIC page 0xfee00000 read-only; 1 GiB leaves, 8 GiB mapped):
 *   - an MTRR write L0 accepts gives EPT01 the writing CPU's types, exact
 *     down to the page (a variable range splitting a 1 GiB leaf, fixed
 *     ranges, E = 0: UC everywhere), the hole still unmapped and the APIC
 *     page still read-only; the same types again rewrite nothing;
 *   - the generation: the writer INVEPTs at once, every other CPU at the
 *     end of its next exit, once, with g_l0.eptp;
 *   - pages: a table a merge unlinks is freed only once every CPU has
 *     flushed; 10,000 alternating writes leave the allocator's free count
 *     as it was; a CPU that never flushes bounds what EPT01 takes by
 *     EPT01_SPARE_PAGES;
 *   - IA32_APIC_BASE moved: the old page is RWX again when the last CPU
 *     left it, not before; the new page is never protected; back again, it
 *     is read-only again.
 * Expected types are written out from the set-up (SDM Vol. 3A 12.11):
 * UC 0, WC 1, WP 5, WB 6.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "arch/x86/regs.h"
#include "drivers/serial/log.h"
#include "hw_fake.h"
#include "mm/ept.h"
#include "mm/mtrr.h"
#include "vmcs_soft.h"
#include "vmx/ept01.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/msr_policy.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KB(x) ((uint64_t)(x) << 10)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)

#define UC 0
#define WC 1
#define WP 5
#define WB 6

#define MASK40(size) ((((1ull << 40) - 1) & ~((uint64_t)(size)-1)) | MTRR_PHYSMASK_VALID)
#define HV_BASE 0x0d000000ull
#define HV_SIZE MB(16)
#define APIC 0xfee00000ull
#define XAPIC_ON (APIC | APIC_BASE_ENABLE)
#define MTRRCAP 0x508ull /* WC, FIX, VCNT 8 */
#define DEF_WB 0xc06ull	 /* E, FE, default WB */
#define POOL_PAGES 1024
#define RIP0 0xfffff80000401000ull

static struct page_alloc pa;
static void *mem;
static struct vcpu cpu0, cpu1;
static struct msr_policy pol;
static struct mtrr_state fw;
static uint64_t pml4;
static size_t free0;
static uint64_t tables0;
static const struct ept_options opt_1g = {.page_1g = true, .page_2m = true};

#define LOG_KEEP 64
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

/* The firmware's MSRs: what RDMSR gives at launch (msr_l1_state_init, mtrr_read). */
static uint64_t fw_rd(uint32_t msr)
{
	switch (msr) {
	case MSR_IA32_APIC_BASE:
		return XAPIC_ON;
	case MSR_IA32_MTRRCAP:
		return MTRRCAP;
	case MSR_IA32_MTRR_DEF_TYPE:
		return DEF_WB;
	case MSR_IA32_MTRR_FIX64K_00000:
	case MSR_IA32_MTRR_FIX16K_80000:
		return 0x0606060606060606ull;
	case MSR_IA32_MTRR_FIX16K_A0000:
		return 0;
	case MSR_IA32_MTRR_PHYSBASE0:
		return 0xc0000000ull | UC;
	case MSR_IA32_MTRR_PHYSMASK0:
		return MASK40(GB(1));
	}
	if (msr >= MSR_IA32_MTRR_FIX4K_C0000 && msr <= MSR_IA32_MTRR_FIX4K_F8000)
		return 0x0505050505050505ull;
	return 0;
}

static void setup(void)
{
	hw_fake_reset();
	vmcs_soft_reset();
	ept01_reset();
	memset(&logged, 0, sizeof(logged));
	log_init("t", LOG_INFO);
	log_add_sink(capture_sink, NULL);

	memset(&g_l0, 0, sizeof(g_l0));
	hw_fake_bochs_caps(&g_l0.caps);
	mem = aligned_alloc(PAGE_SIZE, POOL_PAGES * PAGE_SIZE);
	if (!mem || !page_alloc_init(&pa, (uint64_t)(uintptr_t)mem, POOL_PAGES * PAGE_SIZE))
		abort();
	g_l0.pages = &pa;

	/* build_ept: EPT01 from the firmware's MTRRs, L0's memory a hole, the APIC page RO. */
	mtrr_read(&fw, fw_rd, 40, true);
	struct mem_range hole = {.base = HV_BASE, .size = HV_SIZE, .type = MEM_HYPERVISOR};
	pml4 = ept_build_identity(&pa, &fw, GB(8), &hole, 1, &opt_1g, NULL);
	if (!pml4 || !ept_set_page_rights(&pa, pml4, APIC, EPT_READ))
		abort();
	g_l0.eptp = ept_eptp(pml4, false);
	g_l0.apic_page = APIC;
	ept01_init(&pa, &g_l0.lock, pml4, &opt_1g, &fw);

	pol = (struct msr_policy){
	    .hv_base = HV_BASE,
	    .hv_size = HV_SIZE,
	    .map_end = GB(8),
	    .maxphyaddr = 40,
	    .linear_width = 48,
	    .mtrr = true,
	    .mtrrcap = MTRRCAP,
	};
	g_l0.msr = pol;
	memset(&cpu0, 0, sizeof(cpu0));
	memset(&cpu1, 0, sizeof(cpu1));
	cpu0.index = 0;
	cpu1.index = 1;
	cpu1.apic_id = 2;
	cpu0.launched = cpu1.launched = true;
	msr_l1_state_init(&cpu0.msrs, &pol, fw_rd);
	msr_l1_state_init(&cpu1.msrs, &pol, fw_rd);
	cpu0.msrs.apic_base |= APIC_BASE_BSP;
	g_l0.vcpus[0] = &cpu0;
	g_l0.vcpus[1] = &cpu1;
	g_l0.ncpus = 2;
	hw_fake_msr_add(MSR_IA32_APIC_BASE, XAPIC_ON, 0);

	free0 = page_alloc_free_pages(&pa);
	tables0 = ept_table_pages(pml4);
}

static void teardown(void)
{
	ept01_reset();
	log_remove_sink(capture_sink);
	memset(&g_l0, 0, sizeof(g_l0));
	free(mem);
}

static bool wr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	return msr_guest_write(&pol, v, msr, value);
}

static struct ept01_state state(void)
{
	struct ept01_state st;
	ept01_get_state(&st);
	return st;
}

struct walk {
	bool ok;
	uint64_t hpa;
	unsigned perms, type, level;
};

static struct walk walk(uint64_t gpa)
{
	struct walk w = {0};
	w.ok = ept_translate(pml4, gpa, &w.hpa, &w.perms, &w.type, &w.level);
	return w;
}

static bool mapped(uint64_t gpa, unsigned perms, unsigned type, unsigned level)
{
	struct walk w = walk(gpa);
	return w.ok && w.hpa == gpa && w.perms == perms && w.type == type && w.level == level;
}

#define RWX EPT_RWX
#define RO EPT_READ

/* SDM Vol. 3A 12.11.2.3: a variable range splits [5G, 6G); INVEPT on the writer, then the other. */
TEST(ept01_mtrr_write_retypes_ept01)
{
	setup();
	CHECK_EQ(tables0, 6); /* PML4, PDPT, PD+PT of [0, 2M), PD+PT of the APIC page */
	/* PHYSBASE1 alone: PHYSMASK1.V is 0, the range matches nothing, no type changes. */
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSBASE(1), GB(5) | WC));
	CHECK_EQ(state().generation, 0);
	CHECK_EQ(state().rewrites, 0);
	CHECK_EQ(hw_calls.invept, 0);
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSMASK(1), MASK40(MB(16))));
	CHECK_EQ(state().generation, 1);
	CHECK_EQ(state().rewrites, 1);
	CHECK_EQ(hw_calls.invept, 1);
	CHECK_EQ(hw_calls.last_invept_eptp, g_l0.eptp);
	CHECK(mapped(GB(5), RWX, WC, 2));
	CHECK(mapped(GB(5) + MB(16) - 1, RWX, WC, 2));
	CHECK(mapped(GB(5) + MB(16), RWX, WB, 2));
	CHECK(mapped(GB(6), RWX, WB, 3));
	CHECK(mapped(GB(3), RWX, UC, 2));
	CHECK(mapped(APIC, RO, UC, 1));
	CHECK(!walk(HV_BASE).ok);
	CHECK_EQ(state().tables, 7);
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), 1);
	CHECK(log_has("[t] info: EPT01: memory types from CPU 0's MTRRs: default WB, fixed ranges "
		      "on, 2 variable ranges; 0 leaves retyped, 1 split, 0 merged; 7 table pages, 0 "
		      "waiting for INVEPT, limit 70 (rewrite 1)"));
	/* CPU 1 flushes at the end of its next exit, once; CPU 0 already has. */
	vmx_ept01_sync(&cpu0);
	CHECK_EQ(hw_calls.invept, 1);
	vmx_ept01_sync(&cpu1);
	CHECK_EQ(hw_calls.invept, 2);
	vmx_ept01_sync(&cpu1);
	CHECK_EQ(hw_calls.invept, 2);
	/* The MTRRs are per CPU: CPU 1's are still the firmware's. */
	CHECK_EQ(cpu1.msrs.mtrr_var[3], 0);
	teardown();
}

/* Linux writes MTRR_DEF_TYPE again with the value it has: no rewrite, no INVEPT. */
TEST(ept01_same_types_rewrite_nothing)
{
	setup();
	CHECK(wr(&cpu0, MSR_IA32_MTRR_DEF_TYPE, DEF_WB));
	CHECK(wr(&cpu1, MSR_IA32_MTRR_DEF_TYPE, DEF_WB));
	CHECK(wr(&cpu1, MSR_IA32_MTRR_PHYSBASE(0), 0xc0000000ull | UC));
	CHECK(wr(&cpu1, MSR_IA32_MTRR_FIX16K_A0000, 0));
	CHECK_EQ(state().rewrites, 0);
	CHECK_EQ(state().generation, 0);
	CHECK_EQ(hw_calls.invept, 0);
	CHECK_EQ(logged.n, 0);
	/* While E = 0 nothing else counts (SDM Vol. 3A 12.11.2.1): one rewrite in, one out. */
	CHECK(wr(&cpu0, MSR_IA32_MTRR_DEF_TYPE, 0));
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSBASE(0), 0xc0000000ull | WP));
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSBASE(0), 0xc0000000ull | UC));
	CHECK(wr(&cpu0, MSR_IA32_MTRR_DEF_TYPE, DEF_WB));
	CHECK_EQ(state().rewrites, 2);
	CHECK_EQ(state().generation, 2);
	teardown();
}

/* SDM Vol. 3A 12.11.2.1: E = 0 is UC everywhere; restored, EPT01 is as built again. */
TEST(ept01_mtrrs_disabled_uc_then_restored)
{
	setup();
	CHECK(wr(&cpu0, MSR_IA32_MTRR_DEF_TYPE, 0));
	static const uint64_t gpas[] = {0, 0x9f000, 0xa0000, 0xc0000, MB(1), MB(3), GB(2), GB(3),
					GB(5), GB(8) - 1};
	for (unsigned i = 0; i < sizeof(gpas) / sizeof(gpas[0]); i++) {
		struct walk w = walk(gpas[i]);
		if (!CHECK(w.ok && w.hpa == gpas[i] && w.perms == RWX && w.type == UC))
			printf("     GPA 0x%llx\n", (unsigned long long)gpas[i]);
	}
	CHECK(mapped(APIC, RO, UC, 1)); /* still read-only */
	CHECK(!walk(HV_BASE).ok);	/* still L0's */
	CHECK(!walk(HV_BASE + HV_SIZE - 1).ok);
	CHECK(mapped(HV_BASE + HV_SIZE, RWX, UC, 2));
	CHECK(mapped(0, RWX, UC, 2)); /* the PT of [0, 2M) merged, waiting for CPU 1 */
	CHECK_EQ(state().retired, 1);
	CHECK_EQ(state().tables, 5);
	CHECK(log_has("[t] info: EPT01: memory types from CPU 0's MTRRs: disabled (E = 0), UC "
		      "everywhere; 989 leaves retyped, 1 merged; 5 table pages, 1 waiting for "
		      "INVEPT, limit 70 (rewrite 1)"));

	CHECK(wr(&cpu0, MSR_IA32_MTRR_DEF_TYPE, DEF_WB));
	CHECK(mapped(0xa0000, RWX, UC, 1));
	CHECK(mapped(0xc0000, RWX, WP, 1));
	CHECK(mapped(MB(3), RWX, WB, 2));
	CHECK(mapped(APIC, RO, UC, 1));
	CHECK_EQ(state().tables, tables0);
	CHECK_EQ(state().retired, 1);
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), 1);
	vmx_ept01_sync(&cpu1);
	CHECK_EQ(state().retired, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	teardown();
}

/* SDM Vol. 3A 12.11.2.2: IA32_MTRR_FIX4K_C0000 types 0xc0000-0xc7fff, 4 KiB each. */
TEST(ept01_fixed_range_write)
{
	setup();
	CHECK(wr(&cpu0, MSR_IA32_MTRR_FIX4K_C0000, 0x0000000000000001ull)); /* WC, then 7 UC */
	CHECK_EQ(state().generation, 1);
	CHECK(mapped(0xc0000, RWX, WC, 1));
	CHECK(mapped(0xc1000, RWX, UC, 1));
	CHECK(mapped(0xc7000, RWX, UC, 1));
	CHECK(mapped(0xc8000, RWX, WP, 1));
	CHECK(mapped(0xbf000, RWX, UC, 1));
	CHECK(mapped(0x9f000, RWX, WB, 1));
	CHECK_EQ(state().tables, tables0);
	teardown();
}

/* A merged table waits for every CPU's INVEPT (SDM Vol. 3C 29.4.1: cached entries). */
TEST(ept01_unlinked_table_freed_after_every_cpu_flushed)
{
	setup();
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSBASE(1), GB(5) | WC));
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSMASK(1), MASK40(MB(16))));
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), 1);
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSMASK(1), 0));
	CHECK(mapped(GB(5), RWX, WB, 3));
	CHECK_EQ(state().tables, tables0);
	CHECK_EQ(state().retired, 1);
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), 1); /* CPU 1 may still cache the PDPTE */
	vmx_ept01_sync(&cpu0);
	CHECK_EQ(state().retired, 1);
	vmx_ept01_sync(&cpu1);
	CHECK_EQ(state().retired, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	teardown();
}

/* An L1 rewriting an MTRR in a loop, its other CPU exiting now and then. */
TEST(ept01_10000_mtrr_writes_free_count_unchanged)
{
	setup();
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSBASE(1), GB(5) | WC));
	unsigned refused = 0;
	for (unsigned i = 0; i < 10000; i++) {
		refused += !wr(&cpu0, MSR_IA32_MTRR_PHYSMASK(1), (i & 1) ? 0 : MASK40(MB(16)));
		vmx_ept01_sync(&cpu1);
	}
	CHECK_EQ(refused, 0);
	CHECK_EQ(state().rewrites, 10000);
	CHECK_EQ(state().generation, 10000);
	CHECK_EQ(state().retired, 0);
	CHECK_EQ(state().tables, tables0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	CHECK(mapped(GB(5), RWX, WB, 3));
	CHECK(mapped(APIC, RO, UC, 1));
	CHECK_EQ(hw_calls.invept, 20000);
	/* One line per rewrite, the first 16, then every 1024th (9216 the last). */
	CHECK_EQ(logged.n, 16 + 9);
	teardown();
}

/*
 * CPU 1 never exits (an L1 spinning there): nothing merged can be freed,
 * so EPT01 takes at most EPT01_SPARE_PAGES more, then maps the range UC.
 */
TEST(ept01_cpu_that_never_flushes_bounds_the_pages)
{
	setup();
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSBASE(1), GB(5) | WC));
	size_t lowest = free0;
	unsigned over = 0, wrong = 0;
	for (unsigned i = 0; i < 1000; i++) {
		bool on = !(i & 1);
		CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSMASK(1), on ? MASK40(MB(16)) : 0));
		size_t now = page_alloc_free_pages(&pa);
		lowest = now < lowest ? now : lowest;
		struct ept01_state st = state();
		over += st.tables + st.retired > st.limit;
		/* Exact, or UC where no page was left to split. */
		struct walk w = walk(GB(5));
		wrong += !w.ok || (w.type != (on ? WC : WB) && w.type != UC);
	}
	CHECK_EQ(over, 0);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(free0 - lowest, EPT01_SPARE_PAGES);
	CHECK(log_has("[t] warn: EPT01: no table page left (limit 70): 1 ranges of several memory "
		      "types mapped UC (shortage 1)"));
	/* CPU 1 exits at last: every retired table goes back. */
	vmx_ept01_sync(&cpu1);
	CHECK_EQ(state().retired, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0);
	/* And the next write splits again, exactly. */
	CHECK(wr(&cpu0, MSR_IA32_MTRR_PHYSMASK(1), MASK40(MB(16))));
	CHECK(mapped(GB(5), RWX, WC, 2));
	teardown();
}

/* The APIC page's read-only right survives a retype of its range (UC -> WB). */
TEST(ept01_apic_page_read_only_after_retype)
{
	setup();
	CHECK(wr(&cpu1, MSR_IA32_MTRR_PHYSMASK(0), 0)); /* [3G, 4G) WB now */
	CHECK(mapped(APIC, RO, WB, 1));
	CHECK(mapped(APIC + KB(4), RWX, WB, 1));
	CHECK(mapped(GB(3), RWX, WB, 2));
	CHECK(!walk(HV_BASE).ok);
	CHECK_EQ(state().tables, tables0);
	teardown();
}

/* WRMSR and CPUID exits through the dispatcher: each CPU INVEPTs before it enters L1. */
TEST(ept01_exits_flush_before_entry)
{
	setup();
	hw_fake_l0_controls(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_VPID);
	hw_fake_vmcs01_l1_64(CR0_PE | CR0_PG | 0x30, CR4_PAE, EFER_LME | EFER_LMA, RIP0, 0x8000);
	struct guest_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.vcpu = &cpu0;
	regs.gpr[GPR_RCX] = MSR_IA32_MTRR_DEF_TYPE;
	regs.gpr[GPR_RAX] = 0; /* E = 0 */
	vmcs_soft_set(VMCS_VM_EXIT_REASON, EXIT_REASON_MSR_WRITE);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
	vmx_exit_dispatch(&regs);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), RIP0 + 2);
	CHECK_EQ(state().generation, 1);
	CHECK_EQ(hw_calls.invept, 1);
	regs.vcpu = &cpu1;
	vmcs_soft_set(VMCS_VM_EXIT_REASON, EXIT_REASON_CPUID);
	vmx_exit_dispatch(&regs);
	CHECK_EQ(hw_calls.invept, 2);
	CHECK_EQ(hw_calls.last_invept_eptp, g_l0.eptp);
	vmx_exit_dispatch(&regs);
	CHECK_EQ(hw_calls.invept, 2);
	teardown();
}

/* ---- IA32_APIC_BASE moved (SDM Vol. 3A 11.4.4): the old page's rights ---- */

TEST(ept01_apic_base_moved_restores_old_page)
{
	setup();
	/* CPU 0 moves; CPU 1 keeps its APIC at 0xfee00000: the page stays read-only. */
	CHECK(wr(&cpu0, MSR_IA32_APIC_BASE, 0xfed00000ull | APIC_BASE_ENABLE | APIC_BASE_BSP));
	CHECK(mapped(APIC, RO, UC, 1));
	CHECK_EQ(state().generation, 0);
	CHECK_EQ(hw_calls.invept, 0);
	/* The last one moves: read/write/execute again, its tables merged back. */
	CHECK(wr(&cpu1, MSR_IA32_APIC_BASE, 0xfed01000ull | APIC_BASE_ENABLE));
	CHECK(mapped(APIC, RWX, UC, 3));
	CHECK_EQ(state().generation, 1);
	CHECK_EQ(hw_calls.invept, 1); /* CPU 1, at once */
	CHECK_EQ(state().tables, tables0 - 2);
	CHECK_EQ(state().retired, 2);
	CHECK(log_has("[t] info: EPT01: local APIC page 0xfee00000 read/write/execute again: "
		      "CPU 1 moved the last APIC base away from it (change 1)"));
	/* The pages the APICs moved to are never protected (docs/l0.md, "Starting APs"). */
	CHECK(mapped(0xfed00000ull, RWX, UC, 3));
	CHECK(mapped(0xfed01000ull, RWX, UC, 3));
	CHECK_EQ(g_l0.apic_page, APIC);
	vmx_ept01_sync(&cpu0);
	CHECK_EQ(state().retired, 0);
	CHECK_EQ(page_alloc_free_pages(&pa), free0 + 2);
	/* One comes back: read-only again, as at launch. */
	CHECK(wr(&cpu0, MSR_IA32_APIC_BASE, XAPIC_ON | APIC_BASE_BSP));
	CHECK(mapped(APIC, RO, UC, 1));
	CHECK(mapped(APIC + KB(4), RWX, UC, 1));
	CHECK_EQ(state().tables, tables0);
	CHECK_EQ(state().generation, 2);
	CHECK(log_has("[t] info: EPT01: local APIC page 0xfee00000 read-only again: CPU 0 moved "
		      "its APIC base back (change 2)"));
	teardown();
}

/* Mode changes at the same address (x2APIC, disabled) move nothing. */
TEST(ept01_apic_mode_change_keeps_protection)
{
	setup();
	CHECK(wr(&cpu1, MSR_IA32_APIC_BASE, XAPIC_ON | APIC_BASE_X2APIC));
	CHECK(wr(&cpu0, MSR_IA32_APIC_BASE, APIC | APIC_BASE_BSP)); /* disabled */
	CHECK(mapped(APIC, RO, UC, 1));
	CHECK_EQ(state().generation, 0);
	CHECK_EQ(hw_calls.invept, 0);
	/* A refused move (onto L0's memory) moves nothing either. */
	CHECK(!wr(&cpu1, MSR_IA32_APIC_BASE, HV_BASE | APIC_BASE_ENABLE | APIC_BASE_X2APIC));
	CHECK(!wr(&cpu0, MSR_IA32_APIC_BASE, HV_BASE | APIC_BASE_BSP));
	CHECK(mapped(APIC, RO, UC, 1));
	CHECK_EQ(state().generation, 0);
	teardown();
}

/* Before ept01_init (or without EPT01) nothing is rewritten and no CPU flushes. */
TEST(ept01_off_changes_nothing)
{
	setup();
	ept01_reset();
	CHECK(wr(&cpu0, MSR_IA32_MTRR_DEF_TYPE, 0));
	CHECK(wr(&cpu0, MSR_IA32_APIC_BASE, 0xfed00000ull | APIC_BASE_ENABLE | APIC_BASE_BSP));
	CHECK(wr(&cpu1, MSR_IA32_APIC_BASE, 0xfed01000ull | APIC_BASE_ENABLE));
	vmx_ept01_sync(&cpu1);
	CHECK_EQ(hw_calls.invept, 0);
	CHECK(mapped(APIC, RO, UC, 1));
	CHECK(mapped(MB(3), RWX, WB, 2));
	teardown();
}

/* No page left to split the APIC page's leaf again: a warn line, the page stays RWX. */
TEST(ept01_apic_reprotect_without_pages_warns)
{
	setup();
	CHECK(wr(&cpu0, MSR_IA32_APIC_BASE, 0xfed00000ull | APIC_BASE_ENABLE | APIC_BASE_BSP));
	CHECK(wr(&cpu1, MSR_IA32_APIC_BASE, 0xfed00000ull | APIC_BASE_ENABLE));
	CHECK(mapped(APIC, RWX, UC, 3));
	/* A comb of a mask (every other 4 KiB WC) takes every spare page, the rest UC. */
	CHECK(wr(&cpu1, MSR_IA32_MTRR_PHYSBASE(2), 0 | WC));
	CHECK(wr(&cpu1, MSR_IA32_MTRR_PHYSMASK(2), 0x1000 | MTRR_PHYSMASK_VALID));
	struct ept01_state st = state();
	CHECK_EQ(st.tables + st.retired, st.limit);
	CHECK(wr(&cpu0, MSR_IA32_APIC_BASE, XAPIC_ON | APIC_BASE_BSP));
	CHECK(mapped(APIC, RWX, UC, 3));
	CHECK(log_has("[t] warn: EPT01: cannot write-protect the local APIC page 0xfee00000 again "
		      "(no table page): INIT and SIPI there go to the hardware"));
	st = state();
	CHECK_EQ(st.tables + st.retired, st.limit);
	CHECK_EQ(free0 - page_alloc_free_pages(&pa), EPT01_SPARE_PAGES); /* 2 retired among them */
	teardown();
}
