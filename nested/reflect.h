/*
 * reflect.h - who handles an exit from L2: L1 (reflect) or L0.
 *
 * For every basic exit reason the SDM's rule for "does this cause a VM
 * exit" (SDM Vol. 3C 26.1-26.2, per control in 25.6) is evaluated against
 * L1's controls in vmcs12: if L1 asked for the exit, it is reflected to
 * L1; otherwise the exit exists only because of L0's own needs (EPT01,
 * its NMIs, its console, the bits L0 ORed into vmcs02) and L0 handles it
 * and resumes L2.  Pure: the bitmaps L1 names are read through the
 * l1_memory callbacks, and a bitmap L0 cannot read counts as "exit" (the
 * cautious answer: L1 sees more exits, never misses one).
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
};

enum nested_owner {
	NESTED_L0 = 0, /* L0 handles it and resumes L2 */
	NESTED_L1 = 1, /* reflect to L1 */
};

enum nested_owner nested_exit_owner(const struct vmcs12 *v12, const struct l2_exit *e,
				    const struct l1_memory *mem);

#endif
