// SPDX-License-Identifier: MIT
#include "swap.h"

#include <ferry/abi.h>
#include <ferry/err.h>

#include "../config.h"
#include "../ipc/port.h"
#include "../log.h"
#include "../proc/proc.h"
#include "heap.h"

static struct swap_provider providers[SWAP_PROVIDERS_MAX];
static unsigned nproviders;	/* indices handed out so far, never reused */

void swap_init(void)
{
	nproviders = 0;
}

enum fill_mode swap_fill_mode(unsigned index, enum fill_mode wanted)
{
	struct swap_provider *sp = swap_provider(index);

	return sp ? fill_mode_served(sp->modes, wanted) : wanted;
}

long swap_register(struct proc *p, uint64_t port, uint64_t nslots, uint32_t modes)
{
	struct swap_provider *sp;
	uint64_t *bits;

	if (!proc_has_right(p, RIGHT_SWAP))
		return ERR_PERM;
	if (!port_owned_by(port, p))
		return ERR_BADHANDLE;
	if (nslots == 0 || nslots > SWAP_SLOT_MAX || nslots > (1ULL << 32))
		return ERR_INVAL;
	if (!(modes & FILL_MODE_BIT(FILL_COPY)) || (modes & ~FILL_ALL_MODES))
		return ERR_INVAL;	/* copy is the mode every provider must serve */
	if (nproviders == SWAP_PROVIDERS_MAX)
		return ERR_BUSY;
	bits = kmalloc(swapmap_words(nslots) * sizeof(uint64_t));
	if (!bits)
		return ERR_NOMEM;
	sp = &providers[nproviders];
	*sp = (struct swap_provider){ .live = true, .proc = p, .port = port, .modes = modes };
	swapmap_init(&sp->map, bits, nslots);
	log_info("swap: provider %u is %s (pid %lu), %lu slots (%lu MiB)", nproviders, p->name,
		 (unsigned long)p->pid, (unsigned long)nslots, (unsigned long)(nslots >> 8));
	return nproviders++;
}

struct swap_provider *swap_provider(unsigned index)
{
	return index < nproviders && providers[index].live ? &providers[index] : NULL;
}

int swap_choose(unsigned n, unsigned *index, uint64_t *first)
{
	for (unsigned i = 0; i < nproviders; i++) {
		struct swap_provider *sp = &providers[i];

		if (!sp->live || sp->outstanding >= SWAP_OUTSTANDING_MAX)
			continue;
		if (swapmap_alloc(&sp->map, n, first) == 0) {
			*index = i;
			return 0;
		}
	}
	return -1;
}

void swap_free_slot(unsigned index, uint64_t slot)
{
	struct swap_provider *sp = swap_provider(index);

	if (sp)
		swapmap_free(&sp->map, slot);
}

void swap_mark_bad(unsigned index, uint64_t slot)
{
	struct swap_provider *sp = swap_provider(index);

	if (sp && swapmap_mark_bad(&sp->map, slot) == 0)
		log_warn("swap: provider %u slot %lu marked bad", index, (unsigned long)slot);
}

void swap_release_proc(struct proc *p)
{
	for (unsigned i = 0; i < nproviders; i++) {
		struct swap_provider *sp = &providers[i];

		if (!sp->live || sp->proc != p)
			continue;
		if (sp->map.used - sp->map.bad)
			log_err("swap: provider %u (%s) died holding %lu pages: they are lost", i,
				p->name, (unsigned long)(sp->map.used - sp->map.bad));
		sp->live = false;
		kfree(sp->map.bits);
		sp->map.bits = NULL;
	}
}

bool swap_port_is_provider(uint64_t port)
{
	for (unsigned i = 0; i < nproviders; i++)
		if (providers[i].live && providers[i].port == port)
			return true;
	return false;
}

bool swap_any_live(void)
{
	return swap_provider_count() > 0;
}

int swap_provider_count(void)
{
	int n = 0;

	for (unsigned i = 0; i < nproviders; i++)
		n += providers[i].live;
	return n;
}

uint64_t swap_slots_used(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nproviders; i++)
		if (providers[i].live)
			n += providers[i].map.used - providers[i].map.bad;
	return n;
}
