/*
 * test_vmcs12.c - vmcs12 layout and field access (nested/vmcs12.c), against
 * facts written out from the SDM, never against the field table itself:
 * encodings, widths and types from SDM Vol. 3D Appendix B (field
 * encodings) and Vol. 3C 25.11.2 (encoding bits: 14:13 width, 11:10 type,
 * bit 0 the "high" access of a 64-bit field), the region header from
 * Vol. 3C 25.2, and the region size from Bochs's IA32_VMX_BASIC.
 */
#include "nested/vmcs12.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

/* vmx/vmcs_fields.h's enum values, written here as the SDM gives them. */
enum { W16 = 0, W64 = 1, W32 = 2, WNAT = 3 };		  /* SDM 25.11.2, bits 14:13 */
enum { CONTROL = 0, EXIT_INFO = 1, GUEST = 2, HOST = 3 }; /* SDM 25.11.2, bits 11:10 */

struct sdm_field {
	uint32_t encoding;
	const char *name;
	unsigned width, type;
};

/* SDM Vol. 3D Appendix B, one or more fields of each table. */
static const struct sdm_field sdm_fields[] = {
    /* B.1.1 16-bit control: virtual-processor identifier */
    {0x0000, "VIRTUAL_PROCESSOR_ID", W16, CONTROL},
    /* B.1.2 16-bit guest state */
    {0x0800, "GUEST_ES_SELECTOR", W16, GUEST},
    {0x0802, "GUEST_CS_SELECTOR", W16, GUEST},
    {0x080e, "GUEST_TR_SELECTOR", W16, GUEST},
    /* B.1.3 16-bit host state */
    {0x0c00, "HOST_ES_SELECTOR", W16, HOST},
    {0x0c0c, "HOST_TR_SELECTOR", W16, HOST},
    /* B.2.1 64-bit control */
    {0x2000, "IO_BITMAP_A", W64, CONTROL},
    {0x2002, "IO_BITMAP_B", W64, CONTROL},
    {0x2004, "MSR_BITMAP", W64, CONTROL},
    {0x2006, "VM_EXIT_MSR_STORE_ADDR", W64, CONTROL},
    {0x2008, "VM_EXIT_MSR_LOAD_ADDR", W64, CONTROL},
    {0x200a, "VM_ENTRY_MSR_LOAD_ADDR", W64, CONTROL},
    {0x2010, "TSC_OFFSET", W64, CONTROL},
    {0x201a, "EPT_POINTER", W64, CONTROL},
    /* B.2.2 64-bit read-only data */
    {0x2400, "GUEST_PHYSICAL_ADDRESS", W64, EXIT_INFO},
    /* B.2.3 64-bit guest state */
    {0x2800, "VMCS_LINK_POINTER", W64, GUEST},
    {0x2806, "GUEST_IA32_EFER", W64, GUEST},
    /* B.2.4 64-bit host state */
    {0x2c02, "HOST_IA32_EFER", W64, HOST},
    /* B.3.1 32-bit control */
    {0x4000, "PIN_BASED_VM_EXEC_CONTROL", W32, CONTROL},
    {0x4002, "CPU_BASED_VM_EXEC_CONTROL", W32, CONTROL},
    {0x4004, "EXCEPTION_BITMAP", W32, CONTROL},
    {0x400c, "VM_EXIT_CONTROLS", W32, CONTROL},
    {0x4012, "VM_ENTRY_CONTROLS", W32, CONTROL},
    {0x4016, "VM_ENTRY_INTR_INFO_FIELD", W32, CONTROL},
    {0x401e, "SECONDARY_VM_EXEC_CONTROL", W32, CONTROL},
    /* B.3.2 32-bit read-only data */
    {0x4400, "VM_INSTRUCTION_ERROR", W32, EXIT_INFO},
    {0x4402, "VM_EXIT_REASON", W32, EXIT_INFO},
    {0x4404, "VM_EXIT_INTR_INFO", W32, EXIT_INFO},
    {0x440c, "VM_EXIT_INSTRUCTION_LEN", W32, EXIT_INFO},
    {0x440e, "VMX_INSTRUCTION_INFO", W32, EXIT_INFO},
    /* B.3.3 32-bit guest state */
    {0x4802, "GUEST_CS_LIMIT", W32, GUEST},
    {0x4816, "GUEST_CS_AR_BYTES", W32, GUEST},
    {0x4824, "GUEST_INTERRUPTIBILITY_INFO", W32, GUEST},
    {0x4826, "GUEST_ACTIVITY_STATE", W32, GUEST},
    {0x482e, "VMX_PREEMPTION_TIMER_VALUE", W32, GUEST},
    /* B.3.4 32-bit host state */
    {0x4c00, "HOST_IA32_SYSENTER_CS", W32, HOST},
    /* B.4.1 natural-width control */
    {0x6000, "CR0_GUEST_HOST_MASK", WNAT, CONTROL},
    {0x6004, "CR0_READ_SHADOW", WNAT, CONTROL},
    /* B.4.2 natural-width read-only data */
    {0x6400, "EXIT_QUALIFICATION", WNAT, EXIT_INFO},
    {0x640a, "GUEST_LINEAR_ADDRESS", WNAT, EXIT_INFO},
    /* B.4.3 natural-width guest state */
    {0x6800, "GUEST_CR0", WNAT, GUEST},
    {0x681c, "GUEST_RSP", WNAT, GUEST},
    {0x681e, "GUEST_RIP", WNAT, GUEST},
    {0x6820, "GUEST_RFLAGS", WNAT, GUEST},
    /* B.4.4 natural-width host state */
    {0x6c00, "HOST_CR0", WNAT, HOST},
    {0x6c14, "HOST_RSP", WNAT, HOST},
    {0x6c16, "HOST_RIP", WNAT, HOST},
};
#define NSDM (sizeof(sdm_fields) / sizeof(sdm_fields[0]))

TEST(vmcs12_sdm_encodings_named_sized_typed)
{
	for (unsigned i = 0; i < NSDM; i++) {
		const struct sdm_field *s = &sdm_fields[i];
		const struct vmcs_field_info *f = vmcs_field_lookup(s->encoding);
		bool ok = CHECK(f != NULL);
		if (f)
			ok &= CHECK_STR(f->name, s->name) & CHECK_EQ(f->encoding, s->encoding) &
			      CHECK_EQ(f->width, s->width) & CHECK_EQ(f->cls, s->type);
		if (!ok)
			printf("     field: 0x%04x %s\n", s->encoding, s->name);
	}
}

/* SDM 25.11.2: encoding | 1 is the high half of a 64-bit field, and of no other. */
TEST(vmcs12_sdm_high_encodings)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(0x2001);
	CHECK(f && strcmp(f->name, "IO_BITMAP_A") == 0 && f->encoding == 0x2000);
	f = vmcs_field_lookup(0x2011);
	CHECK(f && strcmp(f->name, "TSC_OFFSET") == 0);
	f = vmcs_field_lookup(0x2401);
	CHECK(f && strcmp(f->name, "GUEST_PHYSICAL_ADDRESS") == 0);
	f = vmcs_field_lookup(0x2801);
	CHECK(f && strcmp(f->name, "VMCS_LINK_POINTER") == 0);
	CHECK(vmcs_field_lookup(0x0803) == NULL); /* 16-bit: no high half */
	CHECK(vmcs_field_lookup(0x4403) == NULL); /* 32-bit */
	CHECK(vmcs_field_lookup(0x681f) == NULL); /* natural width */
	CHECK(vmcs_field_lookup(0x6c17) == NULL);
}

TEST(vmcs12_layout)
{
	/* SDM 25.2, Table 25-1: revision identifier at byte 0, VMX-abort indicator at byte 4. */
	CHECK_EQ(offsetof(struct vmcs12, revision), 0);
	CHECK_EQ(offsetof(struct vmcs12, abort), 4);
	/* Ours: launch state, a reserved word, then the 8-byte field slots from byte 16. */
	CHECK_EQ(VMCS12_FIELD_OFFSET(0), 16);
	/* Bochs's IA32_VMX_BASIC 0x00d810000000002b, bits 44:32: a 4096-byte VMCS region. */
	CHECK(sizeof(struct vmcs12) <= 4096);
}

/* Every field above in its own slot: none overlaps another or the header. */
TEST(vmcs12_sdm_fields_do_not_alias)
{
	static struct vmcs12 v;
	memset(&v, 0, sizeof(v));
	v.revision = 0x2b;
	v.abort = 0x11;
	v.launch_state = 1;
	for (unsigned i = 0; i < NSDM; i++)
		CHECK(vmcs12_write(&v, sdm_fields[i].encoding, 0x100 + i));
	int bad = 0;
	for (unsigned i = 0; i < NSDM; i++) {
		uint64_t x = 0;
		if (!vmcs12_read(&v, sdm_fields[i].encoding, &x) || x != 0x100 + i)
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(v.revision, 0x2b);
	CHECK_EQ(v.abort, 0x11);
	CHECK_EQ(v.launch_state, 1);
}

TEST(vmcs12_read_write_widths)
{
	static struct vmcs12 v;
	memset(&v, 0, sizeof(v));
	uint64_t x = 0;
	/* 0x0802 GUEST_CS_SELECTOR, 16-bit: keeps bits 15:0. */
	CHECK(vmcs12_write(&v, 0x0802, 0x123456789ull));
	CHECK(vmcs12_read(&v, 0x0802, &x));
	CHECK_EQ(x, 0x6789);
	/* 0x4004 EXCEPTION_BITMAP, 32-bit: keeps bits 31:0. */
	CHECK(vmcs12_write(&v, 0x4004, 0xaabbccdd11223344ull));
	CHECK(vmcs12_read(&v, 0x4004, &x));
	CHECK_EQ(x, 0x11223344);
	/* 0x4402 VM_EXIT_REASON, read-only 32-bit (the write is L0's own, vmcs12_set). */
	vmcs12_set(&v, 0x4402, 0x8000002100000030ull);
	CHECK(vmcs12_read(&v, 0x4402, &x));
	CHECK_EQ(x, 0x30);
	/* 0x681E GUEST_RIP, natural width: all 64 bits in 64-bit mode. */
	CHECK(vmcs12_write(&v, 0x681e, 0xffffffff81000000ull));
	CHECK(vmcs12_read(&v, 0x681e, &x));
	CHECK_EQ(x, 0xffffffff81000000ull);
	CHECK_EQ(vmcs12_get(&v, 0x681e), 0xffffffff81000000ull);
	/* 0x2000 IO_BITMAP_A, 64-bit full: all 64 bits. */
	CHECK(vmcs12_write(&v, 0x2000, 0x0000001234567000ull));
	CHECK(vmcs12_read(&v, 0x2000, &x));
	CHECK_EQ(x, 0x0000001234567000ull);
}

TEST(vmcs12_high_access)
{
	static struct vmcs12 v;
	memset(&v, 0, sizeof(v));
	uint64_t x = 0;
	/* SDM 25.11.2: the high encoding (0x2011 of TSC_OFFSET 0x2010) is bits 63:32. */
	CHECK(vmcs12_write(&v, 0x2010, 0x1111111122222222ull));
	CHECK(vmcs12_read(&v, 0x2011, &x));
	CHECK_EQ(x, 0x11111111);
	CHECK(vmcs12_write(&v, 0x2011, 0x33333333));
	CHECK(vmcs12_read(&v, 0x2010, &x));
	CHECK_EQ(x, 0x3333333322222222ull);
	/* 0x2001, IO_BITMAP_A's high half, likewise. */
	CHECK(vmcs12_write(&v, 0x2000, 0xabcd000012345000ull));
	CHECK(vmcs12_read(&v, 0x2001, &x));
	CHECK_EQ(x, 0xabcd0000);
	CHECK(vmcs12_write(&v, 0x2001, 0x7));
	CHECK_EQ(vmcs12_get(&v, 0x2000), 0x0000000712345000ull);
}

TEST(vmcs12_unknown_fields)
{
	static struct vmcs12 v;
	uint64_t x = 7;
	CHECK(!vmcs12_read(&v, 0x7fff, &x));
	CHECK_EQ(x, 7);
	CHECK(!vmcs12_write(&v, 0x6c30, 1));
	/* A "high" encoding of a non-64-bit field (0x0802 | 1) is not a field. */
	CHECK(!vmcs12_read(&v, 0x0803, &x));
	CHECK_EQ(x, 7);
	CHECK(!vmcs12_write(&v, 0x4403, 1));
}

TEST(vmcs12_highest_index)
{
	/*
	 * Bits 9:1 of the highest encoding offered: TSC_MULTIPLIER 0x2032 (SDM B.2.1) has
	 * index 0x19, the value L1's IA32_VMX_VMCS_ENUM bits 9:1 report (SDM A.9).
	 */
	CHECK_EQ(vmcs12_highest_field_index(), 0x19);
}
