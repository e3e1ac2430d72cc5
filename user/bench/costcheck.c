// SPDX-License-Identifier: MIT
/*
 * bench costcheck: the cost-model plugin's DMA announcement in isolation
 * (tools/costmodel/, cost_dma_written() in <ferry/costmark.h>).  A page
 * the CPU has just written is read back, one load per cache line, in two
 * marked regions: as it is (tag COSTCHECK_CACHED: every line is in the
 * simulated caches, no miss), then after announcing it as written by a
 * device (tag COSTCHECK_DEVICE: every line must miss L1 and L2, as after
 * a real DMA).  tests/cases/cost.py reads the plugin's counters.  Without
 * the plugin the markers are NOPs and it only prints its line.
 */
#include <ferry/costmark.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define COSTCHECK_CACHED	60	/* tags: clear of faults.c's cost_tag() */
#define COSTCHECK_DEVICE	61
#define LINE			64
#define PAGE			4096

static uint8_t page[PAGE] __attribute__((aligned(PAGE)));

static uint64_t read_lines(unsigned tag)
{
	const volatile uint8_t *p = page;
	uint64_t sum = 0;

	cost_select(tag);
	cost_begin();
	for (int i = 0; i < PAGE; i += LINE)
		sum += p[i];
	cost_end();
	return sum;
}

int bench_costcheck(void)
{
	uint64_t sum;

	memset(page, 1, sizeof(page));
	sum = read_lines(COSTCHECK_CACHED);
	cost_dma_written(page);
	sum += read_lines(COSTCHECK_DEVICE);
	cost_dump();
	printf("bench costcheck: done, %d lines read twice (sum %llu)\n", PAGE / LINE,
	       (unsigned long long)sum);
	return sum == 2 * PAGE / LINE ? 0 : 1;
}
