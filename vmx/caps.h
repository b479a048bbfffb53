/*
 * caps.h - VT-x availability and the VMX capability MSRs.
 *
 * The loader reads the raw MSRs (vmx_caps_read) and the pure functions here
 * decide availability and decode them, so the decisions are unit-tested on
 * the host with recorded values (tests/unit/test_vmx_caps.c).
 */
#ifndef MICROHV_VMX_CAPS_H
#define MICROHV_VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* Raw capability MSRs; an MSR the CPU does not have is left 0 (has_* says). */
struct vmx_caps {
	uint64_t basic;
	uint64_t pinbased, procbased, exit, entry;
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t vmcs_enum;
	uint64_t procbased2;	/* has_procbased2 */
	uint64_t ept_vpid_cap;	/* has_ept_vpid_cap */
	uint64_t true_pinbased, true_procbased, true_exit, true_entry; /* has_true */
	uint64_t vmfunc;	/* has_vmfunc */
	uint8_t has_procbased2, has_ept_vpid_cap, has_true, has_vmfunc;
	uint32_t reserved;
};

enum vmx_avail {
	VMX_AVAILABLE,		/* VMXON is allowed outside SMX */
	VMX_NEEDS_ENABLE,	/* IA32_FEATURE_CONTROL unlocked: set bit 2 and lock */
	VMX_NO_CPU_SUPPORT,	/* CPUID.1:ECX.VMX = 0 */
	VMX_LOCKED_OFF,		/* locked by firmware with VMX outside SMX clear */
};

/*
 * SDM Vol. 3C 24.7 "Enabling and entering VMX operation": VMXON outside SMX
 * needs CPUID.1:ECX.VMX and IA32_FEATURE_CONTROL with the lock bit (0) and
 * the enable-VMX-outside-SMX bit (2) set.
 */
enum vmx_avail vmx_availability(uint32_t cpuid1_ecx, uint64_t feature_control);

/* What enabling VMX in this CPU's IA32_FEATURE_CONTROL found and did. */
struct vmx_enable {
	enum vmx_avail avail; /* after any write */
	uint64_t before;      /* IA32_FEATURE_CONTROL as found (0 without VMX) */
	uint64_t after;	      /* as it reads after the write, or before */
	bool wrote;	      /* it was unlocked: L0 set VMX outside SMX and the lock */
};

/*
 * SDM Vol. 3C 24.7: on a CPU with VMX, sets "VMX outside SMX" and the lock
 * in IA32_FEATURE_CONTROL if the firmware left it unlocked (each CPU has
 * its own copy).  The MSR is only touched when CPUID.1:ECX.VMX says it
 * exists.  rd/wr are RDMSR/WRMSR in the loader and the core, fakes in the
 * unit tests.  avail stays VMX_NEEDS_ENABLE if the lock did not take.
 */
struct vmx_enable vmx_enable_feature_control(uint32_t cpuid1_ecx, uint64_t (*rd)(uint32_t msr),
					     void (*wr)(uint32_t msr, uint64_t value));

/* The text after "VT-x not available: " for each refusal. */
const char *vmx_avail_reason(enum vmx_avail a);

/* Capability tests that read the allowed-1 half of the right MSR. */
bool vmx_caps_secondary_allowed(const struct vmx_caps *c, uint32_t cpu2_bit);
bool vmx_caps_pin_allowed(const struct vmx_caps *c, uint32_t pin_bit);
uint32_t vmx_caps_revision(const struct vmx_caps *c);
uint32_t vmx_caps_vmcs_size(const struct vmx_caps *c);

/*
 * Reads every capability MSR the CPU has through rd (RDMSR in the loader, a
 * table in the unit tests).  The optional ones are read only where the SDM
 * says they exist (Vol. 3D A.3.3, A.10, A.11): PROCBASED2 if "activate
 * secondary controls" may be 1; EPT_VPID_CAP if EPT or VPID may be 1;
 * VMFUNC if "enable VM functions" may be 1; TRUE_* if IA32_VMX_BASIC[55].
 * Reading one that does not exist would be a #GP on real hardware.
 */
void vmx_caps_read(struct vmx_caps *c, uint64_t (*rd)(uint32_t msr));

/* Logs the one-screen summary (info level). */
void vmx_caps_print(const struct vmx_caps *c);

#endif
