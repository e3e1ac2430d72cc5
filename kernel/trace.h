/* SPDX-License-Identifier: MIT */
/*
 * Trace events: named points of the fault path and the grant table that
 * observers subscribe to, so the code that reaches them depends on no
 * observer (OpenBSD's TRACEPOINT, Linux's tracepoints).  Two observers
 * subscribe at boot: the fault-path statistics (mm/fault_stats.c:
 * counters, per-phase samples) and the debug console (kdb: `break grant`,
 * `step`).  With none, as in the host tests of grant.c, an event costs a
 * loop over an empty table.
 *
 * A grant's life, as the events tell it (grant.h has the model):
 *
 *   lent ──> [forwarded ...] ──> filled ──> taken back ──> mapped
 *                        (its request answered)  (ended,    (at the fault)
 *                                                 with its outcome)
 *
 * A page request's: sent, then ended (its result, the pages it moved),
 * and for a page-in the faulting thread's `resumed`.  Events are emitted
 * with the kernel lock held; an observer may stop the world (kdb) but not
 * sleep.
 */
#ifndef TRACE_H
#define TRACE_H

#include <ferry/abi.h>
#include <stdbool.h>
#include <stdint.h>

#define FERRY_TRACE_EVENTS(X)                                                   \
	X(TRACE_GRANT_LENT, "lent")		/* grant, mode, npages */              \
	X(TRACE_GRANT_FORWARDED, "forwarded")	/* grant, mode */                      \
	X(TRACE_GRANT_FILLED, "filled")		/* grant: its request was answered */  \
	X(TRACE_GRANT_TAKEN_BACK, "taken back")	/* grant, mode, outcome: ended, no    \
						   mapping left on any CPU */          \
	X(TRACE_GRANT_MAPPED, "mapped")		/* grant: frames at the fault */        \
	X(TRACE_REQUEST_SENT, "sent")		/* request, mode, page_in, npages */  \
	X(TRACE_REQUEST_ENDED, "request ended")	/* mode, page_in, result, pages, phases */ \
	X(TRACE_BYTES_COPIED, "copied")		/* mode, bytes: copy mode's copies */  \
	X(TRACE_FAULT_RESUMED, "resumed")	/* request, mode, cycles from the fault */ \
	X(TRACE_FRAMES_UNZEROED, "unzeroed")	/* request, mode, npages: lent for DMA \
						   without zeroing (zero-touch) */

enum trace_kind {
#define FERRY_TRACE_ENUM(name, text) name,
	FERRY_TRACE_EVENTS(FERRY_TRACE_ENUM)
#undef FERRY_TRACE_ENUM
	TRACE_NKINDS
};

struct trace_event {
	enum trace_kind kind;
	enum fill_mode mode;
	uint64_t grant;			/* grant events */
	uint64_t request;		/* request events */
	bool page_in;			/* request events: else a page-out */
	int npages;			/* lent, sent: asked; request ended: moved */
	long result;			/* request ended: 0 or why it failed */
	int outcome;			/* taken back: enum grant_outcome */
	uint64_t bytes;			/* copied */
	uint64_t cycles;		/* resumed */
	const uint64_t *phases;		/* request ended, a page-in: NPHASES cycles */
};

typedef void (*trace_fn)(const struct trace_event *ev);

#define TRACE_OBSERVERS_MAX	4

/* => 0, or -1 when TRACE_OBSERVERS_MAX observers already are. */
int trace_subscribe(trace_fn fn);
void trace_emit(const struct trace_event *ev);
const char *trace_kind_name(enum trace_kind kind);

#endif
