/*
 * vcpu.h - L0's per-CPU state for running L1, and the register frame the
 * exit stub (arch/x86/vmx_entry.asm) builds on every VM exit.
 */
#ifndef MICROHV_VMX_VCPU_H
#define MICROHV_VMX_VCPU_H

#include "arch/x86/gdt.h"
#include "arch/x86/spinlock.h"
#include "msr_policy.h"
#include "vmx_bits.h"

#include <stdbool.h>
#include <stdint.h>

/* Architectural GPR numbering (SDM Vol. 2 table 2-?; CR-access qualification). */
enum gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP, /* placeholder: the guest RSP lives in the VMCS */
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
	GPR_R15,
	GPR_COUNT
};

struct vcpu;
struct nested_vcpu;

/*
 * The exit frame.  HOST_RSP points at .vcpu; the stub pushes the 16 GPR
 * slots below it (rsp's slot is a dummy), so gpr[0] (rax) is lowest.
 * Layout known to vmx_entry.asm: keep it in step.
 */
struct guest_regs {
	uint64_t gpr[GPR_COUNT];
	struct vcpu *vcpu;
	uint64_t pad; /* keeps HOST_RSP 16-byte aligned */
};

#define VCPU_STACK_PAGES 4
#define MAX_CPUS 64

/* INIT/SIPI that L0 emulates for this CPU (vmx/ap_start.h). */
enum ap_start_state { AP_RUNNING, AP_INIT_PENDING, AP_WAIT_SIPI };

struct ap_start {
	struct spinlock lock;	  /* state and sipi, between sender and target */
	volatile uint32_t state;  /* enum ap_start_state */
	volatile uint32_t sipi;	  /* AP_SIPI_VALID | vector: a SIPI arrived */
	volatile bool kick_armed; /* NMIs now are L0's kicks, not L1's */
	volatile bool kick_seen;  /* a kick arrived since the last INIT was posted */
	volatile bool hw_wait_sipi; /* a real INIT exit left L1 in wait-for-SIPI */
	volatile bool l2_wait_sipi; /* L2 waits for SIPI in L0's loop (nested/wait_sipi.c) */
};
#define AP_SIPI_VALID 0x100u

struct vcpu {
	unsigned index;	 /* 0 = the BSP, then in launch order */
	uint32_t apic_id;
	uint64_t vmxon_pa;
	uint64_t vmcs01_pa;
	uint64_t stack_base; /* VCPU_STACK_PAGES pages; the frame sits at the top */
	struct guest_regs *frame; /* at the top of the stack */
	struct gdt gdt;
	struct tss64 tss;
	struct desc_ptr gdtr;
	bool launched;
	bool nmi_pending;
	uint64_t l0_refusals; /* L1 accesses to L0 memory refused */
	uint64_t apic_store_refusals; /* APIC-page stores L0 could not decode */
	uint64_t sipi_exit;   /* exits_total at the last SIPI (0: none) */
	bool init_quirk_reported;
	/*
	 * An INIT that arrived while L1 was in VMX root operation (after its
	 * VMXON, not running L2): blocked there (SDM Vol. 3C 24.8) and held
	 * until L1's VMXOFF or its next VM entry (vmx/init_signal.h).
	 */
	bool init_latched;
	struct ap_start start;
	struct l1_msrs msrs; /* the guest's MSRs that L0 keeps (msr_policy.h) */
	struct nested_vcpu *nested; /* L1's VMX operation (nested/run.h); NULL: nested = off */
	bool enter_launch;	    /* the exit stub enters the current VMCS with VMLAUNCH */
	uint64_t restarts; /* INIT-SIPI restarts L0 emulated */
	uint64_t exits_total;
	uint64_t exits[EXIT_REASON_MAX];
};

#endif
