/* SPDX-License-Identifier: MIT */
/*
 * Fault-path statistics, per fill mode: counters (struct fault_stats,
 * <ferry/abi.h>) and the per-phase cycle counts of the last FAULT_SAMPLES
 * page-ins, from which the debug console and the benchmark compute
 * medians, percentiles and histograms.  Every claim about the fault path
 * can be checked here, live.  The numbers come from the fault path's trace
 * events (trace.h), to which fault_stats_init() subscribes; only the TLB
 * shootdown counters are written by mm/tlb.c itself.
 */
#ifndef FAULT_STATS_H
#define FAULT_STATS_H

#include <ferry/abi.h>
#include <stdint.h>

#define FAULT_SAMPLES	256

struct fault_sample {
	uint64_t phase[NPHASES];	/* cycles from the fault to each phase */
	uint32_t npages;
};

void fault_stats_init(void);
struct fault_stats *fault_stats_for(enum fill_mode mode);
/* Copies the last samples of `mode` (most recent first); => how many. */
int fault_samples(enum fill_mode mode, struct fault_sample *out, int max);
const char *fill_mode_name(enum fill_mode mode);
const char *fault_phase_name(enum fault_phase phase);

#endif
