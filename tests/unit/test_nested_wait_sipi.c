/*
 * test_nested_wait_sipi.c - L2 entered in the wait-for-SIPI activity
 * state (nested/wait_sipi.c, nested/init_exit.c, vmx/ap_start.c), through
 * the real dispatcher with the nested run fixture (one CPU, index 0).
 *
 * The CPU spins in VMX root until a SIPI comes; what other CPUs do
 * meanwhile (post an INIT, send the SIPI through the ICR emulation, an NMI
 * in root) is played by the rdtsc hook of the fake, which the loop calls
 * once per spin.  Expected values are the SDM's: activity state 3 =
 * wait-for-SIPI (Vol. 3C 25.4.2), exit reason 4 = SIPI with the vector as
 * exit qualification (26.2, 28.2.1), INIT and NMIs blocked in that state
 * (27.7.2), the timer counting there without an exit (26.5.1).
 */
#define _GNU_SOURCE /* _exit */

#include "test.h"

#include "halting.h"
#include "hw_fake.h"
#include "mm/page_alloc.h"
#include "nested_run_fixture.h"
#include "uart_fake.h"
#include "vmcs_soft.h"
#include "vmx/ap_start.h"
#include "vmx/console.h"
#include "vmx/exit.h"
#include "vmx/l0.h"
#include "vmx/vmx_arch.h"

#include <string.h>
#include <unistd.h>

#define SDM_WAIT_SIPI 3
#define SDM_REASON_SIPI 4
#define SDM_REASON_INIT 3
#define SDM_PIN_TIMER 0x40u
#define SDM_EXIT_SAVE_TIMER 0x400000u
#define SDM_TIMER_VALUE 0x482eu
#define SIPI_LOW(vec) (ICR_MODE_STARTUP | ICR_LEVEL_ASSERT | (vec))

/* What the other CPUs do, by spin of the waiting one (rdtsc call). */
static unsigned spin, init_at, nmi_at, sipi_at;
static uint8_t sipi_vector;
static uint64_t tsc_jump;	 /* added to the TSC at the SIPI's spin */
static uint32_t state_at_sipi;	 /* the INIT's state when the SIPI is sent */
static unsigned key_at, waiting; /* a key reaches the console, a console tick passes */

static void others(void)
{
	spin++;
	if (spin == init_at) {
		/* As ap_start.c's sender leaves an INIT it emulates for this CPU. */
		vcpu.start.state = AP_INIT_PENDING;
		vcpu.start.kick_seen = false;
		vcpu.start.kick_armed = true;
	}
	/* The 3rd TSC read since the wait began: the loop's first, after its start's. */
	if (NV->wait_sipi && ++waiting == key_at) {
		uart_fake_receive("h");
		hw_fake_tsc += CONSOLE_POLL_TSC;
	}
	if (spin == nmi_at)
		vmx_nmi_in_root(&vcpu); /* an NMI for L1, taken by L0's handler in root */
	if (spin == sipi_at) {
		state_at_sipi = vcpu.start.state;
		hw_fake_tsc += tsc_jump;
		struct ipi ipi = {SIPI_LOW(sipi_vector), vcpu.apic_id, false};
		CHECK(ap_start_icr_write(&vcpu, &ipi)); /* emulated by L0 */
	}
	/* A SIPI that did not end the wait: fail, and end it, rather than spin for good. */
	if (spin >= sipi_at + 1000 && NV->wait_sipi && !vcpu.start.sipi) {
		CHECK(!"the SIPI ended the wait for it");
		vcpu.start.l2_wait_sipi = true;
		vcpu.start.sipi = AP_SIPI_VALID | sipi_vector;
	}
}

static void setup(void)
{
	run_setup();
	spin = init_at = nmi_at = key_at = waiting = 0;
	sipi_at = 5;
	sipi_vector = 0x9a;
	tsc_jump = 0;
	hw_fake_rdtsc_hook = others;
	vmcs12_set(V12, VMCS_GUEST_ACTIVITY_STATE, SDM_WAIT_SIPI);
}

/* The capability: IA32_VMX_MISC[8] as the CPU's (Bochs has it). */
TEST(nested_wait_sipi_offered)
{
	setup();
	CHECK_EQ(g_l0.l1_vmx.misc & (1ull << 8), 1ull << 8);
}

/*
 * VMLAUNCH into wait-for-SIPI: the entry completes (vmcs12 launched),
 * vmcs02 is never entered; the SIPI is L1's exit 4 with the vector as
 * qualification, no interruption, the guest state as the entry left it
 * (activity state wait-for-SIPI); L1 continues at its host RIP.
 */
TEST(nested_wait_sipi_sipi_exit)
{
	setup();
	vmcs12_set(V12, VMCS_EXIT_QUALIFICATION, 0x55);
	vmcs12_set(V12, VMCS_IDT_VECTORING_INFO_FIELD, 0x80000b0eu);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK(spin >= sipi_at); /* it waited for the SIPI */
	CHECK(!NV->in_l2);
	CHECK(!NV->wait_sipi);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK_EQ(vmcs_soft_launch_state(VMCS02_PA), VMCS_SOFT_LAUNCH_CLEAR);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_SIPI);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0x9a);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), 0);
	CHECK_EQ(f12(VMCS_IDT_VECTORING_INFO_FIELD), 0);
	CHECK_EQ(f12(VMCS_GUEST_ACTIVITY_STATE), SDM_WAIT_SIPI);
	CHECK_EQ(f12(VMCS_GUEST_RIP), L2_RIP);
	CHECK_EQ(f12(VMCS_GUEST_RSP), L2_RSP);
	CHECK_EQ(V12->launch_state, VMCS12_LAUNCH_LAUNCHED);
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12);
	CHECK_EQ(f01(VMCS_GUEST_RSP), HOST_RSP12);
	CHECK_EQ(NV->entries, 1);
	CHECK_EQ(NV->reflected, 1);
	CHECK(!vcpu.start.l2_wait_sipi);
	CHECK_EQ(vcpu.start.sipi, 0);
	CHECK(run_log_has("L2 entered in wait-for-SIPI"));
	CHECK(run_log_has("SIPI vector 0x9a for L2 in wait-for-SIPI: SIPI exit to L1"));
	/* L1 starts its L2 (active) with VMRESUME: vmcs02 never ran, so it is launched. */
	vmcs12_set(V12, VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 1);
	CHECK(NV->in_l2);
	CHECK(!NV->wait_sipi);
	CHECK_EQ(f02(VMCS_GUEST_ACTIVITY_STATE), GUEST_ACTIVITY_ACTIVE);
	/* A SIPI now meets an active L2: discarded (SDM 27.7.2), nothing kept. */
	struct ipi ipi = {SIPI_LOW(0x11), vcpu.apic_id, false};
	CHECK(ap_start_icr_write(&vcpu, &ipi));
	CHECK_EQ(vcpu.start.sipi, 0);
	CHECK_EQ(run_stub_errors, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

/* Vector 0 is a vector like any other (qualification 0, still exit 4). */
TEST(nested_wait_sipi_vector_0)
{
	setup();
	sipi_vector = 0;
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_SIPI);
	CHECK_EQ(f12(VMCS_EXIT_QUALIFICATION), 0);
}

/*
 * SDM 27.7.2: wait-for-SIPI blocks INIT.  An INIT L0 emulates is taken
 * (its sender goes on) but causes no exit; the SIPI does.  The INIT stays
 * pending: L1 is in VMX root after the exit (blocked there too, 24.8), and
 * its next entry to an active L2 ends at once in the INIT-signal exit.
 */
TEST(nested_wait_sipi_init_blocked)
{
	setup();
	init_at = 2;
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_SIPI);
	CHECK_EQ(state_at_sipi, AP_RUNNING); /* taken while waiting: the sender goes on */
	CHECK_EQ(vcpu.start.state, AP_RUNNING);
	CHECK(vcpu.init_latched);
	CHECK(run_log_has("INIT (emulated by L0) held: L2 is in wait-for-SIPI"));
	CHECK_EQ(f01(VMCS_GUEST_RIP), HOST_RIP12); /* L1 not reset */
	vmcs12_set(V12, VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMRESUME, LEN_VMRESUME, true), 0);
	CHECK(!NV->in_l2);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_INIT);
	CHECK_EQ(f12(VMCS_GUEST_ACTIVITY_STATE), GUEST_ACTIVITY_ACTIVE);
	CHECK(!vcpu.init_latched);
	CHECK_EQ(run_stub_errors, 0);
}

/*
 * An INIT held in VMX root before the entry is not delivered by an entry
 * into wait-for-SIPI either (blocked there): it waits past the SIPI exit.
 */
TEST(nested_wait_sipi_init_held_before_the_entry)
{
	setup();
	CHECK_EQ(run_l1_exit(EXIT_REASON_INIT_SIGNAL, 0, true), 0);
	CHECK(vcpu.init_latched);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_SIPI);
	CHECK(vcpu.init_latched);
}

/*
 * SDM 27.7.2: NMIs are blocked in wait-for-SIPI, whatever "NMI exiting"
 * says; the NMI for L1 waits and L1 gets it after the SIPI exit.
 */
TEST(nested_wait_sipi_nmi_stays_pending_for_l1)
{
	setup();
	vmcs12_set(V12, VMCS_PIN_BASED_VM_EXEC_CONTROL,
		   f12(VMCS_PIN_BASED_VM_EXEC_CONTROL) | PIN_NMI_EXITING);
	nmi_at = 2;
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_SIPI);
	CHECK_EQ(f12(VMCS_VM_EXIT_INTR_INFO), 0);
	CHECK_EQ(vmcs_soft_current(), VMCS01_PA);
	CHECK_EQ(f01(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_NMI);
	CHECK(!vcpu.nmi_pending);
}

/*
 * SDM 26.5.1: L1's preemption timer counts in wait-for-SIPI (one count per
 * TSC change at the fixture's rate 0) and does not exit there at 0; the
 * SIPI exit saves what is left where vmcs12 asks (28.3.4).
 */
static void l1_timer(uint32_t value)
{
	vmcs12_set(V12, VMCS_PIN_BASED_VM_EXEC_CONTROL,
		   f12(VMCS_PIN_BASED_VM_EXEC_CONTROL) | SDM_PIN_TIMER);
	vmcs12_set(V12, VMCS_VM_EXIT_CONTROLS, f12(VMCS_VM_EXIT_CONTROLS) | SDM_EXIT_SAVE_TIMER);
	vmcs12_set(V12, SDM_TIMER_VALUE, value);
}

TEST(nested_wait_sipi_timer_counts_without_exit)
{
	setup();
	l1_timer(1000);
	tsc_jump = 300;
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_SIPI);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 700);

	setup();
	l1_timer(100);
	tsc_jump = 300;
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), SDM_REASON_SIPI);
	CHECK_EQ(f12(SDM_TIMER_VALUE), 0);
}

/* The entry checks still come first: wait-for-SIPI with an event to inject fails (27.3.1.5). */
TEST(nested_wait_sipi_no_injection)
{
	setup();
	vmcs12_set(V12, VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO_NMI);
	CHECK_EQ(run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true), 0);
	CHECK_EQ(spin, 0); /* no wait */
	CHECK_EQ(f12(VMCS_VM_EXIT_REASON), EXIT_REASON_FAILED_ENTRY | 33);
	CHECK(!vcpu.start.l2_wait_sipi);
}

/*
 * L0's console while the BSP holds an L2 in wait-for-SIPI: the tick
 * vmcs02 would have had is L0's own poll in the loop (a key typed is
 * answered before the SIPI); on a CPU without the tick (an AP: no timer
 * in vmcs01) the loop leaves the UART alone.  Forked children behind the
 * fake UART, as in test_nested_console.c.
 */
#define COM2 0x2f8
#define POOL_PAGES 8
static uint8_t pool_mem[POOL_PAGES * 4096] __attribute__((aligned(4096)));
static struct page_alloc pool;

static void console_wait(bool timer)
{
	page_alloc_init(&pool, (uint64_t)(uintptr_t)pool_mem, sizeof(pool_mem));
	g_l0.pages = &pool;
	if (!l0_console_init(COM2, 115200))
		_exit(90);
	if (timer)
		vmcs_soft_set_in(VMCS01_PA, VMCS_PIN_BASED_VM_EXEC_CONTROL,
				 f01(VMCS_PIN_BASED_VM_EXEC_CONTROL) | SDM_PIN_TIMER);
	key_at = 3;
	sipi_at = 20;
	hw_fake_rdtsc_hook = others;
	uart_fake->out[0] = (uint64_t)run_l1_exit(EXIT_REASON_VMLAUNCH, LEN_VMLAUNCH, true);
	uart_fake->out[1] = f12(VMCS_VM_EXIT_REASON);
	uart_fake->out[2] = uart_fake->rx_next; /* bytes the console took */
}

static void console_wait_bsp(void)
{
	console_wait(true);
}

static void console_wait_ap(void)
{
	console_wait(false);
}

TEST(nested_wait_sipi_console_polled_where_the_tick_is)
{
	setup();
	uart_fake_reset(COM2);
	CHECK_EQ(uart_fake_run(console_wait_bsp), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[0], 0);
	CHECK_EQ(uart_fake->out[1], SDM_REASON_SIPI);
	CHECK_EQ(uart_fake->out[2], 1);
	CHECK(strstr(uart_fake->tx, "microhv L0 console: keys:") != NULL);

	setup();
	uart_fake_reset(COM2);
	CHECK_EQ(uart_fake_run(console_wait_ap), HALT_RETURNED);
	CHECK_EQ(uart_fake->out[1], SDM_REASON_SIPI);
	CHECK_EQ(uart_fake->out[2], 0);
	CHECK(strstr(uart_fake->tx, "microhv L0 console: keys:") == NULL);
}
