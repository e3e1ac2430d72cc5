/* SPDX-License-Identifier: MIT */
/*
 * Locks.  Ferry's kernel runs under one kernel lock (a big kernel lock):
 *
 *   - A CPU holds it whenever it runs kernel code on behalf of a thread or
 *     an interrupt: taken at every entry from user mode (system call,
 *     exception, device interrupt, reschedule IPI) and by an interrupt
 *     that wakes the idle loop; released on the way back to user mode and
 *     by the idle loop around hlt.  So kernel code still runs with
 *     interrupts off and is never preempted, and "the lock is: one CPU"
 *     still holds, with "one CPU at a time" for "one CPU".
 *   - It belongs to the CPU, not to a thread: schedule() switches threads
 *     with it held, and the next thread (on this CPU) goes on holding it.
 *     A thread may resume on another CPU than the one it blocked on; it
 *     holds the lock there, since that CPU switched to it under the lock.
 *   - Never taken: by the TLB shootdown and stop IPIs (smp.h, mm/tlb.h),
 *     which touch only their request and their own CPU.  This is what
 *     lets a lock holder wait for acknowledgements: a CPU spinning here
 *     with interrupts off answers them from its spin loop (smp_poll()),
 *     and a CPU in user mode or in hlt answers the IPI.
 *   - Nothing sleeps holding anything but the kernel lock (schedule()
 *     hands it on); the spin locks below it are leaves: the console's.
 *
 * The kernel lock is a ticket lock: CPUs get it in the order they asked,
 * so a CPU making system calls in a loop cannot starve another.
 */
#ifndef LOCK_H
#define LOCK_H

#include <stdbool.h>
#include <stdint.h>

struct spinlock {
	uint32_t next;		/* the next ticket to hand out */
	uint32_t serving;	/* the ticket that holds the lock */
	int owner;		/* CPU id, -1 when free */
	uint32_t depth;		/* recursive holds (the console only) */
};

#define SPINLOCK_INIT { 0, 0, -1, 0 }

/* => interrupts off.  Spins answering other CPUs' requests (smp_poll). */
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
/* Taken again by its holder is fine (depth counted): for the console,
 * which a panic report may reach from inside a line being printed. */
void spin_lock_recursive(struct spinlock *l);
bool spin_held(const struct spinlock *l);	/* by this CPU */

void kernel_lock(void);
void kernel_unlock(void);
bool kernel_lock_held(void);	/* by this CPU */
/* Contention: tickets that had to wait, and cycles spent waiting, all CPUs. */
void kernel_lock_stats(uint64_t *waits, uint64_t *wait_cycles);

#endif
