/*
 * test_guest_walk.c - mm/guest_walk.c: L1's page walk over page tables
 * built in a host buffer that stands for 512 KiB of guest-physical memory
 * at MEM_BASE.  Tables sit at arbitrary, unordered GPAs in it (nothing is
 * identity-mapped); addresses outside it are refused by the read callback,
 * like L0's own memory.
 *
 * Every translation and #PF error code is an exact constant: 4-level with
 * 4 KiB, 2 MiB and 1 GiB pages (and 1 GiB without CPUID support), 5-level,
 * PAE with 2 MiB and 4 KiB pages from the PDPTE registers or from CR3,
 * 32-bit paging with 4 MiB pages (PSE-36 per MAXPHYADDR, CR4.PSE = 0),
 * paging off; not present at each level for each kind of access;
 * reserved bits per level and MAXPHYADDR (and ignored bits that are not);
 * CR0.WP, U/S, XD, SMEP, SMAP with RFLAGS.AC and implicit accesses; a
 * refused read at each stage; accessed/dirty flags through compare-
 * exchange, with an entry changing under the walk; and the copy helpers
 * across page boundaries (non-contiguous GPAs, nothing written when the
 * second page faults, 4 GiB wrap outside IA-32e mode).
 */
#include "test.h"

#include "mm/guest_walk.h"

#include <string.h>

#define MEM_BASE 0x30000000ull
#define MEM_SIZE 0x80000ull
#define T_PML5 (MEM_BASE + 0x7000)
#define T_PML4 (MEM_BASE + 0x5000)
#define T_PDPT (MEM_BASE + 0x2000)
#define T_PD (MEM_BASE + 0x9000)
#define T_PT (MEM_BASE + 0x1000)
#define DATA1 (MEM_BASE + 0x20000)
#define DATA2 (MEM_BASE + 0x40000)

#define P GW_PTE_P
#define RW GW_PTE_RW
#define US GW_PTE_US
#define PS GW_PTE_PS
#define A GW_PTE_A
#define D GW_PTE_D
#define XD GW_PTE_XD
#define ALL (P | RW | US)

/* Accesses and error-code bits, short. */
#define RD 0u
#define WR GWALK_WRITE
#define USER GWALK_USER
#define FETCH GWALK_FETCH
#define IMPL GWALK_IMPLICIT
#define PFP PF_ERR_P
#define PFW PF_ERR_W
#define PFU PF_ERR_U
#define PFR (PF_ERR_P | PF_ERR_RSVD)
#define PFI PF_ERR_ID

/* The linear address the 4-level tests translate, its table indices and entries. */
#define LA4(i4, i3, i2, i1, off)                                                                   \
	(((uint64_t)(i4) << 39) | ((uint64_t)(i3) << 30) | ((uint64_t)(i2) << 21) |                \
	 ((uint64_t)(i1) << 12) | (off))
#define I5 0x0f3
#define I4 0xfe
#define I3 0x48
#define I2 0x1a2
#define I1 0x167
#define LA LA4(I4, I3, I2, I1, 0xabc)
#define E5 (T_PML5 + 8 * I5)
#define E4 (T_PML4 + 8 * I4)
#define E3 (T_PDPT + 8 * I3)
#define E2 (T_PD + 8 * I2)
#define E1 (T_PT + 8 * I1)
#define FRAME 0x00000abcd1234000ull
#define LA_GPA 0x00000abcd1234abcull


static uint8_t mem[MEM_SIZE] __attribute__((aligned(4096)));
static struct {
	unsigned reads, read_bytes, writes, cas;
	unsigned cas_changes; /* the next cas calls find the entry changed by "another CPU" */
	bool cas_refuse;
} ms;
static struct guest_paging g;
static struct guest_walk w;
static uint64_t walked; /* the address of the last walk() */

static uint8_t *host(uint64_t gpa, size_t len)
{
	return gpa >= MEM_BASE && gpa - MEM_BASE <= MEM_SIZE - len ? mem + (gpa - MEM_BASE) : NULL;
}

static bool mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	CHECK(ctx == &ms);
	uint8_t *p = host(gpa, len);
	ms.reads++;
	ms.read_bytes += len;
	if (p)
		memcpy(buf, p, len);
	return p != NULL;
}

static bool mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	uint8_t *p = host(gpa, len);
	(void)ctx;
	ms.writes++;
	if (p)
		memcpy(p, buf, len);
	return p != NULL;
}

static enum gwalk_cas mem_cas(void *ctx, uint64_t gpa, uint64_t old, uint64_t new_val, size_t len)
{
	(void)ctx;
	uint64_t cur = 0;
	ms.cas++;
	if (ms.cas_refuse || !host(gpa, len))
		return GWALK_CAS_FAILED;
	memcpy(&cur, host(gpa, len), len);
	if (ms.cas_changes) { /* toggle an ignored bit first */
		ms.cas_changes--;
		cur ^= 1ull << 9;
		memcpy(host(gpa, len), &cur, len);
	}
	if (cur != old)
		return GWALK_CAS_CHANGED;
	memcpy(host(gpa, len), &new_val, len);
	return GWALK_CAS_DONE;
}

static void put(uint64_t gpa, uint64_t v, size_t len)
{
	memcpy(host(gpa, len), &v, len);
}

static uint64_t get(uint64_t gpa, size_t len)
{
	uint64_t v = 0;
	memcpy(&v, host(gpa, len), len);
	return v;
}

#define put64(gpa, v) put(gpa, v, 8)
#define put32(gpa, v) put(gpa, v, 4)
#define get64(gpa) get(gpa, 8)
#define get32(gpa) get(gpa, 4)

static enum gwalk_status walk(uint64_t la, unsigned access)
{
	walked = la;
	return guest_walk(&g, la, access, &w);
}

/* The outcome in w: a translation, a #PF, a refused address. */
#define CHECK_MAPS(st, pa, size)                                                                   \
	do {                                                                                       \
		CHECK_EQ(st, GWALK_OK);                                                            \
		CHECK_EQ(w.gpa, pa);                                                               \
		CHECK_EQ(w.page_size, size);                                                       \
	} while (0)
#define CHECK_PF_AT(st, ec, la)                                                                    \
	do {                                                                                       \
		CHECK_EQ(st, GWALK_PAGE_FAULT);                                                    \
		CHECK_EQ(w.error_code, ec);                                                        \
		CHECK_EQ(w.cr2, la);                                                               \
	} while (0)
#define CHECK_PF(st, ec) CHECK_PF_AT(st, ec, walked)
#define CHECK_REFUSED(st, pa)                                                                      \
	do {                                                                                       \
		CHECK_EQ(st, GWALK_MEM_FAILED);                                                    \
		CHECK_EQ(w.failed_gpa, pa);                                                        \
		CHECK_EQ(w.error_code, 0);                                                         \
	} while (0)

static void setup_common(void)
{
	memset(mem, 0, sizeof(mem));
	memset(&ms, 0, sizeof(ms));
	g = (struct guest_paging){.maxphyaddr = 46,
				  .page_1g = true,
				  .read_gpa = mem_read,
				  .write_gpa = mem_write,
				  .ctx = &ms};
}

/* 64-bit L1, 4-level paging, WP and NXE on, LA -> FRAME (4 KiB), all entries P RW US. */
static void setup_4level(void)
{
	setup_common();
	g.cr0 = CR0_PG | CR0_WP | CR0_PE;
	g.cr4 = CR4_PAE;
	g.efer = EFER_LME | EFER_LMA | EFER_NXE;
	g.cr3 = T_PML4;
	put64(E4, T_PDPT | ALL);
	put64(E3, T_PD | ALL);
	put64(E2, T_PT | ALL);
	put64(E1, FRAME | ALL);
}

TEST(guest_walk_paging_off_and_modes)
{
	setup_common();
	g.cr0 = CR0_PE;
	g.cr4 = CR4_PAE | CR4_PSE; /* ignored without CR0.PG */
	CHECK_EQ(guest_paging_mode(&g), GWALK_MODE_NONE);
	CHECK_MAPS(walk(0x12345678, WR | USER), 0x12345678, 0x1000);
	CHECK_MAPS(walk(0xffffffff, FETCH), 0xffffffff, 0x1000);
	CHECK_EQ(ms.reads, 0);
	CHECK_EQ(walk(0x100000000ull, 0), GWALK_BAD_ADDRESS);
	CHECK_EQ(w.status, GWALK_BAD_ADDRESS);
	setup_4level();
	CHECK_EQ(LA, 0x00007f1234567abcull);
	CHECK_EQ(guest_paging_mode(&g), GWALK_MODE_4LEVEL);
	g.cr4 |= CR4_LA57;
	CHECK_EQ(guest_paging_mode(&g), GWALK_MODE_5LEVEL);
	g.efer = 0;
	CHECK_EQ(guest_paging_mode(&g), GWALK_MODE_PAE);
	g.cr4 = CR4_PSE;
	CHECK_EQ(guest_paging_mode(&g), GWALK_MODE_32BIT);
}

TEST(guest_walk_4level)
{
	setup_4level();
	CHECK_MAPS(walk(LA, RD), LA_GPA, 0x1000);
	CHECK_EQ(ms.reads, 4);
	CHECK_EQ(ms.read_bytes, 32);
	/* No compare-exchange callback: the entries stay as they were. */
	CHECK_MAPS(walk(LA, WR | USER), LA_GPA, 0x1000);
	CHECK_EQ(get64(E4), T_PDPT | ALL);
	CHECK_EQ(get64(E1), FRAME | ALL);
	/* Bits 62:52 are ignored and PAT (bit 7 of a PTE) is no size bit. */
	put64(E1, FRAME | ALL | PS | (0x7ffull << 52));
	put64(E4, T_PDPT | ALL | (1ull << 58));
	CHECK_MAPS(walk(LA, RD), LA_GPA, 0x1000);
	/* The upper half: PML4 index 256. */
	put64(T_PML4 + 8 * 256, T_PDPT | ALL);
	CHECK_MAPS(walk(0xffff800000000000ull | LA4(0, I3, I2, I1, 0x10), RD),
		   0x00000abcd1234010ull, 0x1000);
	/* 2 MiB: PDE bits 45:21, la[20:0]; PAT (bit 12) is not an address bit. */
	setup_4level();
	put64(E2, 0x0000000456600000ull | (1ull << 12) | PS | ALL);
	CHECK_MAPS(walk(LA, RD), 0x0000000456767abcull, 0x200000);
	CHECK_EQ(ms.reads, 3);
	/* 1 GiB: PDPTE bits 45:30, la[29:0]; without 1 GiB pages PS is reserved there. */
	put64(E3, 0x00000007c0000000ull | (1ull << 12) | PS | ALL);
	CHECK_MAPS(walk(LA, RD), 0x00000007f4567abcull, 0x40000000);
	g.page_1g = false;
	CHECK_PF(walk(LA, RD), PFR);
	CHECK_PF(walk(LA, WR), PFR | PFW);
}

TEST(guest_walk_5level)
{
	setup_4level();
	uint64_t la = ((uint64_t)I5 << 48) | LA;
	CHECK_EQ(la, 0x00f37f1234567abcull);
	CHECK_EQ(walk(la, RD), GWALK_BAD_ADDRESS); /* not canonical with 4 levels */
	g.cr4 |= CR4_LA57;
	g.cr3 = T_PML5;
	put64(E5, T_PML4 | ALL);
	CHECK_MAPS(walk(la, RD), LA_GPA, 0x1000);
	CHECK_EQ(ms.reads, 5);
	CHECK_EQ(walk(0x0100000000000000ull, RD), GWALK_BAD_ADDRESS);
	put64(E5, T_PML4 | ALL | PS); /* PS is reserved in a PML5E as in a PML4E */
	CHECK_PF(walk(la, RD), PFR);
	put64(E5, T_PML4 | US);
	CHECK_PF(walk(la, USER), PFU);
}

TEST(guest_walk_not_present_each_level)
{
	static const uint64_t slot[4] = {E4, E3, E2, E1};
	static const struct {
		unsigned access;
		uint32_t ec;
	} kinds[6] = {
	    {RD, 0},	  {WR, PFW},
	    {USER, PFU},  {USER | WR, PFU | PFW},
	    {FETCH, PFI}, {USER | FETCH, PFU | PFI}, /* NXE with 4-level paging: I/D */
	};
	for (unsigned l = 0; l < 4; l++) {
		for (unsigned k = 0; k < 6; k++) {
			setup_4level();
			/* Not present: the other bits, reserved ones included, do not matter. */
			put64(slot[l], (get64(slot[l]) & ~P) | (0xfull << 48) | PS);
			CHECK_PF(walk(LA, kinds[k].access), kinds[k].ec);
			CHECK_EQ(ms.reads, l + 1);
		}
	}
	/* An implicit supervisor access at CPL 3 is no user-mode access. */
	setup_4level();
	put64(E1, 0);
	CHECK_PF(walk(LA, USER | IMPL), 0);
}

TEST(guest_walk_reserved_bits)
{
	/* MAXPHYADDR 46: bits 51:46 reserved; PS in a PML4E; bits 29:13 of a
	 * 1 GiB PDPTE, 20:13 of a 2 MiB PDE. */
	static const struct {
		uint64_t slot, value;
	} cases[] = {
	    {E4, T_PDPT | ALL | PS},
	    {E4, T_PDPT | ALL | (1ull << 46)},
	    {E4, T_PDPT | ALL | (1ull << 51)},
	    {E3, T_PD | ALL | (1ull << 50)},
	    {E3, 0x00000007c0000000ull | PS | ALL | (1ull << 13)},
	    {E3, 0x00000007c0000000ull | PS | ALL | (1ull << 29)},
	    {E2, T_PT | ALL | (1ull << 47)},
	    {E2, 0x0000000456600000ull | PS | ALL | (1ull << 20)},
	    {E2, 0x0000000456600000ull | PS | ALL | (1ull << 13)},
	    {E1, FRAME | ALL | (1ull << 46)},
	    {E1, FRAME | ALL | (1ull << 51)},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup_4level();
		put64(cases[i].slot, cases[i].value);
		CHECK_PF(walk(LA, RD), PFR);
		CHECK_PF(walk(LA, USER | WR), PFR | PFU | PFW);
	}
	/* A reserved bit high up wins over a lower entry that is not present. */
	setup_4level();
	put64(E3, get64(E3) | (1ull << 49));
	put64(E1, 0);
	CHECK_PF(walk(LA, FETCH), PFR | PFI);
	/* XD is reserved without IA32_EFER.NXE, in any entry. */
	setup_4level();
	put64(E2, get64(E2) | XD);
	CHECK_MAPS(walk(LA, RD), LA_GPA, 0x1000);
	g.efer &= ~EFER_NXE;
	CHECK_PF(walk(LA, RD), PFR);
	/* MAXPHYADDR below 32 is taken as 32: FRAME's bits 43:32 are reserved then. */
	setup_4level();
	g.maxphyaddr = 12;
	CHECK_PF(walk(LA, RD), PFR);
	CHECK_EQ(ms.reads, 4);
	/* MAXPHYADDR 52: bit 51 is an address bit. */
	g.maxphyaddr = 52;
	put64(E1, (1ull << 51) | FRAME | ALL);
	CHECK_MAPS(walk(LA, RD), 0x0008000000000000ull | LA_GPA, 0x1000);
}

/*
 * Access rights (SDM Vol. 3A 4.6.1) on the 4-level fixture: each row sets
 * the flags of the PDPTE, PDE and PTE (their addresses stay), clears
 * CR0.WP or IA32_EFER.NXE, sets RFLAGS.AC and CR4 bits, and expects LA's
 * translation (ec < 0) or a #PF with error code ec.  A failing row is
 * reported at its own line.
 */
static const struct rights_case {
	int line;
	uint64_t e3, e2, e1;
	bool no_wp, no_nxe, ac;
	uint64_t cr4;
	unsigned access;
	int ec;
} rights[] = {
#define SMEP CR4_SMEP
#define SMAP CR4_SMAP
/* clang-format off */
#define R(...) {__LINE__, __VA_ARGS__}
	/* R/W = 0 in the PTE: supervisor writes need CR0.WP = 0, user writes never pass. */
	R(ALL, ALL, P | US, 0, 0, 0, 0, RD, -1),
	R(ALL, ALL, P | US, 0, 0, 0, 0, WR, PFP | PFW),
	R(ALL, ALL, P | US, 0, 0, 0, 0, USER | WR, PFP | PFW | PFU),
	R(ALL, ALL, P | US, 1, 0, 0, 0, WR, -1),
	R(ALL, ALL, P | US, 1, 0, 0, 0, USER | WR, PFP | PFW | PFU),
	/* R/W = 0 higher up counts the same. */
	R(P | US, ALL, ALL, 0, 0, 0, 0, WR, PFP | PFW),
	R(P | US, ALL, ALL, 1, 0, 0, 0, WR, -1),
	/* U/S = 0 in the PDPTE: a supervisor-mode address. */
	R(P | RW, ALL, ALL, 0, 0, 0, 0, RD, -1),
	R(P | RW, ALL, ALL, 0, 0, 0, 0, WR, -1),
	R(P | RW, ALL, ALL, 0, 0, 0, 0, FETCH, -1),
	R(P | RW, ALL, ALL, 0, 0, 0, 0, USER, PFP | PFU),
	R(P | RW, ALL, ALL, 0, 0, 0, 0, USER | WR, PFP | PFU | PFW),
	R(P | RW, ALL, ALL, 0, 0, 0, 0, USER | FETCH, PFP | PFU | PFI),
	R(P | RW, ALL, ALL, 0, 0, 0, 0, USER | IMPL, -1),
	/* XD in the PDE (not the leaf), with NXE. */
	R(ALL, ALL | XD, ALL, 0, 0, 0, 0, RD, -1),
	R(ALL, ALL | XD, ALL, 0, 0, 0, 0, WR, -1),
	R(ALL, ALL | XD, ALL, 0, 0, 0, 0, FETCH, PFP | PFI),
	R(ALL, ALL | XD, ALL, 0, 0, 0, 0, USER | FETCH, PFP | PFU | PFI),
	/* Without NXE and SMEP a fetch's #PF has no I/D bit; SMEP brings it. */
	R(ALL, ALL, 0, 0, 1, 0, 0, FETCH, 0),
	R(ALL, ALL, 0, 0, 1, 0, SMEP, FETCH, PFI),
	/* SMEP: no supervisor fetch from a user-mode address (all U/S = 1). */
	R(ALL, ALL, ALL, 0, 0, 0, 0, FETCH, -1),
	R(ALL, ALL, ALL, 0, 0, 0, SMEP, FETCH, PFP | PFI),
	R(ALL, ALL, ALL, 0, 0, 0, SMEP, USER | FETCH, -1),
	R(ALL, ALL, ALL, 0, 0, 0, SMEP, RD, -1),
	/* SMAP: supervisor data accesses to user-mode addresses only explicit, with AC. */
	R(ALL, ALL, ALL, 0, 0, 0, SMAP, RD, PFP),
	R(ALL, ALL, ALL, 0, 0, 0, SMAP, WR, PFP | PFW),
	R(ALL, ALL, ALL, 0, 0, 0, SMAP, USER | WR, -1),
	R(ALL, ALL, ALL, 0, 0, 1, SMAP, RD, -1),
	R(ALL, ALL, ALL, 0, 0, 1, SMAP, WR, -1),
	R(ALL, ALL, ALL, 0, 0, 1, SMAP, IMPL, PFP),
	R(ALL, ALL, ALL, 0, 0, 1, SMAP, USER | IMPL, PFP),
	R(ALL, ALL, ALL, 0, 0, 1, SMAP | SMEP, USER | FETCH, -1),
	/* With AC a read-only user page still obeys CR0.WP; supervisor pages ignore SMAP. */
	R(ALL, ALL, P | US, 0, 0, 1, SMAP, WR, PFP | PFW),
	R(ALL, ALL, P | US, 1, 0, 1, SMAP, WR, -1),
	R(ALL, ALL, P | RW, 0, 0, 0, SMAP, IMPL | WR, -1),
#undef R
    /* clang-format on */
};

TEST(guest_walk_access_rights)
{
	for (unsigned i = 0; i < sizeof(rights) / sizeof(rights[0]); i++) {
		const struct rights_case *c = &rights[i];
		setup_4level();
		put64(E3, T_PD | c->e3);
		put64(E2, T_PT | c->e2);
		put64(E1, FRAME | c->e1);
		g.cr0 &= c->no_wp ? ~CR0_WP : ~0ull;
		g.efer &= c->no_nxe ? ~EFER_NXE : ~0ull;
		g.cr4 |= c->cr4;
		g.rflags_ac = c->ac;
		enum gwalk_status st = walk(LA, c->access);
		bool ok = c->ec < 0;
		test_check_eq(st, ok ? GWALK_OK : GWALK_PAGE_FAULT, "status", "row", __FILE__,
			      c->line);
		test_check_eq(ok ? w.gpa : w.error_code, ok ? LA_GPA : (uint64_t)c->ec, "result",
			      "row", __FILE__, c->line);
		test_check_eq(ok ? LA : w.cr2, LA, "cr2", "LA", __FILE__, c->line);
	}
}

/* PAE: LA32 = PDPTE 2, PDE 0x1a2, PTE 0x167, offset 0xabc; PDPT at a 32-byte boundary. */
#define LA32 0xb4567abcull
#define PAE_PDPT (MEM_BASE + 0x4fe0)
#define PAE_PDE (T_PD + 8 * I2)
#define PAE_PTE (T_PT + 8 * I1)

static void setup_pae(void)
{
	setup_common();
	g.maxphyaddr = 36;
	g.cr0 = CR0_PG | CR0_WP | CR0_PE;
	g.cr4 = CR4_PAE;
	g.efer = EFER_NXE;
	g.cr3 = PAE_PDPT | 0x18; /* PWT, PCD: not address bits */
	put64(PAE_PDPT + 16, T_PD | P);
	put64(PAE_PDE, T_PT | ALL);
	put64(PAE_PTE, 0x0000000876543000ull | ALL);
}

TEST(guest_walk_pae)
{
	setup_pae();
	CHECK_MAPS(walk(LA32, RD), 0x0000000876543abcull, 0x1000);
	CHECK_EQ(ms.reads, 3);
	/* 2 MiB page: PDE bits 35:21. */
	put64(PAE_PDE, 0x0000000fe4a00000ull | PS | ALL);
	CHECK_MAPS(walk(LA32, WR), 0x0000000fe4b67abcull, 0x200000);
	/* The PDPTE registers win over memory; they are not read. */
	put64(PAE_PDPT + 16, 0);
	g.pdpte_valid = true;
	g.pdpte[2] = T_PD | P;
	ms.reads = 0;
	CHECK_MAPS(walk(LA32, RD), 0x0000000fe4b67abcull, 0x200000);
	CHECK_EQ(ms.reads, 1);
	g.pdpte[2] = 0;
	CHECK_PF(walk(LA32, USER), PFU);
	/* PDPTEs carry no rights and no A flag: bits 2:1, 8:5 and 63 are reserved. */
	static const uint64_t bad[4] = {RW, US, 1ull << 5, 1ull << 63};
	for (unsigned i = 0; i < 4; i++) {
		g.pdpte[2] = T_PD | P | bad[i];
		CHECK_PF(walk(LA32, RD), PFR);
	}
	CHECK_EQ(walk(0x100000000ull, RD), GWALK_BAD_ADDRESS);
	/* Bits 62:M are reserved in PAE entries (MAXPHYADDR 36), 20:13 in a 2 MiB PDE. */
	setup_pae();
	put64(PAE_PTE, 0x0000000876543000ull | ALL | (1ull << 62));
	CHECK_PF(walk(LA32, RD), PFR);
	put64(PAE_PTE, 0x0000000876543000ull | ALL | (1ull << 36));
	CHECK_PF(walk(LA32, RD), PFR);
	put64(PAE_PDE, 0x0000000fe4a00000ull | PS | ALL | (1ull << 14));
	CHECK_PF(walk(LA32, RD), PFR);
	/* XD: execute-disable with NXE, reserved without. */
	setup_pae();
	put64(PAE_PTE, 0x0000000876543000ull | ALL | XD);
	CHECK_PF(walk(LA32, FETCH), PFP | PFI);
	g.efer = 0;
	CHECK_PF(walk(LA32, RD), PFR);
	/* A read-only PDE with CR0.WP; a PDPT outside memory. */
	setup_pae();
	put64(PAE_PDE, T_PT | P | US);
	CHECK_PF(walk(LA32, WR), PFP | PFW);
	g.cr3 = 0x7fe0;
	CHECK_REFUSED(walk(LA32, RD), 0x7ff0);
}

/* 32-bit paging: LA32's PDE index 0x2d1, PTE index 0x167. */
#define PD32 (MEM_BASE + 0x3000)
#define PDE32 (PD32 + 4 * 0x2d1)
#define PTE32 (T_PT + 4 * 0x167)

static void setup_32bit(void)
{
	setup_common();
	g.maxphyaddr = 40;
	g.cr0 = CR0_PG | CR0_WP | CR0_PE;
	g.cr4 = CR4_PSE;
	g.efer = EFER_NXE; /* no effect on 32-bit paging */
	g.cr3 = PD32 | 0x18;
	put32(PDE32, T_PT | ALL);
	put32(PTE32, 0x76543000u | ALL);
	put32(PTE32 + 4, 0xffffffffu); /* the next entry: a 4-byte walk never sees it */
}

TEST(guest_walk_32bit)
{
	setup_32bit();
	CHECK_MAPS(walk(LA32, RD), 0x76543abc, 0x1000);
	CHECK_EQ(ms.reads, 2);
	CHECK_EQ(ms.read_bytes, 8); /* two 4-byte entries */
	/* 4 MiB page, PSE-36: PDE bits 20:13 are address bits 39:32. */
	put32(PDE32, 0xfe800000u | (0x92u << 13) | PS | ALL);
	CHECK_MAPS(walk(LA32, RD), 0x92fe967abcull, 0x400000);
	/* Bit 21 is reserved; with MAXPHYADDR 36 so are bits 21:17. */
	put32(PDE32, 0xfe800000u | (1u << 21) | PS | ALL);
	CHECK_PF(walk(LA32, WR), PFR | PFW);
	g.maxphyaddr = 36;
	put32(PDE32, 0xfe800000u | (0xfu << 13) | PS | ALL);
	CHECK_MAPS(walk(LA32, RD), 0xffe967abcull, 0x400000);
	put32(PDE32, 0xfe800000u | (1u << 17) | PS | ALL);
	CHECK_PF(walk(LA32, RD), PFR);
	/* CR4.PSE = 0: PS is ignored, the PDE points to a page table. */
	g.cr4 = 0;
	put32(PDE32, T_PT | ALL | PS);
	CHECK_MAPS(walk(LA32, RD), 0x76543abc, 0x1000);
	CHECK_EQ(walk(0x100000000ull, RD), GWALK_BAD_ADDRESS);
	/* Rights: R/W with CR0.WP, U/S. */
	setup_32bit();
	put32(PTE32, 0x76543000u | P | US);
	CHECK_PF(walk(LA32, WR), PFP | PFW);
	g.cr0 &= ~CR0_WP;
	CHECK_MAPS(walk(LA32, WR), 0x76543abc, 0x1000);
	put32(PDE32, T_PT | P | RW);
	CHECK_PF(walk(LA32, USER), PFP | PFU);
	/* Not present; a fetch reports I/D only with SMEP (no NXE in 32-bit paging). */
	put32(PTE32, 0);
	CHECK_PF(walk(LA32, FETCH), 0);
	g.cr4 |= CR4_SMEP;
	CHECK_PF(walk(LA32, FETCH), PFI);
	put32(PDE32, 0);
	CHECK_PF(walk(LA32, USER | WR), PFU | PFW);
}

TEST(guest_walk_read_refused)
{
	/* Tables outside the memory L0 lets L1 have: not a #PF. */
	setup_4level();
	g.cr3 = 0x7fff000;
	CHECK_REFUSED(walk(LA, RD), 0x7fff000 + 8 * I4);
	setup_4level();
	put64(E3, 0x1000 | ALL);
	CHECK_REFUSED(walk(LA, WR), 0x1000 + 8 * I2);
	setup_32bit();
	put32(PDE32, 0x5000u | ALL);
	CHECK_REFUSED(walk(LA32, RD), 0x5000 + 4 * 0x167);
	/* The page itself is not read by a translation. */
	setup_4level();
	put64(E1, 0x1000 | ALL);
	CHECK_MAPS(walk(LA, RD), 0x1abc, 0x1000);
}

TEST(guest_walk_accessed_dirty)
{
	setup_4level();
	g.cmpxchg_gpa = mem_cas;
	CHECK_EQ(walk(LA, RD), GWALK_OK);
	CHECK_EQ(get64(E4), T_PDPT | ALL | A);
	CHECK_EQ(get64(E3), T_PD | ALL | A);
	CHECK_EQ(get64(E2), T_PT | ALL | A);
	CHECK_EQ(get64(E1), FRAME | ALL | A);
	CHECK_EQ(ms.cas, 4);
	CHECK_EQ(walk(LA, RD), GWALK_OK); /* already accessed: nothing to do */
	CHECK_EQ(ms.cas, 4);
	CHECK_EQ(walk(LA, WR), GWALK_OK);
	CHECK_EQ(get64(E1), FRAME | ALL | A | D);
	CHECK_EQ(get64(E2), T_PT | ALL | A); /* D only in the leaf */
	CHECK_EQ(ms.cas, 5);
	/* A faulting walk sets nothing; a 2 MiB leaf gets D. */
	setup_4level();
	g.cmpxchg_gpa = mem_cas;
	put64(E2, 0x0000000456600000ull | PS | P | US);
	CHECK_EQ(walk(LA, WR), GWALK_PAGE_FAULT);
	CHECK_EQ(get64(E4), T_PDPT | ALL);
	CHECK_EQ(ms.cas, 0);
	g.cr0 &= ~CR0_WP;
	CHECK_EQ(walk(LA, WR), GWALK_OK);
	CHECK_EQ(get64(E2), 0x0000000456600000ull | PS | P | US | A | D);
	CHECK_EQ(get64(E3), T_PD | ALL | A);
	/* 32-bit paging: 4-byte entries, the neighbour untouched. */
	setup_32bit();
	g.cmpxchg_gpa = mem_cas;
	CHECK_EQ(walk(LA32, WR), GWALK_OK);
	CHECK_EQ(get32(PDE32), T_PT | ALL | A);
	CHECK_EQ(get32(PTE32), 0x76543000u | ALL | A | D);
	CHECK_EQ(get32(PTE32 + 4), 0xffffffffu);
	/* PAE: the PDPTE (read from memory) has no accessed flag. */
	setup_pae();
	g.cmpxchg_gpa = mem_cas;
	CHECK_EQ(walk(LA32, RD), GWALK_OK);
	CHECK_EQ(get64(PAE_PDPT + 16), T_PD | P);
	CHECK_EQ(get64(PAE_PDE), T_PT | ALL | A);
	CHECK_EQ(ms.cas, 2);
}

TEST(guest_walk_accessed_dirty_races)
{
	/* The entry changes under the first update: the walk starts again. */
	setup_4level();
	g.cmpxchg_gpa = mem_cas;
	ms.cas_changes = 1;
	CHECK_MAPS(walk(LA, RD), LA_GPA, 0x1000);
	CHECK_EQ(ms.reads, 8);
	CHECK_EQ(get64(E4), T_PDPT | ALL | A | (1ull << 9));
	CHECK_EQ(get64(E1), FRAME | ALL | A);
	/* It keeps changing: give up, the instruction will run again. */
	setup_4level();
	g.cmpxchg_gpa = mem_cas;
	ms.cas_changes = GWALK_MAX_TRIES;
	CHECK_EQ(walk(LA, RD), GWALK_RETRY);
	CHECK_EQ(w.status, GWALK_RETRY);
	CHECK_EQ(ms.reads, 4 * GWALK_MAX_TRIES);
	/* A refused update is a memory failure. */
	setup_4level();
	g.cmpxchg_gpa = mem_cas;
	ms.cas_refuse = true;
	CHECK_REFUSED(walk(LA, RD), E4);
}

/* The last 4 bytes of LA's page and the first 4 of the next (PTE 0x168). */
#define LA_CROSS LA4(I4, I3, I2, I1, 0xffc)
#define LA_NEXT LA4(I4, I3, I2, I1 + 1, 0)

static void setup_cross(uint64_t second_flags)
{
	setup_4level();
	g.cmpxchg_gpa = mem_cas;
	put64(E1, DATA1 | ALL);
	put64(E1 + 8, DATA2 | second_flags);
	put64(DATA1 + 0xff8, 0x4433221100000000ull);
	put64(DATA2, 0x0000000088776655ull);
}

TEST(guest_walk_copy_across_pages)
{
	setup_cross(ALL);
	uint64_t v = 0;
	CHECK_EQ(guest_read_linear(&g, LA_CROSS, &v, 8, RD, &w), GWALK_OK);
	CHECK_EQ(v, 0x8877665544332211ull);
	CHECK_EQ(w.gpa, DATA1 + 0xffc);
	CHECK_EQ(get64(E1 + 8), DATA2 | ALL | A); /* read: no D */
	v = 0x0123456789abcdefull;
	CHECK_EQ(guest_write_linear(&g, LA_CROSS, &v, 8, RD, &w), GWALK_OK);
	CHECK_EQ(get64(DATA1 + 0xff8), 0x89abcdef00000000ull);
	CHECK_EQ(get64(DATA2), 0x0000000001234567ull);
	CHECK_EQ(get64(E1), DATA1 | ALL | A | D);
	CHECK_EQ(get64(E1 + 8), DATA2 | ALL | A | D);
	/* Within one page; zero bytes; at most one page's worth, however aligned. */
	v = 0;
	CHECK_EQ(guest_read_linear(&g, LA_CROSS, &v, 4, RD, &w), GWALK_OK);
	CHECK_EQ(v, 0x89abcdef);
	CHECK_EQ(guest_read_linear(&g, LA_CROSS, &v, 0, RD, &w), GWALK_OK);
	static uint8_t big[GWALK_COPY_MAX + 1];
	CHECK_EQ(guest_read_linear(&g, LA_CROSS, big, GWALK_COPY_MAX, RD, &w), GWALK_OK);
	CHECK_EQ(guest_read_linear(&g, LA_CROSS, big, GWALK_COPY_MAX + 1, RD, &w), GWALK_TOO_LONG);
}

TEST(guest_walk_copy_second_page_faults)
{
	uint64_t v = 0x0123456789abcdefull;
	/* Read-only second page: #PF at its first byte, nothing written. */
	setup_cross(P | US);
	CHECK_PF_AT(guest_write_linear(&g, LA_CROSS, &v, 8, RD, &w), PFP | PFW, LA_NEXT);
	CHECK_EQ(get64(DATA1 + 0xff8), 0x4433221100000000ull);
	CHECK_EQ(ms.writes, 0);
	/* Not present, user-mode write; a read may be a fetch, a write never is. */
	setup_cross(0);
	CHECK_PF_AT(guest_write_linear(&g, LA_CROSS, &v, 8, USER, &w), PFW | PFU, LA_NEXT);
	CHECK_PF_AT(guest_read_linear(&g, LA_CROSS, &v, 8, FETCH, &w), PFI, LA_NEXT);
	CHECK_PF_AT(guest_write_linear(&g, LA_CROSS, &v, 8, FETCH | USER, &w), PFW | PFU, LA_NEXT);
	CHECK_EQ(ms.writes, 0);
	/* The data page itself refused; no write callback. */
	setup_cross(ALL);
	put64(E1 + 8, 0x5000 | ALL);
	CHECK_REFUSED(guest_read_linear(&g, LA_CROSS, &v, 8, RD, &w), 0x5000);
	setup_cross(ALL);
	g.write_gpa = NULL;
	CHECK_REFUSED(guest_write_linear(&g, LA_CROSS, &v, 8, RD, &w), DATA1 + 0xffc);
	/* Crossing into non-canonical space from the last mapped page below it. */
	put64(T_PML4 + 8 * 0xff, T_PDPT | ALL);
	put64(T_PDPT + 8 * 0x1ff, T_PD | ALL);
	put64(T_PD + 8 * 0x1ff, T_PT | ALL);
	put64(T_PT + 8 * 0x1ff, DATA1 | ALL);
	CHECK_EQ(guest_read_linear(&g, 0x00007ffffffffff8ull, &v, 8, RD, &w), GWALK_OK);
	CHECK_EQ(guest_read_linear(&g, 0x00007ffffffffffcull, &v, 8, RD, &w), GWALK_BAD_ADDRESS);
}

TEST(guest_walk_copy_wraps_at_4g)
{
	/* 32-bit paging: 0xfffffffc..0x3 spans the last and the first page. */
	setup_32bit();
	put32(PD32 + 4 * 0x3ff, T_PT | ALL);
	put32(T_PT + 4 * 0x3ff, DATA1 | ALL);
	put32(PD32, T_PD | ALL);
	put32(T_PD, DATA2 | ALL);
	put32(DATA1 + 0xffc, 0x44332211u);
	put32(DATA2, 0x88776655u);
	uint64_t v = 0;
	CHECK_EQ(guest_read_linear(&g, 0xfffffffcull, &v, 8, RD, &w), GWALK_OK);
	CHECK_EQ(v, 0x8877665544332211ull);
	/*
	 * PAE paging is not IA-32e mode: linear addresses are 32 bits there
	 * too (SDM Vol. 3A 4.1.1, 4.4), so 0xfffffffc..0x3 is PDPTE 3, PDE
	 * 0x1ff, PTE 0x1ff, then PDPTE 0, PDE 0, PTE 0.
	 */
	setup_pae();
	put64(PAE_PDPT + 24, T_PD | P);
	put64(T_PD + 8 * 0x1ff, T_PT | ALL);
	put64(T_PT + 8 * 0x1ff, DATA1 | ALL);
	put64(PAE_PDPT + 0, (MEM_BASE + 0xa000) | P);
	put64(MEM_BASE + 0xa000, (MEM_BASE + 0xb000) | ALL);
	put64(MEM_BASE + 0xb000, DATA2 | ALL);
	put32(DATA1 + 0xffc, 0xd4c3b2a1u);
	put32(DATA2, 0x5f4e3d2cu);
	v = 0;
	CHECK_EQ(guest_read_linear(&g, 0xfffffffcull, &v, 8, RD, &w), GWALK_OK);
	CHECK_EQ(v, 0x5f4e3d2cd4c3b2a1ull);
	CHECK_EQ(w.gpa, DATA1 + 0xffc);
	/* Paging off: linear = physical, page by page. */
	setup_32bit();
	g.cr0 = CR0_PE;
	put32(MEM_BASE + 0xffc, 0xddccbbaau);
	put32(MEM_BASE + 0x1000, 0x1u);
	CHECK_EQ(guest_read_linear(&g, MEM_BASE + 0xffc, &v, 8, RD, &w), GWALK_OK);
	CHECK_EQ(v, 0x00000001ddccbbaaull);
	CHECK_EQ(w.gpa, MEM_BASE + 0xffc);
}

/*
 * guest_load_pae_pdptes: the 4 entries at CR3[31:5] in one read; a
 * present entry with a reserved bit (2:1, 8:5, 63:MAXPHYADDR) is named;
 * a not-present entry may hold anything; an unreadable table fails.
 */
TEST(guest_load_pae_pdptes_checks_like_mov_cr3)
{
	setup_pae();
	put64(PAE_PDPT + 0, T_PD | P);
	put64(PAE_PDPT + 8, 0xffffffffffffffeull); /* not present: anything goes */
	put64(PAE_PDPT + 24, (1ull << 35) | P);	 /* bit 35 < MAXPHYADDR 36: fine */
	uint64_t e[4] = {0};
	unsigned bad = 9;
	ms.reads = 0;
	CHECK_EQ(guest_load_pae_pdptes(&g, e, &bad), PAE_PDPTES_OK);
	CHECK_EQ(ms.reads, 1);
	CHECK_EQ(e[0], T_PD | P);
	CHECK_EQ(e[1], 0xffffffffffffffeull);
	CHECK_EQ(e[2], T_PD | P);
	CHECK_EQ(e[3], (1ull << 35) | P);
	CHECK_EQ(bad, 9);

	static const uint64_t reserved[] = {RW, US, 1ull << 5, 1ull << 8, 1ull << 36, 1ull << 63};
	for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		put64(PAE_PDPT + 24, (1ull << 35) | P | reserved[i]);
		bad = 9;
		CHECK_EQ(guest_load_pae_pdptes(&g, e, &bad), PAE_PDPTES_RESERVED);
		CHECK_EQ(bad, 3);
	}
	/* Bits 4:3 (PWT, PCD) and 11:9 are not reserved. */
	put64(PAE_PDPT + 24, P | (3ull << 3) | (7ull << 9));
	CHECK_EQ(guest_load_pae_pdptes(&g, e, &bad), PAE_PDPTES_OK);

	g.cr3 = MEM_BASE + MEM_SIZE; /* outside the memory the callbacks serve */
	CHECK_EQ(guest_load_pae_pdptes(&g, e, &bad), PAE_PDPTES_UNREADABLE);
}
