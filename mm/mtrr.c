/*
 * mtrr.c - the effective MTRR memory type of a physical range (see mtrr.h).
 *
 * The question the EPT builder asks is "does [base, base + size) have one
 * type, and which?" for ranges up to 1 GiB, thousands of times.  Looping
 * over every 4 KiB page would cost 2^18 lookups per GiB, so instead we walk
 * the range in runs: from an address a we compute, for every variable
 * range, the last address up to which its match status stays what it is at
 * a (exact for any mask, contiguous or not: see var_run_last), take the
 * smallest, and jump past it.  Inside a run the set of matching ranges, and
 * so the type, is constant.  A range with one type therefore costs one step
 * per boundary of a variable range inside it (none for the common layouts),
 * and a range with two types stops at the first change.  Only a variable
 * range with a non-contiguous mask can put many boundaries into a range
 * (one per mask "hole" period); that is the slow path, still exact.
 *
 * Below 1 MiB the fixed ranges are at most 88 runs.
 */
#include "mtrr.h"

#include "arch/x86/msr.h"

/* SDM Vol. 3A 12.11.2.2: the 11 fixed-range MSRs, in address order. */
static const uint32_t fixed_msrs[MTRR_NFIXED_MSRS] = {
    MSR_IA32_MTRR_FIX64K_00000, MSR_IA32_MTRR_FIX16K_80000, MSR_IA32_MTRR_FIX16K_A0000,
    MSR_IA32_MTRR_FIX4K_C0000,	MSR_IA32_MTRR_FIX4K_C8000,  MSR_IA32_MTRR_FIX4K_D0000,
    MSR_IA32_MTRR_FIX4K_D8000,	MSR_IA32_MTRR_FIX4K_E0000,  MSR_IA32_MTRR_FIX4K_E8000,
    MSR_IA32_MTRR_FIX4K_F0000,	MSR_IA32_MTRR_FIX4K_F8000,
};

void mtrr_init(struct mtrr_state *m, unsigned maxphyaddr)
{
	if (maxphyaddr < 12)
		maxphyaddr = MTRR_DEFAULT_MAXPHYADDR;
	if (maxphyaddr > 52)
		maxphyaddr = 52;
	m->enabled = false;
	m->fixed_enabled = false;
	m->has_fixed = false;
	m->def_type = MTRR_TYPE_UC;
	m->maxphyaddr = maxphyaddr;
	m->addr_mask = ((1ull << maxphyaddr) - 1) & ~0xfffull;
	m->vcnt = 0;
	m->nvar = 0;
	for (unsigned i = 0; i < MTRR_NFIXED; i++)
		m->fixed[i] = MTRR_TYPE_UC;
	for (unsigned i = 0; i < MTRR_MAX_VAR; i++) {
		m->var[i].base = 0;
		m->var[i].mask = 0;
		m->var[i].type = MTRR_TYPE_UC;
		m->var[i].valid = false;
	}
}

/*
 * SDM Vol. 3A 12.11.2.3: PHYSBASEn holds the type in bits 7:0 and the base
 * in bits MAXPHYADDR-1:12; PHYSMASKn the valid flag in bit 11 and the mask
 * in bits MAXPHYADDR-1:12.
 */
void mtrr_set_var(struct mtrr_state *m, unsigned n, uint64_t physbase, uint64_t physmask)
{
	if (n >= MTRR_MAX_VAR)
		return;
	struct mtrr_var *v = &m->var[n];
	v->mask = physmask & m->addr_mask;
	v->base = physbase & m->addr_mask & v->mask;
	v->type = (uint8_t)(physbase & MTRR_TYPE_FIELD_MASK);
	v->valid = physmask & MTRR_PHYSMASK_VALID;
	if (m->nvar < n + 1)
		m->nvar = n + 1;
}

void mtrr_from_msrs(struct mtrr_state *m, uint64_t cap, uint64_t def,
		    const uint64_t fixed[MTRR_NFIXED_MSRS], const uint64_t *var,
		    unsigned maxphyaddr)
{
	mtrr_init(m, maxphyaddr);

	/* SDM Vol. 3A 12.11.1: IA32_MTRRCAP.VCNT[7:0], FIX[8]. */
	m->vcnt = (unsigned)(cap & MTRRCAP_VCNT_MASK);
	m->has_fixed = cap & MTRRCAP_FIX;

	/* SDM Vol. 3A 12.11.2.1: IA32_MTRR_DEF_TYPE type[7:0], FE[10], E[11]. */
	m->enabled = def & MTRR_DEF_TYPE_E;
	m->fixed_enabled = m->has_fixed && (def & MTRR_DEF_TYPE_FE);
	m->def_type = (uint8_t)(def & MTRR_TYPE_FIELD_MASK);

	/* SDM Vol. 3A 12.11.2.2: eight types per MSR, lowest address in byte 0. */
	if (m->has_fixed) {
		for (unsigned i = 0; i < MTRR_NFIXED_MSRS; i++)
			for (unsigned b = 0; b < 8; b++)
				m->fixed[i * 8 + b] = (uint8_t)(fixed[i] >> (8 * b));
	}

	unsigned n = m->vcnt < MTRR_MAX_VAR ? m->vcnt : MTRR_MAX_VAR;
	for (unsigned i = 0; i < n; i++)
		mtrr_set_var(m, i, var[2 * i], var[2 * i + 1]);
	m->nvar = n;
}

void mtrr_read(struct mtrr_state *m, uint64_t (*rd)(uint32_t msr), unsigned maxphyaddr,
	       bool cpu_has_mtrr)
{
	/*
	 * SDM Vol. 3A 12.11.1: without CPUID.1:EDX.MTRR the MTRR MSRs do not
	 * exist (RDMSR would #GP).  We then treat memory as with E = 0: UC.
	 */
	if (!cpu_has_mtrr) {
		mtrr_init(m, maxphyaddr);
		return;
	}
	uint64_t cap = rd(MSR_IA32_MTRRCAP);
	uint64_t def = rd(MSR_IA32_MTRR_DEF_TYPE);
	uint64_t fixed[MTRR_NFIXED_MSRS] = { 0 };
	uint64_t var[2 * MTRR_MAX_VAR] = { 0 };
	if (cap & MTRRCAP_FIX) {
		for (unsigned i = 0; i < MTRR_NFIXED_MSRS; i++)
			fixed[i] = rd(fixed_msrs[i]);
	}
	unsigned vcnt = (unsigned)(cap & MTRRCAP_VCNT_MASK);
	unsigned n = vcnt < MTRR_MAX_VAR ? vcnt : MTRR_MAX_VAR;
	for (unsigned i = 0; i < n; i++) {
		var[2 * i] = rd(MSR_IA32_MTRR_PHYSBASE(i));
		var[2 * i + 1] = rd(MSR_IA32_MTRR_PHYSMASK(i));
	}
	mtrr_from_msrs(m, cap, def, fixed, var, maxphyaddr);
}

/*
 * SDM Vol. 3A 12.3 (the memory-type table) and 12.11.2: encodings 2, 3 and
 * 7-255 are reserved (writing one to an MTRR raises #GP).  Should one reach
 * us anyway, it counts as UC, the type that is never wrong for MMIO.
 */
static unsigned sane_type(unsigned t)
{
	switch (t) {
	case MTRR_TYPE_UC:
	case MTRR_TYPE_WC:
	case MTRR_TYPE_WT:
	case MTRR_TYPE_WP:
	case MTRR_TYPE_WB:
		return t;
	}
	return MTRR_TYPE_UC;
}

/*
 * SDM Vol. 3A 12.11.2.2: 0x00000-0x7ffff in 64 KiB units (entries 0-7),
 * 0x80000-0xbffff in 16 KiB units (8-23), 0xc0000-0xfffff in 4 KiB units
 * (24-87).  Returns the type at a (below 1 MiB) and the last address of its
 * fixed range.
 */
static unsigned fixed_type_at(const struct mtrr_state *m, uint64_t a, uint64_t *last)
{
	unsigned idx;
	uint64_t unit;
	if (a < 0x80000) {
		idx = (unsigned)(a >> 16);
		unit = 0x10000;
	} else if (a < 0xc0000) {
		idx = 8 + (unsigned)((a - 0x80000) >> 14);
		unit = 0x4000;
	} else {
		idx = 24 + (unsigned)((a - 0xc0000) >> 12);
		unit = 0x1000;
	}
	*last = a | (unit - 1);
	return sane_type(m->fixed[idx]);
}

static unsigned highest_bit(uint64_t v)
{
	return 63 - (unsigned)__builtin_clzll(v);
}

static unsigned lowest_bit(uint64_t v)
{
	return (unsigned)__builtin_ctzll(v);
}

/* Bits b..0 set (b <= 63). */
static uint64_t bits_upto(unsigned b)
{
	return b >= 63 ? ~0ull : (1ull << (b + 1)) - 1;
}

/*
 * The smallest x >= a with (x & mask) == t (t has no bits outside mask).
 * Returns false if there is none below 2^64.  The matching addresses are t
 * plus any value of the free (non-mask) bits, in the order of those bits.
 * Let d be the highest mask bit where a and t differ: if t has a 1 there,
 * keep a above d and take the smallest value below d; if t has a 0 there,
 * a's prefix must grow: set a's lowest free 0-bit above d and clear every
 * free bit below it.
 */
static bool next_match(uint64_t t, uint64_t mask, uint64_t a, uint64_t *x)
{
	uint64_t diff = (a ^ t) & mask;
	if (!diff) {
		*x = a;
		return true;
	}
	unsigned d = highest_bit(diff);
	if (t & (1ull << d)) {
		*x = (a & ~bits_upto(d)) | (t & bits_upto(d));
		return true;
	}
	uint64_t free0 = ~a & ~mask & ~bits_upto(d);
	if (!free0)
		return false;
	unsigned q = lowest_bit(free0);
	*x = (a & ~bits_upto(q)) | (1ull << q) | (t & bits_upto(q));
	return true;
}

/*
 * The last address of the run starting at a over which v's match status
 * (SDM Vol. 3A 12.11.2.3: (addr & mask) == (base & mask)) stays as at a.
 * Inside v, the run is a's aligned block of 2^k bytes, k the lowest mask
 * bit: adding 2^k flips bit k, a mask bit.  Outside, it ends just below the
 * next matching address.
 */
static uint64_t var_run_last(const struct mtrr_var *v, uint64_t a, bool hit)
{
	if (hit)
		return v->mask ? a | ((1ull << lowest_bit(v->mask)) - 1) : ~0ull;
	uint64_t x;
	if (a == ~0ull || !next_match(v->base, v->mask, a + 1, &x))
		return ~0ull;
	return x - 1;
}

/*
 * SDM Vol. 3A 12.11.4.1 "MTRR Precedences", for addresses the fixed ranges
 * do not decide: no variable range matches -> the default type; all that
 * match have one type -> that type; one of them is UC -> UC; they are WT
 * and WB -> WT.  Any other mix is undefined in the SDM: we choose UC, which
 * can cost speed but never correctness (a WC/WB mix read as WB could cache
 * a device's registers).
 */
static unsigned combine(unsigned seen, unsigned def_type)
{
	if (!seen)
		return sane_type(def_type);
	if (!(seen & (seen - 1)))
		return lowest_bit(seen);
	if (seen & (1u << MTRR_TYPE_UC))
		return MTRR_TYPE_UC;
	if (seen == ((1u << MTRR_TYPE_WT) | (1u << MTRR_TYPE_WB)))
		return MTRR_TYPE_WT;
	return MTRR_TYPE_UC;
}

/* The type at a from the variable ranges, and the last address of its run. */
static unsigned var_type_at(const struct mtrr_state *m, uint64_t a, uint64_t *last)
{
	unsigned seen = 0;
	uint64_t run_last = ~0ull;
	for (unsigned i = 0; i < m->nvar && i < MTRR_MAX_VAR; i++) {
		const struct mtrr_var *v = &m->var[i];
		if (!v->valid)
			continue;
		bool hit = (a & v->mask) == (v->base & v->mask);
		if (hit)
			seen |= 1u << sane_type(v->type);
		uint64_t l = var_run_last(v, a, hit);
		if (l < run_last)
			run_last = l;
	}
	*last = run_last;
	return combine(seen, m->def_type);
}

/*
 * Addresses at or above 2^maxphyaddr do not exist; the masks ignore those
 * bits, so such an address gets the type of its alias below 2^maxphyaddr.
 */
int mtrr_type_of_range(const struct mtrr_state *m, uint64_t base, uint64_t size)
{
	if (!size)
		return -1;
	uint64_t last = base + size - 1;
	if (last < base)
		return -1;
	/* SDM Vol. 3A 12.11.2.1 and 12.11.4.1: E = 0 makes all memory UC. */
	if (!m->enabled)
		return MTRR_TYPE_UC;
	/* SDM Vol. 3A 12.11.4.1: below 1 MiB, enabled fixed ranges win. */
	bool fixed = m->fixed_enabled && m->has_fixed;

	int type = -1;
	uint64_t a = base;
	for (;;) {
		uint64_t run_last;
		unsigned t;
		if (fixed && a < MTRR_FIXED_END)
			t = fixed_type_at(m, a, &run_last);
		else
			t = var_type_at(m, a, &run_last);
		if (type < 0)
			type = (int)t;
		else if ((int)t != type)
			return -1;
		if (run_last >= last)
			return type;
		if (run_last < a)
			return -1; /* cannot happen: runs never end before they start */
		a = run_last + 1;
	}
}

/*
 * SDM Vol. 3A 12.11.2.1: with E = 0 every address is UC, whatever the
 * other MTRRs hold.  Otherwise the decoded fields that decide a type
 * (12.11.4.1): FE with the fixed types, the default type, and the valid
 * variable ranges in order (an invalid one matches nothing).  Reserved
 * encodings compare as the UC they count as.
 */
bool mtrr_same_types(const struct mtrr_state *a, const struct mtrr_state *b)
{
	if (!a->enabled || !b->enabled)
		return a->enabled == b->enabled;
	if (a->maxphyaddr != b->maxphyaddr || sane_type(a->def_type) != sane_type(b->def_type))
		return false;
	bool fa = a->fixed_enabled && a->has_fixed, fb = b->fixed_enabled && b->has_fixed;
	if (fa != fb)
		return false;
	for (unsigned i = 0; fa && i < MTRR_NFIXED; i++)
		if (sane_type(a->fixed[i]) != sane_type(b->fixed[i]))
			return false;
	unsigned i = 0, j = 0;
	for (;;) {
		while (i < a->nvar && i < MTRR_MAX_VAR && !a->var[i].valid)
			i++;
		while (j < b->nvar && j < MTRR_MAX_VAR && !b->var[j].valid)
			j++;
		bool ea = i >= a->nvar || i >= MTRR_MAX_VAR, eb = j >= b->nvar || j >= MTRR_MAX_VAR;
		if (ea || eb)
			return ea && eb;
		const struct mtrr_var *x = &a->var[i++], *y = &b->var[j++];
		if (x->base != y->base || x->mask != y->mask ||
		    sane_type(x->type) != sane_type(y->type))
			return false;
	}
}

const char *mtrr_type_name(unsigned type)
{
	switch (type) {
	case MTRR_TYPE_UC:
		return "UC";
	case MTRR_TYPE_WC:
		return "WC";
	case MTRR_TYPE_WT:
		return "WT";
	case MTRR_TYPE_WP:
		return "WP";
	case MTRR_TYPE_WB:
		return "WB";
	}
	return "??";
}
