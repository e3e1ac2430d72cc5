// SPDX-License-Identifier: MIT
#include "clock.h"

#include <stdbool.h>

#include "arch/arch.h"
#include "panic.h"

static uint64_t boot_cycles;
static uint64_t ns_per_cycle_q32;	/* ns per cycle, 32.32 fixed point */
static volatile uint64_t ticks;
static uint64_t stopped_total_ns;	/* every finished stop, summed */
static uint64_t stop_began_ns;		/* the current stop's start ... */
static bool world_stopped;		/* ... if there is one */
static uint64_t ticks_started_ns;

void clock_init(uint64_t cycles_now, uint64_t cycles_per_sec)
{
	boot_cycles = cycles_now;
	if (cycles_per_sec)
		ns_per_cycle_q32 = (1000000000ULL << 32) / cycles_per_sec;
}

/* 128-bit product: a 3 GHz counter overflows 64 bits after 6 s otherwise. */
uint64_t clock_cycles_to_ns(uint64_t cycles)
{
	return (uint64_t)(((unsigned __int128)cycles * ns_per_cycle_q32) >> 32);
}

uint64_t clock_ns(void)
{
	if (!ns_per_cycle_q32)
		return 0;
	return clock_cycles_to_ns(arch_cycles() - boot_cycles);
}

/* While stopped, run time stands still: kdb commands see the stop's start. */
uint64_t clock_run_ns(void)
{
	return (world_stopped ? stop_began_ns : clock_ns()) - stopped_total_ns;
}

/* => not already stopped (kdb does not nest its stops). */
void clock_world_stopped(void)
{
	KASSERT(!world_stopped);
	stop_began_ns = clock_ns();
	world_stopped = true;
}

void clock_world_resumed(void)
{
	KASSERT(world_stopped);
	stopped_total_ns += clock_ns() - stop_began_ns;
	world_stopped = false;
}

void clock_tick(void)
{
	ticks++;
}

uint64_t clock_ticks(void)
{
	return ticks;
}

void clock_ticks_starting(void)
{
	ticks_started_ns = clock_ns();
}

uint64_t clock_ticks_started_ns(void)
{
	return ticks_started_ns;
}
