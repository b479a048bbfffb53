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

/* Loads CR2 for L1: CR2 is not switched by VM entries and exits. */
void hw_set_cr2(uint64_t value);

/* INVVPID single-context for vpid (or all-context where that is all there is). */
void hw_invvpid_single(uint16_t vpid);

#endif
