/*
 * hw_ops.h - the few privileged operations the exit handlers perform on
 * behalf of L1.  In the core they execute the instruction in VMX root
 * (vmx/hw_ops.c), with #GP turned into a return value; the host unit tests
 * link fakes (tests/unit/hw_fake.c), so handler logic runs on any machine.
 */
#ifndef MICROHV_VMX_HW_OPS_H
#define MICROHV_VMX_HW_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"

/* Each returns false if the instruction raised #GP (nothing else changed). */
bool hw_rdmsr_safe(uint32_t msr, uint64_t *value);
bool hw_wrmsr_safe(uint32_t msr, uint64_t value);
bool hw_xsetbv_safe(uint32_t xcr, uint64_t value);

void hw_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r);
void hw_wbinvd(void);

/* The CPU's time-stamp counter (RDTSC in VMX root: no offset applies). */
uint64_t hw_rdtsc(void);

/* Loads CR2 for L1: CR2 is not switched by VM entries and exits. */
void hw_set_cr2(uint64_t value);
uint64_t hw_get_cr2(void);

/*
 * VMCLEAR / VMPTRLD of a VMCS of L0's (vmcs01, vmcs02): L0 built them, so
 * a failure is L0's bug: logged, and the CPU halts.
 */
void hw_vmclear(uint64_t pa);
void hw_vmptrld(uint64_t pa);

/* INVVPID single-context for vpid (or all-context where that is all there is). */
void hw_invvpid_single(uint16_t vpid);

/*
 * INVEPT single-context for eptp, or all-context where that is all there
 * is (SDM Vol. 3C 31.3, IA32_VMX_EPT_VPID_CAP bits 20, 25, 26).  False:
 * the CPU has no INVEPT, nothing was invalidated.
 */
bool hw_invept_single(uint64_t eptp);

/*
 * Sends an IPI from this CPU's local APIC to the CPU with apic_id:
 * icr_low's vector, delivery mode and level, physical destination, no
 * shorthand.  apic_base is this CPU's IA32_APIC_BASE as L0 validated and
 * keeps it (struct l1_msrs): its mode (x2APIC: WRMSR; xAPIC: the ICR at
 * its base) and address, never a fresh RDMSR of what L1 may have moved.
 * Nothing is sent with the APIC disabled.  An xAPIC ICR high that L1 had
 * written is put back.
 */
void hw_send_ipi(uint64_t apic_base, uint32_t apic_id, uint32_t icr_low);

/* A store of width 1, 2, 4 or 8 bytes to physical address pa, done for L1. */
void hw_mmio_write(uint64_t pa, unsigned width, uint64_t value);
uint32_t hw_mmio_read32(uint64_t pa);

/*
 * Unblocks NMIs after an NMI VM exit (SDM Vol. 3C 28.x, "NMI blocking"
 * after an exit due to NMI lasts until an IRET in VMX root): an IRET to
 * the next instruction.
 */
void hw_unblock_nmi(void);

#endif
