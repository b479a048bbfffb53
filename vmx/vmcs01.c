/*
 * vmcs01.c - vmcs01: L1 continues exactly where the firmware was.
 *
 * Guest state is the CPU's own state at the launch (late launch): the
 * firmware's segments decoded from its GDT, its control and debug
 * registers and MSRs.  Only CR0/CR4 differ: the CPU needs its VMX-fixed
 * bits (CR4.VMXE, CR0.NE) set, and L1 sees its own values through the read
 * shadows.  Host state is L0's: its per-CPU GDT/TSS, the shared IDT and
 * page tables, the exit stub and the per-CPU host stack.
 */
#include "vmcs01.h"

#include "arch/x86/gdt.h"
#include "arch/x86/msr.h"
#include "console.h"
#include "controls.h"
#include "vmx_arch.h"
#include "l0.h"
#include "segment.h"
#include "vmcs.h"

extern char vmx_exit_entry[];

#define CPUID_1_ECX_XSAVE (1u << 26)
#define TSS_SYNTHETIC_LIMIT 0x67
#define TSS_BUSY_64 0xbu

void cpu_snapshot_take(struct cpu_snapshot *s)
{
	sgdt(&s->gdtr);
	sidt(&s->idtr);
	s->cr0 = read_cr0();
	s->cr3 = read_cr3();
	s->cr4 = read_cr4();
	s->dr7 = read_dr7();
	s->rflags = read_rflags();
	s->cs = read_cs();
	s->ds = read_ds();
	s->es = read_es();
	s->fs = read_fs();
	s->gs = read_gs();
	s->ss = read_ss();
	s->tr = read_tr();
	__asm__ volatile("sldt %0" : "=r"(s->ldtr));
	s->fs_base = rdmsr(MSR_IA32_FS_BASE);
	s->gs_base = rdmsr(MSR_IA32_GS_BASE);
	s->debugctl = rdmsr(MSR_IA32_DEBUGCTL);
	s->sysenter_cs = rdmsr(MSR_IA32_SYSENTER_CS);
	s->sysenter_esp = rdmsr(MSR_IA32_SYSENTER_ESP);
	s->sysenter_eip = rdmsr(MSR_IA32_SYSENTER_EIP);
	s->efer = rdmsr(MSR_IA32_EFER);
	s->pat = rdmsr(MSR_IA32_PAT);
}

void cpu_snapshot_restore(const struct cpu_snapshot *s)
{
	write_cr3(s->cr3);
	gdt_load(&s->gdtr, s->cs, s->ds, s->ss);
	lidt(&s->idtr);
	__asm__ volatile("mov %0, %%es" : : "r"(s->es));
	__asm__ volatile("mov %0, %%fs" : : "r"(s->fs));
	__asm__ volatile("mov %0, %%gs" : : "r"(s->gs));
	wrmsr(MSR_IA32_FS_BASE, s->fs_base);
	wrmsr(MSR_IA32_GS_BASE, s->gs_base);
	wrmsr(MSR_IA32_DEBUGCTL, s->debugctl);
	wrmsr(MSR_IA32_SYSENTER_CS, s->sysenter_cs);
	wrmsr(MSR_IA32_SYSENTER_ESP, s->sysenter_esp);
	wrmsr(MSR_IA32_SYSENTER_EIP, s->sysenter_eip);
	wrmsr(MSR_IA32_PAT, s->pat);
	write_dr7(s->dr7);
	/* A VM exit left a 0x67-limit TR of L0's; the firmware had s->tr. */
}

/* The per-segment field encodings, in SDM order. */
struct seg_fields {
	uint32_t sel, base, limit, ar;
};

#define SEG_FIELDS(S)                                                                  \
	{ VMCS_GUEST_##S##_SELECTOR, VMCS_GUEST_##S##_BASE, VMCS_GUEST_##S##_LIMIT,      \
	  VMCS_GUEST_##S##_AR_BYTES }

static void write_segment(struct seg_fields f, struct vmx_segment s)
{
	vmcs_write(f.sel, s.selector);
	vmcs_write(f.base, s.base);
	vmcs_write(f.limit, s.limit);
	vmcs_write(f.ar, s.ar);
}

static void guest_state(const struct cpu_snapshot *s, uint64_t rsp, uint64_t rip)
{
	const uint64_t *gdt = (const uint64_t *)(uintptr_t)s->gdtr.base;
	const struct {
		struct seg_fields f;
		uint16_t sel;
	} segs[] = {
		{ SEG_FIELDS(ES), s->es }, { SEG_FIELDS(CS), s->cs }, { SEG_FIELDS(SS), s->ss },
		{ SEG_FIELDS(DS), s->ds }, { SEG_FIELDS(FS), s->fs }, { SEG_FIELDS(GS), s->gs },
		{ SEG_FIELDS(LDTR), s->ldtr },
	};
	for (unsigned i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		write_segment(segs[i].f, vmx_segment_from_gdt(gdt, s->gdtr.limit, segs[i].sel));
	/* In 64-bit mode the FS and GS bases are the MSRs, not the descriptors. */
	vmcs_write(VMCS_GUEST_FS_BASE, s->fs_base);
	vmcs_write(VMCS_GUEST_GS_BASE, s->gs_base);

	/*
	 * SDM Vol. 3C 27.3.1.2: the guest TR must be usable, a busy TSS.  UEFI
	 * firmware often runs with TR = 0 (OVMF does); L1 then gets a TR that
	 * points at an empty 64-bit TSS at 0, which it never uses at CPL 0
	 * without IST, until it loads its own.
	 */
	struct vmx_segment tr = vmx_segment_from_gdt(gdt, s->gdtr.limit, s->tr);
	if (tr.ar & VMX_AR_UNUSABLE)
		tr = (struct vmx_segment){ s->tr, 0, TSS_SYNTHETIC_LIMIT, VMX_AR_P | TSS_BUSY_64 };
	tr.ar = (tr.ar & ~VMX_AR_TYPE_MASK) | TSS_BUSY_64;
	write_segment((struct seg_fields)SEG_FIELDS(TR), tr);

	vmcs_write(VMCS_GUEST_GDTR_BASE, s->gdtr.base);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, s->gdtr.limit);
	vmcs_write(VMCS_GUEST_IDTR_BASE, s->idtr.base);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, s->idtr.limit);

	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(&g_l0.caps, s->cr0, g_l0.unrestricted_guest));
	vmcs_write(VMCS_GUEST_CR3, s->cr3);
	vmcs_write(VMCS_GUEST_CR4, vmx_fix_cr4(&g_l0.caps, s->cr4));
	vmcs_write(VMCS_GUEST_DR7, s->dr7);
	vmcs_write(VMCS_GUEST_RSP, rsp);
	vmcs_write(VMCS_GUEST_RIP, rip);
	vmcs_write(VMCS_GUEST_RFLAGS, s->rflags | RFLAGS_RESERVED1);

	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, s->debugctl);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, s->sysenter_cs);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, s->sysenter_esp);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, s->sysenter_eip);
	vmcs_write(VMCS_GUEST_IA32_EFER, s->efer);
	vmcs_write(VMCS_GUEST_IA32_PAT, s->pat);

	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VMCS_VMCS_LINK_POINTER, ~0ull); /* SDM 27.3.1.5: no shadow VMCS */
}

void vmcs_write_host_state(const struct vcpu *v)
{
	uint64_t cr4 = read_cr4();
	struct cpuid_regs r;
	cpuid_count(1, 0, &r);
	/* L0 executes XSETBV for L1: that needs CR4.OSXSAVE in VMX root. */
	if (r.ecx & CPUID_1_ECX_XSAVE)
		cr4 |= CR4_OSXSAVE;

	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, g_l0.host_cr3);
	vmcs_write(VMCS_HOST_CR4, cr4);
	vmcs_write(VMCS_HOST_CS_SELECTOR, GDT_SEL_CODE64);
	vmcs_write(VMCS_HOST_SS_SELECTOR, GDT_SEL_DATA);
	vmcs_write(VMCS_HOST_DS_SELECTOR, GDT_SEL_DATA);
	vmcs_write(VMCS_HOST_ES_SELECTOR, GDT_SEL_DATA);
	vmcs_write(VMCS_HOST_FS_SELECTOR, GDT_SEL_DATA);
	vmcs_write(VMCS_HOST_GS_SELECTOR, GDT_SEL_DATA);
	vmcs_write(VMCS_HOST_TR_SELECTOR, GDT_SEL_TSS);
	vmcs_write(VMCS_HOST_FS_BASE, 0);
	vmcs_write(VMCS_HOST_GS_BASE, (uint64_t)(uintptr_t)v); /* l0_this_vcpu() */
	vmcs_write(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&v->tss);
	vmcs_write(VMCS_HOST_GDTR_BASE, v->gdtr.base);
	vmcs_write(VMCS_HOST_IDTR_BASE, g_l0.host_idtr.base);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	vmcs_write(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(VMCS_HOST_RSP, (uint64_t)(uintptr_t)&v->frame->vcpu);
	vmcs_write(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
}

static void controls(const struct cpu_snapshot *s)
{
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, g_l0.pin);
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, g_l0.proc);
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, g_l0.proc2);
	vmcs_write(VMCS_VM_EXIT_CONTROLS, g_l0.exit);
	/* SDM 27.2.1.3 / 27.3.1.1: "IA-32e mode guest" must equal EFER.LMA. */
	vmcs_write(VMCS_VM_ENTRY_CONTROLS,
		   g_l0.entry | ((s->efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(VMCS_MSR_BITMAP, g_l0.msr_bitmap_pa);
	vmcs_write(VMCS_EPT_POINTER, g_l0.eptp);
	/* L1's VMREAD/VMWRITE bitmaps, used while a vmcs12 is shadowed (nested/shadow_vmcs.h). */
	if (g_l0.shadow_set.count) {
		vmcs_write(VMCS_VMREAD_BITMAP, g_l0.vmread_bitmap_pa);
		vmcs_write(VMCS_VMWRITE_BITMAP, g_l0.vmwrite_bitmap_pa);
	}
	if (g_l0.vpid)
		vmcs_write(VMCS_VIRTUAL_PROCESSOR_ID, L1_VPID);

	/* L1 reads its own CR0/CR4 from the shadows; pinned bits are L0's. */
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, g_l0.cr0_mask);
	vmcs_write(VMCS_CR0_READ_SHADOW, s->cr0);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, g_l0.cr4_mask);
	vmcs_write(VMCS_CR4_READ_SHADOW, s->cr4);
}

void vmcs01_init(const struct vcpu *v, const struct cpu_snapshot *s, uint64_t guest_rsp,
		 uint64_t guest_rip)
{
	controls(s);
	guest_state(s, guest_rsp, guest_rip);
	vmcs_write_host_state(v);
	/* IA32_SPEC_CTRL: the guest's on entry, L0's on exit (msr_policy.h). */
	uint64_t entry_load, exit_load;
	unsigned n = msr_switch_areas(&g_l0.msr, &v->msrs, &entry_load, &exit_load);
	vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_ADDR, entry_load);
	vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_COUNT, n);
	vmcs_write(VMCS_VM_EXIT_MSR_LOAD_ADDR, exit_load);
	vmcs_write(VMCS_VM_EXIT_MSR_LOAD_COUNT, n);
	/*
	 * L0's console (console.h): its ports are L0's on every CPU; the BSP
	 * polls it on VMX-preemption-timer exits.
	 */
	uint64_t io_a, io_b;
	bool console = l0_console_io_bitmaps(&io_a, &io_b);
	if (console) {
		vmcs_write(VMCS_IO_BITMAP_A, io_a);
		vmcs_write(VMCS_IO_BITMAP_B, io_b);
		vmcs_set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_USE_IO_BITMAPS);
	}
	/* The same tick polls the VT-d units' fault records (core/iommu.h). */
	if (v->index == 0 && (console || g_l0.dma_fault_poll)) {
		vmcs_set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
		vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, l0_console_timer_value());
	}
}
