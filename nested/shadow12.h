/*
 * shadow12.h - "VMCS shadowing" offered to L1 (SDM Vol. 3C 25.10): L1
 * links a shadow VMCS to vmcs12 (the VMCS link pointer) with VMREAD and
 * VMWRITE bitmaps; a VMREAD/VMWRITE of L2's whose bitmap bit is 0 does
 * not exit to L1 but reads or writes the shadow VMCS.
 *
 * vmcs02 never has "VMCS shadowing" (prepare02.c): every VMREAD/VMWRITE
 * of L2's exits to L0, which decides as the CPU would have for L1
 * (SDM 31.3 VMREAD/VMWRITE, "in VMX non-root operation"): the exit is
 * L1's when bits 63:15 of the field encoding are not all 0 or the
 * encoding's bit (14:0) in the bitmap is 1 - in L0's copy of L1's bitmap
 * taken at the entry, never L1's memory read again at the exit
 * (reflect.h).  Otherwise L0 serves it here: the shadow VMCS is a vmcs12
 * region (vmcs12.h) in L1's memory, read or written one field at a time.
 */
#ifndef MICROHV_NESTED_SHADOW12_H
#define MICROHV_NESTED_SHADOW12_H

#include "nested/entry_checks.h"
#include "nested/nested.h"
#include "nested/vmcs12.h"
#include "vmx/l1_memory.h"

#include <stdbool.h>
#include <stdint.h>

#define VMCS_SHADOW_INDICATOR 0x80000000u /* bit 31 of a VMCS region's revision word */
#define SHADOW_BITMAP_SIZE 4096

/* "VMCS shadowing" in vmcs12, secondary controls activated (SDM 25.6.2). */
bool nested_shadowing_enabled(const struct vmcs12 *v12);

/*
 * SDM Vol. 3C 27.3.1.5, the checks on a VMCS link pointer other than
 * FFFFFFFF_FFFFFFFFH that read memory, after the guest-state checks
 * (nested_check_guest_state made the alignment and width ones): the 4
 * bytes at it hold L1's VMCS revision in bits 30:0 and the setting of
 * "VMCS shadowing" in bit 31, and (L1 is never in SMM) it is not the
 * current-VMCS pointer.  L0 reads the word once, as L1's memory: an
 * address that is not L1's fails the check (logged).  Exit reason 33,
 * qualification 4 (SDM 27.8).
 */
struct nested_entry_check nested_check_link_pointer(const struct vmcs12 *v12,
						    const struct vmx_caps *l1_caps,
						    const struct l1_memory *mem,
						    uint64_t current_vmptr);

/*
 * At the entry: L0's copies of L1's VMREAD and VMWRITE bitmaps (one page
 * each) when vmcs12 has "VMCS shadowing"; a page L0 cannot read as L1's
 * memory is all ones there (every access exits to L1, logged).  Without
 * shadowing the copies are not used.
 */
void nested_copy_shadow_bitmaps(const struct vmcs12 *v12, const struct l1_memory *mem,
				uint8_t *vmread_copy, uint8_t *vmwrite_copy);

/*
 * L2's VMREAD or VMWRITE (reason) that does not exit to L1, vmcs02
 * current: SDM Vol. 3C 31.3 from "ELSIF CPL > 0": #GP(0) into L2;
 * VMfailInvalid when the link pointer is FFFFFFFF_FFFFFFFFH; VMfailValid
 * 12 for a field not offered to L1, 13 for a VMWRITE to an exit-
 * information field without IA32_VMX_MISC[29] (the error number in
 * vmcs12, the current VMCS); the memory operand's faults (through L2's
 * paging, its guest-physical memory l2_mem); else the field of the shadow
 * VMCS read or written with vmcs12's widths and VMsucceed.  RIP advances
 * except on a fault.
 */
void nested_shadow_emulate(struct nested_cpu *n, const struct vmx_caps *l1_caps,
			   const struct l1_memory *l1_mem, const struct l1_memory *l2_mem,
			   struct guest_regs *r, uint32_t reason);

#endif
