/*
 * test_vmcs_soft.c - the software VMCS the exit tests run on
 * (tests/unit/vmcs_soft.c): width truncation, "high" aliases, errors for
 * unknown and unsupported fields, the per-field and per-class counters;
 * and vmx/vmcs_dump.c on top of it (exact lines, class selection,
 * unsupported fields skipped).
 */
#include "test.h"

#include "drivers/serial/log.h"
#include "vmcs_soft.h"
#include "vmx/vmcs.h"
#include "vmx/vmcs_dump.h"

#include <string.h>

TEST(vmcs_soft_width_truncation)
{
	vmcs_soft_reset();
	vmcs_write(VMCS_GUEST_CS_SELECTOR, 0x123456789abcdef0ull); /* 16 */
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, 0x123456789abcdef0ull); /* 32 */
	vmcs_write(VMCS_GUEST_IA32_EFER, 0x123456789abcdef0ull);   /* 64 */
	vmcs_write(VMCS_GUEST_RIP, 0x123456789abcdef0ull);	   /* natural */
	CHECK_EQ(vmcs_read(VMCS_GUEST_CS_SELECTOR), 0xdef0);
	CHECK_EQ(vmcs_read(VMCS_VM_ENTRY_CONTROLS), 0x9abcdef0);
	CHECK_EQ(vmcs_read(VMCS_GUEST_IA32_EFER), 0x123456789abcdef0ull);
	CHECK_EQ(vmcs_read(VMCS_GUEST_RIP), 0x123456789abcdef0ull);
	/* The uncounted setter truncates the same way. */
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xffffffffffull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_SS_AR_BYTES), 0xffffffffull);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(vmcs_soft_high_alias)
{
	vmcs_soft_reset();
	vmcs_write(VMCS_EPT_POINTER, 0x1111222233334444ull);
	CHECK_EQ(vmcs_read(VMCS_EPT_POINTER | 1), 0x11112222);
	vmcs_write(VMCS_EPT_POINTER | 1, 0xaaaabbbbccccddddull); /* only the low 32 bits count */
	CHECK_EQ(vmcs_read(VMCS_EPT_POINTER), 0xccccdddd33334444ull);
	CHECK_EQ(vmcs_soft_get(VMCS_EPT_POINTER | 1), 0xccccddddull);
	uint64_t v = 0;
	CHECK(vmcs_read_checked(VMCS_EPT_POINTER | 1, &v));
	CHECK_EQ(v, 0xccccdddd);
	/* The alias counts as an access of its field. */
	CHECK_EQ(vmcs_soft_field_writes(VMCS_EPT_POINTER), 2);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_EPT_POINTER), 3);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(vmcs_soft_unknown_fields_are_errors)
{
	vmcs_soft_reset();
	vmcs_write(VMCS_GUEST_RIP, 0x1234);
	vmcs_write(0x681f, 0x5678); /* natural width has no high alias */
	CHECK_EQ(vmcs_soft_errors(), 1);
	CHECK_EQ(vmcs_soft_last_error(), 0x681f);
	CHECK_EQ(vmcs_read(VMCS_GUEST_RIP), 0x1234);
	CHECK_EQ(vmcs_read(0x2030), 0);
	CHECK_EQ(vmcs_soft_errors(), 2);
	CHECK_EQ(vmcs_soft_last_error(), 0x2030);
	uint64_t v = 0xabcd;
	CHECK(!vmcs_read_checked(0x0006, &v));
	CHECK_EQ(v, 0xabcd);
	CHECK_EQ(vmcs_soft_errors(), 3);
	/* Unknown encodings count in no class. */
	unsigned long sum = 0;
	for (unsigned c = 0; c < 4; c++)
		sum += vmcs_soft_reads((enum vmcs_class)c) + vmcs_soft_writes((enum vmcs_class)c);
	CHECK_EQ(sum, 2);
	vmcs_soft_clear_counters();
	CHECK_EQ(vmcs_soft_errors(), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), 0x1234); /* values kept */
}

TEST(vmcs_soft_unsupported_fields)
{
	vmcs_soft_reset();
	vmcs_soft_set(VMCS_GUEST_PML_INDEX, 0x1ff);
	vmcs_soft_set_supported(VMCS_GUEST_PML_INDEX, false);
	uint64_t v = 7;
	CHECK(!vmcs_read_checked(VMCS_GUEST_PML_INDEX, &v)); /* a probe: no error */
	CHECK_EQ(v, 7);
	CHECK_EQ(vmcs_soft_errors(), 0);
	CHECK_EQ(vmcs_read(VMCS_GUEST_PML_INDEX), 0);
	vmcs_write(VMCS_GUEST_PML_INDEX, 3);
	CHECK_EQ(vmcs_soft_errors(), 2);
	vmcs_soft_set_supported(VMCS_GUEST_PML_INDEX, true);
	CHECK_EQ(vmcs_read(VMCS_GUEST_PML_INDEX), 0x1ff); /* the refused write changed nothing */
}

TEST(vmcs_soft_counters)
{
	vmcs_soft_reset();
	unsigned long host0 = vmcs_soft_lifetime_reads(VMCS_CLASS_HOST);
	vmcs_soft_set(VMCS_GUEST_RIP, 0x1000); /* uncounted */
	(void)vmcs_soft_get(VMCS_HOST_RIP);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_GUEST), 0);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_HOST), 0);

	(void)vmcs_read(VMCS_GUEST_RIP);
	(void)vmcs_read(VMCS_GUEST_RIP);
	vmcs_write(VMCS_GUEST_RSP, 1);
	(void)vmcs_read(VMCS_EXIT_QUALIFICATION);
	vmcs_set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, 4); /* one read, one write */
	(void)vmcs_read(VMCS_HOST_CR3);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_GUEST), 2);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_GUEST), 1);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_EXIT_INFO), 1);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_EXIT_INFO), 0);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_CONTROL), 1);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_CONTROL), 1);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_HOST), 1);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_RIP), 2);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_RIP), 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_RSP), 1);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_HOST_CR3), 1);
	CHECK_EQ(vmcs_soft_get(VMCS_CPU_BASED_VM_EXEC_CONTROL), 4);
	CHECK_EQ(vmcs_soft_lifetime_reads(VMCS_CLASS_HOST), host0 + 1);
	/* Reset clears the per-run counters, never the lifetime ones. */
	vmcs_soft_reset();
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_HOST), 0);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_RIP), 0);
	CHECK_EQ(vmcs_soft_lifetime_reads(VMCS_CLASS_HOST), host0 + 1);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), 0);
}

/* ---- vmcs_dump ---- */

#define DUMP_LINES 200

static struct {
	int n;
	char line[DUMP_LINES][LOG_LINE_MAX + 1];
} dumped;

static void dump_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (dumped.n < DUMP_LINES && len <= LOG_LINE_MAX) {
		memcpy(dumped.line[dumped.n], line, len);
		dumped.line[dumped.n][len] = '\0';
	}
	dumped.n++;
}

static void capture_dump(enum log_level level, unsigned mask)
{
	memset(&dumped, 0, sizeof(dumped));
	log_init("t", LOG_INFO);
	log_add_sink(dump_sink, NULL);
	vmcs_dump(level, mask);
	log_init("t", LOG_INFO);
}

static int find_line(const char *text)
{
	for (int i = 0; i < dumped.n && i < DUMP_LINES; i++)
		if (strcmp(dumped.line[i], text) == 0)
			return i;
	return -1;
}

TEST(vmcs_dump_guest_fields)
{
	vmcs_soft_reset();
	vmcs_soft_set(VMCS_GUEST_RIP, 0xfffff80000401000ull);
	vmcs_soft_set(VMCS_GUEST_CS_SELECTOR, 0x10);
	vmcs_soft_set_supported(VMCS_GUEST_PML_INDEX, false);
	capture_dump(LOG_ERROR, VMCS_DUMP_GUEST);
	/* A header, then every supported guest field: 63 in the table, one unsupported. */
	CHECK_EQ(dumped.n, 1 + 62);
	CHECK_STR(dumped.line[0], "[t] error: VMCS guest state fields:");
	CHECK_STR(dumped.line[1], "[t] error:   GUEST_ES_SELECTOR              0x0");
	CHECK_STR(dumped.line[2], "[t] error:   GUEST_CS_SELECTOR              0x10");
	CHECK(find_line("[t] error:   GUEST_RIP                      0xfffff80000401000") > 0);
	CHECK_EQ(find_line("[t] error:   GUEST_PML_INDEX                0x0"), -1);
	CHECK(find_line("[t] error:   GUEST_INTR_STATUS              0x0") > 0);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_HOST), 0);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_CONTROL), 0);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_GUEST), 63);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(vmcs_dump_all_classes)
{
	vmcs_soft_reset();
	vmcs_soft_set(VMCS_HOST_RIP, 0x7e001234);
	vmcs_soft_set(VMCS_VM_EXIT_REASON, 0x8000001f);
	capture_dump(LOG_WARN, VMCS_DUMP_ALL);
	CHECK_EQ(dumped.n, 4 + VMCS_FIELD_COUNT);
	CHECK_STR(dumped.line[0], "[t] warn: VMCS control fields:");
	CHECK_STR(dumped.line[1], "[t] warn:   VIRTUAL_PROCESSOR_ID           0x0");
	int exit_hdr = find_line("[t] warn: VMCS exit information fields:");
	int guest_hdr = find_line("[t] warn: VMCS guest state fields:");
	int host_hdr = find_line("[t] warn: VMCS host state fields:");
	CHECK_EQ(exit_hdr, 1 + 53);
	CHECK_EQ(guest_hdr, exit_hdr + 1 + 15);
	CHECK_EQ(host_hdr, guest_hdr + 1 + 63);
	CHECK(find_line("[t] warn:   VM_EXIT_REASON                 0x8000001f") > exit_hdr);
	CHECK_STR(dumped.line[dumped.n - 1],
		  "[t] warn:   HOST_RIP                       0x7e001234");
	/* Below the log level: no line at all. */
	vmcs_soft_clear_counters();
	memset(&dumped, 0, sizeof(dumped));
	log_init("t", LOG_ERROR);
	log_add_sink(dump_sink, NULL);
	vmcs_dump(LOG_INFO, VMCS_DUMP_ALL);
	log_init("t", LOG_INFO);
	CHECK_EQ(dumped.n, 0);
	/* Class mask 0 dumps nothing and reads nothing. */
	vmcs_soft_clear_counters();
	capture_dump(LOG_ERROR, 0);
	CHECK_EQ(dumped.n, 0);
	for (unsigned c = 0; c < 4; c++)
		CHECK_EQ(vmcs_soft_reads((enum vmcs_class)c), 0);
}

/* ---- several VMCSs (VMPTRLD/VMCLEAR through tests/unit/hw_fake.c) ---- */

TEST(vmcs_soft_several_instances)
{
	vmcs_soft_reset();
	CHECK_EQ(vmcs_soft_current(), VMCS_SOFT_DEFAULT_PA);
	vmcs_write(VMCS_GUEST_RIP, 0x1000);
	vmcs_soft_load(0x5000);
	CHECK_EQ(vmcs_soft_current(), 0x5000);
	CHECK_EQ(vmcs_soft_launch_state(0x5000), VMCS_SOFT_LAUNCH_UNKNOWN);
	CHECK_EQ(vmcs_read(VMCS_GUEST_RIP), 0); /* a new one: every field 0 */
	vmcs_write(VMCS_GUEST_RIP, 0x2000);
	vmcs_write(VMCS_EPT_POINTER, 0x1e);
	CHECK_EQ(vmcs_soft_get_in(VMCS_SOFT_DEFAULT_PA, VMCS_GUEST_RIP), 0x1000);
	CHECK_EQ(vmcs_soft_get_in(0x5000, VMCS_GUEST_RIP), 0x2000);
	vmcs_soft_set_in(VMCS_SOFT_DEFAULT_PA, VMCS_GUEST_RSP, 0x77);
	CHECK_EQ(vmcs_read(VMCS_GUEST_RSP), 0);
	/* Per-instance counters; the global ones count both. */
	CHECK_EQ(vmcs_soft_writes_in(0x5000, VMCS_CLASS_GUEST), 1);
	CHECK_EQ(vmcs_soft_writes_in(0x5000, VMCS_CLASS_CONTROL), 1);
	CHECK_EQ(vmcs_soft_reads_in(0x5000, VMCS_CLASS_GUEST), 2);
	CHECK_EQ(vmcs_soft_writes_in(VMCS_SOFT_DEFAULT_PA, VMCS_CLASS_GUEST), 1);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_GUEST), 2);
	/* VMCLEAR of the current one: launch state clear, no current VMCS, values kept. */
	vmcs_soft_clear(0x5000);
	CHECK_EQ(vmcs_soft_current(), VMCS_SOFT_NONE);
	CHECK_EQ(vmcs_soft_launch_state(0x5000), VMCS_SOFT_LAUNCH_CLEAR);
	CHECK_EQ(vmcs_soft_errors(), 0);
	CHECK_EQ(vmcs_read(VMCS_GUEST_RIP), 0);
	vmcs_write(VMCS_GUEST_RIP, 0x3000);
	CHECK_EQ(vmcs_soft_errors(), 2);
	vmcs_soft_load(0x5000);
	CHECK_EQ(vmcs_read(VMCS_GUEST_RIP), 0x2000);
	vmcs_soft_set_launched(0x5000);
	CHECK_EQ(vmcs_soft_launch_state(0x5000), VMCS_SOFT_LAUNCH_LAUNCHED);
	/* Four besides the default one; a fifth is an error and leaves none current. */
	for (uint64_t pa = 0x6000; pa < 0x9000; pa += 0x1000)
		vmcs_soft_load(pa);
	CHECK_EQ(vmcs_soft_current(), 0x8000);
	CHECK_EQ(vmcs_soft_errors(), 2);
	vmcs_soft_load(0x9000);
	CHECK_EQ(vmcs_soft_current(), VMCS_SOFT_NONE);
	CHECK_EQ(vmcs_soft_errors(), 3);
	CHECK(!vmcs_soft_exists(0x9000));
	/* A reset leaves the default one alone, current. */
	vmcs_soft_reset();
	CHECK_EQ(vmcs_soft_current(), VMCS_SOFT_DEFAULT_PA);
	CHECK(!vmcs_soft_exists(0x5000));
	CHECK_EQ(vmcs_read(VMCS_GUEST_RIP), 0);
}
