// SPDX-License-Identifier: MIT
/*
 * Requests: validate, then commit.  Every run was checked against its
 * partition (or the whole namespace) and the data area before a command is
 * built (blkserve_runs_of, <blkserve.h>), and every command's PRPs are built before the first goes out, so
 * a request that fails validation touches neither the disk nor memory.
 * Runs that follow each other are merged, cut again at the controller's
 * transfer limit, and all the commands go to the controller as one batch.
 */
#include <string.h>

#include "nvme.h"

/* Commands of a batch share the lists' storage: one list per command. */
static uint64_t lists[NVME_BATCH_MAX][NVME_PRP_LIST_MAX];

/* Runs that continue each other on the disk and in the area are one run:
 * one command, its pages in one PRP list (a pager's cluster of pages). */
static int coalesce(const struct nvme_req *rq, struct blkserve_run *out)
{
	int n = 0;

	for (int i = 0; i < rq->runs.nruns; i++) {
		const struct blkserve_run *r = &rq->runs.run[i];
		struct blkserve_run *last = n ? &out[n - 1] : NULL;

		if (last && r->lba == last->lba + last->count &&
		    r->offset == last->offset + last->count * NVME_SECTOR)
			last->count += r->count;
		else
			out[n++] = *r;
	}
	return n;
}

long nvme_req_exec(struct nvme_ctrl *c, struct nvme_ns *ns, const struct nvme_req *rq,
		   const struct nvme_area *a)
{
	static struct nvme_io io[NVME_BATCH_MAX];
	struct blkserve_run runs[BLOCK_RUNS_MAX];
	int nruns = coalesce(rq, runs), n = 0;

	for (int i = 0; i < nruns; i++) {
		const struct blkserve_run *r = &runs[i];

		for (uint32_t done = 0; done < r->count; n++) {
			uint32_t count = r->count - done < c->max_sectors ? r->count - done
									 : c->max_sectors;
			uint64_t lba = r->lba + done;
			struct nvme_io *x = &io[n];
			int k;

			if (n == NVME_BATCH_MAX)
				return ERR_INVAL;
			*x = (struct nvme_io){
				.sqe = { .opcode = rq->write ? NVME_CMD_WRITE : NVME_CMD_READ,
					 .nsid = ns->nsid, .cdw10 = (uint32_t)lba,
					 .cdw11 = (uint32_t)(lba >> 32), .cdw12 = count - 1 },
				.list = lists[n],
			};
			k = nvme_prp_build(a, r->offset + done * NVME_SECTOR, count * NVME_SECTOR,
					   &x->sqe.prp1, &x->sqe.prp2, lists[n], NVME_PRP_LIST_MAX);
			if (k < 0)
				return k;
			x->nlist = k;
			done += count;
		}
	}
	return nvme_io_batch(c, ns, io, n);
}
