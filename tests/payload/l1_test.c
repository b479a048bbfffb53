/*
 * l1_test.c - the L1 test payload: runs as the next stage, i.e. as L1 on
 * top of microhv, and checks what L1 must see (docs/hypercalls.md,
 * docs/l0.md).  Every check prints "microhv-l1: ok - ..." or
 * "microhv-l1: not ok - ..." on COM1 with the values it saw; the last line
 * is "l1-test: N passed, N failed"; then it powers the machine off.
 *
 * Checks: the hypervisor CPUID leaves; hypercalls (version, CPU info,
 * exit counters moving by exactly the exits caused, unknown function);
 * IA32_FEATURE_CONTROL as emulated; L1's VMX capability MSRs (read-only,
 * EPT absent, VPID's EPT_VPID_CAP bits where VPID is offered) and #GP
 * for writing FEATURE_CONTROL; CR4.VMXE through the read shadow; code run
 * on every AP through MP services after the launch (which makes the
 * firmware restart them with INIT/SIPI under L0); reads and writes of L0's
 * own memory refused with #GP while L0 goes on working.
 */
#include <efi.h>
#include <efilib.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "boot/loader.h"
#include "drivers/serial/format.h"
#include "drivers/serial/uart16550.h"
#include "vmx/cpuid_policy.h"
#include "vmx/hypercall.h"
#include "vmx/vmx_bits.h"

#include "payload.h"

int probe_read64(uint64_t addr, uint64_t *out);
int probe_write64(uint64_t addr, uint64_t value);
int probe_rdmsr(uint32_t msr, uint64_t *out);
int probe_wrmsr(uint32_t msr, uint64_t value);
void hv_vmcall(uint64_t regs[4]);
void probe_gp_handler(void);
extern uint64_t probe_gp_count, probe_gp_last_error, probe_fw_gp_handler;

static unsigned g_pass, g_fail;

#define say payload_say

static void check(int ok, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	payload_check("microhv-l1", &g_pass, &g_fail, ok, what, fmt, ap);
	va_end(ap);
}

static void vmcall(uint64_t fn, uint64_t b, uint64_t c, uint64_t d, uint64_t out[4])
{
	out[0] = fn;
	out[1] = b;
	out[2] = c;
	out[3] = d;
	hv_vmcall(out);
}

static uint64_t exit_count(uint64_t reason)
{
	uint64_t r[4];
	vmcall(HC_EXIT_COUNT, HC_ANY, reason, 0, r);
	return r[0] == HV_OK ? r[1] : ~0ull;
}

/* The firmware's IDT gets our #GP handler while probing. */
struct idt_gate {
	uint16_t lo, sel;
	uint8_t ist, attr;
	uint16_t mid;
	uint32_t hi, zero;
} __attribute__((packed));

static struct idt_gate *gp_gate(void)
{
	struct desc_ptr idtr;
	sidt(&idtr);
	return (struct idt_gate *)(uintptr_t)idtr.base + VEC_GP;
}

static void set_gp_handler(uint64_t h)
{
	struct idt_gate *g = gp_gate();
	cli();
	g->lo = (uint16_t)h;
	g->mid = (uint16_t)(h >> 16);
	g->hi = (uint32_t)(h >> 32);
	__asm__ volatile("sti");
}

static void gp_catch_on(void)
{
	struct idt_gate *g = gp_gate();
	probe_fw_gp_handler = g->lo | ((uint64_t)g->mid << 16) | ((uint64_t)g->hi << 32);
	set_gp_handler((uint64_t)(uintptr_t)probe_gp_handler);
}

static void gp_catch_off(void)
{
	set_gp_handler(probe_fw_gp_handler);
}

static void test_cpuid(void)
{
	struct cpuid_regs r;
	cpuid_count(CPUID_HV_BASE, 0, &r);
	char sig[13] = { 0 };
	uint32_t w[3] = { r.ebx, r.ecx, r.edx };
	for (int i = 0; i < 12; i++)
		sig[i] = (char)(w[i / 4] >> (8 * (i % 4)));
	int sig_ok = sig[0] == 'm' && sig[1] == 'i' && sig[2] == 'c' && sig[3] == 'r' &&
		     sig[4] == 'o' && sig[5] == 'h' && sig[6] == 'v' && !sig[7] && !sig[8] &&
		     !sig[9] && !sig[10] && !sig[11];
	check(r.eax == CPUID_HV_MAX_LEAF && sig_ok, "CPUID 0x40000000: max leaf and signature",
	      "eax 0x%x signature \"%s\"", r.eax, sig);
	cpuid_count(CPUID_HV_BASE + 1, 0, &r);
	check(r.ebx == HYPERCALL_ABI_VERSION && r.eax != 0, "CPUID 0x40000001: version and ABI",
	      "version 0x%x abi %u", r.eax, r.ebx);
	cpuid_count(1, 0, &r);
	check((r.ecx >> 31) & 1, "CPUID.1:ECX.hypervisor set", "ecx 0x%x", r.ecx);
	check((r.ecx >> 5) & 1, "CPUID.1:ECX.VMX set (nested = on)", "ecx 0x%x", r.ecx);
}

static void test_hypercalls(uint32_t cpus)
{
	uint64_t r[4];
	struct cpuid_regs c;
	cpuid_count(CPUID_HV_BASE + 1, 0, &c);
	vmcall(HC_VERSION, 0, 0, 0, r);
	check(r[0] == HV_OK && r[1] == c.eax && r[2] == HYPERCALL_ABI_VERSION && r[3] == cpus,
	      "VMCALL HC_VERSION", "status %lld version 0x%llx abi %llu cpus %llu (MP services: %u)",
	      (long long)r[0], (unsigned long long)r[1], (unsigned long long)r[2],
	      (unsigned long long)r[3], cpus);
	vmcall(HC_CPU_INFO, 0, 0, 0, r);
	check(r[0] == HV_OK && r[1] == 0 && r[3] == cpus, "VMCALL HC_CPU_INFO on the BSP",
	      "status %lld index %llu apic %llu cpus %llu", (long long)r[0],
	      (unsigned long long)r[1], (unsigned long long)r[2], (unsigned long long)r[3]);
	vmcall(0x7777, 0, 0, 0, r);
	check((int64_t)r[0] == HV_ENOSYS, "VMCALL unknown function", "status %lld", (long long)r[0]);
	vmcall(HC_EXIT_COUNT, HC_ANY, 9999, 0, r);
	check((int64_t)r[0] == HV_EINVAL, "VMCALL HC_EXIT_COUNT bad reason", "status %lld",
	      (long long)r[0]);

	/* Exactly five CPUID exits between two readings. */
	uint64_t before = exit_count(EXIT_REASON_CPUID);
	for (int i = 0; i < 5; i++)
		cpuid_count(0, 0, &c);
	uint64_t after = exit_count(EXIT_REASON_CPUID);
	check(after - before == 5, "CPUID exit counter moves by the CPUIDs executed",
	      "before %llu after %llu", (unsigned long long)before, (unsigned long long)after);
	uint64_t calls0 = exit_count(EXIT_REASON_VMCALL);
	uint64_t calls1 = exit_count(EXIT_REASON_VMCALL);
	check(calls1 == calls0 + 1, "VMCALL exit counter counts the VMCALL itself",
	      "%llu then %llu", (unsigned long long)calls0, (unsigned long long)calls1);
}

static void test_msrs(void)
{
	uint64_t v = 0;
	int gp = probe_rdmsr(MSR_IA32_FEATURE_CONTROL, &v);
	check(!gp && v == (FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX),
	      "IA32_FEATURE_CONTROL reads locked with VMX outside SMX", "#GP %d value 0x%llx", gp,
	      (unsigned long long)v);
	uint64_t n = probe_gp_count;
	gp = probe_wrmsr(MSR_IA32_FEATURE_CONTROL, v);
	check(gp && probe_gp_count == n + 1 && probe_gp_last_error == 0,
	      "WRMSR IA32_FEATURE_CONTROL gets #GP(0)", "#GP %d error 0x%llx", gp,
	      (unsigned long long)probe_gp_last_error);
	/* L1's virtual IA32_VMX_BASIC (nested/vmx_msrs.c): our revision, 4-KiB VMCS, WB. */
	gp = probe_rdmsr(MSR_IA32_VMX_BASIC, &v);
	check(!gp && (uint32_t)v == 0x6d687631u && ((v >> 32) & 0x1fff) == 4096 &&
		      ((v >> 50) & 0xf) == 6,
	      "RDMSR IA32_VMX_BASIC reads L1's revision 0x6d687631, 4096-byte VMCS, WB",
	      "#GP %d value 0x%llx", gp, (unsigned long long)v);
	n = probe_gp_count;
	gp = probe_wrmsr(MSR_IA32_VMX_BASIC, v);
	check(gp && probe_gp_count == n + 1, "WRMSR IA32_VMX_BASIC gets #GP(0) (read-only)",
	      "#GP %d", gp);
	/*
	 * SDM Vol. 3D A.10: IA32_VMX_EPT_VPID_CAP exists when the secondary
	 * controls allow EPT or VPID.  Under microhv L1 is offered both
	 * (Bochs's CPU has what L0 needs): the MSR reads INVVPID with its
	 * four types (bits 32, 40-43) and the EPT capabilities nested EPT
	 * implements, 4-level walks and WB at least (bits 6, 14).
	 */
	uint64_t proc2 = 0;
	bool ctls2 = !probe_rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2, &proc2);
	bool vpid = ctls2 && ((proc2 >> 32) & (1u << 5));
	bool ept = ctls2 && ((proc2 >> 32) & (1u << 1));
	gp = probe_rdmsr(MSR_IA32_VMX_EPT_VPID_CAP, &v);
	check(vpid && ept && !gp && (v >> 32) == 0x00000f01u && (v & (1ull << 6)) &&
		      (v & (1ull << 14)),
	      "RDMSR IA32_VMX_EPT_VPID_CAP: EPT (4-level, WB) and INVVPID with its four types",
	      "VPID %d EPT %d #GP %d value 0x%llx", vpid, ept, gp, (unsigned long long)v);
	gp = probe_rdmsr(MSR_IA32_EFER, &v);
	check(!gp && (v & EFER_LMA), "RDMSR IA32_EFER passes through", "#GP %d value 0x%llx", gp,
	      (unsigned long long)v);
}

static void test_cr4_vmxe(void)
{
	uint64_t cr4 = read_cr4();
	check(!(cr4 & CR4_VMXE), "CR4.VMXE reads as L1's own value (0)", "cr4 0x%llx",
	      (unsigned long long)cr4);
	uint64_t crs = exit_count(EXIT_REASON_CR_ACCESS);
	write_cr4(cr4 | CR4_VMXE);
	uint64_t with = read_cr4();
	write_cr4(cr4);
	uint64_t back = read_cr4();
	uint64_t crs2 = exit_count(EXIT_REASON_CR_ACCESS);
	check((with & CR4_VMXE) && !(back & CR4_VMXE) && crs2 == crs + 2,
	      "CR4.VMXE set and cleared through the shadow (2 CR exits)",
	      "set 0x%llx cleared 0x%llx exits %llu", (unsigned long long)with,
	      (unsigned long long)back, (unsigned long long)(crs2 - crs));
}

static struct {
	volatile uint64_t ran, index, sig_ok;
} g_ap_result[8];

static void EFIAPI ap_check(void *arg)
{
	unsigned slot = (unsigned)(uintptr_t)arg;
	struct cpuid_regs c;
	cpuid_count(CPUID_HV_BASE, 0, &c);
	uint64_t r[4];
	vmcall(HC_CPU_INFO, 0, 0, 0, r);
	g_ap_result[slot].index = r[1];
	g_ap_result[slot].sig_ok = c.ebx == 0x7263696du && c.ecx == 0x0076686fu;
	g_ap_result[slot].ran = 1;
}

static void test_aps(EFI_MP_SERVICES_PROTOCOL *mp, uint32_t cpus)
{
	if (!mp || cpus < 2) {
		say("microhv-l1: note - 1 CPU: no AP to run code on");
		return;
	}
	/* Twice: each StartupThisAP restarts the AP with INIT-SIPI-SIPI under L0. */
	for (unsigned round = 1; round <= 2; round++) {
		for (uint32_t cpu = 1; cpu < cpus && cpu < 8; cpu++) {
			g_ap_result[cpu].ran = 0;
			g_ap_result[cpu].sig_ok = 0;
			g_ap_result[cpu].index = 0;
			/* A bounded wait: an AP that L0 lost must fail the check, not hang it. */
			EFI_STATUS s = uefi_call_wrapper(mp->StartupThisAP, 6, mp, ap_check,
							 (UINTN)cpu, NULL, (UINTN)5000000,
							 (void *)(uintptr_t)cpu, NULL);
			check(!EFI_ERROR(s) && g_ap_result[cpu].ran && g_ap_result[cpu].sig_ok &&
				      g_ap_result[cpu].index == cpu,
			      "code on an AP through MP services after the launch sees L0",
			      "round %u cpu %u status 0x%llx ran %llu L0 index %llu signature ok %llu",
			      round, cpu, (unsigned long long)s,
			      (unsigned long long)g_ap_result[cpu].ran,
			      (unsigned long long)g_ap_result[cpu].index,
			      (unsigned long long)g_ap_result[cpu].sig_ok);
		}
	}
}

static void test_l0_memory(void)
{
	uint64_t r[4];
	vmcall(HC_L0_RANGE, 0, 0, 0, r);
	uint64_t base = r[1], size = r[2];
	check(r[0] == HV_OK && base && size, "VMCALL HC_L0_RANGE", "base 0x%llx size 0x%llx",
	      (unsigned long long)base, (unsigned long long)size);
	/*
	 * Interrupts off: the firmware's timer handler writes the local APIC's
	 * EOI, and every local-APIC write is an EPT-violation exit too.
	 */
	uint64_t flags = read_rflags();
	cli();
	uint64_t refusals = exit_count(EXIT_REASON_EPT_VIOLATION);
	uint64_t v = 0x1234;
	uint64_t n = probe_gp_count;
	int gp = probe_read64(base + 0x40, &v);
	check(gp && probe_gp_count == n + 1 && probe_gp_last_error == 0 && v == 0x1234,
	      "read of L0 memory refused with #GP(0)", "#GP %d error 0x%llx",
	      gp, (unsigned long long)probe_gp_last_error);
	gp = probe_write64(base + size - 8, 0xdeadbeef);
	check(gp && probe_gp_count == n + 2, "write to L0 memory refused with #GP(0)", "#GP %d",
	      gp);
	uint64_t refusals2 = exit_count(EXIT_REASON_EPT_VIOLATION);
	write_rflags(flags);
	check(refusals2 == refusals + 2, "each refusal is one EPT-violation exit",
	      "%llu then %llu", (unsigned long long)refusals, (unsigned long long)refusals2);
	gp = probe_read64(base - 8, &v);
	check(!gp, "memory just below L0's is L1's", "#GP %d", gp);
	vmcall(HC_VERSION, 0, 0, 0, r);
	check(r[0] == HV_OK, "L0 still answers after the refused accesses", "status %lld",
	      (long long)r[0]);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	payload_serial_init();
	say("microhv-l1: L1 test payload started");

	EFI_GUID guid = EFI_MP_SERVICES_PROTOCOL_GUID;
	EFI_MP_SERVICES_PROTOCOL *mp = NULL;
	UINTN ncpu = 1, nen = 1;
	if (!EFI_ERROR(uefi_call_wrapper(BS->LocateProtocol, 3, &guid, NULL, (void **)&mp)))
		uefi_call_wrapper(mp->GetNumberOfProcessors, 3, mp, &ncpu, &nen);
	else
		mp = NULL;
	say("microhv-l1: %llu CPUs (%llu enabled)", (unsigned long long)ncpu,
	    (unsigned long long)nen);

	gp_catch_on();
	test_cpuid();
	test_hypercalls((uint32_t)nen);
	test_msrs();
	test_cr4_vmxe();
	test_aps(mp, (uint32_t)nen);
	test_l0_memory();
	gp_catch_off();

	say("l1-test: %u passed, %u failed", g_pass, g_fail);
	payload_power_off();
}
