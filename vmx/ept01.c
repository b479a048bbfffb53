/*
 * ept01.c - EPT01 changed while L1 runs: memory types from L1's MTRRs, the
 * xAPIC page's rights from the APIC bases, and every CPU's INVEPT before
 * it runs L1 on stale entries (see ept01.h).
 *
 * The pages: `tables` counts the table pages linked into EPT01, retired[]
 * those a merge unlinked, each tagged with the generation that unlinked
 * it.  A change may take only limit - tables - nretired pages (struct
 * ept_pool), so tables + nretired <= limit at all times.  A retired page
 * goes back to the allocator once every CPU under L0 has flushed at its
 * generation or later: before that some CPU may still cache the entry
 * that pointed to it (SDM Vol. 3C 29.4.1: paging-structure caches), and
 * a page reused meanwhile would be walked as an EPT table.  A retired
 * table is left intact, a valid identity map of its range with the old
 * types, until then.
 */
#include "ept01.h"

#include "arch/x86/msr.h"
#include "arch/x86/spinlock.h"
#include "drivers/serial/log.h"
#include "hw_ops.h"
#include "l0.h"
#include "msr_policy.h"
#include "vcpu.h"
#include "vmx_arch.h"

_Static_assert(L1_MTRR_NFIXED == MTRR_NFIXED_MSRS, "L1's fixed-range MTRRs as mm/mtrr.h's");
_Static_assert(L1_MTRR_MAX_VAR <= MTRR_MAX_VAR, "L1's variable ranges fit mm/mtrr.h's");

struct ept01 {
	struct spinlock lock; /* everything below, and every change to EPT01 */
	bool on;
	struct page_alloc *pa;
	struct spinlock *pa_lock;
	uint64_t pml4;
	struct ept_options opt;
	struct mtrr_state types;   /* the MTRR state EPT01's types are from */
	struct mtrr_state scratch; /* the writer's, being compared */
	bool degraded;		   /* the last rewrite left ranges UC for want of pages */
	uint64_t tables, limit, rewrites;
	uint64_t shortages; /* rewrites that mapped ranges UC for want of pages */
	uint64_t retired[EPT01_RETIRED_MAX];
	uint64_t retired_gen[EPT01_RETIRED_MAX];
	unsigned nretired;
};

static struct ept01 e01;
static uint64_t e01_gen;		/* bumped after each change */
static uint64_t e01_flushed[MAX_CPUS]; /* the generation each CPU last flushed at */
static bool e01_no_invept_logged;

void ept01_init(struct page_alloc *pa, struct spinlock *pa_lock, uint64_t pml4,
		const struct ept_options *opt, const struct mtrr_state *types)
{
	spin_lock(&e01.lock);
	e01.pa = pa;
	e01.pa_lock = pa_lock;
	e01.pml4 = pml4 & EPT_ADDR_MASK;
	e01.opt = *opt;
	e01.types = *types;
	e01.degraded = false;
	e01.tables = ept_table_pages(e01.pml4);
	e01.limit = e01.tables + EPT01_SPARE_PAGES;
	e01.rewrites = e01.shortages = 0;
	__atomic_store_n(&e01.nretired, 0, __ATOMIC_RELAXED);
	e01.on = e01.pml4 != 0;
	spin_unlock(&e01.lock);
}

void ept01_reset(void)
{
	spin_lock(&e01.lock);
	e01.on = false;
	e01.pml4 = 0;
	e01.tables = e01.limit = e01.rewrites = e01.shortages = 0;
	__atomic_store_n(&e01.nretired, 0, __ATOMIC_RELAXED);
	spin_unlock(&e01.lock);
	__atomic_store_n(&e01_gen, 0, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < MAX_CPUS; i++)
		__atomic_store_n(&e01_flushed[i], 0, __ATOMIC_RELEASE);
	e01_no_invept_logged = false;
}

uint64_t ept01_generation(void)
{
	return __atomic_load_n(&e01_gen, __ATOMIC_ACQUIRE);
}

void ept01_get_state(struct ept01_state *st)
{
	spin_lock(&e01.lock);
	*st = (struct ept01_state){
		.generation = __atomic_load_n(&e01_gen, __ATOMIC_ACQUIRE),
		.tables = e01.tables,
		.retired = e01.nretired,
		.limit = e01.limit,
		.rewrites = e01.rewrites,
	};
	spin_unlock(&e01.lock);
}

/* The pages a change may take now, and where its unlinked tables go (under e01.lock). */
static struct ept_pool pool_now(void)
{
	uint64_t used = e01.tables + e01.nretired;
	return (struct ept_pool){
		.pa = e01.pa,
		.pa_lock = e01.pa_lock,
		.avail = used < e01.limit ? e01.limit - used : 0,
		.unlinked = &e01.retired[e01.nretired],
		.max_unlinked = EPT01_RETIRED_MAX - e01.nretired,
	};
}

/*
 * Books what a change took and unlinked, and publishes it as the next
 * generation: after every entry it wrote (release), so a CPU that sees
 * the new generation and then flushes walks only the new entries.
 */
static void publish(const struct ept_pool *pool)
{
	uint64_t gen = __atomic_load_n(&e01_gen, __ATOMIC_RELAXED) + 1;
	for (size_t i = 0; i < pool->nunlinked; i++)
		e01.retired_gen[e01.nretired + i] = gen;
	__atomic_store_n(&e01.nretired, e01.nretired + (unsigned)pool->nunlinked,
			 __ATOMIC_RELAXED);
	e01.tables = e01.tables + pool->taken - pool->nunlinked;
	__atomic_store_n(&e01_gen, gen, __ATOMIC_RELEASE);
}

/* Frees the retired tables no CPU can still cache (under e01.lock). */
static void reclaim(void)
{
	uint64_t low = __atomic_load_n(&e01_gen, __ATOMIC_ACQUIRE);
	unsigned n = __atomic_load_n(&g_l0.ncpus, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n && i < MAX_CPUS; i++) {
		const struct vcpu *v = g_l0.vcpus[i];
		if (!v || v->index >= MAX_CPUS)
			continue;
		uint64_t f = __atomic_load_n(&e01_flushed[v->index], __ATOMIC_ACQUIRE);
		if (f < low)
			low = f;
	}
	unsigned keep = 0;
	for (unsigned i = 0; i < e01.nretired; i++) {
		if (e01.retired_gen[i] <= low) {
			if (e01.pa_lock)
				spin_lock(e01.pa_lock);
			page_free(e01.pa, e01.retired[i], 1);
			if (e01.pa_lock)
				spin_unlock(e01.pa_lock);
			continue;
		}
		e01.retired[keep] = e01.retired[i];
		e01.retired_gen[keep] = e01.retired_gen[i];
		keep++;
	}
	__atomic_store_n(&e01.nretired, keep, __ATOMIC_RELAXED);
}

/*
 * SDM Vol. 3C 29.4.3.4: after changing an entry's rights from 1 to 0,
 * its address, bit 7, or a leaf's memory type (bits 5:3), INVEPT
 * single-context for the EPTP that references it: g_l0.eptp, the one
 * EPTP of vmcs01 and vmcs02.
 */
void vmx_ept01_sync(struct vcpu *v)
{
	uint64_t gen = __atomic_load_n(&e01_gen, __ATOMIC_ACQUIRE);
	if (v->index >= MAX_CPUS)
		return;
	if (__atomic_load_n(&e01_flushed[v->index], __ATOMIC_RELAXED) == gen)
		return;
	if (!hw_invept_single(g_l0.eptp)) {
		/* Its retired tables stay retired: they are never freed under this CPU. */
		if (!e01_no_invept_logged) {
			e01_no_invept_logged = true;
			log_warn("CPU %u: no INVEPT: EPT01's changes reach L1 as the CPU evicts "
				 "its cached translations",
				 v->index);
		}
		return;
	}
	__atomic_store_n(&e01_flushed[v->index], gen, __ATOMIC_RELEASE);
	if (__atomic_load_n(&e01.nretired, __ATOMIC_RELAXED)) {
		spin_lock(&e01.lock);
		reclaim();
		spin_unlock(&e01.lock);
	}
}

/* An L1 in a loop must not flood the log: the first 16 changes, then every 1024th. */
static bool log_this(uint64_t n)
{
	return n <= 16 || !(n & 1023);
}

static unsigned valid_ranges(const struct mtrr_state *m)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->nvar && i < MTRR_MAX_VAR; i++)
		n += m->var[i].valid;
	return n;
}

/* What a rewrite did, for its log line (taken under e01.lock). */
struct rewrite_note {
	uint64_t n, shortage, tables, retired, limit;
	bool enabled, fixed;
	unsigned def_type, ranges;
	struct ept_retype_stats st;
};

static void log_rewrite(const struct vcpu *v, const struct rewrite_note *w)
{
	if (w->shortage && log_this(w->shortage))
		log_warn("EPT01: no table page left (limit %llu): %llu ranges of several memory "
			 "types mapped UC (shortage %llu)",
			 (unsigned long long)w->limit, (unsigned long long)w->st.uc_fallback,
			 (unsigned long long)w->shortage);
	if (!log_this(w->n))
		return;
	if (w->enabled)
		log_info("EPT01: memory types from CPU %u's MTRRs: default %s, fixed ranges %s, "
			 "%u variable ranges; %llu leaves retyped, %llu split, %llu merged; "
			 "%llu table pages, %llu waiting for INVEPT, limit %llu (rewrite %llu)",
			 v->index, mtrr_type_name(w->def_type), w->fixed ? "on" : "off", w->ranges,
			 (unsigned long long)w->st.retyped, (unsigned long long)w->st.split,
			 (unsigned long long)w->st.merged, (unsigned long long)w->tables,
			 (unsigned long long)w->retired, (unsigned long long)w->limit,
			 (unsigned long long)w->n);
	else
		log_info("EPT01: memory types from CPU %u's MTRRs: disabled (E = 0), UC "
			 "everywhere; %llu leaves retyped, %llu merged; %llu table pages, %llu "
			 "waiting for INVEPT, limit %llu (rewrite %llu)",
			 v->index, (unsigned long long)w->st.retyped,
			 (unsigned long long)w->st.merged, (unsigned long long)w->tables, (unsigned long long)w->retired,
			 (unsigned long long)w->limit, (unsigned long long)w->n);
}

/*
 * SDM Vol. 3A 12.11.2: L1's MTRRs as v keeps them (IA32_MTRRCAP as L1
 * reads it: VCNT pairs, fixed ranges if FIX).
 */
static void l1_mtrr_state(struct mtrr_state *m, const struct msr_policy *p,
			  const struct l1_msrs *k)
{
	unsigned maxphy = p->maxphyaddr ? p->maxphyaddr : MTRR_DEFAULT_MAXPHYADDR;
	mtrr_from_msrs(m, p->mtrrcap, k->mtrr_def_type, k->mtrr_fixed, k->mtrr_var, maxphy);
}

/*
 * SDM Vol. 3C 29.3.7.2: with EPT, the leaf's memory type is used where
 * the MTRRs' would be; so L1's MTRRs reach its memory through EPT01.
 * "The writing CPU's" because the SDM (12.11.8) has every CPU hold the
 * same MTRRs: the last write is the one they agree on.
 */
void ept01_mtrr_written(struct vcpu *v, const struct msr_policy *p)
{
	if (!p->mtrr)
		return;
	spin_lock(&e01.lock);
	if (!e01.on) {
		spin_unlock(&e01.lock);
		return;
	}
	l1_mtrr_state(&e01.scratch, p, &v->msrs);
	/* Linux writes the same MTRR_DEF_TYPE again; a degraded EPT01 retries its splits. */
	if (!e01.degraded && mtrr_same_types(&e01.scratch, &e01.types)) {
		spin_unlock(&e01.lock);
		return;
	}
	e01.types = e01.scratch;
	struct ept_pool pool = pool_now();
	struct rewrite_note w = { 0 };
	ept_retype(e01.pml4, &e01.types, &e01.opt, &pool, &w.st);
	e01.degraded = w.st.uc_fallback != 0;
	bool changed = w.st.retyped || w.st.split || w.st.merged || w.st.uc_fallback ||
		       pool.taken || pool.nunlinked;
	if (changed)
		publish(&pool);
	w.n = ++e01.rewrites;
	w.shortage = w.st.uc_fallback ? ++e01.shortages : 0;
	w.tables = e01.tables;
	w.retired = e01.nretired;
	w.limit = e01.limit;
	w.enabled = e01.types.enabled;
	w.fixed = e01.types.fixed_enabled;
	w.def_type = e01.types.def_type;
	w.ranges = valid_ranges(&e01.types);
	spin_unlock(&e01.lock);
	if (changed)
		vmx_ept01_sync(v); /* the writing CPU at once */
	log_rewrite(v, &w);
}

/* Whether some CPU under L0 keeps its APIC base at page (under e01.lock). */
static bool apic_page_in_use(uint64_t page)
{
	unsigned n = __atomic_load_n(&g_l0.ncpus, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n && i < MAX_CPUS; i++) {
		const struct vcpu *v = g_l0.vcpus[i];
		if (v && (__atomic_load_n(&v->msrs.apic_base, __ATOMIC_ACQUIRE) &
			  APIC_BASE_ADDR_MASK) == page)
			return true;
	}
	return false;
}

/*
 * SDM Vol. 3A 11.4.4: each CPU's APIC sits at its own IA32_APIC_BASE;
 * EPT01 is shared, so the page stays read-only while any CPU's base is
 * there (its ICR writes are L0's, "Starting APs").  Every CPU stores its
 * new base before it takes the lock, so the last one to take it sees all.
 */
void ept01_apic_base_moved(struct vcpu *v)
{
	uint64_t page = g_l0.apic_page;
	if (!page)
		return;
	spin_lock(&e01.lock);
	if (!e01.on) {
		spin_unlock(&e01.lock);
		return;
	}
	bool want_ro = apic_page_in_use(page);
	unsigned perms = 0;
	bool mapped = ept_translate(e01.pml4, page, NULL, &perms, NULL, NULL);
	bool ro = mapped && !(perms & EPT_WRITE);
	enum { SAME, DONE, FAILED } what = SAME;
	bool published = false;
	if (mapped && want_ro != ro) {
		struct ept_pool pool = pool_now();
		what = FAILED;
		if (ept_set_page_rights_from(&pool, e01.pml4, page, want_ro ? EPT_READ : EPT_RWX)) {
			/* Uniform again: the split made at launch merges back. */
			if (!want_ro) {
				struct ept_retype_stats st;
				ept_retype(e01.pml4, &e01.types, &e01.opt, &pool, &st);
				e01.degraded = st.uc_fallback != 0;
			}
			what = DONE;
		}
		/* A failed split may still have linked a table (the same mapping): count it. */
		if (what == DONE || pool.taken) {
			publish(&pool);
			published = true;
		}
	}
	uint64_t n = what == SAME ? 0 : ++e01.rewrites;
	spin_unlock(&e01.lock);
	if (published)
		vmx_ept01_sync(v);
	if (what == SAME || !log_this(n))
		return;
	if (what == FAILED)
		log_warn("EPT01: cannot write-protect the local APIC page 0x%llx again (no table "
			 "page): INIT and SIPI there go to the hardware",
			 (unsigned long long)page);
	else if (want_ro)
		log_info("EPT01: local APIC page 0x%llx read-only again: CPU %u moved its APIC "
			 "base back (change %llu)",
			 (unsigned long long)page, v->index, (unsigned long long)n);
	else
		log_info("EPT01: local APIC page 0x%llx read/write/execute again: CPU %u moved "
			 "the last APIC base away from it (change %llu)",
			 (unsigned long long)page, v->index, (unsigned long long)n);
}
