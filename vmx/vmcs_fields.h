/*
 * vmcs_fields.h - THE table of VMCS fields (SDM Vol. 3C Appendix B).
 *
 * Every VMCS field microhv knows is one X() row: name, encoding, class, and
 * the feature that makes the field exist.
 * VMCS dumps, vmcs01 set-up checks, the software VMCS of the unit tests
 * and (with nested VMX) VMREAD/VMWRITE emulation, vmcs02 preparation,
 * the vmcs12 rebuild and the shadow-VMCS bitmaps all iterate this list;
 * no other file lists fields.  The width follows from the encoding
 * (bits 14:13, SDM Vol. 3C 25.11.2) and the class is checked against the
 * encoding's type bits (11:10) by tests/unit/test_vmcs_fields.c.
 * 64-bit fields are listed by their "full" encoding only; the "high"
 * alias (encoding | 1) is handled where accesses are decoded.
 */
#ifndef MICROHV_VMX_VMCS_FIELDS_H
#define MICROHV_VMX_VMCS_FIELDS_H

#include <stdint.h>

enum vmcs_class {
	VMCS_CLASS_CONTROL = 0,
	VMCS_CLASS_EXIT_INFO = 1, /* read-only data */
	VMCS_CLASS_GUEST = 2,
	VMCS_CLASS_HOST = 3,
};

/*
 * Which VMX feature makes a field exist (SDM Vol. 3C Appendix B notes, per
 * field: "exists only on processors that support the 1-setting of ...").
 * A field whose feature a CPU (or L1's virtual CPU) lacks is an
 * "unsupported VMCS component" there: VMREAD/VMWRITE fail with error 12.
 */
enum vmcs_feature {
	VMCS_FEAT_ALWAYS,
	VMCS_FEAT_VPID,		    /* secondary "enable VPID" */
	VMCS_FEAT_POSTED_INTR,	    /* pin-based "process posted interrupts" */
	VMCS_FEAT_VE,		    /* secondary "EPT-violation #VE" */
	VMCS_FEAT_VINTR_DELIVERY,   /* secondary "virtual-interrupt delivery" */
	VMCS_FEAT_PML,		    /* secondary "enable PML" */
	VMCS_FEAT_TPR_SHADOW,	    /* primary "use TPR shadow" */
	VMCS_FEAT_APIC_ACCESS,	    /* secondary "virtualize APIC accesses" */
	VMCS_FEAT_VMFUNC,	    /* secondary "enable VM functions" */
	VMCS_FEAT_EPT,		    /* secondary "enable EPT" */
	VMCS_FEAT_SHADOWING,	    /* secondary "VMCS shadowing" */
	VMCS_FEAT_XSAVES,	    /* secondary "enable XSAVES/XRSTORS" */
	VMCS_FEAT_TSC_SCALING,	    /* secondary "use TSC scaling" */
	VMCS_FEAT_PERF_GLOBAL_CTRL, /* "load IA32_PERF_GLOBAL_CTRL" (entry or exit) */
	VMCS_FEAT_PAT,		    /* "load/save IA32_PAT" (entry or exit) */
	VMCS_FEAT_EFER,		    /* "load/save IA32_EFER" (entry or exit) */
	VMCS_FEAT_BNDCFGS,	    /* "load IA32_BNDCFGS" / "clear IA32_BNDCFGS" */
	VMCS_FEAT_PREEMPTION_TIMER, /* pin-based "activate VMX-preemption timer" */
	VMCS_FEAT_PAUSE_LOOP,	    /* secondary "PAUSE-loop exiting" */
	/* The last: vmcs_features_present (vmx/controls.h) covers up to here. */
};

enum vmcs_width {
	VMCS_WIDTH_16 = 0,
	VMCS_WIDTH_64 = 1,
	VMCS_WIDTH_32 = 2,
	VMCS_WIDTH_NATURAL = 3,
};

#define VMCS_FIELDS(X)                                               \
	/* 16-bit control fields (B.1.1) */                          \
	X(VIRTUAL_PROCESSOR_ID, 0x0000, VMCS_CLASS_CONTROL, VMCS_FEAT_VPID)          \
	X(POSTED_INTR_NV, 0x0002, VMCS_CLASS_CONTROL, VMCS_FEAT_POSTED_INTR)                \
	X(EPTP_INDEX, 0x0004, VMCS_CLASS_CONTROL, VMCS_FEAT_VE)                    \
	/* 16-bit guest-state fields (B.1.2) */                      \
	X(GUEST_ES_SELECTOR, 0x0800, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_CS_SELECTOR, 0x0802, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_SS_SELECTOR, 0x0804, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_DS_SELECTOR, 0x0806, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_FS_SELECTOR, 0x0808, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_GS_SELECTOR, 0x080a, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_LDTR_SELECTOR, 0x080c, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)             \
	X(GUEST_TR_SELECTOR, 0x080e, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_INTR_STATUS, 0x0810, VMCS_CLASS_GUEST, VMCS_FEAT_VINTR_DELIVERY)               \
	X(GUEST_PML_INDEX, 0x0812, VMCS_CLASS_GUEST, VMCS_FEAT_PML)                 \
	/* 16-bit host-state fields (B.1.3) */                       \
	X(HOST_ES_SELECTOR, 0x0c00, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                 \
	X(HOST_CS_SELECTOR, 0x0c02, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                 \
	X(HOST_SS_SELECTOR, 0x0c04, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                 \
	X(HOST_DS_SELECTOR, 0x0c06, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                 \
	X(HOST_FS_SELECTOR, 0x0c08, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                 \
	X(HOST_GS_SELECTOR, 0x0c0a, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                 \
	X(HOST_TR_SELECTOR, 0x0c0c, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                 \
	/* 64-bit control fields (B.2.1) */                          \
	X(IO_BITMAP_A, 0x2000, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)                   \
	X(IO_BITMAP_B, 0x2002, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)                   \
	X(MSR_BITMAP, 0x2004, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)                    \
	X(VM_EXIT_MSR_STORE_ADDR, 0x2006, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)         \
	X(VM_EXIT_MSR_LOAD_ADDR, 0x2008, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)          \
	X(VM_ENTRY_MSR_LOAD_ADDR, 0x200a, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)         \
	X(EXECUTIVE_VMCS_POINTER, 0x200c, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)         \
	X(PML_ADDRESS, 0x200e, VMCS_CLASS_CONTROL, VMCS_FEAT_PML)                   \
	X(TSC_OFFSET, 0x2010, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)                    \
	X(VIRTUAL_APIC_PAGE_ADDR, 0x2012, VMCS_CLASS_CONTROL, VMCS_FEAT_TPR_SHADOW)         \
	X(APIC_ACCESS_ADDR, 0x2014, VMCS_CLASS_CONTROL, VMCS_FEAT_APIC_ACCESS)              \
	X(POSTED_INTR_DESC_ADDR, 0x2016, VMCS_CLASS_CONTROL, VMCS_FEAT_POSTED_INTR)          \
	X(VM_FUNCTION_CONTROL, 0x2018, VMCS_CLASS_CONTROL, VMCS_FEAT_VMFUNC)            \
	X(EPT_POINTER, 0x201a, VMCS_CLASS_CONTROL, VMCS_FEAT_EPT)                   \
	X(EOI_EXIT_BITMAP0, 0x201c, VMCS_CLASS_CONTROL, VMCS_FEAT_VINTR_DELIVERY)              \
	X(EOI_EXIT_BITMAP1, 0x201e, VMCS_CLASS_CONTROL, VMCS_FEAT_VINTR_DELIVERY)              \
	X(EOI_EXIT_BITMAP2, 0x2020, VMCS_CLASS_CONTROL, VMCS_FEAT_VINTR_DELIVERY)              \
	X(EOI_EXIT_BITMAP3, 0x2022, VMCS_CLASS_CONTROL, VMCS_FEAT_VINTR_DELIVERY)              \
	X(EPTP_LIST_ADDRESS, 0x2024, VMCS_CLASS_CONTROL, VMCS_FEAT_VMFUNC)             \
	X(VMREAD_BITMAP, 0x2026, VMCS_CLASS_CONTROL, VMCS_FEAT_SHADOWING)                 \
	X(VMWRITE_BITMAP, 0x2028, VMCS_CLASS_CONTROL, VMCS_FEAT_SHADOWING)                \
	X(VE_INFO_ADDRESS, 0x202a, VMCS_CLASS_CONTROL, VMCS_FEAT_VE)               \
	X(XSS_EXIT_BITMAP, 0x202c, VMCS_CLASS_CONTROL, VMCS_FEAT_XSAVES)               \
	X(TSC_MULTIPLIER, 0x2032, VMCS_CLASS_CONTROL, VMCS_FEAT_TSC_SCALING)                \
	/* 64-bit read-only data field (B.2.2) */                    \
	X(GUEST_PHYSICAL_ADDRESS, 0x2400, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_EPT)       \
	/* 64-bit guest-state fields (B.2.3) */                      \
	X(VMCS_LINK_POINTER, 0x2800, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_IA32_DEBUGCTL, 0x2802, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)             \
	X(GUEST_IA32_PAT, 0x2804, VMCS_CLASS_GUEST, VMCS_FEAT_PAT)                  \
	X(GUEST_IA32_EFER, 0x2806, VMCS_CLASS_GUEST, VMCS_FEAT_EFER)                 \
	X(GUEST_IA32_PERF_GLOBAL_CTRL, 0x2808, VMCS_CLASS_GUEST, VMCS_FEAT_PERF_GLOBAL_CTRL)     \
	X(GUEST_PDPTE0, 0x280a, VMCS_CLASS_GUEST, VMCS_FEAT_EPT)                    \
	X(GUEST_PDPTE1, 0x280c, VMCS_CLASS_GUEST, VMCS_FEAT_EPT)                    \
	X(GUEST_PDPTE2, 0x280e, VMCS_CLASS_GUEST, VMCS_FEAT_EPT)                    \
	X(GUEST_PDPTE3, 0x2810, VMCS_CLASS_GUEST, VMCS_FEAT_EPT)                    \
	X(GUEST_IA32_BNDCFGS, 0x2812, VMCS_CLASS_GUEST, VMCS_FEAT_BNDCFGS)              \
	/* 64-bit host-state fields (B.2.4) */                       \
	X(HOST_IA32_PAT, 0x2c00, VMCS_CLASS_HOST, VMCS_FEAT_PAT)                    \
	X(HOST_IA32_EFER, 0x2c02, VMCS_CLASS_HOST, VMCS_FEAT_EFER)                   \
	X(HOST_IA32_PERF_GLOBAL_CTRL, 0x2c04, VMCS_CLASS_HOST, VMCS_FEAT_PERF_GLOBAL_CTRL)       \
	/* 32-bit control fields (B.3.1) */                          \
	X(PIN_BASED_VM_EXEC_CONTROL, 0x4000, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)      \
	X(CPU_BASED_VM_EXEC_CONTROL, 0x4002, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)      \
	X(EXCEPTION_BITMAP, 0x4004, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)              \
	X(PAGE_FAULT_ERROR_CODE_MASK, 0x4006, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)     \
	X(PAGE_FAULT_ERROR_CODE_MATCH, 0x4008, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)    \
	X(CR3_TARGET_COUNT, 0x400a, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)              \
	X(VM_EXIT_CONTROLS, 0x400c, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)              \
	X(VM_EXIT_MSR_STORE_COUNT, 0x400e, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)        \
	X(VM_EXIT_MSR_LOAD_COUNT, 0x4010, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)         \
	X(VM_ENTRY_CONTROLS, 0x4012, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)             \
	X(VM_ENTRY_MSR_LOAD_COUNT, 0x4014, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)        \
	X(VM_ENTRY_INTR_INFO_FIELD, 0x4016, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)       \
	X(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x4018, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)  \
	X(VM_ENTRY_INSTRUCTION_LEN, 0x401a, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)       \
	X(TPR_THRESHOLD, 0x401c, VMCS_CLASS_CONTROL, VMCS_FEAT_TPR_SHADOW)                 \
	X(SECONDARY_VM_EXEC_CONTROL, 0x401e, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)      \
	X(PLE_GAP, 0x4020, VMCS_CLASS_CONTROL, VMCS_FEAT_PAUSE_LOOP)                       \
	X(PLE_WINDOW, 0x4022, VMCS_CLASS_CONTROL, VMCS_FEAT_PAUSE_LOOP)                    \
	/* 32-bit read-only data fields (B.3.2) */                   \
	X(VM_INSTRUCTION_ERROR, 0x4400, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)         \
	X(VM_EXIT_REASON, 0x4402, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)              \
	X(VM_EXIT_INTR_INFO, 0x4404, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)           \
	X(VM_EXIT_INTR_ERROR_CODE, 0x4406, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)      \
	X(IDT_VECTORING_INFO_FIELD, 0x4408, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)     \
	X(IDT_VECTORING_ERROR_CODE, 0x440a, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)     \
	X(VM_EXIT_INSTRUCTION_LEN, 0x440c, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)      \
	X(VMX_INSTRUCTION_INFO, 0x440e, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)         \
	/* 32-bit guest-state fields (B.3.3) */                      \
	X(GUEST_ES_LIMIT, 0x4800, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                  \
	X(GUEST_CS_LIMIT, 0x4802, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                  \
	X(GUEST_SS_LIMIT, 0x4804, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                  \
	X(GUEST_DS_LIMIT, 0x4806, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                  \
	X(GUEST_FS_LIMIT, 0x4808, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                  \
	X(GUEST_GS_LIMIT, 0x480a, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                  \
	X(GUEST_LDTR_LIMIT, 0x480c, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                \
	X(GUEST_TR_LIMIT, 0x480e, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                  \
	X(GUEST_GDTR_LIMIT, 0x4810, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                \
	X(GUEST_IDTR_LIMIT, 0x4812, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                \
	X(GUEST_ES_AR_BYTES, 0x4814, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_CS_AR_BYTES, 0x4816, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_SS_AR_BYTES, 0x4818, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_DS_AR_BYTES, 0x481a, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_FS_AR_BYTES, 0x481c, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_GS_AR_BYTES, 0x481e, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_LDTR_AR_BYTES, 0x4820, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)             \
	X(GUEST_TR_AR_BYTES, 0x4822, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(GUEST_INTERRUPTIBILITY_INFO, 0x4824, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)      \
	X(GUEST_ACTIVITY_STATE, 0x4826, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)            \
	X(GUEST_SMBASE, 0x4828, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                    \
	X(GUEST_SYSENTER_CS, 0x482a, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)               \
	X(VMX_PREEMPTION_TIMER_VALUE, 0x482e, VMCS_CLASS_GUEST, VMCS_FEAT_PREEMPTION_TIMER)       \
	/* 32-bit host-state field (B.3.4) */                        \
	X(HOST_IA32_SYSENTER_CS, 0x4c00, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)             \
	/* natural-width control fields (B.4.1) */                   \
	X(CR0_GUEST_HOST_MASK, 0x6000, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)            \
	X(CR4_GUEST_HOST_MASK, 0x6002, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)            \
	X(CR0_READ_SHADOW, 0x6004, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)               \
	X(CR4_READ_SHADOW, 0x6006, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)               \
	X(CR3_TARGET_VALUE0, 0x6008, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)             \
	X(CR3_TARGET_VALUE1, 0x600a, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)             \
	X(CR3_TARGET_VALUE2, 0x600c, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)             \
	X(CR3_TARGET_VALUE3, 0x600e, VMCS_CLASS_CONTROL, VMCS_FEAT_ALWAYS)             \
	/* natural-width read-only data fields (B.4.2) */            \
	X(EXIT_QUALIFICATION, 0x6400, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)           \
	X(IO_RCX, 0x6402, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)                      \
	X(IO_RSI, 0x6404, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)                      \
	X(IO_RDI, 0x6406, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)                      \
	X(IO_RIP, 0x6408, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)                      \
	X(GUEST_LINEAR_ADDRESS, 0x640a, VMCS_CLASS_EXIT_INFO, VMCS_FEAT_ALWAYS)         \
	/* natural-width guest-state fields (B.4.3) */               \
	X(GUEST_CR0, 0x6800, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                       \
	X(GUEST_CR3, 0x6802, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                       \
	X(GUEST_CR4, 0x6804, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                       \
	X(GUEST_ES_BASE, 0x6806, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                   \
	X(GUEST_CS_BASE, 0x6808, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                   \
	X(GUEST_SS_BASE, 0x680a, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                   \
	X(GUEST_DS_BASE, 0x680c, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                   \
	X(GUEST_FS_BASE, 0x680e, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                   \
	X(GUEST_GS_BASE, 0x6810, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                   \
	X(GUEST_LDTR_BASE, 0x6812, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                 \
	X(GUEST_TR_BASE, 0x6814, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                   \
	X(GUEST_GDTR_BASE, 0x6816, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                 \
	X(GUEST_IDTR_BASE, 0x6818, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                 \
	X(GUEST_DR7, 0x681a, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                       \
	X(GUEST_RSP, 0x681c, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                       \
	X(GUEST_RIP, 0x681e, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                       \
	X(GUEST_RFLAGS, 0x6820, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)                    \
	X(GUEST_PENDING_DBG_EXCEPTIONS, 0x6822, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)     \
	X(GUEST_SYSENTER_ESP, 0x6824, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)              \
	X(GUEST_SYSENTER_EIP, 0x6826, VMCS_CLASS_GUEST, VMCS_FEAT_ALWAYS)              \
	/* natural-width host-state fields (B.4.4) */                \
	X(HOST_CR0, 0x6c00, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                         \
	X(HOST_CR3, 0x6c02, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                         \
	X(HOST_CR4, 0x6c04, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                         \
	X(HOST_FS_BASE, 0x6c06, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                     \
	X(HOST_GS_BASE, 0x6c08, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                     \
	X(HOST_TR_BASE, 0x6c0a, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                     \
	X(HOST_GDTR_BASE, 0x6c0c, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                   \
	X(HOST_IDTR_BASE, 0x6c0e, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                   \
	X(HOST_IA32_SYSENTER_ESP, 0x6c10, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)            \
	X(HOST_IA32_SYSENTER_EIP, 0x6c12, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)            \
	X(HOST_RSP, 0x6c14, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)                         \
	X(HOST_RIP, 0x6c16, VMCS_CLASS_HOST, VMCS_FEAT_ALWAYS)

/* The encodings as constants: VMCS_GUEST_RIP == 0x681e, ... */
enum vmcs_field {
#define VMCS_ENUM_ENCODING(name, enc, cls, feat) VMCS_##name = enc,
	VMCS_FIELDS(VMCS_ENUM_ENCODING)
#undef VMCS_ENUM_ENCODING
};

/* Dense indices 0..VMCS_FIELD_COUNT-1, in table order. */
enum vmcs_field_index {
#define VMCS_ENUM_INDEX(name, enc, cls, feat) VMCS_IDX_##name,
	VMCS_FIELDS(VMCS_ENUM_INDEX)
#undef VMCS_ENUM_INDEX
	VMCS_FIELD_COUNT
};

struct vmcs_field_info {
	const char *name;
	uint32_t encoding;
	uint8_t cls;	 /* enum vmcs_class */
	uint8_t width;	 /* enum vmcs_width */
	uint8_t feature; /* enum vmcs_feature */
};

/* SDM Vol. 3C 25.11.2: bits 14:13 width, 11:10 type, bit 0 access type. */
#define VMCS_ENCODING_WIDTH(enc) (((enc) >> 13) & 3)
#define VMCS_ENCODING_TYPE(enc) (((enc) >> 10) & 3)
#define VMCS_ENCODING_HIGH(enc) ((enc) & 1)

extern const struct vmcs_field_info vmcs_field_table[VMCS_FIELD_COUNT];

/* The bits a field of this width holds (natural width: 64 in 64-bit mode). */
uint64_t vmcs_width_mask(unsigned width);

/* The row of an encoding (a "high" alias maps to its field), or NULL. */
const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding);

#endif
