/*
 * test_vmcs_fields.c - vmx/vmcs_fields.{h,c}: the VMCS field table against
 * the SDM (Vol. 3C 25.11.2 encoding layout, Appendix B encodings): unique
 * encodings and names, width = encoding bits 14:13, class = bits 11:10,
 * reserved encoding bits clear, only "full" encodings listed, every row
 * found by vmcs_field_lookup, high aliases mapped to their field, unknown
 * encodings refused, and every encoding checked against an independent
 * transcription of Appendix B.
 */
#include "test.h"

#include "vmx/vmcs_fields.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

TEST(vmcs_fields_count_and_order)
{
	/* The X-macro table, the enums and the data agree row by row. */
	CHECK_EQ(sizeof(vmcs_field_table) / sizeof(vmcs_field_table[0]), VMCS_FIELD_COUNT);
	CHECK_EQ(VMCS_FIELD_COUNT, 154);
	CHECK_EQ(vmcs_field_table[VMCS_IDX_GUEST_RIP].encoding, VMCS_GUEST_RIP);
	CHECK_STR(vmcs_field_table[VMCS_IDX_GUEST_RIP].name, "GUEST_RIP");
	CHECK_EQ(vmcs_field_table[0].encoding, 0x0000);
	CHECK_STR(vmcs_field_table[0].name, "VIRTUAL_PROCESSOR_ID");
	CHECK_EQ(vmcs_field_table[VMCS_FIELD_COUNT - 1].encoding, 0x6c16);
	CHECK_STR(vmcs_field_table[VMCS_FIELD_COUNT - 1].name, "HOST_RIP");
	/* Table order is encoding order (the SDM's appendix order). */
	int unsorted = 0;
	for (unsigned i = 1; i < VMCS_FIELD_COUNT; i++)
		if (vmcs_field_table[i].encoding <= vmcs_field_table[i - 1].encoding)
			unsorted++;
	CHECK_EQ(unsorted, 0);
}

TEST(vmcs_fields_unique)
{
	int dup_enc = 0, dup_name = 0, empty = 0;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		if (!vmcs_field_table[i].name || !vmcs_field_table[i].name[0])
			empty++;
		for (unsigned j = i + 1; j < VMCS_FIELD_COUNT; j++) {
			if (vmcs_field_table[i].encoding == vmcs_field_table[j].encoding)
				dup_enc++;
			if (strcmp(vmcs_field_table[i].name, vmcs_field_table[j].name) == 0)
				dup_name++;
		}
	}
	CHECK_EQ(dup_enc, 0);
	CHECK_EQ(dup_name, 0);
	CHECK_EQ(empty, 0);
}

TEST(vmcs_fields_width_class_from_encoding)
{
	int bad_width = 0, bad_class = 0, reserved_bits = 0, high = 0, class_range = 0;
	unsigned per_width[4] = {0}, per_class[4] = {0};
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		uint32_t e = f->encoding;
		/* SDM 25.11.2: bits 14:13 width, 11:10 type. */
		if (f->width != ((e >> 13) & 3))
			bad_width++;
		if (f->cls != ((e >> 10) & 3))
			bad_class++;
		if (f->cls > VMCS_CLASS_HOST)
			class_range++;
		/* Bits 31:15 and 12 are reserved (0). */
		if ((e & ~0x7fffu) || (e & (1u << 12)))
			reserved_bits++;
		/* Only full encodings; bit 0 is "high" for 64-bit fields and 0 for the others. */
		if (e & 1)
			high++;
		per_width[f->width & 3]++;
		per_class[f->cls & 3]++;
	}
	CHECK_EQ(bad_width, 0);
	CHECK_EQ(bad_class, 0);
	CHECK_EQ(class_range, 0);
	CHECK_EQ(reserved_bits, 0);
	CHECK_EQ(high, 0);
	/* Counts per width and class, by hand from the table. */
	CHECK_EQ(per_width[VMCS_WIDTH_16], 20);
	CHECK_EQ(per_width[VMCS_WIDTH_64], 38);
	CHECK_EQ(per_width[VMCS_WIDTH_32], 50);
	CHECK_EQ(per_width[VMCS_WIDTH_NATURAL], 46);
	CHECK_EQ(per_class[VMCS_CLASS_CONTROL], 53);
	CHECK_EQ(per_class[VMCS_CLASS_EXIT_INFO], 15);
	CHECK_EQ(per_class[VMCS_CLASS_GUEST], 63);
	CHECK_EQ(per_class[VMCS_CLASS_HOST], 23);
	/* The macros themselves. */
	CHECK_EQ(VMCS_ENCODING_WIDTH(0x681eu), VMCS_WIDTH_NATURAL);
	CHECK_EQ(VMCS_ENCODING_TYPE(0x681eu), VMCS_CLASS_GUEST);
	CHECK_EQ(VMCS_ENCODING_WIDTH(0x201bu), VMCS_WIDTH_64);
	CHECK_EQ(VMCS_ENCODING_HIGH(0x201bu), 1);
	CHECK_EQ(VMCS_ENCODING_HIGH(0x201au), 0);
	CHECK_EQ(VMCS_ENCODING_WIDTH(0x4402u), VMCS_WIDTH_32);
	CHECK_EQ(VMCS_ENCODING_TYPE(0x4402u), VMCS_CLASS_EXIT_INFO);
	CHECK_EQ(VMCS_ENCODING_TYPE(0x0c00u), VMCS_CLASS_HOST);
}

TEST(vmcs_fields_lookup_every_row)
{
	int missing = 0, wrong = 0, high_wrong = 0, high_found_non64 = 0;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		const struct vmcs_field_info *g = vmcs_field_lookup(f->encoding);
		if (!g)
			missing++;
		else if (g != f)
			wrong++;
		const struct vmcs_field_info *h = vmcs_field_lookup(f->encoding | 1);
		if (f->width == VMCS_WIDTH_64) {
			if (h != f)
				high_wrong++;
		} else if (h) {
			/* encoding|1 of a 16/32/natural field is no field at all. */
			high_found_non64++;
		}
	}
	CHECK_EQ(missing, 0);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(high_wrong, 0);
	CHECK_EQ(high_found_non64, 0);
}

TEST(vmcs_fields_lookup_aliases_and_unknown)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(0x201b); /* EPT_POINTER_HIGH */
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(f->encoding, 0x201a);
		CHECK_STR(f->name, "EPT_POINTER");
	}
	f = vmcs_field_lookup(0x2807); /* GUEST_IA32_EFER_HIGH */
	CHECK(f == &vmcs_field_table[VMCS_IDX_GUEST_IA32_EFER]);
	f = vmcs_field_lookup(0x2401); /* GUEST_PHYSICAL_ADDRESS_HIGH */
	CHECK(f == &vmcs_field_table[VMCS_IDX_GUEST_PHYSICAL_ADDRESS]);
	/* Not fields. */
	CHECK(vmcs_field_lookup(0x0001) == NULL); /* 16-bit, bit 0 set */
	CHECK(vmcs_field_lookup(0x4403) == NULL); /* 32-bit, bit 0 set */
	CHECK(vmcs_field_lookup(0x681f) == NULL); /* natural, bit 0 set */
	CHECK(vmcs_field_lookup(0x0006) == NULL); /* 16-bit control index 3: not listed */
	CHECK(vmcs_field_lookup(0x2030) == NULL); /* sub-page permission table: not listed */
	CHECK(vmcs_field_lookup(0x2031) == NULL); /* ... nor its high half */
	CHECK(vmcs_field_lookup(0x482c) == NULL); /* no field between SYSENTER_CS and timer */
	CHECK(vmcs_field_lookup(0x6c18) == NULL); /* past HOST_RIP */
	CHECK(vmcs_field_lookup(0xffffffffu) == NULL);
	CHECK(vmcs_field_lookup(0x1681e) == NULL); /* GUEST_RIP with a reserved bit 16 */
	CHECK(vmcs_field_lookup(0x781e) == NULL);  /* ... with reserved bit 12 */
}

/* Appendix B of SDM Vol. 3C, transcribed independently of vmx/vmcs_fields.h. */
static const struct {
	const char *name;
	uint32_t enc;
} sdm[] = {
    {"VIRTUAL_PROCESSOR_ID", 0x0000},
    {"POSTED_INTR_NV", 0x0002},
    {"EPTP_INDEX", 0x0004},
    {"GUEST_ES_SELECTOR", 0x0800},
    {"GUEST_CS_SELECTOR", 0x0802},
    {"GUEST_SS_SELECTOR", 0x0804},
    {"GUEST_DS_SELECTOR", 0x0806},
    {"GUEST_FS_SELECTOR", 0x0808},
    {"GUEST_GS_SELECTOR", 0x080a},
    {"GUEST_LDTR_SELECTOR", 0x080c},
    {"GUEST_TR_SELECTOR", 0x080e},
    {"GUEST_INTR_STATUS", 0x0810},
    {"GUEST_PML_INDEX", 0x0812},
    {"HOST_ES_SELECTOR", 0x0c00},
    {"HOST_CS_SELECTOR", 0x0c02},
    {"HOST_SS_SELECTOR", 0x0c04},
    {"HOST_DS_SELECTOR", 0x0c06},
    {"HOST_FS_SELECTOR", 0x0c08},
    {"HOST_GS_SELECTOR", 0x0c0a},
    {"HOST_TR_SELECTOR", 0x0c0c},
    {"IO_BITMAP_A", 0x2000},
    {"IO_BITMAP_B", 0x2002},
    {"MSR_BITMAP", 0x2004},
    {"VM_EXIT_MSR_STORE_ADDR", 0x2006},
    {"VM_EXIT_MSR_LOAD_ADDR", 0x2008},
    {"VM_ENTRY_MSR_LOAD_ADDR", 0x200a},
    {"EXECUTIVE_VMCS_POINTER", 0x200c},
    {"PML_ADDRESS", 0x200e},
    {"TSC_OFFSET", 0x2010},
    {"VIRTUAL_APIC_PAGE_ADDR", 0x2012},
    {"APIC_ACCESS_ADDR", 0x2014},
    {"POSTED_INTR_DESC_ADDR", 0x2016},
    {"VM_FUNCTION_CONTROL", 0x2018},
    {"EPT_POINTER", 0x201a},
    {"EOI_EXIT_BITMAP0", 0x201c},
    {"EOI_EXIT_BITMAP1", 0x201e},
    {"EOI_EXIT_BITMAP2", 0x2020},
    {"EOI_EXIT_BITMAP3", 0x2022},
    {"EPTP_LIST_ADDRESS", 0x2024},
    {"VMREAD_BITMAP", 0x2026},
    {"VMWRITE_BITMAP", 0x2028},
    {"VE_INFO_ADDRESS", 0x202a},
    {"XSS_EXIT_BITMAP", 0x202c},
    {"TSC_MULTIPLIER", 0x2032},
    {"GUEST_PHYSICAL_ADDRESS", 0x2400},
    {"VMCS_LINK_POINTER", 0x2800},
    {"GUEST_IA32_DEBUGCTL", 0x2802},
    {"GUEST_IA32_PAT", 0x2804},
    {"GUEST_IA32_EFER", 0x2806},
    {"GUEST_IA32_PERF_GLOBAL_CTRL", 0x2808},
    {"GUEST_PDPTE0", 0x280a},
    {"GUEST_PDPTE1", 0x280c},
    {"GUEST_PDPTE2", 0x280e},
    {"GUEST_PDPTE3", 0x2810},
    {"GUEST_IA32_BNDCFGS", 0x2812},
    {"HOST_IA32_PAT", 0x2c00},
    {"HOST_IA32_EFER", 0x2c02},
    {"HOST_IA32_PERF_GLOBAL_CTRL", 0x2c04},
    {"PIN_BASED_VM_EXEC_CONTROL", 0x4000},
    {"CPU_BASED_VM_EXEC_CONTROL", 0x4002},
    {"EXCEPTION_BITMAP", 0x4004},
    {"PAGE_FAULT_ERROR_CODE_MASK", 0x4006},
    {"PAGE_FAULT_ERROR_CODE_MATCH", 0x4008},
    {"CR3_TARGET_COUNT", 0x400a},
    {"VM_EXIT_CONTROLS", 0x400c},
    {"VM_EXIT_MSR_STORE_COUNT", 0x400e},
    {"VM_EXIT_MSR_LOAD_COUNT", 0x4010},
    {"VM_ENTRY_CONTROLS", 0x4012},
    {"VM_ENTRY_MSR_LOAD_COUNT", 0x4014},
    {"VM_ENTRY_INTR_INFO_FIELD", 0x4016},
    {"VM_ENTRY_EXCEPTION_ERROR_CODE", 0x4018},
    {"VM_ENTRY_INSTRUCTION_LEN", 0x401a},
    {"TPR_THRESHOLD", 0x401c},
    {"SECONDARY_VM_EXEC_CONTROL", 0x401e},
    {"PLE_GAP", 0x4020},
    {"PLE_WINDOW", 0x4022},
    {"VM_INSTRUCTION_ERROR", 0x4400},
    {"VM_EXIT_REASON", 0x4402},
    {"VM_EXIT_INTR_INFO", 0x4404},
    {"VM_EXIT_INTR_ERROR_CODE", 0x4406},
    {"IDT_VECTORING_INFO_FIELD", 0x4408},
    {"IDT_VECTORING_ERROR_CODE", 0x440a},
    {"VM_EXIT_INSTRUCTION_LEN", 0x440c},
    {"VMX_INSTRUCTION_INFO", 0x440e},
    {"GUEST_ES_LIMIT", 0x4800},
    {"GUEST_CS_LIMIT", 0x4802},
    {"GUEST_SS_LIMIT", 0x4804},
    {"GUEST_DS_LIMIT", 0x4806},
    {"GUEST_FS_LIMIT", 0x4808},
    {"GUEST_GS_LIMIT", 0x480a},
    {"GUEST_LDTR_LIMIT", 0x480c},
    {"GUEST_TR_LIMIT", 0x480e},
    {"GUEST_GDTR_LIMIT", 0x4810},
    {"GUEST_IDTR_LIMIT", 0x4812},
    {"GUEST_ES_AR_BYTES", 0x4814},
    {"GUEST_CS_AR_BYTES", 0x4816},
    {"GUEST_SS_AR_BYTES", 0x4818},
    {"GUEST_DS_AR_BYTES", 0x481a},
    {"GUEST_FS_AR_BYTES", 0x481c},
    {"GUEST_GS_AR_BYTES", 0x481e},
    {"GUEST_LDTR_AR_BYTES", 0x4820},
    {"GUEST_TR_AR_BYTES", 0x4822},
    {"GUEST_INTERRUPTIBILITY_INFO", 0x4824},
    {"GUEST_ACTIVITY_STATE", 0x4826},
    {"GUEST_SMBASE", 0x4828},
    {"GUEST_SYSENTER_CS", 0x482a},
    {"VMX_PREEMPTION_TIMER_VALUE", 0x482e},
    {"HOST_IA32_SYSENTER_CS", 0x4c00},
    {"CR0_GUEST_HOST_MASK", 0x6000},
    {"CR4_GUEST_HOST_MASK", 0x6002},
    {"CR0_READ_SHADOW", 0x6004},
    {"CR4_READ_SHADOW", 0x6006},
    {"CR3_TARGET_VALUE0", 0x6008},
    {"CR3_TARGET_VALUE1", 0x600a},
    {"CR3_TARGET_VALUE2", 0x600c},
    {"CR3_TARGET_VALUE3", 0x600e},
    {"EXIT_QUALIFICATION", 0x6400},
    {"IO_RCX", 0x6402},
    {"IO_RSI", 0x6404},
    {"IO_RDI", 0x6406},
    {"IO_RIP", 0x6408},
    {"GUEST_LINEAR_ADDRESS", 0x640a},
    {"GUEST_CR0", 0x6800},
    {"GUEST_CR3", 0x6802},
    {"GUEST_CR4", 0x6804},
    {"GUEST_ES_BASE", 0x6806},
    {"GUEST_CS_BASE", 0x6808},
    {"GUEST_SS_BASE", 0x680a},
    {"GUEST_DS_BASE", 0x680c},
    {"GUEST_FS_BASE", 0x680e},
    {"GUEST_GS_BASE", 0x6810},
    {"GUEST_LDTR_BASE", 0x6812},
    {"GUEST_TR_BASE", 0x6814},
    {"GUEST_GDTR_BASE", 0x6816},
    {"GUEST_IDTR_BASE", 0x6818},
    {"GUEST_DR7", 0x681a},
    {"GUEST_RSP", 0x681c},
    {"GUEST_RIP", 0x681e},
    {"GUEST_RFLAGS", 0x6820},
    {"GUEST_PENDING_DBG_EXCEPTIONS", 0x6822},
    {"GUEST_SYSENTER_ESP", 0x6824},
    {"GUEST_SYSENTER_EIP", 0x6826},
    {"HOST_CR0", 0x6c00},
    {"HOST_CR3", 0x6c02},
    {"HOST_CR4", 0x6c04},
    {"HOST_FS_BASE", 0x6c06},
    {"HOST_GS_BASE", 0x6c08},
    {"HOST_TR_BASE", 0x6c0a},
    {"HOST_GDTR_BASE", 0x6c0c},
    {"HOST_IDTR_BASE", 0x6c0e},
    {"HOST_IA32_SYSENTER_ESP", 0x6c10},
    {"HOST_IA32_SYSENTER_EIP", 0x6c12},
    {"HOST_RSP", 0x6c14},
    {"HOST_RIP", 0x6c16},
};

TEST(vmcs_fields_match_sdm_appendix_b)
{
	const unsigned n = sizeof(sdm) / sizeof(sdm[0]);
	CHECK_EQ(n, VMCS_FIELD_COUNT);
	int mismatched = 0;
	for (unsigned i = 0; i < n && i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = vmcs_field_lookup(sdm[i].enc);
		if (!f || strcmp(f->name, sdm[i].name) != 0) {
			mismatched++;
			CHECK_STR(f ? f->name : "(none)", sdm[i].name);
		}
	}
	CHECK_EQ(mismatched, 0);
	/* The spot checks of the brief, through the enum constants. */
	CHECK_EQ(VMCS_GUEST_RIP, 0x681e);
	CHECK_EQ(VMCS_VM_EXIT_REASON, 0x4402);
	CHECK_EQ(VMCS_EPT_POINTER, 0x201a);
	CHECK_EQ(VMCS_HOST_RSP, 0x6c14);
	CHECK_EQ(VMCS_VIRTUAL_PROCESSOR_ID, 0x0000);
	CHECK_EQ(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0x4824);
	CHECK_EQ(VMCS_EXIT_QUALIFICATION, 0x6400);
	CHECK_EQ(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x4016);
	CHECK_EQ(VMCS_GUEST_ACTIVITY_STATE, 0x4826);
	CHECK_EQ(VMCS_CR4_READ_SHADOW, 0x6006);
}

/* exit_event.c's set_segment relies on the ES..TR selector/limit/AR/base strides. */
TEST(vmcs_fields_segment_strides)
{
	static const uint32_t sel[] = {VMCS_GUEST_ES_SELECTOR,	 VMCS_GUEST_CS_SELECTOR,
				       VMCS_GUEST_SS_SELECTOR,	 VMCS_GUEST_DS_SELECTOR,
				       VMCS_GUEST_FS_SELECTOR,	 VMCS_GUEST_GS_SELECTOR,
				       VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_TR_SELECTOR};
	static const uint32_t base[] = {
	    VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,	  VMCS_GUEST_DS_BASE,
	    VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_TR_BASE};
	static const uint32_t lim[] = {
	    VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT,   VMCS_GUEST_DS_LIMIT,
	    VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_TR_LIMIT};
	static const uint32_t ar[] = {VMCS_GUEST_ES_AR_BYTES,	VMCS_GUEST_CS_AR_BYTES,
				      VMCS_GUEST_SS_AR_BYTES,	VMCS_GUEST_DS_AR_BYTES,
				      VMCS_GUEST_FS_AR_BYTES,	VMCS_GUEST_GS_AR_BYTES,
				      VMCS_GUEST_LDTR_AR_BYTES, VMCS_GUEST_TR_AR_BYTES};
	for (unsigned i = 0; i < 8; i++) {
		CHECK_EQ(sel[i], 0x0800u + 2 * i);
		CHECK_EQ(base[i], 0x6806u + 2 * i);
		CHECK_EQ(lim[i], 0x4800u + 2 * i);
		CHECK_EQ(ar[i], 0x4814u + 2 * i);
	}
}

/*
 * The shadow and rebuild columns (issue 13): read-only shadowing only of
 * exit information, read-write never of it; nothing L0 combines with its
 * own shadowed (controls other than event injection, CR0/CR4);
 * VM_INSTRUCTION_ERROR never; a rebuild mode only for what the exit saves
 * (guest state, exit information), and a shadowed field never lazy.
 */
TEST(vmcs_fields_shadow_and_rebuild_columns)
{
	int bad = 0;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (f->shadow == VMCS_SH_RO && f->cls != VMCS_CLASS_EXIT_INFO)
			bad++;
		if (f->shadow == VMCS_SH_RW && f->cls == VMCS_CLASS_EXIT_INFO)
			bad++;
		if (f->shadow == VMCS_SH_RW && f->cls == VMCS_CLASS_CONTROL &&
		    f->encoding != VMCS_VM_ENTRY_INTR_INFO_FIELD &&
		    f->encoding != VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE &&
		    f->encoding != VMCS_VM_ENTRY_INSTRUCTION_LEN)
			bad++;
		if ((f->cls == VMCS_CLASS_CONTROL || f->cls == VMCS_CLASS_HOST) &&
		    f->rebuild != VMCS_RB_NONE)
			bad++;
		if (f->shadow != VMCS_SH_NONE && f->rebuild == VMCS_RB_LAZY)
			bad++;
		if (f->cls == VMCS_CLASS_EXIT_INFO && f->rebuild == VMCS_RB_LAZY)
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(vmcs_field_table[VMCS_IDX_VM_INSTRUCTION_ERROR].shadow, VMCS_SH_NONE);
	CHECK_EQ(vmcs_field_table[VMCS_IDX_VM_INSTRUCTION_ERROR].rebuild, VMCS_RB_NONE);
	CHECK_EQ(vmcs_field_table[VMCS_IDX_GUEST_CR0].shadow, VMCS_SH_NONE);
	CHECK_EQ(vmcs_field_table[VMCS_IDX_GUEST_CR4].shadow, VMCS_SH_NONE);
	CHECK_EQ(vmcs_field_table[VMCS_IDX_GUEST_SMBASE].rebuild, VMCS_RB_NONE);
	CHECK_EQ(vmcs_field_table[VMCS_IDX_IO_RIP].rebuild, VMCS_RB_NONE);
	/* The rebuild's plan merges CR0/CR4 itself: they must be eager. */
	CHECK_EQ(vmcs_field_table[VMCS_IDX_GUEST_CR0].rebuild, VMCS_RB_EAGER);
	CHECK_EQ(vmcs_field_table[VMCS_IDX_GUEST_CR4].rebuild, VMCS_RB_EAGER);
	/* KVM reads CS's access rights per exit (the CPL): eager. */
	CHECK_EQ(vmcs_field_table[VMCS_IDX_GUEST_CS_AR_BYTES].rebuild, VMCS_RB_EAGER);
}

/* docs/nested.md's field-set lines, built from the table as the docs have them. */
static bool docs_have_set(const char *docs, const char *head, int col, int value,
			  bool exit_or_guest_only)
{
	static char line[8192];
	size_t n = (size_t)snprintf(line, sizeof(line), "\n%s", head);
	bool first = true;
	for (unsigned i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		int v = col == 2 ? f->dirty : col ? f->rebuild : f->shadow;
		if (v != value || (exit_or_guest_only && f->cls != VMCS_CLASS_GUEST &&
				   f->cls != VMCS_CLASS_EXIT_INFO))
			continue;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s`%s`", first ? "" : ", ",
				      f->name);
		first = false;
	}
	snprintf(line + n, sizeof(line) - n, "\n");
	return strstr(docs, line) != NULL;
}

TEST(vmcs_fields_sets_in_the_docs)
{
	static char docs[1 << 20];
	FILE *fp = fopen("docs/nested.md", "r");
	CHECK(fp != NULL);
	if (!fp)
		return;
	size_t len = fread(docs, 1, sizeof(docs) - 1, fp);
	fclose(fp);
	docs[len] = '\0';
	CHECK(docs_have_set(docs, "- Shadowed read-write (`VMCS_SH_RW`): ", 0, VMCS_SH_RW, false));
	CHECK(docs_have_set(docs, "- Shadowed read-only (`VMCS_SH_RO`): ", 0, VMCS_SH_RO, false));
	CHECK(docs_have_set(docs, "- Rebuilt at the exit (`VMCS_RB_EAGER`): ", 1, VMCS_RB_EAGER,
			    false));
	CHECK(docs_have_set(docs, "- Rebuilt when needed (`VMCS_RB_LAZY`): ", 1, VMCS_RB_LAZY,
			    false));
	CHECK(docs_have_set(docs,
			    "- Never read from vmcs02 (`VMCS_RB_NONE`, besides controls and host "
			    "state): ",
			    1, VMCS_RB_NONE, true));
	CHECK(docs_have_set(docs, "- Dirty group RIP (`VMCS_DG_RIP`): ", 2, VMCS_DG_RIP, false));
	CHECK(docs_have_set(docs, "- Dirty group RSP (`VMCS_DG_RSP`): ", 2, VMCS_DG_RSP, false));
	CHECK(docs_have_set(docs, "- Dirty group EVENT (`VMCS_DG_EVENT`): ", 2, VMCS_DG_EVENT,
			    false));
	CHECK(docs_have_set(docs, "- Dirty group NONE (`VMCS_DG_NONE`): ", 2, VMCS_DG_NONE, false));
}
