// SPDX-License-Identifier: MIT
/*
 * Who may use what (model in ata.h): the one place ata decides whether a
 * request's sender may touch the sectors it names.
 *
 * A client is the kernel-stamped sender, looked up by pid: its program
 * name, and whether it runs with its configuration's rights.  A copy of a
 * service typed at the shell has the service's name but not its rights
 * (the kernel says so: PROC_INFO_STRIPPED), and gets nothing here either:
 * a name alone never opens a partition.  The policy (<part.h>) then names
 * the programs that may use each partition: by what is on it, unless the
 * boot configuration says otherwise.
 *
 * Confinement: a program the policy does not give a partition may still
 * use some of its sectors if a program it does give it says so, in a
 * kernel-stamped allowance (kernel/ipc/allow.h) the request names: fs lets
 * swapd reach the blocks of a swap file, and nothing else of the file
 * system.  The allowance must be live (the kernel ends it when fs revokes
 * it or swapd dies), be for this very process (pid and generation), name
 * this partition, and come from a program the policy gives the partition
 * (one that could touch the sectors itself); each run of the request must
 * then lie inside one of its ranges.  So the partition rights and the
 * allowances are one mechanism: what a client may touch is the partition,
 * or the ranges of it its owner lent it.
 */
#include <string.h>

#include "ata.h"

static bool allowed(const struct part_policy *pol, const struct ata_disk *d,
		    const struct ata_client *c, unsigned part)
{
	return !c->stripped && part_policy_allows(pol, &d->pt, (unsigned)d->index, part, c->name);
}

uint64_t ata_access_mine(const struct part_policy *pol, const struct ata_disk *d,
			 const struct ata_client *c)
{
	uint64_t mine = 0;

	for (unsigned n = 0; n <= PART_MAX; n++)
		if (d->pt.part[n].present && allowed(pol, d, c, n))
			mine |= 1ULL << n;
	return mine;
}

/* The request names an allowance: is it one that lets c use partition n of d? */
static long through_allowance(const struct part_policy *pol, const struct ata_disk *d,
			      unsigned n, const struct ata_client *c, uint64_t id,
			      struct ata_access *acc, const char **why)
{
	const struct allow_info *a = ata_allowance(id);

	if (!a)
		*why = "its allowance is not live";
	else if ((uint64_t)a->ai_grantee != c->pid)
		*why = "its allowance is another process's";
	else if (a->ai_tag != BLOCK_PART(d->index, n))
		*why = "its allowance is for another partition";
	else if (!part_policy_allows(pol, &d->pt, (unsigned)d->index, n, a->ai_creator_name))
		*why = "its allowance comes from a program that may not use this partition";
	else if (n > PART_MAX || !d->pt.part[n].present)
		return ERR_NOENT;
	else {
		*acc = (struct ata_access){ .disk = (unsigned)d->index, .partno = n,
					    .part = &d->pt.part[n], .allowance = id,
					    .creator = a->ai_creator_name,
					    .nranges = a->ai_nranges, .ranges = a->ai_ranges };
		return 0;
	}
	return ERR_PERM;
}

long ata_access_resolve(const struct part_policy *pol, const struct ata_disk *disks, int ndisks,
			const struct ata_client *c, uint64_t part_arg, bool info,
			struct ata_access *acc, const char **why)
{
	uint64_t allowance = BLOCK_PART_ALLOW(part_arg);
	uint64_t disk = BLOCK_PART_DISK(part_arg), n = BLOCK_PART_NUM(part_arg);
	const struct ata_disk *d;

	if (disk >= BLOCK_DISKS_MAX)
		return ERR_PERM;
	if ((int)disk >= ndisks)	/* only raw= can name a disk that is not there */
		return !c->stripped && (info || n == 0) &&
				       part_policy_allows(pol, NULL, (unsigned)disk, 0, c->name)
			       ? ERR_NOENT
			       : ERR_PERM;
	d = &disks[disk];
	if (c->stripped)
		return ERR_PERM;
	if (allowance && !allowed(pol, d, c, (unsigned)n))
		return through_allowance(pol, d, (unsigned)n, c, allowance, acc, why);
	if (info ? ata_access_mine(pol, d, c) == 0 : !allowed(pol, d, c, (unsigned)n))
		return ERR_PERM;
	if (n > PART_MAX || !d->pt.part[n].present)
		return ERR_NOENT;
	*acc = (struct ata_access){ .disk = (unsigned)disk, .partno = (unsigned)n,
				    .part = &d->pt.part[n] };
	return 0;
}

long ata_access_runs(const struct ata_access *acc, const struct ata_req *rq, const char **why)
{
	for (int i = 0; acc->nranges && i < rq->nruns; i++) {
		uint64_t first = rq->run[i].lba - acc->part->start, count = rq->run[i].count;
		bool inside = false;

		for (uint32_t k = 0; k < acc->nranges && !inside; k++)
			inside = first >= acc->ranges[k].ar_start &&
				 first + count <= acc->ranges[k].ar_start + acc->ranges[k].ar_count;
		if (!inside) {
			*why = "sectors outside the ranges its allowance gives it";
			return ERR_PERM;
		}
	}
	return 0;
}
