// SPDX-License-Identifier: MIT
/*
 * lib/user/blkserve_runs.c: a read or write's runs as both disk drivers
 * take them from a request (<blkserve.h>): the one run its arguments name,
 * or the list in its page, refused whole when malformed or out of range.
 */
#include "htest.h"
#include "lib_string_shim.h"

#include "../../lib/user/blkserve_runs.c"
#include "../../lib/user/part.c"

static const struct part part = { .present = true, .start = 1000, .sectors = 100 };

static struct msg request(uint64_t sector, uint64_t count, uint64_t offset)
{
	return (struct msg){ .op = BLOCK_READ,
			     .arg = { [BLOCK_ARG_SECTOR] = sector, [BLOCK_ARG_COUNT] = count,
				      [BLOCK_ARG_OFFSET] = offset } };
}

HTEST(one_run_from_the_arguments)
{
	struct msg m = request(10, 8, 512);
	struct blkserve_runs rs;

	HCHECK_EQ(blkserve_runs_of(&m, 0, NULL, &part, 8192, &rs), 0);
	HCHECK_EQ(rs.nruns, 1);
	HCHECK_EQ(rs.run[0].lba, 1010);
	HCHECK_EQ(rs.run[0].offset, 512);
	HCHECK_EQ(rs.sectors, 8);
	HCHECK_EQ(rs.end, 512 + 8 * 512);
}

HTEST(malformed_arguments_refused)
{
	struct blkserve_runs rs;
	struct msg zero = request(0, 0, 0), many = request(0, BLOCK_MAX_SECTORS + 1, 0),
		   odd = request(0, 1, 100), far = request(0, 1, 8192 + 512),
		   beyond = request(99, 2, 0);

	HCHECK_EQ(blkserve_runs_of(&zero, 0, NULL, &part, 8192, &rs), ERR_INVAL);
	HCHECK_EQ(blkserve_runs_of(&many, 0, NULL, &part, 8192, &rs), ERR_INVAL);
	HCHECK_EQ(blkserve_runs_of(&odd, 0, NULL, &part, 8192, &rs), ERR_INVAL);
	HCHECK_EQ(blkserve_runs_of(&far, 0, NULL, &part, 8192, &rs), ERR_RANGE);
	HCHECK_EQ(blkserve_runs_of(&beyond, 0, NULL, &part, 8192, &rs), ERR_RANGE);
}

HTEST(run_list_from_the_page)
{
	static const struct block_run list[2] = { { .br_sector = 90, .br_count = 8 },
						  { .br_sector = 0, .br_count = 1,
						    .br_offset = 4096 } };
	struct msg m = request(0, 2, 0);
	struct blkserve_runs rs;

	/* The list must have come along, and hold 1..BLOCK_RUNS_MAX runs. */
	HCHECK_EQ(blkserve_runs_of(&m, BLOCK_F_RUNS, list, &part, 8192, &rs), ERR_INVAL);
	m.flags = MSG_WITH_PAGES(1);
	HCHECK_EQ(blkserve_runs_of(&m, BLOCK_F_RUNS, list, &part, 8192, &rs), 0);
	HCHECK_EQ(rs.nruns, 2);
	HCHECK_EQ(rs.run[0].lba, 1090);
	HCHECK_EQ(rs.run[1].lba, 1000);
	HCHECK_EQ(rs.sectors, 9);
	HCHECK_EQ(rs.end, 4096 + 512);
	m.arg[BLOCK_ARG_COUNT] = 0;
	HCHECK_EQ(blkserve_runs_of(&m, BLOCK_F_RUNS, list, &part, 8192, &rs), ERR_INVAL);
	m.arg[BLOCK_ARG_COUNT] = BLOCK_RUNS_MAX + 1;
	HCHECK_EQ(blkserve_runs_of(&m, BLOCK_F_RUNS, list, &part, 8192, &rs), ERR_INVAL);
	/* Each run is checked: the second one past the area. */
	m.arg[BLOCK_ARG_COUNT] = 2;
	HCHECK_EQ(blkserve_runs_of(&m, BLOCK_F_RUNS, list, &part, 4096, &rs), ERR_RANGE);
}
