// SPDX-License-Identifier: MIT
/*
 * user/ata/access.c: who may use what, decided in one place from the
 * partition policy (lib/user/part.c), the kernel's word on the sender,
 * and the allowances a partition's owner made for others (confinement).
 */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdio.h>

#include "../../lib/user/blkserve_runs.c"
#include "../../lib/user/part.c"
#include "../../user/ata/access.c"

static struct ata_disk disks[2];
static struct part_policy pol;

/* The kernel's allowances, as the seam shows them: one, or none. */
static struct allow_info live;
static uint64_t live_id;

const struct allow_info *ata_allowance(uint64_t id)
{
	return id && id == live_id ? &live : NULL;
}

/* Disk 0: a swap area (1) and an ext2 file system (2); disk 1 whole. */
static void setup(void)
{
	memset(disks, 0, sizeof(disks));
	for (int d = 0; d < 2; d++) {
		disks[d].index = d;
		disks[d].sectors = 1000;
		disks[d].pt.part[0] = (struct part){ .present = true, .sectors = 1000 };
	}
	disks[0].pt.part[1] = (struct part){ .present = true, .start = 10, .sectors = 100,
					     .content = PART_SWAP };
	disks[0].pt.part[2] = (struct part){ .present = true, .start = 110, .sectors = 100,
					     .content = PART_EXT2 };
	part_policy_init(&pol);
	live_id = 0;
}

static const char *why;

static long resolve(const char *name, bool stripped, uint64_t part, bool info,
		    struct part_access *acc)
{
	struct blkserve_client c = { .pid = 0x1001, .stripped = stripped };

	strlcpy(c.name, name, sizeof(c.name));
	why = NULL;
	return ata_access_resolve(&pol, disks, 2, &c, part, info, acc, &why);
}

HTEST(configured_programs_get_their_partition)
{
	struct part_access acc;

	setup();
	HCHECK_EQ(resolve("swapd", false, BLOCK_PART(0, 1), false, &acc), 0);
	HCHECK(acc.part == &disks[0].pt.part[1] && acc.disk == 0 && acc.partno == 1);
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(0, 2), false, &acc), 0);
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(0, 1), false, &acc), ERR_PERM);
	HCHECK_EQ(resolve("swapd", false, BLOCK_PART(0, 0), false, &acc), ERR_PERM);
	HCHECK_EQ(resolve("swapd", false, BLOCK_PART(0, 1), true, &acc), 0);	/* info */
	HCHECK_EQ(resolve("rogue", false, BLOCK_PART(0, 1), true, &acc), ERR_PERM);
}

HTEST(a_copy_without_rights_gets_nothing)
{
	struct part_access acc;
	struct blkserve_client c = { .pid = 0x1001, .stripped = true };

	setup();
	strlcpy(c.name, "fs", sizeof(c.name));
	HCHECK_EQ(resolve("fs", true, BLOCK_PART(0, 2), false, &acc), ERR_PERM);
	HCHECK_EQ(resolve("fs", true, BLOCK_PART(0, 2), true, &acc), ERR_PERM);
	HCHECK_EQ(resolve("swapd", true, BLOCK_PART(0, 1), false, &acc), ERR_PERM);
	HCHECK_EQ(ata_access_mine(&pol, &disks[0], &c), 0);
	c.stripped = false;
	HCHECK_EQ(ata_access_mine(&pol, &disks[0], &c), 1u << 2);
}

HTEST(rights_before_existence)
{
	const char *reason;
	struct part_access acc;

	setup();
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(0, 5), false, &acc), ERR_PERM);
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(3, 0), false, &acc), ERR_PERM);
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(9, 0), true, &acc), ERR_PERM);
	HCHECK_EQ(part_policy_parse(&pol, "part5=fs", &reason), 0);
	HCHECK_EQ(part_policy_parse(&pol, "raw=blktest", &reason), 0);
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(0, 5), false, &acc), ERR_NOENT);
	HCHECK_EQ(resolve("blktest", false, BLOCK_PART(3, 0), false, &acc), ERR_NOENT);
	HCHECK_EQ(resolve("blktest", true, BLOCK_PART(3, 0), false, &acc), ERR_PERM);
	HCHECK_EQ(resolve("blktest", false, BLOCK_PART(1, 0), false, &acc), 0);
	HCHECK(acc.part == &disks[1].pt.part[0]);
	HCHECK_EQ(resolve("blktest", false, BLOCK_PART(1, 1), false, &acc), ERR_PERM);
}

/* --- confinement: an allowance from the partition's owner --- */

/* fs (which the policy gives partition 2) lets pid 0x1001 use two ranges of it. */
static void allowance_from_fs(void)
{
	live = (struct allow_info){ .ai_grantee = 0x1001, .ai_tag = BLOCK_PART(0, 2),
				    .ai_nranges = 2 };
	strlcpy(live.ai_creator_name, "fs", sizeof(live.ai_creator_name));
	live.ai_ranges[0] = (struct allow_range){ .ar_start = 10, .ar_count = 8 };
	live.ai_ranges[1] = (struct allow_range){ .ar_start = 40, .ar_count = 16 };
	live_id = 0x3001;
}

/* A request of runs (sector, count) of partition 2, as blkserve_runs_check records them. */
static long runs(struct part_access *acc, int n, const uint64_t (*r)[2])
{
	struct ata_req rq = { .runs.nruns = n };

	for (int i = 0; i < n; i++)
		rq.runs.run[i] = (struct blkserve_run){ .lba = acc->part->start + r[i][0],
					      .count = (uint32_t)r[i][1] };
	why = NULL;
	return blkserve_runs_allowed(acc, &rq.runs, &why);
}

HTEST(allowance_confines_to_its_ranges)
{
	static const uint64_t inside[][2] = { { 10, 8 }, { 40, 1 }, { 55, 1 }, { 44, 8 } };
	static const uint64_t edge_out[][2] = { { 9, 1 } }, end_out[][2] = { { 17, 2 } },
			      gap[][2] = { { 18, 22 } }, across[][2] = { { 14, 30 } },
			      one_bad[][2] = { { 10, 8 }, { 56, 1 } };
	struct part_access acc;

	setup();
	allowance_from_fs();
	HCHECK_EQ(resolve("swapd", false, BLOCK_PART_VIA(BLOCK_PART(0, 2), 0x3001), false, &acc), 0);
	HCHECK(acc.part == &disks[0].pt.part[2] && acc.nranges == 2 && acc.allowance == 0x3001);
	HCHECK_EQ(runs(&acc, 4, inside), 0);
	HCHECK_EQ(runs(&acc, 1, edge_out), ERR_PERM);	/* just before the first range */
	HCHECK(why && strstr(why, "outside the ranges"));
	HCHECK_EQ(runs(&acc, 1, end_out), ERR_PERM);	/* one sector past its end */
	HCHECK_EQ(runs(&acc, 1, gap), ERR_PERM);
	HCHECK_EQ(runs(&acc, 1, across), ERR_PERM);	/* spans both, and the gap */
	HCHECK_EQ(runs(&acc, 2, one_bad), ERR_PERM);	/* one run of several is enough */
	/* Without it, swapd has no right to partition 2 at all. */
	HCHECK_EQ(resolve("swapd", false, BLOCK_PART(0, 2), false, &acc), ERR_PERM);
	/* fs itself, naming it or not, has the whole partition. */
	HCHECK_EQ(resolve("fs", false, BLOCK_PART_VIA(BLOCK_PART(0, 2), 0x3001), false, &acc), 0);
	HCHECK_EQ(acc.nranges, 0);
	HCHECK_EQ(runs(&acc, 1, gap), 0);
}

HTEST(allowance_must_be_live_mine_and_for_this_partition)
{
	struct part_access acc;
	struct blkserve_client other = { .pid = 0x2001 };

	setup();
	allowance_from_fs();
	HCHECK_EQ(resolve("swapd", false, BLOCK_PART_VIA(BLOCK_PART(0, 2), 0x4001), false, &acc),
		  ERR_PERM);					/* dead (or forged) id */
	HCHECK(why && strstr(why, "not live"));
	strlcpy(other.name, "swapd", sizeof(other.name));
	HCHECK_EQ(ata_access_resolve(&pol, disks, 2, &other,
				     BLOCK_PART_VIA(BLOCK_PART(0, 2), 0x3001), false, &acc, &why),
		  ERR_PERM);	/* another process's */
	HCHECK(why && strstr(why, "another process"));
	HCHECK_EQ(resolve("swapd", false, BLOCK_PART_VIA(BLOCK_PART(0, 1), 0x3001), false, &acc),
		  0);			/* swapd's own partition: its right, not the allowance */
	HCHECK_EQ(acc.nranges, 0);
	HCHECK_EQ(resolve("rogue", false, BLOCK_PART_VIA(BLOCK_PART(0, 1), 0x3001), false, &acc),
		  ERR_PERM);				/* it names partition 2, not 1 */
	HCHECK(why && strstr(why, "another partition"));
	live.ai_tag = BLOCK_PART(0, 1);			/* names the swap partition */
	HCHECK_EQ(resolve("other", false, BLOCK_PART_VIA(BLOCK_PART(0, 2), 0x3001), false, &acc),
		  ERR_PERM);
	HCHECK(why && strstr(why, "another partition"));
	/* From a program that could not touch the sectors itself: nothing. */
	live.ai_tag = BLOCK_PART(0, 2);
	strlcpy(live.ai_creator_name, "swapd", sizeof(live.ai_creator_name));
	HCHECK_EQ(resolve("other", false, BLOCK_PART_VIA(BLOCK_PART(0, 2), 0x3001), false, &acc),
		  ERR_PERM);
	HCHECK(why && strstr(why, "may not use this partition"));
	/* A copy without rights gets nothing, allowance or not. */
	strlcpy(live.ai_creator_name, "fs", sizeof(live.ai_creator_name));
	HCHECK_EQ(resolve("other", true, BLOCK_PART_VIA(BLOCK_PART(0, 2), 0x3001), false, &acc),
		  ERR_PERM);
	HCHECK_EQ(resolve("other", false, BLOCK_PART_VIA(BLOCK_PART(0, 2), 0x3001), true, &acc), 0);
}
