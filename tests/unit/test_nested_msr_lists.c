/*
 * test_nested_msr_lists.c - nested/msr_lists.c: the SDM's per-entry rules
 * for the VM-entry MSR-load, VM-exit MSR-store and VM-exit MSR-load areas,
 * in-order processing that stops at the first failure (earlier entries
 * kept), the 1-based number of the failing entry, the recommended maximum,
 * and areas L0 may not read or write.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "nested/msr_lists.h"

#include <string.h>

#define AREA_GPA 0x10000ull
#define MEM_SIZE 0x2000u /* guest-physical 0x10000..0x11fff */

static uint8_t mem_buf[MEM_SIZE];
static uint64_t refused_from = ~0ull; /* reads and writes at or above: refused */

static bool in_mem(uint64_t gpa, size_t len)
{
	return gpa >= AREA_GPA && gpa + len <= AREA_GPA + MEM_SIZE && gpa + len <= refused_from;
}

static bool mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (!in_mem(gpa, len))
		return false;
	memcpy(buf, mem_buf + (gpa - AREA_GPA), len);
	return true;
}

static bool mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (!in_mem(gpa, len))
		return false;
	memcpy(mem_buf + (gpa - AREA_GPA), buf, len);
	return true;
}

static const struct l1_memory mem = { mem_read, mem_write, NULL, 40, NULL, NULL };

/* A CPU with three MSRs; writing 0xbad to any of them is #GP. */
static struct {
	uint32_t msr[3];
	uint64_t value[3];
	unsigned writes, reads;
	uint32_t written[8];
} cpu;

static int slot(uint32_t msr)
{
	for (int i = 0; i < 3; i++)
		if (cpu.msr[i] == msr)
			return i;
	return -1;
}

static bool op_read(void *ctx, uint32_t msr, uint64_t *value)
{
	(void)ctx;
	cpu.reads++;
	int s = slot(msr);
	if (s < 0)
		return false;
	*value = cpu.value[s];
	return true;
}

static bool op_write(void *ctx, uint32_t msr, uint64_t value)
{
	(void)ctx;
	int s = slot(msr);
	if (s < 0 || value == 0xbad)
		return false;
	if (cpu.writes < 8)
		cpu.written[cpu.writes] = msr;
	cpu.writes++;
	cpu.value[s] = value;
	return true;
}

static const struct nested_msr_ops ops = { op_read, op_write, NULL };

static void reset(void)
{
	memset(mem_buf, 0, sizeof(mem_buf));
	memset(&cpu, 0, sizeof(cpu));
	refused_from = ~0ull;
	cpu.msr[0] = MSR_IA32_SYSENTER_CS;
	cpu.msr[1] = MSR_IA32_PAT;
	cpu.msr[2] = 0xc0000081; /* STAR */
	cpu.value[0] = 0x10;
	cpu.value[1] = 0x0007040600070406ull;
	cpu.value[2] = 0x0023001000000000ull;
}

static void put_entry(unsigned i, uint32_t index, uint32_t reserved, uint64_t data)
{
	uint8_t *e = mem_buf + i * VMX_MSR_ENTRY_SIZE;
	uint64_t head = ((uint64_t)reserved << 32) | index;
	memcpy(e, &head, 8);
	memcpy(e + 8, &data, 8);
}

static uint64_t entry_data(unsigned i)
{
	uint64_t d;
	memcpy(&d, mem_buf + i * VMX_MSR_ENTRY_SIZE + 8, 8);
	return d;
}

TEST(nested_msr_entry_rules)
{
	static const struct {
		uint32_t index, reserved;
		bool entry_load, exit_store, exit_load;
	} rows[] = {
		{ MSR_IA32_PAT, 0, true, true, true },
		{ MSR_IA32_PAT, 1, false, false, false },	    /* bits 63:32 reserved */
		{ MSR_IA32_PAT, 0x80000000u, false, false, false },
		{ MSR_IA32_FS_BASE, 0, false, true, false },	    /* 27.4, 28.6 only */
		{ MSR_IA32_GS_BASE, 0, false, true, false },
		{ 0x800, 0, false, false, false },		    /* x2APIC range */
		{ 0x8ff, 0, false, false, false },
		{ 0x7ff, 0, true, true, true },
		{ 0x900, 0, true, true, true },
		{ 0x9b, 0, false, true, false },		    /* IA32_SMM_MONITOR_CTL */
		{ 0x9e, 0, true, false, true },			    /* IA32_SMBASE: store only */
		{ MSR_IA32_EFER, 0, true, true, true },
		{ 0xc0000102, 0, true, true, true },		    /* KERNEL_GS_BASE */
	};
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK_EQ(nested_msr_entry_allowed(NMSR_ENTRY_LOAD, rows[i].index, rows[i].reserved),
			 rows[i].entry_load);
		CHECK_EQ(nested_msr_entry_allowed(NMSR_EXIT_STORE, rows[i].index, rows[i].reserved),
			 rows[i].exit_store);
		CHECK_EQ(nested_msr_entry_allowed(NMSR_EXIT_LOAD, rows[i].index, rows[i].reserved),
			 rows[i].exit_load);
	}
}

TEST(nested_msr_load_all_in_order)
{
	reset();
	put_entry(0, MSR_IA32_PAT, 0, 0x0606060606060606ull);
	put_entry(1, MSR_IA32_SYSENTER_CS, 0, 0x33);
	put_entry(2, MSR_IA32_PAT, 0, 0x0000000000000006ull); /* the last write wins */
	CHECK_EQ(nested_msr_list(NMSR_ENTRY_LOAD, AREA_GPA, 3, 512, &mem, &ops), 0);
	CHECK_EQ(cpu.writes, 3);
	CHECK_EQ(cpu.written[0], MSR_IA32_PAT);
	CHECK_EQ(cpu.written[1], MSR_IA32_SYSENTER_CS);
	CHECK_EQ(cpu.value[0], 0x33);
	CHECK_EQ(cpu.value[1], 6);
	CHECK_EQ(cpu.reads, 0);
	/* Count 0: nothing read, nothing written. */
	reset();
	refused_from = 0;
	CHECK_EQ(nested_msr_list(NMSR_EXIT_LOAD, AREA_GPA, 0, 512, &mem, &ops), 0);
	CHECK_EQ(cpu.writes, 0);
}

TEST(nested_msr_load_stops_at_the_first_failure)
{
	/* Each bad entry at position 3 (1-based): entries 1 and 2 took effect. */
	static const struct {
		uint32_t index, reserved;
		uint64_t data;
	} bad[] = {
		{ MSR_IA32_PAT, 1, 6 },	     /* reserved bits */
		{ MSR_IA32_FS_BASE, 0, 0 },  /* FS base */
		{ 0x830, 0, 0 },	     /* x2APIC ICR */
		{ 0x9b, 0, 0 },		     /* SMM monitor */
		{ 0x12345678, 0, 0 },	     /* WRMSR would #GP: no such MSR */
		{ MSR_IA32_PAT, 0, 0xbad },  /* WRMSR would #GP: the value */
	};
	for (int kind = NMSR_ENTRY_LOAD; kind <= NMSR_EXIT_LOAD; kind += 2) {
		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			reset();
			put_entry(0, MSR_IA32_SYSENTER_CS, 0, 0x44);
			put_entry(1, 0xc0000081, 0, 0x1234);
			put_entry(2, bad[i].index, bad[i].reserved, bad[i].data);
			put_entry(3, MSR_IA32_PAT, 0, 0x0101010101010101ull);
			CHECK_EQ(nested_msr_list((enum nested_msr_list)kind, AREA_GPA, 4, 512, &mem,
						 &ops),
				 3);
			CHECK_EQ(cpu.writes, 2);
			CHECK_EQ(cpu.value[0], 0x44);
			CHECK_EQ(cpu.value[2], 0x1234);
			CHECK_EQ(cpu.value[1], 0x0007040600070406ull); /* entry 4 never ran */
		}
	}
}

TEST(nested_msr_store_writes_the_data_half)
{
	reset();
	put_entry(0, MSR_IA32_PAT, 0, 0xffffffffffffffffull);
	put_entry(1, 0xc0000081, 0, 0);
	put_entry(2, MSR_IA32_SYSENTER_CS, 0, 7);
	CHECK_EQ(nested_msr_list(NMSR_EXIT_STORE, AREA_GPA, 3, 512, &mem, &ops), 0);
	CHECK_EQ(entry_data(0), 0x0007040600070406ull);
	CHECK_EQ(entry_data(1), 0x0023001000000000ull);
	CHECK_EQ(entry_data(2), 0x10);
	CHECK_EQ(cpu.reads, 3);
	CHECK_EQ(cpu.writes, 0);
	/* The index halves are left alone. */
	uint64_t head;
	memcpy(&head, mem_buf + 16, 8);
	CHECK_EQ(head, 0xc0000081ull);

	/* IA32_SMBASE and an unreadable MSR fail at their position. */
	reset();
	put_entry(0, MSR_IA32_PAT, 0, 0);
	put_entry(1, 0x9e, 0, 0);
	CHECK_EQ(nested_msr_list(NMSR_EXIT_STORE, AREA_GPA, 2, 512, &mem, &ops), 2);
	CHECK_EQ(entry_data(0), 0x0007040600070406ull);
	CHECK_EQ(entry_data(1), 0);
	reset();
	put_entry(0, 0x777, 0, 5);
	CHECK_EQ(nested_msr_list(NMSR_EXIT_STORE, AREA_GPA, 1, 512, &mem, &ops), 1);
	CHECK_EQ(entry_data(0), 5);
	/* Entry load never reads an MSR; exit store never writes one. */
	CHECK_EQ(cpu.writes, 0);
}

TEST(nested_msr_list_refused_memory_and_maximum)
{
	/* The second entry's page is refused: it fails as entry 2. */
	reset();
	put_entry(0, MSR_IA32_PAT, 0, 6);
	put_entry(1, MSR_IA32_PAT, 0, 4);
	refused_from = AREA_GPA + VMX_MSR_ENTRY_SIZE;
	CHECK_EQ(nested_msr_list(NMSR_ENTRY_LOAD, AREA_GPA, 2, 512, &mem, &ops), 2);
	CHECK_EQ(cpu.value[1], 6);
	/* A store whose data half cannot be written back fails too. */
	reset();
	put_entry(0, MSR_IA32_PAT, 0, 0);
	refused_from = AREA_GPA + 8;
	CHECK_EQ(nested_msr_list(NMSR_EXIT_STORE, AREA_GPA, 1, 512, &mem, &ops), 1);
	/* An area outside L1's memory altogether. */
	reset();
	CHECK_EQ(nested_msr_list(NMSR_EXIT_LOAD, 0x5000, 1, 512, &mem, &ops), 1);
	CHECK_EQ(cpu.writes, 0);

	/* More entries than the maximum: the first max run, then max + 1 fails. */
	reset();
	for (unsigned i = 0; i < 5; i++)
		put_entry(i, MSR_IA32_SYSENTER_CS, 0, 0x100 + i);
	CHECK_EQ(nested_msr_list(NMSR_ENTRY_LOAD, AREA_GPA, 5, 3, &mem, &ops), 4);
	CHECK_EQ(cpu.writes, 3);
	CHECK_EQ(cpu.value[0], 0x102);
	CHECK_EQ(VMX_MISC_MAX_MSR_LIST(0x00000000600401e0ull), 512); /* Bochs: N = 0 */
	CHECK_EQ(VMX_MISC_MAX_MSR_LIST(7ull << 25), 4096);
	CHECK_EQ(VMX_MISC_MAX_MSR_LIST(1ull << 25), 1024);
}
