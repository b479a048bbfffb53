/*
 * reflect.c - the reflect decision (reflect.h), exit reason by exit reason.
 */
#include "reflect.h"

#include "vmx/msr_policy.h"

#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#define F(name) VMCS12_FIELD(v12, name)

static bool proc(const struct vmcs12 *v12, uint32_t bit)
{
	return F(CPU_BASED_VM_EXEC_CONTROL) & bit;
}

static bool proc2(const struct vmcs12 *v12, uint32_t bit)
{
	/* SDM 25.6.2: secondary controls count only when activated. */
	return proc(v12, CPU_ACTIVATE_SECONDARY) && (F(SECONDARY_VM_EXEC_CONTROL) & bit);
}

static bool bit_set(const uint8_t *bitmap, uint32_t bit)
{
	return bitmap[bit / 8] & (1u << (bit % 8));
}

/*
 * SDM 26.1.3 (table): an exception exits if its bit in the exception
 * bitmap is 1; for #PF the bit is inverted when (PFEC & mask) != match.
 * NMIs exit with "NMI exiting".
 */
static bool exception_exits(const struct vmcs12 *v12, const struct l2_exit *e)
{
	unsigned vector = e->intr_info & INTR_INFO_VECTOR_MASK;
	if ((e->intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI)
		return F(PIN_BASED_VM_EXEC_CONTROL) & PIN_NMI_EXITING;
	bool bit = (F(EXCEPTION_BITMAP) >> vector) & 1;
	if (vector == VEC_PF) {
		bool match = (e->intr_error & F(PAGE_FAULT_ERROR_CODE_MASK)) ==
			     F(PAGE_FAULT_ERROR_CODE_MATCH);
		return match ? bit : !bit;
	}
	return bit;
}

/*
 * SDM 26.1.3 "MOV to CR0/CR4": exits if any bit set in the guest/host
 * mask differs between the source value and the read shadow.  CLTS:
 * mask.TS = 1 and shadow.TS = 1.  LMSW: a masked bit among 3:1 changes,
 * or mask.PE = 1, shadow.PE = 0 and the source sets PE.
 * MOV to CR3: CR3-load exiting and the value is none of the first
 * CR3-target-count target values; from CR3: CR3-store exiting; CR8 by
 * CR8-load/store exiting.
 */
static bool cr_access_exits(const struct vmcs12 *v12, const struct l2_exit *e)
{
	unsigned cr = CR_QUAL_NUMBER(e->qualification);
	unsigned access = CR_QUAL_ACCESS(e->qualification);
	if (access == CR_ACCESS_CLTS)
		return (F(CR0_GUEST_HOST_MASK) & (1u << 3)) && (F(CR0_READ_SHADOW) & (1u << 3));
	if (access == CR_ACCESS_LMSW) {
		uint64_t mask = F(CR0_GUEST_HOST_MASK), shadow = F(CR0_READ_SHADOW);
		uint64_t src = CR_QUAL_LMSW_SOURCE(e->qualification);
		if (mask & (src ^ shadow) & 0xe)
			return true;
		return (mask & 1) && !(shadow & 1) && (src & 1);
	}
	bool to = access == CR_ACCESS_MOV_TO_CR;
	switch (cr) {
	case 0:
		return to && (F(CR0_GUEST_HOST_MASK) & (e->gpr_value ^ F(CR0_READ_SHADOW)));
	case 4:
		return to && (F(CR4_GUEST_HOST_MASK) & (e->gpr_value ^ F(CR4_READ_SHADOW)));
	case 3:
		if (!to)
			return proc(v12, CPU_CR3_STORE_EXITING);
		if (!proc(v12, CPU_CR3_LOAD_EXITING))
			return false;
		for (uint64_t i = 0; i < F(CR3_TARGET_COUNT) && i < 4; i++)
			if (vmcs12_get(v12, VMCS_CR3_TARGET_VALUE0 + 2 * (uint32_t)i) == e->gpr_value)
				return false;
		return true;
	case 8:
		return proc(v12, to ? CPU_CR8_LOAD_EXITING : CPU_CR8_STORE_EXITING);
	}
	return true; /* no other CR access exits from L2: let L1 see it */
}

/*
 * SDM 25.6.4: with I/O bitmaps, an access exits if the bit of any of its
 * ports is set, or if it wraps past 0xffff; A covers 0-0x7fff, B the rest.
 * ab is 8 KiB: A then B.
 */
static bool io_bitmaps_exit(const uint8_t *a, const uint8_t *b, uint32_t port, uint32_t size)
{
	if (port + size - 1 > 0xffff)
		return true;
	for (uint32_t p = port; p < port + size; p++)
		if (bit_set(p < 0x8000 ? a : b, p & 0x7fff))
			return true;
	return false;
}

/*
 * Without L0 ports, vmcs02 has L1's own controls and bitmap addresses: the
 * CPU exited for L1.  With them, the exit is L0's only if L0's bitmaps
 * asked for it and L1's copy from the entry did not.
 */
static bool io_exits(const struct vmcs12 *v12, const struct l2_exit *e,
		     const struct nested_bitmaps *bm)
{
	if (!bm->io0_a)
		return true;
	uint32_t port = (uint32_t)(e->qualification >> 16) & 0xffff;
	uint32_t size = (uint32_t)(e->qualification & 7) + 1;
	bool l1_wants;
	if (proc(v12, CPU_USE_IO_BITMAPS))
		l1_wants = io_bitmaps_exit(bm->io12, bm->io12 + 4096, port, size);
	else
		l1_wants = proc(v12, CPU_UNCOND_IO_EXITING);
	return l1_wants || !io_bitmaps_exit(bm->io0_a, bm->io0_b, port, size);
}

/*
 * SDM 25.6.9: MSR bitmaps; MSRs outside both ranges always exit.  The
 * exit is L0's only if L0's bitmap asked for it and L1's copy did not.
 */
static bool msr_exits(const struct vmcs12 *v12, const struct l2_exit *e,
		      const struct nested_bitmaps *bm, bool write)
{
	long bit = msr_bitmap_bit(e->msr, write);
	if (!proc(v12, CPU_USE_MSR_BITMAPS) || bit < 0)
		return true;
	return bit_set(bm->msr12, (uint32_t)bit) || !bit_set(bm->msr0, (uint32_t)bit);
}

/*
 * SDM 31.3 VMREAD/VMWRITE in VMX non-root operation: a VM exit unless
 * "VMCS shadowing" is 1, bits 63:15 of the field operand are 0 and the
 * bit for its bits 14:0 in the VMREAD (VMWRITE) bitmap is 0 - L0's copy
 * of the bitmap (nested/shadow12.h).  L0 serves the others.
 */
static bool shadow_access_exits(const struct vmcs12 *v12, const uint8_t *bitmap,
				uint64_t field)
{
	if (!proc2(v12, CPU2_VMCS_SHADOWING) || !bitmap || (field >> 15))
		return true;
	return bit_set(bitmap, (uint32_t)field);
}

enum nested_owner nested_exit_owner(const struct vmcs12 *v12, const struct l2_exit *e,
				    const struct nested_bitmaps *bm)
{
	bool l1;
	switch (e->reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		l1 = exception_exits(v12, e);
		break;
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		l1 = F(PIN_BASED_VM_EXEC_CONTROL) & PIN_EXTERNAL_INTERRUPT_EXITING;
		break;
	case EXIT_REASON_INTERRUPT_WINDOW:
		l1 = proc(v12, CPU_INTR_WINDOW_EXITING);
		break;
	case EXIT_REASON_NMI_WINDOW:
		l1 = proc(v12, CPU_NMI_WINDOW_EXITING);
		break;
	/* Exits no control can suppress (SDM 26.1.2, 26.2). */
	case EXIT_REASON_TRIPLE_FAULT:
	case EXIT_REASON_INIT_SIGNAL:
	case EXIT_REASON_SIPI:
	case EXIT_REASON_TASK_SWITCH:
	case EXIT_REASON_CPUID:
	case EXIT_REASON_GETSEC:
	case EXIT_REASON_INVD:
	case EXIT_REASON_RSM:
	case EXIT_REASON_VMCALL:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMXOFF:
	case EXIT_REASON_VMXON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
	case EXIT_REASON_XSETBV:
	case EXIT_REASON_INVALID_GUEST_STATE:
	case EXIT_REASON_MSR_LOADING:
		l1 = true;
		break;
	case EXIT_REASON_VMREAD:
		l1 = shadow_access_exits(v12, bm->vmread12, e->vmcs_field);
		break;
	case EXIT_REASON_VMWRITE:
		l1 = shadow_access_exits(v12, bm->vmwrite12, e->vmcs_field);
		break;
	case EXIT_REASON_HLT:
		l1 = proc(v12, CPU_HLT_EXITING);
		break;
	case EXIT_REASON_INVLPG:
		l1 = proc(v12, CPU_INVLPG_EXITING);
		break;
	case EXIT_REASON_RDPMC:
		l1 = proc(v12, CPU_RDPMC_EXITING);
		break;
	case EXIT_REASON_RDTSC:
		l1 = proc(v12, CPU_RDTSC_EXITING);
		break;
	case EXIT_REASON_RDTSCP:
		/* SDM 26.1.3: RDTSCP exits with "RDTSC exiting" and "enable RDTSCP". */
		l1 = proc(v12, CPU_RDTSC_EXITING) && proc2(v12, CPU2_ENABLE_RDTSCP);
		break;
	case EXIT_REASON_INVPCID:
		l1 = proc(v12, CPU_INVLPG_EXITING) && proc2(v12, CPU2_ENABLE_INVPCID);
		break;
	case EXIT_REASON_CR_ACCESS:
		l1 = cr_access_exits(v12, e);
		break;
	case EXIT_REASON_DR_ACCESS:
		l1 = proc(v12, CPU_MOV_DR_EXITING);
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		l1 = io_exits(v12, e, bm);
		break;
	case EXIT_REASON_MSR_READ:
		l1 = msr_exits(v12, e, bm, false);
		break;
	case EXIT_REASON_MSR_WRITE:
		l1 = msr_exits(v12, e, bm, true);
		break;
	/*
	 * L1's CPU has no MONITOR/MWAIT (vmx/cpuid_policy.h): their #UD has
	 * priority over L1's MONITOR/MWAIT exiting (SDM Vol. 3C 26.1.1), so
	 * the exit is L0's, which raises the #UD (an exception exit to L1
	 * by vmcs12's exception bitmap, nested/vmexit.c).
	 */
	case EXIT_REASON_MWAIT:
	case EXIT_REASON_MONITOR:
		l1 = false;
		break;
	/*
	 * SDM 26.1.3 PAUSE: "PAUSE exiting" exits at any CPL; with it 0,
	 * "PAUSE-loop exiting" exits at CPL 0 once a loop outlasts PLE_WINDOW.
	 * The CPU applied the CPL and timing rules to L1's own controls, gap
	 * and window (vmcs02 has no PAUSE control of L0's): either control
	 * set in vmcs12 makes the exit L1's.
	 */
	case EXIT_REASON_PAUSE:
		l1 = proc(v12, CPU_PAUSE_EXITING) || proc2(v12, CPU2_PAUSE_LOOP_EXITING);
		break;
	/* SDM 26.1.3: RDRAND and RDSEED exit with their secondary controls. */
	case EXIT_REASON_RDRAND:
		l1 = proc2(v12, CPU2_RDRAND_EXITING);
		break;
	case EXIT_REASON_RDSEED:
		l1 = proc2(v12, CPU2_RDSEED_EXITING);
		break;
	/*
	 * SDM 29.1.2: with "use TPR shadow" (and virtual-interrupt delivery
	 * 0, not offered) a write of VTPR below the threshold exits after
	 * the instruction.  vmcs02 has L1's control, page and threshold
	 * only: the exit is L1's.
	 */
	case EXIT_REASON_TPR_BELOW_THRESHOLD:
		l1 = proc(v12, CPU_USE_TPR_SHADOW);
		break;
	/*
	 * SDM 29.4: an access to the APIC-access page under "virtualize APIC
	 * accesses", which only L1 sets in vmcs02 (nested/apic_virt.h).
	 */
	case EXIT_REASON_APIC_ACCESS:
		l1 = proc2(v12, CPU2_VIRTUALIZE_APIC_ACCESSES);
		break;
	case EXIT_REASON_GDTR_IDTR:
	case EXIT_REASON_LDTR_TR:
		l1 = proc2(v12, CPU2_DESC_TABLE_EXITING);
		break;
	case EXIT_REASON_WBINVD:
		l1 = proc2(v12, CPU2_WBINVD_EXITING);
		break;
	case EXIT_REASON_XSAVES:
	case EXIT_REASON_XRSTORS:
		/* L0 puts no bits of its own in the XSS-exiting bitmap. */
		l1 = proc2(v12, CPU2_ENABLE_XSAVES);
		break;
	case EXIT_REASON_PREEMPTION_TIMER:
		/*
		 * SDM 26.5.1, 26.2: L1's timer exits when it counts down to 0.
		 * vmcs02's one timer is also L0's console tick: a timer exit
		 * before L1's count ran out is L0's alone.
		 */
		l1 = (F(PIN_BASED_VM_EXEC_CONTROL) & PIN_PREEMPTION_TIMER) && e->l1_timer_expired;
		break;
	/*
	 * SDM 26.5.6.2: vmcs02 enables no VM function, so every VMFUNC of
	 * L2's below EAX 64 exits; L0 decides on vmcs12 whether L1 would
	 * have had the exit or EPTP switching completes (nested/vmfunc.h).
	 */
	case EXIT_REASON_VMFUNC:
		l1 = false;
		break;
	default:
		/*
		 * EPT violations and misconfigurations (EPT01 is L0's), a
		 * machine check during VM entry (SDM 27.9), and exits of
		 * features L1 is not offered (APIC-register virtualization,
		 * virtual-interrupt delivery, PML, MTF...): L0's own.
		 */
		l1 = false;
	}
	return l1 ? NESTED_L1 : NESTED_L0;
}
