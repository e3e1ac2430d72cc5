// SPDX-License-Identifier: MIT
#include "frame_table.h"

static const char *const use_names[FRAME_NUSES] = {
	[FRAME_FREE] = "free",		[FRAME_RESERVED] = "reserved",
	[FRAME_KERNEL] = "kernel",	[FRAME_MODULE] = "module",
	[FRAME_PAGETABLE] = "pagetable", [FRAME_HEAP] = "heap",
	[FRAME_STACK] = "stack",	[FRAME_USER] = "user",
	[FRAME_DMA] = "dma",		[FRAME_GRANT] = "grant",
	[FRAME_ZEROED] = "zeroed",	[FRAME_QUARANTINE] = "quarantine",
	[FRAME_OBJECT] = "object",
};

const char *frame_use_name(enum frame_use use)
{
	return use < FRAME_NUSES ? use_names[use] : "?";
}

void frame_table_init(struct frame_table *ft, struct frame *frames, size_t nframes)
{
	ft->frames = frames;
	ft->nframes = nframes;
	for (size_t i = 0; i < nframes; i++)
		frames[i] = (struct frame){ .use = FRAME_RESERVED };
	for (int u = 0; u < FRAME_NUSES; u++)
		ft->count[u] = 0;
	ft->count[FRAME_RESERVED] = nframes;
	ft->hint = 0;
}

static void set_use(struct frame_table *ft, size_t pfn, enum frame_use use)
{
	ft->count[ft->frames[pfn].use]--;
	ft->count[use]++;
	ft->frames[pfn] = (struct frame){ .use = (uint8_t)use };
	if (use == FRAME_FREE && pfn < ft->hint)
		ft->hint = pfn;
}

void frame_table_set(struct frame_table *ft, size_t first, size_t n, enum frame_use use)
{
	for (size_t pfn = first; pfn < first + n && pfn < ft->nframes; pfn++)
		set_use(ft, pfn, use);
}

long frame_table_alloc(struct frame_table *ft, enum frame_use use)
{
	for (size_t pfn = ft->hint; pfn < ft->nframes; pfn++) {
		if (ft->frames[pfn].use == FRAME_FREE) {
			set_use(ft, pfn, use);
			ft->hint = pfn + 1;
			return (long)pfn;
		}
	}
	ft->hint = ft->nframes;
	return -1;
}

static int run_is_free(const struct frame_table *ft, size_t first, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ft->frames[first + i].use != FRAME_FREE)
			return 0;
	return 1;
}

long frame_table_alloc_contig(struct frame_table *ft, size_t n, size_t align,
			      size_t max_frame, enum frame_use use)
{
	size_t limit = max_frame < ft->nframes ? max_frame : ft->nframes;

	if (n == 0 || align == 0 || (align & (align - 1)))
		return -1;
	for (size_t first = (ft->hint + align - 1) & ~(align - 1); first + n <= limit;
	     first += align) {
		if (run_is_free(ft, first, n)) {
			for (size_t i = 0; i < n; i++)
				set_use(ft, first + i, use);
			return (long)first;
		}
	}
	return -1;
}

int frame_table_free(struct frame_table *ft, size_t pfn)
{
	enum frame_use use;

	if (pfn >= ft->nframes)
		return -1;
	use = ft->frames[pfn].use;
	if (use == FRAME_FREE || use == FRAME_RESERVED)
		return -1;
	set_use(ft, pfn, FRAME_FREE);
	return 0;
}

int frame_table_change_use(struct frame_table *ft, size_t pfn, enum frame_use from,
			   enum frame_use to)
{
	if (pfn >= ft->nframes || ft->frames[pfn].use != from)
		return -1;
	set_use(ft, pfn, to);
	return 0;
}
