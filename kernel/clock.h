/* SPDX-License-Identifier: MIT */
/*
 * Monotonic time.  clock_ns() is nanoseconds since boot from the calibrated
 * cycle counter; ticks count timer interrupts (CLOCK_HZ per second) and
 * drive preemption and timeouts.
 *
 * clock_run_ns() is the time the world has run: clock_ns() less every
 * span the debug console held the world stopped (kdb calls
 * clock_world_stopped() / clock_world_resumed() around each).  What
 * measures how long something has been at work, a page request's age
 * against its overtime, uses it: a human reading kdb output for a minute
 * must not make a request overdue.  Sleeps and timeouts stay on wall time.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

#define CLOCK_HZ 100

void clock_init(uint64_t cycles_now, uint64_t cycles_per_sec);
uint64_t clock_ns(void);
uint64_t clock_run_ns(void);
void clock_world_stopped(void);
void clock_world_resumed(void);
uint64_t clock_cycles_to_ns(uint64_t cycles);
void clock_tick(void);
uint64_t clock_ticks(void);
/* The arch code starts the tick source that clock_tick() counts: the
 * clock's time then (for the self-test: no tick is ever early). */
void clock_ticks_starting(void);
uint64_t clock_ticks_started_ns(void);

#endif
