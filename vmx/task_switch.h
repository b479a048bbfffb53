/*
 * task_switch.h - L1's hardware task switches, which always exit (SDM Vol.
 * 3C 26.4.2), emulated by L0 as the CPU performs them (SDM Vol. 3A 8.3).
 *
 * What is emulated, and what is not, is listed at the top of
 * vmx/task_switch.c and in docs/l0.md ("The exit handler").
 */
#ifndef MICROHV_VMX_TASK_SWITCH_H
#define MICROHV_VMX_TASK_SWITCH_H

#include "vcpu.h"

/* Exit qualification for task switches (SDM Vol. 3C table 28-2). */
#define TS_QUAL_SELECTOR(q) ((uint16_t)((q)&0xffff))
#define TS_QUAL_SOURCE(q) ((unsigned)(((q) >> 30) & 3))
#define TS_SOURCE_CALL 0
#define TS_SOURCE_IRET 1
#define TS_SOURCE_JMP 2
#define TS_SOURCE_GATE 3 /* a task gate in the IDT: IDT-vectoring information says which event */

/*
 * The 32-bit TSS (SDM Vol. 3A 8.2.1, figure 8-2): byte offsets of the
 * fields the switch reads or writes.  GPRs are EAX..EDI in architectural
 * order from TSS32_EAX, 4 bytes apart; segment selectors ES, CS, SS, DS,
 * FS, GS from TSS32_ES, 4 bytes apart (16 bits used, 16 reserved).
 */
#define TSS32_LINK 0x00
#define TSS32_CR3 0x1c
#define TSS32_EIP 0x20
#define TSS32_EFLAGS 0x24
#define TSS32_EAX 0x28
#define TSS32_ES 0x48
#define TSS32_LDT 0x60
#define TSS32_T 0x64 /* bit 0: debug trap on a switch to this task */
#define TSS32_SIZE 0x68
#define TSS32_MIN_LIMIT 0x67 /* SDM Vol. 3A 8.2.2: a smaller limit is #TS */

/* System-descriptor types (SDM Vol. 3A 3.5, table 3-2). */
#define DESC_TYPE_TSS16_AVAIL 0x1
#define DESC_TYPE_LDT 0x2
#define DESC_TYPE_TSS16_BUSY 0x3
#define DESC_TYPE_TSS32_AVAIL 0x9
#define DESC_TYPE_TSS32_BUSY 0xb
#define DESC_TYPE_TSS_BUSY_BIT 0x2

/*
 * Exit reason 9: the task switch the exit qualification names, done on
 * vmcs01 and L1's memory (through l0_l1_memory() and L1's paging); a
 * fault the switch raises is injected into L1 instead.  Never halts.
 */
void exit_task_switch(struct vcpu *v, struct guest_regs *r);

#endif
