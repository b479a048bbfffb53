/*
 * reflect.h - who handles an exit from L2: L1 (reflect) or L0.
 *
 * For every basic exit reason the SDM's rule for "does this cause a VM
 * exit" (SDM Vol. 3C 26.1-26.2, per control in 25.6) is evaluated against
 * L1's controls in vmcs12: if L1 asked for the exit, it is reflected to
 * L1; otherwise the exit exists only because of L0's own needs (EPT01,
 * its NMIs, its console, the bits L0 ORed into vmcs02) and L0 handles it
 * and resumes L2.  Pure.
 *
 * MSR and I/O exits are decided from what the CPU used: L0's own bitmaps
 * and the copies of L1's that L0 made at the entry (struct
 * nested_bitmaps), never from L1's memory read again at the exit - L1, or
 * L2 through a mapping L1 gave it, may have changed it since, and an exit
 * wrongly judged L0's would run L0's handler for L2 (a WRMSR in VMX root
 * with L2's operands).  An exit L0's own bitmaps did not ask for is L1's.
 */
#ifndef MICROHV_NESTED_REFLECT_H
#define MICROHV_NESTED_REFLECT_H

#include "nested/nested.h"
#include "nested/vmcs12.h"

#include <stdbool.h>
#include <stdint.h>

/* What the exit from L2 says (the vmcs02 exit-information fields). */
struct l2_exit {
	uint32_t reason;	/* basic exit reason */
	uint64_t qualification;
	uint32_t intr_info;	/* VM-exit interruption information (exceptions, NMIs) */
	uint32_t intr_error;	/* its error code (#PF: the page-fault error code) */
	uint64_t gpr_value;	/* CR access: the value of the source GPR (MOV to CR) */
	uint32_t msr;		/* RDMSR/WRMSR: ECX */
	bool l1_timer_expired;	/* timer exit: L1's count reached 0 (nested/timer.h) */
	uint64_t vmcs_field;	/* VMREAD/VMWRITE: the field operand (reg2), 32 bits outside 64-bit mode */
};

enum nested_owner {
	NESTED_L0 = 0, /* L0 handles it and resumes L2 */
	NESTED_L1 = 1, /* reflect to L1 */
};

/* The bitmaps of the entry that led to this exit. */
struct nested_bitmaps {
	const uint8_t *msr12; /* L1's MSR bitmap as copied at entry (all ones: L1 uses none) */
	const uint8_t *msr0;  /* L0's own MSR bitmap (vmcs01's) */
	/* L0's own I/O bitmaps A and B; NULL: L0 owns no port (vmcs02 has L1's bitmaps). */
	const uint8_t *io0_a, *io0_b;
	const uint8_t *io12; /* with io0_a: L1's bitmaps A, B as copied at entry (8 KiB) */
	/* With "VMCS shadowing": L1's VMREAD/VMWRITE bitmaps as copied at entry (NULL: exits). */
	const uint8_t *vmread12, *vmwrite12;
};

enum nested_owner nested_exit_owner(const struct vmcs12 *v12, const struct l2_exit *e,
				    const struct nested_bitmaps *bm);

#endif
