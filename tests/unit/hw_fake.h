/*
 * hw_fake.h - programmable fakes for vmx/hw_ops.h in the host unit tests,
 * and the symbols the exit code takes from files the tests do not link
 * (g_l0 from vmx/launch.c, vmx_launch_failed_exit).
 *
 *   MSRs:   only those added exist; RDMSR/WRMSR of any other is a #GP
 *           (false).  A write that sets a bit of the MSR's reserved mask is
 *           a #GP and changes nothing.
 *   XSETBV: XCR0 exists; XCR n != 0 and the (xcr, value) pairs registered
 *           with hw_fake_xsetbv_fail are a #GP.
 *   CPUID:  the programmed (leaf, subleaf) answers; anything else is zero.
 *   VMCS:   hw_vmptrld/hw_vmclear select and clear software VMCSs
 *           (vmcs_soft_load/vmcs_soft_clear, tests/unit/vmcs_soft.h);
 *           vmcs_write_host_state writes nothing, it records which VMCS
 *           was current.
 * Every call is recorded in hw_calls.
 */
#ifndef MICROHV_TESTS_HW_FAKE_H
#define MICROHV_TESTS_HW_FAKE_H

#include "vmx/caps.h"
#include "vmx/hw_ops.h"
#include "vmx/vcpu.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

struct hw_fake_calls {
	unsigned rdmsr, wrmsr, xsetbv, cpuid, wbinvd, invvpid, launch_failed, set_cr2, rdtsc;
	uint64_t last_cr2;
	uint32_t last_rdmsr, last_wrmsr;
	uint64_t last_wrmsr_value;
	uint32_t last_xcr;
	uint64_t last_xsetbv_value;
	uint32_t last_cpuid_leaf, last_cpuid_subleaf;
	uint16_t last_vpid;
	uint16_t invvpid_vpid[32]; /* the VPIDs of the first 32 hw_invvpid_single calls */
	unsigned invept;	 /* hw_invept_single calls */
	uint64_t last_invept_eptp;
	struct vcpu *last_launch_failed;
	unsigned ipis, mmio_writes, unblock_nmi;
	unsigned dma_ticks; /* l0_dma_tick calls (the preemption-timer exit's VT-d poll) */
	uint32_t ipi_apic_id[16], ipi_low[16];	 /* the first 16 IPIs */
	uint32_t last_ipi_apic_id, last_ipi_low; /* the latest IPI */
	uint64_t last_ipi_apic_base;		 /* the sender's APIC base it was sent through */
	uint64_t last_mmio_pa, last_mmio_value;
	unsigned last_mmio_width;
	unsigned vmclear, vmptrld, host_state;
	uint64_t last_vmclear, last_vmptrld;
	uint64_t host_state_vmcs; /* the VMCS current at the latest vmcs_write_host_state */
	/* The first 16 VMCLEAR ('C'), VMPTRLD ('P') and host-state writes ('H'), in order. */
	struct {
		char op;
		uint64_t pa;
	} vmcs_op[16];
	unsigned vmcs_ops;
};

extern struct hw_fake_calls hw_calls;

/* No MSRs, no CPUID answers, no XSETBV failures, XCR0 = 1, calls zeroed. */
void hw_fake_reset(void);

/* Makes msr exist with value; writes setting a bit in reserved are a #GP. */
void hw_fake_msr_add(uint32_t msr, uint64_t value, uint64_t reserved);
/* The MSR's current value; false if it does not exist. */
bool hw_fake_msr_get(uint32_t msr, uint64_t *value);

void hw_fake_xsetbv_fail(uint32_t xcr, uint64_t value);
uint64_t hw_fake_xcr0(void); /* XCR0 as the last successful XSETBV left it */

void hw_fake_cpuid_set(uint32_t leaf, uint32_t subleaf, uint32_t eax, uint32_t ebx, uint32_t ecx,
		       uint32_t edx);

/*
 * vmx_launch_failed_exit records the call, then longjmps (value 1) to
 * *hw_fake_launch_failed_env if that is set (the real one does not return).
 */
extern jmp_buf *hw_fake_launch_failed_env;
void vmx_launch_failed_exit(struct vcpu *v);

/* The capability MSRs of Bochs 2.7's corei7_skylake_x (tests/unit/test_vmx_caps.c). */
/* What l0_l1_memory() returns (vmx/l1_memory.h). */
struct l1_memory;
extern const struct l1_memory *hw_fake_l1_memory;

/* What hw_mmio_read32 returns. */
extern uint32_t hw_fake_mmio_value;

/*
 * What hw_rdtsc returns; each call then adds hw_fake_tsc_step (both 0
 * after hw_fake_reset): the time L0 spends between two reads.
 */
extern uint64_t hw_fake_tsc, hw_fake_tsc_step;

/*
 * Called by hw_rdtsc before it reads hw_fake_tsc, when set (hw_fake_reset
 * clears it): what other CPUs do while this one spins.
 */
extern void (*hw_fake_rdtsc_hook)(void);

/* Called by hw_send_ipi after recording the IPI, when set (hw_fake_reset clears it). */
extern void (*hw_fake_ipi_hook)(uint32_t apic_id, uint32_t icr_low);

void hw_fake_bochs_caps(struct vmx_caps *c);

/*
 * g_l0's controls as l0_prepare's choose_controls fits them to the Bochs
 * capability MSRs in g_l0.caps (which the caller set): pin, proc, proc2
 * (from proc2_wanted, which each fixture picks), exit, entry, unrestricted
 * guest and VPID on, the CR0/CR4 guest/host masks.
 */
void hw_fake_l0_controls(uint32_t proc2_wanted);

/*
 * The current software VMCS as vmcs01 of a 64-bit L1 at RIP/RSP, CPL 0,
 * with g_l0's controls and CR masks, cr0/cr4 as L1 sees them (the read
 * shadows; the registers with the CPU's fixed bits), efer, a valid PAT,
 * flat CS/SS, a busy TR, DR7 = 400H, RFLAGS = 202H, link pointer ~0.
 */
void hw_fake_vmcs01_l1_64(uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t rip,
			  uint64_t rsp);

#endif
