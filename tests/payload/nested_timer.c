/*
 * nested_timer.c - group D, part 3: the VMX-preemption timer (SDM Vol. 3C
 * 26.5.1: it counts down in VMX non-root operation, HLT included, and
 * exits with reason 52 at 0; 27.7.4: VM entry loads it from the
 * timer-value field, and a value of 0 exits before L2's first
 * instruction; 28.3.4: with "save VMX-preemption timer value" the exit
 * stores the value left in that field, without it the field keeps L1's).
 *
 * Each check arms the timer for one L2 blob of nested_l2.asm: a loop that
 * only the timer ends, a CPUID before the timer runs out, a HLT with
 * interrupts off that only the timer wakes.  The counts are large enough
 * for L2 to get to its CPUID whatever the rate (IA32_VMX_MISC[4:0]) and
 * below 2^24 (Bochs 2.7 never fires larger ones, vmx/console.h).  A CPU
 * (or microhv) that does not offer the timer with its save control skips
 * the group with a note; the floors of the system tests count its checks.
 */
#include "nested_test.h"

#define L2(sym) ((uint64_t)(uintptr_t)(sym))
extern char l2_spin[], l2_timer_cpuid[], l2_timer_cpuid_next[], l2_timer_hlt[];
extern char l2_timer_hlt_next[];

#define TIMER_SHORT 20000u
#define TIMER_LONG 2000000u
/* Beyond L0's console tick (2^22 TSC cycles, vmx/console.h) at rate 0. */
#define TIMER_BEYOND_L0 12000000u

static uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* The default L2 with the timer armed at value; save: the exit stores what is left. */
static void arm(uint32_t value, bool save)
{
	nx_reset_l2();
	vw(VMCS_PIN_BASED_VM_EXEC_CONTROL,
	   vr(VMCS_PIN_BASED_VM_EXEC_CONTROL) | PIN_PREEMPTION_TIMER);
	if (save)
		vw(VMCS_VM_EXIT_CONTROLS, vr(VMCS_VM_EXIT_CONTROLS) | EXIT_SAVE_PREEMPTION_TIMER);
	vw(VMCS_VMX_PREEMPTION_TIMER_VALUE, value);
}

static void expiry(void)
{
	struct nx_exit e;
	arm(TIMER_SHORT, true);
	nx_run(L2(l2_spin), NX_RFLAGS_FIXED, &e);
	uint64_t left = vr(VMCS_VMX_PREEMPTION_TIMER_VALUE), n = nx_l2_gpr[GPR_RCX];
	nx_check(!e.entry && e.reason == EXIT_REASON_PREEMPTION_TIMER && e.qual == 0 && left == 0 &&
		     n > 0,
		 "the timer ends L2's loop: exit 52, value 0 saved (26.5.1, 28.3.4)",
		 "%s value %llu, L2 looped %llu times", nx_exit_str(&e), (unsigned long long)left,
		 (unsigned long long)n);

	arm(TIMER_SHORT, false);
	nx_run(L2(l2_spin), NX_RFLAGS_FIXED, &e);
	left = vr(VMCS_VMX_PREEMPTION_TIMER_VALUE);
	nx_check(!e.entry && e.reason == EXIT_REASON_PREEMPTION_TIMER && left == TIMER_SHORT,
		 "without the save control the field keeps L1's value (28.3.4)",
		 "%s value %llu, want %u", nx_exit_str(&e), (unsigned long long)left, TIMER_SHORT);
}

/*
 * SDM 26.5.1: the timer counts once each time bit X of the TSC changes,
 * so its exit comes no sooner than (N - 1) * 2^X TSC cycles after the
 * entry: L1 reads the TSC around the run.  N is long enough for L0's
 * console tick to expire first where microhv has one (bochs_nested.sh):
 * L2 then runs on through L0's ticks, and L1 sees only its own expiry.
 */
static void long_count(void)
{
	struct nx_exit e;
	unsigned x = (unsigned)(nx.misc & 0x1f);
	uint64_t least = (uint64_t)(TIMER_BEYOND_L0 - 1) << x;
	arm(TIMER_BEYOND_L0, true);
	uint64_t t0 = tsc();
	nx_run(L2(l2_spin), NX_RFLAGS_FIXED, &e);
	uint64_t took = tsc() - t0, left = vr(VMCS_VMX_PREEMPTION_TIMER_VALUE);
	nx_check(!e.entry && e.reason == EXIT_REASON_PREEMPTION_TIMER && left == 0 && took >= least,
		 "a count of 12000000 exits (52) no sooner than its TSC cycles (26.5.1)",
		 "%s value %llu, %llu TSC cycles, want at least %llu", nx_exit_str(&e),
		 (unsigned long long)left, (unsigned long long)took, (unsigned long long)least);
}

/* SDM 27.7.4: a value of 0 exits before L2's first instruction. */
static void zero(void)
{
	struct nx_exit e;
	arm(0, true);
	nx_run(L2(l2_spin), NX_RFLAGS_FIXED, &e);
	uint64_t left = vr(VMCS_VMX_PREEMPTION_TIMER_VALUE), n = nx_l2_gpr[GPR_RCX];
	nx_check(!e.entry && e.reason == EXIT_REASON_PREEMPTION_TIMER && e.rip == L2(l2_spin) &&
		     n == 0 && left == 0,
		 "value 0 exits (52) before L2's first instruction (27.7.4)",
		 "%s value %llu, L2 looped %llu times", nx_exit_str(&e), (unsigned long long)left,
		 (unsigned long long)n);
}

/*
 * An exit for another reason before the timer runs out saves what is
 * left (28.3.4), which the next entry loads (27.7.4): after L1 resumes L2
 * past its CPUID, L2's VMCALL saves less again.
 */
static void saved_and_reloaded(void)
{
	struct nx_exit e, n = {.entry = NX_FAULT};
	arm(TIMER_LONG, true);
	nx_run(L2(l2_timer_cpuid), NX_RFLAGS_FIXED, &e);
	uint64_t left = vr(VMCS_VMX_PREEMPTION_TIMER_VALUE), again = 0;
	bool ok = !e.entry && e.reason == EXIT_REASON_CPUID && left > 0 && left < TIMER_LONG;
	nx_check(ok, "an exit before expiry (CPUID) saves a value in (0, N) (28.3.4)",
		 "%s value %llu, N %u", nx_exit_str(&e), (unsigned long long)left, TIMER_LONG);
	if (ok && nx_skip(&e, &n))
		again = vr(VMCS_VMX_PREEMPTION_TIMER_VALUE);
	nx_check(ok && !n.entry && n.reason == EXIT_REASON_VMCALL && again > 0 && again < left,
		 "the next entry counts on from the saved value (27.7.4)",
		 "%s value %llu, want below %llu", ok ? nx_exit_str(&n) : "-",
		 (unsigned long long)again, (unsigned long long)left);
}

/* SDM 26.5.1, 26.2: the timer counts in the HLT state and its exit wakes L2. */
static void wakes_hlt(void)
{
	struct nx_exit e;
	arm(TIMER_SHORT, true);
	nx_run(L2(l2_timer_hlt), NX_RFLAGS_FIXED, &e);
	uint64_t left = vr(VMCS_VMX_PREEMPTION_TIMER_VALUE);
	uint64_t state = vr(VMCS_GUEST_ACTIVITY_STATE);
	nx_check(!e.entry && e.reason == EXIT_REASON_PREEMPTION_TIMER &&
		     e.rip == L2(l2_timer_hlt_next) && left == 0,
		 "the timer wakes L2 from HLT (interrupts off): exit 52 after the HLT (26.2)",
		 "%s value %llu activity state %llu", nx_exit_str(&e), (unsigned long long)left,
		 (unsigned long long)state);
	vw(VMCS_GUEST_ACTIVITY_STATE, 0);
}

/*
 * The shutdown activity state (IA32_VMX_MISC[7], where offered): VM entry
 * leaves L2 in it (27.6.2; it blocks external interrupts and SIPIs, not
 * the timer), the timer's exit ends it (26.5.1) and the exit saves the
 * state as shutdown, RIP unchanged; an NMI may be injected into it
 * (27.3.1.5: NMI and #MC only), which L2 then takes through its IDT.
 */
static void shutdown_state(void)
{
	if (!(nx.misc & (1ull << 7))) {
		nx_say("microhv-nested: note - the shutdown activity state is not offered: skipped");
		return;
	}
	struct nx_exit e;
	arm(TIMER_SHORT, true);
	vw(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_SHUTDOWN);
	nx_run(L2(l2_timer_hlt), NX_RFLAGS_FIXED, &e);
	uint64_t state = vr(VMCS_GUEST_ACTIVITY_STATE);
	nx_check(!e.entry && e.reason == EXIT_REASON_PREEMPTION_TIMER && e.rip == L2(l2_timer_hlt) &&
			 state == GUEST_ACTIVITY_SHUTDOWN,
		 "entry in the shutdown state: the timer exits (52), state saved as shutdown",
		 "%s activity state %llu", nx_exit_str(&e), (unsigned long long)state);
	nx_reset_l2();
	vw(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_SHUTDOWN);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI);
	nx_l2_gpr[GPR_R15] = 0xbad;
	nx_run(L2(l2_timer_hlt), NX_RFLAGS_FIXED, &e);
	nx_check(!e.entry && e.reason == EXIT_REASON_VMCALL && nx_l2_gpr[GPR_R15] == VEC_NMI,
		 "entry in the shutdown state injecting an NMI (allowed, 27.3.1.5): L2's NMI "
		 "handler runs",
		 "%s R15 0x%llx", nx_exit_str(&e), (unsigned long long)nx_l2_gpr[GPR_R15]);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vw(VMCS_GUEST_ACTIVITY_STATE, 0);
}

void nx_group_timer(void)
{
	nx_say("microhv-nested: group D - the VMX-preemption timer (SDM Vol. 3C 26.5.1, 27.7.4, "
	       "28.3.4)");
	if (!nx_allowed(NX_PIN, PIN_PREEMPTION_TIMER) ||
	    !nx_allowed(NX_EXIT, EXIT_SAVE_PREEMPTION_TIMER)) {
		nx_say("microhv-nested: note - the preemption timer or its save control is not "
		       "offered: skipped");
		return;
	}
	nx_say("microhv-nested: note - the timer counts once per 2^%llu TSC cycles",
	       (unsigned long long)(nx.misc & 0x1f));
	expiry();
	long_count();
	zero();
	saved_and_reloaded();
	wakes_hlt();
	shutdown_state();
	nx_reset_l2();
}
