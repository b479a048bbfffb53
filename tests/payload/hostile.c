/*
 * hostile.c - the hostile L1: an EFI application that runs as L1 under
 * microhv (tests/system/bochs_hostile.sh) and attacks L0 with what issue
 * 10 lists, each attack made for real and its outcome checked against the
 * SDM (or, where the SDM leaves it open, against what microhv documents in
 * docs/security.md).  One COM1 line per check, "microhv-hostile: ok - WHAT
 * (values)" or "... not ok - ...", then "hostile-test: N passed, N failed"
 * and the power-off; the script checks beside each attack that L0's log
 * names what it refused.
 *
 * Order: L0's self-report (HC_L0_SELF) first, then the attacks without
 * L2 (L0's memory, MSRs, port I/O, NMIs, VMXON pointers), the attacks
 * through vmcs12 and L2 (hostile_l2.c), MOV to CR4, and L0's self-report
 * again: the same per-CPU pointer, all of it consistent, the refusals
 * counted as made.
 *
 * Left out of the run: the VM-exit MSR-load area with a value WRMSR
 * refuses (item 6), a VMX abort that ends L1 (SDM Vol. 3C 28.7: L1 enters
 * the shutdown state).  microhv takes it as L1's triple fault: with
 * on_triple_fault = halt the CPU stops and Bochs never powers off, and
 * after the reset of on_triple_fault = reset OVMF does not boot again in
 * Bochs 2.7 (it spins on the ACPI PM timer, read at port 0x0008).  The
 * payload makes that attack last only when its LoadOptions (hv.cfg
 * next_args) start with "vmx-abort", for a run by hand (with the script's
 * "console = com2" too, or the console checks fail).
 *
 * Not attempted: a task gate or any 32-bit task switch (L1 is a 64-bit
 * EFI program, and task switches #GP in IA-32e mode; the unit tests
 * test_task_switch*.c cover L0's emulation), INIT/SIPI (one CPU).
 *
 * Runs with interrupts off after boot services were used to allocate
 * memory (nested_env.c), except inside the NMI sequences.
 */
#include <efi.h>
#include <efilib.h>

#include "drivers/serial/format.h"
#include "vmx/hypercall.h"

#include "hostile.h"
#include "payload.h"

#define LINE 192
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define CR3_PWT (1ull << 3)
#define CR4_VMXE (1ull << 13)
#define CR4_PCIDE (1ull << 17)
#define GIB (1ull << 30)
#define PAGE 4096ull

/* L0's console: hv.cfg "console = com2" in bochs_hostile.sh. */
#define CONSOLE_PORT 0x2f8

/* VM-instruction errors (SDM Vol. 3C 31.4). */
#define VMERR_VMCLEAR_ADDR 2
#define VMERR_VMPTRLD_ADDR 9

/* xAPIC (SDM Vol. 3A 11.6.1): ICR, an NMI to a physical destination. */
#define APIC_ID 0x20
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_NMI 0x400u
#define NMI_WAIT 4000000u

static unsigned g_pass, g_fail;
static uint8_t g_pic1, g_pic2;
static struct hx_self g_self0;
static bool g_self0_ok;
unsigned hx_l0_accesses;

/* ---- output: nested_test.h's functions, for the nested test's objects ---- */

void nx_check(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	payload_check(HX_PREFIX, &g_pass, &g_fail, ok, what, fmt, ap);
	va_end(ap);
}

void hx_check(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	payload_check(HX_PREFIX, &g_pass, &g_fail, ok, what, fmt, ap);
	va_end(ap);
}

void nx_finish(void)
{
	static bool finishing;
	if (!finishing) {
		finishing = true;
		nx_env_l1_restore();
		outb(PIC1_DATA, g_pic1);
		outb(PIC2_DATA, g_pic2);
	}
	payload_say("hostile-test: %u passed, %u failed", g_pass, g_fail);
	payload_power_off();
}

__attribute__((noreturn)) void nx_unexpected_exception(uint64_t vector, uint64_t error,
						       uint64_t rip);
void nx_unexpected_exception(uint64_t vector, uint64_t error, uint64_t rip)
{
	hx_check(false, "no unexpected exception in L1", "vector %llu error 0x%llx rip 0x%llx",
		 (unsigned long long)vector, (unsigned long long)error, (unsigned long long)rip);
	nx_finish();
}

/* ---- L0's self-report ---- */

bool hx_l0_self(struct hx_self *s)
{
	uint64_t h[4] = {HC_L0_SELF, 0, 0, 0};
	uint64_t f = nx_hypercall(h);
	s->vcpu = h[1];
	s->bits = h[2];
	s->refusals = h[3];
	return !f && h[0] == HV_OK;
}

void hx_check_self(const char *when)
{
	struct hx_self s;
	bool ok = hx_l0_self(&s);
	char what[LINE];
	fmt_snprintf(what, sizeof(what), "HC_L0_SELF %s: L0's per-CPU pointer unchanged, intact",
		     when);
	hx_check(ok && g_self0_ok && s.vcpu == g_self0.vcpu && s.bits == HC_SELF_INTACT, what,
		 "vcpu 0x%llx bits 0x%llx, first 0x%llx", (unsigned long long)s.vcpu,
		 (unsigned long long)s.bits, (unsigned long long)g_self0.vcpu);
}

/* ---- the environment ---- */

static void set_gate(unsigned vector, void (*handler)(void))
{
	uint64_t h = (uint64_t)(uintptr_t)handler;
	uint64_t *g = (uint64_t *)(uintptr_t)(nx.idt + 16 * vector);
	g[0] = (h & 0xffff) | ((uint64_t)nx.cs << 16) | (0x8eull << 40) |
	       (((h >> 16) & 0xffff) << 48);
	g[1] = h >> 32;
}

static void start(void)
{
	nx_env_read_caps();
	uint64_t fc = 0;
	if (!nx_rdmsr(MSR_IA32_FEATURE_CONTROL, &fc) && !(fc & FEATURE_CONTROL_LOCK))
		nx_wrmsr(MSR_IA32_FEATURE_CONTROL,
			 fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	hx_check(nx.microhv && nx.vmx_cpuid && nx.caps_ok,
		 "runs as L1 under microhv with VMX offered",
		 "microhv %d vmx %d caps %d maxphyaddr %u", nx.microhv, nx.vmx_cpuid, nx.caps_ok,
		 nx.maxphyaddr);
	uint64_t h[4] = {HC_L0_RANGE, 0, 0, 0};
	uint64_t f = nx_hypercall(h);
	nx.l0_base = h[1];
	nx.l0_size = h[2];
	hx_check(!f && h[0] == HV_OK && h[1] && h[2], "HC_L0_RANGE names L0's memory",
		 "base 0x%llx size 0x%llx", (unsigned long long)h[1], (unsigned long long)h[2]);
	g_self0_ok = hx_l0_self(&g_self0);
	hx_check(g_self0_ok && g_self0.vcpu && g_self0.bits == HC_SELF_INTACT,
		 "HC_L0_SELF before the attacks: L0's per-CPU pointer consistent",
		 "vcpu 0x%llx bits 0x%llx refusals %llu", (unsigned long long)g_self0.vcpu,
		 (unsigned long long)g_self0.bits, (unsigned long long)g_self0.refusals);
}

/* ---- L0's memory, from L1 directly ---- */

static void l0_memory(void)
{
	nx_say(HX_PREFIX ": group - L0's memory read and written by L1");
	uint64_t v = 0x5a5a5a5a5a5a5a5aull;
	uint64_t r = hx_read64(nx.l0_base, &v);
	hx_l0_accesses++;
	hx_check(r == (NX_FAULT | VEC_GP) && nx_fault_error == 0,
		 "a read of L0's first byte is refused: #GP(0)", "%s value 0x%llx",
		 r ? nx_result_str(r) : "read", (unsigned long long)v);
	uint64_t at = (nx.l0_base + nx.l0_size / 2) & ~7ull;
	r = hx_write64(at, 0xdeadbeefcafef00dull);
	hx_l0_accesses++;
	hx_check(r == (NX_FAULT | VEC_GP) && nx_fault_error == 0,
		 "a write into the middle of L0's memory is refused: #GP(0)", "%s at 0x%llx",
		 r ? nx_result_str(r) : "written", (unsigned long long)at);
}

/* ---- MSRs (items 9, 10) ---- */

static void expect_gp(const char *what, uint64_t r)
{
	hx_check(r == (NX_FAULT | VEC_GP) && nx_fault_error == 0, what, "%s, want #GP(0)",
		 r ? nx_result_str(r) : "no fault");
}

static void msrs(void)
{
	nx_say(HX_PREFIX ": group - MSRs whose effect would reach VMX root");
	uint64_t base0 = 0, base = 0;
	nx_rdmsr(MSR_IA32_APIC_BASE, &base0);
	uint64_t keep = base0 & (APIC_BASE_BSP | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	expect_gp("WRMSR IA32_APIC_BASE onto L0's memory: #GP(0)",
		  nx_wrmsr(MSR_IA32_APIC_BASE, (nx.l0_base & APIC_BASE_ADDR_MASK) | keep));
	expect_gp("WRMSR IA32_APIC_BASE beyond L0's identity map (256 GiB): #GP(0)",
		  nx_wrmsr(MSR_IA32_APIC_BASE, (256 * GIB) | keep));
	nx_rdmsr(MSR_IA32_APIC_BASE, &base);
	hx_check(base == base0, "IA32_APIC_BASE unchanged by the refused writes",
		 "0x%llx, was 0x%llx", (unsigned long long)base, (unsigned long long)base0);

	static const struct {
		uint32_t msr;
		const char *what;
	} refused[] = {
	    {MSR_IA32_RTIT_CTL, "WRMSR IA32_RTIT_CTL (Intel PT on): #GP(0)"},
	    {MSR_IA32_RTIT_OUTPUT_BASE, "WRMSR IA32_RTIT_OUTPUT_BASE = L0's memory: #GP(0)"},
	    {MSR_IA32_DS_AREA, "WRMSR IA32_DS_AREA = L0's memory: #GP(0)"},
	    {MSR_IA32_PEBS_ENABLE, "WRMSR IA32_PEBS_ENABLE: #GP(0)"},
	    {MSR_IA32_PERF_GLOBAL_CTRL, "WRMSR IA32_PERF_GLOBAL_CTRL: #GP(0)"},
	    {MSR_IA32_BIOS_UPDT_TRIG, "WRMSR IA32_BIOS_UPDT_TRIG (microcode from L0's memory): #GP(0)"},
	};
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		uint32_t m = refused[i].msr;
		uint64_t value = (m == MSR_IA32_RTIT_CTL || m == MSR_IA32_PEBS_ENABLE ||
				  m == MSR_IA32_PERF_GLOBAL_CTRL)
				     ? 1
				     : nx.l0_base;
		expect_gp(refused[i].what, nx_wrmsr(m, value));
	}

	/* MTRRs are L1's own values in L0 (EPT01 keeps L0's memory types). */
	uint64_t def = 0, back = 0;
	uint64_t r1 = nx_rdmsr(MSR_IA32_MTRR_DEF_TYPE, &def);
	uint64_t r2 = nx_wrmsr(MSR_IA32_MTRR_DEF_TYPE, def);
	uint64_t r3 = nx_rdmsr(MSR_IA32_MTRR_DEF_TYPE, &back);
	hx_check(!r1 && !r2 && !r3 && back == def,
		 "IA32_MTRR_DEF_TYPE read, written back unchanged, read again",
		 "0x%llx then 0x%llx (%s %s %s)", (unsigned long long)def,
		 (unsigned long long)back, r1 ? nx_result_str(r1) : "ok",
		 r2 ? nx_result_str(r2) : "ok", r3 ? nx_result_str(r3) : "ok");
	expect_gp("WRMSR IA32_MTRR_DEF_TYPE with a reserved bit (12): #GP(0)",
		  nx_wrmsr(MSR_IA32_MTRR_DEF_TYPE, def | (1ull << 12)));

	/* x2APIC registers in xAPIC mode (SDM Vol. 3A 11.12.1). */
	if (!(base0 & APIC_BASE_X2APIC)) {
		expect_gp("WRMSR of the x2APIC ICR (0x830) in xAPIC mode: #GP(0)",
			  nx_wrmsr(MSR_X2APIC_ICR, (0x7full << 32) | 0xf2));
		uint64_t id = 0;
		expect_gp("RDMSR of the x2APIC ID (0x802) in xAPIC mode: #GP(0)",
			  nx_rdmsr(0x802, &id));
	}
}

/* ---- port I/O (item 12) ---- */

static void port_io(void)
{
	nx_say(HX_PREFIX ": group - port I/O that wraps past 0xffff or overlaps L0's console");
	uint8_t b = hx_in8(0xffff);
	hx_check(true, "IN AL, DX at port 0xffff (no wrap): L1 continues", "0x%x", b);
	uint16_t w = hx_in16(0xffff);
	hx_check(true, "IN AX, DX at port 0xffff (wraps to port 0): L1 continues", "0x%x", w);
	uint32_t d = hx_in32(0xfffe);
	hx_check(true, "IN EAX, DX at port 0xfffe (wraps to ports 0, 1): L1 continues", "0x%x",
		 d);
	d = hx_in32(CONSOLE_PORT - 2);
	hx_check((d >> 16) == 0,
		 "IN EAX, DX at 0x2f6 over L0's console (0x2f8): the console's bytes read as a "
		 "silent UART",
		 "0x%x, want 0x0000xxxx", d);
	hx_out32(CONSOLE_PORT - 2, 0x0021abcdu); /* '!' would land in the console's THR */
	hx_check(true, "OUT DX, EAX at 0x2f6 over L0's console: L1 continues", "0x0021abcd");
	hx_out8(CONSOLE_PORT, '#');
	hx_check(true, "OUT to L0's console port 0x2f8 itself: L1 continues", "'#'");
}

/* ---- NMIs (item 5) ---- */

static bool wait_nmis(uint32_t n)
{
	for (uint32_t i = 0; i < NMI_WAIT && hx_nmi_count < n; i++)
		cpu_pause();
	return hx_nmi_count == n;
}

static void nmis(void)
{
	nx_say(HX_PREFIX ": group - NMIs to itself inside STI and MOV-SS blocking");
	uint64_t base = 0;
	nx_rdmsr(MSR_IA32_APIC_BASE, &base);
	if ((base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) != APIC_BASE_ENABLE) {
		hx_check(false, "NMIs to itself", "the APIC is not in xAPIC mode: 0x%llx",
			 (unsigned long long)base);
		return;
	}
	/*
	 * The NMI goes to L1's own APIC ID (the "self" shorthand allows only
	 * fixed delivery, SDM Vol. 3A 11.6.1).  L1's stores to its APIC page
	 * exit (L0 write-protects it) and L0 makes them in root: the NMI
	 * reaches L0 there and is L1's to get at the next entry.
	 */
	volatile uint32_t *apic = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	uint32_t id = apic[APIC_ID / 4] >> 24;
	apic[APIC_ICR_HI / 4] = id << 24;
	volatile uint32_t *icr = &apic[APIC_ICR_LO / 4];
	uint64_t hlt = (uint64_t)(uintptr_t)hx_nmi_sti_hlt;

	hx_nmi_count = 0;
	hx_nmi_rip[0] = 0;
	hx_nmi_sti(icr, ICR_NMI);
	bool one = wait_nmis(1);
	hx_check(one && (hx_nmi_rip[0] == hlt || hx_nmi_rip[0] == hlt + 1),
		 "NMI sent inside STI blocking (sti; mov [icr]; hlt): L1's handler runs once, at "
		 "the HLT",
		 "%u NMIs, at hlt%+lld", hx_nmi_count, (long long)(hx_nmi_rip[0] - hlt));

	hlt = (uint64_t)(uintptr_t)hx_nmi_movss_hlt;
	hx_nmi_count = 0;
	hx_nmi_rip[0] = 0;
	hx_nmi_movss(icr, ICR_NMI);
	one = wait_nmis(1);
	/* After the store: before the STI at hlt-1, or at or after the HLT. */
	hx_check(one && hx_nmi_rip[0] + 1 >= hlt && hx_nmi_rip[0] <= hlt + 1,
		 "NMI sent inside MOV-SS blocking (mov ss; mov [icr]; sti; hlt): L1's handler "
		 "runs once",
		 "%u NMIs, at hlt%+lld", hx_nmi_count, (long long)(hx_nmi_rip[0] - hlt));

	hlt = (uint64_t)(uintptr_t)hx_nmi_sti_hlt;
	hx_nmi_count = 0;
	hx_nmi_count_in_handler = 0;
	hx_nmi_resend_value = ICR_NMI;
	hx_nmi_resend_icr = (uint64_t)(uintptr_t)icr;
	hx_nmi_sti(icr, ICR_NMI);
	bool two = wait_nmis(2);
	hx_check(two && hx_nmi_count_in_handler == 1,
		 "NMI sent from L1's NMI handler waits for its IRET, then runs (NMI window)",
		 "%u NMIs, %u when the first handler ended, second at hlt%+lld", hx_nmi_count,
		 hx_nmi_count_in_handler, (long long)(hx_nmi_rip[1] - hlt));
	hx_nmi_resend_icr = 0;
}

/* ---- VMXON, VMPTRLD, VMCLEAR pointers (item 3) ---- */

struct bad_pa {
	uint64_t pa;
	const char *name;
};

static void bad_pointers(struct bad_pa *p)
{
	uint64_t top = 1ull << nx.maxphyaddr;
	p[0] = (struct bad_pa){4 * GIB, "4 GiB"};
	p[1] = (struct bad_pa){256 * GIB, "256 GiB"};
	p[2] = (struct bad_pa){top - PAGE, "the last page below MAXPHYADDR"};
	p[3] = (struct bad_pa){top, "MAXPHYADDR itself (beyond the width)"};
}

/*
 * VMXON of memory that is not L1's: VMfailInvalid (SDM Vol. 3C 31.3
 * VMXON: an address beyond the physical-address width, or a revision
 * other than the CPU's; nothing stands behind 4 GiB..2^MAXPHYADDR in this
 * 256-MiB machine, so hardware would read all ones there - a bad
 * revision).  microhv refuses the address itself with a warn line.
 */
static bool vmxon(void)
{
	nx_say(HX_PREFIX ": group - VMXON, VMPTRLD and VMCLEAR of memory that is not L1's");
	uint32_t *region = (uint32_t *)(uintptr_t)nx.page[PG_VMXON];
	region[0] = nx.revision;
	write_cr0(read_cr0() | nx.cr0_fixed0);
	write_cr4(read_cr4() | nx.cr4_fixed0 | CR4_VMXE);
	struct bad_pa bad[4];
	bad_pointers(bad);
	char what[LINE];
	for (unsigned i = 0; i < 4; i++) {
		uint64_t r = nx_vmxon(bad[i].pa);
		fmt_snprintf(what, sizeof(what), "VMXON at %s (0x%llx): VMfailInvalid", bad[i].name,
			     (unsigned long long)bad[i].pa);
		hx_check(nx_outcome(r) == NX_FAIL_INVALID, what, "%s", nx_result_str(r));
		if (nx_outcome(r) == NX_SUCCEED)
			nx_vmxoff();
	}
	uint64_t r = nx_vmxon(nx.page[PG_VMXON]);
	hx_check(nx_outcome(r) == NX_SUCCEED, "VMXON of L1's own region afterwards: VMsucceed",
		 "%s", nx_result_str(r));
	return nx_outcome(r) == NX_SUCCEED;
}

/*
 * VMPTRLD: VMfailValid(9) for an address beyond the width (SDM 31.3).
 * Within the width but not L1's memory microhv gives 9 too, with a warn
 * line; bare hardware would read a revision of all ones there and give
 * VMfailValid(11) - both refuse, the current VMCS stays.  VMCLEAR:
 * VMfailValid(2) beyond the width; within it bare hardware succeeds
 * (writing the launch state to nothing), microhv refuses with 2.
 */
static void vmcs_pointers(void)
{
	uint64_t cur = nx.page[PG_VMCS_A], now = 0;
	uint64_t r = nx_vmcs_init(PG_VMCS_A);
	hx_check(nx_outcome(r) == NX_SUCCEED, "VMPTRLD of L1's own VMCS", "%s", nx_result_str(r));
	struct bad_pa bad[4];
	bad_pointers(bad);
	char what[LINE];
	for (unsigned i = 0; i < 4; i++) {
		uint64_t e = 0;
		r = nx_vmptrld(bad[i].pa);
		if (nx_outcome(r) == NX_FAIL_VALID)
			nx_vmread(VMCS_VM_INSTRUCTION_ERROR, &e);
		nx_vmptrst(&now);
		fmt_snprintf(what, sizeof(what),
			     "VMPTRLD at %s: VMfailValid(9), the current VMCS kept", bad[i].name);
		hx_check(nx_outcome(r) == NX_FAIL_VALID && e == VMERR_VMPTRLD_ADDR && now == cur,
			 what, "%s current 0x%llx", nx_result_str(r), (unsigned long long)now);
		r = nx_vmclear(bad[i].pa);
		e = 0;
		if (nx_outcome(r) == NX_FAIL_VALID)
			nx_vmread(VMCS_VM_INSTRUCTION_ERROR, &e);
		nx_vmptrst(&now);
		fmt_snprintf(what, sizeof(what),
			     "VMCLEAR at %s: VMfailValid(2), the current VMCS kept", bad[i].name);
		hx_check(nx_outcome(r) == NX_FAIL_VALID && e == VMERR_VMCLEAR_ADDR && now == cur,
			 what, "%s current 0x%llx", nx_result_str(r), (unsigned long long)now);
	}
}

/* ---- MOV to CR4 (item 13) ---- */

/*
 * CR4.PCIDE set while CR3[11:0] != 0 is #GP(0) (SDM Vol. 3A 4.10.1, MOV
 * to CR4).  Setting PCIDE alone does not exit (L0 owns only the bits
 * IA32_VMX_CR4_FIXED0/1 fix): the CPU checks it.  Setting it together
 * with VMXE, which L0 owns, exits: L0's emulation must make the check.
 */
static void cr4_pcide(void)
{
	nx_say(HX_PREFIX ": group - MOV to CR4 with PCIDE while CR3[11:0] != 0");
	uint64_t cr3 = read_cr3(), cr4 = read_cr4() & ~CR4_VMXE;
	write_cr4(cr4);
	write_cr3(cr3 | CR3_PWT);
	uint64_t pwt = read_cr3();
	uint64_t a = hx_mov_cr4(cr4 | CR4_PCIDE);
	uint64_t after_a = read_cr4();
	if (!a)
		write_cr4(cr4);
	uint64_t b = hx_mov_cr4(cr4 | CR4_PCIDE | CR4_VMXE);
	uint64_t after_b = read_cr4();
	if (!b)
		write_cr4(cr4);
	write_cr3(cr3);
	hx_check(a == (NX_FAULT | VEC_GP) && !(after_a & CR4_PCIDE),
		 "MOV to CR4 setting PCIDE with CR3[11:0] = 8 (the CPU's check): #GP(0)",
		 "%s cr3 0x%llx cr4 then 0x%llx", a ? nx_result_str(a) : "completed",
		 (unsigned long long)pwt, (unsigned long long)after_a);
	hx_check(b == (NX_FAULT | VEC_GP) && !(after_b & CR4_PCIDE),
		 "MOV to CR4 setting PCIDE and VMXE with CR3[11:0] = 8 (L0 emulates it): #GP(0)",
		 "%s cr4 then 0x%llx", b ? nx_result_str(b) : "completed",
		 (unsigned long long)after_b);
}

/* ---- the end of L1 (item 6) and the second boot ---- */

static void check_l0_answers(const char *what)
{
	uint64_t h[4] = {HC_VERSION, 0, 0, 0};
	uint64_t f = nx_hypercall(h);
	hx_check(!f && h[0] == HV_OK && h[1], what, "status %lld version 0x%llx", (long long)h[0],
		 (unsigned long long)h[1]);
}

/* LoadOptions (hv.cfg next_args) that start with "vmx-abort". */
static bool vmx_abort_asked(EFI_HANDLE image)
{
	EFI_LOADED_IMAGE *li = NULL;
	static const CHAR16 want[] = L"vmx-abort";
	if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
					(void **)&li)) ||
	    !li || !li->LoadOptions || li->LoadOptionsSize < sizeof(want) - sizeof(CHAR16))
		return false;
	const CHAR16 *o = li->LoadOptions;
	for (unsigned i = 0; want[i]; i++)
		if (o[i] != want[i])
			return false;
	return true;
}

static void end_checks(void)
{
	nx_say(HX_PREFIX ": group - L0 after the attacks");
	hx_check_self("after the attacks");
	struct hx_self s;
	hx_l0_self(&s);
	hx_check(s.refusals - g_self0.refusals == hx_l0_accesses,
		 "L0 counted each refused access to its memory, no more",
		 "%llu refusals since the first call, %u accesses made",
		 (unsigned long long)(s.refusals - g_self0.refusals), hx_l0_accesses);
	check_l0_answers("L0 still answers HC_VERSION");
}

/* Item 6 by hand: the VMX abort ends L1; L0 names it and stops or resets. */
static void vmx_abort_last(void)
{
	write_cr4(read_cr4() | CR4_VMXE);
	uint64_t r = nx_vmxon(nx.page[PG_VMXON]);
	payload_say("hostile-test: %u passed, %u failed before the VMX abort", g_pass, g_fail);
	if (nx_outcome(r) == NX_SUCCEED)
		hx_exit_msr_load_abort();
	hx_check(false, "a VMX abort ended L1", "VMXON %s, or the exit came back",
		 nx_result_str(r));
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	payload_serial_init();
	nx_say(HX_PREFIX ": hostile L1 started");
	bool abort_last = vmx_abort_asked(image);
	const char *err = nx_env_alloc();
	if (err) {
		hx_check(false, "memory for the test", "%s", err);
		nx_finish();
	}
	cli();
	g_pic1 = inb(PIC1_DATA);
	g_pic2 = inb(PIC2_DATA);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	nx_env_l1_tables();
	set_gate(VEC_NMI, hx_nmi_handler);
	set_gate(VEC_UD, hx_ud_handler);
	set_gate(VEC_GP, hx_gp_handler);

	start();
	if (!nx.microhv || !nx.caps_ok)
		nx_finish();
	l0_memory();
	msrs();
	port_io();
	nmis();
	if (vmxon()) {
		vmcs_pointers();
		hx_bitmaps_flipped_by_l2();
		hx_vmcs12_by_hand();
		hx_bitmaps_outside();
		hx_entry_msr_load();
		uint64_t r = nx_vmxoff();
		hx_check(nx_outcome(r) == NX_SUCCEED, "VMXOFF", "%s", nx_result_str(r));
	}
	cr4_pcide();
	end_checks();

	if (abort_last)
		vmx_abort_last();
	nx_finish();
}
