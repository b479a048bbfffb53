/*
 * vmcs_dump.h - the current VMCS on the serial line, field by field, in
 * the field table's order; fields the CPU does not support are skipped.
 */
#ifndef MICROHV_VMX_VMCS_DUMP_H
#define MICROHV_VMX_VMCS_DUMP_H

#include "drivers/serial/log.h"
#include "vmcs_fields.h"

/* Dumps every field of the given classes (bit (1 << class)) at level. */
void vmcs_dump(enum log_level level, unsigned class_mask);

#define VMCS_DUMP_ALL 0xfu
#define VMCS_DUMP_GUEST (1u << VMCS_CLASS_GUEST)

#endif
