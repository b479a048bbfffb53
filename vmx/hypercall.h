/*
 * hypercall.h - the VMCALL ABI between L1 and L0 (docs/hypercalls.md).
 *
 * L1 at CPL 0 executes VMCALL with the function number in RAX and
 * arguments in RBX, RCX, RDX.  L0 returns a status in RAX (0 or a negative
 * HV_E* value) and results in RBX, RCX, RDX, and L1 continues after the
 * VMCALL.  Registers not named are preserved.
 */
#ifndef MICROHV_VMX_HYPERCALL_H
#define MICROHV_VMX_HYPERCALL_H

#define HC_VERSION 0	   /* -> RBX version code, RCX ABI version, RDX CPUs under L0 */
#define HC_EXIT_COUNT 1	   /* RBX cpu (~0 = caller), RCX reason (~0 = all) -> RBX count */
#define HC_SET_LOGLEVEL 2  /* RBX level 0..3 -> RBX previous level */
#define HC_L0_RANGE 3	   /* -> RBX base, RCX size of L0's memory (test hook) */
#define HC_CPU_INFO 4	   /* -> RBX caller's CPU index, RCX its APIC ID, RDX CPUs */
#define HC_NESTED_STATS 5  /* RBX cpu (~0 = caller) -> RBX L2 entries, RCX exits from L2, RDX reflected */
#define HC_NESTED_LAST_EXIT 6 /* RBX cpu -> RBX vmcs02 fields read by the rebuild, RCX VMREADs, RDX VMWRITEs */
#define HC_L0_SELF 7	   /* -> RBX L0's GS base in root, RCX HC_SELF_* bits, RDX L0-memory refusals */
#define HC_VMX_FIELD_TRAPS 8 /* RBX cpu, RCX field encoding -> RBX L1's VMREADs, RCX VMWRITEs L0 took */
#define HC_NESTED_LAST_ENTRY 9 /* RBX cpu -> RBX VMREADs, RCX VMWRITEs of L1's last entry to L2, RDX fields copied back from the shadow */

/* HC_L0_SELF's RCX: each bit set when that part of L0's per-CPU state agrees. */
#define HC_SELF_GS_IS_FRAME 1ull     /* GS base = the vcpu of the exit frame (HOST_RSP's) */
#define HC_SELF_FRAME_IS_LAUNCHED 2ull /* that vcpu = the one L0 launched this CPU with */
#define HC_SELF_HOST_GS 4ull	     /* the current VMCS's HOST_GS_BASE = the GS base */
#define HC_SELF_INTACT (HC_SELF_GS_IS_FRAME | HC_SELF_FRAME_IS_LAUNCHED | HC_SELF_HOST_GS)

#define HV_OK 0
#define HV_ENOSYS (-1ll) /* unknown function */
#define HV_EINVAL (-2ll) /* bad argument */
#define HV_EPERM (-3ll)	 /* VMCALL from CPL > 0 */

#define HC_ANY (~0ull)

#endif
