/*
 * nested_exits.c - group D, part 1: VM exits caused by instructions in L2
 * (SDM Vol. 3C 26.1 "Instructions that cause VM exits", 28.2 "Recording
 * VM-exit information": the basic exit reasons of Appendix C, the exit
 * qualifications of tables 28-1 to 28-5, the instruction length and the
 * instruction-information formats of 28.2.5).
 *
 * Each check runs one blob of nested_l2.asm from a freshly set-up guest
 * state with the default controls plus the one under test, expects the
 * exit at the marked instruction, then advances GUEST_RIP by the reported
 * length and resumes, expecting the blob's closing VMCALL right there.
 * Controls the capability MSRs do not offer make the check fail ("not
 * offered"), except where the SDM gives the instruction another outcome
 * (no MONITOR/XSAVE in CPUID: #UD, seen as an exception exit).
 */
#include "nested_test.h"

#define L2(sym) ((uint64_t)(uintptr_t)(sym))
extern char l2_vmcall[], l2_cpuid[], l2_hlt[], l2_invlpg[], l2_rdtsc[], l2_rdpmc[], l2_invd[];
extern char l2_wbinvd[], l2_xsetbv[], l2_monitor[], l2_mwait[], l2_pause[], l2_sgdt[], l2_str[];
extern char l2_cr0[], l2_cr0_exit[], l2_cr4[], l2_cr4_exit[], l2_cr3[], l2_cr3_exit[];
extern char l2_cr3_store[], l2_cr8_load[], l2_cr8_store[], l2_dr_write[], l2_dr_read[];
extern char l2_out80[], l2_in_dx[], l2_io_bitmap[], l2_io_bitmap_exit[];
extern char l2_msr[], l2_rdmsr_exit[], l2_wrmsr_exit[];
extern char l2_vmxon[], l2_vmxoff[], l2_vmclear[], l2_vmptrld[], l2_vmptrst[], l2_vmread[];
extern char l2_vmwrite[], l2_vmlaunch[], l2_vmresume[];

#define CR0_TS (1ull << 3)
#define CR0_AM (1ull << 18)
#define CR4_TSD (1ull << 2)
#define CR4_VMXE (1ull << 13)
#define CR4_OSXSAVE (1ull << 18)
#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define INVLPG_ADDR 0x123000ull
#define IO_PORT_EXITING 0x84
#define L2_WRMSR_VALUE 0x13572000ull
#define L2_SYSENTER_ESP 0x5a5a5000ull

/* Instruction-information masks: the bits the SDM defines (28.2.5 tables). */
#define INFO_MEM_OPERAND 0x0fff8783u /* scaling, address size, reg/mem, segment, index, base */
#define INFO_VMRW_MEM 0xffff8783u    /* ... and reg2 */
#define INFO_VMRW_REG 0xf0000478u    /* reg1, reg/mem, reg2 */
#define INFO_DT_MEM 0x3fff8383u	     /* LGDT/SGDT...: memory fields and the identity */
#define INFO_TR_REG 0x30000478u	     /* LLDT/STR...: reg1, reg/mem and the identity */
/* [rbx] in 64-bit code: address size 64 (2), DS (3), no index, base RBX (3). */
#define INFO_RBX_OPERAND ((2u << 7) | (3u << 15) | (1u << 22) | (3u << 23))

void nx_reset_l2(void)
{
	nx_vmcs_controls();
	nx_guest64();
	for (unsigned i = 0; i < 16; i++)
		nx_l2_gpr[i] = 0;
	nx_l2_gpr[GPR_RBX] = nx.page[PG_SCRATCH];
}

bool nx_set_ctl(enum nx_ctl c, uint32_t bits, const char *what)
{
	static const uint32_t field[NX_CTL_COUNT] = {
	    VMCS_PIN_BASED_VM_EXEC_CONTROL, VMCS_CPU_BASED_VM_EXEC_CONTROL,
	    VMCS_SECONDARY_VM_EXEC_CONTROL, VMCS_VM_EXIT_CONTROLS,
	    VMCS_VM_ENTRY_CONTROLS,
	};
	static const char *const name[NX_CTL_COUNT] = {"pin", "proc", "proc2", "exit", "entry"};
	if (!nx_allowed(c, bits)) {
		nx_check(false, what, "not offered: %s may-be-1 0x%x lacks 0x%x", name[c],
			 nx.may1[c], bits & ~nx.may1[c]);
		return false;
	}
	vw(field[c], vr(field[c]) | bits);
	return true;
}

struct want {
	uint32_t reason;
	int64_t qual; /* -1: not defined for this exit */
	int len;      /* -1: not defined */
	uint32_t info, info_mask;
};

/*
 * Runs L2 at entry, expects the exit w at instruction at, then skips the
 * instruction and expects the blob's VMCALL right after it.
 */
static bool exit_and_skip(const char *what, uint64_t entry, uint64_t at, struct want w)
{
	struct nx_exit e, n = {0};
	nx_run(entry, NX_RFLAGS_FIXED, &e);
	bool ok = !e.entry && e.reason == w.reason && e.rip == at &&
		  (w.qual < 0 || e.qual == (uint64_t)w.qual) &&
		  (w.len < 0 || e.len == (uint32_t)w.len) && (e.insn_info & w.info_mask) == w.info;
	bool resumed =
	    ok && nx_skip(&e, &n) && n.reason == EXIT_REASON_VMCALL && n.rip == at + e.len;
	if (ok && resumed)
		nx_check(true, what, "%s; VMCALL next", nx_exit_str(&e));
	else
		nx_check(false, what, "%s; then %s; want reason %u qual 0x%llx len %d info 0x%x",
			 nx_exit_str(&e), ok ? nx_exit_str(&n) : "-", w.reason,
			 (unsigned long long)w.qual, w.len, w.info);
	return ok && resumed;
}

static struct want simple(uint32_t reason, int len)
{
	return (struct want){reason, -1, len, 0, 0};
}

static void plain_instructions(void)
{
	struct nx_exit e;
	nx_reset_l2();
	nx_run(L2(l2_vmcall), NX_RFLAGS_FIXED, &e);
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && e.len == 3 &&
		     e.rip == L2(l2_vmcall) && e.rsp == nx_l2_stack_top() &&
		     e.rflags == NX_RFLAGS_FIXED && e.cr0 == cr0 && e.cr4 == cr4,
		 "VMCALL in L2 exits to L1 (reason 18, L2's RSP, RFLAGS, CR0, CR4)",
		 "%s rsp ok %d rflags 0x%llx cr0 0x%llx cr4 0x%llx", nx_exit_str(&e),
		 e.rsp == nx_l2_stack_top(), (unsigned long long)e.rflags,
		 (unsigned long long)e.cr0, (unsigned long long)e.cr4);

	nx_reset_l2();
	exit_and_skip("CPUID exits (10) unconditionally", L2(l2_cpuid), L2(l2_cpuid),
		      simple(EXIT_REASON_CPUID, 2));
	nx_reset_l2();
	exit_and_skip("INVD exits (13) unconditionally", L2(l2_invd), L2(l2_invd),
		      simple(EXIT_REASON_INVD, 2));
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_HLT_EXITING, "HLT exits (12) with HLT exiting"))
		exit_and_skip("HLT exits (12) with HLT exiting", L2(l2_hlt), L2(l2_hlt),
			      simple(EXIT_REASON_HLT, 1));
	nx_reset_l2();
	nx_l2_gpr[GPR_RAX] = INVLPG_ADDR;
	if (nx_set_ctl(NX_PROC, CPU_INVLPG_EXITING, "INVLPG exits (14), qualification = address"))
		exit_and_skip("INVLPG exits (14), qualification = address", L2(l2_invlpg),
			      L2(l2_invlpg),
			      (struct want){EXIT_REASON_INVLPG, INVLPG_ADDR, 3, 0, 0});
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_RDTSC_EXITING, "RDTSC exits (16) with RDTSC exiting"))
		exit_and_skip("RDTSC exits (16) with RDTSC exiting", L2(l2_rdtsc), L2(l2_rdtsc),
			      simple(EXIT_REASON_RDTSC, 2));
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_RDPMC_EXITING, "RDPMC exits (15) with RDPMC exiting"))
		exit_and_skip("RDPMC exits (15) with RDPMC exiting", L2(l2_rdpmc), L2(l2_rdpmc),
			      simple(EXIT_REASON_RDPMC, 2));
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_PAUSE_EXITING, "PAUSE exits (40) with PAUSE exiting"))
		exit_and_skip("PAUSE exits (40) with PAUSE exiting", L2(l2_pause), L2(l2_pause),
			      simple(EXIT_REASON_PAUSE, 2));
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC2, CPU2_WBINVD_EXITING, "WBINVD exits (54) with WBINVD exiting"))
		exit_and_skip("WBINVD exits (54) with WBINVD exiting", L2(l2_wbinvd), L2(l2_wbinvd),
			      simple(EXIT_REASON_WBINVD, 2));
}

/* MONITOR/MWAIT exit by their controls where CPUID has them, else #UD. */
static void monitor_mwait(void)
{
	struct cpuid_regs c;
	cpuid_count(1, 0, &c);
	bool has = c.ecx & CPUID_1_ECX_MONITOR;
	nx_reset_l2();
	nx_l2_gpr[GPR_RAX] = nx.page[PG_SCRATCH];
	if (!has) {
		struct nx_exit e;
		nx_run(L2(l2_monitor), NX_RFLAGS_FIXED, &e);
		nx_check(!e.entry && e.reason == 0 &&
			     e.intr_info == (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | VEC_UD),
			 "MONITOR raises #UD (CPUID.1:ECX.MONITOR = 0)", "%s intr 0x%x",
			 nx_exit_str(&e), e.intr_info);
		return;
	}
	if (nx_set_ctl(NX_PROC, CPU_MONITOR_EXITING, "MONITOR exits (39) with MONITOR exiting"))
		exit_and_skip("MONITOR exits (39) with MONITOR exiting", L2(l2_monitor),
			      L2(l2_monitor), simple(EXIT_REASON_MONITOR, 3));
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_MWAIT_EXITING, "MWAIT exits (36) with MWAIT exiting"))
		exit_and_skip("MWAIT exits (36) with MWAIT exiting", L2(l2_mwait), L2(l2_mwait),
			      simple(EXIT_REASON_MWAIT, 3));
}

/* XSETBV exits unconditionally once CR4.OSXSAVE lets it execute. */
static void xsetbv(void)
{
	struct cpuid_regs c;
	cpuid_count(1, 0, &c);
	nx_reset_l2();
	nx_l2_gpr[GPR_RAX] = 3; /* x87 | SSE */
	if (!(c.ecx & CPUID_1_ECX_XSAVE) || !(nx.cr4_fixed1 & CR4_OSXSAVE)) {
		struct nx_exit e;
		nx_run(L2(l2_xsetbv), NX_RFLAGS_FIXED, &e);
		nx_check(!e.entry && e.reason == 0 && (e.intr_info & 0xff) == VEC_UD,
			 "XSETBV raises #UD (no XSAVE)", "%s intr 0x%x", nx_exit_str(&e),
			 e.intr_info);
		return;
	}
	vw(VMCS_GUEST_CR4, vr(VMCS_GUEST_CR4) | CR4_OSXSAVE);
	exit_and_skip("XSETBV exits (55) with CR4.OSXSAVE = 1", L2(l2_xsetbv), L2(l2_xsetbv),
		      simple(EXIT_REASON_XSETBV, 3));
}

static void descriptor_tables(void)
{
	const char *what = "SGDT exits (46) with descriptor-table exiting";
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC2, CPU2_DESC_TABLE_EXITING, what))
		exit_and_skip(what, L2(l2_sgdt), L2(l2_sgdt),
			      (struct want){EXIT_REASON_GDTR_IDTR, 0, 3,
					    INFO_RBX_OPERAND | (0u << 28), INFO_DT_MEM});
	what = "STR exits (47) with descriptor-table exiting";
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC2, CPU2_DESC_TABLE_EXITING, what))
		exit_and_skip(what, L2(l2_str), L2(l2_str),
			      (struct want){EXIT_REASON_LDTR_TR, -1, 3,
					    (1u << 28) | (1u << 10) | (0u << 3), INFO_TR_REG});
}

/* CR qualification (table 28-3): CR number, access type, GPR. */
static int64_t crq(unsigned cr, unsigned access, unsigned gpr)
{
	return (int64_t)(cr | (access << 4) | (gpr << 8));
}

static void control_registers(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();

	/* CR0: L1 owns TS, the read shadow says TS = 1. */
	nx_reset_l2();
	vw(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vw(VMCS_CR0_READ_SHADOW, cr0 | CR0_TS);
	bool ok = exit_and_skip("MOV to CR0 of an owned bit unlike the shadow exits (28)",
				L2(l2_cr0), L2(l2_cr0_exit),
				(struct want){EXIT_REASON_CR_ACCESS, crq(0, 0, GPR_RBX), 3, 0, 0});
	uint64_t g_cr0 = vr(VMCS_GUEST_CR0), seen = nx_l2_gpr[GPR_RAX];
	nx_check(ok && g_cr0 == (cr0 ^ CR0_AM) && (seen & CR0_TS),
		 "MOV to CR0 of unowned bits only does not exit; reads see the shadow",
		 "guest CR0 0x%llx (want 0x%llx), L2 read 0x%llx", (unsigned long long)g_cr0,
		 (unsigned long long)(cr0 ^ CR0_AM), (unsigned long long)seen);

	/* CR4: L1 owns VMXE, the read shadow says VMXE = 0. */
	nx_reset_l2();
	vw(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE);
	vw(VMCS_CR4_READ_SHADOW, cr4 & ~CR4_VMXE);
	ok = exit_and_skip("MOV to CR4 of an owned bit unlike the shadow exits (28)", L2(l2_cr4),
			   L2(l2_cr4_exit),
			   (struct want){EXIT_REASON_CR_ACCESS, crq(4, 0, GPR_RDX), 3, 0, 0});
	uint64_t g_cr4 = vr(VMCS_GUEST_CR4);
	seen = nx_l2_gpr[GPR_RAX];
	nx_check(ok && g_cr4 == (cr4 ^ CR4_TSD) && !(seen & CR4_VMXE),
		 "MOV to CR4 of unowned bits only does not exit; reads see the shadow",
		 "guest CR4 0x%llx (want 0x%llx), L2 read 0x%llx", (unsigned long long)g_cr4,
		 (unsigned long long)(cr4 ^ CR4_TSD), (unsigned long long)seen);

	/* CR3: load exiting with one target value (count within IA32_VMX_MISC[24:16]). */
	const char *what = "MOV to CR3 exits (28) unless the value is a CR3 target";
	nx_reset_l2();
	unsigned targets = (unsigned)((nx.misc >> 16) & 0x1ff);
	if (!targets) {
		nx_check(false, what, "not offered: IA32_VMX_MISC[24:16] = 0 CR3-target values");
	} else if (nx_set_ctl(NX_PROC, CPU_CR3_LOAD_EXITING, what)) {
		vw(VMCS_CR3_TARGET_COUNT, 1);
		vw(VMCS_CR3_TARGET_VALUE0, nx.page[PG_L2_PML4]);
		exit_and_skip(what, L2(l2_cr3), L2(l2_cr3_exit),
			      (struct want){EXIT_REASON_CR_ACCESS, crq(3, 0, GPR_RDX), 3, 0, 0});
	}
	what = "MOV from CR3 exits (28) with CR3-store exiting";
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_CR3_STORE_EXITING, what))
		exit_and_skip(what, L2(l2_cr3_store), L2(l2_cr3_store),
			      (struct want){EXIT_REASON_CR_ACCESS, crq(3, 1, GPR_RSI), 3, 0, 0});

	what = "MOV to CR8 exits (28) with CR8-load exiting";
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_CR8_LOAD_EXITING, what))
		exit_and_skip(what, L2(l2_cr8_load), L2(l2_cr8_load),
			      (struct want){EXIT_REASON_CR_ACCESS, crq(8, 0, GPR_RAX), 4, 0, 0});
	what = "MOV from CR8 exits (28) with CR8-store exiting";
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_CR8_STORE_EXITING, what))
		exit_and_skip(what, L2(l2_cr8_store), L2(l2_cr8_store),
			      (struct want){EXIT_REASON_CR_ACCESS, crq(8, 1, GPR_RBX), 4, 0, 0});

	/* MOV DR (table 28-4): DR number, direction (1 = from DR), GPR. */
	what = "MOV to DR0 exits (29) with MOV-DR exiting";
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_MOV_DR_EXITING, what))
		exit_and_skip(
		    what, L2(l2_dr_write), L2(l2_dr_write),
		    (struct want){EXIT_REASON_DR_ACCESS, 0 | (0 << 4) | (GPR_RBX << 8), 3, 0, 0});
	what = "MOV from DR7 exits (29) with MOV-DR exiting";
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_MOV_DR_EXITING, what))
		exit_and_skip(
		    what, L2(l2_dr_read), L2(l2_dr_read),
		    (struct want){EXIT_REASON_DR_ACCESS, 7 | (1 << 4) | (GPR_RCX << 8), 3, 0, 0});
}

/* I/O qualification (table 28-5): size - 1, IN, string, REP, immediate, port. */
static int64_t ioq(unsigned size, bool in, bool imm, unsigned port)
{
	return (int64_t)((size - 1) | ((unsigned)in << 3) | ((unsigned)imm << 6) | (port << 16));
}

static void io_and_msr(void)
{
	const char *what = "OUT imm8 exits (30) with unconditional I/O exiting";
	nx_reset_l2();
	if (nx_set_ctl(NX_PROC, CPU_UNCOND_IO_EXITING, what))
		exit_and_skip(
		    what, L2(l2_out80), L2(l2_out80),
		    (struct want){EXIT_REASON_IO_INSTRUCTION, ioq(1, false, true, 0x80), 2, 0, 0});
	what = "IN EAX, DX exits (30) with unconditional I/O exiting";
	nx_reset_l2();
	nx_l2_gpr[GPR_RDX] = IO_PORT_EXITING;
	if (nx_set_ctl(NX_PROC, CPU_UNCOND_IO_EXITING, what))
		exit_and_skip(what, L2(l2_in_dx), L2(l2_in_dx),
			      (struct want){EXIT_REASON_IO_INSTRUCTION,
					    ioq(4, true, false, IO_PORT_EXITING), 1, 0, 0});
	/* I/O bitmap A: the port's bit set exits, port 0x80's clear does not. */
	what = "I/O bitmaps: port 0x84 (bit set) exits, port 0x80 (clear) does not";
	nx_reset_l2();
	nx_l2_gpr[GPR_RDX] = IO_PORT_EXITING;
	if (nx_set_ctl(NX_PROC, CPU_USE_IO_BITMAPS, what)) {
		uint8_t *a = (uint8_t *)(uintptr_t)nx.page[PG_IO_A];
		a[IO_PORT_EXITING / 8] |= 1u << (IO_PORT_EXITING % 8);
		exit_and_skip(what, L2(l2_io_bitmap), L2(l2_io_bitmap_exit),
			      (struct want){EXIT_REASON_IO_INSTRUCTION,
					    ioq(4, true, false, IO_PORT_EXITING), 1, 0, 0});
	}
	/*
	 * Under microhv: I/O bitmap A in L0's memory.  SDM 27.2.1.1 checks only
	 * alignment and width, so the entry succeeds; L0 never hands its own
	 * page to the CPU, and reads it as all ones (docs/nested.md): port
	 * 0x80, whose bit is clear in L1's real page, exits.
	 */
	what = "I/O bitmap A in L0's memory: the entry works, port 0x80 exits (all ones)";
	nx_reset_l2();
	if (nx.microhv && nx.l0_base && nx_set_ctl(NX_PROC, CPU_USE_IO_BITMAPS, what)) {
		uint64_t io_a = vr(VMCS_IO_BITMAP_A);
		vw(VMCS_IO_BITMAP_A, nx.l0_base);
		exit_and_skip(
		    what, L2(l2_out80), L2(l2_out80),
		    (struct want){EXIT_REASON_IO_INSTRUCTION, ioq(1, false, true, 0x80), 2, 0, 0});
		vw(VMCS_IO_BITMAP_A, io_a);
	}

	/* MSR bitmap (25.6.9): read-low at 0, write-low at 2048; 0x174 set, 0x175 clear. */
	nx_reset_l2();
	uint8_t *bm = (uint8_t *)(uintptr_t)nx.page[PG_MSR_BITMAP];
	bm[MSR_IA32_SYSENTER_CS / 8] |= 1u << (MSR_IA32_SYSENTER_CS % 8);
	bm[2048 + MSR_IA32_SYSENTER_CS / 8] |= 1u << (MSR_IA32_SYSENTER_CS % 8);
	nx_l2_gpr[GPR_R10] = L2_WRMSR_VALUE;
	struct nx_exit e, w = {.entry = NX_FAULT}, v = {.entry = NX_FAULT};
	nx_run(L2(l2_msr), NX_RFLAGS_FIXED, &e);
	uint64_t esp_read = nx_l2_gpr[GPR_R8] | (nx_l2_gpr[GPR_R9] << 32);
	bool rd = !e.entry && e.reason == EXIT_REASON_MSR_READ && e.rip == L2(l2_rdmsr_exit) &&
		  e.len == 2 && nx_l2_gpr[GPR_RCX] == MSR_IA32_SYSENTER_CS;
	nx_check(rd, "RDMSR of an MSR with its read bit set exits (31)", "%s rcx 0x%llx",
		 nx_exit_str(&e), (unsigned long long)nx_l2_gpr[GPR_RCX]);
	nx_check(rd && esp_read == L2_SYSENTER_ESP,
		 "RDMSR of an MSR with its bit clear does not exit (reads L2's value)",
		 "read 0x%llx, want 0x%llx", (unsigned long long)esp_read, L2_SYSENTER_ESP);
	/* The rest only where L2 stopped where it should. */
	if (rd)
		nx_skip(&e, &w);
	bool wr = !w.entry && w.reason == EXIT_REASON_MSR_WRITE && w.rip == L2(l2_wrmsr_exit) &&
		  w.len == 2 && nx_l2_gpr[GPR_RCX] == MSR_IA32_SYSENTER_CS;
	nx_check(wr, "WRMSR of an MSR with its write bit set exits (32)", "%s rcx 0x%llx",
		 nx_exit_str(&w), (unsigned long long)nx_l2_gpr[GPR_RCX]);
	if (wr)
		nx_skip(&w, &v);
	uint64_t esp = vr(VMCS_GUEST_SYSENTER_ESP);
	nx_check(!v.entry && v.reason == EXIT_REASON_VMCALL && esp == L2_WRMSR_VALUE,
		 "WRMSR of an MSR with its bit clear does not exit (L2's MSR written)",
		 "%s GUEST_SYSENTER_ESP 0x%llx", nx_exit_str(&v), (unsigned long long)esp);
}

/* Every VMX instruction in L2 exits to L1 with its instruction information. */
static void vmx_instructions(void)
{
	static const struct {
		const char *what;
		char *blob;
		struct want w;
	} t[] = {
	    {"VMXON in L2 exits (27) with operand info",
	     l2_vmxon,
	     {EXIT_REASON_VMXON, 8, 5, INFO_RBX_OPERAND, INFO_MEM_OPERAND}},
	    {"VMXOFF in L2 exits (26)", l2_vmxoff, {EXIT_REASON_VMXOFF, -1, 3, 0, 0}},
	    {"VMCLEAR in L2 exits (19) with operand info",
	     l2_vmclear,
	     {EXIT_REASON_VMCLEAR, 0, 4, INFO_RBX_OPERAND, INFO_MEM_OPERAND}},
	    {"VMPTRLD in L2 exits (21) with operand info",
	     l2_vmptrld,
	     {EXIT_REASON_VMPTRLD, 0, 3, INFO_RBX_OPERAND, INFO_MEM_OPERAND}},
	    {"VMPTRST in L2 exits (22) with operand info",
	     l2_vmptrst,
	     {EXIT_REASON_VMPTRST, 0, 3, INFO_RBX_OPERAND, INFO_MEM_OPERAND}},
	    {"VMREAD in L2 exits (23) with register info",
	     l2_vmread,
	     {EXIT_REASON_VMREAD, -1, 3, (GPR_RCX << 3) | (1u << 10) | (GPR_RAX << 28),
	      INFO_VMRW_REG}},
	    {"VMWRITE in L2 exits (25) with operand info",
	     l2_vmwrite,
	     {EXIT_REASON_VMWRITE, 16, 4, INFO_RBX_OPERAND | (GPR_RAX << 28), INFO_VMRW_MEM}},
	    {"VMLAUNCH in L2 exits (20)", l2_vmlaunch, {EXIT_REASON_VMLAUNCH, -1, 3, 0, 0}},
	    {"VMRESUME in L2 exits (24)", l2_vmresume, {EXIT_REASON_VMRESUME, -1, 3, 0, 0}},
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		nx_reset_l2();
		nx_l2_gpr[GPR_RAX] = VMCS_GUEST_RIP;
		exit_and_skip(t[i].what, L2(t[i].blob), L2(t[i].blob), t[i].w);
	}
}

void nx_group_exits(void)
{
	nx_say("microhv-nested: group D - VM exits from L2: instructions (SDM Vol. 3C 26.1, 28.2)");
	uint64_t r = nx_vmcs_init(PG_VMCS_A);
	if (nx_outcome(r) != NX_SUCCEED) {
		nx_check(false, "VMPTRLD of the VMCS for group D", "%s", nx_result_str(r));
		return;
	}
	plain_instructions();
	monitor_mwait();
	xsetbv();
	descriptor_tables();
	control_registers();
	io_and_msr();
	vmx_instructions();
}
