/*
 * vmcs.h - the one interface through which VMCS fields are read and written.
 *
 * In the core these are VMREAD/VMWRITE on the current VMCS (vmcs_hw.c); in
 * the host unit tests a software VMCS (tests/unit/vmcs_soft.c) stands behind
 * the same two functions and counts the accesses per field class, so the
 * exit-handling logic is tested without a CPU that has VMX.
 */
#ifndef MICROHV_VMX_VMCS_H
#define MICROHV_VMX_VMCS_H

#include "vmcs_fields.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef MICROHV_CORE
/*
 * In the core, VMREAD/VMWRITE inline (vmx/vmcs_hw.c has the rest): L0's
 * exit paths do some hundred of them per nested round trip.
 */
#include "vmx_insn.h"

extern uint64_t vmcs_hw_reads, vmcs_hw_writes;
void vmcs_hw_report(const char *op, uint32_t field, enum vmx_result r);

/*
 * The success path is the instruction and one branch on CF|ZF (SDM Vol.
 * 3C 31.2: VMfailInvalid sets CF, VMfailValid ZF); a failure, which is
 * deterministic, is executed again to tell the two apart for the log.
 */
static inline uint64_t vmcs_read(uint32_t field)
{
	uint64_t v;
	vmcs_hw_reads++;
	__asm__ goto("vmread %q1, %q0\n\tjbe %l[fail]"
		     : "=r"(v)
		     : "r"((uint64_t)field)
		     : "cc"
		     : fail);
	return v;
fail:
	vmcs_hw_report("VMREAD", field, vmread_checked(field, &v));
	return 0;
}

static inline void vmcs_write(uint32_t field, uint64_t value)
{
	vmcs_hw_writes++;
	__asm__ goto("vmwrite %q1, %q0\n\tjbe %l[fail]"
		     :
		     : "r"((uint64_t)field), "rm"(value)
		     : "cc"
		     : fail);
	return;
fail:
	vmcs_hw_report("VMWRITE", field, vmwrite_checked(field, value));
}
#else
uint64_t vmcs_read(uint32_t field);
void vmcs_write(uint32_t field, uint64_t value);
#endif

/* VMREAD that reports failure (a field this CPU lacks) instead of logging it. */
bool vmcs_read_checked(uint32_t field, uint64_t *value);
/* VMWRITE likewise: no log line (usable from L0's NMI handler). */
bool vmcs_write_checked(uint32_t field, uint64_t value);

/*
 * VMREADs and VMWRITEs done so far, for `make bench` (HC_NESTED_LAST_EXIT).
 * In the core the counters are shared by all CPUs and not atomic: exact
 * on one CPU, approximate when several exit at once.
 */
void vmcs_access_counts(uint64_t *reads, uint64_t *writes);

/* Read-modify-write helpers for control fields. */
static inline void vmcs_set_bits(uint32_t field, uint64_t bits)
{
	vmcs_write(field, vmcs_read(field) | bits);
}

static inline void vmcs_clear_bits(uint32_t field, uint64_t bits)
{
	vmcs_write(field, vmcs_read(field) & ~bits);
}

#endif
