// SPDX-License-Identifier: MIT
/*
 * blktest as a pager: its child maps an object (a partition, see
 * object_runs) with sys_mem_map_pager on a port of ours, and every fault
 * becomes a page request here.  Grant modes go on to ata: the grant is
 * forwarded (we lose access), ata fills or drains the frames itself, and
 * only then do we answer the kernel.  Copy mode reads into our own buffer
 * and answers with the bytes.
 */
#include <fmt.h>
#include <pager.h>
#include <proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blktest.h"

#define PAGER_QUEUE	16
#define CHILD_NS	(60L * SEC_NS)
#define POLL_NS		(20L * MSEC_NS)
#define MAX_PAGES	16	/* a mapping: 16 pages = 64 runs when scattered */

long pager_child_status;

struct pager {
	struct blk *b;
	const struct pager_way *way;
	uint64_t obj, offset;
	long port;
	uint8_t *rxbuf, *out;	/* PAGER_BUF_SIZE each */
	int failures;
};

int object_runs(uint64_t obj, uint64_t page, struct block_run *runs)
{
	if (!(obj & OBJ_SCATTERED)) {
		runs[0] = (struct block_run){ .br_sector = page * BLOCK_SECTORS_PER_PAGE,
					      .br_count = BLOCK_SECTORS_PER_PAGE };
		return 1;
	}
	/* Runs in reverse order, pages interleaved: nothing is where it looks. */
	for (int j = 0; j < OBJ_RUNS_PER_PAGE; j++)
		runs[j] = (struct block_run){
			.br_sector = 64 + 2 * (((page * OBJ_RUNS_PER_PAGE + 3 - (uint64_t)j) * 7) % 512),
			.br_count = 2, .br_offset = (uint32_t)j * 1024 };
	return OBJ_RUNS_PER_PAGE;
}

/* Every run of pages [first, first + n) of the object, offsets into the whole range. */
static int request_runs(uint64_t obj, uint64_t first, int n, struct block_run *runs)
{
	int total = 0;

	for (int i = 0; i < n; i++) {
		int k = object_runs(obj, first + (uint64_t)i, runs + total);

		for (int j = 0; j < k; j++)
			runs[total + j].br_offset += (uint32_t)i * MSG_PAGE_SIZE;
		total += k;
	}
	return total;
}

/* Copy mode, run by run through our buffer. */
static long copy_io(struct pager *pg, bool write, const struct block_run *runs, int n,
		    uint8_t *data)
{
	static uint8_t tmp[BLK_BUF_BYTES];
	uint64_t part = OBJ_PART(pg->obj);

	for (int i = 0; i < n; i++) {
		size_t bytes = runs[i].br_count * BLOCK_SECTOR_SIZE;
		long err;

		if (write) {
			memcpy(tmp, data + runs[i].br_offset, bytes);
			err = blk_write(pg->b, part, runs[i].br_sector, runs[i].br_count, 0, 0, tmp);
		} else {
			err = blk_read(pg->b, part, runs[i].br_sector, runs[i].br_count, 0, 0, tmp);
			memcpy(data + runs[i].br_offset, tmp, bytes);
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * Another blktest process, a client ata serves, names the grant we just
 * forwarded in a read of its own.  ata must refuse (the grant came from
 * us, not from it) before touching the frames: => 0 if it did.
 */
static long stranger_refused(struct pager *pg, const struct pager_request *rq,
			     const struct block_run *run)
{
	char args[96];
	long status = 0, err;

	snprintf(args, sizeof(args), "blktest %s:stranger %llu %u %llu %llu", blk_driver,
		 (unsigned long long)rq->grant, rq->mode, (unsigned long long)OBJ_PART(pg->obj),
		 (unsigned long long)run->br_sector);
	err = proc_run("blktest", args, CHILD_NS, &status);
	if (err)
		return err;
	if (status != -ERR_PERM) {
		printf("blktest: %s answered a stranger naming our grant with %s, not %s\n",
		       blk_driver, status ? err_str(-status) : "success", err_str(ERR_PERM));
		return ERR_IO;
	}
	return 0;
}

/*
 * The request, asked once with a short patience: ata is still working on
 * it (a slow disk) when we stop waiting.  => ERR_IO, as a client that gave
 * up answers the kernel, or 0 for a pager that claims success regardless;
 * ERR_INVAL if ata was not slow after all.
 */
static long give_up(struct pager *pg, const struct block_run *run, uint32_t mode, uint64_t grant)
{
	struct msg req = { .op = BLOCK_READ }, rep = { 0 };
	long err;

	req.arg[BLOCK_ARG_PART] = OBJ_PART(pg->obj);
	req.arg[BLOCK_ARG_SECTOR] = run->br_sector;
	req.arg[BLOCK_ARG_COUNT] = run->br_count;
	req.arg[BLOCK_ARG_MODE] = mode;
	req.arg[BLOCK_ARG_GRANT] = grant;
	req.arg[BLOCK_ARG_OFFSET] = run->br_offset;
	err = sys_call(pg->b->c.port, &req, &rep, GIVEUP_WAIT_NS);
	printf("blktest: pager: gave up on ata after %ld ms (%s): %s the page-in\n",
	       GIVEUP_WAIT_NS / MSEC_NS, err_str(err),
	       pg->way->giveup == GIVEUP_CLAIM ? "claiming success for" : "failing");
	if (err != ERR_TIMEOUT)
		return ERR_INVAL;
	return pg->way->giveup == GIVEUP_CLAIM ? 0 : ERR_IO;
}

/* Grant modes: hand the grant to ata, then ask for the transfer. */
static long grant_io(struct pager *pg, const struct pager_request *rq, bool write,
		     const struct block_run *runs, int n)
{
	uint32_t op = write ? BLOCK_WRITE : BLOCK_READ;
	uint32_t mode = rq->mode | pg->way->flags;
	long err;

	if (pg->way->rogue && rq->key == pg->offset + pg->way->rogue_page * MSG_PAGE_SIZE)
		mode |= pg->way->rogue;
	err = sys_grant_forward(rq->grant, (long)pg->b->c.pid);
	if (err) {
		printf("blktest: forwarding grant %#llx to ata: %s\n",
		       (unsigned long long)rq->grant, err_str(err));
		return err;
	}
	if (pg->way->stranger) {
		err = stranger_refused(pg, rq, &runs[0]);
		if (err)
			return err;
	}
	if (pg->way->giveup)
		return give_up(pg, &runs[0], mode, rq->grant);
	if (n == 1)
		return blk_grant(pg->b, op, OBJ_PART(pg->obj), runs[0].br_sector, runs[0].br_count,
				 mode, rq->grant, runs[0].br_offset);
	return blk_grant_runs(pg->b, op, OBJ_PART(pg->obj), mode, rq->grant, runs, n);
}

static void serve_request(struct pager *pg, const struct pager_request *rq)
{
	struct block_run runs[MAX_PAGES * OBJ_RUNS_PER_PAGE];
	bool write = rq->op == PAGER_PAGE_OUT;
	int n;
	long err;

	if (rq->npages > MAX_PAGES || rq->key % MSG_PAGE_SIZE) {
		pager_answer_fail(rq, ERR_RANGE);
		pg->failures++;
		return;
	}
	n = request_runs(pg->obj, rq->key / MSG_PAGE_SIZE, rq->npages, runs);
	if (rq->mode == FILL_COPY)
		err = copy_io(pg, write, runs, n, write ? (uint8_t *)rq->data : pg->out);
	else
		err = grant_io(pg, rq, write, runs, n);
	if (err) {
		printf("blktest: pager: %s of %d pages at %llu (%s): %s\n", pager_op_name(rq->op),
		       rq->npages, (unsigned long long)rq->key, pg->way->name, err_str(err));
		pg->failures++;
		pager_answer_fail(rq, ERR_IO);
		return;
	}
	pager_answer_ok(rq, rq->npages, pg->out);
}

/* Serves the child's faults until it ends; => its exit status. */
static long serve_child(struct pager *pg, long child)
{
	long start = sys_clock_ns(), status = -1, err;
	struct pager_request rq;
	struct msg m;

	for (;;) {
		pager_recv_prepare(&m, pg->rxbuf);
		err = sys_recv(pg->port, &m, POLL_NS);
		if (!err && pager_request_decode(&m, &rq) == 0)
			serve_request(pg, &rq);
		else if (!err)
			printf("blktest: pager: stray message op %#x\n", m.op);
		if (sys_wait(child, &status, 0) == child)
			return status;
		if (sys_clock_ns() - start > CHILD_NS) {
			printf("blktest: pager: child still running after %ld s: killed\n",
			       CHILD_NS / SEC_NS);
			proc_reap(child, 0, &status);
			return -1;
		}
	}
}

long pager_run(struct blk *b, const struct pager_way *way, uint64_t obj, uint64_t offset,
	       int npages, unsigned write_seed)
{
	static uint8_t *rxbuf, *out;
	struct pager pg = { .b = b, .way = way, .obj = obj, .offset = offset };
	long before = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL), err, child, status;
	char args[128];

	if (!rxbuf) {
		rxbuf = malloc(PAGER_BUF_SIZE);
		out = malloc(PAGER_BUF_SIZE);
		if (!rxbuf || !out)
			return ERR_NOMEM;
	}
	pg.rxbuf = rxbuf;
	pg.out = out;
	err = sys_vm_ctl(VM_CTL_FAULTPATH_SET, way->fill, NULL);
	if (err)
		return err;
	pg.port = sys_port_create(PAGER_QUEUE);
	if (pg.port < 0)
		return pg.port;
	snprintf(args, sizeof(args), "blktest %s:%s %ld %llu %llu %d %u", blk_driver,
		 way->child ? way->child : "child", pg.port, (unsigned long long)obj,
		 (unsigned long long)offset, npages, write_seed);
	child = sys_spawn("blktest", args);
	status = child < 0 ? child : serve_child(&pg, child);
	pager_child_status = status;
	sys_port_destroy(pg.port);
	sys_vm_ctl(VM_CTL_FAULTPATH_SET, before, NULL);
	if (child < 0)
		return child;
	return status == 0 && pg.failures == 0 ? 0 : ERR_IO;
}

/* --- the child --- */

static long parse_u64(const char *s, uint64_t *v)
{
	return str_to_u64(s, 10, v, NULL) ? ERR_INVAL : 0;
}

/* What page p of the mapping must hold: the pattern, or the disk's bytes. */
static long expected_page(struct blk *b, uint64_t obj, uint64_t page, uint8_t *out)
{
	static uint8_t tmp[BLK_BUF_BYTES];
	struct block_run runs[OBJ_RUNS_PER_PAGE];
	int n = object_runs(obj, page, runs);

	memset(out, 0, MSG_PAGE_SIZE);
	for (int j = 0; j < n; j++) {
		long err = blk_read(b, OBJ_PART(obj), runs[j].br_sector, runs[j].br_count, 0, 0, tmp);

		if (err)
			return err;
		memcpy(out + runs[j].br_offset, tmp, runs[j].br_count * BLOCK_SECTOR_SIZE);
	}
	return 0;
}

/* blktest child PORT OBJ OFFSET NPAGES SEED */
int pager_child(int argc, char **argv)
{
	static uint8_t want[MAX_PAGES * MSG_PAGE_SIZE], disk[MSG_PAGE_SIZE];
	uint64_t port, obj, offset, npages, seed;
	struct blk b;
	uint8_t *map;
	size_t len;
	int bad = 0;
	long ret;

	if (argc != 7 || parse_u64(argv[2], &port) || parse_u64(argv[3], &obj) ||
	    parse_u64(argv[4], &offset) || parse_u64(argv[5], &npages) || parse_u64(argv[6], &seed) ||
	    npages < 1 || npages > MAX_PAGES || blk_open(&b))
		return 2;
	len = npages * MSG_PAGE_SIZE;
	ret = sys_mem_map_pager((long)port, obj, (long)offset, (long)len,
				PROT_READ | (seed ? PROT_WRITE : 0));
	if (ret < 0) {
		printf("blktest: child: map: %s\n", err_str(ret));
		return 3;
	}
	map = (uint8_t *)ret;
	if (seed) {
		pattern_fill(want, len, (unsigned)seed);
		memcpy(map, want, len);	/* faults in, then dirties every page */
		ret = sys_vm_ctl(VM_CTL_SYNC, (long)len, map);	/* page-out through the pager */
		if (ret != (long)npages) {	/* => pages written back */
			printf("blktest: child: sync: %ld (%s)\n", ret, err_str(ret));
			return 4;
		}
	}
	for (uint64_t p = 0; p < npages; p++) {
		uint8_t *page = want + p * MSG_PAGE_SIZE;

		/* The fault first: a disk too slow to answer our own reads must
		 * still see the page-in (the giveup case). */
		(void)*(volatile uint8_t *)(map + p * MSG_PAGE_SIZE);
		if (!seed && expected_page(&b, obj, offset / MSG_PAGE_SIZE + p, page))
			return 5;
		/* The mapping (a fresh page-in after a sync) and ata's own view. */
		bad += memcmp(map + p * MSG_PAGE_SIZE, page, MSG_PAGE_SIZE) != 0;
		if (seed && (expected_page(&b, obj, offset / MSG_PAGE_SIZE + p, disk) ||
			     memcmp(disk, page, MSG_PAGE_SIZE)))
			bad++;
	}
	printf("blktest: child: %llu pages of object %#llx at %llu%s: fnv %#llx, %d bad\n",
	       (unsigned long long)npages, (unsigned long long)obj, (unsigned long long)offset,
	       seed ? " (written)" : "", (unsigned long long)fnv64(map, len), bad);
	return bad ? 1 : 0;
}

/* blktest stranger GRANT MODE PART SECTOR */
int pager_stranger(int argc, char **argv)
{
	uint64_t grant, mode, part, sector;
	struct blk b;
	long err;

	if (argc != 6 || parse_u64(argv[2], &grant) || parse_u64(argv[3], &mode) ||
	    parse_u64(argv[4], &part) || parse_u64(argv[5], &sector) || blk_open(&b))
		return 2;
	err = blk_grant(&b, BLOCK_READ, part, sector, BLOCK_SECTORS_PER_PAGE, (uint32_t)mode,
			grant, 0);
	return err < 0 ? (int)-err : 0;
}
