// SPDX-License-Identifier: MIT
/*
 * The RAM store: slot s at store + s * 4 KiB, in swapd's own memory, which
 * the `pin` right keeps resident.  No disk: the benchmark boots with it to
 * tell the kernel's cost from the disk's (`swapd ram PAGES`).
 *
 * It serves copy and grant-map.  A RAM store is filled by the CPU, so it
 * cannot take a DMA grant (no mapping); the kernel downgrades a DMA fault
 * path to grant-map for it.
 */
#include <ferry/sys.h>
#include <proto/swapd.h>
#include <string.h>

#include "swapd.h"

struct ram_store {
	struct store st;
	uint8_t *mem;
};

static uint8_t *slot_addr(const struct ram_store *rs, uint64_t slot)
{
	return rs->mem + slot * SWAP_PAGE;
}

static long ram_page_in(struct store *st, const struct pager_request *rq, int n,
			const void **pages)
{
	struct ram_store *rs = (struct ram_store *)st;

	switch (rq->mode) {
	case FILL_COPY:
		*pages = slot_addr(rs, rq->key);	/* the answer's pages come from here */
		return 0;
	case FILL_GRANT_MAP:
		memcpy(rq->window, slot_addr(rs, rq->key), (size_t)n * SWAP_PAGE);
		return 0;
	default:
		return ERR_IO;	/* never asked: not registered */
	}
}

static long ram_page_out(struct store *st, const struct pager_request *rq)
{
	struct ram_store *rs = (struct ram_store *)st;
	size_t len = (size_t)rq->npages * SWAP_PAGE;

	switch (rq->mode) {
	case FILL_COPY:
		memcpy(slot_addr(rs, rq->key), rq->data, len);
		return 0;
	case FILL_GRANT_MAP:
		memcpy(slot_addr(rs, rq->key), rq->window, len);
		return 0;
	default:
		return ERR_IO;
	}
}

long ram_store_open(struct store **out, uint64_t npages)
{
	static struct ram_store rs;
	long va = sys_mem_map(NULL, (long)(npages * SWAP_PAGE), PROT_READ | PROT_WRITE);

	if (va < 0)
		return va;
	rs = (struct ram_store){
		.st = { .name = "RAM", .kind = SWAPD_STORE_RAM, .nslots = npages,
			.modes = FILL_MODE_BIT(FILL_COPY) | FILL_MODE_BIT(FILL_GRANT_MAP),
			.page_in = ram_page_in, .page_out = ram_page_out },
		.mem = (uint8_t *)va,
	};
	strlcpy(rs.st.area.sa_where, "RAM", sizeof(rs.st.area.sa_where));
	*out = &rs.st;
	return 0;
}
