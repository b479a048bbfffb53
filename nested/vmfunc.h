/*
 * vmfunc.h - VM functions offered to L1 (issue 12, item 6): "enable VM
 * functions" with EPTP switching, VM function 0, and no other function
 * (IA32_VMX_VMFUNC = 1 for L1, nested/vmx_msrs.h).
 *
 * SDM Vol. 3C 26.5.6.2: in VMX non-root operation with "enable VM
 * functions" 1, VMFUNC is #UD if EAX >= 64; otherwise it exits (reason
 * 59) if the VM-function control at bit EAX is 0; otherwise the function
 * runs.  26.5.6.3, EPTP switching: ECX >= 512 exits; else the 8-byte
 * entry ECX of the EPTP list (at the EPTP-list address, a physical
 * address) that is not a valid EPTP (one VM entry would not refuse,
 * 27.2.1.1) exits; else it becomes the EPTP of the current VMCS and of
 * every later guest-physical access, and VMFUNC completes like any
 * instruction (RIP past it; no flags).  EPTP switching implies no TLB
 * invalidation: mappings stay tagged by the EPTP they were made with.
 *
 * vmcs02 enables VM functions with no function when vmcs12 enables them
 * (nested/prepare02.c), so the CPU raises L2's #UD itself and every other
 * VMFUNC of L2's exits to L0, which decides here from vmcs12: L1's exit 59
 * where the CPU would have exited with vmcs12, else the switch: vmcs12's
 * EPT_POINTER takes the entry and vmcs02's EPT02's root for it
 * (nested/ept12.h).  EPT02 roots are per EPTP12, so the combined
 * mappings the CPU caches stay tagged per EPTP12 as L1's would be: no
 * INVEPT either.  The entry is read once from L1's memory (struct
 * l1_memory): a page L0 cannot read counts as an invalid entry (L1's exit
 * 59, logged).  L1 is never offered #VE, so there is no EPTP index to
 * write.
 */
#ifndef MICROHV_NESTED_VMFUNC_H
#define MICROHV_NESTED_VMFUNC_H

#include "nested/vmcs12.h"
#include "vmx/caps.h"
#include "vmx/l1_memory.h"

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct guest_regs;

enum nested_vmfunc_action {
	NVMFUNC_L1_EXIT,     /* L1's VM exit, reason 59 (the CPU's exit information) */
	NVMFUNC_EPTP_SWITCH, /* EPTP switching: vmcs12's EPT_POINTER := eptp12, L2 goes on */
	NVMFUNC_UD,	     /* #UD for L2: vmcs12 has no VM functions, or EAX >= 64 */
};

struct nested_vmfunc_decision {
	enum nested_vmfunc_action action;
	uint64_t eptp12;       /* NVMFUNC_EPTP_SWITCH: the new EPTP */
	uint64_t entry_pa;     /* the list entry read (or not readable), 0: none */
	bool entry_unreadable; /* NVMFUNC_L1_EXIT because L0 could not read entry_pa */
	const char *why;       /* what decided it, for the log */
};

/*
 * L2's VMFUNC with EAX = eax and ECX = ecx, decided on vmcs12 (L1's
 * controls, which passed the entry checks), L1's capability MSRs (the
 * EPTP checks of 27.2.1.1) and L1's memory (the EPTP list, read at most
 * once, 8 bytes).  Pure.
 */
void nested_vmfunc_decide(const struct vmcs12 *v12, const struct vmx_caps *l1,
			  const struct l1_memory *mem, uint32_t eax, uint32_t ecx,
			  struct nested_vmfunc_decision *d);

/*
 * Exit reason 59 from L2 (vmcs02 current).  True: the exit is L1's (the
 * caller reflects it).  False: L0 completed VMFUNC for L2 - the EPTP
 * switched in vmcs12 and vmcs02, RIP past the instruction - or injected
 * the #UD the CPU would have raised (an exit vmcs02 should not have
 * given: logged).  When L0 has no page for EPT02's root even after
 * dropping its EPT02s, L1 gets the exit with nothing changed (logged).
 */
bool nested_vmfunc_exit(struct vcpu *v, struct guest_regs *r);

#endif
