/*
 * test_ap_start.c - INIT/SIPI emulation (vmx/ap_start.c) and the stores to
 * the write-protected xAPIC page (vmx/apic_access.c), on the software VMCS
 * (tests/unit/vmcs_soft.c) and the hardware fakes (tests/unit/hw_fake.c).
 *
 * The fixture is three vCPUs (index 0, 1, 2; APIC IDs 0, 2, 5), all of the
 * system's CPUs under L0 (boot_info.cpu_count = 3).  Everything runs on one
 * thread: the target side of an INIT is played either by ap_start_poll on
 * the software VMCS (with the SIPI already there) or, for the sender's
 * wait, by the IPI hook of the fake, which takes the NMI kick the way the
 * target's exit would (state AP_INIT_PENDING -> AP_WAIT_SIPI).
 *
 * The give-up test spins the sender's full 2^24 pauses (a fraction of a
 * second).
 */
#include "test.h"

#include "arch/x86/msr.h"
#include "arch/x86/regs.h"
#include "drivers/serial/log.h"
#include "hw_fake.h"
#include "vmcs_soft.h"
#include "vmx/ap_start.h"
#include "vmx/apic_access.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_arch.h"

#include <stdio.h>
#include <string.h>

#define INIT_LOW (ICR_MODE_INIT | ICR_LEVEL_ASSERT)
#define SIPI_LOW(vec) (ICR_MODE_STARTUP | ICR_LEVEL_ASSERT | (vec))
#define KICK_LOW (ICR_MODE_NMI | ICR_LEVEL_ASSERT)
#define SH(s) ((uint32_t)(s) << ICR_SHORTHAND_SHIFT)
#define GPR_INIT(n) (0x5a5a5a5a00000000ull | (n))
#define CPUID1_EAX 0x00050654u
#define XAPIC_BASE 0xfee00000ull
#define INFO_GP0 (INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE | VEC_GP)

static struct vcpu cpu[3];
static struct boot_info bi;
static struct guest_regs regs;

/* The log's error lines, captured. */
static char last_error[LOG_LINE_MAX + 1];
static unsigned errors;

static void capture_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (strstr(line, "] error: ")) {
		errors++;
		snprintf(last_error, sizeof(last_error), "%.*s", (int)len, line);
	}
}

static void setup(void)
{
	vmcs_soft_reset();
	hw_fake_reset();
	log_init("t", LOG_INFO);
	log_add_sink(capture_sink, NULL);
	errors = 0;
	last_error[0] = '\0';

	memset(&g_l0, 0, sizeof(g_l0));
	hw_fake_bochs_caps(&g_l0.caps);
	g_l0.unrestricted_guest = true;
	g_l0.vpid = true;
	static const uint32_t ids[3] = {0, 2, 5};
	for (unsigned i = 0; i < 3; i++) {
		memset(&cpu[i], 0, sizeof(cpu[i]));
		cpu[i].index = i;
		cpu[i].apic_id = ids[i];
		cpu[i].launched = true;
		/* IA32_APIC_BASE as L0 keeps it: xAPIC at FEE00000H, BSP on CPU 0. */
		cpu[i].msrs.apic_base = XAPIC_BASE | APIC_BASE_ENABLE | (i == 0 ? APIC_BASE_BSP : 0);
		g_l0.vcpus[i] = &cpu[i];
	}
	g_l0.ncpus = 3;
	memset(&bi, 0, sizeof(bi));
	bi.cpu_count = 3;
	g_l0.bi = &bi;

	memset(&regs, 0, sizeof(regs));
	for (unsigned i = 0; i < GPR_COUNT; i++)
		regs.gpr[i] = GPR_INIT(i);
	hw_fake_cpuid_set(1, 0, CPUID1_EAX, 0x00100800, 0x7ffefbff, 0xbfebfbff);
}

static bool send(unsigned from, uint32_t low, uint32_t dest)
{
	struct ipi ipi = {.low = low, .dest = dest, .x2apic = false};
	return ap_start_icr_write(&cpu[from], &ipi);
}

/* ---- 1. ipi_plan ---- */

struct plan_case {
	const char *what;
	uint32_t low, dest;
	bool x2apic;
	unsigned self, in_system;
	enum ipi_plan_kind kind;
	uint64_t targets;
};

/* vcpu i has APIC ID plan_ids[i]; 0xff and 0x100 are x2APIC IDs. */
static const uint32_t plan_ids[5] = {0, 2, 5, 0xff, 0x100};

static const struct plan_case plan_cases[] = {
    {"INIT to APIC 2", INIT_LOW, 2, false, 0, 5, IPI_EMULATE, 1u << 1},
    {"SIPI to APIC 5", SIPI_LOW(0x87), 5, false, 0, 5, IPI_EMULATE, 1u << 2},
    {"INIT to APIC 5 from an AP", INIT_LOW, 5, false, 1, 5, IPI_EMULATE, 1u << 2},
    {"x2APIC INIT to 5", INIT_LOW, 5, true, 0, 5, IPI_EMULATE, 1u << 2},
    {"unicast while CPUs run without L0", INIT_LOW, 2, false, 0, 8, IPI_EMULATE, 1u << 1},
    {"INIT to unknown APIC 7", INIT_LOW, 7, false, 0, 5, IPI_PASS, 0},
    {"SIPI to unknown APIC 1", SIPI_LOW(0x87), 1, false, 0, 5, IPI_PASS, 0},
    {"INIT to the BSP", INIT_LOW, 0, false, 1, 5, IPI_PASS, 0},
    {"SIPI to the BSP (L0's: L2 in wait-for-SIPI)", SIPI_LOW(0x87), 0, false, 2, 5, IPI_EMULATE,
     1u << 0},
    {"INIT logical", INIT_LOW | ICR_DEST_LOGICAL, 2, false, 0, 5, IPI_PASS, 0},
    {"SIPI logical", SIPI_LOW(0x87) | ICR_DEST_LOGICAL, 4, false, 0, 5, IPI_PASS, 0},
    {"fixed", ICR_LEVEL_ASSERT | 0x30, 2, false, 0, 5, IPI_PASS, 0},
    {"NMI", KICK_LOW, 2, false, 0, 5, IPI_PASS, 0},
    {"lowest priority", (1u << ICR_MODE_SHIFT) | 0x30, 2, false, 0, 5, IPI_PASS, 0},
    {"SMI", 2u << ICR_MODE_SHIFT, 2, false, 0, 5, IPI_PASS, 0},
    {"reserved mode 7", 7u << ICR_MODE_SHIFT, 2, false, 0, 5, IPI_PASS, 0},
    {"INIT self from AP 1 (dest ignored)", INIT_LOW | SH(ICR_SHORTHAND_SELF), 0, false, 1, 5,
     IPI_EMULATE, 1u << 1},
    {"SIPI self from AP 2", SIPI_LOW(0x10) | SH(ICR_SHORTHAND_SELF), 0xff, false, 2, 5, IPI_EMULATE,
     1u << 2},
    {"INIT self from the BSP", INIT_LOW | SH(ICR_SHORTHAND_SELF), 2, false, 0, 5, IPI_PASS, 0},
    {"INIT others from the BSP", INIT_LOW | SH(ICR_SHORTHAND_OTHERS), 0, false, 0, 5, IPI_EMULATE,
     0x1e},
    {"SIPI others, logical bit ignored",
     SIPI_LOW(0x87) | SH(ICR_SHORTHAND_OTHERS) | ICR_DEST_LOGICAL, 0, false, 0, 5, IPI_EMULATE,
     0x1e},
    {"others while a CPU runs without L0", INIT_LOW | SH(ICR_SHORTHAND_OTHERS), 0, false, 0, 6,
     IPI_PASS, 0},
    {"INIT others from an AP (has the BSP)", INIT_LOW | SH(ICR_SHORTHAND_OTHERS), 0, false, 1, 5,
     IPI_PASS, 0},
    {"SIPI others from an AP (has the BSP)", SIPI_LOW(0x87) | SH(ICR_SHORTHAND_OTHERS), 0, false,
     1, 5, IPI_EMULATE, 0x1d},
    {"INIT all incl. self", INIT_LOW | SH(ICR_SHORTHAND_ALL), 0, false, 0, 5, IPI_PASS, 0},
    {"SIPI all incl. self from an AP", SIPI_LOW(0x87) | SH(ICR_SHORTHAND_ALL), 0, false, 3, 5,
     IPI_EMULATE, 0x1f},
    {"xAPIC broadcast 0xff", INIT_LOW, 0xff, false, 1, 5, IPI_PASS, 0},
    {"x2APIC ID 0xff is no broadcast", INIT_LOW, 0xff, true, 0, 5, IPI_EMULATE, 1u << 3},
    {"x2APIC broadcast INIT", INIT_LOW, 0xffffffffu, true, 1, 5, IPI_PASS, 0},
    {"x2APIC broadcast SIPI", SIPI_LOW(0x87), 0xffffffffu, true, 1, 5, IPI_EMULATE, 0x1f},
    {"x2APIC 0x100", INIT_LOW, 0x100, true, 0, 5, IPI_EMULATE, 1u << 4},
    {"x2APIC 0x105 is not APIC 5", INIT_LOW, 0x105, true, 0, 5, IPI_PASS, 0},
    {"x2APIC 0x1ff is not APIC 0xff", INIT_LOW, 0x1ff, true, 0, 5, IPI_PASS, 0},
};

TEST(ap_ipi_plan_table)
{
	for (unsigned i = 0; i < sizeof(plan_cases) / sizeof(plan_cases[0]); i++) {
		const struct plan_case *c = &plan_cases[i];
		struct ipi ipi = {c->low, c->dest, c->x2apic};
		struct ipi_plan p = ipi_plan(&ipi, c->self, plan_ids, 5, c->in_system);
		bool ok = CHECK_EQ(p.kind, c->kind) & CHECK_EQ(p.targets, c->targets) &
			  CHECK(c->kind == IPI_PASS ? p.why != NULL : p.why == NULL);
		if (!ok)
			printf("     case: %s\n", c->what);
	}
}

/* The broadcasts pass for the BSP, not as unknown APIC IDs (0xff is an AP above). */
TEST(ap_ipi_plan_broadcast_reasons)
{
	struct ipi x = {INIT_LOW, 0xff, false};
	struct ipi_plan p = ipi_plan(&x, 1, plan_ids, 5, 5);
	CHECK(p.why && strstr(p.why, "BSP"));
	x = (struct ipi){INIT_LOW, 0xffffffffu, true};
	p = ipi_plan(&x, 1, plan_ids, 5, 5);
	CHECK(p.why && strstr(p.why, "BSP"));
	x = (struct ipi){INIT_LOW | SH(ICR_SHORTHAND_OTHERS), 0, false};
	p = ipi_plan(&x, 0, plan_ids, 5, 7);
	CHECK(p.why && strstr(p.why, "without L0"));
}

TEST(ap_ipi_plan_64_cpus)
{
	uint32_t ids[64];
	for (unsigned i = 0; i < 64; i++)
		ids[i] = i;
	struct ipi x = {SIPI_LOW(0x87) | SH(ICR_SHORTHAND_OTHERS), 0, false};
	struct ipi_plan p = ipi_plan(&x, 0, ids, 64, 64);
	CHECK_EQ(p.kind, IPI_EMULATE);
	CHECK_EQ(p.targets, ~1ull);
	x = (struct ipi){INIT_LOW, 63, false};
	p = ipi_plan(&x, 0, ids, 64, 64);
	CHECK_EQ(p.kind, IPI_EMULATE);
	CHECK_EQ(p.targets, 1ull << 63);
}

/* ---- 2. the ap_start state machine ---- */

/* The target that takes the take_at-th NMI kick (1 = the first). */
static unsigned kicks_seen, take_at;

static void take_kick(uint32_t apic_id, uint32_t low)
{
	if (low != KICK_LOW)
		return;
	for (unsigned i = 0; i < 3; i++) {
		if (cpu[i].apic_id != apic_id)
			continue;
		if (++kicks_seen >= take_at && cpu[i].start.state == AP_INIT_PENDING)
			cpu[i].start.state = AP_WAIT_SIPI; /* what ap_start_poll does first */
	}
}

TEST(ap_init_never_taken_gives_up)
{
	setup();
	CHECK(send(0, INIT_LOW, 5));
	CHECK_EQ(cpu[2].start.state, AP_RUNNING);
	CHECK_EQ(cpu[2].start.kick_armed, false);
	CHECK_EQ(cpu[2].start.sipi, 0);
	/* The first kick, one every 2^16 spins below 2^24 (255), then the real INIT. */
	CHECK_EQ(hw_calls.ipis, 257);
	bool kicks = true;
	for (unsigned i = 0; i < 16; i++)
		kicks &= hw_calls.ipi_apic_id[i] == 5 && hw_calls.ipi_low[i] == KICK_LOW;
	CHECK(kicks);
	CHECK_EQ(hw_calls.last_ipi_apic_id, 5);
	CHECK_EQ(hw_calls.last_ipi_low, INIT_LOW);
	CHECK(strstr(last_error, "CPU 0: CPU 2 did not take the INIT") != NULL);
	CHECK_EQ(cpu[1].start.state, AP_RUNNING);
	CHECK_EQ(cpu[1].start.kick_armed, false);
}

static void init_taken_at(unsigned n)
{
	setup();
	kicks_seen = 0;
	take_at = n;
	hw_fake_ipi_hook = take_kick;
	CHECK(send(0, INIT_LOW, 5));
	CHECK_EQ(hw_calls.ipis, n); /* n kicks, no real INIT */
	CHECK_EQ(hw_calls.last_ipi_apic_id, 5);
	CHECK_EQ(hw_calls.last_ipi_low, KICK_LOW);
	CHECK_EQ(cpu[2].start.state, AP_WAIT_SIPI);
	CHECK_EQ(cpu[2].start.kick_armed, true); /* until the SIPI */
	CHECK(ap_start_nmi_is_kick(&cpu[2]));
	CHECK(!ap_start_nmi_is_kick(&cpu[1]));
	CHECK_EQ(errors, 0);
}

TEST(ap_init_taken_at_first_kick)
{
	init_taken_at(1);
}
TEST(ap_init_taken_after_a_rekick)
{
	init_taken_at(2);
}

TEST(ap_init_others_from_bsp)
{
	setup();
	kicks_seen = 0;
	take_at = 1;
	hw_fake_ipi_hook = take_kick;
	CHECK(send(0, INIT_LOW | SH(ICR_SHORTHAND_OTHERS), 0));
	CHECK_EQ(hw_calls.ipis, 2);
	CHECK_EQ(hw_calls.ipi_apic_id[0], 2);
	CHECK_EQ(hw_calls.ipi_apic_id[1], 5);
	CHECK_EQ(cpu[0].start.state, AP_RUNNING);
	CHECK_EQ(cpu[0].start.kick_armed, false);
	CHECK_EQ(cpu[1].start.state, AP_WAIT_SIPI);
	CHECK_EQ(cpu[2].start.state, AP_WAIT_SIPI);
}

TEST(ap_init_to_self_no_kick_no_wait)
{
	setup();
	CHECK(send(1, INIT_LOW | SH(ICR_SHORTHAND_SELF), 0));
	CHECK_EQ(cpu[1].start.state, AP_INIT_PENDING); /* taken by this exit's ap_start_poll */
	CHECK_EQ(cpu[1].start.kick_armed, true);
	CHECK_EQ(hw_calls.ipis, 0);
}

TEST(ap_init_clears_a_stored_sipi)
{
	setup();
	cpu[2].start.state = AP_WAIT_SIPI;
	cpu[2].start.sipi = AP_SIPI_VALID | 0x10;
	CHECK(send(0, INIT_LOW, 5));
	CHECK_EQ(cpu[2].start.sipi, 0);
	CHECK_EQ(cpu[2].start.state, AP_WAIT_SIPI);
	CHECK_EQ(hw_calls.ipis, 1); /* the kick, no wait */
	CHECK_EQ(hw_calls.ipi_low[0], KICK_LOW);
}

TEST(ap_sipi_only_in_wait_for_sipi_first_wins)
{
	setup();
	CHECK(send(0, SIPI_LOW(0x87), 2)); /* running: ignored */
	CHECK_EQ(cpu[1].start.sipi, 0);
	CHECK_EQ(cpu[1].start.state, AP_RUNNING);
	cpu[1].start.state = AP_WAIT_SIPI;
	CHECK(send(0, SIPI_LOW(0x87), 2));
	CHECK_EQ(cpu[1].start.sipi, AP_SIPI_VALID | 0x87);
	CHECK_EQ(cpu[1].start.state, AP_WAIT_SIPI);
	CHECK(send(0, SIPI_LOW(0x99), 2));
	CHECK_EQ(cpu[1].start.sipi, AP_SIPI_VALID | 0x87);
	cpu[2].start.state = AP_INIT_PENDING;
	CHECK(send(0, SIPI_LOW(0x00), 5)); /* vector 0 still counts */
	CHECK_EQ(cpu[2].start.sipi, AP_SIPI_VALID);
	CHECK_EQ(hw_calls.ipis, 0);
}

/* The target that holds an L2 in wait-for-SIPI takes the kick as its loop does. */
static void claim_kick(uint32_t apic_id, uint32_t low)
{
	for (unsigned i = 0; i < 3; i++)
		if (low == KICK_LOW && cpu[i].apic_id == apic_id)
			CHECK(ap_start_claim_init(&cpu[i]));
}

/*
 * A CPU that holds an L2 in wait-for-SIPI (nested/wait_sipi.c) keeps the
 * first SIPI L0 emulates for it although L1 runs (state AP_RUNNING); an
 * INIT taken after it does not undo it (the SIPI exit has happened for
 * L1); taking it ends the wait.
 */
TEST(ap_sipi_kept_for_l2_in_wait_for_sipi)
{
	setup();
	cpu[2].start.sipi = AP_SIPI_VALID | 0x44; /* stale: dropped by the entry */
	ap_start_l2_wait_sipi(&cpu[2]);
	CHECK_EQ(cpu[2].start.sipi, 0);
	CHECK_EQ(ap_start_l2_take_sipi(&cpu[2]), 0);
	CHECK(send(0, SIPI_LOW(0x87), 5));
	CHECK(send(0, SIPI_LOW(0x99), 5));
	CHECK_EQ(cpu[2].start.sipi, AP_SIPI_VALID | 0x87);
	CHECK_EQ(cpu[2].start.state, AP_RUNNING);
	hw_fake_ipi_hook = claim_kick;
	CHECK(send(0, INIT_LOW, 5));
	CHECK_EQ(cpu[2].start.sipi, AP_SIPI_VALID | 0x87);
	CHECK_EQ(ap_start_l2_take_sipi(&cpu[2]), AP_SIPI_VALID | 0x87);
	CHECK(!cpu[2].start.l2_wait_sipi);
	CHECK_EQ(cpu[2].start.sipi, 0);
	/* The wait is over: a later SIPI meets an active CPU. */
	CHECK(send(0, SIPI_LOW(0x55), 5));
	CHECK_EQ(cpu[2].start.sipi, 0);
	CHECK_EQ(ap_start_l2_take_sipi(&cpu[2]), 0);
	CHECK_EQ(hw_calls.ipis, 1); /* the kick only */
}

TEST(ap_hw_wait_sipi_gets_the_real_ipi)
{
	setup();
	cpu[2].start.hw_wait_sipi = true;
	CHECK(send(0, SIPI_LOW(0x87), 5));
	CHECK(send(0, INIT_LOW, 5));
	CHECK_EQ(hw_calls.ipis, 2);
	CHECK_EQ(hw_calls.ipi_apic_id[0], 5);
	CHECK_EQ(hw_calls.ipi_low[0], SIPI_LOW(0x87));
	CHECK_EQ(hw_calls.ipi_apic_id[1], 5);
	CHECK_EQ(hw_calls.ipi_low[1], INIT_LOW);
	CHECK_EQ(cpu[2].start.state, AP_RUNNING);
	CHECK_EQ(cpu[2].start.sipi, 0);
	CHECK_EQ(cpu[2].start.kick_armed, false);
}

TEST(ap_init_deassert_has_no_effect)
{
	setup();
	cpu[2].start.state = AP_WAIT_SIPI;
	cpu[2].start.sipi = AP_SIPI_VALID | 0x10;
	CHECK(send(0, ICR_MODE_INIT | ICR_TRIGGER_LEVEL, 5));
	CHECK(send(0, ICR_MODE_INIT | ICR_TRIGGER_LEVEL, 2));
	CHECK_EQ(hw_calls.ipis, 0);
	CHECK_EQ(cpu[2].start.state, AP_WAIT_SIPI);
	CHECK_EQ(cpu[2].start.sipi, AP_SIPI_VALID | 0x10);
	CHECK_EQ(cpu[2].start.kick_armed, false);
	CHECK_EQ(cpu[1].start.state, AP_RUNNING);
	CHECK_EQ(cpu[1].start.kick_armed, false);
}

TEST(ap_icr_write_pass_cases)
{
	setup();
	cpu[1].start.state = cpu[2].start.state = AP_WAIT_SIPI;
	CHECK(!send(0, ICR_LEVEL_ASSERT | 0x30, 2)); /* fixed */
	CHECK(!send(0, KICK_LOW, 5));		     /* NMI */
	CHECK(!send(1, INIT_LOW, 0));		     /* the BSP */
	CHECK(!send(0, SIPI_LOW(0x87), 3));	     /* no such CPU */
	CHECK(!send(0, SIPI_LOW(0x87) | ICR_DEST_LOGICAL, 2));
	bi.cpu_count = 4; /* a CPU without L0: no broadcast */
	CHECK(!send(0, SIPI_LOW(0x87) | SH(ICR_SHORTHAND_OTHERS), 0));
	CHECK_EQ(hw_calls.ipis, 0);
	CHECK_EQ(cpu[1].start.sipi, 0);
	CHECK_EQ(cpu[2].start.sipi, 0);
	g_l0.bi = NULL; /* then every CPU is under L0 */
	CHECK(send(0, SIPI_LOW(0x87) | SH(ICR_SHORTHAND_OTHERS), 0));
	CHECK_EQ(cpu[1].start.sipi, AP_SIPI_VALID | 0x87);
	CHECK_EQ(cpu[2].start.sipi, AP_SIPI_VALID | 0x87);
	CHECK_EQ(hw_calls.ipis, 0);
}

TEST(ap_nmi_is_kick_follows_kick_armed)
{
	setup();
	CHECK(!ap_start_nmi_is_kick(&cpu[1]));
	cpu[1].start.kick_armed = true;
	CHECK(ap_start_nmi_is_kick(&cpu[1]));
	CHECK(!ap_start_nmi_is_kick(&cpu[2]));
	cpu[1].start.kick_armed = false;
	CHECK(!ap_start_nmi_is_kick(&cpu[1]));
}

TEST(ap_poll_takes_init_and_sipi)
{
	setup();
	struct vcpu *v = &cpu[2];
	v->start.state = AP_INIT_PENDING;
	v->start.sipi = AP_SIPI_VALID | 0x87;
	v->start.kick_armed = true;
	v->nmi_pending = true;
	vmcs_soft_set(VMCS_GUEST_RIP, 0xfffff80000401000ull);
	vmcs_soft_set(VMCS_GUEST_RSP, 0x7000);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x246);
	vmcs_soft_set(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_HLT);
	vmcs_soft_set(VMCS_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0xd01);
	vmcs_soft_set(VMCS_GUEST_CS_SELECTOR, 0x38);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	vmcs_soft_set(VMCS_CR0_READ_SHADOW, 0x80050033);
	ap_start_poll(v, &regs);
	CHECK_EQ(v->start.state, AP_RUNNING);
	CHECK_EQ(v->start.sipi, 0);
	CHECK_EQ(v->start.kick_armed, false);
	CHECK_EQ(v->nmi_pending, false);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_SELECTOR), 0x8700);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_BASE), 0x87000);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_LIMIT), 0xffff);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_AR_BYTES), 0x9b);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RSP), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RFLAGS), 0x2);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_ACTIVITY_STATE), GUEST_ACTIVITY_ACTIVE);
	/* SDM Vol. 3A 10.1.1, Table 10-1: CR0 after INIT is 0x60000010 (CD, NW, ET); L1 sees it. */
	CHECK_EQ(vmcs_soft_get(VMCS_CR0_READ_SHADOW), 0x60000010);
	/*
	 * The CR0 the CPU runs with: Bochs's IA32_VMX_CR0_FIXED0 0x80000021 less PG and PE
	 * (unrestricted guest, SDM Vol. 3C 24.8) forces NE (bit 5); FIXED1 0xffffffff clears
	 * nothing: 0x60000010 | 0x20.
	 */
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR0), 0x60000030);
	/* Table 10-1: CR4 = 0 after INIT; Bochs's CR4_FIXED0 0x2000 forces VMXE (bit 13). */
	CHECK_EQ(vmcs_soft_get(VMCS_CR4_READ_SHADOW), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR4), 0x2000);
	/* Table 10-1: DR7 = 0x400 after INIT. */
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_DR7), 0x400);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_CONTROLS), ENTRY_LOAD_IA32_EFER);
	bool zero = true;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		zero &= i == GPR_RDX || regs.gpr[i] == 0;
	CHECK(zero);
	CHECK_EQ(regs.gpr[GPR_RDX], CPUID1_EAX);
	CHECK_EQ(hw_calls.invvpid, 2); /* INIT state twice: on INIT, then at the SIPI */
	CHECK_EQ(hw_calls.ipis, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(ap_poll_without_pending_init_does_nothing)
{
	setup();
	vmcs_soft_set(VMCS_GUEST_RIP, 0x1234);
	static const uint32_t states[] = {AP_RUNNING, AP_WAIT_SIPI};
	for (unsigned s = 0; s < 2; s++) {
		cpu[1].start.state = states[s];
		cpu[1].start.sipi = AP_SIPI_VALID | 0x87;
		cpu[1].nmi_pending = true;
		vmcs_soft_clear_counters();
		ap_start_poll(&cpu[1], &regs);
		unsigned long access = 0;
		for (unsigned c = VMCS_CLASS_CONTROL; c <= VMCS_CLASS_HOST; c++)
			access += vmcs_soft_reads(c) + vmcs_soft_writes(c);
		CHECK_EQ(access, 0);
		CHECK_EQ(cpu[1].start.state, states[s]);
		CHECK_EQ(cpu[1].start.sipi, AP_SIPI_VALID | 0x87);
		CHECK_EQ(cpu[1].nmi_pending, true);
		CHECK_EQ(regs.gpr[GPR_RDX], GPR_INIT(GPR_RDX));
		CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), 0x1234);
	}
}

/* ---- 3. apic_access_write ---- */

#define MEM_BASE 0x10000ull
#define MEM_SIZE 0x3000ull
static uint8_t mem_buf[MEM_SIZE];
static bool refuse_all;

static bool mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (refuse_all || gpa < MEM_BASE || gpa + len > MEM_BASE + MEM_SIZE)
		return false;
	memcpy(buf, &mem_buf[gpa - MEM_BASE], len);
	return true;
}

/* No writes: without paging a fetch sets no accessed bits. */
static const struct l1_memory l1mem = {mem_read, NULL, NULL, 36, NULL, NULL };

/* L1 in 32-bit protected mode without paging (16-bit code if !d), insn at gpa. */
static void setup_code(uint64_t gpa, const uint8_t *insn, unsigned n, bool d)
{
	setup();
	refuse_all = false;
	memset(mem_buf, 0xcc, sizeof(mem_buf));
	memcpy(&mem_buf[gpa - MEM_BASE], insn, n);
	vmcs_soft_set(VMCS_GUEST_CR0, CR0_PE | 0x30); /* PE ET NE */
	vmcs_soft_set(VMCS_GUEST_CR4, 0x2000);	      /* VMXE */
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, 0);
	vmcs_soft_set(VMCS_GUEST_CS_SELECTOR, 0x10);
	vmcs_soft_set(VMCS_GUEST_CS_BASE, 0);
	vmcs_soft_set(VMCS_GUEST_CS_LIMIT, 0xffffffff);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0x809b | (d ? VMX_AR_DB : 0));
	vmcs_soft_set(VMCS_GUEST_SS_AR_BYTES, 0xc093);
	vmcs_soft_set(VMCS_GUEST_RIP, gpa);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x2);
	vmcs_soft_set(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x7777);
	regs.gpr[GPR_RAX] = 0xfee00300;
	regs.gpr[GPR_RDX] = 0xdead000000001234ull;
	hw_fake_mmio_value = 2u << XAPIC_DEST_SHIFT; /* ICR high: APIC ID 2 = vcpu 1 */
}

static void check_done(uint64_t rip, unsigned mmio_writes)
{
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), rip);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD), 0);
	CHECK_EQ(hw_calls.mmio_writes, mmio_writes);
	CHECK_EQ(hw_calls.ipis, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

static void check_gp0(uint64_t rip)
{
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD), INFO_GP0);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), rip);
	CHECK_EQ(hw_calls.mmio_writes, 0);
	CHECK_EQ(hw_calls.ipis, 0);
	CHECK(strstr(last_error, "cannot finish") != NULL);
}

static const uint8_t MOV_EDX_EAX[] = {0x89, 0x10}; /* mov %edx,(%eax) */

/* movl $value,0xfee00300 (10 bytes) at gpa, by vcpu from, vcpu 1 in state ap1. */
static void icr_store(uint64_t gpa, unsigned n, uint32_t value, unsigned from, uint32_t ap1)
{
	uint8_t insn[10] = {0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe};
	memcpy(&insn[6], &value, 4);
	setup_code(gpa, insn, n, true);
	cpu[1].start.state = ap1;
	apic_access_write(&cpu[from], &regs, 0xfee00300, &l1mem);
}

/* mov %edx,(%eax) at gpa (16-bit code if !d: mov %dx,(%bx,%si)) to the EOI register. */
static void eoi_store(uint64_t gpa, bool d)
{
	setup_code(gpa, MOV_EDX_EAX, 2, d);
	regs.gpr[GPR_RAX] = 0xfee000b0;
	apic_access_write(&cpu[1], &regs, 0xfee000b0, &l1mem);
}

TEST(apic_access_eoi_store)
{
	eoi_store(0x10100, true);
	check_done(0x10102, 1);
	CHECK_EQ(hw_calls.last_mmio_pa, 0xfee000b0);
	CHECK_EQ(hw_calls.last_mmio_width, 4);
	CHECK_EQ(hw_calls.last_mmio_value, 0x1234);
}

TEST(apic_access_sipi_taken_by_ap_start)
{
	icr_store(0x10100, 10, 0x00004687, 0, AP_WAIT_SIPI);
	check_done(0x1010a, 0);
	CHECK_EQ(cpu[1].start.sipi, AP_SIPI_VALID | 0x87);
	CHECK_EQ(cpu[2].start.sipi, 0);
}

TEST(apic_access_sipi_to_running_ap_ignored)
{
	icr_store(0x10100, 10, 0x00004687, 0, AP_RUNNING);
	check_done(0x1010a, 0);
	CHECK_EQ(cpu[1].start.sipi, 0);
	CHECK_EQ(cpu[1].start.state, AP_RUNNING);
}

/*
 * The page is the APIC only while the base L0 keeps says xAPIC mode at
 * that address: in x2APIC mode, disabled, or moved elsewhere, a store to
 * the ICR's offset is plain memory for L0, never an IPI (issue 10 item 9).
 */
TEST(apic_access_icr_store_not_xapic_here_is_no_ipi)
{
	static const uint64_t bases[] = {
		XAPIC_BASE | APIC_BASE_ENABLE | APIC_BASE_X2APIC | APIC_BASE_BSP,
		XAPIC_BASE | APIC_BASE_BSP, /* disabled */
		0xfec01000ull | APIC_BASE_ENABLE | APIC_BASE_BSP,
	};
	for (unsigned i = 0; i < 3; i++) {
		uint8_t insn[10] = {0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x87, 0x46, 0, 0};
		setup_code(0x10100, insn, 10, true);
		cpu[0].msrs.apic_base = bases[i];
		cpu[1].start.state = AP_WAIT_SIPI;
		apic_access_write(&cpu[0], &regs, 0xfee00300, &l1mem);
		check_done(0x1010a, 1);
		CHECK_EQ(cpu[1].start.sipi, 0);
		CHECK_EQ(hw_calls.last_mmio_pa, 0xfee00300);
		CHECK_EQ(hw_calls.last_mmio_value, 0x4687);
	}
}

TEST(apic_access_fixed_ipi_to_hardware)
{
	icr_store(0x10100, 10, 0x00004030, 0, AP_RUNNING);
	check_done(0x1010a, 1);
	CHECK_EQ(hw_calls.last_mmio_pa, 0xfee00300);
	CHECK_EQ(hw_calls.last_mmio_width, 4);
	CHECK_EQ(hw_calls.last_mmio_value, 0x4030);
}

/* Only a 4-byte store to ICR low sends: ICR high, byte and word stores go to the APIC. */
TEST(apic_access_other_icr_stores_to_hardware)
{
	static const struct {
		uint8_t insn[3];
		unsigned n, width;
		uint32_t gpa, value;
	} c[] = {
	    {{0x89, 0x10}, 2, 4, 0xfee00310, 0x4687},	    /* mov %edx,(%eax) to ICR high */
	    {{0x88, 0x10}, 2, 1, 0xfee00300, 0x87},	    /* mov %dl,(%eax) */
	    {{0x66, 0x89, 0x10}, 3, 2, 0xfee00300, 0x4687}, /* mov %dx,(%eax): a SIPI's bits */
	};
	for (unsigned i = 0; i < 3; i++) {
		setup_code(0x10100, c[i].insn, c[i].n, true);
		cpu[1].start.state = AP_WAIT_SIPI;
		regs.gpr[GPR_RDX] = 0x4687;
		apic_access_write(&cpu[0], &regs, c[i].gpa, &l1mem);
		check_done(0x10100 + c[i].n, 1);
		CHECK_EQ(hw_calls.last_mmio_pa, c[i].gpa);
		CHECK_EQ(hw_calls.last_mmio_width, c[i].width);
		CHECK_EQ(hw_calls.last_mmio_value, c[i].value);
		CHECK_EQ(cpu[1].start.sipi, 0);
	}
}

TEST(apic_access_16bit_code)
{
	eoi_store(0x10100, false);
	check_done(0x10102, 1);
	CHECK_EQ(hw_calls.last_mmio_width, 2);
	CHECK_EQ(hw_calls.last_mmio_value, 0x1234);
	/* movl $0x4687,(0x300) with the operand-size prefix */
	static const uint8_t insn[] = {0x66, 0xc7, 0x06, 0x00, 0x03, 0x87, 0x46, 0x00, 0x00};
	setup_code(0x10100, insn, sizeof(insn), false);
	cpu[1].start.state = AP_WAIT_SIPI;
	apic_access_write(&cpu[0], &regs, 0xfee00300, &l1mem);
	check_done(0x10109, 0);
	CHECK_EQ(cpu[1].start.sipi, AP_SIPI_VALID | 0x87);
}

TEST(apic_access_fetch_cs_base_and_page_cross)
{
	/* CS base + EIP wraps at 4 GiB: linear 0x10100. */
	setup_code(0x10100, MOV_EDX_EAX, 2, true);
	vmcs_soft_set(VMCS_GUEST_CS_BASE, 0xffff0000);
	vmcs_soft_set(VMCS_GUEST_RIP, 0x20100);
	regs.gpr[GPR_RAX] = 0xfee000b0;
	apic_access_write(&cpu[1], &regs, 0xfee000b0, &l1mem);
	check_done(0x20102, 1);
	CHECK_EQ(hw_calls.last_mmio_value, 0x1234);
	/* An instruction across a page boundary. */
	icr_store(0x10ffc, 10, 0x00004687, 0, AP_WAIT_SIPI);
	check_done(0x11006, 0);
	CHECK_EQ(cpu[1].start.sipi, AP_SIPI_VALID | 0x87);
	/* At the end of L1's memory: the bytes there are enough. */
	eoi_store(MEM_BASE + MEM_SIZE - 2, true);
	check_done(MEM_BASE + MEM_SIZE, 1);
	CHECK_EQ(hw_calls.last_mmio_value, 0x1234);
}

TEST(apic_access_undecodable_gp0)
{
	static const uint8_t ud2[] = {0x0f, 0x0b};
	setup_code(0x10100, ud2, 2, true);
	apic_access_write(&cpu[1], &regs, 0xfee00300, &l1mem);
	check_gp0(0x10100);
	CHECK(strstr(last_error, "0f 0b") != NULL);
	/* Cut off by the end of L1's memory after 4 bytes. */
	icr_store(MEM_BASE + MEM_SIZE - 4, 4, 0x00004687, 0, AP_WAIT_SIPI);
	check_gp0(MEM_BASE + MEM_SIZE - 4);
	CHECK_EQ(cpu[1].start.sipi, 0);
}

TEST(apic_access_refused_fetch_gp0)
{
	setup_code(0x10100, MOV_EDX_EAX, 2, true);
	refuse_all = true;
	apic_access_write(&cpu[1], &regs, 0xfee000b0, &l1mem);
	check_gp0(0x10100);
	CHECK(strstr(last_error, "0 bytes fetched") != NULL);
	refuse_all = false;
}

/*
 * 64-bit mode: the CS base plays no part in the linear address of the
 * instruction (SDM Vol. 3A 3.4.4), whatever the hidden base holds.  L1
 * with 4-level paging: the PML4 at MEM_BASE, a 1 GiB identity page.
 */
TEST(apic_access_64bit_ignores_cs_base)
{
	setup_code(0x12100, MOV_EDX_EAX, 2, false);
	uint64_t pml4e = (MEM_BASE + 0x1000) | 0x23, pdpte = 0xa3; /* P W A (PS) */
	memcpy(&mem_buf[0], &pml4e, 8);
	memcpy(&mem_buf[0x1000], &pdpte, 8);
	vmcs_soft_set(VMCS_GUEST_CR0, 0x80000031); /* PG NE ET PE */
	vmcs_soft_set(VMCS_GUEST_CR3, MEM_BASE);
	vmcs_soft_set(VMCS_GUEST_CR4, 0x2020); /* VMXE PAE */
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	vmcs_soft_set(VMCS_GUEST_CS_AR_BYTES, 0xa09b); /* L */
	vmcs_soft_set(VMCS_GUEST_CS_BASE, 0x5000);
	regs.gpr[GPR_RAX] = 0xfee000b0;
	apic_access_write(&cpu[1], &regs, 0xfee000b0, &l1mem);
	check_done(0x12102, 1);
	CHECK_EQ(hw_calls.last_mmio_pa, 0xfee000b0);
	CHECK_EQ(hw_calls.last_mmio_value, 0x1234);
}

/* An L1 looping on an undecodable APIC store: the first 16 logged, then every 1024th. */
TEST(apic_access_undecodable_log_rate_limited)
{
	static const uint8_t ud2[] = {0x0f, 0x0b};
	setup_code(0x10100, ud2, 2, true);
	for (unsigned i = 0; i < 2048; i++)
		apic_access_write(&cpu[1], &regs, 0xfee00300, &l1mem);
	CHECK_EQ(cpu[1].apic_store_refusals, 2048);
	CHECK_EQ(errors, 16 + 2);
	CHECK(strstr(last_error, "(refusal 2048)") != NULL);
	CHECK_EQ(hw_calls.mmio_writes, 0);
}
