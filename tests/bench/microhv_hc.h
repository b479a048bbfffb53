/*
 * microhv_hc.h - the ioctl of tests/bench/microhv_hc.c, a test module for
 * the L1 Linux of `make bench`'s KVM part: user space (kvm_guests bench)
 * asks it for a snapshot of microhv's counters, which the module reads
 * with VMCALLs at CPL 0 (docs/hypercalls.md; a VMCALL at CPL 3 gets
 * HV_EPERM).  Shared by the module (kernel types) and kvm_guests (no libc).
 */
#ifndef MICROHV_TESTS_BENCH_MICROHV_HC_H
#define MICROHV_TESTS_BENCH_MICROHV_HC_H

#include <linux/ioctl.h>

#define MICROHV_HC_DEVICE "/dev/microhv_hc"
/* Exit reasons counted: vmx/vmx_bits.h's EXIT_REASON_MAX (kvm_guests checks). */
#define MICROHV_HC_REASONS 80

/*
 * VMCS fields L1 touched that a snapshot keeps (HC_VMX_FIELD_TRAPS): more
 * than the fields there are (vmx/vmcs_fields.h has about 160), so that
 * none L1 ever touched is left out.
 */
#define MICROHV_HC_FIELDS 192

struct microhv_hc_field {
	unsigned long long encoding;	    /* the field's (full) encoding */
	unsigned long long reads, writes; /* L1's VMREADs and VMWRITEs L0 emulated */
};

/*
 * One snapshot, every VMCALL made on one CPU (preemption off), in this
 * order: HC_CPU_INFO, HC_EXIT_COUNT for all reasons, then for each reason
 * 0..MICROHV_HC_REASONS-1, HC_NESTED_STATS, HC_NESTED_LAST_EXIT, then
 * HC_VMX_FIELD_TRAPS for every encoding a field can have (width, type,
 * index; the "full" access type), keeping every field L1 touched at all.  L0
 * counts a VMCALL's exit before it answers, so between two snapshots the
 * VMCALL count (and the total) grows by exactly `vmcalls` of the
 * snapshots' own calls.
 */
struct microhv_hc_snapshot {
	unsigned long long cpu;	   /* L0's index of the CPU read (HC_CPU_INFO) */
	unsigned long long vmcalls;	   /* VMCALLs this snapshot made */
	unsigned long long exits_total; /* HC_EXIT_COUNT(cpu, all): L1's exits */
	unsigned long long exits[MICROHV_HC_REASONS]; /* by basic reason */
	unsigned long long nested_ok;	   /* HC_NESTED_STATS answered (nested on) */
	unsigned long long l2_entries, l2_exits, l2_reflected; /* HC_NESTED_STATS */
	unsigned long long last_sync_reads, last_vmreads, last_vmwrites; /* HC_NESTED_LAST_EXIT */
	unsigned long long nfields; /* field[] entries used */
	struct microhv_hc_field field[MICROHV_HC_FIELDS];
};

#define MICROHV_HC_SNAPSHOT _IOR('m', 0x68, struct microhv_hc_snapshot)

#endif
