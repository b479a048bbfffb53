/*
 * nested_test.c - the nested test hypervisor: an EFI application that runs
 * as L1 (microhv's next stage) or directly on the hardware (bare Bochs,
 * the reference), and is itself a small hypervisor.  It checks what L1
 * sees of VMX against the SDM (Vol. 3C: VMCS, VM entries, VM exits, the
 * VMX instruction reference; Vol. 3D App. A: capability MSRs), each
 * expectation derived from the capability MSRs it reads.
 *
 * Every check is one COM1 line, "microhv-nested: ok - WHAT (values)" or
 * "microhv-nested: not ok - WHAT (values seen, values wanted)"; each group
 * starts with a "microhv-nested: group ..." line so that a run that stops
 * shows where.  The last line is "nested-test: N passed, N failed", then
 * the machine powers off.  Groups:
 *   A  capability MSRs, CPUID, IA32_FEATURE_CONTROL         (here)
 *   B  VMX instruction results and VM-instruction errors    (nested_insn.c)
 *   C  VM-entry failures and the state after them           (nested_entry.c)
 *   D  VM exits from L2, instruction by instruction         (nested_exits.c)
 *      under RDRAND/RDSEED, PAUSE-loop exiting, TSC scaling (nested_ctl.c)
 *      and event by event                                   (nested_events.c)
 *      the VMX-preemption timer                             (nested_timer.c)
 *      unrestricted guest: real-mode, unpaged L2            (nested_ug.c)
 *      nested EPT                                           (nested_ept.c)
 *   E  L1's own state at the end, VMXOFF                    (here)
 * An exception L1 does not expect ends the run with a not-ok line and the
 * count; a VM exit that never comes back is bounded by the test script.
 */
#include <efi.h>
#include <efilib.h>

#include "drivers/serial/format.h"
#include "vmx/hypercall.h"

#include "nested_test.h"
#include "payload.h"

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define MICROHV_REVISION 0x6d687631u
#define MICROHV_VMCS_SIZE 4096u
#define CR0_PE (1ull << 0)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_VMXE (1ull << 13)

static unsigned g_pass, g_fail;
static uint8_t g_pic1, g_pic2;

void nx_check(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	payload_check("microhv-nested", &g_pass, &g_fail, ok, what, fmt, ap);
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
	payload_say("nested-test: %u passed, %u failed", g_pass, g_fail);
	payload_power_off();
}

/* From nested_vmx.asm's stubs: an exception outside every probe. */
__attribute__((noreturn)) void nx_unexpected_exception(uint64_t vector, uint64_t error,
						       uint64_t rip);
void nx_unexpected_exception(uint64_t vector, uint64_t error, uint64_t rip)
{
	nx_check(false, "no unexpected exception in L1", "vector %llu error 0x%llx rip 0x%llx",
		 (unsigned long long)vector, (unsigned long long)error, (unsigned long long)rip);
	nx_finish();
}

/* ---- A: capabilities ---- */

static void group_caps(void)
{
	nx_env_read_caps();
	nx_say("microhv-nested: group A - capability MSRs, CPUID, IA32_FEATURE_CONTROL (%s)",
	       nx.microhv ? "under microhv" : "no microhv: bare hardware");
	struct cpuid_regs c;
	cpuid_count(1, 0, &c);
	nx_check(nx.vmx_cpuid, "CPUID.1:ECX.VMX = 1", "ecx 0x%x", c.ecx);

	uint64_t fc = 0, fc0 = 0;
	uint64_t r = nx_rdmsr(MSR_IA32_FEATURE_CONTROL, &fc0);
	fc = fc0;
	/* Unlocked (bare Bochs): lock it with VMX outside SMX, as firmware would. */
	if (!r && !(fc0 & FEATURE_CONTROL_LOCK)) {
		nx_wrmsr(MSR_IA32_FEATURE_CONTROL,
			 fc0 | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
		nx_rdmsr(MSR_IA32_FEATURE_CONTROL, &fc);
	}
	uint64_t want = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	nx_check(!r && (fc & want) == want, "IA32_FEATURE_CONTROL locked with VMX outside SMX",
		 "read %s, 0x%llx at start, 0x%llx now", r ? nx_result_str(r) : "ok",
		 (unsigned long long)fc0, (unsigned long long)fc);

	nx_check(nx.caps_ok, "IA32_VMX_BASIC readable", "0x%llx%s", (unsigned long long)nx.basic,
		 nx.caps_ok ? "" : ", RDMSR faulted");
	uint32_t size =
	    (uint32_t)((nx.basic >> VMX_BASIC_VMCS_SIZE_SHIFT) & VMX_BASIC_VMCS_SIZE_MASK);
	if (nx.microhv)
		nx_check(nx.revision == MICROHV_REVISION && size == MICROHV_VMCS_SIZE,
			 "IA32_VMX_BASIC: microhv's revision and VMCS size",
			 "revision 0x%x size %u, want 0x%x and %u", nx.revision, size,
			 MICROHV_REVISION, MICROHV_VMCS_SIZE);
	else
		nx_check(nx.revision && !(nx.basic & (1ull << 31)) && size && size <= 4096,
			 "IA32_VMX_BASIC: revision and VMCS size (A.1)",
			 "revision 0x%x size %u, want nonzero, bit 31 clear, size 1..4096",
			 nx.revision, size);
	nx_say(
	    "microhv-nested: note - pin 0x%llx proc 0x%llx proc2 0x%llx exit 0x%llx entry 0x%llx",
	    (unsigned long long)nx.ctl_msr[NX_PIN], (unsigned long long)nx.ctl_msr[NX_PROC],
	    (unsigned long long)nx.ctl_msr[NX_PROC2], (unsigned long long)nx.ctl_msr[NX_EXIT],
	    (unsigned long long)nx.ctl_msr[NX_ENTRY]);
	nx_say("microhv-nested: note - misc 0x%llx cr0 fixed 0x%llx/0x%llx cr4 fixed 0x%llx/0x%llx "
	       "ept/vpid 0x%llx maxphyaddr %u",
	       (unsigned long long)nx.misc, (unsigned long long)nx.cr0_fixed0,
	       (unsigned long long)nx.cr0_fixed1, (unsigned long long)nx.cr4_fixed0,
	       (unsigned long long)nx.cr4_fixed1, (unsigned long long)nx.ept_vpid_cap,
	       nx.maxphyaddr);
	uint64_t cr0_need = CR0_PE | CR0_NE | CR0_PG;
	nx_check((nx.cr0_fixed0 & cr0_need) == cr0_need && (nx.cr4_fixed0 & CR4_VMXE) &&
		     (nx.cr0_fixed1 & nx.cr0_fixed0) == nx.cr0_fixed0 &&
		     (nx.cr4_fixed1 & nx.cr4_fixed0) == nx.cr4_fixed0,
		 "CR0/CR4 fixed bits: PE, NE, PG and VMXE fixed to 1 (A.7, A.8)",
		 "cr0 0x%llx/0x%llx cr4 0x%llx/0x%llx", (unsigned long long)nx.cr0_fixed0,
		 (unsigned long long)nx.cr0_fixed1, (unsigned long long)nx.cr4_fixed0,
		 (unsigned long long)nx.cr4_fixed1);

	if (nx.microhv) {
		uint64_t h[4] = {HC_L0_RANGE, 0, 0, 0};
		uint64_t f = nx_hypercall(h);
		nx.l0_base = h[1];
		nx.l0_size = h[2];
		nx_check(!f && h[0] == HV_OK && h[1] && h[2], "HC_L0_RANGE names L0's memory",
			 "%s status %lld base 0x%llx size 0x%llx", f ? nx_result_str(f) : "ok",
			 (long long)h[0], (unsigned long long)h[1], (unsigned long long)h[2]);
	}
}

/* ---- E: L1 after everything ---- */

static void group_end(bool vmx)
{
	nx_say("microhv-nested: group E - L1's own state at the end");
	if (vmx) {
		uint64_t r = nx_vmxoff();
		nx_check(nx_outcome(r) == NX_SUCCEED && !(r & NX_FLAGS_ARITH), "VMXOFF succeeds",
			 "%s rflags 0x%llx", nx_result_str(r), (unsigned long long)r);
		uint64_t v = 0;
		r = nx_vmread(VMCS_GUEST_RIP, &v);
		nx_check(r == (NX_FAULT | VEC_UD), "VMREAD after VMXOFF raises #UD", "%s, want #UD",
			 nx_result_str(r));
		write_cr4(read_cr4() & ~CR4_VMXE);
		nx_check(!(read_cr4() & CR4_VMXE), "CR4.VMXE clears after VMXOFF", "cr4 0x%llx",
			 (unsigned long long)read_cr4());
	} else if (read_cr4() & CR4_VMXE) {
		write_cr4(read_cr4() & ~CR4_VMXE); /* set for a VMXON that failed */
	}
	uint64_t cr3 = read_cr3();
	nx_check(cr3 == nx.cr3, "L1's CR3 is its own", "cr3 0x%llx, want 0x%llx",
		 (unsigned long long)cr3, (unsigned long long)nx.cr3);
	/* A VM exit sets the GDTR and IDTR limits to 0xffff (SDM Vol. 3C 28.5.2). */
	struct desc_ptr g, i;
	sgdt(&g);
	sidt(&i);
	uint16_t gl = nx.any_exit ? 0xffff : nx.gdt_limit, il = nx.any_exit ? 0xffff : nx.idt_limit;
	nx_check(g.base == nx.gdt && g.limit == gl && i.base == nx.idt && i.limit == il &&
		     read_tr() == nx.tr,
		 "L1's GDTR, IDTR and TR are the host state's",
		 "gdtr 0x%llx/0x%x idtr 0x%llx/0x%x tr 0x%x, want limits 0x%x/0x%x",
		 (unsigned long long)g.base, g.limit, (unsigned long long)i.base, i.limit,
		 read_tr(), gl, il);
	struct desc_ptr gp = {nx.gdt_limit, nx.gdt}, ip = {nx.idt_limit, nx.idt};
	__asm__ volatile("lgdt %0" : : "m"(gp) : "memory");
	lidt(&ip);
	uint64_t ds = nx_reload_ds(), ud = nx_ud2();
	nx_check(!ds && ud == (NX_FAULT | VEC_UD), "L1's GDT and IDT work (DS reload, #UD caught)",
		 "mov ds %s, ud2 %s", ds ? nx_result_str(ds) : "ok", nx_result_str(ud));
	if (nx.microhv) {
		uint64_t h[4] = {HC_VERSION, 0, 0, 0};
		uint64_t f = nx_hypercall(h);
		nx_check(!f && h[0] == HV_OK, "L0 still answers HC_VERSION",
			 "%s status %lld version 0x%llx", f ? nx_result_str(f) : "ok",
			 (long long)h[0], (unsigned long long)h[1]);
	}
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	payload_serial_init();
	nx_say("microhv-nested: nested test hypervisor started");
	const char *err = nx_env_alloc();
	if (err) {
		nx_check(false, "memory for the test", "%s", err);
		nx_finish();
	}
	/* From here on: no boot services, interrupts off, the PIC masked. */
	cli();
	g_pic1 = inb(PIC1_DATA);
	g_pic2 = inb(PIC2_DATA);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	nx_env_l1_tables();

	group_caps();
	bool vmx = false;
	if (nx.vmx_cpuid && nx.caps_ok)
		vmx = nx_group_insn();
	else
		nx_check(false, "VMX instructions tried",
			 "skipped: CPUID.VMX %d, capability MSRs %s", nx.vmx_cpuid,
			 nx.caps_ok ? "read" : "not readable");
	if (vmx) {
		nx_group_entry();
		nx_group_exits();
		nx_group_ctl();
		nx_group_events();
		nx_group_timer();
		nx_group_ug();
		nx_group_ept();
		nx_group_vmfunc();
		nx_group_apicv();
	} else {
		nx_check(false, "VM entries and exits (groups C, D)",
			 "skipped: not in VMX operation");
	}
	group_end(vmx);
	nx_finish();
}
