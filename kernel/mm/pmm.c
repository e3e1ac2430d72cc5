// SPDX-License-Identifier: MIT
/*
 * Boot-time placement of the frame table, and the locked front end to it.
 *
 * Order at boot matters: everything the loader left in RAM (kernel image,
 * modules, the multiboot2 info itself, which GRUB may put inside gaps of the
 * kernel's own pages) is marked in use before the first allocation, and
 * the table is placed in the first usable run that avoids all of it.  The
 * first MiB stays reserved: BIOS data, and real-mode leftovers.
 */
#include "pmm.h"

#include <string.h>

#include "../log.h"
#include "../panic.h"

#define LOW_RESERVED	0x100000UL
#define EARLY_MAP_LIMIT	(1UL << 30)	/* the boot tables map 1 GiB */

static struct frame_table table;

struct busy_range {
	paddr_t start, end;
};

static int collect_busy(const struct boot_info *bi, paddr_t kstart, paddr_t kend,
			struct busy_range *r)
{
	int n = 0;

	r[n++] = (struct busy_range){ 0, LOW_RESERVED };
	r[n++] = (struct busy_range){ kstart, kend };
	r[n++] = (struct busy_range){ bi->info_start, bi->info_end };
	for (int i = 0; i < bi->nmodules; i++)
		r[n++] = (struct busy_range){ bi->module[i].start, bi->module[i].end };
	return n;
}

static bool overlaps_busy(paddr_t s, paddr_t e, const struct busy_range *r, int n,
			  paddr_t *skip_to)
{
	for (int i = 0; i < n; i++) {
		if (s < r[i].end && r[i].start < e) {
			*skip_to = PAGE_ALIGN_UP(r[i].end);
			return true;
		}
	}
	return false;
}

/* First page-aligned run of `bytes` inside usable RAM and outside `busy`. */
static paddr_t place_table(const struct boot_info *bi, size_t bytes,
			   const struct busy_range *busy, int nbusy)
{
	for (int i = 0; i < bi->nregions; i++) {
		const struct boot_region *reg = &bi->region[i];
		paddr_t s = PAGE_ALIGN_UP(reg->base), end = reg->base + reg->len, skip;

		if (reg->type != BOOT_MEM_USABLE)
			continue;
		while (s + bytes <= end && s + bytes <= EARLY_MAP_LIMIT) {
			if (!overlaps_busy(s, s + bytes, busy, nbusy, &skip))
				return s;
			s = skip;
		}
	}
	panic("pmm_init: no room for a %zu-byte frame table", bytes);
}

static void mark_range(paddr_t start, paddr_t end, enum frame_use use)
{
	paddr_t first = PAGE_ALIGN_DOWN(start) >> PAGE_SHIFT;
	paddr_t last = PAGE_ALIGN_UP(end) >> PAGE_SHIFT;

	if (end > start)
		frame_table_set(&table, first, last - first, use);
}

void pmm_init(const struct boot_info *bi, paddr_t kstart, paddr_t kend)
{
	struct busy_range busy[BOOT_MAX_MODULES + 3];
	int nbusy = collect_busy(bi, kstart, kend, busy);
	size_t nframes = boot_ram_top(bi) >> PAGE_SHIFT;
	size_t bytes = PAGE_ALIGN_UP(nframes * sizeof(struct frame));
	paddr_t at = place_table(bi, bytes, busy, nbusy);

	frame_table_init(&table, phys_to_virt(at), nframes);
	/* Usable space is only what every overlapping report calls usable. */
	for (int i = 0; i < bi->nregions; i++) {
		const struct boot_region *reg = &bi->region[i];

		if (reg->type == BOOT_MEM_USABLE) {
			paddr_t first = PAGE_ALIGN_UP(reg->base) >> PAGE_SHIFT;
			paddr_t last = PAGE_ALIGN_DOWN(reg->base + reg->len) >> PAGE_SHIFT;

			if (last > first)
				frame_table_set(&table, first, last - first, FRAME_FREE);
		}
	}
	for (int i = 0; i < bi->nregions; i++)
		if (bi->region[i].type != BOOT_MEM_USABLE)
			mark_range(bi->region[i].base, bi->region[i].base + bi->region[i].len,
				   FRAME_RESERVED);
	mark_range(0, LOW_RESERVED, FRAME_RESERVED);
	mark_range(kstart, kend, FRAME_KERNEL);
	mark_range(bi->info_start, bi->info_end, FRAME_KERNEL);
	for (int i = 0; i < bi->nmodules; i++)
		mark_range(bi->module[i].start, bi->module[i].end, FRAME_MODULE);
	mark_range(at, at + bytes, FRAME_KERNEL);
	log_info("pmm: %zu frames, %zu free (%zu KiB), table at %#lx", nframes,
		 table.count[FRAME_FREE], table.count[FRAME_FREE] * 4, (unsigned long)at);
}

#define WATCHED		0x20	/* struct frame.flags: poisoned and watched (pmm_free_watched) */
#define POISON		0xDEAD0FF1CEDEAD00ULL

static uint64_t late_writes;

bool pmm_watched_intact(paddr_t pa)
{
	const uint64_t *w = phys_to_virt(pa);

	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i] != POISON)
			return false;
	return true;
}

/* A watched frame leaves the free pool: it must still hold its poison. */
static void check_watched(paddr_t pa)
{
	struct frame *f = pmm_frame(pa);

	if (!(f->flags & WATCHED))
		return;
	f->flags &= (uint8_t)~WATCHED;
	if (!pmm_watched_intact(pa)) {
		late_writes++;
		log_err("frame %#lx was written after it was freed: a DMA transfer landed late",
			(unsigned long)pa);
	}
}

paddr_t pmm_alloc(enum frame_use use)
{
	unsigned long irq = arch_irq_save();
	long pfn = frame_table_alloc(&table, use);

	arch_irq_restore(irq);
	if (pfn >= 0)
		check_watched((paddr_t)pfn << PAGE_SHIFT);
	return pfn < 0 ? 0 : (paddr_t)pfn << PAGE_SHIFT;
}

void pmm_watch(paddr_t pa)
{
	uint64_t *w = phys_to_virt(pa);

	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		w[i] = POISON;
	pmm_frame(pa)->flags |= WATCHED;
}

void pmm_free_watched(paddr_t pa)
{
	pmm_watch(pa);
	pmm_free(pa);
	pmm_frame(pa)->flags |= WATCHED;
}

bool pmm_is_watched(paddr_t pa)
{
	struct frame *f = pmm_frame(pa);

	return f && (f->flags & WATCHED);
}

uint64_t pmm_late_writes(void)
{
	return late_writes;
}

paddr_t pmm_alloc_zeroed(enum frame_use use)
{
	paddr_t pa = pmm_alloc(use);

	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

paddr_t pmm_alloc_contig(size_t nframes, enum frame_use use, paddr_t below)
{
	unsigned long irq = arch_irq_save();
	long pfn = frame_table_alloc_contig(&table, nframes, 1, below >> PAGE_SHIFT, use);

	arch_irq_restore(irq);
	for (size_t i = 0; pfn >= 0 && i < nframes; i++)
		check_watched(((paddr_t)pfn + i) << PAGE_SHIFT);
	return pfn < 0 ? 0 : (paddr_t)pfn << PAGE_SHIFT;
}

void pmm_free(paddr_t pa)
{
	unsigned long irq = arch_irq_save();

	if (pa & ~PAGE_MASK || frame_table_free(&table, pa >> PAGE_SHIFT))
		panic("pmm_free: frame %#lx is not allocated", (unsigned long)pa);
	arch_irq_restore(irq);
}

void pmm_free_contig(paddr_t pa, size_t nframes)
{
	for (size_t i = 0; i < nframes; i++)
		pmm_free(pa + i * PAGE_SIZE);
}

void pmm_quarantine(paddr_t pa)
{
	struct frame *f = pmm_frame(pa);

	if (!f || f->use == FRAME_FREE)
		panic("pmm_quarantine: frame %#lx is not allocated", (unsigned long)pa);
	frame_table_change_use(&table, pa >> PAGE_SHIFT, (enum frame_use)f->use, FRAME_QUARANTINE);
	log_warn("frame %#lx quarantined: a DMA transfer into it may still be under way",
		 (unsigned long)pa);
}

void pmm_set_use(paddr_t pa, enum frame_use from, enum frame_use to)
{
	if (frame_table_change_use(&table, pa >> PAGE_SHIFT, from, to))
		panic("pmm_set_use: frame %#lx is %s, not %s", (unsigned long)pa,
		      frame_use_name(pmm_frame(pa) ? pmm_frame(pa)->use : FRAME_RESERVED),
		      frame_use_name(from));
}

struct frame *pmm_frame(paddr_t pa)
{
	size_t pfn = pa >> PAGE_SHIFT;

	return pfn < table.nframes ? &table.frames[pfn] : NULL;
}

void pmm_get_stats(struct pmm_stats *out)
{
	unsigned long irq = arch_irq_save();

	out->total = table.nframes;
	memcpy(out->count, table.count, sizeof(out->count));
	arch_irq_restore(irq);
}

size_t pmm_free_frames(void)
{
	return table.count[FRAME_FREE];
}
