/*
 * run.h - running L2 for L1 on one CPU: the switch from vmcs01 to vmcs02
 * when L1 executes VMLAUNCH/VMRESUME (nested/vmentry.c), and back when an
 * exit from L2 is L1's (nested/vmexit.c).  docs/nested.md tells the whole
 * path; the pure steps it strings together live in their own files
 * (entry_checks*.c, prepare02.c, reflect.c, sync12.c, msr_lists.c,
 * load_host.c).
 *
 * Per CPU, L0 keeps one hardware VMCS for L2 (vmcs02).  It is rebuilt from
 * vmcs12 on every VM entry L1 asks for (L1 may have changed any field),
 * except a clean VMRESUME, which only refreshes it (vmentry.c: L1 changed
 * nothing since the last exit but RIP, RSP or HOST_RSP through its shadow
 * VMCS, shadow_vmcs.h); launched afresh when L1 enters with another vmcs12
 * than last time and resumed otherwise.  While L2 runs vmcs02 is current; vmcs01 keeps L1
 * exactly at its VMLAUNCH/VMRESUME instruction until L0 either reflects
 * an exit (L1 continues at its host RIP) or gives up on the entry.
 */
#ifndef MICROHV_NESTED_RUN_H
#define MICROHV_NESTED_RUN_H

#include "nested/ept02.h"
#include "nested/ept_exit.h"
#include "nested/msr_lists.h"
#include "nested/nested.h"
#include "nested/prepare02.h"
#include "nested/shadow_vmcs.h"
#include "nested/sync12.h"
#include "nested/timer.h"
#include "vmx/l1_memory.h"
#include "vmx/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

struct nested_vcpu {
	struct nested_cpu cpu;	 /* L1's own VMX operation (nested.h) */
	bool in_l2;		 /* vmcs02 is current: L2 runs */
	bool wait_sipi;		 /* ... in wait-for-SIPI, held by L0 in VMX root (wait_sipi.h) */
	bool launch_pending;	 /* L1's VMLAUNCH until L2's first exit: undone if the CPU refuses */
	uint64_t vmcs02_pa;
	uint64_t vmcs02_for;	 /* vmcs12 pointer vmcs02 was launched for; VMPTR_INVALID: clear */
	uint64_t msr_bitmap02_pa; /* L0's MSR bitmap | L1's */
	uint64_t io_bitmap02_pa; /* two pages, A then B: L0's console ports | L1's */
	/*
	 * L1's bitmaps as L0 copied them at the entry (all ones where L1 uses
	 * none, or L0 could not read them): what the CPU used, with L0's own,
	 * and what decides who owns an MSR or I/O exit from L2 - never L1's
	 * memory read again at the exit (nested/reflect.h).
	 */
	uint64_t msr_bitmap12_copy_pa;
	uint64_t io_bitmap12_copy_pa; /* two pages, A then B */
	/* With "VMCS shadowing" in vmcs12: L1's VMREAD, VMWRITE bitmaps (nested/shadow12.h). */
	uint64_t vmread_bitmap12_copy_pa, vmwrite_bitmap12_copy_pa;
	bool io_merged; /* vmcs02 uses io_bitmap02 (L0 owns ports) this entry */
	/* What vmcs02's MSR bitmap holds (nested/vmentry.c, msr_merge.h). */
	enum { MSR02_NONE, MSR02_ALL_ONES, MSR02_PASS } msr02;
	struct vmcs02_cr_state cr; /* vmcs02's CR ownership, for the vmcs12 rebuild */
	/*
	 * The lazy rebuild and the clean VMRESUME (docs/nested.md):
	 * lazy_pending: vmcs12's VMCS_RB_LAZY fields are older than vmcs02's,
	 * which holds L2's state as of its last exit (nested_complete_vmcs12
	 * reads them); clean: L1 changed nothing in vmcs12 since the last
	 * reflected exit but through its shadow VMCS, so a VMRESUME of it may
	 * refresh vmcs02 instead of rebuilding it (nested/vmentry.c); l0_last:
	 * what L0 supplied to vmcs02 at its last entry; clean_gen: the EPT01
	 * generation of the last full entry (a clean one needs the same).
	 */
	bool lazy_pending, clean;
	struct nested_sync_plan sync_plan; /* the eager rows, made at the last full entry */
	struct vmcs02_l0 l0_last;
	uint64_t clean_gen;
	uint64_t clean_entries; /* VMRESUMEs that refreshed vmcs02 (of entries) */
	unsigned last_entry_dirty; /* the groups the last entry checked and wrote (VMCS_DIRTY) */
	uint64_t lazy_completions; /* lazy rebuilds done (make bench) */
	unsigned last_lazy_reads;
	struct nested_timer timer; /* L1's preemption timer beside L0's in vmcs02 */
	unsigned mce_entry_retries; /* machine checks in a row during entries to L2 */
	/* Nested EPT (nested/ept12.h): this CPU's EPT02s, the EPT01 generation they match. */
	struct ept02 ept02;
	uint64_t ept02_gen;
	uint64_t eptp02; /* vmcs02's EPTP when L1's EPT is on */
	struct l1_memory l2_mem; /* L2's memory through EPT12 (nested_guest_memory) */
	struct nested_ept12_fault ept12_fault; /* an L0-emulated access EPT12 refused */
	/*
	 * L0's shadow VMCS of L1's current vmcs12 (nested/shadow_vmcs.h); 0:
	 * no shadowing.  shadow_for: the vmcs12 it holds and vmcs01 links,
	 * VMPTR_INVALID: shadowing off in vmcs01; shadow_val: what it holds,
	 * per entry of g_l0.shadow_set.
	 */
	uint64_t shadow_pa;
	uint64_t shadow_for;
	uint64_t shadow_val[NESTED_SHADOW_MAX];
	uint64_t shadow_copied_back, shadow_pushed; /* fields copied each way (make bench) */
	/* Counters (the console and make bench read them). */
	uint64_t entries;	/* VM entries to L2 */
	uint64_t entry_failures; /* VM-entry failures reported to L1 (reason 33/34) */
	uint64_t l2_exits;	/* exits from L2 L0 took */
	uint64_t reflected;	/* of those, given to L1 */
	/* The last reflected exit: vmcs02 fields its rebuild read, and all of
	 * L0's VMREADs/VMWRITEs from the exit to L1's resumption. */
	unsigned last_sync_reads;
	uint64_t last_reflect_vmreads, last_reflect_vmwrites;
	/* L1's last VM entry that reached L2: L0's VMREADs and VMWRITEs from
	 * its VMLAUNCH/VMRESUME exit on, and the fields copied back from the
	 * shadow VMCS (HC_NESTED_LAST_ENTRY). */
	uint64_t last_entry_vmreads, last_entry_vmwrites, last_entry_copied_back;
};

/*
 * One CPU's nested state, zeroed, with its pages (vmcs12 cache, vmcs02,
 * merged bitmaps); NULL when out of memory.  l0_prepare allocates one per
 * CPU before any launch, so the launch of a CPU allocates nothing more.
 */
struct nested_vcpu *nested_vcpu_alloc(void);

static inline bool nested_in_l2(const struct vcpu *v)
{
	return v->nested && v->nested->in_l2;
}

/*
 * A VMX instruction executed by L1 (basic exit reason 18-28, 50, 53):
 * emulated per SDM Vol. 3C 31.3; VMLAUNCH/VMRESUME may leave vmcs02
 * current with v->enter_launch telling the exit stub which instruction
 * enters it.
 */
void nested_vmx_instruction(struct vcpu *v, struct guest_regs *r, uint32_t reason);

/*
 * An NMI L0 holds for L1 (v->nmi_pending) while L2 runs: if vmcs12 has
 * "NMI exiting" it must become L1's NMI exit, not an NMI in L2 (SDM Vol.
 * 3C 26.2): L0 sends the CPU a self-NMI, which exits from L2 and is
 * reflected like any NMI.  Otherwise the CPU would deliver it through L2's
 * IDT, and vmx_deliver_pending_nmi injects it into vmcs02.
 */
void nested_route_pending_nmi(struct vcpu *v);

/*
 * An INIT for a CPU that runs L2 (vmcs02 current, ran or only prepared):
 * L1 gets an INIT-signal VM exit (reason 3, SDM Vol. 3C 26.2), and an
 * event vmcs02 had yet to inject as its IDT-vectoring information.
 */
void nested_init_exit(struct vcpu *v, struct guest_regs *r);

/*
 * A SIPI for the L2 L0 holds in wait-for-SIPI (nested/wait_sipi.h): L1
 * gets a SIPI exit (reason 4, SDM Vol. 3C 26.2), the vector as exit
 * qualification (28.2.1), the guest state as the entry left it.
 */
void nested_sipi_exit(struct vcpu *v, struct guest_regs *r, uint8_t vector);

/* Every VM exit while L2 runs (vmcs02 current), also a failed entry to L2. */
void nested_l2_exit(struct vcpu *v, struct guest_regs *r);

/*
 * VMLAUNCH/VMRESUME of vmcs02 itself failed (cf: VMfailInvalid, else
 * VMfailValid): a state L0's checks let through and the CPU refused.
 * L1 gets the CPU's VMfail at its VMLAUNCH/VMRESUME and goes on.
 */
void nested_vmcs02_entry_failed(struct vcpu *v, bool cf);

/* ---- shared by nested/vmentry.c and nested/vmexit.c ---- */

/*
 * vmcs12's lazy fields from vmcs02 (nested/sync12.h), if they are
 * pending: before L0 or L1 needs vmcs12 whole.  vmcs01 current before
 * and after.
 */
void nested_complete_vmcs12(struct vcpu *v);

/*
 * The MSRs of the guest of the current VMCS on v's CPU, for the MSR
 * areas: L0's MSR table (vmx/msr_policy.h) decides, as for RDMSR/WRMSR
 * exits; those a VMCS switches are its guest fields.
 */
struct nested_msr_ops nested_msr_ops_current(struct vcpu *v);

/*
 * The CPU refused to enter vmcs02 (a VMfail, or an entry failure that
 * exited): vmcs01 current again, vmcs02 to be launched afresh next time,
 * and L1's vmcs12 not "launched" if this was its VMLAUNCH (SDM 31.3).
 */
void nested_abandon_vmcs02(struct vcpu *v);

/*
 * A VM-entry failure of L1's entry (SDM 27.8): only the exit reason
 * (reason: bit 31 set) and qualification change in vmcs12, then L1
 * continues at its host RIP.  vmcs01 must be current.
 */
void nested_fail_entry(struct vcpu *v, struct guest_regs *r, uint32_t reason, uint64_t qual);

/*
 * L1 continues as after a VM exit from L2, at its host RIP: L2's MSRs
 * stored (from_l2 only: not after a failed entry, SDM 27.8), vmcs01
 * current again, L1's state from vmcs12's host-state area (28.5), the
 * VM-exit MSR-load area (28.6).  A failure there is a VMX abort (28.7).
 */
void nested_exit_to_l1(struct vcpu *v, struct guest_regs *r, bool from_l2);

#endif
