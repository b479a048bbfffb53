/*
 * test_nested_insn.c - nested/insn_emul.c: VMXON, VMXOFF, VMCLEAR, VMPTRLD,
 * VMPTRST, VMREAD and VMWRITE executed by L1, and nested/invvpid.c's
 * INVVPID (table 28-9 for its instruction information), driven through
 * nested_emulate_vmx_insn on the software VMCS (tests/unit/vmcs_soft.c)
 * and the hardware fakes (tests/unit/hw_fake.c).
 *
 * The fixture is L1 in 64-bit mode (CR0 PE|PG|NE|WP, EFER LME|LMA, CS AR
 * 0xa09b, SS AR 0x93 with DPL 0, CR4 PAE) paging through identity page
 * tables built in a host buffer that stands for 256 KiB of L1's physical
 * memory at MEM_BASE; the struct l1_memory over it copies from/to that
 * buffer and refuses (and counts) every other address, L0's range
 * [L0_BASE, L0_BASE + L0_SIZE) apart.  L0's range is mapped by L1's page
 * tables (2 MiB pages), as L1 may do: only the l1_memory refuses it.
 * L1's capability MSRs are nested_vmx_msrs_init of the Bochs 2.7 values.
 *
 * The instruction-information values are built here field by field from
 * SDM Vol. 3C table 28-13 (VMCLEAR, VMPTRLD, VMPTRST, VMXON) and table
 * 28-14 (VMREAD, VMWRITE), the exit lengths are those of the real
 * encodings (VMXON F3 0F C7 /6 = 4 bytes with [rax], ...).
 *
 * Each test checks the exact outcome (SDM Vol. 3C 31.2 conventions): for
 * VMsucceed / VMfailInvalid / VMfailValid the exact RFLAGS (CF PF AF ZF SF
 * OF cleared but CF or ZF, the other bits kept), RIP advanced by the
 * instruction length and the VM-instruction error (31.4) in the cached
 * vmcs12; for an exception the exact VM-entry interruption information
 * and error code with RIP and RFLAGS unchanged (and CR2 for #PF); the
 * state of struct nested_cpu; L1's memory.  Every test ends with
 * CHECK_CLEAN: no host-state field read or written, no exit-information
 * field of vmcs01 written, no access to an encoding outside the table.
 *
 * The 32-bit operand size of VMREAD/VMWRITE is tested in 32-bit protected
 * mode with 32-bit paging (and PAE paging from GUEST_PDPTEn); in
 * compatibility mode every VMX instruction is #UD.
 *
 * Not covered: the GWALK_RETRY outcome (struct l1_memory offers no
 * compare-exchange, so walks never update entries); a VMPTRLD whose 4-byte
 * revision read is accepted but whose 4 KiB read is refused (an
 * l1_memory refusing part of an aligned page); a failed write-back of
 * vmcs12 (only logged); 16-bit protected mode.  The upper half of a
 * register VMREAD writes outside 64-bit mode is not architecturally
 * visible there and is not checked.
 *
 * Tests named *_BUG_* expose defects in the code under test (see the
 * comment at each); they fail until the code is fixed.
 */
#include "test.h"

#include "drivers/serial/log.h"
#include "hw_fake.h"
#include "mm/guest_walk.h"
#include "nested/nested.h"
#include "nested/operand.h"
#include "nested/vmcs12.h"
#include "nested/vmx_msrs.h"
#include "vmcs_soft.h"
#include "vmx/controls.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#include <string.h>

/* ---- L1's physical memory ---- */

#define MEM_BASE 0x40000000ull
#define MEM_SIZE 0x40000ull
#define L0_BASE 0x7e000000ull /* "L0's memory": refused by l1_memory, mapped by L1's tables */
#define L0_SIZE 0x01200000ull
#define MAXPHYADDR 39

/* Page tables (identity: linear = physical). */
#define PML4 (MEM_BASE + 0x0000)
#define PDPT (MEM_BASE + 0x1000)
#define PD (MEM_BASE + 0x2000) /* 8-byte entries: 4-level and PAE */
#define PT (MEM_BASE + 0x3000)
#define PD32 (MEM_BASE + 0x4000) /* 32-bit paging */
#define PT32 (MEM_BASE + 0x5000)
#define PDPT_PAE (MEM_BASE + 0x6000) /* PAE tests: the in-memory PDPT (all not present) */

/* VMX regions. */
#define VMXON_PA (MEM_BASE + 0x10000)
#define VMCS_A (MEM_BASE + 0x11000)
#define VMCS_B (MEM_BASE + 0x12000)
#define BADREV_PA (MEM_BASE + 0x13000) /* revision VMCS12_REVISION + 1 */
#define HWREV_PA (MEM_BASE + 0x14000)  /* the hardware's revision (Bochs: 0x2b) */
#define SHADOW_PA (MEM_BASE + 0x15000) /* VMCS12_REVISION with bit 31 set */

/* Operand pages. */
#define DATA (MEM_BASE + 0x20000)
#define RO_PAGE (MEM_BASE + 0x21000) /* present, not writable */
#define NP_PAGE (MEM_BASE + 0x22000) /* in L1's memory but not mapped */
#define SLOT (DATA + 0x100)	     /* where the m64 operands go */

#define BOCHS_HW_REVISION 0x2bu

/* ---- the instruction information (SDM Vol. 3C tables 28-13, 28-14) ---- */

#define SCALE(s) ((uint32_t)(s))
#define REG1(r) ((uint32_t)(r) << 3)
#define ASZ32 (1u << 7)
#define ASZ64 (2u << 7)
#define REGFORM (1u << 10)
#define SEG(s) ((uint32_t)(s) << 15)
#define INDEX(r) ((uint32_t)(r) << 18)
#define NO_INDEX (1u << 22)
#define BASE(r) ((uint32_t)(r) << 23)
#define NO_BASE (1u << 27)
#define REG2(r) ((uint32_t)(r) << 28)

#define MEM_RAX (ASZ64 | SEG(NSEG_DS) | NO_INDEX | BASE(GPR_RAX))    /* [rax] */
#define MEM_RBX (ASZ64 | SEG(NSEG_DS) | NO_INDEX | BASE(GPR_RBX))    /* [rbx+disp] */
#define MEM_SS_RAX (ASZ64 | SEG(NSEG_SS) | NO_INDEX | BASE(GPR_RAX)) /* ss:[rax] */
#define MEM32_RAX (ASZ32 | SEG(NSEG_DS) | NO_INDEX | BASE(GPR_RAX))  /* [eax] */

/* Exit lengths of the real encodings. */
#define LEN_VMXON 4   /* F3 0F C7 30 */
#define LEN_VMCLEAR 4 /* 66 0F C7 30 */
#define LEN_VMPTRLD 3 /* 0F C7 30 */
#define LEN_VMPTRST 3 /* 0F C7 38 */
#define LEN_VMREAD 3  /* 0F 78 /r */
#define LEN_VMWRITE 3 /* 0F 79 /r */
#define LEN_VMXOFF 3  /* 0F 01 C4 */
#define LEN_DISP8 5   /* 0F C7 7B F0: VMPTRST [rbx-0x10] (+1 for 66/F3 prefixed ones) */

/* ---- L1's state ---- */

#define RIP0 0xfffff80000401000ull
#define RSP0 0xffffc90000a0ff00ull
#define CR0_L1 0x80010033ull /* PG WP NE ET MP PE */
#define CR4_L1 0x00000020ull /* PAE */
#define EFER_L1 0x500ull     /* LMA LME */
#define RFLAGS_ALL 0xed7ull  /* OF DF IF SF ZF AF PF CF and bit 1 */
#define GPR_INIT(n) (0x5a5a5a5a00000000ull | (n))
#define HOST_POISON 0xdeadbeefdeadbeefull
#define ERRCODE_POISON 0x7777u

/* VM-entry interruption information (SDM Vol. 3C 25.8.3), written out. */
#define INFO_UD 0x80000306u
#define INFO_SS0 0x80000b0cu
#define INFO_GP0 0x80000b0du
#define INFO_PF 0x80000b0eu

static uint8_t mem[MEM_SIZE] __attribute__((aligned(4096)));
static struct {
	unsigned reads, writes;		      /* accepted */
	unsigned long read_bytes;	      /* accepted */
	unsigned l0_refusals, other_refusals; /* refused */
	uint64_t last_refused;
} ms;

static struct vmx_caps hw_caps, l1_caps;
#define MISC_VMWRITE_ANY (1ull << 29) /* IA32_VMX_MISC[29] (SDM Vol. 3D A.6) */
static struct l1_memory l1mem;
static struct nested_env env;
static union {
	struct vmcs12 v;
	uint8_t raw[VMCS12_SIZE];
} cache;
static struct nested_cpu n;
static struct guest_regs regs;
static uint64_t rflags_in;
static unsigned long host_reads_in_runs;

/* The log, captured: warnings the emulation prints. */
static struct {
	unsigned n;
	char last[LOG_LINE_MAX + 1];
} logged;

static void capture_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (len > LOG_LINE_MAX)
		len = LOG_LINE_MAX;
	memcpy(logged.last, line, len);
	logged.last[len] = '\0';
	logged.n++;
}

static bool overlaps(uint64_t a, size_t len, uint64_t base, uint64_t size)
{
	uint64_t end = a + len;
	return a < base + size && (end > base || end < a);
}

static uint8_t *host(uint64_t gpa, size_t len)
{
	if (gpa < MEM_BASE || gpa - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (gpa - MEM_BASE))
		return NULL;
	return mem + (gpa - MEM_BASE);
}

static bool refuse(uint64_t gpa, size_t len)
{
	if (overlaps(gpa, len, L0_BASE, L0_SIZE))
		ms.l0_refusals++;
	else
		ms.other_refusals++;
	ms.last_refused = gpa;
	return false;
}

static bool l1_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *p = host(gpa, len);
	if (ctx != &ms || !p || overlaps(gpa, len, L0_BASE, L0_SIZE))
		return refuse(gpa, len);
	memcpy(buf, p, len);
	ms.reads++;
	ms.read_bytes += len;
	return true;
}

static bool l1_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	uint8_t *p = host(gpa, len);
	if (ctx != &ms || !p || overlaps(gpa, len, L0_BASE, L0_SIZE))
		return refuse(gpa, len);
	memcpy(p, buf, len);
	ms.writes++;
	return true;
}

static uint64_t get64(uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, host(gpa, 8), 8);
	return v;
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(host(gpa, 8), &v, 8);
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, host(gpa, 4), 4);
	return v;
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(host(gpa, 4), &v, 4);
}

/* A VMCS (or VMXON) region: revision, abort 0, launch state, every field 0. */
static void make_region(uint64_t pa, uint32_t revision, uint32_t launch_state)
{
	memset(host(pa, VMCS12_SIZE), 0, VMCS12_SIZE);
	put32(pa + offsetof(struct vmcs12, revision), revision);
	put32(pa + offsetof(struct vmcs12, launch_state), launch_state);
}

static uint64_t region_field(uint64_t pa, unsigned index)
{
	return get64(pa + VMCS12_FIELD_OFFSET(index));
}

static void set_region_field(uint64_t pa, unsigned index, uint64_t v)
{
	put64(pa + VMCS12_FIELD_OFFSET(index), v);
}

/*
 * Identity page tables: 4-level (PML4[0] -> PDPT[1] -> PD covering
 * 1..2 GiB: PD[0] -> PT with the 64 pages of the buffer, L0's range as
 * 2 MiB pages) and 32-bit (PD32[0x100] -> PT32, same pages).  NP_PAGE is
 * not mapped, RO_PAGE is read-only; no accessed or dirty flag is set.
 */
static void build_tables(void)
{
	const uint64_t p = GW_PTE_P, rw = GW_PTE_RW;
	put64(PML4 + 8 * 0, PDPT | p | rw);
	put64(PDPT + 8 * 1, PD | p | rw);
	put64(PD + 8 * 0, PT | p | rw);
	for (uint64_t a = L0_BASE; a < L0_BASE + L0_SIZE; a += 0x200000)
		put64(PD + 8 * ((a - MEM_BASE) >> 21), a | p | rw | GW_PTE_PS);
	put32(PD32 + 4 * (MEM_BASE >> 22), (uint32_t)(PT32 | p | rw));
	for (uint64_t i = 0; i < MEM_SIZE / 4096; i++) {
		uint64_t pa = MEM_BASE + i * 4096;
		if (pa == NP_PAGE)
			continue;
		uint64_t e = pa | p | (pa == RO_PAGE ? 0 : rw);
		put64(PT + 8 * i, e);
		put32(PT32 + 4 * i, (uint32_t)e);
	}
}

/*
 * The VMCS traffic was legal: known fields, no exit info written, no host
 * state read or written.  Every test ends with it; a test that starts over
 * (setup() again) has the part before checked by setup().
 */
static bool segment_active;
#define CHECK_CLEAN()                                                                              \
	do {                                                                                       \
		CHECK_EQ(vmcs_soft_errors(), 0);                                                   \
		CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_HOST), 0);                                     \
		CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_HOST), 0);                                    \
		CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_EXIT_INFO), 0);                               \
		CHECK_EQ(host_reads_in_runs, 0);                                                   \
		segment_active = false;                                                            \
	} while (0)

/* L1 in 64-bit mode, CPL 0, not in VMX operation; nothing else has happened. */
static void setup(void)
{
	if (segment_active)
		CHECK_CLEAN(); /* the test's part before this setup() */
	segment_active = true;
	vmcs_soft_reset();
	hw_fake_reset();
	memset(&logged, 0, sizeof(logged));
	log_init("t", LOG_INFO);
	log_add_sink(capture_sink, NULL);

	memset(mem, 0, sizeof(mem));
	memset(&ms, 0, sizeof(ms));
	build_tables();
	make_region(VMXON_PA, VMCS12_REVISION, 0);
	make_region(VMCS_A, VMCS12_REVISION, VMCS12_LAUNCH_CLEAR);
	make_region(VMCS_B, VMCS12_REVISION, VMCS12_LAUNCH_CLEAR);
	make_region(BADREV_PA, VMCS12_REVISION + 1, 0);
	make_region(HWREV_PA, BOCHS_HW_REVISION, 0);
	make_region(SHADOW_PA, VMCS12_REVISION | 0x80000000u, 0);

	hw_fake_bochs_caps(&hw_caps);
	nested_vmx_msrs_init(&hw_caps, vmcs12_highest_field_index(), &l1_caps);
	l1mem = (struct l1_memory){
	    .read = l1_read, .write = l1_write, .ctx = &ms, .maxphyaddr = MAXPHYADDR};
	env = (struct nested_env){
	    .l1_caps = &l1_caps, .mem = &l1mem, .l1_cr0 = CR0_L1, .l1_cr4 = CR4_L1 | CR4_VMXE};

	memset(cache.raw, 0xcc, sizeof(cache.raw));
	n = (struct nested_cpu){
	    .vmxon = false, .vmxon_ptr = 0, .current_vmptr = VMPTR_INVALID, .vmcs12 = &cache.v};

	memset(&regs, 0, sizeof(regs));
	for (unsigned i = 0; i < GPR_COUNT; i++)
		regs.gpr[i] = GPR_INIT(i);
	regs.gpr[GPR_RSP] = 0xbad0bad0bad0bad0ull; /* the frame's dummy slot */

	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++)
		if (vmcs_field_table[i].cls == VMCS_CLASS_HOST)
			vmcs_soft_set(vmcs_field_table[i].encoding, HOST_POISON);
	vmcs_soft_set(VMCS_GUEST_CR0, CR0_L1);
	vmcs_soft_set(VMCS_GUEST_CR3, PML4);
	vmcs_soft_set(VMCS_GUEST_CR4, CR4_L1 | CR4_VMXE); /* the CPU's: VMXE pinned by L0 */
	vmcs_soft_set(VMCS_CR0_READ_SHADOW, CR0_L1);
	vmcs_soft_set(VMCS_CR4_READ_SHADOW, CR4_L1);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_L1);
	vmcs_soft_set(VMCS_GUEST_CS_SELECTOR, 0x10);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	vmcs_soft_set(VMCS_GUEST_CS_LIMIT, 0xffffffff);
	vmcs_soft_set(VMCS_GUEST_SS_SELECTOR, 0x18);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0x93);
	vmcs_soft_set(VMCS_GUEST_SS_LIMIT, 0xffffffff);
	/* Non-zero bases: ignored in 64-bit mode for DS and SS. */
	vmcs_soft_set(VMCS_GUEST_DS_AR_BYTES, 0xc093);
	vmcs_soft_set(VMCS_GUEST_DS_LIMIT, 0xffffffff);
	vmcs_soft_set(VMCS_GUEST_DS_BASE, 0x100000);
	vmcs_soft_set(VMCS_GUEST_SS_BASE, 0x200000);
	vmcs_soft_set(VMCS_GUEST_ES_AR_BYTES, 0xc093);
	vmcs_soft_set(VMCS_GUEST_FS_AR_BYTES, 0xc093);
	vmcs_soft_set(VMCS_GUEST_GS_AR_BYTES, 0xc093);
	vmcs_soft_set(VMCS_GUEST_TR_AR_BYTES, 0x8b);
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	vmcs_soft_set(VMCS_GUEST_RSP, RSP0);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, RFLAGS_ALL);
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, ERRCODE_POISON);
	vmcs_soft_set(VMCS_VMCS_LINK_POINTER, ~0ull);
	rflags_in = RFLAGS_ALL;
	host_reads_in_runs = 0;
}

/* L1 in 32-bit protected mode, 32-bit paging, DS base 0x1000. */
#define DS_BASE32 0x1000ull
static void setup_prot32(void)
{
	setup();
	vmcs_soft_set(VMCS_GUEST_CR0, CR0_L1);
	vmcs_soft_set(VMCS_GUEST_CR3, PD32);
	vmcs_soft_set(VMCS_GUEST_CR4, CR4_VMXE);
	vmcs_soft_set(VMCS_CR4_READ_SHADOW, 0);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xc093);
	vmcs_soft_set(VMCS_GUEST_SS_BASE, 0);
	vmcs_soft_set(VMCS_GUEST_DS_BASE, DS_BASE32);
	vmcs_soft_set(VMCS_GUEST_RIP, 0x00401000);
	vmcs_soft_set(VMCS_GUEST_RSP, 0x0009ff00);
	env.l1_cr4 = CR4_VMXE;
}

static uint64_t field(uint32_t enc)
{
	return vmcs_soft_get(enc);
}

static uint64_t cached(unsigned index)
{
	return cache.v.field[index];
}

static void set_gpr(unsigned r, uint64_t v)
{
	if (r == GPR_RSP)
		vmcs_soft_set(VMCS_GUEST_RSP, v);
	else
		regs.gpr[r] = v;
}

/* One VM exit for a VMX instruction, and the emulation. */
static uint64_t rip_in;
static bool run(uint32_t reason, uint32_t info, uint64_t qual, uint32_t len)
{
	vmcs_soft_set(VMCS_VM_EXIT_REASON, reason);
	vmcs_soft_set(VMCS_VMX_INSTRUCTION_INFO, info);
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, qual);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	rip_in = field(VMCS_GUEST_RIP);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, rflags_in);
	/* Every VM exit clears the valid bit of the VM-entry interruption information. */
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, ERRCODE_POISON);
	hw_calls.set_cr2 = 0;
	hw_calls.last_cr2 = 0;
	unsigned long host = vmcs_soft_reads(VMCS_CLASS_HOST);
	bool handled = nested_emulate_vmx_insn(&n, &env, &regs, reason);
	host_reads_in_runs += vmcs_soft_reads(VMCS_CLASS_HOST) - host;
	return handled;
}

/* The instructions with their usual operands. */
static bool m64(uint32_t reason, uint64_t value, uint32_t len)
{
	put64(SLOT, value);
	regs.gpr[GPR_RAX] = SLOT;
	return run(reason, MEM_RAX, 0, len);
}

static bool vmxon(uint64_t pa)
{
	return m64(EXIT_REASON_VMXON, pa, LEN_VMXON);
}

static bool vmclear(uint64_t pa)
{
	return m64(EXIT_REASON_VMCLEAR, pa, LEN_VMCLEAR);
}

static bool vmptrld(uint64_t pa)
{
	return m64(EXIT_REASON_VMPTRLD, pa, LEN_VMPTRLD);
}

static bool vmptrst(uint64_t la)
{
	regs.gpr[GPR_RAX] = la;
	return run(EXIT_REASON_VMPTRST, MEM_RAX, 0, LEN_VMPTRST);
}

static bool vmxoff(void)
{
	return run(EXIT_REASON_VMXOFF, 0xffffffffu, 0, LEN_VMXOFF); /* info undefined */
}

/* VMREAD dst, src (register form): the field encoding in src. */
static bool vmread_rr(unsigned dst, unsigned src, uint64_t encoding)
{
	set_gpr(src, encoding);
	return run(EXIT_REASON_VMREAD, REGFORM | REG1(dst) | REG2(src), 0, LEN_VMREAD);
}

/* VMWRITE enc_reg, src (register form): the value in src. */
static bool vmwrite_rr(unsigned enc_reg, uint64_t encoding, unsigned src, uint64_t value)
{
	set_gpr(src, value);
	set_gpr(enc_reg, encoding);
	return run(EXIT_REASON_VMWRITE, REGFORM | REG1(src) | REG2(enc_reg), 0, LEN_VMWRITE);
}

static uint64_t vmread_value; /* rcx after a successful vmread() */
static bool vmread(uint64_t encoding)
{
	regs.gpr[GPR_RCX] = 0x1111111111111111ull;
	bool handled = vmread_rr(GPR_RCX, GPR_RDX, encoding);
	vmread_value = regs.gpr[GPR_RCX];
	return handled;
}

static bool vmwrite(uint64_t encoding, uint64_t value)
{
	return vmwrite_rr(GPR_RDX, encoding, GPR_RCX, value);
}

/* ---- outcomes ---- */

#define EXPECT_FLAGS(f) ((rflags_in & ~0x8d5ull) | (f))

/* The instruction completed: RIP past it, nothing injected, CR2 untouched. */
#define CHECK_COMPLETED(len)                                                                       \
	do {                                                                                       \
		CHECK_EQ(field(VMCS_GUEST_RIP), rip_in + (len));                                   \
		CHECK_EQ(field(VMCS_VM_ENTRY_INTR_INFO_FIELD), 0);                                 \
		CHECK_EQ(field(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), ERRCODE_POISON);               \
		CHECK_EQ(hw_calls.set_cr2, 0);                                                     \
	} while (0)

#define CHECK_VMSUCCEED(len)                                                                       \
	do {                                                                                       \
		CHECK_COMPLETED(len);                                                              \
		CHECK_EQ(field(VMCS_GUEST_RFLAGS), EXPECT_FLAGS(0));                               \
	} while (0)

#define CHECK_VMFAIL_INVALID(len)                                                                  \
	do {                                                                                       \
		CHECK_COMPLETED(len);                                                              \
		CHECK_EQ(field(VMCS_GUEST_RFLAGS), EXPECT_FLAGS(1ull)); /* CF */                   \
	} while (0)

#define CHECK_VMFAIL_VALID(len, err)                                                               \
	do {                                                                                       \
		CHECK_COMPLETED(len);                                                              \
		CHECK_EQ(field(VMCS_GUEST_RFLAGS), EXPECT_FLAGS(0x40ull)); /* ZF */                \
		CHECK_EQ(cached(VMCS_IDX_VM_INSTRUCTION_ERROR), (err));                            \
	} while (0)

/*
 * A fault injected at the instruction: RIP unchanged, RFLAGS unchanged but
 * for RF = 1, as the CPU's delivery of a fault pushes it (SDM Vol. 3A
 * 18.3.1.1).
 */
#define CHECK_AT_INSN()                                                                            \
	do {                                                                                       \
		CHECK_EQ(field(VMCS_GUEST_RIP), rip_in);                                           \
		CHECK_EQ(field(VMCS_GUEST_RFLAGS), rflags_in | RFLAGS_RF);                         \
	} while (0)

#define CHECK_UD()                                                                                 \
	do {                                                                                       \
		CHECK_AT_INSN();                                                                   \
		CHECK_EQ(field(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_UD);                           \
		CHECK_EQ(field(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), ERRCODE_POISON);               \
		CHECK_EQ(hw_calls.set_cr2, 0);                                                     \
	} while (0)

#define CHECK_GP0()                                                                                \
	do {                                                                                       \
		CHECK_AT_INSN();                                                                   \
		CHECK_EQ(field(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);                          \
		CHECK_EQ(field(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);                            \
		CHECK_EQ(hw_calls.set_cr2, 0);                                                     \
	} while (0)

#define CHECK_SS0()                                                                                \
	do {                                                                                       \
		CHECK_AT_INSN();                                                                   \
		CHECK_EQ(field(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_SS0);                          \
		CHECK_EQ(field(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);                            \
		CHECK_EQ(hw_calls.set_cr2, 0);                                                     \
	} while (0)

#define CHECK_PF(err, addr)                                                                        \
	do {                                                                                       \
		CHECK_AT_INSN();                                                                   \
		CHECK_EQ(field(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_PF);                           \
		CHECK_EQ(field(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), (err));                        \
		CHECK_EQ(hw_calls.set_cr2, 1);                                                     \
		CHECK_EQ(hw_calls.last_cr2, (addr));                                               \
	} while (0)

/* L1 in VMX operation on VMXON_PA (checked), optionally with VMCS_A current. */
static void enter_vmx(void)
{
	CHECK(vmxon(VMXON_PA));
	CHECK(n.vmxon);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);
}

static void enter_vmx_with_current(uint64_t pa)
{
	enter_vmx();
	CHECK(vmptrld(pa));
	CHECK_EQ(n.current_vmptr, pa);
}

/* ================= VMXON ================= */

TEST(nested_insn_vmxon_ud_without_cr4_vmxe_in_l1_view)
{
	setup();
	/* The CPU's CR4 has VMXE (L0 pins it); L1's own view does not. */
	env.l1_cr4 = CR4_L1;
	CHECK(vmxon(VMXON_PA));
	CHECK_UD();
	CHECK(!n.vmxon);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);
	CHECK_EQ(ms.reads, 0); /* #UD comes before the operand is touched */
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_gp_at_cpl3)
{
	setup();
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xf3); /* DPL 3 */
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xa0fb);
	CHECK(vmxon(VMXON_PA));
	CHECK_GP0();
	CHECK(!n.vmxon);
	CHECK_EQ(ms.reads, 0);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_gp_cr0_cr4_not_allowed_in_vmx)
{
	/* CR0.NE is in IA32_VMX_CR0_FIXED0 (Bochs: 0x80000021): L1's CR0 lacks it. */
	setup();
	env.l1_cr0 = CR0_L1 & ~CR0_NE;
	CHECK(vmxon(VMXON_PA));
	CHECK_GP0();
	CHECK(!n.vmxon);
	CHECK_EQ(ms.reads, 0);
	CHECK_CLEAN();

	/* CR4 bit 22 (PKE) is not in IA32_VMX_CR4_FIXED1 (Bochs: 0x3727ff). */
	setup();
	env.l1_cr4 |= 1ull << 22;
	CHECK(vmxon(VMXON_PA));
	CHECK_GP0();
	CHECK(!n.vmxon);
	CHECK_CLEAN();

	/* CR0 bits 63:32 are not in FIXED1. */
	setup();
	env.l1_cr0 |= 1ull << 32;
	CHECK(vmxon(VMXON_PA));
	CHECK_GP0();
	CHECK(!n.vmxon);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_fail_invalid_misaligned)
{
	setup();
	CHECK(vmxon(VMXON_PA + 0x800));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK(!n.vmxon);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);
	CHECK_EQ(cached(VMCS_IDX_VM_INSTRUCTION_ERROR), 0xccccccccccccccccull); /* untouched */

	setup();
	CHECK(vmxon(VMXON_PA + 8));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK(!n.vmxon);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_fail_invalid_beyond_maxphyaddr)
{
	setup();
	CHECK(vmxon(1ull << MAXPHYADDR));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK(!n.vmxon);
	/* Refused by the check, not by the memory: only the operand was read. */
	CHECK_EQ(ms.l0_refusals + ms.other_refusals, 0);

	setup();
	CHECK(vmxon(VMXON_PA | (1ull << 63)));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK(!n.vmxon);
	CHECK_EQ(ms.l0_refusals + ms.other_refusals, 0);

	/* The highest address within MAXPHYADDR passes the check (then the memory refuses it). */
	setup();
	CHECK(vmxon((1ull << MAXPHYADDR) - 0x1000));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK_EQ(ms.other_refusals, 1);
	CHECK_EQ(ms.last_refused, (1ull << MAXPHYADDR) - 0x1000);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_fail_invalid_l0_memory)
{
	setup();
	unsigned long bytes = 0;
	CHECK(vmxon(L0_BASE + 0x1000));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK(!n.vmxon);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);
	CHECK_EQ(ms.l0_refusals, 1);
	CHECK_EQ(ms.other_refusals, 0);
	CHECK_EQ(ms.last_refused, L0_BASE + 0x1000);
	/* What was read came from L1's memory only: the walk and the 8-byte operand. */
	bytes = ms.read_bytes;
	CHECK_EQ(bytes, 4 * 8 + 8);
	CHECK_EQ(ms.writes, 0);
	/* L0 said why. */
	CHECK(logged.n >= 1);
	CHECK(strstr(logged.last, "0x7e001000") != NULL);
	CHECK(strstr(logged.last, "not L1's memory") != NULL);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_fail_invalid_revision)
{
	setup();
	CHECK(vmxon(BADREV_PA));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK(!n.vmxon);

	/* The hardware's own revision is not L1's. */
	setup();
	CHECK(vmxon(HWREV_PA));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK(!n.vmxon);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_fail_invalid_bit31)
{
	setup();
	CHECK(vmxon(SHADOW_PA));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK(!n.vmxon);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_succeeds_then_vmfail_15)
{
	setup();
	/* VMsucceed clears the six flags and ends blocking by STI. */
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_STI);
	CHECK(vmxon(VMXON_PA));
	CHECK_VMSUCCEED(LEN_VMXON);
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x602);
	CHECK_EQ(field(VMCS_GUEST_RIP), RIP0 + 4);
	CHECK_EQ(field(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	CHECK(n.vmxon);
	CHECK_EQ(n.vmxon_ptr, VMXON_PA);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);
	CHECK_EQ(ms.writes, 0);

	/* Again, no current VMCS: VMfail(15) is VMfailInvalid. */
	CHECK(vmxon(VMXON_PA));
	CHECK_VMFAIL_INVALID(LEN_VMXON);
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x603);
	CHECK(n.vmxon);
	CHECK_EQ(n.vmxon_ptr, VMXON_PA);

	/* With a current VMCS: VMfailValid(15), the error in that VMCS. */
	CHECK(vmptrld(VMCS_A));
	CHECK_VMSUCCEED(LEN_VMPTRLD);
	CHECK(vmxon(VMCS_B));
	CHECK_VMFAIL_VALID(LEN_VMXON, 15);
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x642);
	CHECK_EQ(n.vmxon_ptr, VMXON_PA); /* unchanged */
	CHECK_EQ(n.current_vmptr, VMCS_A);
	/* Even with an invalid pointer: the VMX-root check comes first. */
	CHECK(vmxon(VMXON_PA + 1));
	CHECK_VMFAIL_VALID(LEN_VMXON, 15);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_in_root_at_cpl3_is_gp)
{
	/* SDM: in VMX root operation, CPL > 0 is #GP(0) before VMfail. */
	setup();
	enter_vmx();
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xf3);
	CHECK(vmxon(VMXON_PA));
	CHECK_GP0();
	CHECK(n.vmxon);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_operand_not_present_pf)
{
	setup();
	regs.gpr[GPR_RAX] = NP_PAGE + 0x18;
	CHECK(run(EXIT_REASON_VMXON, MEM_RAX, 0, LEN_VMXON));
	/* A supervisor read of a not-present page: error code 0. */
	CHECK_PF(0, NP_PAGE + 0x18);
	CHECK(!n.vmxon);
	CHECK_EQ(ms.l0_refusals + ms.other_refusals, 0);

	/* [rbx + disp32] with a displacement into the page. */
	setup();
	regs.gpr[GPR_RBX] = NP_PAGE - 0x1000;
	CHECK(run(EXIT_REASON_VMXON, MEM_RBX, 0x1ff8, LEN_VMXON + 4));
	CHECK_PF(0, NP_PAGE + 0xff8);
	CHECK(!n.vmxon);

	/* Not present at the PML4 level: an address under PML4[1]. */
	setup();
	regs.gpr[GPR_RAX] = 0x0000008000000040ull;
	CHECK(run(EXIT_REASON_VMXON, MEM_RAX, 0, LEN_VMXON));
	CHECK_PF(0, 0x0000008000000040ull);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_operand_straddles_into_not_present_page)
{
	/* The m64 at RO_PAGE + 0xffc: 4 bytes readable, 4 in NP_PAGE. */
	setup();
	put32(RO_PAGE + 0xffc, (uint32_t)VMXON_PA);
	regs.gpr[GPR_RAX] = RO_PAGE + 0xffc;
	CHECK(run(EXIT_REASON_VMXON, MEM_RAX, 0, LEN_VMXON));
	CHECK_PF(0, NP_PAGE); /* CR2: the first byte of the access in the faulting page */
	CHECK(!n.vmxon);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_operand_in_l0_memory_gp)
{
	/* L1's tables map L0's range; the read of the operand there is refused: #GP(0). */
	setup();
	regs.gpr[GPR_RAX] = L0_BASE + 0x2000;
	CHECK(run(EXIT_REASON_VMXON, MEM_RAX, 0, LEN_VMXON));
	CHECK_GP0();
	CHECK(!n.vmxon);
	CHECK_EQ(ms.l0_refusals, 1);
	CHECK_EQ(ms.last_refused, L0_BASE + 0x2000);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_rbx_negative_displacement)
{
	setup();
	put64(DATA + 0x1f0, VMXON_PA);
	regs.gpr[GPR_RBX] = DATA + 0x200;
	/* VMXON [rbx-0x10]: the qualification holds the displacement, sign-extended. */
	CHECK(run(EXIT_REASON_VMXON, MEM_RBX, (uint64_t)-0x10, LEN_VMXON + 1));
	CHECK_VMSUCCEED(LEN_VMXON + 1);
	CHECK(n.vmxon);
	CHECK_EQ(n.vmxon_ptr, VMXON_PA);
	CHECK_CLEAN();
}

TEST(nested_insn_operand_not_canonical_gp_or_ss)
{
	setup();
	enter_vmx();
	regs.gpr[GPR_RAX] = 0x0000800000000000ull;
	CHECK(run(EXIT_REASON_VMPTRLD, MEM_RAX, 0, LEN_VMPTRLD));
	CHECK_GP0();
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);

	/* Through SS: #SS(0). */
	regs.gpr[GPR_RAX] = 0x0000800000000000ull;
	CHECK(run(EXIT_REASON_VMPTRLD, MEM_SS_RAX, 0, LEN_VMPTRLD + 1));
	CHECK_SS0();

	/* The last byte crossing into the non-canonical range. */
	regs.gpr[GPR_RAX] = 0x00007ffffffffffcull;
	CHECK(run(EXIT_REASON_VMPTRST, MEM_RAX, 0, LEN_VMPTRST));
	CHECK_GP0();
	CHECK_EQ(ms.writes, 0);
	CHECK_CLEAN();
}

/* ================= VMXOFF ================= */

TEST(nested_insn_vmxoff_ud_outside_vmx)
{
	setup();
	CHECK(vmxoff());
	CHECK_UD();
	CHECK(!n.vmxon);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxoff_gp_at_cpl3)
{
	setup();
	enter_vmx();
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xf3);
	CHECK(vmxoff());
	CHECK_GP0();
	CHECK(n.vmxon);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxoff_writes_vmcs12_back)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_GUEST_RIP, 0xffffffff81234567ull));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(region_field(VMCS_A, VMCS_IDX_GUEST_RIP), 0); /* only cached so far */
	CHECK(vmxoff());
	CHECK_VMSUCCEED(LEN_VMXOFF);
	CHECK(!n.vmxon);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);
	CHECK_EQ(region_field(VMCS_A, VMCS_IDX_GUEST_RIP), 0xffffffff81234567ull);
	CHECK_EQ(get32(VMCS_A), VMCS12_REVISION);

	/* Out of VMX operation: the VMX instructions (VMXON apart) are #UD again. */
	CHECK(vmptrst(DATA));
	CHECK_UD();
	CHECK(vmxoff());
	CHECK_UD();

	/* VMXOFF without a current VMCS writes nothing. */
	setup();
	enter_vmx();
	unsigned writes = ms.writes;
	CHECK(vmxoff());
	CHECK_VMSUCCEED(LEN_VMXOFF);
	CHECK_EQ(ms.writes, writes);
	CHECK(!n.vmxon);
	CHECK_CLEAN();
}

/* ================= VMCLEAR ================= */

TEST(nested_insn_vmclear_ud_outside_vmx)
{
	setup();
	CHECK(vmclear(VMCS_A));
	CHECK_UD();
	CHECK_EQ(ms.reads, 0);
	CHECK_EQ(ms.writes, 0);
	CHECK_CLEAN();
}

TEST(nested_insn_vmclear_invalid_address_2)
{
	/* No current VMCS: VMfail(2) is VMfailInvalid. */
	setup();
	enter_vmx();
	CHECK(vmclear(VMCS_A + 0x10));
	CHECK_VMFAIL_INVALID(LEN_VMCLEAR);

	/* With one: VMfailValid(2). */
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmclear(VMCS_B + 0x10));
	CHECK_VMFAIL_VALID(LEN_VMCLEAR, 2);
	CHECK_EQ(n.current_vmptr, VMCS_A);

	CHECK(vmclear(1ull << MAXPHYADDR));
	CHECK_VMFAIL_VALID(LEN_VMCLEAR, 2);

	/* L0's memory: refused, error 2, nothing written there. */
	cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
	CHECK(vmclear(L0_BASE));
	CHECK_VMFAIL_VALID(LEN_VMCLEAR, 2);
	CHECK_EQ(ms.l0_refusals, 1);
	CHECK_EQ(ms.last_refused, L0_BASE);
	CHECK_EQ(n.current_vmptr, VMCS_A);
	CHECK_CLEAN();
}

TEST(nested_insn_vmclear_vmxon_pointer_3)
{
	setup();
	enter_vmx();
	CHECK(vmclear(VMXON_PA));
	CHECK_VMFAIL_INVALID(LEN_VMCLEAR);

	setup();
	enter_vmx_with_current(VMCS_A);
	put32(VMXON_PA + offsetof(struct vmcs12, launch_state), 0x5555);
	CHECK(vmclear(VMXON_PA));
	CHECK_VMFAIL_VALID(LEN_VMCLEAR, 3);
	CHECK_EQ(get32(VMXON_PA + offsetof(struct vmcs12, launch_state)), 0x5555);
	CHECK_CLEAN();
}

TEST(nested_insn_vmclear_non_current)
{
	setup();
	make_region(VMCS_B, VMCS12_REVISION, VMCS12_LAUNCH_LAUNCHED);
	set_region_field(VMCS_B, VMCS_IDX_GUEST_RIP, 0x1234);
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_TSC_OFFSET, 0x42));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK(vmclear(VMCS_B));
	CHECK_VMSUCCEED(LEN_VMCLEAR);
	CHECK_EQ(get32(VMCS_B + offsetof(struct vmcs12, launch_state)), VMCS12_LAUNCH_CLEAR);
	CHECK_EQ(get32(VMCS_B), VMCS12_REVISION);
	CHECK_EQ(region_field(VMCS_B, VMCS_IDX_GUEST_RIP), 0x1234);
	/* The current VMCS stays current and cached. */
	CHECK_EQ(n.current_vmptr, VMCS_A);
	CHECK_EQ(region_field(VMCS_A, VMCS_IDX_TSC_OFFSET), 0);
	CHECK(vmread(VMCS_TSC_OFFSET));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0x42);

	/* Without a current VMCS too; the revision of the region is not checked. */
	setup();
	enter_vmx();
	make_region(BADREV_PA, 0x12345, VMCS12_LAUNCH_LAUNCHED);
	CHECK(vmclear(BADREV_PA));
	CHECK_VMSUCCEED(LEN_VMCLEAR);
	CHECK_EQ(get32(BADREV_PA + offsetof(struct vmcs12, launch_state)), VMCS12_LAUNCH_CLEAR);
	CHECK_EQ(get32(BADREV_PA), 0x12345);
	CHECK_CLEAN();
}

TEST(nested_insn_vmclear_current)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_GUEST_RSP, 0xffffc90000123450ull));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	/* A failure recorded in the cached VMCS goes back with it. */
	CHECK(vmptrld(VMCS_A + 4));
	CHECK_VMFAIL_VALID(LEN_VMPTRLD, 9);
	cache.v.launch_state = VMCS12_LAUNCH_LAUNCHED; /* as a VMLAUNCH would leave it */
	CHECK(vmclear(VMCS_A));
	CHECK_VMSUCCEED(LEN_VMCLEAR);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);
	CHECK_EQ(get32(VMCS_A + offsetof(struct vmcs12, launch_state)), VMCS12_LAUNCH_CLEAR);
	CHECK_EQ(region_field(VMCS_A, VMCS_IDX_GUEST_RSP), 0xffffc90000123450ull);
	CHECK_EQ(region_field(VMCS_A, VMCS_IDX_VM_INSTRUCTION_ERROR), 9);
	CHECK_EQ(get32(VMCS_A), VMCS12_REVISION);

	/* No current VMCS any more. */
	regs.gpr[GPR_RCX] = 0x77;
	CHECK(vmread(VMCS_GUEST_RSP));
	CHECK_VMFAIL_INVALID(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0x1111111111111111ull); /* destination untouched */
	put64(DATA, 0);
	CHECK(vmptrst(DATA));
	CHECK_VMSUCCEED(LEN_VMPTRST);
	CHECK_EQ(get64(DATA), ~0ull);
	CHECK_CLEAN();
}

/* ================= VMPTRLD ================= */

TEST(nested_insn_vmptrld_ud_outside_vmx)
{
	setup();
	CHECK(vmptrld(VMCS_A));
	CHECK_UD();
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);
	CHECK_CLEAN();
}

TEST(nested_insn_vmptrld_invalid_address_9)
{
	/* Without a current VMCS each is VMfailInvalid. */
	setup();
	enter_vmx();
	CHECK(vmptrld(VMCS_A + 0x100));
	CHECK_VMFAIL_INVALID(LEN_VMPTRLD);
	CHECK(vmptrld(1ull << MAXPHYADDR));
	CHECK_VMFAIL_INVALID(LEN_VMPTRLD);
	CHECK(vmptrld(L0_BASE + 0x10000));
	CHECK_VMFAIL_INVALID(LEN_VMPTRLD);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);

	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmptrld(VMCS_B + 0x100));
	CHECK_VMFAIL_VALID(LEN_VMPTRLD, 9);
	cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
	CHECK(vmptrld((1ull << MAXPHYADDR) | VMCS_B));
	CHECK_VMFAIL_VALID(LEN_VMPTRLD, 9);
	cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
	CHECK_EQ(ms.l0_refusals, 0);
	CHECK(vmptrld(L0_BASE + 0x10000));
	CHECK_VMFAIL_VALID(LEN_VMPTRLD, 9);
	CHECK_EQ(ms.l0_refusals, 1);
	CHECK_EQ(ms.last_refused, L0_BASE + 0x10000);
	CHECK_EQ(n.current_vmptr, VMCS_A);
	CHECK_CLEAN();
}

TEST(nested_insn_vmptrld_vmxon_pointer_10)
{
	setup();
	enter_vmx();
	CHECK(vmptrld(VMXON_PA));
	CHECK_VMFAIL_INVALID(LEN_VMPTRLD);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);

	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmptrld(VMXON_PA));
	CHECK_VMFAIL_VALID(LEN_VMPTRLD, 10);
	CHECK_EQ(n.current_vmptr, VMCS_A);
	CHECK_CLEAN();
}

TEST(nested_insn_vmptrld_bad_revision_11)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmptrld(BADREV_PA));
	CHECK_VMFAIL_VALID(LEN_VMPTRLD, 11);
	cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
	CHECK(vmptrld(HWREV_PA));
	CHECK_VMFAIL_VALID(LEN_VMPTRLD, 11);
	cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
	CHECK_EQ(n.current_vmptr, VMCS_A);
	CHECK_CLEAN();
}

TEST(nested_insn_vmptrld_caches_region)
{
	setup();
	set_region_field(VMCS_A, VMCS_IDX_GUEST_RIP, 0xffffffff80001234ull);
	set_region_field(VMCS_A, VMCS_IDX_HOST_RIP, 0xffffffff80005678ull);
	put32(VMCS_A + offsetof(struct vmcs12, abort), 0x3);
	enter_vmx();
	CHECK(vmptrld(VMCS_A));
	CHECK_VMSUCCEED(LEN_VMPTRLD);
	CHECK_EQ(n.current_vmptr, VMCS_A);
	CHECK_EQ(cache.v.revision, VMCS12_REVISION);
	CHECK_EQ(cache.v.abort, 3);
	CHECK_EQ(cache.v.launch_state, VMCS12_LAUNCH_CLEAR);
	CHECK(memcmp(&cache.v, host(VMCS_A, sizeof(struct vmcs12)), sizeof(struct vmcs12)) == 0);

	/* Later changes to the region in memory are not seen: the VMCS is cached. */
	set_region_field(VMCS_A, VMCS_IDX_GUEST_RIP, 0x99);
	CHECK(vmread(VMCS_GUEST_RIP));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0xffffffff80001234ull);
	CHECK(vmread(VMCS_HOST_RIP)); /* L1's host state: vmcs12, not vmcs01 */
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0xffffffff80005678ull);
	CHECK_CLEAN();
}

/*
 * A region L1 wrote by hand may hold more bits than a field has (SDM Vol.
 * 3C 25.11.2): VMPTRLD cuts each to its width once, so that a 32-bit
 * page-fault error-code match of 1 << 32 cannot reach the reflect
 * decision (which compares it in full) as anything but 0.
 */
TEST(nested_insn_vmptrld_normalizes_widths)
{
	setup();
	set_region_field(VMCS_A, VMCS_IDX_PAGE_FAULT_ERROR_CODE_MATCH, 0x100000005ull);
	set_region_field(VMCS_A, VMCS_IDX_VIRTUAL_PROCESSOR_ID, 0xdeadbeef0007ull);
	set_region_field(VMCS_A, VMCS_IDX_GUEST_CS_SELECTOR, 0x123450010ull);
	set_region_field(VMCS_A, VMCS_IDX_GUEST_RIP, 0xffffffff80001234ull);
	set_region_field(VMCS_A, VMCS_IDX_TSC_OFFSET, 0x8000000000000001ull);
	put32(VMCS_A + offsetof(struct vmcs12, launch_state), 7);
	enter_vmx();
	CHECK(vmptrld(VMCS_A));
	CHECK_VMSUCCEED(LEN_VMPTRLD);
	/* 32-bit control field: bits 63:32 gone. */
	CHECK_EQ(vmcs12_get(&cache.v, VMCS_PAGE_FAULT_ERROR_CODE_MATCH), 5);
	/* 16-bit fields. */
	CHECK_EQ(vmcs12_get(&cache.v, VMCS_VIRTUAL_PROCESSOR_ID), 7);
	CHECK_EQ(vmcs12_get(&cache.v, VMCS_GUEST_CS_SELECTOR), 0x10);
	/* Natural-width and 64-bit fields keep all 64 bits. */
	CHECK_EQ(vmcs12_get(&cache.v, VMCS_GUEST_RIP), 0xffffffff80001234ull);
	CHECK_EQ(vmcs12_get(&cache.v, VMCS_TSC_OFFSET), 0x8000000000000001ull);
	/* A launch state that is not "launched" is "clear". */
	CHECK_EQ(cache.v.launch_state, VMCS12_LAUNCH_CLEAR);
	CHECK(vmread(VMCS_PAGE_FAULT_ERROR_CODE_MATCH));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 5);
	CHECK_CLEAN();
}

TEST(nested_insn_vmptrld_second_writes_first_back)
{
	setup();
	set_region_field(VMCS_B, VMCS_IDX_TSC_OFFSET, 0xbbbbbbbb00000002ull);
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_TSC_OFFSET, 0xaaaaaaaa00000001ull));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(get64(VMCS_A + VMCS12_FIELD_OFFSET(VMCS_IDX_TSC_OFFSET)), 0);
	CHECK(vmptrld(VMCS_B));
	CHECK_VMSUCCEED(LEN_VMPTRLD);
	CHECK_EQ(n.current_vmptr, VMCS_B);
	CHECK_EQ(get64(VMCS_A + VMCS12_FIELD_OFFSET(VMCS_IDX_TSC_OFFSET)), 0xaaaaaaaa00000001ull);
	CHECK(vmread(VMCS_TSC_OFFSET));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0xbbbbbbbb00000002ull);
	/* And back to A: what was written is there. */
	CHECK(vmptrld(VMCS_A));
	CHECK_VMSUCCEED(LEN_VMPTRLD);
	CHECK(vmread(VMCS_TSC_OFFSET));
	CHECK_EQ(vmread_value, 0xaaaaaaaa00000001ull);
	CHECK_CLEAN();
}

TEST(nested_insn_vmptrld_current_again_keeps_cache)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_GUEST_CR3, 0x5000));
	CHECK(vmptrld(VMCS_A));
	CHECK_VMSUCCEED(LEN_VMPTRLD);
	CHECK(vmread(VMCS_GUEST_CR3));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0x5000);
	CHECK_CLEAN();
}

/* ================= VMPTRST ================= */

TEST(nested_insn_vmptrst_none_and_current)
{
	setup();
	enter_vmx();
	put64(DATA + 0x40, 0x1234);
	put64(DATA + 0x48, 0x5678);
	CHECK(vmptrst(DATA + 0x40));
	CHECK_VMSUCCEED(LEN_VMPTRST);
	CHECK_EQ(get64(DATA + 0x40), ~0ull);
	CHECK_EQ(get64(DATA + 0x48), 0x5678);

	CHECK(vmptrld(VMCS_B));
	regs.gpr[GPR_RBX] = DATA + 0x50;
	CHECK(run(EXIT_REASON_VMPTRST, MEM_RBX, (uint64_t)-0x10, LEN_DISP8 - 1));
	CHECK_VMSUCCEED(LEN_DISP8 - 1);
	CHECK_EQ(get64(DATA + 0x40), VMCS_B);
	CHECK_EQ(get64(DATA + 0x48), 0x5678);
	CHECK_EQ(n.current_vmptr, VMCS_B);
	CHECK_CLEAN();
}

TEST(nested_insn_vmptrst_faults)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	/* A supervisor write to a read-only page with CR0.WP = 1: P|W. */
	CHECK(vmptrst(RO_PAGE + 0x10));
	CHECK_PF(PF_ERR_P | PF_ERR_W, RO_PAGE + 0x10);
	CHECK_EQ(get64(RO_PAGE + 0x10), 0);
	/* Not present: W. */
	CHECK(vmptrst(NP_PAGE + 0x20));
	CHECK_PF(PF_ERR_W, NP_PAGE + 0x20);
	CHECK_EQ(get64(NP_PAGE + 0x20), 0);
	/* Straddling DATA's last bytes and RO_PAGE: nothing written at all. */
	put64(DATA + 0xff8, 0x1122334455667788ull);
	CHECK(vmptrst(DATA + 0xffc));
	CHECK_PF(PF_ERR_P | PF_ERR_W, RO_PAGE);
	CHECK_EQ(get64(DATA + 0xff8), 0x1122334455667788ull);
	/* In L0's memory: #GP(0), refused. */
	CHECK(vmptrst(L0_BASE + 0x3000));
	CHECK_GP0();
	CHECK_EQ(ms.l0_refusals, 1);
	CHECK_CLEAN();
}

TEST(nested_insn_vmptrst_ud_outside_vmx)
{
	setup();
	put64(DATA, 7);
	CHECK(vmptrst(DATA));
	CHECK_UD();
	CHECK_EQ(get64(DATA), 7);
	CHECK_CLEAN();
}

/* ================= VMREAD / VMWRITE ================= */

TEST(nested_insn_vmread_vmwrite_ud_outside_vmx)
{
	setup();
	CHECK(vmread(VMCS_GUEST_RIP));
	CHECK_UD();
	CHECK_EQ(vmread_value, 0x1111111111111111ull);
	CHECK(vmwrite(VMCS_GUEST_RIP, 1));
	CHECK_UD();
	CHECK_CLEAN();
}

TEST(nested_insn_vmread_vmwrite_gp_at_cpl3)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xf3);
	CHECK(vmread(VMCS_GUEST_RIP));
	CHECK_GP0();
	CHECK(vmwrite(VMCS_GUEST_RIP, 1));
	CHECK_GP0();
	CHECK_EQ(cached(VMCS_IDX_GUEST_RIP), 0);
	CHECK_CLEAN();
}

TEST(nested_insn_vmread_vmwrite_no_current_fail_invalid)
{
	setup();
	enter_vmx();
	CHECK(vmread(VMCS_GUEST_RIP));
	CHECK_VMFAIL_INVALID(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0x1111111111111111ull);
	CHECK(vmwrite(VMCS_GUEST_RIP, 1));
	CHECK_VMFAIL_INVALID(LEN_VMWRITE);
	/* Even for an unknown field: no VMCS to put error 12 in. */
	CHECK(vmread(0x7ffe));
	CHECK_VMFAIL_INVALID(LEN_VMREAD);
	/* Memory forms as well. */
	put64(DATA, 0x1234);
	regs.gpr[GPR_RAX] = DATA;
	regs.gpr[GPR_RDX] = VMCS_GUEST_RIP;
	CHECK(run(EXIT_REASON_VMREAD, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMREAD));
	CHECK_VMFAIL_INVALID(LEN_VMREAD);
	CHECK_EQ(get64(DATA), 0x1234);
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_VMFAIL_INVALID(LEN_VMWRITE);
	CHECK_CLEAN();
}

TEST(nested_insn_vmread_vmwrite_unsupported_field_12)
{
	static const uint64_t bad[] = {
	    0x7ffe,				/* no such field */
	    0x6c18,				/* after HOST_RIP */
	    VMCS_GUEST_CS_SELECTOR | 1,		/* "high" access of a 16-bit field */
	    VMCS_PIN_BASED_VM_EXEC_CONTROL | 1, /* of a 32-bit field */
	    VMCS_GUEST_RIP | 1,			/* of a natural-width field */
	    (1ull << 32) | VMCS_GUEST_RIP,	/* bits 63:32 not 0 */
	    0xffffffff00000000ull | VMCS_TSC_OFFSET,
	};
	setup();
	enter_vmx_with_current(VMCS_A);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
		CHECK(vmread(bad[i]));
		CHECK_VMFAIL_VALID(LEN_VMREAD, 12);
		CHECK_EQ(vmread_value, 0x1111111111111111ull);
		cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
		CHECK(vmwrite(bad[i], 0x55));
		CHECK_VMFAIL_VALID(LEN_VMWRITE, 12);
	}
	CHECK_EQ(cached(VMCS_IDX_GUEST_RIP), 0);
	CHECK_EQ(cached(VMCS_IDX_TSC_OFFSET), 0);
	/* A field that does not exist is not counted as one L1 touched (HC_VMX_FIELD_TRAPS). */
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++)
		CHECK(n.vmread_traps[i] == 0 && n.vmwrite_traps[i] == 0);
	CHECK(vmread(VMCS_TSC_OFFSET | 1));
	CHECK(vmread(VMCS_TSC_OFFSET));
	CHECK(vmwrite(VMCS_GUEST_RIP, 0x55));
	CHECK_EQ(n.vmread_traps[VMCS_IDX_TSC_OFFSET], 2);
	CHECK_EQ(n.vmwrite_traps[VMCS_IDX_TSC_OFFSET], 0);
	CHECK_EQ(n.vmwrite_traps[VMCS_IDX_GUEST_RIP], 1);
	CHECK_EQ(n.vmread_traps[VMCS_IDX_GUEST_RIP], 0);
	CHECK_CLEAN();
}

/* A CPU without IA32_VMX_MISC[29]: L1's MISC lacks it too (nested/vmx_msrs.c). */
static void without_vmwrite_any_field(void)
{
	hw_caps.misc &= ~MISC_VMWRITE_ANY;
	nested_vmx_msrs_init(&hw_caps, vmcs12_highest_field_index(), &l1_caps);
}

/* SDM 31.3 VMWRITE: "ELSIF field is read-only and IA32_VMX_MISC[29] = 0": error 13. */
TEST(nested_insn_vmwrite_read_only_field_13)
{
	setup();
	without_vmwrite_any_field();
	CHECK_EQ(l1_caps.misc & MISC_VMWRITE_ANY, 0); /* L1 cannot VMWRITE exit information */
	enter_vmx_with_current(VMCS_A);
	vmcs12_set(&cache.v, VMCS_VM_EXIT_REASON, 30);
	CHECK(vmwrite(VMCS_VM_EXIT_REASON, 1));
	CHECK_VMFAIL_VALID(LEN_VMWRITE, 13);
	CHECK_EQ(cached(VMCS_IDX_VM_EXIT_REASON), 30);
	CHECK(vmwrite(VMCS_EXIT_QUALIFICATION, 1));
	CHECK_VMFAIL_VALID(LEN_VMWRITE, 13);
	CHECK(vmwrite(VMCS_VM_EXIT_INTR_INFO, 1));
	CHECK_VMFAIL_VALID(LEN_VMWRITE, 13);
	CHECK(vmwrite(VMCS_VM_INSTRUCTION_ERROR, 0));
	CHECK_VMFAIL_VALID(LEN_VMWRITE, 13);
	/* VMREAD of them is fine. */
	CHECK(vmread(VMCS_VM_EXIT_REASON));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 30);
	CHECK(vmread(VMCS_VM_INSTRUCTION_ERROR));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 13);
	CHECK_CLEAN();
}

/*
 * With IA32_VMX_MISC[29] (Bochs has it, so L1 is offered it), VMWRITE to an
 * exit-information field succeeds, cut to the field's width, and VMREAD
 * returns it (SDM 31.3 VMWRITE, Vol. 3D A.6); fields L1 lacks stay error 12.
 */
TEST(nested_insn_vmwrite_exit_info_with_misc29)
{
	setup();
	CHECK_EQ(l1_caps.misc & MISC_VMWRITE_ANY, MISC_VMWRITE_ANY);
	enter_vmx_with_current(VMCS_A);
	vmcs12_set(&cache.v, VMCS_VM_EXIT_REASON, 30);
	CHECK(vmwrite(VMCS_VM_EXIT_REASON, 0xabcdef0000000012ull)); /* 32-bit field */
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_VM_EXIT_REASON), 0x12);
	CHECK(vmwrite(VMCS_EXIT_QUALIFICATION, 0x8000000000000123ull)); /* natural width */
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_EXIT_QUALIFICATION), 0x8000000000000123ull);
	CHECK(vmwrite(VMCS_VMX_INSTRUCTION_INFO, 0x1808));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK(vmwrite(VMCS_GUEST_LINEAR_ADDRESS, 0x1000));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	/* The error field too: VMsucceed leaves it as written. */
	CHECK(vmwrite(VMCS_VM_INSTRUCTION_ERROR, 7));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_VM_INSTRUCTION_ERROR), 7);
	CHECK(vmread(VMCS_VM_EXIT_REASON));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0x12);
	CHECK(vmread(VMCS_VMX_INSTRUCTION_INFO));
	CHECK_EQ(vmread_value, 0x1808);
	CHECK(vmread(VMCS_VM_INSTRUCTION_ERROR));
	CHECK_EQ(vmread_value, 7);
	/* GUEST_PHYSICAL_ADDRESS exists with EPT (nested EPT): writable too. */
	CHECK(vmwrite(VMCS_GUEST_PHYSICAL_ADDRESS, 0x2000));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	/* A field of a feature L1 lacks (PML): 12 still. */
	CHECK(vmwrite(VMCS_GUEST_PML_INDEX, 1));
	CHECK_VMFAIL_VALID(LEN_VMWRITE, 12);
	CHECK_CLEAN();
}

TEST(nested_insn_vmwrite_widths_truncated)
{
	const uint64_t v = 0x123456789abcdef0ull;
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_GUEST_ES_SELECTOR, v)); /* 16-bit */
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK(vmwrite(VMCS_GUEST_ES_LIMIT, v)); /* 32-bit */
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK(vmwrite(VMCS_TSC_OFFSET, v)); /* 64-bit */
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK(vmwrite(VMCS_GUEST_RIP, v)); /* natural width */
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_GUEST_ES_SELECTOR), 0xdef0);
	CHECK_EQ(cached(VMCS_IDX_GUEST_ES_LIMIT), 0x9abcdef0);
	CHECK_EQ(cached(VMCS_IDX_TSC_OFFSET), v);
	CHECK_EQ(cached(VMCS_IDX_GUEST_RIP), v);
	CHECK(vmread(VMCS_GUEST_ES_SELECTOR));
	CHECK_EQ(vmread_value, 0xdef0); /* zero-extended into the 64-bit register */
	CHECK(vmread(VMCS_GUEST_ES_LIMIT));
	CHECK_EQ(vmread_value, 0x9abcdef0);
	CHECK(vmread(VMCS_TSC_OFFSET));
	CHECK_EQ(vmread_value, v);
	CHECK(vmread(VMCS_GUEST_RIP));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, v);
	/* The error field was never written. */
	CHECK_EQ(cached(VMCS_IDX_VM_INSTRUCTION_ERROR), 0);
	CHECK_CLEAN();
}

TEST(nested_insn_vmread_vmwrite_high_access)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_TSC_OFFSET, 0x1111111122222222ull));
	/* High access: bits 63:32 of the field; the operand's own upper bits ignored. */
	CHECK(vmwrite(VMCS_TSC_OFFSET | 1, 0xffffffff33333333ull));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_TSC_OFFSET), 0x3333333322222222ull);
	CHECK(vmread(VMCS_TSC_OFFSET | 1));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0x33333333);
	CHECK(vmread(VMCS_TSC_OFFSET));
	CHECK_EQ(vmread_value, 0x3333333322222222ull);
	CHECK_CLEAN();
}

TEST(nested_insn_vmread_vmwrite_register_operands)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	/* VMWRITE from R15, the encoding in R9. */
	CHECK(vmwrite_rr(GPR_R9, VMCS_GUEST_CR3, GPR_R15, 0x7000));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_GUEST_CR3), 0x7000);
	/* VMREAD into R12. */
	CHECK(vmread_rr(GPR_R12, GPR_R9, VMCS_GUEST_CR3));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(regs.gpr[GPR_R12], 0x7000);
	CHECK_EQ(regs.gpr[GPR_R15], 0x7000);
	CHECK_EQ(regs.gpr[GPR_R11], GPR_INIT(GPR_R11)); /* others untouched */

	/* VMREAD into RSP: GUEST_RSP, not the frame's slot. */
	CHECK(vmread_rr(GPR_RSP, GPR_RDX, VMCS_GUEST_CR3));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(field(VMCS_GUEST_RSP), 0x7000);
	CHECK_EQ(regs.gpr[GPR_RSP], 0xbad0bad0bad0bad0ull);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_RSP), 1);

	/* VMWRITE from RSP: GUEST_RSP's value. */
	vmcs_soft_set(VMCS_GUEST_RSP, RSP0);
	regs.gpr[GPR_RDX] = VMCS_GUEST_RSP;
	CHECK(run(EXIT_REASON_VMWRITE, REGFORM | REG1(GPR_RSP) | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_GUEST_RSP), RSP0);

	/* The encoding in RSP (GUEST_RSP holds it). */
	CHECK(vmread_rr(GPR_RBX, GPR_RSP, VMCS_GUEST_CR3));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(regs.gpr[GPR_RBX], 0x7000);
	CHECK_CLEAN();
}

TEST(nested_insn_vmread_memory_destination)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_GUEST_RIP, 0xffffffff81000abcull));
	memset(host(DATA + 0x1e8, 0x18), 0xee, 0x18);
	regs.gpr[GPR_RBX] = DATA + 0x200;
	regs.gpr[GPR_RDX] = VMCS_GUEST_RIP;
	/* VMREAD [rbx-0x10], rdx */
	CHECK(run(EXIT_REASON_VMREAD, MEM_RBX | REG2(GPR_RDX), (uint64_t)-0x10, LEN_VMREAD + 1));
	CHECK_VMSUCCEED(LEN_VMREAD + 1);
	CHECK_EQ(get64(DATA + 0x1f0), 0xffffffff81000abcull);
	CHECK_EQ(get64(DATA + 0x1e8), 0xeeeeeeeeeeeeeeeeull);
	CHECK_EQ(get64(DATA + 0x1f8), 0xeeeeeeeeeeeeeeeeull);

	/* A 16-bit field into memory: 8 bytes, zero-extended. */
	CHECK(vmwrite(VMCS_GUEST_CS_SELECTOR, 0x10));
	regs.gpr[GPR_RDX] = VMCS_GUEST_CS_SELECTOR;
	CHECK(run(EXIT_REASON_VMREAD, MEM_RBX | REG2(GPR_RDX), (uint64_t)-0x10, LEN_VMREAD + 1));
	CHECK_VMSUCCEED(LEN_VMREAD + 1);
	CHECK_EQ(get64(DATA + 0x1f0), 0x10);

	/* A read-only destination: #PF P|W, nothing written, no VMsucceed. */
	put64(RO_PAGE + 0x80, 0x77);
	regs.gpr[GPR_RAX] = RO_PAGE + 0x80;
	CHECK(run(EXIT_REASON_VMREAD, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMREAD));
	CHECK_PF(PF_ERR_P | PF_ERR_W, RO_PAGE + 0x80);
	CHECK_EQ(get64(RO_PAGE + 0x80), 0x77);
	CHECK_CLEAN();
}

TEST(nested_insn_vmwrite_memory_source)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	put64(DATA + 0x300, 0x0000000012345678ull);
	regs.gpr[GPR_RAX] = DATA + 0x300;
	regs.gpr[GPR_RDX] = VMCS_TSC_OFFSET;
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_TSC_OFFSET), 0x12345678);

	/* A source that is not present: #PF (a read), the field unchanged. */
	regs.gpr[GPR_RAX] = NP_PAGE + 0x8;
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_PF(0, NP_PAGE + 0x8);
	CHECK_EQ(cached(VMCS_IDX_TSC_OFFSET), 0x12345678);
	CHECK_CLEAN();
}

/*
 * A field of a feature L1 is not offered does not exist for L1 (SDM Vol.
 * 3C Appendix B): the PML address and the posted-interrupt descriptor
 * while PML and posted interrupts are not offered: error 12.  Fields of
 * offered features (EPT with nested EPT, XSAVES, the preemption timer)
 * work.
 */
TEST(nested_insn_fields_of_unoffered_features_error_12)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_PML_ADDRESS, 0x1000));
	CHECK_VMFAIL_VALID(LEN_VMWRITE, 12);
	CHECK_EQ(cached(VMCS_IDX_PML_ADDRESS), 0);
	CHECK(vmread(VMCS_POSTED_INTR_DESC_ADDR));
	CHECK_VMFAIL_VALID(LEN_VMREAD, 12);
	CHECK(vmwrite(VMCS_EPT_POINTER, 0x1000));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_EPT_POINTER), 0x1000);
	CHECK(vmread(VMCS_GUEST_PHYSICAL_ADDRESS));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK(vmwrite(VMCS_XSS_EXIT_BITMAP, 3));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK(vmwrite(VMCS_VMX_PREEMPTION_TIMER_VALUE, 5));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_CLEAN();
}

/*
 * On a CPU that cannot save the timer's value L1 is offered no timer
 * (nested/vmx_msrs.c), and the timer-value field does not exist for it.
 */
TEST(nested_insn_timer_field_without_the_timer_error_12)
{
	setup();
	hw_caps.true_exit &= ~((uint64_t)EXIT_SAVE_PREEMPTION_TIMER << 32);
	nested_vmx_msrs_init(&hw_caps, vmcs12_highest_field_index(), &l1_caps);
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_VMX_PREEMPTION_TIMER_VALUE, 5));
	CHECK_VMFAIL_VALID(LEN_VMWRITE, 12);
	CHECK_CLEAN();
}

TEST(nested_insn_vmread_vmwrite_32bit_protected_mode)
{
	setup_prot32();
	/* VMXON [eax]: DS base applied, the upper half of RAX ignored (32-bit address). */
	put64(SLOT, VMXON_PA);
	regs.gpr[GPR_RAX] = 0xdead000000000000ull | (SLOT - DS_BASE32);
	CHECK(run(EXIT_REASON_VMXON, MEM32_RAX, 0, LEN_VMXON));
	CHECK_VMSUCCEED(LEN_VMXON);
	CHECK(n.vmxon);
	put64(SLOT, VMCS_A);
	CHECK(run(EXIT_REASON_VMPTRLD, MEM32_RAX, 0, LEN_VMPTRLD));
	CHECK_VMSUCCEED(LEN_VMPTRLD);
	CHECK_EQ(n.current_vmptr, VMCS_A);

	/* VMWRITE r32: the field's high bits cleared; reg2's upper half ignored. */
	cache.v.field[VMCS_IDX_TSC_OFFSET] = ~0ull;
	CHECK(vmwrite_rr(GPR_RDX, 0xffffffff00000000ull | VMCS_TSC_OFFSET, GPR_RCX,
			 0xaaaaaaaa12345678ull));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_TSC_OFFSET), 0x12345678);
	CHECK(vmwrite_rr(GPR_RDX, VMCS_GUEST_RIP, GPR_RCX, 0xaaaaaaaa00401234ull));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_GUEST_RIP), 0x00401234);
	/* The high half of a 64-bit field. */
	CHECK(vmwrite_rr(GPR_RDX, VMCS_TSC_OFFSET | 1, GPR_RCX, 0x9abcdef0));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_TSC_OFFSET), 0x9abcdef012345678ull);

	/* VMREAD r32: the low 32 bits of a 64-bit field. */
	CHECK(vmread_rr(GPR_RBX, GPR_RDX, 0xffffffff00000000ull | VMCS_TSC_OFFSET));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ((uint32_t)regs.gpr[GPR_RBX], 0x12345678);
	CHECK(vmread_rr(GPR_RBX, GPR_RDX, VMCS_TSC_OFFSET | 1));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ((uint32_t)regs.gpr[GPR_RBX], 0x9abcdef0);

	/* VMREAD m32: exactly 4 bytes written. */
	put64(DATA + 0x400, 0xeeeeeeeeeeeeeeeeull);
	regs.gpr[GPR_RAX] = DATA + 0x400 - DS_BASE32;
	regs.gpr[GPR_RDX] = VMCS_TSC_OFFSET;
	CHECK(run(EXIT_REASON_VMREAD, MEM32_RAX | REG2(GPR_RDX), 0, LEN_VMREAD));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(get64(DATA + 0x400), 0xeeeeeeee12345678ull);

	/* VMWRITE m32: 4 bytes read, the field's high bits cleared. */
	put64(DATA + 0x408, 0xbbbbbbbb0000cafeull);
	regs.gpr[GPR_RAX] = DATA + 0x408 - DS_BASE32;
	CHECK(run(EXIT_REASON_VMWRITE, MEM32_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK_EQ(cached(VMCS_IDX_TSC_OFFSET), 0xcafe);

	/* VMPTRST m64 through 32-bit paging. */
	regs.gpr[GPR_RAX] = DATA + 0x410 - DS_BASE32;
	CHECK(run(EXIT_REASON_VMPTRST, MEM32_RAX, 0, LEN_VMPTRST));
	CHECK_VMSUCCEED(LEN_VMPTRST);
	CHECK_EQ(get64(DATA + 0x410), VMCS_A);

	/* #PF through 32-bit paging. */
	regs.gpr[GPR_RAX] = NP_PAGE - DS_BASE32;
	CHECK(run(EXIT_REASON_VMPTRST, MEM32_RAX, 0, LEN_VMPTRST));
	CHECK_PF(PF_ERR_W, NP_PAGE);
	CHECK_CLEAN();
}

/*
 * SDM Vol. 3C 31.3 VMREAD: outside 64-bit mode the destination is 32
 * bits, so only bits 31:0 of a wider field are stored.  L0 keeps L1's
 * registers 64 bits wide: the high half of the field must not reach the
 * high half of L1's register (zero-extended, as a 32-bit register result
 * of the CPU), whatever the register held before.
 */
TEST(nested_insn_vmread_r32_drops_the_fields_high_half)
{
	setup_prot32();
	put64(SLOT, VMXON_PA);
	regs.gpr[GPR_RAX] = SLOT - DS_BASE32;
	CHECK(run(EXIT_REASON_VMXON, MEM32_RAX, 0, LEN_VMXON));
	CHECK_VMSUCCEED(LEN_VMXON);
	put64(SLOT, VMCS_A);
	CHECK(run(EXIT_REASON_VMPTRLD, MEM32_RAX, 0, LEN_VMPTRLD));
	CHECK_VMSUCCEED(LEN_VMPTRLD);

	cache.v.field[VMCS_IDX_TSC_OFFSET] = 0x9abcdef012345678ull;
	regs.gpr[GPR_RBX] = 0x5555555555555555ull;
	CHECK(vmread_rr(GPR_RBX, GPR_RDX, VMCS_TSC_OFFSET));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(regs.gpr[GPR_RBX], 0x12345678);
	/* A natural-width field: the same. */
	cache.v.field[VMCS_IDX_GUEST_RIP] = 0xffffffff81abcdefull;
	regs.gpr[GPR_RBX] = 0x5555555555555555ull;
	CHECK(vmread_rr(GPR_RBX, GPR_RDX, VMCS_GUEST_RIP));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(regs.gpr[GPR_RBX], 0x81abcdef);
	CHECK_CLEAN();
}

TEST(nested_insn_compat_mode_ud)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xc09b); /* L = 0 with EFER.LMA = 1 */
	regs.gpr[GPR_RAX] = DATA;
	CHECK(run(EXIT_REASON_VMPTRST, MEM32_RAX, 0, LEN_VMPTRST));
	CHECK_UD();
	CHECK(vmread_rr(GPR_RBX, GPR_RDX, VMCS_GUEST_RIP));
	CHECK_UD();
	CHECK_CLEAN();
}

/* ================= not emulated ================= */

TEST(nested_insn_not_emulated_reasons_change_nothing)
{
	static const uint32_t reasons[] = {EXIT_REASON_VMLAUNCH, EXIT_REASON_VMRESUME,
					   EXIT_REASON_CPUID,	 EXIT_REASON_VMCALL};
	static uint8_t mem_before[MEM_SIZE];
	for (unsigned pass = 0; pass < 2; pass++) {
		setup();
		if (pass)
			enter_vmx_with_current(VMCS_A);
		for (unsigned i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
			struct nested_cpu n_before = n;
			struct guest_regs regs_before = regs;
			struct vmcs12 cache_before = cache.v;
			memcpy(mem_before, mem, sizeof(mem));
			unsigned reads = ms.reads, writes = ms.writes;
			unsigned refused = ms.l0_refusals + ms.other_refusals;
			CHECK_CLEAN(); /* what came before, then count this exit alone */
			vmcs_soft_clear_counters();
			regs.gpr[GPR_RAX] = SLOT;
			regs_before.gpr[GPR_RAX] = SLOT;
			CHECK(!run(reasons[i], MEM_RAX, 0, 3));
			CHECK_EQ(field(VMCS_GUEST_RIP), rip_in);
			CHECK_EQ(field(VMCS_GUEST_RFLAGS), rflags_in);
			CHECK_EQ(field(VMCS_VM_ENTRY_INTR_INFO_FIELD), 0);
			for (unsigned c = 0; c < 4; c++)
				CHECK_EQ(vmcs_soft_writes((enum vmcs_class)c), 0);
			CHECK_EQ(n.vmxon, n_before.vmxon);
			CHECK_EQ(n.vmxon_ptr, n_before.vmxon_ptr);
			CHECK_EQ(n.current_vmptr, n_before.current_vmptr);
			CHECK(n.vmcs12 == n_before.vmcs12);
			CHECK(memcmp(&regs, &regs_before, sizeof(regs)) == 0);
			CHECK(memcmp(&cache.v, &cache_before, sizeof(cache_before)) == 0);
			CHECK(memcmp(mem, mem_before, sizeof(mem)) == 0);
			CHECK_EQ(ms.reads, reads);
			CHECK_EQ(ms.writes, writes);
			CHECK_EQ(ms.l0_refusals + ms.other_refusals, refused);
			CHECK_EQ(hw_calls.set_cr2, 0);
			CHECK_CLEAN();
		}
	}
}

/* ================= RFLAGS, exactly ================= */

TEST(nested_insn_rflags_exact)
{
	/* From all six flags clear (IF set): CF or ZF appear, nothing else changes. */
	setup();
	rflags_in = 0x202;
	CHECK(vmxon(VMXON_PA + 1));
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x203);
	CHECK(vmxon(VMXON_PA));
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x202);
	CHECK(vmptrld(VMCS_A));
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x202);
	CHECK(vmptrld(VMXON_PA));
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x242);
	CHECK_EQ(cached(VMCS_IDX_VM_INSTRUCTION_ERROR), 10);

	/* From all six set, with TF-free high bits (AC, ID, DF) kept. */
	rflags_in = 0x240ed7ull;
	CHECK(vmptrld(VMXON_PA));
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x240642ull);
	CHECK(vmptrld(VMCS_A));
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x240602ull);
	CHECK(vmclear(VMCS_A));
	CHECK(vmread(VMCS_GUEST_RIP));
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), 0x240603ull);
	/* vmxon, vmxon, 4 x vmptrld, vmclear, vmread: RIP advanced by each. */
	CHECK_EQ(field(VMCS_GUEST_RIP), RIP0 + 4 + 4 + 3 + 3 + 3 + 3 + 4 + 3);
	CHECK_CLEAN();
}

/* ================= the order of the checks ================= */

/*
 * VMREAD/VMWRITE (SDM Vol. 3C 31.3): no current VMCS (VMfailInvalid) comes
 * before the memory operand is touched.  VMREAD's field checks (error 12)
 * come before its destination is written; VMWRITE's source is read before
 * its field checks: "any faults resulting from accessing a memory source
 * operand occur after determining ... that the relevant VMCS pointer is
 * valid but before determining if the destination VMCS field is
 * supported" (VMWRITE, Description).
 */
TEST(nested_insn_vmread_vmwrite_vmfail_before_memory_operand)
{
	setup();
	enter_vmx();
	/* No current VMCS: VMfailInvalid, although the source is not present. */
	regs.gpr[GPR_RAX] = NP_PAGE;
	regs.gpr[GPR_RDX] = VMCS_GUEST_RIP;
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_VMFAIL_INVALID(LEN_VMWRITE);
	/* ... or not canonical, or in L0's memory. */
	regs.gpr[GPR_RAX] = 0x0000800000000000ull;
	CHECK(run(EXIT_REASON_VMREAD, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMREAD));
	CHECK_VMFAIL_INVALID(LEN_VMREAD);
	regs.gpr[GPR_RAX] = L0_BASE;
	CHECK(run(EXIT_REASON_VMREAD, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMREAD));
	CHECK_VMFAIL_INVALID(LEN_VMREAD);
	CHECK_EQ(ms.l0_refusals, 0);

	CHECK(vmptrld(VMCS_A));
	/*
	 * A read-only field with a source that is not present: #PF, with
	 * IA32_VMX_MISC[29] or without it (the source is read first); an
	 * unsupported field likewise; a present source then VMfailValid(13).
	 */
	regs.gpr[GPR_RAX] = NP_PAGE;
	regs.gpr[GPR_RDX] = VMCS_VM_EXIT_REASON;
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_PF(0, NP_PAGE);
	without_vmwrite_any_field();
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_PF(0, NP_PAGE);
	regs.gpr[GPR_RDX] = 0x7ffe;
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_PF(0, NP_PAGE);
	regs.gpr[GPR_RAX] = SLOT;
	regs.gpr[GPR_RDX] = VMCS_VM_EXIT_REASON;
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_VMFAIL_VALID(LEN_VMWRITE, 13);
	/* An unknown field with a non-canonical destination: VMfailValid(12). */
	regs.gpr[GPR_RAX] = 0x0000800000000000ull;
	regs.gpr[GPR_RDX] = 0x7ffe;
	CHECK(run(EXIT_REASON_VMREAD, MEM_SS_RAX | REG2(GPR_RDX), 0, LEN_VMREAD + 1));
	CHECK_VMFAIL_VALID(LEN_VMREAD + 1, 12);
	/* A good field: now the operand faults. */
	regs.gpr[GPR_RDX] = VMCS_GUEST_RIP;
	CHECK(run(EXIT_REASON_VMREAD, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMREAD));
	CHECK_GP0();
	CHECK(run(EXIT_REASON_VMREAD, MEM_SS_RAX | REG2(GPR_RDX), 0, LEN_VMREAD + 1));
	CHECK_SS0();
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_GP0();
	regs.gpr[GPR_RAX] = NP_PAGE + 0x30;
	CHECK(run(EXIT_REASON_VMWRITE, MEM_RAX | REG2(GPR_RDX), 0, LEN_VMWRITE));
	CHECK_PF(0, NP_PAGE + 0x30);
	CHECK_EQ(cached(VMCS_IDX_GUEST_RIP), 0);
	/* But #GP(0) at CPL 3 comes before VMfail (31.3: "ELSIF CPL > 0"). */
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xf3);
	regs.gpr[GPR_RDX] = 0x7ffe;
	CHECK(vmread_rr(GPR_RBX, GPR_RDX, 0x7ffe));
	CHECK_GP0();
	CHECK_CLEAN();
}

/*
 * PAE paging walks from the PDPTE registers, which the VM exit saved in
 * GUEST_PDPTE0..3 (SDM Vol. 3A 4.4.1, Vol. 3C 28.3.4; EPT is on for L1),
 * not from the PDPT in memory: here the PDPT in memory is all not present,
 * PDPTE1 maps 1..2 GiB.
 */
TEST(nested_insn_pae_paging_walks_from_guest_pdptes)
{
	setup();
	vmcs_soft_set(VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_ACTIVATE_SECONDARY);
	vmcs_soft_set(VMCS_SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xc093);
	vmcs_soft_set(VMCS_GUEST_SS_BASE, 0);
	vmcs_soft_set(VMCS_GUEST_DS_BASE, 0);
	vmcs_soft_set(VMCS_GUEST_CR3, PDPT_PAE); /* its four entries: 0 */
	vmcs_soft_set(VMCS_GUEST_PDPTE0, 0);
	vmcs_soft_set(VMCS_GUEST_PDPTE1, PD | GW_PTE_P);
	vmcs_soft_set(VMCS_GUEST_PDPTE2, 0);
	vmcs_soft_set(VMCS_GUEST_PDPTE3, 0);
	put64(SLOT, VMXON_PA);
	regs.gpr[GPR_RAX] = SLOT;
	CHECK(run(EXIT_REASON_VMXON, MEM32_RAX, 0, LEN_VMXON));
	CHECK_VMSUCCEED(LEN_VMXON);
	CHECK(n.vmxon);
	CHECK_EQ(n.vmxon_ptr, VMXON_PA);

	/* A PDPTE register not present: #PF, whatever memory says. */
	put64(PDPT_PAE + 8 * 1, PD | GW_PTE_P);
	vmcs_soft_set(VMCS_GUEST_PDPTE1, 0);
	regs.gpr[GPR_RAX] = DATA;
	CHECK(run(EXIT_REASON_VMPTRST, MEM32_RAX, 0, LEN_VMPTRST));
	CHECK_PF(PF_ERR_W, DATA);
	CHECK_CLEAN();
}

/*
 * docs/nested.md: "the accessed/dirty bits of L1's page tables are not set
 * by L0's walks" (a choice: SDM Vol. 3A 4.8 has the CPU set them).
 */
TEST(nested_insn_walks_leave_accessed_dirty_clear)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	uint64_t pte = PT + 8 * ((DATA - MEM_BASE) >> 12);
	CHECK(vmptrst(DATA + 0x500));
	CHECK_VMSUCCEED(LEN_VMPTRST);
	CHECK_EQ(get64(DATA + 0x500), VMCS_A);
	CHECK_EQ(get64(pte), DATA | GW_PTE_P | GW_PTE_RW);
	CHECK_EQ(get64(PML4), PDPT | GW_PTE_P | GW_PTE_RW);
	CHECK_CLEAN();
}

/* ================= bugs ================= */

/*
 * BUG (nested/insn_emul.c:273-280, emulate_vmxon): VMXON in VMX root
 * operation is, by its operation section (SDM Vol. 3C 31.3, VMXON:
 * "ELSIF in VMX root operation ... ELSIF CPL > 0 THEN #GP(0); ELSE
 * VMfail("VMXON executed in VMX root operation")"), VMfail(15) without
 * any use of the memory operand -- the file's own rule for VMREAD/VMWRITE
 * (decode_early: the operand's segment checks after the VMfail checks).
 * emulate_vmxon runs the full decode, segment/canonical checks included,
 * before the VMX-root check, so a bad operand address gives #GP(0)/#SS(0)
 * instead of VMfailValid(15).  (KVM's handle_vmxon also fails with 15
 * before looking at the operand.)
 */
TEST(nested_insn_regression_vmxon_in_root_checks_operand_before_vmfail)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	regs.gpr[GPR_RAX] = 0x0000800000000000ull; /* not canonical */
	CHECK(run(EXIT_REASON_VMXON, MEM_RAX, 0, LEN_VMXON));
	CHECK_VMFAIL_VALID(LEN_VMXON, 15);
	CHECK(run(EXIT_REASON_VMXON, MEM_SS_RAX, 0, LEN_VMXON + 1));
	CHECK_VMFAIL_VALID(LEN_VMXON + 1, 15);
	CHECK(n.vmxon);
	CHECK_EQ(n.vmxon_ptr, VMXON_PA);
	CHECK_CLEAN();
}

/*
 * BUG (nested/insn_emul.c:273-287, emulate_vmxon): outside VMX operation
 * VMXON's #GP(0) for CR0/CR4 values not supported in VMX operation comes
 * before "addr := contents of 64-bit in-memory source operand" (SDM Vol.
 * 3C 31.3, VMXON operation; 24.8 for the FIXED MSRs), so a non-canonical
 * operand through SS with L1's CR0.NE clear is #GP(0); the full decode
 * runs first and injects #SS(0).
 */
TEST(nested_insn_regression_vmxon_cr_check_after_operand_checks)
{
	setup();
	env.l1_cr0 = CR0_L1 & ~CR0_NE;
	regs.gpr[GPR_RAX] = 0x0000800000000000ull;
	CHECK(run(EXIT_REASON_VMXON, MEM_SS_RAX, 0, LEN_VMXON + 1));
	CHECK_GP0();
	CHECK(!n.vmxon);
	CHECK_CLEAN();
}

/*
 * BUG (vmx/exit.c:120-129, vmx_skip_instruction, used by every
 * VMsucceed/VMfail in nested/insn_emul.c:40-45): an instruction that
 * completes with RFLAGS.TF = 1 is followed by a single-step debug trap
 * (SDM Vol. 3A 18.3.1.4).  When the instruction caused a VM exit the CPU
 * has not delivered it; the VMM completing the instruction must (pending
 * debug exceptions BS, SDM Vol. 3C 25.4.2 table 25-3, or a #DB it
 * injects).  L0 only advances RIP, so L1 single-stepping through a VMX
 * instruction silently steps over the next one too.
 */
TEST(nested_insn_regression_single_step_trap_lost)
{
	setup();
	enter_vmx();
	rflags_in = RFLAGS_TF | 0x202;
	CHECK(vmptrst(DATA));
	CHECK_EQ(field(VMCS_GUEST_RIP), rip_in + LEN_VMPTRST);
	CHECK_EQ(get64(DATA), ~0ull);
	uint64_t info = field(VMCS_VM_ENTRY_INTR_INFO_FIELD);
	CHECK((field(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS) ||
	      ((info & INTR_INFO_VALID) && (info & INTR_INFO_VECTOR_MASK) == VEC_DB));
	CHECK_CLEAN();
}

/* ================= VMLAUNCH / VMRESUME: up to vmcs02 ================= */

#define LEN_VMLAUNCH 3 /* 0F 01 C2; VMRESUME is 0F 01 C3 */

/* Like run(), for nested_vmentry_begin. */
static bool begin(bool launch)
{
	vmcs_soft_set(VMCS_VM_EXIT_REASON, launch ? EXIT_REASON_VMLAUNCH : EXIT_REASON_VMRESUME);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, LEN_VMLAUNCH);
	rip_in = field(VMCS_GUEST_RIP);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, rflags_in);
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, ERRCODE_POISON);
	hw_calls.set_cr2 = 0;
	return nested_vmentry_begin(&n, &env, launch, VMCS_DIRTY_ALL);
}

/* vmcs12 controls and host state that pass 27.2 for a 64-bit L1 host. */
static void valid_controls_and_host(struct vmcs12 *v)
{
	vmcs12_set(v, VMCS_PIN_BASED_VM_EXEC_CONTROL, (uint32_t)l1_caps.true_pinbased);
	vmcs12_set(v, VMCS_CPU_BASED_VM_EXEC_CONTROL, (uint32_t)l1_caps.true_procbased);
	vmcs12_set(v, VMCS_VM_EXIT_CONTROLS,
		   (uint32_t)l1_caps.true_exit | EXIT_HOST_ADDR_SPACE_SIZE);
	vmcs12_set(v, VMCS_VM_ENTRY_CONTROLS, (uint32_t)l1_caps.true_entry | ENTRY_IA32E_MODE_GUEST);
	vmcs12_set(v, VMCS_HOST_CR0, 0x80050033);
	vmcs12_set(v, VMCS_HOST_CR3, 0x100000);
	vmcs12_set(v, VMCS_HOST_CR4, CR4_VMXE | CR4_PAE);
	vmcs12_set(v, VMCS_HOST_CS_SELECTOR, 0x08);
	vmcs12_set(v, VMCS_HOST_SS_SELECTOR, 0x10);
	vmcs12_set(v, VMCS_HOST_TR_SELECTOR, 0x18);
	vmcs12_set(v, VMCS_HOST_RIP, 0xffffffff81000000ull);
}

TEST(nested_vmentry_begin_faults_and_vmfail_invalid)
{
	setup();
	CHECK(!begin(true));
	CHECK_UD(); /* not in VMX operation */
	CHECK_CLEAN();

	setup();
	enter_vmx_with_current(VMCS_A);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xf3);
	CHECK(!begin(false));
	CHECK_GP0();
	CHECK_CLEAN();

	setup();
	enter_vmx();
	CHECK(!begin(true));
	CHECK_VMFAIL_INVALID(LEN_VMLAUNCH);
	CHECK(!begin(false));
	CHECK_VMFAIL_INVALID(LEN_VMLAUNCH);
	CHECK_CLEAN();
}

/*
 * VMCS shadowing offered (issue 12, item 5): a region with the shadow-VMCS
 * indicator may be made current (SDM 31.3 VMPTRLD: error 11 only where
 * the 1-setting of "VMCS shadowing" is not supported), but VMLAUNCH and
 * VMRESUME of it fail with VMfailInvalid (SDM 25.10, 27.1).
 */
TEST(nested_insn_shadow_vmcs_current)
{
	setup();
	CHECK(vmx_controls_allowed(&l1_caps, VMX_CTL_PROC2, CPU2_VMCS_SHADOWING));
	enter_vmx_with_current(VMCS_A);
	CHECK(vmptrld(SHADOW_PA));
	CHECK_VMSUCCEED(LEN_VMPTRLD);
	CHECK_EQ(n.current_vmptr, SHADOW_PA);
	CHECK_EQ(cache.v.revision, VMCS12_REVISION | 0x80000000u);
	CHECK(!begin(true));
	CHECK_VMFAIL_INVALID(LEN_VMLAUNCH);
	CHECK(!begin(false));
	CHECK_VMFAIL_INVALID(LEN_VMLAUNCH);
	CHECK_EQ(n.current_vmptr, SHADOW_PA);
	CHECK_CLEAN();

	/* Where L1's PROCBASED_CTLS2 lacks shadowing: error 11, or VMfailInvalid. */
	setup();
	l1_caps.procbased2 &= ~((uint64_t)CPU2_VMCS_SHADOWING << 32);
	enter_vmx_with_current(VMCS_A);
	CHECK(vmptrld(SHADOW_PA));
	CHECK_VMFAIL_VALID(LEN_VMPTRLD, 11);
	CHECK_EQ(n.current_vmptr, VMCS_A);

	setup();
	l1_caps.procbased2 &= ~((uint64_t)CPU2_VMCS_SHADOWING << 32);
	enter_vmx();
	CHECK(vmptrld(SHADOW_PA));
	CHECK_VMFAIL_INVALID(LEN_VMPTRLD);
	CHECK_EQ(n.current_vmptr, VMPTR_INVALID);
	CHECK_CLEAN();
}

TEST(nested_vmentry_begin_vmfail_valid_in_sdm_order)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	valid_controls_and_host(&cache.v);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);

	/* 26 comes before the launch state: MOV-SS blocking with a launched VMCS. */
	cache.v.launch_state = VMCS12_LAUNCH_LAUNCHED;
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_MOV_SS);
	CHECK(!begin(true));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 26);
	CHECK_EQ(field(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0); /* the instruction completed */

	CHECK(!begin(true));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 4); /* VMLAUNCH of a launched VMCS */
	cache.v.launch_state = VMCS12_LAUNCH_CLEAR;
	CHECK(!begin(false));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 5); /* VMRESUME of a clear VMCS */

	/* The launch state comes before the controls. */
	vmcs12_set(&cache.v, VMCS_PIN_BASED_VM_EXEC_CONTROL, 0);
	CHECK(!begin(false));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 5);
	CHECK(!begin(true));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 7); /* reserved-1 pin-based bits clear */

	/* Controls before host state; then host state alone. */
	vmcs12_set(&cache.v, VMCS_HOST_CR0, 0);
	CHECK(!begin(true));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 7);
	vmcs12_set(&cache.v, VMCS_PIN_BASED_VM_EXEC_CONTROL, (uint32_t)l1_caps.true_pinbased);
	CHECK(!begin(true));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 8); /* HOST_CR0 without the fixed bits */
	vmcs12_set(&cache.v, VMCS_HOST_CR0, 0x80050033);
	vmcs12_set(&cache.v, VMCS_HOST_CS_SELECTOR, 0);
	CHECK(!begin(true));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 8); /* null host CS */
	CHECK_CLEAN();
}

TEST(nested_vmentry_begin_passes_and_changes_nothing)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	valid_controls_and_host(&cache.v);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	vmcs12_set(&cache.v, VMCS_VM_INSTRUCTION_ERROR, 0x77);
	CHECK(begin(true));
	CHECK_EQ(field(VMCS_GUEST_RIP), rip_in);
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), rflags_in);
	CHECK_EQ(field(VMCS_VM_ENTRY_INTR_INFO_FIELD), 0);
	CHECK_EQ(cached(VMCS_IDX_VM_INSTRUCTION_ERROR), 0x77);
	CHECK_EQ(cache.v.launch_state, VMCS12_LAUNCH_CLEAR); /* the caller marks it launched */
	cache.v.launch_state = VMCS12_LAUNCH_LAUNCHED;
	CHECK(begin(false));
	CHECK_EQ(field(VMCS_GUEST_RIP), rip_in);
	CHECK_EQ(field(VMCS_GUEST_RFLAGS), rflags_in);

	/* A 64-bit host needs L1 in IA-32e mode (27.2.4): from a 32-bit L1, error 8. */
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0);
	CHECK(!begin(false));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 8);
	CHECK_CLEAN();
}

/*
 * Issue 12, item 6: with "use TPR shadow" the virtual-APIC page is read
 * with the controls (VMfailValid 7, before the host state's 8): VTPR
 * against the threshold (SDM 27.2.1.1), and L0's refusal of a page that
 * is not L1's memory.
 */
TEST(nested_vmentry_begin_virtual_apic_page)
{
	const uint64_t vapic = DATA + 0x1000 * 4;
	setup();
	enter_vmx_with_current(VMCS_A);
	valid_controls_and_host(&cache.v);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	vmcs12_set(&cache.v, VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   (uint32_t)l1_caps.true_procbased | CPU_USE_TPR_SHADOW);
	vmcs12_set(&cache.v, VMCS_VIRTUAL_APIC_PAGE_ADDR, vapic);
	vmcs12_set(&cache.v, VMCS_TPR_THRESHOLD, 3);
	*host(vapic + 0x80, 1) = 0x30;
	CHECK(begin(true));
	*host(vapic + 0x80, 1) = 0x2f; /* VTPR[7:4] 2 < 3 */
	vmcs12_set(&cache.v, VMCS_HOST_CR0, 0);
	CHECK(!begin(true));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 7);
	vmcs12_set(&cache.v, VMCS_HOST_CR0, 0x80050033);
	CHECK(!begin(true));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 7);
	*host(vapic + 0x80, 1) = 0x30;
	vmcs12_set(&cache.v, VMCS_VIRTUAL_APIC_PAGE_ADDR, L0_BASE);
	CHECK(!begin(true));
	CHECK_VMFAIL_VALID(LEN_VMLAUNCH, 7);
	vmcs12_set(&cache.v, VMCS_VIRTUAL_APIC_PAGE_ADDR, vapic);
	CHECK(begin(true));
	CHECK_CLEAN();
}

/* ================= INVEPT (nested EPT) ================= */

#define LEN_INVEPT 5 /* 66 0F 38 80 /r */
#define INVEPT_RAX_RCX (MEM_RAX | REG2(GPR_RCX))

static struct {
	unsigned calls;
	unsigned type;
	uint64_t eptp;
} invept_seen;

static void invept_hook(void *ctx, unsigned type, uint64_t eptp12)
{
	(void)ctx;
	invept_seen.calls++;
	invept_seen.type = type;
	invept_seen.eptp = eptp12;
}

static bool invept_run(uint64_t type, uint64_t eptp, uint64_t high)
{
	env.invept = invept_hook;
	memset(&invept_seen, 0, sizeof(invept_seen));
	put64(SLOT, eptp);
	put64(SLOT + 8, high);
	regs.gpr[GPR_RAX] = SLOT;
	regs.gpr[GPR_RCX] = type;
	return run(EXIT_REASON_INVEPT, INVEPT_RAX_RCX, 0, LEN_INVEPT);
}

/*
 * SDM Vol. 3C 31, INVEPT: single-context (1) and all-context (2) succeed
 * and reach L0's EPT02 (the hook); bits 127:64 of the descriptor are not
 * looked at.
 */
TEST(nested_insn_invept_types_succeed)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(invept_run(1, 0x12345000ull | 0x5e, 0xffffffffffffffffull));
	CHECK_VMSUCCEED(LEN_INVEPT);
	CHECK(invept_seen.calls == 1 && invept_seen.type == 1 &&
	      invept_seen.eptp == (0x12345000ull | 0x5e));
	CHECK(invept_run(2, 0xdead, 0));
	CHECK_VMSUCCEED(LEN_INVEPT);
	CHECK(invept_seen.calls == 1 && invept_seen.type == 2);
	/* Without a current VMCS as well (INVEPT does not need one). */
	setup();
	enter_vmx();
	CHECK(invept_run(2, 0, 0));
	CHECK_VMSUCCEED(LEN_INVEPT);
	CHECK_CLEAN();
}

/* VMfail 28: a type not offered, checked before the descriptor is read; a bad single-context EPTP. */
TEST(nested_insn_invept_vmfail_28)
{
	static const uint64_t bad_type[] = { 0, 3, 1ull << 32 | 1 };
	setup();
	enter_vmx_with_current(VMCS_A);
	for (unsigned i = 0; i < 3; i++) {
		CHECK(invept_run(bad_type[i], 0x1005e, 0));
		CHECK_VMFAIL_VALID(LEN_INVEPT, 28);
		CHECK_EQ(invept_seen.calls, 0);
	}
	/* The type check comes before the operand: no #PF for an unmapped descriptor. */
	regs.gpr[GPR_RAX] = NP_PAGE;
	regs.gpr[GPR_RCX] = 7;
	CHECK(run(EXIT_REASON_INVEPT, INVEPT_RAX_RCX, 0, LEN_INVEPT));
	CHECK_VMFAIL_VALID(LEN_INVEPT, 28);
	/* Single-context EPTPs VM entry would refuse (27.2.1.1). */
	static const uint64_t bad_eptp[] = { 0x10019, 0x10026, 0x1009e, (1ull << 39) | 0x1e };
	for (unsigned i = 0; i < 4; i++) {
		CHECK(invept_run(1, bad_eptp[i], 0));
		CHECK_VMFAIL_VALID(LEN_INVEPT, 28);
		CHECK_EQ(invept_seen.calls, 0);
	}
	/* All-context does not look at the EPTP. */
	CHECK(invept_run(2, 0x10019, 0));
	CHECK_VMSUCCEED(LEN_INVEPT);
	/* Without a current VMCS the failure is VMfailInvalid (31.2). */
	setup();
	enter_vmx();
	CHECK(invept_run(0, 0, 0));
	CHECK_VMFAIL_INVALID(LEN_INVEPT);
	CHECK_CLEAN();
}

/* The faults: #UD outside VMX operation, #GP(0) at CPL 3, #PF for the descriptor. */
TEST(nested_insn_invept_faults)
{
	setup();
	CHECK(invept_run(1, 0x1005e, 0));
	CHECK_UD();
	/* In VMX operation, on a CPU that cannot give L1 EPT (no INVEPT single-context): #UD. */
	setup();
	hw_caps.ept_vpid_cap &= ~EPT_CAP_INVEPT_SINGLE;
	nested_vmx_msrs_init(&hw_caps, vmcs12_highest_field_index(), &l1_caps);
	enter_vmx_with_current(VMCS_A);
	CHECK(invept_run(2, 0, 0));
	CHECK_UD();
	CHECK_EQ(invept_seen.calls, 0);
	setup();
	enter_vmx_with_current(VMCS_A);
	regs.gpr[GPR_RAX] = NP_PAGE + 0x10;
	regs.gpr[GPR_RCX] = 1;
	CHECK(run(EXIT_REASON_INVEPT, INVEPT_RAX_RCX, 0, LEN_INVEPT));
	CHECK_PF(0, NP_PAGE + 0x10);
	CHECK_EQ(invept_seen.calls, 0);
	/* The descriptor's second half on an unmapped page faults too (16 bytes read). */
	regs.gpr[GPR_RAX] = NP_PAGE - 8;
	CHECK(run(EXIT_REASON_INVEPT, INVEPT_RAX_RCX, 0, LEN_INVEPT));
	CHECK_PF(0, NP_PAGE);
	CHECK_CLEAN();
}

/* ================= INVVPID (SDM Vol. 3C 31.3, nested/invvpid.c) ================= */

/*
 * INVVPID r64, m128 with [rax]: 66 0F 38 81 00, 5 bytes; the type in
 * reg2 (table 28-9 bits 31:28), here RCX.  The descriptor (VPID in bits
 * 15:0, bits 63:16 reserved, the linear address in bits 127:64) at DESC.
 */
#define LEN_INVVPID 5
#define DESC (DATA + 0x200)
#define MEM_INVVPID (MEM_RAX | REG2(GPR_RCX))

static bool invvpid_at(uint64_t type, uint64_t la_of_desc)
{
	regs.gpr[GPR_RCX] = type;
	regs.gpr[GPR_RAX] = la_of_desc;
	return run(EXIT_REASON_INVVPID, MEM_INVVPID, 0, LEN_INVVPID);
}

static bool invvpid(uint64_t type, uint64_t desc_lo, uint64_t desc_hi)
{
	put64(DESC, desc_lo);
	put64(DESC + 8, desc_hi);
	return invvpid_at(type, DESC);
}

/* L1's VPIDs 5 and 9 mapped (slots 0 and 1, vpid02 3 and 4), the calls reset. */
static void map_two_vpids(void)
{
	CHECK_EQ(nested_vpid02(&n.vpid, 5), NESTED_VPID02_FIRST);
	CHECK_EQ(nested_vpid02(&n.vpid, 9), NESTED_VPID02_FIRST + 1);
	memset(&hw_calls, 0, sizeof(hw_calls));
}

TEST(nested_insn_invvpid_ud)
{
	/* Not in VMX operation. */
	setup();
	CHECK(invvpid(1, 5, 0));
	CHECK_UD();
	CHECK_EQ(ms.reads, 0);
	CHECK_CLEAN();

	/* VPID not in L1's secondary controls (SDM: IA32_VMX_PROCBASED_CTLS2[37] = 0). */
	setup();
	enter_vmx_with_current(VMCS_A);
	l1_caps.procbased2 &= ~((uint64_t)CPU2_ENABLE_VPID << 32);
	CHECK(invvpid(1, 5, 0));
	CHECK_UD();
	CHECK_CLEAN();

	/* VPID but no INVVPID (IA32_VMX_EPT_VPID_CAP[32] = 0). */
	setup();
	enter_vmx_with_current(VMCS_A);
	l1_caps.ept_vpid_cap &= ~VPID_CAP_INVVPID;
	CHECK(invvpid(1, 5, 0));
	CHECK_UD();
	CHECK_CLEAN();

	/* No EPT_VPID_CAP MSR at all. */
	setup();
	enter_vmx_with_current(VMCS_A);
	l1_caps.has_ept_vpid_cap = 0;
	CHECK(invvpid(1, 5, 0));
	CHECK_UD();
	CHECK_CLEAN();

	/* Compatibility mode. */
	setup();
	enter_vmx_with_current(VMCS_A);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	regs.gpr[GPR_RAX] = DESC;
	CHECK(run(EXIT_REASON_INVVPID, MEM32_RAX | REG2(GPR_RCX), 0, LEN_INVVPID));
	CHECK_UD();
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK_CLEAN();
}

TEST(nested_insn_invvpid_gp_at_cpl3)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xf3);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xa0fb);
	unsigned reads = ms.reads;
	CHECK(invvpid(4, 5, 0)); /* #GP(0) before the type's VMfail */
	CHECK_GP0();
	CHECK_EQ(ms.reads, reads);
	CHECK_CLEAN();
}

TEST(nested_insn_invvpid_unsupported_type_28_before_the_descriptor)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	unsigned reads = ms.reads;
	static const uint64_t bad[] = {4, 5, 0xffffffffull, 0x100000001ull, ~0ull};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
		CHECK(invvpid(bad[i], 5, 0));
		CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	}
	/* The descriptor is not read: not even a #PF or #GP for its address. */
	CHECK(invvpid_at(4, NP_PAGE));
	CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	CHECK(invvpid_at(4, 0x0000800000000000ull));
	CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	CHECK_EQ(ms.reads, reads);
	/* A type L1's IA32_VMX_EPT_VPID_CAP does not report (bit 40 + type). */
	l1_caps.ept_vpid_cap &= ~VPID_CAP_INVVPID_ADDRESS;
	CHECK(invvpid(0, 5, 0));
	CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	l1_caps.ept_vpid_cap |= VPID_CAP_INVVPID_ADDRESS;
	l1_caps.ept_vpid_cap &= ~VPID_CAP_INVVPID_SINGLE_GLOBALS;
	CHECK(invvpid(3, 5, 0));
	CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	CHECK(invvpid(1, 5, 0));
	CHECK_VMSUCCEED(LEN_INVVPID);
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK_CLEAN();
}

TEST(nested_insn_invvpid_without_current_vmcs_fail_invalid)
{
	setup();
	enter_vmx();
	CHECK(invvpid(4, 5, 0));
	CHECK_VMFAIL_INVALID(LEN_INVVPID);
	CHECK(invvpid(1, 0, 0));
	CHECK_VMFAIL_INVALID(LEN_INVVPID);
	CHECK(invvpid(2, 0, 0));
	CHECK_VMSUCCEED(LEN_INVVPID);
	CHECK_CLEAN();
}

TEST(nested_insn_invvpid_descriptor_checks_28)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	/* Bits 63:16 of the descriptor, for every type (2 included). */
	for (uint64_t t = 0; t < 4; t++) {
		cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
		CHECK(invvpid(t, 0x10005, 0));
		CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
		cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
		CHECK(invvpid(t, 0x8000000000000005ull, 0));
		CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	}
	/* VPID 0 with types 0, 1 and 3; type 2 ignores the VPID. */
	static const uint64_t need_vpid[] = {0, 1, 3};
	for (unsigned i = 0; i < 3; i++) {
		cache.v.field[VMCS_IDX_VM_INSTRUCTION_ERROR] = 0;
		CHECK(invvpid(need_vpid[i], 0, 0));
		CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	}
	CHECK(invvpid(2, 0, 0x0000800000000000ull));
	CHECK_VMSUCCEED(LEN_INVVPID);
	/* A non-canonical address with type 0 (48 bits: Bochs's CR4_FIXED1 lacks LA57). */
	CHECK(invvpid(0, 5, 0x0000800000000000ull));
	CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	CHECK(invvpid(0, 5, 0xfff0000000000000ull));
	CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	CHECK(invvpid(0, 5, 0xffff800000000000ull));
	CHECK_VMSUCCEED(LEN_INVVPID);
	CHECK(invvpid(0, 5, 0x00007ffffffff000ull));
	CHECK_VMSUCCEED(LEN_INVVPID);
	/* Types 1 and 3 ignore the address. */
	CHECK(invvpid(1, 5, 0x0000800000000000ull));
	CHECK_VMSUCCEED(LEN_INVVPID);
	CHECK(invvpid(3, 5, 0x0000800000000000ull));
	CHECK_VMSUCCEED(LEN_INVVPID);
	/* With 5-level paging (CR4_FIXED1[12]) canonical is 57 bits. */
	l1_caps.cr4_fixed1 |= 1ull << 12;
	CHECK(invvpid(0, 5, 0x0000800000000000ull));
	CHECK_VMSUCCEED(LEN_INVVPID);
	CHECK(invvpid(0, 5, 0x0100000000000000ull));
	CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	/* VPID 5 has no vpid02: only type 2 flushed (the shared L2 VPID). */
	CHECK_EQ(hw_calls.invvpid, 1);
	CHECK_EQ(hw_calls.invvpid_vpid[0], L2_VPID);
	CHECK_CLEAN();
}

TEST(nested_insn_invvpid_descriptor_faults)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	/* Not present: #PF, a read at CPL 0. */
	CHECK(invvpid_at(1, NP_PAGE + 0x40));
	CHECK_PF(0, NP_PAGE + 0x40);
	/* 16 bytes: the second half in the not-present page. */
	CHECK(invvpid_at(1, NP_PAGE - 8));
	CHECK_PF(0, NP_PAGE);
	/* Non-canonical operand address: #GP(0), through SS #SS(0); the last byte counts. */
	CHECK(invvpid_at(1, 0x0000800000000000ull));
	CHECK_GP0();
	CHECK(invvpid_at(1, 0x00007ffffffffff8ull));
	CHECK_GP0();
	regs.gpr[GPR_RCX] = 1;
	regs.gpr[GPR_RAX] = 0x0000800000000000ull;
	CHECK(run(EXIT_REASON_INVVPID, MEM_SS_RAX | REG2(GPR_RCX), 0, LEN_INVVPID));
	CHECK_SS0();
	/* L0's memory (mapped by L1's tables): refused, #GP(0). */
	unsigned refusals = ms.l0_refusals;
	CHECK(invvpid_at(1, L0_BASE + 0x100));
	CHECK_GP0();
	CHECK_EQ(ms.l0_refusals, refusals + 1);
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK_CLEAN();
}

TEST(nested_insn_invvpid_flushes_the_mapped_vpid02_only)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	map_two_vpids();
	/* Single-context, retaining globals, individual address: the vpid02's single-context. */
	for (uint64_t t = 0; t < 4; t++) {
		if (t == 2)
			continue;
		memset(&hw_calls, 0, sizeof(hw_calls));
		CHECK(invvpid(t, 9, 0xffff800000001000ull));
		CHECK_VMSUCCEED(LEN_INVVPID);
		CHECK_EQ(hw_calls.invvpid, 1);
		CHECK_EQ(hw_calls.invvpid_vpid[0], NESTED_VPID02_FIRST + 1);
	}
	/* An unmapped VPID has nothing cached: no INVVPID at all. */
	memset(&hw_calls, 0, sizeof(hw_calls));
	CHECK(invvpid(1, 7, 0));
	CHECK_VMSUCCEED(LEN_INVVPID);
	CHECK_EQ(hw_calls.invvpid, 0);
	/* A VPID equal to one of L0's own (1, 2, a vpid02) is only L1's name for it. */
	CHECK(invvpid(1, L1_VPID, 0));
	CHECK(invvpid(1, L2_VPID, 0));
	CHECK(invvpid(1, NESTED_VPID02_FIRST, 0));
	CHECK_VMSUCCEED(LEN_INVVPID);
	CHECK_EQ(hw_calls.invvpid, 0);
	/* The lookups changed nothing: 5 and 9 keep their slots. */
	CHECK_EQ(nested_vpid02_mapped(&n.vpid, 5), NESTED_VPID02_FIRST);
	CHECK_EQ(nested_vpid02_mapped(&n.vpid, 9), NESTED_VPID02_FIRST + 1);
	CHECK_EQ(nested_vpid02_mapped(&n.vpid, 7), 0);
	CHECK_CLEAN();
}

TEST(nested_insn_invvpid_all_context_flushes_every_slot)
{
	setup();
	enter_vmx_with_current(VMCS_A);
	map_two_vpids();
	CHECK(invvpid(2, 0, 0));
	CHECK_VMSUCCEED(LEN_INVVPID);
	CHECK_EQ(hw_calls.invvpid, 3);
	CHECK_EQ(hw_calls.invvpid_vpid[0], NESTED_VPID02_FIRST);
	CHECK_EQ(hw_calls.invvpid_vpid[1], NESTED_VPID02_FIRST + 1);
	CHECK_EQ(hw_calls.invvpid_vpid[2], L2_VPID);
	/* Never L1's own VPID. */
	for (unsigned i = 0; i < 3; i++)
		CHECK(hw_calls.invvpid_vpid[i] != L1_VPID);
	CHECK_CLEAN();
}

TEST(nested_insn_invvpid_32bit_type_register)
{
	/* Outside 64-bit mode the type register is 32 bits: bits 63:32 are not looked at. */
	setup_prot32();
	put64(SLOT, VMXON_PA);
	regs.gpr[GPR_RAX] = SLOT - DS_BASE32;
	CHECK(run(EXIT_REASON_VMXON, MEM32_RAX, 0, LEN_VMXON));
	CHECK_VMSUCCEED(LEN_VMXON);
	put64(SLOT, VMCS_A);
	CHECK(run(EXIT_REASON_VMPTRLD, MEM32_RAX, 0, LEN_VMPTRLD));
	CHECK_VMSUCCEED(LEN_VMPTRLD);
	put64(DESC, 5);
	put64(DESC + 8, 0);
	regs.gpr[GPR_RCX] = 0xffffffff00000001ull;
	regs.gpr[GPR_RAX] = DESC - DS_BASE32;
	CHECK(run(EXIT_REASON_INVVPID, MEM32_RAX | REG2(GPR_RCX), 0, LEN_INVVPID));
	CHECK_VMSUCCEED(LEN_INVVPID);
	regs.gpr[GPR_RCX] = 0x0000000100000004ull;
	CHECK(run(EXIT_REASON_INVVPID, MEM32_RAX | REG2(GPR_RCX), 0, LEN_INVVPID));
	CHECK_VMFAIL_VALID(LEN_INVVPID, 28);
	CHECK_CLEAN();
}

TEST(nested_insn_vmxon_forgets_the_vpid_map)
{
	setup();
	enter_vmx();
	map_two_vpids();
	CHECK(vmxoff());
	CHECK_VMSUCCEED(LEN_VMXOFF);
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK(vmxon(VMXON_PA));
	CHECK_VMSUCCEED(LEN_VMXON);
	CHECK_EQ(hw_calls.invvpid, 2);
	CHECK_EQ(hw_calls.invvpid_vpid[0], NESTED_VPID02_FIRST);
	CHECK_EQ(hw_calls.invvpid_vpid[1], NESTED_VPID02_FIRST + 1);
	CHECK_EQ(nested_vpid02_mapped(&n.vpid, 5), 0);
	CHECK_EQ(nested_vpid02_mapped(&n.vpid, 9), 0);
	/* A failed VMXON (here: in VMX root, VMfail 15) keeps the map. */
	map_two_vpids();
	CHECK(vmxon(VMXON_PA));
	CHECK_EQ(hw_calls.invvpid, 0);
	CHECK_EQ(nested_vpid02_mapped(&n.vpid, 5), NESTED_VPID02_FIRST);
	CHECK_CLEAN();
}

TEST(nested_insn_vpid_field_is_l1s)
{
	/* VPID is offered: VIRTUAL_PROCESSOR_ID is a 16-bit field L1 reads and writes. */
	setup();
	enter_vmx_with_current(VMCS_A);
	CHECK(vmwrite(VMCS_VIRTUAL_PROCESSOR_ID, 0x12345));
	CHECK_VMSUCCEED(LEN_VMWRITE);
	CHECK(vmread(VMCS_VIRTUAL_PROCESSOR_ID));
	CHECK_VMSUCCEED(LEN_VMREAD);
	CHECK_EQ(vmread_value, 0x2345);
	CHECK_CLEAN();
}
