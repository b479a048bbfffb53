/*
 * guest_walk.h - translating an L1 linear address to a guest-physical
 * address through L1's own page tables, as the CPU would (SDM Vol. 3A
 * chapter 4).
 *
 * L0 needs this to emulate instructions whose memory operand is a linear
 * address of L1 (the VMX instructions of nested VMX: their operand comes
 * from nested/operand.h).  All paging modes: none (CR0.PG = 0), 32-bit
 * (with 4 MiB pages when CR4.PSE = 1, PSE-36), PAE (2 MiB pages), 4-level
 * and 5-level (2 MiB and 1 GiB pages); the access-rights checks of 4.6
 * (U/S by access mode, R/W with CR0.WP, XD with IA32_EFER.NXE, SMEP, SMAP
 * with RFLAGS.AC); reserved bits per MAXPHYADDR; the page-fault error
 * code of 4.7.  Not modelled: protection keys (CR4.PKE/PKS), shadow
 * stacks (CET), HLAT, LAM, SGX; a TLB (every call walks).
 *
 * Memory is reached only through callbacks over guest-physical addresses
 * (L0 implements them over EPT01, refusing its own memory; the unit tests
 * over a host buffer).  A refused read or write is not a #PF: it is
 * reported as GWALK_MEM_FAILED with the address, for the caller to turn
 * into #GP or an EPT-violation-like outcome.
 *
 * Accessed and dirty flags (4.8): set, like the CPU, when the walk
 * succeeds (A in every paging-structure entry used, D in the leaf for a
 * write) through the atomic cmpxchg_gpa callback; when that is NULL they
 * are not set.  An entry that changed between the read and the update
 * restarts the walk (the CPU's locked update would have seen the new
 * value); after GWALK_MAX_TRIES walks the result is GWALK_RETRY.
 *
 * Pure and freestanding: no globals, no allocation.
 */
#ifndef MICROHV_MM_GUEST_WALK_H
#define MICROHV_MM_GUEST_WALK_H

#include "arch/x86/regs.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The control-register and IA32_EFER bits the walk reads (SDM Vol. 3A 2.5, 2.2.1). */

/* Paging-structure entry bits (SDM Vol. 3A 4.3-4.5, the entry-format tables). */
#define GW_PTE_P (1ull << 0)
#define GW_PTE_RW (1ull << 1)
#define GW_PTE_US (1ull << 2)
#define GW_PTE_A (1ull << 5)
#define GW_PTE_D (1ull << 6)
#define GW_PTE_PS (1ull << 7)
#define GW_PTE_XD (1ull << 63)

/* Page-fault error code (SDM Vol. 3A 4.7). */
#define PF_ERR_P (1u << 0)    /* 0: not present; 1: protection or reserved bit */
#define PF_ERR_W (1u << 1)    /* the access was a write */
#define PF_ERR_U (1u << 2)    /* the access was a user-mode access */
#define PF_ERR_RSVD (1u << 3) /* a reserved bit was set */
#define PF_ERR_ID (1u << 4)   /* instruction fetch, with SMEP or PAE+NXE */

/* The access (flags for guest_walk's access argument). */
#define GWALK_WRITE (1u << 0)	 /* a data write */
#define GWALK_FETCH (1u << 1)	 /* an instruction fetch */
#define GWALK_USER (1u << 2)	 /* a user-mode access: CPL 3, not implicit */
#define GWALK_IMPLICIT (1u << 3) /* an implicit supervisor-mode access (GDT, TSS...) */

#define GWALK_MAX_TRIES 4
#define GWALK_COPY_MAX 4096 /* guest_read_linear/guest_write_linear: at most 2 pages */

enum gwalk_status {
	GWALK_OK,
	GWALK_PAGE_FAULT,  /* error_code, cr2: inject #PF */
	GWALK_MEM_FAILED,  /* a callback refused failed_gpa */
	GWALK_MEM_FAULT,   /* refused, and the memory's owner took it as its fault (refused) */
	GWALK_BAD_ADDRESS, /* not canonical (IA-32e paging), or >= 4 GiB (other modes) */
	GWALK_RETRY,	   /* paging entries kept changing: re-execute the instruction */
	GWALK_TOO_LONG,	   /* copy longer than GWALK_COPY_MAX */
};

enum gwalk_cas {
	GWALK_CAS_DONE,	   /* the value was old and is now new */
	GWALK_CAS_CHANGED, /* the value was not old: nothing written */
	GWALK_CAS_FAILED,  /* the address is refused */
};

enum gwalk_mode {
	GWALK_MODE_NONE,   /* CR0.PG = 0: linear = physical */
	GWALK_MODE_32BIT,  /* CR4.PAE = 0 */
	GWALK_MODE_PAE,	   /* CR4.PAE = 1, IA32_EFER.LMA = 0 */
	GWALK_MODE_4LEVEL, /* IA32_EFER.LMA = 1, CR4.LA57 = 0 */
	GWALK_MODE_5LEVEL, /* IA32_EFER.LMA = 1, CR4.LA57 = 1 */
};

struct guest_walk;

/* L1's paging state and how to reach its memory. */
struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
	bool rflags_ac;	     /* RFLAGS.AC, for SMAP */
	unsigned maxphyaddr; /* as L1 sees it (CPUID.80000008H:EAX[7:0]); clamped to 32..52 */
	bool page_1g;	     /* CPUID.80000001H:EDX.Page1GB as L1 sees it */
	/*
	 * PAE paging walks from the four PDPTE registers (SDM Vol. 3A 4.4.1),
	 * which are not memory: with EPT, VM exits save them in GUEST_PDPTE0..3.
	 * pdpte_valid: use pdpte[]; otherwise read them at CR3[31:5].
	 */
	bool pdpte_valid;
	uint64_t pdpte[4];
	/* Reads len bytes of guest-physical memory; false: refused. */
	bool (*read_gpa)(void *ctx, uint64_t gpa, void *buf, size_t len);
	/* Writes them (guest_write_linear only; NULL: every write is refused). */
	bool (*write_gpa)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	/* Atomic compare-exchange of a 4- or 8-byte entry (NULL: A/D flags not set). */
	enum gwalk_cas (*cmpxchg_gpa)(void *ctx, uint64_t gpa, uint64_t old, uint64_t new_val,
				      size_t len);
	void *ctx;
	/*
	 * Told of every refused access before the walk returns (NULL: nobody):
	 * true when the memory's owner takes the refusal as a fault of its own
	 * (nested EPT: L1's EPT violation, nested/ept12.h), which the status
	 * then says (GWALK_MEM_FAULT: the caller injects nothing).
	 */
	bool (*refused)(void *ctx, const struct guest_walk *w);
};

/* The rights of a linear address's translation (SDM Vol. 3A 4.6.1). */
#define GWALK_LA_USER (1u << 0)	    /* U/S = 1 in every entry */
#define GWALK_LA_WRITABLE (1u << 1) /* R/W = 1 in every entry */
#define GWALK_LA_XD (1u << 2)	    /* XD = 1 in some entry (IA32_EFER.NXE = 1) */

struct guest_walk {
	enum gwalk_status status;
	uint64_t gpa;	     /* GWALK_OK: the translation */
	uint64_t page_size;  /* GWALK_OK: 4 KiB (also with paging off), 2 MiB, 4 MiB, 1 GiB */
	uint32_t error_code; /* GWALK_PAGE_FAULT: the #PF error code */
	uint64_t cr2;	     /* GWALK_PAGE_FAULT: the faulting linear address */
	uint64_t failed_gpa; /* GWALK_MEM_FAILED/FAULT: the refused address */
	/*
	 * GWALK_MEM_FAILED/FAULT: the linear address being accessed; whether
	 * the refused access was one of its translation's (a paging-structure
	 * entry or its A/D update) rather than the access itself; for the
	 * latter the translation's rights (GWALK_LA_*; 0 with paging off).
	 */
	uint64_t failed_la;
	bool failed_paging;
	unsigned failed_la_rights;
	unsigned la_rights; /* GWALK_OK: the translation's rights (GWALK_LA_*) */
};

/* The paging mode of g (SDM Vol. 3A 4.1.1, table 4-1). */
enum gwalk_mode guest_paging_mode(const struct guest_paging *g);

/*
 * Translates la for the access (GWALK_* flags) like the CPU (SDM Vol. 3A
 * 4.3-4.8): the walk stops at the first entry that is not present (#PF,
 * P = 0) or has a reserved bit set (#PF, P = 1, RSVD = 1), then the
 * access rights of the whole walk are checked (#PF, P = 1).  The error
 * code's W/R, U/S and I/D bits describe the access.  la must be canonical
 * in IA-32e mode (a non-canonical address is #GP or #SS, the caller's
 * check) and below 4 GiB in the other modes.  Returns out->status.
 */
enum gwalk_status guest_walk(const struct guest_paging *g, uint64_t la, unsigned access,
			     struct guest_walk *out);

enum pae_pdptes {
	PAE_PDPTES_OK,
	PAE_PDPTES_UNREADABLE, /* the table at CR3[31:5] cannot be read */
	PAE_PDPTES_RESERVED,   /* a present PDPTE sets a reserved bit (*bad: which) */
};

/*
 * Loads the four PDPTEs of PAE paging from the table at g->cr3[31:5] and
 * checks them as MOV to CR3 does (SDM Vol. 3A 4.4.1): a present PDPTE
 * must not set bits 2:1, 8:5 or 63:MAXPHYADDR.  What VM entries (27.3.1.6,
 * 27.4) and VM exits (28.5.4) do to load them for a guest or host that
 * uses PAE paging.
 */
enum pae_pdptes guest_load_pae_pdptes(const struct guest_paging *g, uint64_t pdpte[4],
				      unsigned *bad);

/*
 * Copies len (<= GWALK_COPY_MAX) bytes from/to L1's linear address la,
 * translating each page (the access is a read, or a write plus any
 * GWALK_USER/GWALK_IMPLICIT flags given).  Every page is translated before
 * any byte is copied, so a fault on the second page writes nothing.  On
 * failure out describes it (a #PF on the second page has cr2 = the first
 * byte of the access in that page); on success out->gpa is the first byte's
 * GPA.  Outside IA-32e mode linear addresses wrap at 4 GiB.
 */
enum gwalk_status guest_read_linear(const struct guest_paging *g, uint64_t la, void *buf,
				    size_t len, unsigned access, struct guest_walk *out);
enum gwalk_status guest_write_linear(const struct guest_paging *g, uint64_t la, const void *buf,
				     size_t len, unsigned access, struct guest_walk *out);

#endif
