/*
 * ept12.h - L1's EPT (EPT12) in the nested entry and exit paths, on one
 * CPU: the EPTP vmcs02 runs L2 with, EPT02 violations (nested/ept_exit.h
 * decides, this file acts), and L1's INVEPT.
 *
 * EPT02 (nested/ept02.h) is per CPU and composed with EPT01: when EPT01
 * changes (an MTRR write retypes it, an APIC page moves: vmx/ept01.h
 * bumps its generation), every EPT02 of the CPU is dropped at its next
 * entry to L2, since its leaves carry EPT01's rights and types.  Every
 * root dropped is invalidated on the CPU (INVEPT single-context) before
 * its pages can be reused.
 */
#ifndef MICROHV_NESTED_EPT12_H
#define MICROHV_NESTED_EPT12_H

#include "nested/vmcs12.h"
#include "vmx/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

struct guest_regs;

/* Whether L2 runs with L1's EPT: "enable EPT" in vmcs12, activated (SDM 25.6.2). */
bool nested_ept12_enabled(const struct vmcs12 *v12);

/*
 * The EPTP for vmcs02 when L1 enters L2 with eptp12 (checked by the entry
 * checks): EPT02's root for it, made if needed, WB, 4 levels, A/D as
 * eptp12; at the page bound every other root is dropped (invalidated)
 * first.  0 when no root can be made (L0 out of memory, logged).
 */
uint64_t nested_ept_eptp02(struct vcpu *v, uint64_t eptp12);

/*
 * An EPT violation or misconfiguration (basic reason 48/49) of vmcs02
 * while L2 runs under L1's EPT.  True: the exit is L1's, with *reason12
 * and *qual12 (the rebuild takes the rest from vmcs02).  False: L0 dealt
 * with it (a leaf filled, a refusal's #GP(0) injected, or nothing: L2
 * runs again).
 */
bool nested_ept_exit(struct vcpu *v, struct guest_regs *r, uint32_t basic, uint32_t *reason12,
		     uint64_t *qual12);

/* L1's INVEPT after its checks (struct nested_env's invept; ctx: the vcpu). */
void nested_ept_invept(void *ctx, unsigned type, uint64_t eptp12);

/*
 * The guest-physical memory of the guest of the current VMCS on v's CPU,
 * for L0's emulation of its instructions (vmx/console.c, L2's VMREAD and
 * VMWRITE served from L1's shadow VMCS): L1's memory (l0_l1_memory), or
 * while L2 runs under L1's EPT, L2's through EPT12.  There, an access
 * EPT12 does not grant is what it would be on L1's CPU: L1's EPT
 * violation or misconfiguration (nested_ept12_fault_take), not L0's
 * #GP(0); the walk that met it returns GWALK_MEM_FAULT and the emulation
 * injects nothing.  Each call starts with no fault recorded.
 */
struct l1_memory;
const struct l1_memory *nested_guest_memory(struct vcpu *v);

/*
 * After L0 emulated an instruction of L2's with nested_guest_memory: true
 * when one of its accesses was L1's EPT fault, with the exit for L1
 * (reason 48 or 49, qualification, guest-physical and guest-linear
 * address: nested/ept_exit.h); the record is cleared either way.
 */
bool nested_ept12_fault_take(struct vcpu *v, uint32_t *reason12, uint64_t *qual12,
			     uint64_t *gpa2, uint64_t *gla);

#endif
