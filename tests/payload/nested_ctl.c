/*
 * nested_ctl.c - group D, part 3: the secondary controls of issue 12,
 * item 6 as L2 meets them: RDRAND and RDSEED exiting (SDM Vol. 3C 26.1.3,
 * exit reasons 57 and 61, the instruction information of 28.2.5),
 * PAUSE-loop exiting (26.1.3 "PAUSE", reason 40) and TSC offsetting with
 * TSC scaling (26.3 "RDTSC", "RDMSR").
 *
 * Each check runs only where the capability MSRs offer its control and,
 * for RDRAND/RDSEED, CPUID has the instruction (without it the
 * instruction raises #UD, which is no test of the control); otherwise a
 * note says why it was skipped, so that the bare run and the run under
 * microhv, each reading its own capabilities, agree.
 */
#include "nested_test.h"

#define L2(sym) ((uint64_t)(uintptr_t)(sym))
extern char l2_rdrand32[], l2_rdrand16[], l2_rdseed64[], l2_pause_loop[], l2_tsc_reads[];
extern char l2_cr8_write[], l2_cr8_read[];

#define CPUID_1_ECX_RDRAND (1u << 30)
#define CPUID_7_EBX_RDSEED (1u << 18)

/*
 * SDM 28.2.5, the instruction-information format for RDRAND, RDSEED,
 * TPAUSE and UMWAIT: operand register in bits 6:3, operand size in 12:11
 * (0: 16-bit, 1: 32-bit, 2: 64-bit); the other bits are undefined.
 */
#define INFO_RAND_MASK 0x1878u
#define INFO_RAND(reg, size) (((uint32_t)(reg) << 3) | ((uint32_t)(size) << 11))
#define OPSIZE_16 0
#define OPSIZE_32 1
#define OPSIZE_64 2

#define PAUSES 100000u		  /* PAUSEs of l2_pause_loop */
#define PLE_GAP_LOOP 1000u	  /* TSC ticks: PAUSEs this close form one loop */
#define PLE_WINDOW_SHORT 200u	  /* a loop longer than this exits */
#define TSC_OFFSET_L2 (1ull << 60) /* far from any TSC L1 reads */
#define TSC_MUL_1 (1ull << 48)	  /* 1.0 in the multiplier's 16.48 format */
#define TSC_MUL_2 (1ull << 49)	  /* 2.0 */

static bool offered(enum nx_ctl c, uint32_t bits, const char *what)
{
	if (nx_allowed(c, bits))
		return true;
	nx_say("microhv-nested: note - %s: skipped, the capability MSRs do not offer 0x%x", what,
	       bits);
	return false;
}

static uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * L2 runs blob, which exits at its first instruction with reason (RDRAND,
 * RDSEED exiting), the instruction information info and length len; after
 * GUEST_RIP += len, the blob's VMCALL comes next.  bochs_info, where not
 * 0, is what Bochs 2.7 reports instead of info (it takes the operand size
 * from the address size: a 16-bit operand in 64-bit code reads as 32-bit,
 * against SDM 28.2.5); it passes with a note, since microhv hands L1 the
 * CPU's field unchanged (docs/nested.md "Bochs").
 */
static void rand_exit(const char *what, uint64_t blob, uint32_t ctl, uint32_t reason,
		      uint32_t info, uint32_t len, uint32_t bochs_info)
{
	struct nx_exit e, n = {0};
	nx_reset_l2();
	nx_set_ctl(NX_PROC2, ctl, what);
	nx_run(blob, NX_RFLAGS_FIXED, &e);
	uint32_t got = e.insn_info & INFO_RAND_MASK;
	bool bochs = bochs_info && got == bochs_info;
	bool ok = !e.entry && e.reason == reason && e.rip == blob && e.len == len &&
		  (got == info || bochs);
	bool resumed =
	    ok && nx_skip(&e, &n) && n.reason == EXIT_REASON_VMCALL && n.rip == blob + len;
	if (ok && bochs)
		nx_say("microhv-nested: note - %s: info 0x%x is Bochs 2.7's operand size (from the "
		       "address size); SDM 28.2.5 gives 0x%x",
		       what, got, info);
	nx_check(ok && resumed, what, "%s; then %s; want reason %u len %u info 0x%x",
		 nx_exit_str(&e), ok ? nx_exit_str(&n) : "-", reason, len, info);
}

static void rdrand_rdseed(void)
{
	struct cpuid_regs c1, c7;
	cpuid_count(1, 0, &c1);
	cpuid_count(7, 0, &c7);
	const char *what = "RDRAND EAX exits (57) with RDRAND exiting: EAX, 32-bit in the info";
	if (!(c1.ecx & CPUID_1_ECX_RDRAND)) {
		nx_say("microhv-nested: note - RDRAND checks skipped: CPUID.1:ECX.RDRAND = 0");
	} else if (offered(NX_PROC2, CPU2_RDRAND_EXITING, "RDRAND exiting")) {
		rand_exit(what, L2(l2_rdrand32), CPU2_RDRAND_EXITING, EXIT_REASON_RDRAND,
			  INFO_RAND(GPR_RAX, OPSIZE_32), 3, 0);
		rand_exit("RDRAND CX exits (57): CX, 16-bit in the info", L2(l2_rdrand16),
			  CPU2_RDRAND_EXITING, EXIT_REASON_RDRAND, INFO_RAND(GPR_RCX, OPSIZE_16),
			  4, INFO_RAND(GPR_RCX, OPSIZE_32));
	}
	what = "RDSEED R9 exits (61) with RDSEED exiting: R9, 64-bit in the info";
	if (!(c7.ebx & CPUID_7_EBX_RDSEED)) {
		nx_say("microhv-nested: note - RDSEED checks skipped: CPUID.7.0:EBX.RDSEED = 0");
	} else if (offered(NX_PROC2, CPU2_RDSEED_EXITING, "RDSEED exiting")) {
		rand_exit(what, L2(l2_rdseed64), CPU2_RDSEED_EXITING, EXIT_REASON_RDSEED,
			  INFO_RAND(GPR_R9, OPSIZE_64), 4, 0);
		/* Each control is its own: RDRAND exiting does not stop RDSEED. */
		struct nx_exit e;
		nx_reset_l2();
		if (nx_allowed(NX_PROC2, CPU2_RDRAND_EXITING))
			nx_set_ctl(NX_PROC2, CPU2_RDRAND_EXITING, "RDRAND exiting");
		nx_run(L2(l2_rdseed64), NX_RFLAGS_FIXED, &e);
		nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && e.rip == L2(l2_rdseed64) + 4,
			 "RDSEED does not exit without RDSEED exiting (RDRAND exiting set)", "%s",
			 nx_exit_str(&e));
	}
}

/* L2's PAUSE loop with the given controls; e is the first exit. */
static void pause_loop(uint32_t proc, uint32_t gap, uint32_t window, struct nx_exit *e)
{
	nx_reset_l2();
	if (proc)
		nx_set_ctl(NX_PROC, proc, "PAUSE exiting");
	nx_set_ctl(NX_PROC2, CPU2_PAUSE_LOOP_EXITING, "PAUSE-loop exiting");
	vw(VMCS_PLE_GAP, gap);
	vw(VMCS_PLE_WINDOW, window);
	nx_l2_gpr[GPR_RCX] = PAUSES;
	nx_run(L2(l2_pause_loop), NX_RFLAGS_FIXED, e);
}

/*
 * SDM 26.1.3 PAUSE at CPL 0 with "PAUSE exiting" 0 and "PAUSE-loop
 * exiting" 1: a PAUSE more than PLE_GAP after the previous one starts a
 * loop; a PAUSE more than PLE_WINDOW after the start of its loop exits.
 * Time runs at the TSC's rate (L2 is at CPL 0 throughout).
 */
static void pause_loop_exiting(void)
{
	const char *what = "a tight PAUSE loop exits (40) with PAUSE-loop exiting, small window";
	if (!offered(NX_PROC2, CPU2_PAUSE_LOOP_EXITING, "PAUSE-loop exiting"))
		return;
	struct nx_exit e, n = {0};
	pause_loop(0, PLE_GAP_LOOP, PLE_WINDOW_SHORT, &e);
	uint64_t left = nx_l2_gpr[GPR_RCX];
	bool ok = !e.entry && e.reason == EXIT_REASON_PAUSE && e.rip == L2(l2_pause_loop) &&
		  e.len == 2 && left > 0 && left < PAUSES;
	nx_check(ok, what, "%s, RCX %llu of %u PAUSEs left", nx_exit_str(&e),
		 (unsigned long long)left, PAUSES);
	/* The control off, past the PAUSE: the loop runs out to its VMCALL. */
	if (ok) {
		vw(VMCS_SECONDARY_VM_EXEC_CONTROL,
		   vr(VMCS_SECONDARY_VM_EXEC_CONTROL) & ~CPU2_PAUSE_LOOP_EXITING);
		nx_skip(&e, &n);
	}
	nx_check(ok && !n.entry && n.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_RCX] == 0,
		 "after the PAUSE-loop exit, without the control the loop runs to its end",
		 "%s RCX %llu", ok ? nx_exit_str(&n) : "-",
		 (unsigned long long)nx_l2_gpr[GPR_RCX]);

	/* A window longer than the whole loop: no exit. */
	pause_loop(0, PLE_GAP_LOOP, 0xffffffffu, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_RCX] == 0,
		 "a PAUSE loop shorter than PLE_WINDOW does not exit", "%s RCX %llu",
		 nx_exit_str(&e), (unsigned long long)nx_l2_gpr[GPR_RCX]);
	/* Gap 0: PAUSEs some ticks apart each start a loop of their own. */
	pause_loop(0, 0, PLE_WINDOW_SHORT, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_RCX] == 0,
		 "with PLE_GAP 0 every PAUSE starts a loop: no exit", "%s RCX %llu",
		 nx_exit_str(&e), (unsigned long long)nx_l2_gpr[GPR_RCX]);
	/* "PAUSE exiting" 1: PLE is ignored, the first PAUSE exits. */
	what = "with PAUSE exiting too, the first PAUSE exits (40)";
	if (offered(NX_PROC, CPU_PAUSE_EXITING, "PAUSE exiting")) {
		pause_loop(CPU_PAUSE_EXITING, PLE_GAP_LOOP, PLE_WINDOW_SHORT, &e);
		nx_check(!e.entry && e.reason == EXIT_REASON_PAUSE &&
			     e.rip == L2(l2_pause_loop) && nx_l2_gpr[GPR_RCX] == PAUSES,
			 what, "%s RCX %llu", nx_exit_str(&e),
			 (unsigned long long)nx_l2_gpr[GPR_RCX]);
	}
}

/* L2's two RDTSCs and RDMSR(IA32_TSC), bracketed by L1's RDTSCs. */
struct tsc_reads {
	uint64_t t0, t1, rdtsc1, rdtsc2, msr;
	bool ok; /* L2 reached its VMCALL */
};

static struct tsc_reads tsc_run(uint32_t proc, uint32_t proc2, uint64_t offset, uint64_t mul)
{
	struct tsc_reads r = {0};
	struct nx_exit e;
	nx_reset_l2();
	if (proc)
		nx_set_ctl(NX_PROC, proc, "use TSC offsetting");
	if (proc2)
		nx_set_ctl(NX_PROC2, proc2, "use TSC scaling");
	vw(VMCS_TSC_OFFSET, offset);
	vw(VMCS_TSC_MULTIPLIER, mul);
	r.t0 = tsc();
	nx_run(L2(l2_tsc_reads), NX_RFLAGS_FIXED, &e);
	r.t1 = tsc();
	r.ok = !e.entry && e.reason == EXIT_REASON_VMCALL;
	r.rdtsc1 = nx_l2_gpr[GPR_R8];
	r.rdtsc2 = nx_l2_gpr[GPR_R9];
	r.msr = nx_l2_gpr[GPR_R10];
	if (!r.ok)
		nx_say("microhv-nested: note - TSC reads: %s", nx_exit_str(&e));
	return r;
}

/* lo <= a <= b <= c <= hi, all L2's readings within L1's bracket. */
static bool within(const struct tsc_reads *r, uint64_t lo, uint64_t hi)
{
	return r->ok && lo <= r->rdtsc1 && r->rdtsc1 <= r->rdtsc2 && r->rdtsc2 <= r->msr &&
	       r->msr <= hi;
}

/* SDM 26.3: ((TSC * multiplier) >> 48) + offset, the product 128 bits wide. */
static uint64_t scaled(uint64_t t, uint64_t mul, uint64_t offset)
{
	return (uint64_t)(((unsigned __int128)t * mul) >> 48) + offset;
}

/* L2's readings (TSC offsetting on) against L1's bracket, scaled by mul. */
static void tsc_check(const char *what, uint32_t proc2, uint64_t mul)
{
	struct tsc_reads r = tsc_run(CPU_USE_TSC_OFFSETTING, proc2, TSC_OFFSET_L2, mul);
	uint64_t m = proc2 ? mul : TSC_MUL_1;
	uint64_t lo = scaled(r.t0, m, TSC_OFFSET_L2), hi = scaled(r.t1, m, TSC_OFFSET_L2);
	nx_check(within(&r, lo, hi), what,
		 "L2 RDTSC 0x%llx 0x%llx RDMSR 0x%llx; want 0x%llx..0x%llx (L1 0x%llx..0x%llx)",
		 (unsigned long long)r.rdtsc1, (unsigned long long)r.rdtsc2,
		 (unsigned long long)r.msr, (unsigned long long)lo, (unsigned long long)hi,
		 (unsigned long long)r.t0, (unsigned long long)r.t1);
}

/*
 * SDM 26.3 RDTSC and RDMSR of IA32_TIME_STAMP_COUNTER, "RDTSC exiting" 0:
 * with "use TSC offsetting" 1 and "use TSC scaling" 1 the value is
 * ((TSC * multiplier) >> 48) + offset; scaling needs offsetting (without
 * it the TSC is read unchanged).  L1 reads the TSC unscaled and without
 * offset, under microhv too (L0 neither offsets nor scales it), so its
 * readings before and after bracket L2's.  A multiplier of 0 is left out:
 * Bochs 2.7 refuses it at VM entry (VMfailValid 7), a check SDM 27.2.1.1
 * does not have (docs/nested.md "Bochs").
 */
static void tsc_scaling(void)
{
	if (!offered(NX_PROC2, CPU2_TSC_SCALING, "use TSC scaling") ||
	    !offered(NX_PROC, CPU_USE_TSC_OFFSETTING, "use TSC offsetting"))
		return;
	tsc_check("TSC scaling by 1.0 (2^48) with an offset: L2 reads TSC + offset",
		  CPU2_TSC_SCALING, TSC_MUL_1);
	tsc_check("TSC scaling by 2.0 (2^49): L2's RDTSC and RDMSR read 2 * TSC + offset",
		  CPU2_TSC_SCALING, TSC_MUL_2);
	tsc_check("TSC multiplier 1 (2^-48): L2 reads (TSC >> 48) + offset", CPU2_TSC_SCALING, 1);
	tsc_check("TSC offsetting without scaling: the multiplier (2.0) is not used", 0,
		  TSC_MUL_2);
	struct tsc_reads r = tsc_run(0, CPU2_TSC_SCALING, TSC_OFFSET_L2, TSC_MUL_2);
	nx_check(within(&r, r.t0, r.t1),
		 "TSC scaling without TSC offsetting: L2 reads the TSC unchanged",
		 "L2 RDTSC 0x%llx 0x%llx RDMSR 0x%llx; want 0x%llx..0x%llx",
		 (unsigned long long)r.rdtsc1, (unsigned long long)r.rdtsc2,
		 (unsigned long long)r.msr, (unsigned long long)r.t0, (unsigned long long)r.t1);
}

/*
 * "Use TPR shadow" (SDM 29.3, 29.1.2): L2's MOV to CR8 writes bits 3:0 of
 * the source to VTPR (byte 80H of the virtual-APIC page) bits 7:4 and
 * clears the rest of VTPR and bytes 81H-83H; MOV from CR8 reads VTPR bits
 * 7:4.  A write that leaves VTPR[7:4] below TPR threshold[3:0] exits
 * after the instruction ("TPR below threshold", 43, trap-like).  CR8-load
 * and CR8-store exiting still exit (28).  VM entry (27.2.1.1) refuses an
 * unaligned page, threshold bits 31:4 set, and a threshold above VTPR[7:4]
 * with VMfailValid 7.
 */
#define VAPIC_VTPR 0x80
#define LEN_MOV_CR8 4
#define CRQ_CR8_FROM_R8 0x818u /* CR 8, access 1 (MOV from CR), GPR 8 (SDM 28.2.1) */

static volatile uint8_t *vapic(void)
{
	return (volatile uint8_t *)(uintptr_t)nx.page[PG_VAPIC];
}

/* L2 at blob with TPR shadow (and extra controls), VTPR, threshold, RAX. */
static void tpr_run(uint64_t blob, uint32_t extra, uint8_t vtpr, uint32_t threshold, uint64_t rax,
		    struct nx_exit *e)
{
	nx_reset_l2();
	nx_set_ctl(NX_PROC, CPU_USE_TPR_SHADOW | extra, "use TPR shadow");
	for (unsigned i = 0; i < 4; i++)
		vapic()[VAPIC_VTPR + i] = i ? 0xff : vtpr;
	vw(VMCS_VIRTUAL_APIC_PAGE_ADDR, nx.page[PG_VAPIC]);
	vw(VMCS_TPR_THRESHOLD, threshold);
	nx_l2_gpr[GPR_RAX] = rax;
	nx_l2_gpr[GPR_R8] = 0xbad;
	nx_run(blob, NX_RFLAGS_FIXED, e);
}

static uint32_t vtpr_dword(void)
{
	return *(volatile uint32_t *)(vapic() + VAPIC_VTPR);
}

static void tpr_entry_fails(const char *what, uint64_t addr, uint8_t vtpr, uint32_t threshold)
{
	struct nx_exit e;
	nx_reset_l2();
	nx_set_ctl(NX_PROC, CPU_USE_TPR_SHADOW, "use TPR shadow");
	vapic()[VAPIC_VTPR] = vtpr;
	vw(VMCS_VIRTUAL_APIC_PAGE_ADDR, addr);
	vw(VMCS_TPR_THRESHOLD, threshold);
	nx_run(L2(l2_cr8_read), NX_RFLAGS_FIXED, &e);
	uint64_t err = e.entry && nx_outcome(e.entry) == NX_FAIL_VALID
			       ? vr(VMCS_VM_INSTRUCTION_ERROR)
			       : 0;
	nx_check(err == 7, what, "%s; error %llu, want VMfailValid 7", nx_exit_str(&e),
		 (unsigned long long)err);
}

static void tpr_shadow(void)
{
	if (!offered(NX_PROC, CPU_USE_TPR_SHADOW, "use TPR shadow"))
		return;
	struct nx_exit e, n = {0};
	const uint64_t page = nx.page[PG_VAPIC];

	/* 27.2.1.1: the entry checks. */
	tpr_entry_fails("entry with TPR threshold 3 above VTPR[7:4] 2 fails (VMfailValid 7)", page,
			0x2f, 3);
	tpr_entry_fails("entry with TPR threshold bit 4 set fails (VMfailValid 7)", page, 0xf0,
			0x11);
	tpr_entry_fails("entry with a virtual-APIC address with bit 11 set fails (VMfailValid 7)",
			page | 0x800, 0, 0);
	/*
	 * Under microhv: a virtual-APIC page in L0's memory.  SDM 27.2.1.1 checks
	 * only alignment and width; the CPU would read and write the page as
	 * host-physical, so microhv refuses it (VMfailValid 7, its deviation:
	 * nested/tpr_shadow.h, docs/nested.md).
	 */
	if (nx.microhv && nx.l0_base)
		tpr_entry_fails("under microhv: entry with the virtual-APIC page in L0's memory "
				"fails (VMfailValid 7, L0's refusal)",
				nx.l0_base & ~0xfffull, 0, 0);

	/* 29.3: MOV from CR8 reads VTPR[7:4]. */
	tpr_run(L2(l2_cr8_read), 0, 0x9c, 0, 0, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_R8] == 9,
		 "MOV from CR8 under TPR shadow reads VTPR[7:4] (VTPR 0x9c: 9), no exit",
		 "%s R8 0x%llx", nx_exit_str(&e), (unsigned long long)nx_l2_gpr[GPR_R8]);

	/* MOV to CR8 at or above the threshold: no exit, VTPR written, 81H-83H cleared. */
	tpr_run(L2(l2_cr8_write), 0, 0x50, 4, 6, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_R8] == 6 &&
			 vtpr_dword() == 0x60,
		 "MOV to CR8 (6) at or above the threshold (4): VTPR 0x60, bytes 81H-83H 0, no exit",
		 "%s R8 0x%llx VTPR dword 0x%x", nx_exit_str(&e),
		 (unsigned long long)nx_l2_gpr[GPR_R8], vtpr_dword());

	/* Below the threshold: exit 43 after the instruction, then on to the read. */
	tpr_run(L2(l2_cr8_write), 0, 0x50, 4, 2, &e);
	bool ok = !e.entry && e.reason == EXIT_REASON_TPR_BELOW_THRESHOLD &&
		  e.rip == L2(l2_cr8_write) + LEN_MOV_CR8 && e.qual == 0 && vtpr_dword() == 0x20;
	nx_check(ok, "MOV to CR8 (2) below the threshold (4) exits (43) after the instruction",
		 "%s VTPR dword 0x%x", nx_exit_str(&e), vtpr_dword());
	if (ok) {
		vw(VMCS_TPR_THRESHOLD, 0);
		nx_resume(&n);
	}
	nx_check(ok && !n.entry && n.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_R8] == 2,
		 "after the TPR-below-threshold exit L2 resumes and MOV from CR8 reads 2",
		 "%s R8 0x%llx", ok ? nx_exit_str(&n) : "-", (unsigned long long)nx_l2_gpr[GPR_R8]);

	/* CR8-load / CR8-store exiting take precedence over the shadow (26.1.3). */
	if (offered(NX_PROC, CPU_CR8_LOAD_EXITING, "CR8-load exiting")) {
		tpr_run(L2(l2_cr8_write), CPU_CR8_LOAD_EXITING, 0x50, 4, 2, &e);
		nx_check(!e.entry && e.reason == EXIT_REASON_CR_ACCESS && e.qual == 8 &&
				 e.rip == L2(l2_cr8_write) && vtpr_dword() == 0xffffff50u,
			 "with CR8-load exiting MOV to CR8 exits (28), VTPR untouched",
			 "%s VTPR dword 0x%x", nx_exit_str(&e), vtpr_dword());
	}
	if (offered(NX_PROC, CPU_CR8_STORE_EXITING, "CR8-store exiting")) {
		tpr_run(L2(l2_cr8_read), CPU_CR8_STORE_EXITING, 0x50, 0, 0, &e);
		nx_check(!e.entry && e.reason == EXIT_REASON_CR_ACCESS &&
				 e.qual == CRQ_CR8_FROM_R8 && e.rip == L2(l2_cr8_read),
			 "with CR8-store exiting MOV from CR8 exits (28)", "%s",
			 nx_exit_str(&e));
	}
}

void nx_group_ctl(void)
{
	nx_say("microhv-nested: group D - VM exits from L2: RDRAND, RDSEED, PAUSE loops, TSC "
	       "scaling (SDM Vol. 3C 26.1.3, 26.3, 28.2.5)");
	uint64_t r = nx_vmcs_init(PG_VMCS_A);
	if (nx_outcome(r) != NX_SUCCEED) {
		nx_check(false, "VMPTRLD of the VMCS for group D, part 3", "%s", nx_result_str(r));
		return;
	}
	rdrand_rdseed();
	pause_loop_exiting();
	tsc_scaling();
	tpr_shadow();
}
