/*
 * spinlock.h - the spinlock for L0's shared state (the page allocator,
 * the serial log, the INIT/SIPI handshake).  Exit handlers run with
 * interrupts off, so no IRQ-safe variant is needed; never take one in an
 * NMI handler.
 */
#ifndef MICROHV_ARCH_SPINLOCK_H
#define MICROHV_ARCH_SPINLOCK_H

#include "cpu.h"

#include <stdint.h>

/*
 * A ticket lock: CPUs get the lock in the order they asked for it, so a
 * CPU that takes and drops it in a loop cannot starve another one (a
 * test-and-set lock did, in lockstep under Bochs: vmx/ap_start.c).
 */
struct spinlock {
	volatile uint32_t next;	 /* the next ticket to hand out */
	volatile uint32_t owner; /* the ticket now served */
};

static inline void spin_lock(struct spinlock *l)
{
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
		cpu_pause();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

#endif
