// SPDX-License-Identifier: MIT
#include "swap.h"

#include <ferry/abi.h>
#include <ferry/err.h>
#include <string.h>

#include "../clock.h"
#include "../config.h"
#include "../ipc/port.h"
#include "../log.h"
#include "../proc/proc.h"
#include "heap.h"

static struct swap_provider providers[SWAP_PROVIDERS_MAX];
static unsigned nproviders;	/* indices handed out so far, never given to another area */

static const char *const state_names[] = {
	[SWAP_UNUSED] = "unused", [SWAP_LIVE] = "live", [SWAP_ORPHANED] = "orphaned",
	[SWAP_GONE] = "gone",
};

void swap_init(void)
{
	nproviders = 0;
	for (unsigned i = 0; i < SWAP_PROVIDERS_MAX; i++) {
		providers[i] = (struct swap_provider){ .state = SWAP_UNUSED };
		wait_queue_init(&providers[i].comeback);
	}
}

const char *swap_state_name(enum swap_state s)
{
	return s <= SWAP_GONE ? state_names[s] : "?";
}

enum fill_mode swap_fill_mode(unsigned index, enum fill_mode wanted)
{
	struct swap_provider *sp = swap_provider(index);

	return sp ? fill_mode_served(sp->modes, wanted) : wanted;
}

/* The provider that already knows this area, in any state but GONE. */
static struct swap_provider *find_area(const uint8_t *area)
{
	for (unsigned i = 0; i < nproviders; i++) {
		struct swap_provider *sp = &providers[i];

		if (sp->has_area && (sp->state == SWAP_LIVE || sp->state == SWAP_ORPHANED) &&
		    memcmp(sp->area, area, SWAP_AREA_ID_SIZE) == 0)
			return sp;
	}
	return NULL;
}

static void become_live(struct swap_provider *sp, struct proc *p, uint64_t port, uint32_t modes)
{
	sp->state = SWAP_LIVE;
	sp->proc = p;
	sp->port = port;
	sp->modes = modes;
	sp->pid_last = p->pid;
	strlcpy(sp->name_last, p->name, sizeof(sp->name_last));
}

/* A restarted provider of an ORPHANED area: same index, same slots. */
static long take_over(struct swap_provider *sp, struct proc *p, uint64_t port, uint64_t nslots,
		      uint32_t modes)
{
	unsigned index = (unsigned)(sp - providers);

	if (sp->state == SWAP_LIVE) {
		log_warn("swap: %s (pid %lu) refused: its area is served by provider %u, %s (pid %lu)",
			 p->name, (unsigned long)p->pid, index, sp->proc->name,
			 (unsigned long)sp->proc->pid);
		return ERR_EXIST;
	}
	if (sp->map.nslots != nslots) {
		log_warn("swap: %s (pid %lu) refused: area of provider %u has %lu slots, not %lu",
			 p->name, (unsigned long)p->pid, index, (unsigned long)sp->map.nslots,
			 (unsigned long)nslots);
		return ERR_INVAL;
	}
	become_live(sp, p, port, modes);
	sp->restarts++;
	log_info("swap: provider %u taken over by %s (pid %lu) after %lu ms: %lu pages kept", index,
		 p->name, (unsigned long)p->pid,
		 (unsigned long)((clock_ns() - sp->orphaned_ns) / 1000000),
		 (unsigned long)(sp->map.used - sp->map.bad));
	wait_queue_wake_all(&sp->comeback, 0);
	return index;
}

static bool uuid_nil(const uint8_t *u)
{
	for (int i = 0; i < SWAP_AREA_ID_SIZE; i++)
		if (u[i])
			return false;
	return true;
}

long swap_register(struct proc *p, uint64_t port, uint64_t nslots, uint32_t modes,
		   const struct swap_area *sa)
{
	const uint8_t *area = sa && !uuid_nil(sa->sa_uuid) ? sa->sa_uuid : NULL;
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
	if (area && (sp = find_area(area)))
		return take_over(sp, p, port, nslots, modes);
	if (nproviders == SWAP_PROVIDERS_MAX)
		return ERR_BUSY;
	bits = kmalloc(swapmap_words(nslots) * sizeof(uint64_t));
	if (!bits)
		return ERR_NOMEM;
	sp = &providers[nproviders];
	sp->has_area = area != NULL;
	if (area)
		memcpy(sp->area, area, SWAP_AREA_ID_SIZE);
	strlcpy(sp->where, sa ? sa->sa_where : "", sizeof(sp->where));
	become_live(sp, p, port, modes);
	swapmap_init(&sp->map, bits, nslots);
	log_info("swap: provider %u is %s (pid %lu), %lu slots (%lu MiB)%s%s", nproviders, p->name,
		 (unsigned long)p->pid, (unsigned long)nslots, (unsigned long)(nslots >> 8),
		 sp->where[0] ? ", " : "", sp->where);
	return nproviders++;
}

struct swap_provider *swap_provider(unsigned index)
{
	return index < nproviders && providers[index].state == SWAP_LIVE ? &providers[index]
									 : NULL;
}

/* LIVE or ORPHANED: the one whose slot map is still kept. */
static struct swap_provider *kept(unsigned index)
{
	if (index >= nproviders)
		return NULL;
	if (providers[index].state != SWAP_LIVE && providers[index].state != SWAP_ORPHANED)
		return NULL;
	return &providers[index];
}

bool swap_pages_kept(unsigned index)
{
	return kept(index) != NULL;
}

bool swap_area_kept(const uint8_t *area)
{
	for (unsigned i = 0; i < nproviders; i++) {
		const struct swap_provider *sp = kept(i);

		if (sp && sp->has_area && memcmp(sp->area, area, SWAP_AREA_ID_SIZE) == 0)
			return true;
	}
	return false;
}

bool swap_area_orphaned(const uint8_t *area)
{
	const struct swap_provider *sp = find_area(area);

	return sp && sp->state == SWAP_ORPHANED;
}

long swap_wait_live(unsigned index)
{
	struct swap_provider *sp;

	while ((sp = kept(index)) && sp->state == SWAP_ORPHANED) {
		long err = thread_block(&sp->comeback, THREAD_BLOCKED_PAGER, index, -1);

		if (err == ERR_DEAD && proc_is_dying(proc_current()))
			return ERR_DEAD;
	}
	return sp ? 0 : ERR_DEAD;
}

int swap_choose(unsigned n, unsigned *index, uint64_t *first)
{
	for (unsigned i = 0; i < nproviders; i++) {
		struct swap_provider *sp = &providers[i];

		if (sp->state != SWAP_LIVE || sp->outstanding >= SWAP_OUTSTANDING_MAX)
			continue;
		if (swapmap_alloc(&sp->map, n, first) == 0) {
			*index = i;
			return 0;
		}
	}
	return -1;
}

/* Slots are freed while the provider is away too: their pages are gone. */
void swap_free_slot(unsigned index, uint64_t slot)
{
	struct swap_provider *sp = kept(index);

	if (sp)
		swapmap_free(&sp->map, slot);
}

void swap_mark_bad(unsigned index, uint64_t slot)
{
	struct swap_provider *sp = kept(index);

	if (sp && swapmap_mark_bad(&sp->map, slot) == 0)
		log_warn("swap: provider %u slot %lu marked bad", index, (unsigned long)slot);
}

/* GONE: the pages are lost; faults waiting for them fail. */
static void end_provider(struct swap_provider *sp, const char *why)
{
	unsigned index = (unsigned)(sp - providers);
	uint64_t pages = sp->map.used - sp->map.bad;

	if (pages)
		log_err("swap: provider %u (%s) %s holding %lu pages: they are lost", index,
			sp->name_last, why, (unsigned long)pages);
	sp->state = SWAP_GONE;
	sp->proc = NULL;
	kfree(sp->map.bits);
	sp->map.bits = NULL;
	wait_queue_wake_all(&sp->comeback, ERR_DEAD);
}

void swap_release_proc(struct proc *p)
{
	for (unsigned i = 0; i < nproviders; i++) {
		struct swap_provider *sp = &providers[i];

		if (sp->state != SWAP_LIVE || sp->proc != p)
			continue;
		if (!sp->has_area) {
			end_provider(sp, "died");
			continue;
		}
		sp->state = SWAP_ORPHANED;
		sp->proc = NULL;
		sp->orphaned_ns = clock_ns();
		log_warn("swap: provider %u (%s) died: its %lu pages wait %lu s for a provider of"
			 " the same area", i, p->name, (unsigned long)(sp->map.used - sp->map.bad),
			 (unsigned long)(SWAP_ORPHAN_NS / 1000000000));
	}
}

void swap_expire_orphans(void)
{
	uint64_t now = clock_ns();

	for (unsigned i = 0; i < nproviders; i++) {
		struct swap_provider *sp = &providers[i];

		if (sp->state == SWAP_ORPHANED && now - sp->orphaned_ns > SWAP_ORPHAN_NS)
			end_provider(sp, "did not come back");
	}
}

bool swap_port_is_provider(uint64_t port)
{
	for (unsigned i = 0; i < nproviders; i++)
		if (providers[i].state == SWAP_LIVE && providers[i].port == port)
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
		n += providers[i].state == SWAP_LIVE;
	return n;
}

uint64_t swap_slots_used(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nproviders; i++)
		if (kept(i))
			n += providers[i].map.used - providers[i].map.bad;
	return n;
}

const struct swap_provider *swap_provider_view(unsigned index)
{
	return index < nproviders ? &providers[index] : NULL;
}
