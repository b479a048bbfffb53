/*
 * vmcs_hw.c - vmcs_read/vmcs_write on the CPU's current VMCS (inline in
 * vmcs.h for the core; their counters and failure report here).
 *
 * A failing VMREAD/VMWRITE is a bug in L0 (every field we touch is checked
 * against the CPU's capabilities first), so it is logged with the field's
 * name and the VM-instruction error; the read then returns 0.
 */
#include "vmcs.h"

#include "drivers/serial/log.h"
#include "vmx_insn.h"
#include "vmx_names.h"

void vmcs_hw_report(const char *op, uint32_t field, enum vmx_result r)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(field);
	uint64_t err = 0;
	if (r == VMX_FAIL_VALID)
		vmread_checked(VMCS_VM_INSTRUCTION_ERROR, &err);
	log_error("%s of VMCS field %s (0x%x) failed: %s%s", op, f ? f->name : "?", field,
		  r == VMX_FAIL_INVALID ? "no current VMCS" : "VM-instruction error: ",
		  r == VMX_FAIL_INVALID ? "" : vmx_instruction_error_name((uint32_t)err));
}

uint64_t vmcs_hw_reads, vmcs_hw_writes;

void vmcs_access_counts(uint64_t *reads, uint64_t *writes)
{
	*reads = vmcs_hw_reads;
	*writes = vmcs_hw_writes;
}


bool vmcs_write_checked(uint32_t field, uint64_t value)
{
	vmcs_hw_writes++;
	return vmwrite_checked(field, value) == VMX_SUCCEED;
}

bool vmcs_read_checked(uint32_t field, uint64_t *value)
{
	return vmread_checked(field, value) == VMX_SUCCEED;
}
