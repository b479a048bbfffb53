/*
 * test_nested_timer.c - the VMX-preemption timer L1 arms for L2
 * (nested/timer.c) on the run path: L1's VMLAUNCH/VMRESUME, exits from L2
 * through vmx_exit_dispatch, on the nested run fixture
 * (nested_run_fixture.h); with L0's console timer beside it in forked
 * children behind the fake UART, as in test_nested_console.c.
 *
 * Expected values are the SDM's, written out: pin-based control 6
 * "activate VMX-preemption timer" (0x40, SDM Vol. 3C 25.6.1), VM-exit
 * control 22 "save VMX-preemption timer value" (0x400000, 25.7.1), exit
 * reason 52 (Appendix C), field 0x482e; VM entry loads the timer from the
 * field (27.7.4); it counts down once each time bit X = IA32_VMX_MISC[4:0]
 * of the TSC changes (26.5.1) and exits at 0; the exit saves the value
 * left into the field only with the save control (28.3.4).  The fixture's
 * CPU (Bochs) has X = 0; the console cases run at X = 5.
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "halting.h"
#include "hw_fake.h"
#include "mm/page_alloc.h"
#include "nested_run_fixture.h"
#include "uart_fake.h"
#include "vmcs_soft.h"
#include "vmx/console.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <unistd.h>

#define SDM_PIN_TIMER 0x40u
#define SDM_EXIT_SAVE_TIMER 0x400000u
#define SDM_REASON_TIMER 52
#define SDM_TIMER_VALUE 0x482eu
#define SDM_REASON_CPUID 10
#define COM2 0x2f8
/* CONSOLE_POLL_TSC, 2^22 TSC cycles, at 2^5 cycles per count. */
#define L0_TICK 0x20000u

/* vmcs12 with L1's timer armed at value; save: "save VMX-preemption timer value". */
static void l1_timer(uint32_t value, bool save)
{
	vmcs12_set(V12, VMCS_PIN_BASED_VM_EXEC_CONTROL,
		   f12(VMCS_PIN_BASED_VM_EXEC_CONTROL) | SDM_PIN_TIMER);
	uint64_t exit = f12(VMCS_VM_EXIT_CONTROLS) & ~(uint64_t)SDM_EXIT_SAVE_TIMER;
	vmcs12_set(V12, VMCS_VM_EXIT_CONTROLS, exit | (save ? SDM_EXIT_SAVE_TIMER : 0));
	vmcs12_set(V12, SDM_TIMER_VALUE, value);
	NV->clean = false; /* as L1's VMWRITEs (emulated, not through a shadow) leave it */
}

/* L2 exits with the timer's value left as the CPU saved it in vmcs02. */
static int l2_exit_left(uint32_t reason, uint32_t left, uint32_t len)
{
	vmcs_soft_set(SDM_TIMER_VALUE, left);
	return run_l2_exit(reason, 0, len);
}

TEST(nested_timer_l1s_expiry_is_l1s_exit)
{
	run_setup();
	l1_timer(1000, true);
	CHECK(run_l1_vmlaunch());
	/* vmcs02: L1's timer and value; the save control, L0's bookkeeping. */
	CHECK_EQ(f02(VMCS_PIN_BASED_VM_EXEC_CONTROL) & SDM_PIN_TIMER, SDM_PIN_TIMER);
	CHECK_EQ(f02(VMCS_VM_EXIT_CONTROLS) & SDM_EXIT_SAVE_TIMER, SDM_EXIT_SAVE_TIMER);
	CHECK_EQ(f02(SDM_TIMER_VALUE), 1000);
	CHECK_EQ(l2_exit_left(SDM_REASON_TIMER, 0, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(NV->reflected, 1);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_TIMER);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 0);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* Without the timer in vmcs12 (and no console): vmcs02 has none either. */
TEST(nested_timer_none_without_l1s)
{
	run_setup();
	vmcs12_set(V12, SDM_TIMER_VALUE, 7);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(VMCS_PIN_BASED_VM_EXEC_CONTROL) & SDM_PIN_TIMER, 0);
	CHECK_EQ(f02(VMCS_VM_EXIT_CONTROLS) & SDM_EXIT_SAVE_TIMER, 0);
	CHECK_EQ(run_l2_exit(SDM_REASON_CPUID, 0, 2), 0);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 7);
}

/*
 * SDM 28.3.4: the value left is saved into vmcs12 only with vmcs12's
 * save control; without it the field keeps L1's value, which the next
 * entry loads again (27.7.4).
 */
TEST(nested_timer_value_saved_as_vmcs12_asks)
{
	run_setup();
	l1_timer(1000, false);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(l2_exit_left(SDM_REASON_CPUID, 400, 2), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_CPUID);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 1000);
	run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(SDM_TIMER_VALUE), 1000);
	CHECK_EQ(l2_exit_left(SDM_REASON_CPUID, 600, 2), 0);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 1000);

	l1_timer(1000, true);
	run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
	CHECK_EQ(f02(SDM_TIMER_VALUE), 1000);
	CHECK_EQ(l2_exit_left(SDM_REASON_CPUID, 250, 2), 0);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 250);
	run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
	CHECK_EQ(f02(SDM_TIMER_VALUE), 250); /* the saved value, loaded by the next entry */
	CHECK_EQ(NV->reflected, 3);
	CHECK_EQ(run_stub_errors, 0);
}

/* SDM 27.7.4: a value of 0 exits before L2's first instruction: L1's exit at L2's RIP. */
TEST(nested_timer_zero_at_entry)
{
	run_setup();
	l1_timer(0, true);
	CHECK(run_l1_vmlaunch());
	CHECK_EQ(f02(SDM_TIMER_VALUE), 0);
	CHECK_EQ(l2_exit_left(SDM_REASON_TIMER, 0, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_TIMER);
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 0);
}

/*
 * An exit L0 keeps (RDMSR of IA32_FEATURE_CONTROL): from L1's view L2
 * never left VMX non-root operation, so the TSC edges L0 spent count
 * too: 300 at X = 0 between L0's two reads of the TSC.
 */
TEST(nested_timer_counts_l0s_time)
{
	run_setup();
	l1_timer(100000, true);
	CHECK(run_l1_vmlaunch());
	hw_fake_tsc = 0x5000;
	hw_fake_tsc_step = 300;
	regs.gpr[GPR_RCX] = MSR_IA32_FEATURE_CONTROL;
	CHECK_EQ(l2_exit_left(EXIT_REASON_MSR_READ, 90000, 2), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(NV->reflected, 0);
	CHECK_EQ(f02(SDM_TIMER_VALUE), 90000 - 300);
	/* L1's exit: the value left as the CPU saved it. */
	CHECK_EQ(l2_exit_left(SDM_REASON_CPUID, 89000, 2), 0);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 89000);

	/* At X = 5: TSC 0x10010 to 0x10110 crosses 8 multiples of 32. */
	g_l0.caps.misc |= 5;
	run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
	CHECK_EQ(f02(SDM_TIMER_VALUE), 89000);
	hw_fake_tsc = 0x10010;
	hw_fake_tsc_step = 0x100;
	CHECK_EQ(l2_exit_left(EXIT_REASON_MSR_READ, 500, 2), 0);
	CHECK_EQ(f02(SDM_TIMER_VALUE), 500 - 8);
	/* Edges, not cycles / 32: 0x1001f to 0x10021 crosses 0x10020, one count. */
	hw_fake_tsc = 0x1001f;
	hw_fake_tsc_step = 2;
	CHECK_EQ(l2_exit_left(EXIT_REASON_MSR_READ, 490, 2), 0);
	CHECK_EQ(f02(SDM_TIMER_VALUE), 490 - 1);

	/* L0's time outlasts L1's count: 0, an exit before L2's next instruction. */
	hw_fake_tsc_step = 600u << 5;
	CHECK_EQ(l2_exit_left(EXIT_REASON_MSR_READ, 480, 2), 0);
	CHECK(NV->in_l2);
	CHECK_EQ(f02(SDM_TIMER_VALUE), 0);
	CHECK_EQ(l2_exit_left(SDM_REASON_TIMER, 0, 0), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_TIMER);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 0);
	CHECK_EQ(run_stub_errors, 0);
}

/* ---- beside L0's console timer (forked children, the fake UART) ---- */

#define POOL_PAGES 8
static uint8_t pool_mem[POOL_PAGES * 4096] __attribute__((aligned(4096)));
static struct page_alloc pool;

enum { OUT_TIMER, OUT_IN_L2, OUT_REFLECTED, OUT_REASON12, OUT_TIMER12, OUT_PIN, OUT_N };
#define OUT(step, what) (uart_fake->out[(step) * OUT_N + (what)])

/* In the child: the console on COM2 with its timer in vmcs01 (the BSP), X = 5. */
static void console_on(void)
{
	page_alloc_init(&pool, (uint64_t)(uintptr_t)pool_mem, sizeof(pool_mem));
	g_l0.pages = &pool;
	g_l0.caps.misc = (g_l0.caps.misc & ~0x1full) | 5;
	if (!l0_console_init(COM2, 115200))
		_exit(90);
	vmcs_soft_set_in(VMCS01_PA, VMCS_PIN_BASED_VM_EXEC_CONTROL,
			 f01(VMCS_PIN_BASED_VM_EXEC_CONTROL) | SDM_PIN_TIMER);
}

static void report(unsigned step)
{
	OUT(step, OUT_TIMER) = f02(SDM_TIMER_VALUE);
	OUT(step, OUT_IN_L2) = NV->in_l2;
	OUT(step, OUT_REFLECTED) = NV->reflected;
	OUT(step, OUT_REASON12) = f12(VMCS_VM_EXIT_REASON);
	OUT(step, OUT_TIMER12) = f12(SDM_TIMER_VALUE);
	OUT(step, OUT_PIN) = f02(VMCS_PIN_BASED_VM_EXEC_CONTROL);
}

/*
 * L1's count 2 * L0_TICK + 5: vmcs02 runs L0's tick twice (L0's exits,
 * L2 resumed with L1's count reduced by each), then L1's 5, whose expiry
 * is L1's exit with 0 saved.
 */
static void l1_longer_than_l0(void)
{
	console_on();
	l1_timer(2 * L0_TICK + 5, true);
	run_l1_vmlaunch();
	report(0);
	l2_exit_left(SDM_REASON_TIMER, 0, 0);
	report(1);
	l2_exit_left(SDM_REASON_TIMER, 0, 0);
	report(2);
	l2_exit_left(SDM_REASON_TIMER, 0, 0);
	report(3);
}

TEST(nested_timer_beside_l0s_tick)
{
	run_setup();
	uart_fake_reset(COM2);
	CHECK_EQ(uart_fake_run(l1_longer_than_l0), HALT_RETURNED);
	CHECK_EQ(OUT(0, OUT_PIN) & SDM_PIN_TIMER, SDM_PIN_TIMER);
	CHECK_EQ(OUT(0, OUT_TIMER), L0_TICK);
	CHECK_EQ(OUT(1, OUT_IN_L2), 1);
	CHECK_EQ(OUT(1, OUT_TIMER), L0_TICK);
	CHECK_EQ(OUT(2, OUT_IN_L2), 1);
	CHECK_EQ(OUT(2, OUT_TIMER), 5);
	CHECK_EQ(OUT(2, OUT_REFLECTED), 0);
	CHECK_EQ(OUT(3, OUT_IN_L2), 0);
	CHECK_EQ(OUT(3, OUT_REFLECTED), 1);
	CHECK_EQ(OUT(3, OUT_REASON12), SDM_REASON_TIMER);
	CHECK_EQ(OUT(3, OUT_TIMER12), 0);
}

/* L1's count one more than L0's tick: L0's exit leaves exactly 1 to run. */
static void l1_one_past_l0(void)
{
	console_on();
	l1_timer(L0_TICK + 1, true);
	run_l1_vmlaunch();
	l2_exit_left(SDM_REASON_TIMER, 0, 0);
	report(0);
	l2_exit_left(SDM_REASON_TIMER, 0, 0);
	report(1);
}

TEST(nested_timer_one_count_left_is_not_expired)
{
	run_setup();
	uart_fake_reset(COM2);
	CHECK_EQ(uart_fake_run(l1_one_past_l0), HALT_RETURNED);
	CHECK_EQ(OUT(0, OUT_IN_L2), 1);
	CHECK_EQ(OUT(0, OUT_REFLECTED), 0);
	CHECK_EQ(OUT(0, OUT_TIMER), 1);
	CHECK_EQ(OUT(1, OUT_IN_L2), 0);
	CHECK_EQ(OUT(1, OUT_REASON12), SDM_REASON_TIMER);
}

/*
 * L1's count L0_TICK + 100: after L0's tick an exit of L1's (CPUID) with
 * 40 of the 100 left saves 40, not vmcs02's count of L0's tick; the next
 * entry arms the smaller, 40.  An exact tie of L0's tick and L1's count
 * is L1's exit.
 */
static void l1_exit_after_l0s_tick(void)
{
	console_on();
	l1_timer(L0_TICK + 100, true);
	run_l1_vmlaunch();
	l2_exit_left(SDM_REASON_TIMER, 0, 0);
	report(0);
	l2_exit_left(SDM_REASON_CPUID, 40, 2);
	report(1);
	run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
	report(2);
	l2_exit_left(SDM_REASON_CPUID, 30, 2);

	l1_timer(L0_TICK, false);
	run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true);
	report(3);
	l2_exit_left(SDM_REASON_TIMER, 0, 0);
	report(4);
}

TEST(nested_timer_l1s_exit_after_l0s_tick)
{
	run_setup();
	uart_fake_reset(COM2);
	CHECK_EQ(uart_fake_run(l1_exit_after_l0s_tick), HALT_RETURNED);
	CHECK_EQ(OUT(0, OUT_IN_L2), 1);
	CHECK_EQ(OUT(0, OUT_TIMER), 100);
	CHECK_EQ(OUT(1, OUT_IN_L2), 0);
	CHECK_EQ(OUT(1, OUT_REASON12), SDM_REASON_CPUID);
	CHECK_EQ(OUT(1, OUT_TIMER12), 40);
	CHECK_EQ(OUT(2, OUT_IN_L2), 1);
	CHECK_EQ(OUT(2, OUT_TIMER), 40);
	CHECK_EQ(OUT(3, OUT_TIMER), L0_TICK);
	CHECK_EQ(OUT(4, OUT_IN_L2), 0);
	CHECK_EQ(OUT(4, OUT_REASON12), SDM_REASON_TIMER);
	CHECK_EQ(OUT(4, OUT_TIMER12), L0_TICK); /* no save in vmcs12: L1's value */
	CHECK_EQ(OUT(4, OUT_REFLECTED), 3);
}

/*
 * An INIT-signal exit L0 makes up (nested/init_exit.c) after L0's tick:
 * vmcs02's field holds L0's interval, vmcs12 gets L1's count left.
 */
static void init_after_l0s_tick(void)
{
	console_on();
	l1_timer(3 * L0_TICK, true);
	run_l1_vmlaunch();
	l2_exit_left(SDM_REASON_TIMER, 0, 0);
	report(0);
	nested_init_exit(&vcpu, &regs);
	report(1);
}

TEST(nested_timer_init_exit_saves_l1s_count)
{
	run_setup();
	uart_fake_reset(COM2);
	CHECK_EQ(uart_fake_run(init_after_l0s_tick), HALT_RETURNED);
	CHECK_EQ(OUT(0, OUT_TIMER), L0_TICK);
	CHECK_EQ(OUT(1, OUT_IN_L2), 0);
	CHECK_EQ(OUT(1, OUT_REASON12), EXIT_REASON_INIT_SIGNAL);
	CHECK_EQ(OUT(1, OUT_TIMER12), 2 * L0_TICK);
}
