/*
 * test_ept_walk.c - mm/ept_walk.c: the walk of an EPT in guest memory
 * (EPT12 for nested EPT) over tables built in a host buffer that stands
 * for 256 KiB of L1 physical memory at MEM_BASE; addresses outside it are
 * refused by the read callback (and then read as all ones).
 *
 * Every outcome is an exact constant: 4 KiB, 2 MiB and 1 GiB leaves and
 * leaf sizes not offered; 5-level; the rights ANDed along the walk for
 * each access kind (the qualification's bits 5:3); not present at each
 * level; each misconfiguration of SDM Vol. 3C 29.3.3.1 (write-only,
 * write-execute, execute-only not offered, reserved bits per level and
 * MAXPHYADDR, memory types 2/3/7) and ignored bits that are not; an
 * unreadable table; accessed/dirty flags through compare-exchange, with
 * an entry changing under the walk and with the EPTP's A/D off.
 */
#include "test.h"

#include "mm/ept_walk.h"

#include <string.h>

#define MEM_BASE 0x40000000ull
#define MEM_SIZE 0x40000ull
#define T_PML5 (MEM_BASE + 0x6000)
#define T_PML4 (MEM_BASE + 0x3000)
#define T_PDPT (MEM_BASE + 0x8000)
#define T_PD (MEM_BASE + 0x1000)
#define T_PT (MEM_BASE + 0xa000)

#define GPA4(i4, i3, i2, i1, off)                                                                  \
	(((uint64_t)(i4) << 39) | ((uint64_t)(i3) << 30) | ((uint64_t)(i2) << 21) |                \
	 ((uint64_t)(i1) << 12) | (off))
#define I5 0x011
#define I4 0x0a5
#define I3 0x13c
#define I2 0x0f0
#define I1 0x1d7
#define GPA GPA4(I4, I3, I2, I1, 0x9a8)
#define E5 (T_PML5 + 8 * I5)
#define E4 (T_PML4 + 8 * I4)
#define E3 (T_PDPT + 8 * I3)
#define E2 (T_PD + 8 * I2)
#define E1 (T_PT + 8 * I1)
#define FRAME 0x0000007654321000ull

#define R EPT_ACCESS_READ
#define W EPT_ACCESS_WRITE
#define X EPT_ACCESS_FETCH
#define RWX (R | W | X)
#define WB (6ull << 3)
#define LEAF (1ull << 7)
#define A (1ull << 8)
#define D (1ull << 9)
#define EPTP4 (T_PML4 | (3ull << 3) | 6)
#define EPTP5 (T_PML5 | (4ull << 3) | 6)

static uint8_t mem[MEM_SIZE] __attribute__((aligned(4096)));
static struct {
	unsigned reads, cas;
	unsigned cas_changes; /* the next cas calls find the entry changed by "another CPU" */
	bool cas_refuse;
} io;

static uint64_t *at(uint64_t pa)
{
	return (uint64_t *)(void *)(mem + (pa - MEM_BASE));
}

static bool in_mem(uint64_t pa)
{
	return pa >= MEM_BASE && pa + 8 <= MEM_BASE + MEM_SIZE;
}

static bool rd(void *ctx, uint64_t pa, uint64_t *e)
{
	(void)ctx;
	io.reads++;
	if (!in_mem(pa))
		return false;
	*e = *at(pa);
	return true;
}

static enum ept_walk_cas cas(void *ctx, uint64_t pa, uint64_t old, uint64_t new_val)
{
	(void)ctx;
	io.cas++;
	if (io.cas_refuse || !in_mem(pa))
		return EPT_WALK_CAS_FAILED;
	if (io.cas_changes) {
		io.cas_changes--;
		*at(pa) |= 1ull << 11; /* an ignored bit: the walk still translates */
		return EPT_WALK_CAS_CHANGED;
	}
	if (*at(pa) != old)
		return EPT_WALK_CAS_CHANGED;
	*at(pa) = new_val;
	return EPT_WALK_CAS_DONE;
}

static const struct ept_walk_mem wmem = { rd, cas, NULL };
static struct ept_walk_caps caps;

/* The 4-level tables for GPA, all RWX, a 4 KiB WB leaf at FRAME. */
static void tables(void)
{
	memset(mem, 0, sizeof(mem));
	memset(&io, 0, sizeof(io));
	caps = (struct ept_walk_caps){ .execute_only = true, .page_2m = true, .page_1g = true,
				       .maxphyaddr = 46 };
	*at(E5) = T_PML4 | RWX;
	*at(E4) = T_PDPT | RWX;
	*at(E3) = T_PD | RWX;
	*at(E2) = T_PT | RWX;
	*at(E1) = FRAME | WB | RWX;
}

static struct ept_walk walk(uint64_t eptp, uint64_t gpa, unsigned access)
{
	struct ept_walk w;
	enum ept_walk_status s = ept_walk(eptp, &caps, &wmem, gpa, access, &w);
	if (s != w.status)
		w.status = (enum ept_walk_status)99;
	return w;
}

TEST(ept_walk_4k_leaf)
{
	tables();
	struct ept_walk w = walk(EPTP4, GPA, R);
	CHECK_EQ(w.status, EPT_WALK_OK);
	CHECK_EQ(w.pa, FRAME | 0x9a8);
	CHECK_EQ(w.level, 1);
	CHECK_EQ(w.rights, RWX);
	CHECK_EQ(w.memtype, 6);
	CHECK(!w.ipat);
	CHECK_EQ(io.reads, 4);
	/* The same through 5 levels. */
	w = walk(EPTP5, GPA | ((uint64_t)I5 << 48), W | X);
	CHECK_EQ(w.status, EPT_WALK_OK);
	CHECK_EQ(w.pa, FRAME | 0x9a8);
	CHECK_EQ(io.reads, 4 + 5);
	/* Without A/D in the EPTP nothing is written. */
	CHECK_EQ(io.cas, 0);
	CHECK_EQ(*at(E1), FRAME | WB | RWX);
	/* Beyond 4-level's 48 bits: no translation, rights 0, nothing read. */
	w = walk(EPTP4, 1ull << 48, R);
	CHECK_EQ(w.status, EPT_WALK_VIOLATION);
	CHECK_EQ(w.rights, 0);
	CHECK_EQ(io.reads, 9);
	CHECK_EQ(ept_walk_levels(EPTP4), 4);
	CHECK_EQ(ept_walk_levels(EPTP5), 5);
}

TEST(ept_walk_large_leaves)
{
	tables();
	*at(E2) = 0x0000007654200000ull | WB | (1ull << 6) | LEAF | R | X; /* 2 MiB, IPAT */
	struct ept_walk w = walk(EPTP4, GPA, X);
	CHECK_EQ(w.status, EPT_WALK_OK);
	CHECK_EQ(w.pa, 0x0000007654200000ull | (GPA & 0x1fffff));
	CHECK_EQ(w.level, 2);
	CHECK_EQ(w.rights, R | X);
	CHECK(w.ipat);
	*at(E3) = 0x0000007640000000ull | (4ull << 3) | LEAF | RWX; /* 1 GiB, WT */
	w = walk(EPTP4, GPA, W);
	CHECK_EQ(w.status, EPT_WALK_OK);
	CHECK_EQ(w.pa, 0x0000007640000000ull | (GPA & 0x3fffffff));
	CHECK_EQ(w.level, 3);
	CHECK_EQ(w.memtype, 4);
	/* Leaf sizes not offered: bit 7 is reserved there. */
	caps.page_1g = false;
	CHECK_EQ(walk(EPTP4, GPA, R).status, EPT_WALK_MISCONFIG);
	*at(E3) = T_PD | RWX;
	caps.page_2m = false;
	w = walk(EPTP4, GPA, R);
	CHECK_EQ(w.status, EPT_WALK_MISCONFIG);
	CHECK_EQ(w.bad_level, 2);
	/* Address bits below a large leaf's size are reserved. */
	caps.page_2m = true;
	*at(E2) = 0x0000007654200000ull | (1ull << 12) | WB | LEAF | RWX;
	CHECK_EQ(walk(EPTP4, GPA, R).status, EPT_WALK_MISCONFIG);
	*at(E3) = 0x0000007640000000ull | (1ull << 29) | WB | LEAF | RWX;
	caps.page_1g = true;
	CHECK_EQ(walk(EPTP4, GPA, R).status, EPT_WALK_MISCONFIG);
}

/* SDM 29.3.3.2 and table 28-7: the rights of the walk ANDed; each access needs its own. */
TEST(ept_walk_rights_and_violations)
{
	static const struct {
		uint64_t e4, e2, e1;
		unsigned access;
		enum ept_walk_status status;
		unsigned rights;
	} rows[] = {
		{ RWX, RWX, R | W, X, EPT_WALK_VIOLATION, R | W },
		{ RWX, RWX, R | X, W, EPT_WALK_VIOLATION, R | X },
		{ R | X, RWX, RWX, W, EPT_WALK_VIOLATION, R | X },
		{ R, RWX, RWX, R, EPT_WALK_OK, R },
		{ RWX, R | W, RWX, R | W, EPT_WALK_OK, R | W },
		{ RWX, RWX, R | X, R | W, EPT_WALK_VIOLATION, R | X }, /* a read-modify-write */
		{ RWX, RWX, X, X, EPT_WALK_OK, X },  /* execute-only, offered */
		{ RWX, RWX, X, R, EPT_WALK_VIOLATION, X },
		{ RWX, RWX, 0, R, EPT_WALK_VIOLATION, 0 },  /* PTE not present */
		{ RWX, 0, RWX, X, EPT_WALK_VIOLATION, 0 },  /* PDE not present */
		{ 0, RWX, RWX, W, EPT_WALK_VIOLATION, 0 },  /* PML4E not present */
	};
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		tables();
		*at(E4) = T_PDPT | rows[i].e4;
		*at(E2) = T_PT | rows[i].e2;
		*at(E1) = FRAME | WB | rows[i].e1;
		struct ept_walk w = walk(EPTP4, GPA, rows[i].access);
		CHECK_EQ(w.status, rows[i].status);
		CHECK_EQ(w.rights, rows[i].rights);
	}
}

/* SDM 29.3.3.1, each misconfiguration at the level it is found. */
TEST(ept_walk_misconfigurations)
{
	static const struct {
		uint64_t addr; /* the entry changed */
		uint64_t value;
		unsigned level;
	} rows[] = {
		{ E1, FRAME | WB | W, 1 },		 /* write-only */
		{ E1, FRAME | WB | W | X, 1 },		 /* write-execute */
		{ E2, T_PT | W, 2 },			 /* in a table entry too */
		{ E1, FRAME | (2ull << 3) | RWX, 1 },	 /* memory type 2 */
		{ E1, FRAME | (3ull << 3) | RWX, 1 },	 /* 3 */
		{ E1, FRAME | (7ull << 3) | RWX, 1 },	 /* 7 */
		{ E1, FRAME | (1ull << 46) | WB | RWX, 1 }, /* MAXPHYADDR (46) */
		{ E1, FRAME | (1ull << 51) | WB | RWX, 1 },
		{ E4, T_PDPT | (1ull << 7) | RWX, 4 },	 /* PML4E bit 7 */
		{ E4, T_PDPT | (1ull << 3) | RWX, 4 },	 /* PML4E bits 6:3 */
		{ E3, T_PD | (1ull << 6) | RWX, 3 },	 /* PDPTE naming a table: 6:3 */
		{ E2, T_PT | (1ull << 4) | RWX, 2 },	 /* PDE naming a table */
	};
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		tables();
		*at(rows[i].addr) = rows[i].value;
		struct ept_walk w = walk(EPTP4, GPA, R);
		CHECK_EQ(w.status, EPT_WALK_MISCONFIG);
		CHECK_EQ(w.bad_level, rows[i].level);
		CHECK_EQ(w.bad_entry, rows[i].value);
	}
	/* Execute-only where it is not offered. */
	tables();
	caps.execute_only = false;
	*at(E1) = FRAME | WB | X;
	CHECK_EQ(walk(EPTP4, GPA, X).status, EPT_WALK_MISCONFIG);
	/* A misconfiguration below a not-present entry is never reached. */
	tables();
	*at(E2) = 0;
	*at(E1) = FRAME | WB | W;
	CHECK_EQ(walk(EPTP4, GPA, R).status, EPT_WALK_VIOLATION);
	/* Ignored bits are not reserved: 11:8 (no A/D), 63:52, a PTE's bit 7, IPAT. */
	tables();
	*at(E1) = FRAME | WB | RWX | (0xfull << 8) | (0xfffull << 52) | LEAF | (1ull << 6);
	*at(E2) = T_PT | RWX | (0x7ull << 9) | (1ull << 63);
	CHECK_EQ(walk(EPTP4, GPA, R).status, EPT_WALK_OK);
	/* MAXPHYADDR 52: bit 51 is an address bit. */
	tables();
	caps.maxphyaddr = 52;
	*at(E1) = FRAME | (1ull << 51) | WB | RWX;
	struct ept_walk w = walk(EPTP4, GPA, R);
	CHECK_EQ(w.status, EPT_WALK_OK);
	CHECK_EQ(w.pa, FRAME | (1ull << 51) | 0x9a8);
}

/* A table outside L1's memory reads as all ones, as absent memory does: misconfigured. */
TEST(ept_walk_unreadable_table)
{
	tables();
	*at(E3) = 0x0000000780000000ull | RWX; /* a PD beyond the buffer */
	struct ept_walk w = walk(EPTP4, GPA, R);
	CHECK_EQ(w.status, EPT_WALK_MISCONFIG);
	CHECK_EQ(w.bad_level, 2);
	CHECK_EQ(w.bad_entry, ~0ull);
}

/* SDM 29.3.5: A in every entry used, D in the leaf for a write, after a walk that translates. */
TEST(ept_walk_accessed_dirty)
{
	tables();
	uint64_t eptp = EPTP4 | EPTP_AD_ENABLE;
	struct ept_walk w = walk(eptp, GPA, R);
	CHECK_EQ(w.status, EPT_WALK_OK);
	CHECK_EQ(*at(E4), T_PDPT | RWX | A);
	CHECK_EQ(*at(E3), T_PD | RWX | A);
	CHECK_EQ(*at(E2), T_PT | RWX | A);
	CHECK_EQ(*at(E1), FRAME | WB | RWX | A);
	CHECK_EQ(io.cas, 4);
	CHECK(!w.dirty);
	/* A write sets D in the leaf only; entries already set are not written. */
	w = walk(eptp, GPA, W);
	CHECK(w.dirty);
	CHECK_EQ(*at(E1), FRAME | WB | RWX | A | D);
	CHECK_EQ(*at(E2), T_PT | RWX | A);
	CHECK_EQ(io.cas, 5);
	CHECK(walk(eptp, GPA, R).dirty); /* a read of a dirty page says so */
	/* A violation sets nothing. */
	tables();
	*at(E1) = FRAME | WB | R;
	CHECK_EQ(walk(eptp, GPA, W).status, EPT_WALK_VIOLATION);
	CHECK_EQ(io.cas, 0);
	CHECK_EQ(*at(E4), T_PDPT | RWX);
	/* An entry changed under the update: the walk restarts and still translates. */
	tables();
	io.cas_changes = 2;
	w = walk(eptp, GPA, R);
	CHECK_EQ(w.status, EPT_WALK_OK);
	CHECK_EQ(*at(E4) & A, A);
	/* It keeps changing: RETRY after EPT_WALK_MAX_TRIES walks. */
	tables();
	io.cas_changes = 100;
	CHECK_EQ(walk(eptp, GPA, R).status, EPT_WALK_RETRY);
	CHECK_EQ(io.reads, 4 * EPT_WALK_MAX_TRIES);
	/* A refused update: translated, flags not set, said. */
	tables();
	io.cas_refuse = true;
	w = walk(eptp, GPA, W);
	CHECK_EQ(w.status, EPT_WALK_OK);
	CHECK(w.ad_failed);
	CHECK_EQ(*at(E1), FRAME | WB | RWX);
}
