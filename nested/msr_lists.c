/*
 * msr_lists.c - walking vmcs12's MSR-load and MSR-store areas (see
 * msr_lists.h).
 */
#include "msr_lists.h"

#include "arch/x86/msr.h"
#include "drivers/serial/log.h"

#include <stddef.h>

#define MSR_IA32_SMM_MONITOR_CTL 0x09b
#define MSR_IA32_SMBASE 0x09e
#define X2APIC_MSR_RANGE(index) (((index) >> 8) == 0x8) /* 800H-8FFH */

/*
 * SDM Vol. 3C 27.4 (entry load) and 28.6 (exit load): an entry fails if
 * bits 63:32 are not 0; if it names IA32_FS_BASE or IA32_GS_BASE; an
 * x2APIC MSR (bits 31:8 = 000008H); or IA32_SMM_MONITOR_CTL outside SMM
 * (L1 never runs in SMM).  28.4 (exit store): bits 63:32 not 0, an x2APIC
 * MSR, or IA32_SMBASE.
 */
bool nested_msr_entry_allowed(enum nested_msr_list kind, uint32_t index, uint32_t reserved)
{
	if (reserved || X2APIC_MSR_RANGE(index))
		return false;
	if (kind == NMSR_EXIT_STORE)
		return index != MSR_IA32_SMBASE;
	return index != MSR_IA32_FS_BASE && index != MSR_IA32_GS_BASE &&
	       index != MSR_IA32_SMM_MONITOR_CTL;
}

/* SDM Vol. 3C 25.7.2, "Format of an MSR Entry" (x86: little-endian). */
struct msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t data;
};
_Static_assert(sizeof(struct msr_entry) == VMX_MSR_ENTRY_SIZE, "an MSR entry is 16 bytes");

/* An entry L0 may not read or write: named in the log, then it fails. */
static bool refused(enum nested_msr_list kind, uint64_t entry_gpa)
{
	static const char *const name[] = { "VM-entry MSR-load", "VM-exit MSR-store",
					    "VM-exit MSR-load" };
	log_warn("nested: an entry of L1's %s area at 0x%llx is not L1's memory: it fails",
		 name[kind], (unsigned long long)entry_gpa);
	return false;
}

/* One entry; false: it fails. */
static bool process(enum nested_msr_list kind, uint64_t entry_gpa, const struct l1_memory *mem,
		    const struct nested_msr_ops *ops)
{
	struct msr_entry e;
	if (!mem->read(mem->ctx, entry_gpa, &e, sizeof(e)))
		return refused(kind, entry_gpa);
	if (!nested_msr_entry_allowed(kind, e.index, e.reserved))
		return false;
	if (kind != NMSR_EXIT_STORE)
		return ops->write(ops->ctx, e.index, e.data); /* "as WRMSR at CPL 0" */
	/* 28.4: RDMSR at CPL 0, then bits 127:64 of the entry get the value. */
	uint64_t value;
	if (!ops->read(ops->ctx, e.index, &value))
		return false;
	if (!mem->write(mem->ctx, entry_gpa + offsetof(struct msr_entry, data), &value,
			sizeof(value)))
		return refused(kind, entry_gpa);
	return true;
}

uint32_t nested_msr_list(enum nested_msr_list kind, uint64_t gpa, uint32_t count,
			 uint32_t max_count, const struct l1_memory *mem,
			 const struct nested_msr_ops *ops)
{
	for (uint32_t i = 0; i < count; i++) {
		if (i == max_count)
			return i + 1; /* beyond the recommended maximum: msr_lists.h */
		if (!process(kind, gpa + (uint64_t)i * VMX_MSR_ENTRY_SIZE, mem, ops))
			return i + 1;
	}
	return 0;
}
