/*
 * l0.h - L0's global state for running L1 on every CPU.
 *
 * Filled once by core_main (on the BSP, before any launch) and read-only
 * afterwards, except the vcpu table, which each CPU's launch appends to
 * under the lock.
 */
#ifndef MICROHV_VMX_L0_H
#define MICROHV_VMX_L0_H

#include "arch/x86/spinlock.h"
#include "caps.h"
#include "cpuid_policy.h"
#include "include/microhv/bootinfo.h"
#include "mm/page_alloc.h"
#include "msr_policy.h"
#include "nested/msr_merge.h"
#include "nested/shadow_vmcs.h"
#include "vcpu.h"

#include <stdbool.h>

/* VT-d units whose registers EPT01 can leave out (drivers/vtd/dmar.h DMAR_MAX_UNITS). */
#define L0_MAX_VTD_UNITS 16
#include <stdint.h>

#define L1_VPID 1 /* L1 on every CPU: VPIDs tag per logical processor */

/*
 * The processor-based controls every vmcs01 (and so every vmcs02) wants:
 * MSR bitmaps, the secondary controls, and MONITOR/MWAIT exiting, because
 * L1's CPU has no MONITOR/MWAIT (cpuid_policy.h) and they must raise #UD.
 */
#define L0_PROC_WANTED                                                                \
	(CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY | CPU_MONITOR_EXITING |          \
	 CPU_MWAIT_EXITING)

struct l0 {
	const struct boot_info *bi;
	struct vmx_caps caps;
	struct page_alloc *pages;
	struct spinlock lock; /* pages, vcpus, ncpus */

	/* Host state shared by all CPUs. */
	uint64_t host_cr3;
	/*
	 * The end of host_cr3's identity map: L0 can dereference a physical
	 * address only below it (vmx/l1_memory.c refuses the rest, even where
	 * EPT01, which reaches 2^MAXPHYADDR, maps L1 memory).
	 */
	uint64_t host_map_end;
	struct desc_ptr host_idtr;

	/* What every vmcs01 gets. */
	uint64_t eptp;
	uint64_t msr_bitmap_pa;
	struct nested_msr_pass msr_pass; /* the bytes of it where L0 passes an MSR (nested) */
	uint32_t pin, proc, proc2, exit, entry; /* adjusted controls */
	bool unrestricted_guest;
	bool vpid;
	uint64_t cr0_mask, cr4_mask;

	struct cpuid_policy cpuid;
	struct vmx_caps l1_vmx; /* L1's capability MSRs (nested/vmx_msrs.h), nested = on */
	uint32_t l1_features;	/* vmcs_features_present(&l1_vmx): which fields L1 has */
	struct msr_policy msr;
	bool halt_on_triple_fault;

	/* L1's xAPIC page, read-only in EPT01 (vmx/apic_access.h); 0: none. */
	uint64_t apic_page;

	/* Physical-address width (CPUID.80000008H:EAX[7:0]; 36 without that leaf). */
	unsigned maxphyaddr;

	/* L0's own memory, which L1 must never touch. */
	uint64_t hv_base, hv_size;

	/*
	 * VT-d DMA protection is on (core/iommu.h): the BSP's vmcs01 arms the
	 * VMX-preemption timer, and its exits poll the units' fault records.
	 * The units' register ranges are holes in EPT01; an L1 access to one
	 * is refused like any unmapped page, and named in the log.
	 */
	bool dma_fault_poll;
	struct mem_range vtd_regs[L0_MAX_VTD_UNITS];
	unsigned nvtd_regs;

	/*
	 * Hardware VMCS shadowing of vmcs12 for L1 (nested/shadow_vmcs.h):
	 * the shadowed fields (count 0: off) and vmcs01's VMREAD and VMWRITE
	 * bitmaps, the same on every CPU.
	 */
	struct nested_shadow_set shadow_set;
	uint64_t vmread_bitmap_pa, vmwrite_bitmap_pa;

	/* Each CPU's nested state by launch index (nested/run.h), nested = on. */
	struct nested_vcpu *nested[MAX_CPUS];

	struct vcpu *vcpus[MAX_CPUS];
	unsigned ncpus;
};

extern struct l0 g_l0;

/*
 * Prepares everything the launches share: controls, MSR bitmap, EPT.
 * Returns false (with a logged reason) when this CPU cannot run L1.
 */
bool l0_prepare(const struct boot_info *bi, struct page_alloc *pages, uint64_t host_cr3,
		uint64_t host_map_end, const struct desc_ptr *host_idtr);

/*
 * Launches L1 on the calling CPU: VMXON, vmcs01 from the CPU's current
 * state, VMLAUNCH.  On success it does not return: the CPU continues as L1
 * at guest_rip with guest_rsp (the loader's trampoline).  On failure it
 * logs the decoded reason, leaves VMX operation with the firmware's state
 * as it was, and returns a nonzero L0_LAUNCH_* code.
 */
int l0_launch_this_cpu(uint64_t guest_rsp, uint64_t guest_rip);

#define L0_LAUNCH_NO_VMX 1	   /* VT-x not available on this CPU */
#define L0_LAUNCH_NO_MEMORY 2
#define L0_LAUNCH_VMXON_FAILED 3
#define L0_LAUNCH_VMCS_FAILED 4
#define L0_LAUNCH_ENTRY_FAILED 5   /* VMLAUNCH: VMfail or VM-entry failure */
#define L0_LAUNCH_NOT_PREPARED 6

/*
 * The VMX-preemption-timer exit's DMA work (vmx/console.c): on the BSP,
 * with dma_fault_poll, the VT-d units' fault records read and logged.
 */
void l0_dma_tick(struct vcpu *v);

/* The vcpu of the calling CPU while it is in VMX root (HOST_GS_BASE). */
struct vcpu *l0_this_vcpu(void);

#endif
