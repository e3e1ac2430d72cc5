// SPDX-License-Identifier: MIT
#include "fault_stats.h"

#include <string.h>

static struct fault_stats stats[FILL_NMODES];
static struct fault_sample samples[FILL_NMODES][FAULT_SAMPLES];
static uint64_t sample_count[FILL_NMODES];

static const char *const mode_names[] = {
#define FERRY_FILL_NAME(name, text) [name] = text,
	FERRY_FILL_MODES(FERRY_FILL_NAME)
#undef FERRY_FILL_NAME
};

static const char *const phase_names[] = {
#define FERRY_PHASE_NAME(name, text) [name] = text,
	FERRY_FAULT_PHASES(FERRY_PHASE_NAME)
#undef FERRY_PHASE_NAME
};

const char *fill_mode_name(enum fill_mode mode)
{
	return mode < FILL_NMODES ? mode_names[mode] : "?";
}

const char *fault_phase_name(enum fault_phase phase)
{
	return phase < NPHASES ? phase_names[phase] : "?";
}

struct fault_stats *fault_stats_for(enum fill_mode mode)
{
	return &stats[mode < FILL_NMODES ? mode : FILL_COPY];
}

struct fault_sample *fault_sample_next(enum fill_mode mode)
{
	struct fault_sample *s = &samples[mode][sample_count[mode]++ % FAULT_SAMPLES];

	memset(s, 0, sizeof(*s));
	return s;
}

int fault_samples(enum fill_mode mode, struct fault_sample *out, int max)
{
	uint64_t n = sample_count[mode] < FAULT_SAMPLES ? sample_count[mode] : FAULT_SAMPLES;
	int k = 0;

	for (uint64_t i = 0; i < n && k < max; i++)
		out[k++] = samples[mode][(sample_count[mode] - 1 - i) % FAULT_SAMPLES];
	return k;
}
