/*
 * nested_run_fixture.c - the fixture of the nested run-path tests
 * (nested_run_fixture.h).
 */
#define _GNU_SOURCE /* fork, pipe, sigaction, mmap */

#include "nested_run_fixture.h"
#include "nested/shadow_vmcs.h"

#include "halting.h"

#include "drivers/serial/log.h"
#include "hw_fake.h"
#include "nested/vmx_msrs.h"
#include "vmcs_soft.h"
#include "vmx/controls.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/msr_policy.h"
#include "vmx/vmx_arch.h"

#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct run_shared *fx;
struct vcpu vcpu;
struct guest_regs regs;
uint8_t vmcs02_page[4096] __attribute__((aligned(4096)));
uint8_t msr_bitmap02[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmap02[8192] __attribute__((aligned(4096)));
static uint8_t msr_bitmap12_copy[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmap12_copy[8192] __attribute__((aligned(4096)));
uint8_t vmread_bitmap12_copy[4096] __attribute__((aligned(4096)));
uint8_t vmwrite_bitmap12_copy[4096] __attribute__((aligned(4096)));
static uint8_t l0_msr_bitmap[4096] __attribute__((aligned(4096)));
unsigned run_stub_errors;
struct page_alloc run_ept02_pa;

/* ---- L1's memory ---- */

static uint8_t *host(uint64_t gpa, size_t len)
{
	if (gpa < MEM_BASE || gpa - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (gpa - MEM_BASE))
		return NULL;
	return fx->mem + (gpa - MEM_BASE);
}

static bool l1_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	uint8_t *p = host(gpa, len);
	if (p)
		memcpy(buf, p, len);
	return p != NULL;
}

static bool l1_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	uint8_t *p = host(gpa, len);
	if (p)
		memcpy(p, buf, len);
	return p != NULL;
}

static int l1_cmpxchg8(void *ctx, uint64_t gpa, uint64_t old, uint64_t new_val)
{
	(void)ctx;
	uint8_t *p = host(gpa, 8);
	if (!p || (gpa & 7))
		return -1;
	uint64_t cur;
	memcpy(&cur, p, 8);
	if (cur != old)
		return 1;
	memcpy(p, &new_val, 8);
	return 0;
}

static const struct l1_memory l1mem = {l1_read, l1_write, NULL, 39, l1_cmpxchg8, NULL};

uint8_t *run_l1_ptr(uint64_t gpa)
{
	return host(gpa, 1);
}

void run_put_vmcs12(uint64_t pa, const struct vmcs12 *v)
{
	memcpy(host(pa, sizeof(*v)), v, sizeof(*v));
}

void run_l1_vmptrld(uint64_t pa)
{
	run_put_vmcs12(NV->cpu.current_vmptr, V12);
	memcpy(V12, host(pa, sizeof(*V12)), sizeof(*V12));
	NV->cpu.current_vmptr = pa;
}

void run_msr_entry(uint64_t area, unsigned i, uint32_t msr, uint64_t data)
{
	uint8_t *p = host(area + 16 * i, 16);
	uint32_t reserved = 0;
	memcpy(p, &msr, 4);
	memcpy(p + 4, &reserved, 4);
	memcpy(p + 8, &data, 8);
}

/* ---- the log ---- */

#define LOG_KEEP 256
static struct {
	int n;
	char line[LOG_KEEP][LOG_LINE_MAX + 1];
} logged;

static void capture_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (logged.n < LOG_KEEP && len <= LOG_LINE_MAX) {
		memcpy(logged.line[logged.n], line, len);
		logged.line[logged.n][len] = '\0';
		logged.n++;
	}
}

bool run_log_has(const char *text)
{
	for (int i = 0; i < logged.n; i++)
		if (strstr(logged.line[i], text))
			return true;
	return false;
}

/* ---- vmcs12 ---- */

void run_valid_vmcs12(struct vmcs12 *v)
{
	const struct vmx_caps *c = &g_l0.l1_vmx;
	memset(v, 0, sizeof(*v));
	v->revision = VMCS12_REVISION;
	vmcs12_set(v, VMCS_PIN_BASED_VM_EXEC_CONTROL,
		   (uint32_t)c->true_pinbased | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING |
		       PIN_VIRTUAL_NMIS);
	vmcs12_set(v, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   (uint32_t)c->true_procbased | CPU_HLT_EXITING | CPU_USE_IO_BITMAPS |
		       CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY);
	vmcs12_set(v, VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_RDTSCP);
	vmcs12_set(v, VMCS_VM_EXIT_CONTROLS,
		   (uint32_t)c->true_exit | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT |
		       EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER |
		       EXIT_LOAD_IA32_EFER);
	vmcs12_set(v, VMCS_VM_ENTRY_CONTROLS,
		   (uint32_t)c->true_entry | ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_IA32E_MODE_GUEST |
		       ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_IA32_EFER);
	vmcs12_set(v, VMCS_IO_BITMAP_A, IO_BITMAP12_A);
	vmcs12_set(v, VMCS_IO_BITMAP_B, IO_BITMAP12_B);
	vmcs12_set(v, VMCS_MSR_BITMAP, MSR_BITMAP12);
	vmcs12_set(v, VMCS_VM_ENTRY_MSR_LOAD_ADDR, ENTRY_LOAD_AREA);
	vmcs12_set(v, VMCS_VM_EXIT_MSR_STORE_ADDR, EXIT_STORE_AREA);
	vmcs12_set(v, VMCS_VM_EXIT_MSR_LOAD_ADDR, EXIT_LOAD_AREA);

	vmcs12_set(v, VMCS_HOST_CR0, CR0_L1);
	vmcs12_set(v, VMCS_HOST_CR3, L1_HOST_CR3);
	vmcs12_set(v, VMCS_HOST_CR4, CR4_L1);
	vmcs12_set(v, VMCS_HOST_IA32_PAT, PAT_OK);
	vmcs12_set(v, VMCS_HOST_IA32_EFER, EFER_L1);
	vmcs12_set(v, VMCS_HOST_CS_SELECTOR, 0x08);
	vmcs12_set(v, VMCS_HOST_SS_SELECTOR, 0x10);
	vmcs12_set(v, VMCS_HOST_DS_SELECTOR, 0x10);
	vmcs12_set(v, VMCS_HOST_ES_SELECTOR, 0x10);
	vmcs12_set(v, VMCS_HOST_TR_SELECTOR, 0x18);
	vmcs12_set(v, VMCS_HOST_GS_BASE, 0xffff888000000000ull);
	vmcs12_set(v, VMCS_HOST_TR_BASE, 0xfffffe0000003000ull);
	vmcs12_set(v, VMCS_HOST_GDTR_BASE, 0xfffffe0000001000ull);
	vmcs12_set(v, VMCS_HOST_IDTR_BASE, 0xfffffe0000000000ull);
	vmcs12_set(v, VMCS_HOST_RSP, HOST_RSP12);
	vmcs12_set(v, VMCS_HOST_RIP, HOST_RIP12);

	vmcs12_set(v, VMCS_GUEST_CR0, 0x80050033);
	vmcs12_set(v, VMCS_GUEST_CR3, L2_CR3);
	vmcs12_set(v, VMCS_GUEST_CR4, CR4_VMXE | CR4_PAE | (1u << 7));
	vmcs12_set(v, VMCS_GUEST_DR7, 0x400);
	vmcs12_set(v, VMCS_GUEST_IA32_PAT, PAT_OK);
	vmcs12_set(v, VMCS_GUEST_IA32_EFER, 0xd01);
	vmcs12_set(v, VMCS_GUEST_CS_SELECTOR, 0x08);
	vmcs12_set(v, VMCS_GUEST_CS_LIMIT, 0xffffffff);
	vmcs12_set(v, VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	for (uint32_t s = 0; s < 6; s++) {
		if (s == 1) /* ES CS SS DS FS GS: CS above */
			continue;
		vmcs12_set(v, VMCS_GUEST_ES_SELECTOR + 2 * s, 0x10);
		vmcs12_set(v, VMCS_GUEST_ES_LIMIT + 2 * s, 0xffffffff);
		vmcs12_set(v, VMCS_GUEST_ES_AR_BYTES + 2 * s, 0xc093);
	}
	vmcs12_set(v, VMCS_GUEST_FS_BASE, 0x00007f0000000000ull);
	vmcs12_set(v, VMCS_GUEST_GS_BASE, 0xffff888000000000ull);
	vmcs12_set(v, VMCS_GUEST_LDTR_AR_BYTES, VMX_AR_UNUSABLE);
	vmcs12_set(v, VMCS_GUEST_TR_SELECTOR, 0x18);
	vmcs12_set(v, VMCS_GUEST_TR_BASE, 0xfffffe0000003000ull);
	vmcs12_set(v, VMCS_GUEST_TR_LIMIT, 0x67);
	vmcs12_set(v, VMCS_GUEST_TR_AR_BYTES, 0x8b);
	vmcs12_set(v, VMCS_GUEST_GDTR_BASE, 0xfffffe0000001000ull);
	vmcs12_set(v, VMCS_GUEST_GDTR_LIMIT, 0x7f);
	vmcs12_set(v, VMCS_GUEST_IDTR_BASE, 0xfffffe0000000000ull);
	vmcs12_set(v, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	vmcs12_set(v, VMCS_GUEST_RSP, L2_RSP);
	vmcs12_set(v, VMCS_GUEST_RIP, L2_RIP);
	vmcs12_set(v, VMCS_GUEST_RFLAGS, 0x202);
	vmcs12_set(v, VMCS_VMCS_LINK_POINTER, ~0ull);
}

void run_valid_vmcs12_pae(struct vmcs12 *v)
{
	run_valid_vmcs12(v);
	vmcs12_set(v, VMCS_VM_ENTRY_CONTROLS,
		   vmcs12_get(v, VMCS_VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST);
	vmcs12_set(v, VMCS_GUEST_IA32_EFER, EFER_SCE);
	vmcs12_set(v, VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	vmcs12_set(v, VMCS_GUEST_FS_BASE, 0);
	vmcs12_set(v, VMCS_GUEST_GS_BASE, 0);
	vmcs12_set(v, VMCS_GUEST_TR_BASE, 0x3000);
	vmcs12_set(v, VMCS_GUEST_RIP, 0x401000);
	vmcs12_set(v, VMCS_GUEST_RSP, 0x8000);
	vmcs12_set(v, VMCS_GUEST_CR3, L2_PDPT);
}

/* ---- setup ---- */

static void setup_l0(void)
{
	memset(&g_l0, 0, sizeof(g_l0));
	struct vmx_caps *c = &g_l0.caps;
	hw_fake_bochs_caps(c);
	hw_fake_l0_controls(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_VPID |
			    CPU2_ENABLE_RDTSCP);
	g_l0.eptp = L0_EPTP;
	nested_vmx_msrs_init(c, vmcs12_highest_field_index(), &g_l0.l1_vmx);
	g_l0.l1_features = vmcs_features_present(&g_l0.l1_vmx);
	g_l0.cpuid = (struct cpuid_policy){.nested = true, .version = 0x000100};
	g_l0.msr = (struct msr_policy){.nested = true, .l1_vmx = &g_l0.l1_vmx};
	memset(l0_msr_bitmap, 0, sizeof(l0_msr_bitmap));
	msr_bitmap_build(l0_msr_bitmap);
	nested_msr_pass_init(l0_msr_bitmap, &g_l0.msr_pass);
	g_l0.msr_bitmap_pa = (uintptr_t)l0_msr_bitmap;
	g_l0.hv_base = HV_BASE;
	g_l0.hv_size = HV_SIZE;
	g_l0.maxphyaddr = 39;
	g_l0.halt_on_triple_fault = true;
	g_l0.vcpus[0] = &vcpu;
	g_l0.ncpus = 1;
	hw_fake_l1_memory = &l1mem;
}

/* vmcs01 of a 64-bit L1 that has just executed VMLAUNCH (exit information aside). */
static void setup_vmcs01(void)
{
	vmcs_soft_reset();
	vmcs_soft_load(VMCS01_PA);
	vmcs_soft_set_launched(VMCS01_PA);
	hw_fake_vmcs01_l1_64(CR0_L1, CR4_L1, EFER_L1, RIP0, RSP0);
	vmcs_soft_set(VMCS_EPT_POINTER, L0_EPTP);
	vmcs_soft_set(VMCS_MSR_BITMAP, g_l0.msr_bitmap_pa);
	vmcs_soft_clear_counters();
}

void run_setup(void)
{
	if (!fx) {
		void *p = mmap(NULL, sizeof(*fx), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		fx = p == MAP_FAILED ? NULL : p;
	}
	memset(fx, 0, sizeof(*fx));
	hw_fake_reset();
	memset(&logged, 0, sizeof(logged));
	log_init("t", LOG_DEBUG);
	log_add_sink(capture_sink, NULL);
	setup_l0();
	setup_vmcs01();

	memset(&vcpu, 0, sizeof(vcpu));
	vcpu.launched = true;
	vcpu.vmcs01_pa = VMCS01_PA;
	vcpu.frame = &regs;
	vcpu.nested = NV;
	memset(&regs, 0, sizeof(regs));
	for (unsigned i = 0; i < GPR_COUNT; i++)
		regs.gpr[i] = GPR_INIT(i);
	regs.gpr[GPR_RSP] = 0xbad0bad0bad0bad0ull; /* the frame's dummy slot */
	regs.vcpu = &vcpu;

	/* L1 after VMXON and VMPTRLD of VMCS12_A (nested/insn_emul.c). */
	memset(vmcs02_page, 0, sizeof(vmcs02_page));
	memset(msr_bitmap02, 0, sizeof(msr_bitmap02));
	memset(io_bitmap02, 0, sizeof(io_bitmap02));
	memset(msr_bitmap12_copy, 0, sizeof(msr_bitmap12_copy));
	memset(io_bitmap12_copy, 0, sizeof(io_bitmap12_copy));
	memset(vmread_bitmap12_copy, 0xcc, sizeof(vmread_bitmap12_copy));
	memset(vmwrite_bitmap12_copy, 0xcc, sizeof(vmwrite_bitmap12_copy));
	NV->cpu.vmxon = true;
	NV->cpu.vmxon_ptr = VMXON_PA;
	NV->cpu.vmcs12 = V12;
	NV->vmcs02_pa = VMCS02_PA;
	NV->vmcs02_for = VMPTR_INVALID;
	NV->msr_bitmap02_pa = (uintptr_t)msr_bitmap02;
	NV->io_bitmap02_pa = (uintptr_t)io_bitmap02;
	NV->msr_bitmap12_copy_pa = (uintptr_t)msr_bitmap12_copy;
	NV->io_bitmap12_copy_pa = (uintptr_t)io_bitmap12_copy;
	NV->vmread_bitmap12_copy_pa = (uintptr_t)vmread_bitmap12_copy;
	NV->vmwrite_bitmap12_copy_pa = (uintptr_t)vmwrite_bitmap12_copy;
	run_valid_vmcs12(V12);
	run_put_vmcs12(VMCS12_A, V12);
	NV->cpu.current_vmptr = VMCS12_A;
	run_stub_errors = 0;

	/* EPT02's pages (nested EPT): RUN_EPT02_PAGES from a host buffer, the bound 32. */
	static void *ept02_mem;
	if (!ept02_mem)
		ept02_mem = aligned_alloc(4096, RUN_EPT02_PAGES * 4096);
	if (!ept02_mem || !page_alloc_init(&run_ept02_pa, (uintptr_t)ept02_mem,
					   RUN_EPT02_PAGES * 4096) ||
	    !ept02_init(&NV->ept02, &run_ept02_pa, NULL, 32))
		run_stub_errors++;
}

/* ---- exits and the stub ---- */

uint64_t f01(uint32_t encoding)
{
	return vmcs_soft_get_in(VMCS01_PA, encoding);
}

uint64_t f02(uint32_t encoding)
{
	return vmcs_soft_get_in(VMCS02_PA, encoding);
}

uint64_t f12(uint32_t encoding)
{
	return vmcs12_get(V12, encoding);
}

/* What arch/x86/vmx_entry.asm does with the dispatcher's value. */
static void run_enter(int launch)
{
	uint64_t cur = vmcs_soft_current();
	enum vmcs_soft_launch want = launch ? VMCS_SOFT_LAUNCH_CLEAR : VMCS_SOFT_LAUNCH_LAUNCHED;
	if (cur == VMCS_SOFT_NONE || vmcs_soft_launch_state(cur) != want) {
		run_stub_errors++;
		return;
	}
	if (launch)
		vmcs_soft_set_launched(cur);
}

/* The exit information as the CPU writes it on every exit (SDM Vol. 3C 28.2). */
static void cpu_exit(uint32_t reason, uint64_t qual, uint32_t len)
{
	vmcs_soft_set(VMCS_VM_EXIT_REASON, reason);
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, qual);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD,
		      vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD) & ~(uint64_t)INTR_INFO_VALID);
}

int run_l1_exit(uint32_t reason, uint32_t len, bool enter)
{
	if (vmcs_soft_current() != VMCS01_PA)
		run_stub_errors++;
	cpu_exit(reason, 0, len);
	int launch = vmx_exit_dispatch(&regs);
	if (enter)
		run_enter(launch);
	return launch;
}

int run_l2_exit(uint32_t reason, uint64_t qual, uint32_t len)
{
	if (vmcs_soft_current() != VMCS02_PA)
		run_stub_errors++;
	cpu_exit(reason, qual, len);
	int launch = vmx_exit_dispatch(&regs);
	run_enter(launch);
	return launch;
}

bool run_l1_vmlaunch(void)
{
	int launch = run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true);
	return launch && NV->in_l2 && vmcs_soft_current() == VMCS02_PA &&
	       vmcs_soft_launch_state(VMCS02_PA) == VMCS_SOFT_LAUNCH_LAUNCHED;
}

#define INFO_REG(dst_or_src, field_reg)                                                            \
	((1u << 10) | ((uint32_t)(dst_or_src) << 3) | ((uint32_t)(field_reg) << 28))

uint64_t run_l1_vmread(uint32_t encoding)
{
	regs.gpr[GPR_RDX] = encoding;
	regs.gpr[GPR_RCX] = 0xdeadull;
	vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO, INFO_REG(GPR_RCX, GPR_RDX));
	run_l1_exit(EXIT_REASON_VMREAD, 3, true);
	return regs.gpr[GPR_RCX];
}

void run_l1_vmwrite(uint32_t encoding, uint64_t value)
{
	regs.gpr[GPR_RDX] = encoding;
	regs.gpr[GPR_RCX] = value;
	vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO, INFO_REG(GPR_RCX, GPR_RDX));
	run_l1_exit(EXIT_REASON_VMWRITE, 3, true);
}

static uint8_t shadow_rd_bitmap[4096], shadow_wr_bitmap[4096];

void run_shadow_on(void)
{
	if (!nested_shadow_set_build(&g_l0.caps, &g_l0.l1_vmx, &g_l0.shadow_set, shadow_rd_bitmap,
				     shadow_wr_bitmap))
		run_stub_errors++;
	NV->shadow_pa = RUN_SHADOW_PA;
	NV->shadow_for = VMPTR_INVALID;
	nested_shadow_to_l1(&vcpu);
}

/* ---- paths that halt the CPU ---- */

int run_halting(void (*fn)(void))
{
	return halting_run(NULL, fn);
}
