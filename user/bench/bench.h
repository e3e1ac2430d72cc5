/* SPDX-License-Identifier: MIT */
/* Shared by bench's parts: timing and sorting. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

void sort_u64(uint64_t *a, size_t n);
/* bench faults [ROUNDS] [PAGES]: the fault-path benchmark (faults.c). */
int bench_faults(int argc, char **argv);
/* bench costcheck: the cost model's DMA announcement, checked (costcheck.c). */
int bench_costcheck(void);

#endif
