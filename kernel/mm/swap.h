/* SPDX-License-Identifier: MIT */
/*
 * Swap providers (the seed's design): a process registers as a provider
 * with its size in 4 KiB slots; the kernel keeps the list and allocates
 * the slots.  A swapped-out page's provider index and slot live in its
 * non-present PTE (pte.h).  Provider indices are never reused, so a PTE
 * naming a dead provider can never alias a new one: its page is lost, and
 * a fault on it kills the faulting thread with that reason.
 */
#ifndef SWAP_H
#define SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "pte.h"
#include "swapmap.h"

#define SWAP_OUTSTANDING_MAX	4	/* page-out requests in flight per provider */

struct proc;

struct swap_provider {
	bool live;
	struct proc *proc;
	uint64_t port;
	struct swapmap map;
	int outstanding;		/* page-out requests in flight */
	uint32_t modes;			/* FILL_MODE_BIT()s it can serve */
	uint64_t pages_in, pages_out;
};

void swap_init(void);
/* => provider index, or ERR_PERM / ERR_BADHANDLE / ERR_INVAL / ERR_NOMEM / ERR_BUSY. */
long swap_register(struct proc *p, uint64_t port, uint64_t nslots, uint32_t modes);
/* The mode a request to this provider uses: the current one if it can
 * serve it, else grant-map, else copy (a RAM store cannot take DMA). */
enum fill_mode swap_fill_mode(unsigned index, enum fill_mode wanted);
struct swap_provider *swap_provider(unsigned index);	/* live ones only */
/* A live provider with n contiguous free slots and room for a page-out. */
int swap_choose(unsigned n, unsigned *index, uint64_t *first_slot);
void swap_free_slot(unsigned index, uint64_t slot);
void swap_mark_bad(unsigned index, uint64_t slot);
void swap_release_proc(struct proc *p);
bool swap_any_live(void);
bool swap_port_is_provider(uint64_t port);
int swap_provider_count(void);
uint64_t swap_slots_used(void);

#endif
