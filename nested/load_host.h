/*
 * load_host.h - the last step of reflecting an exit from L2 to L1: L1
 * continues as if the CPU had just done the VM exit, with its state
 * loaded from vmcs12's host-state area (SDM Vol. 3C 28.5 "Loading Host
 * State").
 *
 * The caller has already rebuilt vmcs12's guest-state and exit-information
 * fields (nested/sync12.h) and made vmcs01 current again.  This writes
 * vmcs01's guest state (what L1 runs with), the CR0/CR4 read shadows (what
 * L1 reads), the "IA-32e mode guest" entry control and an invalid VM-entry
 * interruption information (the exit itself injects nothing into L1).
 * From vmcs12 it reads only host-state fields and the VM-exit controls;
 * from vmcs01 only L1's CR0 view (guest CR0, CR0 mask and read shadow),
 * its IA32_EFER (without "load IA32_EFER"), its interruptibility state and
 * the VM-entry controls (read-modify-write).
 *
 * Contract: vmcs12 passed the host-state checks of SDM 27.2.2-27.2.4
 * (nested/entry_checks.h) when L1 entered L2, and L1 cannot have changed
 * those fields since, so bases are canonical, CR0/CR4 hold the bits fixed
 * in VMX operation, selectors are valid.  Not handled, because L1 is not
 * offered them (nested/vmx_msrs.c): the exit controls "load
 * IA32_PERF_GLOBAL_CTRL", "clear IA32_BNDCFGS", "clear IA32_RTIT_CTL",
 * "load CET state", "load PKRS".  The VM-exit MSR-load list (28.6) and
 * address-range monitoring (28.5.6) are the caller's.
 */
#ifndef MICROHV_NESTED_LOAD_HOST_H
#define MICROHV_NESTED_LOAD_HOST_H

#include "nested/vmcs12.h"
#include "vmx/caps.h"
#include "vmx/l1_memory.h"

#include <stdbool.h>

struct nested_host_env {
	const struct vmx_caps
	    *hw_caps;		     /* the real CPU's: vmx_fix_cr0/vmx_fix_cr4 (vmx/controls.h) */
	bool unrestricted_guest;     /* vmcs01 runs L1 with "unrestricted guest" */
	const struct l1_memory *mem; /* for the PDPTEs of a PAE-paging L1 */
};

enum nested_host_result {
	NHOST_OK,
	/*
	 * SDM 28.5.4: the PDPTEs at HOST_CR3 could not be read, or one with
	 * P = 1 sets a reserved bit.  The caller does the VMX abort (SDM
	 * 28.7: indicator 2, "host checking of the PDPTEs failed").  Nothing
	 * in vmcs01 has been written.
	 */
	NHOST_PDPTE_FAULT,
};

enum nested_host_result nested_load_l1_host_state(const struct vmcs12 *v12,
						  const struct nested_host_env *env);

#endif
