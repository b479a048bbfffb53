/*
 * ept02.c - EPT02 roots and leaves (see ept02.h): a small LRU of roots
 * keyed by L1's EPTP, 4-KiB leaves made on demand, table pages counted
 * against a per-CPU bound.  Addresses are identity, as in mm/ept.c.
 */
#include "ept02.h"

#include "arch/x86/spinlock.h"
#include "mm/ept_walk.h"
#include "vmx/vmx_arch.h"

#define ENTRIES 512
#define TABLE_RIGHTS EPT_RWX /* a table entry grants all; the leaf decides */

static uint64_t *table_of(uint64_t pa)
{
	return (uint64_t *)(uintptr_t)pa;
}

static uint64_t alloc_page(struct ept02 *c)
{
	if (c->pa_lock)
		spin_lock(c->pa_lock);
	uint64_t p = page_alloc(c->pa, 1, 1);
	if (c->pa_lock)
		spin_unlock(c->pa_lock);
	return p;
}

static void free_page(struct ept02 *c, uint64_t p)
{
	if (c->pa_lock)
		spin_lock(c->pa_lock);
	page_free(c->pa, p, 1);
	if (c->pa_lock)
		spin_unlock(c->pa_lock);
}

/* A zeroed table page: the allocator's, else the reserve's; 0 at the bound. */
static uint64_t take_page(struct ept02 *c)
{
	if (c->pages >= c->max_pages)
		return 0;
	uint64_t p = alloc_page(c);
	if (!p && c->nreserve) {
		p = c->reserve[--c->nreserve];
		__builtin_memset((void *)(uintptr_t)p, 0, PAGE_SIZE);
	}
	if (p)
		c->pages++;
	return p;
}

/* The reserve is refilled first. */
static void give_page(struct ept02 *c, uint64_t p)
{
	if (c->nreserve < EPT02_RESERVE)
		c->reserve[c->nreserve++] = p;
	else
		free_page(c, p);
	c->pages--;
}

/* Whether entry e at level (4 = PML4E ... 1 = PTE) points to a table. */
static bool is_table(uint64_t e, unsigned level)
{
	return level > 1 && (e & EPT_RWX) && !(e & EPT_LEAF);
}

/* Frees the table at pa and every table below it (level 4 = PML4 ... 1 = PT). */
static void free_tables(struct ept02 *c, uint64_t pa, unsigned level)
{
	if (level > 1) {
		uint64_t *t = table_of(pa);
		for (unsigned i = 0; i < ENTRIES; i++)
			if (is_table(t[i], level))
				free_tables(c, t[i] & EPT_ADDR_MASK, level - 1);
	}
	give_page(c, pa);
}

bool ept02_init(struct ept02 *c, struct page_alloc *pa, struct spinlock *pa_lock,
		uint64_t max_pages)
{
	*c = (struct ept02){ .pa = pa, .pa_lock = pa_lock, .max_pages = max_pages };
	while (c->nreserve < EPT02_RESERVE) {
		uint64_t p = alloc_page(c);
		if (!p) {
			while (c->nreserve)
				free_page(c, c->reserve[--c->nreserve]);
			return false;
		}
		c->reserve[c->nreserve++] = p;
	}
	return true;
}

static void drop_slot(struct ept02 *c, struct ept02_root *r)
{
	free_tables(c, r->pml4, r->levels);
	*r = (struct ept02_root){ 0 };
	c->drops++;
}

uint64_t ept02_find(struct ept02 *c, uint64_t eptp12)
{
	for (unsigned i = 0; i < EPT02_ROOTS; i++) {
		if (c->root[i].pml4 && c->root[i].eptp12 == eptp12) {
			c->root[i].last_use = ++c->clock;
			return c->root[i].pml4;
		}
	}
	return 0;
}

uint64_t ept02_root_for(struct ept02 *c, uint64_t eptp12, uint64_t *evicted)
{
	*evicted = 0;
	uint64_t found = ept02_find(c, eptp12);
	if (found)
		return found;
	struct ept02_root *slot = NULL;
	for (unsigned i = 0; i < EPT02_ROOTS && !slot; i++)
		if (!c->root[i].pml4)
			slot = &c->root[i];
	if (!slot) {
		slot = &c->root[0];
		for (unsigned i = 1; i < EPT02_ROOTS; i++)
			if (c->root[i].last_use < slot->last_use)
				slot = &c->root[i];
		*evicted = slot->pml4;
		drop_slot(c, slot);
		c->evictions++;
	}
	uint64_t pml4 = take_page(c);
	if (!pml4)
		return 0;
	*slot = (struct ept02_root){ .eptp12 = eptp12,
				     .pml4 = pml4,
				     .levels = ept_walk_levels(eptp12),
				     .last_use = ++c->clock };
	return pml4;
}

static struct ept02_root *slot_of(struct ept02 *c, uint64_t pml4)
{
	for (unsigned i = 0; i < EPT02_ROOTS; i++)
		if (c->root[i].pml4 == pml4)
			return &c->root[i];
	return NULL;
}

static unsigned index_of(uint64_t gpa2, unsigned level)
{
	return (unsigned)(gpa2 >> (12 + 9 * (level - 1))) & (ENTRIES - 1);
}

enum ept02_map_result ept02_map(struct ept02 *c, uint64_t pml4, uint64_t gpa2, uint64_t hpa,
				unsigned level, unsigned rights, unsigned memtype, bool ipat)
{
	bool changed = false; /* an entry the CPU may have cached changed */
	struct ept02_root *r = slot_of(c, pml4);
	uint64_t *t = table_of(pml4);
	for (unsigned l = r ? r->levels : 4; l > level; l--) {
		uint64_t *e = &t[index_of(gpa2, l)];
		if (!is_table(*e, l)) {
			/* None yet, or a larger leaf than this one's: a table in its place. */
			uint64_t p = take_page(c);
			if (!p) {
				c->overflows++;
				return EPT02_FULL;
			}
			changed |= (*e & EPT_RWX) != 0;
			__atomic_store_n(e, p | TABLE_RIGHTS, __ATOMIC_RELEASE);
		}
		t = table_of(*e & EPT_ADDR_MASK);
	}
	uint64_t *leaf = &t[index_of(gpa2, level)];
	uint64_t size = 1ull << (12 + 9 * (level - 1));
	uint64_t want = (hpa & EPT_ADDR_MASK & ~(size - 1)) | (rights & EPT_RWX) |
			((uint64_t)(memtype & 7) << EPT_MEMTYPE_SHIFT) | (ipat ? EPT_IGNORE_PAT : 0) |
			(level > 1 ? EPT_LEAF : 0);
	uint64_t old = *leaf;
	__atomic_store_n(leaf, want, __ATOMIC_RELEASE);
	/* Smaller leaves this one covers: their tables go (after the store). */
	if (is_table(old, level))
		free_tables(c, old & EPT_ADDR_MASK, level - 1);
	if (r)
		r->last_use = ++c->clock;
	if (level > 1)
		c->large++;
	if (changed || (old & EPT_RWX)) {
		c->upgrades++;
		return EPT02_UPGRADED;
	}
	c->fills++;
	return EPT02_MAPPED;
}

uint64_t ept02_leaf(uint64_t pml4, uint64_t gpa2)
{
	return ept02_leaf_in(pml4, 4, gpa2);
}

uint64_t ept02_leaf_in(uint64_t root, unsigned levels, uint64_t gpa2)
{
	uint64_t *t = table_of(root);
	for (unsigned level = levels; level > 1; level--) {
		uint64_t e = t[index_of(gpa2, level)];
		if (!(e & EPT_RWX) || !is_table(e, level))
			return e;
		t = table_of(e & EPT_ADDR_MASK);
	}
	return t[index_of(gpa2, 1)];
}

unsigned ept02_drop(struct ept02 *c, uint64_t eptp12, uint64_t pml4s[EPT02_ROOTS])
{
	unsigned n = 0;
	for (unsigned i = 0; i < EPT02_ROOTS; i++) {
		if (c->root[i].pml4 &&
		    (c->root[i].eptp12 & EPT_ADDR_MASK) == (eptp12 & EPT_ADDR_MASK)) {
			pml4s[n++] = c->root[i].pml4;
			drop_slot(c, &c->root[i]);
		}
	}
	return n;
}

void ept02_drop_all(struct ept02 *c)
{
	for (unsigned i = 0; i < EPT02_ROOTS; i++)
		if (c->root[i].pml4)
			drop_slot(c, &c->root[i]);
}
