/*
 * vmx_arch.h - architectural VMX constants named as in the SDM.
 * Capability-MSR layouts: SDM Vol. 3D Appendix A.  Control bits: SDM Vol. 3C
 * 25.6 (VM-execution), 25.7 (VM-exit), 25.8 (VM-entry control fields).
 */
#ifndef MICROHV_VMX_ARCH_H
#define MICROHV_VMX_ARCH_H

/* CPUID.1:ECX.VMX[bit 5] (SDM Vol. 3C 24.6 "Discovering support for VMX"). */
#define CPUID_1_ECX_VMX (1u << 5)
/* CPUID.80000001H:EDX.Page1GB[bit 26]. */
#define CPUID_80000001_EDX_PAGE1GB (1u << 26)

/* IA32_VMX_BASIC (SDM Vol. 3D A.1). */
#define VMX_BASIC_REVISION_MASK 0x7fffffffull
#define VMX_BASIC_VMCS_SIZE_SHIFT 32
#define VMX_BASIC_VMCS_SIZE_MASK 0x1fffull
#define VMX_BASIC_PHYS_32BIT (1ull << 48)
#define VMX_BASIC_DUAL_MONITOR (1ull << 49)
#define VMX_BASIC_MEMTYPE_SHIFT 50
#define VMX_BASIC_MEMTYPE_MASK 0xfull
#define VMX_BASIC_INOUT_INFO (1ull << 54)
#define VMX_BASIC_TRUE_CTLS (1ull << 55)

/* IA32_VMX_MISC[4:0] (SDM Vol. 3D A.6): the preemption timer counts per 2^X TSC cycles. */
#define VMX_MISC_TIMER_RATE_MASK 0x1full
#define VMX_MEMTYPE_UC 0
#define VMX_MEMTYPE_WB 6

/* Pin-based VM-execution controls (SDM Vol. 3C 25.6.1). */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)
#define PIN_POSTED_INTERRUPTS (1u << 7)

/* Primary processor-based VM-execution controls (SDM Vol. 3C 25.6.2). */
#define CPU_ACTIVATE_SECONDARY (1u << 31)

/* Secondary processor-based VM-execution controls (SDM Vol. 3C 25.6.2). */
#define CPU2_ENABLE_EPT (1u << 1)
#define CPU2_ENABLE_VPID (1u << 5)
#define CPU2_UNRESTRICTED_GUEST (1u << 7)
#define CPU2_ENABLE_VMFUNC (1u << 13)
#define CPU2_VMCS_SHADOWING (1u << 14)
#define CPU2_ENABLE_PML (1u << 17)

/* IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D A.10). */
#define EPT_CAP_EXECUTE_ONLY (1ull << 0)
#define EPT_CAP_WALK_4 (1ull << 6)
#define EPT_CAP_WALK_5 (1ull << 7)
#define EPT_CAP_MEMTYPE_UC (1ull << 8)
#define EPT_CAP_MEMTYPE_WB (1ull << 14)
#define EPT_CAP_PAGE_2M (1ull << 16)
#define EPT_CAP_PAGE_1G (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_ACCESSED_DIRTY (1ull << 21)
#define EPT_CAP_ADVANCED_INFO (1ull << 22) /* EPT-violation qualification bits 11:9 */
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)
#define VPID_CAP_INVVPID (1ull << 32)
#define VPID_CAP_INVVPID_ADDRESS (1ull << 40)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define VPID_CAP_INVVPID_ALL (1ull << 42)
#define VPID_CAP_INVVPID_SINGLE_GLOBALS (1ull << 43)

/*
 * VM-function controls (SDM Vol. 3C 25.6.14) and IA32_VMX_VMFUNC, their
 * allowed-1 settings (Vol. 3D A.11): function 0 is EPTP switching, whose
 * EPTP list is one 4-KiB page of 512 EPTPs.
 */
#define VMFUNC_EPTP_SWITCHING (1ull << 0)
#define VMFUNC_EPTP_LIST_ENTRIES 512u

/*
 * EPT paging-structure entries (SDM Vol. 3C 29.3.2, the entry-format
 * tables): read/write/execute in bits 2:0 (an entry with all three clear is
 * not present), in a leaf the memory type in bits 5:3 and "ignore PAT" in
 * bit 6; bit 7 makes a PDPTE a 1 GiB leaf and a PDE a 2 MiB leaf; accessed
 * bit 8, dirty bit 9 (leaves), user-mode execute bit 10 (mode-based execute
 * control only).  The physical address is in bits 51:12.
 */
#define EPT_READ (1ull << 0)
#define EPT_WRITE (1ull << 1)
#define EPT_EXEC (1ull << 2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_MEMTYPE_MASK (7ull << EPT_MEMTYPE_SHIFT)
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_LEAF (1ull << 7)
#define EPT_ACCESSED (1ull << 8)
#define EPT_DIRTY (1ull << 9)
#define EPT_USER_EXEC (1ull << 10)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

/*
 * The EPT pointer (SDM Vol. 3C 25.6.11): paging-structure memory type in
 * bits 2:0 (0 UC, 6 WB), page-walk length minus one in bits 5:3, enable
 * accessed/dirty flags bit 6, PML4 address in bits N-1:12.
 */
#define EPTP_MEMTYPE_MASK 7ull
#define EPTP_WALK_LENGTH_SHIFT 3
#define EPTP_WALK_LENGTH_4 (3ull << EPTP_WALK_LENGTH_SHIFT)
#define EPTP_WALK_LENGTH_5 (4ull << EPTP_WALK_LENGTH_SHIFT)
#define EPTP_AD_ENABLE (1ull << 6)

#endif
