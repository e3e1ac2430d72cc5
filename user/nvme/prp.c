// SPDX-License-Identifier: MIT
/*
 * Physical Region Page entries (NVMe 1.4, 4.3), with the memory page size
 * 4 KiB (CC.MPS = 0).  A transfer names its pages in order: PRP1 the first,
 * with the byte offset into it; then PRP2 names the second page when the
 * transfer ends in it, or else points at a PRP list holding every page
 * after the first, each page aligned.  A list that fits in its own page
 * (our lists are 256-byte pieces of one page, and a request is at most 32
 * pages) needs no chaining.
 *
 * The pages are the area's: a grant's frames, each wherever the kernel
 * found it, or the driver's buffer.  Nothing here touches memory but the
 * list; the controller reads the list and the pages by DMA.
 */
#include "nvme.h"

int nvme_prp_build(const struct nvme_area *a, uint32_t offset, uint32_t len, uint64_t *prp1,
		   uint64_t *prp2, uint64_t *list, int list_max)
{
	uint32_t first = offset / NVME_PAGE, in = offset % NVME_PAGE;
	uint32_t last, pages;

	if (len == 0 || offset > (uint64_t)a->npages * NVME_PAGE ||
	    len > (uint64_t)a->npages * NVME_PAGE - offset)
		return ERR_RANGE;
	last = (offset + len - 1) / NVME_PAGE;
	pages = last - first + 1;
	for (uint32_t p = first; p <= last; p++)
		if (a->dev[p] & (NVME_PAGE - 1))
			return ERR_RANGE;
	*prp1 = a->dev[first] + in;
	*prp2 = 0;
	if (pages == 1)
		return 0;
	if (pages == 2) {
		*prp2 = a->dev[last];
		return 0;
	}
	if ((int)(pages - 1) > list_max)
		return ERR_NOMEM;
	for (uint32_t p = first + 1; p <= last; p++)
		list[p - first - 1] = a->dev[p];
	return (int)(pages - 1);
}
