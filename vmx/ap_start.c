/*
 * ap_start.c - INIT and SIPI emulated by L0 (see ap_start.h).
 *
 * Sender and target meet in the target's struct ap_start under its lock:
 *
 *   sender (ICR write exit)            target (end of any exit)
 *   INIT:  state = INIT_PENDING,
 *          kick_armed, NMI kick  --->  NMI exit (or NMI in root): a kick
 *          wait: state moves on  <---  state = WAIT_SIPI, INIT state loaded
 *   SIPI:  sipi = vector         --->  spins in root until sipi: real mode
 *                                      at vector << 12, state = RUNNING
 *
 * The sender waits for the INIT to be taken (re-kicking now and then: a
 * kick that lands in VMX root after the target's last look is not lost
 * for good), so its SIPI can never reach a target that has not left L1.
 * While kick_armed, every NMI of the target is taken as a kick: a real NMI
 * in that window is dropped, as it would be by a CPU in wait-for-SIPI.
 */
#include "ap_start.h"

#include "drivers/serial/log.h"
#include "exit.h"
#include "hw_ops.h"
#include "l0.h"
#include "vmcs.h"
#include "vmx_arch.h"

#define KICK_RETRY_SPINS (1u << 16)
#define KICK_GIVE_UP_SPINS (1u << 24)
#define STALL_REPORT_SPINS (1u << 22)

static struct ipi_plan pass(const char *why)
{
	return (struct ipi_plan){ IPI_PASS, 0, why };
}

/* SDM Vol. 3A 11.6.2.1 / 11.12.9: destination all-ones is a broadcast. */
static bool is_broadcast(const struct ipi *ipi)
{
	return ipi->dest == (ipi->x2apic ? 0xffffffffu : 0xffu);
}

struct ipi_plan ipi_plan(const struct ipi *ipi, unsigned self, const uint32_t *apic_ids,
			 unsigned ncpus, unsigned cpus_in_system)
{
	uint32_t mode = ipi->low & ICR_MODE_MASK;
	if (mode != ICR_MODE_INIT && mode != ICR_MODE_STARTUP)
		return pass("not INIT or SIPI");
	unsigned shorthand = (ipi->low & ICR_SHORTHAND_MASK) >> ICR_SHORTHAND_SHIFT;
	/* SDM 11.6.2.2: logical destinations go through LDR/DFR: left to the APIC. */
	if ((ipi->low & ICR_DEST_LOGICAL) && shorthand == ICR_SHORTHAND_NONE)
		return pass("logical destination");
	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;
	uint64_t all = ncpus == 64 ? ~0ull : (1ull << ncpus) - 1;
	uint64_t targets = 0;
	bool broadcast = false;
	switch (shorthand) {
	case ICR_SHORTHAND_SELF:
		targets = 1ull << self;
		break;
	case ICR_SHORTHAND_ALL:
		targets = all;
		broadcast = true;
		break;
	case ICR_SHORTHAND_OTHERS:
		targets = all & ~(1ull << self);
		broadcast = true;
		break;
	default:
		if (is_broadcast(ipi)) {
			targets = all;
			broadcast = true;
			break;
		}
		for (unsigned i = 0; i < ncpus; i++)
			if (apic_ids[i] == ipi->dest)
				targets = 1ull << i;
		if (!targets)
			return pass("not a CPU under L0");
	}
	if (broadcast && ncpus < cpus_in_system)
		return pass("a broadcast while some CPUs run without L0");
	/*
	 * A SIPI to the BSP is L0's like any other: the BSP under L0 is never
	 * in the hardware's wait-for-SIPI (vmx_take_init restarts it), so the
	 * hardware would discard it, and L0 does too unless the BSP holds an
	 * L2 in wait-for-SIPI (nested/wait_sipi.c), whose SIPI exit it is.
	 */
	if ((targets & 1) && mode == ICR_MODE_INIT)
		return pass("the BSP (its INIT exit restarts it at the reset vector)");
	if (!targets)
		return pass("no target");
	return (struct ipi_plan){ IPI_EMULATE, targets, NULL };
}

static uint32_t load_state(struct vcpu *t)
{
	return __atomic_load_n(&t->start.state, __ATOMIC_ACQUIRE);
}

/* An NMI from v's APIC, through the base L0 keeps for v (never a fresh RDMSR). */
static void send_ipi(struct vcpu *v, struct vcpu *t, uint32_t icr_low)
{
	hw_send_ipi(v->msrs.apic_base, t->apic_id, icr_low);
}

static void kick(struct vcpu *v, struct vcpu *t)
{
	send_ipi(v, t, ICR_MODE_NMI | ICR_LEVEL_ASSERT);
}

/* SDM Vol. 3A 10.4.2 / 9.4.4: INIT puts an AP into wait-for-SIPI. */
static void send_init(struct vcpu *t)
{
	spin_lock(&t->start.lock);
	/*
	 * A SIPI before this INIT is gone, unless it is the one that ends an
	 * L2's wait-for-SIPI: that exit has happened for L1, and this INIT
	 * meets L1 in VMX root after it (blocked, SDM Vol. 3C 24.8).
	 */
	if (!t->start.l2_wait_sipi)
		t->start.sipi = 0;
	if (t->start.state == AP_RUNNING)
		t->start.state = AP_INIT_PENDING;
	t->start.kick_seen = false;
	t->start.kick_armed = true;
	spin_unlock(&t->start.lock);
}

/*
 * A SIPI counts only for a CPU in wait-for-SIPI, the first one only: L1's
 * after an INIT, or an L2's that L0 holds (SDM Vol. 3C 27.7.2: the active
 * and HLT states discard SIPIs).
 */
static void send_sipi(struct vcpu *t, uint8_t vector)
{
	spin_lock(&t->start.lock);
	if ((t->start.state != AP_RUNNING || t->start.l2_wait_sipi) && !t->start.sipi)
		t->start.sipi = AP_SIPI_VALID | vector;
	spin_unlock(&t->start.lock);
}

static bool wait_init_taken(struct vcpu *v, struct vcpu *t)
{
	for (uint32_t spins = 1; load_state(t) == AP_INIT_PENDING; spins++) {
		if (spins == STALL_REPORT_SPINS)
			log_warn("CPU %u has not taken its INIT after %u spins", t->index, spins);
		if (spins >= KICK_GIVE_UP_SPINS)
			return false;
		if (spins % KICK_RETRY_SPINS == 0)
			kick(v, t);
		cpu_pause();
	}
	return true;
}

/* The target never took the kick (NMIs blocked?): let the hardware INIT it. */
static void give_up(struct vcpu *v, struct vcpu *t, uint32_t icr_low)
{
	spin_lock(&t->start.lock);
	bool still = t->start.state == AP_INIT_PENDING;
	if (still) {
		t->start.state = AP_RUNNING;
		t->start.kick_armed = false;
	}
	spin_unlock(&t->start.lock);
	if (!still)
		return;
	log_error("CPU %u: CPU %u did not take the INIT L0 emulates for it: sending the real INIT",
		  v->index, t->index);
	send_ipi(v, t, icr_low);
}

bool ap_start_icr_write(struct vcpu *v, const struct ipi *ipi)
{
	uint32_t ids[MAX_CPUS];
	unsigned n = g_l0.ncpus;
	for (unsigned i = 0; i < n; i++)
		ids[i] = g_l0.vcpus[i]->apic_id;
	struct ipi_plan plan = ipi_plan(ipi, v->index, ids, n, g_l0.bi ? g_l0.bi->cpu_count : n);
	uint32_t mode = ipi->low & ICR_MODE_MASK;
	if (plan.kind == IPI_PASS) {
		if (mode == ICR_MODE_INIT || mode == ICR_MODE_STARTUP)
			log_debug("CPU %u: %s to APIC ID %u goes to the hardware: %s", v->index,
				  mode == ICR_MODE_INIT ? "INIT" : "SIPI", ipi->dest, plan.why);
		return false;
	}
	/*
	 * SDM 11.6.1: INIT level de-assert (level 0, trigger mode level) is not
	 * supported since the Pentium 4: no effect.
	 */
	bool deassert = mode == ICR_MODE_INIT && !(ipi->low & ICR_LEVEL_ASSERT) &&
			(ipi->low & ICR_TRIGGER_LEVEL);
	for (unsigned i = 0; i < n; i++) {
		struct vcpu *t = g_l0.vcpus[i];
		if (!(plan.targets & (1ull << i)) || deassert)
			continue;
		if (t->start.hw_wait_sipi) {
			/* Already in the real wait-for-SIPI (NMIs blocked): the hardware's turn. */
			send_ipi(v, t, ipi->low);
			continue;
		}
		if (mode == ICR_MODE_INIT) {
			log_debug("CPU %u: INIT to CPU %u: emulated by L0", v->index, t->index);
			send_init(t);
			if (t != v)
				kick(v, t);
		} else {
			log_debug("CPU %u: SIPI vector 0x%x to CPU %u: emulated by L0", v->index,
				  ipi->low & ICR_VECTOR_MASK, t->index);
			send_sipi(t, (uint8_t)(ipi->low & ICR_VECTOR_MASK));
		}
	}
	if (mode == ICR_MODE_INIT && !deassert) {
		for (unsigned i = 0; i < n; i++) {
			struct vcpu *t = g_l0.vcpus[i];
			if ((plan.targets & (1ull << i)) && t != v && !t->start.hw_wait_sipi &&
			    !wait_init_taken(v, t))
				give_up(v, t, ipi->low);
		}
	}
	return true;
}

/*
 * Lock-free: called from the NMI handler in VMX root too, which may have
 * interrupted this CPU inside its own ap_start_claim_init.  A kick that
 * arrives after its INIT was claimed is the last one of that INIT.
 */
bool ap_start_nmi_is_kick(struct vcpu *v)
{
	if (!__atomic_load_n(&v->start.kick_armed, __ATOMIC_ACQUIRE))
		return false;
	__atomic_store_n(&v->start.kick_seen, true, __ATOMIC_RELEASE);
	if (load_state(v) == AP_RUNNING)
		__atomic_store_n(&v->start.kick_armed, false, __ATOMIC_RELEASE);
	return true;
}

bool ap_start_claim_init(struct vcpu *v)
{
	if (load_state(v) != AP_INIT_PENDING)
		return false;
	spin_lock(&v->start.lock);
	bool pending = v->start.state == AP_INIT_PENDING;
	if (pending) {
		__atomic_store_n(&v->start.state, AP_RUNNING, __ATOMIC_RELEASE);
		if (!v->start.l2_wait_sipi) /* that one is kept, as in send_init */
			v->start.sipi = 0;
	}
	spin_unlock(&v->start.lock);
	/*
	 * The sender's kick NMI stays L0's: disarm now if it already came
	 * (usually it is what made this CPU exit), else the kick disarms
	 * itself when it arrives (ap_start_nmi_is_kick).
	 */
	if (pending && __atomic_load_n(&v->start.kick_seen, __ATOMIC_ACQUIRE))
		__atomic_store_n(&v->start.kick_armed, false, __ATOMIC_RELEASE);
	return pending;
}

void ap_start_poll(struct vcpu *v, struct guest_regs *r)
{
	if (load_state(v) != AP_INIT_PENDING)
		return;
	spin_lock(&v->start.lock);
	v->start.state = AP_WAIT_SIPI;
	spin_unlock(&v->start.lock);
	v->nmi_pending = false; /* blocked in wait-for-SIPI (SDM Vol. 3C 27.7.2) */
	log_debug("CPU %u: INIT: waiting for SIPI in VMX root", v->index);
	vmx_enter_init_state(r, 0, 0, 0);

	uint32_t sipi = 0;
	for (uint64_t spins = 1; !sipi; spins++) {
		/*
		 * Poll without the lock and take it only to claim a SIPI: the
		 * sender needs the lock to post it, and a poller that holds it
		 * nearly all the time starved the sender for good in Bochs.
		 */
		if (!__atomic_load_n(&v->start.sipi, __ATOMIC_ACQUIRE)) {
			if (spins == STALL_REPORT_SPINS)
				log_warn("CPU %u: INIT taken, no SIPI after %llu spins in VMX root",
					 v->index, (unsigned long long)spins);
			cpu_pause();
			continue;
		}
		spin_lock(&v->start.lock);
		sipi = v->start.sipi;
		if (sipi) {
			v->start.sipi = 0;
			v->start.state = AP_RUNNING;
			v->start.kick_armed = false;
		}
		spin_unlock(&v->start.lock);
		if (!sipi)
			cpu_pause();
	}
	uint8_t vector = (uint8_t)sipi;
	v->restarts++;
	log_info("CPU %u: INIT and SIPI from L1 (emulated by L0): starts at 0x%x in real mode "
		 "(restart %llu)",
		 v->index, vector << 12, (unsigned long long)v->restarts);
	vmx_enter_init_state(r, (uint16_t)(vector << 8), (uint64_t)vector << 12, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
}

void ap_start_l2_wait_sipi(struct vcpu *v)
{
	spin_lock(&v->start.lock);
	v->start.sipi = 0; /* one sent before this entry met an active CPU: discarded */
	v->start.l2_wait_sipi = true;
	spin_unlock(&v->start.lock);
}

uint32_t ap_start_l2_take_sipi(struct vcpu *v)
{
	/* As in ap_start_poll: look without the lock, take it only to claim. */
	if (!__atomic_load_n(&v->start.sipi, __ATOMIC_ACQUIRE))
		return 0;
	spin_lock(&v->start.lock);
	uint32_t sipi = v->start.l2_wait_sipi ? v->start.sipi : 0;
	if (sipi) {
		v->start.sipi = 0;
		v->start.l2_wait_sipi = false;
	}
	spin_unlock(&v->start.lock);
	return sipi;
}
