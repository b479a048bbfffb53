/*
 * spinlock.h - a test-and-set spinlock for L0's shared state (the page
 * allocator, the serial log).  Exit handlers run with interrupts off, so
 * no IRQ-safe variant is needed; never take one in an NMI handler.
 */
#ifndef MICROHV_ARCH_SPINLOCK_H
#define MICROHV_ARCH_SPINLOCK_H

#include "cpu.h"

struct spinlock {
	volatile int locked;
};

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_pause();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
