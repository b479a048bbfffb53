/*
 * guest_walk.c - L1's linear-to-guest-physical translation (see
 * guest_walk.h): a software page walk over L1's page tables, read through
 * callbacks, with the CPU's reserved-bit and access-rights checks and its
 * page-fault error code.
 *
 * One walk function for the modes with 8-byte entries (PAE, 4-level,
 * 5-level) and one for 32-bit paging; both record the entries they read
 * so that the accessed and dirty flags can be set afterwards with
 * compare-exchange, and accumulate the access rights of the walk
 * (R/W and U/S ANDed, XD ORed) for the checks of SDM Vol. 3A 4.6.
 */
#include "guest_walk.h"

#define PAGE_4K 0x1000ull
#define PAGE_2M (1ull << 21)
#define PAGE_4M (1ull << 22)
#define PAGE_1G (1ull << 30)

#define MAX_LEVELS 5

/* The entries a walk used, top-down, for the A/D update. */
struct walk_trace {
	unsigned n;
	unsigned width; /* bytes per entry: 4 or 8 */
	uint64_t gpa[MAX_LEVELS];
	uint64_t val[MAX_LEVELS];
};

/* Access rights accumulated over the walk (SDM Vol. 3A 4.6.1). */
struct walk_rights {
	bool rw; /* R/W = 1 in every entry */
	bool us; /* U/S = 1 in every entry: a user-mode address */
	bool xd; /* XD = 1 in some entry, with IA32_EFER.NXE = 1 */
};

enum step {
	STEP_OK,
	STEP_FAILED,  /* out is filled (#PF or a refused read) */
	STEP_RESTART, /* an entry changed under the A/D update */
};

/* Bits hi..lo (inclusive) set; none when hi < lo. */
static uint64_t bits(unsigned hi, unsigned lo)
{
	if (hi < lo)
		return 0;
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

/* SDM Vol. 3A 4.1.4: MAXPHYADDR is at most 52; 32 is the least we model. */
static unsigned maxphyaddr(const struct guest_paging *g)
{
	if (g->maxphyaddr < 32)
		return 32;
	return g->maxphyaddr > 52 ? 52 : g->maxphyaddr;
}

/* SDM Vol. 3A 4.1.1, table 4-1: the paging mode from CR0.PG, CR4.PAE, EFER.LMA, CR4.LA57. */
enum gwalk_mode guest_paging_mode(const struct guest_paging *g)
{
	if (!(g->cr0 & CR0_PG))
		return GWALK_MODE_NONE;
	if (g->efer & EFER_LMA)
		return (g->cr4 & CR4_LA57) ? GWALK_MODE_5LEVEL : GWALK_MODE_4LEVEL;
	return (g->cr4 & CR4_PAE) ? GWALK_MODE_PAE : GWALK_MODE_32BIT;
}

static bool user_access(unsigned access)
{
	return (access & GWALK_USER) && !(access & GWALK_IMPLICIT);
}

/* Modes whose entries have an XD bit: PAE, 4-level, 5-level (SDM Vol. 3A 4.1.1). */
static bool has_xd(enum gwalk_mode mode)
{
	return mode >= GWALK_MODE_PAE;
}

/*
 * SDM Vol. 3A 4.7: P is the cause (0 not present; 1 protection or
 * reserved bit, with RSVD); W/R is 1 for a write, U/S for a user-mode
 * access, I/D for an instruction fetch when CR4.SMEP = 1 or when PAE,
 * 4-level or 5-level paging runs with IA32_EFER.NXE = 1.
 */
static enum step page_fault(const struct guest_paging *g, enum gwalk_mode mode, uint64_t la,
			    unsigned access, uint32_t cause, struct guest_walk *out)
{
	uint32_t ec = cause;
	if (access & GWALK_WRITE)
		ec |= PF_ERR_W;
	if (user_access(access))
		ec |= PF_ERR_U;
	if ((access & GWALK_FETCH) &&
	    ((g->cr4 & CR4_SMEP) || (has_xd(mode) && (g->efer & EFER_NXE))))
		ec |= PF_ERR_ID;
	out->status = GWALK_PAGE_FAULT;
	out->error_code = ec;
	out->cr2 = la;
	return STEP_FAILED;
}

static enum step read_entry(const struct guest_paging *g, uint64_t gpa, unsigned width,
			    struct walk_trace *t, uint64_t *val, struct guest_walk *out)
{
	uint64_t v = 0; /* little-endian: a 4-byte entry fills the low half */
	if (!g->read_gpa(g->ctx, gpa, &v, width)) {
		out->status = GWALK_MEM_FAILED;
		out->failed_gpa = gpa;
		return STEP_FAILED;
	}
	t->width = width;
	t->gpa[t->n] = gpa;
	t->val[t->n] = v;
	t->n++;
	*val = v;
	return STEP_OK;
}

static void accumulate(struct walk_rights *r, const struct guest_paging *g, enum gwalk_mode mode,
		       uint64_t e)
{
	r->rw = r->rw && (e & GW_PTE_RW);
	r->us = r->us && (e & GW_PTE_US);
	if (has_xd(mode) && (g->efer & EFER_NXE) && (e & GW_PTE_XD))
		r->xd = true;
}

/*
 * PAE paging's PDPTE (SDM Vol. 3A 4.4.1, "Format of a PAE
 * Page-Directory-Pointer-Table Entry"): bits 2:1, 8:5 and 63:MAXPHYADDR
 * are reserved.  From the PDPTE registers when the caller has them, else
 * from the 32-byte-aligned table at CR3[31:5].  PDPTEs carry no access
 * rights and no accessed flag (4.6, 4.8).
 */
static uint64_t pae_pdpte_reserved(const struct guest_paging *g)
{
	return bits(2, 1) | bits(8, 5) | bits(63, maxphyaddr(g));
}

enum pae_pdptes guest_load_pae_pdptes(const struct guest_paging *g, uint64_t pdpte[4],
				      unsigned *bad)
{
	if (!g->read_gpa(g->ctx, g->cr3 & 0xffffffe0ull, pdpte, 4 * sizeof(pdpte[0])))
		return PAE_PDPTES_UNREADABLE;
	for (unsigned i = 0; i < 4; i++) {
		if ((pdpte[i] & GW_PTE_P) && (pdpte[i] & pae_pdpte_reserved(g))) {
			if (bad)
				*bad = i;
			return PAE_PDPTES_RESERVED;
		}
	}
	return PAE_PDPTES_OK;
}

static enum step pae_pdpte(const struct guest_paging *g, uint64_t la, unsigned access, uint64_t *e,
			   struct guest_walk *out)
{
	unsigned i = (la >> 30) & 3;
	if (g->pdpte_valid) {
		*e = g->pdpte[i];
	} else {
		uint64_t gpa = (g->cr3 & 0xffffffe0ull) + 8 * i;
		if (!g->read_gpa(g->ctx, gpa, e, 8)) {
			out->status = GWALK_MEM_FAILED;
			out->failed_gpa = gpa;
			return STEP_FAILED;
		}
	}
	if (!(*e & GW_PTE_P))
		return page_fault(g, GWALK_MODE_PAE, la, access, 0, out);
	if (*e & pae_pdpte_reserved(g))
		return page_fault(g, GWALK_MODE_PAE, la, access, PF_ERR_P | PF_ERR_RSVD, out);
	return STEP_OK;
}

/*
 * PAE (SDM Vol. 3A 4.4.2), 4-level and 5-level (4.5.4) walks.  Per level:
 * not present (P = 0) stops with #PF P = 0; otherwise the reserved bits
 * of the entry's format stop with #PF P = 1, RSVD = 1:
 *   - all: address bits 51:M (4/5-level, bits 62:52 are ignored) or
 *     62:M (PAE), and XD (bit 63) when IA32_EFER.NXE = 0;
 *   - PML5E, PML4E: PS (bit 7);
 *   - PDPTE with PS = 1: bits 29:13, or PS itself without 1 GiB pages
 *     (CPUID.80000001H:EDX.Page1GB = 0);
 *   - PDE with PS = 1: bits 20:13.
 * A PDPTE (4/5-level) or PDE with PS = 1 maps a 1 GiB or 2 MiB page.
 */
static enum step walk_64(const struct guest_paging *g, enum gwalk_mode mode, uint64_t la,
			 unsigned access, struct walk_trace *t, struct walk_rights *r,
			 struct guest_walk *out)
{
	unsigned m = maxphyaddr(g);
	uint64_t addr_mask = bits(m - 1, 12);
	uint64_t rsvd_all = mode == GWALK_MODE_PAE ? bits(62, m) : bits(51, m);
	if (!(g->efer & EFER_NXE))
		rsvd_all |= GW_PTE_XD;

	unsigned level;
	uint64_t table;
	if (mode == GWALK_MODE_PAE) {
		uint64_t pdpte;
		if (pae_pdpte(g, la, access, &pdpte, out) != STEP_OK)
			return STEP_FAILED;
		level = 2;
		table = pdpte & addr_mask;
	} else {
		level = mode == GWALK_MODE_5LEVEL ? 5 : 4;
		table = g->cr3 & addr_mask;
	}

	for (;; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t e;
		if (read_entry(g, table + 8 * ((la >> shift) & 0x1ff), 8, t, &e, out) != STEP_OK)
			return STEP_FAILED;
		if (!(e & GW_PTE_P))
			return page_fault(g, mode, la, access, 0, out);

		bool leaf = level == 1 || (level <= 3 && (e & GW_PTE_PS));
		uint64_t rsvd = rsvd_all;
		if (level >= 4)
			rsvd |= GW_PTE_PS;
		else if (level == 3 && leaf)
			rsvd |= g->page_1g ? bits(29, 13) : GW_PTE_PS;
		else if (level == 2 && leaf)
			rsvd |= bits(20, 13);
		if (e & rsvd)
			return page_fault(g, mode, la, access, PF_ERR_P | PF_ERR_RSVD, out);

		accumulate(r, g, mode, e);
		if (leaf) {
			out->page_size = 1ull << shift;
			out->gpa =
			    (e & addr_mask & ~(out->page_size - 1)) | (la & (out->page_size - 1));
			return STEP_OK;
		}
		table = e & addr_mask;
	}
}

/*
 * 32-bit paging (SDM Vol. 3A 4.3): 4-byte entries, a page directory at
 * CR3[31:12] indexed by la[31:22], then a page table by la[21:12].  With
 * CR4.PSE = 1 a PDE with PS = 1 maps a 4 MiB page whose address bits 39:32
 * (PSE-36) are PDE bits 20:13, and bits 21:(M-19) are reserved, M =
 * min(MAXPHYADDR, 40) ("Format of a 32-Bit Page-Directory Entry that Maps
 * a 4-MByte Page").  With CR4.PSE = 0, PS is ignored.  Nothing else is
 * reserved in 32-bit paging; there is no XD.
 */
static enum step walk_32(const struct guest_paging *g, uint64_t la, unsigned access,
			 struct walk_trace *t, struct walk_rights *r, struct guest_walk *out)
{
	uint64_t pde, pte;
	uint64_t pd = g->cr3 & 0xfffff000ull;
	if (read_entry(g, pd + 4 * ((la >> 22) & 0x3ff), 4, t, &pde, out) != STEP_OK)
		return STEP_FAILED;
	if (!(pde & GW_PTE_P))
		return page_fault(g, GWALK_MODE_32BIT, la, access, 0, out);
	accumulate(r, g, GWALK_MODE_32BIT, pde);

	if ((g->cr4 & CR4_PSE) && (pde & GW_PTE_PS)) {
		unsigned m = maxphyaddr(g) < 40 ? maxphyaddr(g) : 40;
		if (pde & bits(21, m - 19))
			return page_fault(g, GWALK_MODE_32BIT, la, access, PF_ERR_P | PF_ERR_RSVD,
					  out);
		out->page_size = PAGE_4M;
		out->gpa =
		    (pde & 0xffc00000ull) | (((pde >> 13) & 0xff) << 32) | (la & (PAGE_4M - 1));
		return STEP_OK;
	}

	uint64_t pt = pde & 0xfffff000ull;
	if (read_entry(g, pt + 4 * ((la >> 12) & 0x3ff), 4, t, &pte, out) != STEP_OK)
		return STEP_FAILED;
	if (!(pte & GW_PTE_P))
		return page_fault(g, GWALK_MODE_32BIT, la, access, 0, out);
	accumulate(r, g, GWALK_MODE_32BIT, pte);
	out->page_size = PAGE_4K;
	out->gpa = (pte & 0xfffff000ull) | (la & (PAGE_4K - 1));
	return STEP_OK;
}

/*
 * SDM Vol. 3A 4.6.1 "Determination of Access Rights" (protection keys
 * aside).  A user-mode address has U/S = 1 in every entry; it is writable
 * with R/W = 1 in every entry; not executable with XD = 1 in any (NXE).
 *   - user-mode access: only user-mode addresses; writes need R/W; fetches
 *     need no XD (CR0.WP does not matter);
 *   - supervisor fetch: no XD, and not from a user-mode address with
 *     CR4.SMEP = 1;
 *   - supervisor data access to a user-mode address with CR4.SMAP = 1:
 *     only an explicit one with RFLAGS.AC = 1;
 *   - supervisor write: with CR0.WP = 1 only where R/W = 1 everywhere;
 *     with CR0.WP = 0 anywhere.
 */
static bool access_allowed(const struct guest_paging *g, unsigned access,
			   const struct walk_rights *r)
{
	bool user = user_access(access);
	if (access & GWALK_FETCH) {
		if (r->xd)
			return false;
		if (user)
			return r->us;
		return !(r->us && (g->cr4 & CR4_SMEP));
	}
	if (user)
		return r->us && (!(access & GWALK_WRITE) || r->rw);
	if (r->us && (g->cr4 & CR4_SMAP) && ((access & GWALK_IMPLICIT) || !g->rflags_ac))
		return false;
	return !(access & GWALK_WRITE) || !(g->cr0 & CR0_WP) || r->rw;
}

/*
 * SDM Vol. 3A 4.8: the CPU sets the accessed flag of every paging-structure
 * entry it used and, for a write, the dirty flag of the entry that maps the
 * page, with locked operations.  Here: only after a successful walk, top
 * down, each entry by compare-exchange against the value the walk read.
 */
static enum step set_accessed_dirty(const struct guest_paging *g, const struct walk_trace *t,
				    bool write, struct guest_walk *out)
{
	if (!g->cmpxchg_gpa)
		return STEP_OK;
	for (unsigned i = 0; i < t->n; i++) {
		uint64_t want = t->val[i] | GW_PTE_A;
		if (write && i == t->n - 1)
			want |= GW_PTE_D;
		if (want == t->val[i])
			continue;
		switch (g->cmpxchg_gpa(g->ctx, t->gpa[i], t->val[i], want, t->width)) {
		case GWALK_CAS_DONE:
			break;
		case GWALK_CAS_CHANGED:
			return STEP_RESTART;
		case GWALK_CAS_FAILED:
		default:
			out->status = GWALK_MEM_FAILED;
			out->failed_gpa = t->gpa[i];
			return STEP_FAILED;
		}
	}
	return STEP_OK;
}

/* SDM Vol. 1 3.3.7.1, Vol. 3A 4.5: bits 63:47 (63:56 with 5-level paging) equal. */
static bool canonical(uint64_t la, unsigned top_bit)
{
	uint64_t top = la >> top_bit;
	return top == 0 || top == (~0ull >> top_bit);
}

/* A refused access of la's: the memory's owner is told, and may take it as its fault. */
static enum gwalk_status mem_refused(const struct guest_paging *g, uint64_t la, bool paging,
				     unsigned la_rights, struct guest_walk *out)
{
	out->status = GWALK_MEM_FAILED;
	out->failed_la = la;
	out->failed_paging = paging;
	out->failed_la_rights = la_rights;
	if (g->refused && g->refused(g->ctx, out))
		out->status = GWALK_MEM_FAULT;
	return out->status;
}

static unsigned la_rights_of(const struct walk_rights *r)
{
	return (r->us ? GWALK_LA_USER : 0) | (r->rw ? GWALK_LA_WRITABLE : 0) |
	       (r->xd ? GWALK_LA_XD : 0);
}

enum gwalk_status guest_walk(const struct guest_paging *g, uint64_t la, unsigned access,
			     struct guest_walk *out)
{
	*out = (struct guest_walk){0};
	enum gwalk_mode mode = guest_paging_mode(g);

	/* SDM Vol. 3A 4.1.1: linear addresses are 32 bits outside IA-32e mode. */
	bool addr_ok = mode == GWALK_MODE_4LEVEL   ? canonical(la, 47)
		       : mode == GWALK_MODE_5LEVEL ? canonical(la, 56)
						   : la <= 0xffffffffull;
	if (!addr_ok) {
		out->status = GWALK_BAD_ADDRESS;
		return out->status;
	}

	/* SDM Vol. 3A 4.1.1: with CR0.PG = 0 the linear address is the physical one. */
	if (mode == GWALK_MODE_NONE) {
		out->status = GWALK_OK;
		out->gpa = la;
		out->page_size = PAGE_4K;
		return out->status;
	}

	for (unsigned tries = 0; tries < GWALK_MAX_TRIES; tries++) {
		struct walk_trace t = {0};
		struct walk_rights r = {.rw = true, .us = true, .xd = false};
		*out = (struct guest_walk){0};
		enum step s = mode == GWALK_MODE_32BIT ? walk_32(g, la, access, &t, &r, out)
						       : walk_64(g, mode, la, access, &t, &r, out);
		if (s != STEP_OK && out->status == GWALK_MEM_FAILED)
			return mem_refused(g, la, true, 0, out);
		if (s != STEP_OK)
			return out->status;
		if (!access_allowed(g, access, &r)) {
			page_fault(g, mode, la, access, PF_ERR_P, out);
			return out->status;
		}
		s = set_accessed_dirty(g, &t, access & GWALK_WRITE, out);
		if (s == STEP_RESTART)
			continue;
		if (s != STEP_OK)
			return mem_refused(g, la, true, 0, out);
		out->status = GWALK_OK;
		out->la_rights = la_rights_of(&r);
		return out->status;
	}
	*out = (struct guest_walk){.status = GWALK_RETRY};
	return out->status;
}

/*
 * The pages of a copy (at most two): each translated before any byte
 * moves.  Outside IA-32e mode the linear address wraps at 4 GiB (SDM Vol.
 * 3A 4.1.1: 32-bit linear addresses).
 */
struct copy_plan {
	unsigned n;
	uint64_t gpa[2], la[2];
	size_t len[2];
	unsigned la_rights[2];
};

static enum gwalk_status plan_copy(const struct guest_paging *g, uint64_t la, size_t len,
				   unsigned access, struct copy_plan *p, struct guest_walk *out)
{
	*out = (struct guest_walk){0};
	*p = (struct copy_plan){0};
	if (len > GWALK_COPY_MAX) {
		out->status = GWALK_TOO_LONG;
		return out->status;
	}
	bool wrap32 = guest_paging_mode(g) <= GWALK_MODE_PAE;
	struct guest_walk first = {.status = GWALK_OK};
	for (size_t done = 0; done < len; p->n++) {
		size_t in_page = PAGE_4K - (la & (PAGE_4K - 1));
		size_t chunk = in_page < len - done ? in_page : len - done;
		struct guest_walk w;
		if (guest_walk(g, la, access, &w) != GWALK_OK) {
			*out = w;
			return out->status;
		}
		if (p->n == 0)
			first = w;
		p->gpa[p->n] = w.gpa;
		p->la[p->n] = la;
		p->la_rights[p->n] = w.la_rights;
		p->len[p->n] = chunk;
		done += chunk;
		la += chunk;
		if (wrap32)
			la &= 0xffffffffull;
	}
	*out = first;
	return out->status;
}

enum gwalk_status guest_read_linear(const struct guest_paging *g, uint64_t la, void *buf,
				    size_t len, unsigned access, struct guest_walk *out)
{
	struct copy_plan p;
	if (plan_copy(g, la, len, access & ~GWALK_WRITE, &p, out) != GWALK_OK)
		return out->status;
	uint8_t *dst = buf;
	for (unsigned i = 0; i < p.n; i++) {
		if (!g->read_gpa(g->ctx, p.gpa[i], dst, p.len[i])) {
			*out = (struct guest_walk){.failed_gpa = p.gpa[i]};
			return mem_refused(g, p.la[i], false, p.la_rights[i], out);
		}
		dst += p.len[i];
	}
	return out->status;
}

enum gwalk_status guest_write_linear(const struct guest_paging *g, uint64_t la, const void *buf,
				     size_t len, unsigned access, struct guest_walk *out)
{
	struct copy_plan p;
	if (plan_copy(g, la, len, (access & ~GWALK_FETCH) | GWALK_WRITE, &p, out) != GWALK_OK)
		return out->status;
	const uint8_t *src = buf;
	for (unsigned i = 0; i < p.n; i++) {
		if (!g->write_gpa || !g->write_gpa(g->ctx, p.gpa[i], src, p.len[i])) {
			*out = (struct guest_walk){.failed_gpa = p.gpa[i]};
			return mem_refused(g, p.la[i], false, p.la_rights[i], out);
		}
		src += p.len[i];
	}
	return out->status;
}
