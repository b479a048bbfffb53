/*
 * main.c - the hypervisor core's entry point.
 *
 * The loader calls core_main once on the BSP, in the firmware's context,
 * with the boot-info block.  The core brings up its console, checks the
 * block, takes over its heap with the page allocator, builds the host state
 * it will need in VMX root (GDT + TSS, IDT, identity page tables) and proves
 * those tables by switching to them and back.  Later issues add VMXON and
 * the late launch here.
 */
#include "core.h"
#include "iommu.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/paging.h"
#include "drivers/serial/log.h"
#include "drivers/vtd/vtd_mmio.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

struct core g_core;

/* make debug: gdb clears this once it has the core's symbols. */
volatile int core_gdb_wait;

static void wait_for_gdb(const struct boot_info *bi)
{
	core_gdb_wait = 1;
	log_info("gdb_wait: waiting for the debugger; in gdb: set var core_gdb_wait = 0");
	log_info("gdb_wait: add-symbol-file build/core.elf -o 0x%llx",
		 (unsigned long long)bi->core_base);
	while (core_gdb_wait)
		cpu_pause();
}

/*
 * The loader's trampoline calls this on each CPU in turn (bi->launch_entry).
 * It returns only if the launch failed; on success the CPU is L1.
 */
static int core_launch_cpu(uint64_t guest_rsp, uint64_t guest_rip)
{
	return l0_launch_this_cpu(guest_rsp, guest_rip);
}

int core_main(struct boot_info *bi)
{
	struct core *c = &g_core;

	if (!bi || bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION ||
	    bi->size != sizeof(*bi))
		return CORE_ERR_BOOT_INFO;
	c->bi = bi;

	uart_init(&c->uart, bi->config.serial_port, bi->config.baud);
	log_init("core", (enum log_level)bi->config.loglevel);
	log_add_sink(uart_log_sink, &c->uart);
	log_info("core running at 0x%llx (%llu KiB), heap 0x%llx (%llu KiB), %u CPU(s)",
		 (unsigned long long)bi->core_base, (unsigned long long)(bi->core_size >> 10),
		 (unsigned long long)bi->heap_base, (unsigned long long)(bi->heap_size >> 10),
		 bi->cpu_count);
	if (bi->config.gdb_wait)
		wait_for_gdb(bi);

	if (!page_alloc_init(&c->pages, bi->heap_base, bi->heap_size)) {
		log_error("heap at 0x%llx of %llu bytes is too small for the page allocator",
			  (unsigned long long)bi->heap_base, (unsigned long long)bi->heap_size);
		return CORE_ERR_NO_MEMORY;
	}

	gdt_build(&c->gdt, &c->tss, &c->gdtr);
	idt_build(&c->idt, GDT_SEL_CODE64, &c->idtr);

	const struct mem_range *map = (const struct mem_range *)(uintptr_t)bi->memmap;
	uint64_t top = memmap_top(map, bi->memmap_count);
	if (top < (4ull << 30))
		top = 4ull << 30; /* the 32-bit MMIO hole (APIC, HPET, flash) */
	struct cpuid_regs r;
	cpuid_count(0x80000000, 0, &r);
	bool use_1g = false;
	if (r.eax >= 0x80000001) {
		cpuid_count(0x80000001, 0, &r);
		use_1g = r.edx & CPUID_80000001_EDX_PAGE1GB;
	}
	c->cr3 = paging_build_identity(&c->pages, top, use_1g);
	if (!c->cr3) {
		log_error("out of memory building identity page tables up to 0x%llx",
			  (unsigned long long)top);
		return CORE_ERR_NO_MEMORY;
	}
	log_info("identity page tables up to 0x%llx with %s pages: %llu page-table pages",
		 (unsigned long long)top, use_1g ? "1G" : "2M",
		 (unsigned long long)paging_identity_pages(top, use_1g));

	if (!core_tables_selftest(c))
		return CORE_ERR_SELFTEST;

	/*
	 * DMA protection (core/iommu.h): the units are readied first, turned
	 * on before l0_prepare builds EPT01 without their registers, and the
	 * DMAR is hidden only once L0 launches.  Without VT-x the self-test
	 * (hv.cfg iommu_selftest) may use them; passed, it leaves them as a
	 * launch would (translation on, the DMAR hidden) for the next stage.
	 */
	if (bi->vmx_available || bi->config.iommu_selftest)
		iommu_prepare(bi, &c->pages, &vtd_mmio_ops,
			      rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK);
	bool handed_over = false;
	if (!bi->vmx_available && bi->config.iommu_selftest)
		handed_over = iommu_selftest(bi, &c->pages, bi->dma_test_page);
	else if (bi->config.iommu_selftest)
		log_warn("iommu_selftest = on runs only without VT-x (QEMU TCG): skipped");
	bi->launch_entry = 0;
	bool launch = (!bi->vmx_available || iommu_protect(bi)) &&
		      l0_prepare(bi, &c->pages, c->cr3, paging_identity_end(top), &c->idtr);
	if (!handed_over)
		iommu_launch_decided(launch);
	if (launch)
		bi->launch_entry = (uint64_t)(uintptr_t)core_launch_cpu;
	log_info("core ready; %zu heap pages free", page_alloc_free_pages(&c->pages));
	return CORE_OK;
}
