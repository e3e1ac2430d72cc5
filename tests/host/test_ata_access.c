// SPDX-License-Identifier: MIT
/*
 * user/ata/access.c: who may use what, decided in one place from the
 * partition policy (lib/user/part.c) and the kernel's word on the sender.
 */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdio.h>

#include "../../lib/user/part.c"
#include "../../user/ata/access.c"

static struct ata_disk disks[2];
static struct part_policy pol;

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
}

static long resolve(const char *name, bool stripped, uint64_t part, bool info,
		    struct ata_access *acc)
{
	struct ata_client c = { .pid = 0x1001, .stripped = stripped };

	strlcpy(c.name, name, sizeof(c.name));
	return ata_access_resolve(&pol, disks, 2, &c, part, info, acc);
}

HTEST(configured_programs_get_their_partition)
{
	struct ata_access acc;

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
	struct ata_access acc;
	struct ata_client c = { .pid = 0x1001, .stripped = true };

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
	const char *why;
	struct ata_access acc;

	setup();
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(0, 5), false, &acc), ERR_PERM);
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(3, 0), false, &acc), ERR_PERM);
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(9, 0), true, &acc), ERR_PERM);
	HCHECK_EQ(part_policy_parse(&pol, "part5=fs", &why), 0);
	HCHECK_EQ(part_policy_parse(&pol, "raw=blktest", &why), 0);
	HCHECK_EQ(resolve("fs", false, BLOCK_PART(0, 5), false, &acc), ERR_NOENT);
	HCHECK_EQ(resolve("blktest", false, BLOCK_PART(3, 0), false, &acc), ERR_NOENT);
	HCHECK_EQ(resolve("blktest", true, BLOCK_PART(3, 0), false, &acc), ERR_PERM);
	HCHECK_EQ(resolve("blktest", false, BLOCK_PART(1, 0), false, &acc), 0);
	HCHECK(acc.part == &disks[1].pt.part[0]);
	HCHECK_EQ(resolve("blktest", false, BLOCK_PART(1, 1), false, &acc), ERR_PERM);
}
