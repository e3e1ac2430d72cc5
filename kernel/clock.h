/* SPDX-License-Identifier: MIT */
/*
 * Monotonic time.  clock_ns() is nanoseconds since boot from the calibrated
 * cycle counter; ticks count timer interrupts (CLOCK_HZ per second) and
 * drive preemption and timeouts.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

#define CLOCK_HZ 100

void clock_init(uint64_t cycles_now, uint64_t cycles_per_sec);
uint64_t clock_ns(void);
uint64_t clock_cycles_to_ns(uint64_t cycles);
void clock_tick(void);
uint64_t clock_ticks(void);

#endif
