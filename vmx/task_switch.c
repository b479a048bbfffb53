/*
 * task_switch.c - L1's hardware task switches (see task_switch.h).
 *
 * A task switch (CALL or JMP to a TSS or task gate, IRET with EFLAGS.NT,
 * an interrupt or exception through a task gate in the IDT) always exits
 * from VMX non-root (SDM Vol. 3C 26.4.2): 32-bit kernels use task gates
 * (32-bit Windows for NMI and #DF), so L0 performs the switch as SDM Vol.
 * 3A 8.3 orders it, for 32-bit TSSes:
 *   - the new TSS descriptor re-read and checked (the CPU checked it
 *     before the exit, but another CPU of L1 may have changed it since):
 *     a GDT selector within the limit, a 32-bit TSS, available (busy for
 *     IRET), present, limit >= 67H;
 *   - the old task's EIP, EFLAGS (NT cleared for IRET), GPRs and segment
 *     selectors saved in its TSS; its busy flag cleared (JMP, IRET);
 *   - CALL and task gates: the new TSS's previous-task link set, NT set;
 *     the new busy flag set (all but IRET);
 *   - CR0.TS set; CR3 loaded when paging is on, with the PAE PDPTEs
 *     (#GP(0) for a reserved bit); DR7.L0-L3 and LE cleared; TR, LDTR,
 *     EFLAGS, EIP, GPRs and the six segment registers loaded from the new
 *     TSS with the checks of SDM Vol. 3A 8.3 table 8-2 (#TS, #NP, #SS with
 *     the selector as error code) and accessed bits set; virtual-8086
 *     segments when the new EFLAGS.VM is 1;
 *   - in the new task, as the CPU (faults there are the new task's): an
 *     exception's error code (IDT-vectoring information) pushed on its
 *     stack (#SS, #PF), then EIP checked against the CS limit (#GP);
 *   - NMI blocking: set after an NMI delivered through a task gate,
 *     cleared by IRET (virtual NMIs; SDM Vol. 3C 26.3).
 * The privilege checks on gates and TSS descriptors are the CPU's: they
 * come before the exit (SDM Vol. 3C 26.4.2), so L0 does not repeat them.
 *
 * Where this differs from the CPU, and why:
 *   - The CPU checks the new task's LDT and segment descriptors after it
 *     committed to the switch and delivers their faults in the new task.
 *     L0 checks them before it changes anything and delivers the fault in
 *     the old task: a half-loaded task cannot be written to vmcs01 in a
 *     form the next VM entry accepts (SDM Vol. 3C 27.3.1.2), and the
 *     SDM's #TS handler must be a task of its own either way.
 *   - 16-bit TSSes (old or new): #UD with a log line, nothing changed.
 *   - The TSS's T flag (a debug trap after the switch) is not raised, and
 *     a fault of the switch itself is injected as it is, not combined
 *     with the event being delivered into #DF (SDM Vol. 3A 6.15, table 6-5).
 *   - Memory: every access goes through L1's paging (the old CR3 for the
 *     GDT and both TSSes, the new one for the LDT, segment descriptors and
 *     the error-code push) and l0_l1_memory().  A page fault is #PF; an
 *     address L0 refuses (its own memory, not mapped) is #GP(0), logged,
 *     as for L1's own accesses there (exit_ept_violation).  Every location
 *     is read, and checked writable in L1's paging, before the first
 *     write, so a failed switch leaves L1's memory and vmcs01 as they were.
 *     Only a write l1_memory refuses after its read succeeded (an EPT
 *     read-only page) can stop the switch half-way; it is logged.
 *
 * A switch in IA-32e mode cannot happen (the CPU raises #GP instead, SDM
 * Vol. 3C 26.4.2); should one be reported, L1 gets that #GP(0) and a log line.
 */
#include "task_switch.h"

#include "arch/x86/regs.h"
#include "drivers/serial/log.h"
#include "exit.h"
#include "hw_ops.h"
#include "l0.h"
#include "l1_memory.h"
#include "segment.h"
#include "vmcs.h"
#include "vmx_arch.h"

#define RFLAGS_NT (1ull << 14)
/* EFLAGS bits a TSS can load: all but the reserved 3, 5, 15, 31:22 (SDM Vol. 3A 2.3). */
#define EFLAGS_LOADABLE 0x003f7fd7ull
/* DR7.L0-L3 (SDM Vol. 3A 18.2.4) and LE: cleared on every task switch. */
#define DR7_TASK_LOCAL 0x155ull
#define AR_V8086 0xf3u /* present, DPL 3, read/write data, accessed (SDM Vol. 3C 27.3.1.2) */

/* Segment registers in architectural (and TSS) order; the VMCS fields are 2 apart. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

struct ts_fault {
	unsigned vector;
	bool has_error;
	uint32_t error;
	uint64_t cr2; /* #PF */
	const char *what;
};

/* One switch: what was read and decided before anything is written. */
struct ts {
	struct vcpu *v;
	struct guest_paging pg;	    /* the old task's paging */
	struct guest_paging new_pg; /* with the new task's CR3 */
	unsigned src;
	uint16_t sel, old_sel;
	uint32_t ext;	 /* error-code bit 0: the switch delivers an external event */
	bool push_error; /* an exception error code goes on the new stack */
	uint32_t error_code;
	uint64_t gdt_base;
	uint32_t gdt_limit;
	bool old_desc_busy; /* the old TSS descriptor is in the GDT and busy: clear it */
	struct vmx_segment tr, ldtr, seg[SEG_COUNT];
	bool set_accessed[SEG_COUNT];
	uint64_t desc_la[SEG_COUNT];	     /* where each descriptor is */
	uint8_t tss[TSS32_SIZE];	     /* the new TSS */
	uint8_t save[TSS32_LDT - TSS32_EIP]; /* the old TSS's EIP..GS, as they will be written */
	unsigned cpl;
	uint64_t rflags;
	bool load_cr3, pae;
	uint64_t pdpte[4];
	struct ts_fault fault;
};

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t x)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(x >> (8 * i));
}

static bool fail(struct ts *t, unsigned vector, bool has_error, uint32_t error, const char *what)
{
	t->fault = (struct ts_fault){vector, has_error, error, 0, what};
	return false;
}

/* A selector's fault: error code = selector index and TI, with EXT (SDM Vol. 3A 6.13). */
static bool fail_sel(struct ts *t, unsigned vector, uint16_t sel, const char *what)
{
	return fail(t, vector, true, (sel & 0xfffcu) | t->ext, what);
}

/* A failed walk or copy: #PF as the walk says; an address L0 refuses is #GP(0), logged. */
static bool fail_walk(struct ts *t, const struct guest_walk *w, const char *what)
{
	if (w->status == GWALK_PAGE_FAULT) {
		fail(t, VEC_PF, true, w->error_code, what);
		t->fault.cr2 = w->cr2;
		return false;
	}
	t->v->l0_refusals++;
	if (t->v->l0_refusals <= 16 || (t->v->l0_refusals & 1023) == 0)
		log_warn("CPU %u: task switch to TSS 0x%x: %s at GPA 0x%llx is refused (not L1 "
			 "memory): #GP(0) to L1 (refusal %llu)",
			 t->v->index, t->sel, what, (unsigned long long)w->failed_gpa,
			 (unsigned long long)t->v->l0_refusals);
	return fail(t, VEC_GP, true, 0, what);
}

static bool read_la(struct ts *t, const struct guest_paging *g, uint64_t la, void *buf, size_t len,
		    unsigned access, const char *what)
{
	struct guest_walk w;
	if (guest_read_linear(g, la & 0xffffffffull, buf, len, access, &w) != GWALK_OK)
		return fail_walk(t, &w, what);
	return true;
}

/*
 * Reads the bytes into buf (len <= TSS32_SIZE; NULL: nowhere) and checks
 * that L1's paging lets the access write them.
 */
static bool probe_la(struct ts *t, const struct guest_paging *g, uint64_t la, void *buf, size_t len,
		     unsigned access, const char *what)
{
	uint8_t scratch[TSS32_SIZE];
	struct guest_walk w;
	la &= 0xffffffffull;
	if (!read_la(t, g, la, buf ? buf : scratch, len, access, what))
		return false;
	for (uint64_t p = la; p < la + len; p = (p & ~0xfffull) + 0x1000)
		if (guest_walk(g, p & 0xffffffffull, access | GWALK_WRITE, &w) != GWALK_OK)
			return fail_walk(t, &w, what);
	return true;
}

static bool write_la(struct ts *t, const struct guest_paging *g, uint64_t la, const void *buf,
		     size_t len, unsigned access, const char *what)
{
	struct guest_walk w;
	if (guest_write_linear(g, la & 0xffffffffull, buf, len, access, &w) != GWALK_OK)
		return fail_walk(t, &w, what);
	return true;
}

static struct vmx_segment decode(uint16_t sel, uint64_t d)
{
	struct vmx_segment s = {sel, 0, 0, 0};
	s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	s.limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));
	s.ar = (uint32_t)((d >> 40) & 0xf0ff);
	if (s.ar & VMX_AR_G)
		s.limit = (s.limit << 12) | 0xfff;
	return s;
}

static unsigned dpl_of(uint32_t ar)
{
	return (ar >> VMX_AR_DPL_SHIFT) & 3;
}

/*
 * The descriptor for sel in the GDT, or with TI = 1 in the new LDT, read
 * through the new task's paging; beyond the table's limit it is #TS(sel).
 */
static bool read_desc(struct ts *t, uint16_t sel, uint64_t *d, uint64_t *la, const char *what)
{
	uint64_t base = t->gdt_base, limit = t->gdt_limit;
	if (sel & 4) {
		if (t->ldtr.ar & VMX_AR_UNUSABLE)
			return fail_sel(t, VEC_TS, sel, what);
		base = t->ldtr.base;
		limit = t->ldtr.limit;
	}
	if ((uint64_t)(sel & 0xfff8u) + 7 > limit)
		return fail_sel(t, VEC_TS, sel, what);
	*la = (base + (sel & 0xfff8u)) & 0xffffffffull;
	return read_la(t, &t->new_pg, *la, d, 8, GWALK_IMPLICIT, what);
}

/* The new LDTR (SDM Vol. 3A 8.3 table 8-2): null is unusable, else an LDT in the GDT. */
static bool load_ldtr(struct ts *t, uint16_t sel)
{
	t->ldtr = (struct vmx_segment){sel, 0, 0, VMX_AR_UNUSABLE};
	if ((sel & 0xfffc) == 0)
		return true;
	uint64_t d, la;
	if (sel & 4)
		return fail_sel(t, VEC_TS, sel, "the new LDT selector points into an LDT");
	if (!read_desc(t, sel, &d, &la, "the new LDT descriptor"))
		return false;
	struct vmx_segment s = decode(sel, d);
	if ((s.ar & (VMX_AR_S | VMX_AR_TYPE_MASK)) != DESC_TYPE_LDT)
		return fail_sel(t, VEC_TS, sel, "the new LDT descriptor is not an LDT");
	if (!(s.ar & VMX_AR_P))
		return fail_sel(t, VEC_TS, sel, "the new LDT is not present");
	t->ldtr = s;
	return true;
}

/*
 * One segment register of the new task, checked as SDM Vol. 3A 8.3 table
 * 8-2 orders (and the #TS/#NP/#SS pages of chapter 6 word them).
 */
static bool load_seg(struct ts *t, unsigned n, uint16_t sel)
{
	static const char *const name[SEG_COUNT] = {"ES", "CS", "SS", "DS", "FS", "GS"};
	if ((sel & 0xfffc) == 0) {
		if (n == SEG_CS || n == SEG_SS)
			return fail_sel(t, VEC_TS, sel, name[n]);
		t->seg[n] = (struct vmx_segment){sel, 0, 0, VMX_AR_UNUSABLE};
		return true;
	}
	uint64_t d;
	if (!read_desc(t, sel, &d, &t->desc_la[n], name[n]))
		return false;
	struct vmx_segment s = decode(sel, d);
	unsigned dpl = dpl_of(s.ar), rpl = sel & 3;
	bool code = s.ar & VMX_AR_TYPE_CODE, rw = s.ar & VMX_AR_TYPE_RW;
	bool conforming = code && (s.ar & 4);
	unsigned not_present = VEC_NP;
	if (!(s.ar & VMX_AR_S))
		return fail_sel(t, VEC_TS, sel, name[n]);
	if (n == SEG_SS) {
		if (rpl != t->cpl || code || !rw || dpl != t->cpl)
			return fail_sel(t, VEC_TS, sel, name[n]);
		not_present = VEC_SS;
	} else if (n == SEG_CS) {
		if (!code || (conforming ? dpl > t->cpl : dpl != t->cpl))
			return fail_sel(t, VEC_TS, sel, name[n]);
	} else {
		if ((code && !rw) || (!conforming && (dpl < t->cpl || dpl < rpl)))
			return fail_sel(t, VEC_TS, sel, name[n]);
	}
	if (!(s.ar & VMX_AR_P))
		return fail_sel(t, not_present, sel, name[n]);
	/* Loading a segment marks its descriptor accessed (SDM Vol. 3A 3.4.5.1). */
	if (!(s.ar & VMX_AR_TYPE_ACCESSED)) {
		if (!probe_la(t, &t->new_pg, t->desc_la[n] + 5, NULL, 1, GWALK_IMPLICIT, name[n]))
			return false;
		t->set_accessed[n] = true;
		s.ar |= VMX_AR_TYPE_ACCESSED;
	}
	t->seg[n] = s;
	return true;
}

/* The new TSS descriptor (SDM Vol. 3A 8.3 steps 1-4 and the JMP/CALL/IRET/INT pseudo-code). */
static bool check_new_tss(struct ts *t)
{
	bool iret = t->src == TS_SOURCE_IRET;
	unsigned bad_type = iret ? VEC_TS : VEC_GP;
	if ((t->sel & 4) || (t->sel & 0xfff8u) == 0 ||
	    (uint64_t)(t->sel & 0xfff8u) + 7 > t->gdt_limit)
		return fail_sel(t, bad_type, t->sel, "the new TSS selector is not in the GDT");
	uint64_t d;
	if (!read_la(t, &t->pg, t->gdt_base + (t->sel & 0xfff8u), &d, 8, GWALK_IMPLICIT,
		     "the new TSS descriptor"))
		return false;
	t->tr = decode(t->sel, d);
	unsigned type = t->tr.ar & (VMX_AR_S | VMX_AR_TYPE_MASK);
	if ((type & ~DESC_TYPE_TSS_BUSY_BIT) == DESC_TYPE_TSS16_AVAIL)
		return fail(t, VEC_UD, false, 0, "a 16-bit TSS (not supported by L0)");
	if ((type & ~DESC_TYPE_TSS_BUSY_BIT) != DESC_TYPE_TSS32_AVAIL)
		return fail_sel(t, bad_type, t->sel, "the new TSS descriptor is not a TSS");
	if (iret != (type == DESC_TYPE_TSS32_BUSY))
		return fail_sel(t, bad_type, t->sel,
				iret ? "the new TSS is not busy" : "the new TSS is busy");
	if (!(t->tr.ar & VMX_AR_P))
		return fail_sel(t, VEC_NP, t->sel, "the new TSS is not present");
	if (t->tr.limit < TSS32_MIN_LIMIT)
		return fail_sel(t, VEC_TS, t->sel, "the new TSS limit is below 67H");
	t->tr.ar = (t->tr.ar & ~VMX_AR_TYPE_MASK) | DESC_TYPE_TSS32_BUSY;
	return true;
}

/* The old task's state, as step 8 of SDM Vol. 3A 8.3 saves it (figure 8-2). */
static void fill_save(struct ts *t, const struct guest_regs *r, uint64_t eip)
{
	uint8_t *s = t->save;
	uint64_t eflags = vmcs_read(VMCS_GUEST_RFLAGS);
	if (t->src == TS_SOURCE_IRET)
		eflags &= ~RFLAGS_NT; /* step 7 */
	put32(s + TSS32_EIP - TSS32_EIP, (uint32_t)eip);
	put32(s + TSS32_EFLAGS - TSS32_EIP, (uint32_t)eflags);
	for (unsigned i = 0; i < GPR_R8; i++)
		put32(s + TSS32_EAX - TSS32_EIP + 4 * i, (uint32_t)vmx_gpr_read(r, i));
	for (unsigned n = 0; n < SEG_COUNT; n++) {
		uint16_t sel = (uint16_t)vmcs_read(VMCS_GUEST_ES_SELECTOR + 2 * n);
		s[TSS32_ES - TSS32_EIP + 4 * n] = (uint8_t)sel;
		s[TSS32_ES - TSS32_EIP + 4 * n + 1] = (uint8_t)(sel >> 8);
	}
}

/* The new task's CR3 and, for PAE paging, its PDPTEs (SDM Vol. 3A 4.4.1, 8.3 step 12). */
static bool plan_paging(struct ts *t)
{
	t->new_pg = t->pg;
	t->load_cr3 = t->pg.cr0 & CR0_PG; /* without paging the CR3 field is read, not loaded */
	if (!t->load_cr3)
		return true;
	t->new_pg.cr3 = get32(t->tss + TSS32_CR3);
	t->new_pg.rflags_ac = t->rflags & RFLAGS_AC;
	t->pae = guest_paging_mode(&t->pg) == GWALK_MODE_PAE;
	if (!t->pae)
		return true;
	switch (guest_load_pae_pdptes(&t->new_pg, t->pdpte, NULL)) {
	case PAE_PDPTES_OK:
		break;
	case PAE_PDPTES_UNREADABLE: {
		struct guest_walk w = {.status = GWALK_MEM_FAILED,
				       .failed_gpa = t->new_pg.cr3 & 0xffffffe0ull};
		return fail_walk(t, &w, "the new task's PDPTEs");
	}
	case PAE_PDPTES_RESERVED:
		return fail(t, VEC_GP, true, 0, "a new PDPTE sets a reserved bit");
	}
	t->new_pg.pdpte_valid = true;
	for (unsigned i = 0; i < 4; i++)
		t->new_pg.pdpte[i] = t->pdpte[i];
	return true;
}

/* Everything read and checked; nothing written.  False: t->fault, for the old task. */
static bool plan(struct ts *t, const struct guest_regs *r, uint64_t old_eip)
{
	t->gdt_base = vmcs_read(VMCS_GUEST_GDTR_BASE) & 0xffffffffull;
	t->gdt_limit = (uint32_t)vmcs_read(VMCS_GUEST_GDTR_LIMIT) & 0xffff;
	t->old_sel = (uint16_t)vmcs_read(VMCS_GUEST_TR_SELECTOR);
	if (!check_new_tss(t))
		return false;
	if ((vmcs_read(VMCS_GUEST_TR_AR_BYTES) & VMX_AR_TYPE_MASK) == DESC_TYPE_TSS16_BUSY)
		return fail(t, VEC_UD, false, 0,
			    "the old TSS is a 16-bit TSS (not supported by L0)");
	uint64_t old_base = vmcs_read(VMCS_GUEST_TR_BASE);
	if (!read_la(t, &t->pg, t->tr.base, t->tss, TSS32_SIZE, GWALK_IMPLICIT, "the new TSS"))
		return false;
	if (!probe_la(t, &t->pg, old_base + TSS32_EIP, t->save, sizeof(t->save), GWALK_IMPLICIT,
		      "the old TSS"))
		return false;
	fill_save(t, r, old_eip);
	/* Steps 6 and 10: busy flags; 8.4: the link of a nested task. */
	bool nest = t->src == TS_SOURCE_CALL || t->src == TS_SOURCE_GATE;
	if (t->src == TS_SOURCE_JMP || t->src == TS_SOURCE_IRET) {
		uint64_t od = 0;
		uint64_t la = t->gdt_base + (t->old_sel & 0xfff8u);
		if (!(t->old_sel & 4) && (uint64_t)(t->old_sel & 0xfff8u) + 7 <= t->gdt_limit) {
			if (!probe_la(t, &t->pg, la, &od, 8, GWALK_IMPLICIT,
				      "the old TSS descriptor"))
				return false;
			t->old_desc_busy = ((od >> 40) & 0x1f) == DESC_TYPE_TSS32_BUSY;
		}
	}
	if (nest && !probe_la(t, &t->pg, t->tr.base + TSS32_LINK, NULL, 2, GWALK_IMPLICIT,
			      "the new TSS's link"))
		return false;
	if (t->src != TS_SOURCE_IRET &&
	    !probe_la(t, &t->pg, t->gdt_base + (t->sel & 0xfff8u) + 5, NULL, 1, GWALK_IMPLICIT,
		      "the new TSS descriptor"))
		return false;
	/* Step 9: EFLAGS from the new TSS, NT for a nested task. */
	t->rflags = (get32(t->tss + TSS32_EFLAGS) & EFLAGS_LOADABLE) | RFLAGS_RESERVED1;
	if (nest)
		t->rflags |= RFLAGS_NT;
	if (!plan_paging(t))
		return false;
	/* Steps 12-13: LDTR, then the segment registers at the new CPL. */
	uint16_t sel[SEG_COUNT];
	for (unsigned n = 0; n < SEG_COUNT; n++)
		sel[n] = (uint16_t)get32(t->tss + TSS32_ES + 4 * n);
	if (!load_ldtr(t, (uint16_t)get32(t->tss + TSS32_LDT)))
		return false;
	if (t->rflags & RFLAGS_VM) {
		t->cpl = 3;
		for (unsigned n = 0; n < SEG_COUNT; n++)
			t->seg[n] =
			    (struct vmx_segment){sel[n], (uint64_t)sel[n] << 4, 0xffff, AR_V8086};
		return true;
	}
	t->cpl = sel[SEG_CS] & 3;
	static const unsigned order[SEG_COUNT] = {SEG_SS, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};
	for (unsigned i = 0; i < SEG_COUNT; i++)
		if (!load_seg(t, order[i], sel[order[i]]))
			return false;
	return true;
}

static bool set_desc_type_byte(struct ts *t, const struct guest_paging *g, uint64_t desc_la,
			       uint8_t clear, uint8_t set, const char *what)
{
	uint8_t b;
	if (!read_la(t, g, desc_la + 5, &b, 1, GWALK_IMPLICIT, what))
		return false;
	b = (uint8_t)((b & ~clear) | set);
	return write_la(t, g, desc_la + 5, &b, 1, GWALK_IMPLICIT, what);
}

/* L1's memory: old TSS, busy flags, link, accessed bits (all probed by plan). */
static bool commit_memory(struct ts *t)
{
	uint64_t old_base = vmcs_read(VMCS_GUEST_TR_BASE);
	if (!write_la(t, &t->pg, old_base + TSS32_EIP, t->save, sizeof(t->save), GWALK_IMPLICIT,
		      "the old TSS"))
		return false;
	if (t->old_desc_busy &&
	    !set_desc_type_byte(t, &t->pg, t->gdt_base + (t->old_sel & 0xfff8u),
				DESC_TYPE_TSS_BUSY_BIT, 0, "the old TSS descriptor"))
		return false;
	if (t->src == TS_SOURCE_CALL || t->src == TS_SOURCE_GATE) {
		uint8_t link[2] = {(uint8_t)t->old_sel, (uint8_t)(t->old_sel >> 8)};
		if (!write_la(t, &t->pg, t->tr.base + TSS32_LINK, link, 2, GWALK_IMPLICIT,
			      "the new TSS's link"))
			return false;
	}
	if (t->src != TS_SOURCE_IRET &&
	    !set_desc_type_byte(t, &t->pg, t->gdt_base + (t->sel & 0xfff8u), 0,
				DESC_TYPE_TSS_BUSY_BIT, "the new TSS descriptor"))
		return false;
	for (unsigned n = 0; n < SEG_COUNT; n++)
		if (t->set_accessed[n] &&
		    !set_desc_type_byte(t, &t->new_pg, t->desc_la[n], 0, VMX_AR_TYPE_ACCESSED,
					"a segment descriptor"))
			return false;
	return true;
}

static void write_seg(unsigned n, const struct vmx_segment *s)
{
	vmcs_write(VMCS_GUEST_ES_SELECTOR + 2 * n, s->selector);
	vmcs_write(VMCS_GUEST_ES_BASE + 2 * n, s->base);
	vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * n, s->limit);
	vmcs_write(VMCS_GUEST_ES_AR_BYTES + 2 * n, s->ar);
}

/* vmcs01 and the frame: the new task is current (SDM Vol. 3A 8.3 steps 11-13). */
static void commit_state(struct ts *t, struct guest_regs *r)
{
	write_seg(7, &t->tr); /* TR: the field after LDTR, 2 apart like the others */
	write_seg(6, &t->ldtr);
	for (unsigned n = 0; n < SEG_COUNT; n++)
		write_seg(n, &t->seg[n]);
	/* CR0.TS (SDM Vol. 3A 2.5): in the shadow too if L0 owns it. */
	vmcs_set_bits(VMCS_GUEST_CR0, CR0_TS);
	if (vmcs_read(VMCS_CR0_GUEST_HOST_MASK) & CR0_TS)
		vmcs_set_bits(VMCS_CR0_READ_SHADOW, CR0_TS);
	if (t->load_cr3) {
		vmcs_write(VMCS_GUEST_CR3, t->new_pg.cr3);
		if (t->pae) {
			vmcs_write(VMCS_GUEST_PDPTE0, t->pdpte[0]);
			vmcs_write(VMCS_GUEST_PDPTE1, t->pdpte[1]);
			vmcs_write(VMCS_GUEST_PDPTE2, t->pdpte[2]);
			vmcs_write(VMCS_GUEST_PDPTE3, t->pdpte[3]);
		}
		/* A VMWRITE of CR3 flushes nothing: L1's VPID keeps the old translations. */
		if (g_l0.vpid)
			hw_invvpid_single(L1_VPID);
	}
	vmcs_clear_bits(VMCS_GUEST_DR7, DR7_TASK_LOCAL);
	vmcs_write(VMCS_GUEST_RIP, get32(t->tss + TSS32_EIP));
	vmcs_write(VMCS_GUEST_RFLAGS, t->rflags);
	for (unsigned i = 0; i < GPR_R8; i++)
		vmx_gpr_write(r, i, get32(t->tss + TSS32_EAX + 4 * i));
	/* The switch completed an instruction or delivered an event: no STI/MOV-SS shadow. */
	uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	intr &= ~(uint64_t)(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
	/* Virtual NMIs (SDM Vol. 3C 26.3): IRET unblocks, a delivered NMI blocks. */
	if (g_l0.pin & PIN_VIRTUAL_NMIS) {
		uint32_t idt = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO_FIELD);
		if (t->src == TS_SOURCE_IRET)
			intr &= ~(uint64_t)GUEST_INTR_STATE_NMI;
		else if (t->src == TS_SOURCE_GATE && (idt & INTR_INFO_VALID) &&
			 (idt & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI)
			intr |= GUEST_INTR_STATE_NMI;
	}
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO, intr);
}

/*
 * In the new task (the INT pseudo-code after SWITCH-TASKS): the error code
 * pushed on its stack (4 bytes for a 32-bit TSS; #SS(EXT) past the stack
 * limit), then EIP against the CS limit (#GP(EXT)).
 */
static bool new_task_checks(struct ts *t)
{
	if (t->push_error) {
		const struct vmx_segment *ss = &t->seg[SEG_SS];
		bool big = ss->ar & VMX_AR_DB;
		uint32_t esp = (uint32_t)vmcs_read(VMCS_GUEST_RSP);
		uint32_t top = big ? 0xffffffffu : 0xffffu;
		uint32_t off = (esp - 4) & top;
		bool expand_down = !(ss->ar & VMX_AR_TYPE_CODE) && (ss->ar & 4);
		bool ok = expand_down ? off > ss->limit && off <= top - 3
				      : off <= ss->limit && ss->limit - off >= 3;
		if (!ok)
			return fail(t, VEC_SS, true, t->ext,
				    "the error code is beyond the new stack");
		uint8_t code[4];
		put32(code, t->error_code);
		unsigned access = t->cpl == 3 ? GWALK_USER : 0;
		if (!write_la(t, &t->new_pg, ss->base + off, code, 4, access,
			      "the error code on the new stack"))
			return false;
		vmcs_write(VMCS_GUEST_RSP, big ? off : (esp & ~0xffffu) | off);
	}
	if (vmcs_read(VMCS_GUEST_RIP) > t->seg[SEG_CS].limit)
		return fail(t, VEC_GP, true, t->ext, "the new EIP is beyond the CS limit");
	return true;
}

static void inject_fault(const struct ts *t)
{
	log_debug("CPU %u: task switch to TSS 0x%x: exception %u (error 0x%x) to L1: %s",
		  t->v->index, t->sel, t->fault.vector, t->fault.error, t->fault.what);
	if (t->fault.vector == VEC_PF)
		hw_set_cr2(t->fault.cr2); /* CR2 is not in the VMCS */
	vmx_inject_exception(t->fault.vector, t->fault.has_error, t->fault.error);
}

static const char *const source_name[4] = {"CALL", "IRET", "JMP", "task gate"};

void exit_task_switch(struct vcpu *v, struct guest_regs *r)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	struct ts t = {0};
	t.v = v;
	t.src = TS_QUAL_SOURCE(q);
	t.sel = TS_QUAL_SELECTOR(q);
	if ((vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA) || !(vmcs_read(VMCS_GUEST_CR0) & CR0_PE)) {
		log_error("CPU %u: task switch exit (%s to 0x%x) outside protected mode or in "
			  "IA-32e mode, where none exists: #GP(0) to L1",
			  v->index, source_name[t.src], t.sel);
		vmx_inject_gp0();
		return;
	}
	/*
	 * The old EIP: past the instruction for CALL/JMP/IRET and software
	 * interrupts/exceptions (the exit gives its length), else the RIP the
	 * event would have pushed (SDM Vol. 3C 28.2.4, 28.3.3).
	 */
	uint64_t eip = vmcs_read(VMCS_GUEST_RIP);
	uint32_t idt = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO_FIELD);
	uint32_t type = idt & INTR_INFO_TYPE_MASK;
	bool event = t.src == TS_SOURCE_GATE && (idt & INTR_INFO_VALID);
	bool hw_event = event && (type == INTR_TYPE_EXT_INTR || type == INTR_TYPE_NMI ||
				  type == INTR_TYPE_HARD_EXCEPTION);
	if (!hw_event)
		eip += vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN);
	t.ext = hw_event || (event && type == INTR_TYPE_PRIV_SW_EXCEPTION) ? 1 : 0;
	t.push_error =
	    hw_event && type == INTR_TYPE_HARD_EXCEPTION && (idt & INTR_INFO_DELIVER_CODE);
	t.error_code = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE);
	l1_paging_of_current(&t.pg, l0_l1_memory());

	if (!plan(&t, r, eip)) {
		/* Logged the first 16 times, then every 1024th: L1 may loop on it. */
		static unsigned unsupported;
		if (t.fault.vector == VEC_UD && (++unsupported <= 16 || (unsupported & 1023) == 0))
			log_warn("CPU %u: task switch (%s) to TSS 0x%x: %s: #UD to L1", v->index,
				 source_name[t.src], t.sel, t.fault.what);
		inject_fault(&t);
		return;
	}
	if (!commit_memory(&t)) {
		log_error("CPU %u: task switch (%s) to TSS 0x%x abandoned after L1's memory was "
			  "partly written (%s)",
			  v->index, source_name[t.src], t.sel, t.fault.what);
		inject_fault(&t);
		return;
	}
	commit_state(&t, r);
	log_debug("CPU %u: task switch (%s) from TSS 0x%x to 0x%x, EIP 0x%llx", v->index,
		  source_name[t.src], t.old_sel, t.sel,
		  (unsigned long long)vmcs_read(VMCS_GUEST_RIP));
	if (!new_task_checks(&t))
		inject_fault(&t);
}
