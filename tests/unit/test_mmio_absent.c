/*
 * test_mmio_absent.c - L1's accesses to a VT-d unit's registers, which
 * EPT01 leaves unmapped while the IOMMU is L0's (vmx/mmio_absent.c),
 * through exit_ept_violation: a MOV load reads all ones of its width, a
 * MOV store is dropped, RIP moves past the instruction and nothing is
 * injected, as for MMIO no device decodes; an instruction L0 cannot
 * decode, a fetch, or a paging-structure access is #GP(0) as before.
 * L1 runs in 32-bit protected mode without paging, the instruction at
 * its RIP in a fake memory.
 */
#include "test.h"

#include "arch/x86/regs.h"
#include "drivers/serial/log.h"
#include "hw_fake.h"
#include "vmcs_soft.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>
#include <string.h>

#define MEM_BASE 0x10000ull
#define MEM_SIZE 0x1000ull
#define CODE (MEM_BASE + 0x100)
#define UNIT 0xfed90000ull
#define GPR_INIT(n) (0x5a5a5a5a00000000ull | (n))
#define INFO_GP0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_GP)

static struct vcpu cpu;
static struct guest_regs regs;
static uint8_t mem_buf[MEM_SIZE];
static char last_line[LOG_LINE_MAX + 1];

static bool mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa < MEM_BASE || gpa + len > MEM_BASE + MEM_SIZE)
		return false;
	memcpy(buf, &mem_buf[gpa - MEM_BASE], len);
	return true;
}

static const struct l1_memory l1mem = { mem_read, NULL, NULL, 36, NULL, NULL };

static void capture_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	snprintf(last_line, sizeof(last_line), "%.*s", (int)len, line);
}

/* The exit of L1's access at gpa (qualification q) by the instruction insn at CODE. */
static void run(const uint8_t *insn, unsigned n, uint64_t gpa, uint64_t q)
{
	vmcs_soft_reset();
	hw_fake_reset();
	log_init("t", LOG_INFO);
	log_add_sink(capture_sink, NULL);
	last_line[0] = '\0';
	memset(&g_l0, 0, sizeof(g_l0));
	hw_fake_bochs_caps(&g_l0.caps);
	g_l0.vtd_regs[0] = (struct mem_range){ UNIT, 0x1000, MEM_MMIO, 0 };
	g_l0.nvtd_regs = 1;
	memset(&cpu, 0, sizeof(cpu));
	cpu.index = 1;
	cpu.launched = true;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		regs.gpr[i] = GPR_INIT(i);
	memset(mem_buf, 0xcc, sizeof(mem_buf));
	memcpy(&mem_buf[CODE - MEM_BASE], insn, n);
	hw_fake_l1_memory = &l1mem;
	vmcs_soft_set(VMCS_GUEST_CR0, CR0_PE | 0x30); /* PE ET NE */
	vmcs_soft_set(VMCS_GUEST_CR4, 0x2000);	      /* VMXE */
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0);
	vmcs_soft_set(VMCS_GUEST_CS_SELECTOR, 0x10);
	vmcs_soft_set(VMCS_GUEST_CS_LIMIT, 0xffffffff);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xc093);
	vmcs_soft_set(VMCS_GUEST_RIP, CODE);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x2);
	vmcs_soft_set(VMCS_GUEST_PHYSICAL_ADDRESS, gpa);
	vmcs_soft_set(VMCS_EXIT_QUALIFICATION, q);
	exit_ept_violation(&cpu, &regs);
	hw_fake_l1_memory = NULL;
}

#define Q_READ (EPT_QUAL_READ | EPT_QUAL_LINEAR_VALID | EPT_QUAL_LINEAR_ACCESS)
#define Q_WRITE (EPT_QUAL_WRITE | EPT_QUAL_LINEAR_VALID | EPT_QUAL_LINEAR_ACCESS)

static void check_completed(uint64_t rip)
{
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), rip);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD), 0);
	CHECK_EQ(hw_calls.mmio_writes, 0);
	CHECK_EQ(cpu.l0_refusals, 1);
}

static void check_gp0(void)
{
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), CODE);
	CHECK_EQ(hw_calls.mmio_writes, 0);
	CHECK(strstr(last_line, "refused, #GP(0) to L1") != NULL);
}

TEST(mmio_absent_load_reads_all_ones)
{
	static const uint8_t mov_eax[] = { 0x8b, 0x05, 0x1c, 0x00, 0xd9, 0xfe }; /* mov 0xfed9001c,%eax */
	run(mov_eax, sizeof(mov_eax), UNIT + 0x1c, Q_READ);
	check_completed(CODE + 6);
	CHECK_EQ(regs.gpr[GPR_RAX], 0xffffffffull);
	CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
	CHECK(strstr(last_line, "warn: CPU 1: L1 4-byte read at GPA 0xfed9001c (RIP 0x10100) is a "
				"VT-d unit's registers (L0's): reads as all ones, as MMIO that is "
				"not there (refusal 1)") != NULL);
	/* 16 and 8 bits: the rest of the register kept (mov 0xfed90000,%cx / %bh). */
	static const uint8_t mov_cx[] = { 0x66, 0x8b, 0x0d, 0x00, 0x00, 0xd9, 0xfe };
	run(mov_cx, sizeof(mov_cx), UNIT, Q_READ);
	check_completed(CODE + 7);
	CHECK_EQ(regs.gpr[GPR_RCX], GPR_INIT(GPR_RCX) | 0xffff);
	static const uint8_t mov_bh[] = { 0x8a, 0x3d, 0x00, 0x00, 0xd9, 0xfe };
	run(mov_bh, sizeof(mov_bh), UNIT, Q_READ);
	check_completed(CODE + 6);
	CHECK_EQ(regs.gpr[GPR_RBX], GPR_INIT(GPR_RBX) | 0xff00);
}

TEST(mmio_absent_store_is_dropped)
{
	static const uint8_t mov_edx[] = { 0x89, 0x15, 0x18, 0x00, 0xd9, 0xfe }; /* mov %edx,0xfed90018 (GCMD) */
	run(mov_edx, sizeof(mov_edx), UNIT + 0x18, Q_WRITE);
	check_completed(CODE + 6);
	CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
	CHECK(strstr(last_line, "L1 4-byte write at GPA 0xfed90018 (RIP 0x10100) is a VT-d unit's "
				"registers (L0's): dropped") != NULL);
}

/* What L0 does not finish stays #GP(0): an instruction it cannot decode, a fetch, a walk. */
TEST(mmio_absent_refuses_the_rest)
{
	static const uint8_t inc[] = { 0xff, 0x05, 0x00, 0x00, 0xd9, 0xfe }; /* incl 0xfed90000 */
	run(inc, sizeof(inc), UNIT, Q_WRITE | EPT_QUAL_READ);
	check_gp0();
	static const uint8_t mov_eax[] = { 0x8b, 0x05, 0x00, 0x00, 0xd9, 0xfe };
	run(mov_eax, sizeof(mov_eax), UNIT, EPT_QUAL_FETCH | EPT_QUAL_READ);
	check_gp0();
	CHECK_EQ(regs.gpr[GPR_RAX], GPR_INIT(GPR_RAX));
	/* L1's page walk reading a paging-structure entry there: no MOV at RIP to finish. */
	run(mov_eax, sizeof(mov_eax), UNIT, EPT_QUAL_READ | EPT_QUAL_LINEAR_VALID);
	check_gp0();
	CHECK_EQ(regs.gpr[GPR_RAX], GPR_INIT(GPR_RAX));
	/* Outside the unit's registers: the ordinary refusal. */
	run(mov_eax, sizeof(mov_eax), UNIT + 0x1000, Q_READ);
	check_gp0();
	CHECK(strstr(last_line, "is not mapped") != NULL);
}
