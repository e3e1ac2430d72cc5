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
 *
 * The decision itself is the partition library's (<part.h>:
 * part_access_*), the same for every disk driver (nvme makes it too).
 */
#include "ata.h"

uint64_t ata_access_mine(const struct part_policy *pol, const struct ata_disk *d,
			 const struct blkserve_client *c)
{
	struct part_client pc = blkserve_part_client(c);

	return part_access_mine(pol, &d->pt, (unsigned)d->index, &pc);
}

long ata_access_resolve(const struct part_policy *pol, const struct ata_disk *disks, int ndisks,
			const struct blkserve_client *c, uint64_t part_arg, bool info,
			struct part_access *acc, const char **why)
{
	const struct part_table *tables[BLOCK_DISKS_MAX];
	struct part_client pc = blkserve_part_client(c);

	for (int i = 0; i < ndisks && i < BLOCK_DISKS_MAX; i++)
		tables[i] = &disks[i].pt;
	return part_access_resolve(pol, tables, ndisks, &pc, part_arg, info, ata_allowance, acc,
				   why);
}
