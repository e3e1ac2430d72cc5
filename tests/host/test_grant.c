/* SPDX-License-Identifier: MIT */
/*
 * kernel/grant/grant.c on the host, against fakes of what it calls: the
 * holders' grant windows (a leaf table each), the frame table's uses, the
 * shootdown batches (which pages, of which space, flushed when) and the
 * trace events.  The grant table's rules: a lent frame is mapped only in
 * its holder's window; every page of a take-back leaves in one batch, the
 * PTEs already cleared when it is flushed; DMA grants map nothing and so
 * shoot nothing down; forwarding takes the old holder's access first; a
 * dead holder's grant goes back to its forwarder or is revoked; ids are
 * index + generation, so a stale or forged one names nothing.  With an
 * IOMMU (faked: the dma-right holder has a device domain) a grant's
 * device mapping goes when the grant leaves its holder, and a device
 * fault at its window fails it (ERR_DMAFAULT).
 */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdarg.h>
#include <stdlib.h>

#include "../../kernel/grant/grant.c"

/* --- the fakes --- */

#define PROCS		4
#define FRAMES		256
#define EVENTS		64

static struct program_config cfg_plain, cfg_dma = { .rights = RIGHT_DMA };
static struct proc procs[PROCS];
static pte_t windows[PROCS][512];
static uint8_t frame_use[FRAMES];	/* enum frame_use, by frame number */
static uint64_t now_ns;

struct flush {
	int pages;
	struct vm_space *vs[GRANT_MAX_PAGES];
	vaddr_t va[GRANT_MAX_PAGES];
	bool ptes_clear;		/* every page's PTE was 0 when flushed */
};

static struct flush flushes[16];
static int nflushes;
static struct trace_event events[EVENTS];
static int nevents;

uint64_t clock_ns(void)
{
	return now_ns;
}

bool kernel_lock_held(void)
{
	return true;	/* the host test is one thread: it "holds" it */
}

void klog(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

void pmm_set_use(paddr_t pa, enum frame_use from, enum frame_use to)
{
	size_t f = pa >> PAGE_SHIFT;

	if (f >= FRAMES || frame_use[f] != from)
		panic("pmm_set_use: frame %#lx is %u, not %u", (unsigned long)pa, frame_use[f], from);
	frame_use[f] = (uint8_t)to;
}

pte_t arch_pte_make(paddr_t pa, unsigned vm_flags)
{
	return pa | 1 | ((vm_flags & VM_WRITE) ? 2 : 0) | ((vm_flags & VM_USER) ? 4 : 0);
}

pte_t arch_pte_exchange(pte_t *p, pte_t v)
{
	pte_t old = *p;

	*p = v;
	return old;
}

int vm_grant_window(struct vm_space *vs)
{
	vs->window_ptes = windows[(struct proc *)((char *)vs - offsetof(struct proc, vm)) - procs];
	return 0;
}

void tlb_batch_init(struct tlb_batch *b, int mode)
{
	b->mode = mode;
	b->n = 0;
	b->pages = 0;
	b->all = false;
}

void tlb_batch_add(struct tlb_batch *b, struct vm_space *vs, vaddr_t va)
{
	HCHECK(b->n < TLB_BATCH_MAX);
	b->vs[b->n] = vs;
	b->va[b->n++] = va;
	b->pages++;
}

/* The PTE of a window address, in the fake holder's table. */
static pte_t window_entry(struct vm_space *vs, vaddr_t va)
{
	return vs->window_ptes[(va - GRANT_WINDOW_BASE) >> PAGE_SHIFT];
}

void tlb_batch_flush(struct tlb_batch *b)
{
	struct flush *f = &flushes[nflushes++];

	f->pages = b->n;
	f->ptes_clear = true;
	for (int i = 0; i < b->n; i++) {
		f->vs[i] = b->vs[i];
		f->va[i] = b->va[i];
		f->ptes_clear &= window_entry(b->vs[i], b->va[i]) == 0;
	}
	b->n = 0;
}

bool proc_has_right(const struct proc *p, uint32_t right)
{
	return p && (p->config->rights & right) == right;
}

struct proc *proc_lookup(uint64_t pid)
{
	for (int i = 0; i < PROCS; i++)
		if (procs[i].pid == pid && procs[i].phase != PROC_FREE)
			return &procs[i];
	return NULL;
}

/* The IOMMU: off unless a case turns it on; then the dma-right holder has a domain. */
static bool iommu_on, iommu_fault_next;
static int iommu_maps, iommu_unmaps;
static bool iommu_unmap_busy;
static uint64_t iommu_mapped_grant;

bool iommu_translating(void)
{
	return iommu_on;
}

uint64_t iommu_grant_map(const struct proc *holder, uint64_t grant, const paddr_t *fr,
			 int npages, bool device_writes, int *domain)
{
	(void)fr;
	(void)npages;
	(void)device_writes;
	if (!iommu_on || !proc_has_right(holder, RIGHT_DMA))
		return 0;
	iommu_maps++;
	iommu_mapped_grant = grant;
	*domain = 1;
	return 0x40000000;
}

bool iommu_grant_unmap(uint64_t grant, bool busy)
{
	HCHECK_EQ(grant, iommu_mapped_grant);
	iommu_unmaps++;
	iommu_unmap_busy = busy;
	return iommu_fault_next;
}

void iommu_grant_settled(struct proc *p, uint64_t grant)
{
	(void)p;
	(void)grant;
}

void trace_emit(const struct trace_event *ev)
{
	if (nevents < EVENTS)
		events[nevents++] = *ev;
}

/* --- helpers --- */

static paddr_t frames[GRANT_MAX_PAGES];

static void reset(void)
{
	memset(grants, 0, sizeof(grants));
	memset(history, 0, sizeof(history));
	history_next = 0;
	live_grants = 0;
	grant_init();
	memset(procs, 0, sizeof(procs));
	memset(windows, 0, sizeof(windows));
	for (int i = 0; i < PROCS; i++) {
		procs[i].pid = 0x1000 + (uint64_t)i;
		procs[i].phase = PROC_LIVE;
		procs[i].config = i == 2 ? &cfg_dma : &cfg_plain;	/* 2: "ata" */
		snprintf(procs[i].name, sizeof(procs[i].name), "p%d", i);
	}
	for (int f = 0; f < FRAMES; f++)
		frame_use[f] = FRAME_USER;
	for (int i = 0; i < GRANT_MAX_PAGES; i++)
		frames[i] = (paddr_t)(16 + i) << PAGE_SHIFT;
	nflushes = 0;
	nevents = 0;
	iommu_on = iommu_fault_next = iommu_unmap_busy = false;
	iommu_maps = iommu_unmaps = 0;
	iommu_mapped_grant = 0;
}

static long lend(enum fill_mode mode, int npages, struct proc *holder, uint64_t *id,
		 uint64_t *window)
{
	struct grant_lend l = { .mode = mode, .writable = true, .npages = npages,
				.frames = frames, .holder = holder, .fault_pid = 0x1003,
				.fault_va = 0x100000000000, .request = 0x42 };

	return grant_create(&l, id, window);
}

static int count_events(enum trace_kind kind)
{
	int n = 0;

	for (int i = 0; i < nevents; i++)
		n += events[i].kind == kind;
	return n;
}

/* --- the cases --- */

HTEST(map_grant_lent_then_taken_back_in_one_batch)
{
	uint64_t id, window;
	struct proc *holder = &procs[1];
	struct grant_info info;

	reset();
	HCHECK_EQ(lend(FILL_GRANT_MAP, 8, holder, &id, &window), 0);
	HCHECK_EQ(window, GRANT_WINDOW_BASE);
	for (int i = 0; i < 8; i++) {
		HCHECK_EQ(window_entry(&holder->vm, window + (uint64_t)i * PAGE_SIZE),
			  frames[i] | 7);	/* present, writable, user: a page-in */
		HCHECK_EQ(frame_use[frames[i] >> PAGE_SHIFT], FRAME_GRANT);
	}
	HCHECK_EQ(nflushes, 0);		/* mapping needs no shootdown */
	HCHECK_EQ(grant_info_for(holder, id, &info), 0);
	HCHECK_EQ(info.window, window);
	HCHECK(!grant_end(id, GRANT_COMPLETED));
	HCHECK_EQ(nflushes, 1);		/* every page in one batch */
	HCHECK_EQ(flushes[0].pages, 8);
	HCHECK(flushes[0].ptes_clear);	/* unmapped before the shootdown */
	HCHECK(flushes[0].vs[0] == &holder->vm && flushes[0].va[7] == window + 7 * PAGE_SIZE);
	for (int i = 0; i < 8; i++)
		HCHECK_EQ(frame_use[frames[i] >> PAGE_SHIFT], FRAME_USER);
	HCHECK_EQ(holder->vm.window_slots_used, 0);
	HCHECK_EQ(grant_live_count(), 0);
	HCHECK_EQ(count_events(TRACE_GRANT_LENT), 1);
	HCHECK_EQ(count_events(TRACE_GRANT_TAKEN_BACK), 1);
	HCHECK_EQ(events[nevents - 1].outcome, GRANT_COMPLETED);
	HCHECK_EQ(events[nevents - 1].grant, id);
}

HTEST(dma_grant_maps_nothing_and_shoots_nothing_down)
{
	uint64_t id, window;
	struct grant_info info;

	reset();
	HCHECK_EQ(lend(FILL_GRANT_DMA, 4, &procs[2], &id, &window), 0);
	HCHECK_EQ(window, 0);
	HCHECK(procs[2].vm.window_ptes == NULL);
	HCHECK_EQ(grant_info_for(&procs[2], id, &info), 0);
	HCHECK_EQ(info.phys[3], frames[3]);
	HCHECK(grant_dma_busy(id));	/* the dma right read the addresses */
	HCHECK_EQ(grant_done(&procs[2], id, 0), 0);
	HCHECK(!grant_dma_busy(id));
	grant_end(id, GRANT_COMPLETED);
	HCHECK_EQ(nflushes, 0);
}

HTEST(iommu_maps_a_dma_grant_for_its_holder_only_until_it_ends)
{
	uint64_t id, id2, window;
	struct grant_info info;

	reset();
	iommu_on = true;
	HCHECK_EQ(lend(FILL_GRANT_DMA, 4, &procs[1], &id, &window), 0);
	HCHECK_EQ(iommu_maps, 0);	/* swapd has no device domain */
	HCHECK_EQ(grant_forward(&procs[1], id, procs[2].pid), 0);
	HCHECK_EQ(iommu_maps, 1);	/* ata has one */
	HCHECK_EQ(grant_info_for(&procs[2], id, &info), 0);
	HCHECK_EQ(info.phys[0], 0x40000000);	/* device addresses, not frames */
	HCHECK_EQ(info.phys[3], 0x40000000 + 3 * PAGE_SIZE);
	HCHECK(info.device);
	HCHECK_EQ(grant_done(&procs[2], id, 0), 0);
	HCHECK_EQ(grant_end(id, GRANT_COMPLETED), 0);
	HCHECK_EQ(iommu_unmaps, 1);
	HCHECK(!iommu_unmap_busy);
	HCHECK_EQ(nflushes, 0);		/* no CPU mapping, no shootdown */

	/* A device fault pinned on the window fails the grant. */
	HCHECK_EQ(lend(FILL_GRANT_DMA, 1, &procs[2], &id2, &window), 0);
	HCHECK_EQ(grant_info_for(&procs[2], id2, &info), 0);	/* DMA-busy from here */
	iommu_fault_next = true;
	HCHECK_EQ(grant_end(id2, GRANT_COMPLETED), ERR_DMAFAULT);
	HCHECK(iommu_unmap_busy);	/* it never said its device was done */
	HCHECK_EQ(iommu_unmaps, 2);
}

HTEST(stale_forged_and_foreign_ids_name_nothing)
{
	uint64_t id, id2, window;
	struct grant_info info;

	reset();
	HCHECK_EQ(lend(FILL_GRANT_MAP, 1, &procs[1], &id, &window), 0);
	HCHECK_EQ(grant_info_for(&procs[0], id, &info), ERR_BADHANDLE);	/* not the holder */
	HCHECK_EQ(grant_info_for(&procs[1], 0, &info), ERR_BADHANDLE);
	HCHECK_EQ(grant_info_for(&procs[1], id + 1, &info), ERR_BADHANDLE);
	HCHECK_EQ(grant_info_for(&procs[1], handle_make(GRANT_MAX + 3, 1), &info),
		  ERR_BADHANDLE);
	grant_end(id, GRANT_FAILED);
	HCHECK_EQ(grant_info_for(&procs[1], id, &info), ERR_BADHANDLE);	/* ended */
	HCHECK_EQ(lend(FILL_GRANT_MAP, 1, &procs[1], &id2, &window), 0);
	HCHECK(id2 != id && handle_index(id2) == handle_index(id));	/* same slot, new gen */
	HCHECK_EQ(grant_forward(&procs[1], id, procs[2].pid), ERR_BADHANDLE);
}

HTEST(forward_takes_the_old_holders_access_first)
{
	uint64_t id, window;
	struct grant_info info;
	struct grant_view v;

	reset();
	HCHECK_EQ(lend(FILL_GRANT_MAP, 2, &procs[1], &id, &window), 0);
	HCHECK_EQ(grant_forward(&procs[1], id, procs[2].pid), 0);
	HCHECK_EQ(nflushes, 1);		/* the forwarder's window went first */
	HCHECK(flushes[0].vs[0] == &procs[1].vm && flushes[0].ptes_clear);
	HCHECK_EQ(window_entry(&procs[2].vm, GRANT_WINDOW_BASE), frames[0] | 7);
	HCHECK_EQ(grant_info_for(&procs[1], id, &info), ERR_BADHANDLE);
	HCHECK_EQ(grant_info_for(&procs[2], id, &info), 0);
	HCHECK_EQ(info.forwarded_from, procs[1].pid);
	HCHECK_EQ(grant_forward(&procs[1], id, procs[3].pid), ERR_BADHANDLE);	/* not yours */
	HCHECK_EQ(grant_forward(&procs[2], id, procs[2].pid), ERR_NOENT);	/* to itself */
	HCHECK_EQ(count_events(TRACE_GRANT_FORWARDED), 1);
	HCHECK(grant_view_live(0, &v) && v.holder_pid == procs[2].pid);
}

HTEST(dead_holder_gives_back_to_forwarder_else_revoked)
{
	uint64_t id, window;
	struct grant_view v;

	reset();
	HCHECK_EQ(lend(FILL_GRANT_MAP, 1, &procs[1], &id, &window), 0);
	HCHECK_EQ(grant_forward(&procs[1], id, procs[2].pid), 0);
	HCHECK_EQ(grant_info_for(&procs[2], id, &(struct grant_info){ 0 }), 0);
	procs[2].phase = PROC_DYING;
	grant_release_holder(&procs[2]);	/* back with its forwarder, still lent */
	HCHECK(grant_view_live(0, &v) && v.holder_pid == procs[1].pid && !v.revoked);
	HCHECK(grant_dma_unsettled(id));	/* the dead holder's device may still write */
	procs[1].phase = PROC_DYING;
	grant_release_holder(&procs[1]);	/* nobody to give it to: revoked */
	HCHECK(grant_view_live(0, &v) && v.holder_pid == 0 && v.revoked);
	HCHECK(grant_end(id, GRANT_COMPLETED));	/* => revoked: contents unknown */
	HCHECK_EQ(events[nevents - 1].outcome, GRANT_REVOKED);
}

HTEST(holder_and_table_limits)
{
	uint64_t id, window, ids[GRANT_PER_HOLDER];

	reset();
	for (int i = 0; i < GRANT_PER_HOLDER; i++) {
		frames[0] = (paddr_t)(100 + i) << PAGE_SHIFT;	/* a frame of its own each */
		HCHECK_EQ(lend(FILL_GRANT_MAP, 1, &procs[1], &ids[i], &window), 0);
	}
	HCHECK_EQ(window, GRANT_WINDOW_BASE + (uint64_t)(GRANT_PER_HOLDER - 1) *
						  GRANT_MAX_PAGES * PAGE_SIZE);
	frames[0] = (paddr_t)200 << PAGE_SHIFT;
	HCHECK_EQ(lend(FILL_GRANT_MAP, 1, &procs[1], &id, &window), ERR_BUSY);
	HCHECK_EQ(grant_forward(&procs[3], ids[0], procs[1].pid), ERR_BADHANDLE);
	grant_end(ids[3], GRANT_OVERTIME);
	HCHECK_EQ(lend(FILL_GRANT_MAP, 1, &procs[1], &id, &window), 0);	/* its slot again */
	HCHECK_EQ(window, GRANT_WINDOW_BASE + 3 * GRANT_MAX_PAGES * PAGE_SIZE);
	HCHECK_EQ(grant_live_count(), GRANT_PER_HOLDER);
}

HTEST(frame_holder_names_the_window_page)
{
	uint64_t id, window, pid, va;

	reset();
	HCHECK_EQ(lend(FILL_GRANT_MAP, 4, &procs[1], &id, &window), 0);
	HCHECK(grant_frame_holder(frames[2], &pid, &va));
	HCHECK_EQ(pid, procs[1].pid);
	HCHECK_EQ(va, window + 2 * PAGE_SIZE);
	HCHECK(!grant_frame_holder(frames[5], &pid, &va));
	grant_end(id, GRANT_COMPLETED);
	HCHECK(!grant_frame_holder(frames[2], &pid, &va));
}
