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

long ata_access_resolve(const struct part_policy *pol, const struct ata_disk *disks, int ndisks,
			const struct ata_client *c, uint64_t part_arg, bool info,
			struct ata_access *acc)
{
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
	if (info ? ata_access_mine(pol, d, c) == 0 : !allowed(pol, d, c, (unsigned)n))
		return ERR_PERM;
	if (n > PART_MAX || !d->pt.part[n].present)
		return ERR_NOENT;
	*acc = (struct ata_access){ .disk = (unsigned)disk, .partno = (unsigned)n,
				    .part = &d->pt.part[n] };
	return 0;
}
