/* SPDX-License-Identifier: MIT */
/*
 * Swap providers (the seed's design): a process registers as a provider
 * with its size in 4 KiB slots; the kernel keeps the list and allocates
 * the slots.  A swapped-out page's provider index and slot live in its
 * non-present PTE (pte.h).
 *
 * A provider's states:
 *
 *   (unused) ──register──> LIVE ──its process dies──> ORPHANED
 *                           ^                            │      │
 *                           └── register, same area ─────┘      │ SWAP_ORPHAN_NS
 *                                                               v
 *                                                        GONE (pages lost)
 *
 * A provider that names its swap area (the mkswap header's UUID) keeps its
 * index, slot map and every SWAPPED PTE naming it when its process dies:
 * the area still holds the pages.  A restarted provider that registers the
 * same area (same UUID, same size) takes the index over, and the faults
 * that waited for it (swap_wait_live) go on.  One that does not come back
 * within SWAP_ORPHAN_NS is GONE: its pages are lost, and a fault on one
 * ends the faulting thread with that reason.  A provider without an area
 * (swapd's RAM store: its pages die with it) is GONE at once.  Indices are
 * never reused by another area, so a PTE never aliases a different one.
 * A second provider for an area that has a LIVE one is refused (ERR_EXIST)
 * and burns no index.
 */
#ifndef SWAP_H
#define SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "../proc/thread.h"
#include "pte.h"
#include "swapmap.h"

#define SWAP_OUTSTANDING_MAX	4	/* page-out requests in flight per provider */
#define SWAP_AREA_ID_SIZE	16	/* the mkswap header's UUID */
#define SWAP_ORPHAN_NS		(20ULL * 1000000000)	/* how long a dead provider's area waits */

struct proc;

enum swap_state { SWAP_UNUSED, SWAP_LIVE, SWAP_ORPHANED, SWAP_GONE };

struct swap_provider {
	enum swap_state state;
	struct proc *proc;		/* LIVE only */
	uint64_t port;
	struct swapmap map;		/* LIVE and ORPHANED */
	int outstanding;		/* page-out requests in flight */
	uint32_t modes;			/* FILL_MODE_BIT()s it can serve */
	bool has_area;
	uint8_t area[SWAP_AREA_ID_SIZE];
	char where[SWAP_WHERE_MAX];	/* the provider's words: "file /swapfile" */
	uint64_t orphaned_ns;		/* when its process died */
	struct wait_queue comeback;	/* faults waiting for a restarted provider */
	uint64_t pages_in, pages_out;
	uint32_t restarts;		/* times another process took it over */
	uint64_t pid_last;		/* the last process that served it */
	char name_last[16];
};

void swap_init(void);
/*
 * Registers p as the provider of nslots slots behind its port.  area, if
 * not NULL, says what it serves; a non-zero UUID names the swap area: an
 * ORPHANED provider of the same area and size is taken over.
 * => provider index, or ERR_PERM / ERR_BADHANDLE / ERR_INVAL / ERR_NOMEM /
 *    ERR_BUSY (no index left) / ERR_EXIST (the area has a live provider).
 */
long swap_register(struct proc *p, uint64_t port, uint64_t nslots, uint32_t modes,
		   const struct swap_area *area);
/* The mode a request to this provider uses: the current one if it can
 * serve it, else grant-map, else copy (a RAM store cannot take DMA). */
enum fill_mode swap_fill_mode(unsigned index, enum fill_mode wanted);
struct swap_provider *swap_provider(unsigned index);	/* LIVE ones only */
/* LIVE or ORPHANED: its pages still exist. */
bool swap_pages_kept(unsigned index);
/* Is there a LIVE or ORPHANED provider of this area (SWAP_AREA_ID_SIZE bytes)? */
bool swap_area_kept(const uint8_t *area);
/* Is this area's provider ORPHANED: its pages wait for a successor? */
bool swap_area_orphaned(const uint8_t *area);
/*
 * Blocks the current thread until provider `index` is LIVE again.
 * => 0 when it is; ERR_DEAD when it is GONE (or never was), ERR_TIMEOUT
 *    is never returned: an ORPHANED provider turns GONE in bounded time.
 */
long swap_wait_live(unsigned index);
/* A live provider with n contiguous free slots and room for a page-out. */
int swap_choose(unsigned n, unsigned *index, uint64_t *first_slot);
void swap_free_slot(unsigned index, uint64_t slot);
void swap_mark_bad(unsigned index, uint64_t slot);
void swap_release_proc(struct proc *p);
/* Ends the providers that stayed ORPHANED too long (the page-out daemon's tick). */
void swap_expire_orphans(void);
bool swap_any_live(void);
bool swap_port_is_provider(uint64_t port);
int swap_provider_count(void);
uint64_t swap_slots_used(void);
/* Any provider in any state but UNUSED, for the console: NULL past the end. */
const struct swap_provider *swap_provider_view(unsigned index);
const char *swap_state_name(enum swap_state s);

#endif
