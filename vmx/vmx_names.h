/*
 * vmx_names.h - names for VM-instruction error numbers and exit reasons,
 * so that every diagnostic on the serial line says what a number means.
 */
#ifndef MICROHV_VMX_NAMES_H
#define MICROHV_VMX_NAMES_H

#include <stdint.h>

/* SDM Vol. 3C 31.4 "VM Instruction Error Numbers"; "reserved" if none. */
const char *vmx_instruction_error_name(uint32_t error);

/* SDM Vol. 3C Appendix C, by basic exit reason; "unknown" if none. */
const char *vmx_exit_reason_name(uint32_t basic_reason);

#endif
