/*
 * nested_smp.c - the nested test hypervisor on two CPUs: INIT and SIPI
 * sent by one CPU to another CPU that runs an L2 in an inactive activity
 * state (SDM Vol. 3C 27.7.2: shutdown blocks SIPIs, wait-for-SIPI blocks
 * INIT, NMIs and external interrupts; 26.2: INIT and SIPI exits).
 *
 * The BSP starts the AP through EFI_MP_SERVICES_PROTOCOL (OVMF wakes it
 * with INIT-SIPI-SIPI through the local APIC, which microhv emulates). The
 * AP enables VMX with the nested test's environment (nested_env.c, its
 * pages, GDT and IDT, which the BSP set up and leaves alone from then on)
 * and enters one L2 per case; the BSP sends INIT or SIPI through its xAPIC
 * ICR once the AP says it is about to enter, and the AP records the exit
 * it gets. The BSP alone prints, after each case:
 *   1 wait-for-SIPI, SIPI vector 0x9a    exit 4, qualification 0x9a,
 *                                        activity state saved 3 (28.3.4)
 *   2 shutdown, INIT                     exit 3, qualification 0,
 *                                        activity state saved 2
 *   3 wait-for-SIPI, INIT then SIPI 0x5c exit 4 (the INIT caused no exit);
 *                                        then an entry to an active L2:
 *                                        the INIT the state blocked
 *   4 the AP leaves VMX operation and returns to the firmware.
 * A SIPI that reaches the AP before it is in wait-for-SIPI is discarded
 * (27.7.2), so the BSP repeats it until the exit is recorded; an INIT is
 * sent once per case, after a delay. Lines "microhv-smp: ok/not ok - ...",
 * then "nested-smp: N passed, N failed" and power-off. Every wait is
 * bounded: a case whose exit never comes is a not-ok line, not a hang.
 */
#include <efi.h>
#include <efilib.h>

#include "boot/loader.h"
#include "drivers/serial/format.h"
#include "nested_test.h"
#include "payload.h"

#define PREFIX "microhv-smp"
#define CR4_VMXE (1ull << 13)
#define APIC_ID 0x20
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_INIT 0x4500u /* INIT, level assert (SDM Vol. 3A 11.6.1) */
#define ICR_SIPI 0x4600u /* start-up, level assert, | vector */
#define DELAY_SPINS 2000000u
#define WAIT_SPINS 100000000ull
#define CASES 3
#define VECTOR1 0x9a
#define VECTOR3 0x5c

extern char l2_vmcall[];

/* What the two CPUs share (volatile: one writes while the other polls). */
static volatile struct {
	uint32_t apic_id;  /* the AP's */
	uint32_t started;  /* the AP runs our procedure */
	uint32_t vmx;	   /* 1: the AP is in VMX operation; 2: VMXON failed */
	uint32_t ready;	   /* case n is about to enter L2 */
	uint32_t done;	   /* case n recorded its exit */
	uint32_t finished; /* the AP left VMX operation and returns */
	uint64_t vmxon_result;
	struct nx_exit exit[CASES + 1]; /* [CASES]: case 3's second entry */
	uint64_t activity[CASES + 1], idt_vectoring[CASES + 1], interruptibility[CASES + 1];
	uint64_t vmxoff_result;
	uint32_t at_vmxoff; /* the AP reached its VMXOFF */
} sh;

static unsigned g_pass, g_fail;

/* ---- nested_test.h's output functions, for the nested test's objects ---- */

void nx_check(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	payload_check(PREFIX, &g_pass, &g_fail, ok, what, fmt, ap);
	va_end(ap);
}

void nx_finish(void)
{
	payload_say("nested-smp: %u passed, %u failed", g_pass, g_fail);
	payload_power_off();
}

__attribute__((noreturn)) void nx_unexpected_exception(uint64_t vector, uint64_t error,
						       uint64_t rip);
void nx_unexpected_exception(uint64_t vector, uint64_t error, uint64_t rip)
{
	nx_check(false, "no unexpected exception", "vector %llu error 0x%llx rip 0x%llx",
		 (unsigned long long)vector, (unsigned long long)error, (unsigned long long)rip);
	nx_finish();
}

/* ---- the AP ---- */

static void spin(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		cpu_pause();
}

/* One entry in the state act, the exit it ends in recorded as slot i. */
static void ap_enter(unsigned i, uint32_t act, unsigned how)
{
	vw(VMCS_GUEST_ACTIVITY_STATE, act);
	vw(VMCS_GUEST_RIP, (uint64_t)(uintptr_t)l2_vmcall);
	vw(VMCS_GUEST_RSP, nx_l2_stack_top());
	struct nx_exit e;
	if (i < CASES)
		__atomic_store_n(&sh.ready, i + 1, __ATOMIC_RELEASE);
	nx_enter_read(how, &e);
	sh.exit[i] = e;
	sh.activity[i] = vr(VMCS_GUEST_ACTIVITY_STATE);
	sh.idt_vectoring[i] = vr(VMCS_IDT_VECTORING_INFO_FIELD);
	sh.interruptibility[i] = vr(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	if (i < CASES)
		__atomic_store_n(&sh.done, i + 1, __ATOMIC_RELEASE);
}

static void EFIAPI ap_main(void *arg)
{
	(void)arg;
	cli();
	struct desc_ptr fw_gdt, fw_idt;
	sgdt(&fw_gdt);
	sidt(&fw_idt);
	struct desc_ptr g = {nx.gdt_limit, nx.gdt}, d = {nx.idt_limit, nx.idt};
	__asm__ volatile("lgdt %0" : : "m"(g) : "memory");
	lidt(&d);
	sh.apic_id = nx_apic_read(APIC_ID) >> 24;
	__atomic_store_n(&sh.started, 1, __ATOMIC_RELEASE);

	/* IA32_FEATURE_CONTROL is per CPU: unlocked on bare Bochs, as on the BSP. */
	uint64_t fc = 0;
	if (!nx_rdmsr(MSR_IA32_FEATURE_CONTROL, &fc) && !(fc & FEATURE_CONTROL_LOCK))
		nx_wrmsr(MSR_IA32_FEATURE_CONTROL,
			 fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 | nx.cr4_fixed0 | CR4_VMXE);
	*(volatile uint32_t *)(uintptr_t)nx.page[PG_VMXON] = nx.revision;
	sh.vmxon_result = nx_vmxon(nx.page[PG_VMXON]);
	if (nx_outcome(sh.vmxon_result) != NX_SUCCEED) {
		write_cr4(cr4);
		__atomic_store_n(&sh.vmx, 2, __ATOMIC_RELEASE);
		__atomic_store_n(&sh.finished, 1, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&sh.vmx, 1, __ATOMIC_RELEASE);

	nx_vmcs_init(PG_VMCS_A);
	ap_enter(0, GUEST_ACTIVITY_WAIT_SIPI, NX_LAUNCH);
	nx_vmcs_init(PG_VMCS_A);
	ap_enter(1, GUEST_ACTIVITY_SHUTDOWN, NX_LAUNCH);
	nx_vmcs_init(PG_VMCS_A);
	ap_enter(2, GUEST_ACTIVITY_WAIT_SIPI, NX_LAUNCH);
	/*
	 * L1's next entry, to an active L2 that exits with VMCALL.  Blocking
	 * by SMI cleared first: Bochs 2.7 saves it as 1 on the SIPI exit,
	 * which the entry then refuses (report() notes it).
	 */
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO,
	   sh.interruptibility[2] & ~(uint64_t)GUEST_INTR_STATE_SMI);
	ap_enter(CASES, GUEST_ACTIVITY_ACTIVE, NX_RESUME);

	__atomic_store_n(&sh.at_vmxoff, 1, __ATOMIC_RELEASE);
	sh.vmxoff_result = nx_vmxoff();
	write_cr4(read_cr4() & ~CR4_VMXE);
	__asm__ volatile("lgdt %0" : : "m"(fw_gdt) : "memory");
	lidt(&fw_idt);
	__atomic_store_n(&sh.finished, 1, __ATOMIC_RELEASE);
}

/* ---- the BSP ---- */

static void icr(uint32_t dest, uint32_t low)
{
	uint64_t base = 0;
	nx_rdmsr(MSR_IA32_APIC_BASE, &base);
	volatile uint32_t *apic = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	apic[APIC_ICR_HI / 4] = dest << 24;
	apic[APIC_ICR_LO / 4] = low;
}

/* Polls *flag until it reaches want; false after spins. */
static bool wait_for(volatile uint32_t *flag, uint32_t want, uint64_t spins)
{
	for (uint64_t i = 0; i < spins; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE) >= want)
			return true;
		cpu_pause();
	}
	return false;
}

/* Case n (1-based): INIT once if asked, then SIPIs until the AP recorded its exit. */
static bool run_case(unsigned n, bool init, bool sipi, uint8_t vector)
{
	if (!wait_for(&sh.ready, n, WAIT_SPINS)) {
		nx_check(false, "the AP reached the case's entry", "case %u, ready %u", n,
			 sh.ready);
		return false;
	}
	spin(DELAY_SPINS);
	if (init)
		icr(sh.apic_id, ICR_INIT);
	for (uint64_t i = 0; i < WAIT_SPINS / DELAY_SPINS; i++) {
		if (sipi)
			icr(sh.apic_id, ICR_SIPI | vector);
		if (wait_for(&sh.done, n, DELAY_SPINS))
			return true;
	}
	nx_check(false, "the AP's L2 exited", "case %u: no exit recorded", n);
	return false;
}

static const char *exit_str(unsigned i)
{
	static char buf[2][128];
	static unsigned which;
	char *b = buf[which++ & 1];
	const struct nx_exit *e = (const struct nx_exit *)&sh.exit[i];
	if (e->entry)
		fmt_snprintf(b, 128, "no VM exit: entry gave %s", nx_result_str(e->entry));
	else
		fmt_snprintf(
		    b, 128, "reason 0x%x qual 0x%llx activity %llu idt-vectoring 0x%llx rip %s",
		    e->reason, (unsigned long long)e->qual, (unsigned long long)sh.activity[i],
		    (unsigned long long)sh.idt_vectoring[i],
		    e->rip == (uint64_t)(uintptr_t)l2_vmcall ? "L2's" : "moved");
	return b;
}

/* Exit i: no VM exit missing, the reason and qualification, L2's RIP untouched. */
static bool exit_is(unsigned i, uint32_t reason, uint64_t qual)
{
	const struct nx_exit *e = (const struct nx_exit *)&sh.exit[i];
	return !e->entry && e->reason == reason && e->qual == qual &&
	       !(sh.idt_vectoring[i] & INTR_INFO_VALID) && e->rip == (uint64_t)(uintptr_t)l2_vmcall;
}

/*
 * SDM 28.1: an event that causes a VM exit directly in an inactive state
 * returns the CPU to the active state only after the exit, so the exit
 * saves the inactive state (28.3.4).  Bochs 2.7 saves 0 (active) after
 * its SIPI and INIT exits, and after the NMI exit that microhv's INIT kick
 * makes from a vmcs02 in shutdown (microhv hands that state to L1): where
 * Bochs decided the state, 0 is taken with a note.  microhv computes the
 * SIPI exit's state itself, so there it must be 3.
 */
static void check_activity(unsigned i, uint64_t want, bool bochs_decides, const char *what)
{
	bool bochs = bochs_decides && sh.activity[i] == GUEST_ACTIVITY_ACTIVE;
	if (bochs)
		nx_say(PREFIX ": note - Bochs 2.7 saved activity state 0 for %s (SDM 28.1, 28.3.4: "
			      "%llu)",
		       what, (unsigned long long)want);
	nx_check(sh.activity[i] == want || bochs, "the exit saves the inactive state (SDM 28.1)",
		 "%s: activity %llu, want %llu", what, (unsigned long long)sh.activity[i],
		 (unsigned long long)want);
}

static void report(void)
{
	nx_check(exit_is(0, EXIT_REASON_SIPI, VECTOR1),
		 "wait-for-SIPI, SIPI: exit 4 with the vector as qualification (SDM 26.2, 28.2.1)",
		 "%s, want reason 4 qual 0x%x", exit_str(0), VECTOR1);
	check_activity(0, GUEST_ACTIVITY_WAIT_SIPI, !nx.microhv, "the SIPI exit");
	/* SDM 28.3.4: exits that end outside SMM save blocking by SMI as 0. */
	bool smi = sh.interruptibility[0] & GUEST_INTR_STATE_SMI;
	if (smi && !nx.microhv)
		nx_say(PREFIX ": note - Bochs 2.7 saved blocking by SMI (interruptibility 0x%llx) "
			      "on the SIPI exit (SDM 28.3.4: 0 outside SMM)",
		       (unsigned long long)sh.interruptibility[0]);
	nx_check(!smi || !nx.microhv, "the SIPI exit saves no blocking by SMI (SDM 28.3.4)",
		 "interruptibility 0x%llx", (unsigned long long)sh.interruptibility[0]);
	nx_check(exit_is(1, EXIT_REASON_INIT_SIGNAL, 0),
		 "shutdown, INIT: exit 3, qualification 0 (SDM 26.2, 27.7.2)",
		 "%s, want reason 3 qual 0", exit_str(1));
	check_activity(1, GUEST_ACTIVITY_SHUTDOWN, true, "the INIT exit from shutdown");
	nx_check(exit_is(2, EXIT_REASON_SIPI, VECTOR3),
		 "wait-for-SIPI, INIT then SIPI: the INIT is blocked, the SIPI exits (SDM 27.7.2)",
		 "%s, want reason 4 qual 0x%x", exit_str(2), VECTOR3);
	/*
	 * The INIT wait-for-SIPI blocked is still pending (27.7.2 "blocks";
	 * 24.8: blocked in VMX root too): L1's next entry ends in the
	 * INIT-signal exit.
	 */
	const struct nx_exit *e = (const struct nx_exit *)&sh.exit[CASES];
	nx_check(!e->entry && e->reason == EXIT_REASON_INIT_SIGNAL && e->qual == 0,
		 "the next entry: the INIT wait-for-SIPI held exits (3)", "%s", exit_str(CASES));
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	payload_serial_init();
	nx_say(PREFIX ": nested SMP test started");
	const char *err = nx_env_alloc();
	if (err) {
		nx_check(false, "memory for the test", "%s", err);
		nx_finish();
	}
	nx_env_l1_tables();
	nx_env_read_caps();
	nx_say(PREFIX ": group S - INIT and SIPI to an AP whose L2 is inactive (%s)",
	       nx.microhv ? "under microhv" : "no microhv: bare hardware");
	nx_check(nx.caps_ok && (nx.misc & (3ull << 7)) == (3ull << 7),
		 "IA32_VMX_MISC offers shutdown (7) and wait-for-SIPI (8)", "misc 0x%llx",
		 (unsigned long long)nx.misc);

	EFI_GUID guid = EFI_MP_SERVICES_PROTOCOL_GUID;
	EFI_MP_SERVICES_PROTOCOL *mp = NULL;
	EFI_EVENT ev = NULL;
	EFI_STATUS s = uefi_call_wrapper(BS->LocateProtocol, 3, &guid, NULL, (void **)&mp);
	if (!EFI_ERROR(s))
		s = uefi_call_wrapper(BS->CreateEvent, 5, 0, 0, NULL, NULL, &ev);
	/*
	 * Non-blocking (an event), so that the BSP goes on while the AP works.
	 * Checks are printed once the AP is done: under microhv, L0's lines
	 * about the AP would interleave with them on COM1.
	 */
	if (!EFI_ERROR(s))
		s = uefi_call_wrapper(mp->StartupThisAP, 7, mp, ap_main, 1, ev, 0, NULL, NULL);
	if (EFI_ERROR(s)) {
		nx_check(false, "MP services start the AP (CPU 1)", "status 0x%llx",
			 (unsigned long long)s);
		nx_finish();
	}
	cli();
	bool started = wait_for(&sh.started, 1, WAIT_SPINS) && wait_for(&sh.vmx, 1, WAIT_SPINS);
	bool ok = started && sh.vmx == 1 && run_case(1, false, true, VECTOR1) &&
		  run_case(2, true, false, 0) && run_case(3, true, true, VECTOR3);
	bool fin = ok && wait_for(&sh.finished, 1, WAIT_SPINS);
	nx_check(true, "MP services start the AP (CPU 1)", "status 0x%llx", (unsigned long long)s);
	nx_check(started && sh.vmx == 1, "the AP runs and enters VMX operation",
		 "started %u, APIC ID %u, VMXON %s", sh.started, sh.apic_id,
		 nx_result_str(sh.vmxon_result));
	/*
	 * Bochs 2.7 keeps an INIT pending across its INIT VM exit (docs/l0.md):
	 * on bare Bochs that INIT resets the AP as soon as its VMXOFF unblocks
	 * it, before it can return.
	 */
	bool reset = !fin && !nx.microhv && sh.at_vmxoff;
	if (reset)
		nx_say(PREFIX ": note - Bochs 2.7 reset the AP at its VMXOFF with the INIT it kept "
			      "pending across its INIT VM exit");
	bool vmxoff = nx_outcome(sh.vmxoff_result) == NX_SUCCEED;
	nx_check((fin && vmxoff) || reset, "the AP left VMX operation (VMXOFF) and returned",
		 "finished %u, reached VMXOFF %u, VMXOFF %s", sh.finished, sh.at_vmxoff,
		 fin ? nx_result_str(sh.vmxoff_result) : "-");
	if (ok)
		report();
	nx_finish();
}
