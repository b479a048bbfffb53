/*
 * mmio_absent.h - L1's loads and stores to MMIO that is not there for it:
 * the registers of the VT-d units L0 owns (core/iommu.h), which EPT01
 * leaves unmapped.
 *
 * On the platform an access to a physical address that no device decodes
 * completes as a master abort: a read returns all ones, a write is
 * dropped, and the CPU raises no fault (the SDM defines no fault for it).
 * L0 gives L1 exactly that: it decodes the MOV at RIP (arch/x86/
 * decode_store.h), fills a load's register with all ones of its width,
 * drops a store, and moves RIP past the instruction.  Anything else at
 * RIP (a string move, a locked or read-modify-write instruction) is
 * refused as L0 refuses its own memory: #GP(0), with the log line.
 */
#ifndef MICROHV_VMX_MMIO_ABSENT_H
#define MICROHV_VMX_MMIO_ABSENT_H

#include "arch/x86/regs.h"
#include "vcpu.h"
#include "vmx/l1_memory.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Completes the instruction at RIP whose data access to gpa exited
 * (vmcs01 current): true when it was a MOV load or store, finished as
 * above; false, changing nothing, when L0 cannot decode it.
 */
bool mmio_absent_access(struct vcpu *v, struct guest_regs *r, uint64_t gpa,
			const struct l1_memory *mem);

#endif
