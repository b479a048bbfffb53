/*
 * task_switch_fixture.c - the two-task 32-bit L1 of task_switch_fixture.h.
 */
#include "task_switch_fixture.h"

#include "drivers/serial/log.h"
#include "hw_fake.h"
#include "nested/entry_checks.h"
#include "nested/vmcs12.h"
#include "vmcs_soft.h"
#include "vmx/controls.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/l1_memory.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>
#include <string.h>

uint8_t tsf_ram[TSF_RAM_SIZE];
unsigned tsf_writes;
struct guest_regs tsf_regs;
struct vcpu tsf_vcpu;
static struct vcpu bsp;

static bool refused(uint64_t gpa, size_t len)
{
	if (gpa >= TSF_RAM_SIZE || len > TSF_RAM_SIZE - gpa)
		return true;
	return gpa < TSF_L0_BASE + TSF_L0_SIZE && gpa + len > TSF_L0_BASE;
}

static bool ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (refused(gpa, len))
		return false;
	memcpy(buf, tsf_ram + gpa, len);
	return true;
}

static bool ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (refused(gpa, len) || (gpa < TSF_RO_PAGE + 0x1000 && gpa + len > TSF_RO_PAGE))
		return false;
	memcpy(tsf_ram + gpa, buf, len);
	tsf_writes++;
	return true;
}

static const struct l1_memory ram = {ram_read, ram_write, NULL, 36, NULL, NULL };

uint8_t tsf_get8(uint32_t pa)
{
	return tsf_ram[pa];
}

uint16_t tsf_get16(uint32_t pa)
{
	return (uint16_t)(tsf_ram[pa] | tsf_ram[pa + 1] << 8);
}

uint32_t tsf_get32(uint32_t pa)
{
	return tsf_get16(pa) | (uint32_t)tsf_get16(pa + 2) << 16;
}

uint64_t tsf_get64(uint32_t pa)
{
	return tsf_get32(pa) | (uint64_t)tsf_get32(pa + 4) << 32;
}

void tsf_put16(uint32_t pa, uint16_t x)
{
	tsf_ram[pa] = (uint8_t)x;
	tsf_ram[pa + 1] = (uint8_t)(x >> 8);
}

void tsf_put32(uint32_t pa, uint32_t x)
{
	tsf_put16(pa, (uint16_t)x);
	tsf_put16(pa + 2, (uint16_t)(x >> 16));
}

void tsf_put64(uint32_t pa, uint64_t x)
{
	tsf_put32(pa, (uint32_t)x);
	tsf_put32(pa + 4, (uint32_t)(x >> 32));
}

void tsf_set_gdt(uint16_t selector, uint64_t desc)
{
	tsf_put64(TSF_GDT + (selector & 0xfff8u), desc);
}

uint64_t tsf_gdt(uint16_t selector)
{
	return tsf_get64(TSF_GDT + (selector & 0xfff8u));
}

/* ---- log capture ---- */

#define KEEP 64
static struct {
	int n;
	char line[KEEP][LOG_LINE_MAX + 1];
} logged;

static void sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (logged.n < KEEP && len <= LOG_LINE_MAX) {
		memcpy(logged.line[logged.n], line, len);
		logged.line[logged.n][len] = '\0';
	}
	logged.n++;
}

bool tsf_log_has(const char *text)
{
	for (int i = 0; i < logged.n && i < KEEP; i++)
		if (strcmp(logged.line[i], text) == 0)
			return true;
	return false;
}

bool tsf_log_contains(const char *text)
{
	for (int i = 0; i < logged.n && i < KEEP; i++)
		if (strstr(logged.line[i], text))
			return true;
	return false;
}

/* ---- L0 and vmcs01 ---- */

static void l0_setup(void)
{
	memset(&g_l0, 0, sizeof(g_l0));
	struct vmx_caps *c = &g_l0.caps;
	hw_fake_bochs_caps(c);
	hw_fake_l0_controls(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_VPID);
	g_l0.halt_on_triple_fault = true;
	g_l0.hv_base = TSF_L0_BASE;
	g_l0.hv_size = TSF_L0_SIZE;
	memset(&bsp, 0, sizeof(bsp));
	memset(&tsf_vcpu, 0, sizeof(tsf_vcpu));
	bsp.launched = tsf_vcpu.launched = true;
	tsf_vcpu.index = 1;
	tsf_vcpu.apic_id = 2;
	g_l0.vcpus[0] = &bsp;
	g_l0.vcpus[1] = &tsf_vcpu;
	g_l0.ncpus = 2;
	hw_fake_l1_memory = &ram;
}

static void seg(unsigned n, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	vmcs_soft_set(VMCS_GUEST_ES_SELECTOR + 2 * n, sel);
	vmcs_soft_set(VMCS_GUEST_ES_BASE + 2 * n, base);
	vmcs_soft_set(VMCS_GUEST_ES_LIMIT + 2 * n, limit);
	vmcs_soft_set(VMCS_GUEST_ES_AR_BYTES + 2 * n, ar);
}

static void vmcs01_setup(void)
{
	const uint64_t cr0 = 0x80010031ull; /* PG WP NE ET PE */
	const uint64_t cr4 = 0x10ull;	    /* PSE */
	hw_fake_vmcs01_l1_64(cr0, cr4, 0, TSF_RIP, TSF_RSP);
	vmcs_soft_set(VMCS_VM_ENTRY_CONTROLS, g_l0.entry);
	vmcs_soft_set(VMCS_GUEST_CR3, 0x1000);
	seg(0, 0x23, 0, 0xffffffff, 0xc0f3);
	seg(1, 0x08, 0, 0xffffffff, 0xc09b);
	seg(2, 0x10, 0, 0xffffffff, 0xc093);
	seg(3, 0x2b, 0, 0xffffffff, 0xc0f3);
	seg(4, 0x33, 0, 0xffffffff, 0xc0f3);
	seg(5, 0x3b, 0, 0xffffffff, 0xc0f3);
	seg(6, 0, 0, 0, 0x10000);
	seg(7, 0x18, TSF_OLD_TSS, 0x67, 0x8b);
	vmcs_soft_set(VMCS_GUEST_GDTR_BASE, TSF_GDT);
	vmcs_soft_set(VMCS_GUEST_GDTR_LIMIT, 0x7f);
	vmcs_soft_set(VMCS_GUEST_IDTR_BASE, 0x18000);
	vmcs_soft_set(VMCS_GUEST_IDTR_LIMIT, 0x7ff);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, TSF_RFLAGS);
	vmcs_soft_set(VMCS_GUEST_DR7, 0x7ff); /* L0-3 G0-3 LE GE, bit 10 */
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x7777);
	for (unsigned i = 0; i < GPR_COUNT; i++)
		tsf_regs.gpr[i] = TSF_GPR(i);
	tsf_regs.gpr[GPR_RSP] = 0xbad0bad0bad0bad0ull; /* the frame's dummy slot */
	tsf_regs.vcpu = &tsf_vcpu;
}

static void memory_setup(void)
{
	memset(tsf_ram, 0, sizeof(tsf_ram));
	tsf_put32(0x1000, 0x00000083); /* old PD: [0, 4M) identity, 4 MiB page */
	tsf_put32(0x100c, 0x00000081); /*   and [12M, 16M) onto it, read-only */
	tsf_put32(0x2000, 0x00000083); /* new PD: the same */
	tsf_put32(0x2004, 0x00000083); /*   and [4M, 8M) onto [0, 4M) */
	tsf_set_gdt(0x08, 0x00cf9b000000ffffull);
	tsf_set_gdt(0x10, 0x00cf93000000ffffull);
	tsf_set_gdt(0x18, 0x00008b0200000067ull);
	tsf_set_gdt(0x20, 0x0000890210002067ull);
	tsf_set_gdt(0x28, 0x0000820220000017ull);
	tsf_set_gdt(0x30, 0x00479a011000ffffull);
	tsf_set_gdt(0x38, 0x00c09240000000ffull);
	tsf_set_gdt(0x40, 0x004093040000ffffull);
	tsf_set_gdt(0x48, 0x0040f10600000fffull);
	tsf_set_gdt(0x50, 0x000081023000002bull);
	tsf_put64(0x22008, 0x0000930500001234ull); /* LDT entry 1 */
	memset(tsf_ram + TSF_OLD_TSS, 0xee, 0x68);
	uint32_t t = TSF_NEW_TSS;
	memset(tsf_ram + t, 0xdd, 0x68);
	tsf_put32(t + 0x00, 0x7777);
	tsf_put32(t + 0x1c, 0x2000);
	tsf_put32(t + 0x20, 0x12345);
	tsf_put32(t + 0x24, 0x80208acd);
	for (unsigned i = 0; i < 8; i++)
		tsf_put32(t + 0x28 + 4 * i, i == GPR_RSP ? TSF_NEW_ESP : TSF_NEW_GPR(i));
	static const uint16_t sel[6] = {0x0c, 0x30, 0x38, 0x40, 0x48, 0x0003};
	for (unsigned i = 0; i < 6; i++)
		tsf_put32(t + 0x48 + 4 * i, sel[i]);
	tsf_put32(t + 0x60, 0x28);
	tsf_put32(t + 0x64, 0x00680000); /* T = 0, I/O map base 0x68 */
}

void tsf_setup(void)
{
	vmcs_soft_reset();
	hw_fake_reset();
	memset(&logged, 0, sizeof(logged));
	log_init("t", LOG_DEBUG);
	log_add_sink(sink, NULL);
	l0_setup();
	memset(&tsf_regs, 0, sizeof(tsf_regs));
	vmcs01_setup();
	memory_setup();
	tsf_writes = 0;
}

void tsf_use_pae(void)
{
	uint64_t cr4 = 0x20; /* PAE */
	vmcs_soft_set(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_soft_set(VMCS_GUEST_CR4, vmx_fix_cr4(&g_l0.caps, cr4));
	vmcs_soft_set(VMCS_GUEST_CR3, 0x3000);
	/* Old: PDPT 0x3000 -> PD 0x4000, [0, 4M) identity in 2 MiB pages (the PDPTE registers too).
	 */
	tsf_put64(0x3000, 0x4001);
	tsf_put64(0x4000, 0x000083);
	tsf_put64(0x4008, 0x200083);
	vmcs_soft_set(VMCS_GUEST_PDPTE0, 0x4001);
	/* New: PDPT 0x5000 -> PD 0x6000, the same and [4M, 6M) onto [0, 2M). */
	tsf_put64(0x5000, 0x6001);
	tsf_put64(0x6000, 0x000083);
	tsf_put64(0x6008, 0x200083);
	tsf_put64(0x6010, 0x000083);
	tsf_put32(TSF_NEW_TSS + 0x1c, 0x5000);
}

void tsf_run(unsigned source, uint16_t selector, uint32_t len)
{
	vmcs_soft_set(VMCS_VM_EXIT_REASON, EXIT_REASON_TASK_SWITCH);
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, (uint64_t)source << 30 | selector);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmx_exit_dispatch(&tsf_regs);
}

void tsf_run_gate(uint16_t selector, uint32_t idt_info, uint32_t idt_error, uint32_t len)
{
	vmcs_soft_set(VMCS_IDT_VECTORING_INFO_FIELD, idt_info);
	vmcs_soft_set(VMCS_IDT_VECTORING_ERROR_CODE, idt_error);
	tsf_run(3, selector, len);
}

uint32_t tsf_injected(void)
{
	return (uint32_t)vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD);
}

uint32_t tsf_injected_error(void)
{
	return (uint32_t)vmcs_soft_get(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE);
}

/* ---- snapshots ---- */

static uint8_t ram_before[TSF_RAM_SIZE];
static uint64_t guest_before[VMCS_FIELD_COUNT];
static struct guest_regs regs_before;

void tsf_snapshot(void)
{
	memcpy(ram_before, tsf_ram, sizeof(ram_before));
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++)
		guest_before[i] = vmcs_soft_get(vmcs_field_table[i].encoding);
	regs_before = tsf_regs;
	tsf_writes = 0;
}

bool tsf_unchanged(void)
{
	bool same = memcmp(ram_before, tsf_ram, sizeof(ram_before)) == 0 && tsf_writes == 0 &&
		    memcmp(&regs_before, &tsf_regs, sizeof(regs_before)) == 0;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		uint32_t enc = vmcs_field_table[i].encoding;
		/* Injecting a fault may set RFLAGS.RF (vmx_inject_exception): not the switch's. */
		uint64_t ignore = enc == VMCS_GUEST_RFLAGS ? 1ull << 16 : 0;
		if (vmcs_field_table[i].cls == VMCS_CLASS_GUEST &&
		    ((vmcs_soft_get(enc) ^ guest_before[i]) & ~ignore)) {
			printf("     guest field 0x%x changed: 0x%llx -> 0x%llx\n", enc,
			       (unsigned long long)guest_before[i],
			       (unsigned long long)vmcs_soft_get(enc));
			same = false;
		}
	}
	return same;
}

bool tsf_guest_state_ok(void)
{
	static struct vmcs12 v;
	memset(&v, 0, sizeof(v));
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++)
		vmcs12_set(&v, vmcs_field_table[i].encoding,
			   vmcs_soft_get(vmcs_field_table[i].encoding));
	struct nested_entry_check c = nested_check_guest_state(&v, &g_l0.caps, 36);
	if (c.result != NENTRY_OK)
		printf("     VM entry would fail: %s (%s)\n", c.what, c.sdm);
	return c.result == NENTRY_OK;
}
