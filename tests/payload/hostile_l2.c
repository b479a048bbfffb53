/*
 * hostile_l2.c - the hostile L1's attacks through vmcs12 and L2 (issue 10
 * items 1, 2, 4, 6): L1's bitmaps changed by L2 between VM entry and the
 * exit they govern, a vmcs12 region edited by hand between VMCLEAR and
 * VMPTRLD, bitmap pages outside L1's memory, and MSR-load areas with
 * values WRMSR refuses.  L2 runs with the nested test's 64-bit guest state
 * (nested_env.c): identity-mapped low 4 GiB, so L2 reaches L1's bitmap
 * pages at their physical addresses.
 */
#include "hostile.h"

#include "drivers/serial/format.h"
#include "vmx/hypercall.h"

#define L2(sym) ((uint64_t)(uintptr_t)(sym))
extern char l2_vmcall[], l2_pf_write[], l2_pf_read[];

#define GIB (1ull << 30)
#define PF_ERR_WRITE 2u
#define VMERR_RESUME_NOT_LAUNCHED 5

/* MSR bitmap quarters (SDM Vol. 3C 25.6.9). */
#define MSR_BM_READ_LOW 0
#define MSR_BM_READ_HIGH 1024
#define MSR_BM_WRITE_LOW 2048
#define MSR_BM_WRITE_HIGH 3072
#define MSR_NONCANONICAL 0x8000000000000000ull

/* I/O exit qualification (SDM Vol. 3C table 28-5). */
#define IO_PORT(q) ((uint16_t)((q) >> 16))
#define IO_IN(q) (((q) >> 3) & 1)

static uint8_t *page(enum nx_page p)
{
	return (uint8_t *)(uintptr_t)nx.page[p];
}

/* The byte and bit of msr in the MSR bitmap, reads or writes. */
static uint8_t *msr_bit(uint32_t msr, bool write, uint8_t *mask)
{
	unsigned quarter = msr >= 0xc0000000u ? (write ? MSR_BM_WRITE_HIGH : MSR_BM_READ_HIGH)
					      : (write ? MSR_BM_WRITE_LOW : MSR_BM_READ_LOW);
	uint32_t n = msr & 0x1fff;
	*mask = (uint8_t)(1u << (n % 8));
	return page(PG_MSR_BITMAP) + quarter + n / 8;
}

static bool l1_after_exit_self(void)
{
	struct hx_self s;
	return hx_l0_self(&s) && s.bits == HC_SELF_INTACT;
}

/* "reason R qual Q len L at +D" with D relative to the expected instruction. */
static const char *exit_at(const struct nx_exit *e, uint64_t at)
{
	static char buf[2][96];
	static unsigned which;
	char *b = buf[which++ & 1];
	if (e->entry)
		return nx_exit_str(e);
	fmt_snprintf(b, 96, "reason %u%s qual 0x%llx len %u at %+lld", e->reason & 0xffff,
		     (e->reason & EXIT_REASON_FAILED_ENTRY) ? " (entry failed)" : "",
		     (unsigned long long)e->qual, e->len, (long long)(e->rip - at));
	return b;
}

/*
 * One attack of item 1: L1's bitmap bit set at VM entry, L2 clears it,
 * then the access.  SDM Vol. 3C 25.11.4: a bitmap changed while a logical
 * processor runs the guest that uses it gives unpredictable behaviour
 * (bare hardware may take the exit or not); microhv decides from its copy
 * made at VM entry (docs/security.md), so the exit is L1's, and that is
 * what is checked.  Nothing of L2's reaches VMX root: L0's GS base stays
 * its own (HC_L0_SELF right after the exit).
 */
static void flip_attack(const char *what, uint64_t entry, uint64_t at, uint8_t *byte,
			uint8_t mask, uint32_t reason, bool (*more)(const struct nx_exit *e))
{
	struct nx_exit e, n;
	*byte |= mask;
	nx_l2_gpr[GPR_RDI] = (uint64_t)(uintptr_t)byte;
	nx_l2_gpr[GPR_R8] = mask;
	nx_run(entry, NX_RFLAGS_FIXED, &e);
	bool flipped = !(*byte & mask);
	bool exited = !e.entry && e.reason == reason && e.rip == at && more(&e);
	bool self = l1_after_exit_self();
	bool resumed = exited && nx_skip(&e, &n) && n.reason == EXIT_REASON_VMCALL;
	hx_check(flipped && exited && self && resumed, what,
		 "%s ecx 0x%x; bit cleared by L2 %d; L0 intact %d; VMCALL after %d",
		 exit_at(&e, at), (uint32_t)nx_l2_gpr[GPR_RCX], flipped, self, resumed);
}

static uint32_t g_ecx;
static uint64_t g_rax_rdx;

static bool msr_exit_ecx(const struct nx_exit *e)
{
	(void)e;
	return (uint32_t)nx_l2_gpr[GPR_RCX] == g_ecx;
}

static bool rdmsr_not_done(const struct nx_exit *e)
{
	(void)e;
	return (uint32_t)nx_l2_gpr[GPR_RCX] == g_ecx &&
	       ((nx_l2_gpr[GPR_RDX] << 32) | (uint32_t)nx_l2_gpr[GPR_RAX]) == g_rax_rdx;
}

static bool out_80(const struct nx_exit *e)
{
	return IO_PORT(e->qual) == 0x80 && !IO_IN(e->qual) && (e->qual & 7) == 0;
}

static void msr_regs(uint32_t msr, uint64_t value)
{
	g_ecx = msr;
	g_rax_rdx = value;
	nx_l2_gpr[GPR_RCX] = msr;
	nx_l2_gpr[GPR_RAX] = (uint32_t)value;
	nx_l2_gpr[GPR_RDX] = value >> 32;
}

void hx_bitmaps_flipped_by_l2(void)
{
	nx_say(HX_PREFIX ": group - L1's bitmaps cleared by L2 between VM entry and the exit "
		      "(item 1)");
	uint64_t r = nx_vmcs_init(PG_VMCS_A);
	if (nx_outcome(r) != NX_SUCCEED || !nx_set_ctl(NX_PROC, CPU_USE_IO_BITMAPS, "I/O bitmaps")) {
		hx_check(false, "a VMCS for item 1", "%s", nx_result_str(r));
		return;
	}
	uint8_t mask;
	uint8_t *byte;

	nx_reset_l2();
	nx_set_ctl(NX_PROC, CPU_USE_IO_BITMAPS, "I/O bitmaps");
	byte = msr_bit(MSR_IA32_GS_BASE, true, &mask);
	/* The base an attacker wants for L0: a page of L1's own. */
	msr_regs(MSR_IA32_GS_BASE, nx.page[PG_SCRATCH]);
	flip_attack("L2 clears L1's WRMSR bit of IA32_GS_BASE, then WRMSR: exit 32 to L1",
		    L2(hx_l2_flip_wrmsr), L2(hx_l2_flip_wrmsr_at), byte, mask,
		    EXIT_REASON_MSR_WRITE, msr_exit_ecx);

	nx_reset_l2();
	nx_set_ctl(NX_PROC, CPU_USE_IO_BITMAPS, "I/O bitmaps");
	byte = msr_bit(MSR_IA32_DEBUGCTL, true, &mask);
	msr_regs(MSR_IA32_DEBUGCTL, 0xc1); /* LBR, TR, BTS */
	flip_attack("L2 clears L1's WRMSR bit of IA32_DEBUGCTL, then WRMSR (BTS): exit 32 to L1",
		    L2(hx_l2_flip_wrmsr), L2(hx_l2_flip_wrmsr_at), byte, mask,
		    EXIT_REASON_MSR_WRITE, msr_exit_ecx);
	uint64_t dbg = ~0ull;
	uint64_t f = nx_rdmsr(MSR_IA32_DEBUGCTL, &dbg);
	hx_check(!f && dbg == 0, "L1's IA32_DEBUGCTL still 0 after L2's attempt", "%s 0x%llx",
		 f ? nx_result_str(f) : "read", (unsigned long long)dbg);

	nx_reset_l2();
	nx_set_ctl(NX_PROC, CPU_USE_IO_BITMAPS, "I/O bitmaps");
	byte = msr_bit(MSR_IA32_GS_BASE, false, &mask);
	msr_regs(MSR_IA32_GS_BASE, 0x1111222233334444ull); /* RDX:RAX must stay as they are */
	flip_attack("L2 clears L1's RDMSR bit of IA32_GS_BASE, then RDMSR: exit 31 to L1, no "
		    "value read",
		    L2(hx_l2_flip_rdmsr), L2(hx_l2_flip_rdmsr_at), byte, mask,
		    EXIT_REASON_MSR_READ, rdmsr_not_done);

	nx_reset_l2();
	nx_set_ctl(NX_PROC, CPU_USE_IO_BITMAPS, "I/O bitmaps");
	byte = page(PG_IO_A) + 0x80 / 8;
	nx_l2_gpr[GPR_RDX] = 0x80;
	flip_attack("L2 clears L1's I/O bitmap bit of port 0x80, then OUT: exit 30 to L1",
		    L2(hx_l2_flip_out), L2(hx_l2_flip_out_at), byte, 1u << (0x80 % 8),
		    EXIT_REASON_IO_INSTRUCTION, out_80);
	hx_check_self("after L2's bitmap attacks");
}

/* ---- item 2 ---- */

#define MARK_MASK 0x6d61736bull	 /* "mask" */
#define MARK_MATCH 0x6d617463ull /* "matc" */

/* The offset of the 8-byte slot holding v in the VMCS region, or -1. */
static int find_slot(const uint64_t *region, uint64_t v)
{
	for (int i = 1; i < 4096 / 8; i++)
		if (region[i] == v)
			return i;
	return -1;
}

/*
 * L1 learns where its VMCS region keeps the #PF error-code mask and
 * match (VMWRITE of marks, VMCLEAR, a search), writes 64-bit values into
 * those 32-bit fields, and makes the region current again.  SDM Vol. 3C
 * 25.11.2: a VMCS field holds only its width; microhv cuts every field
 * once at VMPTRLD (vmcs12_normalize), so VMREAD and the #PF exit decision
 * both see the 32-bit values.  Then microhv's own layout
 * (nested/vmcs12.h: revision, abort, launch state): a launch state that
 * is neither clear nor launched is taken as clear.
 */
void hx_vmcs12_by_hand(void)
{
	nx_say(HX_PREFIX ": group - a vmcs12 region edited by hand (item 2)");
	uint64_t *region = (uint64_t *)(uintptr_t)nx.page[PG_VMCS_A];
	nx_vmcs_init(PG_VMCS_A);
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MASK, MARK_MASK);
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, MARK_MATCH);
	uint64_t r = nx_vmclear(nx.page[PG_VMCS_A]);
	int m = find_slot(region, MARK_MASK), t = find_slot(region, MARK_MATCH);
	hx_check(nx_outcome(r) == NX_SUCCEED && m > 0 && t > 0,
		 "VMCLEAR writes the fields back: the #PF mask and match found in the region",
		 "%s, slots %d and %d", nx_result_str(r), m, t);
	if (m <= 0 || t <= 0)
		return;
	region[m] = 0xffffffff00000000ull | PF_ERR_WRITE;
	region[t] = (1ull << 32) | PF_ERR_WRITE;
	r = nx_vmptrld(nx.page[PG_VMCS_A]);
	nx.launched = false;
	uint64_t mask = vr(VMCS_PAGE_FAULT_ERROR_CODE_MASK);
	uint64_t match = vr(VMCS_PAGE_FAULT_ERROR_CODE_MATCH);
	hx_check(nx_outcome(r) == NX_SUCCEED && mask == PF_ERR_WRITE && match == PF_ERR_WRITE,
		 "VMPTRLD of the edited region; VMREAD gives mask and match cut to 32 bits",
		 "%s mask 0x%llx match 0x%llx, want 2 and 2", nx_result_str(r),
		 (unsigned long long)mask, (unsigned long long)match);

	/* Bit 14 set: a #PF exits iff (error & MASK) == MATCH, with the cut values. */
	struct nx_exit e;
	nx_l2_gpr[GPR_RAX] = NX_L2_UNMAPPED;
	nx_run(L2(l2_pf_write), NX_RFLAGS_FIXED, &e);
	hx_check(!e.entry && e.reason == EXIT_REASON_EXCEPTION_NMI &&
		     (e.intr_info & 0xff) == VEC_PF && e.intr_error == PF_ERR_WRITE,
		 "L2's write #PF (error 2) exits to L1: 2 & mask == match as 32-bit fields",
		 "%s error 0x%x", nx_exit_str(&e), e.intr_error);
	nx_l2_gpr[GPR_RAX] = NX_L2_UNMAPPED;
	nx_l2_gpr[GPR_R15] = 0;
	nx_run(L2(l2_pf_read), NX_RFLAGS_FIXED, &e);
	hx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_R15] == VEC_PF,
		 "L2's read #PF (error 0) goes to L2's own handler: 0 & mask != match",
		 "%s vector %llu", nx_exit_str(&e), (unsigned long long)nx_l2_gpr[GPR_R15]);

	/* microhv's layout: bytes 8-11 are the launch state (nested/vmcs12.h). */
	nx_vmclear(nx.page[PG_VMCS_A]);
	((uint32_t *)region)[2] = 0x55;
	r = nx_vmptrld(nx.page[PG_VMCS_A]);
	uint64_t res = nx_enter(NX_RESUME), err = 0;
	if (nx_outcome(res & ~NX_ENTRY_FAILED) == NX_FAIL_VALID)
		nx_vmread(VMCS_VM_INSTRUCTION_ERROR, &err);
	nx.launched = false;
	bool launch = nx_run(L2(l2_vmcall), NX_RFLAGS_FIXED, &e) && e.reason == EXIT_REASON_VMCALL;
	hx_check(nx_outcome(r) == NX_SUCCEED && err == VMERR_RESUME_NOT_LAUNCHED && launch,
		 "a launch state of 0x55 written by hand is taken as clear: VMRESUME "
		 "VMfailValid(5), VMLAUNCH works",
		 "VMPTRLD %s, VMRESUME 0x%llx error %llu, then %s", nx_result_str(r),
		 (unsigned long long)res, (unsigned long long)err, nx_exit_str(&e));
}

/* ---- item 4 ---- */

/*
 * SDM Vol. 3C 27.2.1.1 checks the I/O- and MSR-bitmap addresses only for
 * alignment and the physical-address width: the entry works.  microhv
 * cannot read those pages as L1's memory and takes them as all ones
 * (docs/security.md): every access they govern exits to L1.
 */
static void outside_one(const char *what, uint64_t rip, uint32_t reason, uint16_t port, bool in)
{
	struct nx_exit e;
	nx_run(rip, NX_RFLAGS_FIXED, &e);
	bool ok = !e.entry && e.reason == reason && e.rip == rip;
	if (ok && reason == EXIT_REASON_IO_INSTRUCTION)
		ok = IO_PORT(e.qual) == port && IO_IN(e.qual) == in;
	hx_check(ok, what, "%s", exit_at(&e, rip));
}

void hx_bitmaps_outside(void)
{
	nx_say(HX_PREFIX ": group - bitmaps at 4 GiB, 256 GiB and the top of MAXPHYADDR (item 4)");
	nx_vmcs_init(PG_VMCS_A);
	nx_reset_l2();
	nx_set_ctl(NX_PROC, CPU_USE_IO_BITMAPS, "I/O bitmaps");
	vw(VMCS_IO_BITMAP_A, 4 * GIB);
	vw(VMCS_IO_BITMAP_B, 256 * GIB);
	vw(VMCS_MSR_BITMAP, (1ull << nx.maxphyaddr) - 4096);
	nx_l2_gpr[GPR_RDX] = 0x80;
	outside_one("I/O bitmap A at 4 GiB: VM entry works, OUT 0x80 exits to L1 (30)",
		    L2(hx_l2_out), EXIT_REASON_IO_INSTRUCTION, 0x80, false);
	nx_l2_gpr[GPR_RDX] = 0x8000;
	outside_one("I/O bitmap B at 256 GiB: IN from 0x8000 exits to L1 (30)", L2(hx_l2_in),
		    EXIT_REASON_IO_INSTRUCTION, 0x8000, true);
	nx_l2_gpr[GPR_RCX] = MSR_IA32_TSC;
	outside_one("MSR bitmap at the top of MAXPHYADDR: RDMSR IA32_TSC exits to L1 (31)",
		    L2(hx_l2_rdmsr), EXIT_REASON_MSR_READ, 0, false);
	nx_l2_gpr[GPR_RCX] = MSR_IA32_FS_BASE;
	nx_l2_gpr[GPR_RAX] = 0;
	nx_l2_gpr[GPR_RDX] = 0;
	outside_one("MSR bitmap at the top of MAXPHYADDR: WRMSR IA32_FS_BASE exits to L1 (32)",
		    L2(hx_l2_wrmsr), EXIT_REASON_MSR_WRITE, 0, false);
}

/* ---- item 6 ---- */

static void msr_area(uint32_t msr0, uint64_t v0, uint32_t msr1, uint64_t v1)
{
	uint64_t *a = (uint64_t *)(uintptr_t)nx.page[PG_MSR_LOAD];
	a[0] = msr0;
	a[1] = v0;
	a[2] = msr1;
	a[3] = v1;
}

/* SDM Vol. 3C 27.4: an entry WRMSR would refuse fails the VM entry: reason 34, its number. */
void hx_entry_msr_load(void)
{
	nx_say(HX_PREFIX ": group - MSR-load areas with values WRMSR refuses (item 6)");
	struct nx_exit e;
	nx_vmcs_init(PG_VMCS_A);
	nx_reset_l2();
	msr_area(MSR_IA32_SYSENTER_CS, 0x10, MSR_IA32_SYSENTER_EIP, MSR_NONCANONICAL);
	vw(VMCS_VM_ENTRY_MSR_LOAD_ADDR, nx.page[PG_MSR_LOAD]);
	vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2);
	nx_run(L2(l2_vmcall), NX_RFLAGS_FIXED, &e);
	hx_check(!e.entry && e.reason == (EXIT_REASON_FAILED_ENTRY | EXIT_REASON_MSR_LOADING) &&
		     e.qual == 2,
		 "VM-entry MSR-load entry 2 = a non-canonical IA32_SYSENTER_EIP: exit 34, "
		 "qualification 2",
		 "%s", nx_exit_str(&e));
	vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
}

/*
 * SDM Vol. 3C 28.6, 28.7: an exit MSR-load entry that fails is a VMX
 * abort (indicator 4): L1 enters the shutdown state and never sees the
 * exit.  Returns only if the exit came back to L1.  Not part of the
 * system test (hostile.c says why): next_args = vmx-abort asks for it.
 */
void hx_exit_msr_load_abort(void)
{
	nx_say(HX_PREFIX ": group - VM-exit MSR-load of a non-canonical IA32_SYSENTER_EIP: "
		      "VMX abort, L1 ends here");
	struct nx_exit e;
	nx_vmcs_init(PG_VMCS_A);
	nx_reset_l2();
	msr_area(MSR_IA32_SYSENTER_EIP, MSR_NONCANONICAL, 0, 0);
	vw(VMCS_VM_EXIT_MSR_LOAD_ADDR, nx.page[PG_MSR_LOAD]);
	vw(VMCS_VM_EXIT_MSR_LOAD_COUNT, 1);
	nx_run(L2(l2_vmcall), NX_RFLAGS_FIXED, &e);
	nx_say(HX_PREFIX ": note - the exit came back: %s", nx_exit_str(&e));
}
