// SPDX-License-Identifier: MIT
#include "trace.h"

static trace_fn observers[TRACE_OBSERVERS_MAX];
static int nobservers;

static const char *const kind_names[] = {
#define FERRY_TRACE_NAME(name, text) [name] = text,
	FERRY_TRACE_EVENTS(FERRY_TRACE_NAME)
#undef FERRY_TRACE_NAME
};

int trace_subscribe(trace_fn fn)
{
	if (nobservers == TRACE_OBSERVERS_MAX)
		return -1;
	observers[nobservers++] = fn;
	return 0;
}

void trace_emit(const struct trace_event *ev)
{
	for (int i = 0; i < nobservers; i++)
		observers[i](ev);
}

const char *trace_kind_name(enum trace_kind kind)
{
	return kind < TRACE_NKINDS ? kind_names[kind] : "?";
}
