// SPDX-License-Identifier: MIT
#include "clock.h"

#include "arch/arch.h"

static uint64_t boot_cycles;
static uint64_t ns_per_cycle_q32;	/* ns per cycle, 32.32 fixed point */
static volatile uint64_t ticks;

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

void clock_tick(void)
{
	ticks++;
}

uint64_t clock_ticks(void)
{
	return ticks;
}
