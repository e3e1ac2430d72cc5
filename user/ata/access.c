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
 * boot configuration says otherwise.  The decision is the partition
 * library's (<part.h>: part_access_*), the same for every disk driver.
 */
#include "ata.h"

static struct part_client client(const struct ata_client *c)
{
	return (struct part_client){ .name = c->name, .stripped = c->stripped };
}

uint64_t ata_access_mine(const struct part_policy *pol, const struct ata_disk *d,
			 const struct ata_client *c)
{
	struct part_client pc = client(c);

	return part_access_mine(pol, &d->pt, (unsigned)d->index, &pc);
}

long ata_access_resolve(const struct part_policy *pol, const struct ata_disk *disks, int ndisks,
			const struct ata_client *c, uint64_t part_arg, bool info,
			struct ata_access *acc)
{
	const struct part_table *tables[BLOCK_DISKS_MAX];
	struct part_client pc = client(c);
	struct part_access pa;
	long err;

	for (int i = 0; i < ndisks && i < BLOCK_DISKS_MAX; i++)
		tables[i] = &disks[i].pt;
	err = part_access_resolve(pol, tables, ndisks, &pc, part_arg, info, &pa);
	if (!err)
		*acc = (struct ata_access){ .disk = pa.disk, .partno = pa.partno, .part = pa.part };
	return err;
}
