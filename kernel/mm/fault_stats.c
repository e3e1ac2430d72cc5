// SPDX-License-Identifier: MIT
#include "fault_stats.h"

#include <string.h>

#include "../grant/grant.h"
#include "../panic.h"
#include "../trace.h"

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

/* Which sample each recent page-in request went to, for its `resumed`. */
#define RECENT	64

static struct {
	uint64_t request;
	struct fault_sample *sample;
} recent[RECENT];

static void sample_page_in(const struct trace_event *ev)
{
	struct fault_sample *s = &samples[ev->mode][sample_count[ev->mode]++ % FAULT_SAMPLES];
	struct fault_stats *st = &stats[ev->mode];

	*s = (struct fault_sample){ .npages = (uint32_t)ev->npages };
	for (int ph = 0; ph < PHASE_RESUMED; ph++) {
		s->phase[ph] = ev->phases[ph];
		st->phase_cycles[ph] += ev->phases[ph];
	}
	recent[ev->request % RECENT].request = ev->request;
	recent[ev->request % RECENT].sample = s;
}

static void count_ended(const struct trace_event *ev)
{
	struct fault_stats *st = &stats[ev->mode];

	if (ev->result)
		st->failures++;	/* a page-out's pages a media error spared still count */
	if (ev->page_in)
		st->pages_in += (uint64_t)ev->npages;
	else
		st->pages_out += (uint64_t)ev->npages;
	if (ev->phases)
		sample_page_in(ev);
}

static void count_grant_end(struct fault_stats *st, int outcome)
{
	if (outcome == GRANT_COMPLETED)
		st->grants_completed++;
	else if (outcome == GRANT_FAILED)
		st->grants_failed++;
	else if (outcome == GRANT_REVOKED)
		st->grants_revoked++;
	else
		st->grants_overtime++;
}

static void observe(const struct trace_event *ev)
{
	struct fault_stats *st;

	if (ev->mode >= FILL_NMODES)
		return;
	st = &stats[ev->mode];
	switch (ev->kind) {
	case TRACE_GRANT_LENT:
		st->grants_created++;
		break;
	case TRACE_GRANT_FORWARDED:
		st->grants_forwarded++;
		break;
	case TRACE_GRANT_TAKEN_BACK:
		count_grant_end(st, ev->outcome);
		break;
	case TRACE_REQUEST_SENT:
		st->faults += ev->page_in;
		break;
	case TRACE_REQUEST_ENDED:
		count_ended(ev);
		break;
	case TRACE_BYTES_COPIED:
		st->bytes_copied += ev->bytes;
		break;
	case TRACE_FRAMES_UNZEROED:
		st->zero_touch += (uint64_t)ev->npages;
		break;
	case TRACE_FAULT_RESUMED:
		st->phase_cycles[PHASE_RESUMED] += ev->cycles;
		if (recent[ev->request % RECENT].request == ev->request)
			recent[ev->request % RECENT].sample->phase[PHASE_RESUMED] = ev->cycles;
		break;
	default:
		break;
	}
}

void fault_stats_init(void)
{
	if (trace_subscribe(observe))
		panic("fault_stats_init: no room for another trace observer");
}

int fault_samples(enum fill_mode mode, struct fault_sample *out, int max)
{
	uint64_t n = sample_count[mode] < FAULT_SAMPLES ? sample_count[mode] : FAULT_SAMPLES;
	int k = 0;

	for (uint64_t i = 0; i < n && k < max; i++)
		out[k++] = samples[mode][(sample_count[mode] - 1 - i) % FAULT_SAMPLES];
	return k;
}
