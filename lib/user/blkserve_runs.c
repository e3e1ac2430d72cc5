// SPDX-License-Identifier: MIT
/*
 * A request's runs (model in <blkserve.h>): validate, then commit.  Every
 * run is checked against its partition (or the whole disk) and the data
 * area before the driver builds a command, so a request that fails here
 * touches neither the disk nor memory.  Pure: host tests include it.
 */
#include <blkserve.h>
#include <ferry/err.h>

long blkserve_runs_check(struct blkserve_runs *rs, const struct part *p,
			 const struct block_run *runs, int n, uint32_t area_bytes)
{
	uint32_t total = 0, end = 0;

	if (n < 1 || n > BLOCK_RUNS_MAX)
		return ERR_INVAL;
	for (int i = 0; i < n; i++) {
		const struct block_run *r = &runs[i];

		if (r->br_count == 0 || r->br_count > BLOCK_MAX_SECTORS ||
		    r->br_offset % BLOCK_SECTOR_SIZE)
			return ERR_INVAL;
		total += r->br_count;
		if (total > BLOCK_MAX_SECTORS)
			return ERR_INVAL;
	}
	for (int i = 0; i < n; i++) {
		const struct block_run *r = &runs[i];
		uint32_t bytes = r->br_count * BLOCK_SECTOR_SIZE;

		if (r->br_sector >= p->sectors || r->br_count > p->sectors - r->br_sector)
			return ERR_RANGE;
		if (r->br_offset > area_bytes || bytes > area_bytes - r->br_offset)
			return ERR_RANGE;
		rs->run[i] = (struct blkserve_run){ .lba = p->start + r->br_sector,
						    .count = r->br_count, .offset = r->br_offset };
		if (r->br_offset + bytes > end)
			end = r->br_offset + bytes;
	}
	rs->nruns = n;
	rs->sectors = total;
	rs->end = end;
	return 0;
}

long blkserve_runs_allowed(const struct part_access *acc, const struct blkserve_runs *rs,
			   const char **why)
{
	for (int i = 0; i < rs->nruns; i++) {
		if (!part_access_covers(acc, rs->run[i].lba - acc->part->start, rs->run[i].count)) {
			*why = "sectors outside the ranges its allowance gives it";
			return ERR_PERM;
		}
	}
	return 0;
}

/* => the number of runs, *runs set (maybe to one), or an error. */
static long decode(const struct msg *m, uint32_t flags, const void *page, uint32_t area_bytes,
		   struct block_run *one, const struct block_run **runs)
{
	if (flags & BLOCK_F_RUNS) {
		uint64_t n = m->arg[BLOCK_ARG_COUNT];

		if (!(m->flags & MSG_PAGE) || n < 1 || n > BLOCK_RUNS_MAX)
			return ERR_INVAL;
		*runs = page;
		return (long)n;
	}
	if (m->arg[BLOCK_ARG_COUNT] < 1 || m->arg[BLOCK_ARG_COUNT] > BLOCK_MAX_SECTORS ||
	    m->arg[BLOCK_ARG_OFFSET] % BLOCK_SECTOR_SIZE)
		return ERR_INVAL;
	if (m->arg[BLOCK_ARG_OFFSET] > area_bytes)
		return ERR_RANGE;
	*one = (struct block_run){ .br_sector = m->arg[BLOCK_ARG_SECTOR],
				   .br_count = (uint32_t)m->arg[BLOCK_ARG_COUNT],
				   .br_offset = (uint32_t)m->arg[BLOCK_ARG_OFFSET] };
	*runs = one;
	return 1;
}

long blkserve_runs_of(const struct msg *m, uint32_t flags, const void *page,
		      const struct part *p, uint32_t area_bytes, struct blkserve_runs *rs)
{
	struct block_run one;
	const struct block_run *runs;
	long n = decode(m, flags, page, area_bytes, &one, &runs);

	if (n < 0)
		return n;
	return blkserve_runs_check(rs, p, runs, (int)n, area_bytes);
}
