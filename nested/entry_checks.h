/*
 * entry_checks.h - the checks L0 makes on vmcs12 when L1 executes VMLAUNCH
 * or VMRESUME, before it builds vmcs02: SDM Vol. 3C 27.2 (VMX controls and
 * host-state area) and 27.3.1 (guest-state area), against L1's capability
 * MSRs (nested/vmx_msrs.h), never the hardware's.
 *
 * Order, as the SDM's: controls (27.2.1, VMfailValid 7), host state
 * (27.2.2-27.2.4, VMfailValid 8), guest state (27.3.1, VM-entry failure,
 * exit reason 33).  The first failing check is reported with its text and
 * SDM section.  The SDM lets a CPU perform the checks of one group in any
 * order; ours follow the SDM's lists.
 *
 * Left to the caller: the basic checks of 27.1 (launch state: VMfailValid
 * 4/5; blocking by MOV SS: 26), the MSR loading of 27.4 (exit reason 34),
 * and the PDPTEs of 27.3.1.6.  Files: entry_checks.c (controls, host
 * state, the entry point) and entry_checks_guest.c (guest state).
 */
#ifndef MICROHV_NESTED_ENTRY_CHECKS_H
#define MICROHV_NESTED_ENTRY_CHECKS_H

#include "nested/vmcs12.h"
#include "vmx/caps.h"

#include <stdbool.h>
#include <stdint.h>

enum nested_entry_result {
	NENTRY_OK,
	NENTRY_VMFAIL_CONTROL, /* VMfailValid 7: invalid control field(s) */
	NENTRY_VMFAIL_HOST,    /* VMfailValid 8: invalid host-state field(s) */
	NENTRY_FAIL_GUEST,     /* VM-entry failure exit, basic reason 33 */
};

/*
 * Exit qualification of a VM-entry failure for invalid guest state (SDM
 * Vol. 3C 27.8): 0 by default; 3 for NMI injection with blocking by STI
 * (implementation-specific, 27.3.1.5: ours fails); 4 for the VMCS link
 * pointer.  2 (PDPTEs) is never reported here.
 */
#define NENTRY_QUAL_DEFAULT 0
#define NENTRY_QUAL_NMI_STI 3
#define NENTRY_QUAL_LINK_POINTER 4

struct nested_entry_check {
	enum nested_entry_result result;
	uint64_t qualification; /* NENTRY_FAIL_GUEST: NENTRY_QUAL_* */
	const char *what;	/* the failed condition, e.g. "GUEST_RFLAGS bit 1 must be 1" */
	const char *sdm;	/* e.g. "SDM 27.3.1.4" */
};

/*
 * All the checks of VMLAUNCH (launch) or VMRESUME on vmcs12.  maxphyaddr
 * is L1's physical-address width (CPUID.80000008H:EAX[7:0]).  L1 is
 * taken to be in IA-32e mode (it must be for "host address-space size"
 * to be 1; nested_check_host_state takes it as a parameter).  No check of
 * chapter 27.2/27.3 depends on launch: both instructions check the same
 * (their difference, the launch state, is 27.1's and the caller's).
 */
struct nested_entry_check nested_check_vmentry(const struct vmcs12 *v,
					       const struct vmx_caps *l1_caps, bool launch,
					       unsigned maxphyaddr);

/* The three groups on their own; each returns the first failure or NENTRY_OK. */
struct nested_entry_check
nested_check_controls(const struct vmcs12 *v, const struct vmx_caps *l1_caps, unsigned maxphyaddr);
/* l1_in_ia32e: L1's IA32_EFER.LMA when it executed VMLAUNCH/VMRESUME. */
struct nested_entry_check nested_check_host_state(const struct vmcs12 *v,
						  const struct vmx_caps *l1_caps,
						  unsigned maxphyaddr, bool l1_in_ia32e);
/*
 * Only 27.2.1.3's checks of the event-injection fields (part of
 * nested_check_controls), for an entry where they are the only controls
 * that changed (nested/vmentry.c).  Reads the entry and execution
 * controls and GUEST_CR0 besides.
 */
struct nested_entry_check nested_check_event_injection(const struct vmcs12 *v,
						      const struct vmx_caps *l1_caps);
/*
 * Only the checks of 27.3.1.4-5 that involve the injected event (RFLAGS.IF,
 * the activity state, blocking by STI, MOV SS and NMI), for an entry where
 * only the event and RIP/RSP changed since the state was saved by the CPU.
 * Reads no guest field but RFLAGS, interruptibility and activity state
 * (the rebuild's eager ones: vmx/vmcs_fields.h).
 */
struct nested_entry_check nested_check_guest_event(const struct vmcs12 *v,
						   const struct vmx_caps *l1_caps);
/*
 * Only the RIP checks of 27.3.1.4, for an entry where RIP is the one guest
 * field that changed since the state last passed the checks or was saved
 * by the CPU (nested/vmentry.c, the clean VMRESUME).
 */
struct nested_entry_check nested_check_guest_rip(const struct vmcs12 *v,
						 const struct vmx_caps *l1_caps);
struct nested_entry_check nested_check_guest_state(const struct vmcs12 *v,
						   const struct vmx_caps *l1_caps,
						   unsigned maxphyaddr);

/* ---- shared by nested/entry_checks*.c only ---- */

/* Where a group's checks come from: result kind and SDM section. */
struct nentry_section {
	enum nested_entry_result result;
	const char *sdm;
};

static inline struct nested_entry_check nentry_fail(const struct nentry_section *s, uint64_t qual,
						    const char *what)
{
	return (struct nested_entry_check){s->result, qual, what, s->sdm};
}

#define NENTRY_PASS ((struct nested_entry_check){NENTRY_OK, 0, 0, 0})

/*
 * One check, one line: cond must hold, else the group returns the failure
 * with the text (KVM's CC() the other way round).  Needs a local
 * `const struct nentry_section sec` naming the group's SDM section.
 */
#define NENTRY_REQUIRE(cond, text) NENTRY_REQUIRE_Q(cond, NENTRY_QUAL_DEFAULT, text)
#define NENTRY_REQUIRE_Q(cond, qual, text)                                                         \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return nentry_fail(&sec, (qual), (text));                                  \
	} while (0)

/* Runs a group and returns its failure, if any. */
#define NENTRY_TRY(call)                                                                           \
	do {                                                                                       \
		struct nested_entry_check r_ = (call);                                             \
		if (r_.result != NENTRY_OK)                                                        \
			return r_;                                                                 \
	} while (0)

/* No bit at or above the physical-address width (SDM: "beyond MAXPHYADDR"). */
static inline bool nentry_phys_ok(uint64_t pa, unsigned maxphyaddr)
{
	return maxphyaddr >= 64 || !(pa >> maxphyaddr);
}

/* Bits 63:bits-1 all equal: canonical for a linear-address width of bits. */
static inline bool nentry_canonical(uint64_t la, unsigned bits)
{
	uint64_t top = la >> (bits - 1);
	return top == 0 || top == ~0ull >> (bits - 1);
}

/*
 * The processor's linear-address width for the canonical checks on bases
 * and MSR values: 57 where 5-level paging exists (L1 may set CR4.LA57,
 * IA32_VMX_CR4_FIXED1[12]), else 48.
 */
static inline unsigned nentry_linear_width(const struct vmx_caps *c)
{
	return (c->cr4_fixed1 & (1ull << 12)) ? 57 : 48;
}

/* IA32_PAT: every byte one of the memory types UC, WC, WT, WP, WB, UC- (0, 1, 4-7). */
static inline bool nentry_pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/*
 * IA32_EFER bits a WRMSR may set: SCE (0), LME (8), LMA (10), NXE (11);
 * the rest are reserved on Intel CPUs (SDM Vol. 3A 2.2.1).
 */
#define NENTRY_EFER_VALID ((1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11))

/* SDM Vol. 3C 27.2.1.1: the secondary controls are 0 unless activated. */
uint32_t nentry_proc2(const struct vmcs12 *v);

/*
 * Whether VM entry with "enable EPT" would accept eptp (SDM Vol. 3C
 * 27.2.1.1) under L1's capabilities c: INVEPT single-context asks the same.
 */
bool nested_eptp_valid(uint64_t eptp, const struct vmx_caps *c, unsigned maxphyaddr);

#endif
