/*
 * apic_virt.h - "virtualize APIC accesses" and "virtualize x2APIC mode"
 * for L2 (SDM Vol. 3C 29.4, 29.5): L0 hands both to the CPU in vmcs02 and
 * only makes sure that what the CPU does there is what L1's CPU would do.
 *
 * The APIC-access page.  The CPU compares the physical address an access
 * of L2's ends at - after EPT, which vmcs02 always has - with vmcs02's
 * APIC-access address (29.4, 29.4.6.1).  Without L1's EPT, vmcs02 runs L2
 * on EPT01, L0's identity map of L1's memory; with it, on EPT02, whose
 * leaves map L2's pages to the L1 physical pages EPT12 names.  Either way
 * the CPU's physical address is the L1 physical address L1's own CPU
 * would compare, so vmcs02 takes vmcs12's address unchanged
 * (nested/prepare02.c), and the APIC-access exits (reason 44) the CPU
 * makes are exactly L1's, reflected with the CPU's qualification,
 * IDT-vectoring information and instruction length (nested/reflect.c).
 * L0 itself never sets the control, so every such exit is L1's.
 *
 * An EPT violation has priority over the APIC-access exit of the same
 * access (29.4.1).  Under L1's EPT an EPT02 violation there is EPT12's
 * (L1's exit, as on the CPU) or EPT01's; so L0's rule, checked at
 * VMLAUNCH/VMRESUME after the SDM's (nested_check_apic_access): the page
 * must be one EPT01 grants L1 to read, write and execute - L1's ordinary
 * memory.  Not L0's memory, nor a page beyond EPT01 (nothing L0 could let
 * the CPU compare against), nor L1's xAPIC page, which EPT01 maps
 * read-only so that L0 sees INIT and SIPI (vmx/apic_access.h): there the
 * write of L2's that L1's CPU would turn into an APIC-access exit, or
 * virtualize to VTPR, would be L0's EPT01 fault first.  Such an address
 * fails the entry with VMfailValid 7 and a log line, where the CPU would
 * take any aligned address within the width (docs/nested.md).
 *
 * Virtualize x2APIC mode.  Without APIC-register virtualization and
 * virtual-interrupt delivery (not offered), only RDMSR and WRMSR of 808H
 * (TPR) that do not exit are virtualized, to VTPR on L1's virtual-APIC
 * page (29.5); the other x2APIC MSRs operate normally.  L0's MSR table
 * passes 808H through for L1 both ways (vmx/msr_policy.c), so vmcs02's
 * merged bitmap (nested/msr_merge.h) lets it through exactly where L1's
 * does, and the other x2APIC MSRs behave as without the control: to
 * L1's own APIC as L0 passes them, or to L0's handlers (the ICR).
 */
#ifndef MICROHV_NESTED_APIC_VIRT_H
#define MICROHV_NESTED_APIC_VIRT_H

#include "nested/entry_checks.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * EPT01 at an L1 physical address: false where it maps nothing, else
 * the page's rights (EPT_READ | EPT_WRITE | EPT_EXEC), memory type and
 * leaf level (l0_ept01_lookup in the core, vmx/l1_memory.h).
 */
typedef bool (*nested_ept01_lookup_fn)(uint64_t gpa1, unsigned *rights, unsigned *memtype,
				       unsigned *level);

/*
 * L0's rule on vmcs12's APIC-access address (above), after the SDM's
 * checks of 27.2.1.1 (nested/entry_checks.c): NENTRY_VMFAIL_CONTROL
 * where "virtualize APIC accesses" is 1 (and activated) and EPT01 does
 * not grant the page read, write and execute; NENTRY_PASS otherwise.
 */
struct nested_entry_check nested_check_apic_access(const struct vmcs12 *v,
						   nested_ept01_lookup_fn ept01);

#endif
