// SPDX-License-Identifier: MIT
#include "lock.h"

#include "arch/arch.h"
#include "cpu.h"
#include "panic.h"
#include "smp.h"

static struct spinlock the_kernel_lock = SPINLOCK_INIT;
static uint64_t waits, wait_cycles;	/* written under the lock */

static int me(void)
{
	return (int)this_cpu()->id;
}

struct turn {
	const struct spinlock *lock;
	uint32_t ticket;
};

static bool my_turn(const void *ctx)
{
	const struct turn *t = ctx;

	return __atomic_load_n(&t->lock->serving, __ATOMIC_ACQUIRE) == t->ticket;
}

/* => whether it had to wait; the cycles it waited in *waited. */
static bool take(struct spinlock *l, uint64_t *waited)
{
	struct turn t = { l, __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED) };
	uint64_t t0;
	bool waiting = !my_turn(&t);

	if (waiting) {
		t0 = arch_cycles();
		smp_wait_until(my_turn, &t);
		*waited = arch_cycles() - t0;
	} else {
		*waited = 0;
	}
	l->owner = me();
	l->depth = 1;
	return waiting;
}

void spin_lock(struct spinlock *l)
{
	uint64_t waited;

	KASSERT(!arch_irqs_enabled());
	KASSERT(l->owner != me());
	take(l, &waited);
}

void spin_unlock(struct spinlock *l)
{
	KASSERT(l->owner == me() && l->depth > 0);
	if (--l->depth)
		return;
	l->owner = -1;
	__atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&l->next, __ATOMIC_SEQ_CST) != l->serving)
		smp_wake_all();	/* someone holds a later ticket: it may be halted */
}

void spin_lock_recursive(struct spinlock *l)
{
	uint64_t waited;

	if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == me()) {
		l->depth++;
		return;
	}
	take(l, &waited);
}

bool spin_held(const struct spinlock *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == me();
}

void kernel_lock(void)
{
	uint64_t waited;

	KASSERT(!arch_irqs_enabled());
	KASSERT(the_kernel_lock.owner != me());
	if (take(&the_kernel_lock, &waited)) {
		waits++;
		wait_cycles += waited;
	}
}

void kernel_unlock(void)
{
	spin_unlock(&the_kernel_lock);
}

bool kernel_lock_held(void)
{
	return spin_held(&the_kernel_lock);
}

void kernel_lock_stats(uint64_t *w, uint64_t *c)
{
	*w = waits;
	*c = wait_cycles;
}
