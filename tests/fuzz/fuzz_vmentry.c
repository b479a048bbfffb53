/*
 * fuzz_vmentry.c - L1's VMLAUNCH/VMRESUME of a vmcs12 region of arbitrary
 * bytes (nested/vmentry.c: entry checks, vmcs02 preparation, PDPTEs, the
 * VM-entry MSR-load area), through vmx_exit_dispatch on the unit tests'
 * fixture (tests/unit/nested_run_fixture.h).
 *
 * The input:
 *   byte 0     bit 0: VMRESUME (else VMLAUNCH); bit 1: the region is the
 *              fixture's valid vmcs12 with field writes (else raw bytes);
 *              bit 2: the region's launch state is "launched"
 *   raw:       sizeof(struct vmcs12) bytes, the region
 *   writes:    u8 n, then n x (u16 field index, u64 value)
 *   then       patches of L1's memory: the bitmaps, the MSR areas, L2's
 *              PDPTEs, L1's host CR3 page (fuzz_patch_l1_memory)
 * The region goes to VMCS12_B with a good revision identifier and L1's
 * VMPTRLD makes it current (read and normalised as nested/insn_emul.c's
 * VMPTRLD does); then L1's VMLAUNCH/VMRESUME exits to L0.
 *
 * Oracles, on every input:
 *   - no L0 halt path: the only halt allowed is L1's shutdown after a VMX
 *     abort (SDM Vol. 3C 28.7: a failed entry loads L1's host state and
 *     exit MSR-load area), with the abort indicator in vmcs12;
 *   - none of the MSRs a VMCS switches or L0 relies on written in root
 *     (common.h; an MSR-load area may write others, STAR or
 *     KERNEL_GS_BASE, on the CPU as WRMSR would); the exit stub enters a
 *     VMCS it may enter;
 *   - the outcome is one of the SDM's (Vol. 3C 31.3, 27.8): VMfailValid
 *     with an error number in 1..28 and L1 after its instruction; a
 *     VM-entry failure (exit reason 33 or 34 with bit 31) and L1 at its
 *     host RIP; or L2 entered, with vmcs02's host state L0's own (no
 *     vmcs12 host field in it, L0's host state written into vmcs02) and
 *     the controls L0 needs set (EPT with L0's EPTP, the merged MSR bitmap,
 *     NMI exiting and virtual NMIs, 64-bit host, EFER/PAT loaded at exit).
 */
#include "common.h"

#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>
#include <string.h>

#define FLAG_VMRESUME 1u
#define FLAG_WRITES 2u
#define FLAG_LAUNCHED 4u

static const uint64_t areas[] = {
	MSR_BITMAP12, IO_BITMAP12_A, IO_BITMAP12_B,   ENTRY_LOAD_AREA, EXIT_STORE_AREA,
	EXIT_LOAD_AREA, L2_PDPT,     L1_HOST_CR3, L2_CR3,
};

static uint32_t reason;

static void step(void *arg)
{
	(void)arg;
	run_l1_exit(reason, LEN_VMLAUNCH, true);
}

static void check_host_state_and_controls(void)
{
	/* L0's host state went into vmcs02 (vmcs_write_host_state, faked). */
	FUZZ_ASSERT(hw_calls.host_state_vmcs == VMCS02_PA, "host state written into 0x%llx",
		    (unsigned long long)hw_calls.host_state_vmcs);
	/* No host field of vmcs02 differs from vmcs01's, which are L0's. */
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (f->cls != VMCS_CLASS_HOST)
			continue;
		FUZZ_ASSERT(f02(f->encoding) == f01(f->encoding),
			    "vmcs02 host field %s = 0x%llx, L0's 0x%llx", f->name,
			    (unsigned long long)f02(f->encoding),
			    (unsigned long long)f01(f->encoding));
	}
	uint64_t pin = f02(VMCS_PIN_BASED_VM_EXEC_CONTROL);
	uint64_t proc = f02(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	uint64_t proc2 = f02(VMCS_SECONDARY_VM_EXEC_CONTROL);
	uint64_t exit = f02(VMCS_VM_EXIT_CONTROLS);
	FUZZ_ASSERT((pin & (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS)) ==
			(PIN_NMI_EXITING | PIN_VIRTUAL_NMIS),
		    "pin-based 0x%llx", (unsigned long long)pin);
	FUZZ_ASSERT((proc & (CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY)) ==
			(CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY),
		    "proc-based 0x%llx", (unsigned long long)proc);
	FUZZ_ASSERT(proc2 & CPU2_ENABLE_EPT, "secondary 0x%llx", (unsigned long long)proc2);
	FUZZ_ASSERT(f02(VMCS_EPT_POINTER) == L0_EPTP, "EPTP 0x%llx",
		    (unsigned long long)f02(VMCS_EPT_POINTER));
	FUZZ_ASSERT(f02(VMCS_MSR_BITMAP) == NV->msr_bitmap02_pa, "MSR bitmap 0x%llx",
		    (unsigned long long)f02(VMCS_MSR_BITMAP));
	if (proc & CPU_USE_IO_BITMAPS)
		FUZZ_ASSERT(!NV->io_merged || f02(VMCS_IO_BITMAP_A) == NV->io_bitmap02_pa,
			    "I/O bitmap A 0x%llx", (unsigned long long)f02(VMCS_IO_BITMAP_A));
	FUZZ_ASSERT((exit & (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER |
			     EXIT_LOAD_IA32_PAT)) ==
			(EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER | EXIT_LOAD_IA32_PAT),
		    "exit controls 0x%llx", (unsigned long long)exit);
	/* L2's VPID: the shared one without VPID in vmcs12, else vmcs12's mapped (vpid.h). */
	uint16_t vpid12 = nested_vpid12(NV->cpu.vmcs12);
	uint64_t want = vpid12 ? nested_vpid02_mapped(&NV->cpu.vpid, vpid12) : L2_VPID;
	if (g_l0.vpid)
		FUZZ_ASSERT((proc2 & CPU2_ENABLE_VPID) && want >= L2_VPID &&
				    f02(VMCS_VIRTUAL_PROCESSOR_ID) == want,
			    "VPID 0x%llx, want 0x%llx (secondary 0x%llx)",
			    (unsigned long long)f02(VMCS_VIRTUAL_PROCESSOR_ID),
			    (unsigned long long)want, (unsigned long long)proc2);
}

static void check_outcome(void)
{
	FUZZ_ASSERT(run_stub_errors == 0, "the stub entered a VMCS it may not (%u)",
		    run_stub_errors);
	if (NV->in_l2) {
		FUZZ_ASSERT(vmcs_soft_current() == VMCS02_PA, "in L2 with 0x%llx current",
			    (unsigned long long)vmcs_soft_current());
		check_host_state_and_controls();
		fuzz_outcome("L2 entered");
		return;
	}
	FUZZ_ASSERT(vmcs_soft_current() == VMCS01_PA, "in L1 with 0x%llx current",
		    (unsigned long long)vmcs_soft_current());
	FUZZ_ASSERT(!(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID),
		    "an event injected into L1: 0x%llx",
		    (unsigned long long)f01(VMCS_VM_ENTRY_INTR_INFO_FIELD));
	uint64_t rip = f01(VMCS_GUEST_RIP), rflags = f01(VMCS_GUEST_RFLAGS);
	if (rip == RIP0 + LEN_VMLAUNCH) {
		/* VMfailValid: a current VMCS exists, so never VMfailInvalid. */
		uint64_t err = f12(VMCS_VM_INSTRUCTION_ERROR);
		FUZZ_ASSERT((rflags & (RFLAGS_CF | RFLAGS_ZF)) == RFLAGS_ZF && err >= 1 && err <= 28,
			    "L1 after its instruction, RFLAGS 0x%llx, error %llu",
			    (unsigned long long)rflags, (unsigned long long)err);
		fuzz_outcome("VMfailValid");
		return;
	}
	uint64_t r12 = f12(VMCS_VM_EXIT_REASON);
	FUZZ_ASSERT(r12 == (EXIT_REASON_FAILED_ENTRY | EXIT_REASON_INVALID_GUEST_STATE) ||
			r12 == (EXIT_REASON_FAILED_ENTRY | EXIT_REASON_MSR_LOADING),
		    "L1 at 0x%llx, vmcs12 exit reason 0x%llx", (unsigned long long)rip,
		    (unsigned long long)r12);
	FUZZ_ASSERT(rip == f12(VMCS_HOST_RIP), "entry failure: L1 at 0x%llx, host RIP 0x%llx",
		    (unsigned long long)rip, (unsigned long long)f12(VMCS_HOST_RIP));
	fuzz_outcome("VM-entry failure");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	run_setup();
	fuzz_log_capture();

	uint8_t flags = fuzz_u8(&in);
	struct vmcs12 *v = (struct vmcs12 *)run_l1_ptr(VMCS12_B);
	if (flags & FLAG_WRITES) {
		run_valid_vmcs12(v);
		unsigned n = fuzz_u8(&in);
		for (unsigned i = 0; i < n && in.left; i++) {
			unsigned idx = fuzz_u16(&in) % VMCS_FIELD_COUNT;
			v->field[idx] = fuzz_u64(&in);
		}
	} else {
		fuzz_bytes(&in, v, sizeof(*v));
	}
	/*
	 * An entry in wait-for-SIPI that passes its checks waits for a SIPI
	 * (nested/wait_sipi.c), as the CPU would, and nothing here sends one:
	 * the input enters in the active state instead.  The wait and its
	 * SIPI exit are test_nested_wait_sipi.c's.
	 */
	if ((uint32_t)v->field[VMCS_IDX_GUEST_ACTIVITY_STATE] == GUEST_ACTIVITY_WAIT_SIPI)
		v->field[VMCS_IDX_GUEST_ACTIVITY_STATE] = 0;
	v->revision = VMCS12_REVISION;
	v->launch_state = flags & FLAG_LAUNCHED ? VMCS12_LAUNCH_LAUNCHED : VMCS12_LAUNCH_CLEAR;
	fuzz_patch_l1_memory(&in, areas, sizeof(areas) / sizeof(areas[0]), 16);

	run_l1_vmptrld(VMCS12_B);
	vmcs12_normalize(V12);
	reason = flags & FLAG_VMRESUME ? EXIT_REASON_VMRESUME : EXIT_REASON_VMLAUNCH;
	fuzz_guard_msrs_arm();

	enum fuzz_step got = fuzz_guarded(step, NULL);
	if (got != FUZZ_RETURNED) {
		FUZZ_ASSERT(got == FUZZ_HALTED && fuzz_log_has("VMX abort") && V12->abort != 0,
			    "L0 %s on L1's %s", got == FUZZ_HALTED ? "halted" : "did port I/O (or reset the platform)",
			    flags & FLAG_VMRESUME ? "VMRESUME" : "VMLAUNCH");
		fuzz_outcome("VMX abort");
		return 0;
	}
	fuzz_guard_msrs_check("for L1's VM entry");
	check_outcome();
	return 0;
}
