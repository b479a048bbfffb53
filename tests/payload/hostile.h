/*
 * hostile.h - the hostile L1 (tests/system/bochs_hostile.sh): an L1
 * hypervisor that attacks L0 (issue 10, "A hostile L1 in Bochs").  It
 * reuses the nested test hypervisor's environment (nested_test.h: L1's
 * GDT/TSS/IDT, the capability MSRs, the VMCS set-up, running L2, the VMX
 * probes and the L2 blobs) and adds:
 *
 * hostile.c        main flow, output, L0's self-report (HC_L0_SELF), the
 *                  attacks L1 makes without L2: L0's memory, MSRs, port
 *                  I/O, NMIs, VMXON/VMPTRLD/VMCLEAR pointers, MOV to CR4
 * hostile_l2.c     the attacks through vmcs12 and L2: bitmaps changed by
 *                  L2, a vmcs12 region edited by hand, bitmaps outside
 *                  L1's memory, MSR-load areas with refused values
 * hostile_asm.asm  probes that may fault, L1's NMI handler, the L2 code
 */
#ifndef MICROHV_TEST_HOSTILE_H
#define MICROHV_TEST_HOSTILE_H

#include "nested_test.h"

#define HX_PREFIX "microhv-hostile"

/* ---- output (hostile.c) ---- */
void hx_check(bool ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* HC_L0_SELF: RBX, RCX, RDX; false if the VMCALL faulted or failed. */
struct hx_self {
	uint64_t vcpu, bits, refusals;
};
bool hx_l0_self(struct hx_self *s);
/* One check that L0's per-CPU state is what the first call found. */
void hx_check_self(const char *when);
/* L1's reads/writes of L0's memory the payload made (each one a refusal). */
extern unsigned hx_l0_accesses;

/* ---- the attacks through vmcs12 and L2 (hostile_l2.c) ---- */
void hx_bitmaps_flipped_by_l2(void); /* item 1 */
void hx_vmcs12_by_hand(void);	     /* item 2 */
void hx_bitmaps_outside(void);	     /* item 4 */
void hx_entry_msr_load(void);	     /* item 6, entry side */
/* Item 6, exit side: a VMX abort; returns only if L0 did not abort. */
void hx_exit_msr_load_abort(void);

/* ---- hostile_asm.asm ---- */
uint64_t hx_read64(uint64_t pa, uint64_t *value); /* 0 or NX_FAULT | vector */
uint64_t hx_write64(uint64_t pa, uint64_t value);
uint64_t hx_mov_cr4(uint64_t value);
uint8_t hx_in8(uint16_t port);
uint16_t hx_in16(uint16_t port);
uint32_t hx_in32(uint16_t port);
void hx_out8(uint16_t port, uint8_t value);
void hx_out32(uint16_t port, uint32_t value);
/* The NMI sequences: the ICR store inside STI / MOV-SS blocking, then STI; HLT. */
void hx_nmi_sti(volatile uint32_t *icr_low, uint32_t value);
void hx_nmi_movss(volatile uint32_t *icr_low, uint32_t value);
extern char hx_nmi_sti_hlt[], hx_nmi_movss_hlt[];
void hx_nmi_handler(void);
void hx_gp_handler(void);
void hx_ud_handler(void);
extern volatile uint32_t hx_nmi_count, hx_nmi_count_in_handler;
extern volatile uint64_t hx_nmi_rip[2];
/* Set before an NMI: its handler stores resend_value there once (an NMI from inside it). */
extern volatile uint64_t hx_nmi_resend_icr;
extern volatile uint32_t hx_nmi_resend_value;

/* L2 code: the bit (R8B) of the byte at RDI cleared, then the access. */
extern char hx_l2_flip_wrmsr[], hx_l2_flip_wrmsr_at[];
extern char hx_l2_flip_rdmsr[], hx_l2_flip_rdmsr_at[];
extern char hx_l2_flip_out[], hx_l2_flip_out_at[];
extern char hx_l2_rdmsr[], hx_l2_wrmsr[], hx_l2_out[], hx_l2_in[];

#endif
