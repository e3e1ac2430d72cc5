// SPDX-License-Identifier: MIT
/*
 * Requests: validate, then commit.  Every run was checked against its
 * partition and the data area before the first command goes out
 * (blkserve_runs_of, <blkserve.h>), so a
 * request that fails validation touches neither the disk nor the memory.
 *
 * The data area is a list of page frames: a grant's (not contiguous: each
 * frame is wherever the kernel found it) or ata's own buffer.  Bus-master
 * DMA takes it as a PRD table, one entry per physically contiguous piece
 * (a 4-frame grant is 4 entries unless frames happen to be adjacent);
 * PIO takes it through a contiguous mapping (a FILL_GRANT_MAP window, or
 * the buffer).
 */
#include <string.h>

#include "ata.h"

#define DMA_LIMIT	(1ULL << 32)	/* PRD addresses are 32 bits */
#define PRD_WINDOW	0x10000ULL	/* no entry may cross a 64 KiB boundary */

bool ata_area_dma_ok(const struct ata_area *a)
{
	for (uint32_t i = 0; i < a->npages; i++)
		if (a->phys[i] + ATA_PAGE > DMA_LIMIT || (a->phys[i] & (ATA_PAGE - 1)))
			return false;
	return true;
}

int ata_prd_build(const struct ata_area *a, uint32_t offset, uint32_t len, struct ata_prd *prd,
		  int max)
{
	uint64_t start = 0, end = 0;	/* the entry being grown: [start, end) */
	int n = 0;

	if (len == 0 || offset > (uint64_t)a->npages * ATA_PAGE ||
	    len > (uint64_t)a->npages * ATA_PAGE - offset)
		return ERR_RANGE;
	while (len) {
		uint32_t page = offset / ATA_PAGE, in = offset % ATA_PAGE;
		uint32_t chunk = ATA_PAGE - in < len ? ATA_PAGE - in : len;
		uint64_t pa = a->phys[page] + in;

		if (pa + chunk > DMA_LIMIT)
			return ERR_RANGE;
		/* Grow the entry if this piece follows it in the same 64 KiB window. */
		if (n && pa == end && (start & ~(PRD_WINDOW - 1)) == ((pa + chunk - 1) &
								      ~(PRD_WINDOW - 1))) {
			end += chunk;
		} else {
			if (n == max)
				return ERR_NOMEM;
			if (n)
				prd[n - 1].prd_bytes = (uint16_t)(end - start);	/* 64 KiB is 0 */
			start = pa;
			end = pa + chunk;
			prd[n++] = (struct ata_prd){ .prd_addr = (uint32_t)pa };
		}
		offset += chunk;
		len -= chunk;
	}
	prd[n - 1].prd_bytes = (uint16_t)(end - start);
	prd[n - 1].prd_flags = ATA_PRD_EOT;
	return n;
}

/* The transfer of sectors [lba, lba + count) of run r, as a command. */
static long part_of_run(struct ata_disk *d, const struct ata_req *rq, const struct blkserve_run *r,
			const struct ata_area *a, uint64_t lba, uint32_t count, struct ata_xfer *x)
{
	uint32_t offset = r->offset + (uint32_t)(lba - r->lba) * ATA_SECTOR;

	*x = (struct ata_xfer){
		.write = rq->write, .dma = !rq->pio, .lba = lba, .count = count,
		.lba48 = rq->lba48 || lba + count > ATA_LBA28_END,
	};
	if (x->dma) {
		int n = ata_prd_build(a, offset, count * ATA_SECTOR, d->ch->prd, ATA_PRD_MAX);

		if (n < 0)
			return n;
		x->buf = d->ch->prd;
	} else {
		x->buf = a->virt + offset;
	}
	return 0;
}

/*
 * Run r failed on the medium as a whole: its first sector that fails on
 * its own, by halving (the first half fails: look there; else the second
 * must), one attempt per half.  A read reads into the request's own area,
 * a write writes the same bytes again: nothing another request sees.
 * => the LBA, or 0 when the budget or the drive's answers end the search.
 */
static uint64_t first_bad_sector(struct ata_disk *d, const struct ata_req *rq,
				 const struct blkserve_run *r, const struct ata_area *a)
{
	uint64_t lo = r->lba;
	uint32_t n = r->count;
	struct ata_xfer x;

	while (n > 1) {
		uint32_t half = n / 2;
		long err;

		if (!ata_time_left(d) || part_of_run(d, rq, r, a, lo, half, &x))
			return 0;
		err = ata_rw_once(d, &x);
		if (err == ERR_IO) {
			n = half;
		} else if (err == 0) {
			lo += half;
			n -= half;
		} else {
			return 0;	/* timed out: the drive, not the medium */
		}
	}
	return lo;
}

static void log_media_error(struct ata_disk *d, const struct ata_req *rq, const struct blkserve_run *r,
			    uint64_t bad)
{
	if (bad)
		ata_log("disk%d: %s failed on the medium at lba %llu (of %u sectors at lba %llu)",
			d->index, rq->write ? "write" : "read", (unsigned long long)bad, r->count,
			(unsigned long long)r->lba);
	else
		ata_log("disk%d: %s failed on the medium somewhere in %u sectors at lba %llu (no"
			" time left to find where)", d->index, rq->write ? "write" : "read",
			r->count, (unsigned long long)r->lba);
}

long ata_req_exec(struct ata_disk *d, const struct ata_req *rq, const struct ata_area *a)
{
	d->ch->budget_end = 0;
	d->ch->budget_ns = BLOCK_DRIVER_BUDGET_NS;	/* from the first command on */
	for (int i = 0; i < rq->runs.nruns; i++) {
		const struct blkserve_run *r = &rq->runs.run[i];
		struct ata_xfer x;
		long err = part_of_run(d, rq, r, a, r->lba, r->count, &x);

		if (err)
			return err;
		err = ata_rw(d, &x);
		if (err && d->media_error)
			log_media_error(d, rq, r,
					r->count == 1 ? r->lba : first_bad_sector(d, rq, r, a));
		if (err)
			return err;
		if (x.dma && !x.write && a->own)
			ata_dma_landed(a->virt + r->offset, r->count * ATA_SECTOR);
	}
	return 0;
}
