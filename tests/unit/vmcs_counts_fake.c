/*
 * vmcs_counts_fake.c - vmcs_access_counts (vmx/vmcs.h) over the software
 * VMCS's counters (tests/unit/vmcs_soft.h): accesses since its last reset.
 */
#include "vmcs_soft.h"
#include "vmx/vmcs.h"

void vmcs_access_counts(uint64_t *reads, uint64_t *writes)
{
	*reads = *writes = 0;
	for (unsigned c = 0; c < 4; c++) {
		*reads += vmcs_soft_reads((enum vmcs_class)c);
		*writes += vmcs_soft_writes((enum vmcs_class)c);
	}
}
