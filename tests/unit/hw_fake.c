/*
 * hw_fake.c - fakes of vmx/hw_ops.h and of the launch-side symbols the
 * exit handlers use (behaviour in hw_fake.h).
 */
#include "hw_fake.h"

#include "vmcs_soft.h"
#include "vmx/controls.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#include <string.h>

struct l0 g_l0;

struct hw_fake_calls hw_calls;
jmp_buf *hw_fake_launch_failed_env;

#define MAX_MSRS 32
#define MAX_CPUID 32
#define MAX_XSETBV_FAIL 8

static struct {
	struct {
		uint32_t msr;
		uint64_t value, reserved;
	} msr[MAX_MSRS];
	unsigned nmsr;
	struct {
		uint32_t leaf, subleaf;
		struct cpuid_regs r;
	} cpuid[MAX_CPUID];
	unsigned ncpuid;
	struct {
		uint32_t xcr;
		uint64_t value;
	} xfail[MAX_XSETBV_FAIL];
	unsigned nxfail;
	uint64_t xcr0;
} f;

void hw_fake_reset(void)
{
	memset(&f, 0, sizeof(f));
	f.xcr0 = 1;
	memset(&hw_calls, 0, sizeof(hw_calls));
	hw_fake_launch_failed_env = NULL;
	hw_fake_mmio_value = 0;
	hw_fake_ipi_hook = NULL;
	hw_fake_rdtsc_hook = NULL;
	hw_fake_tsc = 0;
	hw_fake_tsc_step = 0;
}

static int msr_slot(uint32_t msr)
{
	for (unsigned i = 0; i < f.nmsr; i++)
		if (f.msr[i].msr == msr)
			return (int)i;
	return -1;
}

void hw_fake_msr_add(uint32_t msr, uint64_t value, uint64_t reserved)
{
	int i = msr_slot(msr);
	if (i < 0) {
		if (f.nmsr == MAX_MSRS)
			return;
		i = (int)f.nmsr++;
	}
	f.msr[i].msr = msr;
	f.msr[i].value = value;
	f.msr[i].reserved = reserved;
}

bool hw_fake_msr_get(uint32_t msr, uint64_t *value)
{
	int i = msr_slot(msr);
	if (i < 0)
		return false;
	*value = f.msr[i].value;
	return true;
}

void hw_fake_xsetbv_fail(uint32_t xcr, uint64_t value)
{
	if (f.nxfail < MAX_XSETBV_FAIL) {
		f.xfail[f.nxfail].xcr = xcr;
		f.xfail[f.nxfail].value = value;
		f.nxfail++;
	}
}

uint64_t hw_fake_xcr0(void)
{
	return f.xcr0;
}

void hw_fake_cpuid_set(uint32_t leaf, uint32_t subleaf, uint32_t eax, uint32_t ebx, uint32_t ecx,
		       uint32_t edx)
{
	unsigned i;
	for (i = 0; i < f.ncpuid; i++)
		if (f.cpuid[i].leaf == leaf && f.cpuid[i].subleaf == subleaf)
			break;
	if (i == f.ncpuid) {
		if (f.ncpuid == MAX_CPUID)
			return;
		f.ncpuid++;
	}
	f.cpuid[i].leaf = leaf;
	f.cpuid[i].subleaf = subleaf;
	f.cpuid[i].r = (struct cpuid_regs){eax, ebx, ecx, edx};
}

/* ---- vmx/hw_ops.h ---- */

bool hw_rdmsr_safe(uint32_t msr, uint64_t *value)
{
	hw_calls.rdmsr++;
	hw_calls.last_rdmsr = msr;
	int i = msr_slot(msr);
	if (i < 0)
		return false;
	*value = f.msr[i].value;
	return true;
}

bool hw_wrmsr_safe(uint32_t msr, uint64_t value)
{
	hw_calls.wrmsr++;
	hw_calls.last_wrmsr = msr;
	hw_calls.last_wrmsr_value = value;
	int i = msr_slot(msr);
	if (i < 0 || (value & f.msr[i].reserved))
		return false;
	f.msr[i].value = value;
	return true;
}

bool hw_xsetbv_safe(uint32_t xcr, uint64_t value)
{
	hw_calls.xsetbv++;
	hw_calls.last_xcr = xcr;
	hw_calls.last_xsetbv_value = value;
	if (xcr != 0)
		return false;
	for (unsigned i = 0; i < f.nxfail; i++)
		if (f.xfail[i].xcr == xcr && f.xfail[i].value == value)
			return false;
	f.xcr0 = value;
	return true;
}

void hw_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
	hw_calls.cpuid++;
	hw_calls.last_cpuid_leaf = leaf;
	hw_calls.last_cpuid_subleaf = subleaf;
	for (unsigned i = 0; i < f.ncpuid; i++) {
		if (f.cpuid[i].leaf == leaf && f.cpuid[i].subleaf == subleaf) {
			*r = f.cpuid[i].r;
			return;
		}
	}
	*r = (struct cpuid_regs){0, 0, 0, 0};
}

void hw_wbinvd(void)
{
	hw_calls.wbinvd++;
}

uint64_t hw_fake_tsc, hw_fake_tsc_step;

uint64_t hw_rdtsc(void)
{
	hw_calls.rdtsc++;
	if (hw_fake_rdtsc_hook)
		hw_fake_rdtsc_hook();
	uint64_t now = hw_fake_tsc;
	hw_fake_tsc += hw_fake_tsc_step;
	return now;
}

static void record_vmcs_op(char op, uint64_t pa)
{
	if (hw_calls.vmcs_ops < sizeof(hw_calls.vmcs_op) / sizeof(hw_calls.vmcs_op[0])) {
		hw_calls.vmcs_op[hw_calls.vmcs_ops].op = op;
		hw_calls.vmcs_op[hw_calls.vmcs_ops].pa = pa;
	}
	hw_calls.vmcs_ops++;
}

void hw_vmclear(uint64_t pa)
{
	hw_calls.vmclear++;
	hw_calls.last_vmclear = pa;
	record_vmcs_op('C', pa);
	vmcs_soft_clear(pa);
}

void hw_vmptrld(uint64_t pa)
{
	hw_calls.vmptrld++;
	hw_calls.last_vmptrld = pa;
	record_vmcs_op('P', pa);
	vmcs_soft_load(pa);
}

void vmcs_write_host_state(const struct vcpu *v)
{
	(void)v;
	hw_calls.host_state++;
	hw_calls.host_state_vmcs = vmcs_soft_current();
	record_vmcs_op('H', hw_calls.host_state_vmcs);
}

void hw_invvpid_single(uint16_t vpid)
{
	if (hw_calls.invvpid < 32)
		hw_calls.invvpid_vpid[hw_calls.invvpid] = vpid;
	hw_calls.invvpid++;
	hw_calls.last_vpid = vpid;
}

bool hw_invept_single(uint64_t eptp)
{
	hw_calls.invept++;
	hw_calls.last_invept_eptp = eptp;
	return true;
}

void hw_set_cr2(uint64_t value)
{
	hw_calls.set_cr2++;
	hw_calls.last_cr2 = value;
}

uint64_t hw_get_cr2(void)
{
	return hw_calls.last_cr2;
}

uint32_t hw_fake_mmio_value;
void (*hw_fake_ipi_hook)(uint32_t apic_id, uint32_t icr_low);
void (*hw_fake_rdtsc_hook)(void);

void hw_send_ipi(uint64_t apic_base, uint32_t apic_id, uint32_t icr_low)
{
	hw_calls.last_ipi_apic_base = apic_base;
	if (hw_calls.ipis < 16) {
		hw_calls.ipi_apic_id[hw_calls.ipis] = apic_id;
		hw_calls.ipi_low[hw_calls.ipis] = icr_low;
	}
	hw_calls.ipis++;
	hw_calls.last_ipi_apic_id = apic_id;
	hw_calls.last_ipi_low = icr_low;
	if (hw_fake_ipi_hook)
		hw_fake_ipi_hook(apic_id, icr_low);
}

void hw_mmio_write(uint64_t pa, unsigned width, uint64_t value)
{
	hw_calls.mmio_writes++;
	hw_calls.last_mmio_pa = pa;
	hw_calls.last_mmio_width = width;
	hw_calls.last_mmio_value = value;
}

uint32_t hw_mmio_read32(uint64_t pa)
{
	(void)pa;
	return hw_fake_mmio_value;
}

void hw_unblock_nmi(void)
{
	hw_calls.unblock_nmi++;
}

/* ---- vmx/launch.c ---- */

void l0_dma_tick(struct vcpu *v)
{
	(void)v;
	hw_calls.dma_ticks++;
}

void vmx_launch_failed_exit(struct vcpu *v)
{
	hw_calls.launch_failed++;
	hw_calls.last_launch_failed = v;
	if (hw_fake_launch_failed_env)
		longjmp(*hw_fake_launch_failed_env, 1);
}

void hw_fake_l0_controls(uint32_t proc2_wanted)
{
	const struct vmx_caps *c = &g_l0.caps;
	g_l0.pin = vmx_adjust_controls(c, VMX_CTL_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	g_l0.proc = vmx_adjust_controls(c, VMX_CTL_PROC, L0_PROC_WANTED);
	g_l0.proc2 = vmx_adjust_controls(c, VMX_CTL_PROC2, proc2_wanted);
	g_l0.exit = vmx_adjust_controls(c, VMX_CTL_EXIT,
					EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
					    EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_PAT |
					    EXIT_LOAD_IA32_PAT | EXIT_SAVE_DEBUG_CONTROLS);
	g_l0.entry = vmx_adjust_controls(c, VMX_CTL_ENTRY,
					 ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_IA32_EFER |
					     ENTRY_LOAD_IA32_PAT);
	g_l0.unrestricted_guest = true;
	g_l0.vpid = true;
	g_l0.cr0_mask = vmx_cr0_host_owned(c, true);
	g_l0.cr4_mask = vmx_cr4_host_owned(c);
}

void hw_fake_bochs_caps(struct vmx_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->basic = 0x00d810000000002bull;
	c->pinbased = 0x0000007f00000016ull;
	c->procbased = 0xf7f9fffe0401e172ull;
	c->exit = 0x007fffff00036dffull;
	c->entry = 0x0000ffff000011ffull;
	c->misc = 0x00000000600401e0ull;
	c->cr0_fixed0 = 0x80000021ull;
	c->cr0_fixed1 = 0xffffffffull;
	c->cr4_fixed0 = 0x2000ull;
	c->cr4_fixed1 = 0x3727ffull;
	c->vmcs_enum = 0x34ull;
	c->procbased2 = 0x02177fff00000000ull;
	c->ept_vpid_cap = 0x00000f0106334141ull;
	c->true_pinbased = 0x0000007f00000016ull;
	c->true_procbased = 0xf7f9fffe04006172ull;
	c->true_exit = 0x007fffff00036dfbull;
	c->true_entry = 0x0000ffff000011fbull;
	c->vmfunc = 0x1ull;
	c->has_procbased2 = 1;
	c->has_ept_vpid_cap = 1;
	c->has_true = 1;
	c->has_vmfunc = 1;
}

/*
 * vmx/launch.c's l0_ept01_lookup: EPT01 as the core builds it, for the
 * tests' address space - L0's memory (g_l0.hv_base/hv_size) unmapped,
 * g_l0.apic_page read-only, everything else RWX, WB below 4 GiB - 32 MiB
 * (the MMIO hole above, UC).
 */
/* Whether [base, base + size) holds something that breaks a leaf of that size. */
static bool fake_ept01_split(uint64_t base, uint64_t size)
{
	bool hv = g_l0.hv_size && g_l0.hv_base < base + size && base < g_l0.hv_base + g_l0.hv_size;
	bool apic = g_l0.apic_page && g_l0.apic_page >= base && g_l0.apic_page < base + size;
	bool uc_edge = 0xfe000000ull > base && 0xfe000000ull < base + size;
	return hv || apic || uc_edge;
}

bool l0_ept01_lookup(uint64_t gpa1, unsigned *rights, unsigned *memtype, unsigned *level)
{
	if (gpa1 >= g_l0.hv_base && gpa1 - g_l0.hv_base < g_l0.hv_size)
		return false;
	bool apic = g_l0.apic_page && (gpa1 & ~0xfffull) == g_l0.apic_page;
	*rights = apic ? EPT_READ : EPT_RWX;
	*memtype = gpa1 >= 0xfe000000ull && gpa1 < (1ull << 32) ? 0 : 6;
	/* As the core builds it: the largest leaf nothing above splits. */
	*level = !fake_ept01_split(gpa1 & ~0x3fffffffull, 1ull << 30) ? 3
		 : !fake_ept01_split(gpa1 & ~0x1fffffull, 1ull << 21) ? 2
								     : 1;
	return true;
}

/* ---- vmx/launch.c's l0_l1_memory: the tests set hw_fake_l1_memory ---- */
const struct l1_memory *hw_fake_l1_memory;

const struct l1_memory *l0_l1_memory(void)
{
	return hw_fake_l1_memory;
}

void hw_fake_vmcs01_l1_64(uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t rip,
			  uint64_t rsp)
{
	const struct vmx_caps *c = &g_l0.caps;
	vmcs_soft_set(VMCS_VIRTUAL_PROCESSOR_ID, L1_VPID);
	vmcs_soft_set(VMCS_PIN_BASED_VM_EXEC_CONTROL, g_l0.pin);
	vmcs_soft_set(VMCS_CPU_BASED_VM_EXEC_CONTROL, g_l0.proc);
	vmcs_soft_set(VMCS_SECONDARY_VM_EXEC_CONTROL, g_l0.proc2);
	vmcs_soft_set(VMCS_VM_EXIT_CONTROLS, g_l0.exit);
	vmcs_soft_set(VMCS_VM_ENTRY_CONTROLS, g_l0.entry | ENTRY_IA32E_MODE_GUEST);
	vmcs_soft_set(VMCS_CR0_GUEST_HOST_MASK, g_l0.cr0_mask);
	vmcs_soft_set(VMCS_CR4_GUEST_HOST_MASK, g_l0.cr4_mask);
	vmcs_soft_set(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_soft_set(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_soft_set(VMCS_GUEST_CR0, vmx_fix_cr0(c, cr0, true));
	vmcs_soft_set(VMCS_GUEST_CR3, 0x1000);
	vmcs_soft_set(VMCS_GUEST_CR4, vmx_fix_cr4(c, cr4));
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, efer);
	vmcs_soft_set(VMCS_GUEST_IA32_PAT, 0x0007040600070406ull);
	vmcs_soft_set(VMCS_GUEST_CS_SELECTOR, 0x38);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	vmcs_soft_set(VMCS_GUEST_CS_LIMIT, 0xffffffff);
	vmcs_soft_set(VMCS_GUEST_SS_SELECTOR, 0x30);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xc093);
	vmcs_soft_set(VMCS_GUEST_TR_AR_BYTES, 0x8b);
	vmcs_soft_set(VMCS_GUEST_RIP, rip);
	vmcs_soft_set(VMCS_GUEST_RSP, rsp);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x202);
	vmcs_soft_set(VMCS_GUEST_DR7, 0x400);
	vmcs_soft_set(VMCS_VMCS_LINK_POINTER, ~0ull);
}
