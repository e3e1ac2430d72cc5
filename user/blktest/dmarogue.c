// SPDX-License-Identifier: MIT
/*
 * ata's rogue transfers against the IOMMU (blktest dmarogue:KINDS, and
 * dmalanded:KINDS for the negative controls; tests/cases/iommu.py).
 *
 * Each kind is one pager run over two pages of ext2's partition, one page
 * per request (cluster 1), DMA fill mode:
 *   1. the child touches page 0: an honest grant, filled by DMA, ended;
 *      the child hashes the page (the frame that grant lent);
 *   2. a thread of the child touches page 1; we forward its grant to ata
 *      with BLOCK_F_ROGUE_<KIND>: ata aims the read at its own page
 *      (stray), at page 0's ended grant's device address (ended), or past
 *      the window (beyond), and answers BLOCK_OK, and so do we;
 *   3. with an IOMMU the device faults; the kernel fails the request
 *      (ERR_DMAFAULT) and the thread dies with that reason;
 *   4. the child hashes page 0 again and says whether it changed and
 *      whether the thread died.
 * The kernel's side (the fault record naming device and address, the
 * failed request) is read from the log by the QEMU case; ata logs whether
 * its own page changed (stray).
 */
#include <fmt.h>
#include <proc.h>
#include <stdio.h>
#include <string.h>
#include <thread.h>

#include "blktest.h"

#define PART_EXT2	BLOCK_PART(0, 2)
#define ROGUE_PAGES	2
#define WAIT_NS		(10L * SEC_NS)
#define STACK_BYTES	8192

/* Child exit codes: what happened to page 0 and to the thread. */
enum { STOPPED = 0, LANDED = 1, UNNOTICED = 2, CHANGED_AND_KILLED = 3, BROKEN = 4 };

static volatile uint8_t *second_page;
static volatile int second_done;

static void touch_second(void *arg)
{
	(void)arg;
	(void)second_page[0];	/* the rogue request; the kernel may end us here */
	second_done = 1;
}

static int own_threads(void)
{
	struct proc_info me;

	return proc_find(proc_pid(), &me) ? -1 : (int)me.nthreads;
}

/* blktest roguechild PORT OBJ OFFSET NPAGES SEED */
int rogue_child(int argc, char **argv)
{
	static uint8_t stack[STACK_BYTES] __attribute__((aligned(16)));
	uint64_t port, obj, offset, h0, h1;
	long ret, start;
	uint8_t *map;

	if (argc != 7 || str_to_u64(argv[2], 10, &port, NULL) ||
	    str_to_u64(argv[3], 10, &obj, NULL) || str_to_u64(argv[4], 10, &offset, NULL))
		return BROKEN;
	ret = sys_mem_map_pager((long)port, obj, (long)offset, ROGUE_PAGES * MSG_PAGE_SIZE,
				PROT_READ);
	if (ret < 0)
		return BROKEN;
	map = (uint8_t *)ret;
	h0 = fnv64(map, MSG_PAGE_SIZE);	/* page 0 faults in, honestly */
	second_page = map + MSG_PAGE_SIZE;
	if (thread_start(touch_second, NULL, stack, sizeof(stack)) < 0)
		return BROKEN;
	for (start = sys_clock_ns(); own_threads() > 1 && sys_clock_ns() - start < WAIT_NS;)
		sys_sleep(10 * MSEC_NS);
	h1 = fnv64(map, MSG_PAGE_SIZE);
	printf("blktest: roguechild: page 0 fnv %#llx -> %#llx (%s), page 1 %s\n",
	       (unsigned long long)h0, (unsigned long long)h1, h0 == h1 ? "unchanged" : "CHANGED",
	       second_done ? "read (no fault noticed)" : "not read: its thread was killed");
	if (h0 == h1)
		return second_done ? UNNOTICED : STOPPED;
	return second_done ? LANDED : CHANGED_AND_KILLED;
}

/*
 * blktest touchchild PORT OBJ OFFSET NPAGES SEED: fills the throttle
 * bucket of OBJ's disk with one large read, then one page-in right after
 * it, so the page-in's transfer waits on the throttle however long this
 * process took to start (the host may be busy).
 */
int touch_child(int argc, char **argv)
{
	static uint8_t buf[BLK_BUF_BYTES];
	uint64_t port, obj, offset;
	struct blk b;
	long ret;

	if (argc != 7 || str_to_u64(argv[2], 10, &port, NULL) ||
	    str_to_u64(argv[3], 10, &obj, NULL) || str_to_u64(argv[4], 10, &offset, NULL) ||
	    blk_open(&b))
		return BROKEN;
	ret = sys_mem_map_pager((long)port, obj, (long)offset, MSG_PAGE_SIZE, PROT_READ);
	if (ret < 0 || blk_read(&b, OBJ_PART(obj), 0, BLOCK_MAX_SECTORS, 0, 0, buf))
		return BROKEN;
	return *(volatile uint8_t *)ret & 0;	/* the page-in; the kernel may end us here */
}

static const struct {
	const char *name;
	uint32_t flag;
} kinds_known[] = {
	{ "stray", BLOCK_F_ROGUE_STRAY },
	{ "ended", BLOCK_F_ROGUE_ENDED },
	{ "beyond", BLOCK_F_ROGUE_BEYOND },
};

static void one_kind(struct blk *b, const char *name, uint32_t flag, bool expect_landed)
{
	struct pager_way way = { .name = name, .fill = FILL_GRANT_DMA, .child = "roguechild",
				 .rogue = flag, .rogue_page = 1 };
	char test[48];

	pager_run(b, &way, PART_EXT2, 0, ROGUE_PAGES, 0);	/* judged by the child's status */
	snprintf(test, sizeof(test), "dma_rogue_%s", name);
	if (!expect_landed) {
		check(test, pager_child_status == STOPPED,
		      "child status %ld (want %d: page 0 unchanged, the rogue request failed)",
		      pager_child_status, STOPPED);
		return;
	}
	/* A stray transfer lands in ata's page, not the child's: the child sees
	 * an unfilled page 1 and an unchanged page 0. */
	check(test, pager_child_status == (flag == BLOCK_F_ROGUE_ENDED ? LANDED : UNNOTICED),
	      "child status %ld (want the transfer to land unnoticed)", pager_child_status);
}

void cases_dma_rogue(struct blk *b, const char *kinds, bool expect_landed)
{
	long cluster = 8;	/* the kernel's default; there is no getter */

	char list[64], *name, *comma;

	check("dma_rogue_cluster", sys_vm_ctl(VM_CTL_CLUSTER, 1, NULL) == 0, "cluster 1 refused");
	strlcpy(list, kinds, sizeof(list));
	for (name = list; name; name = comma) {
		size_t i = 0;

		comma = strchr(name, ',');
		if (comma)
			*comma++ = '\0';
		while (i < sizeof(kinds_known) / sizeof(kinds_known[0]) &&
		       strcmp(name, kinds_known[i].name))
			i++;
		if (i == sizeof(kinds_known) / sizeof(kinds_known[0]))
			check("dma_rogue_kind", false, "unknown kind '%s'", name);
		else
			one_kind(b, name, kinds_known[i].flag, expect_landed);
	}
	sys_vm_ctl(VM_CTL_CLUSTER, cluster, NULL);
}

/*
 * A slow disk (tests/cases/iommu.py throttles disk 1) and a short
 * overtime: the kernel fails the child's DMA page-in while ata's transfer
 * is still on its way; the transfer lands later, into frames the kernel
 * took back.  Without an IOMMU they are quarantined for good; with one
 * they wait, parked, for ata's next "quiet" (VM_CTL_DMA_QUIET); either way
 * the transfer must not land in a frame someone else has (kdb check
 * watches the frames freed: pmm_free_watched).
 */
void cases_slow_dma(struct blk *b)
{
	static uint8_t buf[BLK_BUF_BYTES];
	struct pager_way way = { .name = "slow", .fill = FILL_GRANT_DMA, .child = "touchchild" };
	long err;

	check("slow_dma_cluster", sys_vm_ctl(VM_CTL_CLUSTER, 1, NULL) == 0, "cluster 1 refused");
	pager_run(b, &way, BLOCK_PART(1, 0), 64 * BLOCK_SECTOR_SIZE, 1, 0);
	sys_vm_ctl(VM_CTL_CLUSTER, 8, NULL);
	check("slow_dma_child_killed", pager_child_status == PROC_STATUS_FAULT,
	      "child status %ld, want %d (killed: its page-in overran its overtime)",
	      pager_child_status, PROC_STATUS_FAULT);
	/* ata is quiet again once it has answered something after the transfer. */
	err = blk_read(b, BLOCK_PART(1, 0), 0, BLOCK_SECTORS_PER_PAGE, 0, 0, buf);
	check("slow_dma_disk_answers", err == 0, "%s", err_str(err));
}
