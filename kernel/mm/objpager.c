// SPDX-License-Identifier: MIT
#include "objpager.h"

#include <ferry/abi.h>
#include <ferry/err.h>
#include <string.h>

#include "../clock.h"
#include "../config.h"
#include "../ipc/port.h"
#include "../log.h"
#include "../proc/proc.h"

static struct objpager pagers[OBJPAGER_MAX];
static uint32_t npagers;	/* indices handed out so far, never given to another store */

static const char *const state_names[] = {
	[OBJPAGER_UNUSED] = "unused", [OBJPAGER_LIVE] = "live",
	[OBJPAGER_ORPHANED] = "orphaned", [OBJPAGER_GONE] = "gone",
};

void objpager_init(void)
{
	npagers = 0;
	for (uint32_t i = 0; i < OBJPAGER_MAX; i++) {
		pagers[i] = (struct objpager){ .state = OBJPAGER_UNUSED };
		wait_queue_init(&pagers[i].comeback);
	}
}

const char *objpager_state_name(enum objpager_state s)
{
	return s <= OBJPAGER_GONE ? state_names[s] : "?";
}

/* The pager that already knows this store, LIVE or ORPHANED. */
static struct objpager *find_store(const uint8_t *store)
{
	for (uint32_t i = 0; i < npagers; i++) {
		struct objpager *op = &pagers[i];

		if ((op->state == OBJPAGER_LIVE || op->state == OBJPAGER_ORPHANED) &&
		    memcmp(op->store, store, OBJPAGER_STORE_ID_SIZE) == 0)
			return op;
	}
	return NULL;
}

static void become_live(struct objpager *op, struct proc *p, uint64_t port)
{
	op->state = OBJPAGER_LIVE;
	op->proc = p;
	op->port = port;
	op->pid_last = p->pid;
	strlcpy(op->name_last, p->name, sizeof(op->name_last));
}

static long take_over(struct objpager *op, struct proc *p, uint64_t port)
{
	uint32_t index = (uint32_t)(op - pagers);
	uint64_t away;

	if (op->state == OBJPAGER_LIVE) {
		if (op->proc == p) {
			op->port = port;	/* the same pager, again: its port of now */
			return index;
		}
		log_warn("pager: %s (pid %lu) refused: its store is served by object pager %u,"
			 " %s (pid %lu)", p->name, (unsigned long)p->pid, index, op->proc->name,
			 (unsigned long)op->proc->pid);
		return ERR_EXIST;
	}
	away = clock_ns() - op->orphaned_ns;
	if (away > op->longest_away_ns)
		op->longest_away_ns = away;
	become_live(op, p, port);
	op->restarts++;
	log_info("pager: object pager %u taken over by %s (pid %lu) after %lu ms: its mappings go on",
		 index, p->name, (unsigned long)p->pid, (unsigned long)(away / 1000000));
	wait_queue_wake_all(&op->comeback, 0);
	return index;
}

long objpager_register(struct proc *p, uint64_t port, uint32_t modes, const uint8_t *store)
{
	struct objpager *op;
	long err;

	if (!proc_has_right(p, RIGHT_PAGER))
		return ERR_PERM;
	if (!port_owned_by(port, p))
		return ERR_BADHANDLE;
	if (!(modes & FILL_MODE_BIT(FILL_COPY)) || (modes & ~(uint32_t)FILL_ALL_MODES))
		return ERR_INVAL;	/* copy is the mode every pager must serve */
	op = find_store(store);
	if (!op && npagers == OBJPAGER_MAX)
		return ERR_BUSY;
	if (op && op->state == OBJPAGER_LIVE && op->proc != p)
		return take_over(op, p, port);	/* refused, and says why */
	err = port_set_pager_modes(p, port, modes);	/* checked above: cannot fail */
	if (err)
		return err;
	if (op)
		return take_over(op, p, port);
	op = &pagers[npagers];
	memcpy(op->store, store, OBJPAGER_STORE_ID_SIZE);
	become_live(op, p, port);
	log_info("pager: object pager %u is %s (pid %lu)", npagers, p->name, (unsigned long)p->pid);
	return npagers++;
}

uint32_t objpager_of_port(uint64_t port)
{
	for (uint32_t i = 0; i < npagers; i++)
		if (pagers[i].state == OBJPAGER_LIVE && pagers[i].port == port)
			return i;
	return OBJPAGER_NONE;
}

uint64_t objpager_port(uint32_t index)
{
	return index < npagers && pagers[index].state == OBJPAGER_LIVE ? pagers[index].port : 0;
}

bool objpager_kept(uint32_t index)
{
	return index < npagers && (pagers[index].state == OBJPAGER_LIVE ||
				   pagers[index].state == OBJPAGER_ORPHANED);
}

long objpager_wait_live(uint32_t index)
{
	while (objpager_kept(index) && pagers[index].state == OBJPAGER_ORPHANED) {
		long err = thread_block(&pagers[index].comeback, THREAD_BLOCKED_PAGER, index, -1);

		if (err == ERR_DEAD && proc_is_dying(proc_current()))
			return ERR_DEAD;
	}
	return objpager_kept(index) ? 0 : ERR_DEAD;
}

void objpager_release_proc(struct proc *p)
{
	for (uint32_t i = 0; i < npagers; i++) {
		struct objpager *op = &pagers[i];

		if (op->state != OBJPAGER_LIVE || op->proc != p)
			continue;
		op->state = OBJPAGER_ORPHANED;
		op->proc = NULL;
		op->port = 0;
		op->orphaned_ns = clock_ns();
		log_warn("pager: object pager %u (%s) died: its mappings wait %lu s for a pager of"
			 " the same store", i, p->name,
			 (unsigned long)(OBJPAGER_ORPHAN_NS / 1000000000));
	}
}

void objpager_expire_orphans(void)
{
	uint64_t now = clock_ns();

	for (uint32_t i = 0; i < npagers; i++) {
		struct objpager *op = &pagers[i];

		if (op->state != OBJPAGER_ORPHANED || now - op->orphaned_ns <= OBJPAGER_ORPHAN_NS)
			continue;
		op->state = OBJPAGER_GONE;
		log_err("pager: object pager %u (%s) did not come back: its mappings fail", i,
			op->name_last);
		wait_queue_wake_all(&op->comeback, ERR_DEAD);
	}
}

const struct objpager *objpager_view(uint32_t index)
{
	return index < npagers ? &pagers[index] : NULL;
}
