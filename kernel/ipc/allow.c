// SPDX-License-Identifier: MIT
/* Allowances: the model is in allow.h. */
#include "allow.h"

#include <ferry/err.h>
#include <string.h>

#include "../config.h"
#include "../handle.h"
#include "../log.h"
#include "../mm/swap.h"
#include "../proc/proc.h"

struct allowance {
	uint32_t gen;
	bool live;
	bool suspended;		/* not live; its area waits for a successor */
	struct allow_info info;	/* creator fields and ai_flags stamped here */
};

static struct allowance table[ALLOW_MAX];

static void end(struct allowance *a, const char *why);

void allow_init(void)
{
	for (int i = 0; i < ALLOW_MAX; i++)
		table[i] = (struct allowance){ .gen = 1 };
}

static uint64_t allow_id(const struct allowance *a)
{
	return handle_make((uint32_t)(a - table), a->gen);
}

static struct allowance *allow_get(uint64_t id)
{
	uint32_t i = handle_index(id);

	if (id == 0 || i >= ALLOW_MAX || !table[i].live || table[i].gen != handle_gen(id))
		return NULL;
	return &table[i];
}

/* Live or suspended: what its creator may list and revoke. */
static struct allowance *allow_get_any(uint64_t id)
{
	uint32_t i = handle_index(id);

	if (id == 0 || i >= ALLOW_MAX || !(table[i].live || table[i].suspended) ||
	    table[i].gen != handle_gen(id))
		return NULL;
	return &table[i];
}

/* A suspended allowance lives only while the kernel keeps its area for a successor. */
static void expire_suspended(void)
{
	for (int i = 0; i < ALLOW_MAX; i++)
		if (table[i].suspended && !swap_area_orphaned(table[i].info.ai_area))
			end(&table[i], "its swap area no longer waits for a successor");
}

/* The creator's program, with the right that made it. */
static bool is_creator(const struct proc *p, const struct allowance *a)
{
	return proc_has_right(p, RIGHT_ALLOW) && strcmp(p->name, a->info.ai_creator_name) == 0;
}

/* Ranges: each non-empty, none wrapping. */
static bool ranges_ok(const struct allow_info *in)
{
	if (in->ai_nranges < 1 || in->ai_nranges > ALLOW_RANGES_MAX)
		return false;
	for (uint32_t i = 0; i < in->ai_nranges; i++) {
		const struct allow_range *r = &in->ai_ranges[i];

		if (r->ar_count == 0 || r->ar_start + r->ar_count < r->ar_start)
			return false;
	}
	return true;
}

long allow_create(struct proc *p, const struct allow_info *in)
{
	struct proc *grantee = proc_lookup(in->ai_grantee);
	struct allowance *a = NULL;

	if (!proc_has_right(p, RIGHT_ALLOW))
		return ERR_PERM;
	if (!ranges_ok(in))
		return ERR_INVAL;
	if (!grantee || proc_is_dying(grantee) || grantee == p)
		return ERR_NOENT;
	expire_suspended();
	for (int i = 0; i < ALLOW_MAX && !a; i++)
		if (!table[i].live && !table[i].suspended)
			a = &table[i];
	if (!a)
		return ERR_BUSY;
	a->info = *in;
	a->info.ai_creator = p->pid;
	strlcpy(a->info.ai_creator_name, p->name, sizeof(a->info.ai_creator_name));
	a->info.ai_flags = 0;
	a->live = true;
	log_info("allowance %#lx: %s (pid %lu) lets %s (pid %lu) use %u range%s of %#lx",
		 (unsigned long)allow_id(a), p->name, (unsigned long)p->pid, grantee->name,
		 (unsigned long)grantee->pid, in->ai_nranges, in->ai_nranges == 1 ? "" : "s",
		 (unsigned long)in->ai_tag);
	return (long)allow_id(a);
}

static void copy_out(const struct allowance *a, struct allow_info *out, uint32_t room)
{
	uint32_t n = a->info.ai_nranges < room ? a->info.ai_nranges : room;

	memcpy(out, &a->info, ALLOW_INFO_HEADER);
	memcpy(out->ai_ranges, a->info.ai_ranges, (size_t)n * sizeof(out->ai_ranges[0]));
}

long allow_live(struct proc *p, uint64_t id)
{
	struct allowance *a = allow_get(id);

	if (!a)
		return ERR_BADHANDLE;
	if (a->info.ai_grantee != p->pid && !is_creator(p, a) && !proc_has_right(p, RIGHT_DMA))
		return ERR_PERM;
	return 0;
}

long allow_info(struct proc *p, uint64_t id, struct allow_info *out, uint32_t room)
{
	long err = allow_live(p, id);

	if (!err)
		copy_out(allow_get(id), out, room);
	return err;
}

static void end(struct allowance *a, const char *why)
{
	log_info("allowance %#lx of %s ended: %s", (unsigned long)allow_id(a),
		 a->info.ai_creator_name, why);
	a->live = false;
	a->suspended = false;
	a->gen = handle_next_gen(a->gen);
}

long allow_revoke(struct proc *p, uint64_t id)
{
	struct allowance *a = allow_get_any(id);

	if (!a)
		return ERR_BADHANDLE;
	if (!is_creator(p, a))
		return ERR_PERM;
	end(a, "revoked");
	return 0;
}

long allow_list(struct proc *p, uint64_t index, struct allow_info *out, uint32_t room)
{
	if (!proc_has_right(p, RIGHT_ALLOW))
		return ERR_PERM;
	expire_suspended();
	for (int i = 0; i < ALLOW_MAX; i++) {
		if (!(table[i].live || table[i].suspended) || !is_creator(p, &table[i]) ||
		    index-- > 0)
			continue;
		copy_out(&table[i], out, room);
		return (long)allow_id(&table[i]);
	}
	return ERR_NOENT;
}

/* Called after swap_release_proc(p): an area p served is ORPHANED by now. */
static void grantee_died(struct allowance *a)
{
	if (!swap_area_orphaned(a->info.ai_area)) {
		end(a, "its grantee died");
		return;
	}
	a->live = false;
	a->suspended = true;
	a->info.ai_flags |= ALLOW_SUSPENDED;
	log_info("allowance %#lx of %s suspended: its grantee died; kept while its swap area"
		 " waits for a successor", (unsigned long)allow_id(a), a->info.ai_creator_name);
}

void allow_release_proc(struct proc *p)
{
	expire_suspended();
	for (int i = 0; i < ALLOW_MAX; i++)
		if (table[i].live && table[i].info.ai_grantee == p->pid)
			grantee_died(&table[i]);
}

const struct allow_info *allow_view(int index, uint64_t *id)
{
	for (int i = 0; i < ALLOW_MAX; i++) {
		if (!(table[i].live || table[i].suspended) || index-- > 0)
			continue;
		*id = allow_id(&table[i]);
		return &table[i].info;
	}
	return NULL;
}
