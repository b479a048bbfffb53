/*
 * nested_test.h - the nested test hypervisor (an L1 payload): what its
 * parts share.
 *
 * nested_test.c   main flow, output, capability checks (A), L1's state at
 *                 the end (E)
 * nested_env.c    L1's own GDT/TSS/IDT, the capability MSRs and controls,
 *                 the VMCS set-up (controls, host state, L2's 64-bit and
 *                 32-bit PAE guest state), running L2 and reading its exit
 * nested_insn.c   VMX instruction results (B)
 * nested_vpid.c   INVVPID and "enable VPID", L2's TLB (B)
 * nested_shadow.c VMCS shadowing: L2's VMREAD/VMWRITE (B)
 * nested_entry.c  VM-entry failures (C)
 * nested_exits.c  exits caused by instructions in L2 (D)
 * nested_ctl.c    exits and TSC readings under RDRAND/RDSEED exiting,
 *                 PAUSE-loop exiting and TSC scaling (D)
 * nested_events.c exits caused by events in L2: exceptions, interrupts,
 *                 windows, triple fault, task switch (D)
 * nested_timer.c  the VMX-preemption timer (D)
 * nested_ug.c     unrestricted guest: real-mode and unpaged L2 under EPT (D)
 * nested_ept.c    nested EPT: EPT12 built by L1, violations,
 *                 misconfigurations, A/D flags, INVEPT (D)
 * nested_ept_paging.c  nested EPT: PAE PDPTEs, A/D of L2's page walks,
 *                 event delivery, entry bits, roots (D)
 * nested_vmfunc.c VM functions: VMFUNC's EPTP switching under EPT12 (D)
 * nested_apicv.c  the APIC-access page and x2APIC virtualization (D)
 * nested_vmx.asm  the VMX instructions as probes, VM entry and exit stub,
 *                 L1's exception stubs
 * nested_l2.asm   the L2 code
 *
 * Everything runs with interrupts disabled after boot services were used
 * to allocate memory; OVMF's identity paging makes pointers physical
 * addresses.
 */
#ifndef MICROHV_TEST_NESTED_TEST_H
#define MICROHV_TEST_NESTED_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

/* ---- output (nested_test.c) ---- */

/* One "microhv-nested: ok/not ok - WHAT (DETAIL)" line, counted. */
void nx_check(bool ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A line that is not a check ("group ...", "note - ..."). */
void nx_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the final count and powers off. */
__attribute__((noreturn)) void nx_finish(void);

/* ---- the probes (nested_vmx.asm) ---- */

#define NX_FAULT (1ull << 63)	     /* the instruction raised an exception */
#define NX_ENTRY_FAILED (1ull << 62) /* nx_enter: VMLAUNCH/VMRESUME fell through */
#define NX_FLAGS_ARITH 0x8d5ull	     /* CF PF AF ZF SF OF */
#define NX_RFLAGS_CF (1ull << 0)
#define NX_RFLAGS_ZF (1ull << 6)
#define NX_RFLAGS_IF (1ull << 9)
#define NX_RFLAGS_NT (1ull << 14)
#define NX_RFLAGS_FIXED (1ull << 1)

uint64_t nx_vmxon(uint64_t pa);
uint64_t nx_vmxoff(void);
uint64_t nx_vmclear(uint64_t pa);
uint64_t nx_vmptrld(uint64_t pa);
uint64_t nx_vmptrst(uint64_t *pa);
uint64_t nx_vmread(uint64_t field, uint64_t *value);
uint64_t nx_vmwrite(uint64_t field, uint64_t value);
uint64_t nx_invept(uint64_t type, const void *descriptor);
uint64_t nx_invvpid(uint64_t type, const void *descriptor);
uint64_t nx_rdmsr(uint32_t msr, uint64_t *value);
uint64_t nx_wrmsr(uint32_t msr, uint64_t value);
uint64_t nx_hypercall(uint64_t regs[4]);
uint64_t nx_ud2(void);
uint64_t nx_reload_ds(void);
uint64_t nx_enter(unsigned how);
void nx_exit_stub(void);

#define NX_LAUNCH 0
#define NX_RESUME 1
#define NX_LAUNCH_AFTER_MOV_SS 2

/* L2's GPRs in x86 numbering (RSP's slot unused). */
enum {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15
};
extern uint64_t nx_l2_gpr[16];
extern uint16_t nx_ss_sel;
extern uint64_t nx_fault_error; /* of the last caught fault */
extern uint32_t nx_fault_vector;
extern uint64_t nx_exc_stub_table[32];

/* Outcome of a probe: */
enum nx_outcome { NX_SUCCEED, NX_FAIL_INVALID, NX_FAIL_VALID, NX_FAULTED };
enum nx_outcome nx_outcome(uint64_t result);
/* "VMsucceed", "VMfailInvalid", "VMfailValid(12)", "#UD", ... (static buffer) */
const char *nx_result_str(uint64_t result);

/* ---- the environment (nested_env.c) ---- */

enum nx_ctl { NX_PIN, NX_PROC, NX_PROC2, NX_EXIT, NX_ENTRY, NX_CTL_COUNT };

/* Pages, by use (identity-mapped, below 4 GiB). */
enum nx_page {
	PG_VMXON,
	PG_VMCS_A,
	PG_VMCS_B,
	PG_VMCS_BAD,
	PG_ZERO,
	PG_MSR_BITMAP,
	PG_IO_A,
	PG_IO_B,
	PG_L1_GDT,
	PG_L1_TSS,
	PG_L1_IDT,
	PG_L2_GDT,
	PG_L2_IDT,
	PG_L2_TSS,
	PG_L2_STACK,
	PG_L2_PML4,
	PG_L2_PDPT,
	PG_L2_PD0,
	PG_L2_PD1,
	PG_L2_PD2,
	PG_L2_PD3,
	PG_L2_PAE_PDPT,
	PG_MSR_LOAD,
	PG_SCRATCH,
	PG_L1_GDT_ALT, /* L1 runs on these copies before a failed entry (nested_entry.c) */
	PG_L1_IDT_ALT,
	PG_L1_CR3_ALT,
	PG_TLB_PDPT, /* L2's page at TLB_LA and the two pages it maps (nested_vpid.c) */
	PG_TLB_PD,
	PG_TLB_PT,
	PG_TLB_A,
	PG_TLB_B,
	PG_EPT_PML4, /* L1's EPT12: identity 0-4 GiB in 2-MiB pages (nested_ug.c, nested_ept.c) */
	PG_EPT_PDPT,
	PG_EPT_PD0,
	PG_EPT_PD1,
	PG_EPT_PD2,
	PG_EPT_PD3,
	PG_SHADOW, /* a shadow VMCS, an ordinary one, the VMREAD/VMWRITE bitmaps (nested_shadow.c) */
	PG_SHADOW_PLAIN,
	PG_VMREAD_BM,
	PG_VMWRITE_BM,
	PG_VAPIC, /* L2's virtual-APIC page (nested_ctl.c, nested_apicv.c) */
	PG_APIC_ACCESS, /* L2's APIC-access page, ordinary memory (nested_apicv.c) */
	PG_EPT_PT0, /* 4-KiB tables for the 2-MiB regions of the test pages */
	PG_EPT_PT1,
	PG_EPT_PD_HI, /* EPT12's PD at guest-physical 4 GiB (2-MiB leaf test) */
	PG_L2_PD_HI,  /* L2's identity PD for linear 4-5 GiB */
	PG_EPT_T0,    /* the test pages */
	PG_EPT_T1,
	PG_EPT_T2,
	PG_EPT_PAE_PDPT, /* PDPTEs L2 loads with MOV CR3 (nested_ept_paging.c) */
	PG_EPT_PML4_B,	 /* a second EPT12 root (nested_ept_paging.c) */
	PG_EPT_PDPT_B,
	PG_VMFUNC_LIST, /* the EPTP list and EPT12 root C, T1 mapped to T2 (nested_vmfunc.c) */
	PG_VMFUNC_PML4,
	PG_VMFUNC_PDPT,
	PG_VMFUNC_PD,
	PG_VMFUNC_PT,
	PG_COUNT
};

struct nx_env {
	bool microhv;	/* CPUID 0x40000000 says "microhv" */
	bool vmx_cpuid; /* CPUID.1:ECX.VMX */
	bool caps_ok;	/* the capability MSRs could be read */
	unsigned maxphyaddr;
	uint64_t basic, misc, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, ept_vpid_cap;
	uint64_t ctl_msr[NX_CTL_COUNT]; /* raw (TRUE where offered) */
	uint32_t must1[NX_CTL_COUNT], may1[NX_CTL_COUNT];
	uint32_t revision;
	uint64_t page[PG_COUNT];
	/* L1 (the host) */
	uint64_t cr0, cr3, cr4, efer, pat;
	uint16_t cs, ss, ds, es, fs, gs, tr;
	uint64_t gdt, idt; /* our copies */
	uint16_t gdt_limit, idt_limit;
	uint64_t fw_idt;
	uint16_t fw_idt_limit;
	uint64_t l0_base, l0_size; /* microhv's own memory (HC_L0_RANGE) */
	/* VM entries */
	bool launched;	    /* of the current VMCS, as far as L1 knows */
	bool any_exit;	    /* a VM exit came back at least once */
	unsigned vw_errors; /* failed VMWRITEs while setting up */
};
extern struct nx_env nx;

/* Memory and L1's own tables: 0 or a line saying what failed. */
const char *nx_env_alloc(void);
void nx_env_l1_tables(void);
void nx_env_l1_restore(void);
void nx_env_read_caps(void);

/* (wanted | must-be-1) & may-be-1 of a control (SDM Vol. 3D A.3-A.5). */
uint32_t nx_ctl(enum nx_ctl c, uint32_t wanted);
bool nx_allowed(enum nx_ctl c, uint32_t bits);

/* VMREAD/VMWRITE of the current VMCS; failures are counted, not fatal. */
uint64_t vr(uint32_t field);
void vw(uint32_t field, uint64_t value);

/*
 * VMCLEAR + VMPTRLD of page, then every control, host-state and 64-bit
 * L2 guest-state field (defaults: MSR bitmaps on and empty, all
 * exceptions exit, nothing else exits).  Returns the VMPTRLD's result.
 */
uint64_t nx_vmcs_init(enum nx_page page);
void nx_vmcs_controls(void);
void nx_guest64(void);
void nx_guest32_pae(uint64_t cr3);

/* L2's stack top, addresses of L2 data. */
uint64_t nx_l2_stack_top(void);
#define NX_L2_SEL_CODE64 0x08
#define NX_L2_SEL_DATA 0x10
#define NX_L2_SEL_CODE32 0x18
#define NX_L2_SEL_DATA32 0x20
#define NX_L2_SEL_TSS64 0x28
#define NX_L2_SEL_TSS32_TARGET 0x38    /* available: JMP/CALL target */
#define NX_L2_SEL_TSS32_CUR 0x40       /* busy: L2's TR in 32-bit mode */
#define NX_L2_SEL_TSS32_BACK 0x48      /* busy: back link for IRET */
#define NX_L2_UNMAPPED 0x8000001000ull /* PML4 entry 1 is not present */

/* One VM exit, as L1 reads it. */
struct nx_exit {
	uint64_t entry; /* nx_enter's result: 0 = a VM exit came back */
	uint32_t reason, len, insn_info, intr_info, intr_error;
	uint64_t qual, rip, rsp, rflags, cr0, cr4;
};

/* VMLAUNCH/VMRESUME (how) as the VMCS stands, fill e; true if an exit came back. */
bool nx_enter_read(unsigned how, struct nx_exit *e);
/* Enter L2 at rip (RSP = stack top, RFLAGS = rflags), fill e; true if it exited. */
bool nx_run(uint64_t rip, uint64_t rflags, struct nx_exit *e);
/* Resume L2 where it is (GUEST_RIP as it stands). */
bool nx_resume(struct nx_exit *e);
/* GUEST_RIP += the exit's instruction length, resume. */
bool nx_skip(const struct nx_exit *prev, struct nx_exit *e);
/* "reason 10 qual 0x0 len 2 rip 0x..." (static buffer, two alternating) */
const char *nx_exit_str(const struct nx_exit *e);

/* Back to the default controls and the 64-bit guest state, GPRs 0 but RBX = scratch. */
void nx_reset_l2(void);
/* ORs bits into a control; false (and a not-ok line for what) if not offered. */
bool nx_set_ctl(enum nx_ctl c, uint32_t bits, const char *what);

/* ---- the groups ---- */
bool nx_group_insn(void); /* B; false: not in VMX operation */
void nx_vpid_checks(void); /* B: INVVPID and VPID, after the first entries */
void nx_shadow_checks(void); /* B: VMCS shadowing for L2 */
/* D, after nx_shadow_checks prepared the shadow VMCS: L2's VMREAD under EPT12. */
void nx_shadow_store_under_ept12(void);
void nx_group_entry(void);
void nx_group_exits(void);
void nx_group_ctl(void);
void nx_group_events(void);
void nx_group_timer(void);
void nx_group_ug(void);
void nx_group_ept(void);
void nx_group_apicv(void); /* after nx_group_ept: uses its EPT12 */
/* nested_ept.c for nested_ept_paging.c: EPT12 on (as nx_reset_l2, plus EPT), its leaves. */
void nx_ept_on(bool ad);
uint64_t *nx_ept_leaf(uint64_t gpa);
uint64_t nx_ept_flush(void);
void nx_ept_paging_checks(void);
/* VM functions, EPTP switching (nested_vmfunc.c), after nx_group_ept built EPT12. */
void nx_group_vmfunc(void);

/* Local APIC (xAPIC or x2APIC, as L1 finds it). */
void nx_apic_self_ipi(uint8_t vector);
void nx_apic_eoi(void);
uint32_t nx_apic_read(unsigned reg);

#endif
