// SPDX-License-Identifier: MIT
/*
 * ata's rogue mode, for the IOMMU's tests only (module argument `rogue`,
 * flags BLOCK_F_ROGUE_* in <proto/block.h>).  It does what a compromised
 * driver would: keep a transfer's sectors but aim the bus master somewhere
 * the kernel did not lend.  With an IOMMU the device faults, the kernel
 * records it and fails the request; without one (the `pc` machine) the
 * bytes land, which is why DMA rights are trust there.  The STRAY target
 * is a page of ata's own: on a machine without an IOMMU the test then
 * overwrites nothing but ata.
 */
#include <ferry/sys.h>
#include <string.h>

#include "ata.h"

#define VICTIM_BYTE	0xA5

static uint8_t *victim;
static uint64_t victim_frame;

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

long ata_rogue_init(void)
{
	long va = sys_mem_map(NULL, ATA_PAGE, PROT_READ | PROT_WRITE), pa;

	if (va < 0)
		return va;
	victim = (uint8_t *)va;
	memset(victim, VICTIM_BYTE, ATA_PAGE);	/* ata is pinned: resident from now on */
	pa = sys_vm_ctl(VM_CTL_FRAME, 0, victim);
	if (pa < 0)
		return pa;
	victim_frame = (uint64_t)pa;
	ata_log("rogue mode: requests with BLOCK_F_ROGUE_* aim their DMA astray (test boots only);"
		" stray target: frame %#llx, ata's own", (unsigned long long)victim_frame);
	return 0;
}

long ata_rogue_transfer(struct ata_disk *d, const struct ata_req *rq, const struct grant_info *gi,
			uint32_t kind, uint64_t last_dev)
{
	uint64_t target, before = victim ? fnv(victim, ATA_PAGE) : 0;
	struct ata_area area = { .npages = 1, .phys = &target };
	struct ata_req one = { .pio = false, .lba48 = rq->lba48, .runs.nruns = 1 };
	const char *what;
	long err;

	if (kind == BLOCK_F_ROGUE_STRAY && victim) {
		target = victim_frame;
		what = "a page of ata's own, never lent";
	} else if (kind == BLOCK_F_ROGUE_ENDED && last_dev) {
		target = last_dev;
		what = "the device address of a grant that has ended";
	} else if (kind == BLOCK_F_ROGUE_BEYOND && gi->npages) {
		target = gi->phys[gi->npages - 1] + ATA_PAGE;
		what = "the page past the end of its window";
	} else {
		return ERR_INVAL;
	}
	one.runs.run[0] = rq->runs.run[0];
	one.runs.run[0].offset = 0;
	if (one.runs.run[0].count > ATA_PAGE / ATA_SECTOR)
		one.runs.run[0].count = ATA_PAGE / ATA_SECTOR;
	one.runs.sectors = one.runs.run[0].count;
	ata_log("rogue: reading %u sectors at %llu to %#llx: %s", one.runs.sectors,
		(unsigned long long)one.runs.run[0].lba, (unsigned long long)target, what);
	err = ata_req_exec(d, &one, &area);
	if (kind == BLOCK_F_ROGUE_STRAY)
		ata_log("rogue: own page fnv %#llx -> %#llx: %s", (unsigned long long)before,
			(unsigned long long)fnv(victim, ATA_PAGE),
			fnv(victim, ATA_PAGE) == before ? "unchanged" : "CHANGED");
	if (err)
		ata_log("rogue: the transfer failed: %s", err_str(err));
	return 0;
}
