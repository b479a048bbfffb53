/*
 * test_hypercall.c - vmx/hypercall.c, exit_vmcall: every function of
 * docs/hypercalls.md with its register results, the checks on L1's input
 * (CPU index, exit reason, log level), unknown functions, and the CPL
 * check, on the software VMCS (tests/unit/vmcs_soft.c).
 *
 * The fixture: three CPUs under L0 (index 0, 1, 2 with APIC IDs 0, 4, 6);
 * CPUs 0 and 2 have nested state with distinct counters, CPU 1 has none
 * (as with nested = off); a fourth CPU's slot is filled but not counted
 * (ncpus = 3), so it must never be answered for.  L1 calls from CPU 2 at
 * CPL 0 unless a test says otherwise.  Every register starts with a distinct value, so "preserved"
 * and "written" can be told apart; expected results are the docs' values
 * written out.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "drivers/serial/log.h"
#include "hw_fake.h"
#include "nested/run.h"
#include "vmcs_soft.h"
#include "vmx/exit.h"
#include "vmx/hypercall.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"

#include <string.h>

#define RIP0 0xfffff80000402000ull
#define GPR_INIT(n) (0x3c3c3c3c00000000ull | ((uint64_t)(n) << 8) | 0x5a)
#define SS_AR_CPL(n) (0xc093u | ((unsigned)(n) << 5)) /* DPL in bits 6:5 */

/* docs/hypercalls.md: the status values as L1 sees them in RAX. */
#define ST_OK 0ull
#define ST_ENOSYS 0xffffffffffffffffull /* -1 */
#define ST_EINVAL 0xfffffffffffffffeull /* -2 */
#define ST_EPERM 0xfffffffffffffffdull	/* -3 */

static struct vcpu cpu0, cpu1, cpu2, cpu3;
static struct nested_vcpu nested0, nested2, nested3;
static struct guest_regs regs;

static void setup(void)
{
	vmcs_soft_reset();
	hw_fake_reset();
	log_init("t", LOG_INFO);

	memset(&g_l0, 0, sizeof(g_l0));
	g_l0.cpuid.version = 0x000203; /* 0.2.3 */
	g_l0.hv_base = 0x7d400000ull;
	g_l0.hv_size = 0x01a00000ull;

	memset(&cpu0, 0, sizeof(cpu0));
	memset(&cpu1, 0, sizeof(cpu1));
	memset(&cpu2, 0, sizeof(cpu2));
	memset(&nested0, 0, sizeof(nested0));
	memset(&nested2, 0, sizeof(nested2));
	cpu0.index = 0;
	cpu0.apic_id = 0;
	cpu1.index = 1;
	cpu1.apic_id = 4;
	cpu2.index = 2;
	cpu2.apic_id = 6;
	cpu0.nested = &nested0;
	cpu2.nested = &nested2;
	nested0.entries = 1001;
	nested0.l2_exits = 1002;
	nested0.reflected = 1003;
	nested0.last_sync_reads = 11;
	nested0.last_reflect_vmreads = 12;
	nested0.last_reflect_vmwrites = 13;
	nested2.entries = 2001;
	nested2.entry_failures = 2099;
	nested2.l2_exits = 2002;
	nested2.reflected = 2003;
	nested2.last_sync_reads = 21;
	nested2.last_reflect_vmreads = 22;
	nested2.last_reflect_vmwrites = 23;
	nested2.last_entry_vmreads = 24;
	nested2.last_entry_vmwrites = 25;
	nested2.last_entry_copied_back = 26;
	nested0.last_entry_vmreads = 14;
	cpu0.exits_total = 500;
	cpu0.exits[10] = 41; /* CPUID */
	cpu2.exits_total = 700;
	cpu2.exits[10] = 71;
	cpu2.exits[18] = 72; /* VMCALL */
	cpu2.exits[79] = 79; /* the last reason with a slot */
	g_l0.vcpus[0] = &cpu0;
	g_l0.vcpus[1] = &cpu1;
	g_l0.vcpus[2] = &cpu2;
	g_l0.ncpus = 3;
	/* A fourth CPU whose launch has filled its slot but is not counted yet. */
	memset(&cpu3, 0, sizeof(cpu3));
	memset(&nested3, 0, sizeof(nested3));
	cpu3.index = 3;
	cpu3.apic_id = 8;
	cpu3.nested = &nested3;
	cpu3.exits_total = 900;
	nested3.entries = 3001;
	g_l0.vcpus[3] = &cpu3;

	memset(&regs, 0, sizeof(regs));
	for (unsigned i = 0; i < GPR_COUNT; i++)
		regs.gpr[i] = GPR_INIT(i);
	regs.vcpu = &cpu2;

	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, SS_AR_CPL(0));
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x2);
	vmcs_soft_set(VMCS_VM_EXIT_REASON, 18);
}

/* One VMCALL: RAX fn, RBX and RCX the arguments, RDX its initial value; 3 bytes long. */
static void vmcall(uint64_t fn, uint64_t rbx, uint64_t rcx)
{
	regs.gpr[GPR_RAX] = fn;
	regs.gpr[GPR_RBX] = rbx;
	regs.gpr[GPR_RCX] = rcx;
	regs.gpr[GPR_RDX] = GPR_INIT(GPR_RDX);
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, 3);
	exit_vmcall(regs.vcpu, &regs);
}

/* Every register but RAX, RBX, RCX, RDX as the fixture set it; RIP past the VMCALL. */
static bool others_kept(void)
{
	for (unsigned i = 0; i < GPR_COUNT; i++) {
		if (i == GPR_RAX || i == GPR_RBX || i == GPR_RCX || i == GPR_RDX)
			continue;
		if (regs.gpr[i] != GPR_INIT(i))
			return false;
	}
	return vmcs_soft_get(VMCS_GUEST_RIP) == RIP0 + 3 &&
	       vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD) == 0 && vmcs_soft_errors() == 0;
}

TEST(hypercall_version)
{
	setup();
	vmcall(0, 0x1111, 0x2222);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 0x000203);
	CHECK_EQ(regs.gpr[GPR_RCX], 1); /* ABI version */
	CHECK_EQ(regs.gpr[GPR_RDX], 3); /* CPUs under L0 */
	CHECK(others_kept());
}

TEST(hypercall_exit_count)
{
	setup();
	/* The caller (~0), all reasons and one. */
	vmcall(1, ~0ull, ~0ull);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 700);
	CHECK_EQ(regs.gpr[GPR_RCX], ~0ull); /* an argument, not a result: kept */
	CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
	CHECK(others_kept());
	vmcall(1, ~0ull, 18);
	CHECK_EQ(regs.gpr[GPR_RBX], 72);
	vmcall(1, ~0ull, 10);
	CHECK_EQ(regs.gpr[GPR_RBX], 71);
	vmcall(1, ~0ull, 79);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 79);
	vmcall(1, ~0ull, 11); /* a reason never seen */
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 0);
	/* Another CPU by index, and the caller by its own index. */
	vmcall(1, 0, 10);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 41);
	vmcall(1, 0, ~0ull);
	CHECK_EQ(regs.gpr[GPR_RBX], 500);
	vmcall(1, 2, ~0ull);
	CHECK_EQ(regs.gpr[GPR_RBX], 700);
	vmcall(1, 1, ~0ull);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 0);
	CHECK(others_kept());
}

TEST(hypercall_exit_count_bad_input)
{
	setup();
	static const struct {
		uint64_t cpu, reason;
	} bad[] = {
	    {~0ull, 80},	     /* the first reason without a slot */
	    {~0ull, 0x100000000ull}, /* a reason only in the upper half */
	    {~0ull, ~0ull - 1},	     /* not "all" */
	    {3, ~0ull},		     /* the first index past the CPUs */
	    {3, 10},		     /* even for a reason with a slot */
	    {0x100000000ull, ~0ull}, /* index 0 in the lower half */
	    {~0ull - 1, ~0ull},	     /* not "the caller" */
	    {64, 10},		     /* MAX_CPUS-sized and beyond */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vmcall(1, bad[i].cpu, bad[i].reason);
		CHECK_EQ(regs.gpr[GPR_RAX], ST_EINVAL);
		CHECK_EQ(regs.gpr[GPR_RBX], bad[i].cpu); /* no result written */
		CHECK_EQ(regs.gpr[GPR_RCX], bad[i].reason);
		CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
		CHECK(others_kept());
	}
}

TEST(hypercall_set_loglevel)
{
	setup();
	CHECK_EQ(log_get_level(), LOG_INFO);
	vmcall(2, 3, 0x2222);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 2); /* info */
	CHECK_EQ(regs.gpr[GPR_RCX], 0x2222);
	CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
	CHECK_EQ(log_get_level(), LOG_DEBUG);
	CHECK(others_kept());
	vmcall(2, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 3); /* debug */
	CHECK_EQ(log_get_level(), LOG_ERROR);
	vmcall(2, 1, 0);
	CHECK_EQ(regs.gpr[GPR_RBX], 0); /* error */
	CHECK_EQ(log_get_level(), LOG_WARN);
	/* 4 and beyond: refused, level kept, RBX not written. */
	static const uint64_t bad[] = {4, 5, 0x100000002ull, ~0ull};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vmcall(2, bad[i], 0);
		CHECK_EQ(regs.gpr[GPR_RAX], ST_EINVAL);
		CHECK_EQ(regs.gpr[GPR_RBX], bad[i]);
		CHECK_EQ(log_get_level(), LOG_WARN);
		CHECK(others_kept());
	}
	vmcall(2, 2, 0);
	CHECK_EQ(regs.gpr[GPR_RBX], 1); /* warn */
	CHECK_EQ(log_get_level(), LOG_INFO);
}

TEST(hypercall_l0_range)
{
	setup();
	vmcall(3, 0x1111, 0x2222);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 0x7d400000ull);
	CHECK_EQ(regs.gpr[GPR_RCX], 0x01a00000ull);
	CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
	CHECK(others_kept());
}

TEST(hypercall_cpu_info)
{
	setup();
	vmcall(4, 0x1111, 0x2222);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 2);
	CHECK_EQ(regs.gpr[GPR_RCX], 6);
	CHECK_EQ(regs.gpr[GPR_RDX], 3);
	CHECK(others_kept());
	regs.vcpu = &cpu1;
	vmcall(4, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RBX], 1);
	CHECK_EQ(regs.gpr[GPR_RCX], 4);
	CHECK_EQ(regs.gpr[GPR_RDX], 3);
}

TEST(hypercall_nested_stats)
{
	setup();
	/* The caller: RBX entries, RCX exits from L2, RDX of those reflected. */
	vmcall(5, ~0ull, 0x2222);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 2001);
	CHECK_EQ(regs.gpr[GPR_RCX], 2002);
	CHECK_EQ(regs.gpr[GPR_RDX], 2003);
	CHECK(others_kept());
	/* By index: another CPU and the caller. */
	vmcall(5, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 1001);
	CHECK_EQ(regs.gpr[GPR_RCX], 1002);
	CHECK_EQ(regs.gpr[GPR_RDX], 1003);
	vmcall(5, 2, 0);
	CHECK_EQ(regs.gpr[GPR_RBX], 2001);
	CHECK_EQ(regs.gpr[GPR_RCX], 2002);
	CHECK_EQ(regs.gpr[GPR_RDX], 2003);
}

/* HC_VMX_FIELD_TRAPS: L1's trapped VMREADs (RBX) and VMWRITEs (RCX) of one field on a CPU. */
TEST(hypercall_vmx_field_traps)
{
	setup();
	nested2.cpu.vmread_traps[VMCS_IDX_GUEST_RIP] = 31;
	nested2.cpu.vmwrite_traps[VMCS_IDX_GUEST_RIP] = 32;
	nested0.cpu.vmread_traps[VMCS_IDX_TSC_OFFSET] = 41;
	vmcall(8, ~0ull, VMCS_GUEST_RIP);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 31);
	CHECK_EQ(regs.gpr[GPR_RCX], 32);
	CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
	/* A 64-bit field's high encoding is the field; another CPU by index. */
	vmcall(8, 0, VMCS_TSC_OFFSET | 1);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 41);
	CHECK_EQ(regs.gpr[GPR_RCX], 0);
	/* No such field, bits 63:32 set, no such CPU: -2, nothing returned. */
	static const uint64_t bad[][2] = {
		{ ~0ull, 0x7ffe }, { ~0ull, (1ull << 32) | VMCS_GUEST_RIP }, { 7, VMCS_GUEST_RIP }
	};
	for (unsigned i = 0; i < 3; i++) {
		vmcall(8, bad[i][0], bad[i][1]);
		CHECK_EQ(regs.gpr[GPR_RAX], ST_EINVAL);
		CHECK_EQ(regs.gpr[GPR_RCX], bad[i][1]);
	}
}

TEST(hypercall_nested_last_exit)
{
	setup();
	vmcall(6, ~0ull, 0x2222);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 21); /* vmcs02 fields the rebuild read */
	CHECK_EQ(regs.gpr[GPR_RCX], 22); /* VMREADs */
	CHECK_EQ(regs.gpr[GPR_RDX], 23); /* VMWRITEs */
	CHECK(others_kept());
	vmcall(6, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 11);
	CHECK_EQ(regs.gpr[GPR_RCX], 12);
	CHECK_EQ(regs.gpr[GPR_RDX], 13);
}

/* HC_NESTED_LAST_ENTRY: L0's VMREADs, VMWRITEs and shadow copy-backs of L1's last entry. */
TEST(hypercall_nested_last_entry)
{
	setup();
	vmcall(9, ~0ull, 0x2222);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 24);
	CHECK_EQ(regs.gpr[GPR_RCX], 25);
	CHECK_EQ(regs.gpr[GPR_RDX], 26);
	CHECK(others_kept());
	vmcall(9, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RBX], 14);
	vmcall(9, 1, 0); /* a CPU without nested state */
	CHECK_EQ(regs.gpr[GPR_RAX], ST_EINVAL);
}

/*
 * HC_L0_SELF: L0's GS base in root (RBX), the bits of what agrees with it
 * (RCX: GS base = the exit frame's vcpu, that vcpu = the one launched for
 * this CPU, HOST_GS_BASE = GS base), the CPU's refusals (RDX).
 */
static void self_fixture(uint64_t gs, uint64_t host_gs)
{
	setup();
	hw_fake_msr_add(MSR_IA32_GS_BASE, gs, 0);
	vmcs_soft_set(VMCS_HOST_GS_BASE, host_gs);
	cpu2.l0_refusals = 42;
	cpu0.l0_refusals = 7;
}

TEST(hypercall_l0_self_intact)
{
	uint64_t self = (uint64_t)(uintptr_t)&cpu2;
	self_fixture(self, self);
	vmcall(7, 0x1111, 0x2222);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], self);
	CHECK_EQ(regs.gpr[GPR_RCX], 7); /* all three agree (HC_SELF_INTACT) */
	CHECK_EQ(HC_SELF_INTACT, 7);
	CHECK_EQ(regs.gpr[GPR_RDX], 42); /* the caller's, not CPU 0's */
	CHECK(others_kept());
	CHECK_EQ(hw_calls.wrmsr, 0);
	/* The count as it stands at each call. */
	cpu2.l0_refusals = 43;
	vmcall(7, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RDX], 43);
	CHECK_EQ(regs.gpr[GPR_RCX], 7);
}

TEST(hypercall_l0_self_gs_moved)
{
	/* GS base and HOST_GS_BASE both somewhere else (another CPU's vcpu): bit 0 only is clear. */
	uint64_t other = (uint64_t)(uintptr_t)&cpu0;
	self_fixture(other, other);
	vmcall(7, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], other);
	CHECK_EQ(regs.gpr[GPR_RCX], HC_SELF_FRAME_IS_LAUNCHED | HC_SELF_HOST_GS);
	CHECK_EQ(regs.gpr[GPR_RDX], 42);
	/* GS base written in root, the VMCS still right: bits 0 and 2 clear. */
	self_fixture(0x5a5a5000ull, (uint64_t)(uintptr_t)&cpu2);
	vmcall(7, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RBX], 0x5a5a5000ull);
	CHECK_EQ(regs.gpr[GPR_RCX], HC_SELF_FRAME_IS_LAUNCHED);
	/* GS base right, HOST_GS_BASE changed: bit 2 clear. */
	self_fixture((uint64_t)(uintptr_t)&cpu2, 0x5a5a5000ull);
	vmcall(7, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RCX], HC_SELF_GS_IS_FRAME | HC_SELF_FRAME_IS_LAUNCHED);
	/* No GS base at all (the RDMSR faults): RBX 0, nothing agrees with it. */
	setup();
	cpu2.l0_refusals = 5;
	vmcs_soft_set(VMCS_HOST_GS_BASE, 0);
	vmcall(7, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 0);
	CHECK_EQ(regs.gpr[GPR_RCX], HC_SELF_FRAME_IS_LAUNCHED);
	CHECK_EQ(regs.gpr[GPR_RDX], 5);
}

TEST(hypercall_l0_self_not_the_launched_vcpu)
{
	uint64_t self = (uint64_t)(uintptr_t)&cpu2;
	/* The table names another vcpu for index 2. */
	self_fixture(self, self);
	g_l0.vcpus[2] = &cpu3;
	vmcall(7, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RCX], HC_SELF_GS_IS_FRAME | HC_SELF_HOST_GS);
	/* An index past the CPUs L0 counts. */
	self_fixture(self, self);
	cpu2.index = 3;
	vmcall(7, 0, 0);
	CHECK_EQ(regs.gpr[GPR_RCX], HC_SELF_GS_IS_FRAME | HC_SELF_HOST_GS);
	/* The handler's vcpu is not the exit frame's. */
	self_fixture(self, self);
	regs.gpr[GPR_RAX] = 7;
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, 3);
	exit_vmcall(&cpu0, &regs);
	CHECK_EQ(regs.gpr[GPR_RCX], HC_SELF_GS_IS_FRAME | HC_SELF_HOST_GS);
	CHECK_EQ(regs.gpr[GPR_RDX], 7); /* cpu0's count: the vcpu the handler acts for */
}

/* docs: -2 when nested is off (no nested state), and for a bad CPU index. */
TEST(hypercall_nested_bad_input)
{
	setup();
	static const uint64_t bad_cpu[] = {1, 3, 64, 0x100000000ull, ~0ull - 1};
	for (unsigned fn = 5; fn <= 6; fn++) {
		for (unsigned i = 0; i < sizeof(bad_cpu) / sizeof(bad_cpu[0]); i++) {
			vmcall(fn, bad_cpu[i], 0x2222);
			CHECK_EQ(regs.gpr[GPR_RAX], ST_EINVAL);
			CHECK_EQ(regs.gpr[GPR_RBX], bad_cpu[i]);
			CHECK_EQ(regs.gpr[GPR_RCX], 0x2222);
			CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
			CHECK(others_kept());
		}
		/* The caller without nested state: ~0 on CPU 1. */
		regs.vcpu = &cpu1;
		vmcall(fn, ~0ull, 0x2222);
		CHECK_EQ(regs.gpr[GPR_RAX], ST_EINVAL);
		CHECK_EQ(regs.gpr[GPR_RBX], ~0ull);
		CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
		regs.vcpu = &cpu2;
	}
}

TEST(hypercall_unknown_functions)
{
	setup();
	static const uint64_t unknown[] = {10,		  11,		    0x40000000ull,
					   0x100000000ull, 0x100000007ull, ~0ull};
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		vmcall(unknown[i], 0x1111, 0x2222);
		CHECK_EQ(regs.gpr[GPR_RAX], ST_ENOSYS);
		CHECK_EQ(regs.gpr[GPR_RBX], 0x1111);
		CHECK_EQ(regs.gpr[GPR_RCX], 0x2222);
		CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
		CHECK(others_kept());
	}
	CHECK_EQ(log_get_level(), LOG_INFO);
}

/* docs: a VMCALL from CPL 1-3 does nothing but return -3, whatever the function. */
TEST(hypercall_cpl_above_0_refused)
{
	setup();
	for (unsigned cpl = 1; cpl <= 3; cpl++) {
		vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, SS_AR_CPL(cpl));
		for (uint64_t fn = 0; fn <= 7; fn++) {
			vmcall(fn, 3, 0x2222); /* RBX 3: a valid level for function 2 */
			CHECK_EQ(regs.gpr[GPR_RAX], ST_EPERM);
			CHECK_EQ(regs.gpr[GPR_RBX], 3);
			CHECK_EQ(regs.gpr[GPR_RCX], 0x2222);
			CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
			CHECK(others_kept());
		}
		vmcall(5, ~0ull, 0x2222);
		CHECK_EQ(regs.gpr[GPR_RAX], ST_EPERM);
		CHECK_EQ(regs.gpr[GPR_RBX], ~0ull);
	}
	CHECK_EQ(log_get_level(), LOG_INFO); /* HC_SET_LOGLEVEL 3 did nothing */
	/* CPL 0 again: the same call works (the CPL is read at each VMCALL). */
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, SS_AR_CPL(0));
	vmcall(5, ~0ull, 0);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 2001);
}

TEST(hypercall_dispatched_from_exit_reason_18)
{
	setup();
	cpu2.launched = true;
	regs.gpr[GPR_RAX] = 4;
	vmcs_soft_set(VMCS_GUEST_RIP, RIP0);
	vmcs_soft_set(VMCS_VM_EXIT_INSTRUCTION_LEN, 3);
	vmcs_soft_set(VMCS_VM_EXIT_REASON, 18);
	vmx_exit_dispatch(&regs);
	CHECK_EQ(regs.gpr[GPR_RAX], ST_OK);
	CHECK_EQ(regs.gpr[GPR_RBX], 2);
	CHECK_EQ(regs.gpr[GPR_RCX], 6);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), RIP0 + 3);
	CHECK_EQ(cpu2.exits[18], 73);
	CHECK_EQ(cpu2.exits_total, 701);
}
