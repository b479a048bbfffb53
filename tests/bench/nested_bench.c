/*
 * nested_bench.c - `make bench`: the cost of a nested round trip.
 *
 * Runs as the next stage (L1) under microhv in Bochs and is a minimal
 * hypervisor of its own: VMXON, one VMCS, an L2 that loops on CPUID.
 * One round trip is what a real L1 does per exit: L2's CPUID exits, L1
 * reads the exit reason, qualification, guest RIP and instruction length,
 * advances RIP, VMRESUME.  Prints, measured in this run:
 *   - TSC cycles per nested round trip (min and mean), next to a CPUID
 *     round trip L1 -> L0 -> L1 and an RDTSC pair alone;
 *   - L0's exits per nested round trip: L1's (VMREAD, VMWRITE, VMRESUME,
 *     HC_EXIT_COUNT) and L2's (HC_NESTED_STATS), each counted by L0;
 *   - for the last reflected exit (HC_NESTED_LAST_EXIT): the vmcs02
 *     fields the vmcs12 rebuild read, and L0's VMREADs and VMWRITEs from
 *     L2's exit to L1's resumption.
 * Every round checks the exit reason; a wrong one ends the bench with an
 * error line.  Nothing is compared to a threshold.
 *
 * The same binary runs on bare Bochs (tests/bench/run.sh boots it as the
 * loader itself): without microhv under it (CPUID 40000000H) it prints
 * the cycle figures only, marked "(bare)", the honest peer of microhv's:
 * the CPU's own VT-x.
 */
#include <efi.h>
#include <efilib.h>

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "vmx/hypercall.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_bits.h"

#include "tests/bench/bench.h"
#include "tests/payload/payload.h"

#define say payload_say

void hv_vmcall(uint64_t regs[4]);


static uint64_t hc(uint64_t fn, uint64_t b, uint64_t out[4])
{
	out[0] = fn;
	out[1] = b;
	out[2] = out[3] = 0;
	hv_vmcall(out);
	return out[0];
}

/* ---- VMX instructions (CF/ZF: VMfailInvalid/VMfailValid) ---- */

static int vmx_ok(uint8_t cf, uint8_t zf)
{
	return !cf && !zf;
}

#define VMX_PTR_OP(name, insn)                                                           \
	static int name(uint64_t pa)                                                     \
	{                                                                                \
		uint8_t cf, zf;                                                          \
		__asm__ volatile(insn " %2; setc %0; setz %1"                            \
				 : "=r"(cf), "=r"(zf)                                    \
				 : "m"(pa)                                               \
				 : "cc", "memory");                                      \
		return vmx_ok(cf, zf);                                                   \
	}
VMX_PTR_OP(vmxon, "vmxon")
VMX_PTR_OP(vmclear, "vmclear")
VMX_PTR_OP(vmptrld, "vmptrld")

static uint64_t vmread(uint64_t field)
{
	uint64_t v = 0;
	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
	return v;
}

static int g_vmwrite_fails;

static void vmwrite(uint64_t field, uint64_t value)
{
	uint8_t cf, zf;
	__asm__ volatile("vmwrite %2, %3; setc %0; setz %1"
			 : "=r"(cf), "=r"(zf)
			 : "r"(value), "r"(field)
			 : "cc");
	if (!vmx_ok(cf, zf) && g_vmwrite_fails++ < 4)
		say("bench: error: VMWRITE of field 0x%llx failed (%s)", (unsigned long long)field,
		    cf ? "VMfailInvalid" : "VMfailValid");
}

/*
 * l2_enter(launch): VMLAUNCH or VMRESUME with HOST_RSP = this frame;
 * returns 0 after L2's VM exit (bench_vmexit below is HOST_RIP), or 1/2
 * for VMfailInvalid/VMfailValid.
 */
int l2_enter(int launch);
void bench_vmexit(void);
void l2_code(void);
__asm__(".text\n"
	".globl l2_enter\n"
	"l2_enter:\n"
	"	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
	"	mov $0x6c14, %eax\n" /* HOST_RSP */
	"	vmwrite %rsp, %rax\n"
	"	test %edi, %edi\n"
	"	jz 1f\n"
	"	vmlaunch\n"
	"	jmp 2f\n"
	"1:	vmresume\n"
	"2:	mov $1, %eax\n"
	"	jc 3f\n"
	"	mov $2, %eax\n"
	"3:	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	ret\n"
	".globl bench_vmexit\n"
	"bench_vmexit:\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	xor %eax, %eax\n"
	"	ret\n"
	".globl l2_code\n"
	"l2_code:\n" /* L2: CPUID forever; every one exits to L1 */
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	jmp l2_code\n");

/* ---- setup ---- */

static uint64_t alloc_page(void)
{
	EFI_PHYSICAL_ADDRESS a = 0xffffffffull;
	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData, 1,
					&a)))
		return 0;
	__builtin_memset((void *)(uintptr_t)a, 0, 4096);
	return a;
}

static uint32_t adjust(uint32_t msr, uint32_t want)
{
	uint64_t cap = rdmsr(msr);
	return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

struct __attribute__((packed)) gdtr {
	uint16_t limit;
	uint64_t base;
};

/* A GDT of our own: the firmware's plus a 64-bit TSS (VMX needs a host TR). */
static uint16_t install_tss(uint64_t gdt_page, uint64_t tss_page)
{
	struct gdtr old, new;
	__asm__ volatile("sgdt %0" : "=m"(old));
	__builtin_memcpy((void *)(uintptr_t)gdt_page, (void *)(uintptr_t)old.base, old.limit + 1u);
	uint16_t sel = (uint16_t)((old.limit + 1u + 15u) & ~15u);
	uint64_t *d = (uint64_t *)(uintptr_t)(gdt_page + sel);
	uint64_t base = tss_page, limit = 0x67;
	d[0] = limit | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((base >> 24) & 0xff) << 56);
	d[1] = base >> 32;
	new.base = gdt_page;
	new.limit = (uint16_t)(sel + 15);
	__asm__ volatile("lgdt %0" : : "m"(new));
	__asm__ volatile("ltr %0" : : "r"(sel));
	return sel;
}

static uint16_t sel_of(const char *reg)
{
	uint16_t s = 0;
	if (reg[0] == 'c')
		__asm__ volatile("mov %%cs, %0" : "=r"(s));
	else if (reg[0] == 's')
		__asm__ volatile("mov %%ss, %0" : "=r"(s));
	else if (reg[0] == 'd')
		__asm__ volatile("mov %%ds, %0" : "=r"(s));
	return s;
}

static int setup_vmcs(uint64_t vmcs, uint16_t tr, uint64_t tss, uint64_t l2_stack)
{
	uint32_t rev = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC);
	*(uint32_t *)(uintptr_t)vmcs = rev;
	if (!vmclear(vmcs) || !vmptrld(vmcs))
		return 0;
	struct gdtr g, idt;
	__asm__ volatile("sgdt %0" : "=m"(g));
	__asm__ volatile("sidt %0" : "=m"(idt));
	uint16_t cs = sel_of("cs"), ds = sel_of("ds"), ss = sel_of("ss");
	if (!ss)
		ss = ds;
	vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, adjust(MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0));
	vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, adjust(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0));
	vmwrite(VMCS_VM_EXIT_CONTROLS,
		adjust(MSR_IA32_VMX_TRUE_EXIT_CTLS, EXIT_HOST_ADDR_SPACE_SIZE));
	vmwrite(VMCS_VM_ENTRY_CONTROLS, adjust(MSR_IA32_VMX_TRUE_ENTRY_CTLS, ENTRY_IA32E_MODE_GUEST));
	vmwrite(VMCS_EXCEPTION_BITMAP, 0xffffffffu);
	vmwrite(VMCS_VMCS_LINK_POINTER, ~0ull);

	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SELECTOR, cs);
	vmwrite(VMCS_HOST_SS_SELECTOR, ss);
	vmwrite(VMCS_HOST_DS_SELECTOR, ds);
	vmwrite(VMCS_HOST_ES_SELECTOR, ds);
	vmwrite(VMCS_HOST_FS_SELECTOR, ds);
	vmwrite(VMCS_HOST_GS_SELECTOR, ds);
	vmwrite(VMCS_HOST_TR_SELECTOR, tr);
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_IA32_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_IA32_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, tss);
	vmwrite(VMCS_HOST_GDTR_BASE, g.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idt.base);
	vmwrite(VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_IA32_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)bench_vmexit);

	/* L2 shares L1's address space, GDT and IDT: 64-bit, flat. */
	vmwrite(VMCS_GUEST_CR0, read_cr0());
	vmwrite(VMCS_GUEST_CR3, read_cr3());
	vmwrite(VMCS_GUEST_CR4, read_cr4());
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_RSP, l2_stack);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)(uintptr_t)l2_code);
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	static const uint32_t data[] = { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_SS_SELECTOR,
					 VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR,
					 VMCS_GUEST_GS_SELECTOR };
	for (unsigned i = 0; i < 5; i++)
		vmwrite(data[i], data[i] == VMCS_GUEST_SS_SELECTOR ? ss : ds);
	vmwrite(VMCS_GUEST_CS_SELECTOR, cs);
	vmwrite(VMCS_GUEST_CS_LIMIT, 0xffffffff);
	vmwrite(VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	vmwrite(VMCS_GUEST_CS_BASE, 0);
	static const uint32_t lim[] = { VMCS_GUEST_ES_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
					VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT };
	static const uint32_t ar[] = { VMCS_GUEST_ES_AR_BYTES, VMCS_GUEST_SS_AR_BYTES,
				       VMCS_GUEST_DS_AR_BYTES, VMCS_GUEST_FS_AR_BYTES,
				       VMCS_GUEST_GS_AR_BYTES };
	for (unsigned i = 0; i < 5; i++) {
		vmwrite(lim[i], 0xffffffff);
		vmwrite(ar[i], 0xc093);
	}
	vmwrite(VMCS_GUEST_ES_BASE, 0);
	vmwrite(VMCS_GUEST_SS_BASE, 0);
	vmwrite(VMCS_GUEST_DS_BASE, 0);
	vmwrite(VMCS_GUEST_FS_BASE, rdmsr(MSR_IA32_FS_BASE));
	vmwrite(VMCS_GUEST_GS_BASE, rdmsr(MSR_IA32_GS_BASE));
	vmwrite(VMCS_GUEST_LDTR_AR_BYTES, 0x10000); /* unusable */
	vmwrite(VMCS_GUEST_TR_SELECTOR, tr);
	vmwrite(VMCS_GUEST_TR_BASE, tss);
	vmwrite(VMCS_GUEST_TR_LIMIT, 0x67);
	vmwrite(VMCS_GUEST_TR_AR_BYTES, 0x8b);
	vmwrite(VMCS_GUEST_GDTR_BASE, g.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, g.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, idt.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, idt.limit);
	vmwrite(VMCS_GUEST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	return g_vmwrite_fails == 0;
}

/* ---- measurement ---- */


/* One nested round trip; returns 0 after a CPUID exit was handled. */
static int round_trip(void)
{
	int rc = l2_enter(0);
	if (rc)
		return rc;
	uint64_t reason = vmread(VMCS_VM_EXIT_REASON);
	(void)vmread(VMCS_EXIT_QUALIFICATION);
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	uint64_t len = vmread(VMCS_VM_EXIT_INSTRUCTION_LEN);
	vmwrite(VMCS_GUEST_RIP, rip + len);
	return reason == EXIT_REASON_CPUID && len == 2 ? 0 : 100 + (int)(reason & 0xffff);
}

static bool g_microhv; /* microhv under us: its hypercalls and counters */

/* The nested figures; false (after an error line) if a round failed. */
static bool measure_nested(void)
{
	uint64_t r[4], l1_0 = 0, l1_1, st0[4], st1[4];
	uint64_t min = ~0ull, sum = 0;
	if (g_microhv) {
		hc(HC_NESTED_STATS, HC_ANY, st0);
		r[0] = HC_EXIT_COUNT;
		r[1] = HC_ANY;
		r[2] = HC_ANY;
		hv_vmcall(r);
		l1_0 = r[1];
	}
	for (int i = 0; i < BENCH_ROUNDS; i++) {
		uint64_t t0 = bench_rdtsc();
		int rc = round_trip();
		uint64_t d = bench_rdtsc() - t0;
		if (rc) {
			say("bench: error: nested round %d: %s %d", i,
			    rc < 100 ? "VMRESUME failed with VMfail" : "unexpected exit reason",
			    rc < 100 ? rc : rc - 100);
			return false;
		}
		sum += d;
		if (d < min)
			min = d;
	}
	if (!g_microhv) {
		say("bench: nested CPUID round trip L2 -> L1 -> L2 (bare): min %llu, mean %llu TSC "
		    "cycles over %d rounds",
		    (unsigned long long)min, (unsigned long long)(sum / BENCH_ROUNDS), BENCH_ROUNDS);
		return true;
	}
	r[0] = HC_EXIT_COUNT;
	r[1] = HC_ANY;
	r[2] = HC_ANY;
	hv_vmcall(r);
	l1_1 = r[1];
	hc(HC_NESTED_STATS, HC_ANY, st1);
	/* The VMCALL that read l1_0 is counted after it answered; not in the rounds. */
	uint64_t l1_exits = l1_1 - l1_0 - 1;
	uint64_t l2_exits = st1[2] - st0[2];
	say("bench: nested CPUID round trip L2 -> L0 -> L1 -> L0 -> L2: min %llu, mean %llu TSC "
	    "cycles over %d rounds",
	    (unsigned long long)min, (unsigned long long)(sum / BENCH_ROUNDS), BENCH_ROUNDS);
	say("bench: L0 exits per nested round trip: %llu.%02llu (L1's VMX instructions %llu.%02llu, "
	    "L2's %llu.%02llu)",
	    (unsigned long long)((l1_exits + l2_exits) / BENCH_ROUNDS),
	    (unsigned long long)((l1_exits + l2_exits) % BENCH_ROUNDS / 10),
	    (unsigned long long)(l1_exits / BENCH_ROUNDS),
	    (unsigned long long)(l1_exits % BENCH_ROUNDS / 10),
	    (unsigned long long)(l2_exits / BENCH_ROUNDS),
	    (unsigned long long)(l2_exits % BENCH_ROUNDS / 10));
	say("bench: exits from L2 reflected to L1: %llu of %llu", (unsigned long long)(st1[3] - st0[3]),
	    (unsigned long long)l2_exits);
	hc(HC_NESTED_LAST_EXIT, HC_ANY, r);
	say("bench: per reflected exit: %llu vmcs02 fields read by the vmcs12 rebuild; L0 VMREADs "
	    "%llu, VMWRITEs %llu from L2's exit to L1's resumption",
	    (unsigned long long)r[1], (unsigned long long)r[2], (unsigned long long)r[3]);
	hc(HC_NESTED_LAST_ENTRY, HC_ANY, r);
	say("bench: per VMRESUME (L1 advanced RIP only): L0 VMREADs %llu, VMWRITEs %llu from L1's "
	    "VMRESUME to L2; %llu fields copied back from the shadow VMCS",
	    (unsigned long long)r[1], (unsigned long long)r[2], (unsigned long long)r[3]);
	return true;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	payload_serial_init();
	uint64_t r[4];
	struct cpuid_regs c;
	/* "microhv" in EBX ECX (tests/payload/nested_env.c does the same). */
	cpuid_count(0x40000000u, 0, &c);
	g_microhv = c.ebx == 0x7263696du && c.ecx == 0x0076686fu && c.edx == 0;
	if (g_microhv && hc(HC_VERSION, 0, r) != HV_OK) {
		say("bench: error: no microhv hypercall answer");
		goto off;
	}
	if (!g_microhv)
		say("bench: bare Bochs: no microhv under this L1 (CPU's own VT-x)");
	cpuid_count(1, 0, &c);
	if (!(c.ecx & (1u << 5))) {
		say("bench: error: CPUID.1:ECX.VMX = 0 (nested = off?)");
		goto off;
	}
	uint64_t gdt = alloc_page(), tss = alloc_page(), vmxon_region = alloc_page(),
		 vmcs = alloc_page(), stack = alloc_page();
	if (!gdt || !tss || !vmxon_region || !vmcs || !stack) {
		say("bench: error: out of memory");
		goto off;
	}
	cli();
	/* Bare Bochs's firmware leaves IA32_FEATURE_CONTROL unlocked (microhv's reads locked). */
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	uint16_t tr = install_tss(gdt, tss);
	uint64_t cr0 = read_cr0() | (uint32_t)rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	write_cr0(cr0 & rdmsr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4((read_cr4() | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1));
	*(uint32_t *)(uintptr_t)vmxon_region = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC);
	if (!vmxon(vmxon_region)) {
		say("bench: error: VMXON failed");
		goto off;
	}
	if (!setup_vmcs(vmcs, tr, tss, stack + 4096)) {
		say("bench: error: VMCS setup failed");
		goto off;
	}
	int rc = l2_enter(1);
	if (rc) {
		say("bench: error: VMLAUNCH failed (%s, VM-instruction error %llu)",
		    rc == 1 ? "VMfailInvalid" : "VMfailValid",
		    (unsigned long long)vmread(VMCS_VM_INSTRUCTION_ERROR));
		goto off;
	}
	uint64_t reason = vmread(VMCS_VM_EXIT_REASON);
	say("bench: L2 launched; first exit reason %llu, guest RIP 0x%llx (L2 code at 0x%llx)",
	    (unsigned long long)reason, (unsigned long long)vmread(VMCS_GUEST_RIP),
	    (unsigned long long)(uintptr_t)l2_code);
	if (reason != EXIT_REASON_CPUID) {
		say("bench: error: first exit from L2 is not CPUID (qualification 0x%llx)",
		    (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
		goto off;
	}
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_VM_EXIT_INSTRUCTION_LEN));
	bench_measure_single(g_microhv ? "RDTSC pair alone (no exit)"
				       : "RDTSC pair alone (no exit, bare)",
			     0);
	if (g_microhv)
		bench_measure_single("CPUID round trip L1 -> L0 -> L1", 1);
	bool ok = measure_nested();
	__asm__ volatile("vmxoff" ::: "cc");
	/* "done" only for a bench whose every round and VMWRITE worked. */
	if (ok && g_vmwrite_fails == 0)
		say("bench: done");
	else
		say("bench: error: the nested bench did not complete (%d VMWRITE failures)",
		    g_vmwrite_fails);
off:
	payload_power_off();
}
