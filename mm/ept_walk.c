/*
 * ept_walk.c - a software walk of an EPT in guest memory (see
 * ept_walk.h): the entries read through a callback, checked per level for
 * the misconfigurations of SDM Vol. 3C 29.3.3.1, the rights ANDed along
 * the way (29.3.3.2), and the accessed/dirty flags set afterwards with
 * compare-exchange (29.3.5).
 */
#include "ept_walk.h"

#define MAX_LEVELS 5

/* Bits hi..lo (inclusive) set; none when hi < lo. */
static uint64_t bits(unsigned hi, unsigned lo)
{
	if (hi < lo)
		return 0;
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

unsigned ept_walk_levels(uint64_t eptp)
{
	return ((eptp & EPTP_WALK_LENGTH_MASK) >> EPTP_WALK_LENGTH_SHIFT) == 4 ? 5 : 4;
}

/* The entries the walk used, top-down, for the A/D update. */
struct trace {
	unsigned n;
	uint64_t pa[MAX_LEVELS];
	uint64_t val[MAX_LEVELS];
};

/*
 * SDM 29.3.3.1: whether a present entry at level (1 = PTE) is
 * misconfigured.  leaf: it maps a page (a PTE, or a PDPTE/PDE with bit 7).
 */
static bool misconfigured(const struct ept_walk_caps *caps, uint64_t e, unsigned level, bool leaf)
{
	unsigned r = (unsigned)(e & EPT_RWX);
	/* Write without read (010b, 110b); execute-only (100b) where not offered. */
	if ((r & EPT_ACCESS_WRITE) && !(r & EPT_ACCESS_READ))
		return true;
	if (r == EPT_ACCESS_FETCH && !caps->execute_only)
		return true;
	/* Bits 51:MAXPHYADDR are reserved in every entry (tables 29-1 .. 29-7). */
	unsigned m = caps->maxphyaddr < 32 ? 32 : (caps->maxphyaddr > 52 ? 52 : caps->maxphyaddr);
	if (e & bits(51, m))
		return true;
	if (!leaf) {
		/* PML5E, PML4E: bits 7:3 reserved; a PDPTE or PDE naming a table: bits 6:3. */
		return e & (level >= 4 ? bits(7, 3) : bits(6, 3));
	}
	/* A 1-GiB or 2-MiB leaf: the address bits below its size are reserved. */
	if (level == 3 && (!caps->page_1g || (e & bits(29, 12))))
		return true;
	if (level == 2 && (!caps->page_2m || (e & bits(20, 12))))
		return true;
	/* The leaf's memory type: 2, 3 and 7 are reserved (29.3.7.1). */
	unsigned type = (unsigned)((e >> EPT_MEMTYPE_SHIFT) & 7);
	return type == 2 || type == 3 || type == 7;
}

enum step {
	STEP_DONE,
	STEP_RESTART,
};

/* SDM 29.3.5: A in every entry used, D in the leaf for a write. */
static enum step set_ad(const struct ept_walk_mem *mem, const struct trace *t, bool write,
			struct ept_walk *out)
{
	if (!mem->cmpxchg)
		return STEP_DONE;
	for (unsigned i = 0; i < t->n; i++) {
		uint64_t want = t->val[i] | EPT_ACCESSED;
		if (write && i == t->n - 1)
			want |= EPT_DIRTY;
		if (want == t->val[i])
			continue;
		switch (mem->cmpxchg(mem->ctx, t->pa[i], t->val[i], want)) {
		case EPT_WALK_CAS_DONE:
			break;
		case EPT_WALK_CAS_CHANGED:
			return STEP_RESTART;
		case EPT_WALK_CAS_FAILED:
			out->ad_failed = true;
			break;
		}
	}
	return STEP_DONE;
}

static enum step walk_once(uint64_t eptp, const struct ept_walk_caps *caps,
			   const struct ept_walk_mem *mem, uint64_t gpa, unsigned access,
			   struct ept_walk *out)
{
	*out = (struct ept_walk){ .status = EPT_WALK_VIOLATION };
	unsigned levels = ept_walk_levels(eptp);
	/* An address beyond what the walk can translate has no translation. */
	if (gpa >> (12 + 9 * levels))
		return STEP_DONE;
	struct trace t = { 0 };
	unsigned rights = EPT_ACCESS_READ | EPT_ACCESS_WRITE | EPT_ACCESS_FETCH;
	uint64_t table = eptp & EPT_ADDR_MASK;
	for (unsigned level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t pa = table + ((gpa >> shift) & 511) * 8;
		uint64_t e;
		if (!mem->read(mem->ctx, pa, &e))
			e = ~0ull; /* non-existent memory reads as all ones */
		rights &= (unsigned)(e & EPT_RWX);
		/* SDM 29.3.3.2: bits 2:0 clear: not present, an EPT violation. */
		if (!(e & EPT_RWX)) {
			out->rights = 0;
			return STEP_DONE;
		}
		bool leaf = level == 1 || ((level == 2 || level == 3) && (e & EPT_LEAF));
		if (misconfigured(caps, e, level, leaf)) {
			*out = (struct ept_walk){ .status = EPT_WALK_MISCONFIG, .bad_level = level,
						  .bad_entry = e };
			return STEP_DONE;
		}
		t.pa[t.n] = pa;
		t.val[t.n] = e;
		t.n++;
		if (leaf) {
			out->rights = rights;
			/* SDM 29.3.3.2: the access needs every right it uses. */
			if ((access & rights) != access)
				return STEP_DONE;
			uint64_t size = 1ull << shift;
			out->pa = (e & EPT_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
			out->level = level;
			out->memtype = (unsigned)((e >> EPT_MEMTYPE_SHIFT) & 7);
			out->ipat = e & EPT_IGNORE_PAT;
			out->status = EPT_WALK_OK;
			if (!(eptp & EPTP_AD_ENABLE))
				return STEP_DONE;
			out->dirty = (e & EPT_DIRTY) || (access & EPT_ACCESS_WRITE);
			return set_ad(mem, &t, access & EPT_ACCESS_WRITE, out);
		}
		table = e & EPT_ADDR_MASK;
	}
	return STEP_DONE; /* not reached: level 1 is always a leaf */
}

enum ept_walk_status ept_walk(uint64_t eptp, const struct ept_walk_caps *caps,
			      const struct ept_walk_mem *mem, uint64_t gpa, unsigned access,
			      struct ept_walk *out)
{
	for (unsigned i = 0; i < EPT_WALK_MAX_TRIES; i++)
		if (walk_once(eptp, caps, mem, gpa, access, out) == STEP_DONE)
			return out->status;
	*out = (struct ept_walk){ .status = EPT_WALK_RETRY };
	return out->status;
}
