// SPDX-License-Identifier: MIT
/* Allowances: the model is in allow.h. */
#include "allow.h"

#include <ferry/err.h>
#include <string.h>

#include "../config.h"
#include "../handle.h"
#include "../log.h"
#include "../proc/proc.h"

struct allowance {
	uint32_t gen;
	bool live;
	struct allow_info info;	/* creator fields stamped here */
};

static struct allowance table[ALLOW_MAX];

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
	for (int i = 0; i < ALLOW_MAX && !a; i++)
		if (!table[i].live)
			a = &table[i];
	if (!a)
		return ERR_BUSY;
	a->info = *in;
	a->info.ai_creator = p->pid;
	strlcpy(a->info.ai_creator_name, p->name, sizeof(a->info.ai_creator_name));
	a->info.ai_pad = 0;
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
	a->gen = handle_next_gen(a->gen);
}

long allow_revoke(struct proc *p, uint64_t id)
{
	struct allowance *a = allow_get(id);

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
	for (int i = 0; i < ALLOW_MAX; i++) {
		if (!table[i].live || !is_creator(p, &table[i]) || index-- > 0)
			continue;
		copy_out(&table[i], out, room);
		return (long)allow_id(&table[i]);
	}
	return ERR_NOENT;
}

void allow_release_proc(struct proc *p)
{
	for (int i = 0; i < ALLOW_MAX; i++)
		if (table[i].live && table[i].info.ai_grantee == p->pid)
			end(&table[i], "its grantee died");
}

const struct allow_info *allow_view(int index, uint64_t *id)
{
	for (int i = 0; i < ALLOW_MAX; i++) {
		if (!table[i].live || index-- > 0)
			continue;
		*id = allow_id(&table[i]);
		return &table[i].info;
	}
	return NULL;
}
