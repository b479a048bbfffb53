/*
 * vmx_insn.h - the VMX instructions as inline functions (core only).
 *
 * Each returns the SDM's outcome (Vol. 3C 31.2 "Conventions"): VMsucceed,
 * VMfailInvalid (CF=1: no current VMCS) or VMfailValid (ZF=1: the reason is
 * in the current VMCS's VM-instruction error field).
 */
#ifndef MICROHV_VMX_INSN_H
#define MICROHV_VMX_INSN_H

#include <stdint.h>

enum vmx_result {
	VMX_SUCCEED = 0,
	VMX_FAIL_INVALID = 1,
	VMX_FAIL_VALID = 2,
};

#define VMX_RESULT_FROM_FLAGS(cf, zf) ((cf) ? VMX_FAIL_INVALID : (zf) ? VMX_FAIL_VALID : VMX_SUCCEED)

static inline enum vmx_result vmxon(uint64_t pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmxon %2; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(pa)
			 : "cc", "memory");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline void vmxoff(void)
{
	__asm__ volatile("vmxoff" : : : "cc", "memory");
}

static inline enum vmx_result vmclear(uint64_t pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmclear %2; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(pa)
			 : "cc", "memory");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result vmptrld(uint64_t pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmptrld %2; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(pa)
			 : "cc", "memory");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result vmread_checked(uint64_t field, uint64_t *value)
{
	uint8_t cf, zf;
	uint64_t v = 0;
	__asm__ volatile("vmread %3, %2; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf), "=rm"(v)
			 : "r"(field)
			 : "cc");
	*value = v;
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result vmwrite_checked(uint64_t field, uint64_t value)
{
	uint8_t cf, zf;
	__asm__ volatile("vmwrite %3, %2; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "r"(field), "rm"(value)
			 : "cc");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

/* INVEPT/INVVPID descriptors (SDM Vol. 3C 31.3). */
struct invept_desc {
	uint64_t eptp;
	uint64_t reserved;
};

struct invvpid_desc {
	uint64_t vpid;
	uint64_t linear_address;
};

#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2
#define INVVPID_ADDRESS 0
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT 2

static inline enum vmx_result invept(uint64_t type, uint64_t eptp)
{
	struct invept_desc d = { eptp, 0 };
	uint8_t cf, zf;
	__asm__ volatile("invept %2, %3; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result invvpid(uint64_t type, uint16_t vpid, uint64_t la)
{
	struct invvpid_desc d = { vpid, la };
	uint8_t cf, zf;
	__asm__ volatile("invvpid %2, %3; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

#endif
