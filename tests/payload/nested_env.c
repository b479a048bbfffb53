/*
 * nested_env.c - the environment of the nested test hypervisor: its
 * memory, L1's own descriptor tables, the VMX capability MSRs and the
 * controls they allow, the VMCS set-up, and running L2.
 *
 * L1 (this payload, an EFI application) keeps the firmware's paging, code
 * and data segments, and adds a GDT copy with a 64-bit TSS (VM entry
 * refuses a host TR selector of 0, SDM Vol. 3C 27.2.3) and an IDT copy
 * whose vectors 0-31 go to nested_vmx.asm's stubs, so that #UD and #GP of
 * VMX instructions come back as values.
 *
 * L2 gets its own GDT, IDT, TSSs, stack and page tables: a 4-level
 * identity map of the low 4 GiB in 2-MiB pages (PML4 entry 1 left not
 * present, for #PF), and a PAE page-directory-pointer table over the same
 * page directories for the 32-bit L2.  Every control is computed as
 * (wanted | must-be-1) & may-be-1 from the TRUE capability MSRs where
 * IA32_VMX_BASIC[55] offers them (SDM Vol. 3D A.2-A.5).
 */
#include <efi.h>
#include <efilib.h>

#include "drivers/serial/format.h"
#include "nested_test.h"
#include "payload.h"

struct nx_env nx;

extern uint64_t l2_vector_table[256];
extern char l2_vmcall[];

#define PAGE_SIZE 4096
#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA_BIT (1ull << 10)
#define DR7_INIT 0x400ull
#define L2_SYSENTER_ESP 0x5a5a5000ull

/* Segment access rights as the VMCS holds them (SDM Vol. 3C 25.4.1). */
#define AR_CODE64                                                                                  \
	(VMX_AR_G | VMX_AR_L | VMX_AR_P | VMX_AR_S | VMX_AR_TYPE_CODE | VMX_AR_TYPE_RW |           \
	 VMX_AR_TYPE_ACCESSED)
#define AR_CODE32                                                                                  \
	(VMX_AR_G | VMX_AR_DB | VMX_AR_P | VMX_AR_S | VMX_AR_TYPE_CODE | VMX_AR_TYPE_RW |          \
	 VMX_AR_TYPE_ACCESSED)
#define AR_DATA (VMX_AR_G | VMX_AR_DB | VMX_AR_P | VMX_AR_S | VMX_AR_TYPE_RW | VMX_AR_TYPE_ACCESSED)
#define AR_TSS_BUSY (VMX_AR_P | VMX_AR_TYPE_TSS_BUSY)

/* Offsets of L2's TSSs in PG_L2_TSS. */
#define TSS64_OFF 0x000
#define TSS32_TARGET_OFF 0x100
#define TSS32_CUR_OFF 0x200
#define TSS32_BACK_OFF 0x300
#define TSS_LIMIT 0x67

static void *pg(enum nx_page p)
{
	return (void *)(uintptr_t)nx.page[p];
}

static void zero(void *p, uint64_t n)
{
	volatile uint8_t *b = p;
	while (n--)
		*b++ = 0;
}

static void copy(void *dst, const void *src, uint64_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	while (n--)
		*d++ = *s++;
}

/* ---- descriptors (SDM Vol. 3A 3.4.5, 7.2.3, 8.2.3) ---- */

static uint64_t seg_desc(uint64_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (limit & 0xffffull) | ((base & 0xffffffull) << 16) | ((uint64_t)access << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)(flags & 0xf) << 52) |
	       (((base >> 24) & 0xffull) << 56);
}

static void set_gate(void *idt, unsigned vector, uint64_t handler, uint16_t cs)
{
	uint8_t *g = (uint8_t *)idt + 16 * vector;
	uint64_t lo = (handler & 0xffff) | ((uint64_t)cs << 16) | (0x8eull << 40) |
		      (((handler >> 16) & 0xffff) << 48);
	copy(g, &lo, 8);
	uint64_t hi = handler >> 32;
	copy(g + 8, &hi, 8);
}

const char *nx_env_alloc(void)
{
	EFI_PHYSICAL_ADDRESS a = 0xffffffffull;
	EFI_STATUS s = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData,
					 (UINTN)PG_COUNT, &a);
	if (EFI_ERROR(s))
		return "AllocatePages below 4 GiB failed";
	zero((void *)(uintptr_t)a, (uint64_t)PG_COUNT * PAGE_SIZE);
	for (unsigned i = 0; i < PG_COUNT; i++)
		nx.page[i] = a + (uint64_t)i * PAGE_SIZE;

	/* L2's page tables: identity 0-4 GiB in 2-MiB pages; PML4[1] absent. */
	uint64_t *pml4 = pg(PG_L2_PML4), *pdpt = pg(PG_L2_PDPT), *pae = pg(PG_L2_PAE_PDPT);
	pml4[0] = nx.page[PG_L2_PDPT] | 3;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t *pd = pg(PG_L2_PD0 + i);
		pdpt[i] = nx.page[PG_L2_PD0 + i] | 3;
		pae[i] = nx.page[PG_L2_PD0 + i] | 1; /* PAE PDPTE: P only (bits 2:1 reserved) */
		for (unsigned j = 0; j < 512; j++)
			pd[j] = ((uint64_t)i << 30) + ((uint64_t)j << 21) + 0x83; /* P RW PS */
	}

	/* L2's GDT (selectors in nested_test.h). */
	uint64_t *gdt = pg(PG_L2_GDT);
	uint64_t tss = nx.page[PG_L2_TSS];
	gdt[NX_L2_SEL_CODE64 / 8] = seg_desc(0, 0xfffff, 0x9b, 0xa);
	gdt[NX_L2_SEL_DATA / 8] = seg_desc(0, 0xfffff, 0x93, 0xc);
	gdt[NX_L2_SEL_CODE32 / 8] = seg_desc(0, 0xfffff, 0x9b, 0xc);
	gdt[NX_L2_SEL_DATA32 / 8] = seg_desc(0, 0xfffff, 0x93, 0xc);
	gdt[NX_L2_SEL_TSS64 / 8] = seg_desc(tss + TSS64_OFF, TSS_LIMIT, 0x8b, 0);
	gdt[NX_L2_SEL_TSS64 / 8 + 1] = (tss + TSS64_OFF) >> 32;
	gdt[NX_L2_SEL_TSS32_TARGET / 8] = seg_desc(tss + TSS32_TARGET_OFF, TSS_LIMIT, 0x89, 0);
	gdt[NX_L2_SEL_TSS32_CUR / 8] = seg_desc(tss + TSS32_CUR_OFF, TSS_LIMIT, 0x8b, 0);
	gdt[NX_L2_SEL_TSS32_BACK / 8] = seg_desc(tss + TSS32_BACK_OFF, TSS_LIMIT, 0x8b, 0);
	/* I/O map base past the limit; the current 32-bit TSS links back. */
	for (unsigned off = 0; off < 0x400; off += 0x100)
		*(uint16_t *)(uintptr_t)(tss + off + 102) = TSS_LIMIT + 1;
	*(uint16_t *)(uintptr_t)(tss + TSS32_CUR_OFF) = NX_L2_SEL_TSS32_BACK;

	for (unsigned v = 0; v < 256; v++)
		set_gate(pg(PG_L2_IDT), v, l2_vector_table[v], NX_L2_SEL_CODE64);
	return 0;
}

uint64_t nx_l2_stack_top(void)
{
	return nx.page[PG_L2_STACK] + PAGE_SIZE - 16;
}

/* ---- L1's own tables ---- */

void nx_env_l1_tables(void)
{
	struct desc_ptr fw_gdt, fw_idt;
	sgdt(&fw_gdt);
	sidt(&fw_idt);
	nx.fw_idt = fw_idt.base;
	nx.fw_idt_limit = fw_idt.limit;

	/* GDT: the firmware's descriptors, then a 64-bit TSS (16 bytes). */
	uint8_t *gdt = pg(PG_L1_GDT);
	uint32_t n = (uint32_t)fw_gdt.limit + 1;
	if (n > PAGE_SIZE - 32)
		n = PAGE_SIZE - 32;
	copy(gdt, (void *)(uintptr_t)fw_gdt.base, n);
	uint16_t tss_sel = (uint16_t)((n + 7) & ~7u);
	uint64_t tss = nx.page[PG_L1_TSS];
	*(uint16_t *)(uintptr_t)(tss + 102) = TSS_LIMIT + 1;
	uint64_t d[2] = {seg_desc(tss, TSS_LIMIT, 0x89, 0), tss >> 32};
	copy(gdt + tss_sel, d, 16);
	nx.gdt = nx.page[PG_L1_GDT];
	nx.gdt_limit = (uint16_t)(tss_sel + 15);
	struct desc_ptr p = {nx.gdt_limit, nx.gdt};
	__asm__ volatile("lgdt %0" : : "m"(p) : "memory");
	__asm__ volatile("ltr %w0" : : "r"(tss_sel) : "memory");
	nx.tr = tss_sel;

	/* IDT: the firmware's gates, vectors 0-31 ours. */
	uint32_t m = (uint32_t)fw_idt.limit + 1;
	if (m > PAGE_SIZE)
		m = PAGE_SIZE;
	copy(pg(PG_L1_IDT), (void *)(uintptr_t)fw_idt.base, m);
	nx.cs = read_cs();
	for (unsigned v = 0; v < 32; v++)
		set_gate(pg(PG_L1_IDT), v, nx_exc_stub_table[v], nx.cs);
	nx.idt = nx.page[PG_L1_IDT];
	nx.idt_limit = PAGE_SIZE - 1;
	struct desc_ptr q = {nx.idt_limit, nx.idt};
	lidt(&q);

	nx.ss = read_ss();
	nx.ds = read_ds();
	nx.es = read_es();
	nx.fs = read_fs();
	nx.gs = read_gs();
	nx_ss_sel = nx.ss;
	nx.cr0 = read_cr0();
	nx.cr3 = read_cr3();
	nx.cr4 = read_cr4();
	nx_rdmsr(MSR_IA32_EFER, &nx.efer);
	nx_rdmsr(MSR_IA32_PAT, &nx.pat);
}

void nx_env_l1_restore(void)
{
	struct desc_ptr q = {nx.fw_idt_limit, nx.fw_idt};
	lidt(&q);
}

/* ---- capabilities ---- */

static uint64_t msr_or_zero(uint32_t msr)
{
	uint64_t v = 0;
	if (nx_rdmsr(msr, &v))
		return 0;
	return v;
}

void nx_env_read_caps(void)
{
	struct cpuid_regs r;
	cpuid_count(1, 0, &r);
	nx.vmx_cpuid = r.ecx & CPUID_1_ECX_VMX;
	cpuid_count(0x80000000u, 0, &r);
	nx.maxphyaddr = 36;
	if (r.eax >= 0x80000008u) {
		cpuid_count(0x80000008u, 0, &r);
		nx.maxphyaddr = r.eax & 0xff;
	}
	cpuid_count(0x40000000u, 0, &r);
	nx.microhv = r.ebx == 0x7263696du && r.ecx == 0x0076686fu && r.edx == 0;

	if (nx_rdmsr(MSR_IA32_VMX_BASIC, &nx.basic))
		return;
	nx.caps_ok = true;
	nx.revision = (uint32_t)(nx.basic & VMX_BASIC_REVISION_MASK);
	bool true_ctls = nx.basic & VMX_BASIC_TRUE_CTLS;
	nx.ctl_msr[NX_PIN] =
	    msr_or_zero(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	nx.ctl_msr[NX_PROC] =
	    msr_or_zero(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	nx.ctl_msr[NX_EXIT] =
	    msr_or_zero(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	nx.ctl_msr[NX_ENTRY] =
	    msr_or_zero(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	/* PROCBASED_CTLS2 exists only with "activate secondary controls" (A.3.3). */
	if ((nx.ctl_msr[NX_PROC] >> 32) & CPU_ACTIVATE_SECONDARY)
		nx.ctl_msr[NX_PROC2] = msr_or_zero(MSR_IA32_VMX_PROCBASED_CTLS2);
	for (unsigned c = 0; c < NX_CTL_COUNT; c++) {
		nx.must1[c] = (uint32_t)nx.ctl_msr[c];
		nx.may1[c] = (uint32_t)(nx.ctl_msr[c] >> 32);
	}
	nx.misc = msr_or_zero(MSR_IA32_VMX_MISC);
	nx.cr0_fixed0 = msr_or_zero(MSR_IA32_VMX_CR0_FIXED0);
	nx.cr0_fixed1 = msr_or_zero(MSR_IA32_VMX_CR0_FIXED1);
	nx.cr4_fixed0 = msr_or_zero(MSR_IA32_VMX_CR4_FIXED0);
	nx.cr4_fixed1 = msr_or_zero(MSR_IA32_VMX_CR4_FIXED1);
	/* IA32_VMX_EPT_VPID_CAP exists only with EPT or VPID (A.10). */
	if (nx.may1[NX_PROC2] & (CPU2_ENABLE_EPT | CPU2_ENABLE_VPID))
		nx.ept_vpid_cap = msr_or_zero(MSR_IA32_VMX_EPT_VPID_CAP);
}

uint32_t nx_ctl(enum nx_ctl c, uint32_t wanted)
{
	return (wanted | nx.must1[c]) & nx.may1[c];
}

bool nx_allowed(enum nx_ctl c, uint32_t bits)
{
	if (c == NX_PROC2 && !(nx.may1[NX_PROC] & CPU_ACTIVATE_SECONDARY))
		return false;
	return (nx.may1[c] & bits) == bits;
}

/* ---- VMCS access ---- */

uint64_t vr(uint32_t field)
{
	uint64_t v = 0;
	uint64_t r = nx_vmread(field, &v);
	if (nx_outcome(r) != NX_SUCCEED) {
		nx.vw_errors++;
		if (nx.vw_errors <= 8)
			nx_say("microhv-nested: note - VMREAD 0x%x: %s", field, nx_result_str(r));
	}
	return v;
}

void vw(uint32_t field, uint64_t value)
{
	uint64_t r = nx_vmwrite(field, value);
	if (nx_outcome(r) != NX_SUCCEED) {
		nx.vw_errors++;
		if (nx.vw_errors <= 8)
			nx_say("microhv-nested: note - VMWRITE 0x%x = 0x%llx: %s", field,
			       (unsigned long long)value, nx_result_str(r));
	}
}

/* Guest segment i in the VMCS order ES CS SS DS FS GS LDTR TR. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

static void guest_seg(unsigned i, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	vw(VMCS_GUEST_ES_SELECTOR + 2 * i, sel);
	vw(VMCS_GUEST_ES_BASE + 2 * i, base);
	vw(VMCS_GUEST_ES_LIMIT + 2 * i, limit);
	vw(VMCS_GUEST_ES_AR_BYTES + 2 * i, ar);
}

void nx_vmcs_controls(void)
{
	zero(pg(PG_MSR_BITMAP), PAGE_SIZE);
	zero(pg(PG_IO_A), PAGE_SIZE);
	zero(pg(PG_IO_B), PAGE_SIZE);
	vw(VMCS_PIN_BASED_VM_EXEC_CONTROL, nx_ctl(NX_PIN, 0));
	uint32_t proc = CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY;
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, nx_ctl(NX_PROC, proc));
	if (nx_allowed(NX_PROC, CPU_ACTIVATE_SECONDARY))
		vw(VMCS_SECONDARY_VM_EXEC_CONTROL, nx_ctl(NX_PROC2, 0));
	vw(VMCS_VM_EXIT_CONTROLS,
	   nx_ctl(NX_EXIT, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER |
			       EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT));
	vw(VMCS_VM_ENTRY_CONTROLS,
	   nx_ctl(NX_ENTRY, ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT));
	vw(VMCS_EXCEPTION_BITMAP, 0xffffffffu);
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0);
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vw(VMCS_CR3_TARGET_COUNT, 0);
	vw(VMCS_CR0_GUEST_HOST_MASK, 0);
	vw(VMCS_CR4_GUEST_HOST_MASK, 0);
	vw(VMCS_IO_BITMAP_A, nx.page[PG_IO_A]);
	vw(VMCS_IO_BITMAP_B, nx.page[PG_IO_B]);
	vw(VMCS_MSR_BITMAP, nx.page[PG_MSR_BITMAP]);
	vw(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	vw(VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vw(VMCS_TSC_OFFSET, 0);
}

static void nx_vmcs_host(void)
{
	uint32_t exit = (uint32_t)vr(VMCS_VM_EXIT_CONTROLS);
	vw(VMCS_HOST_CR0, read_cr0());
	vw(VMCS_HOST_CR3, read_cr3());
	vw(VMCS_HOST_CR4, read_cr4());
	vw(VMCS_HOST_CS_SELECTOR, nx.cs);
	vw(VMCS_HOST_SS_SELECTOR, nx.ss);
	vw(VMCS_HOST_DS_SELECTOR, nx.ds);
	vw(VMCS_HOST_ES_SELECTOR, nx.es);
	vw(VMCS_HOST_FS_SELECTOR, nx.fs);
	vw(VMCS_HOST_GS_SELECTOR, nx.gs);
	vw(VMCS_HOST_TR_SELECTOR, nx.tr);
	vw(VMCS_HOST_FS_BASE, msr_or_zero(MSR_IA32_FS_BASE));
	vw(VMCS_HOST_GS_BASE, msr_or_zero(MSR_IA32_GS_BASE));
	vw(VMCS_HOST_TR_BASE, nx.page[PG_L1_TSS]);
	vw(VMCS_HOST_GDTR_BASE, nx.gdt);
	vw(VMCS_HOST_IDTR_BASE, nx.idt);
	vw(VMCS_HOST_IA32_SYSENTER_CS, msr_or_zero(MSR_IA32_SYSENTER_CS));
	vw(VMCS_HOST_IA32_SYSENTER_ESP, msr_or_zero(MSR_IA32_SYSENTER_ESP));
	vw(VMCS_HOST_IA32_SYSENTER_EIP, msr_or_zero(MSR_IA32_SYSENTER_EIP));
	if (exit & EXIT_LOAD_IA32_PAT)
		vw(VMCS_HOST_IA32_PAT, nx.pat);
	if (exit & EXIT_LOAD_IA32_EFER)
		vw(VMCS_HOST_IA32_EFER, nx.efer);
	vw(VMCS_HOST_RIP, (uint64_t)(uintptr_t)nx_exit_stub);
}

/* The state both L2 modes share. */
static void guest_common(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	uint32_t entry = (uint32_t)vr(VMCS_VM_ENTRY_CONTROLS);
	vw(VMCS_GUEST_CR0, cr0);
	vw(VMCS_GUEST_CR3, cr3);
	vw(VMCS_GUEST_CR4, cr4);
	vw(VMCS_CR0_READ_SHADOW, cr0);
	vw(VMCS_CR4_READ_SHADOW, cr4);
	vw(VMCS_GUEST_DR7, DR7_INIT);
	vw(VMCS_GUEST_RSP, nx_l2_stack_top());
	vw(VMCS_GUEST_RIP, (uint64_t)(uintptr_t)l2_vmcall);
	vw(VMCS_GUEST_RFLAGS, NX_RFLAGS_FIXED);
	guest_seg(SEG_LDTR, 0, 0, 0, VMX_AR_UNUSABLE);
	vw(VMCS_GUEST_GDTR_BASE, nx.page[PG_L2_GDT]);
	vw(VMCS_GUEST_GDTR_LIMIT, 0x4f);
	vw(VMCS_GUEST_IDTR_BASE, nx.page[PG_L2_IDT]);
	vw(VMCS_GUEST_IDTR_LIMIT, PAGE_SIZE - 1);
	vw(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vw(VMCS_GUEST_SYSENTER_CS, 0);
	vw(VMCS_GUEST_SYSENTER_ESP, L2_SYSENTER_ESP);
	vw(VMCS_GUEST_SYSENTER_EIP, 0);
	if (entry & ENTRY_LOAD_IA32_PAT)
		vw(VMCS_GUEST_IA32_PAT, nx.pat);
	if (entry & ENTRY_LOAD_IA32_EFER)
		vw(VMCS_GUEST_IA32_EFER, efer);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vw(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vw(VMCS_VMCS_LINK_POINTER, ~0ull);
}

void nx_guest64(void)
{
	uint32_t entry = (uint32_t)vr(VMCS_VM_ENTRY_CONTROLS);
	vw(VMCS_VM_ENTRY_CONTROLS, nx_ctl(NX_ENTRY, entry | ENTRY_IA32E_MODE_GUEST));
	guest_common(read_cr0(), nx.page[PG_L2_PML4], read_cr4(), nx.efer);
	for (unsigned i = SEG_ES; i <= SEG_GS; i++)
		guest_seg(i, NX_L2_SEL_DATA, 0, 0xffffffffu, AR_DATA);
	guest_seg(SEG_CS, NX_L2_SEL_CODE64, 0, 0xffffffffu, AR_CODE64);
	guest_seg(SEG_TR, NX_L2_SEL_TSS64, nx.page[PG_L2_TSS] + TSS64_OFF, TSS_LIMIT, AR_TSS_BUSY);
}

void nx_guest32_pae(uint64_t cr3)
{
	uint32_t entry = (uint32_t)vr(VMCS_VM_ENTRY_CONTROLS);
	vw(VMCS_VM_ENTRY_CONTROLS, nx_ctl(NX_ENTRY, entry & ~ENTRY_IA32E_MODE_GUEST));
	guest_common(read_cr0(), cr3, read_cr4() & ~CR4_PCIDE,
		     nx.efer & ~(EFER_LME | EFER_LMA_BIT));
	for (unsigned i = SEG_ES; i <= SEG_GS; i++)
		guest_seg(i, NX_L2_SEL_DATA32, 0, 0xffffffffu, AR_DATA);
	guest_seg(SEG_CS, NX_L2_SEL_CODE32, 0, 0xffffffffu, AR_CODE32);
	guest_seg(SEG_TR, NX_L2_SEL_TSS32_CUR, nx.page[PG_L2_TSS] + TSS32_CUR_OFF, TSS_LIMIT,
		  AR_TSS_BUSY);
}

uint64_t nx_vmcs_init(enum nx_page page)
{
	*(uint32_t *)pg(page) = nx.revision;
	nx_vmclear(nx.page[page]);
	uint64_t r = nx_vmptrld(nx.page[page]);
	nx.launched = false;
	if (nx_outcome(r) != NX_SUCCEED)
		return r;
	nx_vmcs_controls();
	nx_vmcs_host();
	nx_guest64();
	return r;
}

/* ---- running L2 ---- */

bool nx_enter_read(unsigned how, struct nx_exit *e)
{
	*e = (struct nx_exit){0};
	e->entry = nx_enter(how);
	if (e->entry)
		return false;
	e->reason = (uint32_t)vr(VMCS_VM_EXIT_REASON);
	e->qual = vr(VMCS_EXIT_QUALIFICATION);
	e->len = (uint32_t)vr(VMCS_VM_EXIT_INSTRUCTION_LEN);
	e->insn_info = (uint32_t)vr(VMCS_VMX_INSTRUCTION_INFO);
	e->intr_info = (uint32_t)vr(VMCS_VM_EXIT_INTR_INFO);
	e->intr_error = (uint32_t)vr(VMCS_VM_EXIT_INTR_ERROR_CODE);
	e->rip = vr(VMCS_GUEST_RIP);
	e->rsp = vr(VMCS_GUEST_RSP);
	e->rflags = vr(VMCS_GUEST_RFLAGS);
	e->cr0 = vr(VMCS_GUEST_CR0);
	e->cr4 = vr(VMCS_GUEST_CR4);
	nx.any_exit = true;
	if (!(e->reason & EXIT_REASON_FAILED_ENTRY))
		nx.launched = true;
	return true;
}

bool nx_run(uint64_t rip, uint64_t rflags, struct nx_exit *e)
{
	vw(VMCS_GUEST_RIP, rip);
	vw(VMCS_GUEST_RSP, nx_l2_stack_top());
	vw(VMCS_GUEST_RFLAGS, rflags);
	return nx_enter_read(nx.launched ? NX_RESUME : NX_LAUNCH, e);
}

bool nx_resume(struct nx_exit *e)
{
	return nx_enter_read(nx.launched ? NX_RESUME : NX_LAUNCH, e);
}

bool nx_skip(const struct nx_exit *prev, struct nx_exit *e)
{
	vw(VMCS_GUEST_RIP, prev->rip + prev->len);
	return nx_resume(e);
}

const char *nx_exit_str(const struct nx_exit *e)
{
	static char buf[2][160];
	static unsigned which;
	char *b = buf[which++ & 1];
	if (e->entry)
		fmt_snprintf(b, 160, "no VM exit: entry gave %s", nx_result_str(e->entry));
	else
		fmt_snprintf(b, 160,
			     (e->reason & EXIT_REASON_FAILED_ENTRY)
				 ? "reason 0x%x qual 0x%llx len %u info 0x%x rip L2+0x%llx"
				 : "reason %u qual 0x%llx len %u info 0x%x rip L2+0x%llx",
			     e->reason, (unsigned long long)e->qual, e->len, e->insn_info,
			     (unsigned long long)(e->rip - (uint64_t)(uintptr_t)l2_vmcall));
	return b;
}

/* ---- local APIC (SDM Vol. 3A 11.6.1 ICR, 11.8.5 EOI) ---- */

#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_EOI 0xb0
#define ICR_SELF (1u << 18)
#define MSR_X2APIC_EOI 0x80b

void nx_apic_self_ipi(uint8_t vector)
{
	uint64_t base = msr_or_zero(MSR_IA32_APIC_BASE);
	if (base & APIC_BASE_X2APIC) {
		nx_wrmsr(MSR_X2APIC_ICR, ICR_SELF | vector);
		return;
	}
	volatile uint32_t *apic = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	apic[APIC_ICR_HI / 4] = 0;
	apic[APIC_ICR_LO / 4] = ICR_SELF | vector;
}

uint32_t nx_apic_read(unsigned reg)
{
	uint64_t base = msr_or_zero(MSR_IA32_APIC_BASE);
	if (base & APIC_BASE_X2APIC)
		return (uint32_t)msr_or_zero(0x800 + reg / 16);
	volatile uint32_t *apic = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	return apic[reg / 4];
}

void nx_apic_eoi(void)
{
	uint64_t base = msr_or_zero(MSR_IA32_APIC_BASE);
	if (base & APIC_BASE_X2APIC) {
		nx_wrmsr(MSR_X2APIC_EOI, 0);
		return;
	}
	volatile uint32_t *apic = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	apic[APIC_EOI / 4] = 0;
}

/* A VMX instruction's result (nx_vmx_* with NX_FAULT, RFLAGS), shared by every payload. */
enum nx_outcome nx_outcome(uint64_t result)
{
	if (result & NX_FAULT)
		return NX_FAULTED;
	if (result & NX_RFLAGS_CF)
		return NX_FAIL_INVALID;
	if (result & NX_RFLAGS_ZF)
		return NX_FAIL_VALID;
	return NX_SUCCEED;
}

const char *nx_result_str(uint64_t result)
{
	static const char *const names[32] = {
	    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#9",  "#TS",
	    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};
	static char buf[4][48];
	static unsigned which;
	char *b = buf[which++ & 3];
	uint64_t err = 0;
	switch (nx_outcome(result)) {
	case NX_FAULTED: {
		unsigned v = (unsigned)(result & 0xff);
		const char *n = v < 32 && names[v] ? names[v] : "exception";
		fmt_snprintf(b, 48, "%s(0x%llx)", n, (unsigned long long)nx_fault_error);
		break;
	}
	case NX_FAIL_INVALID:
		fmt_snprintf(b, 48, "VMfailInvalid");
		break;
	case NX_FAIL_VALID:
		nx_vmread(VMCS_VM_INSTRUCTION_ERROR, &err);
		fmt_snprintf(b, 48, "VMfailValid(%llu)", (unsigned long long)err);
		break;
	default:
		fmt_snprintf(b, 48, "VMsucceed");
		break;
	}
	return b;
}

/* One line on COM1, shared by every payload (nested_test.h). */
void nx_say(const char *fmt, ...)
{
	char line[192];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	payload_say("%s", line);
}
