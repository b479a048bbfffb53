/*
 * entry_checks_guest.c - VM-entry checks on vmcs12's guest-state area, SDM
 * Vol. 3C 27.3.1 (entry_checks.h); a failure is a VM-entry failure (exit
 * reason 33), qualification 0 unless said.
 *
 * Not here: 27.3.1.6 (PDPTEs) of a PAE-paging guest (CR0.PG, CR4.PAE,
 * not IA-32e): the PDPTE fields with "enable EPT", else loaded from guest
 * memory at GUEST_CR3 (qualification 2), both in nested_load_l2_pdptes
 * (prepare02.c), which has L1's memory.  Checks on controls L1
 * cannot set are absent (entry_checks.c).  Unrestricted guest (offered
 * with nested EPT) relaxes exactly what the SDM says: CR0.PE and CR0.PG
 * unchecked against IA32_VMX_CR0_FIXED0 (PG still needs PE, an IA-32e
 * guest still PG), CS type 3 (DPL 0) allowed, the SS and data-segment
 * DPL/RPL checks and the SS/CS RPL check dropped; a real-mode guest
 * (CR0.PE = 0) has no base/limit rule of its own (virtual-8086 needs PE),
 * only SS.DPL = 0 and no error code injected (entry_checks.c).
 * Where the outcome depends on L1's CPUID (SGX for the enclave-interruption
 * bit, RTM for the RTM bit of the pending debug exceptions) the CPUID
 * part is not checked here: vmcs02 carries the same bits and the CPU
 * checks them against itself.
 */
#include "entry_checks.h"

#include "vmx/controls.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_bits.h"

#define F(name) VMCS12_FIELD(v, name)

/* Not (yet) in vmx/vmx_bits.h / vmx_arch.h. */
#define RFLAGS_RESERVED0 (~0ull << 22 | 1ull << 15 | 1ull << 5 | 1ull << 3) /* must be 0 */
/*
 * IA32_DEBUGCTL bits reserved on every CPU (SDM Vol. 3B 18.4.1): 63:16 and
 * 5:3.  Bit 2 is bus-lock detection on recent CPUs, reserved on others:
 * left to the CPU's own check of vmcs02 (unsure which CPUs define it).
 */
#define DEBUGCTL_RESERVED (~0ull << 16 | 0x38ull)
#define GUEST_INTR_STATE_ENCLAVE (1u << 4)
#define GUEST_INTR_STATE_RESERVED (~0ull << 5) /* bits 31:5 */
#define PENDING_DBG_ENABLED_BP (1ull << 12)
#define PENDING_DBG_RTM (1ull << 16)
/* 11:4, 13, 15, 63:17 */
#define PENDING_DBG_RESERVED (~0ull << 17 | 1ull << 15 | 1ull << 13 | 0xff0ull)
#define VMCS_LINK_POINTER_NONE (~0ull)
#define SEL_RPL(sel) (((unsigned)(sel)) & 3)
#define SEL_TI (1u << 2)
#define AR_TYPE(ar) (((unsigned)(ar)) & VMX_AR_TYPE_MASK)
#define AR_DPL(ar) (((unsigned)(ar) >> VMX_AR_DPL_SHIFT) & 3)
#define AR_TYPE_CODE 8u	    /* type bit 3: code segment */
#define AR_TYPE_READABLE 2u /* type bit 1 of a code segment */
#define AR_RESERVED_11_8 0xf00ull
#define AR_RESERVED_31_17 (~0ull << 17)
#define AR_V8086 0xf3ull

/* Segment registers in VMCS order. */
enum seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

struct seg_state {
	uint64_t sel, base, limit, ar;
	bool usable;
};

/* Everything the guest-state checks look at more than once. */
struct gctx {
	const struct vmx_caps *c;
	unsigned maxphyaddr, lw;
	uint32_t pin, entry, info;
	bool ia32e, ug, v8086, injecting;
	uint32_t type, vector; /* of the event injected, when injecting */
	uint64_t cr0, cr4, rflags;
	struct seg_state seg[SEG_COUNT];
};

static const struct nentry_section sec_regs = {NENTRY_FAIL_GUEST, "SDM 27.3.1.1"};
static const struct nentry_section sec_seg = {NENTRY_FAIL_GUEST, "SDM 27.3.1.2"};
static const struct nentry_section sec_dt = {NENTRY_FAIL_GUEST, "SDM 27.3.1.3"};
static const struct nentry_section sec_rip = {NENTRY_FAIL_GUEST, "SDM 27.3.1.4"};
static const struct nentry_section sec_nonreg = {NENTRY_FAIL_GUEST, "SDM 27.3.1.5"};

static void read_seg(const struct vmcs12 *v, struct seg_state *s, uint32_t sel, uint32_t base,
		     uint32_t limit, uint32_t ar)
{
	s->sel = vmcs12_get(v, sel);
	s->base = vmcs12_get(v, base);
	s->limit = vmcs12_get(v, limit);
	s->ar = vmcs12_get(v, ar);
	s->usable = !(s->ar & VMX_AR_UNUSABLE);
}

#define READ_SEG(g, v, R)                                                                          \
	read_seg(v, &(g)->seg[SEG_##R], VMCS_GUEST_##R##_SELECTOR, VMCS_GUEST_##R##_BASE,          \
		 VMCS_GUEST_##R##_LIMIT, VMCS_GUEST_##R##_AR_BYTES)

/* What the event checks read: the injected event, the pin controls, RFLAGS (eager fields). */
static void gctx_init_event(struct gctx *g, const struct vmcs12 *v, const struct vmx_caps *c)
{
	g->c = c;
	g->pin = (uint32_t)F(PIN_BASED_VM_EXEC_CONTROL);
	g->info = (uint32_t)F(VM_ENTRY_INTR_INFO_FIELD);
	g->injecting = g->info & INTR_INFO_VALID;
	g->type = g->info & INTR_INFO_TYPE_MASK;
	g->vector = g->info & INTR_INFO_VECTOR_MASK;
	g->rflags = F(GUEST_RFLAGS);
}

static void gctx_init(struct gctx *g, const struct vmcs12 *v, const struct vmx_caps *c,
		      unsigned maxphyaddr)
{
	gctx_init_event(g, v, c);
	g->maxphyaddr = maxphyaddr;
	g->lw = nentry_linear_width(c);
	g->entry = (uint32_t)F(VM_ENTRY_CONTROLS);
	g->ia32e = g->entry & ENTRY_IA32E_MODE_GUEST;
	g->ug = nentry_proc2(v) & CPU2_UNRESTRICTED_GUEST;
	g->cr0 = F(GUEST_CR0);
	g->cr4 = F(GUEST_CR4);
	g->v8086 = g->rflags & RFLAGS_VM;
	READ_SEG(g, v, ES);
	READ_SEG(g, v, CS);
	READ_SEG(g, v, SS);
	READ_SEG(g, v, DS);
	READ_SEG(g, v, FS);
	READ_SEG(g, v, GS);
	READ_SEG(g, v, LDTR);
	READ_SEG(g, v, TR);
}

/* ---- 27.3.1.1 control registers, debug registers and MSRs ---- */

static struct nested_entry_check check_guest_regs(const struct vmcs12 *v, const struct gctx *g)
{
	const struct nentry_section sec = sec_regs;
	const struct vmx_caps *c = g->c;
	uint64_t cr0 = g->cr0, cr4 = g->cr4, efer = F(GUEST_IA32_EFER);
	uint64_t cr0_fixed0 = vmx_cr0_fixed0(c, g->ug); /* PE, PG exempt with unrestricted guest */
	bool load_debug = g->entry & ENTRY_LOAD_DEBUG_CONTROLS;

	NENTRY_REQUIRE((cr0 & cr0_fixed0) == cr0_fixed0,
		       "GUEST_CR0: a bit fixed to 1 in VMX operation (IA32_VMX_CR0_FIXED0) is 0");
	NENTRY_REQUIRE(!(cr0 & ~c->cr0_fixed1),
		       "GUEST_CR0: a bit fixed to 0 in VMX operation (IA32_VMX_CR0_FIXED1) is 1");
	NENTRY_REQUIRE(!(cr0 & CR0_PG) || (cr0 & CR0_PE), "GUEST_CR0.PG = 1 requires GUEST_CR0.PE");
	NENTRY_REQUIRE((cr4 & c->cr4_fixed0) == c->cr4_fixed0,
		       "GUEST_CR4: a bit fixed to 1 in VMX operation (IA32_VMX_CR4_FIXED0) is 0");
	NENTRY_REQUIRE(!(cr4 & ~c->cr4_fixed1),
		       "GUEST_CR4: a bit fixed to 0 in VMX operation (IA32_VMX_CR4_FIXED1) is 1");
	NENTRY_REQUIRE(!(cr4 & CR4_CET) || (cr0 & CR0_WP), "GUEST_CR4.CET requires GUEST_CR0.WP");
	if (load_debug)
		NENTRY_REQUIRE(!(F(GUEST_IA32_DEBUGCTL) & DEBUGCTL_RESERVED),
			       "GUEST_IA32_DEBUGCTL reserved bits must be 0 (load debug controls)");
	if (g->ia32e) {
		NENTRY_REQUIRE(cr0 & CR0_PG, "GUEST_CR0.PG must be 1 for an IA-32e mode guest");
		NENTRY_REQUIRE(cr4 & CR4_PAE, "GUEST_CR4.PAE must be 1 for an IA-32e mode guest");
	} else {
		NENTRY_REQUIRE(!(cr4 & CR4_PCIDE),
			       "GUEST_CR4.PCIDE must be 0 when IA-32e mode guest is 0");
	}
	NENTRY_REQUIRE(nentry_phys_ok(F(GUEST_CR3), g->maxphyaddr),
		       "GUEST_CR3 must not set bits beyond MAXPHYADDR");
	if (load_debug)
		NENTRY_REQUIRE(!(F(GUEST_DR7) >> 32),
			       "GUEST_DR7 bits 63:32 must be 0 (load debug controls)");
	NENTRY_REQUIRE(nentry_canonical(F(GUEST_SYSENTER_ESP), g->lw),
		       "GUEST_SYSENTER_ESP must be canonical");
	NENTRY_REQUIRE(nentry_canonical(F(GUEST_SYSENTER_EIP), g->lw),
		       "GUEST_SYSENTER_EIP must be canonical");
	if (g->entry & ENTRY_LOAD_IA32_PAT)
		NENTRY_REQUIRE(
		    nentry_pat_valid(F(GUEST_IA32_PAT)),
		    "GUEST_IA32_PAT: every entry must be a valid memory type (load PAT)");
	if (g->entry & ENTRY_LOAD_IA32_EFER) {
		NENTRY_REQUIRE(!(efer & ~NENTRY_EFER_VALID),
			       "GUEST_IA32_EFER reserved bits must be 0 (load EFER)");
		NENTRY_REQUIRE(!(efer & EFER_LMA) == !g->ia32e,
			       "GUEST_IA32_EFER.LMA must equal IA-32e mode guest (load EFER)");
		NENTRY_REQUIRE(
		    !(cr0 & CR0_PG) || !(efer & EFER_LME) == !(efer & EFER_LMA),
		    "GUEST_IA32_EFER.LME must equal LMA when GUEST_CR0.PG = 1 (load EFER)");
	}
	return NENTRY_PASS;
}

/* ---- 27.3.1.2 segment registers ---- */

/* Texts of the access-rights checks every register has: "GUEST_<R>_...". */
enum { ST_P, ST_RSVD_11_8, ST_G0, ST_G1, ST_RSVD_31_17, ST_COUNT };
#define SEG_COMMON_TEXTS(R)                                                                        \
	{                                                                                          \
		[ST_P] = "GUEST_" R "_AR_BYTES: P must be 1",                                      \
		[ST_RSVD_11_8] = "GUEST_" R "_AR_BYTES reserved bits 11:8 must be 0",              \
		[ST_G0] = "GUEST_" R "_AR_BYTES: G must be 0 when a bit of limit 11:0 is 0",       \
		[ST_G1] = "GUEST_" R "_AR_BYTES: G must be 1 when a bit of limit 31:20 is 1",      \
		[ST_RSVD_31_17] = "GUEST_" R "_AR_BYTES reserved bits 31:17 must be 0",            \
	}
static const char *const seg_common_text[SEG_COUNT][ST_COUNT] = {
    [SEG_ES] = SEG_COMMON_TEXTS("ES"),	   [SEG_CS] = SEG_COMMON_TEXTS("CS"),
    [SEG_SS] = SEG_COMMON_TEXTS("SS"),	   [SEG_DS] = SEG_COMMON_TEXTS("DS"),
    [SEG_FS] = SEG_COMMON_TEXTS("FS"),	   [SEG_GS] = SEG_COMMON_TEXTS("GS"),
    [SEG_LDTR] = SEG_COMMON_TEXTS("LDTR"), [SEG_TR] = SEG_COMMON_TEXTS("TR"),
};

/* Texts of the checks of DS, ES, FS and GS (when usable). */
enum { DT_ACCESSED, DT_READABLE, DT_S, DT_DPL, DT_COUNT };
#define DATA_SEG_TEXTS(R)                                                                          \
	{                                                                                          \
		[DT_ACCESSED] = "GUEST_" R "_AR_BYTES: type bit 0 (accessed) must be 1",           \
		[DT_READABLE] = "GUEST_" R "_AR_BYTES: a code segment must be readable",           \
		[DT_S] = "GUEST_" R "_AR_BYTES: S must be 1",                                      \
		[DT_DPL] = "GUEST_" R "_AR_BYTES: DPL must not be less than the RPL of "           \
			   "GUEST_" R "_SELECTOR",                                                 \
	}
static const char *const data_seg_text[SEG_COUNT][DT_COUNT] = {
    [SEG_ES] = DATA_SEG_TEXTS("ES"),
    [SEG_DS] = DATA_SEG_TEXTS("DS"),
    [SEG_FS] = DATA_SEG_TEXTS("FS"),
    [SEG_GS] = DATA_SEG_TEXTS("GS"),
};

/* Texts of the virtual-8086 checks of CS, SS, DS, ES, FS and GS. */
enum { VT_BASE, VT_LIMIT, VT_AR, VT_COUNT };
#define V8086_TEXTS(R)                                                                             \
	{                                                                                          \
		[VT_BASE] = "GUEST_" R "_BASE must be the selector << 4 (virtual-8086)",           \
		[VT_LIMIT] = "GUEST_" R "_LIMIT must be 0xffff (virtual-8086)",                    \
		[VT_AR] = "GUEST_" R "_AR_BYTES must be 0xf3 (virtual-8086)",                      \
	}
static const char *const v8086_text[SEG_COUNT][VT_COUNT] = {
    [SEG_ES] = V8086_TEXTS("ES"), [SEG_CS] = V8086_TEXTS("CS"), [SEG_SS] = V8086_TEXTS("SS"),
    [SEG_DS] = V8086_TEXTS("DS"), [SEG_FS] = V8086_TEXTS("FS"), [SEG_GS] = V8086_TEXTS("GS"),
};

/* P, reserved bits and granularity: every register (when usable). */
static struct nested_entry_check check_seg_common(const struct gctx *g, enum seg r)
{
	const struct nentry_section sec = sec_seg;
	const char *const *t = seg_common_text[r];
	uint64_t ar = g->seg[r].ar, limit = g->seg[r].limit;

	NENTRY_REQUIRE(ar & VMX_AR_P, t[ST_P]);
	NENTRY_REQUIRE(!(ar & AR_RESERVED_11_8), t[ST_RSVD_11_8]);
	NENTRY_REQUIRE((limit & 0xfff) == 0xfff || !(ar & VMX_AR_G), t[ST_G0]);
	NENTRY_REQUIRE(!(limit & 0xfff00000) || (ar & VMX_AR_G), t[ST_G1]);
	NENTRY_REQUIRE(!(ar & AR_RESERVED_31_17), t[ST_RSVD_31_17]);
	return NENTRY_PASS;
}

static struct nested_entry_check check_v8086_seg(const struct gctx *g, enum seg r)
{
	const struct nentry_section sec = sec_seg;
	const char *const *t = v8086_text[r];
	const struct seg_state *s = &g->seg[r];

	NENTRY_REQUIRE(s->base == s->sel << 4, t[VT_BASE]);
	NENTRY_REQUIRE(s->limit == 0xffff, t[VT_LIMIT]);
	NENTRY_REQUIRE(s->ar == AR_V8086, t[VT_AR]);
	return NENTRY_PASS;
}

static struct nested_entry_check check_cs(const struct gctx *g)
{
	const struct nentry_section sec = sec_seg;
	uint64_t ar = g->seg[SEG_CS].ar;
	unsigned type = AR_TYPE(ar), dpl = AR_DPL(ar), ss_dpl = AR_DPL(g->seg[SEG_SS].ar);

	NENTRY_REQUIRE(type == 9 || type == 11 || type == 13 || type == 15 || (g->ug && type == 3),
		       "GUEST_CS_AR_BYTES type must be 9, 11, 13 or 15 (accessed code)");
	NENTRY_REQUIRE(ar & VMX_AR_S, "GUEST_CS_AR_BYTES: S must be 1");
	NENTRY_REQUIRE(type != 3 || dpl == 0,
		       "GUEST_CS_AR_BYTES: DPL must be 0 for type 3 (unrestricted guest)");
	NENTRY_REQUIRE((type != 9 && type != 11) || dpl == ss_dpl,
		       "GUEST_CS_AR_BYTES: DPL must equal the SS DPL (non-conforming code)");
	NENTRY_REQUIRE((type != 13 && type != 15) || dpl <= ss_dpl,
		       "GUEST_CS_AR_BYTES: DPL must not exceed the SS DPL (conforming code)");
	NENTRY_TRY(check_seg_common(g, SEG_CS));
	NENTRY_REQUIRE(!g->ia32e || !(ar & VMX_AR_L) || !(ar & VMX_AR_DB),
		       "GUEST_CS_AR_BYTES: D/B must be 0 when L = 1 in an IA-32e mode guest");
	return NENTRY_PASS;
}

/*
 * SS.  Its DPL is the CPL, so the DPL checks apply usable or not (the
 * SDM states them without "if usable"; unsure whether every CPU agrees).
 */
static struct nested_entry_check check_ss(const struct gctx *g)
{
	const struct nentry_section sec = sec_seg;
	const struct seg_state *ss = &g->seg[SEG_SS];
	unsigned type = AR_TYPE(ss->ar), dpl = AR_DPL(ss->ar);

	if (ss->usable) {
		NENTRY_REQUIRE(type == 3 || type == 7,
			       "GUEST_SS_AR_BYTES type must be 3 or 7 (read/write data)");
		NENTRY_REQUIRE(ss->ar & VMX_AR_S, "GUEST_SS_AR_BYTES: S must be 1");
	}
	NENTRY_REQUIRE(g->ug || dpl == SEL_RPL(ss->sel),
		       "GUEST_SS_AR_BYTES: DPL must equal the RPL of GUEST_SS_SELECTOR");
	NENTRY_REQUIRE(AR_TYPE(g->seg[SEG_CS].ar) != 3 || dpl == 0,
		       "GUEST_SS_AR_BYTES: DPL must be 0 when the CS type is 3");
	NENTRY_REQUIRE((g->cr0 & CR0_PE) || dpl == 0,
		       "GUEST_SS_AR_BYTES: DPL must be 0 when GUEST_CR0.PE is 0");
	if (ss->usable)
		NENTRY_TRY(check_seg_common(g, SEG_SS));
	return NENTRY_PASS;
}

/* DS, ES, FS, GS, when usable. */
static struct nested_entry_check check_data_seg(const struct gctx *g, enum seg r)
{
	const struct nentry_section sec = sec_seg;
	const char *const *t = data_seg_text[r];
	const struct seg_state *s = &g->seg[r];
	unsigned type = AR_TYPE(s->ar);

	if (!s->usable)
		return NENTRY_PASS;
	NENTRY_REQUIRE(type & VMX_AR_TYPE_ACCESSED, t[DT_ACCESSED]);
	NENTRY_REQUIRE(!(type & AR_TYPE_CODE) || (type & AR_TYPE_READABLE), t[DT_READABLE]);
	NENTRY_REQUIRE(s->ar & VMX_AR_S, t[DT_S]);
	/* Data or non-conforming code (types 0-11): DPL >= RPL. */
	NENTRY_REQUIRE(g->ug || type > 11 || AR_DPL(s->ar) >= SEL_RPL(s->sel), t[DT_DPL]);
	NENTRY_TRY(check_seg_common(g, r));
	return NENTRY_PASS;
}

static struct nested_entry_check check_tr(const struct gctx *g)
{
	const struct nentry_section sec = sec_seg;
	uint64_t ar = g->seg[SEG_TR].ar;
	unsigned type = AR_TYPE(ar);

	if (g->ia32e)
		NENTRY_REQUIRE(
		    type == 11,
		    "GUEST_TR_AR_BYTES type must be 11 (busy 64-bit TSS) in IA-32e mode");
	else
		NENTRY_REQUIRE(type == 3 || type == 11,
			       "GUEST_TR_AR_BYTES type must be 3 or 11 (busy TSS)");
	NENTRY_REQUIRE(!(ar & VMX_AR_S), "GUEST_TR_AR_BYTES: S must be 0");
	NENTRY_REQUIRE(!(ar & VMX_AR_UNUSABLE), "GUEST_TR_AR_BYTES: TR must be usable");
	NENTRY_TRY(check_seg_common(g, SEG_TR));
	return NENTRY_PASS;
}

static struct nested_entry_check check_ldtr(const struct gctx *g)
{
	const struct nentry_section sec = sec_seg;
	uint64_t ar = g->seg[SEG_LDTR].ar;

	if (!g->seg[SEG_LDTR].usable)
		return NENTRY_PASS;
	NENTRY_REQUIRE(AR_TYPE(ar) == 2, "GUEST_LDTR_AR_BYTES type must be 2 (LDT)");
	NENTRY_REQUIRE(!(ar & VMX_AR_S), "GUEST_LDTR_AR_BYTES: S must be 0");
	NENTRY_TRY(check_seg_common(g, SEG_LDTR));
	return NENTRY_PASS;
}

static struct nested_entry_check check_guest_segments(const struct gctx *g)
{
	const struct nentry_section sec = sec_seg;
	const struct seg_state *s = g->seg;

	/* Selectors. */
	NENTRY_REQUIRE(!(s[SEG_TR].sel & SEL_TI), "GUEST_TR_SELECTOR: TI must be 0");
	NENTRY_REQUIRE(!s[SEG_LDTR].usable || !(s[SEG_LDTR].sel & SEL_TI),
		       "GUEST_LDTR_SELECTOR: TI must be 0 (LDTR usable)");
	NENTRY_REQUIRE(g->v8086 || g->ug || SEL_RPL(s[SEG_SS].sel) == SEL_RPL(s[SEG_CS].sel),
		       "GUEST_SS_SELECTOR RPL must equal GUEST_CS_SELECTOR RPL");

	/* Base addresses (the virtual-8086 ones below). */
	NENTRY_REQUIRE(nentry_canonical(s[SEG_TR].base, g->lw), "GUEST_TR_BASE must be canonical");
	NENTRY_REQUIRE(nentry_canonical(s[SEG_FS].base, g->lw), "GUEST_FS_BASE must be canonical");
	NENTRY_REQUIRE(nentry_canonical(s[SEG_GS].base, g->lw), "GUEST_GS_BASE must be canonical");
	NENTRY_REQUIRE(!s[SEG_LDTR].usable || nentry_canonical(s[SEG_LDTR].base, g->lw),
		       "GUEST_LDTR_BASE must be canonical (LDTR usable)");
	NENTRY_REQUIRE(!(s[SEG_CS].base >> 32), "GUEST_CS_BASE bits 63:32 must be 0");
	NENTRY_REQUIRE(!s[SEG_SS].usable || !(s[SEG_SS].base >> 32),
		       "GUEST_SS_BASE bits 63:32 must be 0 (SS usable)");
	NENTRY_REQUIRE(!s[SEG_DS].usable || !(s[SEG_DS].base >> 32),
		       "GUEST_DS_BASE bits 63:32 must be 0 (DS usable)");
	NENTRY_REQUIRE(!s[SEG_ES].usable || !(s[SEG_ES].base >> 32),
		       "GUEST_ES_BASE bits 63:32 must be 0 (ES usable)");

	/* CS, SS, DS, ES, FS, GS: base, limit and access rights. */
	if (g->v8086) {
		NENTRY_TRY(check_v8086_seg(g, SEG_CS));
		NENTRY_TRY(check_v8086_seg(g, SEG_SS));
		NENTRY_TRY(check_v8086_seg(g, SEG_DS));
		NENTRY_TRY(check_v8086_seg(g, SEG_ES));
		NENTRY_TRY(check_v8086_seg(g, SEG_FS));
		NENTRY_TRY(check_v8086_seg(g, SEG_GS));
	} else {
		NENTRY_TRY(check_cs(g));
		NENTRY_TRY(check_ss(g));
		NENTRY_TRY(check_data_seg(g, SEG_DS));
		NENTRY_TRY(check_data_seg(g, SEG_ES));
		NENTRY_TRY(check_data_seg(g, SEG_FS));
		NENTRY_TRY(check_data_seg(g, SEG_GS));
	}

	/* TR and LDTR. */
	NENTRY_TRY(check_tr(g));
	NENTRY_TRY(check_ldtr(g));
	return NENTRY_PASS;
}

/* ---- 27.3.1.3 descriptor-table registers ---- */

static struct nested_entry_check check_guest_dtables(const struct vmcs12 *v, const struct gctx *g)
{
	const struct nentry_section sec = sec_dt;

	NENTRY_REQUIRE(nentry_canonical(F(GUEST_GDTR_BASE), g->lw),
		       "GUEST_GDTR_BASE must be canonical");
	NENTRY_REQUIRE(nentry_canonical(F(GUEST_IDTR_BASE), g->lw),
		       "GUEST_IDTR_BASE must be canonical");
	NENTRY_REQUIRE(!(F(GUEST_GDTR_LIMIT) >> 16), "GUEST_GDTR_LIMIT bits 31:16 must be 0");
	NENTRY_REQUIRE(!(F(GUEST_IDTR_LIMIT) >> 16), "GUEST_IDTR_LIMIT bits 31:16 must be 0");
	return NENTRY_PASS;
}

/* ---- 27.3.1.4 RIP and RFLAGS ---- */

static struct nested_entry_check check_rip(uint64_t rip, bool ia32e, uint64_t cs_ar, unsigned lw)
{
	const struct nentry_section sec = sec_rip;
	bool mode64 = ia32e && (cs_ar & VMX_AR_L);

	NENTRY_REQUIRE(mode64 || !(rip >> 32),
		       "GUEST_RIP bits 63:32 must be 0 unless IA-32e mode guest with CS.L = 1");
	/*
	 * 64-bit guest: bits 63:N identical, N the processor's linear-address
	 * width.  Not "canonical": the SDM lets bit N-1 differ from bit N.
	 */
	NENTRY_REQUIRE(!mode64 || (rip >> lw) == 0 || (rip >> lw) == ~0ull >> lw,
		       "GUEST_RIP bits 63:N must be identical (N: linear-address width)");
	return NENTRY_PASS;
}

struct nested_entry_check nested_check_guest_rip(const struct vmcs12 *v,
						 const struct vmx_caps *l1_caps)
{
	return check_rip(F(GUEST_RIP), F(VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST,
			 F(GUEST_CS_AR_BYTES), nentry_linear_width(l1_caps));
}

/*
 * ---- the checks of 27.3.1.4-5 that involve the injected event ----
 * Each sits in its section's group below, and all of them alone make
 * nested_check_guest_event.
 */
static struct nested_entry_check check_event_rflags(const struct gctx *g)
{
	const struct nentry_section sec = sec_rip;
	NENTRY_REQUIRE(!g->injecting || g->type != INTR_TYPE_EXT_INTR || (g->rflags & RFLAGS_IF),
		       "GUEST_RFLAGS.IF must be 1 when injecting an external interrupt");
	return NENTRY_PASS;
}

static struct nested_entry_check check_guest_rip_rflags(const struct vmcs12 *v,
							const struct gctx *g)
{
	const struct nentry_section sec = sec_rip;
	uint64_t rflags = g->rflags;

	NENTRY_TRY(check_rip(F(GUEST_RIP), g->ia32e, g->seg[SEG_CS].ar, g->lw));
	NENTRY_REQUIRE(!(rflags & RFLAGS_RESERVED0),
		       "GUEST_RFLAGS reserved bits 63:22, 15, 5 and 3 must be 0");
	NENTRY_REQUIRE(rflags & RFLAGS_RESERVED1, "GUEST_RFLAGS bit 1 must be 1");
	NENTRY_REQUIRE(!(rflags & RFLAGS_VM) || !g->ia32e,
		       "GUEST_RFLAGS.VM must be 0 for an IA-32e mode guest");
	NENTRY_REQUIRE(!(rflags & RFLAGS_VM) || (g->cr0 & CR0_PE),
		       "GUEST_RFLAGS.VM must be 0 when GUEST_CR0.PE is 0");
	NENTRY_TRY(check_event_rflags(g));
	return NENTRY_PASS;
}

/* ---- 27.3.1.5 non-register state ---- */

/* Whether the injected event may be delivered in activity state act (0-3). */
static bool event_allowed_in(uint64_t act, uint32_t type, uint32_t vector)
{
	switch (act) {
	case GUEST_ACTIVITY_ACTIVE:
		return true;
	case GUEST_ACTIVITY_HLT:
		return type == INTR_TYPE_EXT_INTR || type == INTR_TYPE_NMI ||
		       (type == INTR_TYPE_HARD_EXCEPTION &&
			(vector == VEC_DB || vector == VEC_MC)) ||
		       (type == INTR_TYPE_OTHER_EVENT && vector == 0);
	case GUEST_ACTIVITY_SHUTDOWN:
		return type == INTR_TYPE_NMI ||
		       (type == INTR_TYPE_HARD_EXCEPTION && vector == VEC_MC);
	default: /* wait-for-SIPI */
		return false;
	}
}

static struct nested_entry_check check_event_activity(const struct gctx *g, uint64_t act)
{
	const struct nentry_section sec = sec_nonreg;
	NENTRY_REQUIRE(!g->injecting || event_allowed_in(act, g->type, g->vector),
		       "VM_ENTRY_INTR_INFO_FIELD: event not allowed in GUEST_ACTIVITY_STATE");
	return NENTRY_PASS;
}

static struct nested_entry_check check_event_blocking(const struct gctx *g, uint64_t intr)
{
	const struct nentry_section sec = sec_nonreg;
	bool sti = intr & GUEST_INTR_STATE_STI, movss = intr & GUEST_INTR_STATE_MOV_SS;
	bool ext = g->injecting && g->type == INTR_TYPE_EXT_INTR;
	bool nmi = g->injecting && g->type == INTR_TYPE_NMI;

	NENTRY_REQUIRE(!ext || !sti, "GUEST_INTERRUPTIBILITY_INFO: blocking by STI must be 0 when "
				     "injecting an external interrupt");
	NENTRY_REQUIRE(!ext || !movss, "GUEST_INTERRUPTIBILITY_INFO: blocking by MOV SS must be 0 "
				       "when injecting an external interrupt");
	NENTRY_REQUIRE(!nmi || !movss, "GUEST_INTERRUPTIBILITY_INFO: blocking by MOV SS must be 0 "
				       "when injecting an NMI");
	/* Implementation-specific in the SDM (qualification 3); we are a CPU that fails. */
	NENTRY_REQUIRE_Q(!nmi || !sti, NENTRY_QUAL_NMI_STI,
			 "GUEST_INTERRUPTIBILITY_INFO: blocking by STI must be 0 when injecting an "
			 "NMI");
	NENTRY_REQUIRE(!nmi || !(g->pin & PIN_VIRTUAL_NMIS) || !(intr & GUEST_INTR_STATE_NMI),
		       "GUEST_INTERRUPTIBILITY_INFO: blocking by NMI must be 0 when injecting an "
		       "NMI with virtual NMIs");
	return NENTRY_PASS;
}

static struct nested_entry_check check_guest_nonreg(const struct vmcs12 *v, const struct gctx *g)
{
	const struct nentry_section sec = sec_nonreg;
	uint64_t act = F(GUEST_ACTIVITY_STATE), intr = F(GUEST_INTERRUPTIBILITY_INFO);
	uint64_t pde = F(GUEST_PENDING_DBG_EXCEPTIONS), link = F(VMCS_LINK_POINTER);
	bool sti = intr & GUEST_INTR_STATE_STI, movss = intr & GUEST_INTR_STATE_MOV_SS;

	/* Activity state: IA32_VMX_MISC[6+n-1] says whether state n (1-3) exists. */
	NENTRY_REQUIRE(act <= GUEST_ACTIVITY_WAIT_SIPI, "GUEST_ACTIVITY_STATE must be 0 to 3");
	NENTRY_REQUIRE(act == GUEST_ACTIVITY_ACTIVE || ((g->c->misc >> (5 + act)) & 1),
		       "GUEST_ACTIVITY_STATE not supported by IA32_VMX_MISC[8:6]");
	NENTRY_REQUIRE(act != GUEST_ACTIVITY_HLT || AR_DPL(g->seg[SEG_SS].ar) == 0,
		       "GUEST_ACTIVITY_STATE: HLT requires SS DPL 0");
	NENTRY_REQUIRE(act == GUEST_ACTIVITY_ACTIVE || (!sti && !movss),
		       "GUEST_ACTIVITY_STATE must be active with blocking by STI or MOV SS");
	NENTRY_TRY(check_event_activity(g, act));
	/* Wait-for-SIPI with "entry to SMM": refused as a control (27.2.1.3). */

	/* Interruptibility state. */
	NENTRY_REQUIRE(!(intr & GUEST_INTR_STATE_RESERVED),
		       "GUEST_INTERRUPTIBILITY_INFO reserved bits 31:5 must be 0");
	NENTRY_REQUIRE(!sti || !movss,
		       "GUEST_INTERRUPTIBILITY_INFO: blocking by STI and by MOV SS not both");
	NENTRY_REQUIRE(!sti || (g->rflags & RFLAGS_IF),
		       "GUEST_INTERRUPTIBILITY_INFO: blocking by STI requires RFLAGS.IF = 1");
	NENTRY_REQUIRE(!(intr & GUEST_INTR_STATE_SMI),
		       "GUEST_INTERRUPTIBILITY_INFO: blocking by SMI must be 0 outside SMM");
	NENTRY_TRY(check_event_blocking(g, intr));
	NENTRY_REQUIRE(!(intr & GUEST_INTR_STATE_ENCLAVE) || !movss,
		       "GUEST_INTERRUPTIBILITY_INFO: enclave interruption requires no blocking by "
		       "MOV SS");

	/* Pending debug exceptions. */
	NENTRY_REQUIRE(!(pde & PENDING_DBG_RESERVED),
		       "GUEST_PENDING_DBG_EXCEPTIONS reserved bits 11:4, 13, 15, 63:17 must be 0");
	if (sti || movss || act == GUEST_ACTIVITY_HLT) {
		bool bs = (g->rflags & RFLAGS_TF) && !(F(GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
		NENTRY_REQUIRE(!bs || (pde & PENDING_DBG_BS),
			       "GUEST_PENDING_DBG_EXCEPTIONS.BS must be 1 when RFLAGS.TF = 1 and "
			       "DEBUGCTL.BTF = 0 (blocking by STI/MOV SS or HLT)");
		NENTRY_REQUIRE(bs || !(pde & PENDING_DBG_BS),
			       "GUEST_PENDING_DBG_EXCEPTIONS.BS must be 0 when RFLAGS.TF = 0 or "
			       "DEBUGCTL.BTF = 1 (blocking by STI/MOV SS or HLT)");
	}
	if (pde & PENDING_DBG_RTM) {
		/* SDM: bits 11:0 and 15:13 0, bit 12 1 (15:13 from memory: unsure of BS). */
		NENTRY_REQUIRE(
		    !(pde & 0xefffull),
		    "GUEST_PENDING_DBG_EXCEPTIONS: bits 11:0 and 15:13 must be 0 with RTM");
		NENTRY_REQUIRE(pde & PENDING_DBG_ENABLED_BP,
			       "GUEST_PENDING_DBG_EXCEPTIONS: bit 12 must be 1 with RTM");
		NENTRY_REQUIRE(!movss, "GUEST_PENDING_DBG_EXCEPTIONS: RTM requires no blocking by "
				       "MOV SS");
	}

	/*
	 * VMCS link pointer other than FFFFFFFF_FFFFFFFFH: its format here;
	 * the checks that read the VMCS it names (revision, shadow-VMCS
	 * indicator) and compare it with the current-VMCS pointer follow
	 * these, as the last of the group (nested_check_link_pointer,
	 * nested/shadow12.h).
	 */
	if (link != VMCS_LINK_POINTER_NONE) {
		NENTRY_REQUIRE_Q(!(link & 0xfff), NENTRY_QUAL_LINK_POINTER,
				 "VMCS_LINK_POINTER bits 11:0 must be 0");
		NENTRY_REQUIRE_Q(nentry_phys_ok(link, g->maxphyaddr), NENTRY_QUAL_LINK_POINTER,
				 "VMCS_LINK_POINTER must not set bits beyond MAXPHYADDR");
	}
	return NENTRY_PASS;
}

struct nested_entry_check nested_check_guest_state(const struct vmcs12 *v,
						   const struct vmx_caps *l1_caps,
						   unsigned maxphyaddr)
{
	struct gctx g;

	gctx_init(&g, v, l1_caps, maxphyaddr);
	NENTRY_TRY(check_guest_regs(v, &g));
	NENTRY_TRY(check_guest_segments(&g));
	NENTRY_TRY(check_guest_dtables(v, &g));
	NENTRY_TRY(check_guest_rip_rflags(v, &g));
	NENTRY_TRY(check_guest_nonreg(v, &g));
	return NENTRY_PASS;
}

struct nested_entry_check nested_check_guest_event(const struct vmcs12 *v,
						   const struct vmx_caps *l1_caps)
{
	struct gctx g = {0};

	gctx_init_event(&g, v, l1_caps);
	NENTRY_TRY(check_event_rflags(&g));
	NENTRY_TRY(check_event_activity(&g, F(GUEST_ACTIVITY_STATE)));
	NENTRY_TRY(check_event_blocking(&g, F(GUEST_INTERRUPTIBILITY_INFO)));
	return NENTRY_PASS;
}
