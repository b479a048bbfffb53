/*
 * test_nested_entry_checks.c - the VM-entry checks on vmcs12
 * (nested/entry_checks.c, entry_checks_guest.c) against L1's capability
 * MSRs derived from Bochs (tests/unit/hw_fake.c).
 *
 * A valid vmcs12 for a 64-bit L2 under a 64-bit L1 passes; each table row
 * then makes one mutation and expects the exact result kind, SDM section,
 * a substring of the failed condition and, for guest state, the exit
 * qualification.  Rows whose check L1's capabilities make unreachable run
 * with capabilities widened for the row (caps_*), and the host-state size
 * 0 and guest-state-only rows call the group functions.
 */
#include "hw_fake.h"
#include "nested/entry_checks.h"
#include "nested/vmx_msrs.h"
#include "test.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MAXPHY 39
#define ABOVE_MAXPHY (1ull << MAXPHY)
#define NONCANON 0x0000800000000000ull /* bit 47 set, 63:48 clear */

#define PIN VMCS_PIN_BASED_VM_EXEC_CONTROL
#define PROC VMCS_CPU_BASED_VM_EXEC_CONTROL
#define PROC2 VMCS_SECONDARY_VM_EXEC_CONTROL
#define EXITC VMCS_VM_EXIT_CONTROLS
#define ENTRYC VMCS_VM_ENTRY_CONTROLS
#define INFO VMCS_VM_ENTRY_INTR_INFO_FIELD
#define INTR VMCS_GUEST_INTERRUPTIBILITY_INFO
#define PDE VMCS_GUEST_PENDING_DBG_EXCEPTIONS

#define CR4_PGE (1ull << 7)
#define CR4_OSFXSR (1ull << 9)
#define CR4_PCIDE (1ull << 17)
#define CR4_CET (1ull << 23)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_VM (1ull << 17)
#define EV(type, vec) (INTR_INFO_VALID | (type) | (vec))
#define HWEXC INTR_TYPE_HARD_EXCEPTION
#define ERRC INTR_INFO_DELIVER_CODE
#define PAT_OK 0x0007040600070406ull

static struct vmx_caps l1_caps(void)
{
	struct vmx_caps hw, l1;
	hw_fake_bochs_caps(&hw);
	nested_vmx_msrs_init(&hw, vmcs12_highest_field_index(), &l1);
	return l1;
}

static void set(struct vmcs12 *v, uint32_t enc, uint64_t x)
{
	vmcs12_set(v, enc, x);
}

/* A 64-bit L2 (CS 0xa09b, data 0xc093, busy 64-bit TSS) under a 64-bit L1. */
static void valid_64(struct vmcs12 *v)
{
	struct vmx_caps c = l1_caps();

	memset(v, 0, sizeof(*v));
	v->revision = VMCS12_REVISION;
	set(v, PIN,
	    (uint32_t)c.true_pinbased | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING |
		PIN_VIRTUAL_NMIS);
	set(v, PROC,
	    (uint32_t)c.true_procbased | CPU_HLT_EXITING | CPU_USE_IO_BITMAPS |
		CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY);
	set(v, PROC2, CPU2_ENABLE_RDTSCP);
	set(v, EXITC,
	    (uint32_t)c.true_exit | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT |
		EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER |
		EXIT_LOAD_IA32_EFER);
	set(v, ENTRYC,
	    (uint32_t)c.true_entry | ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_IA32E_MODE_GUEST |
		ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_IA32_EFER);
	set(v, VMCS_IO_BITMAP_A, 0x10000);
	set(v, VMCS_IO_BITMAP_B, 0x11000);
	set(v, VMCS_MSR_BITMAP, 0x12000);

	set(v, VMCS_HOST_CR0, 0x80050033);
	set(v, VMCS_HOST_CR3, 0x100000);
	set(v, VMCS_HOST_CR4, CR4_VMXE | CR4_PAE | CR4_PGE);
	set(v, VMCS_HOST_IA32_PAT, PAT_OK);
	set(v, VMCS_HOST_IA32_EFER, 0xd01); /* SCE LME LMA NXE */
	set(v, VMCS_HOST_CS_SELECTOR, 0x08);
	set(v, VMCS_HOST_SS_SELECTOR, 0x10);
	set(v, VMCS_HOST_DS_SELECTOR, 0x10);
	set(v, VMCS_HOST_ES_SELECTOR, 0x10);
	set(v, VMCS_HOST_TR_SELECTOR, 0x18);
	set(v, VMCS_HOST_GS_BASE, 0xffff888000000000ull);
	set(v, VMCS_HOST_TR_BASE, 0xfffffe0000003000ull);
	set(v, VMCS_HOST_GDTR_BASE, 0xfffffe0000001000ull);
	set(v, VMCS_HOST_IDTR_BASE, 0xfffffe0000000000ull);
	set(v, VMCS_HOST_RSP, 0xffffc90000008000ull);
	set(v, VMCS_HOST_RIP, 0xffffffff81000000ull);

	set(v, VMCS_GUEST_CR0, 0x80050033);
	set(v, VMCS_GUEST_CR3, 0x200000);
	set(v, VMCS_GUEST_CR4, CR4_VMXE | CR4_PAE | CR4_PGE);
	set(v, VMCS_GUEST_DR7, 0x400);
	set(v, VMCS_GUEST_IA32_PAT, PAT_OK);
	set(v, VMCS_GUEST_IA32_EFER, 0xd01);
	set(v, VMCS_GUEST_CS_SELECTOR, 0x08);
	set(v, VMCS_GUEST_CS_LIMIT, 0xffffffff);
	set(v, VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	static const uint32_t data[][3] = {
	    {VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR_BYTES},
	    {VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR_BYTES},
	    {VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR_BYTES},
	    {VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR_BYTES},
	    {VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR_BYTES},
	};
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		set(v, data[i][0], 0x10);
		set(v, data[i][1], 0xffffffff);
		set(v, data[i][2], 0xc093);
	}
	set(v, VMCS_GUEST_FS_BASE, 0x00007f0000000000ull);
	set(v, VMCS_GUEST_GS_BASE, 0xffff888000000000ull);
	set(v, VMCS_GUEST_LDTR_AR_BYTES, VMX_AR_UNUSABLE);
	set(v, VMCS_GUEST_TR_SELECTOR, 0x18);
	set(v, VMCS_GUEST_TR_BASE, 0xfffffe0000003000ull);
	set(v, VMCS_GUEST_TR_LIMIT, 0x67);
	set(v, VMCS_GUEST_TR_AR_BYTES, 0x8b);
	set(v, VMCS_GUEST_GDTR_BASE, 0xfffffe0000001000ull);
	set(v, VMCS_GUEST_GDTR_LIMIT, 0x7f);
	set(v, VMCS_GUEST_IDTR_BASE, 0xfffffe0000000000ull);
	set(v, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	set(v, VMCS_GUEST_RSP, 0xffffc90000004000ull);
	set(v, VMCS_GUEST_RIP, 0xffffffff81000000ull);
	set(v, VMCS_GUEST_RFLAGS, 0x202);
	set(v, VMCS_VMCS_LINK_POINTER, ~0ull);
}

/* A 32-bit protected-mode L2 with paging (CS 0xc09b), same L1. */
static void valid_32(struct vmcs12 *v)
{
	valid_64(v);
	set(v, ENTRYC, vmcs12_get(v, ENTRYC) & ~ENTRY_IA32E_MODE_GUEST);
	set(v, VMCS_GUEST_IA32_EFER, 0x1);
	set(v, VMCS_GUEST_CS_AR_BYTES, 0xc09b);
	set(v, VMCS_GUEST_FS_BASE, 0);
	set(v, VMCS_GUEST_GS_BASE, 0);
	set(v, VMCS_GUEST_TR_BASE, 0x3000);
	set(v, VMCS_GUEST_RIP, 0x401000);
}

/* Virtual-8086 mode: CS..GS with base = selector << 4, limit 0xffff, AR 0xf3. */
static void v8086_segs(struct vmcs12 *v)
{
	for (uint32_t i = 0; i < 6; i++) {
		set(v, VMCS_GUEST_ES_SELECTOR + 2 * i, 0x1000);
		set(v, VMCS_GUEST_ES_BASE + 2 * i, 0x10000);
		set(v, VMCS_GUEST_ES_LIMIT + 2 * i, 0xffff);
		set(v, VMCS_GUEST_ES_AR_BYTES + 2 * i, 0xf3);
	}
	set(v, VMCS_GUEST_RFLAGS, vmcs12_get(v, VMCS_GUEST_RFLAGS) | RFLAGS_VM);
	set(v, VMCS_GUEST_RIP, 0x100);
}

static void valid_v8086(struct vmcs12 *v)
{
	valid_32(v);
	v8086_segs(v);
}

/* A 32-bit L1 with a 32-bit host (for nested_check_host_state, l1_in_ia32e false). */
static void valid_host32(struct vmcs12 *v)
{
	valid_32(v);
	set(v, EXITC, vmcs12_get(v, EXITC) & ~EXIT_HOST_ADDR_SPACE_SIZE);
	set(v, VMCS_HOST_IA32_EFER, 0x1);
	set(v, VMCS_HOST_CR4, CR4_VMXE | CR4_PGE);
	set(v, VMCS_HOST_RIP, 0x00401000);
	set(v, VMCS_HOST_GS_BASE, 0);
	set(v, VMCS_HOST_TR_BASE, 0x3000);
	set(v, VMCS_HOST_GDTR_BASE, 0x1000);
	set(v, VMCS_HOST_IDTR_BASE, 0x2000);
}

/* Real mode under "unrestricted guest", which needs "enable EPT" (WB, walk 4, A/D). */
static void valid_real(struct vmcs12 *v)
{
	valid_32(v);
	set(v, PROC2, CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_EPT);
	set(v, VMCS_EPT_POINTER, 0x1005e);
	set(v, VMCS_GUEST_CR0, CR0_NE | CR0_ET);
	set(v, VMCS_GUEST_CR4, CR4_VMXE);
	for (uint32_t i = 0; i < 6; i++) {
		set(v, VMCS_GUEST_ES_SELECTOR + 2 * i, 0);
		set(v, VMCS_GUEST_ES_BASE + 2 * i, 0);
		set(v, VMCS_GUEST_ES_LIMIT + 2 * i, 0xffff);
		set(v, VMCS_GUEST_ES_AR_BYTES + 2 * i, 0x93);
	}
	set(v, VMCS_GUEST_CS_SELECTOR, 0xf000);
	set(v, VMCS_GUEST_CS_BASE, 0xf0000);
	set(v, VMCS_GUEST_RIP, 0xfff0);
	set(v, VMCS_GUEST_RFLAGS, 0x2);
}

/* ---- capabilities widened for checks L1's own make unreachable ---- */

static void caps_proc2_must1(struct vmx_caps *c)
{
	c->procbased2 |= CPU2_ENABLE_RDTSCP;
}
static void caps_no_ept_ad(struct vmx_caps *c)
{
	c->ept_vpid_cap &= ~EPT_CAP_ACCESSED_DIRTY;
}
static void caps_ept_walk_5(struct vmx_caps *c)
{
	c->ept_vpid_cap |= EPT_CAP_WALK_5;
}
static void caps_ept_walk_5_only(struct vmx_caps *c)
{
	c->ept_vpid_cap = (c->ept_vpid_cap | EPT_CAP_WALK_5) & ~EPT_CAP_WALK_4;
}
static void caps_no_shadowing(struct vmx_caps *c)
{
	c->procbased2 &= ~((uint64_t)CPU2_VMCS_SHADOWING << 32);
}
static void caps_mtf(struct vmx_caps *c)
{
	c->true_procbased |= (uint64_t)CPU_MONITOR_TRAP_FLAG << 32;
}
static void caps_zero_len(struct vmx_caps *c)
{
	c->misc |= 1ull << 30;
}
static void caps_no_errcode_check(struct vmx_caps *c)
{
	c->basic |= 1ull << 56;
}
static void caps_smm(struct vmx_caps *c)
{
	c->true_entry |= (uint64_t)(ENTRY_SMM | (1u << 11)) << 32;
}
static void caps_cr4_fxsr(struct vmx_caps *c)
{
	c->cr4_fixed0 |= CR4_OSFXSR;
}
static void caps_cet(struct vmx_caps *c)
{
	c->cr4_fixed1 |= CR4_CET;
}
static void caps_la57(struct vmx_caps *c)
{
	c->cr4_fixed1 |= CR4_LA57;
}
static void caps_cr0_free(struct vmx_caps *c)
{
	c->cr0_fixed0 = CR0_NE;
}
static void caps_activity(struct vmx_caps *c)
{
	c->misc |= 3ull << 7; /* shutdown, wait-for-SIPI */
}
static void caps_no_shutdown(struct vmx_caps *c)
{
	c->misc &= ~(1ull << 7);
}
static void caps_no_wait_sipi(struct vmx_caps *c)
{
	c->misc &= ~(1ull << 8);
}
static void caps_ug(struct vmx_caps *c)
{
	c->procbased2 |= (uint64_t)CPU2_UNRESTRICTED_GUEST << 32;
}

/* ---- the table machinery ---- */

struct edit {
	uint32_t field;
	uint64_t clear, set; /* field = (field & ~clear) | set */
};

struct row {
	const char *name;
	struct edit e[6]; /* up to the first with clear == set == 0 */
	enum nested_entry_result result;
	const char *sdm;
	const char *what; /* a substring of the reported condition */
	uint64_t qual;
	void (*mutate)(struct vmcs12 *v); /* more than edits can say */
	void (*caps)(struct vmx_caps *c); /* widened capabilities */
};

/* clang-format off */
#define SET(f, x) { (f), ~0ull, (x) }
#define OR(f, x) { (f), 0, (x) }
#define CLR(f, x) { (f), (x), 0 }
#define CTL(s, w) .result = NENTRY_VMFAIL_CONTROL, .sdm = "SDM " s, .what = (w)
#define HOST(s, w) .result = NENTRY_VMFAIL_HOST, .sdm = "SDM " s, .what = (w)
#define GUEST(s, w) .result = NENTRY_FAIL_GUEST, .sdm = "SDM " s, .what = (w)
#define GUEST_Q(s, w, q) GUEST(s, w), .qual = (q)
#define PASSES .result = NENTRY_OK
/* clang-format on */

enum how { ALL_LAUNCH, ALL_RESUME, HOST_ONLY_32BIT_L1, GUEST_ONLY };

static struct nested_entry_check run(const struct vmcs12 *v, const struct vmx_caps *c, enum how how)
{
	switch (how) {
	case ALL_RESUME:
		return nested_check_vmentry(v, c, false, MAXPHY);
	case HOST_ONLY_32BIT_L1:
		return nested_check_host_state(v, c, MAXPHY, false);
	case GUEST_ONLY:
		return nested_check_guest_state(v, c, MAXPHY);
	default:
		return nested_check_vmentry(v, c, true, MAXPHY);
	}
}

static void run_rows(const struct row *rows, size_t n, void (*base)(struct vmcs12 *), enum how how)
{
	static struct vmcs12 v;

	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		struct vmx_caps c = l1_caps();
		base(&v);
		if (r->caps)
			r->caps(&c);
		for (const struct edit *e = r->e; e < r->e + 6 && (e->clear || e->set); e++)
			set(&v, e->field, (vmcs12_get(&v, e->field) & ~e->clear) | e->set);
		if (r->mutate)
			r->mutate(&v);
		struct nested_entry_check got = run(&v, &c, how);
		bool ok = CHECK_EQ(got.result, r->result);
		if (r->result != NENTRY_OK) {
			ok &= CHECK(got.what && strstr(got.what, r->what));
			ok &= CHECK_STR(got.sdm, r->sdm);
			ok &= CHECK_EQ(got.qualification, r->qual);
		}
		if (!ok)
			printf("    row \"%s\": got %d, %s: %s\n", r->name, got.result,
			       got.sdm ? got.sdm : "-", got.what ? got.what : "-");
	}
}

#define RUN(rows, base, how) run_rows(rows, sizeof(rows) / sizeof(rows[0]), base, how)

/* Tables: one row a line or a few; clang-format would scatter them. */
/* clang-format off */

/* ---- the valid baselines, and the two instructions ---- */

TEST(nested_entry_valid_baselines_pass)
{
	static struct vmcs12 v;
	struct vmx_caps c = l1_caps();
	void (*const bases[])(struct vmcs12 *) = { valid_64, valid_32, valid_v8086, valid_real };

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		bases[i](&v);
		struct nested_entry_check r = nested_check_vmentry(&v, &c, true, MAXPHY);
		CHECK_EQ(r.result, NENTRY_OK);
		CHECK(r.what == NULL && r.sdm == NULL);
	}
	valid_host32(&v);
	CHECK_EQ(nested_check_host_state(&v, &c, MAXPHY, false).result, NENTRY_OK);
}

/* No check of 27.2/27.3 depends on the instruction (27.1's launch state is the caller's). */
TEST(nested_entry_vmlaunch_and_vmresume_check_alike)
{
	static const struct row rows[] = {
		{ "valid", { { 0 } }, PASSES },
		{ "bad RFLAGS", { SET(VMCS_GUEST_RFLAGS, 0x200) },
		  GUEST("27.3.1.4", "bit 1 must be 1") },
		{ "bad host CS", { SET(VMCS_HOST_CS_SELECTOR, 0) },
		  HOST("27.2.3", "HOST_CS_SELECTOR") },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
	RUN(rows, valid_64, ALL_RESUME);
}

/* Controls, then host state, then guest state: the first group's failure wins. */
TEST(nested_entry_group_order)
{
	static const struct row rows[] = {
		{ "all three",
		  { CLR(PIN, PIN_NMI_EXITING), SET(VMCS_HOST_TR_SELECTOR, 0),
		    SET(VMCS_GUEST_RFLAGS, 0) },
		  CTL("27.2.1.1", "virtual NMIs must be 0") },
		{ "host and guest", { SET(VMCS_HOST_TR_SELECTOR, 0), SET(VMCS_GUEST_RFLAGS, 0) },
		  HOST("27.2.3", "HOST_TR_SELECTOR must not be 0") },
		{ "guest", { SET(VMCS_GUEST_RFLAGS, 0) }, GUEST("27.3.1.4", "GUEST_RFLAGS bit 1") },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* ---- 27.2.1.1 VM-execution control fields ---- */

TEST(nested_entry_exec_controls)
{
	static const struct row rows[] = {
		{ "pin must-be-1", { CLR(PIN, 1u << 4) },
		  CTL("27.2.1.1", "PIN_BASED_VM_EXEC_CONTROL: a must-be-1 bit is 0") },
		{ "pin allowed-1 (posted interrupts)", { OR(PIN, PIN_POSTED_INTERRUPTS) },
		  CTL("27.2.1.1", "PIN_BASED_VM_EXEC_CONTROL: a bit L1's allowed-1") },
		{ "proc must-be-1", { CLR(PROC, 1u << 1) },
		  CTL("27.2.1.1", "CPU_BASED_VM_EXEC_CONTROL: a must-be-1 bit is 0") },
		{ "proc allowed-1 (monitor trap flag)", { OR(PROC, CPU_MONITOR_TRAP_FLAG) },
		  CTL("27.2.1.1", "CPU_BASED_VM_EXEC_CONTROL: a bit L1's allowed-1") },
		/* "Use TPR shadow" (issue 12, item 6): the virtual-APIC page and threshold. */
		{ "TPR shadow valid", { OR(PROC, CPU_USE_TPR_SHADOW),
		  SET(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x5000), SET(VMCS_TPR_THRESHOLD, 0xf) }, PASSES },
		{ "virtual-APIC bit 11", { OR(PROC, CPU_USE_TPR_SHADOW),
		  SET(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x5800) },
		  CTL("27.2.1.1", "VIRTUAL_APIC_PAGE_ADDR bits 11:0 must be 0") },
		{ "virtual-APIC bit 0", { OR(PROC, CPU_USE_TPR_SHADOW),
		  SET(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x5001) },
		  CTL("27.2.1.1", "VIRTUAL_APIC_PAGE_ADDR bits 11:0 must be 0") },
		{ "virtual-APIC width", { OR(PROC, CPU_USE_TPR_SHADOW),
		  SET(VMCS_VIRTUAL_APIC_PAGE_ADDR, ABOVE_MAXPHY) },
		  CTL("27.2.1.1", "VIRTUAL_APIC_PAGE_ADDR must not set bits beyond MAXPHYADDR") },
		{ "TPR threshold bit 4", { OR(PROC, CPU_USE_TPR_SHADOW),
		  SET(VMCS_TPR_THRESHOLD, 0x10) },
		  CTL("27.2.1.1", "TPR_THRESHOLD bits 31:4 must be 0") },
		{ "TPR threshold bit 31", { OR(PROC, CPU_USE_TPR_SHADOW),
		  SET(VMCS_TPR_THRESHOLD, 0x80000000u) },
		  CTL("27.2.1.1", "TPR_THRESHOLD bits 31:4 must be 0") },
		{ "TPR shadow fields unchecked without it",
		  { SET(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x5001), SET(VMCS_TPR_THRESHOLD, 0x10) }, PASSES },
		/* APIC-access and x2APIC virtualization (issue 12, item 6). */
		{ "APIC accesses valid", { OR(PROC2, CPU2_VIRTUALIZE_APIC_ACCESSES),
		  SET(VMCS_APIC_ACCESS_ADDR, 0x9000) }, PASSES },
		{ "APIC accesses without TPR shadow", { OR(PROC2, CPU2_VIRTUALIZE_APIC_ACCESSES),
		  CLR(PROC, CPU_USE_TPR_SHADOW), SET(VMCS_APIC_ACCESS_ADDR, 0x9000) }, PASSES },
		{ "APIC-access bit 11", { OR(PROC2, CPU2_VIRTUALIZE_APIC_ACCESSES),
		  SET(VMCS_APIC_ACCESS_ADDR, 0x9800) },
		  CTL("27.2.1.1", "APIC_ACCESS_ADDR bits 11:0 must be 0") },
		{ "APIC-access bit 0", { OR(PROC2, CPU2_VIRTUALIZE_APIC_ACCESSES),
		  SET(VMCS_APIC_ACCESS_ADDR, 0x9001) },
		  CTL("27.2.1.1", "APIC_ACCESS_ADDR bits 11:0 must be 0") },
		{ "APIC-access width", { OR(PROC2, CPU2_VIRTUALIZE_APIC_ACCESSES),
		  SET(VMCS_APIC_ACCESS_ADDR, ABOVE_MAXPHY) },
		  CTL("27.2.1.1", "APIC_ACCESS_ADDR must not set bits beyond MAXPHYADDR") },
		{ "APIC-access address unchecked without it",
		  { SET(VMCS_APIC_ACCESS_ADDR, 0x9001) }, PASSES },
		{ "APIC accesses not activated",
		  { OR(PROC2, CPU2_VIRTUALIZE_APIC_ACCESSES | CPU2_VIRTUALIZE_X2APIC),
		    CLR(PROC, CPU_ACTIVATE_SECONDARY | CPU_USE_TPR_SHADOW),
		    SET(VMCS_APIC_ACCESS_ADDR, 0x9001) }, PASSES },
		{ "x2APIC mode valid", { OR(PROC, CPU_USE_TPR_SHADOW),
		  SET(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x5000), OR(PROC2, CPU2_VIRTUALIZE_X2APIC) },
		  PASSES },
		{ "x2APIC mode without TPR shadow", { OR(PROC2, CPU2_VIRTUALIZE_X2APIC) },
		  CTL("27.2.1.1", "virtualize x2APIC mode requires use TPR shadow") },
		{ "x2APIC mode and APIC accesses", { OR(PROC, CPU_USE_TPR_SHADOW),
		  SET(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x5000), SET(VMCS_APIC_ACCESS_ADDR, 0x9000),
		  OR(PROC2, CPU2_VIRTUALIZE_X2APIC | CPU2_VIRTUALIZE_APIC_ACCESSES) },
		  CTL("27.2.1.1", "virtualize x2APIC mode and virtualize APIC accesses are exclusive") },
		{ "proc2 allowed-1 (APIC-register virtualization)", { OR(PROC, CPU_USE_TPR_SHADOW),
		  SET(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x5000), OR(PROC2, CPU2_APIC_REGISTER_VIRT) },
		  CTL("27.2.1.1", "SECONDARY_VM_EXEC_CONTROL: a bit L1's allowed-1") },
		{ "proc2 allowed-1 (PML)", { OR(PROC2, CPU2_ENABLE_PML) },
		  CTL("27.2.1.1", "SECONDARY_VM_EXEC_CONTROL: a bit L1's allowed-1") },
		/* VMCS shadowing (issue 12, item 5): the bitmaps 4-KiB aligned, within MAXPHYADDR. */
		{ "shadowing, bitmaps valid",
		  { OR(PROC2, CPU2_VMCS_SHADOWING), SET(VMCS_VMREAD_BITMAP, 0x7000),
		    SET(VMCS_VMWRITE_BITMAP, 0x8000) },
		  PASSES },
		{ "shadowing not offered", { OR(PROC2, CPU2_VMCS_SHADOWING) },
		  CTL("27.2.1.1", "SECONDARY_VM_EXEC_CONTROL: a bit L1's allowed-1"),
		  .caps = caps_no_shadowing },
		{ "bitmaps unchecked without shadowing",
		  { SET(VMCS_VMREAD_BITMAP, 0x7008), SET(VMCS_VMWRITE_BITMAP, ABOVE_MAXPHY) },
		  PASSES },
		{ "VMREAD bitmap alignment",
		  { OR(PROC2, CPU2_VMCS_SHADOWING), SET(VMCS_VMREAD_BITMAP, 0x7008) },
		  CTL("27.2.1.1", "VMREAD_BITMAP bits 11:0 must be 0") },
		{ "VMREAD bitmap width",
		  { OR(PROC2, CPU2_VMCS_SHADOWING), SET(VMCS_VMREAD_BITMAP, ABOVE_MAXPHY) },
		  CTL("27.2.1.1", "VMREAD_BITMAP must not set bits beyond MAXPHYADDR") },
		{ "VMWRITE bitmap alignment",
		  { OR(PROC2, CPU2_VMCS_SHADOWING), SET(VMCS_VMWRITE_BITMAP, 0x8800) },
		  CTL("27.2.1.1", "VMWRITE_BITMAP bits 11:0 must be 0") },
		{ "VMWRITE bitmap width",
		  { OR(PROC2, CPU2_VMCS_SHADOWING), SET(VMCS_VMWRITE_BITMAP, ABOVE_MAXPHY) },
		  CTL("27.2.1.1", "VMWRITE_BITMAP must not set bits beyond MAXPHYADDR") },
		/* The EPT pointer with "enable EPT" (WB, walk 4, A/D: 0x5e). */
		{ "EPTP valid", { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, 0x1005e) },
		  PASSES },
		{ "EPTP UC, no A/D", { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, 0x10018) },
		  PASSES },
		{ "EPTP memory type 1", { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, 0x10019) },
		  CTL("27.2.1.1", "EPT_POINTER: a memory type") },
		{ "EPTP walk length 5 not offered",
		  { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, 0x10026) },
		  CTL("27.2.1.1", "EPT_POINTER: a page-walk length IA32_VMX_EPT_VPID_CAP does not") },
		{ "EPTP walk length 5 offered",
		  { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, 0x10026) },
		  PASSES, .caps = caps_ept_walk_5 },
		{ "EPTP walk length 4 where only 5 is",
		  { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, 0x1001e) },
		  CTL("27.2.1.1", "EPT_POINTER: a page-walk length IA32_VMX_EPT_VPID_CAP does not"),
		  .caps = caps_ept_walk_5_only },
		{ "EPTP walk length 3", { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, 0x10016) },
		  CTL("27.2.1.1", "EPT_POINTER: a page-walk length IA32_VMX_EPT_VPID_CAP does not"),
		  .caps = caps_ept_walk_5 },
		{ "EPTP A/D not offered", { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, 0x1005e) },
		  CTL("27.2.1.1", "EPT_POINTER: accessed/dirty flags are not offered"),
		  .caps = caps_no_ept_ad },
		{ "EPTP bit 7", { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, 0x1009e) },
		  CTL("27.2.1.1", "EPT_POINTER: bits 11:7 must be 0") },
		{ "EPTP width", { OR(PROC2, CPU2_ENABLE_EPT), SET(VMCS_EPT_POINTER, ABOVE_MAXPHY | 0x1e) },
		  CTL("27.2.1.1", "EPT_POINTER must not set bits beyond MAXPHYADDR") },
		{ "EPTP unchecked without EPT", { SET(VMCS_EPT_POINTER, 0x7) }, PASSES },
		{ "proc2 ignored when not activated",
		  { CLR(PROC, CPU_ACTIVATE_SECONDARY), OR(PROC2, CPU2_ENABLE_EPT) },
		  PASSES },
		{ "proc2 must-be-1", { CLR(PROC2, CPU2_ENABLE_RDTSCP) },
		  CTL("27.2.1.1", "SECONDARY_VM_EXEC_CONTROL: a must-be-1 bit is 0"),
		  .caps = caps_proc2_must1 },
		{ "proc2 must-be-1 ignored when not activated",
		  { CLR(PROC2, CPU2_ENABLE_RDTSCP), CLR(PROC, CPU_ACTIVATE_SECONDARY) },
		  PASSES, .caps = caps_proc2_must1 },
		{ "4 CR3 targets", { SET(VMCS_CR3_TARGET_COUNT, 4) }, PASSES },
		{ "5 CR3 targets", { SET(VMCS_CR3_TARGET_COUNT, 5) },
		  CTL("27.2.1.1", "CR3_TARGET_COUNT must not exceed IA32_VMX_MISC[24:16]") },
		{ "I/O bitmap A aligned", { SET(VMCS_IO_BITMAP_A, 0x10800) },
		  CTL("27.2.1.1", "IO_BITMAP_A bits 11:0") },
		{ "I/O bitmap A width", { SET(VMCS_IO_BITMAP_A, ABOVE_MAXPHY) },
		  CTL("27.2.1.1", "IO_BITMAP_A must not set bits beyond MAXPHYADDR") },
		{ "I/O bitmap B aligned", { SET(VMCS_IO_BITMAP_B, 0x11004) },
		  CTL("27.2.1.1", "IO_BITMAP_B bits 11:0") },
		{ "I/O bitmap B width", { SET(VMCS_IO_BITMAP_B, 1ull << 50) },
		  CTL("27.2.1.1", "IO_BITMAP_B must not set bits beyond MAXPHYADDR") },
		{ "I/O bitmaps unused",
		  { CLR(PROC, CPU_USE_IO_BITMAPS), SET(VMCS_IO_BITMAP_A, 1),
		    SET(VMCS_IO_BITMAP_B, 1) },
		  PASSES },
		{ "MSR bitmap aligned", { SET(VMCS_MSR_BITMAP, 0x12010) },
		  CTL("27.2.1.1", "MSR_BITMAP bits 11:0") },
		{ "MSR bitmap width", { SET(VMCS_MSR_BITMAP, ABOVE_MAXPHY | 0x1000) },
		  CTL("27.2.1.1", "MSR_BITMAP must not set bits beyond MAXPHYADDR") },
		{ "MSR bitmap unused", { CLR(PROC, CPU_USE_MSR_BITMAPS), SET(VMCS_MSR_BITMAP, 3) },
		  PASSES },
		{ "virtual NMIs without NMI exiting", { CLR(PIN, PIN_NMI_EXITING) },
		  CTL("27.2.1.1", "virtual NMIs must be 0 when NMI exiting is 0") },
		{ "NMI window without virtual NMIs",
		  { CLR(PIN, PIN_VIRTUAL_NMIS), OR(PROC, CPU_NMI_WINDOW_EXITING) },
		  CTL("27.2.1.1", "NMI-window exiting must be 0 when virtual NMIs is 0") },
		{ "NMI window with virtual NMIs", { OR(PROC, CPU_NMI_WINDOW_EXITING) }, PASSES },
		{ "VPID 0 with enable VPID", { OR(PROC2, CPU2_ENABLE_VPID) },
		  CTL("27.2.1.1", "VIRTUAL_PROCESSOR_ID must not be 0 when enable VPID is 1") },
		{ "VPID 1 with enable VPID",
		  { OR(PROC2, CPU2_ENABLE_VPID), SET(VMCS_VIRTUAL_PROCESSOR_ID, 1) }, PASSES },
		{ "VPID 0 without enable VPID", { SET(VMCS_VIRTUAL_PROCESSOR_ID, 0) }, PASSES },
		{ "VPID 0, enable VPID not activated",
		  { OR(PROC2, CPU2_ENABLE_VPID), CLR(PROC, CPU_ACTIVATE_SECONDARY) }, PASSES },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* ---- 27.2.1.2 VM-exit control fields ---- */

TEST(nested_entry_exit_controls)
{
	static const struct row rows[] = {
		{ "must-be-1", { CLR(EXITC, 1u << 0) },
		  CTL("27.2.1.2", "VM_EXIT_CONTROLS: a must-be-1 bit is 0") },
		{ "allowed-1 (load PERF_GLOBAL_CTRL)", { OR(EXITC, EXIT_LOAD_PERF_GLOBAL_CTRL) },
		  CTL("27.2.1.2", "VM_EXIT_CONTROLS: a bit L1's allowed-1") },
		{ "save timer without the timer", { OR(EXITC, EXIT_SAVE_PREEMPTION_TIMER) },
		  CTL("27.2.1.2", "save VMX-preemption timer value must be 0") },
		{ "save timer with the timer",
		  { OR(EXITC, EXIT_SAVE_PREEMPTION_TIMER), OR(PIN, PIN_PREEMPTION_TIMER) },
		  PASSES },
		{ "store area aligned",
		  { SET(VMCS_VM_EXIT_MSR_STORE_COUNT, 1),
		    SET(VMCS_VM_EXIT_MSR_STORE_ADDR, 0x3008) },
		  CTL("27.2.1.2", "VM_EXIT_MSR_STORE_ADDR bits 3:0") },
		{ "store area width",
		  { SET(VMCS_VM_EXIT_MSR_STORE_COUNT, 1),
		    SET(VMCS_VM_EXIT_MSR_STORE_ADDR, ABOVE_MAXPHY) },
		  CTL("27.2.1.2", "VM_EXIT_MSR_STORE_ADDR must not set bits beyond MAXPHYADDR") },
		{ "store area last byte",
		  { SET(VMCS_VM_EXIT_MSR_STORE_COUNT, 2),
		    SET(VMCS_VM_EXIT_MSR_STORE_ADDR, ABOVE_MAXPHY - 16) },
		  CTL("27.2.1.2", "VM_EXIT_MSR_STORE_ADDR: last byte") },
		{ "store area fits",
		  { SET(VMCS_VM_EXIT_MSR_STORE_COUNT, 1),
		    SET(VMCS_VM_EXIT_MSR_STORE_ADDR, ABOVE_MAXPHY - 16) },
		  PASSES },
		{ "store area unchecked with count 0", { SET(VMCS_VM_EXIT_MSR_STORE_ADDR, 0x3) },
		  PASSES },
		{ "load area aligned",
		  { SET(VMCS_VM_EXIT_MSR_LOAD_COUNT, 3), SET(VMCS_VM_EXIT_MSR_LOAD_ADDR, 0x4001) },
		  CTL("27.2.1.2", "VM_EXIT_MSR_LOAD_ADDR bits 3:0") },
		{ "load area width",
		  { SET(VMCS_VM_EXIT_MSR_LOAD_COUNT, 1), SET(VMCS_VM_EXIT_MSR_LOAD_ADDR, ~0xfull) },
		  CTL("27.2.1.2", "VM_EXIT_MSR_LOAD_ADDR must not set bits beyond MAXPHYADDR") },
		{ "load area last byte",
		  { SET(VMCS_VM_EXIT_MSR_LOAD_COUNT, 512),
		    SET(VMCS_VM_EXIT_MSR_LOAD_ADDR, ABOVE_MAXPHY - 0x1000) },
		  CTL("27.2.1.2", "VM_EXIT_MSR_LOAD_ADDR: last byte") },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* ---- 27.2.1.3 VM-entry control fields ---- */

TEST(nested_entry_entry_controls)
{
	static const struct row rows[] = {
		{ "must-be-1", { CLR(ENTRYC, 1u << 0) },
		  CTL("27.2.1.3", "VM_ENTRY_CONTROLS: a must-be-1 bit is 0") },
		{ "allowed-1 (load PERF_GLOBAL_CTRL)", { OR(ENTRYC, ENTRY_LOAD_PERF_GLOBAL_CTRL) },
		  CTL("27.2.1.3", "VM_ENTRY_CONTROLS: a bit L1's allowed-1") },
		{ "type 1", { SET(INFO, EV(1u << 8, 0x20)) },
		  CTL("27.2.1.3", "interruption type 1 is reserved") },
		{ "type 7 without MTF", { SET(INFO, EV(7u << 8, 0)) },
		  CTL("27.2.1.3", "type 7 (other event) is reserved") },
		{ "type 7 with MTF", { SET(INFO, EV(7u << 8, 0)) }, PASSES, .caps = caps_mtf },
		{ "type 7 vector 1", { SET(INFO, EV(7u << 8, 1)) },
		  CTL("27.2.1.3", "other-event vector must be 0"), .caps = caps_mtf },
		{ "NMI vector 3", { SET(INFO, EV(INTR_TYPE_NMI, 3)) },
		  CTL("27.2.1.3", "NMI vector must be 2") },
		{ "NMI vector 2", { SET(INFO, EV(INTR_TYPE_NMI, 2)) }, PASSES },
		{ "exception vector 32", { SET(INFO, EV(HWEXC, 32)) },
		  CTL("27.2.1.3", "hardware exception vector must be <= 31") },
		{ "error code with an interrupt",
		  { SET(INFO, EV(INTR_TYPE_EXT_INTR | ERRC, 0x20)) },
		  CTL("27.2.1.3", "deliver-error-code must be 0 for a type other than hardware") },
		{ "#GP without error code", { SET(INFO, EV(HWEXC, VEC_GP)) },
		  CTL("27.2.1.3", "deliver-error-code must be 1 for #DF #TS #NP #SS #GP #PF #AC") },
		{ "#AC with error code", { SET(INFO, EV(HWEXC | ERRC, 17)) }, PASSES },
		{ "#UD with error code", { SET(INFO, EV(HWEXC | ERRC, VEC_UD)) },
		  CTL("27.2.1.3",
			"deliver-error-code must be 0 for a vector without an error code") },
		{ "error code with CR0.PE 0",
		  { SET(INFO, EV(HWEXC | ERRC, VEC_GP)), CLR(VMCS_GUEST_CR0, CR0_PE | CR0_PG) },
		  CTL("27.2.1.3", "deliver-error-code must be 0 when GUEST_CR0.PE is 0") },
		{ "no error-code rule with BASIC[56]", { SET(INFO, EV(HWEXC, VEC_GP)) },
		  PASSES, .caps = caps_no_errcode_check },
		{ "reserved bits 30:12", { SET(INFO, EV(INTR_TYPE_EXT_INTR, 0x20) | 1u << 12) },
		  CTL("27.2.1.3", "VM_ENTRY_INTR_INFO_FIELD reserved bits 30:12") },
		{ "invalid field unchecked", { SET(INFO, 1u << 12 | 1u << 8 | ERRC) }, PASSES },
		{ "error code bits 31:16",
		  { SET(INFO, EV(HWEXC | ERRC, VEC_GP)),
		    SET(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000) },
		  CTL("27.2.1.3", "VM_ENTRY_EXCEPTION_ERROR_CODE bits 31:16") },
		{ "INT n length 16",
		  { SET(INFO, EV(INTR_TYPE_SOFT_INTR, 0x80)),
		    SET(VMCS_VM_ENTRY_INSTRUCTION_LEN, 16) },
		  CTL("27.2.1.3", "VM_ENTRY_INSTRUCTION_LEN must be at most 15") },
		{ "INT3 length 0", { SET(INFO, EV(INTR_TYPE_SOFT_EXCEPTION, VEC_BP)) },
		  CTL("27.2.1.3", "VM_ENTRY_INSTRUCTION_LEN must not be 0") },
		{ "INT1 length 0 with MISC[30]",
		  { SET(INFO, EV(INTR_TYPE_PRIV_SW_EXCEPTION, VEC_DB)) },
		  PASSES, .caps = caps_zero_len },
		{ "INT n length 2",
		  { SET(INFO, EV(INTR_TYPE_SOFT_INTR, 0x80)),
		    SET(VMCS_VM_ENTRY_INSTRUCTION_LEN, 2) },
		  PASSES },
		{ "entry MSR-load area aligned",
		  { SET(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1),
		    SET(VMCS_VM_ENTRY_MSR_LOAD_ADDR, 0x5004) },
		  CTL("27.2.1.3", "VM_ENTRY_MSR_LOAD_ADDR bits 3:0") },
		{ "entry MSR-load area width",
		  { SET(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1),
		    SET(VMCS_VM_ENTRY_MSR_LOAD_ADDR, ABOVE_MAXPHY) },
		  CTL("27.2.1.3", "VM_ENTRY_MSR_LOAD_ADDR must not set bits beyond MAXPHYADDR") },
		{ "entry MSR-load area last byte",
		  { SET(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0x10000),
		    SET(VMCS_VM_ENTRY_MSR_LOAD_ADDR, ABOVE_MAXPHY - 0x80000) },
		  CTL("27.2.1.3", "VM_ENTRY_MSR_LOAD_ADDR: last byte") },
		{ "entry to SMM (not offered)", { OR(ENTRYC, ENTRY_SMM) },
		  CTL("27.2.1.3", "VM_ENTRY_CONTROLS: a bit L1's allowed-1") },
		{ "entry to SMM", { OR(ENTRYC, ENTRY_SMM) },
		  CTL("27.2.1.3", "entry to SMM must be 0 outside SMM"), .caps = caps_smm },
		{ "deactivate dual-monitor", { OR(ENTRYC, 1u << 11) },
		  CTL("27.2.1.3", "deactivate dual-monitor treatment must be 0"),
		  .caps = caps_smm },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* ---- 27.2.2 host control registers and MSRs ---- */

TEST(nested_entry_host_regs)
{
	static const struct row rows[] = {
		{ "CR0 FIXED0 (NE)", { CLR(VMCS_HOST_CR0, CR0_NE) },
		  HOST("27.2.2", "HOST_CR0: a bit fixed to 1") },
		{ "CR0 FIXED1 (bit 32)", { OR(VMCS_HOST_CR0, 1ull << 32) },
		  HOST("27.2.2", "HOST_CR0: a bit fixed to 0") },
		{ "CR4.VMXE", { CLR(VMCS_HOST_CR4, CR4_VMXE) },
		  HOST("27.2.2", "HOST_CR4.VMXE must be 1") },
		{ "CR4 FIXED0 (OSFXSR)", { { 0 } },
		  HOST("27.2.2", "HOST_CR4: a bit fixed to 1"), .caps = caps_cr4_fxsr },
		{ "CR4 FIXED1 (LA57)", { OR(VMCS_HOST_CR4, CR4_LA57) },
		  HOST("27.2.2", "HOST_CR4: a bit fixed to 0") },
		{ "CR4.CET without CR0.WP",
		  { OR(VMCS_HOST_CR4, CR4_CET), CLR(VMCS_HOST_CR0, CR0_WP) },
		  HOST("27.2.2", "HOST_CR4.CET requires HOST_CR0.WP"), .caps = caps_cet },
		{ "CR3 width", { SET(VMCS_HOST_CR3, ABOVE_MAXPHY) },
		  HOST("27.2.2", "HOST_CR3 must not set bits beyond MAXPHYADDR") },
		{ "SYSENTER_ESP", { SET(VMCS_HOST_IA32_SYSENTER_ESP, NONCANON) },
		  HOST("27.2.2", "HOST_IA32_SYSENTER_ESP must be canonical") },
		{ "SYSENTER_EIP", { SET(VMCS_HOST_IA32_SYSENTER_EIP, 0x8000000000000000ull) },
		  HOST("27.2.2", "HOST_IA32_SYSENTER_EIP must be canonical") },
		{ "PAT type 2", { SET(VMCS_HOST_IA32_PAT, PAT_OK | 2ull << 24) },
		  HOST("27.2.2", "HOST_IA32_PAT: every entry") },
		{ "PAT type 8", { SET(VMCS_HOST_IA32_PAT, PAT_OK | 8ull << 56) },
		  HOST("27.2.2", "HOST_IA32_PAT: every entry") },
		{ "PAT unchecked without load PAT",
		  { CLR(EXITC, EXIT_LOAD_IA32_PAT), SET(VMCS_HOST_IA32_PAT, 3) },
		  PASSES },
		{ "EFER reserved (SVME)", { OR(VMCS_HOST_IA32_EFER, 1ull << 12) },
		  HOST("27.2.2", "HOST_IA32_EFER reserved bits") },
		{ "EFER.LMA", { CLR(VMCS_HOST_IA32_EFER, EFER_LMA) },
		  HOST("27.2.2", "HOST_IA32_EFER.LMA") },
		{ "EFER.LME", { CLR(VMCS_HOST_IA32_EFER, EFER_LME) },
		  HOST("27.2.2", "HOST_IA32_EFER.LME") },
		{ "EFER unchecked without load EFER",
		  { CLR(EXITC, EXIT_LOAD_IA32_EFER), SET(VMCS_HOST_IA32_EFER, 1ull << 12) },
		  PASSES },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* ---- 27.2.3 host segment and descriptor-table registers ---- */

TEST(nested_entry_host_segments)
{
	static const struct row rows[] = {
		{ "ES RPL", { SET(VMCS_HOST_ES_SELECTOR, 0x13) },
		  HOST("27.2.3", "HOST_ES_SELECTOR RPL and TI") },
		{ "CS TI", { SET(VMCS_HOST_CS_SELECTOR, 0x0c) },
		  HOST("27.2.3", "HOST_CS_SELECTOR RPL and TI") },
		{ "SS RPL", { SET(VMCS_HOST_SS_SELECTOR, 0x11) },
		  HOST("27.2.3", "HOST_SS_SELECTOR RPL and TI") },
		{ "DS RPL", { SET(VMCS_HOST_DS_SELECTOR, 0x12) },
		  HOST("27.2.3", "HOST_DS_SELECTOR RPL and TI") },
		{ "FS TI", { SET(VMCS_HOST_FS_SELECTOR, 0x4) },
		  HOST("27.2.3", "HOST_FS_SELECTOR RPL and TI") },
		{ "GS RPL", { SET(VMCS_HOST_GS_SELECTOR, 0x3) },
		  HOST("27.2.3", "HOST_GS_SELECTOR RPL and TI") },
		{ "TR TI", { SET(VMCS_HOST_TR_SELECTOR, 0x1c) },
		  HOST("27.2.3", "HOST_TR_SELECTOR RPL and TI") },
		{ "CS 0", { SET(VMCS_HOST_CS_SELECTOR, 0) },
		  HOST("27.2.3", "HOST_CS_SELECTOR must not be 0") },
		{ "TR 0", { SET(VMCS_HOST_TR_SELECTOR, 0) },
		  HOST("27.2.3", "HOST_TR_SELECTOR must not be 0") },
		{ "SS 0 with a 64-bit host", { SET(VMCS_HOST_SS_SELECTOR, 0) }, PASSES },
		{ "FS base", { SET(VMCS_HOST_FS_BASE, NONCANON) },
		  HOST("27.2.3", "HOST_FS_BASE must be canonical") },
		{ "GS base", { SET(VMCS_HOST_GS_BASE, 0xfff0000000000000ull) },
		  HOST("27.2.3", "HOST_GS_BASE must be canonical") },
		{ "GDTR base", { SET(VMCS_HOST_GDTR_BASE, NONCANON) },
		  HOST("27.2.3", "HOST_GDTR_BASE must be canonical") },
		{ "IDTR base", { SET(VMCS_HOST_IDTR_BASE, NONCANON) },
		  HOST("27.2.3", "HOST_IDTR_BASE must be canonical") },
		{ "TR base", { SET(VMCS_HOST_TR_BASE, NONCANON) },
		  HOST("27.2.3", "HOST_TR_BASE must be canonical") },
		{ "57-bit bases with LA57", { SET(VMCS_HOST_FS_BASE, 0x00ff000000000000ull) },
		  PASSES, .caps = caps_la57 },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* ---- 27.2.4 address-space size ---- */

TEST(nested_entry_host_address_space_size)
{
	static const struct row rows[] = {
		{ "32-bit host under a 64-bit L1",
		  { CLR(EXITC, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER) },
		  HOST("27.2.4", "host address-space size must be 1 in IA-32e mode") },
		{ "CR4.PAE", { CLR(VMCS_HOST_CR4, CR4_PAE) },
		  HOST("27.2.4", "HOST_CR4.PAE must be 1 when host address-space size is 1") },
		{ "RIP", { SET(VMCS_HOST_RIP, NONCANON) },
		  HOST("27.2.4", "HOST_RIP must be canonical") },
		{ "RIP with LA57 caps, 4-level host", { SET(VMCS_HOST_RIP, NONCANON) },
		  HOST("27.2.4", "HOST_RIP must be canonical"), .caps = caps_la57 },
		{ "RIP, 5-level host",
		  { SET(VMCS_HOST_RIP, NONCANON), OR(VMCS_HOST_CR4, CR4_LA57) },
		  PASSES, .caps = caps_la57 },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* nested_check_host_state with L1 outside IA-32e mode (32-bit host). */
TEST(nested_entry_host_32bit_l1)
{
	static const struct row rows[] = {
		{ "valid", { { 0 } }, PASSES },
		{ "64-bit host outside IA-32e mode",
		  { OR(EXITC, EXIT_HOST_ADDR_SPACE_SIZE), CLR(EXITC, EXIT_LOAD_IA32_EFER) },
		  HOST("27.2.4", "host address-space size must be 0 outside IA-32e mode") },
		{ "IA-32e mode guest", { OR(ENTRYC, ENTRY_IA32E_MODE_GUEST) },
		  HOST("27.2.4", "IA-32e mode guest must be 0 when host address-space size is 0") },
		{ "CR4.PCIDE", { OR(VMCS_HOST_CR4, CR4_PCIDE) },
		  HOST("27.2.4", "HOST_CR4.PCIDE must be 0") },
		{ "RIP bits 63:32", { SET(VMCS_HOST_RIP, 1ull << 32) },
		  HOST("27.2.4", "HOST_RIP bits 63:32 must be 0") },
		{ "SS 0", { SET(VMCS_HOST_SS_SELECTOR, 0) },
		  HOST("27.2.3",
			"HOST_SS_SELECTOR must not be 0 when host address-space size is 0") },
		{ "EFER.LMA with a 32-bit host", { OR(VMCS_HOST_IA32_EFER, EFER_LMA) },
		  HOST("27.2.2", "HOST_IA32_EFER.LMA") },
	};
	RUN(rows, valid_host32, HOST_ONLY_32BIT_L1);
}

/* ---- 27.3.1.1 guest control registers, debug registers and MSRs ---- */

TEST(nested_entry_guest_regs)
{
	static const struct row rows[] = {
		{ "CR0 FIXED0 (NE)", { CLR(VMCS_GUEST_CR0, CR0_NE) },
		  GUEST("27.3.1.1", "GUEST_CR0: a bit fixed to 1") },
		{ "CR0 FIXED0 (PE), no unrestricted guest",
		  { CLR(VMCS_GUEST_CR0, CR0_PE | CR0_PG) },
		  GUEST("27.3.1.1", "GUEST_CR0: a bit fixed to 1") },
		{ "CR0 FIXED1 (bit 32)", { OR(VMCS_GUEST_CR0, 1ull << 32) },
		  GUEST("27.3.1.1", "GUEST_CR0: a bit fixed to 0") },
		{ "CR0.PG without PE", { CLR(VMCS_GUEST_CR0, CR0_PE) },
		  GUEST("27.3.1.1", "GUEST_CR0.PG = 1 requires GUEST_CR0.PE"),
		  .caps = caps_cr0_free },
		{ "CR4 FIXED0 (VMXE)", { CLR(VMCS_GUEST_CR4, CR4_VMXE) },
		  GUEST("27.3.1.1", "GUEST_CR4: a bit fixed to 1") },
		{ "CR4 FIXED1 (LA57)", { OR(VMCS_GUEST_CR4, CR4_LA57) },
		  GUEST("27.3.1.1", "GUEST_CR4: a bit fixed to 0") },
		{ "CR4.CET without CR0.WP",
		  { OR(VMCS_GUEST_CR4, CR4_CET), CLR(VMCS_GUEST_CR0, CR0_WP) },
		  GUEST("27.3.1.1", "GUEST_CR4.CET requires GUEST_CR0.WP"), .caps = caps_cet },
		{ "DEBUGCTL reserved", { SET(VMCS_GUEST_IA32_DEBUGCTL, 1ull << 16) },
		  GUEST("27.3.1.1", "GUEST_IA32_DEBUGCTL reserved bits") },
		{ "DEBUGCTL unchecked without load debug controls",
		  { CLR(ENTRYC, ENTRY_LOAD_DEBUG_CONTROLS),
		    SET(VMCS_GUEST_IA32_DEBUGCTL, 1ull << 16), SET(VMCS_GUEST_DR7, 1ull << 40) },
		  PASSES },
		{ "IA-32e guest without CR0.PG", { CLR(VMCS_GUEST_CR0, CR0_PG) },
		  GUEST("27.3.1.1", "GUEST_CR0.PG must be 1 for an IA-32e mode guest"),
		  .caps = caps_cr0_free },
		{ "IA-32e guest without CR4.PAE", { CLR(VMCS_GUEST_CR4, CR4_PAE) },
		  GUEST("27.3.1.1", "GUEST_CR4.PAE must be 1 for an IA-32e mode guest") },
		{ "CR4.PCIDE outside IA-32e",
		  { CLR(ENTRYC, ENTRY_IA32E_MODE_GUEST), OR(VMCS_GUEST_CR4, CR4_PCIDE) },
		  GUEST("27.3.1.1", "GUEST_CR4.PCIDE must be 0 when IA-32e mode guest is 0") },
		{ "CR3 width", { SET(VMCS_GUEST_CR3, ABOVE_MAXPHY) },
		  GUEST("27.3.1.1", "GUEST_CR3 must not set bits beyond MAXPHYADDR") },
		{ "DR7 bits 63:32", { SET(VMCS_GUEST_DR7, 1ull << 32 | 0x400) },
		  GUEST("27.3.1.1", "GUEST_DR7 bits 63:32") },
		{ "SYSENTER_ESP", { SET(VMCS_GUEST_SYSENTER_ESP, NONCANON) },
		  GUEST("27.3.1.1", "GUEST_SYSENTER_ESP must be canonical") },
		{ "SYSENTER_EIP", { SET(VMCS_GUEST_SYSENTER_EIP, NONCANON) },
		  GUEST("27.3.1.1", "GUEST_SYSENTER_EIP must be canonical") },
		{ "PAT type 3", { SET(VMCS_GUEST_IA32_PAT, 3) },
		  GUEST("27.3.1.1", "GUEST_IA32_PAT") },
		{ "PAT unchecked without load PAT",
		  { CLR(ENTRYC, ENTRY_LOAD_IA32_PAT), SET(VMCS_GUEST_IA32_PAT, 3) },
		  PASSES },
		{ "EFER reserved", { OR(VMCS_GUEST_IA32_EFER, 1ull << 9) },
		  GUEST("27.3.1.1", "GUEST_IA32_EFER reserved bits") },
		{ "EFER.LMA", { CLR(VMCS_GUEST_IA32_EFER, EFER_LMA) },
		  GUEST("27.3.1.1", "GUEST_IA32_EFER.LMA must equal IA-32e mode guest") },
		{ "EFER.LME", { CLR(VMCS_GUEST_IA32_EFER, EFER_LME) },
		  GUEST("27.3.1.1", "GUEST_IA32_EFER.LME must equal LMA") },
		{ "EFER unchecked without load EFER",
		  { CLR(ENTRYC, ENTRY_LOAD_IA32_EFER), SET(VMCS_GUEST_IA32_EFER, 0) },
		  PASSES },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* ---- 27.3.1.2 guest segment registers ---- */

#define GAR(R) VMCS_GUEST_##R##_AR_BYTES

TEST(nested_entry_guest_selectors_and_bases)
{
	static const struct row rows[] = {
		{ "TR TI", { SET(VMCS_GUEST_TR_SELECTOR, 0x1c) },
		  GUEST("27.3.1.2", "GUEST_TR_SELECTOR: TI must be 0") },
		{ "LDTR TI (usable)",
		  { SET(VMCS_GUEST_LDTR_SELECTOR, 0x24), SET(GAR(LDTR), 0x82),
		    SET(VMCS_GUEST_LDTR_LIMIT, 0xfff) },
		  GUEST("27.3.1.2", "GUEST_LDTR_SELECTOR: TI must be 0") },
		{ "LDTR TI (unusable)", { SET(VMCS_GUEST_LDTR_SELECTOR, 0x24) }, PASSES },
		{ "SS RPL != CS RPL", { SET(VMCS_GUEST_SS_SELECTOR, 0x13) },
		  GUEST("27.3.1.2", "GUEST_SS_SELECTOR RPL must equal GUEST_CS_SELECTOR RPL") },
		{ "TR base", { SET(VMCS_GUEST_TR_BASE, NONCANON) },
		  GUEST("27.3.1.2", "GUEST_TR_BASE must be canonical") },
		{ "FS base", { SET(VMCS_GUEST_FS_BASE, NONCANON) },
		  GUEST("27.3.1.2", "GUEST_FS_BASE must be canonical") },
		{ "GS base", { SET(VMCS_GUEST_GS_BASE, 0x7fff000000000000ull) },
		  GUEST("27.3.1.2", "GUEST_GS_BASE must be canonical") },
		{ "LDTR base (usable)",
		  { SET(GAR(LDTR), 0x82), SET(VMCS_GUEST_LDTR_LIMIT, 0xfff),
		    SET(VMCS_GUEST_LDTR_BASE, NONCANON) },
		  GUEST("27.3.1.2", "GUEST_LDTR_BASE must be canonical") },
		{ "LDTR base (unusable)", { SET(VMCS_GUEST_LDTR_BASE, NONCANON) }, PASSES },
		{ "CS base", { SET(VMCS_GUEST_CS_BASE, 1ull << 32) },
		  GUEST("27.3.1.2", "GUEST_CS_BASE bits 63:32") },
		{ "SS base", { SET(VMCS_GUEST_SS_BASE, 1ull << 32) },
		  GUEST("27.3.1.2", "GUEST_SS_BASE bits 63:32") },
		{ "DS base", { SET(VMCS_GUEST_DS_BASE, ~0ull) },
		  GUEST("27.3.1.2", "GUEST_DS_BASE bits 63:32") },
		{ "ES base", { SET(VMCS_GUEST_ES_BASE, 1ull << 40) },
		  GUEST("27.3.1.2", "GUEST_ES_BASE bits 63:32") },
		{ "ES base (unusable)",
		  { SET(VMCS_GUEST_ES_BASE, 1ull << 40), SET(GAR(ES), VMX_AR_UNUSABLE) },
		  PASSES },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

TEST(nested_entry_guest_cs_ss)
{
	static const struct row rows[] = {
		{ "CS type 3 without unrestricted guest", { SET(GAR(CS), 0xa093) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES type must be 9, 11, 13 or 15") },
		{ "CS not accessed", { SET(GAR(CS), 0xa09a) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES type must be") },
		{ "CS S", { SET(GAR(CS), 0xa08b) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES: S must be 1") },
		{ "CS DPL != SS DPL (non-conforming)", { SET(GAR(CS), 0xa0fb) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES: DPL must equal the SS DPL") },
		{ "CS DPL > SS DPL (conforming)", { SET(GAR(CS), 0xa0ff) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES: DPL must not exceed the SS DPL") },
		{ "CS DPL < SS DPL (conforming)",
		  { SET(GAR(CS), 0xa09f), SET(GAR(SS), 0xc0f3), SET(VMCS_GUEST_SS_SELECTOR, 0x13),
		    SET(VMCS_GUEST_CS_SELECTOR, 0x0b) },
		  PASSES },
		/* SDM 27.3.1.2: types 13 and 15 need DPL <= SS DPL, equality included. */
		{ "CS DPL = SS DPL = 0 (conforming, type 15)", { SET(GAR(CS), 0xa09f) }, PASSES },
		{ "CS DPL = SS DPL = 3 (conforming, type 13)",
		  { SET(GAR(CS), 0xa0fd), SET(GAR(SS), 0xc0f3), SET(VMCS_GUEST_SS_SELECTOR, 0x13),
		    SET(VMCS_GUEST_CS_SELECTOR, 0x0b) },
		  PASSES },
		{ "CS P", { SET(GAR(CS), 0xa01b) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES: P must be 1") },
		{ "CS bits 11:8", { SET(GAR(CS), 0xa19b) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES reserved bits 11:8") },
		{ "CS G with limit 11:0 not all 1", { SET(VMCS_GUEST_CS_LIMIT, 0xfffffffe) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES: G must be 0 when a bit of limit 11:0") },
		{ "CS no G with limit 31:20", { SET(GAR(CS), 0x209b) },
		  GUEST("27.3.1.2",
			"GUEST_CS_AR_BYTES: G must be 1 when a bit of limit 31:20 is 1") },
		{ "CS bits 31:17", { OR(GAR(CS), 1ull << 17) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES reserved bits 31:17") },
		{ "CS L and D/B", { OR(GAR(CS), VMX_AR_DB) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES: D/B must be 0 when L = 1") },
		{ "SS type 1", { SET(GAR(SS), 0xc091) },
		  GUEST("27.3.1.2", "GUEST_SS_AR_BYTES type must be 3 or 7") },
		{ "SS type 7", { SET(GAR(SS), 0xc097) }, PASSES },
		{ "SS S", { SET(GAR(SS), 0xc083) },
		  GUEST("27.3.1.2", "GUEST_SS_AR_BYTES: S must be 1") },
		{ "SS DPL != RPL", { SET(GAR(CS), 0xa0fb), SET(GAR(SS), 0xc0f3) },
		  GUEST("27.3.1.2", "GUEST_SS_AR_BYTES: DPL must equal the RPL") },
		{ "SS P", { SET(GAR(SS), 0xc013) },
		  GUEST("27.3.1.2", "GUEST_SS_AR_BYTES: P must be 1") },
		{ "SS G", { SET(GAR(SS), 0x4093) },
		  GUEST("27.3.1.2",
			"GUEST_SS_AR_BYTES: G must be 1 when a bit of limit 31:20 is 1") },
		{ "SS unusable (64-bit)",
		  { SET(VMCS_GUEST_SS_SELECTOR, 0), SET(GAR(SS), VMX_AR_UNUSABLE) },
		  PASSES },
		{ "SS unusable, DPL != RPL",
		  { SET(VMCS_GUEST_SS_SELECTOR, 0), SET(GAR(SS), VMX_AR_UNUSABLE | 3u << 5),
		    SET(GAR(CS), 0xa0fb) },
		  GUEST("27.3.1.2", "GUEST_SS_AR_BYTES: DPL must equal the RPL") },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

TEST(nested_entry_guest_data_segments)
{
	static const struct row rows[] = {
		{ "DS not accessed", { SET(GAR(DS), 0xc092) },
		  GUEST("27.3.1.2", "GUEST_DS_AR_BYTES: type bit 0 (accessed) must be 1") },
		{ "DS execute-only code", { SET(GAR(DS), 0xc099) },
		  GUEST("27.3.1.2", "GUEST_DS_AR_BYTES: a code segment must be readable") },
		{ "DS readable code", { SET(GAR(DS), 0xc09b) }, PASSES },
		{ "DS S", { SET(GAR(DS), 0xc083) },
		  GUEST("27.3.1.2", "GUEST_DS_AR_BYTES: S must be 1") },
		{ "DS DPL < RPL", { SET(VMCS_GUEST_DS_SELECTOR, 0x13) },
		  GUEST("27.3.1.2", "GUEST_DS_AR_BYTES: DPL must not be less than the RPL") },
		{ "DS DPL < RPL, conforming code",
		  { SET(VMCS_GUEST_DS_SELECTOR, 0x13), SET(GAR(DS), 0xc09f) },
		  PASSES },
		{ "ES P", { SET(GAR(ES), 0xc013) },
		  GUEST("27.3.1.2", "GUEST_ES_AR_BYTES: P must be 1") },
		{ "FS bits 11:8", { SET(GAR(FS), 0xc893) },
		  GUEST("27.3.1.2", "GUEST_FS_AR_BYTES reserved bits 11:8") },
		{ "GS G", { SET(VMCS_GUEST_GS_LIMIT, 0xfff00000) },
		  GUEST("27.3.1.2", "GUEST_GS_AR_BYTES: G must be 0 when a bit of limit 11:0") },
		{ "GS bits 31:17", { OR(GAR(GS), 1ull << 31) },
		  GUEST("27.3.1.2", "GUEST_GS_AR_BYTES reserved bits 31:17") },
		{ "ES accessed", { SET(GAR(ES), 0xc090) },
		  GUEST("27.3.1.2", "GUEST_ES_AR_BYTES: type bit 0") },
		{ "FS S", { SET(GAR(FS), 0xc003) },
		  GUEST("27.3.1.2", "GUEST_FS_AR_BYTES: S must be 1") },
		{ "GS DPL < RPL", { SET(VMCS_GUEST_GS_SELECTOR, 0x11) },
		  GUEST("27.3.1.2", "GUEST_GS_AR_BYTES: DPL must not be less") },
		{ "unusable DS with junk", { SET(GAR(DS), VMX_AR_UNUSABLE | 0xf00 | 1u << 20) },
		  PASSES },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

TEST(nested_entry_guest_tr_ldtr)
{
	static const struct row rows[] = {
		{ "TR type 3 in IA-32e mode", { SET(GAR(TR), 0x83) },
		  GUEST("27.3.1.2", "GUEST_TR_AR_BYTES type must be 11 (busy 64-bit TSS)") },
		{ "TR type 9 (available)", { SET(GAR(TR), 0x89) },
		  GUEST("27.3.1.2", "GUEST_TR_AR_BYTES type must be 11") },
		{ "TR S", { SET(GAR(TR), 0x9b) },
		  GUEST("27.3.1.2", "GUEST_TR_AR_BYTES: S must be 0") },
		{ "TR unusable", { SET(GAR(TR), 0x1008b) },
		  GUEST("27.3.1.2", "GUEST_TR_AR_BYTES: TR must be usable") },
		{ "TR P", { SET(GAR(TR), 0x0b) },
		  GUEST("27.3.1.2", "GUEST_TR_AR_BYTES: P must be 1") },
		{ "TR bits 11:8", { SET(GAR(TR), 0x48b) },
		  GUEST("27.3.1.2", "GUEST_TR_AR_BYTES reserved bits 11:8") },
		{ "TR G", { SET(GAR(TR), 0x808b) },
		  GUEST("27.3.1.2", "GUEST_TR_AR_BYTES: G must be 0 when a bit of limit 11:0") },
		{ "TR bits 31:17", { SET(GAR(TR), 0x2008b) },
		  GUEST("27.3.1.2", "GUEST_TR_AR_BYTES reserved bits 31:17") },
		{ "LDTR type 3", { SET(GAR(LDTR), 0x83), SET(VMCS_GUEST_LDTR_LIMIT, 0xfff) },
		  GUEST("27.3.1.2", "GUEST_LDTR_AR_BYTES type must be 2") },
		{ "LDTR S", { SET(GAR(LDTR), 0x92), SET(VMCS_GUEST_LDTR_LIMIT, 0xfff) },
		  GUEST("27.3.1.2", "GUEST_LDTR_AR_BYTES: S must be 0") },
		{ "LDTR P", { SET(GAR(LDTR), 0x02), SET(VMCS_GUEST_LDTR_LIMIT, 0xfff) },
		  GUEST("27.3.1.2", "GUEST_LDTR_AR_BYTES: P must be 1") },
		{ "LDTR G", { SET(GAR(LDTR), 0x82), SET(VMCS_GUEST_LDTR_LIMIT, 0x100000) },
		  GUEST("27.3.1.2", "GUEST_LDTR_AR_BYTES: G must be 1") },
		{ "LDTR usable", { SET(GAR(LDTR), 0x82), SET(VMCS_GUEST_LDTR_LIMIT, 0xfff) },
		  PASSES },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* A 32-bit guest: TR may be a busy 16-bit TSS; CS.L/D/B free. */
TEST(nested_entry_guest_32bit)
{
	static const struct row rows[] = {
		{ "TR type 3", { SET(GAR(TR), 0x83) }, PASSES },
		{ "TR type 1", { SET(GAR(TR), 0x81) },
		  GUEST("27.3.1.2", "GUEST_TR_AR_BYTES type must be 3 or 11") },
		{ "RIP bits 63:32", { SET(VMCS_GUEST_RIP, 1ull << 32) },
		  GUEST("27.3.1.4", "GUEST_RIP bits 63:32 must be 0") },
	};
	RUN(rows, valid_32, ALL_LAUNCH);
}

static void v8086_in_ia32e(struct vmcs12 *v)
{
	v8086_segs(v);
}

TEST(nested_entry_guest_v8086)
{
	static const struct row rows[] = {
		{ "SS RPL != CS RPL is fine",
		  { SET(VMCS_GUEST_SS_SELECTOR, 0x1003), SET(VMCS_GUEST_SS_BASE, 0x10030) },
		  PASSES },
		{ "CS base", { SET(VMCS_GUEST_CS_BASE, 0x10001) },
		  GUEST("27.3.1.2", "GUEST_CS_BASE must be the selector << 4") },
		{ "DS limit", { SET(VMCS_GUEST_DS_LIMIT, 0xfffff) },
		  GUEST("27.3.1.2", "GUEST_DS_LIMIT must be 0xffff") },
		{ "GS AR", { SET(GAR(GS), 0xf2) },
		  GUEST("27.3.1.2", "GUEST_GS_AR_BYTES must be 0xf3") },
		{ "SS AR", { SET(GAR(SS), 0xc0f3) },
		  GUEST("27.3.1.2", "GUEST_SS_AR_BYTES must be 0xf3") },
		{ "ES base", { SET(VMCS_GUEST_ES_BASE, 0) },
		  GUEST("27.3.1.2", "GUEST_ES_BASE must be the selector << 4") },
		{ "FS limit", { SET(VMCS_GUEST_FS_LIMIT, 0xfffe) },
		  GUEST("27.3.1.2", "GUEST_FS_LIMIT must be 0xffff") },
	};
	static const struct row rows64[] = {
		{ "RFLAGS.VM in IA-32e mode", { { 0 } },
		  GUEST("27.3.1.4", "GUEST_RFLAGS.VM must be 0 for an IA-32e mode guest"),
		  .mutate = v8086_in_ia32e },
	};
	RUN(rows, valid_v8086, ALL_LAUNCH);
	RUN(rows64, valid_64, ALL_LAUNCH);
}

/* Unrestricted guest (capabilities widened): the checks that depend on it. */
TEST(nested_entry_guest_unrestricted)
{
	static const struct row rows[] = {
		{ "real mode, CS type 3", { { 0 } }, PASSES, .caps = caps_ug },
		{ "SS RPL != CS RPL is fine", { SET(VMCS_GUEST_SS_SELECTOR, 3) },
		  PASSES, .caps = caps_ug },
		{ "CS type 3, DPL 3", { SET(GAR(CS), 0xf3) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES: DPL must be 0 for type 3"),
		  .caps = caps_ug },
		{ "SS DPL 3 with CS type 3", { SET(GAR(SS), 0xf3), SET(VMCS_GUEST_SS_SELECTOR, 3) },
		  GUEST("27.3.1.2", "GUEST_SS_AR_BYTES: DPL must be 0 when the CS type is 3"),
		  .caps = caps_ug },
		{ "SS DPL 3 with CR0.PE 0", { SET(GAR(SS), 0xf3), SET(GAR(CS), 0xfb) },
		  GUEST("27.3.1.2", "GUEST_SS_AR_BYTES: DPL must be 0 when GUEST_CR0.PE is 0"),
		  .caps = caps_ug },
		{ "RFLAGS.VM with CR0.PE 0", { { 0 } },
		  GUEST("27.3.1.4", "GUEST_RFLAGS.VM must be 0 when GUEST_CR0.PE is 0"),
		  .mutate = v8086_segs, .caps = caps_ug },
		{ "CR0.PG without PE", { OR(VMCS_GUEST_CR0, CR0_PG) },
		  GUEST("27.3.1.1", "GUEST_CR0.PG = 1 requires GUEST_CR0.PE"), .caps = caps_ug },
	};
	RUN(rows, valid_real, GUEST_ONLY);
}

/*
 * Issue 12, item 3: unrestricted guest as L1 is offered it (with nested
 * EPT), whole entries from valid_real (real mode, CS type 3).
 */
TEST(nested_entry_unrestricted_offered)
{
	static const struct row rows[] = {
		{ "real mode", { { 0 } }, PASSES },
		/* 27.2.1.1 */
		{ "without enable EPT", { CLR(PROC2, CPU2_ENABLE_EPT) },
		  CTL("27.2.1.1", "unrestricted guest requires enable EPT") },
		{ "EPT without unrestricted guest", { CLR(PROC2, CPU2_UNRESTRICTED_GUEST) },
		  GUEST("27.3.1.1", "GUEST_CR0: a bit fixed to 1") },
		/* 27.3.1.1: PE and PG exempt from CR0_FIXED0, PG still needs PE. */
		{ "unpaged protected mode", { OR(VMCS_GUEST_CR0, CR0_PE), SET(GAR(CS), 0x9b) },
		  PASSES },
		{ "PE 0, PG 1", { OR(VMCS_GUEST_CR0, CR0_PG) },
		  GUEST("27.3.1.1", "GUEST_CR0.PG = 1 requires GUEST_CR0.PE") },
		{ "PE 1 with PG 0 still needs NE",
		  { SET(VMCS_GUEST_CR0, CR0_PE | CR0_ET), SET(GAR(CS), 0x9b) },
		  GUEST("27.3.1.1", "GUEST_CR0: a bit fixed to 1") },
		{ "IA-32e mode guest, PG 0",
		  { OR(ENTRYC, ENTRY_IA32E_MODE_GUEST), SET(VMCS_GUEST_IA32_EFER, 0x500),
		    OR(VMCS_GUEST_CR0, CR0_PE), OR(VMCS_GUEST_CR4, CR4_PAE) },
		  GUEST("27.3.1.1", "GUEST_CR0.PG must be 1 for an IA-32e mode guest") },
		/* 27.3.1.2: no virtual-8086 base/limit rule in real mode. */
		{ "real mode, base not selector << 4",
		  { SET(VMCS_GUEST_DS_SELECTOR, 0x1234), SET(VMCS_GUEST_DS_BASE, 0x100000),
		    SET(VMCS_GUEST_DS_LIMIT, 0xffffffff), SET(GAR(DS), 0xc093) },
		  PASSES },
		{ "real mode, CS code type 11", { SET(GAR(CS), 0x9b) }, PASSES },
		{ "real mode, data DPL < RPL", { SET(VMCS_GUEST_DS_SELECTOR, 3) }, PASSES },
		{ "real mode, SS DPL != RPL", { SET(VMCS_GUEST_SS_SELECTOR, 3) }, PASSES },
		{ "real mode, CS type 1", { SET(GAR(CS), 0x91) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES type must be") },
		{ "real mode, SS DPL 3 with code CS", { SET(GAR(SS), 0xf3), SET(GAR(CS), 0xfb) },
		  GUEST("27.3.1.2", "GUEST_SS_AR_BYTES: DPL must be 0 when GUEST_CR0.PE is 0") },
		{ "real mode, CS P 0", { SET(GAR(CS), 0x13) },
		  GUEST("27.3.1.2", "GUEST_CS_AR_BYTES: P must be 1") },
		{ "real mode, DS type 1 not writable is fine", { SET(GAR(DS), 0x91) }, PASSES },
		{ "real mode, DS not accessed", { SET(GAR(DS), 0x92) },
		  GUEST("27.3.1.2", "GUEST_DS_AR_BYTES: type bit 0 (accessed) must be 1") },
		{ "real mode, TR type 3 (16-bit busy TSS)", { SET(GAR(TR), 0x83) }, PASSES },
		/* 27.3.1.4 */
		{ "real mode, RFLAGS.VM", { { 0 } },
		  GUEST("27.3.1.4", "GUEST_RFLAGS.VM must be 0 when GUEST_CR0.PE is 0"),
		  .mutate = v8086_segs },
		{ "unpaged protected mode, virtual-8086", { OR(VMCS_GUEST_CR0, CR0_PE) },
		  PASSES, .mutate = v8086_segs },
		/* 27.3.1.5: HLT needs SS DPL 0, which real mode has. */
		{ "real mode, HLT", { SET(VMCS_GUEST_ACTIVITY_STATE, 1) }, PASSES },
		/* 27.2.1.3: a real-mode guest takes no error code. */
		{ "real mode, #GP without error code", { SET(INFO, EV(HWEXC, VEC_GP)) }, PASSES },
		{ "real mode, #GP with error code", { SET(INFO, EV(HWEXC, VEC_GP) | ERRC) },
		  CTL("27.2.1.3", "deliver-error-code must be 0 when GUEST_CR0.PE is 0") },
	};
	RUN(rows, valid_real, ALL_LAUNCH);
}

/* ---- 27.3.1.3 descriptor-table registers ---- */

TEST(nested_entry_guest_descriptor_tables)
{
	static const struct row rows[] = {
		{ "GDTR base", { SET(VMCS_GUEST_GDTR_BASE, NONCANON) },
		  GUEST("27.3.1.3", "GUEST_GDTR_BASE must be canonical") },
		{ "IDTR base", { SET(VMCS_GUEST_IDTR_BASE, 0x8000000000000000ull) },
		  GUEST("27.3.1.3", "GUEST_IDTR_BASE must be canonical") },
		{ "GDTR limit", { SET(VMCS_GUEST_GDTR_LIMIT, 0x10000) },
		  GUEST("27.3.1.3", "GUEST_GDTR_LIMIT bits 31:16") },
		{ "IDTR limit", { SET(VMCS_GUEST_IDTR_LIMIT, 0x80000fff) },
		  GUEST("27.3.1.3", "GUEST_IDTR_LIMIT bits 31:16") },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* ---- 27.3.1.4 RIP and RFLAGS ---- */

TEST(nested_entry_guest_rip_rflags)
{
	static const struct row rows[] = {
		{ "RIP bits 63:48 differ", { SET(VMCS_GUEST_RIP, 0x0001000000000000ull) },
		  GUEST("27.3.1.4", "GUEST_RIP bits 63:N must be identical") },
		{ "RIP bit 47 may differ from 63:48", { SET(VMCS_GUEST_RIP, NONCANON) }, PASSES },
		{ "RIP 57 bits with LA57", { SET(VMCS_GUEST_RIP, 0x0001000000000000ull) },
		  PASSES, .caps = caps_la57 },
		{ "RIP, compatibility mode", { SET(GAR(CS), 0xc09b) },
		  GUEST("27.3.1.4", "GUEST_RIP bits 63:32 must be 0 unless") },
		{ "RFLAGS bit 22", { OR(VMCS_GUEST_RFLAGS, 1ull << 22) },
		  GUEST("27.3.1.4", "GUEST_RFLAGS reserved bits") },
		{ "RFLAGS bit 63", { OR(VMCS_GUEST_RFLAGS, 1ull << 63) },
		  GUEST("27.3.1.4", "GUEST_RFLAGS reserved bits") },
		{ "RFLAGS bit 15", { OR(VMCS_GUEST_RFLAGS, 1ull << 15) },
		  GUEST("27.3.1.4", "GUEST_RFLAGS reserved bits") },
		{ "RFLAGS bit 5", { OR(VMCS_GUEST_RFLAGS, 1ull << 5) },
		  GUEST("27.3.1.4", "GUEST_RFLAGS reserved bits") },
		{ "RFLAGS bit 3", { OR(VMCS_GUEST_RFLAGS, 1ull << 3) },
		  GUEST("27.3.1.4", "GUEST_RFLAGS reserved bits") },
		{ "RFLAGS bit 1", { SET(VMCS_GUEST_RFLAGS, 0x200) },
		  GUEST("27.3.1.4", "GUEST_RFLAGS bit 1 must be 1") },
		{ "RFLAGS ID AC VIF VIP", { OR(VMCS_GUEST_RFLAGS, 0x3c0000) }, PASSES },
		{ "IF 0 with an external interrupt",
		  { SET(VMCS_GUEST_RFLAGS, 0x2), SET(INFO, EV(INTR_TYPE_EXT_INTR, 0x20)) },
		  GUEST("27.3.1.4",
			"GUEST_RFLAGS.IF must be 1 when injecting an external interrupt") },
		{ "IF 0 with an NMI",
		  { SET(VMCS_GUEST_RFLAGS, 0x2), SET(INFO, EV(INTR_TYPE_NMI, 2)) },
		  PASSES },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* ---- 27.3.1.5 non-register state ---- */

TEST(nested_entry_guest_activity_state)
{
	static const struct row rows[] = {
		{ "HLT", { SET(VMCS_GUEST_ACTIVITY_STATE, 1) }, PASSES },
		{ "state 4", { SET(VMCS_GUEST_ACTIVITY_STATE, 4) },
		  GUEST("27.3.1.5", "GUEST_ACTIVITY_STATE must be 0 to 3") },
		{ "shutdown (offered)", { SET(VMCS_GUEST_ACTIVITY_STATE, 2) }, PASSES },
		{ "shutdown (not offered)", { SET(VMCS_GUEST_ACTIVITY_STATE, 2) },
		  GUEST("27.3.1.5", "GUEST_ACTIVITY_STATE not supported by IA32_VMX_MISC[8:6]"),
		  .caps = caps_no_shutdown },
		{ "wait-for-SIPI (offered)", { SET(VMCS_GUEST_ACTIVITY_STATE, 3) }, PASSES },
		{ "wait-for-SIPI (not offered)", { SET(VMCS_GUEST_ACTIVITY_STATE, 3) },
		  GUEST("27.3.1.5", "GUEST_ACTIVITY_STATE not supported"),
		  .caps = caps_no_wait_sipi },
		{ "wait-for-SIPI with blocking by STI",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 3), SET(INTR, GUEST_INTR_STATE_STI) },
		  GUEST("27.3.1.5", "GUEST_ACTIVITY_STATE must be active with blocking by STI") },
		{ "wait-for-SIPI, #MC",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 3), SET(INFO, EV(HWEXC, VEC_MC)) },
		  GUEST("27.3.1.5", "event not allowed") },
		{ "wait-for-SIPI, interrupt",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 3), SET(INFO, EV(INTR_TYPE_EXT_INTR, 0x30)) },
		  GUEST("27.3.1.5", "event not allowed") },
		{ "HLT with SS DPL 3",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(GAR(CS), 0xa0fb), SET(GAR(SS), 0xc0f3),
		    OR(VMCS_GUEST_SS_SELECTOR, 3), OR(VMCS_GUEST_CS_SELECTOR, 3) },
		  GUEST("27.3.1.5", "HLT requires SS DPL 0") },
		{ "HLT with blocking by STI",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(INTR, GUEST_INTR_STATE_STI) },
		  GUEST("27.3.1.5", "GUEST_ACTIVITY_STATE must be active with blocking by STI") },
		{ "HLT with blocking by MOV SS",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(INTR, GUEST_INTR_STATE_MOV_SS) },
		  GUEST("27.3.1.5",
			"GUEST_ACTIVITY_STATE must be active with blocking by STI or MOV SS") },
		{ "HLT, #GP injected",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(INFO, EV(HWEXC | ERRC, VEC_GP)) },
		  GUEST("27.3.1.5", "event not allowed in GUEST_ACTIVITY_STATE") },
		{ "HLT, INT n injected",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(INFO, EV(INTR_TYPE_SOFT_INTR, 0x80)),
		    SET(VMCS_VM_ENTRY_INSTRUCTION_LEN, 2) },
		  GUEST("27.3.1.5", "event not allowed") },
		{ "HLT, #DB injected",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(INFO, EV(HWEXC, VEC_DB)) },
		  PASSES },
		{ "HLT, #MC injected",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(INFO, EV(HWEXC, VEC_MC)) },
		  PASSES },
		{ "HLT, interrupt injected",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(INFO, EV(INTR_TYPE_EXT_INTR, 0x30)) },
		  PASSES },
		{ "HLT, NMI injected",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(INFO, EV(INTR_TYPE_NMI, 2)) },
		  PASSES },
		{ "HLT, pending MTF",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 1), SET(INFO, EV(7u << 8, 0)) },
		  PASSES, .caps = caps_mtf },
		{ "shutdown, NMI",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 2), SET(INFO, EV(INTR_TYPE_NMI, 2)) },
		  PASSES, .caps = caps_activity },
		{ "shutdown, #MC",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 2), SET(INFO, EV(HWEXC, VEC_MC)) },
		  PASSES, .caps = caps_activity },
		{ "shutdown, interrupt",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 2), SET(INFO, EV(INTR_TYPE_EXT_INTR, 0x30)) },
		  GUEST("27.3.1.5", "event not allowed"), .caps = caps_activity },
		{ "wait-for-SIPI", { SET(VMCS_GUEST_ACTIVITY_STATE, 3) },
		  PASSES, .caps = caps_activity },
		{ "wait-for-SIPI, NMI",
		  { SET(VMCS_GUEST_ACTIVITY_STATE, 3), SET(INFO, EV(INTR_TYPE_NMI, 2)) },
		  GUEST("27.3.1.5", "event not allowed"), .caps = caps_activity },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

TEST(nested_entry_guest_interruptibility)
{
	static const struct row rows[] = {
		{ "STI", { SET(INTR, GUEST_INTR_STATE_STI) }, PASSES },
		{ "reserved bit 5", { SET(INTR, 1u << 5) },
		  GUEST("27.3.1.5", "GUEST_INTERRUPTIBILITY_INFO reserved bits 31:5") },
		{ "STI and MOV SS", { SET(INTR, GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS) },
		  GUEST("27.3.1.5", "blocking by STI and by MOV SS not both") },
		{ "STI with IF 0", { SET(INTR, GUEST_INTR_STATE_STI), SET(VMCS_GUEST_RFLAGS, 0x2) },
		  GUEST("27.3.1.5", "blocking by STI requires RFLAGS.IF = 1") },
		{ "interrupt with STI",
		  { SET(INTR, GUEST_INTR_STATE_STI), SET(INFO, EV(INTR_TYPE_EXT_INTR, 0x20)) },
		  GUEST("27.3.1.5",
			"blocking by STI must be 0 when injecting an external interrupt") },
		{ "interrupt with MOV SS",
		  { SET(INTR, GUEST_INTR_STATE_MOV_SS), SET(INFO, EV(INTR_TYPE_EXT_INTR, 0x20)) },
		  GUEST("27.3.1.5",
			"blocking by MOV SS must be 0 when injecting an external interrupt") },
		{ "NMI with MOV SS",
		  { SET(INTR, GUEST_INTR_STATE_MOV_SS), SET(INFO, EV(INTR_TYPE_NMI, 2)) },
		  GUEST("27.3.1.5", "blocking by MOV SS must be 0 when injecting an NMI") },
		{ "NMI with STI (qualification 3)",
		  { SET(INTR, GUEST_INTR_STATE_STI), SET(INFO, EV(INTR_TYPE_NMI, 2)) },
		  GUEST_Q("27.3.1.5", "blocking by STI must be 0 when injecting an NMI", 3) },
		{ "exception with STI",
		  { SET(INTR, GUEST_INTR_STATE_STI), SET(INFO, EV(HWEXC, VEC_DE)) },
		  PASSES },
		{ "SMI blocking", { SET(INTR, GUEST_INTR_STATE_SMI) },
		  GUEST("27.3.1.5", "blocking by SMI must be 0 outside SMM") },
		{ "NMI blocking, NMI injected, virtual NMIs",
		  { SET(INTR, GUEST_INTR_STATE_NMI), SET(INFO, EV(INTR_TYPE_NMI, 2)) },
		  GUEST("27.3.1.5",
			"blocking by NMI must be 0 when injecting an NMI with virtual NMIs") },
		{ "NMI blocking, NMI injected, no virtual NMIs",
		  { SET(INTR, GUEST_INTR_STATE_NMI), SET(INFO, EV(INTR_TYPE_NMI, 2)),
		    CLR(PIN, PIN_VIRTUAL_NMIS) },
		  PASSES },
		{ "NMI blocking alone", { SET(INTR, GUEST_INTR_STATE_NMI) }, PASSES },
		{ "enclave interruption with MOV SS",
		  { SET(INTR, 1u << 4 | GUEST_INTR_STATE_MOV_SS) },
		  GUEST("27.3.1.5", "enclave interruption requires no blocking by MOV SS") },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

#define PDE_BS (1ull << 14)
#define PDE_BP (1ull << 12)
#define PDE_RTM (1ull << 16)

TEST(nested_entry_guest_pending_debug_and_link_pointer)
{
	static const struct row rows[] = {
		{ "B0-B3, BP", { SET(PDE, 0xf | PDE_BP) }, PASSES },
		{ "bit 4", { SET(PDE, 1u << 4) },
		  GUEST("27.3.1.5", "GUEST_PENDING_DBG_EXCEPTIONS reserved bits") },
		{ "bit 13", { SET(PDE, 1u << 13) },
		  GUEST("27.3.1.5", "GUEST_PENDING_DBG_EXCEPTIONS reserved bits") },
		{ "bit 15", { SET(PDE, 1u << 15) },
		  GUEST("27.3.1.5", "GUEST_PENDING_DBG_EXCEPTIONS reserved bits") },
		{ "bit 17", { SET(PDE, 1u << 17) },
		  GUEST("27.3.1.5", "GUEST_PENDING_DBG_EXCEPTIONS reserved bits") },
		{ "TF, STI, no BS",
		  { OR(VMCS_GUEST_RFLAGS, RFLAGS_TF), SET(INTR, GUEST_INTR_STATE_STI) },
		  GUEST("27.3.1.5", "GUEST_PENDING_DBG_EXCEPTIONS.BS must be 1") },
		{ "TF, STI, BS",
		  { OR(VMCS_GUEST_RFLAGS, RFLAGS_TF), SET(INTR, GUEST_INTR_STATE_STI),
		    SET(PDE, PDE_BS) },
		  PASSES },
		{ "TF, HLT, no BS",
		  { OR(VMCS_GUEST_RFLAGS, RFLAGS_TF), SET(VMCS_GUEST_ACTIVITY_STATE, 1) },
		  GUEST("27.3.1.5", "GUEST_PENDING_DBG_EXCEPTIONS.BS must be 1") },
		{ "no TF, MOV SS, BS", { SET(INTR, GUEST_INTR_STATE_MOV_SS), SET(PDE, PDE_BS) },
		  GUEST("27.3.1.5", "GUEST_PENDING_DBG_EXCEPTIONS.BS must be 0") },
		{ "TF and BTF, STI, BS",
		  { OR(VMCS_GUEST_RFLAGS, RFLAGS_TF), SET(INTR, GUEST_INTR_STATE_STI),
		    SET(PDE, PDE_BS), SET(VMCS_GUEST_IA32_DEBUGCTL, 2) },
		  GUEST("27.3.1.5", "GUEST_PENDING_DBG_EXCEPTIONS.BS must be 0") },
		{ "BS without blocking", { SET(PDE, PDE_BS) }, PASSES },
		{ "RTM", { SET(PDE, PDE_RTM | PDE_BP) }, PASSES },
		{ "RTM with B0", { SET(PDE, PDE_RTM | PDE_BP | 1) },
		  GUEST("27.3.1.5", "bits 11:0 and 15:13 must be 0 with RTM") },
		{ "RTM without bit 12", { SET(PDE, PDE_RTM) },
		  GUEST("27.3.1.5", "bit 12 must be 1 with RTM") },
		{ "RTM with MOV SS",
		  { SET(PDE, PDE_RTM | PDE_BP), SET(INTR, GUEST_INTR_STATE_MOV_SS) },
		  GUEST("27.3.1.5", "RTM requires no blocking by MOV SS") },
		/* The region's own checks follow (nested_check_link_pointer, test_nested_shadow.c). */
		{ "link pointer 4K page", { SET(VMCS_VMCS_LINK_POINTER, 0x5000) }, PASSES },
		{ "link pointer alignment", { SET(VMCS_VMCS_LINK_POINTER, 0x5008) },
		  GUEST_Q("27.3.1.5", "VMCS_LINK_POINTER bits 11:0 must be 0", 4) },
		{ "link pointer width", { SET(VMCS_VMCS_LINK_POINTER, ABOVE_MAXPHY) },
		  GUEST_Q("27.3.1.5", "VMCS_LINK_POINTER must not set bits beyond MAXPHYADDR", 4) },
	};
	RUN(rows, valid_64, ALL_LAUNCH);
}

/* clang-format on */
