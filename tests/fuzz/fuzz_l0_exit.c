/*
 * fuzz_l0_exit.c - an arbitrary exit of L1's through vmx_exit_dispatch
 * (vmx/exit.c and its handlers: CR, MSR, I/O, APIC-page, task-switch,
 * CPUID, XSETBV, VMX-instruction emulation) with the hardware faked, on
 * the unit tests' nested fixture (an L1 in VMX operation with a current
 * vmcs12; nested_run_fixture.h), in 64-bit mode or, as the input says, in
 * compatibility, 32-bit (paging, PAE, none), 16-bit protected or real mode.
 *
 * The input: u8 reason (one of those L0 has a handler for), u64
 * qualification, u8 instruction length (modulo 16), u32 interruption
 * information, IDT-vectoring information and VMX-instruction information,
 * u64 guest-linear and guest-physical address, 16 GPRs, u8 the page of
 * L1's memory its CR3 points at, u8 L1's mode (PAE: then 4 u64 PDPTEs),
 * then patches of L1's memory (any of its
 * pages: page tables, the instruction bytes at RIP, the vmcs12 region,
 * TSS and descriptor tables).
 *
 * Oracles, on every input:
 *   - no L0 halt path, except L1's own shutdown (its triple fault, which
 *     L0 answers with on_triple_fault); exits the CPU never delivers for
 *     vmcs01 (an exception L0 does not intercept) are skipped; port I/O
 *     that L0 performs for L1 (faults at CPL 3) ends the input;
 *   - no WRMSR in root of an MSR a VMCS switches or L0 relies on (as in
 *     fuzz_l2_exit: sentinels in the fake);
 *   - the outcome is one the CPU can enter: vmcs01 (or, after L1's
 *     VMLAUNCH/VMRESUME, vmcs02) current and entered by the stub, and an
 *     event injected into L1 passes the SDM's checks on event injection
 *     (Vol. 3C 27.2.1.3: type not reserved, NMI vector 2, an exception's
 *     vector below 32, an error code exactly for #DF #TS #NP #SS #GP #PF
 *     #AC #CP with a hardware exception, and none in real mode).
 */
#include "common.h"

#include "hw_fake.h"
#include "nested_run_fixture.h"
#include "vmcs_soft.h"
#include "vmx/controls.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>
#include <string.h>

#define NPAGES (MEM_SIZE / 4096)

static uint32_t handled[EXIT_REASON_MAX];
static unsigned nhandled;
static uint64_t pages[NPAGES];
static uint32_t reason, len;
static uint64_t qual;

/*
 * L1's mode for this input (the fixture's is 64-bit): compatibility mode,
 * 32-bit protected mode with 2-level or PAE paging or none, 16-bit
 * protected mode, real mode (unrestricted guest, CR0.PE = 0).  Each a
 * state the CPU can be in: CR0/CR4/EFER, the IA-32e entry control and the
 * CS/SS access rights agree; PAE's PDPTEs come from the input.
 */
enum l1_mode { MODE_64, MODE_COMPAT, MODE_32_PAGING, MODE_32_PAE, MODE_32_FLAT, MODE_16_PM,
	       MODE_REAL, MODE_COUNT };

static void set_l1_mode(enum l1_mode mode, struct fuzz_in *in)
{
	if (mode == MODE_64)
		return;
	uint64_t cr0 = vmcs_soft_get(VMCS_CR0_READ_SHADOW), cr4 = vmcs_soft_get(VMCS_CR4_READ_SHADOW);
	uint64_t efer = 0, cs_ar = 0xc09b, ss_ar = 0xc093;
	switch (mode) {
	case MODE_COMPAT:
		efer = vmcs_soft_get(VMCS_GUEST_IA32_EFER);
		break;
	case MODE_32_PAGING:
		cr4 &= ~(CR4_PAE | CR4_PCIDE);
		break;
	case MODE_32_PAE:
		cr4 &= ~CR4_PCIDE;
		break;
	case MODE_32_FLAT:
		cr0 &= ~CR0_PG;
		cr4 &= ~CR4_PCIDE;
		break;
	case MODE_16_PM:
		cr0 &= ~CR0_PG;
		cr4 &= ~CR4_PCIDE;
		cs_ar = 0x009b;
		ss_ar = 0x0093;
		break;
	default: /* MODE_REAL */
		cr0 &= ~(CR0_PG | CR0_PE);
		cr4 &= ~CR4_PCIDE;
		cs_ar = 0x009b;
		ss_ar = 0x0093;
		break;
	}
	vmcs_soft_set(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_soft_set(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_soft_set(VMCS_GUEST_CR0, vmx_fix_cr0(&g_l0.caps, cr0, true));
	vmcs_soft_set(VMCS_GUEST_CR4, vmx_fix_cr4(&g_l0.caps, cr4));
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, efer);
	if (!(efer & EFER_LMA))
		vmcs_soft_set(VMCS_VM_ENTRY_CONTROLS,
			      vmcs_soft_get(VMCS_VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, cs_ar);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, ss_ar);
	if (mode != MODE_COMPAT) /* RIP within 32 bits outside IA-32e mode */
		vmcs_soft_set(VMCS_GUEST_RIP, vmcs_soft_get(VMCS_GUEST_RIP) & 0xffffffffull);
	if (mode == MODE_32_PAE) {
		vmcs_soft_set(VMCS_GUEST_PDPTE0, fuzz_u64(in));
		vmcs_soft_set(VMCS_GUEST_PDPTE1, fuzz_u64(in));
		vmcs_soft_set(VMCS_GUEST_PDPTE2, fuzz_u64(in));
		vmcs_soft_set(VMCS_GUEST_PDPTE3, fuzz_u64(in));
	}
}

static void init_once(void)
{
	if (nhandled)
		return;
	for (uint32_t r = 0; r < EXIT_REASON_MAX; r++)
		if (vmx_exit_handler_for(r) && r != EXIT_REASON_EPT_MISCONFIG)
			handled[nhandled++] = r; /* L0's EPT has no misconfigured entry */
	for (unsigned i = 0; i < NPAGES; i++)
		pages[i] = MEM_BASE + 4096ull * i;
}

/* run_l1_exit with a qualification: the CPU's exit, the dispatcher, the stub. */
static void step(void *arg)
{
	(void)arg;
	vmcs_soft_set(VMCS_VM_EXIT_REASON, reason);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD,
		      vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD) & ~(uint64_t)INTR_INFO_VALID);
	int launch = vmx_exit_dispatch(&regs);
	uint64_t cur = vmcs_soft_current();
	enum vmcs_soft_launch want = launch ? VMCS_SOFT_LAUNCH_CLEAR : VMCS_SOFT_LAUNCH_LAUNCHED;
	if (cur == VMCS_SOFT_NONE || vmcs_soft_launch_state(cur) != want)
		run_stub_errors++;
	else if (launch)
		vmcs_soft_set_launched(cur);
}

/* An exception or NMI exit the CPU delivers for vmcs01 (cf. fuzz_l2_exit). */
static bool cpu_could_deliver(void)
{
	if (reason != EXIT_REASON_EXCEPTION_NMI)
		return true;
	uint32_t info = (uint32_t)vmcs_soft_get(VMCS_VM_EXIT_INTR_INFO);
	uint32_t type = info & INTR_INFO_TYPE_MASK, vector = info & INTR_INFO_VECTOR_MASK;
	if (!(info & INTR_INFO_VALID))
		return false;
	if (type == INTR_TYPE_NMI)
		return vector == 2;
	if (type != INTR_TYPE_HARD_EXCEPTION && type != INTR_TYPE_SOFT_EXCEPTION &&
	    type != INTR_TYPE_PRIV_SW_EXCEPTION)
		return false;
	return vector < 32 && (vmcs_soft_get(VMCS_EXCEPTION_BITMAP) & (1ull << vector));
}

/* SDM Vol. 3C 27.2.1.3: the checks of a VM entry on the event it injects. */
static void check_injection(uint32_t info, uint64_t insn_len)
{
	if (!(info & INTR_INFO_VALID))
		return;
	uint32_t type = info & INTR_INFO_TYPE_MASK, vector = info & INTR_INFO_VECTOR_MASK;
	bool has_error = info & (1u << 11);
	FUZZ_ASSERT(!(info & 0x7ffff000u), "reserved bits in the injected 0x%x", info);
	FUZZ_ASSERT(type != (1u << 8), "reserved type in the injected 0x%x", info);
	if (type == INTR_TYPE_NMI)
		FUZZ_ASSERT(vector == 2, "an NMI with vector %u", vector);
	if (type == INTR_TYPE_HARD_EXCEPTION)
		FUZZ_ASSERT(vector < 32, "a hardware exception with vector %u", vector);
	if (type == INTR_TYPE_OTHER_EVENT)
		FUZZ_ASSERT(vector == 0, "other event with vector %u", vector);
	/* ... and never in real mode (unrestricted guest with CR0.PE = 0). */
	bool wants_error = type == INTR_TYPE_HARD_EXCEPTION &&
			   (vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 ||
			    vector == 21) &&
			   (vmcs_soft_get(VMCS_GUEST_CR0) & CR0_PE);
	FUZZ_ASSERT(has_error == wants_error, "the injected 0x%x %s an error code", info,
		    has_error ? "delivers" : "lacks");
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SOFT_EXCEPTION)
		FUZZ_ASSERT(insn_len >= 1 && insn_len <= 15, "a software event with length %llu",
			    (unsigned long long)insn_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	init_once();
	run_setup();
	fuzz_log_capture();
	fuzz_guard_msrs_arm();

	reason = handled[fuzz_u8(&in) % nhandled];
	qual = fuzz_u64(&in);
	len = fuzz_u8(&in) % 16;
	vmcs_soft_set(VMCS_VM_EXIT_INTR_INFO, fuzz_u32(&in));
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, fuzz_u32(&in));
	vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO, fuzz_u32(&in));
	vmcs_soft_set(VMCS_GUEST_LINEAR_ADDRESS, fuzz_u64(&in));
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, fuzz_u64(&in));
	for (unsigned i = 0; i < GPR_COUNT; i++)
		if (i != GPR_RSP)
			regs.gpr[i] = fuzz_u64(&in);
	vmcs_soft_set(VMCS_GUEST_CR3, pages[fuzz_u8(&in) % NPAGES]);
	set_l1_mode((enum l1_mode)(fuzz_u8(&in) % MODE_COUNT), &in);
	fuzz_patch_l1_memory(&in, pages, NPAGES, 24);
	if (!cpu_could_deliver())
		return 0;

	enum fuzz_step got = fuzz_guarded(step, NULL);
	if (got != FUZZ_RETURNED) {
		bool shutdown = fuzz_log_has("triple fault");
		/* Port I/O L0's bitmaps do not claim: done on the hardware for L1. */
		bool port_io = got == FUZZ_PORT_IO && fuzz_log_has("on the hardware");
		FUZZ_ASSERT(shutdown || port_io, "L0 %s on L1's exit %u (qualification 0x%llx)",
			    got == FUZZ_HALTED ? "halted" : "did port I/O (or reset the platform)",
			    reason, (unsigned long long)qual);
		fuzz_outcome(port_io ? "L1's port I/O done" : "L1 shut down");
		return 0;
	}
	fuzz_guard_msrs_check("on an exit of L1's");
	FUZZ_ASSERT(run_stub_errors == 0, "the stub entered a VMCS it may not (%u)",
		    run_stub_errors);
	uint64_t cur = vmcs_soft_current();
	FUZZ_ASSERT(cur == VMCS01_PA || (cur == VMCS02_PA && NV->in_l2),
		    "0x%llx current after exit %u", (unsigned long long)cur, reason);
	if (cur == VMCS01_PA)
		check_injection((uint32_t)f01(VMCS_VM_ENTRY_INTR_INFO_FIELD),
				f01(VMCS_VM_ENTRY_INSTRUCTION_LEN));
	fuzz_outcome(cur == VMCS02_PA ? "L2 entered"
		     : f01(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID ? "event injected"
									       : "L1 resumed");
	return 0;
}
