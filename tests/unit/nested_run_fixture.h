/*
 * nested_run_fixture.h - the fixture of the nested run-path tests
 * (test_nested_run.c: L1's VMLAUNCH/VMRESUME, nested/vmentry.c;
 * test_nested_run_exit.c: exits from L2, nested/vmexit.c), driven through
 * the real entry points: vmx_exit_dispatch and vmx_resume_failed
 * (vmx/exit.c).
 *
 * One CPU (index 0) running a 64-bit L1 in VMX operation (struct
 * nested_cpu filled as VMXON and VMPTRLD would leave it) whose current
 * vmcs12, at VMCS12_A in L1's memory, is valid for a 64-bit L2.  g_l0 is
 * set up as l0_prepare does from the Bochs capability MSRs, with nested =
 * on: unrestricted guest, VPID, EPT pointer L0_EPTP, NMI exiting and
 * virtual NMIs, L1's capabilities from nested_vmx_msrs_init.  The
 * software VMCS has two instances: vmcs01 at VMCS01_PA (current after
 * run_setup) and vmcs02 at VMCS02_PA, created by the code's own VMPTRLD.
 *
 * The exit stub is simulated after every dispatch (run_enter): it enters
 * the current VMCS with VMLAUNCH when the dispatcher says so, else with
 * VMRESUME; VMLAUNCH of a VMCS whose launch state is not clear and
 * VMRESUME of one not launched (VMfailValid 4 and 5 on hardware, SDM
 * Vol. 3C 31.3) are counted in run_stub_errors, as is entering no VMCS.
 *
 * L1's memory, the vmcs12 cache and the nested state live in one shared
 * mapping, so that a forked child's VMX abort (run_halting) leaves its
 * traces where the parent can check them.
 */
#ifndef MICROHV_TESTS_NESTED_RUN_FIXTURE_H
#define MICROHV_TESTS_NESTED_RUN_FIXTURE_H

#include "nested/run.h"
#include "nested/vmcs12.h"
#include "vmx/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- L1's physical memory (the l1_memory refuses everything else) ---- */

#define MEM_BASE 0x01000000ull
#define MEM_SIZE 0x40000ull
#define VMXON_PA (MEM_BASE + 0x0000)
#define VMCS12_A (MEM_BASE + 0x1000)
#define VMCS12_B (MEM_BASE + 0x2000)
#define MSR_BITMAP12 (MEM_BASE + 0x4000) /* all zeros: L1 intercepts no MSR */
#define IO_BITMAP12_A (MEM_BASE + 0x5000)
#define IO_BITMAP12_B (MEM_BASE + 0x6000)
#define ENTRY_LOAD_AREA (MEM_BASE + 0x8000)
#define EXIT_STORE_AREA (MEM_BASE + 0x9000)
#define EXIT_LOAD_AREA (MEM_BASE + 0xa000)
#define L2_PDPT (MEM_BASE + 0xc000) /* a PAE L2's CR3 */
#define L1_HOST_CR3 (MEM_BASE + 0x10000)
#define L2_CR3 (MEM_BASE + 0x20000)

/* ---- L0 ---- */

#define HV_BASE 0x7e000000ull
#define HV_SIZE 0x01200000ull
#define VMCS01_PA 0x7e100000ull
#define L0_EPTP 0x7e05001eull

/* ---- L1 at its VMLAUNCH/VMRESUME (vmcs01) ---- */

#define RIP0 0xfffff80000401000ull
#define RSP0 0xfffff80000a0ff00ull
#define CR0_L1 0x80050033ull /* PG WP NE ET MP PE */
#define CR4_L1 0x000426a0ull /* VMXE OSXSAVE OSXMMEXCPT OSFXSR PGE PAE */
#define EFER_L1 0xd01ull     /* NXE LMA LME SCE */
#define LEN_VMLAUNCH 3	     /* 0F 01 C2 */
#define LEN_VMRESUME 3	     /* 0F 01 C3 */
#define GPR_INIT(n) (0x5a5a5a5a00000000ull | (n))

/* ---- vmcs12: L2 and L1's host state ---- */

#define L2_RIP 0xffffffff81000000ull
#define L2_RSP 0xffffc90000004000ull
#define HOST_RIP12 0xffffffffa0001000ull
#define HOST_RSP12 0xffffc90000008000ull
#define PAT_OK 0x0007040600070406ull

#define INFO_NMI (INTR_INFO_VALID | INTR_TYPE_NMI | 2u)
#define INFO_EXTINT(v) (INTR_INFO_VALID | INTR_TYPE_EXT_INTR | (v))

/* ---- the state ---- */

struct run_shared {
	uint8_t mem[MEM_SIZE] __attribute__((aligned(4096))); /* L1's memory at MEM_BASE */
	union {
		struct vmcs12 v;
		uint8_t raw[VMCS12_SIZE];
	} cache; /* L0's copy of L1's current vmcs12 */
	struct nested_vcpu nv;
};

extern struct run_shared *fx;
extern struct vcpu vcpu;
extern struct guest_regs regs;
extern uint8_t vmcs02_page[4096];
extern uint8_t msr_bitmap02[4096];
extern unsigned run_stub_errors;
/* L0's copies of L1's VMREAD/VMWRITE bitmaps (0xcc until an entry with shadowing copies them). */
extern uint8_t vmread_bitmap12_copy[4096], vmwrite_bitmap12_copy[4096];
#define RUN_EPT02_PAGES 64
extern struct page_alloc run_ept02_pa; /* where EPT02's tables come from */

#define V12 (&fx->cache.v)
#define NV (&fx->nv)
#define VMCS02_PA ((uint64_t)(uintptr_t)vmcs02_page)

/* Everything above, fresh; log at debug level into the capture. */
void run_setup(void);

/* A vmcs12 for a 64-bit L2 under a 64-bit L1 that passes every check. */
void run_valid_vmcs12(struct vmcs12 *v);
/* The same, for a 32-bit L2 with PAE paging at L2_PDPT. */
void run_valid_vmcs12_pae(struct vmcs12 *v);

/* A vmcs12 into L1's memory; L1's VMPTRLD of one (cache written back, the other read). */
void run_put_vmcs12(uint64_t pa, const struct vmcs12 *v);
void run_l1_vmptrld(uint64_t pa);
uint8_t *run_l1_ptr(uint64_t gpa);

/* One 16-byte entry of an MSR area in L1's memory (SDM Vol. 3C 25.7.2). */
void run_msr_entry(uint64_t area, unsigned i, uint32_t msr, uint64_t data);

/*
 * An exit of L1's (vmcs01 current): reason and length as the CPU writes
 * them, the dispatcher, then the stub (enter = false: not simulated).
 * Returns the dispatcher's value.
 */
int run_l1_exit(uint32_t reason, uint32_t len, bool enter);
/* An exit of L2's (vmcs02 current), likewise. */
int run_l2_exit(uint32_t reason, uint64_t qual, uint32_t len);
/* L1's VMLAUNCH, checked to have entered L2 (vmcs02 launched). */
bool run_l1_vmlaunch(void);

/*
 * L1's VMREAD and VMWRITE of a field, register operands (RCX value, RDX
 * encoding), through the dispatcher.
 */
uint64_t run_l1_vmread(uint32_t encoding);
void run_l1_vmwrite(uint32_t encoding, uint64_t value);

/*
 * Hardware VMCS shadowing for L1 on (nested/shadow_vmcs.h): the shadowed
 * set built, the shadow VMCS at RUN_SHADOW_PA and filled from vmcs12.
 */
#define RUN_SHADOW_PA 0x7e102000ull
void run_shadow_on(void);

/* Fields of vmcs01, vmcs02 and the cached vmcs12 (uncounted). */
uint64_t f01(uint32_t encoding);
uint64_t f02(uint32_t encoding);
uint64_t f12(uint32_t encoding);

/* The captured log has a line containing text. */
bool run_log_has(const char *text);

/* Runs fn in a forked child (halting.h), after the parent's own setup. */
int run_halting(void (*fn)(void));

#endif
