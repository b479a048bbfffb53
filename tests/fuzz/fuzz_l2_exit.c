/*
 * fuzz_l2_exit.c - an arbitrary exit from L2 (nested/vmexit.c: the
 * ownership decision, the vmcs12 rebuild, the MSR-store/load areas,
 * loading L1's host state; L0's own handlers acting on L2), through
 * vmx_exit_dispatch on the unit tests' fixture (nested_run_fixture.h).
 *
 * After a valid VMLAUNCH of the fixture's vmcs12 (L2 runs, vmcs02
 * current), the input:
 *   byte 0     flags: bit 0 failed entry (bit 31 of the reason); bit 1 the
 *              GPRs from the input; bit 2 vmcs12's host state in L0's cache
 *              changed too (L1 cannot VMWRITE while L2 runs: stronger than
 *              the SDM's L1, to show the exit path trusts no entry check)
 *   byte 1     the basic exit reason (modulo 80)
 *   then       qualification (u64), instruction length (u8, modulo 16),
 *              exit interruption information and error code, IDT-vectoring
 *              information and error code, VMX-instruction information (u32
 *              each), guest-linear and guest-physical address (u64)
 *   bit 1:     16 GPRs (u64)
 *   bit 2:     u8 n, n x (u8 host-field number, u64 value)
 *   then       patches of L1's memory (the bitmaps, the MSR areas, the
 *              vmcs12 region, L1's host CR3 page): L1 changing them while
 *              L2 runs.
 *
 * Oracles, on every input:
 * Inputs the fake CPU could not deliver are skipped (cpu_could_deliver).
 *   - no L0 halt path, except L1's shutdown after a VMX abort (SDM Vol.
 *     3C 28.7, abort indicator in vmcs12) and the exits the CPU never
 *     delivers for vmcs02's controls, which L0 refuses to guess about
 *     ("neither L1 asked for nor L0 expects");
 *   - no WRMSR in root of an MSR a VMCS switches or L0 relies on (FS/GS
 *     bases, KERNEL_GS_BASE, EFER, PAT, DEBUGCTL, SYSENTER, APIC base, the
 *     VMX MSRs): each exists in the fake with a sentinel that must stay;
 *   - the outcome is sane: back in L2 with vmcs02 current, or in L1 with
 *     vmcs01 current at vmcs12's host RIP and vmcs12's exit reason set.
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

#define FLAG_FAILED_ENTRY 1u
#define FLAG_GPRS 2u
#define FLAG_HOST_CACHE 4u

static const uint64_t areas[] = {
	MSR_BITMAP12,	 IO_BITMAP12_A, IO_BITMAP12_B, ENTRY_LOAD_AREA,
	EXIT_STORE_AREA, EXIT_LOAD_AREA, VMCS12_A,     L1_HOST_CR3,
};


static uint32_t reason;
static uint64_t qual;
static uint32_t len;

static void step(void *arg)
{
	(void)arg;
	run_l2_exit(reason, qual, len);
}

/*
 * The fake CPU delivers only exits a CPU could for vmcs02: an exception
 * or NMI exit (reason 0) with valid interruption information of a type
 * and vector vmcs02 intercepts; an external-interrupt exit (1) only with
 * "external-interrupt exiting".  Other reasons are let through: an exit
 * vmcs02's controls rule out is refused by L0 with a halt, which the
 * oracle recognises by its log line.
 */
static bool cpu_could_deliver(uint32_t basic)
{
	uint32_t info = (uint32_t)vmcs_soft_get(VMCS_VM_EXIT_INTR_INFO);
	uint32_t type = info & INTR_INFO_TYPE_MASK, vector = info & INTR_INFO_VECTOR_MASK;
	if (basic == EXIT_REASON_EXCEPTION_NMI) {
		if (!(info & INTR_INFO_VALID))
			return false;
		if (type == INTR_TYPE_NMI)
			return vector == 2;
		if (type != INTR_TYPE_HARD_EXCEPTION && type != INTR_TYPE_SOFT_EXCEPTION &&
		    type != INTR_TYPE_PRIV_SW_EXCEPTION)
			return false;
		return vector < 32 &&
		       (vmcs_soft_get(VMCS_EXCEPTION_BITMAP) & (1ull << vector));
	}
	/* vmcs02 runs L2 on L0's own EPT, which has no misconfigured entry. */
	if (basic == EXIT_REASON_EPT_MISCONFIG)
		return false;
	if (basic == EXIT_REASON_EXTERNAL_INTERRUPT)
		return vmcs_soft_get(VMCS_PIN_BASED_VM_EXEC_CONTROL) & PIN_EXTERNAL_INTERRUPT_EXITING;
	return true;
}

static unsigned host_fields[64];
static unsigned nhost;

static void find_host_fields(void)
{
	if (nhost)
		return;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT && nhost < 64; i++)
		if (vmcs_field_table[i].cls == VMCS_CLASS_HOST)
			host_fields[nhost++] = i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	find_host_fields();
	run_setup();
	fuzz_log_capture();
	if (!run_l1_vmlaunch())
		fuzz_fail("the fixture's valid VMLAUNCH did not enter L2");
	fuzz_guard_msrs_arm();

	uint8_t flags = fuzz_u8(&in);
	uint32_t basic = fuzz_u8(&in) % 80;
	reason = basic | (flags & FLAG_FAILED_ENTRY ? EXIT_REASON_FAILED_ENTRY : 0);
	qual = fuzz_u64(&in);
	len = fuzz_u8(&in) % 16;
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, fuzz_u32(&in));
	vmcs_soft_set(VMCS_VM_EXIT_INTR_ERROR_CODE, fuzz_u32(&in));
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, fuzz_u32(&in));
	vmcs_soft_set(VMCS_IDT_VECTORING_ERROR_CODE, fuzz_u32(&in));
	vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO, fuzz_u32(&in));
	vmcs_soft_set(VMCS_GUEST_LINEAR_ADDRESS, fuzz_u64(&in));
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, fuzz_u64(&in));
	if (flags & FLAG_GPRS)
		for (unsigned i = 0; i < GPR_COUNT; i++)
			regs.gpr[i] = fuzz_u64(&in);
	if (flags & FLAG_HOST_CACHE) {
		unsigned n = fuzz_u8(&in);
		for (unsigned i = 0; i < n && in.left; i++) {
			unsigned idx = host_fields[fuzz_u8(&in) % nhost];
			V12->field[idx] = fuzz_u64(&in);
		}
		vmcs12_normalize(V12);
	}
	fuzz_patch_l1_memory(&in, areas, sizeof(areas) / sizeof(areas[0]), 16);
	if (!(reason & EXIT_REASON_FAILED_ENTRY) && !cpu_could_deliver(basic))
		return 0;

	enum fuzz_step got = fuzz_guarded(step, NULL);
	if (got != FUZZ_RETURNED) {
		bool abort_ok = got == FUZZ_HALTED && fuzz_log_has("VMX abort") && V12->abort != 0;
		bool impossible = got == FUZZ_HALTED && fuzz_log_has("nor L0 expects");
		FUZZ_ASSERT(abort_ok || impossible, "L0 %s on L2's exit %u (qualification 0x%llx)",
			    got == FUZZ_HALTED ? "halted" : "did port I/O (or reset the platform)", reason,
			    (unsigned long long)qual);
		fuzz_outcome(abort_ok ? "VMX abort" : "impossible exit refused");
		return 0;
	}
	fuzz_guard_msrs_check("for an exit from L2");
	FUZZ_ASSERT(run_stub_errors == 0, "the stub entered a VMCS it may not (%u)",
		    run_stub_errors);
	if (NV->in_l2) {
		FUZZ_ASSERT(vmcs_soft_current() == VMCS02_PA, "in L2 with 0x%llx current",
			    (unsigned long long)vmcs_soft_current());
		fuzz_outcome("back in L2");
		return 0;
	}
	FUZZ_ASSERT(vmcs_soft_current() == VMCS01_PA, "in L1 with 0x%llx current",
		    (unsigned long long)vmcs_soft_current());
	FUZZ_ASSERT(f01(VMCS_GUEST_RIP) == f12(VMCS_HOST_RIP),
		    "L1 at 0x%llx, not at its host RIP 0x%llx",
		    (unsigned long long)f01(VMCS_GUEST_RIP), (unsigned long long)f12(VMCS_HOST_RIP));
	uint64_t r12 = f12(VMCS_VM_EXIT_REASON);
	FUZZ_ASSERT((r12 & EXIT_REASON_BASIC_MASK) < 80, "vmcs12 exit reason 0x%llx for %u",
		    (unsigned long long)r12, reason);
	fuzz_outcome((r12 & EXIT_REASON_BASIC_MASK) == basic ? "in L1, same reason"
							       : "in L1, other reason");
	return 0;
}
