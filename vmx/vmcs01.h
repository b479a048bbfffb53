/*
 * vmcs01.h - building the VMCS L0 uses to run L1 on one CPU.
 */
#ifndef MICROHV_VMX_VMCS01_H
#define MICROHV_VMX_VMCS01_H

#include "arch/x86/cpu.h"
#include "vcpu.h"

#include <stdint.h>

/*
 * The CPU's state at the moment of the launch, as the firmware had it:
 * guest state for vmcs01, and what a failed launch must put back.
 */
struct cpu_snapshot {
	struct desc_ptr gdtr, idtr;
	uint64_t cr0, cr3, cr4; /* before L0 forced its VMX bits */
	uint64_t dr7, rflags;
	uint16_t cs, ds, es, fs, gs, ss, tr, ldtr;
	uint64_t fs_base, gs_base;
	uint64_t debugctl, sysenter_cs, sysenter_esp, sysenter_eip, efer, pat;
};

void cpu_snapshot_take(struct cpu_snapshot *s);

/* Puts back what a VM exit overwrote with host state (failed launch). */
void cpu_snapshot_restore(const struct cpu_snapshot *s);

/*
 * Fills the current VMCS: controls from g_l0, guest state from the
 * snapshot with RSP/RIP of the loader's continuation, host state of v.
 * SDM Vol. 3C 25.3 (guest-state area), 25.5 (host-state area).
 */
void vmcs01_init(const struct vcpu *v, const struct cpu_snapshot *s, uint64_t guest_rsp,
		 uint64_t guest_rip);

/*
 * The host-state area of every VMCS of v (vmcs01, vmcs02): L0's GDT/TSS,
 * IDT, page tables, exit stub and host stack (SDM Vol. 3C 25.5).
 */
void vmcs_write_host_state(const struct vcpu *v);

#endif
