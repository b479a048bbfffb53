/*
 * test_cr_emul.c - MOV to CR0/CR4, CLTS and LMSW as L0 completes them for
 * L1 (vmx/exit_insn.c: exit_cr_access, l1_write_cr0, l1_write_cr4): the
 * #GP(0) checks of SDM Vol. 2 "MOV—Move to/from Control Registers" and
 * Vol. 3A 2.5, 4.1.2, 4.10.1, and the PDPTE load of Vol. 3A 4.4.1.
 *
 * Issue 10, items 13 and 14: a value L0 writes into vmcs01 without the
 * checks the next VM entry makes (SDM Vol. 3C 27.3.1) leaves vmcs01
 * unenterable and halts the CPU; stale GUEST_PDPTEn fields under EPT make
 * L1 fault.  Each #GP case checks the exact outcome: #GP(0) injected, RIP
 * not advanced, GUEST_CR0/CR4, both read shadows, EFER, the IA-32e-mode
 * entry control and the PDPTE fields unchanged.  Each allowed case checks
 * the new values and RIP past the instruction.
 *
 * The fixture: g_l0 from the Bochs capability MSRs (tests/unit/hw_fake.c)
 * but with a newer CPU's CR4_FIXED1 (LA57, SMXE, PKE, CET, PKS and FRED's
 * bit 32 supported), so that only L0's own checks refuse those bits; EPT,
 * unrestricted guest and VPID on; nested on; L1 on CPU 1 not in VMX
 * operation; L1's memory a 64 KiB host buffer at GPA 0 (maxphyaddr 36),
 * every other address refused as L0's own memory is.  The exits go
 * through vmx_exit_dispatch on the software VMCS.
 */
#include "test.h"

#include "hw_fake.h"
#include "vmcs_soft.h"
#include "drivers/serial/log.h"
#include "vmx/controls.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/l1_memory.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

#include <string.h>

#define RIP0 0x0000000000401000ull
#define RSP0 0x0000000000a0ff00ull
#define CR0_64 0x80050033ull /* PG WP NE ET MP PE */
#define CR4_64 0x000406a0ull /* OSXSAVE OSXMMEXCPT OSFXSR PGE PAE */
#define EFER_64 0xd01ull     /* NXE LMA LME SCE */
#define CS_64 0xa09bu	     /* code, L = 1 */
#define CS_32 0xc09bu	     /* code, D = 1 */
#define TR_BUSY_16 0x83u     /* busy 16-bit TSS */
#define TR_BUSY_32 0x8bu     /* busy 32/64-bit TSS */
#define CR4_FIXED1_NEW 0x101f77fffull
#define CR4_PGE (1ull << 7)
#define CR4_PKS (1ull << 24)
#define CR0_EM (1ull << 2)
#define PDPTE_POISON 0x5050505050505050ull

#define INFO_GP0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_GP)
#define CRQ(cr, type, gpr) ((uint64_t)(cr) | ((uint64_t)(type) << 4) | ((uint64_t)(gpr) << 8))
#define LMSWQ(src) (CRQ(0, CR_ACCESS_LMSW, 0) | ((uint64_t)(src) << 16))

/* ---- L1's memory ---- */

#define MEM_SIZE 0x10000u
#define HV_BASE 0x7e000000ull
#define HV_SIZE 0x01200000ull
#define PDPT_GPA 0x3020ull /* 32-byte aligned, not page aligned: CR3[31:5] */

static uint8_t mem[MEM_SIZE];
static unsigned mem_reads;

static bool mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	mem_reads++;
	if (gpa + len < gpa || (gpa < HV_BASE + HV_SIZE && gpa + len > HV_BASE))
		return false; /* L0's own memory */
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return false;
	memcpy(buf, mem + gpa, len);
	return true;
}

static const struct l1_memory l1mem = {mem_read, NULL, NULL, 36, NULL, NULL };

static void put_pdpt(uint64_t gpa, uint64_t e0, uint64_t e1, uint64_t e2, uint64_t e3)
{
	uint64_t e[4] = {e0, e1, e2, e3};
	memcpy(mem + gpa, e, sizeof(e));
}

/* A valid PDPT: two present entries, a not-present one with junk, one present. */
#define PDPTE_A 0x0000000000005001ull
#define PDPTE_B 0x0000000000006001ull
#define PDPTE_C 0xfffffffffffff1feull /* P = 0: the other bits are ignored */
#define PDPTE_D 0x0000000fffff7019ull /* PWT PCD, address up to bit 35 */

/* ---- the fixture ---- */

static struct vcpu bsp, ap;
static struct guest_regs regs;

static void setup(void)
{
	vmcs_soft_reset();
	hw_fake_reset();
	log_init("t", LOG_ERROR);

	memset(&g_l0, 0, sizeof(g_l0));
	hw_fake_bochs_caps(&g_l0.caps);
	g_l0.caps.cr4_fixed1 = CR4_FIXED1_NEW;
	hw_fake_l0_controls(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_VPID);
	g_l0.cpuid = (struct cpuid_policy){.nested = true};
	g_l0.msr = (struct msr_policy){.nested = true};
	g_l0.hv_base = HV_BASE;
	g_l0.hv_size = HV_SIZE;
	g_l0.maxphyaddr = 36;

	memset(&bsp, 0, sizeof(bsp));
	memset(&ap, 0, sizeof(ap));
	bsp.launched = ap.launched = true;
	ap.index = 1;
	ap.apic_id = 2;
	g_l0.vcpus[0] = &bsp;
	g_l0.vcpus[1] = &ap;
	g_l0.ncpus = 2;

	memset(&regs, 0, sizeof(regs));
	regs.vcpu = &ap;

	memset(mem, 0, sizeof(mem));
	mem_reads = 0;
	put_pdpt(PDPT_GPA, PDPTE_A, PDPTE_B, PDPTE_C, PDPTE_D);
	hw_fake_l1_memory = &l1mem;

	hw_fake_vmcs01_l1_64(CR0_64, CR4_64, EFER_64, RIP0, RSP0);
	vmcs_soft_set(VMCS_GUEST_PDPTE0, PDPTE_POISON);
	vmcs_soft_set(VMCS_GUEST_PDPTE1, PDPTE_POISON);
	vmcs_soft_set(VMCS_GUEST_PDPTE2, PDPTE_POISON);
	vmcs_soft_set(VMCS_GUEST_PDPTE3, PDPTE_POISON);
}

/* L1's CR0/CR4 (the shadows; the registers with the CPU's fixed bits), EFER, CS, CR3. */
static void l1_state(uint64_t cr0, uint64_t cr4, uint64_t efer, uint32_t cs_ar, uint64_t cr3)
{
	vmcs_soft_set(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_soft_set(VMCS_GUEST_CR0, vmx_fix_cr0(&g_l0.caps, cr0, true));
	vmcs_soft_set(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_soft_set(VMCS_GUEST_CR4, vmx_fix_cr4(&g_l0.caps, cr4));
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, efer);
	vmcs_soft_set(VMCS_VM_ENTRY_CONTROLS,
		      g_l0.entry | ((efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, cs_ar);
	vmcs_soft_set(VMCS_GUEST_CR3, cr3);
}

/* 32-bit protected mode without paging, as an AP after INIT and its trampoline. */
#define CR0_PROT 0x00000011ull /* ET PE; NE clear, so setting it exits */
static void protected_mode(uint64_t cr4, uint64_t efer)
{
	l1_state(CR0_PROT, cr4, efer, CS_32, PDPT_GPA);
}

static void run_exit(uint64_t qual, uint32_t len)
{
	vmcs_soft_set(VMCS_VM_EXIT_REASON, EXIT_REASON_CR_ACCESS);
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, qual);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x7777);
	vmcs_soft_clear_counters();
	vmx_exit_dispatch(&regs);
}

/* MOV to CR<cr> from RAX. */
static void mov_cr(unsigned cr, uint64_t value)
{
	regs.gpr[GPR_RAX] = value;
	run_exit(CRQ(cr, CR_ACCESS_MOV_TO_CR, GPR_RAX), 3);
}

static const uint32_t watched[] = {
    VMCS_GUEST_CR0,    VMCS_CR0_READ_SHADOW, VMCS_GUEST_CR4,	     VMCS_CR4_READ_SHADOW,
    VMCS_GUEST_CR3,    VMCS_GUEST_IA32_EFER, VMCS_VM_ENTRY_CONTROLS, VMCS_GUEST_PDPTE0,
    VMCS_GUEST_PDPTE1, VMCS_GUEST_PDPTE2,    VMCS_GUEST_PDPTE3,
};
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))

struct snap {
	uint64_t v[NWATCHED];
};

static struct snap snap(void)
{
	struct snap s;
	for (unsigned i = 0; i < NWATCHED; i++)
		s.v[i] = vmcs_soft_get(watched[i]);
	return s;
}

static uint64_t field(uint32_t enc)
{
	return vmcs_soft_get(enc);
}

/* #GP(0) at the instruction, and L1's state exactly as before. */
static void check_gp0(const struct snap *before)
{
	CHECK_EQ(field(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK_EQ(field(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
	CHECK_EQ(field(VMCS_GUEST_RIP), RIP0);
	CHECK_EQ(field(VMCS_GUEST_RFLAGS) & RFLAGS_RF,
		 RFLAGS_RF); /* a fault (SDM Vol. 3A 18.3.1.1) */
	struct snap now = snap();
	for (unsigned i = 0; i < NWATCHED; i++)
		CHECK_EQ(now.v[i], before->v[i]);
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* MOV to CR<cr> from RAX, which must #GP(0) and change nothing. */
static void mov_cr_gp(unsigned cr, uint64_t value)
{
	struct snap before = snap();
	mov_cr(cr, value);
	check_gp0(&before);
}

/* Completed: RIP past it, nothing injected. */
static void check_done(unsigned len)
{
	CHECK_EQ(field(VMCS_GUEST_RIP), RIP0 + len);
	CHECK_EQ(field(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0);
	CHECK_EQ(field(VMCS_GUEST_RFLAGS) & RFLAGS_RF, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

static void check_cr0(uint64_t l1_value)
{
	CHECK_EQ(field(VMCS_CR0_READ_SHADOW), l1_value);
	CHECK_EQ(field(VMCS_GUEST_CR0), vmx_fix_cr0(&g_l0.caps, l1_value, true));
}

static void check_cr4(uint64_t l1_value)
{
	CHECK_EQ(field(VMCS_CR4_READ_SHADOW), l1_value);
	CHECK_EQ(field(VMCS_GUEST_CR4), vmx_fix_cr4(&g_l0.caps, l1_value));
}

static void check_pdptes_untouched(void)
{
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_PDPTE0), 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_PDPTE1), 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_PDPTE2), 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_PDPTE3), 0);
}

static void check_pdptes(uint64_t e0, uint64_t e1, uint64_t e2, uint64_t e3)
{
	CHECK_EQ(field(VMCS_GUEST_PDPTE0), e0);
	CHECK_EQ(field(VMCS_GUEST_PDPTE1), e1);
	CHECK_EQ(field(VMCS_GUEST_PDPTE2), e2);
	CHECK_EQ(field(VMCS_GUEST_PDPTE3), e3);
}

/* ---- MOV to CR4 ---- */

/* SDM Vol. 3A 2.5, 4.10.1: CR4.PCIDE can be set only in IA-32e mode (27.3.1.1 too). */
TEST(cr_emul_cr4_pcide_outside_ia32e_gp)
{
	/* Protected mode without paging, and with PAE paging; CR3[11:0] = 0. */
	for (unsigned paging = 0; paging < 2; paging++) {
		setup();
		l1_state(paging ? 0x80000011 : CR0_PROT, CR4_PAE, 0, CS_32, 0x3000);
		mov_cr_gp(4, CR4_PAE | CR4_PCIDE | CR4_VMXE);
	}
}

/* SDM Vol. 3A 4.10.1, Vol. 2 "MOV to CR": PCIDE 0 -> 1 needs CR3[11:0] = 0. */
TEST(cr_emul_cr4_pcide_with_cr3_pcid_gp)
{
	setup();
	vmcs_soft_set(VMCS_GUEST_CR3, 0x1005);
	mov_cr_gp(4, CR4_64 | CR4_PCIDE | CR4_VMXE);

	/* With PCID 0 it is allowed... */
	setup();
	vmcs_soft_set(VMCS_GUEST_CR3, 0x1000);
	mov_cr(4, CR4_64 | CR4_PCIDE | CR4_VMXE);
	check_done(3);
	check_cr4(CR4_64 | CR4_PCIDE | CR4_VMXE);

	/* ...and once set, CR3 may hold a PCID: keeping PCIDE is no 0 -> 1. */
	vmcs_soft_set(VMCS_GUEST_CR3, 0x1005);
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	mov_cr(4, CR4_64 | CR4_PCIDE);
	check_done(3);
	check_cr4(CR4_64 | CR4_PCIDE);
}

/* SDM Vol. 3A 2.5 (CR4.CET): CET only with CR0.WP = 1 (27.3.1.1 too). */
TEST(cr_emul_cr4_cet_without_wp_gp)
{
	setup();
	l1_state(CR0_64 & ~CR0_WP, CR4_64, EFER_64, CS_64, 0x1000);
	mov_cr_gp(4, CR4_64 | CR4_CET | CR4_VMXE);
}

/*
 * SDM Vol. 3A 2.5: a 1 in a reserved CR4 bit is #GP(0).  Reserved for L1:
 * bits 63:32 (FRED's bit 32 too, though this CPU has it), and the bits of
 * the features L1's CPUID hides (vmx/cpuid_policy.h: SMX, CET, PKS), though
 * this CPU's CR4_FIXED1 allows them.
 */
TEST(cr_emul_cr4_reserved_for_l1_gp)
{
	static const uint64_t bad[] = {1ull << 32, 1ull << 63, CR4_SMXE, CR4_CET, CR4_PKS};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		mov_cr_gp(4, CR4_64 | CR4_VMXE | bad[i]);
	}
	/* A bit the CPU and L1's CPUID both have (PKE) is fine. */
	setup();
	mov_cr(4, CR4_64 | CR4_VMXE | CR4_PKE);
	check_done(3);
	check_cr4(CR4_64 | CR4_VMXE | CR4_PKE);
}

/* SDM Vol. 3A 2.5 (CR4.LA57): LA57 cannot change in IA-32e mode. */
TEST(cr_emul_cr4_la57_in_ia32e_gp)
{
	/* Set, in 64-bit mode and in compatibility mode. */
	for (unsigned compat = 0; compat < 2; compat++) {
		setup();
		l1_state(CR0_64, CR4_64, EFER_64, compat ? CS_32 : CS_64, 0x1000);
		mov_cr_gp(4, CR4_64 | CR4_LA57 | CR4_VMXE);
	}
	/* Cleared. */
	setup();
	l1_state(CR0_64, CR4_64 | CR4_LA57, EFER_64, CS_64, 0x1000);
	mov_cr_gp(4, CR4_64 | CR4_VMXE);
	/* Outside IA-32e mode it may change. */
	setup();
	protected_mode(CR4_PAE, EFER_LME);
	mov_cr(4, CR4_PAE | CR4_LA57 | CR4_VMXE);
	check_done(3);
	check_cr4(CR4_PAE | CR4_LA57 | CR4_VMXE);
}

/* The checks that were there stay: PAE in IA-32e mode, VMXE. */
TEST(cr_emul_cr4_existing_rules_stay)
{
	setup();
	mov_cr_gp(4, (CR4_64 & ~CR4_PAE) | CR4_VMXE);

	setup();
	g_l0.cpuid.nested = false;
	mov_cr_gp(4, CR4_64 | CR4_VMXE);
}

/* ---- MOV to CR0 ---- */

/* SDM Vol. 3A 2.5 (CR0.WP): WP cannot be cleared while CR4.CET = 1 (27.3.1.1). */
TEST(cr_emul_cr0_clear_wp_with_cet_gp)
{
	/* L1 set CET natively (not host-owned); NE changes, so the MOV exits. */
	setup();
	l1_state(CR0_64, CR4_64 | CR4_CET, EFER_64, CS_64, 0x1000);
	mov_cr_gp(0, CR0_64 & ~(CR0_WP | CR0_NE));
	/* Without CET, WP may go. */
	setup();
	mov_cr(0, CR0_64 & ~(CR0_WP | CR0_NE));
	check_done(3);
	check_cr0(CR0_64 & ~(CR0_WP | CR0_NE));
}

/* SDM Vol. 3A 4.10.1, Vol. 2 (compatibility mode): PG stays while CR4.PCIDE = 1. */
TEST(cr_emul_cr0_pg_off_with_pcide_gp)
{
	setup();
	l1_state(CR0_64, CR4_64 | CR4_PCIDE, EFER_64, CS_32, 0x1000);
	mov_cr_gp(0, 0x00000031);
	/* Without PCIDE, compatibility mode leaves IA-32e mode. */
	setup();
	l1_state(CR0_64, CR4_64, EFER_64, CS_32, 0x1000);
	mov_cr(0, 0x00000031);
	check_done(3);
	check_cr0(0x31);
	CHECK_EQ(field(VMCS_GUEST_IA32_EFER), EFER_64 & ~EFER_LMA);
	CHECK_EQ(field(VMCS_VM_ENTRY_CONTROLS), g_l0.entry);
}

/*
 * SDM Vol. 2 "MOV to CR": activating IA-32e mode with CS.L = 1 or with TR
 * a 16-bit TSS is #GP(0) (27.3.1.2 refuses such an IA-32e-mode guest).
 */
TEST(cr_emul_cr0_activate_ia32e_cs_l_or_tss16_gp)
{
	setup();
	l1_state(CR0_PROT, CR4_PAE, EFER_LME, 0xe09b /* L = 1, D = 1 */, 0x1000);
	mov_cr_gp(0, 0x80000031);

	setup();
	protected_mode(CR4_PAE, EFER_LME);
	vmcs_soft_set(VMCS_GUEST_TR_AR_BYTES, TR_BUSY_16);
	mov_cr_gp(0, 0x80000031);

	/* A 32-bit CS and a 32-bit TSS: IA-32e mode, no PDPTEs (not PAE paging). */
	setup();
	protected_mode(CR4_PAE, EFER_LME);
	vmcs_soft_set(VMCS_GUEST_TR_AR_BYTES, TR_BUSY_32);
	mov_cr(0, 0x80000031);
	check_done(3);
	check_cr0(0x80000031);
	CHECK_EQ(field(VMCS_GUEST_IA32_EFER), EFER_LME | EFER_LMA);
	CHECK_EQ(field(VMCS_VM_ENTRY_CONTROLS), g_l0.entry | ENTRY_IA32E_MODE_GUEST);
	check_pdptes_untouched();
	CHECK_EQ(mem_reads, 0);
}

/* The checks that were there stay. */
TEST(cr_emul_cr0_existing_rules_stay)
{
	static const uint64_t bad[] = {
	    0x80000030, /* PG without PE */
	    0x20000031, /* NW without CD */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		protected_mode(CR4_PAE, 0);
		mov_cr_gp(0, bad[i]);
	}
	/* PG with LME and without PAE. */
	setup();
	protected_mode(0, EFER_LME);
	mov_cr_gp(0, 0x80000031);
	/* PG off in 64-bit mode. */
	setup();
	mov_cr_gp(0, 0x00000031);
}

/*
 * SDM Vol. 2 "MOV to CR": CR0's reserved bits 31:0 are ignored, ET stays
 * 1 (Vol. 3A 2.5), and outside 64-bit mode the source is 32 bits.
 */
TEST(cr_emul_cr0_ignored_bits_and_operand_size)
{
	setup();
	mov_cr(0, (CR0_64 & ~(CR0_NE | CR0_ET)) | (1ull << 6) | (1ull << 17) | (1ull << 28));
	check_done(3);
	check_cr0(CR0_64 & ~CR0_NE);

	/* 32-bit code: RAX[63:32] are not part of the operand. */
	setup();
	protected_mode(0, 0);
	mov_cr(0, 0xdead000000000031ull);
	check_done(3);
	check_cr0(0x31);
	setup();
	protected_mode(0, 0);
	mov_cr(4, 0xdead000000000000ull | CR4_VMXE);
	check_done(3);
	check_cr4(CR4_VMXE);
	/* 64-bit code: they are, and bit 32 is reserved. */
	setup();
	mov_cr_gp(0, (1ull << 32) | CR0_64);
}

/* ---- PDPTEs (SDM Vol. 3A 4.4.1) ---- */

/*
 * The case of issue 10, item 14: an AP of a 32-bit PAE kernel, after INIT,
 * sets PG (and NE, so it exits) in one MOV to CR0 with CR4.PAE already
 * set.  With EPT, VM entry takes the PDPTEs from GUEST_PDPTE0..3, which
 * must hold the table at CR3[31:5].
 */
TEST(cr_emul_cr0_pg_on_under_pae_loads_pdptes)
{
	setup();
	protected_mode(CR4_PAE, 0);
	mov_cr(0, 0x80000031);
	check_done(3);
	check_cr0(0x80000031);
	check_pdptes(PDPTE_A, PDPTE_B, PDPTE_C, PDPTE_D);
	CHECK_EQ(field(VMCS_GUEST_IA32_EFER), 0);
	CHECK_EQ(field(VMCS_VM_ENTRY_CONTROLS), g_l0.entry);

	/* CD (and NW) changing under PAE paging reload them too. */
	put_pdpt(PDPT_GPA, PDPTE_B, PDPTE_A, 0, 0);
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	mov_cr(0, 0xe0000031);
	check_done(3);
	check_pdptes(PDPTE_B, PDPTE_A, 0, 0);

	/* A bit outside CR0_PDPTE_BITS (NE) does not. */
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	mem_reads = 0;
	mov_cr(0, 0xe0000011);
	check_done(3);
	check_pdptes_untouched();
	CHECK_EQ(mem_reads, 0);
	/* Nor does CLTS, nor LMSW. */
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	run_exit(CRQ(0, CR_ACCESS_CLTS, 0), 2);
	check_done(2);
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	run_exit(LMSWQ(0xb), 3);
	check_done(3);
	check_cr0(0xe000001b);
	check_pdptes_untouched();
	CHECK_EQ(mem_reads, 0);
}

/* A present PDPTE with a reserved bit (2:1, 8:5, 63:MAXPHYADDR) is #GP(0). */
TEST(cr_emul_cr0_pdpte_reserved_gp)
{
	static const uint64_t bad[] = {PDPTE_B | (1ull << 1),  PDPTE_B | (1ull << 2),
				       PDPTE_B | (1ull << 5),  PDPTE_B | (1ull << 8),
				       PDPTE_B | (1ull << 36), PDPTE_B | (1ull << 63)};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		protected_mode(CR4_PAE, 0);
		put_pdpt(PDPT_GPA, PDPTE_A, PDPTE_C, PDPTE_A, bad[i]);
		mov_cr_gp(0, 0x80000031);
	}
}

/* A table L0 cannot read for L1 (here in L0's own memory, or past L1's RAM) is #GP(0). */
TEST(cr_emul_cr0_pdpt_unreadable_gp)
{
	static const uint64_t cr3[] = {HV_BASE + 0x1000, HV_BASE + HV_SIZE - 0x20, MEM_SIZE};
	for (unsigned i = 0; i < sizeof(cr3) / sizeof(cr3[0]); i++) {
		setup();
		protected_mode(CR4_PAE, 0);
		vmcs_soft_set(VMCS_GUEST_CR3, cr3[i]);
		mov_cr_gp(0, 0x80000031);
		CHECK(mem_reads > 0);
	}
}

/* MOV to CR4 under paging: PAE on, PGE/PSE/SMEP toggled reload; other bits do not. */
TEST(cr_emul_cr4_under_paging_loads_pdptes)
{
	/* 32-bit paging to PAE paging. */
	setup();
	l1_state(0x80000011, 0, 0, CS_32, PDPT_GPA);
	mov_cr(4, CR4_PAE | CR4_VMXE);
	check_done(3);
	check_cr4(CR4_PAE | CR4_VMXE);
	check_pdptes(PDPTE_A, PDPTE_B, PDPTE_C, PDPTE_D);

	static const uint64_t reload[] = {CR4_PGE, CR4_PSE, CR4_SMEP};
	for (unsigned i = 0; i < sizeof(reload) / sizeof(reload[0]); i++) {
		setup();
		l1_state(0x80000011, CR4_PAE, 0, CS_32, PDPT_GPA);
		mov_cr(4, CR4_PAE | CR4_VMXE | reload[i]);
		check_done(3);
		check_pdptes(PDPTE_A, PDPTE_B, PDPTE_C, PDPTE_D);
		/* A reserved bit makes the same MOV #GP(0). */
		setup();
		l1_state(0x80000011, CR4_PAE, 0, CS_32, PDPT_GPA);
		put_pdpt(PDPT_GPA, PDPTE_A | (1ull << 6), 0, 0, 0);
		mov_cr_gp(4, CR4_PAE | CR4_VMXE | reload[i]);
	}

	/* OSXSAVE (with VMXE) is not a PDPTE bit; nor is anything in IA-32e mode. */
	setup();
	l1_state(0x80000011, CR4_PAE, 0, CS_32, PDPT_GPA);
	mov_cr(4, CR4_PAE | CR4_VMXE | CR4_OSXSAVE);
	check_done(3);
	check_pdptes_untouched();
	setup();
	mov_cr(4, (CR4_64 & ~CR4_PGE) | CR4_VMXE);
	check_done(3);
	check_pdptes_untouched();
	/* PAE cleared under paging: 32-bit paging, no PDPTEs. */
	setup();
	l1_state(0x80000011, CR4_PAE, 0, CS_32, PDPT_GPA);
	mov_cr(4, CR4_VMXE);
	check_done(3);
	check_pdptes_untouched();
	CHECK_EQ(mem_reads, 0);
}

/* Without EPT the CPU loads the PDPTEs at VM entry: L0 checks them, writes no field. */
TEST(cr_emul_pdptes_without_ept)
{
	setup();
	g_l0.proc2 &= ~CPU2_ENABLE_EPT;
	protected_mode(CR4_PAE, 0);
	mov_cr(0, 0x80000031);
	check_done(3);
	check_pdptes_untouched();
	CHECK(mem_reads > 0);

	setup();
	g_l0.proc2 &= ~CPU2_ENABLE_EPT;
	protected_mode(CR4_PAE, 0);
	put_pdpt(PDPT_GPA, PDPTE_A | (1ull << 2), 0, 0, 0);
	mov_cr_gp(0, 0x80000031);
}
