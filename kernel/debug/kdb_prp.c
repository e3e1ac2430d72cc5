// SPDX-License-Identifier: MIT
/*
 * kdb: the PRP view of a grant.  A driver that fills grants by NVMe
 * commands names its submission ring once (VM_CTL_DMA_RING); `grant ID`
 * then reads the ring as the controller does and lists the commands whose
 * PRP1, PRP2 or PRP list entries name the grant's frames, page by page: a
 * device address that is not one of the grant's frames is called out.
 * Without an IOMMU a device address is the frame's physical address; with
 * one it is an address in the holder's domain: the grant's window (its
 * pages in order from grant_view.iova) or, for a PRP list, the holder's
 * DMA memory, translated through the domain's page table.
 *
 * The ring keeps a command after it completed until the ring wraps, so the
 * commands that filled a grant stay visible after its take-back; an entry
 * whose frames were lent again since names them again, and shows as a
 * second command (its command id and LBA tell them apart).
 */
#include <string.h>

#include "../grant/grant.h"
#include "../iommu/iommu.h"
#include "../proc/proc.h"
#include "kdb.h"
#include "kdb_cmd.h"

#define NVME_READ	0x02
#define NVME_WRITE	0x01
#define PRP_MAX		32	/* a request's pages: GRANT_MAX_PAGES */

/* The fields of an NVMe submission entry the view reads (NVMe 1.4, 4.2). */
struct sqe {
	uint8_t opcode, flags;
	uint16_t cid;
	uint32_t nsid;
	uint64_t rsvd, mptr, prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

_Static_assert(sizeof(struct sqe) == 64, "NVMe submission entry");

/* Which page of the grant a device address names, or -1. */
static int grant_page(const struct grant_view *v, uint64_t dev)
{
	if (v->iova)	/* in the holder's domain: the window, pages in order */
		return dev >= v->iova && dev < v->iova + (uint64_t)v->npages * PAGE_SIZE
			       ? (int)((dev - v->iova) / PAGE_SIZE) : -1;
	for (int i = 0; i < v->npages; i++)
		if (PAGE_ALIGN_DOWN(dev) == v->frames[i])
			return i;
	return -1;
}

struct find {
	int domain;
	uint64_t iova;
	paddr_t frame;
};

static void find_entry(int domain, const struct iommu_map_view *m, void *ctx)
{
	struct find *f = ctx;

	if (domain == f->domain && m->iova == f->iova)
		f->frame = m->frame;
}

/* The frame holder h's device reaches at dev: dev itself without an IOMMU,
 * else what h's domain maps there.  => 0 when nothing is. */
static paddr_t device_frame(const struct proc *h, uint64_t dev)
{
	struct iommu_domain_view d;
	struct find f = { .domain = -1, .iova = PAGE_ALIGN_DOWN(dev) };

	if (!iommu_translating())
		return PAGE_ALIGN_DOWN(dev);
	for (int i = 0; iommu_domain_view(i, &d); i++)
		if (d.pid == h->pid)
			f.domain = d.id;
	if (f.domain >= 0)
		iommu_walk(find_entry, &f);
	return f.frame;
}

/* The pages the command names, in order: => how many (PRP list read from
 * the holder's DMA memory), or -1 if the list is not there. */
static int command_pages(struct proc *h, const struct sqe *e, uint64_t *page, uint64_t *list_at)
{
	uint32_t len = ((e->cdw12 & 0xFFFF) + 1) * 512;
	uint32_t first = (uint32_t)(PAGE_SIZE - (e->prp1 & ~PAGE_MASK));
	int n = 0;

	*list_at = 0;
	page[n++] = e->prp1;
	if (len <= first)
		return n;
	len -= first;
	if (len <= PAGE_SIZE) {
		page[n++] = e->prp2;
		return n;
	}
	*list_at = e->prp2;
	for (uint32_t i = 0; len && n < PRP_MAX; i++, n++) {
		uint64_t at = e->prp2 + 8 * i;
		paddr_t frame = device_frame(h, at);

		if (!frame || vm_dma_read(&h->vm, frame + (at & ~PAGE_MASK), &page[n], 8))
			return -1;
		len -= len < PAGE_SIZE ? len : (uint32_t)PAGE_SIZE;
	}
	return n;
}

static void print_command(const struct grant_view *v, uint32_t slot, const struct sqe *e,
			  const uint64_t *page, int n, uint64_t list_at)
{
	kdb_printf("  sq slot %u cid %#06x %s nsid %u lba %lu+%u:", slot, e->cid,
		   e->opcode == NVME_WRITE ? "write" : "read", e->nsid,
		   (unsigned long)(e->cdw10 | (uint64_t)e->cdw11 << 32), (e->cdw12 & 0xFFFF) + 1);
	for (int k = 0; k < n; k++) {
		int g = grant_page(v, page[k]);
		const char *name = k == 0 ? "PRP1" : (list_at ? "list" : "PRP2");

		if (k == 1 && list_at)
			kdb_printf("\n    PRP2 %#lx: a PRP list in the holder's DMA memory",
				   (unsigned long)list_at);
		if (g >= 0)
			kdb_printf("\n    %s %#lx -> page %d (frame %#lx)", name,
				   (unsigned long)page[k], g, (unsigned long)v->frames[g]);
		else
			kdb_printf("\n    %s %#lx -> NOT A FRAME OF THIS GRANT", name,
				   (unsigned long)page[k]);
	}
	kdb_printf("\n");
}

void kdb_prp_view(const struct grant_view *v)
{
	struct proc *h = proc_lookup(v->holder_pid);
	uint64_t page[PRP_MAX], list_at;
	int shown = 0;

	if (!h || !h->vm.dma_ring)
		return;
	kdb_printf("prp view: commands in pid %lu's submission ring naming this grant%s\n",
		   (unsigned long)h->pid, v->live ? "" : " (grant ended: its frames may be lent again)");
	for (uint32_t s = 0; s < h->vm.dma_ring_entries; s++) {
		struct sqe e;
		int n;

		if (vm_copy_out(&h->vm, h->vm.dma_ring + (uint64_t)s * sizeof(e), &e, sizeof(e)) ||
		    (e.opcode != NVME_READ && e.opcode != NVME_WRITE))
			continue;
		n = command_pages(h, &e, page, &list_at);
		if (n < 0)
			continue;
		for (int k = 0; k < n; k++) {
			if (grant_page(v, page[k]) >= 0) {
				print_command(v, s, &e, page, n, list_at);
				shown++;
				break;
			}
		}
	}
	kdb_printf("  %d command%s\n", shown, shown == 1 ? "" : "s");
}
