// SPDX-License-Identifier: MIT
/*
 * One NVMe queue pair (model in nvme.h): the submission ring and its tail
 * doorbell, the completion ring, its phase and head doorbell, and the
 * slots of the commands in flight.
 *
 * Ordering: the 64 bytes of a command are in memory before its doorbell
 * write (a compiler barrier is enough on x86, where stores are not
 * reordered with other stores and the doorbell is an uncached store); a
 * completion's status word, whose phase bit says the entry is new, is read
 * before the rest of the entry.
 */
#include <string.h>

#include "nvme.h"

#define barrier()	__asm__ volatile("" ::: "memory")

static uint16_t cid_of(int s, uint8_t gen)
{
	return (uint16_t)(((unsigned)gen << NVME_SLOT_BITS) | (unsigned)s);
}

void nvme_queue_init(struct nvme_queue *q, uint16_t qid, uint16_t depth, int nslots,
		     void *sq, uint64_t sq_dev, void *cq, uint64_t cq_dev, uint32_t dstrd,
		     void *prp_lists, uint64_t prp_lists_dev)
{
	memset(q, 0, sizeof(*q));
	q->qid = qid;
	q->depth = depth;
	q->nslots = nslots;
	q->sq = sq;
	q->cq = cq;
	q->sq_dev = sq_dev;
	q->cq_dev = cq_dev;
	q->sq_db = NVME_REG_DB + (2u * qid) * dstrd;
	q->cq_db = NVME_REG_DB + (2u * qid + 1) * dstrd;
	for (int s = 0; s < nslots && prp_lists; s++) {
		q->slot[s].prp_list = (uint64_t *)((uint8_t *)prp_lists + s * NVME_PRP_LIST_BYTES);
		q->slot[s].prp_list_dev = prp_lists_dev + (uint64_t)s * NVME_PRP_LIST_BYTES;
	}
	nvme_queue_reset(q);
}

/*
 * The rings start empty with phase 1.  The completion ring is zeroed: an
 * entry left from before a reset carries phase 1 from its first pass and
 * would otherwise look new.
 */
void nvme_queue_reset(struct nvme_queue *q)
{
	memset((void *)q->sq, 0, (size_t)q->depth * sizeof(struct nvme_sqe));
	memset((void *)q->cq, 0, (size_t)q->depth * sizeof(struct nvme_cqe));
	q->sq_tail = q->sq_head = q->cq_head = 0;
	q->phase = 1;
	for (int s = 0; s < q->nslots; s++) {
		struct nvme_slot *sl = &q->slot[s];

		if (sl->busy && !sl->done) {
			sl->done = true;
			sl->status = NVME_ST_ABORTED;
		}
	}
}

int nvme_queue_slot(struct nvme_queue *q)
{
	for (int s = 0; s < q->nslots; s++) {
		if (!q->slot[s].busy) {
			q->slot[s].busy = true;
			q->slot[s].done = false;
			q->slot[s].gen++;
			return s;
		}
	}
	return -1;
}

void nvme_queue_release(struct nvme_queue *q, int s)
{
	q->slot[s].busy = false;
	q->slot[s].done = false;
}

void nvme_queue_submit(struct nvme_queue *q, int s, uint64_t deadline)
{
	struct nvme_slot *sl = &q->slot[s];

	sl->sqe.cid = cid_of(s, sl->gen);
	sl->done = false;
	sl->status = 0;
	sl->deadline = deadline;
	memcpy((void *)&q->sq[q->sq_tail], &sl->sqe, sizeof(sl->sqe));
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->depth);
	barrier();
	nvme_write32(q->sq_db, q->sq_tail);
	q->submitted++;
}

/* One new completion: checked, then recorded in its slot, or ignored. */
static void take(struct nvme_queue *q, const struct nvme_cqe *e)
{
	unsigned s = e->cid & ((1u << NVME_SLOT_BITS) - 1);
	struct nvme_slot *sl;

	if (e->sq_id != q->qid) {
		q->bad_sqid++;
		nvme_log("queue %u: completion for submission queue %u ignored (cid %#x; %llu so far)",
			 q->qid, e->sq_id, e->cid, (unsigned long long)q->bad_sqid);
		return;
	}
	if (e->sq_head < q->depth)
		q->sq_head = e->sq_head;
	else
		q->bad_head++;
	sl = s < (unsigned)q->nslots ? &q->slot[s] : NULL;
	if (!sl || !sl->busy || sl->done || e->cid != cid_of((int)s, sl->gen)) {
		q->bad_cid++;
		nvme_log("queue %u: completion with unknown command id %#x ignored (%llu so far)",
			 q->qid, e->cid, (unsigned long long)q->bad_cid);
		return;
	}
	sl->status = (uint16_t)(e->status >> 1);
	sl->result = e->result;
	sl->done = true;
	q->completed++;
}

int nvme_queue_reap(struct nvme_queue *q)
{
	int n = 0;

	/* At most one ring's worth: a controller that keeps writing new
	 * entries cannot keep the driver here. */
	while (n < q->depth) {
		volatile struct nvme_cqe *v = &q->cq[q->cq_head];
		struct nvme_cqe e;
		uint16_t status = v->status;

		if ((status & 1) != q->phase)
			break;
		barrier();
		e = (struct nvme_cqe){ .result = v->result, .sq_head = v->sq_head,
				       .sq_id = v->sq_id, .cid = v->cid, .status = status };
		take(q, &e);
		n++;
		if (++q->cq_head == q->depth) {
			q->cq_head = 0;
			q->phase ^= 1;
		}
	}
	if (n)
		nvme_write32(q->cq_db, q->cq_head);
	return n;
}
