/*
 * launch.c - late launch: L0 takes VT-x and the CPU goes on as L1.
 *
 * l0_prepare runs once on the BSP: it fits the controls to the capability
 * MSRs and builds what all CPUs share (MSR bitmap, EPT for L1).
 * l0_launch_this_cpu runs on each CPU in turn, called from the loader's
 * trampoline (boot/launch.asm) with the stack pointer and continuation the
 * CPU must resume at as L1.  A launch that fails is undone completely: the
 * firmware keeps running on that CPU without VMX, and the reason is logged
 * (VM-instruction error number and its meaning, or the exit reason and
 * qualification of a failed VM entry).
 */
#include "ap_start.h"
#include "l0.h"

#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/msr.h"
#include "console.h"
#include "controls.h"
#include "core/iommu.h"
#include "drivers/vtd/dmar.h"
#include "drivers/vtd/vtd_unit.h"
#include "exit.h"
#include "drivers/serial/log.h"
#include "ept01.h"
#include "l1_memory.h"
#include "mm/ept.h"
#include "mm/mtrr.h"
#include "nested/run.h"
#include "nested/vmcs12.h"
#include "nested/vmx_msrs.h"
#include "vmcs.h"
#include "vmcs01.h"
#include "vmx_arch.h"
#include "vmx_insn.h"
#include "vmx_names.h"
#include "version.h" /* generated: build/gen/version.h */

#define CPUID_1_EDX_MTRR (1u << 12)

struct l0 g_l0;

const struct l1_memory *l0_l1_memory(void)
{
	return l1_memory_ept01();
}

bool l0_ept01_lookup(uint64_t gpa1, unsigned *rights, unsigned *memtype, unsigned *level)
{
	return ept_translate(g_l0.eptp & EPT_ADDR_MASK, gpa1, NULL, rights, memtype, level);
}

struct launch_ctx {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

/* arch/x86/vmx_entry.asm */
int vmx_launch_checkpoint(struct launch_ctx *ctx);
__attribute__((noreturn)) void vmx_launch_abort(struct launch_ctx *ctx, int code);

/* The launch in progress on each CPU, for vmx_launch_failed_exit. */
static struct launch_ctx *launch_ctx_of[MAX_CPUS];

static uint64_t rdmsr_cb(uint32_t msr)
{
	return rdmsr(msr);
}

static void nmi_in_root(void)
{
	struct vcpu *v = l0_this_vcpu();
	if (v)
		vmx_nmi_in_root(v);
}

struct vcpu *l0_this_vcpu(void)
{
	return (struct vcpu *)(uintptr_t)rdmsr(MSR_IA32_GS_BASE);
}

/*
 * Hardware VMCS shadowing of vmcs12 for L1 (nested/shadow_vmcs.h): the
 * shadowed set and the two bitmaps, unless hv.cfg or the CPU says no.
 * False only when out of memory.
 */
static bool shadow_vmcs_setup(const struct boot_info *bi, struct page_alloc *pages)
{
	g_l0.shadow_set = (struct nested_shadow_set){ 0 };
	if (!bi->config.shadow_vmcs) {
		log_info("nested VMX: VMCS shadowing for L1 off (hv.cfg shadow_vmcs = off): every "
			 "VMREAD and VMWRITE of L1's exits to L0");
		return true;
	}
	g_l0.vmread_bitmap_pa = page_alloc(pages, 1, 1);
	g_l0.vmwrite_bitmap_pa = page_alloc(pages, 1, 1);
	if (!g_l0.vmread_bitmap_pa || !g_l0.vmwrite_bitmap_pa) {
		log_error("out of memory for the VMREAD/VMWRITE bitmaps");
		return false;
	}
	if (!nested_shadow_set_build(&g_l0.caps, &g_l0.l1_vmx, &g_l0.shadow_set,
				     (uint8_t *)(uintptr_t)g_l0.vmread_bitmap_pa,
				     (uint8_t *)(uintptr_t)g_l0.vmwrite_bitmap_pa)) {
		log_info("nested VMX: this CPU has no VMCS shadowing: every VMREAD and VMWRITE of "
			 "L1's exits to L0");
		return true;
	}
	log_info("nested VMX: VMCS shadowing for L1 on: %u fields, %u of them read-only",
		 g_l0.shadow_set.count, g_l0.shadow_set.count - g_l0.shadow_set.rw);
	return true;
}

static bool choose_controls(void)
{
	const struct vmx_caps *c = &g_l0.caps;
	g_l0.pin = vmx_adjust_controls(c, VMX_CTL_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	g_l0.proc = vmx_adjust_controls(c, VMX_CTL_PROC, L0_PROC_WANTED);
	uint32_t want2 = CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_VPID |
			 CPU2_ENABLE_RDTSCP | CPU2_ENABLE_INVPCID | CPU2_ENABLE_XSAVES |
			 CPU2_ENABLE_USER_WAIT_PAUSE;
	g_l0.proc2 = vmx_adjust_controls(c, VMX_CTL_PROC2, want2);
	g_l0.exit = vmx_adjust_controls(c, VMX_CTL_EXIT,
					EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
						EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_PAT |
						EXIT_LOAD_IA32_PAT | EXIT_SAVE_DEBUG_CONTROLS);
	g_l0.entry = vmx_adjust_controls(c, VMX_CTL_ENTRY,
					 ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_IA32_EFER |
						 ENTRY_LOAD_IA32_PAT);

	/* What L0 cannot work without, each named when missing. */
	const struct {
		bool ok;
		const char *what;
	} need[] = {
		{ g_l0.proc & CPU_USE_MSR_BITMAPS, "MSR bitmaps" },
		{ g_l0.proc & CPU_ACTIVATE_SECONDARY, "secondary controls" },
		{ (g_l0.proc & (CPU_MONITOR_EXITING | CPU_MWAIT_EXITING)) ==
			  (CPU_MONITOR_EXITING | CPU_MWAIT_EXITING),
		  "MONITOR/MWAIT exiting" },
		{ g_l0.proc2 & CPU2_ENABLE_EPT, "EPT" },
		{ g_l0.proc2 & CPU2_UNRESTRICTED_GUEST, "unrestricted guest (for SIPI in real mode)" },
		{ !(g_l0.proc & (CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING)),
		  "CR3 accesses without exits (TRUE controls)" },
		{ g_l0.exit & EXIT_HOST_ADDR_SPACE_SIZE, "64-bit host" },
		{ (g_l0.exit & EXIT_LOAD_IA32_EFER) && (g_l0.entry & ENTRY_LOAD_IA32_EFER) &&
			  (g_l0.exit & EXIT_SAVE_IA32_EFER),
		  "EFER save/load" },
		{ (g_l0.exit & EXIT_LOAD_IA32_PAT) && (g_l0.entry & ENTRY_LOAD_IA32_PAT) &&
			  (g_l0.exit & EXIT_SAVE_IA32_PAT),
		  "PAT save/load" },
	};
	bool ok = true;
	for (unsigned i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!need[i].ok) {
			log_error("VMX: this CPU lacks %s, which L0 needs", need[i].what);
			ok = false;
		}
	}
	g_l0.unrestricted_guest = g_l0.proc2 & CPU2_UNRESTRICTED_GUEST;
	g_l0.vpid = g_l0.proc2 & CPU2_ENABLE_VPID;
	g_l0.cr0_mask = vmx_cr0_host_owned(c, g_l0.unrestricted_guest);
	g_l0.cr4_mask = vmx_cr4_host_owned(c);
	log_info("vmcs01 controls: pin 0x%x proc 0x%x proc2 0x%x exit 0x%x entry 0x%x", g_l0.pin,
		 g_l0.proc, g_l0.proc2, g_l0.exit, g_l0.entry);
	log_info("CR0 guest/host mask 0x%llx, CR4 guest/host mask 0x%llx",
		 (unsigned long long)g_l0.cr0_mask, (unsigned long long)g_l0.cr4_mask);
	return ok;
}

/*
 * The xAPIC page read-only for L1, so that L0 sees the INIT and SIPI that
 * L1 sends (ap_start.h), for as long as some CPU keeps its APIC base there
 * (ept01.h: the page is writable again once the last one moved away).
 * Without it, APs are restarted through the INIT VM exit alone, which is
 * the hardware's way too.
 */
static void protect_apic_page(uint64_t pml4)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
	if (!ept_set_page_rights(g_l0.pages, pml4, base, EPT_READ)) {
		log_warn("EPT: cannot write-protect the local APIC at 0x%llx: INIT and SIPI go to "
			 "the hardware only",
			 (unsigned long long)base);
		return;
	}
	g_l0.apic_page = base;
	log_info("EPT: local APIC page 0x%llx read-only for L1 (L0 sees its INIT and SIPI)",
		 (unsigned long long)base);
}

static bool build_ept(const struct boot_info *bi)
{
	struct cpuid_regs r;
	cpuid_count(1, 0, &r);
	static struct mtrr_state mtrr;
	unsigned maxphy = g_l0.maxphyaddr;
	mtrr_read(&mtrr, rdmsr_cb, maxphy, r.edx & CPUID_1_EDX_MTRR);

	struct ept_options opt = {
		.page_1g = bi->vmx.ept_vpid_cap & EPT_CAP_PAGE_1G,
		.page_2m = bi->vmx.ept_vpid_cap & EPT_CAP_PAGE_2M,
	};
	/*
	 * With 1 GiB leaves the whole physical address space costs little, so
	 * L1 can put MMIO (64-bit BARs) anywhere; otherwise map what the memory
	 * map knows, at least 4 GiB.
	 */
	const struct mem_range *map = (const struct mem_range *)(uintptr_t)bi->memmap;
	uint64_t top = memmap_top(map, bi->memmap_count);
	if (top < (4ull << 30))
		top = 4ull << 30;
	if (opt.page_1g) {
		uint64_t all = 1ull << maxphy;
		top = all > EPT_MAX_TOP ? EPT_MAX_TOP : all;
	}
	/* L0's memory, and the VT-d units' registers while the IOMMU is L0's (core/iommu.h). */
	_Static_assert(L0_MAX_VTD_UNITS == DMAR_MAX_UNITS, "g_l0.vtd_regs holds every unit");
	struct mem_range holes[1 + L0_MAX_VTD_UNITS];
	holes[0] = (struct mem_range){ bi->hv_base, bi->hv_size, MEM_HYPERVISOR, 0 };
	g_l0.nvtd_regs = (unsigned)iommu_ept01_holes(g_l0.vtd_regs, L0_MAX_VTD_UNITS);
	for (unsigned i = 0; i < g_l0.nvtd_regs; i++) {
		holes[1 + i] = g_l0.vtd_regs[i];
		log_info("EPT: VT-d unit registers 0x%llx-0x%llx unmapped for L1 (L0's)",
			 (unsigned long long)holes[1 + i].base,
			 (unsigned long long)(holes[1 + i].base + holes[1 + i].size - 1));
	}
	size_t nholes = 1 + g_l0.nvtd_regs;
	struct ept_stats st;
	uint64_t pml4 = ept_build_identity(g_l0.pages, &mtrr, top, holes, nholes, &opt, &st);
	if (!pml4) {
		log_error("EPT: out of memory mapping L1's physical memory up to 0x%llx",
			  (unsigned long long)top);
		return false;
	}
	g_l0.eptp = ept_eptp(pml4, false);
	protect_apic_page(pml4);
	/* From here on EPT01 changes only through ept01.h (L1's MTRRs, moved APIC bases). */
	ept01_init(g_l0.pages, &g_l0.lock, pml4, &opt, &mtrr);
	log_info("EPT for L1: identity up to 0x%llx without L0's 0x%llx-0x%llx; leaves 1G %llu "
		 "2M %llu 4K %llu, %llu table pages",
		 (unsigned long long)top, (unsigned long long)bi->hv_base,
		 (unsigned long long)(bi->hv_base + bi->hv_size - 1),
		 (unsigned long long)st.leaves_1g, (unsigned long long)st.leaves_2m,
		 (unsigned long long)st.leaves_4k, (unsigned long long)st.table_pages);
	return true;
}

#define CPUID_7_ECX_LA57 (1u << 16)
#define CPUID_7_EDX_IBRS_IBPB (1u << 26)
#define CPUID_7_EDX_STIBP (1u << 27)
#define CPUID_7_EDX_SSBD (1u << 31)
#define CPUID_D1_EAX_XSAVES (1u << 3)
#define MTRRCAP_SMRR (1ull << 11)

/* What the MSR table (msr_policy.h) needs of this machine. */
static void msr_policy_init(const struct boot_info *bi)
{
	struct cpuid_regs r0, r1, r7 = { 0, 0, 0, 0 }, rd1 = { 0, 0, 0, 0 };
	cpuid_count(0, 0, &r0);
	cpuid_count(1, 0, &r1);
	if (r0.eax >= 7)
		cpuid_count(7, 0, &r7);
	if (r0.eax >= 0xd)
		cpuid_count(0xd, 1, &rd1);
	struct msr_policy *p = &g_l0.msr;
	*p = (struct msr_policy){
		.nested = bi->config.nested,
		.hv_base = g_l0.hv_base,
		.hv_size = g_l0.hv_size,
		.map_end = g_l0.host_map_end,
		.maxphyaddr = g_l0.maxphyaddr,
		.linear_width = (r7.ecx & CPUID_7_ECX_LA57) ? 57 : 48,
		.xss = g_l0.cpuid.has_xsaves && (rd1.eax & CPUID_D1_EAX_XSAVES),
		.xss_mask = (rd1.ecx | (uint64_t)rd1.edx << 32) & ~CPUID_XSS_HIDDEN,
	};
	if (r1.edx & CPUID_1_EDX_MTRR) {
		/* No SMRR (SMM's own range); at most L1_MTRR_MAX_VAR variable ranges. */
		uint64_t cap = rdmsr(MSR_IA32_MTRRCAP) & ~MTRRCAP_SMRR;
		if ((cap & MTRRCAP_VCNT_MASK) > L1_MTRR_MAX_VAR)
			cap = (cap & ~MTRRCAP_VCNT_MASK) | L1_MTRR_MAX_VAR;
		p->mtrr = true;
		p->mtrrcap = cap;
	}
	if (r7.edx & CPUID_7_EDX_IBRS_IBPB)
		p->spec_ctrl |= SPEC_CTRL_IBRS;
	if (r7.edx & CPUID_7_EDX_STIBP)
		p->spec_ctrl |= SPEC_CTRL_STIBP;
	if (r7.edx & CPUID_7_EDX_SSBD)
		p->spec_ctrl |= SPEC_CTRL_SSBD;
}

bool l0_prepare(const struct boot_info *bi, struct page_alloc *pages, uint64_t host_cr3,
		uint64_t host_map_end, const struct desc_ptr *host_idtr)
{
	g_l0.bi = bi;
	g_l0.pages = pages;
	g_l0.host_cr3 = host_cr3;
	g_l0.host_map_end = host_map_end;
	g_l0.host_idtr = *host_idtr;
	g_l0.maxphyaddr = bi->max_phys_bits ? bi->max_phys_bits : 36;
	g_l0.hv_base = bi->hv_base;
	g_l0.hv_size = bi->hv_size;
	g_l0.halt_on_triple_fault = !bi->config.reset_on_triple_fault;
	if (!bi->vmx_available) {
		log_warn("VT-x not available: L1 runs without a hypervisor");
		return false;
	}
	g_l0.caps = bi->vmx;
	if (!choose_controls())
		return false;

	g_l0.cpuid = (struct cpuid_policy){
		.nested = bi->config.nested,
		.has_rdtscp = g_l0.proc2 & CPU2_ENABLE_RDTSCP,
		.has_invpcid = g_l0.proc2 & CPU2_ENABLE_INVPCID,
		.has_xsaves = g_l0.proc2 & CPU2_ENABLE_XSAVES,
		.has_user_wait = g_l0.proc2 & CPU2_ENABLE_USER_WAIT_PAUSE,
		.version = MICROHV_VERSION_CODE,
	};
	msr_policy_init(bi);
	if (bi->config.nested) {
		nested_vmx_msrs_init(&g_l0.caps, vmcs12_highest_field_index(), &g_l0.l1_vmx);
		g_l0.l1_features = vmcs_features_present(&g_l0.l1_vmx);
		g_l0.msr.l1_vmx = &g_l0.l1_vmx;
		if (!shadow_vmcs_setup(bi, pages))
			return false;
	}

	g_l0.msr_bitmap_pa = page_alloc(pages, 1, 1);
	if (!g_l0.msr_bitmap_pa) {
		log_error("out of memory for the MSR bitmap");
		return false;
	}
	msr_bitmap_build((uint8_t *)(uintptr_t)g_l0.msr_bitmap_pa);
	nested_msr_pass_init((const uint8_t *)(uintptr_t)g_l0.msr_bitmap_pa, &g_l0.msr_pass);
	if (!build_ept(bi))
		return false;
	if (bi->config.nested) {
		unsigned cpus = bi->cpu_count && bi->cpu_count < MAX_CPUS ? bi->cpu_count : MAX_CPUS;
		for (unsigned i = 0; i < cpus; i++) {
			g_l0.nested[i] = nested_vcpu_alloc();
			if (!g_l0.nested[i]) {
				log_error("nested VMX: out of memory for CPU %u's state", i);
				break;
			}
		}
	}
	idt_nmi_hook = nmi_in_root;
	if (bi->config.console_port &&
	    !vmx_controls_allowed(&g_l0.caps, VMX_CTL_PIN, PIN_PREEMPTION_TIMER))
		log_warn("console: this CPU has no VMX-preemption timer: L0 console off");
	else if (bi->config.console_port)
		l0_console_init(bi->config.console_port, bi->config.baud);
	g_l0.dma_fault_poll = false;
	bool regs_mapped = true; /* L0's own page tables reach every unit's registers */
	for (unsigned i = 0; i < g_l0.nvtd_regs; i++)
		regs_mapped &= g_l0.vtd_regs[i].base + g_l0.vtd_regs[i].size <= g_l0.host_map_end;
	if (iommu_on() && !regs_mapped) {
		log_warn("VT-d: a unit's registers lie beyond L0's own map (0x%llx): DMA faults are "
			 "blocked and recorded by the units but not logged while L1 runs",
			 (unsigned long long)g_l0.host_map_end);
	} else if (iommu_on() &&
		   vmx_controls_allowed(&g_l0.caps, VMX_CTL_PIN, PIN_PREEMPTION_TIMER)) {
		g_l0.dma_fault_poll = true;
		log_info("VT-d: DMA faults polled on the BSP's VMX-preemption-timer exits");
	} else if (iommu_on()) {
		log_warn("VT-d: this CPU has no VMX-preemption timer: DMA faults are blocked and "
			 "recorded by the units but not logged while L1 runs");
	}
	return true;
}

void l0_dma_tick(struct vcpu *v)
{
	if (g_l0.dma_fault_poll && v->index == 0)
		iommu_poll_faults();
}

static void wrmsr_cb(uint32_t msr, uint64_t value)
{
	wrmsr(msr, value);
}

/* Enables VMX in this CPU's own IA32_FEATURE_CONTROL if the firmware did not. */
static bool enable_vmx_here(uint32_t apic_id)
{
	struct cpuid_regs r;
	cpuid_count(1, 0, &r);
	enum vmx_avail a = vmx_enable_feature_control(r.ecx, rdmsr_cb, wrmsr_cb).avail;
	if (a != VMX_AVAILABLE) {
		log_error("VT-x not available on the CPU with APIC ID %u: %s", apic_id,
			  vmx_avail_reason(a));
		return false;
	}
	return true;
}

static uint32_t this_apic_id(void)
{
	struct cpuid_regs r;
	cpuid_count(1, 0, &r);
	return r.ebx >> 24;
}

static struct vcpu *vcpu_create(uint32_t apic_id)
{
	spin_lock(&g_l0.lock);
	struct vcpu *v = NULL;
	if (g_l0.ncpus < MAX_CPUS) {
		uint64_t pages = (sizeof(struct vcpu) + PAGE_SIZE - 1) / PAGE_SIZE;
		uint64_t vp = page_alloc(g_l0.pages, pages, 1);
		uint64_t vmxon = page_alloc(g_l0.pages, 1, 1);
		uint64_t vmcs = page_alloc(g_l0.pages, 1, 1);
		uint64_t stack = page_alloc(g_l0.pages, VCPU_STACK_PAGES, 1);
		if (vp && vmxon && vmcs && stack) {
			v = (struct vcpu *)(uintptr_t)vp;
			v->index = g_l0.ncpus;
			v->apic_id = apic_id;
			v->vmxon_pa = vmxon;
			v->vmcs01_pa = vmcs;
			v->stack_base = stack;
			uint64_t top = stack + VCPU_STACK_PAGES * PAGE_SIZE;
			v->frame = (struct guest_regs *)(uintptr_t)(top - sizeof(struct guest_regs));
			v->frame->vcpu = v;
			g_l0.vcpus[g_l0.ncpus++] = v;
		} else {
			/* Partial allocations are few pages; keep it simple: give back. */
			if (vp)
				page_free(g_l0.pages, vp, pages);
			if (vmxon)
				page_free(g_l0.pages, vmxon, 1);
			if (vmcs)
				page_free(g_l0.pages, vmcs, 1);
			if (stack)
				page_free(g_l0.pages, stack, VCPU_STACK_PAGES);
		}
	}
	spin_unlock(&g_l0.lock);
	return v;
}

static void log_launch_failure(const struct vcpu *v, int r)
{
	if (r == VMX_FAIL_INVALID) {
		log_error("CPU %u: VMLAUNCH failed: VMfailInvalid (no current VMCS)", v->index);
		return;
	}
	uint64_t err = vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
	log_error("CPU %u: VMLAUNCH failed: VMfailValid, VM-instruction error %llu (%s)", v->index,
		  (unsigned long long)err, vmx_instruction_error_name((uint32_t)err));
}

/*
 * Called by the exit dispatcher when a VM entry of a CPU that has not yet
 * completed its launch fails with an exit (SDM Vol. 3C 27.8): back to the
 * launch, which undoes itself.
 */
void vmx_launch_failed_exit(struct vcpu *v)
{
	struct launch_ctx *ctx = launch_ctx_of[v->index];
	if (ctx)
		vmx_launch_abort(ctx, L0_LAUNCH_ENTRY_FAILED);
}

/*
 * hv.cfg test_fail_launch: spoil the BSP's vmcs01 so that the failure paths
 * of the launch run for real (tests/system/bochs_launch_fail.sh):
 * guest-state clears RFLAGS bit 1 (SDM 27.3.1.4: a VM-entry failure exit,
 * reason 33); control sets 5 CR3-target values where at most 4 exist (SDM
 * 27.2.1.1: VMfailValid, error 7).
 */
static void inject_launch_fault(uint32_t kind)
{
	if (kind == 1) {
		log_warn("test_fail_launch = guest-state: clearing RFLAGS bit 1 in vmcs01 on purpose");
		vmcs_write(VMCS_GUEST_RFLAGS, vmcs_read(VMCS_GUEST_RFLAGS) & ~RFLAGS_RESERVED1);
	} else {
		log_warn("test_fail_launch = control: CR3-target count 5 in vmcs01 on purpose");
		vmcs_write(VMCS_CR3_TARGET_COUNT, 5);
	}
}

int l0_launch_this_cpu(uint64_t guest_rsp, uint64_t guest_rip)
{
	if (!g_l0.eptp)
		return L0_LAUNCH_NOT_PREPARED;

	struct cpu_snapshot snap;
	cpu_snapshot_take(&snap);
	cli();

	uint32_t apic_id = this_apic_id();
	if (!enable_vmx_here(apic_id)) {
		write_rflags(snap.rflags);
		return L0_LAUNCH_NO_VMX;
	}
	struct vcpu *v = vcpu_create(apic_id);
	if (!v) {
		log_error("CPU with APIC ID %u: out of memory for its VMX state", apic_id);
		write_rflags(snap.rflags);
		return L0_LAUNCH_NO_MEMORY;
	}
	gdt_build(&v->gdt, &v->tss, &v->gdtr);
	v->nested = g_l0.nested[v->index];
	msr_l1_state_init(&v->msrs, &g_l0.msr, rdmsr_cb);
	if (g_l0.cpuid.nested && !v->nested)
		log_error("CPU %u: no nested VMX state: L1 gets #UD for VMX here", v->index);

	/* SDM Vol. 3C 24.8: CR0 and CR4 must honour the FIXED MSRs in VMX operation. */
	write_cr0(vmx_fix_cr0(&g_l0.caps, snap.cr0, false));
	write_cr4(vmx_fix_cr4(&g_l0.caps, snap.cr4));

	uint32_t revision = vmx_caps_revision(&g_l0.caps);
	*(volatile uint32_t *)(uintptr_t)v->vmxon_pa = revision;
	*(volatile uint32_t *)(uintptr_t)v->vmcs01_pa = revision;
	int rc = L0_LAUNCH_VMXON_FAILED;
	enum vmx_result r = vmxon(v->vmxon_pa);
	if (r != VMX_SUCCEED) {
		log_error("CPU %u: VMXON failed (%s)", v->index,
			  r == VMX_FAIL_INVALID ? "VMfailInvalid: bad VMXON region or CR0/CR4"
						: "VMfailValid: already in VMX operation");
		goto undo_cr;
	}
	rc = L0_LAUNCH_VMCS_FAILED;
	if (vmclear(v->vmcs01_pa) != VMX_SUCCEED || vmptrld(v->vmcs01_pa) != VMX_SUCCEED) {
		log_error("CPU %u: VMCLEAR/VMPTRLD of vmcs01 at 0x%llx failed", v->index,
			  (unsigned long long)v->vmcs01_pa);
		goto undo_vmxon;
	}
	vmcs01_init(v, &snap, guest_rsp, guest_rip);
	if (v->index == 0 && g_l0.bi->config.test_fail_launch)
		inject_launch_fault(g_l0.bi->config.test_fail_launch);

	struct launch_ctx ctx;
	launch_ctx_of[v->index] = &ctx;
	log_info("CPU %u (APIC ID %u): vmcs01 at 0x%llx ready, VMLAUNCH", v->index, apic_id,
		 (unsigned long long)v->vmcs01_pa);
	int lr = vmx_launch_checkpoint(&ctx);
	/* Only a failed launch gets here. */
	launch_ctx_of[v->index] = NULL;
	rc = L0_LAUNCH_ENTRY_FAILED;
	if (lr == L0_LAUNCH_ENTRY_FAILED)
		cpu_snapshot_restore(&snap); /* the failed entry loaded host state */
	else
		log_launch_failure(v, lr);
	vmclear(v->vmcs01_pa);
undo_vmxon:
	vmxoff();
undo_cr:
	write_cr4(snap.cr4);
	write_cr0(snap.cr0);
	write_rflags(snap.rflags);
	log_error("CPU %u: launch undone: this CPU goes on without the hypervisor", v->index);
	return rc;
}
